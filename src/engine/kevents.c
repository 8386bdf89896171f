/* SPDX-License-Identifier: BSD-2-Clause */
#include "kevents.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/netlink.h>
#include <linux/perf_event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "shared/fdio.h"

/* The kernel's uevent multicast group; udev re-broadcasts on group 2. */
#define UEVENT_GROUP_KERNEL 1u

/* A change of CLOCK_BOOTTIME - CLOCK_MONOTONIC beyond this is a suspend. */
#define SLEEP_NS_MIN 1000000

/* One CPU's ksymbol event and its ring. */
struct cpu_event {
	struct ks_perf_ring ring;
	int fd;
	void *map;
	size_t map_len;
};

struct ks_kevents {
	unsigned int sources;		/* live */
	bool ksymbol;			/* the ksymbol source opened once: follow hotplug */
	bool untimed;			/* the kernel refused timestamps: open without */
	char why_uevent[sizeof(((struct ks_error *)0)->msg)];
	char why_ksymbol[sizeof(((struct ks_error *)0)->msg)];
	int epfd;
	int nl;				/* the uevent socket, or -1 */
	struct cpu_event **cpus;	/* by CPU number; NULL: no event */
	bool *stale;			/* (re)open before draining the rings */
	unsigned int n_cpus;
	int64_t sleep_ns;		/* CLOCK_BOOTTIME - CLOCK_MONOTONIC, last seen */
	char buf[KS_UEVENT_MAX];
};

/* Where drained events go, and how many went. */
struct sink {
	ks_kevent_fn fn;
	void *data;
	int n;
};

static int sink_emit(struct sink *s, const struct ks_kevent *ev)
{
	int r = s->fn(ev, s->data);

	if (r >= 0)
		s->n++;
	return r;
}

static int sink_lost(struct sink *s, int cpu, enum ks_kevent_lost_why why)
{
	struct ks_kevent ev = { .kind = KS_KEVENT_LOST, .cpu = cpu, .lost.why = why };

	return sink_emit(s, &ev);
}

/* ---- uevents ------------------------------------------------------------ */

static void uevent_open(struct ks_kevents *kev)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK, .nl_groups = UEVENT_GROUP_KERNEL };
	struct sock_filter prog[KS_UEVENT_FILTER_MAX];
	struct sock_fprog fprog = { .filter = prog };
	struct epoll_event ee = { .events = EPOLLIN };
	int fd, rcvbuf = 1 << 20;

	fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_KOBJECT_UEVENT);
	if (fd < 0) {
		snprintf(kev->why_uevent, sizeof(kev->why_uevent),
			 "socket(AF_NETLINK, NETLINK_KOBJECT_UEVENT): %s%s", strerror(errno),
			 errno == EAFNOSUPPORT ? " (RestrictAddressFamilies= without AF_NETLINK?)"
					       : "");
		return;
	}
	/* Both best effort: a smaller buffer overflows sooner, no filter
	 * wakes us for every device; either way overflows are reported. */
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	fprog.len = (unsigned short)ks_uevent_filter(prog, KS_UEVENT_FILTER_MAX);
	(void)setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &fprog, sizeof(fprog));
	/* Joining the kernel's group needs no privilege (NL_CFG_F_NONROOT_RECV);
	 * a failure leaves this source out. In a network namespace owned by a
	 * user namespace other than the initial one this succeeds, but the
	 * kernel sends no module uevents there. */
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		snprintf(kev->why_uevent, sizeof(kev->why_uevent),
			 "bind to the kernel's uevent group: %s", strerror(errno));
		close(fd);
		return;
	}
	ee.data.fd = fd;
	if (epoll_ctl(kev->epfd, EPOLL_CTL_ADD, fd, &ee) < 0) {
		snprintf(kev->why_uevent, sizeof(kev->why_uevent), "epoll_ctl(uevent socket): %s",
			 strerror(errno));
		close(fd);
		return;
	}
	kev->nl = fd;
	kev->sources |= KS_KEVENTS_UEVENT;
	kev->why_uevent[0] = '\0';
}

