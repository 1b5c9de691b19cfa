/*
 * diff.c - gpubill diff: the price-table regression check.  The same usage
 * is rated under an old and a new pricing table in one pass (two raters),
 * and the invoices and the tables' rates are compared.
 */
#define _POSIX_C_SOURCE 200809L
#include "rate.h"

#include <stdlib.h>
#include <string.h>

static const char diff_help[] =
"Usage: gpubill diff [OPTIONS] (--period YYYY-MM | --from TS --to TS)\n"
"                    --usage FILE... OLD_PRICES NEW_PRICES\n"
"\n"
"Rate the same usage under two pricing tables and compare: per-customer\n"
"totals (old, new, delta, delta %), the lines that changed, and the rate\n"
"changes between the two tables during the period.\n"
"\n"
"  -u, --usage FILE      usage log (CSV; '-' reads standard input); repeatable\n"
CMD_HELP_CONTRACTS
CMD_HELP_PERIOD
"      --customer ID     only this customer (repeatable)\n"
"      --max-change LIMIT  fail (status 1) when a customer's total or the\n"
"                        grand total moves by more than LIMIT: a percentage\n"
"                        (5%, 2.5%) or an amount in the currency (100.00)\n"
"  -f, --format FMT      text (default), markdown or json\n"
"  -o, --output FILE     write here (atomically) instead of standard output\n"
"  -q, --quiet           no summary on standard error\n"
"  -h, --help            show this help\n"
"\n"
"Exit status: 0 within the limit, 1 a change past --max-change or rows that\n"
"only the new table rejects, 2 usage error, 3 bad input (nothing written),\n"
"4 I/O error.  See gpubill(1).\n";

enum { FMT_TEXT, FMT_MARKDOWN, FMT_JSON };
static const char *const formats[] = { "text", "markdown", "json", NULL };

enum { OPT_MAX_CHANGE = CMD_OPT_FIRST_FREE };

#define SHOWN_MAX 10
#define CONTRACTS_MAX_BYTES (64u * 1024u * 1024u)

/* Each row's two outcomes, compared as they come (rater 0, then 1). */
typedef struct row_pairs {
	gb_state old_state;
	uint64_t new_only;    /* rejected under the new table only */
	uint64_t old_only;    /* rejected under the old table only */
} row_pairs;

static int on_outcome(const gb_row *row, const gb_outcome *oc, size_t which,
		      void *payload)
{
	row_pairs *p = payload;

	if (which == 0) {
		p->old_state = oc->state;
		return 0;
	}
	if (oc->state == GB_STATE_REJECTED && p->old_state != GB_STATE_REJECTED) {
		if (p->new_only++ < SHOWN_MAX)
			cmd_error("%s:%llu: rejected under the new prices only (%s): %s",
				  row->source, (unsigned long long)row->line,
				  gb_reason_code(oc->reason), oc->message);
	} else if (oc->state != GB_STATE_REJECTED &&
		   p->old_state == GB_STATE_REJECTED) {
		p->old_only++;
	}
	return 0;
}

/*
 * The contracts, checked against both tables: read once (it may be
 * standard input), loaded once per table.
 */
static int load_contracts(const char *path, const gb_prices *old_prices,
			  const gb_prices *new_prices, const char *old_path,
			  const char *new_path, gb_contracts **old_out,
			  gb_contracts **new_out)
{
	const gb_prices *tables[2] = { old_prices, new_prices };
	const char *names[2] = { old_path, new_path };
	gb_contracts **outs[2] = { old_out, new_out };
	gb_error err;
	char *data;
	size_t len;
	int i, rc = cmd_read_file(path, CONTRACTS_MAX_BYTES, &data, &len);

	if (rc)
		return rc;
	for (i = 0; i < 2; i++) {
		gb_error_clear(&err);
		if (gb_contracts_load(outs[i], data, len, path, tables[i], &err) != 0) {
			cmd_lib_error(&err);
			cmd_error("%s: the contracts do not fit the %s pricing table %s",
				  path, i ? "new" : "old", names[i]);
			free(data);
			return EXIT_INPUT;
		}
	}
	free(data);
	return 0;
}

/* At most one input may be standard input. */
static int count_stdin(const char *const *paths, size_t n)
{
	size_t i;
	int k = 0;

	for (i = 0; i < n; i++)
		k += paths[i] && strcmp(paths[i], "-") == 0;
	return k;
}

