/*
 * test_margin.c - margin reports: revenue attribution of discounts,
 * minimum spend and credits; costs, GPU-hours and idle reserved capacity;
 * rounding that adds up (largest remainder, ties in row order, the table's
 * rounding mode); keys and their order; errors; the three writers; and
 * every allocation failing once over a whole run.
 *
 * Most tests build invoice sets by hand (invoice_internal.h), so that each
 * line's amount is exactly what the test needs; the expected figures are
 * worked out in the comments.
 */
#include <check.h>
#include <gmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gpubill/gpubill.h>
#include "internal.h"
#include "invoice_internal.h"
#include "test_data.h"

/* 2026-10-01T00:00:00Z and 2026-10-02T00:00:00Z */
#define FROM INT64_C(1790812800)
#define TO INT64_C(1790899200)

/* --- building invoice sets ----------------------------------------------- */

static gb_invoice_set *set_new(size_t ninvoices, unsigned minor)
{
	gb_invoice_set *s = gb_invoice_set_new("USD", minor, "t", FROM, TO);
	size_t i;

	ck_assert_ptr_nonnull(s);
	s->invoices = gb_calloc(ninvoices, sizeof *s->invoices);
	ck_assert_ptr_nonnull(s->invoices);
	s->ninvoices = ninvoices;
	for (i = 0; i < ninvoices; i++)
		mpz_init(s->invoices[i].total);
	return s;
}

static void customer(gb_invoice_set *s, size_t i, const char *name)
{
	s->invoices[i].customer = gb_strdup(name);
}

/*
 * Add a line to invoice i: base is a rational in text ("21660"), amount
 * in minor units.  Returns the line for extra fields.
 */
static gb_invoice_line *line(gb_invoice_set *s, size_t i, gb_line_kind kind,
			     const char *sku, const char *model,
			     const char *region, const char *desc,
			     const char *base, long amount)
{
	gb_invoice *inv = &s->invoices[i];
	gb_invoice_line *lines = gb_realloc((void *)inv->lines,
					    (inv->nlines + 1) * sizeof *lines);
	gb_invoice_line *l;

	ck_assert_ptr_nonnull(lines);
	inv->lines = lines;
	l = &lines[inv->nlines++];
	gb_invoice_line_init(l);
	l->kind = kind;
	l->sku = gb_strdup(sku);
	l->model = gb_strdup(model);
	l->region = gb_strdup(region);
	l->reference = gb_strdup("");
	l->description = gb_strdup(desc);
	l->unit = "";
	ck_assert_int_eq(mpq_set_str(l->base_quantity, base, 10), 0);
	mpq_canonicalize(l->base_quantity);
	mpz_set_si(l->amount, amount);
	mpz_add(inv->total, inv->total, l->amount);
	return l;
}

static gb_invoice_line *gpu(gb_invoice_set *s, size_t i, gb_line_kind kind,
			    const char *sku, const char *region,
			    const char *seconds, long amount)
{
	return line(s, i, kind, sku, "", region, "", seconds, amount);
}

static gb_invoice_line *tok(gb_invoice_set *s, size_t i, gb_line_kind kind,
			    const char *model, const char *tokens, long amount)
{
	return line(s, i, kind, "", model, "", "", tokens, amount);
}

/* As the rater makes them: a discount line's reference is the contract's
 * key for the usage it was taken from. */
static void adjust(gb_invoice_set *s, size_t i, gb_line_kind kind,
		   const char *desc, long amount)
{
	gb_invoice_line *l = line(s, i, kind, "", "", "", desc, "1", amount);

	if (kind != GB_LINE_DISCOUNT)
		return;
	gb_free((void *)l->reference);
	l->reference = gb_strdup(strstr(desc, "on-demand") ? "gpu_on_demand" :
				 strstr(desc, "spot") ? "gpu_spot" :
				 strstr(desc, "token") ? "tokens" : "");
}

static gb_costs *costs_from(const char *json)
{
	gb_costs *c = NULL;
	gb_error err;
	size_t n = strlen(json) + 1;
	char *s = malloc(n), *p;

	ck_assert_ptr_nonnull(s);
	memcpy(s, json, n);
	for (p = s; *p; p++)
		if (*p == '\'')
			*p = '"';
	if (gb_costs_load(&c, s, strlen(s), "c.json", &err))
		ck_abort_msg("%s: %s", err.path, err.message);
	free(s);
	return c;
}

/* H100 at 1.234 ("*") and 1.3333 (eu-west); model m at 0.333. */
#define COSTS "{'format': 'gpubill-costs/1', 'name': 'c', 'currency': 'USD'," \
	" 'gpu': [{'sku': 'H100', 'region': '*', 'per_gpu_hour': '1.234'}," \
	"  {'sku': 'H100', 'region': 'eu-west', 'per_gpu_hour': '1.3333'}]," \
	" 'tokens': [{'model': 'm', 'per_million': '0.333'}]}"

/*
 * The invoices of the golden case margin-reserved-idle (see its README):
 * acme with a reservation 25% used, on-demand, spot, an interrupted spot
 * run, tokens, three discounts, a minimum-spend shortfall and a credit;
 * bolt with a minimum spend only.
 */
