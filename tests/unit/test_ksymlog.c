/* SPDX-License-Identifier: BSD-2-Clause */
/* The ksymbol log: time order across rings, its own copies of the names,
 * lookups and pruning by time, and its limit. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "engine/ksymlog.h"

static struct ks_kevent ev_at(uint64_t time, int cpu, const char *name)
{
	return (struct ks_kevent){ .kind = KS_KEVENT_KSYM_ADD, .cpu = cpu, .time = time,
				   .ksym = { .addr = 0x1000, .len = 8, .type = 1, .name = name } };
}

static void test_time_order(void **state)
{
	struct ks_ksymlog log = { 0 };
	char name[16];
	struct ks_kevent ev;
	/* Two rings drained one after the other: 0's records, then 1's. */
	static const uint64_t times[] = { 10, 30, 50, 20, 40, 30 };
	static const char *const want[] = { "10", "20", "30", "30'", "40", "50" };

	(void)state;
	for (size_t i = 0; i < 6; i++) {
		snprintf(name, sizeof(name), "%llu%s", (unsigned long long)times[i], i == 5 ? "'" : "");
		ev = ev_at(times[i], i < 3 ? 0 : 1, name);
		assert_int_equal(ks_ksymlog_add(&log, &ev), 0);
		/* The log's own copy: the drain's buffer is reused. */
		memset(name, 'x', sizeof(name) - 1);
	}
	assert_int_equal(log.n, 6);
	for (size_t i = 0; i < 6; i++)
		assert_string_equal(log.ev[i].ksym.name, want[i]);
	assert_int_equal(ks_ksymlog_newest(&log), 50);
	assert_int_equal(ks_ksymlog_after(&log, 0), 0);
	assert_int_equal(ks_ksymlog_after(&log, 20), 2);
	assert_int_equal(ks_ksymlog_after(&log, 30), 4);
	assert_int_equal(ks_ksymlog_after(&log, 50), 6);
	ks_ksymlog_prune(&log, 30);
	assert_int_equal(log.n, 4);
	assert_string_equal(log.ev[0].ksym.name, "30");
	ks_ksymlog_prune(&log, 0);
	assert_int_equal(log.n, 4);
	ks_ksymlog_release(&log);
	assert_int_equal(log.n, 0);
	assert_int_equal(ks_ksymlog_newest(&log), 0);
}

static void test_limit(void **state)
{
	struct ks_ksymlog log = { 0 };
	struct ks_kevent ev;

	(void)state;
	for (unsigned i = 0; i < KS_KSYMLOG_MAX; i++) {
		ev = ev_at(i + 1, 0, "p");
		assert_int_equal(ks_ksymlog_add(&log, &ev), 0);
	}
	ev = ev_at(1, 0, "q");
	assert_int_equal(ks_ksymlog_add(&log, &ev), -E2BIG);
	assert_int_equal(log.n, KS_KSYMLOG_MAX);
	assert_string_equal(log.ev[1].ksym.name, "p");
	ks_ksymlog_release(&log);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_time_order),
		cmocka_unit_test(test_limit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
