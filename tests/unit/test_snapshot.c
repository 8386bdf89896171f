/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Snapshots end to end on fixture trees: the sealed memfd, the image read
 * back symbol by symbol against the kallsyms text, refusal of zeroed
 * addresses, and the retry when the module set moves mid-snapshot.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <gelf.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/fanotify.h>
#include <sys/mman.h>

#include "engine/kallsyms.h"
#include "engine/model.h"
#include "engine/snapshot.h"
#include "engine/text.h"
#include "testutil.h"

/* How the last take() came out. */
static struct ks_snapshot_report report;

static struct ks_snapshot *take(const char *path, struct ks_error *err, int *r)
{
	struct ks_root root;
	struct ks_snapshot_opts opts = { .root = &root };
	struct ks_snapshot *s = NULL;

	open_root(&root, path);
	*r = ks_snapshot_take_report(&opts, &s, &report, err);
	ks_root_close(&root);
	return s;
}

static void test_sealed_memfd(void **state)
{
	struct ks_error err = { 0 };
	struct ks_snapshot *s;
	const unsigned char *d;
	struct stat st;
	int r, fd, seals;
	void *w;

	(void)state;
	s = take(fixture("mini"), &err, &r);
	if (r < 0)
		fail_msg("%s", err.msg);
	fd = ks_snapshot_fd(s);
	seals = fcntl(fd, F_GET_SEALS);
	assert_int_equal(seals & (F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL),
			 F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL);
	assert_int_equal(fstat(fd, &st), 0);
	assert_int_equal((size_t)st.st_size, ks_snapshot_size(s));
	d = ks_snapshot_data(s);
	assert_memory_equal(d, ELFMAG, SELFMAG);
	assert_int_equal(ks_snapshot_n_syms(s), 33);
	/* Nobody can change it: not by write, truncate, or a writable map. */
	assert_int_equal(pwrite(fd, "x", 1, 0), -1);
	assert_int_equal(errno, EPERM);
	assert_int_equal(ftruncate(fd, 1), -1);
	w = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	assert_true(w == MAP_FAILED);
	/* A second reference keeps it alive past the first unref. */
	ks_snapshot_ref(s);
	ks_snapshot_unref(s);
	assert_memory_equal(ks_snapshot_data(s), ELFMAG, SELFMAG);
	ks_snapshot_unref(s);
}

static void test_deterministic(void **state)
{
	struct ks_snapshot *a, *b;
	int r;

	(void)state;
	a = take(fixture("debian-6.1/state-a"), NULL, &r);
	assert_int_equal(r, 0);
	/* Captured at rest: every module Live, no init symbols left. */
	assert_true(report.settled);
	b = take(fixture("debian-6.1/state-a"), NULL, &r);
	assert_int_equal(r, 0);
	assert_int_equal(ks_snapshot_size(a), ks_snapshot_size(b));
	assert_memory_equal(ks_snapshot_data(a), ks_snapshot_data(b), ks_snapshot_size(a));
	ks_snapshot_unref(a);
	ks_snapshot_unref(b);
}

/* "owner name addr bind type" per symbol, for comparing as sorted lists. */
static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static char **expected_lines(const struct ks_kallsyms *ks, size_t *n)
{
	char **v = calloc(ks->n_syms, sizeof(*v));

	assert_non_null(v);
	for (size_t i = 0; i < ks->n_syms; i++) {
		uint8_t bind, type;

		assert_int_equal(ks_letter_to_elf(ks->syms[i].type, &bind, &type), 0);
		assert_true(asprintf(&v[i], "%.*s %.*s %llx %u %u",
				     ks->syms[i].module ? ks->syms[i].module_len : 7,
				     ks->syms[i].module ? ks->syms[i].module : "vmlinux",
				     ks->syms[i].name_len, ks->syms[i].name,
				     (unsigned long long)ks->syms[i].addr, bind, type) > 0);
	}
	qsort(v, ks->n_syms, sizeof(*v), cmp_str);
	*n = ks->n_syms;
	return v;
}

/*
 * Read the image back with libelf. A symbol's owner comes from the ELF
 * alone: the STT_FILE ahead of a local, or the section's "owner:" prefix.
 */
