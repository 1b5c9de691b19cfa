/*
 * test_data.h - read a test data file whole, for the unit tests.
 *
 * rel is relative to $GPUBILL_TEST_DATA (set by ctest; tests/data when
 * unset).  The bytes come back NUL-terminated, their count in *len; the
 * caller frees them.  Any failure fails the test.
 */
#ifndef GPUBILL_TEST_DATA_H
#define GPUBILL_TEST_DATA_H

#include <check.h>
#include <stdio.h>
#include <stdlib.h>

static char *slurp(const char *rel, size_t *len)
{
	const char *dir = getenv("GPUBILL_TEST_DATA");
	char path[4096];
	char *buf;
	long n;
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", dir ? dir : "tests/data", rel);
	f = fopen(path, "rb");
	ck_assert_msg(f != NULL, "cannot open %s", path);
	ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	ck_assert_int_ge(n, 0);
	rewind(f);
	buf = malloc((size_t)n + 1);
	ck_assert_ptr_nonnull(buf);
	ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	buf[n] = '\0';
	*len = (size_t)n;
	return buf;
}

#endif
