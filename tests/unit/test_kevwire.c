/* SPDX-License-Identifier: BSD-2-Clause */
/* The kernel's event formats on recorded bytes (tests/fixtures/kevents):
 * uevent datagrams, their socket filter, and ksymbol rings. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <linux/filter.h>
#include <linux/perf_event.h>

#include "engine/kevwire.h"
#include "kevents_collect.h"
#include "kevents_helpers.h"
#include "testutil.h"

static unsigned char *read_bin(const char *rel, size_t *len)
{
	FILE *f = fopen(fixture(rel), "rb");
	unsigned char *buf;
	long n;

	if (!f)
		fail_msg("%s: %s", fixture(rel), strerror(errno));
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc((size_t)n + 1);	/* + 1: malloc(0) may be NULL */
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return buf;
}

/* ---- uevents ------------------------------------------------------------ */

/* What parsing one fixture gives, in EXPECTED's words. */
static void uevent_outcome(const unsigned char *buf, size_t len, char *out, size_t size)
{
	static const char *const kinds[] = { "", "module_add", "module_remove", "cpu_online" };
	struct ks_uevent ev;
	const char *why = NULL;
	int r = ks_uevent_parse(buf, len, &ev, &why);

	assert_true(r == 0 || r == 1);
	if (r == 0) {
		assert_non_null(why);
		snprintf(out, size, "ignore %s", why);
	} else if (ev.kind == KS_UEVENT_CPU_ONLINE) {
		snprintf(out, size, "cpu_online %u %" PRIu64 "%s", ev.cpu, ev.seqnum,
			 ev.synthetic ? " synthetic" : "");
	} else {
		snprintf(out, size, "%s %s %" PRIu64 "%s", kinds[ev.kind], ev.module, ev.seqnum,
			 ev.synthetic ? " synthetic" : "");
	}
}

/* Call fn on each fixture of uevent/EXPECTED with its expected outcome;
 * returns how many. */
static int uevent_each(void (*fn)(const char *file, const unsigned char *buf, size_t len,
				  const char *expected))
{
	char line[512], rel[600];
	FILE *f = fopen(fixture("kevents/uevent/EXPECTED"), "r");
	int n = 0;

	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		char *tab = strchr(line, '\t');
		unsigned char *buf;
		size_t len;

		if (line[0] == '#' || !tab)
			continue;
		*tab = '\0';
		tab[strcspn(tab + 1, "\n") + 1] = '\0';
		snprintf(rel, sizeof(rel), "kevents/uevent/%s", line);
		buf = read_bin(rel, &len);
		fn(line, buf, len, tab + 1);
		free(buf);
		n++;
	}
	fclose(f);
	return n;
}

static void check_outcome(const char *file, const unsigned char *buf, size_t len,
			  const char *expected)
{
	char got[700];

	uevent_outcome(buf, len, got, sizeof(got));
	if (strcmp(got, expected) != 0)
		fail_msg("%s: got \"%s\", expected \"%s\"", file, got, expected);
}

/* How many .bin files the fixture directory rel holds. */
static int count_bins(const char *rel)
{
	DIR *d = opendir(fixture(rel));
	struct dirent *de;
	int bins = 0;

	assert_non_null(d);
	while ((de = readdir(d))) {
		size_t n = strlen(de->d_name);

		bins += n > 4 && strcmp(de->d_name + n - 4, ".bin") == 0;
	}
	closedir(d);
	return bins;
}

static void test_uevent_fixtures(void **state)
{
	(void)state;
	assert_int_equal(uevent_each(check_outcome), count_bins("kevents/uevent"));
}

/* Every prefix of every datagram, alone in a buffer of its size (so that
 * ASan and valgrind see a read past it), and each byte replaced by a
 * separator: ignored or parsed, never a crash. */
static void check_cuts(const char *file, const unsigned char *buf, size_t len,
		       const char *expected)
{
	static const unsigned char subst[] = { '\0', '@', '=', '/', 'x' };
	char got[700];

	(void)file;
	(void)expected;
	for (size_t cut = 0; cut <= len; cut++) {
		unsigned char *p = malloc(cut ? cut : 1);

		memcpy(p, buf, cut);
		uevent_outcome(p, cut, got, sizeof(got));
		for (size_t i = 0; i < cut && cut == len; i++) {
			unsigned char was = p[i];

			for (size_t j = 0; j < sizeof(subst); j++) {
				p[i] = subst[j];
				uevent_outcome(p, cut, got, sizeof(got));
			}
			p[i] = was;
		}
		free(p);
	}
}

