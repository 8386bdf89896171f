/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Test of src/daemon/sdnotify.c, as TAP: messages arrive whole on a path
 * socket and on an abstract one, nothing is sent without $NOTIFY_SOCKET,
 * and malformed addresses are refused with the documented errnos.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "daemon/sdnotify.h"

static int n_test, n_fail;

static void ok(int cond, const char *what)
{
	n_test++;
	if (!cond)
		n_fail++;
	printf("%sok %d - %s\n", cond ? "" : "not ", n_test, what);
}

/* A datagram socket bound to sa/len, with a receive timeout. */
static int listener(const struct sockaddr_un *sa, socklen_t len)
{
	struct timeval tv = { .tv_sec = 5 };
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || bind(fd, (const struct sockaddr *)sa, len) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0) {
		perror("listener");
		exit(1);
	}
	return fd;
}

static void expect(int fd, const char *want, const char *what)
{
	char buf[2048];
	ssize_t n = recv(fd, buf, sizeof(buf) - 1, 0);

	if (n >= 0)
		buf[n] = '\0';
	ok(n >= 0 && strcmp(buf, want) == 0, what);
	if (n >= 0 && strcmp(buf, want) != 0)
		printf("# got \"%s\", want \"%s\"\n", buf, want);
}

int main(void)
{
	char dir[] = "/tmp/test-sdnotify.XXXXXX", path[200], spec[256], tmp[200];
	struct sockaddr_un sa;
	socklen_t len;
	int fd;

	printf("TAP version 13\n");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}

	unsetenv("NOTIFY_SOCKET");
	ok(ks_sd_notify("READY=1") == 0, "no NOTIFY_SOCKET: nothing sent, returns 0");
	ok(ks_sd_notifyf("STATUS=%d", 1) == 0, "no NOTIFY_SOCKET: notifyf returns 0");

	/* A file system socket. */
	snprintf(path, sizeof(path), "%s/notify", dir);
	ok(ks_sd_notify_addr(path, &sa, &len) == 0, "a path parses");
	fd = listener(&sa, len);
	setenv("NOTIFY_SOCKET", path, 1);
	ok(ks_sd_notify("READY=1\nSTATUS=Serving /dev/ksyms") == 1, "path socket: sent");
	expect(fd, "READY=1\nSTATUS=Serving /dev/ksyms", "path socket: received whole");
	ok(ks_sd_notifyf("STATUS=%s %d", "n", 42) == 1, "path socket: notifyf sent");
	expect(fd, "STATUS=n 42", "path socket: notifyf received");
	close(fd);
	unlink(path);
	ok(ks_sd_notify("READY=1") == -ECONNREFUSED || ks_sd_notify("READY=1") == -ENOENT,
	   "nobody listening: a negative errno");

	/* An abstract socket: the name's bytes exactly, no trailing NUL. */
	snprintf(spec, sizeof(spec), "@ksymsd-test-%d", (int)getpid());
	ok(ks_sd_notify_addr(spec, &sa, &len) == 0, "an abstract name parses");
	ok(sa.sun_path[0] == '\0' && memcmp(sa.sun_path + 1, spec + 1, strlen(spec) - 1) == 0 &&
	   len == offsetof(struct sockaddr_un, sun_path) + strlen(spec),
	   "abstract: leading NUL, exact length");
	fd = listener(&sa, len);
	setenv("NOTIFY_SOCKET", spec, 1);
	ok(ks_sd_notify("STOPPING=1") == 1, "abstract socket: sent");
	expect(fd, "STOPPING=1", "abstract socket: received");
	close(fd);

	/* Refusals. */
	ok(ks_sd_notify_addr("", &sa, &len) == -EINVAL, "empty: EINVAL");
	ok(ks_sd_notify_addr("@", &sa, &len) == -EINVAL, "bare @: EINVAL");
	ok(ks_sd_notify_addr("run/notify", &sa, &len) == -EINVAL, "relative path: EINVAL");
	ok(ks_sd_notify_addr("vsock:2:1234", &sa, &len) == -EAFNOSUPPORT, "vsock: EAFNOSUPPORT");
	memset(tmp, 'a', sizeof(tmp) - 1);
	tmp[0] = '/';
	tmp[sizeof(tmp) - 1] = '\0';
	ok(ks_sd_notify_addr(tmp, &sa, &len) == -ENAMETOOLONG, "long path: ENAMETOOLONG");
	tmp[0] = '@';
	tmp[sizeof(sa.sun_path)] = '\0';	/* 107 name bytes: the most there is room for */
	ok(ks_sd_notify_addr(tmp, &sa, &len) == 0, "abstract name of 107 bytes fits");
	tmp[sizeof(sa.sun_path)] = 'a';
	tmp[sizeof(sa.sun_path) + 1] = '\0';
	ok(ks_sd_notify_addr(tmp, &sa, &len) == -ENAMETOOLONG, "abstract name of 108 bytes: ENAMETOOLONG");
	setenv("NOTIFY_SOCKET", "relative", 1);
	ok(ks_sd_notify("READY=1") == -EINVAL, "bad NOTIFY_SOCKET: notify says EINVAL");

	rmdir(dir);
	printf("1..%d\n", n_test);
	return n_fail ? 1 : 0;
}
