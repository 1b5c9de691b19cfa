/*
 * test_money.c - decimal parsing, rounding and formatting.
 *
 * Every expected value below was worked out by hand; inputs to the rounding
 * tests are written as exact fractions so they do not depend on the parser.
 */
#include <check.h>
#include <gmp.h>
#include <gpubill/money.h>
#include <stdlib.h>
#include <string.h>

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

/* 10^30, written out once so the huge cases below stay readable. */
#define E30 "1000000000000000000000000000000"

/* Set q from "p/q" or "p" text; the test data is always well formed. */
static void q_set(mpq_t q, const char *text)
{
	ck_assert_int_eq(mpq_set_str(q, text, 10), 0);
	mpq_canonicalize(q);
}

/* ---- gb_decimal_parse: accepted ---------------------------------------- */

struct parse_ok {
	const char *text;
	unsigned flags;
	const char *expect; /* exact rational as "p/q" */
};

static const struct parse_ok parse_ok_cases[] = {
	{ "0", 0, "0" },
	{ "2.50", 0, "5/2" },
	{ "2.49", 0, "249/100" },
	{ "0.95", 0, "19/20" },
	{ "1.625", 0, "13/8" },
	{ "-1.625", GB_DECIMAL_ALLOW_NEGATIVE, "-13/8" },
	{ "007.5", 0, "15/2" },
	{ "00", 0, "0" },
	{ "0.0", 0, "0" },
	{ "-0", GB_DECIMAL_ALLOW_NEGATIVE, "0" },
	{ "-0.00", GB_DECIMAL_ALLOW_NEGATIVE, "0" },
	{ "1.000000000000000000", 0, "1" },
	{ "0.000000000000000001", 0, "1/1000000000000000000" },
	{ "0.123456789012345678", 0, "61728394506172839/500000000000000000" },
	{ "123456789012345678901234567890", 0,
	  "123456789012345678901234567890" },
	{ "1234567890123456789012345678901234567890", 0,
	  "1234567890123456789012345678901234567890" },
	{ E30 ".005", 0, "200000000000000000000000000000001/200" },
	{ "10", GB_DECIMAL_ALLOW_NEGATIVE, "10" },
	{ "-10", GB_DECIMAL_ALLOW_NEGATIVE, "-10" },
};

START_TEST(test_parse_accepts)
{
	const struct parse_ok *c = &parse_ok_cases[_i];
	const char *why = "untouched";
	mpq_t got, want;

	mpq_inits(got, want, NULL);
	q_set(want, c->expect);
	ck_assert_msg(gb_decimal_parse(got, c->text, strlen(c->text), c->flags,
				       &why) == 0,
		      "\"%s\" rejected: %s", c->text, why);
	ck_assert_msg(mpq_equal(got, want), "\"%s\" parsed wrong", c->text);
	ck_assert_int_ge(mpz_sgn(mpq_denref(got)), 1);
	mpq_clears(got, want, NULL);
}
END_TEST

START_TEST(test_parse_respects_len)
{
	mpq_t got, want;

	mpq_inits(got, want, NULL);
	q_set(want, "5/2");
	/* Only the first len bytes count; the rest is someone else's text. */
	ck_assert_int_eq(gb_decimal_parse(got, "2.50xyz", 4, 0, NULL), 0);
	ck_assert(mpq_equal(got, want));
	q_set(want, "2");
	ck_assert_int_eq(gb_decimal_parse(got, "2.50", 1, 0, NULL), 0);
	ck_assert(mpq_equal(got, want));
	mpq_clears(got, want, NULL);
}
END_TEST

/* ---- gb_decimal_parse: rejected ---------------------------------------- */

struct parse_bad {
	const char *text;
	size_t len; /* 0: strlen(text) */
	unsigned flags;
	const char *why;
};

#define NEG GB_DECIMAL_ALLOW_NEGATIVE
#define POINT "a decimal point needs digits on both sides"
#define EXPONENT "exponent notation is not allowed"
#define NOT_NUMBER "not a decimal number"
#define SPACES "spaces are not allowed"
#define GROUPING "digit grouping is not allowed; use '.' as the decimal point"

