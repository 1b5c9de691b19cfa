/*
 * test_quote.c - gb_quote: one workload under several tables, ranked.
 * Every expected amount is worked out by hand in the comment beside it.
 *
 * JSON in this file is written with single quotes for readability; load()
 * turns them into double quotes before parsing.
 */
#include <check.h>
#include <cjson/cJSON.h>
#include <gmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gpubill/gpubill.h>

/* --- helpers ------------------------------------------------------------- */

static gb_prices *load(const char *json, const char *source)
{
	size_t n = strlen(json) + 1;
	char *s = malloc(n), *p;
	gb_prices *out = NULL;
	gb_error err;

	ck_assert_ptr_nonnull(s);
	memcpy(s, json, n);
	for (p = s; *p; p++)
		if (*p == '\'')
			*p = '"';
	if (gb_prices_load(&out, s, n - 1, source, &err) != 0)
		ck_abort_msg("%s: %s: %s", source, err.path, err.message);
	free(s);
	return out;
}

static gb_prices *load_file(const char *rel)
{
	const char *dir = getenv("GPUBILL_TEST_DATA");
	char path[4096], *buf;
	gb_prices *out = NULL;
	gb_error err;
	long n;
	FILE *f;

	ck_assert_msg(dir != NULL, "GPUBILL_TEST_DATA is not set");
	snprintf(path, sizeof path, "%s/%s", dir, rel);
	f = fopen(path, "rb");
	ck_assert_msg(f != NULL, "cannot open %s", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc((size_t)n + 1);
	ck_assert_ptr_nonnull(buf);
	ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	if (gb_prices_load(&out, buf, (size_t)n, rel, &err) != 0)
		ck_abort_msg("%s: %s: %s", rel, err.path, err.message);
	free(buf);
	return out;
}

static int64_t ts(const char *s)
{
	int64_t t = 0;

	ck_assert_int_eq(gb_time_parse(&t, s, strlen(s), NULL), 0);
	return t;
}

static gb_quote *gpu_quote(gb_prices **tables, size_t n, const char *sku,
			   const char *region, uint32_t gpus,
			   const char *hours, const char *at)
{
	gb_quote_request req = GB_QUOTE_REQUEST_INIT;
	gb_quote *q = NULL;
	gb_error err;
	mpq_t h;

	mpq_init(h);
	ck_assert_int_eq(gb_decimal_parse(h, hours, strlen(hours), 0, NULL), 0);
	req.at = ts(at);
	req.sku = sku;
	req.region = region;
	req.gpus = gpus;
	req.hours = h;
	if (gb_quote_new(&q, (const gb_prices *const *)tables, n, &req, &err))
		ck_abort_msg("gb_quote_new: %s", err.message);
	mpq_clear(h);
	return q;
}

static gb_quote *token_quote(gb_prices **tables, size_t n, const char *model,
			     const char *region, uint64_t in, uint64_t cached,
			     uint64_t out, int batch, const char *at)
{
	gb_quote_request req = GB_QUOTE_REQUEST_INIT;
	gb_quote *q = NULL;
	gb_error err;

	req.at = ts(at);
	req.model = model;
	req.region = region;
	req.input_tokens = in;
	req.cached_tokens = cached;
	req.output_tokens = out;
	req.batch = batch;
	if (gb_quote_new(&q, (const gb_prices *const *)tables, n, &req, &err))
		ck_abort_msg("gb_quote_new: %s", err.message);
	return q;
}

static char textbuf[8][256];
static int textslot;

static const char *money(const mpz_t v, unsigned units)
{
	char *b = textbuf[textslot++ % 8];

	gb_money_format(b, 256, v, units);
	return b;
}

static const char *dec(const mpq_t v, unsigned max)
{
	char *b = textbuf[textslot++ % 8];

	gb_decimal_format(b, 256, v, 0, max, GB_ROUND_HALF_EVEN);
	return b;
}

/* Offer i is (label, name) costing amount, saving against the dearest. */
static void expect(const gb_quote *q, size_t i, const char *label,
		   const char *name, const char *amount, const char *saving,
		   const char *percent_of_dearest)
{
	const gb_quote_offer *o = gb_quote_offer_get(q, i);
	mpq_t pct;

	ck_assert_ptr_nonnull(o);
	ck_assert_int_eq(o->available, 1);
	ck_assert_uint_eq(o->rank, i + 1);
	ck_assert_str_eq(o->label, label);
	ck_assert_str_eq(o->name, name);
	ck_assert_str_eq(money(o->amount, o->minor_units), amount);
	ck_assert_str_eq(money(o->saving, gb_quote_minor_units(q)), saving);
	mpq_init(pct);
	mpq_set_ui(pct, 100, 1);
	mpq_mul(pct, pct, o->saving_fraction);
	gb_decimal_format(textbuf[0], 256, pct, 2, 2, GB_ROUND_HALF_EVEN);
	ck_assert_str_eq(textbuf[0], percent_of_dearest);
	mpq_clear(pct);
}

/* The first offer of table t named name (available or not). */
static const gb_quote_offer *find(const gb_quote *q, size_t t, const char *name)
{
	size_t i;

	for (i = 0; i < gb_quote_offer_count(q); i++) {
		const gb_quote_offer *o = gb_quote_offer_get(q, i);

		if (o->table == t && strcmp(o->name, name) == 0)
			return o;
	}
	ck_abort_msg("no offer '%s' of table %zu", name, t);
	return NULL;
}

struct sink {
	char *data;
	size_t len;
	int fail;
};

static int sink_write(const void *d, size_t n, void *payload)
{
	struct sink *s = payload;

	if (s->fail)
		return -1;
	s->data = realloc(s->data, s->len + n + 1);
	ck_assert_ptr_nonnull(s->data);
	memcpy(s->data + s->len, d, n);
	s->len += n;
	s->data[s->len] = '\0';
	return 0;
}

/* --- tables ------------------------------------------------------------------ */

#define TABLE(name, currency, extra, versions)                               \
	"{'format': 'gpubill-pricing/1', 'name': '" name "', 'currency': '"  \
	currency "'" extra ", 'versions': [" versions "]}"
#define V2026(body) "{'effective_from': '2026-01-01T00:00:00Z', " body "}"

/* --- ranking ----------------------------------------------------------------- */

/*
 * 4 GPUs x 2.5 hours = 10 GPU-hours (no table's minimum reaches it):
 *   alpha: on-demand 2.00 -> 20.00, 1y 1.50 -> 15.00, spot 1.10 -> 11.00
 *   beta:  on-demand 2.40 -> 24.00, 1y 1.30 -> 13.00, 3y 1.05 -> 10.50,
 *          spot 0.95 -> 9.50
 *   gamma: on-demand tier 1 2.20 -> 22.00, 1y 1.50 -> 15.00,
 *          spot series 0.80 (from 2026-05-01) -> 8.00
 * Dearest 24.00; saving = 24.00 - amount, percent = saving / 24.00.
 * alpha's and gamma's 1y tie at 15.00: alpha comes first on the command line.
 */
START_TEST(test_three_tables_ranked)
{
	gb_prices *t[3] = {
		load_file("prices/quote-alpha.json"),
		load_file("prices/quote-beta.json"),
		load_file("prices/quote-gamma.json"),
	};
	gb_quote *q = gpu_quote(t, 3, "H100-SXM", "us-east", 4, "2.5",
				"2026-06-01T00:00:00Z");
	const gb_quote_offer *o;

	ck_assert_uint_eq(gb_quote_offer_count(q), 10);
	ck_assert_uint_eq(gb_quote_available_count(q), 10);
	ck_assert_str_eq(gb_quote_currency(q), "USD");
	expect(q, 0, "gamma-compute", "spot", "8.00", "16.00", "66.67");
	expect(q, 1, "beta-gpu", "spot", "9.50", "14.50", "60.42");
	expect(q, 2, "beta-gpu", "reserved 3y", "10.50", "13.50", "56.25");
	expect(q, 3, "alpha-cloud", "spot", "11.00", "13.00", "54.17");
	expect(q, 4, "beta-gpu", "reserved 1y", "13.00", "11.00", "45.83");
	expect(q, 5, "alpha-cloud", "reserved 1y", "15.00", "9.00", "37.50");
	expect(q, 6, "gamma-compute", "reserved 1y", "15.00", "9.00", "37.50");
	expect(q, 7, "alpha-cloud", "on-demand", "20.00", "4.00", "16.67");
	expect(q, 8, "gamma-compute", "on-demand", "22.00", "2.00", "8.33");
	expect(q, 9, "beta-gpu", "on-demand", "24.00", "0.00", "0.00");
	o = gb_quote_offer_get(q, 0);
	ck_assert_int_eq(o->kind, GB_OFFER_SPOT);
	ck_assert_int_eq(o->spot_series, 1);
	ck_assert_int_eq(o->spot_from, ts("2026-05-01T00:00:00Z"));
	ck_assert_str_eq(o->note, "series price from 2026-05-01T00:00:00Z");
	ck_assert_str_eq(dec(o->quantity, 6), "10");
	ck_assert_str_eq(gb_quote_offer_get(q, 1)->note, "fixed spot price");
	ck_assert_str_eq(gb_quote_offer_get(q, 2)->term, "3y");
	ck_assert_str_eq(gb_quote_offer_get(q, 8)->note,
			 "graduated tier 1 (0 to 100 GPU-hours)");
	gb_quote_free(q);
	gb_prices_free(t[0]);
	gb_prices_free(t[1]);
	gb_prices_free(t[2]);
}
END_TEST

/*
 * The same three tables, each the cheapest for one kind of offer, with the
 * order of the tables reversed: ties now go to gamma, and nothing else moves.
 */
START_TEST(test_ties_follow_table_order)
{
	gb_prices *t[3] = {
		load_file("prices/quote-gamma.json"),
		load_file("prices/quote-beta.json"),
		load_file("prices/quote-alpha.json"),
	};
	gb_quote *q = gpu_quote(t, 3, "H100-SXM", NULL, 2, "5",
				"2026-06-01T00:00:00Z");

	expect(q, 0, "gamma-compute", "spot", "8.00", "16.00", "66.67");
	expect(q, 5, "gamma-compute", "reserved 1y", "15.00", "9.00", "37.50");
	expect(q, 6, "alpha-cloud", "reserved 1y", "15.00", "9.00", "37.50");
	gb_quote_free(q);
	gb_prices_free(t[0]);
	gb_prices_free(t[1]);
	gb_prices_free(t[2]);
}
END_TEST

/* --- job length ---------------------------------------------------------------- */

/*
 * increment 60 s, minimum 300 s, on-demand 3.60 per GPU-hour (0.001 per
 * GPU-second):
 *   0.01 h = 36 s -> 60 -> minimum 300 s -> 0.30
 *   0.1 h = 360 s (on the increment) -> 0.36
 *   0.1001 h = 360.36 s -> 361 s -> 420 s -> 0.42
 *   0.00000001 h = 0.000036 s -> 1 s -> 60 -> 300 s -> 0.30
 *   3 GPUs x 0.1001 h -> 3 x 420 s = 1260 GPU-seconds = 0.35 GPU-hours -> 1.26
 */
START_TEST(test_increment_and_minimum)
{
	gb_prices *t = load(TABLE("inc", "USD", "", V2026(
		"'gpu': {'increment_seconds': 60, 'minimum_seconds': 300, 'rates': ["
		"{'sku': 'A', 'region': '*', 'on_demand': '3.60'}]}")), "inc.json");
	static const struct { const char *hours; uint32_t gpus; const char *qty, *amount; } c[] = {
		{ "0.01", 1, "0.083333", "0.30" },
		{ "0.1", 1, "0.1", "0.36" },
		{ "0.1001", 1, "0.116667", "0.42" },
		{ "0.00000001", 1, "0.083333", "0.30" },
		{ "0.1001", 3, "0.35", "1.26" },
	};
	size_t i;

	for (i = 0; i < sizeof c / sizeof c[0]; i++) {
		gb_quote *q = gpu_quote(&t, 1, "A", NULL, c[i].gpus, c[i].hours,
					"2026-02-01T00:00:00Z");
		const gb_quote_offer *o = find(q, 0, "on-demand");

		ck_assert_str_eq(dec(o->quantity, 6), c[i].qty);
		ck_assert_str_eq(money(o->amount, 2), c[i].amount);
		gb_quote_free(q);
	}
	gb_prices_free(t);
}
END_TEST

/* --- tiers ----------------------------------------------------------------------- */

/*
 * gamma's on-demand is graduated: 100 GPU-hours at 2.20, the rest at 1.60.
 * 8 GPUs x 20 h = 160 GPU-hours: 100 x 2.20 + 60 x 1.60 = 220 + 96 = 316.00,
 * an average of 316 / 160 = 1.975 per GPU-hour.
 */
START_TEST(test_graduated)
{
	gb_prices *t = load_file("prices/quote-gamma.json");
	gb_quote *q = gpu_quote(&t, 1, "H100-SXM", "eu-west", 8, "20",
				"2026-06-01T00:00:00Z");
	const gb_quote_offer *o = find(q, 0, "on-demand");

	ck_assert_str_eq(money(o->amount, 2), "316.00");
	ck_assert_str_eq(dec(o->unit_price, 18), "1.975");
	ck_assert_int_eq(o->average, 1);
	ck_assert_str_eq(o->note, "graduated tiers 1 to 2");
	gb_quote_free(q);
	gb_prices_free(t);
}
END_TEST

/*
 * Volume: all of the quantity at the first tier whose up_to it does not
 * pass.  1280 GPU-hours (64 x 20) -> tier 2: 1280 x 2.09 = 2675.20;
 * exactly 1000 (50 x 20) -> tier 1: 1000 x 2.29 = 2290.00;
 * 10001 (10001 x 1) -> tier 3: 10001 x 1.89 = 18901.89.
 */
START_TEST(test_volume)
{
	gb_prices *t = load(TABLE("vol", "USD", "", V2026(
		"'gpu': {'rates': [{'sku': 'A', 'region': '*', 'on_demand': "
		"{'mode': 'volume', 'tiers': [{'up_to': '1000', 'price': '2.29'},"
		"{'up_to': '10000', 'price': '2.09'}, {'up_to': null, 'price': '1.89'}]}}]}")),
		"vol.json");
	gb_quote *q = gpu_quote(&t, 1, "A", NULL, 64, "20", "2026-02-01T00:00:00Z");
	const gb_quote_offer *o = find(q, 0, "on-demand");

	ck_assert_str_eq(money(o->amount, 2), "2675.20");
	ck_assert_str_eq(dec(o->unit_price, 18), "2.09");
	ck_assert_int_eq(o->average, 0);
	ck_assert_str_eq(o->note, "volume tier 2 (1000 to 10000 GPU-hours)");
	gb_quote_free(q);
	q = gpu_quote(&t, 1, "A", NULL, 50, "20", "2026-02-01T00:00:00Z");
	ck_assert_str_eq(money(find(q, 0, "on-demand")->amount, 2), "2290.00");
	ck_assert_str_eq(find(q, 0, "on-demand")->note,
			 "volume tier 1 (0 to 1000 GPU-hours)");
	gb_quote_free(q);
	q = gpu_quote(&t, 1, "A", NULL, 10001, "1", "2026-02-01T00:00:00Z");
	ck_assert_str_eq(money(find(q, 0, "on-demand")->amount, 2), "18901.89");
	ck_assert_str_eq(find(q, 0, "on-demand")->note,
			 "volume tier 3 (over 10000 GPU-hours)");
	gb_quote_free(q);
	gb_prices_free(t);
}
END_TEST

/* --- spot ------------------------------------------------------------------------ */

/*
 * Fixed spot 1.00; series us-east 0.70 from March, 0.75 from April; "*"
 * 0.90 from February; a second version from June without a series and a
 * fixed 0.60.  1 GPU x 10 h:
 *   us-east, Jan 15        -> no point yet: fixed 1.00 -> 10.00
 *   us-east, Feb 15        -> no us-east point yet: "*" 0.90 -> 9.00
 *   us-east, Mar 15        -> us-east 0.70 -> 7.00
 *   us-east, Apr 1 00:00   -> a point starting at that instant: 0.75 -> 7.50
 *   eu-west, Mar 15        -> "*" 0.90 -> 9.00
 *   no region, Mar 15      -> "*" 0.90 -> 9.00
 *   us-east, Jul 1         -> June's version: fixed 0.60 -> 6.00
 */
START_TEST(test_spot_series_and_fixed)
{
	gb_prices *t = load(TABLE("spot", "USD", "",
		V2026("'gpu': {'rates': [{'sku': 'A', 'region': '*', 'spot': '1.00'}],"
		      "'spot_prices': ["
		      "{'sku': 'A', 'region': 'us-east', 'from': '2026-04-01T00:00:00Z', 'price': '0.75'},"
		      "{'sku': 'A', 'region': 'us-east', 'from': '2026-03-01T00:00:00Z', 'price': '0.70'},"
		      "{'sku': 'A', 'region': '*', 'from': '2026-02-01T00:00:00Z', 'price': '0.90'}]}")
		",{'effective_from': '2026-06-01T00:00:00Z', 'gpu': {'rates': ["
		"{'sku': 'A', 'region': '*', 'spot': '0.60'}]}}"), "spot.json");
	static const struct { const char *region, *at, *amount, *note; } c[] = {
		{ "us-east", "2026-01-15T00:00:00Z", "10.00", "fixed spot price" },
		{ "us-east", "2026-02-15T00:00:00Z", "9.00", "series price from 2026-02-01T00:00:00Z" },
		{ "us-east", "2026-03-15T00:00:00Z", "7.00", "series price from 2026-03-01T00:00:00Z" },
		{ "us-east", "2026-04-01T00:00:00Z", "7.50", "series price from 2026-04-01T00:00:00Z" },
		{ "eu-west", "2026-03-15T00:00:00Z", "9.00", "series price from 2026-02-01T00:00:00Z" },
		{ NULL, "2026-03-15T00:00:00Z", "9.00", "series price from 2026-02-01T00:00:00Z" },
		{ "us-east", "2026-07-01T00:00:00Z", "6.00", "fixed spot price" },
	};
	size_t i;

	for (i = 0; i < sizeof c / sizeof c[0]; i++) {
		gb_quote *q = gpu_quote(&t, 1, "A", c[i].region, 1, "10", c[i].at);
		const gb_quote_offer *o = find(q, 0, "spot");

		ck_assert_int_eq(o->available, 1);
		ck_assert_str_eq(money(o->amount, 2), c[i].amount);
		ck_assert_str_eq(o->note, c[i].note);
		ck_assert_int_eq(o->spot_series, c[i].note[0] == 's');
		/* no on-demand and no reserved price: both unavailable */
		ck_assert_int_eq(find(q, 0, "on-demand")->available, 0);
		ck_assert_int_eq(find(q, 0, "reserved")->available, 0);
		gb_quote_free(q);
	}
	gb_prices_free(t);
}
END_TEST

/* --- tokens ---------------------------------------------------------------------- */

#define TOKENS_TABLE                                                           \
	TABLE("tok", "USD", "", V2026(                                         \
	"'tokens': {'batch_discount': '0.50', 'rates': ["                      \
	"{'model': 'm70', 'input': {'mode': 'graduated', 'tiers': ["           \
	"  {'up_to': '1000000000', 'price': '0.88'},"                          \
	"  {'up_to': '10000000000', 'price': '0.80'},"                         \
	"  {'up_to': null, 'price': '0.72'}]},"                                \
	" 'cached_input': '0.44', 'output': '0.88'},"                          \
	"{'model': 'm8', 'input': '0.10', 'output': '0.10'},"                  \
	"{'model': 'm8', 'region': 'eu-west', 'input': '0.12', 'output': '0.12'}]}"))

/*
 * m70, 2e9 input, 1e8 cached, 5e7 output tokens:
 *   input graduated: 1e9 x 0.88 / 1e6 = 880 + 1e9 x 0.80 / 1e6 = 800 -> 1680
 *   cached: 1e8 x 0.44 / 1e6 = 44; output: 5e7 x 0.88 / 1e6 = 44
 *   total 1768.00 for 2150 million tokens (average 1768 / 2150 = 0.822326)
 *   batch: x (1 - 0.50) = 884.00
 * m8 (no cached price), 3e6 input + 1e6 output: 0.30 + 0.10 = 0.40; in
 * eu-west 0.36 + 0.12 = 0.48; with cached tokens: unavailable.
 */
START_TEST(test_tokens)
{
	gb_prices *t = load(TOKENS_TABLE, "tok.json");
	gb_quote *q = token_quote(&t, 1, "m70", NULL, 2000000000, 100000000,
				  50000000, 0, "2026-02-01T00:00:00Z");
	const gb_quote_offer *o = gb_quote_offer_get(q, 0);

	ck_assert_str_eq(o->name, "tokens");
	ck_assert_str_eq(o->unit, "1M tokens");
	ck_assert_str_eq(money(o->amount, 2), "1768.00");
	ck_assert_str_eq(dec(o->quantity, 6), "2150");
	ck_assert_str_eq(dec(o->unit_price, 6), "0.822326");
	ck_assert_int_eq(o->average, 1);
	ck_assert_str_eq(o->note, "per 1M tokens: input graduated tiers 1 to 2, cached input 0.44, output 0.88");
	gb_quote_free(q);

	q = token_quote(&t, 1, "m70", NULL, 2000000000, 100000000, 50000000, 1,
			"2026-02-01T00:00:00Z");
	o = gb_quote_offer_get(q, 0);
	ck_assert_str_eq(o->name, "batch tokens");
	ck_assert_str_eq(money(o->amount, 2), "884.00");
	ck_assert_str_eq(o->note, "per 1M tokens: input graduated tiers 1 to 2, cached input 0.44, output 0.88, batch discount 50%");
	gb_quote_free(q);

	q = token_quote(&t, 1, "m8", NULL, 3000000, 0, 1000000, 0,
			"2026-02-01T00:00:00Z");
	ck_assert_str_eq(money(gb_quote_offer_get(q, 0)->amount, 2), "0.40");
	gb_quote_free(q);
	q = token_quote(&t, 1, "m8", "eu-west", 3000000, 0, 1000000, 0,
			"2026-02-01T00:00:00Z");
	ck_assert_str_eq(money(gb_quote_offer_get(q, 0)->amount, 2), "0.48");
	gb_quote_free(q);
	q = token_quote(&t, 1, "m8", NULL, 3000000, 1, 0, 0, "2026-02-01T00:00:00Z");
	o = gb_quote_offer_get(q, 0);
	ck_assert_int_eq(o->available, 0);
	ck_assert_str_eq(o->note, "the '*' rate for model 'm8' has no cached_input price");
	gb_quote_free(q);
	gb_prices_free(t);
}
END_TEST

/* --- money ----------------------------------------------------------------------- */

/*
 * One rounding per offer.  Graduated 1.0025 up to 1 GPU-hour, then 1.0025
 * again, half_up: 2 GPU-hours cost exactly 2.005 -> 2.01 (an invoice
 * rounding each tier slice, 1.0025 -> 1.00 twice, would say 2.00).
 * A yen table (0 minor units, rounding up): 150 per hour x 0.01 h = 1.5 -> 2.
 */
START_TEST(test_rounded_once)
{
	gb_prices *t = load(TABLE("r", "USD", ", 'rounding': 'half_up'", V2026(
		"'gpu': {'rates': [{'sku': 'A', 'region': '*', 'on_demand': "
		"{'mode': 'graduated', 'tiers': [{'up_to': '1', 'price': '1.0025'},"
		"{'up_to': null, 'price': '1.0025'}]}}]}")), "r.json");
	gb_prices *yen = load_file("prices/minimal.json");
	gb_quote *q = gpu_quote(&t, 1, "A", NULL, 2, "1", "2026-02-01T00:00:00Z");

	ck_assert_str_eq(money(find(q, 0, "on-demand")->amount, 2), "2.01");
	gb_quote_free(q);
	q = gpu_quote(&yen, 1, "L40S", NULL, 1, "0.01", "2026-02-01T00:00:00Z");
	ck_assert_str_eq(money(find(q, 0, "on-demand")->amount, 0), "2");
	ck_assert_str_eq(gb_quote_currency(q), "JPY");
	gb_quote_free(q);
	gb_prices_free(t);
	gb_prices_free(yen);
}
END_TEST

/*
 * Same currency, different minor units: 1 GPU-hour at 1.00 (2 places) and
 * at 1.2345 (3 places, half_even -> 1.234).  Savings are in 3 places:
 * 1.234 - 1.00 = 0.234, 18.96%.
 */
START_TEST(test_minor_units_mixed)
{
	gb_prices *t[2] = {
		load(TABLE("three", "USD", ", 'minor_units': 3", V2026(
			"'gpu': {'rates': [{'sku': 'A', 'region': '*', 'on_demand': '1.2345'}]}")),
		     "three.json"),
		load(TABLE("two", "USD", "", V2026(
			"'gpu': {'rates': [{'sku': 'A', 'region': '*', 'on_demand': '1.00'}]}")),
		     "two.json"),
	};
	gb_quote *q = gpu_quote(t, 2, "A", NULL, 1, "1", "2026-02-01T00:00:00Z");

	ck_assert_uint_eq(gb_quote_minor_units(q), 3);
	expect(q, 0, "two", "on-demand", "1.00", "0.234", "18.96");
	expect(q, 1, "three", "on-demand", "1.234", "0.000", "0.00");
	gb_quote_free(q);
	gb_prices_free(t[0]);
	gb_prices_free(t[1]);
}
END_TEST

/* --- what a table cannot offer ------------------------------------------------------ */

START_TEST(test_unavailable)
{
	gb_prices *t[4] = {
		/* reserved only */
		load(TABLE("res", "USD", "", V2026(
			"'gpu': {'rates': [{'sku': 'A', 'region': 'us-east', 'reserved': {'1y': '1.00'}},"
			"{'sku': 'B', 'region': '*', 'on_demand': '1.00'}]}")), "res.json"),
		/* tokens only */
		load(TABLE("tok", "USD", "", V2026(
			"'tokens': {'rates': [{'model': 'm', 'input': '1'}]}")), "tok.json"),
		/* starts later */
		load(TABLE("late", "USD", "", "{'effective_from': '2027-01-01T00:00:00Z', "
			"'gpu': {'rates': [{'sku': 'A', 'region': '*', 'on_demand': '1.00'}]}}"),
		     "late.json"),
		/* no such sku */
		load(TABLE("other", "USD", "", V2026(
			"'gpu': {'rates': [{'sku': 'B', 'region': '*', 'on_demand': '1.00'}]}")),
		     "other.json"),
	};
	gb_quote *q = gpu_quote(t, 4, "A", "us-east", 1, "1", "2026-02-01T00:00:00Z");
	static const char *const want[][3] = {
		{ "res", "on-demand", "the 'us-east' rate for sku 'A' has no on-demand price" },
		{ "res", "spot", "the 'us-east' rate for sku 'A' has no fixed spot price and no spot series price starts by 2026-02-01T00:00:00Z" },
		{ "tok", "all offers", "the price version from 2026-01-01T00:00:00Z has no GPU prices" },
		{ "late", "all offers", "no price version is in effect at 2026-02-01T00:00:00Z (the first starts at 2027-01-01T00:00:00Z)" },
		{ "other", "all offers", "no rate for sku 'A' in region 'us-east' or '*' in the price version from 2026-01-01T00:00:00Z" },
	};
	int64_t from = 0;
	size_t i;

	ck_assert_uint_eq(gb_quote_available_count(q), 1);
	ck_assert_uint_eq(gb_quote_offer_count(q), 6);
	expect(q, 0, "res", "reserved 1y", "1.00", "0.00", "0.00");
	for (i = 0; i < 5; i++) {
		const gb_quote_offer *o = gb_quote_offer_get(q, i + 1);

		ck_assert_int_eq(o->available, 0);
		ck_assert_uint_eq(o->rank, 0);
		ck_assert_str_eq(o->label, want[i][0]);
		ck_assert_str_eq(o->name, want[i][1]);
		ck_assert_str_eq(o->note, want[i][2]);
	}
	ck_assert_int_eq(gb_quote_offer_get(q, 3)->kind, GB_OFFER_NONE);
	ck_assert_int_eq(gb_quote_table_version(q, 0, &from), 0);
	ck_assert_int_eq(from, ts("2026-01-01T00:00:00Z"));
	ck_assert_int_eq(gb_quote_table_version(q, 2, &from), -1);
	ck_assert_int_eq(gb_quote_table_version(q, 4, &from), -1);
	gb_quote_free(q);

	/* B has only a "*" rate without reserved terms or spot */
	q = gpu_quote(t, 1, "B", NULL, 1, "1", "2026-02-01T00:00:00Z");
	ck_assert_str_eq(find(q, 0, "reserved")->note,
			 "the '*' rate for sku 'B' has no reserved terms");
	gb_quote_free(q);
	/* a spot series without a rate still prices spot, as when billing:
	 * 2 GPUs x 3 h x 0.50 = 3.00 */
	gb_prices_free(t[3]);
	t[3] = load(TABLE("series", "USD", "", V2026(
		"'gpu': {'rates': [{'sku': 'B', 'region': '*', 'on_demand': '1.00'}],"
		"'spot_prices': [{'sku': 'A', 'region': '*', 'from': '2026-01-01T00:00:00Z', 'price': '0.50'}]}")),
		"series.json");
	q = gpu_quote(&t[3], 1, "A", "us-east", 2, "3", "2026-02-01T00:00:00Z");
	ck_assert_uint_eq(gb_quote_offer_count(q), 3);
	expect(q, 0, "series", "spot", "3.00", "0.00", "0.00");
	ck_assert_str_eq(find(q, 0, "on-demand")->note,
			 "no rate for sku 'A' in region 'us-east' or '*' in the price version from 2026-01-01T00:00:00Z");
	ck_assert_int_eq(find(q, 0, "reserved")->available, 0);
	gb_quote_free(q);
	/* without a region, the us-east rate of A does not apply */
	q = gpu_quote(t, 1, "A", NULL, 1, "1", "2026-02-01T00:00:00Z");
	ck_assert_str_eq(gb_quote_offer_get(q, 0)->note,
			 "no '*' rate for sku 'A' in the price version from 2026-01-01T00:00:00Z (without a region only '*' rates apply)");
	gb_quote_free(q);
	for (i = 0; i < 4; i++)
		gb_prices_free(t[i]);
}
END_TEST

START_TEST(test_labels)
{
	gb_prices *t[3] = {
		load(TABLE("same", "USD", "", V2026(
			"'gpu': {'rates': [{'sku': 'A', 'region': '*', 'on_demand': '1.00'}]}")), "a.json"),
		load(TABLE("same", "USD", "", V2026(
			"'gpu': {'rates': [{'sku': 'A', 'region': '*', 'on_demand': '2.00'}]}")), "b.json"),
		load(TABLE("same", "USD", "", V2026(
			"'gpu': {'rates': [{'sku': 'A', 'region': '*', 'on_demand': '3.00'}]}")), "b.json"),
	};
	gb_quote *q = gpu_quote(t, 3, "A", NULL, 1, "1", "2026-02-01T00:00:00Z");

	ck_assert_str_eq(gb_quote_offer_get(q, 0)->label, "same (a.json)");
	ck_assert_str_eq(gb_quote_offer_get(q, 1)->label, "same (b.json #2)");
	ck_assert_str_eq(gb_quote_offer_get(q, 2)->label, "same (b.json #3)");
	gb_quote_free(q);
	gb_prices_free(t[0]);
	gb_prices_free(t[1]);
	gb_prices_free(t[2]);
}
END_TEST

/* --- refusals ------------------------------------------------------------------------ */

START_TEST(test_currency_mismatch)
{
	gb_prices *t[2] = {
		load(TABLE("us", "USD", "", V2026(
			"'gpu': {'rates': [{'sku': 'A', 'region': '*', 'on_demand': '1.00'}]}")), "us.json"),
		load_file("prices/minimal.json"),
	};
	gb_quote_request req = GB_QUOTE_REQUEST_INIT;
	gb_quote *q = (gb_quote *)&req;
	gb_error err;
	mpq_t h;

	mpq_init(h);
	mpq_set_ui(h, 1, 1);
	req.sku = "A";
	req.gpus = 1;
	req.hours = h;
	ck_assert_int_eq(gb_quote_new(&q, (const gb_prices *const *)t, 2, &req, &err),
			 GB_ESCHEMA);
	ck_assert_ptr_null(q);
	ck_assert_str_eq(err.message, "cannot rank offers in different currencies: us.json is in USD, prices/minimal.json is in JPY (quote each currency separately)");
	mpq_clear(h);
	gb_prices_free(t[0]);
	gb_prices_free(t[1]);
}
END_TEST

START_TEST(test_bad_requests)
{
	gb_prices *t = load(TABLE("us", "USD", "", V2026(
		"'gpu': {'rates': [{'sku': 'A', 'region': '*', 'on_demand': '1.00'}]}")), "us.json");
	const gb_prices *const tables[2] = { t, NULL };
	gb_quote_request req = GB_QUOTE_REQUEST_INIT, r;
	gb_quote *q = NULL;
	gb_error err;
	mpq_t h, zero;

	mpq_inits(h, zero, NULL);
	mpq_set_ui(h, 1, 1);
	req.sku = "A";
	req.gpus = 1;
	req.hours = h;
	ck_assert_int_eq(gb_quote_new(NULL, tables, 1, &req, &err), GB_EINVAL);
	ck_assert_int_eq(gb_quote_new(&q, tables, 1, NULL, &err), GB_EINVAL);
	ck_assert_int_eq(gb_quote_new(&q, tables, 0, &req, &err), GB_EINVAL);
	ck_assert_int_eq(gb_quote_new(&q, NULL, 1, &req, &err), GB_EINVAL);
	ck_assert_int_eq(gb_quote_new(&q, tables, 2, &req, &err), GB_EINVAL);
	r = req; r.version = 99;
	ck_assert_int_eq(gb_quote_new(&q, tables, 1, &r, &err), GB_EINVAL);
	r = req; r.model = "m";
	ck_assert_int_eq(gb_quote_new(&q, tables, 1, &r, &err), GB_EINVAL);
	ck_assert_str_eq(err.message, "a quote is for GPU time (a sku) or for tokens (a model), not both");
	r = req; r.sku = NULL;
	ck_assert_int_eq(gb_quote_new(&q, tables, 1, &r, &err), GB_EINVAL);
	r = req; r.gpus = 0;
	ck_assert_int_eq(gb_quote_new(&q, tables, 1, &r, &err), GB_EINVAL);
	r = req; r.gpus = GB_QUOTE_MAX_GPUS + 1;
	ck_assert_int_eq(gb_quote_new(&q, tables, 1, &r, &err), GB_EINVAL);
	r = req; r.hours = NULL;
	ck_assert_int_eq(gb_quote_new(&q, tables, 1, &r, &err), GB_EINVAL);
	r = req; r.hours = zero;
	ck_assert_int_eq(gb_quote_new(&q, tables, 1, &r, &err), GB_EINVAL);
	r = req; r.sku = NULL; r.model = "m";
	ck_assert_int_eq(gb_quote_new(&q, tables, 1, &r, &err), GB_EINVAL);
	ck_assert_str_eq(err.message, "no tokens to quote: give input, cached or output tokens");
	r.output_tokens = GB_QUOTE_MAX_TOKENS + 1;
	ck_assert_int_eq(gb_quote_new(&q, tables, 1, &r, &err), GB_EINVAL);
	ck_assert_ptr_null(q);
	r.output_tokens = GB_QUOTE_MAX_TOKENS;
	ck_assert_int_eq(gb_quote_new(&q, tables, 1, &r, &err), 0);
	gb_quote_free(q);
	gb_quote_free(NULL);
	ck_assert_uint_eq(gb_quote_offer_count(NULL), 0);
	ck_assert_ptr_null(gb_quote_offer_get(NULL, 0));
	ck_assert_str_eq(gb_offer_kind_name(GB_OFFER_ON_DEMAND), "on_demand");
	ck_assert_str_eq(gb_offer_kind_name(GB_OFFER_NONE), "none");
	ck_assert_str_eq(gb_offer_kind_name((gb_offer_kind)99), "unknown");
	mpq_clears(h, zero, NULL);
	gb_prices_free(t);
}
END_TEST

/* --- writers ----------------------------------------------------------------------- */

static gb_prices *writer_tables[2];

static gb_quote *writer_quote(void)
{
	writer_tables[0] = load(TABLE("cheap, \\'quoted\\'", "USD", "", V2026(
		"'gpu': {'rates': [{'sku': 'A', 'region': '*', 'on_demand': '1.50', 'spot': '0.50'}]}")),
		"cheap.json");
	writer_tables[1] = load(TABLE("dear", "USD", "", V2026(
		"'gpu': {'rates': [{'sku': 'A', 'region': '*', 'on_demand': '2.00', "
		"'reserved': {'1y': '1.25'}}]}")), "dear.json");
	/* 2 GPUs x 1.5 h = 3 GPU-hours: cheap on-demand 4.50, spot 1.50;
	 * dear on-demand 6.00, 1y 3.75.  Dearest 6.00. */
	return gpu_quote(writer_tables, 2, "A", "us-east", 2, "1.5",
			 "2026-02-01T00:00:00Z");
}

static void writer_free(gb_quote *q)
{
	gb_quote_free(q);
	gb_prices_free(writer_tables[0]);
	gb_prices_free(writer_tables[1]);
}

START_TEST(test_write_text)
{
	gb_quote *q = writer_quote();
	struct sink s = { NULL, 0, 0 };
	gb_error err;

	ck_assert_int_eq(gb_quote_write_text(q, sink_write, &s, &err), 0);
	ck_assert_str_eq(s.data,
		"Quote: 2 x A for 1.5 hours in us-east, prices at 2026-02-01T00:00:00Z (USD)\n"
		"\n"
		"  Rank  Table            Offer        GPU-hours  Unit price  Amount  Saving  Saving %  Note\n"
		"     1  cheap, \"quoted\"  spot                 3        0.50    1.50    4.50     75.00  fixed spot price\n"
		"     2  dear             reserved 1y          3        1.25    3.75    2.25     37.50\n"
		"     3  cheap, \"quoted\"  on-demand            3        1.50    4.50    1.50     25.00\n"
		"     4  dear             on-demand            3        2.00    6.00    0.00      0.00\n"
		"\n"
		"Not available:\n"
		"  cheap, \"quoted\": reserved: the '*' rate for sku 'A' has no reserved terms\n"
		"  dear: spot: the '*' rate for sku 'A' has no fixed spot price and no spot series price starts by 2026-02-01T00:00:00Z\n"
		"\n"
		"Tables:\n"
		"  cheap, \"quoted\": cheap.json, version from 2026-01-01T00:00:00Z\n"
		"  dear: dear.json, version from 2026-01-01T00:00:00Z\n");
	free(s.data);
	s.data = NULL;
	s.fail = 1;
	ck_assert_int_eq(gb_quote_write_text(q, sink_write, &s, &err), GB_EIO);
	ck_assert_int_eq(gb_quote_write_text(NULL, sink_write, &s, &err), GB_EINVAL);
	writer_free(q);
}
END_TEST

START_TEST(test_write_csv)
{
	gb_quote *q = writer_quote();
	struct sink s = { NULL, 0, 0 };
	gb_error err;

	ck_assert_int_eq(gb_quote_write_csv(q, sink_write, &s, &err), 0);
	ck_assert_str_eq(s.data,
		"rank,table,offer,kind,term,quantity,unit,unit_price,amount,saving,saving_percent,currency,note\r\n"
		"1,\"cheap, \"\"quoted\"\"\",spot,spot,,3,GPU-hour,0.50,1.50,4.50,75.00,USD,fixed spot price\r\n"
		"2,dear,reserved 1y,reserved,1y,3,GPU-hour,1.25,3.75,2.25,37.50,USD,\r\n"
		"3,\"cheap, \"\"quoted\"\"\",on-demand,on_demand,,3,GPU-hour,1.50,4.50,1.50,25.00,USD,\r\n"
		"4,dear,on-demand,on_demand,,3,GPU-hour,2.00,6.00,0.00,0.00,USD,\r\n"
		",\"cheap, \"\"quoted\"\"\",reserved,reserved,,,GPU-hour,,,,,USD,the '*' rate for sku 'A' has no reserved terms\r\n"
		",dear,spot,spot,,,GPU-hour,,,,,USD,the '*' rate for sku 'A' has no fixed spot price and no spot series price starts by 2026-02-01T00:00:00Z\r\n");
	free(s.data);
	s.data = NULL;
	s.fail = 1;
	ck_assert_int_eq(gb_quote_write_csv(q, sink_write, &s, &err), GB_EIO);
	writer_free(q);
}
END_TEST

START_TEST(test_write_json)
{
	gb_quote *q = writer_quote();
	struct sink s = { NULL, 0, 0 };
	const cJSON *offers, *un, *o;
	gb_error err;
	cJSON *root;

	ck_assert_int_eq(gb_quote_write_json(q, sink_write, &s, &err), 0);
	root = cJSON_Parse(s.data);
	ck_assert_ptr_nonnull(root);
	ck_assert_str_eq(cJSON_GetObjectItem(root, "format")->valuestring, "gpubill-quote/1");
	ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(root, "workload"), "hours")->valuestring, "1.5");
	offers = cJSON_GetObjectItem(root, "offers");
	un = cJSON_GetObjectItem(root, "unavailable");
	ck_assert_int_eq(cJSON_GetArraySize(offers), 4);
	ck_assert_int_eq(cJSON_GetArraySize(un), 2);
	o = cJSON_GetArrayItem(offers, 1);
	ck_assert_int_eq(cJSON_GetObjectItem(o, "rank")->valueint, 2);
	ck_assert_str_eq(cJSON_GetObjectItem(o, "table")->valuestring, "dear");
	ck_assert_str_eq(cJSON_GetObjectItem(o, "term")->valuestring, "1y");
	ck_assert_str_eq(cJSON_GetObjectItem(o, "amount")->valuestring, "3.75");
	ck_assert_str_eq(cJSON_GetObjectItem(o, "saving_percent")->valuestring, "37.50");
	o = cJSON_GetArrayItem(offers, 0);
	ck_assert_str_eq(cJSON_GetObjectItem(o, "table")->valuestring, "cheap, \"quoted\"");
	o = cJSON_GetArrayItem(un, 1);
	ck_assert_str_eq(cJSON_GetObjectItem(o, "kind")->valuestring, "spot");
	ck_assert_ptr_null(cJSON_GetObjectItem(o, "rank"));
	cJSON_Delete(root);
	free(s.data);
	s.data = NULL;
	s.fail = 1;
	ck_assert_int_eq(gb_quote_write_json(q, sink_write, &s, &err), GB_EIO);
	writer_free(q);
}
END_TEST

