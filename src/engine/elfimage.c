/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The model as the ELF image /dev/ksyms serves.
 *
 * Sections: [0] null, [1] .symtab, [2] .strtab, [3] .shstrtab, [4]
 * .kallsyms.types (each .symtab entry's kallsyms type letter, 0 for the
 * null and STT_FILE entries: ELF keeps only some of what a letter says,
 * and "ksyms kallsyms" gives the kernel's text back exactly), the
 * kernel's notes as SHT_NOTE ".notes" (first: tools take the first build-id
 * they find, and the file is the kernel), then one SHT_NOBITS per region, owners and their regions in model order, named
 * ".text" for the kernel and "<owner>:<region>" ("fuse:.text") for everyone
 * else. st_shndx is the symbol's region: the ELF alone tells its module.
 * A module section with a notes file is SHT_NOTE instead, with its address
 * and the file's bytes ("fuse:.note.gnu.build-id", regions.c). Last, an
 * SHT_NOTE without an address for each module's notes file whose section
 * is no region (6.4+: .note.gnu.build-id lies outside the module's core
 * and holds no symbol), "<owner>:<file>". Each section name is there once.
 * Symbols: [0] null; per owner an STT_FILE named after it, then its locals;
 * then every owner's globals and weaks, owners in order.
 * Segments: one PT_LOAD per region, of every owner, by address, p_filesz 0
 * but for the notes regions', which cover their bytes; a PT_NOTE per
 * notes section of the kernel's.
 * Per region rather than "kernel text + kernel data": elflint wants every
 * SHF_ALLOC section in a PT_LOAD, modules' too; each segment then has just
 * its region's permissions and never claims the holes between regions.
 * File: Ehdr | Phdr[] | .shstrtab | Shdr[] | notes | .kallsyms.types |
 * .symtab | .strtab. NOBITS
 * sections and their PT_LOADs get "virtual" offsets past the end of the
 * file, region after region, as in a separate debug file: eu-elflint matches
 * sections to segments by offset, and by default they would share one.
 * eu-elflint passes the image with -d (debuginfo) only: otherwise it wants
 * executable sections and those in X or W segments to be PROGBITS. Ours are
 * NOBITS with SHF_EXECINSTR on purpose: nm then shows T/t as kallsyms does.
 *
 * Writing: .symtab and .strtab (nearly all of the file) are streamed into
 * the fd through small reused buffers, libelf's xlatetof encoding each for
 * the target's class and byte order; then libelf writes the headers
 * (elf_update with ELF_F_LAYOUT leaves sections without Elf_Data alone).
 * Handing libelf whole tables would take fresh buffers the size of the file,
 * and a page fault costs as much as writing the page to the memfd. Mapping
 * the memfd is slower still: mapping tmpfs pages costs more than pwrite.
 *
 * Names: .strtab is built by strtab.c (tails shared, "foo" inside
 * "__pfx_foo"); here only its offsets and bytes are used. Symbol names are
 * name_len bytes, not NUL-terminated; owner and region names are C strings.
 */
#include "elfimage.h"

#include <elfutils/libdwelf.h>
#include <errno.h>
#include <gelf.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "elflayout.h"
#include "strtab.h"

#define OUT_CHUNK 65536		/* below malloc's mmap threshold: reused memory */

/* A stream into the fd, encoded for the target a buffer at a time. */
struct out {
	int fd, err;		/* err: errno of the first failed write */
	Elf_Type type;		/* ELF_T_BYTE: written as is */
	size_t cap, used;
	uint64_t off;		/* file offset of buf[0] */
	char *buf;
};

/* Is notes k of ow the bytes of one of its regions? */
static bool notes_in_region(const struct ks_owner *ow, size_t k)
{
	for (size_t r = 0; r < ow->n_regions; r++)
		if (ow->regions[r].notes == &ow->notes[k])
			return true;
	return false;
}

/* A region's notes must be one of its owner's, and exactly its size. */
static bool region_notes_ok(const struct ks_owner *ow, const struct ks_region *rg)
{
	return !rg->notes || (ow->notes && rg->notes >= ow->notes &&
			      rg->notes < ow->notes + ow->n_notes && rg->notes->size == rg->size);
}

