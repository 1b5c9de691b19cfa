/*
 * test_rater.c - on-demand GPU rating, checked against amounts computed by
 * hand.  Every expected amount is written out with its arithmetic.
 */
#include <check.h>
#include <gpubill/gpubill.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * Test table.  v1 from 2026-01-01: H100 "*" 2.50, H100 eu-west 2.75,
 * T4 "*" 0.35, increment 60 s, minimum 300 s.  v2 from 2026-10-15: H100 "*"
 * 2.00, H100 eu-west 2.75 (unchanged), no T4; increment 1 s, minimum 0 s.
 */
#define TABLE_HEAD \
	"{\"format\":\"gpubill-pricing/1\",\"name\":\"test\",\"currency\":\"USD\"," \
	"\"minor_units\":2,\"rounding\":\"%s\",\"versions\":[" \
	"{\"effective_from\":\"2026-01-01T00:00:00Z\",\"gpu\":{" \
	"\"increment_seconds\":60,\"minimum_seconds\":300,\"rates\":[" \
	"{\"sku\":\"H100\",\"region\":\"*\",\"on_demand\":\"2.50\"}," \
	"{\"sku\":\"H100\",\"region\":\"eu-west\",\"on_demand\":\"2.75\"}," \
	"{\"sku\":\"T4\",\"region\":\"*\",\"on_demand\":\"0.35\"}]}}," \
	"{\"effective_from\":\"2026-10-15T00:00:00Z\",\"gpu\":{" \
	"\"rates\":[" \
	"{\"sku\":\"H100\",\"region\":\"*\",\"on_demand\":\"2.00\"}," \
	"{\"sku\":\"H100\",\"region\":\"eu-west\",\"on_demand\":\"2.75\"}]}}]}"

#define OCT_FROM 1790812800LL /* 2026-10-01T00:00:00Z, date -u -d ... +%s */
#define NOV_FROM 1793491200LL /* 2026-11-01T00:00:00Z */

static gb_prices *prices;
static gb_rater *rater;
static gb_invoice_set *set;

static gb_prices *load_table(const char *rounding)
{
	char json[4096];
	gb_prices *p = NULL;
	gb_error err;
	int n = snprintf(json, sizeof json, TABLE_HEAD, rounding);

	gb_error_clear(&err);
	ck_assert_int_lt(n, (int)sizeof json);
	ck_assert_msg(gb_prices_load(&p, json, (size_t)n, "test.json", &err) == 0,
		      "table: %s (%s)", err.message, err.path);
	return p;
}

static void start_with(const char *rounding, int64_t from, int64_t to,
		       const char *const *customers, size_t ncustomers,
		       uint32_t shard_k, uint32_t shard_n)
{
	gb_rater_options o = GB_RATER_OPTIONS_INIT;
	gb_error err;

	prices = load_table(rounding);
	o.period_from = from;
	o.period_to = to;
	o.customers = customers;
	o.ncustomers = ncustomers;
	o.shard_index = shard_k;
	o.shard_count = shard_n;
	ck_assert_int_eq(gb_rater_new(&rater, prices, &o, &err), 0);
	set = NULL;
}

static void start(void)
{
	start_with("half_even", OCT_FROM, NOV_FROM, NULL, 0, 0, 0);
}

static void stop(void)
{
	gb_invoice_set_free(set);
	gb_rater_free(rater);
	gb_prices_free(prices);
	set = NULL;
	rater = NULL;
	prices = NULL;
}

static void put(gb_row *row, gb_column c, const char *v)
{
	row->f[c].ptr = v;
	row->f[c].len = v ? strlen(v) : 0;
}

