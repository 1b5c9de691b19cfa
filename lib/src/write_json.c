/*
 * write_json.c - invoices as "gpubill-invoices/1" JSON.  Every amount and
 * quantity is a decimal string: JSON numbers are doubles to most readers.
 *
 * Written one invoice at a time (gb_invoice_writer): the head up to
 * "invoices", then each invoice without what follows its closing brace,
 * which the next invoice (",\n") or the tail ("\n  ],\n") supplies.
 */
#include "internal.h"
#include "invoice_internal.h"

#include <gpubill/money.h>
#include <gpubill/timestamp.h>
#include <string.h>

#define ADD(b, lit) gb_buf_add((b), (lit), sizeof(lit) - 1)

/* Line members are indented by ten spaces. */
#define IN "          "

static void json_key_string(gb_buf *b, const char *indent, const char *key,
			    const char *value, int comma)
{
	gb_buf_puts(b, indent);
	ADD(b, "\"");
	gb_buf_puts(b, key);
	ADD(b, "\": ");
	gb_buf_json_string(b, value);
	if (comma)
		ADD(b, ",\n");
	else
		ADD(b, "\n");
}

static void json_key_money(gb_buf *b, const char *indent, const char *key,
			   const mpz_t v, unsigned minor, int comma)
{
	gb_buf_puts(b, indent);
	ADD(b, "\"");
	gb_buf_puts(b, key);
	ADD(b, "\": \"");
	gb_buf_money(b, v, minor);
	if (comma)
		ADD(b, "\",\n");
	else
		ADD(b, "\"\n");
}

/* A line member: the key (a literal) and a JSON string, then ",\n". */
#define MEMBER(b, key, value) \
	do { \
		ADD(b, IN "\"" key "\": "); \
		gb_buf_json_string(b, value); \
		ADD(b, ",\n"); \
	} while (0)

static void write_line(gb_buf *b, const gb_invoice_line *l, size_t n,
		       unsigned minor, int last)
{
	int usage = l->kind < GB_LINE_DISCOUNT;

	ADD(b, "        {\n" IN "\"line\": ");
	gb_buf_u64(b, n);
	ADD(b, ",\n" IN "\"kind\": \"");
	/* kind names are plain words */
	gb_buf_puts(b, gb_line_kind_name(l->kind));
	ADD(b, "\",\n");
	MEMBER(b, "description", l->description);
	if (l->sku[0])
		MEMBER(b, "sku", l->sku);
	if (l->model[0])
		MEMBER(b, "model", l->model);
	if (l->region[0] || l->sku[0])
		MEMBER(b, "region", l->region);
	if (l->kind == GB_LINE_GPU_RESERVED)
		MEMBER(b, "reservation", l->reference);
	if (l->kind == GB_LINE_CREDIT)
		MEMBER(b, "credit", l->reference);
	if (l->tier) {
		ADD(b, IN "\"tier\": ");
		gb_buf_u64(b, l->tier);
		ADD(b, ",\n");
	}
	if (l->model[0]) {
		if (l->batch)
			ADD(b, IN "\"batch\": true,\n");
		else
			ADD(b, IN "\"batch\": false,\n");
	}
	/* numbers need no escaping */
	ADD(b, IN "\"quantity\": \"");
	gb_buf_decimal(b, l->quantity, 0, GB_QUANTITY_DIGITS);
	ADD(b, "\",\n");
	MEMBER(b, "unit", l->unit);
	if (usage) {
		if (l->sku[0])
			ADD(b, IN "\"gpu_seconds\": \"");
		else
			ADD(b, IN "\"tokens\": \"");
		gb_buf_decimal(b, l->base_quantity, 0, GB_QUANTITY_DIGITS);
		ADD(b, "\",\n");
	}
	ADD(b, IN "\"unit_price\": \"");
	gb_buf_decimal(b, l->unit_price, minor, GB_DECIMAL_MAX_FRACTION);
	ADD(b, "\",\n" IN "\"amount\": \"");
	gb_buf_money(b, l->amount, minor);
	ADD(b, "\",\n");
	if (l->has_utilisation) {
		ADD(b, IN "\"utilisation\": \"");
		gb_buf_decimal(b, l->utilisation, 0, GB_QUANTITY_DIGITS);
		ADD(b, "\",\n");
	}
	if (l->has_remaining) {
		ADD(b, IN "\"credit_remaining\": \"");
		gb_buf_money(b, l->remaining, minor);
		ADD(b, "\",\n");
	}
	ADD(b, IN "\"records\": ");
	gb_buf_u64(b, l->records);
	if (last)
		ADD(b, "\n        }\n");
	else
		ADD(b, "\n        },\n");
}

