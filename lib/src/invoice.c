/* invoice.c - the invoice set: accessors, lifetime, shared text helpers. */
#include "invoice_internal.h"
#include "internal.h"

#include <gpubill/money.h>
#include <stdio.h>
#include <string.h>

const gb_kind_text gb_kind_texts[GB_NKINDS] = {
#define K(s) { s, sizeof(s) - 1 }
	K("gpu_reserved"), K("gpu_on_demand"), K("gpu_spot"),
	K("gpu_spot_interrupted"), K("tokens_input"), K("tokens_cached_input"),
	K("tokens_output"), K("discount"), K("minimum_spend"), K("credit"),
#undef K
};

const char *gb_line_kind_name(gb_line_kind kind)
{
	if ((unsigned)kind >= GB_NKINDS)
		return "unknown";
	return gb_kind_texts[kind].name;
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
	mpz_init(s->streamed_total);
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
}

static void invoice_clear(gb_invoice *inv, int string_blocks)
{
	gb_invoice_line *lines = (gb_invoice_line *)inv->lines;
	size_t j;

	for (j = 0; j < inv->nlines; j++) {
		gb_invoice_line *l = &lines[j];

		gb_invoice_line_clear(l);
		if (string_blocks)
			continue;
		gb_free((char *)l->description);
		gb_free((char *)l->sku);
		gb_free((char *)l->model);
		gb_free((char *)l->region);
		gb_free((char *)l->reference);
	}
	gb_free(lines);
	/* with string blocks, the block of all the invoice's strings */
	gb_free((char *)inv->customer);
	mpz_clear(inv->total);
}

void gb_invoice_set_free(gb_invoice_set *s)
{
	size_t i;

	if (!s)
		return;
	for (i = 0; i < s->ninvoices; i++)
		invoice_clear(&s->invoices[i], s->string_blocks);
	gb_free(s->invoices);
	gb_free(s->prices_name);
	mpz_clear(s->streamed_total);
	gb_free(s);
}

/* Copy s (with its NUL) to *at and advance; returns the copy. */
static const char *put_str(char **at, const char *s)
{
	size_t n = strlen(s) + 1;
	char *d = *at;

	memcpy(d, s, n);
	*at += n;
	return d;
}

int gb_invoice_set_hold(gb_invoice_set *s, const gb_invoice *inv)
{
	gb_invoice *h;
	gb_invoice_line *lines;
	size_t i, bytes = strlen(inv->customer) + 1;
	char *block, *at;

	for (i = 0; i < inv->nlines; i++) {
		const gb_invoice_line *l = &inv->lines[i];

		bytes += strlen(l->description) + strlen(l->sku) +
			 strlen(l->model) + strlen(l->region) +
			 strlen(l->reference) + 5;
	}
	if (s->ninvoices == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		gb_invoice *v = cap > (size_t)-1 / sizeof *v ? NULL :
				gb_realloc(s->invoices, cap * sizeof *v);

		if (!v)
			return GB_ENOMEM;
		s->invoices = v;
		s->cap = cap;
	}
	block = gb_malloc(bytes);
	lines = inv->nlines ? gb_calloc(inv->nlines, sizeof *lines) : NULL;
	if (!block || (inv->nlines && !lines)) {
		gb_free(block);
		gb_free(lines);
		return GB_ENOMEM;
	}
	at = block;
	s->string_blocks = 1;
	h = &s->invoices[s->ninvoices++];
	h->customer = put_str(&at, inv->customer);
	h->nlines = inv->nlines;
	h->lines = lines;
	mpz_init_set(h->total, inv->total);
	for (i = 0; i < inv->nlines; i++) {
		const gb_invoice_line *l = &inv->lines[i];
		gb_invoice_line *d = &lines[i];

		gb_invoice_line_init(d);
		d->kind = l->kind;
		d->tier = l->tier;
		d->batch = l->batch;
		d->unit = l->unit;      /* a string constant */
		d->records = l->records;
		d->has_utilisation = l->has_utilisation;
		d->has_remaining = l->has_remaining;
		mpq_set(d->base_quantity, l->base_quantity);
		mpq_set(d->quantity, l->quantity);
		mpq_set(d->unit_price, l->unit_price);
		mpz_set(d->amount, l->amount);
		mpq_set(d->utilisation, l->utilisation);
		mpz_set(d->remaining, l->remaining);
		d->description = put_str(&at, l->description);
		d->sku = put_str(&at, l->sku);
		d->model = put_str(&at, l->model);
		d->region = put_str(&at, l->region);
		d->reference = put_str(&at, l->reference);
	}
	return 0;
}

