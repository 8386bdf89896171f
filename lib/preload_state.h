/* SPDX-License-Identifier: BSD-2-Clause */
#pragma once

/*
 * The preload's state, owned by preload_core.c: the table of entries
 * (descriptor numbers holding a snapshot), the pending snapshot a stat()
 * took for the next open, and the lock guarding them. preload_fds.c (what
 * happens to descriptors afterwards) reaches them only through the
 * functions below. Hidden in the shared object, like everything but the
 * wrappers.
 */
#include <stdbool.h>
#include <stddef.h>

/* A snapshot: one open of the device, shared by the descriptors (entries)
 * that read its image. size never changes; the other fields are guarded by
 * the state lock. */
struct ksp_snap {
	unsigned refs;		/* entries, the pending slot, calls in flight */
	int devfd;		/* the device, hidden; -1 once the program closed it */
	size_t size;
	void *addr;		/* KIOCGADDR's mapping, made on first request */
};

void ksp_state_lock(void);
void ksp_state_unlock(void);

/* All locked (the caller holds the state lock). */

/* The snapshot entry fd holds, or NULL; no reference is taken. */
struct ksp_snap *ksp_snap_of(int fd);
int ksp_reserve(void);			/* room for one more entry */
void ksp_add(int fd, struct ksp_snap *s);	/* takes the caller's reference */
/* Remove entry fd; its reference passes to the caller. NULL if none. */
struct ksp_snap *ksp_remove(int fd);
/* Remove the entries in [first, last]: a snapshot still shared by others
 * loses one reference; one that loses its last goes to gone[] (at most max;
 * past that its entries stay). Returns the number in gone[]. */
size_t ksp_remove_range(unsigned first, unsigned last, struct ksp_snap **gone, size_t max);
/* Take the pending snapshot out; *fresh says if it may be used. */
struct ksp_snap *ksp_unpend(int *memfd, bool *fresh);
bool ksp_is_pending_memfd(int fd);
/* The program closed (or dup2'ed over) devfd, a snapshot's hidden device:
 * the snapshots holding it forget it. */
void ksp_disown(int devfd);
/* Is fd ours: a snapshot's device or the pending memfd? */
bool ksp_is_hidden(int fd);
/* Our descriptors in [first, last] into out[] (at most max; the pending
 * snapshot's two only if both fit). Returns the number. */
size_t ksp_hidden_in(unsigned first, unsigned last, int *out, size_t max);

/* close(2) keeping errno. */
void ksp_sys_close(int fd);
