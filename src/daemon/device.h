/* SPDX-License-Identifier: BSD-2-Clause */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <gelf.h>
#include <sys/types.h>

#include "access.h"
#include "shared/error.h"
#include "engine/snapshot.h"
#include "engine/table.h"

/*
 * The semantics of /dev/ksyms without the transport: who may open, what a
 * read returns, what each ioctl does. The transports (cuse.c, a character
 * device; fuse.c, a regular file) only translate FUSE requests into these
 * calls, so everything here can be unit tested without a kernel.
 *
 * All functions are thread-safe. Requests of one open may also run
 * concurrently (libfuse's multi-threaded loop; two threads of the client
 * sharing the fd): the cursor and the lazily built index have their own lock.
 */
struct ks_device;
struct ks_open;

struct ks_device_opts {
	const struct ks_root *root;	/* snapshot source and sysctls; outlives the device */
	unsigned max_opens;	/* opens held at once; 0 = no limit */
	size_t max_memory;	/* bytes of snapshots held at once; 0 = no limit */
	unsigned int watch;	/* KS_KEVENTS_* to keep the table live by; 0: re-read per open */
	/* How long an open waits for the release of its process's previous
	 * open once that one was flushed (ks_device_flush()): a regular
	 * file's release comes after close() returns, not before. 0: never. */
	unsigned close_wait_ms;
};

int ks_device_new(const struct ks_device_opts *opts, struct ks_device **out,
		  struct ks_error *err);
/* Frees the device and any opens never released (the daemon exiting with
 * clients attached gets no release requests). */
void ks_device_free(struct ks_device *dev);

/*
 * Take a first snapshot, as a daemon does before it says it is ready: it
 * proves that the kernel's symbols can be read here (an error says why not,
 * in one line), and the opens that follow share it while nothing changes.
 */
int ks_device_prime(struct ks_device *dev, struct ks_error *err);

/* Keep the table current in the background (table.h); after a fork that
 * daemonizes, since threads do not survive one. */
int ks_device_start(struct ks_device *dev, struct ks_error *err);

/* Log which kernel events keep the table live (or why none), and the
 * table's counters (at exit). */
void ks_device_log_watch(const struct ks_device *dev);
void ks_device_log_stats(struct ks_device *dev);

/*
 * Open for caller (facts from ks_access_read_caller()). Errors:
 *   -EPERM   the caller may not see kernel addresses (the kallsyms rule with
 *            <root>'s sysctls), or the snapshot read only zero addresses
 *   -EBUSY   the caller's process (tgid) already has the device open
 *   -ENOMEM  max_opens or max_memory reached, or out of memory
 *   -EIO     anything else (err says what; log it)
 */
int ks_device_open(struct ks_device *dev, const struct ks_caller *caller,
		   struct ks_open **out, struct ks_error *err);
void ks_device_release(struct ks_open *o);

/*
 * For a transport that binds a snapshot before the open (FUSE: an inode per
 * snapshot, made at lookup, so that fstat and the page cache belong to it):
 * the snapshot an open by caller would get now (a reference; errors as for
 * an open's own -EPERM, -ENOMEM, -EIO; a caller who may not see addresses
 * gets -EPERM before anything is read, so a path walk cannot make the
 * daemon read kallsyms for someone it would refuse), and an open bound to
 * it (it takes its own reference), by the same rules as ks_device_open().
 */
int ks_device_snapshot(struct ks_device *dev, const struct ks_caller *caller,
		       struct ks_snapshot **out, struct ks_error *err);
int ks_device_open_snapshot(struct ks_device *dev, const struct ks_caller *caller,
			    struct ks_snapshot *snap, struct ks_open **out, struct ks_error *err);

/*
 * A descriptor of the open was closed (FUSE's FLUSH). It may be the last,
 * with a release to follow (asynchronously, for a regular file), or a dup
 * among others: a new open of the same process waits close_wait_ms for the
 * release before it fails with EBUSY.
 */
void ks_device_flush(struct ks_open *o);

size_t ks_open_size(const struct ks_open *o);
pid_t ks_open_tgid(const struct ks_open *o);

/*
 * A read: the next len bytes at the open's cursor, as a range of the
 * snapshot's memfd, so the transport can splice them. The cursor has
 * already moved past them. snap is a reference that keeps the memfd alive
 * while the reply is sent (the client may close meanwhile); drop it with
 * ks_device_read_done(). len == 0 (snap NULL) is end of file.
 */
struct ks_read {
	struct ks_snapshot *snap;
	int fd;
	off_t offset;
	size_t len;
};

int ks_device_read(struct ks_open *o, size_t size, struct ks_read *r);
/* The same at offset, cursor untouched (a regular file's reads: pread,
 * the page cache). Past the end: len 0. A negative offset: -EINVAL. */
int ks_device_pread(struct ks_open *o, size_t size, off_t offset, struct ks_read *r);
void ks_device_read_done(struct ks_read *r);

/* A name looked up in this open's snapshot, globals first (the index is
 * built on the first lookup). -ENOENT, -ENOMEM, -EIO. For the ioctls. */
int ks_open_lookup(struct ks_open *o, const char *name, GElf_Sym *sym);

/*
 * ioctls, driven the way CUSE's unrestricted ioctls work: the transport
 * knows nothing of the commands. Each round it passes what it has fetched
 * from the caller so far (in: the concatenation of the regions asked for in
 * the previous round) and how much room it prepared for output; the device
 * either asks for more (KS_IOCTL_RETRY: fetch step->in[], prepare
 * step->out[], call again) or finishes (KS_IOCTL_DONE: write step->data
 * across the out regions) or fails (-errno). The rounds carry no state:
 * every call decides from in_len and out_len alone.
 *
 * Names are fetched without ever asking for bytes past the page that holds
 * their end, since the kernel fails the whole request (EFAULT) when a fetch
 * region touches an unmapped page: a name that ends just before one works.
 */
enum { KS_IOCTL_DONE = 0, KS_IOCTL_RETRY = 1 };

struct ks_iov {
	uint64_t addr;		/* in the caller's address space */
	size_t len;
};

struct ks_ioctl_step {
	struct ks_iov in[2];
	unsigned n_in;
	struct ks_iov out[1];
	unsigned n_out;
	unsigned char data[32];	/* for KS_IOCTL_DONE */
	size_t data_len;
};

/* compat: the caller is a 32-bit process (FUSE_IOCTL_COMPAT). page_size is
 * the kernel's (the caller's) page size. */
int ks_device_ioctl(struct ks_open *o, unsigned cmd, uint64_t arg, bool compat,
		    const void *in, size_t in_len, size_t out_len, size_t page_size,
		    struct ks_ioctl_step *step);
