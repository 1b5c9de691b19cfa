/*
 * record.c - turn a text row into a typed record, or say precisely why not.
 *
 * Checks run in column order, so a row with several problems always gets
 * the same reason, whatever produced it.
 */
#include "record.h"
#include "internal.h"

#include <gpubill/timestamp.h>
#include <stdio.h>
#include <string.h>

static int reject(gb_outcome *out, gb_reason reason, const char *fmt, ...)
	GB_PRINTF(3, 4);

static int reject(gb_outcome *out, gb_reason reason, const char *fmt, ...)
{
	va_list ap;

	out->state = GB_STATE_REJECTED;
	out->reason = reason;
	va_start(ap, fmt);
	vsnprintf(out->message, sizeof out->message, fmt, ap);
	va_end(ap);
	return 0;
}

/* Valid UTF-8 with no C0/C1 control characters and no DEL. */
static int text_ok(const unsigned char *p, size_t n)
{
	size_t i = 0;

	while (i < n) {
		unsigned c;
		uint32_t cp;
		size_t k, need;

		/* eight printable ASCII bytes at a time: no byte >= 0x7f,
		 * none below 0x20 */
		while (n - i >= 8) {
			uint64_t w;

			memcpy(&w, p + i, 8);
			if ((w & 0x8080808080808080ull) ||
			    ((w - 0x2020202020202020ull) & ~w & 0x8080808080808080ull) ||
			    (((w ^ 0x7f7f7f7f7f7f7f7full) - 0x0101010101010101ull) &
			     ~(w ^ 0x7f7f7f7f7f7f7f7full) & 0x8080808080808080ull))
				break;
			i += 8;
		}
		if (i >= n)
			break;
		c = p[i];

		if (c < 0x80) {
			if (c < 0x20 || c == 0x7f)
				return 0;
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			need = 1;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			need = 2;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			need = 3;
			cp = c & 0x07;
		} else {
			return 0;
		}
		if (n - i <= need)
			return 0;
		for (k = 1; k <= need; k++) {
			if ((p[i + k] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (p[i + k] & 0x3f);
		}
		/* overlongs, surrogates, beyond U+10FFFF, C1 controls */
		if ((need == 2 && cp < 0x800) || (need == 3 && cp < 0x10000) ||
		    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff ||
		    (cp >= 0x80 && cp <= 0x9f))
			return 0;
		i += need + 1;
	}
	return 1;
}

/* A required text field: present, short enough, clean. */
static int need_text(gb_field *dst, const gb_row *row, gb_column col,
		     int required, gb_outcome *out)
{
	const gb_field *f = &row->f[col];

	*dst = *f;
	if (f->len == 0) {
		if (required)
			return reject(out, GB_REASON_MISSING_FIELD,
				      "%s is empty or missing",
				      gb_column_name(col));
		return 1;
	}
	if (f->len > GB_TEXT_FIELD_MAX)
		return reject(out, GB_REASON_FIELD_TOO_LONG,
			      "%s is %zu bytes long; the limit is %d",
			      gb_column_name(col), f->len, GB_TEXT_FIELD_MAX);
	if (!text_ok((const unsigned char *)f->ptr, f->len))
		return reject(out, GB_REASON_BAD_TEXT,
			      "%s is not valid UTF-8 or contains control characters",
			      gb_column_name(col));
	return 1;
}

static int need_time(int64_t *dst, const gb_row *row, gb_column col,
		     gb_outcome *out)
{
	const gb_field *f = &row->f[col];
	const char *why = NULL;

	if (f->len == 0)
		return reject(out, GB_REASON_MISSING_FIELD,
			      "%s is empty or missing", gb_column_name(col));
	if (f->len > 64)
		return reject(out, GB_REASON_BAD_TIMESTAMP,
			      "%s is not an RFC 3339 timestamp (too long)",
			      gb_column_name(col));
	if (gb_time_parse(dst, f->ptr, f->len, &why) != 0)
		return reject(out, GB_REASON_BAD_TIMESTAMP,
			      "%s '%.*s' is not an RFC 3339 timestamp: %s",
			      gb_column_name(col), (int)f->len, f->ptr,
			      why ? why : "malformed");
	return 1;
}

/* Decimal digits only (leading zeros allowed), value <= max <= 10^19. */
static int parse_uint(uint64_t *dst, const gb_field *f, uint64_t max)
{
	uint64_t v = 0;
	size_t i = 0;

	if (f->len == 0)
		return 0;
	while (i + 1 < f->len && f->ptr[i] == '0')
		i++;
	if (f->len - i > 19)
		return 0;
	for (; i < f->len; i++) {
		unsigned d = (unsigned char)f->ptr[i] - '0';

		if (d > 9)
			return 0;
		v = v * 10 + d;
	}
	if (v > max)
		return 0;
	*dst = v;
	return 1;
}

/* Shows at most 40 bytes of a bad value; control bytes become '?'. */
static void excerpt(char *buf, size_t size, const gb_field *f)
{
	size_t n = f->len < 40 ? f->len : 40, i;

	if (n >= size)
		n = size - 1;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)f->ptr[i];

		buf[i] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
	}
	buf[n] = '\0';
}

