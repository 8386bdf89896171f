/* SPDX-License-Identifier: BSD-2-Clause */
#pragma once

/*
 * The image read as a table (hidden in libksyms): its owners (the STT_FILE
 * symbols, in order), every named symbol in table order with its owner and
 * kallsyms type letter, and the owners' build-ids from the SHT_NOTE
 * sections. Built once, on first use of the iteration API; lookups alone
 * never pay for it.
 */

#include <gelf.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "libksyms.h"

/* Recorded letters: this section, parallel to .symtab, one byte a symbol
 * (see libksyms(3)). Until the engine writes it, letters are derived. */
#define KSI_LETTERS_SECTION ".kallsyms.types"

struct ksi_abs;

struct ksi_table {
	struct ksyms_owner *owners;
	size_t nowners;
	uint32_t *sec_owner; /* per section; UINT32_MAX: none */
	size_t nsecs;
	uint32_t *order;    /* the named symbols' .symtab indexes, table order */
	uint32_t *owner_of; /* parallel to order */
	char *letters;	    /* parallel to order */
	size_t n;
	/* .kallsyms.types: a letter per .symtab entry, in the mapping; NULL
	 * if the image has none (letters are derived then). */
	const char *recorded;
	struct ksi_abs *abs; /* the SHN_ABS symbols, by (name, value) */
	size_t nabs;
	bool implicit_kernel; /* owners[0] is named by no STT_FILE */
	Elf *elf;	      /* on the mapping, kept for ksi_table_symbol() */
	Elf_Data *symdata;
	const char *strtab;
	uint64_t strsz;
	GElf_Shdr *shdrs; /* per section, for the letters */
};

/* Build from a mapped image that ks_symindex_new() accepted. 0 or -errno. */
int ksi_table_build(struct ksi_table *t, const void *map, size_t size);
void ksi_table_release(struct ksi_table *t);

/* The GElf_Sym of table entry i (i < t->n). */
int ksi_table_symbol(const struct ksi_table *t, size_t i, GElf_Sym *sym);

/* The owner of a symbol of section shndx, value and name offset st_name
 * (a lookup's answer): -ENOENT if the table does not hold it. */
long ksi_table_owner_of(const struct ksi_table *t, unsigned shndx, uint64_t value,
			uint32_t st_name);
