/* SPDX-License-Identifier: BSD-2-Clause */
/* libFuzzer: arbitrary bytes as /proc/kallsyms, through parser and model. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine/kallsyms.h"
#include "engine/model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ks_modlist mods = { 0 };
	struct ks_kallsyms ks;
	struct ks_model m;
	struct ks_target t;
	char *text = malloc(size + 1);

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (ks_kallsyms_parse(&ks, text, size, NULL) < 0)
		return 0;	/* the parser freed text */
	for (size_t i = 0; i < ks.n_syms; i++) {
		/* What the parser promises. */
		if (strlen(ks.syms[i].name) != ks.syms[i].name_len || ks.syms[i].name_len == 0 ||
		    ks.syms[i].name_len >= KS_NAME_MAX)
			abort();
		if (ks.syms[i].module && strlen(ks.syms[i].module) != ks.syms[i].module_len)
			abort();
	}
	ks_target_from_machine("x86_64", &t);
	if (ks_model_build(&m, &ks, &mods, &t, NULL) == 0) {
		for (size_t i = 0; i < m.n_syms; i++) {
			const struct ks_sym *s = &m.syms[i];

			if (s->region != KS_REGION_ABS) {
				const struct ks_region *r = &m.owners[s->owner].regions[s->region];

				if (s->addr < r->addr || s->addr - r->addr + s->size > r->size)
					abort();
			}
		}
		ks_model_release(&m);
	}
	ks_kallsyms_release(&ks);
	return 0;
}
