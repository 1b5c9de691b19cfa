/*
 * test_costs.c - the cost basis loader: the example file, lookups (exact
 * region, "*", missing), accessors, the currency check, the caller-prepared
 * context entry point, and one test per class of error (code, JSON path
 * and message).
 *
 * JSON in this file is written with single quotes for readability; load()
 * turns them into double quotes before parsing.
 */
#include <check.h>
#include <gmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gpubill/costs.h>
#include "costs_internal.h"
#include "test_data.h"

#define HEAD "{'format': 'gpubill-costs/1', 'name': 'n', 'currency': 'USD', "
#define GPU(entries) HEAD "'gpu': [" entries "]}"
#define TOKENS(entries) HEAD "'tokens': [" entries "]}"

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

/* Load json (single quotes); returns the code, *out set on success. */
static int load(const char *json, gb_costs **out, gb_error *err)
{
	char *s = dq(json);
	int rc = gb_costs_load(out, s, strlen(s), "c.json", err);

	free(s);
	return rc;
}

/* The document must fail with code at path, its message containing msg. */
static void fails(const char *json, int code, const char *path,
		  const char *msg)
{
	gb_costs *c = (gb_costs *)1;
	gb_error err;
	int rc = load(json, &c, &err);

	ck_assert_int_eq(rc, code);
	ck_assert_ptr_null(c);
	ck_assert_int_eq(err.code, code);
	ck_assert_str_eq(err.source, "c.json");
	ck_assert_str_eq(err.path, path);
	ck_assert_msg(strstr(err.message, msg) != NULL,
		      "message '%s' lacks '%s'", err.message, msg);
}

static void cost_is(const mpq_t v, const char *want)
{
	mpq_t w;

	mpq_init(w);
	ck_assert_int_eq(mpq_set_str(w, want, 10), 0);
	mpq_canonicalize(w);
	ck_assert_msg(mpq_equal(v, w), "cost differs from %s", want);
	mpq_clear(w);
}

/* --- the example --------------------------------------------------------- */

START_TEST(test_example_file)
{
	size_t len;
	char *data = slurp("costs/example.json", &len);
	gb_costs *c = NULL;
	gb_error err;
	const gb_cost_gpu *g;
	const gb_cost_tokens *t;

	ck_assert_int_eq(gb_costs_load(&c, data, len, "example.json", &err), 0);
	free(data);
	ck_assert_str_eq(gb_costs_currency(c), "USD");
	ck_assert_str_eq(gb_costs_source(c), "example.json");
	ck_assert_ptr_nonnull(strstr(gb_costs_name(c), "example-hyperscaler costs"));
	ck_assert_uint_eq(gb_costs_gpu_count(c), 7);
	ck_assert_uint_eq(gb_costs_tokens_count(c), 4);
	/* file order */
	g = gb_costs_gpu_get(c, 1);
	ck_assert_str_eq(g->sku, "H100-SXM");
	ck_assert_str_eq(g->region, "eu-west");
	cost_is(g->per_gpu_hour, "162/100");
	ck_assert_ptr_null(gb_costs_gpu_get(c, 7));
	t = gb_costs_tokens_get(c, 3);
	ck_assert_str_eq(t->model, "mixtral-8x7b");
	cost_is(t->per_million, "14/100");
	ck_assert_ptr_null(gb_costs_tokens_get(c, 4));
	/* exact region, else "*" */
	cost_is(gb_costs_find_gpu(c, "H100-SXM", "eu-west")->per_gpu_hour, "81/50");
	cost_is(gb_costs_find_gpu(c, "H100-SXM", "us-east")->per_gpu_hour, "145/100");
	cost_is(gb_costs_find_gpu(c, "A100-80GB", "us-west")->per_gpu_hour, "86/100");
	cost_is(gb_costs_find_gpu(c, "A100-80GB", "ap-south")->per_gpu_hour, "92/100");
	ck_assert_ptr_null(gb_costs_find_gpu(c, "TPU-v5", "us-east"));
	ck_assert_ptr_null(gb_costs_find_gpu(c, "h100-sxm", "us-east"));
	cost_is(gb_costs_find_tokens(c, "llama-3.1-70b")->per_million, "21/100");
	ck_assert_ptr_null(gb_costs_find_tokens(c, "llama-3.1-70B"));
	gb_costs_free(c);
}
END_TEST

