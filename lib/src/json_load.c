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

/* --- collect mode: where each element is ------------------------------- */

/*
 * In collect mode gb_json_parse keeps a copy of the document and the line
 * and column of each element (of its key, for a member), found by walking
 * the text alongside the tree: cJSON keeps no positions.  A finding's path
 * is looked up in the copy, so the positions serve findings made after the
 * loader has freed its own tree too.
 */
struct where_entry {
	const cJSON *node;       /* in the copy */
	uint64_t line, column;
	char *number;            /* a number's text as written, or NULL */
};

struct gb_json_where {
	cJSON *tree;
	struct where_entry *e;   /* sorted by node once built */
	size_t n, cap;
	/* The last array element looked up at each depth: findings come
	 * much in file order, so the next is usually further on in the same
	 * array. */
	struct {
		const cJSON *array, *elem;
		size_t index;
	} last[8];
};

typedef struct walker {
	const char *d;
	size_t len, i;
	uint64_t line, column;
	struct gb_json_where *w;
} walker;

static int is_space(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r';
}

static void w_advance(walker *k)
{
	unsigned char ch = (unsigned char)k->d[k->i++];

	if (ch == '\n') {
		k->line++;
		k->column = 1;
	} else if ((ch & 0xC0) != 0x80) {
		k->column++;
	}
}

/* cJSON takes any byte up to 32 for white space, and so must the walk. */
static int w_is_space(char ch)
{
	return (unsigned char)ch <= 32;
}

static void w_space(walker *k)
{
	while (k->i < k->len && w_is_space(k->d[k->i]))
		w_advance(k);
}

static int w_expect(walker *k, char ch)
{
	w_space(k);
	if (k->i >= k->len || k->d[k->i] != ch)
		return -1;
	w_advance(k);
	return 0;
}

static int w_string(walker *k)
{
	if (k->i >= k->len || k->d[k->i] != '"')
		return -1;
	w_advance(k);
	while (k->i < k->len) {
		char ch = k->d[k->i];

		w_advance(k);
		if (ch == '\\') {
			if (k->i < k->len)
				w_advance(k);
		} else if (ch == '"') {
			return 0;
		}
	}
	return -1;
}

static int w_record(walker *k, const cJSON *node)
{
	struct gb_json_where *w = k->w;

	if (w->n == w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 64;
		struct where_entry *e = gb_realloc(w->e, cap * sizeof *e);

		if (!e)
			return -1;
		w->e = e;
		w->cap = cap;
	}
	w->e[w->n].node = node;
	w->e[w->n].line = k->line;
	w->e[w->n].column = k->column;
	w->e[w->n].number = NULL;
	w->n++;
	return 0;
}

/* The value node at the walker; record says to note where it starts. */
static int w_value(walker *k, const cJSON *node, int record)
{
	const cJSON *m;
	size_t start;

	w_space(k);
	if (k->i >= k->len || (record && w_record(k, node)))
		return -1;
	if (cJSON_IsObject(node)) {
		if (w_expect(k, '{'))
			return -1;
		for (m = node->child; m; m = m->next) {
			if (m != node->child && w_expect(k, ','))
				return -1;
			w_space(k);
			if (w_record(k, m) || w_string(k) || w_expect(k, ':') ||
			    w_value(k, m, 0))
				return -1;
		}
		return w_expect(k, '}');
	}
	if (cJSON_IsArray(node)) {
		if (w_expect(k, '['))
			return -1;
		for (m = node->child; m; m = m->next)
			if ((m != node->child && w_expect(k, ',')) ||
			    w_value(k, m, 1))
				return -1;
		return w_expect(k, ']');
	}
	if (cJSON_IsString(node))
		return w_string(k);
	start = k->i;
	while (k->i < k->len && !w_is_space(k->d[k->i]) && k->d[k->i] != ',' &&
	       k->d[k->i] != ']' && k->d[k->i] != '}')
		w_advance(k);
	/* The node's entry is the last one made: a scalar has no children. */
	if (cJSON_IsNumber(node) && k->w->n && k->w->e[k->w->n - 1].node == node)
		k->w->e[k->w->n - 1].number = gb_strndup(k->d + start,
							 k->i - start);
	return 0;
}

