/*
 * gpubill/money.h - exact decimal money: parse, round once, format.
 *
 * Amounts are GMP rationals until they are posted on an invoice line; there
 * they are rounded once to the currency's minor units with a named mode.
 */
#ifndef GPUBILL_MONEY_H
#define GPUBILL_MONEY_H

#include <stddef.h>
#include <gmp.h>
#include "error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum gb_rounding {
	GB_ROUND_HALF_EVEN = 0, /* ties to the even neighbour (banker's) */
	GB_ROUND_HALF_UP = 1,   /* ties away from zero */
	GB_ROUND_DOWN = 2,      /* toward zero (truncate) */
	GB_ROUND_UP = 3         /* away from zero */
} gb_rounding;

/* Most fractional digits a decimal string may carry. */
#define GB_DECIMAL_MAX_FRACTION 18

/* Flags for gb_decimal_parse. */
#define GB_DECIMAL_ALLOW_NEGATIVE 1u

/*
 * Parse a plain decimal string of exactly len bytes ("0", "2.50", "-1.625")
 * into out.  Accepted: an optional '-' (only with GB_DECIMAL_ALLOW_NEGATIVE),
 * one or more digits, optionally '.' followed by 1..18 digits.  Rejected:
 * exponents ("1e3"), a bare point (".5", "5."), '+', spaces, anything else.
 * Returns 0 or GB_ESYNTAX; on failure *why (when why is not NULL) points to
 * a static explanation such as "exponent notation is not allowed".
 */
GB_EXTERN int gb_decimal_parse(mpq_t out, const char *s, size_t len,
			       unsigned flags, const char **why);

/*
 * Round value to minor_units decimal places with mode; out receives the
 * result scaled to minor units (12.345 at 2 places, half_even -> 1234).
 */
GB_EXTERN void gb_round(mpz_t out, const mpq_t value, unsigned minor_units,
			gb_rounding mode);

/*
 * Format an amount given in minor units: (-123450, 2) -> "-1234.50",
 * (500, 0) -> "500".  Returns the length the text needs (excluding the NUL),
 * like snprintf; buf is always NUL-terminated when size > 0.
 */
GB_EXTERN size_t gb_money_format(char *buf, size_t size, const mpz_t minor,
				 unsigned minor_units);

/*
 * Format a rational as a decimal with at least min_frac and at most
 * max_frac fractional digits.  Trailing zeros beyond min_frac are dropped;
 * a value that needs more than max_frac digits is rounded with mode.
 * (2.5, 2, 18) -> "2.50"; (1.625, 2, 18) -> "1.625"; (1/3, 0, 6) -> "0.333333".
 * Returns the length needed, like snprintf.
 */
GB_EXTERN size_t gb_decimal_format(char *buf, size_t size, const mpq_t value,
				   unsigned min_frac, unsigned max_frac,
				   gb_rounding mode);

/* "half_even" etc.  Returns 0, or GB_EINVAL for an unknown name. */
GB_EXTERN int gb_rounding_parse(gb_rounding *out, const char *name);
GB_EXTERN const char *gb_rounding_name(gb_rounding mode);

#ifdef __cplusplus
}
#endif

#endif
