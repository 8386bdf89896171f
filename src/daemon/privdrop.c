/* SPDX-License-Identifier: BSD-2-Clause */
#include "privdrop.h"

#include <errno.h>
#include <linux/capability.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "shared/log.h"

/* Older uapi headers lack it; the kernel has had the bit since 5.8. */
#ifndef CAP_PERFMON
#define CAP_PERFMON 38
#endif

#define BIT(cap) (UINT64_C(1) << (cap))

/* How many threads this process has, from /proc/self/status; 0 if unknown. */
static unsigned long thread_count(void)
{
	char line[256];
	unsigned long n = 0;
	FILE *f = fopen("/proc/self/status", "re");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Threads: %lu", &n) == 1)
			break;
	fclose(f);
	return n;
}

/* Version 3 splits each 64-bit set into two 32-bit words. */
static uint64_t set_of(const struct __user_cap_data_struct d[2], size_t field)
{
	const __u32 *lo = (const __u32 *)((const char *)&d[0] + field);
	const __u32 *hi = (const __u32 *)((const char *)&d[1] + field);

	return (uint64_t)*hi << 32 | *lo;
}

static void set_clear(struct __user_cap_data_struct d[2], size_t field, uint64_t bits)
{
	__u32 *lo = (__u32 *)((char *)&d[0] + field);
	__u32 *hi = (__u32 *)((char *)&d[1] + field);

	*lo &= ~(__u32)bits;
	*hi &= ~(__u32)(bits >> 32);
}

#define EFF offsetof(struct __user_cap_data_struct, effective)
#define PRM offsetof(struct __user_cap_data_struct, permitted)
#define INH offsetof(struct __user_cap_data_struct, inheritable)

/*
 * Take cap out of the bounding set. Returns 1 if it left, 0 if it was not
 * there or the kernel does not know it (before 5.8 for CAP_PERFMON), or a
 * negative errno.
 */
static int bounding_drop(int cap)
{
	int r = prctl(PR_CAPBSET_READ, (unsigned long)cap, 0, 0, 0);

	if (r < 0)
		return errno == EINVAL ? 0 : -errno;
	if (r == 0)
		return 0;
	if (prctl(PR_CAPBSET_DROP, (unsigned long)cap, 0, 0, 0) < 0)
		return -errno;
	return 1;
}

/* Is cap still in the bounding set (as far as the kernel knows it)? */
static bool bounding_has(int cap)
{
	return prctl(PR_CAPBSET_READ, (unsigned long)cap, 0, 0, 0) > 0;
}

int ks_privdrop_event_caps(struct ks_error *err)
{
	static const struct {
		int cap;
		unsigned int flag;
		const char *name;
	} caps[] = {
		{ CAP_SYS_ADMIN, KS_PRIVDROP_SYS_ADMIN, "CAP_SYS_ADMIN" },
		{ CAP_PERFMON, KS_PRIVDROP_PERFMON, "CAP_PERFMON" },
	};
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2];
	uint64_t drop = BIT(CAP_SYS_ADMIN) | BIT(CAP_PERFMON), held;
	unsigned long threads = thread_count();
	unsigned int done = 0, bounded = 0, kept = 0;
	char names[64] = "";
	size_t i;
	int r;

	if (threads > 1)
		return ks_error_set(err, EBUSY,
				    "cannot drop capabilities: the process has %lu threads, and "
				    "the others would keep them",
				    threads);
	memset(data, 0, sizeof(data));
	if (syscall(SYS_capget, &hdr, data) < 0)
		return ks_error_set(err, errno, "capget: %s", strerror(errno));
	held = (set_of(data, EFF) | set_of(data, PRM) | set_of(data, INH)) & drop;

	/* First the bounding set, while CAP_SETPCAP is surely still effective.
	 * Without it (ksymsd.service leaves it out) the bounding set stays:
	 * only an execve() could take from it, and NoNewPrivileges= stops
	 * that. */
	if (set_of(data, EFF) & BIT(CAP_SETPCAP)) {
		for (i = 0; i < sizeof(caps) / sizeof(caps[0]); i++) {
			r = bounding_drop(caps[i].cap);
			/* EPERM: a seccomp filter said no; as without CAP_SETPCAP. */
			if (r == -EPERM)
				break;
			if (r < 0)
				return ks_error_set(err, -r, "PR_CAPBSET_DROP(%s): %s",
						    caps[i].name, strerror(-r));
			if (r > 0)
				bounded |= caps[i].flag;
		}
	}
	for (i = 0; i < sizeof(caps) / sizeof(caps[0]); i++)
		if (bounding_has(caps[i].cap))
			kept |= caps[i].flag;

	if (held) {
		set_clear(data, EFF, drop);
		set_clear(data, PRM, drop);
		set_clear(data, INH, drop);
		if (syscall(SYS_capset, &hdr, data) < 0)
			return ks_error_set(err, errno, "capset: %s%s", strerror(errno),
					    errno == EPERM ? " (a system call filter without capset?)"
							   : "");
	}
	for (i = 0; i < sizeof(caps) / sizeof(caps[0]); i++) {
		if (!(held & BIT(caps[i].cap)))
			continue;
		done |= caps[i].flag;
		snprintf(names + strlen(names), sizeof(names) - strlen(names), "%s%s",
			 names[0] ? " and " : "", caps[i].name);
	}

	if (done)
		ks_info("dropped %s, needed only to open the event sources%s%s%s", names,
			kept ? "; the bounding set keeps " : bounded ? " (bounding set too)" : "",
			kept == (KS_PRIVDROP_SYS_ADMIN | KS_PRIVDROP_PERFMON) ? "both"
			: kept & KS_PRIVDROP_SYS_ADMIN ? "CAP_SYS_ADMIN"
			: kept ? "CAP_PERFMON" : "",
			kept ? " (no CAP_SETPCAP to drop from it)" : "");
	else
		ks_debug("no CAP_SYS_ADMIN or CAP_PERFMON to drop");
	return (int)(done | (bounded ? KS_PRIVDROP_BOUNDING : 0) |
		     (kept ? KS_PRIVDROP_BOUNDING_KEPT : 0));
}
