/*
 * fuzz_common.h - what the libFuzzer harnesses share: a fixed pricing table
 * and contracts that reach every pricing path (two versions, tiers, spot
 * price changes, reservations, discounts, minimum spend, credits), a usage
 * file that bills against both, sinks for the writers, and a check that
 * stops the run loudly.
 *
 * A harness that finds its own invariant broken calls FUZZ_CHECK, which
 * prints what broke and aborts, so libFuzzer keeps the input as a crash.
 */
#ifndef GPUBILL_FUZZ_COMMON_H
#define GPUBILL_FUZZ_COMMON_H

#include <gpubill/gpubill.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_CHECK(cond, ...)                                                  \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, \
				__LINE__, #cond);                              \
			fprintf(stderr, __VA_ARGS__);                          \
			fputc('\n', stderr);                                   \
			abort();                                               \
		}                                                              \
	} while (0)

/* A table like the golden "full-model" one, in two versions. */
static const char fuzz_prices_json[] =
"{\"format\":\"gpubill-pricing/1\",\"name\":\"fuzz\",\"currency\":\"USD\","
" \"minor_units\":2,\"rounding\":\"half_even\",\"versions\":["
" {\"effective_from\":\"2026-01-01T00:00:00Z\","
"  \"gpu\":{\"increment_seconds\":60,\"minimum_seconds\":300,"
"   \"spot_interruption_free_seconds\":3600,\"rates\":["
"   {\"sku\":\"H100\",\"region\":\"*\",\"on_demand\":\"3.00\",\"spot\":\"1.00\","
"    \"reserved\":{\"1y\":\"2.00\",\"3y\":\"1.50\"}},"
"   {\"sku\":\"H100\",\"region\":\"e\",\"on_demand\":\"3.25\",\"spot\":\"1.10\","
"    \"reserved\":{\"1y\":\"2.10\"}},"
"   {\"sku\":\"A\",\"region\":\"*\",\"on_demand\":{\"mode\":\"graduated\",\"tiers\":["
"    {\"up_to\":\"10\",\"price\":\"2.00\"},{\"up_to\":\"20\",\"price\":\"1.50\"},"
"    {\"up_to\":null,\"price\":\"1.00\"}]}},"
"   {\"sku\":\"L\",\"region\":\"*\",\"on_demand\":{\"mode\":\"volume\",\"tiers\":["
"    {\"up_to\":\"10\",\"price\":\"1.00\"},{\"up_to\":null,\"price\":\"0.80\"}]}}],"
"   \"spot_prices\":["
"   {\"sku\":\"H100\",\"region\":\"e\",\"from\":\"2026-10-10T00:00:00Z\",\"price\":\"0.90\"},"
"   {\"sku\":\"H100\",\"region\":\"*\",\"from\":\"2026-10-10T06:00:00Z\",\"price\":\"0.70\"}]},"
"  \"tokens\":{\"batch_discount\":\"0.50\",\"rates\":["
"   {\"model\":\"m\",\"input\":\"1.00\",\"cached_input\":\"0.25\",\"output\":\"4.00\"},"
"   {\"model\":\"t\",\"input\":{\"mode\":\"graduated\",\"tiers\":["
"    {\"up_to\":\"1000000\",\"price\":\"2.00\"},{\"up_to\":null,\"price\":\"1.00\"}]},"
"    \"cached_input\":\"0.50\",\"output\":\"3.00\"}]}},"
" {\"effective_from\":\"2026-10-20T00:00:00Z\","
"  \"gpu\":{\"increment_seconds\":1,\"minimum_seconds\":0,"
"   \"spot_interruption_free_seconds\":3600,\"rates\":["
"   {\"sku\":\"H100\",\"region\":\"*\",\"on_demand\":\"2.40\",\"spot\":\"1.00\","
"    \"reserved\":{\"1y\":\"1.80\",\"3y\":\"1.50\"}},"
"   {\"sku\":\"H100\",\"region\":\"e\",\"on_demand\":\"2.45\",\"spot\":\"0.95\","
"    \"reserved\":{\"1y\":\"1.90\"}}]},"
"  \"tokens\":{\"batch_discount\":\"0.40\",\"rates\":["
"   {\"model\":\"m\",\"input\":\"0.80\",\"cached_input\":\"0.25\",\"output\":\"4.00\"}]}}]}";

