/* dedup.c - being written. */
typedef int gb_pending_dedup;
