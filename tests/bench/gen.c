/*
 * gen.c - gpubill-gen: a deterministic synthetic usage log for the benchmark.
 *
 * Writes a gpubill-usage(5) CSV shaped like a GPU cloud's nightly export,
 * and optionally the gpubill-contracts(5) file that goes with it.  The same
 * arguments always give the same bytes: every choice comes from one
 * splitmix64 stream (integers only, no floating point), and every
 * per-customer trait (home region, favourite sku and model, reservations)
 * is a fixed function of the seed and the customer number, so the usage
 * and the contracts agree without the generator keeping any table.
 *
 * Shape (defaults): 40% token records, 60% GPU records of which 30% spot;
 * customers picked with a heavy skew (a few big accounts, a long tail);
 * GPU records on the five skus and four regions the default table prices,
 * 1..64 GPUs skewed small, seconds to days long, some starting before the
 * period or running past it and many across the table's 2026-10-15 price
 * change; token records on its four models, 10^2..10^7 tokens, some batch,
 * some with cached input; about 0.5% of the rows are exact repeats of an
 * earlier row (a meter's retry).  A small share of timestamps carry
 * milliseconds, and on-demand is sometimes left empty, as real exports do.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage_text[] =
"Usage: gpubill-gen [OPTIONS]\n"
"\n"
"Write a deterministic synthetic gpubill usage log (CSV).\n"
"\n"
"  -n, --rows N                data rows, duplicates included (default 1000000)\n"
"  -s, --seed S                random seed (default 1)\n"
"  -c, --customers C           distinct customers (default 2000)\n"
"      --token-share P         percent of token records (default 40)\n"
"      --spot-share P          percent of GPU records on spot (default 30)\n"
"      --reserved-customers P  percent of customers with reservations (default 2)\n"
"      --period YYYY-MM        the month the log is for (default 2026-10)\n"
"  -o, --output FILE           write the log here (default standard output)\n"
"      --contracts FILE        also write the matching contracts file\n"
"  -v, --verbose               print what was written on standard error\n"
"  -h, --help                  show this help\n";

/* --- integer randomness ---------------------------------------------------- */

__extension__ typedef unsigned __int128 u128;