size_t gb_invoice_set_count(const gb_invoice_set *s)
{
	return s ? s->ninvoices + s->nstreamed : 0;
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

	mpz_set(out, s->streamed_total);
	if (s->streamed_small) {
		gb_i128 v = s->streamed_small;
		gb_u128 mag = v < 0 ? -(gb_u128)v : (gb_u128)v;
		mpz_t t;

		mpz_init(t);
		mpz_set_ui(t, (unsigned long)(uint64_t)(mag >> 64));
		mpz_mul_2exp(t, t, 64);
		mpz_add_ui(t, t, (unsigned long)(uint64_t)mag);
		if (v < 0)
			mpz_sub(out, out, t);
		else
			mpz_add(out, out, t);
		mpz_clear(t);
	}
	for (i = 0; i < s->ninvoices; i++)
		mpz_add(out, out, s->invoices[i].total);
}

size_t gb_line_quantity_text(char *buf, size_t size, const gb_invoice_line *l)
{
	return gb_decimal_text(buf, size, l->quantity, 0, GB_QUANTITY_DIGITS);
}

size_t gb_line_unit_price_text(char *buf, size_t size,
			       const gb_invoice_line *l, unsigned minor_units)
{
	return gb_decimal_text(buf, size, l->unit_price, minor_units,
			       GB_DECIMAL_MAX_FRACTION);
}

size_t gb_line_base_text(char *buf, size_t size, const gb_invoice_line *l)
{
	return gb_decimal_text(buf, size, l->base_quantity, 0,
			       GB_QUANTITY_DIGITS);
}

/* --- number text ------------------------------------------------------------ */

static const char digit_pairs[] =
	"00010203040506070809101112131415161718192021222324252627282930313233343536373839"
	"40414243444546474849505152535455565758596061626364656667686970717273747576777879"
	"8081828384858687888990919293949596979899";

/* Decimal digits of v (1 for 0). */
static inline unsigned u64_digits(uint64_t v)
{
	/* 1233 / 4096 is a little over log10(2): t is the count of digits
	 * or one more; v | 1 has as many digits as v */
	uint64_t w = v | 1;
	unsigned t = (unsigned)((64 - __builtin_clzll(w)) * 1233) >> 12;

	return t + 1 - (w < gb_pow10_u64[t]);
}

/* The n lowest digits of v (leading zeros included), ending at end. */
static inline void put_digits(char *end, uint64_t v, unsigned n)
{
	for (; n >= 2; n -= 2) {
		uint64_t q = v / 100;

		end -= 2;
		memcpy(end, digit_pairs + 2 * (v - q * 100), 2);
		v = q;
	}
	if (n)
		*--end = (char)('0' + v % 10);
}

size_t gb_u64_text(char *buf, uint64_t v)
{
	unsigned n = u64_digits(v);

	put_digits(buf + n, v, n);
	return n;
}

