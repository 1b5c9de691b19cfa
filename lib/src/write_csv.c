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


int gb_invoice_write_csv(const gb_invoice_set *s, gb_write_fn fn,
			 void *payload, gb_error *err)
{
	gb_buf b;
	size_t i, j;
	int rc = 0;

	gb_buf_init(&b);
	gb_buf_puts(&b, "customer,line,kind,description,sku_model,region,"
			"quantity,unit,unit_price,amount,currency\r\n");
	for (i = 0; i < s->ninvoices && rc == 0; i++) {
		const gb_invoice *inv = &s->invoices[i];

		for (j = 0; j < inv->nlines; j++) {
			const gb_invoice_line *l = &inv->lines[j];
			char text[256];
			size_t n;

			gb_buf_csv_cell(&b, inv->customer, 0);
			gb_buf_printf(&b, "%zu,", j + 1);
			gb_buf_csv_cell(&b, gb_line_kind_name(l->kind), 0);
			gb_buf_csv_cell(&b, l->description, 0);
			gb_buf_csv_cell(&b, l->sku[0] ? l->sku : l->model, 0);
			gb_buf_csv_cell(&b, l->region, 0);
			gb_line_quantity_text(text, sizeof text, l);
			gb_buf_csv_cell(&b, text, 0);
			gb_buf_csv_cell(&b, l->unit, 0);
			gb_line_unit_price_text(text, sizeof text, l, s->minor_units);
			gb_buf_csv_cell(&b, text, 0);
			n = gb_money_format(text, sizeof text, l->amount, s->minor_units);
			if (n >= sizeof text) {
				gb_buf_free(&b);
				return gb_error_set(err, GB_ERANGE, "amount too large to print");
			}
			gb_buf_csv_cell(&b, text, 0);
			gb_buf_csv_cell(&b, s->currency, 1);
		}
		rc = gb_buf_flush(&b, fn, payload, err);
	}
	if (rc == 0)
		rc = gb_buf_flush(&b, fn, payload, err);
	gb_buf_free(&b);
	return rc;
}
