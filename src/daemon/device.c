/* SPDX-License-Identifier: BSD-2-Clause */
#include "device.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "shared/log.h"
#include "shared/symindex.h"

struct ks_device {
	const struct ks_root *root;
	unsigned max_opens;
	size_t max_memory;
	unsigned close_wait_ms;

	pthread_mutex_t lock;	/* the process table below */
	pthread_cond_t released;	/* an open left the table */
	struct ks_open *opens;	/* doubly linked, unordered */
	unsigned n_opens;	/* including opens still taking their snapshot */
	size_t held;		/* sum of the sizes of the held snapshots */
	/* The current snapshot, shared by the opens while the kernel does
	 * not change. */
	struct ks_table *table;
};

struct ks_open {
	struct ks_device *dev;
	struct ks_open *prev, *next;	/* under dev->lock */
	pid_t tgid;
	bool closing;		/* under dev->lock: ks_device_flush() was called */
	struct ks_snapshot *snap;	/* NULL while the open is being set up */
	size_t size;

	pthread_mutex_t cursor_lock;
	size_t cursor;

	/* The index costs time and memory, and most readers never look a
	 * name up: build it on the first lookup, under its own lock so reads
	 * are not held up meanwhile. */
	pthread_mutex_t index_lock;
	struct ks_symindex *index;
};

int ks_device_new(const struct ks_device_opts *opts, struct ks_device **out,
		  struct ks_error *err)
{
	struct ks_table_opts topts = { .root = opts->root, .sources = opts->watch };
	pthread_condattr_t ca;
	struct ks_device *dev;
	int r;

	dev = calloc(1, sizeof(*dev));
	if (!dev)
		return ks_error_set(err, ENOMEM, "out of memory");
	dev->root = opts->root;
	r = ks_table_new(&topts, &dev->table, err);
	if (r < 0) {
		free(dev);
		return r;
	}
	dev->max_opens = opts->max_opens;
	dev->max_memory = opts->max_memory;
	dev->close_wait_ms = opts->close_wait_ms;
	pthread_mutex_init(&dev->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&dev->released, &ca);
	pthread_condattr_destroy(&ca);
	*out = dev;
	return 0;
}

static void open_free(struct ks_open *o)
{
	ks_symindex_free(o->index);
	if (o->snap)
		ks_snapshot_unref(o->snap);
	pthread_mutex_destroy(&o->cursor_lock);
	pthread_mutex_destroy(&o->index_lock);
	free(o);
}

void ks_device_free(struct ks_device *dev)
{
	struct ks_open *o, *next;

	if (!dev)
		return;
	for (o = dev->opens; o; o = next) {
		next = o->next;
		open_free(o);
	}
	pthread_mutex_destroy(&dev->lock);
	pthread_cond_destroy(&dev->released);
	ks_table_free(dev->table);
	free(dev);
}

/* Under dev->lock. */
static void table_unlink(struct ks_device *dev, struct ks_open *o)
{
	if (o->prev)
		o->prev->next = o->next;
	else
		dev->opens = o->next;
	if (o->next)
		o->next->prev = o->prev;
	o->prev = o->next = NULL;
	dev->n_opens--;
	if (o->snap)
		dev->held -= o->size;
	pthread_cond_broadcast(&dev->released);
}

/* Under dev->lock: the open of tgid in the table, if any. */
static struct ks_open *table_find(struct ks_device *dev, pid_t tgid)
{
	struct ks_open *p;

	for (p = dev->opens; p; p = p->next)
		if (p->tgid == tgid)
			return p;
	return NULL;
}

/*
 * Claim the caller's process slot, or say why not. The slot is taken before
 * the snapshot (which takes a while) so that a second thread of the same
 * process opening meanwhile already gets EBUSY, and so that max_opens also
 * bounds the snapshots being built at once.
 */
static int table_claim(struct ks_device *dev, struct ks_open *o)
{
	struct ks_open *p;
	struct timespec until;
	int ret = 0;

	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += dev->close_wait_ms / 1000;
	until.tv_nsec += (long)(dev->close_wait_ms % 1000) * 1000000;
	if (until.tv_nsec >= 1000000000) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&dev->lock);
	/* A holder that was closed (flushed) is most likely only waiting for
	 * its late release: give it close_wait_ms to arrive. One still held
	 * (a dup, a mapping) fails the same as before, only later. */
	while ((p = table_find(dev, o->tgid))) {
		if (!p->closing || !dev->close_wait_ms ||
		    pthread_cond_timedwait(&dev->released, &dev->lock, &until) == ETIMEDOUT) {
			if (!table_find(dev, o->tgid))
				break;
			ret = -EBUSY;
			goto out;
		}
	}
	if (dev->max_opens && dev->n_opens >= dev->max_opens) {
		ret = -ENOMEM;
		goto out;
	}
	o->next = dev->opens;
	if (dev->opens)
		dev->opens->prev = o;
	dev->opens = o;
	dev->n_opens++;
