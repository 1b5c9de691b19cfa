/*
 * test_contracts.c - the contracts loader: the example file against the
 * default pricing table, lookups, and one test per class of error (code,
 * JSON path and message).
 *
 * JSON in this file is written with single quotes for readability; load()
 * turns them into double quotes before parsing.
 */
#include <check.h>
#include <gmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gpubill/contracts.h>
#include <gpubill/prices.h>
#include "contracts_internal.h"
#include "prices_internal.h"
#include "test_data.h"

/* Checked with date -u -d ... +%s. */
#define T_2026_01_01 INT64_C(1767225600)
#define T_2026_03_01 INT64_C(1772323200)
#define T_2026_07_01 INT64_C(1782864000)
#define T_2027_01_01 INT64_C(1798761600)
#define T_2029_03_01 INT64_C(1867017600)
#define T_2029_07_01 INT64_C(1877558400)

/*
 * A small pricing table for the cross-checks: the second version drops
 * the 1y term for H100-SXM, gives us-east an exact rate without reserved
 * prices (so the "*" reserved prices do not apply there) and tiers the
 * L40S 1y price.
 */
static const char small_table[] =
	"{'format': 'gpubill-pricing/1', 'name': 'small', 'currency': 'USD',"
	" 'versions': ["
	"  {'effective_from': '2026-01-01T00:00:00Z', 'gpu': {'rates': ["
	"    {'sku': 'H100-SXM', 'region': '*', 'on_demand': '2.50',"
	"     'reserved': {'1y': '1.625', '3y': '1.20'}},"
	"    {'sku': 'L40S', 'region': '*', 'on_demand': '0.99',"
	"     'reserved': {'1y': '0.65'}}]}},"
	"  {'effective_from': '2026-10-15T00:00:00Z', 'gpu': {'rates': ["
	"    {'sku': 'H100-SXM', 'region': '*', 'on_demand': '2.20',"
	"     'reserved': {'3y': '1.10'}},"
	"    {'sku': 'H100-SXM', 'region': 'us-east', 'on_demand': '2.10'},"
	"    {'sku': 'L40S', 'region': '*', 'on_demand': '0.99',"
	"     'reserved': {'1y': {'mode': 'volume', 'tiers': ["
	"       {'up_to': '1000', 'price': '0.65'},"
	"       {'up_to': null, 'price': '0.60'}]}}}]}}]}";

/* Contracts documents around one customer or one reservation. */
#define HEAD "{'format': 'gpubill-contracts/1', 'customers': ["
#define CUSTOMER(body) HEAD "{'customer': 'acme', " body "}]}"
#define RESV(sku, region, gpus, term, start, end, more)                    \
	CUSTOMER("'reservations': [{'id': 'r1', 'sku': '" sku "', "           \
		 "'region': " region ", 'gpus': " gpus ", 'term': " term ", " \
		 "'start': " start ", 'end': " end more "}]")
/* A reservation of the default table: vary one field at a time. */
#define R_REGION(v) RESV("H100-SXM", v, "8", "'1y'", "'2026-01-01T00:00:00Z'", "'2027-01-01T00:00:00Z'", "")
#define R_GPUS(v) RESV("H100-SXM", "'us-east'", v, "'1y'", "'2026-01-01T00:00:00Z'", "'2027-01-01T00:00:00Z'", "")
#define R_TIMES(s, e) RESV("H100-SXM", "'us-east'", "8", "'1y'", s, e, "")
#define R_SMALL(sku, term, s, e) RESV(sku, "'us-east'", "8", term, s, e, "")
#define R_MORE(more) RESV("H100-SXM", "'us-east'", "8", "'1y'", "'2026-01-01T00:00:00Z'", "'2027-01-01T00:00:00Z'", ", " more)
#define RES0 "customers[0].reservations[0]"

static gb_prices *default_table;
static gb_prices *small;

/* --- helpers ------------------------------------------------------------- */

static char *dq(const char *json)
{
	size_t n = strlen(json) + 1;
	char *s = malloc(n), *p;

	ck_assert_ptr_nonnull(s);
	memcpy(s, json, n);
	for (p = s; *p; p++)
		if (*p == '\'')
			*p = '"';
	return s;
}

/* Unchecked fixture: the tables are loaded once per test case. */
static void tables_setup(void)
{
	gb_error err;
	size_t len;
	char *data = slurp("../../pricing-tables/default.json", &len);
	char *s = dq(small_table);

	if (gb_prices_load(&default_table, data, len, "default.json", &err) ||
	    gb_prices_load(&small, s, strlen(s), "small.json", &err)) {
		fprintf(stderr, "%s: %s: %s\n", err.source, err.path,
			err.message);
		abort();
	}
	free(data);
	free(s);
}

static void tables_teardown(void)
{
	gb_prices_free(default_table);
	gb_prices_free(small);
	default_table = small = NULL;
}