size_t gb_u128_text(char *buf, gb_u128 v)
{
	/* 10^19: the low part of each step fits in a uint64_t */
	const uint64_t e19 = 10000000000000000000ull;
	uint64_t part[3];
	size_t np = 0, n, i;

	if (v <= (gb_u128)UINT64_MAX)
		return gb_u64_text(buf, (uint64_t)v);
	while (v > (gb_u128)UINT64_MAX) {
		part[np++] = (uint64_t)(v % e19);
		v /= e19;
	}
	n = gb_u64_text(buf, (uint64_t)v);
	while (np--) {
		uint64_t x = part[np];

		for (i = 19; i-- > 0; x /= 10)
			buf[n + i] = (char)('0' + x % 10);
		n += 19;
	}
	return n;
}

int gb_invoice_fast = 1;

/* 10^0 .. 10^19, every power of ten a uint64_t holds */
const uint64_t gb_pow10_u64[20] = {
	1ull, 10ull, 100ull, 1000ull, 10000ull, 100000ull, 1000000ull,
	10000000ull, 100000000ull, 1000000000ull, 10000000000ull,
	100000000000ull, 1000000000000ull, 10000000000000ull,
	100000000000000ull, 1000000000000000ull, 10000000000000000ull,
	100000000000000000ull, 1000000000000000000ull,
	10000000000000000000ull,
};

/* Copy text of length n into buf as snprintf would; returns n. */
static size_t bounded(char *buf, size_t size, const char *text, size_t n)
{
	if (size > 0) {
		size_t k = n < size - 1 ? n : size - 1;

		memcpy(buf, text, k);
		buf[k] = '\0';
	}
	return n;
}

/* An mpz whose magnitude fits in 64 bits, as its magnitude. */
static int small_mpz(mpz_srcptr z, uint64_t *mag)
{
	if (mpz_size(z) > 1 || GMP_NUMB_BITS != 64)
		return 0;
	*mag = mpz_size(z) ? (uint64_t)mpz_getlimbn(z, 0) : 0;
	return 1;
}

/*
 * "[-]int[.frac]": the sign when the shown value is not zero, the integer
 * part, and frac[0..n) followed by zeros up to `units` digits, trailing
 * zeros dropped down to min_frac: what money.c's put_scaled writes.
 */
static size_t scaled_text(char *out, int negative, uint64_t whole,
			  const char *frac, unsigned n, unsigned units,
			  unsigned min_frac)
{
	unsigned keep = n, j;
	size_t len = 0;

	while (keep > 0 && frac[keep - 1] == '0')
		keep--;
	if (negative && (whole || keep))
		out[len++] = '-';
	len += gb_u64_text(out + len, whole);
	if (keep < min_frac)
		keep = min_frac;
	if (keep > units)
		keep = units;
	if (keep == 0)
		return len;
	out[len++] = '.';
	for (j = 0; j < keep; j++)
		out[len + j] = j < n ? frac[j] : '0';
	return len + keep;
}

/*
 * The decimal text of |num| / den (den < 2^59, so ten remainders fit),
 * rounded half-even at max_frac digits: the digits come from long
 * division, and stop early when the remainder is zero.  Returns its
 * length (out needs 64 bytes).
 */
static size_t fraction_text(char *out, int negative, uint64_t num,
			    uint64_t den, unsigned min_frac, unsigned max_frac)
{
	uint64_t whole = num / den, rem = num % den;
	char frac[20];
	unsigned n = 0;

	while (n < max_frac && rem) {
		rem *= 10;
		frac[n++] = (char)('0' + rem / den);
		rem %= den;
	}
	if (rem) {
		/* n == max_frac digits shown; round the rest, half to even */
		int odd = n ? (frac[n - 1] - '0') & 1 : (int)(whole & 1);

		if (2 * rem > den || (2 * rem == den && odd)) {
			unsigned i = n;

			while (i > 0 && frac[i - 1] == '9')
				frac[--i] = '0';
			if (i > 0)
				frac[i - 1]++;
			else
				whole++;   /* cannot wrap: whole < 2^64 / 10 here */
		}
	}
	return scaled_text(out, negative, whole, frac, n, max_frac, min_frac);
}

