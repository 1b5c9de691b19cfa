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
 */
#include "internal.h"
#include "json_load.h"
#include "prices_internal.h"

#include <gpubill/timestamp.h>
#include <cjson/cJSON.h>
#include <stdarg.h>
#include <string.h>

#define FORMAT_NAME "gpubill-pricing/1"

/* Longest increment or minimum a table may set: a leap year. */
#define MAX_SECONDS (86400 * 366)

/* --- prices -------------------------------------------------------------- */

static void price_init(gb_price *p)
{
	p->mode = GB_PRICE_FLAT;
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
	int rc;

	if (cJSON_IsNull(val)) {
		if (i + 1 < p->ntiers)
			return gb_json_schema(c, "only the last tier may have \"up_to\": null");
		return 0;
	}
	if (i + 1 == p->ntiers)
		return gb_json_schema(c, "the last tier must have \"up_to\": null, so that every quantity has a price");
	if (!cJSON_IsString(val))
		return gb_json_schema(c, "expected a decimal string like \"1000\" or null, got %s",
				      gb_json_type_name(val));
	rc = gb_json_decimal_here(c, val, t->up_to, "1000");
	if (rc)
		return rc;
	t->bounded = 1;
	if (mpq_sgn(t->up_to) <= 0)
		return gb_json_schema(c, "up_to must be greater than 0");
	if (i > 0 && mpq_cmp(t->up_to, p->tiers[i - 1].up_to) <= 0)
		return gb_json_schema(c, "up_to must be greater than the previous tier's up_to");
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
	if (!rc && !v[0])
		rc = gb_json_schema(c, "missing required key 'up_to' (use null for the last tier)");
	if (!rc)
		rc = gb_json_require(c, v[1], "price");
	if (rc)
		return rc;
	mark = gb_json_path_key(c, "up_to");
	rc = read_up_to(c, v[0], p, i);
	if (rc)
		return rc;
	gb_json_path_pop(c, mark);
	return gb_json_read_decimal(c, v[1], "price", p->tiers[i].price,
				    "0.95");
}

static int read_tier_mode(gb_json_ctx *c, const cJSON *val, gb_price *out)
{
	static const char *const modes[] = { "graduated", "volume" };
	size_t mark;
	const char *s = NULL;
	int rc = gb_json_read_string(c, val, "mode", 0, &s);

	if (rc)
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
	(void)elem; /* read_tier fills price->tiers[i] */
	return read_tier(c, e, price, i);
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
	return gb_json_schema(c, "expected a decimal string like \"0.95\" or a tier object, got %s",
			      gb_json_type_name(val));
}

static int read_price(gb_json_ctx *c, const cJSON *val, const char *key,
		      gb_price *out)
{
	size_t mark = gb_json_path_key(c, key);
	int rc = price_here(c, val, out);

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

/* Report the repeat at member key[idx] of the current path. */
static int repeat_error(gb_json_ctx *c, const char *key, size_t idx,
			const char *fmt, ...) GB_PRINTF(4, 5);

static int repeat_error(gb_json_ctx *c, const char *key, size_t idx,
			const char *fmt, ...)
{
	va_list ap;

	gb_json_path_key(c, key);
	gb_json_path_index(c, idx);
	va_start(ap, fmt);
	gb_json_vfail(c, GB_ESCHEMA, fmt, ap);
	va_end(ap);
	return GB_ESCHEMA;
}

/* The (name, region) of rate i of a version's gpu or token rates. */
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
	size_t i, dup, first = 0;
	const char *name, *region;
	char s1[GB_JSON_SHOW_BUF], s2[GB_JSON_SHOW_BUF];

	if (n < 2)
		return 0;
	k = gb_malloc(n * sizeof *k);
	if (!k)
		return gb_json_nomem(c);
	for (i = 0; i < n; i++) {
		key_of(v, i, &k[i].a, &k[i].b);
		k[i].t = 0;
		k[i].idx = i;
	}
	dup = gb_json_first_repeat(k, n, &first);
	gb_free(k);
	if (dup == n)
		return 0;
	key_of(v, dup, &name, &region);
	return repeat_error(c, "rates", dup,
			    "duplicate rate for %s '%s' in region '%s' (first given at rates[%zu])",
			    what, gb_json_show(s1, name), gb_json_show(s2, region),
			    first);
}

