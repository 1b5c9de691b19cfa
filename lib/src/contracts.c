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
 *
 * Collect mode (gpubill validate, see json_load.h): as in prices.c, each
 * check that builds on an earlier value makes sure no problem was reported
 * while reading it, so that one mistake gives one finding; and without a
 * pricing table the reservations are not checked against one.
 */
#include "internal.h"
#include "contracts_internal.h"
#include "json_load.h"
#include "prices_internal.h"

#include <gpubill/money.h>
#include <gpubill/timestamp.h>
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FORMAT_NAME "gpubill-contracts/1"
#define PRICES_FORMAT_NAME "gpubill-pricing/1"

/* Longest customer id, as for usage records (gpubill-usage(5)). */
#define MAX_CUSTOMER 128

/* Most GPUs a reservation may hold, as for a usage record. */
#define MAX_GPUS 100000

/* Problems reported since mark (collect mode; 0 in normal mode). */
#define SINCE(c, mark) ((c)->j->nerrors - (mark))

struct ctx {
	gb_json_ctx *j;
	const gb_prices *prices;  /* NULL: no table to check against */
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
	char hint[64];
	size_t mark, n;
	const char *s;
	int rc = 0;

	if (gb_json_collecting(c->j) && !val)
		return 0;	/* missing: already reported */
	mark = gb_json_path_key(c->j, key);
	if (!cJSON_IsString(val)) {
		rc = gb_json_report(c->j, "wrong_type", NULL,
				    "write it in double quotes: \"...\"",
				    "expected a string, got %s",
				    gb_json_type_name(val));
		goto reported;
	}
	s = val->valuestring;
	n = strlen(s);
	if (n == 0) {
		rc = gb_json_report(c->j, "empty", NULL, NULL, "must not be empty");
		goto reported;
	}
	if (max && n > max) {
		snprintf(hint, sizeof hint, "shorten it to %zu bytes or less", max);
		rc = gb_json_report(c->j, "invalid_value", NULL, hint,
				    "must be at most %zu bytes long, got %zu",
				    max, n);
		goto reported;
	}
	for (; *s; s++) {
		if ((unsigned char)*s < 0x20 || *s == 0x7f) {
			rc = gb_json_report(c->j, "invalid_value", NULL,
					    "remove the tabs, line breaks or other control characters",
					    "must not contain control characters");
			goto reported;
		}
	}
	*out = gb_strdup(val->valuestring);
	if (!*out)
		return gb_json_nomem(c->j);
	gb_json_path_pop(c->j, mark);
	return 0;
reported:
	if (!rc)
		gb_json_path_pop(c->j, mark);	/* collect mode goes on */
	return rc;
}

