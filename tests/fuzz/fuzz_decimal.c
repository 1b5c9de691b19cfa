/*
 * fuzz_decimal.c - gb_decimal_parse, gb_round, gb_money_format and
 * gb_decimal_format, checked against each other.
 *
 * Input: byte 0 picks the flags, the minor units and the rounding mode,
 * byte 1 a buffer size for the truncation check; the rest is the decimal
 * text.  For an accepted text:
 *   - formatting it back with up to 18 digits gives the canonical spelling
 *     of the input (no leading or trailing zeros, no "-0"), and that parses
 *     to the same value;
 *   - rounding to minor units lands within one unit, on the side the mode
 *     asks for, and ties go where the mode says;
 *   - the money text of the rounded amount parses back to it exactly;
 *   - a short buffer gets a NUL-terminated prefix and the full length.
 * A refused text must come with a reason, and must be refused the same way
 * whether or not negatives are allowed, unless it starts with '-'.
 */
#include "fuzz_common.h"

#define TEXT_MAX 128

static char *canonical(char *out, const char *s, size_t len)
{
	size_t i = 0, o = 0, int_start, int_end, frac_start = 0, frac_end = 0;
	int negative = 0, zero = 1;

	if (s[0] == '-') {
		negative = 1;
		i = 1;
	}
	int_start = i;
	while (i < len && s[i] != '.')
		i++;
	int_end = i;
	if (i < len) {
		frac_start = i + 1;
		frac_end = len;
		while (frac_end > frac_start && s[frac_end - 1] == '0')
			frac_end--;
	}
	while (int_start + 1 < int_end && s[int_start] == '0')
		int_start++;
	for (i = int_start; i < int_end; i++)
		zero &= s[i] == '0';
	for (i = frac_start; i < frac_end; i++)
		zero &= s[i] == '0';
	if (negative && !zero)
		out[o++] = '-';
	memcpy(out + o, s + int_start, int_end - int_start);
	o += int_end - int_start;
	if (frac_end > frac_start) {
		out[o++] = '.';
		memcpy(out + o, s + frac_start, frac_end - frac_start);
		o += frac_end - frac_start;
	}
	out[o] = '\0';
	return out;
}

