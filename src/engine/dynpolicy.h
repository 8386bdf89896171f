/* SPDX-License-Identifier: BSD-2-Clause */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "shared/error.h"
#include "kevwire.h"
#include "model.h"
#include "root.h"

/* The pseudo-modules dynamic symbols belong to, as kallsyms tags them. */
#define KS_DYN_TAG_FTRACE "__builtin__ftrace"
#define KS_DYN_TAG_BPF "bpf"
#define KS_DYN_TAG_KPROBES "__builtin__kprobes"

/* What decides whether kallsyms lists a BPF symbol the kernel announces. */
struct ks_dyn_env {
	bool have_bpf;		/* bpf_jit_kallsyms and bpf_jit_harden were read */
	int jit_enable;		/* net/core/bpf_jit_enable, -1 if not there */
	int jit_kallsyms;	/* net/core/bpf_jit_kallsyms */
	int jit_harden;		/* net/core/bpf_jit_harden */
	int unpriv_disabled;	/* kernel/unprivileged_bpf_disabled, -1 if not there */
	unsigned int kver;	/* KS_KVER of kernel/osrelease, 0 if unknown */
	/* The kernel has kCFI (__cfi_ symbols): with FineIBT it lists a
	 * __cfi_<name> twin of each program that no record announces. From
	 * the model: ks_dyn_env_model(). */
	bool kcfi;
	/* The sysctls this process may not read (bit i: the i-th of
	 * bpf_jit_enable, bpf_jit_kallsyms, bpf_jit_harden,
	 * unprivileged_bpf_disabled): the kernel lets only CAP_SYS_ADMIN read
	 * bpf_jit_kallsyms and bpf_jit_harden. Left unknown; see
	 * ks_dyn_env_fill(). */
	unsigned int unreadable;
};

#define KS_KVER(major, minor) ((unsigned int)(major) << 8 | (unsigned int)(minor))

/*
 * Read the sysctls and osrelease under root (proc/sys/...). A file that is
 * missing, or that this process may not read (EPERM, EACCES: also noted in
 * env->unreadable), leaves its field unknown, which the policy treats as
 * "cannot tell"; only other I/O errors fail.
 */
int ks_dyn_env_read(struct ks_dyn_env *env, const struct ks_root *root, struct ks_error *err);

/*
 * Take the fields env could not read from known, an earlier read that could
 * (a daemon reads them once while it still has CAP_SYS_ADMIN): a change of
 * those sysctls after that is not seen.
 */
void ks_dyn_env_fill(struct ks_dyn_env *env, const struct ks_dyn_env *known);

/* Set env->kcfi from the kernel's symbols in m. */
void ks_dyn_env_model(struct ks_dyn_env *env, const struct ks_model *m);

/*
 * Whether kallsyms lists the same BPF symbols under both: the sysctls can
 * change at any time with no record (bpf_jit_kallsyms 0 -> 1 shows every
 * [bpf] line at once), so a model built under a will be wrong under b.
 */
bool ks_dyn_env_same(const struct ks_dyn_env *a, const struct ks_dyn_env *b);

enum ks_dyn_verdict {
	KS_DYN_APPLY,	/* kallsyms lists it: add or remove the line */
	KS_DYN_SKIP,	/* kallsyms does not list it: nothing changes */
	KS_DYN_REREAD,	/* cannot tell, or not a ksymbol record: read kallsyms again */
};

/*
 * The policy for one event: whether its symbol is (or was) a kallsyms line.
 * *why (if why is not NULL) gets a static phrase for SKIP and REREAD.
 */
enum ks_dyn_verdict ks_dyn_policy(const struct ks_kevent *ev, const struct ks_dyn_env *env,
				  const char **why);

/* A KSYM_ADD or KSYM_REMOVE event. */
bool ks_dyn_is_ksym(const struct ks_kevent *ev);

/* The pseudo-module a ksymbol event's line belongs to (KS_DYN_TAG_*), NULL
 * for an out-of-line symbol of a name kallsyms is not known to list. */
const char *ks_dyn_owner_tag(const struct ks_kevent *ev);
