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
 * KIOCGSIZE said, or none, ENOMEM.
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
 * The lookup tables are built by the first lookup of either kind (a few
 * milliseconds); lookups are safe from any number of threads.
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

#ifdef __cplusplus
}
#endif

#endif /* LIBKSYMS_H */
