/* SPDX-License-Identifier: BSD-2-Clause */
/* The notes reader: the fixtures' kernel and module notes, the checks, and
 * hand-made trees with malformed, oversized, vanishing and odd files. */
#include <elf.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "engine/modules.h"
#include "engine/notes.h"
#include "testutil.h"

#define EQ(a, b) assert_int_equal((a), (b))

/* The whole file at path (malloc'd), or NULL. */
static unsigned char *slurp(const char *path, size_t *len)
{
	unsigned char *buf = malloc(1 << 20);
	FILE *f = fopen(path, "rb");

	assert_non_null(buf);
	if (!f) {
		free(buf);
		return NULL;
	}
	*len = fread(buf, 1, 1 << 20, f);
	fclose(f);
	return buf;
}

static int read_kernel(struct ks_notes *n, const char *path, unsigned char data,
		       struct ks_error *err)
{
	struct ks_root root;
	int r;

	open_root(&root, path);
	r = ks_notes_read_kernel(n, &root, data, err);
	ks_root_close(&root);
	return r;
}

static int read_modules(struct ks_modlist *l, const char *path, struct ks_error *err)
{
	struct ks_root root;
	int r;

	open_root(&root, path);
	r = ks_modlist_read(l, &root, err);
	if (r == 0)
		r = ks_notes_read_modules(l, &root, ELFDATA2LSB, err);
	ks_root_close(&root);
	return r;
}

/* One note, little or big endian, into p; its length. */
static size_t put_note(unsigned char *p, bool be, const char *name, size_t namesz,
		       size_t descsz, uint32_t type)
{
	uint32_t w[3] = { (uint32_t)namesz, (uint32_t)descsz, type };
	size_t len = 12 + ((namesz + 3) & ~3u) + ((descsz + 3) & ~3u);

	memset(p, 0, len);
	for (int i = 0; i < 3; i++)
		for (int b = 0; b < 4; b++)
			p[i * 4 + b] = (unsigned char)(w[i] >> (be ? 24 - 8 * b : 8 * b));
	memcpy(p + 12, name, namesz);
	memset(p + 12 + ((namesz + 3) & ~3u), 0xab, descsz);
	return len;
}

static void expect_bad(const void *p, size_t len, unsigned char data, const char *why)
{
	const char *got;

	EQ(ks_notes_check(p, len, data, &got), -EINVAL);
	assert_non_null(got);
	if (!strstr(got, why))
		fail_msg("\"%s\", not \"%s\"", got, why);
}

static void test_check(void **state)
{
	unsigned char p[256];
	const char *why;
	size_t len;

	(void)state;
	/* A build-id and an odd-sized desc, both byte orders. */
	for (int be = 0; be < 2; be++) {
		unsigned char d = be ? ELFDATA2MSB : ELFDATA2LSB;

		len = put_note(p, be, "GNU", 4, 20, NT_GNU_BUILD_ID);
		len += put_note(p + len, be, "Linux", 6, 15, 0x100);
		len += put_note(p + len, be, "", 0, 0, 1);
		EQ(ks_notes_check(p, len, d, &why), 0);
		assert_null(why);
		/* The same bytes in the other order do not parse. */
		expect_bad(p, len, be ? ELFDATA2LSB : ELFDATA2MSB, "past the end");
		expect_bad(p, len - 4, d, "cut short");
		expect_bad(p, len + 4, d, "cut short");
		expect_bad(p, len - 2, d, "multiple of 4");
		expect_bad(p, 0, d, "empty");
		expect_bad(p, len, 7, "byte order");
	}
	len = put_note(p, false, "GNU", 4, 20, NT_GNU_BUILD_ID);
	expect_bad(p, len - 4, ELFDATA2LSB, "past the end");
	p[15] = 'X';	/* "GNUX": no NUL */
	expect_bad(p, len, ELFDATA2LSB, "NUL-terminated");
	/* Sizes near 2^32 must not wrap around. */
	len = put_note(p, false, "GNU", 4, 4, 3);
	p[4] = p[5] = p[6] = p[7] = 0xff;
	expect_bad(p, len, ELFDATA2LSB, "past the end");
}

/* The kernel's notes: the file's bytes, named .notes; none where there is none. */
static void test_kernel_fixtures(void **state)
{
	static const char *const trees[] = { "debian-6.1/state-a", "debian-6.12/state-a",
					     "debian-6.1/state-b", "host-6.18/state-a", "mini" };
	static const size_t sizes[] = { 504, 496, 0, 0, 0 };

	(void)state;
	for (size_t t = 0; t < 5; t++) {
		struct ks_error err = { 0 };
		struct ks_notes n;
		char path[4200];
		unsigned char *want;
		size_t len = 0;

		if (read_kernel(&n, fixture(trees[t]), ELFDATA2LSB, &err) < 0)
			fail_msg("%s: %s", trees[t], err.msg);
		EQ(n.size, sizes[t]);
		snprintf(path, sizeof(path), "%s/sys/kernel/notes", fixture(trees[t]));
		want = slurp(path, &len);
		if (sizes[t]) {
			assert_non_null(want);
			EQ(len, n.size);
			assert_memory_equal(n.data, want, len);
			assert_string_equal(n.name, ".notes");
		} else {
			assert_null(n.data);
			assert_null(n.name);
		}
		free(want);
		ks_notes_release(&n);
	}
}

