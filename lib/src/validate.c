/*
 * validate.c - gpubill validate: every problem of pricing tables,
 * contracts and cost bases, and warnings about valid content that looks
 * wrong.
 *
 * The files are read by their own loaders in collect mode (json_load.h):
 * each problem arrives here as a finding, and the loader goes on and
 * returns the model as far as it could read it, with what it could not
 * read marked.  The warnings are then computed on that model, skipping
 * the marked parts, so a file with errors still gets its warnings.  The
 * JSON paths of warnings use the file's own indexes (versions[i] as
 * written, not as sorted), and their line and column are looked up in the
 * parsed document like the loaders' own.
 */
#include "internal.h"
#include "contracts_internal.h"
#include "costs_internal.h"
#include "invoice_internal.h"
#include "json_load.h"
#include "prices_internal.h"

#include <gpubill/money.h>
#include <gpubill/timestamp.h>
#include <gpubill/validate.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A finding with its own copies of the strings, and where it came from. */
typedef struct rec {
	gb_finding f;
	char *text;          /* code, path, message and hint, NUL-separated */
	size_t file;
	size_t seq;          /* arrival order: the last sort key */
} rec;

typedef struct vfile {
	char *source;
	gb_validate_kind kind;
	size_t errors, warnings;
	int not_json;
} vfile;

/* A pricing table read without errors: contracts and costs meet it. */
typedef struct table {
	gb_prices *prices;
	const char *source;
} table;

struct gb_validator {
	rec *f;
	size_t n, cap;
	vfile *files;
	size_t nfiles;
	table *tables;
	size_t ntables;
	size_t errors, warnings;
};

const char *gb_severity_name(gb_severity severity)
{
	return severity == GB_SEVERITY_WARNING ? "warning" : "error";
}

const char *gb_validate_kind_name(gb_validate_kind kind)
{
	switch (kind) {
	case GB_VALIDATE_CONTRACTS: return "contracts";
	case GB_VALIDATE_COSTS: return "costs";
	default: return "pricing table";
	}
}

int gb_validator_new(gb_validator **out, gb_error *err)
{
	gb_error_clear(err);
	if (!out)
		return gb_error_set(err, GB_EINVAL, "gb_validator_new: no output");
	*out = gb_calloc(1, sizeof **out);
	if (!*out)
		return gb_error_set(err, GB_ENOMEM, "out of memory");
	return 0;
}

void gb_validator_free(gb_validator *v)
{
	size_t i;

	if (!v)
		return;
	for (i = 0; i < v->n; i++)
		gb_free(v->f[i].text);
	gb_free(v->f);
	for (i = 0; i < v->nfiles; i++)
		gb_free(v->files[i].source);
	gb_free(v->files);
	for (i = 0; i < v->ntables; i++)
		gb_prices_free(v->tables[i].prices);
	gb_free(v->tables);
	gb_free(v);
}

/* --- findings ------------------------------------------------------------ */

/* Record a finding of the last file added; 0 or GB_ENOMEM. */
static int add(gb_validator *v, gb_severity sev, const char *code,
	       const char *path, uint64_t line, uint64_t column,
	       const char *message, const char *hint)
{
	size_t lc = strlen(code) + 1, lp = strlen(path) + 1;
	size_t lm = strlen(message) + 1, lh = strlen(hint) + 1;
	vfile *file = &v->files[v->nfiles - 1];
	rec *r;

	if (v->n == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 32;
		rec *f = gb_realloc(v->f, cap * sizeof *f);

		if (!f)
			return GB_ENOMEM;
		v->f = f;
		v->cap = cap;
	}
	r = &v->f[v->n];
	r->text = gb_malloc(lc + lp + lm + lh);
	if (!r->text)
		return GB_ENOMEM;
	memcpy(r->text, code, lc);
	memcpy(r->text + lc, path, lp);
	memcpy(r->text + lc + lp, message, lm);
	memcpy(r->text + lc + lp + lm, hint, lh);
	r->f.severity = sev;
	r->f.code = r->text;
	r->f.source = file->source;
	r->f.path = r->text + lc;
	r->f.line = line;
	r->f.column = column;
	r->f.message = r->text + lc + lp;
	r->f.hint = r->text + lc + lp + lm;
	r->file = v->nfiles - 1;
	r->seq = v->n;
	v->n++;
	if (sev == GB_SEVERITY_WARNING) {
		file->warnings++;
		v->warnings++;
	} else {
		file->errors++;
		v->errors++;
	}
	return 0;
}

/* The table checks of a contracts file, repeated for every table. */
static int is_table_check(const char *code)
{
	return strcmp(code, "unknown_term") == 0 ||
	       strcmp(code, "no_reserved_price") == 0 ||
	       strcmp(code, "tiered_reserved_price") == 0;
}

/* Where a loader's findings go. */
typedef struct sink {
	gb_validator *v;
	int table_checks_only;  /* a further pass over contracts */
	const char *table;      /* name the table in table checks, or NULL */
} sink;

static int on_problem(const gb_finding *f, void *payload)
{
	sink *s = payload;
	char msg[GB_ERROR_MESSAGE_MAX + GB_ERROR_SOURCE_MAX + 32];
	int check = is_table_check(f->code);

	if (s->table_checks_only && !check)
		return 0;
	if (check && s->table) {
		snprintf(msg, sizeof msg, "%s (pricing table %s)", f->message,
			 s->table);
		return add(s->v, GB_SEVERITY_ERROR, f->code, f->path, f->line,
			   f->column, msg, f->hint);
	}
	return add(s->v, GB_SEVERITY_ERROR, f->code, f->path, f->line,
		   f->column, f->message, f->hint);
}

