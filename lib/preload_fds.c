/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * libksyms-preload: what becomes of the snapshots' descriptors after the
 * open -- closes, duplicates, close_range, ioctls (preload.h).
 *
 * The program's descriptors are entries; ours (the device, a pending
 * memfd) are hidden: a close() of one is refused, close_range() steps
 * around them, and a dup2() onto one -- the program wants that number --
 * takes it, after which we only forget it.
 */
#include "preload.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <sys/ksyms.h>

#include "preload_state.h"

void *ksp_forget(int fd)
{
	struct ksp_snap *ref;
	bool fresh;
	int memfd;

	if (fd < 0)
		return NULL;
	ksp_state_lock();
	ref = ksp_remove(fd);
	if (!ref) {
		if (ksp_is_pending_memfd(fd))
			ref = ksp_unpend(&memfd, &fresh);	/* the real call closes memfd */
		else
			ksp_disown(fd);
	}
	ksp_state_unlock();
	return ref;
}

bool ksp_hidden(int fd)
{
	bool r;

	if (fd < 0)
		return false;
	ksp_state_lock();
	r = ksp_is_hidden(fd);
	ksp_state_unlock();
	return r;
}

void ksp_duped(int oldfd, int newfd)
{
	struct ksp_snap *s;
	int err = errno;

	ksp_state_lock();
	/* Room first, so that adding cannot fail. Out of memory: newfd still
	 * reads the image, but its ioctls go to the memfd (ENOTTY). */
	s = ksp_reserve() == 0 ? ksp_snap_of(oldfd) : NULL;
	if (s) {
		s->refs++;
		ksp_add(newfd, s);
	}
	ksp_state_unlock();
	errno = err;
}

#ifdef HAVE_CLOSE_RANGE
static int cmp_int(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

#define MAX_HIDDEN 64

/* close_range over a gap between our descriptors; a kernel without it
 * (before 5.9) gets one close() per number, up to the descriptor limit,
 * rather than a libc fallback that would not step around ours. */
static int close_gap(int (*next_close_range)(unsigned, unsigned, int), unsigned first,
		     unsigned last, int flags)
{
	struct rlimit rl;
	int r;

	if (next_close_range) {
		r = next_close_range(first, last, flags);
	} else {
		errno = ENOSYS;
		r = -1;
	}

	if (r == 0 || errno != ENOSYS)
		return r;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    rl.rlim_cur - 1 < last)
		last = (unsigned)(rl.rlim_cur - 1);
	for (unsigned fd = first; fd <= last && fd <= INT_MAX; fd++) {
		syscall(SYS_close, (int)fd);
		if (fd == last)
			break;
	}
	return 0;
}

int ksp_close_range(unsigned first, unsigned last, int flags)
{
	int (*next_close_range)(unsigned, unsigned, int) = KSP_NEXT(close_range);
	int hidden[MAX_HIDDEN], r = 0, e = 0;
	struct ksp_snap *gone[MAX_HIDDEN];
	size_t n_hidden, n_gone;
	unsigned cur = first;

	if (flags & CLOSE_RANGE_CLOEXEC) {	/* closes nothing now; ours are cloexec */
		if (next_close_range)
			return next_close_range(first, last, flags);
		errno = ENOSYS;
		return -1;
	}
	ksp_state_lock();
	n_hidden = ksp_hidden_in(first, last, hidden, MAX_HIDDEN);
	n_gone = ksp_remove_range(first, last, gone, MAX_HIDDEN);
	ksp_state_unlock();

	qsort(hidden, n_hidden, sizeof(*hidden), cmp_int);
	for (size_t i = 0; i < n_hidden && r == 0; i++) {
		if ((unsigned)hidden[i] > cur)
			r = close_gap(next_close_range, cur, (unsigned)hidden[i] - 1, flags);
		cur = (unsigned)hidden[i] + 1;
	}
	if (r == 0 && cur <= last)
		r = close_gap(next_close_range, cur, last, flags);
	e = errno;
	for (size_t i = 0; i < n_gone; i++)
		ksp_put(gone[i]);
	errno = e;
	return r;
}

#endif

int ksp_ioctl(int fd, unsigned long req, void *arg, int *ret)
{
	int (*next_ioctl)(int, unsigned long, ...);
	struct ksp_snap *s;
	int devfd;
	void *p;

	ksp_state_lock();
	s = ksp_snap_of(fd);
	if (s)
		s->refs++;
	ksp_state_unlock();
	if (!s)
		return 0;

	*ret = 0;
	switch (req) {
	case KIOCGSIZE_SIZE_T:
	case KIOCGSIZE_INT:
	case KIOCGADDR:
		/* The device would fault on a bad pointer; NULL at least is
		 * caught here. */
		if (!arg) {
			*ret = -1;
			errno = EFAULT;
		} else if (req == KIOCGSIZE_SIZE_T) {
			*(size_t *)arg = s->size;
		} else if (req == KIOCGSIZE_INT) {
			if (s->size > INT_MAX) {
				*ret = -1;
				errno = EOVERFLOW;
			} else {
				*(int *)arg = (int)s->size;
			}
		} else {
			ksp_state_lock();
			if (!s->addr) {
				p = mmap(NULL, s->size, PROT_READ, MAP_SHARED, fd, 0);
				if (p != MAP_FAILED)
					s->addr = p;
			}
			if (s->addr) {
				*(void **)arg = s->addr;
			} else {
				*ret = -1;	/* mmap's errno */
			}
			ksp_state_unlock();
		}
		break;
	default:
		ksp_state_lock();
		devfd = s->devfd;
		ksp_state_unlock();
		if (devfd < 0) {
			*ret = -1;
			errno = ENXIO;	/* the program closed the device under us */
			break;
		}
		next_ioctl = KSP_NEXT(ioctl);
		*ret = next_ioctl(devfd, req, arg);
	}
	ksp_put(s);
	return 1;
}
