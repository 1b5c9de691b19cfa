/*
 * alloc_count.h - the allocator the allocation-failure tests install
 * (gb_set_allocator): it counts calls, fails call number fail_at (1-based;
 * 0 never), and keeps the number of live blocks in live, so a test can
 * fail every allocation of a run in turn and check that nothing leaked.
 * Each test program includes it once.  add_row_or_stop is the row
 * callback such runs feed the rater through.
 */
#ifndef GPUBILL_TEST_ALLOC_COUNT_H
#define GPUBILL_TEST_ALLOC_COUNT_H

#include <gpubill/alloc.h>
#include <gpubill/error.h>
#include <gpubill/rater.h>
#include <gpubill/usage.h>
#include <stdio.h>
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

/* Rate each row; stop the reader at the first failure (no memory, in these
 * runs), with its code and message in err.  Inline: not every program
 * that includes this feeds rows. */
static inline int add_row_or_stop(const gb_row *row, gb_error *err,
				  void *payload)
{
	gb_outcome oc;
	int rc = gb_rater_add_row(payload, row, &oc);

	if (rc) {
		err->code = rc;
		snprintf(err->message, sizeof err->message, "%s", gb_strerror(rc));
	}
	return rc != 0;
}

#endif
