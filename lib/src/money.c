/* money.c - being written. */
typedef int gb_pending_money;
