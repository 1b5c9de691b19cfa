/*
 * dedup.h - the run-wide set of records seen, for duplicate detection.
 *
 * A record is its (customer, id) pair: the id is fingerprinted within a
 * scope, two independent hashes of the customer.  Memory per distinct
 * record is one 16-byte slot (at a load factor between 0.4 and 0.8 when
 * the set grows by itself; lower when gb_dedup_reserve sized it for more):
 * a 95-bit fingerprint of the pair and a 32-bit fingerprint of the row's
 * content.  Two different pairs share a fingerprint with probability
 * about n^2 / 2^96 (below 10^-10 for 10^9 records).  A content fingerprint
 * clash can only turn a conflicting retry into a plain duplicate: either
 * way the first row stands and the second is not billed.
 */
#ifndef GPUBILL_DEDUP_H
#define GPUBILL_DEDUP_H

#include <stddef.h>
#include <stdint.h>

typedef struct gb_dedup_slot {
	uint64_t id_hi;     /* never both id_hi == 0 and id_lo == 0 when used */
	uint32_t id_lo;
	uint32_t content;
} gb_dedup_slot;

typedef struct gb_dedup {
	gb_dedup_slot *slots;
	size_t mask;        /* capacity - 1; capacity a power of two */
	size_t count;
} gb_dedup;

typedef enum gb_dedup_result {
	GB_DEDUP_NEW = 0,
	GB_DEDUP_SAME = 1,      /* id seen with the same content */
	GB_DEDUP_CONFLICT = 2,  /* id seen with different content */
	GB_DEDUP_NOMEM = -1
} gb_dedup_result;

void gb_dedup_init(gb_dedup *d);
void gb_dedup_free(gb_dedup *d);

/*
 * Make room for n more ids now, so a run of known size never rehashes
 * (each rehash touches the whole table again and briefly holds two).
 * 0 or -1 on no memory; the set is unchanged on failure.
 */
int gb_dedup_reserve(gb_dedup *d, size_t n);

/* The two fingerprints of an id within a scope: two independent hashes
 * of its customer, one for each fingerprint. */
void gb_dedup_hash(const char *id, size_t len, uint64_t scope_hi,
		   uint64_t scope_lo, uint64_t *hi, uint32_t *lo);

/* Ask for the id's slot early, so its cache miss overlaps other work. */
void gb_dedup_prefetch(const gb_dedup *d, uint64_t hi);

/* Look the id (by its fingerprints) up; when new, remember it. */
gb_dedup_result gb_dedup_check(gb_dedup *d, uint64_t hi, uint32_t lo,
			       uint32_t content);

#endif
