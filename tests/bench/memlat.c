/*
 * gpubill-memlat: what a random read costs on this machine, for tables of
 * the sizes given (MiB; default 4 32 256).  The benchmark prints it beside
 * the per-record cost at 10 and at 1,000,000 customers (README.md here):
 * with a million customers every record looks its customer and its bucket
 * up in tables of 30 to 250 MiB, where with ten they stay in the cache.
 *
 *   dependent    each read's address comes from the read before (a chase
 *                round one random cycle of the table's cache lines): the
 *                latency a lookup pays when nothing can start it early;
 *   independent  the addresses are known in advance, so the processor
 *                overlaps the misses: what a well-prefetched lookup pays.
 *
 * Times only, in nanoseconds per read; no money passes through here.
 */
#define _POSIX_C_SOURCE 200809L
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define LINE 64u
#define DEPENDENT_READS 4000000u
#define INDEPENDENT_READS 16000000u

typedef struct node {
	uint64_t next;               /* index of the next node of the cycle */
	unsigned char pad[LINE - sizeof(uint64_t)];
} node;

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static volatile uint64_t sink;  /* keeps the reads from being dropped */

static uint64_t next_random(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static uint64_t now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

/* "12.3": tenths of a nanosecond per read */
static void print_ns(const char *what, uint64_t ns, uint64_t reads)
{
	uint64_t tenths = (ns * 10 + reads / 2) / reads;

	printf(" %s %" PRIu64 ".%" PRIu64 " ns", what, tenths / 10, tenths % 10);
}

static int measure(uint64_t mib)
{
	size_t n = (size_t)(mib << 20) / sizeof(node), i;
	node *t;
	uint32_t *idx;
	uint64_t start, at = 0, sum = 0;

	if (n < 2 || n > UINT32_MAX) {
		fprintf(stderr, "gpubill-memlat: %" PRIu64 " MiB: out of range\n",
			mib);
		return -1;
	}
	t = malloc(n * sizeof *t);
	idx = malloc(INDEPENDENT_READS * sizeof *idx);
	if (!t || !idx) {
		fprintf(stderr, "gpubill-memlat: out of memory\n");
		free(t);
		free(idx);
		return -1;
	}
	memset(t, 0, n * sizeof *t);
	/* Sattolo's shuffle: one cycle through every line */
	for (i = 0; i < n; i++)
		t[i].next = i;
	for (i = n - 1; i > 0; i--) {
		size_t j = (size_t)(next_random() % i);
		uint64_t x = t[i].next;

		t[i].next = t[j].next;
		t[j].next = x;
	}
	for (i = 0; i < INDEPENDENT_READS; i++)
		idx[i] = (uint32_t)(next_random() % n);

	start = now_ns();
	for (i = 0; i < DEPENDENT_READS; i++)
		at = t[at].next;
	printf("memlat: %4" PRIu64 " MiB:", mib);
	print_ns("dependent", now_ns() - start, DEPENDENT_READS);

	start = now_ns();
	for (i = 0; i < INDEPENDENT_READS; i++)
		sum += t[idx[i]].next;
	print_ns("independent", now_ns() - start, INDEPENDENT_READS);
	printf("\n");
	sink = at ^ sum;
	free(t);
	free(idx);
	return 0;
}

int main(int argc, char **argv)
{
	static const char *const sizes[] = { "4", "32", "256" };
	int i, n = argc > 1 ? argc - 1 : 3;

	if (argc > 1 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		printf("Usage: gpubill-memlat [MIB...]\n\n"
		       "Nanoseconds per random read of tables of MIB MiB "
		       "(default 4 32 256):\ndependent (a chase) and "
		       "independent (overlapped) reads.\n");
		return 0;
	}
	for (i = 0; i < n; i++) {
		const char *s = argc > 1 ? argv[i + 1] : sizes[i];
		char *end;
		unsigned long long v = strtoull(s, &end, 10);

		if (!*s || *end || v == 0 || v > 65536) {
			fprintf(stderr, "gpubill-memlat: '%s': not a size in MiB "
				"(1 to 65536)\n", s);
			return 2;
		}
		if (measure(v) != 0)
			return 1;
	}
	return 0;
}
