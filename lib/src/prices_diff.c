/*
 * prices_diff.c - gpubill diff: two invoice sets of the same usage compared
 * per customer and per line, the rate changes between the two pricing
 * tables during the period, the threshold, and the three writers.
 *
 * The rules (how lines are matched, which rate cards are compared, when a
 * change exceeds the threshold) are stated in gpubill/diff.h and in
 * gpubill(1); this file follows them.  Money stays in minor units (mpz)
 * and rationals (mpq): percentages are compared exactly and only rounded
 * (half-even, 2 places) for display.
 */
#include "internal.h"
#include "invoice_internal.h"
#include "prices_internal.h"

#include <gpubill/diff.h>
#include <gpubill/money.h>
#include <gpubill/timestamp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct gb_diff {
	char currency[4];
	unsigned minor_units;
	char *old_name;
	char *new_name;
	int64_t from, to;
	gb_counts old_counts, new_counts;
	uint64_t rejected_new_only, rejected_old_only;
	gb_diff_limit_kind limit;
	char *limit_text;          /* as given: "5%", "100.00" */
	mpq_t limit_value;         /* a percentage, or minor units */
	mpz_t old_total, new_total, delta;
	int total_exceeded;
	size_t nexceeded;
	size_t ncustomers;         /* initialised entries of customers */
	gb_diff_customer *customers;
	int has_rates;             /* both tables were given */
	size_t nrates, rates_cap;  /* initialised entries of rates */
	gb_rate_change *rates;
};

static const char *const change_names[] = {
	"unchanged", "changed", "added", "removed"
};

const char *gb_diff_change_name(gb_diff_change change)
{
	if ((unsigned)change >= sizeof change_names / sizeof change_names[0])
		return "unknown";
	return change_names[change];
}

static const char *const item_names[] = {
	"setting", "gpu", "spot_series", "tokens"
};

const char *gb_rate_item_name(gb_rate_item item)
{
	if ((unsigned)item >= sizeof item_names / sizeof item_names[0])
		return "unknown";
	return item_names[item];
}

/* --- the threshold ----------------------------------------------------------- */

/*
 * "5%" or "2.5%": a percentage; "100.00": an amount in major units with at
 * most minor decimals, stored in minor units.
 */
static int limit_parse(const char *text, unsigned minor,
		       gb_diff_limit_kind *kind, mpq_t value, gb_error *err)
{
	size_t len = text ? strlen(text) : 0;
	const char *why = NULL, *dot;
	int pct;

	if (len == 0)
		return gb_error_set(err, GB_EINVAL,
				    "max change is empty: give a percentage like 5%% or an amount like 100.00");
	pct = text[len - 1] == '%';
	if (pct)
		len--;
	if (len == 0 || gb_decimal_parse(value, text, len, 0, &why) != 0)
		return gb_error_set(err, GB_EINVAL,
				    "max change '%s': expected a percentage like 5%% or 2.5%%, or an amount like 100.00 (%s)",
				    text, why ? why : "no number");
	if (pct) {
		*kind = GB_DIFF_LIMIT_PERCENT;
		return 0;
	}
	dot = memchr(text, '.', len);
	if (dot && (size_t)(text + len - dot - 1) > minor) {
		if (minor == 0)
			return gb_error_set(err, GB_EINVAL,
					    "max change '%s': an amount in this currency is a whole number (it has no minor units)",
					    text);
		return gb_error_set(err, GB_EINVAL,
				    "max change '%s': an amount has at most %u decimal%s in this currency",
				    text, minor, minor == 1 ? "" : "s");
	}
	{
		mpq_t scale;

		mpq_init(scale);
		mpz_ui_pow_ui(mpq_numref(scale), 10, minor);
		mpq_mul(value, value, scale);
		mpq_clear(scale);
	}
	*kind = GB_DIFF_LIMIT_AMOUNT;
	return 0;
}

int gb_diff_limit_check(const char *text, unsigned minor_units,
			gb_diff_limit_kind *kind, gb_error *err)
{
	gb_diff_limit_kind k = GB_DIFF_LIMIT_NONE;
	mpq_t v;
	int rc;

	if (minor_units > GB_DECIMAL_MAX_FRACTION)
		minor_units = GB_DECIMAL_MAX_FRACTION;
	mpq_init(v);
	rc = limit_parse(text, minor_units, &k, v, err);
	mpq_clear(v);
	if (kind)
		*kind = rc ? GB_DIFF_LIMIT_NONE : k;
	return rc;
}

/* Strictly greater than the threshold (see gpubill/diff.h). */
static int exceeds(const gb_diff *d, const mpz_t old, const mpz_t delta)
{
	mpq_t a, b;
	int over;

	if (d->limit == GB_DIFF_LIMIT_NONE)
		return 0;
	if (d->limit == GB_DIFF_LIMIT_PERCENT && mpz_sgn(old) == 0)
		return mpz_sgn(delta) != 0;
	mpq_inits(a, b, NULL);
	mpq_set_z(a, delta);
	mpq_abs(a, a);
	if (d->limit == GB_DIFF_LIMIT_AMOUNT) {
		over = mpq_cmp(a, d->limit_value) > 0;
	} else {
		/* |delta| x 100 > pct x |old| */
		mpq_set_ui(b, 100, 1);
		mpq_mul(a, a, b);
		mpq_set_z(b, old);
		mpq_abs(b, b);
		mpq_mul(b, b, d->limit_value);
		over = mpq_cmp(a, b) > 0;
	}
	mpq_clears(a, b, NULL);
	return over;
}

/* --- percentages and signed amounts as text ------------------------------------ */

/* sign then digits into buf (always terminated); returns the full length,
 * like snprintf. */
static size_t signed_text(char *buf, size_t size, const char *sign,
			  const char *digits)
{
	size_t ns = strlen(sign), nd = strlen(digits), i = 0, j;

	for (j = 0; j < ns && i + 1 < size; j++)
		buf[i++] = sign[j];
	for (j = 0; j < nd && i + 1 < size; j++)
		buf[i++] = digits[j];
	if (size)
		buf[i] = '\0';
	return ns + nd;
}

static size_t percent_text(char *buf, size_t size, const mpq_t old,
			   const mpq_t delta, int plus)
{
	char digits[128];
	mpq_t pct;

	if (mpq_sgn(delta) == 0)
		return (size_t)snprintf(buf, size, "0.00");
	if (mpq_sgn(old) == 0)
		return (size_t)snprintf(buf, size, "new");
	/* |delta / old| x 100; the sign is the delta's */
	mpq_init(pct);
	mpq_div(pct, delta, old);
	mpq_abs(pct, pct);
	mpz_mul_ui(mpq_numref(pct), mpq_numref(pct), 100);
	mpq_canonicalize(pct);
	gb_decimal_format(digits, sizeof digits, pct, 2, 2, GB_ROUND_HALF_EVEN);
	mpq_clear(pct);
	return signed_text(buf, size, mpq_sgn(delta) < 0 ? "-" : plus ? "+" : "",
			   digits);
}

size_t gb_diff_percent_text(char *buf, size_t size, const mpq_t old,
			    const mpq_t delta)
{
	return percent_text(buf, size, old, delta, 1);
}

static size_t percent_text_z(char *buf, size_t size, const mpz_t old,
			     const mpz_t delta, int plus)
{
	mpq_t o, dq;
	size_t n;

	mpq_inits(o, dq, NULL);
	mpq_set_z(o, old);
	mpq_set_z(dq, delta);
	n = percent_text(buf, size, o, dq, plus);
	mpq_clears(o, dq, NULL);
	return n;
}

/* A signed amount in minor units: "+12.34", "-0.50", "0.00" (plus = 1). */
static void money_signed(char *buf, size_t size, const mpz_t v,
			 unsigned minor, int plus)
{
	char digits[128];
	mpz_t a;

	mpz_init(a);
	mpz_abs(a, v);
	gb_money_format(digits, sizeof digits, a, minor);
	mpz_clear(a);
	signed_text(buf, size, mpz_sgn(v) < 0 ? "-" : plus && mpz_sgn(v) > 0 ? "+" : "",
		    digits);
}

static void decimal_signed(char *buf, size_t size, const mpq_t v,
			   unsigned min_frac, int plus)
{
	char digits[128];
	mpq_t a;

	mpq_init(a);
	mpq_abs(a, v);
	gb_decimal_format(digits, sizeof digits, a, min_frac,
			  GB_DECIMAL_MAX_FRACTION, GB_ROUND_HALF_EVEN);
	mpq_clear(a);
	snprintf(buf, size, "%s%s",
		 mpq_sgn(v) < 0 ? "-" : plus && mpq_sgn(v) > 0 ? "+" : "",
		 digits);
}

/* --- lines ----------------------------------------------------------------------- */

static int is_contract_kind(gb_line_kind k)
{
	return k >= GB_LINE_DISCOUNT;
}