/*
 * whole.frac, frac being k digits (frac < 10^k), written as money.c's
 * put_scaled writes a number scaled by 10^k: the sign when it is not zero,
 * trailing fractional zeros dropped down to min_frac, or zeros added up to
 * it (min_frac <= 19).  out needs 42 bytes.
 */
static inline size_t fixed_text(char *out, int negative, uint64_t whole,
				uint64_t frac, unsigned k, unsigned min_frac)
{
	unsigned keep = k;
	size_t len = 0;

	if (negative && (whole || frac))
		out[len++] = '-';
	len += gb_u64_text(out + len, whole);
	if (min_frac < k) {
		if (frac == 0) {
			keep = 0;
		} else {
			while (frac % 10000 == 0) {
				frac /= 10000;
				keep -= 4;
			}
			if (frac % 100 == 0) {
				frac /= 100;
				keep -= 2;
			}
			if (frac % 10 == 0) {
				frac /= 10;
				keep--;
			}
		}
	}
	if (keep < min_frac) {
		frac *= gb_pow10_u64[min_frac - keep];
		keep = min_frac;
	}
	if (keep == 0)
		return len;
	out[len++] = '.';
	put_digits(out + len + keep, frac, keep);
	return len + keep;
}

#define NOT_FAST GB_NOT_FAST

size_t gb_decimal_fast(char *out, const mpq_t v, unsigned min_frac,
		       unsigned max_frac)
{
	uint64_t num, den, x, q, r, whole, frac;
	unsigned j;
	int negative;

	if (max_frac < min_frac)
		max_frac = min_frac;
	if (!gb_invoice_fast || max_frac > 19 || !small_mpz(mpq_numref(v), &num) ||
	    !small_mpz(mpq_denref(v), &den) || den == 0 || den >> 59 ||
	    (den > 1 && num >> 60))
		return NOT_FAST;
	negative = mpz_sgn(mpq_numref(v)) < 0;
	if (den == 1) {
		if (min_frac == 0 && !negative)   /* a count: GPU-seconds, tokens */
			return gb_u64_text(out, num);
		return fixed_text(out, negative, num, 0, max_frac, min_frac);
	}
	/*
	 * num x 10^j fits in 64 bits for j up to 19 - digits(num).  When j
	 * reaches max_frac, one division and its remainder round the value
	 * at max_frac digits, half to even (as gb_round).  Otherwise the value
	 * may still be exact at j digits (most prices are); if not, long
	 * division digit by digit.
	 */
	j = 19 - u64_digits(num);
	if (j > max_frac)
		j = max_frac;
	x = num * gb_pow10_u64[j];
	q = x / den;
	r = x % den;
	if (j < max_frac && r)
		return fraction_text(out, negative, num, den, min_frac, max_frac);
	/* den < 2^59: 2r cannot wrap */
	if (r && (2 * r > den || (2 * r == den && (q & 1))))
		q++;
	if (j == 6) {
		/* the usual (quantities): a constant divisor */
		whole = q / 1000000;
		frac = q % 1000000;
	} else {
		whole = q / gb_pow10_u64[j];
		frac = q % gb_pow10_u64[j];
	}
	return fixed_text(out, negative, whole, frac, j, min_frac);
}

size_t gb_price_text(gb_invoice_writer *w, char *out, const mpq_t v,
		     unsigned min_frac, unsigned max_frac)
{
	uint64_t num, den;
	gb_price_memo *m;
	size_t n;
	int negative = mpz_sgn(mpq_numref(v)) < 0;

	if (!gb_invoice_fast || max_frac > 255 || min_frac > 255 ||
	    !small_mpz(mpq_numref(v), &num) ||
	    !small_mpz(mpq_denref(v), &den))
		return gb_decimal_fast(out, v, min_frac, max_frac);
	m = &w->memo[(((num * 0x9e3779b97f4a7c15ull) ^ (den * 0xc2b2ae3d27d4eb4full)) >>
		      40) % GB_PRICE_MEMO];
	if (m->num == num && m->den == den && m->negative == negative &&
	    m->min_frac == min_frac && m->max_frac == max_frac) {
		gb_put_short(out, m->text, m->len);
		return m->len;
	}
	n = gb_decimal_fast(out, v, min_frac, max_frac);
	if (n != NOT_FAST && n <= GB_PRICE_TEXT && den) {
		m->num = num;
		m->den = den;
		m->negative = (uint8_t)negative;
		m->min_frac = (uint8_t)min_frac;
		m->max_frac = (uint8_t)max_frac;
		m->len = (uint8_t)n;
		memcpy(m->text, out, n);
	}
	return n;
}

