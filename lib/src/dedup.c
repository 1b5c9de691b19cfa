/* dedup.c - open-addressing set of id fingerprints (see dedup.h). */
#include "dedup.h"
#include "internal.h"

#include <string.h>

#define DEDUP_MIN_CAPACITY 1024u

void gb_dedup_init(gb_dedup *d)
{
	memset(d, 0, sizeof *d);
}

void gb_dedup_free(gb_dedup *d)
{
	gb_free_huge(d->slots);
	memset(d, 0, sizeof *d);
}

static int slot_used(const gb_dedup_slot *s)
{
	return s->id_hi != 0 || s->id_lo != 0;
}

static int resize(gb_dedup *d, size_t cap)
{
	gb_dedup_slot *slots = gb_calloc_huge(cap, sizeof *slots);
	size_t i;

	if (!slots)
		return -1;
	if (d->slots) {
		for (i = 0; i <= d->mask; i++) {
			const gb_dedup_slot *s = &d->slots[i];
			size_t j;

			if (!slot_used(s))
				continue;
			j = (size_t)s->id_hi & (cap - 1);
			while (slot_used(&slots[j]))
				j = (j + 1) & (cap - 1);
			slots[j] = *s;
		}
		gb_free_huge(d->slots);
	}
	d->slots = slots;
	d->mask = cap - 1;
	return 0;
}

void gb_dedup_hash(const char *id, size_t len, uint64_t scope_hi,
		   uint64_t scope_lo, uint64_t *hi, uint32_t *lo)
{
	*hi = gb_hash64(id, len, 0x9e3779b97f4a7c15ull ^ scope_hi);
	*lo = (uint32_t)gb_hash64(id, len, 0xc2b2ae3d27d4eb4full ^ scope_lo);
	if (*hi == 0 && *lo == 0)
		*lo = 1; /* keep the empty-slot marker free */
}

void gb_dedup_prefetch(const gb_dedup *d, uint64_t hi)
{
	if (d->slots)
		GB_PREFETCH(&d->slots[(size_t)hi & d->mask]);
}

static int grow(gb_dedup *d)
{
	return resize(d, d->slots ? (d->mask + 1) * 2 : DEDUP_MIN_CAPACITY);
}

/* Room for n ids at a load of at most 80%, the same bound grow keeps. */
static size_t capacity_for(size_t n)
{
	size_t cap = DEDUP_MIN_CAPACITY;

	while (cap < (size_t)-1 / 8 && cap / 5 * 4 < n)
		cap *= 2;
	return cap;
}

int gb_dedup_reserve(gb_dedup *d, size_t n)
{
	size_t cap;

	if (n > (size_t)-1 / 2 / sizeof *d->slots)
		return 0; /* absurd: leave it to growth */
	cap = capacity_for(d->count + n);
	if (d->slots && cap <= d->mask + 1)
		return 0;
	return resize(d, cap);
}

gb_dedup_result gb_dedup_check(gb_dedup *d, uint64_t hi, uint32_t lo,
			       uint32_t content)
{
	size_t j;

	/* Grow at 80% load: (count + 1) * 5 > capacity * 4. */
	if (!d->slots || (d->count + 1) * 5 > (d->mask + 1) * 4) {
		if (grow(d) != 0)
			return GB_DEDUP_NOMEM;
	}
	j = (size_t)hi & d->mask;
	while (slot_used(&d->slots[j])) {
		const gb_dedup_slot *s = &d->slots[j];

		if (s->id_hi == hi && s->id_lo == lo)
			return s->content == content ? GB_DEDUP_SAME
						     : GB_DEDUP_CONFLICT;
		j = (j + 1) & d->mask;
	}
	d->slots[j].id_hi = hi;
	d->slots[j].id_lo = lo;
	d->slots[j].content = content;
	d->count++;
	return GB_DEDUP_NEW;
}