/* Contracts for fuzz_prices_json: customers "r", "v" and "i". */
static const char fuzz_contracts_json[] =
"{\"format\":\"gpubill-contracts/1\",\"customers\":["
" {\"customer\":\"r\",\"reservations\":["
"   {\"id\":\"r-a\",\"sku\":\"H100\",\"region\":\"e\",\"gpus\":2,\"term\":\"1y\","
"    \"start\":\"2026-10-01T00:00:00Z\",\"end\":\"2026-10-01T04:00:00Z\"},"
"   {\"id\":\"r-b\",\"sku\":\"H100\",\"region\":\"e\",\"gpus\":1,\"term\":\"1y\","
"    \"start\":\"2026-10-01T00:00:00Z\",\"end\":\"2026-10-01T04:00:00Z\",\"rate\":\"1.75\"}],"
"  \"discounts\":{\"gpu_on_demand\":\"0.10\",\"gpu_spot\":\"0.05\",\"tokens\":\"0.20\"},"
"  \"minimum_spend\":\"30.00\","
"  \"credits\":[{\"id\":\"c1\",\"amount\":\"10.00\"},{\"id\":\"c2\",\"amount\":\"25.00\"}]},"
" {\"customer\":\"v\",\"reservations\":["
"   {\"id\":\"r-c\",\"sku\":\"H100\",\"region\":\"e\",\"gpus\":1,\"term\":\"1y\","
"    \"start\":\"2026-10-19T23:00:00Z\",\"end\":\"2026-10-20T01:00:00Z\"}]},"
" {\"customer\":\"i\",\"minimum_spend\":\"5.00\","
"  \"credits\":[{\"id\":\"big\",\"amount\":\"100.00\"}]}]}";

/* Usage that touches every line kind of the fixed table and contracts. */
static const char fuzz_usage_csv[] =
"id,customer,type,start,end,sku,region,gpus,market,interrupted,model,input_tokens,cached_tokens,output_tokens,batch\n"
"1,r,gpu,2026-10-01T00:00:00Z,2026-10-01T05:00:00Z,H100,e,4,,,,,,,\n"
"2,r,gpu,2026-10-10T04:00:00Z,2026-10-10T08:00:00Z,H100,e,1,spot,,,,,,\n"
"3,r,gpu,2026-10-10T04:00:00Z,2026-10-10T04:30:00Z,H100,x,1,spot,true,,,,,\n"
"4,v,gpu,2026-10-19T22:30:00Z,2026-10-20T00:30:00Z,H100,e,2,on_demand,,,,,,\n"
"5,a,gpu,2026-10-01T00:00:00Z,2026-10-02T01:00:00Z,A,x,1,,,,,,,\n"
"6,a,gpu,2026-10-03T00:00:00Z,2026-10-03T12:00:00Z,L,x,1,,,,,,,\n"
"7,t,tokens,2026-10-05T00:00:00Z,,,,,,,m,1000,200,300,\n"
"8,t,tokens,2026-10-05T00:00:00Z,,,,,,,t,2000000,5,7,true\n"
"9,t,tokens,2026-10-25T00:00:00Z,,,,,,,m,1000,,,1\n"
"9,t,tokens,2026-10-25T00:00:00Z,,,,,,,m,1000,,,1\n"
"10,o,gpu,2026-09-01T00:00:00Z,2026-09-01T01:00:00Z,H100,e,1,,,,,,,\n";

/* Billing period of the fixed data: October 2026, UTC. */
#define FUZZ_PERIOD_FROM INT64_C(1790812800)
#define FUZZ_PERIOD_TO INT64_C(1793491200)

/* A sink that keeps a running hash and length of what was written. */
typedef struct fuzz_sink {
	uint64_t hash;
	size_t len;
} fuzz_sink;

