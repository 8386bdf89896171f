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
 * Figures only: nothing passes or fails.
 */
#include <errno.h>
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

struct result {
	double ms;
	long long bytes;
};

static void report(const char *what, struct result r, double base_ms)
{
	double mib = (double)r.bytes / (1 << 20);

	printf("%-34s %9.3f ms  %8.0f MiB/s  %6.2fx the memfd's time\n", what, r.ms,
	       mib / (r.ms / 1e3), r.ms / base_ms);
}

/* The median of n timed reads of fd; drop: its pages first. */
static int time_reads(int fd, int n, int drop, struct result *out)
{
	double *t = calloc((size_t)n, sizeof(*t)), t0;
	long long got = 0;
	int i;

	if (!t)
		return -1;
	for (i = 0; i < n; i++) {
		if (drop)
			posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
		t0 = now_ms();
		got = read_all(fd);
		t[i] = now_ms() - t0;
		if (got < 0) {
			free(t);
			return -1;
		}
	}
	out->ms = median(t, n);
	out->bytes = got;
	free(t);
	return 0;
}

/* The median of n rounds of open, read to the end, close (a device). */
static int time_opens(const char *path, int n, struct result *out)
{
	double *t = calloc((size_t)n, sizeof(*t)), t0;
	long long got = 0;
	int i, fd;

	if (!t)
		return -1;
	for (i = 0; i < n; i++) {
		t0 = now_ms();
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			free(t);
			return -1;
		}
		got = read_all(fd);
		close(fd);
		t[i] = now_ms() - t0;
		if (got < 0) {
			free(t);
			return -1;
		}
	}
	out->ms = median(t, n);
	out->bytes = got;
	free(t);
	return 0;
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
	struct result base, r;
	struct stat st;
	int n = 21, c, i, fd, mfd;
	char what[64];

	while ((c = getopt(argc, argv, "n:b:")) != -1) {
		if (c == 'n')
			n = atoi(optarg);
		else if (c == 'b')
			chunk = strtoul(optarg, NULL, 10);
		else
			goto usage;
	}
	if (optind >= argc || n < 1 || chunk < 4096)
		goto usage;
	buf = malloc(chunk);
	if (!buf)
		return 1;
	mfd = memfd_of(argv[optind]);
	if (mfd < 0 || time_reads(mfd, n, 0, &base) < 0) {
		fprintf(stderr, "fileread: %s: %s\n", argv[optind], strerror(errno));
		return 1;
	}
	printf("%d runs each, %zu-byte reads, medians; %lld bytes\n", n, chunk, base.bytes);
	report("memfd (the baseline)", base, base.ms);
	for (i = optind; i < argc; i++) {
		if (stat(argv[i], &st) < 0) {
			fprintf(stderr, "fileread: %s: %s\n", argv[i], strerror(errno));
			return 1;
		}
		if (S_ISCHR(st.st_mode)) {
			if (time_opens(argv[i], n, &r) < 0)
				goto fail;
			snprintf(what, sizeof(what), "%s (open+read+close)", argv[i]);
			report(what, r, base.ms);
			continue;
		}
		fd = open(argv[i], O_RDONLY | O_CLOEXEC);
		if (fd < 0 || time_reads(fd, n, 1, &r) < 0)
			goto fail;
		snprintf(what, sizeof(what), "%s, cold", argv[i]);
		report(what, r, base.ms);
		if (time_reads(fd, n, 0, &r) < 0)
			goto fail;
		snprintf(what, sizeof(what), "%s, page-cached", argv[i]);
		report(what, r, base.ms);
		close(fd);
	}
	free(buf);
	return 0;
fail:
	fprintf(stderr, "fileread: %s: %s\n", argv[i], strerror(errno));
	return 1;
usage:
	fprintf(stderr, "usage: %s [-n N] [-b BYTES] PATH...\n", argv[0]);
	return 2;
}
