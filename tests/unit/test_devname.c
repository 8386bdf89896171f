/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * devname.c: the device name rule, and that ksymsd's --name applies it (run
 * with --dump, so that a name wrongly accepted never reaches /dev/cuse).
 */
#include "daemon/devname.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "testutil.h"

static void test_valid(void **state)
{
	static const char *const good[] = {
		"ksyms", "a", "ksyms-2", "ksyms_test", "x.y", ".a", "a.", "...", "~", "A:B@c",
	};
	char max[KS_DEVICE_NAME_MAX + 1];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		if (!ks_device_name_valid(good[i]))
			fail_msg("refused '%s'", good[i]);
	}
	memset(max, 'k', KS_DEVICE_NAME_MAX);
	max[KS_DEVICE_NAME_MAX] = '\0';
	assert_true(ks_device_name_valid(max));
}

static void test_invalid(void **state)
{
	static const char *const bad[] = {
		"", ".", "..", "/", "a/b", "ksyms/", "/ksyms", "a b", " ", "a\tb", "a\n",
		"\x01", "a\x1f", "\x7f", "a\x7f", "\x80", "\xff", "k\xc3\xa9", /* "ké" */
	};
	char long_name[KS_DEVICE_NAME_MAX + 2];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (ks_device_name_valid(bad[i]))
			fail_msg("accepted bad name #%zu", i);
	}
	assert_false(ks_device_name_valid(NULL));
	memset(long_name, 'k', KS_DEVICE_NAME_MAX + 1);
	long_name[KS_DEVICE_NAME_MAX + 1] = '\0';
	assert_false(ks_device_name_valid(long_name));
}

/* Run $KSYMSD --name name --root <mini> --dump /dev/null; return its exit
 * status, with the first line of its stderr in msg. */
static int run_ksymsd(const char *name, char *msg, size_t msg_size)
{
	const char *ksymsd = getenv("KSYMSD");
	char root[4096];
	int fds[2], status;
	size_t len;
	ssize_t n;
	pid_t pid;

	if (!ksymsd)
		skip();
	snprintf(root, sizeof(root), "%s", fixture("mini"));
	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(fds[1], STDERR_FILENO);
		close(fds[0]);
		close(fds[1]);
		execl(ksymsd, ksymsd, "--name", name, "--root", root, "--dump", "/dev/null",
		      (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	/* To EOF: a usage error is two lines, maybe two writes, and closing
	 * the pipe after the first would kill the child with SIGPIPE. */
	for (len = 0; len < msg_size - 1; len += (size_t)n) {
		n = read(fds[0], msg + len, msg_size - 1 - len);
		if (n <= 0)
			break;
	}
	msg[len] = '\0';
	close(fds[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

static void test_main_uses_rule(void **state)
{
	/* Each was accepted by main()'s own, looser check once. */
	static const char *const bad[] = { "a b", ".", "..", "a\tb", "\x7f", "k\xc3\xa9" };
	char msg[512];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		/* A usage error: exit 2, as GNU tools. */
		assert_int_equal(run_ksymsd(bad[i], msg, sizeof(msg)), 2);
		if (!strstr(msg, "ksymsd: --name: ") ||
		    !strstr(msg, "\nTry 'ksymsd --help' for more information.\n"))
			fail_msg("bad name #%zu: unexpected message: %s", i, msg);
	}
	/* A good name passes the check (and --dump then succeeds on mini). */
	assert_int_equal(run_ksymsd("ksyms-test", msg, sizeof(msg)), 0);
	assert_null(strstr(msg, "--name"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_invalid),
		cmocka_unit_test(test_main_uses_rule),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
