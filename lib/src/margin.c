/*
 * margin.c - margin reports: a finished invoice set against a cost basis.
 *
 * 1. Every usage line of every invoice becomes a "piece" with exact
 *    values: revenue (its rounded amount, plus its share of the invoice's
 *    discount, minimum-spend and credit lines), cost, GPU-hours, idle
 *    reserved GPU-hours and their cost.  A customer's adjustments that have
 *    no usage line to go to become a piece of their own.
 * 2. Pieces are sorted by the report's keys and summed, exactly, into rows.
 * 3. Each column is rounded once for the total, and the total is shared
 *    out among the rows by largest remainder, so the shown rows add up to
 *    the shown total exactly.
 *
 * The rules are documented in gpubill(1), "gpubill margin".
 */
#include "internal.h"
#include "invoice_internal.h"
#include "costs_internal.h"
#include "json_load.h"

#include <gpubill/margin.h>
#include <gpubill/money.h>
#include <gpubill/timestamp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The exact columns of a piece and a row. */
enum { C_REVENUE, C_COST, C_HOURS, C_IDLE_HOURS, C_IDLE_COST, NCOLS };

typedef struct piece {
	const char *key[GB_MARGIN_MAX_KEYS];  /* into the invoice set; NULL = "-" */
	const gb_invoice_line *line;          /* NULL for unattributed money */
	mpq_t v[NCOLS];
} piece;

typedef struct piece_list {
	piece *v;
	size_t n, cap;
} piece_list;

struct gb_margin {
	char currency[4];
	unsigned minor_units;
	char *prices_name;
	char *costs_name;
	int64_t from, to;
	gb_counts counts;
	size_t ninvoices;
	size_t nby;
	gb_margin_key by[GB_MARGIN_MAX_KEYS];
	size_t nrows;
	gb_margin_row *rows;     /* keys owned */
	gb_margin_row total;
};

static const char *const key_names[] = {
	"customer", "sku", "region", "market", "model"
};
#define NKEYS (sizeof key_names / sizeof key_names[0])

const char *gb_margin_key_name(gb_margin_key key)
{
	return (unsigned)key < NKEYS ? key_names[key] : "unknown";
}

int gb_margin_key_parse(gb_margin_key *out, const char *name)
{
	size_t i;

	for (i = 0; name && i < NKEYS; i++) {
		if (strcmp(name, key_names[i]) == 0) {
			*out = (gb_margin_key)i;
			return 0;
		}
	}
	return GB_EINVAL;
}

/* --- rows ---------------------------------------------------------------- */

static void row_init(gb_margin_row *r)
{
	memset(r, 0, sizeof *r);
	mpz_init(r->revenue);
	mpz_init(r->cost);
	mpz_init(r->margin);
	mpq_init(r->margin_pct);
	mpq_init(r->gpu_hours);
	mpq_init(r->idle_gpu_hours);
	mpz_init(r->idle_cost);
}

static void row_clear(gb_margin_row *r)
{
	size_t k;

	for (k = 0; k < GB_MARGIN_MAX_KEYS; k++)
		gb_free((char *)r->key[k]);
	mpz_clear(r->revenue);
	mpz_clear(r->cost);
	mpz_clear(r->margin);
	mpq_clear(r->margin_pct);
	mpq_clear(r->gpu_hours);
	mpq_clear(r->idle_gpu_hours);
	mpz_clear(r->idle_cost);
}

/* margin = revenue - cost; margin % from those two as shown. */
static void row_finish(gb_margin_row *r)
{
	mpz_sub(r->margin, r->revenue, r->cost);
	r->has_margin_pct = mpz_sgn(r->revenue) != 0;
	if (r->has_margin_pct) {
		mpq_set_z(r->margin_pct, r->margin);
		mpz_mul_ui(mpq_numref(r->margin_pct), mpq_numref(r->margin_pct), 100);
		mpz_set(mpq_denref(r->margin_pct), r->revenue);
		mpq_canonicalize(r->margin_pct);
	} else {
		mpq_set_ui(r->margin_pct, 0, 1);
	}
}

void gb_margin_free(gb_margin *m)
{
	size_t i;

	if (!m)
		return;
	for (i = 0; i < m->nrows; i++)
		row_clear(&m->rows[i]);
	gb_free(m->rows);
	row_clear(&m->total);
	gb_free(m->prices_name);
	gb_free(m->costs_name);
	gb_free(m);
}

size_t gb_margin_key_count(const gb_margin *m)
{
	return m ? m->nby : 0;
}

gb_margin_key gb_margin_key_get(const gb_margin *m, size_t i)
{
	return m && i < m->nby ? m->by[i] : GB_MARGIN_BY_CUSTOMER;
}

size_t gb_margin_row_count(const gb_margin *m)
{
	return m ? m->nrows : 0;
}

const gb_margin_row *gb_margin_row_get(const gb_margin *m, size_t i)
{
	return m && i < m->nrows ? &m->rows[i] : NULL;
}

const gb_margin_row *gb_margin_total(const gb_margin *m)
{
	return m ? &m->total : NULL;
}

/* --- 1. pieces ----------------------------------------------------------- */

