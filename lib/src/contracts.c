/*
 * contracts.c - load a "gpubill-contracts/1" file: each customer's
 * reservations, discounts, minimum spend and credits.
 *
 * The same approach as prices.c: cJSON parses, then every key and value is
 * checked against the schema while the model of contracts_internal.h is
 * built, and every problem is reported with the JSON path of the element
 * at fault.  Reservations are also checked against the pricing table they
 * will be billed with, so that the rater never meets a reservation hour it
 * cannot price.
 *
 * Ownership: as in prices.c, arrays are zeroed and every mpq_t is
 * initialised as soon as the struct holding it exists, so gb_contracts_free
 * can release a partly built model and each error path just returns.
 */
#include "internal.h"
#include "contracts_internal.h"
#include "prices_internal.h"

#include <gpubill/money.h>
#include <gpubill/timestamp.h>
#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FORMAT_NAME "gpubill-contracts/1"
#define PRICES_FORMAT_NAME "gpubill-pricing/1"

/* What the file is, in syntax messages. */
#define FILE_KIND "a contracts file"

/* A real contracts file nests five levels deep; see prices.c. */
#define MAX_DEPTH 64

/* Longest customer id, as for usage records (gpubill-usage(5)). */
#define MAX_CUSTOMER 128

/* Most GPUs a reservation may hold, as for a usage record. */
#define MAX_GPUS 100000

/* Bytes of a user's string quoted in a message; the rest becomes "...". */
#define SHOW_MAX 48
#define SHOW_BUF (SHOW_MAX + 8)

/* Bytes of the input shown after "JSON syntax error near". */
#define SNIPPET_MAX 24

struct ctx {
	gb_error *err;
	const char *source;
	char path[GB_ERROR_PATH_MAX];
	size_t len;
	const gb_prices *prices;
	const char **terms;  /* the table's reserved terms: sorted, unique */
	size_t nterms;
	int have_terms;      /* terms collected (done on first need) */
};

/*
 * The helpers from here to "contracts" are copies of prices.c's (messages,
 * JSON paths, "did you mean", syntax positions, object and scalar readers,
 * repeat finding), the only change being FILE_KIND in two messages.  They
 * are meant to move to one shared internal file.
 */

/* --- messages ------------------------------------------------------------ */

/*
 * Copy at most n bytes of s (stopping at a NUL) into buf for quoting in a
 * message: control bytes shown as '?' so a message cannot move the cursor,
 * long text cut at a character boundary and marked with "...".
 */
static const char *show_n(char *buf, const char *s, size_t n)
{
	size_t i = 0, o = 0;

	while (i < n && s[i] && (i < SHOW_MAX ||
	       (i < SHOW_MAX + 3 && ((unsigned char)s[i] & 0xC0) == 0x80))) {
		unsigned char ch = (unsigned char)s[i++];

		buf[o++] = (ch < 0x20 || ch == 0x7f) ? '?' : (char)ch;
	}
	if (i < n && s[i]) {
		memcpy(buf + o, "...", 3);
		o += 3;
	}
	buf[o] = '\0';
	return buf;
}

static const char *show(char *buf, const char *s)
{
	return show_n(buf, s, (size_t)-1);
}

static const char *type_name(const cJSON *j)
{
	if (cJSON_IsString(j))
		return "a string";
	if (cJSON_IsNumber(j))
		return "a number";
	if (cJSON_IsObject(j))
		return "an object";
	if (cJSON_IsArray(j))
		return "an array";
	if (cJSON_IsTrue(j))
		return "true";
	if (cJSON_IsFalse(j))
		return "false";
	return "null";
}

static int vfail(struct ctx *c, int code, const char *fmt, va_list ap)
{
	gb_error_vset(c->err, code, fmt, ap);
	gb_error_set_source(c->err, c->source);
	gb_error_set_path(c->err, c->path);
	return code;
}

static int fail(struct ctx *c, int code, const char *fmt, ...) GB_PRINTF(3, 4);
static int schema(struct ctx *c, const char *fmt, ...) GB_PRINTF(2, 3);

/* Report a problem of kind code at the current path; returns code. */
static int fail(struct ctx *c, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfail(c, code, fmt, ap);
	va_end(ap);
	return code;
}

/* Report a schema problem at the current path; returns GB_ESCHEMA. */
static int schema(struct ctx *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfail(c, GB_ESCHEMA, fmt, ap);
	va_end(ap);
	return GB_ESCHEMA;
}

static int nomem(struct ctx *c)
{
	return fail(c, GB_ENOMEM, "out of memory");
}

/* --- JSON paths ---------------------------------------------------------- */

static void path_add(struct ctx *c, const char *fmt, ...) GB_PRINTF(2, 3);

/* Append to the path; a path too long for gb_error is cut, not failed. */
static void path_add(struct ctx *c, const char *fmt, ...)
{
	size_t room = sizeof c->path - c->len;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(c->path + c->len, room, fmt, ap);
	va_end(ap);
	if (n < 0)
		c->path[c->len] = '\0';
	else if ((size_t)n < room)
		c->len += (size_t)n;
	else
		c->len = sizeof c->path - 1;
}

/* Keys that read unambiguously after a '.', like "on_demand" or "1y". */
static int is_plain_key(const char *key)
{
	const char *k;

	if (!*key)
		return 0;
	for (k = key; *k; k++) {
		if (!((*k >= 'a' && *k <= 'z') || (*k >= 'A' && *k <= 'Z') ||
		      (*k >= '0' && *k <= '9') || *k == '_' || *k == '-'))
			return 0;
	}
	return 1;
}

/* Enter member key; returns the mark to give path_pop. */
static size_t path_key(struct ctx *c, const char *key)
{
	size_t mark = c->len;
	char buf[SHOW_BUF];

	if (is_plain_key(key))
		path_add(c, "%s%s", c->len ? "." : "", key);
	else
		path_add(c, "[\"%s\"]", show(buf, key));
	return mark;
}

