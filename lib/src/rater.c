/*
 * rater.c - rate usage rows into integer buckets; price buckets once.
 *
 * Per row: check it (record.c), drop duplicates (dedup.c), resolve the
 * rate through a cache keyed by (sku, region), and add gpus x seconds to
 * the bucket of (customer, kind, sku/region entry, price).  A bucket is an
 * invoice line before tiers: prices are interned by value up front, so
 * equal unit prices from different versions share a bucket.  No GMP in
 * this path; gb_rater_finish turns each bucket into lines with one
 * rational multiplication and one rounding per line.
 */
#include "dedup.h"
#include "internal.h"
#include "invoice_internal.h"
#include "prices_internal.h"
#include "record.h"

#include <gpubill/rater.h>
#include <gpubill/timestamp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --- interned customers and (sku, region) entries ------------------------ */

typedef struct customer {
	char *name;
	size_t len;
	uint64_t hash;
	int selected;
} cust_rec;

typedef struct entry {
	char *sku;
	char *region;
	size_t sku_len;
	size_t region_len;
	uint64_t hash;
	int32_t *on_demand;  /* per version: price id, or -1 = no rate */
} entry;

/* Open-addressing index: slot holds item index + 1, 0 = empty. */
typedef struct index_map {
	uint32_t *slots;
	size_t mask;
	size_t count;
} index_map;

/* --- buckets ---------------------------------------------------------------- */

typedef struct bucket_key {
	uint32_t customer;
	uint32_t entry;
	uint32_t price;
	uint32_t kind;
} bucket_key;

typedef struct bucket {
	bucket_key key;
	gb_u128 quantity;    /* GPU-seconds or tokens */
	uint64_t records;
	uint64_t last_row;   /* row sequence that last counted a record here */
} bucket;

/* --- prices ---------------------------------------------------------------- */

typedef struct price_ref {
	const gb_price *price;  /* as in the table */
	uint32_t id;            /* canonical: equal flat prices share an id */
} price_ref;

struct gb_rater {
	const gb_prices *prices;
	int64_t from;
	int64_t to;
	char **filter;           /* --customer list, owned copies */
	size_t *filter_len;
	size_t nfilter;
	uint32_t shard_index;
	uint32_t shard_count;
	int selecting;           /* any filter or shard */
	int finished;

	gb_dedup dedup;
	gb_counts counts;
	uint64_t row_seq;

	cust_rec *customers;
	size_t ncustomers, customers_cap;
	index_map customer_map;

	entry *entries;
	size_t nentries, entries_cap;
	index_map entry_map;

	price_ref *price_refs;
	size_t nprice_refs;
	const gb_price **prices_by_id;  /* canonical price of each id */
	size_t nprice_ids;

	bucket *buckets;
	size_t nbuckets, buckets_cap;
	index_map bucket_map;
};

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

/* --- index map ----------------------------------------------------------- */

static int map_grow(index_map *m, size_t (*hash_of)(const gb_rater *, uint32_t),
		    const gb_rater *r)
{
	size_t cap = m->slots ? (m->mask + 1) * 2 : 256;
	uint32_t *slots = gb_calloc(cap, sizeof *slots);
	size_t i;

	if (!slots)
		return -1;
	if (m->slots) {
		for (i = 0; i <= m->mask; i++) {
			size_t j;

			if (!m->slots[i])
				continue;
			j = hash_of(r, m->slots[i] - 1) & (cap - 1);
			while (slots[j])
				j = (j + 1) & (cap - 1);
			slots[j] = m->slots[i];
		}
		gb_free(m->slots);
	}
	m->slots = slots;
	m->mask = cap - 1;
	return 0;
}

/* Make room for one more item at a load factor of at most 1/2. */
static int map_reserve(index_map *m, size_t (*hash_of)(const gb_rater *, uint32_t),
		       const gb_rater *r)
{
	if (m->slots && (m->count + 1) * 2 <= m->mask + 1)
		return 0;
	return map_grow(m, hash_of, r);
}

static int grow_array(void **arr, size_t *cap, size_t need, size_t size)
{
	size_t n = *cap ? *cap : 64;
	void *p;

	if (need <= *cap)
		return 0;
	while (n < need)
		n *= 2;
	p = gb_realloc(*arr, n * size);
	if (!p)
		return -1;
	*arr = p;
	*cap = n;
	return 0;
}

