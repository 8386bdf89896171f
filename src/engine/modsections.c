/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A module's section addresses, /sys/module/<name>/sections/<section>.
 *
 * Each file holds "0x%016lx\n" and is readable only with privilege at every
 * open (the daemon keeps its privilege for that). A module can unload between
 * listing the directory and reading a file: that is "gone", not an error.
 */
#include "modsections.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libkmod.h>
#include <pthread.h>
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

int ks_modsections_read_tree(struct ks_module *m, const struct ks_root *root,
			     struct ks_error *err)
{
	struct section_vec sv = { 0 };
	char rel[300], buf[64];
	struct dirent *de;
	DIR *dir;
	int dfd, fd, r = 0;
	ssize_t len;

	/* Module names are at most 255 bytes (proc/modules' parser). */
	if (snprintf(rel, sizeof(rel), "sys/module/%s/sections", m->name) >= (int)sizeof(rel))
		return ks_error_set(err, ENAMETOOLONG, "%s: module name too long", m->name);
	dfd = ks_root_openat(root, rel, O_RDONLY | O_DIRECTORY, err);
	if (dfd == -ENOENT) {
		m->gone = true;
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
		fd = openat(dfd, de->d_name, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			if (errno == ENOENT)
				goto gone;
			r = ks_error_set(err, errno, "%s/%s/%s: %s", root->path, rel, de->d_name,
					 strerror(errno));
			goto out;
		}
		len = read(fd, buf, sizeof(buf) - 1);
		r = len < 0 ? errno : 0;
		close(fd);
		if (len < 0) {
			/* sysfs answers ENODEV for an attribute of a module being removed. */
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

/*
 * libkmod keeps one context for the process; it is not thread-safe, and a
 * daemon may take snapshots for several opens at once.
 */
static pthread_mutex_t kmod_lock = PTHREAD_MUTEX_INITIALIZER;
static struct kmod_ctx *kmod;

__attribute__((format(printf, 6, 0)))
static void kmod_log_to_ks(void *data, int priority, const char *file, int line,
			   const char *fn, const char *format, va_list args)
{
	char msg[512];
	size_t n;

	(void)data;
	(void)file;
	(void)line;
	(void)fn;
	vsnprintf(msg, sizeof(msg), format, args);
	n = strlen(msg);
	if (n && msg[n - 1] == '\n')
		msg[n - 1] = '\0';
	/* libkmod reports a vanished module as an error; for us it is routine. */
	ks_log(priority < LOG_WARNING ? LOG_DEBUG : priority, "libkmod: %s", msg);
}

static int sections_dir_state(const char *name)
{
	char path[4096];

	snprintf(path, sizeof(path), "/sys/module/%s/sections", name);
	return access(path, R_OK) == 0 ? 0 : errno;
}

int ks_modsections_read_kmod(struct ks_module *m, struct ks_error *err)
{
	struct section_vec sv = { 0 };
	struct kmod_list *list = NULL, *it;
	struct kmod_module *mod = NULL;
	int r = 0;

	pthread_mutex_lock(&kmod_lock);
	if (!kmod) {
		kmod = kmod_new(NULL, NULL);
		if (!kmod) {
			r = ks_error_set(err, ENOMEM, "libkmod: cannot create a context");
			goto out;
		}
		kmod_set_log_fn(kmod, kmod_log_to_ks, NULL);
	}
	r = kmod_module_new_from_name(kmod, m->name, &mod);
	if (r < 0) {
		r = ks_error_set(err, -r, "libkmod: %s: %s", m->name, strerror(-r));
		goto out;
	}
	list = kmod_module_get_sections(mod);
	if (!list) {
		/* libkmod says only "no list": tell a vanished module (routine)
		 * from one we may not read. */
		int state = sections_dir_state(m->name);

		if (state == ENOENT || state == 0) {
			m->gone = state == ENOENT;
			if (state == 0)
				r = ks_error_set(err, EIO, "libkmod: cannot read the sections of %s",
						 m->name);
		} else {
			r = ks_error_set(err, state, "/sys/module/%s/sections: %s", m->name,
					 strerror(state));
		}
		goto out;
	}
	kmod_list_foreach(it, list) {
		const char *name = kmod_module_section_get_name(it);
		unsigned long addr = kmod_module_section_get_address(it);

		if (!name || section_vec_add(&sv, name, addr) < 0) {
			r = ks_error_set(err, ENOMEM, "out of memory");
			goto out;
		}
	}
	section_vec_move(&sv, m);
out:
	if (list)
		kmod_module_section_free_list(list);
	if (mod)
		kmod_module_unref(mod);
	pthread_mutex_unlock(&kmod_lock);
	section_vec_free(&sv);
	return r;
}

int ks_modsections_read(struct ks_module *m, const struct ks_root *root, struct ks_error *err)
{
	if (root->live)
		return ks_modsections_read_kmod(m, err);
	return ks_modsections_read_tree(m, root, err);
}
