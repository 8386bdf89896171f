/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * lookup: address -> symbol through libksyms, beside the same
 * lookups done the way perf does them without /dev/ksyms (read
 * /proc/kallsyms, parse, sort by address, each symbol ending where the next
 * begins, binary search). Both sides include getting ready. Reports only.
 *
 * Usage: lookup [-n LOOKUPS] [-r ROUNDS] [IMAGE]
 * IMAGE (ksymsd --dump output) defaults to a snapshot of the running
 * kernel taken with the core's ks_snapshot_take(), handed to libksyms as a
 * file (/proc/self/fd/N of its memfd) since this host has no /dev/ksyms.
 * The lookup addresses are random points inside random /proc/kallsyms
 * symbols, the same list for both.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "libksyms.h"
#include "engine/snapshot.h"

struct ksym {
	uint64_t start, end;
	char *name;
};

struct kallsyms {
	struct ksym *v;
	size_t n;
	char *text;
};

static double now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static int cmp_start(const void *a, const void *b)
{
	const struct ksym *x = a, *y = b;

	return (x->start > y->start) - (x->start < y->start);
}

/* Whole file, then lines in place: what perf's kallsyms__parse amounts to. */
static int kallsyms_load(struct kallsyms *ks)
{
	size_t cap = 1 << 17, len = 0, nsyms = 0, vcap = 1 << 17;
	FILE *f = fopen("/proc/kallsyms", "r");
	char *p, *nl, *end;
	size_t got;

	if (!f)
		return -errno;
	ks->text = malloc(cap);
	ks->v = malloc(vcap * sizeof(*ks->v));
	while (ks->text && ks->v && (got = fread(ks->text + len, 1, cap - len - 1, f)) > 0) {
		len += got;
		if (cap - len - 1 == 0)
			ks->text = realloc(ks->text, cap *= 2);
	}
	fclose(f);
	if (!ks->text || !ks->v)
		return -ENOMEM;
	ks->text[len] = '\0';
	for (p = ks->text; *p; p = nl + 1) {
		nl = strchr(p, '\n');
		if (!nl)
			break;
		*nl = '\0';
		if (nsyms == vcap && !(ks->v = realloc(ks->v, (vcap *= 2) * sizeof(*ks->v))))
			return -ENOMEM;
		ks->v[nsyms].start = strtoull(p, &end, 16);
		/* " T name\t[module]": the name is after the type letter. */
		if (end[0] != ' ' || !end[1] || end[2] != ' ')
			continue;
		ks->v[nsyms].name = end + 3;
		end = strchr(end + 3, '\t');
		if (end)
			*end = '\0';
		nsyms++;
	}
	qsort(ks->v, nsyms, sizeof(*ks->v), cmp_start);
	/* perf's symbols__fixup_end: each ends where the next starts. */
	for (size_t i = 0; i < nsyms; i++)
		ks->v[i].end = i + 1 < nsyms ? ks->v[i + 1].start : ks->v[i].start + 4096;
	ks->n = nsyms;
	return 0;
}

static const struct ksym *kallsyms_find(const struct kallsyms *ks, uint64_t addr)
{
	size_t lo = 0, hi = ks->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (ks->v[mid].start <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0 || addr >= ks->v[lo - 1].end)
		return NULL;
	return &ks->v[lo - 1];
}

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

