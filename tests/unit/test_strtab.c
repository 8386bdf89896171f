/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ks_strtab: every offset points at its name and a NUL; tails and repeats
 * are shared; empty names are the leading NUL; symbol names are read by
 * length, never past it; one thread or two give the same bytes; errors, and
 * allocation failures one by one. The models hold names and nothing else.
 */
#include <errno.h>
#include <malloc.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <setjmp.h>
#include <cmocka.h>

#include "engine/strtab.h"

#define EQ(a, b) assert_int_equal((a), (b))

/* A model with only what a string table reads: the names. */
struct names {
	struct ks_model m;
	size_t cap, owner_cap;
	char *pool;		/* the names' bytes, one after the other, no NULs */
	size_t used, pool_cap;
};

/* Append a symbol named by pointer and length, as is. */
static size_t add_raw(struct names *ns, const char *s, size_t len)
{
	struct ks_model *m = &ns->m;

	assert_true(len <= UINT16_MAX);
	if (m->n_syms == ns->cap) {
		ns->cap = ns->cap ? 2 * ns->cap : 64;
		m->syms = realloc(m->syms, ns->cap * sizeof(*m->syms));
		assert_non_null(m->syms);
	}
	m->syms[m->n_syms] = (struct ks_sym){ .name = s, .name_len = (uint16_t)len };
	return m->n_syms++;
}

/* Append a symbol named by a copy of the text into the pool, right after
 * the previous name: not NUL-terminated. */
__attribute__((format(printf, 2, 3)))
static size_t add(struct names *ns, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	int len;

	va_start(ap, fmt);
	len = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	assert_true(len >= 0 && (size_t)len < sizeof(buf));
	if (!ns->pool) {
		ns->pool_cap = 4 << 20;
		ns->pool = malloc(ns->pool_cap);
		assert_non_null(ns->pool);
	}
	assert_true(ns->used + len <= ns->pool_cap);
	memcpy(ns->pool + ns->used, buf, len);
	ns->used += len;
	return add_raw(ns, ns->pool + ns->used - len, len);
}

/* Append an owner (a C string, kept by the caller); its name's number. */
static size_t add_owner(struct names *ns, const char *name)
{
	struct ks_model *m = &ns->m;

	if (m->n_owners == ns->owner_cap) {
		ns->owner_cap = ns->owner_cap ? 2 * ns->owner_cap : 8;
		m->owners = realloc(m->owners, ns->owner_cap * sizeof(*m->owners));
		assert_non_null(m->owners);
	}
	m->owners[m->n_owners++] = (struct ks_owner){ .name = name };
	return m->n_owners - 1;
}

static size_t n_names(const struct names *ns)
{
	return ns->m.n_syms + ns->m.n_owners;
}

/* Name id as the table numbers them: symbols, then owners. */
static const char *name_of(const struct names *ns, size_t id, size_t *len)
{
	const struct ks_model *m = &ns->m;

	if (id < m->n_syms) {
		*len = m->syms[id].name_len;
		return m->syms[id].name;
	}
	*len = strlen(m->owners[id - m->n_syms].name);
	return m->owners[id - m->n_syms].name;
}

static void names_release(struct names *ns)
{
	free(ns->m.syms);
	free(ns->m.owners);
	free(ns->pool);
	memset(ns, 0, sizeof(*ns));
}

static struct ks_strtab *build(struct names *ns, unsigned int threads)
{
	struct ks_strtab_opts opts = { .threads = threads };
	struct ks_error err = { 0 };
	struct ks_strtab *st = NULL;
	int ret = ks_strtab_new(&st, &ns->m, &opts, &err);

	if (ret)
		fail_msg("ks_strtab_new: %d %s", ret, err.msg);
	assert_non_null(st);
	return st;
}

/* The table's bytes, its pieces put together (malloc'd). */
static char *table(const struct ks_strtab *st, size_t *size)
{
	char *buf = malloc(ks_strtab_size(st) + 1);
	const void *p;
	size_t len, k;

	assert_non_null(buf);
	*size = 0;
	for (k = 0; (p = ks_strtab_piece(st, k, &len)); k++) {
		assert_true(*size + len <= ks_strtab_size(st));
		memcpy(buf + *size, p, len);
		*size += len;
	}
	assert_true(k >= 1);
	EQ(*size, ks_strtab_size(st));
	assert_null(ks_strtab_piece(st, k + 1, &len));
	return buf;
}

/* Every offset: its name's bytes, then a NUL; empty names at 0. The table
 * starts and ends with a NUL. */
