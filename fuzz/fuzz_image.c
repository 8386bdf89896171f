/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * libFuzzer: the image path, from the kernel's texts to lookups in the
 * image. The input is a small program: a target, loaded modules with their
 * sections, then kallsyms lines (addresses, letters, names, module tags
 * drawn so that most lines are well formed and interesting: kernel region
 * markers, aliases, duplicates, names at the length limit, addresses in and
 * around the modules), and optionally a raw tail of arbitrary bytes. The
 * texts go through ks_kallsyms_parse and ks_modlist_parse, the sections
 * are filled in directly (no files), then ks_model_build and
 * ks_elfimage_write into a memfd as snapshot.c does.
 *
 * The image is then read back with libelf and checked against the model
 * (headers, every section and segment, every symbol in its place), and
 * looked up through ks_symindex: every name must be found with the symbol
 * NetBSD's order picks, and an address lookup must return a symbol that
 * covers the address, or nothing only if none does.
 */
#include <elf.h>
#include <errno.h>
#include <gelf.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/elfimage.h"
#include "engine/kallsyms.h"
#include "engine/model.h"
#include "engine/modules.h"
#include "shared/symindex.h"
#include "fuzzinput.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* ---- text ---- */

__attribute__((format(printf, 2, 3)))
static void text_printf(struct text *t, const char *fmt, ...)
{
	char buf[1200];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	CHECK(n >= 0 && (size_t)n < sizeof(buf));
	text_add(t, buf, (size_t)n);
}

/* ---- the program ---- */

static const char *const machines[] = { "x86_64", "x86_64", "x86_64", "x86_64", "x86_64",
					"i686", "aarch64_be", "ppc" };

static const char *const mod_names[] = { "moda", "modb", "fuse", "ext4", "bpf", "m" };

static const char *const section_names[] = {
	".text", ".data", ".bss", ".rodata", "__param", ".init.text", ".text.unlikely",
	".gnu.linkonce.this_module", "__ksymtab", ".symtab", ".altinstr_replacement", ".exit.text",
};

/* Kernel region markers (model.c's), and names that look like them. */
static const char *const markers[] = {
	"_stext", "_etext", "__start_rodata", "__end_rodata", "_sdata", "_edata",
	"_sinittext", "_einittext", "__init_end", "__bss_start", "__bss_stop", "__brk_base",
	"__brk_limit", "__init_scratch_begin", "__init_scratch_end", "_text", "_", "__",
	"_s", "_stex", "_stext_",
};

static const char *const pseudo_names[] = { "bpf", "__builtin__ftrace", "kprobes", "moda" };

#define MAX_MODS 6
#define MAX_SECTIONS 6

struct modspec {
	const char *name;
	uint64_t base, size;
	size_t n_sections;
	struct ks_module_section sections[MAX_SECTIONS];
};

static int cmp_section(const void *a, const void *b)
{
	const struct ks_module_section *x = a, *y = b;

	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	return strcmp(x->name, y->name);
}

static void gen_modules(struct input *in, bool is64, struct modspec *mods, size_t n)
{
	uint64_t mask = is64 ? UINT64_MAX : UINT32_MAX;

	for (size_t i = 0; i < n; i++) {
		struct modspec *m = &mods[i];

		m->name = mod_names[u8(in) % (sizeof(mod_names) / sizeof(mod_names[0]))];
		switch (u8(in) % 4) {
		case 0:
			m->base = 0;	/* hidden, as kptr_restrict shows it */
			break;
		case 1:
			m->base = u64(in) & mask;
			break;
		default:
			m->base = ((is64 ? 0xffffffffc0000000ull : 0xf8000000ull) +
				   ((uint64_t)u16(in) << 12)) & mask;
		}
		m->size = u8(in) & 1 ? u16(in) : (uint64_t)u16(in) << 4;
		m->n_sections = u8(in) % (MAX_SECTIONS + 1);
		for (size_t k = 0; k < m->n_sections; k++) {
			struct ks_module_section *s = &m->sections[k];

			s->name = (char *)section_names[u8(in) % (sizeof(section_names) /
								  sizeof(section_names[0]))];
			switch (u8(in) % 5) {
			case 0:
				s->addr = m->base;
				break;
			case 1:	/* past the core: stale init memory */
				s->addr = m->base + m->size + u8(in);
				break;
			case 2:
				s->addr = u64(in) & mask;
				break;
			default:
				s->addr = m->base + u16(in) % (m->size + 1);
			}
		}
	}
}

