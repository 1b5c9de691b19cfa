/*
 * fuzz_usage_csv.c - the whole pipeline: CSV bytes through the streaming
 * reader, row validation and the rater (fixed table, optionally the fixed
 * contracts), then the invoice writers.
 *
 * Input layout: byte 0 holds options, bytes 1-2 a split position; the rest
 * is the CSV file.  Each input runs twice, once fed in one call and once
 * cut at the split position (or byte by byte, when the option says so and
 * the file is small), and both runs must agree on everything: the error,
 * every row's line and outcome, the counts and the invoice bytes.  When
 * some customers are left out, the second run reads through the filter
 * (gb_csv_reader_set_filter with gb_rater_selects), so a filtered run
 * must agree with a whole-row one too.  Every
 * run must also conserve rows (read = billed + rejected + duplicates +
 * outside period + skipped) and give every failure a message.
 */
#include "fuzz_common.h"

/* Options in byte 0. */
#define OPT_CONTRACTS 0x01u  /* bill with the fixed contracts */
#define OPT_BYTEWISE 0x02u   /* second run feeds one byte at a time */
#define OPT_CUSTOMERS 0x04u  /* --customer r --customer t */
#define OPT_SHARD 0x08u      /* --shard 1/2 */
#define OPT_STOP 0x10u       /* the row callback stops at the third row */

#define BYTEWISE_MAX 2048

typedef struct result {
	int rc;
	gb_error err;
	uint64_t rows_hash;
	uint64_t rows;
	gb_counts counts;
	uint64_t invoice;
	int finished;
} result;

typedef struct ctx {
	gb_rater *rater;
	result *res;
	unsigned opts;
	uint64_t last_line;
} ctx;

static int on_row(const gb_row *row, gb_error *err, void *payload)
{
	ctx *c = payload;
	gb_outcome oc;
	gb_counts before, after;
	int rc;

	FUZZ_CHECK(row->line >= 2, "a data row on line %llu",
		   (unsigned long long)row->line);
	FUZZ_CHECK(row->line > c->last_line, "row line %llu after %llu",
		   (unsigned long long)row->line,
		   (unsigned long long)c->last_line);
	FUZZ_CHECK(strcmp(row->source, "fuzz.csv") == 0, "row source '%s'",
		   row->source);
	c->last_line = row->line;
	gb_rater_counts(c->rater, &before);
	memset(&oc, 0xA5, sizeof oc);
	rc = gb_rater_add_row(c->rater, row, &oc);
	FUZZ_CHECK(rc == 0, "add_row returned %d", rc);
	gb_rater_counts(c->rater, &after);
	FUZZ_CHECK(after.read == before.read + 1, "read went %llu -> %llu",
		   (unsigned long long)before.read,
		   (unsigned long long)after.read);
	fuzz_check_counts(&after);
	FUZZ_CHECK(oc.state <= GB_STATE_SKIPPED, "state %d", (int)oc.state);
	if (oc.state == GB_STATE_REJECTED) {
		FUZZ_CHECK(oc.reason != GB_REASON_NONE, "rejected without reason");
		FUZZ_CHECK(memchr(oc.message, '\0', sizeof oc.message) &&
			   oc.message[0], "reject without message");
		FUZZ_CHECK(strcmp(gb_reason_code(oc.reason), "unknown") != 0,
			   "reason %d has no code", (int)oc.reason);
	} else {
		FUZZ_CHECK(oc.reason == GB_REASON_NONE, "state %d with reason %d",
			   (int)oc.state, (int)oc.reason);
	}
	c->res->rows++;
	c->res->rows_hash = (c->res->rows_hash ^ row->line) * 0x100000001b3ull;
	c->res->rows_hash = (c->res->rows_hash ^
			     ((uint64_t)oc.state << 8 | (uint64_t)oc.reason)) *
			    0x100000001b3ull;
	if ((c->opts & OPT_STOP) && c->res->rows == 3) {
		gb_error_clear(err);
		snprintf(err->message, sizeof err->message, "stop");
		err->code = GB_EABORT;
		return 1;
	}
	return 0;
}

static const gb_contracts *fixed_contracts(void)
{
	static gb_contracts *contracts;
	gb_error err;

	if (!contracts) {
		gb_error_clear(&err);
		if (gb_contracts_load(&contracts, fuzz_contracts_json,
				      sizeof fuzz_contracts_json - 1,
				      "fuzz-contracts.json", fuzz_fixed_prices(),
				      &err) != 0) {
			fprintf(stderr, "fixed contracts: %s at %s\n",
				err.message, err.path);
			abort();
		}
	}
	return contracts;
}

static int keep(const gb_field *value, void *payload)
{
	return gb_rater_selects(payload, value->ptr, value->len);
}

