/*
 * write_text.c - invoices for people: one aligned table per customer,
 * its column widths from that invoice's own lines.
 */
#include "internal.h"
#include "invoice_internal.h"

#include <gpubill/money.h>
#include <gpubill/timestamp.h>
#include <string.h>

#define COLS 6
#define CELL 256   /* a cell holds at most CELL - 1 bytes, as it always has */

/*
 * Text of each column of one line: #, description, qty, unit, price,
 * amount.  text[c] is cell[c], or for a plain line's description and unit
 * the line's own string (no copy).
 */
typedef struct row_text {
	const char *text[COLS];
	size_t len[COLS];
	size_t width[COLS];
	char cell[COLS][CELL];
} row_text;

static const char *const heads[COLS] = {
	"#", "Description", "Quantity", "Unit", "Unit price", "Amount"
};
static const size_t head_len[COLS] = { 1, 11, 8, 4, 10, 6 };   /* ASCII */

static size_t utf8_width_n(const char *s, size_t n)
{
	size_t w = 0, i;

	for (i = 0; i < n; i++)
		if (((unsigned char)s[i] & 0xc0) != 0x80)
			w++;
	return w;
}

static size_t utf8_width(const char *s)
{
	return utf8_width_n(s, strlen(s));
}

/* n spaces at p: 16 at a time, up to 15 more than n (room allows). */
static char *pad_at(char *p, size_t n)
{
	static const char spaces[16] = "                ";
	size_t i;

	for (i = 0; i < n; i += 16)
		memcpy(p + i, spaces, 16);
	return p + n;
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

/*
 * Column 1 (description) and 3 (unit) are left-aligned, the rest right.
 * The row goes straight into room for all of it (and pad_at's overrun).
 */
static void put_row(gb_buf *b, const char *const *text, const size_t *len,
		    const size_t *cw, const size_t *width)
{
	size_t need = 3 + 2 * COLS + 16;
	char *p;
	int c;

	for (c = 0; c < COLS; c++)
		need += width[c] + len[c];
	p = gb_buf_room(b, need);
	if (!p)
		return;   /* out of memory: the next flush says so */
	*p++ = ' ';
	*p++ = ' ';
	for (c = 0; c < COLS; c++) {
		int left = c == 1 || c == 3;

		if (!left)
			p = pad_at(p, width[c] - cw[c]);
		p = gb_put_short(p, text[c], len[c]);
		if (c + 1 < COLS) {
			if (left)
				p = pad_at(p, width[c] - cw[c]);
			*p++ = ' ';
			*p++ = ' ';
		}
	}
	*p++ = '\n';
	gb_buf_done(b, p);
}

/* Append n bytes to cell c of rt, keeping what fits (as snprintf did). */
static void cell_add(row_text *rt, int c, const char *s, size_t n)
{
	size_t room = CELL - 1 - rt->len[c];

	if (n > room)
		n = room;
	memcpy(rt->cell[c] + rt->len[c], s, n);
	rt->len[c] += n;
}

/* Close cell c after a writer that returned the full length n. */
static void cell_set(row_text *rt, int c, size_t n)
{
	rt->len[c] = n < CELL - 1 ? n : CELL - 1;
}

static void fill_row(row_text *rt, const gb_invoice_line *l, size_t n,
		     unsigned minor)
{
	char p[32];
	int c;

	memset(rt->len, 0, sizeof rt->len);
	for (c = 0; c < COLS; c++)
		rt->text[c] = rt->cell[c];
	rt->len[0] = gb_u64_text(rt->cell[0], n);
	cell_add(rt, 1, l->description, strlen(l->description));
	if (l->has_utilisation) {
		mpq_t pct;

		mpq_init(pct);
		mpq_set_ui(pct, 100, 1);
		mpq_mul(pct, pct, l->utilisation);
		gb_decimal_text(p, sizeof p, pct, 0, 2);
		mpq_clear(pct);
		cell_add(rt, 1, " (utilisation ", 14);
		cell_add(rt, 1, p, strlen(p));
		cell_add(rt, 1, "%)", 2);
	}
	cell_set(rt, 2, gb_line_quantity_text(rt->cell[2], CELL, l));
	cell_add(rt, 3, l->unit, strlen(l->unit));
	cell_set(rt, 4, gb_line_unit_price_text(rt->cell[4], CELL, l, minor));
	cell_set(rt, 5, gb_money_text(rt->cell[5], CELL, l->amount, minor));
	for (c = 0; c < COLS; c++) {
		rt->cell[c][rt->len[c]] = '\0';
		rt->width[c] = utf8_width_n(rt->cell[c], rt->len[c]);
	}
}

/*
 * fill_row for a line the rater noted as plain (ASCII: as wide as long),
 * without utilisation: 0, or -1 when a number needs GMP.
 */
static int fast_row(gb_invoice_writer *w, row_text *rt, const gb_invoice_line *l,
		    const gb_line_note *nt, size_t n, unsigned minor)
{
	size_t k;
	int c;

	if (l->has_utilisation)
		return -1;
	rt->text[0] = rt->cell[0];
	rt->len[0] = gb_u64_text(rt->cell[0], n);
	/* a cell keeps CELL - 1 bytes, as it always has */
	rt->text[1] = l->description;
	rt->len[1] = nt->len[GB_TXT_DESC] < CELL - 1 ? nt->len[GB_TXT_DESC] : CELL - 1;
	k = nt->per ? gb_quantity_text(rt->cell[2], nt->base, nt->per) :
	    gb_decimal_fast(rt->cell[2], l->quantity, 0, GB_QUANTITY_DIGITS);
	if (k == GB_NOT_FAST)
		return -1;
	rt->text[2] = rt->cell[2];
	rt->len[2] = k;
	rt->text[3] = l->unit;
	rt->len[3] = nt->len[GB_TXT_UNIT] < CELL - 1 ? nt->len[GB_TXT_UNIT] : CELL - 1;
	k = gb_price_text(w, rt->cell[4], l->unit_price, minor,
			  GB_DECIMAL_MAX_FRACTION);
	if (k == GB_NOT_FAST)
		return -1;
	rt->text[4] = rt->cell[4];
	rt->len[4] = k;
	k = gb_money_fast(rt->cell[5], l->amount, minor);
	if (k == GB_NOT_FAST)
		return -1;
	rt->text[5] = rt->cell[5];
	rt->len[5] = k;
	for (c = 0; c < COLS; c++)
		rt->width[c] = rt->len[c];
	return 0;
}

/* Room for n rows in the writer's scratch, kept across invoices. */
static row_text *rows_for(gb_invoice_writer *w, size_t n)
{
	size_t need;
	void *p;

	if (n > ((size_t)-1) / sizeof(row_text))
		return NULL;
	need = (n ? n : 1) * sizeof(row_text);
	if (need > w->scratch_cap) {
		p = gb_realloc(w->scratch, need);
		if (!p)
			return NULL;
		w->scratch = p;
		w->scratch_cap = need;
	}
	return w->scratch;
}

int gb_text_invoice(gb_invoice_writer *w, const gb_invoice_set *s,
		    const gb_invoice *inv)
{
	const gb_invoice_note *note = GB_NOTE_OF(s, inv);
	gb_buf *b = &w->b;
	row_text *rows = rows_for(w, inv->nlines);
	size_t width[COLS], i, total_width = 0, tn;
	char total[128];
	int c;

	if (!rows)
		return GB_ENOMEM;
	for (c = 0; c < COLS; c++)
		width[c] = head_len[c];
	for (i = 0; i < inv->nlines; i++) {
		if (!note || !note->lines[i].plain ||
		    fast_row(w, &rows[i], &inv->lines[i], &note->lines[i], i + 1,
			     s->minor_units) != 0)
			fill_row(&rows[i], &inv->lines[i], i + 1, s->minor_units);
		for (c = 0; c < COLS; c++)
			if (rows[i].width[c] > width[c])
				width[c] = rows[i].width[c];
	}
	tn = gb_money_text(total, sizeof total, inv->total, s->minor_units);
	if (tn >= sizeof total)
		tn = sizeof total - 1;
	if (utf8_width(total) > width[COLS - 1])
		width[COLS - 1] = utf8_width(total);
	for (c = 0; c < COLS; c++)
		total_width += width[c] + 2;
	gb_buf_add(b, "Customer: ", 10);
	gb_buf_puts(b, inv->customer);
	gb_buf_add(b, "\n\n", 2);
	put_row(b, heads, head_len, head_len, width);
	for (i = 0; i < inv->nlines; i++)
		put_row(b, rows[i].text, rows[i].len, rows[i].width, width);
	gb_buf_add(b, "  ", 2);
	pad(b, total_width - 2 - width[COLS - 1] - 11);
	gb_buf_add(b, "Total ", 6);
	gb_buf_puts(b, s->currency);
	gb_buf_add(b, "  ", 2);
	pad(b, width[COLS - 1] - utf8_width(total));
	gb_buf_add(b, total, tn);
	gb_buf_add(b, "\n\n", 2);
	return 0;
}

void gb_text_head(gb_invoice_writer *w, const gb_invoice_set *s)
{
	char from[GB_TIME_TEXT_MAX], to[GB_TIME_TEXT_MAX];

	gb_time_format(from, sizeof from, s->from);
	gb_time_format(to, sizeof to, s->to);
	gb_buf_printf(&w->b, "Invoices for %s to %s (%s, prices: %s)\n\n", from,
		      to, s->currency, s->prices_name);
}

void gb_text_tail(gb_invoice_writer *w, const gb_invoice_set *s)
{
	const gb_counts *c = &s->counts;
	size_t n = gb_invoice_set_count(s);
	gb_buf *b = &w->b;
	mpz_t total;

	mpz_init(total);
	gb_invoice_set_total(s, total);
	gb_buf_printf(b, "%zu invoice%s, total ", n, n == 1 ? "" : "s");
	gb_buf_money(b, total, s->minor_units);
	mpz_clear(total);
	gb_buf_printf(b, " %s", s->currency);
	gb_buf_puts(b, "\nRecords: ");
	gb_buf_counts_text(b, c);
	gb_buf_puts(b, "\n");
}