/* JSON stays valid with nothing available and with nothing unavailable. */
START_TEST(test_write_json_edges)
{
	gb_prices *t = load(TABLE("late", "USD", "", "{'effective_from': '2027-01-01T00:00:00Z', "
		"'gpu': {'rates': [{'sku': 'A', 'region': '*', 'on_demand': '1.00'}]}}"), "late.json");
	struct sink s = { NULL, 0, 0 };
	gb_quote *q = gpu_quote(&t, 1, "A", NULL, 1, "1", "2026-02-01T00:00:00Z");
	gb_error err;
	cJSON *root;

	ck_assert_uint_eq(gb_quote_available_count(q), 0);
	ck_assert_int_eq(gb_quote_write_json(q, sink_write, &s, &err), 0);
	root = cJSON_Parse(s.data);
	ck_assert_ptr_nonnull(root);
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(root, "offers")), 0);
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(root, "unavailable")), 1);
	ck_assert(cJSON_IsNull(cJSON_GetObjectItem(cJSON_GetArrayItem(
		cJSON_GetObjectItem(root, "tables"), 0), "version")));
	cJSON_Delete(root);
	free(s.data);
	gb_quote_free(q);
	q = gpu_quote(&t, 1, "A", NULL, 1, "1", "2027-02-01T00:00:00Z");
	memset(&s, 0, sizeof s);
	ck_assert_int_eq(gb_quote_write_json(q, sink_write, &s, &err), 0);
	root = cJSON_Parse(s.data);
	ck_assert_ptr_nonnull(root);
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(root, "offers")), 1);
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(root, "unavailable")), 2);
	cJSON_Delete(root);
	free(s.data);
	gb_quote_free(q);
	gb_prices_free(t);
}
END_TEST

