/* SPDX-License-Identifier: BSD-2-Clause */
#include "root.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int ks_root_open(struct ks_root *root, const char *path, struct ks_error *err)
{
	size_t len = strlen(path);

	while (len > 1 && path[len - 1] == '/')
		len--;
	root->live = len == 1 && path[0] == '/';
	if (root->live)
		len = 0;
	if (len >= sizeof(root->path))
		return ks_error_set(err, ENAMETOOLONG, "%s: path too long", path);
	memcpy(root->path, path, len);
	root->path[len] = '\0';
	root->fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root->fd < 0)
		return ks_error_set(err, errno, "%s: %s", path, strerror(errno));
	return 0;
}

void ks_root_close(struct ks_root *root)
{
	if (root->fd >= 0)
		close(root->fd);
	root->fd = -1;
}

int ks_root_openat(const struct ks_root *root, const char *rel, int flags, struct ks_error *err)
{
	int fd = openat(root->fd, rel, flags | O_CLOEXEC);

	if (fd < 0)
		return ks_error_set(err, errno, "%s/%s: %s", root->path, rel, strerror(errno));
	return fd;
}

int ks_open_regular(int dirfd, const char *name)
{
	struct stat before, st;
	int fd;

	if (fstatat(dirfd, name, &before, 0) < 0)
		return -errno;
	if (!S_ISREG(before.st_mode))
		return -EINVAL;
	/* O_NONBLOCK: should a FIFO take the file's place meanwhile, the open
	 * does not wait for a writer; the check below then refuses it. */
	fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_ino != before.st_ino ||
	    st.st_dev != before.st_dev) {
		close(fd);
		return -EINVAL;
	}
	return fd;
}

int ks_root_open_file(const struct ks_root *root, const char *rel, struct ks_error *err)
{
	int fd = ks_open_regular(root->fd, rel);

	if (fd == -EINVAL)
		return ks_error_set(err, EINVAL, "%s/%s: not a regular file", root->path, rel);
	if (fd < 0)
		return ks_error_set(err, -fd, "%s/%s: %s", root->path, rel, strerror(-fd));
	return fd;
}
