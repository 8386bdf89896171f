/* SPDX-License-Identifier: BSD-2-Clause */
#pragma once

#include <stdbool.h>

#include "kevents.h"
#include "root.h"
#include "shared/error.h"
#include "snapshot.h"

/*
 * The live table: the current snapshot of the kernel's symbols, kept current
 * by the kernel's announcements (kevents.h) instead of a read of
 * /proc/kallsyms per open.
 *
 * The rule that keeps it from going stale: a change that completed before an
 * open began is in that open's snapshot. The kernel queues its announcement
 * before the syscall that made the change returns, so ks_table_get() first
 * drains every source, and serves the current table only if
 *   - both sources are live (module uevents and dynamic symbols),
 *   - nothing was drained since the table's read began, and
 *   - the kernel was at rest while it was read (ks_snapshot_report.settled):
 *     changes that finish silently after their announcement (a module's init
 *     symbols, an Unloading module) must not outlive the moment they were
 *     read.
 * Otherwise the open waits for the table to be brought up to date: from the
 * announced dynamic symbols alone when nothing else changed (no read), else
 * by a read begun after its drain (the one under way, if it began after the
 * drain, or one it reads itself). Reads compare with the cached inputs
 * (snapshot.c), so a re-read of an unchanged kernel shares the last image.
 *
 * Without a root of the running system, or with a source missing, every open
 * re-reads: the compare-on-open path, always correct.
 */
struct ks_table;

struct ks_table_opts {
	const struct ks_root *root;	/* outlives the table */
	unsigned int sources;		/* KS_KEVENTS_* to watch; 0: none */
	/* Open no source: the changes of root come only through
	 * ks_table_announce(), trusted as if both sources were watched. For
	 * tests and replaying captures against a tree. */
	bool replay;
};

/* Counters, for the log and the benchmarks. */
struct ks_table_stats {
	unsigned long served;		/* opens given the current table, no read */
	unsigned long rereads;		/* snapshots read from the kernel */
	unsigned long built;		/* of those, images built (the rest were reused) */
	unsigned long applied;		/* tables made from announced changes, no read */
	unsigned long events;		/* announcements drained */
};

/* Opens the sources (a source the kernel or the sandbox refuses is left out,
 * see ks_table_unavailable()); no snapshot yet. */
int ks_table_new(const struct ks_table_opts *opts, struct ks_table **out, struct ks_error *err);

/* KS_KEVENTS_* bits of the live sources; only with both is the table kept. */
unsigned int ks_table_sources(const struct ks_table *t);
/* Why source (one KS_KEVENTS_* bit) is not live, in one line; "" if it is. */
const char *ks_table_unavailable(const struct ks_table *t, unsigned int source);
/* How many CPUs' ksymbol events are open (0 without that source). */
unsigned int ks_table_cpus(const struct ks_table *t);

/*
 * Start the background thread that rebuilds the table when the kernel
 * announces a change (bursts coalesce: one rebuild takes in every change
 * queued when it starts), so opens rarely wait. Optional: without it, opens
 * rebuild themselves. Does nothing without live sources.
 */
int ks_table_start(struct ks_table *t, struct ks_error *err);

/*
 * A snapshot for an open beginning now (see the top). Errors as
 * ks_snapshot_take(); a build that failed is reported to the opens that
 * waited for it.
 */
int ks_table_get(struct ks_table *t, struct ks_snapshot **snap, struct ks_error *err);

void ks_table_stats(struct ks_table *t, struct ks_table_stats *st);

/* Take ev as if a drain had just reported it (with opts.replay). */
void ks_table_announce(struct ks_table *t, const struct ks_kevent *ev);

/* Stops the thread, closes the sources, drops the table. */
void ks_table_free(struct ks_table *t);
