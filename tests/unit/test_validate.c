/*
 * test_validate.c - gpubill validate's library side: collect mode in the
 * loaders (every problem, once, with a code, path, position and hint),
 * the warnings, contracts and costs against the tables, the writers, and
 * that normal loads are unchanged.
 *
 * JSON in this file is written with single quotes for readability; dq()
 * turns them into double quotes.  Lines and columns in the expectations
 * are counted in the JSON text after that, from 1.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gpubill/alloc.h>
#include <gpubill/validate.h>
#include "json_load.h"
#include "prices_internal.h"
#include "test_data.h"

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

typedef int (*add_fn)(gb_validator *, const char *, size_t, const char *,
		      gb_error *);

/* Add the (single-quoted) json as kind to v; returns the add's result. */
static int add(gb_validator *v, add_fn fn, const char *json,
	       const char *source)
{
	char *s = dq(json);
	gb_error err;
	int rc = fn(v, s, strlen(s), source, &err);

	free(s);
	return rc;
}

static gb_validator *fresh(void)
{
	gb_validator *v = NULL;
	gb_error err;

	ck_assert_int_eq(gb_validator_new(&v, &err), 0);
	return v;
}

/* A validator holding one pricing table. */
static gb_validator *table(const char *json)
{
	gb_validator *v = fresh();

	ck_assert_int_eq(add(v, gb_validator_add_prices, json, "t.json"), 0);
	return v;
}

/* The finding with code at path, or NULL. */
static const gb_finding *find(const gb_validator *v, const char *code,
			      const char *path)
{
	size_t i;

	for (i = 0; i < gb_validator_count(v); i++) {
		const gb_finding *f = gb_validator_get(v, i);

		if (strcmp(f->code, code) == 0 && strcmp(f->path, path) == 0)
			return f;
	}
	return NULL;
}

static size_t count_code(const gb_validator *v, const char *code)
{
	size_t i, n = 0;

	for (i = 0; i < gb_validator_count(v); i++)
		n += strcmp(gb_validator_get(v, i)->code, code) == 0;
	return n;
}

static void dump(const gb_validator *v)
{
	size_t i;

	for (i = 0; i < gb_validator_count(v); i++) {
		const gb_finding *f = gb_validator_get(v, i);

		fprintf(stderr, "  %s:%llu:%llu %s %s %s: %s [%s]\n", f->source,
			(unsigned long long)f->line,
			(unsigned long long)f->column, f->path,
			gb_severity_name(f->severity), f->code, f->message,
			f->hint);
	}
}

/* Exactly one finding, with these fields (hint NULL: not checked). */
static void only(const gb_validator *v, gb_severity sev, const char *code,
		 const char *path, const char *message, const char *hint)
{
	const gb_finding *f;

	if (gb_validator_count(v) != 1)
		dump(v);
	ck_assert_uint_eq(gb_validator_count(v), 1);
	f = gb_validator_get(v, 0);
	ck_assert_int_eq(f->severity, sev);
	ck_assert_str_eq(f->code, code);
	ck_assert_str_eq(f->path, path);
	ck_assert_str_eq(f->message, message);
	if (hint)
		ck_assert_str_eq(f->hint, hint);
}

/* A table around one version's "gpu" rates. */
#define HEAD "{'format': 'gpubill-pricing/1', 'name': 't', 'currency': 'USD', "
#define GPU(rates) HEAD "'versions': [{'effective_from': '2026-01-01T00:00:00Z'," \
	" 'gpu': {'rates': [" rates "]}}]}"
#define RATE(more) GPU("{'sku': 'H100', 'region': '*', " more "}")
#define R0 "versions[0].gpu.rates[0]"

/* --- the shipped tables -------------------------------------------------- */

START_TEST(test_default_table_is_clean)
{
	size_t len, i;
	char *data = slurp("../../pricing-tables/default.json", &len);
	gb_validator *v = fresh();
	gb_error err;

	ck_assert_int_eq(gb_validator_add_prices(v, data, len, "default.json",
						 &err), 0);
	free(data);
	/* The example contracts are written for the default table. */
	data = slurp("contracts/example.json", &len);
	ck_assert_int_eq(gb_validator_add_contracts(v, data, len,
						    "example.json", &err), 0);
	free(data);
	if (gb_validator_count(v))
		dump(v);
	ck_assert_uint_eq(gb_validator_count(v), 0);
	ck_assert_uint_eq(gb_validator_files(v), 2);
	for (i = 0; i < 2; i++) {
		size_t e = 9, w = 9;
		int nj = 9;

		ck_assert_int_eq(gb_validator_file(v, i, NULL, NULL, &e, &w,
						   &nj), 0);
		ck_assert_uint_eq(e + w, 0);
		ck_assert_int_eq(nj, 0);
	}
	ck_assert_int_eq(gb_validator_file(v, 2, NULL, NULL, NULL, NULL, NULL),
			 GB_EINVAL);
	gb_validator_free(v);
}
END_TEST

START_TEST(test_neocloud_table_is_clean)
{
	size_t len;
	char *data = slurp("../../pricing-tables/example-neocloud.json", &len);
	gb_validator *v = fresh();
	gb_error err;

	ck_assert_int_eq(gb_validator_add_prices(v, data, len, "n.json", &err),
			 0);
	if (gb_validator_count(v))
		dump(v);
	ck_assert_uint_eq(gb_validator_count(v), 0);
	free(data);
	gb_validator_free(v);
}
END_TEST

/* --- errors: one finding each, with code, path, position and hint ------- */

