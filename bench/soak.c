/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * bench/soak: the daemon's memory over many opens and snapshots, without
 * CUSE. Reports figures; with --check it also fails if memory grew between
 * the middle and the end of the run or fds were left open, and with
 * --check-start if the end is too far above the start (memory, never time).
 *
 * A ks_device over a temporary copy of a fixture tree is driven the way
 * cuse.c drives it: every request of a client (open, each read, each name
 * lookup, release) is one job handed to a pool of worker threads that is
 * run the way libfuse's multi-threaded loop runs its own: a worker that
 * takes a job and leaves no one idle starts another (up to --threads), and
 * one that finds more than --idle workers idle after its job exits (-1:
 * never, as libfuse >= 3.12 does by default). A client's requests
 * therefore land on different threads, as they do in the daemon.
 *
 * Clients come in rounds of 8, 16, 32, 64... at once (--rounds), each a
 * process of its own (distinct tgid) with CAP_SYSLOG: open, read the whole
 * image in chunks of 4-128 KiB (the bytes are copied out of the memfd into
 * a malloc'd buffer, as libfuse does when it cannot splice), a KIOCGVALUE
 * lookup for every -l'th client (which builds the open's name index),
 * release. Every OPENS/SNAPSHOTS opens the tree's proc/kallsyms is rewritten
 * (one line differs, replaced by rename) so that the cache has to build a
 * new image. Opens of a round run at once, so several of them miss the
 * cache together and build an image each: "distinct images" counts the
 * images read (by memfd inode), which is the number of builds.
 *
 * Memory (VmRSS and its parts, mallinfo2(), malloc's arenas) and open fds
 * are printed at the start, after the warm-up (first 10% of the opens),
 * in the middle and at the end, each time between rounds: no client open,
 * only the cache's image held.
 *
 * malloc is set up as ksymsd's main() sets it up (ks_malloc_tune()) unless
 * --no-tune.
 *
 * Usage: soak [-n OPENS] [-s SNAPSHOTS] [-t THREADS] [-i IDLE] [-r 8,16,..]
 *             [-l LOOKUP_EVERY] [-f FIXTURE_DIR] [--check MIB]
 *             [--check-start MIB] [--no-tune]
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <malloc.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ksyms.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "benchutil.h"
#include "tests/common/fdcount.h"

#include "daemon/device.h"
#include "daemon/memtune.h"
#include "engine/root.h"

#ifndef KS_FIXTURES
#define KS_FIXTURES "tests/fixtures"
#endif

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("soak: ", stderr);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

/* ---- the fixture tree and its changes ---- */

static char tree[64];
static char *text_orig;		/* the fixture's kallsyms */
static size_t text_len;
static size_t insert_at;	/* after this line a line of our own goes in */
static char insert_addr[17];
static char lookup_name[128];	/* that line's name: in every version */
static char *text_buf;		/* the rewritten text, preallocated */
static pthread_mutex_t rewrite_lock = PTHREAD_MUTEX_INITIALIZER;

static void run(const char *cmd)
{
	if (system(cmd) != 0)
		die("failed: %s", cmd);
}

static void remove_tree(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tree);
	if (system(cmd) != 0)
		fprintf(stderr, "soak: cannot remove %s\n", tree);
}

static void write_file(const char *rel, const char *text)
{
	char path[256];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", tree, rel);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text) || close(fd) < 0)
		die("%s: %s", path, strerror(errno));
}

/* A copy of fixture in a fresh temporary directory, with sysctls that let a
 * CAP_SYSLOG caller in (the mini tree has none). */
