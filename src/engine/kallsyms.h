/* SPDX-License-Identifier: BSD-2-Clause */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shared/error.h"

/* The kernel's own limit (KSYM_NAME_LEN in 6.1+). */
#define KS_NAME_MAX 512

/* The longest line those names allow: "ADDR T NAME\t[MODULE]\n". */
#define KS_LINE_MAX (16 + 3 + (KS_NAME_MAX - 1) + 2 + (KS_NAME_MAX - 1) + 2)

/*
 * One line of /proc/kallsyms: "ADDR TYPE NAME" or "ADDR TYPE NAME\t[MODULE]".
 * name and module point into the text, which the parser leaves as it is: they
 * are NOT NUL-terminated, use the lengths.
 */
struct ks_rawsym {
	uint64_t addr;
	const char *name;
	const char *module;	/* without brackets; NULL = vmlinux */
	uint16_t name_len;
	uint16_t module_len;
	char type;		/* the kallsyms letter */
};

/* A parsed kallsyms text. The table points into the text, which must
 * outlive it. Zero-initialized, it is an empty table ready to be fed. */
struct ks_kallsyms {
	struct ks_rawsym *syms;	/* in file order */
	size_t n_syms;
	size_t cap;		/* the parser's: syms allocated, */
	size_t parsed;		/* bytes of text parsed, */
	size_t lineno;		/* lines parsed */
};

/*
 * Parse a whole kallsyms text of len bytes; text[len] must be '\0'. On error,
 * ks is left empty and err names the line.
 */
int ks_kallsyms_parse(struct ks_kallsyms *ks, const char *text, size_t len, struct ks_error *err);

/*
 * Parse a text as it arrives: the first avail bytes of text are there, and
 * the rest is still being read into the same buffer behind them. Parses the
 * whole lines not parsed yet; with last, everything (text[avail] must then
 * be '\0'). On error, ks is left empty and err names the line.
 */
int ks_kallsyms_parse_more(struct ks_kallsyms *ks, const char *text, size_t avail, bool last,
			   struct ks_error *err);

void ks_kallsyms_release(struct ks_kallsyms *ks);

/*
 * Does every line of the text show address 0, as kallsyms does to a reader
 * that may not see addresses? Stops at the first nonzero address, so it is
 * cheap on a text that has them. False for an empty or malformed text.
 */
bool ks_kallsyms_all_zero(const char *text, size_t len);
