/* SPDX-License-Identifier: BSD-2-Clause */
/* Collecting reported events, for test_kevwire and test_kevents. */
#pragma once

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/kevwire.h"

/* An event with its strings copied (theirs live only during the callback). */
struct kev_seen {
	enum ks_kevent_kind kind;
	int cpu;
	uint64_t time;		/* ks_kevent.time */
	uint64_t addr, count;
	uint32_t len;
	uint16_t type;
	enum ks_kevent_lost_why why;
	char name[600];
};

struct kev_log {
	struct kev_seen ev[1024];
	int n;
	int stop_at;		/* return -ECANCELED for event number stop_at (1-based); 0: never */
};

static inline int kev_collect(const struct ks_kevent *ev, void *data)
{
	struct kev_log *log = data;
	struct kev_seen *s;

	if (log->n >= (int)(sizeof(log->ev) / sizeof(log->ev[0])))
		return -ENOSPC;
	s = &log->ev[log->n++];
	memset(s, 0, sizeof(*s));
	s->kind = ev->kind;
	s->cpu = ev->cpu;
	s->time = ev->time;
	switch (ev->kind) {
	case KS_KEVENT_MODULE_ADD:
	case KS_KEVENT_MODULE_REMOVE:
		snprintf(s->name, sizeof(s->name), "%s", ev->module.name);
		s->count = ev->module.seqnum;
		break;
	case KS_KEVENT_KSYM_ADD:
	case KS_KEVENT_KSYM_REMOVE:
		snprintf(s->name, sizeof(s->name), "%s", ev->ksym.name);
		s->addr = ev->ksym.addr;
		s->len = ev->ksym.len;
		s->type = ev->ksym.type;
		break;
	case KS_KEVENT_LOST:
		s->why = ev->lost.why;
		s->count = ev->lost.count;
		break;
	}
	return log->n == log->stop_at ? -ECANCELED : 0;
}

/* One line per event, the format of tests/fixtures/kevents/ksymbol/ *.txt (no time:
 * the captured rings are untimed). */
static inline void kev_format(const struct kev_seen *s, char *buf, size_t size)
{
	if (s->kind == KS_KEVENT_KSYM_ADD || s->kind == KS_KEVENT_KSYM_REMOVE)
		snprintf(buf, size, "%s %#" PRIx64 " %u %u %s",
			 s->kind == KS_KEVENT_KSYM_ADD ? "ksym_add" : "ksym_remove", s->addr,
			 s->len, s->type, s->name);
	else if (s->kind == KS_KEVENT_LOST && s->why == KS_LOST_PERF_RECORD)
		snprintf(buf, size, "lost perf %" PRIu64, s->count);
	else if (s->kind == KS_KEVENT_LOST)
		snprintf(buf, size, "lost %s",
			 s->why == KS_LOST_RING_FULL	  ? "ring_full"
			 : s->why == KS_LOST_RING_CORRUPT ? "ring_corrupt"
			 : s->why == KS_LOST_CPU	  ? "cpu"
							  : "uevent_overflow");
	else
		snprintf(buf, size, "%s %s %" PRIu64,
			 s->kind == KS_KEVENT_MODULE_ADD ? "module_add" : "module_remove", s->name,
			 s->count);
}
