/*
 * fuzz_prices.c - the pricing-table loader, gb_prices_load.
 *
 * A table is either refused with a located message (the file name and a
 * line or a JSON path) or loaded; a loaded table then rates the fixed
 * usage file for October 2026 and writes the invoices, so a table the
 * loader lets through cannot crash the rater either.
 *
 * The same bytes then go through gpubill validate's collect mode
 * (gb_validator_add_prices), which reads past every problem: it must
 * agree with the normal load (no error for a table that loads; the normal
 * load's error among its findings, at the same path, for one that does
 * not), give every finding a code, a message and, in a JSON document, a
 * line, in order, and its writers must work.
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

/*
 * Collect mode on the same bytes; rc and err are the normal load's.
 */
static void check_collect(const uint8_t *data, size_t size, int rc,
			  const gb_error *err)
{
	gb_validator *v = NULL;
	fuzz_sink sink = { 0, 0 };
	gb_error verr;
	size_t i, n;
	int vrc, seen = 0;

	FUZZ_CHECK(gb_validator_new(&v, &verr) == 0, "validator_new");
	vrc = gb_validator_add_prices(v, (const char *)data, size, "fuzz.json",
				      &verr);
	FUZZ_CHECK(vrc == 0 || vrc == GB_ESYNTAX, "add_prices returned %d: %s",
		   vrc, verr.message);
	FUZZ_CHECK((vrc == GB_ESYNTAX) == (rc == GB_ESYNTAX),
		   "collect mode says %d, the normal load %d", vrc, rc);
	n = gb_validator_count(v);
	if (rc == 0)
		FUZZ_CHECK(gb_validator_errors(v) == 0,
			   "a table that loads has %zu errors, the first: %s: %s",
			   gb_validator_errors(v), gb_validator_get(v, 0)->path,
			   gb_validator_get(v, 0)->message);
	else
		FUZZ_CHECK(gb_validator_errors(v) > 0, "no error for a table the normal load refuses: %s",
			   err->message);
	for (i = 0; i < n; i++) {
		const gb_finding *f = gb_validator_get(v, i);

		FUZZ_CHECK(f->code[0] && f->message[0], "finding %zu without code or message", i);
		FUZZ_CHECK(strcmp(f->source, "fuzz.json") == 0, "finding names '%s'", f->source);
		FUZZ_CHECK(f->line > 0 || strcmp(f->code, "syntax_error") == 0,
			   "finding %zu (%s at '%s') has no line", i, f->code, f->path);
		if (i > 0) {
			const gb_finding *e = gb_validator_get(v, i - 1);

			FUZZ_CHECK(e->line < f->line ||
				   (e->line == f->line && e->column <= f->column),
				   "findings out of order at %zu", i);
		}
		/* The normal load's error, found again at the same place. */
		if (rc && f->severity == GB_SEVERITY_ERROR &&
		    strcmp(f->path, err->path) == 0 &&
		    strncmp(err->message, f->message, strlen(f->message)) == 0)
			seen = 1;
	}
	FUZZ_CHECK(!rc || rc == GB_ENOMEM || seen,
		   "the normal load's error '%s: %s' is not among the %zu findings",
		   err->path, err->message, n);
	FUZZ_CHECK(gb_validator_write_text(v, fuzz_sink_write, &sink, &verr) == 0, "write_text");
	FUZZ_CHECK(gb_validator_write_csv(v, fuzz_sink_write, &sink, &verr) == 0, "write_csv");
	FUZZ_CHECK(gb_validator_write_json(v, fuzz_sink_write, &sink, &verr) == 0, "write_json");
	gb_validator_free(v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	gb_prices *prices = (gb_prices *)1;
	gb_error err;
	int rc;

	gb_error_clear(&err);
	rc = gb_prices_load(&prices, (const char *)data, size, "fuzz.json", &err);
	check_collect(data, size, rc, &err);
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