size_t gb_quantity_text(char *out, uint64_t base, int per)
{
	uint64_t q, r;

	_Static_assert(GB_QUANTITY_DIGITS == 6, "the divisors below are 10^6");
	if (per == GB_PER_MILLION)   /* exact */
		return fixed_text(out, 0, base / 1000000, base % 1000000, 6, 0);
	/* base / 3600 at 6 digits: base x 10^6 / 3600 = base x 2500 / 9,
	 * rounded half to even (9 is odd: never exactly half) */
	q = base * 2500 / 9;
	r = base * 2500 - q * 9;
	if (2 * r > 9)
		q++;
	return fixed_text(out, 0, q / 1000000, q % 1000000, 6, 0);
}

size_t gb_money_fast(char *out, const mpz_t minor, unsigned minor_units)
{
	uint64_t mag;

	if (!gb_invoice_fast || minor_units > 19 || !small_mpz(minor, &mag))
		return NOT_FAST;
	if (minor_units == 2)   /* the usual: divisions by a constant */
		return fixed_text(out, mpz_sgn(minor) < 0, mag / 100, mag % 100, 2, 2);
	return fixed_text(out, mpz_sgn(minor) < 0, mag / gb_pow10_u64[minor_units],
			  mag % gb_pow10_u64[minor_units], minor_units, minor_units);
}

size_t gb_decimal_text(char *buf, size_t size, const mpq_t v,
		       unsigned min_frac, unsigned max_frac)
{
	char text[64];
	size_t n = gb_decimal_fast(text, v, min_frac, max_frac);

	if (n == NOT_FAST)
		return gb_decimal_format(buf, size, v, min_frac,
					 max_frac < min_frac ? min_frac : max_frac,
					 GB_ROUND_HALF_EVEN);
	return bounded(buf, size, text, n);
}

size_t gb_money_text(char *buf, size_t size, const mpz_t minor,
		     unsigned minor_units)
{
	char text[64];
	size_t n = gb_money_fast(text, minor, minor_units);

	if (n == NOT_FAST)
		return gb_money_format(buf, size, minor, minor_units);
	return bounded(buf, size, text, n);
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
		/* no room from now on: gb_buf_add's fast path stays shut */
		b->failed = 1;
		b->cap = b->len;
		return -1;
	}
	b->data = p;
	b->cap = cap;
	return 0;
}

void gb_buf_add_slow(gb_buf *b, const char *s, size_t n)
{
	if (reserve(b, n) != 0)
		return;
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
}

char *gb_buf_room_slow(gb_buf *b, size_t n)
{
	return reserve(b, n) != 0 ? NULL : b->data + b->len;
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
	size_t n;

	if (reserve(b, 64) != 0)
		return;
	/* straight into the buffer when the integer path takes it */
	n = gb_money_fast(b->data + b->len, minor, minor_units);
	if (n == NOT_FAST) {
		n = gb_money_format(b->data + b->len, b->cap - b->len, minor,
				    minor_units);
		if (n >= b->cap - b->len) {
			/* longer than what was reserved: again, with room */
			if (reserve(b, n) != 0)
				return;
			gb_money_format(b->data + b->len, n + 1, minor, minor_units);
		}
	}
	b->len += n;
	b->data[b->len] = '\0';
}