/* Feed a GPU row; returns its outcome state, reason in *reason. */
static gb_state gpu_full(const char *id, const char *cust, const char *start_ts,
			 const char *end_ts, const char *sku, const char *region,
			 const char *gpus, const char *market, gb_reason *reason)
{
	gb_row row;
	gb_outcome oc;

	memset(&row, 0, sizeof row);
	row.source = "t.csv";
	row.line = 2;
	row.nfields = row.nheader = GB_COL__COUNT;
	put(&row, GB_COL_ID, id);
	put(&row, GB_COL_CUSTOMER, cust);
	put(&row, GB_COL_TYPE, "gpu");
	put(&row, GB_COL_START, start_ts);
	put(&row, GB_COL_END, end_ts);
	put(&row, GB_COL_SKU, sku);
	put(&row, GB_COL_REGION, region);
	put(&row, GB_COL_GPUS, gpus);
	put(&row, GB_COL_MARKET, market);
	ck_assert_int_eq(gb_rater_add_row(rater, &row, &oc), 0);
	if (reason)
		*reason = oc.reason;
	return oc.state;
}

static gb_state gpu(const char *id, const char *cust, const char *s,
		    const char *e, const char *sku, const char *region,
		    const char *gpus)
{
	return gpu_full(id, cust, s, e, sku, region, gpus, "", NULL);
}

static void finish(void)
{
	gb_error err;

	ck_assert_int_eq(gb_rater_finish(rater, &set, &err), 0);
}

static const gb_invoice *invoice(size_t i)
{
	const gb_invoice *inv = gb_invoice_set_get(set, i);

	ck_assert_ptr_nonnull(inv);
	return inv;
}

static void assert_money(const mpz_t v, const char *want)
{
	char buf[64];

	gb_money_format(buf, sizeof buf, v, 2);
	ck_assert_str_eq(buf, want);
}

static void assert_line(const gb_invoice *inv, size_t i, const char *sku,
			const char *region, const char *unit_price,
			unsigned long gpu_seconds, const char *amount)
{
	const gb_invoice_line *l;
	char buf[64];

	ck_assert_uint_lt(i, inv->nlines);
	l = &inv->lines[i];
	ck_assert_int_eq(l->kind, GB_LINE_GPU_ON_DEMAND);
	ck_assert_str_eq(l->sku, sku);
	ck_assert_str_eq(l->region, region);
	gb_decimal_format(buf, sizeof buf, l->unit_price, 2, 18, GB_ROUND_HALF_EVEN);
	ck_assert_str_eq(buf, unit_price);
	ck_assert_int_eq(mpq_cmp_ui(l->base_quantity, gpu_seconds, 1), 0);
	assert_money(l->amount, amount);
}

START_TEST(minimum_applies)
{
	start();
	/* 10 s runs bill the 300 s minimum: 300 * 2.50 / 3600 = 0.208333 -> 0.21 */
	ck_assert_int_eq(gpu("a", "c1", "2026-10-01T00:00:00Z",
			     "2026-10-01T00:00:10Z", "H100", "us-east", "1"),
			 GB_STATE_BILLED);
	finish();
	ck_assert_uint_eq(gb_invoice_set_count(set), 1);
	assert_line(invoice(0), 0, "H100", "us-east", "2.50", 300, "0.21");
	assert_money(invoice(0)->total, "0.21");
	stop();
}
END_TEST

START_TEST(increment_rounds_up)
{
	start();
	/* 301 s -> ceil(301/60)*60 = 360 s; * 2 GPUs = 720 GPU-s;
	 * 720 * 2.50 / 3600 = 0.50 */
	gpu("a", "c1", "2026-10-01T00:00:00Z", "2026-10-01T00:05:01Z", "H100",
	    "us-east", "2");
	finish();
	assert_line(invoice(0), 0, "H100", "us-east", "2.50", 720, "0.50");
	stop();
}
END_TEST

START_TEST(clipped_at_period_start_and_end)
{
	start();
	/* 23:00 Sep 30 .. 01:00 Oct 1, 2 GPUs: 3600 s in period -> 7200 GPU-s */
	gpu("a", "c1", "2026-09-30T23:00:00Z", "2026-10-01T01:00:00Z", "H100",
	    "us-east", "2");
	/* 23:00 Oct 31 .. 02:00 Nov 1, 1 GPU: 3600 GPU-s in period; the v2
	 * price 2.00 applies (after Oct 15), minimum/increment from v2 */
	gpu("b", "c1", "2026-10-31T23:00:00Z", "2026-11-01T02:00:00Z", "H100",
	    "us-east", "1");
	finish();
	/* lines sorted by unit price: 2.00 (3600 s = 2.00) then 2.50 (7200 s = 5.00) */
	assert_line(invoice(0), 0, "H100", "us-east", "2.00", 3600, "2.00");
	assert_line(invoice(0), 1, "H100", "us-east", "2.50", 7200, "5.00");
	assert_money(invoice(0)->total, "7.00");
	stop();
}
END_TEST

