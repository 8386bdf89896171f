/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * How many fds this process has open, for the checks that nothing leaks
 * one. Header-only: used by tests/unit and bench/soak, each one program
 * (#include "tests/common/fdcount.h").
 */
#pragma once

#include <dirent.h>

/* Number of open fds of this process, -1 if /proc/self/fd cannot be read. */
static inline int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	int n = 0;

	if (!d)
		return -1;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1;	/* the DIR's own fd */
}
