/*
 * explain.c - how single records were priced: the trace the rater keeps of
 * the rows asked for, its resolution into invoice lines, and the writers.
 *
 * A record's share of an invoice line is exact: the line is the sum of
 * bucket slices, a bucket is the sum of its records' quantities, so the
 * record's share of a line is
 *
 *     billed / bucket quantity x slice base / line base x line amount
 *
 * summed over the buckets it reached.  The shares of all records on a line
 * add up to the line's rounded amount exactly.
 */
#include "explain_internal.h"
#include "invoice_internal.h"

#include <gpubill/money.h>
#include <gpubill/timestamp.h>
#include <string.h>

/* --- lifetime -------------------------------------------------------------- */

int gb_explain_new(gb_explain **out, gb_rater *rater, const char *const *ids,
		   size_t nids, gb_error *err)
{
	gb_explain *ex;
	size_t i;

	*out = NULL;
	if (!rater || !ids || !nids || rater->explain || rater->finished ||
	    rater->counts.read)
		return gb_error_set(err, GB_EINVAL, "gb_explain_new: needs ids and a "
				    "fresh rater without an explainer");
	ex = gb_calloc(1, sizeof *ex);
	if (!ex)
		return gb_error_set(err, GB_ENOMEM, "out of memory");
	ex->ids = gb_calloc(nids, sizeof *ex->ids);
	ex->id_len = gb_calloc(nids, sizeof *ex->id_len);
	if (!ex->ids || !ex->id_len)
		goto nomem;
	ex->nids = nids;
	for (i = 0; i < nids; i++) {
		ex->ids[i] = gb_strdup(ids[i]);
		if (!ex->ids[i])
			goto nomem;
		ex->id_len[i] = strlen(ids[i]);
	}
	ex->rater = rater;
	ex->minor_units = rater->prices->minor_units;
	ex->rounding = rater->prices->rounding;
	rater->explain = ex;
	*out = ex;
	return 0;
nomem:
	gb_explain_free(ex);
	return gb_error_set(err, GB_ENOMEM, "out of memory");
}

static void rec_clear(ex_rec *r)
{
	size_t i;

	gb_free(r->source);
	for (i = 0; i < GB_COL__COUNT; i++)
		gb_free(r->field[i]);
	for (i = 0; i < r->npieces; i++) {
		mpq_clear(r->pieces[i].billed);
		gb_free(r->pieces[i].covered_by);
	}
	gb_free(r->pieces);
	for (i = 0; i < r->nshares; i++) {
		mpq_clear(r->shares[i].base);
		mpq_clear(r->shares[i].amount);
	}
	gb_free(r->shares);
}

static void slices_free(gb_explain *ex)
{
	size_t i;

	for (i = 0; i < ex->nslices; i++)
		mpq_clear(ex->slices[i].base);
	gb_free(ex->slices);
	ex->slices = NULL;
	ex->nslices = ex->slices_cap = 0;
	gb_free(ex->marked);
	ex->marked = NULL;
}

void gb_explain_free(gb_explain *ex)
{
	size_t i;

	if (!ex)
		return;
	for (i = 0; i < ex->nrecs; i++)
		rec_clear(&ex->recs[i]);
	gb_free(ex->recs);
	for (i = 0; ex->ids && i < ex->nids; i++)
		gb_free(ex->ids[i]);
	gb_free(ex->ids);
	gb_free(ex->id_len);
	slices_free(ex);
	gb_free(ex);
}

size_t gb_explain_missing(const gb_explain *ex)
{
	size_t i, j, n = 0;

	for (i = 0; ex && i < ex->nids; i++) {
		for (j = 0; j < ex->nrecs && ex->recs[j].id_index != i; j++)
			;
		n += j == ex->nrecs;
	}
	return n;
}

/* --- ingest -------------------------------------------------------------- */

int gb_explain_row(gb_explain *ex, const gb_row *row)
{
	const gb_field *id = &row->f[GB_COL_ID];
	ex_rec *r;
	size_t i;

	ex->cur = NULL;
	for (i = 0; i < ex->nids; i++)
		if (id->len == ex->id_len[i] && id->ptr &&
		    memcmp(id->ptr, ex->ids[i], id->len) == 0)
			break;
	if (i == ex->nids)
		return 0;
	if (gb_grow_array((void **)&ex->recs, &ex->recs_cap, ex->nrecs + 1,
			  sizeof *ex->recs))
		return GB_ENOMEM;
	r = &ex->recs[ex->nrecs++];
	memset(r, 0, sizeof *r);
	r->id_index = i;
	r->line = row->line;
	r->source = gb_strdup(row->source ? row->source : "");
	if (!r->source)
		return GB_ENOMEM;
	for (i = 0; i < GB_COL__COUNT; i++) {
		const gb_field *f = &row->f[i];

		r->field[i] = gb_strndup(f->ptr ? f->ptr : "", f->ptr ? f->len : 0);
		if (!r->field[i])
			return GB_ENOMEM;
	}
	ex->cur = r;
	return 0;
}