static void check_table(const struct ks_strtab *st, const struct names *ns)
{
	const uint32_t *off = ks_strtab_offsets(st);
	size_t size;
	char *buf = table(st, &size);

	assert_true(size >= 1);
	EQ(buf[0], '\0');
	EQ(buf[size - 1], '\0');
	for (size_t i = 0; i < n_names(ns); i++) {
		size_t len;
		const char *s = name_of(ns, i, &len);

		if (!len) {
			EQ(off[i], 0);
			continue;
		}
		assert_true(off[i] >= 1 && off[i] + len < size);
		if (memcmp(buf + off[i], s, len) || buf[off[i] + len])
			fail_msg("name %zu: \"%.*s\" at %u is \"%s\"", i, (int)len, s, off[i],
				 buf + off[i]);
	}
	free(buf);
}

/* Nothing at all, and only empty names: the table is one NUL. */
static void test_empty(void **state)
{
	struct names ns = { 0 };
	struct ks_strtab *st;
	const void *p;
	size_t len;

	(void)state;
	st = build(&ns, 0);
	EQ(ks_strtab_size(st), 1);
	p = ks_strtab_piece(st, 0, &len);
	assert_non_null(p);
	EQ(len, 1);
	EQ(*(const char *)p, '\0');
	check_table(st, &ns);
	ks_strtab_free(st);

	add_raw(&ns, NULL, 0);
	add_raw(&ns, "not read", 0);
	add_raw(&ns, NULL, 0);
	add_owner(&ns, "");
	for (unsigned int threads = 0; threads <= 2; threads++) {
		st = build(&ns, threads);
		EQ(ks_strtab_size(st), 1);
		check_table(st, &ns);
		ks_strtab_free(st);
	}
	names_release(&ns);
	ks_strtab_free(NULL);
}

/* A tail of another name points into it; a repeat is stored once; owner
 * names come after the symbols' and share with them. */
static void test_sharing(void **state)
{
	struct names ns = { 0 };
	struct ks_strtab *st;
	const uint32_t *off;
	size_t pfx, full, tail, again, jiffies, jiffies64, owner_j64, vmlinux;

	(void)state;
	full = add(&ns, "do_one_initcall");
	pfx = add(&ns, "__pfx_do_one_initcall");
	tail = add(&ns, "initcall");		/* STR_KEY bytes long */
	add(&ns, "%s", "");
	jiffies = add(&ns, "jiffies");
	again = add(&ns, "do_one_initcall");
	jiffies64 = add(&ns, "jiffies_64");	/* "jiffies" is not its tail */
	add(&ns, "fuse_dev_poll");
	vmlinux = ns.m.n_syms + add_owner(&ns, "vmlinux");
	owner_j64 = ns.m.n_syms + add_owner(&ns, "jiffies_64");	/* a symbol's name too */
	for (unsigned int threads = 0; threads <= 2; threads++) {
		st = build(&ns, threads);
		off = ks_strtab_offsets(st);
		check_table(st, &ns);
		EQ(off[full], off[pfx] + 6);
		EQ(off[tail], off[pfx] + 13);
		EQ(off[again], off[full]);
		EQ(off[owner_j64], off[jiffies64]);
		assert_int_not_equal(off[jiffies], off[jiffies64]);
		assert_int_not_equal(off[vmlinux], 0);
		EQ(ks_strtab_size(st), 1 + sizeof("__pfx_do_one_initcall") + sizeof("jiffies") +
		   sizeof("jiffies_64") + sizeof("fuse_dev_poll") + sizeof("vmlinux"));
		ks_strtab_free(st);
	}
	names_release(&ns);
}

/* Names are slices of one buffer, read by their length only. */
static void test_unterminated(void **state)
{
	static const char text[] = "__pfx_fuse_dev_pollXX";
	struct names ns = { 0 };
	struct ks_strtab *st;
	const uint32_t *off;

	(void)state;
	add_raw(&ns, text, 19);		/* __pfx_fuse_dev_poll */
	add_raw(&ns, text + 6, 13);	/* fuse_dev_poll */
	add_raw(&ns, text + 6, 4);	/* fuse */
	add_raw(&ns, text, 5);		/* __pfx */
	st = build(&ns, 1);
	off = ks_strtab_offsets(st);
	check_table(st, &ns);
	EQ(off[1], off[0] + 6);
	EQ(ks_strtab_size(st), 1 + 20 + 5 + 6);
	ks_strtab_free(st);
	names_release(&ns);
}

static uint64_t rnd_state = 42;