static gb_invoice_set *golden_set(void)
{
	gb_invoice_set *s = set_new(2, 2);
	gb_invoice_line *l;

	customer(s, 0, "acme");
	l = gpu(s, 0, GB_LINE_GPU_RESERVED, "H100", "us-east", "72000", 4000);
	l->has_utilisation = 1;
	mpq_set_ui(l->utilisation, 1, 4);
	gpu(s, 0, GB_LINE_GPU_ON_DEMAND, "H100", "us-east", "21660", 1805);
	gpu(s, 0, GB_LINE_GPU_SPOT, "H100", "eu-west", "14420", 481);
	gpu(s, 0, GB_LINE_GPU_SPOT_INTERRUPTED, "H100", "eu-west", "1800", 0);
	tok(s, 0, GB_LINE_TOKENS_INPUT, "m", "1000000", 100);
	tok(s, 0, GB_LINE_TOKENS_OUTPUT, "m", "500000", 100);
	adjust(s, 0, GB_LINE_DISCOUNT, "Discount 10% on on-demand GPU usage (18.05)", -180);
	adjust(s, 0, GB_LINE_DISCOUNT, "Discount 20% on spot GPU usage (4.81)", -96);
	adjust(s, 0, GB_LINE_DISCOUNT, "Discount 5% on token usage (2.00)", -10);
	adjust(s, 0, GB_LINE_MINIMUM_SPEND, "Minimum spend shortfall (minimum 70.00)", 800);
	adjust(s, 0, GB_LINE_CREDIT, "Credit promo (10.00; 0.00 left)", -1000);
	customer(s, 1, "bolt");
	adjust(s, 1, GB_LINE_MINIMUM_SPEND, "Minimum spend shortfall (minimum 5.00)", 500);
	ck_assert_int_eq(mpz_get_si(s->invoices[0].total), 6000);
	return s;
}

static gb_margin *compute(const gb_invoice_set *s, const gb_costs *c,
			  gb_margin_key k1, int two, gb_margin_key k2)
{
	gb_margin_options o = GB_MARGIN_OPTIONS_INIT;
	gb_margin *m = NULL;
	gb_error err;

	o.nby = two ? 2 : 1;
	o.by[0] = k1;
	o.by[1] = k2;
	if (gb_margin_compute(&m, s, c, &o, &err))
		ck_abort_msg("gb_margin_compute: %s", err.message);
	return m;
}

static void money_is(const mpz_t v, long want)
{
	ck_assert_msg(mpz_cmp_si(v, want) == 0, "got %ld, want %ld",
		      mpz_get_si(v), want);
}

static void q_is(const mpq_t v, const char *want)
{
	mpq_t w;

	mpq_init(w);
	ck_assert_int_eq(mpq_set_str(w, want, 10), 0);
	mpq_canonicalize(w);
	ck_assert_msg(mpq_equal(v, w), "got %s, want %s",
		      mpq_get_str(NULL, 10, v), want);
	mpq_clear(w);
}

static void key_is(const gb_margin_row *r, size_t k, const char *want)
{
	if (!want)
		ck_assert_ptr_null(r->key[k]);
	else
		ck_assert_str_eq(r->key[k], want);
}

/* Every column of the rows adds up to the total, exactly. */
static void adds_up(const gb_margin *m)
{
	const gb_margin_row *t = gb_margin_total(m);
	mpz_t rev, cost, margin, idle;
	mpq_t hours, ihours;
	size_t i;

	mpz_inits(rev, cost, margin, idle, NULL);
	mpq_inits(hours, ihours, NULL);
	for (i = 0; i < gb_margin_row_count(m); i++) {
		const gb_margin_row *r = gb_margin_row_get(m, i);

		mpz_add(rev, rev, r->revenue);
		mpz_add(cost, cost, r->cost);
		mpz_add(margin, margin, r->margin);
		mpz_add(idle, idle, r->idle_cost);
		mpq_add(hours, hours, r->gpu_hours);
		mpq_add(ihours, ihours, r->idle_gpu_hours);
	}
	ck_assert(mpz_cmp(rev, t->revenue) == 0);
	ck_assert(mpz_cmp(cost, t->cost) == 0);
	ck_assert(mpz_cmp(margin, t->margin) == 0);
	ck_assert(mpz_cmp(idle, t->idle_cost) == 0);
	ck_assert(mpq_equal(hours, t->gpu_hours));
	ck_assert(mpq_equal(ihours, t->idle_gpu_hours));
	mpz_clears(rev, cost, margin, idle, NULL);
	mpq_clears(hours, ihours, NULL);
}

/* --- output sink ---------------------------------------------------------- */

typedef struct sink {
	char *data;
	size_t len;
	int fail;
} sink;

static int sink_write(const void *d, size_t n, void *payload)
{
	sink *s = payload;
	char *p;

	if (s->fail)
		return -1;
	p = realloc(s->data, s->len + n + 1);
	if (!p)
		return -1;
	memcpy(p + s->len, d, n);
	s->data = p;
	s->len += n;
	s->data[s->len] = '\0';
	return 0;
}

/* --- revenue, cost, idle capacity ----------------------------------------- */

/*
 * By market.  Revenue in cents: b = res 4000, on-demand 1805 - 180 = 1625,
 * spot 481 - 96 = 385 (the interrupted line has 0, so no share), tokens
 * 100 - 10 x 100/200 = 95 twice; sum 6200.  The shortfall and the credit,
 * 800 - 1000 = -200, scale every b by 6000/6200 = 30/31:
 *   on-demand 48750/31 = 1572.58, reserved 120000/31 = 3870.97,
 *   spot 11550/31 = 372.58, tokens 5700/31 = 183.87; bolt's 500 alone ("-").
 * Floors 1572 + 3870 + 372 + 183 + 500 = 6497 of 6500: the 3 cents go to
 * reserved (.968), tokens (.871) and on-demand (.581, before spot's equal
 * .581).  Rounded alone, spot would be 3.73 and the rows 65.01.
 * Cost: on-demand 21660/3600 x 1.234 = 7.424567, reserved 20 x 1.234 =
 * 24.68, spot (14420 + 1800)/3600 x 1.3333 = 6.007257, tokens 1.5 x 0.333
 * = 0.4995; total 38.611324 -> 38.61; floors 742 + 2468 + 600 + 49 = 3859,
 * the 2 cents to tokens (.95) and spot (.73).
 * Idle: 20 x (1 - 1/4) = 15 GPU-hours x 1.234 = 18.51.
 * GPU-hours: 6.016667, 20, 4.505555 (its .56 loses to on-demand's .67:
 * the total is 30.522222).
 */