void gb_explain_interval(gb_explain *ex, int64_t start, int64_t end,
			 int64_t billable, const gb_version *ver,
			 int64_t clip_from, int64_t clip_to, int free_spot)
{
	ex_rec *r = ex->cur;

	r->has_interval = 1;
	r->free_spot = free_spot;
	r->start = start;
	r->end = end;
	r->billable = billable;
	r->minimum = ver->minimum_seconds;
	r->increment = ver->increment_seconds;
	r->free_seconds = ver->spot_interruption_free_seconds;
	r->clip_from = clip_from;
	r->clip_to = clip_to;
}

int gb_explain_piece(gb_explain *ex, const bucket_key *k, gb_u128 qty,
		     int64_t from, int64_t to, long version, int hourly)
{
	ex_rec *r = ex->cur;
	ex_piece *p;

	if (gb_grow_array((void **)&r->pieces, &r->pieces_cap, r->npieces + 1,
			  sizeof *r->pieces))
		return GB_ENOMEM;
	p = &r->pieces[r->npieces++];
	memset(p, 0, sizeof *p);
	p->hourly = hourly;
	p->key = *k;
	p->from = from;
	p->to = to;
	p->version = version;
	p->qty = qty;
	p->bucket = -1;
	mpq_init(p->billed);
	if (!hourly) {
		/* gb_u128 into the rational, 64 bits at a time */
		mpz_set_ui(mpq_numref(p->billed), (unsigned long)(uint64_t)(qty >> 64));
		mpz_mul_2exp(mpq_numref(p->billed), mpq_numref(p->billed), 64);
		mpz_add_ui(mpq_numref(p->billed), mpq_numref(p->billed),
			   (unsigned long)(uint64_t)qty);
	}
	return 0;
}

void gb_explain_done(gb_explain *ex, const gb_outcome *out)
{
	if (out)
		ex->cur->outcome = *out;
	else
		ex->nrecs--, rec_clear(ex->cur);  /* the row was not counted */
	ex->cur = NULL;
}

/* --- finish --------------------------------------------------------------- */

int gb_explain_mark(gb_explain *ex)
{
	const gb_rater *r = ex->rater;
	size_t i, j;

	ex->marked = gb_calloc(r->nbuckets ? r->nbuckets : 1, 1);
	if (!ex->marked)
		return GB_ENOMEM;
	for (i = 0; i < ex->nrecs; i++)
		for (j = 0; j < ex->recs[i].npieces; j++) {
			ex_piece *p = &ex->recs[i].pieces[j];

			p->bucket = gb_rater_bucket_find(r, &p->key);
			if (p->bucket >= 0)
				ex->marked[p->bucket] = 1;
		}
	return 0;
}

int gb_explain_is_marked(const gb_explain *ex, long b)
{
	return b >= 0 && ex->marked && ex->marked[b];
}

int gb_explain_slice(gb_explain *ex, long b, const mpq_t base,
		     size_t merged)
{
	ex_slice *s;

	if (gb_grow_array((void **)&ex->slices, &ex->slices_cap, ex->nslices + 1,
			  sizeof *ex->slices))
		return GB_ENOMEM;
	s = &ex->slices[ex->nslices++];
	s->bucket = b;
	s->merged = merged;
	mpq_init(s->base);
	mpq_set(s->base, base);
	return 0;
}

static void mpq_set_u128_(mpq_t out, gb_u128 v)
{
	mpz_set_ui(mpq_numref(out), (unsigned long)(uint64_t)(v >> 64));
	mpz_mul_2exp(mpq_numref(out), mpq_numref(out), 64);
	mpz_add_ui(mpq_numref(out), mpq_numref(out), (unsigned long)(uint64_t)v);
	mpz_set_ui(mpq_denref(out), 1);
}