/* One run; pieces: 0 = one call, 1 = cut at split, 2 = byte by byte. */
static void run(result *res, const uint8_t *csv, size_t n, unsigned opts,
		size_t split, int pieces)
{
	static const char *const customers[] = { "r", "t" };
	gb_rater_options ro = GB_RATER_OPTIONS_INIT;
	gb_csv_reader *reader = NULL;
	gb_invoice_set *set = NULL;
	gb_counts counts;
	ctx c;
	size_t i;
	int rc;

	memset(res, 0, sizeof *res);
	memset(&c, 0, sizeof c);
	c.res = res;
	c.opts = opts;
	ro.period_from = FUZZ_PERIOD_FROM;
	ro.period_to = FUZZ_PERIOD_TO;
	if (opts & OPT_CONTRACTS)
		ro.contracts = fixed_contracts();
	if (opts & OPT_CUSTOMERS) {
		ro.customers = customers;
		ro.ncustomers = 2;
	}
	if (opts & OPT_SHARD) {
		ro.shard_index = 1;
		ro.shard_count = 2;
	}
	gb_error_clear(&res->err);
	rc = gb_rater_new(&c.rater, fuzz_fixed_prices(), &ro, &res->err);
	FUZZ_CHECK(rc == 0, "rater_new: %s", res->err.message);
	rc = gb_csv_reader_new(&reader, "fuzz.csv", &res->err);
	FUZZ_CHECK(rc == 0, "reader_new: %s", res->err.message);
	if (pieces != 0 && (opts & (OPT_CUSTOMERS | OPT_SHARD)))
		FUZZ_CHECK(gb_csv_reader_set_filter(reader, GB_COL_CUSTOMER, keep,
						    c.rater) == 0, "set_filter");

	if (pieces == 0) {
		rc = gb_csv_reader_feed(reader, csv, n, on_row, &c, &res->err);
	} else if (pieces == 1) {
		rc = gb_csv_reader_feed(reader, csv, split, on_row, &c, &res->err);
		if (rc == 0)
			rc = gb_csv_reader_feed(reader, csv + split, n - split,
						on_row, &c, &res->err);
	} else {
		for (i = 0, rc = 0; i < n && rc == 0; i++)
			rc = gb_csv_reader_feed(reader, csv + i, 1, on_row, &c,
						&res->err);
	}
	if (rc == 0)
		rc = gb_csv_reader_finish(reader, on_row, &c, &res->err);
	res->rc = rc;
	if (rc) {
		fuzz_check_error(rc, &res->err, "CSV reader");
		if (opts & OPT_STOP && rc == GB_EABORT)
			FUZZ_CHECK(strcmp(res->err.message, "stop") == 0,
				   "callback's error replaced by '%s'",
				   res->err.message);
		else
			FUZZ_CHECK(strcmp(res->err.source, "fuzz.csv") == 0,
				   "error source '%s'", res->err.source);
	} else {
		/* After finish the reader refuses more input. */
		gb_error e2;

		gb_error_clear(&e2);
		FUZZ_CHECK(gb_csv_reader_feed(reader, "x", 1, on_row, &c, &e2) ==
			   GB_EINVAL, "feed after finish accepted");
	}
	FUZZ_CHECK(gb_csv_reader_rows(reader) == res->rows,
		   "reader counted %llu rows, callback saw %llu",
		   (unsigned long long)gb_csv_reader_rows(reader),
		   (unsigned long long)res->rows);
	gb_rater_counts(c.rater, &counts);
	FUZZ_CHECK(counts.read == res->rows, "rater read %llu of %llu rows",
		   (unsigned long long)counts.read,
		   (unsigned long long)res->rows);
	gb_csv_reader_free(reader);

	/* The tool bills only a clean read; the library must cope either way. */
	{
		gb_error ferr;

		gb_error_clear(&ferr);
		rc = gb_rater_finish(c.rater, &set, &ferr);
		if (rc) {
			fuzz_check_error(rc, &ferr, "rater_finish");
		} else {
			const gb_counts *sc = gb_invoice_set_counts(set);

			res->finished = 1;
			fuzz_check_counts(sc);
			FUZZ_CHECK(sc->read == res->rows, "set read %llu",
				   (unsigned long long)sc->read);
			res->counts = *sc;
			res->invoice = fuzz_write(set, pieces == 0,
						  (unsigned)(n * 7 % 4096));
		}
	}
	gb_invoice_set_free(set);
	gb_rater_free(c.rater);
}

static void same(const result *a, const result *b, int pieces, size_t split)
{
	FUZZ_CHECK(a->rc == b->rc, "split %zu (mode %d): rc %d vs %d (%s / %s)",
		   split, pieces, a->rc, b->rc, a->err.message, b->err.message);
	FUZZ_CHECK(a->rc == 0 || (strcmp(a->err.message, b->err.message) == 0 &&
				  a->err.line == b->err.line),
		   "split %zu (mode %d): error '%s' line %llu vs '%s' line %llu",
		   split, pieces, a->err.message, (unsigned long long)a->err.line,
		   b->err.message, (unsigned long long)b->err.line);
	FUZZ_CHECK(a->rows == b->rows && a->rows_hash == b->rows_hash,
		   "split %zu (mode %d): rows %llu vs %llu or outcomes differ",
		   split, pieces, (unsigned long long)a->rows,
		   (unsigned long long)b->rows);
	FUZZ_CHECK(a->finished == b->finished &&
		   memcmp(&a->counts, &b->counts, sizeof a->counts) == 0 &&
		   a->invoice == b->invoice,
		   "split %zu (mode %d): counts or invoice differ", split, pieces);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static result whole, cut;
	unsigned opts;
	size_t split, n;
	const uint8_t *csv;
	int pieces;

	if (size < 3)
		return 0;
	opts = data[0];
	csv = data + 3;
	n = size - 3;
	split = n ? ((size_t)data[1] << 8 | data[2]) % (n + 1) : 0;
	pieces = (opts & OPT_BYTEWISE) && n <= BYTEWISE_MAX ? 2 : 1;

	run(&whole, csv, n, opts, 0, 0);
	run(&cut, csv, n, opts, split, pieces);
	same(&whole, &cut, pieces, split);
	return 0;
}
