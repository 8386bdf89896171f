/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ksyms-elfmmap DEVICE: libelf on the descriptor itself,
 * elf_begin(fd, ELF_C_READ_MMAP): libelf takes the size from fstat() and
 * maps the file. Prints "COUNT SUM" as ksyms-read does. Needs
 * libksyms-preload (the device has st_size 0 and no mmap). Exit status 0;
 * 1 with a message on any error.
 */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <sys/ksyms.h>

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;

	while (n--)
		h = (h ^ *b++) * 0x100000001b3ull;
	return h;
}

static int sum_elf(Elf *e)
{
	uint64_t h = 0xcbf29ce484222325ull;
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;
	size_t n = 0;

	while ((scn = elf_nextscn(e, scn)))
		if (gelf_getshdr(scn, &sh) && sh.sh_type == SHT_SYMTAB)
			break;
	if (!scn)
		return -1;
	Elf_Data *d = elf_getdata(scn, NULL);

	for (size_t i = 1; d && i < sh.sh_size / sh.sh_entsize; i++) {
		const char *name;
		unsigned char v[8];
		GElf_Sym s;

		if (!gelf_getsym(d, (int)i, &s) || !(name = elf_strptr(e, sh.sh_link, s.st_name)))
			return -1;
		for (int k = 0; k < 8; k++)
			v[k] = (unsigned char)(s.st_value >> (8 * k));
		h = fnv(fnv(h, name, strlen(name) + 1), v, 8);
		n++;
	}
	printf("%zu %016" PRIx64 "\n", n, h);
	return 0;
}

int main(int argc, char **argv)
{
	const char *path = argc > 1 ? argv[1] : KSYMS_DEVICE;
	Elf *e;
	int fd;

	elf_version(EV_CURRENT);
	fd = open(path, O_RDONLY);
	if (fd < 0) {
		fprintf(stderr, "ksyms-elfmmap: %s: %s\n", path, strerror(errno));
		return 1;
	}
	e = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!e || elf_kind(e) != ELF_K_ELF || sum_elf(e) < 0) {
		fprintf(stderr, "ksyms-elfmmap: %s: %s\n", path, elf_errmsg(-1));
		return 1;
	}
	elf_end(e);
	close(fd);
	return 0;
}
