/*
 * invoice.c - gpubill invoice: usage logs in, invoices out.
 */
#define _POSIX_C_SOURCE 200809L
#include "rate.h"

#include <stdlib.h>
#include <string.h>

static const char invoice_help[] =
"Usage: gpubill invoice [OPTIONS] (--period YYYY-MM | --from TS --to TS) USAGE...\n"
"\n"
"Rate usage logs (CSV; '-' reads standard input) against a pricing table\n"
"and write one invoice per customer.\n"
"\n"
CMD_HELP_PRICES
CMD_HELP_CONTRACTS
CMD_HELP_PERIOD
"  -f, --format FMT      text (default), csv, json or focus (FinOps FOCUS\n"
"                        1.0 cost and usage rows, CSV)\n"
"  -o, --output FILE     write here (atomically) instead of standard output\n"
"      --rejects FILE    write rejected rows as CSV: line,id,reason,message,file\n"
"      --customer ID     bill only this customer (repeatable)\n"
"      --shard K/N       bill only customers in shard K of N\n"
"      --max-rejects N   stop with status 3 once more than N rows are rejected\n"
"  -q, --quiet           no summary on standard error\n"
"  -h, --help            show this help\n"
"\n"
"Exit status: 0 clean, 1 some rows rejected, 2 usage error, 3 bad input\n"
"(nothing written), 4 I/O error.  See gpubill(1).\n";

static const char *const formats[] = { "text", "csv", "json", "focus", NULL };
static const gb_invoice_format format_of[] = {
	GB_INVOICE_TEXT, GB_INVOICE_CSV, GB_INVOICE_JSON, GB_INVOICE_FOCUS
};

int cmd_invoice(int argc, char **argv)
{
	static const struct option longopts[] = {
		CMD_OPTIONS_PRICES,
		CMD_OPTIONS_CONTRACTS,
		CMD_OPTIONS_PERIOD,
		CMD_OPTIONS_SELECT,
		CMD_OPTIONS_REJECTS,
		{ "format", required_argument, NULL, 'f' },
		{ "output", required_argument, NULL, 'o' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *output = NULL;
	gb_invoice_set *set = NULL;
	gb_invoice_writer *writer = NULL;
	cmd_inputs in;
	cmd_output out;
	cmd_feed feed;
	gb_error err;
	int c, fmt = 0, status = 0, rc;

	cmd_inputs_init(&in, "invoice");
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
		case 'o': output = optarg; break;
		case 'q': feed.quiet = 1; break;
		case 'f':
			fmt = cmd_pick(optarg, formats);
			if (fmt < 0) {
				status = cmd_usage_error("invoice", "unknown --format '%s' (text, csv, json or focus)", optarg);
				goto done;
			}
			break;
		case 'h':
			fputs(invoice_help, stdout);
			goto done;
		default:
			status = cmd_usage_error("invoice", "unknown or incomplete option");
			goto done;
		}
	}
	if (optind >= argc) {
		status = cmd_usage_error("invoice", "no usage file given (use '-' for standard input)");
		goto done;
	}
	status = cmd_inputs_load(&in);
	if (status)
		goto done;
	gb_error_clear(&err);
	if (gb_rater_new(&feed.rater[0], in.prices, &in.opts, &err) != 0) {
		cmd_lib_error(&err);
		status = cmd_exit_for(err.code);
		goto done;
	}
	feed.nraters = 1;
	status = cmd_feed_read(&feed, &in, argv + optind, argc - optind);
	if (status)
		goto done;
	/* Each invoice is written as soon as it is built, and dropped: memory
	 * does not grow with the number of customers.  A regular -o file
	 * still goes through a temporary, so a failure part-way leaves
	 * nothing behind; standard output may hold the first invoices. */
	status = cmd_output_open(&out, output);
	if (status)
		goto done;
	gb_error_clear(&err);
	rc = gb_invoice_writer_new(&writer, format_of[fmt], cmd_output_write,
				   &out, &err);
	if (rc == 0)
		rc = gb_rater_finish_each(feed.rater[0], &set,
					  gb_invoice_writer_each, writer, &err);
	if (rc == 0)
		rc = gb_invoice_writer_finish(writer, set, &err);
	if (rc) {
		status = cmd_lib_fail(rc, &err);
		goto done;
	}
	/* Both files are complete on disk before either is renamed into
	 * place: a failed run replaces neither. */
	status = cmd_feed_done(&feed, &out, set);
done:
	if (status && status != EXIT_FINDINGS)
		cmd_output_abort(&out);
	cmd_feed_close(&feed, status && status != EXIT_FINDINGS);
	gb_invoice_writer_free(writer);
	gb_invoice_set_free(set);
	gb_rater_free(feed.rater[0]);
	cmd_inputs_free(&in);
	return status;
}