static void make_tree(const char *fixture)
{
	char cmd[8300], path[256];
	struct stat st;
	const char *p, *end;
	FILE *f;

	snprintf(tree, sizeof(tree), "/tmp/ksymsd-soak-XXXXXX");
	if (!mkdtemp(tree))
		die("mkdtemp: %s", strerror(errno));
	atexit(remove_tree);
	snprintf(cmd, sizeof(cmd), "cp -r '%s'/. '%s' && mkdir -p '%s/proc/sys/kernel'",
		 fixture, tree, tree);
	run(cmd);
	write_file("proc/sys/kernel/kptr_restrict", "1\n");
	write_file("proc/sys/kernel/perf_event_paranoid", "2\n");

	snprintf(path, sizeof(path), "%s/proc/kallsyms", tree);
	f = fopen(path, "r");
	if (!f || fstat(fileno(f), &st) < 0)
		die("%s: %s", path, strerror(errno));
	text_len = (size_t)st.st_size;
	/* Mapped, not malloc'd: the figures are the daemon's, not ours. */
	text_orig = mmap(NULL, text_len + 1, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	text_buf = mmap(NULL, text_len + 64, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (text_orig == MAP_FAILED || text_buf == MAP_FAILED ||
	    fread(text_orig, 1, text_len, f) != text_len)
		die("%s: cannot read", path);
	fclose(f);
	text_orig[text_len] = '\0';

	/* The first kernel text line ("ADDR T name", no module): the new line
	 * is an alias of it, so the model stays valid whatever the tree. */
	for (p = text_orig; p < text_orig + text_len; p = end + 1) {
		end = strchr(p, '\n');
		if (!end)
			break;
		if (end - p > 19 && p[16] == ' ' && (p[17] == 'T' || p[17] == 't') &&
		    p[18] == ' ' && !memchr(p, '\t', (size_t)(end - p))) {
			size_t nlen = (size_t)(end - p) - 19;

			memcpy(insert_addr, p, 16);
			if (nlen >= sizeof(lookup_name))
				continue;
			memcpy(lookup_name, p + 19, nlen);
			insert_at = (size_t)(end + 1 - text_orig);
			return;
		}
	}
	die("%s: no kernel text line to alias", path);
}

/* Version v of the text: one line differs from version v - 1. Written to a
 * temporary name and renamed over proc/kallsyms: an open sees one version
 * or the other, whole. */
static void rewrite_kallsyms(unsigned long v)
{
	char tmp[256], dst[256];
	size_t len;
	int fd, n;

	pthread_mutex_lock(&rewrite_lock);
	memcpy(text_buf, text_orig, insert_at);
	n = snprintf(text_buf + insert_at, 64, "%s t ksymsd_soak_%lu\n", insert_addr, v);
	memcpy(text_buf + insert_at + n, text_orig + insert_at, text_len - insert_at);
	len = text_len + (size_t)n;
	snprintf(tmp, sizeof(tmp), "%s/proc/kallsyms.new", tree);
	snprintf(dst, sizeof(dst), "%s/proc/kallsyms", tree);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, text_buf, len) != (ssize_t)len || close(fd) < 0 ||
	    rename(tmp, dst) < 0)
		die("%s: %s", tmp, strerror(errno));
	pthread_mutex_unlock(&rewrite_lock);
}

/* ---- measurements ---- */

struct mem {
	long rss, anon, file, shmem;	/* KiB, /proc/self/status */
	struct mallinfo2 mi;
	int arenas;			/* malloc_info()'s heaps: main + per-thread */
	int fds;
};

static long status_kb(const char *status, const char *key)
{
	const char *p = strstr(status, key);

	return p ? strtol(p + strlen(key), NULL, 10) : -1;
}

static int count_arenas(void)
{
	char *buf = NULL, *p;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	int n = 0;

	if (!f)
		return -1;
	malloc_info(0, f);
	fclose(f);
	for (p = buf; (p = strstr(p, "<heap nr=")); p++)
		n++;
	free(buf);
	return n;
}

static void measure(struct mem *m)
{
	char status[4096];
	int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : read(fd, status, sizeof(status) - 1);

	if (fd >= 0)
		close(fd);
	status[n > 0 ? n : 0] = '\0';
	m->fds = count_fds();
	m->rss = status_kb(status, "VmRSS:");
	m->anon = status_kb(status, "RssAnon:");
	m->file = status_kb(status, "RssFile:");
	m->shmem = status_kb(status, "RssShmem:");
	m->mi = mallinfo2();
	m->arenas = count_arenas();
}

static void print_header(void)
{
	printf("%-8s %6s %5s %4s %5s | %8s %8s %8s %8s | %8s %8s %8s %8s %6s | %4s\n",
	       "point", "opens", "snaps", "thr", "made", "rss_kB", "anon_kB", "file_kB",
	       "shmem_kB", "arena_kB", "hblk_kB", "used_kB", "free_kB", "arenas", "fds");
}

static void print_mem(const char *point, unsigned long opens, unsigned long snaps, int threads,
		      unsigned long made, const struct mem *m)
{
	printf("%-8s %6lu %5lu %4d %5lu | %8ld %8ld %8ld %8ld | %8zu %8zu %8zu %8zu %6d | %4d\n",
	       point, opens, snaps, threads, made, m->rss, m->anon, m->file, m->shmem,
	       m->mi.arena >> 10, m->mi.hblkhd >> 10, m->mi.uordblks >> 10,
	       m->mi.fordblks >> 10, m->arenas, m->fds);
	fflush(stdout);
}

/* ---- the clients ---- */

enum step { S_OPEN, S_READ, S_LOOKUP, S_RELEASE };

