/*
 * test_prices.c - the pricing-table loader: the shipped tables, lookups,
 * and one test per class of error (code, JSON path and message).
 *
 * JSON in this file is written with single quotes for readability; load()
 * turns them into double quotes before parsing.
 */
#include <check.h>
#include <gmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gpubill/prices.h>
#include <gpubill/timestamp.h>
#include "prices_internal.h"
#include "test_data.h"

#define T_2026_01_01 INT64_C(1767225600)
#define T_2026_10_15 INT64_C(1792022400)

/* A valid table around one gpu object, one tokens object, or both. */
#define HEAD "{'format': 'gpubill-pricing/1', 'name': 't', 'currency': 'USD', "
#define VERSION(body) "'versions': [{'effective_from': '2026-01-01T00:00:00Z', " body "}]}"
#define GPU(rates) HEAD VERSION("'gpu': {'rates': [" rates "]}")
#define TOKENS(body) HEAD VERSION("'tokens': {" body "}")
#define RATE "{'sku': 'H100-SXM', 'region': '*', 'on_demand': '2.50'}"

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

static int load_n(gb_prices **out, const char *data, size_t len, gb_error *err)
{
	return gb_prices_load(out, data, len, "test.json", err);
}

/* Load single-quoted JSON. */
static int load(gb_prices **out, const char *json, gb_error *err)
{
	char *s = dq(json);
	int rc = load_n(out, s, strlen(s), err);

	free(s);
	return rc;
}

static gb_prices *load_ok(const char *json)
{
	gb_prices *p = NULL;
	gb_error err;
	int rc = load(&p, json, &err);

	ck_assert_msg(rc == 0, "load failed: %s: %s", err.path, err.message);
	ck_assert_ptr_nonnull(p);
	return p;
}

static void check_err(int rc, gb_prices *p, const gb_error *err, int code,
		      const char *path, const char *msg)
{
	ck_assert_int_eq(rc, code);
	ck_assert_ptr_null(p);
	ck_assert_int_eq(err->code, code);
	ck_assert_str_eq(err->source, "test.json");
	ck_assert_str_eq(err->path, path);
	ck_assert_msg(strstr(err->message, msg) != NULL,
		      "message \"%s\" lacks \"%s\"", err->message, msg);
}

static void expect_err(const char *json, int code, const char *path,
		       const char *msg)
{
	gb_prices *p = (gb_prices *)1;
	gb_error err;
	int rc = load(&p, json, &err);

	check_err(rc, p, &err, code, path, msg);
}

static void expect_schema(const char *json, const char *path, const char *msg)
{
	expect_err(json, GB_ESCHEMA, path, msg);
}

