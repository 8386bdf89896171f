/* SPDX-License-Identifier: BSD-2-Clause */
#include "kevwire.h"

#include <errno.h>
#include <linux/filter.h>
#include <linux/perf_event.h>
#include <string.h>

#include "modules.h"

/* Before 5.1 the headers lack these; the values are ABI. */
#ifndef PERF_RECORD_KSYMBOL
#define PERF_RECORD_KSYMBOL 17
#endif
#ifndef PERF_RECORD_KSYMBOL_FLAGS_UNREGISTER
#define PERF_RECORD_KSYMBOL_FLAGS_UNREGISTER (1 << 0)
#endif

/* ---- uevents ------------------------------------------------------------ */

/* The value of KEY= in the NUL-separated vars [p, end), or NULL. */
static const char *uevent_var(const char *p, const char *end, const char *key)
{
	size_t klen = strlen(key);

	while (p < end) {
		size_t n = strlen(p);	/* the caller made sure end[-1] is NUL */

		if (n > klen && p[klen] == '=' && memcmp(p, key, klen) == 0)
			return p + klen + 1;
		p += n + 1;
	}
	return NULL;
}

/* A decimal number of at most 19 digits, no sign, no leading junk. */
static bool parse_u64(const char *s, uint64_t *v)
{
	uint64_t x = 0;
	int n = 0;

	for (; *s >= '0' && *s <= '9'; s++, n++) {
		if (n == 19)
			return false;
		x = x * 10 + (uint64_t)(*s - '0');
	}
	if (n == 0 || *s)
		return false;
	*v = x;
	return true;
}

static int ignore(const char **why, const char *reason)
{
	if (why)
		*why = reason;
	return 0;
}

/* DEVPATH=/module/<name>; the kobject path of a module (kernel/params.c). */
static int parse_module(const char *action, const char *devpath, struct ks_uevent *ev,
			const char **why)
{
	static const char prefix[] = "/module/";
	const char *name = devpath + sizeof(prefix) - 1;
	size_t n;

	if (strcmp(action, "add") == 0)
		ev->kind = KS_UEVENT_MODULE_ADD;
	else if (strcmp(action, "remove") == 0)
		ev->kind = KS_UEVENT_MODULE_REMOVE;
	else
		return ignore(why, "module action other than add or remove");
	if (strncmp(devpath, prefix, sizeof(prefix) - 1) != 0)
		return ignore(why, "module DEVPATH not under /module/");
	n = strlen(name);
	if (n == 0 || n > KS_MODULE_NAME_MAX || strchr(name, '/'))
		return ignore(why, "module name empty, too long or with '/'");
	ev->module = name;
	return 1;
}

/* DEVPATH=/devices/system/cpu/cpu<N> (drivers/base/cpu.c). */
static int parse_cpu(const char *action, const char *devpath, struct ks_uevent *ev,
		     const char **why)
{
	static const char prefix[] = "/devices/system/cpu/cpu";
	uint64_t cpu;

	if (strcmp(action, "online") != 0)
		return ignore(why, "cpu action other than online");
	if (strncmp(devpath, prefix, sizeof(prefix) - 1) != 0 ||
	    !parse_u64(devpath + sizeof(prefix) - 1, &cpu) || cpu >= 65536)
		return ignore(why, "cpu DEVPATH not /devices/system/cpu/cpu<N>");
	ev->kind = KS_UEVENT_CPU_ONLINE;
	ev->cpu = (unsigned int)cpu;
	return 1;
}

