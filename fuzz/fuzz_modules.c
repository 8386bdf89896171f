/* SPDX-License-Identifier: BSD-2-Clause */
/* libFuzzer: arbitrary bytes as proc/modules, as a sections/ file and as
 * a notes file (sys/kernel/notes, sys/module/<m>/notes/<section>). */
#include <gelf.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine/modsections.h"
#include "engine/modules.h"
#include "engine/notes.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint32_t word(const uint8_t *p, unsigned char elf_data)
{
	return elf_data == ELFDATA2LSB ? (uint32_t)p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24
				       : (uint32_t)p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3];
}

/* Notes that ks_notes_check() lets into the image must be what readers
 * walk: headers, NUL-terminated names and descs, padded to 4, ending at
 * size. Walked here again, another way (64-bit sums, no early exits). */
static void check_notes(const uint8_t *data, size_t size, unsigned char elf_data)
{
	const char *why = NULL;
	uint64_t off = 0;

	if (ks_notes_check(data, size, elf_data, &why) < 0) {
		if (!why || !why[0])
			abort();
		return;
	}
	if (size % 4)
		abort();
	while (off < size) {
		uint64_t namesz, descsz;

		if (size - off < 12)
			abort();
		namesz = word(data + off, elf_data);
		descsz = word(data + off + 4, elf_data);
		off += 12;
		if (namesz && (off + namesz > size || data[off + namesz - 1] != '\0'))
			abort();
		off += (namesz + 3) / 4 * 4;
		off += (descsz + 3) / 4 * 4;
		if (off > size)
			abort();
	}
}

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
	check_notes(data, size, ELFDATA2LSB);
	check_notes(data, size, ELFDATA2MSB);
	if (ks_modlist_parse(&l, text, size, NULL) == 0) {
		for (size_t i = 0; i < l.n; i++)
			if (!l.mods[i].name || !l.mods[i].name[0])
				abort();
		ks_modlist_release(&l);
	}
	free(text);
	return 0;
}
