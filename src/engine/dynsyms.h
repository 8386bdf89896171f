/* SPDX-License-Identifier: BSD-2-Clause */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shared/error.h"
#include "dynpolicy.h"
#include "kevwire.h"
#include "model.h"

/*
 * Dynamic symbols: the lines the kernel adds to and removes from kallsyms
 * at run time and announces with PERF_RECORD_KSYMBOL (kevwire.h), applied
 * to a model built from an earlier read, so that the next image needs no
 * read of kallsyms.
 *
 * What kallsyms lists, and where (kernel/kallsyms.c and the files named):
 *  - after the modules: [__builtin__ftrace], then [bpf], then
 *    [__builtin__kprobes] (update_iter_mod), each 't';
 *  - [bpf] (kernel/bpf/core.c): programs bpf_prog_<tag>[_<name>] (and
 *    their subprograms), trampolines, dispatchers, struct_ops images, in
 *    the order added (bpf_ksym_add: list tail), all of them only while
 *    bpf_jit_kallsyms_enabled() (bpf_jit_harden 0 and bpf_jit_kallsyms 1);
 *    a program only if bpf_prog_kallsyms_add() took it: JITed, not a
 *    classic filter, and its loader had CAP_BPF (a token's, 6.9+;
 *    CAP_SYS_ADMIN before 5.8). Since 5.6 the record of a program it did
 *    not take has an empty name (ksym.name is only set when taken); before,
 *    every program's record had its name;
 *  - [__builtin__ftrace] (kernel/trace/ftrace.c): ftrace_trampoline, the
 *    newest first (list_add_rcu);
 *  - [__builtin__kprobes] (kernel/kprobes.c): kprobe_insn_page pages, the
 *    newest first, then kprobe_optinsn_page pages, the newest first.
 */

/*
 * Where the symbols and owners of a changed model came from, for whoever
 * keeps something per symbol (editimage.c keeps .strtab offsets). Symbols
 * before first_sym and owners before first_owner did not move; each one
 * after has its index in the model before, or KS_DYN_NEW.
 */
#define KS_DYN_NEW UINT32_MAX
struct ks_dyn_map {
	size_t first_sym, n_sym_from;
	size_t first_owner, n_owner_from;
	uint32_t *sym_from;
	uint32_t *owner_from;
};

void ks_dyn_map_release(struct ks_dyn_map *map);

/*
 * Apply n ksymbol events, in order, to m in place: add or remove one
 * [bpf], [__builtin__ftrace] or [__builtin__kprobes] line each, creating
 * the pseudo-module where kallsyms would show it and dropping it with its
 * last line; its region, its symbols' sizes and m->n_locals follow.
 * In place because a copy of a kernel's symbol array costs more in page
 * faults than the rest of an image (see the README).
 *
 * The batch applies whole or not at all. Returns
 *   0        m changed (map, if not NULL, says how; release it)
 *   1        nothing to change (every event skipped, or already so: an
 *            add of a line the model has at that address, or a remove of
 *            one it lacks, is a no-op, so that events a read may already
 *            show can be applied again)
 *   -ESTALE  an event does not fit: REREAD by the policy, a model with
 *            owners out of order;
 *            err says which in one line, and m is unchanged: read kallsyms
 *   -ENOMEM  m unchanged
 * Added names are the model's own copies (KS_SYM_OWNS_NAME), freed with
 * the symbol or by ks_model_release(); the rest still point into the
 * kallsyms text and module list m was built from, which must outlive it.
 * Not thread-safe: one caller at a time per model.
 */
int ks_model_apply_ksyms(struct ks_model *m, const struct ks_kevent *evs, size_t n,
			 const struct ks_dyn_env *env, struct ks_dyn_map *map,
			 struct ks_error *err);