START_TEST(test_unknown_key)
{
	/* {"format": ... is line 1; the key starts at column 88. */
	gb_validator *v = table(RATE("'on_demand': '2.50', 'spto': '1.00'"));
	const gb_finding *f;

	only(v, GB_SEVERITY_ERROR, "unknown_key", R0 ".spto",
	     "unknown key 'spto'", "did you mean 'spot'?");
	f = gb_validator_get(v, 0);
	ck_assert_uint_eq(f->line, 1);
	ck_assert_str_eq(f->source, "t.json");
	gb_validator_free(v);
}
END_TEST

START_TEST(test_unknown_key_without_guess)
{
	gb_validator *v = table(RATE("'on_demand': '2.50', 'colour': 'red'"));

	only(v, GB_SEVERITY_ERROR, "unknown_key", R0 ".colour",
	     "unknown key 'colour'",
	     "expected one of: sku, region, on_demand, spot, reserved");
	gb_validator_free(v);
}
END_TEST

/* A misspelt key is read as the one it was meant to be: one finding, and
 * its value is still checked. */
START_TEST(test_misspelt_key_is_read)
{
	gb_validator *v = table("{'format': 'gpubill-pricing/1', 'name': 't',"
				" 'curency': 'usd', 'versions': [{'effective_from':"
				" '2026-01-01T00:00:00Z', 'gpu': {'rates': [{'sku':"
				" 'H100', 'region': '*', 'on_demand': '1'}]}}]}");

	ck_assert_uint_eq(gb_validator_count(v), 2);
	ck_assert_ptr_nonnull(find(v, "unknown_key", "curency"));
	ck_assert_ptr_nonnull(find(v, "invalid_value", "currency"));
	ck_assert_uint_eq(count_code(v, "missing_key"), 0);
	gb_validator_free(v);
}
END_TEST

START_TEST(test_duplicate_key_points_at_the_second)
{
	const char *json =
		"{'format': 'gpubill-pricing/1', 'name': 't',\n"
		" 'currency': 'USD',\n"
		" 'currency': 'EUR',\n"
		" 'versions': [{'effective_from': '2026-01-01T00:00:00Z',"
		" 'gpu': {'rates': [{'sku': 'H', 'region': '*', 'on_demand': '1'}]}}]}";
	gb_validator *v = table(json);
	const gb_finding *f;

	only(v, GB_SEVERITY_ERROR, "duplicate_key", "currency",
	     "duplicate key 'currency'",
	     "keep one 'currency' and remove the other: only one value can count");
	f = gb_validator_get(v, 0);
	ck_assert_uint_eq(f->line, 3);
	ck_assert_uint_eq(f->column, 2);
	gb_validator_free(v);
}
END_TEST

START_TEST(test_price_as_number_shows_it_as_written)
{
	gb_validator *v = table(RATE("'on_demand': 2.50"));

	only(v, GB_SEVERITY_ERROR, "price_as_number", R0 ".on_demand",
	     "expected a decimal string like \"0.95\", got a number",
	     "write it as a string: \"2.50\"");
	gb_validator_free(v);
}
END_TEST

START_TEST(test_integer_as_string)
{
	gb_validator *v = table(HEAD "'versions': [{'effective_from': "
				"'2026-01-01T00:00:00Z', 'gpu': {'minimum_seconds':"
				" '60', 'rates': [{'sku': 'H', 'region': '*',"
				" 'on_demand': '1'}]}}]}");

	only(v, GB_SEVERITY_ERROR, "integer_as_string",
	     "versions[0].gpu.minimum_seconds",
	     "expected an integer, got a string", "write 60 without quotes");
	gb_validator_free(v);
}
END_TEST

START_TEST(test_not_on_hour_suggests_the_hour)
{
	gb_validator *v = table(HEAD "'versions': [{'effective_from': "
				"'2026-03-01T05:30:00Z', 'gpu': {'rates': [{'sku':"
				" 'H', 'region': '*', 'on_demand': '1'}]}}]}");

	only(v, GB_SEVERITY_ERROR, "not_on_hour", "versions[0].effective_from",
	     "effective_from must fall on a whole UTC hour, got 2026-03-01T05:30:00Z",
	     "start at a whole hour, like \"2026-03-01T05:00:00Z\"");
	gb_validator_free(v);
}
END_TEST

START_TEST(test_missing_key_once)
{
	/* No "sku": one finding, not also a bad rate or a duplicate. */
	gb_validator *v = table(GPU("{'region': '*', 'on_demand': '1'},"
				    " {'region': '*', 'on_demand': '2'}"));

	ck_assert_uint_eq(gb_validator_count(v), 2);
	ck_assert_ptr_nonnull(find(v, "missing_key", R0));
	ck_assert_ptr_nonnull(find(v, "missing_key", "versions[0].gpu.rates[1]"));
	ck_assert_str_eq(gb_validator_get(v, 0)->hint, "add a \"sku\" member");
	gb_validator_free(v);
}
END_TEST

START_TEST(test_tiers_not_increasing)
{
	gb_validator *v = table(RATE("'on_demand': {'mode': 'volume', 'tiers': ["
				     "{'up_to': '1000', 'price': '3'},"
				     "{'up_to': '500', 'price': '2'},"
				     "{'up_to': null, 'price': '1'}]}"));

	only(v, GB_SEVERITY_ERROR, "tiers_not_increasing",
	     R0 ".on_demand.tiers[1].up_to",
	     "up_to must be greater than the previous tier's up_to",
	     "list tiers by increasing up_to: this one must be above \"1000\" (tier 1)");
	gb_validator_free(v);
}
END_TEST

