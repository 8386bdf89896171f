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

/* The section's own name: "fuse:.bss" -> ".bss". */
static const char *own_name(const char *secname)
{
	const char *colon = strchr(secname, ':');

	return colon ? colon + 1 : secname;
}

/* ".bss", ".bss..page_aligned", "fuse:.bss", the kernel's ".brk". */
static bool is_bss(const char *secname)
{
	const char *own = own_name(secname);

	return strncmp(own, ".bss", 4) == 0 || strcmp(own, ".brk") == 0;
}

/*
 * Is a module's section writable in the module's own ELF, which is what
 * the kernel's letter says? ksymsd guesses the flags of the sections it
 * lists from fewer names; these are the module sections whose objects the
 * kernel shows as d where that guess says r, and __param, which it shows
 * as r. -1: no opinion, the image's flags decide.
 */
static int module_section_writable(const char *secname)
{
	static const char *const writable[] = {
		".ref.data",	    ".exit.data",	"__tracepoints", "_ftrace_events",
		"__bpf_raw_tp_map", "_ftrace_eval_map", ".init.data",
	};
	const char *own = own_name(secname);

	if (strcmp(own, "__param") == 0)
		return 0;
	for (size_t i = 0; i < sizeof(writable) / sizeof(writable[0]); i++)
		if (strcmp(own, writable[i]) == 0)
			return 1;
	return -1;
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
		/* A module's objects in no section are its notes' (.note.Linux,
		 * read-only); the kernel's lie between its regions. */
		if (!sh)
			return cased(kernel ? 'd' : 'r', global);
		if (is_bss(secname))
			return cased('b', global);
		if (!kernel && module_section_writable(secname) >= 0)
			return cased(module_section_writable(secname) ? 'd' : 'r', global);
		return cased(sh->sh_flags & SHF_WRITE ? 'd' : 'r', global);
	case STT_NOTYPE:
		/* Every A/a symbol is SHN_ABS and NOTYPE; N, U and ? are
		 * NOTYPE too, and show as A when they lie in no section. */
		return sym->st_shndx == SHN_ABS || !sh ? cased('a', global) : cased('n', global);
	default:
		return '?';
	}
}
