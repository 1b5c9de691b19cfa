/*
 * costs.c - load a "gpubill-costs/1" file: the provider's cost of a
 * GPU-hour per (sku, region), with "*" for any other region, and of a
 * million tokens per model.
 *
 * The same approach as contracts.c: cJSON parses, then every key and value
 * is checked with the json_load.h readers while the model of
 * costs_internal.h is built, and every problem is reported with the JSON
 * path of the element at fault.  Arrays are zeroed and every mpq_t is
 * initialised as soon as its entry exists, so gb_costs_free releases a
 * partly built model and each error path just returns.
 */
#include "internal.h"
#include "costs_internal.h"
#include "json_load.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#define FORMAT_NAME "gpubill-costs/1"
#define PRICES_FORMAT_NAME "gpubill-pricing/1"
#define CONTRACTS_FORMAT_NAME "gpubill-contracts/1"

/* A reader that collects every problem may leave a string unset. */
static const char *str(const char *s)
{
	return s ? s : "";
}

/* --- entries ------------------------------------------------------------- */

static int read_gpu(gb_json_ctx *c, const cJSON *obj, gb_cost_gpu *g)
{
	static const char *const keys[] = {
		"sku", "region", "per_gpu_hour", "description", "note"
	};
	const cJSON *v[5];
	const char *text = NULL;
	char *sku = NULL, *region = NULL;
	size_t i;
	int rc;

	rc = gb_json_read_object(c, obj, keys, v, 5);
	for (i = 0; !rc && i < 3; i++)
		rc = gb_json_require(c, v[i], keys[i]);
	if (!rc)
		rc = gb_json_copy_string(c, v[0], "sku", &sku);
	g->sku = sku;
	if (!rc)
		rc = gb_json_copy_string(c, v[1], "region", &region);
	g->region = region;
	if (!rc)
		rc = gb_json_read_decimal(c, v[2], "per_gpu_hour", g->per_gpu_hour,
					  "1.40");
	if (!rc && v[3])
		rc = gb_json_read_string(c, v[3], keys[3], 0, &text);
	if (!rc && v[4])
		rc = gb_json_read_string(c, v[4], keys[4], 0, &text);
	return rc;
}

static int read_tokens(gb_json_ctx *c, const cJSON *obj, gb_cost_tokens *t)
{
	static const char *const keys[] = {
		"model", "per_million", "description", "note"
	};
	const cJSON *v[4];
	const char *text = NULL;
	char *model = NULL;
	int rc;

	rc = gb_json_read_object(c, obj, keys, v, 4);
	if (!rc)
		rc = gb_json_require(c, v[0], "model");
	if (!rc)
		rc = gb_json_require(c, v[1], "per_million");
	if (!rc)
		rc = gb_json_copy_string(c, v[0], "model", &model);
	t->model = model;
	if (!rc)
		rc = gb_json_read_decimal(c, v[1], "per_million", t->per_million,
					  "0.12");
	if (!rc && v[2])
		rc = gb_json_read_string(c, v[2], keys[2], 0, &text);
	if (!rc && v[3])
		rc = gb_json_read_string(c, v[3], keys[3], 0, &text);
	return rc;
}

static void gpu_init(void *elem)
{
	mpq_init(((gb_cost_gpu *)elem)->per_gpu_hour);
}

static void tokens_init(void *elem)
{
	mpq_init(((gb_cost_tokens *)elem)->per_million);
}

static int gpu_elem(gb_json_ctx *c, void *arg, const cJSON *e, void *elem,
		    size_t i)
{
	(void)arg;
	(void)i;
	return read_gpu(c, e, elem);
}

static int tokens_elem(gb_json_ctx *c, void *arg, const cJSON *e, void *elem,
		       size_t i)
{
	(void)arg;
	(void)i;
	return read_tokens(c, e, elem);
}

/*
 * An entry repeated in file order: a second cost for the same sku and
 * region, or model, would leave the report's cost to the file's order.
 * Entries whose key could not be read (a reader that collects every
 * problem leaves it NULL) take no part.
 */
