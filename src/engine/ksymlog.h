/* SPDX-License-Identifier: BSD-2-Clause */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "kevwire.h"

/*
 * The ksymbol events of the recent past, in the order the kernel made them
 * (by their time: the rings of different CPUs are drained one after the
 * other, so a drain's order is not the kernel's). Each event's name is the
 * log's own copy. Not thread-safe.
 */
struct ks_ksymlog {
	struct ks_kevent *ev;	/* by time; equal times keep their drain order */
	size_t n, cap;
};

/* More than this many held at once is a reason to read kallsyms instead. */
#define KS_KSYMLOG_MAX 4096u

/* Insert a copy of ev (a KSYM_ADD or KSYM_REMOVE with a time) in time
 * order. -ENOMEM, or -E2BIG past KS_KSYMLOG_MAX; the log is unchanged then. */
int ks_ksymlog_add(struct ks_ksymlog *log, const struct ks_kevent *ev);

/* The index of the first event with time > t (log->n if none). */
size_t ks_ksymlog_after(const struct ks_ksymlog *log, uint64_t t);

/* The time of the newest event, 0 if none. */
uint64_t ks_ksymlog_newest(const struct ks_ksymlog *log);

/* Drop the events with time < t. */
void ks_ksymlog_prune(struct ks_ksymlog *log, uint64_t t);

void ks_ksymlog_release(struct ks_ksymlog *log);