static int need_tokens(uint64_t *dst, const gb_row *row, gb_column col,
		       gb_outcome *out)
{
	const gb_field *f = &row->f[col];
	char shown[48];

	*dst = 0;
	if (f->len == 0)
		return 1;
	if (parse_uint(dst, f, GB_TOKENS_MAX))
		return 1;
	excerpt(shown, sizeof shown, f);
	return reject(out, GB_REASON_BAD_NUMBER,
		      "%s '%s' is not a whole number from 0 to 10^18",
		      gb_column_name(col), shown);
}

static int field_is(const gb_field *f, const char *word)
{
	size_t n = strlen(word);

	return f->len == n && memcmp(f->ptr, word, n) == 0;
}

/* true/false/1/0/empty (empty = false). */
static int need_bool(int *dst, const gb_row *row, gb_column col,
		     gb_outcome *out)
{
	const gb_field *f = &row->f[col];
	char shown[48];

	if (f->len == 0 || field_is(f, "false") || field_is(f, "0")) {
		*dst = 0;
		return 1;
	}
	if (field_is(f, "true") || field_is(f, "1")) {
		*dst = 1;
		return 1;
	}
	excerpt(shown, sizeof shown, f);
	return reject(out, GB_REASON_BAD_VALUE,
		      "%s '%s' is not true, false, 1, 0 or empty",
		      gb_column_name(col), shown);
}

static int parse_gpu(gb_record *rec, const gb_row *row, gb_outcome *out)
{
	const gb_field *f;
	uint64_t gpus;
	char shown[48];

	if (!need_time(&rec->end, row, GB_COL_END, out))
		return 0;
	if (rec->end <= rec->start)
		return reject(out, GB_REASON_END_NOT_AFTER_START,
			      "end is not after start");
	if (!need_text(&rec->sku, row, GB_COL_SKU, 1, out) ||
	    !need_text(&rec->region, row, GB_COL_REGION, 1, out))
		return 0;
	f = &row->f[GB_COL_GPUS];
	if (f->len == 0)
		return reject(out, GB_REASON_MISSING_FIELD,
			      "gpus is empty or missing");
	if (!parse_uint(&gpus, f, GB_GPUS_MAX) || gpus == 0) {
		excerpt(shown, sizeof shown, f);
		return reject(out, GB_REASON_BAD_NUMBER,
			      "gpus '%s' is not a whole number from 1 to %d",
			      shown, GB_GPUS_MAX);
	}
	rec->gpus = (uint32_t)gpus;
	f = &row->f[GB_COL_MARKET];
	if (f->len == 0 || field_is(f, "on_demand")) {
		rec->spot = 0;
	} else if (field_is(f, "spot")) {
		rec->spot = 1;
	} else {
		excerpt(shown, sizeof shown, f);
		return reject(out, GB_REASON_BAD_VALUE,
			      "market '%s' is not on_demand, spot or empty",
			      shown);
	}
	return need_bool(&rec->interrupted, row, GB_COL_INTERRUPTED, out);
}

