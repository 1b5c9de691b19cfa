/* write_text.c - being written. */
typedef int gb_pending_write_text;
