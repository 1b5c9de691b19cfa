/*
 * record.h - a usage row checked and parsed into typed values.
 */
#ifndef GPUBILL_RECORD_H
#define GPUBILL_RECORD_H

#include <gpubill/rater.h>
#include <gpubill/usage.h>
#include <stdint.h>

#define GB_TEXT_FIELD_MAX 128 /* ids, customers, skus, regions, models */
#define GB_GPUS_MAX 100000
#define GB_TOKENS_MAX 1000000000000000000ull /* 10^18 per field */

typedef enum gb_record_type { GB_RECORD_GPU = 0, GB_RECORD_TOKENS } gb_record_type;

typedef struct gb_record {
	gb_record_type type;
	gb_field id;
	gb_field customer;
	int64_t start;
	/* GPU */
	int64_t end;
	gb_field sku;
	gb_field region;  /* may be empty for tokens */
	uint32_t gpus;
	int spot;
	int interrupted;
	/* tokens */
	gb_field model;
	uint64_t input_tokens;
	uint64_t cached_tokens;
	uint64_t output_tokens;
	int batch;
} gb_record;

/*
 * Check row and fill rec.  Returns 1 when the row is well formed, else 0
 * with out->reason and out->message set (out->state = REJECTED).
 */
int gb_record_parse(gb_record *rec, const gb_row *row, gb_outcome *out);

/* Fingerprint of the row's known fields, for duplicate detection. */
uint32_t gb_row_content_hash(const gb_row *row);

#endif
