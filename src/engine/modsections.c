/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A module's section addresses, sys/module/<name>/sections/<section>.
 *
 * Each file holds "0x%016lx\n" and is readable only with privilege at every
 * open (the daemon keeps its privilege for that). A module can unload between
 * listing the directory and reading a file: that is "gone", not an error.
 *
 * The running system is read exactly like a captured tree, file by file:
 * libkmod's reader of the same files (kmod_module_get_sections()) frees the
 * wrong kind of list when a module vanishes mid-read in the version Debian
 * 12 ships, and the code the daemon runs should be the code the fixture
 * tests run.
 */
#include "modsections.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shared/log.h"

struct section_vec {
	struct ks_module_section *v;
	size_t n, cap;
};

static int section_vec_add(struct section_vec *sv, const char *name, uint64_t addr)
{
	if (sv->n == sv->cap) {
		size_t ncap = sv->cap ? sv->cap * 2 : 32;
		struct ks_module_section *grown = realloc(sv->v, ncap * sizeof(*grown));

		if (!grown)
			return -ENOMEM;
		sv->v = grown;
		sv->cap = ncap;
	}
	sv->v[sv->n].name = strdup(name);
	if (!sv->v[sv->n].name)
		return -ENOMEM;
	sv->v[sv->n].addr = addr;
	sv->n++;
	return 0;
}

static void section_vec_free(struct section_vec *sv)
{
	for (size_t i = 0; i < sv->n; i++)
		free(sv->v[i].name);
	free(sv->v);
	memset(sv, 0, sizeof(*sv));
}

static int cmp_section_addr(const void *a, const void *b)
{
	const struct ks_module_section *x = a, *y = b;

	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* Hand the sorted sections to m. */
static void section_vec_move(struct section_vec *sv, struct ks_module *m)
{
	qsort(sv->v, sv->n, sizeof(*sv->v), cmp_section_addr);
	m->sections = sv->v;
	m->n_sections = sv->n;
	m->gone = false;
	memset(sv, 0, sizeof(*sv));
}

int ks_section_addr_parse(const char *text, uint64_t *addr)
{
	unsigned long long v;
	char *end;

	/* The kernel writes "0x%px": insist on it (strtoull alone would take
	 * signs and blanks). */
	if (text[0] != '0' || (text[1] != 'x' && text[1] != 'X') || !isxdigit((unsigned char)text[2]))
		return -EINVAL;
	errno = 0;
	v = strtoull(text + 2, &end, 16);
	if (errno || (*end != '\n' && *end != '\0') || (*end == '\n' && end[1] != '\0'))
		return -EINVAL;
	*addr = v;
	return 0;
}

int ks_modsections_read(struct ks_module *m, const struct ks_root *root, struct ks_error *err)
{
	struct section_vec sv = { 0 };
	char rel[300], buf[64];
	struct dirent *de;
	DIR *dir;
	int dfd, fd, r = 0;
	ssize_t len;

	/* Module names are at most KS_MODULE_NAME_MAX bytes. */
	if (snprintf(rel, sizeof(rel), "sys/module/%s/sections", m->name) >= (int)sizeof(rel))
		return ks_error_set(err, ENAMETOOLONG, "%s: module name too long", m->name);
	dfd = ks_root_openat(root, rel, O_RDONLY | O_DIRECTORY, err);
	/*
	 * No sections directory: a module that is loading or unloading is
	 * gone (a new snapshot is due). A live one has no sections to show;
	 * should it have gone away meanwhile, proc/modules read after the
	 * snapshot no longer lists it.
	 */
	if (dfd == -ENOENT) {
		m->gone = !m->live;
		if (m->live)
			ks_debug("%s/%s: missing: module %s has no sections", root->path, rel,
				 m->name);
		return 0;
	}
	if (dfd < 0)
		return dfd;
	dir = fdopendir(dfd);
	if (!dir) {
		r = errno;
		close(dfd);
		return ks_error_set(err, r, "%s/%s: %s", root->path, rel, strerror(r));
	}
	while ((errno = 0, de = readdir(dir))) {
		uint64_t addr;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (sv.n == KS_SECTIONS_MAX) {
			r = ks_error_set(err, EFBIG, "%s/%s: more than %u sections", root->path, rel,
					 KS_SECTIONS_MAX);
			goto out;
		}
		fd = ks_open_regular(dfd, de->d_name);
		/* sysfs answers ENODEV for an attribute of a module being removed. */
		if (fd == -ENOENT || fd == -ENODEV)
			goto gone;
		if (fd < 0) {
			r = ks_error_set(err, -fd, "%s/%s/%s: %s", root->path, rel, de->d_name,
					 fd == -EINVAL ? "not a regular file" : strerror(-fd));
			goto out;
		}
		len = read(fd, buf, sizeof(buf) - 1);
		r = len < 0 ? errno : 0;
		close(fd);
		if (len < 0) {
			if (r == ENODEV || r == ENOENT)
				goto gone;
			r = ks_error_set(err, r, "%s/%s/%s: %s", root->path, rel, de->d_name,
					 strerror(r));
			goto out;
		}
		buf[len] = '\0';
		if (ks_section_addr_parse(buf, &addr) < 0) {
			r = ks_error_set(err, EINVAL, "%s/%s/%s: not an address: \"%.20s\"",
					 root->path, rel, de->d_name, buf);
			goto out;
		}
		if (section_vec_add(&sv, de->d_name, addr) < 0) {
			r = ks_error_set(err, ENOMEM, "out of memory");
			goto out;
		}
	}
	if (errno) {
		r = ks_error_set(err, errno, "%s/%s: %s", root->path, rel, strerror(errno));
		goto out;
	}
	section_vec_move(&sv, m);
	goto out;
gone:
	m->gone = true;
	r = 0;
out:
	closedir(dir);
	section_vec_free(&sv);
	return r;
}
