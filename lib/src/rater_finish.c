/*
 * rater_finish.c - turn integer buckets into invoices (SPEC 6).
 *
 * 1. Reservations, hour by hour: charge each reservation hour in the
 *    period, cover the customer's on-demand GPU-seconds of that hour
 *    cheapest reservation first (ties by id), and move what is left to the
 *    on-demand buckets.
 * 2. Every bucket becomes one or more "proto-lines" (one per graduated
 *    tier slice) with an exact quantity and unit price.
 * 3. Proto-lines with the same line key are merged: GPU lines by (kind,
 *    sku, region, unit price), token lines by (kind, model, unit price),
 *    reservation lines by (reservation, unit price), tier slices by tier.
 * 4. Each merged line is priced and rounded once; then discounts, the
 *    minimum-spend shortfall and credits are applied to the rounded lines.
 */
#include "rater_internal.h"
#include "explain_internal.h"

#include <gpubill/money.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct proto {
	const cust_rec *cust;
	gb_line_kind kind;
	const char *name;          /* sku or model; "" for contract lines */
	const char *region;        /* GPU and reservation lines; "" for tokens */
	const char *reference;     /* reservation id, else "" */
	const gb_reservation *res;
	unsigned tier;
	const gb_price *price;     /* tiered price object for labels, or NULL */
	int batch;                 /* 1 batch, 0 not, -1 mixed after merging */
	uint32_t order;            /* the price's place in the table */
	long bucket;               /* the bucket it came from, -1 = none */
	mpq_t unit_price;
	mpq_t quantity;            /* display units */
	mpq_t base;                /* GPU-seconds or tokens */
	mpq_t covered;             /* reservation lines: covered GPU-seconds */
	uint64_t records;
} proto;

typedef struct proto_list {
	proto *v;
	size_t n;
	size_t cap;
} proto_list;

static proto *proto_new(proto_list *pl, const cust_rec *c, gb_line_kind kind)
{
	proto *p;

	if (gb_grow_array((void **)&pl->v, &pl->cap, pl->n + 1, sizeof *pl->v))
		return NULL;
	p = &pl->v[pl->n++];
	memset(p, 0, sizeof *p);
	p->cust = c;
	p->kind = kind;
	p->name = p->region = p->reference = "";
	p->bucket = -1;
	mpq_init(p->unit_price);
	mpq_init(p->quantity);
	mpq_init(p->base);
	mpq_init(p->covered);
	return p;
}

static void proto_list_free(proto_list *pl)
{
	size_t i;

	for (i = 0; i < pl->n; i++) {
		mpq_clear(pl->v[i].unit_price);
		mpq_clear(pl->v[i].quantity);
		mpq_clear(pl->v[i].base);
		mpq_clear(pl->v[i].covered);
	}
	gb_free(pl->v);
}

static void mpz_set_u128(mpz_t out, gb_u128 v)
{
	mpz_set_ui(out, (unsigned long)(uint64_t)(v >> 64));
	mpz_mul_2exp(out, out, 64);
	mpz_add_ui(out, out, (unsigned long)(uint64_t)v);
}

static void mpq_set_u128(mpq_t out, gb_u128 v)
{
	mpz_set_u128(mpq_numref(out), v);
	mpz_set_ui(mpq_denref(out), 1);
}

/* --- 1. reservations ------------------------------------------------------------ */

/* A reservation's charge at one rate: hours charged, GPU-seconds covered. */
typedef struct res_rate {
	const gb_reservation *res;
	const mpq_t *rate;         /* points into the contract or the table */
	uint64_t hours;
	gb_u128 covered;
} res_rate;

typedef struct res_state {
	res_rate *v;
	size_t n, cap;
} res_state;

static const mpq_t *reservation_rate(const gb_prices *p,
				     const gb_reservation *res, int64_t hour)
{
	long v;
	const gb_gpu_rate *rate;
	const gb_price *price;

	if (res->has_rate)
		return (const mpq_t *)&res->rate;
	/* The contracts loader checked that every hour has a flat price. */
	v = gb_prices_version_at(p, hour);
	if (v < 0)
		return NULL;
	rate = gb_version_gpu_rate(&p->versions[v], res->sku, res->region);
	price = rate ? gb_gpu_rate_reserved(rate, res->term) : NULL;
	if (!price || price->mode != GB_PRICE_FLAT)
		return NULL;
	return (const mpq_t *)&price->flat;
}

static res_rate *res_rate_get(res_state *st, const gb_reservation *res,
			      const mpq_t *rate)
{
	size_t i;

	for (i = 0; i < st->n; i++)
		if (st->v[i].res == res && mpq_equal(*st->v[i].rate, *rate))
			return &st->v[i];
	if (gb_grow_array((void **)&st->v, &st->cap, st->n + 1, sizeof *st->v))
		return NULL;
	memset(&st->v[st->n], 0, sizeof st->v[st->n]);
	st->v[st->n].res = res;
	st->v[st->n].rate = rate;
	return &st->v[st->n++];
}

typedef struct active_res {
	const gb_reservation *res;
	const mpq_t *rate;
} active_res;

static int active_cmp(const active_res *a, const active_res *b)
{
	int c = mpq_cmp(*a->rate, *b->rate);

	return c ? c : strcmp(a->res->id, b->res->id);
}

