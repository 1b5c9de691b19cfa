/*
 * prices.c - load a "gpubill-pricing/1" table.
 *
 * The JSON is parsed with cJSON (through json_load.c, shared with the
 * contracts loader), then every key and value is checked against the
 * schema while the in-memory model of prices_internal.h is built.  A
 * pricing table is written by hand and checked in CI, so every
 * problem is reported with the JSON path of the element at fault and, where
 * it helps, what was probably meant.  The rater trusts what this file
 * builds: nothing is left for it to re-check.
 *
 * Ownership: the model is allocated so that gb_prices_free can release any
 * partly built table - arrays are zeroed and every mpq_t is initialised as
 * soon as the struct holding it exists - so each error path just returns
 * and gb_prices_load frees the whole table once.
 *
 * Collect mode (gpubill validate, see json_load.h): every reader goes on
 * after a problem, so each check that builds on an earlier value first
 * makes sure no problem was reported while reading it (c->nerrors), and
 * marks what it could not read (a price's bad, a NULL sku, a version's
 * bad_from), so that one mistake gives one finding and the warnings of
 * validate.c skip what is unknown.
 */
#include "internal.h"
#include "json_load.h"
#include "prices_internal.h"

#include <gpubill/timestamp.h>
#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define FORMAT_NAME "gpubill-pricing/1"

/* Longest increment or minimum a table may set: a leap year. */
#define MAX_SECONDS (86400 * 366)

/* Problems reported since mark (collect mode; 0 in normal mode). */
#define SINCE(c, mark) ((c)->nerrors - (mark))

/* --- prices -------------------------------------------------------------- */

static void price_init(gb_price *p)
{
	p->mode = GB_PRICE_FLAT;
	p->bad = 0;
	mpq_init(p->flat);
	p->ntiers = 0;
	p->tiers = NULL;
}

static void price_clear(gb_price *p)
{
	size_t i;

	mpq_clear(p->flat);
	for (i = 0; i < p->ntiers; i++) {
		mpq_clear(p->tiers[i].up_to);
		mpq_clear(p->tiers[i].price);
	}
	gb_free(p->tiers);
}

static void price_free(gb_price *p)
{
	if (!p)
		return;
	price_clear(p);
	gb_free(p);
}

/*
 * up_to of tier i of p at the current path: a positive decimal above the
 * previous bound, or null on the last tier only (it covers the rest).
 */
static int read_up_to(gb_json_ctx *c, const cJSON *val, gb_price *p, size_t i)
{
	gb_tier *t = &p->tiers[i];
	char shown[GB_JSON_SHOW_BUF], prev[64], hint[160];
	const char *number;
	size_t errors = c->nerrors, j;

	if (cJSON_IsNull(val)) {
		if (i + 1 < p->ntiers)
			return gb_json_report(c, "bad_last_tier", NULL,
					      "give this tier an upper bound like \"1000\": only the last one is open-ended",
					      "only the last tier may have \"up_to\": null");
		return 0;
	}
	t->bad = 1;	/* until it is read */
	if (i + 1 == p->ntiers)
		return gb_json_report(c, "bad_last_tier", NULL,
				      "write \"up_to\": null on the last tier",
				      "the last tier must have \"up_to\": null, so that every quantity has a price");
	if (!cJSON_IsString(val)) {
		number = cJSON_IsNumber(val) ? gb_json_number_text(c) : NULL;
		if (number)
			snprintf(hint, sizeof hint, "write it as a string: \"%s\"",
				 gb_json_show(shown, number));
		else
			snprintf(hint, sizeof hint, "write a decimal string like \"1000\", or null on the last tier");
		return gb_json_report(c, cJSON_IsNumber(val) ? "price_as_number"
							    : "wrong_type",
				      NULL, hint,
				      "expected a decimal string like \"1000\" or null, got %s",
				      gb_json_type_name(val));
	}
	if (gb_json_decimal_here(c, val, t->up_to, "1000"))
		return GB_ESCHEMA;
	if (SINCE(c, errors))
		return 0;
	t->bad = 0;
	t->bounded = 1;
	if (mpq_sgn(t->up_to) <= 0)
		return gb_json_report(c, "out_of_range", NULL,
				      "a tier bound is a quantity above 0",
				      "up_to must be greater than 0");
	/* The bound before, skipping tiers that could not be read. */
	for (j = i; j-- > 0;)
		if (p->tiers[j].bounded && !p->tiers[j].bad)
			break;
	if (j != (size_t)-1 && mpq_cmp(t->up_to, p->tiers[j].up_to) <= 0) {
		gb_decimal_format(prev, sizeof prev, p->tiers[j].up_to, 0,
				  GB_DECIMAL_MAX_FRACTION, GB_ROUND_HALF_EVEN);
		snprintf(hint, sizeof hint, "list tiers by increasing up_to: this one must be above \"%s\" (tier %zu)",
			 prev, j + 1);
		return gb_json_report(c, "tiers_not_increasing", NULL, hint,
				      "up_to must be greater than the previous tier's up_to");
	}
	return 0;
}

static void tier_init(void *elem)
{
	gb_tier *t = elem;

	mpq_init(t->up_to);
	mpq_init(t->price);
}

