/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * bench/device: what an open of /dev/ksyms costs beside the kernel's own
 * work, measured where the device exists (the VM: bench/run-device).
 *
 * Alternates, N times: (a) read /proc/kallsyms to the end (what `cat` does);
 * (b) open /dev/ksyms, KIOCGSIZE, read the whole image in 128 KiB reads,
 * close. Prints both medians, their ratio, and the read throughput of (b)
 * (bytes over the time spent in read() alone).
 * Then two figures of what an open costs before any read, each against (a)
 * measured alongside it:
 *   -s S: S times, open + KIOCGSIZE + close on an unchanged kernel;
 *   -b B: B times, a BPF program loaded (a socket filter, bpf(2)), then at
 *         once open + KIOCGSIZE + close: the first open after a change of
 *         the dynamic symbols; the program is closed after (a).
 * Usage: device [-n N] [-s S] [-b B] [DEVICE]   (defaults 11, 20, 10; 0 = skip)
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/ksyms.h>
#include <time.h>
#include <unistd.h>

#include "benchutil.h"
#include "tests/common/bpfprog.h"

static char buf[128 << 10];

/* Read fd to EOF; returns bytes, adds the time spent in read() to *ms. */
static long drain(int fd, double *ms)
{
	long total = 0;
	ssize_t r;

	for (;;) {
		double t0 = now_ms();

		r = read(fd, buf, sizeof(buf));
		*ms += now_ms() - t0;
		if (r <= 0)
			break;
		total += r;
	}
	return r < 0 ? -1 : total;
}

/* Read /proc/kallsyms whole; ms, or -1. */
static double time_kallsyms(void)
{
	double t0 = now_ms(), ignored = 0;
	int fd = open("/proc/kallsyms", O_RDONLY);
	long n;

	if (fd < 0)
		return -1;
	n = drain(fd, &ignored);
	close(fd);
	return n > 0 ? now_ms() - t0 : -1;
}

/* open + KIOCGSIZE + close; ms, or -1. */
static double time_open_size(const char *dev)
{
	double t0 = now_ms();
	size_t size = 0;
	int fd = open(dev, O_RDONLY);

	if (fd < 0 || ioctl(fd, KIOCGSIZE, &size) < 0 || size == 0) {
		fprintf(stderr, "%s: %s\n", dev, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	return now_ms() - t0;
}

/* The two no-read figures: opens on an unchanged kernel (s times), and the
 * first open after a BPF load (b times), each against kallsyms. */
static int bench_open_only(const char *dev, int s, int b)
{
	int m = s > b ? s : b;
	double *t_ks = calloc((size_t)m + 1, sizeof(double));
	double *t_open = calloc((size_t)m + 1, sizeof(double));
	int rc = 1;

	if (!t_ks || !t_open)
		goto out;
	if (s > 0) {
		for (int i = 0; i < s; i++)
			if ((t_open[i] = time_open_size(dev)) < 0 || (t_ks[i] = time_kallsyms()) < 0)
				goto out;
		printf("unchanged: open+KIOCGSIZE:     %.2f ms (median of %d; no read)\n",
		       median(t_open, s), s);
		printf("unchanged: cat /proc/kallsyms: %.2f ms\n", median(t_ks, s));
		printf("ratio open-only/kallsyms:      %.3fx\n", median(t_open, s) / median(t_ks, s));
	}
	if (b > 0) {
		int32_t imm = (int32_t)((unsigned)getpid() << 12);

		for (int i = 0; i < b; i++) {
			int prog = bpfprog_load(imm + i, "ksyms_bench");

			if (prog < 0) {
				printf("after a BPF load: skipped, BPF_PROG_LOAD: %s\n", strerror(-prog));
				rc = 0;
				goto out;
			}
			t_open[i] = time_open_size(dev);
			t_ks[i] = time_kallsyms();
			close(prog);
			if (t_open[i] < 0 || t_ks[i] < 0)
				goto out;
		}
		printf("after a BPF load: open+KIOCGSIZE: %.2f ms (median of %d; first open)\n",
		       median(t_open, b), b);
		printf("after a BPF load: cat kallsyms:   %.2f ms\n", median(t_ks, b));
		printf("ratio first-open/kallsyms:     %.3fx\n", median(t_open, b) / median(t_ks, b));
	}
	rc = 0;
out:
	free(t_ks);
	free(t_open);
	return rc;
}

int main(int argc, char **argv)
{
	const char *dev = KSYMS_DEVICE;
	double *t_cat, *t_dev, *t_read;
	long image = 0, text = 0;
	int n = 11, s = 20, b = 10, c;

	while ((c = getopt(argc, argv, "n:s:b:")) != -1) {
		switch (c) {
		case 'n': n = atoi(optarg) > 0 ? atoi(optarg) : 1; break;
		case 's': s = atoi(optarg) > 0 ? atoi(optarg) : 0; break;
		case 'b': b = atoi(optarg) > 0 ? atoi(optarg) : 0; break;
		default:
			fprintf(stderr, "usage: %s [-n N] [-s S] [-b B] [DEVICE]\n", argv[0]);
			return 2;
		}
	}
	if (optind < argc)
		dev = argv[optind];
	t_cat = calloc((size_t)n, sizeof(double));
	t_dev = calloc((size_t)n, sizeof(double));
	t_read = calloc((size_t)n, sizeof(double));
	if (!t_cat || !t_dev || !t_read)
		return 1;
	for (int i = 0; i < n; i++) {
		double t0 = now_ms(), ignored = 0;
		size_t size = 0;
		int fd = open("/proc/kallsyms", O_RDONLY);

		if (fd < 0 || (text = drain(fd, &ignored)) <= 0)
			return 1;
		close(fd);
		t_cat[i] = now_ms() - t0;

		t0 = now_ms();
		fd = open(dev, O_RDONLY);
		if (fd < 0 || ioctl(fd, KIOCGSIZE, &size) < 0) {
			fprintf(stderr, "%s: %s\n", dev, strerror(errno));
			return 1;
		}
		image = drain(fd, &t_read[i]);
		close(fd);
		t_dev[i] = now_ms() - t0;
		if (image != (long)size) {
			fprintf(stderr, "read %ld bytes, KIOCGSIZE said %zu\n", image, size);
			return 1;
		}
	}
	{
		double cat = median(t_cat, n), devm = median(t_dev, n), rd = median(t_read, n);

		printf("runs:                          %d\n", n);
		printf("cat /proc/kallsyms:            %.2f ms (median, %ld bytes)\n", cat, text);
		printf("open+KIOCGSIZE+read+close:     %.2f ms (median, %ld bytes)\n", devm, image);
		printf("ratio device/kallsyms:         %.2fx\n", devm / cat);
		printf("read throughput (128 KiB):     %.1f MiB/s (%.2f ms in read())\n",
		       (double)image / (1 << 20) / (rd / 1e3), rd);
	}
	free(t_cat);
	free(t_dev);
	free(t_read);
	return bench_open_only(dev, s, b);
}
