/* SPDX-License-Identifier: BSD-2-Clause */
#pragma once

/*
 * The kernel's change announcements as bytes: uevent datagrams from
 * NETLINK_KOBJECT_UEVENT and the records of a perf ring fed by an event with
 * attr.ksymbol set. No I/O here (kevents.c does that), so tests can feed
 * recorded streams. Nothing read from either is trusted: a malformed datagram
 * is ignored with a reason, a ring that makes no sense is reported as a loss.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct perf_event_mmap_page;

/* What happened, as the sources report it. */
enum ks_kevent_kind {
	KS_KEVENT_MODULE_ADD = 1,	/* module.* */
	KS_KEVENT_MODULE_REMOVE,	/* module.* */
	KS_KEVENT_KSYM_ADD,		/* ksym.*: PERF_RECORD_KSYMBOL, register */
	KS_KEVENT_KSYM_REMOVE,		/* ksym.*: PERF_RECORD_KSYMBOL, unregister */
	KS_KEVENT_LOST,			/* lost.*: something was missed, rebuild */
};

/* Why events may have been missed. */
enum ks_kevent_lost_why {
	KS_LOST_UEVENT_OVERFLOW = 1,	/* the uevent socket overflowed (ENOBUFS) */
	KS_LOST_PERF_RECORD,		/* PERF_RECORD_LOST: lost.count records dropped */
	KS_LOST_RING_FULL,		/* a ring too full to rule out a drop not yet reported */
	KS_LOST_RING_CORRUPT,		/* a ring record made no sense; the rest was skipped */
	KS_LOST_CPU,			/* a CPU's event was (re)opened, or could not be */
};

/*
 * One event. Strings are NUL-terminated and point into the source's buffers:
 * valid only until the callback returns.
 */
struct ks_kevent {
	enum ks_kevent_kind kind;
	int cpu;			/* the ring it came from; -1 for uevents */
	/*
	 * For ksym.* and lost.* events from a timed ring (ks_perf_ring.timed):
	 * when the kernel wrote the record, in nanoseconds of CLOCK_MONOTONIC
	 * (the same clock as clock_gettime(CLOCK_MONOTONIC)). Records of
	 * different CPUs' rings are ordered only by it: the same symbol added
	 * on one CPU and removed on another comes out of a drain in ring order,
	 * not in the order it happened. 0 when unknown: an untimed ring, a
	 * uevent, and the losses a reader infers itself (ring_full,
	 * ring_corrupt, cpu, uevent_overflow). Events with time 0 have no order
	 * with respect to those of other rings.
	 */
	uint64_t time;
	union {
		struct {
			const char *name;
			uint64_t seqnum;	/* the uevent's SEQNUM, 0 if none */
			/* Written to a uevent file by root (SYNTH_UUID): nothing
			 * was loaded or unloaded, but re-reading is harmless. */
			bool synthetic;
		} module;
		struct {
			uint64_t addr;
			uint32_t len;
			uint16_t type;		/* PERF_RECORD_KSYMBOL_TYPE_{BPF,OOL,...} */
			const char *name;
		} ksym;
		struct {
			enum ks_kevent_lost_why why;
			uint64_t count;		/* records dropped, when the kernel says; else 0 */
		} lost;
	};
};

/* Receives each event; a negative return stops the drain and is returned. */
typedef int (*ks_kevent_fn)(const struct ks_kevent *ev, void *data);

/* ---- uevents ------------------------------------------------------------ */

/* The longest datagram the kernel sends: UEVENT_BUFFER_SIZE plus "ACTION@DEVPATH". */
#define KS_UEVENT_MAX 8192

enum ks_uevent_kind {
	KS_UEVENT_MODULE_ADD = 1,
	KS_UEVENT_MODULE_REMOVE,
	/* A CPU came online: a CPU-bound perf event opened before its last
	 * offline is dead (the kernel detaches it on offline for good). */
	KS_UEVENT_CPU_ONLINE,
};

