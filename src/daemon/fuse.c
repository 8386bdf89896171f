/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The FUSE transport: the snapshots as a regular file, <mountpoint>/<name>,
 * for kernels without CUSE and containers given /dev/fuse only. A thin
 * adapter from libfuse's lowlevel callbacks to device.c, as cuse.c is.
 *
 * Each snapshot is an inode of its own. A lookup of <name> takes the
 * current snapshot (shared while the kernel does not change) and answers
 * with its inode, with a zero entry timeout so that every path walk asks
 * again: an open binds to the snapshot of its own lookup, fstat reports
 * that snapshot's size (getattr comes without a file handle: the size must
 * be the inode's), and the page cache, and with it mmap (shared or
 * private), belongs to one snapshot and never goes stale. That is also why
 * there is no direct_io: reads of a cached page never reach us.
 */

/* An API level whose callback types are the same in every libfuse 3 from
 * 3.10 on (as cuse.c's 31), and whose fuse_session_loop_mt() takes a
 * config: 3.14's 31-level one leaks the config it makes. */
#define FUSE_USE_VERSION 32

#include <fuse_lowlevel.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "access.h"
#include "daemon.h"
#include "device.h"
#include "devname.h"
#include "fuseinodes.h"
#include "fusemount.h"
#include "privdrop.h"
#include "sdnotify.h"
#include "serve.h"
#include "shared/log.h"
#include "stopsig.h"

/* Seconds the kernel may keep a snapshot inode's attributes: any, as they
 * never change. */
#define KS_FUSE_ATTR_TIMEOUT 86400.0

struct ks_fuse {
	struct ks_device *dev;
	const char *name;
	const struct ks_root *root;
	size_t page_size;
	/* The callers' /proc, the real one whatever --root says (cuse.c). */
	struct ks_root callers;
	struct timespec mounted;

	struct ks_inodes inodes;
};

static struct ks_fuse *fuse_of(fuse_req_t req)
{
	return fuse_req_userdata(req);
}

static struct ks_open *open_of(const struct fuse_file_info *fi)
{
	return (struct ks_open *)(uintptr_t)fi->fh;
}

static void file_attr(struct stat *st, fuse_ino_t ino, struct ks_snapshot *snap,
		      const struct timespec *made)
{
	memset(st, 0, sizeof(*st));
	st->st_ino = ino;
	/* Readable by all, as /proc/kallsyms: the open applies the kernel's
	 * rule for it (access.h), whatever the mode says. */
	st->st_mode = S_IFREG | 0444;
	st->st_nlink = 1;
	st->st_size = (off_t)ks_snapshot_size(snap);
	st->st_blksize = 4096;
	st->st_blocks = (blkcnt_t)((ks_snapshot_size(snap) + 511) / 512);
	st->st_atim = st->st_mtim = st->st_ctim = *made;
}

static void root_attr(const struct ks_fuse *f, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_ino = FUSE_ROOT_ID;
	st->st_mode = S_IFDIR | 0555;
	st->st_nlink = 2;
	st->st_atim = st->st_mtim = st->st_ctim = f->mounted;
}

static void ks_fuse_init(void *userdata, struct fuse_conn_info *conn)
{
	(void)userdata;
	/* Reply to reads by splicing the memfd's pages (as cuse.c). */
	conn->want |= FUSE_CAP_SPLICE_WRITE;
	/* A snapshot's inode never changes: no getattr before every read
	 * (with zero attribute timeouts libfuse's default would send one). */
	conn->want &= ~(unsigned)FUSE_CAP_AUTO_INVAL_DATA;
	conn->want &= ~(unsigned)FUSE_CAP_READDIRPLUS;
}

