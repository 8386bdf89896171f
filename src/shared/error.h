/* SPDX-License-Identifier: BSD-2-Clause */
#pragma once

/*
 * Errors in ksymsd are a negative errno returned by the function that failed
 * plus, when the caller passed one, a human sentence in a struct ks_error.
 * The errno is what a client of /dev/ksyms will see; the sentence is what the
 * admin reads in the log.
 */
struct ks_error {
	int code;		/* positive errno, 0 if none */
	char msg[512];
};

/* Record errnum and a printf-style message in err (which may be NULL).
 * Returns -errnum so callers can write "return ks_error_set(...)". */
int ks_error_set(struct ks_error *err, int errnum, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Prefix an existing message with more context, keeping its code. */
int ks_error_prefix(struct ks_error *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
