/*
 * contracts.c - load a "gpubill-contracts/1" file: each customer's
 * reservations, discounts, minimum spend and credits.
 *
 * The same approach as prices.c: cJSON parses, then every key and value is
 * checked against the schema while the model of contracts_internal.h is
 * built, and every problem is reported with the JSON path of the element
 * at fault.  Reservations are also checked against the pricing table they
 * will be billed with, so that the rater never meets a reservation hour it
 * cannot price.
 *
 * Ownership: as in prices.c, arrays are zeroed and every mpq_t is
 * initialised as soon as the struct holding it exists, so gb_contracts_free
 * can release a partly built model and each error path just returns.
 */
#include "internal.h"
#include "contracts_internal.h"
#include "json_load.h"
#include "prices_internal.h"

#include <gpubill/money.h>
#include <gpubill/timestamp.h>
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#define FORMAT_NAME "gpubill-contracts/1"
#define PRICES_FORMAT_NAME "gpubill-pricing/1"

/* Longest customer id, as for usage records (gpubill-usage(5)). */
#define MAX_CUSTOMER 128

/* Most GPUs a reservation may hold, as for a usage record. */
#define MAX_GPUS 100000

struct ctx {
	gb_json_ctx j;
	const gb_prices *prices;
	const char **terms;  /* the table's reserved terms: sorted, unique */
	size_t nterms;
	int have_terms;      /* terms collected (done on first need) */
};

/* --- contracts: values --------------------------------------------------- */

/*
 * An identifier member: a non-empty string without control characters
 * (they could never match a usage record, nor print safely), at most max
 * bytes when max is not 0.
 */
static int read_id(struct ctx *c, const cJSON *val, const char *key,
		   size_t max, char **out)
{
	size_t mark = gb_json_path_key(&c->j, key), n;
	const char *s;

	if (!cJSON_IsString(val))
		return gb_json_schema(&c->j, "expected a string, got %s",
				      gb_json_type_name(val));
	s = val->valuestring;
	n = strlen(s);
	if (n == 0)
		return gb_json_schema(&c->j, "must not be empty");
	if (max && n > max)
		return gb_json_schema(&c->j, "must be at most %zu bytes long, got %zu",
				      max, n);
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return gb_json_schema(&c->j, "must not contain control characters");
	*out = gb_strdup(val->valuestring);
	if (!*out)
		return gb_json_nomem(&c->j);
	gb_json_path_pop(&c->j, mark);
	return 0;
}

/* A discount member: a decimal string from 0 to 1. */
static int read_fraction(struct ctx *c, const cJSON *val, const char *key,
			 mpq_t out)
{
	char shown[GB_JSON_SHOW_BUF];
	size_t mark;
	int rc = gb_json_read_decimal(&c->j, val, key, out, "0.10");

	if (rc || mpq_cmp_ui(out, 1, 1) <= 0)
		return rc;
	mark = gb_json_path_key(&c->j, key);
	rc = gb_json_schema(&c->j, "a discount must be from 0 to 1 (a fraction: \"0.10\" takes 10%% off), got \"%s\"",
			    gb_json_show(shown, val->valuestring));
	gb_json_path_pop(&c->j, mark);
	return rc;
}

/* --- contracts: the pricing table ---------------------------------------- */

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Collect the reserved terms of the whole table, sorted and unique. */
static int table_terms(struct ctx *c)
{
	const gb_prices *p = c->prices;
	size_t i, j, k, n = 0, u;

	if (c->have_terms)
		return 0;
	for (i = 0; i < p->nversions; i++)
		for (j = 0; j < p->versions[i].ngpu_rates; j++)
			n += p->versions[i].gpu_rates[j].nreserved;
	if (n) {
		c->terms = gb_malloc(n * sizeof *c->terms);
		if (!c->terms)
			return gb_json_nomem(&c->j);
	}
	n = 0;
	for (i = 0; i < p->nversions; i++) {
		const gb_version *v = &p->versions[i];

		for (j = 0; j < v->ngpu_rates; j++)
			for (k = 0; k < v->gpu_rates[j].nreserved; k++)
				c->terms[n++] = v->gpu_rates[j].reserved[k].term;
	}
	if (n)
		qsort(c->terms, n, sizeof *c->terms, str_cmp);
	for (i = 0, u = 0; i < n; i++)
		if (u == 0 || strcmp(c->terms[u - 1], c->terms[i]) != 0)
			c->terms[u++] = c->terms[i];
	c->nterms = u;
	c->have_terms = 1;
	return 0;
}

