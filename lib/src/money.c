/*
 * money.c - exact decimal money: parse decimal strings into rationals,
 * round once to minor units, format for people.
 *
 * Nothing here goes through binary floating point or the C locale: digits
 * are checked byte by byte and every value is a GMP integer or rational.
 */
#include "internal.h"

#include <gpubill/money.h>
#include <string.h>

/*
 * Longest integer part gb_decimal_parse takes.  Real prices have a handful
 * of digits; the cap only keeps a hostile input from costing a bignum.
 */
#define GB_DECIMAL_MAX_INTEGER 40

/* Digit strings up to this long are formatted without a heap buffer. */
#define GB_SMALL_DIGITS 80

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static size_t count_digits(const char *s, size_t len)
{
	size_t n = 0;

	while (n < len && is_digit(s[n]))
		n++;
	return n;
}

static int syntax(const char **why, const char *reason)
{
	if (why)
		*why = reason;
	return GB_ESYNTAX;
}

/* Explain why byte c cannot appear where the parser found it. */
static const char *unexpected(char c)
{
	switch (c) {
	case 'e':
	case 'E':
		return "exponent notation is not allowed";
	case '+':
		return "a '+' sign is not allowed";
	case '.':
		return "a decimal point needs digits on both sides";
	case ' ':
	case '\t':
	case '\n':
	case '\r':
		return "spaces are not allowed";
	case ',':
	case '_':
		return "digit grouping is not allowed; use '.' as the decimal point";
	case '\0':
		return "a NUL byte is not allowed";
	default:
		return "not a decimal number";
	}
}

/*
 * Set out to the digits int_part ++ frac_part over 10^frac_len.  The
 * characters are known to be '0'..'9', so mpz_set_str cannot meet the
 * whitespace it would silently skip.
 */
static void set_scaled(mpq_t out, const char *int_part, size_t int_len,
		       const char *frac_part, size_t frac_len, int negative)
{
	char digits[GB_DECIMAL_MAX_INTEGER + GB_DECIMAL_MAX_FRACTION + 1];

	memcpy(digits, int_part, int_len);
	if (frac_len > 0)
		memcpy(digits + int_len, frac_part, frac_len);
	digits[int_len + frac_len] = '\0';
	mpz_set_str(mpq_numref(out), digits, 10);
	mpz_ui_pow_ui(mpq_denref(out), 10, frac_len);
	mpq_canonicalize(out);
	if (negative)
		mpq_neg(out, out);
}

int gb_decimal_parse(mpq_t out, const char *s, size_t len, unsigned flags,
		     const char **why)
{
	const char *int_part, *frac_part = NULL;
	size_t pos = 0, int_len, frac_len = 0;
	int negative = 0;

	if (len == 0)
		return syntax(why, "an empty string is not a number");
	if (s[0] == '-') {
		if (!(flags & GB_DECIMAL_ALLOW_NEGATIVE))
			return syntax(why, "negative amounts are not allowed here");
		negative = 1;
		pos = 1;
	}
	int_part = s + pos;
	int_len = count_digits(int_part, len - pos);
	if (int_len == 0)
		return syntax(why, pos < len ? unexpected(s[pos])
					     : "not a decimal number");
	if (int_len > GB_DECIMAL_MAX_INTEGER)
		return syntax(why, "more than 40 digits before the decimal point");
	pos += int_len;
	if (pos < len && s[pos] == '.') {
		frac_part = s + pos + 1;
		frac_len = count_digits(frac_part, len - pos - 1);
		if (frac_len == 0)
			return syntax(why, "a decimal point needs digits on both sides");
		if (frac_len > GB_DECIMAL_MAX_FRACTION)
			return syntax(why, "more than 18 fractional digits");
		pos += 1 + frac_len;
		if (pos < len && s[pos] == '.')
			return syntax(why, "more than one decimal point");
	}
	if (pos < len)
		return syntax(why, unexpected(s[pos]));
	set_scaled(out, int_part, int_len, frac_part, frac_len, negative);
	return 0;
}

void gb_round(mpz_t out, const mpq_t value, unsigned minor_units,
	      gb_rounding mode)
{
	mpz_srcptr den = mpq_denref(value);
	mpz_t scaled, rem;
	int sign, away = 0, half;

	mpz_inits(scaled, rem, NULL);
	mpz_ui_pow_ui(scaled, 10, minor_units);
	mpz_mul(scaled, scaled, mpq_numref(value));
	sign = mpz_sgn(scaled);
	/* Truncating division: the quotient is already rounded toward zero. */
	mpz_tdiv_qr(out, rem, scaled, den);
	if (mpz_sgn(rem) != 0) {
		/* Compare the dropped part with one half: |2r| vs the denominator. */
		mpz_mul_2exp(rem, rem, 1);
		half = mpz_cmpabs(rem, den);
		switch (mode) {
		case GB_ROUND_DOWN:
			break;
		case GB_ROUND_UP:
			away = 1;
			break;
		case GB_ROUND_HALF_UP:
			away = half >= 0;
			break;
		case GB_ROUND_HALF_EVEN:
		default:
			away = half > 0 || (half == 0 && mpz_odd_p(out));
			break;
		}
	}
	if (away && sign > 0)
		mpz_add_ui(out, out, 1);
	else if (away && sign < 0)
		mpz_sub_ui(out, out, 1);
	mpz_clears(scaled, rem, NULL);
}