static int read_tier(gb_json_ctx *c, const cJSON *obj, gb_price *p, size_t i)
{
	static const char *const keys[] = { "up_to", "price" };
	const cJSON *v[2];
	size_t mark;
	int rc;

	rc = gb_json_read_object(c, obj, keys, v, 2);
	if (!rc && !v[0]) {
		p->tiers[i].bad = 1;
		rc = gb_json_report(c, "missing_key", "use null for the last tier",
				    "add \"up_to\": a bound like \"1000\", or null on the last tier",
				    "missing required key 'up_to'");
	}
	if (!rc)
		rc = gb_json_require(c, v[1], "price");
	if (rc)
		return rc;
	if (v[0]) {
		mark = gb_json_path_key(c, "up_to");
		rc = read_up_to(c, v[0], p, i);
		if (rc)
			return rc;
		gb_json_path_pop(c, mark);
	}
	return gb_json_read_decimal(c, v[1], "price", p->tiers[i].price,
				    "0.95");
}

static int read_tier_mode(gb_json_ctx *c, const cJSON *val, gb_price *out)
{
	static const char *const modes[] = { "graduated", "volume" };
	size_t mark;
	const char *s = NULL;
	int rc = gb_json_read_string(c, val, "mode", 0, &s);

	if (rc || !s)
		return rc;
	if (strcmp(s, "graduated") == 0) {
		out->mode = GB_PRICE_GRADUATED;
		return 0;
	}
	if (strcmp(s, "volume") == 0) {
		out->mode = GB_PRICE_VOLUME;
		return 0;
	}
	mark = gb_json_path_key(c, "mode");
	rc = gb_json_not_one_of(c, "tier mode", s, modes, 2);
	gb_json_path_pop(c, mark);
	return rc;
}

/* {"mode": ..., "tiers": [...]} at the current path. */
static int tier_elem(gb_json_ctx *c, void *price, const cJSON *e, void *elem,
		     size_t i)
{
	int rc = read_tier(c, e, price, i);

	if (rc)
		((gb_tier *)elem)->bad = 1;
	return rc;
}

static int read_tiered(gb_json_ctx *c, const cJSON *obj, gb_price *out)
{
	static const char *const keys[] = { "mode", "tiers" };
	const cJSON *v[2];
	size_t mark;
	int rc;

	rc = gb_json_read_object(c, obj, keys, v, 2);
	if (!rc)
		rc = gb_json_require(c, v[0], "mode");
	if (!rc)
		rc = gb_json_require(c, v[1], "tiers");
	if (!rc)
		rc = read_tier_mode(c, v[0], out);
	if (rc)
		return rc;
	mark = gb_json_path_key(c, "tiers");
	rc = gb_json_read_array(c, v[1], 1, sizeof *out->tiers,
				(void **)&out->tiers, &out->ntiers, tier_init,
				tier_elem, out);
	if (!rc)
		gb_json_path_pop(c, mark);
	return rc;
}

/* A price at the current path: a decimal string or a tier object. */
static int price_here(gb_json_ctx *c, const cJSON *val, gb_price *out)
{
	if (cJSON_IsObject(val))
		return read_tiered(c, val, out);
	if (cJSON_IsString(val) || cJSON_IsNumber(val))
		return gb_json_decimal_here(c, val, out->flat, "0.95");
	return gb_json_report(c, "wrong_type", NULL,
			      "write a decimal string like \"0.95\", or a tier object {\"mode\": ..., \"tiers\": [...]}",
			      "expected a decimal string like \"0.95\" or a tier object, got %s",
			      gb_json_type_name(val));
}

static int read_price(gb_json_ctx *c, const cJSON *val, const char *key,
		      gb_price *out)
{
	size_t mark, errors = c->nerrors;
	int rc;

	if (gb_json_collecting(c) && !val) {
		out->bad = 1;	/* missing: already reported */
		return 0;
	}
	mark = gb_json_path_key(c, key);
	rc = gb_json_recover(c, price_here(c, val, out), mark);
	if (SINCE(c, errors))
		out->bad = 1;
	if (!rc)
		gb_json_path_pop(c, mark);
	return rc;
}

/* An optional price member: *out stays NULL when val is absent. */
static int read_price_opt(gb_json_ctx *c, const cJSON *val, const char *key,
			  gb_price **out)
{
	if (!val)
		return 0;
	*out = gb_malloc(sizeof **out);
	if (!*out)
		return gb_json_nomem(c);
	price_init(*out);
	return read_price(c, val, key, *out);
}

/* --- uniqueness ---------------------------------------------------------- */

static int repeat_error(gb_json_ctx *c, const char *key, size_t idx,
			size_t first, const char *fmt, ...) GB_PRINTF(5, 6);

/*
 * Report entry key[idx] of the current path as repeating key[first]:
 * "what (first given at key[first])".
 */
