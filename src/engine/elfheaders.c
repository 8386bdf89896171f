/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The headers of the image (see elfimage.c for its layout): a PT_LOAD per
 * region by address, at "virtual" offsets past the end of the file, and a
 * section header per section, written by libelf around the tables that
 * elfimage.c has already streamed into the file.
 */
#include "elflayout.h"

#include <errno.h>
#include <gelf.h>
#include <stdlib.h>
#include <string.h>

static int cmp_load(const void *a, const void *b, void *arg)
{
	const struct image *img = arg;
	uint32_t sa = *(const uint32_t *)a, sb = *(const uint32_t *)b;
	uint64_t va = img->sec_region[sa - img->region0]->addr;
	uint64_t vb = img->sec_region[sb - img->region0]->addr;

	if (va != vb)
		return va < vb ? -1 : 1;
	return sa < sb ? -1 : sa > sb;
}

/* PT_LOAD order and virtual file offsets, from the end of the file on,
 * for every region but the notes', whose bytes are in the file. */
int ks_elfheaders_place(struct image *img, struct ks_error *err)
{
	uint64_t off = img->size;
	size_t n = img->n_regions;

	img->load = malloc((n + 1) * sizeof(*img->load));
	if (!img->load)
		return ks_error_set(err, ENOMEM, "elfimage: program headers");
	for (size_t i = 0; i < n; i++)
		img->load[i] = img->region0 + i;
	/* ELF wants PT_LOADs by ascending p_vaddr; ties by section so the same
	 * model gives the same image. */
	qsort_r(img->load, n, sizeof(*img->load), cmp_load, img);
	for (size_t i = 0; i < n; i++) {
		const struct ks_region *r = img->sec_region[img->load[i] - img->region0];
		uint64_t size = r->size;

		if (r->notes)	/* its bytes are in the file (elfimage.c) */
			continue;
		img->voff[img->load[i] - img->region0] = off;
		if (size > (img->is64 ? UINT64_MAX : UINT32_MAX) - off)
			return ks_error_set(err, EOVERFLOW, "elfimage: regions too big for the ELF class");
		off += size;
	}
	return 0;
}

static void section_header(const struct image *img, size_t sec, GElf_Shdr *sh)
{
	const struct ks_region *r;

	*sh = (GElf_Shdr){ .sh_name = img->secname_off[sec], .sh_addralign = 1 };
	switch (sec) {
	case SEC_SYMTAB:
		sh->sh_type = SHT_SYMTAB;
		sh->sh_offset = img->symoff;
		sh->sh_size = img->n_symtab * img->symsize;
		sh->sh_link = SEC_STRTAB;
		sh->sh_info = img->n_loc;
		sh->sh_addralign = img->is64 ? 8 : 4;
		sh->sh_entsize = img->symsize;
		return;
	case SEC_STRTAB:
		sh->sh_type = SHT_STRTAB;
		sh->sh_offset = img->stroff;
		sh->sh_size = img->strtab_size;
		return;
	case SEC_SHSTRTAB:
		sh->sh_type = SHT_STRTAB;
		sh->sh_offset = img->shstroff;
		sh->sh_size = img->shstrtab.d_size;
		return;
	case SEC_TYPES:
		sh->sh_type = SHT_PROGBITS;
		sh->sh_offset = img->typesoff;
		sh->sh_size = img->n_symtab;
		sh->sh_entsize = 1;
		sh->sh_link = SEC_SYMTAB;
		return;
	}
	if (!ks_image_sec_is_region(img, sec)) {
		/* Not SHF_ALLOC: the kernel's notes are in its .rodata, a
		 * module's outside its regions, and the image gives them no
		 * address. */
		sh->sh_type = SHT_NOTE;
		sh->sh_offset = img->noteoff[ks_image_notes_index(img, sec)];
		sh->sh_size = img->sec_notes[ks_image_notes_index(img, sec)]->size;
		sh->sh_addralign = 4;
		return;
	}
	r = img->sec_region[sec - img->region0];
	sh->sh_type = r->notes ? SHT_NOTE : SHT_NOBITS;
	sh->sh_addralign = r->notes ? 4 : 1;
	sh->sh_flags = SHF_ALLOC | (r->flags & KS_REGION_EXEC ? SHF_EXECINSTR : 0) |
		(r->flags & KS_REGION_WRITE ? SHF_WRITE : 0);
	sh->sh_addr = r->addr;
	sh->sh_offset = img->voff[sec - img->region0];
	sh->sh_size = r->size;
}

/* Ehdr, Phdrs, .shstrtab, Shdrs, the notes and the letters by libelf, which also zeroes
 * the padding and truncates the file to the image. .symtab and .strtab,
 * already in the file, have no Elf_Data, so libelf leaves their bytes alone.
 *
 * Only the kernel's notes get a PT_NOTE (as in a core file: no address, no
 * memory size): readers that take a build-id from the program headers
 * (perf without libelf, debuginfod clients, file(1)) take it as the
 * file's, and the file is the kernel. Modules' notes are found by their
 * section names, as their sections are. */
