/* SPDX-License-Identifier: BSD-2-Clause */
#pragma once

#include <stddef.h>

/*
 * Numbers on ksymsd's command line. Both take decimal digits only (no sign,
 * no leading blank, no 0x: strtoull alone would take "-1" as 2^64-1 and
 * " 5" as 5) and refuse 0. -EINVAL for what is not such a number, -ERANGE
 * for one that does not fit: the caller says which.
 */

/* A byte count with an optional K, M or G suffix (powers of 1024), at most
 * SIZE_MAX after scaling. */
int ks_parse_size(const char *s, size_t *out);

/* A plain count from 1 to max. */
int ks_parse_count(const char *s, unsigned long long max, unsigned long long *out);
