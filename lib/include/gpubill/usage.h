/*
 * gpubill/usage.h - usage rows and the streaming CSV usage reader.
 *
 * A gb_row is one usage record as text fields, found by column name.  The
 * CSV reader produces rows from bytes fed to it in pieces of any size; any
 * other front end can fill a gb_row itself and hand it to the rater.
 */
#ifndef GPUBILL_USAGE_H
#define GPUBILL_USAGE_H

#include <stddef.h>
#include <stdint.h>
#include "error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The columns gpubill knows (SPEC section 3).  Others are ignored. */
typedef enum gb_column {
	GB_COL_ID = 0,
	GB_COL_CUSTOMER,
	GB_COL_TYPE,
	GB_COL_START,
	GB_COL_END,
	GB_COL_SKU,
	GB_COL_REGION,
	GB_COL_GPUS,
	GB_COL_MARKET,
	GB_COL_INTERRUPTED,
	GB_COL_MODEL,
	GB_COL_INPUT_TOKENS,
	GB_COL_CACHED_TOKENS,
	GB_COL_OUTPUT_TOKENS,
	GB_COL_BATCH,
	GB_COL__COUNT
} gb_column;

/* Header name of a column ("id", "input_tokens", ...). */
GB_EXTERN const char *gb_column_name(gb_column col);

typedef struct gb_field {
	const char *ptr;  /* not NUL-terminated; NULL when len == 0 */
	size_t len;
} gb_field;

/* gb_row.flags */
#define GB_ROW_FIELD_COUNT 1u  /* the row has a different number of fields
				  than the header (nfields vs nheader) */
#define GB_ROW_FILTERED 2u     /* the reader's filter stopped reading the row
				  at its filter field (the customer, for
				  gb_rater_selects): no other field is set
				  (gb_csv_reader_set_filter) */

typedef struct gb_row {
	gb_field f[GB_COL__COUNT]; /* absent columns and empty fields: len 0 */
	const char *source;        /* file name, for messages */
	uint64_t line;             /* physical line where the row starts */
	unsigned flags;
	size_t nfields;            /* fields in this row */
	size_t nheader;            /* fields in the header */
} gb_row;

/*
 * Row callback.  The row and its fields are valid only during the call.
 * Return 0 to go on; any other value stops the reader, which then returns
 * GB_EABORT (the callback may have filled err).
 */
typedef int (*gb_row_fn)(const gb_row *row, gb_error *err, void *payload);

typedef struct gb_csv_reader gb_csv_reader;

/* Longest field the reader accepts before it gives up on the file. */
#define GB_CSV_FIELD_MAX (64u * 1024u)

/* source names the input in rows and errors ("usage.csv", "-"). */
GB_EXTERN int gb_csv_reader_new(gb_csv_reader **out, const char *source,
				gb_error *err);
GB_EXTERN void gb_csv_reader_free(gb_csv_reader *r);

/*
 * Feed the next len bytes of the file.  Rows completed by these bytes are
 * passed to fn.  The first row is the header: a UTF-8 byte order mark is
 * skipped; a missing required column (id, customer, type, start) or a
 * repeated column name is a GB_ESCHEMA error.  A field longer than
 * GB_CSV_FIELD_MAX bytes is a GB_ESYNTAX error naming its line.
 */
GB_EXTERN int gb_csv_reader_feed(gb_csv_reader *r, const void *data,
				 size_t len, gb_row_fn fn, void *payload,
				 gb_error *err);

/*
 * End of input: flush the last row (a missing final newline is fine).  An
 * unterminated quoted field is a GB_ESYNTAX error naming the line where it
 * began; a file with no header row is a GB_ESCHEMA error.
 */
GB_EXTERN int gb_csv_reader_finish(gb_csv_reader *r, gb_row_fn fn,
				   void *payload, gb_error *err);

/*
 * A row filter's verdict on the value of the row's filter field (trimmed,
 * as the row would hold it; len 0 when empty or absent): 1 to read the
 * row whole, 0 when the row is not wanted, or a negative gb_error_code,
 * which stops the reader with that code.
 */
typedef int (*gb_csv_keep_fn)(const gb_field *value, void *payload);

/*
 * Let the reader stop splitting a row once keep says no to its field col,
 * so the rest of the row costs no more than finding its end.  Such a row
 * is still passed to fn, flagged GB_ROW_FILTERED, with its line, f[col],
 * nfields = col's position in the header and every other field len 0; it
 * counts in gb_csv_reader_rows and never has GB_ROW_FIELD_COUNT (the
 * fields after col are not counted).
 *
 * Only a speed-up: some rows are read whole without asking keep (the
 * lines before the header, a line with a quote, a line longer than
 * GB_CSV_FIELD_MAX or cut off by the end of a feed, a line whose last
 * field is col or that ends before it), and keep may have said no to a row
 * that is then read whole.  So fn must reach the same verdict itself from
 * a whole row, and keep must answer the same for the same value every
 * time.  Line numbers, the field cap and every error are the same with or
 * without a filter.
 *
 * A negative return from keep ends the file with that code on the row's
 * line ("out of memory" for GB_ENOMEM).  keep NULL removes the filter.
 * Set it between feeds, not from fn.  Returns 0, or GB_EINVAL for a NULL
 * r or a col out of range.
 */
GB_EXTERN int gb_csv_reader_set_filter(gb_csv_reader *r, gb_column col,
				       gb_csv_keep_fn keep, void *payload);

/* Data rows passed to fn so far (the header and blank lines excluded). */
GB_EXTERN uint64_t gb_csv_reader_rows(const gb_csv_reader *r);

#ifdef __cplusplus
}
#endif

#endif