/* Cover one (customer, sku, region) group's usage, hour by hour. */
static int reserve_group(gb_rater *r, uint32_t cust, const gb_contract *k,
			 const gb_reservation *lead, res_state *st)
{
	const gb_prices *p = r->prices;
	long ei = gb_rater_entry_find(r, ENTRY_GPU, lead->sku, strlen(lead->sku),
				      lead->region, strlen(lead->region));
	active_res act[64], *active = act;
	size_t nres = 0, i, na;
	int64_t h;
	int rc = 0;

	for (i = 0; i < k->nreservations; i++)
		if (strcmp(k->reservations[i].sku, lead->sku) == 0 &&
		    strcmp(k->reservations[i].region, lead->region) == 0)
			nres++;
	if (nres > sizeof act / sizeof act[0]) {
		active = gb_calloc(nres, sizeof *active);
		if (!active)
			return GB_ENOMEM;
	}
	for (h = r->from - ((r->from % 3600) + 3600) % 3600; h < r->to && rc == 0;
	     h += 3600) {
		const hour_bucket *hb = ei >= 0 ?
			gb_rater_hour_find(r, cust, (uint32_t)ei, h) : NULL;
		gb_u128 left = hb ? hb->seconds : 0;

		na = 0;
		for (i = 0; i < k->nreservations; i++) {
			const gb_reservation *res = &k->reservations[i];
			size_t j;

			if (strcmp(res->sku, lead->sku) != 0 ||
			    strcmp(res->region, lead->region) != 0 ||
			    h < res->start || h >= res->end)
				continue;
			active[na].res = res;
			active[na].rate = reservation_rate(p, res, h);
			if (!active[na].rate)
				continue; /* cannot happen after contract checks */
			/* insertion sort: cheapest first, ties by id */
			for (j = na; j > 0 && active_cmp(&active[j], &active[j - 1]) < 0; j--) {
				active_res t = active[j];

				active[j] = active[j - 1];
				active[j - 1] = t;
			}
			na++;
		}
		for (i = 0; i < na && rc == 0; i++) {
			gb_u128 cap = (gb_u128)active[i].res->gpus * 3600;
			gb_u128 c = left < cap ? left : cap;
			res_rate *rr = res_rate_get(st, active[i].res, active[i].rate);

			if (!rr) {
				rc = GB_ENOMEM;
				break;
			}
			rr->covered += c;
			left -= c;
			if (h >= r->from)
				rr->hours++;
		}
		if (rc == 0 && left > 0) {
			long v = gb_prices_version_at(p, h < r->from ? r->from : h);
			bucket_key key;
			bucket *b;

			memset(&key, 0, sizeof key);
			key.customer = cust;
			key.entry = (uint32_t)ei;
			key.kind = GB_LINE_GPU_ON_DEMAND;
			key.price = r->entries[ei].price[v * NSLOTS + SLOT_ON_DEMAND];
			b = gb_rater_bucket(r, &key);
			if (!b)
				rc = GB_ENOMEM;
			else
				b->quantity += left;
		}
	}
	if (active != act)
		gb_free(active);
	return rc;
}

static int reservations(gb_rater *r, proto_list *pl, size_t ncust)
{
	size_t c, i, j;
	int rc = 0;

	for (c = 0; c < ncust && rc == 0; c++) {
		const cust_rec *cr = &r->customers[c];
		const gb_contract *k = cr->contract;
		res_state st = { NULL, 0, 0 };

		if (!cr->selected || !k || !k->nreservations)
			continue;
		for (i = 0; i < k->nreservations && rc == 0; i++) {
			/* once per (sku, region): at its first reservation */
			for (j = 0; j < i; j++)
				if (strcmp(k->reservations[j].sku, k->reservations[i].sku) == 0 &&
				    strcmp(k->reservations[j].region, k->reservations[i].region) == 0)
					break;
			if (j == i)
				rc = reserve_group(r, (uint32_t)c, k,
						   &k->reservations[i], &st);
		}
		for (i = 0; i < st.n && rc == 0; i++) {
			const res_rate *rr = &st.v[i];
			proto *p;

			if (rr->hours == 0)
				continue;
			p = proto_new(pl, cr, GB_LINE_GPU_RESERVED);
			if (!p) {
				rc = GB_ENOMEM;
				break;
			}
			p->res = rr->res;
			p->name = rr->res->sku;
			p->region = rr->res->region;
			p->reference = rr->res->id;
			mpq_set(p->unit_price, *rr->rate);
			mpq_set_ui(p->base, rr->hours, 1);
			mpz_mul_ui(mpq_numref(p->base), mpq_numref(p->base),
				   (unsigned long)rr->res->gpus * 3600ul);
			mpq_set(p->quantity, p->base);
			mpz_set_ui(mpq_denref(p->quantity), 3600);
			mpq_canonicalize(p->quantity);
			mpq_set_u128(p->covered, rr->covered);
		}
		gb_free(st.v);
	}
	return rc;
}

/* --- 2. buckets to proto-lines ------------------------------------------------- */

