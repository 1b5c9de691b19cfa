/* invoice.c - the invoice set: accessors, lifetime, shared text helpers. */
#include "invoice_internal.h"
#include "internal.h"

#include <gpubill/money.h>
#include <stdio.h>
#include <string.h>

static const char *const kind_names[] = {
	"gpu_reserved", "gpu_on_demand", "gpu_spot", "gpu_spot_interrupted",
	"tokens_input", "tokens_cached_input", "tokens_output", "discount",
	"minimum_spend", "credit",
};

const char *gb_line_kind_name(gb_line_kind kind)
{
	if ((unsigned)kind >= sizeof kind_names / sizeof kind_names[0])
		return "unknown";
	return kind_names[kind];
}

gb_invoice_set *gb_invoice_set_new(const char *currency, unsigned minor_units,
				   const char *prices_name, int64_t from,
				   int64_t to)
{
	gb_invoice_set *s = gb_calloc(1, sizeof *s);

	if (!s)
		return NULL;
	s->prices_name = gb_strdup(prices_name ? prices_name : "");
	if (!s->prices_name) {
		gb_free(s);
		return NULL;
	}
	memcpy(s->currency, currency, 3);
	s->currency[3] = '\0';
	s->minor_units = minor_units;
	s->from = from;
	s->to = to;
	return s;
}

void gb_invoice_line_init(gb_invoice_line *l)
{
	memset(l, 0, sizeof *l);
	mpq_init(l->base_quantity);
	mpq_init(l->quantity);
	mpq_init(l->unit_price);
	mpz_init(l->amount);
	mpq_init(l->utilisation);
	mpz_init(l->remaining);
}

void gb_invoice_line_clear(gb_invoice_line *l)
{
	mpq_clear(l->base_quantity);
	mpq_clear(l->quantity);
	mpq_clear(l->unit_price);
	mpz_clear(l->amount);
	mpq_clear(l->utilisation);
	mpz_clear(l->remaining);
	/* Strings are owned by the line; the public view is const. */
	gb_free((char *)l->description);
	gb_free((char *)l->sku);
	gb_free((char *)l->model);
	gb_free((char *)l->region);
	gb_free((char *)l->reference);
}

void gb_invoice_set_free(gb_invoice_set *s)
{
	size_t i, j;

	if (!s)
		return;
	for (i = 0; i < s->ninvoices; i++) {
		gb_invoice *inv = &s->invoices[i];
		gb_invoice_line *lines = (gb_invoice_line *)inv->lines;

		for (j = 0; j < inv->nlines; j++)
			gb_invoice_line_clear(&lines[j]);
		gb_free(lines);
		gb_free((char *)inv->customer);
		mpz_clear(inv->total);
	}
	gb_free(s->invoices);
	gb_free(s->prices_name);
	gb_free(s);
}

size_t gb_invoice_set_count(const gb_invoice_set *s)
{
	return s ? s->ninvoices : 0;
}

const gb_invoice *gb_invoice_set_get(const gb_invoice_set *s, size_t i)
{
	return s && i < s->ninvoices ? &s->invoices[i] : NULL;
}

const char *gb_invoice_set_currency(const gb_invoice_set *s)
{
	return s->currency;
}

unsigned gb_invoice_set_minor_units(const gb_invoice_set *s)
{
	return s->minor_units;
}

const char *gb_invoice_set_prices_name(const gb_invoice_set *s)
{
	return s->prices_name;
}

void gb_invoice_set_period(const gb_invoice_set *s, int64_t *from, int64_t *to)
{
	if (from)
		*from = s->from;
	if (to)
		*to = s->to;
}

const gb_counts *gb_invoice_set_counts(const gb_invoice_set *s)
{
	return &s->counts;
}

void gb_invoice_set_total(const gb_invoice_set *s, mpz_t out)
{
	size_t i;

	mpz_set_ui(out, 0);
	for (i = 0; i < s->ninvoices; i++)
		mpz_add(out, out, s->invoices[i].total);
}

size_t gb_line_quantity_text(char *buf, size_t size, const gb_invoice_line *l)
{
	return gb_decimal_format(buf, size, l->quantity, 0, GB_QUANTITY_DIGITS,
				 GB_ROUND_HALF_EVEN);
}

size_t gb_line_unit_price_text(char *buf, size_t size,
			       const gb_invoice_line *l, unsigned minor_units)
{
	return gb_decimal_format(buf, size, l->unit_price, minor_units,
				 GB_DECIMAL_MAX_FRACTION, GB_ROUND_HALF_EVEN);
}