START_TEST(test_by_market)
{
	gb_invoice_set *s = golden_set();
	gb_costs *c = costs_from(COSTS);
	gb_margin *m = compute(s, c, GB_MARGIN_BY_MARKET, 0, 0);
	const gb_margin_row *r;

	ck_assert_uint_eq(gb_margin_row_count(m), 5);
	ck_assert_uint_eq(gb_margin_key_count(m), 1);
	ck_assert_int_eq(gb_margin_key_get(m, 0), GB_MARGIN_BY_MARKET);
	r = gb_margin_row_get(m, 0);
	key_is(r, 0, "on_demand");
	money_is(r->revenue, 1573);
	money_is(r->cost, 742);
	money_is(r->margin, 831);
	q_is(r->margin_pct, "83100/1573");
	q_is(r->gpu_hours, "6016667/1000000");
	q_is(r->idle_gpu_hours, "0");
	r = gb_margin_row_get(m, 1);
	key_is(r, 0, "reserved");
	money_is(r->revenue, 3871);
	money_is(r->cost, 2468);
	q_is(r->gpu_hours, "20");
	q_is(r->idle_gpu_hours, "15");
	money_is(r->idle_cost, 1851);
	r = gb_margin_row_get(m, 2);
	key_is(r, 0, "spot");
	money_is(r->revenue, 372);
	money_is(r->cost, 601);
	money_is(r->margin, -229);
	q_is(r->gpu_hours, "4505555/1000000");
	r = gb_margin_row_get(m, 3);
	key_is(r, 0, "tokens");
	money_is(r->revenue, 184);
	money_is(r->cost, 50);
	q_is(r->gpu_hours, "0");
	r = gb_margin_row_get(m, 4);
	key_is(r, 0, NULL);
	money_is(r->revenue, 500);
	money_is(r->cost, 0);
	ck_assert(r->has_margin_pct);
	q_is(r->margin_pct, "100");
	r = gb_margin_total(m);
	money_is(r->revenue, 6500);
	money_is(r->cost, 3861);
	money_is(r->margin, 2639);
	money_is(r->idle_cost, 1851);
	q_is(r->gpu_hours, "30522222/1000000");
	adds_up(m);
	gb_margin_free(m);
	gb_costs_free(c);
	gb_invoice_set_free(s);
}
END_TEST

/* By customer: each customer's revenue is its invoice total. */
START_TEST(test_by_customer_is_invoice_total)
{
	gb_invoice_set *s = golden_set();
	gb_costs *c = costs_from(COSTS);
	gb_margin *m = compute(s, c, GB_MARGIN_BY_CUSTOMER, 0, 0);

	ck_assert_uint_eq(gb_margin_row_count(m), 2);
	key_is(gb_margin_row_get(m, 0), 0, "acme");
	money_is(gb_margin_row_get(m, 0)->revenue, 6000);
	money_is(gb_margin_row_get(m, 0)->cost, 3861);
	key_is(gb_margin_row_get(m, 1), 0, "bolt");
	money_is(gb_margin_row_get(m, 1)->revenue, 500);
	adds_up(m);
	gb_margin_free(m);
	gb_costs_free(c);
	gb_invoice_set_free(s);
}
END_TEST

/*
 * Two keys: customer x sku.  Token lines have no sku, nor has bolt's
 * minimum spend: acme/H100, acme/-, bolt/-.
 */
START_TEST(test_two_keys)
{
	gb_invoice_set *s = golden_set();
	gb_costs *c = costs_from(COSTS);
	gb_margin *m = compute(s, c, GB_MARGIN_BY_CUSTOMER, 1, GB_MARGIN_BY_SKU);

	ck_assert_uint_eq(gb_margin_row_count(m), 3);
	key_is(gb_margin_row_get(m, 0), 0, "acme");
	key_is(gb_margin_row_get(m, 0), 1, "H100");
	/* 1572.58 + 3870.97 + 372.58 = 5816.13 -> 5816 */
	money_is(gb_margin_row_get(m, 0)->revenue, 5816);
	key_is(gb_margin_row_get(m, 1), 0, "acme");
	key_is(gb_margin_row_get(m, 1), 1, NULL);
	/* 183.87 -> 184: 5816 + 184 + 500 = 6500 */
	money_is(gb_margin_row_get(m, 1)->revenue, 184);
	key_is(gb_margin_row_get(m, 2), 0, "bolt");
	key_is(gb_margin_row_get(m, 2), 1, NULL);
	adds_up(m);
	gb_margin_free(m);
	/* region x model: GPU lines have no model, token lines no region */
	m = compute(s, c, GB_MARGIN_BY_REGION, 1, GB_MARGIN_BY_MODEL);
	ck_assert_uint_eq(gb_margin_row_count(m), 4);
	key_is(gb_margin_row_get(m, 0), 0, "eu-west");
	key_is(gb_margin_row_get(m, 0), 1, NULL);
	key_is(gb_margin_row_get(m, 1), 0, "us-east");
	key_is(gb_margin_row_get(m, 2), 0, NULL);
	key_is(gb_margin_row_get(m, 2), 1, "m");
	key_is(gb_margin_row_get(m, 3), 0, NULL);
	key_is(gb_margin_row_get(m, 3), 1, NULL);
	adds_up(m);
	gb_margin_free(m);
	gb_costs_free(c);
	gb_invoice_set_free(s);
}
END_TEST

