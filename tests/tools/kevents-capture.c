/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Records the raw bytes the kernel hands kevents, for tests/fixtures/kevents:
 *
 *   kevents-capture uevent DIR COUNT [SECONDS]
 *	COUNT datagrams from the kernel's uevent group (no filter), each to
 *	DIR/uevent-NN.bin. Trigger them meanwhile, e.g.
 *	echo online > /sys/devices/system/cpu/cpu1/uevent
 *   kevents-capture ksymbol DIR
 *	Loads and closes BPF programs on CPU 0 and saves what its ksymbol ring
 *	got: records.bin (the records, in order), ring-wrap.bin (a 1-page ring
 *	whose unread part wraps, a record split across the end), ring-full.bin
 *	(a ring so full that records were dropped, before PERF_RECORD_LOST) and
 *	ring-lost.bin (the same ring drained and one more program loaded: the
 *	PERF_RECORD_LOST). Each with a .txt of the events a reader must report,
 *	taken from bpf(BPF_OBJ_GET_INFO_BY_FD) and /proc/kallsyms, not from the
 *	ring.
 *
 * Needs root (CAP_PERFMON, CAP_BPF, CAP_SYSLOG) and the BPF JIT. Uses
 * nothing of kevents, so the fixtures do not come from the code they test.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <linux/perf_event.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "kevents_helpers.h"

struct ring {
	int fd;
	unsigned char *map;
	size_t map_len;
	struct perf_event_mmap_page *pg;
	unsigned char *data;
	uint64_t size;
};

static void die(const char *what)
{
	fprintf(stderr, "kevents-capture: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void write_file(const char *dir, const char *name, const void *a, size_t alen,
		       const void *b, size_t blen)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "we");
	if (!f || fwrite(a, 1, alen, f) != alen || (blen && fwrite(b, 1, blen, f) != blen) ||
	    fclose(f) != 0)
		die(path);
}

static int capture_uevents(const char *dir, int count, int seconds)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK, .nl_groups = 1 };
	char buf[8192], name[64];
	int fd, got = 0;
	time_t end = time(NULL) + seconds;

	fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_KOBJECT_UEVENT);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		die("uevent socket");
	printf("listening\n");
	fflush(stdout);
	while (got < count && time(NULL) < end) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		struct sockaddr_nl from;
		socklen_t fl = sizeof(from);
		ssize_t n;

		if (poll(&p, 1, 1000) <= 0)
			continue;
		n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);
		if (n < 0)
			die("recv");
		snprintf(name, sizeof(name), "uevent-%02d.bin", got++);
		write_file(dir, name, buf, (size_t)n, NULL, 0);
		printf("%s: %zd bytes from port %u group %u: %s\n", name, n, from.nl_pid,
		       from.nl_groups, buf);
	}
	close(fd);
	return got == count ? 0 : 1;
}

/* A dummy event on cpu with attr.ksymbol and a ring of pages data pages.
 * Untimed (no sample_id_all): the records carry no time trailer, as the
 * fixtures' do; kevents opens its events timed, and test_kevwire makes its
 * timed records from these by appending the trailer. */
static void ring_open(struct ring *r, int cpu, unsigned int pages)
{
	struct perf_event_attr attr;
	size_t page = (size_t)sysconf(_SC_PAGESIZE);

	memset(&attr, 0, sizeof(attr));
	attr.type = PERF_TYPE_SOFTWARE;
	attr.size = sizeof(attr);
	attr.config = PERF_COUNT_SW_DUMMY;
	attr.ksymbol = 1;
	r->fd = (int)syscall(SYS_perf_event_open, &attr, -1, cpu, -1, PERF_FLAG_FD_CLOEXEC);
	if (r->fd < 0)
		die("perf_event_open");
	r->map_len = (1 + pages) * page;
	r->map = mmap(NULL, r->map_len, PROT_READ | PROT_WRITE, MAP_SHARED, r->fd, 0);
	if (r->map == MAP_FAILED)
		die("mmap");
	r->pg = (struct perf_event_mmap_page *)r->map;
	r->data = r->map + r->pg->data_offset;
	r->size = r->pg->data_size;
}

static void ring_close(struct ring *r)
{
	munmap(r->map, r->map_len);
	close(r->fd);
}

static uint64_t head_of(const struct ring *r)
{
	return __atomic_load_n(&r->pg->data_head, __ATOMIC_ACQUIRE);
}

static void consume(struct ring *r)
{
	__atomic_store_n(&r->pg->data_tail, head_of(r), __ATOMIC_RELEASE);
}

/* Records in the unread part, walking headers only. */
static unsigned int count_records(const struct ring *r)
{
	uint64_t t = r->pg->data_tail, h = head_of(r);
	unsigned int n = 0;

	while (t < h) {
		struct perf_event_header hd;

		memcpy(&hd, r->data + (t & (r->size - 1)), sizeof(hd));
		t += hd.size;
		n++;
	}
	return n;
}

