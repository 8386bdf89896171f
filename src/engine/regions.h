/* SPDX-License-Identifier: BSD-2-Clause */
#pragma once

#include "model.h"
#include "modules.h"

/*
 * Fill o->regions (sorted by address, not overlapping) from the owner's
 * symbols syms[o->first_sym ...] and, for a module, its sections, less
 * those that have a notes file in mod->notes (the image has them as notes
 * sections of the same names). The region names point into static
 * strings or mod. -ENOMEM only.
 */
int ks_regions_kernel(struct ks_owner *o, const struct ks_sym *syms);
int ks_regions_module(struct ks_owner *o, const struct ks_module *mod, const struct ks_sym *syms);
int ks_regions_pseudo(struct ks_owner *o, const struct ks_sym *syms);
