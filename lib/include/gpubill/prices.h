/*
 * gpubill/prices.h - a provider's rate card ("gpubill-pricing/1" JSON).
 */
#ifndef GPUBILL_PRICES_H
#define GPUBILL_PRICES_H

#include <stddef.h>
#include <stdint.h>
#include "error.h"
#include "money.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct gb_prices gb_prices;

/*
 * Parse and validate a pricing table held in data[0..len).  source names
 * the file in error messages ("prices.json").  On failure *out is NULL and
 * err says what is wrong and where: the JSON path
 * ("versions[0].gpu.rates[3].spot") and, for syntax errors, line and column.
 */
GB_EXTERN int gb_prices_load(gb_prices **out, const char *data, size_t len,
			     const char *source, gb_error *err);

GB_EXTERN void gb_prices_free(gb_prices *prices);

GB_EXTERN const char *gb_prices_name(const gb_prices *prices);
GB_EXTERN const char *gb_prices_currency(const gb_prices *prices);
GB_EXTERN unsigned gb_prices_minor_units(const gb_prices *prices);
GB_EXTERN gb_rounding gb_prices_rounding(const gb_prices *prices);
GB_EXTERN size_t gb_prices_version_count(const gb_prices *prices);

#ifdef __cplusplus
}
#endif

#endif
