/* SPDX-License-Identifier: BSD-2-Clause */
#pragma once

#include <stddef.h>

/* Write all of buf to fd, retrying short writes and EINTR. 0 or -errno. */
int ks_write_all(int fd, const void *buf, size_t len);

struct ks_error;

/* Read all of fd into a malloc'd, NUL-terminated buffer, which starts at
 * cap bytes and doubles (the buffer is the caller's to keep: a small file
 * in a large one wastes the rest). For small procfs and sysfs files, which
 * hand out at most a page per read() and report no size. More than max
 * bytes: -EFBIG, err naming the limit. */
int ks_read_all(int fd, size_t max, size_t cap, char **text, size_t *len, struct ks_error *err);