/* Everything the writer relies on, so a bad model is -EINVAL, not a bad image. */
static int check_model(struct image *img, struct ks_error *err)
{
	const struct ks_model *m = img->m;
	size_t next = 0;

	if ((m->target.elf_class != ELFCLASS32 && m->target.elf_class != ELFCLASS64) ||
	    (m->target.elf_data != ELFDATA2LSB && m->target.elf_data != ELFDATA2MSB))
		return ks_error_set(err, EINVAL, "elfimage: bad target class %u / data %u",
				    m->target.elf_class, m->target.elf_data);
	img->is64 = m->target.elf_class == ELFCLASS64;
	for (size_t o = 0; o < m->n_owners; o++) {
		const struct ks_owner *ow = &m->owners[o];

		if (!ow->name || strlen(ow->name) >= UINT16_MAX || (ow->n_regions && !ow->regions))
			return ks_error_set(err, EINVAL, "elfimage: owner %zu incomplete", o);
		/* The slices must tile syms[] in owner order: every symbol is
		 * written once, with its owner. */
		if (ow->first_sym != next || ow->n_syms > m->n_syms - next)
			return ks_error_set(err, EINVAL, "elfimage: owner %s: symbols %zu+%zu out of order",
					    ow->name, ow->first_sym, ow->n_syms);
		next += ow->n_syms;
		img->n_regions += ow->n_regions;
		for (size_t r = 0; r < ow->n_regions; r++)
			if (!region_notes_ok(ow, &ow->regions[r]))
				return ks_error_set(err, EINVAL, "elfimage: owner %s: region %zu: "
						    "notes not its own", ow->name, r);
		for (size_t k = 0; k < ow->n_notes; k++) {
			const struct ks_notes *nt = &ow->notes[k];
			const char *why;

			/* What notes.c let in, checked again: the bytes go
			 * into the image as they are. */
			if (!nt->name || (nt->size && ks_notes_check(nt->data, nt->size,
								   m->target.elf_data, &why) < 0))
				return ks_error_set(err, EINVAL, "elfimage: owner %s: notes %zu: %s",
						    ow->name, k, nt->name ? why : "no name");
			if (!nt->size || notes_in_region(ow, k))
				continue;
			img->n_notes++;
			img->n_ptnote += ow->kind == KS_OWNER_KERNEL;
		}
	}
	if (next != m->n_syms || m->n_locals > m->n_syms)
		return ks_error_set(err, EINVAL, "elfimage: owners hold %zu of %zu symbols, %zu locals",
				    next, m->n_syms, m->n_locals);
	/* Section indices must fit st_shndx (no SHT_SYMTAB_SHNDX), which also
	 * keeps e_phnum below PN_XNUM. Hundreds of regions are normal. */
	if (img->n_regions + img->n_notes >= SHN_LORESERVE - SEC_FIXED ||
	    m->n_syms >= UINT32_MAX / 2)
		return ks_error_set(err, E2BIG, "elfimage: %zu regions, %zu notes, %zu symbols: too many",
				    img->n_regions, img->n_notes, m->n_syms);
	img->shnum = SEC_FIXED + img->n_regions + img->n_notes;
	img->region0 = SEC_FIXED + img->n_ptnote;
	img->phnum = img->n_regions + img->n_ptnote;
	img->n_symtab = 1 + m->n_owners + m->n_syms;
	img->types = calloc(img->n_symtab, 1);
	if (!img->types)
		return ks_error_set(err, ENOMEM, "elfimage: type letters");
	img->n_loc = 1 + m->n_owners + m->n_locals;
	img->symsize = img->is64 ? sizeof(Elf64_Sym) : sizeof(Elf32_Sym);
	return 0;
}

/* Does the region reach past 4 GiB? It may end exactly there. */
static bool region_past_4g(const struct ks_region *rg)
{
	return rg->addr > UINT32_MAX || rg->size > ((uint64_t)UINT32_MAX + 1) - rg->addr;
}

