/* prices_diff.c - being written. */
typedef int gb_placeholder_prices_diff;
