/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * libksyms on a real kernel's image: the Debian 6.1 fixture turned into an
 * image by the core's snapshot code, given to ksyms_open() as a plain file.
 * Every answer is checked against a brute-force reading of the same image
 * with libelf, written here independently of src/shared/symindex.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "libksyms.h"
#include "engine/snapshot.h"
#include "../unit/testutil.h"

struct osym {
	const char *name;
	uint64_t value, size;
	unsigned char bind, type;
	unsigned shndx;
	size_t index;
};

struct osec {
	const char *name;
	uint64_t addr, size;
	unsigned type;
};

static struct {
	char *dir, path[4200];
	unsigned char *bytes;
	size_t size;
	struct osym *syms;	/* named, not FILE/SECTION: what lookups know */
	size_t n;
	struct osec *secs;
	size_t nsecs;
	Elf *elf;
} g;

static int setup(void **state)
{
	struct ks_root root;
	struct ks_snapshot_opts opts = { .root = &root };
	struct ks_snapshot *snap;
	struct ks_error err = { 0 };
	size_t shnum, shstr, symcount;
	int r;
	GElf_Shdr sh, symsh = { 0 };
	Elf_Scn *scn, *symscn = NULL;
	Elf_Data *d;
	GElf_Sym s;
	FILE *f;

	(void)state;
	open_root(&root, fixture("debian-6.1/state-a"));
	r = ks_snapshot_take(&opts, &snap, &err);
	ks_root_close(&root);
	if (r < 0) {
		fprintf(stderr, "snapshot: %s\n", err.msg);
		return -1;
	}
	g.size = ks_snapshot_size(snap);
	g.bytes = malloc(g.size);
	memcpy(g.bytes, ks_snapshot_data(snap), g.size);
	ks_snapshot_unref(snap);
	g.dir = make_tmpdir();
	snprintf(g.path, sizeof(g.path), "%s/img.elf", g.dir);
	f = fopen(g.path, "w");
	if (!f || fwrite(g.bytes, 1, g.size, f) != g.size || fclose(f) != 0)
		return -1;

	elf_version(EV_CURRENT);
	g.elf = elf_memory((char *)g.bytes, g.size);
	if (!g.elf || elf_getshdrnum(g.elf, &shnum) || elf_getshdrstrndx(g.elf, &shstr))
		return -1;
	g.secs = calloc(shnum, sizeof(*g.secs));
	g.nsecs = shnum;
	for (size_t i = 1; i < shnum; i++) {
		scn = elf_getscn(g.elf, i);
		gelf_getshdr(scn, &sh);
		g.secs[i] = (struct osec){ elf_strptr(g.elf, shstr, sh.sh_name), sh.sh_addr,
					   sh.sh_size, sh.sh_type };
		if (sh.sh_type == SHT_SYMTAB && !symscn) {
			symscn = scn;
			symsh = sh;
		}
	}
	if (!symscn)
		return -1;
	d = elf_getdata(symscn, NULL);
	symcount = symsh.sh_size / symsh.sh_entsize;
	g.syms = calloc(symcount, sizeof(*g.syms));
	for (size_t i = 1; i < symcount; i++) {
		const char *name;

		gelf_getsym(d, (int)i, &s);
		name = elf_strptr(g.elf, symsh.sh_link, s.st_name);
		if (!name || !*name || GELF_ST_TYPE(s.st_info) == STT_FILE ||
		    GELF_ST_TYPE(s.st_info) == STT_SECTION)
			continue;
		g.syms[g.n++] = (struct osym){ name, s.st_value, s.st_size,
					       GELF_ST_BIND(s.st_info), GELF_ST_TYPE(s.st_info),
					       s.st_shndx, i };
	}
	return g.n > 50000 ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	elf_end(g.elf);
	free(g.syms);
	free(g.secs);
	free(g.bytes);
	rm_rf(g.dir);
	free(g.dir);
	return 0;
}

static unsigned rank(unsigned char bind)
{
	return bind == STB_GLOBAL || bind == STB_GNU_UNIQUE ? 2 : bind == STB_WEAK;
}

