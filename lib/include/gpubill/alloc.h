/*
 * gpubill/alloc.h - route the library's memory through your allocator.
 */
#ifndef GPUBILL_ALLOC_H
#define GPUBILL_ALLOC_H

#include <stddef.h>
#include "error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct gb_allocator {
	void *(*malloc_fn)(size_t size);
	void *(*realloc_fn)(void *ptr, size_t size);
	void (*free_fn)(void *ptr);
} gb_allocator;

/*
 * Use these functions for every allocation gpubill and its CSV parser
 * make; NULL restores the C library's.  Set it before creating any
 * gpubill object and do not change it while one exists; it is process-wide
 * and not thread-safe.  An allocation that fails makes the call return
 * GB_ENOMEM with nothing leaked.  Not covered: cJSON's parse tree (a
 * failure there is reported as an unparsable file) and GMP's numbers
 * (GMP aborts the process when it cannot allocate; see mp_set_memory_functions).
 */
GB_EXTERN void gb_set_allocator(const gb_allocator *allocator);

#ifdef __cplusplus
}
#endif

#endif
