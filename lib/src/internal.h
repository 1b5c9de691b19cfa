/*
 * internal.h - helpers shared by the library's sources.  Not installed.
 */
#ifndef GPUBILL_INTERNAL_H
#define GPUBILL_INTERNAL_H

#include <gpubill/error.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#if defined(__GNUC__)
#define GB_PRINTF(a, b) __attribute__((format(printf, a, b)))
#define GB_LIKELY(x) __builtin_expect(!!(x), 1)
#define GB_UNLIKELY(x) __builtin_expect(!!(x), 0)
/* Start loading the cache line at p; a hint only. */
#define GB_PREFETCH(p) __builtin_prefetch(p)
#else
#define GB_PRINTF(a, b)
#define GB_LIKELY(x) (x)
#define GB_UNLIKELY(x) (x)
#define GB_PREFETCH(p) ((void)(p))
#endif

/* 128-bit unsigned accumulators for quantities (GPU-seconds, tokens). */
__extension__ typedef unsigned __int128 gb_u128;

/* The hash's pieces (hash.c, and the row content hash in record.c),
 * after the public-domain wyhash/mum idea: multiply 64x64 to 128 bits and
 * fold; unaligned little-endian-agnostic loads. */
#define GB_HASH_P0 0xa0761d6478bd642full
#define GB_HASH_P1 0xe7037ed1a0b428dbull
#define GB_HASH_P2 0x8ebc6af09c88c6e3ull
#define GB_HASH_P3 0x589965cc75374cc3ull

static inline uint64_t gb_mum(uint64_t a, uint64_t b)
{
	gb_u128 r = (gb_u128)a * b;

	return (uint64_t)r ^ (uint64_t)(r >> 64);
}

static inline uint64_t gb_read64(const unsigned char *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

static inline uint64_t gb_read32(const unsigned char *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

/* Allocation: every library allocation goes through these. */
void *gb_malloc(size_t n);
void *gb_calloc(size_t n, size_t size);
void *gb_realloc(void *p, size_t n);
void gb_free(void *p);
/* Zeroed memory for a large, randomly probed table (huge pages where the
 * system offers them); release it with gb_free_huge. */
void *gb_calloc_huge(size_t n, size_t size);
void gb_free_huge(void *p);
char *gb_strndup(const char *s, size_t n);
char *gb_strdup(const char *s);

/*
 * Fill err (when not NULL) with code and a formatted message; returns code
 * so callers can write `return gb_error_set(err, GB_ESYNTAX, "...")`.
 * Location fields are left as they are: set them with the helpers below.
 */
int gb_error_set(gb_error *err, int code, const char *fmt, ...) GB_PRINTF(3, 4);
int gb_error_vset(gb_error *err, int code, const char *fmt, va_list ap)
	GB_PRINTF(3, 0);
void gb_error_set_source(gb_error *err, const char *source);
void gb_error_set_path(gb_error *err, const char *path);

/* Test hook: 0 sends every byte through libcsv (the simple path). */
struct gb_csv_reader;
void gb_csv_reader_set_fast(struct gb_csv_reader *r, int on);

/* 64-bit hash of bytes (seeded). */
uint64_t gb_hash64(const void *data, size_t len, uint64_t seed);

#endif
