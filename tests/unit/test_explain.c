/*
 * test_explain.c - a record's exact share of the lines it reached, checked
 * against shares computed by hand, and the explainer's API contract.
 */
#include <check.h>
#include <gpubill/contracts.h>
#include <gpubill/prices.h>
#include <gpubill/usage.h>
#include <stdio.h>
#include <string.h>

#include "explain_internal.h"

/* H100 "*" on demand 3.00 per GPU-hour; increment 1 s, no minimum. */
static const char table[] =
	"{\"format\":\"gpubill-pricing/1\",\"name\":\"t\",\"currency\":\"USD\","
	"\"versions\":[{\"effective_from\":\"2026-01-01T00:00:00Z\",\"gpu\":{"
	"\"rates\":[{\"sku\":\"H100\",\"region\":\"*\",\"on_demand\":\"3.00\","
	"\"reserved\":{\"1y\":\"1.00\"}}]}}]}";

/* res holds r-1: 1 H100 in us-east, so 3600 GPU-seconds an hour. */
static const char contracts[] =
	"{\"format\":\"gpubill-contracts/1\",\"customers\":[{\"customer\":\"res\","
	"\"reservations\":[{\"id\":\"r-1\",\"sku\":\"H100\",\"region\":\"us-east\","
	"\"gpus\":1,\"term\":\"1y\",\"start\":\"2026-01-01T00:00:00Z\","
	"\"end\":\"2027-01-01T00:00:00Z\"}]}]}";

static const char usage[] =
	"id,customer,type,start,end,sku,region,gpus\n"
	/* res, hour 00: a 2 GPUs + b 1 GPU = 10800 GPU-s; 3600 covered */
	"a,res,gpu,2026-10-01T00:00:00Z,2026-10-01T01:00:00Z,H100,us-east,2\n"
	"b,res,gpu,2026-10-01T00:00:00Z,2026-10-01T01:00:00Z,H100,us-east,1\n"
	"b,res,gpu,2026-10-01T00:00:00Z,2026-10-01T01:00:00Z,H100,us-east,1\n"
	/* p: 1800 s + 20 s = 1820 GPU-s x 3.00 / 3600 = 1.516667 -> 1.52 */
	"d,p,gpu,2026-10-02T00:00:00Z,2026-10-02T00:30:00Z,H100,us-west,1\n"
	"e,p,gpu,2026-10-02T01:00:00Z,2026-10-02T01:00:20Z,H100,us-west,1\n"
	"x,p,gpu,2026-10-02T01:00:00Z,2026-10-02T00:00:00Z,H100,us-west,1\n";

#define OCT_FROM 1790812800LL /* 2026-10-01T00:00:00Z */
#define NOV_FROM 1793491200LL /* 2026-11-01T00:00:00Z */

static gb_prices *prices;
static gb_contracts *cons;
static gb_rater *rater;
static gb_explain *ex;
static gb_invoice_set *set;

static int feed(const gb_row *row, gb_error *err, void *payload)
{
	gb_outcome oc;

	(void)err;
	(void)payload;
	return gb_rater_add_row(rater, row, &oc);
}

static void setup(void)
{
	static const char *const ids[] = { "a", "b", "d", "e", "x", "zz" };
	gb_rater_options o = GB_RATER_OPTIONS_INIT;
	gb_csv_reader *rd = NULL;
	gb_error err;

	gb_error_clear(&err);
	ck_assert_int_eq(gb_prices_load(&prices, table, strlen(table), "t.json", &err), 0);
	ck_assert_msg(gb_contracts_load(&cons, contracts, strlen(contracts), "c.json",
					prices, &err) == 0, "%s", err.message);
	o.period_from = OCT_FROM;
	o.period_to = NOV_FROM;
	o.contracts = cons;
	ck_assert_int_eq(gb_rater_new(&rater, prices, &o, &err), 0);
	ck_assert_int_eq(gb_explain_new(&ex, rater, ids, 6, &err), 0);
	ck_assert_int_eq(gb_csv_reader_new(&rd, "u.csv", &err), 0);
	ck_assert_int_eq(gb_csv_reader_feed(rd, usage, strlen(usage), feed, NULL, &err), 0);
	ck_assert_int_eq(gb_csv_reader_finish(rd, feed, NULL, &err), 0);
	gb_csv_reader_free(rd);
	ck_assert_int_eq(gb_rater_finish(rater, &set, &err), 0);
}

static void teardown(void)
{
	gb_invoice_set_free(set);
	gb_rater_free(rater);
	gb_explain_free(ex);
	gb_contracts_free(cons);
	gb_prices_free(prices);
}

/* The one record with id i at position n among its rows. */
static const ex_rec *rec(const char *id, int n)
{
	size_t i;

	for (i = 0; i < ex->nrecs; i++)
		if (strcmp(ex->ids[ex->recs[i].id_index], id) == 0 && n-- == 0)
			return &ex->recs[i];
	ck_abort_msg("no record %s", id);
	return NULL;
}

