/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * preload_probe MODE DEVICE REF: run by test_preload under
 * LD_PRELOAD=libksyms-preload.so with KSYMS_PRELOAD_DEVICE=DEVICE (a
 * regular file or a FIFO standing in for /dev/ksyms, whose last component
 * is "ksyms"); REF is a copy of the image it serves. Exits 0 if every check
 * of MODE holds, else 1 after saying which failed. Written as an ordinary
 * program that believes DEVICE is a BSD /dev/ksyms.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sys/ksyms.h>

#define CHECK(c)                                                                \
	do {                                                                    \
		if (!(c)) {                                                     \
			fprintf(stderr, "%s:%d: %s: failed: %s (errno %d: %s)\n", \
				__FILE__, __LINE__, mode, #c, errno, strerror(errno)); \
			exit(1);                                                \
		}                                                               \
	} while (0)

static const char *mode, *dev;
static unsigned char *ref;
static size_t ref_size;

static int count_fds(void)
{
	char path[64];
	int n = 0;

	for (int fd = 0; fd < 1024; fd++) {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		n += access(path, F_OK) == 0;
	}
	return n;
}

/* A descriptor the preload made: its memfd is sealed (a file is not). */
static int is_snapshot(int fd)
{
	int seals = fcntl(fd, F_GET_SEALS);

	return seals >= 0 && (seals & F_SEAL_WRITE);
}

static void load_ref(const char *path)
{
	struct stat st;
	int fd = open(path, O_RDONLY);

	CHECK(fd >= 0 && fstat(fd, &st) == 0);
	ref_size = (size_t)st.st_size;
	ref = malloc(ref_size);
	CHECK(ref && read(fd, ref, ref_size) == (ssize_t)ref_size);
	CHECK(!is_snapshot(fd));	/* the reference is left alone */
	close(fd);
}

/* Everything a tool might do with the descriptor. */
static void check_fd(int fd)
{
	unsigned char buf[256];
	struct ksyms_gvalue gv = { .kv_name = "x" };
	struct stat st;
	size_t size = 0;
	void *addr = NULL, *addr2 = NULL, *m;
	int isize = 0;

	CHECK(is_snapshot(fd));
	CHECK(fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (size_t)st.st_size == ref_size);
	CHECK((fcntl(fd, F_GETFL) & O_ACCMODE) == O_RDONLY);
	CHECK(write(fd, "x", 1) == -1 && errno == EBADF);
	CHECK(read(fd, buf, 64) == 64 && memcmp(buf, ref, 64) == 0);
	CHECK(lseek(fd, 0, SEEK_END) == (off_t)ref_size);
	CHECK(lseek(fd, 0, SEEK_SET) == 0);
	CHECK(pread(fd, buf, sizeof(buf), 1000) == sizeof(buf));
	CHECK(memcmp(buf, ref + 1000, sizeof(buf)) == 0);
	m = mmap(NULL, ref_size, PROT_READ, MAP_PRIVATE, fd, 0);
	CHECK(m != MAP_FAILED && memcmp(m, ref, ref_size) == 0);
	munmap(m, ref_size);
	CHECK(mmap(NULL, ref_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0) == MAP_FAILED);

	CHECK(ioctl(fd, KIOCGSIZE, &size) == 0 && size == ref_size);
	CHECK(ioctl(fd, KIOCGSIZE_INT, &isize) == 0 && (size_t)isize == ref_size);
	CHECK(ioctl(fd, KIOCGADDR, &addr) == 0 && addr);
	CHECK(memcmp(addr, ref, ref_size) == 0);
	CHECK(ioctl(fd, KIOCGADDR, &addr2) == 0 && addr2 == addr);
	CHECK(ioctl(fd, KIOCGSIZE, NULL) == -1 && errno == EFAULT);
	/* Forwarded to the "device", a plain file here: it knows no ioctl. */
	CHECK(ioctl(fd, KIOCGVALUE, &gv) == -1 && errno == ENOTTY);
}

static void mode_fd(void)
{
	int before = count_fds(), fd;
	void *addr = NULL;
	unsigned char vec;

	fd = open(dev, O_RDONLY);
	CHECK(fd >= 0);
	/* The snapshot's descriptor and, hidden, the device's. */
	CHECK(count_fds() == before + 2);
	check_fd(fd);
	CHECK(ioctl(fd, KIOCGADDR, &addr) == 0);
	CHECK(close(fd) == 0);
	CHECK(count_fds() == before);
	/* KIOCGADDR's mapping goes with the descriptor. */
	CHECK(mincore((void *)((uintptr_t)addr & ~(uintptr_t)4095), 1, &vec) == -1 &&
	      errno == ENOMEM);
	CHECK(ioctl(fd, KIOCGSIZE, &addr) == -1 && errno == EBADF);

	/* The other entry points. */
	fd = openat(AT_FDCWD, dev, O_RDONLY | O_CLOEXEC);
	CHECK(fd >= 0 && is_snapshot(fd) && (fcntl(fd, F_GETFD) & FD_CLOEXEC));
	CHECK(close(fd) == 0);
	fd = open64(dev, O_RDONLY);
	CHECK(fd >= 0 && is_snapshot(fd) && !(fcntl(fd, F_GETFD) & FD_CLOEXEC));
	CHECK(close(fd) == 0);
	CHECK(count_fds() == before);
	/* Writing is refused by the file itself: no snapshot. */
	fd = open(dev, O_RDWR);
	CHECK(fd >= 0 && !is_snapshot(fd));
	close(fd);
}

static void mode_stdio(void)
{
	int before = count_fds();
	unsigned char buf[64];
	size_t size = 0;
	FILE *f;

	f = fopen(dev, "rb");
	CHECK(f && is_snapshot(fileno(f)));
	CHECK(fread(buf, 1, sizeof(buf), f) == sizeof(buf) && memcmp(buf, ref, sizeof(buf)) == 0);
	CHECK(fseeko(f, 0, SEEK_END) == 0 && ftello(f) == (off_t)ref_size);
	CHECK(ioctl(fileno(f), KIOCGSIZE, &size) == 0 && size == ref_size);
	f = freopen(dev, "re", f);
	CHECK(f && is_snapshot(fileno(f)) && (fcntl(fileno(f), F_GETFD) & FD_CLOEXEC));
	CHECK(count_fds() == before + 2);
	f = freopen("/dev/null", "r", f);
	CHECK(f && !is_snapshot(fileno(f)));
	CHECK(count_fds() == before + 1);
	CHECK(fclose(f) == 0);
	f = fopen64(dev, "r");
	CHECK(f && is_snapshot(fileno(f)));
	CHECK(fclose(f) == 0);
	CHECK(count_fds() == before);
	f = fopen(dev, "r+");
	CHECK(f && !is_snapshot(fileno(f)));
	fclose(f);
}

static void mode_stat(const char *alias)
{
	struct stat st;
	int (*xstat)(int, const char *, struct stat *);
	struct statx stx;
	struct stat64 st64;
	int before = count_fds(), fd;

	/* A regular file of the image's size, whichever way it is asked. */
	CHECK(stat(dev, &st) == 0 && S_ISREG(st.st_mode) && (size_t)st.st_size == ref_size);
	CHECK(lstat(dev, &st) == 0 && S_ISREG(st.st_mode) && (size_t)st.st_size == ref_size);
	CHECK(fstatat(AT_FDCWD, dev, &st, 0) == 0 && (size_t)st.st_size == ref_size);
	CHECK(statx(AT_FDCWD, dev, 0, STATX_BASIC_STATS, &stx) == 0 &&
	      S_ISREG(stx.stx_mode) && stx.stx_size == ref_size);
	/* What programs built against glibc < 2.33 call (we export it). */
	xstat = (int (*)(int, const char *, struct stat *))dlsym(RTLD_DEFAULT, "__xstat");
	CHECK(xstat && xstat(1, dev, &st) == 0 && S_ISREG(st.st_mode) &&
	      (size_t)st.st_size == ref_size);
	CHECK(stat64(dev, &st64) == 0 && S_ISREG(st64.st_mode) && (size_t)st64.st_size == ref_size);
	/* The stat took a snapshot the next open will get. */
	CHECK(count_fds() == before + 2);
	fd = open(alias, O_RDONLY);
	CHECK(fd >= 0 && is_snapshot(fd));
	CHECK(count_fds() == before + 2);
	CHECK(stat(alias, &st) == 0 && (size_t)st.st_size == ref_size);
	CHECK(close(fd) == 0);
	CHECK(count_fds() == before);
	/* Errors pass through untouched. */
	errno = 0;
	CHECK(stat("/nonexistent/ksyms", &st) == -1 && errno == ENOENT);
	CHECK(statx(AT_FDCWD, "/nonexistent/ksyms", 0, STATX_BASIC_STATS, &stx) == -1 &&
	      errno == ENOENT);
}

static void mode_dup(void)
{
	int before = count_fds(), fd, fd2, fd3, nul, hidden = -1;
	char path[64], target[256];
	size_t size = 0;

	fd = open(dev, O_RDONLY);
	CHECK(fd >= 0);
	fd2 = dup(fd);
	CHECK(fd2 >= 0 && ioctl(fd2, KIOCGSIZE, &size) == 0 && size == ref_size);
	CHECK(close(fd) == 0);
	/* The dup keeps the snapshot (and the device) alive. */
	CHECK(ioctl(fd2, KIOCGSIZE, &size) == 0);
	CHECK(count_fds() == before + 2);
	fd3 = dup3(fd2, 100, O_CLOEXEC);
	CHECK(fd3 == 100 && ioctl(fd3, KIOCGSIZE_INT, &(int){ 0 }) == 0);
	/* dup2 over an entry: that number is something else now. */
	nul = open("/dev/null", O_RDONLY);
	CHECK(dup2(nul, fd2) == fd2);
	CHECK(ioctl(fd2, KIOCGSIZE, &size) == -1 && errno == ENOTTY);
	CHECK(close(fd2) == 0 && close(nul) == 0);
	/* Our own descriptor is not the program's to close. */
	for (int i = 3; i < 1024 && hidden < 0; i++) {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", i);
		ssize_t n = readlink(path, target, sizeof(target) - 1);

		if (n > 0 && i != fd3 && (target[n] = '\0', strstr(target, "ksyms")) &&
		    !strstr(target, "memfd"))
			hidden = i;
	}
	CHECK(hidden >= 0);
	CHECK(close(hidden) == -1 && errno == EBADF);
	CHECK(close(fd3) == 0);
	CHECK(count_fds() == before);

	/* Many dups of the first entry: the table grows under them. */
	{
		int dups[40];

		fd = open(dev, O_RDONLY);
		CHECK(fd >= 0);
		for (int i = 0; i < 40; i++) {
			dups[i] = dup(fd);
			CHECK(dups[i] >= 0);
			CHECK(ioctl(dups[i], KIOCGSIZE, &size) == 0 && size == ref_size);
		}
		for (int i = 0; i < 40; i++)
			CHECK(close(dups[i]) == 0);
		CHECK(ioctl(fd, KIOCGSIZE, &size) == 0 && size == ref_size);
		CHECK(close(fd) == 0);
		CHECK(count_fds() == before);
	}

	/* closefrom/close_range: entries go, the hidden device with them. */
	fd = open(dev, O_RDONLY);
	CHECK(fd >= 0);
	CHECK(close_range(3, ~0u, 0) == 0);
	CHECK(count_fds() == 3);
	fd = open(dev, O_RDONLY);
	CHECK(fd >= 0 && count_fds() == 5);
	closefrom(3);
	CHECK(count_fds() == 3);
	/* ... however many entries there are. */
	fd = open(dev, O_RDONLY);
	CHECK(fd >= 0);
	for (int i = 0; i < 100; i++)
		CHECK(dup(fd) >= 0);
	closefrom(3);
	CHECK(count_fds() == 3);
	nul = open("/dev/null", O_RDONLY);
	CHECK(nul >= 0);
	CHECK(dup2(nul, 90) == 90);
	CHECK(ioctl(90, KIOCGSIZE, &size) == -1 && errno == ENOTTY);
	closefrom(3);
	/* CLOSE_RANGE_CLOEXEC closes nothing. */
	fd = open(dev, O_RDONLY);
	CHECK(fd >= 0 && close_range(3, ~0u, CLOSE_RANGE_CLOEXEC) == 0);
	CHECK(ioctl(fd, KIOCGSIZE, &size) == 0 && close(fd) == 0 && count_fds() == 3);
}

static void mode_errno(void)
{
	int fd = open(dev, O_RDONLY);

	CHECK(fd >= 0 && is_snapshot(fd));
	/* With a snapshot held, the fast paths are off: errno still passes. */
	errno = 0;
	CHECK(open("/nonexistent/ksyms", O_RDONLY) == -1 && errno == ENOENT);
	CHECK(open("/nonexistent/other", O_RDONLY) == -1 && errno == ENOENT);
	CHECK(fopen("/nonexistent/ksyms", "r") == NULL && errno == ENOENT);
	CHECK(close(-1) == -1 && errno == EBADF);
	CHECK(close(987) == -1 && errno == EBADF);
	CHECK(ioctl(987, KIOCGSIZE, &(size_t){ 0 }) == -1 && errno == EBADF);
	CHECK(dup2(987, 988) == -1 && errno == EBADF);
	/* Success leaves errno alone, as libc does. */
	errno = 4242;
	int nul = open("/dev/null", O_RDONLY);

	CHECK(nul >= 0 && errno == 4242);
	CHECK(close(nul) == 0 && errno == 4242);
	CHECK(ioctl(0, KIOCGSIZE, &(size_t){ 0 }) == -1);
	CHECK(close(fd) == 0);
}

static void mode_elf(void)
{
	size_t n_mmap = 0, n_read = 0;
	int fd = open(dev, O_RDONLY);
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;
	Elf *e;

	CHECK(fd >= 0 && is_snapshot(fd) && elf_version(EV_CURRENT) != EV_NONE);
	e = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	CHECK(e && elf_kind(e) == ELF_K_ELF);
	while ((scn = elf_nextscn(e, scn)))
		if (gelf_getshdr(scn, &sh) && sh.sh_type == SHT_SYMTAB)
			n_mmap = sh.sh_size / sh.sh_entsize;
	elf_end(e);
	e = elf_memory((char *)ref, ref_size);
	while ((scn = elf_nextscn(e, scn)))
		if (gelf_getshdr(scn, &sh) && sh.sh_type == SHT_SYMTAB)
			n_read = sh.sh_size / sh.sh_entsize;
	elf_end(e);
	CHECK(n_mmap > 1000 && n_mmap == n_read);
	CHECK(close(fd) == 0);
}

static void *thread_main(void *arg)
{
	size_t size;

	(void)arg;
	for (int i = 0; i < 20; i++) {
		int fd = open(dev, O_RDONLY | O_CLOEXEC), fd2;

		if (fd < 0 || ioctl(fd, KIOCGSIZE, &size) != 0 || size != ref_size)
			return (void *)1;
		fd2 = dup(fd);
		if (close(fd) != 0 || ioctl(fd2, KIOCGSIZE, &size) != 0 || close(fd2) != 0)
			return (void *)1;
	}
	return NULL;
}

static void mode_threads(void)
{
	int before = count_fds(), status, fd;
	pthread_t t[4];
	void *bad;
	pid_t pid;

	for (int i = 0; i < 4; i++)
		CHECK(pthread_create(&t[i], NULL, thread_main, NULL) == 0);
	for (int i = 0; i < 4; i++)
		CHECK(pthread_join(t[i], &bad) == 0 && !bad);
	CHECK(count_fds() == before);
	/* A child inherits the descriptor and the preload's knowledge of it. */
	fd = open(dev, O_RDONLY);
	CHECK(fd >= 0);
	pid = fork();
	if (pid == 0) {
		size_t size = 0;

		_exit(ioctl(fd, KIOCGSIZE, &size) == 0 && size == ref_size && close(fd) == 0 ? 0 : 1);
	}
	CHECK(pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
	      WEXITSTATUS(status) == 0);
	CHECK(ioctl(fd, KIOCGSIZE, &(size_t){ 0 }) == 0 && close(fd) == 0);
}

/* DEVICE is a FIFO: one writer feeds it once; no stat first. */
static void mode_fifo(void)
{
	int fd = open(dev, O_RDONLY);

	CHECK(fd >= 0);
	check_fd(fd);
	CHECK(close(fd) == 0);
}

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: preload_probe MODE DEVICE REF [ALIAS]\n");
		return 2;
	}
	mode = argv[1];
	dev = argv[2];
	load_ref(argv[3]);
	if (!strcmp(mode, "fd"))
		mode_fd();
	else if (!strcmp(mode, "stdio"))
		mode_stdio();
	else if (!strcmp(mode, "stat") && argc > 4)
		mode_stat(argv[4]);
	else if (!strcmp(mode, "dup"))
		mode_dup();
	else if (!strcmp(mode, "errno"))
		mode_errno();
	else if (!strcmp(mode, "elf"))
		mode_elf();
	else if (!strcmp(mode, "threads"))
		mode_threads();
	else if (!strcmp(mode, "fifo"))
		mode_fifo();
	else
		return 2;
	free(ref);
	return 0;
}
