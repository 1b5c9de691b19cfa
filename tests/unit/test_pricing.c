/*
 * test_pricing.c - the full pricing model, checked against amounts worked
 * out by hand: spot price series and interruptions, tokens with batch and
 * cache, graduated and volume tiers, reservations hour by hour, and the
 * contract lines (discount, minimum spend, credits).
 */
#include <check.h>
#include <gpubill/gpubill.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * v1 from 2026-01-01, increment 1 s, minimum 0, interruption-free 3600 s:
 *   H100 "*": on demand 3.00, spot 1.00, reserved 1y 2.00, 3y 1.50
 *   A100 "*": graduated on demand: <=10 h 2.00, <=20 h 1.50, then 1.00
 *   L4 "*": volume on demand: <=10 h 1.00, then 0.80
 *   spot series: H100 us-east 0.90 from Oct 10 00:00, 1.20 from Oct 10
 *   12:00; H100 "*" 0.70 from Oct 10 06:00
 *   tokens (batch discount 0.50): m1 input 1.00, cached 0.25, output 4.00;
 *   m2 input graduated: <=1,000,000 tokens 2.00, then 1.00
 * v2 from 2026-10-20: H100 on demand 2.40, reserved 1y 1.80, 3y 1.50;
 *   tokens (batch discount 0.40): m1 input 0.80, cached 0.25, output 4.00
 */
static const char table[] =
"{\"format\":\"gpubill-pricing/1\",\"name\":\"model\",\"currency\":\"USD\","
"\"versions\":["
" {\"effective_from\":\"2026-01-01T00:00:00Z\","
"  \"gpu\":{\"increment_seconds\":1,\"minimum_seconds\":0,"
"   \"spot_interruption_free_seconds\":3600,\"rates\":["
"   {\"sku\":\"H100\",\"region\":\"*\",\"on_demand\":\"3.00\",\"spot\":\"1.00\","
"    \"reserved\":{\"1y\":\"2.00\",\"3y\":\"1.50\"}},"
"   {\"sku\":\"A100\",\"region\":\"*\",\"on_demand\":{\"mode\":\"graduated\",\"tiers\":["
"     {\"up_to\":\"10\",\"price\":\"2.00\"},{\"up_to\":\"20\",\"price\":\"1.50\"},"
"     {\"up_to\":null,\"price\":\"1.00\"}]}},"
"   {\"sku\":\"L4\",\"region\":\"*\",\"on_demand\":{\"mode\":\"volume\",\"tiers\":["
"     {\"up_to\":\"10\",\"price\":\"1.00\"},{\"up_to\":null,\"price\":\"0.80\"}]}}],"
"   \"spot_prices\":["
"   {\"sku\":\"H100\",\"region\":\"us-east\",\"from\":\"2026-10-10T00:00:00Z\",\"price\":\"0.90\"},"
"   {\"sku\":\"H100\",\"region\":\"us-east\",\"from\":\"2026-10-10T12:00:00Z\",\"price\":\"1.20\"},"
"   {\"sku\":\"H100\",\"region\":\"*\",\"from\":\"2026-10-10T06:00:00Z\",\"price\":\"0.70\"}]},"
"  \"tokens\":{\"batch_discount\":\"0.50\",\"rates\":["
"   {\"model\":\"m1\",\"input\":\"1.00\",\"cached_input\":\"0.25\",\"output\":\"4.00\"},"
"   {\"model\":\"m2\",\"input\":{\"mode\":\"graduated\",\"tiers\":["
"     {\"up_to\":\"1000000\",\"price\":\"2.00\"},{\"up_to\":null,\"price\":\"1.00\"}]}}]}},"
" {\"effective_from\":\"2026-10-20T00:00:00Z\","
"  \"gpu\":{\"increment_seconds\":1,\"minimum_seconds\":0,"
"   \"spot_interruption_free_seconds\":3600,\"rates\":["
"   {\"sku\":\"H100\",\"region\":\"*\",\"on_demand\":\"2.40\",\"spot\":\"1.00\","
"    \"reserved\":{\"1y\":\"1.80\",\"3y\":\"1.50\"}}]},"
"  \"tokens\":{\"batch_discount\":\"0.40\",\"rates\":["
"   {\"model\":\"m1\",\"input\":\"0.80\",\"cached_input\":\"0.25\",\"output\":\"4.00\"}]}}]}";

