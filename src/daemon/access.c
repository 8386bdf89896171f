/* SPDX-License-Identifier: BSD-2-Clause */
#include "access.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/capability.h>

bool ks_access_rule(int kptr_restrict, int perf_event_paranoid, bool has_cap_syslog,
		    bool in_init_userns)
{
	switch (kptr_restrict) {
	case 0:
		/* kallsyms_for_perf(): profiling is open to everyone. */
		if (perf_event_paranoid <= 1)
			return true;
		/* fall through */
	case 1:
		return has_cap_syslog && in_init_userns;
	default:
		/* A negative value cannot be written (the sysctl's minimum is
		 * 0), so anything but 0 and 1 is the strictest setting. */
		return false;
	}
}

bool ks_access_allowed(const struct ks_access_sysctl *sc, const struct ks_caller *c)
{
	return ks_access_rule(sc->kptr_restrict, sc->perf_event_paranoid, c->cap_syslog,
			      c->init_userns);
}

/* Read a small procfs file (relative to dirfd) into buf, NUL-terminated.
 * procfs files report no size and may come in pieces: loop to EOF. */
/* Read up to size - 1 bytes of fd, NUL-terminated, and close it. */
static int read_small_fd(int fd, char *buf, size_t size)
{
	size_t len = 0;
	ssize_t n;
	int ret = 0;

	while (len < size - 1) {
		n = read(fd, buf + len, size - 1 - len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			ret = -errno;
			break;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	buf[len] = '\0';
	return ret;
}

/* A file of the caller's /proc/<tid>: always the real /proc, whatever
 * --root says. */
static int read_small(int dirfd, const char *name, char *buf, size_t size)
{
	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY);

	if (fd < 0)
		return -errno;
	return read_small_fd(fd, buf, size);
}

static int parse_int(const char *s, int *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || v < INT_MIN || v > INT_MAX)
		return -EINVAL;
	while (*end == ' ' || *end == '\t' || *end == '\n')
		end++;
	if (*end)
		return -EINVAL;
	*out = (int)v;
	return 0;
}

static int read_sysctl_int(int dirfd, const char *name, int *out)
{
	char buf[64];
	int ret;

	/* A sysctl of the --root tree: only a regular file is read. */
	ret = ks_open_regular(dirfd, name);
	if (ret >= 0)
		ret = read_small_fd(ret, buf, sizeof(buf));
	if (ret < 0)
		return ret;
	return parse_int(buf, out);
}

int ks_access_read_sysctl(const struct ks_root *root, struct ks_access_sysctl *out,
			  struct ks_error *err)
{
	const char *path = "proc/sys/kernel";
	int dirfd, ret;

	dirfd = ks_root_openat(root, path, O_RDONLY | O_DIRECTORY, err);
	if (dirfd < 0)
		return dirfd;

	ret = read_sysctl_int(dirfd, "kptr_restrict", &out->kptr_restrict);
	if (ret < 0) {
		/* Without it we cannot know the rule: callers fail closed. */
		ks_error_set(err, -ret, "%s/%s/kptr_restrict: %s", root->path, path, strerror(-ret));
		goto out;
	}
	ret = read_sysctl_int(dirfd, "perf_event_paranoid", &out->perf_event_paranoid);
	if (ret == -ENOENT) {
		out->perf_event_paranoid = INT_MAX;
		ret = 0;
	} else if (ret < 0) {
		ks_error_set(err, -ret, "%s/%s/perf_event_paranoid: %s", root->path, path,
			     strerror(-ret));
	}
out:
	close(dirfd);
	return ret;
}

/* Field 22 of /proc/<tid>/stat: the task's start time in clock ticks since
 * boot. comm (field 2) may hold spaces and parentheses, so count fields from
 * the last ')'. */
static int read_starttime(int dirfd, unsigned long long *out)
{
	char buf[1024];
	char *p, *end;
	int ret, field;

	ret = read_small(dirfd, "stat", buf, sizeof(buf));
	if (ret < 0)
		return ret;
	p = strrchr(buf, ')');
	if (!p)
		return -EINVAL;
	p++;
	/* After ')' come fields 3 ("state") onwards, each preceded by a space. */
	for (field = 3; field <= 22; field++) {
		if (*p != ' ')
			return -EINVAL;
		p++;
		if (field == 22)
			break;
		p += strcspn(p, " ");
	}
	errno = 0;
	*out = strtoull(p, &end, 10);
	if (errno || end == p)
		return -EINVAL;
	return 0;
}

/* Parse the lines of /proc/<tid>/status that the rule needs. Read line by
 * line: a "Groups:" line can be long (up to 65536 groups), so no fixed
 * buffer is big enough to be sure CapEff, which comes after it, fits. */
