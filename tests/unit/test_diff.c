/*
 * test_diff.c - gpubill diff's library side: the threshold (at, one minor
 * unit below and above; percentages compared exactly; old total 0), how
 * lines are matched, which rate changes are listed and over which span,
 * percentages as text, the markdown tables, and allocation failures.
 *
 * Expected amounts are worked out by hand in the comments.  JSON is written
 * with single quotes for readability; load() turns them into double quotes.
 */
#include <check.h>
#include <gmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gpubill/gpubill.h>

/* Checked with date -u -d ... +%s. */
#define T_OCT_01 INT64_C(1790812800)
#define T_OCT_10 INT64_C(1791590400)
#define T_OCT_15 INT64_C(1792022400)
#define T_OCT_20 INT64_C(1792454400)
#define T_NOV_01 INT64_C(1793491200)

#define HEAD "id,customer,type,start,end,sku,region,gpus\n"

/* --- helpers ------------------------------------------------------------------ */

static char *dq(const char *json)
{
	size_t n = strlen(json) + 1;
	char *s = malloc(n), *p;

	ck_assert_ptr_nonnull(s);
	memcpy(s, json, n);
	for (p = s; *p; p++)
		if (*p == '\'')
			*p = '"';
	return s;
}

static gb_prices *load(const char *json)
{
	char *s = dq(json);
	gb_prices *p = NULL;
	gb_error err;

	gb_error_clear(&err);
	ck_assert_msg(gb_prices_load(&p, s, strlen(s), "t.json", &err) == 0,
		      "table: %s at %s", err.message, err.path);
	free(s);
	return p;
}

static int on_row(const gb_row *row, gb_error *err, void *payload)
{
	gb_outcome oc;

	(void)err;
	return gb_rater_add_row(payload, row, &oc) != 0;
}

/* The invoices of csv under p for October 2026. */
static gb_invoice_set *rate(const gb_prices *p, const char *csv)
{
	gb_rater_options o = GB_RATER_OPTIONS_INIT;
	gb_invoice_set *set = NULL;
	gb_csv_reader *reader = NULL;
	gb_rater *r = NULL;
	gb_error err;

	o.period_from = T_OCT_01;
	o.period_to = T_NOV_01;
	gb_error_clear(&err);
	ck_assert_int_eq(gb_rater_new(&r, p, &o, &err), 0);
	ck_assert_int_eq(gb_csv_reader_new(&reader, "u.csv", &err), 0);
	ck_assert_int_eq(gb_csv_reader_feed(reader, csv, strlen(csv), on_row, r, &err), 0);
	ck_assert_int_eq(gb_csv_reader_finish(reader, on_row, r, &err), 0);
	ck_assert_int_eq(gb_rater_finish(r, &set, &err), 0);
	gb_csv_reader_free(reader);
	gb_rater_free(r);
	return set;
}

typedef struct run {
	gb_prices *op, *np;
	gb_invoice_set *os, *ns;
	gb_diff *d;
} run;

static void run_diff(run *r, const char *old_json, const char *new_json,
		     const char *csv, const char *limit)
{
	gb_diff_options o = GB_DIFF_OPTIONS_INIT;
	gb_error err;

	memset(r, 0, sizeof *r);
	r->op = load(old_json);
	r->np = load(new_json);
	r->os = rate(r->op, csv);
	r->ns = rate(r->np, csv);
	o.max_change = limit;
	gb_error_clear(&err);
	ck_assert_msg(gb_diff_new(&r->d, r->os, r->ns, r->op, r->np, &o, &err) == 0,
		      "diff: %s", err.message);
}

static void run_free(run *r)
{
	gb_diff_free(r->d);
	gb_invoice_set_free(r->os);
	gb_invoice_set_free(r->ns);
	gb_prices_free(r->op);
	gb_prices_free(r->np);
}

static void money_eq(const mpz_t v, const char *want)
{
	char got[64];

	gb_money_format(got, sizeof got, v, 2);
	ck_assert_str_eq(got, want);
}

static void q_eq(const mpq_t v, const char *want)
{
	char got[64];

	gb_decimal_format(got, sizeof got, v, 2, 18, GB_ROUND_HALF_EVEN);
	ck_assert_str_eq(got, want);
}

typedef struct sink_buf {
	char *data;
	size_t len;
} sink_buf;

static int sink(const void *data, size_t len, void *payload)
{
	sink_buf *s = payload;
	char *p = realloc(s->data, s->len + len + 1);

	if (!p)
		return -1;
	memcpy(p + s->len, data, len);
	s->data = p;
	s->len += len;
	p[s->len] = '\0';
	return 0;
}

/* --- the threshold ------------------------------------------------------------ */

/*
 * T4 1.00 -> 1.05 per GPU-hour.  a: 10 GPUs x 10 h = 100 GPU-hours,
 * 100.00 -> 105.00 (+5.00, 5%); b: 10 GPU-hours, 10.00 -> 10.50 (+0.50, 5%);
 * total 110.00 -> 115.50 (+5.50, 5%).
 */
