/*
 * hash.c - a fast 64-bit hash for hash tables and record fingerprints.
 *
 * The mixing follows the public-domain wyhash/mum idea: multiply 64x64 to
 * 128 bits and fold.  Not cryptographic; collisions are handled by callers
 * that need exactness, and fingerprints use two independent seeds.
 */
#include "internal.h"

#include <string.h>

uint64_t gb_hash64(const void *data, size_t len, uint64_t seed)
{
	const unsigned char *p = data;
	uint64_t a, b;
	size_t i = len;

	seed ^= GB_HASH_P0;
	if (len <= 16) {
		if (len >= 4) {
			a = (gb_read32(p) << 32) | gb_read32(p + ((len >> 3) << 2));
			b = (gb_read32(p + len - 4) << 32) |
			    gb_read32(p + len - 4 - ((len >> 3) << 2));
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
				seed = gb_mum(gb_read64(p) ^ GB_HASH_P1, gb_read64(p + 8) ^ seed);
				s1 = gb_mum(gb_read64(p + 16) ^ GB_HASH_P2, gb_read64(p + 24) ^ s1);
				s2 = gb_mum(gb_read64(p + 32) ^ GB_HASH_P3, gb_read64(p + 40) ^ s2);
				p += 48;
				i -= 48;
			} while (i > 48);
			seed ^= s1 ^ s2;
		}
		while (i > 16) {
			seed = gb_mum(gb_read64(p) ^ GB_HASH_P1, gb_read64(p + 8) ^ seed);
			i -= 16;
			p += 16;
		}
		a = gb_read64(p + i - 16);
		b = gb_read64(p + i - 8);
	}
	return gb_mum(GB_HASH_P1 ^ (uint64_t)len, gb_mum(a ^ GB_HASH_P1, b ^ seed));
}