static uint64_t mix64(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

typedef struct rng {
	uint64_t s;
} rng;

static uint64_t next64(rng *r)
{
	r->s += 0x9e3779b97f4a7c15ull;
	return mix64(r->s);
}

/* Uniform in [0, n), n > 0 (Lemire's multiply-shift; the bias is < n/2^64). */
static uint64_t below(rng *r, uint64_t n)
{
	return (uint64_t)(((u128)next64(r) * n) >> 64);
}

/* A trait of customer c: a fixed function of the seed, c and a salt. */
static uint64_t trait(uint64_t seed, uint64_t c, uint64_t salt)
{
	return mix64(mix64(seed ^ 0x6a09e667f3bcc909ull) + c * 0x9e3779b97f4a7c15ull +
		     salt * 0xd1b54a32d192ed03ull);
}

/* --- what the default table prices ------------------------------------------- */

static const char *const skus[] = { "H100-SXM", "H200", "B200", "A100-80GB", "L40S" };
static const unsigned sku_weight[] = { 40, 15, 10, 25, 10 };         /* percent */
static const char *const regions[] = { "us-east", "us-west", "eu-west", "us-central" };
static const unsigned region_weight[] = { 40, 25, 25, 10 };
static const char *const models[] = { "llama-3.1-8b", "llama-3.1-70b",
				       "llama-3.1-405b", "mixtral-8x7b" };
static const unsigned model_weight[] = { 35, 35, 10, 20 };

#define NSKUS (sizeof skus / sizeof skus[0])
#define NREGIONS (sizeof regions / sizeof regions[0])
#define NMODELS (sizeof models / sizeof models[0])

static unsigned weighted(uint64_t x, const unsigned *w, unsigned n)
{
	unsigned i, v = (unsigned)(x % 100);

	for (i = 0; i + 1 < n; i++) {
		if (v < w[i])
			return i;
		v -= w[i];
	}
	return n - 1;
}

/* --- options and customers ----------------------------------------------- */

typedef struct gen {
	uint64_t rows, seed, customers;
	unsigned token_share, spot_share, reserved_share;
	int64_t from, to;                 /* the period, Unix seconds, [from, to) */
	int year, month;
} gen;

static unsigned home_sku(const gen *g, uint64_t c)
{
	return weighted(trait(g->seed, c, 1), sku_weight, NSKUS);
}

static unsigned home_region(const gen *g, uint64_t c)
{
	return weighted(trait(g->seed, c, 2), region_weight, NREGIONS);
}

static unsigned home_model(const gen *g, uint64_t c)
{
	return weighted(trait(g->seed, c, 3), model_weight, NMODELS);
}

/*
 * Customer c has reservations when its slot, a spread of the customer
 * numbers over 0..9999, is below the share: exactly the share of every
 * 10,000 consecutive customers, big and small alike.  The next 1% of slots
 * have a contract without reservations (discounts, minimum, credits).
 */
static unsigned slot(const gen *g, uint64_t c)
{
	return (unsigned)((c * 7919u + (g->seed % 10000u)) % 10000u);
}

static int reserved(const gen *g, uint64_t c)
{
	return slot(g, c) < g->reserved_share * 100u;
}

static int contract_only(const gen *g, uint64_t c)
{
	unsigned s = slot(g, c);

	return s >= g->reserved_share * 100u && s < g->reserved_share * 100u + 100u;
}

static size_t customer_name(char *out, uint64_t c)
{
	char digits[24];
	size_t n = 0, len;

	memcpy(out, "cust-", 5);
	do {
		digits[n++] = (char)('0' + c % 10);
		c /= 10;
	} while (c);
	while (n < 7)
		digits[n++] = '0';
	for (len = 5; n; )
		out[len++] = digits[--n];
	return len;
}

/*
 * A heavy skew: the product of three uniforms, scaled.  Customer 0 gets
 * about 1.4% of the rows with 2,000 customers; the median customer a few
 * hundredths of a percent.
 */
static uint64_t pick_customer(rng *r, uint64_t n)
{
	u128 a = below(r, n), b = below(r, n), c = below(r, n);

	return (uint64_t)(a * b / n * c / n);
}

/* --- writing ---------------------------------------------------------------- */

#define OUT_SIZE (1u << 20)

typedef struct out {
	FILE *fp;
	char buf[OUT_SIZE];
	size_t len;
	uint64_t total;
	int failed;
} out;

static void out_flush(out *o)
{
	if (o->len && fwrite(o->buf, 1, o->len, o->fp) != o->len)
		o->failed = 1;
	o->total += o->len;
	o->len = 0;
}

static char *put_str(char *p, const char *s)
{
	size_t n = strlen(s);

	memcpy(p, s, n);
	return p + n;
}

static char *put_u64(char *p, uint64_t v)
{
	char tmp[24];
	size_t n = 0;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n)
		*p++ = tmp[--n];
	return p;
}

static char *put2(char *p, unsigned v)
{
	p[0] = (char)('0' + v / 10);
	p[1] = (char)('0' + v % 10);
	return p + 2;
}

