/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * lib/scan.c, the pass over .symtab that answers a handle's first lookups,
 * against src/shared/symindex.c, the index that answers the rest: the same
 * symbol (name, value, size, binding, section) and offset for addresses at
 * every symbol's start, last byte and end and at random, and for names;
 * the same refusal of malformed images.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "engine/snapshot.h"
#include "scan.h"
#include "shared/symindex.h"
#include "../unit/testutil.h"

static unsigned char *image_of(const char *rel, size_t *size)
{
	struct ks_root root;
	struct ks_snapshot_opts opts = { .root = &root };
	struct ks_snapshot *snap;
	struct ks_error err = { 0 };
	unsigned char *bytes;

	open_root(&root, fixture(rel));
	assert_int_equal(ks_snapshot_take(&opts, &snap, &err), 0);
	ks_root_close(&root);
	*size = ks_snapshot_size(snap);
	bytes = malloc(*size);
	memcpy(bytes, ks_snapshot_data(snap), *size);
	ks_snapshot_unref(snap);
	return bytes;
}

static void same_addr(const struct ksi_scan *s, const struct ks_symindex *idx, uint64_t addr)
{
	GElf_Sym a, b;
	const char *na, *nb;
	uint64_t oa, ob;
	int ra = ksi_scan_addr(s, addr, &a, &na, &oa);
	int rb = ks_symindex_lookup_addr(idx, addr, &b, &nb, &ob);

	assert_int_equal(ra, rb);
	if (ra)
		return;
	assert_string_equal(na, nb);
	assert_int_equal(a.st_value, b.st_value);
	assert_int_equal(a.st_size, b.st_size);
	assert_int_equal(a.st_info, b.st_info);
	assert_int_equal(a.st_shndx, b.st_shndx);
	assert_int_equal(oa, ob);
}

static void same_name(const struct ksi_scan *s, const struct ks_symindex *idx, const char *name)
{
	GElf_Sym a, b;
	int ra = ksi_scan_name(s, name, &a), rb = ks_symindex_lookup_name(idx, name, &b);

	assert_int_equal(ra, rb);
	if (ra)
		return;
	assert_int_equal(a.st_name, b.st_name);
	assert_int_equal(a.st_value, b.st_value);
	assert_int_equal(a.st_info, b.st_info);
	assert_int_equal(a.st_shndx, b.st_shndx);
}

/* Every step-th symbol's edges and name, and random addresses near them. */
static void compare(const char *rel, size_t step)
{
	size_t size, checked = 0;
	unsigned char *img = image_of(rel, &size);
	struct ks_symindex *idx;
	struct ksi_scan s;
	GElf_Sym sym;

	assert_int_equal(ks_symindex_new(img, size, &idx, NULL), 0);
	assert_int_equal(ksi_scan_prepare(&s, img, size), 0);
	srandom(13);
	for (size_t i = 1; i < s.nsyms; i += step) {
		const char *name;

		assert_non_null(gelf_getsym(s.symdata, (int)i, &sym));
		name = s.strtab + sym.st_name;
		same_name(&s, idx, name);
		same_addr(&s, idx, sym.st_value);
		same_addr(&s, idx, sym.st_value + (sym.st_size ? sym.st_size - 1 : 0));
		same_addr(&s, idx, sym.st_value + sym.st_size);
		same_addr(&s, idx, sym.st_value - 1);
		same_addr(&s, idx, sym.st_value + (uint64_t)random() % 8192);
		checked++;
	}
	same_name(&s, idx, "no_such_symbol_anywhere");
	same_name(&s, idx, "");
	same_addr(&s, idx, 0);
	same_addr(&s, idx, UINT64_MAX);
	assert_true(checked > 30);
	ksi_scan_release(&s);
	ks_symindex_free(idx);
	free(img);
}

static void mini(void **state)
{
	(void)state;
	compare("mini", 1);
}

static void debian61(void **state)
{
	(void)state;
	compare("debian-6.1/state-a", 997);
}

/* What symindex refuses, prepare or the pass refuses: .strtab without its
 * last NUL; a symbol whose name lies past .strtab (the pass: -EINVAL). */
static void malformed(void **state)
{
	size_t size, strend;
	unsigned char *img = image_of("mini", &size);
	struct ks_symindex *idx;
	struct ksi_scan s;
	GElf_Sym sym;

	(void)state;
	assert_int_equal(ksi_scan_prepare(&s, img, size), 0);
	strend = (size_t)((const unsigned char *)s.strtab - img) + s.strsz - 1;
	/* The last symbol's st_name, past the end (in place: host order). */
	assert_non_null(gelf_getsym(s.symdata, (int)s.nsyms - 1, &sym));
	sym.st_name = (GElf_Word)s.strsz;
	assert_true(gelf_update_sym(s.symdata, (int)s.nsyms - 1, &sym));
	assert_int_equal(ksi_scan_addr(&s, 0, NULL, NULL, NULL), -EINVAL);
	assert_int_equal(ksi_scan_name(&s, "dup", NULL), -EINVAL);
	assert_int_not_equal(ks_symindex_new(img, size, &idx, NULL), 0);
	ksi_scan_release(&s);
	free(img);

	img = image_of("mini", &size);
	img[strend] = 'x';
	assert_int_equal(ksi_scan_prepare(&s, img, size), -EINVAL);
	assert_int_not_equal(ks_symindex_new(img, size, &idx, NULL), 0);
	assert_int_equal(ksi_scan_prepare(&s, img, 10), -EINVAL);
	free(img);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(mini),
		cmocka_unit_test(debian61),
		cmocka_unit_test(malformed),
	};

	elf_version(EV_CURRENT);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
