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
 *
 * Collect mode (gpubill validate): when a context has a collect callback,
 * every problem becomes a gb_finding given to it (with a stable code, the
 * path, the line and column of the element and a fix hint), is counted in
 * nerrors, and reading goes on:
 *   - a reader returns 0 after reporting, leaving its output as it was (a
 *     string pointer NULL, a number or decimal at its default) and the
 *     path as it found it;
 *   - an unknown or repeated key is reported and skipped;
 *   - a reader given a NULL member (a required key that was missing, and
 *     already reported) returns 0 without a word;
 *   - a value that is not an array is reported and read as an empty one;
 *   - gb_json_read_object on a value that is not an object reports it and
 *     returns GB_ESCHEMA: the object cannot be read at all;
 *   - gb_json_read_array goes on past an element whose reader returned
 *     GB_ESCHEMA (reported): the element stays in the array, as far as it
 *     was read, and its reader may mark it;
 *   - gb_json_parse still stops at a syntax error (GB_ESYNTAX, reported
 *     with its line and column) or a top level that is not an object.
 * Only GB_ENOMEM, GB_EINVAL and a failing callback stop a load; they are
 * left in err as in normal mode.  Without the callback nothing changes: the
 * first problem stops the load, with the same message as ever.
 */
#ifndef GPUBILL_JSON_LOAD_H
#define GPUBILL_JSON_LOAD_H

#include "internal.h"

#include <gpubill/validate.h>
#include <cjson/cJSON.h>
#include <gmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* Bytes of a user's string quoted in a message; the rest becomes "...". */
#define GB_JSON_SHOW_MAX 48
/* Room for gb_json_show: the text, a cut character's tail, "..." and NUL. */
#define GB_JSON_SHOW_BUF (GB_JSON_SHOW_MAX + 8)

/* Positions of a parsed document's elements (collect mode; private). */
struct gb_json_where;

typedef struct gb_json_ctx {
	gb_error *err;           /* where problems go; may be NULL */
	const char *source;      /* file name for messages, never NULL */
	const char *kind;        /* what the file is: "a pricing table" */
	char path[GB_ERROR_PATH_MAX];  /* JSON path being read */
	size_t len;              /* strlen(path) */
	/* Collect mode, when collect is not NULL (see above).  collect
	 * returns 0, or a negative gb_error_code that stops the load. */
	gb_finding_fn collect;
	void *collect_payload;
	size_t nerrors;          /* problems reported in collect mode */
	/* Set around a report, 1 + the index of the member it is about in
	 * its object, so that its position is that member's even when its
	 * key is repeated; 0 otherwise. */
	size_t member_at;
	/* private to json_load.c */
	struct gb_json_where *where;   /* set by gb_json_parse, collect mode */
} gb_json_ctx;

/* Is c collecting every problem? */
static inline int gb_json_collecting(const gb_json_ctx *c)
{
	return c->collect != NULL;
}

/*
 * Free what collect mode keeps of the document last parsed with c (its
 * positions); c can then parse another.  No-op in normal mode.
 */
void gb_json_ctx_release(gb_json_ctx *c);

/*
 * Collect mode: the line and column (1-based, in characters) of the
 * element at path in the document last parsed with c, or of the deepest
 * element on the way to it that exists; 0 and 0 when unknown.
 */
void gb_json_locate(const gb_json_ctx *c, const char *path, uint64_t *line,
		    uint64_t *column);

/*
 * Collect mode: a JSON number at the current path as it was written
 * ("2.50"), for a hint; NULL when unknown or in normal mode.
 */
const char *gb_json_number_text(const gb_json_ctx *c);

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

/*
 * Report a schema problem of kind code (a stable finding code such as
 * "unknown_key") at the current path.  In normal mode the message is fmt's
 * text, followed by " (note)" when note is not NULL, and GB_ESCHEMA is
 * returned.  In collect mode the message is fmt's text alone, the hint is
 * hint, else note, else empty, and 0 is returned (or the callback's error).
 */
int gb_json_report(gb_json_ctx *c, const char *code, const char *note,
		   const char *hint, const char *fmt, ...) GB_PRINTF(5, 6);

/*
 * For a caller that goes on after a part failed: in collect mode, a
 * GB_ESCHEMA from a reader (already reported) becomes 0 and the path goes
 * back to mark; anything else is returned as it is.
 */
int gb_json_recover(gb_json_ctx *c, int rc, size_t mark);

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

/*
 * Reorder the n elements of *arr (each size bytes) into the order of the
 * sorted keys k, which it frees.  Elements are moved, not copied (a struct
 * copy moves an mpq_t), so the old array is freed, not cleared.  Returns 0
 * or GB_ENOMEM (then *arr and k are left alone).
 */
int gb_json_permute(void **arr, size_t n, size_t size, gb_json_keyed *k);

/*
 * Sort k[0..n) and set first[idx], for every entry, to the idx of the
 * first entry in file order with the same key (its own idx when it is the
 * first).  An entry whose a is NULL (a key that could not be read) sorts
 * first and never repeats.  idx must be below n.  The order for entries
 * with keys is gb_json_first_repeat's.
 */
void gb_json_find_repeats(gb_json_keyed *k, size_t n, size_t *first);

#endif