/* A syntax error at line:column (no JSON path). */
static void expect_syntax_n(const char *data, size_t len, uint64_t line,
			    uint64_t column, const char *msg)
{
	gb_prices *p = (gb_prices *)1;
	gb_error err;
	int rc = load_n(&p, data, len, &err);

	check_err(rc, p, &err, GB_ESYNTAX, "", msg);
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

static int flat_is(const gb_price *p, const char *fraction)
{
	return p && p->mode == GB_PRICE_FLAT && q_is(p->flat, fraction);
}

static gb_prices *load_file(const char *rel)
{
	gb_prices *p = NULL;
	gb_error err;
	size_t len;
	char *data = slurp(rel, &len);
	int rc = gb_prices_load(&p, data, len, rel, &err);

	ck_assert_msg(rc == 0, "%s: %s: %s", rel, err.path, err.message);
	free(data);
	return p;
}

static const gb_version *version(const gb_prices *p, int64_t t)
{
	long i = gb_prices_version_at(p, t);

	ck_assert_int_ge(i, 0);
	return &p->versions[i];
}

/* --- the shipped tables -------------------------------------------------- */

START_TEST(test_default_table)
{
	gb_prices *p = load_file("../../pricing-tables/default.json");
	const gb_version *v = &p->versions[0];
	const gb_gpu_rate *r;
	const gb_token_rate *t;

	ck_assert_ptr_nonnull(strstr(gb_prices_name(p), "illustrative"));
	ck_assert_str_eq(gb_prices_currency(p), "USD");
	ck_assert_uint_eq(gb_prices_minor_units(p), 2);
	ck_assert_int_eq(gb_prices_rounding(p), GB_ROUND_HALF_EVEN);
	ck_assert_uint_eq(gb_prices_version_count(p), 2);
	ck_assert_str_eq(p->source, "../../pricing-tables/default.json");
	ck_assert_int_eq(v->effective_from, T_2026_01_01);
	ck_assert_int_eq(p->versions[1].effective_from, T_2026_10_15);
	ck_assert(v->has_gpu && v->has_tokens);
	ck_assert_int_eq(v->increment_seconds, 1);
	ck_assert_int_eq(v->minimum_seconds, 60);
	ck_assert_int_eq(v->spot_interruption_free_seconds, 3600);

	r = gb_version_gpu_rate(v, "H100-SXM", "us-east");
	ck_assert_ptr_nonnull(r);
	ck_assert_str_eq(r->region, "us-east");
	ck_assert(flat_is(r->on_demand, "279/100"));
	ck_assert(flat_is(r->spot, "89/100"));
	ck_assert(flat_is(gb_gpu_rate_reserved(r, "1y"), "18135/10000"));
	r = gb_version_gpu_rate(v, "H200", "us-east");
	ck_assert(flat_is(r->on_demand, "348/100"));
	r = gb_version_gpu_rate(&p->versions[1], "H100-SXM", "us-east");
	ck_assert(flat_is(r->on_demand, "249/100"));

	ck_assert(q_is(v->batch_discount, "1/2"));
	t = gb_version_token_rate(v, "llama-3.1-70b", NULL);
	ck_assert_ptr_nonnull(t);
	ck_assert_int_eq(t->input->mode, GB_PRICE_GRADUATED);
	ck_assert_uint_eq(t->input->ntiers, 3);
	ck_assert(q_is(t->input->tiers[0].up_to, "1000000000"));
	ck_assert(q_is(t->input->tiers[1].price, "80/100"));
	ck_assert_int_eq(t->input->tiers[2].bounded, 0);
	ck_assert(flat_is(t->output, "88/100"));
	gb_prices_free(p);
}
END_TEST

START_TEST(test_neocloud_table)
{
	gb_prices *p = load_file("../../pricing-tables/example-neocloud.json");
	const gb_gpu_rate *r = gb_version_gpu_rate(&p->versions[0], "H100-SXM", "eu-west");
	const gb_price *od;

	ck_assert_ptr_nonnull(strstr(gb_prices_name(p), "illustrative"));
	ck_assert_uint_eq(gb_prices_version_count(p), 2);
	ck_assert_ptr_nonnull(r);
	ck_assert_str_eq(r->region, "*");
	od = r->on_demand;
	ck_assert_int_eq(od->mode, GB_PRICE_VOLUME);
	ck_assert_uint_eq(od->ntiers, 3);
	ck_assert(od->tiers[0].bounded && od->tiers[1].bounded);
	ck_assert(!od->tiers[2].bounded);
	ck_assert(q_is(od->tiers[1].up_to, "10000"));
	ck_assert(q_is(od->tiers[1].price, "209/100"));
	ck_assert(q_is(od->tiers[2].price, "189/100"));
	gb_prices_free(p);
}
END_TEST

START_TEST(test_spot_points_sorted)
{
	gb_prices *p = load_file("../../pricing-tables/default.json");
	const gb_version *v = &p->versions[0];
	size_t i;

	ck_assert_uint_eq(v->nspot_points, 5);
	/* "A100-80GB" < "H100-SXM"; region "*" < "us-east". */
	ck_assert_str_eq(v->spot_points[0].sku, "A100-80GB");
	ck_assert_str_eq(v->spot_points[1].region, "*");
	for (i = 1; i < v->nspot_points; i++) {
		const gb_spot_point *a = &v->spot_points[i - 1];
		const gb_spot_point *b = &v->spot_points[i];
		int c = strcmp(a->sku, b->sku);

		if (!c)
			c = strcmp(a->region, b->region);
		ck_assert(c < 0 || (c == 0 && a->from < b->from));
	}
	ck_assert(q_is(v->spot_points[4].price.flat, "88/100"));
	gb_prices_free(p);
}
END_TEST

START_TEST(test_fixture_minimal)
{
	gb_prices *p = load_file("prices/minimal.json");
	const gb_version *v = &p->versions[0];

	ck_assert_str_eq(gb_prices_currency(p), "JPY");
	ck_assert_uint_eq(gb_prices_minor_units(p), 0);
	ck_assert_int_eq(gb_prices_rounding(p), GB_ROUND_UP);
	ck_assert(flat_is(gb_version_gpu_rate(v, "L40S", "x")->on_demand, "150"));
	gb_prices_free(p);
}
END_TEST

/* --- versions and lookups ------------------------------------------------ */

START_TEST(test_version_at)
{
	gb_prices *p = load_file("prices/out-of-order.json");

	/* The file lists 2026-10-15, 2026-01-01, 2026-06-01: sorted here. */
	ck_assert_uint_eq(gb_prices_version_count(p), 3);
	ck_assert_int_eq(p->versions[0].effective_from, T_2026_01_01);
	ck_assert_int_eq(p->versions[2].effective_from, T_2026_10_15);
	ck_assert_int_eq(gb_prices_version_at(p, INT64_MIN), -1);
	ck_assert_int_eq(gb_prices_version_at(p, T_2026_01_01 - 1), -1);
	ck_assert_int_eq(gb_prices_version_at(p, T_2026_01_01), 0);
	ck_assert_int_eq(gb_prices_version_at(p, T_2026_01_01 + 86400), 0);
	ck_assert_int_eq(gb_prices_version_at(p, T_2026_10_15 - 1), 1);
	ck_assert_int_eq(gb_prices_version_at(p, T_2026_10_15), 2);
	ck_assert_int_eq(gb_prices_version_at(p, INT64_MAX), 2);
	ck_assert(flat_is(version(p, T_2026_01_01)->gpu_rates[0].on_demand, "1"));
	ck_assert(flat_is(version(p, T_2026_10_15)->gpu_rates[0].on_demand, "3"));
	gb_prices_free(p);
}
END_TEST

START_TEST(test_gpu_rate_lookup)
{
	gb_prices *p = load_ok(GPU(
		"{'sku': 'H100-SXM', 'region': '*', 'on_demand': '2.50'},"
		"{'sku': 'H100-SXM', 'region': 'us-east', 'on_demand': '2.40'},"
		"{'sku': 'A100-80GB', 'region': 'us-west', 'spot': '0.50'}"));
	const gb_version *v = &p->versions[0];

	ck_assert(flat_is(gb_version_gpu_rate(v, "H100-SXM", "us-east")->on_demand, "240/100"));
	ck_assert(flat_is(gb_version_gpu_rate(v, "H100-SXM", "eu-west")->on_demand, "250/100"));
	ck_assert_str_eq(gb_version_gpu_rate(v, "A100-80GB", "us-west")->region, "us-west");
	ck_assert_ptr_null(gb_version_gpu_rate(v, "A100-80GB", "eu-west"));
	ck_assert_ptr_null(gb_version_gpu_rate(v, "B200", "us-east"));
	ck_assert_ptr_null(gb_version_gpu_rate(v, "A100-80GB", "us-west")->on_demand);
	/* Defaults of the gpu object. */
	ck_assert(v->has_gpu && !v->has_tokens);
	ck_assert_int_eq(v->increment_seconds, 1);
	ck_assert_int_eq(v->minimum_seconds, 0);
	ck_assert_int_eq(v->spot_interruption_free_seconds, 0);
	ck_assert(q_is(v->batch_discount, "0"));
	ck_assert_uint_eq(gb_prices_minor_units(p), 2);
	ck_assert_int_eq(gb_prices_rounding(p), GB_ROUND_HALF_EVEN);
	gb_prices_free(p);
}
END_TEST

START_TEST(test_token_rate_lookup)
{
	gb_prices *p = load_ok(TOKENS("'rates': ["
		"{'model': 'm', 'input': '1.00'},"
		"{'model': 'm', 'region': 'eu-west', 'input': '1.20', 'output': '2'},"
		"{'model': 'only-eu', 'region': 'eu-west', 'output': '3'}]"));
	const gb_version *v = &p->versions[0];

	ck_assert_str_eq(gb_version_token_rate(v, "m", NULL)->region, "*");
	ck_assert(flat_is(gb_version_token_rate(v, "m", "us-east")->input, "1"));
	ck_assert(flat_is(gb_version_token_rate(v, "m", "eu-west")->input, "6/5"));
	ck_assert_ptr_null(gb_version_token_rate(v, "m", "us-east")->output);
	ck_assert_ptr_nonnull(gb_version_token_rate(v, "only-eu", "eu-west"));
	ck_assert_ptr_null(gb_version_token_rate(v, "only-eu", NULL));
	ck_assert_ptr_null(gb_version_token_rate(v, "nope", "eu-west"));
	ck_assert(!v->has_gpu && v->has_tokens);
	gb_prices_free(p);
}
END_TEST

START_TEST(test_reserved_and_tiers)
{
	gb_prices *p = load_ok(GPU("{'sku': 'H100-SXM', 'region': '*',"
		"'reserved': {'1y': '1.625', '3y': {'mode': 'graduated', 'tiers': ["
		"{'up_to': '0.5', 'price': '1.20'}, {'up_to': null, 'price': '1'}]}}}"));
	const gb_gpu_rate *r = &p->versions[0].gpu_rates[0];
	const gb_price *y3 = gb_gpu_rate_reserved(r, "3y");

	ck_assert_uint_eq(r->nreserved, 2);
	ck_assert_str_eq(r->reserved[0].term, "1y");
	ck_assert(flat_is(gb_gpu_rate_reserved(r, "1y"), "13/8"));
	ck_assert_ptr_null(gb_gpu_rate_reserved(r, "5y"));
	ck_assert_ptr_null(r->on_demand);
	ck_assert_int_eq(y3->mode, GB_PRICE_GRADUATED);
	ck_assert(q_is(y3->tiers[0].up_to, "1/2"));
	ck_assert(q_is(y3->tiers[0].price, "6/5"));
	gb_prices_free(p);
}
END_TEST

START_TEST(test_optional_text_and_defaults)
{
	gb_prices *p = load_ok("{'format': 'gpubill-pricing/1', 'name': 'n',"
		"'description': 'free text', 'currency': 'EUR', 'minor_units': 3,"
		"'rounding': 'down', 'versions': [{'effective_from':"
		"'2026-01-01T05:00:00+05:00', 'description': '', 'note': 'x',"
		"'tokens': {'batch_discount': '1', 'rates': []},"
		"'gpu': {'increment_seconds': 60, 'minimum_seconds': 0, 'rates': [],"
		"'spot_prices': [{'sku': 's', 'region': '*',"
		"'from': '2026-01-01T00:00:00Z', 'price': '0'}]}}]}");
	const gb_version *v = &p->versions[0];

	ck_assert_str_eq(gb_prices_currency(p), "EUR");
	ck_assert_uint_eq(gb_prices_minor_units(p), 3);
	ck_assert_int_eq(gb_prices_rounding(p), GB_ROUND_DOWN);
	ck_assert_int_eq(v->effective_from, T_2026_01_01);
	ck_assert_int_eq(v->increment_seconds, 60);
	ck_assert(q_is(v->batch_discount, "1"));
	ck_assert_uint_eq(v->ngpu_rates, 0);
	ck_assert_uint_eq(v->ntoken_rates, 0);
	ck_assert_uint_eq(v->nspot_points, 1);
	gb_prices_free(p);
}
END_TEST

START_TEST(test_null_handles)
{
	gb_error err;

	gb_prices_free(NULL);
	ck_assert_ptr_null(gb_prices_name(NULL));
	ck_assert_uint_eq(gb_prices_version_count(NULL), 0);
	ck_assert_int_eq(gb_prices_load(NULL, "{}", 2, "x", &err), GB_EINVAL);
	ck_assert_int_eq(err.code, GB_EINVAL);
}
END_TEST

/* --- syntax errors ------------------------------------------------------- */

START_TEST(test_err_syntax_position)
{
	expect_syntax("{\n  'format': 'gpubill-pricing/1',\n  'name' 'x'\n}",
		      3, 10, "JSON syntax error near '\"x\"'");
	/* Columns count characters, not bytes. */
	expect_syntax("{'name': '\xc3\xa9\xc3\xa9', x}", 1, 16, "near 'x}'");
	expect_syntax("{'a': 1, x}", 1, 10, "near 'x}'");
	expect_syntax("{\n  x: 1}", 2, 3, "near 'x: 1}'");
	expect_syntax("{'a': 1,\n 'b' 1}", 2, 6, "near '1}'");
	expect_syntax("{'name': 'x, 'currency': 'USD'}", 1, 15, "near 'currency");
}
END_TEST

START_TEST(test_err_syntax_fixture)
{
	gb_prices *p = (gb_prices *)1;
	gb_error err;
	size_t len;
	char *data = slurp("prices/missing-comma.json", &len);
	int rc = gb_prices_load(&p, data, len, "test.json", &err);

	free(data);
	check_err(rc, p, &err, GB_ESYNTAX, "", "JSON syntax error near '{\"sku\": \"H200\"");
	ck_assert_uint_eq(err.line, 12);
	ck_assert_uint_eq(err.column, 9);
}
END_TEST

START_TEST(test_err_truncated)
{
	expect_syntax("{'format': 'gpubill-pricing/1', 'name': 'x'", 1, 44,
		      "unexpected end of input");
	expect_syntax("{'format': 'gpubill-pricing/1', 'name': 'x", 1, 43,
		      "unexpected end of input");
	expect_syntax("{'versions': [\n", 2, 1, "unexpected end of input");
	/* A bad last byte is not a truncation. */
	expect_syntax("{'a': 1,}", 1, 9, "JSON syntax error near '}'");
}
END_TEST

START_TEST(test_err_empty)
{
	gb_prices *p = (gb_prices *)1;
	gb_error err;

	int rc;

	rc = load_n(&p, "", 0, &err);
	check_err(rc, p, &err, GB_ESYNTAX, "", "empty file");
	p = (gb_prices *)1;
	rc = load_n(&p, NULL, 0, &err);
	check_err(rc, p, &err, GB_ESYNTAX, "", "empty file");
	rc = load_n(&p, " \n\t\r\n", 5, &err);
	check_err(rc, p, &err, GB_ESYNTAX, "", "empty file");
}
END_TEST

START_TEST(test_err_top_level_not_object)
{
	expect_schema("[{'format': 'gpubill-pricing/1'}]", "",
		      "expected a JSON object at the top level, got an array");
	expect_schema("\"gpubill-pricing/1\"", "", "got a string");
}
END_TEST

START_TEST(test_err_deep_nesting)
{
	size_t n = 10000, len = 2 * n;
	char *s = malloc(len);

	ck_assert_ptr_nonnull(s);
	memset(s, '[', n);
	memset(s + n, ']', n);
	expect_syntax_n(s, len, 1, 65, "nested more than 64 levels deep");
	/* Unbalanced, as a fuzzer would write it. */
	expect_syntax_n(s, n, 1, 65, "nested more than 64 levels deep");
	free(s);
}
END_TEST

START_TEST(test_err_nul_byte)
{
	static const char data[] = "{\n \"format\": \"gpubill-pri\0cing/1\"}";

	expect_syntax_n(data, sizeof data - 1, 2, 24, "NUL byte");
	expect_syntax("{'name': 'a\\u0000b'}", 1, 12, "\\u0000 is not allowed");
	expect_syntax("{'name': 'a\nb'}", 1, 12, "control character in a string");
	expect_syntax_n("\xff\xfe{\0", 4, 1, 1, "UTF-16");
}
END_TEST

START_TEST(test_err_trailing_text)
{
	expect_syntax("{'format': 'gpubill-pricing/1'}\n{}", 2, 1,
		      "unexpected text after the JSON value: '{}'");
}
END_TEST

/* --- keys ---------------------------------------------------------------- */

START_TEST(test_err_duplicate_key)
{
	expect_schema(HEAD "'name': 'again', " VERSION("'gpu': {'rates': []}"),
		      "name", "duplicate key 'name'");
	expect_schema(GPU("{'sku': 'a', 'region': '*', 'sku': 'b', 'spot': '1'}"),
		      "versions[0].gpu.rates[0].sku", "duplicate key 'sku'");
	expect_schema(GPU("{'sku': 'a', 'region': '*', 'reserved': "
			  "{'1y': '1', '3y': '2', '1y': '3'}}"),
		      "versions[0].gpu.rates[0].reserved.1y", "duplicate key '1y'");
}
END_TEST

START_TEST(test_err_unknown_key)
{
	expect_schema(GPU("{'sku': 'a', 'region': '*', 'on_demnad': '2.50'}"),
		      "versions[0].gpu.rates[0].on_demnad",
		      "unknown key 'on_demnad' (did you mean 'on_demand'?)");
	expect_schema(HEAD "'verions': []}", "verions",
		      "(did you mean 'versions'?)");
	expect_schema(GPU("{'sku': 'a', 'region': '*', 'price': '2.50'}"),
		      "versions[0].gpu.rates[0].price",
		      "unknown key 'price' (expected one of: sku, region, on_demand, spot, reserved)");
	expect_schema(HEAD "'a.b': 1}", "[\"a.b\"]", "unknown key 'a.b'");
}
END_TEST

START_TEST(test_err_missing_key)
{
	expect_schema(HEAD "'rounding': 'up'}", "", "missing required key 'versions'");
	expect_schema("{'name': 'x'}", "", "missing required key 'format'");
	expect_schema(GPU("{'sku': 'a', 'on_demand': '1'}"),
		      "versions[0].gpu.rates[0]", "missing required key 'region'");
	expect_schema(HEAD "'versions': [{'gpu': {'rates': []}}]}",
		      "versions[0]", "missing required key 'effective_from'");
}
END_TEST

/* --- prices -------------------------------------------------------------- */

START_TEST(test_err_price_as_number)
{
	gb_prices *p = (gb_prices *)1;
	char line[GB_ERROR_MESSAGE_MAX + 600];
	gb_error err;

	expect_schema(GPU("{'sku': 'a', 'region': '*', 'on_demand': '2.50', 'spot': 0.95}"),
		      "versions[0].gpu.rates[0].spot",
		      "expected a decimal string like \"0.95\", got a number");
	ck_assert_int_eq(load(&p, GPU(RATE ", " RATE ", " RATE ","
		"{'sku': 'b', 'region': '*', 'spot': 0.95}"), &err), GB_ESCHEMA);
	gb_error_format(line, sizeof line, &err);
	ck_assert_str_eq(line, "test.json: versions[0].gpu.rates[3].spot: "
			 "expected a decimal string like \"0.95\", got a number");
	expect_schema(GPU("{'sku': 'a', 'region': '*', 'spot': null}"),
		      "versions[0].gpu.rates[0].spot",
		      "expected a decimal string like \"0.95\" or a tier object, got null");
}
END_TEST

START_TEST(test_err_bad_decimal)
{
	expect_schema(GPU("{'sku': 'a', 'region': '*', 'on_demand': '1e3'}"),
		      "versions[0].gpu.rates[0].on_demand",
		      "invalid decimal \"1e3\": exponent notation");
	expect_schema(GPU("{'sku': 'a', 'region': '*', 'on_demand': ' 1'}"),
		      "versions[0].gpu.rates[0].on_demand", "invalid decimal");
	expect_schema(GPU("{'sku': 'a', 'region': '*', 'on_demand': '1.'}"),
		      "versions[0].gpu.rates[0].on_demand", "invalid decimal");
}
END_TEST

START_TEST(test_err_negative_price)
{
	expect_schema(GPU("{'sku': 'a', 'region': '*', 'reserved': {'1y': '-1.00'}}"),
		      "versions[0].gpu.rates[0].reserved.1y",
		      "invalid decimal \"-1.00\": negative");
}
END_TEST

START_TEST(test_err_rate_without_price)
{
	expect_schema(GPU(RATE ", {'sku': 'a', 'region': '*'}"),
		      "versions[0].gpu.rates[1]", "a rate needs at least one price");
	expect_schema(GPU("{'sku': 'a', 'region': '*', 'reserved': {}}"),
		      "versions[0].gpu.rates[0].reserved", "at least one term");
	expect_schema(TOKENS("'rates': [{'model': 'm', 'region': 'x'}]"),
		      "versions[0].tokens.rates[0]", "a rate needs at least one price");
}
END_TEST

/* --- tiers --------------------------------------------------------------- */

#define TIERED(tiers) GPU("{'sku': 'a', 'region': '*', 'on_demand': " \
			  "{'mode': 'volume', 'tiers': [" tiers "]}}")
