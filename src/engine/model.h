/* SPDX-License-Identifier: BSD-2-Clause */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shared/error.h"
#include "kallsyms.h"
#include "modules.h"
#include "root.h"

/*
 * The symbol model: what the ELF image says, before it is ELF.
 *
 * Owners are the kernel (always owners[0]), then each loaded module in load
 * order, then the dynamic pseudo-modules ([bpf], [__builtin__ftrace], ...) in
 * the order kallsyms first shows them. Each owner has address regions (the
 * kernel's .text/.rodata/..., a module's sections inside its core); each
 * region becomes one SHT_NOBITS section of the image, or an SHT_NOTE with
 * the bytes of a module's notes section.
 */

#define KS_REGION_ABS UINT32_MAX	/* st_shndx = SHN_ABS */

enum ks_owner_kind {
	KS_OWNER_KERNEL,
	KS_OWNER_MODULE,
	KS_OWNER_PSEUDO,
};

enum ks_region_flags {
	KS_REGION_EXEC = 1u << 0,	/* SHF_EXECINSTR */
	KS_REGION_WRITE = 1u << 1,	/* SHF_WRITE */
};

struct ks_region {
	const char *name;	/* ".text", ".rodata", ... (the module's own name) */
	uint64_t addr;
	uint64_t size;
	uint32_t flags;		/* enum ks_region_flags */
	/* A module section whose notes file the image has: its bytes, one of
	 * the owner's notes, exactly size long; the section is SHT_NOTE. */
	const struct ks_notes *notes;
};

struct ks_owner {
	const char *name;	/* "vmlinux", module name, pseudo-module name (NUL-terminated) */
	enum ks_owner_kind kind;
	uint64_t base, size;	/* module core (0, 0 for the others) */
	struct ks_region *regions;	/* sorted by address, not overlapping */
	size_t n_regions;
	size_t first_sym, n_syms;	/* this owner's slice of ks_model.syms */
	/* Its notes sections (notes.h): the kernel's .notes, a module's
	 * files; each one SHT_NOTE section. Not the model's: they belong to
	 * the module list (the kernel's to the caller). */
	const struct ks_notes *notes;
	size_t n_notes;
};

/* ELF symbol binding and type, as the ELF constants (STB_*, STT_*). */
struct ks_sym {
	const char *name;	/* name_len bytes, NOT NUL-terminated: in the kallsyms text */
	uint64_t addr;
	uint64_t size;
	uint32_t owner;		/* index into ks_model.owners */
	uint32_t region;	/* index into that owner's regions, or KS_REGION_ABS */
	uint16_t name_len;
	uint8_t bind;		/* STB_LOCAL, STB_GLOBAL, STB_WEAK */
	uint8_t type;		/* STT_FUNC, STT_OBJECT, STT_NOTYPE */
	char letter;		/* the kallsyms type letter it came from */
	uint8_t flags;		/* enum ks_sym_flags */
};

enum ks_sym_flags {
	/* name is the model's own copy (malloc'd, freed by ks_model_release):
	 * a symbol announced by the kernel, not read from kallsyms (dynsyms.h). */
	KS_SYM_OWNS_NAME = 1u << 0,
};

/* Where the image claims to come from: the running kernel's ABI. */
struct ks_target {
	unsigned char elf_class;	/* ELFCLASS64 / ELFCLASS32 */
	unsigned char elf_data;		/* ELFDATA2LSB / ELFDATA2MSB */
	uint16_t machine;		/* EM_X86_64, ... */
};

struct ks_model {
	struct ks_target target;
	struct ks_owner *owners;
	size_t n_owners;
	struct ks_sym *syms;	/* grouped by owner, owners in order, file order within */
	size_t n_syms;
	size_t n_locals;	/* how many syms have STB_LOCAL */
};

/* 'A' and 'a': absolute symbols (per-CPU offsets), which lie in no region. */
static inline bool ks_letter_is_abs(char c)
{
	return c == 'A' || c == 'a';
}

/* Map a kallsyms letter to ELF binding and type. is_module: the line had a
 * [module] tag (upper case there means exported). Returns -EINVAL for a
 * letter kallsyms never prints. */
int ks_letter_to_elf(char letter, uint8_t *bind, uint8_t *type);

/* uname -m to ELF class/data/machine. -ENOTSUP for an unknown machine. */
int ks_target_from_machine(const char *uname_m, struct ks_target *t);

/* The target of the kernel under root: <root>/uname-m for a tree captured
 * elsewhere, else this machine's uname. */
int ks_target_for_root(const struct ks_root *root, struct ks_target *t, struct ks_error *err);

/*
 * Build the model from a parsed kallsyms and the module list read around it.
 * Names point into the kallsyms text and module names into mods: both must
 * outlive the model.
 */
int ks_model_build(struct ks_model *m, const struct ks_kallsyms *ks,
		   const struct ks_modlist *mods, const struct ks_target *target,
		   struct ks_error *err);

/* Frees what the model owns (not the kallsyms text nor the module list). */
void ks_model_release(struct ks_model *m);

/*
 * Set the region and size of each symbol of owner o (its slice of syms),
 * from its regions. by_addr is scratch room for o->n_syms pointers.
 */
void ks_model_owner_sizes(const struct ks_owner *o, struct ks_sym *syms, struct ks_sym **by_addr);
