/*
 * invoice_internal.h - the invoice set as built by the rater.
 */
#ifndef GPUBILL_INVOICE_INTERNAL_H
#define GPUBILL_INVOICE_INTERNAL_H

#include <gpubill/invoice.h>
#include "internal.h"

#include <string.h>

__extension__ typedef __int128 gb_i128;

/* The line kinds' names (gb_line_kind_name), with their lengths, for the
 * writers: plain words, copied as they are. */
#define GB_NKINDS ((unsigned)GB_LINE_CREDIT + 1)

typedef struct gb_kind_text {
	const char *name;
	size_t len;
} gb_kind_text;

extern const gb_kind_text gb_kind_texts[GB_NKINDS];

/*
 * What the rater knows about a line it built beyond gb_invoice_line: the
 * lengths of its strings, and whether the writers may copy them as they
 * are.  A plain string has only bytes 0x20..0x7e other than '"' and '\\'
 * and does not start with '=', '+', '-' or '@': JSON needs no escape, CSV
 * no apostrophe (only quotes, around a ','), and it is as wide as it is
 * long.
 */
enum { GB_TXT_DESC, GB_TXT_SKU, GB_TXT_MODEL, GB_TXT_REGION, GB_TXT_REF,
       GB_TXT_UNIT, GB_TXT__COUNT };

typedef struct gb_line_note {
	uint32_t len[GB_TXT__COUNT];   /* strlen of each, when plain */
	int plain;                     /* all six plain; 0: the writers look */
	/* a usage line's base quantity when a whole number below
	 * GB_BASE_MAX, and quantity = base / 3600 or base / 10^6 */
	int per;                       /* GB_PER_HOUR, GB_PER_MILLION or 0 */
	uint64_t base;
} gb_line_note;

enum { GB_PER_HOUR = 1, GB_PER_MILLION = 2 };
#define GB_BASE_MAX (UINT64_MAX / 2500)

/* A noted line's quantity (base / 3600 or 10^6) as gb_decimal_fast would
 * write it at 0..GB_QUANTITY_DIGITS digits, by constant divisions. */
size_t gb_quantity_text(char *out, uint64_t base, int per);

/*
 * The notes of the invoice being handed on (gb_rater_finish_each): valid
 * only while set->note is set and only for that inv (the writers check
 * the pointer), so an invoice built elsewhere takes the general path.
 */
typedef struct gb_invoice_note {
	const gb_invoice *inv;
	const gb_line_note *lines;     /* [inv->nlines] */
	size_t customer_len;
} gb_invoice_note;

/* The notes of inv, when the set carries them and the fast paths are on. */
#define GB_NOTE_OF(s, inv) \
	(gb_invoice_fast && (s)->note && (s)->note->inv == (inv) ? (s)->note : NULL)

struct gb_invoice_set {
	char currency[4];
	unsigned minor_units;
	char *prices_name;
	int64_t from;
	int64_t to;
	gb_counts counts;
	size_t ninvoices;       /* held (gb_rater_finish) */
	gb_invoice *invoices;   /* each owns its lines and strings */
	size_t cap;             /* of invoices */
	int string_blocks;      /* held invoices keep all their strings in one
				   block that starts at customer (set by
				   gb_invoice_set_hold); 0: every string is
				   its own allocation, as in sets built by
				   hand (tests) */
	size_t nstreamed;       /* handed on by gb_rater_finish_each, not held */
	mpz_t streamed_total;   /* the sum of their totals, minor units, is
				   this plus streamed_small */
	gb_i128 streamed_small; /* totals that fit in 64 bits add up here */
	/* what the rater knows of the invoice it is handing on, if any */
	const struct gb_invoice_note *note;
};

/* Allocate an empty set; NULL on allocation failure. */
gb_invoice_set *gb_invoice_set_new(const char *currency, unsigned minor_units,
				   const char *prices_name, int64_t from,
				   int64_t to);

/*
 * Append a copy of inv to the held invoices: its lines (GMP values
 * copied) and, in one block, every string it points to.  0 or GB_ENOMEM
 * (nothing appended).
 */
int gb_invoice_set_hold(gb_invoice_set *set, const gb_invoice *inv);

/* Initialise/clear one line's GMP members (its strings are the set's). */
void gb_invoice_line_init(gb_invoice_line *line);
void gb_invoice_line_clear(gb_invoice_line *line);

/* --- number text without printf ----------------------------------------- */

/* Decimal digits of v, no NUL; buf needs 20 (u64) or 39 (u128) bytes. */
size_t gb_u64_text(char *buf, uint64_t v);
size_t gb_u128_text(char *buf, gb_u128 v);

/*
 * gb_decimal_format(buf, size, v, min_frac, max_frac, GB_ROUND_HALF_EVEN)
 * and gb_money_format, byte for byte, with integer arithmetic when the
 * numbers fit in 64 bits (GMP otherwise).
 */
