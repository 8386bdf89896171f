/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * bench/device: what an open of /dev/ksyms costs beside the kernel's own
 * work, measured where the device exists (the VM: bench/run-device).
 *
 * Alternates, N times: (a) read /proc/kallsyms to the end (what `cat` does);
 * (b) open /dev/ksyms, KIOCGSIZE, read the whole image in 128 KiB reads,
 * close. Prints both medians, their ratio, and the read throughput of (b)
 * (bytes over the time spent in read() alone).
 * Usage: device [-n N] [DEVICE]
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/ksyms.h>
#include <time.h>
#include <unistd.h>

#include "benchutil.h"

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

int main(int argc, char **argv)
{
	const char *dev = KSYMS_DEVICE;
	double *t_cat, *t_dev, *t_read;
	long image = 0, text = 0;
	int n = 11, c;

	while ((c = getopt(argc, argv, "n:")) != -1) {
		if (c != 'n') {
			fprintf(stderr, "usage: %s [-n N] [DEVICE]\n", argv[0]);
			return 2;
		}
		n = atoi(optarg) > 0 ? atoi(optarg) : 1;
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
	return 0;
}
