/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The live table: on a fixture tree every open re-reads (and unchanged
 * inputs share one image); on this machine's kernel (root only) an open of
 * an unchanged kernel is served without a read, a BPF program loaded or
 * closed before an open is in or out of its snapshot, and the background
 * thread rebuilds on its own.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <linux/perf_event.h>
#include <pthread.h>
#include <time.h>

#include "engine/table.h"
#include "kevents_helpers.h"
#include "shared/symindex.h"
#include "testutil.h"

#define BOTH (KS_KEVENTS_UEVENT | KS_KEVENTS_KSYMBOL)

static struct ks_table *table_new(const struct ks_root *root, unsigned int sources)
{
	struct ks_table_opts opts = { .root = root, .sources = sources };
	struct ks_error err = { 0 };
	struct ks_table *t = NULL;

	if (ks_table_new(&opts, &t, &err) < 0)
		fail_msg("ks_table_new: %s", err.msg);
	return t;
}

static struct ks_snapshot *get(struct ks_table *t)
{
	struct ks_error err = { 0 };
	struct ks_snapshot *s = NULL;

	if (ks_table_get(t, &s, &err) < 0)
		fail_msg("ks_table_get: %s", err.msg);
	return s;
}

static struct ks_table_stats stats(struct ks_table *t)
{
	struct ks_table_stats st;

	ks_table_stats(t, &st);
	return st;
}

/* Is name a symbol of the image? */
static bool has_symbol(const struct ks_snapshot *s, const char *name)
{
	struct ks_symindex *idx;
	GElf_Sym sym;
	int r;

	assert_int_equal(ks_symindex_new(ks_snapshot_data(s), ks_snapshot_size(s), &idx, NULL), 0);
	r = ks_symindex_lookup_name(idx, name, &sym);
	ks_symindex_free(idx);
	return r == 0;
}

/* ---- a fixture tree: nothing announces its changes ---- */

static void test_fixture_rereads_every_open(void **state)
{
	struct ks_snapshot *a, *b;
	struct ks_root root;
	struct ks_table *t;

	(void)state;
	open_root(&root, fixture("debian-6.1/state-a"));
	t = table_new(&root, BOTH);
	assert_int_equal(ks_table_sources(t), 0);
	assert_non_null(strstr(ks_table_unavailable(t, KS_KEVENTS_UEVENT), "not the running"));
	a = get(t);
	b = get(t);
	/* Read twice, built once: the second read matched the first's inputs. */
	assert_ptr_equal(a, b);
	assert_int_equal(stats(t).rereads, 2);
	assert_int_equal(stats(t).built, 1);
	assert_int_equal(stats(t).served, 0);
	assert_true(has_symbol(a, "fuse_dev_open") && has_symbol(a, "schedule"));
	ks_snapshot_unref(a);
	ks_snapshot_unref(b);
	ks_table_free(t);
	ks_root_close(&root);
}

static void test_fixture_error_every_open(void **state)
{
	char dir[] = "/tmp/test_table.XXXXXX";
	char path[4200];
	struct ks_error err = { 0 };
	struct ks_snapshot *s = NULL;
	struct ks_root root;
	struct ks_table *t;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/proc/kallsyms", dir);
	assert_int_equal(write_file(path, "0000000000000000 T _stext\n"), 0);
	snprintf(path, sizeof(path), "%s/proc/modules", dir);
	assert_int_equal(write_file(path, "%s", ""), 0);
	open_root(&root, dir);
	t = table_new(&root, 0);
	assert_int_equal(ks_table_get(t, &s, &err), -EPERM);
	assert_null(s);
	assert_non_null(strstr(err.msg, "every address as 0"));
	/* A failure is not remembered for later opens: they try again. */
	assert_int_equal(ks_table_get(t, &s, &err), -EPERM);
	assert_int_equal(stats(t).rereads, 2);
	ks_table_free(t);
	ks_root_close(&root);
	rm_rf(dir);
}

struct getter {
	struct ks_table *t;
	struct ks_snapshot *snap;
	int r;
};

static void *getter(void *arg)
{
	struct getter *g = arg;

	g->r = ks_table_get(g->t, &g->snap, NULL);
	return NULL;
}

