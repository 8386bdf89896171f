/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ksyms-nbsd DEVICE: reads the symbols the way NetBSD tools read
 * /dev/ksyms without libelf: pread() of the ELF header, of the section
 * headers, of the symbol table and its strings (plain <elf.h>, native class
 * and byte order). Then asks the device itself, KIOCGVALUE and KIOCGSYMBOL,
 * for a few global names and checks the answers against its own table.
 * Prints "COUNT SUM" as ksyms-read does, and "lookups: N" on stderr.
 * pread needs libksyms-preload (the device ignores the offset); the
 * lookups are the daemon's, forwarded. Exit status 0; 1 on any error or
 * disagreement.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <sys/ksyms.h>

#include "symsum.h"

#if UINTPTR_MAX == UINT64_MAX
typedef Elf64_Ehdr Ehdr;
typedef Elf64_Shdr Shdr;
#define ST_BIND ELF64_ST_BIND
#else
typedef Elf32_Ehdr Ehdr;
typedef Elf32_Shdr Shdr;
#define ST_BIND ELF32_ST_BIND
#endif

static int fd;

static void *get(uint64_t off, uint64_t len)
{
	char *p = malloc(len ? len : 1);

	if (!p || pread(fd, p, len, (off_t)off) != (ssize_t)len) {
		fprintf(stderr, "ksyms-nbsd: pread %" PRIu64 "@%" PRIu64 ": %s\n", len, off,
			strerror(errno));
		exit(1);
	}
	return p;
}

/* The first global of that name in the table, NetBSD's answer. */
static const Elf_Sym *first_global(const Elf_Sym *syms, size_t n, const char *strs,
				   size_t strsz, const char *name)
{
	for (size_t i = 1; i < n; i++)
		if (ST_BIND(syms[i].st_info) == STB_GLOBAL && syms[i].st_name < strsz &&
		    strcmp(strs + syms[i].st_name, name) == 0)
			return &syms[i];
	return NULL;
}

int main(int argc, char **argv)
{
	static const char *names[] = { "_text", "init_task", "jiffies", "_printk",
				       "kallsyms_lookup_name", "fuse_conn_init" };
	const char *path = argc > 1 ? argv[1] : KSYMS_DEVICE;
	uint64_t h = SYMSUM_INIT;
	const Elf_Sym *syms;
	const char *strs;
	size_t n, lookups = 0;
	Ehdr *eh;
	Shdr *sh;
	unsigned i, symtab = 0;

	fd = open(path, O_RDONLY);
	if (fd < 0) {
		fprintf(stderr, "ksyms-nbsd: %s: %s\n", path, strerror(errno));
		return 1;
	}
	eh = get(0, sizeof(*eh));
	if (memcmp(eh->e_ident, ELFMAG, SELFMAG) || eh->e_shentsize != sizeof(Shdr)) {
		fprintf(stderr, "ksyms-nbsd: not a native ELF image\n");
		return 1;
	}
	sh = get(eh->e_shoff, (uint64_t)eh->e_shnum * sizeof(*sh));
	for (i = 1; i < eh->e_shnum && !symtab; i++)
		if (sh[i].sh_type == SHT_SYMTAB)
			symtab = i;
	if (!symtab || sh[symtab].sh_link >= eh->e_shnum) {
		fprintf(stderr, "ksyms-nbsd: no symbol table\n");
		return 1;
	}
	syms = get(sh[symtab].sh_offset, sh[symtab].sh_size);
	strs = get(sh[sh[symtab].sh_link].sh_offset, sh[sh[symtab].sh_link].sh_size);
	n = sh[symtab].sh_size / sizeof(Elf_Sym);
	for (size_t k = 1; k < n; k++) {
		h = symsum_add(h, strs + syms[k].st_name, (uint64_t)syms[k].st_value);
	}
	printf("%zu %016" PRIx64 "\n", n - 1, h);

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		const Elf_Sym *want = first_global(syms, n, strs, sh[sh[symtab].sh_link].sh_size,
						   names[i]);
		struct ksyms_gvalue gv = { .kv_name = names[i] };
		struct ksyms_gsymbol gs = { .kg_name = names[i] };

		if (!want)
			continue;
		if (ioctl(fd, KIOCGVALUE, &gv) < 0 || ioctl(fd, KIOCGSYMBOL, &gs) < 0) {
			fprintf(stderr, "ksyms-nbsd: lookup %s: %s\n", names[i], strerror(errno));
			return 1;
		}
		if (gv.kv_value != want->st_value || gs.kg_sym.st_value != want->st_value ||
		    gs.kg_sym.st_name != want->st_name) {
			fprintf(stderr, "ksyms-nbsd: %s: device says %" PRIx64 ", table %" PRIx64 "\n",
				names[i], gv.kv_value, (uint64_t)want->st_value);
			return 1;
		}
		lookups++;
	}
	fprintf(stderr, "lookups: %zu\n", lookups);
	close(fd);
	return lookups ? 0 : 1;
}
