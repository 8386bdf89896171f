/* SPDX-License-Identifier: BSD-2-Clause */
#include "fdio.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "error.h"

int ks_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t w = write(fd, p, len);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

int ks_read_all(int fd, size_t max, size_t cap, char **text, size_t *len, struct ks_error *err)
{
	size_t n = 0;
	char *buf, *grown;
	ssize_t r;

	cap = cap ? cap : 1;
	buf = malloc(cap + 1);

	if (!buf)
		return ks_error_set(err, ENOMEM, "out of memory");
	for (;;) {
		if (n > max) {
			free(buf);
			return ks_error_set(err, EFBIG, "larger than the limit of %zu bytes", max);
		}
		if (n == cap) {
			grown = realloc(buf, cap * 2 + 1);
			if (!grown) {
				free(buf);
				return ks_error_set(err, ENOMEM, "out of memory");
			}
			buf = grown;
			cap *= 2;
		}
		r = read(fd, buf + n, cap - n);
		if (r == 0)
			break;
		if (r < 0) {
			if (errno == EINTR)
				continue;
			r = errno;
			free(buf);
			return ks_error_set(err, (int)r, "read: %s", strerror((int)r));
		}
		n += (size_t)r;
	}
	buf[n] = '\0';
	*text = buf;
	*len = n;
	return 0;
}
