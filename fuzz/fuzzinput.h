/* SPDX-License-Identifier: BSD-2-Clause */
/* What the structured fuzzers share: the fuzzer's bytes as a stream of
 * numbers, and a check that names the broken invariant. Header-only: each
 * target is one program. */
#pragma once

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(cond)								\
	do {									\
		if (!(cond)) {							\
			fprintf(stderr, "%s:%d: invariant broken: %s\n", __FILE__,	\
				__LINE__, #cond);					\
			abort();						\
		}								\
	} while (0)

struct input {
	const uint8_t *p;
	size_t n;
};

/* Past the end every byte reads 0, so a truncated input still decodes. */
static inline uint8_t u8(struct input *in)
{
	if (!in->n)
		return 0;
	in->n--;
	return *in->p++;
}

static inline uint16_t u16(struct input *in)
{
	uint16_t v = u8(in);

	return (uint16_t)(v | u8(in) << 8);
}

static inline uint32_t u32(struct input *in)
{
	uint32_t v = u16(in);

	return v | (uint32_t)u16(in) << 16;
}

static inline uint64_t u64(struct input *in)
{
	uint64_t v = u32(in);

	return v | (uint64_t)u32(in) << 32;
}

/* A growing NUL-terminated text (a generated kallsyms, ...). */
struct text {
	char *p;
	size_t len, cap;
};

static inline void text_add(struct text *t, const void *p, size_t len)
{
	if (len + 1 > t->cap - t->len) {
		size_t cap = (t->cap + len + 1) * 2;

		t->p = realloc(t->p, cap);
		CHECK(t->p);
		t->cap = cap;
	}
	memcpy(t->p + t->len, p, len);
	t->len += len;
	t->p[t->len] = '\0';
}