/* A tier whose bound cannot be read is not compared with the next. */
START_TEST(test_bad_tier_bound_once)
{
	gb_validator *v = table(RATE("'on_demand': {'mode': 'graduated', 'tiers': ["
				     "{'up_to': 'lots', 'price': '3'},"
				     "{'up_to': '5', 'price': '2'},"
				     "{'up_to': null, 'price': '1'}]}"));

	only(v, GB_SEVERITY_ERROR, "bad_decimal", R0 ".on_demand.tiers[0].up_to",
	     "invalid decimal \"lots\": not a decimal number",
	     "write a plain decimal number like \"1000\"");
	gb_validator_free(v);
}
END_TEST

START_TEST(test_many_errors_in_one_run)
{
	gb_validator *v = table(
		"{'format': 'gpubill-pricing/1', 'name': 't', 'currency': 'USD',"
		" 'rounding': 'half_evn', 'versions': ["
		" {'effective_from': '2026-01-01T00:00:00Z', 'gpu': {"
		"  'increment_seconds': 0, 'rates': ["
		"  {'sku': 'A', 'region': '*', 'on_demand': '1', 'spot': '0,5'},"
		"  {'sku': 'A', 'region': '*', 'on_demand': '2'},"
		"  {'sku': 'B', 'region': '*'},"
		"  {'sku': 'C', 'region': '*', 'on_demand': '1', 'on_demand': '2'}]},"
		"  'tokens': {'batch_discount': '1.5', 'rates': []}},"
		" {'effective_from': '2026-01-01T00:00:00Z', 'tokens': {'rates': ["
		"  {'model': 'm', 'input': 1}]}}]}");

	ck_assert_ptr_nonnull(find(v, "unknown_value", "rounding"));
	ck_assert_ptr_nonnull(find(v, "out_of_range", "versions[0].gpu.increment_seconds"));
	ck_assert_ptr_nonnull(find(v, "bad_decimal", R0 ".spot"));
	ck_assert_ptr_nonnull(find(v, "duplicate_entry", "versions[0].gpu.rates[1]"));
	ck_assert_ptr_nonnull(find(v, "no_price", "versions[0].gpu.rates[2]"));
	ck_assert_ptr_nonnull(find(v, "duplicate_key", "versions[0].gpu.rates[3].on_demand"));
	ck_assert_ptr_nonnull(find(v, "out_of_range", "versions[0].tokens.batch_discount"));
	ck_assert_ptr_nonnull(find(v, "duplicate_entry", "versions[1].effective_from"));
	ck_assert_ptr_nonnull(find(v, "price_as_number", "versions[1].tokens.rates[0].input"));
	if (gb_validator_count(v) != 9)
		dump(v);
	ck_assert_uint_eq(gb_validator_errors(v), 9);
	ck_assert_uint_eq(gb_validator_warnings(v), 0);
	gb_validator_free(v);
}
END_TEST

/* Findings come sorted by position, whatever order they were found in. */
START_TEST(test_sorted_by_position)
{
	gb_validator *v = table(
		"{'format': 'gpubill-pricing/1',\n"
		" 'versions': [{'effective_from': '2026-01-01T00:00:00Z',\n"
		"   'gpu': {'rates': [{'sku': 'H', 'region': '*', 'on_demand': 1}]}}],\n"
		" 'name': 7, 'currency': 'usd'}");
	size_t i;

	ck_assert_uint_eq(gb_validator_count(v), 3);
	for (i = 1; i < 3; i++) {
		const gb_finding *a = gb_validator_get(v, i - 1);
		const gb_finding *b = gb_validator_get(v, i);

		ck_assert(a->line < b->line ||
			  (a->line == b->line && a->column < b->column));
	}
	ck_assert_str_eq(gb_validator_get(v, 0)->path,
			 "versions[0].gpu.rates[0].on_demand");
	ck_assert_str_eq(gb_validator_get(v, 1)->path, "name");
	ck_assert_str_eq(gb_validator_get(v, 2)->path, "currency");
	gb_validator_free(v);
}
END_TEST

START_TEST(test_wrong_format_stops)
{
	gb_validator *v = table("{'format': 'gpubill-contracts/1', 'customers': []}");

	only(v, GB_SEVERITY_ERROR, "bad_format", "format",
	     "unsupported format \"gpubill-contracts/1\"",
	     "this version of gpubill reads \"gpubill-pricing/1\"");
	gb_validator_free(v);
}
END_TEST

START_TEST(test_syntax_error)
{
	gb_validator *v = fresh();
	const gb_finding *f;
	int nj = 0;

	ck_assert_int_eq(add(v, gb_validator_add_prices,
			     "{'format': 'gpubill-pricing/1',\n 'name' 't'}",
			     "s.json"), GB_ESYNTAX);
	only(v, GB_SEVERITY_ERROR, "syntax_error", "",
	     "JSON syntax error near '\"t\"}'", NULL);
	f = gb_validator_get(v, 0);
	ck_assert_uint_eq(f->line, 2);
	ck_assert_uint_eq(f->column, 9);
	gb_validator_file(v, 0, NULL, NULL, NULL, NULL, &nj);
	ck_assert_int_eq(nj, 1);
	gb_validator_free(v);
}
END_TEST

START_TEST(test_top_level_array)
{
	gb_validator *v = fresh();

	ck_assert_int_eq(add(v, gb_validator_add_prices, "[1, 2]", "a.json"), 0);
	only(v, GB_SEVERITY_ERROR, "wrong_type", "",
	     "expected a JSON object at the top level, got an array", NULL);
	ck_assert_uint_eq(gb_validator_get(v, 0)->line, 1);
	gb_validator_free(v);
}
END_TEST

