/*
 * write_text.c - invoices for people: one aligned table per customer.
 */
#include "internal.h"
#include "invoice_internal.h"

#include <gpubill/money.h>
#include <stdio.h>
#include <gpubill/timestamp.h>
#include <string.h>

#define COLS 6

/* Text of each column of one line: #, description, qty, unit, price, amount. */
typedef struct row_text {
	char cell[COLS][256];
} row_text;

static size_t utf8_width(const char *s)
{
	size_t w = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			w++;
	return w;
}

static void pad(gb_buf *b, size_t n)
{
	static const char spaces[] = "                                ";

	while (n > 0) {
		size_t k = n < sizeof spaces - 1 ? n : sizeof spaces - 1;

		gb_buf_add(b, spaces, k);
		n -= k;
	}
}

/* Column 1 (description) and 3 (unit) are left-aligned, the rest right. */
static void put_row(gb_buf *b, char cell[COLS][256], const size_t *width)
{
	int c;

	gb_buf_puts(b, "  ");
	for (c = 0; c < COLS; c++) {
		size_t w = utf8_width(cell[c]);
		int left = c == 1 || c == 3;

		if (!left)
			pad(b, width[c] - w);
		gb_buf_puts(b, cell[c]);
		if (c + 1 < COLS) {
			if (left)
				pad(b, width[c] - w);
			gb_buf_puts(b, "  ");
		}
	}
	gb_buf_puts(b, "\n");
}

static void fill_row(row_text *rt, const gb_invoice_line *l, size_t n,
		     unsigned minor)
{
	snprintf(rt->cell[0], sizeof rt->cell[0], "%zu", n);
	if (l->has_utilisation) {
		mpq_t pct;
		char p[32];

		mpq_init(pct);
		mpq_set_ui(pct, 100, 1);
		mpq_mul(pct, pct, l->utilisation);
		gb_decimal_format(p, sizeof p, pct, 0, 2, GB_ROUND_HALF_EVEN);
		mpq_clear(pct);
		snprintf(rt->cell[1], sizeof rt->cell[1], "%s (utilisation %s%%)",
			 l->description, p);
	} else {
		snprintf(rt->cell[1], sizeof rt->cell[1], "%s", l->description);
	}
	gb_line_quantity_text(rt->cell[2], sizeof rt->cell[2], l);
	snprintf(rt->cell[3], sizeof rt->cell[3], "%s", l->unit);
	gb_line_unit_price_text(rt->cell[4], sizeof rt->cell[4], l, minor);
	gb_money_format(rt->cell[5], sizeof rt->cell[5], l->amount, minor);
}

static int write_invoice(gb_buf *b, const gb_invoice_set *s,
			 const gb_invoice *inv)
{
	static const char *const heads[COLS] = {
		"#", "Description", "Quantity", "Unit", "Unit price", "Amount"
	};
	row_text head, *rows = gb_calloc(inv->nlines, sizeof *rows);
	size_t width[COLS] = { 0 }, i, total_width = 0;
	char total[128];
	int c;

	if (!rows)
		return GB_ENOMEM;
	for (c = 0; c < COLS; c++) {
		snprintf(head.cell[c], sizeof head.cell[c], "%s", heads[c]);
		width[c] = utf8_width(heads[c]);
	}
	for (i = 0; i < inv->nlines; i++) {
		fill_row(&rows[i], &inv->lines[i], i + 1, s->minor_units);
		for (c = 0; c < COLS; c++)
			if (utf8_width(rows[i].cell[c]) > width[c])
				width[c] = utf8_width(rows[i].cell[c]);
	}
	gb_money_format(total, sizeof total, inv->total, s->minor_units);
	if (utf8_width(total) > width[COLS - 1])
		width[COLS - 1] = utf8_width(total);
	for (c = 0; c < COLS; c++)
		total_width += width[c] + 2;
	gb_buf_printf(b, "Customer: %s\n\n", inv->customer);
	put_row(b, head.cell, width);
	for (i = 0; i < inv->nlines; i++)
		put_row(b, rows[i].cell, width);
	gb_buf_puts(b, "  ");
	pad(b, total_width - 2 - width[COLS - 1] - 11);
	gb_buf_printf(b, "Total %s  ", s->currency);
	pad(b, width[COLS - 1] - utf8_width(total));
	gb_buf_printf(b, "%s\n\n", total);
	gb_free(rows);
	return 0;
}

int gb_invoice_write_text(const gb_invoice_set *s, gb_write_fn fn,
			  void *payload, gb_error *err)
{
	char from[GB_TIME_TEXT_MAX], to[GB_TIME_TEXT_MAX];
	const gb_counts *c = &s->counts;
	gb_buf b;
	mpz_t total;
	size_t i;
	int rc = 0;

	gb_buf_init(&b);
	gb_time_format(from, sizeof from, s->from);
	gb_time_format(to, sizeof to, s->to);
	gb_buf_printf(&b, "Invoices for %s to %s (%s, prices: %s)\n\n", from, to,
		      s->currency, s->prices_name);
	for (i = 0; i < s->ninvoices && rc == 0; i++) {
		rc = write_invoice(&b, s, &s->invoices[i]);
		if (rc == 0)
			rc = gb_buf_flush(&b, fn, payload, err);
		else
			gb_error_set(err, rc, "out of memory formatting output");
	}
	if (rc == 0) {
		mpz_init(total);
		gb_invoice_set_total(s, total);
		gb_buf_printf(&b, "%zu invoice%s, total ", s->ninvoices,
			      s->ninvoices == 1 ? "" : "s");
		gb_buf_money(&b, total, s->minor_units);
		gb_buf_printf(&b, " %s", s->currency);
		gb_buf_printf(&b, "\nRecords: %llu read, %llu billed, %llu rejected, "
			      "%llu duplicates, %llu outside period",
			      (unsigned long long)c->read,
			      (unsigned long long)c->billed,
			      (unsigned long long)c->rejected,
			      (unsigned long long)c->duplicates,
			      (unsigned long long)c->outside_period);
		if (c->skipped)
			gb_buf_printf(&b, ", %llu skipped (other customers)",
				      (unsigned long long)c->skipped);
		gb_buf_puts(&b, "\n");
		mpz_clear(total);
		rc = gb_buf_flush(&b, fn, payload, err);
	}
	gb_buf_free(&b);
	return rc;
}
