/*
 * gpubill/diff.h - the price-table regression check.
 *
 * The same usage is rated under two pricing tables (two raters, one pass),
 * and the two finished invoice sets are compared: per customer (old total,
 * new total, delta, delta %), per line (which lines changed, appeared or
 * went away), against an optional threshold.  The rate cards of the two
 * tables that are in effect during the period are compared as well: which
 * prices and settings moved, were added or removed, and from when.
 *
 * Matching lines.  Lines are grouped by their key without the unit price:
 * (kind, sku, model, region, reference, tier, batch).  Inside a group,
 * old and new lines are paired in this order of preference:
 *   1. equal unit price and equal quantity (unchanged, unless rounding
 *      changed the amount);
 *   2. equal quantity: the same usage at another price ("went from X to Y");
 *   3. equal unit price: the same price for another quantity;
 *   4. when the same number of lines is left on both sides, the rest in
 *      invoice order (by unit price).
 * Each step takes candidates in invoice order.  Lines left over are
 * "added" (new table only) or "removed" (old table only).  Contract lines
 * (discount, minimum_spend, credit) are paired by their position within
 * their kind (and credit id): both runs use the same contracts, so they
 * come in the same order.
 *
 * Rate changes.  The period [from, to) is cut at every effective_from of
 * either table inside it; for each piece the version in effect in the old
 * table is compared with the version in effect in the new one.  Entries
 * are compared as written (by sku and region, "*" included; by model and
 * region; spot series entries by sku, region and from, for the entries that
 * can apply within the piece).  A difference that holds over consecutive
 * pieces is reported once, with the span it holds for.
 */
#ifndef GPUBILL_DIFF_H
#define GPUBILL_DIFF_H

#include <stddef.h>
#include <stdint.h>
#include <gmp.h>
#include "error.h"
#include "prices.h"
#include "invoice.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum gb_diff_change {
	GB_DIFF_UNCHANGED = 0,
	GB_DIFF_CHANGED,
	GB_DIFF_ADDED,      /* only under the new table */
	GB_DIFF_REMOVED     /* only under the old table */
} gb_diff_change;

/* "unchanged", "changed", "added", "removed". */
GB_EXTERN const char *gb_diff_change_name(gb_diff_change change);

/*
 * The threshold (--max-change).  A change exceeds it when its size is
 * strictly greater: exactly at the threshold passes.
 *   percent: |new - old| x 100 > value x |old|, compared exactly; when old
 *            is 0, any new total that is not 0 exceeds it;
 *   amount:  |new - old| > value, in minor units (value is given in major
 *            units with at most minor_units decimals).
 * It applies to every customer's total and to the grand total.
 */
typedef enum gb_diff_limit_kind {
	GB_DIFF_LIMIT_NONE = 0,
	GB_DIFF_LIMIT_PERCENT,
	GB_DIFF_LIMIT_AMOUNT
} gb_diff_limit_kind;

/*
 * Check a threshold text: "5%", "2.5%" (a percentage) or "100.00" (an
 * amount in major units, at most minor_units decimals).  Returns 0 and
 * sets *kind, or GB_EINVAL with err saying what is wrong.  Pass
 * GB_DECIMAL_MAX_FRACTION as minor_units to check the syntax only.
 */
GB_EXTERN int gb_diff_limit_check(const char *text, unsigned minor_units,
				  gb_diff_limit_kind *kind, gb_error *err);

#define GB_DIFF_OPTIONS_VERSION 1

typedef struct gb_diff_options {
	unsigned version;             /* GB_DIFF_OPTIONS_VERSION */
	const char *max_change;       /* threshold text; NULL = none */
	/* Row outcomes that differ between the two runs, counted by whoever
	 * fed the rows (each row's two outcomes compared): shown in the
	 * records summary. */
	uint64_t rejected_new_only;   /* rejected under the new table only */
	uint64_t rejected_old_only;   /* rejected under the old table only */
} gb_diff_options;

#define GB_DIFF_OPTIONS_INIT { GB_DIFF_OPTIONS_VERSION, NULL, 0, 0 }

/* One line that differs.  The lines belong to the invoice sets. */
typedef struct gb_diff_line {
	gb_diff_change change;            /* changed, added or removed */
	const gb_invoice_line *old_line;  /* NULL when added */
	const gb_invoice_line *new_line;  /* NULL when removed */
	mpz_t delta;                      /* new amount - old amount, minor units */
} gb_diff_line;

typedef struct gb_diff_customer {
	const char *customer;
	int in_old, in_new;       /* has an invoice under each table */
	mpz_t old_total;          /* minor units; 0 without an invoice */
	mpz_t new_total;
	mpz_t delta;              /* new - old */
	int exceeded;             /* past the threshold */
	size_t nlines;
	const gb_diff_line *lines;  /* only lines that differ */
} gb_diff_customer;

