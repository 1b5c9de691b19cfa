/*
 * json_load.h - what the JSON loaders (prices.c, contracts.c) share:
 * parsing with exact syntax positions, the JSON path of the element being
 * read, schema messages with "did you mean", readers for objects and
 * scalar members, and finding repeated keys.
 *
 * Every reader reports its problem in the context's gb_error, at the
 * current JSON path, and returns the error code; on success it leaves the
 * path as it found it.  On failure the path is left pointing at the
 * element at fault, so a caller just returns the code.
 */
#ifndef GPUBILL_JSON_LOAD_H
#define GPUBILL_JSON_LOAD_H

#include "internal.h"

#include <cjson/cJSON.h>
#include <gmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* Bytes of a user's string quoted in a message; the rest becomes "...". */
#define GB_JSON_SHOW_MAX 48
/* Room for gb_json_show: the text, a cut character's tail, "..." and NUL. */
#define GB_JSON_SHOW_BUF (GB_JSON_SHOW_MAX + 8)

typedef struct gb_json_ctx {
	gb_error *err;           /* where problems go; may be NULL */
	const char *source;      /* file name for messages, never NULL */
	const char *kind;        /* what the file is: "a pricing table" */
	char path[GB_ERROR_PATH_MAX];  /* JSON path being read */
	size_t len;              /* strlen(path) */
} gb_json_ctx;

/* --- messages ------------------------------------------------------------ */

/*
 * s (at most n bytes of it) made safe to quote in a message, in buf of
 * GB_JSON_SHOW_BUF bytes; returns buf.
 */
const char *gb_json_show_n(char *buf, const char *s, size_t n);
const char *gb_json_show(char *buf, const char *s);

/* "a string", "an object", ... for "expected X, got %s". */
const char *gb_json_type_name(const cJSON *j);

/* Report a problem of kind code at the current path; they return code. */
int gb_json_vfail(gb_json_ctx *c, int code, const char *fmt, va_list ap)
	GB_PRINTF(3, 0);
int gb_json_fail(gb_json_ctx *c, int code, const char *fmt, ...)
	GB_PRINTF(3, 4);
int gb_json_schema(gb_json_ctx *c, const char *fmt, ...) GB_PRINTF(2, 3);
int gb_json_nomem(gb_json_ctx *c);

/* --- JSON paths ---------------------------------------------------------- */

/* Enter member key or element i; they return the mark for gb_json_path_pop. */
size_t gb_json_path_key(gb_json_ctx *c, const char *key);
size_t gb_json_path_index(gb_json_ctx *c, size_t i);
void gb_json_path_pop(gb_json_ctx *c, size_t mark);

/* --- "did you mean" ------------------------------------------------------ */

/* "a, b, c" into buf, for messages listing what is allowed. */
const char *gb_json_name_list(char *buf, size_t size,
			      const char *const *names, size_t n);

/* Report value s as an unknown what, suggesting the closest of names. */
int gb_json_not_one_of(gb_json_ctx *c, const char *what, const char *s,
		       const char *const *names, size_t n);

/* --- parsing ------------------------------------------------------------- */

/*
 * Parse data[0..len) into *out, which is then always an object; syntax
 * errors carry a line and column.
 */
int gb_json_parse(gb_json_ctx *c, const char *data, size_t len, cJSON **out);

/* --- objects and arrays -------------------------------------------------- */

/*
 * Match obj's members against the n allowed keys, filling val[i] with the
 * member named keys[i] (NULL when absent).  An unknown or repeated key is
 * an error.
 */
int gb_json_read_object(gb_json_ctx *c, const cJSON *obj,
			const char *const *keys, const cJSON **val, size_t n);

/* An error naming key when val (its member) is NULL. */
int gb_json_require(gb_json_ctx *c, const cJSON *val, const char *key);

/* Count the elements of arr, which must be an array. */
int gb_json_array_len(gb_json_ctx *c, const cJSON *arr, int nonempty,
		      size_t *n);

/* Element hooks of gb_json_read_array. */
typedef void (*gb_json_init_fn)(void *elem);
typedef int (*gb_json_elem_fn)(gb_json_ctx *c, void *arg, const cJSON *e,
			       void *elem, size_t i);

/*
 * Read array arr (at the current path) into a new array of its elements,
 * each size bytes (at least one element when nonempty).  Every element is
 * set up by init (may be NULL) and *out and *count are set before any is
 * read, so the caller's free function handles a half-read array; then fn
 * reads element i with "[i]" on the path.  Returns 0 or fn's error.
 */
int gb_json_read_array(gb_json_ctx *c, const cJSON *arr, int nonempty,
		       size_t size, void **out, size_t *count,
		       gb_json_init_fn init, gb_json_elem_fn fn, void *arg);

/* --- scalar members ------------------------------------------------------ */

/*
 * Each reads member val, named key in the current object, and reports a
 * problem at the member's path.
 */

/* A string; *out points into the cJSON tree. */
int gb_json_read_string(gb_json_ctx *c, const cJSON *val, const char *key,
			int nonempty, const char **out);

/* A non-empty string, copied into *out with gb_strdup. */
int gb_json_copy_string(gb_json_ctx *c, const cJSON *val, const char *key,
			char **out);

/* An integer from lo to hi. */
int gb_json_read_int(gb_json_ctx *c, const cJSON *val, const char *key,
		     int lo, int hi, int64_t *out);

/*
 * A non-negative decimal string, canonicalized into out; example (like
 * "0.95") shows the expected shape in the message.
 */
int gb_json_read_decimal(gb_json_ctx *c, const cJSON *val, const char *key,
			 mpq_t out, const char *example);

/* The same for val at the current path itself. */
int gb_json_decimal_here(gb_json_ctx *c, const cJSON *val, mpq_t out,
			 const char *example);

/* An RFC 3339 timestamp, in Unix seconds. */
int gb_json_read_time(gb_json_ctx *c, const cJSON *val, const char *key,
		      int64_t *out);

/* An RFC 3339 timestamp that falls on a whole UTC hour. */
int gb_json_read_hour(gb_json_ctx *c, const cJSON *val, const char *key,
		      int64_t *out);

/* --- repeats ------------------------------------------------------------- */

/* A sort key for finding repeats: (a, b, t), then position in the file. */
typedef struct gb_json_keyed {
	const char *a, *b;
	int64_t t;
	size_t idx;
} gb_json_keyed;

/*
 * Sort k[0..n) and find the first entry, in file order, whose key repeats
 * an earlier one: returns its idx (n when there is none) and the earlier
 * one's in *first.
 */
size_t gb_json_first_repeat(gb_json_keyed *k, size_t n, size_t *first);

#endif