#define T4_TABLE(price)                                                        \
	"{'format': 'gpubill-pricing/1', 'name': 't4', 'currency': 'USD',"    \
	" 'versions': [{'effective_from': '2026-01-01T00:00:00Z', 'gpu': {"   \
	" 'rates': [{'sku': 'T4', 'region': '*', 'on_demand': '" price "'},"  \
	"           {'sku': 'Z1', 'region': '*', 'on_demand': '" price "'}]}}]}"
#define T4_USAGE HEAD \
	"a1,a,gpu,2026-10-01T00:00:00Z,2026-10-01T10:00:00Z,T4,us,10\n" \
	"b1,b,gpu,2026-10-02T00:00:00Z,2026-10-02T10:00:00Z,T4,us,1\n"

/* Customers a, b exceeded; total exceeded; under limit. */
static void check_limit(const char *limit, int a, int b, int total)
{
	run r;

	run_diff(&r, T4_TABLE("1.00"), T4_TABLE("1.05"), T4_USAGE, limit);
	ck_assert_uint_eq(gb_diff_customer_count(r.d), 2);
	ck_assert_msg(gb_diff_customer_get(r.d, 0)->exceeded == a, "%s: a", limit);
	ck_assert_msg(gb_diff_customer_get(r.d, 1)->exceeded == b, "%s: b", limit);
	ck_assert_msg(gb_diff_total_exceeded(r.d) == total, "%s: total", limit);
	ck_assert_uint_eq(gb_diff_customers_exceeded(r.d), (size_t)(a + b));
	run_free(&r);
}

START_TEST(test_totals)
{
	const gb_diff_customer *c;
	mpz_t o, n;
	run r;

	run_diff(&r, T4_TABLE("1.00"), T4_TABLE("1.05"), T4_USAGE, NULL);
	c = gb_diff_customer_get(r.d, 0);
	ck_assert_str_eq(c->customer, "a");
	ck_assert(c->in_old && c->in_new);
	money_eq(c->old_total, "100.00");
	money_eq(c->new_total, "105.00");
	money_eq(c->delta, "5.00");
	ck_assert_uint_eq(c->nlines, 1);
	ck_assert_int_eq(c->lines[0].change, GB_DIFF_CHANGED);
	money_eq(c->lines[0].delta, "5.00");
	mpz_inits(o, n, NULL);
	gb_diff_totals(r.d, o, n);
	money_eq(o, "110.00");
	money_eq(n, "115.50");
	mpz_clears(o, n, NULL);
	ck_assert_int_eq(gb_diff_limit(r.d), GB_DIFF_LIMIT_NONE);
	ck_assert_int_eq(gb_diff_total_exceeded(r.d), 0);
	run_free(&r);
}
END_TEST

START_TEST(test_limit_amount)
{
	/* a +5.00, b +0.50, total +5.50: strictly greater exceeds */
	check_limit("5.00", 0, 0, 1);   /* a exactly at: passes */
	check_limit("4.99", 1, 0, 1);   /* one minor unit below a's change */
	check_limit("5.01", 0, 0, 1);
	check_limit("5.50", 0, 0, 0);   /* the total exactly at */
	check_limit("5.49", 0, 0, 1);   /* total-only breach */
	check_limit("5", 0, 0, 1);      /* whole amount */
	check_limit("0.49", 1, 1, 1);
	check_limit("0.5", 1, 0, 1);    /* b exactly at */
}
END_TEST

START_TEST(test_limit_percent)
{
	/* every change is exactly 5% */
	check_limit("5%", 0, 0, 0);
	check_limit("4.99%", 1, 1, 1);
	check_limit("5.01%", 0, 0, 0);
	/* compared exactly, not after rounding to 2 places */
	check_limit("4.9999999999%", 1, 1, 1);
	check_limit("5.0000000001%", 0, 0, 0);
	check_limit("0%", 1, 1, 1);
}
END_TEST

/*
 * Z1 0 -> 1.00: c's old total is 0.00 and its new one 1.00 (1 GPU-hour):
 * any percentage is exceeded, the percentage reads "new"; an amount of
 * 1.00 is not exceeded, 0.99 is.
 */
START_TEST(test_limit_old_zero)
{
	static const char usage[] = HEAD
		"c1,c,gpu,2026-10-03T00:00:00Z,2026-10-03T01:00:00Z,Z1,us,1\n";
	const char *limits[] = { "1000000%", "1.00", "0.99" };
	int want[] = { 1, 0, 1 }, i;
	char pct[32];
	mpq_t o, dl;

	for (i = 0; i < 3; i++) {
		run r;

		run_diff(&r, T4_TABLE("0"), T4_TABLE("1.00"), usage, limits[i]);
		ck_assert_int_eq(gb_diff_customer_get(r.d, 0)->exceeded, want[i]);
		ck_assert_int_eq(gb_diff_total_exceeded(r.d), want[i]);
		money_eq(gb_diff_customer_get(r.d, 0)->old_total, "0.00");
		run_free(&r);
	}
	mpq_inits(o, dl, NULL);
	mpq_set_ui(dl, 100, 1);
	gb_diff_percent_text(pct, sizeof pct, o, dl);
	ck_assert_str_eq(pct, "new");
	mpq_set_ui(dl, 0, 1);
	gb_diff_percent_text(pct, sizeof pct, o, dl);
	ck_assert_str_eq(pct, "0.00");
	mpq_clears(o, dl, NULL);
}
END_TEST