static int rec_cmp(const void *px, const void *py)
{
	const rec *x = px, *y = py;
	int r;

	if (x->file != y->file)
		return x->file < y->file ? -1 : 1;
	if (x->f.line != y->f.line)
		return x->f.line < y->f.line ? -1 : 1;
	if (x->f.column != y->f.column)
		return x->f.column < y->f.column ? -1 : 1;
	if (x->f.severity != y->f.severity)
		return x->f.severity < y->f.severity ? -1 : 1;
	r = strcmp(x->f.path, y->f.path);
	if (!r)
		r = strcmp(x->f.code, y->f.code);
	if (!r)
		r = strcmp(x->f.message, y->f.message);
	if (!r)
		r = (x->seq > y->seq) - (x->seq < y->seq);
	return r;
}

/* Start a file; its findings follow.  0 or GB_ENOMEM. */
static int new_file(gb_validator *v, const char *source,
		    gb_validate_kind kind, gb_error *err)
{
	vfile *files = gb_realloc(v->files, (v->nfiles + 1) * sizeof *files);

	if (!files)
		return gb_error_set(err, GB_ENOMEM, "out of memory");
	v->files = files;
	memset(&files[v->nfiles], 0, sizeof *files);
	files[v->nfiles].kind = kind;
	files[v->nfiles].source = gb_strdup(source ? source : "");
	if (!files[v->nfiles].source)
		return gb_error_set(err, GB_ENOMEM, "out of memory");
	v->nfiles++;
	return 0;
}

/* Put the findings of the file just checked, from start on, in order. */
static void sort_file(gb_validator *v, size_t start)
{
	size_t i;

	if (v->n - start > 1)
		qsort(v->f + start, v->n - start, sizeof *v->f, rec_cmp);
	for (i = start; i < v->n; i++)
		v->f[i].seq = i;
}

size_t gb_validator_count(const gb_validator *v)
{
	return v ? v->n : 0;
}

const gb_finding *gb_validator_get(const gb_validator *v, size_t i)
{
	return v && i < v->n ? &v->f[i].f : NULL;
}

int gb_validator_each(const gb_validator *v, gb_finding_fn fn, void *payload)
{
	size_t i;

	if (!v || !fn)
		return GB_EINVAL;
	for (i = 0; i < v->n; i++)
		if (fn(&v->f[i].f, payload))
			return GB_EABORT;
	return 0;
}

size_t gb_validator_files(const gb_validator *v)
{
	return v ? v->nfiles : 0;
}

size_t gb_validator_errors(const gb_validator *v)
{
	return v ? v->errors : 0;
}

size_t gb_validator_warnings(const gb_validator *v)
{
	return v ? v->warnings : 0;
}

int gb_validator_file(const gb_validator *v, size_t i, const char **source,
		      gb_validate_kind *kind, size_t *errors, size_t *warnings,
		      int *not_json)
{
	if (!v || i >= v->nfiles)
		return GB_EINVAL;
	if (source)
		*source = v->files[i].source;
	if (kind)
		*kind = v->files[i].kind;
	if (errors)
		*errors = v->files[i].errors;
	if (warnings)
		*warnings = v->files[i].warnings;
	if (not_json)
		*not_json = v->files[i].not_json;
	return 0;
}

/* --- warnings: helpers --------------------------------------------------- */

/* What a warning needs: the validator, and the document for positions. */
typedef struct wctx {
	gb_validator *v;
	const gb_json_ctx *doc;
	gb_json_ctx path;       /* scratch: builds the paths of warnings */
	unsigned minor_units;   /* digits shown in prices */
	int rc;                 /* the first failure (GB_ENOMEM) */
} wctx;

static void warn(wctx *w, const char *code, const char *hint,
		 const char *fmt, ...) GB_PRINTF(4, 5);

/* A warning at w->path's path. */
static void warn(wctx *w, const char *code, const char *hint,
		 const char *fmt, ...)
{
	char msg[GB_ERROR_MESSAGE_MAX];
	uint64_t line, column;
	va_list ap;
	int rc;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	gb_json_locate(w->doc, w->path.path, &line, &column);
	rc = add(w->v, GB_SEVERITY_WARNING, code, w->path.path, line, column,
		 msg, hint);
	if (rc && !w->rc)
		w->rc = rc;
}

static void path_reset(wctx *w)
{
	gb_json_path_pop(&w->path, 0);
}

/* "versions[i]" of the version in the file. */
static void path_version(wctx *w, const gb_version *v)
{
	path_reset(w);
	gb_json_path_key(&w->path, "versions");
	gb_json_path_index(&w->path, v->index);
}

/* A price for a message: at least the table's minor units of decimals. */
static const char *amount(char *buf, size_t size, const mpq_t q,
			  unsigned minor)
{
	gb_decimal_format(buf, size, q, minor, GB_DECIMAL_MAX_FRACTION,
			  GB_ROUND_HALF_EVEN);
	return buf;
}

/* The lowest and highest price a price can charge. */
static mpq_srcptr price_low(const gb_price *p)
{
	mpq_srcptr best = p->flat;
	size_t i;

	if (p->mode == GB_PRICE_FLAT)
		return best;
	best = p->tiers[0].price;
	for (i = 1; i < p->ntiers; i++)
		if (mpq_cmp(p->tiers[i].price, best) < 0)
			best = p->tiers[i].price;
	return best;
}

static mpq_srcptr price_high(const gb_price *p)
{
	mpq_srcptr best = p->flat;
	size_t i;

	if (p->mode == GB_PRICE_FLAT)
		return best;
	best = p->tiers[0].price;
	for (i = 1; i < p->ntiers; i++)
		if (mpq_cmp(p->tiers[i].price, best) > 0)
			best = p->tiers[i].price;
	return best;
}

/* A price fit to compare: given, read without a problem, with tiers. */
static int usable(const gb_price *p)
{
	return p && !p->bad && (p->mode == GB_PRICE_FLAT || p->ntiers > 0);
}

/* " (its lowest tier)" after a tiered price's bound, "" after a flat one. */
static const char *tier_note(const gb_price *p, const char *which)
{
	if (p->mode == GB_PRICE_FLAT)
		return "";
	return strcmp(which, "low") == 0 ? " (its lowest tier price)"
					 : " (its highest tier price)";
}

