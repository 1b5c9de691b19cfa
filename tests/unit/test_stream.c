/*
 * test_stream.c - invoices streamed customer by customer
 * (gb_rater_finish_each + gb_invoice_writer) give the same bytes as the
 * collect-all path (gb_rater_finish + gb_invoice_write_*), in all four
 * formats; FOCUS rows add up to each invoice's total; the integer fast paths give the same bytes as GMP alone; a
 * callback that fails stops the run cleanly.
 */
#include <check.h>
#include <gpubill/gpubill.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "invoice_internal.h"
#include "test_data.h"

#define NFMT 4

static const gb_invoice_format fmts[NFMT] = {
	GB_INVOICE_TEXT, GB_INVOICE_CSV, GB_INVOICE_JSON, GB_INVOICE_FOCUS
};

typedef struct sink {
	char *data;
	size_t len;
	size_t writes;
} sink;

static int sink_write(const void *d, size_t n, void *payload)
{
	sink *s = payload;

	s->data = realloc(s->data, s->len + n + 1);
	ck_assert_ptr_nonnull(s->data);
	memcpy(s->data + s->len, d, n);
	s->len += n;
	s->data[s->len] = '\0';
	s->writes++;
	return 0;
}

static void sinks_free(sink *s)
{
	int i;

	for (i = 0; i < NFMT; i++) {
		free(s[i].data);
		memset(&s[i], 0, sizeof s[i]);
	}
}

/* --- inputs ---------------------------------------------------------------- */

static unsigned long long lcg;

static unsigned next(unsigned n)
{
	lcg = lcg * 6364136223846793005ull + 1442695040888963407ull;
	return (unsigned)((lcg >> 33) % n);
}

static void put(char **buf, size_t *len, size_t *cap, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void put(char **buf, size_t *len, size_t *cap, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*cap - *len < 512) {
		*cap = *cap * 2 + 4096;
		*buf = realloc(*buf, *cap);
		ck_assert_ptr_nonnull(*buf);
	}
	va_start(ap, fmt);
	n = vsnprintf(*buf + *len, *cap - *len, fmt, ap);
	va_end(ap);
	ck_assert(n > 0 && (size_t)n < *cap - *len);
	*len += (size_t)n;
}

/*
 * A mixed October 2026 log: GPU rows (on-demand, spot, interrupted spot,
 * across both price versions, for the contract customers too, so their
 * reservations cover some hours) and token rows (batch, tiered model with
 * counts that cross its first tier), over ncust customers.
 */
static char *usage(unsigned seed, unsigned ncust, unsigned nrows, size_t *len)
{
	static const char *const skus[] = { "H100-SXM", "H200", "A100-80GB",
					    "B200", "L40S" };
	static const char *const regions[] = { "us-east", "us-west", "eu-west" };
	static const char *const models[] = { "llama-3.1-70b", "llama-3.1-8b",
					      "mixtral-8x7b" };
	static const char *const named[] = { "acme", "globex", "initech" };
	char *buf = NULL, cust[32];
	size_t cap = 0;
	unsigned i;

	lcg = seed;
	*len = 0;
	put(&buf, len, &cap, "id,customer,type,start,end,sku,region,gpus,market,"
	    "interrupted,model,input_tokens,cached_tokens,output_tokens,batch\n");
	for (i = 0; i < nrows; i++) {
		unsigned c = next(ncust + 3), day = 1 + next(31), h = next(24);
		unsigned m = next(60);

		if (c < 3)
			snprintf(cust, sizeof cust, "%s", named[c]);
		else if (c % 5 == 0)
			/* ids that share more than the sort's 16-byte prefix */
			snprintf(cust, sizeof cust, "cust-with-a-long-id-%u", c);
		else
			snprintf(cust, sizeof cust, "cust-%04u", c - 3);
		if (next(10) < 6) {
			unsigned dur = 30 + next(5 * 3600);
			unsigned spot = next(10) < 3, intr = spot && next(3) == 0;
			unsigned e = h * 3600 + m * 60 + dur, ed = day;

			if (e >= 86400) {
				/* into the next day (or November: outside) */
				e -= 86400;
				ed++;
			}
			put(&buf, len, &cap,
			    "r%u,%s,gpu,2026-10-%02uT%02u:%02u:00Z,2026-%s-%02uT%02u:%02u:%02uZ,"
			    "%s,%s,%u,%s,%s,,,,,\n", i, cust, day, h, m,
			    ed > 31 ? "11" : "10", ed > 31 ? 1 : ed, e / 3600,
			    e / 60 % 60, e % 60, skus[next(5)],
			    regions[c < 3 ? 0 : next(3)], 1 + next(8),
			    spot ? "spot" : "on_demand", intr ? "true" : "false");
		} else {
			/* sometimes enough tokens to cross the 10^9 tier */
			unsigned long long in = next(4) == 0 ?
				600000000ull + next(1500000000) : next(5000000);

			put(&buf, len, &cap,
			    "t%u,%s,tokens,2026-10-%02uT%02u:%02u:00Z,,,%s,,,,%s,%llu,%u,%u,%s\n",
			    i, cust, day, h, m, regions[next(3)], models[next(3)], in,
			    next(100000), next(2000000), next(4) == 0 ? "true" : "");
		}
	}
	return buf;
}

/*
 * A small table whose GPU prices are tiered by GPU-hours (graduated with
 * a fractional bound, so slices are not whole seconds, and with whole
 * hours, so they are; volume), in JPY (no minor units) with the rounding
 * mode given.
 */
