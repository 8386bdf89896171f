/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A snapshot: read the kernel's symbols and modules, build the model, write
 * the ELF image into a memfd and seal it.
 *
 * Consistency: modules load and unload while we read. proc/modules is read
 * before kallsyms and again after the sections; if the set (names, bases,
 * sizes) moved, or a module vanished in between, the snapshot is taken
 * again. After a few tries we give up with ENXIO, as FreeBSD's ksyms does
 * when the linker's state keeps changing.
 */
#include "snapshot.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "elfimage.h"
#include "kallsyms.h"
#include "shared/log.h"
#include "model.h"
#include "modules.h"

#define KS_DEFAULT_TRIES 5

#define KS_SEALS (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL)

/*
 * The last image built and what it was built from. An image is a pure
 * function of the kallsyms text, the module sections and the target, so
 * when a new read finds the same inputs, the sealed image is shared instead
 * of built again. The text is compared as it is read, and left unparsed
 * when it matches: the kernel's own formatting of kallsyms is then nearly
 * the whole cost of an open.
 */
struct cache_entry {
	atomic_uint refs;
	char *raw;			/* the kallsyms text, unparsed */
	size_t raw_len;
	struct ks_modlist mods;		/* with sections */
	struct ks_snapshot *snap;
};

struct ks_snapshot_cache {
	pthread_mutex_t lock;
	struct cache_entry *cur;	/* under lock; NULL until the first build */
	unsigned long hits, misses;
};

struct ks_snapshot {
	atomic_uint refs;
	int fd;
	size_t size;
	const void *data;
	size_t n_syms;
};

/* The machine whose kernel we describe: uname, or <root>/uname-m for a
 * fixture tree captured elsewhere. */
static int target_for_root(const char *root, struct ks_target *t, struct ks_error *err)
{
	char path[4096], machine[65] = "";
	struct utsname un;
	FILE *f;

	snprintf(path, sizeof(path), "%s/uname-m", root);
	f = fopen(path, "re");
	if (f) {
		if (!fgets(machine, sizeof(machine), f))
			machine[0] = '\0';
		fclose(f);
		machine[strcspn(machine, "\n")] = '\0';
	}
	if (!machine[0]) {
		if (uname(&un) < 0)
			return ks_error_set(err, errno, "uname: %s", strerror(errno));
		snprintf(machine, sizeof(machine), "%s", un.machine);
	}
	if (ks_target_from_machine(machine, t) < 0)
		return ks_error_set(err, ENOTSUP, "unsupported machine \"%s\"", machine);
	return 0;
}

static int snapshot_wrap(int fd, size_t n_syms, struct ks_snapshot **out, struct ks_error *err)
{
	struct ks_snapshot *s;
	struct stat st;
	void *data;

	if (fstat(fd, &st) < 0)
		return ks_error_set(err, errno, "fstat: %s", strerror(errno));
	if (st.st_size <= 0)
		return ks_error_set(err, EINVAL, "empty image");
	data = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (data == MAP_FAILED)
		return ks_error_set(err, errno, "mmap: %s", strerror(errno));
	s = calloc(1, sizeof(*s));
	if (!s) {
		munmap(data, (size_t)st.st_size);
		return ks_error_set(err, ENOMEM, "out of memory");
	}
	atomic_init(&s->refs, 1);
	s->fd = fd;
	s->size = (size_t)st.st_size;
	s->data = data;
	s->n_syms = n_syms;
	*out = s;
	return 0;
}

static bool sections_equal(const struct ks_module *a, const struct ks_module *b)
{
	if (a->n_sections != b->n_sections)
		return false;
	for (size_t i = 0; i < a->n_sections; i++)
		if (a->sections[i].addr != b->sections[i].addr ||
		    strcmp(a->sections[i].name, b->sections[i].name) != 0)
			return false;
	return true;
}

static bool modlists_equal(const struct ks_modlist *a, const struct ks_modlist *b)
{
	if (!ks_modlist_same_set(a, b))
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (!sections_equal(&a->mods[i], &b->mods[i]))
			return false;
	return true;
}