/* The reservation's term is a key of "reserved" somewhere in the table. */
static int check_term(struct ctx *c, const gb_reservation *r)
{
	char shown[GB_JSON_SHOW_BUF], list[256];
	size_t mark;
	int rc = table_terms(c);

	if (rc)
		return rc;
	if (c->nterms && bsearch(&r->term, c->terms, c->nterms,
				 sizeof *c->terms, str_cmp))
		return 0;
	mark = gb_json_path_key(&c->j, "term");
	if (c->nterms == 0)
		rc = gb_json_schema(&c->j, "unknown term '%s' (the pricing table has no reserved prices; give the reservation its own \"rate\")",
				    gb_json_show(shown, r->term));
	else
		rc = gb_json_schema(&c->j, "unknown term '%s' (the table has %s)",
				    gb_json_show(shown, r->term),
				    gb_json_name_list(list, sizeof list,
						      c->terms, c->nterms));
	gb_json_path_pop(&c->j, mark);
	return rc;
}

/*
 * A reservation without its own rate is billed each hour at the table's
 * reserved[term] price for its sku and region in the version in effect:
 * every version its hours fall in must have that price, and a flat one
 * (a tier of "reserved hours" has no meaning: each hour is billed alike).
 */
static int check_table_price(struct ctx *c, const gb_reservation *r)
{
	const gb_prices *p = c->prices;
	char when[GB_TIME_TEXT_MAX], s1[GB_JSON_SHOW_BUF], s2[GB_JSON_SHOW_BUF];
	char s3[GB_JSON_SHOW_BUF];
	int64_t first = p->versions[0].effective_from;
	size_t i;
	int rc = check_term(c, r);

	if (rc)
		return rc;
	gb_json_show(s1, r->term);
	gb_json_show(s2, r->sku);
	gb_json_show(s3, r->region);
	if (r->end <= first) {
		gb_time_format(when, sizeof when, first);
		return gb_json_schema(&c->j, "the reservation overlaps no price version (the first takes effect at %s), so it has no reserved %s price; give it its own \"rate\"",
				      when, s1);
	}
	if (r->start < first) {
		gb_time_format(when, sizeof when, first);
		return gb_json_schema(&c->j, "the reservation starts before the first price version (from %s): its hours before then have no reserved %s price; give it its own \"rate\"",
				      when, s1);
	}
	for (i = (size_t)gb_prices_version_at(p, r->start);
	     i < p->nversions && p->versions[i].effective_from < r->end; i++) {
		const gb_version *v = &p->versions[i];
		const gb_gpu_rate *rate = gb_version_gpu_rate(v, r->sku, r->region);
		const gb_price *price = rate ? gb_gpu_rate_reserved(rate, r->term)
					     : NULL;

		gb_time_format(when, sizeof when, v->effective_from);
		if (!price)
			return gb_json_schema(&c->j, "no reserved %s price for %s in %s in the price version from %s (give the reservation its own \"rate\")",
					      s1, s2, s3, when);
		if (price->mode != GB_PRICE_FLAT)
			return gb_json_schema(&c->j, "tiered reserved prices are not supported: the reserved %s price for %s in %s in the price version from %s is tiered (give the reservation its own \"rate\")",
					      s1, s2, s3, when);
	}
	return 0;
}

/* --- contracts: reservations --------------------------------------------- */

