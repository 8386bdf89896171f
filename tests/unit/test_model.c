/* SPDX-License-Identifier: BSD-2-Clause */
/* The symbol model: letters, owners and order, regions, sizes. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <elf.h>

#include "engine/kallsyms.h"
#include "engine/model.h"
#include "engine/modules.h"
#include "engine/notes.h"
#include "engine/text.h"
#include "testutil.h"

struct built {
	struct ks_text text;
	struct ks_kallsyms ks;
	struct ks_modlist mods;
	struct ks_model m;
};

static void build_at(struct built *b, const char *path)
{
	struct ks_error err = { 0 };
	struct ks_target t;
	struct ks_root root;

	open_root(&root, path);
	if (ks_text_read(&root, "proc/kallsyms", &b->text, &err) < 0 ||
	    ks_kallsyms_parse(&b->ks, b->text.data, b->text.len, &err) < 0)
		fail_msg("%s", err.msg);
	if (ks_modlist_read(&b->mods, &root, &err) < 0)
		fail_msg("%s", err.msg);
	assert_int_equal(ks_target_from_machine("x86_64", &t), 0);
	if (ks_notes_read_modules(&b->mods, &root, t.elf_data, &err) < 0)
		fail_msg("%s", err.msg);
	ks_root_close(&root);
	if (ks_model_build(&b->m, &b->ks, &b->mods, &t, &err) < 0)
		fail_msg("%s", err.msg);
}

static void build(struct built *b, const char *root_rel)
{
	build_at(b, fixture(root_rel));
}

static void unbuild(struct built *b)
{
	ks_model_release(&b->m);
	ks_modlist_release(&b->mods);
	ks_kallsyms_release(&b->ks);
	ks_text_release(&b->text);
}

static const struct ks_sym *find(const struct ks_model *m, const char *owner, const char *name,
				 uint64_t addr)
{
	for (size_t i = 0; i < m->n_syms; i++)
		if (name_eq(m->syms[i].name, m->syms[i].name_len, name) && m->syms[i].addr == addr &&
		    !strcmp(m->owners[m->syms[i].owner].name, owner))
			return &m->syms[i];
	fail_msg("no symbol %s:%s at %#llx", owner, name, (unsigned long long)addr);
	return NULL;
}

static const char *region_name(const struct ks_model *m, const struct ks_sym *s)
{
	return s->region == KS_REGION_ABS ? "ABS" : m->owners[s->owner].regions[s->region].name;
}

static void test_letters(void **state)
{
	static const struct {
		char letter;
		uint8_t bind, type;
	} table[] = {
		{ 'T', STB_GLOBAL, STT_FUNC },	 { 't', STB_LOCAL, STT_FUNC },
		{ 'W', STB_WEAK, STT_FUNC },	 { 'w', STB_WEAK, STT_FUNC },
		{ 'V', STB_WEAK, STT_OBJECT },	 { 'v', STB_WEAK, STT_OBJECT },
		{ 'D', STB_GLOBAL, STT_OBJECT }, { 'd', STB_LOCAL, STT_OBJECT },
		{ 'B', STB_GLOBAL, STT_OBJECT }, { 'b', STB_LOCAL, STT_OBJECT },
		{ 'R', STB_GLOBAL, STT_OBJECT }, { 'r', STB_LOCAL, STT_OBJECT },
		{ 'G', STB_GLOBAL, STT_OBJECT }, { 'g', STB_LOCAL, STT_OBJECT },
		{ 'S', STB_GLOBAL, STT_OBJECT }, { 's', STB_LOCAL, STT_OBJECT },
		{ 'A', STB_GLOBAL, STT_NOTYPE }, { 'a', STB_LOCAL, STT_NOTYPE },
	};
	uint8_t bind, type;

	(void)state;
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		assert_int_equal(ks_letter_to_elf(table[i].letter, &bind, &type), 0);
		if (bind != table[i].bind || type != table[i].type)
			fail_msg("letter %c: bind %u type %u", table[i].letter, bind, type);
	}
	assert_int_equal(ks_letter_to_elf('x', &bind, &type), -EINVAL);
	assert_int_equal(ks_letter_to_elf('1', &bind, &type), -EINVAL);
}

static void test_targets(void **state)
{
	struct ks_target t;

	(void)state;
	assert_int_equal(ks_target_from_machine("x86_64", &t), 0);
	assert_int_equal(t.elf_class, ELFCLASS64);
	assert_int_equal(t.elf_data, ELFDATA2LSB);
	assert_int_equal(t.machine, EM_X86_64);
	assert_int_equal(ks_target_from_machine("s390x", &t), 0);
	assert_int_equal(t.elf_data, ELFDATA2MSB);
	assert_int_equal(ks_target_from_machine("armv7l", &t), 0);
	assert_int_equal(t.elf_class, ELFCLASS32);
	assert_int_equal(ks_target_from_machine("vax", &t), -ENOTSUP);
}

/* The hand-made tree: every rule on a case small enough to check by eye. */
static void test_mini_owners_and_order(void **state)
{
	static const char *const owners[] = { "vmlinux", "moda", "empty", "modb", "bpf",
					      "__builtin__ftrace" };
	static const enum ks_owner_kind kinds[] = { KS_OWNER_KERNEL, KS_OWNER_MODULE,
						    KS_OWNER_MODULE, KS_OWNER_MODULE,
						    KS_OWNER_PSEUDO, KS_OWNER_PSEUDO };
	struct built b;
	size_t first = 0;

	(void)state;
	build(&b, "mini");
	assert_int_equal(b.m.n_owners, 6);
	for (size_t o = 0; o < 6; o++) {
		assert_string_equal(b.m.owners[o].name, owners[o]);
		assert_int_equal(b.m.owners[o].kind, kinds[o]);
		/* Owners' slices are contiguous and in owner order. */
		assert_int_equal(b.m.owners[o].first_sym, first);
		first += b.m.owners[o].n_syms;
		for (size_t i = 0; i < b.m.owners[o].n_syms; i++)
			assert_int_equal(b.m.syms[b.m.owners[o].first_sym + i].owner, o);
	}
	assert_int_equal(first, b.m.n_syms);
	assert_int_equal(b.m.n_syms, b.ks.n_syms);
	assert_int_equal(b.m.owners[2].n_syms, 0);	/* the empty module */
	assert_int_equal(b.m.owners[1].n_syms, 5);
	assert_true(b.m.owners[1].base == 0xffffffffc0000000ull);
	assert_true(b.m.owners[1].size == 12288);
	/* File order is kept within an owner. */
	assert_true(name_eq(b.m.syms[b.m.owners[1].first_sym].name,
			    b.m.syms[b.m.owners[1].first_sym].name_len, "mod_a_fn2"));
	unbuild(&b);
}