START_TEST(outside_period)
{
	start();
	ck_assert_int_eq(gpu("a", "c1", "2026-09-01T00:00:00Z",
			     "2026-09-01T01:00:00Z", "H100", "us-east", "1"),
			 GB_STATE_OUTSIDE_PERIOD);
	/* ends exactly at the period start: no second inside */
	ck_assert_int_eq(gpu("b", "c1", "2026-09-30T23:00:00Z",
			     "2026-10-01T00:00:00Z", "H100", "us-east", "1"),
			 GB_STATE_OUTSIDE_PERIOD);
	/* 4 min run ending 2 min before the period: the 300 s minimum reaches
	 * 1 min into October, and that minute is billed here */
	ck_assert_int_eq(gpu("c", "c1", "2026-09-30T23:56:00Z",
			     "2026-10-01T00:00:00Z", "H100", "us-east", "1"),
			 GB_STATE_BILLED);
	finish();
	/* 60 s * 2.50 / 3600 = 0.041666 -> 0.04 */
	assert_line(invoice(0), 0, "H100", "us-east", "2.50", 60, "0.04");
	ck_assert_uint_eq(gb_invoice_set_counts(set)->outside_period, 2);
	stop();
}
END_TEST

START_TEST(version_change_mid_month)
{
	start();
	/* Oct 14 22:00 .. Oct 15 02:00, 1 GPU: 2 h at 2.50, 2 h at 2.00 */
	gpu("a", "c1", "2026-10-14T22:00:00Z", "2026-10-15T02:00:00Z", "H100",
	    "us-east", "1");
	finish();
	ck_assert_uint_eq(invoice(0)->nlines, 2);
	assert_line(invoice(0), 0, "H100", "us-east", "2.00", 7200, "4.00");
	assert_line(invoice(0), 1, "H100", "us-east", "2.50", 7200, "5.00");
	ck_assert_uint_eq(invoice(0)->lines[0].records, 1);
	ck_assert_uint_eq(invoice(0)->lines[1].records, 1);
	assert_money(invoice(0)->total, "9.00");
	stop();
}
END_TEST

START_TEST(region_override_and_merge_across_versions)
{
	start();
	/* eu-west has its own 2.75 in both versions: one line, one record.
	 * Oct 14 23:00 .. Oct 15 01:00 * 3 GPUs = 21600 GPU-s = 6 h * 2.75 = 16.50 */
	gpu("a", "c1", "2026-10-14T23:00:00Z", "2026-10-15T01:00:00Z", "H100",
	    "eu-west", "3");
	finish();
	ck_assert_uint_eq(invoice(0)->nlines, 1);
	assert_line(invoice(0), 0, "H100", "eu-west", "2.75", 21600, "16.50");
	ck_assert_uint_eq(invoice(0)->lines[0].records, 1);
	stop();
}
END_TEST

/* T4 at 0.35: 1080 s -> 0.105 exactly (a tie); 3240 s -> 0.315 */
static void tie_case(const char *mode, const char *want_105, const char *want_315)
{
	start_with(mode, OCT_FROM, NOV_FROM, NULL, 0, 0, 0);
	gpu("a", "even", "2026-10-01T00:00:00Z", "2026-10-01T00:18:00Z", "T4",
	    "us-east", "1");
	gpu("b", "odd", "2026-10-01T00:00:00Z", "2026-10-01T00:54:00Z", "T4",
	    "us-east", "1");
	finish();
	assert_line(invoice(0), 0, "T4", "us-east", "0.35", 1080, want_105);
	assert_line(invoice(1), 0, "T4", "us-east", "0.35", 3240, want_315);
	stop();
}

START_TEST(rounding_ties_each_mode)
{
	tie_case("half_even", "0.10", "0.32");
	tie_case("half_up", "0.11", "0.32");
	tie_case("down", "0.10", "0.31");
	tie_case("up", "0.11", "0.32");
}
END_TEST

