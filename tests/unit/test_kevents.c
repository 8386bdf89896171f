/* SPDX-License-Identifier: BSD-2-Clause */
/* The live sources on this kernel: BPF programs loaded and closed must come
 * out of a drain, from the CPU they were loaded on, with the address
 * /proc/kallsyms gives them; CPU hotplug and lost privileges are reported. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <grp.h>
#include <poll.h>
#include <sys/wait.h>
#include <time.h>

#include "engine/kevents.h"
#include "kevents_collect.h"
#include "kevents_helpers.h"
#include "testutil.h"

static struct kev_log seen;
static cpu_set_t allowed;	/* our affinity at start, restored after each test */

static int restore_affinity(void **state)
{
	(void)state;
	return sched_setaffinity(0, sizeof(allowed), &allowed);
}

/* Can this machine make a BPF symbol appear? Skip if not. Checked before
 * anything is opened, so a skip leaks nothing. */
static void bpf_symbols_or_skip(void)
{
	char why[700];
	/* A tag and name of our own: test_table probes at the same time under
	 * meson, and two like programs are not "once" in kallsyms. */
	int r = kev_bpf_symbols((int32_t)getpid() * 64 + 61, "ksymsd_probe", why, sizeof(why));

	assert_true(r >= 0);
	if (!r) {
		print_message("skipped: %s\n", why);
		skip();
	}
}

static struct ks_kevents *open_or_skip(void)
{
	struct ks_kevents *kev;
	struct ks_error err = { 0 };

	assert_int_equal(ks_kevents_open(KS_KEVENTS_UEVENT | KS_KEVENTS_KSYMBOL, &kev, &err), 0);
	if (!(ks_kevents_sources(kev) & KS_KEVENTS_KSYMBOL)) {
		print_message("skipped: %s\n", ks_kevents_unavailable(kev, KS_KEVENTS_KSYMBOL));
		ks_kevents_close(kev);
		skip();
	}
	assert_true(ks_kevents_sources(kev) & KS_KEVENTS_UEVENT);
	assert_string_equal(ks_kevents_unavailable(kev, KS_KEVENTS_KSYMBOL), "");
	return kev;
}

static int drain(struct ks_kevents *kev)
{
	struct ks_error err = { 0 };
	int r;

	seen.n = 0;
	seen.stop_at = 0;
	r = ks_kevents_drain(kev, kev_collect, &seen, &err);
	if (r < 0)
		fail_msg("drain: %s", err.msg);
	assert_int_equal(r, seen.n);
	return r;
}

/* How many events of kind name sym the last drain gave, the last in *ev;
 * no losses allowed. */
static int count(enum ks_kevent_kind kind, const char *sym, const struct kev_seen **ev)
{
	int n = 0;

	for (int i = 0; i < seen.n; i++) {
		if (seen.ev[i].kind == KS_KEVENT_LOST)
			fail_msg("lost events (why %d) on CPU %d", seen.ev[i].why, seen.ev[i].cpu);
		if (seen.ev[i].kind == kind && strcmp(seen.ev[i].name, sym) == 0) {
			*ev = &seen.ev[i];
			n++;
		}
	}
	return n;
}

/* Load a program while on cpu, then close it there: one register and one
 * unregister record, from cpu's ring, each in the first drain after. */
static void load_and_close_on(struct ks_kevents *kev, int cpu)
{
	static int32_t imm;
	const struct kev_seen *ev = NULL;
	char sym[600];
	uint32_t len;
	uint64_t addr;
	int fd;

	assert_int_equal(kev_pin(cpu), 0);
	/* A program of its own, so a tag of its own: no other line matches. */
	fd = bpfprog_load((int32_t)getpid() * 64 + imm++, "ksymsd_test");
	assert_true(fd >= 0);
	assert_int_equal(bpfprog_info(fd, sym, sizeof(sym), &len), 0);
	addr = kev_kallsyms_bpf_addr(sym);
	assert_true(addr != 0);

	drain(kev);
	assert_int_equal(count(KS_KEVENT_KSYM_ADD, sym, &ev), 1);
	assert_true(ev->addr == addr);
	assert_int_equal(ev->len, len);
	assert_int_equal(ev->type, 1);	/* PERF_RECORD_KSYMBOL_TYPE_BPF */
	assert_int_equal(ev->cpu, cpu);
	assert_true(ev->time != 0);	/* timed, also after a reopen */
	assert_int_equal(count(KS_KEVENT_KSYM_REMOVE, sym, &ev), 0);

	close(fd);	/* the last reference: unregistered before close() returns */
	drain(kev);
	assert_int_equal(count(KS_KEVENT_KSYM_REMOVE, sym, &ev), 1);
	assert_true(ev->addr == addr);
	assert_int_equal(ev->len, len);
	assert_int_equal(ev->cpu, cpu);
	assert_int_equal(count(KS_KEVENT_KSYM_ADD, sym, &ev), 0);
	assert_int_equal(kev_kallsyms_bpf_addr(sym), 0);

	/* Consumed: not again. */
	drain(kev);
	assert_int_equal(count(KS_KEVENT_KSYM_REMOVE, sym, &ev), 0);
}

