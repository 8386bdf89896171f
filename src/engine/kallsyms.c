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
#include <pthread.h>
#include <string.h>
#include <sys/mman.h>
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

/* Lines parsed so far: the parser can be fed a text in pieces. */
struct parser {
	struct ks_rawsym *syms;
	size_t n, cap, lineno;
	bool all_zero;
};

static int parser_init(struct parser *ps, size_t expected_len, struct ks_error *err)
{
	memset(ps, 0, sizeof(*ps));
	/* A kallsyms line is rarely under 24 bytes: one allocation covers it. */
	ps->cap = expected_len / 24 + 16;
	ps->syms = malloc(ps->cap * sizeof(*ps->syms));
	ps->all_zero = true;
	if (!ps->syms)
		return ks_error_set(err, ENOMEM, "out of memory");
	return 0;
}

/* Parse the lines in [*pp, end); end is just after a '\n', or the text's
 * end for the last piece. */
static int parser_feed(struct parser *ps, char **pp, char *end, struct ks_error *err)
{
	char *p = *pp;
	int r;

	while (p < end) {
		ps->lineno++;
		if (ps->n == ps->cap) {
			struct ks_rawsym *grown = realloc(ps->syms, ps->cap * 2 * sizeof(*grown));

			if (!grown)
				return ks_error_set(err, ENOMEM, "out of memory");
			ps->syms = grown;
			ps->cap *= 2;
		}
		r = parse_line(&p, end, ps->lineno, &ps->syms[ps->n], err);
		if (r < 0)
			return r;
		if (ps->syms[ps->n].addr)
			ps->all_zero = false;
		ps->n++;
	}
	*pp = p;
	return 0;
}

static void parser_finish(struct parser *ps, struct ks_kallsyms *ks)
{
	ks->syms = ps->syms;
	ks->n_syms = ps->n;
	ks->all_zero = ps->n > 0 && ps->all_zero;
}

int ks_kallsyms_parse(struct ks_kallsyms *ks, char *text, size_t len, struct ks_error *err)
{
	struct parser ps;
	char *p = text;
	int r;

	memset(ks, 0, sizeof(*ks));
	r = parser_init(&ps, len, err);
	if (r == 0)
		r = parser_feed(&ps, &p, text + len, err);
	if (r < 0) {
		free(ps.syms);
		free(text);
		return r;
	}
	ks->text = text;
	ks->text_len = len;
	parser_finish(&ps, ks);
	return 0;
}

/*
 * Reading and parsing at once. The kernel formats kallsyms as we read it, a
 * page per read(), and that is most of a snapshot's cost; a reader thread
 * keeps the kernel busy while this thread does other work (the modules) and
 * parses the lines that have arrived. The text goes into one reserved
 * mapping, so it never moves while the parser points into it.
 */
#define TEXT_RESERVE ((size_t)256 << 20)
#define PUBLISH_EVERY ((size_t)64 << 10)

struct reader {
	int fd;
	char *buf;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	size_t filled;		/* bytes the parser may look at (under lock) */
	bool done;
	int error;		/* errno, when done */
};

static void reader_publish(struct reader *rd, size_t filled, bool done, int error)
{
	pthread_mutex_lock(&rd->lock);
	rd->filled = filled;
	rd->done = done;
	rd->error = error;
	pthread_cond_signal(&rd->cond);
	pthread_mutex_unlock(&rd->lock);
}

static void *reader_main(void *arg)
{
	struct reader *rd = arg;
	size_t pos = 0, published = 0;
	ssize_t r;

	for (;;) {
		/* Keep one byte: the text stays NUL-terminated. */
		if (pos == TEXT_RESERVE - 1) {
			reader_publish(rd, pos, true, EFBIG);
			return NULL;
		}
		r = read(rd->fd, rd->buf + pos, TEXT_RESERVE - 1 - pos);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			reader_publish(rd, pos, true, r < 0 ? errno : 0);
			return NULL;
		}
		pos += (size_t)r;
		if (pos - published >= PUBLISH_EVERY) {
			reader_publish(rd, pos, false, 0);
			published = pos;
		}
	}
}

/* Append [p, end) to the unparsed copy. */
static int raw_append(struct ks_kallsyms *ks, size_t *cap, const char *p, const char *end)
{
	size_t n = (size_t)(end - p);

	if (ks->raw_len + n > *cap) {
		size_t ncap = (*cap ? *cap : 8u << 20);
		char *grown;

		while (ncap < ks->raw_len + n)
			ncap *= 2;
		grown = realloc(ks->raw, ncap);
		if (!grown)
			return -ENOMEM;
		ks->raw = grown;
		*cap = ncap;
	}
	memcpy(ks->raw + ks->raw_len, p, n);
	ks->raw_len += n;
	return 0;
}

