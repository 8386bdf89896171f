/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuseinodes.c: an inode per snapshot, found again while the kernel holds
 * it, freed at its last forget, and a number never given twice (so the
 * kernel's cached pages and attributes of one can never be another's).
 */
#include "daemon/fuseinodes.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "testutil.h"

static struct ks_snapshot *take(const char *rel)
{
	struct ks_root root;
	struct ks_snapshot_opts so = { .root = &root };
	struct ks_error err = { 0 };
	struct ks_snapshot *snap = NULL;

	open_root(&root, fixture(rel));
	assert_int_equal(ks_snapshot_take(&so, &snap, &err), 0);
	ks_root_close(&root);
	return snap;
}

static void test_inode_per_snapshot(void **state)
{
	struct ks_snapshot *a = take("debian-6.1/state-a"), *b = take("debian-6.1/state-b");
	struct timespec ma, mb, m;
	struct ks_inodes t;
	struct ks_snapshot *got;
	uint64_t ia, ib;

	(void)state;
	ks_inodes_init(&t);
	ia = ks_inodes_lookup(&t, a, &ma);
	ib = ks_inodes_lookup(&t, b, &mb);
	assert_true(ia >= 2 && ib >= 2 && ia != ib);
	/* The same snapshot, the same inode and time. */
	assert_int_equal(ks_inodes_lookup(&t, a, &m), ia);
	assert_memory_equal(&m, &ma, sizeof(m));
	got = ks_inodes_get(&t, ib, &m);
	assert_ptr_equal(got, b);
	ks_snapshot_unref(got);
	assert_null(ks_inodes_get(&t, 1, &m));
	assert_null(ks_inodes_get(&t, 999, &m));

	/* Two lookups of a: one forget leaves it, the second frees it; the
	 * inode keeps its snapshot alive meanwhile (our reference goes). */
	ks_snapshot_unref(a);
	ks_inodes_forget(&t, ia, 1);
	got = ks_inodes_get(&t, ia, &m);
	assert_non_null(got);
	assert_true(ks_snapshot_size(got) > 0);
	a = got; /* now ours again */
	ks_inodes_forget(&t, ia, 1);
	assert_null(ks_inodes_get(&t, ia, &m));
	/* Looked up again: a new number, never the old one. */
	assert_int_not_equal(ks_inodes_lookup(&t, a, &m), ia);
	/* A forget of more than the lookups, or of an unknown inode, is
	 * harmless. */
	ks_inodes_forget(&t, ib, 100);
	assert_null(ks_inodes_get(&t, ib, &m));
	ks_inodes_forget(&t, 12345, 1);
	ks_inodes_free(&t); /* frees a's inode, which the kernel never forgot */
	ks_snapshot_unref(a);
	ks_snapshot_unref(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_inode_per_snapshot),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
