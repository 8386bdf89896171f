/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The kernel's and the modules' ELF notes, read and checked.
 *
 * sys/kernel/notes is vmlinux's .notes section (__start_notes to
 * __stop_notes); each file of sys/module/<name>/notes/ is one SHT_NOTE
 * section of the module. Both are binary sysfs attributes: their bytes are
 * the sections' own, in the kernel's byte order. A notes directory loses
 * its files only when its module is being removed, so a file that vanishes
 * while it is read means the module is gone, as in modsections.c.
 *
 * Checking: the image must never be broken by what a file holds, so notes
 * that do not parse are left out with one warning, not copied; a file too
 * big to be notes is an error that names the limit, like the other limits.
 */
#include "notes.h"

#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shared/fdio.h"
#include "shared/log.h"

static uint32_t word(const unsigned char *p, unsigned char elf_data)
{
	if (elf_data == ELFDATA2MSB)
		return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
	return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

static uint64_t pad4(uint64_t n)
{
	return (n + 3) & ~(uint64_t)3;
}

int ks_notes_check(const void *data, size_t size, unsigned char elf_data, const char **why)
{
	const unsigned char *p = data;
	size_t off = 0;

	*why = NULL;
	if (elf_data != ELFDATA2LSB && elf_data != ELFDATA2MSB)
		*why = "unknown byte order";
	else if (!size || !data)
		*why = "empty";
	else if (size % 4)
		*why = "size not a multiple of 4";
	while (!*why && off < size) {
		uint32_t namesz, descsz;
		uint64_t len;

		if (size - off < sizeof(Elf32_Nhdr)) {
			*why = "a note header cut short";
			break;
		}
		namesz = word(p + off, elf_data);
		descsz = word(p + off + 4, elf_data);
		len = sizeof(Elf32_Nhdr) + pad4(namesz) + pad4(descsz);
		if (len > size - off)
			*why = "a note runs past the end";
		else if (namesz && p[off + sizeof(Elf32_Nhdr) + namesz - 1] != '\0')
			*why = "a note's name is not NUL-terminated";
		off += len;
	}
	return *why ? -EINVAL : 0;
}

void ks_notes_release(struct ks_notes *n)
{
	if (!n)
		return;
	free(n->name);
	free(n->data);
	memset(n, 0, sizeof(*n));
}

void ks_notes_release_all(struct ks_notes *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		ks_notes_release(&v[i]);
	free(v);
}

void ks_notes_free(struct ks_notes *n)
{
	ks_notes_release(n);
	free(n);
}

const struct ks_notes *ks_module_notes(const struct ks_module *m, const char *name)
{
	for (size_t k = 0; k < m->n_notes; k++)
		if (m->notes[k].size && m->notes[k].name && !strcmp(m->notes[k].name, name))
			return &m->notes[k];
	return NULL;
}

bool ks_notes_equal(const struct ks_notes *a, const struct ks_notes *b)
{
	static const struct ks_notes none = { .name = NULL };

	a = a ?: &none;
	b = b ?: &none;
	return a->size == b->size && !strcmp(a->name ?: "", b->name ?: "") &&
	       (!a->size || !memcmp(a->data, b->data, a->size));
}

/*
 * Read the notes file name in dirfd (path: how messages name it) into *n.
 * Returns 0 (n->size 0 if it had no notes or malformed ones), -ENOENT or
 * -ENODEV if the file vanished (err not set), or another error with err set.
 */
static int read_file(int dirfd, const char *name, const char *path, unsigned char elf_data,
		     struct ks_notes *n, struct ks_error *err)
{
	struct ks_error rerr = { 0 };
	char *bytes = NULL;
	const char *why;
	int fd, r;

	memset(n, 0, sizeof(*n));
	fd = ks_open_regular(dirfd, name);
	if (fd == -ENOENT || fd == -ENODEV)
		return fd;
	if (fd < 0)
		return ks_error_set(err, -fd, "%s: %s", path,
				    fd == -EINVAL ? "not a regular file" : strerror(-fd));
	/* Notes are small: start small. */
	r = ks_read_all(fd, KS_NOTES_SIZE_MAX, 256, &bytes, &n->size, &rerr);
	close(fd);
	n->data = (unsigned char *)bytes;
	if (r == -ENOENT || r == -ENODEV)
		return r;
	if (r == -EFBIG)
		return ks_error_set(err, EFBIG, "%s: notes larger than the limit of %zu bytes",
				    path, KS_NOTES_SIZE_MAX);
	if (r < 0)
		return ks_error_set(err, -r, "%s: %s", path, strerror(-r));
	if (n->size && ks_notes_check(n->data, n->size, elf_data, &why) < 0) {
		ks_warn("%s: malformed notes (%s): left out of the image", path, why);
		ks_notes_release(n);
	}
	if (!n->size) {
		ks_notes_release(n);
		return 0;
	}
	n->name = strdup(name);
	if (!n->name) {
		ks_notes_release(n);
		return ks_error_set(err, ENOMEM, "out of memory");
	}
	return 0;
}

int ks_notes_read_kernel(struct ks_notes *n, const struct ks_root *root, unsigned char elf_data,
			 struct ks_error *err)
{
	char path[sizeof(root->path) + 32];
	int r;

	snprintf(path, sizeof(path), "%s/sys/kernel/notes", root->path);
	r = read_file(root->fd, "sys/kernel/notes", path, elf_data, n, err);
	/* No notes, or (ENODEV) none this kernel can show. */
	if (r == -ENOENT || r == -ENODEV)
		return 0;
	if (r < 0 || !n->size)
		return r;
	free(n->name);
	n->name = strdup(".notes");
	if (!n->name) {
		ks_notes_release(n);
		return ks_error_set(err, ENOMEM, "out of memory");
	}
	return 0;
}

static int cmp_notes_name(const void *a, const void *b)
{
	return strcmp(((const struct ks_notes *)a)->name, ((const struct ks_notes *)b)->name);
}

int ks_notes_read_module(struct ks_module *m, const struct ks_root *root, unsigned char elf_data,
			 struct ks_error *err)
{
	struct ks_notes *v = NULL;
	size_t n = 0, cap = 0, files = 0;
	char rel[300], path[sizeof(root->path) + 600];
	struct dirent *de;
	DIR *dir;
	int dfd, r = 0;

	if (snprintf(rel, sizeof(rel), "sys/module/%s/notes", m->name) >= (int)sizeof(rel))
		return ks_error_set(err, ENAMETOOLONG, "%s: module name too long", m->name);
	dfd = openat(root->fd, rel, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 && errno == ENOENT)
		return 0;	/* a module without notes */
	if (dfd < 0)
		return ks_error_set(err, errno, "%s/%s: %s", root->path, rel, strerror(errno));
	dir = fdopendir(dfd);
	if (!dir) {
		r = errno;
		close(dfd);
		return ks_error_set(err, r, "%s/%s: %s", root->path, rel, strerror(r));
	}
	while ((errno = 0, de = readdir(dir))) {
		struct ks_notes one;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		snprintf(path, sizeof(path), "%s/%s/%s", root->path, rel, de->d_name);
		if (files++ == KS_NOTES_FILES_MAX) {
			r = ks_error_set(err, EFBIG, "%s/%s: more than %u notes files", root->path,
					 rel, KS_NOTES_FILES_MAX);
			goto out;
		}
		r = read_file(dfd, de->d_name, path, elf_data, &one, err);
		if (r == -ENOENT || r == -ENODEV) {
			ks_debug("%s: vanished: module %s is going", path, m->name);
			m->gone = true;
			r = 0;
			goto out;
		}
		if (r < 0)
			goto out;
		if (!one.size)
			continue;
		if (n == cap) {
			struct ks_notes *grown = realloc(v, (cap + 4) * sizeof(*grown));

			if (!grown) {
				ks_notes_release(&one);
				r = ks_error_set(err, ENOMEM, "out of memory");
				goto out;
			}
			v = grown;
			cap += 4;
		}
		v[n++] = one;
	}
	if (errno) {
		r = ks_error_set(err, errno, "%s/%s: %s", root->path, rel, strerror(errno));
		goto out;
	}
	/* readdir's order is the filesystem's: the image's must not be. */
	if (n)
		qsort(v, n, sizeof(*v), cmp_notes_name);
	ks_notes_release_all(m->notes, m->n_notes);
	m->notes = v;
	m->n_notes = n;
	v = NULL;
	n = 0;
out:
	closedir(dir);
	ks_notes_release_all(v, n);
	return r;
}

int ks_notes_read_modules(struct ks_modlist *list, const struct ks_root *root,
			  unsigned char elf_data, struct ks_error *err)
{
	for (size_t i = 0; i < list->n; i++) {
		int r;

		if (list->mods[i].gone)
			continue;
		r = ks_notes_read_module(&list->mods[i], root, elf_data, err);
		if (r < 0)
			return r;
	}
	return 0;
}
