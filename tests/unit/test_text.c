/* SPDX-License-Identifier: BSD-2-Clause */
/* Reading the kernel's files: the root directory, whole texts read on a
 * thread, and small files read whole. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <sys/stat.h>

#include "engine/root.h"
#include "engine/text.h"
#include "shared/fdio.h"
#include "testutil.h"

static void test_root_paths(void **state)
{
	struct ks_root root;
	struct ks_error err = { 0 };

	(void)state;
	assert_int_equal(ks_root_open(&root, "/", NULL), 0);
	assert_true(root.live);
	assert_string_equal(root.path, "");
	ks_root_close(&root);
	assert_int_equal(ks_root_open(&root, "//", NULL), 0);
	assert_true(root.live);
	ks_root_close(&root);
	assert_int_equal(ks_root_open(&root, "/tmp/", NULL), 0);
	assert_false(root.live);
	assert_string_equal(root.path, "/tmp");
	/* Messages name the file under the root as a user would. */
	assert_int_equal(ks_root_openat(&root, "no/such/file", O_RDONLY, &err), -ENOENT);
	assert_string_equal(err.msg, "/tmp/no/such/file: No such file or directory");
	ks_root_close(&root);
	assert_int_equal(ks_root_open(&root, "/nonexistent-root", &err), -ENOENT);
	assert_non_null(strstr(err.msg, "/nonexistent-root"));
	assert_int_equal(ks_root_open(&root, "/etc/passwd", &err), -ENOTDIR);
}

/* The text is the file, byte for byte, NUL-terminated, in a mapping shrunk
 * to fit. */
static void test_read_fixture(void **state)
{
	struct ks_root root;
	struct ks_text text, again;
	char *raw;
	size_t len;
	int fd;

	(void)state;
	fd = open(fixture("host-6.18/state-a/proc/kallsyms"), O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(ks_read_all(fd, &raw, &len, NULL), 0);
	close(fd);

	open_root(&root, fixture("host-6.18/state-a"));
	assert_int_equal(ks_text_read(&root, "proc/kallsyms", &text, NULL), 0);
	assert_int_equal(text.len, len);
	assert_memory_equal(text.data, raw, len);
	assert_int_equal(text.data[len], '\0');
	assert_true(text.map_len > len && text.map_len < KS_TEXT_MAX);
	assert_int_equal(ks_text_read(&root, "proc/kallsyms", &again, NULL), 0);
	assert_true(ks_text_equal(&text, &again));
	/* Differing in one byte, or in length: not equal. */
	again.data[len / 2] ^= 1;
	assert_false(ks_text_equal(&text, &again));
	again.data[len / 2] ^= 1;
	again.len--;
	assert_false(ks_text_equal(&text, &again));
	ks_text_release(&again);
	ks_text_release(&text);
	assert_null(text.data);
	ks_root_close(&root);
	free(raw);
}

static void test_read_missing(void **state)
{
	struct ks_root root;
	struct ks_text text;
	struct ks_error err = { 0 };

	(void)state;
	open_root(&root, fixture("mini"));
	assert_int_equal(ks_text_read(&root, "proc/nothing", &text, &err), -ENOENT);
	assert_null(text.data);
	assert_non_null(strstr(err.msg, "mini/proc/nothing: No such file or directory"));
	ks_root_close(&root);
}

/* Feed more than the first buffer through a pipe in small writes, the way
 * procfs hands out a page at a time. */
struct feeder {
	int fd;
	const char *path;	/* if set: open it for writing first */
	size_t total;
};

static void *feed(void *arg)
{
	struct feeder *f = arg;
	char chunk[4096];
	size_t sent = 0;

	if (f->path)
		f->fd = open(f->path, O_WRONLY);
	if (f->fd < 0)
		return NULL;

	for (size_t i = 0; i < sizeof(chunk); i++)
		chunk[i] = (char)('a' + i % 26);
	while (sent < f->total) {
		size_t n = f->total - sent < sizeof(chunk) ? f->total - sent : sizeof(chunk);
		ssize_t w = write(f->fd, chunk, n);

		if (w <= 0)
			break;
		sent += (size_t)w;
	}
	close(f->fd);
	return NULL;
}

static void check_fed(const char *text, size_t len, size_t total)
{
	assert_int_equal(len, total);
	assert_int_equal(text[len], '\0');
	assert_int_equal(text[len - 1], 'a' + (int)((total - 1) % 4096 % 26));
}

static void test_read_all_grows(void **state)
{
	struct feeder f;
	pthread_t t;
	char *text;
	size_t len;
	int p[2];

	(void)state;
	assert_int_equal(pipe(p), 0);
	f = (struct feeder){ .fd = p[1], .total = (9u << 20) + 123 };
	assert_int_equal(pthread_create(&t, NULL, feed, &f), 0);
	assert_int_equal(ks_read_all(p[0], &text, &len, NULL), 0);
	pthread_join(t, NULL);
	close(p[0]);
	check_fed(text, len, f.total);
	free(text);
}

/* The reader thread collects a slow writer's pieces while the caller goes
 * on, and the caller gets them all at the finish. */
static void test_text_read_in_background(void **state)
{
	char *dir = make_tmpdir(), path[4200];
	struct ks_text_read *rd;
	struct ks_root root;
	struct ks_text text;
	struct feeder f;
	pthread_t t;

	(void)state;
	assert_non_null(dir);
	snprintf(path, sizeof(path), "%s/fifo", dir);
	assert_int_equal(mkfifo(path, 0600), 0);
	open_root(&root, dir);
	f = (struct feeder){ .fd = -1, .path = path, .total = (3u << 20) + 7 };
	assert_int_equal(pthread_create(&t, NULL, feed, &f), 0);
	assert_int_equal(ks_text_read_start(&rd, &root, "fifo", NULL), 0);
	assert_int_equal(ks_text_read_finish(rd, &text, NULL), 0);
	pthread_join(t, NULL);
	check_fed(text.data, text.len, f.total);
	ks_text_release(&text);
	ks_root_close(&root);
	rm_rf(dir);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_root_paths),
		cmocka_unit_test(test_read_fixture),
		cmocka_unit_test(test_read_missing),
		cmocka_unit_test(test_read_all_grows),
		cmocka_unit_test(test_text_read_in_background),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
