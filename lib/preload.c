/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * libksyms-preload: the libc functions it interposes (LD_PRELOAD).
 *
 * Each wrapper calls the next definition first, then, only when the path's
 * last component is the device's (preload.h) or a snapshot is held, looks
 * further. Everything else is the next definition's result, errno
 * included. See libksyms-preload(8).
 *
 * Built without _FORTIFY_SOURCE: its inline open() would clash with ours.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "preload.h"

#define EXPORT __attribute__((visibility("default")))

/* The fortified entry points, which glibc declares only under
 * _FORTIFY_SOURCE, and the pre-2.33 stat ABI (struct stat on LP64). */
int __open_2(const char *path, int flags);
int __open64_2(const char *path, int flags);
int __openat_2(int dirfd, const char *path, int flags);
int __openat64_2(int dirfd, const char *path, int flags);
#if __WORDSIZE == 64
int __xstat(int ver, const char *path, struct stat *st);
int __xstat64(int ver, const char *path, struct stat *st);
int __lxstat(int ver, const char *path, struct stat *st);
int __lxstat64(int ver, const char *path, struct stat *st);
int __fxstatat(int ver, int dirfd, const char *path, struct stat *st, int flags);
int __fxstatat64(int ver, int dirfd, const char *path, struct stat *st, int flags);
#endif

/* Only read-only opens can be the device (it refuses the others). */
static bool rdonly(int flags)
{
	return (flags & O_ACCMODE) == O_RDONLY && !(flags & (O_PATH | O_DIRECTORY));
}

static bool mode_rdonly(const char *mode)
{
	return mode && mode[0] == 'r' && !strchr(mode, '+');
}

static int opened(int fd, int dirfd, const char *path, int flags)
{
	if (!rdonly(flags) || !ksp_candidate(path))
		return fd;
	return ksp_opened(fd, errno, dirfd, path, flags);
}

#define OPEN_MODE(flags, last)                                                  \
	({                                                                      \
		int m_ = 0;                                                     \
		if (((flags) & O_CREAT) || ((flags) & O_TMPFILE) == O_TMPFILE) { \
			va_list ap_;                                            \
			va_start(ap_, last);                                    \
			m_ = va_arg(ap_, int);                                  \
			va_end(ap_);                                            \
		}                                                               \
		m_;                                                             \
	})

EXPORT int open(const char *path, int flags, ...)
{
	int mode = OPEN_MODE(flags, flags);

	return opened(KSP_NEXT(open)(path, flags, mode), AT_FDCWD, path, flags);
}

EXPORT int open64(const char *path, int flags, ...)
{
	int mode = OPEN_MODE(flags, flags);

	return opened(KSP_NEXT(open64)(path, flags, mode), AT_FDCWD, path, flags);
}

EXPORT int openat(int dirfd, const char *path, int flags, ...)
{
	int mode = OPEN_MODE(flags, flags);

	return opened(KSP_NEXT(openat)(dirfd, path, flags, mode), dirfd, path, flags);
}

EXPORT int openat64(int dirfd, const char *path, int flags, ...)
{
	int mode = OPEN_MODE(flags, flags);

	return opened(KSP_NEXT(openat64)(dirfd, path, flags, mode), dirfd, path, flags);
}

EXPORT int __open_2(const char *path, int flags)
{
	return opened(KSP_NEXT(__open_2)(path, flags), AT_FDCWD, path, flags);
}

EXPORT int __open64_2(const char *path, int flags)
{
	return opened(KSP_NEXT(__open64_2)(path, flags), AT_FDCWD, path, flags);
}

EXPORT int __openat_2(int dirfd, const char *path, int flags)
{
	return opened(KSP_NEXT(__openat_2)(dirfd, path, flags), dirfd, path, flags);
}

EXPORT int __openat64_2(int dirfd, const char *path, int flags)
{
	return opened(KSP_NEXT(__openat64_2)(dirfd, path, flags), dirfd, path, flags);
}

static FILE *fopened(FILE *fp, const char *path, const char *mode)
{
	if (!mode_rdonly(mode) || !ksp_candidate(path))
		return fp;
	return ksp_fopened(fp, errno, path, mode);
}

EXPORT FILE *fopen(const char *path, const char *mode)
{
	return fopened(KSP_NEXT(fopen)(path, mode), path, mode);
}