/* A name of valid kallsyms bytes: none of tab, newline, space, NUL. */
static size_t gen_name(struct input *in, char *buf)
{
	uint8_t how = u8(in);
	size_t len;

	switch (how % 8) {
	case 0:
	case 1:
		return (size_t)sprintf(buf, "%s", markers[u8(in) % (sizeof(markers) /
								  sizeof(markers[0]))]);
	case 5:
		return (size_t)sprintf(buf, "%s%u", how & 8 ? "__pfx_s" : "t", u8(in) % 16);
	case 6:
		len = 1 + u8(in) % 24;
		for (size_t i = 0; i < len; i++) {
			char c = (char)u8(in);

			buf[i] = c == '\t' || c == '\n' || c == ' ' || c == '\0' ? 'x' : c;
		}
		return len;
	case 7:
		/* Around the longest name kallsyms has (511 bytes). */
		len = KS_NAME_MAX - 1 - u8(in) % 12;
		memset(buf, 'a' + how % 26, len);
		return len;
	default:
		return (size_t)sprintf(buf, "s%u", u8(in));
	}
}

static uint64_t gen_addr(struct input *in, bool is64, const struct modspec *mods, size_t n_mods,
			 uint64_t *kaddr, uint64_t prev)
{
	uint64_t mask = is64 ? UINT64_MAX : UINT32_MAX;
	const struct modspec *m;

	switch (u8(in) % 9) {
	case 0:
	case 1:
	case 2:	/* the kernel's ascending addresses */
		*kaddr += (uint64_t)u8(in) * 16;
		return *kaddr & mask;
	case 3:
		if (!n_mods)
			return prev;
		m = &mods[u8(in) % n_mods];
		return (m->base + u16(in) % (m->size + 16)) & mask;
	case 4:
		return u64(in) & mask;
	case 5:
		return 0;
	case 6:	/* per-CPU offsets */
		return u16(in);
	default:	/* an alias of the line before */
		return prev;
	}
}

/*
 * kallsyms lines until an op byte of 0xff (then the raw tail) or the end.
 * Returns the number of lines; *valid says whether all were well formed.
 */
static size_t gen_kallsyms(struct input *in, bool is64, const struct modspec *mods,
			   size_t n_mods, struct text *t, bool *tail)
{
	static const char letters[] = "TtWwVvDdBbRrGgSsCcAaNnUu?";
	uint64_t kaddr = is64 ? 0xffffffff81000000ull : 0xc1000000ull, addr = 0;
	char name[KS_NAME_MAX + 16];
	size_t lines = 0, len;
	uint8_t op, mod;

	*tail = false;
	while (in->n && lines < 400) {
		op = u8(in);
		if (op == 0xff) {
			*tail = in->n > 0;
			text_add(t, in->p, in->n);
			in->p += in->n;
			in->n = 0;
			break;
		}
		addr = gen_addr(in, is64, mods, n_mods, &kaddr, addr);
		len = gen_name(in, name);
		if (op & 0x80)
			text_printf(t, "%llx", (unsigned long long)addr);
		else
			text_printf(t, is64 ? "%016llx" : "%08llx", (unsigned long long)addr);
		text_printf(t, " %c ", letters[(op & 0x7f) % (sizeof(letters) - 1)]);
		text_add(t, name, len);
		mod = u8(in);
		if (mod % 6 >= 3 && mod % 6 < 5 && n_mods)
			text_printf(t, "\t[%s]", mods[(mod >> 4) % n_mods].name);
		else if (mod % 6 == 5)
			text_printf(t, "\t[%s]", pseudo_names[(mod >> 4) % 4]);
		/* The kernel ends every line; a last line without is valid too. */
		if (in->n || !(mod & 0x40))
			text_add(t, "\n", 1);
		lines++;
	}
	return lines;
}

/* ---- checks ---- */

static unsigned bind_rank(unsigned char info)
{
	switch (GELF_ST_BIND(info)) {
	case STB_GLOBAL:
	case STB_GNU_UNIQUE:
		return 2;
	case STB_WEAK:
		return 1;
	default:
		return 0;
	}
}