static const char contracts_json[] =
"{\"format\":\"gpubill-contracts/1\",\"customers\":["
" {\"customer\":\"res\",\"reservations\":["
"   {\"id\":\"r-a\",\"sku\":\"H100\",\"region\":\"us-east\",\"gpus\":2,\"term\":\"1y\","
"    \"start\":\"2026-10-01T00:00:00Z\",\"end\":\"2026-10-01T04:00:00Z\"},"
"   {\"id\":\"r-b\",\"sku\":\"H100\",\"region\":\"us-east\",\"gpus\":1,\"term\":\"3y\","
"    \"start\":\"2026-10-01T00:00:00Z\",\"end\":\"2026-10-01T04:00:00Z\"}],"
"  \"discounts\":{\"gpu_on_demand\":\"0.10\"},"
"  \"minimum_spend\":\"30.00\","
"  \"credits\":[{\"id\":\"c1\",\"amount\":\"10.00\"},{\"id\":\"c2\",\"amount\":\"25.00\"},"
"   {\"id\":\"c3\",\"amount\":\"1.00\"}]},"
" {\"customer\":\"rv\",\"reservations\":["
"   {\"id\":\"r-c\",\"sku\":\"H100\",\"region\":\"us-east\",\"gpus\":1,\"term\":\"1y\","
"    \"start\":\"2026-10-19T23:00:00Z\",\"end\":\"2026-10-20T01:00:00Z\"}]},"
" {\"customer\":\"idle\",\"minimum_spend\":\"5.00\","
"  \"credits\":[{\"id\":\"big\",\"amount\":\"100.00\"}]}]}";

#define OCT_FROM 1790812800LL /* 2026-10-01T00:00:00Z (date -u -d ... +%s) */
#define NOV_FROM 1793491200LL /* 2026-11-01T00:00:00Z */

static gb_prices *prices;
static gb_contracts *contracts;
static gb_rater *rater;
static gb_invoice_set *set;

static void setup(void)
{
	gb_rater_options o = GB_RATER_OPTIONS_INIT;
	gb_error err;

	gb_error_clear(&err);
	ck_assert_msg(gb_prices_load(&prices, table, strlen(table), "t.json", &err) == 0,
		      "table: %s at %s", err.message, err.path);
	ck_assert_msg(gb_contracts_load(&contracts, contracts_json,
					strlen(contracts_json), "c.json", prices,
					&err) == 0,
		      "contracts: %s at %s", err.message, err.path);
	o.period_from = OCT_FROM;
	o.period_to = NOV_FROM;
	o.contracts = contracts;
	ck_assert_int_eq(gb_rater_new(&rater, prices, &o, &err), 0);
	set = NULL;
}

static void teardown(void)
{
	gb_invoice_set_free(set);
	gb_rater_free(rater);
	gb_contracts_free(contracts);
	gb_prices_free(prices);
}

static const char *row_values[GB_COL__COUNT];

static gb_state feed(void)
{
	gb_row row;
	gb_outcome oc;
	int c;

	memset(&row, 0, sizeof row);
	row.source = "t.csv";
	for (c = 0; c < GB_COL__COUNT; c++) {
		row.f[c].ptr = row_values[c];
		row.f[c].len = row_values[c] ? strlen(row_values[c]) : 0;
	}
	ck_assert_int_eq(gb_rater_add_row(rater, &row, &oc), 0);
	memset(row_values, 0, sizeof row_values);
	return oc.state;
}

