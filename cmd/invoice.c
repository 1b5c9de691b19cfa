/* invoice.c - being written. */
typedef int gb_pending_cmd_invoice;