int gb_explain_invoice(gb_explain *ex, const gb_invoice *inv, size_t index)
{
	const gb_rater *r = ex->rater;
	mpq_t q, money;
	size_t i, j, k;
	int rc = 0;

	if (ex->nslices == 0)
		return 0;
	mpq_inits(q, money, NULL);
	for (i = 0; i < ex->nrecs && rc == 0; i++) {
		ex_rec *rec = &ex->recs[i];

		for (j = 0; j < rec->npieces && rc == 0; j++) {
			ex_piece *p = &rec->pieces[j];

			if (p->bucket < 0 || mpq_sgn(p->billed) == 0 ||
			    r->buckets[p->bucket].quantity == 0)
				continue;
			mpq_set_u128_(q, r->buckets[p->bucket].quantity);
			for (k = 0; k < ex->nslices && rc == 0; k++) {
				const ex_slice *s = &ex->slices[k];
				const gb_invoice_line *l;
				ex_share *sh;

				if (s->bucket != p->bucket || s->merged >= inv->nlines)
					continue;
				l = &inv->lines[s->merged];
				if (gb_grow_array((void **)&rec->shares, &rec->shares_cap,
						  rec->nshares + 1, sizeof *rec->shares)) {
					rc = GB_ENOMEM;
					break;
				}
				sh = &rec->shares[rec->nshares++];
				sh->piece = j;
				sh->invoice = index;
				sh->line = s->merged;
				mpq_inits(sh->base, sh->amount, NULL);
				/* base = billed x slice / bucket quantity */
				mpq_mul(sh->base, p->billed, s->base);
				mpq_div(sh->base, sh->base, q);
				if (mpq_sgn(l->base_quantity) == 0)
					continue;
				/* amount = base / line base x line amount */
				mpq_set_z(money, l->amount);
				mpz_ui_pow_ui(mpq_denref(money), 10, ex->minor_units);
				mpq_canonicalize(money);
				mpq_mul(sh->amount, sh->base, money);
				mpq_div(sh->amount, sh->amount, l->base_quantity);
			}
		}
	}
	mpq_clears(q, money, NULL);
	/* the next invoice records its own slices */
	for (k = 0; k < ex->nslices; k++)
		mpq_clear(ex->slices[k].base);
	ex->nslices = 0;
	return rc;
}

void gb_explain_finish(gb_explain *ex)
{
	slices_free(ex);
	ex->finished = 1;
}

/* --- writers ------------------------------------------------------------- */

static const char *field(const ex_rec *r, gb_column c)
{
	return r->field[c];
}

static void put_time(gb_buf *b, int64_t t)
{
	char buf[GB_TIME_TEXT_MAX];

	gb_time_format(buf, sizeof buf, t);
	gb_buf_puts(b, buf);
}

static void put_u128(gb_buf *b, gb_u128 v)
{
	char buf[48];
	size_t n = sizeof buf;

	buf[--n] = '\0';
	do {
		buf[--n] = (char)('0' + (int)(v % 10));
		v /= 10;
	} while (v);
	gb_buf_puts(b, buf + n);
}

/* An exact value to 6 decimals, marked "~" when it needs more. */
static void put_exact(gb_buf *b, const mpq_t v)
{
	char buf[160];
	mpz_t million;

	mpz_init(million);
	mpz_ui_pow_ui(million, 10, 6);
	if (!mpz_divisible_p(million, mpq_denref(v)))
		gb_buf_puts(b, "~");
	mpz_clear(million);
	gb_decimal_format(buf, sizeof buf, v, 0, 6, GB_ROUND_HALF_EVEN);
	gb_buf_puts(b, buf);
}

static void put_rounded(gb_buf *b, const gb_explain *ex, const mpq_t v)
{
	mpz_t m;

	mpz_init(m);
	gb_round(m, v, ex->minor_units, ex->rounding);
	gb_buf_money(b, m, ex->minor_units);
	mpz_clear(m);
}

static const char *state_text(const ex_rec *r)
{
	switch (r->outcome.state) {
	case GB_STATE_BILLED: return "billed";
	case GB_STATE_REJECTED: return "rejected";
	case GB_STATE_DUPLICATE: return "duplicate";
	case GB_STATE_OUTSIDE_PERIOD: return "outside period";
	case GB_STATE_SKIPPED: return "skipped";
	}
	return "?";
}

static int same_field(const ex_rec *a, const ex_rec *b, gb_column c)
{
	if (!a->field[c] || !b->field[c])
		return a->field[c] == b->field[c];
	return strcmp(a->field[c], b->field[c]) == 0;
}

/* The earlier row of the same record, (customer, id), that stands (for
 * duplicates): not a rejected row, nor one this run skipped. */
static const ex_rec *first_of(const gb_explain *ex, const ex_rec *r)
{
	size_t i;

	for (i = 0; &ex->recs[i] != r; i++)
		if (ex->recs[i].id_index == r->id_index &&
		    same_field(&ex->recs[i], r, GB_COL_CUSTOMER) &&
		    ex->recs[i].outcome.state != GB_STATE_REJECTED &&
		    ex->recs[i].outcome.state != GB_STATE_SKIPPED)
			return &ex->recs[i];
	return NULL;
}

