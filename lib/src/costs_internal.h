/*
 * costs_internal.h - the in-memory cost basis, and the loader's entry point
 * for callers that prepare their own JSON context (gpubill validate).
 */
#ifndef GPUBILL_COSTS_INTERNAL_H
#define GPUBILL_COSTS_INTERNAL_H

#include <gpubill/costs.h>
#include "json_load.h"

struct gb_costs {
	char *source;
	char *name;
	char currency[4];
	size_t ngpu;
	gb_cost_gpu *gpu;             /* file order; strings owned */
	size_t ntokens;
	gb_cost_tokens *tokens;       /* file order; strings owned */
	const gb_cost_gpu **gpu_by_key;       /* by (sku, region), for lookups */
	const gb_cost_tokens **tokens_by_key; /* by model */
};

/*
 * Load a cost basis with a caller-prepared context: c->err and c->source
 * as for any loader (c->kind defaults to "a costs file" when NULL), the
 * path empty.  Built only from the json_load.h readers, so a context that
 * collects every problem collects this file's too.  Returns 0 with *out
 * set, or the error code (the problem is in c->err) with *out NULL.
 */
int gb_costs_load_ctx(gb_json_ctx *c, const char *data, size_t len,
		      gb_costs **out);

#endif
