/*
 * usage_csv.c - the streaming CSV usage reader.
 *
 * libcsv does the quoting; this file adds what it lacks: the header and
 * column lookup, physical line numbers, a field length cap and errors that
 * name a line.  Lines without a quote, nearly all of them, bypass libcsv
 * (see "the fast path" below).  Memory is bounded by the widest row, never
 * by the row count: libcsv's field buffer is capped, and the known fields
 * of the current row are copied into one reusable buffer (or, on the fast
 * path, point into the caller's bytes).
 *
 * How libcsv is driven (each point was checked against libcsv 3.0.3):
 *
 * - Non-strict mode.  Stray quotes (`ab"c`, `"ab"c`) are not fatal: libcsv
 *   keeps them as data (after `"ab"` a stray character even reopens the
 *   quote), and the validator rejects the odd value later.  One bad row
 *   should cost one reject, not the whole file.
 * - CSV_REPALL_NL: every unquoted CR or LF ends a row, blank or not, so
 *   blank lines are seen and skipped here rather than swallowed.
 * - Line numbers: libcsv reports a terminator but not where it was, and
 *   "\r\n" looks the same as "\r \n" (spaces are skipped silently).  So the
 *   input is handed to libcsv in pieces that end at each CR or LF: any row
 *   end reported during a piece was caused by its last byte, and the line
 *   count comes from the raw bytes (quoted newlines included).
 * - CSV_STRICT_FINI does nothing without CSV_STRICT, so strictness is
 *   switched on for csv_fini alone, where its only effect is to reject an
 *   unterminated quoted field.
 * - The field cap: libcsv grows its buffer by blk_size through realloc_func,
 *   which takes no payload, so a static hook refuses anything past the cap
 *   plus one block; libcsv then stops with CSV_ENOMEM.  Fields that fit in
 *   that last block are caught by their length.
 */
#include "internal.h"

#include <gpubill/usage.h>

#include <csv.h>
#include <stdarg.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/* libcsv's buffer grows in these steps; a divisor of GB_CSV_FIELD_MAX. */
#define CSV_BLOCK 4096u
#define CSV_BUFFER_MAX (GB_CSV_FIELD_MAX + CSV_BLOCK)

#define PARSE_OPTS (CSV_REPALL_NL)
#define FINI_OPTS (CSV_REPALL_NL | CSV_STRICT | CSV_STRICT_FINI)

/* gb_csv_reader_set_fast (a test hook) chooses how lines are split. */
#define FAST_OFF 0	/* every byte through libcsv */
#define FAST_BEST 1	/* the fast path, SSE2 where available (default) */
#define FAST_PORTABLE 2	/* the fast path's SWAR scan on any machine */

static const char *const column_names[GB_COL__COUNT] = {
	[GB_COL_ID] = "id",
	[GB_COL_CUSTOMER] = "customer",
	[GB_COL_TYPE] = "type",
	[GB_COL_START] = "start",
	[GB_COL_END] = "end",
	[GB_COL_SKU] = "sku",
	[GB_COL_REGION] = "region",
	[GB_COL_GPUS] = "gpus",
	[GB_COL_MARKET] = "market",
	[GB_COL_INTERRUPTED] = "interrupted",
	[GB_COL_MODEL] = "model",
	[GB_COL_INPUT_TOKENS] = "input_tokens",
	[GB_COL_CACHED_TOKENS] = "cached_tokens",
	[GB_COL_OUTPUT_TOKENS] = "output_tokens",
	[GB_COL_BATCH] = "batch",
};

static const gb_column required_columns[] = {
	GB_COL_ID, GB_COL_CUSTOMER, GB_COL_TYPE, GB_COL_START,
};

static const unsigned char utf8_bom[3] = { 0xEF, 0xBB, 0xBF };

struct gb_csv_reader {
	struct csv_parser csv;
	char *source;

	/* The caller's callback and error, set for the length of one call. */
	gb_row_fn fn;
	void *payload;
	gb_error *err;

	/* Position. */
	uint64_t line;		/* physical line of the next byte fed */
	uint64_t line_after;	/* line after the piece being parsed */
	uint64_t row_line;	/* line where the current row began */
	int prev_cr;		/* the last byte fed was a CR */
	unsigned bom_matched;	/* leading bytes that matched the BOM */
	int bom_done;