static void reservation_clear(gb_reservation *r)
{
	gb_free(r->id);
	gb_free(r->sku);
	gb_free(r->region);
	gb_free(r->term);
	mpq_clear(r->rate);
}

static int read_region(struct ctx *c, const cJSON *val, char **out)
{
	size_t mark;
	int rc = gb_json_copy_string(&c->j, val, "region", out);

	if (rc || strcmp(*out, "*") != 0)
		return rc;
	mark = gb_json_path_key(&c->j, "region");
	rc = gb_json_schema(&c->j, "a reservation covers one exact region, not \"*\"");
	gb_json_path_pop(&c->j, mark);
	return rc;
}

/* The contract's own "rate": a flat price, never a tier object. */
static int read_rate(struct ctx *c, const cJSON *val, gb_reservation *r)
{
	size_t mark = gb_json_path_key(&c->j, "rate");
	int rc;

	if (cJSON_IsObject(val))
		return gb_json_schema(&c->j, "a reservation rate must be a plain price, a decimal string like \"1.50\" (reserved hours are not tiered)");
	rc = gb_json_decimal_here(&c->j, val, r->rate, "1.50");
	if (rc)
		return rc;
	r->has_rate = 1;
	gb_json_path_pop(&c->j, mark);
	return 0;
}

static int read_reservation(struct ctx *c, const cJSON *obj,
			    gb_reservation *r)
{
	static const char *const keys[] = {
		"id", "sku", "region", "gpus", "term", "start", "end", "rate",
		"description", "note"
	};
	const cJSON *v[10];
	char t1[GB_TIME_TEXT_MAX], t2[GB_TIME_TEXT_MAX];
	const char *text = NULL;
	int64_t gpus = 0;
	size_t i, mark;
	int rc;

	rc = gb_json_read_object(&c->j, obj, keys, v, 10);
	for (i = 0; !rc && i < 7; i++)
		rc = gb_json_require(&c->j, v[i], keys[i]);
	if (!rc)
		rc = read_id(c, v[0], "id", 0, &r->id);
	if (!rc)
		rc = gb_json_copy_string(&c->j, v[1], "sku", &r->sku);
	if (!rc)
		rc = read_region(c, v[2], &r->region);
	if (!rc)
		rc = gb_json_read_int(&c->j, v[3], "gpus", 1, MAX_GPUS, &gpus);
	r->gpus = (uint32_t)gpus;
	if (!rc)
		rc = gb_json_copy_string(&c->j, v[4], "term", &r->term);
	if (!rc)
		rc = gb_json_read_hour(&c->j, v[5], "start", &r->start);
	if (!rc)
		rc = gb_json_read_hour(&c->j, v[6], "end", &r->end);
	if (!rc && r->end <= r->start) {
		gb_time_format(t1, sizeof t1, r->end);
		gb_time_format(t2, sizeof t2, r->start);
		mark = gb_json_path_key(&c->j, "end");
		rc = gb_json_schema(&c->j, "end (%s) must be after start (%s)",
				    t1, t2);
		gb_json_path_pop(&c->j, mark);
	}
	if (!rc && v[7])
		rc = read_rate(c, v[7], r);
	if (!rc && v[8])
		rc = gb_json_read_string(&c->j, v[8], keys[8], 0, &text);
	if (!rc && v[9])
		rc = gb_json_read_string(&c->j, v[9], keys[9], 0, &text);
	if (!rc && !r->has_rate)
		rc = check_table_price(c, r);
	return rc;
}

static void reservation_init(void *elem)
{
	mpq_init(((gb_reservation *)elem)->rate);
}

static int reservation_elem(gb_json_ctx *j, void *c, const cJSON *e,
			    void *elem, size_t i)
{
	(void)j;
	(void)i;
	return read_reservation(c, e, elem);
}