static void ks_fuse_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct ks_fuse *f = fuse_of(req);
	struct fuse_entry_param e = { 0 };
	struct ks_error err = { 0 };
	struct ks_snapshot *snap;
	struct ks_caller caller;
	struct timespec made;
	int ret;

	if (parent != FUSE_ROOT_ID || strcmp(name, f->name) != 0) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	/* Any path walk looks up (a zero entry timeout): who may not see
	 * addresses, or cannot be identified, gets EPERM here, as at open,
	 * and makes the daemon read nothing. */
	ret = ks_access_read_caller(&f->callers, fuse_req_ctx(req)->pid, &caller, &err);
	if (ret == 0)
		ret = ks_device_snapshot(f->dev, &caller, &snap, &err);
	if (ret < 0) {
		if (ret == -EPERM || ret == -ESRCH)
			ks_debug("lookup of %s refused: %s", name, err.msg);
		else
			ks_err("lookup of %s: %s", name, err.msg);
		fuse_reply_err(req, ret == -ESRCH ? EPERM : -ret);
		return;
	}
	e.ino = ks_inodes_lookup(&f->inodes, snap, &made);
	if (!e.ino) {
		ks_snapshot_unref(snap);
		fuse_reply_err(req, ENOMEM);
		return;
	}
	e.generation = 1;
	file_attr(&e.attr, e.ino, snap, &made);
	ks_snapshot_unref(snap);
	/* A zero entry timeout: the next path walk looks up again, and finds
	 * the snapshot of that moment. The inode's attributes are those of
	 * one snapshot and never change (its number is never reused), so the
	 * kernel may keep them: a zero attribute timeout cost a GETATTR round
	 * trip at every read that reaches the end of a cached file. */
	e.entry_timeout = 0;
	e.attr_timeout = KS_FUSE_ATTR_TIMEOUT;
	/* Not sent (the lookup was interrupted): the kernel holds no
	 * reference to forget later. */
	if (fuse_reply_entry(req, &e) < 0)
		ks_inodes_forget(&f->inodes, e.ino, 1);
}

static void ks_fuse_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	ks_inodes_forget(&fuse_of(req)->inodes, ino, nlookup);
	fuse_reply_none(req);
}

static void ks_fuse_forget_multi(fuse_req_t req, size_t count, struct fuse_forget_data *forgets)
{
	size_t i;

	for (i = 0; i < count; i++)
		ks_inodes_forget(&fuse_of(req)->inodes, forgets[i].ino, forgets[i].nlookup);
	fuse_reply_none(req);
}

static void ks_fuse_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct ks_fuse *f = fuse_of(req);
	struct ks_snapshot *snap;
	struct timespec made;
	struct stat st;

	(void)fi;
	if (ino == FUSE_ROOT_ID) {
		root_attr(f, &st);
		fuse_reply_attr(req, &st, 0);
		return;
	}
	snap = ks_inodes_get(&f->inodes, ino, &made);
	if (!snap) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	file_attr(&st, ino, snap, &made);
	ks_snapshot_unref(snap);
	fuse_reply_attr(req, &st, KS_FUSE_ATTR_TIMEOUT);
}

static void ks_fuse_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct ks_fuse *f = fuse_of(req);
	struct ks_error err = { 0 };
	struct ks_snapshot *snap;
	struct ks_caller caller;
	struct timespec made;
	struct ks_open *o;
	int ret;

	if ((fi->flags & O_ACCMODE) != O_RDONLY) {
		fuse_reply_err(req, EACCES); /* the mount is read-only too */
		return;
	}
	snap = ks_inodes_get(&f->inodes, ino, &made);
	if (!snap) {
		fuse_reply_err(req, ino == FUSE_ROOT_ID ? EISDIR : ENOENT);
		return;
	}
	/* As cuse.c: ctx->pid is the calling thread, access.c finds its
	 * process and credentials; one we cannot identify sees nothing. */
	ret = ks_access_read_caller(&f->callers, fuse_req_ctx(req)->pid, &caller, &err);
	if (ret < 0) {
		if (ret == -ESRCH)
			ks_debug("open refused: %s", err.msg);
		else
			ks_err("open refused: %s", err.msg);
		ks_snapshot_unref(snap);
		fuse_reply_err(req, EPERM);
		return;
	}
	ret = ks_device_open_snapshot(f->dev, &caller, snap, &o, &err);
	ks_snapshot_unref(snap);
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
	/* The inode is this snapshot, so its cached pages stay right for
	 * every later open of it. */
	fi->keep_cache = 1;
	ks_debug("open by pid %d (tid %d, uid %u): inode %lu, %zu-byte snapshot", (int)caller.tgid,
		 (int)caller.tid, (unsigned)caller.uid, (unsigned long)ino, ks_open_size(o));
	if (fuse_reply_open(req, fi) == -ENOENT)
		ks_device_release(o); /* interrupted: no release will come */
}

