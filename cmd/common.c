/* common.c - shared plumbing of the gpubill subcommands. */
#define _POSIX_C_SOURCE 200809L
#include "common.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char *gb_prog = "gpubill";

void cmd_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", gb_prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void cmd_lib_error(const gb_error *err)
{
	char buf[GB_ERROR_MESSAGE_MAX + GB_ERROR_SOURCE_MAX + GB_ERROR_PATH_MAX + 64];

	gb_error_format(buf, sizeof buf, err);
	cmd_error("%s", buf);
}

int cmd_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s%s%s: ", gb_prog, cmd ? " " : "", cmd ? cmd : "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry '%s%s%s --help'.\n", gb_prog, cmd ? " " : "",
		cmd ? cmd : "");
	return EXIT_USAGE;
}

int cmd_exit_for(int code)
{
	switch (code) {
	case GB_OK: return EXIT_CLEAN;
	case GB_EIO: return EXIT_IO;
	case GB_ENOMEM: return EXIT_IO; /* the run could not finish, as for I/O */
	case GB_EINVAL: return EXIT_USAGE;
	default: return EXIT_INPUT;
	}
}

int cmd_lib_fail(int code, const gb_error *err)
{
	cmd_lib_error(err);
	return cmd_exit_for(code);
}

int cmd_parse_count(const char *s, unsigned long long *out)
{
	unsigned long long v = 0;

	if (!*s)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || v > (ULLONG_MAX - 9) / 10)
			return -1;
		v = v * 10 + (unsigned)(*s - '0');
	}
	*out = v;
	return 0;
}

int cmd_read_file(const char *path, size_t max, char **out, size_t *len)
{
	int fd = strcmp(path, "-") == 0 ? STDIN_FILENO : open(path, O_RDONLY);
	size_t cap = 65536, n = 0;
	char *buf;

	*out = NULL;
	*len = 0;
	if (fd < 0) {
		cmd_error("%s: %s", path, strerror(errno));
		return EXIT_INPUT;
	}
	buf = malloc(cap);
	for (;;) {
		ssize_t r;

		if (!buf) {
			cmd_error("%s: out of memory", path);
			break;
		}
		if (n == cap) {
			char *p = cap * 2 > max + 1 ? NULL : realloc(buf, cap * 2);

			if (!p) {
				cmd_error("%s: %s", path, cap * 2 > max + 1 ?
					  "file too large" : "out of memory");
				break;
			}
			buf = p;
			cap *= 2;
		}
		r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			cmd_error("%s: %s", path, strerror(errno));
			break;
		}
		if (r == 0) {
			if (n > max) {
				cmd_error("%s: file too large (more than %zu bytes)",
					  path, max);
				break;
			}
			if (fd != STDIN_FILENO)
				close(fd);
			*out = buf;
			*len = n;
			return 0;
		}
		n += (size_t)r;
	}
	free(buf);
	if (fd != STDIN_FILENO)
		close(fd);
	return EXIT_INPUT;
}

/*
 * Where the default table is: $GPUBILL_DEFAULT_PRICES; the source tree's
 * when this binary runs from the build tree; else beside the installed
 * binary (BINDIR/../share/gpubill/...), so a relocated install works; else
 * the path configured at build time.
 */
static const char *default_prices_path(void)
{
	static char self[PATH_MAX], near[PATH_MAX + 64];
	const char *env = getenv("GPUBILL_DEFAULT_PRICES");
	ssize_t n;

	if (env && *env)
		return env;
	n = readlink("/proc/self/exe", self, sizeof self - 1);
	if (n > 0) {
		size_t bl = strlen(GPUBILL_BINARY_DIR);
		char *slash;

		self[n] = '\0';
		if (strncmp(self, GPUBILL_BINARY_DIR, bl) == 0 && self[bl] == '/')
			return GPUBILL_SOURCE_PRICES;
		slash = strrchr(self, '/');
		if (slash) {
			*slash = '\0';
			snprintf(near, sizeof near,
				 "%s/../share/gpubill/pricing-tables/default.json", self);
			if (access(near, R_OK) == 0)
				return near;
		}
	}
	return GPUBILL_INSTALLED_PRICES;
}

const char *cmd_default_prices_path(void)
{
	return default_prices_path();
}

#define PRICES_MAX_BYTES (64u * 1024u * 1024u)

int cmd_load_prices(const char *path, gb_prices **out)
{
	gb_error err;
	char *data;
	size_t len;
	int rc;

	if (!path)
		path = default_prices_path();
	rc = cmd_read_file(path, PRICES_MAX_BYTES, &data, &len);
	if (rc)
		return rc;
	gb_error_clear(&err);
	rc = gb_prices_load(out, data, len, path, &err);
	free(data);
	if (rc) {
		cmd_lib_error(&err);
		return EXIT_INPUT;
	}
	return 0;
}

int cmd_load_contracts(const char *path, const gb_prices *prices,
		       gb_contracts **out)
{
	gb_error err;
	char *data;
	size_t len;
	int rc = cmd_read_file(path, PRICES_MAX_BYTES, &data, &len);

	if (rc)
		return rc;
	gb_error_clear(&err);
	rc = gb_contracts_load(out, data, len, path, prices, &err);
	free(data);
	if (rc) {
		cmd_lib_error(&err);
		return EXIT_INPUT;
	}
	return 0;
}

