/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Loaded modules: the set and order from proc/modules, each module's section
 * addresses from sys/module/<name>/sections/.
 *
 * proc/modules is read in one go and is the reference for "did the module
 * set change": it carries name, core size and core base in one consistent
 * line per module. Modules come and go while we read; a module whose
 * sections directory is gone is marked, not an error (the snapshot notices
 * the set changed and starts over).
 */
#include "modules.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "modsections.h"
#include "notes.h"
#include "shared/fdio.h"

void ks_module_release(struct ks_module *m)
{
	for (size_t j = 0; j < m->n_sections; j++)
		free(m->sections[j].name);
	free(m->sections);
	ks_notes_release_all(m->notes, m->n_notes);
	free(m->name);
	memset(m, 0, sizeof(*m));
}

void ks_modlist_release(struct ks_modlist *list)
{
	for (size_t i = 0; i < list->n; i++)
		ks_module_release(&list->mods[i]);
	free(list->mods);
	list->mods = NULL;
	list->n = 0;
}

/* The next field of a line, split at spaces; NULL at the end. */
static char *next_field(char **p)
{
	char *f;

	while (**p == ' ')
		(*p)++;
	if (!**p)
		return NULL;
	f = *p;
	*p += strcspn(*p, " ");
	if (**p)
		*(*p)++ = '\0';
	return f;
}

static bool parse_u64(const char *s, int base, uint64_t *v)
{
	char *end;

	/* The prefix first: a field may be one byte long. */
	if (base == 16 && (s[0] != '0' || s[1] != 'x'))
		return false;
	if (!isxdigit((unsigned char)s[base == 16 ? 2 : 0]))
		return false;
	errno = 0;
	*v = strtoull(s, &end, base);
	return errno == 0 && *end == '\0';
}

/* "name size refcnt deps state 0xaddr [taint]" */
static int parse_modules_line(char *line, size_t lineno, struct ks_module *m,
			      struct ks_error *err)
{
	char *p = line, *f[6];
	size_t n;

	for (n = 0; n < 6; n++)
		if (!(f[n] = next_field(&p)))
			return ks_error_set(err, EINVAL, "line %zu: malformed: \"%.80s\"", lineno,
					    line);
	if (strlen(f[0]) > KS_MODULE_NAME_MAX)
		return ks_error_set(err, EINVAL, "line %zu: module name longer than %d bytes",
				    lineno, KS_MODULE_NAME_MAX);
	/* The name becomes a directory name under sys/module. */
	if (!strcmp(f[0], ".") || !strcmp(f[0], "..") || strchr(f[0], '/'))
		return ks_error_set(err, EINVAL, "line %zu: not a module name: \"%s\"", lineno, f[0]);
	if (!parse_u64(f[1], 10, &m->size) || !parse_u64(f[5], 16, &m->base))
		return ks_error_set(err, EINVAL, "line %zu: malformed size or address", lineno);
	m->live = strcmp(f[4], "Live") == 0;
	m->name = strdup(f[0]);
	if (!m->name)
		return ks_error_set(err, ENOMEM, "out of memory");
	return 0;
}

int ks_modlist_parse(struct ks_modlist *list, char *text, size_t len, struct ks_error *err)
{
	struct ks_modlist out = { 0 };
	size_t cap = 0, lineno = 0;
	char *p, *nl;
	int r;

	memset(list, 0, sizeof(*list));
	for (p = text; p < text + len; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(text + len - p));
		if (!nl)
			nl = text + len;
		*nl = '\0';
		lineno++;
		if (*p == '\0')
			continue;
		if (out.n == KS_MODULES_MAX) {
			r = ks_error_set(err, EFBIG, "more than %u modules", KS_MODULES_MAX);
			goto fail;
		}
		if (out.n == cap) {
			size_t ncap = cap ? cap * 2 : 64;
			struct ks_module *grown = realloc(out.mods, ncap * sizeof(*grown));

			if (!grown) {
				r = ks_error_set(err, ENOMEM, "out of memory");
				goto fail;
			}
			out.mods = grown;
			cap = ncap;
		}
		memset(&out.mods[out.n], 0, sizeof(out.mods[out.n]));
		r = parse_modules_line(p, lineno, &out.mods[out.n], err);
		if (r < 0)
			goto fail;
		out.n++;
	}
	/* proc/modules lists the newest module first; we want load order. */
	for (size_t i = 0; i < out.n / 2; i++) {
		struct ks_module t = out.mods[i];

		out.mods[i] = out.mods[out.n - 1 - i];
		out.mods[out.n - 1 - i] = t;
	}
	*list = out;
	return 0;
fail:
	ks_modlist_release(&out);
	return r;
}

int ks_modlist_read_set(struct ks_modlist *list, const struct ks_root *root,
			struct ks_error *err)
{
	char *text = NULL;
	size_t len;
	int fd, r;

	memset(list, 0, sizeof(*list));
	fd = ks_root_open_file(root, "proc/modules", err);
	/* CONFIG_MODULES=n: no file, no modules. */
	if (fd == -ENOENT)
		return 0;
	if (fd < 0)
		return fd;
	r = ks_read_all(fd, KS_MODULES_TEXT_MAX, 64u << 10, &text, &len, err);
	close(fd);
	if (r == 0)
		r = ks_modlist_parse(list, text, len, err);
	free(text);
	if (r < 0)
		return ks_error_prefix(err, "%s/proc/modules", root->path);
	return 0;
}

int ks_modlist_read(struct ks_modlist *list, const struct ks_root *root, struct ks_error *err)
{
	int r = ks_modlist_read_set(list, root, err);

	if (r < 0)
		return r;
	for (size_t i = 0; i < list->n; i++) {
		r = ks_modsections_read(&list->mods[i], root, err);
		if (r < 0) {
			ks_modlist_release(list);
			return r;
		}
	}
	return 0;
}

bool ks_modlist_same_set(const struct ks_modlist *a, const struct ks_modlist *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++) {
		if (a->mods[i].base != b->mods[i].base || a->mods[i].size != b->mods[i].size ||
		    strcmp(a->mods[i].name, b->mods[i].name) != 0)
			return false;
	}
	return true;
}

static bool module_equal(const struct ks_module *a, const struct ks_module *b)
{
	if (a->n_sections != b->n_sections || a->n_notes != b->n_notes)
		return false;
	for (size_t i = 0; i < a->n_sections; i++)
		if (a->sections[i].addr != b->sections[i].addr ||
		    strcmp(a->sections[i].name, b->sections[i].name) != 0)
			return false;
	for (size_t i = 0; i < a->n_notes; i++)
		if (!ks_notes_equal(&a->notes[i], &b->notes[i]))
			return false;
	return true;
}

bool ks_modlist_equal(const struct ks_modlist *a, const struct ks_modlist *b)
{
	if (!ks_modlist_same_set(a, b))
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (!module_equal(&a->mods[i], &b->mods[i]))
			return false;
	return true;
}

const struct ks_module *ks_modlist_find(const struct ks_modlist *list, const char *name)
{
	for (size_t i = 0; i < list->n; i++)
		if (strcmp(list->mods[i].name, name) == 0)
			return &list->mods[i];
	return NULL;
}