static size_t path_index(struct ctx *c, size_t i)
{
	size_t mark = c->len;

	path_add(c, "[%zu]", i);
	return mark;
}

static void path_pop(struct ctx *c, size_t mark)
{
	c->len = mark;
	c->path[mark] = '\0';
}

/* --- "did you mean" ------------------------------------------------------ */

/*
 * Levenshtein distance between a (any length) and b (a short name from
 * one of our tables), or (size_t)-1 when b is too long to bother.
 */
static size_t edit_distance(const char *a, const char *b)
{
	size_t row[64], lb = strlen(b), i, j;

	if (lb >= sizeof row / sizeof row[0])
		return (size_t)-1;
	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; a[i - 1]; i++) {
		size_t diag = row[0];

		row[0] = i;
		for (j = 1; j <= lb; j++) {
			size_t up = row[j];
			size_t best = diag + (a[i - 1] != b[j - 1]);

			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			diag = up;
			row[j] = best;
		}
	}
	return row[lb];
}

/*
 * The name in names[0..n) closest to s, or NULL when none is close enough
 * to be a plausible typo: at most max(2, length / 3) edits.
 */
static const char *closest(const char *s, const char *const *names, size_t n)
{
	const char *best = NULL;
	size_t best_d = (size_t)-1, i, ls = strlen(s);

	for (i = 0; i < n; i++) {
		size_t ln = strlen(names[i]);
		size_t limit = ln / 3 > 2 ? ln / 3 : 2;
		size_t d;

		/* The distance is at least the difference in length. */
		if ((ls > ln ? ls - ln : ln - ls) > limit)
			continue;
		d = edit_distance(s, names[i]);
		if (d <= limit && d < best_d) {
			best = names[i];
			best_d = d;
		}
	}
	return best;
}

/* "a, b, c" into buf, for messages listing what is allowed. */
static const char *name_list(char *buf, size_t size,
			     const char *const *names, size_t n)
{
	size_t i, o = 0;

	buf[0] = '\0';
	for (i = 0; i < n && o < size; i++) {
		int k = snprintf(buf + o, size - o, "%s%s", i ? ", " : "",
				 names[i]);

		if (k < 0)
			break;
		o += (size_t)k;
	}
	return buf;
}

/* Report value s as not one of names, suggesting the closest. */
static int not_one_of(struct ctx *c, const char *what, const char *s,
		      const char *const *names, size_t n)
{
	char shown[SHOW_BUF], list[256];
	const char *guess = closest(s, names, n);

	if (guess)
		return schema(c, "unknown %s '%s' (did you mean '%s'?)", what,
			      show(shown, s), guess);
	return schema(c, "unknown %s '%s' (expected one of: %s)", what,
		      show(shown, s), name_list(list, sizeof list, names, n));
}

/* --- syntax -------------------------------------------------------------- */

/* 1-based line and column (in characters) of data[pos]. */
static void position(const char *data, size_t pos, uint64_t *line,
		     uint64_t *column)
{
	size_t i = 0;

	*line = 1;
	*column = 1;
	/* A byte order mark is not a character anyone sees. */
	if (pos >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0)
		i = 3;
	for (; i < pos; i++) {
		unsigned char ch = (unsigned char)data[i];

		if (ch == '\n') {
			(*line)++;
			*column = 1;
		} else if ((ch & 0xC0) != 0x80) {
			(*column)++;
		}
	}
}

static int syntax_at(struct ctx *c, const char *data, size_t pos,
		     const char *fmt, ...) GB_PRINTF(4, 5);

/* Report a syntax problem at byte pos of the input. */
static int syntax_at(struct ctx *c, const char *data, size_t pos,
		     const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfail(c, GB_ESYNTAX, fmt, ap);
	va_end(ap);
	if (c->err)
		position(data, pos, &c->err->line, &c->err->column);
	return GB_ESYNTAX;
}

static int is_space(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r';
}

static size_t skip_space(const char *data, size_t len, size_t pos)
{
	while (pos < len && is_space(data[pos]))
		pos++;
	return pos;
}

/* s[0..n) is "u0000", the tail of an escape that would cut a string. */
static int is_u0000(const char *s, size_t n)
{
	return n >= 5 && s[0] == 'u' && memcmp(s + 1, "0000", 4) == 0;
}

/*
 * Walk the raw text for what cJSON lets through or reports badly: NUL
 * bytes (cJSON's strings are C strings, so "\u0000" and raw NULs would
 * silently cut a value short), raw control characters in strings (JSON
 * forbids them) and absurd nesting.  Only strings and brackets are
 * tracked; cJSON checks the grammar.  *open_string is where a string that
 * never ends starts, or len.
 */
static int prescan(struct ctx *c, const char *data, size_t len,
		   size_t *open_string)
{
	size_t i, depth = 0;
	int in_string = 0;

	if (len >= 2 && (memcmp(data, "\xFF\xFE", 2) == 0 ||
			 memcmp(data, "\xFE\xFF", 2) == 0))
		return syntax_at(c, data, 0, "the file is UTF-16; " FILE_KIND " must be UTF-8");
	for (i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)data[i];

		if (ch == '\0')
			return syntax_at(c, data, i, "NUL byte in the input (" FILE_KIND " is UTF-8 JSON text)");
		if (in_string) {
			if (ch == '\\') {
				if (is_u0000(data + i + 1, len - i - 1))
					return syntax_at(c, data, i, "\\u0000 is not allowed in a string");
				i++;	/* skip the escaped character */
			} else if (ch == '"') {
				in_string = 0;
			} else if (ch < 0x20) {
				return syntax_at(c, data, i, "control character in a string (write it as an escape such as \\n)");
			}
		} else if (ch == '"') {
			in_string = 1;
			*open_string = i;
		} else if (ch == '[' || ch == '{') {
			if (++depth > MAX_DEPTH)
				return syntax_at(c, data, i, "JSON nested more than %d levels deep", MAX_DEPTH);
		} else if ((ch == ']' || ch == '}') && depth) {
			depth--;
		}
	}
	if (!in_string)
		*open_string = len;
	return 0;
}

