/* usage_csv.c - being written. */
typedef int gb_pending_usage_csv;