/* --- normal mode is unchanged -------------------------------------------- */

START_TEST(test_normal_mode_unchanged)
{
	char *s = dq(RATE("'on_demand': '2.50', 'spto': '1.00', 'spot': 1"));
	gb_prices *p = NULL;
	gb_error err;
	char buf[1024];

	ck_assert_int_eq(gb_prices_load(&p, s, strlen(s), "t.json", &err),
			 GB_ESCHEMA);
	ck_assert_ptr_null(p);
	gb_error_format(buf, sizeof buf, &err);
	ck_assert_str_eq(buf, "t.json: " R0 ".spto: unknown key 'spto' (did you mean 'spot'?)");
	free(s);
	s = dq(RATE("'on_demand': {'mode': 'volume', 'tiers': ["
		    "{'up_to': '10', 'price': '1'}, {'up_to': '5', 'price': '2'},"
		    "{'up_to': null, 'price': '1'}]}"));
	ck_assert_int_eq(gb_prices_load(&p, s, strlen(s), "t.json", &err),
			 GB_ESCHEMA);
	gb_error_format(buf, sizeof buf, &err);
	ck_assert_str_eq(buf, "t.json: " R0 ".on_demand.tiers[1].up_to: up_to must be greater than the previous tier's up_to");
	free(s);
}
END_TEST

/* A collecting context whose callback fails stops the load cleanly. */
static int refuse(const gb_finding *f, void *payload)
{
	(void)f;
	++*(int *)payload;
	return GB_ENOMEM;
}

START_TEST(test_failing_callback_stops)
{
	char *s = dq(RATE("'on_demand': 1, 'spot': 2"));
	int calls = 0;
	gb_error err;
	gb_json_ctx c = {
		.err = &err, .source = "t.json", .kind = "a pricing table",
		.collect = refuse, .collect_payload = &calls
	};
	gb_prices *p = (gb_prices *)&c;

	gb_error_clear(&err);
	ck_assert_int_eq(gb_prices_load_ctx(&c, s, strlen(s), &p), GB_ENOMEM);
	ck_assert_ptr_null(p);
	ck_assert_int_eq(calls, 1);
	ck_assert_int_eq(err.code, GB_ENOMEM);
	gb_json_ctx_release(&c);
	free(s);
}
END_TEST

/* --- warnings ------------------------------------------------------------ */

START_TEST(test_warn_reserved_and_spot)
{
	/* reserved 1y 2.50 = on demand 2.50: at, so warned; 3y 2.49 is below. */
	gb_validator *v = table(RATE("'on_demand': '2.50', 'spot': '2.75',"
				     " 'reserved': {'1y': '2.50', '3y': '2.49'}"));

	ck_assert_uint_eq(gb_validator_count(v), 2);
	ck_assert_ptr_nonnull(find(v, "reserved_at_or_above_on_demand",
				   R0 ".reserved.1y"));
	ck_assert_str_eq(find(v, "spot_at_or_above_on_demand", R0 ".spot")->message,
			 "the spot price 2.75 is at or above the on-demand price 2.50 for H100 in region *");
	ck_assert_int_eq(gb_validator_get(v, 0)->severity, GB_SEVERITY_WARNING);
	ck_assert_uint_eq(gb_validator_errors(v), 0);
	gb_validator_free(v);
}
END_TEST

/* Tiered: warned only when even the lowest tier is at or above the
 * highest on-demand price. */
START_TEST(test_warn_tiered_bounds)
{
	gb_validator *v = table(RATE("'on_demand': {'mode': 'volume', 'tiers': ["
				     "{'up_to': '10', 'price': '3.00'},"
				     "{'up_to': null, 'price': '2.00'}]},"
				     " 'spot': '2.50'"));

	ck_assert_uint_eq(gb_validator_count(v), 0);
	gb_validator_free(v);
	v = table(RATE("'on_demand': {'mode': 'volume', 'tiers': ["
		       "{'up_to': '10', 'price': '3.00'},"
		       "{'up_to': null, 'price': '2.00'}]},"
		       " 'reserved': {'1y': '3.00'}"));
	only(v, GB_SEVERITY_WARNING, "reserved_at_or_above_on_demand",
	     R0 ".reserved.1y",
	     "the reserved 1y price 3.00 is at or above the on-demand price 3.00 (its highest tier price) for H100 in region *",
	     NULL);
	gb_validator_free(v);
}
END_TEST

START_TEST(test_warn_spot_series)
{
	/* us-east has no rate of its own: the "*" on-demand price applies. */
	gb_validator *v = table(HEAD "'versions': [{'effective_from': "
				"'2026-01-01T00:00:00Z', 'gpu': {'rates': [{'sku':"
				" 'H', 'region': '*', 'on_demand': '2.00'}],"
				" 'spot_prices': ["
				"{'sku': 'H', 'region': 'us-east', 'from': '2026-02-01T00:00:00Z', 'price': '2.00'},"
				"{'sku': 'H', 'region': 'us-east', 'from': '2026-01-01T00:00:00Z', 'price': '2.01'}]}}]}");

	/* 2.00 is not above 2.00; spot_prices[1] (sorted first) is. */
	only(v, GB_SEVERITY_WARNING, "spot_above_on_demand",
	     "versions[0].gpu.spot_prices[1].price",
	     "the spot price 2.01 from 2026-01-01T00:00:00Z is above the on-demand price 2.00 for H in region *",
	     NULL);
	gb_validator_free(v);
}
END_TEST

