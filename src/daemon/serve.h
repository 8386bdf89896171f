/* SPDX-License-Identifier: BSD-2-Clause */
#pragma once

#include <stddef.h>

#include "daemon.h"
#include "device.h"

/*
 * What the two libfuse adapters (cuse.c, fuse.c) do alike around the
 * device: make it and prove the symbols readable before anything is
 * created, answer a read with the snapshot's memfd, and size the ioctl
 * retry rounds by the page.
 */

/* The device for opts, its sources announced and its first snapshot taken
 * (before the capabilities go: the first read also learns what only
 * CAP_SYS_ADMIN may read, dynsyms.h). Errors are logged, one line each;
 * -1 then. close_wait_ms: see ks_device_opts. */
int ks_serve_device_new(const struct ks_daemon_opts *opts, unsigned close_wait_ms,
			struct ks_device **dev);

/* fuse_req_t without including libfuse here: each adapter picks its own
 * FUSE_USE_VERSION. */
struct fuse_req;

/* Reply to a read request with what ks_device_read() or ks_device_pread()
 * gave (ret, r): an error, EOF, or r's bytes spliced from its memfd; then
 * r is done with. */
void ks_serve_reply_read(struct fuse_req *req, int ret, struct ks_read *r);

/* The page size, for the ioctl retry rounds (deviceioctl.c). */
size_t ks_serve_page_size(void);
