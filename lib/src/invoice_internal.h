/*
 * invoice_internal.h - the invoice set as built by the rater.
 */
#ifndef GPUBILL_INVOICE_INTERNAL_H
#define GPUBILL_INVOICE_INTERNAL_H

#include <gpubill/invoice.h>
#include "internal.h"

#include <string.h>

struct gb_invoice_set {
	char currency[4];
	unsigned minor_units;
	char *prices_name;
	int64_t from;
	int64_t to;
	gb_counts counts;
	size_t ninvoices;       /* held (gb_rater_finish) */
	gb_invoice *invoices;   /* each owns its lines and strings */
	size_t cap;             /* of invoices */
	int string_blocks;      /* held invoices keep all their strings in one
				   block that starts at customer (set by
				   gb_invoice_set_hold); 0: every string is
				   its own allocation, as in sets built by
				   hand (tests) */
	size_t nstreamed;       /* handed on by gb_rater_finish_each, not held */
	mpz_t streamed_total;   /* the sum of their totals, minor units */
};

/* Allocate an empty set; NULL on allocation failure. */
gb_invoice_set *gb_invoice_set_new(const char *currency, unsigned minor_units,
				   const char *prices_name, int64_t from,
				   int64_t to);

/*
 * Append a copy of inv to the held invoices: its lines (GMP values
 * copied) and, in one block, every string it points to.  0 or GB_ENOMEM
 * (nothing appended).
 */
int gb_invoice_set_hold(gb_invoice_set *set, const gb_invoice *inv);

/* Initialise/clear one line's GMP members (its strings are the set's). */
void gb_invoice_line_init(gb_invoice_line *line);
void gb_invoice_line_clear(gb_invoice_line *line);

/* --- number text without printf ----------------------------------------- */

/* Decimal digits of v, no NUL; buf needs 20 (u64) or 39 (u128) bytes. */
size_t gb_u64_text(char *buf, uint64_t v);
size_t gb_u128_text(char *buf, gb_u128 v);

/*
 * gb_decimal_format(buf, size, v, min_frac, max_frac, GB_ROUND_HALF_EVEN)
 * and gb_money_format, byte for byte, with integer arithmetic when the
 * numbers fit in 64 bits (GMP otherwise).
 */
size_t gb_decimal_text(char *buf, size_t size, const mpq_t v,
		       unsigned min_frac, unsigned max_frac);
size_t gb_money_text(char *buf, size_t size, const mpz_t minor,
		     unsigned minor_units);

/*
 * Test hook: 0 sends every number through GMP (gb_decimal_format,
 * gb_money_format, mpq arithmetic for line amounts), the simple path the
 * fast ones must match byte for byte.  Not for concurrent use.
 */
extern int gb_invoice_fast;

/* Shared by the writers: quantity, unit price and amount as text. */
size_t gb_line_quantity_text(char *buf, size_t size, const gb_invoice_line *l);
size_t gb_line_unit_price_text(char *buf, size_t size,
			       const gb_invoice_line *l, unsigned minor_units);
size_t gb_line_base_text(char *buf, size_t size, const gb_invoice_line *l);

/* 10^0 .. 10^19 */
extern const uint64_t gb_pow10_u64[20];

/* Digits shown for a line's quantity (GPU-hours need rounding to show). */
#define GB_QUANTITY_DIGITS 6

/* A text buffer that grows; writers build output pieces in it. */
typedef struct gb_buf {
	char *data;
	size_t len;
	size_t cap;
	int failed;   /* an allocation failed; further appends are ignored */
} gb_buf;

void gb_buf_init(gb_buf *b);
void gb_buf_free(gb_buf *b);
void gb_buf_add_slow(gb_buf *b, const char *s, size_t n);
/* Append n bytes of s; the text stays NUL-terminated. */
static inline void gb_buf_add(gb_buf *b, const char *s, size_t n)
{
	if (GB_LIKELY(b->len + n < b->cap)) {
		memcpy(b->data + b->len, s, n);
		b->len += n;
		b->data[b->len] = '\0';
		return;
	}
	gb_buf_add_slow(b, s, n);
}
void gb_buf_puts(gb_buf *b, const char *s);
void gb_buf_printf(gb_buf *b, const char *fmt, ...)
#if defined(__GNUC__)
	__attribute__((format(printf, 2, 3)))
#endif
	;
void gb_buf_money(gb_buf *b, const mpz_t minor, unsigned minor_units);
void gb_buf_u64(gb_buf *b, uint64_t v);
/* gb_decimal_text's text appended. */
void gb_buf_decimal(gb_buf *b, const mpq_t v, unsigned min_frac,
		    unsigned max_frac);
/* Write the buffer out through fn and empty it; 0 or GB_EIO/GB_ENOMEM. */
int gb_buf_flush(gb_buf *b, gb_write_fn fn, void *payload, gb_error *err);
/* s as a JSON string literal, quotes included. */
void gb_buf_json_string(gb_buf *b, const char *s);
/* s as one CSV cell, then ',' (or CRLF when last); formula-safe. */
void gb_buf_csv_cell(gb_buf *b, const char *s, int last);

/* --- the incremental invoice writer ------------------------------------- */

/* The writer flushes once its buffer holds this much. */
#define GB_WRITER_FLUSH (64u << 10)

struct gb_invoice_writer {
	gb_invoice_format format;
	gb_write_fn fn;
	void *payload;
	gb_buf b;
	gb_buf aux;             /* the format's scratch text */
	int started;            /* the head is in b (or written) */
	int done;               /* finished, or failed: no more calls */
	size_t n;               /* invoices added */
	void *scratch;          /* the format's own, kept across invoices */
	size_t scratch_cap;     /* bytes */
};

/*
 * Per format (write_text.c, write_csv.c, write_json.c): the head before
 * the first invoice, one invoice, the tail.  They append to w->b; the
 * invoice step returns 0, GB_ENOMEM or GB_ERANGE (an amount too long to
 * print), and allocation failures inside w->b show at the next flush.
 */
void gb_text_head(gb_invoice_writer *w, const gb_invoice_set *s);
int gb_text_invoice(gb_invoice_writer *w, const gb_invoice_set *s,
		    const gb_invoice *inv);
void gb_text_tail(gb_invoice_writer *w, const gb_invoice_set *s);
void gb_csv_head(gb_invoice_writer *w, const gb_invoice_set *s);
int gb_csv_invoice(gb_invoice_writer *w, const gb_invoice_set *s,
		   const gb_invoice *inv);
void gb_csv_tail(gb_invoice_writer *w, const gb_invoice_set *s);
void gb_json_head(gb_invoice_writer *w, const gb_invoice_set *s);
int gb_json_invoice(gb_invoice_writer *w, const gb_invoice_set *s,
		    const gb_invoice *inv);
void gb_json_tail(gb_invoice_writer *w, const gb_invoice_set *s);

#endif
