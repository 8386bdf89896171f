/* SPDX-License-Identifier: BSD-2-Clause */
#pragma once

#include <stdbool.h>

#include "shared/error.h"

/*
 * The directory the kernel's files are read from: "/" for the running
 * system, or a captured tree (--root, the test fixtures) holding proc/,
 * sys/ and uname-m. Opened once; every file below it is opened with
 * openat(), so no path is ever glued together and nothing can be cut short.
 */
struct ks_root {
	int fd;			/* O_PATH directory */
	bool live;		/* "/": the running system */
	char path[4096];	/* for messages: "" for "/", else the path without a trailing '/' */
};

/* Open path as the root. */
int ks_root_open(struct ks_root *root, const char *path, struct ks_error *err);
void ks_root_close(struct ks_root *root);

/*
 * openat() below the root (rel has no leading '/'), O_CLOEXEC added; for
 * directories. Returns the fd, or -errno with err saying
 * "<root>/<rel>: <reason>".
 */
int ks_root_openat(const struct ks_root *root, const char *rel, int flags, struct ks_error *err);

/*
 * Open the regular file <root>/<rel> for reading. Anything else (a FIFO, a
 * device, a directory) is refused with EINVAL before it is opened, so that
 * nothing can block or have side effects.
 */
int ks_root_open_file(const struct ks_root *root, const char *rel, struct ks_error *err);

/* The same for name in the directory dirfd, without a message: the fd, or
 * -errno (-EINVAL: not a regular file). */
int ks_open_regular(int dirfd, const char *name);