static char **image_lines(const void *data, size_t size, size_t *n, size_t *n_files)
{
	Elf *e = elf_memory((char *)data, size);
	Elf_Scn *scn = NULL, *symscn = NULL;
	GElf_Shdr sh, symsh = { 0 };
	Elf_Data *d;
	char **v, owner[256] = "vmlinux";
	size_t count, shstrndx, out = 0;

	assert_non_null(e);
	assert_int_equal(elf_getshdrstrndx(e, &shstrndx), 0);
	while ((scn = elf_nextscn(e, scn)))
		if (gelf_getshdr(scn, &sh) && sh.sh_type == SHT_SYMTAB) {
			symscn = scn;
			symsh = sh;
		}
	assert_non_null(symscn);
	d = elf_getdata(symscn, NULL);
	count = symsh.sh_size / symsh.sh_entsize;
	v = calloc(count, sizeof(*v));
	*n_files = 0;
	for (size_t i = 1; i < count; i++) {
		GElf_Sym s;
		const char *name, *own = owner;
		char secowner[256];

		gelf_getsym(d, (int)i, &s);
		name = elf_strptr(e, symsh.sh_link, s.st_name);
		assert_non_null(name);
		if (GELF_ST_TYPE(s.st_info) == STT_FILE) {
			snprintf(owner, sizeof(owner), "%s", name);
			(*n_files)++;
			continue;
		}
		/* Locals must all come before sh_info, globals after. */
		assert_int_equal(GELF_ST_BIND(s.st_info) == STB_LOCAL, i < symsh.sh_info);
		if (GELF_ST_BIND(s.st_info) != STB_LOCAL && s.st_shndx != SHN_ABS) {
			GElf_Shdr ssh;
			const char *sname, *colon;

			gelf_getshdr(elf_getscn(e, s.st_shndx), &ssh);
			sname = elf_strptr(e, shstrndx, ssh.sh_name);
			colon = strchr(sname, ':');
			snprintf(secowner, sizeof(secowner), "%.*s",
				 colon ? (int)(colon - sname) : 7, colon ? sname : "vmlinux");
			own = secowner;
		} else if (GELF_ST_BIND(s.st_info) != STB_LOCAL) {
			own = "?";
		}
		assert_true(asprintf(&v[out++], "%s %s %llx %u %u", own, name,
				     (unsigned long long)s.st_value, GELF_ST_BIND(s.st_info),
				     GELF_ST_TYPE(s.st_info)) > 0);
	}
	elf_end(e);
	qsort(v, out, sizeof(*v), cmp_str);
	*n = out;
	return v;
}