static void test_fixture_concurrent_opens_share(void **state)
{
	struct getter g[8];
	pthread_t th[8];
	struct ks_root root;
	struct ks_table *t;

	(void)state;
	open_root(&root, fixture("debian-6.12/state-a"));
	t = table_new(&root, 0);
	for (int i = 0; i < 8; i++) {
		g[i] = (struct getter){ .t = t };
		assert_int_equal(pthread_create(&th[i], NULL, getter, &g[i]), 0);
	}
	for (int i = 0; i < 8; i++)
		assert_int_equal(pthread_join(th[i], NULL), 0);
	for (int i = 0; i < 8; i++) {
		assert_int_equal(g[i].r, 0);
		assert_ptr_equal(g[i].snap, g[0].snap);
	}
	/* One build; every open waited for a read that began after it. */
	assert_int_equal(stats(t).built, 1);
	assert_true(stats(t).rereads >= 1 && stats(t).rereads <= 8);
	for (int i = 0; i < 8; i++)
		ks_snapshot_unref(g[i].snap);
	ks_table_free(t);
	ks_root_close(&root);
}

/* ---- a tree whose changes are announced (replay) ---- */

/* The kernel and module moda, as tree_new() writes them. */
#define KSYMS_BASE "ffffffff81000000 T _stext\nffffffffc0000000 t moda_fn\t[moda]\n"

struct tree {
	char *dir;
	struct ks_root root;
	struct ks_table *t;
};

static void tree_write(struct tree *tr, const char *rel, const char *text)
{
	char path[4200];

	snprintf(path, sizeof(path), "%s/%s", tr->dir, rel);
	assert_int_equal(write_file(path, "%s", text), 0);
}

/* The kernel and module moda, at rest; a replaying table over it. */
static void tree_new(struct tree *tr)
{
	struct ks_table_opts opts = { .root = &tr->root, .replay = true };
	struct ks_error err = { 0 };

	tr->dir = make_tmpdir();
	tree_write(tr, "proc/kallsyms", KSYMS_BASE);
	tree_write(tr, "proc/modules", "moda 4096 0 - Live 0xffffffffc0000000\n");
	tree_write(tr, "sys/module/moda/sections/.text", "0xffffffffc0000000\n");
	open_root(&tr->root, tr->dir);
	if (ks_table_new(&opts, &tr->t, &err) < 0)
		fail_msg("%s", err.msg);
}

static void tree_free(struct tree *tr)
{
	ks_table_free(tr->t);
	ks_root_close(&tr->root);
	rm_rf(tr->dir);
	free(tr->dir);
}

/* Open, and say whether the snapshot has name and whether it was read. */
static bool open_has(struct tree *tr, const char *name, bool *read)
{
	unsigned long before = stats(tr->t).rereads;
	struct ks_snapshot *s = get(tr->t);
	bool has = has_symbol(s, name);

	*read = stats(tr->t).rereads != before;
	ks_snapshot_unref(s);
	return has;
}

/* Announce the uevent datagram in a fixture file. */
static void announce_uevent(struct ks_table *t, const char *rel)
{
	unsigned char buf[KS_UEVENT_MAX];
	struct ks_uevent ue;
	struct ks_kevent ev = { .cpu = -1 };
	FILE *f = fopen(fixture(rel), "rb");
	size_t len;

	assert_non_null(f);
	len = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	assert_int_equal(ks_uevent_parse(buf, len, &ue, NULL), 1);
	ev.kind = ue.kind == KS_UEVENT_MODULE_ADD ? KS_KEVENT_MODULE_ADD : KS_KEVENT_MODULE_REMOVE;
	ev.module.name = ue.module;
	ev.module.seqnum = ue.seqnum;
	ks_table_announce(t, &ev);
}