/*
 * Check (sku, region, from) is unique and put the series in that order,
 * so the rater can find the price in effect with a binary search.
 */
static int sort_spot_points(gb_json_ctx *c, gb_version *v)
{
	size_t i, n = v->nspot_points, dup, first = 0;
	char s1[GB_JSON_SHOW_BUF], s2[GB_JSON_SHOW_BUF], when[GB_TIME_TEXT_MAX];
	gb_spot_point *sorted;
	gb_json_keyed *k;

	if (n < 2)
		return 0;
	k = gb_malloc(n * sizeof *k);
	if (!k)
		return gb_json_nomem(c);
	for (i = 0; i < n; i++) {
		k[i].a = v->spot_points[i].sku;
		k[i].b = v->spot_points[i].region;
		k[i].t = v->spot_points[i].from;
		k[i].idx = i;
	}
	dup = gb_json_first_repeat(k, n, &first);
	if (dup < n) {
		gb_free(k);
		gb_time_format(when, sizeof when, v->spot_points[dup].from);
		return repeat_error(c, "spot_prices", dup,
				    "duplicate spot price for sku '%s' in region '%s' from %s (first given at spot_prices[%zu])",
				    gb_json_show(s1, v->spot_points[dup].sku),
				    gb_json_show(s2, v->spot_points[dup].region),
				    when, first);
	}
	sorted = gb_malloc(n * sizeof *sorted);
	if (!sorted) {
		gb_free(k);
		return gb_json_nomem(c);
	}
	/* A struct copy moves an mpq_t: the old array is freed, not cleared. */
	for (i = 0; i < n; i++)
		sorted[i] = v->spot_points[k[i].idx];
	gb_free(k);
	gb_free(v->spot_points);
	v->spot_points = sorted;
	return 0;
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

/* The first member of obj whose name repeats an earlier one, or NULL. */
static const cJSON *repeated_member(gb_json_ctx *c, const cJSON *obj,
				    size_t n, int *rc)
{
	const cJSON *m, *found = NULL;
	gb_json_keyed *k;
	size_t i = 0, dup, first = 0;

	*rc = 0;
	if (n < 2)
		return NULL;
	k = gb_malloc(n * sizeof *k);
	if (!k) {
		*rc = gb_json_nomem(c);
		return NULL;
	}
	cJSON_ArrayForEach(m, obj) {
		k[i].a = m->string;
		k[i].b = "";
		k[i].t = 0;
		k[i].idx = i;
		i++;
	}
	dup = gb_json_first_repeat(k, n, &first);
	gb_free(k);
	i = 0;
	cJSON_ArrayForEach(m, obj)
		if (i++ == dup)
			found = m;
	return found;
}

/* "reserved": {"1y": price, "3y": price, ...} at the current path. */
static int read_reserved(gb_json_ctx *c, const cJSON *obj, gb_gpu_rate *r)
{
	const cJSON *m, *dup;
	size_t n = 0, i = 0;
	int rc;

	if (!cJSON_IsObject(obj))
		return gb_json_schema(c, "expected an object mapping terms to prices, like {\"1y\": \"1.625\"}, got %s",
				      gb_json_type_name(obj));
	cJSON_ArrayForEach(m, obj)
		n++;
	if (n == 0)
		return gb_json_schema(c, "must name at least one term, like {\"1y\": \"1.625\"}");
	dup = repeated_member(c, obj, n, &rc);
	if (rc)
		return rc;
	if (dup) {
		gb_json_path_key(c, dup->string);
		return gb_json_schema(c, "duplicate key '%s'", dup->string);
	}
	r->reserved = gb_calloc(n, sizeof *r->reserved);
	if (!r->reserved)
		return gb_json_nomem(c);
	for (i = 0; i < n; i++)
		price_init(&r->reserved[i].price);
	r->nreserved = n;
	i = 0;
	cJSON_ArrayForEach(m, obj) {
		gb_reserved_price *rp = &r->reserved[i++];

		if (!m->string[0]) {
			gb_json_path_key(c, m->string);
			return gb_json_schema(c, "a reserved term name must not be empty");
		}
		rp->term = gb_strdup(m->string);
		if (!rp->term)
			return gb_json_nomem(c);
		rc = read_price(c, m, m->string, &rp->price);
		if (rc)
			return rc;
	}
	return 0;
}

static int read_gpu_rate(gb_json_ctx *c, const cJSON *obj, gb_gpu_rate *r)
{
	static const char *const keys[] = {
		"sku", "region", "on_demand", "spot", "reserved"
	};
	const cJSON *v[5];
	size_t mark;
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
	if (!r->on_demand && !r->spot && !r->nreserved)
		return gb_json_schema(c, "a rate needs at least one price: on_demand, spot or reserved");
	return 0;
}

static int read_spot_point(gb_json_ctx *c, const cJSON *obj, gb_spot_point *sp)
{
	static const char *const keys[] = { "sku", "region", "from", "price" };
	const cJSON *v[4];
	size_t i;
	int rc;

	rc = gb_json_read_object(c, obj, keys, v, 4);
	for (i = 0; !rc && i < 4; i++)
		rc = gb_json_require(c, v[i], keys[i]);
	if (!rc)
		rc = gb_json_copy_string(c, v[0], "sku", &sp->sku);
	if (!rc)
		rc = gb_json_copy_string(c, v[1], "region", &sp->region);
	if (!rc)
		rc = gb_json_read_time(c, v[2], "from", &sp->from);
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
	(void)arg;
	(void)i;
	return read_spot_point(c, e, elem);
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
	if (!rc && !r->input && !r->cached_input && !r->output)
		rc = gb_json_schema(c, "a rate needs at least one price: input, cached_input or output");
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
	size_t mark;
	int rc;

	rc = gb_json_read_object(c, obj, keys, val, 2);
	if (!rc && val[0]) {
		rc = gb_json_read_decimal(c, val[0], keys[0],
					  v->batch_discount, "0.50");
		if (!rc && mpq_cmp_ui(v->batch_discount, 1, 1) > 0) {
			mark = gb_json_path_key(c, keys[0]);
			rc = gb_json_schema(c, "batch_discount must be from 0 to 1 (a fraction of the price), got \"%s\"",
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

static int read_version(gb_json_ctx *c, const cJSON *obj, gb_version *v)
{
	static const char *const keys[] = {
		"effective_from", "description", "note", "gpu", "tokens"
	};
	const cJSON *val[5];
	const char *text = NULL;
	size_t mark;
	int rc;

	rc = gb_json_read_object(c, obj, keys, val, 5);
	if (!rc)
		rc = gb_json_require(c, val[0], "effective_from");
	if (!rc)
		rc = gb_json_read_hour(c, val[0], "effective_from",
				       &v->effective_from);
	if (!rc && val[1])
		rc = gb_json_read_string(c, val[1], keys[1], 0, &text);
	if (!rc && val[2])
		rc = gb_json_read_string(c, val[2], keys[2], 0, &text);
	if (!rc && !val[3] && !val[4])
		rc = gb_json_schema(c, "a version needs \"gpu\" or \"tokens\" prices");
	if (rc)
		return rc;
	if (val[3]) {
		mark = gb_json_path_key(c, "gpu");
		rc = read_gpu(c, val[3], v);
		if (rc)
			return rc;
		gb_json_path_pop(c, mark);
	}
	if (val[4]) {
		mark = gb_json_path_key(c, "tokens");
		rc = read_tokens(c, val[4], v);
		if (rc)
			return rc;
		gb_json_path_pop(c, mark);
	}
	return 0;
}

/*
 * Put the versions in effective_from order; a date given twice is an
 * error.  A table written out of order is still valid (`gpubill validate`
 * points it out).
 */
static int sort_versions(gb_json_ctx *c, gb_prices *p)
{
	size_t i, n = p->nversions, dup, first = 0;
	char when[GB_TIME_TEXT_MAX];
	gb_version *sorted;
	gb_json_keyed *k;

	k = gb_malloc(n * sizeof *k);
	if (!k)
		return gb_json_nomem(c);
	for (i = 0; i < n; i++) {
		k[i].a = k[i].b = "";
		k[i].t = p->versions[i].effective_from;
		k[i].idx = i;
	}
	dup = gb_json_first_repeat(k, n, &first);
	if (dup < n) {
		gb_free(k);
		gb_time_format(when, sizeof when, p->versions[dup].effective_from);
		gb_json_path_key(c, "versions");
		gb_json_path_index(c, dup);
		gb_json_path_key(c, "effective_from");
		return gb_json_schema(c, "versions[%zu] is already effective from %s",
				      first, when);
	}
	sorted = gb_malloc(n * sizeof *sorted);
	if (!sorted) {
		gb_free(k);
		return gb_json_nomem(c);
	}
	for (i = 0; i < n; i++)
		sorted[i] = p->versions[k[i].idx];
	gb_free(k);
	gb_free(p->versions);
	p->versions = sorted;
	return 0;
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
	(void)arg;
	(void)i;
	return read_version(c, e, elem);
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
 * its keys are unknown.
 */
static int check_format(gb_json_ctx *c, const cJSON *root)
{
	const cJSON *f = cJSON_GetObjectItemCaseSensitive(root, "format");
	char shown[GB_JSON_SHOW_BUF];
	size_t mark;
	int rc = 0;

	if (!f)
		return gb_json_schema(c, "missing required key 'format' (a pricing table starts with \"format\": \"" FORMAT_NAME "\")");
	mark = gb_json_path_key(c, "format");
	if (!cJSON_IsString(f))
		rc = gb_json_schema(c, "expected the string \"" FORMAT_NAME "\", got %s",
				    gb_json_type_name(f));
	else if (strcmp(f->valuestring, FORMAT_NAME) != 0)
		rc = gb_json_schema(c, "unsupported format \"%s\" (this version of gpubill reads \"" FORMAT_NAME "\")",
				    gb_json_show(shown, f->valuestring));
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

	if (rc)
		return rc;
	if (strlen(s) == 3 && s[0] >= 'A' && s[0] <= 'Z' && s[1] >= 'A' &&
	    s[1] <= 'Z' && s[2] >= 'A' && s[2] <= 'Z') {
		memcpy(p->currency, s, 4);
		return 0;
	}
	mark = gb_json_path_key(c, "currency");
	rc = gb_json_schema(c, "expected a three-letter upper-case ISO 4217 code like \"USD\", got \"%s\"",
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

	if (rc || gb_rounding_parse(&p->rounding, s) == 0)
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

int gb_prices_load(gb_prices **out, const char *data, size_t len,
		   const char *source, gb_error *err)
{
	gb_json_ctx c = {
		.err = err, .source = source ? source : "",
		.kind = "a pricing table"
	};
	cJSON *root = NULL;
	gb_prices *p;
	int rc;

	gb_error_clear(err);
	if (!out || (!data && len))
		return gb_error_set(err, GB_EINVAL, "gb_prices_load: no output or no data");
	*out = NULL;
	rc = gb_json_parse(&c, data ? data : "", len, &root);
	if (rc)
		return rc;
	p = gb_calloc(1, sizeof *p);
	if (!p) {
		cJSON_Delete(root);
		return gb_json_nomem(&c);
	}
	p->minor_units = 2;
	p->rounding = GB_ROUND_HALF_EVEN;
	p->source = gb_strdup(c.source);
	rc = p->source ? read_table(&c, root, p) : gb_json_nomem(&c);
	cJSON_Delete(root);
	if (rc) {
		gb_prices_free(p);
		return rc;
	}
	*out = p;
	return 0;
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