static piece *piece_new(piece_list *pl)
{
	piece *p;
	int c;

	if (pl->n == pl->cap) {
		size_t cap = pl->cap ? pl->cap * 2 : 64;
		piece *v;

		if (cap > (size_t)-1 / sizeof *v)
			return NULL;
		v = gb_realloc(pl->v, cap * sizeof *v);
		if (!v)
			return NULL;
		pl->v = v;
		pl->cap = cap;
	}
	p = &pl->v[pl->n++];
	memset(p, 0, sizeof *p);
	for (c = 0; c < NCOLS; c++)
		mpq_init(p->v[c]);
	return p;
}

static void piece_list_free(piece_list *pl)
{
	size_t i;
	int c;

	for (i = 0; i < pl->n; i++)
		for (c = 0; c < NCOLS; c++)
			mpq_clear(pl->v[i].v[c]);
	gb_free(pl->v);
}

static int is_usage(gb_line_kind k)
{
	return k <= GB_LINE_TOKENS_OUTPUT;
}

static int is_gpu(gb_line_kind k)
{
	return k <= GB_LINE_GPU_SPOT_INTERRUPTED;
}

/* The market of a usage line (gpubill(1): interrupted spot is spot). */
static const char *market_of(gb_line_kind k)
{
	switch (k) {
	case GB_LINE_GPU_RESERVED: return "reserved";
	case GB_LINE_GPU_ON_DEMAND: return "on_demand";
	case GB_LINE_GPU_SPOT:
	case GB_LINE_GPU_SPOT_INTERRUPTED: return "spot";
	default: return "tokens";
	}
}

static const char *nonempty(const char *s)
{
	return s && s[0] ? s : NULL;
}

static const char *key_of(gb_margin_key k, const gb_invoice *inv,
			  const gb_invoice_line *l)
{
	switch (k) {
	case GB_MARGIN_BY_CUSTOMER: return inv->customer;
	case GB_MARGIN_BY_SKU: return l ? nonempty(l->sku) : NULL;
	case GB_MARGIN_BY_REGION: return l ? nonempty(l->region) : NULL;
	case GB_MARGIN_BY_MARKET: return l ? market_of(l->kind) : NULL;
	case GB_MARGIN_BY_MODEL: return l ? nonempty(l->model) : NULL;
	}
	return NULL;
}

/* Discount kinds, in the contracts' order (gpubill-contracts(5)). */
enum { D_ON_DEMAND, D_SPOT, D_TOKENS, ND };

/* Which usage a discount line was taken from: its reference is the
 * contract's key for it (gpubill(1), LINE KINDS). */
static int discount_kind(const gb_invoice_line *l)
{
	static const char *const refs[ND] = {
		"gpu_on_demand", "gpu_spot", "tokens"
	};
	int d;

	for (d = 0; d < ND; d++)
		if (l->reference && strcmp(l->reference, refs[d]) == 0)
			return d;
	return -1;
}

static int discounted_by(gb_line_kind k, int d)
{
	switch (d) {
	case D_ON_DEMAND: return k == GB_LINE_GPU_ON_DEMAND;
	case D_SPOT: return k == GB_LINE_GPU_SPOT ||
			    k == GB_LINE_GPU_SPOT_INTERRUPTED;
	default: return k >= GB_LINE_TOKENS_INPUT && k <= GB_LINE_TOKENS_OUTPUT;
	}
}

static int no_cost(const gb_costs *costs, const gb_invoice *inv, size_t li,
		   gb_error *err)
{
	const gb_invoice_line *l = &inv->lines[li];
	char s1[GB_JSON_SHOW_BUF], s2[GB_JSON_SHOW_BUF], s3[GB_JSON_SHOW_BUF];

	if (is_gpu(l->kind))
		gb_error_set(err, GB_ESCHEMA, "no cost for %s in %s (give a \"gpu\" entry for that sku with that region or \"*\"); customer %s, invoice line %zu (%s)",
			     gb_json_show(s1, l->sku), gb_json_show(s2, l->region),
			     gb_json_show(s3, inv->customer), li + 1,
			     gb_line_kind_name(l->kind));
	else
		gb_error_set(err, GB_ESCHEMA, "no cost for model %s (give a \"tokens\" entry for it); customer %s, invoice line %zu (%s)",
			     gb_json_show(s1, l->model),
			     gb_json_show(s3, inv->customer), li + 1,
			     gb_line_kind_name(l->kind));
	gb_error_set_source(err, costs->source);
	gb_error_set_path(err, is_gpu(l->kind) ? "gpu" : "tokens");
	return GB_ESCHEMA;
}