struct client {
	struct client *next;	/* in the queue */
	pid_t tgid;
	unsigned long seq;	/* which open of the run */
	enum step step;
	bool lookup;
	struct ks_open *o;
	unsigned reads;
};

static struct ks_device *dev;
static unsigned long n_opens = 10000, n_snaps = 1000, lookup_every = 7;
static size_t page_size;

/* Distinct images seen, by the memfd's inode number. */
static pthread_mutex_t seen_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned long *seen;
static size_t seen_cap, n_seen;

static void saw_image(int fd)
{
	struct stat st;
	unsigned long ino;
	size_t i;

	if (fstat(fd, &st) < 0)
		die("fstat: %s", strerror(errno));
	ino = (unsigned long)st.st_ino;
	pthread_mutex_lock(&seen_lock);
	for (i = ino % seen_cap; seen[i] && seen[i] != ino; i = (i + 1) % seen_cap)
		;
	if (!seen[i]) {
		seen[i] = ino;
		if (++n_seen * 2 > seen_cap)
			die("more images than expected");
	}
	pthread_mutex_unlock(&seen_lock);
}

/* A lookup as an unrestricted CUSE ioctl goes: the kernel's part of each
 * round (fetch the regions the device names, hand them over) played here
 * on our own memory, which is the "caller's". */
static void lookup(struct ks_open *o, const char *name)
{
	struct ksyms_gvalue kv = { .kv_name = name };
	struct ks_ioctl_step st;
	unsigned char in[2048];
	size_t in_len = 0, out_len = 0;
	int ret;

	for (int round = 0; round < 16; round++) {
		ret = ks_device_ioctl(o, KIOCGVALUE, (uintptr_t)&kv, false, in, in_len, out_len,
				      page_size, &st);
		if (ret < 0)
			die("KIOCGVALUE %s: %s", name, strerror(-ret));
		if (ret == KS_IOCTL_DONE) {
			memcpy((void *)(uintptr_t)st.out[0].addr, st.data, st.data_len);
			if (!kv.kv_value)
				die("KIOCGVALUE %s: 0", name);
			return;
		}
		in_len = out_len = 0;
		for (unsigned i = 0; i < st.n_in; i++) {
			memcpy(in + in_len, (const void *)(uintptr_t)st.in[i].addr, st.in[i].len);
			in_len += st.in[i].len;
		}
		for (unsigned i = 0; i < st.n_out; i++)
			out_len += st.out[i].len;
	}
	die("KIOCGVALUE did not finish");
}

/* One request of c; false when c is done. */
static bool client_step(struct client *c)
{
	static const size_t chunks[] = { 4096, 131072, 65536, 16384, 131072, 8192 };
	struct ks_caller caller = { .tid = c->tgid, .tgid = c->tgid, .cap_syslog = true,
				    .init_userns = true };
	struct ks_error err = { 0 };
	unsigned long per = n_snaps ? n_opens / n_snaps : 0;
	struct ks_read r;
	void *buf;
	int ret;

	switch (c->step) {
	case S_OPEN:
		if (per && c->seq % per == 0)
			rewrite_kallsyms(c->seq / per + 1);
		ret = ks_device_open(dev, &caller, &c->o, &err);
		if (ret < 0)
			die("open by %d: %s (%s)", (int)c->tgid, strerror(-ret), err.msg);
		c->step = S_READ;
		return true;
	case S_READ:
		ret = ks_device_read(c->o, chunks[(c->seq + c->reads++) % 6], &r);
		if (ret < 0)
			die("read: %s", strerror(-ret));
		if (!r.len) {
			c->step = c->lookup ? S_LOOKUP : S_RELEASE;
			return true;
		}
		if (c->reads == 1)
			saw_image(r.fd);
		/* libfuse without splice: the bytes go through a buffer. */
		buf = malloc(r.len);
		if (!buf || pread(r.fd, buf, r.len, r.offset) != (ssize_t)r.len)
			die("pread: %s", strerror(errno));
		free(buf);
		ks_device_read_done(&r);
		return true;
	case S_LOOKUP:
		lookup(c->o, lookup_name);
		c->step = S_RELEASE;
		return true;
	case S_RELEASE:
		ks_device_release(c->o);
		c->o = NULL;
		return false;
	}
	return false;
}

/* ---- the worker pool, as libfuse's fuse_loop_mt.c runs it ---- */

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t work_cond = PTHREAD_COND_INITIALIZER;
static pthread_cond_t done_cond = PTHREAD_COND_INITIALIZER;
static struct client *q_head, *q_tail;	/* under lock */
static int numworker, numavail, max_threads = 16, max_idle = 4;
static unsigned long threads_made;
static unsigned in_flight;
static bool stopping;