/* Howard Hinnant's days_from_civil and civil_from_days. */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static char *put_time(char *p, int64_t t, int millis)
{
	int64_t z = (t >= 0 ? t : t - 86399) / 86400, era, y;
	int64_t sod = t - z * 86400;
	unsigned doe, yoe, doy, mp, d, m;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = (unsigned)(z - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	y = (int64_t)yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	d = doy - (153 * mp + 2) / 5 + 1;
	m = mp < 10 ? mp + 3 : mp - 9;
	y += m <= 2;
	p = put2(p, (unsigned)(y / 100));
	p = put2(p, (unsigned)(y % 100));
	*p++ = '-';
	p = put2(p, m);
	*p++ = '-';
	p = put2(p, d);
	*p++ = 'T';
	p = put2(p, (unsigned)(sod / 3600));
	*p++ = ':';
	p = put2(p, (unsigned)(sod / 60 % 60));
	*p++ = ':';
	p = put2(p, (unsigned)(sod % 60));
	if (millis >= 0) {
		*p++ = '.';
		*p++ = (char)('0' + millis / 100);
		p = put2(p, (unsigned)(millis % 100));
	}
	*p++ = 'Z';
	return p;
}

/* A UUID-shaped id; its first 64 bits are a bijection of the row number, so
 * ids never repeat within one run. */
static char *put_id(char *p, uint64_t seed, uint64_t n)
{
	static const char hex[] = "0123456789abcdef";
	uint64_t hi = mix64(n ^ mix64(seed)), lo = mix64(hi ^ seed ^ 0x5bd1e995ull);
	int i;

	for (i = 0; i < 32; i++) {
		uint64_t w = i < 16 ? hi : lo;
		unsigned nib = (unsigned)(w >> (60 - 4 * (i % 16))) & 15u;

		if (i == 8 || i == 12 || i == 16 || i == 20)
			*p++ = '-';
		*p++ = i == 12 ? '4' : hex[nib];
	}
	return p;
}

/* --- rows ---------------------------------------------------------------- */

static const char header[] =
	"id,customer,type,start,end,sku,region,gpus,market,interrupted,model,"
	"input_tokens,cached_tokens,output_tokens,batch\n";

static uint64_t pick_gpus(rng *r)
{
	static const unsigned cut[] = { 40, 60, 70, 85, 93, 97, 100 };
	static const unsigned val[] = { 1, 2, 4, 8, 16, 32, 64 };
	unsigned v = (unsigned)below(r, 100), i;

	if (below(r, 50) == 0)                        /* odd sizes: 3, 6, 12, ... */
		return 1 + below(r, 24);
	for (i = 0; v >= cut[i]; i++)
		;
	return val[i];
}

static int64_t pick_duration(rng *r, int interrupted)
{
	unsigned k = (unsigned)below(r, 100);

	if (interrupted) {                           /* most die within the hour */
		if (k < 70)
			return 10 + (int64_t)below(r, 3590);
		return 3600 + (int64_t)below(r, 6 * 3600);
	}
	if (k < 25)
		return 10 + (int64_t)below(r, 590);               /* seconds to minutes */
	if (k < 65)
		return 600 + (int64_t)below(r, 4 * 3600 - 600);   /* up to 4 hours */
	if (k < 92)
		return 4 * 3600 + (int64_t)below(r, 20 * 3600);   /* up to a day */
	return 86400 + (int64_t)below(r, 4 * 86400);          /* up to 5 days */
}

/* 10^lo .. 10^hi - 1, log-uniform by decade. */
static uint64_t pick_tokens(rng *r, unsigned lo, unsigned hi)
{
	uint64_t p = 1;
	unsigned e = lo + (unsigned)below(r, hi - lo), i;

	for (i = 0; i < e; i++)
		p *= 10;
	return p + below(r, 9 * p);
}

/* The row's start: anywhere from a day before the period to its end. */
static int64_t pick_start(const gen *g, rng *r)
{
	return g->from - 86400 + (int64_t)below(r, (uint64_t)(g->to - g->from + 86400));
}

static char *gpu_row(const gen *g, rng *r, char *p, uint64_t c)
{
	unsigned sku = below(r, 100) < 70 ? home_sku(g, c)
		: weighted(next64(r), sku_weight, NSKUS);
	unsigned region = below(r, 100) < 75 ? home_region(g, c)
		: weighted(next64(r), region_weight, NREGIONS);
	int spot = below(r, 100) < g->spot_share;
	int interrupted = spot && below(r, 100) < 25;
	int millis = below(r, 100) < 3 ? (int)below(r, 1000) : -1;
	int64_t start = pick_start(g, r);
	int64_t end = start + pick_duration(r, interrupted);

	p = put_str(p, "gpu,");
	p = put_time(p, start, millis);
	*p++ = ',';
	p = put_time(p, end, millis >= 0 ? (int)below(r, 1000) : -1);
	*p++ = ',';
	p = put_str(p, skus[sku]);
	*p++ = ',';
	p = put_str(p, regions[region]);
	*p++ = ',';
	p = put_u64(p, pick_gpus(r));
	*p++ = ',';
	if (spot)
		p = put_str(p, interrupted ? "spot,true" : "spot,false");
	else
		p = put_str(p, below(r, 10) ? "on_demand," : ",");
	return put_str(p, ",,,,,\n");
}

static char *token_row(const gen *g, rng *r, char *p, uint64_t c)
{
	unsigned model = below(r, 100) < 60 ? home_model(g, c)
		: weighted(next64(r), model_weight, NMODELS);
	int millis = below(r, 100) < 3 ? (int)below(r, 1000) : -1;
	uint64_t input = pick_tokens(r, 2, 7);
	unsigned k;

	p = put_str(p, "tokens,");
	p = put_time(p, pick_start(g, r), millis);
	*p++ = ',';
	*p++ = ',';                                   /* no end, no sku */
	*p++ = ',';
	if (below(r, 100) < 70)
		p = put_str(p, regions[home_region(g, c)]);
	p = put_str(p, ",,,,");                       /* no gpus, market, interrupted */
	p = put_str(p, models[model]);
	*p++ = ',';
	p = put_u64(p, input);
	*p++ = ',';
	k = (unsigned)below(r, 100);
	if (k < 40)
		p = put_u64(p, pick_tokens(r, 2, 7));
	else if (k < 70)
		*p++ = '0';
	*p++ = ',';
	p = put_u64(p, pick_tokens(r, 2, 6));
	*p++ = ',';
	k = (unsigned)below(r, 100);
	if (k < 10)
		p = put_str(p, "true");
	else if (k < 70)
		p = put_str(p, "false");
	*p++ = '\n';
	return p;
}

/* --- the contracts file ---------------------------------------------------------- */

static int write_contracts(const gen *g, const char *path)
{
	FILE *fp = fopen(path, "w");
	char name[32], from[32], to[32];
	uint64_t c;
	int first = 1;

	if (!fp)
		return -1;
	*put_time(from, g->from, -1) = '\0';
	*put_time(to, g->to, -1) = '\0';
	fprintf(fp, "{\n  \"format\": \"gpubill-contracts/1\",\n"
		"  \"description\": \"gpubill-gen --seed %" PRIu64 " --customers %" PRIu64
		" --reserved-customers %u --period %04d-%02d\",\n  \"customers\": [",
		g->seed, g->customers, g->reserved_share, g->year, g->month);
	for (c = 0; c < g->customers; c++) {
		int res = reserved(g, c), other = contract_only(g, c);
		uint64_t t = trait(g->seed, c, 4);
		const char *sep = "";

		if (!res && !other)
			continue;
		name[customer_name(name, c)] = '\0';
		fprintf(fp, "%s\n    {\"customer\": \"%s\", \"name\": \"Customer %" PRIu64 "\"",
			first ? "" : ",", name, c);
		first = 0;
		if (res) {
			/* On its favourite sku in its home region, the whole month;
			 * a quarter also hold a second, 3-year block there. */
			fprintf(fp, ",\n     \"reservations\": [\n"
				"       {\"id\": \"res-%s-1\", \"sku\": \"%s\", \"region\": \"%s\", "
				"\"gpus\": %u, \"term\": \"1y\", \"start\": \"%s\", \"end\": \"%s\"}",
				name, skus[home_sku(g, c)], regions[home_region(g, c)],
				(unsigned)(8 * (1 + t % 8)), from, to);
			if ((t >> 8) % 4 == 0)
				fprintf(fp, ",\n       {\"id\": \"res-%s-2\", \"sku\": \"%s\", "
					"\"region\": \"%s\", \"gpus\": %u, \"term\": \"3y\", "
					"\"start\": \"%s\", \"end\": \"%s\"}",
					name, skus[home_sku(g, c)], regions[home_region(g, c)],
					(unsigned)(4 * (1 + (t >> 12) % 4)), from, to);
			fputs("]", fp);
		}
		if (other || (t >> 16) % 2 == 0) {
			fputs(",\n     \"discounts\": {", fp);
			if ((t >> 17) % 4 != 0) {
				fprintf(fp, "\"gpu_on_demand\": \"0.%02u\"", (unsigned)(5 + (t >> 20) % 16));
				sep = ", ";
			}
			if ((t >> 18) % 3 == 0) {
				fprintf(fp, "%s\"gpu_spot\": \"0.05\"", sep);
				sep = ", ";
			}
			fprintf(fp, "%s\"tokens\": \"0.%02u\"}", sep, (unsigned)(2 + (t >> 24) % 9));
		}
		if ((t >> 28) % 10 < 3)
			fprintf(fp, ",\n     \"minimum_spend\": \"%u000.00\"",
				(unsigned)(1 + (t >> 32) % 20));
		if ((t >> 40) % 5 < 2) {
			fprintf(fp, ",\n     \"credits\": [{\"id\": \"promo-%04d\", \"amount\": \"%u.00\"}",
				g->year, (unsigned)(50 * (1 + (t >> 44) % 20)));
			if ((t >> 50) % 3 == 0)
				fputs(", {\"id\": \"sla-credit\", \"amount\": \"125.50\"}", fp);
			fputs("]", fp);
		}
		fputs("}", fp);
	}
	fputs("\n  ]\n}\n", fp);
	if (ferror(fp)) {
		fclose(fp);
		return -1;
	}
	return fclose(fp);
}

/* --- main ---------------------------------------------------------------- */

/* Exact-repeat rows come from a small ring of recent rows. */
#define RING 64
#define ROW_MAX 512

static int parse_u64(const char *s, uint64_t lo, uint64_t hi, uint64_t *outv)
{
	char *end;
	unsigned long long v;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v < lo || v > hi)
		return -1;
	*outv = v;
	return 0;
}