static int read_reservations(struct ctx *c, const cJSON *arr, gb_contract *k)
{
	size_t mark = gb_json_path_key(&c->j, "reservations");
	int rc = gb_json_read_array(&c->j, arr, 0, sizeof *k->reservations,
				    (void **)&k->reservations, &k->nreservations,
				    reservation_init, reservation_elem, c);

	if (!rc)
		gb_json_path_pop(&c->j, mark);
	return rc;
}

/* --- contracts: credits -------------------------------------------------- */

static int read_credit(struct ctx *c, const cJSON *obj, gb_credit *cr)
{
	static const char *const keys[] = {
		"id", "amount", "description", "note"
	};
	const cJSON *v[4];
	const char *text = NULL;
	size_t mark;
	int rc;

	rc = gb_json_read_object(&c->j, obj, keys, v, 4);
	if (!rc)
		rc = gb_json_require(&c->j, v[0], "id");
	if (!rc)
		rc = gb_json_require(&c->j, v[1], "amount");
	if (!rc)
		rc = read_id(c, v[0], "id", 0, &cr->id);
	if (!rc)
		rc = gb_json_read_decimal(&c->j, v[1], "amount", cr->amount,
					  "500.00");
	if (!rc && mpq_sgn(cr->amount) == 0) {
		mark = gb_json_path_key(&c->j, "amount");
		rc = gb_json_schema(&c->j, "a credit amount must be greater than 0");
		gb_json_path_pop(&c->j, mark);
	}
	if (!rc && v[2])
		rc = gb_json_read_string(&c->j, v[2], keys[2], 0, &text);
	if (!rc && v[3])
		rc = gb_json_read_string(&c->j, v[3], keys[3], 0, &text);
	return rc;
}

/* Credit ids are unique within the customer: they name invoice lines. */
static int unique_credits(struct ctx *c, const gb_contract *k)
{
	char shown[GB_JSON_SHOW_BUF];
	size_t i, dup, first = 0;
	gb_json_keyed *key;

	if (k->ncredits < 2)
		return 0;
	key = gb_malloc(k->ncredits * sizeof *key);
	if (!key)
		return gb_json_nomem(&c->j);
	for (i = 0; i < k->ncredits; i++) {
		key[i].a = k->credits[i].id;
		key[i].b = "";
		key[i].t = 0;
		key[i].idx = i;
	}
	dup = gb_json_first_repeat(key, k->ncredits, &first);
	gb_free(key);
	if (dup == k->ncredits)
		return 0;
	gb_json_path_index(&c->j, dup);
	gb_json_path_key(&c->j, "id");
	return gb_json_schema(&c->j, "duplicate credit id '%s' (first given at credits[%zu])",
			      gb_json_show(shown, k->credits[dup].id), first);
}

static void credit_init(void *elem)
{
	mpq_init(((gb_credit *)elem)->amount);
}

static int credit_elem(gb_json_ctx *j, void *c, const cJSON *e, void *elem,
		       size_t i)
{
	(void)j;
	(void)i;
	return read_credit(c, e, elem);
}

static int read_credits(struct ctx *c, const cJSON *arr, gb_contract *k)
{
	size_t mark = gb_json_path_key(&c->j, "credits");
	int rc = gb_json_read_array(&c->j, arr, 0, sizeof *k->credits,
				    (void **)&k->credits, &k->ncredits,
				    credit_init, credit_elem, c);

	if (rc)
		return rc;
	rc = unique_credits(c, k);
	if (!rc)
		gb_json_path_pop(&c->j, mark);
	return rc;
}

/* --- contracts: customers ------------------------------------------------ */

static void contract_clear(gb_contract *k)
{
	size_t i;

	gb_free(k->customer);
	gb_free(k->name);
	for (i = 0; i < k->nreservations; i++)
		reservation_clear(&k->reservations[i]);
	gb_free(k->reservations);
	for (i = 0; i < GB_DISCOUNT__COUNT; i++)
		mpq_clear(k->discount[i]);
	mpq_clear(k->minimum_spend);
	for (i = 0; i < k->ncredits; i++) {
		gb_free(k->credits[i].id);
		mpq_clear(k->credits[i].amount);
	}
	gb_free(k->credits);
}