static void test_mini_sizes_and_regions(void **state)
{
	static const struct {
		const char *owner, *name;
		uint64_t addr, size;
		const char *region;
		uint8_t bind;
	} want[] = {
		{ "vmlinux", "_stext", 0xffffffff81000000, 0x10, ".text", STB_GLOBAL },
		{ "vmlinux", "alias_a", 0xffffffff81000000, 0x10, ".text", STB_GLOBAL },
		{ "vmlinux", "alias_b", 0xffffffff81000000, 0x10, ".text", STB_LOCAL },
		{ "vmlinux", "weak_fn", 0xffffffff81000010, 0x10, ".text", STB_WEAK },
		{ "vmlinux", "dup", 0xffffffff81000020, 0x10, ".text", STB_LOCAL },
		/* the last in a region stops at the region's end, not the next symbol */
		{ "vmlinux", "dup", 0xffffffff81000030, 0xd0, ".text", STB_LOCAL },
		{ "vmlinux", "_etext", 0xffffffff81000100, 0, "ABS", STB_GLOBAL },
		{ "vmlinux", "const_tbl", 0xffffffff81200000, 0x800, ".rodata", STB_LOCAL },
		{ "vmlinux", "weak_obj", 0xffffffff81200800, 0x800, ".rodata", STB_WEAK },
		{ "vmlinux", "local_data", 0xffffffff81400100, 0xf00, ".data", STB_LOCAL },
		{ "vmlinux", "bss_var", 0xffffffff81800000, 0x2000, ".bss", STB_LOCAL },
		{ "vmlinux", "__per_cpu_start", 0, 0x40, "ABS", STB_GLOBAL },
		{ "vmlinux", "pcpu_var", 0x40, 0xfc0, "ABS", STB_GLOBAL },
		{ "moda", "mod_a_fn", 0xffffffffc0000000, 0x100, ".text", STB_GLOBAL },
		{ "moda", "dup", 0xffffffffc0000000, 0x100, ".text", STB_LOCAL },
		{ "moda", "mod_a_fn2", 0xffffffffc0000100, 0xf00, ".text", STB_LOCAL },
		{ "moda", "mod_a_bss", 0xffffffffc0002000, 0x1000, ".bss", STB_LOCAL },
		{ "moda", "mod_a_pcpu", 0x10, 0, "ABS", STB_LOCAL },
		{ "modb", "mod_b_fn", 0xffffffffa0000000, 0x40, ".text", STB_LOCAL },
		{ "modb", "mod_b_export", 0xffffffffa0000040, 0xfc0, ".text", STB_GLOBAL },
		/* .data and __param share an address: the standard name gets the room */
		{ "modb", "mod_b_data", 0xffffffffa0001000, 0x1000, ".data", STB_LOCAL },
		{ "bpf", "bpf_prog_abc_f", 0xffffffffc0100000, 0x800, ".text", STB_LOCAL },
		{ "bpf", "bpf_prog_def_g", 0xffffffffc0100800, 0x800, ".text", STB_LOCAL },
		{ "__builtin__ftrace", "ftrace_trampoline", 0xffffffffd0000000, 0x1000, ".text",
		  STB_LOCAL },
	};
	struct built b;

	(void)state;
	build(&b, "mini");
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		const struct ks_sym *s = find(&b.m, want[i].owner, want[i].name, want[i].addr);

		if (s->size != want[i].size || strcmp(region_name(&b.m, s), want[i].region) ||
		    s->bind != want[i].bind)
			fail_msg("%s:%s: size %#llx region %s bind %u", want[i].owner, want[i].name,
				 (unsigned long long)s->size, region_name(&b.m, s), s->bind);
	}
	/* Stale sections (init, load-time symtab) are not regions. */
	for (size_t r = 0; r < b.m.owners[1].n_regions; r++) {
		assert_string_not_equal(b.m.owners[1].regions[r].name, ".init.text");
		assert_string_not_equal(b.m.owners[1].regions[r].name, ".symtab");
	}
	assert_int_equal(b.m.owners[1].n_regions, 3);
	assert_int_equal(b.m.owners[1].regions[0].flags, KS_REGION_EXEC);
	assert_int_equal(b.m.owners[1].regions[2].flags, KS_REGION_WRITE);
	assert_int_equal(b.m.n_locals, 15);
	unbuild(&b);
}