START_TEST(test_warn_tier_price_increases)
{
	gb_validator *v = table(HEAD "'versions': [{'effective_from': "
				"'2026-01-01T00:00:00Z', 'tokens': {'rates': [{'model':"
				" 'm', 'output': {'mode': 'graduated', 'tiers': ["
				"{'up_to': '1000', 'price': '1.00'},"
				"{'up_to': '2000', 'price': '0.50'},"
				"{'up_to': null, 'price': '0.75'}]}}]}}]}");

	only(v, GB_SEVERITY_WARNING, "tier_price_increases",
	     "versions[0].tokens.rates[0].output.tiers[2].price",
	     "tier 3's price 0.75 is above tier 2's 0.50: more usage is charged more",
	     NULL);
	gb_validator_free(v);
}
END_TEST

#define VERSION(from, rates) \
	"{'effective_from': '" from "', 'gpu': {'rates': [" rates "]}}"
#define R_H(p) "{'sku': 'H', 'region': '*', 'on_demand': '" p "'}"
#define R_L(p) "{'sku': 'L', 'region': '*', 'on_demand': '" p "'}"

START_TEST(test_warn_versions)
{
	/*
	 * File order: Jan, Jun (same prices as Jan, rates listed in another
	 * order), Dec, Oct (out of order; drops L).  In time order: Jan, Jun
	 * (identical), Oct (drops L), Dec (has L again).
	 */
	gb_validator *v = table(HEAD "'versions': ["
		VERSION("2026-01-01T00:00:00Z", R_H("2") "," R_L("1")) ","
		VERSION("2026-06-01T00:00:00Z", R_L("1") "," R_H("2")) ","
		VERSION("2026-12-01T00:00:00Z", R_H("3") "," R_L("1")) ","
		VERSION("2026-10-01T00:00:00Z", R_H("3")) "]}");
	const gb_finding *f;

	if (gb_validator_count(v) != 3)
		dump(v);
	ck_assert_uint_eq(gb_validator_count(v), 3);
	f = find(v, "identical_version", "versions[1]");
	ck_assert_ptr_nonnull(f);
	ck_assert_str_eq(f->message, "the version from 2026-06-01T00:00:00Z has the same prices as the one before it, versions[0] from 2026-01-01T00:00:00Z");
	f = find(v, "versions_out_of_order", "versions[3].effective_from");
	ck_assert_ptr_nonnull(f);
	ck_assert_str_eq(f->hint, "order versions by effective_from: gpubill sorts them, but people read the file from the top");
	f = find(v, "sku_dropped", "versions[3].gpu.rates");
	ck_assert_ptr_nonnull(f);
	ck_assert_str_eq(f->message, "sku 'L' has a rate in the version from 2026-06-01T00:00:00Z (versions[1]) but none in this one, from 2026-10-01T00:00:00Z: its usage from then on has no price (no_rate)");
	gb_validator_free(v);
}
END_TEST

/* A version with a problem is compared with nothing: no false warnings. */
START_TEST(test_no_warnings_from_unread_parts)
{
	gb_validator *v = table(HEAD "'versions': ["
		VERSION("2026-01-01T00:00:00Z", R_H("2") "," R_L("1")) ","
		VERSION("2026-06-01T00:00:00Z", R_H("2") ", {'sku': 7, 'region': '*', 'on_demand': '1'}") ","
		"{'effective_from': '2026-07-01T00:00:00Z', 'tokens': {'rates': [{'model': 'm', 'input': 1}]}}]}");

	/* The bad sku, the number price; no sku_dropped for L in v1 (its
	 * rate may be the unreadable one), none for v2 (a tokens-only
	 * version does drop H and L: warned, as its usage has no GPU price). */
	ck_assert_ptr_nonnull(find(v, "wrong_type", "versions[1].gpu.rates[1].sku"));
	ck_assert_ptr_nonnull(find(v, "price_as_number", "versions[2].tokens.rates[0].input"));
	ck_assert_ptr_null(find(v, "sku_dropped", "versions[1].gpu.rates"));
	ck_assert_uint_eq(count_code(v, "sku_dropped"), 1);	/* H */
	ck_assert_ptr_nonnull(find(v, "sku_dropped", "versions[2]"));
	gb_validator_free(v);
}
END_TEST

START_TEST(test_model_dropped)
{
	gb_validator *v = table(HEAD "'versions': ["
		"{'effective_from': '2026-01-01T00:00:00Z', 'tokens': {'rates': ["
		"{'model': 'a', 'input': '1'}, {'model': 'b', 'input': '1'}]}},"
		"{'effective_from': '2026-02-01T00:00:00Z', 'tokens': {'rates': ["
		"{'model': 'a', 'input': '2'}]}}]}");

	only(v, GB_SEVERITY_WARNING, "model_dropped", "versions[1].tokens.rates",
	     "model 'b' has a rate in the version from 2026-01-01T00:00:00Z (versions[0]) but none in this one, from 2026-02-01T00:00:00Z: its usage from then on has no price (no_rate)",
	     "add a rate for b to this version, unless it is no longer sold");
	gb_validator_free(v);
}
END_TEST

/* --- contracts ----------------------------------------------------------- */

#define SMALL HEAD "'versions': [{'effective_from': '2026-01-01T00:00:00Z'," \
	" 'gpu': {'rates': [{'sku': 'H', 'region': '*', 'on_demand': '2'," \
	" 'reserved': {'1y': '1.5'}}]}}]}"
#define CONTRACT(res) "{'format': 'gpubill-contracts/1', 'customers': [" \
	"{'customer': 'a', 'reservations': [{'id': 'r', 'sku': 'H'," \
	" 'region': 'x', 'gpus': 1, " res "}]}]}"
