/*
 * json_load.c - the helpers the JSON loaders share (see json_load.h).
 *
 * cJSON does the parsing; what is here makes its failures precise (a line
 * and column, and what went wrong in words), tracks the JSON path being
 * read, and turns each schema problem into one message at that path,
 * suggesting what was probably meant.
 */
#include "json_load.h"

#include <gpubill/money.h>
#include <gpubill/timestamp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * A real pricing table nests seven levels deep, a contracts file five.
 * Refusing far deeper documents up front gives a clear message instead of
 * cJSON's generic failure at its own limit (CJSON_NESTING_LIMIT) and keeps
 * its recursion shallow.
 */
#define MAX_DEPTH 64

/* Bytes of the input shown after "JSON syntax error near". */
#define SNIPPET_MAX 24

/* --- messages ------------------------------------------------------------ */

/*
 * Copy at most n bytes of s (stopping at a NUL) into buf for quoting in a
 * message: control bytes shown as '?' so a message cannot move the cursor,
 * long text cut at a character boundary and marked with "...".
 */
const char *gb_json_show_n(char *buf, const char *s, size_t n)
{
	size_t i = 0, o = 0;

	while (i < n && s[i] && (i < GB_JSON_SHOW_MAX ||
	       (i < GB_JSON_SHOW_MAX + 3 &&
		((unsigned char)s[i] & 0xC0) == 0x80))) {
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

const char *gb_json_show(char *buf, const char *s)
{
	return gb_json_show_n(buf, s, (size_t)-1);
}

const char *gb_json_type_name(const cJSON *j)
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

int gb_json_vfail(gb_json_ctx *c, int code, const char *fmt, va_list ap)
{
	gb_error_vset(c->err, code, fmt, ap);
	gb_error_set_source(c->err, c->source);
	gb_error_set_path(c->err, c->path);
	return code;
}

/* Report a problem of kind code at the current path; returns code. */
int gb_json_fail(gb_json_ctx *c, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	gb_json_vfail(c, code, fmt, ap);
	va_end(ap);
	return code;
}

/* Report a schema problem at the current path; returns GB_ESCHEMA. */
int gb_json_schema(gb_json_ctx *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	gb_json_vfail(c, GB_ESCHEMA, fmt, ap);
	va_end(ap);
	return GB_ESCHEMA;
}

int gb_json_nomem(gb_json_ctx *c)
{
	return gb_json_fail(c, GB_ENOMEM, "out of memory");
}

/* --- JSON paths ---------------------------------------------------------- */

static void path_add(gb_json_ctx *c, const char *fmt, ...) GB_PRINTF(2, 3);

/* Append to the path; a path too long for gb_error is cut, not failed. */
static void path_add(gb_json_ctx *c, const char *fmt, ...)
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
size_t gb_json_path_key(gb_json_ctx *c, const char *key)
{
	size_t mark = c->len;
	char buf[GB_JSON_SHOW_BUF];

	if (is_plain_key(key))
		path_add(c, "%s%s", c->len ? "." : "", key);
	else
		path_add(c, "[\"%s\"]", gb_json_show(buf, key));
	return mark;
}

size_t gb_json_path_index(gb_json_ctx *c, size_t i)
{
	size_t mark = c->len;

	path_add(c, "[%zu]", i);
	return mark;
}

void gb_json_path_pop(gb_json_ctx *c, size_t mark)
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
const char *gb_json_name_list(char *buf, size_t size,
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
int gb_json_not_one_of(gb_json_ctx *c, const char *what, const char *s,
		       const char *const *names, size_t n)
{
	char shown[GB_JSON_SHOW_BUF], list[256];
	const char *guess = closest(s, names, n);

	if (guess)
		return gb_json_schema(c, "unknown %s '%s' (did you mean '%s'?)",
				      what, gb_json_show(shown, s), guess);
	return gb_json_schema(c, "unknown %s '%s' (expected one of: %s)",
			      what, gb_json_show(shown, s),
			      gb_json_name_list(list, sizeof list, names, n));
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

static int syntax_at(gb_json_ctx *c, const char *data, size_t pos,
		     const char *fmt, ...) GB_PRINTF(4, 5);

/* Report a syntax problem at byte pos of the input. */
static int syntax_at(gb_json_ctx *c, const char *data, size_t pos,
		     const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	gb_json_vfail(c, GB_ESYNTAX, fmt, ap);
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
static int prescan(gb_json_ctx *c, const char *data, size_t len,
		   size_t *open_string)
{
	size_t i, depth = 0;
	int in_string = 0;

	if (len >= 2 && (memcmp(data, "\xFF\xFE", 2) == 0 ||
			 memcmp(data, "\xFE\xFF", 2) == 0))
		return syntax_at(c, data, 0, "the file is UTF-16; %s must be UTF-8",
				 c->kind);
	for (i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)data[i];

		if (ch == '\0')
			return syntax_at(c, data, i, "NUL byte in the input (%s is UTF-8 JSON text)",
					 c->kind);
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
	return gb_json_show_n(buf, data + pos, n);
}

static int parse_failure(gb_json_ctx *c, const char *data, size_t len,
			 const char *end, size_t open_string)
{
	char shown[GB_JSON_SHOW_BUF];
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
int gb_json_parse(gb_json_ctx *c, const char *data, size_t len,
			  cJSON **out)
{
	const char *end = NULL;
	char shown[GB_JSON_SHOW_BUF];
	size_t pos, open_string = len;
	cJSON *root;
	int rc;

	if (skip_space(data, len, 0) == len)
		return gb_json_fail(c, GB_ESYNTAX, "empty file");
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
		rc = gb_json_schema(c, "expected a JSON object at the top level, got %s",
				    gb_json_type_name(root));
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
int gb_json_read_object(gb_json_ctx *c, const cJSON *obj,
			const char *const *keys, const cJSON **val, size_t n)
{
	const cJSON *m;
	size_t i;

	if (!cJSON_IsObject(obj))
		return gb_json_schema(c, "expected an object, got %s",
				      gb_json_type_name(obj));
	for (i = 0; i < n; i++)
		val[i] = NULL;
	cJSON_ArrayForEach(m, obj) {
		i = key_index(keys, n, m->string);
		if (i < n && !val[i]) {
			val[i] = m;
			continue;
		}
		gb_json_path_key(c, m->string);
		if (i < n)
			return gb_json_schema(c, "duplicate key '%s'", keys[i]);
		return gb_json_not_one_of(c, "key", m->string, keys, n);
	}
	return 0;
}

int gb_json_require(gb_json_ctx *c, const cJSON *val, const char *key)
{
	if (val)
		return 0;
	return gb_json_schema(c, "missing required key '%s'", key);
}

/* Count the elements of arr, which must be an array. */
int gb_json_array_len(gb_json_ctx *c, const cJSON *arr, int nonempty,
		      size_t *n)
{
	const cJSON *e;

	if (!cJSON_IsArray(arr))
		return gb_json_schema(c, "expected an array, got %s",
				      gb_json_type_name(arr));
	*n = 0;
	cJSON_ArrayForEach(e, arr)
		(*n)++;
	if (nonempty && *n == 0)
		return gb_json_schema(c, "must not be empty");
	return 0;
}

/* --- scalar values ------------------------------------------------------- */

/* The string member val (named key); *out points into the cJSON tree. */
int gb_json_read_string(gb_json_ctx *c, const cJSON *val, const char *key,
			int nonempty, const char **out)
{
	size_t mark = gb_json_path_key(c, key);

	if (!cJSON_IsString(val))
		return gb_json_schema(c, "expected a string, got %s",
				      gb_json_type_name(val));
	if (nonempty && !val->valuestring[0])
		return gb_json_schema(c, "must not be empty");
	*out = val->valuestring;
	gb_json_path_pop(c, mark);
	return 0;
}

int gb_json_copy_string(gb_json_ctx *c, const cJSON *val, const char *key,
			char **out)
{
	const char *s = NULL;
	int rc = gb_json_read_string(c, val, key, 1, &s);

	if (rc)
		return rc;
	*out = gb_strdup(s);
	return *out ? 0 : gb_json_nomem(c);
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
int gb_json_read_int(gb_json_ctx *c, const cJSON *val, const char *key,
		     int lo, int hi, int64_t *out)
{
	size_t mark = gb_json_path_key(c, key);
	char shown[GB_JSON_SHOW_BUF];

	if (cJSON_IsString(val) && all_digits(val->valuestring))
		return gb_json_schema(c, "expected an integer, got a string (write %s without quotes)",
				      gb_json_show(shown, val->valuestring));
	if (!cJSON_IsNumber(val))
		return gb_json_schema(c, "expected an integer, got %s",
				      gb_json_type_name(val));
	if (val->valuedouble != val->valueint || val->valueint < lo ||
	    val->valueint > hi)
		return gb_json_schema(c, "expected an integer from %d to %d",
				      lo, hi);
	*out = val->valueint;
	gb_json_path_pop(c, mark);
	return 0;
}

/*
 * A non-negative decimal string at the current path.  Prices are strings
 * because cJSON turns a JSON number into binary floating point: "0.1"
 * survives exactly only as text.  example shows the expected shape in
 * the message.
 */
int gb_json_decimal_here(gb_json_ctx *c, const cJSON *val, mpq_t out,
			 const char *example)
{
	char shown[GB_JSON_SHOW_BUF];
	const char *why = NULL;
	const char *s = NULL;

	if (!cJSON_IsString(val))
		return gb_json_schema(c, "expected a decimal string like \"%s\", got %s",
				      example, gb_json_type_name(val));
	s = val->valuestring;
	if (gb_decimal_parse(out, s, strlen(s), 0, &why))
		return gb_json_schema(c, "invalid decimal \"%s\": %s",
				      gb_json_show(shown, s),
				      why ? why : "not a decimal number");
	mpq_canonicalize(out);
	return 0;
}

int gb_json_read_decimal(gb_json_ctx *c, const cJSON *val, const char *key,
			 mpq_t out, const char *example)
{
	size_t mark = gb_json_path_key(c, key);
	int rc = gb_json_decimal_here(c, val, out, example);

	if (!rc)
		gb_json_path_pop(c, mark);
	return rc;
}

/* An RFC 3339 timestamp member. */
int gb_json_read_time(gb_json_ctx *c, const cJSON *val, const char *key,
		      int64_t *out)
{
	size_t mark = gb_json_path_key(c, key);
	char shown[GB_JSON_SHOW_BUF];
	const char *why = NULL;
	const char *s = NULL;

	if (!cJSON_IsString(val))
		return gb_json_schema(c, "expected an RFC 3339 timestamp string like \"2026-01-01T00:00:00Z\", got %s",
				      gb_json_type_name(val));
	s = val->valuestring;
	if (gb_time_parse(out, s, strlen(s), &why))
		return gb_json_schema(c, "invalid timestamp \"%s\": %s",
				      gb_json_show(shown, s),
				      why ? why : "not an RFC 3339 timestamp");
	gb_json_path_pop(c, mark);
	return 0;
}

/* An RFC 3339 timestamp member that falls on a whole UTC hour. */
int gb_json_read_hour(gb_json_ctx *c, const cJSON *val, const char *key,
		      int64_t *t)
{
	char when[GB_TIME_TEXT_MAX];
	size_t mark;
	int rc = gb_json_read_time(c, val, key, t);

	if (rc || *t % 3600 == 0)
		return rc;
	gb_time_format(when, sizeof when, *t);
	mark = gb_json_path_key(c, key);
	rc = gb_json_schema(c, "%s must fall on a whole UTC hour, got %s", key,
			    when);
	gb_json_path_pop(c, mark);
	return rc;
}

/* --- repeats ------------------------------------------------------------- */

static int same_key(const gb_json_keyed *x, const gb_json_keyed *y)
{
	return strcmp(x->a, y->a) == 0 && strcmp(x->b, y->b) == 0 &&
	       x->t == y->t;
}

static int keyed_cmp(const void *px, const void *py)
{
	const gb_json_keyed *x = px, *y = py;
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
size_t gb_json_first_repeat(gb_json_keyed *k, size_t n, size_t *first)
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

int gb_json_read_array(gb_json_ctx *c, const cJSON *arr, int nonempty,
		       size_t size, void **out, size_t *count,
		       gb_json_init_fn init, gb_json_elem_fn fn, void *arg)
{
	const cJSON *e;
	size_t n, i;
	char *a;
	int rc = gb_json_array_len(c, arr, nonempty, &n);

	if (rc)
		return rc;
	a = gb_calloc(n, size);
	if (!a)
		return gb_json_nomem(c);
	for (i = 0; init && i < n; i++)
		init(a + i * size);
	*out = a;
	*count = n;
	i = 0;
	cJSON_ArrayForEach(e, arr) {
		size_t m = gb_json_path_index(c, i);

		rc = fn(c, arg, e, a + i * size, i);
		if (rc)
			return rc;
		gb_json_path_pop(c, m);
		i++;
	}
	return 0;
}