/*
 * Invariants on real captures: every located symbol lies in its region and no
 * size runs past it; aliases share one size; regions never overlap.
 */
static void check_invariants(const struct ks_model *m)
{
	size_t locals = 0;

	for (size_t o = 0; o < m->n_owners; o++) {
		const struct ks_owner *ow = &m->owners[o];

		for (size_t r = 1; r < ow->n_regions; r++)
			assert_true(ow->regions[r - 1].addr + ow->regions[r - 1].size <=
				    ow->regions[r].addr);
	}
	for (size_t i = 0; i < m->n_syms; i++) {
		const struct ks_sym *s = &m->syms[i];

		locals += s->bind == STB_LOCAL;
		if (s->region != KS_REGION_ABS) {
			const struct ks_region *rg = &m->owners[s->owner].regions[s->region];

			if (s->addr < rg->addr || s->addr + s->size > rg->addr + rg->size)
				fail_msg("%.*s at %#llx size %#llx outside %s", (int)s->name_len,
					 s->name, (unsigned long long)s->addr, (unsigned long long)s->size,
					 rg->name);
			assert_true(s->size > 0);
		}
		if (i > 0 && m->syms[i - 1].addr == s->addr && m->syms[i - 1].owner == s->owner &&
		    m->syms[i - 1].region == s->region)
			assert_true(m->syms[i - 1].size == s->size);
	}
	assert_int_equal(locals, m->n_locals);
}

