/*
 * hash.c - a fast 64-bit hash for hash tables and record fingerprints.
 *
 * The mixing follows the public-domain wyhash/mum idea: multiply 64x64 to
 * 128 bits and fold.  Not cryptographic; collisions are handled by callers
 * that need exactness, and fingerprints use two independent seeds.
 */
#include "internal.h"

#include <string.h>

static inline uint64_t mum(uint64_t a, uint64_t b)
{
	gb_u128 r = (gb_u128)a * b;

	return (uint64_t)r ^ (uint64_t)(r >> 64);
}

static inline uint64_t read64(const unsigned char *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

static inline uint64_t read32(const unsigned char *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

#define GB_P0 0xa0761d6478bd642full
#define GB_P1 0xe7037ed1a0b428dbull
#define GB_P2 0x8ebc6af09c88c6e3ull
#define GB_P3 0x589965cc75374cc3ull

uint64_t gb_hash64(const void *data, size_t len, uint64_t seed)
{
	const unsigned char *p = data;
	uint64_t a, b;
	size_t i = len;

	seed ^= GB_P0;
	if (len <= 16) {
		if (len >= 4) {
			a = (read32(p) << 32) | read32(p + ((len >> 3) << 2));
			b = (read32(p + len - 4) << 32) |
			    read32(p + len - 4 - ((len >> 3) << 2));
		} else if (len > 0) {
			a = ((uint64_t)p[0] << 16) | ((uint64_t)p[len >> 1] << 8) |
			    p[len - 1];
			b = 0;
		} else {
			a = b = 0;
		}
	} else {
		if (i > 48) {
			uint64_t s1 = seed, s2 = seed;

			do {
				seed = mum(read64(p) ^ GB_P1, read64(p + 8) ^ seed);
				s1 = mum(read64(p + 16) ^ GB_P2, read64(p + 24) ^ s1);
				s2 = mum(read64(p + 32) ^ GB_P3, read64(p + 40) ^ s2);
				p += 48;
				i -= 48;
			} while (i > 48);
			seed ^= s1 ^ s2;
		}
		while (i > 16) {
			seed = mum(read64(p) ^ GB_P1, read64(p + 8) ^ seed);
			i -= 16;
			p += 16;
		}
		a = read64(p + i - 16);
		b = read64(p + i - 8);
	}
	return mum(GB_P1 ^ (uint64_t)len, mum(a ^ GB_P1, b ^ seed));
}
