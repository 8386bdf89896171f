/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ksyms-fbsd DEVICE: reads the symbols the way FreeBSD's lockstat does on
 * FreeBSD: open, KIOCGSIZE, KIOCGADDR (the kernel's mapping of the image),
 * elf_memory() on it. Prints "COUNT SUM" as ksyms-read does. On Linux the
 * daemon cannot map memory into its client and answers KIOCGADDR with
 * EOPNOTSUPP: exit status 3 then, with "KIOCGADDR: <error>" on stderr;
 * under libksyms-preload it works. Other errors: 1.
 */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <sys/ksyms.h>

#include "symsum.h"

int main(int argc, char **argv)
{
	const char *path = argc > 1 ? argv[1] : KSYMS_DEVICE;
	void *addr = NULL;
	size_t size = 0;
	Elf *e;
	int fd;

	fd = open(path, O_RDONLY);
	if (fd < 0 || ioctl(fd, KIOCGSIZE, &size) < 0) {
		fprintf(stderr, "ksyms-fbsd: %s: %s\n", path, strerror(errno));
		return 1;
	}
	if (ioctl(fd, KIOCGADDR, &addr) < 0) {
		fprintf(stderr, "KIOCGADDR: %s\n", strerror(errno));
		return 3;
	}
	elf_version(EV_CURRENT);
	e = elf_memory(addr, size);
	if (!e || symsum_elf(e, 1) < 0) {
		fprintf(stderr, "ksyms-fbsd: %s\n", elf_errmsg(-1));
		return 1;
	}
	elf_end(e);
	close(fd);	/* FreeBSD unmaps the image here; so does the preload */
	return 0;
}