/* Each module's notes files, sorted by name, byte for byte. */
static void test_module_fixtures(void **state)
{
	static const struct {
		const char *tree;
		size_t n_mods, per_mod;
	} trees[] = {
		{ "debian-6.1/state-a", 24, 2 },
		{ "debian-6.12/state-a", 16, 3 },	/* and .note.gnu.property */
		{ "debian-6.1/state-b", 23, 0 },
	};

	(void)state;
	for (size_t t = 0; t < 3; t++) {
		struct ks_error err = { 0 };
		struct ks_modlist l;

		if (read_modules(&l, fixture(trees[t].tree), &err) < 0)
			fail_msg("%s: %s", trees[t].tree, err.msg);
		EQ(l.n, trees[t].n_mods);
		for (size_t i = 0; i < l.n; i++) {
			const struct ks_module *m = &l.mods[i];

			assert_false(m->gone);
			EQ(m->n_notes, trees[t].per_mod);
			for (size_t k = 0; k < m->n_notes; k++) {
				char path[4400];
				unsigned char *want;
				size_t len = 0;

				if (k)
					assert_true(strcmp(m->notes[k - 1].name, m->notes[k].name) < 0);
				snprintf(path, sizeof(path), "%s/sys/module/%s/notes/%s",
					 fixture(trees[t].tree), m->name, m->notes[k].name);
				assert_non_null(want = slurp(path, &len));
				EQ(m->notes[k].size, len);
				assert_memory_equal(m->notes[k].data, want, len);
				free(want);
			}
			if (m->n_notes)
				assert_string_equal(m->notes[1].name, ".note.gnu.build-id");
		}
		if (t == 0) {
			/* fuse's build-id, from the file (MANIFEST). */
			static const unsigned char id[] = { 0x7a, 0xdf, 0x6f, 0x65 };

			assert_string_equal(l.mods[0].name, "fuse");
			EQ(l.mods[0].notes[1].size, 36);
			assert_memory_equal(l.mods[0].notes[1].data + 16, id, 4);
		}
		ks_modlist_release(&l);
	}
}

/* Write len bytes of data to dir/rel, creating the parents. */
static void put(const char *dir, const char *rel, const void *data, size_t len)
{
	char path[4400];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	EQ(write_file(path, "%s", ""), 0);
	assert_non_null(f = fopen(path, "wb"));
	EQ(fwrite(data, 1, len, f), len);
	EQ(fclose(f), 0);
}

/* Run f with stderr in a file; what it printed, in out. */
static int capture_stderr(int (*f)(void *), void *arg, char *out, size_t cap)
{
	char path[] = "/tmp/test_notes-err-XXXXXX";
	int fd = mkstemp(path), saved = dup(2), r;
	ssize_t n;

	assert_true(fd >= 0 && saved >= 0);
	unlink(path);
	fflush(stderr);
	dup2(fd, 2);
	r = f(arg);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	n = pread(fd, out, cap - 1, 0);
	out[n > 0 ? n : 0] = '\0';
	close(fd);
	return r;
}

struct tree {
	const char *dir;
	struct ks_notes kn;
	struct ks_modlist l;
	struct ks_error err;
};

static int read_tree(void *arg)
{
	struct tree *t = arg;
	int r = read_kernel(&t->kn, t->dir, ELFDATA2LSB, &t->err);

	return r < 0 ? r : read_modules(&t->l, t->dir, &t->err);
}

static int count(const char *s, const char *what)
{
	int n = 0;

	while ((s = strstr(s, what))) {
		n++;
		s++;
	}
	return n;
}

/*
 * Malformed notes are left out with one warning each, a module without a
 * notes directory has none, and a vanished file leaves its module out.
 */
