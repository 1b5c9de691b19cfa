/*
 * rater.c - rate usage rows into integer buckets (the per-row path).
 *
 * Per row: check it (record.c), drop duplicates (dedup.c), resolve prices
 * through a cache keyed by (sku, region) or (model, region), and add
 * integer quantities to the bucket of (customer, entry, price, kind).
 * Prices are interned by value up front, so equal unit prices from
 * different versions share a bucket.  No GMP here: rater_finish.c prices
 * each bucket once.  Only customers holding a reservation for a sku and
 * region pay for hour-by-hour buckets of their on-demand usage there.
 */
#include "rater_internal.h"
#include "explain_internal.h"

#include <gpubill/timestamp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const reason_codes[] = {
	"", "missing_field", "bad_timestamp", "bad_number",
	"end_not_after_start", "unknown_type", "no_rate", "duplicate_conflict",
	"field_too_long", "bad_value", "bad_text", "field_count", "unsupported",
};

const char *gb_reason_code(gb_reason reason)
{
	if ((unsigned)reason >= sizeof reason_codes / sizeof reason_codes[0])
		return "unknown";
	return reason_codes[reason];
}

const char *gb_state_name(gb_state state)
{
	switch (state) {
	case GB_STATE_BILLED: return "billed";
	case GB_STATE_REJECTED: return "rejected";
	case GB_STATE_DUPLICATE: return "duplicate";
	case GB_STATE_OUTSIDE_PERIOD: return "outside period";
	case GB_STATE_SKIPPED: return "skipped";
	}
	return "unknown";
}

uint32_t gb_customer_shard(const char *customer, size_t len, uint32_t n)
{
	uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a 64 */
	size_t i;

	if (n == 0)
		return 0;
	for (i = 0; i < len; i++) {
		h ^= (unsigned char)customer[i];
		h *= 0x100000001b3ull;
	}
	return (uint32_t)(h % n) + 1;
}

int64_t gb_rater_version_end(const gb_prices *p, size_t v)
{
	return v + 1 < p->nversions ? p->versions[v + 1].effective_from
				    : INT64_MAX;
}

/* --- index maps ------------------------------------------------------------ */

static uint32_t map_tag(uint64_t h)
{
	return (uint32_t)(h ^ (h >> 32));
}

static int map_grow(index_map *m)
{
	size_t cap = m->slots ? (m->mask + 1) * 2 : 256, i, j;
	uint64_t *slots;

	if (cap > (size_t)UINT32_MAX + 1)
		return -1;
	slots = gb_calloc(cap, sizeof *slots);
	if (!slots)
		return -1;
	for (i = 0; m->slots && i <= m->mask; i++) {
		if (!m->slots[i])
			continue;
		for (j = (m->slots[i] >> 32) & (cap - 1); slots[j]; j = (j + 1) & (cap - 1))
			;
		slots[j] = m->slots[i];
	}
	gb_free(m->slots);
	m->slots = slots;
	m->mask = cap - 1;
	return 0;
}

/* Room for one more item at a load factor of at most 3/4 (a probe passes
 * other items by their tags, in slots that sit together). */
static int map_reserve(index_map *m)
{
	if (m->slots && (m->count + 1) * 4 <= (m->mask + 1) * 3)
		return 0;
	return map_grow(m);
}

static void map_put(index_map *m, uint32_t tag, size_t index)
{
	size_t j;

	for (j = tag & m->mask; m->slots[j]; j = (j + 1) & m->mask)
		;
	m->slots[j] = (uint64_t)tag << 32 | (uint32_t)(index + 1);
	m->count++;
}

/*
 * The items tagged tag, from slot *j (start at tag & mask): the index of
 * the next one, or -1 at the end of the probe run.  Usage:
 *	for (j = tag & m->mask; (i = map_next(m, tag, &j)) >= 0;)
 */
static long map_next(const index_map *m, uint32_t tag, size_t *j)
{
	uint64_t s;

	if (!m->slots)
		return -1;
	for (; (s = m->slots[*j]) != 0; *j = (*j + 1) & m->mask) {
		if ((uint32_t)(s >> 32) == tag) {
			*j = (*j + 1) & m->mask;
			return (long)((uint32_t)s - 1);
		}
	}
	return -1;
}

/* Start the cache miss of the first slot of tag's probe run. */
static void map_prefetch(const index_map *m, uint32_t tag)
{
	if (m->slots)
		GB_PREFETCH(&m->slots[tag & m->mask]);
}

/* Once that slot is in: the index of the first item tagged tag, or -1
 * (without touching any item), so its miss can start too. */
static long map_peek(const index_map *m, uint32_t tag)
{
	size_t j = tag & m->mask;

	return map_next(m, tag, &j);
}

int gb_resize_array(void **arr, size_t n, size_t size)
{
	void *p;

	if (size && n > (size_t)-1 / size)
		return -1;
	p = gb_realloc(*arr, n * size);
	if (!p)
		return -1;
	*arr = p;
	return 0;
}

int gb_grow_array(void **arr, size_t *cap, size_t need, size_t size)
{
	size_t n = *cap ? *cap : 64;

	if (need <= *cap)
		return 0;
	while (n < need)
		n *= 2;
	if (gb_resize_array(arr, n, size) != 0)
		return -1;
	*cap = n;
	return 0;
}

/* --- customers ----------------------------------------------------------------- */

static int raw_selected(const gb_rater *r, const char *s, size_t len)
{
	size_t i;

	if (r->shard_count &&
	    gb_customer_shard(s, len, r->shard_count) != r->shard_index)
		return 0;
	if (!r->nfilter)
		return 1;
	for (i = 0; i < r->nfilter; i++)
		if (r->filter_len[i] == len && memcmp(r->filter[i], s, len) == 0)
			return 1;
	return 0;
}

uint64_t gb_rater_customer_hash(const char *name, size_t len)
{
	return gb_hash64(name, len, 17);
}

static int cust_is(const cust_rec *c, uint64_t h, const char *name,
		   size_t len)
{
	size_t n = len < CUST_HEAD ? len : CUST_HEAD;

	return c->hash == h && c->len == len && memcmp(c->head, name, n) == 0 &&
	       (len <= CUST_HEAD ||
		memcmp(c->name + CUST_HEAD, name + CUST_HEAD, len - CUST_HEAD) == 0);
}

/* Start the cache miss of the customer's first index slot. */
static void customer_prefetch(const gb_rater *r, uint64_t h)
{
	map_prefetch(&r->customer_map, map_tag(h));
}