static void test_uevent_malformed_never_crash(void **state)
{
	(void)state;
	assert_true(uevent_each(check_cuts) > 0);
}

/* A classic BPF interpreter for what ks_uevent_filter() emits. */
static uint32_t filter_run(const struct sock_filter *prog, size_t n, const unsigned char *pkt,
			   size_t len)
{
	uint32_t a = 0;

	for (size_t pc = 0; pc < n; pc++) {
		const struct sock_filter *i = &prog[pc];
		size_t w = BPF_SIZE(i->code) == BPF_W ? 4 : BPF_SIZE(i->code) == BPF_H ? 2 : 1;

		switch (i->code) {
		case BPF_LD | BPF_W | BPF_ABS:
		case BPF_LD | BPF_H | BPF_ABS:
		case BPF_LD | BPF_B | BPF_ABS:
			if (i->k + w > len)
				return 0;	/* as the kernel: drop */
			a = 0;
			for (size_t j = 0; j < w; j++)
				a = a << 8 | pkt[i->k + j];
			break;
		case BPF_JMP | BPF_JEQ | BPF_K:
			pc += a == i->k ? i->jt : i->jf;
			break;
		case BPF_RET | BPF_K:
			return i->k;
		default:
			fail_msg("opcode %#x", i->code);
		}
	}
	fail_msg("fell off the end");
	return 0;
}

static struct sock_filter filter_prog[KS_UEVENT_FILTER_MAX];
static size_t filter_len;

static void check_filter(const char *file, const unsigned char *buf, size_t len,
			 const char *expected)
{
	bool kept = filter_run(filter_prog, filter_len, buf, len) != 0;

	/* Whatever the parser takes must get through. */
	if (strncmp(expected, "ignore ", 7) != 0 && !kept)
		fail_msg("%s: dropped by the filter", file);
	/* And the noise it exists for must not: a net device's own uevents
	 * come with every load of dummy. */
	if ((strstr(file, "change") || strstr(file, "offline") || strstr(file, "udev") ||
	     strstr(file, "-net-")) && kept)
		fail_msg("%s: kept by the filter", file);
}

static void test_uevent_filter(void **state)
{
	static const char *const kept[] = { "add@/module/x", "remove@/module/x",
					    "online@/devices/system/cpu/cpu7" };
	static const char *const dropped[] = { "", "add@/module", "add@/modulx/x", "remove@/modul",
					       "online@/devices/system/cpu/", "add@/devices/x" };
	struct sock_filter small[8];

	(void)state;
	filter_len = ks_uevent_filter(filter_prog, KS_UEVENT_FILTER_MAX);
	assert_true(filter_len > 0);
	assert_int_equal(ks_uevent_filter(small, 8), 0);
	uevent_each(check_filter);
	for (size_t i = 0; i < sizeof(kept) / sizeof(kept[0]); i++)
		assert_int_not_equal(filter_run(filter_prog, filter_len, (const void *)kept[i],
						strlen(kept[i]) + 1), 0);
	for (size_t i = 0; i < sizeof(dropped) / sizeof(dropped[0]); i++)
		assert_int_equal(filter_run(filter_prog, filter_len, (const void *)dropped[i],
					    strlen(dropped[i]) + 1), 0);
}

/* ---- perf rings --------------------------------------------------------- */

struct image {
	struct perf_event_mmap_page page;
	unsigned char *data;
	struct ks_perf_ring ring;
};

static void image_init(struct image *im, uint64_t size, uint64_t tail, uint64_t head)
{
	memset(im, 0, sizeof(*im));
	im->data = malloc(size);
	assert_non_null(im->data);
	memset(im->data, 0xa5, size);	/* what the last lap left */
	im->page.data_tail = tail;
	im->page.data_head = head;
	im->ring.page = &im->page;
	im->ring.data = im->data;
	im->ring.size = size;
	im->ring.cpu = 3;
}

