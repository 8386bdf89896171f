/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * <sys/ksyms.h> for Linux: the client interface of ksymsd's /dev/ksyms.
 *
 * /dev/ksyms is a read-only ELF image of the running kernel's symbols
 * (.symtab and .strtab; the kernel first, then modules in load order). Each
 * open(2) sees one snapshot taken at open time: read(2), lseek(2) and every
 * ioctl below answer from that snapshot until close(2), even if modules are
 * loaded or unloaded meanwhile.
 *
 * The ioctl names, argument structures and field names are those of FreeBSD
 * and NetBSD, so code written for either builds unchanged; the numbers are
 * encoded with Linux's _IOR/_IOW/_IOWR, so they differ from the BSDs' binary
 * values. The one name the two systems give different meanings is
 * KIOCGSIZE: FreeBSD's takes a size_t, NetBSD's an int. KIOCGSIZE is
 * FreeBSD's unless KSYMS_NETBSD_COMPAT is defined before this header is
 * included; both are always reachable as KIOCGSIZE_SIZE_T and KIOCGSIZE_INT.
 *
 * All ioctls fail with EFAULT when an argument (or a name it points to) is
 * not readable or writable in the caller's memory.
 */
#ifndef _SYS_KSYMS_H_
#define _SYS_KSYMS_H_

#include <elf.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/ioctl.h>

#ifdef __cplusplus
extern "C" {
#endif

#define KSYMS_DEVICE	"/dev/ksyms"
#ifndef _PATH_KSYMS
#define _PATH_KSYMS	KSYMS_DEVICE	/* the BSDs' <paths.h> name */
#endif

/* The longest name KIOCGVALUE and KIOCGSYMBOL accept, terminating NUL
 * included; a longer one fails with EINVAL. */
#define KSYMS_MAXNAMELEN	512

/*
 * Elf_Sym is the symbol of the caller's native ELF class, as NetBSD's
 * <sys/exec_elf.h> defines it. A macro (as there) rather than a typedef, so
 * code that already defines Elf_Sym as a macro keeps its own.
 */
#ifndef Elf_Sym
#if defined(__LP64__) || (defined(__SIZEOF_POINTER__) && __SIZEOF_POINTER__ == 8)
#define Elf_Sym	Elf64_Sym
#else
#define Elf_Sym	Elf32_Sym
#endif
#endif

/*
 * KIOCGVALUE: look kv_name up and store its st_value in kv_value.
 */
struct ksyms_gvalue {
	const char *kv_name;	/* in: NUL-terminated, in the caller's memory */
	uint64_t kv_value;	/* out */
};

/*
 * KIOCGSYMBOL: look kg_name up and store its whole symbol in kg_sym. The
 * symbol's st_name is an offset into this open's .strtab, as read(2)
 * returns it.
 */
struct ksyms_gsymbol {
	const char *kg_name;	/* in: NUL-terminated, in the caller's memory */
	union {
		Elf_Sym ku_sym;	/* out */
	} _un;
};

/*
 * OKIOCGSYMBOL / OKIOCGVALUE, NetBSD's older pair: the result is written
 * through a pointer the caller supplies (kg_sym to an Elf_Sym, kg_value to
 * an unsigned long) instead of into the argument itself.
 */
struct ksyms_ogsymbol {
	const char *kg_name;
	union {
		void *ku_sym;			/* an Elf_Sym */
		unsigned long *ku_value;
	} _un;
};

/* NetBSD's field names: kg_sym is the symbol in ksyms_gsymbol and the
 * pointer to it in ksyms_ogsymbol. */
#define kg_sym		_un.ku_sym
#define kg_value	_un.ku_value

/*
 * KIOCGSIZE_SIZE_T (FreeBSD's KIOCGSIZE): the size in bytes of this open's
 * image, which is what read(2) returns in total from offset 0.
 */
#define KIOCGSIZE_SIZE_T	_IOR('l', 1, size_t)

/*
 * KIOCGADDR (FreeBSD): on FreeBSD the kernel maps the image into the
 * caller's address space and returns its address. A character device
 * served through CUSE cannot map memory into its client, so the daemon
 * always fails it with ENOTSUP (EOPNOTSUPP on Linux) -- not ENOTTY, which
 * would say the device does not know the request at all. libksyms answers
 * it in the caller's process by mapping a copy of the image read from the
 * same open file.
 */
#define KIOCGADDR		_IOR('l', 2, void *)

/*
 * KIOCGSIZE_INT (NetBSD's KIOCGSIZE): as KIOCGSIZE_SIZE_T, into an int;
 * EOVERFLOW if the image does not fit one.
 */
#define KIOCGSIZE_INT		_IOR('l', 3, int)

/*
 * KIOCGVALUE and KIOCGSYMBOL (NetBSD) look a name up in this open's
 * snapshot, global and weak symbols first, then locals, as NetBSD's kernel
 * does; ENOENT if no symbol has that name, EINVAL if the name is longer
 * than KSYMS_MAXNAMELEN bytes including its NUL.
 */
#define KIOCGVALUE		_IOWR('l', 4, struct ksyms_gvalue)
#define KIOCGSYMBOL		_IOWR('l', 5, struct ksyms_gsymbol)

/*
 * OKIOCGSYMBOL / OKIOCGVALUE (NetBSD, older): the same lookups; the result
 * goes to the memory kg_sym / kg_value point at, EFAULT if it is not
 * writable.
 */
#define OKIOCGSYMBOL		_IOW('l', 1, struct ksyms_ogsymbol)
#define OKIOCGVALUE		_IOW('l', 2, struct ksyms_ogsymbol)

#ifdef KSYMS_NETBSD_COMPAT
#define KIOCGSIZE		KIOCGSIZE_INT
#else
#define KIOCGSIZE		KIOCGSIZE_SIZE_T
#endif

/* Compile-time checks, where the language has them: the daemon tells the
 * requests apart by number alone, so no two may be equal. */
#if defined(__cplusplus) && __cplusplus >= 201103L
#define KSYMS_STATIC_ASSERT_(e, m)	static_assert(e, m)
#elif !defined(__cplusplus) && defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L
#define KSYMS_STATIC_ASSERT_(e, m)	_Static_assert(e, m)
#endif

#ifdef KSYMS_STATIC_ASSERT_
/* Requests with different numbers differ already; check the pairs that
 * share one. */
KSYMS_STATIC_ASSERT_(KIOCGSIZE_SIZE_T != OKIOCGSYMBOL, "ksyms: ioctl numbers collide");
KSYMS_STATIC_ASSERT_(KIOCGADDR != OKIOCGVALUE, "ksyms: ioctl numbers collide");
/* The daemon copies the symbol out right after the name pointer. */
KSYMS_STATIC_ASSERT_(offsetof(struct ksyms_gsymbol, kg_sym) == sizeof(const char *),
		     "ksyms: unexpected padding in struct ksyms_gsymbol");
#undef KSYMS_STATIC_ASSERT_
#endif

#ifdef __cplusplus
}
#endif

#endif /* _SYS_KSYMS_H_ */