/* "discounts": {...}; the keys are in gb_discount_kind order. */
static int read_discounts(struct ctx *c, const cJSON *obj, gb_contract *k)
{
	static const char *const keys[GB_DISCOUNT__COUNT] = {
		"gpu_on_demand", "gpu_spot", "tokens"
	};
	const cJSON *v[GB_DISCOUNT__COUNT];
	size_t i, mark = gb_json_path_key(&c->j, "discounts");
	int rc;

	rc = gb_json_read_object(&c->j, obj, keys, v, GB_DISCOUNT__COUNT);
	for (i = 0; !rc && i < GB_DISCOUNT__COUNT; i++) {
		if (!v[i])
			continue;
		rc = read_fraction(c, v[i], keys[i], k->discount[i]);
		k->has_discount[i] = !rc;
	}
	if (!rc)
		gb_json_path_pop(&c->j, mark);
	return rc;
}

static int read_customer(struct ctx *c, const cJSON *obj, gb_contract *k)
{
	static const char *const keys[] = {
		"customer", "name", "description", "note", "reservations",
		"discounts", "minimum_spend", "credits"
	};
	const cJSON *v[8];
	const char *text = NULL;
	int rc;

	rc = gb_json_read_object(&c->j, obj, keys, v, 8);
	if (!rc)
		rc = gb_json_require(&c->j, v[0], "customer");
	if (!rc)
		rc = read_id(c, v[0], "customer", MAX_CUSTOMER, &k->customer);
	if (!rc && v[1])
		rc = gb_json_read_string(&c->j, v[1], "name", 0, &text);
	if (!rc && !(k->name = gb_strdup(v[1] ? text : "")))
		rc = gb_json_nomem(&c->j);
	if (!rc && v[2])
		rc = gb_json_read_string(&c->j, v[2], keys[2], 0, &text);
	if (!rc && v[3])
		rc = gb_json_read_string(&c->j, v[3], keys[3], 0, &text);
	if (!rc && v[4])
		rc = read_reservations(c, v[4], k);
	if (!rc && v[5])
		rc = read_discounts(c, v[5], k);
	if (!rc && v[6]) {
		rc = gb_json_read_decimal(&c->j, v[6], "minimum_spend",
					  k->minimum_spend, "10000.00");
		k->has_minimum = !rc;
	}
	if (!rc && v[7])
		rc = read_credits(c, v[7], k);
	return rc;
}

/*
 * Reservation ids are unique across the file: an invoice line names one,
 * and a reservation moved between customers by copy and paste should not
 * go unnoticed.  Run while the contracts are still in file order.
 */
static int unique_reservations(struct ctx *c, const gb_contracts *cs)
{
	char shown[GB_JSON_SHOW_BUF];
	size_t i, j, n = 0, dup, first = 0, ci = 0, ri = 0, fc = 0, fr = 0;
	gb_json_keyed *k;

	for (i = 0; i < cs->ncontracts; i++)
		n += cs->contracts[i].nreservations;
	if (n < 2)
		return 0;
	k = gb_malloc(n * sizeof *k);
	if (!k)
		return gb_json_nomem(&c->j);
	n = 0;
	for (i = 0; i < cs->ncontracts; i++) {
		for (j = 0; j < cs->contracts[i].nreservations; j++) {
			k[n].a = cs->contracts[i].reservations[j].id;
			k[n].b = "";
			k[n].t = 0;
			k[n].idx = n;
			n++;
		}
	}
	dup = gb_json_first_repeat(k, n, &first);
	gb_free(k);
	if (dup == n)
		return 0;
	/* Turn the two running numbers back into (customer, reservation). */
	for (i = 0, n = 0; i < cs->ncontracts; i++) {
		size_t nr = cs->contracts[i].nreservations;

		if (first >= n && first < n + nr) {
			fc = i;
			fr = first - n;
		}
		if (dup >= n && dup < n + nr) {
			ci = i;
			ri = dup - n;
		}
		n += nr;
	}
	gb_json_path_key(&c->j, "customers");
	gb_json_path_index(&c->j, ci);
	gb_json_path_key(&c->j, "reservations");
	gb_json_path_index(&c->j, ri);
	gb_json_path_key(&c->j, "id");
	gb_json_show(shown, cs->contracts[ci].reservations[ri].id);
	return gb_json_schema(&c->j, "duplicate reservation id '%s' (first given at customers[%zu].reservations[%zu])",
			      shown, fc, fr);
}