/*
 * Where a tiered bucket stands among the customer's usage of the period.
 * Tiers apply to the customer's quantity in the period (SPEC 4): all of
 * one kind, sku or model, region (and, for tokens, batch or not), taken in
 * time order across price versions.  So a bucket's slice of that quantity
 * starts at `offset` (the tiered usage of earlier versions) and the group's
 * `total` picks the volume tier.  Units: GPU-seconds or tokens.
 */
typedef struct tier_pos {
	gb_u128 offset;
	gb_u128 total;
} tier_pos;

typedef struct tier_ref {
	const gb_rater *r;
	size_t bucket;
} tier_ref;

/*
 * The group whose period quantity a tier sees: GPU usage per (customer,
 * kind, sku, region), as GPU lines are per region; token usage per
 * (customer, kind, model, batch or not) across regions, as token lines are.
 */
static int tier_group_cmp(const gb_rater *r, const bucket *a, const bucket *b)
{
	const entry *ea = &r->entries[a->key.entry], *eb = &r->entries[b->key.entry];

	if (a->key.customer != b->key.customer)
		return a->key.customer < b->key.customer ? -1 : 1;
	if (a->key.kind != b->key.kind)
		return a->key.kind < b->key.kind ? -1 : 1;
	if (ea->type == ENTRY_TOKENS) {
		int c = strcmp(ea->name, eb->name);

		if (c)
			return c;
	} else if (a->key.entry != b->key.entry) {
		return a->key.entry < b->key.entry ? -1 : 1;
	}
	if ((a->key.aux != 0) != (b->key.aux != 0))
		return a->key.aux ? 1 : -1;
	return 0;
}

static int tier_ref_cmp(const void *pa, const void *pb)
{
	const tier_ref *a = pa, *b = pb;
	const gb_rater *r = a->r;
	const bucket *x = &r->buckets[a->bucket], *y = &r->buckets[b->bucket];
	int c = tier_group_cmp(r, x, y);
	uint32_t vx, vy;

	if (c)
		return c;
	vx = r->price_version[x->key.price];
	vy = r->price_version[y->key.price];
	if (vx != vy)
		return vx < vy ? -1 : 1;
	/* within a version: by region (tokens), then the table's order */
	c = strcmp(r->entries[x->key.entry].region, r->entries[y->key.entry].region);
	if (c)
		return c;
	return x->key.price < y->key.price ? -1 : x->key.price > y->key.price;
}

static int is_tiered(const gb_rater *r, const bucket *b)
{
	return b->key.price >= 0 &&
	       r->prices_by_id[b->key.price]->mode != GB_PRICE_FLAT;
}

/* Fill pos[i] for every tiered bucket i (others keep offset 0). */
static int tier_positions(const gb_rater *r, tier_pos *pos)
{
	tier_ref *refs;
	size_t n = 0, i, j;

	refs = gb_calloc(r->nbuckets, sizeof *refs);
	if (!refs)
		return GB_ENOMEM;
	for (i = 0; i < r->nbuckets; i++)
		if (is_tiered(r, &r->buckets[i])) {
			refs[n].r = r;
			refs[n++].bucket = i;
		}
	if (n)
		qsort(refs, n, sizeof *refs, tier_ref_cmp);
	for (i = 0; i < n; i = j) {
		gb_u128 run = 0;

		for (j = i; j < n && tier_group_cmp(r, &r->buckets[refs[i].bucket],
						     &r->buckets[refs[j].bucket]) == 0; j++) {
			pos[refs[j].bucket].offset = run;
			run += r->buckets[refs[j].bucket].quantity;
		}
		for (size_t k = i; k < j; k++)
			pos[refs[k].bucket].total = run;
	}
	gb_free(refs);
	return 0;
}

/*
 * Quantity q at price, from position off in its group whose period total
 * is total (all in tier units: GPU-hours or tokens).  Display quantities
 * are q * unit_scale; unit prices are scaled by factor (batch discount).
 * Graduated: each tier bills the part of [off, off + q) inside it.
 * Volume: all of q at the first tier whose bound the total does not pass.
 */