START_TEST(test_limit_check)
{
	gb_diff_limit_kind k;
	gb_error err;

	ck_assert_int_eq(gb_diff_limit_check("5%", 2, &k, &err), 0);
	ck_assert_int_eq(k, GB_DIFF_LIMIT_PERCENT);
	ck_assert_int_eq(gb_diff_limit_check("2.5%", 2, &k, &err), 0);
	ck_assert_int_eq(gb_diff_limit_check("100.00", 2, &k, &err), 0);
	ck_assert_int_eq(k, GB_DIFF_LIMIT_AMOUNT);
	ck_assert_int_eq(gb_diff_limit_check("100", 0, &k, &err), 0);
	/* more decimals than the currency has */
	ck_assert_int_eq(gb_diff_limit_check("100.001", 2, &k, &err), GB_EINVAL);
	ck_assert_ptr_nonnull(strstr(err.message, "at most 2 decimals"));
	ck_assert_int_eq(k, GB_DIFF_LIMIT_NONE);
	ck_assert_int_eq(gb_diff_limit_check("1.5", 0, &k, &err), GB_EINVAL);
	ck_assert_ptr_nonnull(strstr(err.message, "whole number"));
	/* syntax only */
	ck_assert_int_eq(gb_diff_limit_check("100.001", GB_DECIMAL_MAX_FRACTION, &k, &err), 0);
	ck_assert_int_eq(gb_diff_limit_check("-5%", 2, &k, &err), GB_EINVAL);
	ck_assert_int_eq(gb_diff_limit_check("-5", 2, &k, &err), GB_EINVAL);
	ck_assert_int_eq(gb_diff_limit_check("%", 2, &k, &err), GB_EINVAL);
	ck_assert_int_eq(gb_diff_limit_check("", 2, &k, &err), GB_EINVAL);
	ck_assert_int_eq(gb_diff_limit_check("5 %", 2, &k, &err), GB_EINVAL);
	ck_assert_int_eq(gb_diff_limit_check("1e3", 2, &k, &err), GB_EINVAL);
	ck_assert_ptr_nonnull(strstr(err.message, "max change '1e3'"));
	ck_assert_int_eq(gb_diff_limit_check("5%%", 2, &k, &err), GB_EINVAL);
}
END_TEST

START_TEST(test_currency_mismatch)
{
	static const char yen[] =
		"{'format': 'gpubill-pricing/1', 'name': 'y', 'currency': 'JPY',"
		" 'minor_units': 0, 'versions': [{'effective_from': '2026-01-01T00:00:00Z',"
		" 'gpu': {'rates': [{'sku': 'T4', 'region': '*', 'on_demand': '150'}]}}]}";
	gb_prices *a = load(T4_TABLE("1.00")), *b = load(yen);
	gb_invoice_set *sa = rate(a, T4_USAGE), *sb = rate(b, T4_USAGE);
	gb_diff_options o = GB_DIFF_OPTIONS_INIT;
	gb_diff *d = (gb_diff *)&o;
	gb_error err;

	ck_assert_int_eq(gb_diff_new(&d, sa, sb, a, b, &o, &err), GB_ESCHEMA);
	ck_assert_ptr_null(d);
	ck_assert_ptr_nonnull(strstr(err.message, "USD"));
	/* a bad threshold */
	o.max_change = "ten";
	ck_assert_int_eq(gb_diff_new(&d, sa, sa, a, a, &o, &err), GB_EINVAL);
	ck_assert_ptr_null(d);
	gb_invoice_set_free(sa);
	gb_invoice_set_free(sb);
	gb_prices_free(a);
	gb_prices_free(b);
	gb_diff_free(NULL);
}
END_TEST

/* --- matching lines ------------------------------------------------------------ */

/*
 * Old: H1 2.00 until October 15, 2.20 after; L1 1.00 throughout; Q1 1.00.
 * New: H1 2.10, then 1.90; L1 1.00, then 1.50; no Q1.
 */
#define MATCH_OLD                                                              \
	"{'format': 'gpubill-pricing/1', 'name': 'old', 'currency': 'USD',"   \
	" 'versions': ["                                                        \
	"  {'effective_from': '2026-01-01T00:00:00Z', 'gpu': {'rates': ["      \
	"    {'sku': 'H1', 'region': '*', 'on_demand': '2.00'},"                \
	"    {'sku': 'L1', 'region': '*', 'on_demand': '1.00'},"                \
	"    {'sku': 'Q1', 'region': '*', 'on_demand': '1.00'}]}},"             \
	"  {'effective_from': '2026-10-15T00:00:00Z', 'gpu': {'rates': ["      \
	"    {'sku': 'H1', 'region': '*', 'on_demand': '2.20'},"                \
	"    {'sku': 'L1', 'region': '*', 'on_demand': '1.00'},"                \
	"    {'sku': 'Q1', 'region': '*', 'on_demand': '1.00'}]}}]}"