/* The image as libelf reads it. */
struct ro {
	Elf *elf;
	size_t shnum;
	GElf_Shdr *sh;
	GElf_Sym *syms;
	size_t n_syms;
	const char *strtab;
	size_t strsz;
	const char *types;	/* .kallsyms.types: a letter per symbol */
	/* By name (a hash of its own, not symindex's): the symbol NetBSD's
	 * order returns, the first global, else weak, else local. */
	uint32_t *best;
	size_t mask;
};

static bool named(const struct ro *ro, size_t i)
{
	unsigned type = GELF_ST_TYPE(ro->syms[i].st_info);

	return type != STT_FILE && type != STT_SECTION && ro->strtab[ro->syms[i].st_name];
}

static uint64_t fnv(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
	return h;
}

static uint32_t *best_slot(struct ro *ro, const char *name)
{
	for (size_t pos = fnv(name) & ro->mask;; pos = (pos + 1) & ro->mask) {
		uint32_t *slot = &ro->best[pos];

		if (!*slot || strcmp(ro->strtab + ro->syms[*slot].st_name, name) == 0)
			return slot;
	}
}

static void index_names(struct ro *ro)
{
	size_t cap = 16;

	while (cap < 2 * ro->n_syms)
		cap *= 2;
	ro->best = calloc(cap, sizeof(*ro->best));
	CHECK(ro->best);
	ro->mask = cap - 1;
	for (size_t i = 1; i < ro->n_syms; i++) {
		uint32_t *slot;

		if (!named(ro, i))
			continue;
		slot = best_slot(ro, ro->strtab + ro->syms[i].st_name);
		if (!*slot || bind_rank(ro->syms[i].st_info) > bind_rank(ro->syms[*slot].st_info))
			*slot = (uint32_t)i;
	}
}

static bool sym_eq(const GElf_Sym *a, const GElf_Sym *b)
{
	return a->st_name == b->st_name && a->st_info == b->st_info &&
	       a->st_other == b->st_other && a->st_shndx == b->st_shndx &&
	       a->st_value == b->st_value && a->st_size == b->st_size;
}

static bool covers(const GElf_Sym *s, uint64_t a)
{
	return a >= s->st_value && a - s->st_value < (s->st_size ? s->st_size : 1);
}

/* Does one of the owner's symbols lie in the region? */
static bool owner_has_sym_in(const struct ks_model *m, const struct ks_owner *ow,
			     const struct ks_region *rg)
{
	for (size_t i = ow->first_sym; i < ow->first_sym + ow->n_syms; i++)
		if (m->syms[i].addr >= rg->addr && m->syms[i].addr - rg->addr < rg->size)
			return true;
	return false;
}

