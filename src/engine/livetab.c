/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The live table (livetab.h): a model and the .strtab of its last image.
 *
 * The table is strtab.c's, merged once, then a tail of appended names;
 * off[] has each name's offset, numbered as strtab.h numbers them for the
 * current model. A batch of records changes only the model's tail (see
 * dynsyms.c), and its map says where each symbol and owner from there on
 * came from: their offsets are carried over, and a new name is appended
 * (or found among those appended before: the same trampoline name comes
 * and goes).
 */
#include "livetab.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "elfimage.h"
#include "strtab.h"

#define TAIL_MERGE_MIN ((size_t)64 << 10)

struct ks_livetab {
	struct ks_model m;
	struct ks_dyn_env env;
	struct ks_strtab *base;
	size_t base_size;
	uint32_t *off;		/* m.n_syms + m.n_owners */
	size_t off_cap;
	char *tail;		/* appended names, each with its NUL */
	size_t tail_len, tail_cap;
};

static int off_reserve(struct ks_livetab *lt, size_t n)
{
	uint32_t *grown;

	if (n <= lt->off_cap)
		return 0;
	grown = realloc(lt->off, (n + 16) * sizeof(*grown));
	if (!grown)
		return -ENOMEM;
	lt->off = grown;
	lt->off_cap = n + 16;
	return 0;
}

/* Merge every name of the model afresh, dropping the tail. */
static int merge(struct ks_livetab *lt, struct ks_error *err)
{
	struct ks_strtab *st;
	size_t n = lt->m.n_syms + lt->m.n_owners;
	int r;

	r = ks_strtab_new(&st, &lt->m, NULL, err);
	if (r < 0)
		return r;
	if (off_reserve(lt, n) < 0) {
		ks_strtab_free(st);
		return ks_error_set(err, ENOMEM, "out of memory");
	}
	memcpy(lt->off, ks_strtab_offsets(st), n * sizeof(*lt->off));
	ks_strtab_free(lt->base);
	lt->base = st;
	lt->base_size = ks_strtab_size(st);
	lt->tail_len = 0;
	return 0;
}

/* The offset of name (len bytes, NUL-terminated) in the table, appended
 * unless the tail has it. */
static int append(struct ks_livetab *lt, const char *name, size_t len, uint32_t *off)
{
	/* A tail-shared copy ("foo\0" ending "barfoo\0") is as good. */
	const char *hit = lt->tail_len ? memmem(lt->tail, lt->tail_len, name, len + 1) : NULL;

	if (hit) {
		*off = (uint32_t)(lt->base_size + (size_t)(hit - lt->tail));
		return 0;
	}
	if (lt->base_size + lt->tail_len + len + 1 >= UINT32_MAX)
		return -E2BIG;
	if (len + 1 > lt->tail_cap - lt->tail_len) {
		size_t cap = (lt->tail_cap + len + 1) * 2;
		char *grown = realloc(lt->tail, cap);

		if (!grown)
			return -ENOMEM;
		lt->tail = grown;
		lt->tail_cap = cap;
	}
	memcpy(lt->tail + lt->tail_len, name, len + 1);
	*off = (uint32_t)(lt->base_size + lt->tail_len);
	lt->tail_len += len + 1;
	return 0;
}

int ks_livetab_new(struct ks_livetab **out, struct ks_model *m, const struct ks_dyn_env *env,
		   struct ks_error *err)
{
	struct ks_livetab *lt = calloc(1, sizeof(*lt));
	int r;

	*out = NULL;
	if (!lt)
		return ks_error_set(err, ENOMEM, "out of memory");
	lt->m = *m;
	memset(m, 0, sizeof(*m));
	lt->env = *env;
	ks_dyn_env_model(&lt->env, &lt->m);
	r = merge(lt, err);
	if (r < 0) {
		ks_livetab_free(lt);
		return r;
	}
	*out = lt;
	return 0;
}

bool ks_livetab_current(const struct ks_livetab *lt, const struct ks_dyn_env *env)
{
	struct ks_dyn_env now = *env;

	/* kcfi is the model's, not something read. */
	now.kcfi = lt->env.kcfi;
	return ks_dyn_env_same(&lt->env, &now);
}

/* Carry the offsets over the map, appending the new names. */
static int renumber(struct ks_livetab *lt, const struct ks_dyn_map *map, size_t old_syms,
		    size_t old_owners, struct ks_error *err)
{
	const struct ks_model *m = &lt->m;
	size_t kept = old_syms - map->first_sym;
	uint32_t *saved = malloc((kept + old_owners + 1) * sizeof(*saved));
	int r = 0;

	if (!saved || off_reserve(lt, m->n_syms + m->n_owners) < 0) {
		r = ks_error_set(err, ENOMEM, "out of memory");
		goto out;
	}
	memcpy(saved, lt->off + map->first_sym, kept * sizeof(*saved));
	memcpy(saved + kept, lt->off + old_syms, old_owners * sizeof(*saved));
	for (size_t i = 0; i < map->n_sym_from && r == 0; i++) {
		const struct ks_sym *s = &m->syms[map->first_sym + i];
		uint32_t from = map->sym_from[i];

		if (from == KS_DYN_NEW)
			r = append(lt, s->name, s->name_len, &lt->off[map->first_sym + i]);
		else
			lt->off[map->first_sym + i] = saved[from - map->first_sym];
	}
	for (size_t o = 0; o < m->n_owners && r == 0; o++) {
		uint32_t from = o < map->first_owner ? (uint32_t)o : map->owner_from[o - map->first_owner];

		if (from == KS_DYN_NEW)
			r = append(lt, m->owners[o].name, strlen(m->owners[o].name),
				   &lt->off[m->n_syms + o]);
		else
			lt->off[m->n_syms + o] = saved[kept + from];
	}
	if (r < 0)
		r = ks_error_set(err, -r, "string table: %s", strerror(-r));
out:
	free(saved);
	return r;
}

int ks_livetab_apply(struct ks_livetab *lt, const struct ks_kevent *evs, size_t n,
		     struct ks_error *err)
{
	size_t old_syms = lt->m.n_syms, old_owners = lt->m.n_owners, limit;
	struct ks_dyn_map map;
	int r;

	r = ks_model_apply_ksyms(&lt->m, evs, n, &lt->env, &map, err);
	if (r != 0)
		return r;
	r = renumber(lt, &map, old_syms, old_owners, err);
	ks_dyn_map_release(&map);
	if (r < 0)
		return r;
	/* Names of removed symbols stay in the tail: bound what they waste. */
	limit = lt->base_size / 16 > TAIL_MERGE_MIN ? lt->base_size / 16 : TAIL_MERGE_MIN;
	if (lt->tail_len > limit)
		r = merge(lt, err);
	return r;
}

int ks_livetab_write(const struct ks_livetab *lt, int fd, size_t *size, struct ks_error *err)
{
	const struct ks_elfimage_strtab names = {
		.base = lt->base, .tail = lt->tail, .tail_len = lt->tail_len, .off = lt->off,
	};

	return ks_elfimage_write_with(&lt->m, &names, fd, size, err);
}

const struct ks_model *ks_livetab_model(const struct ks_livetab *lt)
{
	return &lt->m;
}

size_t ks_livetab_appended(const struct ks_livetab *lt)
{
	return lt->tail_len;
}

void ks_livetab_free(struct ks_livetab *lt)
{
	if (!lt)
		return;
	ks_model_release(&lt->m);
	ks_strtab_free(lt->base);
	free(lt->off);
	free(lt->tail);
	free(lt);
}
