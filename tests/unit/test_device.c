/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * device.c with real snapshots of the fixture trees: the one-open-per-process
 * rule, cursor reads, the ioctl retry protocol (with the kernel's part played
 * by emulate_ioctl() below, faults included), limits, access, threads, fds.
 */
#include "daemon/device.h"

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
#include <sys/ksyms.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cmocka.h>

#include "shared/symindex.h"
#include "testutil.h"

#define TEXT_ADDR 0xffffffffb4e00000ull		/* _text in state-a (MANIFEST) */
#define FUSE_DO_IOCTL_ADDR 0xffffffffc0454c60ull	/* a [fuse] module symbol */

static size_t page_size;

/* The image every open of state-a must read back. */
static struct ks_snapshot *ref;

static struct ks_caller caller(pid_t tgid)
{
	return (struct ks_caller){ .tid = tgid + 1, .tgid = tgid, .cap_syslog = true,
				   .init_userns = true };
}

/* The fixture trees the devices read, opened once for the whole program so
 * that the fd counts of the tests see only what the device opens. "." is
 * the fixtures folder itself: a root with no proc/ at all. */
static const char *const root_names[] = {
	"debian-6.1/state-a", "debian-6.1/extra-root-kptr_restrict2",
	"debian-6.1/state-c-unprivileged", ".",
};
static struct ks_root roots[sizeof(root_names) / sizeof(root_names[0])];

static const struct ks_root *root_of(const char *rel)
{
	for (size_t i = 0; i < sizeof(roots) / sizeof(roots[0]); i++)
		if (!strcmp(root_names[i], rel))
			return &roots[i];
	fail_msg("no root %s", rel);
	return NULL;
}

static struct ks_device *new_device(const char *rel, unsigned max_opens, size_t max_memory)
{
	struct ks_device_opts o = { .root = root_of(rel), .max_opens = max_opens,
				    .max_memory = max_memory };
	struct ks_error err = { 0 };
	struct ks_device *dev = NULL;

	assert_int_equal(ks_device_new(&o, &dev, &err), 0);
	return dev;
}

static int try_open(struct ks_device *dev, pid_t tgid, struct ks_open **o)
{
	struct ks_caller c = caller(tgid);
	struct ks_error err = { 0 };

	*o = NULL;
	return ks_device_open(dev, &c, o, &err);
}

static struct ks_open *must_open(struct ks_device *dev, pid_t tgid)
{
	struct ks_open *o;

	assert_int_equal(try_open(dev, tgid, &o), 0);
	return o;
}

/* Read the whole open in chunks from sizes[] (cycled) as the transport
 * would: offsets contiguous, bytes those of the reference image, then EOF
 * (and EOF again). */
static void read_all(struct ks_open *o, const size_t *sizes, size_t n_sizes)
{
	const unsigned char *img = ks_snapshot_data(ref);
	static unsigned char buf[1 << 17];
	size_t got = 0, i = 0;
	struct ks_read r;

	assert_int_equal(ks_open_size(o), ks_snapshot_size(ref));
	for (;;) {
		assert_int_equal(ks_device_read(o, sizes[i++ % n_sizes], &r), 0);
		if (!r.len)
			break;
		assert_int_equal(r.offset, (off_t)got);
		assert_true(got + r.len <= ks_open_size(o));
		for (size_t n, done = 0; done < r.len; done += n) {
			n = r.len - done < sizeof(buf) ? r.len - done : sizeof(buf);
			assert_int_equal(pread(r.fd, buf, n, r.offset + (off_t)done), (ssize_t)n);
			assert_memory_equal(buf, img + got + done, n);
		}
		got += r.len;
		ks_device_read_done(&r);
	}
	assert_int_equal(got, ks_open_size(o));
	assert_int_equal(ks_device_read(o, 4096, &r), 0);
	assert_int_equal(r.len, 0);
	assert_null(r.snap);
}

