/* SPDX-License-Identifier: BSD-2-Clause */
#pragma once

/*
 * libksyms-preload's state (preload_core.c), used by the libc wrappers
 * (preload.c). See libksyms-preload(8) for what is interposed and why.
 *
 * Only calls naming the device are ever slowed down: a path qualifies when
 * its last component is the device's (ksyms_candidate(): a string compare,
 * no system call), and only then is it compared with the device by
 * identity (st_dev, st_ino of what was opened or stat'ed against a fresh
 * stat of the device path). Descriptor calls (close, dup, ioctl) test one
 * atomic counter and go straight through while no snapshot is held.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/types.h>

/* The next definition of a libc function (dlsym RTLD_NEXT), cached in
 * *slot; NULL if there is none. errno is kept. */
void *ksp_next(const char *name, void **slot);

#define KSP_NEXT(fn)                                                    \
	({                                                              \
		static void *slot_;                                     \
		(__typeof__(&fn))ksp_next(#fn, &slot_);                 \
	})

/* No snapshot is held (no entry, no pending one): nothing to check. One
 * atomic load, no lock. */
bool ksp_idle(void);

/* Could path name the device? (last component check only) */
bool ksp_candidate(const char *path);

/* Is (dev, ino) the device path's node right now? Stats the device. */
bool ksp_is_device(dev_t dev, ino_t ino);

/* stat of path through the next fstatat (never a wrapper of ours). */
int ksp_real_fstatat(int dirfd, const char *path, struct stat *st, int flags);

/*
 * After the next open/openat returned fd (or -1 with errno err) for a
 * candidate path with open flags oflags: if it is the device, the fd number
 * now holds the snapshot (or, for -1 with EBUSY, a new descriptor does).
 * Returns what the wrapper returns, with errno set as it should be seen.
 */
int ksp_opened(int fd, int err, int dirfd, const char *path, int oflags);

/* The same for a stream from fopen/freopen (NULL with err on failure);
 * mode is the fopen mode. */
FILE *ksp_fopened(FILE *fp, int err, const char *path, const char *mode);

/* The descriptor fd is about to stop meaning what it meant (close, dup2
 * onto it, fclose, freopen): forget it. Returns an opaque reference to drop
 * with ksp_put() after the real call, or NULL. */
void *ksp_forget(int fd);
void ksp_put(void *ref);

/* Is fd one of our own descriptors (the device, a pending memfd), which
 * close() refuses with EBADF? */
bool ksp_hidden(int fd);

/* dup/dup2/dup3/F_DUPFD made newfd from oldfd: newfd shares the snapshot. */
void ksp_duped(int oldfd, int newfd);

/* close_range(first, last, flags) that skips our own descriptors and
 * forgets entries in the range; flags as close_range(2). */
int ksp_close_range(unsigned first, unsigned last, int flags);

/* ioctl on an entry: 1 if handled (*ret set, errno set on failure),
 * 0 if fd is not an entry. */
int ksp_ioctl(int fd, unsigned long req, void *arg, int *ret);

/* If (dev, ino) is the device, the size a regular file standing for it
 * has: the held snapshot's, else a pending one taken now. 0 or -errno. */
int ksp_stat_size(const char *path, dev_t dev, ino_t ino, size_t *size);