static int parse_month(const char *s, int *year, int *month)
{
	int i;

	if (strlen(s) != 7 || s[4] != '-')
		return -1;
	for (i = 0; i < 7; i++)
		if (i != 4 && (s[i] < '0' || s[i] > '9'))
			return -1;
	*year = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
	*month = (s[5] - '0') * 10 + (s[6] - '0');
	return *year < 1971 || *month < 1 || *month > 12 ? -1 : 0;
}

static int bad(const char *opt, const char *arg, const char *want)
{
	fprintf(stderr, "gpubill-gen: %s '%s': expected %s\n", opt, arg, want);
	return 2;
}

int main(int argc, char **argv)
{
	enum { O_TOKEN = 256, O_SPOT, O_RESERVED, O_PERIOD, O_CONTRACTS };
	static const struct option longopts[] = {
		{ "rows", required_argument, NULL, 'n' },
		{ "seed", required_argument, NULL, 's' },
		{ "customers", required_argument, NULL, 'c' },
		{ "token-share", required_argument, NULL, O_TOKEN },
		{ "spot-share", required_argument, NULL, O_SPOT },
		{ "reserved-customers", required_argument, NULL, O_RESERVED },
		{ "period", required_argument, NULL, O_PERIOD },
		{ "output", required_argument, NULL, 'o' },
		{ "contracts", required_argument, NULL, O_CONTRACTS },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static out o;
	static char ring[RING][ROW_MAX];
	static size_t ring_len[RING];
	gen g = { 1000000, 1, 2000, 40, 30, 2, 0, 0, 2026, 10 };
	const char *output = NULL, *contracts = NULL;
	uint64_t v, i, dups = 0, kept = 0;
	int opt, verbose = 0;
	rng r;

	while ((opt = getopt_long(argc, argv, "n:s:c:o:vh", longopts, NULL)) != -1) {
		switch (opt) {
		case 'n':
			if (parse_u64(optarg, 0, UINT64_C(1) << 40, &g.rows))
				return bad("--rows", optarg, "a whole number");
			break;
		case 's':
			if (parse_u64(optarg, 0, UINT64_MAX, &g.seed))
				return bad("--seed", optarg, "a whole number");
			break;
		case 'c':
			if (parse_u64(optarg, 1, 100000000, &g.customers))
				return bad("--customers", optarg, "1 to 100000000");
			break;
		case O_TOKEN:
		case O_SPOT:
		case O_RESERVED:
			if (parse_u64(optarg, 0, opt == O_RESERVED ? 99 : 100, &v))
				return bad(opt == O_TOKEN ? "--token-share" : opt == O_SPOT ?
					   "--spot-share" : "--reserved-customers",
					   optarg, "a percentage");
			if (opt == O_TOKEN)
				g.token_share = (unsigned)v;
			else if (opt == O_SPOT)
				g.spot_share = (unsigned)v;
			else
				g.reserved_share = (unsigned)v;
			break;
		case O_PERIOD:
			if (parse_month(optarg, &g.year, &g.month))
				return bad("--period", optarg, "YYYY-MM");
			break;
		case 'o': output = optarg; break;
		case O_CONTRACTS: contracts = optarg; break;
		case 'v': verbose = 1; break;
		case 'h': fputs(usage_text, stdout); return 0;
		default: fputs(usage_text, stderr); return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "gpubill-gen: unexpected argument '%s'\n", argv[optind]);
		return 2;
	}
	g.from = days_from_civil(g.year, (unsigned)g.month, 1) * 86400;
	g.to = (g.month == 12 ? days_from_civil(g.year + 1, 1, 1)
			      : days_from_civil(g.year, (unsigned)g.month + 1, 1)) * 86400;

	o.fp = output ? fopen(output, "w") : stdout;
	if (!o.fp) {
		fprintf(stderr, "gpubill-gen: %s: %s\n", output, strerror(errno));
		return 1;
	}
	memcpy(o.buf, header, sizeof header - 1);
	o.len = sizeof header - 1;
	r.s = mix64(g.seed ^ 0x243f6a8885a308d3ull);
	for (i = 0; i < g.rows; i++) {
		char *row, *p;
		uint64_t c;

		if (o.len > OUT_SIZE - ROW_MAX)
			out_flush(&o);
		row = o.buf + o.len;
		if (kept > 0 && below(&r, 1000) < 5) {
			size_t k = (size_t)below(&r, kept < RING ? kept : RING);

			memcpy(row, ring[k], ring_len[k]);
			o.len += ring_len[k];
			dups++;
			continue;
		}
		c = pick_customer(&r, g.customers);
		p = put_id(row, g.seed, i);
		*p++ = ',';
		p += customer_name(p, c);
		*p++ = ',';
		if (below(&r, 100) < g.token_share)
			p = token_row(&g, &r, p, c);
		else
			p = gpu_row(&g, &r, p, c);
		memcpy(ring[kept % RING], row, (size_t)(p - row));
		ring_len[kept % RING] = (size_t)(p - row);
		kept++;
		o.len += (size_t)(p - row);
	}
	out_flush(&o);
	if (o.failed || (output ? fclose(o.fp) : fflush(o.fp)) != 0) {
		fprintf(stderr, "gpubill-gen: %s: write error: %s\n",
			output ? output : "standard output", strerror(errno));
		return 1;
	}
	if (contracts && write_contracts(&g, contracts) != 0) {
		fprintf(stderr, "gpubill-gen: %s: %s\n", contracts, strerror(errno));
		return 1;
	}
	if (verbose) {
		uint64_t nres = 0, c;

		for (c = 0; c < g.customers; c++)
			nres += (uint64_t)reserved(&g, c);
		fprintf(stderr, "gpubill-gen: rows=%" PRIu64 " distinct_ids=%" PRIu64
			" duplicates=%" PRIu64 " bytes=%" PRIu64 " customers=%" PRIu64
			" reserved_customers=%" PRIu64 "\n",
			g.rows, kept, dups, o.total, g.customers, nres);
	}
	return 0;
}
