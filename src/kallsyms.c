/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * /proc/kallsyms reader.
 *
 * The kernel formats the file at ~420 ns a symbol and hands it out at most a
 * page per read(), so reading dominates a snapshot. The parser therefore does
 * one pass over the text, with no copies: names and module tags are
 * terminated in place and the table points into the text.
 */
#include "kallsyms.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A hex digit's value plus one; 0 for anything else. */
static const unsigned char hexval1[256] = {
	['0'] = 1, ['1'] = 2, ['2'] = 3, ['3'] = 4, ['4'] = 5,
	['5'] = 6, ['6'] = 7, ['7'] = 8, ['8'] = 9, ['9'] = 10,
	['a'] = 11, ['b'] = 12, ['c'] = 13, ['d'] = 14, ['e'] = 15, ['f'] = 16,
	['A'] = 11, ['B'] = 12, ['C'] = 13, ['D'] = 14, ['E'] = 15, ['F'] = 16,
};

int ks_read_all(int fd, char **text, size_t *len, struct ks_error *err)
{
	/* kallsyms is ~5 MB on a distribution kernel: start big enough that
	 * the common case never reallocates. */
	size_t cap = 8u << 20, n = 0;
	char *buf = malloc(cap + 1), *grown;
	ssize_t r;

	if (!buf)
		return ks_error_set(err, ENOMEM, "out of memory");
	for (;;) {
		if (n == cap) {
			grown = realloc(buf, cap * 2 + 1);
			if (!grown) {
				free(buf);
				return ks_error_set(err, ENOMEM, "out of memory");
			}
			buf = grown;
			cap *= 2;
		}
		r = read(fd, buf + n, cap - n);
		if (r == 0)
			break;
		if (r < 0) {
			if (errno == EINTR)
				continue;
			r = errno;
			free(buf);
			return ks_error_set(err, (int)r, "read: %s", strerror((int)r));
		}
		n += (size_t)r;
	}
	buf[n] = '\0';
	*text = buf;
	*len = n;
	return 0;
}

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
static int parse_line(char **pp, char *end, size_t lineno, struct ks_rawsym *s,
		      struct ks_error *err)
{
	char *p = *pp, *name, *mod;
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
		*p++ = '\0';
		if (*p != '[')
			return bad_line(err, lineno, "expected \"\\t[module]\" after the name");
		mod = ++p;
		while ((c = char_class[(unsigned char)*p]) == C_NAME)
			p++;
		if (*p != ']' || p == mod)
			return bad_line(err, lineno, "expected \"\\t[module]\" after the name");
		*p++ = '\0';
		if (*p != '\n' && p != end)
			return bad_line(err, lineno, "malformed module name");
		s->module = mod;
		s->module_len = (uint16_t)(p - 1 - mod);
	}
	/* p is at the line's '\n' (or the end): terminate the name or tag. */
	if (p < end)
		*p++ = '\0';
	*pp = p;
	return 0;
}

int ks_kallsyms_parse(struct ks_kallsyms *ks, char *text, size_t len, struct ks_error *err)
{
	size_t cap, n = 0, lineno = 0;
	struct ks_rawsym *syms;
	char *p = text, *end = text + len;
	bool all_zero = true;
	int r;

	memset(ks, 0, sizeof(*ks));
	/* A kallsyms line is rarely under 24 bytes: one allocation covers it. */
	cap = len / 24 + 16;
	syms = malloc(cap * sizeof(*syms));
	if (!syms) {
		free(text);
		return ks_error_set(err, ENOMEM, "out of memory");
	}
	while (p < end) {
		lineno++;
		if (n == cap) {
			struct ks_rawsym *grown = realloc(syms, cap * 2 * sizeof(*syms));

			if (!grown) {
				r = ks_error_set(err, ENOMEM, "out of memory");
				goto fail;
			}
			syms = grown;
			cap *= 2;
		}
		r = parse_line(&p, end, lineno, &syms[n], err);
		if (r < 0)
			goto fail;
		if (syms[n].addr)
			all_zero = false;
		n++;
	}
	ks->text = text;
	ks->text_len = len;
	ks->syms = syms;
	ks->n_syms = n;
	ks->all_zero = n > 0 && all_zero;
	return 0;
fail:
	free(syms);
	free(text);
	return r;
}

int ks_kallsyms_read(struct ks_kallsyms *ks, const char *path, struct ks_error *err)
{
	char *text;
	size_t len;
	int fd, r;

	memset(ks, 0, sizeof(*ks));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return ks_error_set(err, errno, "%s: %s", path, strerror(errno));
	r = ks_read_all(fd, &text, &len, err);
	close(fd);
	if (r < 0)
		return ks_error_prefix(err, "%s", path);
	r = ks_kallsyms_parse(ks, text, len, err);
	if (r < 0)
		return ks_error_prefix(err, "%s", path);
	return 0;
}

void ks_kallsyms_release(struct ks_kallsyms *ks)
{
	free(ks->syms);
	free(ks->text);
	memset(ks, 0, sizeof(*ks));
}