/* --- customers --------------------------------------------------------------- */

static size_t customer_hash_of(const gb_rater *r, uint32_t i)
{
	return (size_t)r->customers[i].hash;
}

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

/* Index of the customer, interned on first sight; -1 on no memory. */
static long customer_intern(gb_rater *r, const gb_field *f)
{
	uint64_t h = gb_hash64(f->ptr, f->len, 17);
	index_map *m = &r->customer_map;
	cust_rec *c;
	size_t j;

	if (m->slots) {
		for (j = h & m->mask; m->slots[j]; j = (j + 1) & m->mask) {
			c = &r->customers[m->slots[j] - 1];
			if (c->hash == h && c->len == f->len &&
			    memcmp(c->name, f->ptr, f->len) == 0)
				return (long)(m->slots[j] - 1);
		}
	}
	if (map_reserve(m, customer_hash_of, r) != 0 ||
	    grow_array((void **)&r->customers, &r->customers_cap,
		       r->ncustomers + 1, sizeof *r->customers) != 0)
		return -1;
	c = &r->customers[r->ncustomers];
	c->name = gb_strndup(f->ptr, f->len);
	if (!c->name)
		return -1;
	c->len = f->len;
	c->hash = h;
	c->selected = raw_selected(r, f->ptr, f->len);
	for (j = h & m->mask; m->slots[j]; j = (j + 1) & m->mask)
		;
	m->slots[j] = (uint32_t)++r->ncustomers;
	m->count++;
	return (long)(r->ncustomers - 1);
}

/* --- prices ---------------------------------------------------------------- */

static int price_equal(const gb_price *a, const gb_price *b)
{
	return a->mode == GB_PRICE_FLAT && b->mode == GB_PRICE_FLAT &&
	       mpq_equal(a->flat, b->flat);
}

