/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * bpf-load: makes the kernel add and remove dynamic symbols, for the guest
 * tests. Loads "r0 = imm; exit" as a socket filter through bpf(2) itself
 * (tests/common/bpfprog.h). With the JIT on the kernel lists each loaded
 * program in /proc/kallsyms as "ADDR t bpf_prog_<tag>_<name>\t[bpf]" until
 * its last fd closes.
 *
 *   bpf-load hold NAME    load one program named NAME (at most 15 bytes of
 *                         [A-Za-z0-9_.]), print its kallsyms name
 *                         (bpf_prog_<16 hex tag>_<name>), then wait for a
 *                         line or EOF on stdin, close it (unloaded) and exit
 *   bpf-load cycle N [NAME]
 *                         load and close N programs (NAME default "ksyms_cyc"),
 *                         each with its own tag; print "cycles N"
 *
 * imm comes from the pid and a counter, so that programs of different
 * processes get different tags. Exit status 0; 77 with one line if bpf(2)
 * cannot load a program here (ENOSYS, EPERM); 1 with one line on any other
 * failure; 2 on bad usage.
 */
#include <errno.h>
#include <linux/bpf.h>		/* BPF_OBJ_NAME_LEN */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/common/bpfprog.h"

static int load_or_die(int32_t imm, const char *name)
{
	int fd = bpfprog_load(imm, name);

	if (fd >= 0)
		return fd;
	fprintf(stderr, "bpf-load: BPF_PROG_LOAD of a socket filter: %s\n", strerror(-fd));
	exit(fd == -ENOSYS || fd == -EPERM ? 77 : 1);
}

/* The kernel takes [A-Za-z0-9_.] in a name, 15 bytes at most. */
static int name_ok(const char *name)
{
	size_t n = strlen(name);

	return n > 0 && n < BPF_OBJ_NAME_LEN &&
	       strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.") == n;
}

int main(int argc, char **argv)
{
	int32_t imm = (int32_t)((unsigned)getpid() << 12);
	char sym[64], line[64];
	int fd, r;

	if (argc == 3 && !strcmp(argv[1], "hold")) {
		if (!name_ok(argv[2])) {
			fprintf(stderr, "bpf-load: bad program name '%s' (1-15 of [A-Za-z0-9_.])\n",
				argv[2]);
			return 2;
		}
		fd = load_or_die(imm, argv[2]);
		if ((r = bpfprog_info(fd, sym, sizeof(sym), NULL)) < 0) {
			fprintf(stderr, "bpf-load: BPF_OBJ_GET_INFO_BY_FD: %s\n", strerror(-r));
			return 1;
		}
		printf("%s\n", sym);
		if (fflush(stdout) != 0)
			return 1;
		(void)!fgets(line, sizeof(line), stdin);
		close(fd);
		return 0;
	}
	if ((argc == 3 || argc == 4) && !strcmp(argv[1], "cycle")) {
		const char *name = argc == 4 ? argv[3] : "ksyms_cyc";
		char *end;
		long n = strtol(argv[2], &end, 10);

		if (*end || n < 0 || !name_ok(name)) {
			fprintf(stderr, "bpf-load: cycle wants a count >= 0 and a name of 1-15 "
					"of [A-Za-z0-9_.]\n");
			return 2;
		}
		for (long i = 0; i < n; i++)
			close(load_or_die(imm + (int32_t)(i & 0xfff), name));
		printf("cycles %ld\n", n);
		return 0;
	}
	fprintf(stderr, "usage: bpf-load hold NAME\n"
			"       bpf-load cycle N [NAME]\n");
	return 2;
}
