/*
 * invoice.c - gpubill invoice: usage logs in, invoices out.
 */
#define _POSIX_C_SOURCE 200809L
#include "common.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char invoice_help[] =
"Usage: gpubill invoice [OPTIONS] (--period YYYY-MM | --from TS --to TS) USAGE...\n"
"\n"
"Rate usage logs (CSV; '-' reads standard input) against a pricing table\n"
"and write one invoice per customer.\n"
"\n"
"  -p, --prices FILE     pricing table (default: the shipped default.json)\n"
"  -c, --contracts FILE  customer contracts: reservations, discounts, minimum\n"
"                        spend, credits (gpubill-contracts(5))\n"
"      --period YYYY-MM  bill one calendar month (UTC)\n"
"      --from TS         period start, RFC 3339 (with --to)\n"
"      --to TS           period end, exclusive\n"
"  -f, --format FMT      text (default), csv or json\n"
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

typedef enum { FMT_TEXT, FMT_CSV, FMT_JSON } out_format;

#define REJECTS_SHOWN 10

typedef struct run {
	gb_rater *rater;
	cmd_output rejects;
	int have_rejects_file;
	unsigned long long max_rejects;
	int limit_rejects;
	unsigned long long shown;
	int progress;
	int abort_code;       /* exit status when a callback stopped the run */
} run;

/* -?digits(.digits)?: left alone, as in the invoice CSV. */
static int is_number(const char *s, size_t n)
{
	size_t i = s[0] == '-', d = 0;

	while (i < n && s[i] >= '0' && s[i] <= '9')
		i++, d++;
	if (d && i + 1 < n && s[i] == '.') {
		for (i++, d = 0; i < n && s[i] >= '0' && s[i] <= '9'; i++)
			d++;
	}
	return d > 0 && i == n;
}

/* A quoted CSV cell; a formula-like start gets a leading apostrophe
 * (OWASP CSV injection), as in the invoice CSV. */
static void csv_field(FILE *fp, const char *s, size_t n)
{
	size_t i;

	fputc('"', fp);
	if (n && strchr("=+-@\t\r", s[0]) && s[0] && !is_number(s, n))
		fputc('\'', fp);
	for (i = 0; i < n; i++) {
		if (s[i] == '"')
			fputc('"', fp);
		fputc(s[i] == '\0' ? '?' : s[i], fp);
	}
	fputc('"', fp);
}

static void note_reject(run *rn, const gb_row *row, const gb_outcome *oc)
{
	const gb_field *id = &row->f[GB_COL_ID];

	if (rn->have_rejects_file) {
		FILE *fp = rn->rejects.fp;

		fprintf(fp, "%llu,", (unsigned long long)row->line);
		csv_field(fp, id->ptr ? id->ptr : "", id->len);
		fprintf(fp, ",%s,", gb_reason_code(oc->reason));
		csv_field(fp, oc->message, strlen(oc->message));
		fputc(',', fp);
		csv_field(fp, row->source, strlen(row->source));
		fputs("\r\n", fp);
		return;
	}
	if (rn->shown++ < REJECTS_SHOWN)
		cmd_error("%s:%llu: rejected (%s): %s", row->source,
			  (unsigned long long)row->line,
			  gb_reason_code(oc->reason), oc->message);
}

static int on_row(const gb_row *row, gb_error *err, void *payload)
{
	run *rn = payload;
	gb_outcome oc;
	gb_counts c;
	int rc = gb_rater_add_row(rn->rater, row, &oc);

	if (rc) {
		gb_error_clear(err);
		err->code = rc;
		snprintf(err->message, sizeof err->message, "%s", gb_strerror(rc));
		snprintf(err->source, sizeof err->source, "%s", row->source);
		err->line = row->line;
		rn->abort_code = EXIT_IO;
		return 1;
	}
	if (oc.state == GB_STATE_REJECTED) {
		note_reject(rn, row, &oc);
		if (rn->limit_rejects) {
			gb_rater_counts(rn->rater, &c);
			if (c.rejected > rn->max_rejects) {
				gb_error_clear(err);
				snprintf(err->message, sizeof err->message,
					 "more than %llu rows rejected (--max-rejects); stopping",
					 rn->max_rejects);
				snprintf(err->source, sizeof err->source, "%s", row->source);
				err->line = row->line;
				err->code = GB_EABORT;
				rn->abort_code = EXIT_INPUT;
				return 1;
			}
		}
	}
	if (rn->progress) {
		gb_rater_counts(rn->rater, &c);
		if ((c.read & 0xfffff) == 0)
			fprintf(stderr, "\r%s: %llu rows...", gb_prog,
				(unsigned long long)c.read);
	}
	return 0;
}

