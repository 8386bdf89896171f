/* SPDX-License-Identifier: BSD-2-Clause */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "root.h"
#include "shared/error.h"

/*
 * A snapshot: one ELF image of the kernel's symbols in a sealed memfd
 * (F_SEAL_WRITE|F_SEAL_GROW|F_SEAL_SHRINK|F_SEAL_SEAL), never changing
 * after it is made. Reference counted, so a device open and an in-flight
 * reply can share it.
 */
struct ks_snapshot;

/*
 * Optional: remembers the last image and the inputs it was built from (the
 * kallsyms text and the module sections), so that a snapshot whose inputs
 * are unchanged shares that sealed image instead of building an identical
 * one. Thread-safe.
 */
struct ks_snapshot_cache;

struct ks_snapshot_cache *ks_snapshot_cache_new(void);
void ks_snapshot_cache_free(struct ks_snapshot_cache *c);
void ks_snapshot_cache_stats(struct ks_snapshot_cache *c, unsigned long *hits,
			     unsigned long *misses);

struct ks_snapshot_opts {
	const struct ks_root *root;	/* the running system, or a fixture tree */
	struct ks_snapshot_cache *cache;	/* NULL: always build */
};

/*
 * How a snapshot came out, for a caller that keeps a table current between
 * reads (table.c). settled: the kernel was at rest while it was read — every
 * module Live before and after, none left out, none still showing symbols
 * in its init sections. A snapshot that is not settled is right for the
 * moment it was read, but the kernel finishes such changes without telling
 * anyone (a module's init symbols leave kallsyms after its "add" uevent), so
 * it must not be served to a later open.
 */
struct ks_snapshot_report {
	bool settled;
	bool built;		/* a new image was made (not the cached one) */
};

/*
 * Take a consistent snapshot: the kernel, each module that held still while
 * it was read (one that came or went meanwhile is left out whole) and the
 * pseudo-modules. Errors (negative errno):
 *   -EPERM   every address read as zero (kptr_restrict / no CAP_SYSLOG)
 *   -ENOMEM  out of memory
 *   -EINVAL  malformed input (err names the file and line)
 *   other    I/O errors reading the kernel's files
 */
int ks_snapshot_take(const struct ks_snapshot_opts *opts, struct ks_snapshot **snap,
		     struct ks_error *err);
/* The same, saying how it came out. */
int ks_snapshot_take_report(const struct ks_snapshot_opts *opts, struct ks_snapshot **snap,
			    struct ks_snapshot_report *report, struct ks_error *err);

struct ks_snapshot *ks_snapshot_ref(struct ks_snapshot *s);
void ks_snapshot_unref(struct ks_snapshot *s);

int ks_snapshot_fd(const struct ks_snapshot *s);		/* sealed memfd */
size_t ks_snapshot_size(const struct ks_snapshot *s);
const void *ks_snapshot_data(const struct ks_snapshot *s);	/* read-only mapping */
size_t ks_snapshot_n_syms(const struct ks_snapshot *s);