START_TEST(merged_line_priced_on_summed_quantity)
{
	start();
	/* Two 1080 s records: alone each is 0.105 -> 0.10; together 2160 s *
	 * 0.35 / 3600 = 0.21 exactly.  One line, rounded once. */
	gpu("a", "c1", "2026-10-01T00:00:00Z", "2026-10-01T00:18:00Z", "T4",
	    "us-east", "1");
	gpu("b", "c1", "2026-10-02T00:00:00Z", "2026-10-02T00:18:00Z", "T4",
	    "us-east", "1");
	finish();
	ck_assert_uint_eq(invoice(0)->nlines, 1);
	assert_line(invoice(0), 0, "T4", "us-east", "0.35", 2160, "0.21");
	ck_assert_uint_eq(invoice(0)->lines[0].records, 2);
	stop();
}
END_TEST

START_TEST(duplicates_and_conflicts)
{
	gb_reason why;

	start();
	ck_assert_int_eq(gpu("a", "c1", "2026-10-01T00:00:00Z",
			     "2026-10-01T01:00:00Z", "H100", "us-east", "1"),
			 GB_STATE_BILLED);
	ck_assert_int_eq(gpu("a", "c1", "2026-10-01T00:00:00Z",
			     "2026-10-01T01:00:00Z", "H100", "us-east", "1"),
			 GB_STATE_DUPLICATE);
	ck_assert_int_eq(gpu_full("a", "c1", "2026-10-01T00:00:00Z",
				  "2026-10-01T02:00:00Z", "H100", "us-east", "1",
				  "", &why),
			 GB_STATE_REJECTED);
	ck_assert_int_eq(why, GB_REASON_DUPLICATE_CONFLICT);
	/* bytes moved across a field boundary are different content */
	ck_assert_int_eq(gpu("b", "c1", "2026-10-01T00:00:00Z",
			     "2026-10-01T01:00:00Z", "T4", "us", "1"),
			 GB_STATE_BILLED);
	ck_assert_int_eq(gpu_full("b", "c1", "2026-10-01T00:00:00Z",
				  "2026-10-01T01:00:00Z", "T", "4us", "1", "", &why),
			 GB_STATE_REJECTED);
	ck_assert_int_eq(why, GB_REASON_DUPLICATE_CONFLICT);
	finish();
	/* the first row stands: 1 h * 2.50 */
	assert_line(invoice(0), 0, "H100", "us-east", "2.50", 3600, "2.50");
	ck_assert_uint_eq(gb_invoice_set_counts(set)->read, 5);
	ck_assert_uint_eq(gb_invoice_set_counts(set)->billed, 2);
	ck_assert_uint_eq(gb_invoice_set_counts(set)->duplicates, 1);
	ck_assert_uint_eq(gb_invoice_set_counts(set)->rejected, 2);
	stop();
}
END_TEST

/*
 * gb_rater_reserve is a hint: duplicates are still found when the id set
 * outgrows the reservation.
 */
START_TEST(reserve_is_only_a_hint)
{
	char id[32];
	gb_error err;
	int i;

	start();
	ck_assert_int_eq(gb_rater_reserve(rater, 10, &err), 0);
	for (i = 0; i < 3000; i++) {
		snprintf(id, sizeof id, "r%d", i);
		ck_assert_int_eq(gpu(id, "c1", "2026-10-01T00:00:00Z",
				     "2026-10-01T01:00:00Z", "H100", "us-east", "1"),
				 GB_STATE_BILLED);
		if (i == 1000)
			ck_assert_int_eq(gb_rater_reserve(rater, 5000, &err), 0);
	}
	/* ids from before and after both reservations are still known */
	ck_assert_int_eq(gpu("r0", "c1", "2026-10-01T00:00:00Z",
			     "2026-10-01T01:00:00Z", "H100", "us-east", "1"),
			 GB_STATE_DUPLICATE);
	ck_assert_int_eq(gpu("r2999", "c1", "2026-10-01T00:00:00Z",
			     "2026-10-01T01:00:00Z", "H100", "us-east", "1"),
			 GB_STATE_DUPLICATE);
	finish();
	/* 3000 h * 2.50 */
	assert_line(invoice(0), 0, "H100", "us-east", "2.50", 3000 * 3600, "7500.00");
	ck_assert_uint_eq(gb_invoice_set_counts(set)->duplicates, 2);
	ck_assert_int_eq(gb_rater_reserve(rater, 10, &err), GB_EINVAL);
	stop();
}
END_TEST