static void assert_q(const mpq_t v, const char *want)
{
	mpq_t w;

	mpq_init(w);
	ck_assert_int_eq(mpq_set_str(w, want, 10), 0);
	mpq_canonicalize(w);
	ck_assert_msg(mpq_equal(v, w), "got %s, want %s", mpq_get_str(NULL, 10, v), want);
	mpq_clear(w);
}

START_TEST(reserved_hour_shared_in_proportion)
{
	const ex_rec *a = rec("a", 0), *b = rec("b", 0);

	/* 10800 in the hour, 3600 covered, 7200 left: a has 7200 of 10800,
	 * so 7200 x 7200/10800 = 4800 billed; b 3600 x 7200/10800 = 2400. */
	ck_assert_int_eq(a->outcome.state, GB_STATE_BILLED);
	ck_assert_uint_eq(a->npieces, 1);
	ck_assert(a->pieces[0].hourly);
	ck_assert(a->pieces[0].hour_total == 10800);
	ck_assert(a->pieces[0].hour_capacity == 3600);
	ck_assert_str_eq(a->pieces[0].covered_by, "r-1");
	assert_q(a->pieces[0].billed, "4800");
	assert_q(b->pieces[0].billed, "2400");
	/* the on-demand line: 7200 GPU-s x 3.00 / 3600 = 6.00; a 4.00, b 2.00 */
	ck_assert_uint_eq(a->nshares, 1);
	assert_q(a->shares[0].amount, "4");
	assert_q(b->shares[0].amount, "2");
	ck_assert_str_eq(set->invoices[a->shares[0].invoice].customer, "res");
	ck_assert_int_eq(set->invoices[a->shares[0].invoice].lines[a->shares[0].line].kind,
			 GB_LINE_GPU_ON_DEMAND);
}
END_TEST

START_TEST(shares_add_up_to_the_rounded_line)
{
	const ex_rec *d = rec("d", 0), *e = rec("e", 0);
	mpq_t sum;

	/* line 1.52 for 1820 GPU-s: d 1800/1820 x 1.52 = 684/455,
	 * e 20/1820 x 1.52 = 38/2275; together 1.52 exactly. */
	assert_q(d->shares[0].amount, "684/455");
	assert_q(e->shares[0].amount, "38/2275");
	mpq_init(sum);
	mpq_add(sum, d->shares[0].amount, e->shares[0].amount);
	assert_q(sum, "38/25");
	mpq_clear(sum);
	ck_assert_uint_eq(d->shares[0].line, e->shares[0].line);
}
END_TEST

START_TEST(states_and_missing)
{
	ck_assert_int_eq(rec("b", 1)->outcome.state, GB_STATE_DUPLICATE);
	ck_assert_uint_eq(rec("b", 1)->npieces, 0);
	ck_assert_int_eq(rec("x", 0)->outcome.state, GB_STATE_REJECTED);
	ck_assert_int_eq(rec("x", 0)->outcome.reason, GB_REASON_END_NOT_AFTER_START);
	ck_assert_uint_eq(gb_explain_missing(ex), 1); /* zz */
}
END_TEST

static int sink(const void *data, size_t len, void *payload)
{
	(void)data;
	*(size_t *)payload += len;
	return 0;
}

START_TEST(api_contract)
{
	static const char *const one[] = { "a" };
	gb_rater_options o = GB_RATER_OPTIONS_INIT;
	gb_rater *r2 = NULL;
	gb_explain *e2 = NULL, *e3 = NULL;
	gb_invoice_set *s2 = NULL;
	gb_error err;
	size_t n = 0;

	o.period_from = OCT_FROM;
	o.period_to = NOV_FROM;
	ck_assert_int_eq(gb_rater_new(&r2, prices, &o, &err), 0);
	ck_assert_int_eq(gb_explain_new(&e2, r2, NULL, 0, &err), GB_EINVAL);
	ck_assert_ptr_null(e2);
	ck_assert_int_eq(gb_explain_new(&e2, r2, one, 1, &err), 0);
	/* one explainer per rater */
	ck_assert_int_eq(gb_explain_new(&e3, r2, one, 1, &err), GB_EINVAL);
	/* nothing to write before the rater is finished */
	ck_assert_int_eq(gb_explain_write_text(e2, set, sink, &n, &err), GB_EINVAL);
	ck_assert_int_eq(gb_rater_finish(r2, &s2, &err), 0);
	ck_assert_int_eq(gb_explain_write_json(e2, s2, sink, &n, &err), 0);
	ck_assert_uint_gt(n, 0);
	ck_assert_uint_eq(gb_explain_missing(e2), 1);
	gb_invoice_set_free(s2);
	gb_rater_free(r2);
	gb_explain_free(e2);
	gb_explain_free(NULL);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("explain");
	TCase *tc = tcase_create("explain");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, reserved_hour_shared_in_proportion);
	tcase_add_test(tc, shares_add_up_to_the_rounded_line);
	tcase_add_test(tc, states_and_missing);
	tcase_add_test(tc, api_contract);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
