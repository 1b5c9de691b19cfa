/*
 * prices.c - load a "gpubill-pricing/1" table.
 *
 * The JSON is parsed with cJSON, then every key and value is checked
 * against the schema while the in-memory model of prices_internal.h is
 * built.  A pricing table is written by hand and checked in CI, so every
 * problem is reported with the JSON path of the element at fault and, where
 * it helps, what was probably meant.  The rater trusts what this file
 * builds: nothing is left for it to re-check.
 *
 * Ownership: the model is allocated so that gb_prices_free can release any
 * partly built table - arrays are zeroed and every mpq_t is initialised as
 * soon as the struct holding it exists - so each error path just returns
 * and gb_prices_load frees the whole table once.
 */
#include "internal.h"
#include "prices_internal.h"

#include <gpubill/timestamp.h>
#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FORMAT_NAME "gpubill-pricing/1"

/*
 * A real table nests seven levels deep.  Refusing far deeper documents up
 * front gives a clear message instead of cJSON's generic failure at its own
 * limit (CJSON_NESTING_LIMIT) and keeps its recursion shallow.
 */
#define MAX_DEPTH 64

/* Longest increment or minimum a table may set: a leap year. */
#define MAX_SECONDS (86400 * 366)

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
};

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
		return syntax_at(c, data, 0, "the file is UTF-16; a pricing table must be UTF-8");
	for (i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)data[i];

		if (ch == '\0')
			return syntax_at(c, data, i, "NUL byte in the input (a pricing table is UTF-8 JSON text)");
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

/* --- prices -------------------------------------------------------------- */

static void price_init(gb_price *p)
{
	p->mode = GB_PRICE_FLAT;
	mpq_init(p->flat);
	p->ntiers = 0;
	p->tiers = NULL;
}

static void price_clear(gb_price *p)
{
	size_t i;

	mpq_clear(p->flat);
	for (i = 0; i < p->ntiers; i++) {
		mpq_clear(p->tiers[i].up_to);
		mpq_clear(p->tiers[i].price);
	}
	gb_free(p->tiers);
}

static void price_free(gb_price *p)
{
	if (!p)
		return;
	price_clear(p);
	gb_free(p);
}

/*
 * up_to of tier i of p at the current path: a positive decimal above the
 * previous bound, or null on the last tier only (it covers the rest).
 */
static int read_up_to(struct ctx *c, const cJSON *val, gb_price *p, size_t i)
{
	gb_tier *t = &p->tiers[i];
	int rc;

	if (cJSON_IsNull(val)) {
		if (i + 1 < p->ntiers)
			return schema(c, "only the last tier may have \"up_to\": null");
		return 0;
	}
	if (i + 1 == p->ntiers)
		return schema(c, "the last tier must have \"up_to\": null, so that every quantity has a price");
	if (!cJSON_IsString(val))
		return schema(c, "expected a decimal string like \"1000\" or null, got %s",
			      type_name(val));
	rc = decimal_here(c, val, t->up_to, "1000");
	if (rc)
		return rc;
	t->bounded = 1;
	if (mpq_sgn(t->up_to) <= 0)
		return schema(c, "up_to must be greater than 0");
	if (i > 0 && mpq_cmp(t->up_to, p->tiers[i - 1].up_to) <= 0)
		return schema(c, "up_to must be greater than the previous tier's up_to");
	return 0;
}

static int read_tier(struct ctx *c, const cJSON *obj, gb_price *p, size_t i)
{
	static const char *const keys[] = { "up_to", "price" };
	const cJSON *v[2];
	size_t mark;
	int rc;

	rc = read_object(c, obj, keys, v, 2);
	if (!rc && !v[0])
		rc = schema(c, "missing required key 'up_to' (use null for the last tier)");
	if (!rc)
		rc = require(c, v[1], "price");
	if (rc)
		return rc;
	mark = path_key(c, "up_to");
	rc = read_up_to(c, v[0], p, i);
	if (rc)
		return rc;
	path_pop(c, mark);
	return read_decimal(c, v[1], "price", p->tiers[i].price, "0.95");
}