/*
 * cJSON reports a failure at the end of its buffer as the last byte, the
 * same place as a bad last byte.  Parsing again with two spaces appended
 * tells them apart: input that merely ran out now fails on the second
 * space.  (Not the first: a bad member name is reported one byte late.)
 */
static int ran_out(const char *data, size_t len)
{
	char *copy = gb_malloc(len + 2);
	const char *end = NULL;
	cJSON *root;
	int out;

	if (!copy)
		return 0;
	memcpy(copy, data, len);
	copy[len] = ' ';
	copy[len + 1] = ' ';
	root = cJSON_ParseWithLengthOpts(copy, len + 2, &end, 0);
	out = !root && end == copy + len + 1;
	cJSON_Delete(root);
	gb_free(copy);
	return out;
}

/*
 * Where a member name was due but something else stands, cJSON reports the
 * byte after it: {"a": 1, x} fails at '}'.  Point at the culprit instead.
 */
static size_t key_fixup(const char *data, size_t pos)
{
	size_t q;

	if (pos < 2 || is_space(data[pos - 1]) || data[pos - 1] == '"')
		return pos;
	q = pos - 1;
	while (q > 0 && is_space(data[q - 1]))
		q--;
	if (q > 0 && (data[q - 1] == '{' || data[q - 1] == ','))
		return pos - 1;
	return pos;
}

/* The input from pos to the end of its line, shortened, for a message. */
static const char *snippet(char *buf, const char *data, size_t len,
			   size_t pos)
{
	size_t n = 0;

	while (n < SNIPPET_MAX && pos + n < len && data[pos + n] != '\n' &&
	       data[pos + n] != '\r')
		n++;
	return show_n(buf, data + pos, n);
}

static int parse_failure(struct ctx *c, const char *data, size_t len,
			 const char *end, size_t open_string)
{
	char shown[SHOW_BUF];
	size_t pos = end && end >= data && end < data + len ?
		     (size_t)(end - data) : len;

	/*
	 * A string still open at the end swallowed the rest of the input;
	 * cJSON blames its first byte.
	 */
	if (pos == len || (pos >= open_string && open_string < len) ||
	    (pos == len - 1 && ran_out(data, len)))
		return syntax_at(c, data, len, "unexpected end of input (is the file truncated?)");
	pos = key_fixup(data, pos);
	return syntax_at(c, data, pos, "JSON syntax error near '%s'",
			 snippet(shown, data, len, pos));
}

/* Parse data into *out, which is then always an object. */
static int parse_json(struct ctx *c, const char *data, size_t len,
		      cJSON **out)
{
	const char *end = NULL;
	char shown[SHOW_BUF];
	size_t pos, open_string = len;
	cJSON *root;
	int rc;

	if (skip_space(data, len, 0) == len)
		return fail(c, GB_ESYNTAX, "empty file");
	rc = prescan(c, data, len, &open_string);
	if (rc)
		return rc;
	root = cJSON_ParseWithLengthOpts(data, len, &end, 0);
	if (!root)
		return parse_failure(c, data, len, end, open_string);
	pos = skip_space(data, len, (size_t)(end - data));
	if (pos < len) {
		cJSON_Delete(root);
		return syntax_at(c, data, pos, "unexpected text after the JSON value: '%s'",
				 snippet(shown, data, len, pos));
	}
	if (!cJSON_IsObject(root)) {
		rc = schema(c, "expected a JSON object at the top level, got %s",
			    type_name(root));
		cJSON_Delete(root);
		return rc;
	}
	*out = root;
	return 0;
}

/* --- objects and arrays -------------------------------------------------- */

static size_t key_index(const char *const *keys, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(keys[i], name) == 0)
			break;
	return i;
}

/*
 * Match obj's members against the n allowed keys, filling val[i] with the
 * member named keys[i] (NULL when absent).  The first unknown or repeated
 * key in document order is an error: cJSON keeps duplicates silently and
 * lookups would see only the first, so a second "price" would be ignored.
 */
static int read_object(struct ctx *c, const cJSON *obj,
		       const char *const *keys, const cJSON **val, size_t n)
{
	const cJSON *m;
	size_t i;

	if (!cJSON_IsObject(obj))
		return schema(c, "expected an object, got %s", type_name(obj));
	for (i = 0; i < n; i++)
		val[i] = NULL;
	cJSON_ArrayForEach(m, obj) {
		i = key_index(keys, n, m->string);
		if (i < n && !val[i]) {
			val[i] = m;
			continue;
		}
		path_key(c, m->string);
		if (i < n)
			return schema(c, "duplicate key '%s'", keys[i]);
		return not_one_of(c, "key", m->string, keys, n);
	}
	return 0;
}

static int require(struct ctx *c, const cJSON *val, const char *key)
{
	if (val)
		return 0;
	return schema(c, "missing required key '%s'", key);
}

/* Count the elements of arr, which must be an array. */
static int array_len(struct ctx *c, const cJSON *arr, int nonempty,
		     size_t *n)
{
	const cJSON *e;

	if (!cJSON_IsArray(arr))
		return schema(c, "expected an array, got %s", type_name(arr));
	*n = 0;
	cJSON_ArrayForEach(e, arr)
		(*n)++;
	if (nonempty && *n == 0)
		return schema(c, "must not be empty");
	return 0;
}

/* --- scalar values ------------------------------------------------------- */

/* The string member val (named key); *out points into the cJSON tree. */
static int read_string(struct ctx *c, const cJSON *val, const char *key,
		       int nonempty, const char **out)
{
	size_t mark = path_key(c, key);

	if (!cJSON_IsString(val))
		return schema(c, "expected a string, got %s", type_name(val));
	if (nonempty && !val->valuestring[0])
		return schema(c, "must not be empty");
	*out = val->valuestring;
	path_pop(c, mark);
	return 0;
}

