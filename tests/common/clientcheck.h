/* SPDX-License-Identifier: BSD-2-Clause */
#pragma once

/*
 * For the client programs that check a device or file from outside (the
 * VM's vm-dev, the FUSE test's ksyms-file): one "ok: ..." or "FAIL: ..."
 * line per check, the failures counted for the exit status, and errno
 * values by name, as the scripts that run them compare.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

static int failures;

#define CHECK(cond, ...)                              \
	do {                                          \
		if (cond) {                           \
			printf("ok: " __VA_ARGS__);   \
		} else {                              \
			printf("FAIL: " __VA_ARGS__); \
			failures++;                   \
		}                                     \
		printf("\n");                         \
	} while (0)

static inline const char *errname(int e)
{
	switch (e) {
	case 0: return "OK";
	case EBUSY: return "EBUSY";
	case EPERM: return "EPERM";
	case EACCES: return "EACCES";
	case EROFS: return "EROFS";
	case ENOENT: return "ENOENT";
	case EINVAL: return "EINVAL";
	case ENOTTY: return "ENOTTY";
	case EOPNOTSUPP: return "EOPNOTSUPP";
	case ENOMEM: return "ENOMEM";
	case ENXIO: return "ENXIO";
	case ENOTCONN: return "ENOTCONN";
	case ECONNABORTED: return "ECONNABORTED";
	case ENODEV: return "ENODEV";
	case EIO: return "EIO";
	case EFAULT: return "EFAULT";
	default: return strerror(e);
	}
}
