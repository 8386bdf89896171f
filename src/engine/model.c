/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * From kallsyms lines and the module list to the symbol model: owners,
 * their address regions, and each symbol's ELF binding, type, region and
 * size.
 *
 * Sizes: kallsyms has none, but clients drop size-0 symbols (illumos
 * lockstat), so a symbol's size is the distance to the next distinct address
 * of its owner, never past the end of its region. Aliases at one address
 * share one size.
 */
#include "model.h"

#include <elf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

int ks_letter_to_elf(char letter, uint8_t *bind, uint8_t *type)
{
	char up = (letter >= 'a' && letter <= 'z') ? (char)(letter - 'a' + 'A') : letter;

	switch (up) {
	case 'T':
		*type = STT_FUNC;
		break;
	case 'W':
		*type = STT_FUNC;
		break;
	case 'V':
	case 'D':
	case 'B':
	case 'R':
	case 'G':
	case 'S':
	case 'C':
		*type = STT_OBJECT;
		break;
	case 'A':
	case 'N':
	case 'U':
	case '?':
		*type = STT_NOTYPE;
		break;
	default:
		return -EINVAL;
	}
	if (up == 'W' || up == 'V')
		*bind = STB_WEAK;
	else if (letter == '?' || (letter >= 'A' && letter <= 'Z') || letter == 'u')
		*bind = STB_GLOBAL;
	else
		*bind = STB_LOCAL;
	return 0;
}

static const struct {
	const char *uname;
	unsigned char elf_class;
	unsigned char elf_data;
	uint16_t machine;
} targets[] = {
	{ "x86_64", ELFCLASS64, ELFDATA2LSB, EM_X86_64 },
	{ "i686", ELFCLASS32, ELFDATA2LSB, EM_386 },
	{ "i586", ELFCLASS32, ELFDATA2LSB, EM_386 },
	{ "i386", ELFCLASS32, ELFDATA2LSB, EM_386 },
	{ "aarch64", ELFCLASS64, ELFDATA2LSB, EM_AARCH64 },
	{ "aarch64_be", ELFCLASS64, ELFDATA2MSB, EM_AARCH64 },
	{ "armv7l", ELFCLASS32, ELFDATA2LSB, EM_ARM },
	{ "armv6l", ELFCLASS32, ELFDATA2LSB, EM_ARM },
	{ "riscv64", ELFCLASS64, ELFDATA2LSB, EM_RISCV },
	{ "ppc64le", ELFCLASS64, ELFDATA2LSB, EM_PPC64 },
	{ "ppc64", ELFCLASS64, ELFDATA2MSB, EM_PPC64 },
	{ "ppc", ELFCLASS32, ELFDATA2MSB, EM_PPC },
	{ "s390x", ELFCLASS64, ELFDATA2MSB, EM_S390 },
	{ "mips64", ELFCLASS64, ELFDATA2MSB, EM_MIPS },
	{ "mips", ELFCLASS32, ELFDATA2MSB, EM_MIPS },
	{ "loongarch64", ELFCLASS64, ELFDATA2LSB, EM_LOONGARCH },
};

int ks_target_from_machine(const char *uname_m, struct ks_target *t)
{
	for (size_t i = 0; i < sizeof(targets) / sizeof(targets[0]); i++) {
		if (strcmp(uname_m, targets[i].uname) == 0) {
			t->elf_class = targets[i].elf_class;
			t->elf_data = targets[i].elf_data;
			t->machine = targets[i].machine;
			return 0;
		}
	}
	return -ENOTSUP;
}

/*
 * The kernel's regions, from the linker's marker symbols. A region whose
 * markers are missing (other architectures, other configs) is left out; a
 * symbol outside every region gets SHN_ABS.
 */
static const struct {
	const char *name, *start, *end;
	uint32_t flags;
} kernel_regions[] = {
	{ ".text", "_stext", "_etext", KS_REGION_EXEC },
	{ ".rodata", "__start_rodata", "__end_rodata", 0 },
	{ ".data", "_sdata", "_edata", KS_REGION_WRITE },
	{ ".init.text", "_sinittext", "_einittext", KS_REGION_EXEC },
	/* Init data follows init text up to the end of init memory. */
	{ ".init.data", "_einittext", "__init_end", KS_REGION_WRITE },
	{ ".bss", "__bss_start", "__bss_stop", KS_REGION_WRITE },
	{ ".brk", "__brk_base", "__brk_limit", KS_REGION_WRITE },
	{ ".init.scratch", "__init_scratch_begin", "__init_scratch_end", KS_REGION_WRITE },
};
#define N_KERNEL_REGIONS (sizeof(kernel_regions) / sizeof(kernel_regions[0]))

