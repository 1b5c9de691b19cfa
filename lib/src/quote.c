/*
 * quote.c - one workload priced under several tables, ranked cheapest
 * first (`gpubill quote`).
 *
 * Each table is priced with the version in effect at the quote's instant,
 * the whole workload at once: a GPU job is one run of gpus x hours, its
 * length brought to the version's increment and minimum, and a tiered
 * price sees the job's quantity as the period's quantity.  Each offer is
 * computed exactly and rounded once.  Offers are then ranked on their
 * rounded amounts, and each one's saving is measured against the dearest.
 */
#include "internal.h"
#include "invoice_internal.h"
#include "prices_internal.h"

#include <gpubill/money.h>
#include <gpubill/quote.h>
#include <gpubill/timestamp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* An offer and what ranks it: its place in the input, its exact amount. */
typedef struct qoffer {
	gb_quote_offer pub;        /* first: gb_quote_offer_get returns it */
	size_t seq;                /* tables' order, then the offers' order */
	mpq_t value;               /* rounded amount in currency units */
} qoffer;

typedef struct qtable {
	const gb_prices *prices;
	char *label;
	long version;              /* index of the version in effect, or -1 */
} qtable;

struct gb_quote {
	char currency[4];
	unsigned minor_units;      /* largest of the tables' */
	int64_t at;
	int gpu;                   /* GPU workload, else tokens */
	char *sku, *model, *region;/* region NULL: "*" rates only */
	uint32_t gpus;
	mpq_t hours;
	uint64_t tokens[3];        /* input, cached input, output */
	int batch;
	size_t ntables;
	qtable *tables;
	size_t noffers, cap, navailable;
	qoffer *offers;
};

static const char *const kind_names[] = {
	"on_demand", "reserved", "spot", "tokens", "none"
};

const char *gb_offer_kind_name(gb_offer_kind kind)
{
	if ((unsigned)kind >= sizeof kind_names / sizeof kind_names[0])
		return "unknown";
	return kind_names[kind];
}

static char *qdupf(const char *fmt, ...) GB_PRINTF(1, 2);