static void push(struct client *c)
{
	c->next = NULL;
	if (q_tail)
		q_tail->next = c;
	else
		q_head = c;
	q_tail = c;
}

static void start_worker(void);

static void *worker(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&lock);
	for (;;) {
		struct client *c;
		bool more;

		while (!q_head && !stopping)
			pthread_cond_wait(&work_cond, &lock);
		if (stopping)
			break;
		c = q_head;
		q_head = c->next;
		if (!q_head)
			q_tail = NULL;
		numavail--;
		if (numavail == 0 && numworker < max_threads)
			start_worker();
		pthread_mutex_unlock(&lock);

		more = client_step(c);

		pthread_mutex_lock(&lock);
		if (more) {
			push(c);
			pthread_cond_signal(&work_cond);
		} else {
			free(c);
			if (--in_flight == 0)
				pthread_cond_broadcast(&done_cond);
		}
		numavail++;
		if (max_idle >= 0 && numavail > max_idle && numworker > 1)
			break;
	}
	numavail--;
	numworker--;
	pthread_cond_broadcast(&done_cond);
	pthread_mutex_unlock(&lock);
	return NULL;
}

/* Under lock. */
static void start_worker(void)
{
	pthread_attr_t attr;
	pthread_t t;

	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&t, &attr, worker, NULL) != 0)
		die("pthread_create failed");
	pthread_attr_destroy(&attr);
	numworker++;
	numavail++;
	threads_made++;
}

/* ---- main ---- */

