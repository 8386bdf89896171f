/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * libksyms-preload: the state behind the wrappers (preload.h): the device,
 * its snapshots, and the opens and stats that make them. What happens to the
 * descriptors afterwards is preload_fds.c.
 *
 * A snapshot (struct ksp_snap) is one open of the device: a hidden O_CLOEXEC
 * descriptor of it, kept so the BSD rule of one open per process holds and
 * the NetBSD lookups can be forwarded to the very open that produced the
 * bytes, the image's size, and the KIOCGADDR mapping once asked for. The
 * program sees read-only memfds (entries, one per descriptor number, dups
 * sharing one snapshot) holding the image.
 *
 * A stat() of the device must report the size the following open() will
 * see (GNU readelf compares them), so a stat while no snapshot is held
 * takes one and keeps it pending: the next open of the device in the
 * process adopts it, unless it is older than PENDING_TTL.
 *
 * Locking: one mutex for everything, never held across a read of the
 * device (that can take a while) nor across a call into a wrapper of ours:
 * internal descriptor calls are raw system calls or the next definitions.
 */
#include "preload.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <sys/ksyms.h>

#include "image.h"
#include "preload_state.h"

/* Our descriptors go high, out of the way of programs that dup2() onto
 * small numbers they think are free. */
#define HIDDEN_FD_MIN 256
#define PENDING_TTL_NS (5 * 1000000000LL)
#define NO_SYMBOL ((void *)1)

static pthread_once_t once = PTHREAD_ONCE_INIT;
static char dev_path[PATH_MAX];
static const char *dev_base;

/* The state: this file owns it; preload_fds.c goes through the functions
 * of preload_state.h. Everything is guarded by ksp_lock but ksp_active, a
 * summary published for the wrappers' lock-free ksp_idle(). */
struct ksp_entry {
	int fd;
	struct ksp_snap *s;
};

static pthread_mutex_t ksp_lock = PTHREAD_MUTEX_INITIALIZER;
static struct ksp_entry *ksp_ents;	/* descriptor numbers holding a snapshot */
static size_t ksp_n_ents;
static size_t cap_ents;
static struct ksp_snap *ksp_pend;	/* taken by a stat, for the next open */
static int ksp_pend_memfd = -1;		/* its image, hidden */
static long long pend_time;
static unsigned ksp_active;		/* entries + the pending one */

void *ksp_next(const char *name, void **slot)
{
	void *p = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
	int e;

	if (!p) {
		e = errno;
		p = dlsym(RTLD_NEXT, name);
		errno = e;
		__atomic_store_n(slot, p ? p : NO_SYMBOL, __ATOMIC_RELEASE);
	}
	return p == NO_SYMBOL ? NULL : p;
}

void ksp_state_lock(void)
{
	pthread_mutex_lock(&ksp_lock);
}

void ksp_state_unlock(void)
{
	pthread_mutex_unlock(&ksp_lock);
}

bool ksp_idle(void)
{
	return __atomic_load_n(&ksp_active, __ATOMIC_ACQUIRE) == 0;
}

void ksp_sys_close(int fd)
{
	int e = errno;

	syscall(SYS_close, fd);
	errno = e;
}

static void fork_prepare(void)
{
	pthread_mutex_lock(&ksp_lock);
}

static void fork_done(void)
{
	pthread_mutex_unlock(&ksp_lock);
}

static void configure(void)
{
	const char *p = secure_getenv("KSYMS_PRELOAD_DEVICE");
	const char *slash;

	if (!p || !*p || strlen(p) >= sizeof(dev_path))
		p = KSYMS_DEVICE;
	strcpy(dev_path, p);
	slash = strrchr(dev_path, '/');
	dev_base = slash ? slash + 1 : dev_path;
	/* A child forked while another thread held the ksp_lock must not
	 * inherit it held. */
	pthread_atfork(fork_prepare, fork_done, fork_done);
}

bool ksp_candidate(const char *path)
{
	const char *slash;

	if (!path)
		return false;
	pthread_once(&once, configure);
	slash = strrchr(path, '/');
	return *dev_base && strcmp(slash ? slash + 1 : path, dev_base) == 0;
}

int ksp_real_fstatat(int dirfd, const char *path, struct stat *st, int flags)
{
	int (*f)(int, const char *, struct stat *, int) = KSP_NEXT(fstatat);

	if (f)
		return f(dirfd, path, st, flags);
#ifdef SYS_newfstatat
	return (int)syscall(SYS_newfstatat, dirfd, path, st, flags);
#else
	errno = ENOSYS;
	return -1;
#endif
}

