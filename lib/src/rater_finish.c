/*
 * rater_finish.c - turn integer buckets into invoices (SPEC 6), customer
 * by customer.
 *
 * 1. Reservations, hour by hour, for every reserving customer: charge each
 *    reservation hour in the period, cover the customer's on-demand
 *    GPU-seconds of that hour cheapest reservation first (ties by id), and
 *    move what is left to the on-demand buckets.  What each reservation
 *    charged is kept (a few numbers per reservation and rate).
 * 2. The buckets are grouped by customer (a counting sort of their
 *    indices), and the customers that get an invoice are sorted by id.
 * Then, for one customer at a time:
 * 3. Every bucket becomes one or more "proto-lines" (one per graduated
 *    tier slice) with an exact base quantity and unit price; tier
 *    positions are the customer's own.
 * 4. Proto-lines with the same line key are merged: GPU lines by (kind,
 *    sku, region, unit price), token lines by (kind, model, unit price),
 *    reservation lines by (reservation, unit price), tier slices by tier.
 * 5. Each merged line is priced and rounded once; then discounts, the
 *    minimum-spend shortfall and credits are applied to the rounded lines.
 * 6. The invoice goes to the caller's function, and its scratch (protos,
 *    lines, text) is reused for the next customer: memory follows the
 *    largest invoice, not the number of invoices.
 *
 * Most lines have an integer base quantity and a flat price whose
 * numerator and denominator fit in 64 bits; their quantity and amount are
 * computed in 128-bit integers (exact, one rounding with the table's
 * mode), the rest with GMP.  Tier slices are whole numbers too when the
 * tier bounds are.  Proto-lines sort by an integer key (kind and the
 * ranks of their names), and each invoice handed on carries notes for the
 * writers (invoice_internal.h): its strings' lengths, whether they need
 * escaping, each line's base as an integer.  With gb_invoice_fast off, all
 * of it takes the GMP and string way, the reference the tests compare to.
 */
#include "rater_internal.h"
#include "explain_internal.h"

#include <gpubill/money.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * z = v, written as one limb through GMP's documented low-level access
 * (mpz_limbs_write, mpz_limbs_finish); a few of these make each line.
 */
static inline void mpz_set_u64(mpz_ptr z, uint64_t v)
{
	if (GB_LIKELY(GMP_NUMB_BITS == 64)) {
		mpz_limbs_write(z, 1)[0] = (mp_limb_t)v;
		mpz_limbs_finish(z, v != 0);
		return;
	}
	mpz_set_ui(z, (unsigned long)v);
}

/* dst = src, limb by limb when both terms fit in one. */
static inline void mpq_copy(mpq_ptr dst, mpq_srcptr src)
{
	mpz_srcptr n = mpq_numref(src), d = mpq_denref(src);

	if (GB_LIKELY(GMP_NUMB_BITS == 64 && mpz_size(n) <= 1 && mpz_size(d) == 1)) {
		/* one limb at most: the size is the sign */
		mpz_limbs_write(mpq_numref(dst), 1)[0] = mpz_getlimbn(n, 0);
		mpz_limbs_finish(mpq_numref(dst), mpz_sgn(n));
		mpz_limbs_write(mpq_denref(dst), 1)[0] = mpz_getlimbn(d, 0);
		mpz_limbs_finish(mpq_denref(dst), 1);
		return;
	}
	mpq_set(dst, src);
}

static void mpz_set_u128(mpz_t out, gb_u128 v)
{
	if (v <= UINT64_MAX && sizeof(unsigned long) == 8) {
		mpz_set_u64(out, (uint64_t)v);
		return;
	}
	mpz_set_ui(out, (unsigned long)(uint64_t)(v >> 64));
	mpz_mul_2exp(out, out, 64);
	mpz_add_ui(out, out, (unsigned long)(uint64_t)v);
}

static void mpq_set_u128(mpq_t out, gb_u128 v)
{
	mpz_set_u128(mpq_numref(out), v);
	mpz_set_u64(mpq_denref(out), 1);
}

static void mpz_set_i128(mpz_t out, gb_i128 v)
{
	mpz_set_u128(out, v < 0 ? -(gb_u128)v : (gb_u128)v);
	if (v < 0)
		mpz_neg(out, out);
}

/* out += v, with tmp as scratch. */
static void add_i128(mpz_t out, gb_i128 v, mpz_t tmp)
{
	if (v == 0)
		return;
	mpz_set_i128(tmp, v);
	mpz_add(out, out, tmp);
}

/* A non-negative mpz that fits in 128 bits, as a gb_u128. */
static int get_u128(mpz_srcptr z, gb_u128 *out)
{
	size_t n = mpz_size(z);

	if (mpz_sgn(z) < 0 || n > 2 || GMP_NUMB_BITS != 64)
		return 0;
	*out = n == 0 ? 0 : (gb_u128)mpz_getlimbn(z, 0);
	if (n == 2)
		*out |= (gb_u128)mpz_getlimbn(z, 1) << 64;
	return 1;
}

