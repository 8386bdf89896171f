/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ksyms-illumos DEVICE: reads the symbols the way illumos tools use libelf
 * on /dev/ksyms: the size from lseek(fd, 0, SEEK_END), then mmap() of the
 * descriptor, elf_memory() on the mapping. Prints "COUNT SUM" as
 * ksyms-read does. The CUSE device can neither seek nor map: this needs
 * libksyms-preload. Exit status 0; 1 with a message on any error.
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
	off_t size;
	void *addr;
	Elf *e;
	int fd;

	fd = open(path, O_RDONLY);
	if (fd < 0 || (size = lseek(fd, 0, SEEK_END)) <= 0 || lseek(fd, 0, SEEK_SET) != 0) {
		fprintf(stderr, "ksyms-illumos: %s: no size (%s)\n", path, strerror(errno));
		return 1;
	}
	addr = mmap(NULL, (size_t)size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (addr == MAP_FAILED) {
		fprintf(stderr, "ksyms-illumos: mmap: %s\n", strerror(errno));
		return 1;
	}
	elf_version(EV_CURRENT);
	e = elf_memory(addr, (size_t)size);
	if (!e || sum_elf(e) < 0) {
		fprintf(stderr, "ksyms-illumos: %s\n", elf_errmsg(-1));
		return 1;
	}
	elf_end(e);
	munmap(addr, (size_t)size);
	close(fd);
	return 0;
}
