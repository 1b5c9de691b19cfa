/*
 * validate.c - gpubill validate: check pricing tables, contracts and cost
 * bases for CI, reporting every problem at once.
 */
#define _POSIX_C_SOURCE 200809L
#include "common.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static const char validate_help[] =
"Usage: gpubill validate [OPTIONS] [PRICES...]\n"
"\n"
"Check pricing tables (the default table when none is given; '-' reads\n"
"standard input), and optionally contracts and cost bases against them,\n"
"and report every error and warning found, each with its file, line,\n"
"column, JSON path, code and a hint.\n"
"\n"
"  -c, --contracts FILE      contracts to check against each table without\n"
"                            errors (repeatable)\n"
"      --costs FILE          a cost basis (gpubill-costs(5)) to compare with\n"
"                            each table without errors (repeatable)\n"
"  -W, --warnings-as-errors  exit with status 1 on warnings too\n"
"  -f, --format FMT          text (default), csv or json\n"
"  -o, --output FILE         write here (atomically) instead of standard output\n"
"  -q, --quiet               no summary on standard error\n"
"  -h, --help                show this help\n"
"\n"
"Exit status: 0 clean, 1 errors found (or warnings, with -W), 2 usage error,\n"
"3 a file could not be read or is not JSON, 4 I/O error.  See gpubill(1).\n";

enum { FMT_TEXT, FMT_CSV, FMT_JSON };
static const char *const formats[] = { "text", "csv", "json", NULL };

enum { OPT_COSTS = 256 };

/* Largest file read, as for the other commands' JSON inputs. */
#define MAX_BYTES (64u * 1024u * 1024u)

static int pick(const char *s, const char *const *names)
{
	int i;

	for (i = 0; names[i]; i++)
		if (strcmp(s, names[i]) == 0)
			return i;
	return -1;
}

typedef int (*add_fn)(gb_validator *v, const char *data, size_t len,
		      const char *source, gb_error *err);

/*
 * Read path and give it to the validator: 0, EXIT_INPUT when it cannot be
 * read (message printed; the other files are still read, to report them
 * all), or an exit status for a failure of the check itself.
 */
static int check_file(gb_validator *v, add_fn add, const char *path,
		      int *unreadable)
{
	gb_error err;
	char *data;
	size_t len;
	int rc;

	if (cmd_read_file(path, MAX_BYTES, &data, &len)) {
		*unreadable = 1;
		return 0;
	}
	rc = add(v, data, len, path, &err);
	free(data);
	if (rc && rc != GB_ESYNTAX) {
		cmd_lib_error(&err);
		return cmd_exit_for(rc);
	}
	return 0;
}

static const char *plural(size_t n, const char *one, const char *many)
{
	return n == 1 ? one : many;
}

int cmd_validate(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "contracts", required_argument, NULL, 'c' },
		{ "costs", required_argument, NULL, OPT_COSTS },
		{ "warnings-as-errors", no_argument, NULL, 'W' },
		{ "format", required_argument, NULL, 'f' },
		{ "output", required_argument, NULL, 'o' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char **contracts = NULL, **costs = NULL;
	size_t ncontracts = 0, ncosts = 0, i, nfiles, stdin_uses = 0;
	const char *output = NULL;
	gb_validator *v = NULL;
	int c, fmt = FMT_TEXT, quiet = 0, strict = 0, status = 0, rc;
	int unreadable = 0, not_json = 0, committed = 0;
	cmd_output out;
	gb_error err;

	memset(&out, 0, sizeof out);
	contracts = calloc((size_t)argc, sizeof *contracts);
	costs = calloc((size_t)argc, sizeof *costs);
	if (!contracts || !costs) {
		cmd_error("out of memory");
		status = EXIT_IO;
		goto done;
	}
	optind = 1;
	while ((c = getopt_long(argc, argv, "c:Wf:o:qh", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': contracts[ncontracts++] = optarg; break;
		case OPT_COSTS: costs[ncosts++] = optarg; break;
		case 'W': strict = 1; break;
		case 'o': output = optarg; break;
		case 'q': quiet = 1; break;
		case 'f':
			fmt = pick(optarg, formats);
			if (fmt < 0) {
				status = cmd_usage_error("validate", "unknown --format '%s' (text, csv or json)", optarg);
				goto done;
			}
			break;
		case 'h':
			fputs(validate_help, stdout);
			goto done;
		default:
			status = cmd_usage_error("validate", "unknown or incomplete option");
			goto done;
		}
	}
	for (i = (size_t)optind; i < (size_t)argc; i++)
		stdin_uses += strcmp(argv[i], "-") == 0;
	for (i = 0; i < ncontracts; i++)
		stdin_uses += strcmp(contracts[i], "-") == 0;
	for (i = 0; i < ncosts; i++)
		stdin_uses += strcmp(costs[i], "-") == 0;
	if (stdin_uses > 1) {
		status = cmd_usage_error("validate", "standard input ('-') can be read only once");
		goto done;
	}
	if (gb_validator_new(&v, &err)) {
		cmd_lib_error(&err);
		status = cmd_exit_for(err.code);
		goto done;
	}
	/* The tables first: contracts and costs are checked against them. */
	if (optind >= argc)
		status = check_file(v, gb_validator_add_prices,
				    cmd_default_prices_path(), &unreadable);
	for (i = (size_t)optind; i < (size_t)argc && !status; i++)
		status = check_file(v, gb_validator_add_prices, argv[i],
				    &unreadable);
	for (i = 0; i < ncontracts && !status; i++)
		status = check_file(v, gb_validator_add_contracts, contracts[i],
				    &unreadable);
	for (i = 0; i < ncosts && !status; i++)
		status = check_file(v, gb_validator_add_costs, costs[i],
				    &unreadable);
	if (!status && unreadable)
		status = EXIT_INPUT;	/* nothing written */
	if (status)
		goto done;
	status = cmd_output_open(&out, output);
	if (status)
		goto done;
	rc = fmt == FMT_JSON ? gb_validator_write_json(v, cmd_output_write, &out, &err)
	   : fmt == FMT_CSV ? gb_validator_write_csv(v, cmd_output_write, &out, &err)
	   : gb_validator_write_text(v, cmd_output_write, &out, &err);
	if (rc) {
		status = cmd_lib_fail(rc, &err);
		goto done;
	}
	status = cmd_output_commit(&out);
	if (status)
		goto done;
	committed = 1;
	nfiles = gb_validator_files(v);
	for (i = 0; i < nfiles; i++) {
		int bad = 0;

		gb_validator_file(v, i, NULL, NULL, NULL, NULL, &bad);
		not_json |= bad;
	}
	if (!quiet) {
		size_t e = gb_validator_errors(v), w = gb_validator_warnings(v);

		fprintf(stderr, "%s: %zu %s, %zu %s in %zu %s\n", gb_prog, e,
			plural(e, "error", "errors"), w,
			plural(w, "warning", "warnings"), nfiles,
			plural(nfiles, "file", "files"));
	}
	if (not_json)
		status = EXIT_INPUT;
	else if (gb_validator_errors(v) ||
		 (strict && gb_validator_warnings(v)))
		status = EXIT_FINDINGS;
done:
	if (status && !committed)
		cmd_output_abort(&out);
	gb_validator_free(v);
	free(contracts);
	free(costs);
	return status;
}
