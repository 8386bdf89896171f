/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Which announced dynamic symbols kallsyms lists (dynpolicy.h): the BPF
 * sysctls and kernel version they depend on, and the verdict per record.
 */
#include "dynpolicy.h"

#include <errno.h>
#include <linux/perf_event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- the environment ------------------------------------------------------ */

/* A small decimal file under root: 0 and *val, or -ENOENT, or an error. */
static int read_int(const struct ks_root *root, const char *rel, int *val, struct ks_error *err)
{
	char buf[64];
	ssize_t n;
	int fd = ks_root_open_file(root, rel, NULL);

	if (fd == -ENOENT)
		return fd;
	if (fd < 0)
		return ks_error_set(err, -fd, "%s/%s: %s", root->path, rel, strerror(-fd));
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		return ks_error_set(err, errno, "%s/%s: %s", root->path, rel, strerror(errno));
	buf[n] = '\0';
	if (sscanf(buf, "%d", val) != 1)
		return ks_error_set(err, EINVAL, "%s/%s: not a number", root->path, rel);
	return 0;
}

int ks_dyn_env_read(struct ks_dyn_env *env, const struct ks_root *root, struct ks_error *err)
{
	static const struct {
		const char *rel;
		size_t field;
	} files[] = {
		{ "proc/sys/net/core/bpf_jit_enable", offsetof(struct ks_dyn_env, jit_enable) },
		{ "proc/sys/net/core/bpf_jit_kallsyms", offsetof(struct ks_dyn_env, jit_kallsyms) },
		{ "proc/sys/net/core/bpf_jit_harden", offsetof(struct ks_dyn_env, jit_harden) },
		{ "proc/sys/kernel/unprivileged_bpf_disabled",
		  offsetof(struct ks_dyn_env, unpriv_disabled) },
	};
	unsigned int major, minor;
	int r, fd, have = 0;
	char buf[128];
	ssize_t n;

	*env = (struct ks_dyn_env){ .jit_enable = -1, .jit_kallsyms = -1, .jit_harden = -1,
				    .unpriv_disabled = -1 };
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		int *field = (int *)((char *)env + files[i].field), v;

		r = read_int(root, files[i].rel, &v, err);
		if (r == -EPERM || r == -EACCES)
			env->unreadable |= 1u << i;
		if (r == -ENOENT || r == -EPERM || r == -EACCES)
			continue;
		if (r < 0)
			return r;
		*field = v;
		have |= 1 << i;
	}
	/* bpf_jit_kallsyms and bpf_jit_harden: what the listing depends on. */
	env->have_bpf = (have & 6) == 6;
	fd = ks_root_open_file(root, "proc/sys/kernel/osrelease", NULL);
	if (fd >= 0) {
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		buf[n > 0 ? n : 0] = '\0';
		if (sscanf(buf, "%u.%u", &major, &minor) == 2 && major < 256 && minor < 256)
			env->kver = KS_KVER(major, minor);
	}
	return 0;
}

void ks_dyn_env_fill(struct ks_dyn_env *env, const struct ks_dyn_env *known)
{
	int *const mine[] = { &env->jit_enable, &env->jit_kallsyms, &env->jit_harden,
			      &env->unpriv_disabled };
	const int theirs[] = { known->jit_enable, known->jit_kallsyms, known->jit_harden,
			       known->unpriv_disabled };

	for (size_t i = 0; i < sizeof(mine) / sizeof(mine[0]); i++)
		if ((env->unreadable & (1u << i)) && !(known->unreadable & (1u << i)))
			*mine[i] = theirs[i];
	env->have_bpf = env->jit_kallsyms >= 0 && env->jit_harden >= 0;
}

void ks_dyn_env_model(struct ks_dyn_env *env, const struct ks_model *m)
{
	env->kcfi = false;
	if (!m->n_owners)
		return;
	for (size_t i = 0; i < m->owners[0].n_syms && !env->kcfi; i++) {
		const struct ks_sym *s = &m->syms[m->owners[0].first_sym + i];

		env->kcfi = s->name_len > 6 && memcmp(s->name, "__cfi_", 6) == 0;
	}
}

