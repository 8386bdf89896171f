/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Which transport serves the snapshots: the one asked for, or with
 * --transport=auto the character device where the kernel has CUSE, and the
 * regular file over FUSE where it has not (kernels built without CUSE,
 * containers given /dev/fuse only).
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "daemon.h"
#include "shared/log.h"

/* Does /dev/cuse open? That is all CUSE needs of us; opening it creates
 * nothing until a device is declared on it. */
static int cuse_usable(void)
{
	int fd = open("/dev/cuse", O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}

int ks_daemon_run(const struct ks_daemon_opts *opts)
{
	int ret;

	switch (opts->transport) {
	case KS_TRANSPORT_CUSE:
		return ks_cuse_run(opts);
	case KS_TRANSPORT_FUSE:
		return ks_fuse_run(opts);
	case KS_TRANSPORT_AUTO:
		break;
	}
	ret = cuse_usable();
	if (ret == 0)
		return ks_cuse_run(opts);
	ks_info("transport: /dev/cuse: %s; serving a file over FUSE instead", strerror(-ret));
	return ks_fuse_run(opts);
}
