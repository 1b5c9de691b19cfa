/* alloc.c - the library's allocation entry points and the allocator hook. */
#define _DEFAULT_SOURCE 1 /* madvise and MADV_HUGEPAGE */
#include "internal.h"

#include <gpubill/alloc.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#ifdef __linux__
#include <sys/mman.h>
#endif

static gb_allocator current = { malloc, realloc, free };

void gb_set_allocator(const gb_allocator *a)
{
	if (a && a->malloc_fn && a->realloc_fn && a->free_fn)
		current = *a;
	else {
		current.malloc_fn = malloc;
		current.realloc_fn = realloc;
		current.free_fn = free;
	}
}

void *gb_malloc(size_t n)
{
	return current.malloc_fn(n ? n : 1);
}

void *gb_calloc(size_t n, size_t size)
{
	void *p;

	if (n == 0 || size == 0)
		n = size = 1;
	if (n > (size_t)-1 / size)
		return NULL;
	p = current.malloc_fn(n * size);
	if (p)
		memset(p, 0, n * size);
	return p;
}

/*
 * Large tables that are probed at random (the id set)
 * spend much of their time in TLB misses on 4 KiB pages.  From
 * GB_HUGE_MIN bytes up they are placed on 2 MiB boundaries and marked for
 * transparent huge pages (advice only: where the kernel declines, they
 * are ordinary memory).  The block still comes from the allocator hook;
 * the pointer it returned is kept in the word before the aligned one.
 */
#define GB_HUGE_PAGE ((size_t)2 << 20)
#define GB_HUGE_MIN ((size_t)8 << 20)

void *gb_calloc_huge(size_t n, size_t size)
{
	size_t bytes, align;
	unsigned char *raw, *p;
	int zeroed;

	if (n == 0 || size == 0)
		n = size = 1;
	if (n > ((size_t)-1 - GB_HUGE_PAGE - sizeof raw) / size)
		return NULL;
	bytes = n * size;
	align = bytes >= GB_HUGE_MIN ? GB_HUGE_PAGE : sizeof(max_align_t);
	/* The C library's calloc hands out fresh pages of a large block
	 * without writing them: zeroing them again would fault in all of
	 * them now, before the huge-page advice, and write them twice. */
	zeroed = current.malloc_fn == malloc;
	raw = zeroed ? calloc(1, bytes + sizeof raw + align - 1)
		     : current.malloc_fn(bytes + sizeof raw + align - 1);
	if (!raw)
		return NULL;
	p = raw + sizeof raw;
	p += (align - (uintptr_t)p % align) % align;
	memcpy(p - sizeof raw, &raw, sizeof raw);
#if defined(__linux__) && defined(MADV_HUGEPAGE)
	if (align == GB_HUGE_PAGE)
		(void)madvise(p, bytes - bytes % GB_HUGE_PAGE, MADV_HUGEPAGE);
#endif
	if (!zeroed)
		memset(p, 0, bytes);
	return p;
}

void gb_free_huge(void *p)
{
	void *raw;

	if (!p)
		return;
	memcpy(&raw, (unsigned char *)p - sizeof raw, sizeof raw);
	current.free_fn(raw);
}

void *gb_realloc(void *p, size_t n)
{
	return current.realloc_fn(p, n ? n : 1);
}

void gb_free(void *p)
{
	if (p)
		current.free_fn(p);
}

char *gb_strndup(const char *s, size_t n)
{
	char *d = gb_malloc(n + 1);

	if (!d)
		return NULL;
	if (n)
		memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

char *gb_strdup(const char *s)
{
	return gb_strndup(s, strlen(s));
}