static void expect_reject(const char *id, const char *cust, const char *s,
			  const char *e, const char *sku, const char *region,
			  const char *gpus, const char *market, gb_reason want)
{
	gb_reason why = GB_REASON_NONE;

	ck_assert_int_eq(gpu_full(id, cust, s, e, sku, region, gpus, market, &why),
			 GB_STATE_REJECTED);
	ck_assert_msg(why == want, "id %s: reason %s, want %s", id,
		      gb_reason_code(why), gb_reason_code(want));
}

START_TEST(reject_reasons)
{
	static const char long_id[] =
		"x123456789012345678901234567890123456789012345678901234567890"
		"1234567890123456789012345678901234567890123456789012345678901234567890";
	const char *S = "2026-10-01T00:00:00Z", *E = "2026-10-01T01:00:00Z";
	gb_counts c;

	start();
	expect_reject("", "c1", S, E, "H100", "us", "1", "", GB_REASON_MISSING_FIELD);
	expect_reject("m1", "", S, E, "H100", "us", "1", "", GB_REASON_MISSING_FIELD);
	expect_reject("m2", "c1", S, "", "H100", "us", "1", "", GB_REASON_MISSING_FIELD);
	expect_reject("m3", "c1", S, E, "", "us", "1", "", GB_REASON_MISSING_FIELD);
	expect_reject("m4", "c1", S, E, "H100", "us", "", "", GB_REASON_MISSING_FIELD);
	expect_reject("t1", "c1", "2026-13-01T00:00:00Z", E, "H100", "us", "1", "",
		      GB_REASON_BAD_TIMESTAMP);
	expect_reject("t2", "c1", S, "2026-10-01 01:00", "H100", "us", "1", "",
		      GB_REASON_BAD_TIMESTAMP);
	expect_reject("n1", "c1", S, E, "H100", "us", "0", "", GB_REASON_BAD_NUMBER);
	expect_reject("n2", "c1", S, E, "H100", "us", "-1", "", GB_REASON_BAD_NUMBER);
	expect_reject("n3", "c1", S, E, "H100", "us", "1e3", "", GB_REASON_BAD_NUMBER);
	expect_reject("n4", "c1", S, E, "H100", "us", "100001", "", GB_REASON_BAD_NUMBER);
	expect_reject("n5", "c1", S, E, "H100", "us", "1000000000000000000000000000000",
		      "", GB_REASON_BAD_NUMBER);
	expect_reject("e1", "c1", S, S, "H100", "us", "1", "", GB_REASON_END_NOT_AFTER_START);
	expect_reject("l1", "c1", S, E, "H100", "us", "1", "spot?", GB_REASON_BAD_VALUE);
	expect_reject(long_id, "c1", S, E, "H100", "us", "1", "", GB_REASON_FIELD_TOO_LONG);
	expect_reject("x1", "c1\x01", S, E, "H100", "us", "1", "", GB_REASON_BAD_TEXT);
	expect_reject("x2", "c\xc3", S, E, "H100", "us", "1", "", GB_REASON_BAD_TEXT);
	/* past the first eight bytes (checked a word at a time there) */
	expect_reject("x3", "abcdefghij\x7fklmnop", S, E, "H100", "us", "1", "",
		      GB_REASON_BAD_TEXT);
	expect_reject("x4", "abcdefghijklm\x1fnop", S, E, "H100", "us", "1", "",
		      GB_REASON_BAD_TEXT);
	expect_reject("x5", "abcdefgh\x80ijklmnop", S, E, "H100", "us", "1", "",
		      GB_REASON_BAD_TEXT);
	expect_reject("r1", "c1", S, E, "A100", "us", "1", "", GB_REASON_NO_RATE);
	/* T4 has no rate in v2: a run across Oct 15 is rejected whole */
	expect_reject("r2", "c1", "2026-10-14T23:00:00Z", "2026-10-15T01:00:00Z",
		      "T4", "us", "1", "", GB_REASON_NO_RATE);
	/* spot with no spot price anywhere in the table */
	expect_reject("s1", "c1", S, E, "H100", "us", "1", "spot", GB_REASON_NO_RATE);
	finish();
	ck_assert_uint_eq(gb_invoice_set_count(set), 0);
	c = *gb_invoice_set_counts(set);
	ck_assert_uint_eq(c.rejected, 23);
	ck_assert_uint_eq(c.read, 23);
	stop();
}
END_TEST