/* Room for a line's bytes besides its strings: keys, indents, numbers. */
#define LINE_ROOM 1536

/* A member holding a plain string of n bytes. */
#define PUT_MEMBER(p, key, s, n) \
	do { \
		p = GB_PUT_LIT(p, IN "\"" key "\": \""); \
		p = gb_put_short(p, s, n); \
		p = GB_PUT_LIT(p, "\",\n"); \
	} while (0)

/* A member holding a number as a string, or -1 from the function when
 * the number needs GMP. */
#define PUT_NUMBER(p, key, k) \
	do { \
		size_t k_ = (k); \
		if (k_ == GB_NOT_FAST) \
			return -1; \
		p += k_; \
		p = GB_PUT_LIT(p, "\",\n"); \
	} while (0)

/*
 * write_line for a line the rater noted as plain: every byte straight into
 * room reserved once, the strings copied with their known lengths.  0, or
 * -1 (nothing written) when a number needs GMP: write_line then.
 */
static int fast_line(gb_invoice_writer *w, const gb_invoice_line *l,
		     const gb_line_note *nt, size_t n, unsigned minor,
		     int last)
{
	gb_buf *b = &w->b;
	const uint32_t *len = nt->len;
	char *p = gb_buf_room(b, LINE_ROOM + (size_t)len[GB_TXT_DESC] +
			      len[GB_TXT_SKU] + len[GB_TXT_MODEL] +
			      len[GB_TXT_REGION] + len[GB_TXT_REF] +
			      len[GB_TXT_UNIT]);

	if (!p)
		return 0;   /* out of memory: the next flush says so */
	if ((unsigned)l->kind >= GB_NKINDS)
		return -1;
	p = GB_PUT_LIT(p, "        {\n" IN "\"line\": ");
	p += gb_u64_text(p, n);
	p = GB_PUT_LIT(p, ",\n" IN "\"kind\": \"");
	p = gb_put(p, gb_kind_texts[l->kind].name, gb_kind_texts[l->kind].len);
	p = GB_PUT_LIT(p, "\",\n");
	PUT_MEMBER(p, "description", l->description, len[GB_TXT_DESC]);
	if (len[GB_TXT_SKU])
		PUT_MEMBER(p, "sku", l->sku, len[GB_TXT_SKU]);
	if (len[GB_TXT_MODEL])
		PUT_MEMBER(p, "model", l->model, len[GB_TXT_MODEL]);
	if (len[GB_TXT_REGION] || len[GB_TXT_SKU])
		PUT_MEMBER(p, "region", l->region, len[GB_TXT_REGION]);
	if (l->kind == GB_LINE_GPU_RESERVED)
		PUT_MEMBER(p, "reservation", l->reference, len[GB_TXT_REF]);
	if (l->kind == GB_LINE_CREDIT)
		PUT_MEMBER(p, "credit", l->reference, len[GB_TXT_REF]);
	if (l->tier) {
		p = GB_PUT_LIT(p, IN "\"tier\": ");
		p += gb_u64_text(p, l->tier);
		p = GB_PUT_LIT(p, ",\n");
	}
	if (len[GB_TXT_MODEL]) {
		if (l->batch)
			p = GB_PUT_LIT(p, IN "\"batch\": true,\n");
		else
			p = GB_PUT_LIT(p, IN "\"batch\": false,\n");
	}
	p = GB_PUT_LIT(p, IN "\"quantity\": \"");
	PUT_NUMBER(p, "quantity", nt->per ? gb_quantity_text(p, nt->base, nt->per) :
		   gb_decimal_fast(p, l->quantity, 0, GB_QUANTITY_DIGITS));
	PUT_MEMBER(p, "unit", l->unit, len[GB_TXT_UNIT]);
	if (l->kind < GB_LINE_DISCOUNT) {
		if (len[GB_TXT_SKU])
			p = GB_PUT_LIT(p, IN "\"gpu_seconds\": \"");
		else
			p = GB_PUT_LIT(p, IN "\"tokens\": \"");
		PUT_NUMBER(p, "base", nt->per ? gb_u64_text(p, nt->base) :
			   gb_decimal_fast(p, l->base_quantity, 0,
					   GB_QUANTITY_DIGITS));
	}
	p = GB_PUT_LIT(p, IN "\"unit_price\": \"");
	PUT_NUMBER(p, "unit_price", gb_price_text(w, p, l->unit_price, minor,
						   GB_DECIMAL_MAX_FRACTION));
	p = GB_PUT_LIT(p, IN "\"amount\": \"");
	PUT_NUMBER(p, "amount", gb_money_fast(p, l->amount, minor));
	if (l->has_utilisation) {
		p = GB_PUT_LIT(p, IN "\"utilisation\": \"");
		PUT_NUMBER(p, "utilisation", gb_decimal_fast(p, l->utilisation, 0,
							     GB_QUANTITY_DIGITS));
	}
	if (l->has_remaining) {
		p = GB_PUT_LIT(p, IN "\"credit_remaining\": \"");
		PUT_NUMBER(p, "credit_remaining",
			   gb_money_fast(p, l->remaining, minor));
	}
	p = GB_PUT_LIT(p, IN "\"records\": ");
	p += gb_u64_text(p, l->records);
	if (last)
		p = GB_PUT_LIT(p, "\n        }\n");
	else
		p = GB_PUT_LIT(p, "\n        },\n");
	gb_buf_done(b, p);
	return 0;
}