static int price_equal(const gb_price *a, const gb_price *b)
{
	size_t i;

	if (!a || !b)
		return a == b;
	if (a->mode != b->mode)
		return 0;
	if (a->mode == GB_PRICE_FLAT)
		return mpq_equal(a->flat, b->flat);
	if (a->ntiers != b->ntiers)
		return 0;
	for (i = 0; i < a->ntiers; i++) {
		const gb_tier *x = &a->tiers[i], *y = &b->tiers[i];

		if (x->bounded != y->bounded ||
		    (x->bounded && !mpq_equal(x->up_to, y->up_to)) ||
		    !mpq_equal(x->price, y->price))
			return 0;
	}
	return 1;
}

static int str_eq(const char *a, const char *b)
{
	return a && b && strcmp(a, b) == 0;
}

/* The rate for (sku, region) among the rates that could be read. */
static const gb_gpu_rate *gpu_rate(const gb_version *v, const char *sku,
				   const char *region)
{
	const gb_gpu_rate *wild = NULL;
	size_t i;

	for (i = 0; i < v->ngpu_rates; i++) {
		const gb_gpu_rate *r = &v->gpu_rates[i];

		if (!str_eq(r->sku, sku) || !r->region)
			continue;
		if (strcmp(r->region, region) == 0)
			return r;
		if (strcmp(r->region, "*") == 0)
			wild = r;
	}
	return wild;
}

/* --- warnings: prices ---------------------------------------------------- */

/* Tiers that charge more as the quantity grows, at w->path. */
static void check_tiers(wctx *w, const gb_price *p)
{
	char a[64], b[64];
	size_t i, mark = w->path.len;

	if (!usable(p) || p->mode == GB_PRICE_FLAT)
		return;
	for (i = 1; i < p->ntiers; i++) {
		if (mpq_cmp(p->tiers[i].price, p->tiers[i - 1].price) <= 0)
			continue;
		gb_json_path_key(&w->path, "tiers");
		gb_json_path_index(&w->path, i);
		gb_json_path_key(&w->path, "price");
		warn(w, "tier_price_increases",
		     "tiers usually get cheaper as the quantity grows: check the order of the prices",
		     "tier %zu's price %s is above tier %zu's %s: more usage is charged more",
		     i + 1, amount(a, sizeof a, p->tiers[i].price, w->minor_units),
		     i, amount(b, sizeof b, p->tiers[i - 1].price, w->minor_units));
		gb_json_path_pop(&w->path, mark);
	}
}

/* A price named key of the rate at w->path: its own checks. */
static void check_price_at(wctx *w, const char *key, const gb_price *p)
{
	size_t mark = w->path.len;

	if (!p)
		return;
	gb_json_path_key(&w->path, key);
	check_tiers(w, p);
	gb_json_path_pop(&w->path, mark);
}

/*
 * Reserved or spot price x at or above on-demand od, at w->path: warned
 * when even the lowest price of x is not below the highest of od.
 */
static void check_below_od(wctx *w, const char *code, const char *what,
			   const gb_price *x, const gb_gpu_rate *r,
			   const char *hint)
{
	char a[64], b[64], s1[GB_JSON_SHOW_BUF], s2[GB_JSON_SHOW_BUF];
	const gb_price *od = r->on_demand;

	if (!usable(x) || !usable(od) || !r->sku || !r->region ||
	    mpq_cmp(price_low(x), price_high(od)) < 0)
		return;
	warn(w, code, hint,
	     "the %s price %s%s is at or above the on-demand price %s%s for %s in region %s",
	     what, amount(a, sizeof a, price_low(x), w->minor_units),
	     tier_note(x, "low"),
	     amount(b, sizeof b, price_high(od), w->minor_units),
	     tier_note(od, "high"), gb_json_show(s1, r->sku),
	     gb_json_show(s2, r->region));
}

static void check_gpu_rate(wctx *w, const gb_version *v, size_t i)
{
	const gb_gpu_rate *r = &v->gpu_rates[i];
	char what[GB_JSON_SHOW_BUF + 16], shown[GB_JSON_SHOW_BUF];
	size_t k, mark;

	path_version(w, v);
	gb_json_path_key(&w->path, "gpu");
	gb_json_path_key(&w->path, "rates");
	gb_json_path_index(&w->path, i);
	mark = w->path.len;
	check_price_at(w, "on_demand", r->on_demand);
	check_price_at(w, "spot", r->spot);
	if (r->spot) {
		gb_json_path_key(&w->path, "spot");
		check_below_od(w, "spot_at_or_above_on_demand", "spot", r->spot,
			       r, "spot capacity is sold below the on-demand price: check both prices");
		gb_json_path_pop(&w->path, mark);
	}
	for (k = 0; k < r->nreserved; k++) {
		const gb_reserved_price *rp = &r->reserved[k];

		gb_json_path_key(&w->path, "reserved");
		gb_json_path_key(&w->path, rp->term);
		check_tiers(w, &rp->price);
		snprintf(what, sizeof what, "reserved %s",
			 gb_json_show(shown, rp->term));
		check_below_od(w, "reserved_at_or_above_on_demand", what,
			       &rp->price, r,
			       "a reservation is a commitment and should cost less per GPU-hour than on demand: check both prices");
		gb_json_path_pop(&w->path, mark);
	}
}

