/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * libksyms: the API of libksyms.h.
 *
 * The image is read once (image.c) and mapped read-only; the lookups are
 * the daemon's own index (src/symindex.c, compiled in here and hidden), so
 * a name or an address resolves exactly as KIOCGSYMBOL would resolve it on
 * the same snapshot. The index is built on the first lookup: a caller that
 * only wants the bytes (KIOCGADDR-style, or elf_begin on the memfd) pays
 * nothing for it.
 */
#include "libksyms.h"

#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <sys/ksyms.h>

#include "image.h"
#include "owners.h"
#include "shared/symindex.h"

#include "handle.h"

/* Lookups by a pass over .symtab before the index is built (may_scan()). */
#define SCANS 16

/*
 * Is this an ELF file with a symbol table and its strings inside it? Only
 * the headers are read (the lookups check the rest when first used), so
 * that a wrong path fails at the open, not at the first lookup.
 */
static bool is_symbol_image(void *map, size_t size)
{
	GElf_Shdr sh, strsh;
	Elf_Scn *scn = NULL, *strscn;
	bool found = false;
	Elf *elf;

	if (size < EI_NIDENT || memcmp(map, ELFMAG, SELFMAG) != 0 ||
	    elf_version(EV_CURRENT) == EV_NONE)
		return false;
	elf = elf_memory(map, size);	/* only read: see symindex.c */
	if (!elf || elf_kind(elf) != ELF_K_ELF)
		goto out;
	while (!found && (scn = elf_nextscn(elf, scn)) && gelf_getshdr(scn, &sh))
		found = sh.sh_type == SHT_SYMTAB && sh.sh_offset <= size &&
			sh.sh_size <= size - sh.sh_offset && (strscn = elf_getscn(elf, sh.sh_link)) &&
			gelf_getshdr(strscn, &strsh) && strsh.sh_type == SHT_STRTAB &&
			strsh.sh_offset <= size && strsh.sh_size <= size - strsh.sh_offset;
out:
	elf_end(elf);
	return found;
}