static const char *piece_kind(const ex_piece *p)
{
	switch (p->key.kind) {
	case GB_LINE_GPU_ON_DEMAND: return "on-demand";
	case GB_LINE_GPU_SPOT: return "spot";
	case GB_LINE_GPU_SPOT_INTERRUPTED: return "interrupted spot";
	case GB_LINE_TOKENS_INPUT: return p->key.aux ? "batch input tokens" : "input tokens";
	case GB_LINE_TOKENS_CACHED_INPUT: return p->key.aux ? "batch cached input tokens" : "cached input tokens";
	case GB_LINE_TOKENS_OUTPUT: return p->key.aux ? "batch output tokens" : "output tokens";
	default: return "?";
	}
}

static int is_gpu(const ex_piece *p)
{
	return p->key.kind <= GB_LINE_GPU_SPOT_INTERRUPTED;
}

static const gb_version *version_of(const gb_explain *ex, const ex_piece *p)
{
	return &ex->rater->prices->versions[p->version];
}

/* The price a piece met, as the table writes it. */
static void put_price(gb_buf *b, const gb_explain *ex, const ex_piece *p)
{
	const gb_price *price;
	char buf[96];

	if (p->key.price < 0) {
		gb_buf_puts(b, "no charge");
		return;
	}
	price = ex->rater->prices_by_id[p->key.price];
	if (price->mode == GB_PRICE_FLAT) {
		gb_decimal_format(buf, sizeof buf, price->flat, 2, 18, GB_ROUND_HALF_EVEN);
		gb_buf_puts(b, buf);
	} else {
		gb_buf_puts(b, price->mode == GB_PRICE_GRADUATED ?
			    "graduated tiers" : "volume tiers");
	}
	gb_buf_puts(b, is_gpu(p) ? " per GPU-hour" : " per 1M tokens");
	if (p->key.aux) {
		gb_decimal_format(buf, sizeof buf, version_of(ex, p)->batch_discount,
				  0, 18, GB_ROUND_HALF_EVEN);
		gb_buf_printf(b, ", less the batch discount %s", buf);
	}
}

static void line_money(gb_buf *b, const gb_explain *ex, const gb_invoice_line *l)
{
	gb_buf_money(b, l->amount, ex->minor_units);
}

static void total_share(const ex_rec *r, mpq_t out)
{
	size_t i;

	mpq_set_ui(out, 0, 1);
	for (i = 0; i < r->nshares; i++)
		mpq_add(out, out, r->shares[i].amount);
}

static int check(const gb_explain *ex, const gb_invoice_set *set, gb_error *err)
{
	if (!ex || !set || !ex->finished)
		return gb_error_set(err, GB_EINVAL, "explain: the rater is not finished");
	/* shares point at invoices by number: they must be held */
	if (set->nstreamed)
		return gb_error_set(err, GB_EINVAL, "explain: needs the set of "
				    "gb_rater_finish, which holds its invoices");
	return 0;
}

static void text_usage(gb_buf *b, const ex_rec *r)
{
	gb_buf_printf(b, "  customer: %s\n", field(r, GB_COL_CUSTOMER));
	if (strcmp(field(r, GB_COL_TYPE), "tokens") == 0) {
		gb_buf_printf(b, "  usage: tokens, model %s%s%s, start %s, input %s, cached %s, output %s%s\n",
			      field(r, GB_COL_MODEL),
			      *field(r, GB_COL_REGION) ? ", region " : "",
			      field(r, GB_COL_REGION), field(r, GB_COL_START),
			      *field(r, GB_COL_INPUT_TOKENS) ? field(r, GB_COL_INPUT_TOKENS) : "0",
			      *field(r, GB_COL_CACHED_TOKENS) ? field(r, GB_COL_CACHED_TOKENS) : "0",
			      *field(r, GB_COL_OUTPUT_TOKENS) ? field(r, GB_COL_OUTPUT_TOKENS) : "0",
			      *field(r, GB_COL_BATCH) ? (strcmp(field(r, GB_COL_BATCH), "true") == 0 ||
							 strcmp(field(r, GB_COL_BATCH), "1") == 0 ?
							 ", batch" : "") : "");
		return;
	}
	gb_buf_printf(b, "  usage: %s %s, region %s, %s GPUs, %s%s, %s to %s\n",
		      field(r, GB_COL_TYPE), field(r, GB_COL_SKU),
		      field(r, GB_COL_REGION), field(r, GB_COL_GPUS),
		      *field(r, GB_COL_MARKET) ? field(r, GB_COL_MARKET) : "on_demand",
		      strcmp(field(r, GB_COL_INTERRUPTED), "true") == 0 ||
		      strcmp(field(r, GB_COL_INTERRUPTED), "1") == 0 ? ", interrupted" : "",
		      field(r, GB_COL_START), field(r, GB_COL_END));
}