static int repeat_error(gb_json_ctx *c, const char *key, size_t idx,
			size_t first, const char *fmt, ...)
{
	char msg[GB_ERROR_MESSAGE_MAX], note[96], hint[160];
	size_t mark = c->len;
	va_list ap;
	int rc;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	snprintf(note, sizeof note, "first given at %s[%zu]", key, first);
	snprintf(hint, sizeof hint, "remove one of the two, or merge them (the first is %s[%zu])",
		 key, first);
	gb_json_path_key(c, key);
	gb_json_path_index(c, idx);
	rc = gb_json_report(c, "duplicate_entry", note, hint, "%s", msg);
	if (!rc)
		gb_json_path_pop(c, mark);
	return rc;
}

/*
 * The (name, region) of rate i of a version's gpu or token rates; NULL
 * when it could not be read.
 */
typedef void (*rate_key_fn)(const gb_version *v, size_t i, const char **name,
			    const char **region);

static void gpu_rate_key(const gb_version *v, size_t i, const char **name,
			 const char **region)
{
	*name = v->gpu_rates[i].sku;
	*region = v->gpu_rates[i].region;
}

static void token_rate_key(const gb_version *v, size_t i, const char **name,
			   const char **region)
{
	*name = v->token_rates[i].model;
	*region = v->token_rates[i].region;
}

/* (name, region) must be unique among n rates; what is "sku" or "model". */
static int unique_rates(gb_json_ctx *c, const gb_version *v, size_t n,
			rate_key_fn key_of, const char *what)
{
	gb_json_keyed *k;
	size_t i, *first;
	const char *name, *region;
	char s1[GB_JSON_SHOW_BUF], s2[GB_JSON_SHOW_BUF];
	int rc = 0;

	if (n < 2)
		return 0;
	k = gb_malloc(n * sizeof *k);
	first = gb_malloc(n * sizeof *first);
	if (!k || !first) {
		gb_free(k);
		gb_free(first);
		return gb_json_nomem(c);
	}
	for (i = 0; i < n; i++) {
		key_of(v, i, &k[i].a, &k[i].b);
		k[i].t = 0;
		k[i].idx = i;
	}
	gb_json_find_repeats(k, n, first);
	gb_free(k);
	for (i = 0; i < n && !rc; i++) {
		if (first[i] == i)
			continue;
		key_of(v, i, &name, &region);
		rc = repeat_error(c, "rates", i, first[i],
				  "duplicate rate for %s '%s' in region '%s'",
				  what, gb_json_show(s1, name),
				  gb_json_show(s2, region));
	}
	gb_free(first);
	return rc;
}

/*
 * Check (sku, region, from) is unique and put the series in that order,
 * so the rater can find the price in effect with a binary search.
 */
static int sort_spot_points(gb_json_ctx *c, gb_version *v)
{
	size_t i, n = v->nspot_points, *first;
	char s1[GB_JSON_SHOW_BUF], s2[GB_JSON_SHOW_BUF], when[GB_TIME_TEXT_MAX];
	gb_json_keyed *k;
	int rc = 0;

	if (n < 2)
		return 0;
	k = gb_malloc(n * sizeof *k);
	first = gb_malloc(n * sizeof *first);
	if (!k || !first) {
		gb_free(k);
		gb_free(first);
		return gb_json_nomem(c);
	}
	for (i = 0; i < n; i++) {
		const gb_spot_point *sp = &v->spot_points[i];

		k[i].a = sp->bad_from ? NULL : sp->sku;
		k[i].b = sp->region;
		k[i].t = sp->from;
		k[i].idx = i;
	}
	gb_json_find_repeats(k, n, first);
	for (i = 0; i < n && !rc; i++) {
		if (first[i] == i)
			continue;
		gb_time_format(when, sizeof when, v->spot_points[i].from);
		rc = repeat_error(c, "spot_prices", i, first[i],
				  "duplicate spot price for sku '%s' in region '%s' from %s",
				  gb_json_show(s1, v->spot_points[i].sku),
				  gb_json_show(s2, v->spot_points[i].region),
				  when);
	}
	gb_free(first);
	if (!rc && gb_json_permute((void **)&v->spot_points, n,
				   sizeof *v->spot_points, k) == 0)
		return 0;
	gb_free(k);
	return rc ? rc : gb_json_nomem(c);
}

/* --- GPU rates ----------------------------------------------------------- */

static void gpu_rate_clear(gb_gpu_rate *r)
{
	size_t i;

	gb_free(r->sku);
	gb_free(r->region);
	price_free(r->on_demand);
	price_free(r->spot);
	for (i = 0; i < r->nreserved; i++) {
		gb_free(r->reserved[i].term);
		price_clear(&r->reserved[i].price);
	}
	gb_free(r->reserved);
}

/*
 * The n members of obj by name: first[i] is the position of the first
 * member with member i's name (i itself when it is the first).
 */
static int member_repeats(gb_json_ctx *c, const cJSON *obj, size_t n,
			  size_t *first)
{
	const cJSON *m;
	gb_json_keyed *k = gb_malloc(n * sizeof *k);
	size_t i = 0;

	if (!k)
		return gb_json_nomem(c);
	cJSON_ArrayForEach(m, obj) {
		k[i].a = m->string;
		k[i].b = "";
		k[i].t = 0;
		k[i].idx = i;
		i++;
	}
	gb_json_find_repeats(k, n, first);
	gb_free(k);
	return 0;
}