static const struct parse_bad parse_bad_cases[] = {
	{ "", 0, NEG, "an empty string is not a number" },
	{ "1e3", 0, NEG, EXPONENT },
	{ "1E3", 0, NEG, EXPONENT },
	{ "1.5e3", 0, NEG, EXPONENT },
	{ "1e-3", 0, NEG, EXPONENT },
	{ "e3", 0, NEG, EXPONENT },
	{ ".5", 0, NEG, POINT },
	{ "-.5", 0, NEG, POINT },
	{ "5.", 0, NEG, POINT },
	{ ".", 0, NEG, POINT },
	{ "+5", 0, NEG, "a '+' sign is not allowed" },
	{ " 5", 0, NEG, SPACES },
	{ "5 ", 0, NEG, SPACES },
	{ "1.5 ", 0, NEG, SPACES },
	{ "\t5", 0, NEG, SPACES },
	{ "5\n", 0, NEG, SPACES },
	{ "- 5", 0, NEG, SPACES },
	{ "0x10", 0, NEG, NOT_NUMBER },
	{ "1,5", 0, NEG, GROUPING },
	{ "1,000.00", 0, NEG, GROUPING },
	{ "1_000", 0, NEG, GROUPING },
	{ "--1", 0, NEG, NOT_NUMBER },
	{ "-", 0, NEG, NOT_NUMBER },
	{ "5-", 0, NEG, NOT_NUMBER },
	{ "abc", 0, NEG, NOT_NUMBER },
	{ "NaN", 0, NEG, NOT_NUMBER },
	{ "Infinity", 0, NEG, NOT_NUMBER },
	{ "$5", 0, NEG, NOT_NUMBER },
	{ "5%", 0, NEG, NOT_NUMBER },
	{ "\xd9\xa1", 0, NEG, NOT_NUMBER }, /* ARABIC-INDIC DIGIT ONE */
	{ "1.2.3", 0, NEG, "more than one decimal point" },
	{ "1..2", 0, NEG, POINT },
	{ "0.1234567890123456789", 0, NEG, "more than 18 fractional digits" },
	{ "1\0", 2, NEG, "a NUL byte is not allowed" },
	{ "1\0.5", 4, NEG, "a NUL byte is not allowed" },
	{ "\0", 1, NEG, "a NUL byte is not allowed" },
	{ "-5", 0, 0, "negative amounts are not allowed here" },
	{ "-0", 0, 0, "negative amounts are not allowed here" },
	{ "12345678901234567890123456789012345678901", 0, NEG,
	  "more than 40 digits before the decimal point" },
};

START_TEST(test_parse_rejects)
{
	const struct parse_bad *c = &parse_bad_cases[_i];
	size_t len = c->len ? c->len : strlen(c->text);
	const char *why = NULL;
	mpq_t got;

	mpq_init(got);
	ck_assert_msg(gb_decimal_parse(got, c->text, len, c->flags, &why) ==
			      GB_ESYNTAX,
		      "case %d accepted", _i);
	ck_assert_ptr_nonnull(why);
	ck_assert_msg(strcmp(why, c->why) == 0, "case %d: why \"%s\", want \"%s\"",
		      _i, why, c->why);
	/* A NULL why is allowed too. */
	ck_assert_int_eq(gb_decimal_parse(got, c->text, len, c->flags, NULL),
			 GB_ESYNTAX);
	mpq_clear(got);
}
END_TEST

/* ---- gb_round ------------------------------------------------------------ */

struct round_case {
	const char *value; /* exact rational */
	unsigned units;
	/* expected minor units for half_even, half_up, down, up */
	const char *want[4];
};