	/* Header: which column each field position holds. */
	int have_header;
	signed char *colmap;	/* gb_column, or -1 for an unknown column */
	size_t colmap_cap;
	/* The fast path's colmap: where field i goes, for i < nheader, and
	 * slot[nheader] = &sink, which also takes unknown columns. */
	gb_field **slot;
	gb_field sink;
	size_t colpos[GB_COL__COUNT]; /* 1-based header position, 0: absent */

	/* The current row: known fields as offsets into buf. */
	size_t nfields;
	char *buf;
	size_t used, cap;
	size_t off[GB_COL__COUNT];
	gb_row row;		/* lengths accumulate in row.f[].len */

	/* libcsv holds part of a row (set when fed, cleared at a row end):
	 * only at a row start may a line bypass it. */
	int csv_mid_row;
	int fast;		/* FAST_OFF, FAST_BEST or FAST_PORTABLE */
	int direct;		/* fast_line's row: fields point into the input */

	/* gb_csv_reader_set_filter: the fast path asks keep about field
	 * keep_col and passes the rows it stops reading as frow, whose
	 * other fields stay empty. */
	gb_csv_keep_fn keep;
	void *keep_payload;
	gb_column keep_col;
	gb_row frow;

	uint64_t rows;
	int finished;
	int status;		/* sticky: the error that ended the file */
	gb_error saved;		/* its description */
};

const char *gb_column_name(gb_column col)
{
	if ((unsigned)col >= GB_COL__COUNT)
		return NULL;
	return column_names[col];
}

/* Record the error that ends the file; later calls report it again. */
GB_PRINTF(4, 5)
static int fail(gb_csv_reader *r, int code, uint64_t line, const char *fmt, ...)
{
	va_list ap;

	gb_error_clear(&r->saved);
	va_start(ap, fmt);
	gb_error_vset(&r->saved, code, fmt, ap);
	va_end(ap);
	gb_error_set_source(&r->saved, r->source);
	r->saved.line = line;
	r->status = code;
	return code;
}

static int report(const gb_csv_reader *r, gb_error *err)
{
	if (r->status && err)
		*err = r->saved;
	return r->status;
}

static int field_too_long(gb_csv_reader *r)
{
	return fail(r, GB_ESYNTAX, r->row_line,
		    "field longer than %u bytes (unterminated quote?)",
		    GB_CSV_FIELD_MAX);
}

/*
 * libcsv's realloc hook has no payload, so the cap is a constant: refusing
 * here makes csv_parse stop instead of buffering an unclosed quote forever.
 */
static void *capped_realloc(void *p, size_t n)
{
	if (n > CSV_BUFFER_MAX)
		return NULL;
	return gb_realloc(p, n);
}

static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
	size_t n = *cap ? *cap : 64;
	void *q;

	while (n < need)
		n *= 2;
	q = gb_realloc(*p, n * elem);
	if (!q)
		return -1;
	*p = q;
	*cap = n;
	return 0;
}

/* ---- header ------------------------------------------------------------ */

static int match_column(const char *s, size_t len)
{
	int c;

	for (c = 0; c < GB_COL__COUNT; c++) {
		const char *name = column_names[c];

		if (strlen(name) == len && memcmp(name, s, len) == 0)
			return c;
	}
	return -1;
}

static void header_field(gb_csv_reader *r, const char *s, size_t len)
{
	size_t pos = r->nfields; /* 1-based: already counted */
	int c;

	if (pos > r->colmap_cap &&
	    grow((void **)&r->colmap, &r->colmap_cap, pos, 1)) {
		fail(r, GB_ENOMEM, r->row_line, "out of memory");
		return;
	}
	c = match_column(s, len);
	r->colmap[pos - 1] = (signed char)c;
	if (c < 0)
		return;
	if (r->colpos[c]) {
		fail(r, GB_ESCHEMA, r->row_line,
		     "duplicate column '%s' in header (columns %zu and %zu)",
		     column_names[c], r->colpos[c], pos);
		return;
	}
	r->colpos[c] = pos;
}

