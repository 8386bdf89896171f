/* SPDX-License-Identifier: BSD-2-Clause */
#pragma once

/*
 * The preload's shared state, between preload_core.c (snapshots, opens,
 * stat) and preload_fds.c (what happens to descriptors afterwards). All of
 * it is guarded by ksp_lock. Hidden in the shared object, like everything
 * but the wrappers.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

/* A snapshot: one open of the device, shared by the descriptors (entries)
 * that read its image. */
struct ksp_snap {
	unsigned refs;		/* entries, the pending slot, calls in flight */
	int devfd;		/* the device, hidden; -1 once the program closed it */
	size_t size;
	void *addr;		/* KIOCGADDR's mapping, made on first request */
};

struct ksp_entry {
	int fd;
	struct ksp_snap *s;
};

extern pthread_mutex_t ksp_lock;
extern struct ksp_entry *ksp_ents;	/* descriptor numbers holding a snapshot */
extern size_t ksp_n_ents;
extern struct ksp_snap *ksp_pend;	/* taken by a stat, for the next open */
extern int ksp_pend_memfd;		/* its image, hidden */

/* All locked. */
struct ksp_entry *ksp_find(int fd);
int ksp_reserve(void);			/* room for one more entry */
void ksp_add(int fd, struct ksp_snap *s);	/* takes the caller's reference */
struct ksp_snap *ksp_unpend(int *memfd, bool *fresh);
void ksp_publish(void);			/* ksp_active from the above */

/* close(2) keeping errno. */
void ksp_sys_close(int fd);