static const struct round_case round_cases[] = {
	/* positive ties */
	{ "2345/1000", 2, { "234", "235", "234", "235" } },
	{ "2355/1000", 2, { "236", "236", "235", "236" } },
	{ "12345/1000", 2, { "1234", "1235", "1234", "1235" } },
	{ "1/2", 0, { "0", "1", "0", "1" } },
	{ "3/2", 0, { "2", "2", "1", "2" } },
	{ "5/2", 0, { "2", "3", "2", "3" } },
	{ "1/8", 2, { "12", "13", "12", "13" } },
	{ "10005/10000", 3, { "1000", "1001", "1000", "1001" } },
	{ "10015/10000", 3, { "1002", "1002", "1001", "1002" } },
	/* negative ties */
	{ "-2345/1000", 2, { "-234", "-235", "-234", "-235" } },
	{ "-2355/1000", 2, { "-236", "-236", "-235", "-236" } },
	{ "-1/2", 0, { "0", "-1", "0", "-1" } },
	{ "-5/2", 0, { "-2", "-3", "-2", "-3" } },
	{ "-1/8", 2, { "-12", "-13", "-12", "-13" } },
	{ "-10015/10000", 3, { "-1002", "-1002", "-1001", "-1002" } },
	/* not ties */
	{ "2344/1000", 2, { "234", "234", "234", "235" } },
	{ "2346/1000", 2, { "235", "235", "234", "235" } },
	{ "-2344/1000", 2, { "-234", "-234", "-234", "-235" } },
	{ "-2346/1000", 2, { "-235", "-235", "-234", "-235" } },
	{ "1/3", 2, { "33", "33", "33", "34" } },
	{ "2/3", 2, { "67", "67", "66", "67" } },
	{ "-1/3", 2, { "-33", "-33", "-33", "-34" } },
	{ "-2/3", 2, { "-67", "-67", "-66", "-67" } },
	{ "1/3", 0, { "0", "0", "0", "1" } },
	{ "5/3", 0, { "2", "2", "1", "2" } },
	{ "2/3", 3, { "667", "667", "666", "667" } },
	{ "1/1000", 2, { "0", "0", "0", "1" } },
	{ "-1/1000", 2, { "0", "0", "0", "-1" } },
	{ "4999/10000", 0, { "0", "0", "0", "1" } },
	{ "5001/10000", 0, { "1", "1", "0", "1" } },
	/* exact: every mode agrees */
	{ "5/2", 2, { "250", "250", "250", "250" } },
	{ "-5/4", 2, { "-125", "-125", "-125", "-125" } },
	{ "0", 2, { "0", "0", "0", "0" } },
	{ "0", 0, { "0", "0", "0", "0" } },
	{ "7", 0, { "7", "7", "7", "7" } },
	{ "7", 3, { "7000", "7000", "7000", "7000" } },
	{ "-13/8", 3, { "-1625", "-1625", "-1625", "-1625" } },
	/* huge: 10^30 + 0.005 and -(10^30 + 0.015) */
	{ "200000000000000000000000000000001/200", 2,
	  { "1" "00000000000000000000000000000000",
	    "1" "00000000000000000000000000000001",
	    "1" "00000000000000000000000000000000",
	    "1" "00000000000000000000000000000001" } },
	{ "-200000000000000000000000000000003/200", 2,
	  { "-1" "00000000000000000000000000000002",
	    "-1" "00000000000000000000000000000002",
	    "-1" "00000000000000000000000000000001",
	    "-1" "00000000000000000000000000000002" } },
	/* a huge denominator: 1/(3 * 10^30) rounds to nothing except up */
	{ "1/3" "000000000000000000000000000000", 2, { "0", "0", "0", "1" } },
};

static const gb_rounding all_modes[4] = {
	GB_ROUND_HALF_EVEN, GB_ROUND_HALF_UP, GB_ROUND_DOWN, GB_ROUND_UP
};

START_TEST(test_round)
{
	const struct round_case *c = &round_cases[_i];
	mpq_t v;
	mpz_t got, want;
	int m;

	mpq_init(v);
	mpz_inits(got, want, NULL);
	q_set(v, c->value);
	for (m = 0; m < 4; m++) {
		ck_assert_int_eq(mpz_set_str(want, c->want[m], 10), 0);
		mpz_set_si(got, 12345); /* stale contents must not leak in */
		gb_round(got, v, c->units, all_modes[m]);
		ck_assert_msg(mpz_cmp(got, want) == 0,
			      "%s at %u places, %s: want %s",
			      c->value, c->units, gb_rounding_name(all_modes[m]),
			      c->want[m]);
	}
	mpz_clears(got, want, NULL);
	mpq_clear(v);
}
END_TEST

/* ---- gb_money_format ----------------------------------------------------- */

struct money_case {
	const char *minor;
	unsigned units;
	const char *want;
};

static const struct money_case money_cases[] = {
	{ "-123450", 2, "-1234.50" },
	{ "500", 0, "500" },
	{ "0", 2, "0.00" },
	{ "0", 0, "0" },
	{ "0", 3, "0.000" },
	{ "-5", 2, "-0.05" },
	{ "-99", 2, "-0.99" },
	{ "-100", 2, "-1.00" },
	{ "5", 3, "0.005" },
	{ "-1", 0, "-1" },
	{ "123", 2, "1.23" },
	{ "100", 2, "1.00" },
	{ "10", 2, "0.10" },
	{ "12345", 5, "0.12345" },
	{ "123456", 3, "123.456" },
	{ "1" "00000000000000000000000000000001", 2, E30 ".01" },
	{ "-1" "00000000000000000000000000000000", 2, "-" E30 ".00" },
};

