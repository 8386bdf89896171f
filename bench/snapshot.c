/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * bench/snapshot: what a snapshot costs beside the kernel's own work.
 *
 * Alternates, N times: (a) read /proc/kallsyms to the end, nothing else;
 * (b) take a full snapshot, built from scratch (kallsyms, modules, model,
 * ELF image, sealed memfd); (c) take a snapshot as the daemon does, with
 * its cache, which shares the last image when kallsyms and the modules are
 * unchanged; (d) an open through the live table (engine/table.c) of an
 * unchanged kernel, which drains the kernel's announcements and shares the
 * current image without reading. Prints the medians and the ratios to (a).
 * Goal for (d): <= 0.10x.
 * Usage: snapshot [-n N] [-r ROOT] [-u]
 * -u leaves malloc as glibc has it (the daemon tunes it: src/daemon/memtune.h).
 */
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "benchutil.h"

#include "daemon/memtune.h"
#include "engine/snapshot.h"
#include "engine/table.h"

int main(int argc, char **argv)
{
	const char *root_path = "/";
	struct ks_error err = { 0 };
	struct ks_root root;
	size_t cap = (size_t)64 << 20;
	char *buf = malloc(cap);
	int n = 21;
	double *t_read, *t_snap, *t_warm, *t_live;
	struct ks_table_opts topts = { .root = &root,
				       .sources = KS_KEVENTS_UEVENT | KS_KEVENTS_KSYMBOL };
	struct ks_table *table = NULL;
	struct ks_table_stats tst = { 0 };
	bool live;
	struct ks_snapshot_cache *cache = ks_snapshot_cache_new();
	size_t bytes = 0, image = 0, syms = 0;
	bool tune = true;

	if (bench_options(argc, argv, &n, &root_path, &tune))
		return 2;
	/* malloc as the daemon has it, unless -u. */
	if (tune)
		ks_malloc_tune();
	if (ks_root_open(&root, root_path, &err) < 0) {
		fprintf(stderr, "%s\n", err.msg);
		return 1;
	}
	t_read = calloc((size_t)n, sizeof(double));
	t_snap = calloc((size_t)n, sizeof(double));
	t_warm = calloc((size_t)n, sizeof(double));
	t_live = calloc((size_t)n, sizeof(double));
	if (!t_read || !t_snap || !t_warm || !t_live || !cache || !buf)
		return 1;
	if (ks_table_new(&topts, &table, &err) < 0) {
		fprintf(stderr, "live table: %s\n", err.msg);
		return 1;
	}
	live = ks_table_sources(table) == topts.sources;
	for (int i = 0; i < n; i++) {
		struct ks_snapshot_opts opts = { .root = &root };
		struct ks_snapshot *s;
		double t0;

		t0 = now_ms();
		if (read_kallsyms(&root, buf, cap, &bytes) < 0) {
			fprintf(stderr, "%s/proc/kallsyms: cannot read\n", root.path);
			return 1;
		}
		t_read[i] = now_ms() - t0;

		t0 = now_ms();
		if (ks_snapshot_take(&opts, &s, &err) < 0) {
			fprintf(stderr, "snapshot: %s\n", err.msg);
			return 1;
		}
		t_snap[i] = now_ms() - t0;
		image = ks_snapshot_size(s);
		syms = ks_snapshot_n_syms(s);
		ks_snapshot_unref(s);

		opts.cache = cache;
		t0 = now_ms();
		if (ks_snapshot_take(&opts, &s, &err) < 0) {
			fprintf(stderr, "snapshot: %s\n", err.msg);
			return 1;
		}
		t_warm[i] = now_ms() - t0;
		ks_snapshot_unref(s);

		if (!live)
			continue;
		t0 = now_ms();
		if (ks_table_get(table, &s, &err) < 0) {
			fprintf(stderr, "live table: %s\n", err.msg);
			return 1;
		}
		t_live[i] = now_ms() - t0;
		ks_snapshot_unref(s);
	}
	{
		double r = median(t_read, n), s = median(t_snap, n), w = median(t_warm, n);
		unsigned long hits, misses;

		ks_snapshot_cache_stats(cache, &hits, &misses);

		printf("runs:                  %d\n", n);
		printf("symbols:               %zu (%zu bytes of kallsyms, image %zu bytes)\n", syms,
		       bytes, image);
		printf("read /proc/kallsyms:   %.2f ms (median)\n", r);
		printf("snapshot, built:       %.2f ms (median)  %.2fx the read\n", s, s / r);
		printf("snapshot, daemon path: %.2f ms (median)  %.2fx the read (cache: %lu hits, %lu misses)\n",
		       w, w / r, hits, misses);
		if (live) {
			double l = median(t_live, n);

			ks_table_stats(table, &tst);
			printf("open, live table:      %.3f ms (median)  %.3fx the read (%lu of %d "
			       "served without a read)  goal <= 0.10x\n", l, l / r, tst.served, n);
		} else {
			printf("open, live table:      not measured: uevents: %s; ksymbol: %s\n",
			       ks_table_unavailable(table, KS_KEVENTS_UEVENT),
			       ks_table_unavailable(table, KS_KEVENTS_KSYMBOL));
		}
	}
	ks_table_free(table);
	ks_snapshot_cache_free(cache);
	ks_root_close(&root);
	free(buf);
	free(t_read);
	free(t_snap);
	free(t_warm);
	free(t_live);
	return 0;
}