/*
 * The kernel's part of an unrestricted CUSE ioctl (fs/fuse/ioctl.c): the
 * first round carries nothing; each retry names the regions to fetch and to
 * prepare; the final reply's data is copied across the out regions. A
 * region that is not wholly readable (writable) fails the ioctl with EFAULT,
 * as copy_page_from_iter() (copy_page_to_iter()) makes it do. process_vm_*
 * on ourselves is exactly such a checked copy.
 */
static int emulate_ioctl(struct ks_open *o, unsigned cmd, void *arg, bool compat, int *rounds)
{
	struct ks_iov in[2], out[1];
	unsigned n_in = 0, n_out = 0;
	struct ks_ioctl_step st;
	unsigned char buf[2048];
	int round, ret;

	for (round = 1; round <= 16; round++) {
		size_t in_len = 0, out_len = 0;

		for (unsigned i = 0; i < n_in; i++) {
			struct iovec l = { buf + in_len, in[i].len };
			struct iovec r = { (void *)(uintptr_t)in[i].addr, in[i].len };

			assert_true(in_len + in[i].len <= sizeof(buf));
			if (process_vm_readv(getpid(), &l, 1, &r, 1, 0) != (ssize_t)in[i].len)
				return -EFAULT;
			in_len += in[i].len;
		}
		for (unsigned i = 0; i < n_out; i++)
			out_len += out[i].len;

		ret = ks_device_ioctl(o, cmd, (uintptr_t)arg, compat, buf, in_len, out_len,
				      page_size, &st);
		if (rounds)
			*rounds = round;
		if (ret < 0)
			return ret;
		if (ret == KS_IOCTL_DONE) {
			/* The device never declares more than one out region. */
			struct iovec l = { st.data, st.data_len };
			struct iovec r = { (void *)(uintptr_t)out[0].addr, st.data_len };

			assert_true(st.data_len <= out_len);
			if (st.data_len &&
			    process_vm_writev(getpid(), &l, 1, &r, 1, 0) != (ssize_t)st.data_len)
				return -EFAULT;
			return 0;
		}
		assert_int_equal(ret, KS_IOCTL_RETRY);
		assert_true(st.n_in <= 2 && st.n_out <= 1);
		n_in = st.n_in;
		n_out = st.n_out;
		memcpy(in, st.in, sizeof(in));
		memcpy(out, st.out, sizeof(out));
	}
	fail_msg("ioctl %#x did not finish in 16 rounds", cmd);
	return -1;
}

static int lookup_value(struct ks_open *o, const char *name, uint64_t *value, int *rounds)
{
	struct ksyms_gvalue kv = { .kv_name = name, .kv_value = 0xdeadbeef };
	int ret = emulate_ioctl(o, KIOCGVALUE, &kv, false, rounds);

	assert_ptr_equal(kv.kv_name, name);	/* only kv_value is written */
	*value = kv.kv_value;
	return ret;
}

/* ---- tests ---- */

static void test_one_open_per_process(void **state)
{
	struct ks_device *dev = new_device("debian-6.1/state-a", 0, 0);
	struct ks_open *a, *b, *c;

	(void)state;
	a = must_open(dev, 100);
	assert_int_equal(ks_open_tgid(a), 100);
	assert_int_equal(ks_open_size(a), ks_snapshot_size(ref));
	/* Another thread of process 100 (a different tid). */
	assert_int_equal(try_open(dev, 100, &b), -EBUSY);
	assert_null(b);
	b = must_open(dev, 101);
	ks_device_release(a);
	a = must_open(dev, 100);
	assert_int_equal(try_open(dev, 101, &c), -EBUSY);
	ks_device_release(a);
	ks_device_release(b);
	ks_device_free(dev);
}

static void test_read_chunks(void **state)
{
	static const size_t odd[] = { 1, 7, 4093, 3, 65537, 511, 131072, 2, 100003 };
	static const size_t big[] = { SIZE_MAX };
	struct ks_device *dev = new_device("debian-6.1/state-a", 0, 0);
	struct ks_open *o = must_open(dev, 200);

	(void)state;
	read_all(o, odd, sizeof(odd) / sizeof(odd[0]));
	ks_device_release(o);

	/* A fresh open starts at 0 again; one huge read takes everything. */
	o = must_open(dev, 200);
	read_all(o, big, 1);
	ks_device_release(o);
	ks_device_free(dev);
}

