/*
 * write_csv.c - one CSV row per invoice line, RFC 4180 quoting.
 *
 * Spreadsheet safety (OWASP "CSV injection"): a cell that is not a number
 * and starts with '=', '+', '-', '@', a tab or a carriage return gets a
 * leading apostrophe, so a customer id like "=HYPERLINK(...)" stays text.
 */
#include "internal.h"
#include "invoice_internal.h"

#include <gpubill/money.h>
#include <string.h>


void gb_csv_head(gb_invoice_writer *w, const gb_invoice_set *s)
{
	(void)s;
	gb_buf_puts(&w->b, "customer,line,kind,description,sku_model,region,"
			   "quantity,unit,unit_price,amount,currency\r\n");
}

/*
 * Numbers (-?digits(.digits)?) need neither quotes nor the apostrophe, and
 * kind names are plain words: those go in as they are.  The customer and
 * currency cells are the same on every line of an invoice: encoded once.
 */
int gb_csv_invoice(gb_invoice_writer *w, const gb_invoice_set *s,
		   const gb_invoice *inv)
{
	gb_buf *b = &w->b, *cells = &w->aux;
	size_t j, ncust;
	int rc = 0;

	cells->len = 0;
	gb_buf_csv_cell(cells, inv->customer, 0);
	ncust = cells->len;
	gb_buf_csv_cell(cells, s->currency, 1);
	if (cells->failed)
		return GB_ENOMEM;
	for (j = 0; j < inv->nlines && rc == 0; j++) {
		const gb_invoice_line *l = &inv->lines[j];
		char text[256];
		size_t n;

		gb_buf_add(b, cells->data, ncust);
		gb_buf_u64(b, j + 1);
		gb_buf_add(b, ",", 1);
		gb_buf_puts(b, gb_line_kind_name(l->kind));
		gb_buf_add(b, ",", 1);
		gb_buf_csv_cell(b, l->description, 0);
		gb_buf_csv_cell(b, l->sku[0] ? l->sku : l->model, 0);
		gb_buf_csv_cell(b, l->region, 0);
		gb_buf_decimal(b, l->quantity, 0, GB_QUANTITY_DIGITS);
		gb_buf_add(b, ",", 1);
		gb_buf_csv_cell(b, l->unit, 0);
		gb_buf_decimal(b, l->unit_price, s->minor_units,
			       GB_DECIMAL_MAX_FRACTION);
		gb_buf_add(b, ",", 1);
		n = gb_money_text(text, sizeof text, l->amount, s->minor_units);
		if (n >= sizeof text) {
			rc = GB_ERANGE;
			break;
		}
		gb_buf_add(b, text, n);
		gb_buf_add(b, ",", 1);
		gb_buf_add(b, cells->data + ncust, cells->len - ncust);
	}
	return rc;
}

void gb_csv_tail(gb_invoice_writer *w, const gb_invoice_set *s)
{
	(void)w;
	(void)s;
}
