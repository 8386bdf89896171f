/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Applying the kernel's ksymbol records to a model (dynsyms.h).
 *
 * Every line a record adds or removes belongs to a pseudo-module, and the
 * pseudo-modules come last, owners and symbols alike: a batch only ever
 * changes the model's tail. So the tail is copied into a small working
 * list of owners, the events are applied there, and only if all of them
 * fit is the tail written back (with its regions and sizes computed
 * afresh); the kernel's and the modules' symbols are not touched.
 */
#include "dynsyms.h"
#include "regions.h"

#include <elf.h>
#include <errno.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

/* ---- the working tail ------------------------------------------------------ */

struct tsym {
	struct ks_sym s;
	uint32_t from;		/* index in the model, or KS_DYN_NEW */
};

struct towner {
	const char *name;
	bool new_name;		/* name is ours (a pseudo-module this batch made) */
	uint32_t from;		/* index in the model, or KS_DYN_NEW */
	struct tsym *syms;
	size_t n, cap;
};

struct tail {
	struct towner *o;
	size_t n, cap;
	bool changed;
};

/* keep_names: the batch was written back, and the model has the names of
 * its new lines and of its new pseudo-modules that kept a line. */
static void tail_release(struct tail *t, bool keep_names)
{
	for (size_t k = 0; k < t->n; k++) {
		struct towner *o = &t->o[k];

		for (size_t i = 0; i < o->n && !keep_names; i++)
			if (o->syms[i].from == KS_DYN_NEW)
				free((char *)o->syms[i].s.name);
		if (o->new_name && (!keep_names || !o->n))
			free((char *)o->name);
		free(o->syms);
	}
	free(t->o);
}

/* Where kallsyms shows a pseudo-module among the others (update_iter_mod):
 * other tags (ftrace's copies of freed module init text) come first. */
static int tag_rank(const char *tag)
{
	if (strcmp(tag, KS_DYN_TAG_FTRACE) == 0)
		return 1;
	if (strcmp(tag, KS_DYN_TAG_BPF) == 0)
		return 2;
	if (strcmp(tag, KS_DYN_TAG_KPROBES) == 0)
		return 3;
	return 0;
}

/* Copy the model's pseudo-modules, the owners from p0 on. */
static int tail_load(struct tail *t, const struct ks_model *m, size_t p0)
{
	t->cap = m->n_owners - p0 + 4;
	t->o = calloc(t->cap, sizeof(*t->o));
	if (!t->o)
		return -ENOMEM;
	for (size_t o = p0; o < m->n_owners; o++) {
		const struct ks_owner *ow = &m->owners[o];
		struct towner *to = &t->o[t->n++];

		*to = (struct towner){ .name = ow->name, .from = (uint32_t)o, .cap = ow->n_syms + 4 };
		to->syms = malloc(to->cap * sizeof(*to->syms));
		if (!to->syms)
			return -ENOMEM;
		for (size_t i = 0; i < ow->n_syms; i++)
			to->syms[to->n++] = (struct tsym){ .s = m->syms[ow->first_sym + i],
							   .from = (uint32_t)(ow->first_sym + i) };
	}
	return 0;
}

static struct towner *tail_find(struct tail *t, const char *tag)
{
	for (size_t k = 0; k < t->n; k++)
		if (strcmp(t->o[k].name, tag) == 0)
			return &t->o[k];
	return NULL;
}

/* A new pseudo-module, placed as kallsyms shows it. */
static struct towner *tail_add_owner(struct tail *t, const char *tag)
{
	int rank = tag_rank(tag);
	size_t at = 0;
	char *name;

	if (t->n == t->cap) {
		struct towner *grown = realloc(t->o, t->cap * 2 * sizeof(*grown));

		if (!grown)
			return NULL;
		t->o = grown;
		t->cap *= 2;
	}
	name = strdup(tag);
	if (!name)
		return NULL;
	while (at < t->n && tag_rank(t->o[at].name) <= rank)
		at++;
	memmove(&t->o[at + 1], &t->o[at], (t->n - at) * sizeof(*t->o));
	t->o[at] = (struct towner){ .name = name, .new_name = true, .from = KS_DYN_NEW };
	t->n++;
	return &t->o[at];
}