/* The line key without the unit price. */
static int line_key_cmp(const gb_invoice_line *a, const gb_invoice_line *b)
{
	int c;

	if (a->kind != b->kind)
		return a->kind < b->kind ? -1 : 1;
	if ((c = strcmp(a->sku, b->sku)) != 0)
		return c;
	if ((c = strcmp(a->model, b->model)) != 0)
		return c;
	if ((c = strcmp(a->region, b->region)) != 0)
		return c;
	if ((c = strcmp(a->reference, b->reference)) != 0)
		return c;
	if (a->tier != b->tier)
		return a->tier < b->tier ? -1 : 1;
	if (!a->batch != !b->batch)
		return a->batch ? 1 : -1;
	return 0;
}

/* Key, then invoice order (lines of an invoice are one array). */
static int line_ptr_cmp(const void *pa, const void *pb)
{
	const gb_invoice_line *a = *(const gb_invoice_line *const *)pa;
	const gb_invoice_line *b = *(const gb_invoice_line *const *)pb;
	int c = line_key_cmp(a, b);

	if (c)
		return c;
	return a < b ? -1 : a > b;
}

typedef struct line_list {
	gb_diff_line *v;
	size_t n, cap;
} line_list;

static int line_push(line_list *ll, gb_diff_change ch,
		     const gb_invoice_line *o, const gb_invoice_line *nw)
{
	gb_diff_line *l;

	if (ll->n == ll->cap) {
		size_t cap = ll->cap ? ll->cap * 2 : 8;
		gb_diff_line *v = gb_realloc(ll->v, cap * sizeof *v);

		if (!v)
			return GB_ENOMEM;
		ll->v = v;
		ll->cap = cap;
	}
	l = &ll->v[ll->n++];
	l->change = ch;
	l->old_line = o;
	l->new_line = nw;
	mpz_init(l->delta);
	if (nw)
		mpz_set(l->delta, nw->amount);
	if (o)
		mpz_sub(l->delta, l->delta, o->amount);
	return 0;
}

static void line_list_clear(gb_diff_line *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		mpz_clear(v[i].delta);
	gb_free(v);
}

static int line_differs(const gb_invoice_line *a, const gb_invoice_line *b)
{
	return !mpq_equal(a->unit_price, b->unit_price) ||
	       !mpq_equal(a->quantity, b->quantity) ||
	       mpz_cmp(a->amount, b->amount) != 0;
}

/* Does old line a match new line b at this step of the pairing? */
static int step_match(int step, const gb_invoice_line *a,
		      const gb_invoice_line *b)
{
	int same_q = mpq_equal(a->quantity, b->quantity) != 0;
	int same_p = mpq_equal(a->unit_price, b->unit_price) != 0;

	switch (step) {
	case 0: return same_q && same_p;
	case 1: return same_q;
	default: return same_p;
	}
}

/*
 * Pair one key group: old lines go[0..na), new lines gn[0..nb), both in
 * invoice order.  po[i] receives the index of old line i's partner in gn,
 * or -1.
 */
static void pair_group(const gb_invoice_line *const *go, size_t na,
		       const gb_invoice_line *const *gn, size_t nb,
		       long *po, unsigned char *used_new)
{
	size_t i, j, left_a = 0, left_b = 0;
	int step;

	for (i = 0; i < na; i++)
		po[i] = -1;
	memset(used_new, 0, nb);
	if (na && is_contract_kind(go[0]->kind)) {
		/* same contracts on both sides: pair by position */
		for (i = 0; i < na && i < nb; i++) {
			po[i] = (long)i;
			used_new[i] = 1;
		}
		return;
	}
	for (step = 0; step < 3; step++) {
		for (i = 0; i < na; i++) {
			if (po[i] >= 0)
				continue;
			for (j = 0; j < nb; j++) {
				if (!used_new[j] && step_match(step, go[i], gn[j])) {
					po[i] = (long)j;
					used_new[j] = 1;
					break;
				}
			}
		}
	}
	for (i = 0; i < na; i++)
		left_a += po[i] < 0;
	for (j = 0; j < nb; j++)
		left_b += !used_new[j];
	if (left_a == 0 || left_a != left_b)
		return;
	for (i = 0, j = 0; i < na; i++) {
		if (po[i] >= 0)
			continue;
		while (used_new[j])
			j++;
		po[i] = (long)j;
		used_new[j++] = 1;
	}
}

static const gb_invoice_line **sorted_lines(const gb_invoice *inv, int *rc)
{
	const gb_invoice_line **v;
	size_t i;

	if (!inv || inv->nlines == 0)
		return NULL;
	v = gb_malloc(inv->nlines * sizeof *v);
	if (!v) {
		*rc = GB_ENOMEM;
		return NULL;
	}
	for (i = 0; i < inv->nlines; i++)
		v[i] = &inv->lines[i];
	qsort(v, inv->nlines, sizeof *v, line_ptr_cmp);
	return v;
}

/* The lines that differ between the two invoices of one customer. */
static int diff_lines(gb_diff_customer *c, const gb_invoice *o,
		      const gb_invoice *nw)
{
	size_t na = o ? o->nlines : 0, nb = nw ? nw->nlines : 0;
	const gb_invoice_line **a, **b;
	size_t i = 0, j = 0;
	unsigned char *used = NULL;
	long *po = NULL;
	line_list ll = { NULL, 0, 0 };
	int rc = 0;

	a = sorted_lines(o, &rc);
	b = sorted_lines(nw, &rc);
	if (rc == 0 && (na || nb)) {
		po = gb_malloc((na ? na : 1) * sizeof *po);
		used = gb_malloc(nb ? nb : 1);
		if (!po || !used)
			rc = GB_ENOMEM;
	}
	while (rc == 0 && (i < na || j < nb)) {
		size_t i1 = i, j1 = j, k;
		int cmp = i >= na ? 1 : j >= nb ? -1 : line_key_cmp(a[i], b[j]);

		/* the group: equal keys on either side */
		if (cmp <= 0)
			for (i1 = i + 1; i1 < na && line_key_cmp(a[i], a[i1]) == 0; i1++)
				;
		if (cmp >= 0)
			for (j1 = j + 1; j1 < nb && line_key_cmp(b[j], b[j1]) == 0; j1++)
				;
		pair_group(a + i, i1 - i, b + j, j1 - j, po, used);
		for (k = 0; k < i1 - i && rc == 0; k++) {
			if (po[k] < 0)
				rc = line_push(&ll, GB_DIFF_REMOVED, a[i + k], NULL);
			else if (line_differs(a[i + k], b[j + (size_t)po[k]]))
				rc = line_push(&ll, GB_DIFF_CHANGED, a[i + k],
					       b[j + (size_t)po[k]]);
		}
		for (k = 0; k < j1 - j && rc == 0; k++)
			if (!used[k])
				rc = line_push(&ll, GB_DIFF_ADDED, NULL, b[j + k]);
		i = i1;
		j = j1;
	}
	gb_free(a);
	gb_free(b);
	gb_free(po);
	gb_free(used);
	c->lines = ll.v;
	c->nlines = ll.n;
	return rc;
}

/* --- customers ----------------------------------------------------------------- */

static int diff_customers(gb_diff *d, const gb_invoice_set *os,
			  const gb_invoice_set *ns)
{
	size_t no = gb_invoice_set_count(os), nn = gb_invoice_set_count(ns);
	size_t i = 0, j = 0;
	int rc = 0;

	if (no + nn) {
		d->customers = gb_calloc(no + nn, sizeof *d->customers);
		if (!d->customers)
			return GB_ENOMEM;
	}
	while (rc == 0 && (i < no || j < nn)) {
		const gb_invoice *o = i < no ? gb_invoice_set_get(os, i) : NULL;
		const gb_invoice *nw = j < nn ? gb_invoice_set_get(ns, j) : NULL;
		gb_diff_customer *c = &d->customers[d->ncustomers++];
		int cmp = !o ? 1 : !nw ? -1 : strcmp(o->customer, nw->customer);

		if (cmp < 0)
			nw = NULL;
		if (cmp > 0)
			o = NULL;
		i += o != NULL;
		j += nw != NULL;
		mpz_inits(c->old_total, c->new_total, c->delta, NULL);
		c->customer = o ? o->customer : nw->customer;
		c->in_old = o != NULL;
		c->in_new = nw != NULL;
		if (o)
			mpz_set(c->old_total, o->total);
		if (nw)
			mpz_set(c->new_total, nw->total);
		mpz_sub(c->delta, c->new_total, c->old_total);
		c->exceeded = exceeds(d, c->old_total, c->delta);
		d->nexceeded += c->exceeded != 0;
		mpz_add(d->old_total, d->old_total, c->old_total);
		mpz_add(d->new_total, d->new_total, c->new_total);
		rc = diff_lines(c, o, nw);
	}
	mpz_sub(d->delta, d->new_total, d->old_total);
	d->total_exceeded = exceeds(d, d->old_total, d->delta);
	return rc;
}

/* --- rate changes ---------------------------------------------------------------- */

typedef struct rkey {
	gb_rate_item item;
	const char *sku, *model, *region, *field, *term;
	int64_t spot_from;
	unsigned tier;
} rkey;

typedef struct rctx {
	gb_diff *d;
	int64_t from, to;      /* the piece of the period being compared */
	unsigned minor;
	int rc;
} rctx;

