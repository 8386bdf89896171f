/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vm-dev: drives /dev/ksyms the way BSD clients do, for the guest tests.
 * Each subcommand prints what it saw and exits 0 only if the device behaved.
 *
 *   vm-dev size                 KIOCGSIZE (both encodings) == bytes read
 *   vm-dev cat OUT              read the whole image (128 KiB reads) to OUT
 *   vm-dev busy                 one open per process: EBUSY from the same
 *                               process and its threads, fine from another
 *   vm-dev lookup KALLSYMS      NetBSD lookups agree with a kallsyms copy;
 *                               ENOENT, the page-edge name, EINVAL, ENOTTY,
 *                               KIOCGADDR's ENOTSUP
 *   vm-dev asuser UID           drop to UID (no capabilities), open: prints
 *                               the errno name, exit 0 if EPERM
 *   vm-dev hold OUT             open, read 64 KiB, print "held", wait for a
 *                               line on stdin, read the rest into OUT
 *   vm-dev killers N            N children each open and read part of the
 *                               image, then are SIGKILLed mid-read
 *   vm-dev parallel N PREFIX    N processes read the image at once into
 *                               PREFIX.0 ... PREFIX.N-1
 *   vm-dev orphan               open, read 4 KiB, print "ready", wait for a
 *                               line, read again: prints the errno name
 * The device is $KSYMS_DEV or /dev/ksyms.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/ksyms.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/common/clientcheck.h"

static const char *dev;
static int open_dev(void)
{
	return open(dev, O_RDONLY | O_CLOEXEC);
}

/* Read to EOF in 128 KiB reads; returns bytes or -errno. */
static long read_to(int fd, int out)
{
	static char buf[128 << 10];
	long total = 0;
	ssize_t r;

	while ((r = read(fd, buf, sizeof(buf))) > 0) {
		if (out >= 0 && write(out, buf, (size_t)r) != r)
			return -EIO;
		total += r;
	}
	return r < 0 ? -errno : total;
}

static int cmd_size(void)
{
	size_t size = 0;
	int isize = 0, fd = open_dev();
	long got;

	if (fd < 0) {
		printf("open: %s\n", errname(errno));
		return 1;
	}
	CHECK(ioctl(fd, KIOCGSIZE_SIZE_T, &size) == 0, "KIOCGSIZE (size_t) = %zu", size);
	CHECK(ioctl(fd, KIOCGSIZE_INT, &isize) == 0 && (size_t)isize == size,
	      "KIOCGSIZE_INT = %d", isize);
	got = read_to(fd, -1);
	CHECK(got == (long)size, "read %ld bytes", got);
	close(fd);
	return failures;
}

static int cmd_cat(const char *out)
{
	int fd = open_dev(), o;
	long got;

	if (fd < 0) {
		printf("open: %s\n", errname(errno));
		return 1;
	}
	o = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	got = read_to(fd, o);
	close(o);
	close(fd);
	printf("%ld\n", got);
	return got > 0 ? 0 : 1;
}

static void *open_in_thread(void *arg)
{
	int fd = open_dev();

	*(int *)arg = fd < 0 ? errno : 0;
	if (fd >= 0)
		close(fd);
	return NULL;
}

static int cmd_busy(void)
{
	int fd = open_dev(), fd2, e, status;
	pthread_t t;
	pid_t child;

	if (fd < 0) {
		printf("open: %s\n", errname(errno));
		return 1;
	}
	fd2 = open_dev();
	e = fd2 < 0 ? errno : 0;
	CHECK(fd2 < 0 && e == EBUSY, "second open, same thread: %s", errname(e));
	if (fd2 >= 0)
		close(fd2);
	pthread_create(&t, NULL, open_in_thread, &e);
	pthread_join(t, NULL);
	CHECK(e == EBUSY, "second open, another thread: %s", errname(e));
	child = fork();
	if (child == 0) {
		int cfd = open_dev();

		_exit(cfd < 0 ? 1 : read_to(cfd, -1) > 0 ? 0 : 2);
	}
	waitpid(child, &status, 0);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	      "another process opens and reads meanwhile (status %d)", status);
	close(fd);
	fd2 = open_dev();
	CHECK(fd2 >= 0, "open again after close: %s", errname(fd2 < 0 ? errno : 0));
	if (fd2 >= 0)
		close(fd2);
	return failures;
}

struct ksym {
	unsigned long long addr;
	char type;
	char name[512];
	int global, dups;
};