static gb_state gpu(const char *id, const char *cust, const char *s,
		    const char *e, const char *sku, const char *region,
		    const char *gpus, const char *market, const char *interrupted)
{
	row_values[GB_COL_ID] = id;
	row_values[GB_COL_CUSTOMER] = cust;
	row_values[GB_COL_TYPE] = "gpu";
	row_values[GB_COL_START] = s;
	row_values[GB_COL_END] = e;
	row_values[GB_COL_SKU] = sku;
	row_values[GB_COL_REGION] = region;
	row_values[GB_COL_GPUS] = gpus;
	row_values[GB_COL_MARKET] = market;
	row_values[GB_COL_INTERRUPTED] = interrupted;
	return feed();
}

static gb_state tokens(const char *id, const char *cust, const char *s,
		       const char *model, const char *in, const char *cached,
		       const char *out, const char *batch)
{
	row_values[GB_COL_ID] = id;
	row_values[GB_COL_CUSTOMER] = cust;
	row_values[GB_COL_TYPE] = "tokens";
	row_values[GB_COL_START] = s;
	row_values[GB_COL_MODEL] = model;
	row_values[GB_COL_INPUT_TOKENS] = in;
	row_values[GB_COL_CACHED_TOKENS] = cached;
	row_values[GB_COL_OUTPUT_TOKENS] = out;
	row_values[GB_COL_BATCH] = batch;
	return feed();
}

static void finish(void)
{
	gb_error err;

	ck_assert_int_eq(gb_rater_finish(rater, &set, &err), 0);
}

static const gb_invoice *invoice_of(const char *customer)
{
	size_t i;

	for (i = 0; i < gb_invoice_set_count(set); i++)
		if (strcmp(gb_invoice_set_get(set, i)->customer, customer) == 0)
			return gb_invoice_set_get(set, i);
	ck_abort_msg("no invoice for %s", customer);
	return NULL;
}

static void money_is(const mpz_t v, const char *want)
{
	char buf[64];

	gb_money_format(buf, sizeof buf, v, 2);
	ck_assert_str_eq(buf, want);
}

/* Line i: kind, unit price (2+ decimals), amount. */
static void line_is(const gb_invoice *inv, size_t i, gb_line_kind kind,
		    const char *unit_price, const char *amount)
{
	char buf[64];

	ck_assert_msg(i < inv->nlines, "%s has %zu lines, want line %zu",
		      inv->customer, inv->nlines, i + 1);
	ck_assert_msg(inv->lines[i].kind == kind, "%s line %zu is %s, want %s",
		      inv->customer, i + 1, gb_line_kind_name(inv->lines[i].kind),
		      gb_line_kind_name(kind));
	gb_decimal_format(buf, sizeof buf, inv->lines[i].unit_price, 2, 18,
			  GB_ROUND_HALF_EVEN);
	ck_assert_str_eq(buf, unit_price);
	money_is(inv->lines[i].amount, amount);
}

START_TEST(spot_across_three_price_changes)
{
	/* us-east, Oct 9 22:00 - Oct 10 18:00, 1 GPU: 2 h at the fixed 1.00
	 * (no series entry yet), 12 h at 0.90, 6 h at 1.20.  The "*" entry
	 * at 06:00 does not apply: an exact-region entry exists by then. */
	ck_assert_int_eq(gpu("s1", "sp", "2026-10-09T22:00:00Z", "2026-10-10T18:00:00Z",
			     "H100", "us-east", "1", "spot", ""), GB_STATE_BILLED);
	/* eu-west has no series of its own: 04:00-06:00 fixed 1.00, 06:00-08:00
	 * the "*" series 0.70; 2 GPUs: 4 GPU-h x 1.00 + 4 GPU-h x 0.70 */
	gpu("s2", "sp", "2026-10-10T04:00:00Z", "2026-10-10T08:00:00Z", "H100",
	    "eu-west", "2", "spot", "false");
	finish();
	{
		const gb_invoice *inv = invoice_of("sp");

		ck_assert_uint_eq(inv->nlines, 5);
		/* eu-west before us-east, then by unit price */
		line_is(inv, 0, GB_LINE_GPU_SPOT, "0.70", "2.80");
		line_is(inv, 1, GB_LINE_GPU_SPOT, "1.00", "4.00");
		line_is(inv, 2, GB_LINE_GPU_SPOT, "0.90", "10.80");
		line_is(inv, 3, GB_LINE_GPU_SPOT, "1.00", "2.00");
		line_is(inv, 4, GB_LINE_GPU_SPOT, "1.20", "7.20");
		ck_assert_str_eq(inv->lines[0].region, "eu-west");
		ck_assert_str_eq(inv->lines[2].region, "us-east");
		money_is(inv->total, "26.80");
	}
}
END_TEST