/*
 * The names of the notes sections that are no region, the kernel's
 * (".notes") or the modules' ("fuse:.note.gnu.build-id"), from section
 * *sec on; the names go to *p.
 */
static int add_notes_names(struct image *img, Dwelf_Strtab *st, Dwelf_Strent **ents,
			   size_t *sec, char **p, bool kernel)
{
	const struct ks_model *m = img->m;

	for (size_t o = 0; o < m->n_owners; o++) {
		const struct ks_owner *ow = &m->owners[o];

		if ((ow->kind == KS_OWNER_KERNEL) != kernel)
			continue;
		for (size_t k = 0; k < ow->n_notes; k++) {
			const char *name = *p;

			if (!ow->notes[k].size || notes_in_region(ow, k))
				continue;
			img->sec_notes[ks_image_notes_index(img, *sec)] = &ow->notes[k];
			if (!kernel)
				*p = stpcpy(stpcpy(*p, ow->name), ":");
			*p = stpcpy(*p, ow->notes[k].name) + 1;
			if (!(ents[(*sec)++] = dwelf_strtab_add_len(st, name, *p - name)))
				return -ENOMEM;
		}
	}
	return 0;
}

/* .shstrtab (a dwelf_strtab too, it is small) and the section of each region. */
static int build_shstrtab(struct image *img, struct ks_error *err)
{
	static const char *const fixed[SEC_FIXED] = { "", ".symtab", ".strtab", ".shstrtab",
						       ".kallsyms.types" };
	const struct ks_model *m = img->m;
	Dwelf_Strent **ents;
	Dwelf_Strtab *st;
	size_t len = 1, sec = SEC_FIXED;
	char *p;
	int ret;

	img->sec_region = malloc((img->n_regions + 1) * sizeof(*img->sec_region));
	img->sec_notes = malloc((img->n_notes + 1) * sizeof(*img->sec_notes));
	img->voff = malloc((img->n_regions + 1) * sizeof(*img->voff));
	img->noteoff = malloc((img->n_notes + 1) * sizeof(*img->noteoff));
	img->secname_off = malloc(img->shnum * sizeof(*img->secname_off));
	ents = malloc(img->shnum * sizeof(*ents));
	st = dwelf_strtab_init(true);
	if (!img->sec_region || !img->sec_notes || !img->voff || !img->noteoff ||
	    !img->secname_off || !ents || !st)
		goto nomem;
	for (size_t o = 0; o < m->n_owners; o++) {
		for (size_t k = 0; k < m->owners[o].n_notes; k++)
			len += strlen(m->owners[o].name) + strlen(m->owners[o].notes[k].name) + 2;
		for (size_t r = 0; r < m->owners[o].n_regions; r++) {
			if (!m->owners[o].regions[r].name) {
				ret = ks_error_set(err, EINVAL, "elfimage: %s: region %zu has no name",
						   m->owners[o].name, r);
				goto out;
			}
			len += strlen(m->owners[o].name) + strlen(m->owners[o].regions[r].name) + 2;
			/* The regions come from what the kernel reports, like the
			 * symbols: they too must fit the class. */
			if (!img->is64 && region_past_4g(&m->owners[o].regions[r])) {
				ret = ks_error_set(err, EOVERFLOW, "elfimage: %s: region %s past "
						   "a 32-bit address space", m->owners[o].name,
						   m->owners[o].regions[r].name);
				goto out;
			}
		}
	}
	img->secnames = p = malloc(len);
	if (!p)
		goto nomem;
	for (size_t i = 0; i < SEC_FIXED; i++)
		if (!(ents[i] = dwelf_strtab_add(st, fixed[i])))
			goto nomem;
	/* The kernel's notes, then the regions, then the other notes. */
	if (add_notes_names(img, st, ents, &sec, &p, true) < 0)
		goto nomem;
	for (size_t o = 0; o < m->n_owners; o++) {
		const struct ks_owner *ow = &m->owners[o];

		for (size_t r = 0; r < ow->n_regions; r++, sec++) {
			const char *name = p;

			img->sec_region[sec - img->region0] = &ow->regions[r];
			if (ow->kind != KS_OWNER_KERNEL)
				p = stpcpy(stpcpy(p, ow->name), ":");
			p = stpcpy(p, ow->regions[r].name) + 1;
			if (!(ents[sec] = dwelf_strtab_add_len(st, name, p - name)))
				goto nomem;
		}
	}
	if (add_notes_names(img, st, ents, &sec, &p, false) < 0)
		goto nomem;
	if (!dwelf_strtab_finalize(st, &img->shstrtab))
		goto nomem;
	for (size_t i = 0; i < img->shnum; i++)
		img->secname_off[i] = dwelf_strent_off(ents[i]);
	ret = 0;
	goto out;
nomem:
	ret = ks_error_set(err, ENOMEM, "elfimage: section names");
out:
	if (st)
		dwelf_strtab_free(st);
	free(ents);
	return ret;
}

