/*
 * test_time.c - RFC 3339 parsing, billing months and formatting.
 *
 * Expected Unix times were computed outside the code under test with GNU
 * date, e.g. `date -u -d 2026-10-01T00:00:00Z +%s` -> 1790812800.
 */
#include <check.h>
#include <gpubill/timestamp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

/* ---- gb_time_parse: accepted ---------------------------------------------- */

struct parse_ok {
	const char *text;
	int64_t want;
};

static const struct parse_ok parse_ok_cases[] = {
	{ "1970-01-01T00:00:00Z", 0 },
	{ "2026-10-01T00:00:00Z", 1790812800 },
	{ "2026-10-01t00:00:00z", 1790812800 },
	{ "2026-10-01 00:00:00Z", 1790812800 },
	{ "2026-10-01T00:00:00+00:00", 1790812800 },
	{ "2026-10-01T00:00:00-00:00", 1790812800 },
	{ "1969-12-31T23:59:59Z", -1 },
	{ "1999-12-31T23:59:59Z", 946684799 },
	{ "2026-01-31T23:59:59Z", 1769903999 },
	{ "2026-03-08T09:30:15Z", 1772962215 },
	{ "2038-01-19T03:14:08Z", 2147483648LL },
	/* leap years: divisible by 4, not by 100 unless by 400 */
	{ "2024-02-29T12:00:00Z", 1709208000 },
	{ "2024-03-01T00:00:00Z", 1709251200 },
	{ "2024-12-31T00:00:00Z", 1735603200 },
	{ "2000-02-29T00:00:00Z", 951782400 },
	{ "1600-02-29T00:00:00Z", -11670998400LL },
	{ "1900-03-01T00:00:00Z", -2203891200LL },
	{ "2100-03-01T00:00:00Z", 4107542400LL },
	/* the ends of the four-digit range */
	{ "0000-01-01T00:00:00Z", -62167219200LL },
	{ "0001-01-01T00:00:00Z", -62135596800LL },
	{ "9999-12-31T23:59:59Z", 253402300799LL },
	{ "0000-01-01T00:00:00+01:00", -62167222800LL },
	{ "9999-12-31T23:59:59-23:59", 253402387139LL },
	/* offsets */
	{ "2026-10-05T12:00:00+05:30", 1791181800 },
	{ "2026-10-05T12:00:00-08:00", 1791230400 },
	{ "2026-10-05T12:00:00+23:59", 1791115260 },
	{ "2026-10-05T12:00:00-23:59", 1791287940 },
	{ "2026-10-05 12:00:00.25+05:30", 1791181800 },
	/* fractions are truncated, never rounded */
	{ "2026-03-08T09:30:15.999999999Z", 1772962215 },
	{ "2026-03-08T09:30:15.5Z", 1772962215 },
	{ "2026-03-08T09:30:15.0Z", 1772962215 },
	{ "2026-03-08T09:30:15.123456789012345678Z", 1772962215 },
	{ "1969-12-31T23:59:59.999Z", -1 },
	/* a leap second is the first second of the next minute */
	{ "2016-12-31T23:59:60Z", 1483228800 },
	{ "1990-12-31T23:59:60.5Z", 662688000 },
	{ "2026-03-08T09:30:60Z", 1772962260 },
	{ "2016-12-31T23:59:60+00:00", 1483228800 },
};

START_TEST(test_parse_accepts)
{
	const struct parse_ok *c = &parse_ok_cases[_i];
	const char *why = "untouched";
	int64_t got = 42;

	ck_assert_msg(gb_time_parse(&got, c->text, strlen(c->text), &why) == 0,
		      "\"%s\" rejected: %s", c->text, why);
	ck_assert_msg(got == c->want, "\"%s\": got %lld, want %lld", c->text,
		      (long long)got, (long long)c->want);
	ck_assert_int_eq(gb_time_parse(&got, c->text, strlen(c->text), NULL), 0);
}
END_TEST

