/*
 * explain_internal.h - the explainer's trace, and the hooks the rater calls
 * while it ingests rows (rater.c) and prices buckets (rater_finish.c).
 * All hooks are called only when the rater has an explainer.
 */
#ifndef GPUBILL_EXPLAIN_INTERNAL_H
#define GPUBILL_EXPLAIN_INTERNAL_H

#include "rater_internal.h"

#include <gpubill/explain.h>

/* One piece of a record: what it added to one bucket. */
typedef struct ex_piece {
	int hourly;             /* on-demand seconds of a reserving customer in
				   one UTC hour (covered first, SPEC 6.3) */
	bucket_key key;
	int64_t from, to;       /* GPU: the span; tokens: both 0 */
	long version;
	gb_u128 qty;            /* GPU-seconds or tokens */
	/* filled when the rater finishes */
	mpq_t billed;           /* what reached the bucket: qty, or for an
				   hourly piece its uncovered part */
	gb_u128 hour_total;     /* hourly: the customer's seconds that hour */
	gb_u128 hour_capacity;  /* hourly: the reservations' capacity */
	char *covered_by;       /* hourly: reservation ids, cheapest first */
	long bucket;            /* index in the rater, -1 when none */
} ex_piece;

/* A piece's part of one invoice line. */
typedef struct ex_share {
	size_t piece;
	size_t invoice;
	size_t line;
	mpq_t base;             /* the piece's base quantity on the line */
	mpq_t amount;           /* its exact share of the line's amount */
} ex_share;

/* One traced row. */
typedef struct ex_rec {
	size_t id_index;        /* which id */
	char *source;
	uint64_t line;
	gb_outcome outcome;
	char *field[GB_COL__COUNT];
	int has_interval;       /* GPU rows that reached pricing */
	int free_spot;          /* interrupted spot under the free length */
	int64_t start, end, billable, minimum, increment, free_seconds;
	int64_t clip_from, clip_to;
	ex_piece *pieces;
	size_t npieces, pieces_cap;
	ex_share *shares;
	size_t nshares, shares_cap;
} ex_rec;

/* Bucket slice on a merged line of the invoice being built. */
typedef struct ex_slice {
	long bucket;
	size_t merged;          /* the merged proto, which is that invoice's line */
	mpq_t base;
} ex_slice;

struct gb_explain {
	gb_rater *rater;
	char **ids;
	size_t *id_len;
	size_t nids;
	ex_rec *recs;
	size_t nrecs, recs_cap;
	ex_rec *cur;            /* the row being traced, or NULL */
	int finished;
	char *marked;           /* [bucket]: some piece went there */
	ex_slice *slices;       /* of the current invoice only */
	size_t nslices, slices_cap;
	unsigned minor_units;
	gb_rounding rounding;
};

/* --- ingest (rater.c) ---------------------------------------------------- */

/* Start tracing row when its id is asked for; 0 or GB_ENOMEM. */
int gb_explain_row(gb_explain *ex, const gb_row *row);
static inline int gb_explain_tracing(const gb_explain *ex)
{
	return ex && ex->cur;
}
void gb_explain_interval(gb_explain *ex, int64_t start, int64_t end,
			 int64_t billable, const gb_version *ver,
			 int64_t clip_from, int64_t clip_to, int free_spot);
int gb_explain_piece(gb_explain *ex, const bucket_key *k, gb_u128 qty,
		     int64_t from, int64_t to, long version, int hourly);
/* The row's outcome; ends its trace. */
void gb_explain_done(gb_explain *ex, const gb_outcome *out);

/* --- finish (rater_finish.c) ------------------------------------------- */

/* After reservations: find each piece's bucket. */
int gb_explain_mark(gb_explain *ex);
int gb_explain_is_marked(const gb_explain *ex, long b);
/* While an invoice is built: bucket b's slice base joins its merged line. */
int gb_explain_slice(gb_explain *ex, long b, const mpq_t base,
		     size_t merged);
/*
 * The invoice is built (merged line i is inv->lines[i]) and will be
 * invoice number `index` of the set: the shares of its lines, from the
 * slices recorded since the previous invoice.
 */
int gb_explain_invoice(gb_explain *ex, const gb_invoice *inv, size_t index);
/* Last, after every invoice. */
void gb_explain_finish(gb_explain *ex);

#endif
