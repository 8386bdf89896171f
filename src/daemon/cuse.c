/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The CUSE transport: a thin adapter from libfuse's cuse_lowlevel callbacks
 * to device.c, which holds all the semantics (and their unit tests). Nothing
 * here decides anything a test would want to check without a kernel.
 */

/* 31: an API level whose callback types are the same in every libfuse 3
 * from 3.10 on (libfuse 3.19 made the CUSE ioctl's cmd unsigned, but only
 * for FUSE_USE_VERSION >= 319). */
#define FUSE_USE_VERSION 31

#include <cuse_lowlevel.h>
#include <fuse_lowlevel.h>

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "access.h"
#include "daemon.h"
#include "device.h"
#include "devname.h"
#include "privdrop.h"
#include "shared/log.h"
#include "sdnotify.h"
#include "serve.h"
#include "stopsig.h"

struct ks_cuse {
	struct ks_device *dev;
	size_t page_size;
	const char *name;	/* for log lines */
	const struct ks_root *root;
	/* The caller's /proc is always the real one, even when --root names a
	 * fixture tree: the caller is a real process, only the kernel it asks
	 * about may be canned. The sysctls of the rule come from --root
	 * (device.c), as they belong to the kernel the snapshot describes. */
	struct ks_root callers;
};

static struct ks_cuse *cuse_of(fuse_req_t req)
{
	return fuse_req_userdata(req);
}

static struct ks_open *open_of(const struct fuse_file_info *fi)
{
	return (struct ks_open *)(uintptr_t)fi->fh;
}

static void ks_cuse_init(void *userdata, struct fuse_conn_info *conn)
{
	(void)userdata;
	/* Let read replies splice the snapshot's pages instead of copying
	 * them through our memory (libcuse negotiates no capabilities, so
	 * ask here). Where it cannot splice, libfuse copies. */
	conn->want |= FUSE_CAP_SPLICE_WRITE;
}

/* Called after the kernel has processed our CUSE_INIT reply, which is when
 * it creates /dev/<name>: the moment a service manager may call us ready. */
static void ks_cuse_init_done(void *userdata)
{
	struct ks_cuse *c = userdata;
	int ret;

	ks_info("serving /dev/%s from %s/", c->name, c->root->path);
	ret = ks_sd_notify("READY=1");
	if (ret < 0)
		ks_warn("cannot notify the service manager: %s", strerror(-ret));
}

static void ks_cuse_open(fuse_req_t req, struct fuse_file_info *fi)
{
	struct ks_cuse *c = cuse_of(req);
	struct ks_error err = { 0 };
	struct ks_caller caller;
	struct ks_open *o;
	int ret;

	/* ctx->pid is the calling thread's id; access.c maps it to the
	 * process and reads its credentials. */
	ret = ks_access_read_caller(&c->callers, fuse_req_ctx(req)->pid, &caller, &err);
	if (ret < 0) {
		/* A caller we cannot identify may not see addresses. */
		if (ret == -ESRCH)
			ks_debug("open refused: %s", err.msg);
		else
			ks_err("open refused: %s", err.msg);
		fuse_reply_err(req, EPERM);
		return;
	}

	ret = ks_device_open(c->dev, &caller, &o, &err);
	if (ret < 0) {
		if (ret == -EPERM || ret == -EBUSY)
			ks_debug("open by pid %d refused: %s", (int)caller.tgid, err.msg);
		else if (ret == -ENOMEM)
			ks_warn("open by pid %d refused: %s", (int)caller.tgid, err.msg);
		else
			ks_err("open by pid %d failed: %s", (int)caller.tgid, err.msg);
		fuse_reply_err(req, -ret);
		return;
	}

	fi->fh = (uintptr_t)o;
	fi->direct_io = 1;	/* CUSE is always direct I/O; say so anyway */
	fi->nonseekable = 1;	/* no effect on CUSE today, but it is the truth */
	ks_debug("open by pid %d (tid %d, uid %u): %zu-byte snapshot", (int)caller.tgid,
		 (int)caller.tid, (unsigned)caller.uid, ks_open_size(o));
	/* -ENOENT: the open was interrupted and the kernel will send no
	 * release for it, so drop it here. */
	if (fuse_reply_open(req, fi) == -ENOENT)
		ks_device_release(o);
}

static void ks_cuse_read(fuse_req_t req, size_t size, off_t off, struct fuse_file_info *fi)
{
	struct ks_read r;

	/* off is always 0 under CUSE (relative to each read() call): the
	 * cursor lives in the open. */
	(void)off;
	ks_serve_reply_read(req, ks_device_read(open_of(fi), size, &r), &r);
}

static void ks_cuse_release(fuse_req_t req, struct fuse_file_info *fi)
{
	ks_device_release(open_of(fi));
	fuse_reply_err(req, 0);
}

static void ks_cuse_ioctl(fuse_req_t req, int cmd, void *arg, struct fuse_file_info *fi,
			  unsigned flags, const void *in_buf, size_t in_bufsz, size_t out_bufsz)
{
	struct ks_cuse *c = cuse_of(req);
	struct iovec in_iov[2], out_iov[1];
	struct ks_ioctl_step st;
	unsigned i;
	int ret;

	ret = ks_device_ioctl(open_of(fi), (unsigned)cmd, (uintptr_t)arg,
			      (flags & FUSE_IOCTL_COMPAT) != 0, in_buf, in_bufsz, out_bufsz,
			      c->page_size, &st);
	if (ret < 0) {
		fuse_reply_err(req, -ret);
		return;
	}
	if (ret == KS_IOCTL_DONE) {
		fuse_reply_ioctl(req, 0, st.data_len ? st.data : NULL, st.data_len);
		return;
	}
	for (i = 0; i < st.n_in; i++)
		in_iov[i] = (struct iovec){ (void *)(uintptr_t)st.in[i].addr, st.in[i].len };
	for (i = 0; i < st.n_out; i++)
		out_iov[i] = (struct iovec){ (void *)(uintptr_t)st.out[i].addr, st.out[i].len };
	fuse_reply_ioctl_retry(req, st.n_in ? in_iov : NULL, st.n_in,
			       st.n_out ? out_iov : NULL, st.n_out);
}