START_TEST(test_parse_respects_len)
{
	const char *s = "2026-10-01T00:00:00Z,2026-10-02";
	int64_t got = 0;

	/* A CSV field is not NUL-terminated: only len bytes count. */
	ck_assert_int_eq(gb_time_parse(&got, s, 20, NULL), 0);
	ck_assert_int_eq(got, 1790812800);
	ck_assert_int_eq(gb_time_parse(&got, s, 19, NULL), GB_ESYNTAX);
}
END_TEST

/* ---- gb_time_parse: rejected ---------------------------------------------- */

struct parse_bad {
	const char *text;
	size_t len; /* 0: strlen(text) */
	const char *why;
};

#define NO_ZONE "missing time zone (Z or +hh:mm)"
#define BAD_OFFSET "time zone offset must be +hh:mm or -hh:mm"
#define AFTER_ZONE "unexpected text after the time zone"
#define BAD_DAY "day out of range for the month"
#define NO_T "expected 'T' between the date and the time"

static const struct parse_bad parse_bad_cases[] = {
	{ "", 0, "empty timestamp" },
	/* the zone */
	{ "2026-10-01T00:00:00", 0, NO_ZONE },
	{ "2026-10-01T00:00:00.5", 0, NO_ZONE },
	{ "2026-10-01T00:00:00UTC", 0, NO_ZONE },
	{ "2026-10-01T00:00:00utc", 0, NO_ZONE },
	{ "2026-10-01T00:00:00 Z", 0, NO_ZONE },
	{ "2026-10-01T00:00:00,5Z", 0, NO_ZONE },
	{ "2026-10-01T00:00:00+05", 0, BAD_OFFSET },
	{ "2026-10-01T00:00:00+0500", 0, BAD_OFFSET },
	{ "2026-10-01T00:00:00+05:3", 0, BAD_OFFSET },
	{ "2026-10-01T00:00:00+5:30", 0, BAD_OFFSET },
	{ "2026-10-01T00:00:00+", 0, BAD_OFFSET },
	{ "2026-10-01T00:00:00+24:00", 0, "time zone offset hour must be 00-23" },
	{ "2026-10-01T00:00:00-99:00", 0, "time zone offset hour must be 00-23" },
	{ "2026-10-01T00:00:00+05:60", 0,
	  "time zone offset minute must be 00-59" },
	{ "2026-10-01T00:00:00Zjunk", 0, AFTER_ZONE },
	{ "2026-10-01T00:00:00Z ", 0, AFTER_ZONE },
	{ "2026-10-01T00:00:00ZZ", 0, AFTER_ZONE },
	{ "2026-10-01T00:00:00+05:30x", 0, AFTER_ZONE },
	{ "2026-10-01T00:00:00-08:00:00", 0, AFTER_ZONE },
	/* embedded NUL bytes */
	{ "2026-10-01T00:00:00Z\0", 21, AFTER_ZONE },
	{ "2026-10-01T00:00:00\0Z", 21, NO_ZONE },
	{ "2026\0" "10-01T00:00:00Z", 20, "expected a date as YYYY-MM-DD" },
	/* fractions */
	{ "2026-10-01T00:00:00.Z", 0, "a '.' in the seconds needs digits after it" },
	{ "2026-10-01T00:00:00.", 0, "a '.' in the seconds needs digits after it" },
	{ "2026-10-01T00:00:00.1234567890123456789Z", 0,
	  "more than 18 fractional second digits" },
	/* the date */
	{ "26-10-01T00:00:00Z", 0, "year must have four digits (YYYY-MM-DD)" },
	{ "+2026-10-01T00:00:00Z", 0, "year must have four digits (YYYY-MM-DD)" },
	{ "10000-01-01T00:00:00Z", 0, "expected a date as YYYY-MM-DD" },
	{ "20261001T000000Z", 0, "expected a date as YYYY-MM-DD" },
	{ "2026/10/01T00:00:00Z", 0, "expected a date as YYYY-MM-DD" },
	{ "2026-1-01T00:00:00Z", 0, "month must have two digits (YYYY-MM-DD)" },
	{ "2026-10/01T00:00:00Z", 0, "expected a date as YYYY-MM-DD" },
	{ "2026-13-01T00:00:00Z", 0, "month must be 01-12" },
	{ "2026-00-01T00:00:00Z", 0, "month must be 01-12" },
	{ "2026-10-1T00:00:00Z", 0, "day must have two digits (YYYY-MM-DD)" },
	{ "2026-10-00T00:00:00Z", 0, BAD_DAY },
	{ "2026-01-32T00:00:00Z", 0, BAD_DAY },
	{ "2026-04-31T00:00:00Z", 0, BAD_DAY },
	{ "2026-02-29T00:00:00Z", 0, BAD_DAY },
	{ "2100-02-29T00:00:00Z", 0, BAD_DAY },
	{ "1900-02-29T00:00:00Z", 0, BAD_DAY },
	{ "2024-02-30T00:00:00Z", 0, BAD_DAY },
	/* between date and time */
	{ "2026-10-01", 0, NO_T },
	{ "2026-10-01x00:00:00Z", 0, NO_T },
	{ "2026-10-01_00:00:00Z", 0, NO_T },
	{ "2026-10-01T", 0, "hour must have two digits (HH:MM:SS)" },
	/* the clock */
	{ "2026-10-01T1:00:00Z", 0, "hour must have two digits (HH:MM:SS)" },
	{ "2026-10-01T24:00:00Z", 0, "hour must be 00-23" },
	{ "2026-10-01T23:60:00Z", 0, "minute must be 00-59" },
	{ "2026-10-01T23:5:00Z", 0, "minute must have two digits (HH:MM:SS)" },
	{ "2026-10-01T00:00Z", 0, "missing seconds (HH:MM:SS)" },
	{ "2026-10-01T00:00", 0, "missing seconds (HH:MM:SS)" },
	{ "2026-10-01T00:00:0Z", 0, "second must have two digits (HH:MM:SS)" },
	{ "2026-10-01T23:59:61Z", 0, "second must be 00-60" },
	{ "2026-10-01T23:59:99Z", 0, "second must be 00-60" },
};