static void end_header(gb_csv_reader *r)
{
	size_t i;

	for (i = 0; i < sizeof required_columns / sizeof *required_columns; i++) {
		gb_column c = required_columns[i];

		if (!r->colpos[c]) {
			fail(r, GB_ESCHEMA, r->row_line,
			     "missing required column '%s'", column_names[c]);
			return;
		}
	}
	r->slot = gb_malloc((r->nfields + 1) * sizeof *r->slot);
	if (!r->slot) {
		fail(r, GB_ENOMEM, r->row_line, "out of memory");
		return;
	}
	for (i = 0; i < r->nfields; i++)
		r->slot[i] = r->colmap[i] >= 0 ? &r->row.f[r->colmap[i]]
					       : &r->sink;
	r->slot[r->nfields] = &r->sink;
	r->have_header = 1;
	r->row.nheader = r->nfields;
}

/* ---- rows -------------------------------------------------------------- */

/*
 * Offsets, not pointers: buf may move while the row is still growing.
 * Only known columns are copied; the rest of the row is never stored.
 */
static void store_field(gb_csv_reader *r, int col, const char *s, size_t len)
{
	if (r->direct) {
		/* the whole line is in the caller's buffer: no copy */
		r->row.f[col].ptr = s;
		r->row.f[col].len = len;
		return;
	}
	if (r->cap - r->used < len &&
	    grow((void **)&r->buf, &r->cap, r->used + len, 1)) {
		fail(r, GB_ENOMEM, r->row_line, "out of memory");
		return;
	}
	if (len)
		memcpy(r->buf + r->used, s, len);
	r->off[col] = r->used;
	r->row.f[col].len = len;
	r->used += len;
}

/* Pass a row to the callback. */
static inline void deliver_row(gb_csv_reader *r, const gb_row *row)
{
	r->rows++;
	if (!r->fn || !r->fn(row, r->err, r->payload))
		return;
	/* Keep what the callback wrote; only fill in a silent stop. */
	if (r->err && r->err->code) {
		r->saved = *r->err;
		r->status = GB_EABORT;
		return;
	}
	fail(r, GB_EABORT, row->line, "stopped by the row callback");
}

/* Pass the current row to the callback; the fields are in place. */
static inline void deliver(gb_csv_reader *r, size_t nfields)
{
	gb_row *row = &r->row;

	row->line = r->row_line;
	row->nfields = nfields;
	row->flags = nfields != row->nheader ? GB_ROW_FIELD_COUNT : 0;
	deliver_row(r, row);
}

/* A row from on_field: its fields sit in buf, or in place when direct. */
static void call_back(gb_csv_reader *r)
{
	gb_row *row = &r->row;
	int c;

	for (c = 0; c < GB_COL__COUNT; c++)
		if (!row->f[c].len)
			row->f[c].ptr = NULL;
		else if (!r->direct)
			row->f[c].ptr = r->buf + r->off[c];
	deliver(r, r->nfields);
}

static void reset_row(gb_csv_reader *r)
{
	int c;

	for (c = 0; c < GB_COL__COUNT; c++)
		r->row.f[c].len = 0;
	r->nfields = 0;
	r->used = 0;
}

/* ---- libcsv callbacks -------------------------------------------------- */

static void on_field(void *s, size_t len, void *data)
{
	gb_csv_reader *r = data;
	size_t i = r->nfields++;
	int col;

	if (GB_UNLIKELY(r->status))
		return;
	if (GB_UNLIKELY(len > GB_CSV_FIELD_MAX)) {
		field_too_long(r);
		return;
	}
	if (GB_UNLIKELY(!r->have_header)) {
		header_field(r, s, len);
		return;
	}
	if (i < r->row.nheader && (col = r->colmap[i]) >= 0)
		store_field(r, col, s, len);
}

/* c is the CR or LF that ended the row, or -1 at the end of input. */
static void on_row(int c, void *data)
{
	gb_csv_reader *r = data;

	(void)c;
	if (GB_UNLIKELY(r->status))
		return;
	if (r->nfields) {
		if (GB_LIKELY(r->have_header))
			call_back(r);
		else
			end_header(r);
		reset_row(r);
	}
	/* A row end only ever comes from the last byte of a piece. */
	r->row_line = r->line_after;
	r->csv_mid_row = 0;
}

/* ---- feeding ----------------------------------------------------------- */