START_TEST(interruption_at_3599_and_3600_seconds)
{
	/* 3599 s interrupted: free, a zero line shows 2 x 3599 GPU-s */
	ck_assert_int_eq(gpu("i1", "int", "2026-10-01T00:00:00Z", "2026-10-01T00:59:59Z",
			     "H100", "us-west", "2", "spot", "true"), GB_STATE_BILLED);
	/* 3600 s interrupted: charged, 1 h x 1 GPU x fixed spot 1.00 */
	gpu("i2", "int", "2026-10-02T00:00:00Z", "2026-10-02T01:00:00Z", "H100",
	    "us-west", "1", "spot", "1");
	finish();
	{
		const gb_invoice *inv = invoice_of("int");

		ck_assert_uint_eq(inv->nlines, 2);
		line_is(inv, 0, GB_LINE_GPU_SPOT, "1.00", "1.00");
		line_is(inv, 1, GB_LINE_GPU_SPOT_INTERRUPTED, "0.00", "0.00");
		ck_assert_int_eq(mpq_cmp_ui(inv->lines[1].base_quantity, 7198, 1), 0);
		money_is(inv->total, "1.00");
	}
}
END_TEST

START_TEST(tokens_with_batch_and_cache)
{
	/* v1: 1M input x 1.00 = 1.00; 2M cached x 0.25 = 0.50; 0.5M output
	 * x 4.00 = 2.00; batch 3M input x 1.00 x (1 - 0.50) = 1.50.
	 * v2: 1M input x 0.80; batch 1M input x 0.80 x (1 - 0.40) = 0.48. */
	tokens("t1", "tok", "2026-10-05T10:00:00Z", "m1", "1000000", "2000000", "500000", "");
	tokens("t2", "tok", "2026-10-05T11:00:00Z", "m1", "3000000", "", "", "true");
	tokens("t3", "tok", "2026-10-25T00:00:00Z", "m1", "1000000", "0", "", "false");
	tokens("t4", "tok", "2026-10-25T01:00:00Z", "m1", "1000000", "", "", "1");
	finish();
	{
		const gb_invoice *inv = invoice_of("tok");

		ck_assert_uint_eq(inv->nlines, 6);
		line_is(inv, 0, GB_LINE_TOKENS_INPUT, "0.48", "0.48");
		line_is(inv, 1, GB_LINE_TOKENS_INPUT, "0.50", "1.50");
		line_is(inv, 2, GB_LINE_TOKENS_INPUT, "0.80", "0.80");
		line_is(inv, 3, GB_LINE_TOKENS_INPUT, "1.00", "1.00");
		line_is(inv, 4, GB_LINE_TOKENS_CACHED_INPUT, "0.25", "0.50");
		line_is(inv, 5, GB_LINE_TOKENS_OUTPUT, "4.00", "2.00");
		ck_assert_int_eq(inv->lines[1].batch, 1);
		ck_assert_int_eq(inv->lines[3].batch, 0);
		ck_assert_int_eq(mpq_cmp_ui(inv->lines[1].base_quantity, 3000000, 1), 0);
		money_is(inv->total, "6.28");
	}
}
END_TEST

