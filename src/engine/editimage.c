/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * An editable image (editimage.h): a model and the .strtab of its last image.
 *
 * The table is strtab.c's, merged once, then a tail of appended names;
 * off[] has each name's offset, numbered as strtab.h numbers them for the
 * current model. A batch of records changes only the model's tail (see
 * dynsyms.c), and its map says where each symbol and owner from there on
 * came from: their offsets are carried over, and a new name is appended
 * (or found among those appended before: the same trampoline name comes
 * and goes).
 */
#include "editimage.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "elfimage.h"
#include "strtab.h"

#define TAIL_MERGE_MIN ((size_t)64 << 10)

struct ks_editimage {
	struct ks_model m;
	struct ks_dyn_env env;
	struct ks_strtab *base;
	size_t base_size;
	uint32_t *off;		/* m.n_syms + m.n_owners */
	size_t off_cap;
	char *tail;		/* appended names, each with its NUL */
	size_t tail_len, tail_cap;
};

static int off_reserve(struct ks_editimage *ei, size_t n)
{
	uint32_t *grown;

	if (n <= ei->off_cap)
		return 0;
	grown = realloc(ei->off, (n + 16) * sizeof(*grown));
	if (!grown)
		return -ENOMEM;
	ei->off = grown;
	ei->off_cap = n + 16;
	return 0;
}

/* Merge every name of the model afresh, dropping the tail. */
static int merge(struct ks_editimage *ei, struct ks_error *err)
{
	struct ks_strtab *st;
	size_t n = ei->m.n_syms + ei->m.n_owners;
	int r;

	r = ks_strtab_new(&st, &ei->m, NULL, err);
	if (r < 0)
		return r;
	if (off_reserve(ei, n) < 0) {
		ks_strtab_free(st);
		return ks_error_set(err, ENOMEM, "out of memory");
	}
	memcpy(ei->off, ks_strtab_offsets(st), n * sizeof(*ei->off));
	ks_strtab_free(ei->base);
	ei->base = st;
	ei->base_size = ks_strtab_size(st);
	ei->tail_len = 0;
	return 0;
}

/* The offset of name (len bytes, NUL-terminated) in the table, appended
 * unless the tail has it. */
static int append(struct ks_editimage *ei, const char *name, size_t len, uint32_t *off)
{
	/* A tail-shared copy ("foo\0" ending "barfoo\0") is as good. */
	const char *hit = ei->tail_len ? memmem(ei->tail, ei->tail_len, name, len + 1) : NULL;

	if (hit) {
		*off = (uint32_t)(ei->base_size + (size_t)(hit - ei->tail));
		return 0;
	}
	if (ei->base_size + ei->tail_len + len + 1 >= UINT32_MAX)
		return -E2BIG;
	if (len + 1 > ei->tail_cap - ei->tail_len) {
		size_t cap = (ei->tail_cap + len + 1) * 2;
		char *grown = realloc(ei->tail, cap);

		if (!grown)
			return -ENOMEM;
		ei->tail = grown;
		ei->tail_cap = cap;
	}
	memcpy(ei->tail + ei->tail_len, name, len + 1);
	*off = (uint32_t)(ei->base_size + ei->tail_len);
	ei->tail_len += len + 1;
	return 0;
}

int ks_editimage_new(struct ks_editimage **out, struct ks_model *m, const struct ks_dyn_env *env,
		   struct ks_error *err)
{
	struct ks_editimage *ei = calloc(1, sizeof(*ei));
	int r;

	*out = NULL;
	if (!ei)
		return ks_error_set(err, ENOMEM, "out of memory");
	ei->m = *m;
	memset(m, 0, sizeof(*m));
	ei->env = *env;
	ks_dyn_env_model(&ei->env, &ei->m);
	r = merge(ei, err);
	if (r < 0) {
		ks_editimage_free(ei);
		return r;
	}
	*out = ei;
	return 0;
}

bool ks_editimage_current(const struct ks_editimage *ei, const struct ks_dyn_env *env)
{
	struct ks_dyn_env now = *env;

	/* kcfi is the model's, not something read. */
	now.kcfi = ei->env.kcfi;
	return ks_dyn_env_same(&ei->env, &now);
}

/* Carry the offsets over the map, appending the new names. */
static int renumber(struct ks_editimage *ei, const struct ks_dyn_map *map, size_t old_syms,
		    size_t old_owners, struct ks_error *err)
{
	const struct ks_model *m = &ei->m;
	size_t kept = old_syms - map->first_sym;
	uint32_t *saved = malloc((kept + old_owners + 1) * sizeof(*saved));
	int r = 0;

	if (!saved || off_reserve(ei, m->n_syms + m->n_owners) < 0) {
		r = ks_error_set(err, ENOMEM, "out of memory");
		goto out;
	}
	memcpy(saved, ei->off + map->first_sym, kept * sizeof(*saved));
	memcpy(saved + kept, ei->off + old_syms, old_owners * sizeof(*saved));
	for (size_t i = 0; i < map->n_sym_from && r == 0; i++) {
		const struct ks_sym *s = &m->syms[map->first_sym + i];
		uint32_t from = map->sym_from[i];

		if (from == KS_DYN_NEW)
			r = append(ei, s->name, s->name_len, &ei->off[map->first_sym + i]);
		else
			ei->off[map->first_sym + i] = saved[from - map->first_sym];
	}
	for (size_t o = 0; o < m->n_owners && r == 0; o++) {
		uint32_t from = o < map->first_owner ? (uint32_t)o : map->owner_from[o - map->first_owner];

		if (from == KS_DYN_NEW)
			r = append(ei, m->owners[o].name, strlen(m->owners[o].name),
				   &ei->off[m->n_syms + o]);
		else
			ei->off[m->n_syms + o] = saved[kept + from];
	}
	if (r < 0)
		r = ks_error_set(err, -r, "string table: %s", strerror(-r));
out:
	free(saved);
	return r;
}

int ks_editimage_apply(struct ks_editimage *ei, const struct ks_kevent *evs, size_t n,
		     struct ks_error *err)
{
	size_t old_syms = ei->m.n_syms, old_owners = ei->m.n_owners, limit;
	struct ks_dyn_map map;
	int r;

	r = ks_model_apply_ksyms(&ei->m, evs, n, &ei->env, &map, err);
	if (r != 0)
		return r;
	r = renumber(ei, &map, old_syms, old_owners, err);
	ks_dyn_map_release(&map);
	if (r < 0)
		return r;
	/* Names of removed symbols stay in the tail: bound what they waste. */
	limit = ei->base_size / 16 > TAIL_MERGE_MIN ? ei->base_size / 16 : TAIL_MERGE_MIN;
	if (ei->tail_len > limit)
		r = merge(ei, err);
	return r;
}

int ks_editimage_write(const struct ks_editimage *ei, int fd, size_t *size, struct ks_error *err)
{
	const struct ks_elfimage_strtab names = {
		.base = ei->base, .tail = ei->tail, .tail_len = ei->tail_len, .off = ei->off,
	};

	return ks_elfimage_write_with(&ei->m, &names, fd, size, err);
}

const struct ks_model *ks_editimage_model(const struct ks_editimage *ei)
{
	return &ei->m;
}

size_t ks_editimage_appended(const struct ks_editimage *ei)
{
	return ei->tail_len;
}

void ks_editimage_free(struct ks_editimage *ei)
{
	if (!ei)
		return;
	ks_model_release(&ei->m);
	ks_strtab_free(ei->base);
	free(ei->off);
	free(ei->tail);
	free(ei);
}