/* Stream one usage file through the CSV reader into the rater. */
static int feed_file(run *rn, const char *path)
{
	static char buf[1 << 20];
	gb_csv_reader *reader = NULL;
	gb_error err;
	int fd = strcmp(path, "-") == 0 ? STDIN_FILENO : open(path, O_RDONLY);
	int rc = 0, status = 0;

	gb_error_clear(&err);
	if (fd < 0) {
		cmd_error("%s: %s", path, strerror(errno));
		return EXIT_INPUT;
	}
	{
		struct stat st;

		/* An input that cannot be read at all is bad input (3), not an
		 * I/O failure part-way through (4). */
		if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
			cmd_error("%s: %s", path, strerror(EISDIR));
			close(fd);
			return EXIT_INPUT;
		}
	}
	if (gb_csv_reader_new(&reader, path, &err) != 0) {
		cmd_lib_error(&err);
		status = EXIT_IO;
		goto out;
	}
	for (;;) {
		ssize_t n = read(fd, buf, sizeof buf);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			cmd_error("%s: read error: %s", path, strerror(errno));
			status = EXIT_IO;
			goto out;
		}
		if (n == 0)
			break;
		rc = gb_csv_reader_feed(reader, buf, (size_t)n, on_row, rn, &err);
		if (rc)
			break;
	}
	if (rc == 0)
		rc = gb_csv_reader_finish(reader, on_row, rn, &err);
	if (rc) {
		cmd_lib_error(&err);
		status = rc == GB_EABORT && rn->abort_code ? rn->abort_code
							   : EXIT_INPUT;
	}
out:
	gb_csv_reader_free(reader);
	if (fd != STDIN_FILENO)
		close(fd);
	return status;
}

static int parse_shard(const char *s, gb_rater_options *o)
{
	const char *slash = strchr(s, '/');
	unsigned long long k, n;
	char kbuf[24];

	if (!slash || (size_t)(slash - s) >= sizeof kbuf)
		return -1;
	memcpy(kbuf, s, (size_t)(slash - s));
	kbuf[slash - s] = '\0';
	if (cmd_parse_count(kbuf, &k) || cmd_parse_count(slash + 1, &n) ||
	    n < 1 || n > 1000000 || k < 1 || k > n)
		return -1;
	o->shard_index = (uint32_t)k;
	o->shard_count = (uint32_t)n;
	return 0;
}

static void print_summary(const gb_invoice_set *set)
{
	const gb_counts *c = gb_invoice_set_counts(set);
	char total[128];
	mpz_t t;

	mpz_init(t);
	gb_invoice_set_total(set, t);
	gb_money_format(total, sizeof total, t, gb_invoice_set_minor_units(set));
	mpz_clear(t);
	fprintf(stderr, "%s: %llu records read: %llu billed, %llu rejected, "
		"%llu duplicates, %llu outside period",
		gb_prog, (unsigned long long)c->read,
		(unsigned long long)c->billed, (unsigned long long)c->rejected,
		(unsigned long long)c->duplicates,
		(unsigned long long)c->outside_period);
	if (c->skipped)
		fprintf(stderr, ", %llu skipped (other customers)",
			(unsigned long long)c->skipped);
	fprintf(stderr, "; %zu invoice%s, total %s %s\n",
		gb_invoice_set_count(set), gb_invoice_set_count(set) == 1 ? "" : "s",
		total, gb_invoice_set_currency(set));
}