START_TEST(graduated_tiers_below_at_and_above)
{
	/* A100: 25 h -> 10 h x 2.00 + 10 h x 1.50 + 5 h x 1.00 = 40.00 */
	gpu("g1", "above", "2026-10-01T00:00:00Z", "2026-10-02T01:00:00Z", "A100", "x", "1", "", "");
	/* exactly 10 h -> only the first tier: 20.00 */
	gpu("g2", "at", "2026-10-01T00:00:00Z", "2026-10-01T10:00:00Z", "A100", "x", "1", "", "");
	/* 9 h 59 min 59 s -> 35999 s x 2.00 / 3600 = 19.99944 -> 20.00 */
	gpu("g3", "below", "2026-10-01T00:00:00Z", "2026-10-01T09:59:59Z", "A100", "x", "1", "", "");
	/* tokens m2: 2.5M -> 1M x 2.00 + 1.5M x 1.00 = 3.50 */
	tokens("g4", "above", "2026-10-03T00:00:00Z", "m2", "2500000", "", "", "");
	finish();
	{
		const gb_invoice *inv = invoice_of("above");

		ck_assert_uint_eq(inv->nlines, 5);
		line_is(inv, 0, GB_LINE_GPU_ON_DEMAND, "1.00", "5.00");
		line_is(inv, 1, GB_LINE_GPU_ON_DEMAND, "1.50", "15.00");
		line_is(inv, 2, GB_LINE_GPU_ON_DEMAND, "2.00", "20.00");
		ck_assert_uint_eq(inv->lines[2].tier, 1);
		ck_assert_uint_eq(inv->lines[0].tier, 3);
		line_is(inv, 3, GB_LINE_TOKENS_INPUT, "1.00", "1.50");
		line_is(inv, 4, GB_LINE_TOKENS_INPUT, "2.00", "2.00");
		money_is(inv->total, "43.50");
		inv = invoice_of("at");
		ck_assert_uint_eq(inv->nlines, 1);
		line_is(inv, 0, GB_LINE_GPU_ON_DEMAND, "2.00", "20.00");
		inv = invoice_of("below");
		ck_assert_uint_eq(inv->nlines, 1);
		line_is(inv, 0, GB_LINE_GPU_ON_DEMAND, "2.00", "20.00");
	}
}
END_TEST

START_TEST(volume_tiers_at_and_above)
{
	/* L4 10 h exactly: all at 1.00 = 10.00 (up_to is inclusive) */
	gpu("v1", "vat", "2026-10-01T00:00:00Z", "2026-10-01T10:00:00Z", "L4", "x", "1", "", "");
	/* 10 h 1 s: all of it at 0.80: 36001 x 0.80 / 3600 = 8.000222 -> 8.00 */
	gpu("v2", "vabove", "2026-10-01T00:00:00Z", "2026-10-01T10:00:01Z", "L4", "x", "1", "", "");
	finish();
	line_is(invoice_of("vat"), 0, GB_LINE_GPU_ON_DEMAND, "1.00", "10.00");
	ck_assert_uint_eq(invoice_of("vat")->nlines, 1);
	line_is(invoice_of("vabove"), 0, GB_LINE_GPU_ON_DEMAND, "0.80", "8.00");
	ck_assert_uint_eq(invoice_of("vabove")->lines[0].tier, 2);
}
END_TEST

