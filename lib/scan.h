/* SPDX-License-Identifier: BSD-2-Clause */
#pragma once

/*
 * Lookups without an index (hidden in libksyms): one pass over .symtab per
 * question. Building the index (src/shared/symindex.c) costs as much as
 * some tens of passes, most of it in page faults for its tables, so a
 * handle answers its first few questions this way (libksyms.c). The
 * answers are symindex's, rule for rule (tests/lib/test_scan.c), and so is
 * what counts as a malformed image: prepare refuses what ks_symindex_new()
 * refuses, and a pass that meets a name outside .strtab says -EINVAL.
 */

#include <gelf.h>
#include <stddef.h>
#include <stdint.h>

struct ksi_scan {
	Elf *elf;
	Elf_Data *symdata;
	const char *strtab;
	uint64_t strsz;
	size_t nsyms;
};

/* 0, or -EINVAL if symindex would refuse the image's headers. */
int ksi_scan_prepare(struct ksi_scan *s, const void *map, size_t size);
void ksi_scan_release(struct ksi_scan *s);

/* As ks_symindex_lookup_addr() and ks_symindex_lookup_name(). */
int ksi_scan_addr(const struct ksi_scan *s, uint64_t addr, GElf_Sym *sym, const char **name,
		  uint64_t *offset);
int ksi_scan_name(const struct ksi_scan *s, const char *name, GElf_Sym *sym);