static char *qdupf(const char *fmt, ...)
{
	va_list ap;
	char *buf;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return NULL;
	buf = gb_malloc((size_t)n + 1);
	if (!buf)
		return NULL;
	va_start(ap, fmt);
	vsnprintf(buf, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return buf;
}

/* Text of a decimal value, allocated; NULL when out of memory. */
static char *decimal_text(const mpq_t v, unsigned min_frac, unsigned max_frac)
{
	size_t n = gb_decimal_format(NULL, 0, v, min_frac, max_frac,
				     GB_ROUND_HALF_EVEN);
	char *s = gb_malloc(n + 1);

	if (s)
		gb_decimal_format(s, n + 1, v, min_frac, max_frac,
				  GB_ROUND_HALF_EVEN);
	return s;
}

static char *money_text(const mpz_t minor, unsigned minor_units)
{
	size_t n = gb_money_format(NULL, 0, minor, minor_units);
	char *s = gb_malloc(n + 1);

	if (s)
		gb_money_format(s, n + 1, minor, minor_units);
	return s;
}

/* --- offers ------------------------------------------------------------------- */

static void offer_clear(qoffer *o)
{
	gb_free((char *)o->pub.name);
	gb_free((char *)o->pub.note);
	mpq_clear(o->pub.quantity);
	mpq_clear(o->pub.unit_price);
	mpz_clear(o->pub.amount);
	mpz_clear(o->pub.saving);
	mpq_clear(o->pub.saving_fraction);
	mpq_clear(o->value);
}

/*
 * A new offer of table t, its strings owned by it (name and note may be
 * NULL after an allocation failure: the caller checks).  Returns NULL when
 * out of memory.
 */
static qoffer *offer_new(gb_quote *q, size_t t, gb_offer_kind kind,
			 const char *term)
{
	qoffer *o;

	if (q->noffers == q->cap) {
		size_t cap = q->cap ? q->cap * 2 : 8;
		qoffer *v = gb_realloc(q->offers, cap * sizeof *v);

		if (!v)
			return NULL;
		q->offers = v;
		q->cap = cap;
	}
	o = &q->offers[q->noffers];
	memset(o, 0, sizeof *o);
	mpq_init(o->pub.quantity);
	mpq_init(o->pub.unit_price);
	mpz_init(o->pub.amount);
	mpz_init(o->pub.saving);
	mpq_init(o->pub.saving_fraction);
	mpq_init(o->value);
	o->seq = q->noffers++;
	o->pub.table = t;
	o->pub.label = q->tables[t].label;
	o->pub.kind = kind;
	o->pub.term = term ? term : "";
	o->pub.unit = q->gpu ? "GPU-hour" : "1M tokens";
	o->pub.minor_units = q->tables[t].prices->minor_units;
	if (kind == GB_OFFER_RESERVED)
		o->pub.name = term ? qdupf("reserved %s", term) : gb_strdup("reserved");
	else
		o->pub.name = gb_strdup(kind == GB_OFFER_ON_DEMAND ? "on-demand" :
					kind == GB_OFFER_SPOT ? "spot" :
					kind == GB_OFFER_NONE ? "all offers" :
					q->batch ? "batch tokens" : "tokens");
	return o;
}

static int unavailable(gb_quote *q, size_t t, gb_offer_kind kind,
		       const char *fmt, ...) GB_PRINTF(4, 5);

/* An offer that table t cannot make, and why. */
static int unavailable(gb_quote *q, size_t t, gb_offer_kind kind,
		       const char *fmt, ...)
{
	qoffer *o = offer_new(q, t, kind, NULL);
	va_list ap;
	char why[512];

	if (!o)
		return GB_ENOMEM;
	va_start(ap, fmt);
	vsnprintf(why, sizeof why, fmt, ap);
	va_end(ap);
	o->pub.note = gb_strdup(why);
	return o->pub.name && o->pub.note ? 0 : GB_ENOMEM;
}

/* Round the exact cost of o once and fill in what follows from it. */
static void offer_price(gb_quote *q, qoffer *o, const mpq_t cost)
{
	const gb_prices *p = q->tables[o->pub.table].prices;

	o->pub.available = 1;
	if (mpq_sgn(o->pub.quantity) > 0)
		mpq_div(o->pub.unit_price, cost, o->pub.quantity);
	gb_round(o->pub.amount, cost, p->minor_units, p->rounding);
	mpq_set_z(o->value, o->pub.amount);
	mpz_ui_pow_ui(mpq_denref(o->value), 10, p->minor_units);
	mpq_canonicalize(o->value);
}

/* --- tiers -------------------------------------------------------------------- */

/*
 * Exact cost of quantity qty (GPU-hours or tokens) at price, qty being the
 * whole period's quantity, as the rater prices a customer's period:
 * graduated bills each tier's slice at its price, volume bills all of qty
 * at the first tier whose up_to is at least qty.  *first and *last receive
 * the 1-based tiers used (0 for a flat price).
 */
static void price_cost(mpq_t out, const gb_price *price, const mpq_t qty,
		       unsigned *first, unsigned *last)
{
	mpq_t lo, hi;
	size_t t;

	*first = *last = 0;
	if (price->mode == GB_PRICE_FLAT) {
		mpq_mul(out, qty, price->flat);
		return;
	}
	if (price->mode == GB_PRICE_VOLUME) {
		/* The last tier is unbounded: the loop always stops in it. */
		for (t = 0; t + 1 < price->ntiers; t++)
			if (mpq_cmp(qty, price->tiers[t].up_to) <= 0)
				break;
		mpq_mul(out, qty, price->tiers[t].price);
		*first = *last = (unsigned)t + 1;
		return;
	}
	mpq_set_ui(out, 0, 1);
	mpq_inits(lo, hi, NULL);
	for (t = 0; t < price->ntiers; t++) {
		/* tier t spans (previous up_to, up_to] */
		if (t > 0)
			mpq_set(lo, price->tiers[t - 1].up_to);
		if (mpq_cmp(lo, qty) >= 0)
			break;
		if (price->tiers[t].bounded && mpq_cmp(price->tiers[t].up_to, qty) < 0)
			mpq_set(hi, price->tiers[t].up_to);
		else
			mpq_set(hi, qty);
		mpq_sub(hi, hi, lo);
		mpq_mul(hi, hi, price->tiers[t].price);
		mpq_add(out, out, hi);
		if (*first == 0)
			*first = (unsigned)t + 1;
		*last = (unsigned)t + 1;
	}
	mpq_clears(lo, hi, NULL);
}

/* "volume tier 2 (1000 to 10000 GPU-hours)", "graduated tiers 1 to 3". */
static void tier_note(char *buf, size_t size, const gb_price *price,
		      unsigned first, unsigned last, const char *unit)
{
	const char *mode = price->mode == GB_PRICE_VOLUME ? "volume" : "graduated";
	char lo[64] = "0", hi[64];
	size_t t = first - 1;

	if (first != last) {
		snprintf(buf, size, "%s tiers %u to %u", mode, first, last);
		return;
	}
	if (t > 0)
		gb_decimal_format(lo, sizeof lo, price->tiers[t - 1].up_to, 0,
				  GB_DECIMAL_MAX_FRACTION, GB_ROUND_HALF_EVEN);
	if (price->tiers[t].bounded) {
		gb_decimal_format(hi, sizeof hi, price->tiers[t].up_to, 0,
				  GB_DECIMAL_MAX_FRACTION, GB_ROUND_HALF_EVEN);
		snprintf(buf, size, "%s tier %u (%s to %s %s)", mode, first, lo,
			 hi, unit);
	} else {
		snprintf(buf, size, "%s tier %u (over %s %s)", mode, first, lo,
			 unit);
	}
}

/* --- GPU offers ------------------------------------------------------------------ */

/*
 * Spot price at the quote's instant (SPEC 4): the latest series point of
 * the exact region, else of "*", starting at or before it (*from says
 * when); else the fixed spot price of rate (which may be NULL); NULL when
 * there is neither.
 */
static const gb_price *spot_price_at(const gb_quote *q, const gb_version *v,
				     const gb_gpu_rate *rate, int *series,
				     int64_t *from)
{
	const gb_spot_point *exact = NULL, *star = NULL;
	size_t i;

	*series = 0;
	for (i = 0; i < v->nspot_points; i++) {
		const gb_spot_point *sp = &v->spot_points[i];

		if (sp->from > q->at || strcmp(sp->sku, q->sku) != 0)
			continue;
		/* Points are sorted by (sku, region, from): the last one wins. */
		if (q->region && strcmp(sp->region, q->region) == 0)
			exact = sp;
		else if (strcmp(sp->region, "*") == 0)
			star = sp;
	}
	if (!exact)
		exact = star;
	if (exact) {
		*series = 1;
		*from = exact->from;
		return &exact->price;
	}
	return rate ? rate->spot : NULL;
}

/* One GPU offer of table t at price for qty GPU-hours. */
static int gpu_offer(gb_quote *q, size_t t, gb_offer_kind kind,
		     const char *term, const gb_price *price, const mpq_t qty,
		     const char *how)
{
	qoffer *o = offer_new(q, t, kind, term);
	char tiers[160] = "";
	unsigned first, last;
	mpq_t cost;

	if (!o)
		return GB_ENOMEM;
	mpq_init(cost);
	mpq_set(o->pub.quantity, qty);
	price_cost(cost, price, qty, &first, &last);
	offer_price(q, o, cost);
	mpq_clear(cost);
	o->pub.average = first != last;
	if (first)
		tier_note(tiers, sizeof tiers, price, first, last, "GPU-hours");
	o->pub.note = qdupf("%s%s%s", how, *how && *tiers ? ", " : "", tiers);
	return o->pub.name && o->pub.note ? 0 : GB_ENOMEM;
}

/*
 * Billed GPU-hours of the job under version v (SPEC 6.1): its length in
 * whole seconds, rounded up to the increment, at least the minimum, times
 * the GPUs.
 */
static void gpu_hours(mpq_t out, const gb_quote *q, const gb_version *v)
{
	mpz_t s;

	mpz_init(s);
	mpz_mul_ui(s, mpq_numref(q->hours), 3600);
	mpz_cdiv_q(s, s, mpq_denref(q->hours));
	mpz_cdiv_q_ui(s, s, (unsigned long)v->increment_seconds);
	mpz_mul_ui(s, s, (unsigned long)v->increment_seconds);
	if (mpz_cmp_ui(s, (unsigned long)v->minimum_seconds) < 0)
		mpz_set_ui(s, (unsigned long)v->minimum_seconds);
	mpz_mul_ui(s, s, q->gpus);
	mpq_set_z(out, s);
	mpz_set_ui(mpq_denref(out), 3600);
	mpq_canonicalize(out);
	mpz_clear(s);
}

static int quote_gpu(gb_quote *q, size_t t, const gb_version *v)
{
	char when[GB_TIME_TEXT_MAX], from[GB_TIME_TEXT_MAX], how[96];
	char norate[256];
	const gb_gpu_rate *rate;
	const gb_price *spot;
	int64_t spot_from = 0;
	int series, rc = 0;
	size_t i;
	mpq_t qty;

	gb_time_format(when, sizeof when, v->effective_from);
	if (!v->has_gpu)
		return unavailable(q, t, GB_OFFER_NONE,
				   "the price version from %s has no GPU prices", when);
	rate = gb_version_gpu_rate(v, q->sku, q->region);
	spot = spot_price_at(q, v, rate, &series, &spot_from);
	if (q->region)
		snprintf(norate, sizeof norate,
			 "no rate for sku '%s' in region '%s' or '*' in the price version from %s",
			 q->sku, q->region, when);
	else
		snprintf(norate, sizeof norate,
			 "no '*' rate for sku '%s' in the price version from %s (without a region only '*' rates apply)",
			 q->sku, when);
	/* A spot series prices spot usage even without a rate, as when billing. */
	if (!rate && !spot)
		return unavailable(q, t, GB_OFFER_NONE, "%s", norate);
	mpq_init(qty);
	gpu_hours(qty, q, v);
	if (rate && rate->on_demand)
		rc = gpu_offer(q, t, GB_OFFER_ON_DEMAND, NULL, rate->on_demand,
			       qty, "");
	else if (rate)
		rc = unavailable(q, t, GB_OFFER_ON_DEMAND,
				 "the '%s' rate for sku '%s' has no on-demand price",
				 rate->region, q->sku);
	else
		rc = unavailable(q, t, GB_OFFER_ON_DEMAND, "%s", norate);
	for (i = 0; rc == 0 && rate && i < rate->nreserved; i++)
		rc = gpu_offer(q, t, GB_OFFER_RESERVED, rate->reserved[i].term,
			       &rate->reserved[i].price, qty, "");
	if (rc == 0 && rate && rate->nreserved == 0)
		rc = unavailable(q, t, GB_OFFER_RESERVED,
				 "the '%s' rate for sku '%s' has no reserved terms",
				 rate->region, q->sku);
	else if (rc == 0 && !rate)
		rc = unavailable(q, t, GB_OFFER_RESERVED, "%s", norate);
	if (rc == 0 && spot) {
		if (series) {
			gb_time_format(from, sizeof from, spot_from);
			snprintf(how, sizeof how, "series price from %s", from);
		} else {
			snprintf(how, sizeof how, "fixed spot price");
		}
		rc = gpu_offer(q, t, GB_OFFER_SPOT, NULL, spot, qty, how);
		if (rc == 0 && series) {
			q->offers[q->noffers - 1].pub.spot_series = 1;
			q->offers[q->noffers - 1].pub.spot_from = spot_from;
		}
	} else if (rc == 0) {
		gb_time_format(from, sizeof from, q->at);
		rc = unavailable(q, t, GB_OFFER_SPOT,
				 "the '%s' rate for sku '%s' has no fixed spot price and no spot series price starts by %s",
				 rate->region, q->sku, from);
	}
	mpq_clear(qty);
	return rc;
}

/* --- token offers ---------------------------------------------------------------- */

static int quote_tokens(gb_quote *q, size_t t, const gb_version *v)
{
	static const char *const what[3] = { "input", "cached input", "output" };
	static const char *const key[3] = { "input", "cached_input", "output" };
	char when[GB_TIME_TEXT_MAX], note[512] = "", part[200], tiers[160];
	const gb_token_rate *rate;
	const gb_price *price[3];
	unsigned first, last, nparts = 0;
	mpq_t qty, cost, sum, factor;
	int average = 0, c;
	qoffer *o;

	gb_time_format(when, sizeof when, v->effective_from);
	if (!v->has_tokens)
		return unavailable(q, t, GB_OFFER_NONE,
				   "the price version from %s has no token prices", when);
	rate = gb_version_token_rate(v, q->model, q->region);
	if (!rate)
		return q->region ?
			unavailable(q, t, GB_OFFER_NONE,
				    "no rate for model '%s' in region '%s' or '*' in the price version from %s",
				    q->model, q->region, when) :
			unavailable(q, t, GB_OFFER_NONE,
				    "no '*' rate for model '%s' in the price version from %s (without a region only '*' rates apply)",
				    q->model, when);
	price[0] = rate->input;
	price[1] = rate->cached_input;
	price[2] = rate->output;
	for (c = 0; c < 3; c++)
		if (q->tokens[c] && !price[c])
			return unavailable(q, t, GB_OFFER_TOKENS,
					   "the '%s' rate for model '%s' has no %s price",
					   rate->region, q->model, key[c]);
	o = offer_new(q, t, GB_OFFER_TOKENS, NULL);
	if (!o)
		return GB_ENOMEM;
	mpq_inits(qty, cost, sum, factor, NULL);
	for (c = 0; c < 3; c++) {
		if (!q->tokens[c])
			continue;
		mpz_set_ui(mpq_numref(qty), 0);
		mpz_import(mpq_numref(qty), 1, 1, sizeof q->tokens[c], 0, 0,
			   &q->tokens[c]);
		mpz_set_ui(mpq_denref(qty), 1);
		price_cost(cost, price[c], qty, &first, &last);
		mpq_add(sum, sum, cost);
		mpz_add(mpq_numref(o->pub.quantity), mpq_numref(o->pub.quantity),
			mpq_numref(qty));
		if (first) {
			tier_note(tiers, sizeof tiers, price[c], first, last,
				  "tokens");
			snprintf(part, sizeof part, "%s %s", what[c], tiers);
		} else {
			char p[96];

			gb_decimal_format(p, sizeof p, price[c]->flat,
					  q->tables[t].prices->minor_units,
					  GB_DECIMAL_MAX_FRACTION, GB_ROUND_HALF_EVEN);
			snprintf(part, sizeof part, "%s %s", what[c], p);
		}
		average |= first != last;
		snprintf(note + strlen(note), sizeof note - strlen(note), "%s%s",
			 nparts++ ? ", " : "per 1M tokens: ", part);
	}
	o->pub.average = average || nparts > 1;
	/* per 1M tokens: quantity in millions, prices divided by 10^6 */
	mpz_mul_ui(mpq_denref(o->pub.quantity), mpq_denref(o->pub.quantity),
		   1000000);
	mpq_canonicalize(o->pub.quantity);
	mpz_mul_ui(mpq_denref(sum), mpq_denref(sum), 1000000);
	mpq_canonicalize(sum);
	if (q->batch) {
		mpq_set_ui(factor, 1, 1);
		mpq_sub(factor, factor, v->batch_discount);
		mpq_mul(sum, sum, factor);
		mpq_set_ui(factor, 100, 1);
		mpq_mul(factor, factor, v->batch_discount);
		gb_decimal_format(part, sizeof part, factor, 0, GB_DECIMAL_MAX_FRACTION,
				  GB_ROUND_HALF_EVEN);
		snprintf(note + strlen(note), sizeof note - strlen(note),
			 ", batch discount %s%%", part);
	}
	offer_price(q, o, sum);
	mpq_clears(qty, cost, sum, factor, NULL);
	o->pub.note = gb_strdup(note);
	return o->pub.name && o->pub.note ? 0 : GB_ENOMEM;
}

/* --- the quote ------------------------------------------------------------------- */

static int offer_cmp(const void *pa, const void *pb)
{
	const qoffer *a = pa, *b = pb;
	int c;

	if (a->pub.available != b->pub.available)
		return a->pub.available ? -1 : 1;
	if (a->pub.available) {
		c = mpq_cmp(a->value, b->value);
		if (c)
			return c < 0 ? -1 : 1;
	}
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/* Rank the available offers and measure each against the dearest. */
static void rank(gb_quote *q)
{
	const mpq_t *dearest;
	mpq_t saving;
	size_t i;

	if (q->noffers > 1)
		qsort(q->offers, q->noffers, sizeof *q->offers, offer_cmp);
	q->navailable = 0;
	while (q->navailable < q->noffers && q->offers[q->navailable].pub.available)
		q->navailable++;
	if (q->navailable == 0)
		return;
	dearest = (const mpq_t *)&q->offers[q->navailable - 1].value;
	mpq_init(saving);
	for (i = 0; i < q->navailable; i++) {
		qoffer *o = &q->offers[i];

		o->pub.rank = i + 1;
		mpq_sub(saving, *dearest, o->value);
		if (mpq_sgn(*dearest) > 0)
			mpq_div(o->pub.saving_fraction, saving, *dearest);
		/* Exact: both amounts have at most q->minor_units decimals. */
		mpz_ui_pow_ui(o->pub.saving, 10, q->minor_units);
		mpz_mul(o->pub.saving, o->pub.saving, mpq_numref(saving));
		mpz_divexact(o->pub.saving, o->pub.saving, mpq_denref(saving));
	}
	mpq_clear(saving);
}

/* Label each table by its name, adding the file when two names match. */
static int label_tables(gb_quote *q)
{
	size_t i, j;

	for (i = 0; i < q->ntables; i++) {
		const gb_prices *p = q->tables[i].prices;
		int same_name = 0, same_file = 0;

		for (j = 0; j < q->ntables; j++) {
			const gb_prices *o = q->tables[j].prices;

			if (j == i || strcmp(o->name, p->name) != 0)
				continue;
			same_name = 1;
			if (strcmp(o->source, p->source) == 0)
				same_file = 1;
		}
		if (same_file)
			q->tables[i].label = qdupf("%s (%s #%zu)", p->name,
						   p->source, i + 1);
		else if (same_name)
			q->tables[i].label = qdupf("%s (%s)", p->name, p->source);
		else
			q->tables[i].label = gb_strdup(p->name);
		if (!q->tables[i].label)
			return GB_ENOMEM;
	}
	return 0;
}

static int check_request(const gb_prices *const *tables, size_t ntables,
			 const gb_quote_request *req, gb_error *err)
{
	size_t i;

	if (!req || req->version != GB_QUOTE_REQUEST_VERSION)
		return gb_error_set(err, GB_EINVAL, "gb_quote_new: no request, or a request of another version");
	if (!tables || ntables == 0)
		return gb_error_set(err, GB_EINVAL, "gb_quote_new: no pricing table");
	for (i = 0; i < ntables; i++)
		if (!tables[i])
			return gb_error_set(err, GB_EINVAL, "gb_quote_new: table %zu is NULL", i);
	if (!req->sku == !req->model)
		return gb_error_set(err, GB_EINVAL, "a quote is for GPU time (a sku) or for tokens (a model), not %s",
				    req->sku ? "both" : "neither");
	if (req->sku) {
		if (req->gpus < 1 || req->gpus > GB_QUOTE_MAX_GPUS)
			return gb_error_set(err, GB_EINVAL, "gpus must be from 1 to %u, got %lu",
					    GB_QUOTE_MAX_GPUS, (unsigned long)req->gpus);
		if (!req->hours || mpq_sgn(req->hours) <= 0)
			return gb_error_set(err, GB_EINVAL, "hours must be greater than 0");
		return 0;
	}
	if (req->input_tokens > GB_QUOTE_MAX_TOKENS ||
	    req->cached_tokens > GB_QUOTE_MAX_TOKENS ||
	    req->output_tokens > GB_QUOTE_MAX_TOKENS)
		return gb_error_set(err, GB_EINVAL, "a token count must be at most 10^18");
	if (!req->input_tokens && !req->cached_tokens && !req->output_tokens)
		return gb_error_set(err, GB_EINVAL, "no tokens to quote: give input, cached or output tokens");
	return 0;
}

/* Refuse tables in different currencies: their offers cannot be ranked. */
static int check_currencies(const gb_prices *const *tables, size_t ntables,
			    gb_error *err)
{
	size_t i;

	for (i = 1; i < ntables; i++)
		if (strcmp(tables[i]->currency, tables[0]->currency) != 0)
			return gb_error_set(err, GB_ESCHEMA,
					    "cannot rank offers in different currencies: %s is in %s, %s is in %s (quote each currency separately)",
					    tables[0]->source, tables[0]->currency,
					    tables[i]->source, tables[i]->currency);
	return 0;
}

static int build(gb_quote *q, const gb_prices *const *tables,
		 const gb_quote_request *req)
{
	size_t t;
	int rc = 0;

	q->at = req->at;
	q->gpu = req->sku != NULL;
	q->gpus = req->gpus;
	q->batch = req->batch != 0;
	q->tokens[0] = req->input_tokens;
	q->tokens[1] = req->cached_tokens;
	q->tokens[2] = req->output_tokens;
	if (q->gpu)
		mpq_set(q->hours, req->hours);
	memcpy(q->currency, tables[0]->currency, sizeof q->currency);
	if ((req->sku && !(q->sku = gb_strdup(req->sku))) ||
	    (req->model && !(q->model = gb_strdup(req->model))) ||
	    (req->region && !(q->region = gb_strdup(req->region))))
		return GB_ENOMEM;
	q->tables = gb_calloc(q->ntables, sizeof *q->tables);
	if (!q->tables)
		return GB_ENOMEM;
	for (t = 0; t < q->ntables; t++) {
		q->tables[t].prices = tables[t];
		q->tables[t].version = gb_prices_version_at(tables[t], q->at);
		if (tables[t]->minor_units > q->minor_units)
			q->minor_units = tables[t]->minor_units;
	}
	rc = label_tables(q);
	for (t = 0; rc == 0 && t < q->ntables; t++) {
		const gb_prices *p = tables[t];
		char at[GB_TIME_TEXT_MAX], first[GB_TIME_TEXT_MAX];

		if (q->tables[t].version < 0) {
			gb_time_format(at, sizeof at, q->at);
			gb_time_format(first, sizeof first, p->versions[0].effective_from);
			rc = unavailable(q, t, GB_OFFER_NONE,
					 "no price version is in effect at %s (the first starts at %s)",
					 at, first);
		} else if (q->gpu) {
			rc = quote_gpu(q, t, &p->versions[q->tables[t].version]);
		} else {
			rc = quote_tokens(q, t, &p->versions[q->tables[t].version]);
		}
	}
	if (rc == 0)
		rank(q);
	return rc;
}

int gb_quote_new(gb_quote **out, const gb_prices *const *tables,
		 size_t ntables, const gb_quote_request *req, gb_error *err)
{
	gb_quote *q;
	int rc;

	gb_error_clear(err);
	if (!out)
		return gb_error_set(err, GB_EINVAL, "gb_quote_new: no output");
	*out = NULL;
	rc = check_request(tables, ntables, req, err);
	if (rc == 0)
		rc = check_currencies(tables, ntables, err);
	if (rc)
		return rc;
	q = gb_calloc(1, sizeof *q);
	if (!q)
		return gb_error_set(err, GB_ENOMEM, "out of memory");
	mpq_init(q->hours);
	q->ntables = ntables;
	rc = build(q, tables, req);
	if (rc) {
		gb_quote_free(q);
		return gb_error_set(err, rc, "out of memory");
	}
	*out = q;
	return 0;
}

void gb_quote_free(gb_quote *q)
{
	size_t i;

	if (!q)
		return;
	for (i = 0; i < q->noffers; i++)
		offer_clear(&q->offers[i]);
	gb_free(q->offers);
	if (q->tables)
		for (i = 0; i < q->ntables; i++)
			gb_free(q->tables[i].label);
	gb_free(q->tables);
	gb_free(q->sku);
	gb_free(q->model);
	gb_free(q->region);
	mpq_clear(q->hours);
	gb_free(q);
}

size_t gb_quote_offer_count(const gb_quote *q)
{
	return q ? q->noffers : 0;
}

const gb_quote_offer *gb_quote_offer_get(const gb_quote *q, size_t i)
{
	return q && i < q->noffers ? &q->offers[i].pub : NULL;
}

size_t gb_quote_available_count(const gb_quote *q)
{
	return q ? q->navailable : 0;
}

const char *gb_quote_currency(const gb_quote *q)
{
	return q ? q->currency : NULL;
}

unsigned gb_quote_minor_units(const gb_quote *q)
{
	return q ? q->minor_units : 0;
}

int gb_quote_table_version(const gb_quote *q, size_t i, int64_t *effective_from)
{
	long v;

	if (!q || i >= q->ntables || q->tables[i].version < 0)
		return -1;
	v = q->tables[i].version;
	if (effective_from)
		*effective_from = q->tables[i].prices->versions[v].effective_from;
	return 0;
}

/* --- shared by the writers ---------------------------------------------------------- */

/* The texts of one available offer's numbers; all NULL-checked by caller. */
typedef struct offer_text {
	char *quantity, *base, *unit_price, *amount, *saving, *percent;
} offer_text;

static void offer_text_free(offer_text *x)
{
	gb_free(x->quantity);
	gb_free(x->base);
	gb_free(x->unit_price);
	gb_free(x->amount);
	gb_free(x->saving);
	gb_free(x->percent);
	memset(x, 0, sizeof *x);
}

static int offer_text_fill(offer_text *x, const gb_quote *q,
			   const gb_quote_offer *o)
{
	mpq_t pct, base;

	memset(x, 0, sizeof *x);
	if (!o->available)
		return 0;
	mpq_inits(pct, base, NULL);
	mpq_set_ui(pct, 100, 1);
	mpq_mul(pct, pct, o->saving_fraction);
	/* GPU-seconds or tokens: whole numbers, shown exactly */
	mpq_set_ui(base, o->kind == GB_OFFER_TOKENS ? 1000000 : 3600, 1);
	mpq_mul(base, base, o->quantity);
	x->base = decimal_text(base, 0, 0);
	x->quantity = decimal_text(o->quantity, 0, GB_QUANTITY_DIGITS);
	/* An average is shown to 6 places; a single price exactly. */
	x->unit_price = decimal_text(o->unit_price, o->minor_units,
				     o->average ? 6 : GB_DECIMAL_MAX_FRACTION);
	x->amount = money_text(o->amount, o->minor_units);
	x->saving = money_text(o->saving, q->minor_units);
	x->percent = decimal_text(pct, 2, 2);
	mpq_clears(pct, base, NULL);
	if (!x->quantity || !x->base || !x->unit_price || !x->amount || !x->saving ||
	    !x->percent) {
		offer_text_free(x);
		return GB_ENOMEM;
	}
	return 0;
}

static void workload_text(gb_buf *b, const gb_quote *q)
{
	static const char *const what[3] = { "input", "cached input", "output" };
	char hours[128];
	int c, n = 0;

	if (q->gpu) {
		gb_decimal_format(hours, sizeof hours, q->hours, 0,
				  GB_DECIMAL_MAX_FRACTION, GB_ROUND_HALF_EVEN);
		gb_buf_printf(b, "%lu x %s for %s hour%s", (unsigned long)q->gpus,
			      q->sku, hours, mpq_cmp_ui(q->hours, 1, 1) == 0 ? "" : "s");
	} else {
		gb_buf_printf(b, "%s%s, ", q->model, q->batch ? " batch" : "");
		for (c = 0; c < 3; c++)
			if (q->tokens[c])
				gb_buf_printf(b, "%s%llu %s", n++ ? " + " : "",
					      (unsigned long long)q->tokens[c], what[c]);
		gb_buf_puts(b, " tokens");
	}
	if (q->region)
		gb_buf_printf(b, " in %s", q->region);
	else
		gb_buf_puts(b, ", '*' rates only");
}

/* --- text ------------------------------------------------------------------------ */

#define TCOLS 9

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

/*
 * Table, offer and note (columns 1, 2, 8) are left-aligned, the numbers
 * right-aligned; no line ends in spaces.
 */
static void put_row(gb_buf *b, const char *const cell[TCOLS],
		    const size_t *width)
{
	int c, last = TCOLS - 1;

	while (last > 0 && !*cell[last])
		last--;
	gb_buf_puts(b, "  ");
	for (c = 0; c <= last; c++) {
		size_t w = utf8_width(cell[c]);
		int left = c == 1 || c == 2 || c == 8;

		if (!left)
			pad(b, width[c] - w);
		gb_buf_puts(b, cell[c]);
		if (c < last) {
			if (left)
				pad(b, width[c] - w);
			gb_buf_puts(b, "  ");
		}
	}
	gb_buf_puts(b, "\n");
}

static void offer_cells(const char *cell[TCOLS], char *rank, size_t rsize,
			const gb_quote_offer *o, const offer_text *x)
{
	snprintf(rank, rsize, "%zu", o->rank);
	cell[0] = rank;
	cell[1] = o->label;
	cell[2] = o->name;
	cell[3] = x->quantity;
	cell[4] = x->unit_price;
	cell[5] = x->amount;
	cell[6] = x->saving;
	cell[7] = x->percent;
	cell[8] = o->note;
}

static int text_offers(gb_buf *b, const gb_quote *q)
{
	static const char *const heads[TCOLS] = {
		"Rank", "Table", "Offer", "", "Unit price", "Amount", "Saving",
		"Saving %", "Note"
	};
	offer_text *texts = gb_calloc(q->navailable + 1, sizeof *texts);
	const char *cell[TCOLS], *head[TCOLS];
	size_t width[TCOLS], i;
	char rank[32];
	int c, rc = 0;

	if (!texts)
		return GB_ENOMEM;
	for (c = 0; c < TCOLS; c++)
		head[c] = heads[c];
	head[3] = q->gpu ? "GPU-hours" : "1M tokens";
	for (c = 0; c < TCOLS; c++)
		width[c] = utf8_width(head[c]);
	for (i = 0; i < q->navailable && rc == 0; i++) {
		rc = offer_text_fill(&texts[i], q, &q->offers[i].pub);
		if (rc)
			break;
		offer_cells(cell, rank, sizeof rank, &q->offers[i].pub, &texts[i]);
		for (c = 0; c < TCOLS; c++)
			if (utf8_width(cell[c]) > width[c])
				width[c] = utf8_width(cell[c]);
	}
	if (rc == 0) {
		put_row(b, head, width);
		for (i = 0; i < q->navailable; i++) {
			offer_cells(cell, rank, sizeof rank, &q->offers[i].pub,
				    &texts[i]);
			put_row(b, cell, width);
		}
	}
	for (i = 0; i < q->navailable; i++)
		offer_text_free(&texts[i]);
	gb_free(texts);
	return rc;
}

int gb_quote_write_text(const gb_quote *q, gb_write_fn fn, void *payload,
			gb_error *err)
{
	char at[GB_TIME_TEXT_MAX], from[GB_TIME_TEXT_MAX];
	gb_buf b;
	size_t i;
	int rc = 0;

	gb_error_clear(err);
	if (!q || !fn)
		return gb_error_set(err, GB_EINVAL, "gb_quote_write_text: no quote or no writer");
	gb_buf_init(&b);
	gb_time_format(at, sizeof at, q->at);
	gb_buf_puts(&b, "Quote: ");
	workload_text(&b, q);
	gb_buf_printf(&b, ", prices at %s (%s)\n\n", at, q->currency);
	if (q->navailable)
		rc = text_offers(&b, q);
	else
		gb_buf_puts(&b, "  No table has an offer for this workload.\n");
	if (rc == 0 && q->navailable < q->noffers) {
		gb_buf_puts(&b, "\nNot available:\n");
		for (i = q->navailable; i < q->noffers; i++)
			gb_buf_printf(&b, "  %s: %s: %s\n", q->offers[i].pub.label,
				      q->offers[i].pub.name, q->offers[i].pub.note);
	}
	if (rc == 0) {
		gb_buf_puts(&b, "\nTables:\n");
		for (i = 0; i < q->ntables; i++) {
			const qtable *t = &q->tables[i];

			gb_buf_printf(&b, "  %s: %s, ", t->label, t->prices->source);
			if (t->version < 0) {
				gb_buf_puts(&b, "no price version in effect\n");
				continue;
			}
			gb_time_format(from, sizeof from,
				       t->prices->versions[t->version].effective_from);
			gb_buf_printf(&b, "version from %s\n", from);
		}
	}
	if (rc)
		rc = gb_error_set(err, rc, "out of memory formatting output");
	else
		rc = gb_buf_flush(&b, fn, payload, err);
	gb_buf_free(&b);
	return rc;
}

/* --- CSV ------------------------------------------------------------------------- */



int gb_quote_write_csv(const gb_quote *q, gb_write_fn fn, void *payload,
		       gb_error *err)
{
	gb_buf b;
	size_t i;
	int rc = 0;

	gb_error_clear(err);
	if (!q || !fn)
		return gb_error_set(err, GB_EINVAL, "gb_quote_write_csv: no quote or no writer");
	gb_buf_init(&b);
	gb_buf_puts(&b, "rank,table,offer,kind,term,quantity,unit,unit_price,"
			"amount,saving,saving_percent,currency,note\r\n");
	for (i = 0; i < q->noffers && rc == 0; i++) {
		const gb_quote_offer *o = &q->offers[i].pub;
		offer_text x;

		rc = offer_text_fill(&x, q, o);
		if (rc)
			break;
		if (o->available)
			gb_buf_printf(&b, "%zu,", o->rank);
		else
			gb_buf_puts(&b, ",");
		gb_buf_csv_cell(&b, o->label, 0);
		gb_buf_csv_cell(&b, o->name, 0);
		gb_buf_csv_cell(&b, gb_offer_kind_name(o->kind), 0);
		gb_buf_csv_cell(&b, o->term, 0);
		gb_buf_csv_cell(&b, o->available ? x.quantity : "", 0);
		gb_buf_csv_cell(&b, o->unit, 0);
		gb_buf_csv_cell(&b, o->available ? x.unit_price : "", 0);
		gb_buf_csv_cell(&b, o->available ? x.amount : "", 0);
		gb_buf_csv_cell(&b, o->available ? x.saving : "", 0);
		gb_buf_csv_cell(&b, o->available ? x.percent : "", 0);
		gb_buf_csv_cell(&b, q->currency, 0);
		gb_buf_csv_cell(&b, o->note, 1);
		offer_text_free(&x);
	}
	if (rc)
		rc = gb_error_set(err, rc, "out of memory formatting output");
	else
		rc = gb_buf_flush(&b, fn, payload, err);
	gb_buf_free(&b);
	return rc;
}

/* --- JSON ------------------------------------------------------------------------ */


/* indent"key": "value"(,)\n */
static void json_kv(gb_buf *b, const char *indent, const char *key,
		    const char *value, int comma)
{
	gb_buf_printf(b, "%s\"%s\": ", indent, key);
	gb_buf_json_string(b, value);
	gb_buf_puts(b, comma ? ",\n" : "\n");
}

static void json_workload(gb_buf *b, const gb_quote *q)
{
	const char *in = "    ";
	char hours[128];

	gb_buf_puts(b, "  \"workload\": {\n");
	json_kv(b, in, "type", q->gpu ? "gpu" : "tokens", 1);
	if (q->gpu) {
		json_kv(b, in, "sku", q->sku, 1);
	} else {
		json_kv(b, in, "model", q->model, 1);
	}
	gb_buf_printf(b, "%s\"region\": ", in);
	if (q->region)
		gb_buf_json_string(b, q->region);
	else
		gb_buf_puts(b, "null");
	gb_buf_puts(b, ",\n");
	if (q->gpu) {
		gb_decimal_format(hours, sizeof hours, q->hours, 0,
				  GB_DECIMAL_MAX_FRACTION, GB_ROUND_HALF_EVEN);
		gb_buf_printf(b, "%s\"gpus\": %lu,\n", in, (unsigned long)q->gpus);
		json_kv(b, in, "hours", hours, 0);
	} else {
		gb_buf_printf(b, "%s\"input_tokens\": \"%llu\",\n%s\"cached_tokens\": \"%llu\",\n"
			      "%s\"output_tokens\": \"%llu\",\n%s\"batch\": %s\n",
			      in, (unsigned long long)q->tokens[0],
			      in, (unsigned long long)q->tokens[1],
			      in, (unsigned long long)q->tokens[2],
			      in, q->batch ? "true" : "false");
	}
	gb_buf_puts(b, "  },\n");
}

static void json_tables(gb_buf *b, const gb_quote *q)
{
	const char *in = "      ";
	char from[GB_TIME_TEXT_MAX];
	size_t i;

	gb_buf_puts(b, "  \"tables\": [\n");
	for (i = 0; i < q->ntables; i++) {
		const qtable *t = &q->tables[i];

		gb_buf_puts(b, "    {\n");
		json_kv(b, in, "table", t->label, 1);
		json_kv(b, in, "name", t->prices->name, 1);
		json_kv(b, in, "file", t->prices->source, 1);
		gb_buf_printf(b, "%s\"version\": ", in);
		if (t->version < 0) {
			gb_buf_puts(b, "null,\n");
		} else {
			gb_time_format(from, sizeof from,
				       t->prices->versions[t->version].effective_from);
			gb_buf_printf(b, "\"%s\",\n", from);
		}
		gb_buf_printf(b, "%s\"minor_units\": %u,\n", in, t->prices->minor_units);
		json_kv(b, in, "rounding", gb_rounding_name(t->prices->rounding), 0);
		gb_buf_puts(b, i + 1 < q->ntables ? "    },\n" : "    }\n");
	}
	gb_buf_puts(b, "  ],\n");
}

static void json_offer(gb_buf *b, const gb_quote_offer *o, const offer_text *x,
		       int last)
{
	const char *in = "      ";
	char from[GB_TIME_TEXT_MAX];

	gb_buf_puts(b, "    {\n");
	if (o->available)
		gb_buf_printf(b, "%s\"rank\": %zu,\n", in, o->rank);
	json_kv(b, in, "table", o->label, 1);
	gb_buf_printf(b, "%s\"table_index\": %zu,\n", in, o->table);
	json_kv(b, in, "offer", o->name, 1);
	json_kv(b, in, "kind", gb_offer_kind_name(o->kind), 1);
	if (o->kind == GB_OFFER_RESERVED && o->term[0])
		json_kv(b, in, "term", o->term, 1);
	if (!o->available) {
		json_kv(b, in, "reason", o->note, 0);
		gb_buf_puts(b, last ? "    }\n" : "    },\n");
		return;
	}
	json_kv(b, in, "quantity", x->quantity, 1);
	json_kv(b, in, "unit", o->unit, 1);
	json_kv(b, in, o->kind == GB_OFFER_TOKENS ? "tokens" : "gpu_seconds",
		x->base, 1);
	json_kv(b, in, "unit_price", x->unit_price, 1);
	gb_buf_printf(b, "%s\"unit_price_is_average\": %s,\n", in,
		      o->average ? "true" : "false");
	json_kv(b, in, "amount", x->amount, 1);
	json_kv(b, in, "saving", x->saving, 1);
	json_kv(b, in, "saving_percent", x->percent, 1);
	if (o->spot_series) {
		gb_time_format(from, sizeof from, o->spot_from);
		json_kv(b, in, "spot_price_from", from, 1);
	}
	json_kv(b, in, "note", o->note, 0);
	gb_buf_puts(b, last ? "    }\n" : "    },\n");
}

int gb_quote_write_json(const gb_quote *q, gb_write_fn fn, void *payload,
			gb_error *err)
{
	char at[GB_TIME_TEXT_MAX];
	gb_buf b;
	size_t i;
	int rc = 0;

	gb_error_clear(err);
	if (!q || !fn)
		return gb_error_set(err, GB_EINVAL, "gb_quote_write_json: no quote or no writer");
	gb_buf_init(&b);
	gb_time_format(at, sizeof at, q->at);
	gb_buf_puts(&b, "{\n");
	json_kv(&b, "  ", "format", "gpubill-quote/1", 1);
	json_kv(&b, "  ", "at", at, 1);
	json_kv(&b, "  ", "currency", q->currency, 1);
	gb_buf_printf(&b, "  \"minor_units\": %u,\n", q->minor_units);
	json_workload(&b, q);
	json_tables(&b, q);
	gb_buf_puts(&b, q->navailable ? "  \"offers\": [\n" : "  \"offers\": [],\n");
	for (i = 0; i < q->noffers && rc == 0; i++) {
		const gb_quote_offer *o = &q->offers[i].pub;
		offer_text x;

		if (i == q->navailable)
			gb_buf_puts(&b, i ? "  ],\n  \"unavailable\": [\n"
					  : "  \"unavailable\": [\n");
		rc = offer_text_fill(&x, q, o);
		if (rc)
			break;
		json_offer(&b, o, &x, i + 1 == q->navailable || i + 1 == q->noffers);
		offer_text_free(&x);
	}
	if (rc == 0) {
		if (q->navailable == q->noffers)
			gb_buf_puts(&b, q->noffers ? "  ],\n  \"unavailable\": []\n"
						   : "  \"unavailable\": []\n");
		else
			gb_buf_puts(&b, "  ]\n");
		gb_buf_puts(&b, "}\n");
	}
	if (rc)
		rc = gb_error_set(err, rc, "out of memory formatting output");
	else
		rc = gb_buf_flush(&b, fn, payload, err);
	gb_buf_free(&b);
	return rc;
}