/* Make sure cpu has a slot in cpus and stale. */
static int cpus_grow(struct ks_kevents *kev, unsigned int n)
{
	struct cpu_event **cpus;
	bool *stale;

	if (n <= kev->n_cpus)
		return 0;
	cpus = realloc(kev->cpus, n * sizeof(*cpus));
	if (!cpus)
		return -ENOMEM;
	kev->cpus = cpus;
	stale = realloc(kev->stale, n * sizeof(*stale));
	if (!stale)
		return -ENOMEM;
	kev->stale = stale;
	for (unsigned int i = kev->n_cpus; i < n; i++) {
		cpus[i] = NULL;
		stale[i] = false;
	}
	kev->n_cpus = n;
	return 0;
}

static int handle_uevent(struct ks_kevents *kev, const void *buf, size_t len, struct sink *s)
{
	struct ks_kevent ev = { .cpu = -1 };
	struct ks_uevent ue;

	if (ks_uevent_parse(buf, len, &ue, NULL) <= 0)
		return 0;
	if (ue.kind == KS_UEVENT_CPU_ONLINE) {
		if (!kev->ksymbol)
			return 0;
		if (cpus_grow(kev, ue.cpu + 1) < 0)
			return sink_lost(s, -1, KS_LOST_CPU);
		kev->stale[ue.cpu] = true;
		return 0;
	}
	ev.kind = ue.kind == KS_UEVENT_MODULE_ADD ? KS_KEVENT_MODULE_ADD : KS_KEVENT_MODULE_REMOVE;
	ev.module.name = ue.module;
	ev.module.seqnum = ue.seqnum;
	ev.module.synthetic = ue.synthetic;
	return sink_emit(s, &ev);
}

static int uevents_drain(struct ks_kevents *kev, struct sink *s, struct ks_error *err)
{
	for (;;) {
		struct sockaddr_nl sa;
		struct iovec iov = { .iov_base = kev->buf, .iov_len = sizeof(kev->buf) };
		struct msghdr mh = {
			.msg_name = &sa, .msg_namelen = sizeof(sa), .msg_iov = &iov, .msg_iovlen = 1
		};
		ssize_t len = recvmsg(kev->nl, &mh, MSG_DONTWAIT);
		int r;

		if (len < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			/* The kernel dropped datagrams for want of room; it says so
			 * once. One may have been a CPU's online: reopen them all. */
			if (errno == ENOBUFS) {
				for (unsigned int cpu = 0; kev->ksymbol && cpu < kev->n_cpus; cpu++)
					kev->stale[cpu] = true;
				r = sink_lost(s, -1, KS_LOST_UEVENT_OVERFLOW);
				if (r < 0)
					return r;
				continue;
			}
			return ks_error_set(err, errno, "reading uevents: %s", strerror(errno));
		}
		/* Port 0 is the kernel; a process with CAP_NET_ADMIN may send to
		 * the group as well, and is not believed. */
		if (sa.nl_pid != 0 || (mh.msg_flags & MSG_TRUNC))
			continue;
		r = handle_uevent(kev, kev->buf, (size_t)len, s);
		if (r < 0)
			return r;
	}
}

/* ---- ksymbol events ----------------------------------------------------- */

static void cpu_close(struct ks_kevents *kev, unsigned int cpu)
{
	struct cpu_event *c = kev->cpus[cpu];

	if (!c)
		return;
	munmap(c->map, c->map_len);
	close(c->fd);	/* leaves the epoll set with it */
	free(c);
	kev->cpus[cpu] = NULL;
}

/*
 * A dummy event with attr.ksymbol on cpu. Timed, its records end with a
 * sample_id of the time alone, CLOCK_MONOTONIC (use_clockid: perf's own clock
 * is local_clock(), comparable to nothing userspace reads). Untimed when
 * kev->untimed says the kernel refused that once.
 */
static int perf_open(const struct ks_kevents *kev, unsigned int cpu)
{
	struct perf_event_attr attr = {
		.type = PERF_TYPE_SOFTWARE,
		.size = sizeof(attr),
		.config = PERF_COUNT_SW_DUMMY,
		.ksymbol = 1,
		/* Wake pollers at every record, not when half the ring is full. */
		.watermark = 1,
		.wakeup_watermark = 1,
	};

	if (!kev->untimed) {
		attr.sample_id_all = 1;
		attr.sample_type = PERF_SAMPLE_TIME;
		attr.use_clockid = 1;
		attr.clockid = CLOCK_MONOTONIC;
	}
	return (int)syscall(SYS_perf_event_open, &attr, -1, (int)cpu, -1, PERF_FLAG_FD_CLOEXEC);
}