KSYMS_EXPORT struct ksyms *ksyms_open(const char *path, int flags)
{
	struct ksyms *k;
	int fd, r;

	if (flags != 0) {
		errno = EINVAL;
		return NULL;
	}
	k = calloc(1, sizeof(*k));
	if (!k)
		return NULL;
	k->devfd = k->memfd = -1;
	fd = open(path ? path : KSYMS_DEVICE, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		goto fail;
	r = ksi_image_read(fd, &k->memfd, &k->size);
	if (r < 0) {
		errno = -r;
		goto fail_fd;
	}
	/* Held, whatever it is: a device is the process's one open, and what
	 * looks like a file may be libksyms-preload's stand-in for one, whose
	 * close() would release the device behind it. */
	k->devfd = fd;
	k->map = mmap(NULL, k->size, PROT_READ, MAP_SHARED, k->memfd, 0);
	if (k->map == MAP_FAILED) {
		k->map = NULL;
		goto fail;
	}
	if (!is_symbol_image(k->map, k->size)) {
		errno = ENOEXEC;
		goto fail;
	}
	r = pthread_mutex_init(&k->lock, NULL);
	if (r) {
		errno = r;
		goto fail;
	}
	k->scans_left = SCANS;
	return k;

fail_fd:
	close(fd);
fail:
	r = errno;
	if (k->map)
		munmap(k->map, k->size);
	if (k->memfd >= 0)
		close(k->memfd);
	if (k->devfd >= 0)
		close(k->devfd);
	free(k);
	errno = r;
	return NULL;
}

KSYMS_EXPORT void ksyms_close(struct ksyms *k)
{
	int saved = errno;

	if (!k)
		return;
	ks_symindex_free(k->idx);
	ksi_scan_release(&k->scan);
	if (k->table) {
		ksi_table_release(k->table);
		free(k->table);
	}
	free(k->secs);
	free(k->modnames);
	pthread_mutex_destroy(&k->lock);
	munmap(k->map, k->size);
	close(k->memfd);
	if (k->devfd >= 0)
		close(k->devfd);
	free(k);
	errno = saved;
}

KSYMS_EXPORT size_t ksyms_size(const struct ksyms *k)
{
	return k->size;
}

KSYMS_EXPORT const void *ksyms_addr(const struct ksyms *k)
{
	return k->map;
}

KSYMS_EXPORT int ksyms_fd(const struct ksyms *k)
{
	return k->memfd;
}

/* Section i's header, if its name lies inside the section name table. */
static bool section_named(Elf *elf, size_t i, size_t names_size, GElf_Shdr *sh)
{
	Elf_Scn *scn = elf_getscn(elf, i);

	return scn && gelf_getshdr(scn, sh) && sh->sh_name < names_size;
}

/*
 * The section names and their owners: "fuse:.text" belongs to fuse, a name
 * without ':' to the kernel. symindex has checked the headers already;
 * names are checked here against their string table. 0 or a negative errno.
 */
static int index_sections(struct ksyms *k)
{
	size_t shnum, shstrndx, len, used = 0, need = 1;
	const char *base = k->map, *strs;
	GElf_Shdr sh, strsh;
	Elf_Scn *scn;
	Elf *elf;
	int r = 0;

	elf = elf_memory((char *)k->map, k->size);	/* only read: see symindex.c */
	if (!elf)
		return -EINVAL;
	if (elf_getshdrnum(elf, &shnum) || elf_getshdrstrndx(elf, &shstrndx) ||
	    !(scn = elf_getscn(elf, shstrndx)) || !gelf_getshdr(scn, &strsh) ||
	    strsh.sh_type != SHT_STRTAB || strsh.sh_size == 0 ||
	    strsh.sh_offset > k->size || strsh.sh_size > k->size - strsh.sh_offset) {
		r = -EINVAL;
		goto out;
	}
	strs = base + strsh.sh_offset;
	if (strs[strsh.sh_size - 1] != '\0') {
		r = -EINVAL;
		goto out;
	}
	/* Room for every owner's name: headers may share a name (or a suffix
	 * of one), so the string table's size is no bound. */
	for (size_t i = 1; i < shnum; i++) {
		const char *colon;

		if (!section_named(elf, i, strsh.sh_size, &sh)) {
			r = -EINVAL;
			goto out;
		}
		colon = strchr(strs + sh.sh_name, ':');
		if (colon)
			need += (size_t)(colon - (strs + sh.sh_name)) + 1;
	}
	k->secs = calloc(shnum, sizeof(*k->secs));
	k->modnames = malloc(need);
	if (!k->secs || !k->modnames) {
		r = -ENOMEM;
		goto out;
	}
	k->nsecs = shnum;
	for (size_t i = 1; i < shnum; i++) {
		const char *colon;

		if (!section_named(elf, i, strsh.sh_size, &sh)) {
			r = -EINVAL;
			goto out;
		}
		k->secs[i].name = strs + sh.sh_name;
		/* The names of the symbol table symindex uses: the first. */
		if (sh.sh_type == SHT_SYMTAB && !k->strtab) {
			GElf_Shdr ssh;
			Elf_Scn *sscn = elf_getscn(elf, sh.sh_link);

			if (!sscn || !gelf_getshdr(sscn, &ssh)) {
				r = -EINVAL;
				goto out;
			}
			k->strtab = base + ssh.sh_offset;	/* bounds: symindex */
		}
		colon = strchr(k->secs[i].name, ':');
		if (!colon) {
			k->secs[i].module = "vmlinux";
			continue;
		}
		len = (size_t)(colon - k->secs[i].name);
		/* Consecutive sections mostly share an owner: share its copy. */
		if (i > 1 && k->secs[i - 1].module != NULL &&
		    strncmp(k->secs[i - 1].module, k->secs[i].name, len) == 0 &&
		    k->secs[i - 1].module[len] == '\0') {
			k->secs[i].module = k->secs[i - 1].module;
			continue;
		}
		memcpy(k->modnames + used, k->secs[i].name, len);
		k->modnames[used + len] = '\0';
		k->secs[i].module = k->modnames + used;
		used += len + 1;
	}
out:
	/* Half-built is not built: the other path may try again. */
	if (r < 0) {
		free(k->secs);
		free(k->modnames);
		k->secs = NULL;
		k->modnames = NULL;
		k->nsecs = 0;
		k->strtab = NULL;
	}
	elf_end(elf);
	return r;
}

/* The lookup tables, built by the first caller; 0 or a negative errno. */
int ksi_ready(struct ksyms *k)
{
	struct ks_symindex *idx;
	int r;

	if (__atomic_load_n(&k->idx, __ATOMIC_ACQUIRE))
		return 0;
	pthread_mutex_lock(&k->lock);
	r = k->err;
	if (!k->idx && !r) {
		/* symindex's checks first: it validates every header. */
		r = ks_symindex_new(k->map, k->size, &idx, NULL);
		if (r == 0) {
			r = k->secs ? 0 : index_sections(k);
			if (r < 0)
				ks_symindex_free(idx);
			else
				__atomic_store_n(&k->idx, idx, __ATOMIC_RELEASE);
		}
		k->err = r;
	}
	pthread_mutex_unlock(&k->lock);
	return r;
}

/* The headers checked as symindex checks them (scan.h) and the sections
 * indexed, without the index: what the passes and the table need. 0 or a
 * negative errno, sticky. */
int ksi_prepared(struct ksyms *k)
{
	int r;

	if (__atomic_load_n(&k->scan_state, __ATOMIC_ACQUIRE) > 0)
		return 0;
	pthread_mutex_lock(&k->lock);
	if (!k->scan_state) {
		r = ksi_scan_prepare(&k->scan, k->map, k->size);
		if (r == 0 && !k->secs)
			r = index_sections(k);
		k->scan_err = r;
		__atomic_store_n(&k->scan_state, r == 0 ? 1 : -1, __ATOMIC_RELEASE);
	}
	r = k->scan_err;
	pthread_mutex_unlock(&k->lock);
	return r;
}

/*
 * May this lookup go by a pass over .symtab rather than the index? While
 * there is no index and passes are left: building the index costs as much
 * as some tens of passes (README), and a caller with one question, like
 * 'ksyms addr ADDR', then pays for one pass instead.
 */
static bool may_scan(struct ksyms *k)
{
	if (__atomic_load_n(&k->idx, __ATOMIC_ACQUIRE) ||
	    __atomic_load_n(&k->scans_left, __ATOMIC_RELAXED) <= 0 ||
	    __atomic_sub_fetch(&k->scans_left, 1, __ATOMIC_RELAXED) < 0)
		return false;
	return ksi_prepared(k) == 0;
}

void ksi_fill(const struct ksyms *k, const GElf_Sym *s, const char *name,
		 struct ksyms_sym *out)
{
	bool located = s->st_shndx != SHN_UNDEF && s->st_shndx < SHN_LORESERVE &&
		       s->st_shndx < k->nsecs;

	*out = (struct ksyms_sym){
		.name = name,
		.value = s->st_value,
		.size = s->st_size,
		.bind = GELF_ST_BIND(s->st_info),
		.type = GELF_ST_TYPE(s->st_info),
		.shndx = s->st_shndx,
		.section = located ? k->secs[s->st_shndx].name : NULL,
		.module = located ? k->secs[s->st_shndx].module : NULL,
	};
}

KSYMS_EXPORT int ksyms_lookup_name(struct ksyms *k, const char *name, struct ksyms_sym *sym)
{
	GElf_Sym s;
	int r = -EINVAL;

	/* A pass that finds the image malformed leaves the verdict (sticky
	 * EINVAL) to the index. */
	if (!may_scan(k) || (r = ksi_scan_name(&k->scan, name, &s)) == -EINVAL) {
		r = ksi_ready(k);
		if (r == 0)
			r = ks_symindex_lookup_name(k->idx, name, &s);
	}
	if (r < 0) {
		errno = -r;
		return -1;
	}
	if (sym)
		ksi_fill(k, &s, k->strtab + s.st_name, sym);
	return 0;
}

KSYMS_EXPORT int ksyms_lookup_addr(struct ksyms *k, uint64_t addr, struct ksyms_sym *sym,
				   uint64_t *offset)
{
	const char *name;
	uint64_t off;
	GElf_Sym s;
	int r;

	r = -EINVAL;
	if (!may_scan(k) || (r = ksi_scan_addr(&k->scan, addr, &s, &name, &off)) == -EINVAL) {
		r = ksi_ready(k);
		if (r == 0)
			r = ks_symindex_lookup_addr(k->idx, addr, &s, &name, &off);
	}
	if (r < 0) {
		errno = -r;
		return -1;
	}
	if (sym)
		ksi_fill(k, &s, name, sym);
	if (offset)
		*offset = off;
	return 0;
}

KSYMS_EXPORT long ksyms_count(struct ksyms *k)
{
	int r;

	/* The table counts the same symbols and costs less than the index. */
	if (!__atomic_load_n(&k->idx, __ATOMIC_ACQUIRE)) {
		long n = ksi_table_count(k);

		if (n >= 0 || errno != EINVAL)
			return n;
	}
	r = ksi_ready(k);

	if (r < 0) {
		errno = -r;
		return -1;
	}
	return (long)ks_symindex_count(k->idx);
}
