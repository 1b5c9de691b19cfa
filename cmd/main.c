/*
 * main.c - gpubill: dispatch to one subcommand per source file.
 */
#include "common.h"

#include <string.h>


static const command commands[] = {
	{ "invoice", cmd_invoice, "rate usage logs and write invoices" },
	{ "margin", cmd_margin, "revenue, cost and margin of the invoices" },
	{ "quote", cmd_quote, "what a workload costs under one or more tables" },
	{ "explain", cmd_explain, "how one record was priced" },
	{ "validate", cmd_validate, "check pricing tables, contracts and costs" },
	{ "diff", cmd_diff, "what a new pricing table changes on real usage" },
};

#define NCOMMANDS (sizeof commands / sizeof commands[0])

static void help(FILE *fp)
{
	size_t i;

	fprintf(fp, "Usage: gpubill COMMAND [OPTIONS]...\n"
		    "       gpubill --help | --version\n\n"
		    "Exact GPU-hour and token billing.\n\nCommands:\n");
	for (i = 0; i < NCOMMANDS; i++)
		fprintf(fp, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fprintf(fp, "\n'gpubill COMMAND --help' describes a command; "
		    "man gpubill(1) describes them all.\n");
}

int main(int argc, char **argv)
{
	size_t i;

	cmd_install_signal_handlers();
	if (argc < 2) {
		help(stderr);
		return EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		help(stdout);
		return EXIT_CLEAN;
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0) {
		printf("gpubill %s (libgpubill %s)\n", GPUBILL_VERSION, gb_version());
		return EXIT_CLEAN;
	}
	for (i = 0; i < NCOMMANDS; i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].run(argc - 1, argv + 1);
	return cmd_usage_error(NULL, "unknown command '%s'", argv[1]);
}
