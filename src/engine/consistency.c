/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Which modules a snapshot may keep: the rules that make every module in an
 * image complete while modules load and unload during the read (see the top
 * of snapshot.c), and whether the kernel was at rest while it was read.
 */
#include "consistency.h"

#include <string.h>

#include "shared/log.h"

/* Is m listed alike (same base and size) in list? */
static bool listed_alike(const struct ks_modlist *list, const struct ks_module *m)
{
	const struct ks_module *l = ks_modlist_find(list, m->name);

	return l && l->base == m->base && l->size == m->size;
}

bool ks_keep_stable_modules(struct ks_modlist *mods, const struct ks_modlist *before,
			    const struct ks_modlist *after)
{
	size_t n = 0, had = mods->n;

	for (size_t i = 0; i < mods->n; i++) {
		struct ks_module *m = &mods->mods[i];

		if (!m->gone && listed_alike(before, m) && listed_alike(after, m)) {
			mods->mods[n++] = *m;
			continue;
		}
		ks_debug("module %s changed while the snapshot was read: left out", m->name);
		ks_module_release(m);
	}
	mods->n = n;
	return n != had;
}

bool ks_modlist_all_live(const struct ks_modlist *list)
{
	for (size_t i = 0; i < list->n; i++)
		if (!list->mods[i].live)
			return false;
	return true;
}

bool ks_model_has_init_syms(const struct ks_model *model)
{
	for (size_t o = 1; o < model->n_owners; o++) {
		const struct ks_owner *ow = &model->owners[o];

		if (ow->kind != KS_OWNER_MODULE)
			continue;
		for (size_t i = ow->first_sym; i < ow->first_sym + ow->n_syms; i++) {
			uint32_t rg = model->syms[i].region;

			if (rg != KS_REGION_ABS && !strncmp(ow->regions[rg].name, ".init", 5))
				return true;
		}
	}
	return false;
}

/* kallsyms' tags that are no module: BPF, ftrace and kprobe pages. */
static bool is_pseudo_module(const char *tag, size_t len)
{
	return (len == 3 && !memcmp(tag, "bpf", 3)) ||
	       (len > 11 && !memcmp(tag, "__builtin__", 11));
}

/*
 * Drop the kallsyms lines of modules the snapshot leaves out, and of any
 * that proc/modules never showed (loaded and gone between its reads): keep
 * the kernel's, the kept modules' and the pseudo-modules'.
 */
void ks_keep_lines_of(struct ks_kallsyms *ks, const struct ks_modlist *mods)
{
	const struct ks_rawsym *prev = NULL;
	bool keep_prev = true;
	size_t n = 0;

	for (size_t i = 0; i < ks->n_syms; i++) {
		const struct ks_rawsym *s = &ks->syms[i];
		bool keep = true;

		if (s->module) {
			/* A module's lines come in a run: decide once per run. */
			if (prev && prev->module_len == s->module_len &&
			    !memcmp(prev->module, s->module, s->module_len)) {
				keep = keep_prev;
			} else {
				keep = is_pseudo_module(s->module, s->module_len);
				for (size_t k = 0; !keep && k < mods->n; k++)
					keep = !strncmp(mods->mods[k].name, s->module, s->module_len) &&
					       !mods->mods[k].name[s->module_len];
			}
			prev = s;
			keep_prev = keep;
		}
		if (keep)
			ks->syms[n++] = *s;
	}
	ks->n_syms = n;
}

/*
 * A module can be unloaded and loaded again at the same address between
 * the reads, and then proc/modules lists it alike before and after while
 * its kallsyms lines and its sections come from different loads (or its
 * sections directory is not there yet): a symbol of it lands in its
 * address range but in none of its sections. Mark such a module gone; says
 * whether there was one.
 */
bool ks_mark_torn_modules(const struct ks_model *model, struct ks_modlist *mods)
{
	uint64_t low = UINT64_MAX;
	bool torn_any = false;

	/* Per-CPU offsets lie below every address the kernel and its modules
	 * occupy; a torn module's symbol lies among them. */
	if (model->n_owners && model->owners[0].n_regions)
		low = model->owners[0].regions[0].addr;
	for (size_t i = 0; i < mods->n; i++) {
		if (mods->mods[i].base && mods->mods[i].base < low)
			low = mods->mods[i].base;
		if (mods->mods[i].n_sections && mods->mods[i].sections[0].addr < low)
			low = mods->mods[i].sections[0].addr;
	}
	for (size_t o = 1; o <= mods->n && o < model->n_owners; o++) {
		const struct ks_owner *ow = &model->owners[o];
		struct ks_module *mod = &mods->mods[o - 1];

		if (ow->kind != KS_OWNER_MODULE)
			continue;
		for (size_t i = ow->first_sym; i < ow->first_sym + ow->n_syms; i++) {
			const struct ks_sym *sym = &model->syms[i];

			if (sym->region == KS_REGION_ABS && !ks_letter_is_abs(sym->letter) &&
			    sym->addr >= low) {
				ks_debug("module %s: %.*s in none of its sections: left out",
					 mod->name, (int)sym->name_len, sym->name);
				mod->gone = true;
				torn_any = true;
				break;
			}
		}
	}
	return torn_any;
}

/* Release the modules marked gone. */
void ks_drop_gone_modules(struct ks_modlist *mods)
{
	size_t n = 0;

	for (size_t i = 0; i < mods->n; i++) {
		if (mods->mods[i].gone)
			ks_module_release(&mods->mods[i]);
		else
			mods->mods[n++] = mods->mods[i];
	}
	mods->n = n;
}
