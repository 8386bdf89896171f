/* SPDX-License-Identifier: BSD-2-Clause */
#pragma once

/*
 * The little JSON ksyms(1) writes: strings escaped, 64-bit addresses as
 * "0x..." strings (a JSON number loses them past 2^53 in most readers),
 * counts and offsets as numbers.
 */

#include <stdint.h>
#include <stdio.h>

/* s as a JSON string, quotes included; NULL as null. */
void ksy_json_string(FILE *f, const char *s);

/* "name":"value" / "name":number / "name":"0x..."; each but the first of
 * an object is preceded by a comma: pass first = 1 for it. */
void ksy_json_str_field(FILE *f, int first, const char *name, const char *value);
void ksy_json_num_field(FILE *f, int first, const char *name, uint64_t value);
void ksy_json_addr_field(FILE *f, int first, const char *name, uint64_t value);
