/* timestamp.c - being written. */
typedef int gb_pending_timestamp;