bool ksp_is_device(dev_t dev, ino_t ino)
{
	struct stat st;
	int e = errno;
	bool r;

	pthread_once(&once, configure);
	/* Each time: a restarted daemon makes a new node. */
	r = ksp_real_fstatat(AT_FDCWD, dev_path, &st, 0) == 0 &&
	    st.st_dev == dev && st.st_ino == ino;
	errno = e;
	return r;
}

static long long now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

/* Locked: ksp_active from the entries and the pending snapshot. */
static void ksp_publish(void)
{
	__atomic_store_n(&ksp_active, (unsigned)ksp_n_ents + (ksp_pend != NULL), __ATOMIC_RELEASE);
}

static void destroy(struct ksp_snap *s)
{
	int e = errno;

	if (s->devfd >= 0)
		ksp_sys_close(s->devfd);
	if (s->addr)
		munmap(s->addr, s->size);
	free(s);
	errno = e;
}

void ksp_put(void *ref)
{
	struct ksp_snap *s = ref;
	bool last;

	if (!s)
		return;
	pthread_mutex_lock(&ksp_lock);
	last = --s->refs == 0;
	pthread_mutex_unlock(&ksp_lock);
	if (last)
		destroy(s);
}

static struct ksp_entry *ksp_find(int fd)
{
	for (size_t i = 0; i < ksp_n_ents; i++)
		if (ksp_ents[i].fd == fd)
			return &ksp_ents[i];
	return NULL;
}

struct ksp_snap *ksp_snap_of(int fd)
{
	struct ksp_entry *e = ksp_find(fd);

	return e ? e->s : NULL;
}

/* Locked: room for one more entry, so that adding cannot fail later. */
int ksp_reserve(void)
{
	struct ksp_entry *p;
	size_t cap;

	if (ksp_n_ents < cap_ents)
		return 0;
	cap = cap_ents ? 2 * cap_ents : 4;
	p = realloc(ksp_ents, cap * sizeof(*p));
	if (!p)
		return -ENOMEM;
	ksp_ents = p;
	cap_ents = cap;
	return 0;
}

/* Locked; the caller's reference to s passes to the entry. */
void ksp_add(int fd, struct ksp_snap *s)
{
	ksp_ents[ksp_n_ents++] = (struct ksp_entry){ .fd = fd, .s = s };
	ksp_publish();
}

/* Locked: take the pending snapshot out; *fresh says if it may be used. */
struct ksp_snap *ksp_unpend(int *memfd, bool *fresh)
{
	struct ksp_snap *s = ksp_pend;

	*fresh = s && now_ns() - pend_time < PENDING_TTL_NS;
	*memfd = ksp_pend_memfd;
	ksp_pend = NULL;
	ksp_pend_memfd = -1;
	ksp_publish();
	return s;
}

/* Locked. */
struct ksp_snap *ksp_remove(int fd)
{
	struct ksp_entry *e = ksp_find(fd);
	struct ksp_snap *s;

	if (!e)
		return NULL;
	s = e->s;
	*e = ksp_ents[--ksp_n_ents];
	ksp_publish();
	return s;
}

/* Locked. Dups share a snapshot: only its last reference needs putting
 * after the real call (which closes the device), and a process holds few
 * snapshots, so gone[] fills only with that many. */
size_t ksp_remove_range(unsigned first, unsigned last, struct ksp_snap **gone, size_t max)
{
	size_t n_gone = 0;

	for (size_t i = 0; i < ksp_n_ents;) {
		struct ksp_snap *s = ksp_ents[i].s;

		if ((unsigned)ksp_ents[i].fd >= first && (unsigned)ksp_ents[i].fd <= last &&
		    (s->refs > 1 || n_gone < max)) {
			if (s->refs > 1)
				s->refs--;
			else
				gone[n_gone++] = s;
			ksp_ents[i] = ksp_ents[--ksp_n_ents];
		} else {
			i++;
		}
	}
	ksp_publish();
	return n_gone;
}

/* Locked. */
bool ksp_is_pending_memfd(int fd)
{
	return fd == ksp_pend_memfd;
}

/* Locked. */
void ksp_disown(int devfd)
{
	for (size_t i = 0; i < ksp_n_ents; i++)
		if (ksp_ents[i].s->devfd == devfd)
			ksp_ents[i].s->devfd = -1;
	if (ksp_pend && ksp_pend->devfd == devfd)
		ksp_pend->devfd = -1;
}

