/* SPDX-License-Identifier: BSD-2-Clause */
/* JSON output helpers (json.h). */
#include "json.h"

#include <inttypes.h>

void ksy_json_string(FILE *f, const char *s)
{
	if (!s) {
		fputs("null", f);
		return;
	}
	putc('"', f);
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			fprintf(f, "\\%c", ch);
		else if (ch < 0x20 || ch == 0x7f)
			fprintf(f, "\\u%04x", ch);
		else
			putc(ch, f);
	}
	putc('"', f);
}

static void key(FILE *f, int first, const char *name)
{
	if (!first)
		putc(',', f);
	ksy_json_string(f, name);
	putc(':', f);
}

void ksy_json_str_field(FILE *f, int first, const char *name, const char *value)
{
	key(f, first, name);
	ksy_json_string(f, value);
}

void ksy_json_num_field(FILE *f, int first, const char *name, uint64_t value)
{
	key(f, first, name);
	fprintf(f, "%" PRIu64, value);
}

void ksy_json_addr_field(FILE *f, int first, const char *name, uint64_t value)
{
	key(f, first, name);
	fprintf(f, "\"0x%" PRIx64 "\"", value);
}