int cmd_parse_period(const char *cmd, const char *month, const char *from,
		     const char *to, int64_t *pfrom, int64_t *pto)
{
	const char *why = NULL;

	if (month && (from || to))
		return cmd_usage_error(cmd, "give --period or --from/--to, not both");
	if (month) {
		if (gb_period_parse_month(pfrom, pto, month, strlen(month), &why))
			return cmd_usage_error(cmd, "--period '%s': expected YYYY-MM (%s)",
					       month, why ? why : "malformed");
		return 0;
	}
	if (!from || !to)
		return cmd_usage_error(cmd, "a billing period is required: --period YYYY-MM, or --from and --to");
	if (gb_time_parse(pfrom, from, strlen(from), &why))
		return cmd_usage_error(cmd, "--from '%s': %s", from, why ? why : "malformed");
	if (gb_time_parse(pto, to, strlen(to), &why))
		return cmd_usage_error(cmd, "--to '%s': %s", to, why ? why : "malformed");
	if (*pfrom >= *pto)
		return cmd_usage_error(cmd, "--from must be before --to");
	return 0;
}

/* --- atomic output ---------------------------------------------------------- */

#define MAX_TEMPS 4
static char *volatile live_temps[MAX_TEMPS];

static void on_signal(int sig)
{
	int i;

	for (i = 0; i < MAX_TEMPS; i++)
		if (live_temps[i])
			unlink(live_temps[i]);
	signal(sig, SIG_DFL);
	raise(sig);
}

void cmd_install_signal_handlers(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

static void temp_track(char *tmp, int add)
{
	int i;

	for (i = 0; i < MAX_TEMPS; i++) {
		if (add && !live_temps[i]) {
			live_temps[i] = tmp;
			return;
		}
		if (!add && live_temps[i] == tmp) {
			live_temps[i] = NULL;
			return;
		}
	}
}

int cmd_output_open(cmd_output *o, const char *path)
{
	int fd;

	memset(o, 0, sizeof *o);
	if (!path || strcmp(path, "-") == 0) {
		o->fp = stdout;
		return 0;
	}
	{
		/* A device, pipe or FIFO cannot be replaced by a rename: write
		 * to it directly (there is no "half-written" state to avoid). */
		struct stat st;

		if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
			o->fp = fopen(path, "w");
			if (!o->fp) {
				cmd_error("%s: %s", path, strerror(errno));
				return EXIT_IO;
			}
			o->path = strdup(path);
			return 0;
		}
	}
	o->path = strdup(path);
	o->tmp = malloc(strlen(path) + 16);
	if (!o->path || !o->tmp) {
		cmd_error("out of memory");
		return EXIT_IO;
	}
	snprintf(o->tmp, strlen(path) + 16, "%s.tmp.XXXXXX", path);
	fd = mkstemp(o->tmp);
	if (fd < 0) {
		cmd_error("%s: cannot create a temporary file beside it: %s",
			  path, strerror(errno));
		free(o->tmp);
		o->tmp = NULL;
		return EXIT_IO;
	}
	temp_track(o->tmp, 1);
	{
		/* mkstemp makes 0600; give the file the usual umask mode. */
		mode_t um = umask(0);

		umask(um);
		fchmod(fd, 0666 & ~um);
	}
	o->fp = fdopen(fd, "w");
	if (!o->fp) {
		cmd_error("%s: %s", path, strerror(errno));
		close(fd);
		cmd_output_abort(o);
		return EXIT_IO;
	}
	return 0;
}

int cmd_output_write(const void *data, size_t len, void *payload)
{
	cmd_output *o = payload;

	if (o->failed || fwrite(data, 1, len, o->fp) != len) {
		o->failed = 1;
		return -1;
	}
	return 0;
}

int cmd_output_finish(cmd_output *o)
{
	const char *name = o->path ? o->path : "standard output";
	int bad = o->failed;

	if (fflush(o->fp) != 0 || ferror(o->fp))
		bad = 1;
	if (o->tmp && fsync(fileno(o->fp)) != 0)
		bad = 1;
	if (o->fp != stdout) {
		if (fclose(o->fp) != 0)
			bad = 1;
		o->fp = NULL;
	}
	if (bad) {
		cmd_error("%s: write failed: %s", name,
			  errno ? strerror(errno) : "unknown error");
		cmd_output_abort(o);
		return EXIT_IO;
	}
	return 0;
}

int cmd_output_publish(cmd_output *o)
{
	if (o->tmp && rename(o->tmp, o->path) != 0) {
		cmd_error("%s: cannot rename the finished file into place: %s",
			  o->path, strerror(errno));
		cmd_output_abort(o);
		return EXIT_IO;
	}
	if (o->tmp)
		temp_track(o->tmp, 0);
	free(o->tmp);
	free(o->path);
	o->tmp = o->path = NULL;
	return 0;
}

int cmd_output_commit(cmd_output *o)
{
	int rc = cmd_output_finish(o);

	return rc ? rc : cmd_output_publish(o);
}

void cmd_output_abort(cmd_output *o)
{
	if (o->tmp) {
		if (o->fp)
			fclose(o->fp);
		unlink(o->tmp);
		temp_track(o->tmp, 0);
		free(o->tmp);
	} else if (o->fp && o->fp != stdout) {
		fclose(o->fp);
	}
	free(o->path);
	o->fp = NULL;
	o->tmp = o->path = NULL;
}
