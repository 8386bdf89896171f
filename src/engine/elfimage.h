/* SPDX-License-Identifier: BSD-2-Clause */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "shared/error.h"
#include "model.h"

/*
 * Write the model as an ELF image (ET_EXEC, .symtab/.strtab/.shstrtab, one
 * SHT_NOBITS section per region, PT_LOAD for the kernel's text and data) to
 * fd, from offset 0. fd must be writable and resizable (a memfd). On success
 * *size is the image size and fd holds exactly that many bytes.
 */
int ks_elfimage_write(const struct ks_model *m, int fd, size_t *size, struct ks_error *err);

struct ks_strtab;

/*
 * A .strtab kept from an earlier image (dynsyms.h): the pieces of base,
 * then tail_len bytes of tail, are the table; off[i] is the offset of name
 * i, numbered as strtab.h numbers them for m (symbols, then owners).
 */
struct ks_elfimage_strtab {
	const struct ks_strtab *base;
	const char *tail;
	size_t tail_len;
	const uint32_t *off;
};

/*
 * The same image with the names given, so that an image that differs from
 * the last one by a few symbols does not merge every name again. Every
 * offset must lie inside the table (-EINVAL otherwise).
 */
int ks_elfimage_write_with(const struct ks_model *m, const struct ks_elfimage_strtab *names,
			   int fd, size_t *size, struct ks_error *err);