static int same_change(const gb_rate_change *r, const rkey *k,
		       gb_diff_change ch, const char *ot, const char *nt)
{
	return r->change == ch && r->item == k->item && r->tier == k->tier &&
	       r->spot_from == k->spot_from && strcmp(r->sku, k->sku) == 0 &&
	       strcmp(r->model, k->model) == 0 &&
	       strcmp(r->region, k->region) == 0 &&
	       strcmp(r->field, k->field) == 0 && strcmp(r->term, k->term) == 0 &&
	       strcmp(r->old_text, ot) == 0 && strcmp(r->new_text, nt) == 0;
}

static void rate_change_clear(gb_rate_change *r)
{
	gb_free((char *)r->sku);
	gb_free((char *)r->model);
	gb_free((char *)r->region);
	gb_free((char *)r->term);
	gb_free((char *)r->old_text);
	gb_free((char *)r->new_text);
	mpq_clears(r->old_value, r->new_value, r->delta, NULL);
}

/*
 * Record a difference over the current piece; one that already holds up
 * to the piece's start (the same change, the same values) is extended.
 * ov and nv are given when both sides are plain numbers.
 */
static void emit(rctx *c, const rkey *k, gb_diff_change ch, const char *ot,
		 const char *nt, const mpq_t *ov, const mpq_t *nv)
{
	gb_diff *d = c->d;
	gb_rate_change *r;
	size_t i;

	if (c->rc)
		return;
	for (i = d->nrates; i-- > 0;) {
		r = &d->rates[i];
		if (r->to == c->from && same_change(r, k, ch, ot, nt)) {
			r->to = c->to;
			return;
		}
	}
	if (d->nrates == d->rates_cap) {
		size_t cap = d->rates_cap ? d->rates_cap * 2 : 16;
		gb_rate_change *v = gb_realloc(d->rates, cap * sizeof *v);

		if (!v) {
			c->rc = GB_ENOMEM;
			return;
		}
		d->rates = v;
		d->rates_cap = cap;
	}
	r = &d->rates[d->nrates++];
	memset(r, 0, sizeof *r);
	mpq_inits(r->old_value, r->new_value, r->delta, NULL);
	r->change = ch;
	r->from = c->from;
	r->to = c->to;
	r->item = k->item;
	r->field = k->field;
	r->spot_from = k->spot_from;
	r->tier = k->tier;
	r->sku = gb_strdup(k->sku);
	r->model = gb_strdup(k->model);
	r->region = gb_strdup(k->region);
	r->term = gb_strdup(k->term);
	r->old_text = gb_strdup(ot);
	r->new_text = gb_strdup(nt);
	if (!r->sku || !r->model || !r->region || !r->term || !r->old_text ||
	    !r->new_text) {
		c->rc = GB_ENOMEM;
		return;
	}
	if (ov && nv) {
		r->has_delta = 1;
		mpq_set(r->old_value, *ov);
		mpq_set(r->new_value, *nv);
		mpq_sub(r->delta, *nv, *ov);
	}
}

static void key_init(rkey *k, gb_rate_item item)
{
	memset(k, 0, sizeof *k);
	k->item = item;
	k->sku = k->model = k->region = k->field = k->term = "";
}

static void put_decimal(gb_buf *b, const mpq_t v, unsigned min_frac)
{
	char text[160];

	gb_decimal_format(text, sizeof text, v, min_frac,
			  GB_DECIMAL_MAX_FRACTION, GB_ROUND_HALF_EVEN);
	gb_buf_puts(b, text);
}

/* "2.50", or "graduated: 2.50 up to 1000, 2.10 above". */
static void price_text(gb_buf *b, const gb_price *p, unsigned minor)
{
	size_t t;

	if (p->mode == GB_PRICE_FLAT) {
		put_decimal(b, p->flat, minor);
		return;
	}
	gb_buf_puts(b, p->mode == GB_PRICE_GRADUATED ? "graduated: " : "volume: ");
	for (t = 0; t < p->ntiers; t++) {
		if (t)
			gb_buf_puts(b, ", ");
		put_decimal(b, p->tiers[t].price, minor);
		if (p->tiers[t].bounded) {
			gb_buf_puts(b, " up to ");
			put_decimal(b, p->tiers[t].up_to, 0);
		} else {
			gb_buf_puts(b, " above");
		}
	}
}

static int same_tier_bounds(const gb_price *a, const gb_price *b)
{
	size_t t;

	if (a->mode != b->mode || a->mode == GB_PRICE_FLAT ||
	    a->ntiers != b->ntiers)
		return 0;
	for (t = 0; t < a->ntiers; t++)
		if (a->tiers[t].bounded != b->tiers[t].bounded ||
		    !mpq_equal(a->tiers[t].up_to, b->tiers[t].up_to))
			return 0;
	return 1;
}

/* Compare two prices (either may be NULL: absent). */
static void diff_price(rctx *c, rkey *k, const gb_price *a, const gb_price *b)
{
	gb_buf ta, tb;
	size_t t;

	if (!a && !b)
		return;
	if (a && b && a->mode == GB_PRICE_FLAT && b->mode == GB_PRICE_FLAT) {
		if (!mpq_equal(a->flat, b->flat)) {
			char sa[160], sb[160];

			gb_decimal_format(sa, sizeof sa, a->flat, c->minor,
					  GB_DECIMAL_MAX_FRACTION, GB_ROUND_HALF_EVEN);
			gb_decimal_format(sb, sizeof sb, b->flat, c->minor,
					  GB_DECIMAL_MAX_FRACTION, GB_ROUND_HALF_EVEN);
			emit(c, k, GB_DIFF_CHANGED, sa, sb,
			     (const mpq_t *)&a->flat, (const mpq_t *)&b->flat);
		}
		return;
	}
	if (a && b && same_tier_bounds(a, b)) {
		/* the same tiers: one change per tier whose price moved */
		for (t = 0; t < a->ntiers; t++) {
			const mpq_t *pa = (const mpq_t *)&a->tiers[t].price;
			const mpq_t *pb = (const mpq_t *)&b->tiers[t].price;
			char sa[160], sb[160];

			if (mpq_equal(*pa, *pb))
				continue;
			gb_decimal_format(sa, sizeof sa, *pa, c->minor,
					  GB_DECIMAL_MAX_FRACTION, GB_ROUND_HALF_EVEN);
			gb_decimal_format(sb, sizeof sb, *pb, c->minor,
					  GB_DECIMAL_MAX_FRACTION, GB_ROUND_HALF_EVEN);
			k->tier = (unsigned)t + 1;
			emit(c, k, GB_DIFF_CHANGED, sa, sb, pa, pb);
		}
		k->tier = 0;
		return;
	}
	gb_buf_init(&ta);
	gb_buf_init(&tb);
	gb_buf_puts(&ta, "");
	gb_buf_puts(&tb, "");
	if (a)
		price_text(&ta, a, c->minor);
	if (b)
		price_text(&tb, b, c->minor);
	if (ta.failed || tb.failed)
		c->rc = GB_ENOMEM;
	else if (!a || !b || strcmp(ta.data, tb.data) != 0)
		emit(c, k, !a ? GB_DIFF_ADDED : !b ? GB_DIFF_REMOVED : GB_DIFF_CHANGED,
		     ta.data, tb.data, NULL, NULL);
	gb_buf_free(&ta);
	gb_buf_free(&tb);
}

static void diff_seconds(rctx *c, const char *field, int64_t a, int64_t b)
{
	char sa[32], sb[32];
	mpq_t qa, qb;
	rkey k;

	if (a == b)
		return;
	key_init(&k, GB_RATE_SETTING);
	k.field = field;
	snprintf(sa, sizeof sa, "%lld", (long long)a);
	snprintf(sb, sizeof sb, "%lld", (long long)b);
	mpq_inits(qa, qb, NULL);
	mpz_set_si(mpq_numref(qa), (long)a);
	mpz_set_si(mpq_numref(qb), (long)b);
	emit(c, &k, GB_DIFF_CHANGED, sa, sb, (const mpq_t *)&qa,
	     (const mpq_t *)&qb);
	mpq_clears(qa, qb, NULL);
}

/* A sorted array of pointers to n elements of size bytes at base. */
static const void **sorted_ptrs(const void *base, size_t n, size_t size,
				int (*cmp)(const void *, const void *), int *rc)
{
	const void **v;
	size_t i;

	if (n == 0)
		return NULL;
	v = gb_malloc(n * sizeof *v);
	if (!v) {
		*rc = GB_ENOMEM;
		return NULL;
	}
	for (i = 0; i < n; i++)
		v[i] = (const char *)base + i * size;
	qsort(v, n, sizeof *v, cmp);
	return v;
}

static int gpu_rate_cmp(const void *pa, const void *pb)
{
	const gb_gpu_rate *a = *(const gb_gpu_rate *const *)pa;
	const gb_gpu_rate *b = *(const gb_gpu_rate *const *)pb;
	int c = strcmp(a->sku, b->sku);

	return c ? c : strcmp(a->region, b->region);
}

static int token_rate_cmp(const void *pa, const void *pb)
{
	const gb_token_rate *a = *(const gb_token_rate *const *)pa;
	const gb_token_rate *b = *(const gb_token_rate *const *)pb;
	int c = strcmp(a->model, b->model);

	return c ? c : strcmp(a->region, b->region);
}