struct ks_uevent {
	enum ks_uevent_kind kind;
	const char *module;	/* MODULE_*: the name, NUL-terminated in the datagram */
	unsigned int cpu;	/* CPU_ONLINE */
	uint64_t seqnum;
	bool synthetic;
};

/*
 * Parse one datagram of len bytes from the kernel's uevent group. Returns 1
 * and fills ev for a module add or remove, or a CPU online; 0 for anything
 * else (other subsystems and actions, udev's "libudev" messages, malformed
 * datagrams), with *why (if why is not NULL) saying which, a static string.
 * Never fails otherwise. ev's strings point into buf.
 */
int ks_uevent_parse(const void *buf, size_t len, struct ks_uevent *ev, const char **why);

/*
 * A classic BPF socket filter keeping only datagrams that start as the ones
 * ks_uevent_parse() accepts can ("add@/module/", "remove@/module/",
 * "online@/devices/system/cpu/cpu"): without it, every device's uevents
 * (a laptop's battery reports every few seconds) fill the socket between
 * drains until it overflows. Writes at most max instructions to prog and
 * returns how many, or 0 if max is too small.
 */
struct sock_filter;
#define KS_UEVENT_FILTER_MAX 64
size_t ks_uevent_filter(struct sock_filter *prog, size_t max);

/* ---- perf rings ---------------------------------------------------------- */

/*
 * The sample_id trailer of every non-sample record of a timed ring (one
 * opened with attr.sample_id_all and attr.sample_type = PERF_SAMPLE_TIME
 * alone): struct { u64 time; }, at the record's end, after the KSYMBOL
 * record's NUL-padded name or the LOST record's count
 * (kernel/events/core.c, perf_event__output_id_sample()).
 */
#define KS_SAMPLE_ID_TIME_SIZE 8

/*
 * The largest record a ksymbol ring gets: header, addr, len, type, flags, a
 * name of up to KSYM_NAME_LEN (512 since 6.1) bytes with its padding, and the
 * time trailer of a timed ring. With no more room than this (less the trailer
 * in an untimed ring) left in a ring, a record may have been dropped without
 * a PERF_RECORD_LOST yet, which the kernel writes only in front of the next
 * record that fits.
 */
#define KS_KSYM_RECORD_MAX (8 + 8 + 4 + 2 + 2 + 512 + KS_SAMPLE_ID_TIME_SIZE)

/*
 * One perf ring as mmap'd: the control page (data_head, data_tail) and the
 * data area of size bytes, a power of two. Tests point page and data at a
 * byte image instead.
 */
struct ks_perf_ring {
	struct perf_event_mmap_page *page;
	const unsigned char *data;
	uint64_t size;
	int cpu;
	/* The records end with the time trailer (KS_SAMPLE_ID_TIME_SIZE): the
	 * event was opened with sample_id_all and PERF_SAMPLE_TIME. */
	bool timed;
	/* A record split across the end of the data area is put together here. */
	unsigned char bounce[KS_KSYM_RECORD_MAX + 64];
};

/*
 * Consume every record the kernel published in ring before the call (with the
 * barriers of the perf_event_mmap_page protocol) and report ksymbol records
 * and losses to fn; other record types are skipped. The tail moves past each
 * record once reported, so a drain stopped by fn resumes after that record.
 * Returns the number of events reported, or fn's negative return.
 */
int ks_perf_ring_drain(struct ks_perf_ring *ring, ks_kevent_fn fn, void *data);

/*
 * Parse one whole record (size bytes, 8-aligned, from its perf_event_header)
 * of cpu's ring: 1 and ev filled for PERF_RECORD_KSYMBOL or PERF_RECORD_LOST,
 * 0 for another type, -EBADMSG for a malformed one. With timed, the record
 * ends with the time trailer: ev->time is read from it, and a KSYMBOL name
 * must end (its NUL) before it; a record too short to hold it is malformed.
 * Without, ev->time is 0. ev's strings point into rec.
 */
int ks_perf_record_parse(const void *rec, size_t size, int cpu, bool timed, struct ks_kevent *ev);
