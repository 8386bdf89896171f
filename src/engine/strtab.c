/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The string table of an image, names shared by their tails.
 *
 * Tail merging: a name that ends another one is not stored again but points
 * into it ("foo" is stored inside "__pfx_foo"), and a name that occurs twice
 * (__this_module, in every module) is stored once. dwelf_strtab does it.
 *
 * Buckets: one dwelf_strtab for all of a kernel's names is slow: it keeps an
 * unbalanced tree on the reversed strings, a cache miss a level. A name can
 * only be the tail of another if both end in the same bytes, so names are
 * split into buckets by a hash of their last STR_KEY bytes and each bucket
 * gets its own small dwelf_strtab; the table is the buckets' tables one after
 * the other, in bucket order. Only names shorter than STR_KEY can miss a
 * sharing (their key is shorter than the longer name's), which costs little.
 *
 * Threads: the merging is most of an image's cost and the buckets are
 * independent, so for a big table the buckets are cut in two runs of about
 * the same number of names, merged at once on this thread and a second one,
 * each into a buffer of its own. The table is then "" and the two buffers:
 * the same bytes as one run over all buckets. Below STR_PARALLEL_MIN names a
 * thread costs more than it saves.
 *
 * Arena: the names are first copied into one buffer bucket by bucket, read
 * in model order, mostly the order of the kallsyms text. Fed to dwelf
 * straight from where they live, bucket by bucket, the random access costs
 * more than the copy (TLB misses; prefetching recovers only part of it).
 */
#include "strtab.h"

#include <elfutils/libdwelf.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define STR_KEY 8		/* bytes of a name's tail that pick its bucket */
#define STR_BUCKET_BITS 14	/* a handful of names a bucket for a big kernel */
#define STR_BUCKETS (1u << STR_BUCKET_BITS)
#define STR_PARALLEL_MIN 16384	/* names; fewer stay on one thread */

/* The non-empty names grouped by bucket ("entries"): what the merge reads. */
struct plan {
	uint32_t *bucket_end;	/* bucket b: entries up to bucket_end[b] */
	uint32_t *order;	/* per entry: the name's number */
	uint16_t *lens;		/* per entry: its length */
	char *arena;		/* the entries' names with NULs, bucket after bucket */
	size_t biggest;		/* entries in the biggest bucket */
};

/*
 * A run of buckets [b0, b1) tail-merged into one buffer, on one thread.
 * off[] of each entry is set relative to the buffer's start; the caller adds
 * where the buffer lands.
 */
struct run {
	const struct plan *plan;
	uint32_t *off;
	unsigned int b0, b1;
	size_t e0;		/* the first entry of bucket b0 */
	const char *name;	/* and where its name is in the arena */
	char *buf;
	size_t len, cap;
	bool failed;		/* out of memory */
};

struct ks_strtab {
	uint32_t *off;		/* per name */
	char *buf[2];		/* the two runs' names, after the leading "" */
	size_t len[2];
	size_t size;
};

static unsigned int str_bucket(const char *s, size_t len)
{
	uint64_t key = 0;
	size_t n = len < STR_KEY ? len : STR_KEY;

	memcpy(&key, s + len - n, n);
	return (key * 0x9e3779b97f4a7c15ull) >> (64 - STR_BUCKET_BITS);
}

static void plan_release(struct plan *p)
{
	free(p->bucket_end);
	free(p->order);
	free(p->lens);
	free(p->arena);
}

/* Name id: the symbols', then the owners' (checked to have one). */
static inline const char *name_of(const struct ks_model *m, size_t id, size_t *len)
{
	if (id < m->n_syms) {
		*len = m->syms[id].name_len;
		return m->syms[id].name;
	}
	*len = strlen(m->owners[id - m->n_syms].name);
	return m->owners[id - m->n_syms].name;
}

/*
 * Copy the names into the arena grouped by bucket, in model order within a
 * bucket (each dwelf_strtab sees them in the order of the kallsyms text).
 * Empty names are left out: they keep offset 0, the leading NUL.
 */
static int plan_names(struct plan *p, const struct ks_model *m, size_t n, struct ks_error *err)
{
	uint16_t *bucket = malloc((n + 1) * sizeof(*bucket));
	uint32_t *end, *at = calloc(STR_BUCKETS + 1, sizeof(*at));
	size_t total = 0;
	int ret = 0;

	p->order = malloc((n + 1) * sizeof(*p->order));
	p->lens = malloc((n + 1) * sizeof(*p->lens));
	p->bucket_end = end = calloc(STR_BUCKETS + 1, sizeof(*end));
	if (!bucket || !at || !p->order || !p->lens || !end) {
		ret = ks_error_set(err, ENOMEM, "string table for %zu names: out of memory", n);
		goto out;
	}
	/* Pass 1: entries and bytes per bucket. */
	for (size_t id = 0; id < n; id++) {
		size_t len;
		const char *s = name_of(m, id, &len);

		if (!len)
			continue;
		if (!s) {
			ret = ks_error_set(err, EINVAL, "string table: symbol %zu has no name", id);
			goto out;
		}
		if (len > UINT16_MAX) {
			ret = ks_error_set(err, E2BIG, "string table: owner %zu: name of %zu bytes",
					   id - m->n_syms, len);
			goto out;
		}
		bucket[id] = str_bucket(s, len);
		end[bucket[id] + 1]++;
		at[bucket[id] + 1] += len + 1;
		total += len + 1;
	}
	if (total >= UINT32_MAX) {
		ret = ks_error_set(err, E2BIG, "string table: %zu bytes of names", total);
		goto out;
	}
	for (unsigned int b = 0; b < STR_BUCKETS; b++) {
		if (end[b + 1] > p->biggest)
			p->biggest = end[b + 1];
		end[b + 1] += end[b];
		at[b + 1] += at[b];
	}
	p->arena = malloc(total + 1);
	if (!p->arena) {
		ret = ks_error_set(err, ENOMEM, "string table for %zu names: out of memory", n);
		goto out;
	}
	/* Pass 2: reads the names in order, writes each where it goes. */
	for (size_t id = 0; id < n; id++) {
		size_t len;
		const char *s = name_of(m, id, &len);
		uint32_t j;

		if (!len)
			continue;
		j = end[bucket[id]]++;
		p->order[j] = id;
		p->lens[j] = len;
		memcpy(p->arena + at[bucket[id]], s, len);
		p->arena[at[bucket[id]] + len] = '\0';
		at[bucket[id]] += len + 1;
	}
	/* end[b] is now where bucket b ends. */
out:
	free(at);
	free(bucket);
	return ret;
}

static bool run_append(struct run *r, const void *p, size_t len)
{
	if (len > r->cap - r->len) {
		size_t cap = (r->cap + len) * 2;
		char *grown = realloc(r->buf, cap);

		if (!grown)
			return false;
		r->buf = grown;
		r->cap = cap;
	}
	memcpy(r->buf + r->len, p, len);
	r->len += len;
	return true;
}

/* The thread function, called on this thread too. */
static void *run_merge(void *arg)
{
	struct run *r = arg;
	const struct plan *p = r->plan;
	Dwelf_Strent **ents = malloc((p->biggest + 1) * sizeof(*ents));
	const char *name = r->name;
	size_t from = r->e0;
	Dwelf_Strtab *st = NULL;
	Elf_Data d;

	if (!ents) {
		r->failed = true;
		goto out;
	}
	for (unsigned int b = r->b0; b < r->b1; from = p->bucket_end[b++]) {
		size_t to = p->bucket_end[b];
		bool ok;

		if (to == from)
			continue;
		/* No null entry: byte 0 of the table is the one "". */
		st = dwelf_strtab_init(false);
		if (!st) {
			r->failed = true;
			goto out;
		}
		for (size_t j = from; j < to; name += p->lens[j++] + 1) {
			ents[j - from] = dwelf_strtab_add_len(st, name, p->lens[j] + 1);
			if (!ents[j - from]) {
				r->failed = true;
				goto out;
			}
		}
		if (!dwelf_strtab_finalize(st, &d)) {
			r->failed = true;
			goto out;
		}
		for (size_t j = from; j < to; j++)
			r->off[p->order[j]] = (uint32_t)(r->len + dwelf_strent_off(ents[j - from]));
		ok = run_append(r, d.d_buf, d.d_size);
		free(d.d_buf);
		dwelf_strtab_free(st);
		st = NULL;
		if (!ok) {
			r->failed = true;
			goto out;
		}
	}
out:
	if (st)
		dwelf_strtab_free(st);
	free(ents);
	return NULL;
}

/* Merge the buckets, on two threads for a big table, and set the offsets. */
static int merge(struct ks_strtab *st, const struct plan *p, unsigned int threads,
		 struct ks_error *err)
{
	size_t total = p->bucket_end[STR_BUCKETS - 1];
	unsigned int split = STR_BUCKETS;
	struct run run[2];
	bool threaded = false;
	pthread_t worker;
	int ret = 0;

	/* Split where the first run holds about half of the names. */
	if (threads ? threads > 1 : total >= STR_PARALLEL_MIN) {
		for (split = 0; split < STR_BUCKETS && p->bucket_end[split] < total / 2; split++)
			;
		split++;
	}
	run[0] = (struct run){ .plan = p, .off = st->off, .b0 = 0, .b1 = split, .name = p->arena };
	run[1] = (struct run){ .plan = p, .off = st->off, .b0 = split, .b1 = STR_BUCKETS,
			       .e0 = total };
	if (split < STR_BUCKETS) {
		size_t skip = 0;

		run[1].e0 = p->bucket_end[split - 1];
		for (size_t j = 0; j < run[1].e0; j++)
			skip += p->lens[j] + 1u;
		run[1].name = p->arena + skip;
		threaded = pthread_create(&worker, NULL, run_merge, &run[1]) == 0;
	}
	run_merge(&run[0]);
	if (split < STR_BUCKETS) {
		if (threaded)
			pthread_join(worker, NULL);
		else
			run_merge(&run[1]);
	}
	for (int k = 0; k < 2; k++) {
		st->buf[k] = run[k].buf;
		st->len[k] = run[k].len;
	}
	if (run[0].failed || run[1].failed) {
		ret = ks_error_set(err, ENOMEM, "string table: out of memory");
		goto out;
	}
	/* Place the runs after the leading NUL, one after the other. */
	for (size_t j = 0; j < run[1].e0; j++)
		st->off[p->order[j]] += 1;
	for (size_t j = run[1].e0; j < total; j++)
		st->off[p->order[j]] += (uint32_t)(1 + run[0].len);
	st->size = 1 + run[0].len + run[1].len;
out:
	return ret;
}

int ks_strtab_new(struct ks_strtab **stp, const struct ks_model *m,
		  const struct ks_strtab_opts *opts, struct ks_error *err)
{
	size_t n = m->n_syms + m->n_owners;
	struct plan plan = { .bucket_end = NULL };
	struct ks_strtab *st = NULL;
	int ret;

	*stp = NULL;
	if (n >= UINT32_MAX) {
		ret = ks_error_set(err, E2BIG, "string table: %zu symbols, %zu owners",
				   m->n_syms, m->n_owners);
		goto out;
	}
	for (size_t o = 0; o < m->n_owners; o++) {
		if (!m->owners[o].name) {
			ret = ks_error_set(err, EINVAL, "string table: owner %zu has no name", o);
			goto out;
		}
	}
	st = calloc(1, sizeof(*st));
	if (st)
		st->off = calloc(n + 1, sizeof(*st->off));
	if (!st || !st->off) {
		ret = ks_error_set(err, ENOMEM, "string table for %zu names: out of memory", n);
		goto out;
	}
	ret = plan_names(&plan, m, n, err);
	if (ret < 0)
		goto out;
	ret = merge(st, &plan, opts ? opts->threads : 0, err);
	if (ret < 0)
		goto out;
	*stp = st;
	st = NULL;
out:
	plan_release(&plan);
	ks_strtab_free(st);
	return ret;
}

const uint32_t *ks_strtab_offsets(const struct ks_strtab *st)
{
	return st->off;
}

size_t ks_strtab_size(const struct ks_strtab *st)
{
	return st->size;
}

const void *ks_strtab_piece(const struct ks_strtab *st, size_t k, size_t *len)
{
	switch (k) {
	case 0:
		*len = 1;
		return "";
	case 1:
	case 2:
		*len = st->len[k - 1];
		return st->buf[k - 1] ? st->buf[k - 1] : "";
	default:
		*len = 0;
		return NULL;
	}
}

void ks_strtab_free(struct ks_strtab *st)
{
	if (!st)
		return;
	free(st->off);
	free(st->buf[0]);
	free(st->buf[1]);
	free(st);
}
