/* SPDX-License-Identifier: BSD-2-Clause */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

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
};

/*
 * Parse a whole kallsyms text. Takes ownership of text (malloc'd, at least
 * len + 1 bytes; it is modified). On error, text is freed, ks is left empty
 * and err names the line.
 */
int ks_kallsyms_parse(struct ks_kallsyms *ks, char *text, size_t len, struct ks_error *err);

/* Work to do on the calling thread while the text is being read. */
typedef int (*ks_meanwhile_fn)(void *arg, struct ks_error *err);

/*
 * Read and parse the file at path (normally /proc/kallsyms). A thread reads
 * while this one runs meanwhile(arg) (if not NULL) and then parses what has
 * arrived. An error from meanwhile is returned as is.
 */
int ks_kallsyms_read(struct ks_kallsyms *ks, const char *path, ks_meanwhile_fn meanwhile,
		     void *arg, struct ks_error *err);

/* Read all of fd into a malloc'd, NUL-terminated buffer. For procfs and sysfs,
 * which hand out at most a page per read() and report no size. */
int ks_read_all(int fd, char **text, size_t *len, struct ks_error *err);

void ks_kallsyms_release(struct ks_kallsyms *ks);
