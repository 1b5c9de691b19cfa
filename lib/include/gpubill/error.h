/*
 * gpubill/error.h - error codes and the caller-owned error record.
 *
 * Every library function that can fail returns 0 or a negative gb_error_code
 * and, when given a gb_error, fills it with a message and the place the
 * problem was found (file, line and column, or a JSON path).
 */
#ifndef GPUBILL_ERROR_H
#define GPUBILL_ERROR_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(GPUBILL_BUILDING) && defined(__GNUC__)
#define GB_EXTERN __attribute__((visibility("default")))
#else
#define GB_EXTERN
#endif

/* Numbered once, never renumbered. */
typedef enum gb_error_code {
	GB_OK = 0,
	GB_ENOMEM = -1,  /* an allocation failed */
	GB_EINVAL = -2,  /* a caller passed an invalid argument */
	GB_ESYNTAX = -3, /* input text is malformed (JSON, CSV, number, time) */
	GB_ESCHEMA = -4, /* input is well formed but breaks the format's rules */
	GB_EIO = -5,     /* a write or read callback reported failure */
	GB_ERANGE = -6,  /* a value is out of the representable range */
	GB_EABORT = -7   /* a callback asked to stop */
} gb_error_code;

#define GB_ERROR_MESSAGE_MAX 512
#define GB_ERROR_SOURCE_MAX 256
#define GB_ERROR_PATH_MAX 256

typedef struct gb_error {
	int code;                            /* a gb_error_code */
	char message[GB_ERROR_MESSAGE_MAX];  /* human-readable, no trailing newline */
	char source[GB_ERROR_SOURCE_MAX];    /* file name, "" when unknown */
	uint64_t line;                       /* 1-based; 0 when unknown */
	uint64_t column;                     /* 1-based; 0 when unknown */
	char path[GB_ERROR_PATH_MAX];        /* JSON path, "" when not JSON */
} gb_error;

/* Reset err to "no error". err may be NULL. */
GB_EXTERN void gb_error_clear(gb_error *err);

/* Fixed description of a code; never NULL. */
GB_EXTERN const char *gb_strerror(int code);

/*
 * Write "source:line:column: path: message" (parts that are unknown are
 * left out) into buf, always NUL-terminated when size > 0.  Returns the
 * length the full text needs, like snprintf.
 */
GB_EXTERN size_t gb_error_format(char *buf, size_t size, const gb_error *err);

#ifdef __cplusplus
}
#endif

#endif