static void check_spot_point(wctx *w, const gb_version *v,
			     const gb_spot_point *sp)
{
	char a[64], b[64], when[GB_TIME_TEXT_MAX];
	char s1[GB_JSON_SHOW_BUF], s2[GB_JSON_SHOW_BUF];
	const gb_gpu_rate *r;

	path_version(w, v);
	gb_json_path_key(&w->path, "gpu");
	gb_json_path_key(&w->path, "spot_prices");
	gb_json_path_index(&w->path, sp->index);
	gb_json_path_key(&w->path, "price");
	check_tiers(w, &sp->price);
	if (!sp->sku || !sp->region || sp->bad_from || !usable(&sp->price))
		return;
	r = gpu_rate(v, sp->sku, sp->region);
	if (!r || !usable(r->on_demand) ||
	    mpq_cmp(price_low(&sp->price), price_high(r->on_demand)) <= 0)
		return;
	gb_time_format(when, sizeof when, sp->from);
	warn(w, "spot_above_on_demand",
	     "spot capacity is sold below the on-demand price: check this spot price",
	     "the spot price %s%s from %s is above the on-demand price %s%s for %s in region %s",
	     amount(a, sizeof a, price_low(&sp->price), w->minor_units),
	     tier_note(&sp->price, "low"), when,
	     amount(b, sizeof b, price_high(r->on_demand), w->minor_units),
	     tier_note(r->on_demand, "high"), gb_json_show(s1, sp->sku),
	     gb_json_show(s2, r->region));
}

static void check_token_rate(wctx *w, const gb_version *v, size_t i)
{
	const gb_token_rate *r = &v->token_rates[i];

	path_version(w, v);
	gb_json_path_key(&w->path, "tokens");
	gb_json_path_key(&w->path, "rates");
	gb_json_path_index(&w->path, i);
	check_price_at(w, "input", r->input);
	check_price_at(w, "cached_input", r->cached_input);
	check_price_at(w, "output", r->output);
}

/* Rates by (name, region), for comparing versions: NULL names first. */
static int str_cmp_null(const char *x, const char *y)
{
	if (!x || !y)
		return (x != NULL) - (y != NULL);
	return strcmp(x, y);
}

static int gpu_rate_cmp(const void *px, const void *py)
{
	const gb_gpu_rate *x = *(const gb_gpu_rate *const *)px;
	const gb_gpu_rate *y = *(const gb_gpu_rate *const *)py;
	int r = str_cmp_null(x->sku, y->sku);

	return r ? r : str_cmp_null(x->region, y->region);
}

static int token_rate_cmp(const void *px, const void *py)
{
	const gb_token_rate *x = *(const gb_token_rate *const *)px;
	const gb_token_rate *y = *(const gb_token_rate *const *)py;
	int r = str_cmp_null(x->model, y->model);

	return r ? r : str_cmp_null(x->region, y->region);
}

/* Pointers to the n elements of size bytes at base, sorted by cmp. */
static const void **sorted_ptrs(wctx *w, const void *base, size_t n,
				size_t size, int (*cmp)(const void *, const void *))
{
	const void **p = gb_malloc((n ? n : 1) * sizeof *p);
	size_t i;

	if (!p) {
		w->rc = GB_ENOMEM;
		return NULL;
	}
	for (i = 0; i < n; i++)
		p[i] = (const char *)base + i * size;
	if (n)
		qsort(p, n, sizeof *p, cmp);
	return p;
}

static int gpu_rates_equal(wctx *w, const gb_version *a, const gb_version *b)
{
	const void **x, **y;
	size_t i, k, n = a->ngpu_rates;
	int same = n == b->ngpu_rates;

	if (!same)
		return 0;
	x = sorted_ptrs(w, a->gpu_rates, n, sizeof *a->gpu_rates, gpu_rate_cmp);
	y = x ? sorted_ptrs(w, b->gpu_rates, n, sizeof *b->gpu_rates,
			    gpu_rate_cmp) : NULL;
	same = y != NULL;
	for (i = 0; same && i < n; i++) {
		const gb_gpu_rate *rx = x[i], *ry = y[i];

		same = str_eq(rx->sku, ry->sku) && str_eq(rx->region, ry->region) &&
		       price_equal(rx->on_demand, ry->on_demand) &&
		       price_equal(rx->spot, ry->spot) &&
		       rx->nreserved == ry->nreserved;
		for (k = 0; same && k < rx->nreserved; k++)
			same = price_equal(&rx->reserved[k].price,
					   gb_gpu_rate_reserved(ry, rx->reserved[k].term));
	}
	gb_free(x);
	gb_free(y);
	for (i = 0; same && i < a->nspot_points; i++) {
		const gb_spot_point *px = &a->spot_points[i];
		const gb_spot_point *py = &b->spot_points[i];

		same = str_eq(px->sku, py->sku) && str_eq(px->region, py->region) &&
		       px->from == py->from && price_equal(&px->price, &py->price);
	}
	return same;
}

static int token_rates_equal(wctx *w, const gb_version *a, const gb_version *b)
{
	const void **x, **y;
	size_t i, n = a->ntoken_rates;
	int same = n == b->ntoken_rates &&
		   mpq_equal(a->batch_discount, b->batch_discount);

	if (!same)
		return 0;
	x = sorted_ptrs(w, a->token_rates, n, sizeof *a->token_rates,
			token_rate_cmp);
	y = x ? sorted_ptrs(w, b->token_rates, n, sizeof *b->token_rates,
			    token_rate_cmp) : NULL;
	same = y != NULL;
	for (i = 0; same && i < n; i++) {
		const gb_token_rate *rx = x[i], *ry = y[i];

		same = str_eq(rx->model, ry->model) &&
		       str_eq(rx->region, ry->region) &&
		       price_equal(rx->input, ry->input) &&
		       price_equal(rx->cached_input, ry->cached_input) &&
		       price_equal(rx->output, ry->output);
	}
	gb_free(x);
	gb_free(y);
	return same;
}

/* Two versions, both read without a problem, that charge the same. */
static int versions_equal(wctx *w, const gb_version *a, const gb_version *b)
{
	if (a->bad_gpu || a->bad_tokens || b->bad_gpu || b->bad_tokens ||
	    a->has_gpu != b->has_gpu || a->has_tokens != b->has_tokens)
		return 0;
	if (a->has_gpu && (a->increment_seconds != b->increment_seconds ||
			   a->minimum_seconds != b->minimum_seconds ||
			   a->spot_interruption_free_seconds !=
			   b->spot_interruption_free_seconds ||
			   a->nspot_points != b->nspot_points ||
			   !gpu_rates_equal(w, a, b)))
		return 0;
	return !a->has_tokens || token_rates_equal(w, a, b);
}

