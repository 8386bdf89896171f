/* SPDX-License-Identifier: BSD-2-Clause */
#pragma once

#include <gelf.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

/*
 * A lookup index over a ksyms ELF image in memory (a snapshot mapping, or a
 * client's copy). Built once per image; the image must outlive the index.
 */
struct ks_symindex;

int ks_symindex_new(const void *image, size_t size, struct ks_symindex **out,
		    struct ks_error *err);
void ks_symindex_free(struct ks_symindex *idx);

size_t ks_symindex_count(const struct ks_symindex *idx);

/* By name, NetBSD's order: global and weak symbols first, then locals.
 * -ENOENT if absent. */
int ks_symindex_lookup_name(const struct ks_symindex *idx, const char *name, GElf_Sym *sym);

/* By address: the symbol whose [st_value, st_value + st_size) holds addr
 * (for size 0, addr == st_value), preferring globals among aliases.
 * *name and *offset may be NULL. -ENOENT if no symbol covers addr. */
int ks_symindex_lookup_addr(const struct ks_symindex *idx, uint64_t addr, GElf_Sym *sym,
			    const char **name, uint64_t *offset);