START_TEST(test_money_format)
{
	const struct money_case *c = &money_cases[_i];
	char buf[64];
	mpz_t v;

	ck_assert_int_eq(mpz_init_set_str(v, c->minor, 10), 0);
	ck_assert_uint_eq(gb_money_format(buf, sizeof buf, v, c->units),
			  strlen(c->want));
	ck_assert_str_eq(buf, c->want);
	mpz_clear(v);
}
END_TEST

START_TEST(test_money_format_truncates)
{
	char buf[5];
	mpz_t v;

	mpz_init_set_si(v, -123450);
	/* Like snprintf: the full length comes back, the text is cut. */
	ck_assert_uint_eq(gb_money_format(buf, sizeof buf, v, 2), 8);
	ck_assert_str_eq(buf, "-123");
	ck_assert_uint_eq(gb_money_format(NULL, 0, v, 2), 8);
	buf[0] = 'x';
	ck_assert_uint_eq(gb_money_format(buf, 1, v, 2), 8);
	ck_assert_str_eq(buf, "");
	mpz_clear(v);
}
END_TEST

START_TEST(test_money_format_huge)
{
	/* 10^120 minor units at 2 places: far past any stack buffer. */
	char want[140], *buf;
	size_t n;
	mpz_t v;

	mpz_init(v);
	mpz_ui_pow_ui(v, 10, 120);
	want[0] = '1';
	memset(want + 1, '0', 118);
	memcpy(want + 119, ".00", 4);
	n = gb_money_format(NULL, 0, v, 2);
	ck_assert_uint_eq(n, 122);
	buf = malloc(n + 1);
	ck_assert_ptr_nonnull(buf);
	ck_assert_uint_eq(gb_money_format(buf, n + 1, v, 2), 122);
	ck_assert_str_eq(buf, want);
	mpz_neg(v, v);
	ck_assert_uint_eq(gb_money_format(NULL, 0, v, 2), 123);
	free(buf);
	mpz_clear(v);
}
END_TEST

/* ---- gb_decimal_format --------------------------------------------------- */

struct decimal_case {
	const char *value;
	unsigned min_frac, max_frac;
	gb_rounding mode;
	const char *want;
};

static const struct decimal_case decimal_cases[] = {
	/* the header's examples */
	{ "5/2", 2, 18, GB_ROUND_HALF_EVEN, "2.50" },
	{ "13/8", 2, 18, GB_ROUND_HALF_EVEN, "1.625" },
	{ "1/3", 0, 6, GB_ROUND_HALF_EVEN, "0.333333" },
	/* thirds, every way */
	{ "2/3", 0, 6, GB_ROUND_HALF_EVEN, "0.666667" },
	{ "2/3", 0, 6, GB_ROUND_DOWN, "0.666666" },
	{ "1/3", 0, 6, GB_ROUND_UP, "0.333334" },
	{ "-2/3", 0, 6, GB_ROUND_HALF_EVEN, "-0.666667" },
	{ "-2/3", 0, 6, GB_ROUND_DOWN, "-0.666666" },
	{ "1/3", 2, 18, GB_ROUND_HALF_EVEN, "0.333333333333333333" },
	{ "2/3", 2, 18, GB_ROUND_HALF_EVEN, "0.666666666666666667" },
	{ "10/3", 0, 0, GB_ROUND_HALF_EVEN, "3" },
	/* trailing zeros go only down to min_frac, never into the integer */
	{ "5", 0, 18, GB_ROUND_HALF_EVEN, "5" },
	{ "5", 2, 18, GB_ROUND_HALF_EVEN, "5.00" },
	{ "100", 0, 2, GB_ROUND_HALF_EVEN, "100" },
	{ "11/10", 0, 18, GB_ROUND_HALF_EVEN, "1.1" },
	{ "-5/2", 0, 18, GB_ROUND_HALF_EVEN, "-2.5" },
	{ "1/100", 0, 18, GB_ROUND_HALF_EVEN, "0.01" },
	{ "0", 0, 6, GB_ROUND_HALF_EVEN, "0" },
	{ "0", 2, 6, GB_ROUND_HALF_EVEN, "0.00" },
	/* rounding at max_frac */
	{ "1/8", 0, 2, GB_ROUND_HALF_EVEN, "0.12" },
	{ "1/8", 0, 2, GB_ROUND_HALF_UP, "0.13" },
	{ "1/2", 0, 0, GB_ROUND_HALF_EVEN, "0" },
	{ "1/2", 0, 0, GB_ROUND_HALF_UP, "1" },
	{ "3/2", 0, 0, GB_ROUND_HALF_EVEN, "2" },
	{ "199/200", 0, 2, GB_ROUND_HALF_UP, "1" },     /* 0.995 -> 1.00 -> 1 */
	{ "199/200", 2, 2, GB_ROUND_HALF_UP, "1.00" },
	/* a negative value that rounds to zero prints no sign */
	{ "-1/1000000000", 0, 6, GB_ROUND_HALF_EVEN, "0" },
	{ "-1/1000000000", 2, 6, GB_ROUND_DOWN, "0.00" },
	{ "-1/1000000000", 0, 6, GB_ROUND_UP, "-0.000001" },
	{ "-1/2", 0, 0, GB_ROUND_HALF_EVEN, "0" },
	/* min_frac above max_frac: the minimum wins */
	{ "1/3", 4, 2, GB_ROUND_HALF_EVEN, "0.3333" },
	/* huge */
	{ E30 "/3", 0, 6, GB_ROUND_HALF_EVEN,
	  "333333333333333333333333333333.333333" },
	{ "-" E30 "/3", 0, 6, GB_ROUND_HALF_EVEN,
	  "-333333333333333333333333333333.333333" },
	{ "200000000000000000000000000000001/200", 2, 18, GB_ROUND_HALF_EVEN,
	  E30 ".005" },
};

