/* SPDX-License-Identifier: BSD-2-Clause */
/* Small helpers shared by the unit tests (header-only: each test is one program). */
#pragma once

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/root.h"
#include "tests/common/fdcount.h"

/* $KSYMS_FIXTURES/<rel>, in a static buffer (one at a time). */
static inline const char *fixture(const char *rel)
{
	static char path[4096];
	const char *base = getenv("KSYMS_FIXTURES");

	snprintf(path, sizeof(path), "%s/%s", base ? base : "tests/fixtures", rel);
	return path;
}

/* Open path as a root for the engine; aborts the test program if it cannot. */
static inline void open_root(struct ks_root *root, const char *path)
{
	struct ks_error err = { 0 };

	if (ks_root_open(root, path, &err) < 0) {
		fprintf(stderr, "%s\n", err.msg);
		abort();
	}
}

/* Is the (not NUL-terminated) name of len bytes the string s? */
static inline int name_eq(const char *name, size_t len, const char *s)
{
	return name && strlen(s) == len && memcmp(name, s, len) == 0;
}

/* Create every parent directory of path, then write text to it. */
__attribute__((format(printf, 2, 3)))
static inline int write_file(const char *path, const char *fmt, ...)
{
	char dir[4096];
	va_list ap;
	FILE *f;

	snprintf(dir, sizeof(dir), "%s", path);
	for (char *p = dir + 1; *p; p++) {
		if (*p == '/') {
			*p = '\0';
			if (mkdir(dir, 0755) < 0 && errno != EEXIST)
				return -errno;
			*p = '/';
		}
	}
	f = fopen(path, "w");
	if (!f)
		return -errno;
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	return fclose(f) == 0 ? 0 : -errno;
}

/* mkdir -p */
static inline int mkdir_p(const char *path)
{
	char dir[4400];

	snprintf(dir, sizeof(dir), "%s/", path);
	for (char *p = dir + 1; *p; p++) {
		if (*p == '/') {
			*p = '\0';
			if (mkdir(dir, 0755) < 0 && errno != EEXIST)
				return -errno;
			*p = '/';
		}
	}
	return 0;
}

static inline int rm_rf(const char *path)
{
	char cmd[4200];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", path);
	return system(cmd);
}

/* A fresh temporary directory (caller frees with rm_rf + free). */
static inline char *make_tmpdir(void)
{
	char *t = strdup("/tmp/ksymsd-test-XXXXXX");

	if (!t || !mkdtemp(t)) {
		free(t);
		return NULL;
	}
	return t;
}

