/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ksyms-file: drives the FUSE transport's file (ksymsd --transport=fuse) the
 * way programs use a regular file, for tests/integration/fuse-file.sh and
 * the VM's guest/fuse.sh. Prints a line per check; exits 0 only if all held.
 *
 *   ksyms-file check FILE IMAGE  fstat, KIOCGSIZE (both forms), read, pread,
 *                                lseek, mmap (private and shared) all give
 *                                IMAGE's bytes and size; the lookups and
 *                                KIOCGADDR answer EOPNOTSUPP, writes fail
 *   ksyms-file busy FILE         EBUSY from the same process and its
 *                                threads, fine from a child; close() then
 *                                open() at once succeeds, 20 times
 *   ksyms-file asuser UID FILE   drop to UID (no capabilities) and open:
 *                                prints the errno name, exit 0 if EPERM
 *   ksyms-file hold FILE OUT     open, read it all, print "held", wait for
 *                                a line on stdin, then read it again through
 *                                pread and mmap: exit 0 if nothing changed
 *                                (the first read goes to OUT)
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/ksyms.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/common/clientcheck.h"

static unsigned char *read_fd(int fd, size_t *len)
{
	size_t cap = 1 << 20, n = 0;
	unsigned char *buf = malloc(cap);
	ssize_t r;

	while (buf && (r = read(fd, buf + n, cap - n)) != 0) {
		if (r < 0) {
			free(buf);
			return NULL;
		}
		n += (size_t)r;
		if (n == cap) {
			unsigned char *nb = realloc(buf, cap *= 2);

			if (!nb)
				free(buf);
			buf = nb;
		}
	}
	*len = n;
	return buf;
}

static unsigned char *read_path(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	unsigned char *b;

	if (fd < 0)
		return NULL;
	b = read_fd(fd, len);
	close(fd);
	return b;
}

/* Every way of reading a regular file agrees with the image. */
static int cmd_check(const char *file, const char *image)
{
	size_t len, got_len, sz = 0;
	unsigned char *want = read_path(image, &len), *got, buf[4096];
	struct stat st;
	int fd, isz = 0, wfd;
	void *p;

	if (!want) {
		printf("FAIL: %s: %s\n", image, strerror(errno));
		return 1;
	}
	fd = open(file, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		printf("FAIL: open %s: %s\n", file, errname(errno));
		return 1;
	}
	CHECK(fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (size_t)st.st_size == len,
	      "fstat: a regular file of the image's size (%lld, want %zu)", (long long)st.st_size,
	      len);
	CHECK(ioctl(fd, KIOCGSIZE_SIZE_T, &sz) == 0 && sz == len, "KIOCGSIZE (size_t): %zu", sz);
	CHECK(ioctl(fd, KIOCGSIZE_INT, &isz) == 0 && (size_t)isz == len, "KIOCGSIZE (int): %d",
	      isz);
	got = read_fd(fd, &got_len);
	CHECK(got && got_len == len && memcmp(got, want, len) == 0,
	      "read() to EOF gives the image's bytes (%zu)", got_len);
	free(got);
	CHECK(lseek(fd, 0, SEEK_END) == (off_t)len, "lseek(SEEK_END) is the size");
	/* pread at offsets out of order, across page edges. */
	{
		int ok = 1;

		for (size_t off = len - 1000; off > 0 && ok; off = off > 99991 ? off - 99991 : 0) {
			ssize_t n = pread(fd, buf, sizeof(buf), (off_t)off);
			size_t w = len - off < sizeof(buf) ? len - off : sizeof(buf);

			ok = n == (ssize_t)w && memcmp(buf, want + off, w) == 0;
		}
		CHECK(ok, "pread at descending offsets gives the bytes at them");
	}
	CHECK(lseek(fd, 12345, SEEK_SET) == 12345 && read(fd, buf, 100) == 100 &&
		      memcmp(buf, want + 12345, 100) == 0,
	      "lseek(SEEK_SET) then read()");
	p = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
	CHECK(p != MAP_FAILED && memcmp(p, want, len) == 0, "mmap(MAP_PRIVATE) maps the image");
	if (p != MAP_FAILED)
		munmap(p, len);
	p = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
	CHECK(p != MAP_FAILED && memcmp(p, want, len) == 0, "mmap(MAP_SHARED) maps the image");
	if (p != MAP_FAILED)
		munmap(p, len);
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	CHECK(p == MAP_FAILED, "a writable shared mapping is refused (%s)",
	      p == MAP_FAILED ? errname(errno) : "mapped");
	if (p != MAP_FAILED)
		munmap(p, len);
	{
		struct ksyms_gvalue gv = { .kv_name = "_text" };
		struct ksyms_gsymbol gs = { .kg_name = "_text" };
		void *addr = NULL;
		int r1 = ioctl(fd, KIOCGVALUE, &gv), e1 = errno;
		int r2 = ioctl(fd, KIOCGSYMBOL, &gs), e2 = errno;
		int r3 = ioctl(fd, KIOCGADDR, &addr), e3 = errno;
		int r4 = ioctl(fd, _IOR('l', 99, int), &isz), e4 = errno;

		CHECK(r1 < 0 && e1 == EOPNOTSUPP, "KIOCGVALUE: %s", r1 < 0 ? errname(e1) : "OK");
		CHECK(r2 < 0 && e2 == EOPNOTSUPP, "KIOCGSYMBOL: %s", r2 < 0 ? errname(e2) : "OK");
		CHECK(r3 < 0 && e3 == EOPNOTSUPP, "KIOCGADDR: %s", r3 < 0 ? errname(e3) : "OK");
		CHECK(r4 < 0 && e4 == ENOTTY, "an unknown request: %s",
		      r4 < 0 ? errname(e4) : "OK");
	}
	close(fd);
	wfd = open(file, O_WRONLY | O_CLOEXEC);
	CHECK(wfd < 0 && (errno == EROFS || errno == EACCES), "an open for writing fails (%s)",
	      wfd < 0 ? errname(errno) : "OK");
	if (wfd >= 0)
		close(wfd);
	free(want);
	return failures != 0;
}