/*
 * "reserved": {"1y": price, "3y": price, ...} at the current path.  A term
 * given twice is an error; in collect mode the first one is read.
 */
static int read_reserved(gb_json_ctx *c, const cJSON *obj, gb_gpu_rate *r)
{
	char hint[GB_JSON_SHOW_BUF + 64], shown[GB_JSON_SHOW_BUF];
	const cJSON *m;
	size_t n = 0, i = 0, mark, *first;
	int rc;

	if (!cJSON_IsObject(obj))
		return gb_json_report(c, "wrong_type", NULL,
				      "write it as an object of terms and prices, like {\"1y\": \"1.625\"}",
				      "expected an object mapping terms to prices, like {\"1y\": \"1.625\"}, got %s",
				      gb_json_type_name(obj));
	cJSON_ArrayForEach(m, obj)
		n++;
	if (n == 0)
		return gb_json_report(c, "empty", NULL,
				      "give a term and its price, like {\"1y\": \"1.625\"}, or remove \"reserved\"",
				      "must name at least one term, like {\"1y\": \"1.625\"}");
	first = gb_malloc(n * sizeof *first);
	if (!first)
		return gb_json_nomem(c);
	rc = member_repeats(c, obj, n, first);
	i = 0;
	cJSON_ArrayForEach(m, obj) {
		if (rc)
			break;
		if (first[i] != i) {
			mark = gb_json_path_key(c, m->string);
			snprintf(hint, sizeof hint, "keep one '%s' and remove the other: only one value can count",
				 gb_json_show(shown, m->string));
			c->member_at = i + 1;
			rc = gb_json_report(c, "duplicate_key", NULL, hint,
					    "duplicate key '%s'", m->string);
			c->member_at = 0;
			if (!rc)
				gb_json_path_pop(c, mark);
		}
		i++;
	}
	if (!rc) {
		r->reserved = gb_calloc(n, sizeof *r->reserved);
		if (!r->reserved)
			rc = gb_json_nomem(c);
	}
	i = 0;
	cJSON_ArrayForEach(m, obj) {
		gb_reserved_price *rp;

		if (rc)
			break;
		if (first[i] != i) {
			i++;
			continue;	/* a repeat, reported above */
		}
		i++;
		if (!m->string[0]) {
			mark = gb_json_path_key(c, m->string);
			rc = gb_json_report(c, "empty", NULL,
					    "name the term, like \"1y\"",
					    "a reserved term name must not be empty");
			if (!rc)
				gb_json_path_pop(c, mark);
			continue;
		}
		rp = &r->reserved[r->nreserved];
		price_init(&rp->price);
		r->nreserved++;
		rp->term = gb_strdup(m->string);
		rc = rp->term ? read_price(c, m, m->string, &rp->price)
			      : gb_json_nomem(c);
	}
	gb_free(first);
	return rc;
}

static int read_gpu_rate(gb_json_ctx *c, const cJSON *obj, gb_gpu_rate *r)
{
	static const char *const keys[] = {
		"sku", "region", "on_demand", "spot", "reserved"
	};
	const cJSON *v[5];
	size_t mark, errors = c->nerrors;
	int rc;

	rc = gb_json_read_object(c, obj, keys, v, 5);
	if (!rc)
		rc = gb_json_require(c, v[0], "sku");
	if (!rc)
		rc = gb_json_require(c, v[1], "region");
	if (!rc)
		rc = gb_json_copy_string(c, v[0], "sku", &r->sku);
	if (!rc)
		rc = gb_json_copy_string(c, v[1], "region", &r->region);
	if (!rc)
		rc = read_price_opt(c, v[2], "on_demand", &r->on_demand);
	if (!rc)
		rc = read_price_opt(c, v[3], "spot", &r->spot);
	if (rc)
		return rc;
	if (v[4]) {
		mark = gb_json_path_key(c, "reserved");
		rc = read_reserved(c, v[4], r);
		if (rc)
			return rc;
		gb_json_path_pop(c, mark);
	}
	/* After another problem in the rate, this would only repeat it. */
	if (!r->on_demand && !r->spot && !r->nreserved && !SINCE(c, errors))
		return gb_json_report(c, "no_price", NULL,
				      "give it an \"on_demand\", \"spot\" or \"reserved\" price",
				      "a rate needs at least one price: on_demand, spot or reserved");
	return 0;
}

static int read_spot_point(gb_json_ctx *c, const cJSON *obj, gb_spot_point *sp)
{
	static const char *const keys[] = { "sku", "region", "from", "price" };
	const cJSON *v[4];
	size_t i, errors;
	int rc;

	rc = gb_json_read_object(c, obj, keys, v, 4);
	for (i = 0; !rc && i < 4; i++)
		rc = gb_json_require(c, v[i], keys[i]);
	if (!rc)
		rc = gb_json_copy_string(c, v[0], "sku", &sp->sku);
	if (!rc)
		rc = gb_json_copy_string(c, v[1], "region", &sp->region);
	errors = c->nerrors;
	if (!rc)
		rc = gb_json_read_time(c, v[2], "from", &sp->from);
	if (!v[2] || SINCE(c, errors))
		sp->bad_from = 1;
	if (!rc)
		rc = read_price(c, v[3], "price", &sp->price);
	return rc;
}

