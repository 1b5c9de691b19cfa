/* margin.c - being written. */
typedef int gb_placeholder_margin;
