/* SPDX-License-Identifier: BSD-2-Clause */
#pragma once

/*
 * ksyms(1): the symbol table for people and scripts, on libksyms. Each
 * command is a file of its own (cmd_*.c); they share this context.
 */

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "libksyms.h"

/* Exit statuses (ksyms(1)). */
enum {
	KSY_OK = 0,
	KSY_NOT_FOUND = 1, /* something asked for is not there */
	KSY_FAILED = 2,	   /* bad usage, or the image could not be read */
};

struct ksy {
	struct ksyms *k;
	const char *path; /* what was opened, for messages */
	FILE *out;
	bool json;
	int width; /* hex digits of an address: 16, or 8 for a 32-bit image */
};

/* Each returns an exit status; argv holds the command's arguments only. */
int ksy_cmd_addr(struct ksy *c, int argc, char **argv);
int ksy_cmd_name(struct ksy *c, int argc, char **argv);
int ksy_cmd_modules(struct ksy *c, int argc, char **argv);
int ksy_cmd_kallsyms(struct ksy *c, int argc, char **argv);

/* "ksyms: <message>" on stderr, one line. */
void ksy_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A usage error: the message, then "Try 'ksyms --help'"; returns KSY_FAILED. */
int ksy_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The owner's name of sym, "?" if the table cannot tell. */
const char *ksy_owner_name(struct ksy *c, const struct ksyms_sym *sym);

const char *ksy_type_name(unsigned char type);
const char *ksy_bind_name(unsigned char bind);
