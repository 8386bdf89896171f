/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A snapshot: read the kernel's symbols and modules, build the model, write
 * the ELF image into a memfd and seal it.
 *
 * Consistency: modules load and unload while we read, and under steady
 * churn some always do. proc/modules is read before kallsyms and again
 * after the sections; a module that both list alike (name, base, size) and
 * whose sections were read whole is in the snapshot, and one that came or
 * went meanwhile is left out, with its kallsyms lines. So every module in
 * an image is complete, and every one that was loaded before the snapshot
 * began and held still through it is there.
 *
 * A module whose kallsyms lines and sections disagree (reloaded at the same
 * address between the reads) is left out as well.
 *
 * Reuse: an image is a pure function of its inputs (the kallsyms text, the
 * module sections, the target). snapshot_take() reads the inputs, and one
 * function, cache_reuse(), decides whether they are those of the cached
 * image; only if not is anything parsed or built, one build at a time.
 */
#include "snapshot.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "consistency.h"
#include "dynsyms.h"
#include "editimage.h"
#include "elfimage.h"
#include "kallsyms.h"
#include "model.h"
#include "modules.h"
#include "notes.h"
#include "shared/log.h"
#include "text.h"

#define KS_SEALS (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL)

/* The last image built, and the inputs it was built from. */
struct cache_entry {
	atomic_uint refs;
	struct ks_text text;		/* kallsyms */
	struct ks_modlist mods;		/* with sections and notes */
	struct ks_notes *knotes;	/* the kernel's (the model points at it) */
	/* The model of snap, for announced changes (ks_snapshot_apply());
	 * NULL if it could not be kept. Under the cache's build_lock. */
	struct ks_editimage *ei;
	/* Under the cache's lock: the image, and whether announced changes
	 * were applied to it (it is then no longer the inputs' image). */
	struct ks_snapshot *snap;
	bool edited;
};

struct ks_snapshot_cache {
	pthread_mutex_t build_lock;	/* one build at a time */
	pthread_mutex_t lock;
	struct cache_entry *cur;	/* under lock; NULL until the first build */
	unsigned long hits, misses;
	/* Under lock: the BPF sysctls as last read whole (see cache_env()). */
	struct ks_dyn_env known_env;
	bool have_known_env;
};

struct ks_snapshot {
	atomic_uint refs;
	int fd;
	size_t size;
	const void *data;
	size_t n_syms;
	bool init_syms;		/* a module's init sections still hold symbols */
};

/* Seal the image of size bytes in fd and take it over. */
static int snapshot_seal(int fd, size_t size, size_t n_syms, bool init_syms,
			 struct ks_snapshot **out, struct ks_error *err)
{
	struct ks_snapshot *s;
	void *data;

	if (fcntl(fd, F_ADD_SEALS, KS_SEALS) < 0)
		return ks_error_set(err, errno, "sealing the image: %s", strerror(errno));

	data = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (data == MAP_FAILED)
		return ks_error_set(err, errno, "mmap: %s", strerror(errno));
	s = calloc(1, sizeof(*s));
	if (!s) {
		munmap(data, size);
		return ks_error_set(err, ENOMEM, "out of memory");
	}
	atomic_init(&s->refs, 1);
	s->fd = fd;
	s->size = size;
	s->data = data;
	s->n_syms = n_syms;
	s->init_syms = init_syms;
	*out = s;
	return 0;
}

