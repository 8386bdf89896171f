/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Shared by test_kevents, test_table, test_kevwire and
 * tests/tools/kevents-capture: finding the symbol of a BPF program
 * (tests/common/bpfprog.h loads them) in /proc/kallsyms, and the ring image
 * format of the fixtures (header-only: each is one program).
 */
#pragma once

#include <errno.h>
#include <inttypes.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/common/bpfprog.h"

/* The address of the one "ADDR t NAME\t[bpf]" line with name sym in
 * /proc/kallsyms: 0 if there is none, or more than one. */
static inline uint64_t kev_kallsyms_bpf_addr(const char *sym)
{
	char line[1024], name[600], mod[64], type;
	unsigned long long addr, found = 0;
	int n = 0;
	FILE *f = fopen("/proc/kallsyms", "re");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		if (!strstr(line, "[bpf]"))
			continue;
		if (sscanf(line, "%llx %c %599s %63s", &addr, &type, name, mod) == 4 &&
		    strcmp(name, sym) == 0 && strcmp(mod, "[bpf]") == 0) {
			found = addr;
			n++;
		}
	}
	fclose(f);
	return n == 1 ? found : 0;
}

/*
 * Can this machine make a BPF symbol appear? Loads "r0 = imm; exit" named
 * name, looks for its symbol in /proc/kallsyms and unloads it. 1 if it is
 * there; 0 if not, with why in why (for a test to skip); -errno if bpf(2)
 * loaded the program but would not describe it. Callers that run at the same
 * time need names or imms of their own: two like programs are not "one" in
 * kallsyms.
 */
static inline int kev_bpf_symbols(int32_t imm, const char *name, char *why, size_t why_size)
{
	char sym[600];
	int fd = bpfprog_load(imm, name), r;

	if (fd < 0) {
		snprintf(why, why_size, "BPF_PROG_LOAD: %s (needs CAP_BPF)", strerror(-fd));
		return 0;
	}
	r = bpfprog_info(fd, sym, sizeof(sym), NULL);
	if (r == 0)
		r = kev_kallsyms_bpf_addr(sym) != 0;
	if (r == 0)
		snprintf(why, why_size, "%s not in /proc/kallsyms (JIT off, "
			 "net.core.bpf_jit_kallsyms=0, or no CAP_SYSLOG)", sym);
	close(fd);
	return r;
}

static inline int kev_pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set) < 0 ? -errno : 0;
}

/*
 * A ring image fixture: this header, then data_size bytes of the data area
 * exactly as mmap'd, host byte order (the fixtures are x86_64).
 */
struct kev_image_header {
	char magic[8];		/* "KSRING01" */
	uint64_t data_head;
	uint64_t data_tail;
	uint64_t data_size;
	int32_t cpu;
	uint32_t reserved[7];
};

#define KEV_IMAGE_MAGIC "KSRING01"