static void test_replay_module_announced(void **state)
{
	struct tree tr;
	bool read;

	(void)state;
	tree_new(&tr);
	assert_true(open_has(&tr, "moda_fn", &read) && read);
	assert_true(open_has(&tr, "moda_fn", &read) && !read);
	/* dummy loads, unannounced yet: the table holds (nothing is read). */
	tree_write(&tr, "proc/kallsyms", KSYMS_BASE
					 "ffffffffc0010000 t dummy_fn\t[dummy]\n");
	tree_write(&tr, "proc/modules", "dummy 4096 0 - Live 0xffffffffc0010000\n"
					"moda 4096 0 - Live 0xffffffffc0000000\n");
	tree_write(&tr, "sys/module/dummy/sections/.text", "0xffffffffc0010000\n");
	assert_false(open_has(&tr, "dummy_fn", &read));
	assert_false(read);
	/* Announced: the next open has it, and the one after is served. */
	announce_uevent(tr.t, "kevents/uevent/constructed-module-add-dummy.bin");
	assert_true(open_has(&tr, "dummy_fn", &read) && read);
	assert_true(open_has(&tr, "dummy_fn", &read) && !read);
	/* Unloading: the announcement comes while it is still listed. That
	 * read is right for its moment but not at rest: opens read again
	 * until it is gone. */
	tree_write(&tr, "proc/modules", "dummy 4096 0 - Unloading 0xffffffffc0010000\n"
					"moda 4096 0 - Live 0xffffffffc0000000\n");
	announce_uevent(tr.t, "kevents/uevent/constructed-module-remove-dummy.bin");
	open_has(&tr, "dummy_fn", &read);
	assert_true(read);
	open_has(&tr, "dummy_fn", &read);
	assert_true(read);
	tree_write(&tr, "proc/kallsyms", KSYMS_BASE);
	tree_write(&tr, "proc/modules", "moda 4096 0 - Live 0xffffffffc0000000\n");
	assert_false(open_has(&tr, "dummy_fn", &read));
	assert_true(read);
	assert_false(open_has(&tr, "dummy_fn", &read));
	assert_false(read);
	tree_free(&tr);
}

/* Announced after init, with the init symbols still listed: read at every
 * open until they leave (which the kernel does not announce). */
static void test_replay_init_symbols(void **state)
{
	struct tree tr;
	bool read;

	(void)state;
	tree_new(&tr);
	open_has(&tr, "moda_fn", &read);
	tree_write(&tr, "proc/kallsyms", KSYMS_BASE
					 "ffffffffc0010000 t dummy_fn\t[dummy]\n"
					 "ffffffffc0100000 t dummy_init\t[dummy]\n");
	tree_write(&tr, "proc/modules", "dummy 4096 0 - Live 0xffffffffc0010000\n"
					"moda 4096 0 - Live 0xffffffffc0000000\n");
	tree_write(&tr, "sys/module/dummy/sections/.text", "0xffffffffc0010000\n");
	tree_write(&tr, "sys/module/dummy/sections/.init.text", "0xffffffffc0100000\n");
	announce_uevent(tr.t, "kevents/uevent/constructed-module-add-dummy.bin");
	assert_true(open_has(&tr, "dummy_init", &read) && read);
	assert_true(open_has(&tr, "dummy_init", &read) && read);
	tree_write(&tr, "proc/kallsyms", KSYMS_BASE
					 "ffffffffc0010000 t dummy_fn\t[dummy]\n");
	assert_false(open_has(&tr, "dummy_init", &read));
	assert_true(read);
	assert_true(open_has(&tr, "dummy_fn", &read) && !read);
	tree_free(&tr);
}

/* The first n records of the captured ksymbol stream, announced. */
static void announce_records(struct ks_table *t, size_t n)
{
	static unsigned char buf[65536];
	struct perf_event_header h;
	FILE *f = fopen(fixture("kevents/ksymbol/records.bin"), "rb");
	size_t len, off = 0;

	assert_non_null(f);
	len = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	for (size_t i = 0; i < n; i++) {
		struct ks_kevent ev;

		assert_true(off + sizeof(h) <= len);
		memcpy(&h, buf + off, sizeof(h));
		assert_int_equal(ks_perf_record_parse(buf + off, h.size, 0, false, &ev), 1);
		ks_table_announce(t, &ev);
		off += h.size;
	}
}

