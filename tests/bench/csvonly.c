/*
 * csvonly.c - gpubill-csvonly: gpubill's CSV reader alone, for profiling.
 *
 * Reads a file in 1 MiB chunks (as gpubill-floor does) and feeds them to
 * gb_csv_reader, with a row callback that visits every known field: it
 * adds each field's length and first byte to a sum (cheap, so that the
 * reader's splitting and field lookup dominate, not the callback).
 * Compare its time with gpubill-floor on the same file to see what the
 * reader costs over a bare libcsv loop.
 *
 * Usage: gpubill-csvonly FILE  (or - for standard input)
 * Prints: rows=N fields=N checksum=HEX bytes=N
 */
#define _POSIX_C_SOURCE 200809L
#include <gpubill/usage.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

typedef struct tally {
	uint64_t rows, fields, sum;
} tally;

static int visit_row(const gb_row *row, gb_error *err, void *payload)
{
	tally *t = payload;
	uint64_t fields = 0, sum = 0;
	int c;

	(void)err;
	for (c = 0; c < GB_COL__COUNT; c++) {
		const gb_field *f = &row->f[c];
		unsigned first = f->len ? (unsigned char)f->ptr[0] : 0u;

		fields += f->len != 0;
		sum += f->len * 131u + first;
	}
	t->rows++;
	t->fields += fields;
	t->sum += sum;
	return 0;
}

int main(int argc, char **argv)
{
	static char buf[1u << 20];
	tally t = { 0, 0, 0 };
	gb_csv_reader *r;
	gb_error err;
	uint64_t bytes = 0;
	int fd;

	if (argc != 2) {
		fputs("usage: gpubill-csvonly FILE\n", stderr);
		return 2;
	}
	fd = strcmp(argv[1], "-") == 0 ? STDIN_FILENO : open(argv[1], O_RDONLY);
	if (fd < 0) {
		fprintf(stderr, "gpubill-csvonly: %s: %s\n", argv[1],
			strerror(errno));
		return 1;
	}
	if (gb_csv_reader_new(&r, argv[1], &err) != 0) {
		fprintf(stderr, "gpubill-csvonly: %s\n", err.message);
		return 1;
	}
	for (;;) {
		ssize_t n = read(fd, buf, sizeof buf);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			fprintf(stderr, "gpubill-csvonly: %s: %s\n", argv[1],
				strerror(errno));
			return 1;
		}
		if (n == 0)
			break;
		bytes += (uint64_t)n;
		if (gb_csv_reader_feed(r, buf, (size_t)n, visit_row, &t, &err)) {
			fprintf(stderr, "gpubill-csvonly: %s:%" PRIu64 ": %s\n",
				argv[1], err.line, err.message);
			return 1;
		}
	}
	if (gb_csv_reader_finish(r, visit_row, &t, &err)) {
		fprintf(stderr, "gpubill-csvonly: %s:%" PRIu64 ": %s\n",
			argv[1], err.line, err.message);
		return 1;
	}
	gb_csv_reader_free(r);
	if (fd != STDIN_FILENO)
		close(fd);
	printf("rows=%" PRIu64 " fields=%" PRIu64 " checksum=%016" PRIx64
	       " bytes=%" PRIu64 "\n", t.rows, t.fields, t.sum, bytes);
	return 0;
}