static void text_interval(gb_buf *b, const ex_rec *r)
{
	if (!r->has_interval)
		return;
	if (r->free_spot) {
		gb_buf_printf(b, "  ran %lld s, interrupted by the provider before %lld s: not charged\n",
			      (long long)(r->end - r->start), (long long)r->free_seconds);
	} else {
		gb_buf_printf(b, "  billable: ran %lld s; increment %lld s, minimum %lld s: %lld s, ",
			      (long long)(r->end - r->start), (long long)r->increment,
			      (long long)r->minimum, (long long)r->billable);
		put_time(b, r->start);
		gb_buf_puts(b, " to ");
		put_time(b, r->start + r->billable);
		gb_buf_puts(b, "\n");
	}
	gb_buf_puts(b, "  in the period: ");
	put_time(b, r->clip_from);
	gb_buf_puts(b, " to ");
	put_time(b, r->clip_to);
	gb_buf_puts(b, "\n");
}

static void text_piece(gb_buf *b, const gb_explain *ex, const gb_invoice_set *set,
		       const ex_rec *r, size_t j)
{
	const ex_piece *p = &r->pieces[j];
	size_t k;

	gb_buf_printf(b, "  piece %zu: ", j + 1);
	if (is_gpu(p)) {
		put_time(b, p->from);
		gb_buf_puts(b, " to ");
		put_time(b, p->to);
		gb_buf_printf(b, ", %s GPUs x %lld s = ", field(r, GB_COL_GPUS),
			      (long long)(p->to - p->from));
		put_u128(b, p->qty);
		gb_buf_puts(b, " GPU-seconds, ");
	} else {
		put_u128(b, p->qty);
		gb_buf_puts(b, " ");
	}
	gb_buf_printf(b, "%s at ", piece_kind(p));
	put_price(b, ex, p);
	gb_buf_puts(b, " (price version from ");
	put_time(b, version_of(ex, p)->effective_from);
	gb_buf_puts(b, ")\n");
	if (p->hourly) {
		mpq_t covered;

		mpq_init(covered);
		mpq_set_u128_(covered, p->qty);
		mpq_sub(covered, covered, p->billed);
		gb_buf_puts(b, "    reservations: in the hour from ");
		put_time(b, p->from - ((p->from % 3600) + 3600) % 3600);
		gb_buf_puts(b, " the customer used ");
		put_u128(b, p->hour_total);
		gb_buf_puts(b, " on-demand GPU-seconds of this sku and region; reserved capacity ");
		put_u128(b, p->hour_capacity);
		if (p->covered_by)
			gb_buf_printf(b, " (%s)", p->covered_by);
		gb_buf_puts(b, "\n    covered by reservations: ");
		put_exact(b, covered);
		gb_buf_puts(b, " GPU-seconds; left to bill on demand: ");
		put_exact(b, p->billed);
		gb_buf_puts(b, " GPU-seconds\n");
		mpq_clear(covered);
	}
	for (k = 0; k < r->nshares; k++) {
		const ex_share *s = &r->shares[k];
		const gb_invoice *inv;
		const gb_invoice_line *l;
		char q[96];

		if (s->piece != j)
			continue;
		inv = &set->invoices[s->invoice];
		l = &inv->lines[s->line];
		gb_buf_printf(b, "    -> %s line %zu, %s: ", inv->customer, s->line + 1,
			      l->description);
		put_exact(b, s->base);
		gb_decimal_format(q, sizeof q, l->base_quantity, 0, 6, GB_ROUND_HALF_EVEN);
		gb_buf_printf(b, " of %s %s, amount ", q,
			      is_gpu(p) ? "GPU-seconds" : "tokens");
		line_money(b, ex, l);
		gb_buf_puts(b, "; share ");
		put_exact(b, s->amount);
		gb_buf_puts(b, "\n");
	}
}

/* What reservations covered, summed over the record's hours. */
static void covered_note(gb_buf *b, const ex_rec *r)
{
	mpq_t covered, all, q;
	size_t j;
	int hourly = 0;

	mpq_inits(covered, all, q, NULL);
	for (j = 0; j < r->npieces; j++) {
		const ex_piece *p = &r->pieces[j];

		if (!p->hourly)
			continue;
		hourly = 1;
		mpq_set_u128_(q, p->qty);
		mpq_add(all, all, q);
		mpq_sub(q, q, p->billed);
		mpq_add(covered, covered, q);
	}
	if (hourly) {
		gb_buf_puts(b, "  reserved capacity covered ");
		put_exact(b, covered);
		gb_buf_puts(b, " of its ");
		put_exact(b, all);
		gb_buf_puts(b, " on-demand GPU-seconds; that capacity is billed on the "
			    "reservation lines, used or not\n");
	}
	mpq_clears(covered, all, q, NULL);
}