int ks_uevent_parse(const void *buf, size_t len, struct ks_uevent *ev, const char **why)
{
	const char *p = buf, *end = p + len, *at, *action, *devpath, *subsystem, *seqnum;
	size_t hlen;

	memset(ev, 0, sizeof(*ev));
	if (len == 0)
		return ignore(why, "empty datagram");
	/* udev's re-broadcasts (group 2) start with this; a kernel message cannot. */
	if (len >= 8 && memcmp(p, "libudev", 8) == 0)
		return ignore(why, "udev message, not the kernel's");
	if (end[-1] != '\0')
		return ignore(why, "not NUL-terminated");
	/* "ACTION@DEVPATH\0" then "KEY=value\0"... (lib/kobject_uevent.c) */
	hlen = strlen(p);
	at = memchr(p, '@', hlen);
	if (!at)
		return ignore(why, "no ACTION@DEVPATH header");
	action = uevent_var(p + hlen + 1, end, "ACTION");
	devpath = uevent_var(p + hlen + 1, end, "DEVPATH");
	subsystem = uevent_var(p + hlen + 1, end, "SUBSYSTEM");
	if (!action || !devpath || !subsystem)
		return ignore(why, "ACTION, DEVPATH or SUBSYSTEM missing");
	/* The header repeats ACTION and DEVPATH: disagreeing, it is not the kernel's. */
	if (strlen(action) != (size_t)(at - p) || memcmp(action, p, (size_t)(at - p)) != 0 ||
	    strcmp(devpath, at + 1) != 0)
		return ignore(why, "header disagrees with ACTION or DEVPATH");
	seqnum = uevent_var(p + hlen + 1, end, "SEQNUM");
	if (seqnum && !parse_u64(seqnum, &ev->seqnum))
		return ignore(why, "SEQNUM not a number");
	ev->synthetic = uevent_var(p + hlen + 1, end, "SYNTH_UUID") != NULL;
	if (strcmp(subsystem, "module") == 0)
		return parse_module(action, devpath, ev, why);
	if (strcmp(subsystem, "cpu") == 0)
		return parse_cpu(action, devpath, ev, why);
	return ignore(why, "another subsystem");
}

/* Append to prog the test "the datagram starts with prefix", jumping past
 * the test's end on a mismatch, and an accept at its end. */
static size_t filter_prefix(struct sock_filter *prog, size_t at, size_t max, const char *prefix)
{
	size_t len = strlen(prefix), n = 0, k = 0;
	const unsigned char *p = (const unsigned char *)prefix;

	/* Loads take 4, 2 or 1 bytes in network order: count them first. */
	for (size_t off = 0; off < len; k++)
		off += len - off >= 4 ? 4 : len - off >= 2 ? 2 : 1;
	if (at + 2 * k + 1 > max)
		return 0;
	for (size_t off = 0, i = 0; i < k; i++) {
		size_t w = len - off >= 4 ? 4 : len - off >= 2 ? 2 : 1;
		uint16_t size = w == 4 ? BPF_W : w == 2 ? BPF_H : BPF_B;
		uint32_t v = 0;

		for (size_t j = 0; j < w; j++)
			v = v << 8 | p[off + j];
		/* A load past the end of the datagram drops it. */
		prog[at + n++] =
			(struct sock_filter)BPF_STMT(BPF_LD | size | BPF_ABS, (uint32_t)off);
		prog[at + n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, v, 0,
							      (uint8_t)(2 * (k - i) - 1));
		off += w;
	}
	prog[at + n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, 0xffffffff);
	return n;
}

size_t ks_uevent_filter(struct sock_filter *prog, size_t max)
{
	static const char *const prefixes[] = {
		"add@/module/",
		"remove@/module/",
		"online@/devices/system/cpu/cpu",
	};
	size_t n = 0;

	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
		size_t m = filter_prefix(prog, n, max, prefixes[i]);

		if (m == 0)
			return 0;
		n += m;
	}
	if (n + 1 > max)
		return 0;
	prog[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, 0);
	return n;
}

/* ---- perf rings ---------------------------------------------------------- */

/* PERF_RECORD_KSYMBOL; with sample_id_all, the time trailer follows the name. */
struct ksymbol_record {
	struct perf_event_header header;
	uint64_t addr;
	uint32_t len;
	uint16_t ksym_type;
	uint16_t flags;
	char name[];
};

struct lost_record {
	struct perf_event_header header;
	uint64_t id;
	uint64_t lost;
};

int ks_perf_record_parse(const void *rec, size_t size, int cpu, bool timed, struct ks_kevent *ev)
{
	struct perf_event_header h;
	size_t body = size;	/* the record without its trailer */

	memset(ev, 0, sizeof(*ev));
	ev->cpu = cpu;
	if (size < sizeof(h))
		return -EBADMSG;
	memcpy(&h, rec, sizeof(h));
	if (h.size != size)
		return -EBADMSG;
	if (h.type != PERF_RECORD_KSYMBOL && h.type != PERF_RECORD_LOST)
		return 0;
	/* size >= 8: no wrap. A record too short for its trailer is then too
	 * short for its body, refused below. */
	if (timed)
		body = size - KS_SAMPLE_ID_TIME_SIZE;
	if (h.type == PERF_RECORD_KSYMBOL) {
		const struct ksymbol_record *k = rec;

		/* The name is NUL-padded to 8 bytes; sample_id follows. */
		if (body < sizeof(*k) + 1 ||
		    !memchr(k->name, '\0', body - offsetof(struct ksymbol_record, name)))
			return -EBADMSG;
		ev->kind = (k->flags & PERF_RECORD_KSYMBOL_FLAGS_UNREGISTER) ? KS_KEVENT_KSYM_REMOVE
									      : KS_KEVENT_KSYM_ADD;
		ev->ksym.addr = k->addr;
		ev->ksym.len = k->len;
		ev->ksym.type = k->ksym_type;
		ev->ksym.name = k->name;
	} else {
		const struct lost_record *l = rec;

		if (body < sizeof(*l))
			return -EBADMSG;
		ev->kind = KS_KEVENT_LOST;
		ev->lost.why = KS_LOST_PERF_RECORD;
		ev->lost.count = l->lost;
	}
	if (timed)
		memcpy(&ev->time, (const unsigned char *)rec + body, sizeof(ev->time));
	return 1;
}