static int name_cmp(const void *px, const void *py)
{
	return strcmp(*(const char *const *)px, *(const char *const *)py);
}

/*
 * The names (skus or models) of v's rates that could be read, sorted and
 * unique, in *out; returns how many (0 with w->rc set when out of memory).
 */
static size_t rate_names(wctx *w, const gb_version *v, int tokens,
			 const char ***out)
{
	size_t i, n = tokens ? v->ntoken_rates : v->ngpu_rates, u = 0;
	const char **names = gb_malloc((n ? n : 1) * sizeof *names);

	*out = names;
	if (!names) {
		w->rc = GB_ENOMEM;
		return 0;
	}
	for (i = 0; i < n; i++) {
		const char *name = tokens ? v->token_rates[i].model
					  : v->gpu_rates[i].sku;

		if (name)
			names[u++] = name;
	}
	if (u)
		qsort(names, u, sizeof *names, name_cmp);
	for (i = 0, n = u, u = 0; i < n; i++)
		if (u == 0 || strcmp(names[u - 1], names[i]) != 0)
			names[u++] = names[i];
	return u;
}

/* Skus (or models) of a that b has no rate for, b coming next. */
static void check_dropped(wctx *w, const gb_version *a, const gb_version *b,
			  int tokens)
{
	char from_a[GB_TIME_TEXT_MAX], from_b[GB_TIME_TEXT_MAX], hint[160];
	char shown[GB_JSON_SHOW_BUF];
	const char **na = NULL, **nb = NULL;
	size_t i, ca, cb;
	const char *what = tokens ? "model" : "sku";

	if (tokens ? b->bad_tokens : b->bad_gpu)
		return;	/* b may have it in a rate that could not be read */
	ca = rate_names(w, a, tokens, &na);
	cb = na ? rate_names(w, b, tokens, &nb) : 0;
	if (!na || !nb) {
		gb_free(na);
		return;
	}
	gb_time_format(from_a, sizeof from_a, a->effective_from);
	gb_time_format(from_b, sizeof from_b, b->effective_from);
	for (i = 0; i < ca; i++) {
		if (cb && bsearch(&na[i], nb, cb, sizeof *nb, name_cmp))
			continue;
		path_version(w, b);
		if (tokens ? b->has_tokens : b->has_gpu) {
			gb_json_path_key(&w->path, tokens ? "tokens" : "gpu");
			gb_json_path_key(&w->path, "rates");
		}
		gb_json_show(shown, na[i]);
		snprintf(hint, sizeof hint, "add a rate for %s to this version, unless it is no longer sold",
			 shown);
		warn(w, tokens ? "model_dropped" : "sku_dropped", hint,
		     "%s '%s' has a rate in the version from %s (versions[%zu]) but none in this one, from %s: its usage from then on has no price (no_rate)",
		     what, shown, from_a, a->index, from_b);
	}
	gb_free(na);
	gb_free(nb);
}

/* Versions as written: out of order, identical to the one before. */
static void check_versions(wctx *w, const gb_prices *p)
{
	char when[GB_TIME_TEXT_MAX], other[GB_TIME_TEXT_MAX], hint[160];
	const gb_version **byfile, *prev = NULL, *latest = NULL;
	size_t i;

	if (!p->nversions)
		return;
	byfile = gb_calloc(p->nversions, sizeof *byfile);
	if (!byfile) {
		w->rc = GB_ENOMEM;
		return;
	}
	for (i = 0; i < p->nversions; i++)
		if (p->versions[i].index < p->nversions)
			byfile[p->versions[i].index] = &p->versions[i];
	/* In file order: a version earlier than one above it. */
	for (i = 0; i < p->nversions; i++) {
		const gb_version *v = byfile[i];

		if (!v || v->bad_from)
			continue;
		if (latest && v->effective_from < latest->effective_from) {
			gb_time_format(when, sizeof when, v->effective_from);
			gb_time_format(other, sizeof other, latest->effective_from);
			path_version(w, v);
			gb_json_path_key(&w->path, "effective_from");
			warn(w, "versions_out_of_order",
			     "order versions by effective_from: gpubill sorts them, but people read the file from the top",
			     "effective from %s, before versions[%zu] (from %s) above it in the file",
			     when, latest->index, other);
		}
		if (!latest || v->effective_from > latest->effective_from)
			latest = v;
	}
	gb_free(byfile);
	/* In time order: what changes from one version to the next. */
	for (i = 0; i < p->nversions; i++) {
		const gb_version *v = &p->versions[i];

		if (v->bad_from)
			continue;
		if (prev && prev->effective_from != v->effective_from) {
			if (versions_equal(w, prev, v)) {
				gb_time_format(when, sizeof when, v->effective_from);
				gb_time_format(other, sizeof other, prev->effective_from);
				snprintf(hint, sizeof hint, "remove it, or make the price changes it was meant to bring (versions[%zu] has these prices)",
					 prev->index);
				path_version(w, v);
				warn(w, "identical_version", hint,
				     "the version from %s has the same prices as the one before it, versions[%zu] from %s",
				     when, prev->index, other);
			}
			check_dropped(w, prev, v, 0);
			check_dropped(w, prev, v, 1);
		}
		prev = v;
	}
}

static int price_warnings(gb_validator *val, const gb_json_ctx *doc,
			  const gb_prices *p)
{
	wctx w;
	size_t i, j;

	memset(&w, 0, sizeof w);
	w.v = val;
	w.doc = doc;
	w.path.source = "";
	w.minor_units = p->minor_units;
	for (i = 0; i < p->nversions; i++) {
		const gb_version *v = &p->versions[i];

		for (j = 0; j < v->ngpu_rates; j++)
			check_gpu_rate(&w, v, j);
		for (j = 0; j < v->nspot_points; j++)
			check_spot_point(&w, v, &v->spot_points[j]);
		for (j = 0; j < v->ntoken_rates; j++)
			check_token_rate(&w, v, j);
	}
	check_versions(&w, p);
	return w.rc;
}