static int cmd_lookup(const char *kallsyms)
{
	static struct ksym syms[64];
	int n = 0, fd, lines = 0, e;
	char line[1024], *page;
	FILE *f = fopen(kallsyms, "r");
	long pagesz = sysconf(_SC_PAGESIZE);

	if (!f || (fd = open_dev()) < 0) {
		printf("setup: %s\n", strerror(errno));
		return 1;
	}
	/* Every 2000th line, module lines included: a spread of symbols. */
	while (fgets(line, sizeof(line), f) && n < 64) {
		if (lines++ % 2000 == 0 && sscanf(line, "%llx %c %511s", &syms[n].addr, &syms[n].type,
						  syms[n].name) == 3)
			n++;
	}
	/* Which of these names are unique, and whether a global exists. */
	rewind(f);
	while (fgets(line, sizeof(line), f)) {
		char type, name[512];
		unsigned long long addr;

		if (sscanf(line, "%llx %c %511s", &addr, &type, name) != 3)
			continue;
		for (int i = 0; i < n; i++)
			if (strcmp(name, syms[i].name) == 0) {
				syms[i].dups++;
				if (type >= 'A' && type <= 'Z') {
					syms[i].global = 1;
					syms[i].addr = addr;	/* the global wins */
				}
			}
	}
	fclose(f);
	for (int i = 0; i < n; i++) {
		struct ksyms_gvalue gv = { .kv_name = syms[i].name };
		struct ksyms_gsymbol gs = { .kg_name = syms[i].name };
		struct ksyms_ogsymbol og = { .kg_name = syms[i].name };
		unsigned long oval = 0;
		Elf_Sym osym;
		int r1, r2, r3, r4;

		if (syms[i].dups > 1 && !syms[i].global)
			continue;	/* several locals: any of them is right */
		r1 = ioctl(fd, KIOCGVALUE, &gv);
		r2 = ioctl(fd, KIOCGSYMBOL, &gs);
		og.kg_value = &oval;
		r3 = ioctl(fd, OKIOCGVALUE, &og);
		og.kg_sym = &osym;
		r4 = ioctl(fd, OKIOCGSYMBOL, &og);
		CHECK(r1 == 0 && r2 == 0 && r3 == 0 && r4 == 0 && gv.kv_value == syms[i].addr &&
			      gs.kg_sym.st_value == syms[i].addr && oval == syms[i].addr &&
			      osym.st_value == syms[i].addr,
		      "%s = %llx (got %llx %llx %lx %llx; %d %d %d %d)", syms[i].name,
		      syms[i].addr, (unsigned long long)gv.kv_value,
		      (unsigned long long)gs.kg_sym.st_value, oval,
		      (unsigned long long)osym.st_value, r1, r2, r3, r4);
	}
	{
		struct ksyms_gvalue gv = { .kv_name = "no_such_symbol_in_any_kernel_xyzzy" };

		e = ioctl(fd, KIOCGVALUE, &gv) < 0 ? errno : 0;
		CHECK(e == ENOENT, "unknown name: %s", errname(e));
	}
	/* A name that ends on the last byte before an unmapped page. */
	page = mmap(NULL, (size_t)pagesz * 2, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		    -1, 0);
	munmap(page + pagesz, (size_t)pagesz);
	{
		const char *name = syms[0].name;
		size_t len = strlen(name) + 1;
		char *at = page + pagesz - len;
		struct ksyms_gvalue gv = { .kv_name = at };

		memcpy(at, name, len);
		e = ioctl(fd, KIOCGVALUE, &gv) < 0 ? errno : 0;
		CHECK(e == 0 && gv.kv_value == syms[0].addr, "name ending at a page edge: %s %llx",
		      errname(e), (unsigned long long)gv.kv_value);
	}
	/* 512 bytes without a NUL (then the unmapped page): EINVAL. */
	{
		char *at = page + pagesz - 512;
		struct ksyms_gvalue gv = { .kv_name = at };

		memset(at, 'x', 512);
		e = ioctl(fd, KIOCGVALUE, &gv) < 0 ? errno : 0;
		CHECK(e == EINVAL, "512 bytes without NUL: %s", errname(e));
		at = page + 64;
		memset(at, 'y', 600);
		gv.kv_name = at;
		e = ioctl(fd, KIOCGVALUE, &gv) < 0 ? errno : 0;
		CHECK(e == EINVAL, "600 bytes without NUL, all mapped: %s", errname(e));
	}
	{
		void *addr = NULL;

		e = ioctl(fd, KIOCGADDR, &addr) < 0 ? errno : 0;
		CHECK(e == ENOTSUP, "KIOCGADDR: %s (the client library maps it)", errname(e));
		e = ioctl(fd, _IO('l', 99)) < 0 ? errno : 0;
		CHECK(e == ENOTTY, "unknown ioctl: %s", errname(e));
	}
	close(fd);
	return failures;
}

