/* SPDX-License-Identifier: BSD-2-Clause */
/* libFuzzer: arbitrary bytes as proc/modules and as a sections/ file. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine/modsections.h"
#include "engine/modules.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ks_modlist l;
	char *text = malloc(size + 1);
	uint64_t addr;

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	(void)ks_section_addr_parse(text, &addr);
	if (ks_modlist_parse(&l, text, size, NULL) == 0) {
		for (size_t i = 0; i < l.n; i++)
			if (!l.mods[i].name || !l.mods[i].name[0])
				abort();
		ks_modlist_release(&l);
	}
	free(text);
	return 0;
}