/* Cost, GPU-hours and idle capacity of usage line l into p. */
static int line_cost(piece *p, const gb_costs *costs, const gb_invoice *inv,
		     size_t li, gb_error *err)
{
	const gb_invoice_line *l = &inv->lines[li];

	if (is_gpu(l->kind)) {
		const gb_cost_gpu *g = gb_costs_find_gpu(costs, l->sku, l->region);

		if (!g)
			return no_cost(costs, inv, li, err);
		/* GPU-hours = GPU-seconds / 3600 */
		mpq_set(p->v[C_HOURS], l->base_quantity);
		mpz_mul_ui(mpq_denref(p->v[C_HOURS]), mpq_denref(p->v[C_HOURS]), 3600);
		mpq_canonicalize(p->v[C_HOURS]);
		mpq_mul(p->v[C_COST], p->v[C_HOURS], g->per_gpu_hour);
		if (l->kind == GB_LINE_GPU_RESERVED && l->has_utilisation) {
			/* reserved x (1 - utilisation) */
			mpq_set_ui(p->v[C_IDLE_HOURS], 1, 1);
			mpq_sub(p->v[C_IDLE_HOURS], p->v[C_IDLE_HOURS], l->utilisation);
			mpq_mul(p->v[C_IDLE_HOURS], p->v[C_IDLE_HOURS], p->v[C_HOURS]);
			mpq_mul(p->v[C_IDLE_COST], p->v[C_IDLE_HOURS], g->per_gpu_hour);
		}
	} else {
		const gb_cost_tokens *t = gb_costs_find_tokens(costs, l->model);

		if (!t)
			return no_cost(costs, inv, li, err);
		/* tokens x cost per million / 10^6 */
		mpq_mul(p->v[C_COST], l->base_quantity, t->per_million);
		mpz_mul_ui(mpq_denref(p->v[C_COST]), mpq_denref(p->v[C_COST]), 1000000);
		mpq_canonicalize(p->v[C_COST]);
	}
	return 0;
}

/*
 * The pieces of one invoice.  Revenue, worked out in minor units:
 *   b_i = a_i + D_k x a_i / (sum of a over the lines of kind k)
 * for the discount D_k (<= 0) of the line's kind k, then
 *   r_i = b_i + A x b_i / (sum of b)
 * for A, the minimum-spend and credit lines together.  Money with no line
 * to go to becomes a piece with only the customer key.
 */
static int invoice_pieces(piece_list *pl, const gb_invoice *inv,
			  unsigned minor, const gb_costs *costs,
			  const gb_margin_options *o, gb_error *err)
{
	size_t first = pl->n, i, j, k;
	mpz_t base, adjust;
	mpq_t share, sum;
	char shown[GB_JSON_SHOW_BUF], what[GB_JSON_SHOW_BUF];
	int rc = 0;

	mpz_inits(base, adjust, NULL);
	mpq_inits(share, sum, NULL);
	for (i = 0; i < inv->nlines && rc == 0; i++) {
		const gb_invoice_line *l = &inv->lines[i];
		piece *p;

		if (!is_usage(l->kind))
			continue;
		p = piece_new(pl);
		if (!p) {
			rc = gb_error_set(err, GB_ENOMEM, "out of memory");
			break;
		}
		p->line = l;
		for (k = 0; k < o->nby; k++)
			p->key[k] = key_of(o->by[k], inv, l);
		mpq_set_z(p->v[C_REVENUE], l->amount);
		rc = line_cost(p, costs, inv, i, err);
	}
	/* discounts, to the lines of their kind by rounded amount */
	for (i = 0; i < inv->nlines && rc == 0; i++) {
		const gb_invoice_line *l = &inv->lines[i];
		int d;

		if (l->kind != GB_LINE_DISCOUNT) {
			if (!is_usage(l->kind) && l->kind != GB_LINE_MINIMUM_SPEND &&
			    l->kind != GB_LINE_CREDIT)
				rc = gb_error_set(err, GB_ESCHEMA, "customer %s, invoice line %zu: unknown line kind %d",
						  gb_json_show(shown, inv->customer), i + 1,
						  (int)l->kind);
			else if (!is_usage(l->kind))
				mpz_add(adjust, adjust, l->amount);
			continue;
		}
		d = discount_kind(l);
		if (d < 0) {
			rc = gb_error_set(err, GB_ESCHEMA, "customer %s, invoice line %zu: cannot tell which usage the discount '%s' applies to",
					  gb_json_show(shown, inv->customer), i + 1,
					  gb_json_show(what, l->description));
			break;
		}
		mpz_set_ui(base, 0);
		for (j = first; j < pl->n; j++)
			if (discounted_by(pl->v[j].line->kind, d))
				mpz_add(base, base, pl->v[j].line->amount);
		if (mpz_sgn(base) == 0) {
			/* nothing of that kind (the discount is then zero) */
			mpz_add(adjust, adjust, l->amount);
			continue;
		}
		for (j = first; j < pl->n; j++) {
			const gb_invoice_line *u = pl->v[j].line;

			if (!discounted_by(u->kind, d))
				continue;
			mpq_set_z(share, l->amount);
			mpz_mul(mpq_numref(share), mpq_numref(share), u->amount);
			mpz_set(mpq_denref(share), base);
			mpq_canonicalize(share);
			mpq_add(pl->v[j].v[C_REVENUE], pl->v[j].v[C_REVENUE], share);
		}
	}
	/* minimum spend and credits, to all usage lines by revenue so far */
	if (rc == 0 && mpz_sgn(adjust) != 0) {
		mpq_set_ui(sum, 0, 1);
		for (j = first; j < pl->n; j++)
			mpq_add(sum, sum, pl->v[j].v[C_REVENUE]);
		if (mpq_sgn(sum) != 0) {
			/* r_i = b_i x (sum + A) / sum */
			mpq_set_z(share, adjust);
			mpq_add(share, share, sum);
			mpq_div(share, share, sum);
			for (j = first; j < pl->n; j++)
				mpq_mul(pl->v[j].v[C_REVENUE], pl->v[j].v[C_REVENUE],
					share);
		} else {
			piece *p = piece_new(pl);

			if (!p) {
				rc = gb_error_set(err, GB_ENOMEM, "out of memory");
			} else {
				for (k = 0; k < o->nby; k++)
					p->key[k] = key_of(o->by[k], inv, NULL);
				mpq_set_z(p->v[C_REVENUE], adjust);
			}
		}
	}
	/* minor units to currency units, as costs are */
	mpz_ui_pow_ui(base, 10, minor);
	for (j = first; j < pl->n && rc == 0; j++) {
		mpz_mul(mpq_denref(pl->v[j].v[C_REVENUE]),
			mpq_denref(pl->v[j].v[C_REVENUE]), base);
		mpq_canonicalize(pl->v[j].v[C_REVENUE]);
	}
	mpz_clears(base, adjust, NULL);
	mpq_clears(share, sum, NULL);
	return rc;
}