static char *tiered_table(const char *rounding, size_t *len)
{
	char *buf = NULL;
	size_t cap = 0;

	*len = 0;
	put(&buf, len, &cap, "%s",
	    "{\"format\":\"gpubill-pricing/1\",\"name\":\"tiered\",\"currency\":\"JPY\","
	    "\"minor_units\":0,\"rounding\":\"");
	put(&buf, len, &cap, "%s", rounding);
	put(&buf, len, &cap, "%s",
	    "\",\"versions\":[{\"effective_from\":\"2026-01-01T00:00:00Z\","
	    "\"gpu\":{\"increment_seconds\":7,\"minimum_seconds\":60,"
	    "\"rates\":[{\"sku\":\"H100-SXM\",\"region\":\"*\",\"on_demand\":"
	    "{\"mode\":\"graduated\",\"tiers\":[{\"up_to\":\"3.3333\",\"price\":\"450.5\"},"
	    "{\"up_to\":\"40\",\"price\":\"401.25\"},{\"up_to\":null,\"price\":\"377.125\"}]},"
	    "\"spot\":\"123.4567\",\"reserved\":{\"1y\":\"280\"}},"
	    "{\"sku\":\"H200\",\"region\":\"*\",\"on_demand\":{\"mode\":\"volume\","
	    "\"tiers\":[{\"up_to\":\"20\",\"price\":\"612.5\"},{\"up_to\":null,\"price\":\"555.55\"}]},"
	    "\"spot\":\"201.5\"},"
	    "{\"sku\":\"A100-80GB\",\"region\":\"*\",\"on_demand\":\"301.5\",\"spot\":\"99.99\"},"
	    "{\"sku\":\"B200\",\"region\":\"*\",\"on_demand\":{\"mode\":\"graduated\","
	    "\"tiers\":[{\"up_to\":\"2\",\"price\":\"999.999999\"},{\"up_to\":\"30\",\"price\":\"777.7\"},"
	    "{\"up_to\":null,\"price\":\"555.5\"}]},\"spot\":\"333.3333\"},"
	    "{\"sku\":\"L40S\",\"region\":\"*\",\"on_demand\":\"0.5\",\"spot\":\"0.25\"}]},"
	    "\"tokens\":{\"batch_discount\":\"0.35\",\"rates\":["
	    "{\"model\":\"llama-3.1-70b\",\"input\":{\"mode\":\"volume\",\"tiers\":"
	    "[{\"up_to\":\"1000000000\",\"price\":\"120\"},{\"up_to\":null,\"price\":\"95.5\"}]},"
	    "\"cached_input\":\"60.25\",\"output\":\"133.3\"},"
	    "{\"model\":\"llama-3.1-8b\",\"input\":\"20.5\",\"cached_input\":\"10.25\",\"output\":\"21.75\"},"
	    "{\"model\":\"mixtral-8x7b\",\"input\":\"33.33\",\"cached_input\":\"11.11\",\"output\":\"44.44\"}]}}]}");
	return buf;
}

static const char tiered_contracts[] =
	"{\"format\":\"gpubill-contracts/1\",\"customers\":["
	"{\"customer\":\"acme\",\"reservations\":[{\"id\":\"r1\",\"sku\":\"H100-SXM\","
	"\"region\":\"us-east\",\"gpus\":2,\"term\":\"1y\",\"rate\":\"300.3\","
	"\"start\":\"2026-10-03T00:00:00Z\",\"end\":\"2026-10-20T00:00:00Z\"}],"
	"\"discounts\":{\"gpu_on_demand\":\"0.125\",\"gpu_spot\":\"0.3\",\"tokens\":\"0.07\"},"
	"\"minimum_spend\":\"99999999\",\"credits\":[{\"id\":\"c1\",\"amount\":\"5000\"}]},"
	"{\"customer\":\"globex\",\"credits\":[{\"id\":\"big\",\"amount\":\"100000000\"},"
	"{\"id\":\"more\",\"amount\":\"7\"}]},"
	"{\"customer\":\"zz-idle\",\"minimum_spend\":\"1000\"}]}";

typedef struct inputs {
	gb_prices *prices;
	gb_contracts *contracts;
	char *csv;
	size_t csv_len;
} inputs;

static void inputs_load(inputs *in, const char *prices, size_t plen,
			const char *contracts, size_t clen, char *csv,
			size_t ulen)
{
	gb_error err;

	memset(in, 0, sizeof *in);
	ck_assert_msg(gb_prices_load(&in->prices, prices, plen, "p.json", &err) == 0,
		      "%s", err.message);
	if (contracts)
		ck_assert_msg(gb_contracts_load(&in->contracts, contracts, clen,
						"c.json", in->prices, &err) == 0,
			      "%s", err.message);
	in->csv = csv;
	in->csv_len = ulen;
}

static void inputs_free(inputs *in)
{
	gb_contracts_free(in->contracts);
	gb_prices_free(in->prices);
	free(in->csv);
}

static int on_row(const gb_row *row, gb_error *err, void *payload)
{
	gb_outcome oc;

	(void)err;
	ck_assert_int_eq(gb_rater_add_row(payload, row, &oc), 0);
	return 0;
}

/* A rater that has read in's usage. */
static gb_rater *rated(const inputs *in)
{
	gb_rater_options o = GB_RATER_OPTIONS_INIT;
	gb_csv_reader *reader;
	gb_rater *r;
	gb_error err;

	o.period_from = 1790812800LL; /* 2026-10 */
	o.period_to = 1793491200LL;
	o.contracts = in->contracts;
	ck_assert_int_eq(gb_rater_new(&r, in->prices, &o, &err), 0);
	ck_assert_int_eq(gb_csv_reader_new(&reader, "u.csv", &err), 0);
	if (in->csv_len)
		ck_assert_int_eq(gb_csv_reader_feed(reader, in->csv, in->csv_len,
						    on_row, r, &err), 0);
	ck_assert_int_eq(gb_csv_reader_finish(reader, on_row, r, &err), 0);
	gb_csv_reader_free(reader);
	return r;
}

/* Every rational on every line in lowest terms, as GMP expects. */
static void canonical(const gb_invoice_set *set)
{
	mpq_t t;
	size_t i, j;

	mpq_init(t);
	for (i = 0; i < gb_invoice_set_count(set); i++) {
		const gb_invoice *inv = gb_invoice_set_get(set, i);

		for (j = 0; j < inv->nlines; j++) {
			const gb_invoice_line *l = &inv->lines[j];
			mpq_srcptr q[4] = { l->quantity, l->base_quantity,
					    l->unit_price, l->utilisation };
			int k;

			for (k = 0; k < 4; k++) {
				mpq_set(t, q[k]);
				mpq_canonicalize(t);
				ck_assert(mpq_cmp(t, q[k]) == 0);
				ck_assert(mpz_cmp(mpq_denref(t), mpq_denref(q[k])) == 0);
			}
		}
	}
	mpq_clear(t);
}

/*
 * One RFC 4180 field of a FOCUS row at *p into out (unquoted, NUL-ended);
 * *p moves past its ',' or CRLF.  Returns the character that ended it
 * (',' or '\n'), or 0 when the text is not such a field.  (No ck_assert
 * per field: each one costs Check a write.)
 */