/* --- adding files -------------------------------------------------------- */

/*
 * After a collect-mode load: GB_ESYNTAX marks the file as not JSON, a
 * top level that is not an object was reported; anything else stops.
 */
static int load_status(gb_validator *v, int rc)
{
	if (rc == GB_ESYNTAX)
		v->files[v->nfiles - 1].not_json = 1;
	if (rc == GB_ESCHEMA)
		rc = 0;
	return rc;
}

/* A failure of the validator itself, in err. */
static int failed(gb_json_ctx *c, gb_error *err, int rc)
{
	gb_json_ctx_release(c);
	if (err && err->code == GB_OK)
		gb_error_set(err, rc, "%s", gb_strerror(rc));
	return rc;
}

int gb_validator_add_prices(gb_validator *v, const char *data, size_t len,
			    const char *source, gb_error *err)
{
	sink s = { v, 0, NULL };
	gb_json_ctx c = {
		.err = err, .kind = "a pricing table",
		.collect = on_problem, .collect_payload = &s
	};
	gb_prices *p = NULL;
	size_t start;
	table *t;
	int rc;

	gb_error_clear(err);
	if (!v || (!data && len))
		return gb_error_set(err, GB_EINVAL, "gb_validator_add_prices: no validator or no data");
	rc = new_file(v, source, GB_VALIDATE_PRICES, err);
	if (rc)
		return rc;
	c.source = v->files[v->nfiles - 1].source;
	start = v->n;
	rc = load_status(v, gb_prices_load_ctx(&c, data, len, &p));
	if (!rc && p)
		rc = price_warnings(v, &c, p);
	gb_json_ctx_release(&c);
	sort_file(v, start);
	if (rc == GB_ESYNTAX)
		return rc;
	if (rc) {
		gb_prices_free(p);
		return failed(&c, err, rc);
	}
	if (!p || c.nerrors) {
		gb_prices_free(p);	/* not fit to check other files against */
		return 0;
	}
	t = gb_realloc(v->tables, (v->ntables + 1) * sizeof *t);
	if (!t) {
		gb_prices_free(p);
		return failed(&c, err, GB_ENOMEM);
	}
	v->tables = t;
	t[v->ntables].prices = p;
	t[v->ntables].source = v->files[v->nfiles - 1].source;
	v->ntables++;
	return 0;
}

int gb_validator_add_contracts(gb_validator *v, const char *data, size_t len,
			       const char *source, gb_error *err)
{
	sink s = { v, 0, NULL };
	gb_json_ctx c = {
		.err = err, .kind = "a contracts file",
		.collect = on_problem, .collect_payload = &s
	};
	gb_contracts *cs = NULL;
	size_t start, i;
	int rc;

	gb_error_clear(err);
	if (!v || (!data && len))
		return gb_error_set(err, GB_EINVAL, "gb_validator_add_contracts: no validator or no data");
	rc = new_file(v, source, GB_VALIDATE_CONTRACTS, err);
	if (rc)
		return rc;
	c.source = v->files[v->nfiles - 1].source;
	start = v->n;
	/* Everything, checked against the first table; then the others. */
	if (v->ntables > 1)
		s.table = v->tables[0].source;
	rc = load_status(v, gb_contracts_load_ctx(&c, data, len,
			  v->ntables ? v->tables[0].prices : NULL, &cs));
	gb_contracts_free(cs);
	for (i = 1; i < v->ntables && !rc; i++) {
		s.table_checks_only = 1;
		s.table = v->tables[i].source;
		c.nerrors = 0;
		cs = NULL;
		rc = load_status(v, gb_contracts_load_ctx(&c, data, len,
				 v->tables[i].prices, &cs));
		gb_contracts_free(cs);
	}
	gb_json_ctx_release(&c);
	sort_file(v, start);
	if (rc && rc != GB_ESYNTAX)
		return failed(&c, err, rc);
	return rc;
}

/* --- costs --------------------------------------------------------------- */

/* Is there an error at path, or inside it, among the findings from start? */
static int error_within(const gb_validator *v, size_t start, const char *path)
{
	size_t i, n = strlen(path);

	for (i = start; i < v->n; i++) {
		const char *p = v->f[i].f.path;

		if (v->f[i].f.severity == GB_SEVERITY_ERROR &&
		    strncmp(p, path, n) == 0 &&
		    (p[n] == '\0' || p[n] == '.' || p[n] == '['))
			return 1;
	}
	return 0;
}

/*
 * Cost entry gpu[i] against table t: every rate of the table whose cost
 * (as a margin report looks it up) is this entry, in every version; one
 * warning for the first price at or below the cost.
 */
static void check_gpu_cost(wctx *w, const gb_costs *costs, size_t i,
			   const table *t)
{
	const gb_cost_gpu *g = gb_costs_gpu_get(costs, i);
	char a[64], b[64], when[GB_TIME_TEXT_MAX];
	char s1[GB_JSON_SHOW_BUF], s2[GB_JSON_SHOW_BUF], s3[GB_JSON_SHOW_BUF];
	char s4[GB_JSON_SHOW_BUF];
	size_t vi, ri;

	for (vi = 0; vi < t->prices->nversions; vi++) {
		const gb_version *v = &t->prices->versions[vi];

		for (ri = 0; ri < v->ngpu_rates; ri++) {
			const gb_gpu_rate *r = &v->gpu_rates[ri];

			if (!r->on_demand ||
			    gb_costs_find_gpu(costs, r->sku, r->region) != g ||
			    mpq_cmp(g->per_gpu_hour, price_low(r->on_demand)) < 0)
				continue;
			gb_time_format(when, sizeof when, v->effective_from);
			path_reset(w);
			gb_json_path_key(&w->path, "gpu");
			gb_json_path_index(&w->path, i);
			gb_json_path_key(&w->path, "per_gpu_hour");
			warn(w, "cost_at_or_above_price",
			     "a margin of zero or less: check the cost, or the price",
			     "the cost %s per GPU-hour of %s in region %s is at or above the on-demand price %s%s for %s in region %s (pricing table %s, version from %s)",
			     amount(a, sizeof a, g->per_gpu_hour, w->minor_units),
			     gb_json_show(s1, g->sku), gb_json_show(s2, g->region),
			     amount(b, sizeof b, price_low(r->on_demand), w->minor_units),
			     tier_note(r->on_demand, "low"),
			     gb_json_show(s3, r->sku), gb_json_show(s4, r->region),
			     t->source, when);
			return;
		}
	}
}