START_TEST(reservations_discount_minimum_and_credits)
{
	char util[32];
	const gb_invoice *inv;

	/* Customer "res": r-b (1 GPU, 3y 1.50) is cheaper than r-a (2 GPUs,
	 * 1y 2.00), both for Oct 1 00:00-04:00, us-east.
	 * hour 0: 4 GPUs x 3600 = 14400: r-b 3600, r-a 7200, 3600 on demand
	 * hour 1: 1800 (half used):       r-b 1800
	 * hour 2: nothing (lost)
	 * hour 3: 7200 (over-used r-b):   r-b 3600, r-a 3600 */
	gpu("u1", "res", "2026-10-01T00:00:00Z", "2026-10-01T01:00:00Z", "H100", "us-east", "4", "", "");
	gpu("u2", "res", "2026-10-01T01:00:00Z", "2026-10-01T01:30:00Z", "H100", "us-east", "1", "", "");
	gpu("u3", "res", "2026-10-01T03:00:00Z", "2026-10-01T04:00:00Z", "H100", "us-east", "2", "on_demand", "");
	finish();
	inv = invoice_of("res");
	/* r-b: 4 h x 1 GPU x 1.50 = 6.00, covered 9000 / 14400 = 0.625
	 * r-a: 4 h x 2 GPUs x 2.00 = 16.00, covered 10800 / 28800 = 0.375
	 * on demand: 3600 GPU-s x 3.00 = 3.00
	 * discount 10% of on-demand 3.00 = -0.30        -> 24.70
	 * minimum 30.00: shortfall 5.30                  -> 30.00
	 * credits: c1 -10.00 -> 20.00; c2 -20.00 (5.00 left) -> 0.00;
	 *          c3 -0.00 (1.00 left) */
	ck_assert_uint_eq(inv->nlines, 8);
	line_is(inv, 0, GB_LINE_GPU_RESERVED, "1.50", "6.00");
	line_is(inv, 1, GB_LINE_GPU_RESERVED, "2.00", "16.00");
	ck_assert_str_eq(inv->lines[0].reference, "r-b");
	gb_decimal_format(util, sizeof util, inv->lines[0].utilisation, 0, 6, GB_ROUND_HALF_EVEN);
	ck_assert_str_eq(util, "0.625");
	gb_decimal_format(util, sizeof util, inv->lines[1].utilisation, 0, 6, GB_ROUND_HALF_EVEN);
	ck_assert_str_eq(util, "0.375");
	line_is(inv, 2, GB_LINE_GPU_ON_DEMAND, "3.00", "3.00");
	ck_assert_uint_eq(inv->lines[2].records, 3);
	line_is(inv, 3, GB_LINE_DISCOUNT, "-0.30", "-0.30");
	line_is(inv, 4, GB_LINE_MINIMUM_SPEND, "5.30", "5.30");
	line_is(inv, 5, GB_LINE_CREDIT, "-10.00", "-10.00");
	line_is(inv, 6, GB_LINE_CREDIT, "-20.00", "-20.00");
	money_is(inv->lines[6].remaining, "5.00");
	line_is(inv, 7, GB_LINE_CREDIT, "0.00", "0.00");
	money_is(inv->lines[7].remaining, "1.00");
	money_is(inv->total, "0.00");

	/* "rv": r-c (1 GPU, 1y) for Oct 19 23:00 - Oct 20 01:00 spans the
	 * version change: 1 h at 2.00 (v1) and 1 h at 1.80 (v2).  2 GPUs
	 * 23:30-00:30 use 3600 GPU-s in each hour: fully covered, nothing on
	 * demand. */
	inv = invoice_of("rv");
	ck_assert_uint_eq(inv->nlines, 2);
	line_is(inv, 0, GB_LINE_GPU_RESERVED, "1.80", "1.80");
	line_is(inv, 1, GB_LINE_GPU_RESERVED, "2.00", "2.00");
	money_is(inv->total, "3.80");

	/* "idle": no usage, minimum 5.00, credit 100.00 -> 0.00, 95.00 left */
	inv = invoice_of("idle");
	ck_assert_uint_eq(inv->nlines, 2);
	line_is(inv, 0, GB_LINE_MINIMUM_SPEND, "5.00", "5.00");
	line_is(inv, 1, GB_LINE_CREDIT, "-5.00", "-5.00");
	money_is(inv->lines[1].remaining, "95.00");
	money_is(inv->total, "0.00");
}
END_TEST

START_TEST(reservation_crossing_versions_with_usage)
{
	gpu("w1", "rv", "2026-10-19T23:30:00Z", "2026-10-20T00:30:00Z", "H100", "us-east", "2", "", "");
	finish();
	{
		const gb_invoice *inv = invoice_of("rv");

		ck_assert_uint_eq(inv->nlines, 2);
		ck_assert_int_eq(mpq_cmp_ui(inv->lines[0].utilisation, 1, 1), 0);
		ck_assert_int_eq(mpq_cmp_ui(inv->lines[1].utilisation, 1, 1), 0);
		money_is(inv->total, "3.80");
	}
}
END_TEST