/*
 * Largest remainder, ties in row order: customers x, y, z each run 1800
 * GPU-seconds at a cost of 0.01 per GPU-hour: 0.005 each, 0.015 in all,
 * which rounds half-even to 0.02.  Floors are 0: the 2 cents go to x and
 * y (equal remainders: the earlier rows).  Rounded alone every row would
 * be 0.00.  With mode "down" the total is 0.01 (x only); with "up" 0.02.
 */
START_TEST(test_ties_in_row_order)
{
	gb_invoice_set *s = set_new(3, 2);
	gb_costs *c = costs_from("{'format': 'gpubill-costs/1', 'name': 'c',"
				 " 'currency': 'USD', 'gpu': [{'sku': 'G',"
				 " 'region': '*', 'per_gpu_hour': '0.01'}]}");
	gb_margin_options o = GB_MARGIN_OPTIONS_INIT;
	gb_margin *m;
	gb_error err;
	size_t i;

	customer(s, 0, "x");
	customer(s, 1, "y");
	customer(s, 2, "z");
	for (i = 0; i < 3; i++)
		gpu(s, i, GB_LINE_GPU_ON_DEMAND, "G", "r", "1800", 100);
	m = compute(s, c, GB_MARGIN_BY_CUSTOMER, 0, 0);
	money_is(gb_margin_row_get(m, 0)->cost, 1);
	money_is(gb_margin_row_get(m, 1)->cost, 1);
	money_is(gb_margin_row_get(m, 2)->cost, 0);
	money_is(gb_margin_total(m)->cost, 2);
	/* margin % from the shown figures: (1.00 - 0.01) / 1.00 */
	q_is(gb_margin_row_get(m, 0)->margin_pct, "99");
	q_is(gb_margin_row_get(m, 2)->margin_pct, "100");
	adds_up(m);
	gb_margin_free(m);
	o.rounding = GB_ROUND_DOWN;
	ck_assert_int_eq(gb_margin_compute(&m, s, c, &o, &err), 0);
	money_is(gb_margin_total(m)->cost, 1);
	money_is(gb_margin_row_get(m, 0)->cost, 1);
	money_is(gb_margin_row_get(m, 1)->cost, 0);
	adds_up(m);
	gb_margin_free(m);
	o.rounding = GB_ROUND_UP;
	ck_assert_int_eq(gb_margin_compute(&m, s, c, &o, &err), 0);
	money_is(gb_margin_total(m)->cost, 2);
	adds_up(m);
	gb_margin_free(m);
	gb_costs_free(c);
	gb_invoice_set_free(s);
}
END_TEST

/*
 * Credits that take a total to zero, with a volume of rows: 7 customers
 * of 3 lines (1, 1 and 1 cents, each a third of a 3-cent invoice after a
 * 2-cent credit: 1/3 cent each).  By market each market row has 7/3 cents:
 * floors 2, 2, 2 = 6 of 7, the cent to the first.
 */
START_TEST(test_thirds)
{
	gb_invoice_set *s = set_new(7, 2);
	gb_costs *c = costs_from("{'format': 'gpubill-costs/1', 'name': 'c',"
				 " 'currency': 'USD', 'gpu': [{'sku': 'G',"
				 " 'region': '*', 'per_gpu_hour': '0'}],"
				 " 'tokens': [{'model': 'm', 'per_million': '0'}]}");
	gb_margin *m;
	char name[8];
	size_t i;

	for (i = 0; i < 7; i++) {
		snprintf(name, sizeof name, "c%zu", i);
		customer(s, i, name);
		gpu(s, i, GB_LINE_GPU_ON_DEMAND, "G", "r", "36", 1);
		gpu(s, i, GB_LINE_GPU_SPOT, "G", "r", "36", 1);
		tok(s, i, GB_LINE_TOKENS_OUTPUT, "m", "10", 1);
		adjust(s, i, GB_LINE_CREDIT, "Credit k", -2);
	}
	m = compute(s, c, GB_MARGIN_BY_MARKET, 0, 0);
	ck_assert_uint_eq(gb_margin_row_count(m), 3);
	money_is(gb_margin_row_get(m, 0)->revenue, 3);
	money_is(gb_margin_row_get(m, 1)->revenue, 2);
	money_is(gb_margin_row_get(m, 2)->revenue, 2);
	money_is(gb_margin_total(m)->revenue, 7);
	/* 7 x 0.01 GPU-hours twice: on_demand, spot 0.07 each */
	q_is(gb_margin_row_get(m, 0)->gpu_hours, "7/100");
	adds_up(m);
	gb_margin_free(m);
	m = compute(s, c, GB_MARGIN_BY_CUSTOMER, 1, GB_MARGIN_BY_MARKET);
	ck_assert_uint_eq(gb_margin_row_count(m), 21);
	adds_up(m);
	gb_margin_free(m);
	gb_costs_free(c);
	gb_invoice_set_free(s);
}
END_TEST

