/* SPDX-License-Identifier: BSD-2-Clause */
#pragma once

#include <pthread.h>
#include <stdint.h>
#include <time.h>

#include "engine/snapshot.h"

/*
 * The FUSE transport's inodes: one per snapshot the kernel holds a
 * reference to (lookups not yet forgotten), numbered from 2 up and never
 * reused, so that a number names one snapshot for the life of the mount and
 * the kernel's cached pages and attributes of it are never stale. Each holds
 * a reference to its snapshot. Thread-safe.
 */
struct ks_inode;

struct ks_inodes {
	pthread_mutex_t lock;
	struct ks_inode *list;
	uint64_t next;
};

void ks_inodes_init(struct ks_inodes *t);
/* Frees every inode, whatever the kernel still holds (at exit). */
void ks_inodes_free(struct ks_inodes *t);

/* snap's inode, found or made, with one more lookup: its number and when it
 * was made (the file's times). 0 when out of memory. */
uint64_t ks_inodes_lookup(struct ks_inodes *t, struct ks_snapshot *snap, struct timespec *made);
/* The snapshot of inode ino (a reference) and its time, or NULL. */
struct ks_snapshot *ks_inodes_get(struct ks_inodes *t, uint64_t ino, struct timespec *made);
/* The kernel forgot nlookup lookups of ino: the last one frees it. */
void ks_inodes_forget(struct ks_inodes *t, uint64_t ino, uint64_t nlookup);