#define MATCH_NEW                                                              \
	"{'format': 'gpubill-pricing/1', 'name': 'new', 'currency': 'USD',"   \
	" 'versions': ["                                                        \
	"  {'effective_from': '2026-01-01T00:00:00Z', 'gpu': {'rates': ["      \
	"    {'sku': 'H1', 'region': '*', 'on_demand': '2.10'},"                \
	"    {'sku': 'L1', 'region': '*', 'on_demand': '1.00'}]}},"             \
	"  {'effective_from': '2026-10-15T00:00:00Z', 'gpu': {'rates': ["      \
	"    {'sku': 'H1', 'region': '*', 'on_demand': '1.90'},"                \
	"    {'sku': 'L1', 'region': '*', 'on_demand': '1.50'}]}}]}"
#define MATCH_USAGE HEAD                                                       \
	"x1,x,gpu,2026-10-14T00:00:00Z,2026-10-15T12:00:00Z,H1,us,1\n"         \
	"y1,y,gpu,2026-10-03T00:00:00Z,2026-10-03T01:00:00Z,Q1,us,1\n"         \
	"z1,z,gpu,2026-10-14T12:00:00Z,2026-10-15T12:00:00Z,L1,us,1\n"

START_TEST(test_match_lines)
{
	const gb_diff_customer *c;
	const gb_diff_line *l;
	run r;

	run_diff(&r, MATCH_OLD, MATCH_NEW, MATCH_USAGE, NULL);
	ck_assert_uint_eq(gb_diff_customer_count(r.d), 3);

	/*
	 * x: 24 h before the boundary, 12 after.  Old lines (by unit price):
	 * 24 x 2.00 = 48.00, 12 x 2.20 = 26.40; new: 12 x 1.90 = 22.80,
	 * 24 x 2.10 = 50.40.  Paired by quantity, not by position:
	 * 24 h 2.00 -> 2.10 (+2.40), 12 h 2.20 -> 1.90 (-3.60).
	 */
	c = gb_diff_customer_get(r.d, 0);
	ck_assert_str_eq(c->customer, "x");
	money_eq(c->old_total, "74.40");
	money_eq(c->new_total, "73.20");
	money_eq(c->delta, "-1.20");
	ck_assert_uint_eq(c->nlines, 2);
	l = &c->lines[0];
	ck_assert_int_eq(l->change, GB_DIFF_CHANGED);
	q_eq(l->old_line->quantity, "24.00");
	q_eq(l->old_line->unit_price, "2.00");
	q_eq(l->new_line->unit_price, "2.10");
	money_eq(l->delta, "2.40");
	l = &c->lines[1];
	q_eq(l->old_line->quantity, "12.00");
	q_eq(l->old_line->unit_price, "2.20");
	q_eq(l->new_line->unit_price, "1.90");
	money_eq(l->delta, "-3.60");

	/* y: Q1 has no rate in the new table: no new invoice, line removed */
	c = gb_diff_customer_get(r.d, 1);
	ck_assert_str_eq(c->customer, "y");
	ck_assert(c->in_old && !c->in_new);
	money_eq(c->new_total, "0.00");
	money_eq(c->delta, "-1.00");
	ck_assert_uint_eq(c->nlines, 1);
	ck_assert_int_eq(c->lines[0].change, GB_DIFF_REMOVED);
	ck_assert_ptr_null(c->lines[0].new_line);
	money_eq(c->lines[0].delta, "-1.00");

	/*
	 * z: old one line, 24 h x 1.00 = 24.00; new 12 h x 1.00 = 12.00 and
	 * 12 h x 1.50 = 18.00.  Same price pairs: 24 -> 12 h (-12.00); the
	 * 1.50 line is added (+18.00).
	 */
	c = gb_diff_customer_get(r.d, 2);
	ck_assert_str_eq(c->customer, "z");
	money_eq(c->delta, "6.00");
	ck_assert_uint_eq(c->nlines, 2);
	ck_assert_int_eq(c->lines[0].change, GB_DIFF_CHANGED);
	q_eq(c->lines[0].new_line->quantity, "12.00");
	money_eq(c->lines[0].delta, "-12.00");
	ck_assert_int_eq(c->lines[1].change, GB_DIFF_ADDED);
	ck_assert_ptr_null(c->lines[1].old_line);
	q_eq(c->lines[1].new_line->unit_price, "1.50");
	money_eq(c->lines[1].delta, "18.00");

	/* counts: y1 is billed under the old table, rejected under the new */
	ck_assert_uint_eq(gb_invoice_set_counts(r.ns)->rejected, 1);
	run_free(&r);
}
END_TEST