static int gpu_rate_elem(gb_json_ctx *c, void *arg, const cJSON *e, void *elem,
			 size_t i)
{
	(void)arg;
	(void)i;
	return read_gpu_rate(c, e, elem);
}

static int read_gpu_rates(gb_json_ctx *c, const cJSON *arr, gb_version *v)
{
	size_t mark = gb_json_path_key(c, "rates");
	int rc = gb_json_read_array(c, arr, 0, sizeof *v->gpu_rates,
				    (void **)&v->gpu_rates, &v->ngpu_rates,
				    NULL, gpu_rate_elem, NULL);

	if (rc)
		return rc;
	gb_json_path_pop(c, mark);
	return unique_rates(c, v, v->ngpu_rates, gpu_rate_key, "sku");
}

static void spot_point_init(void *elem)
{
	price_init(&((gb_spot_point *)elem)->price);
}

static int spot_point_elem(gb_json_ctx *c, void *arg, const cJSON *e,
			   void *elem, size_t i)
{
	gb_spot_point *sp = elem;
	int rc;

	(void)arg;
	sp->index = i;
	rc = read_spot_point(c, e, sp);
	if (rc) {
		sp->bad_from = 1;
		sp->price.bad = 1;
	}
	return rc;
}

static int read_spot_points(gb_json_ctx *c, const cJSON *arr, gb_version *v)
{
	size_t mark = gb_json_path_key(c, "spot_prices");
	int rc = gb_json_read_array(c, arr, 0, sizeof *v->spot_points,
				    (void **)&v->spot_points, &v->nspot_points,
				    spot_point_init, spot_point_elem, NULL);

	if (rc)
		return rc;
	gb_json_path_pop(c, mark);
	return sort_spot_points(c, v);
}

/* "gpu": {...} at the current path. */
static int read_gpu(gb_json_ctx *c, const cJSON *obj, gb_version *v)
{
	static const char *const keys[] = {
		"increment_seconds", "minimum_seconds",
		"spot_interruption_free_seconds", "rates", "spot_prices"
	};
	const cJSON *val[5];
	int rc;

	rc = gb_json_read_object(c, obj, keys, val, 5);
	if (!rc && val[0])
		rc = gb_json_read_int(c, val[0], keys[0], 1, MAX_SECONDS,
				      &v->increment_seconds);
	if (!rc && val[1])
		rc = gb_json_read_int(c, val[1], keys[1], 0, MAX_SECONDS,
				      &v->minimum_seconds);
	if (!rc && val[2])
		rc = gb_json_read_int(c, val[2], keys[2], 0, MAX_SECONDS,
				      &v->spot_interruption_free_seconds);
	if (!rc)
		rc = gb_json_require(c, val[3], "rates");
	if (!rc)
		rc = read_gpu_rates(c, val[3], v);
	if (!rc && val[4])
		rc = read_spot_points(c, val[4], v);
	v->has_gpu = 1;
	return rc;
}

/* --- token rates --------------------------------------------------------- */

static void token_rate_clear(gb_token_rate *r)
{
	gb_free(r->model);
	gb_free(r->region);
	price_free(r->input);
	price_free(r->cached_input);
	price_free(r->output);
}

static int read_token_rate(gb_json_ctx *c, const cJSON *obj, gb_token_rate *r)
{
	static const char *const keys[] = {
		"model", "region", "input", "cached_input", "output"
	};
	const cJSON *v[5];
	size_t errors = c->nerrors;
	int rc;

	rc = gb_json_read_object(c, obj, keys, v, 5);
	if (!rc)
		rc = gb_json_require(c, v[0], "model");
	if (!rc)
		rc = gb_json_copy_string(c, v[0], "model", &r->model);
	if (!rc && v[1])
		rc = gb_json_copy_string(c, v[1], "region", &r->region);
	if (!rc && !v[1] && !(r->region = gb_strdup("*")))
		rc = gb_json_nomem(c);
	if (!rc)
		rc = read_price_opt(c, v[2], "input", &r->input);
	if (!rc)
		rc = read_price_opt(c, v[3], "cached_input", &r->cached_input);
	if (!rc)
		rc = read_price_opt(c, v[4], "output", &r->output);
	/* After another problem in the rate, this would only repeat it. */
	if (!rc && !r->input && !r->cached_input && !r->output &&
	    !SINCE(c, errors))
		rc = gb_json_report(c, "no_price", NULL,
				    "give it an \"input\", \"cached_input\" or \"output\" price",
				    "a rate needs at least one price: input, cached_input or output");
	return rc;
}

static int token_rate_elem(gb_json_ctx *c, void *arg, const cJSON *e,
			   void *elem, size_t i)
{
	(void)arg;
	(void)i;
	return read_token_rate(c, e, elem);
}

static int read_token_rates(gb_json_ctx *c, const cJSON *arr, gb_version *v)
{
	size_t mark = gb_json_path_key(c, "rates");
	int rc = gb_json_read_array(c, arr, 0, sizeof *v->token_rates,
				    (void **)&v->token_rates, &v->ntoken_rates,
				    NULL, token_rate_elem, NULL);

	if (rc)
		return rc;
	gb_json_path_pop(c, mark);
	return unique_rates(c, v, v->ntoken_rates, token_rate_key, "model");
}