static char csv_field(const char **p, char *out, size_t size)
{
	const char *s = *p;
	size_t n = 0;

	if (*s == '"') {
		for (s++;; s++) {
			if (*s == '"' && s[1] == '"')
				s++;
			else if (*s == '"')
				break;
			if (*s == '\0' || n + 1 >= size)
				return 0;
			out[n++] = *s;
		}
		s++;
	} else {
		for (; *s != ',' && *s != '\r'; s++) {
			if (*s == '\0' || *s == '"' || n + 1 >= size)
				return 0;
			out[n++] = *s;
		}
	}
	out[n] = '\0';
	if (*s == ',') {
		*p = s + 1;
		return ',';
	}
	if (s[0] != '\r' || s[1] != '\n')
		return 0;
	*p = s + 2;
	return '\n';
}

/* FOCUS columns and our one custom column */
#define FOCUS_COLS 36

/*
 * "-123.45" with exactly minor digits after the dot (none: no dot) as
 * minor units in v; 0, or -1 when it is not such a number.
 */
static int minor_units_of(mpz_t v, const char *text, unsigned minor)
{
	char digits[256], *d = digits;
	const char *dot = strchr(text, '.');

	if (minor ? !dot || strlen(dot + 1) != minor : dot != NULL)
		return -1;
	for (; *text && d < digits + sizeof digits - 1; text++)
		if (*text != '.')
			*d++ = *text;
	*d = '\0';
	return mpz_set_str(v, digits, 10);
}

/*
 * The FOCUS rows of set, in order, are its invoices' lines: 36 fields
 * each, BillingAccountId the customer (an apostrophe before a
 * formula-like one), x_LineKind the line's kind, and BilledCost (the
 * first column), summed exactly, equal to the invoice's total.
 */
static void focus_adds_up(const gb_invoice_set *set, const char *text)
{
	unsigned minor = gb_invoice_set_minor_units(set);
	const char *p = strchr(text, '\n');
	char field[1024];
	mpz_t sum, v;
	size_t i, j;

	ck_assert_ptr_nonnull(p);
	p++;
	mpz_init(sum);
	mpz_init(v);
	for (i = 0; i < gb_invoice_set_count(set); i++) {
		const gb_invoice *inv = gb_invoice_set_get(set, i);

		mpz_set_ui(sum, 0);
		for (j = 0; j < inv->nlines; j++) {
			const char *why = NULL;
			int col;

			if (csv_field(&p, field, sizeof field) != ',' ||
			    minor_units_of(v, field, minor) != 0)
				why = "BilledCost is not an amount";
			mpz_add(sum, sum, v);
			if (!why && (csv_field(&p, field, sizeof field) != ',' ||
				     strcmp(field + (field[0] == '\''),
					    inv->customer) != 0))
				why = "BillingAccountId is not the customer";
			for (col = 2; !why && col < FOCUS_COLS; col++)
				if (csv_field(&p, field, sizeof field) !=
				    (col + 1 < FOCUS_COLS ? ',' : '\n'))
					why = "not 36 fields";
			if (!why && strcmp(field, gb_line_kind_name(inv->lines[j].kind)))
				why = "x_LineKind is not the line's kind";
			if (why)
				ck_abort_msg("invoice %zu, line %zu: %s", i, j + 1, why);
		}
		if (mpz_cmp(sum, inv->total) != 0)
			ck_abort_msg("invoice %zu: FOCUS rows do not add up to its total", i);
	}
	ck_assert_str_eq(p, "");
	mpz_clear(sum);
	mpz_clear(v);
}

/* The collect-all path: gb_rater_finish, then each writer over the set. */
static size_t collected(const inputs *in, sink *out)
{
	gb_invoice_set *set;
	gb_rater *r = rated(in);
	gb_error err;
	size_t n;

	ck_assert_int_eq(gb_rater_finish(r, &set, &err), 0);
	gb_rater_free(r);   /* the set owns everything it shows */
	ck_assert_int_eq(gb_invoice_write_text(set, sink_write, &out[0], &err), 0);
	ck_assert_int_eq(gb_invoice_write_csv(set, sink_write, &out[1], &err), 0);
	ck_assert_int_eq(gb_invoice_write_json(set, sink_write, &out[2], &err), 0);
	ck_assert_int_eq(gb_invoice_write_focus(set, sink_write, &out[3], &err), 0);
	n = gb_invoice_set_count(set);
	canonical(set);
	focus_adds_up(set, out[3].data);
	if (n)
		ck_assert_ptr_nonnull(gb_invoice_set_get(set, n - 1));
	ck_assert_ptr_null(gb_invoice_set_get(set, n));
	gb_invoice_set_free(set);
	return n;
}

typedef struct fanout {
	gb_invoice_writer *w[NFMT];
	size_t calls;
	const char *last;     /* customer of the previous call */
	char prev[256];
} fanout;

static int to_all(const gb_invoice_set *set, const gb_invoice *inv,
		    void *payload, gb_error *err)
{
	fanout *t = payload;
	int i, rc;

	/* customer order, strictly */
	if (t->calls)
		ck_assert_str_lt(t->prev, inv->customer);
	snprintf(t->prev, sizeof t->prev, "%s", inv->customer);
	t->calls++;
	ck_assert_uint_eq(gb_invoice_set_count(set), t->calls);
	ck_assert_ptr_null(gb_invoice_set_get(set, 0));
	for (i = 0; i < NFMT; i++) {
		rc = gb_invoice_writer_each(set, inv, t->w[i], err);
		if (rc)
			return rc;
	}
	return 0;
}

/* The streamed path: one run feeds all four incremental writers. */
static size_t streamed(const inputs *in, sink *out)
{
	gb_invoice_set *set;
	gb_rater *r = rated(in);
	gb_error err;
	fanout t;
	size_t n;
	int i;

	memset(&t, 0, sizeof t);
	for (i = 0; i < NFMT; i++)
		ck_assert_int_eq(gb_invoice_writer_new(&t.w[i], fmts[i], sink_write,
						       &out[i], &err), 0);
	ck_assert_int_eq(gb_rater_finish_each(r, &set, to_all, &t, &err), 0);
	gb_rater_free(r);
	for (i = 0; i < NFMT; i++) {
		ck_assert_int_eq(gb_invoice_writer_finish(t.w[i], set, &err), 0);
		/* finished: no more */
		ck_assert_int_eq(gb_invoice_writer_finish(t.w[i], set, &err), GB_EINVAL);
		gb_invoice_writer_free(t.w[i]);
	}
	n = gb_invoice_set_count(set);
	ck_assert_uint_eq(n, t.calls);
	gb_invoice_set_free(set);
	return n;
}

