/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Sequential read throughput of the snapshot through each transport, as a
 * ratio to reading the same bytes from a memfd in the same run:
 *
 *   ./build/bench/fileread [-n N] [-b BYTES] PATH...
 *
 * For a regular file (the FUSE transport's /run/ksyms/ksyms) one open is
 * read to the end N times cold (its pages dropped first with
 * POSIX_FADV_DONTNEED, so every read reaches the daemon) and N times
 * page-cached (read again at once). For a character device (/dev/ksyms
 * through CUSE, which has no page cache) each round is an open, a read to
 * the end and a close. The memfd holds the bytes the first path gave.
 * Reads are BYTES at a time (default 128 KiB, as cat and readelf use).
 * Rounds interleave the memfd and the paths (see main()).
 * Figures only: nothing passes or fails.
 */
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "benchutil.h"

static size_t chunk = 128 << 10;
static unsigned char *buf;

/* Read fd from its start to EOF; the bytes read, or -1. */
static long long read_all(int fd)
{
	long long total = 0;
	ssize_t r;

	if (lseek(fd, 0, SEEK_SET) < 0 && errno != ESPIPE)
		return -1;
	while ((r = read(fd, buf, chunk)) > 0)
		total += r;
	return r < 0 ? -1 : total;
}

/* One timed read to the end of fd, from its start; ms, or -1. */
static double timed_read(int fd)
{
	double t0 = now_ms();

	return read_all(fd) < 0 ? -1 : now_ms() - t0;
}

/* One timed open, read to the end and close of a device; ms, or -1. */
static double timed_open_read(const char *path)
{
	double t0 = now_ms();
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	long long got;

	if (fd < 0)
		return -1;
	got = read_all(fd);
	close(fd);
	return got < 0 ? -1 : now_ms() - t0;
}

/* A series of n timings and their ratios to the memfd's in the same round. */
struct series {
	char what[80];
	double *ms, *ratio;
};

static void report(struct series *s, int n, double bytes)
{
	double ms = median(s->ms, n);

	printf("%-36s %9.3f ms  %8.0f MiB/s  %6.2fx\n", s->what, ms, bytes / (1 << 20) / (ms / 1e3),
	       median(s->ratio, n));
}

/* A memfd holding the bytes of path (read once, untimed). */
static int memfd_of(const char *path)
{
	int in = open(path, O_RDONLY | O_CLOEXEC), mfd = memfd_create("bench", MFD_CLOEXEC);
	ssize_t r;

	if (in < 0 || mfd < 0)
		goto fail;
	while ((r = read(in, buf, chunk)) > 0)
		if (write(mfd, buf, (size_t)r) != r)
			goto fail;
	if (r < 0)
		goto fail;
	close(in);
	return mfd;
fail:
	if (in >= 0)
		close(in);
	if (mfd >= 0)
		close(mfd);
	return -1;
}

int main(int argc, char **argv)
{
	struct series ser[1 + 2 * 8];
	int n = 21, c, i, k, m, mfd, fds[8];
	struct stat st;
	bool chr[8];
	long long bytes;
	double tm, t;

	while ((c = getopt(argc, argv, "n:b:")) != -1) {
		if (c == 'n')
			n = atoi(optarg);
		else if (c == 'b')
			chunk = strtoul(optarg, NULL, 10);
		else
			goto usage;
	}
	m = argc - optind;
	if (m < 1 || m > 8 || n < 1 || chunk < 4096)
		goto usage;
	buf = malloc(chunk);
	for (k = 0; k < 1 + 2 * m; k++) {
		ser[k].ms = calloc((size_t)n, sizeof(double));
		ser[k].ratio = calloc((size_t)n, sizeof(double));
		if (!ser[k].ms || !ser[k].ratio)
			return 1;
	}
	mfd = memfd_of(argv[optind]);
	if (!buf || mfd < 0 || (bytes = read_all(mfd)) < 0) {
		fprintf(stderr, "fileread: %s: %s\n", argv[optind], strerror(errno));
		return 1;
	}
	snprintf(ser[0].what, sizeof(ser[0].what), "memfd (the baseline)");
	for (k = 0; k < m; k++) {
		const char *path = argv[optind + k];

		if (stat(path, &st) < 0)
			goto fail;
		chr[k] = S_ISCHR(st.st_mode);
		fds[k] = chr[k] ? -1 : open(path, O_RDONLY | O_CLOEXEC);
		if (!chr[k] && fds[k] < 0)
			goto fail;
		snprintf(ser[1 + 2 * k].what, sizeof(ser[0].what), "%s, %s", path,
			 chr[k] ? "open+read+close" : "cold");
		snprintf(ser[2 + 2 * k].what, sizeof(ser[0].what), "%s, page-cached", path);
	}
	/* Interleaved: every round times the memfd and then each path, so
	 * that the machine's drift (it is shared) hits them alike; a round's
	 * ratios are to its own memfd time. One untimed round first warms
	 * the code paths (under TCG they are translated on first use). */
	for (i = -1; i < n; i++) {
		tm = timed_read(mfd);
		if (i >= 0) {
			ser[0].ms[i] = tm;
			ser[0].ratio[i] = 1;
		}
		for (k = 0; k < m; k++) {
			if (chr[k]) {
				t = timed_open_read(argv[optind + k]);
			} else {
				posix_fadvise(fds[k], 0, 0, POSIX_FADV_DONTNEED);
				t = timed_read(fds[k]);
			}
			if (t < 0)
				goto fail;
			if (i >= 0) {
				ser[1 + 2 * k].ms[i] = t;
				ser[1 + 2 * k].ratio[i] = t / tm;
			}
			if (chr[k])
				continue;
			t = timed_read(fds[k]);
			if (t < 0)
				goto fail;
			if (i >= 0) {
				ser[2 + 2 * k].ms[i] = t;
				ser[2 + 2 * k].ratio[i] = t / tm;
			}
		}
	}
	printf("%d rounds, %zu-byte reads, %lld bytes; medians, and the median of each "
	       "round's ratio to the memfd\n",
	       n, chunk, bytes);
	report(&ser[0], n, (double)bytes);
	for (k = 0; k < m; k++) {
		report(&ser[1 + 2 * k], n, (double)bytes);
		if (!chr[k])
			report(&ser[2 + 2 * k], n, (double)bytes);
	}
	return 0;
fail:
	fprintf(stderr, "fileread: %s\n", strerror(errno));
	return 1;
usage:
	fprintf(stderr, "usage: %s [-n N] [-b BYTES] PATH... (at most 8)\n", argv[0]);
	return 2;
}