static int load_with(gb_contracts **out, const char *json,
		     const gb_prices *table, gb_error *err)
{
	char *s = dq(json);
	int rc = gb_contracts_load(out, s, strlen(s), "test.json", table, err);

	free(s);
	return rc;
}

static gb_contracts *load_ok(const char *json, const gb_prices *table)
{
	gb_contracts *c = NULL;
	gb_error err;
	int rc = load_with(&c, json, table, &err);

	ck_assert_msg(rc == 0, "load failed: %s: %s", err.path, err.message);
	ck_assert_ptr_nonnull(c);
	return c;
}

static void check_err(int rc, gb_contracts *c, const gb_error *err, int code,
		      const char *path, const char *msg)
{
	ck_assert_int_eq(rc, code);
	ck_assert_ptr_null(c);
	ck_assert_int_eq(err->code, code);
	ck_assert_str_eq(err->source, "test.json");
	ck_assert_str_eq(err->path, path);
	ck_assert_msg(strstr(err->message, msg) != NULL,
		      "message \"%s\" lacks \"%s\"", err->message, msg);
}

static void expect_err_with(const char *json, const gb_prices *table,
			    const char *path, const char *msg)
{
	gb_contracts *c = (gb_contracts *)1;
	gb_error err;
	int rc = load_with(&c, json, table, &err);

	check_err(rc, c, &err, GB_ESCHEMA, path, msg);
}

/* A schema error against the default table. */
static void expect_schema(const char *json, const char *path, const char *msg)
{
	expect_err_with(json, default_table, path, msg);
}

/* A syntax error at line:column (no JSON path). */
static void expect_syntax_n(const char *data, size_t len, uint64_t line,
			    uint64_t column, const char *msg)
{
	gb_contracts *c = (gb_contracts *)1;
	gb_error err;
	int rc = gb_contracts_load(&c, data, len, "test.json", default_table,
				   &err);

	check_err(rc, c, &err, GB_ESYNTAX, "", msg);
	ck_assert_uint_eq(err.line, line);
	ck_assert_uint_eq(err.column, column);
}

static void expect_syntax(const char *json, uint64_t line, uint64_t column,
			  const char *msg)
{
	char *s = dq(json);

	expect_syntax_n(s, strlen(s), line, column, msg);
	free(s);
}

static int q_is(const mpq_t q, const char *fraction)
{
	mpq_t want;
	int eq;

	mpq_init(want);
	ck_assert_int_eq(mpq_set_str(want, fraction, 10), 0);
	mpq_canonicalize(want);
	eq = mpq_equal(q, want);
	mpq_clear(want);
	return eq;
}

static const gb_contract *find(const gb_contracts *c, const char *customer)
{
	return gb_contracts_find(c, customer, strlen(customer));
}

/* --- the example file ---------------------------------------------------- */