static void same_bytes(const sink *a, const sink *b, const char *what)
{
	int i;

	for (i = 0; i < NFMT; i++) {
		size_t k = 0;

		while (k < a[i].len && k < b[i].len && a[i].data[k] == b[i].data[k])
			k++;
		ck_assert_msg(a[i].len == b[i].len && k == a[i].len,
			      "%s, format %d: %zu vs %zu bytes, first difference at %zu",
			      what, i, a[i].len, b[i].len, k);
	}
}

/* Collected, streamed and (collected) simple path, all equal. */
static size_t check_all_paths(const inputs *in)
{
	sink a[NFMT], b[NFMT], c[NFMT];
	size_t na, nb, nc;

	memset(a, 0, sizeof a);
	memset(b, 0, sizeof b);
	memset(c, 0, sizeof c);
	na = collected(in, a);
	nb = streamed(in, b);
	gb_invoice_fast = 0;
	nc = collected(in, c);
	gb_invoice_fast = 1;
	ck_assert_uint_eq(na, nb);
	ck_assert_uint_eq(na, nc);
	same_bytes(a, b, "streamed vs collected");
	same_bytes(a, c, "fast vs simple path");
	sinks_free(a);
	sinks_free(b);
	sinks_free(c);
	return na;
}

START_TEST(streamed_equals_collected_default_table)
{
	size_t plen, clen, ulen;
	char *p = slurp("../../pricing-tables/default.json", &plen);
	char *c = slurp("contracts/example.json", &clen);
	char *u = usage(1, 300, 4000, &ulen);
	inputs in;
	sink s[NFMT];

	inputs_load(&in, p, plen, c, clen, u, ulen);
	/* 300 generated customers and the three contract ones */
	ck_assert_uint_eq(check_all_paths(&in), 303);
	/* big enough that the writers flushed more than once */
	memset(s, 0, sizeof s);
	streamed(&in, s);
	ck_assert_uint_gt(s[2].writes, 2);
	ck_assert_ptr_nonnull(strstr(s[0].data, "graduated tier 2"));
	ck_assert_ptr_nonnull(strstr(s[0].data, "Credit promo-2026"));
	ck_assert_ptr_nonnull(strstr(s[0].data, ", batch"));
	ck_assert_ptr_nonnull(strstr(s[0].data, "interrupted by the provider"));
	sinks_free(s);
	inputs_free(&in);
	free(p);
	free(c);
}
END_TEST

START_TEST(streamed_equals_collected_every_rounding)
{
	static const char *const modes[] = { "half_even", "half_up", "down", "up" };
	int m = _i;
	size_t plen, ulen;
	char *p = tiered_table(modes[m], &plen);
	char *u = usage(7 + (unsigned)m, 40, 3000, &ulen);
	inputs in;

	inputs_load(&in, p, plen, tiered_contracts, strlen(tiered_contracts), u,
		    ulen);
	/* 40 customers, and zz-idle for its minimum spend */
	ck_assert_uint_eq(check_all_paths(&in), 44);
	inputs_free(&in);
	free(p);
}
END_TEST

/*
 * Ids and regions that need care in some format: quotes, commas, a
 * formula-like start, a number-like one, UTF-8, a backslash (control
 * bytes do not get past the rater).  Lines holding them take the writers'
 * general path, the rest the plain one; either way the bytes are those of
 * the collect-all path.
 */
static char *odd_usage(unsigned seed, unsigned nrows, size_t *len)
{
	static const char *const custs[] = {
		"plain-co", "\"a,b\"", "\"say \"\"hi\"\"\"", "=HYPERLINK(1)", "-42",
		"+1", "@home", "z\xc3\xbcrich-ag", "back\\slash", "sp ace",
		"x'y", "ok-2",
	};
	static const char *const regions[] = {
		"us-east", "\"eu,west\"", "=1+1", "\xc3\xa9t\xc3\xa9", "\"q\"\"t\"",
		"-7", "ap-south", "tab\\x",
	};
	static const char *const skus[] = { "H100-SXM", "H200", "A100-80GB",
					    "B200", "L40S" };
	static const char *const models[] = { "llama-3.1-70b", "llama-3.1-8b",
					      "mixtral-8x7b" };
	char *buf = NULL;
	size_t cap = 0;
	unsigned i;

	lcg = seed;
	*len = 0;
	put(&buf, len, &cap, "id,customer,type,start,end,sku,region,gpus,market,"
	    "interrupted,model,input_tokens,cached_tokens,output_tokens,batch\n");
	for (i = 0; i < nrows; i++) {
		const char *c = custs[next(sizeof custs / sizeof custs[0])];
		const char *rg = regions[next(sizeof regions / sizeof regions[0])];
		unsigned day = 1 + next(28), h = next(20);

		if (next(10) < 6)
			put(&buf, len, &cap,
			    "o%u,%s,gpu,2026-10-%02uT%02u:00:00Z,2026-10-%02uT%02u:%02u:00Z,"
			    "%s,%s,%u,%s,false,,,,,\n", i, c, day, h, day, h + 1 + next(3),
			    next(60), skus[next(5)], rg, 1 + next(4),
			    next(3) ? "on_demand" : "spot");
		else
			put(&buf, len, &cap,
			    "p%u,%s,tokens,2026-10-%02uT%02u:00:00Z,,,%s,,,,%s,%u,%u,%u,%s\n",
			    i, c, day, h, rg, models[next(3)], next(5000000), next(100000),
			    next(2000000), next(4) == 0 ? "true" : "");
	}
	return buf;
}

START_TEST(odd_strings_every_path)
{
	size_t plen, ulen;
	char *p = tiered_table("half_even", &plen);
	char *u = odd_usage(17, 1500, &ulen);
	inputs in;
	sink s[NFMT];

	inputs_load(&in, p, plen, NULL, 0, u, ulen);
	ck_assert_uint_eq(check_all_paths(&in), 12);
	/* the odd strings came through, as each format writes them */
	memset(s, 0, sizeof s);
	streamed(&in, s);
	ck_assert_ptr_nonnull(strstr(s[2].data, "\"customer\": \"say \\\"hi\\\"\""));
	ck_assert_ptr_nonnull(strstr(s[2].data, "\"region\": \"eu,west\""));
	ck_assert_ptr_nonnull(strstr(s[1].data, "\"'=HYPERLINK(1)\","));
	ck_assert_ptr_nonnull(strstr(s[1].data, "\r\n-42,"));
	ck_assert_ptr_nonnull(strstr(s[1].data, ",\"eu,west\","));
	ck_assert_ptr_nonnull(strstr(s[0].data, "H100-SXM on-demand, \xc3\xa9t\xc3\xa9"));
	ck_assert_ptr_nonnull(strstr(s[2].data, "\"customer\": \"back\\\\slash\""));
	ck_assert_ptr_nonnull(strstr(s[2].data, "\"region\": \"tab\\\\x\""));
	ck_assert_ptr_nonnull(strstr(s[3].data, ",\"'=HYPERLINK(1)\",,"));
	ck_assert_ptr_nonnull(strstr(s[3].data, ",\"eu,west\",\"eu,west\","));
	sinks_free(s);
	inputs_free(&in);
	free(p);
}
END_TEST

