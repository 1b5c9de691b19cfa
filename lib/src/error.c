/* error.c - error codes, their descriptions and the gb_error record. */
#include "internal.h"

#include <gpubill/gpubill.h>

#include <stdio.h>
#include <string.h>

void gb_error_clear(gb_error *err)
{
	if (!err)
		return;
	err->code = GB_OK;
	err->message[0] = '\0';
	err->source[0] = '\0';
	err->line = 0;
	err->column = 0;
	err->path[0] = '\0';
}

const char *gb_strerror(int code)
{
	switch (code) {
	case GB_OK: return "no error";
	case GB_ENOMEM: return "out of memory";
	case GB_EINVAL: return "invalid argument";
	case GB_ESYNTAX: return "malformed input";
	case GB_ESCHEMA: return "invalid content";
	case GB_EIO: return "input/output error";
	case GB_ERANGE: return "value out of range";
	case GB_EABORT: return "stopped by a callback";
	default: return "unknown error";
	}
}

int gb_error_vset(gb_error *err, int code, const char *fmt, va_list ap)
{
	if (err) {
		err->code = code;
		vsnprintf(err->message, sizeof err->message, fmt, ap);
	}
	return code;
}

int gb_error_set(gb_error *err, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	gb_error_vset(err, code, fmt, ap);
	va_end(ap);
	return code;
}

static void copy_bounded(char *dst, size_t size, const char *src)
{
	size_t n = strlen(src);

	if (n >= size)
		n = size - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

void gb_error_set_source(gb_error *err, const char *source)
{
	if (err && source)
		copy_bounded(err->source, sizeof err->source, source);
}

void gb_error_set_path(gb_error *err, const char *path)
{
	if (err && path)
		copy_bounded(err->path, sizeof err->path, path);
}

size_t gb_error_format(char *buf, size_t size, const gb_error *err)
{
	int n;

	if (!err) {
		n = snprintf(buf, size, "%s", gb_strerror(GB_EINVAL));
		return n < 0 ? 0 : (size_t)n;
	}
	n = snprintf(buf, size, "%s%s%.0llu%s%.0llu%s%s%s%s",
		     err->source, err->source[0] ? ":" : "",
		     (unsigned long long)err->line, err->line ? ":" : "",
		     (unsigned long long)err->column, err->column ? ":" : "",
		     (err->source[0] || err->line) ? " " : "",
		     err->path, err->path[0] ? ": " : "");
	if (n < 0)
		return 0;
	{
		size_t used = (size_t)n < size ? (size_t)n : (size ? size - 1 : 0);
		int m = snprintf(buf ? buf + used : NULL, size > used ? size - used : 0,
				 "%s", err->message[0] ? err->message : gb_strerror(err->code));
		return (size_t)n + (m < 0 ? 0 : (size_t)m);
	}
}

const char *gb_version(void)
{
	return "0.1.0";
}