static unsigned int rnd(unsigned int n)
{
	rnd_state = rnd_state * 6364136223846793005ull + 1442695040888963407ull;
	return (unsigned int)(rnd_state >> 33) % n;
}

static void rnd_letters(char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		s[i] = 'a' + rnd(26);
	s[len] = '\0';
}

/*
 * A kernel-sized set, above the size at which two threads are used: unique
 * names of at least STR_KEY bytes ("k<5 digits>_<letters>": none is the
 * tail of another), some also with a "__pfx_" in front, some twice, some
 * empty. Sharing is then complete, so the table's size is known: returned.
 * pairs: (name, its __pfx_ name) ..., SIZE_MAX.
 */
static size_t big_set(struct names *ns, size_t n_base, size_t **pairs)
{
	size_t expect = 1, np = 0;
	char letters[32];

	*pairs = malloc((2 * n_base + 1) * sizeof(**pairs));
	assert_non_null(*pairs);
	for (size_t i = 0; i < n_base; i++) {
		size_t len = 1 + rnd(20), base;

		rnd_letters(letters, len);
		base = add(ns, "k%05zu_%s", i, letters);
		expect += ns->m.syms[base].name_len + 1;
		if (i % 3 == 0) {
			(*pairs)[2 * np] = base;
			(*pairs)[2 * np + 1] = add(ns, "__pfx_k%05zu_%s", i, letters);
			np++;
			expect += 6;
		}
		if (i % 7 == 0)
			add_raw(ns, ns->m.syms[base].name, ns->m.syms[base].name_len);
		if (i % 11 == 0)
			add_raw(ns, NULL, 0);
	}
	(*pairs)[2 * np] = SIZE_MAX;
	return expect;
}

static void check_pairs(const struct ks_strtab *st, const size_t *pairs)
{
	const uint32_t *off = ks_strtab_offsets(st);

	for (size_t k = 0; pairs[2 * k] != SIZE_MAX; k++)
		EQ(off[pairs[2 * k]], off[pairs[2 * k + 1]] + 6);
}

/* Automatic (two threads at this size), one thread, two threads: each
 * table is right, and all are the same bytes with the same offsets. */
static void test_threads_same_bytes(void **state)
{
	struct names ns = { 0 };
	struct ks_strtab *st[3];
	size_t *pairs, expect, size[3];
	char *bytes[3];

	(void)state;
	expect = big_set(&ns, 30000, &pairs);
	assert_true(n_names(&ns) > 40000);
	for (unsigned int threads = 0; threads <= 2; threads++) {
		st[threads] = build(&ns, threads);
		check_table(st[threads], &ns);
		check_pairs(st[threads], pairs);
		EQ(ks_strtab_size(st[threads]), expect);
		bytes[threads] = table(st[threads], &size[threads]);
	}
	for (int k = 1; k <= 2; k++) {
		EQ(size[k], size[0]);
		assert_memory_equal(bytes[k], bytes[0], size[0]);
		assert_memory_equal(ks_strtab_offsets(st[k]), ks_strtab_offsets(st[0]),
				    n_names(&ns) * sizeof(uint32_t));
	}
	for (int k = 0; k <= 2; k++) {
		ks_strtab_free(st[k]);
		free(bytes[k]);
	}
	free(pairs);
	names_release(&ns);
}

/* Short names, which may share or not, and a few: same bytes either way. */
static void test_threads_small(void **state)
{
	struct names ns = { 0 };
	struct ks_strtab *one, *two;
	char letters[8], *a, *b;
	size_t sa, sb;

	(void)state;
	for (size_t i = 0; i < 3000; i++) {
		size_t len = 1 + rnd(7);

		rnd_letters(letters, len);
		add(&ns, "%s", letters);
	}
	add_owner(&ns, "vmlinux");
	add_owner(&ns, "ext4");
	one = build(&ns, 1);
	two = build(&ns, 2);
	check_table(one, &ns);
	check_table(two, &ns);
	a = table(one, &sa);
	b = table(two, &sb);
	EQ(sa, sb);
	assert_memory_equal(a, b, sa);
	assert_memory_equal(ks_strtab_offsets(one), ks_strtab_offsets(two),
			    n_names(&ns) * sizeof(uint32_t));
	free(a);
	free(b);
	ks_strtab_free(one);
	ks_strtab_free(two);
	names_release(&ns);
}

/* One name, two threads: a run may well be empty, before or after the
 * other; the table is still all of it. */
