/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The live table (see table.h for the rule).
 *
 * Order: every drain and every read is stamped from one counter, the
 * ticket. An open takes a ticket after its drain; a build takes one after
 * its drain, just before it reads. A snapshot whose ticket is above an
 * open's was read after that open's drain, so it holds every change the
 * open must see; the current table serves later opens too, but only while
 * nothing has been drained since its read began and it was read at rest.
 *
 * The drain and the count of drained events are one step (under
 * drain_lock): an open must not pass a drain that has taken an event but not
 * yet counted it.
 *
 * Updates: when all that came since the table are ksymbol records with
 * times, they are applied to it in time order (snapshot.c edits its model;
 * no read). Anything else means a read: a module, a loss, a record without
 * a time, or one older than a record already applied (drained late from
 * another CPU's ring: its order against that one is lost). A read then
 * applies the records of the last REPLAY_NS again, as the kernel sends a
 * removal's record before the line leaves kallsyms.
 */
#include "table.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "ksymlog.h"
#include "shared/log.h"

/* Retrying a table read while the kernel was not at rest: the first retry
 * soon (a module's init symbols go within milliseconds), then backing off. */
#define RETRY_MS_MIN 10
#define RETRY_MS_MAX 1000

/* How far back a read applies the ksymbol records again (see
 * table_read()): far beyond the moment between a removal's record and the
 * line leaving kallsyms, and beyond how late a record can be drained. */
#define REPLAY_NS 1000000000ull

struct ks_table {
	const struct ks_root *root;
	struct ks_snapshot_cache *cache;
	struct ks_kevents *kev;		/* NULL: nothing watched */
	bool watching;			/* both sources live */

	pthread_mutex_t drain_lock;	/* kevents: one drain at a time */

	pthread_mutex_t lock;		/* everything below */
	pthread_cond_t changed;		/* a build ended */
	uint64_t events;		/* drained so far */
	uint64_t ticket;
	struct ks_snapshot *cur;	/* the last snapshot read */
	uint64_t cur_events;		/* events drained before its read began */
	uint64_t cur_ticket;		/* its read's ticket */
	bool cur_settled;
	bool building;
	int err_ret;			/* the last failed build: its error, */
	uint64_t err_ticket;		/* its ticket (0: none) */
	struct ks_error err;
	struct ks_table_stats stats;

	/* The ksymbol records of the last REPLAY_NS before the current
	 * table's read began, and since. */
	struct ks_ksymlog log;
	uint64_t log_from;		/* the log reaches back to here */
	uint64_t applied_until;		/* the newest record in the table */
	uint64_t inflight_until;	/* the newest being put there */
	/* Since the table: a change only a read shows (a module, a loss, a
	 * record without a time or out of order). */
	bool must_read;

	pthread_t thread;
	bool thread_started;
	int stop_fd;			/* eventfd: the thread ends */
};

static const char *kevent_what(const struct ks_kevent *ev)
{
	switch (ev->kind) {
	case KS_KEVENT_MODULE_ADD:
		return "module added";
	case KS_KEVENT_MODULE_REMOVE:
		return "module removed";
	case KS_KEVENT_KSYM_ADD:
		return "dynamic symbol added";
	case KS_KEVENT_KSYM_REMOVE:
		return "dynamic symbol removed";
	case KS_KEVENT_LOST:
		return "events lost";
	}
	return "event";
}

/* What a drain took in, before it is counted. */
struct intake {
	uint64_t n;
	bool must_read;		/* a change only a read shows */
	struct ks_ksymlog ksyms;
};

/* A ksymbol record can be applied to the table only if it has a time:
 * without one it has no order against the other CPUs' records. */
static bool appliable(const struct ks_kevent *ev)
{
	return (ev->kind == KS_KEVENT_KSYM_ADD || ev->kind == KS_KEVENT_KSYM_REMOVE) && ev->time;
}

static int take_event(const struct ks_kevent *ev, void *data)
{
	struct intake *in = data;
	const char *name = "";

	if (ev->kind == KS_KEVENT_MODULE_ADD || ev->kind == KS_KEVENT_MODULE_REMOVE)
		name = ev->module.name;
	else if (ev->kind == KS_KEVENT_KSYM_ADD || ev->kind == KS_KEVENT_KSYM_REMOVE)
		name = ev->ksym.name;
	ks_debug("table: %s%s%s", kevent_what(ev), *name ? ": " : "", name);
	in->n++;
	if (!appliable(ev) || ks_ksymlog_add(&in->ksyms, ev) < 0)
		in->must_read = true;
	return 0;
}

/* Under drain_lock: count what was taken in, and log its records. */
static void count_intake(struct ks_table *t, struct intake *in)
{
	if (!in->n)
		return;
	pthread_mutex_lock(&t->lock);
	t->events += in->n;
	t->stats.events += in->n;
	t->must_read |= in->must_read;
	for (size_t i = 0; i < in->ksyms.n; i++) {
		const struct ks_kevent *ev = &in->ksyms.ev[i];

		/* Older than one already in the table (or being put there):
		 * its order against that one is lost. Older than the log
		 * reaches back: a read would no longer replay it. */
		if (ev->time <= t->applied_until || ev->time <= t->inflight_until ||
		    ev->time < t->log_from || ks_ksymlog_add(&t->log, ev) < 0)
			t->must_read = true;
	}
	pthread_mutex_unlock(&t->lock);
}

/* Take in everything the kernel has queued; count it before anyone can see
 * the sources empty. */
static void table_drain(struct ks_table *t)
{
	struct intake in = { .n = 0 };
	struct ks_error err = { 0 };

	if (!t->kev)
		return;
	pthread_mutex_lock(&t->drain_lock);
	if (ks_kevents_drain(t->kev, take_event, &in, &err) < 0) {
		/* What was being drained may be gone: as good as lost. */
		ks_debug("table: draining the kernel's events: %s", err.msg);
		in.n++;
		in.must_read = true;
	}
	count_intake(t, &in);
	pthread_mutex_unlock(&t->drain_lock);
	ks_ksymlog_release(&in.ksyms);
}

void ks_table_announce(struct ks_table *t, const struct ks_kevent *ev)
{
	struct intake in = { .n = 0 };

	pthread_mutex_lock(&t->drain_lock);
	take_event(ev, &in);
	count_intake(t, &in);
	pthread_mutex_unlock(&t->drain_lock);
	ks_ksymlog_release(&in.ksyms);
}

/*
 * Is the current table good for an open holding ticket mine, after whose
 * drain seen events had been counted? (An open is not held up by changes
 * announced after it began: under steady BPF churn it would never be
 * served otherwise.)
 */
static bool serves(const struct ks_table *t, uint64_t mine, uint64_t seen)
{
	if (!t->cur)
		return false;
	if (t->cur_ticket > mine)
		return true;	/* read after the open's drain */
	return t->watching && t->cur_settled && t->cur_events >= seen && !t->must_read;
}

/* Is the current table up to date with everything taken in so far? */
static bool current(const struct ks_table *t)
{
	return serves(t, t->ticket, t->events);
}

/* Make snap the current table (under t->lock); the old one is returned for
 * unref outside it. */
static struct ks_snapshot *install(struct ks_table *t, struct ks_snapshot *snap)
{
	struct ks_snapshot *old = t->cur;

	t->cur = snap;
	return old;
}

/*
 * A copy of the logged records newer than after (the names stay the
 * log's: only a build prunes it, and one build runs at a time). Under
 * t->lock; sets inflight_until to the newest.
 */
static int take_batch(struct ks_table *t, uint64_t after, struct ks_kevent **evs, size_t *n)
{
	size_t from = ks_ksymlog_after(&t->log, after);

	*n = t->log.n - from;
	*evs = NULL;
	if (!*n)
		return 0;
	*evs = malloc(*n * sizeof(**evs));
	if (!*evs)
		return -ENOMEM;
	memcpy(*evs, t->log.ev + from, *n * sizeof(**evs));
	t->inflight_until = ks_ksymlog_newest(&t->log);
	return 0;
}

static uint64_t monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/*
 * Bring the current table up to date from the logged records alone (no
 * read of kallsyms). Called and returns with t->lock held and no build
 * running. False if that cannot be done: read instead.
 */
static bool table_apply(struct ks_table *t)
{
	struct ks_snapshot *snap = NULL, *old = NULL;
	struct ks_error err = { 0 };
	struct ks_kevent *evs;
	uint64_t events = t->events, newest = ks_ksymlog_newest(&t->log);
	size_t n;
	int r;

	if (!t->cur || !t->cur_settled || !t->watching || t->must_read)
		return false;
	if (take_batch(t, t->applied_until, &evs, &n) < 0)
		return false;
	if (!n) {
		/* Every event since is in the table already (a read's replay). */
		t->cur_events = events;
		return true;
	}
	t->building = true;
	pthread_mutex_unlock(&t->lock);
	r = ks_snapshot_apply(t->cache, t->root, evs, n, &snap, &err);
	free(evs);
	pthread_mutex_lock(&t->lock);
	t->building = false;
	t->inflight_until = 0;
	if (r == 0) {
		uint64_t cut = monotonic_ns();

		old = install(t, snap);
		t->cur_events = events;
		t->applied_until = newest;
		t->stats.applied++;
		/* No later read replays what is older than REPLAY_NS now: the
		 * log keeps only that, and what is not applied yet. */
		cut = cut > REPLAY_NS ? cut - REPLAY_NS : 0;
		if (cut > newest)
			cut = newest;
		if (cut > t->log_from) {
			ks_ksymlog_prune(&t->log, cut);
			t->log_from = cut;
		}
		ks_debug("table: applied %zu dynamic symbol change(s)", n);
	} else {
		ks_debug("table: cannot apply the dynamic symbol changes: %s", err.msg);
		t->must_read = true;
	}
	pthread_cond_broadcast(&t->changed);
	if (old) {
		pthread_mutex_unlock(&t->lock);
		ks_snapshot_unref(old);
		pthread_mutex_lock(&t->lock);
	}
	return r == 0;
}

/*
 * Read a new table, then apply to it again every record of the last
 * REPLAY_NS: the kernel sends a removal's record before it takes the line
 * out, so a read can still show what a record already removed; applying
 * is idempotent, so the rest changes nothing. Called and returns with
 * t->lock held and no build running; drops the lock while it reads.
 */
static void table_read(struct ks_table *t)
{
	struct ks_snapshot_opts so = { .root = t->root, .cache = t->cache };
	struct ks_snapshot *snap = NULL, *old = NULL, *replayed = NULL;
	struct ks_snapshot_report rep = { 0 };
	struct ks_error err = { 0 };
	struct ks_kevent *evs = NULL;
	uint64_t events, ticket, start, newest = 0;
	size_t n = 0;
	int r;

	t->building = true;
	pthread_mutex_unlock(&t->lock);
	table_drain(t);
	pthread_mutex_lock(&t->lock);
	events = t->events;
	ticket = ++t->ticket;
	/* What made this read necessary is in it from here on. */
	t->must_read = false;
	t->applied_until = 0;
	start = monotonic_ns();
	t->log_from = start > REPLAY_NS ? start - REPLAY_NS : 0;
	pthread_mutex_unlock(&t->lock);

	r = ks_snapshot_take_report(&so, &snap, &rep, &err);

	pthread_mutex_lock(&t->lock);
	ks_ksymlog_prune(&t->log, t->log_from);
	/* Changes only a read shows, taken in during this one, keep
	 * must_read set: the next open reads again. */
	if (r == 0 && take_batch(t, 0, &evs, &n) < 0)
		rep.settled = false;
	newest = ks_ksymlog_newest(&t->log);
	if (n)
		events = t->events;
	pthread_mutex_unlock(&t->lock);
	if (n) {
		struct ks_error aerr = { 0 };

		if (ks_snapshot_apply(t->cache, t->root, evs, n, &replayed, &aerr) == 0) {
			ks_snapshot_unref(snap);
			snap = replayed;
		} else {
			/* It may still show a removed symbol: read again soon. */
			ks_debug("table: cannot replay %zu dynamic symbol change(s): %s", n,
				 aerr.msg);
			rep.settled = false;
		}
	}
	free(evs);
	if (r == 0)
		ks_debug("table: re-read (%s, %s%s)", rep.built ? "built" : "unchanged",
			 rep.settled ? "settled" : "not settled: read again later",
			 n ? ", recent dynamic symbol changes applied again" : "");

	pthread_mutex_lock(&t->lock);
	t->building = false;
	t->inflight_until = 0;
	t->stats.rereads++;
	t->stats.built += rep.built;
	if (r == 0) {
		old = install(t, snap);
		t->cur_events = events;
		t->cur_ticket = ticket;
		t->cur_settled = rep.settled;
		t->applied_until = newest;
	} else {
		/* What made this read necessary still holds. */
		t->must_read = true;
		t->err_ret = r;
		t->err_ticket = ticket;
		t->err = err;
	}
	pthread_cond_broadcast(&t->changed);
	if (old) {
		pthread_mutex_unlock(&t->lock);
		ks_snapshot_unref(old);
		pthread_mutex_lock(&t->lock);
	}
}

/* Bring the table up to date: from the records if it can, else by a read.
 * Called and returns with t->lock held and no build running. */
static void table_update(struct ks_table *t)
{
	if (!table_apply(t))
		table_read(t);
}

int ks_table_get(struct ks_table *t, struct ks_snapshot **snap, struct ks_error *err)
{
	uint64_t mine, seen;
	int r = 0;

	*snap = NULL;
	table_drain(t);
	pthread_mutex_lock(&t->lock);
	mine = ++t->ticket;
	seen = t->events;
	for (;;) {
		if (serves(t, mine, seen)) {
			if (t->cur_ticket < mine)
				t->stats.served++;
			*snap = ks_snapshot_ref(t->cur);
			break;
		}
		if (t->err_ticket > mine) {
			r = t->err_ret;
			if (err)
				*err = t->err;
			break;
		}
		if (t->building)
			pthread_cond_wait(&t->changed, &t->lock);
		else
			table_update(t);
	}
	pthread_mutex_unlock(&t->lock);
	return r;
}

static void *table_thread(void *arg)
{
	struct ks_table *t = arg;
	struct pollfd pfd[2] = {
		{ .fd = ks_kevents_fd(t->kev), .events = POLLIN },
		{ .fd = t->stop_fd, .events = POLLIN },
	};
	int timeout = -1, retry = RETRY_MS_MIN;

	for (;;) {
		bool stale;

		if (poll(pfd, 2, timeout) < 0 && errno != EINTR) {
			ks_warn("live table: poll: %s; opens re-read from now on", strerror(errno));
			break;
		}
		if (pfd[1].revents)
			break;
		table_drain(t);
		pthread_mutex_lock(&t->lock);
		if (!t->building && !current(t))
			table_update(t);
		stale = !current(t);
		pthread_mutex_unlock(&t->lock);
		/* Read at a moment the kernel was busy (or failed): again
		 * later, as no event will say when it is done. */
		if (stale) {
			timeout = retry;
			retry = retry * 2 > RETRY_MS_MAX ? RETRY_MS_MAX : retry * 2;
		} else {
			timeout = -1;
			retry = RETRY_MS_MIN;
		}
	}
	return NULL;
}

int ks_table_new(const struct ks_table_opts *opts, struct ks_table **out, struct ks_error *err)
{
	struct ks_table *t;
	int r;

	t = calloc(1, sizeof(*t));
	if (!t)
		return ks_error_set(err, ENOMEM, "out of memory");
	t->root = opts->root;
	t->stop_fd = -1;
	pthread_mutex_init(&t->drain_lock, NULL);
	pthread_mutex_init(&t->lock, NULL);
	pthread_cond_init(&t->changed, NULL);
	t->cache = ks_snapshot_cache_new();
	if (!t->cache) {
		ks_table_free(t);
		return ks_error_set(err, ENOMEM, "out of memory");
	}
	/* Only the running kernel announces its changes; a fixture tree is
	 * read at every open, unless replayed. */
	t->watching = opts->replay;
	if (opts->sources && t->root->live && !opts->replay) {
		r = ks_kevents_open(opts->sources, &t->kev, err);
		if (r < 0) {
			ks_table_free(t);
			return r;
		}
		t->watching = ks_kevents_sources(t->kev) == (KS_KEVENTS_UEVENT | KS_KEVENTS_KSYMBOL);
	}
	*out = t;
	return 0;
}

unsigned int ks_table_sources(const struct ks_table *t)
{
	return t->kev ? ks_kevents_sources(t->kev) : 0;
}

const char *ks_table_unavailable(const struct ks_table *t, unsigned int source)
{
	if (t->watching && !t->kev)
		return "replayed";
	if (!t->kev)
		return t->root->live ? "not asked for" : "--root is not the running system";
	return ks_kevents_unavailable(t->kev, source);
}

unsigned int ks_table_cpus(const struct ks_table *t)
{
	return t->kev ? ks_kevents_cpus(t->kev) : 0;
}

int ks_table_start(struct ks_table *t, struct ks_error *err)
{
	int r;

	if (!t->kev || !ks_kevents_sources(t->kev) || t->thread_started)
		return 0;
	t->stop_fd = eventfd(0, EFD_CLOEXEC);
	if (t->stop_fd < 0)
		return ks_error_set(err, errno, "eventfd: %s", strerror(errno));
	r = pthread_create(&t->thread, NULL, table_thread, t);
	if (r != 0)
		return ks_error_set(err, r, "cannot start the live table's thread: %s", strerror(r));
	t->thread_started = true;
	return 0;
}

void ks_table_stats(struct ks_table *t, struct ks_table_stats *st)
{
	pthread_mutex_lock(&t->lock);
	*st = t->stats;
	pthread_mutex_unlock(&t->lock);
}

void ks_table_free(struct ks_table *t)
{
	if (!t)
		return;
	if (t->thread_started) {
		uint64_t one = 1;

		/* poll() is a cancellation point: the way out should the
		 * eventfd (which cannot overflow at 1) refuse the write. */
		if (write(t->stop_fd, &one, sizeof(one)) != sizeof(one))
			pthread_cancel(t->thread);
		pthread_join(t->thread, NULL);
	}
	if (t->stop_fd >= 0)
		close(t->stop_fd);
	ks_kevents_close(t->kev);
	ks_ksymlog_release(&t->log);
	if (t->cur)
		ks_snapshot_unref(t->cur);
	ks_snapshot_cache_free(t->cache);
	pthread_cond_destroy(&t->changed);
	pthread_mutex_destroy(&t->lock);
	pthread_mutex_destroy(&t->drain_lock);
	free(t);
}