/* Once the slot is in: start the miss of the customer it names. */
static void customer_prefetch_rec(const gb_rater *r, uint64_t h)
{
	long i = map_peek(&r->customer_map, map_tag(h));

	if (i >= 0)
		GB_PREFETCH(&r->customers[i]);
}

/* As gb_rater_customer_intern, with the name's hash h already known. */
static long customer_intern_h(gb_rater *r, const char *name, size_t len,
			      uint64_t h)
{
	index_map *m = &r->customer_map;
	uint32_t tag = map_tag(h);
	cust_rec *c;
	size_t j;
	long i;

	for (j = tag & m->mask; (i = map_next(m, tag, &j)) >= 0;)
		if (cust_is(&r->customers[i], h, name, len))
			return i;
	if (len > UINT32_MAX)
		return -1;
	if (map_reserve(m) != 0 ||
	    gb_grow_array((void **)&r->customers, &r->customers_cap,
			  r->ncustomers + 1, sizeof *r->customers) != 0)
		return -1;
	c = &r->customers[r->ncustomers];
	memset(c, 0, sizeof *c);
	c->name = gb_strndup(name, len);
	if (!c->name)
		return -1;
	memcpy(c->head, name, len < CUST_HEAD ? len : CUST_HEAD);
	c->len = (uint32_t)len;
	c->hash = h;
	c->selected = raw_selected(r, name, len);
	c->contract = r->contracts ? gb_contracts_find(r->contracts, name, len)
				   : NULL;
	map_put(m, tag, r->ncustomers);
	return (long)r->ncustomers++;
}

/* Index of the customer, interned on first sight; -1 on no memory. */
long gb_rater_customer_intern(gb_rater *r, const char *name, size_t len)
{
	return customer_intern_h(r, name, len, gb_rater_customer_hash(name, len));
}

/* --- prices -------------------------------------------------------------------- */

static int price_register(gb_rater *r, const gb_price *p, size_t version)
{
	uint32_t id = (uint32_t)r->nprice_ids;
	size_t i;

	if (!p)
		return 0;
	for (i = 0; i < r->nprice_ids; i++) {
		const gb_price *q = r->prices_by_id[i];

		if (q == p || (p->mode == GB_PRICE_FLAT && q->mode == GB_PRICE_FLAT &&
			       mpq_equal(p->flat, q->flat))) {
			id = (uint32_t)i;
			break;
		}
	}
	if (id == r->nprice_ids) {
		if (gb_grow_array((void **)&r->prices_by_id, &r->prices_by_id_cap,
				  r->nprice_ids + 1, sizeof *r->prices_by_id) != 0 ||
		    gb_grow_array((void **)&r->price_version, &r->price_version_cap,
				  r->nprice_ids + 1, sizeof *r->price_version) != 0)
			return -1;
		r->price_version[r->nprice_ids] = (uint32_t)version;
		r->prices_by_id[r->nprice_ids++] = p;
	}
	if (gb_grow_array((void **)&r->price_refs, &r->price_refs_cap,
			  r->nprice_refs + 1, sizeof *r->price_refs) != 0)
		return -1;
	r->price_refs[r->nprice_refs].price = p;
	r->price_refs[r->nprice_refs].id = id;
	r->nprice_refs++;
	return 0;
}

/* Walk the table in file order, so ids never depend on the input rows. */
static int prices_register_all(gb_rater *r)
{
	const gb_prices *p = r->prices;
	size_t v, i;
	int rc = 0;

	for (v = 0; v < p->nversions && rc == 0; v++) {
		const gb_version *ver = &p->versions[v];

		for (i = 0; i < ver->ngpu_rates && rc == 0; i++)
			rc = price_register(r, ver->gpu_rates[i].on_demand, v) ||
			     price_register(r, ver->gpu_rates[i].spot, v);
		for (i = 0; i < ver->nspot_points && rc == 0; i++)
			rc = price_register(r, &ver->spot_points[i].price, v);
		for (i = 0; i < ver->ntoken_rates && rc == 0; i++)
			rc = price_register(r, ver->token_rates[i].input, v) ||
			     price_register(r, ver->token_rates[i].cached_input, v) ||
			     price_register(r, ver->token_rates[i].output, v);
	}
	return rc ? -1 : 0;
}

static int32_t price_id_of(const gb_rater *r, const gb_price *p)
{
	size_t i;

	if (!p)
		return -1;
	for (i = 0; i < r->nprice_refs; i++)
		if (r->price_refs[i].price == p)
			return (int32_t)r->price_refs[i].id;
	return -1;
}

/* --- entries ------------------------------------------------------------------- */

static uint64_t entry_hash(entry_type type, const char *name, size_t nlen,
			   const char *region, size_t rlen)
{
	return gb_hash64(region, rlen, gb_hash64(name, nlen, 29 + type));
}

/* Spot price at t in version v (SPEC 4): the latest point with from <= t
 * of the exact region, else of "*", else the rate's fixed spot price. */
static int32_t spot_price_at(const gb_rater *r, const gb_version *ver,
			     const entry *e, int32_t fixed, int64_t t)
{
	const gb_spot_point *best_exact = NULL, *best_star = NULL;
	size_t i;

	for (i = 0; i < ver->nspot_points; i++) {
		const gb_spot_point *sp = &ver->spot_points[i];

		if (sp->from > t || strcmp(sp->sku, e->name) != 0)
			continue;
		if (strcmp(sp->region, e->region) == 0)
			best_exact = sp;  /* sorted by from: the last one wins */
		else if (strcmp(sp->region, "*") == 0)
			best_star = sp;
	}
	if (best_exact)
		return price_id_of(r, &best_exact->price);
	if (best_star)
		return price_id_of(r, &best_star->price);
	return fixed;
}

