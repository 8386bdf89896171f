/* SPDX-License-Identifier: BSD-2-Clause */
#pragma once

#include <stdint.h>

#include "shared/error.h"
#include "modules.h"

/*
 * Fill m->sections from sys/module/<m->name>/sections/ under root, sorted by
 * address. If the module is gone (unloaded meanwhile), sets m->gone and
 * returns 0. The running system ("/") is read through libkmod; any other
 * root (a fixture tree) by reading the files directly.
 */
int ks_modsections_read(struct ks_module *m, const struct ks_root *root, struct ks_error *err);

/* The two readers, exposed so a test on a live kernel can compare them. */
int ks_modsections_read_tree(struct ks_module *m, const struct ks_root *root,
			     struct ks_error *err);
int ks_modsections_read_kmod(struct ks_module *m, struct ks_error *err);

/* The contents of one sections/<name> file: "0x<hex>\n". -EINVAL otherwise. */
int ks_section_addr_parse(const char *text, uint64_t *addr);