static int price_protos(proto_list *pl, const proto *tmpl, const gb_price *price,
			const mpq_t q, const mpq_t off, const mpq_t total,
			const mpq_t unit_scale, const mpq_t factor)
{
	mpq_t slice, lo, hi, end;
	size_t t, n = price->mode == GB_PRICE_FLAT ? 1 : price->ntiers;
	int rc = 0;

	mpq_inits(slice, lo, hi, end, NULL);
	mpq_add(end, off, q);
	for (t = 0; t < n && rc == 0; t++) {
		const mpq_t *unit = price->mode == GB_PRICE_FLAT ?
			(const mpq_t *)&price->flat : (const mpq_t *)&price->tiers[t].price;
		proto *p;

		if (price->mode == GB_PRICE_FLAT) {
			mpq_set(slice, q);
		} else if (price->mode == GB_PRICE_VOLUME) {
			if (price->tiers[t].bounded &&
			    mpq_cmp(total, price->tiers[t].up_to) > 0)
				continue;
			mpq_set(slice, q);
			n = t + 1;  /* this tier prices all of it */
		} else {
			/* the tier spans (lower bound, up_to] */
			if (t == 0)
				mpq_set_ui(lo, 0, 1);
			else
				mpq_set(lo, price->tiers[t - 1].up_to);
			if (mpq_cmp(lo, off) < 0)
				mpq_set(lo, off);
			if (price->tiers[t].bounded && mpq_cmp(price->tiers[t].up_to, end) < 0)
				mpq_set(hi, price->tiers[t].up_to);
			else
				mpq_set(hi, end);
			if (mpq_cmp(hi, lo) <= 0)
				continue;
			mpq_sub(slice, hi, lo);
		}
		p = proto_new(pl, tmpl->cust, tmpl->kind);
		if (!p) {
			rc = GB_ENOMEM;
			break;
		}
		p->name = tmpl->name;
		p->region = tmpl->region;
		p->batch = tmpl->batch;
		p->records = tmpl->records;
		p->order = tmpl->order;
		p->bucket = tmpl->bucket;
		if (price->mode != GB_PRICE_FLAT) {
			p->tier = (unsigned)t + 1;
			p->price = price;
		}
		mpq_mul(p->unit_price, *unit, factor);
		mpq_mul(p->quantity, slice, unit_scale);
		/* base: GPU-seconds (hours x 3600) or tokens */
		mpq_set(p->base, slice);
		if (tmpl->kind <= GB_LINE_GPU_SPOT_INTERRUPTED) {
			mpz_mul_ui(mpq_numref(p->base), mpq_numref(p->base), 3600);
			mpq_canonicalize(p->base);
		}
	}
	mpq_clears(slice, lo, hi, end, NULL);
	return rc;
}

static int bucket_protos(gb_rater *r, proto_list *pl, const bucket *b,
			 const tier_pos *pos, long index)
{
	const cust_rec *c = &r->customers[b->key.customer];
	const entry *e = &r->entries[b->key.entry];
	mpq_t q, off, total, scale, factor;
	proto tmpl;
	int rc = 0;

	if (!c->selected || b->quantity == 0)
		return 0;
	memset(&tmpl, 0, sizeof tmpl);
	tmpl.cust = c;
	tmpl.kind = (gb_line_kind)b->key.kind;
	tmpl.name = e->name;
	tmpl.region = e->type == ENTRY_GPU ? e->region : "";
	tmpl.records = b->records;
	tmpl.batch = b->key.aux != 0;
	tmpl.order = b->key.price < 0 ? 0 : (uint32_t)b->key.price;
	tmpl.bucket = index;
	mpq_inits(q, off, total, scale, factor, NULL);
	mpq_set_u128(q, b->quantity);
	mpq_set_u128(off, pos->offset);
	mpq_set_u128(total, pos->total ? pos->total : b->quantity);
	mpq_set_ui(factor, 1, 1);
	if (e->type == ENTRY_GPU) {
		/* tiers count GPU-hours */
		mpz_mul_ui(mpq_denref(q), mpq_denref(q), 3600);
		mpq_canonicalize(q);
		mpz_mul_ui(mpq_denref(off), mpq_denref(off), 3600);
		mpq_canonicalize(off);
		mpz_mul_ui(mpq_denref(total), mpq_denref(total), 3600);
		mpq_canonicalize(total);
		mpq_set_ui(scale, 1, 1);
	} else {
		mpq_set_ui(scale, 1, 1000000);  /* prices are per 1M tokens */
		if (b->key.aux) {
			const gb_version *v = &r->prices->versions[b->key.aux - 1];

			mpq_sub(factor, factor, v->batch_discount);
		}
	}
	if (b->key.price < 0) {
		/* interrupted spot: a zero line that shows the GPU-hours */
		proto *p = proto_new(pl, c, tmpl.kind);

		if (!p) {
			rc = GB_ENOMEM;
		} else {
			p->name = tmpl.name;
			p->region = tmpl.region;
			p->records = b->records;
			p->bucket = index;
			mpq_set(p->quantity, q);
			mpq_set_u128(p->base, b->quantity);
		}
	} else {
		rc = price_protos(pl, &tmpl, r->prices_by_id[b->key.price], q,
				  off, total, scale, factor);
	}
	mpq_clears(q, off, total, scale, factor, NULL);
	return rc;
}

/* --- 3. sort and merge ------------------------------------------------------------ */

static int cmp_bytes(const char *a, size_t al, const char *b, size_t bl)
{
	int c = memcmp(a, b, al < bl ? al : bl);

	if (c)
		return c;
	return al < bl ? -1 : al > bl;
}

static int cust_cmp(const cust_rec *a, const cust_rec *b)
{
	return cmp_bytes(a->name, a->len, b->name, b->len);
}

/* Order within the line key, so equal keys are adjacent. */
static int proto_key_cmp(const proto *a, const proto *b)
{
	int c;

	if (a->cust != b->cust)
		return cust_cmp(a->cust, b->cust);
	if (a->kind != b->kind)
		return a->kind < b->kind ? -1 : 1;
	c = strcmp(a->name, b->name);
	if (c)
		return c;
	c = strcmp(a->region, b->region);
	if (c)
		return c;
	c = mpq_cmp(a->unit_price, b->unit_price);
	if (c)
		return c < 0 ? -1 : 1;
	if (a->tier != b->tier)
		return a->tier < b->tier ? -1 : 1;
	return strcmp(a->reference, b->reference);
}

/*
 * Equal keys merge into one line (SPEC 6), even slices of two versions'
 * tier tables; among them the table's own order comes first, so the
 * merged line's label (taken from the first) never depends on the input.
 */