static void test_replay_ksymbol_and_lost(void **state)
{
	struct ks_kevent lost = { .kind = KS_KEVENT_LOST, .lost.why = KS_LOST_PERF_RECORD };
	struct tree tr;
	bool read;

	(void)state;
	tree_new(&tr);
	open_has(&tr, "moda_fn", &read);
	/* The program of the stream's first record. */
	tree_write(&tr, "proc/kallsyms", KSYMS_BASE
					 "ffffffffc00219d0 t bpf_prog_037c447e5d155045_k\t[bpf]\n");
	assert_false(open_has(&tr, "bpf_prog_037c447e5d155045_k", &read));
	assert_false(read);
	announce_records(tr.t, 1);
	assert_true(open_has(&tr, "bpf_prog_037c447e5d155045_k", &read));
	assert_true(open_has(&tr, "bpf_prog_037c447e5d155045_k", &read) && !read);
	/* Its removal (the stream's second record). */
	tree_write(&tr, "proc/kallsyms", KSYMS_BASE);
	announce_records(tr.t, 2);
	assert_false(open_has(&tr, "bpf_prog_037c447e5d155045_k", &read));
	/* Something was lost: read again, whatever it was. */
	tree_write(&tr, "proc/modules", "");
	tree_write(&tr, "proc/kallsyms", "ffffffff81000000 T _stext\n");
	assert_true(open_has(&tr, "moda_fn", &read) && !read);
	ks_table_announce(tr.t, &lost);
	assert_false(open_has(&tr, "moda_fn", &read));
	assert_true(read);
	tree_free(&tr);
}

/* ---- timed ksymbol records: applied, not read ---- */

#define PROG_A "bpf_prog_037c447e5d155045_k"
#define PROG_B "bpf_prog_9ff3683733a23ae6_ks"

