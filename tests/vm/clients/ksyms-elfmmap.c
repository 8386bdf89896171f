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

#include "symsum.h"

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
	if (!e || elf_kind(e) != ELF_K_ELF || symsum_elf(e, 1) < 0) {
		fprintf(stderr, "ksyms-elfmmap: %s: %s\n", path, elf_errmsg(-1));
		return 1;
	}
	elf_end(e);
	close(fd);
	return 0;
}
