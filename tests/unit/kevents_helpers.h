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
