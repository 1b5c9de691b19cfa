/*
 * write_json.c - invoices as "gpubill-invoices/1" JSON.  Every amount and
 * quantity is a decimal string: JSON numbers are doubles to most readers.
 */
#include "internal.h"
#include "invoice_internal.h"

#include <gpubill/money.h>
#include <gpubill/timestamp.h>
#include <string.h>

static void json_key_string(gb_buf *b, const char *indent, const char *key,
			    const char *value, int comma)
{
	gb_buf_printf(b, "%s\"%s\": ", indent, key);
	gb_buf_json_string(b, value);
	gb_buf_puts(b, comma ? ",\n" : "\n");
}

static void json_key_money(gb_buf *b, const char *indent, const char *key,
			   const mpz_t v, unsigned minor, int comma)
{
	gb_buf_printf(b, "%s\"%s\": \"", indent, key);
	gb_buf_money(b, v, minor);
	gb_buf_puts(b, comma ? "\",\n" : "\"\n");
}

static void write_line(gb_buf *b, const gb_invoice_line *l, size_t n,
		       unsigned minor, int last)
{
	const char *in = "          ";
	int usage = l->kind < GB_LINE_DISCOUNT;
	char text[256];

	gb_buf_puts(b, "        {\n");
	gb_buf_printf(b, "%s\"line\": %zu,\n", in, n);
	json_key_string(b, in, "kind", gb_line_kind_name(l->kind), 1);
	json_key_string(b, in, "description", l->description, 1);
	if (l->sku[0])
		json_key_string(b, in, "sku", l->sku, 1);
	if (l->model[0])
		json_key_string(b, in, "model", l->model, 1);
	if (l->region[0] || l->sku[0])
		json_key_string(b, in, "region", l->region, 1);
	if (l->kind == GB_LINE_GPU_RESERVED)
		json_key_string(b, in, "reservation", l->reference, 1);
	if (l->kind == GB_LINE_CREDIT)
		json_key_string(b, in, "credit", l->reference, 1);
	if (l->tier)
		gb_buf_printf(b, "%s\"tier\": %u,\n", in, l->tier);
	if (l->model[0])
		gb_buf_printf(b, "%s\"batch\": %s,\n", in, l->batch ? "true" : "false");
	gb_line_quantity_text(text, sizeof text, l);
	json_key_string(b, in, "quantity", text, 1);
	json_key_string(b, in, "unit", l->unit, 1);
	if (usage) {
		gb_line_base_text(text, sizeof text, l);
		json_key_string(b, in, l->sku[0] ? "gpu_seconds" : "tokens", text, 1);
	}
	gb_line_unit_price_text(text, sizeof text, l, minor);
	json_key_string(b, in, "unit_price", text, 1);
	json_key_money(b, in, "amount", l->amount, minor, 1);
	if (l->has_utilisation) {
		gb_decimal_format(text, sizeof text, l->utilisation, 0,
				  GB_QUANTITY_DIGITS, GB_ROUND_HALF_EVEN);
		json_key_string(b, in, "utilisation", text, 1);
	}
	if (l->has_remaining)
		json_key_money(b, in, "credit_remaining", l->remaining, minor, 1);
	gb_buf_printf(b, "%s\"records\": %llu\n", in,
		      (unsigned long long)l->records);
	gb_buf_puts(b, last ? "        }\n" : "        },\n");
}

int gb_invoice_write_json(const gb_invoice_set *s, gb_write_fn fn,
			  void *payload, gb_error *err)
{
	char from[GB_TIME_TEXT_MAX], to[GB_TIME_TEXT_MAX];
	const gb_counts *c = &s->counts;
	gb_buf b;
	mpz_t total;
	size_t i, j;
	int rc = 0;

	gb_buf_init(&b);
	gb_time_format(from, sizeof from, s->from);
	gb_time_format(to, sizeof to, s->to);
	gb_buf_puts(&b, "{\n");
	json_key_string(&b, "  ", "format", "gpubill-invoices/1", 1);
	json_key_string(&b, "  ", "prices", s->prices_name, 1);
	json_key_string(&b, "  ", "currency", s->currency, 1);
	gb_buf_printf(&b, "  \"minor_units\": %u,\n", s->minor_units);
	gb_buf_printf(&b, "  \"period\": {\"from\": \"%s\", \"to\": \"%s\"},\n",
		      from, to);
	gb_buf_puts(&b, s->ninvoices ? "  \"invoices\": [\n" : "  \"invoices\": [],\n");
	for (i = 0; i < s->ninvoices && rc == 0; i++) {
		const gb_invoice *inv = &s->invoices[i];

		gb_buf_puts(&b, "    {\n");
		json_key_string(&b, "      ", "customer", inv->customer, 1);
		json_key_money(&b, "      ", "total", inv->total, s->minor_units, 1);
		gb_buf_puts(&b, "      \"lines\": [\n");
		for (j = 0; j < inv->nlines; j++)
			write_line(&b, &inv->lines[j], j + 1, s->minor_units,
				   j + 1 == inv->nlines);
		gb_buf_puts(&b, "      ]\n");
		gb_buf_puts(&b, i + 1 == s->ninvoices ? "    }\n  ],\n" : "    },\n");
		rc = gb_buf_flush(&b, fn, payload, err);
	}
	if (rc == 0) {
		mpz_init(total);
		gb_invoice_set_total(s, total);
		gb_buf_puts(&b, "  \"summary\": {\n");
		gb_buf_printf(&b, "    \"records\": %llu,\n    \"billed\": %llu,\n"
			      "    \"rejected\": %llu,\n    \"duplicates\": %llu,\n"
			      "    \"outside_period\": %llu,\n    \"skipped\": %llu,\n",
			      (unsigned long long)c->read,
			      (unsigned long long)c->billed,
			      (unsigned long long)c->rejected,
			      (unsigned long long)c->duplicates,
			      (unsigned long long)c->outside_period,
			      (unsigned long long)c->skipped);
		gb_buf_printf(&b, "    \"invoices\": %zu,\n", s->ninvoices);
		json_key_money(&b, "    ", "total", total, s->minor_units, 0);
		gb_buf_puts(&b, "  }\n}\n");
		mpz_clear(total);
		rc = gb_buf_flush(&b, fn, payload, err);
	}
	gb_buf_free(&b);
	return rc;
}