/* Hand ev to fn, counting it. */
static int emit(const struct ks_kevent *ev, ks_kevent_fn fn, void *data, int *n)
{
	int r = fn(ev, data);

	if (r >= 0)
		(*n)++;
	return r;
}

static int emit_lost(const struct ks_perf_ring *ring, enum ks_kevent_lost_why why,
		     ks_kevent_fn fn, void *data, int *n)
{
	struct ks_kevent ev = { .kind = KS_KEVENT_LOST, .cpu = ring->cpu, .lost.why = why };

	return emit(&ev, fn, data, n);
}

/* The record of h.size bytes at off, whole: in place, or put together in the
 * bounce buffer when it wraps. NULL if it cannot be one we parse. */
static const unsigned char *ring_record(struct ks_perf_ring *ring, uint64_t off, size_t size)
{
	size_t first = ring->size - off;

	if (off + size <= ring->size)
		return ring->data + off;
	if (size > sizeof(ring->bounce))
		return NULL;
	memcpy(ring->bounce, ring->data + off, first);
	memcpy(ring->bounce + first, ring->data, size - first);
	return ring->bounce;
}

int ks_perf_ring_drain(struct ks_perf_ring *ring, ks_kevent_fn fn, void *data)
{
	uint64_t head, tail;
	int n = 0, r = 0;
	bool full;

	/* Acquire pairs with the kernel's publishing of data_head: the records
	 * before it are visible once it is (perf_event_mmap_page's protocol). */
	head = __atomic_load_n(&ring->page->data_head, __ATOMIC_ACQUIRE);
	tail = ring->page->data_tail;	/* ours alone to write */
	/* Only an overwriting ring, which ours are not, or a bad image. */
	if (head - tail > ring->size || tail % 8) {
		tail = head;
		r = emit_lost(ring, KS_LOST_RING_CORRUPT, fn, data, &n);
		goto out;
	}
	/* The kernel writes a record of s bytes only while more than s bytes
	 * are free (ring_buffer_has_space()), and free space only shrinks
	 * until we move the tail: a drop since the last drain needs free <= s. */
	full = ring->size - (head - tail) <=
	       KS_KSYM_RECORD_MAX - (ring->timed ? 0 : KS_SAMPLE_ID_TIME_SIZE);
	while (tail < head) {
		uint64_t off = tail & (ring->size - 1);
		struct perf_event_header h;
		const unsigned char *rec;
		struct ks_kevent ev;

		/* Records are 8-aligned and 8 * k long, and the data area is a
		 * power of two: a header never straddles its end. */
		memcpy(&h, ring->data + off, sizeof(h));
		if (h.size < sizeof(h) || h.size % 8 || h.size > head - tail) {
			tail = head;
			r = emit_lost(ring, KS_LOST_RING_CORRUPT, fn, data, &n);
			goto out;
		}
		if (h.type != PERF_RECORD_KSYMBOL && h.type != PERF_RECORD_LOST) {
			tail += h.size;
			continue;
		}
		rec = ring_record(ring, off, h.size);
		if (!rec || ks_perf_record_parse(rec, h.size, ring->cpu, ring->timed, &ev) < 0)
			ev = (struct ks_kevent){ .kind = KS_KEVENT_LOST, .cpu = ring->cpu,
						 .lost.why = KS_LOST_RING_CORRUPT };
		r = emit(&ev, fn, data, &n);
		tail += h.size;
		if (r < 0)
			goto out;
	}
	/* Any drop not yet reported came after the last record read. */
	if (full)
		r = emit_lost(ring, KS_LOST_RING_FULL, fn, data, &n);
out:
	/* Release: our reads of the records are done before the kernel may
	 * reuse their space. */
	__atomic_store_n(&ring->page->data_tail, tail, __ATOMIC_RELEASE);
	return r < 0 ? r : n;
}
