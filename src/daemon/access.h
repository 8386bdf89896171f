/* SPDX-License-Identifier: BSD-2-Clause */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include "engine/root.h"
#include "shared/error.h"

/*
 * May a caller of /dev/ksyms see kernel addresses? We apply the rule the
 * kernel applies to an opener of /proc/kallsyms (kallsyms_show_value()), so
 * the device never shows anyone more than the kernel itself would.
 *
 * The rule is a pure function; the facts it needs come from two readers that
 * take a root directory, so tests can point them at fake /proc trees.
 */

/* The two sysctls the rule depends on, from <root>/proc/sys/kernel/. */
struct ks_access_sysctl {
	int kptr_restrict;
	int perf_event_paranoid;	/* INT_MAX if the kernel has no perf events */
};

/* What we learn about the thread that made a request. */
struct ks_caller {
	pid_t tid;		/* the requesting thread (fuse_req_ctx()->pid) */
	pid_t tgid;		/* its process: "one open per process" keys on this */
	uid_t uid;		/* real uid, for log lines only */
	bool cap_syslog;	/* CAP_SYSLOG in its effective set */
	bool init_userns;	/* its user namespace is the initial one */
};

/* The inode number of the initial user namespace (PROC_USER_INIT_INO in the
 * kernel's include/linux/proc_ns.h: fixed since Linux 3.8). */
#define KS_USER_INIT_INO 0xEFFFFFFDu

/*
 * kallsyms_show_value(): kptr_restrict 0 shows addresses to everyone when
 * perf_event_paranoid <= 1, else falls through to 1, which requires
 * CAP_SYSLOG in the initial user namespace; 2 and above never show them.
 * A capability held inside a child user namespace does not count: the kernel
 * asks security_capable(cred, &init_user_ns, CAP_SYSLOG).
 */
bool ks_access_rule(int kptr_restrict, int perf_event_paranoid, bool has_cap_syslog,
		    bool in_init_userns);

/* Read the sysctls from <root>/proc/sys/kernel/. A missing
 * perf_event_paranoid means CONFIG_PERF_EVENTS=n (the perf clause never
 * applies); a missing or malformed kptr_restrict is an error. */
int ks_access_read_sysctl(const struct ks_root *root, struct ks_access_sysctl *out,
			  struct ks_error *err);

/*
 * Read what the rule needs about thread tid from <root>/proc/<tid>/ (stat,
 * status, ns/user or else uid_map and gid_map), all through one directory fd so every fact belongs to
 * the same task (see access.c for why this is free of pid-reuse races).
 * -ESRCH if the thread is gone or changed while we read.
 */
int ks_access_read_caller(const struct ks_root *root, pid_t tid, struct ks_caller *out,
			  struct ks_error *err);

/* The rule applied to what the readers found. */
bool ks_access_allowed(const struct ks_access_sysctl *sc, const struct ks_caller *c);