static int read_tier_mode(struct ctx *c, const cJSON *val, gb_price *out)
{
	static const char *const modes[] = { "graduated", "volume" };
	size_t mark;
	const char *s = NULL;
	int rc = read_string(c, val, "mode", 0, &s);

	if (rc)
		return rc;
	if (strcmp(s, "graduated") == 0) {
		out->mode = GB_PRICE_GRADUATED;
		return 0;
	}
	if (strcmp(s, "volume") == 0) {
		out->mode = GB_PRICE_VOLUME;
		return 0;
	}
	mark = path_key(c, "mode");
	rc = not_one_of(c, "tier mode", s, modes, 2);
	path_pop(c, mark);
	return rc;
}

/* {"mode": ..., "tiers": [...]} at the current path. */
static int read_tiered(struct ctx *c, const cJSON *obj, gb_price *out)
{
	static const char *const keys[] = { "mode", "tiers" };
	const cJSON *v[2], *e;
	size_t n, i = 0, mark;
	int rc;

	rc = read_object(c, obj, keys, v, 2);
	if (!rc)
		rc = require(c, v[0], "mode");
	if (!rc)
		rc = require(c, v[1], "tiers");
	if (!rc)
		rc = read_tier_mode(c, v[0], out);
	if (rc)
		return rc;
	mark = path_key(c, "tiers");
	rc = array_len(c, v[1], 1, &n);
	if (rc)
		return rc;
	out->tiers = gb_calloc(n, sizeof *out->tiers);
	if (!out->tiers)
		return nomem(c);
	for (i = 0; i < n; i++) {
		mpq_init(out->tiers[i].up_to);
		mpq_init(out->tiers[i].price);
	}
	out->ntiers = n;
	i = 0;
	cJSON_ArrayForEach(e, v[1]) {
		size_t m = path_index(c, i);

		rc = read_tier(c, e, out, i++);
		if (rc)
			return rc;
		path_pop(c, m);
	}
	path_pop(c, mark);
	return 0;
}

/* A price at the current path: a decimal string or a tier object. */
static int price_here(struct ctx *c, const cJSON *val, gb_price *out)
{
	if (cJSON_IsObject(val))
		return read_tiered(c, val, out);
	if (cJSON_IsString(val) || cJSON_IsNumber(val))
		return decimal_here(c, val, out->flat, "0.95");
	return schema(c, "expected a decimal string like \"0.95\" or a tier object, got %s",
		      type_name(val));
}

static int read_price(struct ctx *c, const cJSON *val, const char *key,
		      gb_price *out)
{
	size_t mark = path_key(c, key);
	int rc = price_here(c, val, out);

	if (!rc)
		path_pop(c, mark);
	return rc;
}