START_TEST(test_unchanged_lines_hidden)
{
	run r;

	/* the same table on both sides: nothing differs */
	run_diff(&r, MATCH_OLD, MATCH_OLD, MATCH_USAGE, "0%");
	ck_assert_uint_eq(gb_diff_customer_count(r.d), 3);
	ck_assert_uint_eq(gb_diff_customer_get(r.d, 0)->nlines, 0);
	ck_assert_uint_eq(gb_diff_customer_get(r.d, 2)->nlines, 0);
	ck_assert_uint_eq(gb_diff_customers_exceeded(r.d), 0);
	ck_assert_int_eq(gb_diff_total_exceeded(r.d), 0);
	ck_assert_uint_eq(gb_diff_rate_change_count(r.d), 0);
	run_free(&r);
}
END_TEST

/*
 * Rate changes of the matching tables in October: pieces [Oct 1, Oct 15)
 * and [Oct 15, Nov 1).  Q1's removal is the same in both pieces: one entry.
 */
START_TEST(test_rates_simple)
{
	const gb_rate_change *rc;
	run r;

	run_diff(&r, MATCH_OLD, MATCH_NEW, MATCH_USAGE, NULL);
	ck_assert_uint_eq(gb_diff_rate_change_count(r.d), 4);
	rc = gb_diff_rate_change_get(r.d, 0);
	ck_assert_int_eq(rc->change, GB_DIFF_CHANGED);
	ck_assert_int_eq(rc->item, GB_RATE_GPU);
	ck_assert_str_eq(rc->sku, "H1");
	ck_assert_str_eq(rc->region, "*");
	ck_assert_str_eq(rc->field, "on_demand");
	ck_assert_int_eq(rc->from, T_OCT_01);
	ck_assert_int_eq(rc->to, T_OCT_15);
	ck_assert_str_eq(rc->old_text, "2.00");
	ck_assert_str_eq(rc->new_text, "2.10");
	ck_assert(rc->has_delta);
	q_eq(rc->delta, "0.10");
	rc = gb_diff_rate_change_get(r.d, 1);
	ck_assert_int_eq(rc->change, GB_DIFF_REMOVED);
	ck_assert_str_eq(rc->sku, "Q1");
	ck_assert_int_eq(rc->from, T_OCT_01);
	ck_assert_int_eq(rc->to, T_NOV_01);
	ck_assert_str_eq(rc->old_text, "1.00");
	ck_assert_str_eq(rc->new_text, "");
	ck_assert(!rc->has_delta);
	rc = gb_diff_rate_change_get(r.d, 2);
	ck_assert_str_eq(rc->sku, "H1");
	ck_assert_int_eq(rc->from, T_OCT_15);
	q_eq(rc->delta, "-0.30");
	rc = gb_diff_rate_change_get(r.d, 3);
	ck_assert_str_eq(rc->sku, "L1");
	ck_assert_int_eq(rc->from, T_OCT_15);
	ck_assert_int_eq(rc->to, T_NOV_01);
	ck_assert_ptr_null(gb_diff_rate_change_get(r.d, 4));
	run_free(&r);
}
END_TEST

/*
 * Different version boundaries (old: Jan 1, Oct 15; new: Jan 1, Oct 10),
 * tiers, spot series, settings and the rounding mode.
 */
#define SPOT(price_jan5, price_oct20)                                          \
	"'spot_prices': ["                                                      \
	" {'sku': 'A', 'region': 'us', 'from': '2026-01-05T00:00:00Z', 'price': '" price_jan5 "'}," \
	" {'sku': 'A', 'region': 'us', 'from': '2026-06-01T00:00:00Z', 'price': '0.42'}," \
	" {'sku': 'A', 'region': 'us', 'from': '2026-10-20T00:00:00Z', 'price': '" price_oct20 "'}]"
#define VERSION(from, min, od, res, spot, bd, m2, nbound)                      \
	"{'effective_from': '" from "', 'gpu': {'minimum_seconds': " min ","   \
	" 'rates': [{'sku': 'A', 'region': '*', 'on_demand': '" od "',"        \
	"  'spot': '0.50', 'reserved': {'1y': '" res "'}}], " spot "},"        \
	" 'tokens': {'batch_discount': '" bd "', 'rates': ["                    \
	"  {'model': 'm', 'input': {'mode': 'graduated', 'tiers': ["            \
	"    {'up_to': '1000', 'price': '1.00'}, {'up_to': null, 'price': '" m2 "'}]}}," \
	"  {'model': 'n', 'input': {'mode': 'graduated', 'tiers': ["            \
	"    {'up_to': '" nbound "', 'price': '1.00'}, {'up_to': null, 'price': '0.90'}]}}]}}"