static void save_image(const struct ring *r, const char *dir, const char *name)
{
	struct kev_image_header h;

	memset(&h, 0, sizeof(h));
	memcpy(h.magic, KEV_IMAGE_MAGIC, 8);
	h.data_head = head_of(r);
	h.data_tail = r->pg->data_tail;
	h.data_size = r->size;
	h.cpu = 0;
	write_file(dir, name, &h, sizeof(h), r->data, r->size);
}

/* Load a program, note its add event; close it, note its remove event. */
static void cycle(int32_t imm, const char *name, char *txt, size_t txt_size)
{
	char sym[600];
	uint32_t len = 0;
	uint64_t addr;
	int fd = bpfprog_load(imm, name);
	size_t n = strlen(txt);

	if (fd < 0) {
		errno = -fd;
		die("BPF_PROG_LOAD");
	}
	if (bpfprog_info(fd, sym, sizeof(sym), &len) < 0)
		die("BPF_OBJ_GET_INFO_BY_FD");
	addr = kev_kallsyms_bpf_addr(sym);
	if (!addr) {
		fprintf(stderr, "kevents-capture: %s not once in /proc/kallsyms\n", sym);
		exit(1);
	}
	close(fd);
	snprintf(txt + n, txt_size - n,
		 "ksym_add %#" PRIx64 " %u 1 %s\nksym_remove %#" PRIx64 " %u 1 %s\n", addr, len,
		 sym, addr, len, sym);
}

static int capture_ksymbol(const char *dir)
{
	static const char *const names[] = { "k", "ks", "ksy_a", "ksymsd_cap", "ksymsd_capture1" };
	static char txt[1 << 16];
	int32_t imm = (int32_t)(time(NULL) & 0xffffff) << 4;
	struct ring r;
	uint64_t h, t, pos;
	unsigned int fitted, caused;

	if (kev_pin(0) < 0)
		die("sched_setaffinity");

	/* records: one of each name length, in a ring big enough. */
	ring_open(&r, 0, 8);
	consume(&r);
	txt[0] = '\0';
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		cycle(imm++, names[i], txt, sizeof(txt));
	if (count_records(&r) != 10) {
		fprintf(stderr, "kevents-capture: %u records, not 10: someone else was busy\n",
			count_records(&r));
		return 1;
	}
	h = head_of(&r);
	t = r.pg->data_tail;
	write_file(dir, "records.bin", r.data + (t & (r.size - 1)), h - t, NULL, 0);
	write_file(dir, "records.txt", txt, strlen(txt), NULL, 0);
	ring_close(&r);

	/* ring-wrap: 56-byte records ("kwrap") until the next one would
	 * straddle the end, then three cycles left unread. */
	ring_open(&r, 0, 1);
	for (;;) {
		consume(&r);
		pos = head_of(&r) & (r.size - 1);
		if (head_of(&r) >= r.size && r.size - pos < 300 && (r.size - pos) % 56)
			break;
		txt[0] = '\0';
		cycle(imm++, "kwrap", txt, sizeof(txt));
	}
	txt[0] = '\0';
	for (int i = 0; i < 3; i++)
		cycle(imm++, "kwrap", txt, sizeof(txt));
	if (count_records(&r) != 6)
		return fprintf(stderr, "kevents-capture: wrap: someone else was busy\n"), 1;
	save_image(&r, dir, "ring-wrap.bin");
	write_file(dir, "ring-wrap.txt", txt, strlen(txt), NULL, 0);
	ring_close(&r);

	/* ring-full: 40 cycles into an empty 1-page ring, unread. */
	ring_open(&r, 0, 1);
	consume(&r);
	txt[0] = '\0';
	for (int i = 0; i < 40; i++)
		cycle(imm++, "kfull", txt, sizeof(txt));
	caused = 80;
	fitted = count_records(&r);
	{
		/* The events of the records that fitted, then the loss. */
		char *p = txt;

		for (unsigned int i = 0; i < fitted; i++)
			p = strchr(p, '\n') + 1;
		snprintf(p, sizeof(txt) - (size_t)(p - txt), "lost ring_full\n");
	}
	save_image(&r, dir, "ring-full.bin");
	write_file(dir, "ring-full.txt", txt, strlen(txt), NULL, 0);

	/* ring-lost: drained, then one more cycle, behind the kernel's count. */
	consume(&r);
	snprintf(txt, sizeof(txt), "lost perf %u\n", caused - fitted);
	cycle(imm++, "kfull", txt, sizeof(txt));
	save_image(&r, dir, "ring-lost.bin");
	write_file(dir, "ring-lost.txt", txt, strlen(txt), NULL, 0);
	ring_close(&r);
	printf("records: 10, wrap: 6 from %" PRIu64 ", full: %u of %u\n", pos, fitted, caused);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 4 && strcmp(argv[1], "uevent") == 0)
		return capture_uevents(argv[2], atoi(argv[3]), argc > 4 ? atoi(argv[4]) : 30);
	if (argc == 3 && strcmp(argv[1], "ksymbol") == 0)
		return capture_ksymbol(argv[2]);
	fprintf(stderr, "usage: kevents-capture uevent DIR COUNT [SECONDS]\n"
			"       kevents-capture ksymbol DIR\n");
	return 2;
}
