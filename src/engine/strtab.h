/* SPDX-License-Identifier: BSD-2-Clause */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "shared/error.h"
#include "model.h"

/*
 * The .strtab of a model's image: the empty name at offset 0, then every
 * other name once, each with its NUL. A name that is the tail of another is
 * stored inside it ("foo" in "__pfx_foo"), the same name twice only once.
 * Built in one go, read-only afterwards.
 *
 * Names are numbered as the image uses them: name i < m->n_syms is
 * m->syms[i].name, name_len bytes (not NUL-terminated); name m->n_syms + o
 * is m->owners[o].name, a C string. Nothing else of the model is read.
 */
struct ks_strtab;

struct ks_strtab_opts {
	/* 0: the table's size decides; 1 or 2: that many threads (tests). The
	 * bytes do not depend on it. */
	unsigned int threads;
};

/*
 * Build the table of m's names. opts may be NULL. Errors: -ENOMEM; -EINVAL
 * for a symbol name with a length but no pointer, or an owner without a
 * name; -E2BIG for an owner name longer than UINT16_MAX bytes, for 4 Gi
 * names or a table of 4 GiB.
 */
int ks_strtab_new(struct ks_strtab **stp, const struct ks_model *m,
		  const struct ks_strtab_opts *opts, struct ks_error *err);

/* Per name, its offset in the table: m->n_syms + m->n_owners entries. */
const uint32_t *ks_strtab_offsets(const struct ks_strtab *st);

/* The table's size in bytes (at least 1: the empty name). */
size_t ks_strtab_size(const struct ks_strtab *st);

/*
 * The table is kept in a few pieces, never copied into one: piece k, of *len
 * bytes, or NULL past the last one. The pieces in order are the table.
 */
const void *ks_strtab_piece(const struct ks_strtab *st, size_t k, size_t *len);

void ks_strtab_free(struct ks_strtab *st);