/* Cost entry tokens[i] against the input and output prices of table t. */
static void check_token_cost(wctx *w, const gb_costs *costs, size_t i,
			     const table *t)
{
	const gb_cost_tokens *c = gb_costs_tokens_get(costs, i);
	char a[64], b[64], when[GB_TIME_TEXT_MAX];
	char s1[GB_JSON_SHOW_BUF], s2[GB_JSON_SHOW_BUF];
	size_t vi, ri, k;

	for (vi = 0; vi < t->prices->nversions; vi++) {
		const gb_version *v = &t->prices->versions[vi];

		for (ri = 0; ri < v->ntoken_rates; ri++) {
			const gb_token_rate *r = &v->token_rates[ri];
			const gb_price *pr[2] = { r->input, r->output };
			static const char *const kind[2] = { "input", "output" };

			if (gb_costs_find_tokens(costs, r->model) != c)
				continue;
			for (k = 0; k < 2; k++) {
				if (!pr[k] ||
				    mpq_cmp(c->per_million, price_low(pr[k])) < 0)
					continue;
				gb_time_format(when, sizeof when, v->effective_from);
				path_reset(w);
				gb_json_path_key(&w->path, "tokens");
				gb_json_path_index(&w->path, i);
				gb_json_path_key(&w->path, "per_million");
				warn(w, "cost_at_or_above_price",
				     "a margin of zero or less: check the cost, or the price",
				     "the cost %s per million tokens of %s is at or above its %s price %s%s in region %s (pricing table %s, version from %s)",
				     amount(a, sizeof a, c->per_million, w->minor_units),
				     gb_json_show(s1, c->model), kind[k],
				     amount(b, sizeof b, price_low(pr[k]), w->minor_units),
				     tier_note(pr[k], "low"),
				     gb_json_show(s2, r->region), t->source, when);
				return;
			}
		}
	}
}

/* The cost basis against every table without errors. */
static int cost_warnings(gb_validator *v, const gb_json_ctx *doc,
			 const gb_costs *costs, size_t start)
{
	char path[32], hint[128], msg[GB_ERROR_SOURCE_MAX + 128];
	const char *cur = gb_costs_currency(costs);
	uint64_t line, column;
	size_t ti, i;
	wctx w;

	memset(&w, 0, sizeof w);
	w.v = v;
	w.doc = doc;
	w.path.source = "";
	for (ti = 0; ti < v->ntables && !w.rc; ti++) {
		const table *t = &v->tables[ti];

		w.minor_units = t->prices->minor_units;
		if (!cur || !cur[0] || error_within(v, start, "currency"))
			continue;
		if (strcmp(cur, t->prices->currency) != 0) {
			snprintf(hint, sizeof hint, "give the costs in %s, the currency of the prices",
				 t->prices->currency);
			snprintf(msg, sizeof msg, "the costs are in %s but pricing table %s is in %s: a margin needs one currency",
				 cur, t->source, t->prices->currency);
			gb_json_locate(doc, "currency", &line, &column);
			w.rc = add(v, GB_SEVERITY_ERROR, "currency_mismatch",
				   "currency", line, column, msg, hint);
			continue;
		}
		for (i = 0; i < gb_costs_gpu_count(costs) && !w.rc; i++) {
			const gb_cost_gpu *g = gb_costs_gpu_get(costs, i);

			snprintf(path, sizeof path, "gpu[%zu]", i);
			if (g->sku && g->region && !error_within(v, start, path))
				check_gpu_cost(&w, costs, i, t);
		}
		for (i = 0; i < gb_costs_tokens_count(costs) && !w.rc; i++) {
			const gb_cost_tokens *c = gb_costs_tokens_get(costs, i);

			snprintf(path, sizeof path, "tokens[%zu]", i);
			if (c->model && !error_within(v, start, path))
				check_token_cost(&w, costs, i, t);
		}
	}
	return w.rc;
}

int gb_validator_add_costs(gb_validator *v, const char *data, size_t len,
			   const char *source, gb_error *err)
{
	sink s = { v, 0, NULL };
	gb_json_ctx c = {
		.err = err, .kind = "a costs file",
		.collect = on_problem, .collect_payload = &s
	};
	gb_costs *costs = NULL;
	size_t start;
	int rc;

	gb_error_clear(err);
	if (!v || (!data && len))
		return gb_error_set(err, GB_EINVAL, "gb_validator_add_costs: no validator or no data");
	rc = new_file(v, source, GB_VALIDATE_COSTS, err);
	if (rc)
		return rc;
	c.source = v->files[v->nfiles - 1].source;
	start = v->n;
	rc = load_status(v, gb_costs_load_ctx(&c, data, len, &costs));
	if (!rc && costs)
		rc = cost_warnings(v, &c, costs, start);
	gb_costs_free(costs);
	gb_json_ctx_release(&c);
	sort_file(v, start);
	if (rc && rc != GB_ESYNTAX)
		return failed(&c, err, rc);
	return rc;
}

/* --- writers ------------------------------------------------------------- */

