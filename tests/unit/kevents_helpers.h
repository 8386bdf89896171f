/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Shared by test_kevents and tests/tools/kevents-capture: loading a BPF
 * program that makes the kernel register a symbol, finding that symbol in
 * /proc/kallsyms, and the ring image format of the fixtures (header-only:
 * each is one program).
 */
#pragma once

#include <errno.h>
#include <inttypes.h>
#include <linux/bpf.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

/*
 * Load "r0 = imm; exit" as a socket filter named name (at most 15 bytes).
 * With the JIT on, the kernel lists it in kallsyms as bpf_prog_<tag>_<name>
 * and emits a PERF_RECORD_KSYMBOL; imm changes the tag. The fd, or -errno.
 */
static inline int kev_bpf_load(int32_t imm, const char *name)
{
	struct bpf_insn insns[2] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = imm },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	union bpf_attr attr;
	int fd;

	memset(&attr, 0, sizeof(attr));
	attr.prog_type = BPF_PROG_TYPE_SOCKET_FILTER;
	attr.insn_cnt = 2;
	attr.insns = (uint64_t)(uintptr_t)insns;
	attr.license = (uint64_t)(uintptr_t) "GPL";
	snprintf(attr.prog_name, sizeof(attr.prog_name), "%s", name);
	fd = (int)syscall(SYS_bpf, BPF_PROG_LOAD, &attr, sizeof(attr));
	return fd < 0 ? -errno : fd;
}

/* What the kernel says of a loaded program: its kallsyms name
 * ("bpf_prog_" + tag in hex + "_" + name) and its JITed length. */
static inline int kev_bpf_info(int fd, char *sym, size_t sym_size, uint32_t *jited_len)
{
	struct bpf_prog_info info;
	union bpf_attr attr;
	int n;

	memset(&info, 0, sizeof(info));
	memset(&attr, 0, sizeof(attr));
	attr.info.bpf_fd = (uint32_t)fd;
	attr.info.info_len = sizeof(info);
	attr.info.info = (uint64_t)(uintptr_t)&info;
	if (syscall(SYS_bpf, BPF_OBJ_GET_INFO_BY_FD, &attr, sizeof(attr)) < 0)
		return -errno;
	n = snprintf(sym, sym_size, "bpf_prog_");
	for (size_t i = 0; i < sizeof(info.tag); i++)
		n += snprintf(sym + n, sym_size - (size_t)n, "%02x", info.tag[i]);
	snprintf(sym + n, sym_size - (size_t)n, "_%s", info.name);
	*jited_len = info.jited_prog_len;
	return 0;
}

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