/* Locked. */
bool ksp_is_hidden(int fd)
{
	bool r = fd == ksp_pend_memfd || (ksp_pend && ksp_pend->devfd == fd);

	for (size_t i = 0; i < ksp_n_ents && !r; i++)
		r = ksp_ents[i].s->devfd == fd;
	return r;
}

static bool in_range(int fd, unsigned first, unsigned last)
{
	return fd >= 0 && (unsigned)fd >= first && (unsigned)fd <= last;
}

/* Locked. */
size_t ksp_hidden_in(unsigned first, unsigned last, int *out, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < ksp_n_ents; i++) {
		int d = ksp_ents[i].s->devfd;

		if (in_range(d, first, last) && n < max)
			out[n++] = d;
	}
	if (ksp_pend && n + 2 <= max) {
		if (in_range(ksp_pend->devfd, first, last))
			out[n++] = ksp_pend->devfd;
		if (in_range(ksp_pend_memfd, first, last))
			out[n++] = ksp_pend_memfd;
	}
	return n;
}

static void drop_pending(struct ksp_snap *s, int memfd)
{
	if (memfd >= 0)
		ksp_sys_close(memfd);
	ksp_put(s);
}

static int hide(int fd)
{
	int h = fcntl(fd, F_DUPFD_CLOEXEC, HIDDEN_FD_MIN);

	if (h < 0 && errno == EINVAL)	/* RLIMIT_NOFILE below the minimum */
		h = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	return h < 0 ? -errno : h;
}

/* A snapshot from devfd, a fresh open of the device (left open: the snap
 * keeps a duplicate), and the memfd holding its image. */
static int build(int devfd, struct ksp_snap **out, int *memfd)
{
	struct ksp_snap *s = calloc(1, sizeof(*s));
	int r;

	if (!s)
		return -ENOMEM;
	r = ksi_image_read(devfd, memfd, &s->size);
	if (r == 0) {
		s->devfd = hide(devfd);
		if (s->devfd < 0) {
			r = s->devfd;
			ksp_sys_close(*memfd);
		}
	}
	if (r) {
		free(s);
		return r;
	}
	s->refs = 1;
	*out = s;
	return 0;
}

/* Locked: make descriptor n (or a new one if n < 0) a read-only view of
 * memfd with the caller's O_CLOEXEC; returns the number or -errno. n, if
 * given, keeps its number and loses what it was (the device, usually). */
static int place(int n, int memfd, int oflags)
{
	int ro = ksi_reopen_rdonly(memfd, oflags);

	/* Without /proc: the memfd itself, which its seals keep unwritable. */
	if (ro < 0)
		ro = fcntl(memfd, (oflags & O_CLOEXEC) ? F_DUPFD_CLOEXEC : F_DUPFD, 0);
	if (ro < 0)
		return -errno;
	if (n < 0)
		return ro;
	if (syscall(SYS_dup3, ro, n, oflags & O_CLOEXEC) < 0) {
		n = -errno;
		ksp_sys_close(ro);
		return n;
	}
	ksp_sys_close(ro);
	return n;
}

/* fd (n, or a new descriptor if n < 0) becomes an entry for s, whose
 * reference it takes; the image comes from memfd, which is closed. */
static int install(int n, struct ksp_snap *s, int memfd, int oflags)
{
	int r;

	pthread_mutex_lock(&ksp_lock);
	r = ksp_reserve();
	if (r == 0)
		r = place(n, memfd, oflags);
	if (r >= 0)
		ksp_add(r, s);
	pthread_mutex_unlock(&ksp_lock);
	ksp_sys_close(memfd);
	if (r < 0)
		ksp_put(s);
	return r;
}

/* fd is an open of the device that just succeeded: turn it into the
 * snapshot in place. 0 or -errno (fd then still the device). */
static int adopt(int fd, int oflags)
{
	struct ksp_snap *s;
	int memfd, r;
	bool fresh;

	pthread_mutex_lock(&ksp_lock);
	s = ksp_unpend(&memfd, &fresh);
	pthread_mutex_unlock(&ksp_lock);
	if (s && !fresh) {
		drop_pending(s, memfd);
		s = NULL;
	}
	if (!s) {
		r = build(fd, &s, &memfd);
		if (r)
			return r;
	}
	r = install(fd, s, memfd, oflags);
	return r < 0 ? r : 0;
}