static void parse_piece(gb_csv_reader *r, const unsigned char *p, size_t n,
			int line_break)
{
	size_t done;

	r->line_after = r->line + (line_break ? 1 : 0);
	r->csv_mid_row = 1;
	done = csv_parse(&r->csv, p, n, on_field, on_row, r);
	r->line = r->line_after;
	if (done == n || r->status)
		return;
	if (csv_get_buffer_size(&r->csv) > GB_CSV_FIELD_MAX)
		field_too_long(r);
	else
		fail(r, GB_ENOMEM, r->row_line, "out of memory");
}

/* ---- the fast path ----------------------------------------------------- */

/*
 * Most lines hold no quote.  Such a line, once the header is read and
 * while libcsv is between rows, is split here exactly as libcsv would
 * split it: fields at commas, spaces and tabs trimmed from each field, a
 * line of only spaces and tabs blank.  The fields are not copied: row.f
 * points into the caller's bytes.
 *
 * One pass over the bytes finds all four that matter, ',', '"', CR and LF,
 * 64 at a time, as a bit mask: SSE2 compares where the compiler targets
 * SSE2, otherwise SWAR on 64-bit words (portable C, also run by the
 * tests through gb_csv_reader_set_fast(r, FAST_PORTABLE)).  The scan walks
 * the mask's bits in order and stops at any line it cannot take: one with
 * a quote, one cut off by the end of the feed (libcsv holds it until the
 * next feed completes it), one too long to be sure no field passes the
 * cap.  parse_bytes takes that line the slow way and scans on after it.
 * tests/unit/test_usage.c checks on random input that both scans give the
 * same rows and errors as libcsv alone.
 *
 * With a filter (gb_csv_reader_set_filter), a line whose filter field the
 * caller does not want is split no further: a second, narrower search
 * finds its end (a quote sends it the slow way, whole), and the row goes
 * out flagged GB_ROW_FILTERED with that field alone.  Only the fast path
 * filters; every other line is read whole, as without a filter.
 */
#if defined(__GNUC__)
#define ALWAYS_INLINE inline __attribute__((always_inline))
#else
#define ALWAYS_INLINE inline
#endif

#define BLOCK 64u	/* bytes per mask */

/* Index of the lowest set bit of m (m != 0). */
static inline size_t lowest_bit(uint64_t m)
{
#if defined(__GNUC__)
	return (size_t)__builtin_ctzll(m);
#else
	size_t i = 0;

	while (!(m & 1u)) {
		m >>= 1;
		i++;
	}
	return i;
#endif
}

/* 8 bytes with p[0] in the low bits on any byte order; GCC and Clang make
 * this one load on a little-endian machine. */
static inline uint64_t load_le64(const unsigned char *p)
{
	return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 |
	       (uint64_t)p[3] << 24 | (uint64_t)p[4] << 32 |
	       (uint64_t)p[5] << 40 | (uint64_t)p[6] << 48 |
	       (uint64_t)p[7] << 56;
}

#define LOW7 0x7F7F7F7F7F7F7F7Full
#define HIGH 0x8080808080808080ull
#define EACH(c) (0x0101010101010101ull * (unsigned char)(c))

/*
 * Bit i set when byte i of w is ',', '"', CR or LF.  Exact, with no borrow
 * between bytes (the textbook (x - 0x01..) & ~x trick flags a '-' after a
 * ','): on the low 7 bits of each byte, (x ^ c) + 0x7F sets the byte's top
 * bit exactly when x != c, and cannot carry out of the byte.  A byte with
 * its own top bit set matches none of the four.  The multiply gathers the
 * eight top bits into the high byte (no two partial products meet).
 */
static inline unsigned special8(uint64_t w)
{
	uint64_t x = w & LOW7;
	uint64_t differ = ((x ^ EACH(',')) + LOW7) & ((x ^ EACH('"')) + LOW7) &
			  ((x ^ EACH('\r')) + LOW7) & ((x ^ EACH('\n')) + LOW7);
	uint64_t hit = ~(differ | w) & HIGH;

	return (unsigned)(((hit >> 7) * 0x0102040810204080ull) >> 56);
}

#if defined(__SSE2__)
static inline unsigned special16_sse2(const unsigned char *p)
{
	__m128i v = _mm_loadu_si128((const void *)p);
	__m128i a = _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8(',')),
				 _mm_cmpeq_epi8(v, _mm_set1_epi8('"')));
	__m128i b = _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('\r')),
				 _mm_cmpeq_epi8(v, _mm_set1_epi8('\n')));

	return (unsigned)_mm_movemask_epi8(_mm_or_si128(a, b));
}
#endif