static int no_repeats(gb_json_ctx *c, const char *key, size_t n,
		      const char *(*a)(const gb_costs *, size_t),
		      const char *(*b)(const gb_costs *, size_t),
		      const gb_costs *cs)
{
	char s1[GB_JSON_SHOW_BUF], s2[GB_JSON_SHOW_BUF];
	size_t i, m = 0, dup, first = 0, *pos;
	gb_json_keyed *k;

	if (n < 2)
		return 0;
	k = gb_malloc(n * sizeof *k);
	pos = gb_malloc(n * sizeof *pos);
	if (!k || !pos) {
		gb_free(k);
		gb_free(pos);
		return gb_json_nomem(c);
	}
	for (i = 0; i < n; i++) {
		if (!a(cs, i) || (b && !b(cs, i)))
			continue;
		k[m].a = a(cs, i);
		k[m].b = b ? b(cs, i) : "";
		k[m].t = 0;
		k[m].idx = m;
		pos[m++] = i;
	}
	dup = gb_json_first_repeat(k, m, &first);
	gb_free(k);
	if (dup == m) {
		gb_free(pos);
		return 0;
	}
	dup = pos[dup];
	first = pos[first];
	gb_free(pos);
	gb_json_path_key(c, key);
	gb_json_path_index(c, dup);
	if (b)
		return gb_json_schema(c, "repeated entry for sku '%s' in region '%s' (first given at %s[%zu])",
				      gb_json_show(s1, a(cs, dup)),
				      gb_json_show(s2, b(cs, dup)), key, first);
	return gb_json_schema(c, "repeated entry for model '%s' (first given at %s[%zu])",
			      gb_json_show(s1, a(cs, dup)), key, first);
}

static const char *gpu_sku(const gb_costs *cs, size_t i)
{
	return cs->gpu[i].sku;
}

static const char *gpu_region(const gb_costs *cs, size_t i)
{
	return cs->gpu[i].region;
}

static const char *tokens_model(const gb_costs *cs, size_t i)
{
	return cs->tokens[i].model;
}

static int read_gpu_list(gb_json_ctx *c, const cJSON *arr, gb_costs *cs)
{
	size_t mark = gb_json_path_key(c, "gpu");
	int rc = gb_json_read_array(c, arr, 0, sizeof *cs->gpu,
				    (void **)&cs->gpu, &cs->ngpu, gpu_init,
				    gpu_elem, cs);

	if (rc)
		return rc;
	gb_json_path_pop(c, mark);
	return no_repeats(c, "gpu", cs->ngpu, gpu_sku, gpu_region, cs);
}

static int read_tokens_list(gb_json_ctx *c, const cJSON *arr, gb_costs *cs)
{
	size_t mark = gb_json_path_key(c, "tokens");
	int rc = gb_json_read_array(c, arr, 0, sizeof *cs->tokens,
				    (void **)&cs->tokens, &cs->ntokens,
				    tokens_init, tokens_elem, cs);

	if (rc)
		return rc;
	gb_json_path_pop(c, mark);
	return no_repeats(c, "tokens", cs->ntokens, tokens_model, NULL, cs);
}

/* --- lookup indexes ------------------------------------------------------ */

static int gpu_ptr_cmp(const void *pa, const void *pb)
{
	const gb_cost_gpu *a = *(const gb_cost_gpu *const *)pa;
	const gb_cost_gpu *b = *(const gb_cost_gpu *const *)pb;
	int r = strcmp(str(a->sku), str(b->sku));

	return r ? r : strcmp(str(a->region), str(b->region));
}

static int tokens_ptr_cmp(const void *pa, const void *pb)
{
	const gb_cost_tokens *a = *(const gb_cost_tokens *const *)pa;
	const gb_cost_tokens *b = *(const gb_cost_tokens *const *)pb;

	return strcmp(str(a->model), str(b->model));
}

static int build_indexes(gb_json_ctx *c, gb_costs *cs)
{
	size_t i;

	cs->gpu_by_key = gb_calloc(cs->ngpu, sizeof *cs->gpu_by_key);
	cs->tokens_by_key = gb_calloc(cs->ntokens, sizeof *cs->tokens_by_key);
	if (!cs->gpu_by_key || !cs->tokens_by_key)
		return gb_json_nomem(c);
	for (i = 0; i < cs->ngpu; i++)
		cs->gpu_by_key[i] = &cs->gpu[i];
	for (i = 0; i < cs->ntokens; i++)
		cs->tokens_by_key[i] = &cs->tokens[i];
	if (cs->ngpu)
		qsort(cs->gpu_by_key, cs->ngpu, sizeof *cs->gpu_by_key,
		      gpu_ptr_cmp);
	if (cs->ntokens)
		qsort(cs->tokens_by_key, cs->ntokens, sizeof *cs->tokens_by_key,
		      tokens_ptr_cmp);
	return 0;
}