START_TEST(test_example_file)
{
	gb_contracts *c = NULL;
	const gb_contract *k;
	const gb_reservation *r;
	gb_error err;
	size_t len;
	char *data = slurp("contracts/example.json", &len);
	int rc = gb_contracts_load(&c, data, len, "contracts/example.json",
				   default_table, &err);

	free(data);
	ck_assert_msg(rc == 0, "%s: %s", err.path, err.message);
	ck_assert_str_eq(c->source, "contracts/example.json");
	ck_assert_uint_eq(gb_contracts_count(c), 3);
	/* Sorted by customer, whatever the file order. */
	ck_assert_str_eq(c->contracts[0].customer, "acme");
	ck_assert_str_eq(c->contracts[1].customer, "globex");
	ck_assert_str_eq(c->contracts[2].customer, "initech");

	k = find(c, "acme");
	ck_assert_ptr_eq(k, &c->contracts[0]);
	ck_assert_str_eq(k->name, "Acme Corp");
	ck_assert_uint_eq(k->nreservations, 2);
	r = &k->reservations[0];
	ck_assert_str_eq(r->id, "acme-h100-2026");
	ck_assert_str_eq(r->sku, "H100-SXM");
	ck_assert_str_eq(r->region, "us-east");
	ck_assert_uint_eq(r->gpus, 8);
	ck_assert_str_eq(r->term, "1y");
	ck_assert_int_eq(r->start, T_2026_01_01);
	ck_assert_int_eq(r->end, T_2027_01_01);
	ck_assert_int_eq(r->has_rate, 0);
	ck_assert_int_eq(mpq_sgn(r->rate), 0);
	r = &k->reservations[1];
	ck_assert_str_eq(r->id, "acme-h200-3y");
	ck_assert_str_eq(r->sku, "H200");
	ck_assert_str_eq(r->region, "us-east");
	ck_assert_uint_eq(r->gpus, 16);
	ck_assert_str_eq(r->term, "3y");
	ck_assert_int_eq(r->start, T_2026_03_01);
	ck_assert_int_eq(r->end, T_2029_03_01);
	ck_assert_int_eq(r->has_rate, 1);
	ck_assert(q_is(r->rate, "623/400"));	/* 1.5575 */
	ck_assert_int_eq(k->has_discount[GB_DISCOUNT_GPU_ON_DEMAND], 1);
	ck_assert(q_is(k->discount[GB_DISCOUNT_GPU_ON_DEMAND], "1/10"));
	ck_assert_int_eq(k->has_discount[GB_DISCOUNT_GPU_SPOT], 0);
	ck_assert_int_eq(mpq_sgn(k->discount[GB_DISCOUNT_GPU_SPOT]), 0);
	ck_assert_int_eq(k->has_discount[GB_DISCOUNT_TOKENS], 1);
	ck_assert(q_is(k->discount[GB_DISCOUNT_TOKENS], "1/20"));
	ck_assert_int_eq(k->has_minimum, 1);
	ck_assert(q_is(k->minimum_spend, "25000"));
	ck_assert_uint_eq(k->ncredits, 2);
	ck_assert_str_eq(k->credits[0].id, "promo-2026");
	ck_assert(q_is(k->credits[0].amount, "500"));
	ck_assert_str_eq(k->credits[1].id, "sla-2026-02");
	ck_assert(q_is(k->credits[1].amount, "549/4"));	/* 137.25 */

	k = find(c, "globex");
	ck_assert_ptr_eq(k, &c->contracts[1]);
	ck_assert_str_eq(k->name, "Globex Corporation");
	ck_assert_uint_eq(k->nreservations, 0);
	ck_assert_ptr_null(k->reservations);
	ck_assert_int_eq(k->has_discount[GB_DISCOUNT_GPU_ON_DEMAND] |
			 k->has_discount[GB_DISCOUNT_GPU_SPOT] |
			 k->has_discount[GB_DISCOUNT_TOKENS], 0);
	ck_assert_int_eq(k->has_minimum, 1);
	ck_assert(q_is(k->minimum_spend, "5000"));
	ck_assert_uint_eq(k->ncredits, 1);
	ck_assert_str_eq(k->credits[0].id, "welcome");
	ck_assert(q_is(k->credits[0].amount, "1000"));

	k = find(c, "initech");
	ck_assert_ptr_eq(k, &c->contracts[2]);
	ck_assert_uint_eq(k->nreservations, 1);
	r = &k->reservations[0];
	ck_assert_str_eq(r->id, "initech-a100");
	ck_assert_str_eq(r->region, "us-west");
	ck_assert_uint_eq(r->gpus, 32);
	ck_assert_int_eq(r->start, T_2026_07_01);
	ck_assert_int_eq(r->end, T_2029_07_01);
	ck_assert_int_eq(k->has_discount[GB_DISCOUNT_GPU_SPOT], 1);
	ck_assert(q_is(k->discount[GB_DISCOUNT_GPU_SPOT], "3/20"));
	ck_assert_int_eq(k->has_minimum, 0);
	ck_assert_uint_eq(k->ncredits, 0);
	ck_assert_ptr_null(k->credits);
	gb_contracts_free(c);
}
END_TEST

START_TEST(test_find)
{
	gb_contracts *c = load_ok(HEAD
		"{'customer': 'm'}, {'customer': 'b'}, {'customer': 'z'},"
		"{'customer': 'ba'}, {'customer': 'B'}, {'customer': 'a b'}]}",
		default_table);
	static const char *const order[] = { "B", "a b", "b", "ba", "m", "z" };
	size_t i;

	ck_assert_uint_eq(gb_contracts_count(c), 6);
	for (i = 0; i < 6; i++) {
		ck_assert_str_eq(c->contracts[i].customer, order[i]);
		ck_assert_ptr_eq(find(c, order[i]), &c->contracts[i]);
		ck_assert_str_eq(c->contracts[i].name, "");
	}
	ck_assert_ptr_null(find(c, "a"));
	ck_assert_ptr_null(find(c, "bb"));
	ck_assert_ptr_null(find(c, "zz"));
	ck_assert_ptr_null(find(c, ""));
	ck_assert_ptr_null(find(c, "A"));
	/* The key is given by length: "bad" cut to 2 bytes is "ba". */
	ck_assert_ptr_eq(gb_contracts_find(c, "bad", 2), &c->contracts[3]);
	ck_assert_ptr_eq(gb_contracts_find(c, "bad", 1), &c->contracts[2]);
	ck_assert_ptr_null(gb_contracts_find(c, "bad", 3));
	ck_assert_ptr_null(gb_contracts_find(c, "b\0", 2));
	ck_assert_ptr_null(gb_contracts_find(c, NULL, 0));
	ck_assert_ptr_null(gb_contracts_find(NULL, "b", 1));
	gb_contracts_free(c);
}
END_TEST

