/* SPDX-License-Identifier: BSD-2-Clause */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "root.h"
#include "shared/error.h"

struct ks_notes;

/* One entry of /sys/module/<name>/sections/ */
struct ks_module_section {
	char *name;		/* ".text", "__ksymtab", ... */
	uint64_t addr;
};

/* Limits on what proc/modules may hold, each failing with a message. */
#define KS_MODULES_TEXT_MAX ((size_t)16 << 20)	/* bytes of proc/modules */
#define KS_MODULES_MAX 65536u			/* modules */
#define KS_MODULE_NAME_MAX 255			/* bytes of a name (the kernel: 55) */
#define KS_SECTIONS_MAX 65536u			/* sections of one module */

/* A loaded module as /proc/modules and /sys/module show it. */
struct ks_module {
	char *name;
	uint64_t base;		/* core base address (0 when hidden) */
	uint64_t size;		/* core size in bytes */
	bool live;		/* state "Live", not "Loading" or "Unloading" */
	struct ks_module_section *sections;	/* sorted by address */
	size_t n_sections;
	bool gone;		/* unloaded while we read it: no sections */
	struct ks_notes *notes;	/* its notes sections, by name (notes.h) */
	size_t n_notes;
};

/* The loaded modules, oldest first (the reverse of /proc/modules). */
struct ks_modlist {
	struct ks_module *mods;
	size_t n;
};

/*
 * Read the loaded set from <root>/proc/modules and each module's sections
 * from <root>/sys/module/<name>/sections. A module that vanishes while being
 * read is marked gone, not an error. A missing proc/modules (CONFIG_MODULES
 * off) is an empty list.
 */
int ks_modlist_read(struct ks_modlist *list, const struct ks_root *root, struct ks_error *err);

/* Only <root>/proc/modules: the set, order, bases and sizes, no sections.
 * Cheap; used to tell whether the module set changed during a snapshot. */
int ks_modlist_read_set(struct ks_modlist *list, const struct ks_root *root,
			struct ks_error *err);

/* Parse proc/modules text (modified in place; not freed). */
int ks_modlist_parse(struct ks_modlist *list, char *text, size_t len, struct ks_error *err);

/* Same names, bases and sizes in the same order. */
bool ks_modlist_same_set(const struct ks_modlist *a, const struct ks_modlist *b);

/* The same set, and each module with the same sections and notes. */
bool ks_modlist_equal(const struct ks_modlist *a, const struct ks_modlist *b);

const struct ks_module *ks_modlist_find(const struct ks_modlist *list, const char *name);

void ks_module_release(struct ks_module *m);
void ks_modlist_release(struct ks_modlist *list);