static void free_lines(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* An ABS global's owner is not in the ELF ("?"): match it on the rest. */
static int line_matches(const char *want, const char *got)
{
	if (got[0] == '?' && got[1] == ' ')
		return strcmp(strchr(want, ' '), got + 1) == 0;
	return strcmp(want, got) == 0;
}

static void check_root_roundtrip(const char *path, size_t n_owners)
{
	struct ks_root root;
	struct ks_text text;
	struct ks_kallsyms ks;
	struct ks_snapshot *s;
	char **want, **got;
	size_t nw, ng, nfiles, unmatched = 0;
	int r;

	open_root(&root, path);
	assert_int_equal(ks_text_read(&root, "proc/kallsyms", &text, NULL), 0);
	ks_root_close(&root);
	assert_int_equal(ks_kallsyms_parse(&ks, text.data, text.len, NULL), 0);
	s = take(path, NULL, &r);
	assert_int_equal(r, 0);
	want = expected_lines(&ks, &nw);
	got = image_lines(ks_snapshot_data(s), ks_snapshot_size(s), &ng, &nfiles);
	assert_int_equal(ng, nw);
	assert_int_equal(nfiles, n_owners);
	/* "?" lines sort first: match them against leftovers afterwards. */
	{
		size_t q = 0, i = 0, j;

		while (q < ng && got[q][0] == '?')
			q++;
		j = q;
		for (i = 0; i < nw && j < ng; i++) {
			if (strcmp(want[i], got[j]) == 0) {
				free(want[i]);
				want[i] = NULL;
				j++;
			}
		}
		assert_int_equal(j, ng);
		for (size_t k = 0; k < q; k++) {
			for (i = 0; i < nw; i++) {
				if (want[i] && line_matches(want[i], got[k])) {
					free(want[i]);
					want[i] = NULL;
					break;
				}
			}
			if (i == nw)
				fail_msg("image symbol not in kallsyms: %s", got[k]);
		}
		for (i = 0; i < nw; i++)
			if (want[i] && unmatched++ < 5)
				print_message("missing from image: %s\n", want[i]);
		assert_int_equal(unmatched, 0);
	}
	free_lines(want, nw);
	free_lines(got, ng);
	ks_snapshot_unref(s);
	ks_kallsyms_release(&ks);
	ks_text_release(&text);
}

static void test_roundtrip_mini(void **state)
{
	(void)state;
	check_root_roundtrip(fixture("mini"), 6);
}

static void test_roundtrip_debian(void **state)
{
	(void)state;
	check_root_roundtrip(fixture("debian-6.1/state-a"), 25);
}

static void test_roundtrip_debian_b(void **state)
{
	(void)state;
	check_root_roundtrip(fixture("debian-6.1/state-b"), 24);
}

/* 6.12: a module's rodata and data outside [base, base+size) of
 * proc/modules, and every module symbol still in a section of its own
 * module (image_lines takes a local's owner from its STT_FILE and a
 * global's from its section's name). */
static void test_roundtrip_debian_612(void **state)
{
	struct ks_snapshot *snap;
	size_t shnum, in_module = 0, abs = 0;
	Elf_Scn *scn = NULL;
	const char *owner = "vmlinux";
	GElf_Shdr sh;
	Elf_Data *d;
	Elf *e;
	int r;

	(void)state;
	check_root_roundtrip(fixture("debian-6.12/state-a"), 17);

	/* No module symbol at a module address is left without a section:
	 * crc_itu_t_table, crc16_table and dummy_netdev_ops were. Locals
	 * follow their module's STT_FILE; a global in no section has no owner
	 * in the ELF at all, so any non-kernel-text global counts. */
	snap = take(fixture("debian-6.12/state-a"), NULL, &r);
	assert_int_equal(r, 0);
	e = elf_memory((char *)ks_snapshot_data(snap), ks_snapshot_size(snap));
	assert_non_null(e);
	assert_int_equal(elf_getshdrnum(e, &shnum), 0);
	while ((scn = elf_nextscn(e, scn)))
		if (gelf_getshdr(scn, &sh) && sh.sh_type == SHT_SYMTAB)
			break;
	assert_non_null(scn);
	d = elf_getdata(scn, NULL);
	for (size_t i = 1; i < sh.sh_size / sh.sh_entsize; i++) {
		GElf_Sym sym;

		assert_non_null(gelf_getsym(d, (int)i, &sym));
		if (GELF_ST_TYPE(sym.st_info) == STT_FILE) {
			owner = elf_strptr(e, sh.sh_link, sym.st_name);
			continue;
		}
		/* Module memory; the kernel's own lies below it. */
		if (sym.st_value < 0xffffffffc0000000ull)
			continue;
		if (GELF_ST_BIND(sym.st_info) == STB_LOCAL && owner[0] == '[')
			continue;	/* [bpf] and the like */
		in_module++;
		/* Each module's two _note_<n> too (18 and 19 here), in
		 * its .note.Linux, which holds the notes' bytes. */
		if (sym.st_shndx == SHN_ABS)
			abs++;
	}
	assert_true(in_module > 5000);
	assert_int_equal(abs, 0);
	elf_end(e);
	ks_snapshot_unref(snap);
}

static void test_roundtrip_host(void **state)
{
	(void)state;
	check_root_roundtrip(fixture("host-6.18/state-a"), 2);
}

/* All-zero addresses: refuse, and say why and what to do. */
static void test_zero_addresses_refused(void **state)
{
	static const char *const roots[] = { "debian-6.1/state-c-unprivileged",
					     "debian-6.1/extra-root-kptr_restrict2" };

	(void)state;
	for (size_t i = 0; i < 2; i++) {
		struct ks_error err = { 0 };
		struct ks_snapshot *s;
		int r;

		s = take(fixture(roots[i]), &err, &r);
		assert_int_equal(r, -EPERM);
		assert_null(s);
		assert_non_null(strstr(err.msg, "every address as 0"));
		assert_non_null(strstr(err.msg, "kptr_restrict"));
		assert_non_null(strstr(err.msg, "CAP_SYSLOG"));
	}
}

static void test_bad_kallsyms_line(void **state)
{
	char *dir = make_tmpdir(), path[4200];
	struct ks_error err = { 0 };
	int r;

	(void)state;
	snprintf(path, sizeof(path), "%s/proc/kallsyms", dir);
	assert_int_equal(write_file(path, "ffffffff81000000 T _stext\nffffffff81000010 T\n"), 0);
	assert_null(take(dir, &err, &r));
	assert_int_equal(r, -EINVAL);
	assert_non_null(strstr(err.msg, "proc/kallsyms: line 2"));
	rm_rf(dir);
	free(dir);
}

/* A module on its way out, its sections already gone: left out whole,
 * with its kallsyms lines, and the rest is a snapshot. */
static void test_vanishing_module_left_out(void **state)
{
	char *dir = make_tmpdir(), path[4200];
	struct ks_error err = { 0 };
	struct ks_snapshot *s;
	int fds = count_fds(), r;

	(void)state;
	snprintf(path, sizeof(path), "%s/proc/kallsyms", dir);
	assert_int_equal(write_file(path, "ffffffff81000000 T _stext\n"
					  "ffffffffc0000000 t f\t[ghost]\n"
					  "ffffffffc0100000 t bpf_prog_1\t[bpf]\n"), 0);
	snprintf(path, sizeof(path), "%s/proc/modules", dir);
	assert_int_equal(write_file(path, "ghost 4096 0 - Unloading 0xffffffffc0000000\n"), 0);
	s = take(dir, &err, &r);
	if (r < 0)
		fail_msg("%s", err.msg);
	/* _stext and the BPF program: a pseudo-module, kept. */
	assert_int_equal(ks_snapshot_n_syms(s), 2);
	/* Right for that moment, but the module is still going. */
	assert_false(report.settled);
	ks_snapshot_unref(s);
	assert_int_equal(count_fds(), fds);
	rm_rf(dir);
	free(dir);
}

/* A module reloaded at the same address between the reads: its kallsyms
 * lines and sections disagree (a symbol of it in its range but in none of
 * its sections). It is left out whole; its neighbour stays. */
static void test_torn_module_left_out(void **state)
{
	char *dir = make_tmpdir(), path[4200];
	struct ks_error err = { 0 };
	struct ks_snapshot *s;
	int r;

	(void)state;
	snprintf(path, sizeof(path), "%s/proc/kallsyms", dir);
	assert_int_equal(write_file(path, "ffffffff81000000 T _stext\n"
					  "ffffffffc0002000 t ok_fn\t[torn]\n"
					  "ffffffffc0001000 t stale_fn\t[torn]\n"
					  "ffffffffc0010000 t fine_fn\t[fine]\n"
					  "0000000000000010 d pcpu_var\t[fine]\n"
					  "ffffffffc0020800 t old_init\t[torn2]\n"
					  "ffffffffc0030000 t new_fn\t[torn2]\n"), 0);
	snprintf(path, sizeof(path), "%s/proc/modules", dir);
	/* torn2's old init text lies below its new base (another load's
	 * layout), among the other modules. */
	assert_int_equal(write_file(path, "torn2 16384 0 - Live 0xffffffffc0030000\n"
					  "fine 16384 0 - Live 0xffffffffc0010000\n"
					  "torn 16384 0 - Live 0xffffffffc0000000\n"), 0);
	snprintf(path, sizeof(path), "%s/sys/module/torn2/sections/.text", dir);
	assert_int_equal(write_file(path, "0xffffffffc0030000\n"), 0);
	snprintf(path, sizeof(path), "%s/sys/module/torn/sections/.text", dir);
	assert_int_equal(write_file(path, "0xffffffffc0002000\n"), 0);
	snprintf(path, sizeof(path), "%s/sys/module/fine/sections/.text", dir);
	assert_int_equal(write_file(path, "0xffffffffc0010000\n"), 0);
	s = take(dir, &err, &r);
	if (r < 0)
		fail_msg("%s", err.msg);
	/* _stext, and fine's two (its per-CPU variable is no sign of tearing). */
	assert_int_equal(ks_snapshot_n_syms(s), 3);
	assert_false(report.settled);
	ks_snapshot_unref(s);
	rm_rf(dir);
	free(dir);
}

/* A live module without a sections directory (on a running kernel, one
 * being loaded again at its old address) has its symbols in no section of
 * it: it is left out, and the rest is a snapshot, not a retry storm. */
static void test_module_without_sections(void **state)
{
	char *dir = make_tmpdir(), path[4200];
	struct ks_error err = { 0 };
	struct ks_snapshot *s;
	int r;

	(void)state;
	snprintf(path, sizeof(path), "%s/proc/kallsyms", dir);
	assert_int_equal(write_file(path, "ffffffff81000000 T _stext\n"
					  "ffffffffc0000000 t f\t[nosec]\n"), 0);
	snprintf(path, sizeof(path), "%s/proc/modules", dir);
	assert_int_equal(write_file(path, "nosec 4096 0 - Live 0xffffffffc0000000\n"), 0);
	snprintf(path, sizeof(path), "%s/sys/module/nosec", dir);
	assert_int_equal(mkdir_p(path), 0);
	s = take(dir, &err, &r);
	if (r < 0)
		fail_msg("%s", err.msg);
	assert_int_equal(ks_snapshot_n_syms(s), 1);
	assert_false(report.settled);
	ks_snapshot_unref(s);
	rm_rf(dir);
	free(dir);
}

/*
 * A module just initialised: Live, its "add" uevent sent, but kallsyms still
 * lists its init symbols (the kernel switches to the core symbols a moment
 * later, announcing nothing). The snapshot has them, and says it was not
 * taken at rest; once they are gone it is.
 */
static void test_init_symbols_not_settled(void **state)
{
	char *dir = make_tmpdir(), path[4200];
	struct ks_error err = { 0 };
	struct ks_snapshot *s;
	int r;

	(void)state;
	snprintf(path, sizeof(path), "%s/proc/modules", dir);
	assert_int_equal(write_file(path, "fresh 8192 0 - Live 0xffffffffc0000000\n"), 0);
	snprintf(path, sizeof(path), "%s/sys/module/fresh/sections/.text", dir);
	assert_int_equal(write_file(path, "0xffffffffc0000000\n"), 0);
	snprintf(path, sizeof(path), "%s/sys/module/fresh/sections/.init.text", dir);
	assert_int_equal(write_file(path, "0xffffffffc0100000\n"), 0);
	snprintf(path, sizeof(path), "%s/proc/kallsyms", dir);
	assert_int_equal(write_file(path, "ffffffff81000000 T _stext\n"
					  "ffffffffc0000000 t fresh_fn\t[fresh]\n"
					  "ffffffffc0100000 t fresh_init\t[fresh]\n"), 0);
	s = take(dir, &err, &r);
	if (r < 0)
		fail_msg("%s", err.msg);
	assert_int_equal(ks_snapshot_n_syms(s), 3);
	assert_false(report.settled);
	ks_snapshot_unref(s);

	assert_int_equal(write_file(path, "ffffffff81000000 T _stext\n"
					  "ffffffffc0000000 t fresh_fn\t[fresh]\n"), 0);
	s = take(dir, &err, &r);
	if (r < 0)
		fail_msg("%s", err.msg);
	assert_int_equal(ks_snapshot_n_syms(s), 2);
	assert_true(report.settled);
	ks_snapshot_unref(s);
	rm_rf(dir);
	free(dir);
}

/*
 * proc/modules changes under the snapshot: a fanotify listener holds every
 * open of the file (FAN_OPEN_PERM) until it has written the next text into
 * it through the event's own descriptor (which makes no events), so each
 * read of the file sees the next text, deterministically. Needs
 * CAP_SYS_ADMIN.
 */
struct mover {
	const char *const *contents;
	size_t n_contents, served;
	bool alternate;
	int fan;
	atomic_int stop;
};

static void serve_one(struct mover *m, int fd)
{
	/* Past the list: its last text, or its last two in turn. */
	size_t k = m->served < m->n_contents ? m->served
		 : m->alternate ? m->n_contents - 2 + (m->served - m->n_contents) % 2
				: m->n_contents - 1;
	const char *text = m->contents[k];

	if (ftruncate(fd, 0) < 0 || pwrite(fd, text, strlen(text), 0) < 0)
		abort();
	m->served++;
}

static void *serve_modules(void *arg)
{
	struct mover *m = arg;
	char buf[4096] __attribute__((aligned(8)));

	while (!atomic_load(&m->stop)) {
		struct pollfd pfd = { .fd = m->fan, .events = POLLIN };
		const struct fanotify_event_metadata *ev;
		ssize_t n;

		if (poll(&pfd, 1, 50) <= 0)
			continue;
		n = read(m->fan, buf, sizeof(buf));
		for (ev = (void *)buf; FAN_EVENT_OK(ev, n); ev = FAN_EVENT_NEXT(ev, n)) {
			struct fanotify_response allow = { .fd = ev->fd, .response = FAN_ALLOW };

			if (ev->mask & FAN_OPEN_PERM) {
				serve_one(m, ev->fd);
				(void)!write(m->fan, &allow, sizeof(allow));
			}
			close(ev->fd);
		}
	}
	return NULL;
}

/* The snapshot's symbol count; served: how many reads of proc/modules. */
static size_t run_mover(const char *const *contents, size_t n, bool alternate, size_t *served)
{
	char *dir = make_tmpdir(), path[4200];
	struct ks_root root;
	struct ks_snapshot_opts opts = { .root = &root };
	struct ks_snapshot *s = NULL;
	struct ks_error err = { 0 };
	struct mover m = { .contents = contents, .n_contents = n, .alternate = alternate };
	size_t n_syms;
	pthread_t t;
	int r;

	m.fan = fanotify_init(FAN_CLASS_CONTENT | FAN_CLOEXEC, O_RDWR | O_LARGEFILE);
	if (m.fan < 0) {
		rm_rf(dir);
		free(dir);
		skip();	/* no CAP_SYS_ADMIN, or no fanotify permission events */
		return 0;
	}
	open_root(&root, dir);
	snprintf(path, sizeof(path), "%s/proc/kallsyms", dir);
	assert_int_equal(write_file(path, "ffffffff81000000 T _stext\n"
					  "ffffffffc0000000 t f\t[moda]\n"
					  "ffffffffc0010000 t g\t[modb]\n"), 0);
	snprintf(path, sizeof(path), "%s/sys/module/moda/sections/.text", dir);
	assert_int_equal(write_file(path, "0xffffffffc0000000\n"), 0);
	snprintf(path, sizeof(path), "%s/sys/module/modb/sections/.text", dir);
	assert_int_equal(write_file(path, "0xffffffffc0010000\n"), 0);
	snprintf(path, sizeof(path), "%s/proc/modules", dir);
	assert_int_equal(write_file(path, "%s", ""), 0);
	assert_int_equal(fanotify_mark(m.fan, FAN_MARK_ADD, FAN_OPEN_PERM, AT_FDCWD, path), 0);
	assert_int_equal(pthread_create(&t, NULL, serve_modules, &m), 0);
	r = ks_snapshot_take_report(&opts, &s, &report, &err);
	atomic_store(&m.stop, 1);
	pthread_join(t, NULL);
	close(m.fan);
	if (r < 0)
		fail_msg("%s", err.msg);
	n_syms = ks_snapshot_n_syms(s);
	/* A module came or went: right for the moment, not at rest. */
	assert_false(report.settled);
	ks_snapshot_unref(s);
	*served = m.served;
	ks_root_close(&root);
	rm_rf(dir);
	free(dir);
	return n_syms;
}

/*
 * A module that loads while the snapshot reads (proc/modules lists A, then
 * A and B, then A and B) is left out, its kallsyms line too; the module
 * that held still is in: one read of the kernel, no retry.
 */
static void test_module_load_mid_snapshot(void **state)
{
	static const char *const contents[] = {
		"moda 4096 0 - Live 0xffffffffc0000000\n",
		"modb 4096 0 - Live 0xffffffffc0010000\nmoda 4096 0 - Live 0xffffffffc0000000\n",
	};
	size_t served;

	(void)state;
	/* _stext and moda's f; modb's g is left out with modb. */
	assert_int_equal(run_mover(contents, 2, false, &served), 2);
	assert_int_equal(served, 3);
}

/* Under steady churn (A, A and B, A, ...) a snapshot is still one read. */
static void test_module_set_never_settles(void **state)
{
	static const char *const contents[] = {
		"moda 4096 0 - Live 0xffffffffc0000000\n",
		"modb 4096 0 - Live 0xffffffffc0010000\nmoda 4096 0 - Live 0xffffffffc0000000\n",
	};
	size_t served;

	(void)state;
	/* Before: A; sections: A and B; after: A. */
	assert_int_equal(run_mover(contents, 2, true, &served), 2);
	assert_int_equal(served, 3);
}

/* Same inputs share the sealed image; any change builds a new one. */
static void test_cache(void **state)
{
	char *dir = make_tmpdir(), path[4200], cmd[8600];
	struct ks_snapshot_cache *c = ks_snapshot_cache_new();
	struct ks_root root;
	struct ks_snapshot_opts opts = { .root = &root, .cache = c };
	struct ks_snapshot *a, *b, *d, *e;
	unsigned long hits, misses;

	(void)state;
	assert_non_null(c);
	snprintf(cmd, sizeof(cmd), "cp -r '%s'/. '%s'", fixture("mini"), dir);
	assert_int_equal(system(cmd), 0);
	open_root(&root, dir);
	assert_int_equal(ks_snapshot_take(&opts, &a, NULL), 0);
	assert_int_equal(ks_snapshot_take(&opts, &b, NULL), 0);
	assert_ptr_equal(a, b);
	ks_snapshot_cache_stats(c, &hits, &misses);
	assert_int_equal(hits, 1);
	assert_int_equal(misses, 1);

	/* One more kallsyms line: a new image with one more symbol. */
	snprintf(path, sizeof(path), "%s/proc/kallsyms", dir);
	{
		FILE *f = fopen(path, "a");

		assert_non_null(f);
		fputs("ffffffffd0000100 t another\t[__builtin__ftrace]\n", f);
		fclose(f);
	}
	assert_int_equal(ks_snapshot_take(&opts, &d, NULL), 0);
	assert_ptr_not_equal(d, a);
	assert_int_equal(ks_snapshot_n_syms(d), ks_snapshot_n_syms(a) + 1);

	/* A module section moved (same set, same kallsyms): new image too. */
	snprintf(path, sizeof(path), "%s/sys/module/moda/sections/.data", dir);
	assert_int_equal(write_file(path, "0xffffffffc0001800\n"), 0);
	assert_int_equal(ks_snapshot_take(&opts, &e, NULL), 0);
	assert_ptr_not_equal(e, d);
	ks_snapshot_cache_stats(c, &hits, &misses);
	assert_int_equal(hits, 1);
	assert_int_equal(misses, 3);

	/* The old images are intact for whoever still holds them. */
	assert_memory_equal(ks_snapshot_data(a), ELFMAG, SELFMAG);
	ks_snapshot_unref(a);
	ks_snapshot_unref(b);
	ks_snapshot_unref(d);
	ks_snapshot_unref(e);
	ks_snapshot_cache_free(c);
	ks_root_close(&root);
	rm_rf(dir);
	free(dir);
}

/* Write a GNU build-id note whose desc is 4 bytes of id to path. */
static void put_build_id(const char *path, uint32_t id)
{
	uint32_t note[5] = { 4, 4, 3, 0, id };
	FILE *f;

	memcpy(&note[3], "GNU", 4);
	assert_int_equal(write_file(path, "%s", ""), 0);
	assert_non_null(f = fopen(path, "wb"));
	assert_int_equal(fwrite(note, 1, sizeof(note), f), sizeof(note));
	fclose(f);
}

static bool has_id(const struct ks_snapshot *s, uint32_t id)
{
	return memmem(ks_snapshot_data(s), ks_snapshot_size(s), &id, sizeof(id)) != NULL;
}

/*
 * Notes are inputs: the cached image (written through the editable image)
 * has them as a plain take does, and a change to the kernel's or a
 * module's notes alone is a new image.
 */
static void test_cache_notes(void **state)
{
	char *dir = make_tmpdir(), kpath[4200], mpath[4200], cmd[8600];
	struct ks_snapshot_cache *c = ks_snapshot_cache_new();
	struct ks_root root;
	struct ks_snapshot_opts opts = { .root = &root, .cache = c };
	struct ks_snapshot *a, *plain, *b, *d;
	unsigned long hits, misses;
	int r;

	(void)state;
	assert_non_null(c);
	snprintf(cmd, sizeof(cmd), "cp -r '%s'/. '%s'", fixture("mini"), dir);
	assert_int_equal(system(cmd), 0);
	snprintf(kpath, sizeof(kpath), "%s/sys/kernel/notes", dir);
	snprintf(mpath, sizeof(mpath), "%s/sys/module/moda/notes/.note.gnu.build-id", dir);
	put_build_id(kpath, 0x11223344);
	put_build_id(mpath, 0x55667788);
	open_root(&root, dir);
	assert_int_equal(ks_snapshot_take(&opts, &a, NULL), 0);
	plain = take(dir, NULL, &r);
	assert_int_equal(r, 0);
	assert_int_equal(ks_snapshot_size(a), ks_snapshot_size(plain));
	assert_memory_equal(ks_snapshot_data(a), ks_snapshot_data(plain), ks_snapshot_size(a));
	assert_true(has_id(a, 0x11223344) && has_id(a, 0x55667788));

	put_build_id(kpath, 0x99aabbcc);
	assert_int_equal(ks_snapshot_take(&opts, &b, NULL), 0);
	assert_ptr_not_equal(b, a);
	assert_true(has_id(b, 0x99aabbcc) && !has_id(b, 0x11223344));
	put_build_id(mpath, 0xddeeff00);
	assert_int_equal(ks_snapshot_take(&opts, &d, NULL), 0);
	assert_ptr_not_equal(d, b);
	assert_true(has_id(d, 0xddeeff00) && !has_id(d, 0x55667788));
	ks_snapshot_cache_stats(c, &hits, &misses);
	assert_int_equal(hits, 0);
	assert_int_equal(misses, 3);

	ks_snapshot_unref(a);
	ks_snapshot_unref(plain);
	ks_snapshot_unref(b);
	ks_snapshot_unref(d);
	ks_snapshot_cache_free(c);
	ks_root_close(&root);
	rm_rf(dir);
	free(dir);
}

/* The bytes of a file of the fixture tree, in *len; fails the test if none. */
static unsigned char *fixture_bytes(const char *rel, size_t *len)
{
	unsigned char *buf = malloc(65536);
	FILE *f = fopen(fixture(rel), "rb");

	assert_non_null(buf);
	if (!f)
		fail_msg("%s: %s", fixture(rel), strerror(errno));
	*len = fread(buf, 1, 65536, f);
	fclose(f);
	assert_true(*len > 0 && *len < 65536);
	return buf;
}

/* Does a PT_LOAD hold sh's bytes from the file at sh's address? */
static bool covered_by_load(Elf *e, const GElf_Shdr *sh)
{
	size_t phnum;

	assert_int_equal(elf_getphdrnum(e, &phnum), 0);
	for (size_t i = 0; i < phnum; i++) {
		GElf_Phdr ph;

		assert_non_null(gelf_getphdr(e, (int)i, &ph));
		if (ph.p_type == PT_LOAD && ph.p_vaddr == sh->sh_addr &&
		    ph.p_offset == sh->sh_offset && ph.p_filesz == sh->sh_size &&
		    ph.p_memsz == sh->sh_size)
			return true;
	}
	return false;
}

/*
 * A module's notes file is its section of that name, once: sections/ lists
 * fuse's .note.gnu.build-id and .note.Linux too, with addresses, and those
 * are SHT_NOTEs with those addresses and the files' bytes, not also NOBITS
 * sections. No name is there twice, every symbol's st_shndx is a section
 * with an address (a region) or SHN_ABS, and a PT_LOAD covers each notes
 * section's bytes at its address.
 */
static void test_notes_one_section_each(void **state)
{
	static const char *const files[] = { ".note.gnu.build-id", ".note.Linux" };
	struct ks_snapshot *s;
	Elf *e;
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;
	char **names;
	size_t shnum, shstrndx, found = 0;
	int r;

	(void)state;
	s = take(fixture("debian-6.1/state-a"), NULL, &r);
	assert_int_equal(r, 0);
	e = elf_memory((char *)ks_snapshot_data(s), ks_snapshot_size(s));
	assert_non_null(e);
	assert_int_equal(elf_getshdrnum(e, &shnum), 0);
	assert_int_equal(elf_getshdrstrndx(e, &shstrndx), 0);
	names = calloc(shnum, sizeof(*names));
	assert_non_null(names);
	while ((scn = elf_nextscn(e, scn))) {
		size_t i = elf_ndxscn(scn);

		assert_non_null(gelf_getshdr(scn, &sh));
		names[i] = elf_strptr(e, shstrndx, sh.sh_name);
		assert_non_null(names[i]);
		for (size_t j = 1; j < i; j++)
			if (!strcmp(names[j], names[i]))
				fail_msg("section %s twice: [%zu] and [%zu]", names[i], j, i);
		for (size_t k = 0; k < 2; k++) {
			char want[64], rel[128];
			unsigned char *bytes;
			Elf_Data *d;
			size_t len;

			snprintf(want, sizeof(want), "fuse:%s", files[k]);
			if (strcmp(names[i], want))
				continue;
			found++;
			assert_int_equal(sh.sh_type, SHT_NOTE);
			assert_int_equal(sh.sh_flags, SHF_ALLOC);
			assert_true(sh.sh_addr >= 0xffffffffc0000000ull);
			assert_true(covered_by_load(e, &sh));
			snprintf(rel, sizeof(rel), "debian-6.1/state-a/sys/module/fuse/notes/%s",
				 files[k]);
			bytes = fixture_bytes(rel, &len);
			d = elf_rawdata(scn, NULL);
			assert_non_null(d);
			assert_int_equal(d->d_size, len);
			assert_memory_equal(d->d_buf, bytes, len);
			free(bytes);
		}
		/* Any other section named .note* is a notes file's too. */
		if (strstr(names[i], ":.note"))
			assert_int_equal(sh.sh_type, SHT_NOTE);
	}
	assert_int_equal(found, 2);

	/* Symbols point at regions (NOBITS) or are SHN_ABS. */
	scn = NULL;
	while ((scn = elf_nextscn(e, scn))) {
		Elf_Data *d;

		assert_non_null(gelf_getshdr(scn, &sh));
		if (sh.sh_type != SHT_SYMTAB)
			continue;
		d = elf_getdata(scn, NULL);
		for (size_t i = 1; i < sh.sh_size / sh.sh_entsize; i++) {
			GElf_Sym sym;
			GElf_Shdr ssh;

			assert_non_null(gelf_getsym(d, (int)i, &sym));
			if (sym.st_shndx == SHN_ABS)
				continue;
			assert_true(sym.st_shndx > shstrndx && sym.st_shndx < shnum);
			assert_non_null(gelf_getshdr(elf_getscn(e, sym.st_shndx), &ssh));
			assert_true(ssh.sh_type == SHT_NOBITS || ssh.sh_type == SHT_NOTE);
			assert_true(ssh.sh_flags & SHF_ALLOC);
			assert_in_range(sym.st_value, ssh.sh_addr, ssh.sh_addr + ssh.sh_size);
		}
	}
	free(names);
	elf_end(e);
	ks_snapshot_unref(s);
}

/* Opens that find the same new kernel at once build its image once. */
struct taker {
	struct ks_snapshot_opts *opts;
	struct ks_snapshot *snap;
	int r;
};

static void *take_one(void *arg)
{
	struct taker *t = arg;

	t->r = ks_snapshot_take(t->opts, &t->snap, NULL);
	return NULL;
}

static void test_cache_builds_once(void **state)
{
	struct ks_snapshot_cache *c = ks_snapshot_cache_new();
	struct ks_root root;
	struct ks_snapshot_opts opts = { .root = &root, .cache = c };
	struct taker t[6];
	pthread_t th[6];
	unsigned long hits, misses;

	(void)state;
	open_root(&root, fixture("debian-6.1/state-a"));
	for (size_t i = 0; i < 6; i++) {
		t[i] = (struct taker){ .opts = &opts };
		assert_int_equal(pthread_create(&th[i], NULL, take_one, &t[i]), 0);
	}
	for (size_t i = 0; i < 6; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(t[i].r, 0);
		assert_ptr_equal(t[i].snap, t[0].snap);
	}
	ks_snapshot_cache_stats(c, &hits, &misses);
	assert_int_equal(misses, 1);
	assert_int_equal(hits, 5);
	for (size_t i = 0; i < 6; i++)
		ks_snapshot_unref(t[i].snap);
	ks_snapshot_cache_free(c);
	ks_root_close(&root);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sealed_memfd),
		cmocka_unit_test(test_deterministic),
		cmocka_unit_test(test_roundtrip_mini),
		cmocka_unit_test(test_roundtrip_debian),
		cmocka_unit_test(test_roundtrip_debian_b),
		cmocka_unit_test(test_roundtrip_debian_612),
		cmocka_unit_test(test_roundtrip_host),
		cmocka_unit_test(test_zero_addresses_refused),
		cmocka_unit_test(test_bad_kallsyms_line),
		cmocka_unit_test(test_vanishing_module_left_out),
		cmocka_unit_test(test_module_without_sections),
		cmocka_unit_test(test_init_symbols_not_settled),
		cmocka_unit_test(test_torn_module_left_out),
		cmocka_unit_test(test_module_load_mid_snapshot),
		cmocka_unit_test(test_module_set_never_settles),
		cmocka_unit_test(test_cache),
		cmocka_unit_test(test_cache_notes),
		cmocka_unit_test(test_notes_one_section_each),
		cmocka_unit_test(test_cache_builds_once),
	};

	elf_version(EV_CURRENT);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