static int reserved_cmp(const void *pa, const void *pb)
{
	const gb_reserved_price *a = *(const gb_reserved_price *const *)pa;
	const gb_reserved_price *b = *(const gb_reserved_price *const *)pb;

	return strcmp(a->term, b->term);
}

static int spot_series_cmp(const gb_spot_point *a, const gb_spot_point *b)
{
	int c = strcmp(a->sku, b->sku);

	return c ? c : strcmp(a->region, b->region);
}

static int spot_cmp(const void *pa, const void *pb)
{
	const gb_spot_point *a = *(const gb_spot_point *const *)pa;
	const gb_spot_point *b = *(const gb_spot_point *const *)pb;
	int c = spot_series_cmp(a, b);

	if (c)
		return c;
	return a->from < b->from ? -1 : a->from > b->from;
}

static void diff_gpu_rate(rctx *c, const gb_gpu_rate *a, const gb_gpu_rate *b)
{
	const gb_gpu_rate *r = a ? a : b;
	const void **ta, **tb;
	size_t na = a ? a->nreserved : 0, nb = b ? b->nreserved : 0, i = 0, j = 0;
	rkey k;

	key_init(&k, GB_RATE_GPU);
	k.sku = r->sku;
	k.region = r->region;
	k.field = "on_demand";
	diff_price(c, &k, a ? a->on_demand : NULL, b ? b->on_demand : NULL);
	k.field = "spot";
	diff_price(c, &k, a ? a->spot : NULL, b ? b->spot : NULL);
	k.field = "reserved";
	ta = sorted_ptrs(a ? a->reserved : NULL, na, sizeof *a->reserved,
			 reserved_cmp, &c->rc);
	tb = sorted_ptrs(b ? b->reserved : NULL, nb, sizeof *b->reserved,
			 reserved_cmp, &c->rc);
	while (c->rc == 0 && (i < na || j < nb)) {
		const gb_reserved_price *x = i < na ? ta[i] : NULL;
		const gb_reserved_price *y = j < nb ? tb[j] : NULL;
		int cmp = !x ? 1 : !y ? -1 : strcmp(x->term, y->term);

		if (cmp < 0)
			y = NULL;
		if (cmp > 0)
			x = NULL;
		i += x != NULL;
		j += y != NULL;
		k.term = x ? x->term : y->term;
		diff_price(c, &k, x ? &x->price : NULL, y ? &y->price : NULL);
	}
	gb_free(ta);
	gb_free(tb);
}

static void diff_token_rate(rctx *c, const gb_token_rate *a,
			    const gb_token_rate *b)
{
	const gb_token_rate *r = a ? a : b;
	rkey k;

	key_init(&k, GB_RATE_TOKENS);
	k.model = r->model;
	k.region = r->region;
	k.field = "input";
	diff_price(c, &k, a ? a->input : NULL, b ? b->input : NULL);
	k.field = "cached_input";
	diff_price(c, &k, a ? a->cached_input : NULL, b ? b->cached_input : NULL);
	k.field = "output";
	diff_price(c, &k, a ? a->output : NULL, b ? b->output : NULL);
}

/*
 * Can entry i of a sorted spot series apply within [from, to)?  It starts
 * before the piece ends, and no later entry of its series has taken over
 * by the piece's start.
 */
static int spot_relevant(const gb_spot_point *const *v, size_t n, size_t i,
			 int64_t from, int64_t to)
{
	if (v[i]->from >= to)
		return 0;
	return !(i + 1 < n && spot_series_cmp(v[i], v[i + 1]) == 0 &&
		 v[i + 1]->from <= from);
}

static void diff_spot(rctx *c, const gb_version *a, const gb_version *b)
{
	size_t na = a ? a->nspot_points : 0, nb = b ? b->nspot_points : 0;
	const gb_spot_point **pa, **pb;
	size_t i = 0, j = 0;
	rkey k;

	pa = (const gb_spot_point **)sorted_ptrs(a ? a->spot_points : NULL, na,
						  sizeof(gb_spot_point), spot_cmp,
						  &c->rc);
	pb = (const gb_spot_point **)sorted_ptrs(b ? b->spot_points : NULL, nb,
						  sizeof(gb_spot_point), spot_cmp,
						  &c->rc);
	key_init(&k, GB_RATE_SPOT_SERIES);
	k.field = "price";
	while (c->rc == 0 && (i < na || j < nb)) {
		const gb_spot_point *x = i < na ? pa[i] : NULL;
		const gb_spot_point *y = j < nb ? pb[j] : NULL;
		int cmp = !x ? 1 : !y ? -1 : spot_cmp(&x, &y);
		int rel;

		if (cmp < 0)
			y = NULL;
		if (cmp > 0)
			x = NULL;
		rel = (x && spot_relevant(pa, na, i, c->from, c->to)) ||
		      (y && spot_relevant(pb, nb, j, c->from, c->to));
		i += x != NULL;
		j += y != NULL;
		if (!rel)
			continue;
		k.sku = x ? x->sku : y->sku;
		k.region = x ? x->region : y->region;
		k.spot_from = x ? x->from : y->from;
		diff_price(c, &k, x ? &x->price : NULL, y ? &y->price : NULL);
	}
	gb_free((void *)pa);
	gb_free((void *)pb);
}

/* Compare the version in effect in each table over one piece. */
static void diff_versions(rctx *c, const gb_version *a, const gb_version *b)
{
	size_t na, nb, i = 0, j = 0;
	const void **pa, **pb;

	if (a && b && a->has_gpu && b->has_gpu) {
		diff_seconds(c, "increment_seconds", a->increment_seconds,
			     b->increment_seconds);
		diff_seconds(c, "minimum_seconds", a->minimum_seconds,
			     b->minimum_seconds);
		diff_seconds(c, "spot_interruption_free_seconds",
			     a->spot_interruption_free_seconds,
			     b->spot_interruption_free_seconds);
	}
	if (a && b && a->has_tokens && b->has_tokens &&
	    !mpq_equal(a->batch_discount, b->batch_discount)) {
		char sa[160], sb[160];
		rkey k;

		key_init(&k, GB_RATE_SETTING);
		k.field = "batch_discount";
		gb_decimal_format(sa, sizeof sa, a->batch_discount, 2,
				  GB_DECIMAL_MAX_FRACTION, GB_ROUND_HALF_EVEN);
		gb_decimal_format(sb, sizeof sb, b->batch_discount, 2,
				  GB_DECIMAL_MAX_FRACTION, GB_ROUND_HALF_EVEN);
		emit(c, &k, GB_DIFF_CHANGED, sa, sb,
		     (const mpq_t *)&a->batch_discount,
		     (const mpq_t *)&b->batch_discount);
	}

	na = a ? a->ngpu_rates : 0;
	nb = b ? b->ngpu_rates : 0;
	pa = sorted_ptrs(a ? a->gpu_rates : NULL, na, sizeof(gb_gpu_rate),
			 gpu_rate_cmp, &c->rc);
	pb = sorted_ptrs(b ? b->gpu_rates : NULL, nb, sizeof(gb_gpu_rate),
			 gpu_rate_cmp, &c->rc);
	while (c->rc == 0 && (i < na || j < nb)) {
		const void *x = i < na ? pa[i] : NULL, *y = j < nb ? pb[j] : NULL;
		int cmp = !x ? 1 : !y ? -1 : gpu_rate_cmp(&x, &y);

		if (cmp < 0)
			y = NULL;
		if (cmp > 0)
			x = NULL;
		i += x != NULL;
		j += y != NULL;
		diff_gpu_rate(c, x, y);
	}
	gb_free((void *)pa);
	gb_free((void *)pb);

	diff_spot(c, a, b);

	na = a ? a->ntoken_rates : 0;
	nb = b ? b->ntoken_rates : 0;
	i = j = 0;
	pa = sorted_ptrs(a ? a->token_rates : NULL, na, sizeof(gb_token_rate),
			 token_rate_cmp, &c->rc);
	pb = sorted_ptrs(b ? b->token_rates : NULL, nb, sizeof(gb_token_rate),
			 token_rate_cmp, &c->rc);
	while (c->rc == 0 && (i < na || j < nb)) {
		const void *x = i < na ? pa[i] : NULL, *y = j < nb ? pb[j] : NULL;
		int cmp = !x ? 1 : !y ? -1 : token_rate_cmp(&x, &y);

		if (cmp < 0)
			y = NULL;
		if (cmp > 0)
			x = NULL;
		i += x != NULL;
		j += y != NULL;
		diff_token_rate(c, x, y);
	}
	gb_free((void *)pa);
	gb_free((void *)pb);
}

static int time_cmp(const void *pa, const void *pb)
{
	int64_t a = *(const int64_t *)pa, b = *(const int64_t *)pb;

	return a < b ? -1 : a > b;
}

/*
 * Cut the period at every version start of either table inside it and
 * compare the two versions in effect over each piece.
 */