START_TEST(test_minimal_and_empty)
{
	gb_contracts *c = load_ok("{'format': 'gpubill-contracts/1', 'customers': []}",
				  default_table);

	ck_assert_uint_eq(gb_contracts_count(c), 0);
	ck_assert_ptr_null(find(c, "acme"));
	gb_contracts_free(c);
	c = load_ok(CUSTOMER("'reservations': [], 'credits': [], 'discounts': {},"
			     " 'description': '', 'note': 'x'"), default_table);
	ck_assert_uint_eq(gb_contracts_count(c), 1);
	ck_assert_uint_eq(c->contracts[0].nreservations, 0);
	ck_assert_uint_eq(c->contracts[0].ncredits, 0);
	ck_assert_int_eq(c->contracts[0].has_minimum, 0);
	gb_contracts_free(c);
	ck_assert_uint_eq(gb_contracts_count(NULL), 0);
	gb_contracts_free(NULL);
}
END_TEST

START_TEST(test_values_at_the_limits)
{
	gb_contracts *c = load_ok(CUSTOMER(
		"'discounts': {'gpu_on_demand': '0', 'gpu_spot': '1', 'tokens': '0.333'},"
		" 'minimum_spend': '0',"
		" 'reservations': [{'id': 'r', 'sku': 'H100-SXM', 'region': 'eu-west',"
		"  'gpus': 100000, 'term': '3y', 'start': '2026-01-01T02:00:00+02:00',"
		"  'end': '2026-01-01T01:00:00Z'}]"), default_table);
	const gb_contract *k = &c->contracts[0];

	ck_assert(q_is(k->discount[GB_DISCOUNT_GPU_ON_DEMAND], "0"));
	ck_assert(q_is(k->discount[GB_DISCOUNT_GPU_SPOT], "1"));
	ck_assert(q_is(k->discount[GB_DISCOUNT_TOKENS], "333/1000"));
	ck_assert_int_eq(k->has_minimum, 1);
	ck_assert_int_eq(mpq_sgn(k->minimum_spend), 0);
	ck_assert_uint_eq(k->reservations[0].gpus, 100000);
	ck_assert_int_eq(k->reservations[0].start, T_2026_01_01);
	ck_assert_int_eq(k->reservations[0].end, T_2026_01_01 + 3600);
	gb_contracts_free(c);
}
END_TEST

/*
 * A reservation with its own rate is not checked against the table: any
 * term, any sku, before the first version.
 */
START_TEST(test_own_rate_skips_table)
{
	gb_contracts *c = load_ok(RESV("GB300", "'mars-1'", "4", "'5y'",
				       "'2025-01-01T00:00:00Z'", "'2031-01-01T00:00:00Z'",
				       ", 'rate': '0'"), small);
	const gb_reservation *r = &c->contracts[0].reservations[0];

	ck_assert_int_eq(r->has_rate, 1);
	ck_assert_int_eq(mpq_sgn(r->rate), 0);
	ck_assert_str_eq(r->term, "5y");
	gb_contracts_free(c);
	/* The small table has 1y for H100-SXM everywhere before 2026-10-15. */
	c = load_ok(R_SMALL("H100-SXM", "'1y'", "'2026-01-01T00:00:00Z'",
			    "'2026-10-15T00:00:00Z'"), small);
	gb_contracts_free(c);
	/* L40S 1y is tiered only from 2026-10-15. */
	c = load_ok(R_SMALL("L40S", "'1y'", "'2026-01-01T00:00:00Z'",
			    "'2026-10-15T00:00:00Z'"), small);
	gb_contracts_free(c);
}
END_TEST

START_TEST(test_bad_arguments)
{
	gb_contracts *c = (gb_contracts *)1;
	gb_error err;

	ck_assert_int_eq(gb_contracts_load(NULL, "{}", 2, "x", default_table, &err), GB_EINVAL);
	ck_assert_int_eq(err.code, GB_EINVAL);
	ck_assert_int_eq(gb_contracts_load(&c, NULL, 2, "x", default_table, &err), GB_EINVAL);
	ck_assert_int_eq(gb_contracts_load(&c, "{}", 2, "x", NULL, NULL), GB_EINVAL);
}
END_TEST

/* --- syntax errors ------------------------------------------------------- */

START_TEST(test_err_syntax_position)
{
	expect_syntax("{\n  'format': 'gpubill-contracts/1',\n  'customers' []\n}",
		      3, 15, "JSON syntax error near '[]'");
	expect_syntax(HEAD "{'customer': 'acme',}]}", 1, 69, "near '}]}'");
	expect_syntax(HEAD "{'customer': 'acme'", 1, 68, "unexpected end of input");
}
END_TEST

START_TEST(test_err_syntax_fixture)
{
	gb_contracts *c = (gb_contracts *)1;
	gb_error err;
	size_t len;
	char *data = slurp("contracts/missing-comma.json", &len);
	int rc = gb_contracts_load(&c, data, len, "test.json", default_table,
				   &err);

	free(data);
	check_err(rc, c, &err, GB_ESYNTAX, "", "JSON syntax error near '\"credits\"");
	ck_assert_uint_eq(err.line, 11);
	ck_assert_uint_eq(err.column, 7);
}
END_TEST

