/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * access.c: the kallsyms_show_value() rule as a table, and the /proc readers
 * against fake trees (plus one look at the real /proc for our own threads).
 */
#include "daemon/access.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cmocka.h>

#include "testutil.h"

/* The readers on the tree at path. */
static int read_sysctl(const char *path, struct ks_access_sysctl *sc, struct ks_error *err)
{
	struct ks_root root;
	int r;

	open_root(&root, path);
	r = ks_access_read_sysctl(&root, sc, err);
	ks_root_close(&root);
	return r;
}

static int read_caller(const char *path, pid_t tid, struct ks_caller *c, struct ks_error *err)
{
	struct ks_root root;
	int r;

	open_root(&root, path);
	r = ks_access_read_caller(&root, tid, c, err);
	ks_root_close(&root);
	return r;
}

/* ---- the rule ---- */

struct rule_row {
	int kptr, paranoid;
	bool cap, init_ns;
	bool allowed;
};

static const struct rule_row rule_rows[] = {
	/* kptr_restrict 0: perf_event_paranoid <= 1 opens it to everyone */
	{ 0, -1, false, false, true },
	{ 0, 0, false, false, true },
	{ 0, 1, false, true, true },
	{ 0, 1, true, false, true },
	/* ... else CAP_SYSLOG in the initial user namespace */
	{ 0, 2, false, true, false },
	{ 0, 2, true, true, true },
	{ 0, 2, true, false, false },
	{ 0, 3, false, true, false },	/* Debian's default paranoid level */
	{ 0, 3, true, true, true },
	{ 0, 3, true, false, false },
	{ 0, INT_MAX, true, true, true },	/* no perf events */
	{ 0, INT_MAX, false, true, false },
	/* 1: CAP_SYSLOG whatever the paranoid level */
	{ 1, -1, false, true, false },
	{ 1, 0, false, false, false },
	{ 1, 0, true, true, true },
	{ 1, 3, true, true, true },
	{ 1, 3, true, false, false },
	{ 1, 3, false, true, false },
	/* 2 and above: nobody */
	{ 2, -1, true, true, false },
	{ 2, 0, true, true, false },
	{ 2, 3, true, true, false },
	{ 3, 0, true, true, false },
	{ INT_MAX, -1, true, true, false },
	{ -1, -1, true, true, false },	/* cannot be set; treated as strictest */
};

static void test_rule_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(rule_rows) / sizeof(rule_rows[0]); i++) {
		const struct rule_row *r = &rule_rows[i];
		struct ks_access_sysctl sc = { r->kptr, r->paranoid };
		struct ks_caller c = { .cap_syslog = r->cap, .init_userns = r->init_ns };

		if (ks_access_rule(r->kptr, r->paranoid, r->cap, r->init_ns) != r->allowed)
			fail_msg("row %zu: kptr=%d paranoid=%d cap=%d init_ns=%d: expected %d", i,
				 r->kptr, r->paranoid, r->cap, r->init_ns, r->allowed);
		assert_int_equal(ks_access_allowed(&sc, &c), r->allowed);
	}
}

/* ---- sysctls ---- */

struct tree {
	char *dir;
	char path[4096];
};