/* The piecewise-constant spot price of entry e across version v. */
static int spot_segments(gb_rater *r, entry *e, size_t v)
{
	const gb_version *ver = &r->prices->versions[v];
	const gb_gpu_rate *rate = gb_version_gpu_rate(ver, e->name, e->region);
	int32_t fixed = rate ? price_id_of(r, rate->spot) : -1;
	int64_t vend = gb_rater_version_end(r->prices, v);
	spot_seg *segs;
	size_t n = 0, i;

	segs = gb_calloc(ver->nspot_points + 1, sizeof *segs);
	if (!segs)
		return -1;
	segs[n].from = ver->effective_from;
	segs[n++].price = spot_price_at(r, ver, e, fixed, ver->effective_from);
	for (i = 0; i < ver->nspot_points; i++) {
		const gb_spot_point *sp = &ver->spot_points[i];
		int32_t price;

		if (sp->from <= ver->effective_from || sp->from >= vend ||
		    strcmp(sp->sku, e->name) != 0 ||
		    (strcmp(sp->region, e->region) != 0 &&
		     strcmp(sp->region, "*") != 0))
			continue;
		price = spot_price_at(r, ver, e, fixed, sp->from);
		/* Points arrive by (region, from): keep segments in time order. */
		{
			size_t k = n;

			while (k > 0 && segs[k - 1].from > sp->from)
				k--;
			if (k > 0 && segs[k - 1].from == sp->from)
				continue;
			memmove(&segs[k + 1], &segs[k], (n - k) * sizeof *segs);
			segs[k].from = sp->from;
			segs[k].price = price;
			n++;
		}
	}
	/* Recompute each segment's price now that all cuts are known. */
	for (i = 0; i < n; i++)
		segs[i].price = spot_price_at(r, ver, e, fixed, segs[i].from);
	e->spot[v] = segs;
	e->nspot[v] = n;
	return 0;
}

static int entry_fill(gb_rater *r, entry *e)
{
	const gb_prices *p = r->prices;
	size_t v;

	e->price = gb_calloc(p->nversions * NSLOTS, sizeof *e->price);
	if (!e->price)
		return -1;
	if (e->type == ENTRY_GPU) {
		e->spot = gb_calloc(p->nversions, sizeof *e->spot);
		e->nspot = gb_calloc(p->nversions, sizeof *e->nspot);
		if (!e->spot || !e->nspot)
			return -1;
	}
	for (v = 0; v < p->nversions; v++) {
		const gb_version *ver = &p->versions[v];
		int32_t *slot = &e->price[v * NSLOTS];

		slot[0] = slot[1] = slot[2] = -1;
		if (e->type == ENTRY_GPU) {
			const gb_gpu_rate *rate = ver->has_gpu ?
				gb_version_gpu_rate(ver, e->name, e->region) : NULL;

			if (rate)
				slot[SLOT_ON_DEMAND] = price_id_of(r, rate->on_demand);
			if (ver->has_gpu && spot_segments(r, e, v) != 0)
				return -1;
		} else if (ver->has_tokens) {
			const gb_token_rate *rate = gb_version_token_rate(
				ver, e->name, e->region_len ? e->region : NULL);

			if (rate) {
				slot[SLOT_INPUT] = price_id_of(r, rate->input);
				slot[SLOT_CACHED] = price_id_of(r, rate->cached_input);
				slot[SLOT_OUTPUT] = price_id_of(r, rate->output);
			}
		}
	}
	return 0;
}

static void entry_clear(entry *e, size_t nversions)
{
	size_t v;

	gb_free(e->name);
	gb_free(e->region);
	gb_free(e->price);
	if (e->spot)
		for (v = 0; v < nversions; v++)
			gb_free(e->spot[v]);
	gb_free(e->spot);
	gb_free(e->nspot);
}

long gb_rater_entry_find(const gb_rater *r, entry_type type, const char *name,
			 size_t nlen, const char *region, size_t rlen)
{
	uint64_t h = entry_hash(type, name, nlen, region, rlen);
	const index_map *m = &r->entry_map;
	uint32_t tag = map_tag(h);
	size_t j;
	long i;

	for (j = tag & m->mask; (i = map_next(m, tag, &j)) >= 0;) {
		const entry *e = &r->entries[i];

		if (e->hash == h && e->type == type && e->name_len == nlen &&
		    e->region_len == rlen && memcmp(e->name, name, nlen) == 0 &&
		    memcmp(e->region, region, rlen) == 0)
			return i;
	}
	return -1;
}

static long entry_intern(gb_rater *r, entry_type type, const gb_field *name,
			 const gb_field *region)
{
	long found = gb_rater_entry_find(r, type, name->ptr, name->len,
					 region->ptr ? region->ptr : "", region->len);
	entry *e;

	if (found >= 0)
		return found;
	if (map_reserve(&r->entry_map) != 0 ||
	    gb_grow_array((void **)&r->entries, &r->entries_cap,
			  r->nentries + 1, sizeof *r->entries) != 0)
		return -1;
	e = &r->entries[r->nentries];
	memset(e, 0, sizeof *e);
	e->type = type;
	e->name = gb_strndup(name->ptr, name->len);
	e->region = gb_strndup(region->ptr ? region->ptr : "", region->len);
	e->name_len = name->len;
	e->region_len = region->len;
	e->hash = entry_hash(type, name->ptr, name->len,
			     region->ptr ? region->ptr : "", region->len);
	if (!e->name || !e->region || entry_fill(r, e) != 0) {
		entry_clear(e, r->prices->nversions);
		return -1;
	}
	map_put(&r->entry_map, map_tag(e->hash), r->nentries);
	return (long)r->nentries++;
}

/* --- buckets ------------------------------------------------------------------- */

static uint64_t mix64(uint64_t a, uint64_t b)
{
	gb_u128 m = (gb_u128)(a ^ 0xa0761d6478bd642full) *
		    (b ^ 0xe7037ed1a0b428dbull);

	return (uint64_t)m ^ (uint64_t)(m >> 64);
}

static uint64_t bucket_key_hash(const bucket_key *k)
{
	return mix64(((uint64_t)k->customer << 32) | k->entry,
		     ((uint64_t)(uint32_t)k->price << 32) |
		     ((uint64_t)k->kind << 16) | k->aux);
}

static int key_equal(const bucket_key *a, const bucket_key *b)
{
	return a->customer == b->customer && a->entry == b->entry &&
	       a->price == b->price && a->kind == b->kind && a->aux == b->aux;
}

/* Start the cache misses of a bucket's first index slot, then (once that
 * slot is in) of the bucket it names. */
static void bucket_prefetch_slot(const gb_rater *r, uint64_t h)
{
	map_prefetch(&r->bucket_map, map_tag(h));
}

static void bucket_prefetch(const gb_rater *r, uint64_t h)
{
	long i = map_peek(&r->bucket_map, map_tag(h));

	if (i >= 0)
		GB_PREFETCH(&r->buckets[i]);
}