static void text_rec(gb_buf *b, const gb_explain *ex, const gb_invoice_set *set,
		     const ex_rec *r)
{
	size_t j;

	gb_buf_printf(b, "Record %s (%s, line %llu): %s\n", ex->ids[r->id_index],
		      r->source, (unsigned long long)r->line, state_text(r));
	text_usage(b, r);
	switch (r->outcome.state) {
	case GB_STATE_REJECTED:
		gb_buf_printf(b, "  rejected (%s): %s\n",
			      gb_reason_code(r->outcome.reason), r->outcome.message);
		return;
	case GB_STATE_DUPLICATE: {
		const ex_rec *f = first_of(ex, r);

		if (f)
			gb_buf_printf(b, "  a retry of %s, line %llu (same customer, id and content): not billed again\n",
				      f->source, (unsigned long long)f->line);
		else
			gb_buf_puts(b, "  a retry of an earlier row (same customer, id and content): not billed again\n");
		return;
	}
	case GB_STATE_OUTSIDE_PERIOD:
		gb_buf_puts(b, "  no billable second of it falls in the billing period\n");
		return;
	case GB_STATE_SKIPPED:
		gb_buf_puts(b, "  another customer's row in this run (--customer or --shard)\n");
		return;
	case GB_STATE_BILLED:
		break;
	}
	text_interval(b, r);
	for (j = 0; j < r->npieces; j++)
		text_piece(b, ex, set, r, j);
	{
		mpq_t t;

		mpq_init(t);
		total_share(r, t);
		gb_buf_printf(b, "  charge: ");
		put_rounded(b, ex, t);
		gb_buf_printf(b, " %s (exact ", set->currency);
		put_exact(b, t);
		gb_buf_puts(b, "), before the customer's discounts, minimum spend and credits\n");
		covered_note(b, r);
		mpq_clear(t);
	}
}

/* The ids no row had: as text lines (how 0), JSON strings (1), CSV rows (2). */
static void missing_ids(gb_buf *b, const gb_explain *ex, int how)
{
	size_t i, j, n = 0;

	for (i = 0; i < ex->nids; i++) {
		for (j = 0; j < ex->nrecs && ex->recs[j].id_index != i; j++)
			;
		if (j < ex->nrecs)
			continue;
		if (how == 1) {
			gb_buf_puts(b, n ? ", " : "");
			gb_buf_json_string(b, ex->ids[i]);
		} else if (how == 2) {
			gb_buf_csv_cell(b, ex->ids[i], 0);
			gb_buf_puts(b, ",,not_found,,,,,,,,,,,\r\n");
		} else {
			gb_buf_printf(b, "Record %s: no row has this id\n", ex->ids[i]);
		}
		n++;
	}
}

/* Records in the order of the ids, then of the input. */
#define FOR_EACH_REC(ex, i, j) \
	for (i = 0; i < (ex)->nids; i++) \
		for (j = 0; j < (ex)->nrecs; j++) \
			if ((ex)->recs[j].id_index == i)

int gb_explain_write_text(const gb_explain *ex, const gb_invoice_set *set,
			  gb_write_fn fn, void *payload, gb_error *err)
{
	gb_buf b;
	size_t i, j, n = 0;
	int rc = check(ex, set, err);

	if (rc)
		return rc;
	gb_buf_init(&b);
	FOR_EACH_REC(ex, i, j) {
		if (n++)
			gb_buf_puts(&b, "\n");
		text_rec(&b, ex, set, &ex->recs[j]);
	}
	if (n && gb_explain_missing(ex))
		gb_buf_puts(&b, "\n");
	missing_ids(&b, ex, 0);
	rc = gb_buf_flush(&b, fn, payload, err);
	gb_buf_free(&b);
	return rc;
}

/* --- CSV: one row per share (or per record without one) ------------------- */

static void csv_text(gb_buf *b, const char *s)
{
	gb_buf_csv_cell(b, s, 0);
}

static void csv_row(gb_buf *b, const gb_explain *ex, const gb_invoice_set *set,
		    const ex_rec *r, const ex_share *s)
{
	char buf[128];
	const ex_piece *p = s ? &r->pieces[s->piece] : NULL;

	csv_text(b, ex->ids[r->id_index]);
	csv_text(b, r->source);
	gb_buf_printf(b, "%llu,", (unsigned long long)r->line);
	gb_buf_printf(b, "%s,", gb_state_name(r->outcome.state));
	gb_buf_printf(b, "%s,", r->outcome.state == GB_STATE_REJECTED ?
		      gb_reason_code(r->outcome.reason) : "");
	csv_text(b, field(r, GB_COL_CUSTOMER));
	if (!p) {
		gb_buf_puts(b, ",,,,,,,,\r\n");
		return;
	}
	gb_buf_printf(b, "%zu,", s->piece + 1);
	if (is_gpu(p)) {
		put_time(b, p->from);
		gb_buf_puts(b, ",");
		put_time(b, p->to);
		gb_buf_puts(b, ",");
	} else {
		gb_buf_puts(b, ",,");
	}
	gb_buf_printf(b, "%s,", gb_line_kind_name((gb_line_kind)p->key.kind));
	put_exact(b, s->base);
	gb_buf_puts(b, ",");
	gb_buf_printf(b, "%zu,", s->line + 1);
	csv_text(b, set->invoices[s->invoice].lines[s->line].description);
	line_money(b, ex, &set->invoices[s->invoice].lines[s->line]);
	gb_buf_puts(b, ",");
	gb_decimal_format(buf, sizeof buf, s->amount, 0, 6, GB_ROUND_HALF_EVEN);
	gb_buf_printf(b, "%s\r\n", buf);
}

