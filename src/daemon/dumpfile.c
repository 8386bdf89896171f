/* SPDX-License-Identifier: BSD-2-Clause */
#include "dumpfile.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "shared/error.h"
#include "shared/fdio.h"

/* Write to an existing non-regular file (or stdout) as it is. */
static int write_in_place(const char *path, int fd, const void *data, size_t len,
			  struct ks_error *err)
{
	int own = fd < 0, r;

	if (own) {
		fd = open(path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
		if (fd < 0)
			return ks_error_set(err, errno, "%s: %s", path, strerror(errno));
	}
	r = ks_write_all(fd, data, len);
	if (own && close(fd) < 0 && r == 0)
		r = -errno;
	if (r < 0)
		return ks_error_set(err, -r, "%s: %s", path, strerror(-r));
	return 0;
}

/* Where to put the temporary file: the symlink's target (rename would
 * replace the link itself), else path. A dangling link is resolved to the
 * path it names, so that --dump creates it as open(O_CREAT) would. */
static int resolve(const char *path, char *out, size_t size, struct ks_error *err)
{
	char link[PATH_MAX], *slash;
	ssize_t n;
	int hops;

	if ((size_t)snprintf(out, size, "%s", path) >= size)
		return ks_error_set(err, ENAMETOOLONG, "%s: %s", path, strerror(ENAMETOOLONG));
	for (hops = 0; hops < 40; hops++) {
		n = readlink(out, link, sizeof(link) - 1);
		if (n < 0)
			return errno == EINVAL || errno == ENOENT
				       ? 0
				       : ks_error_set(err, errno, "%s: %s", out, strerror(errno));
		link[n] = '\0';
		slash = strrchr(out, '/');
		if (link[0] == '/' || !slash) {
			if ((size_t)snprintf(out, size, "%s", link) >= size)
				goto too_long;
		} else {
			char dir[PATH_MAX];

			*slash = '\0';
			if ((size_t)snprintf(dir, sizeof(dir), "%s", out) >= sizeof(dir) ||
			    (size_t)snprintf(out, size, "%s/%s", dir, link) >= size)
				goto too_long;
		}
	}
	return ks_error_set(err, ELOOP, "%s: %s", path, strerror(ELOOP));
too_long:
	return ks_error_set(err, ENAMETOOLONG, "%s: %s", path, strerror(ENAMETOOLONG));
}

int ks_dump_write(const char *path, const void *data, size_t len, struct ks_error *err)
{
	char target[PATH_MAX], tmp[PATH_MAX + 16];
	const char *slash, *base;
	mode_t mode = 0600;
	struct stat st;
	int fd, r;

	if (strcmp(path, "-") == 0)
		return write_in_place("standard output", STDOUT_FILENO, data, len, err);
	r = resolve(path, target, sizeof(target), err);
	if (r < 0)
		return r;
	if (stat(target, &st) == 0) {
		if (!S_ISREG(st.st_mode))
			return write_in_place(target, -1, data, len, err);
		mode = st.st_mode & 07777;
	} else if (errno != ENOENT) {
		return ks_error_set(err, errno, "%s: %s", target, strerror(errno));
	}

	/* Hidden, beside the target: same file system, so rename() is atomic. */
	slash = strrchr(target, '/');
	base = slash ? slash + 1 : target;
	if ((size_t)snprintf(tmp, sizeof(tmp), "%.*s.%s.XXXXXX", (int)(base - target), target,
			     base) >= sizeof(tmp))
		return ks_error_set(err, ENAMETOOLONG, "%s: %s", target, strerror(ENAMETOOLONG));
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return ks_error_set(err, errno, "%s: cannot create a temporary file beside it: %s",
				    target, strerror(errno));
	r = ks_write_all(fd, data, len);
	/* A full disk may only show at fsync (delayed allocation, NFS), and a
	 * rename before the data is on disk can leave an empty file after a
	 * crash. */
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	if (r == 0 && fchmod(fd, mode) < 0)
		r = -errno;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r == 0 && rename(tmp, target) < 0)
		r = -errno;
	if (r < 0) {
		unlink(tmp);
		return ks_error_set(err, -r, "%s: %s (the file is left as it was)", target,
				    strerror(-r));
	}
	return 0;
}
