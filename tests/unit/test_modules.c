/* SPDX-License-Identifier: BSD-2-Clause */
/* The module reader: proc/modules order, sections, vanishing modules. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "engine/modsections.h"
#include "engine/modules.h"
#include "testutil.h"

/* The readers on the tree at path. */
static int modlist_read(struct ks_modlist *l, const char *path, struct ks_error *err)
{
	struct ks_root root;
	int r;

	open_root(&root, path);
	r = ks_modlist_read(l, &root, err);
	ks_root_close(&root);
	return r;
}

static int modlist_read_set(struct ks_modlist *l, const char *path, struct ks_error *err)
{
	struct ks_root root;
	int r;

	open_root(&root, path);
	r = ks_modlist_read_set(l, &root, err);
	ks_root_close(&root);
	return r;
}

static void test_debian_state_a(void **state)
{
	static const char *const order[] = {
		"fuse", "cuse", "loop", "dummy", "veth", "llc", "stp", "bridge", "nfnetlink",
		"crc32c_intel", "crc32c_generic", "libcrc32c", "nf_tables", "udp_tunnel",
		"ip6_udp_tunnel", "vxlan", "crc_itu_t", "jbd2", "mbcache", "crc16", "ext4",
		"squashfs", "zsmalloc", "zram",
	};
	struct ks_modlist l;
	struct ks_error err = { 0 };
	const struct ks_module *fuse;
	size_t n_sections = 0;

	(void)state;
	if (modlist_read(&l, fixture("debian-6.1/state-a"), &err) < 0)
		fail_msg("%s", err.msg);
	assert_int_equal(l.n, 24);
	for (size_t i = 0; i < l.n; i++) {
		assert_string_equal(l.mods[i].name, order[i]);
		assert_false(l.mods[i].gone);
		n_sections += l.mods[i].n_sections;
		for (size_t j = 1; j < l.mods[i].n_sections; j++)
			assert_true(l.mods[i].sections[j - 1].addr <= l.mods[i].sections[j].addr);
	}
	assert_int_equal(n_sections, 599);	/* MANIFEST: 599 section files */
	fuse = ks_modlist_find(&l, "fuse");
	assert_non_null(fuse);
	assert_true(fuse->base == 0xffffffffc0440000ull);
	assert_true(fuse->size == 176128);
	assert_string_equal(fuse->sections[0].name, ".text");
	assert_true(fuse->sections[0].addr == 0xffffffffc0440000ull);
	assert_null(ks_modlist_find(&l, "tun"));
	ks_modlist_release(&l);
}

/* A -> B: dummy and squashfs went, tun came at squashfs's old base. */
static void test_set_changes(void **state)
{
	struct ks_modlist a, a2, b;

	(void)state;
	assert_int_equal(modlist_read_set(&a, fixture("debian-6.1/state-a"), NULL), 0);
	assert_int_equal(modlist_read_set(&a2, fixture("debian-6.1/state-a"), NULL), 0);
	assert_int_equal(modlist_read_set(&b, fixture("debian-6.1/state-b"), NULL), 0);
	assert_int_equal(b.n, 23);
	assert_string_equal(b.mods[b.n - 1].name, "tun");
	assert_int_equal(b.mods[b.n - 1].n_sections, 0);	/* read_set reads no sections */
	assert_true(ks_modlist_same_set(&a, &a2));
	assert_false(ks_modlist_same_set(&a, &b));
	ks_modlist_release(&a);
	ks_modlist_release(&a2);
	ks_modlist_release(&b);
}

static void test_same_set_compares_base_and_size(void **state)
{
	struct ks_module m1 = { .name = "x", .base = 0x1000, .size = 10 };
	struct ks_module m2 = { .name = "x", .base = 0x2000, .size = 10 };
	struct ks_module m3 = { .name = "x", .base = 0x1000, .size = 11 };
	struct ks_modlist l1 = { &m1, 1 }, l2 = { &m2, 1 }, l3 = { &m3, 1 }, l0 = { NULL, 0 };

	(void)state;
	assert_true(ks_modlist_same_set(&l1, &l1));
	assert_false(ks_modlist_same_set(&l1, &l2));
	assert_false(ks_modlist_same_set(&l1, &l3));
	assert_false(ks_modlist_same_set(&l1, &l0));
}

/* No proc/modules at all: CONFIG_MODULES=n, an empty list. */
static void test_no_modules_file(void **state)
{
	struct ks_modlist l;

	(void)state;
	assert_int_equal(modlist_read(&l, fixture("host-6.18/state-a"), NULL), 0);
	assert_int_equal(l.n, 0);
	ks_modlist_release(&l);
}

