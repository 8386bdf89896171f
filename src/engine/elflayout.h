/* SPDX-License-Identifier: BSD-2-Clause */
#pragma once

/*
 * The image being written, for the two halves of the writer: elfimage.c
 * (checks, names, .symtab and .strtab) and elfheaders.c (program and
 * section headers). Nothing else includes this.
 */
#include <gelf.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shared/error.h"
#include "model.h"
#include "notes.h"

struct ks_strtab;

/* Section indices: the fixed ones; the kernel's notes sections (n_ptnote:
 * tools take the first build-id they find); one per region, from region0;
 * then the other notes sections. */
enum { SEC_SYMTAB = 1, SEC_STRTAB, SEC_SHSTRTAB, SEC_TYPES, SEC_FIXED };

struct image {
	const struct ks_model *m;
	bool is64;
	size_t n_regions;	/* over all owners */
	size_t n_notes;		/* notes sections, over all owners */
	size_t n_ptnote;	/* the kernel's notes sections, first: a PT_NOTE each */
	size_t region0;		/* section index of the first region */
	size_t shnum, phnum, n_symtab, n_loc;
	const struct ks_region **sec_region;	/* per region section */
	const struct ks_notes **sec_notes;	/* per notes section */
	uint64_t *noteoff;	/* file offset per notes section */
	char *secnames;		/* region and notes section names, until finalize */
	uint32_t *secname_off;	/* .shstrtab offset per section */
	Elf_Data shstrtab;	/* d_buf from dwelf_strtab_finalize */
	const struct ks_strtab *strtab;	/* .strtab, names by id: its pieces, */
	const char *tail;	/* then these tail_len bytes */
	size_t tail_len;
	const uint32_t *name_off;	/* .strtab offset: symbols', then owners' */
	size_t strtab_size, symsize, phsize;
	uint64_t shstroff, shoff, typesoff, symoff, stroff, size;
	char *types;		/* .kallsyms.types: a letter per .symtab entry */
	uint32_t *load;		/* region sections by address */
	uint64_t *voff;		/* file offset per region section: the notes
				 * regions' real, the others' virtual */
};

/* PT_LOAD order and virtual file offsets of the regions, from img->size on. */
int ks_elfheaders_place(struct image *img, struct ks_error *err);

/* Ehdr, Phdrs, .shstrtab and Shdrs, by libelf, which also truncates the
 * file to img->size. The tables must be in the file already. */
int ks_elfheaders_write(struct image *img, int fd, struct ks_error *err);

static inline bool ks_image_sec_is_region(const struct image *img, size_t sec)
{
	return sec >= img->region0 && sec < img->region0 + img->n_regions;
}

/* The index into sec_notes and noteoff of a notes section that is no region. */
static inline size_t ks_image_notes_index(const struct image *img, size_t sec)
{
	return sec < img->region0 ? sec - SEC_FIXED : sec - SEC_FIXED - img->n_regions;
}