static int entry_cmp(const void *px, const void *py)
{
	uintptr_t x = (uintptr_t)((const struct where_entry *)px)->node;
	uintptr_t y = (uintptr_t)((const struct where_entry *)py)->node;

	return (x > y) - (x < y);
}

static void where_free(struct gb_json_where *w)
{
	size_t i;

	if (!w)
		return;
	for (i = 0; i < w->n; i++)
		gb_free(w->e[i].number);
	gb_free(w->e);
	cJSON_Delete(w->tree);
	gb_free(w);
}

/*
 * Positions for root, parsed from data[0..len).  Best effort: without
 * memory, or should the walk lose its way, findings just have no line.
 */
static struct gb_json_where *where_build(const char *data, size_t len,
					 const cJSON *root)
{
	struct gb_json_where *w = gb_calloc(1, sizeof *w);
	walker k;

	if (!w)
		return NULL;
	w->tree = cJSON_Duplicate(root, 1);
	if (!w->tree) {
		gb_free(w);
		return NULL;
	}
	k.d = data;
	k.len = len;
	k.i = 0;
	k.line = 1;
	k.column = 1;
	k.w = w;
	/* A byte order mark is not a character anyone sees. */
	if (len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0)
		k.i = 3;
	(void)w_value(&k, w->tree, 1);
	if (w->n)
		qsort(w->e, w->n, sizeof *w->e, entry_cmp);
	return w;
}

void gb_json_ctx_release(gb_json_ctx *c)
{
	where_free(c->where);
	c->where = NULL;
}

static const cJSON *member_named(const cJSON *obj, const char *key, size_t n)
{
	const cJSON *m;

	if (!cJSON_IsObject(obj))
		return NULL;
	cJSON_ArrayForEach(m, obj)
		if (m->string && strlen(m->string) == n &&
		    memcmp(m->string, key, n) == 0)
			return m;
	return NULL;
}

static const cJSON *nth_child(const cJSON *node, size_t i)
{
	const cJSON *m = node ? node->child : NULL;

	while (m && i--)
		m = m->next;
	return m;
}

/*
 * Element i of array arr, at depth in a path: from the last one found at
 * that depth when it can.
 */
static const cJSON *element(struct gb_json_where *w, size_t depth,
			    const cJSON *arr, size_t i)
{
	const size_t slots = sizeof w->last / sizeof w->last[0];
	const cJSON *m = arr->child;
	size_t at = 0, d = depth < slots ? depth : slots - 1;

	if (w->last[d].array == arr && w->last[d].elem &&
	    w->last[d].index <= i) {
		m = w->last[d].elem;
		at = w->last[d].index;
	}
	for (; m && at < i; at++)
		m = m->next;
	if (m) {
		w->last[d].array = arr;
		w->last[d].elem = m;
		w->last[d].index = i;
	}
	return m;
}

/*
 * The element at path (as gb_json_path_key and gb_json_path_index write
 * them), or the deepest one on the way that exists.  member_at, when not
 * 0, picks the last member by position: a repeated key names two.
 */
static const cJSON *resolve(struct gb_json_where *w, const char *p,
			    size_t member_at)
{
	const cJSON *node = w->tree;
	size_t depth = 0;

	while (*p && node) {
		const cJSON *next = NULL, *parent = node;
		int is_key = 1;

		if (p[0] == '[' && p[1] == '"') {
			const char *key = p + 2, *end = strstr(key, "\"]");

			if (!end)
				break;
			p = end + 2;
			next = member_named(parent, key, (size_t)(end - key));
		} else if (p[0] == '[') {
			size_t i = 0;

			is_key = 0;
			for (p++; *p >= '0' && *p <= '9'; p++)
				i = i * 10 + (size_t)(*p - '0');
			if (*p != ']')
				break;
			p++;
			next = cJSON_IsArray(parent) ? element(w, depth, parent, i)
						     : NULL;
		} else {
			size_t n;

			if (*p == '.')
				p++;
			n = strcspn(p, ".[");
			next = member_named(parent, p, n);
			p += n;
		}
		if (is_key && !*p && member_at && cJSON_IsObject(parent))
			next = nth_child(parent, member_at - 1);
		if (!next)
			break;
		node = next;
		depth++;
	}
	return node;
}