static void cache_entry_unref(struct cache_entry *e)
{
	if (!e || atomic_fetch_sub_explicit(&e->refs, 1, memory_order_acq_rel) != 1)
		return;
	ks_editimage_free(e->ei);
	ks_text_release(&e->text);
	ks_modlist_release(&e->mods);
	ks_notes_free(e->knotes);
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

/*
 * The one place that decides reuse: entry e's image is this snapshot's if
 * it was built from the same kallsyms text (same_text), the same module
 * sections and notes and the same kernel notes, and no announced change
 * was applied to it since.
 */
static bool cache_reuse(const struct cache_entry *e, bool same_text, const struct ks_modlist *mods,
			const struct ks_notes *knotes)
{
	return e && !e->edited && same_text && ks_modlist_equal(&e->mods, mods) &&
	       ks_notes_equal(e->knotes, knotes);
}

/* e's image, referenced, if cache_reuse() says so; else NULL. */
static struct ks_snapshot *cache_share(struct ks_snapshot_cache *c, struct cache_entry *e,
				       bool same_text, const struct ks_modlist *mods,
				       const struct ks_notes *knotes)
{
	struct ks_snapshot *snap = NULL;

	pthread_mutex_lock(&c->lock);
	if (cache_reuse(e, same_text, mods, knotes))
		snap = ks_snapshot_ref(e->snap);
	pthread_mutex_unlock(&c->lock);
	return snap;
}

/*
 * The BPF sysctls now. Two of them only CAP_SYS_ADMIN may read, which a
 * daemon gives up after its first read: those come from the last read
 * that could (so a change of them after that is not seen).
 */
static int cache_env(struct ks_snapshot_cache *c, const struct ks_root *root,
		     struct ks_dyn_env *env, struct ks_error *err)
{
	int r = ks_dyn_env_read(env, root, err);

	if (r < 0)
		return r;
	pthread_mutex_lock(&c->lock);
	if (!env->unreadable) {
		c->known_env = *env;
		c->have_known_env = true;
	} else if (c->have_known_env) {
		ks_dyn_env_fill(env, &c->known_env);
	}
	pthread_mutex_unlock(&c->lock);
	return 0;
}

static void cache_count(struct ks_snapshot_cache *c, bool hit)
{
	pthread_mutex_lock(&c->lock);
	c->hits += hit;
	c->misses += !hit;
	pthread_mutex_unlock(&c->lock);
}

/* Remember a new image, taking over the inputs it was built from. */
static void cache_store(struct ks_snapshot_cache *c, struct ks_text *text,
			struct ks_modlist *mods, struct ks_notes **knotes, struct ks_editimage *ei,
			struct ks_snapshot *snap)
{
	struct cache_entry *e, *old;

	e = calloc(1, sizeof(*e));
	if (!e) {
		ks_editimage_free(ei);
		return;		/* no cache this time: not an error */
	}
	atomic_init(&e->refs, 1);
	e->ei = ei;
	e->text = *text;
	memset(text, 0, sizeof(*text));
	e->mods = *mods;
	memset(mods, 0, sizeof(*mods));
	e->knotes = *knotes;
	*knotes = NULL;
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

	if (c) {
		pthread_mutex_init(&c->lock, NULL);
		pthread_mutex_init(&c->build_lock, NULL);
	}
	return c;
}

void ks_snapshot_cache_free(struct ks_snapshot_cache *c)
{
	if (!c)
		return;
	cache_entry_unref(c->cur);
	pthread_mutex_destroy(&c->lock);
	pthread_mutex_destroy(&c->build_lock);
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

/* The image of a parsed kallsyms and the modules, in a sealed memfd.
 * *torn: a module was left out here (see ks_mark_torn_modules()). */
static int snapshot_build(struct ks_kallsyms *ks, struct ks_modlist *mods,
			  const struct ks_notes *knotes, const struct ks_target *target,
			  const struct ks_dyn_env *env, struct ks_editimage **ei,
			  struct ks_snapshot **out, bool *torn, struct ks_error *err)
{
	struct ks_model model = { 0 };
	size_t size, n_syms;
	bool init_syms;
	int fd = -1, r;

	ks_keep_lines_of(ks, mods);
	r = ks_model_build(&model, ks, mods, target, err);
	*torn = r == 0 && ks_mark_torn_modules(&model, mods);
	if (*torn) {
		ks_model_release(&model);
		ks_drop_gone_modules(mods);
		ks_keep_lines_of(ks, mods);
		r = ks_model_build(&model, ks, mods, target, err);
	}
	if (r < 0)
		goto out;
	model.owners[0].notes = knotes;
	model.owners[0].n_notes = knotes->size != 0;
	fd = memfd_create("ksyms", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0) {
		r = ks_error_set(err, errno, "memfd_create: %s", strerror(errno));
		goto out;
	}
	n_syms = model.n_syms;
	init_syms = ks_model_has_init_syms(&model);
	/* Kept for announced changes: the same bytes as the plain writer. */
	if (ei && env) {
		r = ks_editimage_new(ei, &model, env, err);
		if (r == 0)
			r = ks_editimage_write(*ei, fd, &size, err);
	} else {
		r = ks_elfimage_write(&model, fd, &size, err);
	}
	if (r < 0)
		goto out;
	r = snapshot_seal(fd, size, n_syms, init_syms, out, err);
	if (r == 0)
		fd = -1;
out:
	if (fd >= 0)
		close(fd);
	ks_model_release(&model);
	return r;
}

/*
 * A miss: build the image and remember it, one build at a time, so that
 * the opens that find the same new kernel at once wait for the first one's
 * image instead of each building it. After the wait, the image another
 * open has just built may be this one. parsed: ks holds the parsed text.
 */
static int snapshot_build_once(struct ks_snapshot_cache *cache, struct cache_entry *seen,
			       struct ks_text *text, struct ks_kallsyms *ks, bool parsed,
			       struct ks_modlist *mods, struct ks_notes **knotes,
			       const struct ks_target *target,
			       const struct ks_dyn_env *env, struct ks_snapshot **out,
			       struct ks_snapshot_report *rep, struct ks_error *err)
{
	struct ks_editimage *ei = NULL;
	struct cache_entry *latest;
	bool torn = false, hit = false;
	int r = 0;

	pthread_mutex_lock(&cache->build_lock);
	latest = cache_get(cache);
	if (latest != seen)
		*out = cache_share(cache, latest, latest && ks_text_equal(&latest->text, text), mods,
				   *knotes);
	hit = *out != NULL;
	if (hit)
		goto out;
	if (!parsed)
		r = ks_kallsyms_parse(ks, text->data, text->len, err);
	if (r == 0)
		r = snapshot_build(ks, mods, *knotes, target, env, &ei, out, &torn, err);
	if (r == 0)
		cache_store(cache, text, mods, knotes, ei, *out);
	else
		ks_editimage_free(ei);
	rep->built = true;
	rep->settled &= !torn;
out:
	pthread_mutex_unlock(&cache->build_lock);
	cache_entry_unref(latest);
	cache_count(cache, hit);
	return r;
}

/*
 * Take in kallsyms as the reader thread gets it from the kernel. While the
 * text is byte for byte the cached one's, nothing is parsed (an unchanged
 * kernel then costs its reading and no more); from the first difference,
 * or with no cache, what has arrived is parsed while the rest is read.
 * *same says whether it matched to the end. A parse error ends it at once:
 * the caller abandons the rest of the read.
 */
static int collect_kallsyms(struct ks_text_read *rd, const struct ks_text *cached,
			    struct ks_kallsyms *ks, bool *same, struct ks_error *err)
{
	size_t seen = 0, avail;
	const char *data;
	bool done = false;
	int r = 0;

	memset(ks, 0, sizeof(*ks));
	*same = cached != NULL;
	while (!done) {
		done = ks_text_read_wait(rd, seen, &data, &avail);
		if (*same)
			*same = avail <= cached->len &&
				memcmp(data + seen, cached->data + seen, avail - seen) == 0 &&
				(!done || avail == cached->len);
		if (!*same)
			r = ks_kallsyms_parse_more(ks, data, avail, done, err);
		if (r < 0)
			break;
		seen = avail;
	}
	return r;
}

/* Read the kernel, and share the cached image or build one. */
static int snapshot_take(const struct ks_root *root, const struct ks_target *target,
			 struct ks_snapshot_cache *cache, struct ks_snapshot **out,
			 struct ks_snapshot_report *rep, struct ks_error *err)
{
	bool torn = false;
	struct ks_modlist before = { 0 }, mods = { 0 }, after = { 0 };
	struct ks_notes *knotes = calloc(1, sizeof(*knotes));
	struct cache_entry *cached = cache ? cache_get(cache) : NULL;
	struct ks_kallsyms ks = { 0 };
	struct ks_text_read *rd;
	struct ks_text text = { 0 };
	struct ks_dyn_env env_before, env;
	bool same = false, have_env = false;
	int r;

	if (!knotes) {
		r = ks_error_set(err, ENOMEM, "out of memory");
		goto out;
	}
	r = ks_modlist_read_set(&before, root, err);
	if (r < 0)
		goto out;
	/* What decides which dynamic symbols kallsyms lists, read around it
	 * (see have_env below). */
	if (cache)
		have_env = cache_env(cache, root, &env_before, NULL) == 0;
	r = ks_text_read_start(&rd, root, "proc/kallsyms", err);
	if (r < 0)
		goto out;
	/* While the kernel formats kallsyms for the reader thread. Modules
	 * gone meanwhile are left out below, with their notes. */
	r = ks_modlist_read(&mods, root, err);
	if (r == 0)
		r = ks_notes_read_modules(&mods, root, target->elf_data, err);
	if (r == 0)
		r = ks_notes_read_kernel(knotes, root, target->elf_data, err);
	if (r == 0) {
		r = collect_kallsyms(rd, cached ? &cached->text : NULL, &ks, &same, err);
		if (r < 0)
			ks_error_prefix(err, "%s/proc/kallsyms", root->path);
	}
	if (r < 0) {
		ks_text_read_abandon(rd);
		goto out;
	}
	r = ks_text_read_finish(rd, &text, err);
	if (r < 0)
		goto out;
	if (ks_kallsyms_all_zero(text.data, text.len)) {
		r = ks_error_set(err, EPERM,
				 "%s/proc/kallsyms shows every address as 0: this process may not "
				 "see kernel addresses (kernel.kptr_restrict is 2, or it lacks "
				 "CAP_SYSLOG with kptr_restrict 1 or perf_event_paranoid > 1); run "
				 "as root with CAP_SYSLOG and kernel.kptr_restrict <= 1",
				 root->path);
		goto out;
	}
	r = ks_modlist_read_set(&after, root, err);
	if (r < 0)
		goto out;
	/* Changes can be applied to this image later only if the rules for
	 * listing them held still through the read. */
	have_env = have_env && cache_env(cache, root, &env, NULL) == 0 &&
		   ks_dyn_env_same(&env_before, &env);
	rep->settled = !ks_keep_stable_modules(&mods, &before, &after) &&
		       ks_modlist_all_live(&before) && ks_modlist_all_live(&after);
	if (!cache) {
		r = snapshot_build(&ks, &mods, knotes, target, NULL, NULL, out, &torn, err);
		rep->built = true;
		rep->settled &= !torn;
	} else if ((*out = cache_share(cache, cached, same, &mods, knotes))) {
		cache_count(cache, true);
	} else {
		r = snapshot_build_once(cache, cached, &text, &ks, !same, &mods, &knotes, target,
					have_env ? &env : NULL, out, rep, err);
	}
	if (r == 0)
		rep->settled &= !(*out)->init_syms;
out:
	ks_kallsyms_release(&ks);
	ks_text_release(&text);
	ks_modlist_release(&mods);
	ks_notes_free(knotes);
	ks_modlist_release(&before);
	ks_modlist_release(&after);
	cache_entry_unref(cached);
	return r;
}

/*
 * The cache's image with announced changes applied: its model edited and a
 * new image written from it (no read of kallsyms). Under the build lock,
 * which also keeps the model to one editor.
 */
int ks_snapshot_apply(struct ks_snapshot_cache *c, const struct ks_root *root,
		      const struct ks_kevent *evs, size_t n, struct ks_snapshot **out,
		      struct ks_error *err)
{
	struct cache_entry *e;
	struct ks_dyn_env env;
	struct ks_snapshot *old;
	size_t size;
	int fd = -1, r;

	*out = NULL;
	pthread_mutex_lock(&c->build_lock);
	e = cache_get(c);
	if (!e || !e->ei) {
		r = ks_error_set(err, ESTALE, "no table to apply changes to");
		goto out;
	}
	r = cache_env(c, root, &env, err);
	if (r < 0)
		goto out;
	if (!ks_editimage_current(e->ei, &env)) {
		r = ks_error_set(err, ESTALE, "the BPF sysctls changed");
		goto out;
	}
	r = ks_editimage_apply(e->ei, evs, n, err);
	if (r == 1) {
		/* Nothing to change: the image stands. */
		pthread_mutex_lock(&c->lock);
		*out = ks_snapshot_ref(e->snap);
		pthread_mutex_unlock(&c->lock);
		r = 0;
		goto out;
	}
	if (r == 0) {
		fd = memfd_create("ksyms", MFD_CLOEXEC | MFD_ALLOW_SEALING);
		if (fd < 0)
			r = ks_error_set(err, errno, "memfd_create: %s", strerror(errno));
	}
	if (r == 0)
		r = ks_editimage_write(e->ei, fd, &size, err);
	if (r == 0)
		r = snapshot_seal(fd, size, ks_editimage_model(e->ei)->n_syms, e->snap->init_syms,
				  out, err);
	if (r < 0) {
		/* The model may be ahead of every image: no more edits. */
		ks_editimage_free(e->ei);
		e->ei = NULL;
		if (fd >= 0)
			close(fd);
		goto out;
	}
	pthread_mutex_lock(&c->lock);
	old = e->snap;
	e->snap = ks_snapshot_ref(*out);
	e->edited = true;
	pthread_mutex_unlock(&c->lock);
	ks_snapshot_unref(old);
out:
	pthread_mutex_unlock(&c->build_lock);
	cache_entry_unref(e);
	return r;
}

int ks_snapshot_take_report(const struct ks_snapshot_opts *opts, struct ks_snapshot **out,
			    struct ks_snapshot_report *report, struct ks_error *err)
{
	struct ks_snapshot_report ignored;
	struct ks_target target;
	int r;

	*out = NULL;
	if (!report)
		report = &ignored;
	memset(report, 0, sizeof(*report));
	r = ks_target_for_root(opts->root, &target, err);
	if (r < 0)
		return r;
	return snapshot_take(opts->root, &target, opts->cache, out, report, err);
}

int ks_snapshot_take(const struct ks_snapshot_opts *opts, struct ks_snapshot **out,
		     struct ks_error *err)
{
	return ks_snapshot_take_report(opts, out, NULL, err);
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