/* --- 2. rows ------------------------------------------------------------- */

static int key_cmp(const char *a, const char *b)
{
	if (!a || !b)
		return (!a) - (!b);   /* "does not apply" last */
	return strcmp(a, b);
}

/* Keys past the report's are NULL in every piece. */
static int piece_cmp(const void *pa, const void *pb)
{
	const piece *a = pa, *b = pb;
	size_t k;
	int c;

	for (k = 0; k < GB_MARGIN_MAX_KEYS; k++) {
		c = key_cmp(a->key[k], b->key[k]);
		if (c)
			return c;
	}
	return 0;
}

static int same_keys(const piece *a, const piece *b, size_t nby)
{
	size_t k;

	for (k = 0; k < nby; k++)
		if (key_cmp(a->key[k], b->key[k]) != 0)
			return 0;
	return 1;
}

/*
 * Sum sorted pieces into groups, in place: group g's sums are left in
 * pl->v[g] (the others keep their values, still initialised).  Returns the
 * number of groups.
 */
static size_t group_pieces(piece_list *pl, size_t nby)
{
	size_t i, out = 0;
	int c;

	for (i = 0; i < pl->n; i++) {
		piece *p = &pl->v[i];

		if (out > 0 && same_keys(&pl->v[out - 1], p, nby)) {
			for (c = 0; c < NCOLS; c++)
				mpq_add(pl->v[out - 1].v[c], pl->v[out - 1].v[c],
					p->v[c]);
			continue;
		}
		if (out != i) {
			piece t = pl->v[out];

			pl->v[out] = *p;
			*p = t;
		}
		out++;
	}
	return out;
}

/* --- 3. rounding that adds up -------------------------------------------- */

typedef struct rem_ref {
	size_t i;
	mpq_srcptr r;
} rem_ref;

/* Largest remainder first; equal remainders in row order. */
static int rem_cmp(const void *pa, const void *pb)
{
	const rem_ref *a = pa, *b = pb;
	int c = mpq_cmp(b->r, a->r);

	if (c)
		return c;
	return a->i < b->i ? -1 : a->i > b->i;
}

/*
 * Column c of groups v[0..n) in units of 10^-digits: the total is the
 * exact sum rounded once with mode, into *total; row i gets floor(value)
 * or floor(value) + 1, the extra units going to the largest remainders
 * (ties to the earlier row), so that the rows add up to the total.
 */
static int apportion(const piece *v, size_t n, int c, unsigned digits,
		     gb_rounding mode, mpz_t *out, mpz_t total, gb_error *err)
{
	mpq_t sum, s, *rem = NULL;
	mpz_t scale, floors, extra;
	rem_ref *refs = NULL;
	size_t i, k;
	int rc = 0;

	mpq_inits(sum, s, NULL);
	mpz_inits(scale, floors, extra, NULL);
	mpz_ui_pow_ui(scale, 10, digits);
	for (i = 0; i < n; i++)
		mpq_add(sum, sum, v[i].v[c]);
	gb_round(total, sum, digits, mode);
	if (n) {
		rem = gb_calloc(n, sizeof *rem);
		refs = gb_calloc(n, sizeof *refs);
		if (!rem || !refs) {
			gb_free(rem);
			gb_free(refs);
			mpq_clears(sum, s, NULL);
			mpz_clears(scale, floors, extra, NULL);
			return gb_error_set(err, GB_ENOMEM, "out of memory");
		}
	}
	for (i = 0; i < n; i++) {
		mpq_init(rem[i]);
		mpq_set(s, v[i].v[c]);
		mpz_mul(mpq_numref(s), mpq_numref(s), scale);
		mpq_canonicalize(s);
		mpz_fdiv_q(out[i], mpq_numref(s), mpq_denref(s));
		mpz_add(floors, floors, out[i]);
		mpq_set_z(rem[i], out[i]);
		mpq_sub(rem[i], s, rem[i]);
		refs[i].i = i;
		refs[i].r = rem[i];
	}
	mpz_sub(extra, total, floors);
	if (mpz_sgn(extra) < 0 || mpz_cmp_ui(extra, (unsigned long)n) > 0) {
		/* cannot happen: floor(sum) <= total <= ceil(sum) */
		rc = gb_error_set(err, GB_ERANGE, "margin: rounding could not be shared out");
	} else if (mpz_sgn(extra) > 0) {
		k = (size_t)mpz_get_ui(extra);
		qsort(refs, n, sizeof *refs, rem_cmp);
		for (i = 0; i < k; i++)
			mpz_add_ui(out[refs[i].i], out[refs[i].i], 1);
	}
	for (i = 0; i < n; i++)
		mpq_clear(rem[i]);
	gb_free(rem);
	gb_free(refs);
	mpq_clears(sum, s, NULL);
	mpz_clears(scale, floors, extra, NULL);
	return rc;
}