/* A read reply keeps the snapshot alive after the client has closed. */
static void test_read_outlives_release(void **state)
{
	struct ks_device *dev = new_device("debian-6.1/state-a", 0, 0);
	struct ks_open *o = must_open(dev, 300);
	unsigned char head[64];
	struct ks_read r;

	(void)state;
	assert_int_equal(ks_device_read(o, sizeof(head), &r), 0);
	ks_device_release(o);
	ks_device_free(dev);
	assert_int_equal(pread(r.fd, head, sizeof(head), r.offset), (ssize_t)sizeof(head));
	assert_memory_equal(head, ks_snapshot_data(ref), sizeof(head));
	ks_device_read_done(&r);
}

static void test_ioctl_size(void **state)
{
	struct ks_device *dev = new_device("debian-6.1/state-a", 0, 0);
	struct ks_open *o = must_open(dev, 400);
	size_t sz = 0;
	int isz = 0, rounds;
	uint32_t sz32 = 0;
	void *addr = NULL;

	(void)state;
	assert_int_equal(emulate_ioctl(o, KIOCGSIZE_SIZE_T, &sz, false, &rounds), 0);
	assert_int_equal(sz, ks_snapshot_size(ref));
	assert_int_equal(rounds, 2);	/* empty first round, then the out buffer */
	assert_int_equal(emulate_ioctl(o, KIOCGSIZE_INT, &isz, false, NULL), 0);
	assert_int_equal(isz, (int)ks_snapshot_size(ref));
	assert_int_equal(emulate_ioctl(o, KIOCGSIZE, &sz, false, NULL), 0);
	assert_int_equal(emulate_ioctl(o, KIOCGADDR, &addr, false, NULL), -EOPNOTSUPP);
	assert_int_equal(emulate_ioctl(o, _IO('l', 99), NULL, false, NULL), -ENOTTY);
	assert_int_equal(emulate_ioctl(o, _IOR('l', 1, uint32_t), &sz32, false, NULL), -ENOTTY);
	assert_int_equal(emulate_ioctl(o, 0x5401 /* TCGETS */, &sz, false, NULL), -ENOTTY);
	/* Unwritable output: the kernel's EFAULT. */
	assert_int_equal(emulate_ioctl(o, KIOCGSIZE_SIZE_T, NULL, false, NULL), -EFAULT);

	/* 32-bit callers: the sizes (size_t is 4 bytes there), nothing else. */
	assert_int_equal(emulate_ioctl(o, _IOR('l', 1, uint32_t), &sz32, true, NULL), 0);
	assert_int_equal(sz32, ks_snapshot_size(ref));
	assert_int_equal(emulate_ioctl(o, KIOCGSIZE_INT, &isz, true, NULL), 0);
	assert_int_equal(emulate_ioctl(o, _IOR('l', 2, uint32_t), &sz32, true, NULL),
			 -EOPNOTSUPP);
	assert_int_equal(emulate_ioctl(o, KIOCGVALUE, &sz, true, NULL), -ENOTTY);
	assert_int_equal(emulate_ioctl(o, KIOCGSIZE_SIZE_T, &sz, true, NULL), -ENOTTY);

	ks_device_release(o);
	ks_device_free(dev);
}

