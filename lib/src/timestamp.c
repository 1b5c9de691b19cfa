/*
 * timestamp.c - RFC 3339 timestamps and billing months as Unix seconds.
 *
 * The parser runs once or twice per usage record, so it walks the fixed
 * layout by hand: no libc time functions (slow, locale- and TZ-dependent),
 * no allocation.  Calendar arithmetic is Howard Hinnant's proleptic
 * Gregorian days_from_civil / civil_from_days, exact for any year.
 */
#include "internal.h"

#include <gpubill/timestamp.h>
#include <inttypes.h>
#include <stdio.h>

#define SECONDS_PER_DAY 86400

/* Fractional seconds are truncated, but a sane record never has more. */
#define GB_TIME_MAX_FRACTION 18

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int syntax(const char **why, const char *reason)
{
	if (why)
		*why = reason;
	return GB_ESYNTAX;
}

/* Read n digits at s[pos..]; returns -1 when they are not all digits. */
static int digits_at(const char *s, size_t len, size_t pos, size_t n)
{
	int v = 0;
	size_t i;

	if (pos + n > len)
		return -1;
	for (i = pos; i < pos + n; i++) {
		if (!is_digit(s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

static int is_leap(int64_t y)
{
	return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
}

static unsigned days_in_month(int64_t y, unsigned m)
{
	static const unsigned char days[12] = {
		31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
	};

	return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

int64_t gb_days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era, yoe, doy, doe, mm = m;

	/* Count years from March so the leap day is the last of the year. */
	y -= mm <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (mm > 2 ? mm - 3 : mm + 9) + 2) / 5 + (int64_t)d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* The inverse of gb_days_from_civil. */
static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
	*m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

/* "YYYY-MM-DD" at the start of s; sets *days since the epoch. */
static int parse_date(int64_t *days, const char *s, size_t len,
		      const char **why)
{
	int y, m, d;

	y = digits_at(s, len, 0, 4);
	if (y < 0)
		return syntax(why, "year must have four digits (YYYY-MM-DD)");
	if (len < 5 || s[4] != '-')
		return syntax(why, "expected a date as YYYY-MM-DD");
	m = digits_at(s, len, 5, 2);
	if (m < 0)
		return syntax(why, "month must have two digits (YYYY-MM-DD)");
	if (len < 8 || s[7] != '-')
		return syntax(why, "expected a date as YYYY-MM-DD");
	if (m < 1 || m > 12)
		return syntax(why, "month must be 01-12");
	d = digits_at(s, len, 8, 2);
	if (d < 0)
		return syntax(why, "day must have two digits (YYYY-MM-DD)");
	if (d < 1 || (unsigned)d > days_in_month(y, (unsigned)m))
		return syntax(why, "day out of range for the month");
	*days = gb_days_from_civil(y, (unsigned)m, (unsigned)d);
	return 0;
}

/* "HH:MM:SS" at s[11..19); sets *secs since midnight (":60" counts). */
static int parse_clock(int64_t *secs, const char *s, size_t len,
		       const char **why)
{
	int h, mi, sec;

	h = digits_at(s, len, 11, 2);
	if (h < 0 || len < 14 || s[13] != ':')
		return syntax(why, "hour must have two digits (HH:MM:SS)");
	if (h > 23)
		return syntax(why, "hour must be 00-23");
	mi = digits_at(s, len, 14, 2);
	if (mi < 0)
		return syntax(why, "minute must have two digits (HH:MM:SS)");
	if (mi > 59)
		return syntax(why, "minute must be 00-59");
	if (len < 17 || s[16] != ':')
		return syntax(why, "missing seconds (HH:MM:SS)");
	sec = digits_at(s, len, 17, 2);
	if (sec < 0)
		return syntax(why, "second must have two digits (HH:MM:SS)");
	if (sec > 60)
		return syntax(why, "second must be 00-60");
	*secs = (int64_t)h * 3600 + mi * 60 + sec;
	return 0;
}

/* The zone at s[pos..len): "Z", "z" or "+hh:mm"/"-hh:mm"; sets *offset. */
static int parse_zone(int64_t *offset, const char *s, size_t len, size_t pos,
		      const char **why)
{
	int h, m;

	if (pos == len)
		return syntax(why, "missing time zone (Z or +hh:mm)");
	if (s[pos] == 'Z' || s[pos] == 'z') {
		*offset = 0;
		return pos + 1 == len ? 0
				      : syntax(why, "unexpected text after the time zone");
	}
	if (s[pos] != '+' && s[pos] != '-')
		return syntax(why, "missing time zone (Z or +hh:mm)");
	h = digits_at(s, len, pos + 1, 2);
	m = digits_at(s, len, pos + 4, 2);
	if (h < 0 || m < 0 || s[pos + 3] != ':')
		return syntax(why, "time zone offset must be +hh:mm or -hh:mm");
	if (pos + 6 != len)
		return syntax(why, "unexpected text after the time zone");
	if (h > 23)
		return syntax(why, "time zone offset hour must be 00-23");
	if (m > 59)
		return syntax(why, "time zone offset minute must be 00-59");
	*offset = (int64_t)h * 3600 + m * 60;
	if (s[pos] == '-')
		*offset = -*offset;
	return 0;
}

int gb_time_parse(int64_t *out, const char *s, size_t len, const char **why)
{
	int64_t days, secs, offset;
	size_t pos = 19, frac;
	int rc;

	if (len == 0)
		return syntax(why, "empty timestamp");
	rc = parse_date(&days, s, len, why);
	if (rc)
		return rc;
	if (len < 11 || (s[10] != 'T' && s[10] != 't' && s[10] != ' '))
		return syntax(why, "expected 'T' between the date and the time");
	rc = parse_clock(&secs, s, len, why);
	if (rc)
		return rc;
	if (pos < len && s[pos] == '.') {
		/* Truncated to the second: the digits only need to be there. */
		for (frac = 0; pos + 1 + frac < len && is_digit(s[pos + 1 + frac]);)
			frac++;
		if (frac == 0)
			return syntax(why, "a '.' in the seconds needs digits after it");
		if (frac > GB_TIME_MAX_FRACTION)
			return syntax(why, "more than 18 fractional second digits");
		pos += 1 + frac;
	}
	rc = parse_zone(&offset, s, len, pos, why);
	if (rc)
		return rc;
	*out = days * SECONDS_PER_DAY + secs - offset;
	return 0;
}

int gb_period_parse_month(int64_t *from, int64_t *to, const char *s,
			  size_t len, const char **why)
{
	int y, m, ny, nm;

	y = digits_at(s, len, 0, 4);
	m = digits_at(s, len, 5, 2);
	if (len != 7 || y < 0 || m < 0 || s[4] != '-')
		return syntax(why, "expected a month as YYYY-MM");
	if (m < 1 || m > 12)
		return syntax(why, "month must be 01-12");
	ny = m == 12 ? y + 1 : y;
	nm = m == 12 ? 1 : m + 1;
	*from = gb_days_from_civil(y, (unsigned)m, 1) * SECONDS_PER_DAY;
	*to = gb_days_from_civil(ny, (unsigned)nm, 1) * SECONDS_PER_DAY;
	return 0;
}

size_t gb_time_format(char *buf, size_t size, int64_t t)
{
	int64_t days = t / SECONDS_PER_DAY, secs = t % SECONDS_PER_DAY, y;
	unsigned m, d;
	int n;

	/* C division truncates; the calendar needs floor for times before 1970. */
	if (secs < 0) {
		secs += SECONDS_PER_DAY;
		days--;
	}
	civil_from_days(days, &y, &m, &d);
	/* Years past 9999 or before 0 print with as many digits as they need. */
	n = snprintf(buf, size, "%s%04" PRId64 "-%02u-%02uT%02d:%02d:%02dZ",
		     y < 0 ? "-" : "", y < 0 ? -y : y, m, d,
		     (int)(secs / 3600), (int)(secs / 60 % 60), (int)(secs % 60));
	return n < 0 ? 0 : (size_t)n;
}