static void test_live_bpf_every_cpu(void **state)
{
	struct ks_kevents *kev;
	int cpus = 0;

	(void)state;
	bpf_symbols_or_skip();
	kev = open_or_skip();
	drain(kev);
	for (int cpu = 0; cpu < CPU_SETSIZE; cpu++) {
		if (!CPU_ISSET(cpu, &allowed))
			continue;
		load_and_close_on(kev, cpu);
		cpus++;
	}
	assert_true(cpus >= 1);
	ks_kevents_close(kev);
}

/* The fd a background thread waits on wakes for a record. */
static void test_live_fd_wakes(void **state)
{
	struct ks_kevents *kev;
	struct pollfd p;
	char sym[600];
	uint32_t len;
	int fd, tries = 0;

	(void)state;
	bpf_symbols_or_skip();
	kev = open_or_skip();
	p = (struct pollfd){ .fd = ks_kevents_fd(kev), .events = POLLIN };
	/* Quiet first (a wakeup for what was already drained may linger once). */
	do
		drain(kev);
	while (poll(&p, 1, 0) > 0 && ++tries < 10);
	assert_int_equal(poll(&p, 1, 0), 0);
	fd = bpfprog_load(7, "ksymsd_wake");
	assert_true(fd >= 0);
	assert_int_equal(poll(&p, 1, 5000), 1);
	assert_int_equal(bpfprog_info(fd, sym, sizeof(sym), &len), 0);
	close(fd);
	drain(kev);
	assert_true(seen.n >= 2);
	ks_kevents_close(kev);
}