int ks_elfheaders_write(struct image *img, int fd, struct ks_error *err)
{
	const struct ks_model *m = img->m;
	Elf *e = elf_begin(fd, ELF_C_WRITE, NULL);
	GElf_Ehdr eh = {	/* e_entry, e_flags 0; EI_OSABI: ELFOSABI_NONE */
		.e_ident = { ELFMAG0, ELFMAG1, ELFMAG2, ELFMAG3, m->target.elf_class,
			     m->target.elf_data, EV_CURRENT },
		.e_type = ET_EXEC, .e_machine = m->target.machine, .e_version = EV_CURRENT,
		.e_phoff = img->phnum ? img->shstroff - img->phnum * img->phsize : 0,
		.e_shoff = img->shoff, .e_shstrndx = SEC_SHSTRTAB,
	};
	Elf_Data *d;
	int64_t size;
	int lerr = 0, ret;

	errno = 0;
	if (!e || !gelf_newehdr(e, m->target.elf_class) || !gelf_update_ehdr(e, &eh) ||
	    (img->phnum && !gelf_newphdr(e, img->phnum)))
		goto fail;
	for (size_t i = 0; i < img->n_regions; i++) {
		const struct ks_region *r = img->sec_region[img->load[i] - img->region0];
		GElf_Phdr ph = {
			.p_type = PT_LOAD,
			.p_flags = PF_R | (r->flags & KS_REGION_EXEC ? PF_X : 0) |
				(r->flags & KS_REGION_WRITE ? PF_W : 0),
			.p_offset = img->voff[img->load[i] - img->region0],
			.p_vaddr = r->addr,
			.p_paddr = r->addr,
			.p_filesz = r->notes ? r->size : 0,
			.p_memsz = r->size,
			/* Nothing is mapped from the file; a larger alignment
			 * would only pad the virtual offsets. */
			.p_align = 1,
		};

		if (!gelf_update_phdr(e, i, &ph))
			goto fail;
	}
	for (size_t k = 0; k < img->n_ptnote; k++) {
		GElf_Phdr ph = {
			.p_type = PT_NOTE,
			.p_flags = PF_R,
			.p_offset = img->noteoff[k],
			.p_filesz = img->sec_notes[k]->size,
			.p_align = 4,
		};

		if (!gelf_update_phdr(e, img->n_regions + k, &ph))
			goto fail;
	}
	for (size_t sec = 1; sec < img->shnum; sec++) {
		Elf_Scn *scn;
		GElf_Shdr sh;

		/* elf_newscn returns the section even when it could not
		 * allocate its header (elfutils 0.188); only elf_errno tells. */
		elf_errno();
		scn = elf_newscn(e);
		if (!scn || (lerr = elf_errno()))
			goto fail;
		section_header(img, sec, &sh);
		if (!gelf_update_shdr(scn, &sh))
			goto fail;
		if (sec != SEC_SHSTRTAB && sec != SEC_TYPES && sh.sh_type != SHT_NOTE)
			continue;
		if (!(d = elf_newdata(scn)))
			goto fail;
		if (sec == SEC_SHSTRTAB) {
			*d = img->shstrtab;
			continue;
		}
		if (sec == SEC_TYPES) {
			*d = (Elf_Data){ .d_buf = img->types, .d_type = ELF_T_BYTE,
					 .d_size = img->n_symtab, .d_align = 1,
					 .d_version = EV_CURRENT };
			continue;
		}
		/* Bytes: they are in the target's order already. */
		*d = (Elf_Data){ .d_buf = ks_image_sec_is_region(img, sec) ?
					img->sec_region[sec - img->region0]->notes->data :
					img->sec_notes[ks_image_notes_index(img, sec)]->data,
				 .d_type = ELF_T_BYTE, .d_size = sh.sh_size, .d_align = 4,
				 .d_version = EV_CURRENT };
	}
	elf_flagelf(e, ELF_C_SET, ELF_F_LAYOUT);
	size = elf_update(e, ELF_C_WRITE);
	if (size < 0)
		goto fail;
	if ((uint64_t)size != img->size) {
		ret = ks_error_set(err, EIO, "elfimage: libelf wrote %lld bytes of %llu",
				   (long long)size, (unsigned long long)img->size);
		goto out;
	}
	ret = 0;
	goto out;
fail:
	/* libelf keeps its own error codes: a failed write or truncate left
	 * errno, anything else is libelf running out of memory. */
	ret = errno ? errno : ENOMEM;	/* before elf_errmsg can change it */
	ret = ks_error_set(err, ret, "elfimage: headers: %s", elf_errmsg(lerr ?: -1));
out:
	elf_end(e);
	return ret;
}

