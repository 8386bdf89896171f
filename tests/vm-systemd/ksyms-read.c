/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ksyms-read: the systemd VM test's client. Opens DEVICE (default
 * /dev/ksyms), asks its size with KIOCGSIZE, reads it to the end and checks
 * that the bytes are an ELF image of exactly that size whose class and
 * machine are this host's. With -n, DEVICE is a plain file (a --dump) and
 * its size comes from fstat() instead: for trying the checks on a host.
 * With -s SECTION, the image must also have a section of that name (e.g.
 * "cuse:.text", which needs /sys/module/cuse/sections readable).
 * With -y NAME, .symtab must have a symbol of that name, and its address is
 * printed as "NAME=0x..." (the first one, for comparing with kallsyms);
 * with -Y NAME, it must have none.
 *
 * Prints "size=N read=M symbols=S nonzero=Z/D modsections=K": S symbols in
 * .symtab, Z of the D defined, non-FILE ones with a nonzero address, K
 * sections named "<owner>:<section>".
 * Exits 0 when the image is well formed with a .symtab of over 1000
 * symbols, 1 with a message when not (2: bad usage). Needs only libc, so the
 * guest runs the binary built for the host.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sys/ksyms.h>

static int fail(const char *what)
{
	fprintf(stderr, "ksyms-read: %s\n", what);
	return 1;
}