/* Headers and sections against the model. */
static void check_sections(const struct ks_model *m, struct ro *ro, const unsigned char *img,
			   size_t size)
{
	bool is64 = m->target.elf_class == ELFCLASS64;
	uint64_t limit = is64 ? UINT64_MAX : UINT32_MAX;
	size_t n_regions = 0, sec = 5, phnum;
	GElf_Ehdr eh;
	GElf_Phdr ph, prev = { 0 };
	Elf_Data *d;

	CHECK(size >= EI_NIDENT && memcmp(img, ELFMAG, SELFMAG) == 0);
	CHECK(img[EI_CLASS] == m->target.elf_class && img[EI_DATA] == m->target.elf_data);
	CHECK(img[EI_VERSION] == EV_CURRENT);
	CHECK(gelf_getehdr(ro->elf, &eh));
	CHECK(eh.e_type == ET_EXEC && eh.e_machine == m->target.machine &&
	      eh.e_version == EV_CURRENT && eh.e_shstrndx == 3);
	CHECK(eh.e_ehsize == gelf_fsize(ro->elf, ELF_T_EHDR, 1, EV_CURRENT));
	CHECK(eh.e_shentsize == gelf_fsize(ro->elf, ELF_T_SHDR, 1, EV_CURRENT));
	for (size_t o = 0; o < m->n_owners; o++)
		n_regions += m->owners[o].n_regions;
	CHECK(elf_getshdrnum(ro->elf, &ro->shnum) == 0 && ro->shnum == 5 + n_regions);
	CHECK(elf_getphdrnum(ro->elf, &phnum) == 0 && phnum == n_regions);
	CHECK(eh.e_shoff <= size && ro->shnum * eh.e_shentsize <= size - eh.e_shoff);
	if (phnum)
		CHECK(eh.e_phentsize == gelf_fsize(ro->elf, ELF_T_PHDR, 1, EV_CURRENT) &&
		      eh.e_phoff <= size && phnum * eh.e_phentsize <= size - eh.e_phoff);

	ro->sh = calloc(ro->shnum, sizeof(*ro->sh));
	CHECK(ro->sh);
	for (size_t i = 1; i < ro->shnum; i++) {
		GElf_Shdr *sh = &ro->sh[i];

		CHECK(gelf_getshdr(elf_getscn(ro->elf, i), sh));
		CHECK(elf_strptr(ro->elf, 3, sh->sh_name));
		if (sh->sh_type != SHT_NOBITS)
			CHECK(sh->sh_offset <= size && sh->sh_size <= size - sh->sh_offset);
	}
	CHECK(ro->sh[1].sh_type == SHT_SYMTAB && ro->sh[1].sh_link == 2 &&
	      !strcmp(elf_strptr(ro->elf, 3, ro->sh[1].sh_name), ".symtab"));
	CHECK(ro->sh[1].sh_entsize == gelf_fsize(ro->elf, ELF_T_SYM, 1, EV_CURRENT));
	/* One symbol per kallsyms line, one STT_FILE per owner, the null one. */
	CHECK(ro->sh[1].sh_size == ro->sh[1].sh_entsize * (m->n_syms + m->n_owners + 1));
	CHECK(ro->sh[1].sh_info == 1 + m->n_owners + m->n_locals);
	CHECK(ro->sh[2].sh_type == SHT_STRTAB &&
	      !strcmp(elf_strptr(ro->elf, 3, ro->sh[2].sh_name), ".strtab"));
	CHECK(ro->sh[3].sh_type == SHT_STRTAB &&
	      !strcmp(elf_strptr(ro->elf, 3, ro->sh[3].sh_name), ".shstrtab"));
	CHECK(ro->sh[4].sh_type == SHT_PROGBITS && ro->sh[4].sh_link == 1 &&
	      ro->sh[4].sh_entsize == 1 && ro->sh[4].sh_size == m->n_syms + m->n_owners + 1 &&
	      !strcmp(elf_strptr(ro->elf, 3, ro->sh[4].sh_name), ".kallsyms.types"));
	ro->types = (const char *)img + ro->sh[4].sh_offset;
	ro->strtab = (const char *)img + ro->sh[2].sh_offset;
	ro->strsz = ro->sh[2].sh_size;
	CHECK(ro->strsz && ro->strtab[ro->strsz - 1] == '\0' && ro->strtab[0] == '\0');

	/* A section per region, owners in order, each where its owner says. */
	for (size_t o = 0; o < m->n_owners; o++) {
		const struct ks_owner *ow = &m->owners[o];

		for (size_t r = 0; r < ow->n_regions; r++, sec++) {
			const struct ks_region *rg = &ow->regions[r];
			const GElf_Shdr *sh = &ro->sh[sec];
			const char *name = elf_strptr(ro->elf, 3, sh->sh_name);
			uint64_t flags = SHF_ALLOC |
					 (rg->flags & KS_REGION_EXEC ? SHF_EXECINSTR : 0) |
					 (rg->flags & KS_REGION_WRITE ? SHF_WRITE : 0);
			size_t olen = strlen(ow->name);

			CHECK(sh->sh_type == SHT_NOBITS && sh->sh_flags == flags);
			CHECK(sh->sh_addr == rg->addr && sh->sh_size == rg->size);
			/* Within the class's address space: [addr, addr + size)
			 * may end at 2^32 (2^64), not past it. */
			CHECK(!sh->sh_size || sh->sh_size - 1 <= limit - sh->sh_addr);
			if (ow->kind == KS_OWNER_KERNEL)
				CHECK(!strcmp(name, rg->name));
			else
				CHECK(!strncmp(name, ow->name, olen) && name[olen] == ':' &&
				      !strcmp(name + olen + 1, rg->name));
			/* Sorted and disjoint within the owner. */
			if (r) {
				const struct ks_region *before = &ow->regions[r - 1];

				CHECK(rg->addr >= before->addr + before->size);
			}
			/* A module's region lies in its core, or (6.4+, where
			 * rodata and data are allocations of their own) holds
			 * some of its symbols: starts in the core, or has one. */
			if (ow->kind == KS_OWNER_MODULE &&
			    !(rg->addr >= ow->base && rg->size <= ow->size &&
			      rg->addr - ow->base <= ow->size - rg->size))
				CHECK((rg->addr >= ow->base && rg->addr - ow->base < ow->size) ||
				      owner_has_sym_in(m, ow, rg));
		}
	}

	/* A PT_LOAD per region, by address, each exactly its section. */
	for (size_t i = 0; i < phnum; i++) {
		bool found = false;

		CHECK(gelf_getphdr(ro->elf, (int)i, &ph));
		CHECK(ph.p_type == PT_LOAD && ph.p_filesz == 0);
		CHECK(!i || ph.p_vaddr >= prev.p_vaddr);
		for (size_t s = 5; s < ro->shnum && !found; s++) {
			const GElf_Shdr *sh = &ro->sh[s];

			found = sh->sh_addr == ph.p_vaddr && sh->sh_size == ph.p_memsz &&
				sh->sh_offset == ph.p_offset;
		}
		CHECK(found);
		prev = ph;
	}

	d = elf_getdata(elf_getscn(ro->elf, 1), NULL);
	CHECK(d && d->d_size == ro->sh[1].sh_size);
	ro->n_syms = ro->sh[1].sh_size / ro->sh[1].sh_entsize;
	ro->syms = calloc(ro->n_syms, sizeof(*ro->syms));
	CHECK(ro->syms);
	for (size_t i = 0; i < ro->n_syms; i++) {
		CHECK(gelf_getsym(d, (int)i, &ro->syms[i]));
		CHECK(ro->syms[i].st_name < ro->strsz);
	}
}