static int copy_string(struct ctx *c, const cJSON *val, const char *key,
		       char **out)
{
	const char *s = NULL;
	int rc = read_string(c, val, key, 1, &s);

	if (rc)
		return rc;
	*out = gb_strdup(s);
	return *out ? 0 : nomem(c);
}

static int all_digits(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return 0;
	return 1;
}

/*
 * An integer member in [lo, hi].  cJSON holds numbers as binary floating
 * point; for these counts (never money) the value is only accepted when it
 * equals cJSON's own int conversion, i.e. it is an exact integer that fits.
 */
static int read_int(struct ctx *c, const cJSON *val, const char *key,
		    int lo, int hi, int64_t *out)
{
	size_t mark = path_key(c, key);
	char shown[SHOW_BUF];

	if (cJSON_IsString(val) && all_digits(val->valuestring))
		return schema(c, "expected an integer, got a string (write %s without quotes)",
			      show(shown, val->valuestring));
	if (!cJSON_IsNumber(val))
		return schema(c, "expected an integer, got %s", type_name(val));
	if (val->valuedouble != val->valueint || val->valueint < lo ||
	    val->valueint > hi)
		return schema(c, "expected an integer from %d to %d", lo, hi);
	*out = val->valueint;
	path_pop(c, mark);
	return 0;
}

/*
 * A non-negative decimal string at the current path.  Prices are strings
 * because cJSON turns a JSON number into binary floating point: "0.1"
 * survives exactly only as text.  example shows the expected shape in
 * the message.
 */
static int decimal_here(struct ctx *c, const cJSON *val, mpq_t out,
			const char *example)
{
	char shown[SHOW_BUF];
	const char *why = NULL;
	const char *s = NULL;

	if (!cJSON_IsString(val))
		return schema(c, "expected a decimal string like \"%s\", got %s",
			      example, type_name(val));
	s = val->valuestring;
	if (gb_decimal_parse(out, s, strlen(s), 0, &why))
		return schema(c, "invalid decimal \"%s\": %s", show(shown, s),
			      why ? why : "not a decimal number");
	mpq_canonicalize(out);
	return 0;
}

static int read_decimal(struct ctx *c, const cJSON *val, const char *key,
			mpq_t out, const char *example)
{
	size_t mark = path_key(c, key);
	int rc = decimal_here(c, val, out, example);

	if (!rc)
		path_pop(c, mark);
	return rc;
}

/* An RFC 3339 timestamp member. */
static int read_time(struct ctx *c, const cJSON *val, const char *key,
		     int64_t *out)
{
	size_t mark = path_key(c, key);
	char shown[SHOW_BUF];
	const char *why = NULL;
	const char *s = NULL;

	if (!cJSON_IsString(val))
		return schema(c, "expected an RFC 3339 timestamp string like \"2026-01-01T00:00:00Z\", got %s",
			      type_name(val));
	s = val->valuestring;
	if (gb_time_parse(out, s, strlen(s), &why))
		return schema(c, "invalid timestamp \"%s\": %s", show(shown, s),
			      why ? why : "not an RFC 3339 timestamp");
	path_pop(c, mark);
	return 0;
}

/* --- uniqueness ---------------------------------------------------------- */

/* A sort key for finding repeats: (a, b, t), then position in the file. */
struct keyed {
	const char *a, *b;
	int64_t t;
	size_t idx;
};

static int same_key(const struct keyed *x, const struct keyed *y)
{
	return strcmp(x->a, y->a) == 0 && strcmp(x->b, y->b) == 0 &&
	       x->t == y->t;
}

static int keyed_cmp(const void *px, const void *py)
{
	const struct keyed *x = px, *y = py;
	int r = strcmp(x->a, y->a);

	if (!r)
		r = strcmp(x->b, y->b);
	if (!r)
		r = (x->t > y->t) - (x->t < y->t);
	if (!r)
		r = (x->idx > y->idx) - (x->idx < y->idx);
	return r;
}

/*
 * Sort k[0..n) and find the first entry, in file order, whose key repeats
 * an earlier one: returns its index (n when there is none) and the earlier
 * one's in *first.  Sorting keeps big tables at O(n log n).
 */
static size_t first_repeat(struct keyed *k, size_t n, size_t *first)
{
	size_t i, best = n;

	qsort(k, n, sizeof *k, keyed_cmp);
	for (i = 1; i < n; i++) {
		if (same_key(&k[i - 1], &k[i]) && k[i].idx < best) {
			best = k[i].idx;
			*first = k[i - 1].idx;
		}
	}
	return best;
}


/* --- contracts: values --------------------------------------------------- */

/*
 * An identifier member: a non-empty string without control characters
 * (they could never match a usage record, nor print safely), at most max
 * bytes when max is not 0.
 */
static int read_id(struct ctx *c, const cJSON *val, const char *key,
		   size_t max, char **out)
{
	size_t mark = path_key(c, key), n;
	const char *s;

	if (!cJSON_IsString(val))
		return schema(c, "expected a string, got %s", type_name(val));
	s = val->valuestring;
	n = strlen(s);
	if (n == 0)
		return schema(c, "must not be empty");
	if (max && n > max)
		return schema(c, "must be at most %zu bytes long, got %zu", max, n);
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return schema(c, "must not contain control characters");
	*out = gb_strdup(val->valuestring);
	if (!*out)
		return nomem(c);
	path_pop(c, mark);
	return 0;
}

