/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * dumpfile.c: --dump replaces a file only with a whole image. A write that
 * fails part way (here RLIMIT_FSIZE, as a full disk would) leaves the old
 * file and no temporary behind; devices are written in place, never
 * renamed over (as root that would replace /dev/null with a file).
 */
#include "daemon/dumpfile.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "shared/error.h"

#define IMAGE_SIZE (256 * 1024)

struct fixture {
	char dir[PATH_MAX];
	char path[PATH_MAX + 32];
	unsigned char *image;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	size_t i;

	if (!f)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "%s/ksymsd-dumpfile.XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/image.elf", f->dir);
	f->image = malloc(IMAGE_SIZE);
	if (!f->image)
		return -1;
	for (i = 0; i < IMAGE_SIZE; i++)
		f->image[i] = (unsigned char)(i * 7 + 1);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[PATH_MAX + 16];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		return -1;
	free(f->image);
	free(f);
	return 0;
}

static void write_text(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	assert_int_equal(fchmod(fd, mode), 0);
	assert_int_equal(close(fd), 0);
}

/* Does path hold exactly data[0..len)? */
static int holds(const char *path, const void *data, size_t len)
{
	unsigned char *buf = malloc(len + 1);
	FILE *f = fopen(path, "rb");
	size_t n;
	int same;

	assert_non_null(buf);
	if (!f) {
		free(buf);
		return 0;
	}
	n = fread(buf, 1, len + 1, f);
	fclose(f);
	same = n == len && memcmp(buf, data, len) == 0;
	free(buf);
	return same;
}

/* The names in dir, but "image.elf" and the links the tests make. */
static int leftovers(const char *dir)
{
	struct dirent *e;
	DIR *d = opendir(dir);
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d))) {
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") &&
		    strncmp(e->d_name, "image", 5) && strncmp(e->d_name, "link", 4)) {
			print_message("left behind: %s\n", e->d_name);
			n++;
		}
	}
	closedir(d);
	return n;
}

static void test_new_file(void **state)
{
	struct fixture *f = *state;
	struct ks_error err = { 0 };
	struct stat st;

	assert_int_equal(ks_dump_write(f->path, f->image, IMAGE_SIZE, &err), 0);
	assert_true(holds(f->path, f->image, IMAGE_SIZE));
	assert_int_equal(stat(f->path, &st), 0);
	/* Kernel addresses: the owner's alone. */
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(leftovers(f->dir), 0);
}

static void test_replace_keeps_mode(void **state)
{
	struct fixture *f = *state;
	struct ks_error err = { 0 };
	struct stat st;

	write_text(f->path, "an older and much shorter image", 0640);
	assert_int_equal(ks_dump_write(f->path, f->image, IMAGE_SIZE, &err), 0);
	assert_true(holds(f->path, f->image, IMAGE_SIZE));
	assert_int_equal(stat(f->path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640);
	assert_int_equal(leftovers(f->dir), 0);
}

/* The disk fills part way through: the old image stays, whole. */
static void test_failed_write_keeps_old(void **state)
{
	static const char old[] = "the previous image";
	struct fixture *f = *state;
	struct ks_error err = { 0 };
	struct rlimit saved, small = { 64 * 1024, 0 };
	void (*prev)(int);
	int r;

	write_text(f->path, old, 0600);
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &saved), 0);
	small.rlim_max = saved.rlim_max;
	prev = signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &small), 0);
	r = ks_dump_write(f->path, f->image, IMAGE_SIZE, &err);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &saved), 0);
	signal(SIGXFSZ, prev);

	assert_int_equal(r, -EFBIG);
	assert_non_null(strstr(err.msg, f->path));
	assert_null(strchr(err.msg, '\n'));
	assert_true(holds(f->path, old, strlen(old)));
	assert_int_equal(leftovers(f->dir), 0);
}

/* Devices are written in place: /dev/null stays a device, /dev/full says
 * ENOSPC. */
static void test_devices_in_place(void **state)
{
	struct fixture *f = *state;
	struct ks_error err = { 0 };
	struct stat st;

	assert_int_equal(ks_dump_write("/dev/null", f->image, IMAGE_SIZE, &err), 0);
	assert_int_equal(stat("/dev/null", &st), 0);
	assert_true(S_ISCHR(st.st_mode));
	if (stat("/dev/full", &st) == 0 && S_ISCHR(st.st_mode)) {
		assert_int_equal(ks_dump_write("/dev/full", f->image, IMAGE_SIZE, &err), -ENOSPC);
		assert_non_null(strstr(err.msg, "/dev/full"));
		assert_int_equal(stat("/dev/full", &st), 0);
		assert_true(S_ISCHR(st.st_mode));
	}
}

/* A symlink stays a symlink; its target (even a missing one) gets the image. */
static void test_symlink(void **state)
{
	struct fixture *f = *state;
	struct ks_error err = { 0 };
	char link[PATH_MAX + 32];
	struct stat st;

	snprintf(link, sizeof(link), "%s/link", f->dir);
	assert_int_equal(symlink("image.elf", link), 0);
	assert_int_equal(ks_dump_write(link, f->image, IMAGE_SIZE, &err), 0);
	assert_int_equal(lstat(link, &st), 0);
	assert_true(S_ISLNK(st.st_mode));
	assert_true(holds(f->path, f->image, IMAGE_SIZE));
	write_text(f->path, "old", 0600);
	assert_int_equal(ks_dump_write(link, f->image, IMAGE_SIZE, &err), 0);
	assert_int_equal(lstat(link, &st), 0);
	assert_true(S_ISLNK(st.st_mode));
	assert_true(holds(f->path, f->image, IMAGE_SIZE));
	assert_int_equal(leftovers(f->dir), 0);
}

static void test_missing_dir(void **state)
{
	struct fixture *f = *state;
	struct ks_error err = { 0 };
	char path[PATH_MAX + 64];

	snprintf(path, sizeof(path), "%s/no-such-dir/image.elf", f->dir);
	assert_int_equal(ks_dump_write(path, f->image, IMAGE_SIZE, &err), -ENOENT);
	assert_non_null(strstr(err.msg, path));
}

static void test_stdout(void **state)
{
	struct fixture *f = *state;
	struct ks_error err = { 0 };
	int fd, saved;

	fflush(stdout);
	fd = open(f->path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	saved = dup(STDOUT_FILENO);
	assert_true(saved >= 0);
	assert_int_equal(dup2(fd, STDOUT_FILENO), STDOUT_FILENO);
	close(fd);
	assert_int_equal(ks_dump_write("-", f->image, IMAGE_SIZE, &err), 0);
	assert_int_equal(dup2(saved, STDOUT_FILENO), STDOUT_FILENO);
	close(saved);
	assert_true(holds(f->path, f->image, IMAGE_SIZE));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_new_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_replace_keeps_mode, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failed_write_keeps_old, setup, teardown),
		cmocka_unit_test_setup_teardown(test_devices_in_place, setup, teardown),
		cmocka_unit_test_setup_teardown(test_symlink, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_dir, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stdout, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