static void check_sym(const struct ro *ro, size_t i, const char *name, size_t len,
		      uint64_t value, uint64_t size, unsigned char info, uint16_t shndx)
{
	const GElf_Sym *s = &ro->syms[i];
	const char *got = ro->strtab + s->st_name;

	CHECK(strlen(got) == len && memcmp(got, name, len) == 0);
	CHECK(s->st_value == value && s->st_size == size && s->st_info == info &&
	      s->st_shndx == shndx && s->st_other == 0);
	CHECK(shndx == SHN_ABS || (shndx >= 5 && shndx < ro->shnum));
	if (shndx != SHN_ABS) {
		const GElf_Shdr *sh = &ro->sh[shndx];

		/* In its section, and not reaching past it. */
		CHECK(value >= sh->sh_addr && value - sh->sh_addr < sh->sh_size &&
		      size <= sh->sh_size - (value - sh->sh_addr));
	}
}

/* Every symbol in its place: the null one; per owner its STT_FILE and its
 * locals; then every owner's globals and weaks. */
static void check_symbols(const struct ks_model *m, const struct ro *ro)
{
	size_t i_loc = 1, i_glob = 1 + m->n_owners + m->n_locals, sec = 5;
	static const GElf_Sym zero;

	CHECK(sym_eq(&ro->syms[0], &zero) && ro->types[0] == 0);
	for (size_t o = 0; o < m->n_owners; sec += m->owners[o++].n_regions) {
		const struct ks_owner *ow = &m->owners[o];

		CHECK(ro->types[i_loc] == 0);
		check_sym(ro, i_loc++, ow->name, strlen(ow->name), 0, 0,
			  GELF_ST_INFO(STB_LOCAL, STT_FILE), SHN_ABS);
		for (size_t k = ow->first_sym; k < ow->first_sym + ow->n_syms; k++) {
			const struct ks_sym *s = &m->syms[k];
			size_t i = s->bind == STB_LOCAL ? i_loc++ : i_glob++;
			uint16_t shndx = s->region == KS_REGION_ABS ? SHN_ABS
								    : (uint16_t)(sec + s->region);

			CHECK(s->owner == o && ro->types[i] == s->letter);
			check_sym(ro, i, s->name, s->name_len, s->addr, s->size,
				  GELF_ST_INFO(s->bind, s->type), shndx);
		}
	}
	CHECK(i_loc == 1 + m->n_owners + m->n_locals && i_glob == ro->n_syms);
}