static int cmd_asuser(int uid)
{
	int fd;

	if (setgroups(0, NULL) < 0 || setgid((gid_t)uid) < 0 || setuid((uid_t)uid) < 0) {
		printf("drop: %s\n", strerror(errno));
		return 2;
	}
	fd = open_dev();
	printf("%s\n", errname(fd < 0 ? errno : 0));
	if (fd >= 0)
		close(fd);
	return fd < 0 && errno == EPERM ? 0 : 1;
}

static int cmd_hold(const char *out)
{
	char buf[64 << 10], line[16];
	int fd = open_dev(), o;
	ssize_t r;
	long rest;

	if (fd < 0) {
		printf("open: %s\n", errname(errno));
		return 1;
	}
	o = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	r = read(fd, buf, sizeof(buf));
	if (r <= 0 || write(o, buf, (size_t)r) != r)
		return 1;
	printf("held\n");
	fflush(stdout);
	if (!fgets(line, sizeof(line), stdin))
		return 1;
	rest = read_to(fd, o);
	close(o);
	close(fd);
	return rest >= 0 ? 0 : 1;
}

static int cmd_killers(int n)
{
	for (int i = 0; i < n; i++) {
		int p[2], status;
		char c;
		pid_t child;

		if (pipe(p) < 0)
			return 1;
		child = fork();
		if (child == 0) {
			char buf[8192];
			int fd = open_dev();

			if (fd < 0 || read(fd, buf, sizeof(buf)) <= 0)
				_exit(1);
			(void)!write(p[1], "r", 1);
			/* Keep reading slowly until killed. */
			for (;;) {
				if (read(fd, buf, 16) <= 0)
					pause();
				usleep(1000);
			}
		}
		close(p[1]);
		if (read(p[0], &c, 1) != 1) {
			printf("child %d did not read\n", i);
			failures++;
		}
		kill(child, SIGKILL);
		waitpid(child, &status, 0);
		close(p[0]);
	}
	printf("killed %d readers mid-read\n", n);
	return failures;
}

static int cmd_parallel(int n, const char *prefix)
{
	int bad = 0;

	for (int i = 0; i < n; i++) {
		if (fork() == 0) {
			char path[4096];
			int fd = open_dev(), o;
			long got;

			snprintf(path, sizeof(path), "%s.%d", prefix, i);
			o = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
			got = fd < 0 ? -errno : read_to(fd, o);
			_exit(got > 0 ? 0 : 1);
		}
	}
	for (int i = 0; i < n; i++) {
		int status;

		wait(&status);
		bad += !(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	printf("%d of %d readers failed\n", bad, n);
	return bad;
}

static int cmd_orphan(void)
{
	char buf[4096], line[16];
	int fd = open_dev();
	ssize_t r;

	if (fd < 0 || read(fd, buf, sizeof(buf)) <= 0) {
		printf("open/read: %s\n", errname(errno));
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	if (!fgets(line, sizeof(line), stdin))
		return 1;
	r = read(fd, buf, sizeof(buf));
	printf("%s\n", r < 0 ? errname(errno) : "read succeeded");
	close(fd);
	return r < 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
	dev = getenv("KSYMS_DEV") ? getenv("KSYMS_DEV") : KSYMS_DEVICE;
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc >= 2 && !strcmp(argv[1], "size"))
		return cmd_size();
	if (argc >= 3 && !strcmp(argv[1], "cat"))
		return cmd_cat(argv[2]);
	if (argc >= 2 && !strcmp(argv[1], "busy"))
		return cmd_busy();
	if (argc >= 3 && !strcmp(argv[1], "lookup"))
		return cmd_lookup(argv[2]);
	if (argc >= 3 && !strcmp(argv[1], "asuser"))
		return cmd_asuser(atoi(argv[2]));
	if (argc >= 3 && !strcmp(argv[1], "hold"))
		return cmd_hold(argv[2]);
	if (argc >= 3 && !strcmp(argv[1], "killers"))
		return cmd_killers(atoi(argv[2]));
	if (argc >= 4 && !strcmp(argv[1], "parallel"))
		return cmd_parallel(atoi(argv[2]), argv[3]);
	if (argc >= 2 && !strcmp(argv[1], "orphan"))
		return cmd_orphan();
	fprintf(stderr, "usage: see the comment at the top of vm-dev.c\n");
	return 2;
}