#define RATES_OLD                                                              \
	"{'format': 'gpubill-pricing/1', 'name': 'ra', 'currency': 'USD',"    \
	" 'rounding': 'half_even', 'versions': ["                               \
	VERSION("2026-01-01T00:00:00Z", "60", "1.00", "0.80", SPOT("0.40", "0.45"), "0.50", "0.90", "1000") "," \
	VERSION("2026-10-15T00:00:00Z", "60", "1.10", "0.80", SPOT("0.40", "0.45"), "0.50", "0.90", "1000") "]}"
#define RATES_NEW                                                              \
	"{'format': 'gpubill-pricing/1', 'name': 'rb', 'currency': 'USD',"    \
	" 'rounding': 'half_up', 'versions': ["                                 \
	VERSION("2026-01-01T00:00:00Z", "60", "1.00", "0.85", SPOT("0.41", "0.45"), "0.50", "0.90", "2000") "," \
	VERSION("2026-10-10T00:00:00Z", "120", "1.00", "0.85", SPOT("0.40", "0.47"), "0.40", "0.85", "2000") "]}"

static void rate_is(const gb_diff *d, size_t i, gb_rate_item item,
		    const char *field, int64_t from, int64_t to,
		    const char *old_text, const char *new_text)
{
	const gb_rate_change *r = gb_diff_rate_change_get(d, i);

	ck_assert_ptr_nonnull(r);
	ck_assert_msg(r->item == item, "change %zu: item %d", i, (int)r->item);
	ck_assert_str_eq(r->field, field);
	ck_assert_msg(r->from == from && r->to == to,
		      "change %zu (%s): span %lld..%lld", i, field,
		      (long long)r->from, (long long)r->to);
	ck_assert_str_eq(r->old_text, old_text);
	ck_assert_str_eq(r->new_text, new_text);
}

START_TEST(test_rates_pieces)
{
	static const char usage[] = HEAD;
	const gb_rate_change *r;
	run rr;

	run_diff(&rr, RATES_OLD, RATES_NEW, usage, NULL);
	/*
	 * Pieces: [Oct 1, Oct 10) old v1 / new v1; [Oct 10, Oct 15) old v1 /
	 * new v2; [Oct 15, Nov 1) old v2 / new v2.  The January 5 spot entry
	 * differs (0.40 / 0.41) but the June 1 entry replaced it before the
	 * period: not listed.  The October 20 entry differs from the new v2
	 * on, but only applies in the last piece.
	 */
	ck_assert_uint_eq(gb_diff_rate_change_count(rr.d), 8);
	rate_is(rr.d, 0, GB_RATE_SETTING, "rounding", T_OCT_01, T_NOV_01,
		"half_even", "half_up");
	rate_is(rr.d, 1, GB_RATE_GPU, "reserved", T_OCT_01, T_NOV_01, "0.80", "0.85");
	ck_assert_str_eq(gb_diff_rate_change_get(rr.d, 1)->term, "1y");
	/* different tier bounds: the whole price, no delta */
	rate_is(rr.d, 2, GB_RATE_TOKENS, "input", T_OCT_01, T_NOV_01,
		"graduated: 1.00 up to 1000, 0.90 above",
		"graduated: 1.00 up to 2000, 0.90 above");
	r = gb_diff_rate_change_get(rr.d, 2);
	ck_assert_str_eq(r->model, "n");
	ck_assert_uint_eq(r->tier, 0);
	ck_assert(!r->has_delta);
	rate_is(rr.d, 3, GB_RATE_SETTING, "minimum_seconds", T_OCT_10, T_NOV_01, "60", "120");
	q_eq(gb_diff_rate_change_get(rr.d, 3)->delta, "60.00");
	rate_is(rr.d, 4, GB_RATE_SETTING, "batch_discount", T_OCT_10, T_NOV_01, "0.50", "0.40");
	/* the same tiers: the tier whose price moved */
	rate_is(rr.d, 5, GB_RATE_TOKENS, "input", T_OCT_10, T_NOV_01, "0.90", "0.85");
	r = gb_diff_rate_change_get(rr.d, 5);
	ck_assert_str_eq(r->model, "m");
	ck_assert_uint_eq(r->tier, 2);
	q_eq(r->delta, "-0.05");
	rate_is(rr.d, 6, GB_RATE_GPU, "on_demand", T_OCT_15, T_NOV_01, "1.10", "1.00");
	rate_is(rr.d, 7, GB_RATE_SPOT_SERIES, "price", T_OCT_15, T_NOV_01, "0.45", "0.47");
	r = gb_diff_rate_change_get(rr.d, 7);
	ck_assert_int_eq(r->spot_from, T_OCT_20);
	ck_assert_str_eq(r->sku, "A");
	ck_assert_str_eq(r->region, "us");
	run_free(&rr);
}
END_TEST

/* --- text -------------------------------------------------------------------- */