static void test_vanished_module_is_gone_not_error(void **state)
{
	char *dir = make_tmpdir(), path[4200];
	struct ks_modlist l;
	struct ks_error err = { 0 };

	(void)state;
	assert_non_null(dir);
	snprintf(path, sizeof(path), "%s/proc/modules", dir);
	assert_int_equal(write_file(path, "ghost 4096 0 - Unloading 0xffffffffc0000000\n"
					  "real 4096 0 - Live 0xffffffffc0010000\n"), 0);
	snprintf(path, sizeof(path), "%s/sys/module/real/sections/.text", dir);
	assert_int_equal(write_file(path, "0xffffffffc0010000\n"), 0);
	assert_int_equal(modlist_read(&l, dir, &err), 0);
	assert_int_equal(l.n, 2);
	assert_string_equal(l.mods[0].name, "real");
	assert_false(l.mods[0].gone);
	assert_int_equal(l.mods[0].n_sections, 1);
	assert_string_equal(l.mods[1].name, "ghost");
	assert_true(l.mods[1].gone);
	assert_int_equal(l.mods[1].n_sections, 0);
	ks_modlist_release(&l);
	rm_rf(dir);
	free(dir);
}

static void test_malformed_inputs(void **state)
{
	char *dir = make_tmpdir(), path[4200];
	struct ks_modlist l;
	struct ks_error err = { 0 };

	(void)state;
	assert_non_null(dir);
	snprintf(path, sizeof(path), "%s/proc/modules", dir);
	assert_int_equal(write_file(path, "ok 4096 0 - Live 0xffffffffc0000000\nbroken line\n"), 0);
	assert_int_equal(modlist_read(&l, dir, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "proc/modules: line 2: malformed"));
	assert_null(l.mods);

	/* A section file that is not an address. */
	assert_int_equal(write_file(path, "ok 4096 0 - Live 0xffffffffc0000000\n"), 0);
	snprintf(path, sizeof(path), "%s/sys/module/ok/sections/.text", dir);
	assert_int_equal(write_file(path, "garbage\n"), 0);
	assert_int_equal(modlist_read(&l, dir, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "not an address"));
	assert_non_null(strstr(err.msg, "sections/.text"));
	rm_rf(dir);
	free(dir);
}

/* Malformed numbers, down to one-byte fields (fuzz_modules found an
 * address field shorter than its "0x" prefix read past its end). */
static void test_malformed_numbers(void **state)
{
	static const char *const bad[] = {
		"m 4096 0 - Live '\n", "m 4096 0 - Live 0\n", "m 4096 0 - Live 0x\n",
		"m 4096 0 - Live 0xzz\n", "m -1 0 - Live 0xffffffffc0000000\n",
		"m 4k 0 - Live 0xffffffffc0000000\n",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char text[80];
		struct ks_modlist l;
		struct ks_error err = { 0 };

		snprintf(text, sizeof(text), "%s", bad[i]);
		assert_int_equal(ks_modlist_parse(&l, text, strlen(text), &err), -EINVAL);
		assert_non_null(strstr(err.msg, "line 1: malformed size or address"));
	}
}

/* A name is a directory under sys/module: nothing that could leave it. */
static void test_module_name_is_a_name(void **state)
{
	static const char *const bad[] = { "..", ".", "a/b", "../../etc" };
	char *dir = make_tmpdir(), path[4200];
	struct ks_modlist l;
	struct ks_error err = { 0 };

	(void)state;
	assert_non_null(dir);
	snprintf(path, sizeof(path), "%s/proc/modules", dir);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(write_file(path, "%s 4096 0 - Live 0xffffffffc0000000\n", bad[i]), 0);
		assert_int_equal(modlist_read(&l, dir, &err), -EINVAL);
		assert_non_null(strstr(err.msg, "line 1: not a module name"));
	}
	rm_rf(dir);
	free(dir);
}

/*
 * No sections directory: gone if the module is loading or unloading (a new
 * snapshot is due), but a live module simply has no sections (if it went
 * away, the snapshot's second read of proc/modules tells).
 */
static void test_module_without_sections(void **state)
{
	char *dir = make_tmpdir(), path[4200];
	struct ks_modlist l;
	struct ks_error err = { 0 };

	(void)state;
	assert_non_null(dir);
	snprintf(path, sizeof(path), "%s/proc/modules", dir);
	assert_int_equal(write_file(path, "nosec 4096 0 - Live 0xffffffffc0000000\n"
					  "coming 4096 0 - Loading 0xffffffffc0010000\n"
					  "away 4096 0 - Live 0xffffffffc0020000\n"), 0);
	snprintf(path, sizeof(path), "%s/sys/module/nosec", dir);
	assert_int_equal(mkdir_p(path), 0);
	snprintf(path, sizeof(path), "%s/sys/module/coming", dir);
	assert_int_equal(mkdir_p(path), 0);
	assert_int_equal(modlist_read(&l, dir, &err), 0);
	assert_int_equal(l.n, 3);
	assert_string_equal(l.mods[2].name, "nosec");
	assert_true(l.mods[2].live);
	assert_false(l.mods[2].gone);
	assert_int_equal(l.mods[2].n_sections, 0);
	assert_string_equal(l.mods[1].name, "coming");
	assert_false(l.mods[1].live);
	assert_true(l.mods[1].gone);
	assert_string_equal(l.mods[0].name, "away");
	assert_false(l.mods[0].gone);
	assert_int_equal(l.mods[0].n_sections, 0);
	ks_modlist_release(&l);
	rm_rf(dir);
	free(dir);
}

