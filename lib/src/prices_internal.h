/*
 * prices_internal.h - the in-memory pricing table, shared by the loader
 * (prices.c) and the rater.  Everything is validated at load time; the
 * rater trusts these invariants.
 */
#ifndef GPUBILL_PRICES_INTERNAL_H
#define GPUBILL_PRICES_INTERNAL_H

#include <gpubill/prices.h>
#include <gmp.h>
#include <stdint.h>

typedef enum gb_price_mode {
	GB_PRICE_FLAT = 0,
	GB_PRICE_GRADUATED = 1, /* each tier's slice at its own price */
	GB_PRICE_VOLUME = 2     /* all of the quantity at the reached tier */
} gb_price_mode;

typedef struct gb_tier {
	int bounded;  /* 0 only for the last tier ("up_to": null) */
	int bad;      /* collect mode: up_to could not be read */
	mpq_t up_to;  /* upper bound of the tier, inclusive; quantity units of
			 the price (GPU-hours, tokens); 0 when !bounded */
	mpq_t price;
} gb_tier;

/*
 * A price: a decimal string ("2.50") or a tier object.  Invariants: prices
 * are >= 0; tiers are non-empty, up_to strictly increasing, only the last
 * tier unbounded and the last tier is always unbounded.
 */
typedef struct gb_price {
	gb_price_mode mode;
	int bad;          /* collect mode: a problem inside; the value means
			     nothing */
	mpq_t flat;       /* FLAT only (canonicalized) */
	size_t ntiers;    /* 0 for FLAT */
	gb_tier *tiers;
} gb_price;

typedef struct gb_reserved_price {
	char *term;       /* "1y", "3y", ... as written in the table */
	gb_price price;
} gb_reserved_price;

typedef struct gb_gpu_rate {
	char *sku;             /* collect mode: NULL when it could not be read */
	char *region;          /* exact region or "*" (or NULL, as sku) */
	gb_price *on_demand;   /* NULL when absent */
	gb_price *spot;        /* NULL when absent */
	size_t nreserved;
	gb_reserved_price *reserved;
} gb_gpu_rate;

typedef struct gb_spot_point {
	char *sku;             /* collect mode: NULL when it could not be read */
	char *region;          /* exact region or "*" (or NULL, as sku) */
	int64_t from;          /* Unix seconds */
	gb_price price;
	size_t index;          /* its place in the file's spot_prices */
	int bad_from;          /* collect mode: from could not be read */
} gb_spot_point;

typedef struct gb_token_rate {
	char *model;           /* collect mode: NULL when it could not be read */
	char *region;          /* exact region or "*" ("*" when not given) */
	gb_price *input;       /* NULL when absent */
	gb_price *cached_input;
	gb_price *output;
} gb_token_rate;

typedef struct gb_version {
	int64_t effective_from;          /* on a whole UTC hour */
	size_t index;                    /* its place in the file's versions */
	int bad_from;                    /* collect mode: effective_from could
					    not be read */
	int bad_gpu, bad_tokens;         /* collect mode: a problem in "gpu"
					    or "tokens" made a rate or a spot
					    price unreadable (or all of them) */
	int has_gpu;
	int64_t increment_seconds;       /* >= 1, default 1 */
	int64_t minimum_seconds;         /* >= 0, default 0 */
	int64_t spot_interruption_free_seconds; /* >= 0, default 0 */
	size_t ngpu_rates;
	gb_gpu_rate *gpu_rates;          /* (sku, region) unique */
	size_t nspot_points;
	gb_spot_point *spot_points;      /* sorted by sku, region, from;
					    (sku, region, from) unique */
	int has_tokens;
	mpq_t batch_discount;            /* 0 <= d <= 1, default 0 */
	size_t ntoken_rates;
	gb_token_rate *token_rates;      /* (model, region) unique */
} gb_version;

struct gb_prices {
	char *source;          /* file name given to gb_prices_load */
	char *name;
	char currency[4];      /* ISO 4217, three upper-case letters */
	unsigned minor_units;  /* 0..6, default 2 */
	gb_rounding rounding;  /* default half_even */
	size_t nversions;      /* >= 1 */
	gb_version *versions;  /* sorted by effective_from, strictly increasing */
};

struct gb_json_ctx;

/*
 * Load a table with a prepared JSON context (json_load.h): c->err and
 * c->source set, the path empty.  Normal mode: as gb_prices_load.  Collect
 * mode: every problem goes to c->collect and the table is read as far as
 * it can be; returns 0 with *out set (check c->nerrors), GB_ESYNTAX or
 * GB_ESCHEMA (reported) with *out NULL when the file is not a JSON object,
 * or GB_ENOMEM / GB_EINVAL (in c->err).  A table read with problems is
 * only fit for gpubill validate: the invariants above do not hold (NULL
 * names, bad prices, versions given twice).
 */
int gb_prices_load_ctx(struct gb_json_ctx *c, const char *data, size_t len,
		       gb_prices **out);

/* Index of the version in effect at t, or -1 when t is before the first. */
long gb_prices_version_at(const gb_prices *p, int64_t t);

/* Exact-region rate for sku, else the "*" rate, else NULL. */
const gb_gpu_rate *gb_version_gpu_rate(const gb_version *v, const char *sku,
				       const char *region);

/* Exact-region rate for model, else the "*" rate, else NULL. */
const gb_token_rate *gb_version_token_rate(const gb_version *v,
					   const char *model,
					   const char *region);

/* Reserved price for term in rate r, or NULL. */
const gb_price *gb_gpu_rate_reserved(const gb_gpu_rate *r, const char *term);

#endif