/* Bit i set when p[i] is ',', '"', CR or LF, for i < BLOCK. */
static ALWAYS_INLINE uint64_t special64(const unsigned char *p, int portable)
{
	uint64_t m = 0;
	unsigned i;

#if defined(__SSE2__)
	if (!portable) {
		for (i = 0; i < BLOCK; i += 16)
			m |= (uint64_t)special16_sse2(p + i) << i;
		return m;
	}
#endif
	(void)portable;
	for (i = 0; i < BLOCK; i += 8)
		m |= (uint64_t)special8(load_le64(p + i)) << i;
	return m;
}

/* The block at p + at, of which n - at bytes exist: never read past them. */
static ALWAYS_INLINE uint64_t block_at(const unsigned char *p, size_t at,
				       size_t n, int portable)
{
	unsigned char pad[BLOCK];

	if (GB_LIKELY(n - at >= BLOCK))
		return special64(p + at, portable);
	memset(pad, 0, sizeof pad); /* NUL is not special */
	memcpy(pad, p + at, n - at);
	return special64(pad, portable);
}

/* Top bit of byte i set when byte i of w is '"', CR or LF (as special8). */
static inline uint64_t ending8(uint64_t w)
{
	uint64_t x = w & LOW7;
	uint64_t differ = ((x ^ EACH('"')) + LOW7) & ((x ^ EACH('\r')) + LOW7) &
			  ((x ^ EACH('\n')) + LOW7);

	return ~(differ | w) & HIGH;
}

/*
 * The first '"', CR or LF in p[at..n), or n: the end of a line the filter
 * does not want, or the quote that sends it the slow way.  Commas do not
 * matter here, so this runs well ahead of the field-by-field scan.
 */
static ALWAYS_INLINE size_t line_end(const unsigned char *p, size_t at,
				     size_t n, int portable)
{
	uint64_t hit;

#if defined(__SSE2__)
	if (!portable) {
		const __m128i quote = _mm_set1_epi8('"');
		const __m128i cr = _mm_set1_epi8('\r');
		const __m128i lf = _mm_set1_epi8('\n');

		for (; n - at >= 16; at += 16) {
			__m128i v = _mm_loadu_si128((const void *)(p + at));
			unsigned m = (unsigned)_mm_movemask_epi8(
				_mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, quote),
							  _mm_cmpeq_epi8(v, cr)),
					     _mm_cmpeq_epi8(v, lf)));

			if (m)
				return at + lowest_bit(m);
		}
	}
#endif
	(void)portable;
	for (; n - at >= 8; at += 8) {
		hit = ending8(load_le64(p + at));
		if (hit)
			return at + (lowest_bit(hit) >> 3);
	}
	for (; at < n; at++)
		if (p[at] == '"' || p[at] == '\r' || p[at] == '\n')
			break;
	return at;
}

static int is_blank(unsigned char c)
{
	return c == ' ' || c == '\t';
}

static void trim(const unsigned char **s, const unsigned char **e)
{
	while (*s < *e && is_blank(**s))
		++*s;
	while (*e > *s && is_blank((*e)[-1]))
		--*e;
}

/*
 * One quote-free line [p, p + n) split the same way, field by field
 * through on_field: for the header and the lines before it, and for a
 * line longer than a field may be, where on_field checks every length.
 */
static void fast_line(gb_csv_reader *r, const unsigned char *p, size_t n,
		      int line_break)
{
	const unsigned char *end = p + n, *f = p, *q = p;

	r->line_after = r->line + (line_break ? 1 : 0);
	r->direct = 1;
	while (q < end && is_blank(*q))
		q++;
	while (q < end && !r->status) {
		const unsigned char *c = memchr(f, ',', (size_t)(end - f));
		const unsigned char *s = f, *e = c ? c : end;

		trim(&s, &e);
		on_field((void *)s, (size_t)(e - s), r);
		if (!c)
			break;
		f = c + 1;
	}
	if (!r->status)
		on_row(line_break, r);
	r->direct = 0;
	r->line = r->line_after;
}

/*
 * Field k of a line is [s, e): trim it and store it where the header says
 * (past the header's last field, or in an unknown column: in the sink).
 */