static const char *tpath(struct tree *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static const char *tpath(struct tree *t, const char *fmt, ...)
{
	char rel[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(rel, sizeof(rel), fmt, ap);
	va_end(ap);
	snprintf(t->path, sizeof(t->path), "%s/%s", t->dir, rel);
	return t->path;
}

static int tree_setup(void **state)
{
	struct tree *t = calloc(1, sizeof(*t));

	if (!t || !(t->dir = make_tmpdir()))
		return -1;
	*state = t;
	return 0;
}

static int tree_teardown(void **state)
{
	struct tree *t = *state;

	rm_rf(t->dir);
	free(t->dir);
	free(t);
	return 0;
}

static void test_sysctl_values(void **state)
{
	struct tree *t = *state;
	struct ks_access_sysctl sc;
	struct ks_error err = { 0 };

	assert_int_equal(write_file(tpath(t, "proc/sys/kernel/kptr_restrict"), "1\n"), 0);
	assert_int_equal(write_file(tpath(t, "proc/sys/kernel/perf_event_paranoid"), "-1\n"), 0);
	assert_int_equal(read_sysctl(t->dir, &sc, &err), 0);
	assert_int_equal(sc.kptr_restrict, 1);
	assert_int_equal(sc.perf_event_paranoid, -1);

	/* No perf events in the kernel: the perf clause never applies. */
	unlink(tpath(t, "proc/sys/kernel/perf_event_paranoid"));
	assert_int_equal(read_sysctl(t->dir, &sc, &err), 0);
	assert_int_equal(sc.perf_event_paranoid, INT_MAX);

	assert_int_equal(write_file(tpath(t, "proc/sys/kernel/perf_event_paranoid"), "two\n"), 0);
	assert_int_equal(read_sysctl(t->dir, &sc, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "perf_event_paranoid"));

	assert_int_equal(write_file(tpath(t, "proc/sys/kernel/perf_event_paranoid"), "2"), 0);
	assert_int_equal(write_file(tpath(t, "proc/sys/kernel/kptr_restrict"), "%s", ""), 0);
	assert_int_equal(read_sysctl(t->dir, &sc, &err), -EINVAL);

	/* Without kptr_restrict we cannot know: an error, never a default. */
	unlink(tpath(t, "proc/sys/kernel/kptr_restrict"));
	assert_int_equal(read_sysctl(t->dir, &sc, &err), -ENOENT);
	assert_non_null(strstr(err.msg, "kptr_restrict"));
	/* No proc/sys/kernel under the root at all. */
	assert_int_equal(read_sysctl(tpath(t, "proc/sys/kernel"), &sc, &err), -ENOENT);
	assert_non_null(strstr(err.msg, "proc/sys/kernel/proc/sys/kernel: No such file"));
}

static void test_sysctl_fixtures(void **state)
{
	struct ks_access_sysctl sc;
	struct ks_error err = { 0 };

	(void)state;
	assert_int_equal(read_sysctl(fixture("debian-6.1/state-a"), &sc, &err), 0);
	assert_int_equal(sc.kptr_restrict, 0);
	assert_int_equal(sc.perf_event_paranoid, 3);
	assert_int_equal(read_sysctl(fixture("debian-6.1/extra-root-kptr_restrict2"),
					       &sc, &err), 0);
	assert_int_equal(sc.kptr_restrict, 2);
}

/* ---- callers ---- */

#define STAT_FMT "%d (%s) S 1 %d %d 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 %llu 1000 100\n"

/* A fake /proc/<tid>. userns: the target of ns/user, or NULL for none, or
 * "-" for a plain file (readlink fails, as it does for a daemon that may
 * not ptrace the caller). map: uid_map and gid_map contents, NULL for none. */
static void fake_task(struct tree *t, int tid, int tgid, const char *comm,
		      unsigned long long start, const char *capeff, const char *userns,
		      const char *map)
{
	static const char *const files[] = { "stat", "status", "ns/user", "uid_map", "gid_map" };

	/* Replace, never write through: an earlier test may have left FIFOs. */
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		unlink(tpath(t, "proc/%d/%s", tid, files[i]));
	assert_int_equal(write_file(tpath(t, "proc/%d/stat", tid), STAT_FMT, tid, comm, tgid,
				    tgid, start), 0);
	assert_int_equal(write_file(tpath(t, "proc/%d/status", tid),
				    "Name:\t%s\nUmask:\t0022\nState:\tS (sleeping)\n"
				    "Tgid:\t%d\nNgid:\t0\nPid:\t%d\nPPid:\t1\n"
				    "Uid:\t1000\t1000\t1000\t1000\nGid:\t1000\t1000\t1000\t1000\n"
				    "Groups:\t1000 \nCapInh:\t0000000000000000\n"
				    "CapPrm:\t%s\nCapEff:\t%s\nCapBnd:\t000001ffffffffff\n",
				    comm, tgid, tid, capeff, capeff), 0);
	if (userns && !strcmp(userns, "-")) {
		assert_int_equal(write_file(tpath(t, "proc/%d/ns/user", tid), "x"), 0);
	} else if (userns) {
		mkdir(tpath(t, "proc/%d/ns", tid), 0755);
		assert_int_equal(symlink(userns, tpath(t, "proc/%d/ns/user", tid)), 0);
	}
	if (map) {
		assert_int_equal(write_file(tpath(t, "proc/%d/uid_map", tid), "%s", map), 0);
		assert_int_equal(write_file(tpath(t, "proc/%d/gid_map", tid), "%s", map), 0);
	}
}

#define INIT_NS "user:[4026531837]"
#define CHILD_NS "user:[4026532210]"
#define ID_MAP "         0          0 4294967295\n"
#define CHILD_MAP "         0     100000      65536\n"
#define CAP_ALL "000001ffffffffff"
#define CAP_SYSLOG_ONLY "0000000400000000"
#define CAP_ALL_BUT_SYSLOG "000001fbffffffff"

static bool userns_of(struct tree *t, const char *capeff, const char *userns, const char *map)
{
	struct ks_error err = { 0 };
	struct ks_caller c;

	fake_task(t, 4243, 4242, "worker", 777, capeff, userns, map);
	assert_int_equal(read_caller(t->dir, 4243, &c, &err), 0);
	return c.init_userns;
}

static void test_caller_fake(void **state)
{
	struct tree *t = *state;
	struct ks_error err = { 0 };
	struct ks_caller c;

	fake_task(t, 4243, 4242, "worker", 777, CAP_SYSLOG_ONLY, INIT_NS, ID_MAP);
	assert_int_equal(read_caller(t->dir, 4243, &c, &err), 0);
	assert_int_equal(c.tid, 4243);
	assert_int_equal(c.tgid, 4242);
	assert_int_equal(c.uid, 1000);
	assert_true(c.cap_syslog);
	assert_true(c.init_userns);

	fake_task(t, 4243, 4242, "worker", 777, CAP_ALL_BUT_SYSLOG, INIT_NS, ID_MAP);
	assert_int_equal(read_caller(t->dir, 4243, &c, &err), 0);
	assert_false(c.cap_syslog);

	/* CAP_SYSLOG inside a child user namespace is not CAP_SYSLOG. */
	fake_task(t, 4243, 4242, "worker", 777, CAP_ALL, CHILD_NS, ID_MAP);
	assert_int_equal(read_caller(t->dir, 4243, &c, &err), 0);
	assert_true(c.cap_syslog);
	assert_false(c.init_userns);
	assert_false(ks_access_rule(1, 3, c.cap_syslog, c.init_userns));

	/* The link decides even where the maps look like the initial ones
	 * (a child given the full identity map). */
	assert_true(userns_of(t, CAP_ALL, INIT_NS, CHILD_MAP));
	assert_false(userns_of(t, CAP_ALL, "garbage", ID_MAP));

	/* Link unreadable (the daemon may not ptrace the caller): the maps. */
	assert_true(userns_of(t, CAP_ALL, "-", ID_MAP));
	assert_false(userns_of(t, CAP_ALL, "-", CHILD_MAP));
	assert_false(userns_of(t, CAP_ALL, "-", "0 0 4294967295\n1 1 1\n"));
	assert_false(userns_of(t, CAP_ALL, "-", ""));
	assert_false(userns_of(t, CAP_ALL, "-", NULL));	/* unsure: not initial */
	fake_task(t, 4243, 4242, "worker", 777, CAP_ALL, "-", ID_MAP);
	assert_int_equal(write_file(tpath(t, "proc/4243/gid_map"), CHILD_MAP), 0);
	assert_int_equal(read_caller(t->dir, 4243, &c, &err), 0);
	assert_false(c.init_userns);

	/* A kernel without user namespaces has neither link nor maps. */
	assert_true(userns_of(t, CAP_ALL, NULL, NULL));
	assert_true(userns_of(t, CAP_ALL, NULL, ID_MAP));
	assert_false(userns_of(t, CAP_ALL, NULL, CHILD_MAP));

	/* comm may hold spaces and parentheses. */
	fake_task(t, 77, 77, "a) (b c) 1 2", 99, CAP_ALL, INIT_NS, ID_MAP);
	assert_int_equal(read_caller(t->dir, 77, &c, &err), 0);
	assert_int_equal(c.tgid, 77);
}

static void test_caller_errors(void **state)
{
	struct tree *t = *state;
	struct ks_error err = { 0 };
	struct ks_caller c;

	/* Gone, or never visible (pid 0: another pid namespace). */
	assert_int_equal(read_caller(t->dir, 999, &c, &err), -ESRCH);
	assert_int_equal(read_caller(t->dir, 0, &c, &err), -ESRCH);
	assert_int_equal(read_caller(t->dir, -5, &c, &err), -ESRCH);

	/* status without CapEff */
	fake_task(t, 500, 500, "x", 1, CAP_ALL, INIT_NS, ID_MAP);
	assert_int_equal(write_file(tpath(t, "proc/500/status"), "Tgid:\t500\nUid:\t0\t0\t0\t0\n"), 0);
	assert_int_equal(read_caller(t->dir, 500, &c, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "proc/500"));

	/* stat too short to have a start time */
	fake_task(t, 501, 501, "x", 1, CAP_ALL, INIT_NS, ID_MAP);
	assert_int_equal(write_file(tpath(t, "proc/501/stat"), "501 (x) S 1 2 3\n"), 0);
	assert_int_equal(read_caller(t->dir, 501, &c, &err), -EINVAL);
	assert_int_equal(write_file(tpath(t, "proc/501/stat"), "501 x S 1 2 3\n"), 0);
	assert_int_equal(read_caller(t->dir, 501, &c, &err), -EINVAL);

	/* status missing: the task vanished between the two files */
	fake_task(t, 502, 502, "x", 1, CAP_ALL, INIT_NS, ID_MAP);
	unlink(tpath(t, "proc/502/status"));
	assert_int_equal(read_caller(t->dir, 502, &c, &err), -ESRCH);
}

/* A "Groups:" line far longer than any fixed buffer comes before CapEff. */
static void test_caller_long_status(void **state)
{
	struct tree *t = *state;
	struct ks_error err = { 0 };
	struct ks_caller c;
	size_t n = 0, cap = 200000;
	char *groups = malloc(cap);

	assert_non_null(groups);
	for (int g = 0; g < 20000; g++)
		n += (size_t)snprintf(groups + n, cap - n, "%d ", 100000 + g);
	fake_task(t, 600, 600, "x", 1, CAP_ALL, INIT_NS, ID_MAP);
	assert_int_equal(write_file(tpath(t, "proc/600/status"),
				    "Tgid:\t600\nUid:\t0\t0\t0\t0\nGroups:\t%s\nCapEff:\t%s\n",
				    groups, CAP_SYSLOG_ONLY), 0);
	free(groups);
	assert_int_equal(read_caller(t->dir, 600, &c, &err), 0);
	assert_true(c.cap_syslog);
}

/*
 * The start time is read before and after the other files; if the task
 * changed in between, the caller is refused. "stat" and "status" are FIFOs
 * here, served in the order the reader opens them, so each open of "stat"
 * can hand out a different start time. (Serving "status" too keeps the
 * writer in step: its second open of "stat" cannot happen before the reader
 * has closed the first.)
 */
struct fifo_writer {
	struct tree *t;
	char stat_path[4096], status_path[4096];
	unsigned long long starts[2];
};

static void fifo_put(const char *path, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void fifo_put(const char *path, const char *fmt, ...)
{
	FILE *f = fopen(path, "w");
	va_list ap;

	if (!f)
		return;
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fclose(f);
}

static void *fifo_writer_main(void *arg)
{
	struct fifo_writer *w = arg;

	fifo_put(w->stat_path, STAT_FMT, 700, "x", 700, 700, w->starts[0]);
	fifo_put(w->status_path, "Tgid:\t700\nUid:\t0\t0\t0\t0\nCapEff:\t%s\n", CAP_ALL);
	fifo_put(w->stat_path, STAT_FMT, 700, "x", 700, 700, w->starts[1]);
	return NULL;
}

static void start_changes(struct tree *t, unsigned long long a, unsigned long long b,
			  int expect)
{
	struct ks_error err = { 0 };
	struct fifo_writer w = { .t = t, .starts = { a, b } };
	struct ks_caller c;
	pthread_t th;

	fake_task(t, 700, 700, "x", 1, CAP_ALL, INIT_NS, ID_MAP);
	snprintf(w.stat_path, sizeof(w.stat_path), "%s", tpath(t, "proc/700/stat"));
	snprintf(w.status_path, sizeof(w.status_path), "%s", tpath(t, "proc/700/status"));
	unlink(w.stat_path);
	unlink(w.status_path);
	assert_int_equal(mkfifo(w.stat_path, 0600), 0);
	assert_int_equal(mkfifo(w.status_path, 0600), 0);
	assert_int_equal(pthread_create(&th, NULL, fifo_writer_main, &w), 0);
	assert_int_equal(read_caller(t->dir, 700, &c, &err), expect);
	pthread_join(th, NULL);
	if (expect == 0)
		assert_true(c.cap_syslog);
}

static void test_caller_start_time_changes(void **state)
{
	start_changes(*state, 1234, 1234, 0);
	start_changes(*state, 1234, 1235, -ESRCH);
}

/* The real /proc: our own threads. */
static void *other_thread(void *arg)
{
	struct ks_caller *c = arg;
	struct ks_error err = { 0 };

	c->tid = (pid_t)syscall(SYS_gettid);
	if (read_caller("/", c->tid, c, &err) < 0)
		c->tgid = -1;
	return NULL;
}

static void test_caller_real(void **state)
{
	struct ks_error err = { 0 };
	struct ks_caller c, t;
	char ns[64] = "";
	pthread_t th;

	(void)state;
	assert_int_equal(read_caller("/", getpid(), &c, &err), 0);
	assert_int_equal(c.tgid, getpid());
	assert_int_equal(c.uid, getuid());
	if (readlink("/proc/self/ns/user", ns, sizeof(ns) - 1) > 0)
		assert_int_equal(c.init_userns, strcmp(ns, INIT_NS) == 0);

	/* A thread that is not the leader maps to the process. */
	assert_int_equal(pthread_create(&th, NULL, other_thread, &t), 0);
	pthread_join(th, NULL);
	assert_int_not_equal(t.tid, getpid());
	assert_int_equal(t.tgid, getpid());
	assert_int_equal(t.cap_syslog, c.cap_syslog);
}

static void test_no_fd_leaks(void **state)
{
	struct tree *t = *state;
	struct ks_access_sysctl sc;
	struct ks_error err = { 0 };
	struct ks_caller c;
	int before = count_fds();

	fake_task(t, 800, 800, "x", 1, CAP_ALL, INIT_NS, ID_MAP);
	for (int i = 0; i < 50; i++) {
		read_caller(t->dir, 800, &c, &err);
		read_caller(t->dir, 801, &c, &err);
		read_caller("/", getpid(), &c, &err);
		read_sysctl(fixture("debian-6.1/state-a"), &sc, &err);
		read_sysctl(t->dir, &sc, &err);
	}
	assert_int_equal(count_fds(), before);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rule_table),
		cmocka_unit_test_setup_teardown(test_sysctl_values, tree_setup, tree_teardown),
		cmocka_unit_test(test_sysctl_fixtures),
		cmocka_unit_test_setup_teardown(test_caller_fake, tree_setup, tree_teardown),
		cmocka_unit_test_setup_teardown(test_caller_errors, tree_setup, tree_teardown),
		cmocka_unit_test_setup_teardown(test_caller_long_status, tree_setup, tree_teardown),
		cmocka_unit_test_setup_teardown(test_caller_start_time_changes, tree_setup,
						tree_teardown),
		cmocka_unit_test(test_caller_real),
		cmocka_unit_test_setup_teardown(test_no_fd_leaks, tree_setup, tree_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
