/* SPDX-License-Identifier: BSD-2-Clause */
/* Addresses in text (trace.h). */
#include "trace.h"

static bool is_word(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       c == '_';
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Hex digits at s[i, len): how many, and their value if 16 at most. */
static size_t hex_run(const char *s, size_t i, size_t len, uint64_t *value)
{
	size_t n = 0;
	int d;

	*value = 0;
	while (i + n < len && (d = hexval(s[i + n])) >= 0) {
		if (n < 16)
			*value = *value << 4 | (uint64_t)d;
		n++;
	}
	return n;
}

static bool has_0x(const char *s, size_t i, size_t len)
{
	return i + 1 < len && s[i] == '0' && (s[i + 1] == 'x' || s[i + 1] == 'X');
}

bool ksy_parse_address(const char *s, size_t len, uint64_t *value)
{
	size_t i = 0, n;

	while (len && is_blank(s[len - 1]))
		len--;
	while (i < len && is_blank(s[i]))
		i++;
	if (has_0x(s, i, len))
		i += 2;
	n = hex_run(s, i, len, value);
	return n >= 1 && n <= 16 && i + n == len;
}

bool ksy_next_address(const char *line, size_t len, size_t from, struct ksy_token *tok)
{
	for (size_t i = from; i < len; i++) {
		size_t digits, start = i;
		bool prefixed;
		uint64_t v;

		if (i > 0 && is_word(line[i - 1]))
			continue; /* inside a word: not a token's start */
		if (hexval(line[i]) < 0)
			continue;
		prefixed = has_0x(line, i, len);
		digits = hex_run(line, i + (prefixed ? 2 : 0), len, &v);
		if (prefixed && digits == 0)
			continue;
		/* The token runs to the end of the word, hex or not. */
		i += (prefixed ? 2 : 0) + digits;
		if (i < len && is_word(line[i]))
			continue;
		if (start > 0 && (line[start - 1] == '+' || line[start - 1] == '/'))
			continue;
		if (digits > 16 || (prefixed ? digits < 1 : digits < 8))
			continue;
		*tok = (struct ksy_token){ .start = start, .len = i - start, .value = v };
		return true;
	}
	return false;
}