static const struct where_entry *entry_at(const gb_json_ctx *c,
					  const char *path)
{
	struct where_entry key;

	if (!c->where || !c->where->n)
		return NULL;
	key.node = resolve(c->where, path, c->member_at);
	return bsearch(&key, c->where->e, c->where->n, sizeof key, entry_cmp);
}

const char *gb_json_number_text(const gb_json_ctx *c)
{
	const struct where_entry *e = entry_at(c, c->path);

	return e ? e->number : NULL;
}

void gb_json_locate(const gb_json_ctx *c, const char *path, uint64_t *line,
		    uint64_t *column)
{
	const struct where_entry *e = entry_at(c, path);

	*line = e ? e->line : 0;
	*column = e ? e->column : 0;
}

/* --- reporting ----------------------------------------------------------- */

static int vreport(gb_json_ctx *c, int code, const char *kind,
		   const char *note, const char *hint, uint64_t line,
		   uint64_t column, const char *fmt, va_list ap)
	GB_PRINTF(8, 0);

/*
 * The one place problems go.  Normal mode: err gets the message (with
 * " (note)") and the code is returned.  Collect mode, for a schema or
 * syntax problem: the callback gets a finding and the code is returned
 * (callers decide whether reading goes on); other codes go to err as in
 * normal mode.  line is 0 to look the position up from the path.
 */
static int vreport(gb_json_ctx *c, int code, const char *kind,
		   const char *note, const char *hint, uint64_t line,
		   uint64_t column, const char *fmt, va_list ap)
{
	char msg[GB_ERROR_MESSAGE_MAX];
	gb_finding f;
	int rc;

	if (!c->collect || (code != GB_ESCHEMA && code != GB_ESYNTAX)) {
		if (note) {
			vsnprintf(msg, sizeof msg, fmt, ap);
			gb_error_set(c->err, code, "%s (%s)", msg, note);
		} else {
			gb_error_vset(c->err, code, fmt, ap);
		}
		gb_error_set_source(c->err, c->source);
		gb_error_set_path(c->err, c->path);
		if (line && c->err) {
			c->err->line = line;
			c->err->column = column;
		}
		return code;
	}
	vsnprintf(msg, sizeof msg, fmt, ap);
	f.severity = GB_SEVERITY_ERROR;
	f.code = kind;
	f.source = c->source;
	f.path = c->path;
	f.line = line;
	f.column = column;
	if (!line)
		gb_json_locate(c, c->path, &f.line, &f.column);
	f.message = msg;
	f.hint = hint ? hint : note ? note : "";
	rc = c->collect(&f, c->collect_payload);
	if (rc) {
		if (rc > 0 || rc < GB_EABORT)
			rc = GB_EABORT;
		gb_error_set(c->err, rc, "%s", gb_strerror(rc));
		gb_error_set_source(c->err, c->source);
		return rc;
	}
	c->nerrors++;
	return code;
}

static int report(gb_json_ctx *c, int code, const char *kind,
		  const char *note, const char *hint, const char *fmt, ...)
	GB_PRINTF(6, 7);

static int report(gb_json_ctx *c, int code, const char *kind,
		  const char *note, const char *hint, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = vreport(c, code, kind, note, hint, 0, 0, fmt, ap);
	va_end(ap);
	return rc;
}

/* What a reader returns after reporting: in collect mode it goes on. */
static int soft(const gb_json_ctx *c, int rc)
{
	return c->collect && rc == GB_ESCHEMA ? 0 : rc;
}