int main(int argc, char **argv)
{
	const char *path, *want = NULL, *sym_want = NULL, *sym_unwanted = NULL;
	bool sym_found = false, sym_unwanted_found = false;
	Elf64_Addr sym_value = 0;
	bool plain = false, found = false;
	size_t size = 0, got = 0, cap;
	unsigned char *img;
	Elf64_Ehdr eh;
	Elf64_Shdr sh, shstr, strtab;
	size_t nsyms = 0, ndefined = 0, nonzero = 0, modsections = 0, j;
	bool symtab = false;
	int fd, i;

	for (;;) {
		if (argc > 1 && strcmp(argv[1], "-n") == 0) {
			plain = true;
			argv++;
			argc--;
		} else if (argc > 2 && strcmp(argv[1], "-s") == 0) {
			want = argv[2];
			argv += 2;
			argc -= 2;
		} else if (argc > 2 && strcmp(argv[1], "-y") == 0) {
			sym_want = argv[2];
			argv += 2;
			argc -= 2;
		} else if (argc > 2 && strcmp(argv[1], "-Y") == 0) {
			sym_unwanted = argv[2];
			argv += 2;
			argc -= 2;
		} else {
			break;
		}
	}
	if (argc > 2) {
		fprintf(stderr, "usage: ksyms-read [-n] [-s SECTION] [-y SYMBOL] [-Y SYMBOL] [DEVICE]\n");
		return 2;
	}
	path = argc > 1 ? argv[1] : "/dev/ksyms";
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "ksyms-read: %s: %s\n", path, strerror(errno));
		return 1;
	}
	if (plain) {
		struct stat st;

		if (fstat(fd, &st) < 0)
			return fail("fstat failed");
		size = (size_t)st.st_size;
	} else if (ioctl(fd, KIOCGSIZE, &size) < 0) {
		fprintf(stderr, "ksyms-read: KIOCGSIZE: %s\n", strerror(errno));
		return 1;
	}
	if (size < sizeof(eh))
		return fail("KIOCGSIZE is smaller than an ELF header");
	/* Room for one byte more than announced, to see a read past the end. */
	cap = size + 1;
	img = malloc(cap);
	if (!img)
		return fail("out of memory");
	for (;;) {
		ssize_t r = read(fd, img + got, cap - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			fprintf(stderr, "ksyms-read: read at %zu: %s\n", got, strerror(errno));
			return 1;
		}
		if (r == 0 || (got += (size_t)r) == cap)
			break;
	}
	close(fd);
	printf("size=%zu read=%zu", size, got);
	if (got != size) {
		printf("\n");
		return fail("read a different number of bytes than KIOCGSIZE said");
	}
	memcpy(&eh, img, sizeof(eh));
	if (memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0) {
		printf("\n");
		return fail("no ELF magic");
	}
	if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_machine != EM_X86_64 ||
	    eh.e_shentsize != sizeof(sh) || eh.e_shoff > size ||
	    eh.e_shnum > (size - eh.e_shoff) / sizeof(sh)) {
		printf("\n");
		return fail("not a well-formed x86-64 ELF64 image");
	}
	if (eh.e_shstrndx >= eh.e_shnum) {
		printf("\n");
		return fail("no section name table");
	}
	memcpy(&shstr, img + eh.e_shoff + (size_t)eh.e_shstrndx * sizeof(sh), sizeof(sh));
	if (shstr.sh_offset > size || shstr.sh_size > size - shstr.sh_offset) {
		printf("\n");
		return fail("section name table out of bounds");
	}
	for (i = 0; i < eh.e_shnum; i++) {
		memcpy(&sh, img + eh.e_shoff + (size_t)i * sizeof(sh), sizeof(sh));
		if (sh.sh_name < shstr.sh_size &&
		    memchr(img + shstr.sh_offset + sh.sh_name, '\0', shstr.sh_size - sh.sh_name)) {
			const char *nm = (const char *)img + shstr.sh_offset + sh.sh_name;

			if (strchr(nm, ':'))
				modsections++;
			if (want && strcmp(nm, want) == 0)
				found = true;
		}
		if (sh.sh_type != SHT_SYMTAB || sh.sh_entsize != sizeof(Elf64_Sym) ||
		    sh.sh_offset > size || sh.sh_size > size - sh.sh_offset)
			continue;
		symtab = sh.sh_size > 1000 * sizeof(Elf64_Sym);
		/* The names, for -y/-Y: the section sh_link names. */
		strtab.sh_size = 0;
		if (sh.sh_link < eh.e_shnum) {
			memcpy(&strtab, img + eh.e_shoff + (size_t)sh.sh_link * sizeof(sh),
			       sizeof(strtab));
			if (strtab.sh_offset > size || strtab.sh_size > size - strtab.sh_offset)
				strtab.sh_size = 0;
		}
		for (j = 0; j < sh.sh_size / sizeof(Elf64_Sym); j++) {
			Elf64_Sym sym;

			memcpy(&sym, img + sh.sh_offset + j * sizeof(sym), sizeof(sym));
			nsyms++;
			if ((sym_want || sym_unwanted) && sym.st_name < strtab.sh_size &&
			    memchr(img + strtab.sh_offset + sym.st_name, '\0',
				   strtab.sh_size - sym.st_name)) {
				const char *nm = (const char *)img + strtab.sh_offset + sym.st_name;

				if (sym_want && !sym_found && strcmp(nm, sym_want) == 0) {
					sym_found = true;
					sym_value = sym.st_value;
				}
				if (sym_unwanted && strcmp(nm, sym_unwanted) == 0)
					sym_unwanted_found = true;
			}
			if (sym.st_shndx == SHN_UNDEF || ELF64_ST_TYPE(sym.st_info) == STT_FILE)
				continue;
			ndefined++;
			if (sym.st_value)
				nonzero++;
		}
	}
	printf(" symbols=%zu nonzero=%zu/%zu modsections=%zu\n", nsyms, nonzero, ndefined,
	       modsections);
	if (sym_found)
		printf("%s=0x%llx\n", sym_want, (unsigned long long)sym_value);
	free(img);
	if (sym_want && !sym_found) {
		fprintf(stderr, "ksyms-read: no symbol named %s\n", sym_want);
		return 1;
	}
	if (sym_unwanted_found) {
		fprintf(stderr, "ksyms-read: a symbol named %s is there\n", sym_unwanted);
		return 1;
	}
	if (want && !found) {
		fprintf(stderr, "ksyms-read: no section named %s\n", want);
		return 1;
	}
	return symtab ? 0 : fail("no .symtab with more than 1000 symbols");
}