int gb_explain_write_csv(const gb_explain *ex, const gb_invoice_set *set,
			 gb_write_fn fn, void *payload, gb_error *err)
{
	gb_buf b;
	size_t i, j, k;
	int rc = check(ex, set, err);

	if (rc)
		return rc;
	gb_buf_init(&b);
	gb_buf_puts(&b, "id,file,line,state,reason,customer,piece,from,to,kind,"
		    "base_quantity,invoice_line,description,line_amount,share\r\n");
	FOR_EACH_REC(ex, i, j) {
		const ex_rec *r = &ex->recs[j];

		if (!r->nshares)
			csv_row(&b, ex, set, r, NULL);
		for (k = 0; k < r->nshares; k++)
			csv_row(&b, ex, set, r, &r->shares[k]);
	}
	missing_ids(&b, ex, 2);
	rc = gb_buf_flush(&b, fn, payload, err);
	gb_buf_free(&b);
	return rc;
}

/* --- JSON ------------------------------------------------------------------ */

static void json_exact(gb_buf *b, const char *key, const mpq_t v, int comma)
{
	char buf[160];

	gb_decimal_format(buf, sizeof buf, v, 0, 18, GB_ROUND_HALF_EVEN);
	gb_buf_printf(b, "\"%s\": \"%s\", \"%s_fraction\": \"", key, buf, key);
	if (mpz_sizeinbase(mpq_numref(v), 10) + mpz_sizeinbase(mpq_denref(v), 10) < 140) {
		mpz_get_str(buf, 10, mpq_numref(v));
		gb_buf_puts(b, buf);
		if (mpz_cmp_ui(mpq_denref(v), 1) != 0) {
			mpz_get_str(buf, 10, mpq_denref(v));
			gb_buf_printf(b, "/%s", buf);
		}
	}
	gb_buf_puts(b, comma ? "\", " : "\"");
}

static void json_piece(gb_buf *b, const gb_explain *ex, const gb_invoice_set *set,
		       const ex_rec *r, size_t j)
{
	const ex_piece *p = &r->pieces[j];
	size_t k, n = 0;

	gb_buf_printf(b, "        {\"kind\": \"%s\", ", gb_line_kind_name((gb_line_kind)p->key.kind));
	if (is_gpu(p)) {
		gb_buf_puts(b, "\"from\": \"");
		put_time(b, p->from);
		gb_buf_puts(b, "\", \"to\": \"");
		put_time(b, p->to);
		gb_buf_puts(b, "\", ");
	}
	gb_buf_puts(b, "\"quantity\": \"");
	put_u128(b, p->qty);
	gb_buf_printf(b, "\", \"unit\": \"%s\", \"batch\": %s, \"price\": ",
		      is_gpu(p) ? "GPU-second" : "token", p->key.aux ? "true" : "false");
	{
		gb_buf t;

		gb_buf_init(&t);
		put_price(&t, ex, p);
		gb_buf_add(&t, "", 1);
		gb_buf_json_string(b, t.failed ? "" : t.data);
		b->failed |= t.failed;
		gb_buf_free(&t);
	}
	gb_buf_puts(b, ", \"version_from\": \"");
	put_time(b, version_of(ex, p)->effective_from);
	gb_buf_puts(b, "\", ");
	if (p->hourly) {
		gb_buf_puts(b, "\"reservations\": {\"hour\": \"");
		put_time(b, p->from - ((p->from % 3600) + 3600) % 3600);
		gb_buf_puts(b, "\", \"customer_seconds\": \"");
		put_u128(b, p->hour_total);
		gb_buf_puts(b, "\", \"reserved_seconds\": \"");
		put_u128(b, p->hour_capacity);
		gb_buf_puts(b, "\", \"covered_by\": ");
		gb_buf_json_string(b, p->covered_by ? p->covered_by : "");
		gb_buf_puts(b, "}, ");
	}
	json_exact(b, "billed", p->billed, 1);
	gb_buf_puts(b, "\"lines\": [");
	for (k = 0; k < r->nshares; k++) {
		const ex_share *s = &r->shares[k];
		const gb_invoice *inv;

		if (s->piece != j)
			continue;
		inv = &set->invoices[s->invoice];
		gb_buf_puts(b, n++ ? ",\n          " : "\n          ");
		gb_buf_puts(b, "{\"customer\": ");
		gb_buf_json_string(b, inv->customer);
		gb_buf_printf(b, ", \"line\": %zu, \"description\": ", s->line + 1);
		gb_buf_json_string(b, inv->lines[s->line].description);
		gb_buf_puts(b, ", \"line_amount\": \"");
		line_money(b, ex, &inv->lines[s->line]);
		gb_buf_puts(b, "\", ");
		json_exact(b, "base_quantity", s->base, 1);
		json_exact(b, "share", s->amount, 0);
		gb_buf_puts(b, "}");
	}
	gb_buf_puts(b, n ? "\n        ]}" : "]}");
}

