/*
 * rater_internal.h - state shared by the rater's ingest path (rater.c)
 * and its pricing stage (rater_finish.c).
 */
#ifndef GPUBILL_RATER_INTERNAL_H
#define GPUBILL_RATER_INTERNAL_H

#include "contracts_internal.h"
#include "dedup.h"
#include "internal.h"
#include "invoice_internal.h"
#include "prices_internal.h"
#include "record.h"

#include <gpubill/rater.h>

/* Bytes of a customer id kept in its record, so that looking up a short
 * id never touches the separately allocated name. */
#define CUST_HEAD 20

typedef struct cust_rec {
	uint64_t hash;
	uint32_t len;
	char head[CUST_HEAD];        /* the first bytes of name, zero-padded */
	char *name;
	const gb_contract *contract; /* NULL without one */
	uint8_t selected;            /* billed in this run (filters, shard) */
	uint8_t billed;              /* some record of it was billed */
} cust_rec;

/* Price slots of an entry, per version. */
enum { SLOT_ON_DEMAND = 0, SLOT_SPOT = 1, SLOT_INPUT = 0, SLOT_CACHED = 1,
       SLOT_OUTPUT = 2, NSLOTS = 3 };

typedef enum entry_type { ENTRY_GPU = 0, ENTRY_TOKENS = 1 } entry_type;

/* A constant spot price from `from` to the next segment (or version end). */
typedef struct spot_seg {
	int64_t from;
	int32_t price;               /* price id, -1 = no spot price */
} spot_seg;

/*
 * A resolved (sku, region) for GPU usage or (model, region) for tokens:
 * the price ids that apply in each version, found once, then reused.
 */
typedef struct entry {
	entry_type type;
	char *name;                  /* sku or model */
	char *region;                /* "" for tokens without a region */
	size_t name_len;
	size_t region_len;
	uint64_t hash;
	int32_t *price;              /* [version * NSLOTS + slot], -1 = none */
	spot_seg **spot;             /* GPU: segments of each version */
	size_t *nspot;
} entry;

/*
 * Open-addressing index (linear probing): a slot holds the item's tag (32
 * bits of its hash, which also pick its first slot) in the high half and
 * its index + 1 in the low half; 0 = empty.  A probe passes other items
 * by their tags without loading them, and growing never reads an item.
 */
typedef struct index_map {
	uint64_t *slots;
	size_t mask;
	size_t count;
} index_map;

/*
 * A bucket is the integer quantity of one (customer, entry, price, kind);
 * aux is the batch version + 1 for batch token usage (its discount depends
 * on the version), else 0.
 */
typedef struct bucket_key {
	uint32_t customer;
	uint32_t entry;
	int32_t price;               /* -1 for zero-charge interrupted spot */
	uint16_t kind;
	uint16_t aux;
} bucket_key;

typedef struct bucket {
	bucket_key key;
	gb_u128 quantity;            /* GPU-seconds or tokens */
	uint64_t records;
	uint64_t last_row;
} bucket;

/*
 * An addition to a bucket, waiting in a small ring while the bucket's
 * index slot and then the bucket itself load into the cache (rater.c,
 * bucket_add_h): with a million customers they are almost never there.
 */
#define PEND_SIZE 16u                /* a power of two */
#define PEND_HALF (PEND_SIZE / 2)

typedef struct pending_add {
	bucket_key key;
	uint64_t hash;
	uint64_t row;                /* row_seq of the row that made it */
	gb_u128 qty;
} pending_add;

/* On-demand GPU-seconds of a reserving customer in one UTC hour. */
typedef struct hour_key {
	uint32_t customer;
	uint32_t entry;
	int64_t hour;                /* Unix time of the hour's start */
} hour_key;

typedef struct hour_bucket {
	hour_key key;
	gb_u128 seconds;
} hour_bucket;

/*
 * gb_rater_selects' answers, remembered by the customer id's exact bytes
 * in a small direct-mapped table (rater.c): a front end asks about every
 * row, and most rows are of a customer asked about before.
 */
#define SEL_SLOTS 4096u              /* a power of two */
#define SEL_NAME 26u                 /* longer ids are looked up each time */

typedef struct sel_slot {
	uint32_t cust;               /* the customer's index + 1; 0: empty */
	uint8_t len;
	uint8_t selected;
	char name[SEL_NAME];
} sel_slot;

typedef struct price_ref {
	const gb_price *price;
	uint32_t id;
} price_ref;

struct gb_rater {
	const gb_prices *prices;
	const gb_contracts *contracts;
	int64_t from;
	int64_t to;
	char **filter;
	size_t *filter_len;
	size_t nfilter;
	uint32_t shard_index;
	uint32_t shard_count;
	int selecting;
	int finished;
	sel_slot *sel_memo;          /* SEL_SLOTS answers when selecting */
	const sel_slot *sel_last;    /* the last answer, or NULL */

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
	size_t nprice_refs, price_refs_cap;
	const gb_price **prices_by_id;
	uint32_t *price_version;         /* version of each id's first use */
	size_t nprice_ids, prices_by_id_cap, price_version_cap;

	bucket *buckets;
	size_t nbuckets, buckets_cap;
	index_map bucket_map;
	pending_add pend[PEND_SIZE];     /* oldest at pend_head */
	uint32_t pend_head, npend;
	int broken;                      /* a waiting addition found no memory */

	hour_bucket *hours;
	size_t nhours, hours_cap;
	index_map hour_map;

	struct gb_explain *explain;      /* traces chosen rows; NULL = none */
};

int gb_grow_array(void **arr, size_t *cap, size_t need, size_t size);
/* *arr reallocated to n elements of size bytes; -1 (and *arr as it was)
 * on no memory or a size past SIZE_MAX.  For arrays that grow together
 * under one capacity. */
int gb_resize_array(void **arr, size_t n, size_t size);
long gb_rater_customer_intern(gb_rater *r, const char *name, size_t len);
/* The hash customers are interned under. */
uint64_t gb_rater_customer_hash(const char *name, size_t len);
long gb_rater_entry_find(const gb_rater *r, entry_type type, const char *name,
			 size_t name_len, const char *region, size_t region_len);
bucket *gb_rater_bucket(gb_rater *r, const bucket_key *k);
/* Make the waiting additions; before anything reads the buckets. */
int gb_rater_flush(gb_rater *r);
/* Index of the bucket with key k, or -1. */
long gb_rater_bucket_find(const gb_rater *r, const bucket_key *k);
const hour_bucket *gb_rater_hour_find(const gb_rater *r, uint32_t customer,
				      uint32_t ent, int64_t hour);
int64_t gb_rater_version_end(const gb_prices *p, size_t v);

#endif