START_TEST(unknown_type_and_field_count)
{
	gb_row row;
	gb_outcome oc;

	start();
	memset(&row, 0, sizeof row);
	row.source = "t.csv";
	row.nfields = row.nheader = 4;
	put(&row, GB_COL_ID, "u1");
	put(&row, GB_COL_CUSTOMER, "c1");
	put(&row, GB_COL_TYPE, "cpu");
	put(&row, GB_COL_START, "2026-10-01T00:00:00Z");
	ck_assert_int_eq(gb_rater_add_row(rater, &row, &oc), 0);
	ck_assert_int_eq(oc.state, GB_STATE_REJECTED);
	ck_assert_int_eq(oc.reason, GB_REASON_UNKNOWN_TYPE);
	ck_assert_str_eq(gb_reason_code(oc.reason), "unknown_type");
	row.flags = GB_ROW_FIELD_COUNT;
	row.nfields = 3;
	ck_assert_int_eq(gb_rater_add_row(rater, &row, &oc), 0);
	ck_assert_int_eq(oc.reason, GB_REASON_FIELD_COUNT);
	ck_assert_str_eq(oc.message, "row has 3 fields; the header has 4");
	stop();
}
END_TEST

START_TEST(before_first_version_has_no_rate)
{
	gb_reason why;

	/* period 2025-12-31T00:00Z .. 2026-01-02T00:00Z */
	start_with("half_even", 1767139200LL, 1767312000LL, NULL, 0, 0, 0);
	ck_assert_int_eq(gpu_full("a", "c1", "2025-12-31T23:00:00Z",
				  "2026-01-01T01:00:00Z", "H100", "us", "1", "",
				  &why),
			 GB_STATE_REJECTED);
	ck_assert_int_eq(why, GB_REASON_NO_RATE);
	stop();
}
END_TEST

START_TEST(customer_filter_skips_others)
{
	static const char *const only[] = { "c2", "abcdefghijklmnop\xc3\xa9 ~" };
	const char *S = "2026-10-01T00:00:00Z", *E = "2026-10-01T01:00:00Z";

	start_with("half_even", OCT_FROM, NOV_FROM, only, 2, 0, 0);
	ck_assert_int_eq(gpu("a", "c1", S, E, "H100", "us", "1"), GB_STATE_SKIPPED);
	ck_assert_int_eq(gpu("b", "c2", S, E, "H100", "us", "1"), GB_STATE_BILLED);
	/* long text with UTF-8 past the first eight bytes is valid */
	ck_assert_int_eq(gpu("d", "abcdefghijklmnop\xc3\xa9 ~", S, E, "H100", "us", "1"),
			 GB_STATE_BILLED);
	/* another customer's bad row is theirs to see, not ours */
	ck_assert_int_eq(gpu("c", "c1", S, E, "H100", "us", "0"), GB_STATE_SKIPPED);
	finish();
	ck_assert_uint_eq(gb_invoice_set_count(set), 2);
	ck_assert_str_eq(invoice(1)->customer, "c2");
	ck_assert_uint_eq(gb_invoice_set_counts(set)->skipped, 2);
	ck_assert_uint_eq(gb_invoice_set_counts(set)->read, 4);
	stop();
}
END_TEST

/*
 * gb_rater_selects remembers its answers and the customer they named, and
 * the row that follows reuses that customer: only when the row's customer
 * is byte for byte the one asked about.
 */