/* scaled / 10^digits into a rational. */
static void unscale(mpq_t out, const mpz_t scaled, unsigned digits)
{
	mpq_set_z(out, scaled);
	mpz_ui_pow_ui(mpq_denref(out), 10, digits);
	mpq_canonicalize(out);
}

static int make_rows(gb_margin *m, const piece *g, size_t n,
		     gb_rounding mode, gb_error *err)
{
	static const int cols[NCOLS] = {
		C_REVENUE, C_COST, C_HOURS, C_IDLE_HOURS, C_IDLE_COST
	};
	mpz_t *out = NULL, total;
	size_t i, k;
	int c, rc = 0;

	m->rows = gb_calloc(n ? n : 1, sizeof *m->rows);
	out = gb_calloc(n ? n : 1, sizeof *out);
	if (!m->rows || !out) {
		gb_free(out);
		return gb_error_set(err, GB_ENOMEM, "out of memory");
	}
	for (i = 0; i < n; i++)
		row_init(&m->rows[i]);
	m->nrows = n;
	for (i = 0; i < n && rc == 0; i++)
		for (k = 0; k < m->nby && rc == 0; k++)
			if (g[i].key[k] && !(m->rows[i].key[k] = gb_strdup(g[i].key[k])))
				rc = gb_error_set(err, GB_ENOMEM, "out of memory");
	mpz_init(total);
	for (i = 0; i < n; i++)
		mpz_init(out[i]);
	for (c = 0; c < NCOLS && rc == 0; c++) {
		int col = cols[c];
		int hours = col == C_HOURS || col == C_IDLE_HOURS;
		unsigned digits = hours ? GB_MARGIN_HOURS_DIGITS : m->minor_units;

		/* quantities are shown half-even, money with the table's mode */
		rc = apportion(g, n, col, digits, hours ? GB_ROUND_HALF_EVEN : mode,
			       out, total, err);
		for (i = 0; i <= n && rc == 0; i++) {
			gb_margin_row *r = i < n ? &m->rows[i] : &m->total;
			const mpz_t *v = i < n ? (const mpz_t *)&out[i] :
				(const mpz_t *)&total;

			switch (col) {
			case C_REVENUE: mpz_set(r->revenue, *v); break;
			case C_COST: mpz_set(r->cost, *v); break;
			case C_HOURS: unscale(r->gpu_hours, *v, digits); break;
			case C_IDLE_HOURS: unscale(r->idle_gpu_hours, *v, digits); break;
			default: mpz_set(r->idle_cost, *v); break;
			}
		}
	}
	for (i = 0; i < n; i++) {
		mpz_clear(out[i]);
		row_finish(&m->rows[i]);
	}
	row_finish(&m->total);
	mpz_clear(total);
	gb_free(out);
	return rc;
}

static int check_options(const gb_margin_options *o, gb_error *err)
{
	size_t k;

	if (!o || o->version != GB_MARGIN_OPTIONS_VERSION)
		return gb_error_set(err, GB_EINVAL, "gb_margin_compute: options missing or of another version");
	if (o->nby < 1 || o->nby > GB_MARGIN_MAX_KEYS)
		return gb_error_set(err, GB_EINVAL, "margin: group by one or two keys, not %zu",
				    o->nby);
	for (k = 0; k < o->nby; k++)
		if ((unsigned)o->by[k] >= NKEYS)
			return gb_error_set(err, GB_EINVAL, "margin: unknown key %d",
					    (int)o->by[k]);
	if (o->nby == 2 && o->by[0] == o->by[1])
		return gb_error_set(err, GB_EINVAL, "margin: the two keys are both '%s'",
				    key_names[o->by[0]]);
	if ((unsigned)o->rounding > GB_ROUND_UP)
		return gb_error_set(err, GB_EINVAL, "margin: unknown rounding mode");
	return 0;
}