/* No revenue: margin % does not apply; zero currency digits (JPY-like). */
START_TEST(test_no_revenue_and_zero_minor_units)
{
	gb_invoice_set *s = set_new(1, 0);
	gb_costs *c = costs_from("{'format': 'gpubill-costs/1', 'name': 'c',"
				 " 'currency': 'USD', 'gpu': [{'sku': 'G',"
				 " 'region': '*', 'per_gpu_hour': '100.5'}]}");
	gb_margin *m;

	customer(s, 0, "x");
	/* interrupted spot: 2 GPU-hours, not charged, cost 201 */
	gpu(s, 0, GB_LINE_GPU_SPOT_INTERRUPTED, "G", "r", "7200", 0);
	m = compute(s, c, GB_MARGIN_BY_MARKET, 0, 0);
	key_is(gb_margin_row_get(m, 0), 0, "spot");
	ck_assert(!gb_margin_row_get(m, 0)->has_margin_pct);
	money_is(gb_margin_row_get(m, 0)->cost, 201);
	money_is(gb_margin_row_get(m, 0)->margin, -201);
	ck_assert(!gb_margin_total(m)->has_margin_pct);
	adds_up(m);
	gb_margin_free(m);
	gb_costs_free(c);
	gb_invoice_set_free(s);
}
END_TEST

/* A discount line naming its kind in the reference is understood too. */
START_TEST(test_discount_reference)
{
	gb_invoice_set *s = set_new(1, 2);
	gb_costs *c = costs_from(COSTS);
	gb_invoice_line *l;
	gb_margin *m;

	customer(s, 0, "x");
	gpu(s, 0, GB_LINE_GPU_ON_DEMAND, "H100", "r", "3600", 300);
	gpu(s, 0, GB_LINE_GPU_SPOT, "H100", "r", "3600", 100);
	adjust(s, 0, GB_LINE_DISCOUNT, "Spot rebate", -50);
	l = (gb_invoice_line *)&s->invoices[0].lines[2];
	gb_free((char *)l->reference);
	l->reference = gb_strdup("gpu_spot");
	m = compute(s, c, GB_MARGIN_BY_MARKET, 0, 0);
	money_is(gb_margin_row_get(m, 0)->revenue, 300);
	money_is(gb_margin_row_get(m, 1)->revenue, 50);
	gb_margin_free(m);
	gb_costs_free(c);
	gb_invoice_set_free(s);
}
END_TEST

/* A discount on a kind with no line: it goes with the credits. */
START_TEST(test_discount_without_lines)
{
	gb_invoice_set *s = set_new(1, 2);
	gb_costs *c = costs_from(COSTS);
	gb_margin *m;

	customer(s, 0, "x");
	gpu(s, 0, GB_LINE_GPU_ON_DEMAND, "H100", "r", "3600", 300);
	adjust(s, 0, GB_LINE_DISCOUNT, "Discount 5% on token usage (0.00)", 0);
	m = compute(s, c, GB_MARGIN_BY_MARKET, 0, 0);
	ck_assert_uint_eq(gb_margin_row_count(m), 1);
	money_is(gb_margin_row_get(m, 0)->revenue, 300);
	gb_margin_free(m);
	gb_costs_free(c);
	gb_invoice_set_free(s);
}
END_TEST

/* --- errors -------------------------------------------------------------- */

START_TEST(test_missing_costs)
{
	gb_invoice_set *s = set_new(1, 2);
	gb_costs *c = costs_from("{'format': 'gpubill-costs/1', 'name': 'c',"
				 " 'currency': 'USD', 'gpu': [{'sku': 'H100',"
				 " 'region': 'x', 'per_gpu_hour': '1'}]}");
	gb_margin_options o = GB_MARGIN_OPTIONS_INIT;
	gb_margin *m = (gb_margin *)1;
	gb_error err;

	customer(s, 0, "acme");
	gpu(s, 0, GB_LINE_GPU_ON_DEMAND, "H100", "x", "3600", 300);
	gpu(s, 0, GB_LINE_GPU_ON_DEMAND, "H100", "y", "3600", 300);
	ck_assert_int_eq(gb_margin_compute(&m, s, c, &o, &err), GB_ESCHEMA);
	ck_assert_ptr_null(m);
	ck_assert_str_eq(err.source, "c.json");
	ck_assert_str_eq(err.path, "gpu");
	ck_assert_str_eq(err.message, "no cost for H100 in y (give a \"gpu\" entry for that sku with that region or \"*\"); customer acme, invoice line 2 (gpu_on_demand)");
	gb_invoice_set_free(s);
	s = set_new(1, 2);
	customer(s, 0, "acme");
	tok(s, 0, GB_LINE_TOKENS_CACHED_INPUT, "m", "10", 1);
	ck_assert_int_eq(gb_margin_compute(&m, s, c, &o, &err), GB_ESCHEMA);
	ck_assert_str_eq(err.path, "tokens");
	ck_assert_str_eq(err.message, "no cost for model m (give a \"tokens\" entry for it); customer acme, invoice line 1 (tokens_cached_input)");
	gb_invoice_set_free(s);
	gb_costs_free(c);
}
END_TEST