/* "tokens": {...} at the current path. */
static int read_tokens(gb_json_ctx *c, const cJSON *obj, gb_version *v)
{
	static const char *const keys[] = { "batch_discount", "rates" };
	const cJSON *val[2];
	char shown[GB_JSON_SHOW_BUF];
	size_t mark, errors;
	int rc;

	rc = gb_json_read_object(c, obj, keys, val, 2);
	if (!rc && val[0]) {
		errors = c->nerrors;
		rc = gb_json_read_decimal(c, val[0], keys[0],
					  v->batch_discount, "0.50");
		if (SINCE(c, errors))
			mpq_set_ui(v->batch_discount, 0, 1);
		else if (!rc && mpq_cmp_ui(v->batch_discount, 1, 1) > 0) {
			mark = gb_json_path_key(c, keys[0]);
			rc = gb_json_report(c, "out_of_range", NULL,
					    "write a fraction of the price: \"0.50\" takes half off",
					    "batch_discount must be from 0 to 1 (a fraction of the price), got \"%s\"",
					    gb_json_show(shown, val[0]->valuestring));
			gb_json_path_pop(c, mark);
		}
	}
	if (!rc)
		rc = gb_json_require(c, val[1], "rates");
	if (!rc)
		rc = read_token_rates(c, val[1], v);
	v->has_tokens = 1;
	return rc;
}

/* --- versions ------------------------------------------------------------ */

static void version_clear(gb_version *v)
{
	size_t i;

	for (i = 0; i < v->ngpu_rates; i++)
		gpu_rate_clear(&v->gpu_rates[i]);
	gb_free(v->gpu_rates);
	for (i = 0; i < v->nspot_points; i++) {
		gb_free(v->spot_points[i].sku);
		gb_free(v->spot_points[i].region);
		price_clear(&v->spot_points[i].price);
	}
	gb_free(v->spot_points);
	for (i = 0; i < v->ntoken_rates; i++)
		token_rate_clear(&v->token_rates[i]);
	gb_free(v->token_rates);
	mpq_clear(v->batch_discount);
}

/* "gpu" or "tokens" of a version: flag is set when it had a problem. */
static int read_section(gb_json_ctx *c, const cJSON *val, const char *key,
			int (*read)(gb_json_ctx *, const cJSON *, gb_version *),
			gb_version *v, int *flag)
{
	size_t mark = gb_json_path_key(c, key), errors = c->nerrors;
	int rc = gb_json_recover(c, read(c, val, v), mark);

	if (SINCE(c, errors))
		*flag = 1;
	if (!rc)
		gb_json_path_pop(c, mark);
	return rc;
}

static int read_version(gb_json_ctx *c, const cJSON *obj, gb_version *v)
{
	static const char *const keys[] = {
		"effective_from", "description", "note", "gpu", "tokens"
	};
	const cJSON *val[5];
	const char *text = NULL;
	size_t errors = c->nerrors, keys_wrong;
	int rc;

	rc = gb_json_read_object(c, obj, keys, val, 5);
	keys_wrong = SINCE(c, errors);
	if (!rc)
		rc = gb_json_require(c, val[0], "effective_from");
	errors = c->nerrors;
	if (!rc)
		rc = gb_json_read_hour(c, val[0], "effective_from",
				       &v->effective_from);
	if (!val[0] || SINCE(c, errors))
		v->bad_from = 1;
	if (!rc && val[1])
		rc = gb_json_read_string(c, val[1], keys[1], 0, &text);
	if (!rc && val[2])
		rc = gb_json_read_string(c, val[2], keys[2], 0, &text);
	/* An unknown key may well be a misspelt "gpu": that says it all. */
	if (!rc && !val[3] && !val[4] && !keys_wrong)
		rc = gb_json_report(c, "no_price", NULL,
				    "add a \"gpu\" or a \"tokens\" section",
				    "a version needs \"gpu\" or \"tokens\" prices");
	if (!rc && val[3])
		rc = read_section(c, val[3], "gpu", read_gpu, v, &v->bad_gpu);
	if (!rc && val[4])
		rc = read_section(c, val[4], "tokens", read_tokens, v,
				  &v->bad_tokens);
	return rc;
}

/*
 * Put the versions in effective_from order; a date given twice is an
 * error.  A table written out of order is still valid (`gpubill validate`
 * points it out).
 */