static const struct cuse_lowlevel_ops ks_cuse_ops = {
	.init = ks_cuse_init,
	.init_done = ks_cuse_init_done,
	.open = ks_cuse_open,
	.read = ks_cuse_read,
	.release = ks_cuse_release,
	.ioctl = ks_cuse_ioctl,
};

int ks_cuse_run(const struct ks_daemon_opts *opts)
{
	struct ks_cuse c = { .callers.fd = -1 };
	struct ks_error err = { 0 };
	struct cuse_info ci = { 0 };
	struct fuse_session *se;
	const char *dev_info[1];
	char devname[128];
	char *argv[4];
	char path[PATH_MAX];
	int argc = 0, mt = 0, ret, status = 1;
	const char *name = opts->name ? opts->name : "ksyms";

	/* main() has checked --name; this entry point does not rely on it. */
	if (!ks_device_name_valid(name)) {
		ks_err("invalid device name '%s'", name);
		return 1;
	}
	c.name = name;
	c.root = opts->root;
	if (ks_root_open(&c.callers, "/", &err) < 0) {
		ks_err("%s", err.msg);
		return 1;
	}
	c.page_size = ks_serve_page_size();
	/* No device unless the symbols can be read at all. */
	if (ks_serve_device_new(opts, 0, &c.dev) < 0)
		goto out;
	/* The event sources are open: what only opening them needed goes now,
	 * while this is the only thread (capabilities are per thread; the
	 * first read's threads are gone, libfuse's workers and the table's
	 * thread come later and inherit the rest). A daemon that cannot give
	 * them up does not serve with them. */
	ret = ks_privdrop_event_caps(&err);
	if (ret < 0) {
		ks_err("%s", err.msg);
		goto out;
	}

	snprintf(devname, sizeof(devname), "DEVNAME=%s", name);
	dev_info[0] = devname;
	ci.dev_info_argc = 1;
	ci.dev_info_argv = dev_info;
	/* Unrestricted: the NetBSD lookups carry a pointer to the name, which
	 * only the retry protocol can follow. */
	ci.flags = CUSE_UNRESTRICTED_IOCTL;

	/* libfuse parses its own options: -f keeps us in the foreground, -d
	 * turns on its request tracing (and implies -f). */
	argv[argc++] = (char *)"ksymsd";
	if (opts->foreground)
		argv[argc++] = (char *)"-f";
	if (opts->debug)
		argv[argc++] = (char *)"-d";
	argv[argc] = NULL;

	/* Where libfuse would say "device not found" and we a second line:
	 * one line that names the fix. */
	if (access("/dev/cuse", R_OK | W_OK) < 0) {
		ks_err("cannot open /dev/cuse: %s (%s)", strerror(errno),
		       errno == ENOENT ? "load the cuse module: modprobe cuse"
				       : "ksymsd must run as root");
		goto out;
	}

	/* The kernel refuses a second CUSE device of one name only after
	 * accepting our channel; say so up front where we can. */
	snprintf(path, sizeof(path), "/sys/class/cuse/%s", name);
	if (access(path, F_OK) == 0) {
		ks_err("a CUSE device named '%s' exists already (%s)", name, path);
		goto out;
	}

	/* Opens /dev/cuse, installs libfuse's signal handlers (ours replace
	 * the stop signals' below) and daemonizes unless -f. */
	se = cuse_lowlevel_setup(argc, argv, &ci, &ks_cuse_ops, &mt, &c);
	if (!se) {
		ks_err("cannot create /dev/%s through CUSE (is the cuse module loaded?)", name);
		goto out;
	}
	ks_stopsig_install(se);
	/* After the fork into the background: threads do not survive it. */
	ret = ks_device_start(c.dev, &err);
	if (ret < 0)
		ks_warn("%s: the first open after a change rebuilds the table itself", err.msg);

	ret = mt ? fuse_session_loop_mt(se, 0) : fuse_session_loop(se);
	if (ret < 0) {
		ks_err("session loop: %s", strerror(-ret));
	} else if (!ks_stopsig_caught() && ret == 0) {
		/* (ret > 0: libfuse's own handler caught a stop signal that came
		 * before ours were installed; libfuse >= 3.16 returns its number.) */
		ks_err("the kernel closed the CUSE channel of /dev/%s (a device of "
		       "that name may exist already)", name);
	} else {
		ks_debug("exiting on signal %d", ks_stopsig_caught() ? ks_stopsig_caught() : ret);
		status = 0;
	}
	/* The session is about to go: from now on the handler only records.
	 * The kernel removes the node as soon as our channel closes. */
	ks_stopsig_detach();
	cuse_lowlevel_teardown(se);
	ks_stopsig_reset();
	ks_device_log_stats(c.dev);
out:
	ks_device_free(c.dev);
	ks_root_close(&c.callers);
	return status;
}