static void test_ioctl_lookups(void **state)
{
	struct ks_device *dev = new_device("debian-6.1/state-a", 0, 0);
	struct ks_open *o = must_open(dev, 500);
	struct ks_symindex *idx;
	struct ks_error err = { 0 };
	struct ksyms_gsymbol kg = { .kg_name = "fuse_do_ioctl" };
	struct ksyms_ogsymbol og;
	Elf64_Sym osym;
	unsigned long oval = 0;
	GElf_Sym want;
	uint64_t v = 0;

	(void)state;
	assert_int_equal(lookup_value(o, "_text", &v, NULL), 0);
	assert_int_equal(v, TEXT_ADDR);
	assert_int_equal(lookup_value(o, "fuse_do_ioctl", &v, NULL), 0);
	assert_int_equal(v, FUSE_DO_IOCTL_ADDR);
	assert_int_equal(lookup_value(o, "no_such_symbol_anywhere", &v, NULL), -ENOENT);
	assert_int_equal(lookup_value(o, "", &v, NULL), -ENOENT);

	/* The whole symbol: what the index over the image read says. */
	assert_int_equal(ks_symindex_new(ks_snapshot_data(ref), ks_snapshot_size(ref), &idx,
					 &err), 0);
	assert_int_equal(ks_symindex_lookup_name(idx, "fuse_do_ioctl", &want), 0);
	assert_int_equal(emulate_ioctl(o, KIOCGSYMBOL, &kg, false, NULL), 0);
	assert_int_equal(kg.kg_sym.st_name, want.st_name);
	assert_int_equal(kg.kg_sym.st_info, want.st_info);
	assert_int_equal(kg.kg_sym.st_shndx, want.st_shndx);
	assert_int_equal(kg.kg_sym.st_value, FUSE_DO_IOCTL_ADDR);
	assert_int_equal(kg.kg_sym.st_size, want.st_size);

	/* The old forms write through the pointer in the struct. */
	og.kg_name = "_text";
	og.kg_sym = &osym;
	memset(&osym, 0, sizeof(osym));
	assert_int_equal(ks_symindex_lookup_name(idx, "_text", &want), 0);
	assert_int_equal(emulate_ioctl(o, OKIOCGSYMBOL, &og, false, NULL), 0);
	assert_int_equal(osym.st_value, TEXT_ADDR);
	assert_int_equal(osym.st_name, want.st_name);
	og.kg_value = &oval;
	assert_int_equal(emulate_ioctl(o, OKIOCGVALUE, &og, false, NULL), 0);
	assert_int_equal(oval, TEXT_ADDR);
	og.kg_value = NULL;
	assert_int_equal(emulate_ioctl(o, OKIOCGVALUE, &og, false, NULL), -EFAULT);
	og.kg_name = "no_such_symbol_anywhere";
	og.kg_value = &oval;
	assert_int_equal(emulate_ioctl(o, OKIOCGVALUE, &og, false, NULL), -ENOENT);
	ks_symindex_free(idx);

	/* Bad name pointers. */
	kg.kg_name = NULL;
	assert_int_equal(emulate_ioctl(o, KIOCGSYMBOL, &kg, false, NULL), -EFAULT);
	kg.kg_name = (const char *)(uintptr_t)8;
	assert_int_equal(emulate_ioctl(o, KIOCGSYMBOL, &kg, false, NULL), -EFAULT);
	assert_int_equal(emulate_ioctl(o, KIOCGSYMBOL, NULL, false, NULL), -EFAULT);

	ks_device_release(o);
	ks_device_free(dev);
}

