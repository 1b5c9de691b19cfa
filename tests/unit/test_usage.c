/*
 * test_usage.c - the streaming CSV usage reader.
 *
 * Each test feeds a file and compares a transcript of every row callback:
 * "line flags nfields/nheader" followed by the non-empty known columns,
 * bytes outside printable ASCII written as \xHH.
 */
#include <check.h>
#include <gpubill/gpubill.h>
#include "internal.h"
#include "record.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* calls, fail_at, live and the allocator `counting` */
#include "alloc_count.h"
#include "test_data.h"

#define HDR "id,customer,type,start"

/*
 * gb_csv_reader_set_fast modes: 0 sends every byte through libcsv, 1 is
 * the default fast path (SSE2 where the build has it), 2 the portable SWAR
 * scan.  Both fast modes must give what libcsv gives, byte for byte.
 */
#define MODE_LIBCSV 0
#define MODE_BEST 1
#define MODE_PORTABLE 2

static int default_mode = MODE_BEST;	/* the "csv-portable" case: 2 */
static int use_fast = MODE_BEST;	/* the mode run_chunked sets */

struct run {
	char *log;		/* transcript of the callbacks */
	size_t len, cap;
	int feed_rc;		/* first failing feed, or 0 */
	int finish_rc;
	gb_error err;
	uint64_t rows;
	unsigned calls;
	unsigned stop_at;	/* callback returns 1 on this call (1-based) */
	int stop_fills_err;
};

/*
 * The row filter (gb_csv_reader_set_filter) run_chunked installs when
 * filt.on, and what on_row records for the checks: the value of column
 * filt.col of each row, one line each, as the transcript shows values.
 */
static struct {
	int on;
	gb_column col;
	unsigned asked;		/* calls of test_keep */
	unsigned fail_at;	/* this call returns GB_ENOMEM (1-based) */
	struct run vals;	/* the values, when record */
	int record;
} filt;

static void log_field(struct run *t, const gb_field *f);

static void log_bytes(struct run *t, const char *s, size_t n)
{
	if (t->len + n + 1 > t->cap) {
		t->cap = (t->len + n + 1) * 2;
		t->log = realloc(t->log, t->cap);
		ck_assert_ptr_nonnull(t->log);
	}
	memcpy(t->log + t->len, s, n);
	t->len += n;
	t->log[t->len] = '\0';
}

static void log_str(struct run *t, const char *s)
{
	log_bytes(t, s, strlen(s));
}

static void log_field(struct run *t, const gb_field *f)
{
	char hex[8];
	size_t i;

	for (i = 0; i < f->len; i++) {
		unsigned char c = (unsigned char)f->ptr[i];

		if (c >= 0x20 && c < 0x7f && c != '\\') {
			log_bytes(t, (const char *)&c, 1);
		} else {
			snprintf(hex, sizeof hex, "\\x%02X", c);
			log_str(t, hex);
		}
	}
}

static int on_row(const gb_row *row, gb_error *err, void *payload)
{
	struct run *t = payload;
	char head[96];
	int c;

	/* Not ck_assert: it costs a write per call, and this runs per row. */
	if (strcmp(row->source, "usage.csv") != 0)
		ck_abort_msg("row source '%s'", row->source);
	snprintf(head, sizeof head, "%llu %u %zu/%zu",
		 (unsigned long long)row->line, row->flags, row->nfields,
		 row->nheader);
	log_str(t, head);
	for (c = 0; c < GB_COL__COUNT; c++) {
		const gb_field *f = &row->f[c];

		if (f->len == 0 ? f->ptr != NULL : f->ptr == NULL)
			ck_abort_msg("line %llu, %s: len %zu, ptr %p",
				     (unsigned long long)row->line,
				     gb_column_name((gb_column)c), f->len,
				     (const void *)f->ptr);
		if (!f->len)
			continue;
		log_str(t, " ");
		log_str(t, gb_column_name((gb_column)c));
		log_str(t, "=");
		log_field(t, f);
	}
	log_str(t, "\n");
	if (filt.record) {
		log_field(&filt.vals, &row->f[filt.col]);
		log_str(&filt.vals, "\n");
	}
	if (++t->calls != t->stop_at)
		return 0;
	if (t->stop_fills_err) {
		err->code = GB_ESCHEMA;
		snprintf(err->message, sizeof err->message, "customer said no");
	}
	return 1;
}

/* FNV-1a: test_keep's verdict, from the value as the transcript shows it,
 * so that a check can work it out again from a transcript. */
static int verdict_of(const char *shown, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;
	size_t i;

	for (i = 0; i < n; i++)
		h = (h ^ (unsigned char)shown[i]) * 0x100000001b3ull;
	return h % 3 != 0;
}

/* Says no to about a third of the values; with fail_at, yes to all but
 * that call, which fails. */
static int test_keep(const gb_field *value, void *payload)
{
	struct run shown = { 0 };
	int keep;

	ck_assert_ptr_eq(payload, &filt);
	if (value->len == 0 ? value->ptr != NULL : value->ptr == NULL)
		ck_abort_msg("filter value: len %zu, ptr %p", value->len,
			     (const void *)value->ptr);
	if (++filt.asked == filt.fail_at)
		return GB_ENOMEM;
	if (filt.fail_at)
		return 1;
	log_str(&shown, "");
	log_field(&shown, value);
	keep = verdict_of(shown.log, shown.len);
	free(shown.log);
	return keep;
}

/* Feed data in pieces of chunk bytes (0: all at once), then finish. */
static void run_chunked(struct run *t, const void *data, size_t len,
			size_t chunk)
{
	const char *p = data;
	gb_csv_reader *r;
	size_t done = 0;

	memset(&t->err, 0, sizeof t->err);
	ck_assert_int_eq(gb_csv_reader_new(&r, "usage.csv", &t->err), 0);
	gb_csv_reader_set_fast(r, use_fast);
	if (filt.on)
		ck_assert_int_eq(gb_csv_reader_set_filter(r, filt.col, test_keep,
							  &filt), 0);
	log_str(t, "");
	if (!chunk)
		chunk = len ? len : 1;
	while (done < len) {
		size_t n = len - done < chunk ? len - done : chunk;

		t->feed_rc = gb_csv_reader_feed(r, p + done, n, on_row, t,
						&t->err);
		if (t->feed_rc)
			break;
		done += n;
	}
	if (!t->feed_rc)
		t->finish_rc = gb_csv_reader_finish(r, on_row, t, &t->err);
	t->rows = gb_csv_reader_rows(r);
	gb_csv_reader_free(r);
}

static void run_done(struct run *t)
{
	free(t->log);
	memset(t, 0, sizeof *t);
}

/* The whole file must parse cleanly into exactly this transcript. */
static void expect_rows(const void *data, size_t len, const char *want,
			uint64_t rows)
{
	struct run t = { 0 };

	run_chunked(&t, data, len, 0);
	ck_assert_int_eq(t.feed_rc, 0);
	ck_assert_msg(t.finish_rc == 0, "finish: %d %s", t.finish_rc,
		      t.err.message);
	ck_assert_str_eq(t.log, want);
	ck_assert_uint_eq(t.rows, rows);
	run_done(&t);
}

#define EXPECT(lit, want, rows) expect_rows(lit, sizeof(lit) - 1, want, rows)

/* The file must fail with this code, message and line. */
static void expect_error(const char *data, size_t len, size_t chunk, int code,
			 const char *msg, uint64_t line)
{
	struct run t = { 0 };
	int rc;

	run_chunked(&t, data, len, chunk);
	rc = t.feed_rc ? t.feed_rc : t.finish_rc;
	ck_assert_int_eq(rc, code);
	ck_assert_int_eq(t.err.code, code);
	ck_assert_str_eq(t.err.message, msg);
	ck_assert_str_eq(t.err.source, "usage.csv");
	ck_assert_uint_eq(t.err.line, line);
	run_done(&t);
}

/* ---- columns and header ------------------------------------------------ */

START_TEST(column_names)
{
	static const char *const want[GB_COL__COUNT] = {
		"id", "customer", "type", "start", "end", "sku", "region",
		"gpus", "market", "interrupted", "model", "input_tokens",
		"cached_tokens", "output_tokens", "batch",
	};
	int c;

	for (c = 0; c < GB_COL__COUNT; c++)
		ck_assert_str_eq(gb_column_name((gb_column)c), want[c]);
	ck_assert_ptr_null(gb_column_name(GB_COL__COUNT));
}
END_TEST

START_TEST(any_order_unknown_columns)
{
	EXPECT("note,start,type,gpus,customer,extra,id,batch\n"
	       "hi,2025-01-01T00:00:00Z,gpu,8,acme,x,r1,\n"
	       " zz , t2 ,tokens,,globex,,r2,true\n",
	       "2 0 8/8 id=r1 customer=acme type=gpu "
	       "start=2025-01-01T00:00:00Z gpus=8\n"
	       "3 0 8/8 id=r2 customer=globex type=tokens start=t2 "
	       "batch=true\n", 2);
}
END_TEST

START_TEST(header_names_exact)
{
	/* Unquoted names are trimmed by libcsv, quoted ones are not. */
	EXPECT(" id ,\"customer\",type,start,\" sku\",SKU,Region\n"
	       "a,b,c,d,e,f,g\n",
	       "2 0 7/7 id=a customer=b type=c start=d\n", 1);
}
END_TEST

START_TEST(header_only)
{
	EXPECT(HDR "\n", "", 0);
	EXPECT(HDR, "", 0);
	EXPECT("\n\n" HDR "\r\n\r\n", "", 0);
}
END_TEST

START_TEST(header_after_blank_lines)
{
	EXPECT("\n  \r\n" HDR "\na,b,c,d\n", "4 0 4/4 id=a customer=b "
	       "type=c start=d\n", 1);
}
END_TEST

START_TEST(empty_file)
{
	expect_error("", 0, 0, GB_ESCHEMA, "empty file: no header row", 0);
	expect_error("\n\r\n  \n", 6, 0, GB_ESCHEMA,
		     "empty file: no header row", 0);
	expect_error("\xEF\xBB\xBF", 3, 0, GB_ESCHEMA,
		     "empty file: no header row", 0);
	expect_error("\xEF\xBB\xBF", 3, 1, GB_ESCHEMA,
		     "empty file: no header row", 0);
}
END_TEST

