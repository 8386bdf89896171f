/* SPDX-License-Identifier: BSD-2-Clause */
#include "fusemount.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "shared/log.h"

#define FUSE_SUPER_MAGIC 0x65735546 /* <linux/magic.h> */

int ks_fusemount_prepare(const char *dir, struct ks_error *err)
{
	struct statfs sfs;
	struct stat st;
	int i;

	if (dir[0] != '/')
		return ks_error_set(err, EINVAL, "mount point %s: not an absolute path", dir);
	/* Stale mounts may be stacked (several daemons killed in turn). */
	for (i = 0; i < 16 && stat(dir, &st) < 0 && errno == ENOTCONN; i++) {
		if (umount2(dir, MNT_DETACH) < 0)
			return ks_error_set(err, errno,
					    "%s: cannot detach the stale mount of "
					    "a daemon that is gone: %s",
					    dir, strerror(errno));
		ks_warn("%s: detached the stale mount of a daemon that is gone", dir);
	}
	if (stat(dir, &st) < 0) {
		if (errno != ENOENT)
			return ks_error_set(err, errno, "mount point %s: %s", dir, strerror(errno));
		if (mkdir(dir, 0755) < 0 && errno != EEXIST)
			return ks_error_set(err, errno, "cannot create the mount point %s: %s", dir,
					    strerror(errno));
		if (stat(dir, &st) < 0)
			return ks_error_set(err, errno, "mount point %s: %s", dir, strerror(errno));
	}
	if (!S_ISDIR(st.st_mode))
		return ks_error_set(err, ENOTDIR, "mount point %s: not a directory", dir);
	if (statfs(dir, &sfs) == 0 && sfs.f_type == FUSE_SUPER_MAGIC)
		return ks_error_set(err, EBUSY, "%s is a live FUSE mount already (another ksymsd?)",
				    dir);
	return 0;
}

int ks_fusemount_mount_fd(const char *dir, int fd, struct ks_error *err)
{
	char opts[128];

	/* rootmode: the root directory's type (S_IFDIR), which the kernel
	 * needs before it can ask us. */
	snprintf(opts, sizeof(opts),
		 "fd=%d,rootmode=40000,user_id=0,group_id=0,allow_other,default_permissions", fd);
	if (mount("ksymsd", dir, "fuse.ksyms", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, opts) <
	    0)
		return ks_error_set(err, errno, "cannot mount %s over FUSE: %s", dir,
				    strerror(errno));
	return 0;
}

int ks_fusemount_mount(const char *dir, struct ks_error *err)
{
	int fd, ret;

	fd = open("/dev/fuse", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return ks_error_set(err, errno, "/dev/fuse: %s", strerror(errno));
	ret = ks_fusemount_mount_fd(dir, fd, err);
	if (ret < 0) {
		close(fd);
		return ret;
	}
	return fd;
}

/* pid's descriptor of /dev/fuse (the character device 10:229), or -1. */
static int find_fuse_fd(pid_t pid)
{
	char path[64];
	struct dirent *de;
	struct stat st;
	int found = -1;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	d = opendir(path);
	if (!d)
		return -1;
	while (found < 0 && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, 0) == 0 && S_ISCHR(st.st_mode) &&
		    st.st_rdev == makedev(10, 229))
			found = atoi(de->d_name);
	}
	closedir(d);
	return found;
}

int ks_fusemount_attach(pid_t pid, const char *dir, bool *attached, struct ks_error *err)
{
	int pidfd, target, fd, ret;

	*attached = false;
	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pidfd < 0)
		return ks_error_set(err, errno, "--mount-for %d: %s", (int)pid, strerror(errno));
	/* Found after the pidfd is open: the number belongs to that process,
	 * even if pid were reused meanwhile the copy would fail, not mislead. */
	target = find_fuse_fd(pid);
	if (target < 0) {
		close(pidfd);
		return 0;
	}
	fd = (int)syscall(SYS_pidfd_getfd, pidfd, target, 0);
	close(pidfd);
	if (fd < 0)
		return ks_error_set(err, errno, "--mount-for %d: cannot copy its /dev/fuse: %s",
				    (int)pid, strerror(errno));
	ret = ks_fusemount_prepare(dir, err);
	if (ret == 0)
		ret = ks_fusemount_mount_fd(dir, fd, err);
	close(fd);
	*attached = ret == 0;
	return ret;
}