static void cache_entry_unref(struct cache_entry *e)
{
	if (!e || atomic_fetch_sub_explicit(&e->refs, 1, memory_order_acq_rel) != 1)
		return;
	free(e->raw);
	ks_modlist_release(&e->mods);
	ks_snapshot_unref(e->snap);
	free(e);
}

/* The current entry, referenced: it stays valid while another open
 * replaces it. */
static struct cache_entry *cache_get(struct ks_snapshot_cache *c)
{
	struct cache_entry *e;

	pthread_mutex_lock(&c->lock);
	e = c->cur;
	if (e)
		atomic_fetch_add_explicit(&e->refs, 1, memory_order_relaxed);
	pthread_mutex_unlock(&c->lock);
	return e;
}

static void cache_count(struct ks_snapshot_cache *c, bool hit)
{
	pthread_mutex_lock(&c->lock);
	c->hits += hit;
	c->misses += !hit;
	pthread_mutex_unlock(&c->lock);
}

/* Remember a new image, taking over the inputs it was built from. */
static void cache_store(struct ks_snapshot_cache *c, struct ks_kallsyms *ks,
			struct ks_modlist *mods, struct ks_snapshot *snap)
{
	struct cache_entry *e, *old;

	if (!ks->raw)
		return;
	e = calloc(1, sizeof(*e));
	if (!e)
		return;		/* no cache this time: not an error */
	atomic_init(&e->refs, 1);
	e->raw = ks->raw;
	e->raw_len = ks->raw_len;
	ks->raw = NULL;
	e->mods = *mods;
	memset(mods, 0, sizeof(*mods));
	e->snap = ks_snapshot_ref(snap);
	pthread_mutex_lock(&c->lock);
	old = c->cur;
	c->cur = e;
	pthread_mutex_unlock(&c->lock);
	cache_entry_unref(old);
}

struct ks_snapshot_cache *ks_snapshot_cache_new(void)
{
	struct ks_snapshot_cache *c = calloc(1, sizeof(*c));

	if (c)
		pthread_mutex_init(&c->lock, NULL);
	return c;
}