#define TIMES "'start': '2026-01-01T00:00:00Z', 'end': '2026-02-01T00:00:00Z'"

START_TEST(test_contracts_errors)
{
	gb_validator *v = table(SMALL);

	ck_assert_int_eq(add(v, gb_validator_add_contracts,
			     CONTRACT("'term': '5y', " TIMES), "c.json"), 0);
	/* The unknown term only: not also "no reserved price". */
	only(v, GB_SEVERITY_ERROR, "unknown_term",
	     "customers[0].reservations[0].term", "unknown term '5y'",
	     "use a term of the table (1y), or give the reservation its own \"rate\"");
	ck_assert_str_eq(gb_validator_get(v, 0)->source, "c.json");
	gb_validator_free(v);
}
END_TEST

START_TEST(test_contracts_each_table)
{
	gb_validator *v = table(SMALL);
	const gb_finding *f;

	/* A second table without reserved prices. */
	ck_assert_int_eq(add(v, gb_validator_add_prices, GPU(R_H("2")),
			     "u.json"), 0);
	ck_assert_int_eq(add(v, gb_validator_add_contracts,
			     CONTRACT("'term': '1y', " TIMES), "c.json"), 0);
	f = gb_validator_get(v, 0);
	ck_assert_uint_eq(gb_validator_count(v), 1);
	ck_assert_str_eq(f->code, "unknown_term");
	ck_assert_str_eq(f->message, "unknown term '1y' (pricing table u.json)");
	gb_validator_free(v);
}
END_TEST

START_TEST(test_contracts_skip_tables_with_errors)
{
	gb_validator *v = table(GPU(R_H("2") ", {'sku': 'L'}"));

	ck_assert_uint_eq(gb_validator_errors(v), 1);
	ck_assert_int_eq(add(v, gb_validator_add_contracts,
			     CONTRACT("'term': '9y', " TIMES), "c.json"), 0);
	ck_assert_uint_eq(gb_validator_count(v), 1);	/* the table's own */
	gb_validator_free(v);
}
END_TEST

START_TEST(test_contracts_many_errors)
{
	gb_validator *v = table(SMALL);

	ck_assert_int_eq(add(v, gb_validator_add_contracts,
		"{'format': 'gpubill-contracts/1', 'customers': ["
		"{'customer': 'a', 'reservations': ["
		" {'id': 'r', 'sku': 'H', 'region': '*', 'gpus': '2', 'term': '1y', " TIMES "},"
		" {'id': 'r', 'sku': 'H', 'region': 'x', 'gpus': 1, 'term': '1y',"
		"  'start': '2026-02-01T00:00:00Z', 'end': '2026-01-01T00:00:00Z'}],"
		" 'discounts': {'tokens': '2'}, 'credits': [{'id': 'c', 'amount': '0'}]},"
		"{'customer': 'a'}, 5]}", "c.json"), 0);
	ck_assert_ptr_nonnull(find(v, "invalid_value", "customers[0].reservations[0].region"));
	ck_assert_ptr_nonnull(find(v, "integer_as_string", "customers[0].reservations[0].gpus"));
	ck_assert_ptr_nonnull(find(v, "duplicate_entry", "customers[0].reservations[1].id"));
	ck_assert_ptr_nonnull(find(v, "end_before_start", "customers[0].reservations[1].end"));
	ck_assert_ptr_nonnull(find(v, "out_of_range", "customers[0].discounts.tokens"));
	ck_assert_ptr_nonnull(find(v, "out_of_range", "customers[0].credits[0].amount"));
	ck_assert_ptr_nonnull(find(v, "duplicate_entry", "customers[1].customer"));
	ck_assert_ptr_nonnull(find(v, "wrong_type", "customers[2]"));
	if (gb_validator_count(v) != 8)
		dump(v);
	ck_assert_uint_eq(gb_validator_count(v), 8);
	gb_validator_free(v);
}
END_TEST

/* --- costs --------------------------------------------------------------- */

#define COSTS(cur, gpu, tokens) "{'format': 'gpubill-costs/1', 'name': 'c'," \
	" 'currency': '" cur "', 'gpu': [" gpu "], 'tokens': [" tokens "]}"

START_TEST(test_costs_warnings)
{
	gb_validator *v = table(HEAD "'versions': [{'effective_from': "
				"'2026-01-01T00:00:00Z', 'gpu': {'rates': ["
				"{'sku': 'H', 'region': '*', 'on_demand': '2.00'},"
				"{'sku': 'H', 'region': 'e', 'on_demand': '1.50'}]},"
				" 'tokens': {'rates': [{'model': 'm', 'input': '0.50',"
				" 'output': '1.00'}]}}]}");
	const gb_finding *f;

	/* H costs 1.80 everywhere: below 2.00, above the 1.50 of region e. */
	ck_assert_int_eq(add(v, gb_validator_add_costs,
			     COSTS("USD", "{'sku': 'H', 'region': '*', 'per_gpu_hour': '1.80'}",
				   "{'model': 'm', 'per_million': '0.50'}"),
			     "k.json"), 0);
	ck_assert_uint_eq(gb_validator_count(v), 2);
	f = find(v, "cost_at_or_above_price", "gpu[0].per_gpu_hour");
	ck_assert_ptr_nonnull(f);
	ck_assert_str_eq(f->message, "the cost 1.80 per GPU-hour of H in region * is at or above the on-demand price 1.50 for H in region e (pricing table t.json, version from 2026-01-01T00:00:00Z)");
	f = find(v, "cost_at_or_above_price", "tokens[0].per_million");
	ck_assert_ptr_nonnull(f);
	ck_assert_str_eq(f->message, "the cost 0.50 per million tokens of m is at or above its input price 0.50 in region * (pricing table t.json, version from 2026-01-01T00:00:00Z)");
	ck_assert_int_eq(f->severity, GB_SEVERITY_WARNING);
	gb_validator_free(v);
}
END_TEST