/* Names at page edges and at the length limit. */
static void test_ioctl_name_edges(void **state)
{
	struct ks_device *dev = new_device("debian-6.1/state-a", 0, 0);
	struct ks_open *o = must_open(dev, 600);
	char *map, *name, *longname;
	uint64_t v;
	int rounds;

	(void)state;
	/* Three pages: rw, rw, none. */
	map = mmap(NULL, 3 * page_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		   -1, 0);
	assert_true(map != MAP_FAILED);
	assert_int_equal(mprotect(map + 2 * page_size, page_size, PROT_NONE), 0);

	/* Ends right before the unmapped page. */
	name = map + 3 * page_size - page_size - sizeof("_text");
	memcpy(name, "_text", sizeof("_text"));
	assert_int_equal(lookup_value(o, name, &v, &rounds), 0);
	assert_int_equal(v, TEXT_ADDR);
	assert_int_equal(rounds, 3);	/* struct, name, answer */

	/* Crosses from one mapped page into the next. */
	name = map + page_size - 3;
	memcpy(name, "_text", sizeof("_text"));
	assert_int_equal(lookup_value(o, name, &v, &rounds), 0);
	assert_int_equal(v, TEXT_ADDR);
	assert_int_equal(rounds, 4);	/* struct, 3 bytes, up to 512, answer */

	/* Not terminated before the unmapped page: the kernel's EFAULT. */
	name = map + 2 * page_size - 5;
	memset(name, 'x', 5);
	assert_int_equal(lookup_value(o, name, &v, NULL), -EFAULT);
	/* Starts in the unmapped page. */
	assert_int_equal(lookup_value(o, map + 2 * page_size, &v, NULL), -EFAULT);

	/* 511 bytes and a NUL is the longest name; 512 and a NUL is too long;
	 * 512 bytes without a NUL is refused before reading further. */
	longname = map + 16;
	memset(longname, 'a', 600);
	longname[511] = '\0';
	assert_int_equal(lookup_value(o, longname, &v, NULL), -ENOENT);
	longname[511] = 'a';
	longname[512] = '\0';
	assert_int_equal(lookup_value(o, longname, &v, NULL), -EINVAL);
	longname[512] = 'a';
	assert_int_equal(lookup_value(o, longname, &v, NULL), -EINVAL);
	/* ... even when those 512 bytes end right at the unmapped page. */
	longname = map + 2 * page_size - 512;
	memset(longname, 'b', 512);
	assert_int_equal(lookup_value(o, longname, &v, NULL), -EINVAL);

	munmap(map, 3 * page_size);
	ks_device_release(o);
	ks_device_free(dev);
}

static void test_limits(void **state)
{
	size_t sz = ks_snapshot_size(ref);
	struct ks_device *dev = new_device("debian-6.1/state-a", 2, 0);
	struct ks_open *a, *b, *c;
	static const size_t chunk[] = { 65536 };

	(void)state;
	a = must_open(dev, 700);
	b = must_open(dev, 701);
	assert_int_equal(try_open(dev, 702, &c), -ENOMEM);
	assert_null(c);
	/* The others are still served. */
	read_all(a, chunk, 1);
	ks_device_release(a);
	c = must_open(dev, 702);
	ks_device_release(b);
	ks_device_release(c);
	ks_device_free(dev);

	/* Room for one and a half snapshots. */
	dev = new_device("debian-6.1/state-a", 0, sz + sz / 2);
	a = must_open(dev, 710);
	assert_int_equal(try_open(dev, 711, &b), -ENOMEM);
	read_all(a, chunk, 1);
	ks_device_release(a);
	b = must_open(dev, 711);
	ks_device_release(b);
	ks_device_free(dev);

	/* Too small for even one. */
	dev = new_device("debian-6.1/state-a", 0, sz - 1);
	assert_int_equal(try_open(dev, 720, &a), -ENOMEM);
	ks_device_free(dev);
}

static void test_access(void **state)
{
	struct ks_device *dev = new_device("debian-6.1/state-a", 0, 0);
	struct ks_caller c = caller(800);
	struct ks_error err = { 0 };
	struct ks_open *o;

	(void)state;
	/* state-a: kptr_restrict 0, perf_event_paranoid 3: CAP_SYSLOG needed,
	 * in the initial user namespace. */
	c.cap_syslog = false;
	assert_int_equal(ks_device_open(dev, &c, &o, &err), -EPERM);
	assert_non_null(strstr(err.msg, "kptr_restrict=0"));
	c.cap_syslog = true;
	c.init_userns = false;
	assert_int_equal(ks_device_open(dev, &c, &o, &err), -EPERM);
	/* A refusal does not hold the process's slot. */
	c.init_userns = true;
	assert_int_equal(ks_device_open(dev, &c, &o, &err), 0);
	ks_device_release(o);
	ks_device_free(dev);

	/* Captured without privileges: every address zero. */
	dev = new_device("debian-6.1/state-c-unprivileged", 0, 0);
	assert_int_equal(ks_device_open(dev, &c, &o, &err), -EPERM);
	assert_int_equal(ks_device_open(dev, &c, &o, &err), -EPERM);
	ks_device_free(dev);

	/* kptr_restrict 2: nobody, not even with CAP_SYSLOG. */
	dev = new_device("debian-6.1/extra-root-kptr_restrict2", 0, 0);
	assert_int_equal(ks_device_open(dev, &c, &o, &err), -EPERM);
	ks_device_free(dev);

	/* No sysctls at all: refused, as our failure. */
	dev = new_device(".", 0, 0);
	assert_int_equal(ks_device_open(dev, &c, &o, &err), -EIO);
	ks_device_free(dev);
}