int ks_fusemount_detach(const char *dir, struct ks_error *err)
{
	struct statfs sfs;

	/* Ours, live or stale (ENOTCONN: its daemon is gone). */
	if (statfs(dir, &sfs) < 0 ? errno != ENOTCONN : sfs.f_type != FUSE_SUPER_MAGIC)
		return 0;
	if (umount2(dir, MNT_DETACH) < 0)
		return ks_error_set(err, errno, "cannot unmount %s: %s", dir, strerror(errno));
	return 1;
}

/* Close every fd but 0-2 and keep. */
static void close_all_but(int keep_a, int keep_b)
{
	int lo = keep_a < keep_b ? keep_a : keep_b, hi = keep_a < keep_b ? keep_b : keep_a;
	int fd, max = (int)sysconf(_SC_OPEN_MAX);

	if (max < 0 || max > 65536)
		max = 65536;
	/* close_range() would do, but it is only in glibc 2.34 and Linux
	 * 5.9; this runs once. */
	for (fd = 3; fd < max; fd++)
		if (fd != lo && fd != hi)
			close(fd);
}

static void __attribute__((noreturn)) unmounter_main(const char *dir, int in, int out, bool quiet)
{
	static const int sigs[] = { SIGTERM, SIGINT, SIGHUP, SIGPIPE };
	struct sigaction ign = { .sa_handler = SIG_IGN };
	bool armed = false;
	ssize_t n;
	size_t i;
	char c;
	int null;

	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &ign, NULL);
	close_all_but(in, out);
	/* Hold no terminal or pipe of whoever started the daemon, which
	 * would wait for its end. */
	null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null >= 0) {
		dup2(null, STDIN_FILENO);
		dup2(null, STDOUT_FILENO);
		if (quiet)
			dup2(null, STDERR_FILENO);
		if (null > STDERR_FILENO)
			close(null);
	}
	prctl(PR_SET_NAME, "ksymsd-unmount");
	for (;;) {
		n = read(in, &c, 1);
		if (n == 1) {
			armed = armed || c == 'M';
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		break;
	}
	if (armed && umount2(dir, MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT)
		ks_err("cannot unmount %s: %s", dir, strerror(errno));
	close(out);
	_exit(0);
}

int ks_unmounter_start(struct ks_unmounter *u, const char *dir, bool quiet, struct ks_error *err)
{
	int down[2], up[2], ret;
	pid_t pid;

	u->pid = -1;
	u->down = u->up = -1;
	if (pipe2(down, O_CLOEXEC) < 0)
		return ks_error_set(err, errno, "pipe: %s", strerror(errno));
	if (pipe2(up, O_CLOEXEC) < 0) {
		ret = ks_error_set(err, errno, "pipe: %s", strerror(errno));
		goto fail_down;
	}
	pid = fork();
	if (pid < 0) {
		ret = ks_error_set(err, errno, "cannot fork the unmounter: %s", strerror(errno));
		close(up[0]);
		close(up[1]);
		goto fail_down;
	}
	if (pid == 0) {
		close(down[1]);
		close(up[0]);
		unmounter_main(dir, down[0], up[1], quiet);
	}
	close(down[0]);
	close(up[1]);
	u->pid = pid;
	u->down = down[1];
	u->up = up[0];
	return 0;

fail_down:
	close(down[0]);
	close(down[1]);
	return ret;
}

int ks_unmounter_arm(struct ks_unmounter *u)
{
	ssize_t n;

	do
		n = write(u->down, "M", 1);
	while (n < 0 && errno == EINTR);
	return n == 1 ? 0 : -errno;
}

void ks_unmounter_finish(struct ks_unmounter *u)
{
	struct pollfd p = { .fd = u->up, .events = POLLIN };
	char c;

	if (u->down >= 0)
		close(u->down);
	u->down = -1;
	if (u->up < 0)
		return;
	/* EOF when it has unmounted and exited; 5 s is far more than a lazy
	 * unmount takes. */
	while (poll(&p, 1, 5000) > 0 && read(u->up, &c, 1) > 0)
		;
	close(u->up);
	u->up = -1;
	/* Our child unless the daemon went to the background after the fork
	 * (then ECHILD: init reaps it). */
	waitpid(u->pid, NULL, WNOHANG);
}

/*
 * Into pid 1's mount namespace, where a mount is seen by all: systemd runs
 * even a unit's "+" commands in the unit's own mount namespace (252 does),
 * which dies with them, and takes a mount made there with it. Returns 0
 * (entered, or already there) or a negative errno.
 */
static int enter_init_mount_ns(struct ks_error *err)
{
	struct stat self, init;
	int fd, ret = 0;

	/* Where pid 1's is hidden from us (a container's pid 1 that is not
	 * ours), stay: there is no better namespace we could enter. */
	if (stat("/proc/self/ns/mnt", &self) < 0 || stat("/proc/1/ns/mnt", &init) < 0)
		return 0;
	if (self.st_ino == init.st_ino && self.st_dev == init.st_dev)
		return 0;
	fd = open("/proc/1/ns/mnt", O_RDONLY | O_CLOEXEC);
	if (fd < 0 || setns(fd, CLONE_NEWNS) < 0)
		ret = ks_error_set(err, errno,
				   "cannot enter the mount namespace of pid 1 (the mount would be "
				   "seen by nobody else): %s",
				   strerror(errno));
	if (fd >= 0)
		close(fd);
	return ret;
}

int ks_fusemount_mount_for(pid_t pid, const char *dir, const char *file, const char *link)
{
	struct ks_error err = { 0 };
	bool attached;

	if (enter_init_mount_ns(&err) < 0 || ks_fusemount_attach(pid, dir, &attached, &err) < 0) {
		ks_err("%s", err.msg);
		return 1;
	}
	if (!attached) {
		ks_info("pid %d has no /dev/fuse open (it serves CUSE): nothing to mount",
			(int)pid);
		return 0;
	}
	ks_info("mounted the FUSE channel of pid %d on %s", (int)pid, dir);
	if (link && ks_fusemount_link(link, file, &err) < 0)
		ks_warn("%s", err.msg);
	return 0;
}

int ks_fusemount_unmount(const char *dir, const char *file, const char *link)
{
	struct ks_error err = { 0 };
	int ret;

	ret = enter_init_mount_ns(&err);
	if (ret < 0) {
		ks_err("%s", err.msg);
		return 1;
	}
	if (link)
		ks_fusemount_unlink(link, file);
	ret = ks_fusemount_detach(dir, &err);
	if (ret < 0) {
		ks_err("%s", err.msg);
		return 1;
	}
	if (ret > 0)
		ks_info("unmounted %s", dir);
	return 0;
}

int ks_fusemount_link(const char *link, const char *target, struct ks_error *err)
{
	struct stat st;

	if (lstat(link, &st) == 0) {
		if (!S_ISLNK(st.st_mode))
			return ks_error_set(err, EEXIST, "--link %s: exists and is not a symlink",
					    link);
		if (unlink(link) < 0)
			return ks_error_set(err, errno, "--link %s: cannot replace it: %s", link,
					    strerror(errno));
	} else if (errno != ENOENT) {
		return ks_error_set(err, errno, "--link %s: %s", link, strerror(errno));
	}
	if (symlink(target, link) < 0)
		return ks_error_set(err, errno, "--link %s: %s", link, strerror(errno));
	return 0;
}

void ks_fusemount_unlink(const char *link, const char *target)
{
	char buf[4096];
	ssize_t n = readlink(link, buf, sizeof(buf) - 1);

	if (n < 0)
		return;
	buf[n] = '\0';
	if (strcmp(buf, target) == 0 && unlink(link) < 0)
		ks_warn("cannot remove %s: %s", link, strerror(errno));
}