START_TEST(test_err_empty)
{
	expect_syntax_n("", 0, 0, 0, "empty file");
	expect_syntax_n(" \n\t ", 4, 0, 0, "empty file");
}
END_TEST

START_TEST(test_err_nul_byte)
{
	static const char data[] = "{\"format\": \"gpubill-contracts/1\",\n \"cust\0mers\": []}";

	expect_syntax_n(data, sizeof data - 1, 2, 7, "NUL byte in the input (a contracts file");
	expect_syntax("{'format': 'gpubill-contracts/1', 'customers': [{'customer': 'a\\u0000b'}]}",
		      1, 64, "\\u0000 is not allowed");
}
END_TEST

START_TEST(test_err_not_an_object)
{
	expect_schema("[]", "", "expected a JSON object at the top level, got an array");
	expect_syntax("{} x", 1, 4, "unexpected text after the JSON value");
}
END_TEST

/* --- schema errors: the file and customers ------------------------------- */

START_TEST(test_err_format)
{
	expect_schema("{'customers': []}", "",
		      "missing required key 'format' (a contracts file starts with");
	expect_schema("{'format': 'gpubill-contracts/2', 'customers': []}", "format",
		      "unsupported format \"gpubill-contracts/2\"");
	expect_schema("{'format': 1, 'customers': []}", "format",
		      "expected the string \"gpubill-contracts/1\", got a number");
	expect_schema("{'format': 'gpubill-pricing/1', 'name': 'x', 'versions': []}",
		      "format", "this is a pricing table, not a contracts file");
	expect_schema("{'format': 'gpubill-contracts/1'}", "",
		      "missing required key 'customers'");
	expect_schema("{'format': 'gpubill-contracts/1', 'customers': {}}",
		      "customers", "expected an array, got an object");
	expect_schema("{'format': 'gpubill-contracts/1', 'customers': [[]]}",
		      "customers[0]", "expected an object, got an array");
}
END_TEST

START_TEST(test_err_duplicate_customer)
{
	expect_schema(HEAD "{'customer': 'acme'}, {'customer': 'globex'},"
		      " {'customer': 'globex'}, {'customer': 'acme'}]}",
		      "customers[2].customer",
		      "duplicate customer 'globex' (first given at customers[1])");
}
END_TEST

START_TEST(test_err_customer_id)
{
	expect_schema(HEAD "{'name': 'Acme'}]}", "customers[0]",
		      "missing required key 'customer'");
	expect_schema(HEAD "{'customer': ''}]}", "customers[0].customer",
		      "must not be empty");
	expect_schema(HEAD "{'customer': 7}]}", "customers[0].customer",
		      "expected a string, got a number");
	expect_schema(HEAD "{'customer': 'a\\tb'}]}", "customers[0].customer",
		      "must not contain control characters");
	expect_schema(HEAD "{'customer': '"
		      "0123456789012345678901234567890123456789012345678901234567890123"
		      "01234567890123456789012345678901234567890123456789012345678901234'}]}",
		      "customers[0].customer", "must be at most 128 bytes long, got 129");
	expect_schema(CUSTOMER("'name': null"), "customers[0].name",
		      "expected a string, got null");
}
END_TEST

START_TEST(test_err_unknown_key)
{
	expect_schema(CUSTOMER("'reservatons': []"), "customers[0].reservatons",
		      "unknown key 'reservatons' (did you mean 'reservations'?)");
	expect_schema("{'format': 'gpubill-contracts/1', 'customer': []}", "customer",
		      "unknown key 'customer' (did you mean 'customers'?)");
	expect_schema(CUSTOMER("'discounts': {'on_demand': '0.10'}"),
		      "customers[0].discounts.on_demand",
		      "unknown key 'on_demand' (did you mean 'gpu_on_demand'?)");
	expect_schema(R_MORE("'rates': '1.50'"), RES0 ".rates",
		      "unknown key 'rates' (did you mean 'rate'?)");
	expect_schema(R_MORE("'price': '1.50'"), RES0 ".price",
		      "unknown key 'price' (expected one of: id, sku, region, gpus, term, start, end, rate, description, note)");
	expect_schema(CUSTOMER("'credits': [{'id': 'c', 'amount': '1', 'xyzzy': 1}]"),
		      "customers[0].credits[0].xyzzy",
		      "unknown key 'xyzzy' (expected one of: id, amount, description, note)");
}
END_TEST

START_TEST(test_err_duplicate_json_key)
{
	expect_schema(HEAD "{'customer': 'acme', 'name': 'A', 'customer': 'acme2'}]}",
		      "customers[0].customer", "duplicate key 'customer'");
	expect_schema(CUSTOMER("'discounts': {'tokens': '0.1', 'tokens': '0.2'}"),
		      "customers[0].discounts.tokens", "duplicate key 'tokens'");
}
END_TEST