START_TEST(test_minimal_and_null)
{
	gb_costs *c = NULL;
	gb_error err;

	/* neither gpu nor tokens: valid, finds nothing */
	ck_assert_int_eq(load(HEAD "'description': 'd'}", &c, &err), 0);
	ck_assert_uint_eq(gb_costs_gpu_count(c), 0);
	ck_assert_uint_eq(gb_costs_tokens_count(c), 0);
	ck_assert_ptr_null(gb_costs_find_gpu(c, "H100", "x"));
	ck_assert_ptr_null(gb_costs_find_tokens(c, "m"));
	gb_costs_free(c);
	/* NULL handles */
	gb_costs_free(NULL);
	ck_assert_uint_eq(gb_costs_gpu_count(NULL), 0);
	ck_assert_uint_eq(gb_costs_tokens_count(NULL), 0);
	ck_assert_ptr_null(gb_costs_gpu_get(NULL, 0));
	ck_assert_ptr_null(gb_costs_name(NULL));
	ck_assert_ptr_null(gb_costs_find_gpu(NULL, "a", "b"));
	ck_assert_int_eq(gb_costs_load(NULL, "{}", 2, "x", &err), GB_EINVAL);
	ck_assert_int_eq(gb_costs_load(&c, NULL, 5, "x", &err), GB_EINVAL);
}
END_TEST

START_TEST(test_star_only_and_zero)
{
	gb_costs *c = NULL;
	gb_error err;

	ck_assert_int_eq(load(GPU("{'sku': 'H100', 'region': 'x', 'per_gpu_hour': '0',"
				  " 'description': 'free', 'note': 'n'}")
			      , &c, &err), 0);
	cost_is(gb_costs_find_gpu(c, "H100", "x")->per_gpu_hour, "0");
	/* no "*" entry: another region has no cost */
	ck_assert_ptr_null(gb_costs_find_gpu(c, "H100", "y"));
	gb_costs_free(c);
	ck_assert_int_eq(load(TOKENS("{'model': 'm', 'per_million': '0.000000000000000001'}"),
			      &c, &err), 0);
	cost_is(gb_costs_find_tokens(c, "m")->per_million, "1/1000000000000000000");
	gb_costs_free(c);
}
END_TEST

START_TEST(test_currency_check)
{
	gb_costs *c = NULL;
	gb_error err;

	ck_assert_int_eq(load(HEAD "'gpu': []}", &c, &err), 0);
	ck_assert_int_eq(gb_costs_check_currency(c, "USD", &err), 0);
	ck_assert_int_eq(gb_costs_check_currency(c, "EUR", &err), GB_ESCHEMA);
	ck_assert_str_eq(err.source, "c.json");
	ck_assert_str_eq(err.path, "currency");
	ck_assert_str_eq(err.message, "the costs are in USD but the pricing table is in EUR: a margin needs both in one currency");
	ck_assert_int_eq(gb_costs_check_currency(NULL, "EUR", &err), GB_EINVAL);
	gb_costs_free(c);
}
END_TEST

/* The entry point for callers with their own context (gpubill validate). */
START_TEST(test_load_ctx)
{
	char *s = dq(GPU("{'sku': 'H100', 'region': '*', 'per_gpu_hour': 1.5}"));
	gb_error err;
	gb_json_ctx c;
	gb_costs *out = (gb_costs *)1;

	memset(&c, 0, sizeof c);
	gb_error_clear(&err);
	c.err = &err;
	c.source = "mine.json";
	ck_assert_int_eq(gb_costs_load_ctx(&c, s, strlen(s), &out), GB_ESCHEMA);
	ck_assert_ptr_null(out);
	ck_assert_str_eq(c.kind, "a costs file");
	ck_assert_str_eq(err.source, "mine.json");
	ck_assert_str_eq(err.path, "gpu[0].per_gpu_hour");
	free(s);
	s = dq(GPU("{'sku': 'H100', 'region': '*', 'per_gpu_hour': '1.5'}"));
	memset(&c, 0, sizeof c);
	c.err = &err;
	c.source = "mine.json";
	c.kind = "a cost basis";
	ck_assert_int_eq(gb_costs_load_ctx(&c, s, strlen(s), &out), 0);
	ck_assert_str_eq(gb_costs_source(out), "mine.json");
	ck_assert_str_eq(c.path, "");
	gb_costs_free(out);
	free(s);
}
END_TEST