START_TEST(test_costs_errors_and_currency)
{
	gb_validator *v = table(GPU(R_H("2")));

	ck_assert_int_eq(add(v, gb_validator_add_costs,
			     COSTS("EUR", "{'sku': 'H', 'region': '*', 'per_gpu_hour': 9, 'x': 1}", ""),
			     "k.json"), 0);
	ck_assert_ptr_nonnull(find(v, "price_as_number", "gpu[0].per_gpu_hour"));
	ck_assert_ptr_nonnull(find(v, "unknown_key", "gpu[0].x"));
	ck_assert_str_eq(find(v, "currency_mismatch", "currency")->message,
			 "the costs are in EUR but pricing table t.json is in USD: a margin needs one currency");
	ck_assert_uint_eq(gb_validator_count(v), 3);
	gb_validator_free(v);
}
END_TEST

/* --- writers ------------------------------------------------------------- */

typedef struct out {
	char data[8192];
	size_t len;
} out;

static int to_out(const void *data, size_t len, void *payload)
{
	out *o = payload;

	if (o->len + len >= sizeof o->data)
		return -1;
	memcpy(o->data + o->len, data, len);
	o->len += len;
	o->data[o->len] = '\0';
	return 0;
}

static int fail_write(const void *data, size_t len, void *payload)
{
	(void)data;
	(void)len;
	(void)payload;
	return -1;
}

static gb_validator *two_findings(void)
{
	gb_validator *v = table(
		"{'format': 'gpubill-pricing/1', 'name': 't', 'currency': 'USD',\n"
		" 'versions': [{'effective_from': '2026-01-01T00:00:00Z', 'gpu': {'rates': [\n"
		"  {'sku': '=H', 'region': '*', 'on_demand': '2', 'spot': '3', 'x': 1}]}}]}");

	ck_assert_uint_eq(gb_validator_count(v), 2);
	return v;
}

START_TEST(test_write_text)
{
	gb_validator *v = two_findings();
	out o = { "", 0 };
	gb_error err;

	ck_assert_int_eq(gb_validator_write_text(v, to_out, &o, &err), 0);
	ck_assert_str_eq(o.data,
		"t.json:3:50: " R0 ".spot: warning: the spot price 3.00 is at or above the on-demand price 2.00 for =H in region * (hint: spot capacity is sold below the on-demand price: check both prices)\n"
		"t.json:3:63: " R0 ".x: error: unknown key 'x' (hint: expected one of: sku, region, on_demand, spot, reserved)\n");
	ck_assert_int_eq(gb_validator_write_text(v, fail_write, NULL, &err),
			 GB_EIO);
	gb_validator_free(v);
}
END_TEST

START_TEST(test_write_csv)
{
	gb_validator *v = two_findings();
	out o = { "", 0 };
	gb_error err;

	ck_assert_int_eq(gb_validator_write_csv(v, to_out, &o, &err), 0);
	ck_assert_str_eq(o.data,
		"file,line,column,path,severity,code,message,hint\r\n"
		"t.json,3,50," R0 ".spot,warning,spot_at_or_above_on_demand,the spot price 3.00 is at or above the on-demand price 2.00 for =H in region *,spot capacity is sold below the on-demand price: check both prices\r\n"
		"t.json,3,63," R0 ".x,error,unknown_key,unknown key 'x',\"expected one of: sku, region, on_demand, spot, reserved\"\r\n");
	gb_validator_free(v);
}
END_TEST

START_TEST(test_write_json)
{
	gb_validator *v = fresh();
	out o = { "", 0 };
	gb_error err;

	ck_assert_int_eq(gb_validator_write_json(v, to_out, &o, &err), 0);
	ck_assert_str_eq(o.data,
		"{\n  \"format\": \"gpubill-validate/1\",\n  \"files\": [],\n"
		"  \"findings\": [],\n"
		"  \"summary\": {\"files\": 0, \"errors\": 0, \"warnings\": 0}\n}\n");
	ck_assert_int_eq(add(v, gb_validator_add_prices, "", "e.json"),
			 GB_ESYNTAX);
	o.len = 0;
	ck_assert_int_eq(gb_validator_write_json(v, to_out, &o, &err), 0);
	ck_assert_str_eq(o.data,
		"{\n  \"format\": \"gpubill-validate/1\",\n  \"files\": [\n"
		"    {\n      \"file\": \"e.json\",\n      \"kind\": \"pricing table\",\n"
		"      \"json\": false,\n      \"errors\": 1,\n      \"warnings\": 0\n    }\n  ],\n"
		"  \"findings\": [\n    {\n      \"file\": \"e.json\",\n      \"line\": null,\n"
		"      \"column\": null,\n      \"path\": \"\",\n      \"severity\": \"error\",\n"
		"      \"code\": \"syntax_error\",\n      \"message\": \"empty file\",\n"
		"      \"hint\": \"\"\n    }\n  ],\n"
		"  \"summary\": {\"files\": 1, \"errors\": 1, \"warnings\": 0}\n}\n");
	gb_validator_free(v);
}
END_TEST

static int stop_at_first(const gb_finding *f, void *payload)
{
	(void)f;
	++*(int *)payload;
	return 1;
}

