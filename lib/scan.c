/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Lookups by one pass over .symtab (scan.h). The checks mirror
 * symindex.c's check_ident(), find_tables() and build() so that an image
 * one refuses the other refuses too; the rules mirror its lookups: of the
 * symbols holding an address, the one of the greatest value, then the
 * best binding (global or unique, weak, local), then the first in the
 * table; of a name, the best binding, then the first.
 */
#include "scan.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

static bool in_image(uint64_t off, uint64_t len, size_t size)
{
	return off <= size && len <= size - off;
}

static int check_ident(const unsigned char *id, size_t size)
{
	if (size < EI_NIDENT || memcmp(id, ELFMAG, SELFMAG) != 0 ||
	    (id[EI_CLASS] != ELFCLASS32 && id[EI_CLASS] != ELFCLASS64) ||
	    (id[EI_DATA] != ELFDATA2LSB && id[EI_DATA] != ELFDATA2MSB) ||
	    id[EI_VERSION] != EV_CURRENT ||
	    size < (id[EI_CLASS] == ELFCLASS32 ? sizeof(Elf32_Ehdr) : sizeof(Elf64_Ehdr)))
		return -EINVAL;
	return 0;
}

static int find_tables(struct ksi_scan *s, size_t size)
{
	size_t shnum, symndx = 0, shentsize;
	GElf_Shdr sh, symsh = { 0 }, strsh;
	Elf_Scn *scn, *symscn = NULL;
	GElf_Ehdr eh;

	if (!gelf_getehdr(s->elf, &eh) || elf_getshdrnum(s->elf, &shnum) != 0 || shnum == 0)
		return -EINVAL;
	shentsize = gelf_fsize(s->elf, ELF_T_SHDR, 1, EV_CURRENT);
	if (eh.e_shentsize != shentsize || shnum > SIZE_MAX / shentsize ||
	    !in_image(eh.e_shoff, shnum * shentsize, size))
		return -EINVAL;
	for (size_t i = 1; i < shnum; i++) {
		if (!(scn = elf_getscn(s->elf, i)) || !gelf_getshdr(scn, &sh))
			return -EINVAL;
		if (sh.sh_type != SHT_NOBITS && !in_image(sh.sh_offset, sh.sh_size, size))
			return -EINVAL;
		if (sh.sh_type == SHT_SYMTAB && !symndx) {
			symndx = i;
			symscn = scn;
			symsh = sh;
		}
	}
	if (!symndx || symsh.sh_entsize != gelf_fsize(s->elf, ELF_T_SYM, 1, EV_CURRENT) ||
	    symsh.sh_size % symsh.sh_entsize != 0 ||
	    symsh.sh_size / symsh.sh_entsize >= UINT32_MAX || symsh.sh_link == 0 ||
	    symsh.sh_link >= shnum || symsh.sh_link == symndx)
		return -EINVAL;
	if (!(scn = elf_getscn(s->elf, symsh.sh_link)) || !gelf_getshdr(scn, &strsh) ||
	    strsh.sh_type != SHT_STRTAB)
		return -EINVAL;
	s->strtab = (const char *)elf_rawfile(s->elf, NULL) + strsh.sh_offset;
	s->strsz = strsh.sh_size;
	if (strsh.sh_size == 0 || s->strtab[strsh.sh_size - 1] != '\0')
		return -EINVAL;
	s->symdata = elf_getdata(symscn, NULL);
	if (!s->symdata || s->symdata->d_type != ELF_T_SYM || s->symdata->d_size != symsh.sh_size ||
	    !s->symdata->d_buf)
		return -EINVAL;
	s->nsyms = symsh.sh_size / symsh.sh_entsize;
	return 0;
}

int ksi_scan_prepare(struct ksi_scan *s, const void *map, size_t size)
{
	int r;

	memset(s, 0, sizeof(*s));
	if (!map || check_ident(map, size) < 0 || elf_version(EV_CURRENT) == EV_NONE)
		return -EINVAL;
	s->elf = elf_memory((char *)map, size); /* only read: see symindex.c */
	if (!s->elf || elf_kind(s->elf) != ELF_K_ELF) {
		ksi_scan_release(s);
		return -EINVAL;
	}
	r = find_tables(s, size);
	if (r < 0)
		ksi_scan_release(s);
	return r;
}

void ksi_scan_release(struct ksi_scan *s)
{
	if (s->elf)
		elf_end(s->elf);
	memset(s, 0, sizeof(*s));
}

static unsigned rank(unsigned char info)
{
	unsigned char bind = GELF_ST_BIND(info);

	return bind == STB_GLOBAL || bind == STB_GNU_UNIQUE ? 2 : bind == STB_WEAK;
}

/* Symbol i, if the lookups know it; -EINVAL if its name is outside .strtab
 * (symindex refuses the whole image then), 0 if it is not one they know. */
static int known(const struct ksi_scan *s, size_t i, GElf_Sym *sym)
{
	unsigned char type;

	if (!gelf_getsym(s->symdata, (int)i, sym))
		return -EINVAL;
	if (sym->st_name >= s->strsz)
		return -EINVAL;
	type = GELF_ST_TYPE(sym->st_info);
	return type != STT_SECTION && type != STT_FILE && s->strtab[sym->st_name] != '\0';
}

int ksi_scan_addr(const struct ksi_scan *s, uint64_t addr, GElf_Sym *sym, const char **name,
		  uint64_t *offset)
{
	GElf_Sym c, best = { 0 };
	bool found = false;
	int r;

	for (size_t i = 1; i < s->nsyms; i++) {
		uint64_t extent;

		r = known(s, i, &c);
		if (r < 0)
			return r;
		if (!r || c.st_value > addr)
			continue;
		extent = c.st_size ? c.st_size : 1;
		if (addr - c.st_value >= extent)
			continue;
		/* Later in the table wins nothing at a tie: strictly better. */
		if (!found || c.st_value > best.st_value ||
		    (c.st_value == best.st_value && rank(c.st_info) > rank(best.st_info))) {
			best = c;
			found = true;
		}
	}
	if (!found)
		return -ENOENT;
	if (sym)
		*sym = best;
	if (name)
		*name = s->strtab + best.st_name;
	if (offset)
		*offset = addr - best.st_value;
	return 0;
}

int ksi_scan_name(const struct ksi_scan *s, const char *name, GElf_Sym *sym)
{
	GElf_Sym c, best = { 0 };
	bool found = false;
	int r;

	for (size_t i = 1; i < s->nsyms; i++) {
		r = known(s, i, &c);
		if (r < 0)
			return r;
		if (!r || (found && rank(c.st_info) <= rank(best.st_info)) ||
		    strcmp(s->strtab + c.st_name, name) != 0)
			continue;
		best = c;
		found = true;
	}
	if (!found)
		return -ENOENT;
	if (sym)
		*sym = best;
	return 0;
}
