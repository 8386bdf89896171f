/* SPDX-License-Identifier: BSD-2-Clause */
#pragma once

#include <stdbool.h>

#include "kallsyms.h"
#include "model.h"
#include "modules.h"

/*
 * A snapshot reads proc/modules (before), kallsyms, the modules' sections
 * (mods) and proc/modules again (after). These decide what of that may go
 * into one image.
 */

/* Keep in mods the modules that both lists show alike (name, base, size)
 * and whose sections were read whole; release the others. Says whether any
 * was left out. */
bool ks_keep_stable_modules(struct ks_modlist *mods, const struct ks_modlist *before,
			    const struct ks_modlist *after);

/* Drop the kallsyms lines of modules not in mods (left out, or never shown
 * by proc/modules); keep the kernel's and the pseudo-modules' ([bpf]...). */
void ks_keep_lines_of(struct ks_kallsyms *ks, const struct ks_modlist *mods);

/* Mark gone each module of mods (owners 1.. of model) whose kallsyms lines
 * and sections come from different loads: one of its symbols lies in none
 * of its sections, above the per-CPU offsets. Says whether there was one. */
bool ks_mark_torn_modules(const struct ks_model *model, struct ks_modlist *mods);

/* Release the modules marked gone. */
void ks_drop_gone_modules(struct ks_modlist *mods);

/* Every module Live, none Loading or Unloading. */
bool ks_modlist_all_live(const struct ks_modlist *list);

/* Does a module still show symbols in its init sections? The kernel drops
 * them from kallsyms a moment after the module's "add" uevent. */
bool ks_model_has_init_syms(const struct ks_model *model);
