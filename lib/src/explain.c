/* explain.c - being written. */
typedef int gb_placeholder_explain;