/* Each limit fails at once and names itself. */
static void test_limits(void **state)
{
	char *dir = make_tmpdir(), path[4200], name[300], *text, *p;
	size_t n = KS_MODULES_MAX + 1;
	struct ks_modlist l;
	struct ks_error err = { 0 };

	(void)state;
	assert_non_null(dir);
	memset(name, 'm', 256);
	name[256] = '\0';
	snprintf(path, sizeof(path), "%s/proc/modules", dir);
	assert_int_equal(write_file(path, "%s 4096 0 - Live 0xffffffffc0000000\n", name), 0);
	assert_int_equal(modlist_read(&l, dir, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "line 1: module name longer than 255 bytes"));

	text = p = malloc(n * 40 + 1);
	assert_non_null(text);
	for (size_t i = 0; i < n; i++)
		p += sprintf(p, "m%zu 4096 0 - Live 0xffffffffc0000000\n", i);
	assert_int_equal(ks_modlist_parse(&l, text, (size_t)(p - text), &err), -EFBIG);
	assert_non_null(strstr(err.msg, "more than 65536 modules"));
	free(text);

	/* Not a file where a file belongs. */
	unlink(path);
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_int_equal(modlist_read(&l, dir, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "proc/modules: not a regular file"));
	unlink(path);
	assert_int_equal(write_file(path, "ok 4096 0 - Live 0xffffffffc0000000\n"), 0);
	snprintf(path, sizeof(path), "%s/sys/module/ok/sections", dir);
	assert_int_equal(mkdir_p(path), 0);
	snprintf(path, sizeof(path), "%s/sys/module/ok/sections/.text", dir);
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_int_equal(modlist_read(&l, dir, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "sys/module/ok/sections/.text: not a regular file"));
	rm_rf(dir);
	free(dir);
}

/* Unreadable sections (no privilege) are an error that says so. */
static void test_unreadable_sections(void **state)
{
	char *dir, path[4200];
	struct ks_modlist l;
	struct ks_error err = { 0 };

	(void)state;
	if (geteuid() == 0)
		skip();	/* root reads a 0000 file anyway */
	dir = make_tmpdir();
	assert_non_null(dir);
	snprintf(path, sizeof(path), "%s/proc/modules", dir);
	assert_int_equal(write_file(path, "ok 4096 0 - Live 0xffffffffc0000000\n"), 0);
	snprintf(path, sizeof(path), "%s/sys/module/ok/sections/.text", dir);
	assert_int_equal(write_file(path, "0xffffffffc0000000\n"), 0);
	chmod(path, 0);
	assert_int_equal(modlist_read(&l, dir, &err), -EACCES);
	assert_non_null(strstr(err.msg, "Permission denied"));
	rm_rf(dir);
	free(dir);
}

/* On a live kernel with modules, every live module has its sections, and
 * .text among them. */
static void test_live_modules(void **state)
{
	struct ks_modlist l;
	struct ks_error err = { 0 };
	struct ks_root live;
	size_t checked = 0;

	(void)state;
	open_root(&live, "/");
	if (ks_modlist_read(&l, &live, &err) < 0)
		fail_msg("%s", err.msg);
	ks_root_close(&live);
	if (l.n == 0) {
		ks_modlist_release(&l);
		skip();	/* this kernel has no loadable modules */
	}
	for (size_t i = 0; i < l.n; i++) {
		bool text = false;

		if (l.mods[i].gone || !l.mods[i].live)
			continue;
		for (size_t j = 0; j < l.mods[i].n_sections; j++)
			text |= !strcmp(l.mods[i].sections[j].name, ".text");
		if (!text)
			fail_msg("%s: no .text among %zu sections", l.mods[i].name,
				 l.mods[i].n_sections);
		checked++;
	}
	assert_true(checked > 0);
	ks_modlist_release(&l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_debian_state_a),
		cmocka_unit_test(test_set_changes),
		cmocka_unit_test(test_same_set_compares_base_and_size),
		cmocka_unit_test(test_no_modules_file),
		cmocka_unit_test(test_vanished_module_is_gone_not_error),
		cmocka_unit_test(test_malformed_inputs),
		cmocka_unit_test(test_malformed_numbers),
		cmocka_unit_test(test_module_name_is_a_name),
		cmocka_unit_test(test_module_without_sections),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_unreadable_sections),
		cmocka_unit_test(test_live_modules),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