EXPORT FILE *fopen64(const char *path, const char *mode)
{
	return fopened(KSP_NEXT(fopen64)(path, mode), path, mode);
}

/* freopen closes the stream's descriptor itself (not through close()):
 * forget it first. With a NULL path it reopens the same file, entry and
 * all, so nothing changes. */
static void freopen_forget(const char *path, FILE *stream)
{
	if (path && stream && !ksp_idle())
		ksp_put(ksp_forget(fileno(stream)));
}

EXPORT FILE *freopen(const char *path, const char *mode, FILE *stream)
{
	freopen_forget(path, stream);
	return fopened(KSP_NEXT(freopen)(path, mode, stream), path, mode);
}

EXPORT FILE *freopen64(const char *path, const char *mode, FILE *stream)
{
	freopen_forget(path, stream);
	return fopened(KSP_NEXT(freopen64)(path, mode, stream), path, mode);
}

EXPORT int fclose(FILE *stream)
{
	void *ref = NULL;
	int r, e;

	if (stream && !ksp_idle())
		ref = ksp_forget(fileno(stream));
	r = KSP_NEXT(fclose)(stream);
	e = errno;
	ksp_put(ref);
	errno = e;
	return r;
}

EXPORT int close(int fd)
{
	void *ref;
	int r, e;

	if (ksp_idle())
		return KSP_NEXT(close)(fd);
	/* Our own descriptors are not the program's to close (a loop over
	 * every number): for it they are not open. */
	if (ksp_hidden(fd)) {
		errno = EBADF;
		return -1;
	}
	ref = ksp_forget(fd);
	r = KSP_NEXT(close)(fd);
	e = errno;
	ksp_put(ref);
	errno = e;
	return r;
}

EXPORT int dup(int fd)
{
	int n = KSP_NEXT(dup)(fd);

	if (n >= 0 && !ksp_idle())
		ksp_duped(fd, n);
	return n;
}

/* dup2/dup3 onto newfd: whatever newfd was is gone (ours included: the
 * program asked for that number), and newfd now shares oldfd's. */
static int duped(int r, int oldfd, int newfd, void *ref)
{
	int e = errno;

	ksp_put(ref);
	if (r >= 0)
		ksp_duped(oldfd, newfd);
	errno = e;
	return r;
}

static void *dup_target(int oldfd, int newfd)
{
	/* Forget newfd only if the call can succeed. */
	if (oldfd == newfd || fcntl(oldfd, F_GETFD) < 0)
		return NULL;
	return ksp_forget(newfd);
}

EXPORT int dup2(int oldfd, int newfd)
{
	void *ref;

	if (ksp_idle())
		return KSP_NEXT(dup2)(oldfd, newfd);
	ref = dup_target(oldfd, newfd);
	return duped(KSP_NEXT(dup2)(oldfd, newfd), oldfd, newfd, ref);
}

EXPORT int dup3(int oldfd, int newfd, int flags)
{
	void *ref;

	if (ksp_idle())
		return KSP_NEXT(dup3)(oldfd, newfd, flags);
	ref = dup_target(oldfd, newfd);
	return duped(KSP_NEXT(dup3)(oldfd, newfd, flags), oldfd, newfd, ref);
}

#ifdef HAVE_CLOSE_RANGE
EXPORT int close_range(unsigned first, unsigned last, int flags)
{
	if (ksp_idle())
		return KSP_NEXT(close_range)(first, last, flags);
	return ksp_close_range(first, last, flags);
}
#endif

#if defined(HAVE_CLOSEFROM) && defined(HAVE_CLOSE_RANGE)
EXPORT void closefrom(int lowfd)
{
	/* Ours step around; no fallback to libc's, which would not. */
	if (ksp_idle() || lowfd < 0)
		KSP_NEXT(closefrom)(lowfd);
	else
		ksp_close_range((unsigned)lowfd, ~0u, 0);
}
#endif

EXPORT int ioctl(int fd, unsigned long req, ...)
{
	va_list ap;
	void *arg;
	int ret;

	/* Every request takes at most one argument, passed as a word. */
	va_start(ap, req);
	arg = va_arg(ap, void *);
	va_end(ap);
	if (!ksp_idle() && ksp_ioctl(fd, req, arg, &ret))
		return ret;
	return KSP_NEXT(ioctl)(fd, req, arg);
}

