/*
 * fuzz_prices.c - the pricing-table loader, gb_prices_load.
 *
 * A table is either refused with a located message (the file name and a
 * line or a JSON path) or loaded; a loaded table then rates the fixed
 * usage file for October 2026 and writes the invoices, so a table the
 * loader lets through cannot crash the rater either.
 */
#include "fuzz_common.h"

static int on_row(const gb_row *row, gb_error *err, void *payload)
{
	gb_outcome oc;

	(void)err;
	FUZZ_CHECK(gb_rater_add_row(payload, row, &oc) == 0, "add_row failed");
	return 0;
}

static void rate_fixed_usage(const gb_prices *prices, size_t size)
{
	gb_rater_options ro = GB_RATER_OPTIONS_INIT;
	gb_rater *rater = NULL;
	gb_csv_reader *reader = NULL;
	gb_invoice_set *set = NULL;
	gb_error err;
	int rc;

	ro.period_from = FUZZ_PERIOD_FROM;
	ro.period_to = FUZZ_PERIOD_TO;
	gb_error_clear(&err);
	rc = gb_rater_new(&rater, prices, &ro, &err);
	if (rc) {
		fuzz_check_error(rc, &err, "rater_new");
		return;
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
		fuzz_check_counts(gb_invoice_set_counts(set));
		fuzz_write(set, 1, (unsigned)(size % 2048));
	}
	gb_invoice_set_free(set);
	gb_rater_free(rater);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	gb_prices *prices = (gb_prices *)1;
	gb_error err;
	int rc;

	gb_error_clear(&err);
	rc = gb_prices_load(&prices, (const char *)data, size, "fuzz.json", &err);
	if (rc) {
		fuzz_check_error(rc, &err, "prices_load");
		FUZZ_CHECK(prices == NULL, "failed load left *out set");
		FUZZ_CHECK(strcmp(err.source, "fuzz.json") == 0,
			   "error names '%s', not the file", err.source);
		/* Syntax errors have a line; schema errors a JSON path, which
		 * is "" for the top-level object itself. */
		FUZZ_CHECK(rc != GB_ESYNTAX || err.line > 0 ||
			   fuzz_blank(data, size),
			   "syntax error without a line: %s", err.message);
		return 0;
	}
	FUZZ_CHECK(prices != NULL, "load succeeded without a table");
	FUZZ_CHECK(gb_prices_name(prices) && gb_prices_currency(prices),
		   "a loaded table without name or currency");
	FUZZ_CHECK(gb_prices_version_count(prices) > 0, "no versions");
	FUZZ_CHECK(gb_prices_minor_units(prices) <= 18, "minor_units %u",
		   gb_prices_minor_units(prices));
	rate_fixed_usage(prices, size);
	gb_prices_free(prices);
	return 0;
}
