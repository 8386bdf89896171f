/* SPDX-License-Identifier: BSD-2-Clause */
/* Every symbol of a name (names.h). */
#include "names.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define END UINT32_MAX

struct ksy_names {
	const char **name; /* per table index */
	uint32_t *next;	   /* the next index of the same name, or END */
	uint32_t *head;	   /* per bucket: the first index of a name there */
	size_t mask;
};

/* FNV-1a: names are short, and this runs once per symbol. */
static uint64_t hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
	return h ^ (h >> 29);
}

struct ksy_names *ksy_names_new(struct ksyms *k)
{
	long count = ksyms_count(k);
	struct ksy_names *n;
	uint32_t *tail = NULL;
	struct ksyms_sym s;
	size_t cap = 16;

	if (count < 0)
		return NULL;
	if ((unsigned long)count >= END) {
		errno = E2BIG;
		return NULL;
	}
	while (cap < (size_t)count * 2)
		cap *= 2;
	n = calloc(1, sizeof(*n));
	if (!n)
		return NULL;
	n->mask = cap - 1;
	n->name = malloc(((size_t)count + 1) * sizeof(*n->name));
	n->next = malloc(((size_t)count + 1) * sizeof(*n->next));
	n->head = malloc(cap * sizeof(*n->head));
	tail = malloc(cap * sizeof(*tail)); /* per bucket: the last one, for table order */
	if (!n->name || !n->next || !n->head || !tail)
		goto fail;
	memset(n->head, 0xff, cap * sizeof(*n->head));
	for (size_t i = 0; i < (size_t)count; i++) {
		size_t b;

		if (ksyms_symbol(k, i, &s) < 0)
			goto fail;
		n->name[i] = s.name;
		n->next[i] = END;
		/* Buckets hold several names; a chain links all of a bucket's
		 * symbols, the lookup compares names. Table order either way. */
		b = hash(s.name) & n->mask;
		if (n->head[b] == END)
			n->head[b] = (uint32_t)i;
		else
			n->next[tail[b]] = (uint32_t)i;
		tail[b] = (uint32_t)i;
	}
	free(tail);
	return n;
fail:
	free(tail);
	ksy_names_free(n);
	return NULL;
}

void ksy_names_free(struct ksy_names *n)
{
	int saved = errno;

	if (!n)
		return;
	free(n->name);
	free(n->next);
	free(n->head);
	free(n);
	errno = saved;
}

static size_t from(const struct ksy_names *n, uint32_t i, const char *name)
{
	for (; i != END; i = n->next[i])
		if (strcmp(n->name[i], name) == 0)
			return i;
	return SIZE_MAX;
}

size_t ksy_names_first(const struct ksy_names *n, const char *name)
{
	return from(n, n->head[hash(name) & n->mask], name);
}

size_t ksy_names_next(const struct ksy_names *n, size_t prev)
{
	return from(n, n->next[prev], n->name[prev]);
}