out:
	pthread_mutex_unlock(&dev->lock);
	return ret;
}

/* Account the snapshot's memory, or give the slot back: past max_memory the
 * new open fails and everyone already served keeps their snapshot. */
static int table_commit(struct ks_device *dev, struct ks_open *o, struct ks_snapshot *snap)
{
	size_t size = ks_snapshot_size(snap);
	int ret = 0;

	pthread_mutex_lock(&dev->lock);
	if (dev->max_memory && (size > dev->max_memory || dev->held > dev->max_memory - size)) {
		table_unlink(dev, o);
		ret = -ENOMEM;
	} else {
		o->snap = snap;
		o->size = size;
		dev->held += size;
	}
	pthread_mutex_unlock(&dev->lock);
	return ret;
}

static int check_caller(struct ks_device *dev, const struct ks_caller *caller,
			struct ks_error *err)
{
	struct ks_access_sysctl sc;
	int ret;

	/* Read the sysctls at every open: an admin may change them at any
	 * time, and the kernel applies them at every open of kallsyms. */
	ret = ks_access_read_sysctl(dev->root, &sc, err);
	if (ret < 0) {
		/* Fail closed, but as our failure, not the caller's. */
		ks_error_prefix(err, "cannot decide access");
		return -EIO;
	}
	if (!ks_access_allowed(&sc, caller))
		return ks_error_set(err, EPERM,
				    "pid %d (uid %u) may not see kernel addresses "
				    "(kptr_restrict=%d perf_event_paranoid=%d CAP_SYSLOG=%s%s)",
				    (int)caller->tgid, (unsigned)caller->uid, sc.kptr_restrict,
				    sc.perf_event_paranoid, caller->cap_syslog ? "yes" : "no",
				    caller->init_userns ? "" : " in a child user namespace");
	return 0;
}

/* The errnos a client can act on pass through; the rest are our trouble
 * (bad input files, I/O) and look like it. */
static int table_get(struct ks_device *dev, struct ks_snapshot **snap, struct ks_error *err)
{
	int ret = ks_table_get(dev->table, snap, err);

	if (ret < 0 && ret != -EPERM && ret != -ENOMEM)
		ret = -EIO;
	return ret;
}

int ks_device_snapshot(struct ks_device *dev, const struct ks_caller *caller,
		       struct ks_snapshot **out, struct ks_error *err)
{
	int ret = check_caller(dev, caller, err);

	return ret < 0 ? ret : table_get(dev, out, err);
}

/* snap: the snapshot to bind (a reference of the caller's, which the open
 * takes over only on success), or NULL to take the current one once the
 * slot is claimed. */
static int device_open(struct ks_device *dev, const struct ks_caller *caller,
		       struct ks_snapshot *snap, struct ks_open **out, struct ks_error *err)
{
	struct ks_open *o;
	bool own = snap == NULL;
	int ret;

	ret = check_caller(dev, caller, err);
	if (ret < 0)
		return ret;

	o = calloc(1, sizeof(*o));
	if (!o)
		return ks_error_set(err, ENOMEM, "out of memory");
	o->dev = dev;
	o->tgid = caller->tgid;
	pthread_mutex_init(&o->cursor_lock, NULL);
	pthread_mutex_init(&o->index_lock, NULL);

	ret = table_claim(dev, o);
	if (ret == -EBUSY) {
		ks_error_set(err, EBUSY, "pid %d already has the device open", (int)o->tgid);
		goto fail;
	} else if (ret < 0) {
		ks_error_set(err, ENOMEM, "pid %d: limit of %u opens reached", (int)o->tgid,
			     dev->max_opens);
		goto fail;
	}

	if (own) {
		ret = table_get(dev, &snap, err);
		if (ret < 0) {
			pthread_mutex_lock(&dev->lock);
			table_unlink(dev, o);
			pthread_mutex_unlock(&dev->lock);
			goto fail;
		}
	}
	ret = table_commit(dev, o, snap);
	if (ret < 0) {
		ks_error_set(err, ENOMEM, "pid %d: a %zu-byte snapshot would exceed "
			     "the memory limit of %zu bytes", (int)o->tgid,
			     ks_snapshot_size(snap), dev->max_memory);
		if (own)
			ks_snapshot_unref(snap);
		goto fail;
	}
	*out = o;
	return 0;

fail:
	open_free(o);
	return ret;
}

int ks_device_open(struct ks_device *dev, const struct ks_caller *caller,
		   struct ks_open **out, struct ks_error *err)
{
	return device_open(dev, caller, NULL, out, err);
}

