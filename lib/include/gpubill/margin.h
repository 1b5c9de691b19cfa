/*
 * gpubill/margin.h - margin reports: the revenue of a finished invoice set
 * against the provider's cost basis (gpubill/costs.h), grouped by one or
 * two keys, with the GPU-hours and the idle reserved capacity behind them.
 *
 * Every value is exact until it is shown; each shown column is rounded so
 * that the rows add up to the total exactly (see gpubill(1), "gpubill
 * margin").
 */
#ifndef GPUBILL_MARGIN_H
#define GPUBILL_MARGIN_H

#include <stddef.h>
#include <gmp.h>
#include "error.h"
#include "money.h"
#include "invoice.h"
#include "costs.h"

#ifdef __cplusplus
extern "C" {
#endif

/* What rows are grouped by. */
typedef enum gb_margin_key {
	GB_MARGIN_BY_CUSTOMER = 0,
	GB_MARGIN_BY_SKU,
	GB_MARGIN_BY_REGION,
	GB_MARGIN_BY_MARKET,   /* reserved, on_demand, spot, tokens */
	GB_MARGIN_BY_MODEL
} gb_margin_key;

/* "customer", "sku", ...; "unknown" for a value out of range. */
GB_EXTERN const char *gb_margin_key_name(gb_margin_key key);
/* The key named name; returns 0, or GB_EINVAL for an unknown name. */
GB_EXTERN int gb_margin_key_parse(gb_margin_key *out, const char *name);

/* At most this many grouping keys. */
#define GB_MARGIN_MAX_KEYS 2
/* GPU-hours are shown with this many decimals at most. */
#define GB_MARGIN_HOURS_DIGITS 6

#define GB_MARGIN_OPTIONS_VERSION 1

typedef struct gb_margin_options {
	unsigned version;           /* GB_MARGIN_OPTIONS_VERSION */
	size_t nby;                 /* 1 or 2 */
	gb_margin_key by[GB_MARGIN_MAX_KEYS];  /* distinct keys */
	gb_rounding rounding;       /* the pricing table's mode, for money */
} gb_margin_options;

#define GB_MARGIN_OPTIONS_INIT \
	{ GB_MARGIN_OPTIONS_VERSION, 1, \
	  { GB_MARGIN_BY_CUSTOMER, GB_MARGIN_BY_MARKET }, GB_ROUND_HALF_EVEN }

/*
 * One row of the report, or its total (owned by the report, keys too).
 * Values are as shown: money in minor units, GPU-hours as multiples of
 * 10^-GB_MARGIN_HOURS_DIGITS.  Each column of the rows adds up to the
 * total's exactly.
 */
typedef struct gb_margin_row {
	const char *key[GB_MARGIN_MAX_KEYS]; /* NULL: does not apply ("-") */
	mpz_t revenue;            /* invoiced, after contract adjustments */
	mpz_t cost;               /* GPU-hours or tokens x cost, all of it */
	mpz_t margin;             /* revenue - cost */
	int has_margin_pct;       /* revenue is not zero */
	mpq_t margin_pct;         /* margin / revenue x 100, exact */
	mpq_t gpu_hours;          /* reservations: every reserved hour */
	mpq_t idle_gpu_hours;     /* reserved but not used */
	mpz_t idle_cost;          /* cost of the idle hours (part of cost) */
} gb_margin_row;

typedef struct gb_margin gb_margin;

/*
 * Compute the margin report of set (invoices as gb_rater_finish made
 * them) against costs.  Fails with GB_ESCHEMA when the currencies differ
 * or a line's sku and region, or model, has no cost (err names it), and
 * with GB_EINVAL for bad options.
 */
GB_EXTERN int gb_margin_compute(gb_margin **out, const gb_invoice_set *set,
				const gb_costs *costs,
				const gb_margin_options *opts, gb_error *err);

GB_EXTERN void gb_margin_free(gb_margin *margin);

/* The grouping keys, as given in the options. */
GB_EXTERN size_t gb_margin_key_count(const gb_margin *margin);
GB_EXTERN gb_margin_key gb_margin_key_get(const gb_margin *margin, size_t i);

/* Rows ordered by their keys (bytewise; "does not apply" last). */
GB_EXTERN size_t gb_margin_row_count(const gb_margin *margin);
GB_EXTERN const gb_margin_row *gb_margin_row_get(const gb_margin *margin,
						 size_t i);
/* The totals: every column is the sum of the rows' column. */
GB_EXTERN const gb_margin_row *gb_margin_total(const gb_margin *margin);

/*
 * Writers.  Each returns 0, or GB_EIO when fn failed (err says so), or
 * GB_ENOMEM.  Output is byte-identical for equal reports.
 */
GB_EXTERN int gb_margin_write_text(const gb_margin *margin, gb_write_fn fn,
				   void *payload, gb_error *err);
GB_EXTERN int gb_margin_write_csv(const gb_margin *margin, gb_write_fn fn,
				  void *payload, gb_error *err);
GB_EXTERN int gb_margin_write_json(const gb_margin *margin, gb_write_fn fn,
				   void *payload, gb_error *err);

#ifdef __cplusplus
}
#endif

#endif