static bool name_is(const struct ks_sym *s, const char *name, size_t len)
{
	return s->name_len == len && memcmp(s->name, name, len) == 0;
}

static bool sym_is(const struct ks_sym *s, uint64_t addr, const char *name, size_t len)
{
	return s->addr == addr && name_is(s, name, len);
}

/* Where a new line goes in its pseudo-module (see dynsyms.h). */
static size_t insert_at(const struct towner *o, const char *tag, const char *name)
{
	size_t at = 0;

	if (strcmp(tag, KS_DYN_TAG_BPF) == 0)
		return o->n;
	if (strcmp(name, "kprobe_optinsn_page") == 0)
		for (size_t i = 0; i < o->n; i++)
			if (name_is(&o->syms[i].s, "kprobe_insn_page", 16))
				at = i + 1;
	return at;
}

static int tail_add(struct tail *t, const struct ks_kevent *ev, const char *tag,
		    struct ks_error *err)
{
	const char *name = ev->ksym.name;
	size_t len = strlen(name), at;
	struct towner *o = tail_find(t, tag);
	struct tsym ts = { .from = KS_DYN_NEW };
	char *copy;

	for (size_t i = 0; o && i < o->n; i++)
		if (sym_is(&o->syms[i].s, ev->ksym.addr, name, len))
			return 0;	/* the read saw it already */
	if (!o && !(o = tail_add_owner(t, tag)))
		return ks_error_set(err, ENOMEM, "out of memory");
	if (o->n == o->cap) {
		size_t cap = o->cap ? o->cap * 2 : 8;
		struct tsym *grown = realloc(o->syms, cap * sizeof(*grown));

		if (!grown)
			return ks_error_set(err, ENOMEM, "out of memory");
		o->syms = grown;
		o->cap = cap;
	}
	copy = strndup(name, len);
	if (!copy)
		return ks_error_set(err, ENOMEM, "out of memory");
	ts.s = (struct ks_sym){ .name = copy, .name_len = (uint16_t)len, .addr = ev->ksym.addr,
				.region = KS_REGION_ABS, .letter = 't', .flags = KS_SYM_OWNS_NAME };
	/* Every line of a pseudo-module is 't': kallsyms lowers the letter of
	 * what is not exported, and nothing there is. */
	(void)ks_letter_to_elf('t', &ts.s.bind, &ts.s.type);
	at = insert_at(o, tag, name);
	memmove(&o->syms[at + 1], &o->syms[at], (o->n - at) * sizeof(*o->syms));
	o->syms[at] = ts;
	o->n++;
	t->changed = true;
	return 0;
}

static int tail_remove(struct tail *t, const struct ks_kevent *ev, const char *tag,
		       struct ks_error *err)
{
	const char *name = ev->ksym.name;
	size_t len = strlen(name);
	struct towner *o = tail_find(t, tag);

	for (size_t i = 0; o && i < o->n; i++) {
		if (!sym_is(&o->syms[i].s, ev->ksym.addr, name, len))
			continue;
		/* A line of this batch's goes now; one of the model's with
		 * the model, when the batch is written back. */
		if (o->syms[i].from == KS_DYN_NEW)
			free((char *)o->syms[i].s.name);
		memmove(&o->syms[i], &o->syms[i + 1], (o->n - i - 1) * sizeof(*o->syms));
		o->n--;
		t->changed = true;
		return 0;
	}
	/* Not there: the read began after the kernel took it out (it sends
	 * the record first), or an earlier batch removed it already. */
	(void)err;
	return 0;
}

/* ---- writing the tail back ------------------------------------------------- */

/* Everything the new tail needs, allocated before the model is touched. */
struct commit {
	size_t n_owners, n_syms, n_tail;
	struct ks_owner *owners;	/* the new pseudo-modules */
	struct ks_sym *syms;		/* their symbols */
	struct ks_sym **scratch;
	bool *kept;			/* per symbol of the old tail: still there */
};

static void commit_release(struct commit *c)
{
	for (size_t k = 0; c->owners && k < c->n_owners; k++)
		free(c->owners[k].regions);
	free(c->owners);
	free(c->syms);
	free(c->scratch);
	free(c->kept);
}

