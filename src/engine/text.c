/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Reading a kernel text whole, on a thread.
 *
 * procfs reports no size, so the text goes into one reserved private
 * mapping that is filled and then shrunk to fit: it never moves while it
 * grows, and its pages go back to the kernel when it is released instead of
 * lingering in malloc's arenas.
 */
#include "text.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* How often the reader tells a waiting caller that more has arrived. */
#define PUBLISH_EVERY ((size_t)64 << 10)

struct ks_text_read {
	int fd;
	pthread_t thread;
	char *buf;		/* KS_TEXT_MAX bytes reserved */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	size_t filled;		/* under lock: bytes the caller may look at */
	bool done;		/* under lock: the read has ended */
	atomic_bool stop;	/* the caller has given up on the text */
	int error;		/* errno, once done */
	const struct ks_root *root;	/* for messages */
	const char *rel;
};

static void publish(struct ks_text_read *rd, size_t filled, bool done, int error)
{
	pthread_mutex_lock(&rd->lock);
	rd->filled = filled;
	rd->done = done;
	rd->error = error;
	pthread_cond_signal(&rd->cond);
	pthread_mutex_unlock(&rd->lock);
}

static void *reader_main(void *arg)
{
	struct ks_text_read *rd = arg;
	size_t len = 0, published = 0;
	ssize_t r;

	for (;;) {
		/* Keep one byte for the terminating NUL. */
		if (len == KS_TEXT_MAX - 1) {
			publish(rd, len, true, EFBIG);
			return NULL;
		}
		r = atomic_load_explicit(&rd->stop, memory_order_relaxed)
			    ? 0 : read(rd->fd, rd->buf + len, KS_TEXT_MAX - 1 - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			rd->buf[len] = '\0';
			publish(rd, len, true, r < 0 ? errno : 0);
			return NULL;
		}
		len += (size_t)r;
		if (len - published >= PUBLISH_EVERY) {
			publish(rd, len, false, 0);
			published = len;
		}
	}
}

static void text_read_free(struct ks_text_read *rd)
{
	if (rd->buf)
		munmap(rd->buf, KS_TEXT_MAX);
	if (rd->fd >= 0)
		close(rd->fd);
	pthread_mutex_destroy(&rd->lock);
	pthread_cond_destroy(&rd->cond);
	free(rd);
}

int ks_text_read_start(struct ks_text_read **out, const struct ks_root *root, const char *rel,
		       struct ks_error *err)
{
	int fd = ks_root_open_file(root, rel, err);
	struct stat st;

	*out = NULL;
	if (fd < 0)
		return fd;
	/* procfs says 0; a file in a tree that says more than the limit is
	 * refused before it is read. */
	if (fstat(fd, &st) == 0 && (size_t)st.st_size > KS_TEXT_MAX - 1) {
		close(fd);
		return ks_error_set(err, EFBIG, "%s/%s: larger than the limit of %zu MiB", root->path,
				    rel, KS_TEXT_MAX >> 20);
	}
	return ks_text_read_start_fd(out, fd, root, rel, err);
}

int ks_text_read_start_fd(struct ks_text_read **out, int fd, const struct ks_root *root,
			  const char *rel, struct ks_error *err)
{
	struct ks_text_read *rd = calloc(1, sizeof(*rd));
	int r;

	*out = NULL;
	if (!rd) {
		close(fd);
		return ks_error_set(err, ENOMEM, "out of memory");
	}
	pthread_mutex_init(&rd->lock, NULL);
	pthread_cond_init(&rd->cond, NULL);
	rd->root = root;
	rd->rel = rel;
	rd->fd = fd;
	rd->buf = mmap(NULL, KS_TEXT_MAX, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (rd->buf == MAP_FAILED) {
		rd->buf = NULL;
		r = ks_error_set(err, ENOMEM, "%s/%s: cannot reserve memory", root->path, rel);
		goto fail;
	}
	r = pthread_create(&rd->thread, NULL, reader_main, rd);
	if (r) {
		r = ks_error_set(err, r, "cannot start a reader thread: %s", strerror(r));
		goto fail;
	}
	*out = rd;
	return 0;
fail:
	text_read_free(rd);
	return r;
}

bool ks_text_read_wait(struct ks_text_read *rd, size_t seen, const char **data, size_t *avail)
{
	bool done;

	pthread_mutex_lock(&rd->lock);
	while (!rd->done && rd->filled <= seen)
		pthread_cond_wait(&rd->cond, &rd->lock);
	*avail = rd->filled;
	done = rd->done;
	pthread_mutex_unlock(&rd->lock);
	*data = rd->buf;
	return done;
}

int ks_text_read_finish(struct ks_text_read *rd, struct ks_text *text, struct ks_error *err)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE), fit;
	void *shrunk;
	int r = 0;

	memset(text, 0, sizeof(*text));
	pthread_join(rd->thread, NULL);
	if (rd->error == EFBIG) {
		r = ks_error_set(err, EFBIG, "%s/%s: larger than the limit of %zu MiB",
				 rd->root->path, rd->rel, KS_TEXT_MAX >> 20);
		goto out;
	}
	if (rd->error) {
		r = ks_error_set(err, rd->error, "%s/%s: %s", rd->root->path, rd->rel,
				 strerror(rd->error));
		goto out;
	}
	text->data = rd->buf;
	text->len = rd->filled;
	text->map_len = KS_TEXT_MAX;
	rd->buf = NULL;
	/* Give back the reservation beyond the text. */
	fit = (text->len + 1 + page - 1) / page * page;
	shrunk = mremap(text->data, text->map_len, fit, 0);
	if (shrunk != MAP_FAILED)
		text->map_len = fit;
out:
	text_read_free(rd);
	return r;
}

void ks_text_read_abandon(struct ks_text_read *rd)
{
	atomic_store(&rd->stop, true);
	pthread_join(rd->thread, NULL);
	text_read_free(rd);
}

int ks_text_read(const struct ks_root *root, const char *rel, struct ks_text *text,
		 struct ks_error *err)
{
	struct ks_text_read *rd;
	int r = ks_text_read_start(&rd, root, rel, err);

	if (r < 0) {
		memset(text, 0, sizeof(*text));
		return r;
	}
	return ks_text_read_finish(rd, text, err);
}

bool ks_text_equal(const struct ks_text *a, const struct ks_text *b)
{
	return a->len == b->len && memcmp(a->data, b->data, a->len) == 0;
}

void ks_text_release(struct ks_text *t)
{
	if (t->data)
		munmap(t->data, t->map_len);
	memset(t, 0, sizeof(*t));
}