static int out_open(struct out *o, int fd, uint64_t off, Elf_Type type, size_t rec)
{
	*o = (struct out){ .fd = fd, .type = type, .cap = OUT_CHUNK / rec * rec, .off = off };
	o->buf = malloc(OUT_CHUNK);
	return o->buf ? 0 : -ENOMEM;
}

static void out_write(struct out *o, const char *p, size_t len)
{
	while (len && !o->err) {
		ssize_t n = pwrite(o->fd, p, len, o->off);

		if (n <= 0) {
			o->err = n ? (errno == EINTR ? 0 : errno) : EIO;
			continue;
		}
		p += n;
		len -= n;
		o->off += n;
	}
}

static void out_flush(struct out *o, const struct image *img)
{
	Elf_Data d = { .d_buf = o->buf, .d_type = o->type, .d_size = o->used,
		       .d_version = EV_CURRENT };
	unsigned int enc = img->m->target.elf_data;

	if (o->type != ELF_T_BYTE && o->used && !o->err &&
	    !(img->is64 ? elf64_xlatetof(&d, &d, enc) : elf32_xlatetof(&d, &d, enc)))
		o->err = EINVAL;
	out_write(o, o->buf, o->used);
	o->used = 0;
}

/* Room for len bytes (at most cap); flushes when full. */
static void *out_take(struct out *o, const struct image *img, size_t len)
{
	if (len > o->cap - o->used)
		out_flush(o, img);
	o->used += len;
	return o->buf + o->used - len;
}

static int out_close(struct out *o, const struct image *img, struct ks_error *err)
{
	if (o->buf)
		out_flush(o, img);
	free(o->buf);
	o->buf = NULL;
	return o->err ? ks_error_set(err, o->err, "elfimage: write: %s", strerror(o->err)) : 0;
}

/* .strtab, as strtab.c keeps it, piece after piece. */
static int write_strtab(struct image *img, int fd, struct ks_error *err)
{
	struct out o = { .fd = fd, .type = ELF_T_BYTE, .off = img->stroff };
	const void *p;
	size_t len;

	for (size_t k = 0; (p = ks_strtab_piece(img->strtab, k, &len)); k++)
		out_write(&o, p, len);
	out_write(&o, img->tail, img->tail_len);
	return out_close(&o, img, err);
}

static inline void put_sym(void *p, bool is64, uint32_t name, uint64_t value,
			   uint64_t size, unsigned char info, uint16_t shndx)
{
	if (is64)
		*(Elf64_Sym *)p = (Elf64_Sym){ .st_name = name, .st_value = value, .st_size = size,
					       .st_info = info, .st_shndx = shndx };
	else
		*(Elf32_Sym *)p = (Elf32_Sym){ .st_name = name, .st_value = value, .st_size = size,
					       .st_info = info, .st_shndx = shndx };
}

/* Two streams: loc from index 0, glob from index sh_info on. */
static int fill_symtab(struct image *img, struct out *loc, struct out *glob,
		       struct ks_error *err)
{
	const struct ks_model *m = img->m;
	size_t i_loc = 1, sec = img->region0;	/* the next local's index */
	size_t i_glob = img->n_loc;	/* the next global's index */
	uint64_t wide = 0;	/* OR of all values and sizes: do they fit 32 bits? */