START_TEST(test_currency_and_options)
{
	gb_invoice_set *s = gb_invoice_set_new("EUR", 2, "t", FROM, TO);
	gb_costs *c = costs_from(COSTS);
	gb_margin_options o = GB_MARGIN_OPTIONS_INIT;
	gb_margin *m = NULL;
	gb_margin_key k;
	gb_error err;

	ck_assert_int_eq(gb_margin_compute(&m, s, c, &o, &err), GB_ESCHEMA);
	ck_assert_str_eq(err.path, "currency");
	ck_assert_ptr_nonnull(strstr(err.message, "the costs are in USD but the pricing table is in EUR"));
	gb_invoice_set_free(s);
	s = set_new(0, 2);
	o.version = 99;
	ck_assert_int_eq(gb_margin_compute(&m, s, c, &o, &err), GB_EINVAL);
	o.version = GB_MARGIN_OPTIONS_VERSION;
	o.nby = 0;
	ck_assert_int_eq(gb_margin_compute(&m, s, c, &o, &err), GB_EINVAL);
	o.nby = 3;
	ck_assert_int_eq(gb_margin_compute(&m, s, c, &o, &err), GB_EINVAL);
	o.nby = 2;
	o.by[0] = o.by[1] = GB_MARGIN_BY_SKU;
	ck_assert_int_eq(gb_margin_compute(&m, s, c, &o, &err), GB_EINVAL);
	ck_assert_str_eq(err.message, "margin: the two keys are both 'sku'");
	o.by[1] = (gb_margin_key)9;
	ck_assert_int_eq(gb_margin_compute(&m, s, c, &o, &err), GB_EINVAL);
	ck_assert_int_eq(gb_margin_compute(&m, NULL, c, &o, &err), GB_EINVAL);
	ck_assert_int_eq(gb_margin_compute(&m, s, NULL, &o, &err), GB_EINVAL);
	ck_assert_int_eq(gb_margin_compute(&m, s, c, NULL, &err), GB_EINVAL);
	ck_assert_int_eq(gb_margin_key_parse(&k, "model"), 0);
	ck_assert_int_eq(k, GB_MARGIN_BY_MODEL);
	ck_assert_int_eq(gb_margin_key_parse(&k, "Model"), GB_EINVAL);
	ck_assert_int_eq(gb_margin_key_parse(&k, NULL), GB_EINVAL);
	ck_assert_str_eq(gb_margin_key_name(GB_MARGIN_BY_REGION), "region");
	ck_assert_str_eq(gb_margin_key_name((gb_margin_key)7), "unknown");
	gb_margin_free(NULL);
	ck_assert_uint_eq(gb_margin_row_count(NULL), 0);
	ck_assert_ptr_null(gb_margin_total(NULL));
	gb_invoice_set_free(s);
	gb_costs_free(c);
}
END_TEST

START_TEST(test_unknown_discount)
{
	gb_invoice_set *s = set_new(1, 2);
	gb_costs *c = costs_from(COSTS);
	gb_margin_options o = GB_MARGIN_OPTIONS_INIT;
	gb_margin *m = NULL;
	gb_error err;

	customer(s, 0, "x");
	gpu(s, 0, GB_LINE_GPU_ON_DEMAND, "H100", "r", "3600", 300);
	adjust(s, 0, GB_LINE_DISCOUNT, "Loyalty", -10);
	ck_assert_int_eq(gb_margin_compute(&m, s, c, &o, &err), GB_ESCHEMA);
	ck_assert_str_eq(err.message, "customer x, invoice line 2: cannot tell which usage the discount 'Loyalty' applies to");
	gb_invoice_set_free(s);
	gb_costs_free(c);
}
END_TEST

/* --- writers ------------------------------------------------------------- */

static const char text_want[] =
	"Margin for 2026-10-01T00:00:00Z to 2026-10-02T00:00:00Z (USD, prices: t, costs: c)\n"
	"\n"
	"  Customer  Market     Revenue   Cost  Margin  Margin %  GPU-hours  Idle GPU-hours  Idle cost\n"
	"  acme      on_demand    15.73   7.42    8.31     52.83   6.016667               0       0.00\n"
	"  acme      reserved     38.71  24.68   14.03     36.24         20              15      18.51\n"
	"  acme      spot          3.72   6.01   -2.29    -61.56   4.505555               0       0.00\n"
	"  acme      tokens        1.84   0.50    1.34     72.83          0               0       0.00\n"
	"  acme      subtotal     60.00  38.61   21.39     35.65  30.522222              15      18.51\n"
	"  bolt      -             5.00   0.00    5.00    100.00          0               0       0.00\n"
	"  bolt      subtotal      5.00   0.00    5.00    100.00          0               0       0.00\n"
	"  Total                  65.00  38.61   26.39     40.60  30.522222              15      18.51\n"
	"\n"
	"Records: 0 read, 0 billed, 0 rejected, 0 duplicates, 0 outside period\n";

START_TEST(test_write_text)
{
	gb_invoice_set *s = golden_set();
	gb_costs *c = costs_from(COSTS);
	gb_margin *m = compute(s, c, GB_MARGIN_BY_CUSTOMER, 1, GB_MARGIN_BY_MARKET);
	sink out = { NULL, 0, 0 };
	gb_error err;

	ck_assert_int_eq(gb_margin_write_text(m, sink_write, &out, &err), 0);
	ck_assert_str_eq(out.data, text_want);
	free(out.data);
	out.data = NULL;
	out.len = 0;
	out.fail = 1;
	ck_assert_int_eq(gb_margin_write_text(m, sink_write, &out, &err), GB_EIO);
	ck_assert_int_eq(gb_margin_write_csv(m, sink_write, &out, &err), GB_EIO);
	ck_assert_int_eq(gb_margin_write_json(m, sink_write, &out, &err), GB_EIO);
	gb_margin_free(m);
	gb_costs_free(c);
	gb_invoice_set_free(s);
}
END_TEST