START_TEST(missing_required)
{
	static const char *const files[] = {
		"customer,type,start\n",
		"id,type,start\n",
		"id,customer,start,end\n",
		"\n\nid,customer,type,Start\n",
	};
	static const char *const want[] = {
		"missing required column 'id'",
		"missing required column 'customer'",
		"missing required column 'type'",
		"missing required column 'start'",
	};
	static const uint64_t line[] = { 1, 1, 1, 3 };
	size_t i;

	for (i = 0; i < 4; i++)
		expect_error(files[i], strlen(files[i]), 0, GB_ESCHEMA,
			     want[i], line[i]);
}
END_TEST

START_TEST(duplicate_column)
{
	static const char f[] = "\r\nid,customer,type,start,x,\"type\"\n"
				"a,b,c,d,e,f\n";
	struct run t = { 0 };

	expect_error(f, sizeof f - 1, 0, GB_ESCHEMA,
		     "duplicate column 'type' in header (columns 3 and 6)", 2);
	expect_error(f, sizeof f - 1, 1, GB_ESCHEMA,
		     "duplicate column 'type' in header (columns 3 and 6)", 2);
	run_chunked(&t, f, sizeof f - 1, 0);
	ck_assert_uint_eq(t.calls, 0);
	run_done(&t);
}
END_TEST

/* ---- line endings and line numbers ------------------------------------- */

START_TEST(crlf)
{
	EXPECT(HDR "\r\na,b,c,d\r\ne,f,g,h\r\n",
	       "2 0 4/4 id=a customer=b type=c start=d\n"
	       "3 0 4/4 id=e customer=f type=g start=h\n", 2);
}
END_TEST

START_TEST(lone_cr)
{
	EXPECT(HDR "\ra,b,c,d\r\re,f,g,h\r",
	       "2 0 4/4 id=a customer=b type=c start=d\n"
	       "4 0 4/4 id=e customer=f type=g start=h\n", 2);
}
END_TEST

START_TEST(mixed_endings)
{
	/* LF, CRLF, CR, LF CR (two breaks), CR then a space then LF. */
	EXPECT(HDR "\n1,a,t,s\r\n2,a,t,s\r3,a,t,s\n\r4,a,t,s\r \n5,a,t,s",
	       "2 0 4/4 id=1 customer=a type=t start=s\n"
	       "3 0 4/4 id=2 customer=a type=t start=s\n"
	       "4 0 4/4 id=3 customer=a type=t start=s\n"
	       "6 0 4/4 id=4 customer=a type=t start=s\n"
	       "8 0 4/4 id=5 customer=a type=t start=s\n", 5);
}
END_TEST

START_TEST(missing_trailing_newline)
{
	EXPECT(HDR "\na,b,c,d", "2 0 4/4 id=a customer=b type=c start=d\n", 1);
	EXPECT(HDR "\na,b,c,\"d\"",
	       "2 0 4/4 id=a customer=b type=c start=d\n", 1);
	/* A lone comma is a row of two empty fields. */
	EXPECT(HDR "\n,", "2 1 2/4\n", 1);
}
END_TEST

START_TEST(blank_lines)
{
	EXPECT(HDR "\n\n1,a,t,s\n\n\n2,a,t,s\n \t \n3,a,t,s\n\n\n",
	       "3 0 4/4 id=1 customer=a type=t start=s\n"
	       "6 0 4/4 id=2 customer=a type=t start=s\n"
	       "8 0 4/4 id=3 customer=a type=t start=s\n", 3);
	EXPECT(HDR "\r\n\r\n1,a,t,s\r\n\r\n\r\n2,a,t,s\r\n\r\n",
	       "3 0 4/4 id=1 customer=a type=t start=s\n"
	       "6 0 4/4 id=2 customer=a type=t start=s\n", 2);
}
END_TEST

/* ---- quoting ----------------------------------------------------------- */

START_TEST(quoted_commas_and_quotes)
{
	EXPECT(HDR ",model\n"
	       "\"a,b\",\"say \"\"hi\"\"\",\"\",\" s \",\"\"\"\"\n",
	       "2 0 5/5 id=a,b customer=say \"hi\" start= s  model=\"\n", 1);
}
END_TEST

START_TEST(quoted_newlines)
{
	/* Row 2 spans lines 2-4; the next row starts on line 5. */
	EXPECT(HDR "\n\"a\nb\r\nc\",x,\"\r\",s\n1,2,3,4\r\n\"\n\n\",q,r,s",
	       "2 0 4/4 id=a\\x0Ab\\x0D\\x0Ac customer=x type=\\x0D start=s\n"
	       "6 0 4/4 id=1 customer=2 type=3 start=4\n"
	       "7 0 4/4 id=\\x0A\\x0A customer=q type=r start=s\n", 3);
}
END_TEST

START_TEST(malformed_quotes_not_fatal)
{
	/*
	 * Non-strict libcsv keeps stray quotes as data.  After a closed
	 * quote, a stray byte reopens the quote: `"ab"c,d` runs on to the
	 * next quote, across the comma and the newline.
	 */
	EXPECT(HDR "\nab\"c,x,t,s\n\"ab\"c,d\ne\",t,s\nr,c,t,s\n",
	       "2 0 4/4 id=ab\"c customer=x type=t start=s\n"
	       "3 1 3/4 id=ab\"c,d\\x0Ae customer=t type=s\n"
	       "5 0 4/4 id=r customer=c type=t start=s\n", 3);
}
END_TEST

START_TEST(embedded_nul)
{
	static const char f[] = HDR "\na\0b,c,\0,d\n";
	struct run t = { 0 };

	expect_rows(f, sizeof f - 1,
		    "2 0 4/4 id=a\\x00b customer=c type=\\x00 start=d\n", 1);
	run_chunked(&t, f, sizeof f - 1, 1);
	ck_assert_str_eq(t.log,
			 "2 0 4/4 id=a\\x00b customer=c type=\\x00 start=d\n");
	run_done(&t);
}
END_TEST

/* ---- field counts ------------------------------------------------------ */

START_TEST(field_counts)
{
	EXPECT(HDR ",sku\n"
	       "a,b\n"
	       "a,b,c,d,e,f,g\n"
	       "a,b,c,d,e\n"
	       "a\n",
	       "2 1 2/5 id=a customer=b\n"
	       "3 1 7/5 id=a customer=b type=c start=d sku=e\n"
	       "4 0 5/5 id=a customer=b type=c start=d sku=e\n"
	       "5 1 1/5 id=a\n", 4);
}
END_TEST

/* ---- byte order mark --------------------------------------------------- */

START_TEST(bom)
{
	static const char f[] = "\xEF\xBB\xBF" HDR "\na,b,c,d\n";
	static const char want[] = "2 0 4/4 id=a customer=b type=c start=d\n";
	struct run t = { 0 };
	size_t split;

	expect_rows(f, sizeof f - 1, want, 1);
	/* Every split of the first feed, including inside the BOM. */
	for (split = 0; split <= 4; split++) {
		gb_csv_reader *r;

		ck_assert_int_eq(gb_csv_reader_new(&r, "usage.csv", NULL), 0);
		log_str(&t, "");
		ck_assert_int_eq(gb_csv_reader_feed(r, f, split, on_row, &t,
						    NULL), 0);
		ck_assert_int_eq(gb_csv_reader_feed(r, f + split,
						    sizeof f - 1 - split,
						    on_row, &t, NULL), 0);
		ck_assert_int_eq(gb_csv_reader_finish(r, on_row, &t, NULL), 0);
		ck_assert_str_eq(t.log, want);
		gb_csv_reader_free(r);
		run_done(&t);
	}
}
END_TEST

START_TEST(bom_only_at_start)
{
	/* A partial BOM is data, and so is a BOM later in the file. */
	EXPECT("\xEF\xBBid,customer,type,start,id\na,b,c,d,e\n",
	       "2 0 5/5 id=e customer=b type=c start=d\n", 1);
	EXPECT(HDR "\n\xEF\xBB\xBF" "a,b,c,d\n",
	       "2 0 4/4 id=\\xEF\\xBB\\xBFa customer=b type=c start=d\n", 1);
	expect_error("\xEF\xBB", 2, 1, GB_ESCHEMA,
		     "missing required column 'id'", 1);
}
END_TEST

/* ---- limits and fatal errors ------------------------------------------- */

static char *long_file(size_t field, int quoted, size_t *len)
{
	static const char head[] = HDR "\nok,b,c,d\n\n";
	size_t n = sizeof head - 1;
	char *f = malloc(n + field + 16);

	ck_assert_ptr_nonnull(f);
	memcpy(f, head, n);
	if (quoted)
		f[n++] = '"';
	memset(f + n, 'x', field);
	n += field;
	if (quoted == 1)
		f[n++] = '"';
	memcpy(f + n, ",b,c,d\n", 7);
	*len = n + (quoted == 2 ? 0 : 7);
	return f;
}

START_TEST(field_at_limit)
{
	struct run t = { 0 };
	size_t len;
	char *f = long_file(GB_CSV_FIELD_MAX, 1, &len);

	run_chunked(&t, f, len, 0);
	ck_assert_int_eq(t.feed_rc, 0);
	ck_assert_int_eq(t.finish_rc, 0);
	ck_assert_uint_eq(t.rows, 2);
	ck_assert_uint_eq(t.len, strlen("2 0 4/4 id=ok customer=b type=c "
					"start=d\n4 0 4/4 id= customer=b "
					"type=c start=d\n") + GB_CSV_FIELD_MAX);
	run_done(&t);
	free(f);
}
END_TEST

START_TEST(field_too_long)
{
	static const char msg[] =
		"field longer than 65536 bytes (unterminated quote?)";
	static const size_t sizes[] = { GB_CSV_FIELD_MAX + 1, 70000 };
	size_t i, len;
	int q;

	for (i = 0; i < 2; i++) {
		for (q = 0; q < 2; q++) {
			char *f = long_file(sizes[i], q, &len);

			expect_error(f, len, 0, GB_ESYNTAX, msg, 4);
			expect_error(f, len, 7, GB_ESYNTAX, msg, 4);
			free(f);
		}
	}
}
END_TEST

