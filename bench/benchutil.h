/* SPDX-License-Identifier: BSD-2-Clause */
/* Helpers shared by the benchmarks (each is one program). */
#pragma once

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "engine/root.h"

static inline double now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static inline int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Sorts v. */
static inline double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Read <root>/proc/kallsyms to the end into buf (cap bytes), nothing else:
 * the kernel's own work, the yardstick of every ratio. */
static inline int read_kallsyms(const struct ks_root *root, char *buf, size_t cap, size_t *len)
{
	int fd = ks_root_open_file(root, "proc/kallsyms", NULL);
	ssize_t r = 0;

	*len = 0;
	if (fd < 0)
		return -1;
	while (*len < cap && (r = read(fd, buf + *len, cap - *len)) > 0)
		*len += (size_t)r;
	close(fd);
	return r < 0 || *len == cap ? -1 : 0;
}

/* The options every snapshot benchmark takes: -n N runs, -r ROOT, -u
 * (glibc's malloc as it comes, not as the daemon tunes it). 0, or 2 after
 * a usage line. */
static inline int bench_options(int argc, char **argv, int *n, const char **root, bool *tune)
{
	int c;

	while ((c = getopt(argc, argv, "n:r:u")) != -1) {
		if (c == 'n')
			*n = atoi(optarg);
		else if (c == 'u')
			*tune = false;
		else if (c == 'r')
			*root = optarg;
		else {
			fprintf(stderr, "usage: %s [-n N] [-r ROOT] [-u]\n", argv[0]);
			return 2;
		}
	}
	if (*n < 1)
		*n = 1;
	return 0;
}