static bucket *bucket_get(gb_rater *r, const bucket_key *k, uint64_t h)
{
	index_map *m = &r->bucket_map;
	uint32_t tag = map_tag(h);
	bucket *b;
	size_t j;
	long i;

	for (j = tag & m->mask; (i = map_next(m, tag, &j)) >= 0;)
		if (key_equal(&r->buckets[i].key, k))
			return &r->buckets[i];
	if (map_reserve(m) != 0 ||
	    gb_grow_array((void **)&r->buckets, &r->buckets_cap, r->nbuckets + 1,
			  sizeof *r->buckets) != 0)
		return NULL;
	b = &r->buckets[r->nbuckets];
	memset(b, 0, sizeof *b);
	b->key = *k;
	map_put(m, tag, r->nbuckets);
	r->nbuckets++;
	return b;
}

bucket *gb_rater_bucket(gb_rater *r, const bucket_key *k)
{
	return bucket_get(r, k, bucket_key_hash(k));
}

long gb_rater_bucket_find(const gb_rater *r, const bucket_key *k)
{
	const index_map *m = &r->bucket_map;
	uint32_t tag = map_tag(bucket_key_hash(k));
	size_t j;
	long i;

	for (j = tag & m->mask; (i = map_next(m, tag, &j)) >= 0;)
		if (key_equal(&r->buckets[i].key, k))
			return i;
	return -1;
}

/* Add a waiting addition to its bucket; a record counts once per bucket. */
static int bucket_apply(gb_rater *r, const pending_add *a)
{
	bucket *b = bucket_get(r, &a->key, a->hash);

	if (!b) {
		r->broken = 1;
		return GB_ENOMEM;
	}
	b->quantity += a->qty;
	if (b->last_row != a->row) {
		b->last_row = a->row;
		b->records++;
	}
	return 0;
}

/*
 * Add qty to a bucket (key hash h), PEND_SIZE additions later.  The bucket
 * table is large and touched at random: a lookup misses the cache twice,
 * on the index slot and on the bucket.  So an addition asks for its slot
 * now, for its bucket PEND_HALF additions later, and is made PEND_SIZE
 * additions later, when both have long arrived; meanwhile the next rows
 * are read.  The order of additions is kept, so the buckets end exactly
 * as if each were made at once; gb_rater_flush makes the rest before the
 * buckets are read.  A failure to make one (no memory for a new bucket)
 * breaks the rater: every later call fails, so no total can come out
 * short.
 */
static int bucket_add_h(gb_rater *r, const bucket_key *k, uint64_t h,
			gb_u128 qty)
{
	pending_add *a;
	uint32_t i;

	if (r->npend == PEND_SIZE) {
		a = &r->pend[r->pend_head];
		r->pend_head = (r->pend_head + 1) & (PEND_SIZE - 1);
		r->npend--;
		if (bucket_apply(r, a) != 0)
			return GB_ENOMEM;
	}
	i = (r->pend_head + r->npend++) & (PEND_SIZE - 1);
	a = &r->pend[i];
	a->key = *k;
	a->hash = h;
	a->row = r->row_seq;
	a->qty = qty;
	bucket_prefetch_slot(r, h);
	if (r->npend > PEND_HALF)
		bucket_prefetch(r, r->pend[(i - PEND_HALF) & (PEND_SIZE - 1)].hash);
	return 0;
}

int gb_rater_flush(gb_rater *r)
{
	while (r->npend) {
		const pending_add *a = &r->pend[r->pend_head];

		r->pend_head = (r->pend_head + 1) & (PEND_SIZE - 1);
		r->npend--;
		if (bucket_apply(r, a) != 0)
			return GB_ENOMEM;
	}
	return r->broken ? GB_ENOMEM : 0;
}

static int bucket_add(gb_rater *r, const bucket_key *k, gb_u128 qty)
{
	return bucket_add_h(r, k, bucket_key_hash(k), qty);
}

static uint64_t hour_key_hash(uint32_t customer, uint32_t ent, int64_t hour)
{
	return mix64(((uint64_t)customer << 32) | ent, (uint64_t)hour);
}

const hour_bucket *gb_rater_hour_find(const gb_rater *r, uint32_t customer,
				      uint32_t ent, int64_t hour)
{
	uint32_t tag = map_tag(hour_key_hash(customer, ent, hour));
	const index_map *m = &r->hour_map;
	size_t j;
	long i;

	for (j = tag & m->mask; (i = map_next(m, tag, &j)) >= 0;) {
		const hour_bucket *b = &r->hours[i];

		if (b->key.customer == customer && b->key.entry == ent &&
		    b->key.hour == hour)
			return b;
	}
	return NULL;
}

static int hour_add(gb_rater *r, uint32_t customer, uint32_t ent,
		    int64_t hour, gb_u128 qty)
{
	hour_bucket *b = (hour_bucket *)gb_rater_hour_find(r, customer, ent, hour);

	if (!b) {
		if (map_reserve(&r->hour_map) != 0 ||
		    gb_grow_array((void **)&r->hours, &r->hours_cap,
				  r->nhours + 1, sizeof *r->hours) != 0)
			return GB_ENOMEM;
		b = &r->hours[r->nhours];
		memset(b, 0, sizeof *b);
		b->key.customer = customer;
		b->key.entry = ent;
		b->key.hour = hour;
		map_put(&r->hour_map, map_tag(hour_key_hash(customer, ent, hour)),
			r->nhours);
		r->nhours++;
	}
	b->seconds += qty;
	return 0;
}

/* --- lifetime ------------------------------------------------------------------ */

static int has_reservations(const gb_contracts *c)
{
	size_t i;

	for (i = 0; c && i < c->ncontracts; i++)
		if (c->contracts[i].nreservations)
			return 1;
	return 0;
}

