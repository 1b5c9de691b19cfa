/*
 * test_alloc.c - fail the n-th allocation, for every n, over a small full
 * run (table, contracts, usage CSV, rating, all three writers), and check
 * each run ends with a clean error and leaks nothing, and that a run
 * which absorbed its failure wrote exactly what a clean run writes.
 */
#include <check.h>
#include <gpubill/gpubill.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* calls, fail_at, live and the allocator `counting` */
#include "alloc_count.h"
#include "test_data.h"

/* What the writers wrote: its length and an FNV-1a hash of its bytes. */
typedef struct written {
	size_t n;
	uint64_t hash;
} written;

static int sink(const void *d, size_t n, void *payload)
{
	written *w = payload;
	const unsigned char *p = d;
	size_t i;

	for (i = 0; i < n; i++)
		w->hash = (w->hash ^ p[i]) * 0x100000001b3ull;
	w->n += n;
	return 0;
}

/* One whole run; returns 0, or the first error's code (err filled). */
static int run(const char *prices_json, size_t plen, const char *contracts_json,
	       size_t clen, const char *csv, size_t ulen, written *out,
	       gb_error *err)
{
	gb_prices *prices = NULL;
	gb_contracts *contracts = NULL;
	gb_rater *rater = NULL;
	gb_csv_reader *reader = NULL;
	gb_invoice_set *set = NULL;
	gb_rater_options o = GB_RATER_OPTIONS_INIT;
	int rc;

	out->n = 0;
	out->hash = 0xcbf29ce484222325ull;
	gb_error_clear(err);
	rc = gb_prices_load(&prices, prices_json, plen, "default.json", err);
	if (!rc)
		rc = gb_contracts_load(&contracts, contracts_json, clen,
				       "example.json", prices, err);
	if (!rc) {
		o.period_from = 1790812800LL; /* 2026-10 */
		o.period_to = 1793491200LL;
		o.contracts = contracts;
		rc = gb_rater_new(&rater, prices, &o, err);
	}
	if (!rc)
		rc = gb_csv_reader_new(&reader, "sample-usage.csv", err);
	if (!rc)
		rc = gb_csv_reader_feed(reader, csv, ulen, add_row_or_stop,
					 rater, err);
	if (!rc)
		rc = gb_csv_reader_finish(reader, add_row_or_stop, rater, err);
	if (!rc)
		rc = gb_rater_finish(rater, &set, err);
	if (!rc)
		rc = gb_invoice_write_json(set, sink, out, err);
	if (!rc)
		rc = gb_invoice_write_csv(set, sink, out, err);
	if (!rc)
		rc = gb_invoice_write_text(set, sink, out, err);
	if (!rc)
		rc = gb_invoice_write_focus(set, sink, out, err);
	gb_invoice_set_free(set);
	gb_csv_reader_free(reader);
	gb_rater_free(rater);
	gb_contracts_free(contracts);
	gb_prices_free(prices);
	return rc;
}

START_TEST(every_allocation_failure_is_clean)
{
	size_t plen, clen, ulen;
	char *p = slurp("../../pricing-tables/default.json", &plen);
	char *c = slurp("contracts/example.json", &clen);
	char *u = slurp("sample-usage.csv", &ulen);
	long total, n, failures = 0;
	written clean, got;
	gb_error err;

	gb_set_allocator(&counting);
	/* a clean run first: how many allocations there are */
	calls = live = 0;
	fail_at = -1;
	ck_assert_int_eq(run(p, plen, c, clen, u, ulen, &clean, &err), 0);
	ck_assert_uint_gt(clean.n, 1000);
	ck_assert_int_eq(live, 0);
	total = calls;
	ck_assert_int_gt(total, 50);
	for (n = 1; n <= total; n++) {
		int rc;

		calls = live = 0;
		fail_at = n;
		rc = run(p, plen, c, clen, u, ulen, &got, &err);
		ck_assert_msg(live == 0, "allocation %ld of %ld failed: %ld blocks leaked",
			      n, total, live);
		if (rc == 0) {
			/* absorbed (a hint left out): nothing may be lost */
			ck_assert_msg(got.n == clean.n && got.hash == clean.hash,
				      "allocation %ld: absorbed, but the output differs",
				      n);
			continue;
		}
		failures++;
		ck_assert_msg(rc == GB_ENOMEM || rc == GB_EABORT || err.code == GB_ENOMEM,
			      "allocation %ld: code %d (%s)", n, rc, err.message);
		ck_assert_msg(err.message[0] != '\0', "allocation %ld: no message (code %d, err.code %d)", n, rc, err.code);
	}
	gb_set_allocator(NULL);
	ck_assert_int_gt(failures, total / 2);
	printf("%ld allocations, each failed once: %ld runs ended in a clean error\n", total, failures);
	free(p);
	free(c);
	free(u);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("alloc");
	TCase *tc = tcase_create("fail_nth");
	SRunner *sr;
	int failed;

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, every_allocation_failure_is_clean);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