static void ks_fuse_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
			 struct fuse_file_info *fi)
{
	struct ks_read r;

	(void)ino;
	ks_serve_reply_read(req, ks_device_pread(open_of(fi), size, off, &r), &r);
}

static void ks_fuse_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)ino;
	/* The release of a regular file comes after close() has returned:
	 * let the process's next open wait for it (device.h). */
	ks_device_flush(open_of(fi));
	fuse_reply_err(req, 0);
}

static void ks_fuse_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)ino;
	ks_device_release(open_of(fi));
	fuse_reply_err(req, 0);
}

/*
 * A regular file's ioctls are restricted (fs/fuse/ioctl.c): the kernel
 * fetches and returns only the argument _IOC_SIZE(cmd) describes, and
 * fails a reply that asks for more (FUSE_IOCTL_RETRY) with EIO. KIOCGSIZE
 * is served whole that way. The NetBSD lookups carry a pointer to the name
 * inside their struct, which only a retry could follow: device.c asks for
 * one, and we answer EOPNOTSUPP (a request we know and cannot serve here).
 */
static void ks_fuse_ioctl(fuse_req_t req, fuse_ino_t ino, int cmd, void *arg,
			  struct fuse_file_info *fi, unsigned flags, const void *in_buf,
			  size_t in_bufsz, size_t out_bufsz)
{
	struct ks_fuse *f = fuse_of(req);
	struct ks_ioctl_step st;
	int ret;

	if (ino == FUSE_ROOT_ID || (flags & FUSE_IOCTL_DIR)) {
		fuse_reply_err(req, ENOTTY);
		return;
	}
	ret = ks_device_ioctl(open_of(fi), (unsigned)cmd, (uintptr_t)arg,
			      (flags & FUSE_IOCTL_COMPAT) != 0, in_buf, in_bufsz, out_bufsz,
			      f->page_size, &st);
	if (ret == KS_IOCTL_RETRY)
		ret = -EOPNOTSUPP;
	if (ret < 0) {
		fuse_reply_err(req, -ret);
		return;
	}
	fuse_reply_ioctl(req, 0, st.data_len ? st.data : NULL, st.data_len);
}

static void ks_fuse_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
			    struct fuse_file_info *fi)
{
	struct ks_fuse *f = fuse_of(req);
	const char *names[] = { ".", "..", f->name };
	char buf[1024];
	struct stat st = { 0 };
	size_t used = 0, len;
	off_t i;

	(void)fi;
	if (ino != FUSE_ROOT_ID) {
		fuse_reply_err(req, ENOTDIR);
		return;
	}
	if (size > sizeof(buf))
		size = sizeof(buf);
	for (i = off; i < 3; i++) {
		/* The file's entry has no inode of its own: each lookup makes
		 * one. The number shown is that of the directory. */
		st.st_ino = FUSE_ROOT_ID;
		st.st_mode = i < 2 ? S_IFDIR : S_IFREG;
		len = fuse_add_direntry(req, buf + used, size - used, names[i], &st, i + 1);
		if (len > size - used)
			break;
		used += len;
	}
	fuse_reply_buf(req, buf, used);
}

