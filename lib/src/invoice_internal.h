/*
 * invoice_internal.h - the invoice set as built by the rater.
 */
#ifndef GPUBILL_INVOICE_INTERNAL_H
#define GPUBILL_INVOICE_INTERNAL_H

#include <gpubill/invoice.h>

struct gb_invoice_set {
	char currency[4];
	unsigned minor_units;
	char *prices_name;
	int64_t from;
	int64_t to;
	gb_counts counts;
	size_t ninvoices;
	gb_invoice *invoices;   /* each invoice's lines and strings are owned */
};

/* Allocate an empty set; NULL on allocation failure. */
gb_invoice_set *gb_invoice_set_new(const char *currency, unsigned minor_units,
				   const char *prices_name, int64_t from,
				   int64_t to);

/* Initialise/clear one line's GMP members and owned strings. */
void gb_invoice_line_init(gb_invoice_line *line);
void gb_invoice_line_clear(gb_invoice_line *line);

/* Shared by the writers: quantity, unit price and amount as text. */
size_t gb_line_quantity_text(char *buf, size_t size, const gb_invoice_line *l);
size_t gb_line_unit_price_text(char *buf, size_t size,
			       const gb_invoice_line *l, unsigned minor_units);
size_t gb_line_base_text(char *buf, size_t size, const gb_invoice_line *l);

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
void gb_buf_add(gb_buf *b, const char *s, size_t n);
void gb_buf_puts(gb_buf *b, const char *s);
void gb_buf_printf(gb_buf *b, const char *fmt, ...)
#if defined(__GNUC__)
	__attribute__((format(printf, 2, 3)))
#endif
	;
void gb_buf_money(gb_buf *b, const mpz_t minor, unsigned minor_units);
/* Write the buffer out through fn and empty it; 0 or GB_EIO/GB_ENOMEM. */
int gb_buf_flush(gb_buf *b, gb_write_fn fn, void *payload, gb_error *err);
/* s as a JSON string literal, quotes included. */
void gb_buf_json_string(gb_buf *b, const char *s);
/* s as one CSV cell, then ',' (or CRLF when last); formula-safe. */
void gb_buf_csv_cell(gb_buf *b, const char *s, int last);

#endif