#define OD "versions[0].gpu.rates[0].on_demand"

START_TEST(test_err_tiers_not_increasing)
{
	expect_schema(TIERED("{'up_to': '10', 'price': '2'}, {'up_to': '10', 'price': '1'},"
			     "{'up_to': null, 'price': '1'}"),
		      OD ".tiers[1].up_to", "greater than the previous tier's");
	expect_schema(TIERED("{'up_to': '0', 'price': '2'}, {'up_to': null, 'price': '1'}"),
		      OD ".tiers[0].up_to", "greater than 0");
}
END_TEST

START_TEST(test_err_tiers_null_not_last)
{
	expect_schema(TIERED("{'up_to': null, 'price': '2'}, {'up_to': null, 'price': '1'}"),
		      OD ".tiers[0].up_to", "only the last tier may have \"up_to\": null");
}
END_TEST

START_TEST(test_err_tiers_last_bounded)
{
	expect_schema(TIERED("{'up_to': '10', 'price': '2'}, {'up_to': '20', 'price': '1'}"),
		      OD ".tiers[1].up_to", "the last tier must have \"up_to\": null");
	expect_schema(TIERED("{'up_to': '10', 'price': '2'}, {'price': '1'}"),
		      OD ".tiers[1]", "missing required key 'up_to' (use null");
}
END_TEST