/* Record a table price; equal flat prices get the same id. */
static int price_register(gb_rater *r, const gb_price *p, size_t *cap_refs,
			  size_t *cap_ids)
{
	size_t i;
	uint32_t id = (uint32_t)r->nprice_ids;

	if (!p)
		return 0;
	for (i = 0; i < r->nprice_ids; i++) {
		if (price_equal(r->prices_by_id[i], p)) {
			id = (uint32_t)i;
			break;
		}
	}
	if (id == r->nprice_ids) {
		if (grow_array((void **)&r->prices_by_id, cap_ids,
			       r->nprice_ids + 1, sizeof *r->prices_by_id) != 0)
			return -1;
		r->prices_by_id[r->nprice_ids++] = p;
	}
	if (grow_array((void **)&r->price_refs, cap_refs, r->nprice_refs + 1,
		       sizeof *r->price_refs) != 0)
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
	size_t cap_refs = 0, cap_ids = 0, v, i;

	for (v = 0; v < p->nversions; v++) {
		const gb_version *ver = &p->versions[v];

		for (i = 0; i < ver->ngpu_rates; i++)
			if (price_register(r, ver->gpu_rates[i].on_demand,
					   &cap_refs, &cap_ids) != 0)
				return -1;
	}
	return 0;
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

/* --- (sku, region) entries ------------------------------------------------- */

static uint64_t entry_hash(const gb_field *sku, const gb_field *region)
{
	return gb_hash64(region->ptr, region->len,
			 gb_hash64(sku->ptr, sku->len, 29));
}

static size_t entry_hash_of(const gb_rater *r, uint32_t i)
{
	return (size_t)r->entries[i].hash;
}

static int entry_fill(gb_rater *r, entry *e)
{
	const gb_prices *p = r->prices;
	size_t v;

	e->on_demand = gb_calloc(p->nversions, sizeof *e->on_demand);
	if (!e->on_demand)
		return -1;
	for (v = 0; v < p->nversions; v++) {
		const gb_version *ver = &p->versions[v];
		const gb_gpu_rate *rate = NULL;

		if (ver->has_gpu)
			rate = gb_version_gpu_rate(ver, e->sku, e->region);
		e->on_demand[v] = rate ? price_id_of(r, rate->on_demand) : -1;
	}
	return 0;
}

static long entry_intern(gb_rater *r, const gb_field *sku,
			 const gb_field *region)
{
	uint64_t h = entry_hash(sku, region);
	index_map *m = &r->entry_map;
	entry *e;
	size_t j;

	if (m->slots) {
		for (j = h & m->mask; m->slots[j]; j = (j + 1) & m->mask) {
			e = &r->entries[m->slots[j] - 1];
			if (e->hash == h && e->sku_len == sku->len &&
			    e->region_len == region->len &&
			    memcmp(e->sku, sku->ptr, sku->len) == 0 &&
			    memcmp(e->region, region->ptr, region->len) == 0)
				return (long)(m->slots[j] - 1);
		}
	}
	if (map_reserve(m, entry_hash_of, r) != 0 ||
	    grow_array((void **)&r->entries, &r->entries_cap, r->nentries + 1,
		       sizeof *r->entries) != 0)
		return -1;
	e = &r->entries[r->nentries];
	memset(e, 0, sizeof *e);
	e->sku = gb_strndup(sku->ptr, sku->len);
	e->region = gb_strndup(region->ptr, region->len);
	e->sku_len = sku->len;
	e->region_len = region->len;
	e->hash = h;
	if (!e->sku || !e->region || entry_fill(r, e) != 0) {
		gb_free(e->sku);
		gb_free(e->region);
		gb_free(e->on_demand);
		return -1;
	}
	for (j = h & m->mask; m->slots[j]; j = (j + 1) & m->mask)
		;
	m->slots[j] = (uint32_t)++r->nentries;
	m->count++;
	return (long)(r->nentries - 1);
}

/* --- buckets --------------------------------------------------------------- */

static uint64_t bucket_key_hash(const bucket_key *k)
{
	uint64_t a = ((uint64_t)k->customer << 32) | k->entry;
	uint64_t b = ((uint64_t)k->price << 32) | k->kind;
	gb_u128 m = (gb_u128)(a ^ 0xa0761d6478bd642full) *
		    (b ^ 0xe7037ed1a0b428dbull);

	return (uint64_t)m ^ (uint64_t)(m >> 64);
}

static size_t bucket_hash_of(const gb_rater *r, uint32_t i)
{
	return (size_t)bucket_key_hash(&r->buckets[i].key);
}

static bucket *bucket_get(gb_rater *r, const bucket_key *k)
{
	uint64_t h = bucket_key_hash(k);
	index_map *m = &r->bucket_map;
	bucket *b;
	size_t j;

	if (m->slots) {
		for (j = h & m->mask; m->slots[j]; j = (j + 1) & m->mask) {
			b = &r->buckets[m->slots[j] - 1];
			if (memcmp(&b->key, k, sizeof *k) == 0)
				return b;
		}
	}
	if (map_reserve(m, bucket_hash_of, r) != 0 ||
	    grow_array((void **)&r->buckets, &r->buckets_cap, r->nbuckets + 1,
		       sizeof *r->buckets) != 0)
		return NULL;
	b = &r->buckets[r->nbuckets];
	memset(b, 0, sizeof *b);
	b->key = *k;
	for (j = h & m->mask; m->slots[j]; j = (j + 1) & m->mask)
		;
	m->slots[j] = (uint32_t)++r->nbuckets;
	m->count++;
	return b;
}

/* --- lifetime -------------------------------------------------------------- */

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
		return gb_error_set(err, GB_EINVAL,
				    "shard %u of %u does not exist",
				    opts->shard_index, opts->shard_count);
	r = gb_calloc(1, sizeof *r);
	if (!r)
		return gb_error_set(err, GB_ENOMEM, "out of memory");
	r->prices = prices;
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
	gb_dedup_free(&r->dedup);
	for (i = 0; i < r->ncustomers; i++)
		gb_free(r->customers[i].name);
	gb_free(r->customers);
	gb_free(r->customer_map.slots);
	for (i = 0; i < r->nentries; i++) {
		gb_free(r->entries[i].sku);
		gb_free(r->entries[i].region);
		gb_free(r->entries[i].on_demand);
	}
	gb_free(r->entries);
	gb_free(r->entry_map.slots);
	gb_free(r->price_refs);
	gb_free(r->prices_by_id);
	gb_free(r->buckets);
	gb_free(r->bucket_map.slots);
	gb_free(r);
}

