/* prices.c - being written. */
typedef int gb_pending_prices;
