/* SPDX-License-Identifier: BSD-2-Clause */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "engine/root.h"

/* How the snapshots reach clients (--transport). */
enum ks_transport {
	KS_TRANSPORT_AUTO, /* CUSE where /dev/cuse opens, else FUSE */
	KS_TRANSPORT_CUSE, /* the character device /dev/<name> */
	KS_TRANSPORT_FUSE, /* the regular file <mountpoint>/<name> */
};

/* What main() parsed from the command line for the device daemon. */
struct ks_daemon_opts {
	const char *name;	     /* device name under /dev, default "ksyms" */
	const struct ks_root *root;  /* the running system or a fixture tree */
	bool foreground;	     /* -f */
	bool debug;		     /* -d: libfuse debug + one log line per open */
	unsigned max_opens;	     /* simultaneous opens; past it, ENOMEM */
	size_t max_memory;	     /* bytes of snapshots held at once; past it, ENOMEM */
	enum ks_transport transport; /* --transport */
	const char *mountpoint;	     /* FUSE: the directory holding <name> */
	const char *link;	     /* FUSE: a symlink to the file, or NULL */
	bool mount_helper;	     /* FUSE: ksymsd --mount-for mounts the channel */
};

#define KS_DEFAULT_MAX_OPENS 64u
#define KS_DEFAULT_MAX_MEMORY ((size_t)512 << 20)
#define KS_DEFAULT_MOUNTPOINT "/run/ksyms"
/* How long a FUSE open waits for its process's previous open to be
 * released after it was closed (device.h, close_wait_ms). */
#define KS_FUSE_CLOSE_WAIT_MS 2000u

/* Serve the snapshots through opts->transport until SIGTERM/SIGINT/SIGHUP.
 * Returns a process exit status. */
int ks_daemon_run(const struct ks_daemon_opts *opts);

/* The transports: create /dev/<name> through CUSE, or mount <mountpoint>
 * with the file <name> in it through FUSE. */
int ks_cuse_run(const struct ks_daemon_opts *opts);
int ks_fuse_run(const struct ks_daemon_opts *opts);