/*
 * Check customer ids are unique (a second block for a customer would
 * bill it twice or not at all), then reservation ids, then put the
 * contracts in customer order for gb_contracts_find.
 */
static int sort_contracts(struct ctx *c, gb_contracts *cs)
{
	size_t i, n = cs->ncontracts, dup, first = 0;
	char shown[GB_JSON_SHOW_BUF];
	gb_contract *sorted;
	gb_json_keyed *k;
	int rc;

	if (n == 0)
		return 0;
	k = gb_malloc(n * sizeof *k);
	if (!k)
		return gb_json_nomem(&c->j);
	for (i = 0; i < n; i++) {
		k[i].a = cs->contracts[i].customer;
		k[i].b = "";
		k[i].t = 0;
		k[i].idx = i;
	}
	dup = gb_json_first_repeat(k, n, &first);
	if (dup < n) {
		gb_free(k);
		gb_json_path_key(&c->j, "customers");
		gb_json_path_index(&c->j, dup);
		gb_json_path_key(&c->j, "customer");
		gb_json_show(shown, cs->contracts[dup].customer);
		return gb_json_schema(&c->j, "duplicate customer '%s' (first given at customers[%zu])",
				      shown, first);
	}
	rc = unique_reservations(c, cs);
	sorted = rc ? NULL : gb_malloc(n * sizeof *sorted);
	if (!sorted) {
		gb_free(k);
		return rc ? rc : gb_json_nomem(&c->j);
	}
	/* A struct copy moves the mpq_t: the old array is freed, not cleared. */
	for (i = 0; i < n; i++)
		sorted[i] = cs->contracts[k[i].idx];
	gb_free(k);
	gb_free(cs->contracts);
	cs->contracts = sorted;
	return 0;
}

static void contract_init(void *elem)
{
	gb_contract *k = elem;
	size_t j;

	for (j = 0; j < GB_DISCOUNT__COUNT; j++)
		mpq_init(k->discount[j]);
	mpq_init(k->minimum_spend);
}

static int contract_elem(gb_json_ctx *j, void *c, const cJSON *e, void *elem,
			 size_t i)
{
	(void)j;
	(void)i;
	return read_customer(c, e, elem);
}

static int read_customers(struct ctx *c, const cJSON *arr, gb_contracts *cs)
{
	size_t mark = gb_json_path_key(&c->j, "customers");
	int rc = gb_json_read_array(&c->j, arr, 0, sizeof *cs->contracts,
				    (void **)&cs->contracts, &cs->ncontracts,
				    contract_init, contract_elem, c);

	if (rc)
		return rc;
	gb_json_path_pop(&c->j, mark);
	return sort_contracts(c, cs);
}

/* --- contracts: the file ------------------------------------------------- */

/*
 * "format" is checked first, as in prices.c: handed a pricing table by
 * mistake, the useful message says so.
 */