	put_sym(out_take(loc, img, img->symsize), img->is64, 0, 0, 0, 0, SHN_UNDEF);
	for (size_t o = 0; o < m->n_owners; sec += m->owners[o++].n_regions) {
		const struct ks_owner *ow = &m->owners[o];
		const struct ks_sym *s = m->syms + ow->first_sym, *end = s + ow->n_syms;

		/* The STT_FILE opens the owner's locals, as a linker's does for
		 * each object file: readers attribute locals by it. */
		if (img->name_off[m->n_syms + o] >= img->strtab_size)
			return ks_error_set(err, EINVAL, "elfimage: owner %s: name offset past .strtab",
					    ow->name);
		put_sym(out_take(loc, img, img->symsize), img->is64, img->name_off[m->n_syms + o],
			0, 0, GELF_ST_INFO(STB_LOCAL, STT_FILE), SHN_ABS);
		i_loc++;
		for (; s < end; s++) {
			bool local = s->bind == STB_LOCAL;
			uint16_t shndx = SHN_ABS;

			if (s->region != KS_REGION_ABS) {
				if (s->region >= ow->n_regions)
					return ks_error_set(err, EINVAL, "elfimage: %s: symbol %.*s in region %u of %zu",
							    ow->name, (int)s->name_len, s->name ?: "",
							    s->region, ow->n_regions);
				shndx = sec + s->region;
			}
			if (s->bind > 15 || s->type > 15)
				return ks_error_set(err, EINVAL, "elfimage: %s: symbol %.*s: bind %u type %u",
						    ow->name, (int)s->name_len, s->name ?: "",
						    s->bind, s->type);
			if (img->name_off[s - m->syms] >= img->strtab_size)
				return ks_error_set(err, EINVAL, "elfimage: %s: symbol %.*s: name offset past .strtab",
						    ow->name, (int)s->name_len, s->name ?: "");
			if (local ? i_loc >= img->n_loc : i_glob >= img->n_symtab)
				return ks_error_set(err, EINVAL, "elfimage: model says %zu locals, symbols disagree",
						    m->n_locals);
			img->types[local ? i_loc++ : i_glob++] = s->letter;
			wide |= s->addr | s->size;
			put_sym(out_take(local ? loc : glob, img, img->symsize), img->is64,
				img->name_off[s - m->syms], s->addr, s->size,
				GELF_ST_INFO(s->bind, s->type), shndx);
		}
	}
	/* The count decides where the globals start. With the wrong one the
	 * streams overlap, but an error truncates the file anyway. */
	if (i_loc != img->n_loc)
		return ks_error_set(err, EINVAL, "elfimage: model says %zu locals, symbols disagree",
				    m->n_locals);
	if (!img->is64 && wide > UINT32_MAX)
		return ks_error_set(err, EOVERFLOW, "elfimage: 64-bit address in a 32-bit image");
	return 0;
}

static int write_symtab(struct image *img, int fd, struct ks_error *err)
{
	struct out loc = { .buf = NULL }, glob = { .buf = NULL };
	int ret;

	if (out_open(&loc, fd, img->symoff, ELF_T_SYM, img->symsize) < 0 ||
	    out_open(&glob, fd, img->symoff + img->n_loc * img->symsize, ELF_T_SYM,
		     img->symsize) < 0) {
		ret = ks_error_set(err, ENOMEM, "elfimage: symbol table");
		goto out;
	}
	ret = fill_symtab(img, &loc, &glob, err);
	if (ret < 0)
		goto out;
	ret = out_close(&loc, img, err);
	if (ret < 0)
		goto out;
	ret = out_close(&glob, img, err);
out:
	free(loc.buf);
	free(glob.buf);
	return ret;
}