int gb_validator_write_text(const gb_validator *v, gb_write_fn fn,
			    void *payload, gb_error *err)
{
	gb_buf b;
	size_t i;
	int rc = 0;

	gb_error_clear(err);
	if (!v || !fn)
		return gb_error_set(err, GB_EINVAL, "gb_validator_write_text: no validator or no output");
	gb_buf_init(&b);
	for (i = 0; i < v->n && !rc; i++) {
		const gb_finding *f = &v->f[i].f;

		gb_buf_puts(&b, f->source);
		if (f->line)
			gb_buf_printf(&b, ":%llu:%llu",
				      (unsigned long long)f->line,
				      (unsigned long long)f->column);
		gb_buf_puts(&b, ": ");
		if (f->path[0]) {
			gb_buf_puts(&b, f->path);
			gb_buf_puts(&b, ": ");
		}
		gb_buf_printf(&b, "%s: %s", gb_severity_name(f->severity),
			      f->message);
		if (f->hint[0])
			gb_buf_printf(&b, " (hint: %s)", f->hint);
		gb_buf_puts(&b, "\n");
		if (b.len > 65536)
			rc = gb_buf_flush(&b, fn, payload, err);
	}
	if (!rc)
		rc = gb_buf_flush(&b, fn, payload, err);
	gb_buf_free(&b);
	return rc;
}

int gb_validator_write_csv(const gb_validator *v, gb_write_fn fn,
			   void *payload, gb_error *err)
{
	char num[32];
	gb_buf b;
	size_t i;
	int rc = 0;

	gb_error_clear(err);
	if (!v || !fn)
		return gb_error_set(err, GB_EINVAL, "gb_validator_write_csv: no validator or no output");
	gb_buf_init(&b);
	gb_buf_puts(&b, "file,line,column,path,severity,code,message,hint\r\n");
	for (i = 0; i < v->n && !rc; i++) {
		const gb_finding *f = &v->f[i].f;

		gb_buf_csv_cell(&b, f->source, 0);
		snprintf(num, sizeof num, "%.0llu", (unsigned long long)f->line);
		gb_buf_csv_cell(&b, num, 0);
		snprintf(num, sizeof num, "%.0llu", (unsigned long long)f->column);
		gb_buf_csv_cell(&b, num, 0);
		gb_buf_csv_cell(&b, f->path, 0);
		gb_buf_csv_cell(&b, gb_severity_name(f->severity), 0);
		gb_buf_csv_cell(&b, f->code, 0);
		gb_buf_csv_cell(&b, f->message, 0);
		gb_buf_csv_cell(&b, f->hint, 1);
		if (b.len > 65536)
			rc = gb_buf_flush(&b, fn, payload, err);
	}
	if (!rc)
		rc = gb_buf_flush(&b, fn, payload, err);
	gb_buf_free(&b);
	return rc;
}

static void json_member(gb_buf *b, const char *indent, const char *key,
			const char *value, int comma)
{
	gb_buf_printf(b, "%s\"%s\": ", indent, key);
	gb_buf_json_string(b, value);
	gb_buf_puts(b, comma ? ",\n" : "\n");
}

/* A 1-based position, or null when unknown. */
static void json_position(gb_buf *b, const char *indent, const char *key,
			  uint64_t value)
{
	if (value)
		gb_buf_printf(b, "%s\"%s\": %llu,\n", indent, key,
			      (unsigned long long)value);
	else
		gb_buf_printf(b, "%s\"%s\": null,\n", indent, key);
}

int gb_validator_write_json(const gb_validator *v, gb_write_fn fn,
			    void *payload, gb_error *err)
{
	const char *in = "      ";
	gb_buf b;
	size_t i;
	int rc = 0;

	gb_error_clear(err);
	if (!v || !fn)
		return gb_error_set(err, GB_EINVAL, "gb_validator_write_json: no validator or no output");
	gb_buf_init(&b);
	gb_buf_puts(&b, "{\n  \"format\": \"gpubill-validate/1\",\n  \"files\": [");
	for (i = 0; i < v->nfiles; i++) {
		const vfile *f = &v->files[i];

		gb_buf_puts(&b, i ? ",\n    {\n" : "\n    {\n");
		json_member(&b, in, "file", f->source, 1);
		json_member(&b, in, "kind", gb_validate_kind_name(f->kind), 1);
		gb_buf_printf(&b, "%s\"json\": %s,\n", in,
			      f->not_json ? "false" : "true");
		gb_buf_printf(&b, "%s\"errors\": %zu,\n%s\"warnings\": %zu\n    }",
			      in, f->errors, in, f->warnings);
	}
	gb_buf_puts(&b, v->nfiles ? "\n  ],\n  \"findings\": [" : "],\n  \"findings\": [");
	for (i = 0; i < v->n && !rc; i++) {
		const gb_finding *f = &v->f[i].f;

		gb_buf_puts(&b, i ? ",\n    {\n" : "\n    {\n");
		json_member(&b, in, "file", f->source, 1);
		json_position(&b, in, "line", f->line);
		json_position(&b, in, "column", f->column);
		json_member(&b, in, "path", f->path, 1);
		json_member(&b, in, "severity", gb_severity_name(f->severity), 1);
		json_member(&b, in, "code", f->code, 1);
		json_member(&b, in, "message", f->message, 1);
		json_member(&b, in, "hint", f->hint, 0);
		gb_buf_puts(&b, "    }");
		if (b.len > 65536)
			rc = gb_buf_flush(&b, fn, payload, err);
	}
	if (!rc) {
		gb_buf_puts(&b, v->n ? "\n  ],\n" : "],\n");
		gb_buf_printf(&b, "  \"summary\": {\"files\": %zu, \"errors\": %zu, \"warnings\": %zu}\n}\n",
			      v->nfiles, v->errors, v->warnings);
		rc = gb_buf_flush(&b, fn, payload, err);
	}
	gb_buf_free(&b);
	return rc;
}