START_TEST(spot_is_never_covered)
{
	/* spot usage of a reserving customer: billed as spot (fixed 1.00
	 * before Oct 10 in us-east), while the reservations stay unused */
	gpu("x1", "rv", "2026-10-19T23:00:00Z", "2026-10-20T00:00:00Z", "H100", "us-east", "1", "spot", "");
	finish();
	{
		const gb_invoice *inv = invoice_of("rv");

		ck_assert_uint_eq(inv->nlines, 3);
		ck_assert_int_eq(mpq_sgn(inv->lines[0].utilisation), 0);
		/* after Oct 10 12:00 the us-east series says 1.20 */
		line_is(inv, 2, GB_LINE_GPU_SPOT, "1.20", "1.20");
	}
}
END_TEST

START_TEST(rows_without_any_price_are_no_rate)
{
	/* A100 has no spot price anywhere: even a free interrupted run is
	 * rejected, as SPEC says of spot usage with no price. */
	ck_assert_int_eq(gpu("n1", "nr", "2026-10-01T00:00:00Z", "2026-10-01T00:10:00Z",
			     "A100", "x", "1", "spot", "true"), GB_STATE_REJECTED);
	/* m9 has no token rate: rejected even with every count zero */
	ck_assert_int_eq(tokens("n2", "nr", "2026-10-05T00:00:00Z", "m9", "", "", "", ""),
			 GB_STATE_REJECTED);
	/* m1 with all counts zero: billed, at no charge */
	ck_assert_int_eq(tokens("n3", "zero", "2026-10-05T00:00:00Z", "m1", "0", "", "", ""),
			 GB_STATE_BILLED);
	finish();
	ck_assert_uint_eq(invoice_of("zero")->nlines, 0);
	money_is(invoice_of("zero")->total, "0.00");
	ck_assert_uint_eq(gb_invoice_set_counts(set)->rejected, 2);
}
END_TEST

START_TEST(reservations_need_whole_hour_periods)
{
	gb_rater_options o = GB_RATER_OPTIONS_INIT;
	gb_rater *r2 = NULL;
	gb_error err;

	/* a period starting at 00:30 would split a reservation hour */
	o.period_from = OCT_FROM + 1800;
	o.period_to = NOV_FROM;
	o.contracts = contracts;
	gb_error_clear(&err);
	ck_assert_int_eq(gb_rater_new(&r2, prices, &o, &err), GB_EINVAL);
	ck_assert_ptr_null(r2);
	ck_assert_ptr_nonnull(strstr(err.message, "whole UTC hours"));
	/* without contracts any period is fine */
	o.contracts = NULL;
	ck_assert_int_eq(gb_rater_new(&r2, prices, &o, &err), 0);
	gb_rater_free(r2);
}
END_TEST

