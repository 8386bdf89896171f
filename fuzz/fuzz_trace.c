/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * libFuzzer: arbitrary bytes as a line of a stack trace, through ksyms(1)'s
 * reading of addresses (tools/ksyms/trace.c). Every token it finds must lie
 * after the last, inside the line, stand alone and spell its value; a
 * whole-line address must be what an independent reading says it is.
 */
#include <ctype.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../tools/ksyms/trace.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool word(char c)
{
	return isalnum((unsigned char)c) || c == '_';
}

/* ksy_parse_address() as the man page says it: blanks, 0x, 1-16 digits. */
static bool reference(const char *s, size_t len, uint64_t *v)
{
	char buf[40];
	size_t i = 0;

	while (len && strchr(" \t\r\n", s[len - 1]) && s[len - 1])
		len--;
	while (i < len && strchr(" \t\r\n", s[i]) && s[i])
		i++;
	if (len - i >= 2 && s[i] == '0' && (s[i + 1] == 'x' || s[i + 1] == 'X'))
		i += 2;
	if (len - i < 1 || len - i > 16)
		return false;
	for (size_t k = i; k < len; k++)
		if (!isxdigit((unsigned char)s[k]))
			return false;
	memcpy(buf, s + i, len - i);
	buf[len - i] = '\0';
	*v = strtoull(buf, NULL, 16);
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	struct ksy_token t;
	size_t from = 0;
	uint64_t v, ref;
	bool ok;

	while (ksy_next_address(s, size, from, &t)) {
		if (t.start < from || t.len == 0 || t.len > size - t.start)
			abort();
		if ((t.start > 0 && word(s[t.start - 1])) ||
		    (t.start + t.len < size && word(s[t.start + t.len])))
			abort();
		if (!ksy_parse_address(s + t.start, t.len, &v) || v != t.value)
			abort();
		from = t.start + t.len;
	}
	ok = ksy_parse_address(s, size, &v);
	if (ok != reference(s, size, &ref) || (ok && v != ref))
		abort();
	return 0;
}
