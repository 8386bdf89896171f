/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The sd_notify(3) protocol is one datagram on an AF_UNIX socket, documented
 * by systemd as a stable interface that services may implement themselves.
 * Doing so keeps ksymsd free of a libsystemd dependency (and of a build
 * switch for systems without it) for the two messages it sends.
 */
#include "sdnotify.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int ks_sd_notify_addr(const char *spec, struct sockaddr_un *sa, socklen_t *len)
{
	size_t n;

	if (!spec || !spec[0])
		return -EINVAL;
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	n = strlen(spec);
	if (spec[0] == '/') {
		/* A path: the terminating NUL must fit too. */
		if (n >= sizeof(sa->sun_path))
			return -ENAMETOOLONG;
		memcpy(sa->sun_path, spec, n + 1);
		*len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + 1);
		return 0;
	}
	if (spec[0] == '@') {
		/* Abstract: a leading NUL, then the name's bytes exactly (no
		 * terminator: the length is part of the name). */
		if (n < 2)
			return -EINVAL;
		if (n > sizeof(sa->sun_path))
			return -ENAMETOOLONG;
		memcpy(sa->sun_path + 1, spec + 1, n - 1);
		*len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
		return 0;
	}
	/* "vsock:CID:PORT" (systemd 253+, for VMs) and anything else. */
	if (strchr(spec, ':'))
		return -EAFNOSUPPORT;
	return -EINVAL;
}

int ks_sd_notify(const char *state)
{
	const char *spec = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa;
	socklen_t len;
	ssize_t w;
	int fd, r;

	if (!spec)
		return 0;
	if (!state || !state[0])
		return -EINVAL;
	r = ks_sd_notify_addr(spec, &sa, &len);
	if (r < 0)
		return r;
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* systemd learns our pid from the socket's credentials (it sets
	 * SO_PASSCRED), so no SCM_CREDENTIALS of our own are needed. */
	do
		w = sendto(fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *)&sa, len);
	while (w < 0 && errno == EINTR);
	r = w < 0 ? -errno : (size_t)w == strlen(state) ? 1 : -EMSGSIZE;
	close(fd);
	return r;
}

int ks_sd_notifyf(const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	int n;

	if (!getenv("NOTIFY_SOCKET"))
		return 0;
	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0)
		return -EINVAL;
	if ((size_t)n >= sizeof(buf))
		return -EMSGSIZE;
	return ks_sd_notify(buf);
}