START_TEST(test_err_tiers_shape)
{
	expect_schema(TIERED(""), OD ".tiers", "must not be empty");
	expect_schema(TIERED("{'up_to': 10, 'price': '2'}, {'up_to': null, 'price': '1'}"),
		      OD ".tiers[0].up_to", "got a number");
	expect_schema(TIERED("{'up_to': null, 'price': 1}"), OD ".tiers[0].price",
		      "expected a decimal string like \"0.95\", got a number");
	expect_schema(GPU("{'sku': 'a', 'region': '*', 'spot': {'mode': 'graduate',"
			  "'tiers': [{'up_to': null, 'price': '1'}]}}"),
		      "versions[0].gpu.rates[0].spot.mode",
		      "unknown tier mode 'graduate' (did you mean 'graduated'?)");
	expect_schema(GPU("{'sku': 'a', 'region': '*', 'spot': {'tiers': []}}"),
		      "versions[0].gpu.rates[0].spot", "missing required key 'mode'");
}
END_TEST

/* --- top-level values ---------------------------------------------------- */

START_TEST(test_err_currency)
{
	expect_schema("{'format': 'gpubill-pricing/1', 'name': 't', 'currency': 'usd'}",
		      "currency", "like \"USD\", got \"usd\"");
	expect_schema("{'format': 'gpubill-pricing/1', 'name': 't', 'currency': 'USDT'}",
		      "currency", "three-letter");
}
END_TEST