/* Copy len bytes into the ring at position pos, wrapping. */
static void image_put(struct image *im, uint64_t pos, const void *src, size_t len)
{
	for (size_t i = 0; i < len; i++)
		im->data[(pos + i) & (im->ring.size - 1)] = ((const unsigned char *)src)[i];
}

static void image_load(struct image *im, const char *rel)
{
	struct kev_image_header h;
	unsigned char *buf;
	size_t len;

	buf = read_bin(rel, &len);
	assert_true(len >= sizeof(h));
	memcpy(&h, buf, sizeof(h));
	assert_memory_equal(h.magic, KEV_IMAGE_MAGIC, 8);
	assert_int_equal(len, sizeof(h) + h.data_size);
	image_init(im, h.data_size, h.data_tail, h.data_head);
	memcpy(im->data, buf + sizeof(h), h.data_size);
	im->ring.cpu = h.cpu;
	free(buf);
}

/* The log matches the .txt fixture line for line, plus extra at the end. */
static void expect_txt(const struct kev_log *log, const char *rel, const char *extra)
{
	unsigned char *txt;
	char *line, *save, got[700];
	size_t len;
	int i = 0;

	txt = read_bin(rel, &len);
	txt[len] = '\0';
	for (line = strtok_r((char *)txt, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (i >= log->n)
			fail_msg("%s: event %d missing (%s)", rel, i, line);
		kev_format(&log->ev[i++], got, sizeof(got));
		if (strcmp(got, line) != 0)
			fail_msg("%s: event %d is \"%s\", expected \"%s\"", rel, i - 1, got, line);
	}
	if (extra) {
		assert_true(i < log->n);
		kev_format(&log->ev[i++], got, sizeof(got));
		assert_string_equal(got, extra);
	}
	assert_int_equal(log->n, i);
	free(txt);
}

/* The ksymbol captures: kevents-capture ksymbol's four rings, file names
 * prefixed with where they were taken (the capture host: none; the VM's
 * kernels: "vm-<series>-"). */
static const char *const ksym_sets[] = { "", "vm-6.1-", "vm-6.12-" };
#define N_KSYM_SETS (sizeof(ksym_sets) / sizeof(ksym_sets[0]))

static const char *ksym_file(const char *set, const char *name)
{
	static char path[4][200];
	static int next;
	char *p = path[next++ % 4];

	snprintf(p, sizeof(path[0]), "kevents/ksymbol/%s%s", set, name);
	return p;
}

/* Every .bin in ksymbol/ is one of the sets' four, so a capture added
 * without its set is not silently left untested. */
static void test_ksymbol_fixtures_all_listed(void **state)
{
	(void)state;
	assert_int_equal(count_bins("kevents/ksymbol"), 4 * N_KSYM_SETS);
}

/* The recorded stream at every 8-aligned place in rings of two sizes: each
 * record split across the end at every point, including inside its header
 * and right after it. A ring with no more room than a record might need
 * also reports a possible loss. */
static void records_every_offset(const char *set)
{
	static struct kev_log log;
	unsigned char *rec;
	size_t len;
	int r;

	rec = read_bin(ksym_file(set, "records.bin"), &len);
	for (uint64_t size = 1024; size <= 2048; size *= 2) {
		for (uint64_t off = 0; off < size; off += 8) {
			struct image im;
			uint64_t tail = 5 * size + off;

			image_init(&im, size, tail, tail + len);
			image_put(&im, tail, rec, len);
			log.n = 0;
			log.stop_at = 0;
			r = ks_perf_ring_drain(&im.ring, kev_collect, &log);
			assert_int_equal(r, log.n);
			expect_txt(&log, ksym_file(set, "records.txt"),
				   size - len <= KS_KSYM_RECORD_MAX ? "lost ring_full" : NULL);
			assert_int_equal(log.ev[0].cpu, 3);
			for (int i = 0; i < log.n; i++)
				assert_true(log.ev[i].time == 0);	/* untimed */
			assert_true(im.page.data_tail == tail + len);
			free(im.data);
		}
	}
	free(rec);
}

static void test_records_every_offset(void **state)
{
	(void)state;
	for (size_t i = 0; i < N_KSYM_SETS; i++)
		records_every_offset(ksym_sets[i]);
}

static void check_image(const char *bin, const char *txt, const char *extra, bool wraps)
{
	static struct kev_log log;
	struct image im;
	uint64_t head, off;
	int r;

	image_load(&im, bin);
	head = im.page.data_head;
	off = im.page.data_tail & (im.ring.size - 1);
	assert_int_equal(wraps, off + (head - im.page.data_tail) > im.ring.size);
	log.n = 0;
	log.stop_at = 0;
	assert_false(im.ring.timed);	/* captured without sample_id_all */
	r = ks_perf_ring_drain(&im.ring, kev_collect, &log);
	assert_int_equal(r, log.n);
	expect_txt(&log, txt, extra);
	for (int i = 0; i < log.n; i++)
		assert_true(log.ev[i].time == 0);
	assert_true(im.page.data_tail == head);
	/* Consumed: nothing the second time. */
	log.n = 0;
	assert_int_equal(ks_perf_ring_drain(&im.ring, kev_collect, &log), 0);
	free(im.data);
}

static void test_ring_fixtures(void **state)
{
	(void)state;
	for (size_t i = 0; i < N_KSYM_SETS; i++) {
		const char *set = ksym_sets[i];

		/* The unread part runs over the end, a record split across it. */
		check_image(ksym_file(set, "ring-wrap.bin"), ksym_file(set, "ring-wrap.txt"), NULL,
			    true);
		/* Records dropped, the kernel not having said so yet. */
		check_image(ksym_file(set, "ring-full.bin"), ksym_file(set, "ring-full.txt"), NULL,
			    false);
		/* The kernel's PERF_RECORD_LOST, then the next records, over the end. */
		check_image(ksym_file(set, "ring-lost.bin"), ksym_file(set, "ring-lost.txt"), NULL,
			    true);
	}
}

/* A drain stopped by its callback resumes after the last record it took. */
static void test_ring_callback_stops(void **state)
{
	static struct kev_log log;
	struct image im;
	unsigned char *rec;
	size_t len;
	uint64_t tail = 2000;

	(void)state;
	rec = read_bin("kevents/ksymbol/records.bin", &len);
	image_init(&im, 2048, tail, tail + len);
	image_put(&im, tail, rec, len);
	log.n = 0;
	log.stop_at = 3;
	assert_int_equal(ks_perf_ring_drain(&im.ring, kev_collect, &log), -ECANCELED);
	assert_int_equal(log.n, 3);
	assert_true(im.page.data_tail == tail + 3 * 56);	/* three 56-byte records */
	log.stop_at = 0;
	assert_int_equal(ks_perf_ring_drain(&im.ring, kev_collect, &log), 7);
	expect_txt(&log, "kevents/ksymbol/records.txt", NULL);
	free(im.data);
	free(rec);
}

/* A ksymbol record of 8 * k bytes at pos. */
static size_t put_ksym(struct image *im, uint64_t pos, uint16_t size, const char *name)
{
	unsigned char r[1024] = { 0 };
	struct perf_event_header h = { .type = PERF_RECORD_KSYMBOL, .size = size };
	uint64_t addr = 0xffffffffc0001000ull;
	uint32_t len = 64;
	uint16_t type = 1;

	memcpy(r, &h, sizeof(h));
	memcpy(r + 8, &addr, 8);
	memcpy(r + 16, &len, 4);
	memcpy(r + 20, &type, 2);
	memcpy(r + 24, name, strlen(name));	/* the NUL only if size leaves room */
	image_put(im, pos, r, size);
	return size;
}

static void drain_expect(struct image *im, int n, const char *const *lines)
{
	static struct kev_log log;
	char got[700];

	log.n = 0;
	log.stop_at = 0;
	assert_int_equal(ks_perf_ring_drain(&im->ring, kev_collect, &log), n);
	for (int i = 0; i < n; i++) {
		kev_format(&log.ev[i], got, sizeof(got));
		assert_string_equal(got, lines[i]);
	}
	assert_true(im->page.data_tail == im->page.data_head);
	free(im->data);
}

static void test_ring_corrupt(void **state)
{
	static const char *const good[] = { "ksym_add 0xffffffffc0001000 64 1 f" };
	static const char *const corrupt[] = { "lost ring_corrupt" };
	static const char *const bad_then_good[] = { "lost ring_corrupt",
						     "ksym_add 0xffffffffc0001000 64 1 f" };
	struct perf_event_header h = { .type = 1 /* PERF_RECORD_MMAP */, .size = 40 };
	struct image im;
	size_t n;

	(void)state;
	/* A header of size 0, 12 (not 8-aligned), or past data_head. */
	for (uint16_t size = 0; size <= 12; size += 12) {
		image_init(&im, 4096, 0, 64);
		h.size = size;
		image_put(&im, 0, &h, sizeof(h));
		drain_expect(&im, 1, corrupt);
	}
	image_init(&im, 4096, 0, 32);
	put_ksym(&im, 0, 40, "f");
	drain_expect(&im, 1, corrupt);
	/* data_tail not 8-aligned; more unread than the ring holds. */
	image_init(&im, 4096, 4, 36);
	drain_expect(&im, 1, corrupt);
	image_init(&im, 4096, 0, 4104);
	drain_expect(&im, 1, corrupt);
	/* A name without its NUL, or a record longer than any ksymbol one split
	 * across the end: reported, and the next record still read. */
	image_init(&im, 4096, 0, 0);
	n = put_ksym(&im, 0, 32, "12345678");
	n += put_ksym(&im, n, 32, "f");
	im.page.data_head = n;
	drain_expect(&im, 2, bad_then_good);
	image_init(&im, 4096, 4000, 0);
	n = put_ksym(&im, 4000, 1000, "f");
	n += put_ksym(&im, 4000 + n, 32, "f");
	im.page.data_head = 4000 + n;
	drain_expect(&im, 2, bad_then_good);
	/* Other record types are skipped. */
	image_init(&im, 4096, 0, 0);
	h.size = 40;
	image_put(&im, 0, &h, sizeof(h));
	n = 40 + put_ksym(&im, 40, 32, "f");
	im.page.data_head = n;
	drain_expect(&im, 1, good);
}

static void test_record_parse(void **state)
{
	unsigned char rec[48] = { 0 };
	struct perf_event_header h = { .type = PERF_RECORD_LOST, .size = 24 };
	uint64_t lost = 9;
	uint16_t flags = 1;	/* PERF_RECORD_KSYMBOL_FLAGS_UNREGISTER */
	struct ks_kevent ev;

	(void)state;
	memcpy(rec, &h, sizeof(h));
	memcpy(rec + 16, &lost, 8);
	assert_int_equal(ks_perf_record_parse(rec, 24, 2, false, &ev), 1);
	assert_int_equal(ev.kind, KS_KEVENT_LOST);
	assert_int_equal(ev.lost.why, KS_LOST_PERF_RECORD);
	assert_int_equal(ev.lost.count, 9);
	assert_int_equal(ev.cpu, 2);
	/* size != header */
	assert_int_equal(ks_perf_record_parse(rec, 16, 2, false, &ev), -EBADMSG);
	h.size = 16;
	memcpy(rec, &h, sizeof(h));
	/* too short */
	assert_int_equal(ks_perf_record_parse(rec, 16, 2, false, &ev), -EBADMSG);
	assert_int_equal(ks_perf_record_parse(rec, 4, 2, false, &ev), -EBADMSG);
	h = (struct perf_event_header){ .type = 17 /* KSYMBOL */, .size = 32 };
	memcpy(rec, &h, sizeof(h));
	memcpy(rec + 22, &flags, 2);
	memcpy(rec + 24, "x", 2);
	assert_int_equal(ks_perf_record_parse(rec, 32, 0, false, &ev), 1);
	assert_int_equal(ev.kind, KS_KEVENT_KSYM_REMOVE);
	assert_string_equal(ev.ksym.name, "x");
	h.size = 24;	/* no room for a name */
	memcpy(rec, &h, sizeof(h));
	assert_int_equal(ks_perf_record_parse(rec, 24, 0, false, &ev), -EBADMSG);
	h = (struct perf_event_header){ .type = 3 /* COMM */, .size = 32 };
	memcpy(rec, &h, sizeof(h));
	assert_int_equal(ks_perf_record_parse(rec, 32, 0, false, &ev), 0);
}

/* ---- timed records (sample_id_all, PERF_SAMPLE_TIME) --------------------- */

/*
 * A timed PERF_RECORD_KSYMBOL as the kernel writes it
 * (perf_event_ksymbol_output()): header, addr, len, type, flags, the name
 * with its NUL, NUL-padded to 8 bytes, then sample_id: { u64 time }. In a
 * buffer of exactly its size, so that ASan sees a read past it.
 */
static unsigned char *timed_ksym(const char *name, uint16_t flags, uint64_t time, size_t *size)
{
	size_t nlen = strlen(name), pad = (nlen + 1 + 7) / 8 * 8;
	struct perf_event_header h = { .type = PERF_RECORD_KSYMBOL };
	uint64_t addr = 0xffffffffc0002000ull;
	uint32_t len = 96;
	uint16_t type = 1;
	unsigned char *r;

	*size = 24 + pad + 8;
	h.size = (uint16_t)*size;
	r = calloc(1, *size);
	assert_non_null(r);
	memcpy(r, &h, sizeof(h));
	memcpy(r + 8, &addr, 8);
	memcpy(r + 16, &len, 4);
	memcpy(r + 20, &type, 2);
	memcpy(r + 22, &flags, 2);
	memcpy(r + 24, name, nlen);
	memcpy(r + 24 + pad, &time, 8);
	return r;
}

static void test_record_parse_timed(void **state)
{
	/* 1..25 bytes: every padding; 511 = KSYM_NAME_LEN - 1, the longest,
	 * its NUL the last byte before the trailer, as for every 8k - 1. */
	static const size_t lens[] = { 1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13,
				       14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 511 };
	/* Times with and without NUL bytes, in the trailer's every byte. */
	static const uint64_t times[] = { 0x1122334455667788ull, 1, 0x100, 0xff00000000000000ull,
					  123456789012345ull };
	char name[600];
	struct ks_kevent ev;
	unsigned char *r;
	size_t size;

	(void)state;
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		for (size_t t = 0; t < sizeof(times) / sizeof(times[0]); t++) {
			for (size_t j = 0; j < lens[i]; j++)
				name[j] = (char)('a' + (i + j) % 26);
			name[lens[i]] = '\0';
			r = timed_ksym(name, (uint16_t)(t & 1), times[t], &size);
			assert_int_equal(size % 8, 0);
			if (lens[i] % 8 == 7)	/* the NUL right before the trailer */
				assert_int_equal(r[size - 9], 0);
			assert_int_equal(ks_perf_record_parse(r, size, 1, true, &ev), 1);
			assert_int_equal(ev.kind,
					 t & 1 ? KS_KEVENT_KSYM_REMOVE : KS_KEVENT_KSYM_ADD);
			assert_int_equal(ev.cpu, 1);
			assert_true(ev.ksym.addr == 0xffffffffc0002000ull);
			assert_int_equal(ev.ksym.len, 96);
			assert_int_equal(ev.ksym.type, 1);
			assert_string_equal(ev.ksym.name, name);
			assert_true(ev.time == times[t]);
			/* Read as untimed: no time (the trailer is taken for padding). */
			assert_int_equal(ks_perf_record_parse(r, size, 1, false, &ev), 1);
			assert_string_equal(ev.ksym.name, name);
			assert_true(ev.time == 0);
			/* Cut short of the trailer (by a whole 8 bytes: sizes are
			 * 8k): what is left may not be taken for name and time. */
			if (lens[i] % 8 == 7) {
				struct perf_event_header h;

				memcpy(&h, r, sizeof(h));
				h.size = (uint16_t)(size - 8);
				memcpy(r, &h, sizeof(h));
				assert_int_equal(ks_perf_record_parse(r, size - 8, 1, true, &ev),
						 -EBADMSG);
			}
			free(r);
		}
	}

	/* A name filling its 8 bytes without a NUL: the NUL in the trailer's
	 * time (0x100: its first byte) does not end it. Untimed, the same
	 * bytes are a name padded to 16. */
	r = timed_ksym("12345678", 0, 0x100, &size);
	assert_int_equal(size, 24 + 16 + 8);
	memcpy(r + 32, "abcdefgh", 8);	/* the padding: no NUL left in the name area */
	assert_int_equal(ks_perf_record_parse(r, size, 0, true, &ev), -EBADMSG);
	free(r);
	r = timed_ksym("1234567", 0, 0x100, &size);	/* 24 + 8 + 8 */
	r[31] = 'x';	/* the padding NUL */
	assert_int_equal(ks_perf_record_parse(r, size, 0, true, &ev), -EBADMSG);
	assert_int_equal(ks_perf_record_parse(r, size, 0, false, &ev), 1);
	assert_string_equal(ev.ksym.name, "1234567x");
	free(r);

	/* Too short for a name and the trailer: 24 + 8 is a name and no time,
	 * or a time and no name. */
	{
		unsigned char rec[32] = { 0 };
		struct perf_event_header h = { .type = PERF_RECORD_KSYMBOL, .size = 32 };
		uint64_t lost = 7, time = 0xabcdef;

		memcpy(rec, &h, sizeof(h));
		memcpy(rec + 24, "x", 2);
		assert_int_equal(ks_perf_record_parse(rec, 32, 0, false, &ev), 1);
		assert_int_equal(ks_perf_record_parse(rec, 32, 0, true, &ev), -EBADMSG);
		h.size = 8;
		memcpy(rec, &h, sizeof(h));
		assert_int_equal(ks_perf_record_parse(rec, 8, 0, true, &ev), -EBADMSG);
		h.size = 16;
		memcpy(rec, &h, sizeof(h));
		assert_int_equal(ks_perf_record_parse(rec, 16, 0, true, &ev), -EBADMSG);

		/* PERF_RECORD_LOST: id, count, then the time. */
		h = (struct perf_event_header){ .type = PERF_RECORD_LOST, .size = 32 };
		memset(rec, 0, sizeof(rec));
		memcpy(rec, &h, sizeof(h));
		memcpy(rec + 16, &lost, 8);
		memcpy(rec + 24, &time, 8);
		assert_int_equal(ks_perf_record_parse(rec, 32, 5, true, &ev), 1);
		assert_int_equal(ev.kind, KS_KEVENT_LOST);
		assert_int_equal(ev.lost.why, KS_LOST_PERF_RECORD);
		assert_int_equal(ev.lost.count, 7);
		assert_true(ev.time == 0xabcdef);
		assert_int_equal(ev.cpu, 5);
		h.size = 24;	/* no trailer */
		memcpy(rec, &h, sizeof(h));
		assert_int_equal(ks_perf_record_parse(rec, 24, 5, true, &ev), -EBADMSG);
		assert_int_equal(ks_perf_record_parse(rec, 24, 5, false, &ev), 1);
		assert_true(ev.time == 0);
	}
}

