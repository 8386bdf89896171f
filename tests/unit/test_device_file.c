/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * device.c as a regular file's transport (fuse.c) drives it: an open bound
 * to a snapshot taken before it, reads at offsets, and the late release of
 * a closed file, which a new open of the same process waits for.
 */
#include "daemon/device.h"

#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "testutil.h"

static struct ks_root root_a, root_unpriv;

static struct ks_caller caller(pid_t tgid)
{
	return (struct ks_caller){
		.tid = tgid, .tgid = tgid, .cap_syslog = true, .init_userns = true
	};
}

static struct ks_device *new_device(const struct ks_root *root, size_t max_memory,
				    unsigned close_wait_ms)
{
	struct ks_device_opts o = { .root = root,
				    .max_memory = max_memory,
				    .close_wait_ms = close_wait_ms };
	struct ks_error err = { 0 };
	struct ks_device *dev = NULL;

	assert_int_equal(ks_device_new(&o, &dev, &err), 0);
	return dev;
}

static struct ks_snapshot *snapshot(struct ks_device *dev)
{
	struct ks_error err = { 0 };
	struct ks_snapshot *snap = NULL;

	struct ks_caller c = caller(1);

	assert_int_equal(ks_device_snapshot(dev, &c, &snap, &err), 0);
	return snap;
}

static int open_at(struct ks_device *dev, pid_t tgid, struct ks_snapshot *snap, struct ks_open **o)
{
	struct ks_caller c = caller(tgid);
	struct ks_error err = { 0 };

	*o = NULL;
	return ks_device_open_snapshot(dev, &c, snap, o, &err);
}

/* The open serves the snapshot it was given, at any offset, and keeps it
 * after the caller dropped its own reference. */
static void test_bound_open_preads(void **state)
{
	struct ks_device *dev = new_device(&root_a, 0, 0);
	struct ks_snapshot *snap = snapshot(dev);
	size_t size = ks_snapshot_size(snap);
	unsigned char *copy = malloc(size), buf[300];
	struct ks_open *o;
	struct ks_read r;

	(void)state;
	assert_non_null(copy);
	memcpy(copy, ks_snapshot_data(snap), size);
	assert_int_equal(open_at(dev, 10, snap, &o), 0);
	ks_snapshot_unref(snap);
	assert_int_equal(ks_open_size(o), size);

	/* Backwards, odd sizes: each range is the image's bytes there. */
	for (off_t off = (off_t)size - 123; off > 0; off -= (off_t)size / 7) {
		assert_int_equal(ks_device_pread(o, sizeof(buf), off, &r), 0);
		assert_int_equal(r.offset, off);
		assert_int_equal(r.len, size - (size_t)off < sizeof(buf) ? size - (size_t)off
									 : sizeof(buf));
		assert_int_equal(pread(r.fd, buf, r.len, r.offset), (ssize_t)r.len);
		assert_memory_equal(buf, copy + off, r.len);
		ks_device_read_done(&r);
	}
	/* The tail is short, the end and past it are EOF, negative invalid. */
	assert_int_equal(ks_device_pread(o, 1000, (off_t)size - 10, &r), 0);
	assert_int_equal(r.len, 10);
	ks_device_read_done(&r);
	assert_int_equal(ks_device_pread(o, 1000, (off_t)size, &r), 0);
	assert_int_equal(r.len, 0);
	assert_null(r.snap);
	assert_int_equal(ks_device_pread(o, 1000, (off_t)size * 3, &r), 0);
	assert_int_equal(r.len, 0);
	assert_int_equal(ks_device_pread(o, 1000, -1, &r), -EINVAL);
	/* preads leave the cursor of sequential reads alone. */
	assert_int_equal(ks_device_read(o, 16, &r), 0);
	assert_int_equal(r.offset, 0);
	assert_int_equal(pread(r.fd, buf, 16, 0), 16);
	assert_memory_equal(buf, ELFMAG, SELFMAG);
	ks_device_read_done(&r);

	ks_device_release(o);
	ks_device_free(dev);
	free(copy);
}

/* Failed bound opens leave the caller's reference alone (ASan and valgrind
 * see a double unref or a leak); the rules are the device's. */