int gb_rater_new(gb_rater **out, const gb_prices *prices,
		 const gb_rater_options *opts, gb_error *err)
{
	gb_rater *r;
	size_t i;

	*out = NULL;
	if (!prices || !opts || opts->version != GB_RATER_OPTIONS_VERSION)
		return gb_error_set(err, GB_EINVAL,
				    "gb_rater_new: missing prices or options of an unknown version");
	if (opts->period_from >= opts->period_to)
		return gb_error_set(err, GB_EINVAL,
				    "the billing period is empty: 'from' is not before 'to'");
	if (opts->shard_count && (opts->shard_index < 1 ||
				  opts->shard_index > opts->shard_count))
		return gb_error_set(err, GB_EINVAL, "shard %u of %u does not exist",
				    opts->shard_index, opts->shard_count);
	if (prices->nversions >= UINT16_MAX)
		return gb_error_set(err, GB_EINVAL,
				    "the pricing table has %zu versions; at most %u "
				    "can be rated", prices->nversions,
				    (unsigned)UINT16_MAX - 1);
	if (has_reservations(opts->contracts) &&
	    (opts->period_from % 3600 != 0 || opts->period_to % 3600 != 0))
		return gb_error_set(err, GB_EINVAL,
				    "with reservations the billing period must start "
				    "and end on whole UTC hours (reservations are "
				    "billed hour by hour)");
	r = gb_calloc(1, sizeof *r);
	if (!r)
		return gb_error_set(err, GB_ENOMEM, "out of memory");
	r->prices = prices;
	r->contracts = opts->contracts;
	r->from = opts->period_from;
	r->to = opts->period_to;
	r->shard_index = opts->shard_index;
	r->shard_count = opts->shard_count;
	gb_dedup_init(&r->dedup);
	if (opts->customers && opts->ncustomers) {
		r->filter = gb_calloc(opts->ncustomers, sizeof *r->filter);
		r->filter_len = gb_calloc(opts->ncustomers, sizeof *r->filter_len);
		if (!r->filter || !r->filter_len)
			goto nomem;
		r->nfilter = opts->ncustomers;
		for (i = 0; i < opts->ncustomers; i++) {
			r->filter[i] = gb_strdup(opts->customers[i]);
			if (!r->filter[i])
				goto nomem;
			r->filter_len[i] = strlen(r->filter[i]);
		}
	}
	r->selecting = r->nfilter || r->shard_count;
	if (r->selecting) {
		r->sel_memo = gb_calloc(SEL_SLOTS, sizeof *r->sel_memo);
		if (!r->sel_memo)
			goto nomem;
	}
	if (prices_register_all(r) != 0)
		goto nomem;
	*out = r;
	return 0;
nomem:
	gb_rater_free(r);
	return gb_error_set(err, GB_ENOMEM, "out of memory");
}

void gb_rater_free(gb_rater *r)
{
	size_t i;

	if (!r)
		return;
	for (i = 0; i < r->nfilter; i++)
		gb_free(r->filter ? r->filter[i] : NULL);
	gb_free(r->filter);
	gb_free(r->filter_len);
	gb_free(r->sel_memo);
	gb_dedup_free(&r->dedup);
	for (i = 0; i < r->ncustomers; i++)
		gb_free(r->customers[i].name);
	gb_free(r->customers);
	gb_free(r->customer_map.slots);
	for (i = 0; i < r->nentries; i++)
		entry_clear(&r->entries[i], r->prices->nversions);
	gb_free(r->entries);
	gb_free(r->entry_map.slots);
	gb_free(r->price_refs);
	gb_free(r->prices_by_id);
	gb_free(r->price_version);
	gb_free(r->buckets);
	gb_free(r->bucket_map.slots);
	gb_free(r->hours);
	gb_free(r->hour_map.slots);
	gb_free(r);
}

int gb_rater_reserve(gb_rater *r, uint64_t rows, gb_error *err)
{
	if (!r || r->finished)
		return gb_error_set(err, GB_EINVAL, "gb_rater_reserve: no rater, or finished");
	if (rows > SIZE_MAX / 64 || r->nfilter)
		return 0; /* a few named customers: let the set grow */
	/* a shard keeps only its own customers' rows: about 1/n of them */
	if (r->shard_count > 1)
		rows = rows / r->shard_count + rows / r->shard_count / 8;
	if (gb_dedup_reserve(&r->dedup, (size_t)rows) != 0)
		return gb_error_set(err, GB_ENOMEM,
				    "out of memory reserving the id set for %llu rows",
				    (unsigned long long)rows);
	return 0;
}

void gb_rater_counts(const gb_rater *r, gb_counts *out)
{
	*out = r->counts;
}

/* --- rating -------------------------------------------------------------------- */

static void set_outcome(gb_outcome *out, gb_state state, gb_reason reason,
			const char *fmt, ...) GB_PRINTF(4, 5);

static void set_outcome(gb_outcome *out, gb_state state, gb_reason reason,
			const char *fmt, ...)
{
	va_list ap;

	out->state = state;
	out->reason = reason;
	out->message[0] = '\0';
	if (fmt) {
		va_start(ap, fmt);
		vsnprintf(out->message, sizeof out->message, fmt, ap);
		va_end(ap);
	}
}

static int64_t max64(int64_t a, int64_t b) { return a > b ? a : b; }
static int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }

static void outside(gb_outcome *out)
{
	set_outcome(out, GB_STATE_OUTSIDE_PERIOD, GB_REASON_NONE, NULL);
}

static int billed(gb_rater *r, uint32_t cust, gb_outcome *out)
{
	r->customers[cust].billed = 1;
	set_outcome(out, GB_STATE_BILLED, GB_REASON_NONE, NULL);
	return 0;
}

/* Does the customer hold a reservation for this exact sku and region? */
static int holds_reservation(const cust_rec *c, const entry *e)
{
	size_t i;

	if (!c->contract)
		return 0;
	for (i = 0; i < c->contract->nreservations; i++) {
		const gb_reservation *res = &c->contract->reservations[i];

		if (strcmp(res->sku, e->name) == 0 &&
		    strcmp(res->region, e->region) == 0)
			return 1;
	}
	return 0;
}

static int no_rate(gb_outcome *out, const char *what, const gb_record *rec,
		   const gb_version *ver)
{
	char when[GB_TIME_TEXT_MAX];

	gb_time_format(when, sizeof when, ver->effective_from);
	set_outcome(out, GB_STATE_REJECTED, GB_REASON_NO_RATE,
		    "no %s rate for sku '%.*s' in region '%.*s' in the price "
		    "version from %s", what, (int)rec->sku.len, rec->sku.ptr,
		    (int)rec->region.len, rec->region.ptr, when);
	return 0;
}

/* Is there a spot price for every second of [t, pe) in version v? */
static int spot_priced(const entry *e, size_t v, int64_t t, int64_t pe)
{
	size_t i;

	for (i = 0; i < e->nspot[v]; i++) {
		int64_t se = i + 1 < e->nspot[v] ? e->spot[v][i + 1].from : INT64_MAX;

		if (se > t && e->spot[v][i].from < pe && e->spot[v][i].price < 0)
			return 0;
	}
	return 1;
}