/* Few customers, many rows: invoices of dozens of lines (the sort's merge
 * passes), with contracts. */
START_TEST(long_invoices_every_path)
{
	size_t plen, clen, ulen;
	char *p = slurp("../../pricing-tables/default.json", &plen);
	char *c = slurp("contracts/example.json", &clen);
	char *u = usage(23, 2, 6000, &ulen);
	inputs in;

	inputs_load(&in, p, plen, c, clen, u, ulen);
	ck_assert_uint_eq(check_all_paths(&in), 5);
	inputs_free(&in);
	free(p);
	free(c);
	p = tiered_table("half_up", &plen);
	u = usage(29, 1, 4000, &ulen);
	inputs_load(&in, p, plen, tiered_contracts, strlen(tiered_contracts), u,
		    ulen);
	/* and zz-idle, for its minimum spend */
	ck_assert_uint_eq(check_all_paths(&in), 5);
	inputs_free(&in);
	free(p);
}
END_TEST

START_TEST(zero_invoices)
{
	size_t plen;
	char *p = slurp("../../pricing-tables/default.json", &plen);
	static const char row[] = "id,customer,type,start,end,sku,region,gpus\n"
		"x,acme,gpu,2026-09-01T00:00:00Z,2026-09-01T01:00:00Z,"
		"H100-SXM,us-east,1\n";
	char *u = malloc(sizeof row);
	inputs in;
	sink s[NFMT];

	memcpy(u, row, sizeof row);
	inputs_load(&in, p, plen, NULL, 0, u, strlen(u));
	ck_assert_uint_eq(check_all_paths(&in), 0);
	memset(s, 0, sizeof s);
	streamed(&in, s);
	ck_assert_ptr_nonnull(strstr(s[2].data, "  \"invoices\": [],\n"));
	ck_assert_ptr_nonnull(strstr(s[0].data, "0 invoices, total 0.00 USD"));
	ck_assert_str_eq(s[1].data, "customer,line,kind,description,sku_model,"
			 "region,quantity,unit,unit_price,amount,currency\r\n");
	/* FOCUS: the header row alone */
	ck_assert_ptr_nonnull(strstr(s[3].data, "BilledCost,BillingAccountId,"));
	ck_assert_ptr_eq(strstr(s[3].data, "\r\n"), s[3].data + s[3].len - 2);
	sinks_free(s);
	inputs_free(&in);
	free(p);
}
END_TEST

typedef struct stopper {
	size_t calls, stop_at;
	int code;
} stopper;

static int stop_cb(const gb_invoice_set *set, const gb_invoice *inv,
		   void *payload, gb_error *err)
{
	stopper *s = payload;

	(void)set;
	ck_assert_ptr_nonnull(inv->customer);
	if (++s->calls < s->stop_at)
		return 0;
	if (s->code < 0) {
		err->code = s->code;
		snprintf(err->message, sizeof err->message, "sink is full");
	}
	return s->code;
}

START_TEST(callback_error_stops_the_run)
{
	size_t plen, clen, ulen;
	char *p = slurp("../../pricing-tables/default.json", &plen);
	char *c = slurp("contracts/example.json", &clen);
	char *u = usage(3, 50, 800, &ulen);
	inputs in;
	int k;

	inputs_load(&in, p, plen, c, clen, u, ulen);
	for (k = 0; k < 3; k++) {
		stopper st = { 0, 1 + (size_t)k * 20, k == 1 ? 7 : GB_EIO };
		gb_invoice_set *set = (gb_invoice_set *)&st;
		gb_rater *r = rated(&in);
		gb_error err;
		int rc;

		gb_error_clear(&err);
		rc = gb_rater_finish_each(r, &set, stop_cb, &st, &err);
		ck_assert_uint_eq(st.calls, st.stop_at);
		ck_assert_ptr_null(set);
		if (k == 1) {
			/* a positive code is an abort, with a message */
			ck_assert_int_eq(rc, GB_EABORT);
			ck_assert_int_eq(err.code, GB_EABORT);
			ck_assert(err.message[0] != '\0');
		} else {
			/* the callback's own error stands */
			ck_assert_int_eq(rc, GB_EIO);
			ck_assert_str_eq(err.message, "sink is full");
		}
		/* finished either way */
		ck_assert_int_eq(gb_rater_finish(r, &set, &err), GB_EINVAL);
		ck_assert_ptr_null(set);
		gb_rater_free(r);
	}
	inputs_free(&in);
	free(p);
	free(c);
}
END_TEST

static int failing_write(const void *d, size_t n, void *payload)
{
	(void)d;
	(void)n;
	return ++*(int *)payload >= 2 ? -1 : 0;
}

START_TEST(writer_failure_stops_the_run)
{
	size_t plen, ulen;
	char *p = slurp("../../pricing-tables/default.json", &plen);
	char *u = usage(5, 400, 3000, &ulen);
	gb_invoice_writer *w;
	gb_invoice_set *set;
	inputs in;
	gb_rater *r;
	gb_error err;
	int writes = 0;

	inputs_load(&in, p, plen, NULL, 0, u, ulen);
	r = rated(&in);
	ck_assert_int_eq(gb_invoice_writer_new(&w, GB_INVOICE_JSON, failing_write,
					       &writes, &err), 0);
	ck_assert_int_eq(gb_rater_finish_each(r, &set, gb_invoice_writer_each, w,
					      &err), GB_EIO);
	ck_assert_ptr_null(set);
	ck_assert_int_eq(writes, 2);
	/* the failed writer takes nothing more */
	ck_assert_int_eq(gb_invoice_writer_finish(w, set, &err), GB_EINVAL);
	gb_invoice_writer_free(w);
	gb_rater_free(r);
	inputs_free(&in);
	free(p);
}
END_TEST

/* --- every allocation of a streamed run failing once -------------------------- */

/* calls, fail_at, live and the allocator `counting` */
#include "alloc_count.h"

