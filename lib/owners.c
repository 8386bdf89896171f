/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The image as a table of owners and symbols (owners.h).
 *
 * ksymsd writes, per owner, an STT_FILE symbol and then its locals, and
 * after all locals every owner's globals, owners in the same order (see
 * src/engine/elfimage.c). A symbol in a section belongs to the owner the
 * section's name gives ("fuse:.text"; no colon: the kernel). One in no
 * section (SHN_ABS) is placed by the table: a local by the STT_FILE before
 * it, a global by the located global before it (the kernel's if none):
 * the globals carry no marker of their own, so an owner whose globals all
 * lie in no section cannot be told from the one before it.
 *
 * The image was checked by symindex first: section headers, the symbol
 * table and name offsets are within bounds; names end inside .strtab.
 */
#include "owners.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "letters.h"

#define NONE UINT32_MAX

struct ksi_abs {
	uint32_t name; /* st_name */
	uint32_t owner;
	uint64_t value;
};

/* For owner_named(): the owners' indexes sorted by name. */
struct by_name {
	const struct ksyms_owner *owners;
	uint32_t *idx;
	size_t n;
};

static int cmp_owner_name(const void *a, const void *b, void *arg)
{
	const struct ksyms_owner *o = arg;

	return strcmp(o[*(const uint32_t *)a].name, o[*(const uint32_t *)b].name);
}

/* The owner whose name is the len bytes at name; NONE if none. */
static uint32_t owner_named(const struct by_name *bn, const char *name, size_t len)
{
	size_t lo = 0, hi = bn->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const char *s = bn->owners[bn->idx[mid]].name;
		int c = strncmp(s, name, len);

		if (c == 0 && s[len] != '\0')
			c = 1;
		if (c == 0)
			return bn->idx[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NONE;
}

static int kind_of(const char *name, size_t i)
{
	if (i == 0 && strcmp(name, "vmlinux") == 0)
		return KSYMS_OWNER_KERNEL;
	/* The names the kernel gives its dynamic code in kallsyms. */
	if (strcmp(name, "bpf") == 0 || strncmp(name, "__builtin__", 11) == 0)
		return KSYMS_OWNER_PSEUDO;
	return KSYMS_OWNER_MODULE;
}

static bool named(const GElf_Sym *s, const char *strtab)
{
	unsigned char type = GELF_ST_TYPE(s->st_info);

	/* What symindex counts: the lookups and the iteration agree. */
	return type != STT_SECTION && type != STT_FILE && strtab[s->st_name] != '\0';
}

/* Pass 1: the owners, and how many named symbols. */
static int count(struct ksi_table *t, size_t nsyms, size_t *nnamed)
{
	size_t nfiles = 0, n = 0, o = 0;
	bool implicit = false;
	GElf_Sym s;

	for (size_t i = 1; i < nsyms; i++) {
		/* A name outside .strtab: what symindex refuses the image for. */
		if (!gelf_getsym(t->symdata, (int)i, &s) || s.st_name >= t->strsz)
			return -EINVAL;
		if (GELF_ST_TYPE(s.st_info) == STT_FILE)
			nfiles++;
		else if (named(&s, t->strtab)) {
			n++;
			implicit |= nfiles == 0;
		}
	}
	/* A table that names no owner before its first symbol: the kernel's. */
	t->owners = calloc(nfiles + implicit + 1, sizeof(*t->owners));
	if (!t->owners)
		return -ENOMEM;
	if (implicit)
		t->owners[o++].name = "vmlinux";
	t->implicit_kernel = implicit;
	for (size_t i = 1; i < nsyms; i++) {
		gelf_getsym(t->symdata, (int)i, &s);
		if (GELF_ST_TYPE(s.st_info) == STT_FILE)
			t->owners[o++].name = t->strtab + s.st_name;
	}
	t->nowners = o;
	for (size_t i = 0; i < o; i++)
		t->owners[i].kind = kind_of(t->owners[i].name, i);
	*nnamed = n;
	return 0;
}

static void take_build_id(struct ksyms_owner *o, Elf_Scn *scn)
{
	Elf_Data *d = elf_getdata(scn, NULL);
	size_t off = 0, name_off, desc_off, next;
	GElf_Nhdr nh;

	if (!d || o->build_id)
		return;
	while ((next = gelf_getnote(d, off, &nh, &name_off, &desc_off)) > 0) {
		if (nh.n_type == NT_GNU_BUILD_ID && nh.n_namesz == 4 && nh.n_descsz > 0 &&
		    memcmp((const char *)d->d_buf + name_off, "GNU", 4) == 0) {
			o->build_id = (const unsigned char *)d->d_buf + desc_off;
			o->build_id_size = nh.n_descsz;
			return;
		}
		off = next;
	}
}

/* Sections: their owners, the owners' address spans and build-ids. */
static int sections(struct ksi_table *t, const struct by_name *bn, const char *shstr, size_t nsyms)
{
	uint32_t kernel = owner_named(bn, "vmlinux", 7);
	size_t size = 0;
	const char *raw = elf_rawfile(t->elf, &size);
	GElf_Shdr sh;
	Elf_Scn *scn;

	t->sec_owner = malloc((t->nsecs ? t->nsecs : 1) * sizeof(*t->sec_owner));
	t->shdrs = calloc(t->nsecs ? t->nsecs : 1, sizeof(*t->shdrs));
	if (!t->sec_owner || !t->shdrs)
		return -ENOMEM;
	t->sec_owner[0] = NONE;
	for (size_t i = 1; i < t->nsecs; i++) {
		const char *name, *colon;
		struct ksyms_owner *o;

		t->sec_owner[i] = NONE;
		if (!(scn = elf_getscn(t->elf, i)) || !gelf_getshdr(scn, &sh))
			return -EINVAL;
		t->shdrs[i] = sh;
		name = shstr + sh.sh_name;
		/* The first such section, if it is one letter per entry and
		 * lies in the file; one that is not is ignored. */
		if (raw && !t->recorded && sh.sh_type == SHT_PROGBITS &&
		    strcmp(name, KSI_LETTERS_SECTION) == 0 && sh.sh_size == nsyms &&
		    sh.sh_entsize == 1 && sh.sh_offset <= size && nsyms <= size - sh.sh_offset)
			t->recorded = raw + sh.sh_offset;
		if (sh.sh_type != SHT_NOBITS && sh.sh_type != SHT_NOTE)
			continue;
		colon = strchr(name, ':');
		t->sec_owner[i] = colon ? owner_named(bn, name, (size_t)(colon - name)) : kernel;
		if (t->sec_owner[i] == NONE)
			continue;
		o = &t->owners[t->sec_owner[i]];
		if (sh.sh_type == SHT_NOTE)
			take_build_id(o, scn);
		/* A module's notes are loaded with it (SHF_ALLOC, an address);
		 * the kernel's .notes has none. */
		if (!(sh.sh_flags & SHF_ALLOC) || sh.sh_size == 0 || sh.sh_addr == 0 ||
		    sh.sh_addr > UINT64_MAX - sh.sh_size)
			continue;
		if (o->start == o->end || sh.sh_addr < o->start)
			o->start = sh.sh_addr;
		if (sh.sh_addr + sh.sh_size > o->end)
			o->end = sh.sh_addr + sh.sh_size;
	}
	return 0;
}

static int cmp_abs(const void *pa, const void *pb)
{
	const struct ksi_abs *a = pa, *b = pb;

	if (a->name != b->name)
		return a->name < b->name ? -1 : 1;
	return (a->value > b->value) - (a->value < b->value);
}

/* Pass 2: each named symbol's index, owner and letter; the SHN_ABS ones. */
static int symbols(struct ksi_table *t, const char *shstr, size_t nsyms, size_t nnamed)
{
	uint32_t file = 0, last_global = 0, owner;
	const char *rec = t->recorded;
	size_t n = 0, nfiles = 0, nabs = 0;
	GElf_Sym s;

	t->order = malloc((nnamed ? nnamed : 1) * sizeof(*t->order));
	t->owner_of = malloc((nnamed ? nnamed : 1) * sizeof(*t->owner_of));
	t->letters = malloc(nnamed ? nnamed : 1);
	t->abs = malloc((nnamed ? nnamed : 1) * sizeof(*t->abs));
	if (!t->order || !t->owner_of || !t->letters || !t->abs)
		return -ENOMEM;
	for (size_t i = 1; i < nsyms; i++) {
		bool located, local;
		char letter;

		gelf_getsym(t->symdata, (int)i, &s);
		if (GELF_ST_TYPE(s.st_info) == STT_FILE) {
			file = (uint32_t)(nfiles++ + t->implicit_kernel);
			continue;
		}
		if (!named(&s, t->strtab))
			continue;
		located = s.st_shndx != SHN_UNDEF && s.st_shndx < SHN_LORESERVE &&
			  s.st_shndx < t->nsecs && t->sec_owner[s.st_shndx] != NONE;
		local = GELF_ST_BIND(s.st_info) == STB_LOCAL;
		if (located)
			owner = t->sec_owner[s.st_shndx];
		else
			owner = local ? file : last_global;
		if (located && !local)
			last_global = owner;
		if (!located) {
			t->abs[nabs++] = (struct ksi_abs){ .name = s.st_name,
							   .owner = owner,
							   .value = s.st_value };
		}
		letter = rec ? rec[i] : '\0';
		if (!ksi_letter_valid(letter)) {
			const GElf_Shdr *sh = located ? &t->shdrs[s.st_shndx] : NULL;

			letter = ksi_letter_derive(&s, sh, sh ? shstr + sh->sh_name : "",
						   t->owners[owner].kind == KSYMS_OWNER_KERNEL);
		}
		t->order[n] = (uint32_t)i;
		t->owner_of[n] = owner;
		t->letters[n] = letter;
		t->owners[owner].nsyms++;
		n++;
	}
	t->n = n;
	t->nabs = nabs;
	qsort(t->abs, nabs, sizeof(*t->abs), cmp_abs);
	return 0;
}

int ksi_table_build(struct ksi_table *t, const void *map, size_t size)
{
	struct by_name bn = { 0 };
	size_t shstrndx, nsyms, nnamed = 0;
	GElf_Shdr symsh, sh;
	Elf_Scn *scn = NULL, *symscn = NULL;
	const char *shstr;
	int r;

	memset(t, 0, sizeof(*t));
	t->elf = elf_memory((char *)map, size); /* only read: see symindex.c */
	if (!t->elf || elf_getshdrnum(t->elf, &t->nsecs) || elf_getshdrstrndx(t->elf, &shstrndx) ||
	    !(scn = elf_getscn(t->elf, shstrndx)) || !gelf_getshdr(scn, &sh) ||
	    sh.sh_type != SHT_STRTAB || sh.sh_size == 0) {
		r = -EINVAL;
		goto fail;
	}
	shstr = (const char *)map + sh.sh_offset;
	/* The symbol table symindex uses: the first. */
	while ((symscn = elf_nextscn(t->elf, symscn)) && gelf_getshdr(symscn, &symsh) &&
	       symsh.sh_type != SHT_SYMTAB)
		;
	if (!symscn || !(scn = elf_getscn(t->elf, symsh.sh_link)) || !gelf_getshdr(scn, &sh) ||
	    !(t->symdata = elf_getdata(symscn, NULL)) || symsh.sh_entsize == 0) {
		r = -EINVAL;
		goto fail;
	}
	t->strtab = (const char *)map + sh.sh_offset;
	t->strsz = sh.sh_size;
	nsyms = symsh.sh_size / symsh.sh_entsize;
	r = count(t, nsyms, &nnamed);
	if (r < 0)
		goto fail;
	bn.owners = t->owners;
	bn.n = t->nowners;
	bn.idx = malloc((bn.n ? bn.n : 1) * sizeof(*bn.idx));
	if (!bn.idx) {
		r = -ENOMEM;
		goto fail;
	}
	for (size_t i = 0; i < bn.n; i++)
		bn.idx[i] = (uint32_t)i;
	qsort_r(bn.idx, bn.n, sizeof(*bn.idx), cmp_owner_name, t->owners);
	r = sections(t, &bn, shstr, nsyms);
	if (r == 0 && t->nowners == 0 && nnamed)
		r = -EINVAL;
	if (r == 0)
		r = symbols(t, shstr, nsyms, nnamed);
	free(bn.idx);
	if (r == 0)
		return 0;
fail:
	ksi_table_release(t);
	return r;
}

void ksi_table_release(struct ksi_table *t)
{
	free(t->owners);
	free(t->sec_owner);
	free(t->shdrs);
	free(t->order);
	free(t->owner_of);
	free(t->letters);
	free(t->abs);
	if (t->elf)
		elf_end(t->elf);
	memset(t, 0, sizeof(*t));
}

int ksi_table_symbol(const struct ksi_table *t, size_t i, GElf_Sym *sym)
{
	return gelf_getsym(t->symdata, (int)t->order[i], sym) ? 0 : -EINVAL;
}

long ksi_table_owner_of(const struct ksi_table *t, unsigned shndx, uint64_t value, uint32_t st_name)
{
	struct ksi_abs key = { .name = st_name, .value = value }, *hit;

	if (shndx != SHN_UNDEF && shndx < SHN_LORESERVE && shndx < t->nsecs &&
	    t->sec_owner[shndx] != NONE)
		return t->sec_owner[shndx];
	hit = bsearch(&key, t->abs, t->nabs, sizeof(*t->abs), cmp_abs);
	return hit ? (long)hit->owner : -ENOENT;
}