START_TEST(selects_answer_only_for_that_customer)
{
	static const char *const only[] = { "c2", "alpha", "alphb", "beta",
		"a-customer-id-longer-than-the-memo-holds" };
	const char *S = "2026-10-01T00:00:00Z", *E = "2026-10-01T01:00:00Z";
	const char *lng = only[4];

	start_with("half_even", OCT_FROM, NOV_FROM, only, 5, 0, 0);
	ck_assert_int_eq(gb_rater_selects(rater, "c1", 2), 0);
	ck_assert_int_eq(gb_rater_selects(rater, "c1", 2), 0); /* remembered */
	ck_assert_int_eq(gb_rater_selects(rater, "c2", 2), 1);
	ck_assert_int_eq(gb_rater_selects(rater, "c2", 2), 1);
	/* asked about c2, handed c1 (a front end that read it whole) */
	ck_assert_int_eq(gpu("a", "c1", S, E, "H100", "us", "1"), GB_STATE_SKIPPED);
	ck_assert_int_eq(gb_rater_selects(rater, "alpha", 5), 1);
	/* same length, last byte differs: alphb's row, not alpha's */
	ck_assert_int_eq(gpu("b", "alphb", S, E, "H100", "us", "1"), GB_STATE_BILLED);
	ck_assert_int_eq(gb_rater_selects(rater, "beta", 4), 1);
	ck_assert_int_eq(gpu("c", "beta", S, E, "H100", "us", "2"), GB_STATE_BILLED);
	ck_assert_int_eq(gb_rater_selects(rater, lng, strlen(lng)), 1);
	ck_assert_int_eq(gpu("d", lng, S, E, "H100", "us", "3"), GB_STATE_BILLED);
	ck_assert_int_eq(gb_rater_selects(rater, "beta", 4), 1);
	/* beta asked about last: the long id's row is still the long id's */
	ck_assert_int_eq(gpu("e", lng, S, E, "H100", "us", "1"), GB_STATE_BILLED);
	finish();
	/* 1, 2 and 3 + 1 GPU-hours at 2.50 */
	ck_assert_uint_eq(gb_invoice_set_count(set), 3);
	ck_assert_str_eq(invoice(0)->customer, lng);
	assert_money(invoice(0)->total, "10.00");
	ck_assert_str_eq(invoice(1)->customer, "alphb");
	assert_money(invoice(1)->total, "2.50");
	ck_assert_str_eq(invoice(2)->customer, "beta");
	assert_money(invoice(2)->total, "5.00");
	ck_assert_uint_eq(gb_invoice_set_counts(set)->skipped, 1);
	stop();
}
END_TEST

START_TEST(shard_hash_is_stable)
{
	/* Pinned from an independent FNV-1a 64 in Python:
	 * fnv1a64("acme") = 0x0724d383f4f6de0f -> % 4 + 1 = 4, % 7 + 1 = 4;
	 * fnv1a64("globex") = 0x7fc12157b54bb22e -> % 4 + 1 = 3, % 3 + 1 = 3.
	 * The function is documented and must never change. */
	ck_assert_uint_eq(gb_customer_shard("acme", 4, 4), 4);
	ck_assert_uint_eq(gb_customer_shard("acme", 4, 7), 4);
	ck_assert_uint_eq(gb_customer_shard("globex", 6, 4), 3);
	ck_assert_uint_eq(gb_customer_shard("globex", 6, 3), 3);
	ck_assert_uint_eq(gb_customer_shard("", 0, 1), 1);
	ck_assert_uint_eq(gb_customer_shard("", 0, 7),
			  (uint32_t)(0xcbf29ce484222325ull % 7) + 1);
}
END_TEST

/* Run rows in the given order and return the JSON output. */
typedef struct sink {
	char *data;
	size_t len;
} sink;

static int sink_write(const void *d, size_t n, void *payload)
{
	sink *s = payload;
	char *p = realloc(s->data, s->len + n + 1);

	if (!p)
		return -1;
	memcpy(p + s->len, d, n);
	s->data = p;
	s->len += n;
	s->data[s->len] = '\0';
	return 0;
}

