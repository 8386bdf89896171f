/* SPDX-License-Identifier: BSD-2-Clause */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "engine/root.h"

/* What main() parsed from the command line for the device daemon. */
struct ks_daemon_opts {
	const char *name;		/* device name under /dev, default "ksyms" */
	const struct ks_root *root;	/* the running system or a fixture tree */
	bool foreground;		/* -f */
	bool debug;			/* -d: libfuse debug + one log line per open */
	unsigned max_opens;		/* simultaneous opens; past it, ENOMEM */
	size_t max_memory;		/* bytes of snapshots held at once; past it, ENOMEM */
};

#define KS_DEFAULT_MAX_OPENS 64u
#define KS_DEFAULT_MAX_MEMORY ((size_t)512 << 20)

/* Create /dev/<name> through CUSE and serve it until SIGTERM/SIGINT.
 * Returns a process exit status. */
int ks_daemon_run(const struct ks_daemon_opts *opts);
