/* SPDX-License-Identifier: BSD-2-Clause */
#pragma once

#include <stddef.h>

#include "shared/error.h"
#include "model.h"

/*
 * Write the model as an ELF image (ET_EXEC, .symtab/.strtab/.shstrtab, one
 * SHT_NOBITS section per region, PT_LOAD for the kernel's text and data) to
 * fd, from offset 0. fd must be writable and resizable (a memfd). On success
 * *size is the image size and fd holds exactly that many bytes.
 */
int ks_elfimage_write(const struct ks_model *m, int fd, size_t *size, struct ks_error *err);
