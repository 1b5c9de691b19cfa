/*
 * gpubill/rater.h - rate usage rows against a pricing table for a period.
 *
 * Feed rows one by one (from the CSV reader or any other front end); every
 * row ends in exactly one state.  Quantities accumulate as integers per
 * bucket; prices meet quantities once, in gb_rater_finish.
 */
#ifndef GPUBILL_RATER_H
#define GPUBILL_RATER_H

#include <stddef.h>
#include <stdint.h>
#include "error.h"
#include "prices.h"
#include "contracts.h"
#include "usage.h"
#include "invoice.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum gb_state {
	GB_STATE_BILLED = 0,
	GB_STATE_REJECTED,
	GB_STATE_DUPLICATE,      /* same customer, id and content as an earlier row */
	GB_STATE_OUTSIDE_PERIOD, /* no billable second falls in the period */
	GB_STATE_SKIPPED         /* another customer's row (filter or shard) */
} gb_state;

/* Reject reasons; gb_reason_code() gives the stable text code. */
typedef enum gb_reason {
	GB_REASON_NONE = 0,
	GB_REASON_MISSING_FIELD,      /* missing_field */
	GB_REASON_BAD_TIMESTAMP,      /* bad_timestamp */
	GB_REASON_BAD_NUMBER,         /* bad_number */
	GB_REASON_END_NOT_AFTER_START,/* end_not_after_start */
	GB_REASON_UNKNOWN_TYPE,       /* unknown_type */
	GB_REASON_NO_RATE,            /* no_rate */
	GB_REASON_DUPLICATE_CONFLICT, /* duplicate_conflict */
	GB_REASON_FIELD_TOO_LONG,     /* field_too_long */
	GB_REASON_BAD_VALUE,          /* bad_value: not one of the allowed words */
	GB_REASON_BAD_TEXT,           /* bad_text: not UTF-8, NUL or control bytes */
	GB_REASON_FIELD_COUNT,        /* field_count: row/header field counts differ */
	GB_REASON_UNSUPPORTED         /* unsupported: no longer produced (kept for
					 stable numbering) */
} gb_reason;

GB_EXTERN const char *gb_reason_code(gb_reason reason);
GB_EXTERN const char *gb_state_name(gb_state state);

#define GB_OUTCOME_MESSAGE_MAX 256

typedef struct gb_outcome {
	gb_state state;
	gb_reason reason;                     /* GB_REASON_NONE unless rejected */
	char message[GB_OUTCOME_MESSAGE_MAX]; /* why, for the rejects file */
} gb_outcome;

#define GB_RATER_OPTIONS_VERSION 1

typedef struct gb_rater_options {
	unsigned version;                /* GB_RATER_OPTIONS_VERSION */
	int64_t period_from;             /* billing period [from, to), Unix s */
	int64_t period_to;
	const char *const *customers;    /* bill only these; NULL = everyone */
	size_t ncustomers;
	uint32_t shard_index;            /* K of --shard K/N (1-based) */
	uint32_t shard_count;            /* N; 0 = no sharding */
	const gb_contracts *contracts;   /* reservations, discounts...; NULL = none */
} gb_rater_options;

#define GB_RATER_OPTIONS_INIT { GB_RATER_OPTIONS_VERSION, 0, 0, NULL, 0, 0, 0, NULL }

typedef struct gb_rater gb_rater;

/* prices (and opts->contracts) must outlive the rater. */
GB_EXTERN int gb_rater_new(gb_rater **out, const gb_prices *prices,
			   const gb_rater_options *opts, gb_error *err);
GB_EXTERN void gb_rater_free(gb_rater *rater);

/*
 * A hint: about `rows` more rows are coming (for example a file's size
 * over the bytes per row of its first block).  Sizes the run-wide id set
 * for them now, so it is not rehashed as it fills; an estimate off by a
 * few percent costs nothing, and rows beyond it are still taken, but an
 * overestimate costs memory (the set's slots are touched at random).  Give
 * the rows of the whole input: a sharded rater keeps room for its share
 * (1/n and an eighth more), and one limited to named customers ignores
 * the hint.  0, or
 * GB_ENOMEM (the rater is unchanged and can go on without the hint).
 */
GB_EXTERN int gb_rater_reserve(gb_rater *rater, uint64_t rows, gb_error *err);

/*
 * Rate one row.  outcome (required) receives its state and, when rejected,
 * the reason.  Returns 0, or GB_ENOMEM (the row is then not counted), or
 * GB_EINVAL for a GB_ROW_FILTERED row to a rater that filters nothing.
 */
GB_EXTERN int gb_rater_add_row(gb_rater *rater, const gb_row *row,
			       gb_outcome *outcome);

GB_EXTERN void gb_rater_counts(const gb_rater *rater, gb_counts *out);

/*
 * Whether the rater bills rows of this customer: 1, or 0 when a customer
 * filter or shard skips them (an empty customer belongs to a shard like
 * any other id); GB_ENOMEM.  A front end that can stop
 * reading a row once it has the customer asks here first; it hands the
 * rows it stopped reading to gb_rater_add_row flagged GB_ROW_FILTERED,
 * which counts them as skipped unread.  Only this rater's answer may
 * filter its rows.  Answers are remembered by the customer id's bytes, so
 * asking about every row costs a small table lookup, and a row handed to
 * gb_rater_add_row right after a yes for its customer is not looked up
 * again.
 */
GB_EXTERN int gb_rater_selects(gb_rater *rater, const char *customer,
			       size_t len);

/*
 * Price the buckets and build the invoices.  The rater accepts no rows
 * afterwards.  The set holds its invoices and their strings (it may
 * outlive the rater); it refers to no other object.
 */
GB_EXTERN int gb_rater_finish(gb_rater *rater, gb_invoice_set **out,
			      gb_error *err);

/*
 * The same, customer by customer: each invoice is built, handed to fn
 * (customer order, as gb_rater_finish holds them) and dropped, so memory
 * does not grow with the number of invoices.  *out receives the set
 * without invoices: metadata, counts, the invoice count and grand total.
 * When fn returns non-zero the run stops there: that code is returned
 * (GB_EABORT if it was positive), *out is NULL and err says why.  Either
 * way the rater is finished (unless it returns GB_EINVAL for a missing
 * rater, out or fn).
 */
GB_EXTERN int gb_rater_finish_each(gb_rater *rater, gb_invoice_set **out,
				   gb_invoice_fn fn, void *payload,
				   gb_error *err);

/*
 * Stable shard of a customer id: FNV-1a 64 of its bytes, modulo n, plus 1.
 * Documented in gpubill(1); never changes.
 */
GB_EXTERN uint32_t gb_customer_shard(const char *customer, size_t len,
				     uint32_t n);

#ifdef __cplusplus
}
#endif

#endif