void gb_rater_counts(const gb_rater *r, gb_counts *out)
{
	*out = r->counts;
}

/* --- rating ---------------------------------------------------------------- */

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

static int64_t version_end(const gb_prices *p, size_t v)
{
	return v + 1 < p->nversions ? p->versions[v + 1].effective_from
				    : INT64_MAX;
}

/* Add gpus x [ps, pe) to one bucket; counts the record once per bucket. */
static int bucket_add(gb_rater *r, const bucket_key *k, gb_u128 qty)
{
	bucket *b = bucket_get(r, k);

	if (!b)
		return GB_ENOMEM;
	b->quantity += qty;
	if (b->last_row != r->row_seq) {
		b->last_row = r->row_seq;
		b->records++;
	}
	return 0;
}

static int rate_gpu(gb_rater *r, const gb_record *rec, uint32_t cust,
		    gb_outcome *out)
{
	const gb_prices *p = r->prices;
	long v0 = gb_prices_version_at(p, rec->start), ei;
	const gb_version *ver;
	int64_t d, billable, s, e, t, pe;
	size_t first, v;
	char when[GB_TIME_TEXT_MAX];
	bucket_key key;

	if (rec->spot) {
		set_outcome(out, GB_STATE_REJECTED, GB_REASON_UNSUPPORTED,
			    "spot usage is not rated yet");
		return 0;
	}
	if (v0 < 0 || !p->versions[v0].has_gpu) {
		if (rec->end <= r->from || rec->start >= r->to)
			set_outcome(out, GB_STATE_OUTSIDE_PERIOD, GB_REASON_NONE, NULL);
		else if (v0 < 0)
			set_outcome(out, GB_STATE_REJECTED, GB_REASON_NO_RATE,
				    "start is before the first price version");
		else
			set_outcome(out, GB_STATE_REJECTED, GB_REASON_NO_RATE,
				    "the price version in effect at start has no gpu rates");
		return 0;
	}
	/* Billable length from the version in effect at start (SPEC 6.1). */
	ver = &p->versions[v0];
	d = rec->end - rec->start;
	billable = (d + ver->increment_seconds - 1) / ver->increment_seconds *
		   ver->increment_seconds;
	billable = max64(billable, ver->minimum_seconds);
	s = max64(rec->start, r->from);
	e = min64(rec->start + billable, r->to);
	if (s >= e) {
		set_outcome(out, GB_STATE_OUTSIDE_PERIOD, GB_REASON_NONE, NULL);
		return 0;
	}
	ei = entry_intern(r, &rec->sku, &rec->region);
	if (ei < 0)
		return GB_ENOMEM;
	/* Every version piece needs a rate before anything is added. */
	first = (size_t)gb_prices_version_at(p, s);
	for (v = first, t = s; t < e; t = version_end(p, v), v++) {
		if (r->entries[ei].on_demand[v] >= 0)
			continue;
		gb_time_format(when, sizeof when, p->versions[v].effective_from);
		set_outcome(out, GB_STATE_REJECTED, GB_REASON_NO_RATE,
			    "no on-demand rate for sku '%.*s' in region '%.*s' "
			    "in the price version from %s",
			    (int)rec->sku.len, rec->sku.ptr,
			    (int)rec->region.len, rec->region.ptr, when);
		return 0;
	}
	key.customer = cust;
	key.entry = (uint32_t)ei;
	key.kind = GB_LINE_GPU_ON_DEMAND;
	for (v = first, t = s; t < e; t = pe, v++) {
		int rc;

		pe = min64(e, version_end(p, v));
		key.price = (uint32_t)r->entries[ei].on_demand[v];
		rc = bucket_add(r, &key, (gb_u128)rec->gpus * (uint64_t)(pe - t));
		if (rc)
			return rc;
	}
	set_outcome(out, GB_STATE_BILLED, GB_REASON_NONE, NULL);
	return 0;
}

