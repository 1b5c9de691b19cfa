/*
 * margin.c - gpubill margin: the invoices of a run against the provider's
 * cost basis, grouped by customer, sku, region, market or model.
 */
#define _POSIX_C_SOURCE 200809L
#include "rate.h"

#include <stdlib.h>
#include <string.h>

static const char margin_help[] =
"Usage: gpubill margin [OPTIONS] --costs FILE (--period YYYY-MM | --from TS --to TS)\n"
"                      USAGE...\n"
"\n"
"Bill usage logs (CSV; '-' reads standard input) as gpubill invoice does,\n"
"and report revenue, cost and margin against the provider's cost basis.\n"
"\n"
"      --costs FILE      cost basis per GPU-hour and per 1M tokens\n"
"                        (gpubill-costs(5)); required\n"
"      --by KEY          group by customer (default), sku, region, market or\n"
"                        model; give it twice for two levels\n"
CMD_HELP_PRICES
CMD_HELP_CONTRACTS
CMD_HELP_PERIOD
"  -f, --format FMT      text (default), csv or json\n"
"  -o, --output FILE     write here (atomically) instead of standard output\n"
"      --rejects FILE    write rejected rows as CSV: line,id,reason,message,file\n"
"      --customer ID     only this customer (repeatable)\n"
"      --shard K/N       only customers in shard K of N\n"
"      --max-rejects N   stop with status 3 once more than N rows are rejected\n"
"  -q, --quiet           no summary on standard error\n"
"  -h, --help            show this help\n"
"\n"
"Columns: revenue (invoiced, after discounts, minimum spend and credits),\n"
"cost, margin, margin %, GPU-hours, idle reserved GPU-hours and their cost.\n"
"Exit status: 0 clean, 1 some rows rejected, 2 usage error, 3 bad input\n"
"(nothing written), 4 I/O error.  See gpubill(1).\n";

enum { FMT_TEXT, FMT_CSV, FMT_JSON };
static const char *const formats[] = { "text", "csv", "json", NULL };

enum { OPT_COSTS = CMD_OPT_FIRST_FREE, OPT_BY };

#define COSTS_MAX_BYTES (64u * 1024u * 1024u)

/* Read and check the cost basis; 0 or an exit status (message printed). */
static int load_costs(const char *path, const gb_prices *prices,
		      gb_costs **out)
{
	gb_error err;
	char *data;
	size_t len;
	int rc = cmd_read_file(path, COSTS_MAX_BYTES, &data, &len);

	if (rc)
		return rc;
	gb_error_clear(&err);
	rc = gb_costs_load(out, data, len, path, &err);
	free(data);
	if (rc == 0)
		rc = gb_costs_check_currency(*out, gb_prices_currency(prices), &err);
	if (rc) {
		cmd_lib_error(&err);
		return EXIT_INPUT;
	}
	return 0;
}

/* --by KEY, at most twice, two different keys. */
static int add_key(gb_margin_options *mo, const char *arg)
{
	gb_margin_key k;

	if (gb_margin_key_parse(&k, arg) != 0)
		return cmd_usage_error("margin", "unknown --by '%s' (customer, sku, region, market or model)", arg);
	if (mo->nby == GB_MARGIN_MAX_KEYS)
		return cmd_usage_error("margin", "--by given more than twice (the report has one or two levels)");
	if (mo->nby == 1 && mo->by[0] == k)
		return cmd_usage_error("margin", "--by %s given twice", arg);
	mo->by[mo->nby++] = k;
	return 0;
}

int cmd_margin(int argc, char **argv)
{
	static const struct option longopts[] = {
		CMD_OPTIONS_PRICES,
		CMD_OPTIONS_CONTRACTS,
		CMD_OPTIONS_PERIOD,
		CMD_OPTIONS_SELECT,
		CMD_OPTIONS_REJECTS,
		{ "costs", required_argument, NULL, OPT_COSTS },
		{ "by", required_argument, NULL, OPT_BY },
		{ "format", required_argument, NULL, 'f' },
		{ "output", required_argument, NULL, 'o' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	gb_margin_options mo = GB_MARGIN_OPTIONS_INIT;
	const char *output = NULL, *costs_path = NULL;
	gb_invoice_set *set = NULL;
	gb_costs *costs = NULL;
	gb_margin *margin = NULL;
	cmd_inputs in;
	cmd_output out;
	cmd_feed feed;
	gb_error err;
	int c, fmt = FMT_TEXT, status = 0, rc;

	cmd_inputs_init(&in, "margin");
	memset(&out, 0, sizeof out);
	memset(&feed, 0, sizeof feed);
	mo.nby = 0;
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
		case OPT_COSTS: costs_path = optarg; break;
		case OPT_BY:
			status = add_key(&mo, optarg);
			if (status)
				goto done;
			break;
		case 'o': output = optarg; break;
		case 'q': feed.quiet = 1; break;
		case 'f':
			fmt = cmd_pick(optarg, formats);
			if (fmt < 0) {
				status = cmd_usage_error("margin", "unknown --format '%s' (text, csv or json)", optarg);
				goto done;
			}
			break;
		case 'h':
			fputs(margin_help, stdout);
			goto done;
		default:
			status = cmd_usage_error("margin", "unknown or incomplete option");
			goto done;
		}
	}
	if (!costs_path) {
		status = cmd_usage_error("margin", "--costs FILE is required: the cost basis to weigh revenue against (gpubill-costs(5))");
		goto done;
	}
	if (optind >= argc) {
		status = cmd_usage_error("margin", "no usage file given (use '-' for standard input)");
		goto done;
	}
	if (mo.nby == 0)
		mo.by[mo.nby++] = GB_MARGIN_BY_CUSTOMER;
	status = cmd_inputs_load(&in);
	if (status == 0)
		status = load_costs(costs_path, in.prices, &costs);
	if (status)
		goto done;
	mo.rounding = gb_prices_rounding(in.prices);
	gb_error_clear(&err);
	if (gb_rater_new(&feed.rater[0], in.prices, &in.opts, &err) != 0) {
		cmd_lib_error(&err);
		status = cmd_exit_for(err.code);
		goto done;
	}
	feed.nraters = 1;
	status = cmd_feed_run(&feed, &in, argv + optind, argc - optind, &set);
	if (status)
		goto done;
	gb_error_clear(&err);
	rc = gb_margin_compute(&margin, set, costs, &mo, &err);
	if (rc) {
		status = cmd_lib_fail(rc, &err);
		goto done;
	}
	status = cmd_output_open(&out, output);
	if (status)
		goto done;
	gb_error_clear(&err);
	rc = fmt == FMT_JSON ? gb_margin_write_json(margin, cmd_output_write, &out, &err)
	   : fmt == FMT_CSV ? gb_margin_write_csv(margin, cmd_output_write, &out, &err)
	   : gb_margin_write_text(margin, cmd_output_write, &out, &err);
	if (rc) {
		status = cmd_lib_fail(rc, &err);
		goto done;
	}
	status = cmd_feed_done(&feed, &out, set);
done:
	if (status && status != EXIT_FINDINGS)
		cmd_output_abort(&out);
	cmd_feed_close(&feed, status && status != EXIT_FINDINGS);
	gb_margin_free(margin);
	gb_invoice_set_free(set);
	gb_costs_free(costs);
	gb_rater_free(feed.rater[0]);
	cmd_inputs_free(&in);
	return status;
}