static ALWAYS_INLINE void put_field(gb_field *const *slot, size_t nheader,
				    size_t k, const unsigned char *s,
				    const unsigned char *e)
{
	gb_field *d = slot[k < nheader ? k : nheader];
	size_t len;

	if (s < e && GB_UNLIKELY(*s <= ' ' || e[-1] <= ' '))
		trim(&s, &e);
	len = (size_t)(e - s);
	d->ptr = len ? (const char *)s : NULL;
	d->len = len;
}

/* A row the filter stopped reading at its nfields-th field, which is
 * already in r->row. */
static void deliver_filtered(gb_csv_reader *r, size_t nfields)
{
	gb_row *row = &r->frow;

	row->f[r->keep_col] = r->row.f[r->keep_col];
	row->line = r->row_line;
	row->nfields = nfields;
	row->nheader = r->row.nheader;
	row->flags = GB_ROW_FILTERED;
	deliver_row(r, row);
}

/*
 * Split and deliver the quote-free lines at the start of [p, p + n);
 * returns how many bytes were consumed, always up to a line start: what is
 * left begins with a line this cannot take (see above), unless the reader
 * failed.
 *
 * The row's known fields are written in place as they are found, so a row
 * with every header field overwrites the last row's, and a short row
 * clears the columns it lacks.  On the way out the lengths are zeroed
 * again: libcsv's path (store_field) expects that at a row start.
 *
 * filtering (a constant, so rows read whole pay nothing for the filter
 * when there is none): once the comma after the filter field is found,
 * keep decides; on no, the rest of the line is only searched for its
 * end.  A quote there sends the whole line the slow way, as before.
 */
static ALWAYS_INLINE size_t scan_lines(gb_csv_reader *r,
				       const unsigned char *p, size_t n,
				       int portable, int filtering)
{
	gb_field *const *slot = r->slot;
	size_t nheader = r->row.nheader;
	size_t base = 0;	/* the block in mask */
	size_t line = 0;	/* where the current line starts */
	size_t start = 0;	/* where the current field starts */
	size_t k = 0;		/* fields of the line ended so far */
	int prev_cr = r->prev_cr;
	/* fields ended when the filter field is: its 1-based position */
	size_t fk = filtering ? r->colpos[r->keep_col] : 0;
	uint64_t mask = block_at(p, 0, n, portable);

	for (;;) {
		const unsigned char *s, *e;
		size_t q, i;
		unsigned char c;
		int verdict;

		while (!mask) {
			base += BLOCK;
			if (base >= n)
				goto out;	/* the line is not finished */
			mask = block_at(p, base, n, portable);
		}
		q = base + lowest_bit(mask);
		mask &= mask - 1;
		c = p[q];
		if (GB_LIKELY(c == ',')) {
			put_field(slot, nheader, k++, p + start, p + q);
			start = q + 1;
			if (!filtering || GB_LIKELY(k != fk))
				continue;
			verdict = r->keep(slot[fk - 1], r->keep_payload);
			if (verdict > 0)
				continue;
			if (GB_UNLIKELY(verdict < 0)) {
				fail(r, verdict, r->row_line, "%s",
				     gb_strerror(verdict));
				goto out;
			}
			/* Not wanted: on to the line's end, and the scan
			 * on after it, in that end's block. */
			q = line_end(p, q + 1, n, portable);
			if (q == n)
				goto out;
			c = p[q];
			if (c == '"' || GB_UNLIKELY(q - line > GB_CSV_FIELD_MAX))
				goto out;
			if (q - base >= BLOCK) {
				base += (q - base) & ~(size_t)(BLOCK - 1);
				mask = block_at(p, base, n, portable);
			}
			mask &= ~((2ull << (q - base)) - 1);
			prev_cr = c == '\r';
			deliver_filtered(r, k);
			if (r->status)
				goto out;
			goto line_done;
		}
		if (c == '"')
			goto out;
		if (c == '\n' && q == line && prev_cr) {
			/* the LF of a CRLF: not a line break */
			line = start = q + 1;
			prev_cr = 0;
			continue;
		}
		/* Too long for a field?  fast_line checks each one. */
		if (GB_UNLIKELY(q - line > GB_CSV_FIELD_MAX))
			goto out;
		prev_cr = c == '\r';
		s = p + start;
		e = p + q;
		if (!k) {
			trim(&s, &e);
			if (s == e)
				goto line_done;	/* blank */
		}
		put_field(slot, nheader, k++, s, e);
		for (i = k; i < nheader; i++) {	/* a short row */
			slot[i]->ptr = NULL;
			slot[i]->len = 0;
		}
		deliver(r, k);
		if (r->status)
			goto out;
line_done:
		r->line++;
		r->row_line = r->line;
		line = start = q + 1;
		k = 0;
	}
out:
	r->prev_cr = prev_cr;
	reset_row(r);
	return line;
}