/* Tiers over the period across a version change (found by the oracle). */
static void tier_case(const char *mode2, const char *p1, const char *p2,
		      const char *want)
{
	char json[2048];
	gb_prices *pr;
	gb_rater *rt;
	gb_invoice_set *st;
	gb_rater_options o = GB_RATER_OPTIONS_INIT;
	gb_error err;
	int n = snprintf(json, sizeof json,
		"{\"format\":\"gpubill-pricing/1\",\"name\":\"t\",\"currency\":\"USD\","
		"\"versions\":[{\"effective_from\":\"2026-01-01T00:00:00Z\",\"gpu\":{\"rates\":["
		"{\"sku\":\"H\",\"region\":\"*\",\"on_demand\":{\"mode\":\"%s\",\"tiers\":["
		"{\"up_to\":\"1000\",\"price\":\"2.50\"},{\"up_to\":null,\"price\":\"2.10\"}]}}]}},"
		"{\"effective_from\":\"2026-10-15T00:00:00Z\",\"gpu\":{\"rates\":["
		"{\"sku\":\"H\",\"region\":\"*\",\"on_demand\":{\"mode\":\"%s\",\"tiers\":["
		"{\"up_to\":\"1000\",\"price\":\"%s\"},{\"up_to\":null,\"price\":\"%s\"}]}}]}}]}",
		mode2, mode2, p1, p2);

	ck_assert_int_lt(n, (int)sizeof json);
	ck_assert_int_eq(gb_prices_load(&pr, json, (size_t)n, "t.json", &err), 0);
	o.period_from = OCT_FROM;
	o.period_to = NOV_FROM;
	ck_assert_int_eq(gb_rater_new(&rt, pr, &o, &err), 0);
	{
		gb_rater *saved = rater;

		rater = rt;
		/* Oct 11 21:00 - Oct 18 03:00, 10 GPUs: 750 GPU-h each side */
		gpu("r1", "acme", "2026-10-11T21:00:00Z", "2026-10-18T03:00:00Z",
		    "H", "eu-west", "10", "", "");
		rater = saved;
	}
	ck_assert_int_eq(gb_rater_finish(rt, &st, &err), 0);
	money_is(gb_invoice_set_get(st, 0)->total, want);
	gb_invoice_set_free(st);
	gb_rater_free(rt);
	gb_prices_free(pr);
}

START_TEST(token_tiers_count_all_regions)
{
	/* m2 input, graduated at 1M tokens (2.00, then 1.00): 800k in eu and
	 * 800k in us are one quantity of 1.6M, as token lines have no region:
	 * 1M x 2.00 + 0.6M x 1.00 = 2.60 */
	row_values[GB_COL_REGION] = "eu";
	tokens("k1", "tk", "2026-10-03T00:00:00Z", "m2", "800000", "", "", "");
	row_values[GB_COL_REGION] = "us";
	tokens("k2", "tk", "2026-10-03T01:00:00Z", "m2", "800000", "", "", "");
	finish();
	{
		const gb_invoice *inv = invoice_of("tk");

		ck_assert_uint_eq(inv->nlines, 2);
		line_is(inv, 0, GB_LINE_TOKENS_INPUT, "1.00", "0.60");
		line_is(inv, 1, GB_LINE_TOKENS_INPUT, "2.00", "2.00");
		ck_assert_uint_eq(inv->lines[1].tier, 1);
		ck_assert_uint_eq(inv->lines[0].tier, 2);
		money_is(inv->total, "2.60");
	}
}
END_TEST

START_TEST(tiers_count_the_whole_period_across_versions)
{
	/* Same graduated tiers in both versions: the same as one version,
	 * 1000 h x 2.50 + 500 h x 2.10 = 3550.00 */
	tier_case("graduated", "2.50", "2.10", "3550.00");
	/* v2 cheaper: v1's 750 h fill tier 1 first (750 x 2.50 = 1875.00);
	 * v2's 750 h continue at 750: 250 h x 2.40 + 500 h x 2.00 = 1600.00 */
	tier_case("graduated", "2.40", "2.00", "3475.00");
	/* volume: the period's 1500 h reach tier 2 in both versions:
	 * 750 x 2.10 + 750 x 2.10 = 3150.00 */
	tier_case("volume", "2.50", "2.10", "3150.00");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("pricing");
	TCase *tc = tcase_create("model");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, spot_across_three_price_changes);
	tcase_add_test(tc, interruption_at_3599_and_3600_seconds);
	tcase_add_test(tc, tokens_with_batch_and_cache);
	tcase_add_test(tc, graduated_tiers_below_at_and_above);
	tcase_add_test(tc, volume_tiers_at_and_above);
	tcase_add_test(tc, reservations_discount_minimum_and_credits);
	tcase_add_test(tc, reservation_crossing_versions_with_usage);
	tcase_add_test(tc, spot_is_never_covered);
	tcase_add_test(tc, rows_without_any_price_are_no_rate);
	tcase_add_test(tc, reservations_need_whole_hour_periods);
	tcase_add_test(tc, tiers_count_the_whole_period_across_versions);
	tcase_add_test(tc, token_tiers_count_all_regions);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