size_t gb_line_base_text(char *buf, size_t size, const gb_invoice_line *l)
{
	return gb_decimal_format(buf, size, l->base_quantity, 0,
				 GB_QUANTITY_DIGITS, GB_ROUND_HALF_EVEN);
}

/* --- growable text buffer ------------------------------------------------ */

void gb_buf_init(gb_buf *b)
{
	memset(b, 0, sizeof *b);
}

void gb_buf_free(gb_buf *b)
{
	gb_free(b->data);
	memset(b, 0, sizeof *b);
}

static int reserve(gb_buf *b, size_t extra)
{
	size_t cap;
	char *p;

	if (b->failed)
		return -1;
	if (b->len + extra + 1 <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 4096;
	while (cap < b->len + extra + 1)
		cap *= 2;
	p = gb_realloc(b->data, cap);
	if (!p) {
		b->failed = 1;
		return -1;
	}
	b->data = p;
	b->cap = cap;
	return 0;
}

void gb_buf_add(gb_buf *b, const char *s, size_t n)
{
	if (reserve(b, n) != 0)
		return;
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void gb_buf_puts(gb_buf *b, const char *s)
{
	gb_buf_add(b, s, strlen(s));
}

void gb_buf_printf(gb_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || reserve(b, (size_t)n) != 0)
		return;
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

void gb_buf_money(gb_buf *b, const mpz_t minor, unsigned minor_units)
{
	size_t n = gb_money_format(NULL, 0, minor, minor_units);

	if (reserve(b, n) != 0)
		return;
	gb_money_format(b->data + b->len, n + 1, minor, minor_units);
	b->len += n;
}

int gb_buf_flush(gb_buf *b, gb_write_fn fn, void *payload, gb_error *err)
{
	if (b->failed)
		return gb_error_set(err, GB_ENOMEM, "out of memory formatting output");
	if (b->len && fn(b->data, b->len, payload) != 0)
		return gb_error_set(err, GB_EIO, "writing output failed");
	b->len = 0;
	return 0;
}

/* s as a JSON string literal. */
void gb_buf_json_string(gb_buf *b, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s;

	gb_buf_add(b, "\"", 1);
	for (; *p; p++) {
		char esc[7] = { '\\', 'u', '0', '0', 0, 0, 0 };

		switch (*p) {
		case '"': gb_buf_add(b, "\\\"", 2); break;
		case '\\': gb_buf_add(b, "\\\\", 2); break;
		case '\n': gb_buf_add(b, "\\n", 2); break;
		case '\r': gb_buf_add(b, "\\r", 2); break;
		case '\t': gb_buf_add(b, "\\t", 2); break;
		default:
			if (*p < 0x20 || *p == 0x7f) {
				esc[4] = hex[*p >> 4];
				esc[5] = hex[*p & 15];
				gb_buf_add(b, esc, 6);
			} else {
				gb_buf_add(b, (const char *)p, 1);
			}
		}
	}
	gb_buf_add(b, "\"", 1);
}

/* -?digits(.digits)? : amounts and quantities are left alone. */
static int is_number(const char *s)
{
	const char *p = s;

	if (*p == '-')
		p++;
	if (*p < '0' || *p > '9')
		return 0;
	while (*p >= '0' && *p <= '9')
		p++;
	if (*p == '.') {
		p++;
		if (*p < '0' || *p > '9')
			return 0;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	return *p == '\0';
}

/*
 * s as one CSV cell (RFC 4180 quoting; a formula-like start gets a leading
 * apostrophe, OWASP "CSV injection"), then ',' or CRLF when last.
 */
void gb_buf_csv_cell(gb_buf *b, const char *s, int last)
{
	int quote = strpbrk(s, ",\"\r\n") != NULL;
	int neutralise = strchr("=+-@\t\r", s[0]) && s[0] && !is_number(s);
	const char *p;

	if (neutralise)
		quote = 1;
	if (quote)
		gb_buf_add(b, "\"", 1);
	if (neutralise)
		gb_buf_add(b, "'", 1);
	for (p = s; *p; p++) {
		if (*p == '"')
			gb_buf_add(b, "\"", 1);
		gb_buf_add(b, p, 1);
	}
	if (quote)
		gb_buf_add(b, "\"", 1);
	gb_buf_puts(b, last ? "\r\n" : ",");
}