/* CSV: keys empty when they do not apply; formulas neutralised. */
START_TEST(test_write_csv)
{
	gb_invoice_set *s = set_new(2, 2);
	gb_costs *c = costs_from(COSTS);
	gb_margin *m;
	sink out = { NULL, 0, 0 };
	gb_error err;

	customer(s, 0, "=cmd|' /C calc'!A0");
	gpu(s, 0, GB_LINE_GPU_ON_DEMAND, "H100", "a,b", "3600", 300);
	customer(s, 1, "z");
	adjust(s, 1, GB_LINE_MINIMUM_SPEND, "Minimum", 100);
	m = compute(s, c, GB_MARGIN_BY_CUSTOMER, 1, GB_MARGIN_BY_REGION);
	ck_assert_int_eq(gb_margin_write_csv(m, sink_write, &out, &err), 0);
	ck_assert_str_eq(out.data,
		"customer,region,revenue,cost,margin,margin_pct,gpu_hours,idle_gpu_hours,idle_cost,currency\r\n"
		"\"'=cmd|' /C calc'!A0\",\"a,b\",3.00,1.23,1.77,59.00,1,0,0.00,USD\r\n"
		"z,,1.00,0.00,1.00,100.00,0,0,0.00,USD\r\n");
	free(out.data);
	gb_margin_free(m);
	gb_costs_free(c);
	gb_invoice_set_free(s);
}
END_TEST

START_TEST(test_write_json)
{
	gb_invoice_set *s = set_new(1, 2);
	gb_costs *c = costs_from(COSTS);
	gb_margin *m;
	sink out = { NULL, 0, 0 };
	gb_error err;

	customer(s, 0, "q\"\\\x01");
	gpu(s, 0, GB_LINE_GPU_SPOT_INTERRUPTED, "H100", "r", "3600", 0);
	m = compute(s, c, GB_MARGIN_BY_CUSTOMER, 1, GB_MARGIN_BY_MODEL);
	ck_assert_int_eq(gb_margin_write_json(m, sink_write, &out, &err), 0);
	ck_assert_str_eq(out.data,
		"{\n"
		"  \"format\": \"gpubill-margin/1\",\n"
		"  \"prices\": \"t\",\n"
		"  \"costs\": \"c\",\n"
		"  \"currency\": \"USD\",\n"
		"  \"minor_units\": 2,\n"
		"  \"period\": {\"from\": \"2026-10-01T00:00:00Z\", \"to\": \"2026-10-02T00:00:00Z\"},\n"
		"  \"by\": [\"customer\", \"model\"],\n"
		"  \"rows\": [\n"
		"    {\n"
		"      \"customer\": \"q\\\"\\\\\\u0001\",\n"
		"      \"model\": null,\n"
		"      \"revenue\": \"0.00\",\n"
		"      \"cost\": \"1.23\",\n"
		"      \"margin\": \"-1.23\",\n"
		"      \"margin_pct\": null,\n"
		"      \"gpu_hours\": \"1\",\n"
		"      \"idle_gpu_hours\": \"0\",\n"
		"      \"idle_cost\": \"0.00\"\n"
		"    }\n"
		"  ],\n"
		"  \"total\": {\n"
		"    \"revenue\": \"0.00\",\n"
		"    \"cost\": \"1.23\",\n"
		"    \"margin\": \"-1.23\",\n"
		"    \"margin_pct\": null,\n"
		"    \"gpu_hours\": \"1\",\n"
		"    \"idle_gpu_hours\": \"0\",\n"
		"    \"idle_cost\": \"0.00\"\n"
		"  },\n"
		"  \"summary\": {\n"
		"    \"records\": 0,\n"
		"    \"billed\": 0,\n"
		"    \"rejected\": 0,\n"
		"    \"duplicates\": 0,\n"
		"    \"outside_period\": 0,\n"
		"    \"skipped\": 0,\n"
		"    \"invoices\": 1\n"
		"  }\n"
		"}\n");
	free(out.data);
	gb_margin_free(m);
	gb_costs_free(c);
	gb_invoice_set_free(s);
}
END_TEST

START_TEST(test_empty_report)
{
	gb_invoice_set *s = set_new(0, 2);
	gb_costs *c = costs_from(COSTS);
	gb_margin *m = compute(s, c, GB_MARGIN_BY_SKU, 0, 0);
	sink out = { NULL, 0, 0 };
	gb_error err;

	ck_assert_uint_eq(gb_margin_row_count(m), 0);
	ck_assert_ptr_null(gb_margin_row_get(m, 0));
	money_is(gb_margin_total(m)->revenue, 0);
	ck_assert_int_eq(gb_margin_write_json(m, sink_write, &out, &err), 0);
	ck_assert_ptr_nonnull(strstr(out.data, "  \"rows\": [],\n  \"total\": {\n"));
	free(out.data);
	out.data = NULL;
	out.len = 0;
	ck_assert_int_eq(gb_margin_write_text(m, sink_write, &out, &err), 0);
	ck_assert_ptr_nonnull(strstr(out.data, "  SKU    Revenue  Cost  Margin  Margin %  GPU-hours  Idle GPU-hours  Idle cost\n"
					      "  Total     0.00  0.00    0.00         -          0               0       0.00\n"));
	free(out.data);
	gb_margin_free(m);
	gb_costs_free(c);
	gb_invoice_set_free(s);
}
END_TEST

/* --- a whole run, and every allocation failing once ----------------------- */

/* calls, fail_at, live and the allocator `counting` */
#include "alloc_count.h"

static int count_bytes(const void *d, size_t n, void *payload)
{
	(void)d;
	*(size_t *)payload += n;
	return 0;
}

typedef struct inputs {
	char *p, *c, *u, *k;
	size_t plen, clen, ulen, klen;
} inputs;

/*
 * Table, contracts, costs, usage, rating, the margin by customer and
 * market, and the three writers; returns 0 or the first error's code.
 * Checks the totals of a clean run against the gpubill(1) example.
 */