static const char *const order_rows[][6] = {
	{ "a", "zeta", "2026-10-01T00:00:00Z", "2026-10-01T03:10:00Z", "H100", "us-east" },
	{ "b", "alpha", "2026-10-14T20:00:00Z", "2026-10-15T04:00:07Z", "H100", "eu-west" },
	{ "c", "alpha", "2026-10-02T00:00:00Z", "2026-10-02T00:00:01Z", "T4", "us-west" },
	{ "d", "mid", "2026-10-30T00:00:00Z", "2026-11-03T00:00:00Z", "H100", "ap" },
	{ "e", "alpha", "2026-10-14T20:00:00Z", "2026-10-15T04:00:07Z", "H100", "us-east" },
	{ "a", "zeta", "2026-10-01T00:00:00Z", "2026-10-01T03:10:00Z", "H100", "us-east" },
};

static char *run_order(const int *order, size_t n)
{
	sink s = { NULL, 0 };
	gb_error err;
	size_t i;

	start();
	for (i = 0; i < n; i++) {
		const char *const *r = order_rows[order[i]];

		gpu(r[0], r[1], r[2], r[3], r[4], r[5], "3");
	}
	finish();
	ck_assert_int_eq(gb_invoice_write_json(set, sink_write, &s, &err), 0);
	stop();
	return s.data;
}

START_TEST(row_order_does_not_matter)
{
	static const int fwd[] = { 0, 1, 2, 3, 4, 5 }, rev[] = { 5, 4, 3, 2, 1, 0 },
			 mix[] = { 3, 0, 4, 1, 5, 2 };
	char *a = run_order(fwd, 6), *b = run_order(rev, 6), *c = run_order(mix, 6);

	ck_assert_str_eq(a, b);
	ck_assert_str_eq(a, c);
	ck_assert_ptr_nonnull(strstr(a, "\"customer\": \"alpha\""));
	/* alpha before mid before zeta */
	ck_assert(strstr(a, "\"alpha\"") < strstr(a, "\"mid\""));
	ck_assert(strstr(a, "\"mid\"") < strstr(a, "\"zeta\""));
	free(a);
	free(b);
	free(c);
}
END_TEST

START_TEST(split_record_gives_same_amounts)
{
	/* One 4 h record vs. the same usage as 1 h 7 min + 2 h 53 min (both
	 * past the 300 s minimum and on 60 s increments, in v1 only). */
	start();
	gpu("a", "c1", "2026-10-03T00:00:00Z", "2026-10-03T04:00:00Z", "H100",
	    "us-east", "5");
	finish();
	assert_line(invoice(0), 0, "H100", "us-east", "2.50", 72000, "50.00");
	stop();
	start();
	gpu("a1", "c1", "2026-10-03T00:00:00Z", "2026-10-03T01:07:00Z", "H100",
	    "us-east", "5");
	gpu("a2", "c1", "2026-10-03T01:07:00Z", "2026-10-03T04:00:00Z", "H100",
	    "us-east", "5");
	finish();
	assert_line(invoice(0), 0, "H100", "us-east", "2.50", 72000, "50.00");
	stop();
}
END_TEST

static Suite *rater_suite(void)
{
	Suite *s = suite_create("rater");
	TCase *tc = tcase_create("on_demand");

	tcase_add_test(tc, minimum_applies);
	tcase_add_test(tc, reserve_is_only_a_hint);
	tcase_add_test(tc, increment_rounds_up);
	tcase_add_test(tc, clipped_at_period_start_and_end);
	tcase_add_test(tc, outside_period);
	tcase_add_test(tc, version_change_mid_month);
	tcase_add_test(tc, region_override_and_merge_across_versions);
	tcase_add_test(tc, rounding_ties_each_mode);
	tcase_add_test(tc, merged_line_priced_on_summed_quantity);
	tcase_add_test(tc, duplicates_and_conflicts);
	tcase_add_test(tc, reject_reasons);
	tcase_add_test(tc, unknown_type_and_field_count);
	tcase_add_test(tc, before_first_version_has_no_rate);
	tcase_add_test(tc, customer_filter_skips_others);
	tcase_add_test(tc, selects_answer_only_for_that_customer);
	tcase_add_test(tc, shard_hash_is_stable);
	tcase_add_test(tc, row_order_does_not_matter);
	tcase_add_test(tc, split_record_gives_same_amounts);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(rater_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