/* --- errors -------------------------------------------------------------- */

START_TEST(test_err_syntax)
{
	gb_costs *c = NULL;
	gb_error err;
	const char *doc = "{\"format\": \"gpubill-costs/1\",\n  \"name\" \"n\"}";

	ck_assert_int_eq(gb_costs_load(&c, doc, strlen(doc), "c.json", &err),
			 GB_ESYNTAX);
	ck_assert_uint_eq(err.line, 2);
	ck_assert_uint_eq(err.column, 10);
	ck_assert_int_eq(gb_costs_load(&c, "  \n", 3, "c.json", &err), GB_ESYNTAX);
	ck_assert_str_eq(err.message, "empty file");
	fails("[]", GB_ESCHEMA, "", "expected a JSON object at the top level, got an array");
}
END_TEST

START_TEST(test_err_format)
{
	fails("{'name': 'n'}", GB_ESCHEMA, "", "missing required key 'format'");
	fails("{'format': 'gpubill-pricing/1'}", GB_ESCHEMA, "format",
	      "this is a pricing table, not a costs file");
	fails("{'format': 'gpubill-contracts/1'}", GB_ESCHEMA, "format",
	      "this is a contracts file, not a costs file");
	fails("{'format': 'gpubill-costs/2'}", GB_ESCHEMA, "format",
	      "unsupported format \"gpubill-costs/2\"");
	fails("{'format': 1}", GB_ESCHEMA, "format", "got a number");
}
END_TEST

START_TEST(test_err_top_level)
{
	fails("{'format': 'gpubill-costs/1', 'currency': 'USD'}", GB_ESCHEMA, "",
	      "missing required key 'name'");
	fails("{'format': 'gpubill-costs/1', 'name': 'n'}", GB_ESCHEMA, "",
	      "missing required key 'currency'");
	fails("{'format': 'gpubill-costs/1', 'name': '', 'currency': 'USD'}",
	      GB_ESCHEMA, "name", "must not be empty");
	fails(HEAD "'curency': 'USD'}", GB_ESCHEMA, "curency",
	      "unknown key 'curency' (did you mean 'currency'?)");
	fails(HEAD "'zzzzzzzzzzzz': 1}", GB_ESCHEMA, "zzzzzzzzzzzz",
	      "(expected one of: format, name, description, currency, gpu, tokens)");
	fails("{'format': 'gpubill-costs/1', 'name': 'n', 'currency': 'usd'}",
	      GB_ESCHEMA, "currency", "three-letter upper-case ISO 4217 code");
	fails(HEAD "'gpu': {}}", GB_ESCHEMA, "gpu", "expected an array, got an object");
}
END_TEST

START_TEST(test_err_duplicate_json_key)
{
	fails(GPU("{'sku': 'H100', 'sku': 'H200', 'region': '*', 'per_gpu_hour': '1'}"),
	      GB_ESCHEMA, "gpu[0].sku", "duplicate key 'sku'");
	fails(HEAD "'currency': 'EUR'}", GB_ESCHEMA, "currency",
	      "duplicate key 'currency'");
}
END_TEST