static void test_debian_capture(void **state)
{
	struct built b;
	size_t located = 0;

	(void)state;
	build(&b, "debian-6.1/state-a");
	check_invariants(&b.m);
	assert_int_equal(b.m.n_owners, 25);	/* vmlinux + 24 modules */
	/* Load order, oldest first (MANIFEST: fuse, cuse, loop, ... zram). */
	assert_string_equal(b.m.owners[1].name, "fuse");
	assert_string_equal(b.m.owners[2].name, "cuse");
	assert_string_equal(b.m.owners[3].name, "loop");
	assert_string_equal(b.m.owners[24].name, "zram");
	assert_int_equal(b.m.owners[0].n_syms, 94266);
	for (size_t i = 0; i < b.m.n_syms; i++)
		located += b.m.syms[i].region != KS_REGION_ABS;
	/* Only per-CPU offsets, linker markers and each module's _note_9 and
	 * _note_10 (in .note.Linux, a notes section: no region) stay outside
	 * every region. */
	assert_true(b.m.n_syms - located < 450 + 2 * 24);
	/* fuse: .text at its core base; its freed init sections are not regions. */
	assert_true(b.m.owners[1].regions[0].addr == 0xffffffffc0440000ull);
	assert_string_equal(b.m.owners[1].regions[0].name, ".text");
	for (size_t r = 0; r < b.m.owners[1].n_regions; r++)
		assert_null(strstr(b.m.owners[1].regions[r].name, ".init"));
	unbuild(&b);
}

static void test_host_capture(void **state)
{
	struct built b;

	(void)state;
	build(&b, "host-6.18/state-a");
	check_invariants(&b.m);
	assert_int_equal(b.m.n_owners, 2);
	assert_string_equal(b.m.owners[1].name, "__builtin__ftrace");
	assert_int_equal(b.m.owners[1].kind, KS_OWNER_PSEUDO);
	unbuild(&b);
}

/*
 * 6.4+: text, rodata and data are separate allocations, and proc/modules
 * gives the text's base with the total size. Every module symbol still
 * sits in a section of its own module.
 */
