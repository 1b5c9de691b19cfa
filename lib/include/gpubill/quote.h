/*
 * gpubill/quote.h - what one workload costs under one or more pricing
 * tables, every offer ranked cheapest first (`gpubill quote`).
 *
 * A workload is either GPU time (sku, region, GPUs, hours) or inference
 * tokens (model, region, input/cached/output tokens, batch or not).  Each
 * table is priced with the version in effect at one instant; every offer
 * (on-demand, each reserved term, spot; or tokens) is computed exactly and
 * rounded once with its table's rounding mode and minor units.  Offers a
 * table cannot make are kept, marked unavailable, with the reason.
 */
#ifndef GPUBILL_QUOTE_H
#define GPUBILL_QUOTE_H

#include <stddef.h>
#include <stdint.h>
#include <gmp.h>
#include "error.h"
#include "invoice.h"
#include "prices.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Largest --gpus and token counts accepted, as in usage records. */
#define GB_QUOTE_MAX_GPUS 100000u
#define GB_QUOTE_MAX_TOKENS UINT64_C(1000000000000000000)

#define GB_QUOTE_REQUEST_VERSION 1

/*
 * The workload.  Exactly one of sku (GPU time) and model (tokens) is set.
 * GPU: gpus 1..GB_QUOTE_MAX_GPUS and hours > 0 (exact; a fraction of a
 * second is counted as a whole second).  Tokens: each count at most
 * GB_QUOTE_MAX_TOKENS and at least one above 0.  region NULL means only
 * the tables' "*" rates (and "*" spot series) apply.
 */
typedef struct gb_quote_request {
	unsigned version;          /* GB_QUOTE_REQUEST_VERSION */
	int64_t at;                /* prices in effect at this instant, Unix s */
	const char *region;        /* NULL: "*" rates only */
	const char *sku;           /* GPU workload */
	uint32_t gpus;
	mpq_srcptr hours;
	const char *model;         /* token workload */
	uint64_t input_tokens;     /* uncached input */
	uint64_t cached_tokens;
	uint64_t output_tokens;
	int batch;                 /* submitted through the batch interface */
} gb_quote_request;

#define GB_QUOTE_REQUEST_INIT \
	{ GB_QUOTE_REQUEST_VERSION, 0, NULL, NULL, 0, NULL, NULL, 0, 0, 0, 0 }

typedef enum gb_offer_kind {
	GB_OFFER_ON_DEMAND = 0,
	GB_OFFER_RESERVED = 1,
	GB_OFFER_SPOT = 2,
	GB_OFFER_TOKENS = 3,
	GB_OFFER_NONE = 4          /* unavailable: the table has no rate at all */
} gb_offer_kind;

/* "on_demand", "reserved", "spot", "tokens", "none". */
GB_EXTERN const char *gb_offer_kind_name(gb_offer_kind kind);

/*
 * One offer of one table.  Amounts are in minor units: amount in the
 * table's (minor_units), saving in the quote's (gb_quote_minor_units, the
 * largest of the tables').  For an unavailable offer only table, label,
 * kind, name, term and note are meaningful.
 */
typedef struct gb_quote_offer {
	size_t table;              /* index in the tables given, 0-based */
	const char *label;         /* the table's name; with its file name when
				      two tables share a name */
	gb_offer_kind kind;
	const char *name;          /* "on-demand", "reserved 1y", "spot",
				      "tokens", "batch tokens", "all offers" */
	const char *term;          /* reserved term ("1y"); "" otherwise */
	int available;
	size_t rank;               /* 1 = cheapest; 0 when unavailable */
	const char *unit;          /* "GPU-hour" or "1M tokens" */
	mpq_t quantity;            /* billed GPU-hours, or millions of tokens */
	mpq_t unit_price;          /* exact amount / quantity, before rounding */
	int average;               /* unit_price averages several prices */
	unsigned minor_units;      /* of amount: the table's */
	mpz_t amount;              /* rounded once */
	mpz_t saving;              /* dearest offer's amount - this one */
	mpq_t saving_fraction;     /* saving / dearest amount (0 when that is 0) */
	int spot_series;           /* spot: priced from the spot_prices series */
	int64_t spot_from;         /* ... whose point starts here */
	const char *note;          /* how it was priced, or why unavailable */
} gb_quote_offer;

typedef struct gb_quote gb_quote;

/*
 * Price req under each of tables[0..ntables).  Every table must have the
 * same currency (GB_ESCHEMA otherwise: offers in different currencies
 * cannot be ranked); a bad request is GB_EINVAL.  The tables must outlive
 * the quote.  On failure *out is NULL and err says why.
 */
GB_EXTERN int gb_quote_new(gb_quote **out, const gb_prices *const *tables,
			   size_t ntables, const gb_quote_request *req,
			   gb_error *err);
GB_EXTERN void gb_quote_free(gb_quote *quote);

/*
 * Offers in output order: the available ones by rank (cheapest first; ties
 * by the tables' order, then on-demand, reserved terms in the table's
 * order, spot), then the unavailable ones in the tables' order.
 */
GB_EXTERN size_t gb_quote_offer_count(const gb_quote *quote);
GB_EXTERN const gb_quote_offer *gb_quote_offer_get(const gb_quote *quote,
						   size_t i);
/* How many offers are available (they come first). */
GB_EXTERN size_t gb_quote_available_count(const gb_quote *quote);
GB_EXTERN const char *gb_quote_currency(const gb_quote *quote);
GB_EXTERN unsigned gb_quote_minor_units(const gb_quote *quote);
/*
 * The version table i was priced with: 0 with its effective_from, or -1
 * when no version of it is in effect at the quote's instant.
 */
GB_EXTERN int gb_quote_table_version(const gb_quote *quote, size_t i,
				     int64_t *effective_from);

/*
 * Writers: text for people, CSV (one row per offer) and JSON
 * ("gpubill-quote/1").  Each returns 0, GB_EIO when fn failed, or
 * GB_ENOMEM / GB_ERANGE.
 */
GB_EXTERN int gb_quote_write_text(const gb_quote *quote, gb_write_fn fn,
				  void *payload, gb_error *err);
GB_EXTERN int gb_quote_write_csv(const gb_quote *quote, gb_write_fn fn,
				 void *payload, gb_error *err);
GB_EXTERN int gb_quote_write_json(const gb_quote *quote, gb_write_fn fn,
				  void *payload, gb_error *err);

#ifdef __cplusplus
}
#endif

#endif