START_TEST(test_err_price_as_number)
{
	expect_schema(CUSTOMER("'minimum_spend': 100"), "customers[0].minimum_spend",
		      "expected a decimal string like \"10000.00\", got a number");
	expect_schema(CUSTOMER("'credits': [{'id': 'c', 'amount': 5}]"),
		      "customers[0].credits[0].amount",
		      "expected a decimal string like \"500.00\", got a number");
	expect_schema(CUSTOMER("'discounts': {'tokens': 0.05}"),
		      "customers[0].discounts.tokens",
		      "expected a decimal string like \"0.10\", got a number");
	expect_schema(R_MORE("'rate': 1.5"), RES0 ".rate",
		      "expected a decimal string like \"1.50\", got a number");
	expect_schema(CUSTOMER("'minimum_spend': '1e4'"), "customers[0].minimum_spend",
		      "invalid decimal \"1e4\": exponent notation is not allowed");
}
END_TEST

START_TEST(test_err_discount_above_one)
{
	expect_schema(CUSTOMER("'discounts': {'gpu_spot': '1.5'}"),
		      "customers[0].discounts.gpu_spot",
		      "a discount must be from 0 to 1 (a fraction: \"0.10\" takes 10% off), got \"1.5\"");
	expect_schema(CUSTOMER("'discounts': {'gpu_on_demand': '-0.1'}"),
		      "customers[0].discounts.gpu_on_demand",
		      "negative amounts are not allowed");
	expect_schema(CUSTOMER("'discounts': ['0.1']"), "customers[0].discounts",
		      "expected an object, got an array");
}
END_TEST

START_TEST(test_err_credit_amount)
{
	expect_schema(CUSTOMER("'credits': [{'id': 'c', 'amount': '-100.00'}]"),
		      "customers[0].credits[0].amount",
		      "invalid decimal \"-100.00\": negative amounts are not allowed");
	expect_schema(CUSTOMER("'credits': [{'id': 'c', 'amount': '0.00'}]"),
		      "customers[0].credits[0].amount",
		      "a credit amount must be greater than 0");
	expect_schema(CUSTOMER("'credits': [{'amount': '1'}]"),
		      "customers[0].credits[0]", "missing required key 'id'");
	expect_schema(CUSTOMER("'credits': [{'id': 'c'}]"),
		      "customers[0].credits[0]", "missing required key 'amount'");
	expect_schema(CUSTOMER("'credits': {'id': 'c', 'amount': '1'}"),
		      "customers[0].credits", "expected an array, got an object");
}
END_TEST

START_TEST(test_err_duplicate_credit_id)
{
	gb_contracts *c;

	expect_schema(CUSTOMER("'credits': [{'id': 'a', 'amount': '1'},"
			       " {'id': 'b', 'amount': '2'}, {'id': 'a', 'amount': '3'}]"),
		      "customers[0].credits[2].id",
		      "duplicate credit id 'a' (first given at credits[0])");
	/* Unique within a customer, not across customers. */
	c = load_ok(HEAD "{'customer': 'x', 'credits': [{'id': 'a', 'amount': '1'}]},"
		    " {'customer': 'y', 'credits': [{'id': 'a', 'amount': '1'}]}]}",
		    default_table);
	gb_contracts_free(c);
}
END_TEST

/* --- schema errors: reservations ----------------------------------------- */

START_TEST(test_err_duplicate_reservation_id)
{
	expect_schema(HEAD
		"{'customer': 'b', 'reservations': ["
		"  {'id': 'r1', 'sku': 'H100-SXM', 'region': 'us-east', 'gpus': 1, 'term': '1y',"
		"   'start': '2026-01-01T00:00:00Z', 'end': '2026-02-01T00:00:00Z'},"
		"  {'id': 'r2', 'sku': 'H100-SXM', 'region': 'us-east', 'gpus': 1, 'term': '1y',"
		"   'start': '2026-01-01T00:00:00Z', 'end': '2026-02-01T00:00:00Z'}]},"
		"{'customer': 'a', 'reservations': ["
		"  {'id': 'r3', 'sku': 'H200', 'region': 'us-east', 'gpus': 1, 'term': '1y',"
		"   'start': '2026-01-01T00:00:00Z', 'end': '2026-02-01T00:00:00Z'},"
		"  {'id': 'r2', 'sku': 'H200', 'region': 'us-east', 'gpus': 1, 'term': '1y',"
		"   'start': '2026-01-01T00:00:00Z', 'end': '2026-02-01T00:00:00Z'}]}]}",
		"customers[1].reservations[1].id",
		"duplicate reservation id 'r2' (first given at customers[0].reservations[1])");
}
END_TEST