/* What a rate change is about. */
typedef enum gb_rate_item {
	GB_RATE_SETTING = 0,  /* field: rounding, increment_seconds,
				 minimum_seconds, spot_interruption_free_seconds,
				 batch_discount */
	GB_RATE_GPU,          /* sku, region; field on_demand, spot or
				 reserved (with term) */
	GB_RATE_SPOT_SERIES,  /* a spot_prices entry: sku, region, spot_from */
	GB_RATE_TOKENS        /* model, region; field input, cached_input or
				 output */
} gb_rate_item;

/* "setting", "gpu", "spot_series", "tokens". */
GB_EXTERN const char *gb_rate_item_name(gb_rate_item item);

typedef struct gb_rate_change {
	gb_diff_change change;   /* changed, added or removed */
	int64_t from, to;        /* the span of the period it holds for */
	gb_rate_item item;
	const char *sku;         /* "" when not about a GPU price */
	const char *model;       /* "" when not about a token price */
	const char *region;      /* as written ("*" included); "" for settings */
	const char *field;
	const char *term;        /* reserved prices; "" otherwise */
	int64_t spot_from;       /* GB_RATE_SPOT_SERIES; 0 otherwise */
	unsigned tier;           /* 1-based, when both prices have the same
				    tiers but another price in this one; 0 */
	const char *old_text;    /* as it reads; "" when added */
	const char *new_text;    /* "" when removed */
	int has_delta;           /* both sides are plain numbers */
	mpq_t old_value;         /* exact, when has_delta */
	mpq_t new_value;
	mpq_t delta;             /* new - old */
} gb_rate_change;

typedef struct gb_diff gb_diff;

/*
 * Compare two invoice sets of the same usage and period.  old_prices and
 * new_prices are the tables they were rated with; when both are given,
 * their rate changes during the period are listed too.  Both sets must
 * have the same currency and minor units (else GB_ESCHEMA) and period
 * (else GB_EINVAL); a bad opts->max_change is GB_EINVAL.  The diff refers
 * to the sets' lines: they must outlive it.
 */
GB_EXTERN int gb_diff_new(gb_diff **out, const gb_invoice_set *old_set,
			  const gb_invoice_set *new_set,
			  const gb_prices *old_prices,
			  const gb_prices *new_prices,
			  const gb_diff_options *opts, gb_error *err);
GB_EXTERN void gb_diff_free(gb_diff *diff);

/* Every customer with an invoice under either table, by id (bytewise). */
GB_EXTERN size_t gb_diff_customer_count(const gb_diff *diff);
GB_EXTERN const gb_diff_customer *gb_diff_customer_get(const gb_diff *diff,
						       size_t i);

/* Grand totals (sums of the customers' totals), minor units. */
GB_EXTERN void gb_diff_totals(const gb_diff *diff, mpz_t old_total,
			      mpz_t new_total);
GB_EXTERN gb_diff_limit_kind gb_diff_limit(const gb_diff *diff);
/* The grand total is past the threshold. */
GB_EXTERN int gb_diff_total_exceeded(const gb_diff *diff);
/* Customers past the threshold. */
GB_EXTERN size_t gb_diff_customers_exceeded(const gb_diff *diff);

GB_EXTERN size_t gb_diff_rate_change_count(const gb_diff *diff);
GB_EXTERN const gb_rate_change *gb_diff_rate_change_get(const gb_diff *diff,
							size_t i);

/*
 * delta / old x 100, rounded half-even to 2 decimals, with a sign:
 * "+4.00", "-0.25", "0.00"; "new" when old is 0 and delta is not.
 * Returns the length needed, like snprintf.
 */
GB_EXTERN size_t gb_diff_percent_text(char *buf, size_t size, const mpq_t old,
				      const mpq_t delta);

/*
 * Writers: "text" for people, "markdown" (GitHub-flavoured pipe tables,
 * for a pull-request comment) and "gpubill-diff/1" JSON.  Each returns 0,
 * GB_EIO when fn failed, or GB_ENOMEM.
 */
GB_EXTERN int gb_diff_write_text(const gb_diff *diff, gb_write_fn fn,
				 void *payload, gb_error *err);
GB_EXTERN int gb_diff_write_markdown(const gb_diff *diff, gb_write_fn fn,
				     void *payload, gb_error *err);
GB_EXTERN int gb_diff_write_json(const gb_diff *diff, gb_write_fn fn,
				 void *payload, gb_error *err);

#ifdef __cplusplus
}
#endif

#endif