/* ---- threads ---- */

/* cmocka's asserts jump back into the main thread's test, so workers count
 * their failures instead and the test asserts on the counts. */
#define CHECK(w, cond)								\
	do {									\
		if (!(cond)) {							\
			fprintf(stderr, "%s:%d: %s\n", __FILE__, __LINE__, #cond); \
			(w)->fail++;						\
			return NULL;						\
		}								\
	} while (0)

#define N_THREADS 4

struct worker {
	struct ks_device *dev;
	pthread_barrier_t *go;
	pid_t tgid;
	int result, fail;
	struct ks_open *o;		/* the race's winner; the shared open */
	size_t got;
	unsigned char *seen;		/* shared open: bytes handed out */
	pthread_mutex_t *seen_lock;
};

/* Read from the cursor to EOF, checking every piece against the image.
 * With several readers of one open, each piece is claimed in seen[]: no
 * byte may be handed out twice. */
static void *drain(struct worker *w, struct ks_open *o, size_t chunk)
{
	const unsigned char *img = ks_snapshot_data(ref);
	unsigned char buf[131072];
	struct ks_read r;
	uint64_t v;

	CHECK(w, lookup_value(o, "fuse_do_ioctl", &v, NULL) == 0 && v == FUSE_DO_IOCTL_ADDR);
	for (;;) {
		CHECK(w, ks_device_read(o, chunk, &r) == 0);
		if (!r.len)
			return NULL;
		CHECK(w, pread(r.fd, buf, r.len, r.offset) == (ssize_t)r.len);
		CHECK(w, memcmp(buf, img + r.offset, r.len) == 0);
		if (w->seen) {
			static const unsigned char zeros[8191];

			CHECK(w, r.len <= sizeof(zeros));
			pthread_mutex_lock(w->seen_lock);
			w->fail += memcmp(w->seen + r.offset, zeros, r.len) != 0;
			memset(w->seen + r.offset, 1, r.len);
			pthread_mutex_unlock(w->seen_lock);
		}
		w->got += r.len;
		ks_device_read_done(&r);
	}
}

/* A process of its own: open, look up, read all, close. */
static void *worker_private(void *arg)
{
	struct worker *w = arg;

	pthread_barrier_wait(w->go);
	CHECK(w, try_open(w->dev, w->tgid, &w->o) == 0);
	drain(w, w->o, 1 + 4096 * (size_t)(w->tgid % 7) + (size_t)w->tgid % 13);
	CHECK(w, w->got == ks_snapshot_size(ref));
	ks_device_release(w->o);
	return NULL;
}

static void *worker_race(void *arg)
{
	struct worker *w = arg;

	pthread_barrier_wait(w->go);
	w->result = try_open(w->dev, w->tgid, &w->o);
	return NULL;
}

static void *worker_shared(void *arg)
{
	struct worker *w = arg;

	pthread_barrier_wait(w->go);
	return drain(w, w->o, 8191);
}

static void run_threads(struct worker *w, void *(*fn)(void *))
{
	pthread_t th[N_THREADS];

	for (int i = 0; i < N_THREADS; i++)
		assert_int_equal(pthread_create(&th[i], NULL, fn, &w[i]), 0);
	for (int i = 0; i < N_THREADS; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(w[i].fail, 0);
	}
}

static void test_threads(void **state)
{
	struct ks_device *dev = new_device("debian-6.1/state-a", 0, 0);
	pthread_mutex_t seen_lock = PTHREAD_MUTEX_INITIALIZER;
	struct worker w[N_THREADS];
	struct ks_open *winner = NULL, *shared;
	pthread_barrier_t go;
	unsigned char *seen;
	size_t total = 0;
	int wins = 0;

	(void)state;
	pthread_barrier_init(&go, NULL, N_THREADS);

	/* Processes opening, looking up, reading and closing at once. */
	for (int i = 0; i < N_THREADS; i++)
		w[i] = (struct worker){ .dev = dev, .go = &go, .tgid = 1000 + i };
	run_threads(w, worker_private);

	/* Threads of one process racing to open: exactly one wins. */
	for (int i = 0; i < N_THREADS; i++)
		w[i] = (struct worker){ .dev = dev, .go = &go, .tgid = 2000 };
	run_threads(w, worker_race);
	for (int i = 0; i < N_THREADS; i++) {
		if (w[i].result == 0) {
			wins++;
			winner = w[i].o;
		} else {
			assert_int_equal(w[i].result, -EBUSY);
		}
	}
	assert_int_equal(wins, 1);
	ks_device_release(winner);

	/* One open read by many threads at once (a client sharing its fd):
	 * disjoint pieces that together are exactly the image, while the
	 * lookups race to build the index. */
	shared = must_open(dev, 3000);
	seen = calloc(1, ks_open_size(shared));
	assert_non_null(seen);
	for (int i = 0; i < N_THREADS; i++)
		w[i] = (struct worker){ .dev = dev, .go = &go, .o = shared, .seen = seen,
					.seen_lock = &seen_lock };
	run_threads(w, worker_shared);
	for (int i = 0; i < N_THREADS; i++)
		total += w[i].got;
	assert_int_equal(total, ks_open_size(shared));
	assert_null(memchr(seen, 0, total));
	free(seen);
	ks_device_release(shared);

	pthread_barrier_destroy(&go);
	ks_device_free(dev);
}

/* Everything above, counted in fds: nothing may stay open. Also frees a
 * device with opens never released, as a dying daemon does. */
static void test_no_fd_leaks(void **state)
{
	static const size_t chunk[] = { 100000 };
	int before = count_fds();
	struct ks_device *dev;
	struct ks_open *o, *p;
	struct ks_read r;
	uint64_t v;

	(void)state;
	dev = new_device("debian-6.1/state-a", 1, 0);
	o = must_open(dev, 1);
	assert_int_equal(try_open(dev, 2, &p), -ENOMEM);
	read_all(o, chunk, 1);
	assert_int_equal(lookup_value(o, "_text", &v, NULL), 0);
	ks_device_release(o);
	o = must_open(dev, 2);
	assert_int_equal(ks_device_read(o, 10, &r), 0);
	ks_device_read_done(&r);
	ks_device_free(dev);	/* o never released */

	dev = new_device("debian-6.1/state-c-unprivileged", 0, 0);
	assert_int_equal(try_open(dev, 3, &o), -EPERM);
	ks_device_free(dev);
	assert_int_equal(count_fds(), before);
}

static int group_setup(void **state)
{
	struct ks_snapshot_opts so = { .root = &roots[0] };
	struct ks_error err = { 0 };

	(void)state;
	for (size_t i = 0; i < sizeof(roots) / sizeof(roots[0]); i++)
		open_root(&roots[i], fixture(root_names[i]));
	page_size = (size_t)sysconf(_SC_PAGESIZE);
	if (ks_snapshot_take(&so, &ref, &err) < 0) {
		fprintf(stderr, "reference snapshot: %s\n", err.msg);
		return -1;
	}
	return memcmp(ks_snapshot_data(ref), ELFMAG, SELFMAG) ? -1 : 0;
}

static int group_teardown(void **state)
{
	(void)state;
	ks_snapshot_unref(ref);
	for (size_t i = 0; i < sizeof(roots) / sizeof(roots[0]); i++)
		ks_root_close(&roots[i]);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_open_per_process),
		cmocka_unit_test(test_read_chunks),
		cmocka_unit_test(test_read_outlives_release),
		cmocka_unit_test(test_ioctl_size),
		cmocka_unit_test(test_ioctl_lookups),
		cmocka_unit_test(test_ioctl_name_edges),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_access),
		cmocka_unit_test(test_threads),
		cmocka_unit_test(test_no_fd_leaks),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
