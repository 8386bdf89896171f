/* SPDX-License-Identifier: BSD-2-Clause */
#pragma once

/*
 * Every symbol of a name, for 'ksyms name'. libksyms' own name lookup
 * answers with one symbol (NetBSD's choice among those of a name); here a
 * name lists them all, in table order: a chained hash over the table,
 * built once.
 */

#include <stddef.h>
#include <stdint.h>

#include "libksyms.h"

struct ksy_names;

/* NULL with errno set on failure. */
struct ksy_names *ksy_names_new(struct ksyms *k);
void ksy_names_free(struct ksy_names *n);

/* The table index of the first symbol named name, then of the next one
 * after prev; SIZE_MAX when there is no more. */
size_t ksy_names_first(const struct ksy_names *n, const char *name);
size_t ksy_names_next(const struct ksy_names *n, size_t prev);