START_TEST(test_err_reservation_fields)
{
	expect_schema(CUSTOMER("'reservations': [{'id': 'r1', 'sku': 'H100-SXM'}]"),
		      RES0, "missing required key 'region'");
	expect_schema(CUSTOMER("'reservations': [{'sku': 'H100-SXM'}]"),
		      RES0, "missing required key 'id'");
	expect_schema(RESV("", "'us-east'", "8", "'1y'", "'2026-01-01T00:00:00Z'",
			   "'2027-01-01T00:00:00Z'", ""), RES0 ".sku", "must not be empty");
	expect_schema(RESV("H100-SXM", "'us-east'", "8", "''", "'2026-01-01T00:00:00Z'",
			   "'2027-01-01T00:00:00Z'", ", 'rate': '1'"), RES0 ".term",
		      "must not be empty");
	expect_schema(CUSTOMER("'reservations': {}"), "customers[0].reservations",
		      "expected an array, got an object");
}
END_TEST

START_TEST(test_err_gpus_string)
{
	expect_schema(R_GPUS("'8'"), RES0 ".gpus",
		      "expected an integer, got a string (write 8 without quotes)");
	expect_schema(R_GPUS("true"), RES0 ".gpus", "expected an integer, got true");
}
END_TEST

START_TEST(test_err_gpus_range)
{
	expect_schema(R_GPUS("0"), RES0 ".gpus", "expected an integer from 1 to 100000");
	expect_schema(R_GPUS("-8"), RES0 ".gpus", "expected an integer from 1 to 100000");
	expect_schema(R_GPUS("100001"), RES0 ".gpus", "expected an integer from 1 to 100000");
	expect_schema(R_GPUS("1e10"), RES0 ".gpus", "expected an integer from 1 to 100000");
	expect_schema(R_GPUS("2.5"), RES0 ".gpus", "expected an integer from 1 to 100000");
}
END_TEST

START_TEST(test_err_region_wildcard)
{
	expect_schema(R_REGION("'*'"), RES0 ".region",
		      "a reservation covers one exact region");
	expect_schema(R_REGION("''"), RES0 ".region", "must not be empty");
}
END_TEST

START_TEST(test_err_start_not_on_the_hour)
{
	expect_schema(R_TIMES("'2026-01-01T00:30:00Z'", "'2027-01-01T00:00:00Z'"),
		      RES0 ".start",
		      "start must fall on a whole UTC hour, got 2026-01-01T00:30:00Z");
	/* +05:30 moves a local whole hour off the UTC hour. */
	expect_schema(R_TIMES("'2026-01-01T00:00:00Z'", "'2027-01-01T00:00:00+05:30'"),
		      RES0 ".end",
		      "end must fall on a whole UTC hour, got 2026-12-31T18:30:00Z");
	expect_schema(R_TIMES("'2026-01-01'", "'2027-01-01T00:00:00Z'"),
		      RES0 ".start", "invalid timestamp \"2026-01-01\"");
	expect_schema(R_TIMES("1767225600", "'2027-01-01T00:00:00Z'"),
		      RES0 ".start", "expected an RFC 3339 timestamp string");
}
END_TEST

START_TEST(test_err_end_before_start)
{
	expect_schema(R_TIMES("'2026-02-01T00:00:00Z'", "'2026-01-01T00:00:00Z'"),
		      RES0 ".end",
		      "end (2026-01-01T00:00:00Z) must be after start (2026-02-01T00:00:00Z)");
	expect_schema(R_TIMES("'2026-02-01T00:00:00Z'", "'2026-02-01T00:00:00Z'"),
		      RES0 ".end", "must be after start");
}
END_TEST

START_TEST(test_err_rate_tiered)
{
	expect_schema(R_MORE("'rate': {'mode': 'volume', 'tiers': [{'up_to': null, 'price': '1'}]}"),
		      RES0 ".rate", "a reservation rate must be a plain price");
	expect_schema(R_MORE("'rate': '-1.50'"), RES0 ".rate",
		      "negative amounts are not allowed");
}
END_TEST

/* --- schema errors: reservations against the pricing table --------------- */

START_TEST(test_err_unknown_term)
{
	expect_schema(R_SMALL("H100-SXM", "'5y'", "'2026-01-01T00:00:00Z'",
			      "'2027-01-01T00:00:00Z'"),
		      RES0 ".term", "unknown term '5y' (the table has 1y, 3y)");
	expect_err_with(R_SMALL("H100-SXM", "'1Y'", "'2026-01-01T00:00:00Z'",
				"'2026-02-01T00:00:00Z'"), small,
			RES0 ".term", "unknown term '1Y' (the table has 1y, 3y)");
}
END_TEST

START_TEST(test_err_before_first_version)
{
	expect_schema(R_TIMES("'2025-12-01T00:00:00Z'", "'2026-12-01T00:00:00Z'"),
		      RES0,
		      "the reservation starts before the first price version (from 2026-01-01T00:00:00Z)");
	expect_schema(R_TIMES("'2025-01-01T00:00:00Z'", "'2026-01-01T00:00:00Z'"),
		      RES0, "the reservation overlaps no price version");
}
END_TEST