int cmd_invoice(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "prices", required_argument, NULL, 'p' },
		{ "contracts", required_argument, NULL, 'c' },
		{ "period", required_argument, NULL, 'P' },
		{ "from", required_argument, NULL, 'F' },
		{ "to", required_argument, NULL, 'T' },
		{ "format", required_argument, NULL, 'f' },
		{ "output", required_argument, NULL, 'o' },
		{ "rejects", required_argument, NULL, 'r' },
		{ "customer", required_argument, NULL, 'C' },
		{ "shard", required_argument, NULL, 's' },
		{ "max-rejects", required_argument, NULL, 'm' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *prices_path = NULL, *month = NULL, *from = NULL, *to = NULL;
	const char *contracts_path = NULL;
	gb_contracts *contracts = NULL;
	const char *output = NULL, *rejects = NULL;
	gb_rater_options opts = GB_RATER_OPTIONS_INIT;
	const char **customers = NULL;
	size_t ncustomers = 0;
	out_format fmt = FMT_TEXT;
	gb_prices *prices = NULL;
	gb_invoice_set *set = NULL;
	cmd_output out;
	run rn;
	gb_error err;
	int c, i, status = 0, quiet = 0, rc;

	memset(&rn, 0, sizeof rn);
	memset(&out, 0, sizeof out);
	optind = 1;
	while ((c = getopt_long(argc, argv, "p:c:f:o:qh", longopts, NULL)) != -1) {
		switch (c) {
		case 'p': prices_path = optarg; break;
		case 'c': contracts_path = optarg; break;
		case 'P': month = optarg; break;
		case 'F': from = optarg; break;
		case 'T': to = optarg; break;
		case 'o': output = optarg; break;
		case 'r': rejects = optarg; break;
		case 'q': quiet = 1; break;
		case 'f':
			if (strcmp(optarg, "text") == 0)
				fmt = FMT_TEXT;
			else if (strcmp(optarg, "csv") == 0)
				fmt = FMT_CSV;
			else if (strcmp(optarg, "json") == 0)
				fmt = FMT_JSON;
			else
				return cmd_usage_error("invoice", "unknown --format '%s' (text, csv or json)", optarg);
			break;
		case 'C': {
			const char **p = realloc(customers, (ncustomers + 1) * sizeof *p);

			if (!p) {
				cmd_error("out of memory");
				free(customers);
				return EXIT_IO;
			}
			customers = p;
			customers[ncustomers++] = optarg;
			break;
		}
		case 's':
			if (parse_shard(optarg, &opts)) {
				free(customers);
				return cmd_usage_error("invoice", "--shard '%s': expected K/N with 1 <= K <= N", optarg);
			}
			break;
		case 'm':
			if (cmd_parse_count(optarg, &rn.max_rejects)) {
				free(customers);
				return cmd_usage_error("invoice", "--max-rejects '%s': expected a whole number", optarg);
			}
			rn.limit_rejects = 1;
			break;
		case 'h':
			fputs(invoice_help, stdout);
			free(customers);
			return EXIT_CLEAN;
		default:
			free(customers);
			return cmd_usage_error("invoice", "unknown or incomplete option");
		}
	}
	if (optind >= argc) {
		free(customers);
		return cmd_usage_error("invoice", "no usage file given (use '-' for standard input)");
	}
	status = cmd_parse_period("invoice", month, from, to, &opts.period_from,
				  &opts.period_to);
	if (status) {
		free(customers);
		return status;
	}
	opts.customers = customers;
	opts.ncustomers = ncustomers;

	status = cmd_load_prices(prices_path, &prices);
	if (status)
		goto done;
	if (contracts_path) {
		status = cmd_load_contracts(contracts_path, prices, &contracts);
		if (status)
			goto done;
		opts.contracts = contracts;
	}
	gb_error_clear(&err);
	if (gb_rater_new(&rn.rater, prices, &opts, &err) != 0) {
		cmd_lib_error(&err);
		status = cmd_exit_for(err.code);
		goto done;
	}
	if (rejects) {
		status = cmd_output_open(&rn.rejects, rejects);
		if (status)
			goto done;
		rn.have_rejects_file = 1;
		fputs("line,id,reason,message,file\r\n", rn.rejects.fp);
	}
	rn.progress = !quiet && isatty(STDERR_FILENO);
	for (i = optind; i < argc && status == 0; i++)
		status = feed_file(&rn, argv[i]);
	if (rn.progress)
		fputs("\r\033[K", stderr);
	if (status)
		goto done;
	if (gb_rater_finish(rn.rater, &set, &err) != 0) {
		cmd_lib_error(&err);
		status = cmd_exit_for(err.code);
		goto done;
	}
	status = cmd_output_open(&out, output);
	if (status)
		goto done;
	gb_error_clear(&err);
	rc = fmt == FMT_JSON ? gb_invoice_write_json(set, cmd_output_write, &out, &err)
	   : fmt == FMT_CSV ? gb_invoice_write_csv(set, cmd_output_write, &out, &err)
	   : gb_invoice_write_text(set, cmd_output_write, &out, &err);
	if (rc) {
		cmd_lib_error(&err);
		status = rc == GB_EIO ? EXIT_IO : cmd_exit_for(rc);
		goto done;
	}
	/* Both files are complete on disk before either is renamed into
	 * place: a failed run replaces neither. */
	status = cmd_output_finish(&out);
	if (status == 0 && rn.have_rejects_file)
		status = cmd_output_finish(&rn.rejects);
	if (status == 0)
		status = cmd_output_publish(&out);
	if (status == 0 && rn.have_rejects_file)
		status = cmd_output_publish(&rn.rejects);
	if (status)
		goto done;
	rn.have_rejects_file = 0;
	if (!quiet)
		print_summary(set);
	if (!rn.have_rejects_file && rn.shown > REJECTS_SHOWN)
		cmd_error("... and %llu more rejected rows (use --rejects FILE to keep them all)",
			  rn.shown - REJECTS_SHOWN);
	status = gb_invoice_set_counts(set)->rejected ? EXIT_FINDINGS : EXIT_CLEAN;
done:
	if (status && status != EXIT_FINDINGS) {
		cmd_output_abort(&out);
		if (rn.have_rejects_file)
			cmd_output_abort(&rn.rejects);
	}
	gb_invoice_set_free(set);
	gb_rater_free(rn.rater);
	gb_contracts_free(contracts);
	gb_prices_free(prices);
	free(customers);
	return status;
}