static void test_malformed_tree(void **state)
{
	unsigned char good[64], bad[64];
	struct tree t = { 0 };
	char *dir = make_tmpdir(), out[4096], path[4400];
	size_t glen, blen;

	(void)state;
	assert_non_null(dir);
	t.dir = dir;
	glen = put_note(good, false, "GNU", 4, 20, NT_GNU_BUILD_ID);
	blen = put_note(bad, false, "GNU", 4, 20, NT_GNU_BUILD_ID);
	bad[4] = 0x40;	/* descsz 64: past the end */
	put(dir, "proc/modules",
	    "c 4096 0 - Live 0xffffffffc0030000\n"
	    "b 4096 0 - Live 0xffffffffc0020000\n"
	    "a 4096 0 - Live 0xffffffffc0010000\n", 105);
	put(dir, "proc/kallsyms", "", 0);
	put(dir, "sys/kernel/notes", bad, blen);
	put(dir, "sys/module/a/sections/.text", "0xffffffffc0010000\n", 19);
	put(dir, "sys/module/a/notes/.note.gnu.build-id", good, glen);
	put(dir, "sys/module/a/notes/.note.Linux", bad, blen);
	put(dir, "sys/module/a/notes/.note.empty", "", 0);
	put(dir, "sys/module/b/sections/.text", "0xffffffffc0020000\n", 19);
	put(dir, "sys/module/c/sections/.text", "0xffffffffc0030000\n", 19);
	put(dir, "sys/module/c/notes/.note.gnu.build-id", good, glen);
	/* A file that is gone by the time it is opened. */
	snprintf(path, sizeof(path), "%s/sys/module/c/notes/.note.Linux", dir);
	EQ(symlink("/nonexistent/ksymsd-test", path), 0);

	EQ(capture_stderr(read_tree, &t, out, sizeof(out)), 0);
	EQ(t.kn.size, 0);		/* malformed: none */
	EQ(t.l.n, 3);
	EQ(t.l.mods[0].n_notes, 1);	/* the good one only; the empty one is none */
	assert_string_equal(t.l.mods[0].notes[0].name, ".note.gnu.build-id");
	assert_memory_equal(t.l.mods[0].notes[0].data, good, glen);
	EQ(t.l.mods[1].n_notes, 0);	/* no notes directory */
	assert_false(t.l.mods[1].gone);
	assert_true(t.l.mods[2].gone);	/* going: left out, with its notes */
	EQ(t.l.mods[2].n_notes, 0);
	/* One line per malformed file, naming it and what is wrong. */
	EQ(count(out, "malformed notes"), 2);
	assert_non_null(strstr(out, "sys/kernel/notes: malformed notes (a note runs past the end)"));
	assert_non_null(strstr(out, "sys/module/a/notes/.note.Linux: malformed notes"));
	ks_modlist_release(&t.l);
	rm_rf(dir);
	free(dir);
}

/* The limits and odd files: each an error naming the file. */
static void test_limits(void **state)
{
	struct ks_error err = { 0 };
	struct ks_modlist l;
	struct ks_notes n;
	unsigned char *big = calloc(1, KS_NOTES_SIZE_MAX + 4);
	char *dir = make_tmpdir(), path[4400];

	(void)state;
	assert_non_null(dir);
	assert_non_null(big);
	/* One note just at the limit: read whole. */
	put_note(big, false, "GNU", 4, KS_NOTES_SIZE_MAX - 16, 0x1234);
	put(dir, "sys/kernel/notes", big, KS_NOTES_SIZE_MAX);
	EQ(read_kernel(&n, dir, ELFDATA2LSB, &err), 0);
	EQ(n.size, KS_NOTES_SIZE_MAX);
	ks_notes_release(&n);
	put_note(big, false, "GNU", 4, KS_NOTES_SIZE_MAX - 12, 0x1234);
	put(dir, "sys/kernel/notes", big, KS_NOTES_SIZE_MAX + 4);
	EQ(read_kernel(&n, dir, ELFDATA2LSB, &err), -EFBIG);
	assert_non_null(strstr(err.msg, "sys/kernel/notes: notes larger than the limit of 65536 bytes"));
	EQ(n.size, 0);

	snprintf(path, sizeof(path), "%s/sys/kernel/notes", dir);
	unlink(path);
	EQ(mkfifo(path, 0600), 0);
	EQ(read_kernel(&n, dir, ELFDATA2LSB, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "sys/kernel/notes: not a regular file"));
	unlink(path);

	put(dir, "proc/modules", "a 4096 0 - Live 0xffffffffc0010000\n", 35);
	put(dir, "sys/module/a/sections/.text", "0xffffffffc0010000\n", 19);
	for (unsigned int i = 0; i <= KS_NOTES_FILES_MAX; i++) {
		char rel[64];

		snprintf(rel, sizeof(rel), "sys/module/a/notes/.note.%u", i);
		put(dir, rel, big, 12);
	}
	EQ(read_modules(&l, dir, &err), -EFBIG);
	assert_non_null(strstr(err.msg, "sys/module/a/notes: more than 64 notes files"));
	ks_modlist_release(&l);
	rm_rf(dir);
	free(dir);
	free(big);
}

static void test_equal(void **state)
{
	unsigned char a[] = "abcd", b[] = "abce";
	struct ks_notes x = { .name = ".n", .data = a, .size = 4 };
	struct ks_notes y = { .name = ".n", .data = a, .size = 4 };
	struct ks_notes none = { .name = NULL };

	(void)state;
	assert_true(ks_notes_equal(&x, &y));
	y.data = b;
	assert_false(ks_notes_equal(&x, &y));
	y.data = a;
	y.name = ".m";
	assert_false(ks_notes_equal(&x, &y));
	assert_false(ks_notes_equal(&x, NULL));
	assert_true(ks_notes_equal(&none, NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_check),
		cmocka_unit_test(test_kernel_fixtures),
		cmocka_unit_test(test_module_fixtures),
		cmocka_unit_test(test_malformed_tree),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_equal),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
