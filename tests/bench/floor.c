/*
 * floor.c - gpubill-floor: the bare libcsv parse loop, the benchmark's floor.
 *
 * Reads a file in 1 MiB chunks and hands them to csv_parse, with callbacks
 * that do the least that still visits every field: add its length and first
 * byte to a checksum (so the compiler cannot drop the work) and count rows.
 * Nothing is validated, converted or stored.  No program that reads CSV
 * through libcsv can be faster than this on the same file; gpubill's
 * throughput is reported as a fraction of it.
 *
 * Usage: gpubill-floor FILE  (or - for standard input)
 * Prints: rows=N fields=N checksum=HEX bytes=N
 */
#define _POSIX_C_SOURCE 200809L
#include <csv.h>
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

static void on_field(void *data, size_t len, void *payload)
{
	tally *t = payload;
	unsigned first = len ? *(const unsigned char *)data : 0u;

	t->fields++;
	t->sum = (t->sum ^ (len * 131u + first)) * 0x100000001b3ull;
}

static void on_row(int term, void *payload)
{
	tally *t = payload;

	(void)term;
	t->rows++;
}

int main(int argc, char **argv)
{
	static char buf[1u << 20];
	struct csv_parser p;
	tally t = { 0, 0, 0xcbf29ce484222325ull };
	uint64_t bytes = 0;
	int fd;

	if (argc != 2) {
		fputs("usage: gpubill-floor FILE\n", stderr);
		return 2;
	}
	fd = strcmp(argv[1], "-") == 0 ? STDIN_FILENO : open(argv[1], O_RDONLY);
	if (fd < 0) {
		fprintf(stderr, "gpubill-floor: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	if (csv_init(&p, 0) != 0) {
		fputs("gpubill-floor: csv_init failed\n", stderr);
		return 1;
	}
	for (;;) {
		ssize_t n = read(fd, buf, sizeof buf);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			fprintf(stderr, "gpubill-floor: %s: %s\n", argv[1], strerror(errno));
			return 1;
		}
		if (n == 0)
			break;
		bytes += (uint64_t)n;
		if (csv_parse(&p, buf, (size_t)n, on_field, on_row, &t) != (size_t)n) {
			fprintf(stderr, "gpubill-floor: %s: %s\n", argv[1],
				csv_strerror(csv_error(&p)));
			return 1;
		}
	}
	csv_fini(&p, on_field, on_row, &t);
	csv_free(&p);
	if (fd != STDIN_FILENO)
		close(fd);
	printf("rows=%" PRIu64 " fields=%" PRIu64 " checksum=%016" PRIx64
	       " bytes=%" PRIu64 "\n", t.rows, t.fields, t.sum, bytes);
	return 0;
}