START_TEST(test_err_format)
{
	expect_schema("{'format': 'gpubill-pricing/2', 'name': 't'}", "format",
		      "unsupported format \"gpubill-pricing/2\" (this version of gpubill reads \"gpubill-pricing/1\")");
	/* Another gpubill file: the format is named before its unknown keys. */
	expect_schema("{'format': 'gpubill-contracts/1', 'customers': []}", "format",
		      "unsupported format \"gpubill-contracts/1\"");
	expect_schema("{'format': 1}", "format", "got a number");
}
END_TEST

START_TEST(test_err_minor_units)
{
	expect_schema(HEAD "'minor_units': '2'}", "minor_units",
		      "expected an integer, got a string (write 2 without quotes)");
	expect_schema(HEAD "'minor_units': 'two'}", "minor_units",
		      "expected an integer, got a string");
	expect_schema(HEAD "'minor_units': 2.5}", "minor_units",
		      "expected an integer from 0 to 6");
	expect_schema(HEAD "'minor_units': 7}", "minor_units",
		      "expected an integer from 0 to 6");
	expect_schema(HEAD "'minor_units': 1e300}", "minor_units",
		      "expected an integer from 0 to 6");
	expect_schema(HEAD "'minor_units': true}", "minor_units",
		      "expected an integer, got true");
	expect_schema(HEAD VERSION("'gpu': {'increment_seconds': 0, 'rates': []}"),
		      "versions[0].gpu.increment_seconds",
		      "expected an integer from 1 to 31622400");
}
END_TEST

