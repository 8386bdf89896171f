/* SPDX-License-Identifier: BSD-2-Clause */
#include "device.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ksyms.h>

#include "shared/log.h"
#include "shared/symindex.h"

struct ks_device {
	const struct ks_root *root;
	unsigned max_opens;
	size_t max_memory;

	pthread_mutex_t lock;	/* the process table below */
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
	pthread_mutex_init(&dev->lock, NULL);
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
	int ret = 0;

	pthread_mutex_lock(&dev->lock);
	for (p = dev->opens; p; p = p->next) {
		if (p->tgid == o->tgid) {
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

int ks_device_open(struct ks_device *dev, const struct ks_caller *caller,
		   struct ks_open **out, struct ks_error *err)
{
	struct ks_snapshot *snap = NULL;
	struct ks_open *o;
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

	ret = ks_table_get(dev->table, &snap, err);
	if (ret < 0) {
		pthread_mutex_lock(&dev->lock);
		table_unlink(dev, o);
		pthread_mutex_unlock(&dev->lock);
		/* The errnos a client can act on pass through; the rest are
		 * our trouble (bad input files, I/O) and look like it. */
		if (ret != -EPERM && ret != -ENOMEM)
			ret = -EIO;
		goto fail;
	}
	ret = table_commit(dev, o, snap);
	if (ret < 0) {
		ks_error_set(err, ENOMEM, "pid %d: a %zu-byte snapshot would exceed "
			     "the memory limit of %zu bytes", (int)o->tgid,
			     ks_snapshot_size(snap), dev->max_memory);
		ks_snapshot_unref(snap);
		goto fail;
	}
	*out = o;
	return 0;

fail:
	open_free(o);
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

void ks_device_read_done(struct ks_read *r)
{
	if (r->snap)
		ks_snapshot_unref(r->snap);
	r->snap = NULL;
	r->fd = -1;
}

/* ---- ioctls ---- */

/* A 32-bit caller's encodings of the requests whose argument has no
 * pointer in it. The lookups are not offered to such callers: where their
 * struct layouts differ (i386 aligns uint64_t to 4) the numbers differ too,
 * and where they do not (arm) we could not tell the layouts apart. */
#define KIOCGSIZE_SIZE_T32	_IOR('l', 1, uint32_t)
#define KIOCGADDR32		_IOR('l', 2, uint32_t)

static int ioctl_size(struct ks_open *o, uint64_t arg, size_t width, bool is_signed,
		      size_t out_len, struct ks_ioctl_step *st)
{
	uint64_t v64 = o->size;
	uint32_t v32 = (uint32_t)o->size;

	st->out[0] = (struct ks_iov){ .addr = arg, .len = width };
	st->n_out = 1;
	if (out_len < width)
		return KS_IOCTL_RETRY;
	if (width == sizeof(v64)) {
		memcpy(st->data, &v64, sizeof(v64));
	} else {
		if (o->size > (is_signed ? (size_t)INT_MAX : (size_t)UINT32_MAX))
			return -EOVERFLOW;
		memcpy(st->data, &v32, sizeof(v32));
	}
	st->data_len = width;
	return KS_IOCTL_DONE;
}

/* How each lookup request is laid out. */
struct lookup_shape {
	size_t arg_size;	/* the struct the caller passes */
	bool indirect;		/* OKIOC*: the result goes where the struct points */
	bool whole_sym;		/* the Elf64_Sym, else only st_value */
	size_t out_off;		/* !indirect: where in the struct the result goes */
	size_t out_len;
};

static const struct lookup_shape shape_gvalue = {
	.arg_size = sizeof(struct ksyms_gvalue),
	.out_off = offsetof(struct ksyms_gvalue, kv_value),
	.out_len = sizeof(uint64_t),
};
static const struct lookup_shape shape_gsymbol = {
	.arg_size = sizeof(struct ksyms_gsymbol),
	.whole_sym = true,
	.out_off = offsetof(struct ksyms_gsymbol, kg_sym),
	.out_len = sizeof(Elf64_Sym),
};
static const struct lookup_shape shape_ogsymbol = {
	.arg_size = sizeof(struct ksyms_ogsymbol),
	.indirect = true,
	.whole_sym = true,
	.out_len = sizeof(Elf64_Sym),
};
static const struct lookup_shape shape_ogvalue = {
	.arg_size = sizeof(struct ksyms_ogsymbol),
	.indirect = true,
	.out_len = sizeof(unsigned long),
};

static int lookup(struct ks_open *o, const char *name, GElf_Sym *sym)
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

/*
 * The rounds of a lookup:
 *   1. nothing fetched: ask for the struct;
 *   2. the struct: ask for the name, up to the end of its page (or to
 *      KSYMS_MAXNAMELEN bytes if that comes first);
 *   3. no NUL yet: ask again for the struct and a longer prefix of the name,
 *      up to the next page end; repeat until a NUL or KSYMS_MAXNAMELEN.
 * A name of at most 512 bytes spans at most two pages, so that is at most
 * three fetches for the usual 4 KiB pages. Each round asks for the struct
 * again because the kernel hands over only what the last round asked for.
 */
static int ioctl_lookup(struct ks_open *o, const struct lookup_shape *sh, uint64_t arg,
			const unsigned char *in, size_t in_len, size_t out_len,
			size_t page_size, struct ks_ioctl_step *st)
{
	const char *name;
	size_t fetched, chunk, nlen;
	uint64_t name_ptr, out_ptr;
	const void *p;
	GElf_Sym sym;
	int ret;

	st->in[0] = (struct ks_iov){ .addr = arg, .len = sh->arg_size };
	st->n_in = 1;
	if (!sh->indirect) {
		st->out[0] = (struct ks_iov){ .addr = arg + sh->out_off, .len = sh->out_len };
		st->n_out = 1;
	}
	if (in_len < sh->arg_size)
		return KS_IOCTL_RETRY;

	memcpy(&p, in, sizeof(p));	/* the name pointer is first in every struct */
	name_ptr = (uintptr_t)p;
	if (sh->indirect) {
		memcpy(&p, in + offsetof(struct ksyms_ogsymbol, _un), sizeof(p));
		out_ptr = (uintptr_t)p;
		if (!out_ptr)
			return -EFAULT;
		st->out[0] = (struct ks_iov){ .addr = out_ptr, .len = sh->out_len };
		st->n_out = 1;
	}
	if (!name_ptr)
		return -EFAULT;

	name = (const char *)in + sh->arg_size;
	fetched = in_len - sh->arg_size;
	nlen = strnlen(name, fetched);
	if (nlen == fetched) {
		/* No NUL in what we have: fetch more, never past a page end. */
		if (fetched >= KSYMS_MAXNAMELEN)
			return -EINVAL;
		chunk = page_size - (size_t)((name_ptr + fetched) & (page_size - 1));
		if (chunk > KSYMS_MAXNAMELEN - fetched)
			chunk = KSYMS_MAXNAMELEN - fetched;
		if (name_ptr + fetched + chunk < name_ptr)
			return -EFAULT;	/* wraps around the address space */
		st->in[1] = (struct ks_iov){ .addr = name_ptr, .len = fetched + chunk };
		st->n_in = 2;
		return KS_IOCTL_RETRY;
	}
	if (nlen >= KSYMS_MAXNAMELEN)
		return -EINVAL;
	if (out_len < sh->out_len) {
		/* Not expected (every name round declares the output), but
		 * the protocol allows it: ask once more with the same name. */
		st->in[1] = (struct ks_iov){ .addr = name_ptr, .len = fetched };
		st->n_in = 2;
		return KS_IOCTL_RETRY;
	}

	ret = lookup(o, name, &sym);
	if (ret < 0)
		return ret;
	if (sh->whole_sym) {
		Elf64_Sym es = {
			.st_name = sym.st_name,
			.st_info = sym.st_info,
			.st_other = sym.st_other,
			.st_shndx = sym.st_shndx,
			.st_value = sym.st_value,
			.st_size = sym.st_size,
		};

		memcpy(st->data, &es, sizeof(es));
	} else if (sh->out_len == sizeof(uint64_t)) {
		uint64_t v = sym.st_value;

		memcpy(st->data, &v, sizeof(v));
	} else {
		unsigned long v = (unsigned long)sym.st_value;

		memcpy(st->data, &v, sizeof(v));
	}
	st->data_len = sh->out_len;
	return KS_IOCTL_DONE;
}

int ks_device_ioctl(struct ks_open *o, unsigned cmd, uint64_t arg, bool compat,
		    const void *in, size_t in_len, size_t out_len, size_t page_size,
		    struct ks_ioctl_step *step)
{
	memset(step, 0, sizeof(*step));
	if (!page_size || (page_size & (page_size - 1)))
		page_size = 4096;

	if (compat) {
		switch (cmd) {
		case KIOCGSIZE_SIZE_T32:
			return ioctl_size(o, arg, sizeof(uint32_t), false, out_len, step);
		case KIOCGSIZE_INT:
			return ioctl_size(o, arg, sizeof(int), true, out_len, step);
		case KIOCGADDR32:
			return -EOPNOTSUPP;
		default:
			return -ENOTTY;
		}
	}

	switch (cmd) {
	case KIOCGSIZE_SIZE_T:
		return ioctl_size(o, arg, sizeof(size_t), false, out_len, step);
	case KIOCGSIZE_INT:
		return ioctl_size(o, arg, sizeof(int), true, out_len, step);
	case KIOCGADDR:
		/* Documented in <sys/ksyms.h>: we cannot map memory into the
		 * caller, and ENOTTY would claim we do not know the request. */
		return -EOPNOTSUPP;
	case KIOCGVALUE:
		return ioctl_lookup(o, &shape_gvalue, arg, in, in_len, out_len, page_size, step);
	case KIOCGSYMBOL:
		return ioctl_lookup(o, &shape_gsymbol, arg, in, in_len, out_len, page_size, step);
	case OKIOCGSYMBOL:
		return ioctl_lookup(o, &shape_ogsymbol, arg, in, in_len, out_len, page_size, step);
	case OKIOCGVALUE:
		return ioctl_lookup(o, &shape_ogvalue, arg, in, in_len, out_len, page_size, step);
	default:
		return -ENOTTY;
	}
}
