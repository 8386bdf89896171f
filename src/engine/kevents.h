/* SPDX-License-Identifier: BSD-2-Clause */
#pragma once

/*
 * The kernel's announcements of symbol table changes, drained on demand:
 *
 * - uevents (NETLINK_KOBJECT_UEVENT, the kernel's group 1, never udev's
 *   group 2): a module was added or removed. The kernel sends "add" from
 *   do_init_module() BEFORE the module's init symbols leave kallsyms, and
 *   "remove" while the module is still listed (state Unloading): a reader
 *   acting on one must expect kallsyms to still be moving.
 * - PERF_RECORD_KSYMBOL, from one dummy perf event per online CPU: dynamic
 *   symbols registered or unregistered ([bpf] programs, trampolines and
 *   dispatchers, [__builtin__ftrace] trampolines, [__builtin__kprobes] insn
 *   pages). The kernel writes each record once, into the ring of the CPU it
 *   ran on, and stamps it (ks_kevent.time, CLOCK_MONOTONIC): a drain reports
 *   ring after ring, so only the times order records of different CPUs, as
 *   when the same symbol (a BPF program loaded, closed and loaded again at a
 *   reused address; ftrace_trampoline) is added on one CPU and removed on
 *   another.
 *
 * What each needs: the uevent socket, AF_NETLINK (no capability) in a
 * network namespace owned by the initial user namespace (elsewhere it opens
 * but hears no module uevents). The ksymbol events, Linux 5.1+, CAP_PERFMON
 * (CAP_SYS_ADMIN before 5.8, or where Debian's perf_event_paranoid=3),
 * perf_event_open() past any seccomp filter, and 1 + KS_KEVENTS_RING_PAGES
 * locked pages per CPU within kernel.perf_event_mlock_kb. Opened events keep
 * working once the capability is dropped; reopening one after a hotplug
 * does not, and is then reported as a loss at every drain.
 *
 * Both are queued before the syscall that caused them returns, so a drain
 * started after that syscall returned reports them. Events may repeat what
 * a rebuild from /proc/kallsyms already saw: apply them idempotently. After
 * KS_KEVENT_LOST, rebuild from /proc/kallsyms once the drain has returned.
 *
 * Not thread-safe: one drain at a time (a background thread waiting on
 * ks_kevents_fd() and the open path must share a lock).
 */

#include "kevwire.h"
#include "shared/error.h"

/* Sources, for ks_kevents_open()'s flags and ks_kevents_sources(). */
#define KS_KEVENTS_UEVENT 0x1u
#define KS_KEVENTS_KSYMBOL 0x2u

/* Data pages of each CPU's ring: 32 KiB, some 500 BPF records between drains. */
#define KS_KEVENTS_RING_PAGES 8

struct ks_kevents;

/*
 * Open the sources named in flags. A source the kernel or the sandbox
 * refuses is left out, not an error: ks_kevents_sources() tells which are
 * live and ks_kevents_unavailable() why the others are not, so the caller can
 * log once and fall back to re-reading. Fails (negative errno, err set) only
 * when the object itself cannot be made.
 */
int ks_kevents_open(unsigned int flags, struct ks_kevents **kevp, struct ks_error *err);

/* KS_KEVENTS_* bits of the sources that opened. The ksymbol source follows
 * CPU hotplug only through uevents: without them, a CPU taken offline and
 * back between drains goes unnoticed. */
unsigned int ks_kevents_sources(const struct ks_kevents *kev);

/*
 * Whether every ksymbol record carries its time (ks_kevent.time, nanoseconds
 * of CLOCK_MONOTONIC): the events are opened with attr.sample_id_all and
 * PERF_SAMPLE_TIME on attr.use_clockid CLOCK_MONOTONIC. A kernel refusing
 * that (EINVAL) gets events without, for good: their records have time 0 and
 * no order between CPUs. False too when the ksymbol source never opened.
 */
bool ks_kevents_timed(const struct ks_kevents *kev);

/* How many CPUs have a ksymbol event open now. */
unsigned int ks_kevents_cpus(const struct ks_kevents *kev);

/* One line saying why source (one KS_KEVENTS_* bit) is not live; "" if it is. */
const char *ks_kevents_unavailable(const struct ks_kevents *kev, unsigned int source);

/* An epoll fd, readable when a live source has something queued: poll it,
 * then drain. A wakeup with nothing to drain is possible. */
int ks_kevents_fd(const struct ks_kevents *kev);

/*
 * Report everything queued in every live source to fn, without blocking.
 * Also reopens the ksymbol event of a CPU that came online, or of every CPU
 * after a suspend (which takes all but the boot CPU offline) or a uevent
 * overflow (the lost datagrams may have said a CPU came online), reporting
 * KS_KEVENT_LOST for each. Returns the number of events reported, fn's
 * negative return, or another negative errno with err set. After any
 * negative return the sources stay usable, but what was being drained may
 * be gone: treat it as KS_KEVENT_LOST.
 */
int ks_kevents_drain(struct ks_kevents *kev, ks_kevent_fn fn, void *data, struct ks_error *err);

/*
 * Handle buf as a datagram just received from the kernel's uevent group, as
 * ks_kevents_drain() would (a CPU online reopens that CPU's event): for tests
 * and replaying captures. Returns the number of events reported or fn's
 * negative return.
 */
int ks_kevents_feed(struct ks_kevents *kev, const void *buf, size_t len, ks_kevent_fn fn,
		    void *data);

void ks_kevents_close(struct ks_kevents *kev);