static void test_bound_open_rules(void **state)
{
	struct ks_device *dev = new_device(&root_a, 0, 0);
	struct ks_snapshot *snap = snapshot(dev);
	struct ks_open *o, *p;

	(void)state;
	assert_int_equal(open_at(dev, 20, snap, &o), 0);
	assert_int_equal(open_at(dev, 20, snap, &p), -EBUSY);
	assert_null(p);
	assert_int_equal(open_at(dev, 21, snap, &p), 0);
	ks_device_release(p);
	ks_device_release(o);
	ks_device_free(dev);

	/* Past max_memory: ENOMEM, and the snapshot is still the caller's. */
	dev = new_device(&root_a, ks_snapshot_size(snap) - 1, 0);
	assert_int_equal(open_at(dev, 22, snap, &o), -ENOMEM);
	ks_device_free(dev);

	/* A caller who may not see addresses: EPERM. */
	dev = new_device(&root_unpriv, 0, 0);
	{
		struct ks_caller c = { .tid = 23, .tgid = 23, .init_userns = true };
		struct ks_error err = { 0 };

		assert_int_equal(ks_device_open_snapshot(dev, &c, snap, &o, &err), -EPERM);
	}
	ks_device_free(dev);
	ks_snapshot_unref(snap);
}

struct late_release {
	struct ks_open *o;
	unsigned delay_ms;
};

static void *release_later(void *arg)
{
	struct late_release *lr = arg;

	usleep(lr->delay_ms * 1000);
	ks_device_release(lr->o);
	return NULL;
}

/* close() then open() from one process: the release of the first may come
 * after the second open; once flushed, the open waits for it. */
static void test_flush_waits_for_release(void **state)
{
	struct ks_device *dev = new_device(&root_a, 0, 10000);
	struct ks_snapshot *snap = snapshot(dev);
	struct late_release lr = { .delay_ms = 100 };
	struct ks_open *o, *p;
	pthread_t t;

	(void)state;
	assert_int_equal(open_at(dev, 30, snap, &o), 0);
	ks_device_flush(o);
	lr.o = o;
	assert_int_equal(pthread_create(&t, NULL, release_later, &lr), 0);
	assert_int_equal(open_at(dev, 30, snap, &p), 0);
	pthread_join(t, NULL);
	ks_device_release(p);
	ks_device_free(dev);

	/* Flushed but never released (a dup still open): EBUSY after the wait. */
	dev = new_device(&root_a, 0, 50);
	assert_int_equal(open_at(dev, 31, snap, &o), 0);
	ks_device_flush(o);
	assert_int_equal(open_at(dev, 31, snap, &p), -EBUSY);
	ks_device_release(o);
	assert_int_equal(open_at(dev, 31, snap, &p), 0);
	ks_device_release(p);
	ks_device_free(dev);

	/* Without a wait configured (CUSE: releases are synchronous), a
	 * flushed holder still means EBUSY. */
	dev = new_device(&root_a, 0, 0);
	assert_int_equal(open_at(dev, 32, snap, &o), 0);
	ks_device_flush(o);
	assert_int_equal(open_at(dev, 32, snap, &p), -EBUSY);
	ks_device_release(o);
	ks_device_free(dev);
	ks_snapshot_unref(snap);
}

/* The snapshot taken for a lookup is the current one: opens of an
 * unchanged tree share it, as the inode that fuse.c gives it. */
static void test_snapshot_shared(void **state)
{
	struct ks_device *dev = new_device(&root_a, 0, 0);
	struct ks_snapshot *a = snapshot(dev), *b = snapshot(dev);

	(void)state;
	assert_int_equal(ks_snapshot_size(a), ks_snapshot_size(b));
	assert_memory_equal(ks_snapshot_data(a), ks_snapshot_data(b), ks_snapshot_size(a));
	ks_snapshot_unref(a);
	ks_snapshot_unref(b);
	ks_device_free(dev);

	dev = new_device(&root_unpriv, 0, 0);
	{
		struct ks_error err = { 0 };
		struct ks_caller c = caller(1);

		assert_int_equal(ks_device_snapshot(dev, &c, &a, &err), -EPERM);
	}
	ks_device_free(dev);

	/* A caller the access rule refuses (no CAP_SYSLOG under
	 * perf_event_paranoid=3) gets EPERM from the snapshot itself. */
	dev = new_device(&root_a, 0, 0);
	{
		struct ks_error err = { 0 };
		struct ks_caller c = caller(1);

		c.cap_syslog = false;
		a = NULL;
		assert_int_equal(ks_device_snapshot(dev, &c, &a, &err), -EPERM);
		assert_null(a);
		assert_non_null(strstr(err.msg, "may not see kernel addresses"));
	}
	ks_device_free(dev);
}

static int group_setup(void **state)
{
	(void)state;
	open_root(&root_a, fixture("debian-6.1/state-a"));
	open_root(&root_unpriv, fixture("debian-6.1/state-c-unprivileged"));
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	ks_root_close(&root_a);
	ks_root_close(&root_unpriv);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bound_open_preads),
		cmocka_unit_test(test_bound_open_rules),
		cmocka_unit_test(test_flush_waits_for_release),
		cmocka_unit_test(test_snapshot_shared),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
