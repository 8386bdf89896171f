/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ksyms-read DEVICE: the reference reader of the libksyms guest tests, and
 * what a client does without libksyms: open, KIOCGSIZE, read(2) from the
 * start to EOF (the device cannot seek or map), elf_memory() on the copy.
 * Prints "COUNT SUM": the symbols after index 0 and an FNV-1a hash of
 * their names and values, in table order; every ksyms-* client prints the
 * same pair for the same image.
 * Exit status 0; 1 with a message on any error.
 */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <sys/ksyms.h>

#include "symsum.h"

int main(int argc, char **argv)
{
	const char *path = argc > 1 ? argv[1] : KSYMS_DEVICE;
	size_t size = 0, got = 0;
	char *buf, extra;
	ssize_t r;
	Elf *e;
	int fd;

	fd = open(path, O_RDONLY);
	if (fd < 0 || ioctl(fd, KIOCGSIZE, &size) < 0) {
		fprintf(stderr, "ksyms-read: %s: %s\n", path, strerror(errno));
		return 1;
	}
	buf = malloc(size ? size : 1);
	while (buf && got < size && (r = read(fd, buf + got, size - got > 65536 ? 65536 : size - got)) > 0)
		got += (size_t)r;
	if (!buf || got != size || read(fd, &extra, 1) != 0) {
		fprintf(stderr, "ksyms-read: read %zu of %zu bytes, or more\n", got, size);
		return 1;
	}
	elf_version(EV_CURRENT);
	e = elf_memory(buf, size);
	if (!e || symsum_elf(e, 1) < 0) {
		fprintf(stderr, "ksyms-read: %s: %s\n", path, elf_errmsg(-1));
		return 1;
	}
	elf_end(e);
	free(buf);
	close(fd);
	return 0;
}
