/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * One sequential read of a ksyms descriptor into a sealed memfd (image.h).
 *
 * The bytes go through a bounce buffer and write(2) rather than straight
 * into a shared mapping of the memfd: faulting in tmpfs pages one by one
 * costs more than the extra copy, and write() grows the file as it goes,
 * which the read-to-EOF fallback needs anyway: one path for both.
 */
#include "image.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <sys/ksyms.h>

#include "shared/fdio.h"

#define CHUNK (256u << 10)	/* a few FUSE reads per chunk, few round trips */

/* Copy devfd to memfd until EOF; -EIO past limit (SIZE_MAX: none). */
static int copy(int devfd, int memfd, char *buf, size_t limit, size_t *total)
{
	size_t done = 0;
	ssize_t n;
	int r;

	for (;;) {
		n = read(devfd, buf, CHUNK);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			break;
		if ((size_t)n > limit - done)
			return -EIO;	/* longer than KIOCGSIZE said */
		r = ks_write_all(memfd, buf, (size_t)n);
		if (r)
			return r;
		done += (size_t)n;
	}
	*total = done;
	return 0;
}

int ksi_image_read(int devfd, int *memfd, size_t *size)
{
	int saved = errno, fd, r;
	size_t want = 0, got = 0;
	bool known;
	char *buf;

	/* Our own ioctl, not the preload's wrapper: see image.h. */
	known = syscall(SYS_ioctl, devfd, (unsigned long)KIOCGSIZE_SIZE_T, &want) == 0;
	buf = malloc(CHUNK);
	if (!buf)
		return -ENOMEM;
	fd = memfd_create("ksyms", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0) {
		r = -errno;
		goto out;
	}
	r = copy(devfd, fd, buf, known ? want : SIZE_MAX, &got);
	if (r == 0 && (got == 0 || (known && got != want)))
		r = -EIO;	/* short (or empty) image */
	/* What a read-only file of the snapshot would say (memfds are 0777). */
	if (r == 0 && fchmod(fd, 0444) < 0)
		r = -errno;
	if (r == 0 && fcntl(fd, F_ADD_SEALS,
			    F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL) < 0)
		r = -errno;
	if (r == 0 && lseek(fd, 0, SEEK_SET) < 0)
		r = -errno;
	if (r) {
		close(fd);
		goto out;
	}
	*memfd = fd;
	*size = got;
out:
	free(buf);
	errno = saved;
	return r;
}

int ksi_reopen_rdonly(int memfd, int oflags)
{
	char path[40];
	long fd;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", memfd);
	/* A new open file description: its own offset, O_RDONLY for good. */
	fd = syscall(SYS_openat, AT_FDCWD, path, O_RDONLY | (oflags & O_CLOEXEC));
	return fd < 0 ? -errno : (int)fd;
}