static int sort_versions(gb_json_ctx *c, gb_prices *p)
{
	size_t i, n = p->nversions, *first, mark = c->len;
	char when[GB_TIME_TEXT_MAX], hint[160];
	gb_json_keyed *k;
	int rc = 0;

	if (n == 0)
		return 0;
	k = gb_malloc(n * sizeof *k);
	first = gb_malloc(n * sizeof *first);
	if (!k || !first) {
		gb_free(k);
		gb_free(first);
		return gb_json_nomem(c);
	}
	for (i = 0; i < n; i++) {
		k[i].a = p->versions[i].bad_from ? NULL : "";
		k[i].b = "";
		k[i].t = p->versions[i].effective_from;
		k[i].idx = i;
	}
	gb_json_find_repeats(k, n, first);
	for (i = 0; i < n && !rc; i++) {
		if (first[i] == i)
			continue;
		gb_time_format(when, sizeof when, p->versions[i].effective_from);
		snprintf(hint, sizeof hint, "give each version its own effective_from, or merge it into versions[%zu]",
			 first[i]);
		gb_json_path_key(c, "versions");
		gb_json_path_index(c, i);
		gb_json_path_key(c, "effective_from");
		rc = gb_json_report(c, "duplicate_entry", NULL, hint,
				    "versions[%zu] is already effective from %s",
				    first[i], when);
		if (!rc)
			gb_json_path_pop(c, mark);
	}
	gb_free(first);
	if (!rc && gb_json_permute((void **)&p->versions, n,
				   sizeof *p->versions, k) == 0)
		return 0;
	gb_free(k);
	return rc ? rc : gb_json_nomem(c);
}

static void version_init(void *elem)
{
	gb_version *v = elem;

	mpq_init(v->batch_discount);
	v->increment_seconds = 1;
}

static int version_elem(gb_json_ctx *c, void *arg, const cJSON *e, void *elem,
			size_t i)
{
	gb_version *v = elem;
	int rc;

	(void)arg;
	v->index = i;
	rc = read_version(c, e, v);
	if (rc)
		v->bad_from = v->bad_gpu = v->bad_tokens = 1;
	return rc;
}

static int read_versions(gb_json_ctx *c, const cJSON *arr, gb_prices *p)
{
	size_t mark = gb_json_path_key(c, "versions");
	int rc = gb_json_read_array(c, arr, 1, sizeof *p->versions,
				    (void **)&p->versions, &p->nversions,
				    version_init, version_elem, NULL);

	if (rc)
		return rc;
	gb_json_path_pop(c, mark);
	return sort_versions(c, p);
}

/* --- the table ----------------------------------------------------------- */

/*
 * "format" is checked before anything else: handed some other gpubill file
 * (contracts, costs), the useful message is which format it is, not that
 * its keys are unknown.  In collect mode reading stops there too.
 */
static int check_format(gb_json_ctx *c, const cJSON *root)
{
	const cJSON *f = cJSON_GetObjectItemCaseSensitive(root, "format");
	char shown[GB_JSON_SHOW_BUF];
	size_t mark;
	int rc = 0;

	if (!f)
		return gb_json_report(c, "missing_key",
				      "a pricing table starts with \"format\": \"" FORMAT_NAME "\"",
				      NULL, "missing required key 'format'");
	mark = gb_json_path_key(c, "format");
	if (!cJSON_IsString(f)) {
		rc = gb_json_report(c, "bad_format", NULL,
				    "write \"format\": \"" FORMAT_NAME "\"",
				    "expected the string \"" FORMAT_NAME "\", got %s",
				    gb_json_type_name(f));
	} else if (strcmp(f->valuestring, FORMAT_NAME) != 0) {
		rc = gb_json_report(c, "bad_format",
				    "this version of gpubill reads \"" FORMAT_NAME "\"",
				    NULL, "unsupported format \"%s\"",
				    gb_json_show(shown, f->valuestring));
		if (!rc)
			rc = GB_ESCHEMA;	/* some other file: stop */
	}
	if (!rc)
		gb_json_path_pop(c, mark);
	return rc;
}

static int read_currency(gb_json_ctx *c, const cJSON *val, gb_prices *p)
{
	char shown[GB_JSON_SHOW_BUF];
	const char *s = NULL;
	size_t mark;
	int rc = gb_json_read_string(c, val, "currency", 0, &s);

	if (rc || !s)
		return rc;
	if (strlen(s) == 3 && s[0] >= 'A' && s[0] <= 'Z' && s[1] >= 'A' &&
	    s[1] <= 'Z' && s[2] >= 'A' && s[2] <= 'Z') {
		memcpy(p->currency, s, 4);
		return 0;
	}
	mark = gb_json_path_key(c, "currency");
	rc = gb_json_report(c, "invalid_value", NULL,
			    "use an ISO 4217 code in capitals, like \"USD\" or \"EUR\"",
			    "expected a three-letter upper-case ISO 4217 code like \"USD\", got \"%s\"",
			    gb_json_show(shown, s));
	gb_json_path_pop(c, mark);
	return rc;
}

static int read_rounding(gb_json_ctx *c, const cJSON *val, gb_prices *p)
{
	const char *names[4];
	const char *s = NULL;
	size_t mark, i;
	int rc = gb_json_read_string(c, val, "rounding", 0, &s);

	if (rc || !s || gb_rounding_parse(&p->rounding, s) == 0)
		return rc;
	for (i = 0; i < 4; i++)
		names[i] = gb_rounding_name((gb_rounding)i);
	mark = gb_json_path_key(c, "rounding");
	rc = gb_json_not_one_of(c, "rounding mode", s, names, 4);
	gb_json_path_pop(c, mark);
	return rc;
}