static void usage(FILE *out)
{
	fprintf(out,
		"usage: soak [-n OPENS] [-s SNAPSHOTS] [-t THREADS] [-i IDLE] [-r ROUNDS]\n"
		"            [-l LOOKUP_EVERY] [-f FIXTURE_DIR] [--check MIB]\n"
		"            [--check-start MIB] [--no-tune]\n"
		"  -n  opens in all (default 10000)\n"
		"  -s  kallsyms versions, a new one every OPENS/SNAPSHOTS opens (default 1000)\n"
		"  -t  most worker threads (default 16)\n"
		"  -i  idle workers past which one exits; -1 never (default 4)\n"
		"  -r  clients at once, round after round, cycled (default 8,16,32,64)\n"
		"  -l  a name lookup every N clients, 0 none (default 7)\n"
		"  -f  fixture tree to copy (default %s/mini)\n"
		"  --check MIB  fail if the end RSS exceeds the middle one by more than\n"
		"               MIB MiB, or the open fds differ\n"
		"  --check-start MIB  fail if the end RSS exceeds the start one by more\n"
		"               than MIB MiB\n"
		"  --no-tune    leave malloc as it is (the daemon tunes it at startup)\n",
		KS_FIXTURES);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "check", required_argument, NULL, 'C' },
		{ "check-start", required_argument, NULL, 'S' },
		{ "no-tune", no_argument, NULL, 'N' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	char fixture[4096];
	const char *rounds_arg = "8,16,32,64";
	unsigned rounds[32], n_rounds = 0, round_i = 0;
	long check_mib = -1, check_start_mib = -1;
	bool tune = true;
	struct ks_device_opts dopts = { .max_opens = 64, .max_memory = (size_t)512 << 20 };
	struct ks_error err = { 0 };
	struct ks_root root;
	struct mem m_start, m_warm = { 0 }, m_mid = { 0 }, m_end, m_free;
	bool have_warm = false, have_mid = false;
	unsigned long opens = 0;
	double t0;
	int c, status = 0;

	snprintf(fixture, sizeof(fixture), "%s/mini", KS_FIXTURES);
	while ((c = getopt_long(argc, argv, "n:s:t:i:r:l:f:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'n': n_opens = strtoul(optarg, NULL, 10); break;
		case 's': n_snaps = strtoul(optarg, NULL, 10); break;
		case 't': max_threads = atoi(optarg); break;
		case 'i': max_idle = atoi(optarg); break;
		case 'r': rounds_arg = optarg; break;
		case 'l': lookup_every = strtoul(optarg, NULL, 10); break;
		case 'f': snprintf(fixture, sizeof(fixture), "%s", optarg); break;
		case 'C': check_mib = atol(optarg); break;
		case 'S': check_start_mib = atol(optarg); break;
		case 'N': tune = false; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	for (const char *p = rounds_arg; *p && n_rounds < 32; p += strcspn(p, ","), p += !!*p)
		if (atoi(p) > 0)
			rounds[n_rounds++] = (unsigned)atoi(p);
	if (!n_rounds || !n_opens || max_threads < 1 || n_snaps > n_opens)
		die("bad options (see --help)");
	for (unsigned i = 0; i < n_rounds; i++)
		if (rounds[i] > dopts.max_opens)
			die("a round of %u clients exceeds --max-opens %u", rounds[i],
			    dopts.max_opens);

	/* What ksymsd's main() does first. */
	if (tune)
		ks_malloc_tune();
	page_size = (size_t)sysconf(_SC_PAGESIZE);
	seen_cap = 2 * n_opens + 64;
	seen = mmap(NULL, seen_cap * sizeof(*seen), PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (seen == MAP_FAILED)
		die("out of memory");
	make_tree(fixture);
	rewrite_kallsyms(0);
	if (ks_root_open(&root, tree, &err) < 0)
		die("%s", err.msg);
	dopts.root = &root;
	if (ks_device_new(&dopts, &dev, &err) < 0)
		die("%s", err.msg);

	printf("soak: %lu opens, %lu kallsyms versions, rounds of %s clients, <= %d threads "
	       "(idle > %d exit), lookups 1/%lu, fixture %s, malloc %s\n",
	       n_opens, n_snaps, rounds_arg, max_threads, max_idle, lookup_every, fixture,
	       tune ? "tuned as ksymsd" : "untuned");
	print_header();
	measure(&m_start);
	print_mem("start", 0, 0, 0, 0, &m_start);

	t0 = now_ms();
	pthread_mutex_lock(&lock);
	start_worker();
	while (opens < n_opens) {
		unsigned n = rounds[round_i++ % n_rounds];

		if (n > n_opens - opens)
			n = (unsigned)(n_opens - opens);
		in_flight = n;
		for (unsigned i = 0; i < n; i++) {
			struct client *cl = calloc(1, sizeof(*cl));

			if (!cl)
				die("out of memory");
			cl->seq = opens + i;
			cl->tgid = (pid_t)(10000 + i);
			cl->lookup = lookup_every && cl->seq % lookup_every == 0;
			push(cl);
		}
		pthread_cond_broadcast(&work_cond);
		while (in_flight)
			pthread_cond_wait(&done_cond, &lock);
		opens += n;

		/* Between rounds: every open released. */
		if (!have_warm && opens >= n_opens / 10) {
			int thr = numworker;

			pthread_mutex_unlock(&lock);
			measure(&m_warm);
			print_mem("warm", opens, n_seen, thr, threads_made, &m_warm);
			pthread_mutex_lock(&lock);
			have_warm = true;
		}
		if (!have_mid && opens >= n_opens / 2) {
			int thr = numworker;

			pthread_mutex_unlock(&lock);
			measure(&m_mid);
			print_mem("middle", opens, n_seen, thr, threads_made, &m_mid);
			pthread_mutex_lock(&lock);
			have_mid = true;
		}
	}
	{
		int thr = numworker;

		pthread_mutex_unlock(&lock);
		measure(&m_end);
		print_mem("end", opens, n_seen, thr, threads_made, &m_end);
		pthread_mutex_lock(&lock);
	}
	stopping = true;
	pthread_cond_broadcast(&work_cond);
	while (numworker)
		pthread_cond_wait(&done_cond, &lock);
	pthread_mutex_unlock(&lock);
	ks_device_free(dev);
	measure(&m_free);
	print_mem("freed", opens, n_seen, 0, threads_made, &m_free);
	{
		struct rusage ru;

		getrusage(RUSAGE_SELF, &ru);
		printf("soak: %lu distinct images read, %lu worker threads started; %.1f s, "
		       "CPU %.1f s user %.1f s system, %ld minor faults, peak RSS %ld kB\n",
		       n_seen, threads_made, (now_ms() - t0) / 1e3,
		       (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6,
		       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6,
		       ru.ru_minflt, ru.ru_maxrss);
	}

	ks_root_close(&root);

	if (check_mib >= 0) {
		long grew = m_end.rss - m_mid.rss;
		bool ok = grew <= check_mib * 1024 && m_end.fds == m_mid.fds;

		printf("%s: RSS middle -> end %+ld kB (limit %ld MiB), fds %d -> %d\n",
		       ok ? "ok" : "FAIL", grew, check_mib, m_mid.fds, m_end.fds);
		status |= !ok;
	}
	if (check_start_mib >= 0) {
		long grew = m_end.rss - m_start.rss;
		bool ok = grew <= check_start_mib * 1024;

		printf("%s: RSS start -> end %+ld kB (limit %ld MiB)\n", ok ? "ok" : "FAIL", grew,
		       check_start_mib);
		status |= !ok;
	}
	return status;
}
