/*
 * gpubill/costs.h - a provider's cost basis ("gpubill-costs/1" JSON): what
 * a GPU-hour of a sku in a region, and a million tokens of a model, cost
 * the provider.  Kept apart from the pricing table because the rate card
 * is public and the cost basis is not.  See gpubill-costs(5).
 */
#ifndef GPUBILL_COSTS_H
#define GPUBILL_COSTS_H

#include <stddef.h>
#include <gmp.h>
#include "error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct gb_costs gb_costs;

/* One entry of "gpu": the cost of a GPU-hour of sku in region. */
typedef struct gb_cost_gpu {
	const char *sku;
	const char *region;      /* an exact region, or "*" for any other */
	mpq_t per_gpu_hour;      /* exact, >= 0 */
} gb_cost_gpu;

/* One entry of "tokens": the cost of a million tokens of model. */
typedef struct gb_cost_tokens {
	const char *model;
	mpq_t per_million;       /* exact, >= 0; every kind of token alike */
} gb_cost_tokens;

/*
 * Parse and validate a cost basis held in data[0..len).  source names the
 * file in error messages.  On failure *out is NULL and err says what is
 * wrong and where (JSON path; line and column for syntax errors).
 */
GB_EXTERN int gb_costs_load(gb_costs **out, const char *data, size_t len,
			    const char *source, gb_error *err);

GB_EXTERN void gb_costs_free(gb_costs *costs);

GB_EXTERN const char *gb_costs_name(const gb_costs *costs);
GB_EXTERN const char *gb_costs_currency(const gb_costs *costs);
/* The file name given to gb_costs_load. */
GB_EXTERN const char *gb_costs_source(const gb_costs *costs);

/*
 * The entries in file order: entry i of "gpu" is gb_costs_gpu_get(c, i),
 * at JSON path "gpu[i]"; likewise "tokens".  NULL past the end.
 */
GB_EXTERN size_t gb_costs_gpu_count(const gb_costs *costs);
GB_EXTERN const gb_cost_gpu *gb_costs_gpu_get(const gb_costs *costs,
					      size_t i);
GB_EXTERN size_t gb_costs_tokens_count(const gb_costs *costs);
GB_EXTERN const gb_cost_tokens *gb_costs_tokens_get(const gb_costs *costs,
						    size_t i);

/*
 * Lookups as margin reports make them: the entry for sku in exactly
 * region, else the sku's "*" entry, else NULL; the entry for model, or
 * NULL.
 */
GB_EXTERN const gb_cost_gpu *gb_costs_find_gpu(const gb_costs *costs,
					       const char *sku,
					       const char *region);
GB_EXTERN const gb_cost_tokens *gb_costs_find_tokens(const gb_costs *costs,
						     const char *model);

/*
 * Check that the cost basis is in currency (the pricing table's): returns
 * 0, or GB_ESCHEMA with err naming the costs file and its "currency".
 */
GB_EXTERN int gb_costs_check_currency(const gb_costs *costs,
				      const char *currency, gb_error *err);

#ifdef __cplusplus
}
#endif

#endif
