/* SPDX-License-Identifier: BSD-2-Clause */
#include "argnum.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

/* Leading digits of s as a number; -ERANGE past unsigned long long. */
static int parse_digits(const char *s, unsigned long long *v, char **end)
{
	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	*v = strtoull(s, end, 10);
	return errno == ERANGE ? -ERANGE : 0;
}

int ks_parse_size(const char *s, size_t *out)
{
	unsigned long long v;
	unsigned shift = 0;
	char *end;
	int r;

	r = parse_digits(s, &v, &end);
	if (r < 0)
		return r;
	switch (*end) {
	case 'G':
	case 'g':
		shift = 30;
		end++;
		break;
	case 'M':
	case 'm':
		shift = 20;
		end++;
		break;
	case 'K':
	case 'k':
		shift = 10;
		end++;
		break;
	}
	if (*end || v == 0)
		return -EINVAL;
	/* Checked before the shift, which would drop the high bits silently. */
	if (v > (unsigned long long)(SIZE_MAX >> shift))
		return -ERANGE;
	*out = (size_t)(v << shift);
	return 0;
}

int ks_parse_count(const char *s, unsigned long long max, unsigned long long *out)
{
	unsigned long long v;
	char *end;
	int r;

	r = parse_digits(s, &v, &end);
	if (r < 0)
		return r;
	if (*end || v == 0)
		return -EINVAL;
	if (v > max)
		return -ERANGE;
	*out = v;
	return 0;
}
