/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The one summary every ksyms-* client prints, so that the guest test can
 * compare what each way of reading the image saw: "COUNT FNV64", the
 * symbol count (less index 0) and an FNV-1a hash over each symbol's name
 * (with its NUL) and 8-byte little-endian value, in table order.
 */
#pragma once

#include <gelf.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define SYMSUM_INIT 0xcbf29ce484222325ull

static inline uint64_t symsum_fnv(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;

	while (n--)
		h = (h ^ *b++) * 0x100000001b3ull;
	return h;
}

static inline uint64_t symsum_add(uint64_t h, const char *name, uint64_t value)
{
	unsigned char v[8];

	for (int k = 0; k < 8; k++)
		v[k] = (unsigned char)(value >> (8 * k));
	return symsum_fnv(symsum_fnv(h, name, strlen(name) + 1), v, 8);
}

/* Summarise e's .symtab; print it if asked. Returns the count, -1 on error. */
static inline long symsum_elf(Elf *e, int print)
{
	uint64_t h = SYMSUM_INIT;
	Elf_Scn *scn = NULL;
	Elf_Data *d;
	GElf_Shdr sh;
	long n = 0;

	while ((scn = elf_nextscn(e, scn)))
		if (gelf_getshdr(scn, &sh) && sh.sh_type == SHT_SYMTAB)
			break;
	if (!scn || sh.sh_entsize == 0)
		return -1;
	d = elf_getdata(scn, NULL);
	for (size_t i = 1; d && i < sh.sh_size / sh.sh_entsize; i++) {
		const char *name;
		GElf_Sym s;

		if (!gelf_getsym(d, (int)i, &s) || !(name = elf_strptr(e, sh.sh_link, s.st_name)))
			return -1;
		h = symsum_add(h, name, s.st_value);
		n++;
	}
	if (print)
		printf("%ld %016" PRIx64 "\n", n, h);
	return n;
}