static int proto_qsort_cmp(const void *pa, const void *pb)
{
	const proto *a = pa, *b = pb;
	int c = proto_key_cmp(a, b);

	if (c)
		return c;
	return a->order < b->order ? -1 : a->order > b->order;
}

/*
 * Merge adjacent protos with equal keys, in place; returns how many are
 * left.  Merged-away entries are swapped to the tail, still initialised,
 * so proto_list_free clears everything exactly once.
 */
static size_t merge_protos(proto_list *pl, gb_explain *ex, int *rc)
{
	size_t i, out = 0;

	for (i = 0; i < pl->n; i++) {
		proto *p = &pl->v[i];
		int merge = out > 0 && proto_key_cmp(&pl->v[out - 1], p) == 0;

		/* a traced record's bucket: note which line its slice joins */
		if (ex && *rc == 0 && gb_explain_is_marked(ex, p->bucket))
			*rc = gb_explain_slice(ex, p->bucket, p->base,
					       merge ? out - 1 : out);
		if (merge) {
			proto *m = &pl->v[out - 1];

			mpq_add(m->quantity, m->quantity, p->quantity);
			mpq_add(m->base, m->base, p->base);
			mpq_add(m->covered, m->covered, p->covered);
			m->records += p->records;
			if (m->batch != p->batch)
				m->batch = -1;
			continue;
		}
		if (out != i) {
			proto t = pl->v[out];

			pl->v[out] = *p;
			*p = t;
		}
		out++;
	}
	return out;
}

/* --- 4. lines, contract adjustments, invoices ------------------------------------- */

static char *dupf(const char *fmt, ...) GB_PRINTF(1, 2);

