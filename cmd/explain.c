/*
 * explain.c - gpubill explain: how one record was priced, down to its
 * share of the invoice line it landed in.
 */
#define _POSIX_C_SOURCE 200809L
#include "rate.h"

#include <stdlib.h>
#include <string.h>

static const char explain_help[] =
"Usage: gpubill explain --id RECORD_ID [--id ID]... [OPTIONS]\n"
"                       (--period YYYY-MM | --from TS --to TS) USAGE...\n"
"\n"
"Rate usage logs exactly as 'gpubill invoice' does and show, for each\n"
"record id asked for, how it was priced: its state (billed, rejected and\n"
"why, duplicate, outside period), its billable interval, the pieces it was\n"
"cut into (price versions, spot price changes, reserved hours), the invoice\n"
"line each piece landed in and the record's exact share of that line.\n"
"\n"
"      --id ID           the record to explain (repeatable)\n"
CMD_HELP_PRICES
CMD_HELP_CONTRACTS
CMD_HELP_PERIOD
CMD_HELP_SELECT
"  -f, --format FMT      text (default), csv or json\n"
"  -o, --output FILE     write here (atomically) instead of standard output\n"
"  -q, --quiet           no summary on standard error\n"
"  -h, --help            show this help\n"
"\n"
"Exit status: 0 every id found, 1 some id matched no row, 2 usage error,\n"
"3 bad input (nothing written), 4 I/O error.  See gpubill(1).\n";

enum { FMT_TEXT, FMT_CSV, FMT_JSON };
static const char *const formats[] = { "text", "csv", "json", NULL };
enum { OPT_ID = CMD_OPT_FIRST_FREE };

int cmd_explain(int argc, char **argv)
{
	static const struct option longopts[] = {
		CMD_OPTIONS_PRICES,
		CMD_OPTIONS_CONTRACTS,
		CMD_OPTIONS_PERIOD,
		CMD_OPTIONS_SELECT,
		{ "id", required_argument, NULL, OPT_ID },
		{ "format", required_argument, NULL, 'f' },
		{ "output", required_argument, NULL, 'o' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *output = NULL;
	const char **ids = NULL;
	size_t nids = 0;
	gb_invoice_set *set = NULL;
	gb_explain *ex = NULL;
	cmd_inputs in;
	cmd_output out;
	cmd_feed feed;
	gb_error err;
	int c, fmt = FMT_TEXT, status = 0, rc;

	cmd_inputs_init(&in, "explain");
	memset(&out, 0, sizeof out);
	memset(&feed, 0, sizeof feed);
	optind = 1;
	while ((c = getopt_long(argc, argv, "p:c:f:o:qh", longopts, NULL)) != -1) {
		rc = cmd_inputs_option(&in, c, optarg);
		if (rc > 0) {
			status = rc;
			goto done;
		}
		if (rc == 0)
			continue;
		switch (c) {
		case OPT_ID: {
			const char **p = realloc(ids, (nids + 1) * sizeof *p);

			if (!p) {
				cmd_error("out of memory");
				status = EXIT_IO;
				goto done;
			}
			ids = p;
			ids[nids++] = optarg;
			break;
		}
		case 'o': output = optarg; break;
		case 'q': feed.quiet = 1; break;
		case 'f':
			fmt = cmd_pick(optarg, formats);
			if (fmt < 0) {
				status = cmd_usage_error("explain", "unknown --format '%s' (text, csv or json)", optarg);
				goto done;
			}
			break;
		case 'h':
			fputs(explain_help, stdout);
			goto done;
		default:
			status = cmd_usage_error("explain", "unknown or incomplete option");
			goto done;
		}
	}
	if (!nids) {
		status = cmd_usage_error("explain", "no --id given: which record should be explained?");
		goto done;
	}
	if (optind >= argc) {
		status = cmd_usage_error("explain", "no usage file given (use '-' for standard input)");
		goto done;
	}
	status = cmd_inputs_load(&in);
	if (status)
		goto done;
	gb_error_clear(&err);
	if (gb_rater_new(&feed.rater[0], in.prices, &in.opts, &err) != 0 ||
	    gb_explain_new(&ex, feed.rater[0], ids, nids, &err) != 0) {
		cmd_lib_error(&err);
		status = cmd_exit_for(err.code);
		goto done;
	}
	feed.nraters = 1;
	feed.full_rows = 1;	/* a skipped row is explained too */
	status = cmd_feed_run(&feed, &in, argv + optind, argc - optind, &set);
	if (status)
		goto done;
	status = cmd_output_open(&out, output);
	if (status)
		goto done;
	gb_error_clear(&err);
	rc = fmt == FMT_JSON ? gb_explain_write_json(ex, set, cmd_output_write, &out, &err)
	   : fmt == FMT_CSV ? gb_explain_write_csv(ex, set, cmd_output_write, &out, &err)
	   : gb_explain_write_text(ex, set, cmd_output_write, &out, &err);
	if (rc) {
		status = cmd_lib_fail(rc, &err);
		goto done;
	}
	status = cmd_output_commit(&out);
	if (status)
		goto done;
	if (!feed.quiet)
		cmd_print_summary(set, NULL);
	if (gb_explain_missing(ex)) {
		cmd_error("%zu of the ids asked for matched no row", gb_explain_missing(ex));
		status = EXIT_FINDINGS;
	}
done:
	if (status && status != EXIT_FINDINGS)
		cmd_output_abort(&out);
	cmd_feed_close(&feed, 1);
	gb_invoice_set_free(set);
	gb_rater_free(feed.rater[0]);
	gb_explain_free(ex);
	cmd_inputs_free(&in);
	free(ids);
	return status;
}
