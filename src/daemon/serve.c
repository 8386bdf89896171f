/* SPDX-License-Identifier: BSD-2-Clause */
#define FUSE_USE_VERSION 31

#include "serve.h"

#include <fuse_lowlevel.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "shared/log.h"

int ks_serve_device_new(const struct ks_daemon_opts *opts, unsigned close_wait_ms,
			struct ks_device **dev)
{
	struct ks_device_opts dopts = {
		.root = opts->root,
		.max_opens = opts->max_opens,
		.max_memory = opts->max_memory,
		.watch = KS_KEVENTS_UEVENT | KS_KEVENTS_KSYMBOL,
		.close_wait_ms = close_wait_ms,
	};
	struct ks_error err = { 0 };

	*dev = NULL;
	if (ks_device_new(&dopts, dev, &err) < 0) {
		ks_err("%s", err.msg);
		return -1;
	}
	ks_device_log_watch(*dev);
	/* Nothing is created, and no one told we are ready, unless the
	 * symbols can be read at all. */
	if (ks_device_prime(*dev, &err) < 0) {
		ks_err("cannot take a snapshot: %s", err.msg);
		return -1;
	}
	return 0;
}

void ks_serve_reply_read(struct fuse_req *req, int ret, struct ks_read *r)
{
	struct fuse_bufvec bv = FUSE_BUFVEC_INIT(0);

	if (ret < 0) {
		fuse_reply_err(req, -ret);
		return;
	}
	if (r->len == 0) {
		fuse_reply_buf(req, NULL, 0);
		return;
	}
	bv.buf[0].size = r->len;
	bv.buf[0].flags = FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK;
	bv.buf[0].fd = r->fd;
	bv.buf[0].pos = r->offset;
	ret = fuse_reply_data(req, &bv, 0);
	if (ret < 0 && ret != -ENOENT) /* ENOENT: the reader was interrupted */
		ks_err("read reply: %s", strerror(-ret));
	/* The reference kept the memfd alive even if the client closed
	 * meanwhile; the bytes are in the kernel's hands now. */
	ks_device_read_done(r);
}

size_t ks_serve_page_size(void)
{
	long page = sysconf(_SC_PAGESIZE);

	return page > 0 ? (size_t)page : 4096;
}