/* --- the file ------------------------------------------------------------ */

/*
 * "format" is checked first: handed a pricing table or a contracts file
 * by mistake, the useful message says so.
 */
static int check_format(gb_json_ctx *c, const cJSON *root)
{
	const cJSON *f = cJSON_GetObjectItemCaseSensitive(root, "format");
	char shown[GB_JSON_SHOW_BUF];
	size_t mark;
	int rc = 0;

	if (!f)
		return gb_json_schema(c, "missing required key 'format' (a costs file starts with \"format\": \"" FORMAT_NAME "\")");
	mark = gb_json_path_key(c, "format");
	if (!cJSON_IsString(f))
		rc = gb_json_schema(c, "expected the string \"" FORMAT_NAME "\", got %s",
				    gb_json_type_name(f));
	else if (strcmp(f->valuestring, PRICES_FORMAT_NAME) == 0)
		rc = gb_json_schema(c, "unsupported format \"" PRICES_FORMAT_NAME "\": this is a pricing table, not a costs file (\"" FORMAT_NAME "\")");
	else if (strcmp(f->valuestring, CONTRACTS_FORMAT_NAME) == 0)
		rc = gb_json_schema(c, "unsupported format \"" CONTRACTS_FORMAT_NAME "\": this is a contracts file, not a costs file (\"" FORMAT_NAME "\")");
	else if (strcmp(f->valuestring, FORMAT_NAME) != 0)
		rc = gb_json_schema(c, "unsupported format \"%s\" (this version of gpubill reads \"" FORMAT_NAME "\")",
				    gb_json_show(shown, f->valuestring));
	if (!rc)
		gb_json_path_pop(c, mark);
	return rc;
}

/* As in a pricing table: three upper-case letters. */
static int read_currency(gb_json_ctx *c, const cJSON *val, gb_costs *cs)
{
	char shown[GB_JSON_SHOW_BUF];
	const char *s = NULL;
	size_t mark;
	int rc = gb_json_read_string(c, val, "currency", 0, &s);

	if (rc || !s)
		return rc;
	if (strlen(s) == 3 && s[0] >= 'A' && s[0] <= 'Z' && s[1] >= 'A' &&
	    s[1] <= 'Z' && s[2] >= 'A' && s[2] <= 'Z') {
		memcpy(cs->currency, s, 4);
		return 0;
	}
	mark = gb_json_path_key(c, "currency");
	rc = gb_json_schema(c, "expected a three-letter upper-case ISO 4217 code like \"USD\", got \"%s\"",
			    gb_json_show(shown, s));
	gb_json_path_pop(c, mark);
	return rc;
}

static int read_file(gb_json_ctx *c, const cJSON *root, gb_costs *cs)
{
	static const char *const keys[] = {
		"format", "name", "description", "currency", "gpu", "tokens"
	};
	const cJSON *v[6];
	const char *text = NULL;
	int rc;

	rc = check_format(c, root);
	if (!rc)
		rc = gb_json_read_object(c, root, keys, v, 6);
	if (!rc)
		rc = gb_json_require(c, v[1], "name");
	if (!rc)
		rc = gb_json_copy_string(c, v[1], "name", &cs->name);
	if (!rc && v[2])
		rc = gb_json_read_string(c, v[2], "description", 0, &text);
	if (!rc)
		rc = gb_json_require(c, v[3], "currency");
	if (!rc)
		rc = read_currency(c, v[3], cs);
	if (!rc && v[4])
		rc = read_gpu_list(c, v[4], cs);
	if (!rc && v[5])
		rc = read_tokens_list(c, v[5], cs);
	if (!rc)
		rc = build_indexes(c, cs);
	return rc;
}

int gb_costs_load_ctx(gb_json_ctx *c, const char *data, size_t len,
		      gb_costs **out)
{
	cJSON *root = NULL;
	gb_costs *cs;
	int rc;

	if (!c->source)
		c->source = "";
	if (!c->kind)
		c->kind = "a costs file";
	if (!out || (!data && len))
		return gb_json_fail(c, GB_EINVAL, "gb_costs_load: no output or no data");
	*out = NULL;
	rc = gb_json_parse(c, data ? data : "", len, &root);
	if (rc)
		return rc;
	cs = gb_calloc(1, sizeof *cs);
	if (!cs) {
		cJSON_Delete(root);
		return gb_json_nomem(c);
	}
	cs->source = gb_strdup(c->source);
	rc = cs->source ? read_file(c, root, cs) : gb_json_nomem(c);
	cJSON_Delete(root);
	if (rc) {
		gb_costs_free(cs);
		return rc;
	}
	*out = cs;
	return 0;
}

