/*
 * common.h - what every gpubill subcommand shares: exit statuses, error
 * printing, reading inputs, atomic output files.
 */
#ifndef GPUBILL_CMD_COMMON_H
#define GPUBILL_CMD_COMMON_H

#include <gpubill/gpubill.h>
#include <stdio.h>

/* Exit statuses (gpubill(1), EXIT STATUS). */
enum {
	EXIT_CLEAN = 0,      /* done, nothing to report */
	EXIT_FINDINGS = 1,   /* done, with rejected records or findings */
	EXIT_USAGE = 2,      /* bad command line */
	EXIT_INPUT = 3,      /* bad input file or configuration; nothing written */
	EXIT_IO = 4          /* input/output error */
};

typedef struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
} command;

extern const char *gb_prog;

/* The subcommands, one source file each. */
int cmd_invoice(int argc, char **argv);
int cmd_margin(int argc, char **argv);
int cmd_quote(int argc, char **argv);
int cmd_explain(int argc, char **argv);
int cmd_validate(int argc, char **argv);
int cmd_diff(int argc, char **argv);

/* "gpubill: message" on stderr. */
void cmd_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "gpubill: source:line: path: message" from a library error. */
void cmd_lib_error(const gb_error *err);
/* Usage error: message, a hint to --help, and EXIT_USAGE. */
int cmd_usage_error(const char *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Map a library error code to an exit status. */
int cmd_exit_for(int code);

/* Print err and return the exit status for code (a library return value). */
int cmd_lib_fail(int code, const gb_error *err);

/*
 * Read a whole file ("-" = stdin) into a malloc'd buffer, refusing files
 * larger than max bytes.  Returns 0, or EXIT_INPUT with a message printed.
 */
int cmd_read_file(const char *path, size_t max, char **out, size_t *len);

/* Where the default pricing table is (gpubill(1), FILES). */
const char *cmd_default_prices_path(void);

/* The pricing table: path, or the default table when path is NULL. */
int cmd_load_prices(const char *path, gb_prices **out);

/* A contracts file, checked against prices. */
int cmd_load_contracts(const char *path, const gb_prices *prices,
		       gb_contracts **out);

/* Parse "2026-10" or a pair of RFC 3339 timestamps into a period. */
int cmd_parse_period(const char *cmd, const char *month, const char *from,
		     const char *to, int64_t *pfrom, int64_t *pto);

/* A non-negative decimal integer option value; 0 on success. */
int cmd_parse_count(const char *s, unsigned long long *out);

/*
 * Output that appears whole or not at all: with a path, bytes go to a
 * temporary file in the same directory, renamed over the path on commit;
 * without one (or "-"), to stdout.  SIGINT/SIGTERM remove the temporary.
 */
typedef struct cmd_output {
	char *path;
	char *tmp;
	FILE *fp;
	int failed;
} cmd_output;

int cmd_output_open(cmd_output *o, const char *path);
int cmd_output_write(const void *data, size_t len, void *payload); /* gb_write_fn */
/*
 * Two steps, so several outputs appear together or not at all: finish
 * (flush, fsync, close; on failure remove the temporary) every output,
 * then publish (rename into place) each.  commit does both for one.
 * Each returns 0 or EXIT_IO with a message printed.
 */
int cmd_output_finish(cmd_output *o);
int cmd_output_publish(cmd_output *o);
int cmd_output_commit(cmd_output *o);
void cmd_output_abort(cmd_output *o);   /* removes the temporary file */

/* Install SIGINT/SIGTERM handlers that remove open temporaries. */
void cmd_install_signal_handlers(void);

#endif