static int parse_tokens(gb_record *rec, const gb_row *row, gb_outcome *out)
{
	return need_text(&rec->model, row, GB_COL_MODEL, 1, out) &&
	       need_text(&rec->region, row, GB_COL_REGION, 0, out) &&
	       need_tokens(&rec->input_tokens, row, GB_COL_INPUT_TOKENS, out) &&
	       need_tokens(&rec->cached_tokens, row, GB_COL_CACHED_TOKENS, out) &&
	       need_tokens(&rec->output_tokens, row, GB_COL_OUTPUT_TOKENS, out) &&
	       need_bool(&rec->batch, row, GB_COL_BATCH, out);
}

int gb_record_parse(gb_record *rec, const gb_row *row, gb_outcome *out)
{
	const gb_field *type = &row->f[GB_COL_TYPE];
	char shown[48];

	memset(rec, 0, sizeof *rec);
	if (row->flags & GB_ROW_FIELD_COUNT)
		return reject(out, GB_REASON_FIELD_COUNT,
			      "row has %zu fields; the header has %zu",
			      row->nfields, row->nheader);
	if (!need_text(&rec->id, row, GB_COL_ID, 1, out) ||
	    !need_text(&rec->customer, row, GB_COL_CUSTOMER, 1, out))
		return 0;
	if (type->len == 0)
		return reject(out, GB_REASON_MISSING_FIELD,
			      "type is empty or missing");
	if (field_is(type, "gpu")) {
		rec->type = GB_RECORD_GPU;
	} else if (field_is(type, "tokens")) {
		rec->type = GB_RECORD_TOKENS;
	} else {
		excerpt(shown, sizeof shown, type);
		return reject(out, GB_REASON_UNKNOWN_TYPE,
			      "type '%s' is not gpu or tokens", shown);
	}
	if (!need_time(&rec->start, row, GB_COL_START, out))
		return 0;
	if (rec->type == GB_RECORD_GPU)
		return parse_gpu(rec, row, out);
	return parse_tokens(rec, row, out);
}

/*
 * Fold field f (column key, length n) into h.  A short field is read as
 * gb_hash64 reads it: words that together hold every byte (overlapping,
 * never past the end); a long one in 16-byte steps first.
 */
static inline uint64_t mix_field(uint64_t h, const gb_field *f, uint64_t key)
{
	const unsigned char *p = (const unsigned char *)f->ptr;
	size_t n = f->len, i, s;
	uint64_t a, b;

	if (n - 4 <= 12) {	/* 4..16 bytes (below 4, n - 4 wraps) */
		s = (n >> 3) << 2;
		a = gb_read32(p) << 32 | gb_read32(p + s);
		b = gb_read32(p + n - 4) << 32 | gb_read32(p + n - 4 - s);
	} else if (n > 16) {
		for (i = n; i > 16; i -= 16, p += 16)
			h = gb_mum(gb_read64(p) ^ GB_HASH_P1, gb_read64(p + 8) ^ h);
		a = gb_read64(p + i - 16);
		b = gb_read64(p + i - 8);
	} else if (n) {
		a = (uint64_t)p[0] << 16 | (uint64_t)p[n >> 1] << 8 | p[n - 1];
		b = 0;
	} else {
		return h;
	}
	return gb_mum(a ^ h, b ^ key ^ (uint64_t)n);
}

uint32_t gb_row_content_hash(const gb_row *row)
{
	uint64_t h = 0x6770756269696c6cull;

	/*
	 * The known fields in gb_column order, read where they lie (no copy).
	 * Each non-empty field is folded in with a key of its own column and
	 * its length, so ("ab","c") and ("a","bc") differ, as do rows that
	 * differ only in which field is empty.
	 */
	_Static_assert(GB_COL__COUNT == 15, "one MIX per column");
#define MIX(c) h = mix_field(h, &row->f[c], GB_HASH_P3 + (uint64_t)(c) * GB_HASH_P2)
	MIX(0); MIX(1); MIX(2); MIX(3); MIX(4);
	MIX(5); MIX(6); MIX(7); MIX(8); MIX(9);
	MIX(10); MIX(11); MIX(12); MIX(13); MIX(14);
#undef MIX
	h = gb_mum(h ^ GB_HASH_P1, GB_HASH_P2);
	return (uint32_t)(h ^ (h >> 32));
}