void gb_buf_counts_text(gb_buf *b, const gb_counts *c)
{
	gb_buf_printf(b, "%llu read, %llu billed, %llu rejected, %llu duplicates, "
		      "%llu outside period",
		      (unsigned long long)c->read, (unsigned long long)c->billed,
		      (unsigned long long)c->rejected,
		      (unsigned long long)c->duplicates,
		      (unsigned long long)c->outside_period);
	if (c->skipped)
		gb_buf_printf(b, ", %llu skipped (other customers)",
			      (unsigned long long)c->skipped);
}

void gb_buf_counts_json(gb_buf *b, const gb_counts *c)
{
	gb_buf_printf(b, "    \"records\": %llu,\n    \"billed\": %llu,\n"
		      "    \"rejected\": %llu,\n    \"duplicates\": %llu,\n"
		      "    \"outside_period\": %llu,\n    \"skipped\": %llu,\n",
		      (unsigned long long)c->read,
		      (unsigned long long)c->billed,
		      (unsigned long long)c->rejected,
		      (unsigned long long)c->duplicates,
		      (unsigned long long)c->outside_period,
		      (unsigned long long)c->skipped);
}

void gb_buf_decimal(gb_buf *b, const mpq_t v, unsigned min_frac,
		    unsigned max_frac)
{
	size_t n;

	if (reserve(b, 64) != 0)
		return;
	n = gb_decimal_fast(b->data + b->len, v, min_frac, max_frac);
	if (n == NOT_FAST) {
		n = gb_decimal_text(b->data + b->len, b->cap - b->len, v,
				    min_frac, max_frac);
		if (n >= b->cap - b->len) {
			if (reserve(b, n) != 0)
				return;
			gb_decimal_text(b->data + b->len, n + 1, v, min_frac,
					max_frac);
		}
	}
	b->len += n;
	b->data[b->len] = '\0';
}

