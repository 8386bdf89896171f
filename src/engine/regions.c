/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The address regions of the model's owners, each of which becomes an
 * SHT_NOBITS section of the image: the kernel's from its linker markers,
 * a module's from its sections (an SHT_NOTE with the bytes of its notes
 * file, if it has one), a pseudo-module's from its symbols.
 */
#include "regions.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "notes.h"

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

int ks_regions_kernel(struct ks_owner *o, const struct ks_sym *syms)
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

/*
 * 6.4+: the core's size is the module's total, not its first allocation's,
 * so the section that holds the core's end may go on past it, and symbols
 * past the end whose section starts inside the core (last, indexed like
 * mod->sections) belong to the core's last region: it reaches to their
 * page, but not to the next section of the module.
 */
static void extend_core_end(struct ks_region *regions, size_t n_core, const struct ks_module *mod,
			    const uint64_t *last)
{
	uint64_t core_end = mod->base + mod->size, beyond = 0, end;
	struct ks_region *r;

	for (size_t i = 0; i < mod->n_sections; i++)
		if (mod->sections[i].addr >= mod->base && mod->sections[i].addr < core_end &&
		    last[i] > beyond)
			beyond = last[i];
	if (!beyond || !n_core)
		return;
	r = &regions[n_core - 1];
	end = page_end(beyond - 1);
	for (size_t i = 0; i < mod->n_sections; i++)
		if (mod->sections[i].addr >= core_end && mod->sections[i].addr < end)
			end = mod->sections[i].addr;
	if (end > r->addr + r->size)
		r->size = end - r->addr;
}

/*
 * The regions of the sections whose notes files the image has hold those
 * bytes: "fuse:.note.gnu.build-id" is one SHT_NOTE section with its
 * address, not that and an empty SHT_NOBITS of the same name, and the
 * symbols in it (each module's _note_<n> in its .note.Linux) stay in a
 * section of their module. Such a region is as long as its notes: the
 * rest, up to the next section, is alignment padding. Notes longer than
 * the room their section has cannot be its bytes (a torn read): they stay
 * a notes section without an address (elfimage.c), the region as it was.
 */
static void attach_notes(struct ks_region *r, size_t n, const struct ks_module *mod)
{
	for (size_t i = 0; i < n; i++) {
		const struct ks_notes *nt = ks_module_notes(mod, r[i].name);

		if (nt && nt->size <= r[i].size) {
			r[i].notes = nt;
			r[i].size = nt->size;
		}
	}
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
int ks_regions_module(struct ks_owner *o, const struct ks_module *mod,
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

	/* Symbols outside the core: the last one in each section. */
	for (size_t i = o->first_sym; i < o->first_sym + o->n_syms; i++) {
		ssize_t k;

		if (ks_letter_is_abs(syms[i].letter) || syms[i].addr == 0 ||
		    (syms[i].addr >= mod->base && syms[i].addr < core_end))
			continue;
		k = section_of(mod, syms[i].addr);
		if (k >= 0 && syms[i].addr >= last[k])
			last[k] = syms[i].addr + 1;
	}
	extend_core_end(o->regions, n_core, mod, last);
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
	attach_notes(o->regions, o->n_regions, mod);
	return 0;
}

/* Dynamic code (bpf, ftrace trampolines): one region over its pages. */
int ks_regions_pseudo(struct ks_owner *o, const struct ks_sym *syms)
{
	uint64_t lo = UINT64_MAX, hi = 0;

	for (size_t i = o->first_sym; i < o->first_sym + o->n_syms; i++) {
		if (ks_letter_is_abs(syms[i].letter) || syms[i].addr == 0)
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