static int diff_rates(gb_diff *d, const gb_prices *op, const gb_prices *np)
{
	size_t n = 1, i, k;
	int64_t *t;
	rctx c;

	memset(&c, 0, sizeof c);
	c.d = d;
	c.minor = d->minor_units;
	c.from = d->from;
	c.to = d->to;
	if (op->rounding != np->rounding) {
		rkey key;

		key_init(&key, GB_RATE_SETTING);
		key.field = "rounding";
		emit(&c, &key, GB_DIFF_CHANGED, gb_rounding_name(op->rounding),
		     gb_rounding_name(np->rounding), NULL, NULL);
	}
	t = gb_malloc((1 + op->nversions + np->nversions) * sizeof *t);
	if (!t)
		return GB_ENOMEM;
	t[0] = d->from;
	for (i = 0; i < op->nversions; i++)
		if (op->versions[i].effective_from > d->from &&
		    op->versions[i].effective_from < d->to)
			t[n++] = op->versions[i].effective_from;
	for (i = 0; i < np->nversions; i++)
		if (np->versions[i].effective_from > d->from &&
		    np->versions[i].effective_from < d->to)
			t[n++] = np->versions[i].effective_from;
	qsort(t, n, sizeof *t, time_cmp);
	for (i = 0, k = 0; i < n; i++)
		if (k == 0 || t[k - 1] != t[i])
			t[k++] = t[i];
	for (i = 0; i < k && c.rc == 0; i++) {
		long va = gb_prices_version_at(op, t[i]);
		long vb = gb_prices_version_at(np, t[i]);

		c.from = t[i];
		c.to = i + 1 < k ? t[i + 1] : d->to;
		diff_versions(&c, va >= 0 ? &op->versions[va] : NULL,
			      vb >= 0 ? &np->versions[vb] : NULL);
	}
	gb_free(t);
	return c.rc;
}

/* --- the diff --------------------------------------------------------------------- */

void gb_diff_free(gb_diff *d)
{
	size_t i;

	if (!d)
		return;
	for (i = 0; i < d->ncustomers; i++) {
		gb_diff_customer *c = &d->customers[i];

		line_list_clear((gb_diff_line *)c->lines, c->nlines);
		mpz_clears(c->old_total, c->new_total, c->delta, NULL);
	}
	gb_free(d->customers);
	for (i = 0; i < d->nrates; i++)
		rate_change_clear(&d->rates[i]);
	gb_free(d->rates);
	gb_free(d->old_name);
	gb_free(d->new_name);
	gb_free(d->limit_text);
	mpq_clear(d->limit_value);
	mpz_clears(d->old_total, d->new_total, d->delta, NULL);
	gb_free(d);
}

int gb_diff_new(gb_diff **out, const gb_invoice_set *os,
		const gb_invoice_set *ns, const gb_prices *op,
		const gb_prices *np, const gb_diff_options *opts,
		gb_error *err)
{
	int64_t of, ot, nf, nt;
	gb_diff *d;
	int rc;

	if (out)
		*out = NULL;
	if (!out || !os || !ns || (opts && opts->version != GB_DIFF_OPTIONS_VERSION))
		return gb_error_set(err, GB_EINVAL,
				    "gb_diff_new: missing invoice sets or options of an unknown version");
	if (strcmp(os->currency, ns->currency) != 0 ||
	    os->minor_units != ns->minor_units)
		return gb_error_set(err, GB_ESCHEMA,
				    "the tables bill in different money: old %s with %u minor units, new %s with %u; a diff needs the same currency and minor units",
				    os->currency, os->minor_units, ns->currency,
				    ns->minor_units);
	gb_invoice_set_period(os, &of, &ot);
	gb_invoice_set_period(ns, &nf, &nt);
	if (of != nf || ot != nt)
		return gb_error_set(err, GB_EINVAL,
				    "gb_diff_new: the invoice sets are for different periods");
	d = gb_calloc(1, sizeof *d);
	if (!d)
		return gb_error_set(err, GB_ENOMEM, "out of memory");
	mpq_init(d->limit_value);
	mpz_inits(d->old_total, d->new_total, d->delta, NULL);
	memcpy(d->currency, os->currency, sizeof d->currency);
	d->minor_units = os->minor_units;
	d->from = of;
	d->to = ot;
	d->old_counts = os->counts;
	d->new_counts = ns->counts;
	if (opts) {
		d->rejected_new_only = opts->rejected_new_only;
		d->rejected_old_only = opts->rejected_old_only;
	}
	d->old_name = gb_strdup(os->prices_name);
	d->new_name = gb_strdup(ns->prices_name);
	if (!d->old_name || !d->new_name) {
		gb_diff_free(d);
		return gb_error_set(err, GB_ENOMEM, "out of memory");
	}
	if (opts && opts->max_change) {
		rc = limit_parse(opts->max_change, d->minor_units, &d->limit,
				 d->limit_value, err);
		if (rc == 0) {
			d->limit_text = gb_strdup(opts->max_change);
			if (!d->limit_text)
				rc = gb_error_set(err, GB_ENOMEM, "out of memory");
		}
		if (rc) {
			gb_diff_free(d);
			return rc;
		}
	}
	rc = diff_customers(d, os, ns);
	if (rc == 0 && op && np) {
		d->has_rates = 1;
		rc = diff_rates(d, op, np);
	}
	if (rc) {
		gb_diff_free(d);
		return gb_error_set(err, rc, "out of memory comparing the invoices");
	}
	*out = d;
	return 0;
}

size_t gb_diff_customer_count(const gb_diff *d)
{
	return d ? d->ncustomers : 0;
}

const gb_diff_customer *gb_diff_customer_get(const gb_diff *d, size_t i)
{
	return d && i < d->ncustomers ? &d->customers[i] : NULL;
}

void gb_diff_totals(const gb_diff *d, mpz_t old_total, mpz_t new_total)
{
	if (old_total)
		mpz_set(old_total, d->old_total);
	if (new_total)
		mpz_set(new_total, d->new_total);
}

gb_diff_limit_kind gb_diff_limit(const gb_diff *d)
{
	return d->limit;
}

int gb_diff_total_exceeded(const gb_diff *d)
{
	return d->total_exceeded;
}

size_t gb_diff_customers_exceeded(const gb_diff *d)
{
	return d->nexceeded;
}

size_t gb_diff_rate_change_count(const gb_diff *d)
{
	return d ? d->nrates : 0;
}

const gb_rate_change *gb_diff_rate_change_get(const gb_diff *d, size_t i)
{
	return d && i < d->nrates ? &d->rates[i] : NULL;
}

/* --- shared by the writers ------------------------------------------------------- */

/* Decimals a rate change's values are shown with. */
static unsigned rate_frac(const gb_diff *d, const gb_rate_change *r)
{
	if (r->item != GB_RATE_SETTING)
		return d->minor_units;
	return strcmp(r->field, "batch_discount") == 0 ? 2 : 0;
}

/* "H100-SXM us-east reserved 1y", "llama-3.1-70b * input tier 2". */
static void rate_item_text(gb_buf *b, const gb_rate_change *r)
{
	char when[GB_TIME_TEXT_MAX];

	switch (r->item) {
	case GB_RATE_SETTING:
		gb_buf_puts(b, r->field);
		return;
	case GB_RATE_SPOT_SERIES:
		gb_time_format(when, sizeof when, r->spot_from);
		gb_buf_printf(b, "%s %s spot from %s", r->sku, r->region, when);
		break;
	case GB_RATE_GPU:
		gb_buf_printf(b, "%s %s %s", r->sku, r->region, r->field);
		if (r->term[0])
			gb_buf_printf(b, " %s", r->term);
		break;
	case GB_RATE_TOKENS:
		gb_buf_printf(b, "%s %s %s", r->model, r->region, r->field);
		break;
	}
	if (r->tier)
		gb_buf_printf(b, " tier %u", r->tier);
}

static void limit_describe(gb_buf *b, const gb_diff *d)
{
	if (d->limit == GB_DIFF_LIMIT_AMOUNT)
		gb_buf_printf(b, "%s %s", d->limit_text, d->currency);
	else
		gb_buf_puts(b, d->limit_text);
}

static size_t changed_customers(const gb_diff *d)
{
	size_t i, n = 0;

	for (i = 0; i < d->ncustomers; i++)
		n += mpz_sgn(d->customers[i].delta) != 0 ||
		     d->customers[i].nlines != 0;
	return n;
}

/* "3 of 4 customers changed; total +12.34 USD (+1.20%); ..." */
static void result_text(gb_buf *b, const gb_diff *d)
{
	char delta[160], pct[160];
	size_t k = d->nexceeded;

	money_signed(delta, sizeof delta, d->delta, d->minor_units, 1);
	percent_text_z(pct, sizeof pct, d->old_total, d->delta, 1);
	gb_buf_printf(b, "%zu of %zu customer%s changed; total %s %s (%s%s); ",
		      changed_customers(d), d->ncustomers,
		      d->ncustomers == 1 ? "" : "s", delta, d->currency, pct,
		      strcmp(pct, "new") == 0 ? "" : "%");
	if (d->rejected_new_only)
		gb_buf_printf(b, "%llu row%s billed under the old prices %s rejected under the new ones; ",
			      (unsigned long long)d->rejected_new_only,
			      d->rejected_new_only == 1 ? "" : "s",
			      d->rejected_new_only == 1 ? "is" : "are");
	if (d->limit == GB_DIFF_LIMIT_NONE) {
		gb_buf_puts(b, "no max change given");
		return;
	}
	if (k == 0 && !d->total_exceeded)
		gb_buf_puts(b, "all within the max change of ");
	else if (k == 0)
		gb_buf_puts(b, "the total exceeds the max change of ");
	else
		gb_buf_printf(b, "%zu customer%s%s exceed%s the max change of ", k,
			      k == 1 ? "" : "s",
			      d->total_exceeded ? " and the total" : "",
			      k == 1 && !d->total_exceeded ? "s" : "");
	limit_describe(b, d);
}