static int check_format(struct ctx *c, const cJSON *root)
{
	const cJSON *f = cJSON_GetObjectItemCaseSensitive(root, "format");
	char shown[GB_JSON_SHOW_BUF];
	size_t mark;
	int rc = 0;

	if (!f)
		return gb_json_schema(&c->j, "missing required key 'format' (a contracts file starts with \"format\": \"" FORMAT_NAME "\")");
	mark = gb_json_path_key(&c->j, "format");
	if (!cJSON_IsString(f))
		rc = gb_json_schema(&c->j, "expected the string \"" FORMAT_NAME "\", got %s",
				    gb_json_type_name(f));
	else if (strcmp(f->valuestring, PRICES_FORMAT_NAME) == 0)
		rc = gb_json_schema(&c->j, "unsupported format \"" PRICES_FORMAT_NAME "\": this is a pricing table, not a contracts file (\"" FORMAT_NAME "\")");
	else if (strcmp(f->valuestring, FORMAT_NAME) != 0)
		rc = gb_json_schema(&c->j, "unsupported format \"%s\" (this version of gpubill reads \"" FORMAT_NAME "\")",
				    gb_json_show(shown, f->valuestring));
	if (!rc)
		gb_json_path_pop(&c->j, mark);
	return rc;
}

static int read_file(struct ctx *c, const cJSON *root, gb_contracts *cs)
{
	static const char *const keys[] = {
		"format", "description", "customers"
	};
	const cJSON *v[3];
	const char *text = NULL;
	int rc;

	rc = check_format(c, root);
	if (!rc)
		rc = gb_json_read_object(&c->j, root, keys, v, 3);
	if (!rc && v[1])
		rc = gb_json_read_string(&c->j, v[1], "description", 0, &text);
	if (!rc)
		rc = gb_json_require(&c->j, v[2], "customers");
	if (!rc)
		rc = read_customers(c, v[2], cs);
	return rc;
}

int gb_contracts_load(gb_contracts **out, const char *data, size_t len,
		      const char *source, const gb_prices *prices,
		      gb_error *err)
{
	struct ctx c = {
		.j = {
			.err = err, .source = source ? source : "",
			.kind = "a contracts file"
		},
		.prices = prices
	};
	cJSON *root = NULL;
	gb_contracts *cs;
	int rc;

	gb_error_clear(err);
	if (!out || (!data && len) || !prices || !prices->nversions)
		return gb_error_set(err, GB_EINVAL, "gb_contracts_load: no output, no data or no pricing table");
	*out = NULL;
	rc = gb_json_parse(&c.j, data ? data : "", len, &root);
	if (rc)
		return rc;
	cs = gb_calloc(1, sizeof *cs);
	if (!cs) {
		cJSON_Delete(root);
		return gb_json_nomem(&c.j);
	}
	cs->source = gb_strdup(c.j.source);
	rc = cs->source ? read_file(&c, root, cs) : gb_json_nomem(&c.j);
	cJSON_Delete(root);
	gb_free(c.terms);
	if (rc) {
		gb_contracts_free(cs);
		return rc;
	}
	*out = cs;
	return 0;
}

void gb_contracts_free(gb_contracts *contracts)
{
	size_t i;

	if (!contracts)
		return;
	for (i = 0; i < contracts->ncontracts; i++)
		contract_clear(&contracts->contracts[i]);
	gb_free(contracts->contracts);
	gb_free(contracts->source);
	gb_free(contracts);
}

size_t gb_contracts_count(const gb_contracts *contracts)
{
	return contracts ? contracts->ncontracts : 0;
}

/*
 * Compare customer[0..len) with the NUL-terminated s in strcmp's order
 * (bytes as unsigned char, a prefix first).
 */
static int customer_cmp(const char *customer, size_t len, const char *s)
{
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char a = (unsigned char)customer[i];
		unsigned char b = (unsigned char)s[i];

		if (b == '\0')
			return 1;
		if (a != b)
			return a < b ? -1 : 1;
	}
	return s[len] ? -1 : 0;
}

const gb_contract *gb_contracts_find(const gb_contracts *c,
				     const char *customer, size_t len)
{
	size_t lo = 0, hi;

	if (!c || (!customer && len))
		return NULL;
	hi = c->ncontracts;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int r = customer_cmp(customer, len, c->contracts[mid].customer);

		if (r == 0)
			return &c->contracts[mid];
		if (r < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}