static char *dupf(const char *fmt, ...)
{
	va_list ap;
	char *buf;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return NULL;
	buf = gb_malloc((size_t)n + 1);
	if (!buf)
		return NULL;
	va_start(ap, fmt);
	vsnprintf(buf, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return buf;
}

static void percent_text(char *buf, size_t size, const mpq_t fraction)
{
	mpq_t pct;

	mpq_init(pct);
	mpq_set_ui(pct, 100, 1);
	mpq_mul(pct, pct, fraction);
	gb_decimal_format(buf, size, pct, 0, 2, GB_ROUND_HALF_EVEN);
	mpq_clear(pct);
}

static void tier_text(char *buf, size_t size, const proto *p, const char *unit)
{
	const gb_price *price = p->price;
	size_t t = p->tier - 1;
	char lo[64] = "0", hi[64];
	const char *mode = price->mode == GB_PRICE_VOLUME ? "volume" : "graduated";

	if (t > 0)
		gb_decimal_format(lo, sizeof lo, price->tiers[t - 1].up_to, 0,
				  GB_DECIMAL_MAX_FRACTION, GB_ROUND_HALF_EVEN);
	if (price->tiers[t].bounded) {
		gb_decimal_format(hi, sizeof hi, price->tiers[t].up_to, 0,
				  GB_DECIMAL_MAX_FRACTION, GB_ROUND_HALF_EVEN);
		snprintf(buf, size, ", %s tier %zu (%s to %s %s)", mode, t + 1,
			 lo, hi, unit);
	} else {
		snprintf(buf, size, ", %s tier %zu (over %s %s)", mode, t + 1, lo,
			 unit);
	}
}

static char *describe(const proto *p)
{
	static const char *const token_what[] = { "input", "cached input", "output" };
	char tier[160] = "";
	int gpu = p->kind <= GB_LINE_GPU_SPOT_INTERRUPTED;

	if (p->tier)
		tier_text(tier, sizeof tier, p, gpu ? "GPU-hours" : "tokens");
	switch (p->kind) {
	case GB_LINE_GPU_RESERVED:
		return dupf("Reservation %s: %u x %s, %s, term %s",
			    p->res->id, p->res->gpus, p->res->sku, p->res->region,
			    p->res->term);
	case GB_LINE_GPU_ON_DEMAND:
		return dupf("%s on-demand, %s%s", p->name, p->region, tier);
	case GB_LINE_GPU_SPOT:
		return dupf("%s spot, %s%s", p->name, p->region, tier);
	case GB_LINE_GPU_SPOT_INTERRUPTED:
		return dupf("%s spot, %s, interrupted by the provider: no charge",
			    p->name, p->region);
	case GB_LINE_TOKENS_INPUT:
	case GB_LINE_TOKENS_CACHED_INPUT:
	case GB_LINE_TOKENS_OUTPUT:
		return dupf("%s %s tokens%s%s", p->name,
			    token_what[p->kind - GB_LINE_TOKENS_INPUT],
			    p->batch == 1 ? ", batch" : "", tier);
	default:
		return gb_strdup("");
	}
}

typedef struct line_list {
	gb_invoice_line *v;
	size_t n, cap;
} line_list;

static gb_invoice_line *line_new(line_list *ll)
{
	gb_invoice_line *l;

	if (gb_grow_array((void **)&ll->v, &ll->cap, ll->n + 1, sizeof *ll->v))
		return NULL;
	l = &ll->v[ll->n++];
	gb_invoice_line_init(l);
	return l;
}

static int line_strings(gb_invoice_line *l, const char *sku, const char *model,
			const char *region, const char *reference, char *desc)
{
	l->description = desc;
	l->sku = gb_strdup(sku);
	l->model = gb_strdup(model);
	l->region = gb_strdup(region);
	l->reference = gb_strdup(reference);
	return l->description && l->sku && l->model && l->region && l->reference
	       ? 0 : GB_ENOMEM;
}

static int usage_line(const gb_prices *prices, line_list *ll, const proto *p)
{
	gb_invoice_line *l = line_new(ll);
	int gpu = p->kind <= GB_LINE_GPU_SPOT_INTERRUPTED;
	mpq_t exact;

	if (!l)
		return GB_ENOMEM;
	l->kind = p->kind;
	l->tier = p->tier;
	l->batch = p->batch == 1;
	l->records = p->records;
	l->unit = gpu ? "GPU-hour" : "1M tokens";
	mpq_set(l->base_quantity, p->base);
	mpq_set(l->quantity, p->quantity);
	mpq_set(l->unit_price, p->unit_price);
	mpq_init(exact);
	mpq_mul(exact, p->quantity, p->unit_price);
	gb_round(l->amount, exact, prices->minor_units, prices->rounding);
	mpq_clear(exact);
	if (p->kind == GB_LINE_GPU_RESERVED && mpq_sgn(p->base) > 0) {
		l->has_utilisation = 1;
		mpq_div(l->utilisation, p->covered, p->base);
	}
	return line_strings(l, gpu ? p->name : "", gpu ? "" : p->name, p->region,
			    p->reference, describe(p));
}

/* An adjustment line: quantity 1, unit price = amount. */
static gb_invoice_line *adjust_line(const gb_prices *prices, line_list *ll,
				    gb_line_kind kind, const mpz_t amount,
				    const char *reference, char *desc)
{
	gb_invoice_line *l = line_new(ll);

	if (!l) {
		gb_free(desc);
		return NULL;
	}
	l->kind = kind;
	l->unit = "";
	mpq_set_ui(l->quantity, 1, 1);
	mpz_set(l->amount, amount);
	mpq_set_z(l->unit_price, amount);
	mpz_ui_pow_ui(mpq_denref(l->unit_price), 10, prices->minor_units);
	mpq_canonicalize(l->unit_price);
	if (line_strings(l, "", "", "", reference, desc) != 0)
		return NULL;
	return l;
}

static void sum_lines(mpz_t out, const line_list *ll, gb_line_kind lo,
		      gb_line_kind hi)
{
	size_t i;

	mpz_set_ui(out, 0);
	for (i = 0; i < ll->n; i++)
		if (ll->v[i].kind >= lo && ll->v[i].kind <= hi)
			mpz_add(out, out, ll->v[i].amount);
}

static int contract_lines(const gb_prices *prices, line_list *ll,
			  const gb_contract *k)
{
	static const char *const what[] = { "on-demand GPU usage",
					    "spot GPU usage", "token usage" };
	/* a discount line's reference: the contract's key for it */
	static const char *const refs[] = { "gpu_on_demand", "gpu_spot", "tokens" };
	static const gb_line_kind lo[] = { GB_LINE_GPU_ON_DEMAND, GB_LINE_GPU_SPOT,
					   GB_LINE_TOKENS_INPUT };
	static const gb_line_kind hi[] = { GB_LINE_GPU_ON_DEMAND,
					   GB_LINE_GPU_SPOT_INTERRUPTED,
					   GB_LINE_TOKENS_OUTPUT };
	unsigned minor = prices->minor_units;
	mpz_t base, amount, total, credit;
	mpq_t exact;
	char pct[32], a[64], b[64];
	int d, rc = 0;
	size_t i;

	mpz_inits(base, amount, total, credit, NULL);
	mpq_init(exact);
	for (d = 0; d < GB_DISCOUNT__COUNT && rc == 0; d++) {
		if (!k->has_discount[d])
			continue;
		/* -fraction x the sum of that kind's rounded lines */
		sum_lines(base, ll, lo[d], hi[d]);
		mpq_set_z(exact, base);
		mpq_mul(exact, exact, k->discount[d]);
		mpq_neg(exact, exact);
		gb_round(amount, exact, 0, prices->rounding);
		percent_text(pct, sizeof pct, k->discount[d]);
		gb_money_format(a, sizeof a, base, minor);
		if (!adjust_line(prices, ll, GB_LINE_DISCOUNT, amount, refs[d],
				 dupf("Discount %s%% on %s (%s)", pct, what[d], a)))
			rc = GB_ENOMEM;
	}
	sum_lines(total, ll, GB_LINE_GPU_RESERVED, GB_LINE_CREDIT);
	if (rc == 0 && k->has_minimum) {
		mpq_set(exact, k->minimum_spend);
		gb_round(amount, exact, minor, prices->rounding);
		if (mpz_cmp(amount, total) > 0) {
			gb_money_format(a, sizeof a, amount, minor);
			mpz_sub(amount, amount, total);
			if (!adjust_line(prices, ll, GB_LINE_MINIMUM_SPEND, amount, "",
					 dupf("Minimum spend shortfall (minimum %s)", a)))
				rc = GB_ENOMEM;
			else
				mpz_add(total, total, amount);
		}
	}
	for (i = 0; i < k->ncredits && rc == 0; i++) {
		const gb_credit *c = &k->credits[i];
		gb_invoice_line *l;

		gb_round(credit, c->amount, minor, prices->rounding);
		/* -min(credit, total so far), never below zero */
		if (mpz_sgn(total) <= 0)
			mpz_set_ui(amount, 0);
		else if (mpz_cmp(credit, total) < 0)
			mpz_set(amount, credit);
		else
			mpz_set(amount, total);
		mpz_sub(total, total, amount);
		gb_money_format(a, sizeof a, credit, minor);
		mpz_sub(credit, credit, amount);
		gb_money_format(b, sizeof b, credit, minor);
		mpz_neg(amount, amount);
		l = adjust_line(prices, ll, GB_LINE_CREDIT, amount, c->id,
				dupf("Credit %s (%s; %s left)", c->id, a, b));
		if (!l) {
			rc = GB_ENOMEM;
			break;
		}
		l->has_remaining = 1;
		mpz_set(l->remaining, credit);
	}
	mpz_clears(base, amount, total, credit, NULL);
	mpq_clear(exact);
	return rc;
}

static int invoice_add(gb_invoice_set *set, size_t *cap, const cust_rec *c,
		       line_list *ll)
{
	gb_invoice *inv;
	size_t i;

	if (gb_grow_array((void **)&set->invoices, cap, set->ninvoices + 1,
			  sizeof *set->invoices) != 0)
		return GB_ENOMEM;
	inv = &set->invoices[set->ninvoices++];
	memset(inv, 0, sizeof *inv);
	mpz_init(inv->total);
	if (ll->n && ll->n < ll->cap) {
		/* the list grew by doubling from 64: keep only what is used */
		gb_invoice_line *fit = gb_realloc(ll->v, ll->n * sizeof *ll->v);

		if (fit)
			ll->v = fit;
	}
	inv->lines = ll->v;
	inv->nlines = ll->n;
	ll->v = NULL;
	ll->n = ll->cap = 0;
	inv->customer = gb_strndup(c->name, c->len);
	if (!inv->customer)
		return GB_ENOMEM;
	for (i = 0; i < inv->nlines; i++)
		mpz_add(inv->total, inv->total, inv->lines[i].amount);
	return 0;
}

static void line_list_free(line_list *ll)
{
	size_t i;

	for (i = 0; i < ll->n; i++)
		gb_invoice_line_clear(&ll->v[i]);
	gb_free(ll->v);
	ll->v = NULL;
	ll->n = ll->cap = 0;
}

/*
 * A traced record's on-demand seconds in one hour are covered in the same
 * proportion as the customer's whole hour (SPEC 6.3 covers the hour's
 * total, not single records): uncovered = qty x (total - covered) / total.
 */
static int explain_cover(gb_rater *r)
{
	gb_explain *ex = r->explain;
	size_t i, j, k;

	for (i = 0; i < ex->nrecs; i++) {
		for (j = 0; j < ex->recs[i].npieces; j++) {
			ex_piece *pc = &ex->recs[i].pieces[j];
			const cust_rec *c = &r->customers[pc->key.customer];
			const entry *e = &r->entries[pc->key.entry];
			int64_t h = pc->from - ((pc->from % 3600) + 3600) % 3600;
			const hour_bucket *hb;
			active_res act[16];
			gb_u128 left;
			size_t na = 0, m;
			char ids[512];
			size_t len = 0;

			if (!pc->hourly)
				continue;
			hb = gb_rater_hour_find(r, pc->key.customer, pc->key.entry, h);
			pc->hour_total = hb ? hb->seconds : 0;
			pc->hour_capacity = 0;
			for (k = 0; c->contract && k < c->contract->nreservations; k++) {
				const gb_reservation *res = &c->contract->reservations[k];
				const mpq_t *rate;

				if (strcmp(res->sku, e->name) != 0 ||
				    strcmp(res->region, e->region) != 0 ||
				    h < res->start || h >= res->end)
					continue;
				rate = reservation_rate(r->prices, res, h);
				if (!rate)
					continue;
				pc->hour_capacity += (gb_u128)res->gpus * 3600;
				if (na == sizeof act / sizeof act[0])
					continue;
				act[na].res = res;
				act[na].rate = rate;
				for (m = na; m > 0 && active_cmp(&act[m], &act[m - 1]) < 0; m--) {
					active_res t = act[m];

					act[m] = act[m - 1];
					act[m - 1] = t;
				}
				na++;
			}
			/* the reservations that cover part of this hour */
			ids[0] = '\0';
			for (m = 0, left = pc->hour_total; m < na && left > 0; m++) {
				gb_u128 cap = (gb_u128)act[m].res->gpus * 3600;
				int n = snprintf(ids + len, sizeof ids - len, "%s%s",
						 len ? ", " : "", act[m].res->id);

				if (n > 0 && (size_t)n < sizeof ids - len)
					len += (size_t)n;
				left -= left < cap ? left : cap;
			}
			if (len) {
				pc->covered_by = gb_strdup(ids);
				if (!pc->covered_by)
					return GB_ENOMEM;
			}
			if (pc->hour_total == 0)
				continue;
			/* billed = qty x (total - covered) / total */
			left = pc->hour_total > pc->hour_capacity ?
			       pc->hour_total - pc->hour_capacity : 0;
			{
				mpq_t f;

				mpq_init(f);
				mpq_set_u128(pc->billed, pc->qty);
				mpq_set_u128(f, left);
				mpq_mul(pc->billed, pc->billed, f);
				mpq_set_u128(f, pc->hour_total);
				mpq_div(pc->billed, pc->billed, f);
				mpq_clear(f);
			}
		}
	}
	return 0;
}

static int has_reserved_hour(const gb_rater *r, const gb_contract *k)
{
	size_t i;

	for (i = 0; k && i < k->nreservations; i++) {
		int64_t first = k->reservations[i].start;

		/* the first whole hour at or after the period start */
		int64_t h = r->from + (3600 - ((r->from % 3600) + 3600) % 3600) % 3600;

		if (first > h)
			h = first;
		if (h < k->reservations[i].end && h < r->to)
			return 1;
	}
	return 0;
}

static int needs_invoice(const gb_rater *r, const cust_rec *c)
{
	return c->selected && (c->billed || has_reserved_hour(r, c->contract) ||
			       (c->contract && c->contract->has_minimum));
}

static int cust_ptr_cmp(const void *a, const void *b)
{
	return cust_cmp(*(const cust_rec *const *)a, *(const cust_rec *const *)b);
}

static int build(gb_rater *r, gb_invoice_set *set)
{
	proto_list pl = { NULL, 0, 0 };
	line_list ll = { NULL, 0, 0 };
	const cust_rec **order = NULL;
	tier_pos *pos = NULL;
	size_t i, n = 0, pi = 0, cap = 0, ncust, nmerged;
	int rc = 0;

	/* Contract customers get an invoice even without usage. */
	if (r->contracts)
		for (i = 0; i < r->contracts->ncontracts; i++) {
			const gb_contract *k = &r->contracts->contracts[i];

			if (gb_rater_customer_intern(r, k->customer,
						     strlen(k->customer)) < 0)
				return GB_ENOMEM;
		}
	ncust = r->ncustomers;
	if (r->explain)
		rc = explain_cover(r);
	if (rc == 0)
		rc = reservations(r, &pl, ncust);
	if (rc == 0 && r->explain)
		rc = gb_explain_mark(r->explain);
	/* after reservations: their leftovers are on-demand usage too */
	if (rc == 0 && r->nbuckets) {
		pos = gb_calloc(r->nbuckets, sizeof *pos);
		rc = pos ? tier_positions(r, pos) : GB_ENOMEM;
	}
	for (i = 0; i < r->nbuckets && rc == 0; i++)
		rc = bucket_protos(r, &pl, &r->buckets[i], &pos[i], (long)i);
	if (rc == 0 && pl.n) {
		qsort(pl.v, pl.n, sizeof *pl.v, proto_qsort_cmp);
	}
	nmerged = rc == 0 ? merge_protos(&pl, r->explain, &rc) : 0;
	order = ncust ? gb_calloc(ncust, sizeof *order) : NULL;
	if (ncust && !order)
		rc = GB_ENOMEM;
	for (i = 0; i < ncust && rc == 0; i++)
		if (needs_invoice(r, &r->customers[i]))
			order[n++] = &r->customers[i];
	if (n)
		qsort(order, n, sizeof *order, cust_ptr_cmp);
	for (i = 0; i < n && rc == 0; i++) {
		/* skip protos of customers without an invoice (none expected) */
		while (pi < nmerged && cust_cmp(pl.v[pi].cust, order[i]) < 0)
			pi++;
		for (; pi < nmerged && pl.v[pi].cust == order[i] && rc == 0; pi++) {
			rc = usage_line(r->prices, &ll, &pl.v[pi]);
			if (rc == 0 && r->explain)
				rc = gb_explain_place(r->explain, pi,
						      set->ninvoices, ll.n - 1);
		}
		if (rc == 0 && order[i]->contract)
			rc = contract_lines(r->prices, &ll, order[i]->contract);
		if (rc == 0)
			rc = invoice_add(set, &cap, order[i], &ll);
	}
	if (rc == 0 && r->explain)
		rc = gb_explain_shares(r->explain, set);
	line_list_free(&ll);
	gb_free(order);
	gb_free(pos);
	proto_list_free(&pl);
	return rc;
}

int gb_rater_finish(gb_rater *r, gb_invoice_set **out, gb_error *err)
{
	const gb_prices *p;
	gb_invoice_set *set;
	int rc;

	*out = NULL;
	if (!r || r->finished)
		return gb_error_set(err, GB_EINVAL, "gb_rater_finish: rater already finished");
	p = r->prices;
	r->finished = 1;
	/* No row comes after this: the id set is the run's largest table. */
	gb_dedup_free(&r->dedup);
	set = gb_invoice_set_new(p->currency, p->minor_units, p->name, r->from, r->to);
	if (!set)
		return gb_error_set(err, GB_ENOMEM, "out of memory");
	set->counts = r->counts;
	rc = build(r, set);
	if (rc) {
		gb_invoice_set_free(set);
		return gb_error_set(err, rc, "out of memory while pricing");
	}
	*out = set;
	return 0;
}