START_TEST(test_decimal_format)
{
	const struct decimal_case *c = &decimal_cases[_i];
	char buf[80];
	mpq_t v;

	mpq_init(v);
	q_set(v, c->value);
	ck_assert_uint_eq(gb_decimal_format(buf, sizeof buf, v, c->min_frac,
					    c->max_frac, c->mode),
			  strlen(c->want));
	ck_assert_str_eq(buf, c->want);
	mpq_clear(v);
}
END_TEST

START_TEST(test_decimal_format_truncates)
{
	char buf[4];
	mpq_t v;

	mpq_init(v);
	q_set(v, "1/3");
	ck_assert_uint_eq(gb_decimal_format(buf, sizeof buf, v, 0, 6,
					    GB_ROUND_HALF_EVEN), 8);
	ck_assert_str_eq(buf, "0.3");
	ck_assert_uint_eq(gb_decimal_format(NULL, 0, v, 0, 6,
					    GB_ROUND_HALF_EVEN), 8);
	mpq_clear(v);
}
END_TEST

/* ---- round trips --------------------------------------------------------- */

struct trip_case {
	const char *text;
	const char *decimal; /* gb_decimal_format(v, 0, 18, half_even) */
};

static const struct trip_case trip_cases[] = {
	{ "2.50", "2.5" },
	{ "-1.625", "-1.625" },
	{ "007.5", "7.5" },
	{ "-0", "0" },
	{ "-0.000", "0" },
	{ "0.000000000000000001", "0.000000000000000001" },
	{ "-0.999999999999999999", "-0.999999999999999999" },
	{ "123456789012345678901234567890.123456789012345678",
	  "123456789012345678901234567890.123456789012345678" },
	{ "42", "42" },
	{ "100.00", "100" },
};

START_TEST(test_round_trip)
{
	const struct trip_case *c = &trip_cases[_i];
	char buf[80];
	mpq_t v, back;

	mpq_inits(v, back, NULL);
	ck_assert_int_eq(gb_decimal_parse(v, c->text, strlen(c->text),
					  GB_DECIMAL_ALLOW_NEGATIVE, NULL), 0);
	gb_decimal_format(buf, sizeof buf, v, 0, 18, GB_ROUND_HALF_EVEN);
	ck_assert_str_eq(buf, c->decimal);
	/* and the printed text parses back to the same value */
	ck_assert_int_eq(gb_decimal_parse(back, buf, strlen(buf),
					  GB_DECIMAL_ALLOW_NEGATIVE, NULL), 0);
	ck_assert(mpq_equal(v, back));
	mpq_clears(v, back, NULL);
}
END_TEST