static int add_spot(gb_rater *r, bucket_key *key, const entry *e, size_t v,
		    int64_t t, int64_t pe, uint32_t gpus)
{
	size_t i;

	for (i = 0; i < e->nspot[v]; i++) {
		int64_t ss = max64(t, e->spot[v][i].from);
		int64_t se = min64(pe, i + 1 < e->nspot[v] ? e->spot[v][i + 1].from
							  : INT64_MAX);
		int rc;

		if (ss >= se)
			continue;
		key->price = e->spot[v][i].price;
		rc = bucket_add(r, key, (gb_u128)gpus * (uint64_t)(se - ss));
		if (rc == 0 && gb_explain_tracing(r->explain))
			rc = gb_explain_piece(r->explain, key, (gb_u128)gpus *
					      (uint64_t)(se - ss), ss, se, (long)v, 0);
		if (rc)
			return rc;
	}
	return 0;
}

/* On-demand usage of a reserving customer goes to hour buckets. */
static int add_hours(gb_rater *r, bucket_key *key, int64_t t, int64_t pe,
		     uint32_t gpus)
{
	int64_t h;
	int rc;

	/* Counted on the on-demand line even when reservations cover it. */
	rc = bucket_add(r, key, 0);
	for (h = t - ((t % 3600) + 3600) % 3600; rc == 0 && h < pe; h += 3600) {
		int64_t s = max64(t, h), e = min64(pe, h + 3600);

		if (s < e)
			rc = hour_add(r, key->customer, key->entry, h,
				      (gb_u128)gpus * (uint64_t)(e - s));
		if (s < e && rc == 0 && gb_explain_tracing(r->explain))
			rc = gb_explain_piece(r->explain, key, (gb_u128)gpus *
					      (uint64_t)(e - s), s, e,
					      gb_prices_version_at(r->prices, s), 1);
	}
	return rc;
}

static int rate_gpu(gb_rater *r, const gb_record *rec, uint32_t cust,
		    gb_outcome *out)
{
	const gb_prices *p = r->prices;
	long v0 = gb_prices_version_at(p, rec->start), ei;
	const gb_version *ver;
	int64_t d, billable, s, e, t, pe;
	size_t first, v;
	bucket_key key;
	int reserved, rc;

	if (v0 < 0 || !p->versions[v0].has_gpu) {
		if (rec->end <= r->from || rec->start >= r->to)
			outside(out);
		else
			set_outcome(out, GB_STATE_REJECTED, GB_REASON_NO_RATE, v0 < 0 ?
				    "start is before the first price version" :
				    "the price version in effect at start has no gpu rates");
		return 0;
	}
	ver = &p->versions[v0];
	d = rec->end - rec->start;
	memset(&key, 0, sizeof key);
	key.customer = cust;
	if (rec->spot && rec->interrupted &&
	    d < ver->spot_interruption_free_seconds) {
		/* SPEC 6.1: not charged; a zero line shows the GPU-seconds. */
		s = max64(rec->start, r->from);
		e = min64(rec->end, r->to);
		if (s >= e) {
			outside(out);
			return 0;
		}
		ei = entry_intern(r, ENTRY_GPU, &rec->sku, &rec->region);
		if (ei < 0)
			return GB_ENOMEM;
		/* Free, but only where spot usage has a price at all. */
		for (v = (size_t)gb_prices_version_at(p, s), t = s; t < e;
		     t = gb_rater_version_end(p, v), v++) {
			pe = min64(e, gb_rater_version_end(p, v));
			if (!p->versions[v].has_gpu ||
			    !spot_priced(&r->entries[ei], v, t, pe))
				return no_rate(out, "spot", rec, &p->versions[v]);
		}
		key.entry = (uint32_t)ei;
		key.price = -1;
		key.kind = GB_LINE_GPU_SPOT_INTERRUPTED;
		rc = bucket_add(r, &key, (gb_u128)rec->gpus * (uint64_t)(e - s));
		if (rc == 0 && gb_explain_tracing(r->explain)) {
			gb_explain_interval(r->explain, rec->start, rec->end, 0,
					    ver, s, e, 1);
			rc = gb_explain_piece(r->explain, &key, (gb_u128)rec->gpus *
					      (uint64_t)(e - s), s, e,
					      gb_prices_version_at(p, s), 0);
		}
		return rc ? rc : billed(r, cust, out);
	}
	/* Billable length from the version in effect at start (SPEC 6.1). */
	billable = (d + ver->increment_seconds - 1) / ver->increment_seconds *
		   ver->increment_seconds;
	billable = max64(billable, ver->minimum_seconds);
	s = max64(rec->start, r->from);
	e = min64(rec->start + billable, r->to);
	if (s >= e) {
		outside(out);
		return 0;
	}
	ei = entry_intern(r, ENTRY_GPU, &rec->sku, &rec->region);
	if (ei < 0)
		return GB_ENOMEM;
	/* Every piece needs a price before anything is added. */
	first = (size_t)gb_prices_version_at(p, s);
	for (v = first, t = s; t < e; t = gb_rater_version_end(p, v), v++) {
		pe = min64(e, gb_rater_version_end(p, v));
		if (!p->versions[v].has_gpu)
			return no_rate(out, rec->spot ? "spot" : "on-demand", rec,
				       &p->versions[v]);
		if (rec->spot ? !spot_priced(&r->entries[ei], v, t, pe)
			      : r->entries[ei].price[v * NSLOTS + SLOT_ON_DEMAND] < 0)
			return no_rate(out, rec->spot ? "spot" : "on-demand", rec,
				       &p->versions[v]);
	}
	key.entry = (uint32_t)ei;
	key.kind = rec->spot ? GB_LINE_GPU_SPOT : GB_LINE_GPU_ON_DEMAND;
	if (gb_explain_tracing(r->explain))
		gb_explain_interval(r->explain, rec->start, rec->end, billable,
				    ver, s, e, 0);
	reserved = !rec->spot && holds_reservation(&r->customers[cust],
						   &r->entries[ei]);
	for (v = first, t = s, rc = 0; t < e && rc == 0; t = pe, v++) {
		pe = min64(e, gb_rater_version_end(p, v));
		if (rec->spot) {
			rc = add_spot(r, &key, &r->entries[ei], v, t, pe, rec->gpus);
			continue;
		}
		key.price = r->entries[ei].price[v * NSLOTS + SLOT_ON_DEMAND];
		if (reserved) {
			rc = add_hours(r, &key, t, pe, rec->gpus);
			continue;
		}
		rc = bucket_add(r, &key, (gb_u128)rec->gpus * (uint64_t)(pe - t));
		if (rc == 0 && gb_explain_tracing(r->explain))
			rc = gb_explain_piece(r->explain, &key, (gb_u128)rec->gpus *
					      (uint64_t)(pe - t), t, pe, (long)v, 0);
	}
	return rc ? rc : billed(r, cust, out);
}