/* A bounded writer: counts every byte, stores what fits, like snprintf. */
struct sink {
	char *buf;
	size_t size;
	size_t len;
};

static void sink_put(struct sink *k, const char *p, size_t n)
{
	size_t room;

	if (k->len + 1 < k->size) {
		room = k->size - 1 - k->len;
		memcpy(k->buf + k->len, p, n < room ? n : room);
	}
	k->len += n;
}

static size_t sink_finish(struct sink *k)
{
	if (k->size > 0)
		k->buf[k->len < k->size ? k->len : k->size - 1] = '\0';
	return k->len;
}

/*
 * Fractional digit j (0-based) of the unsigned digit string abs, read as an
 * integer scaled by 10^units: short strings have implied leading zeros.
 */
static char frac_digit(const char *abs, size_t n, unsigned units, size_t j)
{
	size_t lead = n >= units ? 0 : units - n;

	return j < lead ? '0' : abs[n + j - units];
}

/*
 * Write digits (mpz_get_str output, scaled by 10^units) as "int.frac",
 * dropping trailing fractional zeros while more than min_frac remain.
 */
static void put_scaled(struct sink *k, const char *digits, unsigned units,
		       unsigned min_frac)
{
	size_t n, keep = units, j;

	/* mpz_get_str never writes "-0", so a sign means a non-zero value. */
	if (digits[0] == '-') {
		sink_put(k, "-", 1);
		digits++;
	}
	n = strlen(digits);
	while (keep > min_frac && frac_digit(digits, n, units, keep - 1) == '0')
		keep--;
	if (n > units)
		sink_put(k, digits, n - units);
	else
		sink_put(k, "0", 1);
	if (keep == 0)
		return;
	sink_put(k, ".", 1);
	for (j = 0; j < keep; j++) {
		char c = frac_digit(digits, n, units, j);

		sink_put(k, &c, 1);
	}
}

/* Format minor (scaled by 10^units) with the fractional digits trimmed. */
static size_t format_scaled(char *buf, size_t size, const mpz_t minor,
			    unsigned units, unsigned min_frac)
{
	struct sink k = { buf, size, 0 };
	char small[GB_SMALL_DIGITS + 2];
	char *digits = small;
	size_t need = mpz_sizeinbase(minor, 10) + 2;

	if (need > sizeof small) {
		digits = gb_malloc(need);
		/* GMP aborts on exhaustion anyway; give back an empty text. */
		if (!digits)
			return sink_finish(&k);
	}
	mpz_get_str(digits, 10, minor);
	put_scaled(&k, digits, units, min_frac);
	if (digits != small)
		gb_free(digits);
	return sink_finish(&k);
}

size_t gb_money_format(char *buf, size_t size, const mpz_t minor,
		       unsigned minor_units)
{
	return format_scaled(buf, size, minor, minor_units, minor_units);
}

size_t gb_decimal_format(char *buf, size_t size, const mpq_t value,
			 unsigned min_frac, unsigned max_frac,
			 gb_rounding mode)
{
	mpz_t scaled;
	size_t n;

	/* A caller asking for more digits than it allows gets the minimum. */
	if (max_frac < min_frac)
		max_frac = min_frac;
	mpz_init(scaled);
	gb_round(scaled, value, max_frac, mode);
	n = format_scaled(buf, size, scaled, max_frac, min_frac);
	mpz_clear(scaled);
	return n;
}

static const char *const rounding_names[] = {
	[GB_ROUND_HALF_EVEN] = "half_even",
	[GB_ROUND_HALF_UP] = "half_up",
	[GB_ROUND_DOWN] = "down",
	[GB_ROUND_UP] = "up",
};

int gb_rounding_parse(gb_rounding *out, const char *name)
{
	size_t i;

	if (!out || !name)
		return GB_EINVAL;
	for (i = 0; i < sizeof rounding_names / sizeof rounding_names[0]; i++) {
		if (strcmp(name, rounding_names[i]) == 0) {
			*out = (gb_rounding)i;
			return 0;
		}
	}
	return GB_EINVAL;
}

const char *gb_rounding_name(gb_rounding mode)
{
	if ((unsigned)mode >= sizeof rounding_names / sizeof rounding_names[0])
		return "unknown";
	return rounding_names[mode];
}