START_TEST(long_header_field)
{
	char *f = malloc(70010);

	ck_assert_ptr_nonnull(f);
	memcpy(f, "\n\n", 2);
	memset(f + 2, 'h', 70000);
	expect_error(f, 70002, 0, GB_ESYNTAX,
		     "field longer than 65536 bytes (unterminated quote?)", 3);
	/* Short enough for libcsv's last block: only finish sees it. */
	expect_error(f, 2 + GB_CSV_FIELD_MAX + 1, 0, GB_ESYNTAX,
		     "field longer than 65536 bytes (unterminated quote?)", 3);
	free(f);
}
END_TEST

START_TEST(unclosed_quote_swallows_file)
{
	size_t len;
	char *f = long_file(70000, 2, &len); /* opening quote, never closed */

	expect_error(f, len, 0, GB_ESYNTAX,
		     "field longer than 65536 bytes (unterminated quote?)", 4);
	expect_error(f, len, 1, GB_ESYNTAX,
		     "field longer than 65536 bytes (unterminated quote?)", 4);
	free(f);
}
END_TEST

START_TEST(unterminated_quote_at_eof)
{
	static const char f[] = HDR "\n1,a,t,s\n\n2,\"a,t,s\n3,a,t,s\n";
	struct run t = { 0 };

	expect_error(f, sizeof f - 1, 0, GB_ESYNTAX,
		     "unterminated quoted field", 4);
	expect_error(f, sizeof f - 1, 1, GB_ESYNTAX,
		     "unterminated quoted field", 4);
	/* The rows before it were delivered. */
	run_chunked(&t, f, sizeof f - 1, 0);
	ck_assert_str_eq(t.log, "2 0 4/4 id=1 customer=a type=t start=s\n");
	ck_assert_uint_eq(t.rows, 1);
	run_done(&t);
	expect_error(HDR "\n\"", sizeof HDR + 1, 0, GB_ESYNTAX,
		     "unterminated quoted field", 2);
}
END_TEST

START_TEST(error_is_sticky)
{
	static const char f[] = "id,id\n";
	gb_csv_reader *r;
	gb_error err;

	ck_assert_int_eq(gb_csv_reader_new(&r, "usage.csv", &err), 0);
	ck_assert_int_eq(gb_csv_reader_feed(r, f, sizeof f - 1, on_row, NULL,
					    &err), GB_ESCHEMA);
	memset(&err, 0, sizeof err);
	ck_assert_int_eq(gb_csv_reader_feed(r, "a,b\n", 4, on_row, NULL,
					    &err), GB_ESCHEMA);
	ck_assert_str_eq(err.message,
			 "duplicate column 'id' in header (columns 1 and 2)");
	ck_assert_int_eq(gb_csv_reader_feed(r, "a", 1, on_row, NULL, NULL),
			 GB_ESCHEMA);
	ck_assert_int_eq(gb_csv_reader_finish(r, on_row, NULL, &err),
			 GB_ESCHEMA);
	ck_assert_uint_eq(gb_csv_reader_rows(r), 0);
	gb_csv_reader_free(r);
}
END_TEST

START_TEST(misuse)
{
	gb_csv_reader *r;
	gb_error err;

	gb_csv_reader_free(NULL);
	ck_assert_int_eq(gb_csv_reader_new(NULL, "x", &err), GB_EINVAL);
	ck_assert_int_eq(gb_csv_reader_feed(NULL, "a", 1, on_row, NULL, &err),
			 GB_EINVAL);
	ck_assert_int_eq(gb_csv_reader_finish(NULL, on_row, NULL, &err),
			 GB_EINVAL);
	ck_assert_uint_eq(gb_csv_reader_rows(NULL), 0);
	ck_assert_int_eq(gb_csv_reader_new(&r, "usage.csv", &err), 0);
	ck_assert_int_eq(gb_csv_reader_feed(r, NULL, 1, NULL, NULL, &err),
			 GB_EINVAL);
	ck_assert_int_eq(gb_csv_reader_feed(r, NULL, 0, NULL, NULL, &err), 0);
	/* Without a callback rows are still counted. */
	ck_assert_int_eq(gb_csv_reader_feed(r, HDR "\na,b,c,d\n",
					    sizeof HDR + 8, NULL, NULL, &err),
			 0);
	ck_assert_int_eq(gb_csv_reader_finish(r, NULL, NULL, &err), 0);
	ck_assert_uint_eq(gb_csv_reader_rows(r), 1);
	ck_assert_int_eq(gb_csv_reader_feed(r, "x", 1, NULL, NULL, &err),
			 GB_EINVAL);
	ck_assert_str_eq(err.source, "usage.csv");
	gb_csv_reader_free(r);
}
END_TEST

/* ---- callback abort ---------------------------------------------------- */

static const char abort_file[] = HDR "\n1,a,t,s\n\n2,a,t,s\n3,a,t,s";

START_TEST(abort_generic)
{
	struct run t = { 0 };

	t.stop_at = 2;
	run_chunked(&t, abort_file, sizeof abort_file - 1, 0);
	ck_assert_int_eq(t.feed_rc, GB_EABORT);
	ck_assert_int_eq(t.err.code, GB_EABORT);
	ck_assert_str_eq(t.err.message, "stopped by the row callback");
	ck_assert_str_eq(t.err.source, "usage.csv");
	ck_assert_uint_eq(t.err.line, 4);
	ck_assert_uint_eq(t.rows, 2);
	ck_assert_uint_eq(t.calls, 2);
	run_done(&t);
}
END_TEST

START_TEST(abort_keeps_callback_error)
{
	struct run t = { 0 };

	t.stop_at = 1;
	t.stop_fills_err = 1;
	run_chunked(&t, abort_file, sizeof abort_file - 1, 3);
	ck_assert_int_eq(t.feed_rc, GB_EABORT);
	ck_assert_int_eq(t.err.code, GB_ESCHEMA);
	ck_assert_str_eq(t.err.message, "customer said no");
	ck_assert_uint_eq(t.calls, 1);
	ck_assert_uint_eq(t.rows, 1);
	run_done(&t);
}
END_TEST

START_TEST(abort_in_finish)
{
	struct run t = { 0 };

	t.stop_at = 3; /* the last row has no newline: finish delivers it */
	run_chunked(&t, abort_file, sizeof abort_file - 1, 0);
	ck_assert_int_eq(t.feed_rc, 0);
	ck_assert_int_eq(t.finish_rc, GB_EABORT);
	ck_assert_int_eq(t.err.code, GB_EABORT);
	ck_assert_uint_eq(t.err.line, 5);
	ck_assert_uint_eq(t.rows, 3);
	run_done(&t);
}
END_TEST

/* ---- chunking and volume ----------------------------------------------- */

static const char mixed_file[] =
	"\xEF\xBB\xBF" "extra, id ,customer,type,start,end,gpus,model\r\n"
	"x,r1,acme,gpu,2025-01-01T00:00:00Z,2025-01-01T01:00:00Z,8,\r\n"
	"\r\n"
	"x,\"r,2\",\"multi\nline\r\nname\",tokens,s,,,\"m \"\"q\"\"\"\r"
	"x,r3,a\0b,gpu,s\n"
	"  \t \n"
	"x,r4,ab\"c,gpu,s,e,1,m,extra1,extra2\n\r"
	"\n"
	"x,\"\",\"\",\"\",\"\",\"\",\"\",\"\"\r\n"
	"x,r6,\"\r\",gpu,\"2025\"";

static const char mixed_want[] =
	"2 0 8/8 id=r1 customer=acme type=gpu start=2025-01-01T00:00:00Z "
	"end=2025-01-01T01:00:00Z gpus=8\n"
	"4 0 8/8 id=r,2 customer=multi\\x0Aline\\x0D\\x0Aname type=tokens "
	"start=s model=m \"q\"\n"
	"7 1 5/8 id=r3 customer=a\\x00b type=gpu start=s\n"
	"9 1 10/8 id=r4 customer=ab\"c type=gpu start=s end=e gpus=1 "
	"model=m\n"
	"11 0 8/8\n"
	"12 1 5/8 id=r6 customer=\\x0D type=gpu start=2025\n";

START_TEST(chunking_identical)
{
	size_t len = sizeof mixed_file - 1, chunk;

	expect_rows(mixed_file, len, mixed_want, 6);
	/* 1 and 7 bytes, and every other size up to past the whole file. */
	for (chunk = 1; chunk <= len + 1; chunk++) {
		struct run t = { 0 };

		run_chunked(&t, mixed_file, len, chunk);
		ck_assert_int_eq(t.feed_rc, 0);
		ck_assert_int_eq(t.finish_rc, 0);
		ck_assert_msg(strcmp(t.log, mixed_want) == 0,
			      "chunk %zu gave:\n%s", chunk, t.log);
		ck_assert_uint_eq(t.rows, 6);
		run_done(&t);
	}
}
END_TEST

static int count_row(const gb_row *row, gb_error *err, void *payload)
{
	uint64_t *n = payload;

	(void)err;
	++*n;
	ck_assert_uint_eq(row->line, *n + 1);
	ck_assert_uint_eq(row->f[GB_COL_ID].len, 6);
	return 0;
}

START_TEST(many_rows)
{
	char buf[64 * 40];
	uint64_t seen = 0, i;
	gb_csv_reader *r;
	size_t n = 0;

	ck_assert_int_eq(gb_csv_reader_new(&r, "usage.csv", NULL), 0);
	ck_assert_int_eq(gb_csv_reader_feed(r, HDR "\n", sizeof HDR,
					    count_row, &seen, NULL), 0);
	for (i = 0; i < 200000; i++) {
		n += (size_t)snprintf(buf + n, sizeof buf - n,
				      "%06llu,cust,gpu,2025-01-01\r\n",
				      (unsigned long long)i);
		if (n > sizeof buf - 64) {
			ck_assert_int_eq(gb_csv_reader_feed(r, buf, n,
							    count_row, &seen,
							    NULL), 0);
			n = 0;
		}
	}
	ck_assert_int_eq(gb_csv_reader_feed(r, buf, n, count_row, &seen,
					    NULL), 0);
	ck_assert_int_eq(gb_csv_reader_finish(r, count_row, &seen, NULL), 0);
	ck_assert_uint_eq(seen, 200000);
	ck_assert_uint_eq(gb_csv_reader_rows(r), 200000);
	gb_csv_reader_free(r);
}
END_TEST