static void check_addr(const struct ro *ro, const struct ks_symindex *idx, uint64_t a)
{
	const char *name = NULL;
	uint64_t off = 0;
	GElf_Sym s;
	int r = ks_symindex_lookup_addr(idx, a, &s, &name, &off);
	bool found = false;

	if (r == -ENOENT) {
		for (size_t i = 1; i < ro->n_syms; i++)
			CHECK(!named(ro, i) || !covers(&ro->syms[i], a));
		return;
	}
	CHECK(r == 0 && covers(&s, a) && off == a - s.st_value);
	CHECK(name == ro->strtab + s.st_name);
	for (size_t i = 1; i < ro->n_syms; i++) {
		const GElf_Sym *t = &ro->syms[i];

		if (!named(ro, i))
			continue;
		found |= sym_eq(t, &s);
		if (!covers(t, a))
			continue;
		/* The innermost: no covering symbol starts later; among
		 * aliases, none ranks above it. */
		CHECK(t->st_value <= s.st_value);
		if (t->st_value == s.st_value)
			CHECK(bind_rank(t->st_info) <= bind_rank(s.st_info));
	}
	CHECK(found);
}

static void check_index(const struct ks_model *m, struct ro *ro, const unsigned char *img,
			size_t size, struct input *in)
{
	struct ks_error err = { 0 };
	struct ks_symindex *idx;
	char name[KS_NAME_MAX + 1];
	GElf_Sym s;

	if (ks_symindex_new(img, size, &idx, &err) != 0) {
		fprintf(stderr, "our own image does not index: %s\n", err.msg);
		abort();
	}
	CHECK(ks_symindex_count(idx) == m->n_syms);
	index_names(ro);
	for (size_t k = 0; k < m->n_syms; k++) {
		memcpy(name, m->syms[k].name, m->syms[k].name_len);
		name[m->syms[k].name_len] = '\0';
		CHECK(ks_symindex_lookup_name(idx, name, &s) == 0);
		CHECK(!strcmp(ro->strtab + s.st_name, name));
		CHECK(sym_eq(&s, &ro->syms[*best_slot(ro, name)]));
	}
	CHECK(ks_symindex_lookup_name(idx, "", &s) == -ENOENT);

	/* Around each symbol's edges, then addresses from the input. */
	for (size_t k = 0; k < m->n_syms && k < 64; k++) {
		const struct ks_sym *sy = &m->syms[k];

		check_addr(ro, idx, sy->addr);
		check_addr(ro, idx, sy->addr - 1);
		check_addr(ro, idx, sy->addr + sy->size);
		if (sy->size)
			check_addr(ro, idx, sy->addr + sy->size - 1);
	}
	check_addr(ro, idx, 0);
	check_addr(ro, idx, UINT64_MAX);
	for (int k = 0; k < 32 && in->n; k++)
		check_addr(ro, idx, u64(in));
	ks_symindex_free(idx);
}

/* ---- one input ---- */

/*
 * What a well-formed model may still not fit: a 64-bit address in a 32-bit
 * image (EOVERFLOW, or E2BIG for the file), or regions (which get virtual
 * file offsets one after the other) adding up past the class's offsets, as
 * markers at absurd addresses make them; and in a 32-bit image, a region
 * past 4 GiB (EOVERFLOW too). Anything else is the writer's failure.
 */
static bool expected_write_failure(const struct ks_model *m, int r)
{
	bool is32 = m->target.elf_class == ELFCLASS32;
	uint64_t total = 0;

	for (size_t o = 0; o < m->n_owners; o++) {
		for (size_t k = 0; k < m->owners[o].n_regions; k++) {
			const struct ks_region *rg = &m->owners[o].regions[k];

			total = rg->size > UINT64_MAX - total ? UINT64_MAX : total + rg->size;
		}
	}
	if (is32 && (r == -EOVERFLOW || r == -E2BIG))
		return true;
	return r == -EOVERFLOW && total > UINT64_MAX - (UINT64_C(1) << 32);
}

/* The image in a memfd, as snapshot.c writes it; read back into memory of
 * exactly its size (ASan then sees any read past it). */
