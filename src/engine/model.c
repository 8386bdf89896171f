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
#include "regions.h"

#include <elf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

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

/* The machine whose kernel we describe: uname, or <root>/uname-m for a
 * fixture tree captured elsewhere. */
int ks_target_for_root(const struct ks_root *root, struct ks_target *t, struct ks_error *err)
{
	char machine[65] = "";
	struct utsname un;
	ssize_t n = -1;
	int fd;

	fd = ks_root_open_file(root, "uname-m", err);
	if (fd < 0 && fd != -ENOENT)
		return fd;
	if (fd >= 0) {
		n = read(fd, machine, sizeof(machine) - 1);
		close(fd);
	}
	machine[n > 0 ? n : 0] = '\0';
	machine[strcspn(machine, "\n")] = '\0';
	if (!machine[0]) {
		if (uname(&un) < 0)
			return ks_error_set(err, errno, "uname: %s", strerror(errno));
		snprintf(machine, sizeof(machine), "%s", un.machine);
	}
	if (ks_target_from_machine(machine, t) < 0)
		return ks_error_set(err, ENOTSUP, "unsupported machine \"%s\"", machine);
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
void ks_model_owner_sizes(const struct ks_owner *o, struct ks_sym *syms, struct ks_sym **by_addr)
{
	size_t n = 0, n_abs, r = 0;
	bool sorted = true;

	/* Located symbols first, ABS-letter ones (per-CPU offsets) after. */
	for (size_t i = o->first_sym; i < o->first_sym + o->n_syms; i++)
		if (!ks_letter_is_abs(syms[i].letter))
			by_addr[n++] = &syms[i];
	n_abs = n;
	for (size_t i = o->first_sym; i < o->first_sym + o->n_syms; i++)
		if (ks_letter_is_abs(syms[i].letter))
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
	/* Only pseudo-modules get symbols announced by the kernel. */
	for (size_t o = 0; o < m->n_owners && m->n_syms; o++) {
		const struct ks_owner *ow = &m->owners[o];

		if (ow->kind != KS_OWNER_PSEUDO || ow->first_sym > m->n_syms ||
		    ow->n_syms > m->n_syms - ow->first_sym)
			continue;
		for (size_t i = ow->first_sym; i < ow->first_sym + ow->n_syms; i++)
			if (m->syms[i].flags & KS_SYM_OWNS_NAME)
				free((char *)m->syms[i].name);
	}
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
			.notes = mods->mods[i].notes,
			.n_notes = mods->mods[i].n_notes,
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
		s->flags = 0;
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
			r = ks_regions_kernel(ow, m->syms);
		else if (ow->kind == KS_OWNER_MODULE)
			r = ks_regions_module(ow, &mods->mods[o - 1], m->syms);
		else
			r = ks_regions_pseudo(ow, m->syms);
		if (r < 0) {
			r = ks_error_set(err, ENOMEM, "out of memory");
			goto fail;
		}
		ks_model_owner_sizes(ow, m->syms, scratch);
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