/* ---- the fast path against libcsv ------------------------------------- */

/* One run in a mode, the data copied to offset align of a fresh buffer. */
static void run_mode(struct run *t, int mode, const char *data, size_t len,
		     size_t chunk, size_t align)
{
	char *copy = malloc(len + align + 1);

	ck_assert_ptr_nonnull(copy);
	if (len)
		memcpy(copy + align, data, len);
	memset(t, 0, sizeof *t);
	use_fast = mode;
	run_chunked(t, copy + align, len, chunk);
	use_fast = default_mode;
	free(copy);
}

static void same_run(const struct run *a, const struct run *b,
		     const char *what, size_t n)
{
	ck_assert_msg(strcmp(a->log, b->log) == 0, "%s %zu: got\n%s\nlibcsv\n%s",
		      what, n, a->log, b->log);
	ck_assert_msg(a->feed_rc == b->feed_rc && a->finish_rc == b->finish_rc,
		      "%s %zu: rc %d/%d, libcsv %d/%d (%s / %s)", what, n,
		      a->feed_rc, a->finish_rc, b->feed_rc, b->finish_rc,
		      a->err.message, b->err.message);
	ck_assert_msg(strcmp(a->err.message, b->err.message) == 0 &&
		      a->err.line == b->err.line,
		      "%s %zu: error '%s' line %llu, libcsv '%s' line %llu",
		      what, n, a->err.message, (unsigned long long)a->err.line,
		      b->err.message, (unsigned long long)b->err.line);
	ck_assert_uint_eq(a->rows, b->rows);
}

/* Whole, in chunk-byte pieces (0: whole) at a buffer offset: both fast
 * modes against libcsv fed whole. */
static void check_modes(const char *data, size_t len, size_t chunk,
			size_t align, const char *what, size_t n)
{
	struct run ref, t;
	int mode;

	run_mode(&ref, MODE_LIBCSV, data, len, 0, 0);
	for (mode = MODE_BEST; mode <= MODE_PORTABLE; mode++) {
		run_mode(&t, mode, data, len, 0, align);
		same_run(&t, &ref, what, n);
		run_done(&t);
		if (chunk) {
			run_mode(&t, mode, data, len, chunk, align);
			same_run(&t, &ref, what, n);
			run_done(&t);
		}
	}
	run_done(&ref);
}