/* --- allocation failures ---------------------------------------------------------- */

/* calls, fail_at, live and the allocator `counting` */
#include "alloc_count.h"

/* Fail the n-th allocation for every n: each run ends cleanly, no leak. */
START_TEST(test_allocation_failures)
{
	gb_prices *t[3];
	long n, base;
	int done = 0;

	gb_set_allocator(&counting);
	fail_at = 0;
	t[0] = load_file("prices/quote-alpha.json");
	t[1] = load_file("prices/quote-beta.json");
	t[2] = load_file("prices/quote-gamma.json");
	base = live;
	for (n = 1; !done; n++) {
		struct sink s = { NULL, 0, 0 };
		gb_quote_request req = GB_QUOTE_REQUEST_INIT;
		gb_quote *q = NULL;
		gb_error err;
		mpq_t h;
		int rc;

		mpq_init(h);
		mpq_set_ui(h, 5, 2);
		req.sku = "H100-SXM";
		req.region = "us-east";
		req.gpus = 4;
		req.hours = h;
		req.at = ts("2026-06-01T00:00:00Z");
		calls = 0;
		fail_at = n;
		rc = gb_quote_new(&q, (const gb_prices *const *)t, 3, &req, &err);
		if (rc == 0) {
			rc = gb_quote_write_text(q, sink_write, &s, &err);
			if (rc == 0)
				rc = gb_quote_write_csv(q, sink_write, &s, &err);
			if (rc == 0)
				rc = gb_quote_write_json(q, sink_write, &s, &err);
		}
		if (rc == 0)
			done = 1;
		else
			ck_assert_int_eq(rc, GB_ENOMEM);
		gb_quote_free(q);
		free(s.data);
		mpq_clear(h);
		fail_at = 0;
		ck_assert_msg(live == base, "leak after failing allocation %ld", n);
		ck_assert_int_lt(n, 100000);
	}
	gb_prices_free(t[0]);
	gb_prices_free(t[1]);
	gb_prices_free(t[2]);
	gb_set_allocator(NULL);
	ck_assert_int_eq(live, 0);
}
END_TEST