static int read_table(gb_json_ctx *c, const cJSON *root, gb_prices *p)
{
	static const char *const keys[] = {
		"format", "name", "description", "currency", "minor_units",
		"rounding", "versions"
	};
	const cJSON *v[7];
	const char *text = NULL;
	int64_t units = 2;
	int rc;

	rc = check_format(c, root);
	if (!rc)
		rc = gb_json_read_object(c, root, keys, v, 7);
	if (!rc)
		rc = gb_json_require(c, v[1], "name");
	if (!rc)
		rc = gb_json_copy_string(c, v[1], "name", &p->name);
	if (!rc && v[2])
		rc = gb_json_read_string(c, v[2], "description", 0, &text);
	if (!rc)
		rc = gb_json_require(c, v[3], "currency");
	if (!rc)
		rc = read_currency(c, v[3], p);
	if (!rc && v[4])
		rc = gb_json_read_int(c, v[4], "minor_units", 0, 6, &units);
	p->minor_units = (unsigned)units;
	if (!rc && v[5])
		rc = read_rounding(c, v[5], p);
	if (!rc)
		rc = gb_json_require(c, v[6], "versions");
	if (!rc)
		rc = read_versions(c, v[6], p);
	return rc;
}

int gb_prices_load_ctx(gb_json_ctx *c, const char *data, size_t len,
		       gb_prices **out)
{
	cJSON *root = NULL;
	gb_prices *p;
	int rc;

	if (!out || (!data && len))
		return gb_error_set(c->err, GB_EINVAL, "gb_prices_load: no output or no data");
	*out = NULL;
	rc = gb_json_parse(c, data ? data : "", len, &root);
	if (rc)
		return rc;
	p = gb_calloc(1, sizeof *p);
	if (!p) {
		cJSON_Delete(root);
		return gb_json_nomem(c);
	}
	p->minor_units = 2;
	p->rounding = GB_ROUND_HALF_EVEN;
	p->source = gb_strdup(c->source);
	rc = p->source ? read_table(c, root, p) : gb_json_nomem(c);
	cJSON_Delete(root);
	/* Collect mode: a GB_ESCHEMA was reported; the table is what it is. */
	if (gb_json_collecting(c) && rc == GB_ESCHEMA)
		rc = 0;
	if (rc) {
		gb_prices_free(p);
		return rc;
	}
	*out = p;
	return 0;
}

int gb_prices_load(gb_prices **out, const char *data, size_t len,
		   const char *source, gb_error *err)
{
	gb_json_ctx c = {
		.err = err, .source = source ? source : "",
		.kind = "a pricing table"
	};

	gb_error_clear(err);
	return gb_prices_load_ctx(&c, data, len, out);
}

void gb_prices_free(gb_prices *prices)
{
	size_t i;

	if (!prices)
		return;
	for (i = 0; i < prices->nversions; i++)
		version_clear(&prices->versions[i]);
	gb_free(prices->versions);
	gb_free(prices->name);
	gb_free(prices->source);
	gb_free(prices);
}

/* --- accessors and lookups ----------------------------------------------- */

const char *gb_prices_name(const gb_prices *prices)
{
	return prices ? prices->name : NULL;
}

const char *gb_prices_currency(const gb_prices *prices)
{
	return prices ? prices->currency : NULL;
}

unsigned gb_prices_minor_units(const gb_prices *prices)
{
	return prices ? prices->minor_units : 0;
}

gb_rounding gb_prices_rounding(const gb_prices *prices)
{
	return prices ? prices->rounding : GB_ROUND_HALF_EVEN;
}

size_t gb_prices_version_count(const gb_prices *prices)
{
	return prices ? prices->nversions : 0;
}

long gb_prices_version_at(const gb_prices *p, int64_t t)
{
	size_t lo = 0, hi = p->nversions;

	/* Find the first version starting after t; the one before applies. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (p->versions[mid].effective_from <= t)
			lo = mid + 1;
		else
			hi = mid;
	}
	return (long)lo - 1;
}

const gb_gpu_rate *gb_version_gpu_rate(const gb_version *v, const char *sku,
				       const char *region)
{
	const gb_gpu_rate *wild = NULL;
	size_t i;

	for (i = 0; i < v->ngpu_rates; i++) {
		const gb_gpu_rate *r = &v->gpu_rates[i];

		if (strcmp(r->sku, sku) != 0)
			continue;
		if (region && strcmp(r->region, region) == 0)
			return r;
		if (strcmp(r->region, "*") == 0)
			wild = r;
	}
	return wild;
}

const gb_token_rate *gb_version_token_rate(const gb_version *v,
					   const char *model,
					   const char *region)
{
	const gb_token_rate *wild = NULL;
	size_t i;

	for (i = 0; i < v->ntoken_rates; i++) {
		const gb_token_rate *r = &v->token_rates[i];

		if (strcmp(r->model, model) != 0)
			continue;
		if (region && strcmp(r->region, region) == 0)
			return r;
		if (strcmp(r->region, "*") == 0)
			wild = r;
	}
	return wild;
}

const gb_price *gb_gpu_rate_reserved(const gb_gpu_rate *r, const char *term)
{
	size_t i;

	for (i = 0; i < r->nreserved; i++)
		if (strcmp(r->reserved[i].term, term) == 0)
			return &r->reserved[i].price;
	return NULL;
}
