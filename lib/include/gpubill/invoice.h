/*
 * gpubill/invoice.h - invoices as the rater produces them, and writers for
 * text, CSV, JSON and FOCUS.  An invoice set is read-only once built.
 */
#ifndef GPUBILL_INVOICE_H
#define GPUBILL_INVOICE_H

#include <stddef.h>
#include <stdint.h>
#include <gmp.h>
#include "error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Line kinds, in invoice order (SPEC section 6). */
typedef enum gb_line_kind {
	GB_LINE_GPU_RESERVED = 0,
	GB_LINE_GPU_ON_DEMAND,
	GB_LINE_GPU_SPOT,
	GB_LINE_GPU_SPOT_INTERRUPTED,
	GB_LINE_TOKENS_INPUT,
	GB_LINE_TOKENS_CACHED_INPUT,
	GB_LINE_TOKENS_OUTPUT,
	GB_LINE_DISCOUNT,
	GB_LINE_MINIMUM_SPEND,
	GB_LINE_CREDIT
} gb_line_kind;

/* "gpu_on_demand" etc. */
GB_EXTERN const char *gb_line_kind_name(gb_line_kind kind);

/*
 * One invoice line.  quantity is in unit ("GPU-hour", "1M tokens"), exact;
 * base_quantity is what it came from (GPU-seconds, tokens; a graduated
 * tier's slice may be fractional).  amount is the line's money in minor
 * units, rounded once: quantity x unit_price, rounded with the table's mode.
 * Discount, minimum-spend and credit lines have quantity 1 and unit "".
 *
 * Strings: in a set from gb_rater_finish they belong to the set.  In an
 * invoice handed to a gb_invoice_fn they are borrowed and valid only for
 * that call: sku, model, region and reference point into the rater (its
 * usage keys) and the contracts (reservation, discount and credit ids);
 * description and the invoice's customer into the invoice's own scratch.
 */
typedef struct gb_invoice_line {
	gb_line_kind kind;
	const char *description;
	const char *sku;          /* GPU lines; "" otherwise */
	const char *model;        /* token lines; "" otherwise */
	const char *region;       /* "" when none */
	const char *reference;    /* reservation id or credit id; "" otherwise */
	unsigned tier;            /* 1-based tier of a tiered price; 0 = flat */
	int batch;                /* token lines of batch usage */
	mpq_t base_quantity;      /* GPU-seconds or tokens */
	mpq_t quantity;           /* in unit */
	const char *unit;
	mpq_t unit_price;         /* per unit */
	mpz_t amount;             /* minor units */
	uint64_t records;         /* usage records that contributed */
	int has_utilisation;      /* reservation lines */
	mpq_t utilisation;        /* covered / reserved GPU-seconds, 0..1 */
	int has_remaining;        /* credit lines */
	mpz_t remaining;          /* credit left after this invoice, minor units */
} gb_invoice_line;

typedef struct gb_invoice {
	const char *customer;
	size_t nlines;
	const gb_invoice_line *lines;
	mpz_t total;              /* minor units: the sum of the lines */
} gb_invoice;

/* How the rows of a run ended; read = the sum of the other five. */
typedef struct gb_counts {
	uint64_t read;
	uint64_t billed;
	uint64_t rejected;
	uint64_t duplicates;
	uint64_t outside_period;
	uint64_t skipped;         /* other customers (--customer, --shard) */
} gb_counts;

/*
 * The invoices of a run and what describes them: currency, period, counts,
 * the grand total.  A set from gb_rater_finish holds its invoices; one from
 * gb_rater_finish_each holds none (they were handed on one by one) but
 * keeps everything else, the count and total of those invoices included.
 */
typedef struct gb_invoice_set gb_invoice_set;

GB_EXTERN void gb_invoice_set_free(gb_invoice_set *set);
/* Invoices produced, held or handed on. */
GB_EXTERN size_t gb_invoice_set_count(const gb_invoice_set *set);
/*
 * Held invoice i, ordered by customer id (bytewise); NULL past the held
 * ones (always, for a set from gb_rater_finish_each).
 */
GB_EXTERN const gb_invoice *gb_invoice_set_get(const gb_invoice_set *set,
					      size_t i);