static int rate_tokens(gb_rater *r, const gb_record *rec, uint32_t cust,
		       gb_outcome *out)
{
	static const char *const what[] = { "input", "cached input", "output" };
	static const gb_line_kind kinds[] = {
		GB_LINE_TOKENS_INPUT, GB_LINE_TOKENS_CACHED_INPUT, GB_LINE_TOKENS_OUTPUT
	};
	const gb_prices *p = r->prices;
	uint64_t counts[3];
	bucket_key keys[3];
	long v, ei;
	int slot, rc;

	if (rec->start < r->from || rec->start >= r->to) {
		outside(out);
		return 0;
	}
	v = gb_prices_version_at(p, rec->start);
	if (v < 0 || !p->versions[v].has_tokens) {
		set_outcome(out, GB_STATE_REJECTED, GB_REASON_NO_RATE, v < 0 ?
			    "start is before the first price version" :
			    "the price version in effect at start has no token rates");
		return 0;
	}
	ei = entry_intern(r, ENTRY_TOKENS, &rec->model, &rec->region);
	if (ei < 0)
		return GB_ENOMEM;
	if (r->entries[ei].price[v * NSLOTS + SLOT_INPUT] < 0 &&
	    r->entries[ei].price[v * NSLOTS + SLOT_CACHED] < 0 &&
	    r->entries[ei].price[v * NSLOTS + SLOT_OUTPUT] < 0) {
		set_outcome(out, GB_STATE_REJECTED, GB_REASON_NO_RATE,
			    "no token rate for model '%.*s'%s%.*s",
			    (int)rec->model.len, rec->model.ptr,
			    rec->region.len ? " in region " : "",
			    (int)rec->region.len, rec->region.ptr);
		return 0;
	}
	counts[0] = rec->input_tokens;
	counts[1] = rec->cached_tokens;
	counts[2] = rec->output_tokens;
	for (slot = 0; slot < 3; slot++) {
		if (counts[slot] && r->entries[ei].price[v * NSLOTS + slot] < 0) {
			set_outcome(out, GB_STATE_REJECTED, GB_REASON_NO_RATE,
				    "no %s token price for model '%.*s'%s%.*s",
				    what[slot], (int)rec->model.len, rec->model.ptr,
				    rec->region.len ? " in region " : "",
				    (int)rec->region.len, rec->region.ptr);
			return 0;
		}
	}
	for (slot = 0; slot < 3; slot++) {
		if (!counts[slot])
			continue;
		memset(&keys[slot], 0, sizeof keys[slot]);
		keys[slot].customer = cust;
		keys[slot].entry = (uint32_t)ei;
		keys[slot].aux = rec->batch ? (uint16_t)(v + 1) : 0;
		keys[slot].kind = (uint16_t)kinds[slot];
		keys[slot].price = r->entries[ei].price[v * NSLOTS + slot];
	}
	for (slot = 0, rc = 0; slot < 3 && rc == 0; slot++) {
		if (!counts[slot])
			continue;
		rc = bucket_add(r, &keys[slot], counts[slot]);
		if (rc == 0 && gb_explain_tracing(r->explain))
			rc = gb_explain_piece(r->explain, &keys[slot], counts[slot],
					      0, 0, v, 0);
	}
	return rc ? rc : billed(r, cust, out);
}

/*
 * gb_rater_selects' memo (rater_internal.h): the slot of an id of 1 to
 * SEL_NAME bytes, from its first and last bytes (overlapping loads) and
 * its length.  Only a place to look: a slot is used when its bytes match.
 */
static size_t sel_slot_of(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	uint64_t w;

	if (n >= 8)
		w = gb_read64(p) ^ (gb_read64(p + n - 8) * 31);
	else if (n >= 4)
		w = (gb_read32(p) << 32) | gb_read32(p + n - 4);
	else
		w = ((uint64_t)p[0] << 16) | ((uint64_t)p[n >> 1] << 8) | p[n - 1];
	return (size_t)(((w ^ n) * 0x9e3779b97f4a7c15ull) >> 52) &
	       (SEL_SLOTS - 1);
}

/* a[0..n) == b[0..n), 1 <= n <= SEL_NAME, a word at a time */
static int same_bytes(const char *a, const char *b, size_t n)
{
	const unsigned char *x = (const unsigned char *)a;
	const unsigned char *y = (const unsigned char *)b;
	size_t i;

	if (n < 8)
		return memcmp(a, b, n) == 0;
	for (i = 0; i + 8 < n; i += 8)
		if (gb_read64(x + i) != gb_read64(y + i))
			return 0;
	return gb_read64(x + n - 8) == gb_read64(y + n - 8);
}

/* The customer gb_rater_selects last answered about, when the row's
 * customer is that one (a front end that filters asks just before it
 * hands the row on); else -1. */
static long sel_recall(const gb_rater *r, const char *name, size_t len)
{
	const sel_slot *e = r->sel_last;

	if (e && e->len == len && same_bytes(e->name, name, len))
		return (long)e->cust - 1;
	return -1;
}

static void count(gb_rater *r, gb_state state)
{
	switch (state) {
	case GB_STATE_BILLED: r->counts.billed++; break;
	case GB_STATE_REJECTED: r->counts.rejected++; break;
	case GB_STATE_DUPLICATE: r->counts.duplicates++; break;
	case GB_STATE_OUTSIDE_PERIOD: r->counts.outside_period++; break;
	case GB_STATE_SKIPPED: r->counts.skipped++; break;
	}
	r->counts.read++;
}

/*
 * A record is identified by its customer and id (see gpubill(1), "Record
 * states"): the fingerprint of the id is keyed by the customer's bytes, so
 * equal ids of two customers are two records.  That makes every row's
 * fate depend on its own customer's rows only, which is what lets a shard
 * skip the rows of other customers unread.
 */