/* The time of the i-th record of the timed stream. */
static uint64_t stream_time(int i)
{
	return 1000000007ull * (uint64_t)(i + 1) + 0x100;	/* a NUL byte in each */
}

/*
 * The captured records made timed (each with a trailer, its size 8 more),
 * behind a timed PERF_RECORD_LOST and followed by a record of the longest
 * name, 511 bytes: 544 bytes, KS_KSYM_RECORD_MAX, which must fit the bounce
 * buffer when it wraps. Writes the expected lines to lines.
 */
static unsigned char *timed_stream(size_t *len, char lines[][700], int *n)
{
	unsigned char *rec, *out, *big;
	size_t rlen, blen, o = 0, at = 0;
	char name[512], *txt, *line, *save;
	struct perf_event_header h;
	uint64_t t, lost = 7;
	int i = 0;

	rec = read_bin("kevents/ksymbol/records.bin", &rlen);
	memset(name, 'z', 511);
	name[511] = '\0';
	big = timed_ksym(name, 1, 0, &blen);
	assert_int_equal(blen, KS_KSYM_RECORD_MAX);
	out = malloc(32 + rlen + 10 * 8 + blen);
	assert_non_null(out);

	h = (struct perf_event_header){ .type = PERF_RECORD_LOST, .size = 32 };
	t = stream_time(i++);
	memset(out, 0, 32);
	memcpy(out, &h, sizeof(h));
	memcpy(out + 16, &lost, 8);
	memcpy(out + 24, &t, 8);
	o = 32;
	while (at < rlen) {
		memcpy(&h, rec + at, sizeof(h));
		memcpy(out + o, rec + at, h.size);
		h.size = (uint16_t)(h.size + 8);
		memcpy(out + o, &h, sizeof(h));
		t = stream_time(i++);
		memcpy(out + o + h.size - 8, &t, 8);
		at += h.size - 8u;
		o += h.size;
	}
	assert_int_equal(i, 11);
	t = stream_time(i++);
	memcpy(big + blen - 8, &t, 8);
	memcpy(out + o, big, blen);
	o += blen;

	*n = 0;
	snprintf(lines[(*n)++], 700, "lost perf 7");
	txt = (char *)read_bin("kevents/ksymbol/records.txt", &rlen);
	txt[rlen] = '\0';
	for (line = strtok_r(txt, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		snprintf(lines[(*n)++], 700, "%s", line);
	snprintf(lines[(*n)++], 700, "ksym_remove 0xffffffffc0002000 96 1 %s", name);
	assert_int_equal(*n, i);
	free(txt);
	free(big);
	free(rec);
	*len = o;
	return out;
}

/* The timed stream at every 8-aligned place in rings of two sizes, each
 * record split across the end at every point: names and times right. */
static void test_timed_every_offset(void **state)
{
	static struct kev_log log;
	static char lines[16][700];
	unsigned char *rec;
	char got[700];
	size_t len;
	int n;

	(void)state;
	rec = timed_stream(&len, lines, &n);
	for (uint64_t size = 2048; size <= 4096; size *= 2) {
		for (uint64_t off = 0; off < size; off += 8) {
			struct image im;
			uint64_t tail = 3 * size + off;

			image_init(&im, size, tail, tail + len);
			im.ring.timed = true;
			image_put(&im, tail, rec, len);
			log.n = 0;
			log.stop_at = 0;
			assert_int_equal(ks_perf_ring_drain(&im.ring, kev_collect, &log), n);
			for (int i = 0; i < n; i++) {
				kev_format(&log.ev[i], got, sizeof(got));
				if (strcmp(got, lines[i]) != 0)
					fail_msg("size %" PRIu64 " offset %" PRIu64
						 ": event %d is \"%s\", expected \"%s\"",
						 size, off, i, got, lines[i]);
				assert_true(log.ev[i].time == stream_time(i));
				assert_int_equal(log.ev[i].cpu, 3);
			}
			assert_true(im.page.data_tail == tail + len);
			free(im.data);
		}
	}
	free(rec);
}

/* A timed ring's largest record is 8 bytes longer: with 544 bytes free it
 * may have dropped one, an untimed ring not. */
static void test_timed_ring_full(void **state)
{
	static const char *const full[] = { "lost ring_full" };
	struct perf_event_header h = { .type = 1 /* PERF_RECORD_MMAP */ };

	(void)state;
	for (int timed = 0; timed <= 1; timed++) {
		for (uint16_t free_ = 536; free_ <= 552; free_ += 8) {
			struct image im;
			bool expect = free_ <= (timed ? 544 : 536);

			image_init(&im, 2048, 0, 2048u - free_);
			im.ring.timed = timed;
			h.size = (uint16_t)(2048u - free_);
			image_put(&im, 0, &h, sizeof(h));
			drain_expect(&im, expect ? 1 : 0, full);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_uevent_fixtures),
		cmocka_unit_test(test_uevent_malformed_never_crash),
		cmocka_unit_test(test_uevent_filter),
		cmocka_unit_test(test_ksymbol_fixtures_all_listed),
		cmocka_unit_test(test_records_every_offset),
		cmocka_unit_test(test_ring_fixtures),
		cmocka_unit_test(test_ring_callback_stops),
		cmocka_unit_test(test_ring_corrupt),
		cmocka_unit_test(test_record_parse),
		cmocka_unit_test(test_record_parse_timed),
		cmocka_unit_test(test_timed_every_offset),
		cmocka_unit_test(test_timed_ring_full),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