static void json_rec(gb_buf *b, const gb_explain *ex, const gb_invoice_set *set,
		     const ex_rec *r)
{
	static const char *const cols[GB_COL__COUNT] = {
		"id", "customer", "type", "start", "end", "sku", "region", "gpus",
		"market", "interrupted", "model", "input_tokens", "cached_tokens",
		"output_tokens", "batch"
	};
	size_t i;

	gb_buf_puts(b, "    {\"id\": ");
	gb_buf_json_string(b, ex->ids[r->id_index]);
	gb_buf_puts(b, ", \"file\": ");
	gb_buf_json_string(b, r->source);
	gb_buf_printf(b, ", \"line\": %llu, \"state\": \"%s\", \"reason\": \"%s\", \"message\": ",
		      (unsigned long long)r->line, gb_state_name(r->outcome.state),
		      r->outcome.state == GB_STATE_REJECTED ?
		      gb_reason_code(r->outcome.reason) : "");
	gb_buf_json_string(b, r->outcome.state == GB_STATE_REJECTED ?
			   r->outcome.message : "");
	gb_buf_puts(b, ",\n      \"fields\": {");
	for (i = 0; i < GB_COL__COUNT; i++) {
		gb_buf_printf(b, "%s\"%s\": ", i ? ", " : "", cols[i]);
		gb_buf_json_string(b, r->field[i]);
	}
	gb_buf_puts(b, "}");
	if (r->outcome.state == GB_STATE_BILLED && r->has_interval) {
		gb_buf_printf(b, ",\n      \"interval\": {\"seconds\": %lld, \"not_charged\": %s, "
			      "\"increment\": %lld, \"minimum\": %lld, \"billable\": %lld, \"from\": \"",
			      (long long)(r->end - r->start), r->free_spot ? "true" : "false",
			      (long long)r->increment, (long long)r->minimum,
			      (long long)(r->free_spot ? 0 : r->billable));
		put_time(b, r->clip_from);
		gb_buf_puts(b, "\", \"to\": \"");
		put_time(b, r->clip_to);
		gb_buf_puts(b, "\"}");
	}
	if (r->outcome.state == GB_STATE_BILLED) {
		mpq_t t;

		gb_buf_puts(b, ",\n      \"pieces\": [");
		for (i = 0; i < r->npieces; i++) {
			gb_buf_puts(b, i ? ",\n" : "\n");
			json_piece(b, ex, set, r, i);
		}
		gb_buf_puts(b, r->npieces ? "\n      ],\n      " : "],\n      ");
		mpq_init(t);
		total_share(r, t);
		gb_buf_puts(b, "\"charge\": \"");
		put_rounded(b, ex, t);
		gb_buf_puts(b, "\", ");
		json_exact(b, "charge_exact", t, 0);
		mpq_clear(t);
	}
	gb_buf_puts(b, "}");
}

int gb_explain_write_json(const gb_explain *ex, const gb_invoice_set *set,
			  gb_write_fn fn, void *payload, gb_error *err)
{
	gb_buf b;
	size_t i, j, n = 0;
	int rc = check(ex, set, err);

	if (rc)
		return rc;
	gb_buf_init(&b);
	gb_buf_printf(&b, "{\n  \"format\": \"gpubill-explain/1\",\n  \"currency\": \"%s\",\n"
		      "  \"records\": [", set->currency);
	FOR_EACH_REC(ex, i, j) {
		gb_buf_puts(&b, n++ ? ",\n" : "\n");
		json_rec(&b, ex, set, &ex->recs[j]);
	}
	gb_buf_puts(&b, n ? "\n  ],\n  \"missing\": [" : "],\n  \"missing\": [");
	missing_ids(&b, ex, 1);
	gb_buf_puts(&b, "]\n}\n");
	rc = gb_buf_flush(&b, fn, payload, err);
	gb_buf_free(&b);
	return rc;
}