int gb_margin_compute(gb_margin **out, const gb_invoice_set *set,
		      const gb_costs *costs, const gb_margin_options *o,
		      gb_error *err)
{
	piece_list pl = { NULL, 0, 0 };
	gb_margin *m;
	size_t i, n;
	int rc;

	gb_error_clear(err);
	if (!out || !set || !costs)
		return gb_error_set(err, GB_EINVAL, "gb_margin_compute: no output, invoices or costs");
	*out = NULL;
	rc = check_options(o, err);
	if (rc)
		return rc;
	rc = gb_costs_check_currency(costs, set->currency, err);
	if (rc)
		return rc;
	m = gb_calloc(1, sizeof *m);
	if (!m)
		return gb_error_set(err, GB_ENOMEM, "out of memory");
	row_init(&m->total);
	memcpy(m->currency, set->currency, sizeof m->currency);
	m->minor_units = set->minor_units;
	m->from = set->from;
	m->to = set->to;
	m->counts = set->counts;
	m->ninvoices = set->ninvoices;
	m->nby = o->nby;
	for (i = 0; i < o->nby; i++)
		m->by[i] = o->by[i];
	m->prices_name = gb_strdup(set->prices_name ? set->prices_name : "");
	m->costs_name = gb_strdup(costs->name ? costs->name : "");
	if (!m->prices_name || !m->costs_name)
		rc = gb_error_set(err, GB_ENOMEM, "out of memory");
	for (i = 0; i < set->ninvoices && rc == 0; i++)
		rc = invoice_pieces(&pl, &set->invoices[i], set->minor_units,
				    costs, o, err);
	if (rc == 0) {
		if (pl.n)
			qsort(pl.v, pl.n, sizeof *pl.v, piece_cmp);
		n = group_pieces(&pl, o->nby);
		rc = make_rows(m, pl.v, n, o->rounding, err);
	}
	piece_list_free(&pl);
	if (rc) {
		gb_margin_free(m);
		return rc;
	}
	*out = m;
	return 0;
}

/* --- writers: shared ----------------------------------------------------- */

#define COLS_MAX (GB_MARGIN_MAX_KEYS + 7)
#define CELL_MAX 256

static const char *const key_heads[] = {
	"Customer", "SKU", "Region", "Market", "Model"
};
static const char *const num_heads[] = {
	"Revenue", "Cost", "Margin", "Margin %", "GPU-hours", "Idle GPU-hours",
	"Idle cost"
};
static const char *const num_names[] = {
	"revenue", "cost", "margin", "margin_pct", "gpu_hours",
	"idle_gpu_hours", "idle_cost"
};

/*
 * The seven numbers of a row as text: money with the currency's minor
 * units, margin % with 2 decimals (half-even) or "" without revenue,
 * GPU-hours with up to 6 decimals.  Returns 0 or GB_ERANGE.
 */
static int number_cells(char cell[7][CELL_MAX], const gb_margin_row *r,
			unsigned minor)
{
	size_t n = 0;

	n |= gb_money_format(cell[0], CELL_MAX, r->revenue, minor) >= CELL_MAX;
	n |= gb_money_format(cell[1], CELL_MAX, r->cost, minor) >= CELL_MAX;
	n |= gb_money_format(cell[2], CELL_MAX, r->margin, minor) >= CELL_MAX;
	if (r->has_margin_pct)
		n |= gb_decimal_format(cell[3], CELL_MAX, r->margin_pct, 2, 2,
				       GB_ROUND_HALF_EVEN) >= CELL_MAX;
	else
		cell[3][0] = '\0';
	n |= gb_decimal_format(cell[4], CELL_MAX, r->gpu_hours, 0,
			       GB_MARGIN_HOURS_DIGITS, GB_ROUND_HALF_EVEN) >= CELL_MAX;
	n |= gb_decimal_format(cell[5], CELL_MAX, r->idle_gpu_hours, 0,
			       GB_MARGIN_HOURS_DIGITS, GB_ROUND_HALF_EVEN) >= CELL_MAX;
	n |= gb_money_format(cell[6], CELL_MAX, r->idle_cost, minor) >= CELL_MAX;
	return n ? GB_ERANGE : 0;
}

static int too_large(gb_error *err)
{
	return gb_error_set(err, GB_ERANGE, "amount too large to print");
}

/* --- text ---------------------------------------------------------------- */

static size_t utf8_width(const char *s)
{
	size_t w = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			w++;
	return w;
}

static void pad(gb_buf *b, size_t n)
{
	static const char spaces[] = "                                ";

	while (n > 0) {
		size_t k = n < sizeof spaces - 1 ? n : sizeof spaces - 1;

		gb_buf_add(b, spaces, k);
		n -= k;
	}
}

typedef struct text_row {
	char cell[COLS_MAX][CELL_MAX];
} text_row;

/*
 * Fill the cells of one line of the table: keys (or labels) then numbers.
 * Returns 0 or GB_ERANGE.
 */
static int text_cells(text_row *t, const gb_margin *m, const char *k0,
		      const char *k1, const gb_margin_row *r)
{
	char num[7][CELL_MAX];
	size_t k, c;
	int rc = number_cells(num, r, m->minor_units);

	for (k = 0; k < m->nby; k++) {
		const char *s = k == 0 ? k0 : k1;

		snprintf(t->cell[k], CELL_MAX, "%s", s ? s : "-");
	}
	for (c = 0; c < 7; c++)
		snprintf(t->cell[m->nby + c], CELL_MAX, "%s",
			 c == 3 && !r->has_margin_pct ? "-" : num[c]);
	return rc;
}

static void put_text_row(gb_buf *b, const text_row *t, const size_t *width,
			 size_t ncols, size_t nkeys)
{
	size_t c;

	gb_buf_puts(b, "  ");
	for (c = 0; c < ncols; c++) {
		size_t w = utf8_width(t->cell[c]);
		int left = c < nkeys;

		if (!left)
			pad(b, width[c] - w);
		gb_buf_puts(b, t->cell[c]);
		if (c + 1 < ncols) {
			if (left)
				pad(b, width[c] - w);
			gb_buf_puts(b, "  ");
		}
	}
	gb_buf_puts(b, "\n");
}