static int cmp_region(const void *a, const void *b)
{
	const struct ks_region *x = a, *y = b;

	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	/* At one address, the empty region first: it then owns no symbol. */
	if (x->size != y->size)
		return x->size < y->size ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* Drop regions overlapping an earlier one, so sections never overlap. */
static size_t sort_regions(struct ks_region *r, size_t n)
{
	size_t out = 0;

	qsort(r, n, sizeof(*r), cmp_region);
	for (size_t i = 0; i < n; i++) {
		if (out && r[i].addr < r[out - 1].addr + r[out - 1].size)
			continue;
		r[out++] = r[i];
	}
	return out;
}

/* Is the symbol's name (not NUL-terminated) the string s? */
static bool name_is(const struct ks_sym *sym, const char *s)
{
	return strncmp(sym->name, s, sym->name_len) == 0 && s[sym->name_len] == '\0';
}

static int kernel_regions_build(struct ks_owner *o, const struct ks_sym *syms)
{
	uint64_t start[N_KERNEL_REGIONS] = { 0 }, end[N_KERNEL_REGIONS] = { 0 };
	bool have_start[N_KERNEL_REGIONS] = { false }, have_end[N_KERNEL_REGIONS] = { false };
	size_t n = 0;

	for (size_t i = o->first_sym; i < o->first_sym + o->n_syms; i++) {
		const char *name = syms[i].name;

		/* Every marker starts with '_': skip the rest cheaply. */
		if (name[0] != '_')
			continue;
		for (size_t k = 0; k < N_KERNEL_REGIONS; k++) {
			if (!have_start[k] && name[1] == kernel_regions[k].start[1] &&
			    name_is(&syms[i], kernel_regions[k].start)) {
				start[k] = syms[i].addr;
				have_start[k] = true;
			} else if (!have_end[k] && name[1] == kernel_regions[k].end[1] &&
				   name_is(&syms[i], kernel_regions[k].end)) {
				end[k] = syms[i].addr;
				have_end[k] = true;
			}
		}
	}
	o->regions = calloc(N_KERNEL_REGIONS, sizeof(*o->regions));
	if (!o->regions)
		return -ENOMEM;
	for (size_t k = 0; k < N_KERNEL_REGIONS; k++) {
		if (!have_start[k] || !have_end[k] || end[k] <= start[k] || start[k] == 0)
			continue;
		o->regions[n++] = (struct ks_region){
			.name = kernel_regions[k].name,
			.addr = start[k],
			.size = end[k] - start[k],
			.flags = kernel_regions[k].flags,
		};
	}
	o->n_regions = sort_regions(o->regions, n);
	return 0;
}

static bool has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

static uint32_t module_section_flags(const char *name)
{
	if (strstr(name, ".text") || has_prefix(name, ".altinstr_replacement"))
		return KS_REGION_EXEC;
	if (has_prefix(name, ".data") || has_prefix(name, ".bss") || has_prefix(name, "__param") ||
	    has_prefix(name, "__dyndbg") || has_prefix(name, ".gnu.linkonce.this_module") ||
	    has_prefix(name, "__jump_table") || has_prefix(name, "__bug_table"))
		return KS_REGION_WRITE;
	return 0;
}

/* Standard sections win ties: when several sections start at one address,
 * all but one are empty, and the symbols there are most likely code or data. */
static bool is_standard_section(const char *name)
{
	return has_prefix(name, ".text") || has_prefix(name, ".data") ||
	       has_prefix(name, ".bss") || has_prefix(name, ".rodata");
}

static int cmp_module_region(const void *a, const void *b)
{
	const struct ks_region *x = a, *y = b;
	bool sx, sy;

	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	sx = is_standard_section(x->name);
	sy = is_standard_section(y->name);
	if (sx != sy)
		return sx ? 1 : -1;
	return strcmp(x->name, y->name);
}

#define PAGE_SIZE_GUESS 4096u

static uint64_t page_end(uint64_t addr)
{
	return (addr | (PAGE_SIZE_GUESS - 1)) + 1;
}

/* The module's section that holds addr: the last to start at or below it;
 * -1 if none does. Sections are sorted by address. */
static ssize_t section_of(const struct ks_module *mod, uint64_t addr)
{
	size_t lo = 0, hi = mod->n_sections;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (mod->sections[mid].addr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return (ssize_t)lo - 1;
}

static bool is_abs_letter(char c)
{
	return c == 'A' || c == 'a';
}

/*
 * A module's regions. The core, [base, base + size) of proc/modules, is
 * one allocation up to 6.3: its sections each reach to the next one's start
 * or the core's end, and the sections outside it are stale (init memory
 * freed after load, the load-time symtab). From 6.4 on, text, rodata and
 * data are allocations of their own, and proc/modules gives the text's base
 * with the total size: a section outside the core that holds some of the
 * module's symbols is live too. It reaches to the next section's start,
 * but not past the page of its last symbol (allocations are whole pages,
 * and the next one may be another module's).
 */
static int module_regions_build(struct ks_owner *o, const struct ks_module *mod,
				const struct ks_sym *syms)
{
	uint64_t core_end = mod->base + mod->size, *last = NULL;
	size_t n = 0, n_core;

	o->regions = calloc(mod->n_sections ? mod->n_sections : 1, sizeof(*o->regions));
	if (mod->n_sections)
		last = calloc(mod->n_sections, sizeof(*last));
	if (!o->regions || (mod->n_sections && !last)) {
		free(last);
		return -ENOMEM;
	}
	for (size_t i = 0; i < mod->n_sections; i++) {
		const struct ks_module_section *s = &mod->sections[i];

		if (s->addr < mod->base || s->addr >= core_end)
			continue;
		o->regions[n++] = (struct ks_region){
			.name = s->name,
			.addr = s->addr,
			.flags = module_section_flags(s->name),
		};
	}
	qsort(o->regions, n, sizeof(*o->regions), cmp_module_region);
	/* Each ends where the next begins; of a tie, only the last has room. */
	for (size_t i = 0; i < n; i++)
		o->regions[i].size = (i + 1 < n ? o->regions[i + 1].addr : core_end) - o->regions[i].addr;
	n_core = n;

	/* Sections outside the core that hold symbols: the last symbol in each. */
	for (size_t i = o->first_sym; i < o->first_sym + o->n_syms; i++) {
		ssize_t k;

		if (is_abs_letter(syms[i].letter) || syms[i].addr == 0 ||
		    (syms[i].addr >= mod->base && syms[i].addr < core_end))
			continue;
		k = section_of(mod, syms[i].addr);
		if (k >= 0 && syms[i].addr >= last[k])
			last[k] = syms[i].addr + 1;
	}
	for (size_t i = 0; i < mod->n_sections; i++) {
		const struct ks_module_section *s = &mod->sections[i];
		uint64_t end;

		if (!last[i] || (s->addr >= mod->base && s->addr < core_end))
			continue;
		end = page_end(last[i] - 1);
		if (i + 1 < mod->n_sections && mod->sections[i + 1].addr < end)
			end = mod->sections[i + 1].addr;
		/* Of sections sharing a start, the last one sorted holds them. */
		if (end <= s->addr)
			continue;
		o->regions[n++] = (struct ks_region){
			.name = s->name,
			.addr = s->addr,
			.size = end - s->addr,
			.flags = module_section_flags(s->name),
		};
	}
	free(last);
	if (n > n_core)
		qsort(o->regions, n, sizeof(*o->regions), cmp_module_region);
	o->n_regions = sort_regions(o->regions, n);
	return 0;
}

/* Dynamic code (bpf, ftrace trampolines): one region over its pages. */
static int pseudo_regions_build(struct ks_owner *o, const struct ks_sym *syms)
{
	uint64_t lo = UINT64_MAX, hi = 0;

	for (size_t i = o->first_sym; i < o->first_sym + o->n_syms; i++) {
		if (syms[i].letter == 'A' || syms[i].letter == 'a' || syms[i].addr == 0)
			continue;
		if (syms[i].addr < lo)
			lo = syms[i].addr;
		if (syms[i].addr > hi)
			hi = syms[i].addr;
	}
	if (lo > hi)
		return 0;
	o->regions = calloc(1, sizeof(*o->regions));
	if (!o->regions)
		return -ENOMEM;
	lo &= ~(uint64_t)(PAGE_SIZE_GUESS - 1);
	hi = page_end(hi);
	o->regions[0] = (struct ks_region){ .name = ".text", .addr = lo, .size = hi - lo,
					    .flags = KS_REGION_EXEC };
	o->n_regions = 1;
	return 0;
}

static int cmp_sym_addr(const void *a, const void *b)
{
	const struct ks_sym *const *x = a, *const *y = b;

	if ((*x)->addr != (*y)->addr)
		return (*x)->addr < (*y)->addr ? -1 : 1;
	return (*x < *y) ? -1 : (*x > *y);
}

/*
 * Assign regions and sizes for one owner. by_addr is scratch space for
 * o->n_syms pointers. Kernel symbols come sorted by address already; module
 * symbols in symtab order, so sort when needed.
 */
static void owner_sizes(const struct ks_owner *o, struct ks_sym *syms, struct ks_sym **by_addr)
{
	size_t n = 0, n_abs, r = 0;
	bool sorted = true;

	/* Located symbols first, ABS-letter ones (per-CPU offsets) after. */
	for (size_t i = o->first_sym; i < o->first_sym + o->n_syms; i++)
		if (!is_abs_letter(syms[i].letter))
			by_addr[n++] = &syms[i];
	n_abs = n;
	for (size_t i = o->first_sym; i < o->first_sym + o->n_syms; i++)
		if (is_abs_letter(syms[i].letter))
			by_addr[n_abs++] = &syms[i];
	for (size_t i = 1; i < n && sorted; i++)
		sorted = by_addr[i - 1]->addr <= by_addr[i]->addr;
	if (!sorted)
		qsort(by_addr, n, sizeof(*by_addr), cmp_sym_addr);
	qsort(by_addr + n, n_abs - n, sizeof(*by_addr), cmp_sym_addr);

	for (size_t i = 0; i < n;) {
		uint64_t a = by_addr[i]->addr, next = UINT64_MAX, bound;
		uint32_t region = KS_REGION_ABS;
		size_t j = i;

		while (j < n && by_addr[j]->addr == a)
			j++;
		if (j < n)
			next = by_addr[j]->addr;
		while (r < o->n_regions && o->regions[r].addr + o->regions[r].size <= a)
			r++;
		if (r < o->n_regions && o->regions[r].addr <= a) {
			region = (uint32_t)r;
			bound = o->regions[r].addr + o->regions[r].size;
		} else if (r > 0 && o->regions[r - 1].addr + o->regions[r - 1].size == a) {
			/* An end marker (_etext, _edata, ...): it spans nothing. */
			bound = a;
		} else {
			/* Between regions: stop at the next one. */
			bound = r < o->n_regions ? o->regions[r].addr : next;
		}
		if (next < bound)
			bound = next;
		for (size_t k = i; k < j; k++) {
			by_addr[k]->region = region;
			by_addr[k]->size = bound == UINT64_MAX ? 0 : bound - a;
		}
		i = j;
	}
	for (size_t i = n; i < n_abs;) {
		uint64_t a = by_addr[i]->addr;
		size_t j = i;

		while (j < n_abs && by_addr[j]->addr == a)
			j++;
		for (size_t k = i; k < j; k++) {
			by_addr[k]->region = KS_REGION_ABS;
			by_addr[k]->size = j < n_abs ? by_addr[j]->addr - a : 0;
		}
		i = j;
	}
}

void ks_model_release(struct ks_model *m)
{
	for (size_t i = 0; i < m->n_owners; i++) {
		free(m->owners[i].regions);
		/* A pseudo-module's name is the model's copy of its tag. */
		if (m->owners[i].kind == KS_OWNER_PSEUDO)
			free((char *)m->owners[i].name);
	}
	free(m->owners);
	free(m->syms);
	memset(m, 0, sizeof(*m));
}

/* Owners: kernel, modules in load order, then pseudo-modules as first seen. */
static int owners_build(struct ks_model *m, const struct ks_kallsyms *ks,
			const struct ks_modlist *mods, uint32_t *sym_owner, struct ks_error *err)
{
	size_t cap = 1 + mods->n + 8;
	const struct ks_rawsym *prev = NULL;
	uint32_t prev_owner = 0;

	m->owners = calloc(cap, sizeof(*m->owners));
	if (!m->owners)
		return ks_error_set(err, ENOMEM, "out of memory");
	m->owners[0] = (struct ks_owner){ .name = "vmlinux", .kind = KS_OWNER_KERNEL };
	for (size_t i = 0; i < mods->n; i++)
		m->owners[1 + i] = (struct ks_owner){
			.name = mods->mods[i].name,
			.kind = KS_OWNER_MODULE,
			.base = mods->mods[i].base,
			.size = mods->mods[i].size,
		};
	m->n_owners = 1 + mods->n;

	/* A module's lines are contiguous in kallsyms: look its owner up once
	 * per run of lines, not once per line. */
	for (size_t i = 0; i < ks->n_syms; i++) {
		const struct ks_rawsym *raw = &ks->syms[i];
		size_t o;

		if (!raw->module) {
			sym_owner[i] = 0;
			continue;
		}
		if (prev && prev->module_len == raw->module_len &&
		    memcmp(prev->module, raw->module, raw->module_len) == 0) {
			sym_owner[i] = prev_owner;
			continue;
		}
		for (o = 1; o < m->n_owners; o++)
			if (strncmp(m->owners[o].name, raw->module, raw->module_len) == 0 &&
			    m->owners[o].name[raw->module_len] == '\0')
				break;
		if (o == m->n_owners) {
			char *name;

			if (m->n_owners == cap) {
				struct ks_owner *grown = realloc(m->owners, cap * 2 * sizeof(*grown));

				if (!grown)
					return ks_error_set(err, ENOMEM, "out of memory");
				memset(grown + cap, 0, cap * sizeof(*grown));
				m->owners = grown;
				cap *= 2;
			}
			name = strndup(raw->module, raw->module_len);
			if (!name)
				return ks_error_set(err, ENOMEM, "out of memory");
			m->owners[o] = (struct ks_owner){ .name = name, .kind = KS_OWNER_PSEUDO };
			m->n_owners++;
		}
		sym_owner[i] = prev_owner = (uint32_t)o;
		prev = raw;
	}
	return 0;
}

int ks_model_build(struct ks_model *m, const struct ks_kallsyms *ks,
		   const struct ks_modlist *mods, const struct ks_target *target,
		   struct ks_error *err)
{
	uint32_t *sym_owner = NULL;
	size_t *next = NULL, max_owner_syms = 0;
	struct ks_sym **scratch = NULL;
	int r;

	memset(m, 0, sizeof(*m));
	m->target = *target;
	sym_owner = malloc((ks->n_syms + 1) * sizeof(*sym_owner));
	m->syms = malloc((ks->n_syms + 1) * sizeof(*m->syms));
	if (!sym_owner || !m->syms) {
		r = ks_error_set(err, ENOMEM, "out of memory");
		goto fail;
	}
	r = owners_build(m, ks, mods, sym_owner, err);
	if (r < 0)
		goto fail;

	/* Group by owner, keeping file order within each (a counting sort). */
	next = calloc(m->n_owners, sizeof(*next));
	if (!next) {
		r = ks_error_set(err, ENOMEM, "out of memory");
		goto fail;
	}
	for (size_t i = 0; i < ks->n_syms; i++)
		m->owners[sym_owner[i]].n_syms++;
	for (size_t o = 0, first = 0; o < m->n_owners; o++) {
		m->owners[o].first_sym = next[o] = first;
		first += m->owners[o].n_syms;
		if (m->owners[o].n_syms > max_owner_syms)
			max_owner_syms = m->owners[o].n_syms;
	}
	for (size_t i = 0; i < ks->n_syms; i++) {
		const struct ks_rawsym *raw = &ks->syms[i];
		struct ks_sym *s = &m->syms[next[sym_owner[i]]++];

		s->name = raw->name;
		s->name_len = raw->name_len;
		s->addr = raw->addr;
		s->size = 0;
		s->owner = sym_owner[i];
		s->region = KS_REGION_ABS;
		s->letter = raw->type;
		if (ks_letter_to_elf(raw->type, &s->bind, &s->type) < 0) {
			r = ks_error_set(err, EINVAL, "symbol %.*s: unknown type letter '%c'",
					 (int)raw->name_len, raw->name, raw->type);
			goto fail;
		}
		if (s->bind == STB_LOCAL)
			m->n_locals++;
	}
	m->n_syms = ks->n_syms;

	scratch = malloc((max_owner_syms + 1) * sizeof(*scratch));
	if (!scratch) {
		r = ks_error_set(err, ENOMEM, "out of memory");
		goto fail;
	}
	for (size_t o = 0; o < m->n_owners; o++) {
		struct ks_owner *ow = &m->owners[o];

		if (ow->kind == KS_OWNER_KERNEL)
			r = kernel_regions_build(ow, m->syms);
		else if (ow->kind == KS_OWNER_MODULE)
			r = module_regions_build(ow, &mods->mods[o - 1], m->syms);
		else
			r = pseudo_regions_build(ow, m->syms);
		if (r < 0) {
			r = ks_error_set(err, ENOMEM, "out of memory");
			goto fail;
		}
		owner_sizes(ow, m->syms, scratch);
	}
	free(scratch);
	free(next);
	free(sym_owner);
	return 0;
fail:
	free(scratch);
	free(next);
	free(sym_owner);
	ks_model_release(m);
	return r;
}