static uint64_t monotonic_ns(void)
{
	struct timespec ts;

	assert_int_equal(clock_gettime(CLOCK_MONOTONIC, &ts), 0);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Each record carries the CLOCK_MONOTONIC time the kernel wrote it at:
 * between the clock read before the syscall that caused it and after. */
static void test_live_record_time(void **state)
{
	const struct kev_seen *ev = NULL;
	struct ks_kevents *kev;
	uint64_t t0, t1, t2, t3;
	char sym[600];
	uint32_t len;
	int fd;

	(void)state;
	bpf_symbols_or_skip();
	kev = open_or_skip();
	/* Every kernel with ksymbol records (5.1) takes the timed attr. */
	assert_true(ks_kevents_timed(kev));
	drain(kev);
	t0 = monotonic_ns();
	fd = bpfprog_load((int32_t)getpid() * 64 + 62, "ksymsd_time");
	t1 = monotonic_ns();
	assert_true(fd >= 0);
	assert_int_equal(bpfprog_info(fd, sym, sizeof(sym), &len), 0);
	drain(kev);
	assert_int_equal(count(KS_KEVENT_KSYM_ADD, sym, &ev), 1);
	if (ev->time < t0 || ev->time > t1)
		fail_msg("add at %" PRIu64 ", load between %" PRIu64 " and %" PRIu64, ev->time, t0,
			 t1);
	t2 = monotonic_ns();
	close(fd);
	t3 = monotonic_ns();
	drain(kev);
	assert_int_equal(count(KS_KEVENT_KSYM_REMOVE, sym, &ev), 1);
	if (ev->time < t2 || ev->time > t3)
		fail_msg("remove at %" PRIu64 ", close between %" PRIu64 " and %" PRIu64, ev->time,
			 t2, t3);
	ks_kevents_close(kev);
}

/* Loaded on one CPU, closed on another: the records are in different rings,
 * drained ring after ring, and only their times say which came first. Both
 * ways round, so that one of them comes out of the drain remove first. */
static void test_live_cross_cpu_order(void **state)
{
	static int32_t imm;
	const struct kev_seen *add = NULL, *remove = NULL;
	struct ks_kevents *kev;
	char sym[600];
	uint32_t len;
	int fd;

	(void)state;
	if (!CPU_ISSET(0, &allowed) || !CPU_ISSET(1, &allowed)) {
		print_message("skipped: needs CPUs 0 and 1\n");
		skip();
	}
	bpf_symbols_or_skip();
	kev = open_or_skip();
	assert_true(ks_kevents_timed(kev));
	for (int load_cpu = 0; load_cpu <= 1; load_cpu++) {
		int close_cpu = !load_cpu;

		drain(kev);
		assert_int_equal(kev_pin(load_cpu), 0);
		fd = bpfprog_load((int32_t)getpid() * 64 + 32 + imm++, "ksymsd_order");
		assert_true(fd >= 0);
		assert_int_equal(bpfprog_info(fd, sym, sizeof(sym), &len), 0);
		assert_int_equal(kev_pin(close_cpu), 0);
		close(fd);
		drain(kev);
		assert_int_equal(count(KS_KEVENT_KSYM_ADD, sym, &add), 1);
		assert_int_equal(count(KS_KEVENT_KSYM_REMOVE, sym, &remove), 1);
		assert_int_equal(add->cpu, load_cpu);
		assert_int_equal(remove->cpu, close_cpu);
		assert_true(add->addr == remove->addr);
		assert_true(add->time != 0);
		if (!(add->time < remove->time))
			fail_msg("loaded on CPU %d at %" PRIu64 ", closed on CPU %d at %" PRIu64,
				 load_cpu, add->time, close_cpu, remove->time);
	}
	ks_kevents_close(kev);
}

static size_t cpu_online_uevent(char *buf, size_t size, int cpu)
{
	int n = snprintf(buf, size,
			 "online@/devices/system/cpu/cpu%d%cACTION=online%c"
			 "DEVPATH=/devices/system/cpu/cpu%d%cSUBSYSTEM=cpu%cSEQNUM=1%c",
			 cpu, 0, 0, cpu, 0, 0, 0);

	return (size_t)n + 1;
}

/* A CPU coming online: its old event (dead after an offline) is drained and
 * replaced, the gap reported as a loss, and records flow from the new one. */
static void test_live_cpu_online_reopens(void **state)
{
	const struct kev_seen *ev = NULL;
	struct ks_kevents *kev;
	char buf[256], sym[600];
	uint32_t len;
	size_t n;
	int cpu = -1, fds, fd, r;

	(void)state;
	bpf_symbols_or_skip();
	kev = open_or_skip();
	for (int i = 0; i < CPU_SETSIZE; i++)
		if (CPU_ISSET(i, &allowed))
			cpu = i;
	assert_int_equal(kev_pin(cpu), 0);
	drain(kev);
	fds = count_fds();
	fd = bpfprog_load((int32_t)getpid() * 64 + 63, "ksymsd_reopen");
	assert_true(fd >= 0);
	assert_int_equal(bpfprog_info(fd, sym, sizeof(sym), &len), 0);
	n = cpu_online_uevent(buf, sizeof(buf), cpu);
	seen.n = 0;
	/* What the old ring held comes first, then the loss. */
	r = ks_kevents_feed(kev, buf, n, kev_collect, &seen);
	assert_int_equal(r, seen.n);
	assert_true(seen.n >= 2);
	assert_int_equal(seen.ev[seen.n - 1].kind, KS_KEVENT_LOST);
	assert_int_equal(seen.ev[seen.n - 1].why, KS_LOST_CPU);
	assert_int_equal(seen.ev[seen.n - 1].cpu, cpu);
	seen.n--;
	assert_int_equal(count(KS_KEVENT_KSYM_ADD, sym, &ev), 1);
	assert_int_equal(ev->cpu, cpu);
	assert_int_equal(count_fds(), fds + 1);	/* the program; the event replaced */
	assert_true(ks_kevents_sources(kev) & KS_KEVENTS_KSYMBOL);
	close(fd);
	drain(kev);
	assert_int_equal(count(KS_KEVENT_KSYM_REMOVE, sym, &ev), 1);
	assert_int_equal(ev->cpu, cpu);
	load_and_close_on(kev, cpu);
	ks_kevents_close(kev);
}

/* Module uevents come out as events with the datagram's name and SEQNUM. */
static void test_live_feed_module(void **state)
{
	static const char add[] = "add@/module/dummy\0ACTION=add\0DEVPATH=/module/dummy\0"
				  "SUBSYSTEM=module\0SEQNUM=4711";
	struct ks_kevents *kev;
	struct ks_error err = { 0 };
	char line[700], buf[256];
	size_t len;

	(void)state;
	assert_int_equal(ks_kevents_open(KS_KEVENTS_UEVENT, &kev, &err), 0);
	seen.n = 0;
	assert_int_equal(ks_kevents_feed(kev, add, sizeof(add), kev_collect, &seen), 1);
	kev_format(&seen.ev[0], line, sizeof(line));
	assert_string_equal(line, "module_add dummy 4711");
	assert_int_equal(seen.ev[0].cpu, -1);
	/* Without the ksymbol source, a CPU online is nothing to it. */
	len = cpu_online_uevent(buf, sizeof(buf), 0);
	assert_int_equal(ks_kevents_feed(kev, buf, len, kev_collect, &seen), 0);
	ks_kevents_close(kev);
}

static void test_open_nothing(void **state)
{
	struct ks_kevents *kev;
	struct ks_error err = { 0 };

	(void)state;
	assert_int_equal(ks_kevents_open(0, &kev, &err), 0);
	assert_int_equal(ks_kevents_sources(kev), 0);
	assert_string_equal(ks_kevents_unavailable(kev, KS_KEVENTS_UEVENT), "not asked for");
	assert_string_equal(ks_kevents_unavailable(kev, KS_KEVENTS_KSYMBOL), "not asked for");
	assert_true(ks_kevents_fd(kev) >= 0);
	assert_int_equal(drain(kev), 0);
	ks_kevents_close(kev);
	ks_kevents_close(NULL);
}

/* In a child: 0 if check holds, else 1 with a line on stdout; 77 to skip. */
static void child_expect(bool ok, const char *what)
{
	if (!ok) {
		printf("child: %s\n", what);
		fflush(stdout);
	}
	if (!ok)
		_exit(1);
}

static void drop_to_nobody(void)
{
	child_expect(setgroups(0, NULL) == 0 && setresgid(65534, 65534, 65534) == 0 &&
			     setresuid(65534, 65534, 65534) == 0,
		     "cannot become nobody");
}

/* Without privilege the ksymbol source is out, with a reason; events
 * opened before privilege went stay, but a CPU's reopen then fails and the
 * loss is said again at every drain. */
static void test_privilege(void **state)
{
	struct ks_kevents *kev;
	struct ks_error err = { 0 };
	char buf[256];
	size_t len;
	int status, r;
	pid_t pid;

	(void)state;
	if (geteuid() != 0) {
		print_message("skipped: needs root to drop from\n");
		skip();
	}
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		FILE *f = fopen("/proc/sys/kernel/perf_event_paranoid", "r");
		int paranoid = 2;

		if (f) {
			child_expect(fscanf(f, "%d", &paranoid) == 1, "perf_event_paranoid");
			fclose(f);
		}
		if (ks_kevents_open(KS_KEVENTS_UEVENT | KS_KEVENTS_KSYMBOL, &kev, &err) < 0 ||
		    !(ks_kevents_sources(kev) & KS_KEVENTS_KSYMBOL))
			_exit(77);
		drop_to_nobody();
		/* Unprivileged, a CPU-wide event needs perf_event_paranoid <= 0. */
		if (paranoid <= 0)
			_exit(77);
		len = cpu_online_uevent(buf, sizeof(buf), 0);
		seen.n = 0;
		child_expect(ks_kevents_feed(kev, buf, len, kev_collect, &seen) == 1 &&
				     seen.ev[0].why == KS_LOST_CPU,
			     "no loss for the failed reopen");
		child_expect(!(ks_kevents_sources(kev) & KS_KEVENTS_KSYMBOL), "still live");
		child_expect(strstr(ks_kevents_unavailable(kev, KS_KEVENTS_KSYMBOL), "CAP_PERFMON"),
			     "reason does not name CAP_PERFMON");
		seen.n = 0;
		child_expect(ks_kevents_drain(kev, kev_collect, &seen, &err) >= 1 &&
				     seen.ev[0].kind == KS_KEVENT_LOST,
			     "no loss at the next drain");
		ks_kevents_close(kev);

		/* Opened without privilege: uevents only. */
		r = ks_kevents_open(KS_KEVENTS_UEVENT | KS_KEVENTS_KSYMBOL, &kev, &err);
		child_expect(r == 0, "open failed");
		child_expect(ks_kevents_sources(kev) == KS_KEVENTS_UEVENT, "sources");
		child_expect(strstr(ks_kevents_unavailable(kev, KS_KEVENTS_KSYMBOL),
				    "perf_event_open"),
			     "reason");
		ks_kevents_close(kev);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	if (WEXITSTATUS(status) == 77) {
		print_message("skipped: no ksymbol source as root, or perf_event_paranoid <= 0\n");
		skip();
	}
	assert_int_equal(WEXITSTATUS(status), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_open_nothing),
		cmocka_unit_test(test_live_feed_module),
		cmocka_unit_test_teardown(test_live_bpf_every_cpu, restore_affinity),
		cmocka_unit_test_teardown(test_live_fd_wakes, restore_affinity),
		cmocka_unit_test_teardown(test_live_record_time, restore_affinity),
		cmocka_unit_test_teardown(test_live_cross_cpu_order, restore_affinity),
		cmocka_unit_test_teardown(test_live_cpu_online_reopens, restore_affinity),
		cmocka_unit_test(test_privilege),
	};

	if (sched_getaffinity(0, sizeof(allowed), &allowed) < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