START_TEST(test_err_entries)
{
	fails(GPU("{'sku': 'H100', 'region': '*', 'per_gpu_hr': '1'}"), GB_ESCHEMA,
	      "gpu[0].per_gpu_hr", "unknown key 'per_gpu_hr' (did you mean 'per_gpu_hour'?)");
	fails(GPU("{'sku': 'H100', 'per_gpu_hour': '1'}"), GB_ESCHEMA, "gpu[0]",
	      "missing required key 'region'");
	fails(GPU("{'sku': '', 'region': '*', 'per_gpu_hour': '1'}"), GB_ESCHEMA,
	      "gpu[0].sku", "must not be empty");
	fails(GPU("{'sku': 'H100', 'region': 7, 'per_gpu_hour': '1'}"), GB_ESCHEMA,
	      "gpu[0].region", "expected a string, got a number");
	fails(GPU("{'sku': 'H100', 'region': '*', 'per_gpu_hour': 1.45}"), GB_ESCHEMA,
	      "gpu[0].per_gpu_hour", "expected a decimal string like \"1.40\", got a number");
	fails(GPU("{'sku': 'H100', 'region': '*', 'per_gpu_hour': '-1.00'}"), GB_ESCHEMA,
	      "gpu[0].per_gpu_hour", "invalid decimal \"-1.00\"");
	fails(GPU("{'sku': 'H100', 'region': '*', 'per_gpu_hour': '1e3'}"), GB_ESCHEMA,
	      "gpu[0].per_gpu_hour", "exponent notation is not allowed");
	fails(GPU("'H100'"), GB_ESCHEMA, "gpu[0]", "expected an object, got a string");
	fails(TOKENS("{'model': 'm'}"), GB_ESCHEMA, "tokens[0]",
	      "missing required key 'per_million'");
	fails(TOKENS("{'model': 'm', 'per_million': '1', 'per_milion': '2'}"),
	      GB_ESCHEMA, "tokens[0].per_milion",
	      "unknown key 'per_milion' (did you mean 'per_million'?)");
	fails(TOKENS("{'model': 'm', 'per_million': 0.12}"), GB_ESCHEMA,
	      "tokens[0].per_million", "expected a decimal string like \"0.12\", got a number");
	fails(TOKENS("{'per_million': '1', 'model': 'm', 'note': 3}"), GB_ESCHEMA,
	      "tokens[0].note", "expected a string, got a number");
}
END_TEST

START_TEST(test_err_repeats)
{
	fails(GPU("{'sku': 'H100', 'region': '*', 'per_gpu_hour': '1'},"
		  "{'sku': 'H100', 'region': 'x', 'per_gpu_hour': '1'},"
		  "{'sku': 'H200', 'region': '*', 'per_gpu_hour': '1'},"
		  "{'sku': 'H100', 'region': '*', 'per_gpu_hour': '2'}"),
	      GB_ESCHEMA, "gpu[3]",
	      "repeated entry for sku 'H100' in region '*' (first given at gpu[0])");
	/* the first repeat in file order is the one reported */
	fails(GPU("{'sku': 'B', 'region': 'x', 'per_gpu_hour': '1'},"
		  "{'sku': 'A', 'region': 'x', 'per_gpu_hour': '1'},"
		  "{'sku': 'A', 'region': 'x', 'per_gpu_hour': '1'},"
		  "{'sku': 'B', 'region': 'x', 'per_gpu_hour': '1'}"),
	      GB_ESCHEMA, "gpu[2]", "first given at gpu[1]");
	fails(TOKENS("{'model': 'm', 'per_million': '1'},"
		     "{'model': 'n', 'per_million': '1'},"
		     "{'model': 'm', 'per_million': '1'}"),
	      GB_ESCHEMA, "tokens[2]",
	      "repeated entry for model 'm' (first given at tokens[0])");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("costs");
	TCase *ok = tcase_create("load");
	TCase *bad = tcase_create("errors");
	SRunner *sr;
	int failed;

	tcase_add_test(ok, test_example_file);
	tcase_add_test(ok, test_minimal_and_null);
	tcase_add_test(ok, test_star_only_and_zero);
	tcase_add_test(ok, test_currency_check);
	tcase_add_test(ok, test_load_ctx);
	suite_add_tcase(s, ok);
	tcase_add_test(bad, test_err_syntax);
	tcase_add_test(bad, test_err_format);
	tcase_add_test(bad, test_err_top_level);
	tcase_add_test(bad, test_err_duplicate_json_key);
	tcase_add_test(bad, test_err_entries);
	tcase_add_test(bad, test_err_repeats);
	suite_add_tcase(s, bad);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