START_TEST(test_err_rounding)
{
	expect_schema(HEAD "'rounding': 'half-even'}", "rounding",
		      "unknown rounding mode 'half-even' (did you mean 'half_even'?)");
	expect_schema(HEAD "'rounding': 'bankers'}", "rounding",
		      "(expected one of: half_even, half_up, down, up)");
}
END_TEST

/* --- versions ------------------------------------------------------------ */

START_TEST(test_err_effective_from)
{
	expect_schema(HEAD "'versions': [{'effective_from': '2026-01-01T00:30:00Z',"
		      "'gpu': {'rates': []}}]}", "versions[0].effective_from",
		      "must fall on a whole UTC hour, got 2026-01-01T00:30:00Z");
	/* +05:30 moves a local whole hour off the UTC hour. */
	expect_schema(HEAD "'versions': [{'effective_from': '2026-01-01T05:00:00+05:30',"
		      "'gpu': {'rates': []}}]}", "versions[0].effective_from",
		      "whole UTC hour");
	expect_schema(HEAD "'versions': [{'effective_from': '2026-13-01T00:00:00Z',"
		      "'gpu': {'rates': []}}]}", "versions[0].effective_from",
		      "invalid timestamp \"2026-13-01T00:00:00Z\"");
}
END_TEST

START_TEST(test_err_versions)
{
	expect_schema(HEAD "'versions': []}", "versions", "must not be empty");
	expect_schema(HEAD "'versions': {}}", "versions", "expected an array, got an object");
	expect_schema(HEAD "'versions': [{'effective_from': '2026-01-01T00:00:00Z'}]}",
		      "versions[0]", "a version needs \"gpu\" or \"tokens\"");
	expect_schema(HEAD "'versions': ["
		      "{'effective_from': '2026-06-01T00:00:00Z', 'gpu': {'rates': []}},"
		      "{'effective_from': '2026-01-01T00:00:00Z', 'gpu': {'rates': []}},"
		      "{'effective_from': '2026-06-01T02:00:00+02:00', 'gpu': {'rates': []}}]}",
		      "versions[2].effective_from",
		      "versions[0] is already effective from 2026-06-01T00:00:00Z");
}
END_TEST