/* A table of text cells, rendered as aligned text or as markdown. */
typedef struct table {
	size_t ncols, nrows, cap;
	char **cells;          /* nrows x ncols, owned */
	const char *align;     /* 'l' or 'r' per column */
	int failed;
} table;

/* A cell starting with this byte is emphasised in markdown. */
#define STRONG "\001"

static void table_init(table *t, size_t ncols, const char *align)
{
	memset(t, 0, sizeof *t);
	t->ncols = ncols;
	t->align = align;
}

static void table_free(table *t)
{
	size_t i;

	for (i = 0; i < t->nrows * t->ncols; i++)
		gb_free(t->cells[i]);
	gb_free(t->cells);
	memset(t, 0, sizeof *t);
}

static void table_row(table *t, const char *const *cells)
{
	size_t c;

	if (t->failed)
		return;
	if (t->nrows == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 16;
		char **v = gb_realloc(t->cells, cap * t->ncols * sizeof *v);

		if (!v) {
			t->failed = 1;
			return;
		}
		t->cells = v;
		t->cap = cap;
	}
	for (c = 0; c < t->ncols; c++) {
		char *s = gb_strdup(cells[c] ? cells[c] : "");

		t->cells[t->nrows * t->ncols + c] = s;
		if (!s)
			t->failed = 1;
	}
	t->nrows++;
}

static const char *cell_text(const char *s)
{
	return s[0] == STRONG[0] ? s + 1 : s;
}

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

/* Two spaces in, two between columns, no trailing blanks. */
static int table_text(gb_buf *b, const table *t)
{
	size_t *width, r, c;

	if (t->failed)
		return GB_ENOMEM;
	width = gb_calloc(t->ncols, sizeof *width);
	if (!width)
		return GB_ENOMEM;
	for (r = 0; r < t->nrows; r++)
		for (c = 0; c < t->ncols; c++) {
			size_t w = utf8_width(cell_text(t->cells[r * t->ncols + c]));

			if (w > width[c])
				width[c] = w;
		}
	for (r = 0; r < t->nrows; r++) {
		size_t end = t->ncols;

		/* trailing empty cells print nothing */
		while (end > 1 && !cell_text(t->cells[r * t->ncols + end - 1])[0])
			end--;
		gb_buf_puts(b, "  ");
		for (c = 0; c < end; c++) {
			const char *s = cell_text(t->cells[r * t->ncols + c]);
			size_t w = utf8_width(s);

			if (c)
				gb_buf_puts(b, "  ");
			if (t->align[c] == 'r')
				pad(b, width[c] - w);
			gb_buf_puts(b, s);
			if (t->align[c] == 'l' && c + 1 < end)
				pad(b, width[c] - w);
		}
		/* empty cells at the end leave blanks: drop them */
		while (!b->failed && b->len && b->data[b->len - 1] == ' ')
			b->len--;
		gb_buf_puts(b, "\n");
	}
	gb_free(width);
	return 0;
}

/*
 * Markdown-safe inline text: backslash-escape the characters that could
 * end a table cell ("|") or start inline markup; line breaks become spaces.
 */
static void md_escape(gb_buf *b, const char *s)
{
	for (; *s; s++) {
		if (strchr("\\|`*_[]<>~&", *s))
			gb_buf_add(b, "\\", 1);
		if (*s == '\n' || *s == '\r')
			gb_buf_add(b, " ", 1);
		else
			gb_buf_add(b, s, 1);
	}
}

/* GitHub-flavoured pipe table: header, separator, rows, equal columns. */
static int table_markdown(gb_buf *b, const table *t)
{
	size_t r, c;

	if (t->failed)
		return GB_ENOMEM;
	for (r = 0; r < t->nrows; r++) {
		gb_buf_puts(b, "|");
		for (c = 0; c < t->ncols; c++) {
			const char *s = t->cells[r * t->ncols + c];
			int strong = s[0] == STRONG[0] && s[1];

			gb_buf_puts(b, " ");
			if (strong)
				gb_buf_puts(b, "**");
			md_escape(b, cell_text(s));
			if (strong)
				gb_buf_puts(b, "**");
			gb_buf_puts(b, " |");
		}
		gb_buf_puts(b, "\n");
		if (r == 0) {
			gb_buf_puts(b, "|");
			for (c = 0; c < t->ncols; c++)
				gb_buf_puts(b, t->align[c] == 'r' ? " ---: |" : " :--- |");
			gb_buf_puts(b, "\n");
		}
	}
	return 0;
}

/* "2.02" -> "2.02%"; "new" stays as it is. */
static void add_percent_sign(char *pc, size_t size)
{
	size_t n = strlen(pc);

	if (strcmp(pc, "new") != 0 && n + 1 < size) {
		pc[n] = '%';
		pc[n + 1] = '\0';
	}
}

static void customers_table(table *t, const gb_diff *d)
{
	static const char *const head[] = {
		"Customer", "Old total", "New total", "Delta", "Delta %", "Max change"
	};
	size_t ncols = d->limit == GB_DIFF_LIMIT_NONE ? 5 : 6, i;
	char o[128], n[128], dl[128], pc[128];
	const char *cells[6];

	table_init(t, ncols, "lrrrrl");
	table_row(t, head);
	for (i = 0; i <= d->ncustomers; i++) {
		const gb_diff_customer *c = i < d->ncustomers ? &d->customers[i] : NULL;
		int over = c ? c->exceeded : d->total_exceeded;

		gb_money_format(o, sizeof o, c ? c->old_total : d->old_total,
				d->minor_units);
		gb_money_format(n, sizeof n, c ? c->new_total : d->new_total,
				d->minor_units);
		money_signed(dl, sizeof dl, c ? c->delta : d->delta,
			     d->minor_units, 1);
		percent_text_z(pc, sizeof pc, c ? c->old_total : d->old_total,
			       c ? c->delta : d->delta, 1);
		add_percent_sign(pc, sizeof pc);
		cells[0] = c ? c->customer : STRONG "Total";
		cells[1] = o;
		cells[2] = n;
		cells[3] = dl;
		cells[4] = pc;
		cells[5] = over ? STRONG "exceeded" : "ok";
		table_row(t, cells);
	}
}

static void lines_table(table *t, const gb_diff *d)
{
	static const char *const head[] = {
		"Customer", "Change", "Description", "Old qty", "New qty",
		"Old price", "New price", "Old amount", "New amount", "Delta"
	};
	char oq[128], nq[128], op[160], np[160], oa[128], na[128], dl[128];
	const char *cells[10];
	size_t i, j;

	table_init(t, 10, "lllrrrrrrr");
	table_row(t, head);
	for (i = 0; i < d->ncustomers; i++) {
		const gb_diff_customer *c = &d->customers[i];

		for (j = 0; j < c->nlines; j++) {
			const gb_diff_line *l = &c->lines[j];
			const gb_invoice_line *o = l->old_line, *nw = l->new_line;

			oq[0] = op[0] = oa[0] = nq[0] = np[0] = na[0] = '-';
			oq[1] = op[1] = oa[1] = nq[1] = np[1] = na[1] = '\0';
			if (o) {
				gb_line_quantity_text(oq, sizeof oq, o);
				gb_line_unit_price_text(op, sizeof op, o, d->minor_units);
				gb_money_format(oa, sizeof oa, o->amount, d->minor_units);
			}
			if (nw) {
				gb_line_quantity_text(nq, sizeof nq, nw);
				gb_line_unit_price_text(np, sizeof np, nw, d->minor_units);
				gb_money_format(na, sizeof na, nw->amount, d->minor_units);
			}
			money_signed(dl, sizeof dl, l->delta, d->minor_units, 1);
			cells[0] = c->customer;
			cells[1] = gb_diff_change_name(l->change);
			cells[2] = nw ? nw->description : o->description;
			cells[3] = oq;
			cells[4] = nq;
			cells[5] = op;
			cells[6] = np;
			cells[7] = oa;
			cells[8] = na;
			cells[9] = dl;
			table_row(t, cells);
		}
	}
}

static void rates_table(table *t, const gb_diff *d)
{
	static const char *const head[] = {
		"From", "Until", "Change", "Item", "Old", "New", "Delta", "Delta %"
	};
	char from[GB_TIME_TEXT_MAX], to[GB_TIME_TEXT_MAX], dl[160], pc[160];
	const char *cells[8];
	gb_buf item;
	size_t i;

	table_init(t, 8, "llllrrrr");
	table_row(t, head);
	gb_buf_init(&item);
	for (i = 0; i < d->nrates; i++) {
		const gb_rate_change *r = &d->rates[i];

		item.len = 0;
		gb_buf_puts(&item, "");
		rate_item_text(&item, r);
		if (item.failed) {
			t->failed = 1;
			break;
		}
		gb_time_format(from, sizeof from, r->from);
		gb_time_format(to, sizeof to, r->to);
		dl[0] = pc[0] = '\0';
		if (r->has_delta) {
			decimal_signed(dl, sizeof dl, r->delta, rate_frac(d, r), 1);
			percent_text(pc, sizeof pc, r->old_value, r->delta, 1);
			add_percent_sign(pc, sizeof pc);
		}
		cells[0] = from;
		cells[1] = to;
		cells[2] = gb_diff_change_name(r->change);
		cells[3] = item.data;
		cells[4] = r->old_text[0] ? r->old_text : "-";
		cells[5] = r->new_text[0] ? r->new_text : "-";
		cells[6] = dl;
		cells[7] = pc;
		table_row(t, cells);
	}
	gb_buf_free(&item);
}

