/* SPDX-License-Identifier: BSD-2-Clause */
#pragma once

/*
 * The inside of a struct ksyms, shared by libksyms.c (open, lookups) and
 * iterate.c (the table API). Hidden: nothing here is exported.
 */

#include <gelf.h>
#include <pthread.h>
#include <stddef.h>

#include "libksyms.h"
#include "scan.h"

#define KSYMS_EXPORT __attribute__((visibility("default")))

struct ks_symindex;
struct ksi_table;

struct section {
	const char *name;   /* in the image */
	const char *module; /* "vmlinux", or in ksyms.modnames */
};

struct ksyms {
	int devfd; /* what path opened, held: the BSD one-open rule */
	int memfd;
	size_t size;
	void *map;

	/* Built once by the first lookup; idx is published last (release),
	 * so a reader that sees it sees everything else. */
	pthread_mutex_t lock;
	struct ks_symindex *idx;
	int err; /* negative errno of a failed build, sticky */
	struct section *secs;
	size_t nsecs;
	const char *strtab; /* the symbols' names, in the image */
	char *modnames;	    /* "fuse\0loop\0...": the owners of the sections */

	/* The first few lookups go by one pass over .symtab each (scan.h):
	 * scan_state 1 once scan and secs are ready (published with release),
	 * -1 if not to be used; scans_left counts down the passes allowed. */
	struct ksi_scan scan;
	int scan_state;
	int scan_err; /* negative errno when scan_state is -1 */
	int scans_left;

	/* Built once by the first iteration call (after idx), published the
	 * same way; table_err is sticky too. */
	struct ksi_table *table;
	int table_err;
};

/* The lookup tables (symindex and sections), built by the first caller:
 * 0 or a negative errno. */
int ksi_ready(struct ksyms *k);

/* The headers checked and the sections indexed, without the index: 0 or
 * a negative errno. */
int ksi_prepared(struct ksyms *k);

/* The number of symbols, from the table (built if need be): -1 and errno. */
long ksi_table_count(struct ksyms *k);

/* A lookup's answer as the API gives it. */
void ksi_fill(const struct ksyms *k, const GElf_Sym *s, const char *name, struct ksyms_sym *out);