/* An RFC 3339 timestamp member that falls on a whole UTC hour. */
static int read_hour(struct ctx *c, const cJSON *val, const char *key,
		     int64_t *t)
{
	char when[GB_TIME_TEXT_MAX];
	size_t mark;
	int rc = read_time(c, val, key, t);

	if (rc || *t % 3600 == 0)
		return rc;
	gb_time_format(when, sizeof when, *t);
	mark = path_key(c, key);
	rc = schema(c, "%s must fall on a whole UTC hour, got %s", key, when);
	path_pop(c, mark);
	return rc;
}

/* A discount member: a decimal string from 0 to 1. */
static int read_fraction(struct ctx *c, const cJSON *val, const char *key,
			 mpq_t out)
{
	char shown[SHOW_BUF];
	size_t mark;
	int rc = read_decimal(c, val, key, out, "0.10");

	if (rc || mpq_cmp_ui(out, 1, 1) <= 0)
		return rc;
	mark = path_key(c, key);
	rc = schema(c, "a discount must be from 0 to 1 (a fraction: \"0.10\" takes 10%% off), got \"%s\"",
		    show(shown, val->valuestring));
	path_pop(c, mark);
	return rc;
}

/* --- contracts: the pricing table ---------------------------------------- */

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Collect the reserved terms of the whole table, sorted and unique. */
static int table_terms(struct ctx *c)
{
	const gb_prices *p = c->prices;
	size_t i, j, k, n = 0, u;

	if (c->have_terms)
		return 0;
	for (i = 0; i < p->nversions; i++)
		for (j = 0; j < p->versions[i].ngpu_rates; j++)
			n += p->versions[i].gpu_rates[j].nreserved;
	if (n) {
		c->terms = gb_malloc(n * sizeof *c->terms);
		if (!c->terms)
			return nomem(c);
	}
	n = 0;
	for (i = 0; i < p->nversions; i++) {
		const gb_version *v = &p->versions[i];

		for (j = 0; j < v->ngpu_rates; j++)
			for (k = 0; k < v->gpu_rates[j].nreserved; k++)
				c->terms[n++] = v->gpu_rates[j].reserved[k].term;
	}
	if (n)
		qsort(c->terms, n, sizeof *c->terms, str_cmp);
	for (i = 0, u = 0; i < n; i++)
		if (u == 0 || strcmp(c->terms[u - 1], c->terms[i]) != 0)
			c->terms[u++] = c->terms[i];
	c->nterms = u;
	c->have_terms = 1;
	return 0;
}

/* The reservation's term is a key of "reserved" somewhere in the table. */
static int check_term(struct ctx *c, const gb_reservation *r)
{
	char shown[SHOW_BUF], list[256];
	size_t mark;
	int rc = table_terms(c);

	if (rc)
		return rc;
	if (c->nterms && bsearch(&r->term, c->terms, c->nterms,
				 sizeof *c->terms, str_cmp))
		return 0;
	mark = path_key(c, "term");
	if (c->nterms == 0)
		rc = schema(c, "unknown term '%s' (the pricing table has no reserved prices; give the reservation its own \"rate\")",
			    show(shown, r->term));
	else
		rc = schema(c, "unknown term '%s' (the table has %s)",
			    show(shown, r->term),
			    name_list(list, sizeof list, c->terms, c->nterms));
	path_pop(c, mark);
	return rc;
}

/*
 * A reservation without its own rate is billed each hour at the table's
 * reserved[term] price for its sku and region in the version in effect:
 * every version its hours fall in must have that price, and a flat one
 * (a tier of "reserved hours" has no meaning: each hour is billed alike).
 */
static int check_table_price(struct ctx *c, const gb_reservation *r)
{
	const gb_prices *p = c->prices;
	char when[GB_TIME_TEXT_MAX], s1[SHOW_BUF], s2[SHOW_BUF], s3[SHOW_BUF];
	int64_t first = p->versions[0].effective_from;
	size_t i;
	int rc = check_term(c, r);

	if (rc)
		return rc;
	show(s1, r->term);
	show(s2, r->sku);
	show(s3, r->region);
	if (r->end <= first) {
		gb_time_format(when, sizeof when, first);
		return schema(c, "the reservation overlaps no price version (the first takes effect at %s), so it has no reserved %s price; give it its own \"rate\"",
			      when, s1);
	}
	if (r->start < first) {
		gb_time_format(when, sizeof when, first);
		return schema(c, "the reservation starts before the first price version (from %s): its hours before then have no reserved %s price; give it its own \"rate\"",
			      when, s1);
	}
	for (i = (size_t)gb_prices_version_at(p, r->start);
	     i < p->nversions && p->versions[i].effective_from < r->end; i++) {
		const gb_version *v = &p->versions[i];
		const gb_gpu_rate *rate = gb_version_gpu_rate(v, r->sku, r->region);
		const gb_price *price = rate ? gb_gpu_rate_reserved(rate, r->term)
					     : NULL;

		gb_time_format(when, sizeof when, v->effective_from);
		if (!price)
			return schema(c, "no reserved %s price for %s in %s in the price version from %s (give the reservation its own \"rate\")",
				      s1, s2, s3, when);
		if (price->mode != GB_PRICE_FLAT)
			return schema(c, "tiered reserved prices are not supported: the reserved %s price for %s in %s in the price version from %s is tiered (give the reservation its own \"rate\")",
				      s1, s2, s3, when);
	}
	return 0;
}

/* --- contracts: reservations --------------------------------------------- */

static void reservation_clear(gb_reservation *r)
{
	gb_free(r->id);
	gb_free(r->sku);
	gb_free(r->region);
	gb_free(r->term);
	mpq_clear(r->rate);
}

static int read_region(struct ctx *c, const cJSON *val, char **out)
{
	size_t mark;
	int rc = copy_string(c, val, "region", out);

	if (rc || strcmp(*out, "*") != 0)
		return rc;
	mark = path_key(c, "region");
	rc = schema(c, "a reservation covers one exact region, not \"*\"");
	path_pop(c, mark);
	return rc;
}

