/* SPDX-License-Identifier: BSD-2-Clause */
#pragma once

#include <stdint.h>

#include "shared/error.h"
#include "modules.h"

/*
 * Fill m->sections from <root>/sys/module/<m->name>/sections/, sorted by
 * address. If the module is gone (a file vanished mid-read, or it is
 * loading or unloading without sections), sets m->gone and returns 0; a
 * live module without a sections directory gets no sections.
 */
int ks_modsections_read(struct ks_module *m, const struct ks_root *root, struct ks_error *err);

/* The contents of one sections/<name> file: "0x<hex>\n". -EINVAL otherwise. */
int ks_section_addr_parse(const char *text, uint64_t *addr);
