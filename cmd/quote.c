/*
 * quote.c - gpubill quote: what one workload costs under one or more
 * pricing tables, every offer ranked cheapest first.  The library prices
 * and writes; this file reads options and tables.
 */
#define _POSIX_C_SOURCE 200809L
#include "rate.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char quote_help[] =
"Usage: gpubill quote [--prices FILE]... --sku SKU [--region R] --gpus N --hours H\n"
"       gpubill quote [--prices FILE]... --model M [--region R] [--tokens-in N]\n"
"                     [--cached-tokens N] [--tokens-out N] [--batch]\n"
"\n"
"Price one workload under each pricing table and list every offer, on-demand,\n"
"each reserved term and spot (or tokens), cheapest first, with the saving\n"
"against the dearest.\n"
"\n"
"  -p, --prices FILE       a pricing table; repeat to compare providers\n"
"                          (default: the shipped default.json)\n"
"      --sku SKU           GPU product, e.g. H100-SXM\n"
"      --region R          region whose rates apply (default: '*' rates only)\n"
"      --gpus N            GPUs, 1 to 100000\n"
"      --hours H           hours of one run, an exact decimal like 1.5\n"
"      --model M           model, for a token quote\n"
"      --tokens-in N       uncached input tokens\n"
"      --cached-tokens N   cached input tokens\n"
"      --tokens-out N      output tokens\n"
"      --batch             submitted through the batch interface\n"
"      --at TS             prices in effect at this RFC 3339 time (default: now)\n"
"  -f, --format FMT        text (default), csv or json\n"
"  -o, --output FILE       write here (atomically) instead of standard output\n"
"  -h, --help              show this help\n"
"\n"
"Exit status: 0 done, 1 no table has an offer, 2 usage error, 3 bad table\n"
"or tables in different currencies, 4 I/O error.  See gpubill(1).\n";

enum {
	OPT_SKU = CMD_OPT_FIRST_FREE, OPT_REGION, OPT_GPUS, OPT_HOURS,
	OPT_MODEL, OPT_TOKENS_IN, OPT_CACHED, OPT_TOKENS_OUT, OPT_BATCH, OPT_AT
};

enum { FMT_TEXT, FMT_CSV, FMT_JSON };
static const char *const formats[] = { "text", "csv", "json", NULL };

typedef struct quote_args {
	const char **prices;
	size_t nprices;
	const char *sku, *region, *gpus, *hours, *model, *at;
	const char *tokens[3];       /* --tokens-in, --cached-tokens, --tokens-out */
	int batch;
	const char *output;
	int format;
} quote_args;

static const char *const token_opts[3] = {
	"--tokens-in", "--cached-tokens", "--tokens-out"
};

/* A single-valued option given twice is a mistake worth saying. */
static int set_once(const char **slot, const char *value, const char *name)
{
	if (*slot)
		return cmd_usage_error("quote", "%s given twice ('%s' and '%s'): quote one workload at a time",
				       name, *slot, value);
	*slot = value;
	return 0;
}

