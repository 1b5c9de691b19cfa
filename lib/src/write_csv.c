/* write_csv.c - being written. */
typedef int gb_pending_write_csv;