static size_t total_lines(const gb_diff *d)
{
	size_t i, n = 0;

	for (i = 0; i < d->ncustomers; i++)
		n += d->customers[i].nlines;
	return n;
}

/* --- text ------------------------------------------------------------------------- */

int gb_diff_write_text(const gb_diff *d, gb_write_fn fn, void *payload,
		       gb_error *err)
{
	char from[GB_TIME_TEXT_MAX], to[GB_TIME_TEXT_MAX];
	table t;
	gb_buf b;
	int rc = 0;

	gb_buf_init(&b);
	gb_time_format(from, sizeof from, d->from);
	gb_time_format(to, sizeof to, d->to);
	gb_buf_printf(&b, "Price diff for %s to %s (%s)\n", from, to, d->currency);
	gb_buf_printf(&b, "Old prices: %s\nNew prices: %s\n", d->old_name,
		      d->new_name);
	gb_buf_puts(&b, "Max change: ");
	if (d->limit == GB_DIFF_LIMIT_NONE)
		gb_buf_puts(&b, "none given");
	else {
		limit_describe(&b, d);
		gb_buf_puts(&b, " per customer and in total");
	}
	gb_buf_puts(&b, "\n\nCustomers\n\n");
	customers_table(&t, d);
	rc = table_text(&b, &t);
	table_free(&t);
	if (rc == 0) {
		gb_buf_puts(&b, "\nChanged lines\n\n");
		if (total_lines(d) == 0) {
			gb_buf_puts(&b, "  (none)\n");
		} else {
			lines_table(&t, d);
			rc = table_text(&b, &t);
			table_free(&t);
		}
	}
	if (rc == 0 && d->has_rates) {
		gb_buf_puts(&b, "\nRate changes during the period\n\n");
		if (d->nrates == 0) {
			gb_buf_puts(&b, "  (none)\n");
		} else {
			rates_table(&t, d);
			rc = table_text(&b, &t);
			table_free(&t);
		}
	}
	if (rc) {
		gb_buf_free(&b);
		return gb_error_set(err, rc, "out of memory formatting output");
	}
	gb_buf_puts(&b, "\nRecords, old prices: ");
	gb_buf_counts_text(&b, &d->old_counts);
	gb_buf_puts(&b, "\nRecords, new prices: ");
	gb_buf_counts_text(&b, &d->new_counts);
	gb_buf_printf(&b, "\nRejected under the new prices only: %llu; under the old prices only: %llu\n",
		      (unsigned long long)d->rejected_new_only,
		      (unsigned long long)d->rejected_old_only);
	gb_buf_puts(&b, "\nResult: ");
	result_text(&b, d);
	gb_buf_puts(&b, ".\n");
	rc = gb_buf_flush(&b, fn, payload, err);
	gb_buf_free(&b);
	return rc;
}

/* --- markdown --------------------------------------------------------------------- */

int gb_diff_write_markdown(const gb_diff *d, gb_write_fn fn, void *payload,
			   gb_error *err)
{
	char from[GB_TIME_TEXT_MAX], to[GB_TIME_TEXT_MAX];
	const gb_counts *cs[2];
	gb_buf b, tmp;
	table t;
	int rc = 0, k;

	gb_buf_init(&b);
	gb_buf_init(&tmp);
	gb_time_format(from, sizeof from, d->from);
	gb_time_format(to, sizeof to, d->to);
	gb_buf_printf(&b, "### Price diff for %s to %s (%s)\n\n", from, to,
		      d->currency);
	gb_buf_puts(&b, "- Old prices: ");
	md_escape(&b, d->old_name);
	gb_buf_puts(&b, "\n- New prices: ");
	md_escape(&b, d->new_name);
	gb_buf_puts(&b, "\n- Max change: ");
	if (d->limit == GB_DIFF_LIMIT_NONE) {
		gb_buf_puts(&b, "none given\n\n");
	} else {
		limit_describe(&tmp, d);
		md_escape(&b, tmp.data ? tmp.data : "");
		gb_buf_puts(&b, " per customer and in total\n\n");
	}
	gb_buf_puts(&b, "**Result:** ");
	tmp.len = 0;
	gb_buf_puts(&tmp, "");
	result_text(&tmp, d);
	md_escape(&b, tmp.data ? tmp.data : "");
	gb_buf_puts(&b, ".\n\n#### Customers\n\n");
	if (tmp.failed)
		rc = GB_ENOMEM;
	gb_buf_free(&tmp);
	if (rc == 0) {
		customers_table(&t, d);
		rc = table_markdown(&b, &t);
		table_free(&t);
	}
	if (rc == 0) {
		gb_buf_puts(&b, "\n#### Changed lines\n\n");
		if (total_lines(d) == 0) {
			gb_buf_puts(&b, "None.\n");
		} else {
			lines_table(&t, d);
			rc = table_markdown(&b, &t);
			table_free(&t);
		}
	}
	if (rc == 0 && d->has_rates) {
		gb_buf_puts(&b, "\n#### Rate changes during the period\n\n");
		if (d->nrates == 0) {
			gb_buf_puts(&b, "None.\n");
		} else {
			rates_table(&t, d);
			rc = table_markdown(&b, &t);
			table_free(&t);
		}
	}
	if (rc) {
		gb_buf_free(&b);
		return gb_error_set(err, rc, "out of memory formatting output");
	}
	gb_buf_puts(&b, "\n#### Records\n\n"
		    "| Prices | Read | Billed | Rejected | Duplicates | Outside period | Skipped |\n"
		    "| :--- | ---: | ---: | ---: | ---: | ---: | ---: |\n");
	cs[0] = &d->old_counts;
	cs[1] = &d->new_counts;
	for (k = 0; k < 2; k++)
		gb_buf_printf(&b, "| %s | %llu | %llu | %llu | %llu | %llu | %llu |\n",
			      k ? "new" : "old", (unsigned long long)cs[k]->read,
			      (unsigned long long)cs[k]->billed,
			      (unsigned long long)cs[k]->rejected,
			      (unsigned long long)cs[k]->duplicates,
			      (unsigned long long)cs[k]->outside_period,
			      (unsigned long long)cs[k]->skipped);
	gb_buf_printf(&b, "\nRejected under the new prices only: %llu; under the old prices only: %llu.\n",
		      (unsigned long long)d->rejected_new_only,
		      (unsigned long long)d->rejected_old_only);
	rc = gb_buf_flush(&b, fn, payload, err);
	gb_buf_free(&b);
	return rc;
}

/* --- json ------------------------------------------------------------------------- */


/* "key": "value", */
static void jkv(gb_buf *b, const char *indent, const char *key,
		const char *value)
{
	gb_buf_printf(b, "%s\"%s\": ", indent, key);
	gb_buf_json_string(b, value);
	gb_buf_puts(b, ",\n");
}

static void jmoney(gb_buf *b, const char *indent, const char *key,
		   const mpz_t v, unsigned minor)
{
	char text[128];

	money_signed(text, sizeof text, v, minor, 0);
	jkv(b, indent, key, text);
}

static void json_side(gb_buf *b, const char *key, const gb_invoice_line *l,
		      unsigned minor)
{
	char q[128], p[160], a[128];

	if (!l) {
		gb_buf_printf(b, "          \"%s\": null,\n", key);
		return;
	}
	gb_line_quantity_text(q, sizeof q, l);
	gb_line_unit_price_text(p, sizeof p, l, minor);
	gb_money_format(a, sizeof a, l->amount, minor);
	gb_buf_printf(b, "          \"%s\": {\"quantity\": ", key);
	gb_buf_json_string(b, q);
	gb_buf_puts(b, ", \"unit_price\": ");
	gb_buf_json_string(b, p);
	gb_buf_puts(b, ", \"amount\": ");
	gb_buf_json_string(b, a);
	gb_buf_puts(b, "},\n");
}

