/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuselog.c: libfuse's messages come out as ksymsd's own lines: named,
 * one per line, with the journald priority under systemd, debug lines only
 * with --debug.
 */
#include "daemon/fuselog.h"

#include <fuse_log.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "shared/log.h"

/* Run the calls with stderr going to a file; return what they wrote. With
 * journal set, JOURNAL_STREAM names that file, as systemd would. */
static char *capture(bool journal, bool debug, void (*calls)(void))
{
	static char out[4096];
	char path[] = "/tmp/ksymsd-fuselog.XXXXXX";
	char js[64];
	struct stat st;
	int fd, saved;
	ssize_t n;

	fd = mkstemp(path);
	assert_true(fd >= 0);
	unlink(path);
	assert_int_equal(fstat(fd, &st), 0);
	fflush(stderr);
	saved = dup(STDERR_FILENO);
	assert_true(saved >= 0);
	assert_int_equal(dup2(fd, STDERR_FILENO), STDERR_FILENO);
	if (journal) {
		snprintf(js, sizeof(js), "%llu:%llu", (unsigned long long)st.st_dev,
			 (unsigned long long)st.st_ino);
		setenv("JOURNAL_STREAM", js, 1);
	} else {
		unsetenv("JOURNAL_STREAM");
	}
	ks_log_init("ksymsd", debug);
	ks_fuse_log_route();
	calls();
	fflush(stderr);
	assert_int_equal(dup2(saved, STDERR_FILENO), STDERR_FILENO);
	close(saved);
	unsetenv("JOURNAL_STREAM");
	n = pread(fd, out, sizeof(out) - 1, 0);
	assert_true(n >= 0);
	out[n] = '\0';
	close(fd);
	return out;
}

static void libfuse_says(void)
{
	fuse_log(FUSE_LOG_ERR, "cuse: device not found, try '%s' first\n", "modprobe cuse");
	fuse_log(FUSE_LOG_DEBUG, "unique: %d, opcode: INIT (26)\n", 2);
	fuse_log(FUSE_LOG_WARNING, "first\nsecond\n");
	fuse_log(FUSE_LOG_NOTICE, "no newline");
}

static void test_plain(void **state)
{
	(void)state;
	assert_string_equal(capture(false, false, libfuse_says),
			    "ksymsd: cuse: device not found, try 'modprobe cuse' first\n"
			    "ksymsd: first\n"
			    "ksymsd: second\n"
			    "ksymsd: no newline\n");
}

static void test_journal_priorities(void **state)
{
	(void)state;
	assert_string_equal(capture(true, false, libfuse_says),
			    "<3>cuse: device not found, try 'modprobe cuse' first\n"
			    "<4>first\n"
			    "<4>second\n"
			    "<5>no newline\n");
}

static void test_debug(void **state)
{
	(void)state;
	assert_string_equal(capture(true, true, libfuse_says),
			    "<3>cuse: device not found, try 'modprobe cuse' first\n"
			    "<7>unique: 2, opcode: INIT (26)\n"
			    "<4>first\n"
			    "<4>second\n"
			    "<5>no newline\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain),
		cmocka_unit_test(test_journal_priorities),
		cmocka_unit_test(test_debug),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