static void test_split_module_memory(void **state)
{
	static const struct {
		const char *name;
		uint64_t addr, size;
		const char *region;
	} want[] = {
		{ "modc_fn", 0xffffffffc0000000, 0x40, ".text" },
		{ "modc_export", 0xffffffffc0000040, 0x2fc0, ".text" },
		{ "modc_table", 0xffffffffc0200000, 0x100, ".rodata" },
		/* the last symbol of an allocation stops at its page's end */
		{ "modc_local_ro", 0xffffffffc0200100, 0xf00, ".rodata" },
		{ "modc_data", 0xffffffffc0300010, 0xff0, ".data" },
	};
	char *dir = make_tmpdir(), path[4200];
	static const char *const sections[][2] = {
		{ ".text", "0xffffffffc0000000" }, { ".rodata", "0xffffffffc0200000" },
		{ ".data", "0xffffffffc0300000" }, { ".init.text", "0xffffffffc0400000" },
		{ ".symtab", "0xffffffffc0500000" },
	};
	struct built b;

	(void)state;
	assert_non_null(dir);
	snprintf(path, sizeof(path), "%s/proc/kallsyms", dir);
	assert_int_equal(write_file(path, "ffffffff81000000 T _stext\n"
					  "ffffffff81100000 T _etext\n"
					  "ffffffffc0000000 t modc_fn\t[modc]\n"
					  "ffffffffc0000040 T modc_export\t[modc]\n"
					  "ffffffffc0200000 R modc_table\t[modc]\n"
					  "ffffffffc0200100 r modc_local_ro\t[modc]\n"
					  "ffffffffc0300010 d modc_data\t[modc]\n"), 0);
	snprintf(path, sizeof(path), "%s/proc/modules", dir);
	assert_int_equal(write_file(path, "modc 12288 0 - Live 0xffffffffc0000000\n"), 0);
	for (size_t i = 0; i < sizeof(sections) / sizeof(sections[0]); i++) {
		snprintf(path, sizeof(path), "%s/sys/module/modc/sections/%s", dir, sections[i][0]);
		assert_int_equal(write_file(path, "%s\n", sections[i][1]), 0);
	}
	build_at(&b, dir);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		const struct ks_sym *s = find(&b.m, "modc", want[i].name, want[i].addr);

		if (s->size != want[i].size || strcmp(region_name(&b.m, s), want[i].region))
			fail_msg("%s: size %#llx region %s", want[i].name,
				 (unsigned long long)s->size, region_name(&b.m, s));
	}
	/* The stale init text and load-time symtab, with no symbols, are not. */
	assert_int_equal(b.m.owners[1].n_regions, 3);
	unbuild(&b);
	rm_rf(dir);
	free(dir);
}

static bool has_region(const struct ks_owner *o, const char *name)
{
	for (size_t r = 0; r < o->n_regions; r++)
		if (!strcmp(o->regions[r].name, name))
			return true;
	return false;
}

/*
 * A module section with a notes file (notes/.note.gnu.build-id) is a
 * region that holds the file's bytes, exactly as long as they are: a
 * symbol in the notes stays in it, one in the padding after them lies
 * between regions (ABS); the other regions stay as they were. A .note
 * section without a notes file (.note.Linux here) is a region as any.
 * Notes longer than their section's room are not its bytes: the region
 * stays as it was, without them.
 */
