/* SPDX-License-Identifier: BSD-2-Clause */
/* Reading the kernel's files: the root directory, whole texts read on a
 * thread, and small files read whole. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <signal.h>
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
	assert_int_equal(ks_read_all(fd, KS_TEXT_MAX, 64u << 10, &raw, &len, NULL), 0);
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
	size_t sent;		/* what the reader took before it closed */
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
	f->sent = sent;
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
	assert_int_equal(ks_read_all(p[0], 16u << 20, 1, &text, &len, NULL), 0);
	pthread_join(t, NULL);
	close(p[0]);
	check_fed(text, len, f.total);
	free(text);
}

/* Past its limit, the read stops with EFBIG and says what the limit is. */
static void test_read_all_limit(void **state)
{
	struct ks_error err = { 0 };
	struct feeder f;
	pthread_t t;
	char *text = NULL;
	size_t len;
	int p[2];

	(void)state;
	assert_int_equal(pipe(p), 0);
	f = (struct feeder){ .fd = p[1], .total = (1u << 20) };
	assert_int_equal(pthread_create(&t, NULL, feed, &f), 0);
	assert_int_equal(ks_read_all(p[0], 100000, 4096, &text, &len, &err), -EFBIG);
	close(p[0]);
	pthread_join(t, NULL);
	assert_null(text);
	assert_non_null(strstr(err.msg, "larger than the limit of 100000 bytes"));
}

/* A file over the limit is refused with EFBIG naming the limit (a sparse
 * file: nothing is written; its size is checked before it is read). */
static void test_text_too_big(void **state)
{
	char *dir = make_tmpdir(), path[4200];
	struct ks_root root;
	struct ks_text text;
	struct ks_error err = { 0 };
	int fd;

	(void)state;
	assert_non_null(dir);
	snprintf(path, sizeof(path), "%s/kallsyms", dir);
	fd = open(path, O_WRONLY | O_CREAT, 0600);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)KS_TEXT_MAX), 0);
	close(fd);
	open_root(&root, dir);
	assert_int_equal(ks_text_read(&root, "kallsyms", &text, &err), -EFBIG);
	assert_null(text.data);
	assert_non_null(strstr(err.msg, "kallsyms: larger than the limit of 256 MiB"));
	ks_root_close(&root);
	rm_rf(dir);
	free(dir);
}

/* Only regular files: a FIFO (which would block), a device (/dev/zero
 * never ends) or a directory in a file's place is refused by name. */
static void test_only_regular_files(void **state)
{
	char *dir = make_tmpdir(), path[4200];
	struct ks_root root;
	struct ks_text text;
	struct ks_error err = { 0 };

	(void)state;
	assert_non_null(dir);
	snprintf(path, sizeof(path), "%s/proc/fifo", dir);
	assert_int_equal(write_file(path, "x"), 0);
	unlink(path);
	assert_int_equal(mkfifo(path, 0600), 0);
	snprintf(path, sizeof(path), "%s/proc/zero", dir);
	assert_int_equal(symlink("/dev/zero", path), 0);
	snprintf(path, sizeof(path), "%s/proc/dir", dir);
	assert_int_equal(mkdir(path, 0700), 0);
	open_root(&root, dir);
	assert_int_equal(ks_text_read(&root, "proc/fifo", &text, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "proc/fifo: not a regular file"));
	assert_int_equal(ks_text_read(&root, "proc/zero", &text, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "proc/zero: not a regular file"));
	assert_int_equal(ks_root_open_file(&root, "proc/dir", &err), -EINVAL);
	assert_non_null(strstr(err.msg, "proc/dir: not a regular file"));
	assert_int_equal(ks_open_regular(root.fd, "proc/fifo"), -EINVAL);
	ks_root_close(&root);
	rm_rf(dir);
	free(dir);
}

/* The reader thread collects a slow writer's pieces while the caller
 * watches them arrive, and the caller gets them all at the finish. */
static void test_text_read_in_background(void **state)
{
	struct ks_text_read *rd;
	struct ks_root root;
	struct ks_text text;
	struct feeder f;
	const char *data;
	size_t seen = 0, avail;
	pthread_t t;
	int p[2];

	(void)state;
	assert_int_equal(pipe(p), 0);
	open_root(&root, "/");
	f = (struct feeder){ .fd = p[1], .total = (3u << 20) + 7 };
	assert_int_equal(pthread_create(&t, NULL, feed, &f), 0);
	assert_int_equal(ks_text_read_start_fd(&rd, p[0], &root, "pipe", NULL), 0);
	while (!ks_text_read_wait(rd, seen, &data, &avail)) {
		assert_true(avail > seen);
		seen = avail;
	}
	assert_int_equal(avail, f.total);
	assert_int_equal(data[avail], '\0');
	assert_int_equal(ks_text_read_finish(rd, &text, NULL), 0);
	pthread_join(t, NULL);
	check_fed(text.data, text.len, f.total);
	ks_text_release(&text);
	ks_root_close(&root);
}

/* Abandoning a read does not wait for the rest of the file. */
static void test_text_read_abandon(void **state)
{
	struct ks_text_read *rd;
	struct ks_root root;
	struct feeder f;
	pthread_t t;
	int p[2];

	(void)state;
	assert_int_equal(pipe(p), 0);
	open_root(&root, "/");
	f = (struct feeder){ .fd = p[1], .total = (64u << 20) };
	assert_int_equal(pthread_create(&t, NULL, feed, &f), 0);
	assert_int_equal(ks_text_read_start_fd(&rd, p[0], &root, "pipe", NULL), 0);
	ks_text_read_abandon(rd);
	/* The reader stopped and closed the pipe: the writer got EPIPE short
	 * of the end. */
	pthread_join(t, NULL);
	assert_true(f.sent < f.total);
	ks_root_close(&root);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_root_paths),
		cmocka_unit_test(test_read_fixture),
		cmocka_unit_test(test_read_missing),
		cmocka_unit_test(test_read_all_grows),
		cmocka_unit_test(test_read_all_limit),
		cmocka_unit_test(test_only_regular_files),
		cmocka_unit_test(test_text_too_big),
		cmocka_unit_test(test_text_read_in_background),
		cmocka_unit_test(test_text_read_abandon),
	};

	/* Writers into pipes whose reader is gone. */
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