START_TEST(test_percent_text)
{
	char buf[32];
	mpq_t o, d;

	mpq_inits(o, d, NULL);
	mpq_set_ui(o, 3, 1);
	mpq_set_ui(d, 1, 1);
	gb_diff_percent_text(buf, sizeof buf, o, d);   /* 33.333... */
	ck_assert_str_eq(buf, "+33.33");
	mpq_set_ui(d, 2, 1);
	gb_diff_percent_text(buf, sizeof buf, o, d);   /* 66.666... */
	ck_assert_str_eq(buf, "+66.67");
	mpq_set_ui(o, 800, 1);
	mpq_set_ui(d, 1, 1);                            /* 0.125: half-even */
	gb_diff_percent_text(buf, sizeof buf, o, d);
	ck_assert_str_eq(buf, "+0.12");
	mpq_set_ui(o, 2000, 1);
	mpq_set_ui(d, 27, 10);                          /* 0.135 */
	gb_diff_percent_text(buf, sizeof buf, o, d);
	ck_assert_str_eq(buf, "+0.14");
	mpq_set_si(d, -1, 1);                           /* -0.05 */
	gb_diff_percent_text(buf, sizeof buf, o, d);
	ck_assert_str_eq(buf, "-0.05");
	mpq_set_si(d, -2000, 1);
	gb_diff_percent_text(buf, sizeof buf, o, d);
	ck_assert_str_eq(buf, "-100.00");
	mpq_clears(o, d, NULL);
	ck_assert_str_eq(gb_diff_change_name(GB_DIFF_ADDED), "added");
	ck_assert_str_eq(gb_diff_change_name((gb_diff_change)42), "unknown");
	ck_assert_str_eq(gb_rate_item_name(GB_RATE_SPOT_SERIES), "spot_series");
}
END_TEST

/* Count the cell separators of a markdown table row ("\|" is text). */
static int md_pipes(const char *line, size_t len)
{
	size_t i;
	int n = 0;

	for (i = 0; i < len; i++) {
		if (line[i] == '\\') {
			i++;
			continue;
		}
		n += line[i] == '|';
	}
	return n;
}

static int md_is_separator(const char *line, size_t len)
{
	size_t i;

	if (len < 3 || line[0] != '|' || line[len - 1] != '|')
		return 0;
	for (i = 0; i < len; i++)
		if (!strchr("|:- ", line[i]))
			return 0;
	return 1;
}

/*
 * Every block of lines starting with '|' is a table: a header, then a
 * separator, then rows, all with the same number of cells.  Returns the
 * number of tables.
 */
static int check_markdown_tables(const char *text)
{
	const char *p = text;
	int tables = 0, row = -1, pipes = 0;

	while (*p) {
		const char *e = strchr(p, '\n');
		size_t len = e ? (size_t)(e - p) : strlen(p);

		if (len && p[0] == '|') {
			ck_assert_msg(p[len - 1] == '|', "row does not end in '|': %.*s", (int)len, p);
			if (row < 0) {
				row = 0;
				pipes = md_pipes(p, len);
				tables++;
			} else {
				ck_assert_msg(md_pipes(p, len) == pipes,
					      "row with another cell count: %.*s", (int)len, p);
			}
			if (row == 1)
				ck_assert_msg(md_is_separator(p, len),
					      "no separator row: %.*s", (int)len, p);
			row++;
		} else {
			ck_assert_msg(row != 1, "a table with a header only");
			row = -1;
		}
		p += len + (e != NULL);
	}
	return tables;
}

START_TEST(test_markdown)
{
	static const char usage[] = HEAD
		"p1,a|b*c_d,gpu,2026-10-01T00:00:00Z,2026-10-01T10:00:00Z,H1,us,1\n"
		"p2,plain,gpu,2026-10-01T00:00:00Z,2026-10-01T10:00:00Z,Q1,us,1\n";
	sink_buf out = { NULL, 0 };
	gb_error err;
	run r;

	run_diff(&r, MATCH_OLD, MATCH_NEW, usage, "5%");
	ck_assert_int_eq(gb_diff_write_markdown(r.d, sink, &out, &err), 0);
	/* customers, changed lines, rate changes, records */
	ck_assert_int_eq(check_markdown_tables(out.data), 4);
	ck_assert_ptr_nonnull(strstr(out.data, "| a\\|b\\*c\\_d | 20.00 | 21.00 | +1.00 | +5.00% | ok |"));
	ck_assert_ptr_nonnull(strstr(out.data, "| plain | 10.00 | 0.00 | -10.00 | -100.00% | **exceeded** |"));
	ck_assert_ptr_nonnull(strstr(out.data, "| **Total** | 30.00 | 21.00 | -9.00 | -30.00% | **exceeded** |"));
	ck_assert_ptr_nonnull(strstr(out.data, "| :--- | ---: | ---: | ---: | ---: | :--- |\n"));
	free(out.data);
	out.data = NULL;
	out.len = 0;
	/* text: the same figures, no trailing blanks */
	ck_assert_int_eq(gb_diff_write_text(r.d, sink, &out, &err), 0);
	ck_assert_ptr_nonnull(strstr(out.data, "  Total         30.00      21.00   -9.00   -30.00%  exceeded\n"));
	ck_assert_ptr_null(strstr(out.data, " \n"));
	ck_assert_ptr_nonnull(strstr(out.data, "1 customer and the total exceed the max change of 5%"));
	free(out.data);
	out.data = NULL;
	out.len = 0;
	ck_assert_int_eq(gb_diff_write_json(r.d, sink, &out, &err), 0);
	ck_assert_ptr_nonnull(strstr(out.data, "\"customer\": \"a|b*c_d\""));
	ck_assert_ptr_nonnull(strstr(out.data, "\"max_change\": {\"kind\": \"percent\", \"value\": \"5\"}"));
	ck_assert_ptr_nonnull(strstr(out.data, "\"customers_exceeded\": 1,\n  \"exceeded\": true\n}\n"));
	free(out.data);
	run_free(&r);
}
END_TEST

