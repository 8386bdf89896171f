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
		goto out;
	/* The parser leaves the text as it was. */
	if (memcmp(text, data, size) != 0)
		abort();
	for (size_t i = 0; i < ks.n_syms; i++) {
		const struct ks_rawsym *r = &ks.syms[i];

		/* What the parser promises: names inside the text, without
		 * the bytes that end a name. */
		if (r->name_len == 0 || r->name_len >= KS_NAME_MAX || r->name < text ||
		    r->name + r->name_len > text + size ||
		    memchr(r->name, '\n', r->name_len) || memchr(r->name, '\t', r->name_len) ||
		    memchr(r->name, ' ', r->name_len) || memchr(r->name, '\0', r->name_len))
			abort();
		if (r->module && (r->module_len == 0 || r->module_len >= KS_NAME_MAX ||
				  r->module + r->module_len > text + size ||
				  memchr(r->module, ']', r->module_len)))
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
out:
	free(text);
	return 0;
}
