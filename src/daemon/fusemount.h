/* SPDX-License-Identifier: BSD-2-Clause */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include "shared/error.h"

/*
 * The life of the FUSE transport's mount point outside the session: a stale
 * mount replaced at start, the unmount at exit, and the optional symlink
 * (/dev/ksyms) to the file.
 */

/*
 * Make dir ready to be mounted on: create it (0755) if missing; if a FUSE
 * mount whose daemon is gone is there (every access fails with ENOTCONN:
 * a ksymsd that was killed), detach it and say so. A live FUSE mount there
 * is refused (-EBUSY: another ksymsd serves it). dir must be absolute.
 */
int ks_fusemount_prepare(const char *dir, struct ks_error *err);

/*
 * Mount the FUSE file system on dir, read-only, no devices, setuid or
 * executables, open to every user (allow_other: the open applies the
 * kallsyms rule) with the modes checked by the kernel (default_permissions).
 * Returns the /dev/fuse descriptor of the new connection (for libfuse as
 * "/dev/fd/N"), or a negative errno with err set.
 */
int ks_fusemount_mount(const char *dir, struct ks_error *err);
/* The same for a /dev/fuse descriptor already open. */
int ks_fusemount_mount_fd(const char *dir, int fd, struct ks_error *err);

/*
 * Unmounting needs CAP_SYS_ADMIN, which the daemon gives up once it is
 * serving. The unmounter is a process forked for it before anything else
 * (so it holds no snapshot, no memfd and no /dev/fuse): it waits until the
 * daemon's end of a pipe closes, however the daemon ends (an exit, a crash,
 * SIGKILL), then detaches the mount if the daemon said it made one. It
 * ignores SIGTERM, SIGINT and SIGHUP, which a service manager sends to
 * every process of the service, so that it outlives the daemon.
 */
struct ks_unmounter {
	pid_t pid;
	int down; /* ours to write: 'M' once mounted; closed: unmount */
	int up;	  /* the unmounter closes it when done */
};

/* quiet: send its error messages to /dev/null (the daemon goes to the
 * background, and its own go there too). */
int ks_unmounter_start(struct ks_unmounter *u, const char *dir, bool quiet, struct ks_error *err);
/* The mount exists: unmount it at the end. */
int ks_unmounter_arm(struct ks_unmounter *u);
/* Unmount now (if armed) and wait for it, a few seconds at most. */
void ks_unmounter_finish(struct ks_unmounter *u);

/*
 * Mounting from outside a sandbox. A FUSE mount made inside a service's
 * private mount namespace is seen by nobody else, and every sandbox option
 * of systemd's that protects files makes one. So under ksymsd.service the
 * daemon only opens /dev/fuse (--mount-helper), and a privileged command
 * of the unit, run outside the namespace (ExecStartPost=+), mounts that very
 * channel on the host: ks_fusemount_attach() finds the daemon's /dev/fuse
 * descriptor, takes a copy of it (pidfd_getfd(2), Linux 5.6) and mounts it
 * on dir (stale mounts replaced as above). A daemon without one (it serves
 * CUSE) is left alone: returns 0, *attached false. ks_fusemount_detach()
 * (ExecStopPost=+) detaches a fuse.ksyms mount on dir, if there is one.
 */
int ks_fusemount_attach(pid_t pid, const char *dir, bool *attached, struct ks_error *err);
int ks_fusemount_detach(const char *dir, struct ks_error *err);

/* Those two as commands (ksymsd --mount-for PID, ksymsd --unmount), with
 * the link made or removed too, in pid 1's mount namespace (entered if this
 * is another: systemd 252 runs a unit's "+" commands in the unit's): they
 * log and return an exit status. */
int ks_fusemount_mount_for(pid_t pid, const char *dir, const char *file, const char *link);
int ks_fusemount_unmount(const char *dir, const char *file, const char *link);

/*
 * link -> target, replacing a symlink already there (left by a daemon that
 * was killed); anything else at link is refused (-EEXIST). Removed with
 * ks_fusemount_unlink(), only if it still points at target.
 */
int ks_fusemount_link(const char *link, const char *target, struct ks_error *err);
void ks_fusemount_unlink(const char *link, const char *target);