static int cpu_open(struct ks_kevents *kev, unsigned int cpu, struct ks_error *err)
{
	struct epoll_event ee = { .events = EPOLLIN };
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	struct perf_event_mmap_page *pg;
	struct cpu_event *c;
	uint64_t off, size;
	int r = 0;

	c = calloc(1, sizeof(*c));
	if (!c)
		return ks_error_set(err, ENOMEM, "out of memory");
	c->map = MAP_FAILED;
	c->fd = perf_open(kev, cpu);
	/* A kernel that knows ksymbol records (5.1) knows the rest (4.1 and
	 * before); still, one refusing timestamps gets untimed events, for
	 * good, rather than none. */
	if (c->fd < 0 && errno == EINVAL && !kev->untimed) {
		kev->untimed = true;
		c->fd = perf_open(kev, cpu);
		if (c->fd < 0)
			kev->untimed = false;
	}
	if (c->fd < 0) {
		r = -errno;
		ks_error_set(err, -r, "perf_event_open(dummy, ksymbol, CPU %u): %s%s", cpu,
			     strerror(-r),
			     r == -EACCES || r == -EPERM
				     ? " (needs CAP_PERFMON; CAP_SYS_ADMIN before 5.8 or where"
				       " perf_event_paranoid is 3; or a seccomp filter refused it)"
			     : r == -EINVAL || r == -ENOENT || r == -EOPNOTSUPP
				     ? " (no ksymbol records before Linux 5.1)"
				     : "");
		goto out;
	}
	c->map_len = (1 + KS_KEVENTS_RING_PAGES) * page;
	c->map = mmap(NULL, c->map_len, PROT_READ | PROT_WRITE, MAP_SHARED, c->fd, 0);
	if (c->map == MAP_FAILED) {
		r = -errno;
		ks_error_set(err, -r, "mapping the ring of CPU %u: %s%s", cpu, strerror(-r),
			     r == -EPERM ? " (over kernel.perf_event_mlock_kb?)" : "");
		goto out;
	}
	pg = c->map;
	/* data_offset and data_size exist since 4.1; before, the data follows
	 * the control page. */
	off = pg->data_offset ? pg->data_offset : page;
	size = pg->data_size ? pg->data_size : KS_KEVENTS_RING_PAGES * page;
	if (size & (size - 1) || off + size > c->map_len) {
		r = ks_error_set(err, EPROTO, "CPU %u: ring of %llu bytes at %llu makes no sense",
				 cpu, (unsigned long long)size, (unsigned long long)off);
		goto out;
	}
	c->ring.page = pg;
	c->ring.data = (const unsigned char *)c->map + off;
	c->ring.size = size;
	c->ring.cpu = (int)cpu;
	c->ring.timed = !kev->untimed;
	ee.data.fd = c->fd;
	if (epoll_ctl(kev->epfd, EPOLL_CTL_ADD, c->fd, &ee) < 0) {
		r = -errno;
		ks_error_set(err, -r, "epoll_ctl(CPU %u): %s", cpu, strerror(-r));
		goto out;
	}
	kev->cpus[cpu] = c;
	c = NULL;
out:
	if (c) {
		if (c->map != MAP_FAILED)
			munmap(c->map, c->map_len);
		if (c->fd >= 0)
			close(c->fd);
		free(c);
	}
	return r;
}

/* A CPU number at *p, moving *p past it. */
static int cpu_number(const char **p, unsigned int *cpu)
{
	unsigned int v = 0;
	const char *q = *p;

	for (; *q >= '0' && *q <= '9'; q++) {
		v = v * 10 + (unsigned int)(*q - '0');
		if (v >= 65536)
			return -EINVAL;
	}
	if (q == *p)
		return -EINVAL;
	*p = q;
	*cpu = v;
	return 0;
}

/* Call fn for each CPU in a list such as "0-3,8,10-11\n". */
static int cpulist_each(const char *p, int (*fn)(struct ks_kevents *, unsigned int),
			struct ks_kevents *kev)
{
	for (;;) {
		unsigned int a, b;
		int r;

		if (cpu_number(&p, &a) < 0)
			return -EINVAL;
		b = a;
		if (*p == '-') {
			p++;
			if (cpu_number(&p, &b) < 0 || b < a)
				return -EINVAL;
		}
		for (unsigned int cpu = a; cpu <= b; cpu++) {
			r = fn(kev, cpu);
			if (r < 0)
				return r;
		}
		if (*p != ',')
			return *p == '\n' || *p == '\0' ? 0 : -EINVAL;
		p++;
	}
}

