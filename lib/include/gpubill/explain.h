/*
 * gpubill/explain.h - how single usage records were priced.
 *
 * Attach an explainer to a rater before feeding rows: every row whose id is
 * one of the given ids is traced (its state, its billable interval, the
 * pieces it was cut into and the buckets they went to).  gb_rater_finish
 * then follows each piece into the invoice lines it reached and works out
 * the record's exact share of each line's rounded amount.
 */
#ifndef GPUBILL_EXPLAIN_H
#define GPUBILL_EXPLAIN_H

#include <stddef.h>
#include "error.h"
#include "invoice.h"
#include "rater.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct gb_explain gb_explain;

/*
 * Trace the rows of rater whose id is one of ids[0..nids).  Call before the
 * first row is added.  The explainer must be freed after the rater is
 * finished or freed; a rater has at most one.
 */
GB_EXTERN int gb_explain_new(gb_explain **out, gb_rater *rater,
			     const char *const *ids, size_t nids,
			     gb_error *err);
GB_EXTERN void gb_explain_free(gb_explain *ex);

/* How many of the ids matched no row. */
GB_EXTERN size_t gb_explain_missing(const gb_explain *ex);

/*
 * Writers; set is the invoice set gb_rater_finish returned for the rater.
 * Records come in the order of the ids, then of the input.  Each returns
 * 0, GB_EINVAL when the rater is not finished yet, GB_EIO or GB_ENOMEM.
 */
GB_EXTERN int gb_explain_write_text(const gb_explain *ex,
				    const gb_invoice_set *set, gb_write_fn fn,
				    void *payload, gb_error *err);
GB_EXTERN int gb_explain_write_csv(const gb_explain *ex,
				   const gb_invoice_set *set, gb_write_fn fn,
				   void *payload, gb_error *err);
GB_EXTERN int gb_explain_write_json(const gb_explain *ex,
				    const gb_invoice_set *set, gb_write_fn fn,
				    void *payload, gb_error *err);

#ifdef __cplusplus
}
#endif

#endif
