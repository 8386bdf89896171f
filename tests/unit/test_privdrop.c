/* SPDX-License-Identifier: BSD-2-Clause */
/* Dropping the event sources' capabilities: as root, in a forked child (so
 * this program keeps its own), the kernel's view in /proc/self/status must
 * show them gone and everything else as it was. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <linux/capability.h>
#include <linux/perf_event.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon/privdrop.h"
#include "engine/dynsyms.h"
#include "engine/root.h"

#ifndef CAP_PERFMON
#define CAP_PERFMON 38
#endif
#define BIT(cap) (UINT64_C(1) << (cap))
#define DROPPED (BIT(CAP_SYS_ADMIN) | BIT(CAP_PERFMON))

struct caps {
	uint64_t eff, prm, inh, bnd, amb;
};

static int read_caps(struct caps *c)
{
	char line[256];
	int n = 0;
	FILE *f = fopen("/proc/self/status", "re");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long v;

		if (sscanf(line, "CapEff: %llx", &v) == 1)
			c->eff = v, n++;
		else if (sscanf(line, "CapPrm: %llx", &v) == 1)
			c->prm = v, n++;
		else if (sscanf(line, "CapInh: %llx", &v) == 1)
			c->inh = v, n++;
		else if (sscanf(line, "CapBnd: %llx", &v) == 1)
			c->bnd = v, n++;
		else if (sscanf(line, "CapAmb: %llx", &v) == 1)
			c->amb = v, n++;
	}
	fclose(f);
	return n == 5 ? 0 : -1;
}

/* In a child: a failed check prints why and exits 1. */
static void child_expect(bool ok, const char *what)
{
	if (!ok) {
		printf("child: %s\n", what);
		fflush(stdout);
		_exit(1);
	}
}

/* Run fn in a child; its exit status 77 is a skip. */
static void in_child(void (*fn)(void))
{
	int status;
	pid_t pid;

	fflush(stdout);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		fn();
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	if (WEXITSTATUS(status) == 77)
		skip();
	assert_int_equal(WEXITSTATUS(status), 0);
}

static void root_or_skip(void)
{
	struct caps c;

	if (geteuid() != 0) {
		print_message("skipped: needs root to drop capabilities from\n");
		skip();
	}
	assert_int_equal(read_caps(&c), 0);
	if (!(c.eff & BIT(CAP_SYS_ADMIN))) {
		print_message("skipped: root without CAP_SYS_ADMIN (a container?)\n");
		skip();
	}
}

static int perf_paranoid(void)
{
	FILE *f = fopen("/proc/sys/kernel/perf_event_paranoid", "re");
	int v = 2;

	if (f) {
		if (fscanf(f, "%d", &v) != 1)
			v = 2;
		fclose(f);
	}
	return v;
}

/* A CPU-wide dummy event, as kevents.c opens: -errno on failure. */
static int open_cpu_event(void)
{
	struct perf_event_attr attr = {
		.type = PERF_TYPE_SOFTWARE,
		.size = sizeof(attr),
		.config = PERF_COUNT_SW_DUMMY,
		.ksymbol = 1,
	};
	int fd = (int)syscall(SYS_perf_event_open, &attr, -1, 0, -1, PERF_FLAG_FD_CLOEXEC);

	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}

/* In a child: ks_privdrop_event_caps, which must not fail; then the
 * capabilities it left in *after. What it returned. */
static int child_drop_caps(struct caps *after)
{
	struct ks_error err = { 0 };
	int r = ks_privdrop_event_caps(&err);

	if (r < 0)
		printf("child: %s\n", err.msg);
	child_expect(r >= 0, "ks_privdrop_event_caps failed");
	child_expect(read_caps(after) == 0, "cannot read /proc/self/status");
	return r;
}

static void child_drop(void)
{
	struct caps before, after;
	struct ks_error err = { 0 };
	int r;

	child_expect(read_caps(&before) == 0, "cannot read /proc/self/status");
	r = child_drop_caps(&after);

	child_expect(r & KS_PRIVDROP_SYS_ADMIN, "CAP_SYS_ADMIN not reported dropped");
	child_expect(!(r & KS_PRIVDROP_PERFMON) == !((before.eff | before.prm | before.inh) & BIT(CAP_PERFMON)),
		     "CAP_PERFMON reported dropped exactly when held");
	child_expect(!(after.eff & DROPPED), "CapEff still has CAP_SYS_ADMIN or CAP_PERFMON");
	child_expect(!(after.prm & DROPPED), "CapPrm still has CAP_SYS_ADMIN or CAP_PERFMON");
	child_expect(!(after.inh & DROPPED), "CapInh still has CAP_SYS_ADMIN or CAP_PERFMON");
	child_expect(!(after.amb & DROPPED), "CapAmb still has CAP_SYS_ADMIN or CAP_PERFMON");
	/* Nothing else goes: CAP_SYSLOG above all, which every read needs. */
	child_expect(after.eff == (before.eff & ~DROPPED), "CapEff lost more than the two");
	child_expect(after.prm == (before.prm & ~DROPPED), "CapPrm lost more than the two");
	child_expect(!(before.eff & BIT(CAP_SYSLOG)) || (after.eff & BIT(CAP_SYSLOG)),
		     "CAP_SYSLOG went");
	/* Root keeps CAP_SETPCAP here, so the bounding set loses them too. */
	if (before.eff & BIT(CAP_SETPCAP)) {
		child_expect(r & KS_PRIVDROP_BOUNDING, "bounding set drop not reported");
		child_expect(!(r & KS_PRIVDROP_BOUNDING_KEPT), "bounding set reported kept");
		child_expect(!(after.bnd & DROPPED), "CapBnd still has them");
		child_expect(after.bnd == (before.bnd & ~DROPPED), "CapBnd lost more");
	}
	/* The kernel agrees: a CPU-wide event needs CAP_PERFMON (or
	 * CAP_SYS_ADMIN) once perf_event_paranoid is above 0. */
	if (perf_paranoid() > 0)
		child_expect(open_cpu_event() == -EACCES, "a CPU-wide perf event still opens");

	/* Again: nothing left to drop, and that is no error. */
	r = ks_privdrop_event_caps(&err);
	child_expect(r >= 0 && !(r & (KS_PRIVDROP_SYS_ADMIN | KS_PRIVDROP_PERFMON)),
		     "a second drop reported something");
}

