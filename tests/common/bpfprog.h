/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The smallest BPF program, for making the kernel add and remove a dynamic
 * symbol: "r0 = imm; exit" loaded as a socket filter (BPF_PROG_TYPE_SOCKET_
 * FILTER, license GPL) through bpf(2) itself, no libbpf. With the JIT on the
 * kernel lists it in /proc/kallsyms as "ADDR t bpf_prog_<tag>_<name>\t[bpf]"
 * and emits a PERF_RECORD_KSYMBOL, until its last fd closes; imm changes the
 * tag. Header-only: used by tests/unit, tests/tools, tests/vm/clients and
 * bench, each one program (#include "tests/common/bpfprog.h").
 */
#pragma once

#include <errno.h>
#include <linux/bpf.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Load "r0 = imm; exit" named name (the kernel takes 1-15 bytes of
 * [A-Za-z0-9_.]; a longer name is cut to 15). The fd, or -errno. */
static inline int bpfprog_load(int32_t imm, const char *name)
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

/* What the kernel says of the loaded program fd: its kallsyms name in sym
 * ("bpf_prog_" + the tag in hex + "_" + the name the kernel kept) and, if
 * jited_len is not NULL, its JITed length. 0, or -errno. */
static inline int bpfprog_info(int fd, char *sym, size_t sym_size, uint32_t *jited_len)
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
	snprintf(sym + n, sym_size - (size_t)n, "_%.*s", (int)sizeof(info.name), info.name);
	if (jited_len)
		*jited_len = info.jited_prog_len;
	return 0;
}
