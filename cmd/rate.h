/*
 * rate.h - the invoice inputs (pricing table, contracts, period, customer
 * selection) and the loop that streams usage files into raters.  Shared by
 * invoice, margin, explain and diff.
 */
#ifndef GPUBILL_CMD_RATE_H
#define GPUBILL_CMD_RATE_H

#include "common.h"

#include <getopt.h>

/* getopt_long values of the shared options (short ones use their letter). */
enum {
	CMD_OPT_PERIOD = 256,
	CMD_OPT_FROM,
	CMD_OPT_TO,
	CMD_OPT_CUSTOMER,
	CMD_OPT_SHARD,
	CMD_OPT_REJECTS,
	CMD_OPT_MAX_REJECTS,
	CMD_OPT_FIRST_FREE   /* subcommands number their own options from here */
};

/* Entries for a getopt_long table. */
#define CMD_OPTIONS_PRICES \
	{ "prices", required_argument, NULL, 'p' }
#define CMD_OPTIONS_CONTRACTS \
	{ "contracts", required_argument, NULL, 'c' }
#define CMD_OPTIONS_PERIOD \
	{ "period", required_argument, NULL, CMD_OPT_PERIOD }, \
	{ "from", required_argument, NULL, CMD_OPT_FROM }, \
	{ "to", required_argument, NULL, CMD_OPT_TO }
#define CMD_OPTIONS_SELECT \
	{ "customer", required_argument, NULL, CMD_OPT_CUSTOMER }, \
	{ "shard", required_argument, NULL, CMD_OPT_SHARD }
#define CMD_OPTIONS_REJECTS \
	{ "rejects", required_argument, NULL, CMD_OPT_REJECTS }, \
	{ "max-rejects", required_argument, NULL, CMD_OPT_MAX_REJECTS }

/* The same, for --help texts. */
#define CMD_HELP_PRICES \
"  -p, --prices FILE     pricing table (default: the shipped default.json)\n"
#define CMD_HELP_CONTRACTS \
"  -c, --contracts FILE  customer contracts: reservations, discounts, minimum\n" \
"                        spend, credits (gpubill-contracts(5))\n"
#define CMD_HELP_PERIOD \
"      --period YYYY-MM  bill one calendar month (UTC)\n" \
"      --from TS         period start, RFC 3339 (with --to)\n" \
"      --to TS           period end, exclusive\n"
#define CMD_HELP_SELECT \
"      --customer ID     only this customer (repeatable)\n" \
"      --shard K/N       only customers in shard K of N\n"
#define CMD_HELP_REJECTS \
"      --rejects FILE    write rejected rows as CSV: line,id,reason,message,file\n" \
"      --max-rejects N   stop with status 3 once more than N rows are rejected\n"

typedef struct cmd_inputs {
	const char *cmd;             /* subcommand name, for messages */
	const char *prices_path;     /* NULL = the default table */
	const char *contracts_path;  /* NULL = none */
	const char *month, *from, *to;
	const char **customers;
	size_t ncustomers;
	const char *rejects_path;
	unsigned long long max_rejects;
	int limit_rejects;
	gb_rater_options opts;       /* period, selection, contracts */
	gb_prices *prices;           /* after cmd_inputs_load */
	gb_contracts *contracts;
} cmd_inputs;

void cmd_inputs_init(cmd_inputs *in, const char *cmd);
void cmd_inputs_free(cmd_inputs *in);

/*
 * Handle getopt_long's c (with optarg arg) when it is one of the shared
 * options: returns 0 when handled, EXIT_USAGE (message printed) when its
 * value is bad, or -1 when c is not a shared option.
 */
int cmd_inputs_option(cmd_inputs *in, int c, const char *arg);

/*
 * Check the period and load the pricing table (in->prices_path) and the
 * contracts; returns 0 or an exit status (message printed).
 */
int cmd_inputs_load(cmd_inputs *in);

/* Load only the period and contracts, checked against prices (diff). */
int cmd_inputs_load_period(cmd_inputs *in);
int cmd_inputs_load_contracts(cmd_inputs *in, const gb_prices *prices);

/*
 * Called with every row's outcome, for each rater; returning non-zero
 * stops the run with that exit status.
 */
typedef int (*cmd_outcome_fn)(const gb_row *row, const gb_outcome *oc,
			      size_t which, void *payload);

#define CMD_FEED_MAX_RATERS 2

/*
 * Streams usage files into one or more raters (diff rates the same rows
 * under two tables).  Rejected rows of rater 0 go to the rejects file, or
 * the first few to standard error.
 */
typedef struct cmd_feed {
	gb_rater *rater[CMD_FEED_MAX_RATERS];
	size_t nraters;
	cmd_outcome_fn on_outcome;   /* may be NULL */
	void *payload;
	int quiet;                   /* no progress counter */
	int full_rows;               /* read other customers' rows whole too */
	/* private */
	int selecting;               /* --customer or --shard: see feed_file */
	cmd_output rejects;
	int have_rejects_file;
	unsigned long long max_rejects;
	int limit_rejects;
	unsigned long long shown;
	int progress;
	int abort_code;
	int hook_stopped;
} cmd_feed;

/*
 * Set up f for the raters' rows: opens in->rejects_path (through a
 * temporary) when given.  Returns 0 or an exit status.
 */
int cmd_feed_open(cmd_feed *f, const cmd_inputs *in);

/* Stream paths[0..n) ("-" = stdin); returns 0 or an exit status. */
int cmd_feed_files(cmd_feed *f, char *const *paths, int n);

/*
 * Open f for in and stream paths[0..n) into its raters, leaving them to
 * be finished (gpubill invoice streams the invoices out as they are
 * built).  Returns 0 or an exit status (message printed).
 */
int cmd_feed_read(cmd_feed *f, const cmd_inputs *in, char *const *paths, int n);

/*
 * The whole run: cmd_feed_read, then finish each rater into sets[i]
 * (invoices held).  Returns 0 or an exit status (message printed).
 */
int cmd_feed_run(cmd_feed *f, const cmd_inputs *in, char *const *paths, int n,
		 gb_invoice_set **sets);

/* Finish and publish the rejects file after out (which may be NULL): both
 * complete before either is renamed.  Returns 0 or EXIT_IO. */
int cmd_feed_commit(cmd_feed *f, cmd_output *out);
/*
 * The end of a successful run: cmd_feed_commit, then the summary on
 * standard error (unless quiet); the status is 1 when rows were rejected,
 * else 0, or cmd_feed_commit's failure.
 */
int cmd_feed_done(cmd_feed *f, cmd_output *out, const gb_invoice_set *set);

/* Remove temporaries of a failed run, print the "and N more" note. */
void cmd_feed_close(cmd_feed *f, int failed);

/* The run summary on standard error (label, e.g. "old", may be NULL). */
void cmd_print_summary(const gb_invoice_set *set, const char *label);

/* Parse --format values: returns the index of s in names, or -1. */
int cmd_pick(const char *s, const char *const *names);

#endif