bool ks_dyn_env_same(const struct ks_dyn_env *a, const struct ks_dyn_env *b)
{
	return a->have_bpf == b->have_bpf && a->jit_enable == b->jit_enable &&
	       a->jit_kallsyms == b->jit_kallsyms && a->jit_harden == b->jit_harden &&
	       a->unpriv_disabled == b->unpriv_disabled && a->kver == b->kver &&
	       a->kcfi == b->kcfi;
}

/* ---- the policy ------------------------------------------------------------ */

/* The pseudo-module of an out-of-line symbol, NULL for a name we do not know. */
static const char *ool_tag(const char *name)
{
	if (strcmp(name, "ftrace_trampoline") == 0)
		return KS_DYN_TAG_FTRACE;
	if (strcmp(name, "kprobe_insn_page") == 0 || strcmp(name, "kprobe_optinsn_page") == 0)
		return KS_DYN_TAG_KPROBES;
	return NULL;
}

bool ks_dyn_is_ksym(const struct ks_kevent *ev)
{
	return ev->kind == KS_KEVENT_KSYM_ADD || ev->kind == KS_KEVENT_KSYM_REMOVE;
}

const char *ks_dyn_owner_tag(const struct ks_kevent *ev)
{
	if (ev->ksym.type == PERF_RECORD_KSYMBOL_TYPE_BPF)
		return KS_DYN_TAG_BPF;
	return ev->ksym.name ? ool_tag(ev->ksym.name) : NULL;
}

enum ks_dyn_verdict ks_dyn_policy(const struct ks_kevent *ev, const struct ks_dyn_env *env,
				  const char **why)
{
	const char *dummy, *name;
	size_t len;

	why = why ? why : &dummy;
	*why = NULL;
	if (!ks_dyn_is_ksym(ev)) {
		*why = "not a ksymbol record";
		return KS_DYN_REREAD;
	}
	name = ev->ksym.name ? ev->ksym.name : "";
	len = strnlen(name, KS_NAME_MAX);
	if (len >= KS_NAME_MAX) {
		*why = "a name longer than kallsyms allows";
		return KS_DYN_REREAD;
	}
	if (ev->ksym.type == PERF_RECORD_KSYMBOL_TYPE_OOL) {
		if (ool_tag(name))
			return KS_DYN_APPLY;
		*why = "an out-of-line symbol of unknown name";
		return KS_DYN_REREAD;
	}
	if (ev->ksym.type != PERF_RECORD_KSYMBOL_TYPE_BPF) {
		*why = "a ksymbol record of unknown type";
		return KS_DYN_REREAD;
	}
	if (!env->have_bpf) {
		*why = "BPF sysctls not readable";
		return KS_DYN_REREAD;
	}
	/* bpf_jit_kallsyms_enabled(): kallsyms lists no [bpf] line at all. */
	if (env->jit_harden != 0 || env->jit_kallsyms != 1) {
		*why = "bpf_jit_kallsyms off or bpf_jit_harden on: no BPF symbol listed";
		return KS_DYN_SKIP;
	}
	if (!len) {
		*why = "a program kallsyms does not list (not JITed, or loaded without CAP_BPF)";
		return KS_DYN_SKIP;
	}
	/* Trampolines, dispatchers and struct_ops images are always added. */
	if (strncmp(name, "bpf_prog_", 9) != 0)
		return KS_DYN_APPLY;
	if (env->kcfi) {
		*why = "a kCFI kernel may list an unannounced __cfi_ twin of each program";
		return KS_DYN_REREAD;
	}
	/* Before 5.6 a program that was not JITed still had a named record,
	 * with the interpreter's address and no length. */
	if (ev->ksym.len == 0) {
		*why = "a program that was not JITed";
		return KS_DYN_SKIP;
	}
	if (env->kver >= KS_KVER(5, 6))
		return KS_DYN_APPLY;
	/* Before 5.6 the name says nothing of the loader's privilege; only
	 * privileged loaders are left when unprivileged bpf() is off. */
	if (env->unpriv_disabled > 0)
		return KS_DYN_APPLY;
	*why = "a kernel before 5.6 (or of unknown version) names programs kallsyms may not list";
	return KS_DYN_REREAD;
}