START_TEST(test_parse_round_format)
{
	char buf[32];
	mpq_t v;
	mpz_t minor;

	mpq_init(v);
	mpz_init(minor);
	ck_assert_int_eq(gb_decimal_parse(v, "-2.345", 6, NEG, NULL), 0);
	gb_round(minor, v, 2, GB_ROUND_HALF_UP);
	gb_money_format(buf, sizeof buf, minor, 2);
	ck_assert_str_eq(buf, "-2.35");
	gb_round(minor, v, 2, GB_ROUND_HALF_EVEN);
	gb_money_format(buf, sizeof buf, minor, 2);
	ck_assert_str_eq(buf, "-2.34");
	/* JPY: no minor units */
	ck_assert_int_eq(gb_decimal_parse(v, "1234.5", 6, 0, NULL), 0);
	gb_round(minor, v, 0, GB_ROUND_HALF_EVEN);
	gb_money_format(buf, sizeof buf, minor, 0);
	ck_assert_str_eq(buf, "1234");
	gb_round(minor, v, 0, GB_ROUND_HALF_UP);
	gb_money_format(buf, sizeof buf, minor, 0);
	ck_assert_str_eq(buf, "1235");
	mpz_clear(minor);
	mpq_clear(v);
}
END_TEST

/* ---- rounding names ------------------------------------------------------ */

START_TEST(test_rounding_names)
{
	gb_rounding r = GB_ROUND_UP;

	ck_assert_int_eq(gb_rounding_parse(&r, "half_even"), 0);
	ck_assert_int_eq(r, GB_ROUND_HALF_EVEN);
	ck_assert_int_eq(gb_rounding_parse(&r, "half_up"), 0);
	ck_assert_int_eq(r, GB_ROUND_HALF_UP);
	ck_assert_int_eq(gb_rounding_parse(&r, "down"), 0);
	ck_assert_int_eq(r, GB_ROUND_DOWN);
	ck_assert_int_eq(gb_rounding_parse(&r, "up"), 0);
	ck_assert_int_eq(r, GB_ROUND_UP);
	ck_assert_int_eq(gb_rounding_parse(&r, "HALF_EVEN"), GB_EINVAL);
	ck_assert_int_eq(gb_rounding_parse(&r, "half-even"), GB_EINVAL);
	ck_assert_int_eq(gb_rounding_parse(&r, "bankers"), GB_EINVAL);
	ck_assert_int_eq(gb_rounding_parse(&r, ""), GB_EINVAL);
	ck_assert_int_eq(gb_rounding_parse(&r, NULL), GB_EINVAL);
	ck_assert_int_eq(gb_rounding_parse(NULL, "up"), GB_EINVAL);
	ck_assert_int_eq(r, GB_ROUND_UP); /* failures leave it alone */
	ck_assert_str_eq(gb_rounding_name(GB_ROUND_HALF_EVEN), "half_even");
	ck_assert_str_eq(gb_rounding_name(GB_ROUND_HALF_UP), "half_up");
	ck_assert_str_eq(gb_rounding_name(GB_ROUND_DOWN), "down");
	ck_assert_str_eq(gb_rounding_name(GB_ROUND_UP), "up");
	ck_assert_str_eq(gb_rounding_name((gb_rounding)99), "unknown");
}
END_TEST

static Suite *money_suite(void)
{
	Suite *s = suite_create("money");
	TCase *tc;

	tc = tcase_create("parse");
	tcase_add_loop_test(tc, test_parse_accepts, 0, N_ELEMS(parse_ok_cases));
	tcase_add_test(tc, test_parse_respects_len);
	tcase_add_loop_test(tc, test_parse_rejects, 0, N_ELEMS(parse_bad_cases));
	suite_add_tcase(s, tc);

	tc = tcase_create("round");
	tcase_add_loop_test(tc, test_round, 0, N_ELEMS(round_cases));
	suite_add_tcase(s, tc);

	tc = tcase_create("format");
	tcase_add_loop_test(tc, test_money_format, 0, N_ELEMS(money_cases));
	tcase_add_test(tc, test_money_format_truncates);
	tcase_add_test(tc, test_money_format_huge);
	tcase_add_loop_test(tc, test_decimal_format, 0, N_ELEMS(decimal_cases));
	tcase_add_test(tc, test_decimal_format_truncates);
	suite_add_tcase(s, tc);

	tc = tcase_create("round_trip");
	tcase_add_loop_test(tc, test_round_trip, 0, N_ELEMS(trip_cases));
	tcase_add_test(tc, test_parse_round_format);
	tcase_add_test(tc, test_rounding_names);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(money_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed > 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