START_TEST(test_each_and_arguments)
{
	gb_validator *v = two_findings();
	gb_error err;
	int calls = 0;

	ck_assert_int_eq(gb_validator_each(v, stop_at_first, &calls), GB_EABORT);
	ck_assert_int_eq(calls, 1);
	ck_assert_ptr_null(gb_validator_get(v, 2));
	ck_assert_int_eq(gb_validator_add_prices(NULL, "", 0, "x", &err),
			 GB_EINVAL);
	ck_assert_int_eq(gb_validator_new(NULL, &err), GB_EINVAL);
	ck_assert_str_eq(gb_validate_kind_name(GB_VALIDATE_COSTS), "costs");
	gb_validator_free(v);
	gb_validator_free(NULL);
}
END_TEST

/* --- allocation failures ------------------------------------------------- */

/* calls, fail_at, live and the allocator `counting` */
#include "alloc_count.h"

static int run_all(const char *p, const char *c, const char *k)
{
	gb_validator *v = NULL;
	gb_error err;
	int rc = gb_validator_new(&v, &err);

	if (!rc)
		rc = gb_validator_add_prices(v, p, strlen(p), "p.json", &err);
	if (!rc)
		rc = gb_validator_add_contracts(v, c, strlen(c), "c.json", &err);
	if (!rc)
		rc = gb_validator_add_costs(v, k, strlen(k), "k.json", &err);
	if (rc)
		ck_assert_msg(rc == GB_ENOMEM && err.code == GB_ENOMEM &&
			      err.message[0], "code %d (%s)", rc, err.message);
	gb_validator_free(v);
	return rc;
}

START_TEST(test_every_allocation_failure_is_clean)
{
	char *p = dq(HEAD "'rounding': 'x', 'versions': ["
		     VERSION("2026-06-01T00:00:00Z", R_H("2") ", {'sku': 'H', 'region': 'e', 'on_demand': 1, 'spot': '3', 'reserved': {'1y': '1', '1y': '2'}}") ","
		     VERSION("2026-01-01T00:00:00Z", R_H("2") "," R_L("1")) "]}");
	char *c = dq(CONTRACT("'term': '5y', " TIMES));
	char *k = dq(COSTS("USD", "{'sku': 'H', 'region': 'e', 'per_gpu_hour': '9'}", ""));
	long total, n;

	gb_set_allocator(&counting);
	calls = live = 0;
	fail_at = -1;
	ck_assert_int_eq(run_all(p, c, k), 0);
	ck_assert_int_eq(live, 0);
	total = calls;
	for (n = 1; n <= total; n++) {
		calls = live = 0;
		fail_at = n;
		run_all(p, c, k);
		ck_assert_msg(live == 0, "allocation %ld of %ld failed: %ld blocks leaked",
			      n, total, live);
	}
	gb_set_allocator(NULL);
	free(p);
	free(c);
	free(k);
}
END_TEST

static Suite *validate_suite(void)
{
	Suite *s = suite_create("validate");
	TCase *tc = tcase_create("shipped");
	TCase *err = tcase_create("errors");
	TCase *warn = tcase_create("warnings");
	TCase *other = tcase_create("other files");
	TCase *wr = tcase_create("writers");

	tcase_add_test(tc, test_default_table_is_clean);
	tcase_add_test(tc, test_neocloud_table_is_clean);
	suite_add_tcase(s, tc);
	tcase_add_test(err, test_unknown_key);
	tcase_add_test(err, test_unknown_key_without_guess);
	tcase_add_test(err, test_misspelt_key_is_read);
	tcase_add_test(err, test_duplicate_key_points_at_the_second);
	tcase_add_test(err, test_price_as_number_shows_it_as_written);
	tcase_add_test(err, test_integer_as_string);
	tcase_add_test(err, test_not_on_hour_suggests_the_hour);
	tcase_add_test(err, test_missing_key_once);
	tcase_add_test(err, test_tiers_not_increasing);
	tcase_add_test(err, test_bad_tier_bound_once);
	tcase_add_test(err, test_many_errors_in_one_run);
	tcase_add_test(err, test_sorted_by_position);
	tcase_add_test(err, test_wrong_format_stops);
	tcase_add_test(err, test_syntax_error);
	tcase_add_test(err, test_top_level_array);
	tcase_add_test(err, test_normal_mode_unchanged);
	tcase_add_test(err, test_failing_callback_stops);
	suite_add_tcase(s, err);
	tcase_add_test(warn, test_warn_reserved_and_spot);
	tcase_add_test(warn, test_warn_tiered_bounds);
	tcase_add_test(warn, test_warn_spot_series);
	tcase_add_test(warn, test_warn_tier_price_increases);
	tcase_add_test(warn, test_warn_versions);
	tcase_add_test(warn, test_no_warnings_from_unread_parts);
	tcase_add_test(warn, test_model_dropped);
	suite_add_tcase(s, warn);
	tcase_add_test(other, test_contracts_errors);
	tcase_add_test(other, test_contracts_each_table);
	tcase_add_test(other, test_contracts_skip_tables_with_errors);
	tcase_add_test(other, test_contracts_many_errors);
	tcase_add_test(other, test_costs_warnings);
	tcase_add_test(other, test_costs_errors_and_currency);
	suite_add_tcase(s, other);
	tcase_set_timeout(wr, 60);
	tcase_add_test(wr, test_write_text);
	tcase_add_test(wr, test_write_csv);
	tcase_add_test(wr, test_write_json);
	tcase_add_test(wr, test_each_and_arguments);
	tcase_add_test(wr, test_every_allocation_failure_is_clean);
	suite_add_tcase(s, wr);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(validate_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
