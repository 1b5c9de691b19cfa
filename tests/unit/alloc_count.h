/*
 * alloc_count.h - the allocator the allocation-failure tests install
 * (gb_set_allocator): it counts calls, fails call number fail_at (1-based;
 * 0 never), and keeps the number of live blocks in live, so a test can
 * fail every allocation of a run in turn and check that nothing leaked.
 * Each test program includes it once.
 */
#ifndef GPUBILL_TEST_ALLOC_COUNT_H
#define GPUBILL_TEST_ALLOC_COUNT_H

#include <gpubill/alloc.h>
#include <stdlib.h>

static long calls, fail_at, live;

static void *t_malloc(size_t n)
{
	void *p;

	if (++calls == fail_at)
		return NULL;
	p = malloc(n);
	if (p)
		live++;
	return p;
}

static void *t_realloc(void *old, size_t n)
{
	void *p;

	if (++calls == fail_at)
		return NULL;
	p = realloc(old, n);
	if (p && !old)
		live++;
	return p;
}

static void t_free(void *p)
{
	if (p)
		live--;
	free(p);
}

static const gb_allocator counting = { t_malloc, t_realloc, t_free };

#endif
