/* SPDX-License-Identifier: BSD-2-Clause */
#include "fuseinodes.h"

#include <stdlib.h>

struct ks_inode {
	struct ks_inode *next;
	uint64_t ino;
	uint64_t nlookup;
	struct ks_snapshot *snap;
	struct timespec made;
};

void ks_inodes_init(struct ks_inodes *t)
{
	pthread_mutex_init(&t->lock, NULL);
	t->list = NULL;
	t->next = 2; /* 1 is the root directory (FUSE_ROOT_ID) */
}

void ks_inodes_free(struct ks_inodes *t)
{
	struct ks_inode *n, *next;

	for (n = t->list; n; n = next) {
		next = n->next;
		ks_snapshot_unref(n->snap);
		free(n);
	}
	t->list = NULL;
	pthread_mutex_destroy(&t->lock);
}

uint64_t ks_inodes_lookup(struct ks_inodes *t, struct ks_snapshot *snap, struct timespec *made)
{
	struct ks_inode *n;
	uint64_t ino = 0;

	pthread_mutex_lock(&t->lock);
	/* A snapshot's pointer names it while an inode holds it: it cannot be
	 * freed and another made at its address meanwhile. */
	for (n = t->list; n; n = n->next)
		if (n->snap == snap)
			break;
	if (!n) {
		n = calloc(1, sizeof(*n));
		if (!n)
			goto out;
		n->ino = t->next++;
		n->snap = ks_snapshot_ref(snap);
		clock_gettime(CLOCK_REALTIME, &n->made);
		n->next = t->list;
		t->list = n;
	}
	n->nlookup++;
	ino = n->ino;
	*made = n->made;
out:
	pthread_mutex_unlock(&t->lock);
	return ino;
}

struct ks_snapshot *ks_inodes_get(struct ks_inodes *t, uint64_t ino, struct timespec *made)
{
	struct ks_snapshot *snap = NULL;
	struct ks_inode *n;

	pthread_mutex_lock(&t->lock);
	for (n = t->list; n; n = n->next) {
		if (n->ino == ino) {
			snap = ks_snapshot_ref(n->snap);
			*made = n->made;
			break;
		}
	}
	pthread_mutex_unlock(&t->lock);
	return snap;
}

void ks_inodes_forget(struct ks_inodes *t, uint64_t ino, uint64_t nlookup)
{
	struct ks_inode **pp, *n;

	pthread_mutex_lock(&t->lock);
	for (pp = &t->list; (n = *pp); pp = &n->next) {
		if (n->ino != ino)
			continue;
		n->nlookup -= nlookup < n->nlookup ? nlookup : n->nlookup;
		if (n->nlookup == 0) {
			*pp = n->next;
			ks_snapshot_unref(n->snap);
			free(n);
		}
		break;
	}
	pthread_mutex_unlock(&t->lock);
}
