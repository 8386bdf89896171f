/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * libksyms-preload against a fake device: a regular file (or a FIFO) named
 * ".../ksyms" holding an image of the Debian 6.1 fixture, given to the
 * preload through KSYMS_PRELOAD_DEVICE. Each test runs preload_probe (an
 * ordinary program) under LD_PRELOAD in one mode; the probe does the
 * checks (see preload_probe.c), this driver sets the stage.
 *
 * Environment: KSYMS_PRELOAD_SO, KSYMS_PROBE (set by meson);
 * KSYMS_PROBE_WRAPPER, e.g. "valgrind -q --error-exitcode=99", runs the
 * probe under it (valgrind does not follow the driver's children).
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "engine/snapshot.h"
#include "../unit/testutil.h"

static struct {
	char *dir;
	char dev[1024], ref[1024], alias[1024], fifo_dir[512], fifo[1024];
	const void *bytes;
	size_t size;
	struct ks_snapshot *snap;
} g;

static int write_image(const char *path)
{
	FILE *f = fopen(path, "w");

	if (!f || fwrite(g.bytes, 1, g.size, f) != g.size)
		return -1;
	return fclose(f);
}

static int setup(void **state)
{
	struct ks_root root;
	struct ks_snapshot_opts opts = { .root = &root };
	struct ks_error err = { 0 };
	char adir[512];
	int r;

	(void)state;
	if (!getenv("KSYMS_PRELOAD_SO") || !getenv("KSYMS_PROBE"))
		return -1;
	open_root(&root, fixture("debian-6.1/state-a"));
	r = ks_snapshot_take(&opts, &g.snap, &err);
	ks_root_close(&root);
	if (r < 0)
		return -1;
	g.bytes = ks_snapshot_data(g.snap);
	g.size = ks_snapshot_size(g.snap);
	g.dir = make_tmpdir();
	snprintf(g.dev, sizeof(g.dev), "%s/ksyms", g.dir);
	snprintf(g.ref, sizeof(g.ref), "%s/ref.elf", g.dir);
	snprintf(adir, sizeof(adir), "%s/alias", g.dir);
	snprintf(g.alias, sizeof(g.alias), "%s/ksyms", adir);
	snprintf(g.fifo_dir, sizeof(g.fifo_dir), "%s/fifo", g.dir);
	snprintf(g.fifo, sizeof(g.fifo), "%s/ksyms", g.fifo_dir);
	if (write_image(g.dev) || write_image(g.ref) || mkdir(adir, 0700) ||
	    symlink("../ksyms", g.alias) || mkdir(g.fifo_dir, 0700) || mkfifo(g.fifo, 0600))
		return -1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	rm_rf(g.dir);
	free(g.dir);
	ks_snapshot_unref(g.snap);
	return 0;
}

/* Run the probe in mode; its exit status. */
static int probe(const char *mode, const char *dev, const char *extra)
{
	const char *wrapper = getenv("KSYMS_PROBE_WRAPPER");
	char *argv[32], *wcopy = NULL, *save = NULL;
	int argc = 0, status;
	pid_t pid;

	if (wrapper && *wrapper) {
		wcopy = strdup(wrapper);
		for (char *w = strtok_r(wcopy, " ", &save); w && argc < 20;
		     w = strtok_r(NULL, " ", &save))
			argv[argc++] = w;
	}
	argv[argc++] = getenv("KSYMS_PROBE");
	argv[argc++] = (char *)mode;
	argv[argc++] = (char *)dev;
	argv[argc++] = g.ref;
	if (extra)
		argv[argc++] = (char *)extra;
	argv[argc] = NULL;
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		setenv("LD_PRELOAD", getenv("KSYMS_PRELOAD_SO"), 1);
		setenv("KSYMS_PRELOAD_DEVICE", dev, 1);
		/* A sanitized probe loads libasan after the preload: keep the
		 * caller's ASan options, but let that order pass. */
		{
			const char *o = getenv("ASAN_OPTIONS");
			char opts[1024];

			snprintf(opts, sizeof(opts), "%s%sverify_asan_link_order=0", o ? o : "",
				 o && *o ? ":" : "");
			setenv("ASAN_OPTIONS", opts, 1);
		}
		execvp(argv[0], argv);
		_exit(127);
	}
	free(wcopy);
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return -1;
	if (WIFSIGNALED(status)) {
		fprintf(stderr, "probe %s: signal %d\n", mode, WTERMSIG(status));
		return 128 + WTERMSIG(status);
	}
	return WEXITSTATUS(status);
}

static void test_fd(void **state)
{
	(void)state;
	assert_int_equal(probe("fd", g.dev, NULL), 0);
}

static void test_stdio(void **state)
{
	(void)state;
	assert_int_equal(probe("stdio", g.dev, NULL), 0);
}

static void test_stat(void **state)
{
	(void)state;
	assert_int_equal(probe("stat", g.dev, g.alias), 0);
}

static void test_dup(void **state)
{
	(void)state;
	assert_int_equal(probe("dup", g.dev, NULL), 0);
}

static void test_errno(void **state)
{
	(void)state;
	assert_int_equal(probe("errno", g.dev, NULL), 0);
}

static void test_elf(void **state)
{
	(void)state;
	assert_int_equal(probe("elf", g.dev, NULL), 0);
}

static void test_threads(void **state)
{
	(void)state;
	assert_int_equal(probe("threads", g.dev, NULL), 0);
}

/* A FIFO has no size and cannot seek: the preload reads it to EOF. */
static void test_fifo(void **state)
{
	pid_t writer;
	int status, fd;

	(void)state;
	writer = fork();
	if (writer == 0) {
		signal(SIGPIPE, SIG_DFL);
		/* Never outlive a probe that died before opening the FIFO. */
		alarm(20);
		fd = open(g.fifo, O_WRONLY);
		for (size_t done = 0; fd >= 0 && done < g.size;) {
			ssize_t w = write(fd, (const char *)g.bytes + done, g.size - done);

			if (w <= 0)
				_exit(1);
			done += (size_t)w;
		}
		_exit(fd >= 0 && close(fd) == 0 ? 0 : 1);
	}
	assert_true(writer > 0);
	assert_int_equal(probe("fifo", g.fifo, NULL), 0);
	assert_int_equal(waitpid(writer, &status, 0), writer);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fd),
		cmocka_unit_test(test_stdio),
		cmocka_unit_test(test_stat),
		cmocka_unit_test(test_dup),
		cmocka_unit_test(test_errno),
		cmocka_unit_test(test_elf),
		cmocka_unit_test(test_threads),
		cmocka_unit_test(test_fifo),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
