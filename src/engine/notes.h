/* SPDX-License-Identifier: BSD-2-Clause */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shared/error.h"
#include "model.h"
#include "modules.h"
#include "root.h"

/*
 * The ELF notes of the kernel (<root>/sys/kernel/notes: its .notes section,
 * the GNU build-id among them) and of each module
 * (<root>/sys/module/<name>/notes/<section>). The bytes are the kernel's,
 * in its byte order, and go into the image as they are.
 */

/* Limits, each failing with a message (malformed notes are only left out). */
#define KS_NOTES_SIZE_MAX ((size_t)64 << 10)	/* bytes of one notes file */
#define KS_NOTES_FILES_MAX 64u			/* notes files of one module */

/* One section of notes: a checked sequence of Elf_Nhdr + name + desc. */
struct ks_notes {
	char *name;		/* ".notes" for the kernel's, else the file's name */
	unsigned char *data;	/* size bytes, or NULL and 0: no notes */
	size_t size;
};

/*
 * Is data a well-formed sequence of notes in byte order elf_data
 * (ELFDATA2LSB/MSB): each a 12-byte header, then the name (n_namesz bytes,
 * NUL-terminated) and the desc, each padded to 4 bytes, the last one
 * ending exactly at size? Elf32_Nhdr and Elf64_Nhdr are alike, so the
 * class does not matter. 0, or -EINVAL with *why saying what is wrong.
 */
int ks_notes_check(const void *data, size_t size, unsigned char elf_data, const char **why);

/*
 * <root>/sys/kernel/notes into *n (named ".notes", as in vmlinux). No file
 * or an empty one: no notes. Malformed notes: one warning naming the file,
 * and no notes. Errors: a file above KS_NOTES_SIZE_MAX (-EFBIG), not a
 * regular file (-EINVAL), a failed read.
 */
int ks_notes_read_kernel(struct ks_notes *n, const struct ks_root *root, unsigned char elf_data,
			 struct ks_error *err);

/*
 * m->notes from <root>/sys/module/<m->name>/notes/, sorted by name. No
 * directory: no notes. A file that vanishes mid-read (the module is being
 * removed) marks m gone, as a vanished section does. Malformed files are
 * left out (one warning each); the limits and other errors as above.
 */
int ks_notes_read_module(struct ks_module *m, const struct ks_root *root, unsigned char elf_data,
			 struct ks_error *err);

/* ks_notes_read_module() for each module of list not gone already. */
int ks_notes_read_modules(struct ks_modlist *list, const struct ks_root *root,
			  unsigned char elf_data, struct ks_error *err);

/* m's notes file named name (".note.gnu.build-id"), if it has one that is
 * not empty; NULL otherwise. */
const struct ks_notes *ks_module_notes(const struct ks_module *m, const char *name);

/* Same name and bytes; NULL is as no notes. */
bool ks_notes_equal(const struct ks_notes *a, const struct ks_notes *b);

/* Frees what n holds and empties it; NULL is fine. */
void ks_notes_release(struct ks_notes *n);
void ks_notes_release_all(struct ks_notes *v, size_t n);
/* Release and free one that was allocated; NULL is fine. */
void ks_notes_free(struct ks_notes *n);
