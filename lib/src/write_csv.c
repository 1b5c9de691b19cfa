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

/* A plain string as one cell and its ',': quoted only around a ','. */
static char *plain_cell(char *p, const char *s, size_t n)
{
	if (gb_has_comma(s, n)) {
		*p++ = '"';
		p = gb_put_short(p, s, n);
		*p++ = '"';
	} else {
		p = gb_put_short(p, s, n);
	}
	*p++ = ',';
	return p;
}

/*
 * One row of a line the rater noted as plain, straight into room reserved
 * once: 0, or -1 (nothing written) when a number needs GMP.
 */
static int fast_row(gb_invoice_writer *w, const gb_invoice_set *s,
		    const gb_invoice_line *l, const gb_line_note *nt, size_t n,
		    const gb_buf *cells, size_t ncust)
{
	const uint32_t *len = nt->len;
	int sku = len[GB_TXT_SKU] > 0;
	size_t k;
	char *p = gb_buf_room(&w->b, 512 + cells->len + 2 * ((size_t)len[GB_TXT_DESC] +
			      len[GB_TXT_SKU] + len[GB_TXT_MODEL] +
			      len[GB_TXT_REGION] + len[GB_TXT_UNIT]));

	if (!p)
		return 0;   /* out of memory: the next flush says so */
	if ((unsigned)l->kind >= GB_NKINDS)
		return -1;
	p = gb_put(p, cells->data, ncust);
	p += gb_u64_text(p, n);
	*p++ = ',';
	p = gb_put_short(p, gb_kind_texts[l->kind].name, gb_kind_texts[l->kind].len);
	*p++ = ',';
	p = plain_cell(p, l->description, len[GB_TXT_DESC]);
	p = plain_cell(p, sku ? l->sku : l->model,
		       sku ? len[GB_TXT_SKU] : len[GB_TXT_MODEL]);
	p = plain_cell(p, l->region, len[GB_TXT_REGION]);
	k = nt->per ? gb_quantity_text(p, nt->base, nt->per) :
	    gb_decimal_fast(p, l->quantity, 0, GB_QUANTITY_DIGITS);
	if (k == GB_NOT_FAST)
		return -1;
	p += k;
	*p++ = ',';
	p = plain_cell(p, l->unit, len[GB_TXT_UNIT]);
	k = gb_price_text(w, p, l->unit_price, s->minor_units,
			  GB_DECIMAL_MAX_FRACTION);
	if (k == GB_NOT_FAST)
		return -1;
	p += k;
	*p++ = ',';
	k = gb_money_fast(p, l->amount, s->minor_units);
	if (k == GB_NOT_FAST)
		return -1;
	p += k;
	*p++ = ',';
	p = gb_put(p, cells->data + ncust, cells->len - ncust);
	gb_buf_done(&w->b, p);
	return 0;
}

/*
 * Numbers (-?digits(.digits)?) need neither quotes nor the apostrophe, and
 * kind names are plain words: those go in as they are.  The customer and
 * currency cells are the same on every line of an invoice: encoded once.
 */
int gb_csv_invoice(gb_invoice_writer *w, const gb_invoice_set *s,
		   const gb_invoice *inv)
{
	const gb_invoice_note *note = GB_NOTE_OF(s, inv);
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

		if (note && note->lines[j].plain &&
		    fast_row(w, s, l, &note->lines[j], j + 1, cells, ncust) == 0)
			continue;
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
