/* SPDX-License-Identifier: BSD-2-Clause */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "root.h"
#include "shared/error.h"

/*
 * A text file of the kernel's (kallsyms) read whole: owned, never modified,
 * NUL-terminated at data[len]. Parsers point into it.
 */
struct ks_text {
	char *data;
	size_t len;
	size_t map_len;		/* the private mapping that holds data */
};

/* The most a text may hold; a larger file is refused with EFBIG. */
#define KS_TEXT_MAX ((size_t)256 << 20)

/*
 * A read of one file on a thread of its own. procfs formats kallsyms as it
 * is read, a page per read(), so reading is most of a snapshot's cost: the
 * caller does its other work (the modules) meanwhile, then collects the text.
 */
struct ks_text_read;

/* Open the regular file <root>/<rel> and start reading it; root and rel
 * must outlive the read. */
int ks_text_read_start(struct ks_text_read **rd, const struct ks_root *root, const char *rel,
		       struct ks_error *err);

/* The same on fd, already open on what messages will call <root>/<rel>;
 * the read takes fd over. */
int ks_text_read_start_fd(struct ks_text_read **rd, int fd, const struct ks_root *root,
			  const char *rel, struct ks_error *err);

/*
 * Wait until more than seen bytes have arrived, or the read has ended (the
 * return value). The bytes [0, *avail) of *data may be read meanwhile: they
 * never move or change; at the end, (*data)[*avail] is '\0'.
 */
bool ks_text_read_wait(struct ks_text_read *rd, size_t seen, const char **data, size_t *avail);

/* Wait for the read to end and take its text. rd is freed either way. */
int ks_text_read_finish(struct ks_text_read *rd, struct ks_text *text, struct ks_error *err);

/* Stop the read without waiting for the rest of the file, and free rd. */
void ks_text_read_abandon(struct ks_text_read *rd);

/* Start and finish in one call. */
int ks_text_read(const struct ks_root *root, const char *rel, struct ks_text *text,
		 struct ks_error *err);

bool ks_text_equal(const struct ks_text *a, const struct ks_text *b);

void ks_text_release(struct ks_text *t);