static const struct fuse_lowlevel_ops ks_fuse_ops = {
	.init = ks_fuse_init,
	.lookup = ks_fuse_lookup,
	.forget = ks_fuse_forget,
	.forget_multi = ks_fuse_forget_multi,
	.getattr = ks_fuse_getattr,
	.open = ks_fuse_open,
	.read = ks_fuse_read,
	.flush = ks_fuse_flush,
	.release = ks_fuse_release,
	.ioctl = ks_fuse_ioctl,
	.readdir = ks_fuse_readdir,
};

/*
 * The /dev/fuse channel, mounted on mnt by us (the unmounter told), or with
 * --mount-helper only opened, for ksymsd --mount-for to mount (fusemount.h).
 */
static int open_channel(const struct ks_daemon_opts *opts, const char *mnt, struct ks_unmounter *um,
			struct ks_error *err)
{
	int fd, ret;

	if (opts->mount_helper) {
		fd = open("/dev/fuse", O_RDWR | O_CLOEXEC);
		if (fd < 0)
			return ks_error_set(err, errno, "/dev/fuse: %s", strerror(errno));
		return fd;
	}
	ret = ks_fusemount_prepare(mnt, err);
	if (ret < 0)
		return ret;
	fd = ks_fusemount_mount(mnt, err);
	if (fd < 0)
		return fd;
	ret = ks_unmounter_arm(um);
	if (ret < 0) {
		umount2(mnt, MNT_DETACH); /* still allowed: before the drop */
		close(fd);
		return ks_error_set(err, -ret, "cannot reach the unmounter: %s", strerror(-ret));
	}
	return fd;
}

/* Until someone mounts chan: the kernel reports an error on a channel that
 * belongs to no mount yet, and INIT is readable the moment it does. */
static int wait_attached(int chan, const char *mnt)
{
	struct pollfd p = { .fd = chan, .events = POLLIN };
	int i;

	for (i = 0; i < 60 * 50; i++) {
		if (ks_stopsig_caught())
			return -EINTR;
		if (poll(&p, 1, 0) == 1 && !(p.revents & POLLERR))
			return 0;
		usleep(20000);
	}
	ks_err("nobody mounted %s in 60 s (ksymsd --mount-for %d should)", mnt, (int)getpid());
	return -ETIMEDOUT;
}