void gb_buf_u64(gb_buf *b, uint64_t v)
{
	if (reserve(b, 20) != 0)
		return;
	b->len += gb_u64_text(b->data + b->len, v);
	b->data[b->len] = '\0';
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

/* Bytes a JSON string holds as they are: not '"', '\\', controls, DEL. */
static const unsigned char json_plain[256] = {
	0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0, 0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,
	1,1,0,1,1,1,1,1,1,1,1,1,1,1,1,1, 1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,
	1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1, 1,1,1,1,1,1,1,1,1,1,1,1,0,1,1,1,
	1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1, 1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,0,
	1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1, 1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,
	1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1, 1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,
	1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1, 1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,
	1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1, 1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,
};

/*
 * Whether n bytes at s hold a byte JSON must escape: eight at a time
 * (a byte below 0x20, '"', '\\' or DEL shows as a set high bit in the
 * usual "has a byte less than / equal to" word tricks), the tail alone.
 */
int gb_json_needs_escape(const char *s, size_t n)
{
	const uint64_t ones = 0x0101010101010101ull, highs = ones << 7;
	size_t i = 0;

	for (; i + 8 <= n; i += 8) {
		uint64_t w, q, bs, del;

		memcpy(&w, s + i, 8);
		q = w ^ (ones * '"');
		bs = w ^ (ones * '\\');
		del = w ^ (ones * 0x7f);
		/* (x - ones) & ~x & highs: some byte of x is zero (or x < 0x20
		 * for the first, with 0x20 in place of 0x01) */
		if ((((w - ones * 0x20) & ~w) | ((q - ones) & ~q) |
		     ((bs - ones) & ~bs) | ((del - ones) & ~del)) & highs)
			return 1;
	}
	for (; i < n; i++)
		if (!json_plain[(unsigned char)s[i]])
			return 1;
	return 0;
}

/* s as a JSON string literal; runs of plain bytes go in one piece. */
void gb_buf_json_string(gb_buf *b, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s, *run = p;
	char esc[6] = { '\\', 'u', '0', '0', 0, 0 };
	size_t n = strlen(s);

	if (!gb_json_needs_escape(s, n)) {
		/* the usual case: quotes around the bytes as they are */
		gb_buf_add(b, "\"", 1);
		gb_buf_add(b, s, n);
		gb_buf_add(b, "\"", 1);
		return;
	}
	gb_buf_add(b, "\"", 1);
	for (;; p++) {
		if (json_plain[*p])
			continue;
		if (p > run)
			gb_buf_add(b, (const char *)run, (size_t)(p - run));
		run = p + 1;
		switch (*p) {
		case '\0': gb_buf_add(b, "\"", 1); return;
		case '"': gb_buf_add(b, "\\\"", 2); break;
		case '\\': gb_buf_add(b, "\\\\", 2); break;
		case '\n': gb_buf_add(b, "\\n", 2); break;
		case '\r': gb_buf_add(b, "\\r", 2); break;
		case '\t': gb_buf_add(b, "\\t", 2); break;
		default:
			esc[4] = hex[*p >> 4];
			esc[5] = hex[*p & 15];
			gb_buf_add(b, esc, 6);
		}
	}
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
	int quote, neutralise;
	const char *p, *q;
	size_t n;

	/* the usual cell: no formula-like start, nothing to quote */
	if (s[0] != '=' && s[0] != '+' && s[0] != '-' && s[0] != '@' &&
	    s[0] != '\t' && s[0] != '\r') {
		for (n = 0; s[n] && s[n] != ',' && s[n] != '"' && s[n] != '\r' &&
			    s[n] != '\n'; n++)
			;
		if (!s[n]) {
			gb_buf_add(b, s, n);
			if (last)
				gb_buf_add(b, "\r\n", 2);
			else
				gb_buf_add(b, ",", 1);
			return;
		}
	}
	quote = strpbrk(s, ",\"\r\n") != NULL;
	neutralise = strchr("=+-@\t\r", s[0]) && s[0] && !is_number(s);
	if (neutralise)
		quote = 1;
	if (quote)
		gb_buf_add(b, "\"", 1);
	if (neutralise)
		gb_buf_add(b, "'", 1);
	/* each '"' doubled: up to and including it, then once more */
	for (p = s; (q = strchr(p, '"')) != NULL; p = q + 1)
		gb_buf_add(b, p, (size_t)(q - p) + 1), gb_buf_add(b, "\"", 1);
	gb_buf_add(b, p, strlen(p));
	if (quote)
		gb_buf_add(b, "\"", 1);
	if (last)
		gb_buf_add(b, "\r\n", 2);
	else
		gb_buf_add(b, ",", 1);
}

/* --- the incremental writer ------------------------------------------------ */

int gb_invoice_writer_new(gb_invoice_writer **out, gb_invoice_format format,
			  gb_write_fn fn, void *payload, gb_error *err)
{
	gb_invoice_writer *w;

	*out = NULL;
	if (!fn || (unsigned)format > GB_INVOICE_FOCUS)
		return gb_error_set(err, GB_EINVAL,
				    "gb_invoice_writer_new: unknown format or no sink");
	w = gb_calloc(1, sizeof *w);
	if (!w)
		return gb_error_set(err, GB_ENOMEM, "out of memory");
	w->format = format;
	w->fn = fn;
	w->payload = payload;
	gb_buf_init(&w->b);
	gb_buf_init(&w->aux);
	*out = w;
	return 0;
}

void gb_invoice_writer_free(gb_invoice_writer *w)
{
	if (!w)
		return;
	gb_buf_free(&w->b);
	gb_buf_free(&w->aux);
	gb_free(w->scratch);
	gb_free(w);
}

static void head(gb_invoice_writer *w, const gb_invoice_set *s)
{
	if (w->started)
		return;
	w->started = 1;
	switch (w->format) {
	case GB_INVOICE_TEXT: gb_text_head(w, s); break;
	case GB_INVOICE_CSV: gb_csv_head(w, s); break;
	case GB_INVOICE_FOCUS: gb_focus_head(w, s); break;
	default: gb_json_head(w, s); break;
	}
}

static int fail(gb_invoice_writer *w, gb_error *err, int rc)
{
	w->done = 1;
	if (rc == GB_ERANGE)
		return gb_error_set(err, rc, "amount too large to print");
	return gb_error_set(err, rc, "out of memory formatting output");
}

int gb_invoice_writer_add(gb_invoice_writer *w, const gb_invoice_set *s,
			  const gb_invoice *inv, gb_error *err)
{
	int rc;

	if (!w || w->done)
		return gb_error_set(err, GB_EINVAL,
				    "gb_invoice_writer_add: writer finished or failed");
	head(w, s);
	switch (w->format) {
	case GB_INVOICE_TEXT: rc = gb_text_invoice(w, s, inv); break;
	case GB_INVOICE_CSV: rc = gb_csv_invoice(w, s, inv); break;
	case GB_INVOICE_FOCUS: rc = gb_focus_invoice(w, s, inv); break;
	default: rc = gb_json_invoice(w, s, inv); break;
	}
	if (rc)
		return fail(w, err, rc);
	w->n++;
	if (w->b.len >= GB_WRITER_FLUSH || w->b.failed) {
		rc = gb_buf_flush(&w->b, w->fn, w->payload, err);
		if (rc)
			w->done = 1;
	}
	return rc;
}

int gb_invoice_writer_each(const gb_invoice_set *s, const gb_invoice *inv,
			   void *writer, gb_error *err)
{
	return gb_invoice_writer_add(writer, s, inv, err);
}

int gb_invoice_writer_finish(gb_invoice_writer *w, const gb_invoice_set *s,
			     gb_error *err)
{
	if (!w || w->done)
		return gb_error_set(err, GB_EINVAL,
				    "gb_invoice_writer_finish: writer finished or failed");
	head(w, s);
	switch (w->format) {
	case GB_INVOICE_TEXT: gb_text_tail(w, s); break;
	case GB_INVOICE_CSV: gb_csv_tail(w, s); break;
	case GB_INVOICE_FOCUS: gb_focus_tail(w, s); break;
	default: gb_json_tail(w, s); break;
	}
	w->done = 1;
	return gb_buf_flush(&w->b, w->fn, w->payload, err);
}

/* The collect-all writers: every held invoice through one writer. */
static int write_all(const gb_invoice_set *s, gb_invoice_format format,
		     gb_write_fn fn, void *payload, gb_error *err)
{
	gb_invoice_writer *w;
	size_t i;
	int rc = gb_invoice_writer_new(&w, format, fn, payload, err);

	for (i = 0; rc == 0 && i < s->ninvoices; i++)
		rc = gb_invoice_writer_add(w, s, &s->invoices[i], err);
	if (rc == 0)
		rc = gb_invoice_writer_finish(w, s, err);
	gb_invoice_writer_free(w);
	return rc;
}

int gb_invoice_write_text(const gb_invoice_set *s, gb_write_fn fn,
			  void *payload, gb_error *err)
{
	return write_all(s, GB_INVOICE_TEXT, fn, payload, err);
}

int gb_invoice_write_csv(const gb_invoice_set *s, gb_write_fn fn,
			 void *payload, gb_error *err)
{
	return write_all(s, GB_INVOICE_CSV, fn, payload, err);
}

int gb_invoice_write_json(const gb_invoice_set *s, gb_write_fn fn,
			  void *payload, gb_error *err)
{
	return write_all(s, GB_INVOICE_JSON, fn, payload, err);
}

int gb_invoice_write_focus(const gb_invoice_set *s, gb_write_fn fn,
			   void *payload, gb_error *err)
{
	return write_all(s, GB_INVOICE_FOCUS, fn, payload, err);
}
