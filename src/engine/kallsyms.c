/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * /proc/kallsyms parser.
 *
 * One pass over the text and no copies: the table points into the text,
 * which is left untouched, so the same bytes can still be compared with the
 * next read of the file.
 */
#include "kallsyms.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* A hex digit's value plus one; 0 for anything else. */
static const unsigned char hexval1[256] = {
	['0'] = 1, ['1'] = 2, ['2'] = 3, ['3'] = 4, ['4'] = 5,
	['5'] = 6, ['6'] = 7, ['7'] = 8, ['8'] = 9, ['9'] = 10,
	['a'] = 11, ['b'] = 12, ['c'] = 13, ['d'] = 14, ['e'] = 15, ['f'] = 16,
	['A'] = 11, ['B'] = 12, ['C'] = 13, ['D'] = 14, ['E'] = 15, ['F'] = 16,
};

/* Character classes for the one-pass scan. */
enum { C_NAME = 0, C_TAB, C_NL, C_SPACE, C_NUL, C_BRACKET };
static const unsigned char char_class[256] = {
	['\t'] = C_TAB, ['\n'] = C_NL, [' '] = C_SPACE, ['\0'] = C_NUL,
	['['] = C_BRACKET, [']'] = C_BRACKET,
};

/* The letters kallsyms prints (see ks_letter_to_elf). */
static const bool type_letter[256] = {
	['A'] = 1, ['a'] = 1, ['B'] = 1, ['b'] = 1, ['C'] = 1, ['c'] = 1, ['D'] = 1, ['d'] = 1,
	['G'] = 1, ['g'] = 1, ['N'] = 1, ['n'] = 1, ['R'] = 1, ['r'] = 1, ['S'] = 1, ['s'] = 1,
	['T'] = 1, ['t'] = 1, ['U'] = 1, ['u'] = 1, ['V'] = 1, ['v'] = 1, ['W'] = 1, ['w'] = 1,
	['?'] = 1,
};

static int bad_line(struct ks_error *err, size_t lineno, const char *what)
{
	return ks_error_set(err, EINVAL, "line %zu: %s", lineno, what);
}

/*
 * Parse the line at *pp, up to its '\n' or end, and leave *pp after it. The
 * text is NUL-terminated at end, which stops every scan.
 */
static int parse_line(const char **pp, const char *end, size_t lineno, struct ks_rawsym *s,
		      struct ks_error *err)
{
	const char *p = *pp, *name, *mod;
	uint64_t addr = 0;
	unsigned char v, c;
	int digits = 0;

	while ((v = hexval1[(unsigned char)*p]) != 0) {
		addr = addr << 4 | (uint64_t)(v - 1);
		p++;
		digits++;
	}
	if (digits == 0 || digits > 16 || *p != ' ')
		return bad_line(err, lineno, "expected a hex address of 1-16 digits and a space");
	p++;
	if (!type_letter[(unsigned char)p[0]] || p[1] != ' ')
		return bad_line(err, lineno, "expected a type letter and a space after the address");
	s->addr = addr;
	s->type = p[0];
	name = p += 2;
	while ((c = char_class[(unsigned char)*p]) == C_NAME || c == C_BRACKET)
		p++;
	if (p == name)
		return bad_line(err, lineno, "empty symbol name");
	if (p - name > KS_NAME_MAX - 1)
		return bad_line(err, lineno, "symbol name longer than 511 bytes");
	s->name = name;
	s->name_len = (uint16_t)(p - name);
	s->module = NULL;
	s->module_len = 0;
	if (c == C_SPACE)
		return bad_line(err, lineno, "space in symbol name");
	if (c == C_NUL && p != end)
		return bad_line(err, lineno, "NUL byte in symbol name");
	if (c == C_TAB) {
		if (*++p != '[')
			return bad_line(err, lineno, "expected \"\\t[module]\" after the name");
		mod = ++p;
		while ((c = char_class[(unsigned char)*p]) == C_NAME)
			p++;
		if (*p != ']' || p == mod)
			return bad_line(err, lineno, "expected \"\\t[module]\" after the name");
		if (p - mod > KS_NAME_MAX - 1)
			return bad_line(err, lineno, "module name longer than 511 bytes");
		s->module = mod;
		s->module_len = (uint16_t)(p - mod);
		p++;
		if (*p != '\n' && p != end)
			return bad_line(err, lineno, "malformed module name");
	}
	/* p is at the line's '\n' (or the end). */
	if (p < end)
		p++;
	*pp = p;
	return 0;
}

/* Room for one more symbol; seen: the bytes of text there are so far. */
static int grow(struct ks_kallsyms *ks, size_t seen)
{
	/* A kallsyms line is rarely under 24 bytes: a whole text fits the
	 * first allocation, and one that is still arriving doubles it a few
	 * times (a large block grows in place: mremap). */
	size_t cap = ks->cap ? ks->cap * 2 : seen / 24 + 64;
	struct ks_rawsym *grown;

	if (ks->n_syms < ks->cap)
		return 0;
	grown = realloc(ks->syms, cap * sizeof(*grown));
	if (!grown)
		return -ENOMEM;
	ks->syms = grown;
	ks->cap = cap;
	return 0;
}

int ks_kallsyms_parse_more(struct ks_kallsyms *ks, const char *text, size_t avail, bool last,
			   struct ks_error *err)
{
	const char *p = text + ks->parsed, *end = text + avail;
	int r;

	if (!last) {
		/* Only whole lines: the last one may still be arriving. */
		const char *nl = memrchr(p, '\n', (size_t)(end - p));

		/* Fail as soon as a line cannot be one, not at the end of a
		 * text that may be huge. */
		if (!nl && end - p > KS_LINE_MAX) {
			r = ks_error_set(err, EINVAL, "line %zu: longer than %d bytes",
					 ks->lineno + 1, KS_LINE_MAX);
			goto fail;
		}
		if (!nl)
			return 0;
		end = nl + 1;
	}
	while (p < end) {
		ks->lineno++;
		if (grow(ks, avail) < 0) {
			r = ks_error_set(err, ENOMEM, "out of memory");
			goto fail;
		}
		r = parse_line(&p, end, ks->lineno, &ks->syms[ks->n_syms], err);
		if (r < 0)
			goto fail;
		ks->n_syms++;
	}
	ks->parsed = (size_t)(p - text);
	return 0;
fail:
	ks_kallsyms_release(ks);
	return r;
}

int ks_kallsyms_parse(struct ks_kallsyms *ks, const char *text, size_t len, struct ks_error *err)
{
	memset(ks, 0, sizeof(*ks));
	return ks_kallsyms_parse_more(ks, text, len, true, err);
}

bool ks_kallsyms_all_zero(const char *text, size_t len)
{
	const char *p = text, *end = text + len, *nl;

	if (len == 0)
		return false;
	for (; p < end; p = nl + 1) {
		const char *digits = p;

		while (p < end && *p == '0')
			p++;
		if (p == digits || p == end || *p != ' ')
			return false;
		nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			break;
	}
	return true;
}

void ks_kallsyms_release(struct ks_kallsyms *ks)
{
	free(ks->syms);
	memset(ks, 0, sizeof(*ks));
}