static int read_status(int dirfd, struct ks_caller *c)
{
	bool have_tgid = false, have_cap = false, have_uid = false;
	char *line = NULL;
	size_t cap_len = 0;
	FILE *f;
	int fd;

	fd = openat(dirfd, "status", O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	f = fdopen(fd, "r");
	if (!f) {
		close(fd);
		return -ENOMEM;
	}
	while (getline(&line, &cap_len, f) >= 0) {
		unsigned long long cap;
		unsigned uid;
		int tgid;

		if (sscanf(line, "Tgid: %d", &tgid) == 1) {
			c->tgid = tgid;
			have_tgid = tgid > 0;
		} else if (sscanf(line, "Uid: %u", &uid) == 1) {
			c->uid = uid;
			have_uid = true;
		} else if (sscanf(line, "CapEff: %llx", &cap) == 1) {
			c->cap_syslog = (cap >> CAP_SYSLOG) & 1;
			have_cap = true;
		}
	}
	free(line);
	if (ferror(f)) {
		int e = errno ? errno : EIO;

		fclose(f);
		return -e;
	}
	fclose(f);
	return have_tgid && have_cap && have_uid ? 0 : -EINVAL;
}

/* "0 0 4294967295" and nothing else: the initial namespace's map (the
 * kernel prints it "%10u %10u %10u\n"). */
static bool is_identity_map(const char *buf)
{
	unsigned first, lower, count;
	int end = 0;

	if (sscanf(buf, " %u %u %u %n", &first, &lower, &count, &end) != 3)
		return false;
	return first == 0 && lower == 0 && count == 4294967295u && buf[end] == '\0';
}

/*
 * Is the task's user namespace the initial one?
 *
 * Exactly: namespaces are named by the inode of their nsfs file, which
 * readlink shows as "user:[INO]". But the kernel lets only a ptracer read
 * that link (PTRACE_MODE_READ: same uids and a superset of the target's
 * permitted capabilities, or CAP_SYS_PTRACE), and the sandboxed daemon has
 * neither for most callers.
 *
 * Otherwise, from uid_map and gid_map, which anyone may read: the initial
 * namespace maps all 2^32-1 ids onto themselves. A child namespace shows
 * anything else (unless it is a kernel without user namespaces, which has
 * none of these files and only the initial namespace). The one child that
 * looks the same is one given the full identity map for both uids and gids,
 * which only a process holding CAP_SETUID and CAP_SETGID in the initial
 * namespace can set up; granting CAP_SYS_PTRACE to the daemon closes that
 * gap, since the link is then always readable.
 */
static bool read_init_userns(int dirfd)
{
	char buf[64], map[256];
	unsigned long long ino;
	bool no_ns_link;
	ssize_t n;
	int ret;

	n = readlinkat(dirfd, "ns/user", buf, sizeof(buf) - 1);
	if (n >= 0) {
		buf[n] = '\0';
		if (sscanf(buf, "user:[%llu]", &ino) != 1)
			return false;
		return ino == KS_USER_INIT_INO;
	}
	no_ns_link = errno == ENOENT;

	ret = read_small(dirfd, "uid_map", map, sizeof(map));
	if (ret == -ENOENT)
		return no_ns_link;	/* no user namespaces at all */
	if (ret < 0 || !is_identity_map(map))
		return false;
	ret = read_small(dirfd, "gid_map", map, sizeof(map));
	return ret == 0 && is_identity_map(map);
}

/*
 * Why this is free of pid-reuse races:
 *
 * 1. The caller cannot go away while we look. Once the daemon has read a
 *    FUSE request, the kernel's request_wait_answer() waits for the reply
 *    uninterruptibly (a fatal signal only aborts requests still queued), so
 *    the requesting thread stays alive, and its tid allocated, until we
 *    reply to the open. Only that thread can change its own credentials
 *    (commit_creds() acts on current), and it is blocked in open(): what we
 *    read is exactly the cred the kernel would use as the opener's f_cred.
 *
 * 2. Everything is read through one O_DIRECTORY fd on /proc/<tid>. Such a
 *    fd is bound to the task's struct pid, not to the number: if the task
 *    were reaped and the number reused, lookups through the old fd fail
 *    instead of showing the newcomer. So everything we read describes one
 *    task.
 *
 * 3. Belt and braces for (1): the start time is read before and after the
 *    other files; both reads must succeed and agree, or we report -ESRCH
 *    and the caller is refused. That also covers a kernel that one day lets
 *    a waiting thread die.
 */
int ks_access_read_caller(const struct ks_root *root, pid_t tid, struct ks_caller *out,
			  struct ks_error *err)
{
	unsigned long long start1, start2;
	char path[32];
	int dirfd, ret;

	memset(out, 0, sizeof(*out));
	out->tid = tid;
	/* pid 0: the caller lives in a pid namespace the daemon cannot see. */
	if (tid <= 0)
		return ks_error_set(err, ESRCH, "request from a thread outside our pid namespace");
	snprintf(path, sizeof(path), "proc/%d", (int)tid);
	dirfd = ks_root_openat(root, path, O_RDONLY | O_DIRECTORY, err);
	if (dirfd == -ENOENT)
		return ks_error_set(err, ESRCH, "%s/%s: %s", root->path, path, strerror(ENOENT));
	if (dirfd < 0)
		return dirfd;

	ret = read_starttime(dirfd, &start1);
	if (ret < 0)
		goto fail;
	ret = read_status(dirfd, out);
	if (ret < 0)
		goto fail;
	out->init_userns = read_init_userns(dirfd);
	ret = read_starttime(dirfd, &start2);
	if (ret < 0)
		goto fail;
	if (start1 != start2) {
		ret = -ESRCH;
		goto fail;
	}
	close(dirfd);
	return 0;

fail:
	close(dirfd);
	/* A task that vanished mid-read shows up as ENOENT or ESRCH. */
	if (ret == -ENOENT)
		ret = -ESRCH;
	return ks_error_set(err, -ret, "%s/%s: %s", root->path, path,
			    ret == -EINVAL ? "unexpected format" : strerror(-ret));
}