int ks_kallsyms_read(struct ks_kallsyms *ks, const char *path,
		     const struct ks_kallsyms_read_opts *opts, struct ks_error *err)
{
	struct reader rd = { .lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER };
	const struct ks_kallsyms_read_opts none = { 0 };
	struct parser ps = { 0 };
	size_t seen = 0, raw_cap = 0;
	/* While the text matches opts->expect byte for byte, nothing is parsed:
	 * an unchanged kallsyms then costs only its reading. */
	bool comparing;
	char *p;
	pthread_t thread;
	int r, mr = 0;

	if (!opts)
		opts = &none;
	comparing = opts->expect != NULL;
	memset(ks, 0, sizeof(*ks));
	rd.fd = open(path, O_RDONLY | O_CLOEXEC);
	if (rd.fd < 0)
		return ks_error_set(err, errno, "%s: %s", path, strerror(errno));
	rd.buf = mmap(NULL, TEXT_RESERVE, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (rd.buf == MAP_FAILED) {
		close(rd.fd);
		return ks_error_set(err, ENOMEM, "%s: cannot reserve memory", path);
	}
	r = parser_init(&ps, 8u << 20, err);
	if (r < 0)
		goto out;
	r = pthread_create(&thread, NULL, reader_main, &rd);
	if (r) {
		r = ks_error_set(err, r, "cannot start a reader thread: %s", strerror(r));
		goto out;
	}
	if (opts->meanwhile)
		mr = opts->meanwhile(opts->meanwhile_arg, err);
	p = rd.buf;
	for (bool done = false; !done;) {
		size_t filled, compared = seen;
		char *end;

		pthread_mutex_lock(&rd.lock);
		while (!rd.done && rd.filled == seen)
			pthread_cond_wait(&rd.cond, &rd.lock);
		filled = seen = rd.filled;
		done = rd.done;
		pthread_mutex_unlock(&rd.lock);
		if (comparing) {
			comparing = filled <= opts->expect_len &&
				    memcmp(rd.buf + compared, opts->expect + compared,
					   filled - compared) == 0 &&
				    (!done || filled == opts->expect_len);
			if (comparing)
				continue;	/* the same so far: parse nothing */
			/* It differs: parse from the start, catching up. */
		}
		if (done) {
			end = rd.buf + filled;
		} else {
			/* Only whole lines: the last one may still be arriving. */
			end = memrchr(p, '\n', (size_t)(rd.buf + filled - p));
			if (!end)
				continue;
			end++;
		}
		if (r == 0 && mr == 0 && opts->keep_raw && raw_append(ks, &raw_cap, p, end) < 0)
			r = ks_error_set(err, ENOMEM, "out of memory");
		if (r == 0 && mr == 0)
			r = parser_feed(&ps, &p, end, err);
		if (r < 0 || mr < 0)
			p = end;	/* drain: the reader must finish before we unmap */
	}
	pthread_join(thread, NULL);
	if (mr < 0) {
		r = mr;
		goto out;
	}
	if (r < 0) {
		ks_error_prefix(err, "%s", path);
		goto out;
	}
	if (rd.error) {
		r = ks_error_set(err, rd.error, "%s: %s", path, strerror(rd.error));
		goto out;
	}
	ks->text = rd.buf;
	ks->text_len = rd.filled;
	ks->text_map = TEXT_RESERVE;
	rd.buf = NULL;
	if (comparing) {
		ks->unchanged = true;	/* exactly opts->expect: not parsed */
	} else {
		parser_finish(&ps, ks);
		ps.syms = NULL;
	}
out:
	free(ps.syms);
	if (r < 0) {
		free(ks->raw);
		ks->raw = NULL;
		ks->raw_len = 0;
	}
	if (rd.buf)
		munmap(rd.buf, TEXT_RESERVE);
	close(rd.fd);
	return r;
}

int ks_kallsyms_parse_unchanged(struct ks_kallsyms *ks, bool keep_raw, struct ks_error *err)
{
	struct parser ps;
	size_t raw_cap = 0;
	char *p = ks->text;
	int r;

	if (!ks->unchanged)
		return 0;
	r = keep_raw ? raw_append(ks, &raw_cap, ks->text, ks->text + ks->text_len) : 0;
	if (r < 0)
		return ks_error_set(err, ENOMEM, "out of memory");
	r = parser_init(&ps, ks->text_len, err);
	if (r == 0)
		r = parser_feed(&ps, &p, ks->text + ks->text_len, err);
	if (r < 0) {
		free(ps.syms);
		return r;
	}
	parser_finish(&ps, ks);
	ks->unchanged = false;
	return 0;
}

void ks_kallsyms_release(struct ks_kallsyms *ks)
{
	free(ks->syms);
	free(ks->raw);
	if (ks->text_map)
		munmap(ks->text, ks->text_map);
	else
		free(ks->text);
	memset(ks, 0, sizeof(*ks));
}