/* A tree whose sysctls make kallsyms list every BPF program. */
static void tree_new_bpf(struct tree *tr)
{
	tree_new(tr);
	tree_write(tr, "proc/sys/net/core/bpf_jit_enable", "1\n");
	tree_write(tr, "proc/sys/net/core/bpf_jit_kallsyms", "1\n");
	tree_write(tr, "proc/sys/net/core/bpf_jit_harden", "0\n");
	tree_write(tr, "proc/sys/kernel/unprivileged_bpf_disabled", "2\n");
	tree_write(tr, "proc/sys/kernel/osrelease", "6.1.0-28-amd64\n");
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void announce_ksym(struct ks_table *t, bool add, uint64_t addr, const char *name,
			  uint64_t time, int cpu)
{
	struct ks_kevent ev = {
		.kind = add ? KS_KEVENT_KSYM_ADD : KS_KEVENT_KSYM_REMOVE,
		.cpu = cpu,
		.time = time,
		.ksym = { .addr = addr, .len = 19, .type = PERF_RECORD_KSYMBOL_TYPE_BPF,
			  .name = name },
	};

	ks_table_announce(t, &ev);
}

static unsigned long applied(struct tree *tr)
{
	return stats(tr->t).applied;
}

/* A load and a close announced with their times: the table follows them
 * without a read (the tree, never changed, proves it). */
static void test_timed_records_applied(void **state)
{
	struct tree tr;
	uint64_t t0;
	bool read;

	(void)state;
	tree_new_bpf(&tr);
	assert_false(open_has(&tr, PROG_A, &read));
	assert_true(read);
	t0 = now_ns();
	announce_ksym(tr.t, true, 0xffffffffc00219d0, PROG_A, t0 + 1, 0);
	assert_true(open_has(&tr, PROG_A, &read));
	assert_false(read);
	assert_int_equal(applied(&tr), 1);
	assert_true(open_has(&tr, PROG_A, &read) && !read);
	assert_int_equal(applied(&tr), 1);
	/* Two at once, from two CPUs, drained out of order: put in order. */
	announce_ksym(tr.t, true, 0xffffffffc0021a08, PROG_B, t0 + 3, 1);
	announce_ksym(tr.t, false, 0xffffffffc00219d0, PROG_A, t0 + 2, 0);
	assert_false(open_has(&tr, PROG_A, &read));
	assert_false(read);
	assert_true(open_has(&tr, PROG_B, &read) && !read);
	assert_int_equal(applied(&tr), 2);
	tree_free(&tr);
}

/* The same program loaded again at its old address on another CPU, its
 * close drained after the new load was applied: the order is lost, and
 * only a read can tell. */
static void test_late_record_reads(void **state)
{
	struct tree tr;
	uint64_t t0;
	bool read;

	(void)state;
	tree_new_bpf(&tr);
	open_has(&tr, PROG_A, &read);
	t0 = now_ns();
	tree_write(&tr, "proc/kallsyms", KSYMS_BASE "ffffffffc00219d0 t " PROG_A "\t[bpf]\n");
	announce_ksym(tr.t, true, 0xffffffffc00219d0, PROG_A, t0 + 1, 0);
	assert_true(open_has(&tr, PROG_A, &read) && !read);
	announce_ksym(tr.t, true, 0xffffffffc00219d0, PROG_A, t0 + 3, 1);
	assert_true(open_has(&tr, PROG_A, &read) && !read);
	/* The close between the two loads, from CPU 0's ring, drained late:
	 * applied now it would remove the program that is there. */
	announce_ksym(tr.t, false, 0xffffffffc00219d0, PROG_A, t0 + 2, 0);
	assert_true(open_has(&tr, PROG_A, &read));
	assert_true(read);
	assert_true(open_has(&tr, PROG_A, &read) && !read);
	/* A load drained late is not skipped either. */
	tree_write(&tr, "proc/kallsyms", KSYMS_BASE "ffffffffc00219d0 t " PROG_A "\t[bpf]\n"
				       "ffffffffc0021a08 t " PROG_B "\t[bpf]\n");
	announce_ksym(tr.t, true, 0xffffffffc0021a08, PROG_B, t0 + 2, 1);
	assert_true(open_has(&tr, PROG_B, &read));
	assert_true(read);
	tree_free(&tr);
}

/* A read still showing a program whose close was announced (the kernel
 * sends the record before it takes the line out): the record is applied
 * to the read again. */
static void test_read_replays_recent_records(void **state)
{
	struct ks_kevent lost = { .kind = KS_KEVENT_LOST, .lost.why = KS_LOST_PERF_RECORD };
	struct tree tr;
	uint64_t t0;
	bool read;

	(void)state;
	tree_new_bpf(&tr);
	t0 = now_ns();
	tree_write(&tr, "proc/kallsyms", KSYMS_BASE "ffffffffc00219d0 t " PROG_A "\t[bpf]\n");
	assert_true(open_has(&tr, PROG_A, &read) && read);
	announce_ksym(tr.t, false, 0xffffffffc00219d0, PROG_A, t0 + 1, 0);
	/* A loss too: it must be read, and the read still lists it. */
	ks_table_announce(tr.t, &lost);
	assert_false(open_has(&tr, PROG_A, &read));
	assert_true(read);
	tree_free(&tr);
}

/* Untimed records (an old kernel): no order, so every one is read. */
static void test_untimed_records_read(void **state)
{
	struct tree tr;
	bool read;

	(void)state;
	tree_new_bpf(&tr);
	open_has(&tr, PROG_A, &read);
	tree_write(&tr, "proc/kallsyms", KSYMS_BASE "ffffffffc00219d0 t " PROG_A "\t[bpf]\n");
	announce_ksym(tr.t, true, 0xffffffffc00219d0, PROG_A, 0, 0);
	assert_true(open_has(&tr, PROG_A, &read) && read);
	assert_int_equal(applied(&tr), 0);
	tree_free(&tr);
}

/* ---- this machine's kernel ---- */

/* A table watching this kernel with both sources, primed; or skip. */
static struct ks_table *live_table_or_skip(struct ks_root *root)
{
	struct ks_error err = { 0 };
	struct ks_snapshot *s = NULL;
	struct ks_table *t;
	const char *preload = getenv("LD_PRELOAD");
	char why[700];
	int r;

	/* valgrind preloads its vgpreload_*.so into the program it runs. */
	if (preload && strstr(preload, "vgpreload")) {
		print_message("skipped: a whole snapshot of this kernel takes minutes under "
			      "valgrind (the replay tests above drive the same code)\n");
		skip();
	}
	r = kev_bpf_symbols(1, "ksymsd_tprobe", why, sizeof(why));
	assert_true(r >= 0);
	if (!r) {
		print_message("skipped: %s\n", why);
		skip();
	}
	open_root(root, "/");
	t = table_new(root, BOTH);
	if (ks_table_sources(t) != BOTH) {
		print_message("skipped: uevents: %s; ksymbol: %s\n",
			      ks_table_unavailable(t, KS_KEVENTS_UEVENT),
			      ks_table_unavailable(t, KS_KEVENTS_KSYMBOL));
		ks_table_free(t);
		ks_root_close(root);
		skip();
	}
	if (ks_table_get(t, &s, &err) < 0) {
		print_message("skipped: %s\n", err.msg);
		ks_table_free(t);
		ks_root_close(root);
		skip();
	}
	ks_snapshot_unref(s);
	return t;
}

static void test_live_unchanged_served_without_read(void **state)
{
	struct ks_table_stats before;
	struct ks_snapshot *a, *b;
	struct ks_root root;
	struct ks_table *t;
	bool served = false;

	(void)state;
	t = live_table_or_skip(&root);
	/* Another process may load a BPF program meanwhile: a few tries. */
	for (int i = 0; i < 5 && !served; i++) {
		a = get(t);
		before = stats(t);
		b = get(t);
		served = a == b && stats(t).served == before.served + 1 &&
			 stats(t).rereads == before.rereads;
		ks_snapshot_unref(a);
		ks_snapshot_unref(b);
	}
	assert_true(served);
	ks_table_free(t);
	ks_root_close(&root);
}

static void test_live_bpf_before_open_is_in_it(void **state)
{
	struct ks_snapshot *s;
	struct ks_root root;
	struct ks_table *t;
	char sym[600];
	uint32_t len;
	int fd;

	(void)state;
	t = live_table_or_skip(&root);
	fd = bpfprog_load(7, "ksymsd_table");
	assert_true(fd >= 0);
	assert_int_equal(bpfprog_info(fd, sym, sizeof(sym), &len), 0);
	s = get(t);
	assert_true(has_symbol(s, sym));
	ks_snapshot_unref(s);
	close(fd);
	s = get(t);
	assert_false(has_symbol(s, sym));
	ks_snapshot_unref(s);
	print_message("%lu re-reads, %lu updates from records\n", stats(t).rereads,
		      stats(t).applied);
	ks_table_free(t);
	ks_root_close(&root);
}

static void test_live_background_rebuild(void **state)
{
	struct ks_error err = { 0 };
	struct ks_table_stats before;
	struct timespec nap = { .tv_nsec = 10 * 1000 * 1000 };
	struct ks_snapshot *s;
	struct ks_root root;
	struct ks_table *t;
	char sym[600];
	uint32_t len;
	int fd, waited;

	(void)state;
	t = live_table_or_skip(&root);
	assert_int_equal(ks_table_start(t, &err), 0);
	before = stats(t);
	fd = bpfprog_load(9, "ksymsd_bg");
	assert_true(fd >= 0);
	assert_int_equal(bpfprog_info(fd, sym, sizeof(sym), &len), 0);
	/* No open: the thread must bring the table up to date on its own,
	 * from the record or by a read (up to 30 s, a liveness bound, not a
	 * speed claim). */
	for (waited = 0; waited < 3000 && stats(t).rereads == before.rereads &&
			 stats(t).applied == before.applied;
	     waited++)
		nanosleep(&nap, NULL);
	assert_true(stats(t).rereads > before.rereads || stats(t).applied > before.applied);
	before = stats(t);
	s = get(t);
	assert_true(has_symbol(s, sym));
	/* Served as the thread left it. */
	assert_int_equal(stats(t).served, before.served + 1);
	ks_snapshot_unref(s);
	close(fd);
	ks_table_free(t);
	ks_root_close(&root);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fixture_rereads_every_open),
		cmocka_unit_test(test_fixture_error_every_open),
		cmocka_unit_test(test_fixture_concurrent_opens_share),
		cmocka_unit_test(test_replay_module_announced),
		cmocka_unit_test(test_replay_init_symbols),
		cmocka_unit_test(test_replay_ksymbol_and_lost),
		cmocka_unit_test(test_timed_records_applied),
		cmocka_unit_test(test_late_record_reads),
		cmocka_unit_test(test_read_replays_recent_records),
		cmocka_unit_test(test_untimed_records_read),
		cmocka_unit_test(test_live_unchanged_served_without_read),
		cmocka_unit_test(test_live_bpf_before_open_is_in_it),
		cmocka_unit_test(test_live_background_rebuild),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