/* Everything from the table to the streamed outputs; 0 or a code. */
static int stream_run(const char *p, size_t plen, const char *c, size_t clen,
		      const char *u, size_t ulen, gb_error *err)
{
	gb_prices *prices = NULL;
	gb_contracts *contracts = NULL;
	gb_rater *rater = NULL;
	gb_csv_reader *reader = NULL;
	gb_invoice_set *set = NULL;
	gb_rater_options o = GB_RATER_OPTIONS_INIT;
	sink out[NFMT];
	fanout t;
	int rc, i;

	memset(out, 0, sizeof out);
	memset(&t, 0, sizeof t);
	gb_error_clear(err);
	rc = gb_prices_load(&prices, p, plen, "default.json", err);
	if (!rc)
		rc = gb_contracts_load(&contracts, c, clen, "example.json", prices, err);
	if (!rc) {
		o.period_from = 1790812800LL;
		o.period_to = 1793491200LL;
		o.contracts = contracts;
		rc = gb_rater_new(&rater, prices, &o, err);
	}
	if (!rc)
		rc = gb_csv_reader_new(&reader, "u.csv", err);
	if (!rc)
		rc = gb_csv_reader_feed(reader, u, ulen, add_row_or_stop,
					 rater, err);
	if (!rc)
		rc = gb_csv_reader_finish(reader, add_row_or_stop, rater, err);
	for (i = 0; i < NFMT && !rc; i++)
		rc = gb_invoice_writer_new(&t.w[i], fmts[i], sink_write, &out[i], err);
	if (!rc)
		rc = gb_rater_finish_each(rater, &set, to_all, &t, err);
	for (i = 0; i < NFMT && !rc; i++)
		rc = gb_invoice_writer_finish(t.w[i], set, err);
	for (i = 0; i < NFMT; i++)
		gb_invoice_writer_free(t.w[i]);
	sinks_free(out);
	gb_invoice_set_free(set);
	gb_csv_reader_free(reader);
	gb_rater_free(rater);
	gb_contracts_free(contracts);
	gb_prices_free(prices);
	return rc;
}

START_TEST(every_allocation_failure_is_clean)
{
	size_t plen, clen, ulen;
	char *p = slurp("../../pricing-tables/default.json", &plen);
	char *c = slurp("contracts/example.json", &clen);
	char *u = usage(11, 6, 40, &ulen);
	long total, n, failures = 0;
	gb_error err;

	gb_set_allocator(&counting);
	calls = live = 0;
	fail_at = -1;
	ck_assert_int_eq(stream_run(p, plen, c, clen, u, ulen, &err), 0);
	ck_assert_int_eq(live, 0);
	total = calls;
	ck_assert_int_gt(total, 50);
	for (n = 1; n <= total; n++) {
		int rc;

		calls = live = 0;
		fail_at = n;
		rc = stream_run(p, plen, c, clen, u, ulen, &err);
		ck_assert_msg(live == 0, "allocation %ld of %ld failed: %ld blocks leaked",
			      n, total, live);
		if (rc == 0)
			continue;
		failures++;
		ck_assert_msg(rc == GB_ENOMEM || rc == GB_EABORT || err.code == GB_ENOMEM,
			      "allocation %ld: code %d (%s)", n, rc, err.message);
		ck_assert_msg(err.message[0] != '\0', "allocation %ld: no message", n);
	}
	gb_set_allocator(NULL);
	ck_assert_int_gt(failures, total / 2);
	printf("streamed: %ld allocations, each failed once: %ld runs ended in a clean error\n",
	       total, failures);
	free(p);
	free(c);
	free(u);
}
END_TEST

/* --- number text: the integer path against GMP's ---------------------------- */

static void one_decimal(const mpq_t v, unsigned lo, unsigned hi)
{
	char a[128], b[128];
	size_t na, nb;

	na = gb_decimal_text(a, sizeof a, v, lo, hi);
	nb = gb_decimal_format(b, sizeof b, v, lo, hi, GB_ROUND_HALF_EVEN);
	ck_assert_uint_eq(na, nb);
	ck_assert_str_eq(a, b);
	/* bounded like snprintf */
	na = gb_decimal_text(a, 4, v, lo, hi);
	gb_decimal_format(b, 4, v, lo, hi, GB_ROUND_HALF_EVEN);
	ck_assert_uint_eq(na, nb);
	ck_assert_str_eq(a, b);
}

START_TEST(number_text_matches_gmp)
{
	static const unsigned long dens[] = {
		1, 2, 3, 7, 10, 100, 3600, 1000000, 999999937, 18446744073709551557ul,
		576460752303423433ul, 288230376151711717ul, 1000000000000000000ul
	};
	mpq_t v;
	mpz_t z;
	char a[128], b[128];
	unsigned i, lo, hi;

	mpq_init(v);
	mpz_init(z);
	lcg = 42;
	for (i = 0; i < 20000; i++) {
		unsigned long num = ((unsigned long)next(1u << 31) << 33) ^
				    ((unsigned long)next(1u << 31) << (i % 33));
		unsigned long den = dens[i % 13];

		if (i % 3 == 0)
			num %= 1000000;
		mpz_set_ui(mpq_numref(v), num);
		mpz_set_ui(mpq_denref(v), den);
		mpq_canonicalize(v);
		if (i & 1)
			mpq_neg(v, v);
		lo = next(4);
		hi = lo + next(17);
		one_decimal(v, lo, hi);
		one_decimal(v, 0, 6);
		one_decimal(v, 2, 18);
		/* half-way cases: x.5 at the last digit kept */
		mpz_set_ui(mpq_numref(v), 2 * (num % 1000000) + 1);
		mpz_set_ui(mpq_denref(v), 2000000);
		mpq_canonicalize(v);
		one_decimal(v, 0, 6);
		one_decimal(v, 0, 5);
		/* money */
		mpz_set_ui(z, num);
		if (i & 2)
			mpz_neg(z, z);
		lo = next(5);
		ck_assert_uint_eq(gb_money_text(a, sizeof a, z, lo),
				  gb_money_format(b, sizeof b, z, lo));
		ck_assert_str_eq(a, b);
	}
	/* carries through every digit, signs of values shown as zero */
	{
		static const long cases[][4] = {
			{ 1999999, 2000000, 0, 6 }, { -1999999, 2000000, 0, 6 },
			{ 19, 20, 0, 1 }, { 17, 20, 0, 1 }, { -1, 2000000, 0, 6 },
			{ 1, 2000000, 0, 6 }, { 3, 2000000, 0, 6 }, { -3, 2000000, 2, 6 },
			{ 99999999, 10, 2, 0 }, { 5, 10, 0, 0 }, { 15, 10, 0, 0 },
			{ -25, 10, 0, 0 }, { 2, 3, 19, 19 }, { 1, 3, 0, 19 },
			{ 576460752303423487L, 576460752303423488L, 0, 18 },
			{ 1152921504606846975L, 7, 0, 18 },
		};

		for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
			mpz_set_si(mpq_numref(v), cases[i][0]);
			mpz_set_si(mpq_denref(v), cases[i][1]);
			mpq_canonicalize(v);
			one_decimal(v, (unsigned)cases[i][2], (unsigned)cases[i][3]);
		}
	}
	/* beyond 64 bits: the GMP path */
	mpz_ui_pow_ui(z, 10, 30);
	mpz_add_ui(z, z, 12345);
	mpq_set_z(v, z);
	mpz_set_ui(mpq_denref(v), 3600);
	mpq_canonicalize(v);
	one_decimal(v, 0, 6);
	ck_assert_uint_eq(gb_money_text(a, sizeof a, z, 2),
			  gb_money_format(b, sizeof b, z, 2));
	ck_assert_str_eq(a, b);
	mpz_set_ui(z, 0);
	ck_assert_uint_eq(gb_money_text(a, sizeof a, z, 2), 4);
	ck_assert_str_eq(a, "0.00");
	mpq_clear(v);
	mpz_clear(z);
}
END_TEST