static inline int fuzz_sink_write(const void *data, size_t len, void *payload)
{
	fuzz_sink *s = payload;
	const unsigned char *p = data;
	size_t i;

	for (i = 0; i < len; i++)
		s->hash = (s->hash ^ p[i]) * 0x100000001b3ull;
	s->len += len;
	return 0;
}

/* A sink that fails after some bytes, to reach the writers' error paths. */
typedef struct fuzz_failing_sink {
	size_t left;
} fuzz_failing_sink;

static inline int fuzz_failing_write(const void *data, size_t len, void *payload)
{
	fuzz_failing_sink *s = payload;

	(void)data;
	if (len > s->left)
		return -1;
	s->left -= len;
	return 0;
}

/* A failed call must say what went wrong. */
static inline void fuzz_check_error(int rc, const gb_error *err, const char *what)
{
	FUZZ_CHECK(rc < 0 && rc >= GB_EABORT, "%s returned %d", what, rc);
	FUZZ_CHECK(err->code == rc, "%s returned %d but err.code is %d", what,
		   rc, err->code);
	FUZZ_CHECK(err->message[0] != '\0', "%s failed without a message", what);
	FUZZ_CHECK(memchr(err->message, '\0', sizeof err->message) != NULL,
		   "%s: unterminated message", what);
}

/* Counts must add up: every row ends in exactly one state. */
static inline void fuzz_check_counts(const gb_counts *c)
{
	FUZZ_CHECK(c->read == c->billed + c->rejected + c->duplicates +
			      c->outside_period + c->skipped,
		   "conservation: read %llu != billed %llu + rejected %llu + "
		   "duplicates %llu + outside %llu + skipped %llu",
		   (unsigned long long)c->read, (unsigned long long)c->billed,
		   (unsigned long long)c->rejected,
		   (unsigned long long)c->duplicates,
		   (unsigned long long)c->outside_period,
		   (unsigned long long)c->skipped);
}

/*
 * Write the set as JSON to a hashing sink and return the hash; when all is
 * set, also as CSV and text, and once more into a sink that fails at byte
 * fail_at.
 */
static inline uint64_t fuzz_write(const gb_invoice_set *set, int all,
				  unsigned fail_at)
{
	fuzz_sink js = { 0xcbf29ce484222325ull, 0 }, other = { 0, 0 };
	fuzz_failing_sink bad = { fail_at };
	gb_error err;
	int rc;

	gb_error_clear(&err);
	rc = gb_invoice_write_json(set, fuzz_sink_write, &js, &err);
	FUZZ_CHECK(rc == 0, "write_json: %s", err.message);
	if (!all)
		return js.hash ^ js.len;
	rc = gb_invoice_write_csv(set, fuzz_sink_write, &other, &err);
	FUZZ_CHECK(rc == 0, "write_csv: %s", err.message);
	rc = gb_invoice_write_text(set, fuzz_sink_write, &other, &err);
	FUZZ_CHECK(rc == 0, "write_text: %s", err.message);
	rc = gb_invoice_write_json(set, fuzz_failing_write, &bad, &err);
	FUZZ_CHECK(rc == 0 || rc == GB_EIO, "failing sink gave %d", rc);
	FUZZ_CHECK(fail_at < js.len ? rc == GB_EIO : 1,
		   "a sink failure at byte %u of %zu went unreported", fail_at,
		   js.len);
	return js.hash ^ js.len;
}

/* Only JSON whitespace: an error about it has no place to name. */
static inline int fuzz_blank(const uint8_t *data, size_t size)
{
	size_t i;

	for (i = 0; i < size; i++)
		if (!strchr(" \t\r\n", data[i]) || data[i] == '\0')
			return 0;
	return 1;
}

/* Load the fixed table; any failure here is a bug in the harness. */
static inline gb_prices *fuzz_fixed_prices(void)
{
	static gb_prices *prices;
	gb_error err;

	if (!prices) {
		gb_error_clear(&err);
		if (gb_prices_load(&prices, fuzz_prices_json,
				   sizeof fuzz_prices_json - 1, "fuzz-prices.json",
				   &err) != 0) {
			fprintf(stderr, "fixed table: %s at %s\n", err.message,
				err.path);
			abort();
		}
	}
	return prices;
}

#endif
