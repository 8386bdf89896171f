/* SPDX-License-Identifier: BSD-2-Clause */
#pragma once

/*
 * Addresses in text: what 'ksyms addr' looks up, on its command line and in
 * the lines of a stack trace (dmesg's "? 0xffffffffc0a1b2c3" and
 * "RIP: 0010:ffffffff81a0c1d0", /proc/PID/stack's "[<ffffffff81a0c1d0>]").
 * Pure functions on bytes, no allocation: the fuzzer drives them.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A token of line: [start, start + len) spells value. */
struct ksy_token {
	size_t start, len;
	uint64_t value;
};

/*
 * Parse s[0, len) as one address: hex, with or without 0x, 1 to 16 digits.
 * Surrounding blanks are allowed. false if it is anything else.
 */
bool ksy_parse_address(const char *s, size_t len, uint64_t *value);

/*
 * The next address-looking token of line[from, len): a hex number standing
 * alone (no letter, digit or '_' on either side), either 0x and 1 to 16
 * digits or 8 to 16 bare digits, and not the offset or size of a
 * "name+0x10/0xa0" (preceded by '+' or '/'). Bare numbers of fewer digits
 * are left alone: timestamps, error codes, segment selectors.
 * true and *tok, or false when there is none.
 */
bool ksy_next_address(const char *line, size_t len, size_t from, struct ksy_token *tok);
