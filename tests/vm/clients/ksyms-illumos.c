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

#include "symsum.h"

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
	if (!e || symsum_elf(e, 1) < 0) {
		fprintf(stderr, "ksyms-illumos: %s\n", elf_errmsg(-1));
		return 1;
	}
	elf_end(e);
	munmap(addr, (size_t)size);
	close(fd);
	return 0;
}