static void test_drop(void **state)
{
	(void)state;
	root_or_skip();
	in_child(child_drop);
}

/*
 * The kernel lets only CAP_SYS_ADMIN read net.core.bpf_jit_kallsyms and
 * bpf_jit_harden: after the drop they read as unreadable, and the values of
 * a read made before it (the daemon's first snapshot) stand in for them.
 */
static void child_env_after_drop(void)
{
	struct ks_dyn_env before, after;
	struct ks_error err = { 0 };
	struct ks_root root;

	if (ks_root_open(&root, "/", &err) < 0 || ks_dyn_env_read(&before, &root, &err) < 0) {
		printf("child: %s\n", err.msg);
		_exit(1);
	}
	if (!before.have_bpf) {
		printf("skipped: no BPF JIT sysctls here\n");
		_exit(77);
	}
	child_expect(!before.unreadable, "read as unreadable before the drop");
	child_expect(ks_privdrop_event_caps(&err) >= 0, "ks_privdrop_event_caps failed");
	child_expect(ks_dyn_env_read(&after, &root, &err) == 0, "ks_dyn_env_read failed");
	child_expect(after.unreadable == 0x6, "bpf_jit_kallsyms and bpf_jit_harden not unreadable");
	child_expect(!after.have_bpf && !ks_dyn_env_same(&before, &after),
		     "the unreadable read looks like the full one");
	ks_dyn_env_fill(&after, &before);
	child_expect(after.have_bpf && ks_dyn_env_same(&before, &after),
		     "the earlier values did not stand in");
	ks_root_close(&root);
}

static void test_env_after_drop(void **state)
{
	(void)state;
	root_or_skip();
	in_child(child_env_after_drop);
}

/* Without CAP_SETPCAP (as under ksymsd.service) the bounding set stays and
 * the rest still goes. */
static void child_no_setpcap(void)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2];
	struct caps before, after;
	int r;

	child_expect(syscall(SYS_capget, &hdr, data) == 0, "capget");
	data[0].effective &= ~(__u32)BIT(CAP_SETPCAP);
	data[0].permitted &= ~(__u32)BIT(CAP_SETPCAP);
	child_expect(syscall(SYS_capset, &hdr, data) == 0, "capset without CAP_SETPCAP");
	child_expect(read_caps(&before) == 0, "cannot read /proc/self/status");
	if (!(before.bnd & BIT(CAP_SYS_ADMIN)))
		_exit(77);

	r = child_drop_caps(&after);
	child_expect(r & KS_PRIVDROP_SYS_ADMIN, "CAP_SYS_ADMIN not reported dropped");
	child_expect(!(r & KS_PRIVDROP_BOUNDING), "bounding set reported dropped");
	child_expect(r & KS_PRIVDROP_BOUNDING_KEPT, "bounding set not reported kept");
	child_expect(after.bnd == before.bnd, "the bounding set changed");
	child_expect(!((after.eff | after.prm | after.inh) & DROPPED), "still held");
	child_expect(after.eff == (before.eff & ~DROPPED), "CapEff lost more than the two");
}

static void test_no_setpcap(void **state)
{
	(void)state;
	root_or_skip();
	in_child(child_no_setpcap);
}

static int block_fd = -1;

static void *blocked(void *arg)
{
	char c;

	(void)arg;
	/* Returns when the other end closes; what it read does not matter. */
	if (read(block_fd, &c, 1) < 0)
		return NULL;
	return NULL;
}

/* A second thread would keep what the first gives up: refused, and
 * nothing changes. Needs no privilege. */
static void child_threads(void)
{
	struct ks_error err = { 0 };
	struct caps before, after;
	pthread_t t;
	int p[2], r;

	child_expect(pipe(p) == 0, "pipe");
	block_fd = p[0];
	child_expect(pthread_create(&t, NULL, blocked, NULL) == 0, "pthread_create");
	child_expect(read_caps(&before) == 0, "cannot read /proc/self/status");
	r = ks_privdrop_event_caps(&err);
	child_expect(r == -EBUSY && err.code == EBUSY, "not refused with EBUSY");
	child_expect(strstr(err.msg, "threads") != NULL, "message does not say why");
	child_expect(read_caps(&after) == 0, "cannot read /proc/self/status");
	child_expect(memcmp(&before, &after, sizeof(before)) == 0, "capabilities changed");
	close(p[1]);
	child_expect(pthread_join(t, NULL) == 0, "pthread_join");
	close(p[0]);
}

static void test_threads_refused(void **state)
{
	(void)state;
	in_child(child_threads);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_drop),
		cmocka_unit_test(test_env_after_drop),
		cmocka_unit_test(test_no_setpcap),
		cmocka_unit_test(test_threads_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
