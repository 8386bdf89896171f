/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * libksyms: the kernel's symbol table from /dev/ksyms, as on the BSDs.
 *
 * On Linux /dev/ksyms is served through CUSE, which cannot seek, pread or
 * mmap. ksyms_open() reads the device once into a sealed memfd owned by
 * the returned object and maps it read-only: that mapping is what
 * FreeBSD's KIOCGADDR gives, and the memfd is a real file (fstat, pread,
 * mmap, elf_begin(fd, ELF_C_READ_MMAP, NULL) all work on it).
 *
 * Errors: functions returning a pointer return NULL, those returning int
 * return -1, and set errno; nothing prints or exits. See libksyms(3).
 */
#ifndef LIBKSYMS_H
#define LIBKSYMS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct ksyms;

/* A symbol of the image. The strings point into the object's mapping and
 * stay valid until ksyms_close(). */
struct ksyms_sym {
	const char *name;
	uint64_t value;		/* st_value: the kernel address */
	uint64_t size;		/* st_size: never crosses its section's end */
	unsigned char bind;	/* STB_LOCAL, STB_GLOBAL, STB_WEAK */
	unsigned char type;	/* STT_FUNC, STT_OBJECT, STT_NOTYPE */
	uint16_t shndx;		/* st_shndx (SHN_ABS: an absolute symbol) */
	const char *section;	/* its section's name (".text", "fuse:.text"),
				 * NULL for SHN_ABS and other special indexes */
	const char *module;	/* the owner: "vmlinux" for the kernel, else the
				 * module ("fuse") or pseudo-module ("bpf");
				 * NULL when the section does not say (SHN_ABS) */
};

/*
 * Open path (NULL: "/dev/ksyms") and read its whole image. The device stays
 * open until ksyms_close(), so the BSD rule of one open per process holds:
 * a second ksyms_open() of the device in one process fails with EBUSY. A
 * regular file holding an image (ksymsd --dump) is accepted too.
 * flags: 0 (others: EINVAL).
 * Errors: those of open(2) and read(2) on path (EACCES, EPERM, ENOENT,
 * EBUSY, ...), EIO if the device returned fewer or more bytes than
 * KIOCGSIZE said, or none, ENOEXEC if what it read is not an ELF file
 * with a symbol table (checked at once: headers only), ENOMEM.
 */
struct ksyms *ksyms_open(const char *path, int flags);

/* Unmap, close the memfd and the device. NULL is accepted. */
void ksyms_close(struct ksyms *k);

/* The image's size in bytes (KIOCGSIZE). */
size_t ksyms_size(const struct ksyms *k);

/* The image, mapped read-only (KIOCGADDR). */
const void *ksyms_addr(const struct ksyms *k);

/* The sealed memfd holding the image: O_RDWR but sealed against writes,
 * O_CLOEXEC. It belongs to k: dup() it to keep it past ksyms_close(), and
 * use pread() or your own descriptor rather than moving its offset when
 * other threads may read it. */
int ksyms_fd(const struct ksyms *k);

/*
 * Look a name up in NetBSD's order: the first global (or GNU unique)
 * symbol of that name, else the first weak one, else the first local,
 * "first" meaning in table order (the kernel, then modules in load order).
 * 0, or -1 with errno ENOENT (no such name), EINVAL (a malformed image).
 * The first 16 lookups of a handle each pass over the symbol table; the
 * 17th builds the index (tens of milliseconds) that answers the rest, with
 * the same answers. Lookups are safe from any number of threads.
 */
int ksyms_lookup_name(struct ksyms *k, const char *name, struct ksyms_sym *sym);
/* (sym may be NULL: then only whether the name exists.) */

/*
 * The symbol whose [value, value + size) holds addr (a symbol of size 0
 * only at its own value): of those, the one starting nearest below addr
 * (the innermost, where symbols nest), and among aliases of that value,
 * global before weak before local, then table order. sym may be NULL;
 * *offset (if offset is not NULL) = addr - value.
 * 0, or -1 with errno ENOENT (no symbol covers addr), EINVAL.
 */
int ksyms_lookup_addr(struct ksyms *k, uint64_t addr, struct ksyms_sym *sym,
		      uint64_t *offset);

/* The number of symbols the lookups know (all but the null symbol, section
 * and file symbols, and nameless ones); -1 with errno EINVAL if the image is
 * malformed, ENOMEM. */
long ksyms_count(struct ksyms *k);

/*
 * Iteration. The image's symbols are a table: the owners in order (the
 * kernel, its modules in load order, the pseudo-modules such as bpf), and
 * the ksyms_count() symbols the lookups know, in table order, numbered from
 * 0. The first call of any of these reads the whole table once (a few
 * milliseconds for a kernel); all are safe from any number of threads.
 */
enum ksyms_owner_kind {
	KSYMS_OWNER_KERNEL,	/* "vmlinux" */
	KSYMS_OWNER_MODULE,
	KSYMS_OWNER_PSEUDO,	/* "bpf", "__builtin__ftrace", ...: dynamic code */
};

/* An owner. It belongs to the library, which may add fields at the end in
 * later versions: use it through the pointer, never allocate or copy one. */
struct ksyms_owner {
	const char *name;	/* "vmlinux", "fuse", "bpf" */
	int kind;		/* enum ksyms_owner_kind */
	uint64_t start, end;	/* [start, end): from its lowest loaded section's
				 * start to its highest one's end; 0, 0 if none */
	size_t nsyms;		/* its symbols among those ksyms_symbol() gives */
	const unsigned char *build_id;	/* its GNU build-id (the image's SHT_NOTE
					 * sections), NULL if the image has none */
	size_t build_id_size;
};

/* The number of owners; -1 with errno EINVAL (malformed image), ENOMEM. */
long ksyms_owner_count(struct ksyms *k);

/* Owner i (0 <= i < ksyms_owner_count()), NULL with errno ENOENT past the
 * end, EINVAL, ENOMEM. */
const struct ksyms_owner *ksyms_owner(struct ksyms *k, size_t i);

/* The index of sym's owner, sym being what a lookup or ksyms_symbol() of
 * this k filled in: by its section, or for a symbol in none (SHN_ABS) by
 * its place in the table. -1 with errno ENOENT (not a symbol of k), EINVAL,
 * ENOMEM. */
long ksyms_owner_of(struct ksyms *k, const struct ksyms_sym *sym);

/* Symbol i in table order (0 <= i < ksyms_count()), filled in as the
 * lookups fill it. 0, or -1 with errno ENOENT past the end, EINVAL, ENOMEM. */
int ksyms_symbol(struct ksyms *k, size_t i, struct ksyms_sym *sym);

/* The index of symbol i's owner (0 <= i < ksyms_count()): what
 * ksyms_owner_of() says of it, without the search (and exact for a
 * symbol in no section whose name and value another owner has too). -1
 * with errno as ksyms_symbol(). */
long ksyms_symbol_owner(struct ksyms *k, size_t i);

/* Symbol i's /proc/kallsyms type letter ('T', 't', 'D', 'A', ...), or -1
 * with errno as ksyms_symbol(). Exact when ksyms_letters_recorded(),
 * otherwise derived from its ELF binding, type and section (libksyms(3)). */
int ksyms_symbol_letter(struct ksyms *k, size_t i);

/* 1 if the image records each symbol's kallsyms letter, 0 if they are
 * derived; -1 with errno EINVAL, ENOMEM. */
int ksyms_letters_recorded(struct ksyms *k);

#ifdef __cplusplus
}
#endif

#endif /* LIBKSYMS_H */
