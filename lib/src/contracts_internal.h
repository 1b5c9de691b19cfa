/*
 * contracts_internal.h - the in-memory contracts, shared by the loader
 * (contracts.c) and the rater.  Validated at load time.
 */
#ifndef GPUBILL_CONTRACTS_INTERNAL_H
#define GPUBILL_CONTRACTS_INTERNAL_H

#include <gpubill/contracts.h>
#include <gmp.h>
#include <stdint.h>

typedef enum gb_discount_kind {
	GB_DISCOUNT_GPU_ON_DEMAND = 0,
	GB_DISCOUNT_GPU_SPOT = 1,
	GB_DISCOUNT_TOKENS = 2,
	GB_DISCOUNT__COUNT
} gb_discount_kind;

typedef struct gb_reservation {
	char *id;          /* unique across the file */
	char *sku;
	char *region;      /* one exact region, never "*" */
	uint32_t gpus;     /* 1..100000 */
	char *term;        /* "1y", "3y": a key of the table's "reserved" */
	int64_t start;     /* whole UTC hours, start < end */
	int64_t end;
	int has_rate;      /* the contract's own "rate" (flat, >= 0) */
	mpq_t rate;        /* per GPU-hour; 0 when !has_rate */
} gb_reservation;

typedef struct gb_credit {
	char *id;          /* unique within the customer */
	mpq_t amount;      /* > 0 */
} gb_credit;

typedef struct gb_contract {
	char *customer;    /* unique across the file */
	char *name;        /* display name; "" when absent */
	size_t nreservations;
	gb_reservation *reservations;  /* file order */
	int has_discount[GB_DISCOUNT__COUNT];
	mpq_t discount[GB_DISCOUNT__COUNT];  /* fractions, 0 <= d <= 1 */
	int has_minimum;
	mpq_t minimum_spend;               /* >= 0 */
	size_t ncredits;
	gb_credit *credits;                /* file order = application order */
} gb_contract;

struct gb_contracts {
	char *source;
	size_t ncontracts;
	gb_contract *contracts;  /* sorted by customer (strcmp) */
};

struct gb_json_ctx;

/*
 * Load contracts with a prepared JSON context (json_load.h), checked
 * against prices, or against no table when prices is NULL.  Normal mode:
 * as gb_contracts_load.  Collect mode: every problem goes to c->collect;
 * returns 0 with *out set (check c->nerrors), GB_ESYNTAX or GB_ESCHEMA
 * (reported) when the file is not a JSON object, or GB_ENOMEM /
 * GB_EINVAL.  Contracts read with problems are only fit for gpubill
 * validate (NULL ids, unsorted customers).
 */
int gb_contracts_load_ctx(struct gb_json_ctx *c, const char *data, size_t len,
			  const gb_prices *prices, gb_contracts **out);

/* The contract of customer (len bytes, not NUL-terminated), or NULL. */
const gb_contract *gb_contracts_find(const gb_contracts *c,
				     const char *customer, size_t len);

#endif
