/* alloc.c - the library's allocation entry points and the allocator hook. */
#include "internal.h"

#include <gpubill/alloc.h>
#include <stdlib.h>
#include <string.h>

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
