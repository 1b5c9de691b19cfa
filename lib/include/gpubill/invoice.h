/*
 * gpubill/invoice.h - invoices as the rater produces them, and writers for
 * text, CSV and JSON.  An invoice set is read-only once built.
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

typedef struct gb_invoice_set gb_invoice_set;

GB_EXTERN void gb_invoice_set_free(gb_invoice_set *set);
GB_EXTERN size_t gb_invoice_set_count(const gb_invoice_set *set);
/* Invoices are ordered by customer id (bytewise). */
GB_EXTERN const gb_invoice *gb_invoice_set_get(const gb_invoice_set *set,
					      size_t i);
GB_EXTERN const char *gb_invoice_set_currency(const gb_invoice_set *set);
GB_EXTERN unsigned gb_invoice_set_minor_units(const gb_invoice_set *set);
GB_EXTERN const char *gb_invoice_set_prices_name(const gb_invoice_set *set);
GB_EXTERN void gb_invoice_set_period(const gb_invoice_set *set,
				     int64_t *from, int64_t *to);
GB_EXTERN const gb_counts *gb_invoice_set_counts(const gb_invoice_set *set);
/* Sum of all invoice totals, minor units. */
GB_EXTERN void gb_invoice_set_total(const gb_invoice_set *set, mpz_t out);

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

#ifdef __cplusplus
}
#endif

#endif