int main(int argc, char **argv)
{
	size_t n_lookups = 2000000, hits_k = 0, hits_l = 0, agree = 0;
	struct ks_snapshot *snap = NULL;
	struct ks_error err = { 0 };
	struct kallsyms ks = { 0 };
	int rounds = 5, c, r;
	uint64_t seed = 88172645463325252ull, *addrs;
	double t0, t_snap = 0, t_open = 1e30, t_index = 1e30, t_kload = 1e30;
	double t_klook = 1e30, t_llook = 1e30;
	char path[64];
	const char *image;
	struct ksyms *k = NULL;

	while ((c = getopt(argc, argv, "n:r:")) != -1) {
		if (c == 'n')
			n_lookups = strtoul(optarg, NULL, 10);
		else if (c == 'r')
			rounds = atoi(optarg);
		else {
			fprintf(stderr, "usage: %s [-n LOOKUPS] [-r ROUNDS] [IMAGE]\n", argv[0]);
			return 2;
		}
	}
	if (rounds < 1)
		rounds = 1;
	if (optind < argc) {
		image = argv[optind];
	} else {
		struct ks_root root;
		struct ks_snapshot_opts opts = { .root = &root };

		if (ks_root_open(&root, "/", &err) < 0) {
			fprintf(stderr, "lookup: %s\n", err.msg);
			return 1;
		}
		t0 = now_ms();
		r = ks_snapshot_take(&opts, &snap, &err);
		ks_root_close(&root);
		t_snap = now_ms() - t0;
		if (r < 0) {
			fprintf(stderr, "lookup: snapshot: %s\n", err.msg);
			return 1;
		}
		snprintf(path, sizeof(path), "/proc/self/fd/%d", ks_snapshot_fd(snap));
		image = path;
	}

	/* Best of ROUNDS for each way of getting ready. */
	for (int i = 0; i < rounds; i++) {
		double t1, t2;

		t0 = now_ms();
		k = ksyms_open(image, 0);
		t1 = now_ms();
		if (!k || ksyms_count(k) < 0) {
			fprintf(stderr, "lookup: %s: %s\n", image, strerror(errno));
			return 1;
		}
		t2 = now_ms();
		t_open = t1 - t0 < t_open ? t1 - t0 : t_open;
		t_index = t2 - t1 < t_index ? t2 - t1 : t_index;
		if (i + 1 < rounds)
			ksyms_close(k);

		if (i) {
			free(ks.v);
			free(ks.text);
		}
		t0 = now_ms();
		r = kallsyms_load(&ks);
		t1 = now_ms() - t0;
		if (r < 0) {
			fprintf(stderr, "lookup: /proc/kallsyms: %s\n", strerror(-r));
			return 1;
		}
		t_kload = t1 < t_kload ? t1 : t_kload;
	}

	addrs = malloc(n_lookups * sizeof(*addrs));
	if (!addrs || ks.n < 2)
		return 1;
	for (size_t i = 0; i < n_lookups; i++) {
		const struct ksym *s = &ks.v[rnd(&seed) % (ks.n - 1)];
		uint64_t span = s->end - s->start;

		addrs[i] = s->start + (span ? rnd(&seed) % span : 0);
	}

	for (int i = 0; i < rounds; i++) {
		struct ksyms_sym sym;
		size_t h = 0, a = 0;
		double t;

		t0 = now_ms();
		for (size_t j = 0; j < n_lookups; j++)
			h += kallsyms_find(&ks, addrs[j]) != NULL;
		t = now_ms() - t0;
		t_klook = t < t_klook ? t : t_klook;
		hits_k = h;

		h = 0;
		t0 = now_ms();
		for (size_t j = 0; j < n_lookups; j++)
			h += ksyms_lookup_addr(k, addrs[j], &sym, NULL) == 0;
		t = now_ms() - t0;
		t_llook = t < t_llook ? t : t_llook;
		hits_l = h;

		/* Agreement, untimed: the same symbol start for each address. */
		for (size_t j = 0; i == 0 && j < n_lookups; j++) {
			const struct ksym *s = kallsyms_find(&ks, addrs[j]);

			if (s && ksyms_lookup_addr(k, addrs[j], &sym, NULL) == 0 &&
			    sym.value == s->start)
				a++;
		}
		if (i == 0)
			agree = a;
	}

	printf("image: %zu bytes, %ld symbols; /proc/kallsyms: %zu symbols\n",
	       ksyms_size(k), ksyms_count(k), ks.n);
	if (snap)
		printf("snapshot (what the daemon does at open): %.1f ms\n", t_snap);
	printf("get ready (best of %d):\n", rounds);
	printf("  libksyms: open+copy %.2f ms + index %.2f ms = %.2f ms\n",
	       t_open, t_index, t_open + t_index);
	printf("  perf-style: read+parse+sort /proc/kallsyms %.2f ms\n", t_kload);
	printf("lookups (%zu random addresses, best of %d):\n", n_lookups, rounds);
	printf("  libksyms:   %.1f M/s (%zu hits)\n", n_lookups / t_llook / 1e3, hits_l);
	printf("  perf-style: %.1f M/s (%zu hits)\n", n_lookups / t_klook / 1e3, hits_k);
	printf("  same symbol start: %zu of %zu\n", agree, n_lookups);
	if (agree < n_lookups / 2)
		printf("  (the image is not of the running kernel: its lookups miss)\n");
	ksyms_close(k);
	free(ks.v);
	free(ks.text);
	free(addrs);
	ks_snapshot_unref(snap);
	return 0;
}