static const char *busy_file;

static void *thread_open(void *arg)
{
	int fd = open(busy_file, O_RDONLY | O_CLOEXEC);

	*(int *)arg = fd < 0 ? errno : 0;
	if (fd >= 0)
		close(fd);
	return NULL;
}

static int cmd_busy(const char *file)
{
	int fd, fd2, e = -1, status, i, reopened = 0;
	pthread_t t;
	pid_t pid;

	busy_file = file;
	fd = open(file, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		printf("FAIL: open: %s\n", errname(errno));
		return 1;
	}
	fd2 = open(file, O_RDONLY | O_CLOEXEC);
	CHECK(fd2 < 0 && errno == EBUSY, "a second open of the process: %s",
	      fd2 < 0 ? errname(errno) : "OK");
	pthread_create(&t, NULL, thread_open, &e);
	pthread_join(t, NULL);
	CHECK(e == EBUSY, "an open from another thread: %s", errname(e));
	pid = fork();
	if (pid == 0) {
		/* The child has the parent's descriptor, but not its open. */
		int cfd = open(file, O_RDONLY | O_CLOEXEC);

		_exit(cfd < 0 ? 1 : 0);
	}
	CHECK(pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
		      WEXITSTATUS(status) == 0,
	      "another process opens meanwhile");
	close(fd);
	for (i = 0; i < 20; i++) {
		fd = open(file, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			break;
		reopened++;
		close(fd);
	}
	CHECK(reopened == 20, "close() then open() at once, 20 times: %d (%s)", reopened,
	      reopened == 20 ? "OK" : errname(errno));
	return failures != 0;
}

static int cmd_asuser(const char *uid_s, const char *file)
{
	uid_t uid = (uid_t)strtoul(uid_s, NULL, 10);
	int fd;

	if (setgroups(0, NULL) < 0 || setgid((gid_t)uid) < 0 || setuid(uid) < 0) {
		printf("setup: %s\n", strerror(errno));
		return 2;
	}
	fd = open(file, O_RDONLY | O_CLOEXEC);
	printf("open: %s\n", fd < 0 ? errname(errno) : "OK");
	return fd < 0 && errno == EPERM ? 0 : 1;
}

static int cmd_hold(const char *file, const char *out)
{
	size_t len, len2;
	unsigned char *first, *again;
	char line[64];
	struct stat st;
	FILE *f;
	void *p;
	int fd;

	fd = open(file, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		printf("open: %s\n", errname(errno));
		return 1;
	}
	first = read_fd(fd, &len);
	if (!first)
		return 1;
	f = fopen(out, "w");
	if (!f || fwrite(first, 1, len, f) != len || fclose(f) != 0)
		return 1;
	printf("held %zu\n", len);
	fflush(stdout);
	if (!fgets(line, sizeof(line), stdin))
		return 1;
	CHECK(fstat(fd, &st) == 0 && (size_t)st.st_size == len, "fstat still says %zu", len);
	lseek(fd, 0, SEEK_SET);
	again = read_fd(fd, &len2);
	CHECK(again && len2 == len && memcmp(first, again, len) == 0, "read again: the same bytes");
	p = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
	CHECK(p != MAP_FAILED && memcmp(p, first, len) == 0, "mapped: the same bytes");
	if (p != MAP_FAILED)
		munmap(p, len);
	free(again);
	free(first);
	close(fd);
	return failures != 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 4 && !strcmp(argv[1], "check"))
		return cmd_check(argv[2], argv[3]);
	if (argc == 3 && !strcmp(argv[1], "busy"))
		return cmd_busy(argv[2]);
	if (argc == 4 && !strcmp(argv[1], "asuser"))
		return cmd_asuser(argv[2], argv[3]);
	if (argc == 4 && !strcmp(argv[1], "hold"))
		return cmd_hold(argv[2], argv[3]);
	fprintf(stderr, "usage: ksyms-file check FILE IMAGE | busy FILE | asuser UID FILE | "
			"hold FILE OUT\n");
	return 2;
}