START_TEST(test_parse_rejects)
{
	const struct parse_bad *c = &parse_bad_cases[_i];
	size_t len = c->len ? c->len : strlen(c->text);
	const char *why = NULL;
	int64_t got = 42;

	ck_assert_msg(gb_time_parse(&got, c->text, len, &why) == GB_ESYNTAX,
		      "case %d accepted", _i);
	ck_assert_ptr_nonnull(why);
	ck_assert_msg(strcmp(why, c->why) == 0, "case %d: why \"%s\", want \"%s\"",
		      _i, why, c->why);
	ck_assert_int_eq(got, 42); /* failures leave out alone */
	ck_assert_int_eq(gb_time_parse(&got, c->text, len, NULL), GB_ESYNTAX);
}
END_TEST

/* ---- gb_days_from_civil ----------------------------------------------------- */

START_TEST(test_days_from_civil)
{
	ck_assert_int_eq(gb_days_from_civil(1970, 1, 1), 0);
	ck_assert_int_eq(gb_days_from_civil(1969, 12, 31), -1);
	ck_assert_int_eq(gb_days_from_civil(2026, 10, 1), 20727);
	ck_assert_int_eq(gb_days_from_civil(2000, 2, 29), 11016);
	ck_assert_int_eq(gb_days_from_civil(2000, 3, 1), 11017);
	ck_assert_int_eq(gb_days_from_civil(0, 1, 1), -719528);
	ck_assert_int_eq(gb_days_from_civil(0, 3, 1), -719468);
	ck_assert_int_eq(gb_days_from_civil(9999, 12, 31), 2932896);
	/* negative years: one 400-year cycle is 146097 days */
	ck_assert_int_eq(gb_days_from_civil(-1, 12, 31), -719529);
	ck_assert_int_eq(gb_days_from_civil(-400, 1, 1), -719528 - 146097);
	ck_assert_int_eq(gb_days_from_civil(2400, 1, 1),
			 gb_days_from_civil(2000, 1, 1) + 146097);
	/* no validation: 2026-02-30 is 2026-03-02 */
	ck_assert_int_eq(gb_days_from_civil(2026, 2, 30),
			 gb_days_from_civil(2026, 3, 2));
}
END_TEST

