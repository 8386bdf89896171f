/* SPDX-License-Identifier: BSD-2-Clause */
#include "ksymlog.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int ks_ksymlog_add(struct ks_ksymlog *log, const struct ks_kevent *ev)
{
	size_t at = ks_ksymlog_after(log, ev->time);
	char *name;

	if (log->n >= KS_KSYMLOG_MAX)
		return -E2BIG;
	if (log->n == log->cap) {
		size_t cap = log->cap ? log->cap * 2 : 16;
		struct ks_kevent *grown = realloc(log->ev, cap * sizeof(*grown));

		if (!grown)
			return -ENOMEM;
		log->ev = grown;
		log->cap = cap;
	}
	name = strdup(ev->ksym.name ? ev->ksym.name : "");
	if (!name)
		return -ENOMEM;
	memmove(&log->ev[at + 1], &log->ev[at], (log->n - at) * sizeof(*log->ev));
	log->ev[at] = *ev;
	log->ev[at].ksym.name = name;
	log->n++;
	return 0;
}

size_t ks_ksymlog_after(const struct ks_ksymlog *log, uint64_t t)
{
	size_t lo = 0, hi = log->n;

	/* Most events are newer than all before them: look at the end first. */
	if (!log->n || log->ev[log->n - 1].time <= t)
		return log->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (log->ev[mid].time <= t)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

uint64_t ks_ksymlog_newest(const struct ks_ksymlog *log)
{
	return log->n ? log->ev[log->n - 1].time : 0;
}

void ks_ksymlog_prune(struct ks_ksymlog *log, uint64_t t)
{
	size_t k = 0;

	while (k < log->n && log->ev[k].time < t)
		free((char *)log->ev[k++].ksym.name);
	if (!k)
		return;
	memmove(log->ev, log->ev + k, (log->n - k) * sizeof(*log->ev));
	log->n -= k;
}

void ks_ksymlog_release(struct ks_ksymlog *log)
{
	for (size_t i = 0; i < log->n; i++)
		free((char *)log->ev[i].ksym.name);
	free(log->ev);
	memset(log, 0, sizeof(*log));
}