/* What section and module a symbol of shndx must report. */
static void expect_place(const struct ksyms_sym *got, unsigned shndx)
{
	const char *colon;

	if (shndx == SHN_UNDEF || shndx >= SHN_LORESERVE) {
		assert_null(got->section);
		assert_null(got->module);
		return;
	}
	assert_string_equal(got->section, g.secs[shndx].name);
	colon = strchr(g.secs[shndx].name, ':');
	if (!colon) {
		assert_string_equal(got->module, "vmlinux");
	} else {
		assert_int_equal(strlen(got->module), colon - g.secs[shndx].name);
		assert_memory_equal(got->module, g.secs[shndx].name, strlen(got->module));
	}
}

static void expect_sym(const struct ksyms_sym *got, const struct osym *want)
{
	assert_string_equal(got->name, want->name);
	assert_int_equal(got->value, want->value);
	assert_int_equal(got->size, want->size);
	assert_int_equal(got->bind, want->bind);
	assert_int_equal(got->type, want->type);
	assert_int_equal(got->shndx, want->shndx);
	expect_place(got, want->shndx);
	/* Names point into the mapping, not at the caller's string. */
}

static void test_file_image(void **state)
{
	struct ksyms *k;
	struct stat st;
	unsigned char buf[64];
	size_t nelf = 0;
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;
	Elf *e;
	int fds = count_fds(), fd;

	(void)state;
	k = ksyms_open(g.path, 0);
	assert_non_null(k);
	/* The file stays open beside the memfd, as a device would. */
	assert_int_equal(count_fds(), fds + 2);
	assert_int_equal(ksyms_size(k), g.size);
	assert_memory_equal(ksyms_addr(k), g.bytes, g.size);
	fd = ksyms_fd(k);
	assert_int_equal(fstat(fd, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_size, g.size);
	assert_int_equal(fcntl(fd, F_GET_SEALS),
			 F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL);
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	assert_int_equal(pwrite(fd, "x", 1, 0), -1);
	assert_int_equal(pread(fd, buf, sizeof(buf), 100), sizeof(buf));
	assert_memory_equal(buf, g.bytes + 100, sizeof(buf));
	/* The mapping is read-only. */
	assert_int_equal(mprotect((void *)((uintptr_t)ksyms_addr(k)), 4096,
				  PROT_READ | PROT_WRITE), -1);

	/* libelf straight on the descriptor, mapping it itself. */
	e = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	assert_non_null(e);
	assert_int_equal(elf_kind(e), ELF_K_ELF);
	while ((scn = elf_nextscn(e, scn)))
		if (gelf_getshdr(scn, &sh) && sh.sh_type == SHT_SYMTAB)
			nelf = sh.sh_size / sh.sh_entsize;
	elf_end(e);
	assert_true(nelf > g.n);
	assert_int_equal(ksyms_count(k), g.n);
	ksyms_close(k);
	assert_int_equal(count_fds(), fds);
}

static void test_open_errors(void **state)
{
	char path[4300];
	int fds = count_fds();

	(void)state;
	errno = 0;
	assert_null(ksyms_open(g.path, 1));
	assert_int_equal(errno, EINVAL);
	assert_null(ksyms_open("/nonexistent/ksyms", 0));
	assert_int_equal(errno, ENOENT);
	if (access("/dev/ksyms", F_OK) != 0) {
		assert_null(ksyms_open(NULL, 0));
		assert_int_equal(errno, ENOENT);
	}
	assert_null(ksyms_open(g.dir, 0));
	assert_int_equal(errno, EISDIR);
	snprintf(path, sizeof(path), "%s/empty", g.dir);
	assert_int_equal(write_file(path, "%s", ""), 0);
	assert_null(ksyms_open(path, 0));
	assert_int_equal(errno, EIO);
	assert_int_equal(count_fds(), fds);
}

static void test_not_elf(void **state)
{
	char path[4300];
	struct ksyms *k;
	unsigned char *bytes;
	size_t shstr;
	GElf_Shdr sh;
	Elf_Scn *scn = NULL;
	Elf *elf;
	FILE *f;

	(void)state;
	snprintf(path, sizeof(path), "%s/text", g.dir);
	assert_int_equal(write_file(path, "not an ELF file, but bytes\n"), 0);
	errno = 0;
	assert_null(ksyms_open(path, 0));	/* at once, not at the first lookup */
	assert_int_equal(errno, ENOEXEC);

	/* Headers that pass, a symbol table that does not (.strtab's last
	 * byte no NUL): the lookups fail, and go on failing. */
	bytes = malloc(g.size);
	memcpy(bytes, g.bytes, g.size);
	elf = elf_memory((char *)bytes, g.size);
	assert_int_equal(elf_getshdrstrndx(elf, &shstr), 0);
	while ((scn = elf_nextscn(elf, scn)) && gelf_getshdr(scn, &sh) && sh.sh_type != SHT_SYMTAB)
		;
	assert_non_null(scn);
	assert_non_null(gelf_getshdr(elf_getscn(elf, sh.sh_link), &sh));
	bytes[sh.sh_offset + sh.sh_size - 1] = 'x';
	elf_end(elf);
	f = fopen(path, "wb");
	assert_int_equal(fwrite(bytes, 1, g.size, f), g.size);
	assert_int_equal(fclose(f), 0);
	free(bytes);
	k = ksyms_open(path, 0);
	assert_non_null(k);
	assert_int_equal(ksyms_lookup_name(k, "x", NULL), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(ksyms_lookup_addr(k, 0, NULL, NULL), -1);
	assert_int_equal(errno, EINVAL);	/* sticky */
	errno = 0;
	assert_int_equal(ksyms_count(k), -1);
	assert_int_equal(errno, EINVAL);
	errno = 0;
	assert_int_equal(ksyms_owner_count(k), -1);	/* the table API too */
	assert_int_equal(errno, EINVAL);
	ksyms_close(k);
}

static int cmp_name(const void *a, const void *b)
{
	const struct osym *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	return c ? c : (x->index > y->index) - (x->index < y->index);
}

/* Every name resolves NetBSD's way: best binding, then table order. */
static void test_names(void **state)
{
	struct osym *v = malloc(g.n * sizeof(*v));
	size_t multi = 0, local_loses = 0;
	struct ksyms_sym got;
	struct ksyms *k;

	(void)state;
	k = ksyms_open(g.path, 0);
	assert_non_null(k);
	memcpy(v, g.syms, g.n * sizeof(*v));
	qsort(v, g.n, sizeof(*v), cmp_name);
	for (size_t i = 0, j; i < g.n; i = j) {
		const struct osym *best = &v[i];

		for (j = i + 1; j < g.n && strcmp(v[j].name, v[i].name) == 0; j++)
			if (rank(v[j].bind) > rank(best->bind))
				best = &v[j];
		multi += j - i > 1;
		local_loses += j - i > 1 && best != &v[i];
		assert_int_equal(ksyms_lookup_name(k, v[i].name, &got), 0);
		expect_sym(&got, best);
		assert_ptr_not_equal(got.name, v[i].name);
		assert_true(got.name >= (const char *)ksyms_addr(k) &&
			    got.name < (const char *)ksyms_addr(k) + ksyms_size(k));
	}
	/* The fixture has both kinds of duplicate names. */
	assert_true(multi > 100);
	assert_true(local_loses > 0);
	assert_int_equal(ksyms_lookup_name(k, "no_such_symbol_anywhere", &got), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(ksyms_lookup_name(k, "", NULL), -1);
	assert_int_equal(errno, ENOENT);
	free(v);
	ksyms_close(k);
}

/* Brute force: of the symbols covering a, the greatest value, then the
 * best binding, then table order. */
static const struct osym *slow_addr(uint64_t a)
{
	const struct osym *best = NULL;

	for (size_t i = 0; i < g.n; i++) {
		const struct osym *s = &g.syms[i];
		uint64_t ext = s->size ? s->size : 1;

		if (a < s->value || a - s->value >= ext)
			continue;
		if (!best || s->value > best->value ||
		    (s->value == best->value && rank(s->bind) > rank(best->bind)))
			best = s;
	}
	return best;
}

static void expect_addr(struct ksyms *k, uint64_t a)
{
	const struct osym *want = slow_addr(a);
	struct ksyms_sym got;
	uint64_t off;

	if (!want) {
		assert_int_equal(ksyms_lookup_addr(k, a, &got, &off), -1);
		assert_int_equal(errno, ENOENT);
		return;
	}
	assert_int_equal(ksyms_lookup_addr(k, a, &got, &off), 0);
	expect_sym(&got, want);
	assert_int_equal(off, a - want->value);
}

/* Section edges: the first byte, the last, and one past the end of every
 * region section, plus the byte before it. */
static void test_section_edges(void **state)
{
	size_t regions = 0, covered_end = 0;
	struct ksyms_sym got;
	struct ksyms *k;

	(void)state;
	k = ksyms_open(g.path, 0);
	assert_non_null(k);
	for (size_t i = 1; i < g.nsecs; i++) {
		const struct osec *s = &g.secs[i];

		if (s->type != SHT_NOBITS || !s->size)
			continue;
		regions++;
		expect_addr(k, s->addr);
		expect_addr(k, s->addr - 1);
		expect_addr(k, s->addr + s->size - 1);
		expect_addr(k, s->addr + s->size);
		/* Sizes stop at the region's end, never beyond. */
		if (ksyms_lookup_addr(k, s->addr + s->size - 1, &got, NULL) == 0 &&
		    got.shndx == i) {
			covered_end++;
			assert_true(got.value + got.size == s->addr + s->size);
		}
		if (ksyms_lookup_addr(k, s->addr + s->size, &got, NULL) == 0)
			assert_int_not_equal(got.shndx, i);
	}
	assert_true(regions > 20);
	assert_true(covered_end > regions / 2);
	expect_addr(k, 0);
	expect_addr(k, UINT64_MAX);
	ksyms_close(k);
}

static int cmp_value(const void *a, const void *b)
{
	const struct osym *x = a, *y = b;

	return (x->value > y->value) - (x->value < y->value);
}

/* Aliases (one address, several names), and random addresses. */
static void test_aliases_and_random(void **state)
{
	struct osym *v = malloc(g.n * sizeof(*v));
	uint64_t x = 0x9e3779b97f4a7c15ull;
	size_t aliases = 0;
	struct ksyms *k;

	(void)state;
	k = ksyms_open(g.path, 0);
	assert_non_null(k);
	memcpy(v, g.syms, g.n * sizeof(*v));
	qsort(v, g.n, sizeof(*v), cmp_value);
	for (size_t i = 1; i < g.n && aliases < 300; i++) {
		if (v[i].value != v[i - 1].value || (i > 1 && v[i - 2].value == v[i].value))
			continue;
		aliases++;
		expect_addr(k, v[i].value);
		if (v[i].size > 1)
			expect_addr(k, v[i].value + v[i].size / 2);
	}
	assert_true(aliases >= 50);
	for (int n = 0; n < 300; n++) {
		const struct osym *s;

		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		s = &g.syms[x % g.n];
		expect_addr(k, s->value + (s->size ? x % s->size : 0));
	}
	free(v);
	ksyms_close(k);
}

/* The first lookups race to build the index. */
static void *lookup_thread(void *arg)
{
	struct ksyms *k = arg;
	struct ksyms_sym s;
	size_t bad = 0;

	for (size_t i = 0; i < g.n; i += 97)
		bad += ksyms_lookup_addr(k, g.syms[i].value, &s, NULL) != 0 ||
		       ksyms_lookup_name(k, g.syms[i].name, &s) != 0;
	return (void *)bad;
}

static void test_threads(void **state)
{
	pthread_t t[4];
	struct ksyms *k;
	void *bad;

	(void)state;
	k = ksyms_open(g.path, 0);
	assert_non_null(k);
	for (int i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&t[i], NULL, lookup_thread, k), 0);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(pthread_join(t[i], &bad), 0);
		assert_null(bad);
	}
	ksyms_close(k);
}

/* A FIFO: no KIOCGSIZE, no size, read to EOF. */
static void *fifo_writer(void *arg)
{
	int fd = open(arg, O_WRONLY);
	size_t done = 0;

	while (fd >= 0 && done < g.size) {
		ssize_t w = write(fd, g.bytes + done, g.size - done);

		if (w <= 0)
			break;
		done += (size_t)w;
	}
	if (fd >= 0)
		close(fd);
	return NULL;
}

static void test_fifo(void **state)
{
	char path[4300];
	pthread_t t;
	struct ksyms *k;

	(void)state;
	snprintf(path, sizeof(path), "%s/fifo", g.dir);
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_int_equal(pthread_create(&t, NULL, fifo_writer, path), 0);
	k = ksyms_open(path, 0);
	pthread_join(t, NULL);
	assert_non_null(k);
	assert_int_equal(ksyms_size(k), g.size);
	assert_memory_equal(ksyms_addr(k), g.bytes, g.size);
	assert_int_equal(ksyms_count(k), g.n);
	ksyms_close(k);
	unlink(path);
}

/*
 * Section names are only offsets into .shstrtab, and any number of headers
 * may share one (a string table may also share suffixes): the owners'
 * copies must not be sized by the table. Alternate every section between
 * two long "module:" names in a table holding just those two.
 */
static void test_shared_section_names(void **state)
{
	static const char a[] = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa:.text";
	static const char b[] = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb:.data";
	unsigned char *img = malloc(g.size);
	struct ksyms_sym got;
	Elf64_Ehdr eh;
	Elf64_Shdr sh, str;
	char path[4300];
	struct ksyms *k;
	FILE *f;

	(void)state;
	assert_non_null(img);
	memcpy(img, g.bytes, g.size);
	memcpy(&eh, img, sizeof(eh));
	assert_true(eh.e_shnum > 8 && eh.e_shstrndx < eh.e_shnum);
	assert_true(eh.e_shoff + (size_t)eh.e_shnum * sizeof(sh) <= g.size);
	memcpy(&str, img + eh.e_shoff + (size_t)eh.e_shstrndx * sizeof(str), sizeof(str));
	assert_true(str.sh_size >= 1 + sizeof(a) + sizeof(b));
	img[str.sh_offset] = '\0';
	memcpy(img + str.sh_offset + 1, a, sizeof(a));
	memcpy(img + str.sh_offset + 1 + sizeof(a), b, sizeof(b));
	str.sh_size = 1 + sizeof(a) + sizeof(b);
	memcpy(img + eh.e_shoff + (size_t)eh.e_shstrndx * sizeof(str), &str, sizeof(str));
	/* GCC 12 with -fsanitize=address sees a 0-byte object here (known
	 * -Warray-bounds/-Wstringop false positives); the section headers'
	 * bounds are checked above. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Warray-bounds"
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wstringop-overread"
#pragma GCC diagnostic ignored "-Wstringop-overflow"
#endif
	for (size_t i = 1; i < eh.e_shnum; i++) {
		unsigned char *p = img + eh.e_shoff + i * sizeof(sh);

		memcpy(&sh, p, sizeof(sh));
		sh.sh_name = (i & 1) ? 1 : 1 + sizeof(a);
		memcpy(p, &sh, sizeof(sh));
	}
#pragma GCC diagnostic pop
	snprintf(path, sizeof(path), "%s/shared-names.elf", g.dir);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(img, 1, g.size, f), g.size);
	assert_int_equal(fclose(f), 0);
	free(img);

	k = ksyms_open(path, 0);
	assert_non_null(k);
	assert_int_equal(ksyms_count(k), g.n);
	assert_int_equal(ksyms_lookup_name(k, "fuse_do_ioctl", &got), 0);
	assert_non_null(got.module);
	assert_true(strcmp(got.module, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa") == 0 ||
		    strcmp(got.module, "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb") == 0);
	ksyms_close(k);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_file_image),
		cmocka_unit_test(test_open_errors),
		cmocka_unit_test(test_not_elf),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_section_edges),
		cmocka_unit_test(test_aliases_and_random),
		cmocka_unit_test(test_threads),
		cmocka_unit_test(test_fifo),
		cmocka_unit_test(test_shared_section_names),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