int ksp_opened(int fd, int err, int dirfd, const char *path, int oflags)
{
	int (*next_openat)(int, const char *, int, ...);
	struct ksp_snap *s;
	struct stat st;
	int memfd, r;
	bool fresh;

	if (fd >= 0) {
		if (fstat(fd, &st) != 0 || !ksp_is_device(st.st_dev, st.st_ino)) {
			errno = err;
			return fd;
		}
		r = adopt(fd, oflags);
		if (r < 0) {
			ksp_sys_close(fd);
			errno = -r;
			return -1;
		}
		errno = err;
		return fd;
	}
	/* The device allows one open per process: EBUSY may be our pending
	 * snapshot's open, from a stat() just before. */
	if (err != EBUSY || ksp_idle() || ksp_real_fstatat(dirfd, path, &st, 0) != 0 ||
	    !ksp_is_device(st.st_dev, st.st_ino)) {
		errno = err;
		return -1;
	}
	pthread_mutex_lock(&ksp_lock);
	s = ksp_unpend(&memfd, &fresh);
	pthread_mutex_unlock(&ksp_lock);
	if (!s) {
		errno = err;
		return -1;
	}
	if (fresh) {
		r = install(-1, s, memfd, oflags);
		if (r < 0) {
			errno = -r;
			return -1;
		}
		return r;
	}
	/* Stale: let it go and open the device for real, once. */
	drop_pending(s, memfd);
	next_openat = KSP_NEXT(openat);
	fd = next_openat(dirfd, path, oflags, 0);
	if (fd < 0)
		return -1;
	return ksp_opened(fd, err, dirfd, path, oflags);
}

FILE *ksp_fopened(FILE *fp, int err, const char *path, const char *mode)
{
	int oflags = O_RDONLY | (strchr(mode, 'e') ? O_CLOEXEC : 0), fd, r;
	int (*next_fclose)(FILE *);
	struct stat st;

	if (fp) {
		fd = fileno(fp);
		if (fd < 0 || fstat(fd, &st) != 0 || !ksp_is_device(st.st_dev, st.st_ino)) {
			errno = err;
			return fp;
		}
		/* The stream has read nothing yet: swapping the descriptor
		 * under it is invisible to it. */
		r = adopt(fd, oflags);
		if (r < 0) {
			next_fclose = KSP_NEXT(fclose);
			next_fclose(fp);
			errno = -r;
			return NULL;
		}
		errno = err;
		return fp;
	}
	fd = ksp_opened(-1, err, AT_FDCWD, path, oflags);
	if (fd < 0)
		return NULL;
	fp = fdopen(fd, mode);
	if (!fp) {
		err = errno;
		ksp_put(ksp_forget(fd));
		ksp_sys_close(fd);
		errno = err;
	}
	return fp;
}

int ksp_stat_size(const char *path, dev_t dev, ino_t ino, size_t *size)
{
	struct ksp_snap *s = NULL, *stale;
	int fd, memfd, hmemfd, r;
	bool fresh;

	(void)path;
	if (!ksp_is_device(dev, ino))
		return -ENODEV;
	pthread_mutex_lock(&ksp_lock);
	if (ksp_n_ents) {
		*size = ksp_ents[ksp_n_ents - 1].s->size;
		pthread_mutex_unlock(&ksp_lock);
		return 0;
	}
	if (ksp_pend && now_ns() - pend_time < PENDING_TTL_NS) {
		*size = ksp_pend->size;
		pthread_mutex_unlock(&ksp_lock);
		return 0;
	}
	stale = ksp_unpend(&memfd, &fresh);
	pthread_mutex_unlock(&ksp_lock);
	if (stale)
		drop_pending(stale, memfd);

	fd = (int)syscall(SYS_openat, AT_FDCWD, dev_path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	r = build(fd, &s, &memfd);
	ksp_sys_close(fd);
	if (r)
		return r;
	hmemfd = hide(memfd);
	ksp_sys_close(memfd);
	if (hmemfd < 0) {
		ksp_put(s);
		return hmemfd;
	}
	pthread_mutex_lock(&ksp_lock);
	if (ksp_pend) {		/* another thread was quicker: use its snapshot */
		stale = s;
		s = ksp_pend;
	} else {
		stale = NULL;
		ksp_pend = s;
		ksp_pend_memfd = hmemfd;
		pend_time = now_ns();
		ksp_publish();
	}
	*size = s->size;
	pthread_mutex_unlock(&ksp_lock);
	if (stale)
		drop_pending(stale, hmemfd);
	return 0;
}