/* The same, putting the path back to mark when it goes on. */
static int soft_pop(gb_json_ctx *c, int rc, size_t mark)
{
	if (c->collect && rc == GB_ESCHEMA) {
		gb_json_path_pop(c, mark);
		return 0;
	}
	return rc;
}

int gb_json_recover(gb_json_ctx *c, int rc, size_t mark)
{
	return soft_pop(c, rc, mark);
}

/*
 * Loaders that do not name their problems: a code from the message's
 * first words, and a trailing "(...)" as the hint.
 */
static const char *guess_code(const char *msg)
{
	if (strncmp(msg, "missing required key", 20) == 0)
		return "missing_key";
	if (strncmp(msg, "unsupported format", 18) == 0)
		return "bad_format";
	if (strncmp(msg, "duplicate ", 10) == 0 ||
	    strncmp(msg, "repeated ", 9) == 0)
		return "duplicate_entry";
	return "invalid_value";
}

int gb_json_vfail(gb_json_ctx *c, int code, const char *fmt, va_list ap)
{
	char msg[GB_ERROR_MESSAGE_MAX];
	size_t n, i;
	int depth = 0;

	if (!c->collect || code != GB_ESCHEMA)
		return vreport(c, code, "syntax_error", NULL, NULL, 0, 0, fmt,
			       ap);
	vsnprintf(msg, sizeof msg, fmt, ap);
	n = strlen(msg);
	/* Split "what (hint)" at the '(' matching the final ')'. */
	if (n && msg[n - 1] == ')') {
		for (i = n; i-- > 0;) {
			if (msg[i] == ')')
				depth++;
			else if (msg[i] == '(' && --depth == 0)
				break;
		}
		if (depth == 0 && i != (size_t)-1 && i > 1 && msg[i - 1] == ' ') {
			msg[n - 1] = '\0';
			msg[i - 1] = '\0';
			return soft(c, report(c, code, guess_code(msg), NULL,
					      msg + i + 1, "%s", msg));
		}
	}
	return soft(c, report(c, code, guess_code(msg), NULL, NULL, "%s", msg));
}

/* Report a problem of kind code at the current path; returns code. */
int gb_json_fail(gb_json_ctx *c, int code, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = gb_json_vfail(c, code, fmt, ap);
	va_end(ap);
	return rc;
}

/* Report a schema problem at the current path; returns GB_ESCHEMA. */
int gb_json_schema(gb_json_ctx *c, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = gb_json_vfail(c, GB_ESCHEMA, fmt, ap);
	va_end(ap);
	return rc;
}

int gb_json_nomem(gb_json_ctx *c)
{
	return gb_json_fail(c, GB_ENOMEM, "out of memory");
}

