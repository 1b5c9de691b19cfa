/*
 * gpubill/contracts.h - customer contracts ("gpubill-contracts/1" JSON):
 * reservations, discounts, minimum spend and credits.
 */
#ifndef GPUBILL_CONTRACTS_H
#define GPUBILL_CONTRACTS_H

#include <stddef.h>
#include "error.h"
#include "prices.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct gb_contracts gb_contracts;

/*
 * Parse and validate a contracts file held in data[0..len).  prices is the
 * table the contracts will be billed with: every reservation without its
 * own rate must find a reserved price for its sku, region and term in each
 * price version its hours fall in.  Errors name the file and JSON path.
 */
GB_EXTERN int gb_contracts_load(gb_contracts **out, const char *data,
				size_t len, const char *source,
				const gb_prices *prices, gb_error *err);

GB_EXTERN void gb_contracts_free(gb_contracts *contracts);

/* Number of customers with a contract. */
GB_EXTERN size_t gb_contracts_count(const gb_contracts *contracts);

#ifdef __cplusplus
}
#endif

#endif