/* ---- stat: the device looks like a regular file of the snapshot's size */

static int fix_stat(int r, const char *path, struct stat *st)
{
	size_t size;
	int e = errno;

	if (r != 0 || !ksp_candidate(path))
		return r;
	if (ksp_stat_size(path, st->st_dev, st->st_ino, &size) == 0) {
		st->st_mode = (st->st_mode & ~(mode_t)S_IFMT) | S_IFREG;
		st->st_size = (off_t)size;
		st->st_blocks = (blkcnt_t)((size + 511) / 512);
		st->st_rdev = 0;
	}
	errno = e;
	return r;
}

/* The next stat-like function if libc has it, else fstatat (glibc before
 * 2.33 exports only the __xstat family). */
#define NEXT_OR_FSTATAT(fn, args, dirfd, path, st, flags)                      \
	({                                                                     \
		__typeof__(&fn) f_ = KSP_NEXT(fn);                             \
		f_ ? f_ args : ksp_real_fstatat(dirfd, path, st, flags);       \
	})

EXPORT int stat(const char *path, struct stat *st)
{
	return fix_stat(NEXT_OR_FSTATAT(stat, (path, st), AT_FDCWD, path, st, 0), path, st);
}

EXPORT int lstat(const char *path, struct stat *st)
{
	return fix_stat(NEXT_OR_FSTATAT(lstat, (path, st), AT_FDCWD, path, st,
					AT_SYMLINK_NOFOLLOW), path, st);
}

EXPORT int fstatat(int dirfd, const char *path, struct stat *st, int flags)
{
	return fix_stat(ksp_real_fstatat(dirfd, path, st, flags), path, st);
}

#if __WORDSIZE == 64
/* struct stat64 is struct stat here. */
EXPORT int stat64(const char *path, struct stat64 *st)
{
	return stat(path, (struct stat *)st);
}

EXPORT int lstat64(const char *path, struct stat64 *st)
{
	return lstat(path, (struct stat *)st);
}

EXPORT int fstatat64(int dirfd, const char *path, struct stat64 *st, int flags)
{
	return fstatat(dirfd, path, (struct stat *)st, flags);
}

EXPORT int __xstat(int ver, const char *path, struct stat *st)
{
	(void)ver;
	return fix_stat(ksp_real_fstatat(AT_FDCWD, path, st, 0), path, st);
}

EXPORT int __xstat64(int ver, const char *path, struct stat *st)
{
	return __xstat(ver, path, st);
}

EXPORT int __lxstat(int ver, const char *path, struct stat *st)
{
	(void)ver;
	return fix_stat(ksp_real_fstatat(AT_FDCWD, path, st, AT_SYMLINK_NOFOLLOW), path, st);
}

EXPORT int __lxstat64(int ver, const char *path, struct stat *st)
{
	return __lxstat(ver, path, st);
}

EXPORT int __fxstatat(int ver, int dirfd, const char *path, struct stat *st, int flags)
{
	(void)ver;
	return fix_stat(ksp_real_fstatat(dirfd, path, st, flags), path, st);
}

EXPORT int __fxstatat64(int ver, int dirfd, const char *path, struct stat *st, int flags)
{
	return __fxstatat(ver, dirfd, path, st, flags);
}
#endif

EXPORT int statx(int dirfd, const char *path, int flags, unsigned int mask, struct statx *stx)
{
	int (*next_statx)(int, const char *, int, unsigned int, struct statx *) = KSP_NEXT(statx);
	size_t size;
	int r, e;

	if (!next_statx) {
		errno = ENOSYS;
		return -1;
	}
	r = next_statx(dirfd, path, flags, mask, stx);
	if (r != 0 || !ksp_candidate(path) || !(stx->stx_mask & STATX_INO))
		return r;
	e = errno;
	if (ksp_stat_size(path, makedev(stx->stx_dev_major, stx->stx_dev_minor),
			  stx->stx_ino, &size) == 0) {
		stx->stx_mode = (uint16_t)((stx->stx_mode & ~S_IFMT) | S_IFREG);
		stx->stx_size = size;
		stx->stx_blocks = (size + 511) / 512;
		stx->stx_rdev_major = stx->stx_rdev_minor = 0;
		stx->stx_mask |= STATX_TYPE | STATX_SIZE | STATX_BLOCKS;
	}
	errno = e;
	return r;
}
