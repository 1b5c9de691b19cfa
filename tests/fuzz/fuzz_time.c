/*
 * fuzz_time.c - gb_time_parse and gb_time_format, and
 * gb_period_parse_month.
 *
 * For an accepted timestamp t, format(t) is the canonical UTC text, which
 * must parse back to t (within years 0000-9999, the range the parser
 * takes); the text's fields must be in range; re-parsing the input must
 * give the same t.  A refused text must come with a reason.  The first 8
 * bytes are also read as an arbitrary int64 instant: when its text falls
 * in 0000-9999 it must round-trip too.  An accepted month must be a
 * period of 28-31 whole days starting at midnight.
 */
#include "fuzz_common.h"

#define TEXT_MAX 96

static void round_trip(int64_t t, const char *what)
{
	char buf[64], small[8];
	const char *why = NULL;
	int64_t back = 0;
	size_t n = gb_time_format(buf, sizeof buf, t);

	FUZZ_CHECK(n == strlen(buf), "format length %zu vs %zu", n, strlen(buf));
	FUZZ_CHECK(gb_time_format(small, sizeof small, t) == n &&
		   strlen(small) == sizeof small - 1 &&
		   memcmp(small, buf, sizeof small - 1) == 0,
		   "truncated format of %s", buf);
	if (n != 20 || buf[0] == '-')
		return; /* outside 0000-9999: not parseable by design */
	FUZZ_CHECK(buf[4] == '-' && buf[7] == '-' && buf[10] == 'T' &&
		   buf[13] == ':' && buf[16] == ':' && buf[19] == 'Z',
		   "odd layout '%s'", buf);
	FUZZ_CHECK(buf[17] < '6', "format wrote second 60+: '%s'", buf);
	FUZZ_CHECK(gb_time_parse(&back, buf, n, &why) == 0,
		   "%s %lld formats as '%s', which does not parse: %s", what,
		   (long long)t, buf, why);
	FUZZ_CHECK(back == t, "%s %lld -> '%s' -> %lld", what, (long long)t, buf,
		   (long long)back);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data, *why = NULL;
	int64_t t = 0, t2 = 0, from = 0, to = 0;
	int rc;

	if (size > TEXT_MAX)
		return 0;
	rc = gb_time_parse(&t, s, size, &why);
	if (rc) {
		FUZZ_CHECK(rc == GB_ESYNTAX, "parse returned %d", rc);
		FUZZ_CHECK(why && why[0], "refused without a reason");
	} else {
		/* Years 0000-9999 with offsets up to a day: a bounded range. */
		FUZZ_CHECK(t >= INT64_C(-62167219200) - 86400 &&
			   t <= INT64_C(253402300800) + 86400,
			   "'%.*s' gives %lld", (int)size, s, (long long)t);
		FUZZ_CHECK(gb_time_parse(&t2, s, size, NULL) == 0 && t2 == t,
			   "parse is not repeatable");
		round_trip(t, "parsed");
	}
	if (size >= 8) {
		uint64_t u = 0;
		size_t i;

		for (i = 0; i < 8; i++)
			u = u << 8 | data[i];
		/* Keep to +-10^15 s so the calendar arithmetic cannot overflow. */
		round_trip((int64_t)(u % UINT64_C(2000000000000000)) -
			   INT64_C(1000000000000000), "instant");
	}
	why = NULL;
	if (gb_period_parse_month(&from, &to, s, size, &why) == 0) {
		FUZZ_CHECK(from % 86400 == 0 && to - from >= 28 * 86400 &&
			   to - from <= 31 * 86400,
			   "month '%.*s' is [%lld, %lld)", (int)size, s,
			   (long long)from, (long long)to);
	} else {
		FUZZ_CHECK(why && why[0], "month refused without a reason");
	}
	return 0;
}
