/* alloc.c - the library's allocation entry points. */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

void *gb_malloc(size_t n)
{
	return malloc(n ? n : 1);
}

void *gb_calloc(size_t n, size_t size)
{
	return calloc(n ? n : 1, size ? size : 1);
}

void *gb_realloc(void *p, size_t n)
{
	return realloc(p, n ? n : 1);
}

void gb_free(void *p)
{
	free(p);
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
