/* SPDX-License-Identifier: BSD-2-Clause */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shared/error.h"

/* The kernel's own limit (KSYM_NAME_LEN in 6.1+). */
#define KS_NAME_MAX 512

/*
 * One line of /proc/kallsyms: "ADDR TYPE NAME" or "ADDR TYPE NAME\t[MODULE]".
 * name and module point into the text buffer, which the parser terminates in
 * place, so a parsed table costs one array and no string copies.
 */
struct ks_rawsym {
	uint64_t addr;
	const char *name;	/* NUL-terminated */
	const char *module;	/* NUL-terminated, without brackets; NULL = vmlinux */
	uint16_t name_len;
	uint16_t module_len;
	char type;		/* the kallsyms letter */
};

struct ks_kallsyms {
	char *text;		/* owned; modified in place by the parser */
	size_t text_len;
	size_t text_map;	/* nonzero: text is a mapping of this size, else malloc'd */
	struct ks_rawsym *syms;	/* in file order */
	size_t n_syms;
	bool all_zero;		/* every address is 0: the reader may not see them */
	bool unchanged;		/* equal to the expected text, and not parsed */
	char *raw;		/* unparsed copy (keep_raw), malloc'd */
	size_t raw_len;
};

/*
 * Parse a whole kallsyms text. Takes ownership of text (malloc'd, at least
 * len + 1 bytes; it is modified). On error, text is freed, ks is left empty
 * and err names the line.
 */
int ks_kallsyms_parse(struct ks_kallsyms *ks, char *text, size_t len, struct ks_error *err);

/* Work to do on the calling thread while the text is being read. */
typedef int (*ks_meanwhile_fn)(void *arg, struct ks_error *err);

struct ks_kallsyms_read_opts {
	ks_meanwhile_fn meanwhile;	/* run on this thread during the read */
	void *meanwhile_arg;
	/* A text read before: if the file is exactly this, it is not parsed
	 * (ks->unchanged, no syms). */
	const char *expect;
	size_t expect_len;
	bool keep_raw;		/* when parsed, keep an unparsed copy in ks->raw */
};

/*
 * Read and parse the file at path (normally /proc/kallsyms). A thread reads
 * while this one runs opts->meanwhile (if any) and then parses what has
 * arrived. An error from meanwhile is returned as is. opts may be NULL.
 */
int ks_kallsyms_read(struct ks_kallsyms *ks, const char *path,
		     const struct ks_kallsyms_read_opts *opts, struct ks_error *err);

/* Parse a text that ks_kallsyms_read left unparsed (ks->unchanged), keeping
 * an unparsed copy in ks->raw if asked. Nothing to do otherwise. */
int ks_kallsyms_parse_unchanged(struct ks_kallsyms *ks, bool keep_raw, struct ks_error *err);

/* Read all of fd into a malloc'd, NUL-terminated buffer. For procfs and sysfs,
 * which hand out at most a page per read() and report no size. */
int ks_read_all(int fd, char **text, size_t *len, struct ks_error *err);

void ks_kallsyms_release(struct ks_kallsyms *ks);