static int commit_prepare(struct commit *c, const struct tail *t, const struct ks_model *m,
			  size_t p0, size_t t0)
{
	size_t biggest = 1, at = 0;

	for (size_t k = 0; k < t->n; k++) {
		c->n_owners += t->o[k].n != 0;
		c->n_tail += t->o[k].n;
		if (t->o[k].n > biggest)
			biggest = t->o[k].n;
	}
	c->n_syms = t0 + c->n_tail;
	c->owners = calloc(c->n_owners + 1, sizeof(*c->owners));
	c->syms = malloc((c->n_tail + 1) * sizeof(*c->syms));
	c->scratch = malloc(biggest * sizeof(*c->scratch));
	c->kept = calloc(m->n_syms - t0 + 1, sizeof(*c->kept));
	if (!c->owners || !c->syms || !c->scratch || !c->kept)
		return -ENOMEM;
	for (size_t k = 0, o = 0; k < t->n; k++) {
		const struct towner *to = &t->o[k];
		struct ks_owner *ow;

		if (!to->n)
			continue;
		ow = &c->owners[o];
		*ow = (struct ks_owner){ .name = to->name, .kind = KS_OWNER_PSEUDO,
					 .first_sym = at, .n_syms = to->n };
		for (size_t i = 0; i < to->n; i++, at++) {
			c->syms[at] = to->syms[i].s;
			c->syms[at].owner = (uint32_t)(p0 + o);
			if (to->syms[i].from != KS_DYN_NEW)
				c->kept[to->syms[i].from - t0] = true;
		}
		/* Relative to c->syms for now: the regions and sizes need
		 * only the owner's own symbols. */
		if (ks_regions_pseudo(ow, c->syms) < 0)
			return -ENOMEM;
		ks_model_owner_sizes(ow, c->syms, c->scratch);
		ow->first_sym += t0;
		o++;
	}
	return 0;
}

static int map_fill(struct ks_dyn_map *map, const struct tail *t, size_t p0, size_t t0,
		    size_t n_tail, size_t n_owners)
{
	*map = (struct ks_dyn_map){ .first_sym = t0, .n_sym_from = n_tail, .first_owner = p0,
				    .n_owner_from = n_owners };
	map->sym_from = malloc((n_tail + 1) * sizeof(*map->sym_from));
	map->owner_from = malloc((n_owners + 1) * sizeof(*map->owner_from));
	if (!map->sym_from || !map->owner_from) {
		ks_dyn_map_release(map);
		return -ENOMEM;
	}
	for (size_t k = 0, i = 0, o = 0; k < t->n; k++) {
		if (!t->o[k].n)
			continue;
		map->owner_from[o++] = t->o[k].from;
		for (size_t j = 0; j < t->o[k].n; j++)
			map->sym_from[i++] = t->o[k].syms[j].from;
	}
	return 0;
}

void ks_dyn_map_release(struct ks_dyn_map *map)
{
	free(map->sym_from);
	free(map->owner_from);
	memset(map, 0, sizeof(*map));
}

/* The model's pseudo-modules and their symbols give way to the new tail. */
static void commit_apply(struct commit *c, const struct tail *t, struct ks_model *m,
			 struct ks_sym *syms, struct ks_owner *owners, size_t p0, size_t t0)
{
	size_t locals = 0;

	for (size_t i = t0; i < m->n_syms; i++) {
		locals += syms[i].bind == STB_LOCAL;
		if (!c->kept[i - t0] && (syms[i].flags & KS_SYM_OWNS_NAME))
			free((char *)syms[i].name);
	}
	for (size_t o = p0; o < m->n_owners; o++) {
		bool kept = false;

		free(owners[o].regions);
		for (size_t k = 0; k < t->n && !kept; k++)
			kept = t->o[k].n && t->o[k].from == o;
		if (!kept)
			free((char *)owners[o].name);
	}
	m->n_locals -= locals;
	for (size_t i = 0; i < c->n_tail; i++)
		m->n_locals += c->syms[i].bind == STB_LOCAL;
	memcpy(syms + t0, c->syms, c->n_tail * sizeof(*syms));
	memcpy(owners + p0, c->owners, c->n_owners * sizeof(*owners));
	m->syms = syms;
	m->owners = owners;
	m->n_syms = c->n_syms;
	m->n_owners = p0 + c->n_owners;
	/* The regions are the model's now. */
	free(c->owners);
	c->owners = NULL;
}