static size_t scan_best(gb_csv_reader *r, const unsigned char *p, size_t n)
{
	return scan_lines(r, p, n, 0, 0);
}

static size_t scan_portable(gb_csv_reader *r, const unsigned char *p,
			    size_t n)
{
	return scan_lines(r, p, n, 1, 0);
}

static size_t scan_best_filtered(gb_csv_reader *r, const unsigned char *p,
				 size_t n)
{
	return scan_lines(r, p, n, 0, 1);
}

static size_t scan_portable_filtered(gb_csv_reader *r,
				     const unsigned char *p, size_t n)
{
	return scan_lines(r, p, n, 1, 1);
}

/* scan_lines in the reader's mode, with its filter when it has one whose
 * column the header holds. */
static size_t scan(gb_csv_reader *r, const unsigned char *p, size_t n)
{
	int filtering = r->keep && r->colpos[r->keep_col];

	if (r->fast == FAST_PORTABLE)
		return filtering ? scan_portable_filtered(r, p, n)
				 : scan_portable(r, p, n);
	return filtering ? scan_best_filtered(r, p, n) : scan_best(r, p, n);
}

static const unsigned char *find(const unsigned char *p,
				 const unsigned char *end, int c)
{
	const unsigned char *q = memchr(p, c, (size_t)(end - p));

	return q ? q : end;
}

/*
 * scan_lines takes every line it can.  The others go one at a time: to
 * fast_line when quote-free and libcsv is between rows (the header and
 * the lines before it, a line too long for scan_lines), else to libcsv in
 * pieces that end at each CR or LF (see the top of the file).  A CR is a
 * line break, and so is an LF unless a CR came just before it.
 */
static void parse_bytes(gb_csv_reader *r, const unsigned char *p, size_t n)
{
	const unsigned char *end = p + n;
	const unsigned char *lf = NULL, *cr = NULL;

	while (p < end && !r->status) {
		const unsigned char *t;
		int brk;

		if (r->fast && !r->csv_mid_row && r->have_header) {
			p += scan(r, p, (size_t)(end - p));
			if (p == end || r->status)
				return;
		}
		/* Searches are kept for the next line and the CR search
		 * stops at the LF: no byte is searched twice. */
		if (!lf || lf < p)
			lf = find(p, end, '\n');
		if (!cr || cr < p)
			cr = find(p, lf, '\r');
		t = lf < cr ? lf : cr;
		if (t == end) {
			parse_piece(r, p, (size_t)(end - p), 0);
			r->prev_cr = 0;
			return;
		}
		brk = *t == '\r' || t != p || !r->prev_cr;
		if (r->fast && !r->csv_mid_row &&
		    !memchr(p, '"', (size_t)(t - p)))
			fast_line(r, p, (size_t)(t - p), brk);
		else
			parse_piece(r, p, (size_t)(t - p) + 1, brk);
		r->prev_cr = *t == '\r';
		p = t + 1;
	}
}

/*
 * Returns how many leading bytes the BOM check consumed.  It may span
 * several feeds; on a mismatch the bytes held back go to the parser.
 */
static size_t skip_bom(gb_csv_reader *r, const unsigned char *p, size_t n)
{
	size_t i = 0;

	while (r->bom_matched < sizeof utf8_bom && i < n) {
		if (p[i] != utf8_bom[r->bom_matched]) {
			r->bom_done = 1;
			parse_bytes(r, utf8_bom, r->bom_matched);
			return i;
		}
		r->bom_matched++;
		i++;
	}
	if (r->bom_matched == sizeof utf8_bom)
		r->bom_done = 1;
	return i;
}