static int rate_tokens(gb_rater *r, const gb_record *rec, uint32_t cust,
		       gb_outcome *out)
{
	(void)r;
	(void)rec;
	(void)cust;
	set_outcome(out, GB_STATE_REJECTED, GB_REASON_UNSUPPORTED,
		    "token usage is not rated yet");
	return 0;
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

static int add_row(gb_rater *r, const gb_row *row, gb_outcome *out)
{
	gb_record rec;
	long cust = 0;
	int rc;

	if (!gb_record_parse(&rec, row, out)) {
		if (r->selecting && !raw_selected(r, row->f[GB_COL_CUSTOMER].ptr,
						  row->f[GB_COL_CUSTOMER].len))
			set_outcome(out, GB_STATE_SKIPPED, GB_REASON_NONE, NULL);
		return 0;
	}
	cust = customer_intern(r, &rec.customer);
	if (cust < 0)
		return GB_ENOMEM;
	switch (gb_dedup_check(&r->dedup, rec.id.ptr, rec.id.len,
			       gb_row_content_hash(row))) {
	case GB_DEDUP_NEW:
		break;
	case GB_DEDUP_SAME:
		set_outcome(out, GB_STATE_DUPLICATE, GB_REASON_NONE, NULL);
		goto selected;
	case GB_DEDUP_CONFLICT:
		set_outcome(out, GB_STATE_REJECTED, GB_REASON_DUPLICATE_CONFLICT,
			    "id '%.*s' was seen earlier with different content; the first row stands",
			    (int)rec.id.len, rec.id.ptr);
		goto selected;
	case GB_DEDUP_NOMEM:
		return GB_ENOMEM;
	}
	if (!r->customers[cust].selected) {
		set_outcome(out, GB_STATE_SKIPPED, GB_REASON_NONE, NULL);
		return 0;
	}
	if (rec.type == GB_RECORD_GPU)
		rc = rate_gpu(r, &rec, (uint32_t)cust, out);
	else
		rc = rate_tokens(r, &rec, (uint32_t)cust, out);
	return rc;
selected:
	if (!r->customers[cust].selected)
		set_outcome(out, GB_STATE_SKIPPED, GB_REASON_NONE, NULL);
	return 0;
}

int gb_rater_add_row(gb_rater *r, const gb_row *row, gb_outcome *out)
{
	int rc;

	if (!r || !row || !out || r->finished)
		return GB_EINVAL;
	r->row_seq++;
	set_outcome(out, GB_STATE_REJECTED, GB_REASON_NONE, NULL);
	rc = add_row(r, row, out);
	if (rc != 0)
		return rc;
	count(r, out->state);
	return 0;
}

/* --- pricing: buckets to invoice lines ---------------------------------------- */

typedef struct sorted_bucket {
	const cust_rec *cust;
	const entry *ent;
	const gb_price *price;
	const bucket *b;
} sorted_bucket;

static int cmp_bytes(const char *a, size_t al, const char *b, size_t bl)
{
	int c = memcmp(a, b, al < bl ? al : bl);

	if (c)
		return c;
	return al < bl ? -1 : al > bl;
}

static int sorted_bucket_cmp(const void *pa, const void *pb)
{
	const sorted_bucket *a = pa, *b = pb;
	int c = cmp_bytes(a->cust->name, a->cust->len, b->cust->name,
			  b->cust->len);

	if (c)
		return c;
	if (a->b->key.kind != b->b->key.kind)
		return a->b->key.kind < b->b->key.kind ? -1 : 1;
	c = strcmp(a->ent->sku, b->ent->sku);
	if (c)
		return c;
	c = strcmp(a->ent->region, b->ent->region);
	if (c)
		return c;
	if (a->price->mode == GB_PRICE_FLAT && b->price->mode == GB_PRICE_FLAT) {
		c = mpq_cmp(a->price->flat, b->price->flat);
		if (c)
			return c < 0 ? -1 : 1;
	}
	/* Ids follow the table's order, never the input's. */
	return a->b->key.price < b->b->key.price ? -1 :
	       a->b->key.price > b->b->key.price;
}

static void mpz_set_u128(mpz_t out, gb_u128 v)
{
	mpz_set_ui(out, (unsigned long)(uint64_t)(v >> 64));
	mpz_mul_2exp(out, out, 64);
	mpz_add_ui(out, out, (unsigned long)(uint64_t)v);
}

typedef struct line_list {
	gb_invoice_line *lines;
	size_t n;
	size_t cap;
} line_list;

static gb_invoice_line *line_new(line_list *ll)
{
	gb_invoice_line *l;

	if (grow_array((void **)&ll->lines, &ll->cap, ll->n + 1,
		       sizeof *ll->lines) != 0)
		return NULL;
	l = &ll->lines[ll->n++];
	gb_invoice_line_init(l);
	return l;
}

/*
 * Fill a GPU line: quantity hours at unit price; base is GPU-seconds.
 * The amount is rounded here, once.
 */
static int gpu_line(gb_rater *r, line_list *ll, const sorted_bucket *sb,
		    const mpq_t hours, const mpq_t unit_price, unsigned tier,
		    const char *tier_text)
{
	const gb_prices *p = r->prices;
	gb_invoice_line *l = line_new(ll);
	mpq_t exact;
	char desc[512];

	if (!l)
		return GB_ENOMEM;
	l->kind = (gb_line_kind)sb->b->key.kind;
	l->tier = tier;
	mpq_set(l->quantity, hours);
	mpq_set(l->unit_price, unit_price);
	mpq_init(exact);
	mpq_mul(exact, hours, unit_price);
	gb_round(l->amount, exact, p->minor_units, p->rounding);
	mpq_set_ui(exact, 3600, 1);
	mpq_mul(exact, exact, hours);
	mpz_set(l->base_quantity, mpq_numref(exact)); /* whole seconds unless a tier cut */
	if (mpz_cmp_ui(mpq_denref(exact), 1) != 0)
		mpz_tdiv_q(l->base_quantity, mpq_numref(exact), mpq_denref(exact));
	mpq_clear(exact);
	l->records = sb->b->records;
	snprintf(desc, sizeof desc, "%s on-demand, %s%s", sb->ent->sku,
		 sb->ent->region, tier_text);
	l->description = gb_strdup(desc);
	l->sku = gb_strdup(sb->ent->sku);
	l->model = gb_strdup("");
	l->region = gb_strdup(sb->ent->region);
	l->unit = "GPU-hour";
	if (!l->description || !l->sku || !l->model || !l->region)
		return GB_ENOMEM;
	return 0;
}

static void tier_label(char *buf, size_t size, const gb_price *price,
		       size_t t, const char *unit)
{
	char lo[64] = "0", hi[64];

	if (t > 0)
		gb_decimal_format(lo, sizeof lo, price->tiers[t - 1].up_to, 0,
				  GB_DECIMAL_MAX_FRACTION, GB_ROUND_HALF_EVEN);
	if (price->tiers[t].bounded) {
		gb_decimal_format(hi, sizeof hi, price->tiers[t].up_to, 0,
				  GB_DECIMAL_MAX_FRACTION, GB_ROUND_HALF_EVEN);
		snprintf(buf, size, ", %s tier %zu (%s to %s %ss)",
			 price->mode == GB_PRICE_VOLUME ? "volume" : "graduated",
			 t + 1, lo, hi, unit);
	} else {
		snprintf(buf, size, ", %s tier %zu (over %s %ss)",
			 price->mode == GB_PRICE_VOLUME ? "volume" : "graduated",
			 t + 1, lo, unit);
	}
}

/* One bucket becomes one line, or one line per graduated tier slice. */
static int bucket_lines(gb_rater *r, line_list *ll, const sorted_bucket *sb)
{
	const gb_price *price = sb->price;
	mpq_t q, slice, prev;
	char label[160];
	size_t t;
	int rc = 0;

	mpq_init(q);
	mpq_init(slice);
	mpq_init(prev);
	mpz_set_u128(mpq_numref(q), sb->b->quantity);
	mpz_set_ui(mpq_denref(q), 3600);
	mpq_canonicalize(q);
	if (price->mode == GB_PRICE_FLAT) {
		rc = gpu_line(r, ll, sb, q, price->flat, 0, "");
	} else if (price->mode == GB_PRICE_VOLUME) {
		for (t = 0; t + 1 < price->ntiers; t++)
			if (mpq_cmp(q, price->tiers[t].up_to) <= 0)
				break;
		tier_label(label, sizeof label, price, t, "GPU-hour");
		rc = gpu_line(r, ll, sb, q, price->tiers[t].price,
			      (unsigned)t + 1, label);
	} else {
		/* Graduated: tier t bills the slice (prev, up_to] of q. */
		for (t = 0; t < price->ntiers && rc == 0; t++) {
			if (mpq_cmp(q, prev) <= 0)
				break;
			if (price->tiers[t].bounded &&
			    mpq_cmp(q, price->tiers[t].up_to) > 0)
				mpq_sub(slice, price->tiers[t].up_to, prev);
			else
				mpq_sub(slice, q, prev);
			tier_label(label, sizeof label, price, t, "GPU-hour");
			rc = gpu_line(r, ll, sb, slice, price->tiers[t].price,
				      (unsigned)t + 1, label);
			if (price->tiers[t].bounded)
				mpq_set(prev, price->tiers[t].up_to);
		}
	}
	mpq_clear(q);
	mpq_clear(slice);
	mpq_clear(prev);
	return rc;
}

static int invoice_add(gb_invoice_set *set, size_t *cap, const cust_rec *c,
		       line_list *ll)
{
	gb_invoice *inv;
	size_t i;

	if (grow_array((void **)&set->invoices, cap, set->ninvoices + 1,
		       sizeof *set->invoices) != 0)
		return GB_ENOMEM;
	inv = &set->invoices[set->ninvoices];
	memset(inv, 0, sizeof *inv);
	mpz_init(inv->total);
	set->ninvoices++;
	inv->lines = ll->lines;
	inv->nlines = ll->n;
	ll->lines = NULL;
	ll->n = ll->cap = 0;
	inv->customer = gb_strndup(c->name, c->len);
	if (!inv->customer)
		return GB_ENOMEM;
	for (i = 0; i < inv->nlines; i++)
		mpz_add(inv->total, inv->total, inv->lines[i].amount);
	return 0;
}

static void line_list_free(line_list *ll)
{
	size_t i;

	for (i = 0; i < ll->n; i++)
		gb_invoice_line_clear(&ll->lines[i]);
	gb_free(ll->lines);
	ll->lines = NULL;
	ll->n = ll->cap = 0;
}

int gb_rater_finish(gb_rater *r, gb_invoice_set **out, gb_error *err)
{
	const gb_prices *p;
	gb_invoice_set *set;
	sorted_bucket *sorted = NULL;
	line_list ll = { NULL, 0, 0 };
	size_t i, cap = 0;
	int rc = 0;

	*out = NULL;
	if (!r || r->finished)
		return gb_error_set(err, GB_EINVAL, "gb_rater_finish: rater already finished");
	p = r->prices;
	r->finished = 1;
	set = gb_invoice_set_new(p->currency, p->minor_units, p->name, r->from,
				 r->to);
	if (!set)
		return gb_error_set(err, GB_ENOMEM, "out of memory");
	set->counts = r->counts;
	if (r->nbuckets) {
		sorted = gb_calloc(r->nbuckets, sizeof *sorted);
		if (!sorted) {
			rc = GB_ENOMEM;
			goto done;
		}
	}
	for (i = 0; i < r->nbuckets; i++) {
		sorted[i].b = &r->buckets[i];
		sorted[i].cust = &r->customers[r->buckets[i].key.customer];
		sorted[i].ent = &r->entries[r->buckets[i].key.entry];
		sorted[i].price = r->prices_by_id[r->buckets[i].key.price];
	}
	if (r->nbuckets)
		qsort(sorted, r->nbuckets, sizeof *sorted, sorted_bucket_cmp);
	for (i = 0; i < r->nbuckets && rc == 0; i++) {
		rc = bucket_lines(r, &ll, &sorted[i]);
		if (rc == 0 && (i + 1 == r->nbuckets ||
				sorted[i + 1].cust != sorted[i].cust))
			rc = invoice_add(set, &cap, sorted[i].cust, &ll);
	}
done:
	line_list_free(&ll);
	gb_free(sorted);
	if (rc) {
		gb_invoice_set_free(set);
		return gb_error_set(err, rc, "out of memory while pricing");
	}
	*out = set;
	return 0;
}
