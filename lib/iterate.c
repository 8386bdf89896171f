/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * libksyms' table API: owners, symbols by number, kallsyms letters
 * (libksyms.h). The table (owners.c) is built once, after the lookups'
 * index has checked the image, and published like that index.
 */
#include <errno.h>
#include <stdlib.h>

#include "handle.h"
#include "owners.h"

/* 0, or a negative errno. */
static int table_ready(struct ksyms *k)
{
	struct ksi_table *t;
	int r;

	if (__atomic_load_n(&k->table, __ATOMIC_ACQUIRE))
		return 0;
	/* The checks symindex makes, without building it. */
	r = ksi_prepared(k);
	if (r < 0)
		return r;
	pthread_mutex_lock(&k->lock);
	r = k->table_err;
	if (!k->table && !r) {
		t = calloc(1, sizeof(*t));
		r = t ? ksi_table_build(t, k->map, k->size) : -ENOMEM;
		if (r == 0)
			__atomic_store_n(&k->table, t, __ATOMIC_RELEASE);
		else
			free(t);
		k->table_err = r;
	}
	pthread_mutex_unlock(&k->lock);
	return r;
}

static long fail(int r)
{
	errno = -r;
	return -1;
}

long ksi_table_count(struct ksyms *k)
{
	int r = table_ready(k);

	return r < 0 ? fail(r) : (long)k->table->n;
}

KSYMS_EXPORT long ksyms_owner_count(struct ksyms *k)
{
	int r = table_ready(k);

	return r < 0 ? fail(r) : (long)k->table->nowners;
}

KSYMS_EXPORT const struct ksyms_owner *ksyms_owner(struct ksyms *k, size_t i)
{
	int r = table_ready(k);

	if (r == 0 && i >= k->table->nowners)
		r = -ENOENT;
	if (r < 0) {
		errno = -r;
		return NULL;
	}
	return &k->table->owners[i];
}

KSYMS_EXPORT long ksyms_owner_of(struct ksyms *k, const struct ksyms_sym *sym)
{
	const char *strtab;
	long o;
	int r = table_ready(k);

	if (r < 0)
		return fail(r);
	/* The name must be the image's own: its offset is the key. */
	strtab = k->table->strtab;
	if (!sym || !sym->name || sym->name < strtab ||
	    (const char *)sym->name >= (const char *)k->map + k->size)
		return fail(-ENOENT);
	o = ksi_table_owner_of(k->table, sym->shndx, sym->value, (uint32_t)(sym->name - strtab));
	return o < 0 ? fail((int)o) : o;
}

KSYMS_EXPORT int ksyms_symbol(struct ksyms *k, size_t i, struct ksyms_sym *sym)
{
	GElf_Sym s;
	int r = table_ready(k);

	if (r == 0 && i >= k->table->n)
		r = -ENOENT;
	if (r == 0)
		r = ksi_table_symbol(k->table, i, &s);
	if (r < 0)
		return (int)fail(r);
	if (sym)
		ksi_fill(k, &s, k->table->strtab + s.st_name, sym);
	return 0;
}

KSYMS_EXPORT long ksyms_symbol_owner(struct ksyms *k, size_t i)
{
	int r = table_ready(k);

	if (r == 0 && i >= k->table->n)
		r = -ENOENT;
	return r < 0 ? fail(r) : (long)k->table->owner_of[i];
}

KSYMS_EXPORT int ksyms_symbol_letter(struct ksyms *k, size_t i)
{
	int r = table_ready(k);

	if (r == 0 && i >= k->table->n)
		r = -ENOENT;
	return r < 0 ? (int)fail(r) : (unsigned char)k->table->letters[i];
}

KSYMS_EXPORT int ksyms_letters_recorded(struct ksyms *k)
{
	int r = table_ready(k);

	return r < 0 ? (int)fail(r) : k->table->recorded != NULL;
}