int gb_costs_load(gb_costs **out, const char *data, size_t len,
		  const char *source, gb_error *err)
{
	gb_json_ctx c = {
		.err = err, .source = source ? source : "",
		.kind = "a costs file"
	};

	gb_error_clear(err);
	if (!out)
		return gb_error_set(err, GB_EINVAL, "gb_costs_load: no output");
	return gb_costs_load_ctx(&c, data, len, out);
}

void gb_costs_free(gb_costs *cs)
{
	size_t i;

	if (!cs)
		return;
	for (i = 0; i < cs->ngpu; i++) {
		gb_free((char *)cs->gpu[i].sku);
		gb_free((char *)cs->gpu[i].region);
		mpq_clear(cs->gpu[i].per_gpu_hour);
	}
	for (i = 0; i < cs->ntokens; i++) {
		gb_free((char *)cs->tokens[i].model);
		mpq_clear(cs->tokens[i].per_million);
	}
	gb_free(cs->gpu);
	gb_free(cs->tokens);
	gb_free(cs->gpu_by_key);
	gb_free(cs->tokens_by_key);
	gb_free(cs->name);
	gb_free(cs->source);
	gb_free(cs);
}

/* --- accessors and lookups ----------------------------------------------- */

const char *gb_costs_name(const gb_costs *cs)
{
	return cs ? cs->name : NULL;
}

const char *gb_costs_currency(const gb_costs *cs)
{
	return cs ? cs->currency : NULL;
}

const char *gb_costs_source(const gb_costs *cs)
{
	return cs ? cs->source : NULL;
}

size_t gb_costs_gpu_count(const gb_costs *cs)
{
	return cs ? cs->ngpu : 0;
}

const gb_cost_gpu *gb_costs_gpu_get(const gb_costs *cs, size_t i)
{
	return cs && i < cs->ngpu ? &cs->gpu[i] : NULL;
}

size_t gb_costs_tokens_count(const gb_costs *cs)
{
	return cs ? cs->ntokens : 0;
}

const gb_cost_tokens *gb_costs_tokens_get(const gb_costs *cs, size_t i)
{
	return cs && i < cs->ntokens ? &cs->tokens[i] : NULL;
}

static const gb_cost_gpu *find_gpu_exact(const gb_costs *cs, const char *sku,
					 const char *region)
{
	gb_cost_gpu key;
	const gb_cost_gpu *kp = &key;
	const gb_cost_gpu *const *hit;

	key.sku = sku;
	key.region = region;
	hit = bsearch(&kp, cs->gpu_by_key, cs->ngpu, sizeof *cs->gpu_by_key,
		      gpu_ptr_cmp);
	return hit ? *hit : NULL;
}

const gb_cost_gpu *gb_costs_find_gpu(const gb_costs *cs, const char *sku,
				     const char *region)
{
	const gb_cost_gpu *g;

	if (!cs || !sku || !cs->ngpu)
		return NULL;
	g = region ? find_gpu_exact(cs, sku, region) : NULL;
	return g ? g : find_gpu_exact(cs, sku, "*");
}

const gb_cost_tokens *gb_costs_find_tokens(const gb_costs *cs,
					   const char *model)
{
	gb_cost_tokens key;
	const gb_cost_tokens *kp = &key;
	const gb_cost_tokens *const *hit;

	if (!cs || !model || !cs->ntokens)
		return NULL;
	key.model = model;
	hit = bsearch(&kp, cs->tokens_by_key, cs->ntokens,
		      sizeof *cs->tokens_by_key, tokens_ptr_cmp);
	return hit ? *hit : NULL;
}

int gb_costs_check_currency(const gb_costs *cs, const char *currency,
			    gb_error *err)
{
	char shown[GB_JSON_SHOW_BUF];

	if (!cs || !currency)
		return gb_error_set(err, GB_EINVAL, "gb_costs_check_currency: no costs or no currency");
	gb_error_clear(err);
	if (strcmp(cs->currency, currency) == 0)
		return 0;
	gb_error_set(err, GB_ESCHEMA, "the costs are in %s but the pricing table is in %s: a margin needs both in one currency",
		     cs->currency, gb_json_show(shown, currency));
	gb_error_set_source(err, cs->source);
	gb_error_set_path(err, "currency");
	return GB_ESCHEMA;
}
