/*
 * rate.c - the invoice inputs and the loop that streams usage files into
 * raters, shared by invoice, margin, explain and diff.
 */
#define _POSIX_C_SOURCE 200809L
#include "rate.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define REJECTS_SHOWN 10

void cmd_inputs_init(cmd_inputs *in, const char *cmd)
{
	static const gb_rater_options init = GB_RATER_OPTIONS_INIT;

	memset(in, 0, sizeof *in);
	in->cmd = cmd;
	in->opts = init;
}

void cmd_inputs_free(cmd_inputs *in)
{
	gb_contracts_free(in->contracts);
	gb_prices_free(in->prices);
	free(in->customers);
	in->contracts = NULL;
	in->prices = NULL;
	in->customers = NULL;
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

int cmd_inputs_option(cmd_inputs *in, int c, const char *arg)
{
	switch (c) {
	case 'p': in->prices_path = arg; return 0;
	case 'c': in->contracts_path = arg; return 0;
	case CMD_OPT_PERIOD: in->month = arg; return 0;
	case CMD_OPT_FROM: in->from = arg; return 0;
	case CMD_OPT_TO: in->to = arg; return 0;
	case CMD_OPT_REJECTS: in->rejects_path = arg; return 0;
	case CMD_OPT_CUSTOMER: {
		const char **p = realloc(in->customers,
					 (in->ncustomers + 1) * sizeof *p);

		if (!p) {
			cmd_error("out of memory");
			return EXIT_IO;
		}
		in->customers = p;
		in->customers[in->ncustomers++] = arg;
		in->opts.customers = in->customers;
		in->opts.ncustomers = in->ncustomers;
		return 0;
	}
	case CMD_OPT_SHARD:
		if (parse_shard(arg, &in->opts))
			return cmd_usage_error(in->cmd, "--shard '%s': expected K/N with 1 <= K <= N", arg);
		return 0;
	case CMD_OPT_MAX_REJECTS:
		if (cmd_parse_count(arg, &in->max_rejects))
			return cmd_usage_error(in->cmd, "--max-rejects '%s': expected a whole number", arg);
		in->limit_rejects = 1;
		return 0;
	default:
		return -1;
	}
}

int cmd_inputs_load_period(cmd_inputs *in)
{
	return cmd_parse_period(in->cmd, in->month, in->from, in->to,
				&in->opts.period_from, &in->opts.period_to);
}

int cmd_inputs_load_contracts(cmd_inputs *in, const gb_prices *prices)
{
	int status;

	if (!in->contracts_path)
		return 0;
	status = cmd_load_contracts(in->contracts_path, prices, &in->contracts);
	if (status == 0)
		in->opts.contracts = in->contracts;
	return status;
}

int cmd_inputs_load(cmd_inputs *in)
{
	int status = cmd_inputs_load_period(in);

	if (status == 0)
		status = cmd_load_prices(in->prices_path, &in->prices);
	if (status == 0)
		status = cmd_inputs_load_contracts(in, in->prices);
	return status;
}

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

static void note_reject(cmd_feed *f, const gb_row *row, const gb_outcome *oc)
{
	const gb_field *id = &row->f[GB_COL_ID];

	if (f->have_rejects_file) {
		FILE *fp = f->rejects.fp;

		fprintf(fp, "%llu,", (unsigned long long)row->line);
		csv_field(fp, id->ptr ? id->ptr : "", id->len);
		fprintf(fp, ",%s,", gb_reason_code(oc->reason));
		csv_field(fp, oc->message, strlen(oc->message));
		fputc(',', fp);
		csv_field(fp, row->source, strlen(row->source));
		fputs("\r\n", fp);
		return;
	}
	if (f->shown++ < REJECTS_SHOWN)
		cmd_error("%s:%llu: rejected (%s): %s", row->source,
			  (unsigned long long)row->line,
			  gb_reason_code(oc->reason), oc->message);
}

static int stop(gb_error *err, const gb_row *row, int code, const char *msg)
{
	gb_error_clear(err);
	err->code = code;
	snprintf(err->message, sizeof err->message, "%s", msg);
	snprintf(err->source, sizeof err->source, "%s", row->source);
	err->line = row->line;
	return 1;
}

static int on_row(const gb_row *row, gb_error *err, void *payload)
{
	cmd_feed *f = payload;
	gb_outcome oc;
	gb_counts c;
	size_t i;

	for (i = 0; i < f->nraters; i++) {
		int rc = gb_rater_add_row(f->rater[i], row, &oc);

		if (rc) {
			f->abort_code = EXIT_IO;
			return stop(err, row, rc, gb_strerror(rc));
		}
		if (f->on_outcome) {
			int status = f->on_outcome(row, &oc, i, f->payload);

			if (status) {
				f->abort_code = status;
				f->hook_stopped = 1;
				return stop(err, row, GB_EABORT, "stopped");
			}
		}
		if (i != 0 || oc.state != GB_STATE_REJECTED)
			continue;
		note_reject(f, row, &oc);
		if (f->limit_rejects) {
			gb_rater_counts(f->rater[0], &c);
			if (c.rejected > f->max_rejects) {
				char msg[128];

				snprintf(msg, sizeof msg,
					 "more than %llu rows rejected (--max-rejects); stopping",
					 f->max_rejects);
				f->abort_code = EXIT_INPUT;
				return stop(err, row, GB_EABORT, msg);
			}
		}
	}
	if (f->progress) {
		gb_rater_counts(f->rater[0], &c);
		if ((c.read & 0xfffff) == 0)
			fprintf(stderr, "\r%s: %llu rows...", gb_prog,
				(unsigned long long)c.read);
	}
	return 0;
}

/* The reader's filter: rows of customers the rater skips are not read
 * past their customer field. */
static int keep_customer(const gb_field *value, void *payload)
{
	return gb_rater_selects(payload, value->ptr, value->len);
}

/*
 * Whether the reader may stop reading other customers' rows: only one
 * rater decides (diff rates each row twice, under two tables), no hook
 * looks at the rows, explain may be asked about a skipped one, and
 * --customer or --shard leaves some customers out.
 */
static int can_filter(const cmd_feed *f)
{
	return f->selecting && f->nraters == 1 && !f->on_outcome &&
	       !f->full_rows;
}

/*
 * Size the raters' id sets for the whole file up front, from its size and
 * the rows in its first block, so they are not rehashed as they fill.
 * Only a hint: a failure here is not an error.
 */
static void reserve_rows(cmd_feed *f, const struct stat *st, const char *block,
			 size_t n)
{
	uint64_t lines = 0, rows;
	const char *p = block, *end = block + n;
	size_t i;

	if (!S_ISREG(st->st_mode) || st->st_size <= 0 || n == 0)
		return;
	while ((p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		lines++;
		p++;
	}
	rows = (uint64_t)st->st_size / n * lines +
	       (uint64_t)st->st_size % n * lines / n + 1;
	/* A first block of unusually short lines must not reserve far more
	 * than the file can hold: no record fits in fewer than 32 bytes
	 * (an id, a customer, a type and an RFC 3339 start). */
	if (rows > (uint64_t)st->st_size / 32 + 1)
		rows = (uint64_t)st->st_size / 32 + 1;
	for (i = 0; i < f->nraters; i++)
		if (f->rater[i])
			(void)gb_rater_reserve(f->rater[i], rows, NULL);
}

#define READ_BLOCK (1u << 20)
#define MAP_WINDOW (8u << 20)	/* a multiple of any page size */

/*
 * Where a usage file's bytes come from: a regular file is mapped a window
 * at a time, each unmapped before the next (file pages count as resident
 * memory), which saves the kernel's copy into a buffer: a few percent of
 * a run, more when two shards share a machine.  What the file gains while
 * it is read, and anything that cannot be mapped, comes through read().
 * (A file cut shorter while mapped would end the run with SIGBUS; a usage
 * log is not rewritten in place while it is billed.)
 */
typedef struct source {
	int fd;
	int mapping;
	off_t size, off;	/* mapping: the size at the start, the next window */
	void *map;
	size_t map_len;
} source;

static void source_unmap(source *s)
{
	if (s->map)
		munmap(s->map, s->map_len);
	s->map = NULL;
}

/* The next block in *p, *n (0 at the end); -1 with errno on failure. */
static int source_next(source *s, const char **p, size_t *n)
{
	static char buf[READ_BLOCK];
	ssize_t got;

	source_unmap(s);
	if (s->mapping && s->off < s->size) {
		size_t len = (uint64_t)(s->size - s->off) < MAP_WINDOW
			     ? (size_t)(s->size - s->off) : MAP_WINDOW;
		void *m = mmap(NULL, len, PROT_READ, MAP_PRIVATE, s->fd,
			       s->off);

		if (m != MAP_FAILED) {
			/* start reading in what is not cached yet */
			(void)posix_madvise(m, len, POSIX_MADV_WILLNEED);
			s->map = m;
			s->map_len = len;
			s->off += (off_t)len;
			*p = m;
			*n = len;
			return 0;
		}
	}
	if (s->mapping) {
		/* read() on from where the windows stopped */
		s->mapping = 0;
		if (lseek(s->fd, s->off, SEEK_SET) < 0)
			return -1;
	}
	do
		got = read(s->fd, buf, sizeof buf);
	while (got < 0 && errno == EINTR);
	if (got < 0)
		return -1;
	*p = buf;
	*n = (size_t)got;
	return 0;
}

/* Stream one usage file through the CSV reader into the raters. */
static int feed_file(cmd_feed *f, const char *path)
{
	gb_csv_reader *reader = NULL;
	source src = { 0 };
	gb_error err;
	int fd = strcmp(path, "-") == 0 ? STDIN_FILENO : open(path, O_RDONLY);
	int rc = 0, status = 0, first = 1;
	struct stat st;

	gb_error_clear(&err);
	if (fd < 0) {
		cmd_error("%s: %s", path, strerror(errno));
		return EXIT_INPUT;
	}
	/* An input that cannot be read at all is bad input (3), not an I/O
	 * failure part-way through (4). */
	if (fstat(fd, &st) != 0)
		memset(&st, 0, sizeof st);
	if (S_ISDIR(st.st_mode)) {
		cmd_error("%s: %s", path, strerror(EISDIR));
		close(fd);
		return EXIT_INPUT;
	}
	if (gb_csv_reader_new(&reader, path, &err) != 0) {
		cmd_lib_error(&err);
		status = EXIT_IO;
		goto out;
	}
	if (can_filter(f)) {
		(void)gb_csv_reader_set_filter(reader, GB_COL_CUSTOMER,
					       keep_customer, f->rater[0]);
	}
	src.fd = fd;
	src.mapping = S_ISREG(st.st_mode) && st.st_size > 0;
	src.size = st.st_size;
	for (;;) {
		const char *p;
		size_t n;

		if (source_next(&src, &p, &n) != 0) {
			cmd_error("%s: read error: %s", path, strerror(errno));
			status = EXIT_IO;
			goto out;
		}
		if (n == 0)
			break;
		if (first) {
			/* from a first block as long as read() gives */
			reserve_rows(f, &st, p, n < READ_BLOCK ? n : READ_BLOCK);
			first = 0;
		}
		rc = gb_csv_reader_feed(reader, p, n, on_row, f, &err);
		if (rc)
			break;
	}
	if (rc == 0)
		rc = gb_csv_reader_finish(reader, on_row, f, &err);
	if (rc) {
		/* A hook that stopped the run has said why already. */
		if (!f->hook_stopped)
			cmd_lib_error(&err);
		/* out of memory, in the reader or in the filter's rater:
		 * exit 4, as when the rater runs out of it */
		status = rc == GB_EABORT && f->abort_code ? f->abort_code
		       : rc == GB_ENOMEM ? EXIT_IO : EXIT_INPUT;
	}
out:
	source_unmap(&src);
	gb_csv_reader_free(reader);
	if (fd != STDIN_FILENO)
		close(fd);
	return status;
}

int cmd_feed_open(cmd_feed *f, const cmd_inputs *in)
{
	int status;

	f->max_rejects = in->max_rejects;
	f->limit_rejects = in->limit_rejects;
	/* --shard 1/1 skips no one */
	f->selecting = in->opts.ncustomers > 0 || in->opts.shard_count > 1;
	f->progress = !f->quiet && isatty(STDERR_FILENO);
	if (!in->rejects_path)
		return 0;
	status = cmd_output_open(&f->rejects, in->rejects_path);
	if (status)
		return status;
	f->have_rejects_file = 1;
	fputs("line,id,reason,message,file\r\n", f->rejects.fp);
	return 0;
}

int cmd_feed_files(cmd_feed *f, char *const *paths, int n)
{
	int i, status = 0;

	for (i = 0; i < n && status == 0; i++)
		status = feed_file(f, paths[i]);
	if (f->progress)
		fputs("\r\033[K", stderr);
	return status;
}

int cmd_feed_read(cmd_feed *f, const cmd_inputs *in, char *const *paths, int n)
{
	int status = cmd_feed_open(f, in);

	return status ? status : cmd_feed_files(f, paths, n);
}

int cmd_feed_run(cmd_feed *f, const cmd_inputs *in, char *const *paths, int n,
		 gb_invoice_set **sets)
{
	gb_error err;
	size_t i;
	int status = cmd_feed_read(f, in, paths, n), rc;

	for (i = 0; i < f->nraters && status == 0; i++) {
		gb_error_clear(&err);
		rc = gb_rater_finish(f->rater[i], &sets[i], &err);
		if (rc)
			status = cmd_lib_fail(rc, &err);
	}
	return status;
}

int cmd_feed_commit(cmd_feed *f, cmd_output *out)
{
	int status = out ? cmd_output_finish(out) : 0;

	if (status == 0 && f->have_rejects_file)
		status = cmd_output_finish(&f->rejects);
	if (status == 0 && out)
		status = cmd_output_publish(out);
	if (status == 0 && f->have_rejects_file)
		status = cmd_output_publish(&f->rejects);
	if (status == 0)
		f->have_rejects_file = 0;
	return status;
}

int cmd_feed_done(cmd_feed *f, cmd_output *out, const gb_invoice_set *set)
{
	int status = cmd_feed_commit(f, out);

	if (status)
		return status;
	if (!f->quiet)
		cmd_print_summary(set, NULL);
	return gb_invoice_set_counts(set)->rejected ? EXIT_FINDINGS : EXIT_CLEAN;
}

void cmd_feed_close(cmd_feed *f, int failed)
{
	if (f->have_rejects_file)
		cmd_output_abort(&f->rejects);
	f->have_rejects_file = 0;
	if (!failed && f->shown > REJECTS_SHOWN)
		cmd_error("... and %llu more rejected rows (use --rejects FILE to keep them all)",
			  f->shown - REJECTS_SHOWN);
}

void cmd_print_summary(const gb_invoice_set *set, const char *label)
{
	const gb_counts *c = gb_invoice_set_counts(set);
	char total[128];
	mpz_t t;

	mpz_init(t);
	gb_invoice_set_total(set, t);
	gb_money_format(total, sizeof total, t, gb_invoice_set_minor_units(set));
	mpz_clear(t);
	fprintf(stderr, "%s: %s%s%llu records read: %llu billed, %llu rejected, "
		"%llu duplicates, %llu outside period",
		gb_prog, label ? label : "", label ? ": " : "",
		(unsigned long long)c->read,
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

int cmd_pick(const char *s, const char *const *names)
{
	int i;

	for (i = 0; names[i]; i++)
		if (strcmp(s, names[i]) == 0)
			return i;
	return -1;
}