void gb_json_head(gb_invoice_writer *w, const gb_invoice_set *s)
{
	char from[GB_TIME_TEXT_MAX], to[GB_TIME_TEXT_MAX];
	gb_buf *b = &w->b;

	gb_time_format(from, sizeof from, s->from);
	gb_time_format(to, sizeof to, s->to);
	ADD(b, "{\n");
	json_key_string(b, "  ", "format", "gpubill-invoices/1", 1);
	json_key_string(b, "  ", "prices", s->prices_name, 1);
	json_key_string(b, "  ", "currency", s->currency, 1);
	gb_buf_printf(b, "  \"minor_units\": %u,\n", s->minor_units);
	gb_buf_printf(b, "  \"period\": {\"from\": \"%s\", \"to\": \"%s\"},\n",
		      from, to);
}

int gb_json_invoice(gb_invoice_writer *w, const gb_invoice_set *s,
		    const gb_invoice *inv)
{
	const gb_invoice_note *note = GB_NOTE_OF(s, inv);
	gb_buf *b = &w->b;
	size_t j;

	/* the list opens with the first invoice; "[]" when there is none */
	if (w->n == 0)
		ADD(b, "  \"invoices\": [\n");
	else
		ADD(b, ",\n");
	if (note && !gb_json_needs_escape(inv->customer, note->customer_len)) {
		ADD(b, "    {\n      \"customer\": \"");
		gb_buf_add(b, inv->customer, note->customer_len);
		ADD(b, "\",\n");
	} else {
		ADD(b, "    {\n");
		json_key_string(b, "      ", "customer", inv->customer, 1);
	}
	json_key_money(b, "      ", "total", inv->total, s->minor_units, 1);
	ADD(b, "      \"lines\": [\n");
	for (j = 0; j < inv->nlines; j++) {
		const gb_invoice_line *l = &inv->lines[j];
		int last = j + 1 == inv->nlines;

		if (note && note->lines[j].plain &&
		    fast_line(w, l, &note->lines[j], j + 1, s->minor_units, last) == 0)
			continue;
		write_line(b, l, j + 1, s->minor_units, last);
	}
	ADD(b, "      ]\n    }");
	return 0;
}

void gb_json_tail(gb_invoice_writer *w, const gb_invoice_set *s)
{
	const gb_counts *c = &s->counts;
	gb_buf *b = &w->b;
	mpz_t total;

	if (w->n)
		ADD(b, "\n  ],\n");
	else
		ADD(b, "  \"invoices\": [],\n");
	ADD(b, "  \"summary\": {\n");
	gb_buf_counts_json(b, c);
	gb_buf_printf(b, "    \"invoices\": %zu,\n", gb_invoice_set_count(s));
	mpz_init(total);
	gb_invoice_set_total(s, total);
	json_key_money(b, "    ", "total", total, s->minor_units, 0);
	mpz_clear(total);
	ADD(b, "  }\n}\n");
}