/* ---- gb_period_parse_month ------------------------------------------------- */

struct period_case {
	const char *text;
	int64_t from, to;
};

static const struct period_case period_cases[] = {
	{ "2026-10", 1790812800, 1793491200 },
	{ "2026-12", 1796083200, 1798761600 },
	{ "2024-02", 1706745600, 1709251200 },
	{ "1970-01", 0, 2678400 },
	{ "9999-12", 253399622400LL, 253402300800LL },
	{ "0000-01", -62167219200LL, -62167219200LL + 31 * 86400 },
};

START_TEST(test_period)
{
	const struct period_case *c = &period_cases[_i];
	int64_t from = 0, to = 0;

	ck_assert_int_eq(gb_period_parse_month(&from, &to, c->text,
					       strlen(c->text), NULL), 0);
	ck_assert_int_eq(from, c->from);
	ck_assert_int_eq(to, c->to);
}
END_TEST

START_TEST(test_period_rejects)
{
	static const struct {
		const char *text;
		const char *why;
	} bad[] = {
		{ "2026-13", "month must be 01-12" },
		{ "2026-00", "month must be 01-12" },
		{ "2026-1", "expected a month as YYYY-MM" },
		{ "26-10", "expected a month as YYYY-MM" },
		{ "2026-10-01", "expected a month as YYYY-MM" },
		{ "2026/10", "expected a month as YYYY-MM" },
		{ "2026-1a", "expected a month as YYYY-MM" },
		{ " 2026-10", "expected a month as YYYY-MM" },
		{ "2026-10 ", "expected a month as YYYY-MM" },
		{ "", "expected a month as YYYY-MM" },
	};
	int64_t from = 7, to = 8;
	const char *why;
	size_t i;

	for (i = 0; i < N_ELEMS(bad); i++) {
		why = NULL;
		ck_assert_msg(gb_period_parse_month(&from, &to, bad[i].text,
						    strlen(bad[i].text),
						    &why) == GB_ESYNTAX,
			      "\"%s\" accepted", bad[i].text);
		ck_assert_ptr_nonnull(why);
		ck_assert_str_eq(why, bad[i].why);
	}
	ck_assert_int_eq(from, 7);
	ck_assert_int_eq(to, 8);
	/* len counts, and an embedded NUL is just a bad byte */
	ck_assert_int_eq(gb_period_parse_month(&from, &to, "2026-10", 6, NULL),
			 GB_ESYNTAX);
	ck_assert_int_eq(gb_period_parse_month(&from, &to, "2026\0" "10", 7,
					       NULL), GB_ESYNTAX);
}
END_TEST

/* ---- gb_time_format -------------------------------------------------------- */

struct format_case {
	int64_t t;
	const char *want;
};

static const struct format_case format_cases[] = {
	{ 0, "1970-01-01T00:00:00Z" },
	{ -1, "1969-12-31T23:59:59Z" },
	{ 1790812800, "2026-10-01T00:00:00Z" },
	{ 1772962215, "2026-03-08T09:30:15Z" },
	{ 951782400, "2000-02-29T00:00:00Z" },
	{ 1709208000, "2024-02-29T12:00:00Z" },
	{ -2203891200LL, "1900-03-01T00:00:00Z" },
	{ -11670998400LL, "1600-02-29T00:00:00Z" },
	{ -62167219200LL, "0000-01-01T00:00:00Z" },
	{ 253402300799LL, "9999-12-31T23:59:59Z" },
	/* outside 0000-9999: more digits, or a sign */
	{ 253402300800LL, "10000-01-01T00:00:00Z" },
	{ -62167219201LL, "-0001-12-31T23:59:59Z" },
};

START_TEST(test_format)
{
	const struct format_case *c = &format_cases[_i];
	char buf[40];

	ck_assert_uint_eq(gb_time_format(buf, sizeof buf, c->t),
			  strlen(c->want));
	ck_assert_str_eq(buf, c->want);
	ck_assert_uint_eq(gb_time_format(NULL, 0, c->t), strlen(c->want));
}
END_TEST