static int run(const inputs *in, gb_error *err)
{
	gb_prices *prices = NULL;
	gb_contracts *contracts = NULL;
	gb_costs *costs = NULL;
	gb_rater *rater = NULL;
	gb_csv_reader *reader = NULL;
	gb_invoice_set *set = NULL;
	gb_margin *m = NULL;
	gb_rater_options o = GB_RATER_OPTIONS_INIT;
	gb_margin_options mo = GB_MARGIN_OPTIONS_INIT;
	size_t out = 0;
	int rc;

	gb_error_clear(err);
	rc = gb_prices_load(&prices, in->p, in->plen, "default.json", err);
	if (!rc)
		rc = gb_contracts_load(&contracts, in->c, in->clen, "example.json",
				       prices, err);
	if (!rc)
		rc = gb_costs_load(&costs, in->k, in->klen, "costs.json", err);
	if (!rc) {
		o.period_from = 1790812800LL; /* 2026-10 */
		o.period_to = 1793491200LL;
		o.contracts = contracts;
		rc = gb_rater_new(&rater, prices, &o, err);
	}
	if (!rc)
		rc = gb_csv_reader_new(&reader, "sample-usage.csv", err);
	if (!rc)
		rc = gb_csv_reader_feed(reader, in->u, in->ulen,
					 add_row_or_stop, rater, err);
	if (!rc)
		rc = gb_csv_reader_finish(reader, add_row_or_stop, rater, err);
	if (!rc)
		rc = gb_rater_finish(rater, &set, err);
	mo.nby = 2;
	mo.by[0] = GB_MARGIN_BY_CUSTOMER;
	mo.by[1] = GB_MARGIN_BY_MARKET;
	mo.rounding = prices ? gb_prices_rounding(prices) : GB_ROUND_HALF_EVEN;
	if (!rc)
		rc = gb_margin_compute(&m, set, costs, &mo, err);
	if (!rc) {
		/* the gpubill(1) example: 51680.50, 52586.49, 17755.933333 + 23808 */
		money_is(gb_margin_total(m)->revenue, 5168050);
		money_is(gb_margin_total(m)->cost, 5258649);
		q_is(gb_margin_total(m)->idle_gpu_hours, "41563933333/1000000");
		ck_assert_uint_eq(gb_margin_row_count(m), 5);
		adds_up(m);
	}
	if (!rc)
		rc = gb_margin_write_json(m, count_bytes, &out, err);
	if (!rc)
		rc = gb_margin_write_csv(m, count_bytes, &out, err);
	if (!rc)
		rc = gb_margin_write_text(m, count_bytes, &out, err);
	gb_margin_free(m);
	gb_invoice_set_free(set);
	gb_csv_reader_free(reader);
	gb_rater_free(rater);
	gb_costs_free(costs);
	gb_contracts_free(contracts);
	gb_prices_free(prices);
	return rc;
}

START_TEST(test_every_allocation_failure_is_clean)
{
	inputs in;
	long total, n, failures = 0;
	gb_error err;

	in.p = slurp("../../pricing-tables/default.json", &in.plen);
	in.c = slurp("contracts/example.json", &in.clen);
	in.u = slurp("sample-usage.csv", &in.ulen);
	in.k = slurp("costs/example.json", &in.klen);
	gb_set_allocator(&counting);
	calls = live = 0;
	fail_at = -1;
	ck_assert_int_eq(run(&in, &err), 0);
	ck_assert_int_eq(live, 0);
	total = calls;
	for (n = 1; n <= total; n++) {
		int rc;

		calls = live = 0;
		fail_at = n;
		rc = run(&in, &err);
		ck_assert_msg(live == 0, "allocation %ld of %ld failed: %ld blocks leaked",
			      n, total, live);
		if (rc == 0)
			continue;
		failures++;
		ck_assert_msg(rc == GB_ENOMEM || rc == GB_EABORT || err.code == GB_ENOMEM,
			      "allocation %ld: code %d (%s)", n, rc, err.message);
		ck_assert_msg(err.message[0] != '\0', "allocation %ld: no message", n);
	}
	gb_set_allocator(NULL);
	ck_assert_int_gt(failures, total / 2);
	printf("%ld allocations, each failed once: %ld runs ended in a clean error\n",
	       total, failures);
	free(in.p);
	free(in.c);
	free(in.u);
	free(in.k);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("margin");
	TCase *calc = tcase_create("compute");
	TCase *errs = tcase_create("errors");
	TCase *wr = tcase_create("writers");
	TCase *al = tcase_create("alloc");
	SRunner *sr;
	int failed;

	tcase_add_test(calc, test_by_market);
	tcase_add_test(calc, test_by_customer_is_invoice_total);
	tcase_add_test(calc, test_two_keys);
	tcase_add_test(calc, test_ties_in_row_order);
	tcase_add_test(calc, test_thirds);
	tcase_add_test(calc, test_no_revenue_and_zero_minor_units);
	tcase_add_test(calc, test_discount_reference);
	tcase_add_test(calc, test_discount_without_lines);
	suite_add_tcase(s, calc);
	tcase_add_test(errs, test_missing_costs);
	tcase_add_test(errs, test_currency_and_options);
	tcase_add_test(errs, test_unknown_discount);
	suite_add_tcase(s, errs);
	tcase_add_test(wr, test_write_text);
	tcase_add_test(wr, test_write_csv);
	tcase_add_test(wr, test_write_json);
	tcase_add_test(wr, test_empty_report);
	suite_add_tcase(s, wr);
	tcase_set_timeout(al, 300);
	tcase_add_test(al, test_every_allocation_failure_is_clean);
	suite_add_tcase(s, al);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