static uint64_t next_random(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

static unsigned pick(uint64_t *x, unsigned n)
{
	return (unsigned)(next_random(x) % n);
}

/*
 * Random bytes over the ones that matter (commas, quotes, blanks, CR, LF,
 * NUL), fed whole and in 5-byte pieces.
 */
START_TEST(fast_path_matches_libcsv)
{
	static const char alphabet[] = "ab1 \t,,\"\r\n\n\0";
	uint64_t x = 0x9e3779b97f4a7c15ull;
	char data[300];
	int i;

	for (i = 0; i < 2000; i++) {
		size_t n, k;

		memcpy(data, HDR "\n", sizeof HDR);
		n = sizeof HDR + pick(&x, 200);
		for (k = sizeof HDR; k < n; k++)
			data[k] = alphabet[pick(&x, sizeof alphabet - 1)];
		check_modes(data, n, i % 2 ? 5 : 0, 0, "input", (size_t)i);
	}
}
END_TEST

/* A string builder for the generated files. */
struct text {
	char *s;
	size_t len, cap;
};

static void put_bytes(struct text *b, const void *p, size_t n)
{
	if (b->len + n > b->cap) {
		b->cap = (b->len + n) * 2 + 64;
		b->s = realloc(b->s, b->cap);
		ck_assert_ptr_nonnull(b->s);
	}
	memcpy(b->s + b->len, p, n);
	b->len += n;
}

static void put_str(struct text *b, const char *s)
{
	put_bytes(b, s, strlen(s));
}

static void put_byte(struct text *b, unsigned char c)
{
	put_bytes(b, &c, 1);
}

/* A field of a length in one of the classes around the 8- and 16-byte
 * words: mostly plain bytes, some blanks at the edges, and now and then a
 * byte one bit away from a separator, with its top bit set, or a quote. */
static void random_field(struct text *b, uint64_t *x, int quotes)
{
	static const unsigned char plain[] = "abcxyz0123456789-.:TZ_";
	static const unsigned char odd[] = {
		'-', '+', '!', '#', 0x0B, 0x0C, 0x0E, 0x1C, 0x08, 0x00, ' ',
		'\t', 0xAC, 0xA2, 0x8A, 0x8D, 0x80, 0xFF, 0xEF, 0xBB, '/',
	};
	static const unsigned lens[][2] = {
		{ 0, 0 }, { 0, 0 }, { 1, 7 }, { 1, 7 }, { 8, 8 }, { 9, 16 },
		{ 16, 17 }, { 17, 40 }, { 41, 90 },
	};
	unsigned cls = pick(x, sizeof lens / sizeof *lens);
	unsigned len = lens[cls][0] + pick(x, lens[cls][1] - lens[cls][0] + 1);
	unsigned i;

	if (!pick(x, 8))
		put_str(b, pick(x, 2) ? " " : " \t  ");
	for (i = 0; i < len; i++) {
		unsigned r = pick(x, 64);

		if (r == 0 && quotes)
			put_byte(b, '"');
		else if (r < 4)
			put_byte(b, odd[pick(x, sizeof odd)]);
		else
			put_byte(b, plain[pick(x, sizeof plain - 1)]);
	}
	if (!pick(x, 8))
		put_str(b, pick(x, 2) ? "\t" : "   ");
}

static const char *random_ending(uint64_t *x)
{
	static const char *const endings[] = {
		"\n", "\n", "\n", "\r\n", "\r\n", "\r", "\n\r", "\r\n\r\n",
	};

	return endings[pick(x, sizeof endings / sizeof *endings)];
}

/* The header row: names[0..n) shuffled (in place), a random ending. */
static void put_header(struct text *b, uint64_t *x, const char **names,
		       unsigned n)
{
	unsigned i, j;

	for (i = n - 1; i > 0; i--) {
		const char *tmp;

		j = pick(x, i + 1);
		tmp = names[i];
		names[i] = names[j];
		names[j] = tmp;
	}
	for (i = 0; i < n; i++) {
		put_str(b, names[i]);
		put_str(b, i + 1 < n ? "," : "");
	}
	put_str(b, random_ending(x));
}

/*
 * A usage file: a header of 4 to 23 columns (the required ones, some other
 * known ones, some unknown, in random order), then rows of mostly the
 * header's width, some shorter or longer, blank and whitespace-only lines,
 * every kind of line ending.  quotes: whether a field may hold a quote.
 */
static void random_file(struct text *b, uint64_t *x, unsigned maxrows,
			unsigned maxextra, int quotes)
{
	static const char *const unknown[] = {
		"u1", "u2", "u3", "u4", "u5", "u6", "u7", "u8", "u9",
	};
	const char *names[GB_COL__COUNT + 9];
	unsigned ncols = 0, i, j, nrows;

	ck_assert_uint_le(maxextra, 9);
	b->len = 0;
	for (i = 0; i < GB_COL__COUNT; i++)	/* id, customer, type, start */
		if (i < 4 || pick(x, 3) == 0)
			names[ncols++] = gb_column_name((gb_column)i);
	for (i = pick(x, maxextra + 1); i > 0; i--)
		names[ncols++] = unknown[i - 1];
	put_header(b, x, names, ncols);
	nrows = 1 + pick(x, maxrows);
	for (i = 0; i < nrows; i++) {
		unsigned kind = pick(x, 16), nf;

		if (kind == 0) {
			/* blank */
		} else if (kind == 1) {
			for (j = 1 + pick(x, 20); j > 0; j--)
				put_byte(b, pick(x, 3) ? ' ' : '\t');
		} else {
			nf = kind < 12 ? ncols : pick(x, ncols + 4);
			for (j = 0; j < nf; j++) {
				random_field(b, x, quotes);
				if (j + 1 < nf)
					put_byte(b, ',');
			}
		}
		if (i + 1 < nrows || pick(x, 4))
			put_str(b, random_ending(x));
	}
}

/*
 * Generated usage files, fed whole and in random pieces from a buffer at a
 * random offset, so that every separator lands at every place in the
 * fast path's 8- and 64-byte words, and pieces end anywhere in a line.
 */
START_TEST(fast_path_random_files)
{
	uint64_t x = 0x2545f4914f6cdd1dull;
	struct text b = { 0 };
	int i;

	for (i = 0; i < 1500; i++) {
		random_file(&b, &x, 12, 8, i % 3 == 0);
		check_modes(b.s, b.len, 1 + pick(&x, 100), pick(&x, 64),
			    "file", (size_t)i);
	}
	free(b.s);
}
END_TEST

/* Small files cut in two at every offset: the tail of the first feed
 * goes through libcsv and the fast path takes over after it. */
START_TEST(fast_path_every_split)
{
	uint64_t x = 0x853c49e6748fea9bull;
	struct text b = { 0 };
	int i, mode;

	for (i = 0; i < 40; i++) {
		struct run ref;
		size_t split;

		random_file(&b, &x, 4, 2, i % 4 == 0);
		run_mode(&ref, MODE_LIBCSV, b.s, b.len, 0, 0);
		for (split = 0; split <= b.len; split++) {
			for (mode = MODE_BEST; mode <= MODE_PORTABLE; mode++) {
				struct run t = { 0 };
				gb_csv_reader *r;

				ck_assert_int_eq(gb_csv_reader_new(&r, "usage.csv",
								   NULL), 0);
				gb_csv_reader_set_fast(r, mode);
				log_str(&t, "");
				t.feed_rc = gb_csv_reader_feed(r, b.s, split,
							       on_row, &t,
							       &t.err);
				if (!t.feed_rc)
					t.feed_rc = gb_csv_reader_feed(r,
						b.s + split, b.len - split,
						on_row, &t, &t.err);
				if (!t.feed_rc)
					t.finish_rc = gb_csv_reader_finish(r,
						on_row, &t, &t.err);
				t.rows = gb_csv_reader_rows(r);
				gb_csv_reader_free(r);
				same_run(&t, &ref, "split", split);
				run_done(&t);
			}
		}
		run_done(&ref);
	}
	free(b.s);
}
END_TEST

/*
 * Each pattern after a line of 0 to 130 bytes, so each of its bytes is
 * checked at every place in a 64-byte block.
 */
START_TEST(fast_path_every_shift)
{
	static const char *const tails[] = {
		"a,b,c,d,e,f\n",
		" a ,\tb\t, ,,e  ,f \r\n",
		"\r\n\r\n  \t \n\t\r",
		"aaaaaaaaaaaaaaaaaaaaaaaa,bbbbbbbbbbbbbbbbb,c,d\r",
		"a,b\n,\n\n",
		"a,b,c,d,e,f,g,h,i,j,k\n",
		"a,\"b,c\",d,e,f\nq,r,s,t,u,v\n",
		"a\xAC,b\x8A\x8D,c\xA2-,d\xEF\xBB\xBF,,\n",
		"a-,-b,,-,d-,-\n",
		"x,y,z,w,v,u",
		"  x  ,  y\t\t,z\r\n\n",
	};
	struct text b = { 0 };
	size_t pre, i;

	for (i = 0; i < sizeof tails / sizeof *tails; i++) {
		for (pre = 0; pre <= 130; pre++) {
			b.len = 0;
			put_str(&b, HDR ",sku,model\n");
			put_bytes(&b, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
				      "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
				      "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
				  pre);
			put_str(&b, ",c,t,s,k,m\n");
			put_str(&b, tails[i]);
			check_modes(b.s, b.len, 0, pre % 16, "shift",
				    i * 1000 + pre);
		}
	}
	free(b.s);
}
END_TEST

/*
 * Lines longer than a field may be: one too-long field fails on every
 * path; a long line of short fields, or a field at the limit with blanks
 * around it, does not.
 */
START_TEST(fast_path_long_lines)
{
	struct text b = { 0 };
	struct run t, u;
	size_t i;
	int mode;

	for (i = 0; i < 3; i++) {
		b.len = 0;
		put_str(&b, HDR "\na,b,c,d\n");
		if (i < 2) {
			put_str(&b, "e,");
			while (b.len < sizeof HDR + 10 + GB_CSV_FIELD_MAX + i)
				put_byte(&b, 'x');
			put_str(&b, ",g,h\r\ni,j,k,l\n");
		} else {
			while (b.len < 3 * GB_CSV_FIELD_MAX)
				put_str(&b, "abcdefghij,");
			put_str(&b, "z\ni,j,k,l\n");
		}
		check_modes(b.s, b.len, 4096, 0, "long", i);
		check_modes(b.s, b.len, 0, 3, "long", i);
	}
	run_mode(&t, MODE_BEST, b.s, b.len, 0, 0);
	ck_assert_uint_eq(t.rows, 3);
	run_done(&t);

	/* Only the fast path sees a field at the limit with blanks after it
	 * as the field it is; libcsv buffers the blanks.  Both fast modes
	 * take it. */
	b.len = 0;
	put_str(&b, HDR "\n\t ");
	for (i = 0; i < GB_CSV_FIELD_MAX; i++)
		put_byte(&b, 'x');
	for (i = 0; i < 2 * 4096; i++)
		put_byte(&b, ' ');
	put_str(&b, ",b,c,d\n");
	run_mode(&u, MODE_BEST, b.s, b.len, 0, 0);
	ck_assert_int_eq(u.feed_rc, 0);
	ck_assert_int_eq(u.finish_rc, 0);
	ck_assert_uint_eq(u.rows, 1);
	for (mode = MODE_BEST; mode <= MODE_PORTABLE; mode++) {
		run_mode(&t, mode, b.s, b.len, 0, 5);
		same_run(&t, &u, "blanks", (size_t)mode);
		run_done(&t);
	}
	run_done(&u);
	free(b.s);
}
END_TEST

/* ---- the row filter ---------------------------------------------------- */

/* 1-based position of the column named name in data's header, or 0. */
static size_t header_position(const char *data, size_t len, const char *name)
{
	size_t pos = 1, i = 0, n = strlen(name);

	while (i < len && data[i] != '\r' && data[i] != '\n') {
		size_t j = i;

		while (j < len && data[j] != ',' && data[j] != '\r' &&
		       data[j] != '\n')
			j++;
		if (j - i == n && memcmp(data + i, name, n) == 0)
			return pos;
		pos++;
		i = j < len && data[j] == ',' ? j + 1 : j;
	}
	return 0;
}

/* The length of the line at s (without its '\n'). */
static size_t line_len(const char *s)
{
	const char *e = strchr(s, '\n');

	return e ? (size_t)(e - s) : strlen(s);
}

/*
 * got (run with the filter on column col, at header position colpos)
 * against ref (libcsv, no filter), with their recorded values: the same
 * rows, lines, errors and row count, except that a row keep said no to
 * may come as that row's filtered form, "line 2 colpos/nheader" and its
 * value alone.  Returns how many did.
 */
static unsigned same_but_filtered(const struct run *got, const char *gvals,
				  const struct run *ref, const char *rvals,
				  gb_column col, size_t colpos,
				  const char *what, size_t n)
{
	const char *a = got->log, *b = ref->log;
	const char *av = gvals ? gvals : "", *bv = rvals ? rvals : "";
	unsigned filtered = 0;

	while (*b) {
		size_t la = line_len(a), lb = line_len(b);
		size_t lav = line_len(av), lbv = line_len(bv);

		ck_assert_msg(*a, "%s %zu: rows missing from\n%s", what, n,
			      got->log);
		ck_assert_msg(lav == lbv && memcmp(av, bv, lav) == 0,
			      "%s %zu: value '%.*s', libcsv '%.*s'", what, n,
			      (int)lav, av, (int)lbv, bv);
		if (la != lb || memcmp(a, b, la) != 0) {
			unsigned long long line;
			unsigned flags;
			size_t nf, nh;
			struct run want = { 0 };
			char head[96];

			ck_assert_int_eq(sscanf(b, "%llu %u %zu/%zu", &line,
						&flags, &nf, &nh), 4);
			snprintf(head, sizeof head, "%llu %u %zu/%zu", line,
				 GB_ROW_FILTERED, colpos, nh);
			log_str(&want, head);
			if (lbv) {
				log_str(&want, " ");
				log_str(&want, gb_column_name(col));
				log_str(&want, "=");
				log_bytes(&want, bv, lbv);
			}
			ck_assert_msg(la == want.len &&
				      memcmp(a, want.log, la) == 0,
				      "%s %zu: got '%.*s', libcsv '%.*s'", what,
				      n, (int)la, a, (int)lb, b);
			ck_assert_msg(!verdict_of(bv, lbv),
				      "%s %zu: filtered a row keep wanted: %.*s",
				      what, n, (int)lb, b);
			free(want.log);
			filtered++;
		}
		a += la + (a[la] != '\0');
		b += lb + (b[lb] != '\0');
		av += lav + (av[lav] != '\0');
		bv += lbv + (bv[lbv] != '\0');
	}
	ck_assert_msg(!*a, "%s %zu: extra rows\n%s", what, n, a);
	ck_assert_msg(got->feed_rc == ref->feed_rc &&
		      got->finish_rc == ref->finish_rc &&
		      strcmp(got->err.message, ref->err.message) == 0 &&
		      got->err.line == ref->err.line,
		      "%s %zu: rc %d/%d '%s' line %llu, libcsv %d/%d '%s' line %llu",
		      what, n, got->feed_rc, got->finish_rc, got->err.message,
		      (unsigned long long)got->err.line, ref->feed_rc,
		      ref->finish_rc, ref->err.message,
		      (unsigned long long)ref->err.line);
	ck_assert_uint_eq(got->rows, ref->rows);
	return filtered;
}

/* A run that records the values of column col. */
static char *run_recording(struct run *t, int mode, int filter, gb_column col,
			   const char *data, size_t len, size_t chunk,
			   size_t align)
{
	char *vals;

	memset(&filt, 0, sizeof filt);
	filt.on = filter;
	filt.col = col;
	filt.record = 1;
	run_mode(t, mode, data, len, chunk, align);
	vals = filt.vals.log;
	memset(&filt, 0, sizeof filt);
	return vals;
}

/*
 * The random files of the fast-path tests, filtered on the customer
 * column mostly, else on any column (absent ones too), fed whole and in
 * random pieces on both scans: every row keep wants is as libcsv splits
 * it, every other one either so or filtered, and nothing else changes.
 */
START_TEST(filter_random_files)
{
	uint64_t x = 0x6a09e667f3bcc909ull;
	struct text b = { 0 };
	unsigned filtered = 0, whole = 0;
	int i, mode;

	for (i = 0; i < 1500; i++) {
		struct run ref, t;
		gb_column col = pick(&x, 4) ? GB_COL_CUSTOMER
					    : (gb_column)pick(&x, GB_COL__COUNT);
		char *rvals, *gvals;
		size_t colpos;
		unsigned got;

		random_file(&b, &x, 12, 8, i % 3 == 0);
		colpos = header_position(b.s, b.len, gb_column_name(col));
		rvals = run_recording(&ref, MODE_LIBCSV, 0, col, b.s, b.len,
				      0, 0);
		for (mode = MODE_BEST; mode <= MODE_PORTABLE; mode++) {
			size_t chunk = pick(&x, 2) ? 0 : 1 + pick(&x, 100);

			gvals = run_recording(&t, mode, 1, col, b.s, b.len,
					      chunk, pick(&x, 64));
			got = same_but_filtered(&t, gvals, &ref, rvals, col,
						colpos, "file", (size_t)i);
			ck_assert(colpos || !got);
			filtered += got;
			whole += (unsigned)ref.rows - got;
			free(gvals);
			run_done(&t);
		}
		free(rvals);
		run_done(&ref);
	}
	free(b.s);
	/* both kinds, plenty of each */
	ck_assert_uint_gt(filtered, 800);
	ck_assert_uint_gt(whole, 2000);
}
END_TEST

/* Removing the filter, or filtering on a column the header lacks, leaves
 * the rows as they were; bad arguments are refused. */
START_TEST(filter_off_and_misuse)
{
	static const char file[] = HDR ",model\n1,a,t,s,m\n2,b,t,s,m\r\n";
	static const char want[] =
		"2 0 5/5 id=1 customer=a type=t start=s model=m\n"
		"3 0 5/5 id=2 customer=b type=t start=s model=m\n";
	gb_csv_reader *r;
	struct run t = { 0 };

	ck_assert_int_eq(gb_csv_reader_set_filter(NULL, GB_COL_CUSTOMER,
						  test_keep, &filt), GB_EINVAL);
	ck_assert_int_eq(gb_csv_reader_new(&r, "usage.csv", NULL), 0);
	ck_assert_int_eq(gb_csv_reader_set_filter(r, GB_COL__COUNT, test_keep,
						  &filt), GB_EINVAL);
	ck_assert_int_eq(gb_csv_reader_set_filter(r, (gb_column)-1, test_keep,
						  &filt), GB_EINVAL);
	ck_assert_int_eq(gb_csv_reader_set_filter(r, GB_COL_CUSTOMER,
						  test_keep, &filt), 0);
	ck_assert_int_eq(gb_csv_reader_set_filter(r, GB_COL_CUSTOMER, NULL,
						  NULL), 0);
	log_str(&t, "");
	ck_assert_int_eq(gb_csv_reader_feed(r, file, sizeof file - 1, on_row,
					    &t, NULL), 0);
	ck_assert_int_eq(gb_csv_reader_finish(r, on_row, &t, NULL), 0);
	gb_csv_reader_free(r);
	ck_assert_str_eq(t.log, want);
	ck_assert_uint_eq(filt.asked, 0);
	run_done(&t);

	memset(&filt, 0, sizeof filt);
	filt.on = 1;
	filt.col = GB_COL_END;	/* not in the header */
	EXPECT(file, want, 2);
	ck_assert_uint_eq(filt.asked, 0);
	memset(&filt, 0, sizeof filt);
}
END_TEST

/*
 * A line the filter does not want is still held to the field cap: a
 * field past it after the customer fails the file as it does unfiltered,
 * and a long line of short fields does not.
 */
START_TEST(filter_long_lines)
{
	struct text b = { 0 };
	char no[16];
	unsigned j = 0;
	int i, mode;

	do
		snprintf(no, sizeof no, "c%u", j++);
	while (verdict_of(no, strlen(no)));
	for (i = 0; i < 2; i++) {
		struct run ref, t;
		char *rvals, *gvals;

		b.len = 0;
		put_str(&b, HDR "\n1,a,t,s\n2,");
		put_str(&b, no);
		put_str(&b, ",t,");
		if (i == 0) {
			for (j = 0; j <= GB_CSV_FIELD_MAX; j++)
				put_byte(&b, 'x');
		} else {
			while (b.len < 2 * GB_CSV_FIELD_MAX)
				put_str(&b, "abcdefghij,");
		}
		put_str(&b, "\n3,");
		put_str(&b, no);
		put_str(&b, ",t,s\n");
		rvals = run_recording(&ref, MODE_LIBCSV, 0, GB_COL_CUSTOMER,
				      b.s, b.len, 0, 0);
		ck_assert_int_eq(ref.feed_rc ? ref.feed_rc : ref.finish_rc,
				 i == 0 ? GB_ESYNTAX : 0);
		for (mode = MODE_BEST; mode <= MODE_PORTABLE; mode++) {
			gvals = run_recording(&t, mode, 1, GB_COL_CUSTOMER, b.s,
					      b.len, 0, 0);
			/* the last row, at least, is filtered */
			ck_assert_uint_ge(same_but_filtered(&t, gvals, &ref,
				rvals, GB_COL_CUSTOMER, 2, "long", (size_t)i),
				(unsigned)i);
			free(gvals);
			run_done(&t);
		}
		free(rvals);
		run_done(&ref);
	}
	free(b.s);
}
END_TEST

/* keep failing ends the file with its code, on the line it was asked
 * about, after the rows before it; later calls report it again. */
START_TEST(filter_failure_stops_reader)
{
	static const char file[] = HDR "\n1,a,t,s\n\n2,b,t,s\n3,c,t,s\n";
	int mode;

	for (mode = MODE_BEST; mode <= MODE_PORTABLE; mode++) {
		struct run t;
		gb_csv_reader *r;
		gb_error err;

		memset(&filt, 0, sizeof filt);
		filt.on = 1;
		filt.col = GB_COL_CUSTOMER;
		filt.fail_at = 2;
		run_mode(&t, mode, file, sizeof file - 1, 0, 0);
		ck_assert_int_eq(t.feed_rc, GB_ENOMEM);
		ck_assert_int_eq(t.err.code, GB_ENOMEM);
		ck_assert_str_eq(t.err.message, "out of memory");
		ck_assert_str_eq(t.err.source, "usage.csv");
		ck_assert_uint_eq(t.err.line, 4);
		ck_assert_str_eq(t.log, "2 0 4/4 id=1 customer=a type=t start=s\n");
		ck_assert_uint_eq(t.rows, 1);
		run_done(&t);

		/* sticky */
		filt.asked = 0;
		ck_assert_int_eq(gb_csv_reader_new(&r, "usage.csv", NULL), 0);
		gb_csv_reader_set_fast(r, mode);
		ck_assert_int_eq(gb_csv_reader_set_filter(r, GB_COL_CUSTOMER,
							  test_keep, &filt), 0);
		ck_assert_int_eq(gb_csv_reader_feed(r, file, sizeof file - 1,
						    NULL, NULL, &err), GB_ENOMEM);
		ck_assert_int_eq(gb_csv_reader_feed(r, "x", 1, NULL, NULL, &err),
				 GB_ENOMEM);
		ck_assert_uint_eq(err.line, 4);
		ck_assert_int_eq(gb_csv_reader_finish(r, NULL, NULL, &err),
				 GB_ENOMEM);
		ck_assert_uint_eq(filt.asked, 2);
		gb_csv_reader_free(r);
		memset(&filt, 0, sizeof filt);
	}
}
END_TEST

/* ---- the filter in front of a rater -------------------------------------- */

/* The default table and the example contracts. */
static void load_tables(gb_prices **prices, gb_contracts **contracts)
{
	size_t plen, clen;
	char *p = slurp("../../pricing-tables/default.json", &plen);
	char *c = slurp("contracts/example.json", &clen);
	gb_error err;

	ck_assert_msg(gb_prices_load(prices, p, plen, "default.json", &err) == 0,
		      "%s", err.message);
	ck_assert_msg(gb_contracts_load(contracts, c, clen, "example.json",
					*prices, &err) == 0, "%s", err.message);
	free(p);
	free(c);
}

static const char *const usage_customers[] = {
	"acme", "globex", "initech", "cust-1", "cust-22", "cust-333",
	"",	/* an empty customer: rejected, or skipped by its shard */
	"a-customer-id-that-is-longer-than-thirty-bytes",
	"ac\"me",	/* a quote inside: the line takes the slow path */
};

/* A field: sometimes blanks around it, sometimes quoted (its quotes
 * doubled), sometimes both. */
static void usage_field(struct text *b, uint64_t *x, const char *v)
{
	int quote = strchr(v, '"') != NULL || strchr(v, '\n') != NULL ||
		    pick(x, 14) == 0;
	unsigned pad = pick(x, 12);

	if (pad == 0)
		put_str(b, "  ");
	if (quote) {
		put_byte(b, '"');
		for (; *v; v++) {
			if (*v == '"')
				put_byte(b, '"');
			put_byte(b, (unsigned char)*v);
		}
		put_byte(b, '"');
	} else {
		put_str(b, v);
	}
	if (pad == 1)
		put_str(b, " \t");
}

/*
 * A usage file the rater mostly bills: every column and two unknown ones
 * in random order; GPU and token rows of October 2026 (a few in November,
 * outside the period) for the customers above; now and then a duplicate
 * of the row before, a conflict with it, a bad value, a quoted newline, a
 * short or a long row; blank and whitespace lines; every line ending.
 */
static void usage_file(struct text *b, uint64_t *x, unsigned nrows)
{
	static const char *const skus[] = { "H100-SXM", "H200", "B200",
					    "A100-80GB", "L40S" };
	static const char *const regions[] = { "us-east", "us-west", "eu-west" };
	static const char *const models[] = { "llama-3.1-8b", "llama-3.1-70b",
					      "mixtral-8x7b" };
	const char *names[GB_COL__COUNT + 2];
	char v[GB_COL__COUNT + 2][96];
	unsigned ncols = 0, i, j;

	b->len = 0;
	for (i = 0; i < GB_COL__COUNT; i++)
		names[ncols++] = gb_column_name((gb_column)i);
	names[ncols++] = "note";
	names[ncols++] = "zone";
	put_header(b, x, names, ncols);
	memset(v, 0, sizeof v);
	for (i = 0; i < nrows; i++) {
		unsigned kind = pick(x, 40), nf = ncols, c;
		unsigned day = 1 + pick(x, 31), h = pick(x, 20), m = pick(x, 60);

		if (kind == 0) {
			put_str(b, random_ending(x));	/* blank */
			continue;
		}
		if (kind == 1) {
			put_str(b, pick(x, 2) ? "  \t" : " ");
			put_str(b, random_ending(x));
			continue;
		}
		if (kind >= 5 || i == 0) {	/* else: as the row before */
			memset(v, 0, sizeof v);
			snprintf(v[GB_COL_CUSTOMER], sizeof v[0], "%s",
				 usage_customers[pick(x, sizeof usage_customers /
							 sizeof *usage_customers)]);
			snprintf(v[GB_COL_START], sizeof v[0],
				 "2026-%s-%02uT%02u:%02u:00Z",
				 pick(x, 30) ? "10" : "11", day, h, m);
			if (pick(x, 5) < 3) {
				snprintf(v[GB_COL_ID], sizeof v[0], "g%u", i);
				snprintf(v[GB_COL_TYPE], sizeof v[0], "gpu");
				snprintf(v[GB_COL_END], sizeof v[0],
					 "%.11s%02u:%02u:%02uZ", v[GB_COL_START],
					 h + 1 + pick(x, 3), pick(x, 60),
					 pick(x, 60));
				snprintf(v[GB_COL_SKU], sizeof v[0], "%s",
					 skus[pick(x, 5)]);
				snprintf(v[GB_COL_REGION], sizeof v[0], "%s",
					 regions[pick(x, 3)]);
				snprintf(v[GB_COL_GPUS], sizeof v[0], "%u",
					 1 + pick(x, 8));
				snprintf(v[GB_COL_MARKET], sizeof v[0], "%s",
					 pick(x, 3) ? "on_demand" : "spot");
				snprintf(v[GB_COL_INTERRUPTED], sizeof v[0],
					 "%s", pick(x, 4) ? "" : "true");
			} else {
				snprintf(v[GB_COL_ID], sizeof v[0], "t%u", i);
				snprintf(v[GB_COL_TYPE], sizeof v[0], "tokens");
				snprintf(v[GB_COL_MODEL], sizeof v[0], "%s",
					 models[pick(x, 3)]);
				snprintf(v[GB_COL_INPUT_TOKENS], sizeof v[0],
					 "%u", pick(x, 2000000));
				snprintf(v[GB_COL_CACHED_TOKENS], sizeof v[0],
					 "%u", pick(x, 3) ? 0 : pick(x, 9999));
				snprintf(v[GB_COL_OUTPUT_TOKENS], sizeof v[0],
					 "%u", pick(x, 500000));
				snprintf(v[GB_COL_BATCH], sizeof v[0], "%s",
					 pick(x, 4) ? "" : "true");
			}
		} else if (kind == 2) {	/* a conflict */
			snprintf(v[GB_COL_START] + 17, 4, "%02uZ", pick(x, 60));
		}
		if (pick(x, 30) == 0)	/* rejected */
			snprintf(v[GB_COL_TYPE], sizeof v[0], "gpux");
		if (pick(x, 40) == 0)	/* a quoted newline */
			snprintf(v[GB_COL_SKU], sizeof v[0], "H100\nSXM");
		if (pick(x, 25) == 0)
			nf = 1 + pick(x, ncols);
		for (c = 0; c < nf; c++) {
			const char *name = names[c];
			const char *val = "";

			for (j = 0; j < GB_COL__COUNT; j++)
				if (strcmp(name, gb_column_name((gb_column)j)) == 0)
					val = v[j];
			if (!strcmp(name, "zone"))
				val = pick(x, 2) ? "z1" : "";
			usage_field(b, x, val);
			if (c + 1 < nf)
				put_byte(b, ',');
		}
		if (pick(x, 25) == 0)
			put_str(b, ",extra");
		if (i + 1 < nrows || pick(x, 4))
			put_str(b, random_ending(x));
	}
}

/* One rating: the rater's counts and invoices, and the filtered rows. */
struct rating {
	gb_rater *rater;
	gb_counts counts;
	struct run json;	/* its log holds the JSON invoices */
	unsigned filtered;
	int keep_failed;	/* gb_rater_selects ran out of memory */
};

static int keep_rater(const gb_field *value, void *payload)
{
	struct rating *g = payload;
	int keep = gb_rater_selects(g->rater, value->ptr, value->len);

	if (keep == GB_ENOMEM)
		g->keep_failed = 1;
	return keep;
}

static int rate_row(const gb_row *row, gb_error *err, void *payload)
{
	struct rating *g = payload;
	gb_outcome oc;
	int rc = gb_rater_add_row(g->rater, row, &oc);

	if (rc) {
		err->code = rc;
		snprintf(err->message, sizeof err->message, "%s",
			 gb_strerror(rc));
		return 1;
	}
	if (row->flags & GB_ROW_FILTERED) {
		if (oc.state != GB_STATE_SKIPPED)
			ck_abort_msg("filtered row of line %llu: state %d",
				     (unsigned long long)row->line, oc.state);
		g->filtered++;
	}
	return 0;
}

static int json_out(const void *data, size_t len, void *payload)
{
	log_bytes(payload, data, len);
	return 0;
}

/*
 * Rate csv in pieces of chunk bytes (0: whole), with or without the
 * filter, on the given scan; returns 0 or the first error's code.
 */
static int rate(struct rating *g, const gb_prices *prices,
		const gb_rater_options *o, int mode, int filter,
		const char *csv, size_t len, size_t chunk, gb_error *err)
{
	gb_csv_reader *reader = NULL;
	gb_invoice_set *set = NULL;
	size_t done = 0;
	int rc;

	memset(g, 0, sizeof *g);
	gb_error_clear(err);
	rc = gb_rater_new(&g->rater, prices, o, err);
	if (!rc)
		rc = gb_csv_reader_new(&reader, "usage.csv", err);
	if (!rc) {
		gb_csv_reader_set_fast(reader, mode);
		if (filter)
			ck_assert_int_eq(gb_csv_reader_set_filter(reader,
				GB_COL_CUSTOMER, keep_rater, g), 0);
	}
	if (!chunk)
		chunk = len;
	while (!rc && done < len) {
		size_t n = len - done < chunk ? len - done : chunk;

		rc = gb_csv_reader_feed(reader, csv + done, n, rate_row, g, err);
		done += n;
	}
	if (!rc)
		rc = gb_csv_reader_finish(reader, rate_row, g, err);
	if (!rc) {
		gb_rater_counts(g->rater, &g->counts);
		rc = gb_rater_finish(g->rater, &set, err);
	}
	log_str(&g->json, "");
	if (!rc)
		rc = gb_invoice_write_json(set, json_out, &g->json, err);
	gb_invoice_set_free(set);
	gb_csv_reader_free(reader);
	gb_rater_free(g->rater);
	g->rater = NULL;
	return rc;
}

static void same_counts(const gb_counts *a, const gb_counts *b,
			const char *what, unsigned n)
{
	ck_assert_msg(a->read == b->read && a->billed == b->billed &&
		      a->rejected == b->rejected &&
		      a->duplicates == b->duplicates &&
		      a->outside_period == b->outside_period &&
		      a->skipped == b->skipped,
		      "%s %u: read %llu/%llu billed %llu/%llu rejected %llu/%llu "
		      "duplicates %llu/%llu outside %llu/%llu skipped %llu/%llu",
		      what, n, (unsigned long long)a->read,
		      (unsigned long long)b->read, (unsigned long long)a->billed,
		      (unsigned long long)b->billed,
		      (unsigned long long)a->rejected,
		      (unsigned long long)b->rejected,
		      (unsigned long long)a->duplicates,
		      (unsigned long long)b->duplicates,
		      (unsigned long long)a->outside_period,
		      (unsigned long long)b->outside_period,
		      (unsigned long long)a->skipped,
		      (unsigned long long)b->skipped);
}

/*
 * Shards 1..3 of 3 and a customer filter, each rated from whole rows and
 * with the reader's filter, on both scans, fed whole and in pieces: the
 * same counts and the same invoices, byte for byte, and every row the
 * reader stopped reading counted as skipped.  The shards add up to the
 * run with no selection.
 */
START_TEST(filter_rates_the_same)
{
	static const char *const chosen[] = { "globex", "cust-22",
		"a-customer-id-that-is-longer-than-thirty-bytes" };
	gb_prices *prices;
	gb_contracts *contracts;
	uint64_t x = 0xbb67ae8584caa73bull;
	struct text b = { 0 };
	unsigned i, sel, filtered = 0, billed = 0;
	gb_error err;

	load_tables(&prices, &contracts);
	for (i = 0; i < 40; i++) {
		gb_rater_options o = GB_RATER_OPTIONS_INIT;
		struct rating all, whole, got;
		uint64_t sum = 0;
		int mode;

		usage_file(&b, &x, 20 + pick(&x, 200));
		o.period_from = 1790812800LL; /* 2026-10 */
		o.period_to = 1793491200LL;
		o.contracts = contracts;
		ck_assert_int_eq(rate(&all, prices, &o, MODE_LIBCSV, 0, b.s,
				      b.len, 0, &err), 0);
		for (sel = 0; sel <= 3; sel++) {
			o.shard_count = sel < 3 ? 3 : 0;
			o.shard_index = sel + 1;
			o.customers = sel < 3 ? NULL : chosen;
			o.ncustomers = sel < 3 ? 0 : 3;
			ck_assert_msg(rate(&whole, prices, &o, MODE_LIBCSV, 0,
					   b.s, b.len, 0, &err) == 0, "%s",
				      err.message);
			ck_assert_uint_eq(whole.filtered, 0);
			if (sel < 3)
				sum += whole.counts.billed;
			for (mode = MODE_BEST; mode <= MODE_PORTABLE; mode++) {
				size_t chunk = pick(&x, 2) ? 0 : 1 + pick(&x, 300);

				ck_assert_msg(rate(&got, prices, &o, mode, 1,
						   b.s, b.len, chunk, &err) == 0,
					      "%s", err.message);
				same_counts(&got.counts, &whole.counts,
					    "file", i);
				ck_assert_str_eq(got.json.log, whole.json.log);
				ck_assert_uint_le(got.filtered,
						  whole.counts.skipped);
				filtered += got.filtered;
				run_done(&got.json);
			}
			run_done(&whole.json);
		}
		ck_assert_uint_eq(sum, all.counts.billed);
		billed += (unsigned)all.counts.billed;
		run_done(&all.json);
	}
	ck_assert_uint_gt(filtered, 2000);
	ck_assert_uint_gt(billed, 2000);
	free(b.s);
	gb_contracts_free(contracts);
	gb_prices_free(prices);
}
END_TEST

/*
 * Fail each allocation of a filtered, sharded run in turn: every run
 * ends cleanly with GB_ENOMEM (from the filter's question to the rater
 * too, on the line it was about), nothing leaks, and the runs that
 * survive bill the same.
 */
START_TEST(filter_allocation_failures)
{
	gb_prices *prices;
	gb_contracts *contracts;
	uint64_t x = 0xa54ff53a5f1d36f1ull;
	struct text b = { 0 };
	gb_rater_options o = GB_RATER_OPTIONS_INIT;
	struct rating ok, g;
	long total, n, from_keep = 0;
	gb_error err;
	int rc;

	load_tables(&prices, &contracts);
	usage_file(&b, &x, 100);
	o.period_from = 1790812800LL;
	o.period_to = 1793491200LL;
	o.contracts = contracts;
	o.shard_index = 2;
	o.shard_count = 3;
	gb_set_allocator(&counting);
	calls = live = 0;
	fail_at = -1;
	ck_assert_int_eq(rate(&ok, prices, &o, MODE_BEST, 1, b.s, b.len, 0,
			      &err), 0);
	ck_assert_uint_gt(ok.filtered, 5);
	total = calls;
	for (n = 1; n <= total; n++) {
		calls = live = 0;
		fail_at = n;
		rc = rate(&g, prices, &o, MODE_BEST, 1, b.s, b.len, 0, &err);
		if (rc == 0) {
			same_counts(&g.counts, &ok.counts, "allocation",
				    (unsigned)n);
		} else {
			ck_assert_msg(rc == GB_ENOMEM ||
				      (rc == GB_EABORT && err.code == GB_ENOMEM),
				      "allocation %ld: %d %s", n, rc, err.message);
			ck_assert_msg(strncmp(err.message, "out of memory", 13) == 0,
				      "allocation %ld: '%s'", n, err.message);
		}
		if (g.keep_failed) {
			ck_assert_int_eq(rc, GB_ENOMEM);
			ck_assert_str_eq(err.message, "out of memory");
			ck_assert_int_eq(err.code, GB_ENOMEM);
			ck_assert_str_eq(err.source, "usage.csv");
			ck_assert_uint_gt(err.line, 1);
			from_keep++;
		}
		run_done(&g.json);
		ck_assert_msg(live == 0, "allocation %ld of %ld: %ld blocks leaked",
			      n, total, live);
	}
	gb_set_allocator(NULL);
	ck_assert_int_gt(from_keep, 0);
	run_done(&ok.json);
	free(b.s);
	gb_contracts_free(contracts);
	gb_prices_free(prices);
}
END_TEST

/* ---- the row content hash (duplicate detection) ----------------------- */

/* A row with column c set to vals[c] (NULL: empty), copied to buf so the
 * hash cannot depend on where the bytes lie. */
static uint32_t hash_of(const char *const *vals, char *buf)
{
	gb_row row;
	size_t used = 0;
	int c;

	memset(&row, 0, sizeof row);
	for (c = 0; c < GB_COL__COUNT; c++) {
		size_t n = vals[c] ? strlen(vals[c]) : 0;

		if (!n)
			continue;
		memcpy(buf + used, vals[c], n);
		row.f[c].ptr = buf + used;
		row.f[c].len = n;
		used += n + 1 + (size_t)c;
	}
	return gb_row_content_hash(&row);
}

/*
 * The same content gives the same hash wherever it lies; moving bytes
 * between fields, moving a value to another column, emptying a field or
 * changing any one byte of a field of any length gives another (the
 * inputs here are fixed: a 32-bit clash among them would be a flaw).
 */
START_TEST(content_hash_distinguishes)
{
	static const char *const base[GB_COL__COUNT] = {
		"7ab40e09-0f36-4a7d-30af-12cd9609781c", "cust-0000025", "gpu",
		"2026-10-16T00:04:31Z", "2026-10-16T01:00:00Z", "H100-SXM",
		"us-east", "8", "on_demand", NULL, NULL, NULL, NULL, NULL, NULL,
	};
	const char *v[GB_COL__COUNT];
	char *buf = malloc(1 << 16), *big = malloc(4001), *buf2 = malloc(1 << 16);
	uint32_t h0, seen[4096];
	size_t nseen = 0, i, j, len;
	int c, d;

	ck_assert(buf && big && buf2);
	memcpy(v, base, sizeof v);
	h0 = hash_of(v, buf);
	ck_assert_uint_eq(hash_of(v, buf2 + 7), h0);
	seen[nseen++] = h0;
	/* each field emptied, or moved to an empty column */
	for (c = 0; c < GB_COL__COUNT; c++) {
		if (!base[c])
			continue;
		memcpy(v, base, sizeof v);
		v[c] = NULL;
		seen[nseen++] = hash_of(v, buf);
		for (d = 0; d < GB_COL__COUNT; d++) {
			if (base[d])
				continue;
			v[d] = base[c];
			seen[nseen++] = hash_of(v, buf);
			v[d] = NULL;
		}
	}
	/* ("ab","c") against ("a","bc") */
	memcpy(v, base, sizeof v);
	v[GB_COL_SKU] = "H100-SX";
	v[GB_COL_REGION] = "Mus-east";
	seen[nseen++] = hash_of(v, buf);
	/* one byte changed, in fields of every length from 1 to 70 and one
	 * of 4000 bytes (the 16-byte steps) */
	for (len = 1; len <= 71; len++) {
		size_t n = len == 71 ? 4000 : len;

		for (i = 0; i < n; i++)
			big[i] = (char)('a' + i % 26);
		big[n] = '\0';
		memcpy(v, base, sizeof v);
		v[GB_COL_MODEL] = big;
		seen[nseen++] = hash_of(v, buf);
		for (i = 0; i < n; i += n > 70 ? 97 : 1) {
			big[i] ^= 1;
			seen[nseen++] = hash_of(v, buf);
			big[i] ^= 1;
		}
	}
	ck_assert_uint_lt(nseen, sizeof seen / sizeof *seen);
	for (i = 0; i < nseen; i++)
		for (j = i + 1; j < nseen; j++)
			if (seen[i] == seen[j])	/* not ck_assert: 3M calls */
				ck_abort_msg("hashes %zu and %zu clash", i, j);
	free(buf);
	free(buf2);
	free(big);
}
END_TEST

/* The "csv-portable" case runs the plain tests again on the SWAR scan. */
static void portable_setup(void)
{
	default_mode = use_fast = MODE_PORTABLE;
}

static void portable_teardown(void)
{
	default_mode = use_fast = MODE_BEST;
}

static Suite *usage_suite(void)
{
	Suite *s = suite_create("usage");
	TCase *tc = tcase_create("csv");
	TCase *tp = tcase_create("csv-portable");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, column_names);
	tcase_add_test(tc, any_order_unknown_columns);
	tcase_add_test(tc, header_names_exact);
	tcase_add_test(tc, header_only);
	tcase_add_test(tc, header_after_blank_lines);
	tcase_add_test(tc, empty_file);
	tcase_add_test(tc, missing_required);
	tcase_add_test(tc, duplicate_column);
	tcase_add_test(tc, crlf);
	tcase_add_test(tc, lone_cr);
	tcase_add_test(tc, mixed_endings);
	tcase_add_test(tc, missing_trailing_newline);
	tcase_add_test(tc, blank_lines);
	tcase_add_test(tc, quoted_commas_and_quotes);
	tcase_add_test(tc, quoted_newlines);
	tcase_add_test(tc, malformed_quotes_not_fatal);
	tcase_add_test(tc, embedded_nul);
	tcase_add_test(tc, field_counts);
	tcase_add_test(tc, bom);
	tcase_add_test(tc, bom_only_at_start);
	tcase_add_test(tc, field_at_limit);
	tcase_add_test(tc, field_too_long);
	tcase_add_test(tc, long_header_field);
	tcase_add_test(tc, unclosed_quote_swallows_file);
	tcase_add_test(tc, unterminated_quote_at_eof);
	tcase_add_test(tc, error_is_sticky);
	tcase_add_test(tc, misuse);
	tcase_add_test(tc, abort_generic);
	tcase_add_test(tc, abort_keeps_callback_error);
	tcase_add_test(tc, abort_in_finish);
	tcase_add_test(tc, chunking_identical);
	tcase_add_test(tc, many_rows);
	tcase_add_test(tc, fast_path_matches_libcsv);
	tcase_add_test(tc, fast_path_random_files);
	tcase_add_test(tc, fast_path_every_split);
	tcase_add_test(tc, fast_path_every_shift);
	tcase_add_test(tc, fast_path_long_lines);
	tcase_add_test(tc, filter_random_files);
	tcase_add_test(tc, filter_off_and_misuse);
	tcase_add_test(tc, filter_long_lines);
	tcase_add_test(tc, filter_failure_stops_reader);
	tcase_add_test(tc, filter_rates_the_same);
	tcase_add_test(tc, filter_allocation_failures);
	tcase_add_test(tc, content_hash_distinguishes);
	suite_add_tcase(s, tc);

	tcase_add_checked_fixture(tp, portable_setup, portable_teardown);
	tcase_add_test(tp, any_order_unknown_columns);
	tcase_add_test(tp, header_names_exact);
	tcase_add_test(tp, header_after_blank_lines);
	tcase_add_test(tp, crlf);
	tcase_add_test(tp, lone_cr);
	tcase_add_test(tp, mixed_endings);
	tcase_add_test(tp, missing_trailing_newline);
	tcase_add_test(tp, blank_lines);
	tcase_add_test(tp, quoted_newlines);
	tcase_add_test(tp, malformed_quotes_not_fatal);
	tcase_add_test(tp, embedded_nul);
	tcase_add_test(tp, field_counts);
	tcase_add_test(tp, field_at_limit);
	tcase_add_test(tp, field_too_long);
	tcase_add_test(tp, unterminated_quote_at_eof);
	tcase_add_test(tp, abort_generic);
	tcase_add_test(tp, abort_keeps_callback_error);
	tcase_add_test(tp, abort_in_finish);
	tcase_add_test(tp, chunking_identical);
	suite_add_tcase(s, tp);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(usage_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed > 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