int ks_device_open_snapshot(struct ks_device *dev, const struct ks_caller *caller,
			    struct ks_snapshot *snap, struct ks_open **out, struct ks_error *err)
{
	int ret;

	ks_snapshot_ref(snap);
	ret = device_open(dev, caller, snap, out, err);
	if (ret < 0)
		ks_snapshot_unref(snap);
	return ret;
}

int ks_device_prime(struct ks_device *dev, struct ks_error *err)
{
	struct ks_snapshot *snap;
	int ret = ks_table_get(dev->table, &snap, err);

	if (ret == 0)
		ks_snapshot_unref(snap);
	return ret;
}

int ks_device_start(struct ks_device *dev, struct ks_error *err)
{
	return ks_table_start(dev->table, err);
}

void ks_device_log_watch(const struct ks_device *dev)
{
	static const struct {
		unsigned int bit;
		const char *what;
	} sources[] = {
		{ KS_KEVENTS_UEVENT, "module uevents" },
		{ KS_KEVENTS_KSYMBOL, "dynamic symbols" },
	};
	unsigned int live = ks_table_sources(dev->table);

	if (!dev->root->live) {
		ks_info("live table: off (%s/ is not the running system): every open re-reads it",
			dev->root->path);
		return;
	}
	if (live == (KS_KEVENTS_UEVENT | KS_KEVENTS_KSYMBOL)) {
		unsigned int cpus = ks_table_cpus(dev->table);

		ks_info("live table: watching module uevents and dynamic symbols (%u CPU%s)", cpus,
			cpus == 1 ? "" : "s");
		return;
	}
	for (size_t i = 0; i < sizeof(sources) / sizeof(sources[0]); i++)
		if (!(live & sources[i].bit))
			ks_warn("live table: %s not available (%s): opens re-read /proc/kallsyms",
				sources[i].what, ks_table_unavailable(dev->table, sources[i].bit));
}

void ks_device_log_stats(struct ks_device *dev)
{
	struct ks_table_stats st;

	ks_table_stats(dev->table, &st);
	ks_info("live table: %lu opens served without a read, %lu re-reads, "
		"%lu incremental updates", st.served, st.rereads, st.applied);
}

void ks_device_release(struct ks_open *o)
{
	struct ks_device *dev;

	if (!o)
		return;
	dev = o->dev;
	pthread_mutex_lock(&dev->lock);
	table_unlink(dev, o);
	pthread_mutex_unlock(&dev->lock);
	open_free(o);
}

size_t ks_open_size(const struct ks_open *o)
{
	return o->size;
}

pid_t ks_open_tgid(const struct ks_open *o)
{
	return o->tgid;
}

int ks_device_read(struct ks_open *o, size_t size, struct ks_read *r)
{
	size_t len;

	memset(r, 0, sizeof(*r));
	r->fd = -1;
	pthread_mutex_lock(&o->cursor_lock);
	len = o->size - o->cursor;
	if (len > size)
		len = size;
	r->offset = (off_t)o->cursor;
	o->cursor += len;
	pthread_mutex_unlock(&o->cursor_lock);

	r->len = len;
	if (len) {
		r->snap = ks_snapshot_ref(o->snap);
		r->fd = ks_snapshot_fd(o->snap);
	}
	return 0;
}

int ks_device_pread(struct ks_open *o, size_t size, off_t offset, struct ks_read *r)
{
	size_t len;

	memset(r, 0, sizeof(*r));
	r->fd = -1;
	if (offset < 0)
		return -EINVAL;
	if ((uint64_t)offset >= o->size)
		return 0;
	len = o->size - (size_t)offset;
	if (len > size)
		len = size;
	r->offset = offset;
	r->len = len;
	if (len) {
		r->snap = ks_snapshot_ref(o->snap);
		r->fd = ks_snapshot_fd(o->snap);
	}
	return 0;
}

void ks_device_flush(struct ks_open *o)
{
	pthread_mutex_lock(&o->dev->lock);
	o->closing = true;
	pthread_mutex_unlock(&o->dev->lock);
}

void ks_device_read_done(struct ks_read *r)
{
	if (r->snap)
		ks_snapshot_unref(r->snap);
	r->snap = NULL;
	r->fd = -1;
}

int ks_open_lookup(struct ks_open *o, const char *name, GElf_Sym *sym)
{
	int ret = 0;

	pthread_mutex_lock(&o->index_lock);
	if (!o->index)
		ret = ks_symindex_new(ks_snapshot_data(o->snap), o->size, &o->index, NULL);
	if (ret == 0)
		ret = ks_symindex_lookup_name(o->index, name, sym);
	else if (ret != -ENOMEM)
		ret = -EIO;	/* our own image did not index: our bug */
	pthread_mutex_unlock(&o->index_lock);
	return ret;
}