static int add_row(gb_rater *r, const gb_row *row, gb_outcome *out)
{
	const gb_field *idf = &row->f[GB_COL_ID];
	const gb_field *cf = &row->f[GB_COL_CUSTOMER];
	int cust_ok = cf->len && cf->len <= GB_TEXT_FIELD_MAX;
	uint64_t id_hi = 0, cust_hash = 0;
	uint32_t id_lo = 0, content;
	gb_record rec;
	long cust = -1;

	if (GB_UNLIKELY(r->explain != NULL) && gb_explain_row(r->explain, row))
		return GB_ENOMEM;
	if (GB_UNLIKELY(row->flags & GB_ROW_FILTERED)) {
		/* gb_rater_selects said no: the rest was never read */
		if (!r->selecting)
			return GB_EINVAL;
		set_outcome(out, GB_STATE_SKIPPED, GB_REASON_NONE, NULL);
		return 0;
	}
	/* A front end that filters asked about this row's customer just
	 * now: the answer named the customer. */
	if (r->selecting && cust_ok)
		cust = sel_recall(r, cf->ptr, cf->len);
	if (cust >= 0) {
		cust_hash = r->customers[cust].hash;
	} else if (cust_ok) {
		/* The customer index and the id set are large and touched
		 * at random: start their cache misses now, so they overlap
		 * checking the row. */
		cust_hash = gb_rater_customer_hash(cf->ptr, cf->len);
		customer_prefetch(r, cust_hash);
	}
	/* Another shard's (or an unselected) customer: nothing of this row
	 * can change what this run bills, so it is not even checked.  The
	 * customer's shard is worked out once, when it is first seen. */
	if (r->selecting) {
		if (cust_ok && cust < 0) {
			cust = customer_intern_h(r, cf->ptr, cf->len, cust_hash);
			if (cust < 0)
				return GB_ENOMEM;
		}
		if (cust >= 0 ? !r->customers[cust].selected
			      : !raw_selected(r, cf->ptr, cf->len)) {
			set_outcome(out, GB_STATE_SKIPPED, GB_REASON_NONE, NULL);
			return 0;
		}
	}
	/* The id's fingerprint is keyed by the customer: by its index hash
	 * for the high word and by a second, independent hash for the low
	 * one, so two customers whose hashes collide still keep their ids
	 * apart. */
	if (cust_ok && idf->len && idf->len <= GB_TEXT_FIELD_MAX) {
		gb_dedup_hash(idf->ptr, idf->len, cust_hash,
			      gb_hash64(cf->ptr, cf->len, 0x6375737430303031ull),
			      &id_hi, &id_lo);
		gb_dedup_prefetch(&r->dedup, id_hi);
	}
	if (!gb_record_parse(&rec, row, out))
		return 0;
	/* a parsed row has both fields, so the hashes were computed; the
	 * customer's slot has had time to load: now its record, while the
	 * row's content is hashed */
	if (cust < 0)
		customer_prefetch_rec(r, cust_hash);
	content = gb_row_content_hash(row);
	if (cust < 0)
		cust = customer_intern_h(r, rec.customer.ptr, rec.customer.len,
					 cust_hash);
	if (cust < 0)
		return GB_ENOMEM;
	/* id_hi and id_lo are the fingerprint of this row's fields */
	switch (gb_dedup_check(&r->dedup, id_hi, id_lo, content)) {
	case GB_DEDUP_NEW:
		break;
	case GB_DEDUP_SAME:
		set_outcome(out, GB_STATE_DUPLICATE, GB_REASON_NONE, NULL);
		return 0;
	case GB_DEDUP_CONFLICT:
		set_outcome(out, GB_STATE_REJECTED, GB_REASON_DUPLICATE_CONFLICT,
			    "id '%.*s' was seen earlier with different content; "
			    "the first row stands",
			    (int)rec.id.len, rec.id.ptr);
		return 0;
	case GB_DEDUP_NOMEM:
		return GB_ENOMEM;
	}
	if (rec.type == GB_RECORD_GPU)
		return rate_gpu(r, &rec, (uint32_t)cust, out);
	return rate_tokens(r, &rec, (uint32_t)cust, out);
}

int gb_rater_selects(gb_rater *r, const char *customer, size_t len)
{
	sel_slot *e = NULL;
	long c;

	if (!r || (len && !customer))
		return GB_EINVAL;
	if (!r->selecting)
		return 1;
	/* as add_row decides, for a customer it can intern or not */
	if (!len || len > GB_TEXT_FIELD_MAX)
		return raw_selected(r, customer, len);
	if (len <= SEL_NAME) {
		e = &r->sel_memo[sel_slot_of(customer, len)];
		if (e->len == len && same_bytes(e->name, customer, len)) {
			r->sel_last = e;
			return e->selected;
		}
	}
	c = customer_intern_h(r, customer, len,
			      gb_rater_customer_hash(customer, len));
	if (c < 0)
		return GB_ENOMEM;
	if (e) {
		e->cust = (uint32_t)c + 1;
		e->len = (uint8_t)len;
		e->selected = r->customers[c].selected;
		memcpy(e->name, customer, len);
		r->sel_last = e;
	}
	return r->customers[c].selected;
}

/* gb_rater_add_row past its checks: kept apart (never inlined) so that
 * a skipped row does not pay for this one's large stack frame. */
#if defined(__GNUC__)
__attribute__((noinline))
#endif
static int add_row_counted(gb_rater *r, const gb_row *row, gb_outcome *out)
{
	int rc;

	set_outcome(out, GB_STATE_REJECTED, GB_REASON_NONE, NULL);
	rc = add_row(r, row, out);
	if (GB_UNLIKELY(gb_explain_tracing(r->explain)))
		gb_explain_done(r->explain, rc == 0 ? out : NULL);
	if (rc != 0)
		return rc;
	count(r, out->state);
	return 0;
}

int gb_rater_add_row(gb_rater *r, const gb_row *row, gb_outcome *out)
{
	if (!r || !row || !out || r->finished)
		return GB_EINVAL;
	if (r->broken)
		return GB_ENOMEM;
	r->row_seq++;
	/* A row the reader stopped reading because gb_rater_selects said
	 * no: add_row would skip it too, at more cost, and a shard of N
	 * sees N - 1 of them for each row it bills. */
	if ((row->flags & GB_ROW_FILTERED) && r->selecting && !r->explain) {
		out->state = GB_STATE_SKIPPED;
		out->reason = GB_REASON_NONE;
		out->message[0] = '\0';
		r->counts.skipped++;
		r->counts.read++;
		return 0;
	}
	return add_row_counted(r, row, out);
}