/* Sum of rows [lo, hi) as shown, for a subtotal. */
static void subtotal(gb_margin_row *s, const gb_margin *m, size_t lo,
		     size_t hi)
{
	size_t i;

	mpz_set_ui(s->revenue, 0);
	mpz_set_ui(s->cost, 0);
	mpq_set_ui(s->gpu_hours, 0, 1);
	mpq_set_ui(s->idle_gpu_hours, 0, 1);
	mpz_set_ui(s->idle_cost, 0);
	for (i = lo; i < hi; i++) {
		const gb_margin_row *r = &m->rows[i];

		mpz_add(s->revenue, s->revenue, r->revenue);
		mpz_add(s->cost, s->cost, r->cost);
		mpq_add(s->gpu_hours, s->gpu_hours, r->gpu_hours);
		mpq_add(s->idle_gpu_hours, s->idle_gpu_hours, r->idle_gpu_hours);
		mpz_add(s->idle_cost, s->idle_cost, r->idle_cost);
	}
	row_finish(s);
}

/* One line of the table: measure its cells into width, or write it. */
static int text_line(gb_buf *b, text_row *t, const gb_margin *m, size_t *width,
		     int emit, const char *k0, const char *k1,
		     const gb_margin_row *r, gb_error *err)
{
	size_t ncols = m->nby + 7, c;

	if (text_cells(t, m, k0, k1, r))
		return too_large(err);
	if (emit) {
		put_text_row(b, t, width, ncols, m->nby);
		return 0;
	}
	for (c = 0; c < ncols; c++)
		if (utf8_width(t->cell[c]) > width[c])
			width[c] = utf8_width(t->cell[c]);
	return 0;
}

/*
 * The table's lines in order: each row, and with two keys a subtotal
 * after each group of rows sharing the first key, then the total.  With
 * emit unset it only measures the column widths.
 */
static int text_table(gb_buf *b, const gb_margin *m, size_t *width, int emit,
		      gb_write_fn fn, void *payload, gb_error *err)
{
	size_t i, start = 0;
	gb_margin_row sub;
	text_row *t = gb_malloc(sizeof *t);
	int rc = 0;

	if (!t)
		return gb_error_set(err, GB_ENOMEM, "out of memory");
	row_init(&sub);
	for (i = 0; i < m->nrows && rc == 0; i++) {
		const gb_margin_row *r = &m->rows[i];

		rc = text_line(b, t, m, width, emit, r->key[0],
			       m->nby > 1 ? r->key[1] : NULL, r, err);
		if (rc == 0 && m->nby > 1 &&
		    (i + 1 == m->nrows ||
		     key_cmp(m->rows[i + 1].key[0], r->key[0]) != 0)) {
			subtotal(&sub, m, start, i + 1);
			rc = text_line(b, t, m, width, emit, r->key[0], "subtotal",
				       &sub, err);
			start = i + 1;
		}
		if (rc == 0 && emit && b->len >= 65536)
			rc = gb_buf_flush(b, fn, payload, err);
	}
	if (rc == 0)
		rc = text_line(b, t, m, width, emit, "Total", "", &m->total, err);
	row_clear(&sub);
	gb_free(t);
	return rc;
}

int gb_margin_write_text(const gb_margin *m, gb_write_fn fn, void *payload,
			 gb_error *err)
{
	char from[GB_TIME_TEXT_MAX], to[GB_TIME_TEXT_MAX];
	const gb_counts *c = &m->counts;
	size_t width[COLS_MAX] = { 0 }, k;
	text_row *head;
	gb_buf b;
	int rc;

	gb_error_clear(err);
	head = gb_calloc(1, sizeof *head);
	if (!head)
		return gb_error_set(err, GB_ENOMEM, "out of memory");
	for (k = 0; k < m->nby; k++)
		snprintf(head->cell[k], CELL_MAX, "%s", key_heads[m->by[k]]);
	for (k = 0; k < 7; k++)
		snprintf(head->cell[m->nby + k], CELL_MAX, "%s", num_heads[k]);
	for (k = 0; k < m->nby + 7; k++)
		width[k] = utf8_width(head->cell[k]);
	gb_buf_init(&b);
	rc = text_table(&b, m, width, 0, fn, payload, err);
	if (rc == 0) {
		gb_time_format(from, sizeof from, m->from);
		gb_time_format(to, sizeof to, m->to);
		gb_buf_printf(&b, "Margin for %s to %s (%s, prices: %s, costs: %s)\n\n",
			      from, to, m->currency, m->prices_name, m->costs_name);
		put_text_row(&b, head, width, m->nby + 7, m->nby);
		rc = text_table(&b, m, width, 1, fn, payload, err);
	}
	if (rc == 0) {
		gb_buf_puts(&b, "\nRecords: ");
		gb_buf_counts_text(&b, c);
		gb_buf_puts(&b, "\n");
		rc = gb_buf_flush(&b, fn, payload, err);
	}
	gb_buf_free(&b);
	gb_free(head);
	return rc;
}

