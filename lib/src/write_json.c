/* write_json.c - being written. */
typedef int gb_pending_write_json;