static int begin_call(gb_csv_reader *r, gb_row_fn fn, void *payload,
		      gb_error *err)
{
	if (r->status)
		return report(r, err);
	if (r->finished) {
		gb_error_clear(err);
		gb_error_set_source(err, r->source);
		return gb_error_set(err, GB_EINVAL,
				    "CSV reader used after finish");
	}
	gb_error_clear(err);
	r->fn = fn;
	r->payload = payload;
	r->err = err;
	return 0;
}

static int end_call(gb_csv_reader *r, gb_error *err)
{
	r->fn = NULL;
	r->payload = NULL;
	r->err = NULL;
	return report(r, err);
}

int gb_csv_reader_feed(gb_csv_reader *r, const void *data, size_t len,
		       gb_row_fn fn, void *payload, gb_error *err)
{
	const unsigned char *p = data;
	size_t skip = 0;
	int rc;

	if (!r || (!data && len))
		return gb_error_set(err, GB_EINVAL, "invalid argument");
	rc = begin_call(r, fn, payload, err);
	if (rc)
		return rc;
	if (GB_UNLIKELY(!r->bom_done))
		skip = skip_bom(r, p, len);
	if (len > skip && !r->status)
		parse_bytes(r, p + skip, len - skip);
	return end_call(r, err);
}

static void finish_input(gb_csv_reader *r)
{
	if (!r->bom_done) {
		r->bom_done = 1;
		parse_bytes(r, utf8_bom, r->bom_matched);
		if (r->status)
			return;
	}
	r->line_after = r->line;
	csv_set_opts(&r->csv, FINI_OPTS);
	if (csv_fini(&r->csv, on_field, on_row, r) != 0) {
		fail(r, GB_ESYNTAX, r->row_line, "unterminated quoted field");
		return;
	}
	if (!r->status && !r->have_header)
		fail(r, GB_ESCHEMA, 0, "empty file: no header row");
}

int gb_csv_reader_finish(gb_csv_reader *r, gb_row_fn fn, void *payload,
			 gb_error *err)
{
	int rc;

	if (!r)
		return gb_error_set(err, GB_EINVAL, "invalid argument");
	rc = begin_call(r, fn, payload, err);
	if (rc)
		return rc;
	finish_input(r);
	r->finished = 1;
	return end_call(r, err);
}

uint64_t gb_csv_reader_rows(const gb_csv_reader *r)
{
	return r ? r->rows : 0;
}

int gb_csv_reader_set_filter(gb_csv_reader *r, gb_column col,
			     gb_csv_keep_fn keep, void *payload)
{
	if (!r || (unsigned)col >= GB_COL__COUNT)
		return GB_EINVAL;
	/* frow shows the filter field only */
	r->frow.f[r->keep_col].ptr = NULL;
	r->frow.f[r->keep_col].len = 0;
	r->keep = keep;
	r->keep_payload = payload;
	r->keep_col = col;
	return 0;
}

/* ---- lifetime ---------------------------------------------------------- */

int gb_csv_reader_new(gb_csv_reader **out, const char *source, gb_error *err)
{
	gb_csv_reader *r;

	if (!out || !source)
		return gb_error_set(err, GB_EINVAL, "invalid argument");
	*out = NULL;
	r = gb_calloc(1, sizeof *r);
	if (!r || !(r->source = gb_strdup(source))) {
		gb_free(r);
		return gb_error_set(err, GB_ENOMEM, "out of memory");
	}
	csv_init(&r->csv, PARSE_OPTS);
	csv_set_realloc_func(&r->csv, capped_realloc);
	csv_set_free_func(&r->csv, gb_free);
	csv_set_blk_size(&r->csv, CSV_BLOCK);
	r->line = 1;
	r->row_line = 1;
	r->fast = FAST_BEST;
	r->row.source = r->source;
	r->frow.source = r->source;
	*out = r;
	return 0;
}

void gb_csv_reader_free(gb_csv_reader *r)
{
	if (!r)
		return;
	csv_free(&r->csv);
	gb_free(r->colmap);
	gb_free(r->slot);
	gb_free(r->buf);
	gb_free(r->source);
	gb_free(r);
}

void gb_csv_reader_set_fast(gb_csv_reader *r, int on)
{
	r->fast = on == FAST_OFF || on == FAST_PORTABLE ? on : FAST_BEST;
}