/* A noted line's quantity: base / 3600 or / 10^6 without GMP. */
START_TEST(quantity_text_matches_gmp)
{
	static const uint64_t edges[] = {
		0, 1, 2, 9, 1799, 1800, 1801, 3599, 3600, 3601, 7199, 999999,
		1000000, 1000001, 18446744073709ull, GB_BASE_MAX - 1, GB_BASE_MAX,
	};
	char a[64], b[64];
	mpq_t v;
	unsigned i, k;

	mpq_init(v);
	lcg = 7;
	for (i = 0; i < 40000 + 2 * sizeof edges / sizeof edges[0]; i++) {
		int per = i % 2 ? GB_PER_HOUR : GB_PER_MILLION;
		uint64_t base;
		size_t na, nb;

		if (i / 2 < sizeof edges / sizeof edges[0])
			base = edges[i / 2];
		else if (i % 3)
			base = ((uint64_t)next(1u << 31) << 20 ^ next(1u << 20)) % GB_BASE_MAX;
		else
			base = next(100000000);
		mpz_set_ui(mpq_numref(v), base);
		mpz_set_ui(mpq_denref(v), per == GB_PER_HOUR ? 3600 : 1000000);
		mpq_canonicalize(v);
		na = gb_quantity_text(a, base, per);
		nb = gb_decimal_format(b, sizeof b, v, 0, GB_QUANTITY_DIGITS,
				       GB_ROUND_HALF_EVEN);
		ck_assert_uint_eq(na, nb);
		a[na] = '\0';
		ck_assert_str_eq(a, b);
		/* and as the writers write a line's quantity otherwise */
		for (k = 0; k < 64; k++)
			a[k] = 'x';
		na = gb_decimal_fast(a, v, 0, GB_QUANTITY_DIGITS);
		ck_assert_uint_eq(na, nb);
		ck_assert(memcmp(a, b, nb) == 0);
	}
	mpq_clear(v);
}
END_TEST

/* Unit prices through a writer's memo: hits, misses, and values that
 * share a slot, against GMP. */
START_TEST(price_memo_matches_gmp)
{
	static const unsigned long dens[] = { 1, 2, 3, 7, 100, 200, 1000, 3600, 9999991 };
	gb_invoice_writer *w;
	gb_error err;
	char a[64], b[64];
	mpq_t v;
	unsigned i, round;

	ck_assert_int_eq(gb_invoice_writer_new(&w, GB_INVOICE_JSON, sink_write,
					       NULL, &err), 0);
	mpq_init(v);
	for (round = 0; round < 3; round++) {
		lcg = 5;   /* the same values each round: the later ones hit */
		for (i = 0; i < 3000; i++) {
			unsigned lo = next(4), hi = lo + next(16);
			size_t na, nb;

			mpz_set_ui(mpq_numref(v), next(i % 5 ? 500 : 2000000000));
			mpz_set_ui(mpq_denref(v), dens[next(9)]);
			mpq_canonicalize(v);
			if (next(7) == 0)
				mpq_neg(v, v);
			na = gb_price_text(w, a, v, lo, hi);
			nb = gb_decimal_format(b, sizeof b, v, lo, hi,
					       GB_ROUND_HALF_EVEN);
			ck_assert_uint_eq(na, nb);
			ck_assert(memcmp(a, b, nb) == 0);
		}
	}
	/* beyond 64 bits: not kept, still right */
	mpz_ui_pow_ui(mpq_numref(v), 10, 25);
	mpz_set_ui(mpq_denref(v), 3);
	ck_assert_uint_eq(gb_price_text(w, a, v, 2, 18), GB_NOT_FAST);
	mpq_clear(v);
	gb_invoice_writer_free(w);
}
END_TEST

/* The writers' short copies and comma search, every length, every place. */
START_TEST(short_copies_and_commas)
{
	char src[128], dst[160];
	size_t n, k;

	for (n = 0; n < sizeof src; n++)
		src[n] = (char)('a' + n % 26);
	for (n = 0; n <= 100; n++) {
		memset(dst, '#', sizeof dst);
		ck_assert_ptr_eq(gb_put_short(dst + 8, src, n), dst + 8 + n);
		ck_assert(memcmp(dst + 8, src, n) == 0);
		for (k = 0; k < 8; k++)
			ck_assert(dst[k] == '#');
		for (k = 8 + n; k < sizeof dst; k++)
			ck_assert(dst[k] == '#');
		ck_assert_int_eq(gb_has_comma(src, n), 0);
		for (k = 0; k < n; k++) {
			src[k] = ',';
			ck_assert_int_eq(gb_has_comma(src, n), 1);
			/* one past the end does not count */
			ck_assert_int_eq(gb_has_comma(src, k), 0);
			src[k] = (char)('a' + k % 26);
		}
	}
}
END_TEST

/*
 * The notes the rater hands the writers with an invoice are used for that
 * invoice only, and only with the fast paths on: a note that lies shows
 * in the bytes exactly when it should be used.
 */