START_TEST(test_err_version_lacks_term)
{
	/* 1y is gone from the second version of the small table. */
	expect_err_with(RESV("H100-SXM", "'eu-west'", "8", "'1y'",
			     "'2026-10-01T00:00:00Z'", "'2026-10-15T01:00:00Z'", ""),
			small, RES0,
			"no reserved 1y price for H100-SXM in eu-west in the price version from 2026-10-15T00:00:00Z");
	/* us-east has an exact rate there, without reserved prices. */
	expect_err_with(RESV("H100-SXM", "'us-east'", "8", "'3y'",
			     "'2026-01-01T00:00:00Z'", "'2029-01-01T00:00:00Z'", ""),
			small, RES0,
			"no reserved 3y price for H100-SXM in us-east in the price version from 2026-10-15T00:00:00Z");
	/* A sku the table does not know. */
	expect_err_with(RESV("GB300", "'us-east'", "8", "'3y'",
			     "'2026-01-01T00:00:00Z'", "'2026-02-01T00:00:00Z'", ""),
			small, RES0,
			"no reserved 3y price for GB300 in us-east in the price version from 2026-01-01T00:00:00Z");
}
END_TEST

START_TEST(test_err_tiered_table_price)
{
	expect_err_with(R_SMALL("L40S", "'1y'", "'2026-01-01T00:00:00Z'",
				"'2027-01-01T00:00:00Z'"), small, RES0,
			"tiered reserved prices are not supported: the reserved 1y price for L40S in us-east in the price version from 2026-10-15T00:00:00Z is tiered");
}
END_TEST

/* Every error path frees what it built: run under valgrind/ASan. */
START_TEST(test_err_late_in_file)
{
	expect_schema(HEAD
		"{'customer': 'a', 'name': 'A', 'discounts': {'tokens': '0.1'},"
		" 'minimum_spend': '1', 'credits': [{'id': 'c', 'amount': '1'}],"
		" 'reservations': [{'id': 'r', 'sku': 'H200', 'region': 'us-east',"
		"  'gpus': 1, 'term': '1y', 'start': '2026-01-01T00:00:00Z',"
		"  'end': '2026-02-01T00:00:00Z', 'rate': '1'}]},"
		"{'customer': 'b', 'credits': [{'id': 'c', 'amount': '1'},"
		" {'id': 'd', 'amount': 'x'}]}]}",
		"customers[1].credits[1].amount", "invalid decimal \"x\"");
}
END_TEST

static Suite *contracts_suite(void)
{
	Suite *s = suite_create("contracts");
	TCase *ok = tcase_create("load");
	TCase *syn = tcase_create("syntax");
	TCase *sch = tcase_create("schema");
	TCase *tab = tcase_create("table");

	tcase_add_unchecked_fixture(ok, tables_setup, tables_teardown);
	tcase_add_test(ok, test_example_file);
	tcase_add_test(ok, test_find);
	tcase_add_test(ok, test_minimal_and_empty);
	tcase_add_test(ok, test_values_at_the_limits);
	tcase_add_test(ok, test_own_rate_skips_table);
	tcase_add_test(ok, test_bad_arguments);
	suite_add_tcase(s, ok);

	tcase_add_unchecked_fixture(syn, tables_setup, tables_teardown);
	tcase_add_test(syn, test_err_syntax_position);
	tcase_add_test(syn, test_err_syntax_fixture);
	tcase_add_test(syn, test_err_empty);
	tcase_add_test(syn, test_err_nul_byte);
	tcase_add_test(syn, test_err_not_an_object);
	suite_add_tcase(s, syn);

	tcase_add_unchecked_fixture(sch, tables_setup, tables_teardown);
	tcase_add_test(sch, test_err_format);
	tcase_add_test(sch, test_err_duplicate_customer);
	tcase_add_test(sch, test_err_customer_id);
	tcase_add_test(sch, test_err_unknown_key);
	tcase_add_test(sch, test_err_duplicate_json_key);
	tcase_add_test(sch, test_err_price_as_number);
	tcase_add_test(sch, test_err_discount_above_one);
	tcase_add_test(sch, test_err_credit_amount);
	tcase_add_test(sch, test_err_duplicate_credit_id);
	tcase_add_test(sch, test_err_duplicate_reservation_id);
	tcase_add_test(sch, test_err_reservation_fields);
	tcase_add_test(sch, test_err_gpus_string);
	tcase_add_test(sch, test_err_gpus_range);
	tcase_add_test(sch, test_err_region_wildcard);
	tcase_add_test(sch, test_err_start_not_on_the_hour);
	tcase_add_test(sch, test_err_end_before_start);
	tcase_add_test(sch, test_err_rate_tiered);
	tcase_add_test(sch, test_err_late_in_file);
	suite_add_tcase(s, sch);

	tcase_add_unchecked_fixture(tab, tables_setup, tables_teardown);
	tcase_add_test(tab, test_err_unknown_term);
	tcase_add_test(tab, test_err_before_first_version);
	tcase_add_test(tab, test_err_version_lacks_term);
	tcase_add_test(tab, test_err_tiered_table_price);
	suite_add_tcase(s, tab);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(contracts_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
