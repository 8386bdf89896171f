/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * kallsyms letters back from ELF (letters.h). The kernel's own rule for a
 * module symbol (kernel/module/kallsyms.c elf_type()) reads the section's
 * flags: executable t, allocated and not written r, written d, NOBITS b;
 * upper case when exported. The image's sections are NOBITS stand-ins
 * whose flags ksymsd guessed from their names, so the name decides bss.
 */
#include "letters.h"

#include <string.h>

bool ksi_letter_valid(char c)
{
	return c != '\0' && strchr("TtWwVvDdBbRrGgSsCcAaNnUu?", c) != NULL;
}

static char cased(char lower, bool global)
{
	return global ? (char)(lower - 'a' + 'A') : lower;
}

/* ".bss", ".bss..page_aligned", "fuse:.bss", the kernel's ".brk". */
static bool is_bss(const char *secname)
{
	const char *colon = strchr(secname, ':');
	const char *own = colon ? colon + 1 : secname;

	return strncmp(own, ".bss", 4) == 0 || strcmp(own, ".brk") == 0;
}

char ksi_letter_derive(const GElf_Sym *sym, const GElf_Shdr *sh, const char *secname, bool kernel)
{
	unsigned char bind = GELF_ST_BIND(sym->st_info), type = GELF_ST_TYPE(sym->st_info);
	bool global = bind != STB_LOCAL;

	if (bind == STB_WEAK)
		return type == STT_OBJECT ? (kernel ? 'V' : 'v') : (kernel ? 'W' : 'w');
	switch (type) {
	case STT_FUNC:
		return cased('t', global);
	case STT_OBJECT:
		if (!sh)
			return cased('d', global);
		if (is_bss(secname))
			return cased('b', global);
		return cased(sh->sh_flags & SHF_WRITE ? 'd' : 'r', global);
	case STT_NOTYPE:
		/* Every A/a symbol is SHN_ABS and NOTYPE; N, U and ? are
		 * NOTYPE too, and show as A when they lie in no section. */
		return sym->st_shndx == SHN_ABS || !sh ? cased('a', global) : cased('n', global);
	default:
		return '?';
	}
}