int gb_json_report(gb_json_ctx *c, const char *code, const char *note,
		   const char *hint, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = vreport(c, GB_ESCHEMA, code, note, hint, 0, 0, fmt, ap);
	va_end(ap);
	return soft(c, rc);
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

/* The same, returning GB_ESCHEMA in collect mode too. */
static int not_one_of(gb_json_ctx *c, const char *what, const char *s,
		      const char *const *names, size_t n)
{
	char shown[GB_JSON_SHOW_BUF], list[256], note[320];
	const char *guess = closest(s, names, n);
	const char *code = strcmp(what, "key") == 0 ? "unknown_key"
						   : "unknown_value";

	if (guess)
		snprintf(note, sizeof note, "did you mean '%s'?", guess);
	else
		snprintf(note, sizeof note, "expected one of: %s",
			 gb_json_name_list(list, sizeof list, names, n));
	return report(c, GB_ESCHEMA, code, note, NULL, "unknown %s '%s'", what,
		      gb_json_show(shown, s));
}

/* Report value s as not one of names, suggesting the closest. */
int gb_json_not_one_of(gb_json_ctx *c, const char *what, const char *s,
		       const char *const *names, size_t n)
{
	return soft(c, not_one_of(c, what, s, names, n));
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
		     const char *note, const char *hint, const char *fmt, ...)
	GB_PRINTF(6, 7);

/*
 * Report a syntax problem at byte pos of the input (with " (note)" in
 * normal mode); GB_ESYNTAX in either mode: parsing cannot go on.
 */
static int syntax_at(gb_json_ctx *c, const char *data, size_t pos,
		     const char *note, const char *hint, const char *fmt, ...)
{
	uint64_t line, column;
	va_list ap;
	int rc;

	position(data, pos, &line, &column);
	va_start(ap, fmt);
	rc = vreport(c, GB_ESYNTAX, "syntax_error", note, hint, line, column,
		     fmt, ap);
	va_end(ap);
	return rc;
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
		return syntax_at(c, data, 0, NULL, "save the file as UTF-8",
				 "the file is UTF-16; %s must be UTF-8", c->kind);
	for (i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)data[i];

		if (ch == '\0')
			return syntax_at(c, data, i, NULL, NULL, "NUL byte in the input (%s is UTF-8 JSON text)",
					 c->kind);
		if (in_string) {
			if (ch == '\\') {
				if (is_u0000(data + i + 1, len - i - 1))
					return syntax_at(c, data, i, NULL, NULL, "\\u0000 is not allowed in a string");
				i++;	/* skip the escaped character */
			} else if (ch == '"') {
				in_string = 0;
			} else if (ch < 0x20) {
				return syntax_at(c, data, i, "write it as an escape such as \\n", NULL,
						 "control character in a string");
			}
		} else if (ch == '"') {
			in_string = 1;
			*open_string = i;
		} else if (ch == '[' || ch == '{') {
			if (++depth > MAX_DEPTH)
				return syntax_at(c, data, i, NULL, NULL, "JSON nested more than %d levels deep", MAX_DEPTH);
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
		return syntax_at(c, data, len, "is the file truncated?", NULL,
				 "unexpected end of input");
	pos = key_fixup(data, pos);
	return syntax_at(c, data, pos, NULL,
			 "look for a missing comma, colon, quote or bracket here or just before",
			 "JSON syntax error near '%s'",
			 snippet(shown, data, len, pos));
}

static int schema_at(gb_json_ctx *c, uint64_t line, uint64_t column,
		     const char *kind, const char *hint, const char *fmt, ...)
	GB_PRINTF(6, 7);

/*
 * A schema problem at a known position: in the finding only (normal mode
 * keeps its messages without a line, as they always were).
 */
static int schema_at(gb_json_ctx *c, uint64_t line, uint64_t column,
		     const char *kind, const char *hint, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = vreport(c, GB_ESCHEMA, kind, NULL, hint, c->collect ? line : 0,
		     column, fmt, ap);
	va_end(ap);
	return rc;
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

	if (c->collect)
		gb_json_ctx_release(c);
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
		return syntax_at(c, data, pos, NULL,
				 "a file holds one JSON object: remove what follows it",
				 "unexpected text after the JSON value: '%s'",
				 snippet(shown, data, len, pos));
	}
	if (!cJSON_IsObject(root)) {
		uint64_t line, column;

		position(data, skip_space(data, len, 0), &line, &column);
		rc = schema_at(c, line, column, "wrong_type",
			       "the file must be one JSON object: {\"format\": ...}",
			       "expected a JSON object at the top level, got %s",
			       gb_json_type_name(root));
		cJSON_Delete(root);
		return rc;
	}
	if (c->collect) {
		gb_json_ctx_release(c);
		c->where = where_build(data, len, root);
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
 * In collect mode every one is reported and skipped (the first of a
 * repeated key is the one read), except that a misspelt key whose likely
 * meaning is absent is read as that key: "on_demnd" is reported once, not
 * also as a missing "on_demand", and its value is still checked.
 */
int gb_json_read_object(gb_json_ctx *c, const cJSON *obj,
			const char *const *keys, const cJSON **val, size_t n)
{
	char hint[GB_JSON_SHOW_BUF + 64];
	struct { size_t key; const cJSON *m; } guess[16];
	const cJSON *m;
	size_t i, j, mark, ord = 0, nguess = 0;
	int rc;

	for (i = 0; i < n; i++)
		val[i] = NULL;
	if (!cJSON_IsObject(obj)) {
		if (c->collect && !obj)
			return GB_ESCHEMA;	/* missing: already reported */
		return report(c, GB_ESCHEMA, "wrong_type", NULL,
			      "write it as a JSON object: {...}",
			      "expected an object, got %s",
			      gb_json_type_name(obj));
	}
	cJSON_ArrayForEach(m, obj) {
		const char *meant;

		i = key_index(keys, n, m->string);
		if (i < n && !val[i]) {
			val[i] = m;
			ord++;
			continue;
		}
		mark = gb_json_path_key(c, m->string);
		c->member_at = ++ord;
		if (i < n) {
			snprintf(hint, sizeof hint, "keep one '%s' and remove the other: only one value can count",
				 keys[i]);
			rc = report(c, GB_ESCHEMA, "duplicate_key", NULL, hint,
				    "duplicate key '%s'", keys[i]);
		} else {
			rc = not_one_of(c, "key", m->string, keys, n);
			meant = closest(m->string, keys, n);
			if (meant && nguess < sizeof guess / sizeof guess[0]) {
				guess[nguess].key = key_index(keys, n, meant);
				guess[nguess++].m = m;
			}
		}
		c->member_at = 0;
		rc = soft_pop(c, rc, mark);
		if (rc)
			return rc;
	}
	/* Collect mode only: normal mode stopped at the first. */
	for (i = 0; i < nguess; i++) {
		int alone = !val[guess[i].key];

		for (j = 0; j < nguess && alone; j++)
			alone = j == i || guess[j].key != guess[i].key;
		if (alone)
			val[guess[i].key] = guess[i].m;
	}
	return 0;
}

int gb_json_require(gb_json_ctx *c, const cJSON *val, const char *key)
{
	char hint[GB_JSON_SHOW_BUF + 32];

	if (val)
		return 0;
	snprintf(hint, sizeof hint, "add a \"%s\" member", key);
	return soft(c, report(c, GB_ESCHEMA, "missing_key", NULL, hint,
			      "missing required key '%s'", key));
}

/* gb_json_array_len, returning GB_ESCHEMA in collect mode too. */
static int array_len(gb_json_ctx *c, const cJSON *arr, int nonempty,
		     size_t *n)
{
	const cJSON *e;

	*n = 0;
	if (!cJSON_IsArray(arr))
		return report(c, GB_ESCHEMA, "wrong_type", NULL,
			      "write it as a JSON array: [...]",
			      "expected an array, got %s",
			      gb_json_type_name(arr));
	cJSON_ArrayForEach(e, arr)
		(*n)++;
	if (nonempty && *n == 0)
		return report(c, GB_ESCHEMA, "empty", NULL,
			      "give at least one element",
			      "must not be empty");
	return 0;
}

/* Count the elements of arr, which must be an array. */
int gb_json_array_len(gb_json_ctx *c, const cJSON *arr, int nonempty,
		      size_t *n)
{
	if (c->collect && !arr) {
		*n = 0;
		return 0;
	}
	return soft(c, array_len(c, arr, nonempty, n));
}

/* --- scalar values ------------------------------------------------------- */

/* The string member val (named key); *out points into the cJSON tree. */
int gb_json_read_string(gb_json_ctx *c, const cJSON *val, const char *key,
			int nonempty, const char **out)
{
	size_t mark;

	if (c->collect && !val)
		return 0;
	mark = gb_json_path_key(c, key);
	if (!cJSON_IsString(val))
		return soft_pop(c, report(c, GB_ESCHEMA, "wrong_type", NULL,
					  "write it in double quotes: \"...\"",
					  "expected a string, got %s",
					  gb_json_type_name(val)), mark);
	if (nonempty && !val->valuestring[0])
		return soft_pop(c, report(c, GB_ESCHEMA, "empty", NULL, NULL,
					  "must not be empty"), mark);
	*out = val->valuestring;
	gb_json_path_pop(c, mark);
	return 0;
}

int gb_json_copy_string(gb_json_ctx *c, const cJSON *val, const char *key,
			char **out)
{
	const char *s = NULL;
	int rc = gb_json_read_string(c, val, key, 1, &s);

	if (rc || !s)
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
	char shown[GB_JSON_SHOW_BUF], note[GB_JSON_SHOW_BUF + 32];
	size_t mark;
	int rc;

	if (c->collect && !val)
		return 0;
	mark = gb_json_path_key(c, key);
	if (cJSON_IsString(val) && all_digits(val->valuestring)) {
		snprintf(note, sizeof note, "write %s without quotes",
			 gb_json_show(shown, val->valuestring));
		rc = report(c, GB_ESCHEMA, "integer_as_string", note, NULL,
			    "expected an integer, got a string");
		return soft_pop(c, rc, mark);
	}
	if (!cJSON_IsNumber(val))
		return soft_pop(c, report(c, GB_ESCHEMA, "wrong_type", NULL,
					  "write a whole number without quotes",
					  "expected an integer, got %s",
					  gb_json_type_name(val)), mark);
	if (val->valuedouble != val->valueint || val->valueint < lo ||
	    val->valueint > hi)
		return soft_pop(c, report(c, GB_ESCHEMA, "out_of_range", NULL,
					  NULL, "expected an integer from %d to %d",
					  lo, hi), mark);
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
	char shown[GB_JSON_SHOW_BUF], hint[GB_JSON_SHOW_BUF + 48];
	const char *number;
	const char *why = NULL;
	const char *s = NULL;

	if (c->collect && !val)
		return 0;
	if (cJSON_IsNumber(val)) {
		/* The number as written, when collect mode knows it. */
		number = c->collect ? gb_json_number_text(c) : NULL;
		snprintf(hint, sizeof hint, "write it as a string: \"%s\"",
			 number ? gb_json_show(shown, number) : example);
		return soft(c, report(c, GB_ESCHEMA, "price_as_number", NULL,
				      hint, "expected a decimal string like \"%s\", got %s",
				      example, gb_json_type_name(val)));
	}
	if (!cJSON_IsString(val)) {
		snprintf(hint, sizeof hint, "write a decimal string like \"%s\"",
			 example);
		return soft(c, report(c, GB_ESCHEMA, "wrong_type", NULL, hint,
				      "expected a decimal string like \"%s\", got %s",
				      example, gb_json_type_name(val)));
	}
	s = val->valuestring;
	if (gb_decimal_parse(out, s, strlen(s), 0, &why)) {
		snprintf(hint, sizeof hint, "write a plain decimal number like \"%s\"",
			 example);
		return soft(c, report(c, GB_ESCHEMA, "bad_decimal", NULL, hint,
				      "invalid decimal \"%s\": %s",
				      gb_json_show(shown, s),
				      why ? why : "not a decimal number"));
	}
	mpq_canonicalize(out);
	return 0;
}

int gb_json_read_decimal(gb_json_ctx *c, const cJSON *val, const char *key,
			 mpq_t out, const char *example)
{
	size_t mark;
	int rc;

	if (c->collect && !val)
		return 0;
	mark = gb_json_path_key(c, key);
	rc = gb_json_decimal_here(c, val, out, example);
	if (!rc)
		gb_json_path_pop(c, mark);
	return rc;
}

/* An RFC 3339 timestamp member. */
int gb_json_read_time(gb_json_ctx *c, const cJSON *val, const char *key,
		      int64_t *out)
{
	static const char hint[] = "write it like \"2026-01-01T00:00:00Z\"";
	char shown[GB_JSON_SHOW_BUF];
	const char *why = NULL;
	const char *s = NULL;
	size_t mark;
	int64_t t;

	if (c->collect && !val)
		return 0;
	mark = gb_json_path_key(c, key);
	if (!cJSON_IsString(val))
		return soft_pop(c, report(c, GB_ESCHEMA, "wrong_type", NULL, hint,
					  "expected an RFC 3339 timestamp string like \"2026-01-01T00:00:00Z\", got %s",
					  gb_json_type_name(val)), mark);
	s = val->valuestring;
	if (gb_time_parse(&t, s, strlen(s), &why))
		return soft_pop(c, report(c, GB_ESCHEMA, "bad_timestamp", NULL,
					  hint, "invalid timestamp \"%s\": %s",
					  gb_json_show(shown, s),
					  why ? why : "not an RFC 3339 timestamp"),
				mark);
	*out = t;
	gb_json_path_pop(c, mark);
	return 0;
}

/* An RFC 3339 timestamp member that falls on a whole UTC hour. */
int gb_json_read_hour(gb_json_ctx *c, const cJSON *val, const char *key,
		      int64_t *t)
{
	char when[GB_TIME_TEXT_MAX], hour[GB_TIME_TEXT_MAX], hint[80];
	size_t mark, errors = c->nerrors;
	int64_t got = 0, floor;
	int rc = gb_json_read_time(c, val, key, &got);

	if (rc || c->nerrors != errors || !val)
		return rc;	/* a collected problem leaves *t alone */
	*t = got;
	if (got % 3600 == 0)
		return 0;
	floor = got - (got % 3600 + 3600) % 3600;
	gb_time_format(when, sizeof when, got);
	gb_time_format(hour, sizeof hour, floor);
	snprintf(hint, sizeof hint, "start at a whole hour, like \"%s\"", hour);
	mark = gb_json_path_key(c, key);
	rc = report(c, GB_ESCHEMA, "not_on_hour", NULL, hint,
		    "%s must fall on a whole UTC hour, got %s", key, when);
	gb_json_path_pop(c, mark);
	return soft(c, rc);
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
int gb_json_permute(void **arr, size_t n, size_t size, gb_json_keyed *k)
{
	char *sorted = gb_malloc(n ? n * size : 1);
	size_t i;

	if (!sorted)
		return GB_ENOMEM;
	for (i = 0; i < n; i++)
		memcpy(sorted + i * size, (char *)*arr + k[i].idx * size, size);
	gb_free(k);
	gb_free(*arr);
	*arr = sorted;
	return 0;
}

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

static int keyless(const gb_json_keyed *x)
{
	return !x->a || !x->b;
}

/* keyed_cmp, with entries that have no key first (by idx). */
static int keyed_cmp_keyless(const void *px, const void *py)
{
	const gb_json_keyed *x = px, *y = py;

	if (keyless(x) || keyless(y)) {
		if (keyless(x) != keyless(y))
			return keyless(x) ? -1 : 1;
		return (x->idx > y->idx) - (x->idx < y->idx);
	}
	return keyed_cmp(px, py);
}

void gb_json_find_repeats(gb_json_keyed *k, size_t n, size_t *first)
{
	size_t i, run = 0;

	if (n)
		qsort(k, n, sizeof *k, keyed_cmp_keyless);
	for (i = 0; i < n; i++) {
		if (i == 0 || keyless(&k[i]) || keyless(&k[i - 1]) ||
		    !same_key(&k[i - 1], &k[i]))
			run = i;
		first[k[i].idx] = k[run].idx;
	}
}

int gb_json_read_array(gb_json_ctx *c, const cJSON *arr, int nonempty,
		       size_t size, void **out, size_t *count,
		       gb_json_init_fn init, gb_json_elem_fn fn, void *arg)
{
	const cJSON *e;
	size_t n, i;
	char *a;
	int rc;

	if (c->collect && !arr)
		return 0;
	rc = array_len(c, arr, nonempty, &n);
	if (rc && !(c->collect && rc == GB_ESCHEMA && cJSON_IsArray(arr)))
		return soft(c, rc);
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

		rc = soft_pop(c, fn(c, arg, e, a + i * size, i), m);
		if (rc)
			return rc;
		gb_json_path_pop(c, m);
		i++;
	}
	return 0;
}
