/* SPDX-License-Identifier: BSD-2-Clause */
#include "error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int ks_error_set(struct ks_error *err, int errnum, const char *fmt, ...)
{
	va_list ap;

	if (err) {
		err->code = errnum;
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		va_end(ap);
	}
	return -errnum;
}

int ks_error_prefix(struct ks_error *err, const char *fmt, ...)
{
	char old[sizeof(err->msg)];
	size_t n;
	va_list ap;

	if (!err)
		return 0;
	memcpy(old, err->msg, sizeof(old));
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	n = strlen(err->msg);
	/* Truncation keeps the prefix whole and cuts the old message's tail. */
	if (n + 2 < sizeof(err->msg)) {
		memcpy(err->msg + n, ": ", 2);
		n += 2;
		size_t room = sizeof(err->msg) - n - 1, len = strnlen(old, room);

		memcpy(err->msg + n, old, len);
		err->msg[n + len] = '\0';
	}
	return -err->code;
}