static int get_u64(mpz_srcptr z, uint64_t *out)
{
	gb_u128 v;

	if (!get_u128(z, &v) || v > UINT64_MAX)
		return 0;
	*out = (uint64_t)v;
	return 1;
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

/*
 * Phase 1 works on stretches of hours, not hour by hour: between two
 * "cuts" (the period's first hour and end, each reservation's start and
 * end, each price version's start) the same reservations are active at
 * the same rates, so an hour without usage only adds one charged hour to
 * each of them.  Only the hours with usage (the customer's hour buckets,
 * grouped by customer up front) are covered one by one.
 */
typedef struct hour_use {
	int64_t hour;
	gb_u128 seconds;
} hour_use;

typedef struct res_scratch {
	uint32_t *first;           /* [customer]: start in by_cust */
	uint32_t *by_cust;         /* hour bucket indices grouped by customer */
	hour_use *use;
	size_t use_cap;
	int64_t *cuts;
	size_t cuts_cap;
	active_res *act;
	size_t act_cap;
	size_t *slot;              /* [active]: its res_rate in st */
	size_t slot_cap;
} res_scratch;

static int grow(void **v, size_t *cap, size_t need, size_t size)
{
	return need <= *cap ? 0 : gb_grow_array(v, cap, need, size);
}

static int int64_cmp(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

static int hour_use_cmp(const void *a, const void *b)
{
	return int64_cmp(&((const hour_use *)a)->hour, &((const hour_use *)b)->hour);
}

/* Group the hour buckets by customer (a counting sort). */
static int group_hours(const gb_rater *r, res_scratch *sc)
{
	size_t n = r->ncustomers, i;
	uint32_t run = 0, k;

	sc->first = gb_calloc(n + 1, sizeof *sc->first);
	sc->by_cust = gb_calloc(r->nhours ? r->nhours : 1, sizeof *sc->by_cust);
	if (!sc->first || !sc->by_cust)
		return GB_ENOMEM;
	for (i = 0; i < r->nhours; i++)
		sc->first[r->hours[i].key.customer]++;
	for (i = 0; i <= n; i++) {
		k = sc->first[i];
		sc->first[i] = run;
		run += k;
	}
	for (i = 0; i < r->nhours; i++)
		sc->by_cust[sc->first[r->hours[i].key.customer]++] = (uint32_t)i;
	for (i = n; i > 0; i--)
		sc->first[i] = sc->first[i - 1];
	sc->first[0] = 0;
	return 0;
}

/* Cover one (customer, sku, region) group's usage, stretch by stretch. */
static int reserve_group(gb_rater *r, uint32_t cust, const gb_contract *k,
			 const gb_reservation *lead, res_state *st,
			 res_scratch *sc)
{
	const gb_prices *p = r->prices;
	long ei = gb_rater_entry_find(r, ENTRY_GPU, lead->sku, strlen(lead->sku),
				      lead->region, strlen(lead->region));
	int64_t h0 = r->from - ((r->from % 3600) + 3600) % 3600, a, b;
	size_t nres = 0, nuse = 0, ncuts = 0, i, j, u = 0, na;

	for (i = 0; i < k->nreservations; i++)
		if (strcmp(k->reservations[i].sku, lead->sku) == 0 &&
		    strcmp(k->reservations[i].region, lead->region) == 0)
			nres++;
	/* the group's usage, by hour */
	if (ei >= 0) {
		for (j = sc->first[cust]; j < sc->first[cust + 1]; j++) {
			const hour_bucket *hb = &r->hours[sc->by_cust[j]];

			if (hb->key.entry != (uint32_t)ei || hb->key.hour < h0 ||
			    hb->key.hour >= r->to)
				continue;
			if (grow((void **)&sc->use, &sc->use_cap, nuse + 1, sizeof *sc->use))
				return GB_ENOMEM;
			sc->use[nuse].hour = hb->key.hour;
			sc->use[nuse++].seconds = hb->seconds;
		}
		if (nuse > 1)
			qsort(sc->use, nuse, sizeof *sc->use, hour_use_cmp);
	}
	if (grow((void **)&sc->cuts, &sc->cuts_cap, 2 * nres + p->nversions + 2,
		 sizeof *sc->cuts) ||
	    grow((void **)&sc->act, &sc->act_cap, nres, sizeof *sc->act) ||
	    grow((void **)&sc->slot, &sc->slot_cap, nres, sizeof *sc->slot))
		return GB_ENOMEM;
	sc->cuts[ncuts++] = h0;
	sc->cuts[ncuts++] = r->to;
	for (i = 0; i < k->nreservations; i++) {
		const gb_reservation *res = &k->reservations[i];

		if (strcmp(res->sku, lead->sku) != 0 ||
		    strcmp(res->region, lead->region) != 0)
			continue;
		if (res->start > h0 && res->start < r->to)
			sc->cuts[ncuts++] = res->start;
		if (res->end > h0 && res->end < r->to)
			sc->cuts[ncuts++] = res->end;
	}
	for (i = 0; i < p->nversions; i++)
		if (p->versions[i].effective_from > h0 &&
		    p->versions[i].effective_from < r->to)
			sc->cuts[ncuts++] = p->versions[i].effective_from;
	qsort(sc->cuts, ncuts, sizeof *sc->cuts, int64_cmp);
	for (j = 0; j + 1 < ncuts; j++) {
		uint64_t hours, charged;

		a = sc->cuts[j];
		b = sc->cuts[j + 1];
		if (a == b)
			continue;
		/* the hours h0 + 3600 n in [a, b); all but h0 are in the period */
		hours = (uint64_t)((b - a + 3599) / 3600);
		charged = hours - (a == h0 && h0 < r->from ? 1 : 0);
		/* active all stretch long: cheapest first, ties by id */
		na = 0;
		for (i = 0; i < k->nreservations; i++) {
			const gb_reservation *res = &k->reservations[i];
			size_t m;

			if (strcmp(res->sku, lead->sku) != 0 ||
			    strcmp(res->region, lead->region) != 0 ||
			    a < res->start || a >= res->end)
				continue;
			sc->act[na].res = res;
			sc->act[na].rate = reservation_rate(p, res, a);
			if (!sc->act[na].rate)
				continue; /* cannot happen after contract checks */
			for (m = na; m > 0 && active_cmp(&sc->act[m], &sc->act[m - 1]) < 0; m--) {
				active_res t = sc->act[m];

				sc->act[m] = sc->act[m - 1];
				sc->act[m - 1] = t;
			}
			na++;
		}
		for (i = 0; i < na; i++) {
			res_rate *rr = res_rate_get(st, sc->act[i].res, sc->act[i].rate);

			if (!rr)
				return GB_ENOMEM;
			rr->hours += charged;
			sc->slot[i] = (size_t)(rr - st->v);
		}
		/* the stretch's hours with usage */
		for (; u < nuse && sc->use[u].hour < b; u++) {
			int64_t h = sc->use[u].hour;
			gb_u128 left = sc->use[u].seconds;

			for (i = 0; i < na && left > 0; i++) {
				gb_u128 cap = (gb_u128)sc->act[i].res->gpus * 3600;
				gb_u128 c = left < cap ? left : cap;

				st->v[sc->slot[i]].covered += c;
				left -= c;
			}
			if (left > 0) {
				long v = gb_prices_version_at(p, h < r->from ? r->from : h);
				bucket_key key;
				bucket *bk;

				memset(&key, 0, sizeof key);
				key.customer = cust;
				key.entry = (uint32_t)ei;
				key.kind = GB_LINE_GPU_ON_DEMAND;
				key.price = r->entries[ei].price[v * NSLOTS + SLOT_ON_DEMAND];
				bk = gb_rater_bucket(r, &key);
				if (!bk)
					return GB_ENOMEM;
				bk->quantity += left;
			}
		}
	}
	return 0;
}

/* What one reservation charged one customer at one rate, kept from phase 1
 * until the customer's invoice is built. */
typedef struct res_line {
	uint32_t cust;
	const gb_reservation *res;
	const mpq_t *rate;
	uint64_t hours;
	gb_u128 covered;
} res_line;

typedef struct res_lines {
	res_line *v;
	size_t n, cap;
} res_lines;

/* Whether some contract reserves GPUs (phase 1 has work). */
static int any_reservation(const gb_rater *r)
{
	size_t i;

	for (i = 0; r->contracts && i < r->contracts->ncontracts; i++)
		if (r->contracts->contracts[i].nreservations)
			return 1;
	return 0;
}

/* Phase 1 for every reserving customer, in customer-index order. */
static int reservations(gb_rater *r, res_lines *out)
{
	res_state st = { NULL, 0, 0 };
	res_scratch sc;
	size_t c, i, j;
	int rc;

	memset(&sc, 0, sizeof sc);
	rc = group_hours(r, &sc);
	for (c = 0; c < r->ncustomers && rc == 0; c++) {
		const cust_rec *cr = &r->customers[c];
		const gb_contract *k = cr->contract;

		if (!cr->selected || !k || !k->nreservations)
			continue;
		st.n = 0;
		for (i = 0; i < k->nreservations && rc == 0; i++) {
			/* once per (sku, region): at its first reservation */
			for (j = 0; j < i; j++)
				if (strcmp(k->reservations[j].sku, k->reservations[i].sku) == 0 &&
				    strcmp(k->reservations[j].region, k->reservations[i].region) == 0)
					break;
			if (j == i)
				rc = reserve_group(r, (uint32_t)c, k,
						   &k->reservations[i], &st, &sc);
		}
		for (i = 0; i < st.n && rc == 0; i++) {
			res_line *rl;

			if (st.v[i].hours == 0)
				continue;
			if (gb_grow_array((void **)&out->v, &out->cap, out->n + 1,
					  sizeof *out->v)) {
				rc = GB_ENOMEM;
				break;
			}
			rl = &out->v[out->n++];
			rl->cust = (uint32_t)c;
			rl->res = st.v[i].res;
			rl->rate = st.v[i].rate;
			rl->hours = st.v[i].hours;
			rl->covered = st.v[i].covered;
		}
	}
	gb_free(st.v);
	gb_free(sc.first);
	gb_free(sc.by_cust);
	gb_free(sc.use);
	gb_free(sc.cuts);
	gb_free(sc.act);
	gb_free(sc.slot);
	return rc;
}

/* --- the finishing context ------------------------------------------------------- */

typedef struct proto {
	/* kind, then the ranks of name and region (when `ranked`): most
	 * comparisons of the sort end at this one integer */
	uint64_t key;
	int ranked;
	gb_line_kind kind;
	const char *name;          /* sku or model */
	const char *region;        /* GPU and reservation lines; "" for tokens */
	const char *reference;     /* reservation id, else "" */
	uint32_t name_len, region_len, ref_len;
	int plain;                 /* its strings and description are plain
				      (gb_line_note) */
	const gb_reservation *res;
	unsigned tier;
	const gb_price *price;     /* tiered price object for labels, or NULL */
	int batch;                 /* 1 batch, 0 not, -1 mixed after merging */
	uint32_t order;            /* the price's place in the table */
	long bucket;               /* the bucket it came from, -1 = none */
	mpq_srcptr unit;           /* unit price in the table or contract ... */
	int own_unit;              /* ... or, when set, in own (scaled) */
	mpq_t own;
	int int_base;              /* base is ibase, a whole number ... */
	gb_u128 ibase;
	mpq_t base;                /* ... or this: GPU-seconds or tokens */
	gb_u128 covered;           /* reservation lines: covered GPU-seconds */
	uint64_t records;
} proto;

static mpq_srcptr unit_of(const proto *p)
{
	return p->own_unit ? p->own : p->unit;
}

/* Keep p's base as an mpq from now on. */
static void base_to_mpq(proto *p)
{
	if (p->int_base) {
		mpq_set_u128(p->base, p->ibase);
		p->int_base = 0;
	}
}

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
	size_t local;              /* its place in the customer's buckets */
} tier_ref;

/*
 * Batch unit prices (a price x (1 - the version's batch discount)), each
 * made once, on first use: v[i] is set when have[i] says so.
 */
typedef struct q_memo {
	mpq_t *v;
	unsigned char *have;
	size_t n;
} q_memo;

/*
 * A tiered price whose bounds are whole base units (tokens; GPU-seconds
 * from GPU-hours x 3600): its slices are found in integers.
 */
typedef struct tier_int {
	int state;                 /* 0 not looked at, 1 integer bounds, 2 not */
	gb_u128 *bound;            /* [tier]: up_to in base units (0 unbounded) */
	q_memo batch;              /* [tier * versions + version] */
} tier_int;

static void q_memo_free(q_memo *m)
{
	size_t i;

	for (i = 0; i < m->n; i++)
		if (m->have[i])
			mpq_clear(m->v[i]);
	gb_free(m->v);
	gb_free(m->have);
	memset(m, 0, sizeof *m);
}

typedef struct fin {
	gb_rater *r;
	gb_invoice_set *set;
	gb_invoice_fn fn;          /* NULL: hold every invoice in set */
	void *payload;
	gb_error *err;
	int fn_failed;             /* the error came from fn */

	res_lines res;             /* phase 1, all reserving customers */
	uint32_t *first;           /* [invoice]: start in by_cust; [n] = end */
	uint32_t *by_cust;         /* bucket indices grouped by invoice */
	uint32_t *group;           /* the block holding both (gb_free_huge) */

	/* one customer's scratch, reused; GMP members stay initialised */
	proto *pool;
	size_t npool, pool_cap;
	proto **ord;               /* sorted, then merged, protos */
	proto **ord2;              /* the merge sort's other half */
	tier_ref *trefs;
	tier_pos *tpos;
	size_t tcap;
	gb_invoice_line *lines;
	size_t nlines, lines_cap;
	gb_line_note *notes;       /* [line]: for the writers */
	gb_invoice_note note;
	size_t *desc;              /* [line]: its description's offset in text */
	char *text;                /* descriptions and the customer id */
	size_t text_len, text_cap;
	int text_failed;
	gb_invoice inv;
	q_memo batch;              /* flat prices: [price id * versions + version] */
	tier_int *tint;            /* [price id * 2 + gpu], made when needed */
	size_t tint_n;
	/* [entry]: ranks of name and region among all entries' (strcmp
	 * order), and bit 0: name plain, bit 1: region plain */
	uint32_t *name_rank, *region_rank;
	unsigned char *entry_plain;
	int ranked;                /* the ranks are there */
	mpq_t zero, ib;            /* 0; an integer base as mpq */
	mpq_t q, off, total, factor, slice, lo, hi, end, exact;
	mpz_t base, amount, sum, credit;
} fin;

static void fin_init(fin *f, gb_rater *r)
{
	memset(f, 0, sizeof *f);
	f->r = r;
	mpz_init(f->inv.total);
	mpq_inits(f->q, f->off, f->total, f->factor, f->slice, f->lo,
		  f->hi, f->end, f->exact, f->zero, f->ib, NULL);
	mpz_inits(f->base, f->amount, f->sum, f->credit, NULL);
}

static void fin_free(fin *f)
{
	size_t i;

	for (i = 0; i < f->pool_cap; i++) {
		mpq_clear(f->pool[i].own);
		mpq_clear(f->pool[i].base);
	}
	gb_free(f->pool);
	gb_free(f->ord);
	gb_free(f->ord2);
	for (i = 0; i < f->lines_cap; i++)
		gb_invoice_line_clear(&f->lines[i]);
	gb_free(f->lines);
	gb_free(f->notes);
	gb_free(f->desc);
	gb_free(f->text);
	q_memo_free(&f->batch);
	for (i = 0; i < f->tint_n; i++) {
		q_memo_free(&f->tint[i].batch);
		gb_free(f->tint[i].bound);
	}
	gb_free(f->tint);
	gb_free(f->name_rank);
	gb_free(f->region_rank);
	gb_free(f->entry_plain);
	gb_free(f->trefs);
	gb_free(f->tpos);
	gb_free(f->res.v);
	gb_free_huge(f->group);
	mpz_clear(f->inv.total);
	mpq_clears(f->q, f->off, f->total, f->factor, f->slice, f->lo,
		   f->hi, f->end, f->exact, f->zero, f->ib, NULL);
	mpz_clears(f->base, f->amount, f->sum, f->credit, NULL);
}

/* p's base as an mpq (an integer one in f->ib, until the next call). */
static mpq_srcptr base_of(fin *f, const proto *p)
{
	if (!p->int_base)
		return p->base;
	mpq_set_u128(f->ib, p->ibase);
	return f->ib;
}

/* A fresh proto of the current customer (its GMP values are stale). */
static proto *proto_new(fin *f, gb_line_kind kind)
{
	proto *p;

	if (f->npool == f->pool_cap) {
		size_t cap = f->pool_cap ? f->pool_cap * 2 : 64, i;

		if (gb_resize_array((void **)&f->pool, cap, sizeof *f->pool) ||
		    gb_resize_array((void **)&f->ord, cap, sizeof *f->ord) ||
		    gb_resize_array((void **)&f->ord2, cap, sizeof *f->ord2))
			return NULL;
		for (i = f->pool_cap; i < cap; i++) {
			mpq_init(f->pool[i].own);
			mpq_init(f->pool[i].base);
		}
		f->pool_cap = cap;
	}
	p = &f->pool[f->npool++];
	p->kind = kind;
	p->key = (uint64_t)kind << 58;
	p->ranked = 0;
	p->name = p->region = p->reference = "";
	p->name_len = p->region_len = p->ref_len = 0;
	p->plain = 0;
	p->int_base = 0;
	p->res = NULL;
	p->tier = 0;
	p->price = NULL;
	p->batch = 0;
	p->order = 0;
	p->bucket = -1;
	p->unit = NULL;
	p->own_unit = 0;
	p->covered = 0;
	p->records = 0;
	return p;
}

/*
 * Whether the writers may copy s (n bytes) as it is: printable ASCII but
 * '"' and '\\', not starting like a spreadsheet formula (gb_line_note).
 */
static int plain_text(const char *s, size_t n)
{
	size_t i;

	if (n && (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@'))
		return 0;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c > 0x7e || c == '"' || c == '\\')
			return 0;
	}
	return 1;
}

typedef struct rank_ref {
	const char *s;
	uint32_t entry;
} rank_ref;

static int rank_ref_cmp(const void *pa, const void *pb)
{
	const rank_ref *a = pa, *b = pb;

	return strcmp(a->s, b->s);
}

/* rank[entry] = the place of its string among the distinct ones in v. */
static void set_ranks(rank_ref *v, size_t n, uint32_t *rank)
{
	uint32_t k = 0;
	size_t i;

	qsort(v, n, sizeof *v, rank_ref_cmp);
	for (i = 0; i < n; i++) {
		if (i > 0 && strcmp(v[i - 1].s, v[i].s) != 0)
			k++;
		rank[v[i].entry] = k;
	}
}

/*
 * Once per run: whether each entry's name and region are plain, and their
 * ranks, so that sorting proto-lines compares integers, not strings.
 */
static int entry_ranks(fin *f)
{
	const gb_rater *r = f->r;
	size_t n = r->nentries, i;
	rank_ref *v;

	f->name_rank = gb_malloc((n ? n : 1) * sizeof *f->name_rank);
	f->region_rank = gb_malloc((n ? n : 1) * sizeof *f->region_rank);
	f->entry_plain = gb_malloc(n ? n : 1);
	v = gb_malloc((n ? n : 1) * sizeof *v);
	if (!f->name_rank || !f->region_rank || !f->entry_plain || !v) {
		gb_free(v);
		return GB_ENOMEM;
	}
	for (i = 0; i < n; i++) {
		const entry *e = &r->entries[i];

		f->entry_plain[i] = (unsigned char)(plain_text(e->name, e->name_len) |
						    plain_text(e->region, e->region_len) << 1);
	}
	/* three fields of 29 bits and the kind make the key */
	f->ranked = n < (1u << 29);
	if (f->ranked) {
		for (i = 0; i < n; i++) {
			v[i].s = r->entries[i].name;
			v[i].entry = (uint32_t)i;
		}
		set_ranks(v, n, f->name_rank);
		for (i = 0; i < n; i++) {
			v[i].s = r->entries[i].region;
			v[i].entry = (uint32_t)i;
		}
		set_ranks(v, n, f->region_rank);
	}
	gb_free(v);
	return 0;
}

/* Name, region and sort key of a proto of entry e (an index). */
static void proto_entry(const fin *f, proto *p, uint32_t ei)
{
	const entry *e = &f->r->entries[ei];
	int gpu = e->type == ENTRY_GPU;
	unsigned ok = f->entry_plain[ei];

	p->name = e->name;
	p->name_len = (uint32_t)e->name_len;
	if (gpu) {
		p->region = e->region;
		p->region_len = (uint32_t)e->region_len;
	}
	/* token lines are per model, across regions: no region */
	p->plain = (ok & 1) && (!gpu || (ok & 2)) &&
		   e->name_len <= UINT32_MAX && e->region_len <= UINT32_MAX;
	if (f->ranked) {
		p->ranked = 1;
		p->key |= (uint64_t)f->name_rank[ei] << 29 |
			  (gpu ? f->region_rank[ei] : 0);
	}
}

/* --- 2. the customer's buckets to proto-lines ------------------------------------ */

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

/*
 * Fill f->tpos[i] for the customer's tiered buckets idx[0..n) (the others
 * are left alone).
 */
static int tier_positions(fin *f, const uint32_t *idx, size_t n)
{
	const gb_rater *r = f->r;
	size_t nt = 0, i, j, k;

	for (i = 0; i < n; i++)
		if (is_tiered(r, &r->buckets[idx[i]]))
			nt++;
	if (nt == 0)
		return 0;
	if (n > f->tcap) {
		tier_ref *tr = gb_realloc(f->trefs, n * sizeof *tr);
		tier_pos *tp;

		if (!tr)
			return GB_ENOMEM;
		f->trefs = tr;
		tp = gb_realloc(f->tpos, n * sizeof *tp);
		if (!tp)
			return GB_ENOMEM;
		f->tpos = tp;
		f->tcap = n;
	}
	for (i = 0, nt = 0; i < n; i++)
		if (is_tiered(r, &r->buckets[idx[i]])) {
			f->trefs[nt].r = r;
			f->trefs[nt].bucket = idx[i];
			f->trefs[nt++].local = i;
		}
	qsort(f->trefs, nt, sizeof *f->trefs, tier_ref_cmp);
	for (i = 0; i < nt; i = j) {
		gb_u128 run = 0;

		for (j = i; j < nt && tier_group_cmp(r, &r->buckets[f->trefs[i].bucket],
						      &r->buckets[f->trefs[j].bucket]) == 0; j++) {
			f->tpos[f->trefs[j].local].offset = run;
			run += r->buckets[f->trefs[j].bucket].quantity;
		}
		for (k = i; k < j; k++)
			f->tpos[f->trefs[k].local].total = run;
	}
	return 0;
}

/* A tier slice of tmpl's bucket: everything but the slice and its price
 * (no GMP member is copied: each proto owns its own). */
static void proto_like(proto *p, const proto *tmpl)
{
	p->key = tmpl->key;
	p->ranked = tmpl->ranked;
	p->name = tmpl->name;
	p->region = tmpl->region;
	p->name_len = tmpl->name_len;
	p->region_len = tmpl->region_len;
	p->plain = tmpl->plain;
	p->batch = tmpl->batch;
	p->records = tmpl->records;
	p->order = tmpl->order;
	p->bucket = tmpl->bucket;
}

/*
 * A tiered bucket: quantity q at price, from position off in its group
 * whose period total is total (all in tier units: GPU-hours or tokens).
 * Unit prices are scaled by factor (batch discount).  Graduated: each tier
 * bills the part of [off, off + q) inside it.  Volume: all of q at the
 * first tier whose bound the total does not pass.
 */
static int price_protos(fin *f, const proto *tmpl, const gb_price *price)
{
	size_t t, n = price->ntiers;
	int gpu = tmpl->kind <= GB_LINE_GPU_SPOT_INTERRUPTED;

	mpq_add(f->end, f->off, f->q);
	for (t = 0; t < n; t++) {
		proto *p;

		if (price->mode == GB_PRICE_VOLUME) {
			if (price->tiers[t].bounded &&
			    mpq_cmp(f->total, price->tiers[t].up_to) > 0)
				continue;
			mpq_set(f->slice, f->q);
			n = t + 1;  /* this tier prices all of it */
		} else {
			/* the tier spans (lower bound, up_to] */
			if (t == 0)
				mpq_set_ui(f->lo, 0, 1);
			else
				mpq_set(f->lo, price->tiers[t - 1].up_to);
			if (mpq_cmp(f->lo, f->off) < 0)
				mpq_set(f->lo, f->off);
			if (price->tiers[t].bounded &&
			    mpq_cmp(price->tiers[t].up_to, f->end) < 0)
				mpq_set(f->hi, price->tiers[t].up_to);
			else
				mpq_set(f->hi, f->end);
			if (mpq_cmp(f->hi, f->lo) <= 0)
				continue;
			mpq_sub(f->slice, f->hi, f->lo);
		}
		p = proto_new(f, tmpl->kind);
		if (!p)
			return GB_ENOMEM;
		proto_like(p, tmpl);
		p->tier = (unsigned)t + 1;
		p->price = price;
		p->own_unit = 1;
		mpq_mul(p->own, price->tiers[t].price, f->factor);
		/* base: GPU-seconds (hours x 3600) or tokens */
		mpq_set(p->base, f->slice);
		if (gpu) {
			mpz_mul_ui(mpq_numref(p->base), mpq_numref(p->base), 3600);
			mpq_canonicalize(p->base);
		}
	}
	return 0;
}

/* factor = 1 - the batch discount of the bucket's version, or 1. */
static void batch_factor(fin *f, const bucket *b)
{
	mpq_set_ui(f->factor, 1, 1);
	if (b->key.aux) {
		const gb_version *v = &f->r->prices->versions[b->key.aux - 1];

		mpq_sub(f->factor, f->factor, v->batch_discount);
	}
}

/*
 * Entry i of m (of n, allocated on first use): price x the batch factor of
 * bucket b's version, made the first time it is asked for; NULL when out
 * of memory.
 */
static mpq_srcptr q_memo_get(fin *f, q_memo *m, size_t n, size_t i,
			     mpq_srcptr price, const bucket *b)
{
	if (!m->v) {
		m->v = gb_calloc(n, sizeof *m->v);
		m->have = gb_calloc(n, 1);
		if (!m->v || !m->have) {
			q_memo_free(m);
			return NULL;
		}
		m->n = n;
	}
	if (!m->have[i]) {
		batch_factor(f, b);
		mpq_init(m->v[i]);
		mpq_mul(m->v[i], price, f->factor);
		m->have[i] = 1;
	}
	return m->v[i];
}

/* The unit price of batch bucket b at flat price. */
static mpq_srcptr batch_unit(fin *f, const bucket *b, const gb_price *price)
{
	size_t nv = f->r->prices->nversions;

	return q_memo_get(f, &f->batch, f->r->nprice_ids * nv,
			  (size_t)b->key.price * nv + (b->key.aux - 1u),
			  price->flat, b);
}

/*
 * The integer bounds of tiered price id (gpu: GPU-hours, else tokens), as
 * base units; NULL when out of memory.  state 2: some bound is not a whole
 * number of base units (or too large), so the mpq way prices it.
 */
static tier_int *tier_int_of(fin *f, int32_t id, int gpu, const gb_price *price)
{
	const gb_rater *r = f->r;
	uint64_t mult = gpu ? 3600 : 1, num, den;
	tier_int *ti;
	size_t t;

	if (!f->tint) {
		f->tint = gb_calloc(r->nprice_ids * 2, sizeof *f->tint);
		if (!f->tint)
			return NULL;
		f->tint_n = r->nprice_ids * 2;
	}
	ti = &f->tint[(size_t)id * 2 + (gpu ? 1 : 0)];
	if (ti->state)
		return ti;
	ti->bound = gb_calloc(price->ntiers, sizeof *ti->bound);
	if (!ti->bound)
		return NULL;
	ti->state = 1;
	for (t = 0; t < price->ntiers; t++) {
		mpq_srcptr up = price->tiers[t].up_to;
		gb_u128 x;

		/* up_to x mult must be a whole number (up_to is in lowest terms) */
		if (!get_u64(mpq_numref(up), &num) || !get_u64(mpq_denref(up), &den) ||
		    den == 0 || (num * (gb_u128)mult) % den != 0) {
			ti->state = 2;
			break;
		}
		x = num * (gb_u128)mult / den;
		ti->bound[t] = x;
	}
	return ti;
}

/* Tier t's unit price for batch bucket b (version b->key.aux - 1). */
static mpq_srcptr tier_batch_unit(fin *f, tier_int *ti, const gb_price *price,
				  size_t t, const bucket *b)
{
	size_t nv = f->r->prices->nversions;

	return q_memo_get(f, &ti->batch, price->ntiers * nv,
			  t * nv + (b->key.aux - 1u), price->tiers[t].price, b);
}

/*
 * price_protos in integers, when the tier bounds are whole base units:
 * the slices of [off, off + q) and the volume tier of the total are then
 * whole too, and each tier's unit price is the table's (or, for batch
 * usage, made once).  1 when done, 0 when the mpq way must do it, or
 * GB_ENOMEM.
 */
static int int_tier_protos(fin *f, const proto *tmpl, const bucket *b,
			   const tier_pos *pos, const gb_price *price, int gpu)
{
	tier_int *ti;
	gb_u128 q = b->quantity, off = pos->offset, end, lo, hi, slice;
	gb_u128 total = pos->total ? pos->total : q;
	size_t t, n = price->ntiers;

	if (!gb_invoice_fast)
		return 0;
	ti = tier_int_of(f, b->key.price, gpu, price);
	if (!ti)
		return GB_ENOMEM;
	if (ti->state != 1 || __builtin_add_overflow(off, q, &end))
		return 0;
	for (t = 0; t < n; t++) {
		proto *p;

		if (price->mode == GB_PRICE_VOLUME) {
			if (price->tiers[t].bounded && total > ti->bound[t])
				continue;
			slice = q;
			n = t + 1;  /* this tier prices all of it */
		} else {
			/* the tier spans (lower bound, up_to] */
			lo = t == 0 ? 0 : ti->bound[t - 1];
			if (lo < off)
				lo = off;
			hi = price->tiers[t].bounded && ti->bound[t] < end ?
			     ti->bound[t] : end;
			if (hi <= lo)
				continue;
			slice = hi - lo;
		}
		p = proto_new(f, tmpl->kind);
		if (!p)
			return GB_ENOMEM;
		proto_like(p, tmpl);
		p->tier = (unsigned)t + 1;
		p->price = price;
		p->own_unit = 0;
		p->unit = b->key.aux ? tier_batch_unit(f, ti, price, t, b) :
				       price->tiers[t].price;
		if (!p->unit)
			return GB_ENOMEM;
		p->int_base = 1;
		p->ibase = slice;
	}
	return 1;
}

/* Bucket index, the customer's local-th: its proto-lines. */
static int bucket_protos(fin *f, const bucket *b, size_t local, long index)
{
	gb_rater *r = f->r;
	const entry *e = &r->entries[b->key.entry];
	const gb_price *price = NULL;
	proto *p;
	int rc;

	if (b->quantity == 0)
		return 0;
	p = proto_new(f, (gb_line_kind)b->key.kind);
	if (!p)
		return GB_ENOMEM;
	proto_entry(f, p, b->key.entry);
	p->records = b->records;
	p->bucket = index;
	if (b->key.price >= 0) {
		price = r->prices_by_id[b->key.price];
		p->batch = b->key.aux != 0;
		p->order = (uint32_t)b->key.price;
		if (price->mode != GB_PRICE_FLAT) {
			const tier_pos *pos = &f->tpos[local];
			proto tmpl;

			/* the tier slices take the place of this one (only
			 * its plain fields are used: its GMP members stay
			 * with the pool) */
			tmpl = *p;
			f->npool--;
			rc = int_tier_protos(f, &tmpl, b, pos, price,
					     e->type == ENTRY_GPU);
			if (rc)
				return rc < 0 ? rc : 0;
			/* tiers count GPU-hours or tokens */
			mpq_set_u128(f->q, b->quantity);
			mpq_set_u128(f->off, pos->offset);
			mpq_set_u128(f->total, pos->total ? pos->total : b->quantity);
			if (e->type == ENTRY_GPU) {
				mpz_set_ui(mpq_denref(f->q), 3600);
				mpq_canonicalize(f->q);
				mpz_set_ui(mpq_denref(f->off), 3600);
				mpq_canonicalize(f->off);
				mpz_set_ui(mpq_denref(f->total), 3600);
				mpq_canonicalize(f->total);
			}
			batch_factor(f, b);
			return price_protos(f, &tmpl, price);
		}
	}
	/* a flat price, or interrupted spot (a zero line showing GPU-hours) */
	if (gb_invoice_fast) {
		p->int_base = 1;
		p->ibase = b->quantity;
	} else {
		mpq_set_u128(p->base, b->quantity);
	}
	if (b->key.price < 0) {
		p->unit = f->zero;
		return 0;
	}
	if (b->key.aux) {
		p->unit = batch_unit(f, b, price);
		if (!p->unit)
			return GB_ENOMEM;
	} else {
		p->unit = price->flat;
	}
	return 0;
}

static void reservation_protos(fin *f, size_t ci, int *rc)
{
	const res_lines *rl = &f->res;
	size_t lo = 0, hi = rl->n, i;

	/* the customer's run of phase-1 lines (they are in customer order) */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (rl->v[mid].cust < ci)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (i = lo; i < rl->n && rl->v[i].cust == ci; i++) {
		const res_line *x = &rl->v[i];
		proto *p = proto_new(f, GB_LINE_GPU_RESERVED);

		if (!p) {
			*rc = GB_ENOMEM;
			return;
		}
		p->res = x->res;
		p->name = x->res->sku;
		p->region = x->res->region;
		p->reference = x->res->id;
		p->name_len = (uint32_t)strlen(p->name);
		p->region_len = (uint32_t)strlen(p->region);
		p->ref_len = (uint32_t)strlen(p->reference);
		/* the description shows the term too */
		p->plain = plain_text(p->name, strlen(p->name)) &&
			   plain_text(p->region, strlen(p->region)) &&
			   plain_text(p->reference, strlen(p->reference)) &&
			   plain_text(x->res->term, strlen(x->res->term));
		p->unit = *x->rate;
		p->covered = x->covered;
		/* hours x gpus x 3600 GPU-seconds */
		if (gb_invoice_fast) {
			p->int_base = 1;
			p->ibase = (gb_u128)x->hours * x->res->gpus * 3600u;
		} else {
			mpq_set_u128(p->base, (gb_u128)x->hours * x->res->gpus * 3600u);
		}
	}
}

/* --- 3. sort and merge ------------------------------------------------------------ */

/* Unit prices compared: as integers when their terms fit in 64 bits. */
static int unit_cmp(mpq_srcptr a, mpq_srcptr b)
{
	uint64_t an, ad, bn, bd;
	int c;

	if (a == b)
		return 0;
	if (get_u64(mpq_numref(a), &an) && get_u64(mpq_denref(a), &ad) &&
	    get_u64(mpq_numref(b), &bn) && get_u64(mpq_denref(b), &bd)) {
		gb_u128 x = (gb_u128)an * bd, y = (gb_u128)bn * ad;

		return x < y ? -1 : x > y;
	}
	c = mpq_cmp(a, b);
	return c < 0 ? -1 : c > 0;
}

/*
 * Order within the line key, so equal keys are adjacent: kind, name,
 * region (the key, when ranked, holds all three), unit price, tier,
 * reference.
 */
static int proto_key_cmp(const proto *a, const proto *b)
{
	int c;

	if (a->key != b->key)
		return a->key < b->key ? -1 : 1;
	if (!a->ranked || !b->ranked) {
		c = a->name == b->name ? 0 : strcmp(a->name, b->name);
		if (c)
			return c;
		c = a->region == b->region ? 0 : strcmp(a->region, b->region);
		if (c)
			return c;
	}
	c = unit_cmp(unit_of(a), unit_of(b));
	if (c)
		return c;
	if (a->tier != b->tier)
		return a->tier < b->tier ? -1 : 1;
	return a->reference == b->reference ? 0 : strcmp(a->reference, b->reference);
}

/*
 * Equal keys merge into one line (SPEC 6), even slices of two versions'
 * tier tables; among them the table's own order comes first, so the
 * merged line's label (taken from the first) never depends on the input.
 */
static int proto_qsort_cmp(const void *pa, const void *pb)
{
	const proto *a = *(const proto *const *)pa, *b = *(const proto *const *)pb;
	int c = proto_key_cmp(a, b);

	if (c)
		return c;
	return a->order < b->order ? -1 : a->order > b->order;
}

/* Insertion sort of v[0..n), stable. */
static void insertion_sort(proto **v, size_t n)
{
	size_t i, j;

	for (i = 1; i < n; i++) {
		proto *p = v[i];

		for (j = i; j > 0 && proto_qsort_cmp(&v[j - 1], &p) > 0; j--)
			v[j] = v[j - 1];
		v[j] = p;
	}
}

/*
 * f->ord sorted, stably (as the merge sort of qsort did): runs of 16 by
 * insertion, then merged bottom-up through f->ord2, the comparisons
 * inlined.  Protos equal in key and order merge into one line whatever
 * their order, but a stable sort keeps even explain's slices as they were.
 */
static void sort_protos(fin *f)
{
	proto **a = f->ord, **b = f->ord2, **t;
	size_t n = f->npool, w, i;

	for (i = 0; i < n; i += 16)
		insertion_sort(a + i, n - i < 16 ? n - i : 16);
	for (w = 16; w < n; w *= 2) {
		for (i = 0; i < n; i += 2 * w) {
			size_t l = i, le = i + w < n ? i + w : n;
			size_t r = le, re = i + 2 * w < n ? i + 2 * w : n, k = i;

			while (l < le && r < re)
				b[k++] = proto_qsort_cmp(&a[r], &a[l]) < 0 ? a[r++] : a[l++];
			while (l < le)
				b[k++] = a[l++];
			while (r < re)
				b[k++] = a[r++];
		}
		t = a;
		a = b;
		b = t;
	}
	if (a != f->ord)
		memcpy(f->ord, a, n * sizeof *a);
}

/*
 * Merge adjacent protos with equal keys into the first of each run;
 * f->ord[0..returned) are the merged lines.  A traced record's bucket:
 * explain learns which merged line its slice joins.
 */
static size_t merge_protos(fin *f, int *rc)
{
	gb_explain *ex = f->r->explain;
	size_t i, out = 0;

	for (i = 0; i < f->npool; i++) {
		proto *p = f->ord[i];
		int merge = out > 0 && proto_key_cmp(f->ord[out - 1], p) == 0;

		if (ex && *rc == 0 && gb_explain_is_marked(ex, p->bucket))
			*rc = gb_explain_slice(ex, p->bucket, base_of(f, p),
					       merge ? out - 1 : out);
		if (merge) {
			proto *m = f->ord[out - 1];
			gb_u128 sum;

			if (m->int_base && p->int_base &&
			    !__builtin_add_overflow(m->ibase, p->ibase, &sum)) {
				m->ibase = sum;
			} else {
				base_to_mpq(m);
				mpq_add(m->base, m->base, base_of(f, p));
			}
			m->covered += p->covered;
			m->records += p->records;
			if (m->batch != p->batch)
				m->batch = -1;
			continue;
		}
		f->ord[out++] = p;
	}
	return out;
}

/* --- 4. lines, contract adjustments, invoices ------------------------------------- */

/* Descriptions are built in f->text; lines keep offsets until the end. */
/* Room for n more bytes (and a NUL) in f->text; NULL when out of memory. */
static char *text_room(fin *f, size_t n)
{
	if (f->text_len + n + 1 > f->text_cap) {
		size_t cap = f->text_cap ? f->text_cap : 4096;
		char *t;

		while (cap < f->text_len + n + 1)
			cap *= 2;
		t = f->text_failed ? NULL : gb_realloc(f->text, cap);
		if (!t) {
			f->text_failed = 1;
			return NULL;
		}
		f->text = t;
		f->text_cap = cap;
	}
	return f->text + f->text_len;
}

static void text_add(fin *f, const char *s, size_t n)
{
	char *t = text_room(f, n);

	if (!t)
		return;
	memcpy(t, s, n);
	f->text_len += n;
}

static void text_puts(fin *f, const char *s)
{
	text_add(f, s, strlen(s));
}

#define TEXT_LIT(f, lit) text_add((f), (lit), sizeof(lit) - 1)

/* A name or region: its known length when plain (so NUL-free), else up
 * to its first NUL, as it always was. */
static void text_name(fin *f, const char *s, size_t n, int plain)
{
	if (plain)
		text_add(f, s, n);
	else
		text_puts(f, s);
}

/* End the current string; returns the offset where it started. */
static size_t text_end(fin *f, size_t start)
{
	text_add(f, "", 1);
	return start;
}

static void text_u64(fin *f, uint64_t v)
{
	char d[20];

	text_add(f, d, gb_u64_text(d, v));
}

/* fraction x 100 with up to two decimals: the scaled numerator over the
 * same denominator is the same number, so no gcd is needed */
static void percent_text(fin *f, char *buf, size_t size, const mpq_t fraction)
{
	mpz_mul_ui(mpq_numref(f->slice), mpq_numref(fraction), 100);
	mpz_set(mpq_denref(f->slice), mpq_denref(fraction));
	gb_decimal_text(buf, size, f->slice, 0, 2);
	mpq_set_ui(f->slice, 0, 1);
}

/* ", graduated tier 2 (1000 to 5000 GPU-hours)" */
static void tier_text(fin *f, const proto *p, const char *unit)
{
	const gb_price *price = p->price;
	size_t t = p->tier - 1;
	char lo[64] = "0", hi[64];

	if (price->mode == GB_PRICE_VOLUME)
		TEXT_LIT(f, ", volume tier ");
	else
		TEXT_LIT(f, ", graduated tier ");
	text_u64(f, t + 1);
	if (t > 0)
		gb_decimal_text(lo, sizeof lo, price->tiers[t - 1].up_to, 0,
				GB_DECIMAL_MAX_FRACTION);
	if (price->tiers[t].bounded) {
		gb_decimal_text(hi, sizeof hi, price->tiers[t].up_to, 0,
				GB_DECIMAL_MAX_FRACTION);
		TEXT_LIT(f, " (");
		text_puts(f, lo);
		TEXT_LIT(f, " to ");
		text_puts(f, hi);
	} else {
		TEXT_LIT(f, " (over ");
		text_puts(f, lo);
	}
	TEXT_LIT(f, " ");
	text_puts(f, unit);
	TEXT_LIT(f, ")");
}

/* The line's description into f->text; returns its offset. */
static size_t describe(fin *f, const proto *p)
{
	static const char *const token_what[] = {
		" input tokens", " cached input tokens", " output tokens"
	};
	static const size_t token_what_len[] = { 13, 20, 14 };
	size_t start = f->text_len;
	char *t;

	/* the usual line: plain names, no tier: in one piece */
	if (p->plain && !p->tier && p->kind != GB_LINE_GPU_RESERVED &&
	    (t = text_room(f, (size_t)p->name_len + p->region_len + 64)) != NULL) {
		t = gb_put_short(t, p->name, p->name_len);
		switch (p->kind) {
		case GB_LINE_GPU_ON_DEMAND:
			t = GB_PUT_LIT(t, " on-demand, ");
			t = gb_put_short(t, p->region, p->region_len);
			break;
		case GB_LINE_GPU_SPOT:
			t = GB_PUT_LIT(t, " spot, ");
			t = gb_put_short(t, p->region, p->region_len);
			break;
		case GB_LINE_GPU_SPOT_INTERRUPTED:
			t = GB_PUT_LIT(t, " spot, ");
			t = gb_put_short(t, p->region, p->region_len);
			t = GB_PUT_LIT(t, ", interrupted by the provider: no charge");
			break;
		default:
			t = gb_put(t, token_what[p->kind - GB_LINE_TOKENS_INPUT],
				   token_what_len[p->kind - GB_LINE_TOKENS_INPUT]);
			if (p->batch == 1)
				t = GB_PUT_LIT(t, ", batch");
			break;
		}
		*t++ = '\0';
		f->text_len = (size_t)(t - f->text);
		return start;
	}

	switch (p->kind) {
	case GB_LINE_GPU_RESERVED:
		TEXT_LIT(f, "Reservation ");
		text_puts(f, p->res->id);
		TEXT_LIT(f, ": ");
		text_u64(f, p->res->gpus);
		TEXT_LIT(f, " x ");
		text_puts(f, p->res->sku);
		TEXT_LIT(f, ", ");
		text_puts(f, p->res->region);
		TEXT_LIT(f, ", term ");
		text_puts(f, p->res->term);
		break;
	case GB_LINE_GPU_ON_DEMAND:
	case GB_LINE_GPU_SPOT:
		text_name(f, p->name, p->name_len, p->plain);
		if (p->kind == GB_LINE_GPU_SPOT)
			TEXT_LIT(f, " spot, ");
		else
			TEXT_LIT(f, " on-demand, ");
		text_name(f, p->region, p->region_len, p->plain);
		if (p->tier)
			tier_text(f, p, "GPU-hours");
		break;
	case GB_LINE_GPU_SPOT_INTERRUPTED:
		text_name(f, p->name, p->name_len, p->plain);
		TEXT_LIT(f, " spot, ");
		text_name(f, p->region, p->region_len, p->plain);
		TEXT_LIT(f, ", interrupted by the provider: no charge");
		break;
	case GB_LINE_TOKENS_INPUT:
	case GB_LINE_TOKENS_CACHED_INPUT:
	case GB_LINE_TOKENS_OUTPUT:
		text_name(f, p->name, p->name_len, p->plain);
		text_add(f, token_what[p->kind - GB_LINE_TOKENS_INPUT],
			 token_what_len[p->kind - GB_LINE_TOKENS_INPUT]);
		if (p->batch == 1)
			TEXT_LIT(f, ", batch");
		if (p->tier)
			tier_text(f, p, "tokens");
		break;
	default:
		break;
	}
	return text_end(f, start);
}

/* The next line of the current invoice, its old values reset. */
static gb_invoice_line *line_new(fin *f)
{
	gb_invoice_line *l;

	if (f->nlines == f->lines_cap) {
		size_t cap = f->lines_cap ? f->lines_cap * 2 : 64, i;

		if (gb_resize_array((void **)&f->lines, cap, sizeof *f->lines) ||
		    gb_resize_array((void **)&f->desc, cap, sizeof *f->desc) ||
		    gb_resize_array((void **)&f->notes, cap, sizeof *f->notes))
			return NULL;
		for (i = f->lines_cap; i < cap; i++)
			gb_invoice_line_init(&f->lines[i]);
		f->lines_cap = cap;
	}
	l = &f->lines[f->nlines++];
	if (l->has_utilisation)
		mpq_set_ui(l->utilisation, 0, 1);
	if (l->has_remaining)
		mpz_set_ui(l->remaining, 0);
	l->has_utilisation = l->has_remaining = 0;
	l->tier = 0;
	l->batch = 0;
	l->records = 0;
	l->description = l->sku = l->model = l->region = l->reference = "";
	f->notes[f->nlines - 1].plain = 0;
	f->notes[f->nlines - 1].per = 0;
	return l;
}

/*
 * gcd(a, per) for per = 3600 (2^4 3^2 5^2) or 10^6 (2^6 5^6), from the
 * factors of per: a few remainders by constants, which compile to
 * multiplications.  Other values of per take Euclid's way.
 */
static uint64_t gcd_per(gb_u128 a, uint64_t per)
{
	uint32_t x;
	uint64_t g, y, t;
	int twos;

	if (per == 3600)
		x = (uint32_t)(a <= UINT64_MAX ? (uint64_t)a % 3600 : a % 3600);
	else if (per == 1000000)
		x = (uint32_t)(a <= UINT64_MAX ? (uint64_t)a % 1000000 : a % 1000000);
	else {
		for (g = per, y = (uint64_t)(a % per); y; g = y, y = t)
			t = g % y;
		return g;
	}
	if (x == 0)
		return per;
	twos = __builtin_ctz(x);
	if (per == 3600) {
		g = (uint64_t)1 << (twos < 4 ? twos : 4);
		g *= x % 9 == 0 ? 9 : x % 3 == 0 ? 3 : 1;
		g *= x % 25 == 0 ? 25 : x % 5 == 0 ? 5 : 1;
		return g;
	}
	g = (uint64_t)1 << (twos < 6 ? twos : 6);
	if (x % 5)
		return g;
	if (x % 25)
		return g * 5;
	if (x % 125)
		return g * 25;
	if (x % 625)
		return g * 125;
	if (x % 3125)
		return g * 625;
	return x % 15625 ? g * 3125 : g * 15625;
}

/*
 * b / per in lowest terms for per = 3600 (2^4 3^2 5^2) or 10^6 (2^6 5^6):
 * the common factors show in b mod per, and each comes out of both terms
 * by a constant divisor (multiplications, no division instruction).
 */
static void per_lowest(uint64_t b, uint64_t per, uint64_t *num, uint64_t *den)
{
	uint64_t x, d;
	int k;

	if (per == 3600) {
		x = b % 3600;
		if (x == 0) {
			*num = b / 3600;
			*den = 1;
			return;
		}
		k = __builtin_ctzll(x);
		k = k < 4 ? k : 4;
		b >>= k;
		d = 3600u >> k;
		if (x % 9 == 0) {
			b /= 9;
			d /= 9;
		} else if (x % 3 == 0) {
			b /= 3;
			d /= 3;
		}
		if (x % 25 == 0) {
			b /= 25;
			d /= 25;
		} else if (x % 5 == 0) {
			b /= 5;
			d /= 5;
		}
	} else {
		x = b % 1000000;
		if (x == 0) {
			*num = b / 1000000;
			*den = 1;
			return;
		}
		k = __builtin_ctzll(x);
		k = k < 6 ? k : 6;
		b >>= k;
		d = 1000000u >> k;
		for (k = 0; k < 6 && x % 5 == 0; k++) {
			x /= 5;
			b /= 5;
			d /= 5;
		}
	}
	*num = b;
	*den = d;
}

/* num / den (a magnitude) rounded to an integer with mode. */
static gb_u128 round_ratio(gb_u128 num, gb_u128 den, gb_rounding mode)
{
	gb_u128 q, r;
	int away;

	if (num <= UINT64_MAX && den <= UINT64_MAX) {
		/* the usual case; 128-bit division is a library call */
		q = (uint64_t)num / (uint64_t)den;
		r = (uint64_t)num % (uint64_t)den;
	} else {
		q = num / den;
		r = num % den;
	}
	switch (mode) {
	case GB_ROUND_DOWN:
		away = 0;
		break;
	case GB_ROUND_UP:
		away = r != 0;
		break;
	case GB_ROUND_HALF_UP:
		away = r != 0 && r >= den - r;
		break;
	case GB_ROUND_HALF_EVEN:
	default:
		away = r != 0 && (r > den - r || (r == den - r && (q & 1)));
		break;
	}
	return q + (away ? 1 : 0);
}

/* |z| when it fits in 64 bits. */
static int get_mag64(mpz_srcptr z, uint64_t *out)
{
	if (mpz_size(z) > 1 || GMP_NUMB_BITS != 64)
		return 0;
	*out = mpz_size(z) ? (uint64_t)mpz_getlimbn(z, 0) : 0;
	return 1;
}

/*
 * out = v x factor rounded to minor units with mode (factor NULL: 1), as
 * gb_round does; every mode rounds the magnitude, so the sign comes after.
 * 128-bit integers when the terms fit in 64 bits, GMP otherwise.
 */
static void round_q(mpz_t out, mpq_srcptr v, mpq_srcptr factor,
		    unsigned minor, gb_rounding mode, mpq_t scratch)
{
	uint64_t n, d, fn = 1, fd = 1;
	gb_u128 num, den;

	if (gb_invoice_fast && minor <= 19 && get_mag64(mpq_numref(v), &n) &&
	    get_u64(mpq_denref(v), &d) &&
	    (!factor || (get_mag64(mpq_numref(factor), &fn) &&
			 get_u64(mpq_denref(factor), &fd))) &&
	    !__builtin_mul_overflow((gb_u128)n * fn, (gb_u128)gb_pow10_u64[minor], &num) &&
	    !__builtin_mul_overflow((gb_u128)d, (gb_u128)fd, &den) && den) {
		mpz_set_u128(out, round_ratio(num, den, mode));
		if ((mpz_sgn(mpq_numref(v)) < 0) !=
		    (factor && mpz_sgn(mpq_numref(factor)) < 0))
			mpz_neg(out, out);
		return;
	}
	if (factor) {
		mpq_mul(scratch, v, factor);
		gb_round(out, scratch, minor, mode);
	} else {
		gb_round(out, v, minor, mode);
	}
}

/*
 * quantity = b / per (per = 3600 or 10^6) and
 * amount = round(b x price / per) to minor units, in 128-bit integers
 * when the price's terms fit in 64 bits.  Returns 0 when they do not
 * (nothing set).
 */
static int fast_line(gb_invoice_line *l, gb_u128 b, mpq_srcptr price,
		     uint64_t per, unsigned minor, gb_rounding mode)
{
	gb_u128 num;
	uint64_t pn, pd, g;

	if (!gb_invoice_fast || minor > 19 || !get_u64(mpq_numref(price), &pn) ||
	    !get_u64(mpq_denref(price), &pd))
		return 0;
	/* exact = b x pn / (per x pd); scaled by 10^minor */
	if (__builtin_mul_overflow(b, (gb_u128)pn, &num) ||
	    __builtin_mul_overflow(num, (gb_u128)gb_pow10_u64[minor], &num))
		return 0;
	mpz_set_u128(l->amount, round_ratio(num, (gb_u128)per * pd, mode));
	if (b <= UINT64_MAX && (per == 3600 || per == 1000000)) {
		uint64_t qn, qd;

		per_lowest((uint64_t)b, per, &qn, &qd);
		mpz_set_u64(mpq_numref(l->quantity), qn);
		mpz_set_u64(mpq_denref(l->quantity), qd);
		return 1;
	}
	g = gcd_per(b, per);
	mpz_set_u128(mpq_numref(l->quantity), b / g);
	mpz_set_u64(mpq_denref(l->quantity), per / g);
	return 1;
}

static int usage_line(fin *f, const proto *p)
{
	const gb_prices *prices = f->r->prices;
	gb_invoice_line *l = line_new(f);
	int gpu = p->kind <= GB_LINE_GPU_SPOT_INTERRUPTED;
	uint64_t per = gpu ? 3600 : 1000000;
	mpq_srcptr unit = unit_of(p);
	gb_line_note *nt;
	size_t start;
	gb_u128 b = 0;
	int fast, whole = p->int_base;

	if (!l)
		return GB_ENOMEM;
	l->kind = p->kind;
	l->tier = p->tier;
	l->batch = p->batch == 1;
	l->records = p->records;
	l->unit = gpu ? "GPU-hour" : "1M tokens";
	mpq_copy(l->unit_price, unit);
	if (p->int_base) {
		mpq_set_u128(l->base_quantity, p->ibase);
		fast = fast_line(l, p->ibase, unit, per, prices->minor_units,
				 prices->rounding);
	} else {
		mpq_set(l->base_quantity, p->base);
		whole = mpz_cmp_ui(mpq_denref(p->base), 1) == 0 &&
			get_u128(mpq_numref(p->base), &b);
		fast = whole && fast_line(l, b, unit, per, prices->minor_units,
					  prices->rounding);
	}
	if (!fast) {
		mpq_set(l->quantity, l->base_quantity);
		mpz_mul_ui(mpq_denref(l->quantity), mpq_denref(l->quantity), per);
		mpq_canonicalize(l->quantity);
		mpq_mul(f->exact, l->quantity, unit);
		gb_round(l->amount, f->exact, prices->minor_units, prices->rounding);
	}
	if (p->kind == GB_LINE_GPU_RESERVED && mpq_sgn(l->base_quantity) > 0) {
		l->has_utilisation = 1;
		mpq_set_u128(l->utilisation, p->covered);
		mpq_div(l->utilisation, l->utilisation, l->base_quantity);
	}
	/* borrowed: the rater's entry names, the contract's reservation */
	if (gpu)
		l->sku = p->name;
	else
		l->model = p->name;
	l->region = p->region;
	l->reference = p->reference;
	start = f->text_len;
	f->desc[f->nlines - 1] = describe(f, p);
	/* the writers' notes: the base as an integer, a plain line's lengths */
	nt = &f->notes[f->nlines - 1];
	nt->per = 0;
	if (p->int_base)
		b = p->ibase;
	if (whole && b <= GB_BASE_MAX) {
		nt->per = gpu ? GB_PER_HOUR : GB_PER_MILLION;
		nt->base = (uint64_t)b;
	}
	nt->plain = p->plain;
	if (p->plain) {
		nt->len[GB_TXT_DESC] = (uint32_t)(f->text_len - start - 1);
		nt->len[GB_TXT_SKU] = gpu ? p->name_len : 0;
		nt->len[GB_TXT_MODEL] = gpu ? 0 : p->name_len;
		nt->len[GB_TXT_REGION] = p->region_len;
		nt->len[GB_TXT_REF] = p->ref_len;
		nt->len[GB_TXT_UNIT] = gpu ? 8 : 9;
		/* a description too long for the note goes the general way */
		if (f->text_len - start - 1 > UINT32_MAX)
			nt->plain = 0;
	}
	return 0;
}

/* An adjustment line: quantity 1, unit price = amount. */
static gb_invoice_line *adjust_line(fin *f, gb_line_kind kind,
				    const mpz_t amount, const char *reference,
				    size_t desc)
{
	gb_invoice_line *l = line_new(f);

	if (!l)
		return NULL;
	l->kind = kind;
	l->unit = "";
	mpq_set_ui(l->base_quantity, 0, 1);
	mpq_set_ui(l->quantity, 1, 1);
	mpz_set(l->amount, amount);
	mpq_set_z(l->unit_price, amount);
	mpz_ui_pow_ui(mpq_denref(l->unit_price), 10, f->r->prices->minor_units);
	mpq_canonicalize(l->unit_price);
	l->reference = reference;
	f->desc[f->nlines - 1] = desc;
	return l;
}

static void sum_lines(fin *f, mpz_t out, gb_line_kind lo, gb_line_kind hi)
{
	size_t i;

	mpz_set_ui(out, 0);
	for (i = 0; i < f->nlines; i++)
		if (f->lines[i].kind >= lo && f->lines[i].kind <= hi)
			mpz_add(out, out, f->lines[i].amount);
}

static int contract_lines(fin *f, const gb_contract *k)
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
	const gb_prices *prices = f->r->prices;
	unsigned minor = prices->minor_units;
	char pct[32], a[64], b[64];
	size_t i, start;
	int d;

	for (d = 0; d < GB_DISCOUNT__COUNT; d++) {
		if (!k->has_discount[d])
			continue;
		/* -fraction x the sum of that kind's rounded lines */
		sum_lines(f, f->base, lo[d], hi[d]);
		mpq_set_z(f->exact, f->base);
		round_q(f->amount, f->exact, k->discount[d], 0, prices->rounding,
			f->slice);
		mpz_neg(f->amount, f->amount);
		percent_text(f, pct, sizeof pct, k->discount[d]);
		gb_money_text(a, sizeof a, f->base, minor);
		start = f->text_len;
		TEXT_LIT(f, "Discount ");
		text_puts(f, pct);
		TEXT_LIT(f, "% on ");
		text_puts(f, what[d]);
		TEXT_LIT(f, " (");
		text_puts(f, a);
		TEXT_LIT(f, ")");
		if (!adjust_line(f, GB_LINE_DISCOUNT, f->amount, refs[d],
				 text_end(f, start)))
			return GB_ENOMEM;
	}
	sum_lines(f, f->sum, GB_LINE_GPU_RESERVED, GB_LINE_CREDIT);
	if (k->has_minimum) {
		round_q(f->amount, k->minimum_spend, NULL, minor, prices->rounding,
			f->slice);
		if (mpz_cmp(f->amount, f->sum) > 0) {
			gb_money_text(a, sizeof a, f->amount, minor);
			mpz_sub(f->amount, f->amount, f->sum);
			start = f->text_len;
			TEXT_LIT(f, "Minimum spend shortfall (minimum ");
			text_puts(f, a);
			TEXT_LIT(f, ")");
			if (!adjust_line(f, GB_LINE_MINIMUM_SPEND, f->amount, "",
					 text_end(f, start)))
				return GB_ENOMEM;
			mpz_add(f->sum, f->sum, f->amount);
		}
	}
	for (i = 0; i < k->ncredits; i++) {
		const gb_credit *c = &k->credits[i];
		gb_invoice_line *l;

		round_q(f->credit, c->amount, NULL, minor, prices->rounding,
			f->slice);
		/* -min(credit, total so far), never below zero */
		if (mpz_sgn(f->sum) <= 0)
			mpz_set_ui(f->amount, 0);
		else if (mpz_cmp(f->credit, f->sum) < 0)
			mpz_set(f->amount, f->credit);
		else
			mpz_set(f->amount, f->sum);
		mpz_sub(f->sum, f->sum, f->amount);
		gb_money_text(a, sizeof a, f->credit, minor);
		mpz_sub(f->credit, f->credit, f->amount);
		gb_money_text(b, sizeof b, f->credit, minor);
		mpz_neg(f->amount, f->amount);
		start = f->text_len;
		TEXT_LIT(f, "Credit ");
		text_puts(f, c->id);
		TEXT_LIT(f, " (");
		text_puts(f, a);
		TEXT_LIT(f, "; ");
		text_puts(f, b);
		TEXT_LIT(f, " left)");
		l = adjust_line(f, GB_LINE_CREDIT, f->amount, c->id,
				text_end(f, start));
		if (!l)
			return GB_ENOMEM;
		l->has_remaining = 1;
		mpz_set(l->remaining, f->credit);
	}
	return 0;
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

static int cmp_bytes(const char *a, size_t al, const char *b, size_t bl)
{
	int c = memcmp(a, b, al < bl ? al : bl);

	if (c)
		return c;
	return al < bl ? -1 : al > bl;
}

/*
 * Customers in id order (bytewise).  The sort compares the first 16 bytes
 * of each id as two big-endian integers (zero-padded: a shorter id that
 * is a prefix still comes first) and only then the names themselves, so
 * it seldom leaves the key array.
 */
typedef struct cust_key {
	uint64_t k0, k1;
	const cust_rec *c;
} cust_key;

static uint64_t be_prefix(const char *s, size_t len)
{
	uint64_t v = 0;
	size_t i;

	for (i = 0; i < 8; i++)
		v = v << 8 | (i < len ? (unsigned char)s[i] : 0);
	return v;
}

static int cust_key_cmp(const void *pa, const void *pb)
{
	const cust_key *a = pa, *b = pb;

	if (a->k0 != b->k0)
		return a->k0 < b->k0 ? -1 : 1;
	if (a->k1 != b->k1)
		return a->k1 < b->k1 ? -1 : 1;
	return cmp_bytes(a->c->name, a->c->len, b->c->name, b->c->len);
}

/* Byte i (0..15) of a key's 16-byte prefix. */
static unsigned key_byte(const cust_key *k, unsigned i)
{
	return (unsigned)((i < 8 ? k->k0 >> (56 - 8 * i) :
				   k->k1 >> (56 - 8 * (i - 8))) & 0xff);
}

/*
 * Sort the customers: a least-significant-byte-first radix sort of the
 * 16-byte prefixes (bytes that are the same in every id, like "cust-00",
 * cost one counting pass and no move), then a comparison sort of each run
 * of equal prefixes, which only ids longer than 16 bytes can share.
 */
static int sort_customers(cust_key *v, size_t n)
{
	size_t (*count)[256], i, j, run;
	cust_key *tmp, *src = v, *dst;
	int pass;

	if (n < 64) {
		qsort(v, n, sizeof *v, cust_key_cmp);
		return 0;
	}
	tmp = gb_calloc_huge(n, sizeof *tmp);
	count = gb_calloc(16, sizeof *count);
	if (!tmp || !count) {
		gb_free_huge(tmp);
		gb_free(count);
		return GB_ENOMEM;
	}
	for (i = 0; i < n; i++)
		for (pass = 0; pass < 16; pass++)
			count[pass][key_byte(&v[i], (unsigned)pass)]++;
	dst = tmp;
	for (pass = 15; pass >= 0; pass--) {
		size_t *c = count[pass], sum = 0, k;

		if (c[key_byte(&src[0], (unsigned)pass)] == n)
			continue;   /* every id has the same byte here */
		for (j = 0; j < 256; j++) {
			k = c[j];
			c[j] = sum;
			sum += k;
		}
		for (i = 0; i < n; i++)
			dst[c[key_byte(&src[i], (unsigned)pass)]++] = src[i];
		dst = src;
		src = src == v ? tmp : v;
	}
	if (src != v)
		memcpy(v, src, n * sizeof *v);
	for (i = 0; i < n; i = j) {
		for (j = i + 1; j < n && v[j].k0 == v[i].k0 && v[j].k1 == v[i].k1; j++)
			;
		run = j - i;
		if (run > 1)
			qsort(v + i, run, sizeof *v, cust_key_cmp);
	}
	gb_free_huge(tmp);
	gb_free(count);
	return 0;
}

/*
 * Group the bucket indices by customer, in invoice order (a counting
 * sort): invoice k's buckets are by_cust[first[k] .. first[k + 1]).
 */
static int group_buckets(fin *f, const cust_key *order, size_t n)
{
	const gb_rater *r = f->r;
	uint32_t *rank, run = 0, k;
	size_t i, words;

	/* one block (huge pages when large: rank and first are hit at
	 * random): rank[customer], first[invoice], by_cust[bucket] */
	words = r->ncustomers + n + 1;
	if (words <= n || words + r->nbuckets < words)
		return GB_ENOMEM;
	f->group = gb_calloc_huge(words + r->nbuckets, sizeof *f->group);
	if (!f->group)
		return GB_ENOMEM;
	rank = f->group;
	f->first = rank + r->ncustomers;
	f->by_cust = f->first + n + 1;
	memset(rank, 0xff, r->ncustomers * sizeof *rank);
	for (i = 0; i < n; i++)
		rank[order[i].c - r->customers] = (uint32_t)i;
	for (i = 0; i < r->nbuckets; i++) {
		k = rank[r->buckets[i].key.customer];
		if (k != UINT32_MAX)
			f->first[k]++;
	}
	/* exclusive prefix sums: first[k] = where k's run starts */
	for (i = 0; i <= n; i++) {
		k = f->first[i];
		f->first[i] = run;
		run += k;
	}
	/* place each bucket; first[k] moves to k's end, then shifts back */
	for (i = 0; i < r->nbuckets; i++) {
		k = rank[r->buckets[i].key.customer];
		if (k != UINT32_MAX)
			f->by_cust[f->first[k]++] = (uint32_t)i;
	}
	for (i = n; i > 0; i--)
		f->first[i] = f->first[i - 1];
	f->first[0] = 0;
	return 0;
}

/* Start loading invoice k's customer and buckets while another is built. */
static void prefetch_invoice(const fin *f, const cust_key *order, size_t k)
{
	const bucket *b = f->r->buckets;
	uint32_t j;

	GB_PREFETCH(order[k].c);
	for (j = f->first[k]; j < f->first[k + 1]; j++) {
		GB_PREFETCH(&b[f->by_cust[j]]);
		GB_PREFETCH((const char *)&b[f->by_cust[j]] + sizeof *b - 1);
	}
}

/* Invoice k, of customer c (index ci): built in f's scratch, handed on. */
static int customer_invoice(fin *f, size_t k, const cust_rec *c, size_t ci)
{
	gb_rater *r = f->r;
	const uint32_t *idx = f->by_cust + f->first[k];
	size_t nb = f->first[k + 1] - f->first[k], i, nm, cust;
	gb_i128 small = 0, sum;
	int rc = 0, big = 0;

	f->npool = 0;
	f->nlines = 0;
	f->text_len = 0;
	if (c->contract && c->contract->nreservations)
		reservation_protos(f, ci, &rc);
	if (rc == 0)
		rc = tier_positions(f, idx, nb);
	for (i = 0; i < nb && rc == 0; i++)
		rc = bucket_protos(f, &r->buckets[idx[i]], i, (long)idx[i]);
	if (rc)
		return rc;
	for (i = 0; i < f->npool; i++)
		f->ord[i] = &f->pool[i];
	sort_protos(f);
	nm = merge_protos(f, &rc);
	for (i = 0; i < nm && rc == 0; i++)
		rc = usage_line(f, f->ord[i]);
	if (rc == 0 && c->contract)
		rc = contract_lines(f, c->contract);
	cust = f->text_len;
	/* a short id is all in the record (prefetched), not only in name */
	text_add(f, c->len <= CUST_HEAD ? c->head : c->name, c->len);
	text_end(f, cust);
	if (rc == 0 && f->text_failed)
		rc = GB_ENOMEM;
	if (rc)
		return rc;
	/* the text is complete: offsets become pointers; amounts of 64 bits
	 * (all but huge ones) add up in 128 */
	for (i = 0; i < f->nlines; i++) {
		mpz_srcptr a = f->lines[i].amount;

		f->lines[i].description = f->text + f->desc[i];
		if (mpz_size(a) <= 1 && GMP_NUMB_BITS == 64) {
			gb_i128 v = (gb_i128)mpz_getlimbn(a, 0);

			small += mpz_sgn(a) < 0 ? -v : v;
		} else {
			if (!big)
				mpz_set_ui(f->inv.total, 0);
			big = 1;
			mpz_add(f->inv.total, f->inv.total, a);
		}
	}
	if (big)
		add_i128(f->inv.total, small, f->amount);
	else
		mpz_set_i128(f->inv.total, small);
	f->inv.customer = f->text + cust;
	f->inv.lines = f->lines;
	f->inv.nlines = f->nlines;
	if (r->explain) {
		/* merged proto i is line i */
		rc = gb_explain_invoice(r->explain, &f->inv,
					gb_invoice_set_count(f->set));
		if (rc)
			return rc;
	}
	if (!f->fn)
		return gb_invoice_set_hold(f->set, &f->inv);
	f->set->nstreamed++;
	if (big || __builtin_add_overflow(f->set->streamed_small, small, &sum)) {
		add_i128(f->set->streamed_total, f->set->streamed_small, f->amount);
		f->set->streamed_small = 0;
		mpz_add(f->set->streamed_total, f->set->streamed_total, f->inv.total);
	} else {
		f->set->streamed_small = sum;
	}
	f->note.inv = &f->inv;
	f->note.lines = f->notes;
	f->note.customer_len = c->len;
	f->set->note = &f->note;
	rc = f->fn(f->set, &f->inv, f->payload, f->err);
	f->set->note = NULL;
	if (rc) {
		f->fn_failed = 1;
		if (rc > 0)
			rc = GB_EABORT;
	}
	return rc;
}

static int build(fin *f)
{
	gb_rater *r = f->r;
	cust_key *order = NULL;
	size_t i, n = 0;
	int rc = 0;

	/* Contract customers get an invoice even without usage. */
	if (r->contracts)
		for (i = 0; i < r->contracts->ncontracts; i++) {
			const gb_contract *k = &r->contracts->contracts[i];

			if (gb_rater_customer_intern(r, k->customer,
						     strlen(k->customer)) < 0)
				return GB_ENOMEM;
		}
	if (r->explain)
		rc = explain_cover(r);
	if (rc == 0 && any_reservation(r))
		rc = reservations(r, &f->res);
	if (rc == 0 && r->explain)
		rc = gb_explain_mark(r->explain);
	if (rc == 0)
		rc = entry_ranks(f);
	if (rc == 0 && r->ncustomers) {
		order = gb_calloc_huge(r->ncustomers, sizeof *order);
		if (!order)
			rc = GB_ENOMEM;
	}
	for (i = 0; i < r->ncustomers && rc == 0; i++) {
		const cust_rec *c = &r->customers[i];

		if (!needs_invoice(r, c))
			continue;
		/* from the record's copy of the id's first bytes: the names
		 * themselves are all over the heap */
		order[n].k0 = be_prefix(CUST_HEAD >= 16 ? c->head : c->name, c->len);
		order[n].k1 = c->len > 8 ? be_prefix((CUST_HEAD >= 16 ? c->head : c->name) + 8,
						     c->len - 8) : 0;
		order[n++].c = c;
	}
	if (rc == 0 && n > 1)
		rc = sort_customers(order, n);
	/* after reservations: their leftovers are on-demand usage too */
	if (rc == 0)
		rc = group_buckets(f, order, n);
	for (i = 0; i < n && rc == 0; i++) {
		if (i + 1 < n)
			prefetch_invoice(f, order, i + 1);
		rc = customer_invoice(f, i, order[i].c,
				      (size_t)(order[i].c - r->customers));
	}
	if (rc == 0 && r->explain)
		gb_explain_finish(r->explain);
	gb_free_huge(order);
	return rc;
}

/* Both entry points: fn NULL holds every invoice in the set. */
static int finish(gb_rater *r, gb_invoice_set **out, gb_invoice_fn fn,
		  void *payload, gb_error *err)
{
	const gb_prices *p;
	fin f;
	int rc;

	*out = NULL;
	if (r->finished)
		return gb_error_set(err, GB_EINVAL, "gb_rater_finish: rater already finished");
	p = r->prices;
	r->finished = 1;
	/* the last additions to buckets still wait in the rater's ring */
	if (gb_rater_flush(r) != 0)
		return gb_error_set(err, GB_ENOMEM, "out of memory while rating");
	/* No row comes after this: the id set is the run's largest table. */
	gb_dedup_free(&r->dedup);
	fin_init(&f, r);
	f.fn = fn;
	f.payload = payload;
	f.err = err;
	f.set = gb_invoice_set_new(p->currency, p->minor_units, p->name, r->from,
				   r->to);
	if (!f.set) {
		fin_free(&f);
		return gb_error_set(err, GB_ENOMEM, "out of memory");
	}
	f.set->counts = r->counts;
	rc = build(&f);
	fin_free(&f);
	if (rc) {
		gb_invoice_set_free(f.set);
		if (!f.fn_failed)
			return gb_error_set(err, rc, "out of memory while pricing");
		if (err && err->code != rc)
			gb_error_set(err, rc, "stopped while handing on invoices: %s",
				     gb_strerror(rc));
		return rc;
	}
	*out = f.set;
	return 0;
}

int gb_rater_finish_each(gb_rater *r, gb_invoice_set **out, gb_invoice_fn fn,
			 void *payload, gb_error *err)
{
	if (out)
		*out = NULL;
	if (!r || !out || !fn)
		return gb_error_set(err, GB_EINVAL,
				    "gb_rater_finish_each: needs a rater, out and fn");
	return finish(r, out, fn, payload, err);
}

int gb_rater_finish(gb_rater *r, gb_invoice_set **out, gb_error *err)
{
	if (out)
		*out = NULL;
	if (!r || !out)
		return gb_error_set(err, GB_EINVAL, "gb_rater_finish: rater already finished");
	return finish(r, out, NULL, NULL, err);
}