/* The contract's own "rate": a flat price, never a tier object. */
static int read_rate(struct ctx *c, const cJSON *val, gb_reservation *r)
{
	size_t mark = path_key(c, "rate");
	int rc;

	if (cJSON_IsObject(val))
		return schema(c, "a reservation rate must be a plain price, a decimal string like \"1.50\" (reserved hours are not tiered)");
	rc = decimal_here(c, val, r->rate, "1.50");
	if (rc)
		return rc;
	r->has_rate = 1;
	path_pop(c, mark);
	return 0;
}

static int read_reservation(struct ctx *c, const cJSON *obj,
			    gb_reservation *r)
{
	static const char *const keys[] = {
		"id", "sku", "region", "gpus", "term", "start", "end", "rate",
		"description", "note"
	};
	const cJSON *v[10];
	char t1[GB_TIME_TEXT_MAX], t2[GB_TIME_TEXT_MAX];
	const char *text = NULL;
	int64_t gpus = 0;
	size_t i, mark;
	int rc;

	rc = read_object(c, obj, keys, v, 10);
	for (i = 0; !rc && i < 7; i++)
		rc = require(c, v[i], keys[i]);
	if (!rc)
		rc = read_id(c, v[0], "id", 0, &r->id);
	if (!rc)
		rc = copy_string(c, v[1], "sku", &r->sku);
	if (!rc)
		rc = read_region(c, v[2], &r->region);
	if (!rc)
		rc = read_int(c, v[3], "gpus", 1, MAX_GPUS, &gpus);
	r->gpus = (uint32_t)gpus;
	if (!rc)
		rc = copy_string(c, v[4], "term", &r->term);
	if (!rc)
		rc = read_hour(c, v[5], "start", &r->start);
	if (!rc)
		rc = read_hour(c, v[6], "end", &r->end);
	if (!rc && r->end <= r->start) {
		gb_time_format(t1, sizeof t1, r->end);
		gb_time_format(t2, sizeof t2, r->start);
		mark = path_key(c, "end");
		rc = schema(c, "end (%s) must be after start (%s)", t1, t2);
		path_pop(c, mark);
	}
	if (!rc && v[7])
		rc = read_rate(c, v[7], r);
	if (!rc && v[8])
		rc = read_string(c, v[8], keys[8], 0, &text);
	if (!rc && v[9])
		rc = read_string(c, v[9], keys[9], 0, &text);
	if (!rc && !r->has_rate)
		rc = check_table_price(c, r);
	return rc;
}

static int read_reservations(struct ctx *c, const cJSON *arr, gb_contract *k)
{
	size_t n, i, mark = path_key(c, "reservations");
	const cJSON *e;
	int rc;

	rc = array_len(c, arr, 0, &n);
	if (rc)
		return rc;
	if (n == 0) {
		path_pop(c, mark);
		return 0;
	}
	k->reservations = gb_calloc(n, sizeof *k->reservations);
	if (!k->reservations)
		return nomem(c);
	for (i = 0; i < n; i++)
		mpq_init(k->reservations[i].rate);
	k->nreservations = n;
	i = 0;
	cJSON_ArrayForEach(e, arr) {
		size_t m = path_index(c, i);

		rc = read_reservation(c, e, &k->reservations[i++]);
		if (rc)
			return rc;
		path_pop(c, m);
	}
	path_pop(c, mark);
	return 0;
}

/* --- contracts: credits -------------------------------------------------- */

static int read_credit(struct ctx *c, const cJSON *obj, gb_credit *cr)
{
	static const char *const keys[] = {
		"id", "amount", "description", "note"
	};
	const cJSON *v[4];
	const char *text = NULL;
	size_t mark;
	int rc;

	rc = read_object(c, obj, keys, v, 4);
	if (!rc)
		rc = require(c, v[0], "id");
	if (!rc)
		rc = require(c, v[1], "amount");
	if (!rc)
		rc = read_id(c, v[0], "id", 0, &cr->id);
	if (!rc)
		rc = read_decimal(c, v[1], "amount", cr->amount, "500.00");
	if (!rc && mpq_sgn(cr->amount) == 0) {
		mark = path_key(c, "amount");
		rc = schema(c, "a credit amount must be greater than 0");
		path_pop(c, mark);
	}
	if (!rc && v[2])
		rc = read_string(c, v[2], keys[2], 0, &text);
	if (!rc && v[3])
		rc = read_string(c, v[3], keys[3], 0, &text);
	return rc;
}

/* Credit ids are unique within the customer: they name invoice lines. */
static int unique_credits(struct ctx *c, const gb_contract *k)
{
	char shown[SHOW_BUF];
	size_t i, dup, first = 0;
	struct keyed *key;

	if (k->ncredits < 2)
		return 0;
	key = gb_malloc(k->ncredits * sizeof *key);
	if (!key)
		return nomem(c);
	for (i = 0; i < k->ncredits; i++) {
		key[i].a = k->credits[i].id;
		key[i].b = "";
		key[i].t = 0;
		key[i].idx = i;
	}
	dup = first_repeat(key, k->ncredits, &first);
	gb_free(key);
	if (dup == k->ncredits)
		return 0;
	path_index(c, dup);
	path_key(c, "id");
	return schema(c, "duplicate credit id '%s' (first given at credits[%zu])",
		      show(shown, k->credits[dup].id), first);
}

static int read_credits(struct ctx *c, const cJSON *arr, gb_contract *k)
{
	size_t n, i, mark = path_key(c, "credits");
	const cJSON *e;
	int rc;

	rc = array_len(c, arr, 0, &n);
	if (rc)
		return rc;
	if (n == 0) {
		path_pop(c, mark);
		return 0;
	}
	k->credits = gb_calloc(n, sizeof *k->credits);
	if (!k->credits)
		return nomem(c);
	for (i = 0; i < n; i++)
		mpq_init(k->credits[i].amount);
	k->ncredits = n;
	i = 0;
	cJSON_ArrayForEach(e, arr) {
		size_t m = path_index(c, i);

		rc = read_credit(c, e, &k->credits[i++]);
		if (rc)
			return rc;
		path_pop(c, m);
	}
	rc = unique_credits(c, k);
	if (!rc)
		path_pop(c, mark);
	return rc;
}