size_t gb_decimal_text(char *buf, size_t size, const mpq_t v,
		       unsigned min_frac, unsigned max_frac);
size_t gb_money_text(char *buf, size_t size, const mpz_t minor,
		     unsigned minor_units);

/*
 * Test hook: 0 sends every number through GMP (gb_decimal_format,
 * gb_money_format, mpq arithmetic for line amounts), the simple path the
 * fast ones must match byte for byte.  Not for concurrent use.
 */
extern int gb_invoice_fast;

/*
 * The integer paths alone, into out (64 bytes, no NUL): the length, or
 * GB_NOT_FAST when the numbers need GMP (or gb_invoice_fast is 0).
 */
#define GB_NOT_FAST ((size_t)-1)
size_t gb_decimal_fast(char *out, const mpq_t v, unsigned min_frac,
		       unsigned max_frac);
size_t gb_money_fast(char *out, const mpz_t minor, unsigned minor_units);

/* Shared by the writers: quantity, unit price and amount as text. */
size_t gb_line_quantity_text(char *buf, size_t size, const gb_invoice_line *l);
size_t gb_line_unit_price_text(char *buf, size_t size,
			       const gb_invoice_line *l, unsigned minor_units);
size_t gb_line_base_text(char *buf, size_t size, const gb_invoice_line *l);

/* 10^0 .. 10^19 */
extern const uint64_t gb_pow10_u64[20];

/* Digits shown for a line's quantity (GPU-hours need rounding to show). */
#define GB_QUANTITY_DIGITS 6

/* A text buffer that grows; writers build output pieces in it. */
typedef struct gb_buf {
	char *data;
	size_t len;
	size_t cap;
	int failed;   /* an allocation failed; further appends are ignored */
} gb_buf;

void gb_buf_init(gb_buf *b);
void gb_buf_free(gb_buf *b);
void gb_buf_add_slow(gb_buf *b, const char *s, size_t n);
/* Append n bytes of s; the text stays NUL-terminated. */
static inline void gb_buf_add(gb_buf *b, const char *s, size_t n)
{
	if (GB_LIKELY(b->len + n < b->cap)) {
		memcpy(b->data + b->len, s, n);
		b->len += n;
		b->data[b->len] = '\0';
		return;
	}
	gb_buf_add_slow(b, s, n);
}
char *gb_buf_room_slow(gb_buf *b, size_t n);
/*
 * Room for n more bytes (and the NUL) at the end of b, to write straight
 * into and then end with gb_buf_done; NULL once an allocation failed.
 */
static inline char *gb_buf_room(gb_buf *b, size_t n)
{
	if (GB_LIKELY(b->len + n < b->cap))
		return b->data + b->len;
	return gb_buf_room_slow(b, n);
}
/* The text written at gb_buf_room's pointer now ends at end. */
static inline void gb_buf_done(gb_buf *b, char *end)
{
	b->len = (size_t)(end - b->data);
	*end = '\0';
}
/* Copy n bytes to p; returns the end (for gb_buf_room's pointer). */
static inline char *gb_put(char *p, const char *s, size_t n)
{
	memcpy(p, s, n);
	return p + n;
}
#define GB_PUT_LIT(p, lit) gb_put((p), (lit), sizeof(lit) - 1)

/* Whether n bytes at s hold a ','; eight at a time, none read beyond. */
static inline int gb_has_comma(const char *s, size_t n)
{
	const uint64_t ones = 0x0101010101010101ull, highs = ones << 7;
	uint64_t w;
	size_t i = 0;

	if (n < 8) {
		for (; i < n; i++)
			if (s[i] == ',')
				return 1;
		return 0;
	}
	/* the last word overlaps the one before: no byte past the end */
	for (;; i += 8) {
		if (i + 8 > n)
			i = n - 8;
		memcpy(&w, s + i, 8);
		w ^= ones * ',';
		if ((w - ones) & ~w & highs)
			return 1;
		if (i + 8 == n)
			return 0;
	}
}

/*
 * gb_put for the short strings of invoice lines (names, regions,
 * descriptions): two overlapping fixed-size copies, so no call and no
 * byte beyond either end is read or written.
 */
static inline char *gb_put_short(char *p, const char *s, size_t n)
{
	if (n >= 16 && n <= 32) {
		memcpy(p, s, 16);
		memcpy(p + n - 16, s + n - 16, 16);
	} else if (n >= 8 && n < 16) {
		memcpy(p, s, 8);
		memcpy(p + n - 8, s + n - 8, 8);
	} else if (n >= 4 && n < 8) {
		memcpy(p, s, 4);
		memcpy(p + n - 4, s + n - 4, 4);
	} else if (n > 32 && n <= 64) {
		memcpy(p, s, 32);
		memcpy(p + n - 32, s + n - 32, 32);
	} else if (n < 4) {
		if (n) {
			p[0] = s[0];
			p[n / 2] = s[n / 2];
			p[n - 1] = s[n - 1];
		}
	} else {
		memcpy(p, s, n);
	}
	return p + n;
}
void gb_buf_puts(gb_buf *b, const char *s);
void gb_buf_printf(gb_buf *b, const char *fmt, ...)
#if defined(__GNUC__)
	__attribute__((format(printf, 2, 3)))