GB_EXTERN const char *gb_invoice_set_currency(const gb_invoice_set *set);
GB_EXTERN unsigned gb_invoice_set_minor_units(const gb_invoice_set *set);
GB_EXTERN const char *gb_invoice_set_prices_name(const gb_invoice_set *set);
GB_EXTERN void gb_invoice_set_period(const gb_invoice_set *set,
				     int64_t *from, int64_t *to);
GB_EXTERN const gb_counts *gb_invoice_set_counts(const gb_invoice_set *set);
/* Sum of all invoice totals (held or handed on), minor units. */
GB_EXTERN void gb_invoice_set_total(const gb_invoice_set *set, mpz_t out);

/*
 * Receives the invoices of gb_rater_finish_each one at a time, in customer
 * order.  inv and everything it points to are valid only during the call;
 * set is the run's set so far (metadata and counts complete; count and
 * total include inv).  Return 0 to go on, or a negative gb_error_code
 * (with err filled) to stop the run.
 */
typedef int (*gb_invoice_fn)(const gb_invoice_set *set, const gb_invoice *inv,
			     void *payload, gb_error *err);

/* Output sink: write len bytes; return 0, or non-zero on failure. */
typedef int (*gb_write_fn)(const void *data, size_t len, void *payload);

/*
 * Writers.  Each returns 0, or GB_EIO when fn failed (err says so), or
 * GB_ENOMEM.  Output is byte-identical for equal invoice sets.
 */
GB_EXTERN int gb_invoice_write_text(const gb_invoice_set *set, gb_write_fn fn,
				    void *payload, gb_error *err);
GB_EXTERN int gb_invoice_write_csv(const gb_invoice_set *set, gb_write_fn fn,
				   void *payload, gb_error *err);
GB_EXTERN int gb_invoice_write_json(const gb_invoice_set *set, gb_write_fn fn,
				    void *payload, gb_error *err);
/*
 * FinOps FOCUS 1.0 cost and usage data, as CSV: one row per invoice line
 * (no totals), BilledCost the line's amount; see gpubill(1), FOCUS.
 */
GB_EXTERN int gb_invoice_write_focus(const gb_invoice_set *set, gb_write_fn fn,
				     void *payload, gb_error *err);

/*
 * The same output built incrementally, for invoices that are not held:
 * add each invoice in order (e.g. from a gb_invoice_fn), then finish.
 * The head (period, currency, table name) comes from the set given with
 * the first call; the summary that finish writes, from the set given to
 * it (its counts, invoice count and grand total), so pass the run's set:
 * the one gb_rater_finish_each returned.  The bytes equal those of
 * gb_invoice_write_FORMAT on a set holding the same invoices.  Output
 * goes to fn in pieces of some tens of KiB (text: each invoice's column
 * widths come from its own lines, as before).  After a failure every
 * later call returns GB_EINVAL; free the writer either way.
 */
typedef enum gb_invoice_format {
	GB_INVOICE_TEXT = 0,
	GB_INVOICE_CSV = 1,
	GB_INVOICE_JSON = 2,
	GB_INVOICE_FOCUS = 3
} gb_invoice_format;

typedef struct gb_invoice_writer gb_invoice_writer;

GB_EXTERN int gb_invoice_writer_new(gb_invoice_writer **out,
				    gb_invoice_format format, gb_write_fn fn,
				    void *payload, gb_error *err);
GB_EXTERN void gb_invoice_writer_free(gb_invoice_writer *w);
/* Returns 0, GB_EIO (fn failed), GB_ERANGE or GB_ENOMEM. */
GB_EXTERN int gb_invoice_writer_add(gb_invoice_writer *w,
				    const gb_invoice_set *set,
				    const gb_invoice *inv, gb_error *err);
/* The rest of the output; the writer takes no invoice afterwards. */
GB_EXTERN int gb_invoice_writer_finish(gb_invoice_writer *w,
				       const gb_invoice_set *set,
				       gb_error *err);
/* A gb_invoice_fn that adds inv to the gb_invoice_writer given as payload. */
GB_EXTERN int gb_invoice_writer_each(const gb_invoice_set *set,
				     const gb_invoice *inv, void *writer,
				     gb_error *err);

#ifdef __cplusplus
}
#endif

#endif