static void json_line(gb_buf *b, const gb_diff_line *dl, unsigned minor,
		      int last)
{
	const char *in = "          ";
	const gb_invoice_line *l = dl->new_line ? dl->new_line : dl->old_line;
	char text[128];

	gb_buf_puts(b, "        {\n");
	jkv(b, in, "change", gb_diff_change_name(dl->change));
	jkv(b, in, "kind", gb_line_kind_name(l->kind));
	jkv(b, in, "description", l->description);
	if (l->sku[0])
		jkv(b, in, "sku", l->sku);
	if (l->model[0])
		jkv(b, in, "model", l->model);
	if (l->region[0] || l->sku[0])
		jkv(b, in, "region", l->region);
	if (l->kind == GB_LINE_GPU_RESERVED)
		jkv(b, in, "reservation", l->reference);
	if (l->kind == GB_LINE_CREDIT)
		jkv(b, in, "credit", l->reference);
	if (l->tier)
		gb_buf_printf(b, "%s\"tier\": %u,\n", in, l->tier);
	if (l->model[0])
		gb_buf_printf(b, "%s\"batch\": %s,\n", in, l->batch ? "true" : "false");
	jkv(b, in, "unit", l->unit);
	json_side(b, "old", dl->old_line, minor);
	json_side(b, "new", dl->new_line, minor);
	money_signed(text, sizeof text, dl->delta, minor, 0);
	gb_buf_printf(b, "%s\"delta\": ", in);
	gb_buf_json_string(b, text);
	gb_buf_puts(b, last ? "\n        }\n" : "\n        },\n");
}

static void json_rate(gb_buf *b, const gb_diff *d, const gb_rate_change *r,
		      int last)
{
	const char *in = "      ";
	char from[GB_TIME_TEXT_MAX], to[GB_TIME_TEXT_MAX], text[160];

	gb_time_format(from, sizeof from, r->from);
	gb_time_format(to, sizeof to, r->to);
	gb_buf_puts(b, "    {\n");
	jkv(b, in, "change", gb_diff_change_name(r->change));
	jkv(b, in, "from", from);
	jkv(b, in, "to", to);
	jkv(b, in, "item", gb_rate_item_name(r->item));
	if (r->sku[0])
		jkv(b, in, "sku", r->sku);
	if (r->model[0])
		jkv(b, in, "model", r->model);
	if (r->item != GB_RATE_SETTING)
		jkv(b, in, "region", r->region);
	if (r->item == GB_RATE_SPOT_SERIES) {
		gb_time_format(text, sizeof text, r->spot_from);
		jkv(b, in, "spot_from", text);
	}
	jkv(b, in, "field", r->field);
	if (r->term[0])
		jkv(b, in, "term", r->term);
	if (r->tier)
		gb_buf_printf(b, "%s\"tier\": %u,\n", in, r->tier);
	gb_buf_printf(b, "%s\"old\": ", in);
	if (r->old_text[0])
		gb_buf_json_string(b, r->old_text);
	else
		gb_buf_puts(b, "null");
	gb_buf_printf(b, ",\n%s\"new\": ", in);
	if (r->new_text[0])
		gb_buf_json_string(b, r->new_text);
	else
		gb_buf_puts(b, "null");
	if (r->has_delta) {
		decimal_signed(text, sizeof text, r->delta, rate_frac(d, r), 0);
		gb_buf_printf(b, ",\n%s\"delta\": ", in);
		gb_buf_json_string(b, text);
		percent_text(text, sizeof text, r->old_value, r->delta, 0);
		gb_buf_printf(b, ",\n%s\"delta_percent\": ", in);
		gb_buf_json_string(b, text);
	}
	gb_buf_puts(b, last ? "\n    }\n" : "\n    },\n");
}

static void json_counts(gb_buf *b, const char *key, const gb_counts *c)
{
	gb_buf_printf(b, "    \"%s\": {\"records\": %llu, \"billed\": %llu, "
		      "\"rejected\": %llu, \"duplicates\": %llu, "
		      "\"outside_period\": %llu, \"skipped\": %llu},\n",
		      key, (unsigned long long)c->read,
		      (unsigned long long)c->billed,
		      (unsigned long long)c->rejected,
		      (unsigned long long)c->duplicates,
		      (unsigned long long)c->outside_period,
		      (unsigned long long)c->skipped);
}

int gb_diff_write_json(const gb_diff *d, gb_write_fn fn, void *payload,
		       gb_error *err)
{
	char from[GB_TIME_TEXT_MAX], to[GB_TIME_TEXT_MAX], text[160];
	gb_buf b;
	size_t i, j;
	int rc = 0;

	gb_buf_init(&b);
	gb_time_format(from, sizeof from, d->from);
	gb_time_format(to, sizeof to, d->to);
	gb_buf_puts(&b, "{\n");
	jkv(&b, "  ", "format", "gpubill-diff/1");
	jkv(&b, "  ", "old_prices", d->old_name);
	jkv(&b, "  ", "new_prices", d->new_name);
	jkv(&b, "  ", "currency", d->currency);
	gb_buf_printf(&b, "  \"minor_units\": %u,\n", d->minor_units);
	gb_buf_printf(&b, "  \"period\": {\"from\": \"%s\", \"to\": \"%s\"},\n",
		      from, to);
	if (d->limit == GB_DIFF_LIMIT_NONE) {
		gb_buf_puts(&b, "  \"max_change\": null,\n");
	} else {
		mpq_t v;

		/* an amount is kept in minor units: back to major units */
		mpq_init(v);
		mpq_set(v, d->limit_value);
		if (d->limit == GB_DIFF_LIMIT_AMOUNT) {
			mpz_t scale;

			mpz_init(scale);
			mpz_ui_pow_ui(scale, 10, d->minor_units);
			mpz_mul(mpq_denref(v), mpq_denref(v), scale);
			mpq_canonicalize(v);
			mpz_clear(scale);
		}
		gb_decimal_format(text, sizeof text, v,
				  d->limit == GB_DIFF_LIMIT_AMOUNT ? d->minor_units : 0,
				  GB_DECIMAL_MAX_FRACTION, GB_ROUND_HALF_EVEN);
		mpq_clear(v);
		gb_buf_printf(&b, "  \"max_change\": {\"kind\": \"%s\", \"value\": ",
			      d->limit == GB_DIFF_LIMIT_AMOUNT ? "amount" : "percent");
		gb_buf_json_string(&b, text);
		gb_buf_puts(&b, "},\n");
	}
	gb_buf_puts(&b, d->ncustomers ? "  \"customers\": [\n" : "  \"customers\": [],\n");
	for (i = 0; i < d->ncustomers && rc == 0; i++) {
		const gb_diff_customer *c = &d->customers[i];
		const char *in = "      ";

		gb_buf_puts(&b, "    {\n");
		jkv(&b, in, "customer", c->customer);
		gb_buf_printf(&b, "%s\"old_invoice\": %s,\n%s\"new_invoice\": %s,\n",
			      in, c->in_old ? "true" : "false", in,
			      c->in_new ? "true" : "false");
		jmoney(&b, in, "old_total", c->old_total, d->minor_units);
		jmoney(&b, in, "new_total", c->new_total, d->minor_units);
		jmoney(&b, in, "delta", c->delta, d->minor_units);
		percent_text_z(text, sizeof text, c->old_total, c->delta, 0);
		jkv(&b, in, "delta_percent", text);
		gb_buf_printf(&b, "%s\"exceeded\": %s,\n", in,
			      c->exceeded ? "true" : "false");
		if (c->nlines == 0)
			gb_buf_printf(&b, "%s\"lines\": []\n", in);
		else
			gb_buf_printf(&b, "%s\"lines\": [\n", in);
		for (j = 0; j < c->nlines; j++)
			json_line(&b, &c->lines[j], d->minor_units, j + 1 == c->nlines);
		if (c->nlines)
			gb_buf_printf(&b, "%s]\n", in);
		gb_buf_puts(&b, i + 1 == d->ncustomers ? "    }\n  ],\n" : "    },\n");
		rc = gb_buf_flush(&b, fn, payload, err);
	}
	if (rc) {
		gb_buf_free(&b);
		return rc;
	}
	gb_buf_puts(&b, "  \"total\": {\n");
	jmoney(&b, "    ", "old", d->old_total, d->minor_units);
	jmoney(&b, "    ", "new", d->new_total, d->minor_units);
	jmoney(&b, "    ", "delta", d->delta, d->minor_units);
	percent_text_z(text, sizeof text, d->old_total, d->delta, 0);
	jkv(&b, "    ", "delta_percent", text);
	gb_buf_printf(&b, "    \"exceeded\": %s\n  },\n",
		      d->total_exceeded ? "true" : "false");
	if (d->has_rates) {
		gb_buf_puts(&b, d->nrates ? "  \"rate_changes\": [\n"
					  : "  \"rate_changes\": [],\n");
		for (i = 0; i < d->nrates; i++)
			json_rate(&b, d, &d->rates[i], i + 1 == d->nrates);
		if (d->nrates)
			gb_buf_puts(&b, "  ],\n");
	}
	gb_buf_puts(&b, "  \"records\": {\n");
	json_counts(&b, "old", &d->old_counts);
	json_counts(&b, "new", &d->new_counts);
	gb_buf_printf(&b, "    \"rejected_new_only\": %llu,\n"
		      "    \"rejected_old_only\": %llu\n  },\n",
		      (unsigned long long)d->rejected_new_only,
		      (unsigned long long)d->rejected_old_only);
	gb_buf_printf(&b, "  \"customers_exceeded\": %zu,\n", d->nexceeded);
	gb_buf_printf(&b, "  \"exceeded\": %s\n}\n",
		      d->nexceeded || d->total_exceeded ? "true" : "false");
	rc = gb_buf_flush(&b, fn, payload, err);
	gb_buf_free(&b);
	return rc;
}