START_TEST(test_format_bounds)
{
	char buf[GB_TIME_TEXT_MAX + 8];
	size_t n;

	memset(buf, 'x', sizeof buf);
	ck_assert_uint_eq(gb_time_format(buf, 5, 0), 20);
	ck_assert_str_eq(buf, "1970");
	ck_assert_int_eq(buf[5], 'x');
	ck_assert_uint_eq(gb_time_format(buf, GB_TIME_TEXT_MAX, 253402300799LL),
			  20);
	ck_assert_str_eq(buf, "9999-12-31T23:59:59Z");
	/* the extremes of int64_t must neither crash nor overrun */
	memset(buf, 'x', sizeof buf);
	n = gb_time_format(buf, GB_TIME_TEXT_MAX, INT64_MAX);
	ck_assert_uint_gt(n, 20);
	ck_assert_uint_eq(strlen(buf), GB_TIME_TEXT_MAX - 1);
	ck_assert_int_eq(buf[GB_TIME_TEXT_MAX], 'x');
	n = gb_time_format(buf, GB_TIME_TEXT_MAX, INT64_MIN);
	ck_assert_uint_gt(n, 20);
	ck_assert_int_eq(buf[0], '-');
	ck_assert_uint_eq(strlen(buf), GB_TIME_TEXT_MAX - 1);
}
END_TEST

/* Every format in 0000..9999 parses back to the same second. */
START_TEST(test_format_round_trip)
{
	const int64_t lo = -62167219200LL, hi = 253402300799LL;
	/* a step that is not a multiple of a minute, hour or day */
	const int64_t step = 86400LL * 97 + 3600 * 5 + 60 * 7 + 11;
	char buf[GB_TIME_TEXT_MAX];
	int64_t t, back;

	for (t = lo; t <= hi; t += step) {
		ck_assert_uint_eq(gb_time_format(buf, sizeof buf, t), 20);
		ck_assert_int_eq(gb_time_parse(&back, buf, 20, NULL), 0);
		ck_assert_int_eq(back, t);
	}
	for (t = -100000; t <= 100000; t += 997) {
		gb_time_format(buf, sizeof buf, t);
		ck_assert_int_eq(gb_time_parse(&back, buf, 20, NULL), 0);
		ck_assert_int_eq(back, t);
	}
	gb_time_format(buf, sizeof buf, hi);
	ck_assert_int_eq(gb_time_parse(&back, buf, 20, NULL), 0);
	ck_assert_int_eq(back, hi);
}
END_TEST

/* Every day of a full 400-year cycle survives days -> text -> days. */
START_TEST(test_days_round_trip)
{
	const int64_t first = gb_days_from_civil(1600, 3, 1);
	char buf[GB_TIME_TEXT_MAX];
	int64_t d, back;

	for (d = first; d < first + 146097; d++) {
		gb_time_format(buf, sizeof buf, d * 86400 + 43199);
		ck_assert_int_eq(gb_time_parse(&back, buf, 20, NULL), 0);
		ck_assert_int_eq(back, d * 86400 + 43199);
	}
}
END_TEST

static Suite *time_suite(void)
{
	Suite *s = suite_create("time");
	TCase *tc;

	tc = tcase_create("parse");
	tcase_add_loop_test(tc, test_parse_accepts, 0, N_ELEMS(parse_ok_cases));
	tcase_add_test(tc, test_parse_respects_len);
	tcase_add_loop_test(tc, test_parse_rejects, 0, N_ELEMS(parse_bad_cases));
	tcase_add_test(tc, test_days_from_civil);
	suite_add_tcase(s, tc);

	tc = tcase_create("period");
	tcase_add_loop_test(tc, test_period, 0, N_ELEMS(period_cases));
	tcase_add_test(tc, test_period_rejects);
	suite_add_tcase(s, tc);

	tc = tcase_create("format");
	tcase_add_loop_test(tc, test_format, 0, N_ELEMS(format_cases));
	tcase_add_test(tc, test_format_bounds);
	tcase_add_test(tc, test_format_round_trip);
	tcase_add_test(tc, test_days_round_trip);
	/* The sweeps run ~200k parses; give sanitizer builds room. */
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(time_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed > 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