/* Where everything goes in the file; .strtab's size is not needed yet. */
static void lay_out(struct image *img)
{
	size_t word = img->is64 ? 8 : 4;

	uint64_t off;

	img->phsize = img->is64 ? sizeof(Elf64_Phdr) : sizeof(Elf32_Phdr);
	img->shstroff = (img->is64 ? sizeof(Elf64_Ehdr) : sizeof(Elf32_Ehdr)) +
		img->phnum * img->phsize;
	img->shoff = (img->shstroff + img->shstrtab.d_size + word - 1) & ~(word - 1);
	off = img->shoff + img->shnum * (img->is64 ? sizeof(Elf64_Shdr) : sizeof(Elf32_Shdr));
	/* Notes (sizes multiples of 4) between the headers and the letters. */
	for (size_t k = 0; k < img->n_notes; k++) {
		img->noteoff[k] = off;
		off += img->sec_notes[k]->size;
	}
	for (size_t i = 0; i < img->n_regions; i++)
		if (img->sec_region[i]->notes) {
			img->voff[i] = off;
			off += img->sec_region[i]->size;
		}
	img->typesoff = off;
	off += img->n_symtab;
	img->symoff = (off + word - 1) & ~(uint64_t)(word - 1);
	img->stroff = img->symoff + img->n_symtab * img->symsize;
}

/* Everything but .strtab's names, which img has already. */
static int write_image(struct image *img, int fd, size_t *size, struct ks_error *err)
{
	int ret;

	img->strtab_size = ks_strtab_size(img->strtab) + img->tail_len;
	ret = write_strtab(img, fd, err);
	if (ret < 0)
		return ret;
	ret = write_symtab(img, fd, err);
	if (ret < 0)
		return ret;
	img->size = img->stroff + img->strtab_size;
	if (!img->is64 && img->size > UINT32_MAX)
		return ks_error_set(err, E2BIG, "elfimage: too big for ELFCLASS32");
	ret = ks_elfheaders_place(img, err);
	if (ret < 0)
		return ret;
	ret = ks_elfheaders_write(img, fd, err);
	if (ret < 0)
		return ret;
	*size = img->size;
	return 0;
}

static void image_release(struct image *img, int fd, int ret)
{
	if (ret < 0 && img->stroff)
		(void)!ftruncate(fd, 0);	/* no half image */
	free(img->types);
	free(img->sec_region);
	free(img->sec_notes);
	free(img->noteoff);
	free(img->secnames);
	free(img->secname_off);
	free(img->shstrtab.d_buf);
	free(img->load);
	free(img->voff);
}

/* The checks and the section names, for either kind of write. */
static int image_prepare(struct image *img, struct ks_error *err)
{
	int ret;

	/* Idempotent; libelf refuses to work before it was called once. */
	elf_version(EV_CURRENT);
	ret = check_model(img, err);
	if (ret < 0)
		return ret;
	ret = build_shstrtab(img, err);
	if (ret < 0)
		return ret;
	lay_out(img);
	return 0;
}

int ks_elfimage_write(const struct ks_model *m, int fd, size_t *size, struct ks_error *err)
{
	struct image img = { .m = m };
	struct ks_strtab *st = NULL;
	int ret;

	ret = image_prepare(&img, err);
	if (ret < 0)
		goto out;
	ret = ks_strtab_new(&st, m, NULL, err);
	if (ret < 0) {
		ks_error_prefix(err, "elfimage");
		goto out;
	}
	img.strtab = st;
	img.name_off = ks_strtab_offsets(st);
	ret = write_image(&img, fd, size, err);
out:
	image_release(&img, fd, ret);
	ks_strtab_free(st);
	return ret;
}

int ks_elfimage_write_with(const struct ks_model *m, const struct ks_elfimage_strtab *names,
			   int fd, size_t *size, struct ks_error *err)
{
	struct image img = { .m = m };
	int ret;

	if (!names->base || !names->off || (names->tail_len && !names->tail))
		return ks_error_set(err, EINVAL, "elfimage: incomplete string table");
	ret = image_prepare(&img, err);
	if (ret < 0)
		goto out;
	img.strtab = names->base;
	img.tail = names->tail;
	img.tail_len = names->tail_len;
	img.name_off = names->off;
	ret = write_image(&img, fd, size, err);
out:
	image_release(&img, fd, ret);
	return ret;
}