/* --- contracts: customers ------------------------------------------------ */

static void contract_clear(gb_contract *k)
{
	size_t i;

	gb_free(k->customer);
	gb_free(k->name);
	for (i = 0; i < k->nreservations; i++)
		reservation_clear(&k->reservations[i]);
	gb_free(k->reservations);
	for (i = 0; i < GB_DISCOUNT__COUNT; i++)
		mpq_clear(k->discount[i]);
	mpq_clear(k->minimum_spend);
	for (i = 0; i < k->ncredits; i++) {
		gb_free(k->credits[i].id);
		mpq_clear(k->credits[i].amount);
	}
	gb_free(k->credits);
}

/* "discounts": {...}; the keys are in gb_discount_kind order. */
static int read_discounts(struct ctx *c, const cJSON *obj, gb_contract *k)
{
	static const char *const keys[GB_DISCOUNT__COUNT] = {
		"gpu_on_demand", "gpu_spot", "tokens"
	};
	const cJSON *v[GB_DISCOUNT__COUNT];
	size_t i, mark = path_key(c, "discounts");
	int rc;

	rc = read_object(c, obj, keys, v, GB_DISCOUNT__COUNT);
	for (i = 0; !rc && i < GB_DISCOUNT__COUNT; i++) {
		if (!v[i])
			continue;
		rc = read_fraction(c, v[i], keys[i], k->discount[i]);
		k->has_discount[i] = !rc;
	}
	if (!rc)
		path_pop(c, mark);
	return rc;
}

static int read_customer(struct ctx *c, const cJSON *obj, gb_contract *k)
{
	static const char *const keys[] = {
		"customer", "name", "description", "note", "reservations",
		"discounts", "minimum_spend", "credits"
	};
	const cJSON *v[8];
	const char *text = NULL;
	int rc;

	rc = read_object(c, obj, keys, v, 8);
	if (!rc)
		rc = require(c, v[0], "customer");
	if (!rc)
		rc = read_id(c, v[0], "customer", MAX_CUSTOMER, &k->customer);
	if (!rc && v[1])
		rc = read_string(c, v[1], "name", 0, &text);
	if (!rc && !(k->name = gb_strdup(v[1] ? text : "")))
		rc = nomem(c);
	if (!rc && v[2])
		rc = read_string(c, v[2], keys[2], 0, &text);
	if (!rc && v[3])
		rc = read_string(c, v[3], keys[3], 0, &text);
	if (!rc && v[4])
		rc = read_reservations(c, v[4], k);
	if (!rc && v[5])
		rc = read_discounts(c, v[5], k);
	if (!rc && v[6]) {
		rc = read_decimal(c, v[6], "minimum_spend", k->minimum_spend,
				  "10000.00");
		k->has_minimum = !rc;
	}
	if (!rc && v[7])
		rc = read_credits(c, v[7], k);
	return rc;
}

/*
 * Reservation ids are unique across the file: an invoice line names one,
 * and a reservation moved between customers by copy and paste should not
 * go unnoticed.  Run while the contracts are still in file order.
 */
static int unique_reservations(struct ctx *c, const gb_contracts *cs)
{
	char shown[SHOW_BUF];
	size_t i, j, n = 0, dup, first = 0, ci = 0, ri = 0, fc = 0, fr = 0;
	struct keyed *k;

	for (i = 0; i < cs->ncontracts; i++)
		n += cs->contracts[i].nreservations;
	if (n < 2)
		return 0;
	k = gb_malloc(n * sizeof *k);
	if (!k)
		return nomem(c);
	n = 0;
	for (i = 0; i < cs->ncontracts; i++) {
		for (j = 0; j < cs->contracts[i].nreservations; j++) {
			k[n].a = cs->contracts[i].reservations[j].id;
			k[n].b = "";
			k[n].t = 0;
			k[n].idx = n;
			n++;
		}
	}
	dup = first_repeat(k, n, &first);
	gb_free(k);
	if (dup == n)
		return 0;
	/* Turn the two running numbers back into (customer, reservation). */
	for (i = 0, n = 0; i < cs->ncontracts; i++) {
		size_t nr = cs->contracts[i].nreservations;

		if (first >= n && first < n + nr) {
			fc = i;
			fr = first - n;
		}
		if (dup >= n && dup < n + nr) {
			ci = i;
			ri = dup - n;
		}
		n += nr;
	}
	path_key(c, "customers");
	path_index(c, ci);
	path_key(c, "reservations");
	path_index(c, ri);
	path_key(c, "id");
	return schema(c, "duplicate reservation id '%s' (first given at customers[%zu].reservations[%zu])",
		      show(shown, cs->contracts[ci].reservations[ri].id), fc,
		      fr);
}

/*
 * Check customer ids are unique (a second block for a customer would
 * bill it twice or not at all), then reservation ids, then put the
 * contracts in customer order for gb_contracts_find.
 */
static int sort_contracts(struct ctx *c, gb_contracts *cs)
{
	size_t i, n = cs->ncontracts, dup, first = 0;
	char shown[SHOW_BUF];
	gb_contract *sorted;
	struct keyed *k;
	int rc;

	if (n == 0)
		return 0;
	k = gb_malloc(n * sizeof *k);
	if (!k)
		return nomem(c);
	for (i = 0; i < n; i++) {
		k[i].a = cs->contracts[i].customer;
		k[i].b = "";
		k[i].t = 0;
		k[i].idx = i;
	}
	dup = first_repeat(k, n, &first);
	if (dup < n) {
		gb_free(k);
		path_key(c, "customers");
		path_index(c, dup);
		path_key(c, "customer");
		return schema(c, "duplicate customer '%s' (first given at customers[%zu])",
			      show(shown, cs->contracts[dup].customer), first);
	}
	rc = unique_reservations(c, cs);
	sorted = rc ? NULL : gb_malloc(n * sizeof *sorted);
	if (!sorted) {
		gb_free(k);
		return rc ? rc : nomem(c);
	}
	/* A struct copy moves the mpq_t: the old array is freed, not cleared. */
	for (i = 0; i < n; i++)
		sorted[i] = cs->contracts[k[i].idx];
	gb_free(k);
	gb_free(cs->contracts);
	cs->contracts = sorted;
	return 0;
}