/* A discount member: a decimal string from 0 to 1. */
static int read_fraction(struct ctx *c, const cJSON *val, const char *key,
			 mpq_t out)
{
	char shown[GB_JSON_SHOW_BUF];
	size_t mark, errors = c->j->nerrors;
	int rc = gb_json_read_decimal(c->j, val, key, out, "0.10");

	if (rc || SINCE(c, errors) || mpq_cmp_ui(out, 1, 1) <= 0)
		return rc;
	mark = gb_json_path_key(c->j, key);
	rc = gb_json_report(c->j, "out_of_range", NULL,
			    "write a fraction: \"0.10\" takes 10% off",
			    "a discount must be from 0 to 1 (a fraction: \"0.10\" takes 10%% off), got \"%s\"",
			    gb_json_show(shown, val->valuestring));
	gb_json_path_pop(c->j, mark);
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
			return gb_json_nomem(c->j);
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
	char shown[GB_JSON_SHOW_BUF], list[256], note[300], hint[360];
	size_t mark;
	int rc = table_terms(c);

	if (rc)
		return rc;
	if (c->nterms && bsearch(&r->term, c->terms, c->nterms,
				 sizeof *c->terms, str_cmp))
		return 0;
	mark = gb_json_path_key(c->j, "term");
	if (c->nterms == 0) {
		rc = gb_json_report(c->j, "unknown_term",
				    "the pricing table has no reserved prices; give the reservation its own \"rate\"",
				    NULL, "unknown term '%s'",
				    gb_json_show(shown, r->term));
	} else {
		gb_json_name_list(list, sizeof list, c->terms, c->nterms);
		snprintf(note, sizeof note, "the table has %s", list);
		snprintf(hint, sizeof hint, "use a term of the table (%s), or give the reservation its own \"rate\"",
			 list);
		rc = gb_json_report(c->j, "unknown_term", note, hint,
				    "unknown term '%s'",
				    gb_json_show(shown, r->term));
	}
	gb_json_path_pop(c->j, mark);
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
	size_t i, errors = c->j->nerrors;
	int rc = check_term(c, r);

	if (rc || SINCE(c, errors))
		return rc;	/* an unknown term has no price anywhere */
	gb_json_show(s1, r->term);
	gb_json_show(s2, r->sku);
	gb_json_show(s3, r->region);
	if (r->end <= first) {
		gb_time_format(when, sizeof when, first);
		return gb_json_report(c->j, "no_reserved_price", NULL,
				      "give the reservation its own \"rate\", or move it into the table's versions",
				      "the reservation overlaps no price version (the first takes effect at %s), so it has no reserved %s price; give it its own \"rate\"",
				      when, s1);
	}
	if (r->start < first) {
		gb_time_format(when, sizeof when, first);
		return gb_json_report(c->j, "no_reserved_price", NULL,
				      "give the reservation its own \"rate\", or start it when the table does",
				      "the reservation starts before the first price version (from %s): its hours before then have no reserved %s price; give it its own \"rate\"",
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
			return gb_json_report(c->j, "no_reserved_price",
					      "give the reservation its own \"rate\"",
					      NULL,
					      "no reserved %s price for %s in %s in the price version from %s",
					      s1, s2, s3, when);
		if (price->mode != GB_PRICE_FLAT)
			return gb_json_report(c->j, "tiered_reserved_price",
					      "give the reservation its own \"rate\"",
					      NULL,
					      "tiered reserved prices are not supported: the reserved %s price for %s in %s in the price version from %s is tiered",
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
	int rc = gb_json_copy_string(c->j, val, "region", out);

	if (rc || !*out || strcmp(*out, "*") != 0)
		return rc;
	mark = gb_json_path_key(c->j, "region");
	rc = gb_json_report(c->j, "invalid_value", NULL,
			    "name the region it is in, like \"us-east\" (one reservation per region)",
			    "a reservation covers one exact region, not \"*\"");
	gb_json_path_pop(c->j, mark);
	return rc;
}

/* The contract's own "rate": a flat price, never a tier object. */
static int read_rate(struct ctx *c, const cJSON *val, gb_reservation *r)
{
	size_t mark = gb_json_path_key(c->j, "rate");
	int rc;

	r->has_rate = 1;	/* as far as a table check goes */
	if (cJSON_IsObject(val)) {
		rc = gb_json_report(c->j, "wrong_type",
				    "reserved hours are not tiered",
				    "write one price per GPU-hour, like \"1.50\"",
				    "a reservation rate must be a plain price, a decimal string like \"1.50\"");
		if (!rc)
			gb_json_path_pop(c->j, mark);
		return rc;
	}
	rc = gb_json_decimal_here(c->j, val, r->rate, "1.50");
	if (rc)
		return rc;
	gb_json_path_pop(c->j, mark);
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
	size_t i, mark, errors, times;
	int rc;

	rc = gb_json_read_object(c->j, obj, keys, v, 10);
	for (i = 0; !rc && i < 7; i++)
		rc = gb_json_require(c->j, v[i], keys[i]);
	if (!rc)
		rc = read_id(c, v[0], "id", 0, &r->id);
	errors = c->j->nerrors;
	if (!rc)
		rc = gb_json_copy_string(c->j, v[1], "sku", &r->sku);
	if (!rc)
		rc = read_region(c, v[2], &r->region);
	if (!rc)
		rc = gb_json_read_int(c->j, v[3], "gpus", 1, MAX_GPUS, &gpus);
	r->gpus = (uint32_t)gpus;
	if (!rc)
		rc = gb_json_copy_string(c->j, v[4], "term", &r->term);
	times = c->j->nerrors;
	if (!rc)
		rc = gb_json_read_hour(c->j, v[5], "start", &r->start);
	if (!rc)
		rc = gb_json_read_hour(c->j, v[6], "end", &r->end);
	if (!rc && r->end <= r->start && !SINCE(c, times)) {
		gb_time_format(t1, sizeof t1, r->end);
		gb_time_format(t2, sizeof t2, r->start);
		mark = gb_json_path_key(c->j, "end");
		rc = gb_json_report(c->j, "end_before_start", NULL,
				    "the end is not included: a reservation of the hour from 00:00 ends at 01:00",
				    "end (%s) must be after start (%s)", t1, t2);
		gb_json_path_pop(c->j, mark);
	}
	if (!rc && v[7])
		rc = read_rate(c, v[7], r);
	if (!rc && v[8])
		rc = gb_json_read_string(c->j, v[8], keys[8], 0, &text);
	if (!rc && v[9])
		rc = gb_json_read_string(c->j, v[9], keys[9], 0, &text);
	/* Checked against the table only when what it needs was read. */
	if (!rc && !r->has_rate && c->prices && !SINCE(c, errors))
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
	size_t mark = gb_json_path_key(c->j, "reservations");
	int rc = gb_json_read_array(c->j, arr, 0, sizeof *k->reservations,
				    (void **)&k->reservations, &k->nreservations,
				    reservation_init, reservation_elem, c);

	if (!rc)
		gb_json_path_pop(c->j, mark);
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
	size_t mark, errors;
	int rc;

	rc = gb_json_read_object(c->j, obj, keys, v, 4);
	if (!rc)
		rc = gb_json_require(c->j, v[0], "id");
	if (!rc)
		rc = gb_json_require(c->j, v[1], "amount");
	if (!rc)
		rc = read_id(c, v[0], "id", 0, &cr->id);
	errors = c->j->nerrors;
	if (!rc)
		rc = gb_json_read_decimal(c->j, v[1], "amount", cr->amount,
					  "500.00");
	if (!rc && mpq_sgn(cr->amount) == 0 && v[1] && !SINCE(c, errors)) {
		mark = gb_json_path_key(c->j, "amount");
		rc = gb_json_report(c->j, "out_of_range", NULL,
				    "give an amount above 0, or remove the credit",
				    "a credit amount must be greater than 0");
		gb_json_path_pop(c->j, mark);
	}
	if (!rc && v[2])
		rc = gb_json_read_string(c->j, v[2], keys[2], 0, &text);
	if (!rc && v[3])
		rc = gb_json_read_string(c->j, v[3], keys[3], 0, &text);
	return rc;
}

/*
 * The first entry with the same key, for each of n keyed entries (see
 * gb_json_find_repeats); NULL on allocation failure (reported).
 */
static size_t *repeats(struct ctx *c, gb_json_keyed *key, size_t n)
{
	size_t *first = gb_malloc(n * sizeof *first);

	if (!first)
		gb_json_nomem(c->j);
	else
		gb_json_find_repeats(key, n, first);
	gb_free(key);
	return first;
}

/* Credit ids are unique within the customer: they name invoice lines. */
static int unique_credits(struct ctx *c, const gb_contract *k)
{
	char shown[GB_JSON_SHOW_BUF], note[64], hint[96];
	size_t i, *first, mark = c->j->len;
	gb_json_keyed *key;
	int rc = 0;

	if (k->ncredits < 2)
		return 0;
	key = gb_malloc(k->ncredits * sizeof *key);
	if (!key)
		return gb_json_nomem(c->j);
	for (i = 0; i < k->ncredits; i++) {
		key[i].a = k->credits[i].id;
		key[i].b = "";
		key[i].t = 0;
		key[i].idx = i;
	}
	first = repeats(c, key, k->ncredits);
	if (!first)
		return GB_ENOMEM;
	for (i = 0; i < k->ncredits && !rc; i++) {
		if (first[i] == i)
			continue;
		snprintf(note, sizeof note, "first given at credits[%zu]",
			 first[i]);
		snprintf(hint, sizeof hint, "give each credit its own id (credits[%zu] has it)",
			 first[i]);
		gb_json_path_index(c->j, i);
		gb_json_path_key(c->j, "id");
		rc = gb_json_report(c->j, "duplicate_entry", note, hint,
				    "duplicate credit id '%s'",
				    gb_json_show(shown, k->credits[i].id));
		if (!rc)
			gb_json_path_pop(c->j, mark);
	}
	gb_free(first);
	return rc;
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
	size_t mark = gb_json_path_key(c->j, "credits");
	int rc = gb_json_read_array(c->j, arr, 0, sizeof *k->credits,
				    (void **)&k->credits, &k->ncredits,
				    credit_init, credit_elem, c);

	if (rc)
		return rc;
	rc = unique_credits(c, k);
	if (!rc)
		gb_json_path_pop(c->j, mark);
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
	size_t i, mark = gb_json_path_key(c->j, "discounts");
	int rc;

	rc = gb_json_recover(c->j, gb_json_read_object(c->j, obj, keys, v,
						       GB_DISCOUNT__COUNT),
			     mark);
	for (i = 0; !rc && i < GB_DISCOUNT__COUNT; i++) {
		if (!v[i])
			continue;
		rc = read_fraction(c, v[i], keys[i], k->discount[i]);
		k->has_discount[i] = !rc;
	}
	if (!rc)
		gb_json_path_pop(c->j, mark);
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

	rc = gb_json_read_object(c->j, obj, keys, v, 8);
	if (!rc)
		rc = gb_json_require(c->j, v[0], "customer");
	if (!rc)
		rc = read_id(c, v[0], "customer", MAX_CUSTOMER, &k->customer);
	if (!rc && v[1])
		rc = gb_json_read_string(c->j, v[1], "name", 0, &text);
	if (!rc && !(k->name = gb_strdup(v[1] && text ? text : "")))
		rc = gb_json_nomem(c->j);
	if (!rc && v[2])
		rc = gb_json_read_string(c->j, v[2], keys[2], 0, &text);
	if (!rc && v[3])
		rc = gb_json_read_string(c->j, v[3], keys[3], 0, &text);
	if (!rc && v[4])
		rc = read_reservations(c, v[4], k);
	if (!rc && v[5])
		rc = read_discounts(c, v[5], k);
	if (!rc && v[6]) {
		rc = gb_json_read_decimal(c->j, v[6], "minimum_spend",
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
	char shown[GB_JSON_SHOW_BUF], note[96], hint[160];
	size_t i, j, n = 0, *first, fc, fr, mark = c->j->len;
	gb_json_keyed *k;
	int rc = 0;

	for (i = 0; i < cs->ncontracts; i++)
		n += cs->contracts[i].nreservations;
	if (n < 2)
		return 0;
	k = gb_malloc(n * sizeof *k);
	if (!k)
		return gb_json_nomem(c->j);
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
	first = repeats(c, k, n);
	if (!first)
		return GB_ENOMEM;
	/* In file order; running number n back to (customer, reservation). */
	n = 0;
	for (i = 0; i < cs->ncontracts && !rc; i++) {
		for (j = 0; j < cs->contracts[i].nreservations && !rc; j++, n++) {
			if (first[n] == n)
				continue;
			for (fc = 0, fr = first[n];
			     fr >= cs->contracts[fc].nreservations; fc++)
				fr -= cs->contracts[fc].nreservations;
			snprintf(note, sizeof note, "first given at customers[%zu].reservations[%zu]",
				 fc, fr);
			snprintf(hint, sizeof hint, "give each reservation its own id (customers[%zu].reservations[%zu] has it)",
				 fc, fr);
			gb_json_path_key(c->j, "customers");
			gb_json_path_index(c->j, i);
			gb_json_path_key(c->j, "reservations");
			gb_json_path_index(c->j, j);
			gb_json_path_key(c->j, "id");
			gb_json_show(shown, cs->contracts[i].reservations[j].id);
			rc = gb_json_report(c->j, "duplicate_entry", note, hint,
					    "duplicate reservation id '%s'",
					    shown);
			if (!rc)
				gb_json_path_pop(c->j, mark);
		}
	}
	gb_free(first);
	return rc;
}

/*
 * Check customer ids are unique (a second block for a customer would
 * bill it twice or not at all), then reservation ids, then put the
 * contracts in customer order for gb_contracts_find.
 */
static int sort_contracts(struct ctx *c, gb_contracts *cs)
{
	size_t i, n = cs->ncontracts, *first, mark = c->j->len;
	char shown[GB_JSON_SHOW_BUF], note[64], hint[128];
	gb_json_keyed *k;
	int rc = 0;

	if (n == 0)
		return 0;
	k = gb_malloc(n * sizeof *k);
	first = gb_malloc(n * sizeof *first);
	if (!k || !first) {
		gb_free(k);
		gb_free(first);
		return gb_json_nomem(c->j);
	}
	for (i = 0; i < n; i++) {
		k[i].a = cs->contracts[i].customer;
		k[i].b = "";
		k[i].t = 0;
		k[i].idx = i;
	}
	gb_json_find_repeats(k, n, first);
	for (i = 0; i < n && !rc; i++) {
		if (first[i] == i)
			continue;
		snprintf(note, sizeof note, "first given at customers[%zu]",
			 first[i]);
		snprintf(hint, sizeof hint, "merge it into customers[%zu]: one block per customer",
			 first[i]);
		gb_json_path_key(c->j, "customers");
		gb_json_path_index(c->j, i);
		gb_json_path_key(c->j, "customer");
		gb_json_show(shown, cs->contracts[i].customer);
		rc = gb_json_report(c->j, "duplicate_entry", note, hint,
				    "duplicate customer '%s'", shown);
		if (!rc)
			gb_json_path_pop(c->j, mark);
	}
	gb_free(first);
	if (!rc)
		rc = unique_reservations(c, cs);
	if (!rc && gb_json_permute((void **)&cs->contracts, n,
				   sizeof *cs->contracts, k) == 0)
		return 0;
	gb_free(k);
	return rc ? rc : gb_json_nomem(c->j);
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
	size_t mark = gb_json_path_key(c->j, "customers");
	int rc = gb_json_read_array(c->j, arr, 0, sizeof *cs->contracts,
				    (void **)&cs->contracts, &cs->ncontracts,
				    contract_init, contract_elem, c);

	if (rc)
		return rc;
	gb_json_path_pop(c->j, mark);
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
		return gb_json_report(c->j, "missing_key",
				      "a contracts file starts with \"format\": \"" FORMAT_NAME "\"",
				      NULL, "missing required key 'format'");
	mark = gb_json_path_key(c->j, "format");
	if (!cJSON_IsString(f)) {
		rc = gb_json_report(c->j, "bad_format", NULL,
				    "write \"format\": \"" FORMAT_NAME "\"",
				    "expected the string \"" FORMAT_NAME "\", got %s",
				    gb_json_type_name(f));
	} else if (strcmp(f->valuestring, PRICES_FORMAT_NAME) == 0) {
		rc = gb_json_report(c->j, "bad_format", NULL,
				    "this file is a pricing table; a contracts file starts with \"format\": \"" FORMAT_NAME "\"",
				    "unsupported format \"" PRICES_FORMAT_NAME "\": this is a pricing table, not a contracts file (\"" FORMAT_NAME "\")");
		if (!rc)
			rc = GB_ESCHEMA;	/* some other file: stop */
	} else if (strcmp(f->valuestring, FORMAT_NAME) != 0) {
		rc = gb_json_report(c->j, "bad_format",
				    "this version of gpubill reads \"" FORMAT_NAME "\"",
				    NULL, "unsupported format \"%s\"",
				    gb_json_show(shown, f->valuestring));
		if (!rc)
			rc = GB_ESCHEMA;
	}
	if (!rc)
		gb_json_path_pop(c->j, mark);
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
		rc = gb_json_read_object(c->j, root, keys, v, 3);
	if (!rc && v[1])
		rc = gb_json_read_string(c->j, v[1], "description", 0, &text);
	if (!rc)
		rc = gb_json_require(c->j, v[2], "customers");
	if (!rc)
		rc = read_customers(c, v[2], cs);
	return rc;
}

int gb_contracts_load_ctx(gb_json_ctx *j, const char *data, size_t len,
			  const gb_prices *prices, gb_contracts **out)
{
	struct ctx c = { .j = j, .prices = prices };
	cJSON *root = NULL;
	gb_contracts *cs;
	int rc;

	if (!out || (!data && len))
		return gb_error_set(j->err, GB_EINVAL, "gb_contracts_load: no output, no data or no pricing table");
	*out = NULL;
	if (prices && !prices->nversions)
		c.prices = NULL;
	rc = gb_json_parse(j, data ? data : "", len, &root);
	if (rc)
		return rc;
	cs = gb_calloc(1, sizeof *cs);
	if (!cs) {
		cJSON_Delete(root);
		return gb_json_nomem(j);
	}
	cs->source = gb_strdup(j->source);
	rc = cs->source ? read_file(&c, root, cs) : gb_json_nomem(j);
	cJSON_Delete(root);
	gb_free(c.terms);
	/* Collect mode: a GB_ESCHEMA was reported; the file is what it is. */
	if (gb_json_collecting(j) && rc == GB_ESCHEMA)
		rc = 0;
	if (rc) {
		gb_contracts_free(cs);
		return rc;
	}
	*out = cs;
	return 0;
}

int gb_contracts_load(gb_contracts **out, const char *data, size_t len,
		      const char *source, const gb_prices *prices,
		      gb_error *err)
{
	gb_json_ctx j = {
		.err = err, .source = source ? source : "",
		.kind = "a contracts file"
	};

	gb_error_clear(err);
	if (!out || (!data && len) || !prices || !prices->nversions)
		return gb_error_set(err, GB_EINVAL, "gb_contracts_load: no output, no data or no pricing table");
	return gb_contracts_load_ctx(&j, data, len, prices, out);
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
