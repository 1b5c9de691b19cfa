/* quote.c - being written. */
typedef int gb_placeholder_quote;
