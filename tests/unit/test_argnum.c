/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * argnum.c: ksymsd's --max-memory and --max-opens numbers. What must fail
 * is what strtoull alone accepts (a sign, blanks, hex) and what wraps
 * when scaled (a shift drops high bits without a word).
 */
#include "daemon/argnum.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

static void test_size_good(void **state)
{
	size_t v;

	(void)state;
	assert_int_equal(ks_parse_size("1", &v), 0);
	assert_int_equal(v, 1);
	assert_int_equal(ks_parse_size("512M", &v), 0);
	assert_int_equal(v, (size_t)512 << 20);
	assert_int_equal(ks_parse_size("3k", &v), 0);
	assert_int_equal(v, 3072);
	assert_int_equal(ks_parse_size("2G", &v), 0);
	assert_int_equal(v, (size_t)2 << 30);
	assert_int_equal(ks_parse_size("007", &v), 0);
	assert_int_equal(v, 7);
}

static void test_size_bad(void **state)
{
	static const char *const bad[] = {
		"", "0", "0K", "-1", "+1", " 1", "1 ", "0x10", "1KB", "1T", "K", "1.5M", "1e3",
	};
	size_t v = 42;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (ks_parse_size(bad[i], &v) != -EINVAL)
			fail_msg("'%s' was not refused as EINVAL", bad[i]);
	}
	assert_int_equal(ks_parse_size(NULL, &v), -EINVAL);
	assert_int_equal(v, 42);
}

static void test_size_overflow(void **state)
{
	char s[64];
	size_t v = 42;

	(void)state;
	/* Past unsigned long long before any suffix. */
	assert_int_equal(ks_parse_size("99999999999999999999999", &v), -ERANGE);
	/* Fits as a number, wraps when scaled: 2^64 / 2^30 = 2^34 G. */
	snprintf(s, sizeof(s), "%zuG", (SIZE_MAX >> 30) + 1);
	assert_int_equal(ks_parse_size(s, &v), -ERANGE);
	snprintf(s, sizeof(s), "%zuK", (SIZE_MAX >> 10) + 1);
	assert_int_equal(ks_parse_size(s, &v), -ERANGE);
	assert_int_equal(v, 42);
	/* The largest that fits, at each scale. */
	snprintf(s, sizeof(s), "%zuG", SIZE_MAX >> 30);
	assert_int_equal(ks_parse_size(s, &v), 0);
	assert_true(v == (SIZE_MAX >> 30) << 30);
	snprintf(s, sizeof(s), "%zu", (size_t)SIZE_MAX);
	assert_int_equal(ks_parse_size(s, &v), 0);
	assert_true(v == SIZE_MAX);
}

static void test_count(void **state)
{
	unsigned long long v = 42;

	(void)state;
	assert_int_equal(ks_parse_count("64", 100, &v), 0);
	assert_int_equal(v, 64);
	assert_int_equal(ks_parse_count("100", 100, &v), 0);
	assert_int_equal(v, 100);
	v = 42;
	assert_int_equal(ks_parse_count("101", 100, &v), -ERANGE);
	assert_int_equal(ks_parse_count("4294967296", 4294967295ull, &v), -ERANGE);
	assert_int_equal(ks_parse_count("99999999999999999999999", 100, &v), -ERANGE);
	assert_int_equal(ks_parse_count("0", 100, &v), -EINVAL);
	assert_int_equal(ks_parse_count("-1", 100, &v), -EINVAL);
	assert_int_equal(ks_parse_count("1K", 100000, &v), -EINVAL);
	assert_int_equal(ks_parse_count("", 100, &v), -EINVAL);
	assert_int_equal(v, 42);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_size_good),
		cmocka_unit_test(test_size_bad),
		cmocka_unit_test(test_size_overflow),
		cmocka_unit_test(test_count),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
