/* SPDX-License-Identifier: BSD-2-Clause */
#pragma once

#include <stddef.h>

/* Write all of buf to fd, retrying short writes and EINTR. 0 or -errno. */
int ks_write_all(int fd, const void *buf, size_t len);
