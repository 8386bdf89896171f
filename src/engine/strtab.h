/* SPDX-License-Identifier: BSD-2-Clause */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "shared/error.h"

/*
 * An ELF string table (.strtab) for names numbered 0..n-1: the empty name at
 * offset 0, then every other name once, each with its NUL. A name that is the
 * tail of another is stored inside it ("foo" in "__pfx_foo"), the same name
 * twice only once. Built in one go, read-only afterwards.
 */
struct ks_strtab;

/* A name: len bytes at s, not necessarily NUL-terminated (nothing past len
 * is read). len 0 is the empty name, at offset 0; s may then be anything. */
struct ks_strtab_name {
	const char *s;
	size_t len;
};

/*
 * Fill out[0..count) with names first..first+count-1. Asked for a batch at a
 * time, not a name: an indirect call per name is a cost of its own. Each
 * name is asked for more than once and must be the same each time.
 */
typedef void (*ks_strtab_names_fn)(const void *arg, size_t first, size_t count,
				   struct ks_strtab_name *out);

struct ks_strtab_opts {
	/* 0: the table's size decides; 1 or 2: that many threads (tests). The
	 * bytes do not depend on it. */
	unsigned int threads;
};

/*
 * Build the table of n names. opts may be NULL. Errors: -ENOMEM; -EINVAL
 * for a name with a length but no pointer; -E2BIG for a name longer than
 * UINT16_MAX or a table of 4 GiB or more.
 */
int ks_strtab_new(struct ks_strtab **stp, size_t n, ks_strtab_names_fn names, const void *arg,
		  const struct ks_strtab_opts *opts, struct ks_error *err);

/* Per name, its offset in the table: n entries. */
const uint32_t *ks_strtab_offsets(const struct ks_strtab *st);

/* The table's size in bytes (at least 1: the empty name). */
size_t ks_strtab_size(const struct ks_strtab *st);

/*
 * The table is kept in a few pieces, never copied into one: piece k, of *len
 * bytes, or NULL past the last one. The pieces in order are the table.
 */
const void *ks_strtab_piece(const struct ks_strtab *st, size_t k, size_t *len);

void ks_strtab_free(struct ks_strtab *st);