void ks_snapshot_cache_free(struct ks_snapshot_cache *c)
{
	if (!c)
		return;
	cache_entry_unref(c->cur);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

void ks_snapshot_cache_stats(struct ks_snapshot_cache *c, unsigned long *hits,
			     unsigned long *misses)
{
	pthread_mutex_lock(&c->lock);
	*hits = c->hits;
	*misses = c->misses;
	pthread_mutex_unlock(&c->lock);
}

struct modules_job {
	const char *root;
	struct ks_modlist *mods;
};

static int read_modules(void *arg, struct ks_error *err)
{
	struct modules_job *job = arg;

	return ks_modlist_read(job->mods, job->root, err);
}

static bool modules_consistent(const struct ks_modlist *before, const struct ks_modlist *mods,
			       const struct ks_modlist *after)
{
	if (!ks_modlist_same_set(before, mods) || !ks_modlist_same_set(mods, after))
		return false;
	for (size_t i = 0; i < mods->n; i++)
		if (mods->mods[i].gone)
			return false;
	return true;
}

/* One attempt. Returns -EAGAIN when the module set moved underneath. */
static int snapshot_try(const char *root, const struct ks_target *target,
			struct ks_snapshot_cache *cache, struct ks_snapshot **out,
			struct ks_error *err)
{
	struct ks_modlist before = { 0 }, mods = { 0 }, after = { 0 };
	struct modules_job job = { root, &mods };
	struct ks_kallsyms_read_opts ropts = {
		.meanwhile = read_modules,	/* while the kernel formats kallsyms */
		.meanwhile_arg = &job,
		.keep_raw = cache != NULL,
	};
	struct cache_entry *cached = cache ? cache_get(cache) : NULL;
	struct ks_kallsyms ks = { 0 };
	struct ks_model model = { 0 };
	char path[4096];
	size_t size;
	int fd = -1, r;

	if (cached) {
		ropts.expect = cached->raw;
		ropts.expect_len = cached->raw_len;
	}
	r = ks_modlist_read_set(&before, root, err);
	if (r < 0)
		goto out;
	snprintf(path, sizeof(path), "%s/proc/kallsyms", root);
	r = ks_kallsyms_read(&ks, path, &ropts, err);
	if (r < 0)
		goto out;
	if (ks.all_zero) {
		r = ks_error_set(err, EPERM,
				 "%s shows every address as 0: this process may not see kernel "
				 "addresses (kernel.kptr_restrict is 2, or it lacks CAP_SYSLOG "
				 "with kptr_restrict 1 or perf_event_paranoid > 1); run as root "
				 "with CAP_SYSLOG and kernel.kptr_restrict <= 1",
				 path);
		goto out;
	}
	r = ks_modlist_read_set(&after, root, err);
	if (r < 0)
		goto out;
	if (!modules_consistent(&before, &mods, &after)) {
		r = -EAGAIN;
		goto out;
	}
	if (cache) {
		/* The same text (left unparsed) and the same sections: share. */
		bool hit = ks.unchanged && modlists_equal(&cached->mods, &mods);

		cache_count(cache, hit);
		if (hit) {
			*out = ks_snapshot_ref(cached->snap);
			goto out;
		}
		r = ks_kallsyms_parse_unchanged(&ks, true, err);
		if (r < 0) {
			ks_error_prefix(err, "%s", path);
			goto out;
		}
	}
	r = ks_model_build(&model, &ks, &mods, target, err);
	if (r < 0)
		goto out;
	fd = memfd_create("ksyms", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0) {
		r = ks_error_set(err, errno, "memfd_create: %s", strerror(errno));
		goto out;
	}
	r = ks_elfimage_write(&model, fd, &size, err);
	if (r < 0)
		goto out;
	if (fcntl(fd, F_ADD_SEALS, KS_SEALS) < 0) {
		r = ks_error_set(err, errno, "sealing the image: %s", strerror(errno));
		goto out;
	}
	r = snapshot_wrap(fd, model.n_syms, out, err);
	if (r < 0)
		goto out;
	fd = -1;
	if (cache)
		cache_store(cache, &ks, &mods, *out);
out:
	if (fd >= 0)
		close(fd);
	ks_model_release(&model);
	ks_kallsyms_release(&ks);
	ks_modlist_release(&mods);
	ks_modlist_release(&before);
	ks_modlist_release(&after);
	cache_entry_unref(cached);
	return r;
}

int ks_snapshot_take(const struct ks_snapshot_opts *opts, struct ks_snapshot **snap,
		     struct ks_error *err)
{
	const char *root = opts && opts->root ? opts->root : "/";
	unsigned tries = opts && opts->max_tries ? opts->max_tries : KS_DEFAULT_TRIES;
	struct ks_target target;
	int r;

	*snap = NULL;
	r = target_for_root(root, &target, err);
	if (r < 0)
		return r;
	for (unsigned i = 0; i < tries; i++) {
		r = snapshot_try(root, &target, opts ? opts->cache : NULL, snap, err);
		if (r != -EAGAIN)
			return r;
		ks_debug("module set changed while reading, retrying (%u/%u)", i + 1, tries);
	}
	return ks_error_set(err, ENXIO, "the module set kept changing: no consistent snapshot "
			    "after %u tries", tries);
}

struct ks_snapshot *ks_snapshot_ref(struct ks_snapshot *s)
{
	atomic_fetch_add_explicit(&s->refs, 1, memory_order_relaxed);
	return s;
}

void ks_snapshot_unref(struct ks_snapshot *s)
{
	if (!s || atomic_fetch_sub_explicit(&s->refs, 1, memory_order_acq_rel) != 1)
		return;
	munmap((void *)s->data, s->size);
	close(s->fd);
	free(s);
}

int ks_snapshot_fd(const struct ks_snapshot *s)
{
	return s->fd;
}

size_t ks_snapshot_size(const struct ks_snapshot *s)
{
	return s->size;
}

const void *ks_snapshot_data(const struct ks_snapshot *s)
{
	return s->data;
}

size_t ks_snapshot_n_syms(const struct ks_snapshot *s)
{
	return s->n_syms;
}