START_TEST(notes_apply_to_their_invoice_only)
{
	gb_invoice_set *set = gb_invoice_set_new("USD", 2, "t", 1790812800LL,
						 1793491200LL);
	gb_invoice_line line;
	gb_invoice inv, other;
	gb_line_note ln;
	gb_invoice_note note;
	sink plain[NFMT], noted[NFMT];
	int i, pass, shows;

	ck_assert_ptr_nonnull(set);
	gb_invoice_line_init(&line);
	line.kind = GB_LINE_GPU_ON_DEMAND;
	line.description = "H100-SXM on-demand, us-east";
	line.sku = "H100-SXM";
	line.model = "";
	line.region = "us-east";
	line.reference = "";
	line.unit = "GPU-hour";
	line.records = 2;
	mpq_set_ui(line.base_quantity, 5400, 1);
	mpq_set_ui(line.quantity, 3, 2);
	mpq_set_ui(line.unit_price, 249, 100);
	mpz_set_ui(line.amount, 374);
	memset(&inv, 0, sizeof inv);
	inv.customer = "acme";
	inv.nlines = 1;
	inv.lines = &line;
	mpz_init_set_ui(inv.total, 374);
	other = inv;
	memset(&ln, 0, sizeof ln);
	ln.plain = 1;
	ln.len[GB_TXT_DESC] = 27;
	ln.len[GB_TXT_SKU] = 8;
	ln.len[GB_TXT_REGION] = 7;
	ln.len[GB_TXT_UNIT] = 8;
	ln.per = GB_PER_HOUR;
	ln.base = 5400;
	note.inv = &inv;
	note.lines = &ln;
	note.customer_len = 4;
	for (pass = 0; pass < 5; pass++) {
		/* description length, base, which invoice, fast paths, and
		 * whether the note must show */
		static const struct {
			uint32_t desc;
			uint64_t base;
			int other, fast, shows;
		} how[] = {
			{ 27, 5400, 0, 1, 0 },   /* a true note: the same bytes */
			{ 9, 5400, 0, 1, 1 },    /* a short description */
			{ 27, 7200, 0, 1, 1 },   /* a base that is not the line's */
			{ 9, 7200, 1, 1, 0 },    /* another invoice's note */
			{ 9, 7200, 0, 0, 0 },    /* the fast paths off */
		};

		ln.len[GB_TXT_DESC] = how[pass].desc;
		ln.base = how[pass].base;
		memset(plain, 0, sizeof plain);
		memset(noted, 0, sizeof noted);
		for (i = 0; i < NFMT; i++) {
			gb_invoice_writer *a, *b;
			gb_error err;

			ck_assert_int_eq(gb_invoice_writer_new(&a, fmts[i], sink_write,
							       &plain[i], &err), 0);
			ck_assert_int_eq(gb_invoice_writer_new(&b, fmts[i], sink_write,
							       &noted[i], &err), 0);
			gb_invoice_fast = 1;
			set->note = NULL;
			ck_assert_int_eq(gb_invoice_writer_add(a, set, &inv, &err), 0);
			ck_assert_int_eq(gb_invoice_writer_finish(a, set, &err), 0);
			gb_invoice_fast = how[pass].fast;
			set->note = &note;
			ck_assert_int_eq(gb_invoice_writer_add(b, set, how[pass].other ?
							       &other : &inv, &err), 0);
			set->note = NULL;
			ck_assert_int_eq(gb_invoice_writer_finish(b, set, &err), 0);
			gb_invoice_fast = 1;
			gb_invoice_writer_free(a);
			gb_invoice_writer_free(b);
			/* FOCUS takes no notes: every line goes the general way */
			shows = how[pass].shows && fmts[i] != GB_INVOICE_FOCUS;
			ck_assert_msg((plain[i].len == noted[i].len &&
				       memcmp(plain[i].data, noted[i].data,
					      plain[i].len) == 0) == !shows,
				      "case %d, format %d: the note %s", pass, i,
				      shows ? "was not used" : "was used");
		}
		sinks_free(plain);
		sinks_free(noted);
	}
	gb_invoice_fast = 1;
	mpz_clear(inv.total);
	gb_invoice_line_clear(&line);
	gb_invoice_set_free(set);
}
END_TEST

/* The plain byte-by-byte JSON escaping, to check the word-at-a-time one. */
static void json_reference(char *out, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	*out++ = '"';
	for (; *p; p++) {
		if (*p == '"' || *p == '\\') {
			*out++ = '\\';
			*out++ = (char)*p;
		} else if (*p == '\n') {
			out += sprintf(out, "\\n");
		} else if (*p == '\r') {
			out += sprintf(out, "\\r");
		} else if (*p == '\t') {
			out += sprintf(out, "\\t");
		} else if (*p < 0x20 || *p == 0x7f) {
			out += sprintf(out, "\\u%04x", *p);
		} else {
			*out++ = (char)*p;
		}
	}
	*out++ = '"';
	*out = '\0';
}

START_TEST(json_strings_match_reference)
{
	static const unsigned char special[] = {
		'"', '\\', 0x7f, 0x1f, 0x01, '\n', '\t', 0x20, 0x21, 0x80, 0xff, 0x5b, 0x5d
	};
	char s[80], want[600];
	gb_buf b;
	int i, j;

	lcg = 99;
	for (i = 0; i < 20000; i++) {
		int n = (int)next(40);

		for (j = 0; j < n; j++)
			s[j] = next(4) ? (char)('a' + next(26)) :
				(char)special[next(sizeof special)];
		s[n] = '\0';
		gb_buf_init(&b);
		gb_buf_json_string(&b, s);
		json_reference(want, s);
		ck_assert_str_eq(b.data, want);
		gb_buf_free(&b);
	}
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("stream");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, streamed_equals_collected_default_table);
	tcase_add_loop_test(tc, streamed_equals_collected_every_rounding, 0, 4);
	tcase_add_test(tc, zero_invoices);
	tcase_add_test(tc, odd_strings_every_path);
	tcase_add_test(tc, long_invoices_every_path);
	tcase_add_test(tc, callback_error_stops_the_run);
	tcase_add_test(tc, writer_failure_stops_the_run);
	tcase_add_test(tc, number_text_matches_gmp);
	tcase_add_test(tc, json_strings_match_reference);
	tcase_add_test(tc, quantity_text_matches_gmp);
	tcase_add_test(tc, price_memo_matches_gmp);
	tcase_add_test(tc, short_copies_and_commas);
	tcase_add_test(tc, notes_apply_to_their_invoice_only);
	tcase_add_test(tc, every_allocation_failure_is_clean);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
