/*
 * gpubill/validate.h - check pricing tables, contracts and cost bases the
 * way CI wants: every problem of every file in one run, each with a stable
 * code, the file, the JSON path, the line and column, and a fix hint; and
 * warnings about content that is valid but looks wrong (a spot price above
 * the on-demand one, a version identical to the previous one, ...).
 * gpubill(1) lists every code.
 *
 * A validator collects findings file by file: add the pricing tables
 * first, then the contracts and costs files, which are cross-checked
 * against the tables added before them that have no errors.  The findings
 * of each file are sorted by line, column, severity and path.
 */
#ifndef GPUBILL_VALIDATE_H
#define GPUBILL_VALIDATE_H

#include <stddef.h>
#include <stdint.h>
#include "error.h"
#include "invoice.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum gb_severity {
	GB_SEVERITY_ERROR = 0,    /* the file would be refused */
	GB_SEVERITY_WARNING = 1   /* valid, but probably not what was meant */
} gb_severity;

/* "error" or "warning". */
GB_EXTERN const char *gb_severity_name(gb_severity severity);

/* One problem.  The strings live as long as whatever handed it out. */
typedef struct gb_finding {
	gb_severity severity;
	const char *code;      /* stable: "unknown_key", "spot_above_on_demand" */
	const char *source;    /* the file name as given */
	const char *path;      /* JSON path; "" for the file as a whole */
	uint64_t line;         /* 1-based; 0 when unknown */
	uint64_t column;       /* 1-based, in characters; 0 when unknown */
	const char *message;
	const char *hint;      /* how to fix it; "" when there is nothing to add */
} gb_finding;

/* Called with a finding; returns 0, or non-zero to stop. */
typedef int (*gb_finding_fn)(const gb_finding *finding, void *payload);

/* What kind of file a validator was given. */
typedef enum gb_validate_kind {
	GB_VALIDATE_PRICES = 0,
	GB_VALIDATE_CONTRACTS = 1,
	GB_VALIDATE_COSTS = 2
} gb_validate_kind;

/* "pricing table", "contracts", "costs". */
GB_EXTERN const char *gb_validate_kind_name(gb_validate_kind kind);

typedef struct gb_validator gb_validator;

GB_EXTERN int gb_validator_new(gb_validator **out, gb_error *err);
GB_EXTERN void gb_validator_free(gb_validator *v);

/*
 * Check one file held in data[0..len); source names it in findings.
 * Returns 0 when the file was checked, whatever was found in it;
 * GB_ESYNTAX when it is not JSON at all (also recorded as a finding with
 * code "syntax_error" and the line and column); GB_ENOMEM or GB_EINVAL
 * when it could not be checked (err says why).
 *
 * A contracts file is checked against each pricing table added before it
 * without errors (every reservation without its own rate needs a reserved
 * price); a costs file is compared with the same tables (a cost at or
 * above a price is a warning).  With no such table these checks are left
 * out.
 */
GB_EXTERN int gb_validator_add_prices(gb_validator *v, const char *data,
				      size_t len, const char *source,
				      gb_error *err);
GB_EXTERN int gb_validator_add_contracts(gb_validator *v, const char *data,
					 size_t len, const char *source,
					 gb_error *err);
GB_EXTERN int gb_validator_add_costs(gb_validator *v, const char *data,
				     size_t len, const char *source,
				     gb_error *err);

/* All findings, files in the order added, each file's sorted. */
GB_EXTERN size_t gb_validator_count(const gb_validator *v);
GB_EXTERN const gb_finding *gb_validator_get(const gb_validator *v,
					     size_t i);

/* Give each finding, in order, to fn; GB_EABORT when fn returned non-zero. */
GB_EXTERN int gb_validator_each(const gb_validator *v, gb_finding_fn fn,
				void *payload);

/* Totals: files added, errors and warnings found. */
GB_EXTERN size_t gb_validator_files(const gb_validator *v);
GB_EXTERN size_t gb_validator_errors(const gb_validator *v);
GB_EXTERN size_t gb_validator_warnings(const gb_validator *v);

/*
 * Per file, in the order added: its name, kind, and counts.  Returns 0, or
 * GB_EINVAL past the end.  not_json is 1 when it was not JSON at all.
 */
GB_EXTERN int gb_validator_file(const gb_validator *v, size_t i,
				const char **source, gb_validate_kind *kind,
				size_t *errors, size_t *warnings,
				int *not_json);

/*
 * Writers.  text: one line per finding,
 *   FILE:LINE:COLUMN: PATH: SEVERITY: MESSAGE (hint: HINT)
 * (parts that are unknown or empty left out); csv: a header and one row
 * per finding (CRLF, RFC 4180); json: "gpubill-validate/1" with the files,
 * the findings and the totals.  Each returns 0, GB_EIO when fn failed, or
 * GB_ENOMEM.
 */
GB_EXTERN int gb_validator_write_text(const gb_validator *v, gb_write_fn fn,
				      void *payload, gb_error *err);
GB_EXTERN int gb_validator_write_csv(const gb_validator *v, gb_write_fn fn,
				     void *payload, gb_error *err);
GB_EXTERN int gb_validator_write_json(const gb_validator *v, gb_write_fn fn,
				      void *payload, gb_error *err);

#ifdef __cplusplus
}
#endif

#endif