static void test_noted_sections_hold_notes(void **state)
{
	static const char *const sections[][2] = {
		{ ".text", "0xffffffffc0000000" }, { ".note.gnu.build-id", "0xffffffffc0001000" },
		{ ".note.Linux", "0xffffffffc0001024" }, { ".rodata", "0xffffffffc0001100" },
		{ ".data", "0xffffffffc0002000" },
	};
	uint32_t note[5] = { 4, 4, 3, 0, 0x12345678 };
	char *dir = make_tmpdir(), path[4200];
	const struct ks_owner *o;
	const struct ks_sym *s;
	struct built b;
	FILE *f;

	(void)state;
	assert_non_null(dir);
	memcpy(&note[3], "GNU", 4);
	snprintf(path, sizeof(path), "%s/proc/kallsyms", dir);
	assert_int_equal(write_file(path, "ffffffff81000000 T _stext\n"
					  "ffffffff81100000 T _etext\n"
					  "ffffffffc0000000 t modn_fn\t[modn]\n"
					  "ffffffffc0001010 r modn_odd\t[modn]\n"
					  "ffffffffc0001014 r modn_pad\t[modn]\n"
					  "ffffffffc0001030 r modn_linux\t[modn]\n"
					  "ffffffffc0001100 r modn_ro\t[modn]\n"
					  "ffffffffc0002000 d modn_data\t[modn]\n"), 0);
	snprintf(path, sizeof(path), "%s/proc/modules", dir);
	assert_int_equal(write_file(path, "modn 12288 0 - Live 0xffffffffc0000000\n"), 0);
	for (size_t i = 0; i < sizeof(sections) / sizeof(sections[0]); i++) {
		snprintf(path, sizeof(path), "%s/sys/module/modn/sections/%s", dir, sections[i][0]);
		assert_int_equal(write_file(path, "%s\n", sections[i][1]), 0);
	}

	/* No notes files: every section in the core is a region. */
	build_at(&b, dir);
	o = &b.m.owners[1];
	assert_int_equal(o->n_regions, 5);
	s = find(&b.m, "modn", "modn_odd", 0xffffffffc0001010);
	assert_string_equal(region_name(&b.m, s), ".note.gnu.build-id");
	unbuild(&b);

	snprintf(path, sizeof(path), "%s/sys/module/modn/notes/.note.gnu.build-id", dir);
	assert_int_equal(write_file(path, "%s", ""), 0);
	assert_non_null(f = fopen(path, "wb"));
	assert_int_equal(fwrite(note, 1, sizeof(note), f), sizeof(note));
	fclose(f);
	build_at(&b, dir);
	o = &b.m.owners[1];
	assert_int_equal(b.mods.mods[0].n_notes, 1);
	assert_int_equal(o->n_notes, 1);
	assert_int_equal(o->n_regions, 5);
	assert_true(has_region(o, ".note.gnu.build-id"));
	assert_true(has_region(o, ".note.Linux"));
	/* .text ends where it did, at the notes. */
	s = find(&b.m, "modn", "modn_fn", 0xffffffffc0000000);
	assert_string_equal(region_name(&b.m, s), ".text");
	assert_int_equal(o->regions[s->region].size, 0x1000);
	assert_int_equal(s->size, 0x1000);
	s = find(&b.m, "modn", "modn_odd", 0xffffffffc0001010);
	assert_string_equal(region_name(&b.m, s), ".note.gnu.build-id");
	assert_ptr_equal(o->regions[s->region].notes, &o->notes[0]);
	assert_int_equal(o->regions[s->region].addr, 0xffffffffc0001000);
	assert_int_equal(o->regions[s->region].size, sizeof(note));
	assert_int_equal(s->size, 4);
	s = find(&b.m, "modn", "modn_pad", 0xffffffffc0001014);
	assert_int_equal(s->region, KS_REGION_ABS);
	s = find(&b.m, "modn", "modn_linux", 0xffffffffc0001030);
	assert_string_equal(region_name(&b.m, s), ".note.Linux");
	s = find(&b.m, "modn", "modn_ro", 0xffffffffc0001100);
	assert_string_equal(region_name(&b.m, s), ".rodata");
	assert_int_equal(s->size, 0xf00);
	check_invariants(&b.m);
	unbuild(&b);

	/* Notes longer than the 0x24 bytes up to .note.Linux. */
	assert_non_null(f = fopen(path, "ab"));
	for (int i = 0; i < 2; i++)
		assert_int_equal(fwrite(note, 1, sizeof(note), f), sizeof(note));
	fclose(f);
	build_at(&b, dir);
	o = &b.m.owners[1];
	assert_int_equal(o->n_notes, 1);
	s = find(&b.m, "modn", "modn_odd", 0xffffffffc0001010);
	assert_string_equal(region_name(&b.m, s), ".note.gnu.build-id");
	assert_null(o->regions[s->region].notes);
	assert_int_equal(o->regions[s->region].size, 0x24);
	check_invariants(&b.m);
	unbuild(&b);
	rm_rf(dir);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_split_module_memory),
		cmocka_unit_test(test_noted_sections_hold_notes),
		cmocka_unit_test(test_letters),
		cmocka_unit_test(test_targets),
		cmocka_unit_test(test_mini_owners_and_order),
		cmocka_unit_test(test_mini_sizes_and_regions),
		cmocka_unit_test(test_debian_capture),
		cmocka_unit_test(test_host_capture),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