/* --- csv ----------------------------------------------------------------- */



int gb_margin_write_csv(const gb_margin *m, gb_write_fn fn, void *payload,
			gb_error *err)
{
	char (*num)[CELL_MAX];
	gb_buf b;
	size_t i, k;
	int rc = 0;

	gb_error_clear(err);
	num = gb_malloc(7 * sizeof *num);
	if (!num)
		return gb_error_set(err, GB_ENOMEM, "out of memory");
	gb_buf_init(&b);
	for (k = 0; k < m->nby; k++)
		gb_buf_printf(&b, "%s,", key_names[m->by[k]]);
	for (k = 0; k < 7; k++)
		gb_buf_printf(&b, "%s,", num_names[k]);
	gb_buf_puts(&b, "currency\r\n");
	for (i = 0; i < m->nrows && rc == 0; i++) {
		const gb_margin_row *r = &m->rows[i];

		if (number_cells(num, r, m->minor_units)) {
			rc = too_large(err);
			break;
		}
		for (k = 0; k < m->nby; k++)
			gb_buf_csv_cell(&b, r->key[k] ? r->key[k] : "", 0);
		for (k = 0; k < 7; k++)
			gb_buf_csv_cell(&b, num[k], 0);
		gb_buf_csv_cell(&b, m->currency, 1);
		if (b.len >= 65536)
			rc = gb_buf_flush(&b, fn, payload, err);
	}
	if (rc == 0)
		rc = gb_buf_flush(&b, fn, payload, err);
	gb_buf_free(&b);
	gb_free(num);
	return rc;
}

/* --- json ---------------------------------------------------------------- */


/* The members of a row (keys when with_keys), one per line. */
static int json_row(gb_buf *b, const gb_margin *m, const gb_margin_row *r,
		    const char *in, int with_keys)
{
	char num[7][CELL_MAX];
	size_t k;

	if (number_cells(num, r, m->minor_units))
		return GB_ERANGE;
	for (k = 0; with_keys && k < m->nby; k++) {
		gb_buf_printf(b, "%s\"%s\": ", in, key_names[m->by[k]]);
		if (r->key[k])
			gb_buf_json_string(b, r->key[k]);
		else
			gb_buf_puts(b, "null");
		gb_buf_puts(b, ",\n");
	}
	for (k = 0; k < 7; k++) {
		if (k == 3 && !r->has_margin_pct)
			gb_buf_printf(b, "%s\"%s\": null", in, num_names[k]);
		else
			gb_buf_printf(b, "%s\"%s\": \"%s\"", in, num_names[k], num[k]);
		gb_buf_puts(b, k + 1 < 7 ? ",\n" : "\n");
	}
	return 0;
}

int gb_margin_write_json(const gb_margin *m, gb_write_fn fn, void *payload,
			 gb_error *err)
{
	char from[GB_TIME_TEXT_MAX], to[GB_TIME_TEXT_MAX];
	const gb_counts *c = &m->counts;
	gb_buf b;
	size_t i, k;
	int rc = 0;

	gb_error_clear(err);
	gb_buf_init(&b);
	gb_time_format(from, sizeof from, m->from);
	gb_time_format(to, sizeof to, m->to);
	gb_buf_puts(&b, "{\n  \"format\": \"gpubill-margin/1\",\n  \"prices\": ");
	gb_buf_json_string(&b, m->prices_name);
	gb_buf_puts(&b, ",\n  \"costs\": ");
	gb_buf_json_string(&b, m->costs_name);
	gb_buf_printf(&b, ",\n  \"currency\": \"%s\",\n  \"minor_units\": %u,\n",
		      m->currency, m->minor_units);
	gb_buf_printf(&b, "  \"period\": {\"from\": \"%s\", \"to\": \"%s\"},\n",
		      from, to);
	gb_buf_puts(&b, "  \"by\": [");
	for (k = 0; k < m->nby; k++)
		gb_buf_printf(&b, "%s\"%s\"", k ? ", " : "", key_names[m->by[k]]);
	gb_buf_puts(&b, m->nrows ? "],\n  \"rows\": [\n" : "],\n  \"rows\": [],\n");
	for (i = 0; i < m->nrows && rc == 0; i++) {
		gb_buf_puts(&b, "    {\n");
		if (json_row(&b, m, &m->rows[i], "      ", 1)) {
			rc = too_large(err);
			break;
		}
		gb_buf_puts(&b, i + 1 < m->nrows ? "    },\n" : "    }\n  ],\n");
		if (b.len >= 65536)
			rc = gb_buf_flush(&b, fn, payload, err);
	}
	if (rc == 0) {
		gb_buf_puts(&b, "  \"total\": {\n");
		if (json_row(&b, m, &m->total, "    ", 0))
			rc = too_large(err);
	}
	if (rc == 0) {
		gb_buf_puts(&b, "  },\n  \"summary\": {\n");
		gb_buf_counts_json(&b, c);
		gb_buf_printf(&b, "    \"invoices\": %zu\n  }\n}\n",
			      m->ninvoices);
		rc = gb_buf_flush(&b, fn, payload, err);
	}
	gb_buf_free(&b);
	return rc;
}
