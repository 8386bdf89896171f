/* SPDX-License-Identifier: BSD-2-Clause */
#pragma once

#include "shared/error.h"

/*
 * Giving up, once the live table's event sources are open, the capabilities
 * only their opening needed: CAP_PERFMON (perf_event_open() of the per-CPU
 * ksymbol events, Linux 5.8+) and CAP_SYS_ADMIN (the same before 5.8, and on
 * Debian's and Ubuntu's kernels, whose kernel.perf_event_paranoid=3 is
 * checked against CAP_SYS_ADMIN alone). Opened events and their rings keep
 * working without them; CAP_SYSLOG stays, as every read of /proc/kallsyms
 * and the sections files needs it.
 *
 * Capabilities belong to a thread, not a process: call this while the
 * process has one thread (before libfuse starts its workers), or a thread
 * started earlier keeps what this one gave up. It refuses with -EBUSY when
 * it sees more than one thread.
 */

/* What ks_privdrop_event_caps() did, as bits of its return value. */
#define KS_PRIVDROP_SYS_ADMIN 0x1u	/* CAP_SYS_ADMIN left effective, permitted, inheritable */
#define KS_PRIVDROP_PERFMON 0x2u	/* CAP_PERFMON likewise */
#define KS_PRIVDROP_BOUNDING 0x4u	/* and they left the bounding set too */
#define KS_PRIVDROP_BOUNDING_KEPT 0x8u	/* one is still in the bounding set: no CAP_SETPCAP */

/*
 * Drop CAP_SYS_ADMIN and CAP_PERFMON from this thread's effective, permitted
 * and inheritable sets (the ambient set follows), and from the bounding set
 * where CAP_SETPCAP allows it (under ksymsd.service it does not, and need
 * not: NoNewPrivileges= keeps an execve() from regaining them). Logs one
 * line saying what went. Returns KS_PRIVDROP_* bits (0: held neither), or a
 * negative errno with err set; the effective, permitted and inheritable sets
 * are then as they were (the bounding set may have lost them already, which
 * only takes away).
 */
int ks_privdrop_event_caps(struct ks_error *err);