static int failing_sink(const void *data, size_t len, void *payload)
{
	(void)data;
	(void)len;
	(void)payload;
	return -1;
}

START_TEST(test_write_failure)
{
	gb_error err;
	run r;

	run_diff(&r, MATCH_OLD, MATCH_NEW, MATCH_USAGE, NULL);
	ck_assert_int_eq(gb_diff_write_text(r.d, failing_sink, NULL, &err), GB_EIO);
	ck_assert_int_eq(gb_diff_write_markdown(r.d, failing_sink, NULL, &err), GB_EIO);
	ck_assert_int_eq(gb_diff_write_json(r.d, failing_sink, NULL, &err), GB_EIO);
	run_free(&r);
}
END_TEST

/* --- allocation failures ---------------------------------------------------------- */

/* calls, fail_at, live and the allocator `counting` */
#include "alloc_count.h"

/* gb_diff_new and the three writers, with allocation n failing. */
static int diff_and_write(run *r, gb_error *err)
{
	gb_diff_options o = GB_DIFF_OPTIONS_INIT;
	sink_buf out = { NULL, 0 };
	gb_diff *d = NULL;
	int rc;

	o.max_change = "1.00";
	rc = gb_diff_new(&d, r->os, r->ns, r->op, r->np, &o, err);
	if (rc == 0)
		rc = gb_diff_write_text(d, sink, &out, err);
	if (rc == 0)
		rc = gb_diff_write_markdown(d, sink, &out, err);
	if (rc == 0)
		rc = gb_diff_write_json(d, sink, &out, err);
	gb_diff_free(d);
	free(out.data);
	return rc;
}

START_TEST(test_allocation_failures)
{
	long total, n, base, failures = 0;
	gb_error err;
	run r;

	gb_set_allocator(&counting);
	live = 0;
	fail_at = -1;
	run_diff(&r, MATCH_OLD, MATCH_NEW, MATCH_USAGE, NULL);
	gb_diff_free(r.d);
	r.d = NULL;
	base = live;
	calls = 0;
	ck_assert_int_eq(diff_and_write(&r, &err), 0);
	ck_assert_int_eq(live, base);
	total = calls;
	ck_assert_int_gt(total, 10);
	for (n = 1; n <= total; n++) {
		int rc;

		calls = 0;
		fail_at = n;
		gb_error_clear(&err);
		rc = diff_and_write(&r, &err);
		ck_assert_msg(live == base, "allocation %ld of %ld: %ld blocks leaked",
			      n, total, live - base);
		if (rc == 0)
			continue;
		failures++;
		ck_assert_msg(rc == GB_ENOMEM, "allocation %ld: code %d", n, rc);
		ck_assert_msg(err.message[0] != '\0', "allocation %ld: no message", n);
	}
	fail_at = -1;
	run_free(&r);
	ck_assert_int_eq(live, 0);
	gb_set_allocator(NULL);
	ck_assert_int_gt(failures, total / 2);
}
END_TEST

static Suite *diff_suite(void)
{
	Suite *s = suite_create("diff");
	TCase *lim = tcase_create("threshold");
	TCase *lines = tcase_create("lines");
	TCase *rates = tcase_create("rates");
	TCase *out = tcase_create("output");

	tcase_add_test(lim, test_totals);
	tcase_add_test(lim, test_limit_amount);
	tcase_add_test(lim, test_limit_percent);
	tcase_add_test(lim, test_limit_old_zero);
	tcase_add_test(lim, test_limit_check);
	tcase_add_test(lim, test_currency_mismatch);
	suite_add_tcase(s, lim);
	tcase_add_test(lines, test_match_lines);
	tcase_add_test(lines, test_unchanged_lines_hidden);
	suite_add_tcase(s, lines);
	tcase_add_test(rates, test_rates_simple);
	tcase_add_test(rates, test_rates_pieces);
	suite_add_tcase(s, rates);
	tcase_set_timeout(out, 60);
	tcase_add_test(out, test_percent_text);
	tcase_add_test(out, test_markdown);
	tcase_add_test(out, test_write_failure);
	tcase_add_test(out, test_allocation_failures);
	suite_add_tcase(s, out);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(diff_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