static int cpu_slot(struct ks_kevents *kev, unsigned int cpu)
{
	return cpus_grow(kev, cpu + 1);
}

/* Opening at start: an offline CPU (gone since "online" was read) gets its
 * event when it comes back, through its online uevent. */
static int cpu_open_initial(struct ks_kevents *kev, unsigned int cpu)
{
	struct ks_error err;
	int r = cpu_open(kev, cpu, &err);

	if (r < 0 && r != -ENODEV) {
		snprintf(kev->why_ksymbol, sizeof(kev->why_ksymbol), "%s", err.msg);
		return r;
	}
	return 0;
}

static int cpulist_read(const char *path, char **text, struct ks_error *err)
{
	size_t len;
	int fd = open(path, O_RDONLY | O_CLOEXEC), r;

	if (fd < 0)
		return ks_error_set(err, errno, "%s: %s", path, strerror(errno));
	r = ks_read_all(fd, 1 << 16, 4096, text, &len, err);
	close(fd);
	return r < 0 ? ks_error_prefix(err, "%s", path) : 0;
}

static int64_t sleep_ns(void)
{
	struct timespec m, b;

	clock_gettime(CLOCK_MONOTONIC, &m);
	clock_gettime(CLOCK_BOOTTIME, &b);
	return (int64_t)(b.tv_sec - m.tv_sec) * 1000000000 + (b.tv_nsec - m.tv_nsec);
}

static void ksymbol_open(struct ks_kevents *kev)
{
	struct ks_error err = { 0 };
	char *possible = NULL, *online = NULL;
	int r;

	r = cpulist_read("/sys/devices/system/cpu/possible", &possible, &err);
	if (r == 0)
		r = cpulist_read("/sys/devices/system/cpu/online", &online, &err);
	if (r < 0) {
		snprintf(kev->why_ksymbol, sizeof(kev->why_ksymbol), "%s", err.msg);
		goto out;
	}
	if (cpulist_each(possible, cpu_slot, kev) < 0 || cpulist_each(online, cpu_slot, kev) < 0) {
		snprintf(kev->why_ksymbol, sizeof(kev->why_ksymbol),
			 "/sys/devices/system/cpu/{possible,online}: bad list, or out of memory");
		goto out;
	}
	if (cpulist_each(online, cpu_open_initial, kev) < 0) {
		for (unsigned int cpu = 0; cpu < kev->n_cpus; cpu++)
			cpu_close(kev, cpu);
		goto out;
	}
	kev->sleep_ns = sleep_ns();
	kev->ksymbol = true;
	kev->sources |= KS_KEVENTS_KSYMBOL;
	kev->why_ksymbol[0] = '\0';
out:
	free(possible);
	free(online);
}

/*
 * (Re)open the events of stale CPUs. The kernel detaches a CPU-bound event
 * from its CPU when the CPU goes offline and never reattaches it, so after an
 * online the old one is dead: its ring still holds what came before.
 * Whatever ran on the CPU between its coming up and now was not recorded.
 */
static int cpus_reopen(struct ks_kevents *kev, struct sink *s)
{
	for (unsigned int cpu = 0; cpu < kev->n_cpus; cpu++) {
		struct ks_error err;
		int r;

		if (!kev->stale[cpu])
			continue;
		if (kev->cpus[cpu]) {
			r = ks_perf_ring_drain(&kev->cpus[cpu]->ring, s->fn, s->data);
			if (r < 0)
				return r;
			s->n += r;
			cpu_close(kev, cpu);
		}
		r = cpu_open(kev, cpu, &err);
		/* ENODEV: offline again, nothing can run there until it is back. */
		if (r == 0 || r == -ENODEV) {
			kev->stale[cpu] = false;
		} else {
			/* Likely the capability, dropped since: keep trying, and
			 * keep saying that this CPU goes unwatched. */
			snprintf(kev->why_ksymbol, sizeof(kev->why_ksymbol), "%s", err.msg);
			kev->sources &= ~KS_KEVENTS_KSYMBOL;
		}
		r = sink_lost(s, (int)cpu, KS_LOST_CPU);
		if (r < 0)
			return r;
	}
	for (unsigned int cpu = 0; cpu < kev->n_cpus; cpu++)
		if (kev->stale[cpu])
			return 0;
	kev->sources |= KS_KEVENTS_KSYMBOL;
	kev->why_ksymbol[0] = '\0';
	return 0;
}