/* An optional price member: *out stays NULL when val is absent. */
static int read_price_opt(struct ctx *c, const cJSON *val, const char *key,
			  gb_price **out)
{
	if (!val)
		return 0;
	*out = gb_malloc(sizeof **out);
	if (!*out)
		return nomem(c);
	price_init(*out);
	return read_price(c, val, key, *out);
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

/* Report the repeat at member key[idx] of the current path. */
static int repeat_error(struct ctx *c, const char *key, size_t idx,
			const char *fmt, ...) GB_PRINTF(4, 5);

static int repeat_error(struct ctx *c, const char *key, size_t idx,
			const char *fmt, ...)
{
	va_list ap;

	path_key(c, key);
	path_index(c, idx);
	va_start(ap, fmt);
	vfail(c, GB_ESCHEMA, fmt, ap);
	va_end(ap);
	return GB_ESCHEMA;
}

static int unique_gpu_rates(struct ctx *c, const gb_version *v)
{
	struct keyed *k;
	size_t i, dup, first = 0;
	char s1[SHOW_BUF], s2[SHOW_BUF];

	if (v->ngpu_rates < 2)
		return 0;
	k = gb_malloc(v->ngpu_rates * sizeof *k);
	if (!k)
		return nomem(c);
	for (i = 0; i < v->ngpu_rates; i++) {
		k[i].a = v->gpu_rates[i].sku;
		k[i].b = v->gpu_rates[i].region;
		k[i].t = 0;
		k[i].idx = i;
	}
	dup = first_repeat(k, v->ngpu_rates, &first);
	gb_free(k);
	if (dup == v->ngpu_rates)
		return 0;
	return repeat_error(c, "rates", dup,
			    "duplicate rate for sku '%s' in region '%s' (first given at rates[%zu])",
			    show(s1, v->gpu_rates[dup].sku),
			    show(s2, v->gpu_rates[dup].region), first);
}

static int unique_token_rates(struct ctx *c, const gb_version *v)
{
	struct keyed *k;
	size_t i, dup, first = 0;
	char s1[SHOW_BUF], s2[SHOW_BUF];

	if (v->ntoken_rates < 2)
		return 0;
	k = gb_malloc(v->ntoken_rates * sizeof *k);
	if (!k)
		return nomem(c);
	for (i = 0; i < v->ntoken_rates; i++) {
		k[i].a = v->token_rates[i].model;
		k[i].b = v->token_rates[i].region;
		k[i].t = 0;
		k[i].idx = i;
	}
	dup = first_repeat(k, v->ntoken_rates, &first);
	gb_free(k);
	if (dup == v->ntoken_rates)
		return 0;
	return repeat_error(c, "rates", dup,
			    "duplicate rate for model '%s' in region '%s' (first given at rates[%zu])",
			    show(s1, v->token_rates[dup].model),
			    show(s2, v->token_rates[dup].region), first);
}

/*
 * Check (sku, region, from) is unique and put the series in that order,
 * so the rater can find the price in effect with a binary search.
 */
static int sort_spot_points(struct ctx *c, gb_version *v)
{
	size_t i, n = v->nspot_points, dup, first = 0;
	char s1[SHOW_BUF], s2[SHOW_BUF], when[GB_TIME_TEXT_MAX];
	gb_spot_point *sorted;
	struct keyed *k;

	if (n < 2)
		return 0;
	k = gb_malloc(n * sizeof *k);
	if (!k)
		return nomem(c);
	for (i = 0; i < n; i++) {
		k[i].a = v->spot_points[i].sku;
		k[i].b = v->spot_points[i].region;
		k[i].t = v->spot_points[i].from;
		k[i].idx = i;
	}
	dup = first_repeat(k, n, &first);
	if (dup < n) {
		gb_free(k);
		gb_time_format(when, sizeof when, v->spot_points[dup].from);
		return repeat_error(c, "spot_prices", dup,
				    "duplicate spot price for sku '%s' in region '%s' from %s (first given at spot_prices[%zu])",
				    show(s1, v->spot_points[dup].sku),
				    show(s2, v->spot_points[dup].region), when,
				    first);
	}
	sorted = gb_malloc(n * sizeof *sorted);
	if (!sorted) {
		gb_free(k);
		return nomem(c);
	}
	/* A struct copy moves an mpq_t: the old array is freed, not cleared. */
	for (i = 0; i < n; i++)
		sorted[i] = v->spot_points[k[i].idx];
	gb_free(k);
	gb_free(v->spot_points);
	v->spot_points = sorted;
	return 0;
}

/* --- GPU rates ----------------------------------------------------------- */

static void gpu_rate_clear(gb_gpu_rate *r)
{
	size_t i;

	gb_free(r->sku);
	gb_free(r->region);
	price_free(r->on_demand);
	price_free(r->spot);
	for (i = 0; i < r->nreserved; i++) {
		gb_free(r->reserved[i].term);
		price_clear(&r->reserved[i].price);
	}
	gb_free(r->reserved);
}

/* The first member of obj whose name repeats an earlier one, or NULL. */
static const cJSON *repeated_member(struct ctx *c, const cJSON *obj,
				    size_t n, int *rc)
{
	const cJSON *m, *found = NULL;
	struct keyed *k;
	size_t i = 0, dup, first = 0;

	*rc = 0;
	if (n < 2)
		return NULL;
	k = gb_malloc(n * sizeof *k);
	if (!k) {
		*rc = nomem(c);
		return NULL;
	}
	cJSON_ArrayForEach(m, obj) {
		k[i].a = m->string;
		k[i].b = "";
		k[i].t = 0;
		k[i].idx = i;
		i++;
	}
	dup = first_repeat(k, n, &first);
	gb_free(k);
	i = 0;
	cJSON_ArrayForEach(m, obj)
		if (i++ == dup)
			found = m;
	return found;
}

/* "reserved": {"1y": price, "3y": price, ...} at the current path. */
static int read_reserved(struct ctx *c, const cJSON *obj, gb_gpu_rate *r)
{
	const cJSON *m, *dup;
	size_t n = 0, i = 0;
	int rc;

	if (!cJSON_IsObject(obj))
		return schema(c, "expected an object mapping terms to prices, like {\"1y\": \"1.625\"}, got %s",
			      type_name(obj));
	cJSON_ArrayForEach(m, obj)
		n++;
	if (n == 0)
		return schema(c, "must name at least one term, like {\"1y\": \"1.625\"}");
	dup = repeated_member(c, obj, n, &rc);
	if (rc)
		return rc;
	if (dup) {
		path_key(c, dup->string);
		return schema(c, "duplicate key '%s'", dup->string);
	}
	r->reserved = gb_calloc(n, sizeof *r->reserved);
	if (!r->reserved)
		return nomem(c);
	for (i = 0; i < n; i++)
		price_init(&r->reserved[i].price);
	r->nreserved = n;
	i = 0;
	cJSON_ArrayForEach(m, obj) {
		gb_reserved_price *rp = &r->reserved[i++];

		if (!m->string[0]) {
			path_key(c, m->string);
			return schema(c, "a reserved term name must not be empty");
		}
		rp->term = gb_strdup(m->string);
		if (!rp->term)
			return nomem(c);
		rc = read_price(c, m, m->string, &rp->price);
		if (rc)
			return rc;
	}
	return 0;
}

static int read_gpu_rate(struct ctx *c, const cJSON *obj, gb_gpu_rate *r)
{
	static const char *const keys[] = {
		"sku", "region", "on_demand", "spot", "reserved"
	};
	const cJSON *v[5];
	size_t mark;
	int rc;

	rc = read_object(c, obj, keys, v, 5);
	if (!rc)
		rc = require(c, v[0], "sku");
	if (!rc)
		rc = require(c, v[1], "region");
	if (!rc)
		rc = copy_string(c, v[0], "sku", &r->sku);
	if (!rc)
		rc = copy_string(c, v[1], "region", &r->region);
	if (!rc)
		rc = read_price_opt(c, v[2], "on_demand", &r->on_demand);
	if (!rc)
		rc = read_price_opt(c, v[3], "spot", &r->spot);
	if (rc)
		return rc;
	if (v[4]) {
		mark = path_key(c, "reserved");
		rc = read_reserved(c, v[4], r);
		if (rc)
			return rc;
		path_pop(c, mark);
	}
	if (!r->on_demand && !r->spot && !r->nreserved)
		return schema(c, "a rate needs at least one price: on_demand, spot or reserved");
	return 0;
}

static int read_spot_point(struct ctx *c, const cJSON *obj, gb_spot_point *sp)
{
	static const char *const keys[] = { "sku", "region", "from", "price" };
	const cJSON *v[4];
	size_t i;
	int rc;

	rc = read_object(c, obj, keys, v, 4);
	for (i = 0; !rc && i < 4; i++)
		rc = require(c, v[i], keys[i]);
	if (!rc)
		rc = copy_string(c, v[0], "sku", &sp->sku);
	if (!rc)
		rc = copy_string(c, v[1], "region", &sp->region);
	if (!rc)
		rc = read_time(c, v[2], "from", &sp->from);
	if (!rc)
		rc = read_price(c, v[3], "price", &sp->price);
	return rc;
}

static int read_gpu_rates(struct ctx *c, const cJSON *arr, gb_version *v)
{
	size_t n, i = 0, mark = path_key(c, "rates");
	const cJSON *e;
	int rc;

	rc = array_len(c, arr, 0, &n);
	if (rc)
		return rc;
	v->gpu_rates = gb_calloc(n, sizeof *v->gpu_rates);
	if (!v->gpu_rates)
		return nomem(c);
	v->ngpu_rates = n;
	cJSON_ArrayForEach(e, arr) {
		size_t m = path_index(c, i);

		rc = read_gpu_rate(c, e, &v->gpu_rates[i++]);
		if (rc)
			return rc;
		path_pop(c, m);
	}
	path_pop(c, mark);
	return unique_gpu_rates(c, v);
}

static int read_spot_points(struct ctx *c, const cJSON *arr, gb_version *v)
{
	size_t n, i = 0, mark = path_key(c, "spot_prices");
	const cJSON *e;
	int rc;

	rc = array_len(c, arr, 0, &n);
	if (rc)
		return rc;
	v->spot_points = gb_calloc(n, sizeof *v->spot_points);
	if (!v->spot_points)
		return nomem(c);
	for (i = 0; i < n; i++)
		price_init(&v->spot_points[i].price);
	v->nspot_points = n;
	i = 0;
	cJSON_ArrayForEach(e, arr) {
		size_t m = path_index(c, i);

		rc = read_spot_point(c, e, &v->spot_points[i++]);
		if (rc)
			return rc;
		path_pop(c, m);
	}
	path_pop(c, mark);
	return sort_spot_points(c, v);
}

/* "gpu": {...} at the current path. */
static int read_gpu(struct ctx *c, const cJSON *obj, gb_version *v)
{
	static const char *const keys[] = {
		"increment_seconds", "minimum_seconds",
		"spot_interruption_free_seconds", "rates", "spot_prices"
	};
	const cJSON *val[5];
	int rc;

	rc = read_object(c, obj, keys, val, 5);
	if (!rc && val[0])
		rc = read_int(c, val[0], keys[0], 1, MAX_SECONDS,
			      &v->increment_seconds);
	if (!rc && val[1])
		rc = read_int(c, val[1], keys[1], 0, MAX_SECONDS,
			      &v->minimum_seconds);
	if (!rc && val[2])
		rc = read_int(c, val[2], keys[2], 0, MAX_SECONDS,
			      &v->spot_interruption_free_seconds);
	if (!rc)
		rc = require(c, val[3], "rates");
	if (!rc)
		rc = read_gpu_rates(c, val[3], v);
	if (!rc && val[4])
		rc = read_spot_points(c, val[4], v);
	v->has_gpu = 1;
	return rc;
}

/* --- token rates --------------------------------------------------------- */

static void token_rate_clear(gb_token_rate *r)
{
	gb_free(r->model);
	gb_free(r->region);
	price_free(r->input);
	price_free(r->cached_input);
	price_free(r->output);
}

static int read_token_rate(struct ctx *c, const cJSON *obj, gb_token_rate *r)
{
	static const char *const keys[] = {
		"model", "region", "input", "cached_input", "output"
	};
	const cJSON *v[5];
	int rc;

	rc = read_object(c, obj, keys, v, 5);
	if (!rc)
		rc = require(c, v[0], "model");
	if (!rc)
		rc = copy_string(c, v[0], "model", &r->model);
	if (!rc && v[1])
		rc = copy_string(c, v[1], "region", &r->region);
	if (!rc && !v[1] && !(r->region = gb_strdup("*")))
		rc = nomem(c);
	if (!rc)
		rc = read_price_opt(c, v[2], "input", &r->input);
	if (!rc)
		rc = read_price_opt(c, v[3], "cached_input", &r->cached_input);
	if (!rc)
		rc = read_price_opt(c, v[4], "output", &r->output);
	if (!rc && !r->input && !r->cached_input && !r->output)
		rc = schema(c, "a rate needs at least one price: input, cached_input or output");
	return rc;
}

static int read_token_rates(struct ctx *c, const cJSON *arr, gb_version *v)
{
	size_t n, i = 0, mark = path_key(c, "rates");
	const cJSON *e;
	int rc;

	rc = array_len(c, arr, 0, &n);
	if (rc)
		return rc;
	v->token_rates = gb_calloc(n, sizeof *v->token_rates);
	if (!v->token_rates)
		return nomem(c);
	v->ntoken_rates = n;
	cJSON_ArrayForEach(e, arr) {
		size_t m = path_index(c, i);

		rc = read_token_rate(c, e, &v->token_rates[i++]);
		if (rc)
			return rc;
		path_pop(c, m);
	}
	path_pop(c, mark);
	return unique_token_rates(c, v);
}

/* "tokens": {...} at the current path. */
static int read_tokens(struct ctx *c, const cJSON *obj, gb_version *v)
{
	static const char *const keys[] = { "batch_discount", "rates" };
	const cJSON *val[2];
	char shown[SHOW_BUF];
	size_t mark;
	int rc;

	rc = read_object(c, obj, keys, val, 2);
	if (!rc && val[0]) {
		rc = read_decimal(c, val[0], keys[0], v->batch_discount, "0.50");
		if (!rc && mpq_cmp_ui(v->batch_discount, 1, 1) > 0) {
			mark = path_key(c, keys[0]);
			rc = schema(c, "batch_discount must be from 0 to 1 (a fraction of the price), got \"%s\"",
				    show(shown, val[0]->valuestring));
			path_pop(c, mark);
		}
	}
	if (!rc)
		rc = require(c, val[1], "rates");
	if (!rc)
		rc = read_token_rates(c, val[1], v);
	v->has_tokens = 1;
	return rc;
}

/* --- versions ------------------------------------------------------------ */

static void version_clear(gb_version *v)
{
	size_t i;

	for (i = 0; i < v->ngpu_rates; i++)
		gpu_rate_clear(&v->gpu_rates[i]);
	gb_free(v->gpu_rates);
	for (i = 0; i < v->nspot_points; i++) {
		gb_free(v->spot_points[i].sku);
		gb_free(v->spot_points[i].region);
		price_clear(&v->spot_points[i].price);
	}
	gb_free(v->spot_points);
	for (i = 0; i < v->ntoken_rates; i++)
		token_rate_clear(&v->token_rates[i]);
	gb_free(v->token_rates);
	mpq_clear(v->batch_discount);
}

static int read_effective_from(struct ctx *c, const cJSON *val, int64_t *t)
{
	char when[GB_TIME_TEXT_MAX];
	size_t mark;
	int rc = read_time(c, val, "effective_from", t);

	if (rc || *t % 3600 == 0)
		return rc;
	gb_time_format(when, sizeof when, *t);
	mark = path_key(c, "effective_from");
	rc = schema(c, "effective_from must fall on a whole UTC hour, got %s", when);
	path_pop(c, mark);
	return rc;
}

static int read_version(struct ctx *c, const cJSON *obj, gb_version *v)
{
	static const char *const keys[] = {
		"effective_from", "description", "note", "gpu", "tokens"
	};
	const cJSON *val[5];
	const char *text = NULL;
	size_t mark;
	int rc;

	rc = read_object(c, obj, keys, val, 5);
	if (!rc)
		rc = require(c, val[0], "effective_from");
	if (!rc)
		rc = read_effective_from(c, val[0], &v->effective_from);
	if (!rc && val[1])
		rc = read_string(c, val[1], keys[1], 0, &text);
	if (!rc && val[2])
		rc = read_string(c, val[2], keys[2], 0, &text);
	if (!rc && !val[3] && !val[4])
		rc = schema(c, "a version needs \"gpu\" or \"tokens\" prices");
	if (rc)
		return rc;
	if (val[3]) {
		mark = path_key(c, "gpu");
		rc = read_gpu(c, val[3], v);
		if (rc)
			return rc;
		path_pop(c, mark);
	}
	if (val[4]) {
		mark = path_key(c, "tokens");
		rc = read_tokens(c, val[4], v);
		if (rc)
			return rc;
		path_pop(c, mark);
	}
	return 0;
}

/*
 * Put the versions in effective_from order; a date given twice is an
 * error.  A table written out of order is still valid (`gpubill validate`
 * points it out).
 */
static int sort_versions(struct ctx *c, gb_prices *p)
{
	size_t i, n = p->nversions, dup, first = 0;
	char when[GB_TIME_TEXT_MAX];
	gb_version *sorted;
	struct keyed *k;

	k = gb_malloc(n * sizeof *k);
	if (!k)
		return nomem(c);
	for (i = 0; i < n; i++) {
		k[i].a = k[i].b = "";
		k[i].t = p->versions[i].effective_from;
		k[i].idx = i;
	}
	dup = first_repeat(k, n, &first);
	if (dup < n) {
		gb_free(k);
		gb_time_format(when, sizeof when, p->versions[dup].effective_from);
		path_key(c, "versions");
		path_index(c, dup);
		path_key(c, "effective_from");
		return schema(c, "versions[%zu] is already effective from %s",
			      first, when);
	}
	sorted = gb_malloc(n * sizeof *sorted);
	if (!sorted) {
		gb_free(k);
		return nomem(c);
	}
	for (i = 0; i < n; i++)
		sorted[i] = p->versions[k[i].idx];
	gb_free(k);
	gb_free(p->versions);
	p->versions = sorted;
	return 0;
}

static int read_versions(struct ctx *c, const cJSON *arr, gb_prices *p)
{
	size_t n, i, mark = path_key(c, "versions");
	const cJSON *e;
	int rc;

	rc = array_len(c, arr, 1, &n);
	if (rc)
		return rc;
	p->versions = gb_calloc(n, sizeof *p->versions);
	if (!p->versions)
		return nomem(c);
	for (i = 0; i < n; i++) {
		mpq_init(p->versions[i].batch_discount);
		p->versions[i].increment_seconds = 1;
	}
	p->nversions = n;
	i = 0;
	cJSON_ArrayForEach(e, arr) {
		size_t m = path_index(c, i);

		rc = read_version(c, e, &p->versions[i++]);
		if (rc)
			return rc;
		path_pop(c, m);
	}
	path_pop(c, mark);
	return sort_versions(c, p);
}

/* --- the table ----------------------------------------------------------- */

/*
 * "format" is checked before anything else: handed some other gpubill file
 * (contracts, costs), the useful message is which format it is, not that
 * its keys are unknown.
 */
static int check_format(struct ctx *c, const cJSON *root)
{
	const cJSON *f = cJSON_GetObjectItemCaseSensitive(root, "format");
	char shown[SHOW_BUF];
	size_t mark;
	int rc = 0;

	if (!f)
		return schema(c, "missing required key 'format' (a pricing table starts with \"format\": \"" FORMAT_NAME "\")");
	mark = path_key(c, "format");
	if (!cJSON_IsString(f))
		rc = schema(c, "expected the string \"" FORMAT_NAME "\", got %s",
			    type_name(f));
	else if (strcmp(f->valuestring, FORMAT_NAME) != 0)
		rc = schema(c, "unsupported format \"%s\" (this version of gpubill reads \"" FORMAT_NAME "\")",
			    show(shown, f->valuestring));
	if (!rc)
		path_pop(c, mark);
	return rc;
}

static int read_currency(struct ctx *c, const cJSON *val, gb_prices *p)
{
	char shown[SHOW_BUF];
	const char *s = NULL;
	size_t mark;
	int rc = read_string(c, val, "currency", 0, &s);

	if (rc)
		return rc;
	if (strlen(s) == 3 && s[0] >= 'A' && s[0] <= 'Z' && s[1] >= 'A' &&
	    s[1] <= 'Z' && s[2] >= 'A' && s[2] <= 'Z') {
		memcpy(p->currency, s, 4);
		return 0;
	}
	mark = path_key(c, "currency");
	rc = schema(c, "expected a three-letter upper-case ISO 4217 code like \"USD\", got \"%s\"",
		    show(shown, s));
	path_pop(c, mark);
	return rc;
}

static int read_rounding(struct ctx *c, const cJSON *val, gb_prices *p)
{
	const char *names[4];
	const char *s = NULL;
	size_t mark, i;
	int rc = read_string(c, val, "rounding", 0, &s);

	if (rc || gb_rounding_parse(&p->rounding, s) == 0)
		return rc;
	for (i = 0; i < 4; i++)
		names[i] = gb_rounding_name((gb_rounding)i);
	mark = path_key(c, "rounding");
	rc = not_one_of(c, "rounding mode", s, names, 4);
	path_pop(c, mark);
	return rc;
}

static int read_table(struct ctx *c, const cJSON *root, gb_prices *p)
{
	static const char *const keys[] = {
		"format", "name", "description", "currency", "minor_units",
		"rounding", "versions"
	};
	const cJSON *v[7];
	const char *text = NULL;
	int64_t units = 2;
	int rc;

	rc = check_format(c, root);
	if (!rc)
		rc = read_object(c, root, keys, v, 7);
	if (!rc)
		rc = require(c, v[1], "name");
	if (!rc)
		rc = copy_string(c, v[1], "name", &p->name);
	if (!rc && v[2])
		rc = read_string(c, v[2], "description", 0, &text);
	if (!rc)
		rc = require(c, v[3], "currency");
	if (!rc)
		rc = read_currency(c, v[3], p);
	if (!rc && v[4])
		rc = read_int(c, v[4], "minor_units", 0, 6, &units);
	p->minor_units = (unsigned)units;
	if (!rc && v[5])
		rc = read_rounding(c, v[5], p);
	if (!rc)
		rc = require(c, v[6], "versions");
	if (!rc)
		rc = read_versions(c, v[6], p);
	return rc;
}

int gb_prices_load(gb_prices **out, const char *data, size_t len,
		   const char *source, gb_error *err)
{
	struct ctx c = { .err = err, .source = source ? source : "" };
	cJSON *root = NULL;
	gb_prices *p;
	int rc;

	gb_error_clear(err);
	if (!out || (!data && len))
		return gb_error_set(err, GB_EINVAL, "gb_prices_load: no output or no data");
	*out = NULL;
	rc = parse_json(&c, data ? data : "", len, &root);
	if (rc)
		return rc;
	p = gb_calloc(1, sizeof *p);
	if (!p) {
		cJSON_Delete(root);
		return nomem(&c);
	}
	p->minor_units = 2;
	p->rounding = GB_ROUND_HALF_EVEN;
	p->source = gb_strdup(c.source);
	rc = p->source ? read_table(&c, root, p) : nomem(&c);
	cJSON_Delete(root);
	if (rc) {
		gb_prices_free(p);
		return rc;
	}
	*out = p;
	return 0;
}

void gb_prices_free(gb_prices *prices)
{
	size_t i;

	if (!prices)
		return;
	for (i = 0; i < prices->nversions; i++)
		version_clear(&prices->versions[i]);
	gb_free(prices->versions);
	gb_free(prices->name);
	gb_free(prices->source);
	gb_free(prices);
}

/* --- accessors and lookups ----------------------------------------------- */

const char *gb_prices_name(const gb_prices *prices)
{
	return prices ? prices->name : NULL;
}

const char *gb_prices_currency(const gb_prices *prices)
{
	return prices ? prices->currency : NULL;
}

unsigned gb_prices_minor_units(const gb_prices *prices)
{
	return prices ? prices->minor_units : 0;
}

gb_rounding gb_prices_rounding(const gb_prices *prices)
{
	return prices ? prices->rounding : GB_ROUND_HALF_EVEN;
}

size_t gb_prices_version_count(const gb_prices *prices)
{
	return prices ? prices->nversions : 0;
}

long gb_prices_version_at(const gb_prices *p, int64_t t)
{
	size_t lo = 0, hi = p->nversions;

	/* Find the first version starting after t; the one before applies. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (p->versions[mid].effective_from <= t)
			lo = mid + 1;
		else
			hi = mid;
	}
	return (long)lo - 1;
}

const gb_gpu_rate *gb_version_gpu_rate(const gb_version *v, const char *sku,
				       const char *region)
{
	const gb_gpu_rate *wild = NULL;
	size_t i;

	for (i = 0; i < v->ngpu_rates; i++) {
		const gb_gpu_rate *r = &v->gpu_rates[i];

		if (strcmp(r->sku, sku) != 0)
			continue;
		if (region && strcmp(r->region, region) == 0)
			return r;
		if (strcmp(r->region, "*") == 0)
			wild = r;
	}
	return wild;
}

const gb_token_rate *gb_version_token_rate(const gb_version *v,
					   const char *model,
					   const char *region)
{
	const gb_token_rate *wild = NULL;
	size_t i;

	for (i = 0; i < v->ntoken_rates; i++) {
		const gb_token_rate *r = &v->token_rates[i];

		if (strcmp(r->model, model) != 0)
			continue;
		if (region && strcmp(r->region, region) == 0)
			return r;
		if (strcmp(r->region, "*") == 0)
			wild = r;
	}
	return wild;
}

const gb_price *gb_gpu_rate_reserved(const gb_gpu_rate *r, const char *term)
{
	size_t i;

	for (i = 0; i < r->nreserved; i++)
		if (strcmp(r->reserved[i].term, term) == 0)
			return &r->reserved[i].price;
	return NULL;
}