#endif
	;
void gb_buf_money(gb_buf *b, const mpz_t minor, unsigned minor_units);
void gb_buf_u64(gb_buf *b, uint64_t v);
/*
 * A run's record counts, as every summary says them.  Text: "N read, N
 * billed, N rejected, N duplicates, N outside period" and ", N skipped
 * (other customers)" when some were.  JSON: the members "records" to
 * "skipped", one a line at a four-space indent, each ending ",\n".
 */
void gb_buf_counts_text(gb_buf *b, const gb_counts *c);
void gb_buf_counts_json(gb_buf *b, const gb_counts *c);
/* gb_decimal_text's text appended. */
void gb_buf_decimal(gb_buf *b, const mpq_t v, unsigned min_frac,
		    unsigned max_frac);
/* Write the buffer out through fn and empty it; 0 or GB_EIO/GB_ENOMEM. */
int gb_buf_flush(gb_buf *b, gb_write_fn fn, void *payload, gb_error *err);
/* s as a JSON string literal, quotes included. */
void gb_buf_json_string(gb_buf *b, const char *s);
/* Whether n bytes at s hold one that JSON must escape. */
int gb_json_needs_escape(const char *s, size_t n);
/* s as one CSV cell, then ',' (or CRLF when last); formula-safe. */
void gb_buf_csv_cell(gb_buf *b, const char *s, int last);

/* --- the incremental invoice writer ------------------------------------- */

/* The writer flushes once its buffer holds this much. */
#define GB_WRITER_FLUSH (64u << 10)

/*
 * Unit prices as text, by value (a direct-mapped table): a few prices
 * make most lines, and their text never changes.
 */
#define GB_PRICE_MEMO 64
#define GB_PRICE_TEXT 48          /* the longest text kept */

typedef struct gb_price_memo {
	uint64_t num, den;        /* |numerator|, denominator; den 0: empty */
	uint8_t negative, min_frac, max_frac, len;
	char text[GB_PRICE_TEXT];
} gb_price_memo;

struct gb_invoice_writer {
	gb_invoice_format format;
	gb_write_fn fn;
	void *payload;
	gb_buf b;
	gb_buf aux;             /* the format's scratch text */
	int started;            /* the head is in b (or written) */
	int done;               /* finished, or failed: no more calls */
	size_t n;               /* invoices added */
	void *scratch;          /* the format's own, kept across invoices */
	size_t scratch_cap;     /* bytes */
	gb_price_memo memo[GB_PRICE_MEMO];
};

/*
 * gb_decimal_fast(out, v, min_frac, max_frac) through w's memo: out needs
 * 64 bytes.
 */
size_t gb_price_text(gb_invoice_writer *w, char *out, const mpq_t v,
		     unsigned min_frac, unsigned max_frac);

/*
 * Per format (write_text.c, write_csv.c, write_json.c, write_focus.c): the
 * head before the first invoice, one invoice, the tail.  They append to
 * w->b (write_focus.c keeps the run's repeated cells in w->aux); the
 * invoice step returns 0, GB_ENOMEM or GB_ERANGE (an amount too long to
 * print), and allocation failures inside w->b show at the next flush.
 */
void gb_text_head(gb_invoice_writer *w, const gb_invoice_set *s);
int gb_text_invoice(gb_invoice_writer *w, const gb_invoice_set *s,
		    const gb_invoice *inv);
void gb_text_tail(gb_invoice_writer *w, const gb_invoice_set *s);
void gb_csv_head(gb_invoice_writer *w, const gb_invoice_set *s);
int gb_csv_invoice(gb_invoice_writer *w, const gb_invoice_set *s,
		   const gb_invoice *inv);
void gb_csv_tail(gb_invoice_writer *w, const gb_invoice_set *s);
void gb_json_head(gb_invoice_writer *w, const gb_invoice_set *s);
int gb_json_invoice(gb_invoice_writer *w, const gb_invoice_set *s,
		    const gb_invoice *inv);
void gb_json_tail(gb_invoice_writer *w, const gb_invoice_set *s);
void gb_focus_head(gb_invoice_writer *w, const gb_invoice_set *s);
int gb_focus_invoice(gb_invoice_writer *w, const gb_invoice_set *s,
		     const gb_invoice *inv);
void gb_focus_tail(gb_invoice_writer *w, const gb_invoice_set *s);

#endif