/* ---- the object ---------------------------------------------------------- */

int ks_kevents_open(unsigned int flags, struct ks_kevents **kevp, struct ks_error *err)
{
	struct ks_kevents *kev;

	*kevp = NULL;
	kev = calloc(1, sizeof(*kev));
	if (!kev)
		return ks_error_set(err, ENOMEM, "out of memory");
	kev->nl = -1;
	kev->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (kev->epfd < 0) {
		int r = ks_error_set(err, errno, "epoll_create1: %s", strerror(errno));

		free(kev);
		return r;
	}
	snprintf(kev->why_uevent, sizeof(kev->why_uevent), "not asked for");
	snprintf(kev->why_ksymbol, sizeof(kev->why_ksymbol), "not asked for");
	/* The socket first: a CPU coming online while the events open is then
	 * seen through its uevent. */
	if (flags & KS_KEVENTS_UEVENT)
		uevent_open(kev);
	if (flags & KS_KEVENTS_KSYMBOL)
		ksymbol_open(kev);
	*kevp = kev;
	return 0;
}

unsigned int ks_kevents_cpus(const struct ks_kevents *kev)
{
	unsigned int n = 0;

	for (unsigned int cpu = 0; cpu < kev->n_cpus; cpu++)
		n += kev->cpus[cpu] != NULL;
	return n;
}

unsigned int ks_kevents_sources(const struct ks_kevents *kev)
{
	return kev->sources;
}

bool ks_kevents_timed(const struct ks_kevents *kev)
{
	return kev->ksymbol && !kev->untimed;
}

const char *ks_kevents_unavailable(const struct ks_kevents *kev, unsigned int source)
{
	if (source == KS_KEVENTS_UEVENT)
		return kev->why_uevent;
	if (source == KS_KEVENTS_KSYMBOL)
		return kev->why_ksymbol;
	return "no such source";
}

int ks_kevents_fd(const struct ks_kevents *kev)
{
	return kev->epfd;
}

int ks_kevents_drain(struct ks_kevents *kev, ks_kevent_fn fn, void *data, struct ks_error *err)
{
	struct sink s = { .fn = fn, .data = data };
	int r;

	if (kev->ksymbol) {
		int64_t now = sleep_ns();

		/* A suspend took every CPU but the boot CPU offline and back,
		 * without uevents. */
		if (now - kev->sleep_ns > SLEEP_NS_MIN || kev->sleep_ns - now > SLEEP_NS_MIN) {
			for (unsigned int cpu = 0; cpu < kev->n_cpus; cpu++)
				kev->stale[cpu] = kev->stale[cpu] || kev->cpus[cpu];
			kev->sleep_ns = now;
		}
	}
	if (kev->nl >= 0) {
		r = uevents_drain(kev, &s, err);
		if (r < 0)
			return r;
	}
	if (!kev->ksymbol)
		return s.n;
	r = cpus_reopen(kev, &s);
	if (r < 0)
		return r;
	for (unsigned int cpu = 0; cpu < kev->n_cpus; cpu++) {
		if (!kev->cpus[cpu])
			continue;
		r = ks_perf_ring_drain(&kev->cpus[cpu]->ring, fn, data);
		if (r < 0)
			return r;
		s.n += r;
	}
	return s.n;
}

int ks_kevents_feed(struct ks_kevents *kev, const void *buf, size_t len, ks_kevent_fn fn,
		    void *data)
{
	struct sink s = { .fn = fn, .data = data };
	int r;

	r = handle_uevent(kev, buf, len, &s);
	if (r >= 0 && kev->ksymbol)
		r = cpus_reopen(kev, &s);
	return r < 0 ? r : s.n;
}

void ks_kevents_close(struct ks_kevents *kev)
{
	if (!kev)
		return;
	for (unsigned int cpu = 0; cpu < kev->n_cpus; cpu++)
		cpu_close(kev, cpu);
	free(kev->cpus);
	free(kev->stale);
	if (kev->nl >= 0)
		close(kev->nl);
	close(kev->epfd);
	free(kev);
}