static void test_threads_one_name(void **state)
{
	struct names ns = { 0 };
	struct ks_strtab *st;

	(void)state;
	for (size_t i = 0; i < 64; i++) {
		ns.m.n_syms = 0;
		add(&ns, "name_%zu", i);
		st = build(&ns, 2);
		check_table(st, &ns);
		EQ(ks_strtab_size(st), 1 + ns.m.syms[0].name_len + 1);
		ks_strtab_free(st);
	}
	names_release(&ns);
}

static void test_errors(void **state)
{
	static char big[UINT16_MAX + 2];
	struct names ns = { 0 };
	struct ks_error err = { 0 };
	struct ks_strtab *st = (void *)&ns;

	(void)state;
	add(&ns, "fine");
	add_raw(&ns, NULL, 3);
	EQ(ks_strtab_new(&st, &ns.m, NULL, &err), -EINVAL);
	EQ(err.code, EINVAL);
	assert_null(st);
	assert_non_null(strstr(err.msg, "symbol 1"));
	/* Without err, the errno alone. */
	EQ(ks_strtab_new(&st, &ns.m, NULL, NULL), -EINVAL);

	/* The longest symbol name there may be. */
	memset(big, 'b', UINT16_MAX);
	ns.m.syms[1] = (struct ks_sym){ .name = big, .name_len = UINT16_MAX };
	st = build(&ns, 0);
	check_table(st, &ns);
	ks_strtab_free(st);

	add_owner(&ns, NULL);
	EQ(ks_strtab_new(&st, &ns.m, NULL, &err), -EINVAL);
	EQ(err.code, EINVAL);
	assert_null(st);
	ns.m.owners[0].name = big;	/* UINT16_MAX + 1 bytes: too long */
	big[UINT16_MAX] = 'b';
	EQ(ks_strtab_new(&st, &ns.m, NULL, &err), -E2BIG);
	EQ(err.code, E2BIG);
	assert_null(st);
	names_release(&ns);
}

/*
 * Allocation failures, as in test_elfimage: the n-th allocation fails, for
 * every n until a build succeeds. Each must be -ENOMEM and free all it
 * allocated. Not under ASan; skipped under valgrind. With two threads the
 * order of allocations varies, so the count is atomic and every build is
 * checked the same way.
 */
#ifndef __SANITIZE_ADDRESS__
#include "allocfail.h"

static void out_of_memory(unsigned int threads)
{
	struct ks_strtab_opts opts = { .threads = threads };
	struct names ns = { 0 };
	struct ks_strtab *st;
	size_t *pairs;
	long n;

	big_set(&ns, 200, &pairs);
	/* Once first: a thread's first malloc sets up an arena for good. */
	ks_strtab_free(build(&ns, threads));
	for (n = 1; n < 100000; n++) {
		struct ks_error err = { 0 };
		struct mallinfo2 before = mallinfo2(), after;
		int ret;

		allocfail_arm(n);
		ret = ks_strtab_new(&st, &ns.m, &opts, &err);
		if (!allocfail_disarm()) {
			/* n == 1: somebody else's malloc (valgrind's) */
			EQ(ret, 0);
			check_table(st, &ns);
			check_pairs(st, pairs);
			ks_strtab_free(st);
			break;
		}
		if (ret == 0) {
			/* A failed pthread_create is no error: the second
			 * run goes on this thread. */
			check_table(st, &ns);
			ks_strtab_free(st);
		} else {
			EQ(ret, -ENOMEM);
			EQ(err.code, ENOMEM);
		}
		after = mallinfo2();
		EQ(before.uordblks + before.hblkhd, after.uordblks + after.hblkhd);
		if (ret == 0)
			continue;
		assert_null(st);
	}
	free(pairs);
	names_release(&ns);
	if (n == 1)
		skip();
	assert_true(n > 10);
	print_message("%u thread(s): %ld allocations failed one by one\n", threads, n - 1);
}

static void test_out_of_memory_one_thread(void **state)
{
	(void)state;
	out_of_memory(1);
}

static void test_out_of_memory_two_threads(void **state)
{
	(void)state;
	out_of_memory(2);
}
#else
static void test_out_of_memory_one_thread(void **state)
{
	(void)state;
	skip();
}

static void test_out_of_memory_two_threads(void **state)
{
	(void)state;
	skip();
}
#endif

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_sharing),
		cmocka_unit_test(test_unterminated),
		cmocka_unit_test(test_threads_same_bytes),
		cmocka_unit_test(test_threads_small),
		cmocka_unit_test(test_threads_one_name),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_out_of_memory_one_thread),
		cmocka_unit_test(test_out_of_memory_two_threads),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