int ks_fuse_run(const struct ks_daemon_opts *opts)
{
	struct ks_fuse f = { .callers.fd = -1 };
	struct ks_unmounter um = { .pid = -1, .down = -1, .up = -1 };
	struct ks_error err = { 0 };
	struct fuse_session *se = NULL;
	char fdpath[32];
	const char *name = opts->name ? opts->name : "ksyms";
	const char *mnt = opts->mountpoint ? opts->mountpoint : KS_DEFAULT_MOUNTPOINT;
	char *argv[5];
	char file[PATH_MAX];
	bool linked = false;
	int argc = 0, ret, status = 1, fuse_fd = -1, chan;

	if (!ks_device_name_valid(name)) {
		ks_err("invalid file name '%s'", name);
		return 1;
	}
	if (snprintf(file, sizeof(file), "%s/%s", mnt, name) >= (int)sizeof(file)) {
		ks_err("mount point %s: path too long", mnt);
		return 1;
	}
	f.name = name;
	f.root = opts->root;
	ks_inodes_init(&f.inodes);
	f.page_size = ks_serve_page_size();
	clock_gettime(CLOCK_REALTIME, &f.mounted);

	/* First, while we hold nothing it should not (fusemount.h). */
	ret = 0;
	if (!opts->mount_helper)
		ret = ks_unmounter_start(&um, mnt, !(opts->foreground || opts->debug), &err);
	if (ret < 0) {
		ks_err("%s", err.msg);
		goto out;
	}
	if (ks_root_open(&f.callers, "/", &err) < 0) {
		ks_err("%s", err.msg);
		goto out;
	}
	/* As cuse.c: no mount unless the symbols can be read at all. */
	if (ks_serve_device_new(opts, KS_FUSE_CLOSE_WAIT_MS, &f.dev) < 0)
		goto out;

	argv[argc++] = (char *)"ksymsd";
	if (opts->debug)
		argv[argc++] = (char *)"-d";
	argv[argc] = NULL;
	{
		struct fuse_args args = FUSE_ARGS_INIT(argc, argv);

		se = fuse_session_new(&args, &ks_fuse_ops, sizeof(ks_fuse_ops), &f);
		fuse_opt_free_args(&args);
	}
	if (!se) {
		ks_err("cannot start a FUSE session");
		goto out;
	}
	fuse_fd = open_channel(opts, mnt, &um, &err);
	if (fuse_fd < 0) {
		ks_err("%s", err.msg);
		goto out;
	}
	/* libfuse takes the channel as "/dev/fd/N": the mount options are
	 * ours, and its own mount's copy of the path would never be freed
	 * unless it unmounted too, which needs the capability we drop. */
	snprintf(fdpath, sizeof(fdpath), "/dev/fd/%d", fuse_fd);
	if (fuse_session_mount(se, fdpath) < 0) {
		ks_err("libfuse did not take the channel of %s", mnt);
		goto out_unmount;
	}
	chan = fuse_fd;
	fuse_fd = -1; /* the session's now */
	ks_stopsig_install(se);
	/* Mounting was the last use of CAP_SYS_ADMIN; single-threaded still,
	 * as ks_privdrop_event_caps() needs. */
	ret = ks_privdrop_event_caps(&err);
	if (ret < 0) {
		ks_err("%s", err.msg);
		goto out_unmount;
	}
	/* -d implies -f, as libcuse has it for the device. */
	if (fuse_daemonize(opts->foreground || opts->debug) < 0) {
		ks_err("cannot go to the background");
		goto out_unmount;
	}
	/* After the fork into the background: threads do not survive it. */
	ret = ks_device_start(f.dev, &err);
	if (ret < 0)
		ks_warn("%s: the first open after a change rebuilds the table itself", err.msg);
	if (opts->mount_helper) {
		/* READY first: systemd runs the helper (ExecStartPost=) only
		 * then, and calls the unit active once it has mounted. */
		ks_sd_notifyf("READY=1\nSTATUS=waiting for ksymsd --mount-for %d", (int)getpid());
		ret = wait_attached(chan, mnt);
		if (ret == -EINTR)
			status = 0; /* asked to stop before anyone mounted: done */
		if (ret < 0)
			goto out_unmount;
	}
	if (opts->link && !opts->mount_helper) {
		ret = ks_fusemount_link(opts->link, file, &err);
		if (ret < 0)
			ks_warn("%s", err.msg);
		linked = ret == 0;
	}
	ks_info("serving %s from %s/", file, opts->root->path);
	if (linked)
		ks_info("%s -> %s", opts->link, file);
	ret = ks_sd_notifyf("READY=1\nSTATUS=serving %s", file);
	if (ret < 0)
		ks_warn("cannot notify the service manager: %s", strerror(-ret));

	ret = fuse_session_loop_mt(se, NULL);
	if (ret < 0) {
		ks_err("session loop: %s", strerror(-ret));
	} else if (!ks_stopsig_caught() && ret == 0) {
		ks_err("the kernel closed the FUSE channel of %s (unmounted by someone?)", mnt);
	} else {
		ks_debug("exiting on signal %d", ks_stopsig_caught() ? ks_stopsig_caught() : ret);
		status = 0;
	}
	if (linked)
		ks_fusemount_unlink(opts->link, file);
	ks_device_log_stats(f.dev);
out_unmount:
	ks_stopsig_detach();
out:
	/* Unmounted before the channel closes: a late opener finds no file
	 * rather than a dead mount. */
	ks_unmounter_finish(&um);
	if (se)
		fuse_session_destroy(se);
	if (fuse_fd >= 0)
		close(fuse_fd);
	ks_stopsig_reset();
	ks_inodes_free(&f.inodes);
	ks_device_free(f.dev);
	ks_root_close(&f.callers);
	return status;
}
