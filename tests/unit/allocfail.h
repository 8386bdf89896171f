/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Allocation failure injection for a test program: replaces malloc, calloc
 * and realloc for the whole process so that, once armed with n, the n-th
 * allocation from then on fails with ENOMEM. The count is atomic, so code
 * that allocates on several threads is covered too. Include it in one test
 * program, and not under ASan (which has its own allocator); under valgrind
 * (which puts its own back) nothing ever fails: check allocfail_failed().
 */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>

extern void *__libc_malloc(size_t), *__libc_calloc(size_t, size_t), *__libc_realloc(void *, size_t);

static long alloc_fail_at, alloc_count, alloc_failed;

static bool alloc_fails(void)
{
	if (!__atomic_load_n(&alloc_fail_at, __ATOMIC_RELAXED) ||
	    __atomic_add_fetch(&alloc_count, 1, __ATOMIC_RELAXED) != alloc_fail_at)
		return false;
	__atomic_add_fetch(&alloc_failed, 1, __ATOMIC_RELAXED);
	errno = ENOMEM;
	return true;
}

void *malloc(size_t n)
{
	return alloc_fails() ? NULL : __libc_malloc(n);
}

void *calloc(size_t n, size_t m)
{
	return alloc_fails() ? NULL : __libc_calloc(n, m);
}

void *realloc(void *p, size_t n)
{
	return alloc_fails() ? NULL : __libc_realloc(p, n);
}

/* Make the n-th allocation from now fail. */
static inline void allocfail_arm(long n)
{
	__atomic_store_n(&alloc_count, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&alloc_failed, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&alloc_fail_at, n, __ATOMIC_RELAXED);
}

/* Stop failing; says whether an allocation failed since allocfail_arm(). */
static inline bool allocfail_disarm(void)
{
	__atomic_store_n(&alloc_fail_at, 0, __ATOMIC_RELAXED);
	return __atomic_load_n(&alloc_failed, __ATOMIC_RELAXED) != 0;
}