static unsigned char *write_image(const struct ks_model *m, size_t *size)
{
	struct ks_error err = { 0 };
	unsigned char *img;
	struct stat st;
	int fd, r;

	fd = memfd_create("ksyms-fuzz", MFD_CLOEXEC);
	CHECK(fd >= 0);
	r = ks_elfimage_write(m, fd, size, &err);
	if (r < 0) {
		if (!expected_write_failure(m, r)) {
			fprintf(stderr, "ks_elfimage_write: %d: %s\n", r, err.msg);
			abort();
		}
		/* No half image is left behind. */
		CHECK(fstat(fd, &st) == 0 && st.st_size == 0);
		close(fd);
		return NULL;
	}
	CHECK(fstat(fd, &st) == 0 && (size_t)st.st_size == *size);
	img = malloc(*size);
	CHECK(img && pread(fd, img, *size, 0) == (ssize_t)*size);
	close(fd);
	return img;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = { data, size };
	struct modspec mods[MAX_MODS];
	struct text kt = { 0 }, mt = { 0 };
	struct ks_modlist list = { 0 };
	struct ks_kallsyms ks = { 0 };
	struct ks_model model = { 0 };
	struct ks_target target;
	struct ro ro = { 0 };
	unsigned char *img = NULL;
	size_t n_mods, lines, img_size = 0;
	bool is64, tail;

	CHECK(ks_target_from_machine(machines[u8(&in) % 8], &target) == 0);
	is64 = target.elf_class == ELFCLASS64;
	n_mods = u8(&in) % (MAX_MODS + 1);
	gen_modules(&in, is64, mods, n_mods);
	lines = gen_kallsyms(&in, is64, mods, n_mods, &kt, &tail);
	if (!kt.p)
		text_add(&kt, "", 0);

	/* proc/modules lists the newest first. */
	for (size_t i = n_mods; i-- > 0;)
		text_printf(&mt, "%s %llu 0 - Live 0x%llx\n", mods[i].name,
			    (unsigned long long)mods[i].size, (unsigned long long)mods[i].base);
	if (!mt.p)
		text_add(&mt, "", 0);
	CHECK(ks_modlist_parse(&list, mt.p, mt.len, NULL) == 0 && list.n == n_mods);
	for (size_t i = 0; i < n_mods; i++) {
		struct ks_module *m = &list.mods[i];

		CHECK(!strcmp(m->name, mods[i].name) && m->base == mods[i].base);
		m->sections = calloc(mods[i].n_sections + 1, sizeof(*m->sections));
		CHECK(m->sections);
		for (size_t k = 0; k < mods[i].n_sections; k++) {
			m->sections[k].name = strdup(mods[i].sections[k].name);
			CHECK(m->sections[k].name);
			m->sections[k].addr = mods[i].sections[k].addr;
		}
		/* As modsections.c hands them over: sorted by address. */
		qsort(m->sections, mods[i].n_sections, sizeof(*m->sections), cmp_section);
		m->n_sections = mods[i].n_sections;
	}

	/*
	 * ks_kallsyms_parse() starts with room for a distribution kernel's
	 * symbols (11 MB), whose allocation and ASan's poisoning of it would
	 * be most of each run. A table fed from a small allocation is the
	 * same parser state after its first growth, and exercises the growth
	 * no real kernel's text reaches.
	 */
	ks.cap = 4;
	ks.syms = malloc(ks.cap * sizeof(*ks.syms));
	CHECK(ks.syms);
	if (ks_kallsyms_parse_more(&ks, kt.p, kt.len, true, NULL) < 0) {
		/* Only the raw tail may be malformed. */
		CHECK(tail);
		goto out;
	}
	CHECK(tail ? ks.n_syms >= lines : ks.n_syms == lines);
	/* Parsed letters are letters the model knows. */
	CHECK(ks_model_build(&model, &ks, &list, &target, NULL) == 0);
	CHECK(model.n_syms == ks.n_syms && model.n_owners >= 1 + n_mods);

	img = write_image(&model, &img_size);
	if (!img)
		goto out;
	elf_version(EV_CURRENT);
	ro.elf = elf_memory((char *)img, img_size);
	CHECK(ro.elf && elf_kind(ro.elf) == ELF_K_ELF);
	check_sections(&model, &ro, img, img_size);
	check_symbols(&model, &ro);
	check_index(&model, &ro, img, img_size, &in);
out:
	elf_end(ro.elf);
	free(ro.sh);
	free(ro.syms);
	free(ro.best);
	free(img);
	ks_model_release(&model);
	ks_kallsyms_release(&ks);
	ks_modlist_release(&list);
	free(kt.p);
	free(mt.p);
	return 0;
}