static void print_findings(const gb_diff *d, const row_pairs *rp,
			   const char *limit)
{
	size_t k = gb_diff_customers_exceeded(d);
	int total = gb_diff_total_exceeded(d);

	if (k && total)
		cmd_error("diff: %zu customer%s and the total are past --max-change %s",
			  k, k == 1 ? "" : "s", limit);
	else if (k)
		cmd_error("diff: %zu customer%s past --max-change %s", k,
			  k == 1 ? " is" : "s are", limit);
	else if (total)
		cmd_error("diff: the total is past --max-change %s", limit);
	if (rp->new_only)
		cmd_error("diff: %llu row%s billed under the old prices %s rejected under the new ones",
			  (unsigned long long)rp->new_only,
			  rp->new_only == 1 ? "" : "s",
			  rp->new_only == 1 ? "is" : "are");
}

int cmd_diff(int argc, char **argv)
{
	static const struct option longopts[] = {
		CMD_OPTIONS_CONTRACTS,
		CMD_OPTIONS_PERIOD,
		{ "customer", required_argument, NULL, CMD_OPT_CUSTOMER },
		{ "usage", required_argument, NULL, 'u' },
		{ "max-change", required_argument, NULL, OPT_MAX_CHANGE },
		{ "format", required_argument, NULL, 'f' },
		{ "output", required_argument, NULL, 'o' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *output = NULL, *max_change = NULL, *old_path, *new_path;
	gb_diff_options dopts = GB_DIFF_OPTIONS_INIT;
	gb_prices *old_prices = NULL, *new_prices = NULL;
	gb_contracts *old_contracts = NULL, *new_contracts = NULL;
	gb_invoice_set *sets[2] = { NULL, NULL };
	gb_rater_options ropts;
	gb_diff *diff = NULL;
	char **usage = NULL;
	size_t nusage = 0;
	row_pairs rp;
	cmd_inputs in;
	cmd_output out;
	cmd_feed feed;
	gb_error err;
	int c, fmt = FMT_TEXT, status = 0, rc, quiet = 0;

	cmd_inputs_init(&in, "diff");
	memset(&out, 0, sizeof out);
	memset(&feed, 0, sizeof feed);
	memset(&rp, 0, sizeof rp);
	optind = 1;
	while ((c = getopt_long(argc, argv, "c:u:f:o:qh", longopts, NULL)) != -1) {
		rc = cmd_inputs_option(&in, c, optarg);
		if (rc > 0) {
			status = rc;
			goto done;
		}
		if (rc == 0)
			continue;
		switch (c) {
		case 'u': {
			char **p = realloc(usage, (nusage + 1) * sizeof *p);

			if (!p) {
				cmd_error("out of memory");
				status = EXIT_IO;
				goto done;
			}
			usage = p;
			usage[nusage++] = optarg;
			break;
		}
		case OPT_MAX_CHANGE: max_change = optarg; break;
		case 'o': output = optarg; break;
		case 'q': quiet = 1; break;
		case 'f':
			fmt = cmd_pick(optarg, formats);
			if (fmt < 0) {
				status = cmd_usage_error("diff", "unknown --format '%s' (text, markdown or json)", optarg);
				goto done;
			}
			break;
		case 'h':
			fputs(diff_help, stdout);
			goto done;
		default:
			status = cmd_usage_error("diff", "unknown or incomplete option");
			goto done;
		}
	}
	if (argc - optind != 2) {
		status = cmd_usage_error("diff", argc - optind < 2
			? "give the old and the new pricing table: gpubill diff [OPTIONS] OLD_PRICES NEW_PRICES"
			: "too many arguments: usage logs are given with --usage FILE");
		goto done;
	}
	old_path = argv[optind];
	new_path = argv[optind + 1];
	if (nusage == 0) {
		status = cmd_usage_error("diff", "no usage file given: --usage FILE (use '-' for standard input)");
		goto done;
	}
	{
		const char *inputs[3] = { old_path, new_path, in.contracts_path };

		if (count_stdin(inputs, 3) + count_stdin((const char *const *)usage, nusage) > 1) {
			status = cmd_usage_error("diff", "only one input can be standard input ('-')");
			goto done;
		}
	}
	gb_error_clear(&err);
	if (max_change && gb_diff_limit_check(max_change, GB_DECIMAL_MAX_FRACTION,
					      NULL, &err) != 0) {
		status = cmd_usage_error("diff", "%s", err.message);
		goto done;
	}
	status = cmd_inputs_load_period(&in);
	if (status == 0)
		status = cmd_load_prices(old_path, &old_prices);
	if (status == 0)
		status = cmd_load_prices(new_path, &new_prices);
	if (status)
		goto done;
	if (strcmp(gb_prices_currency(old_prices), gb_prices_currency(new_prices)) != 0 ||
	    gb_prices_minor_units(old_prices) != gb_prices_minor_units(new_prices)) {
		cmd_error("diff: %s bills in %s with %u minor units, %s in %s with %u: "
			  "the tables must have the same currency and minor units",
			  old_path, gb_prices_currency(old_prices),
			  gb_prices_minor_units(old_prices), new_path,
			  gb_prices_currency(new_prices),
			  gb_prices_minor_units(new_prices));
		status = EXIT_INPUT;
		goto done;
	}
	gb_error_clear(&err);
	if (max_change && gb_diff_limit_check(max_change,
					      gb_prices_minor_units(old_prices),
					      NULL, &err) != 0) {
		status = cmd_usage_error("diff", "%s (%s)", err.message,
					 gb_prices_currency(old_prices));
		goto done;
	}
	if (in.contracts_path) {
		status = load_contracts(in.contracts_path, old_prices, new_prices,
					old_path, new_path, &old_contracts,
					&new_contracts);
		if (status)
			goto done;
	}

	ropts = in.opts;
	ropts.contracts = old_contracts;
	gb_error_clear(&err);
	rc = gb_rater_new(&feed.rater[0], old_prices, &ropts, &err);
	if (rc == 0) {
		ropts.contracts = new_contracts;
		rc = gb_rater_new(&feed.rater[1], new_prices, &ropts, &err);
	}
	if (rc) {
		cmd_lib_error(&err);
		status = cmd_exit_for(err.code);
		goto done;
	}
	feed.nraters = 2;
	feed.on_outcome = on_outcome;
	feed.payload = &rp;
	feed.quiet = quiet;
	status = cmd_feed_run(&feed, &in, usage, (int)nusage, sets);
	if (status)
		goto done;
	dopts.max_change = max_change;
	dopts.rejected_new_only = rp.new_only;
	dopts.rejected_old_only = rp.old_only;
	gb_error_clear(&err);
	if (gb_diff_new(&diff, sets[0], sets[1], old_prices, new_prices, &dopts,
			&err) != 0) {
		cmd_lib_error(&err);
		status = cmd_exit_for(err.code);
		goto done;
	}
	status = cmd_output_open(&out, output);
	if (status)
		goto done;
	gb_error_clear(&err);
	rc = fmt == FMT_JSON ? gb_diff_write_json(diff, cmd_output_write, &out, &err)
	   : fmt == FMT_MARKDOWN ? gb_diff_write_markdown(diff, cmd_output_write, &out, &err)
	   : gb_diff_write_text(diff, cmd_output_write, &out, &err);
	if (rc) {
		status = cmd_lib_fail(rc, &err);
		goto done;
	}
	status = cmd_feed_commit(&feed, &out);
	if (status)
		goto done;
	{
		uint64_t rejected = gb_invoice_set_counts(sets[0])->rejected;

		if (rejected > SHOWN_MAX)
			cmd_error("... and %llu more rows rejected under the old prices",
				  (unsigned long long)(rejected - SHOWN_MAX));
		if (rp.new_only > SHOWN_MAX)
			cmd_error("... and %llu more rows rejected under the new prices only",
				  (unsigned long long)(rp.new_only - SHOWN_MAX));
	}
	if (!quiet) {
		cmd_print_summary(sets[0], "old prices");
		cmd_print_summary(sets[1], "new prices");
		print_findings(diff, &rp, max_change);
	}
	status = gb_diff_customers_exceeded(diff) || gb_diff_total_exceeded(diff) ||
		 rp.new_only ? EXIT_FINDINGS : EXIT_CLEAN;
done:
	if (status && status != EXIT_FINDINGS)
		cmd_output_abort(&out);
	/* diff has no rejects file: "failed" only leaves out feed's note
	 * pointing to --rejects; ours is printed above. */
	cmd_feed_close(&feed, 1);
	gb_diff_free(diff);
	gb_invoice_set_free(sets[0]);
	gb_invoice_set_free(sets[1]);
	gb_rater_free(feed.rater[0]);
	gb_rater_free(feed.rater[1]);
	gb_contracts_free(old_contracts);
	gb_contracts_free(new_contracts);
	gb_prices_free(old_prices);
	gb_prices_free(new_prices);
	cmd_inputs_free(&in);
	free(usage);
	return status;
}