static int parse_options(quote_args *a, int argc, char **argv, int *help)
{
	static const struct option longopts[] = {
		CMD_OPTIONS_PRICES,
		{ "sku", required_argument, NULL, OPT_SKU },
		{ "region", required_argument, NULL, OPT_REGION },
		{ "gpus", required_argument, NULL, OPT_GPUS },
		{ "hours", required_argument, NULL, OPT_HOURS },
		{ "model", required_argument, NULL, OPT_MODEL },
		{ "tokens-in", required_argument, NULL, OPT_TOKENS_IN },
		{ "cached-tokens", required_argument, NULL, OPT_CACHED },
		{ "tokens-out", required_argument, NULL, OPT_TOKENS_OUT },
		{ "batch", no_argument, NULL, OPT_BATCH },
		{ "at", required_argument, NULL, OPT_AT },
		{ "format", required_argument, NULL, 'f' },
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c, rc = 0;

	optind = 1;
	while (rc == 0 &&
	       (c = getopt_long(argc, argv, "p:f:o:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'p': a->prices[a->nprices++] = optarg; break;
		case OPT_SKU: rc = set_once(&a->sku, optarg, "--sku"); break;
		case OPT_REGION: rc = set_once(&a->region, optarg, "--region"); break;
		case OPT_GPUS: rc = set_once(&a->gpus, optarg, "--gpus"); break;
		case OPT_HOURS: rc = set_once(&a->hours, optarg, "--hours"); break;
		case OPT_MODEL: rc = set_once(&a->model, optarg, "--model"); break;
		case OPT_TOKENS_IN:
		case OPT_CACHED:
		case OPT_TOKENS_OUT:
			rc = set_once(&a->tokens[c - OPT_TOKENS_IN], optarg,
				      token_opts[c - OPT_TOKENS_IN]);
			break;
		case OPT_BATCH: a->batch = 1; break;
		case OPT_AT: rc = set_once(&a->at, optarg, "--at"); break;
		case 'o': rc = set_once(&a->output, optarg, "--output"); break;
		case 'f':
			a->format = cmd_pick(optarg, formats);
			if (a->format < 0)
				rc = cmd_usage_error("quote", "unknown --format '%s' (text, csv or json)", optarg);
			break;
		case 'h':
			*help = 1;
			return 0;
		default:
			rc = cmd_usage_error("quote", "unknown or incomplete option");
		}
	}
	if (rc == 0 && optind < argc)
		rc = cmd_usage_error("quote", "unexpected argument '%s' (every input is an option)",
				     argv[optind]);
	return rc;
}

/* The workload options, checked and turned into a request. */
static int parse_request(const quote_args *a, gb_quote_request *req,
			 mpq_t hours)
{
	unsigned long long n;
	const char *why = NULL;
	int c, any_tokens = 0;

	for (c = 0; c < 3; c++)
		any_tokens |= a->tokens[c] != NULL;
	if (!a->sku && !a->model)
		return cmd_usage_error("quote", "say what to quote: --sku with --gpus and --hours, or --model with token counts");
	if (a->sku && a->model)
		return cmd_usage_error("quote", "--sku and --model cannot be combined: quote GPU time or tokens");
	if (a->sku) {
		if (any_tokens || a->batch)
			return cmd_usage_error("quote", "token options (--tokens-in, --cached-tokens, --tokens-out, --batch) go with --model, not --sku");
		if (!a->gpus)
			return cmd_usage_error("quote", "--gpus is required with --sku");
		if (!a->hours)
			return cmd_usage_error("quote", "--hours is required with --sku");
		if (cmd_parse_count(a->gpus, &n) != 0 || n < 1 || n > GB_QUOTE_MAX_GPUS)
			return cmd_usage_error("quote", "--gpus '%s': expected a whole number from 1 to %u",
					       a->gpus, GB_QUOTE_MAX_GPUS);
		if (gb_decimal_parse(hours, a->hours, strlen(a->hours), 0, &why) != 0)
			return cmd_usage_error("quote", "--hours '%s': expected a decimal number of hours like 1.5 (%s)",
					       a->hours, why ? why : "malformed");
		if (mpq_sgn(hours) <= 0)
			return cmd_usage_error("quote", "--hours must be greater than 0");
		req->sku = a->sku;
		req->gpus = (uint32_t)n;
		req->hours = hours;
	} else {
		uint64_t *slot[3] = {
			&req->input_tokens, &req->cached_tokens, &req->output_tokens
		};

		if (a->gpus || a->hours)
			return cmd_usage_error("quote", "--gpus and --hours go with --sku; a token quote takes --tokens-in, --cached-tokens and --tokens-out");
		if (!any_tokens)
			return cmd_usage_error("quote", "no tokens to quote: give --tokens-in, --cached-tokens or --tokens-out with --model");
		for (c = 0; c < 3; c++) {
			if (!a->tokens[c])
				continue;
			if (cmd_parse_count(a->tokens[c], &n) != 0 || n > GB_QUOTE_MAX_TOKENS)
				return cmd_usage_error("quote", "%s '%s': expected a whole number from 0 to 10^18",
						       token_opts[c], a->tokens[c]);
			*slot[c] = n;
		}
		if (!req->input_tokens && !req->cached_tokens && !req->output_tokens)
			return cmd_usage_error("quote", "no tokens to quote: every token count is 0");
		req->model = a->model;
		req->batch = a->batch;
	}
	if (a->region && !*a->region)
		return cmd_usage_error("quote", "--region must not be empty (leave it out for '*' rates only)");
	req->region = a->region;
	if (a->at) {
		if (gb_time_parse(&req->at, a->at, strlen(a->at), &why) != 0)
			return cmd_usage_error("quote", "--at '%s': %s", a->at,
					       why ? why : "malformed");
	} else {
		req->at = (int64_t)time(NULL);
	}
	return 0;
}

int cmd_quote(int argc, char **argv)
{
	gb_quote_request req = GB_QUOTE_REQUEST_INIT;
	gb_prices **tables = NULL;
	gb_quote *quote = NULL;
	quote_args a;
	cmd_output out;
	gb_error err;
	mpq_t hours;
	size_t i, ntables = 0;
	int help = 0, status, rc;

	memset(&a, 0, sizeof a);
	memset(&out, 0, sizeof out);
	mpq_init(hours);
	a.prices = calloc((size_t)argc + 1, sizeof *a.prices);
	if (!a.prices) {
		cmd_error("out of memory");
		status = EXIT_IO;
		goto done;
	}
	status = parse_options(&a, argc, argv, &help);
	if (status || help) {
		if (help)
			fputs(quote_help, stdout);
		goto done;
	}
	status = parse_request(&a, &req, hours);
	if (status)
		goto done;
	if (a.nprices == 0)
		a.prices[a.nprices++] = NULL;  /* the default table */
	tables = calloc(a.nprices, sizeof *tables);
	if (!tables) {
		cmd_error("out of memory");
		status = EXIT_IO;
		goto done;
	}
	for (ntables = 0; ntables < a.nprices; ntables++) {
		status = cmd_load_prices(a.prices[ntables], &tables[ntables]);
		if (status)
			goto done;
	}
	gb_error_clear(&err);
	if (gb_quote_new(&quote, (const gb_prices *const *)tables, ntables, &req,
			 &err) != 0) {
		cmd_lib_error(&err);
		status = cmd_exit_for(err.code);
		goto done;
	}
	status = cmd_output_open(&out, a.output);
	if (status)
		goto done;
	rc = a.format == FMT_JSON ? gb_quote_write_json(quote, cmd_output_write, &out, &err)
	   : a.format == FMT_CSV ? gb_quote_write_csv(quote, cmd_output_write, &out, &err)
	   : gb_quote_write_text(quote, cmd_output_write, &out, &err);
	if (rc) {
		status = cmd_lib_fail(rc, &err);
		goto done;
	}
	status = cmd_output_commit(&out);
	if (status == 0 && gb_quote_available_count(quote) == 0) {
		cmd_error("quote: no table has an offer for this workload");
		status = EXIT_FINDINGS;
	}
done:
	if (status && status != EXIT_FINDINGS)
		cmd_output_abort(&out);
	gb_quote_free(quote);
	for (i = 0; tables && i < a.nprices; i++)
		gb_prices_free(tables[i]);
	free(tables);
	free(a.prices);
	mpq_clear(hours);
	return status;
}
