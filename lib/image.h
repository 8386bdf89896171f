/* SPDX-License-Identifier: BSD-2-Clause */
#pragma once

#include <stddef.h>

/*
 * Shared by libksyms and libksyms-preload (hidden in both): turn a freshly
 * opened ksyms descriptor into a sealed memfd holding the whole image.
 *
 * The kernel's CUSE cannot seek, pread or mmap, so the device is read once,
 * sequentially, from the open's cursor to end of file. KIOCGSIZE says how
 * much to expect; a descriptor that does not know it (a plain file or a
 * FIFO standing in for the device) is read to EOF instead.
 *
 * Both return 0 or a negative errno and never touch the caller's errno on
 * success. No interposed libc call is made (ioctl and open go through
 * syscall()), so the preload may call these from inside its wrappers.
 */

/* *memfd: MFD_CLOEXEC, sealed (F_SEAL_WRITE|GROW|SHRINK|SEAL), its offset 0;
 * *size: its size. -EIO when the device gave fewer or more bytes than
 * KIOCGSIZE said, or an empty image. devfd's cursor ends at EOF. */
int ksi_image_read(int devfd, int *memfd, size_t *size);

/* A new read-only descriptor (O_RDONLY plus oflags & O_CLOEXEC) for the
 * same memfd, through /proc/self/fd; -errno if /proc is not there. */
int ksi_reopen_rdonly(int memfd, int oflags);