static Suite *quote_suite(void)
{
	Suite *s = suite_create("quote");
	TCase *rank = tcase_create("rank");
	TCase *price = tcase_create("price");
	TCase *edge = tcase_create("edge");
	TCase *write = tcase_create("write");

	tcase_add_test(rank, test_three_tables_ranked);
	tcase_add_test(rank, test_ties_follow_table_order);
	tcase_add_test(rank, test_minor_units_mixed);
	suite_add_tcase(s, rank);

	tcase_add_test(price, test_increment_and_minimum);
	tcase_add_test(price, test_graduated);
	tcase_add_test(price, test_volume);
	tcase_add_test(price, test_spot_series_and_fixed);
	tcase_add_test(price, test_tokens);
	tcase_add_test(price, test_rounded_once);
	suite_add_tcase(s, price);

	tcase_add_test(edge, test_unavailable);
	tcase_add_test(edge, test_labels);
	tcase_add_test(edge, test_currency_mismatch);
	tcase_add_test(edge, test_bad_requests);
	suite_add_tcase(s, edge);

	tcase_add_test(write, test_write_text);
	tcase_add_test(write, test_write_csv);
	tcase_add_test(write, test_write_json);
	tcase_add_test(write, test_write_json_edges);
	tcase_add_test(write, test_allocation_failures);
	tcase_set_timeout(write, 60);
	suite_add_tcase(s, write);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(quote_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