static int read_customers(struct ctx *c, const cJSON *arr, gb_contracts *cs)
{
	size_t n, i, j, mark = path_key(c, "customers");
	const cJSON *e;
	int rc;

	rc = array_len(c, arr, 0, &n);
	if (rc)
		return rc;
	if (n == 0) {
		path_pop(c, mark);
		return 0;
	}
	cs->contracts = gb_calloc(n, sizeof *cs->contracts);
	if (!cs->contracts)
		return nomem(c);
	for (i = 0; i < n; i++) {
		for (j = 0; j < GB_DISCOUNT__COUNT; j++)
			mpq_init(cs->contracts[i].discount[j]);
		mpq_init(cs->contracts[i].minimum_spend);
	}
	cs->ncontracts = n;
	i = 0;
	cJSON_ArrayForEach(e, arr) {
		size_t m = path_index(c, i);

		rc = read_customer(c, e, &cs->contracts[i++]);
		if (rc)
			return rc;
		path_pop(c, m);
	}
	path_pop(c, mark);
	return sort_contracts(c, cs);
}

/* --- contracts: the file ------------------------------------------------- */

/*
 * "format" is checked first, as in prices.c: handed a pricing table by
 * mistake, the useful message says so.
 */
static int check_format(struct ctx *c, const cJSON *root)
{
	const cJSON *f = cJSON_GetObjectItemCaseSensitive(root, "format");
	char shown[SHOW_BUF];
	size_t mark;
	int rc = 0;

	if (!f)
		return schema(c, "missing required key 'format' (a contracts file starts with \"format\": \"" FORMAT_NAME "\")");
	mark = path_key(c, "format");
	if (!cJSON_IsString(f))
		rc = schema(c, "expected the string \"" FORMAT_NAME "\", got %s",
			    type_name(f));
	else if (strcmp(f->valuestring, PRICES_FORMAT_NAME) == 0)
		rc = schema(c, "unsupported format \"" PRICES_FORMAT_NAME "\": this is a pricing table, not a contracts file (\"" FORMAT_NAME "\")");
	else if (strcmp(f->valuestring, FORMAT_NAME) != 0)
		rc = schema(c, "unsupported format \"%s\" (this version of gpubill reads \"" FORMAT_NAME "\")",
			    show(shown, f->valuestring));
	if (!rc)
		path_pop(c, mark);
	return rc;
}

static int read_file(struct ctx *c, const cJSON *root, gb_contracts *cs)
{
	static const char *const keys[] = {
		"format", "description", "customers"
	};
	const cJSON *v[3];
	const char *text = NULL;
	int rc;

	rc = check_format(c, root);
	if (!rc)
		rc = read_object(c, root, keys, v, 3);
	if (!rc && v[1])
		rc = read_string(c, v[1], "description", 0, &text);
	if (!rc)
		rc = require(c, v[2], "customers");
	if (!rc)
		rc = read_customers(c, v[2], cs);
	return rc;
}

int gb_contracts_load(gb_contracts **out, const char *data, size_t len,
		      const char *source, const gb_prices *prices,
		      gb_error *err)
{
	struct ctx c = {
		.err = err, .source = source ? source : "", .prices = prices
	};
	cJSON *root = NULL;
	gb_contracts *cs;
	int rc;

	gb_error_clear(err);
	if (!out || (!data && len) || !prices || !prices->nversions)
		return gb_error_set(err, GB_EINVAL, "gb_contracts_load: no output, no data or no pricing table");
	*out = NULL;
	rc = parse_json(&c, data ? data : "", len, &root);
	if (rc)
		return rc;
	cs = gb_calloc(1, sizeof *cs);
	if (!cs) {
		cJSON_Delete(root);
		return nomem(&c);
	}
	cs->source = gb_strdup(c.source);
	rc = cs->source ? read_file(&c, root, cs) : nomem(&c);
	cJSON_Delete(root);
	gb_free(c.terms);
	if (rc) {
		gb_contracts_free(cs);
		return rc;
	}
	*out = cs;
	return 0;
}

void gb_contracts_free(gb_contracts *contracts)
{
	size_t i;

	if (!contracts)
		return;
	for (i = 0; i < contracts->ncontracts; i++)
		contract_clear(&contracts->contracts[i]);
	gb_free(contracts->contracts);
	gb_free(contracts->source);
	gb_free(contracts);
}

size_t gb_contracts_count(const gb_contracts *contracts)
{
	return contracts ? contracts->ncontracts : 0;
}

/*
 * Compare customer[0..len) with the NUL-terminated s in strcmp's order
 * (bytes as unsigned char, a prefix first).
 */
static int customer_cmp(const char *customer, size_t len, const char *s)
{
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char a = (unsigned char)customer[i];
		unsigned char b = (unsigned char)s[i];

		if (b == '\0')
			return 1;
		if (a != b)
			return a < b ? -1 : 1;
	}
	return s[len] ? -1 : 0;
}

const gb_contract *gb_contracts_find(const gb_contracts *c,
				     const char *customer, size_t len)
{
	size_t lo = 0, hi;

	if (!c || (!customer && len))
		return NULL;
	hi = c->ncontracts;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int r = customer_cmp(customer, len, c->contracts[mid].customer);

		if (r == 0)
			return &c->contracts[mid];
		if (r < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}