/* The first pseudo-module, checked to be followed by pseudo-modules only
 * that hold the symbols' tail: -1 if the model is not so. */
static ssize_t first_pseudo(const struct ks_model *m)
{
	size_t p0 = m->n_owners, next;

	for (size_t o = 0; o < m->n_owners; o++)
		if (m->owners[o].kind == KS_OWNER_PSEUDO && p0 == m->n_owners)
			p0 = o;
		else if (m->owners[o].kind != KS_OWNER_PSEUDO && p0 != m->n_owners)
			return -1;
	next = p0 < m->n_owners ? m->owners[p0].first_sym : m->n_syms;
	for (size_t o = p0; o < m->n_owners; o++) {
		if (m->owners[o].first_sym != next || m->owners[o].n_syms > m->n_syms - next)
			return -1;
		next += m->owners[o].n_syms;
	}
	return next == m->n_syms ? (ssize_t)p0 : -1;
}

int ks_model_apply_ksyms(struct ks_model *m, const struct ks_kevent *evs, size_t n,
			 const struct ks_dyn_env *env, struct ks_dyn_map *map,
			 struct ks_error *err)
{
	struct tail t = { .o = NULL };
	struct commit c = { .owners = NULL };
	struct ks_sym *syms = m->syms;
	struct ks_owner *owners = m->owners;
	bool committed = false;
	ssize_t p0 = first_pseudo(m);
	size_t t0;
	int r = 0;

	if (map)
		memset(map, 0, sizeof(*map));
	if (p0 < 0 || m->n_syms >= UINT32_MAX / 2)
		return ks_error_set(err, ESTALE, "ksymbol: the model's pseudo-modules are not its tail");
	t0 = (size_t)p0 < m->n_owners ? m->owners[p0].first_sym : m->n_syms;
	if (tail_load(&t, m, (size_t)p0) < 0) {
		r = ks_error_set(err, ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		const struct ks_kevent *ev = &evs[i];
		const char *why, *tag;

		switch (ks_dyn_policy(ev, env, &why)) {
		case KS_DYN_SKIP:
			continue;
		case KS_DYN_REREAD:
			r = ks_error_set(err, ESTALE, "ksymbol %s: %s",
					 ks_dyn_is_ksym(ev) && ev->ksym.name ? ev->ksym.name : "-",
					 why);
			goto out;
		case KS_DYN_APPLY:
			break;
		}
		tag = ks_dyn_owner_tag(ev);
		if (ev->kind == KS_KEVENT_KSYM_ADD)
			r = tail_add(&t, ev, tag, err);
		else
			r = tail_remove(&t, ev, tag, err);
		if (r < 0)
			goto out;
	}
	if (!t.changed) {
		r = 1;
		goto out;
	}
	r = commit_prepare(&c, &t, m, (size_t)p0, t0);
	/* Room for a few more at once: a load after a load should not copy
	 * the kernel's symbols (as realloc does where it cannot remap). */
	if (r == 0 && (c.n_syms + 1) * sizeof(*syms) > malloc_usable_size(m->syms))
		r = (syms = realloc(m->syms, (c.n_syms + 64) * sizeof(*syms))) ? 0 : -ENOMEM;
	if (r == 0 && (size_t)p0 + c.n_owners > m->n_owners)
		r = (owners = realloc(m->owners, ((size_t)p0 + c.n_owners) * sizeof(*owners))) ?
			    0 : -ENOMEM;
	if (r == 0 && map)
		r = map_fill(map, &t, (size_t)p0, t0, c.n_tail, c.n_owners);
	if (r < 0) {
		/* A grown array is the model's as it was, only bigger. */
		m->syms = syms ? syms : m->syms;
		m->owners = owners ? owners : m->owners;
		r = ks_error_set(err, ENOMEM, "out of memory");
		goto out;
	}
	commit_apply(&c, &t, m, syms, owners, (size_t)p0, t0);
	committed = true;
out:
	commit_release(&c);
	tail_release(&t, committed);
	return r;
}