/* --- uniqueness ---------------------------------------------------------- */

START_TEST(test_err_duplicate_rate)
{
	expect_schema(GPU(RATE ", {'sku': 'B200', 'region': '*', 'spot': '1'}, " RATE),
		      "versions[0].gpu.rates[2]",
		      "duplicate rate for sku 'H100-SXM' in region '*' (first given at rates[0])");
	expect_schema(TOKENS("'rates': [{'model': 'm', 'input': '1'},"
			     "{'model': 'm', 'region': '*', 'output': '1'}]"),
		      "versions[0].tokens.rates[1]",
		      "duplicate rate for model 'm' in region '*'");
	expect_schema(HEAD VERSION("'gpu': {'rates': [], 'spot_prices': ["
		"{'sku': 's', 'region': 'r', 'from': '2026-01-02T00:00:00Z', 'price': '1'},"
		"{'sku': 's', 'region': 'r', 'from': '2026-01-03T00:00:00Z', 'price': '1'},"
		"{'sku': 's', 'region': 'r', 'from': '2026-01-02T00:00:00Z', 'price': '2'}]}"),
		"versions[0].gpu.spot_prices[2]",
		"duplicate spot price for sku 's' in region 'r' from 2026-01-02T00:00:00Z");
}
END_TEST

START_TEST(test_err_many_rates)
{
	/* 20,000 rates with a repeat at the end: found fast, reported right. */
	size_t n = 20000, i, o = 0, size = n * 64 + 256;
	char *s = malloc(size);
	gb_prices *p = (gb_prices *)1;
	gb_error err;

	ck_assert_ptr_nonnull(s);
	o += (size_t)snprintf(s + o, size - o, "%s", HEAD "'versions': [{"
			      "'effective_from': '2026-01-01T00:00:00Z', 'gpu': {'rates': [");
	for (i = 0; i < n; i++)
		o += (size_t)snprintf(s + o, size - o,
				      "%s{'sku': 's%zu', 'region': '*', 'spot': '1'}",
				      i ? "," : "", i == n - 1 ? (size_t)7 : i);
	o += (size_t)snprintf(s + o, size - o, "]}}]}");
	ck_assert_int_eq(load(&p, s, &err), GB_ESCHEMA);
	ck_assert_str_eq(err.path, "versions[0].gpu.rates[19999]");
	ck_assert_ptr_nonnull(strstr(err.message, "first given at rates[7]"));
	free(s);
}
END_TEST