static void check_round(const mpq_t v, unsigned units, gb_rounding mode)
{
	mpq_t x, d;
	mpz_t m, p;
	int cmp_half;

	mpq_inits(x, d, NULL);
	mpz_inits(m, p, NULL);
	mpz_ui_pow_ui(p, 10, units);
	mpq_set_z(x, p);
	mpq_mul(x, x, v);           /* x = v scaled to minor units */
	gb_round(m, v, units, mode);
	mpq_set_z(d, m);
	mpq_sub(d, d, x);           /* d = m - x */
	{
		mpq_t one, half, ad;

		mpq_inits(one, half, ad, NULL);
		mpq_set_ui(one, 1, 1);
		mpq_set_ui(half, 1, 2);
		mpq_abs(ad, d);
		FUZZ_CHECK(mpq_cmp(ad, one) < 0, "round moved a whole unit");
		cmp_half = mpq_cmp(ad, half);
		switch (mode) {
		case GB_ROUND_DOWN:
			FUZZ_CHECK(mpz_cmpabs(m, mpq_numref(x)) <= 0 ||
				   mpq_sgn(d) == 0, "down went away from zero");
			FUZZ_CHECK(mpq_sgn(d) == 0 || mpq_sgn(d) != mpq_sgn(x),
				   "down went away from zero");
			break;
		case GB_ROUND_UP:
			FUZZ_CHECK(mpq_sgn(d) == 0 || mpq_sgn(d) == mpq_sgn(x),
				   "up went toward zero");
			break;
		case GB_ROUND_HALF_UP:
			FUZZ_CHECK(cmp_half <= 0, "half_up off by more than a half");
			FUZZ_CHECK(cmp_half < 0 || mpq_sgn(d) == mpq_sgn(x),
				   "half_up tie not away from zero");
			break;
		case GB_ROUND_HALF_EVEN:
			FUZZ_CHECK(cmp_half <= 0, "half_even off by more than a half");
			FUZZ_CHECK(cmp_half < 0 || mpz_even_p(m),
				   "half_even tie to an odd neighbour");
			break;
		}
		mpq_clears(one, half, ad, NULL);
	}

	/* The money text of m is m / 10^units exactly. */
	{
		char buf[TEXT_MAX + 64];
		size_t n = gb_money_format(buf, sizeof buf, m, units);
		const char *why = NULL, *dot;
		mpq_t back, want;

		FUZZ_CHECK(n == strlen(buf), "money_format length %zu vs %zu", n,
			   strlen(buf));
		dot = strchr(buf, '.');
		FUZZ_CHECK(units == 0 ? dot == NULL
				      : dot && strlen(dot + 1) == units,
			   "'%s' does not show %u decimals", buf, units);
		mpq_inits(back, want, NULL);
		FUZZ_CHECK(gb_decimal_parse(back, buf, n, GB_DECIMAL_ALLOW_NEGATIVE,
					    &why) == 0 || units > 18 ||
			   mpz_sizeinbase(m, 10) > 40 + units,
			   "money text '%s' does not parse: %s", buf, why);
		if (units <= 18 && mpz_sizeinbase(m, 10) <= 40) {
			mpq_set_z(want, m);
			mpq_set_z(x, p);
			mpq_div(want, want, x);
			FUZZ_CHECK(mpq_equal(back, want), "'%s' is not the amount",
				   buf);
		}
		mpq_clears(back, want, NULL);
	}
	mpq_clears(x, d, NULL);
	mpz_clears(m, p, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s, *why = NULL, *why2 = NULL;
	unsigned flags, units, small;
	gb_rounding mode;
	char text[TEXT_MAX + 64], canon[TEXT_MAX + 8], cut[TEXT_MAX + 64];
	size_t len, n, n2;
	mpq_t v, v2;
	int rc, rc2;

	if (size < 2 || size - 2 > TEXT_MAX)
		return 0;
	flags = data[0] & 1u;
	units = (data[0] >> 1) % 19u;
	mode = (gb_rounding)((data[0] >> 6) & 3u);
	small = data[1];
	s = (const char *)data + 2;
	len = size - 2;

	mpq_inits(v, v2, NULL);
	rc = gb_decimal_parse(v, s, len, flags, &why);
	rc2 = gb_decimal_parse(v2, s, len, flags ^ 1u, &why2);
	if (len == 0 || s[0] != '-') {
		FUZZ_CHECK(rc == rc2, "the negative flag changed a '%.*s'",
			   (int)len, s);
	} else {
		FUZZ_CHECK(flags || rc != 0, "'-' accepted without the flag");
	}
	if (rc) {
		FUZZ_CHECK(rc == GB_ESYNTAX, "parse returned %d", rc);
		FUZZ_CHECK(why && why[0], "refused without a reason");
		goto out;
	}

	/* Canonical text, and back. */
	n = gb_decimal_format(text, sizeof text, v, 0, 18, GB_ROUND_HALF_EVEN);
	FUZZ_CHECK(n == strlen(text), "decimal_format length");
	canonical(canon, s, len);
	FUZZ_CHECK(strcmp(text, canon) == 0, "'%.*s' formats as '%s', want '%s'",
		   (int)len, s, text, canon);
	FUZZ_CHECK(gb_decimal_parse(v2, text, n, GB_DECIMAL_ALLOW_NEGATIVE,
				    &why2) == 0 && mpq_equal(v, v2),
		   "'%s' does not parse back", text);

	/* snprintf-style truncation. */
	small %= (unsigned)(n + 2);
	memset(cut, 'X', sizeof cut);
	n2 = gb_decimal_format(cut, small, v, 0, 18, GB_ROUND_HALF_EVEN);
	FUZZ_CHECK(n2 == n, "truncated call reports %zu, not %zu", n2, n);
	if (small > 0)
		FUZZ_CHECK(strlen(cut) == (small - 1 < n ? small - 1 : n) &&
			   memcmp(cut, text, strlen(cut)) == 0,
			   "truncated text '%s' of '%s' in %u bytes", cut, text,
			   small);
	else
		FUZZ_CHECK(cut[0] == 'X', "wrote into a zero-size buffer");

	/* Fewer digits, rounded with the mode; at least min_frac shown. */
	{
		unsigned max_frac = units, min_frac = units / 2;
		const char *dot;
		mpz_t m;

		n = gb_decimal_format(text, sizeof text, v, min_frac, max_frac,
				      mode);
		FUZZ_CHECK(n == strlen(text), "decimal_format length");
		dot = strchr(text, '.');
		FUZZ_CHECK(dot ? strlen(dot + 1) >= min_frac &&
				 strlen(dot + 1) <= max_frac : min_frac == 0,
			   "'%s' with %u..%u decimals", text, min_frac, max_frac);
		mpz_init(m);
		gb_round(m, v, max_frac, mode);
		FUZZ_CHECK(gb_decimal_parse(v2, text, n, GB_DECIMAL_ALLOW_NEGATIVE,
					    &why2) == 0, "'%s' unparsable", text);
		mpq_set_z(v, m);
		mpz_ui_pow_ui(m, 10, max_frac);
		mpq_set_den(v, m);
		mpq_canonicalize(v);
		FUZZ_CHECK(mpq_equal(v, v2), "'%s' is not the rounded value", text);
		mpz_clear(m);
		/* v was overwritten; parse the input again for check_round. */
		rc = gb_decimal_parse(v, s, len, flags, &why);
		FUZZ_CHECK(rc == 0, "second parse failed");
	}
	check_round(v, units, mode);
out:
	mpq_clears(v, v2, NULL);
	return 0;
}
