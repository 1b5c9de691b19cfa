/*
 * gpubill/timestamp.h - RFC 3339 timestamps and billing periods, as Unix
 * seconds (int64_t, UTC).  No libc time functions: the parser is used once
 * or twice per usage record and must be fast and locale-free.
 */
#ifndef GPUBILL_TIMESTAMP_H
#define GPUBILL_TIMESTAMP_H

#include <stddef.h>
#include <stdint.h>
#include "error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Enough for "YYYY-MM-DDTHH:MM:SSZ" and its NUL. */
#define GB_TIME_TEXT_MAX 21

/*
 * Parse "YYYY-MM-DDTHH:MM:SS[.frac](Z|+hh:mm|-hh:mm)" of exactly len bytes.
 * 'T' may also be 't' or ' '; 'Z' may be 'z'.  Fractional seconds are
 * truncated.  Years 0000-9999.  A leap second (":60") is accepted and
 * counts as the first second of the next minute, as POSIX time does.
 * Returns 0 or GB_ESYNTAX with *why (when not NULL) set to a static reason.
 */
GB_EXTERN int gb_time_parse(int64_t *out, const char *s, size_t len,
			    const char **why);

/*
 * Parse a billing month "YYYY-MM" of exactly len bytes into the half-open
 * period [first second of the month, first second of the next month).
 */
GB_EXTERN int gb_period_parse_month(int64_t *from, int64_t *to, const char *s,
				    size_t len, const char **why);

/* Format t as "YYYY-MM-DDTHH:MM:SSZ".  Returns the length needed. */
GB_EXTERN size_t gb_time_format(char *buf, size_t size, int64_t t);

/* Days since 1970-01-01 of a proleptic Gregorian date (no validation). */
GB_EXTERN int64_t gb_days_from_civil(int64_t y, unsigned m, unsigned d);

#ifdef __cplusplus
}
#endif

#endif