START_TEST(test_err_batch_discount)
{
	expect_schema(TOKENS("'batch_discount': '1.5', 'rates': []"),
		      "versions[0].tokens.batch_discount",
		      "batch_discount must be from 0 to 1");
	expect_schema(TOKENS("'batch_discount': 0.5, 'rates': []"),
		      "versions[0].tokens.batch_discount",
		      "expected a decimal string like \"0.50\", got a number");
}
END_TEST

START_TEST(test_err_strings)
{
	expect_schema(HEAD VERSION("'gpu': {'rates': [{'sku': '', 'region': '*', 'spot': '1'}]}"),
		      "versions[0].gpu.rates[0].sku", "must not be empty");
	expect_schema(HEAD VERSION("'gpu': {'rates': [{'sku': 5, 'region': '*', 'spot': '1'}]}"),
		      "versions[0].gpu.rates[0].sku", "expected a string, got a number");
	expect_schema(GPU("{'sku': 'a', 'region': '*', 'reserved': {'': '1'}}"),
		      "versions[0].gpu.rates[0].reserved[\"\"]", "must not be empty");
	expect_schema("{'format': 'gpubill-pricing/1', 'name': ''}", "name",
		      "must not be empty");
}
END_TEST

static Suite *prices_suite(void)
{
	Suite *s = suite_create("prices");
	TCase *ok = tcase_create("load");
	TCase *syn = tcase_create("syntax");
	TCase *sch = tcase_create("schema");

	tcase_add_test(ok, test_default_table);
	tcase_add_test(ok, test_neocloud_table);
	tcase_add_test(ok, test_spot_points_sorted);
	tcase_add_test(ok, test_fixture_minimal);
	tcase_add_test(ok, test_version_at);
	tcase_add_test(ok, test_gpu_rate_lookup);
	tcase_add_test(ok, test_token_rate_lookup);
	tcase_add_test(ok, test_reserved_and_tiers);
	tcase_add_test(ok, test_optional_text_and_defaults);
	tcase_add_test(ok, test_null_handles);
	suite_add_tcase(s, ok);

	tcase_add_test(syn, test_err_syntax_position);
	tcase_add_test(syn, test_err_syntax_fixture);
	tcase_add_test(syn, test_err_truncated);
	tcase_add_test(syn, test_err_empty);
	tcase_add_test(syn, test_err_top_level_not_object);
	tcase_add_test(syn, test_err_deep_nesting);
	tcase_add_test(syn, test_err_nul_byte);
	tcase_add_test(syn, test_err_trailing_text);
	suite_add_tcase(s, syn);

	tcase_add_test(sch, test_err_duplicate_key);
	tcase_add_test(sch, test_err_unknown_key);
	tcase_add_test(sch, test_err_missing_key);
	tcase_add_test(sch, test_err_price_as_number);
	tcase_add_test(sch, test_err_bad_decimal);
	tcase_add_test(sch, test_err_negative_price);
	tcase_add_test(sch, test_err_rate_without_price);
	tcase_add_test(sch, test_err_tiers_not_increasing);
	tcase_add_test(sch, test_err_tiers_null_not_last);
	tcase_add_test(sch, test_err_tiers_last_bounded);
	tcase_add_test(sch, test_err_tiers_shape);
	tcase_add_test(sch, test_err_currency);
	tcase_add_test(sch, test_err_format);
	tcase_add_test(sch, test_err_minor_units);
	tcase_add_test(sch, test_err_rounding);
	tcase_add_test(sch, test_err_effective_from);
	tcase_add_test(sch, test_err_versions);
	tcase_add_test(sch, test_err_duplicate_rate);
	tcase_add_test(sch, test_err_many_rates);
	tcase_add_test(sch, test_err_batch_discount);
	tcase_add_test(sch, test_err_strings);
	/* Valgrind runs these unforked and slower than Check's 4 s default. */
	tcase_set_timeout(sch, 60);
	suite_add_tcase(s, sch);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(prices_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
