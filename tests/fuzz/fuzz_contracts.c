/*
 * fuzz_contracts.c - the contracts loader, gb_contracts_load, against the
 * fixed pricing table.
 *
 * Contracts are either refused with a located message or loaded; loaded
 * contracts then bill the fixed usage file for October 2026 (reservation
 * hours, coverage, discounts, minimum spend, credits) and the invoices
 * are written.
 */
#include "fuzz_common.h"

static int on_row(const gb_row *row, gb_error *err, void *payload)
{
	gb_outcome oc;

	(void)err;
	FUZZ_CHECK(gb_rater_add_row(payload, row, &oc) == 0, "add_row failed");
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	gb_contracts *contracts = (gb_contracts *)1;
	gb_rater_options ro = GB_RATER_OPTIONS_INIT;
	gb_rater *rater = NULL;
	gb_csv_reader *reader = NULL;
	gb_invoice_set *set = NULL;
	gb_error err;
	int rc;

	gb_error_clear(&err);
	rc = gb_contracts_load(&contracts, (const char *)data, size,
			       "fuzz.json", fuzz_fixed_prices(), &err);
	if (rc) {
		fuzz_check_error(rc, &err, "contracts_load");
		FUZZ_CHECK(contracts == NULL, "failed load left *out set");
		FUZZ_CHECK(strcmp(err.source, "fuzz.json") == 0,
			   "error names '%s', not the file", err.source);
		/* Syntax errors have a line; schema errors a JSON path, which
		 * is "" for the top-level object itself. */
		FUZZ_CHECK(rc != GB_ESYNTAX || err.line > 0 ||
			   fuzz_blank(data, size),
			   "syntax error without a line: %s", err.message);
		return 0;
	}
	FUZZ_CHECK(contracts != NULL, "load succeeded without contracts");
	(void)gb_contracts_count(contracts);

	ro.period_from = FUZZ_PERIOD_FROM;
	ro.period_to = FUZZ_PERIOD_TO;
	ro.contracts = contracts;
	rc = gb_rater_new(&rater, fuzz_fixed_prices(), &ro, &err);
	if (rc) {
		fuzz_check_error(rc, &err, "rater_new");
		gb_contracts_free(contracts);
		return 0;
	}
	FUZZ_CHECK(gb_csv_reader_new(&reader, "fixed.csv", &err) == 0, "reader");
	rc = gb_csv_reader_feed(reader, fuzz_usage_csv, sizeof fuzz_usage_csv - 1,
				on_row, rater, &err);
	FUZZ_CHECK(rc == 0, "fixed usage: %s", err.message);
	rc = gb_csv_reader_finish(reader, on_row, rater, &err);
	FUZZ_CHECK(rc == 0, "fixed usage: %s", err.message);
	gb_csv_reader_free(reader);
	rc = gb_rater_finish(rater, &set, &err);
	if (rc) {
		fuzz_check_error(rc, &err, "rater_finish");
	} else {
		size_t i;

		fuzz_check_counts(gb_invoice_set_counts(set));
		/* Credits never take a total below zero. */
		for (i = 0; i < gb_invoice_set_count(set); i++)
			FUZZ_CHECK(mpz_sgn(gb_invoice_set_get(set, i)->total) >= 0,
				   "invoice %zu has a negative total", i);
		fuzz_write(set, 1, (unsigned)(size % 2048));
	}
	gb_invoice_set_free(set);
	gb_rater_free(rater);
	gb_contracts_free(contracts);
	return 0;
}
