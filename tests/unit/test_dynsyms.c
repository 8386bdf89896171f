/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Dynamic symbols: ksymbol records applied to a model (dynsyms.c) and the
 * live table's images (editimage.c), against models and images built from
 * scratch from the fixture's kallsyms with the same lines added or taken
 * away where the kernel would show them.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <elf.h>
#include <gelf.h>
#include <linux/perf_event.h>
#include <sys/mman.h>

#include "engine/dynsyms.h"
#include "engine/elfimage.h"
#include "engine/kallsyms.h"
#include "engine/editimage.h"
#include "engine/model.h"
#include "engine/modules.h"
#include "engine/text.h"
#include "testutil.h"

#define BPF PERF_RECORD_KSYMBOL_TYPE_BPF
#define OOL PERF_RECORD_KSYMBOL_TYPE_OOL

/* The env of a host that lists BPF programs (6.18, bpf_jit_kallsyms 1). */
static const struct ks_dyn_env listing = {
	.have_bpf = true, .jit_enable = 1, .jit_kallsyms = 1, .jit_harden = 0,
	.unpriv_disabled = 2, .kver = KS_KVER(6, 18),
};

struct built {
	struct ks_text text;
	char *edited;		/* the text as changed, if it was */
	struct ks_kallsyms ks;
	struct ks_modlist mods;
	struct ks_model m;
};

/*
 * Build the model of a fixture's kallsyms with the line `drop` taken out
 * (if not NULL) and the lines `add` put in after the line `after` (NULL:
 * at the end).
 */
static void build_edit(struct built *b, const char *rel, const char *drop, const char *after,
		       const char *add)
{
	struct ks_error err = { 0 };
	const char *text, *at;
	struct ks_target t;
	struct ks_root root;
	size_t len, cut;
	char *p;

	memset(b, 0, sizeof(*b));
	open_root(&root, fixture(rel));
	if (ks_text_read(&root, "proc/kallsyms", &b->text, &err) < 0)
		fail_msg("%s", err.msg);
	if (ks_modlist_read(&b->mods, &root, &err) < 0)
		fail_msg("%s", err.msg);
	ks_root_close(&root);
	text = b->text.data;
	len = b->text.len;
	if (drop || add) {
		/* The line dropped from the fixture's text, then the lines added. */
		char *base = strndup(text, len), *d = drop ? strstr(base, drop) : NULL;

		assert_non_null(base);
		assert_true(!drop || d);
		if (d)
			memmove(d, d + strlen(drop), strlen(d + strlen(drop)) + 1);
		len = strlen(base);
		b->edited = p = malloc(len + (add ? strlen(add) : 0) + 1);
		assert_non_null(p);
		at = after ? strstr(base, after) : NULL;
		assert_true(!after || at);
		cut = at ? (size_t)(strchr(at, '\n') + 1 - base) : len;
		memcpy(p, base, cut);
		p += cut;
		if (add)
			p = stpcpy(p, add);
		memcpy(p, base + cut, len - cut);
		p[len - cut] = '\0';
		free(base);
		text = b->edited;
		len = strlen(text);
	}
	if (ks_kallsyms_parse(&b->ks, text, len, &err) < 0)
		fail_msg("%s", err.msg);
	assert_int_equal(ks_target_from_machine("x86_64", &t), 0);
	if (ks_model_build(&b->m, &b->ks, &b->mods, &t, &err) < 0)
		fail_msg("%s", err.msg);
}

static void unbuild(struct built *b)
{
	ks_model_release(&b->m);
	ks_modlist_release(&b->mods);
	ks_kallsyms_release(&b->ks);
	ks_text_release(&b->text);
	free(b->edited);
}

static struct ks_kevent ksym(enum ks_kevent_kind kind, uint16_t type, uint64_t addr,
			     const char *name)
{
	return (struct ks_kevent){ .kind = kind, .cpu = 0, .ksym = { .addr = addr, .len = 64,
								      .type = type, .name = name } };
}

#define ADD(type, addr, name) ksym(KS_KEVENT_KSYM_ADD, type, addr, name)
#define DEL(type, addr, name) ksym(KS_KEVENT_KSYM_REMOVE, type, addr, name)

/* Two models say the same, field by field. */
static void assert_models_equal(const struct ks_model *a, const struct ks_model *b)
{
	assert_int_equal(a->n_owners, b->n_owners);
	assert_int_equal(a->n_syms, b->n_syms);
	assert_int_equal(a->n_locals, b->n_locals);
	for (size_t o = 0; o < a->n_owners; o++) {
		const struct ks_owner *x = &a->owners[o], *y = &b->owners[o];

		assert_string_equal(x->name, y->name);
		assert_int_equal(x->kind, y->kind);
		assert_int_equal(x->first_sym, y->first_sym);
		assert_int_equal(x->n_syms, y->n_syms);
		assert_int_equal(x->n_regions, y->n_regions);
		for (size_t r = 0; r < x->n_regions; r++) {
			assert_string_equal(x->regions[r].name, y->regions[r].name);
			assert_int_equal(x->regions[r].addr, y->regions[r].addr);
			assert_int_equal(x->regions[r].size, y->regions[r].size);
			assert_int_equal(x->regions[r].flags, y->regions[r].flags);
		}
	}
	for (size_t i = 0; i < a->n_syms; i++) {
		const struct ks_sym *x = &a->syms[i], *y = &b->syms[i];

		if (x->name_len != y->name_len || memcmp(x->name, y->name, x->name_len) ||
		    x->addr != y->addr || x->size != y->size || x->owner != y->owner ||
		    x->region != y->region || x->bind != y->bind || x->type != y->type ||
		    x->letter != y->letter)
			fail_msg("symbol %zu: %.*s %#llx+%llu o%u r%u differs from %.*s %#llx+%llu o%u r%u",
				 i, (int)x->name_len, x->name, (unsigned long long)x->addr,
				 (unsigned long long)x->size, x->owner, x->region, (int)y->name_len,
				 y->name, (unsigned long long)y->addr, (unsigned long long)y->size,
				 y->owner, y->region);
	}
}

/* Apply evs to the fixture's model and compare it with the edited build. */
static void check_apply(const char *rel, const struct ks_kevent *evs, size_t n, const char *drop,
			const char *after, const char *add)
{
	struct ks_error err = { 0 };
	struct built got, want;
	int r;

	build_edit(&got, rel, NULL, NULL, NULL);
	build_edit(&want, rel, drop, after, add);
	r = ks_model_apply_ksyms(&got.m, evs, n, &listing, NULL, &err);
	if (r != 0)
		fail_msg("apply: %d %s", r, err.msg);
	assert_models_equal(&got.m, &want.m);
	unbuild(&got);
	unbuild(&want);
}

#define FTRACE_LINE "ffffffffc0201000 t ftrace_trampoline\t[__builtin__ftrace]\n"
#define PROG_A "bpf_prog_037c447e5d155045_k"
#define PROG_B "bpf_prog_9ff3683733a23ae6_ks"

/* 6.18 has [__builtin__ftrace] and no [bpf]: the new [bpf] goes after it. */
static void test_add_bpf_after_ftrace(void **state)
{
	struct ks_kevent ev[] = { ADD(BPF, 0xffffffffc00219d0, PROG_A),
				  ADD(BPF, 0xffffffffc0021a08, PROG_B) };

	(void)state;
	check_apply("host-6.18/state-a", ev, 2, NULL, NULL,
		    "ffffffffc00219d0 t " PROG_A "\t[bpf]\n"
		    "ffffffffc0021a08 t " PROG_B "\t[bpf]\n");
}

/* Added in one batch or one by one, the same model. */
static void test_add_one_by_one(void **state)
{
	struct ks_kevent ev[] = { ADD(BPF, 0xffffffffc00219d0, PROG_A),
				  ADD(BPF, 0xffffffffc0021a08, PROG_B) };
	struct ks_error err = { 0 };
	struct built got, want;

	(void)state;
	build_edit(&got, "host-6.18/state-a", NULL, NULL, NULL);
	build_edit(&want, "host-6.18/state-a", NULL, NULL,
		   "ffffffffc00219d0 t " PROG_A "\t[bpf]\n"
		   "ffffffffc0021a08 t " PROG_B "\t[bpf]\n");
	assert_int_equal(ks_model_apply_ksyms(&got.m, &ev[0], 1, &listing, NULL, &err), 0);
	assert_int_equal(ks_model_apply_ksyms(&got.m, &ev[1], 1, &listing, NULL, &err), 0);
	assert_models_equal(&got.m, &want.m);
	unbuild(&got);
	unbuild(&want);
}

/* Added and removed in one batch: only the other is left. */
static void test_add_remove(void **state)
{
	struct ks_kevent ev[] = { ADD(BPF, 0xffffffffc00219d0, PROG_A),
				  ADD(BPF, 0xffffffffc0021a08, PROG_B),
				  DEL(BPF, 0xffffffffc00219d0, PROG_A) };

	(void)state;
	check_apply("host-6.18/state-a", ev, 3, NULL, NULL,
		    "ffffffffc0021a08 t " PROG_B "\t[bpf]\n");
}

/* The last line of a pseudo-module goes, and the pseudo-module with it. */
static void test_remove_last(void **state)
{
	struct ks_kevent ev[] = { DEL(OOL, 0xffffffffc0201000, "ftrace_trampoline") };

	(void)state;
	check_apply("host-6.18/state-a", ev, 1, FTRACE_LINE, NULL, NULL);
}

/* A new trampoline is listed before the older ones (list_add_rcu). */
static void test_ftrace_newest_first(void **state)
{
	struct ks_kevent ev[] = { ADD(OOL, 0xffffffffc0300000, "ftrace_trampoline") };

	(void)state;
	check_apply("host-6.18/state-a", ev, 1, FTRACE_LINE,
		    "R __stop_runtime_ptr_USER_PTR_MAX\n",
		    "ffffffffc0300000 t ftrace_trampoline\t[__builtin__ftrace]\n" FTRACE_LINE);
}

/* debian-6.1 has modules and no pseudo-module: the new ones go after the
 * modules, ftrace before bpf before kprobes whatever the records' order;
 * kprobe_insn_page pages before kprobe_optinsn_page pages. */
static void test_new_owners_in_kallsyms_order(void **state)
{
	struct ks_kevent ev[] = {
		ADD(OOL, 0xffffffffc0a00000, "kprobe_optinsn_page"),
		ADD(BPF, 0xffffffffc0b00000, PROG_A),
		ADD(OOL, 0xffffffffc0a01000, "kprobe_insn_page"),
		ADD(OOL, 0xffffffffc0c00000, "ftrace_trampoline"),
		ADD(OOL, 0xffffffffc0a02000, "kprobe_optinsn_page"),
	};

	(void)state;
	check_apply("debian-6.1/state-a", ev, 5, NULL, NULL,
		    "ffffffffc0c00000 t ftrace_trampoline\t[__builtin__ftrace]\n"
		    "ffffffffc0b00000 t " PROG_A "\t[bpf]\n"
		    "ffffffffc0a01000 t kprobe_insn_page\t[__builtin__kprobes]\n"
		    "ffffffffc0a02000 t kprobe_optinsn_page\t[__builtin__kprobes]\n"
		    "ffffffffc0a00000 t kprobe_optinsn_page\t[__builtin__kprobes]\n");
}

/* A line the read already saw: nothing to do, the model as it was. */
static void test_idempotent_add(void **state)
{
	struct ks_kevent ev[] = { ADD(OOL, 0xffffffffc0201000, "ftrace_trampoline") };
	struct ks_error err = { 0 };
	struct built got, want;

	(void)state;
	build_edit(&got, "host-6.18/state-a", NULL, NULL, NULL);
	build_edit(&want, "host-6.18/state-a", NULL, NULL, NULL);
	assert_int_equal(ks_model_apply_ksyms(&got.m, ev, 1, &listing, NULL, &err), 1);
	assert_models_equal(&got.m, &want.m);
	/* Added, then added again by a later batch. */
	ev[0] = ADD(BPF, 0xffffffffc00219d0, PROG_A);
	assert_int_equal(ks_model_apply_ksyms(&got.m, ev, 1, &listing, NULL, &err), 0);
	assert_int_equal(ks_model_apply_ksyms(&got.m, ev, 1, &listing, NULL, &err), 1);
	assert_int_equal(got.m.n_syms, want.m.n_syms + 1);
	unbuild(&got);
	unbuild(&want);
}

/* A removal the read already shows (the kernel sends the record before it
 * takes the line out), or one applied again: nothing to do. A line at
 * another address is not the one removed. */
static void test_idempotent_remove(void **state)
{
	struct ks_kevent ev[] = { DEL(BPF, 0xffffffffc00219d0, PROG_A),
				  DEL(OOL, 0xffffffffc0201001, "ftrace_trampoline") };
	struct ks_error err = { 0 };
	struct built got, want;

	(void)state;
	build_edit(&got, "host-6.18/state-a", NULL, NULL, NULL);
	build_edit(&want, "host-6.18/state-a", NULL, NULL, NULL);
	assert_int_equal(ks_model_apply_ksyms(&got.m, ev, 2, &listing, NULL, &err), 1);
	assert_models_equal(&got.m, &want.m);
	/* The real one goes, once. */
	ev[0] = DEL(OOL, 0xffffffffc0201000, "ftrace_trampoline");
	assert_int_equal(ks_model_apply_ksyms(&got.m, ev, 1, &listing, NULL, &err), 0);
	assert_int_equal(got.m.n_syms, want.m.n_syms - 1);
	assert_int_equal(ks_model_apply_ksyms(&got.m, ev, 1, &listing, NULL, &err), 1);
	assert_int_equal(got.m.n_syms, want.m.n_syms - 1);
	unbuild(&got);
	unbuild(&want);
}

/* What does not fit is -ESTALE, and the model is left as it was, even
 * when the batch began with records that fit. */
static void check_stale(struct ks_kevent *ev, size_t n, const char *says)
{
	struct ks_error err = { 0 };
	struct built got, want;

	build_edit(&got, "host-6.18/state-a", NULL, NULL, NULL);
	build_edit(&want, "host-6.18/state-a", NULL, NULL, NULL);
	assert_int_equal(ks_model_apply_ksyms(&got.m, ev, n, &listing, NULL, &err), -ESTALE);
	if (!strstr(err.msg, says))
		fail_msg("\"%s\" does not say \"%s\"", err.msg, says);
	assert_models_equal(&got.m, &want.m);
	unbuild(&got);
	unbuild(&want);
}

static void test_stale(void **state)
{
	struct ks_kevent unknown[] = { ADD(BPF, 0xffffffffc00219d0, PROG_A),
				       ADD(OOL, 0xffffffffc0400000, "some_new_trampoline") };
	struct ks_kevent unknown_del[] = { DEL(BPF, 0xffffffffc00219d0, PROG_A),
					   DEL(OOL, 0xffffffffc0400000, "some_new_trampoline") };
	struct ks_kevent lost[] = { { .kind = KS_KEVENT_LOST, .lost = { KS_LOST_PERF_RECORD, 3 } } };
	struct ks_kevent type3[] = { ADD(3, 0xffffffffc00219d0, PROG_A) };

	(void)state;
	check_stale(unknown, 2, "some_new_trampoline");
	check_stale(unknown_del, 2, "some_new_trampoline");
	check_stale(lost, 1, "not a ksymbol record");
	check_stale(type3, 1, "unknown type");
}

/* When the policy skips everything, nothing changes. */
static void test_skipped(void **state)
{
	struct ks_kevent ev[] = { ADD(BPF, 0xffffffffc00219d0, "") };
	struct ks_dyn_env off = listing;
	struct ks_error err = { 0 };
	struct built got;

	(void)state;
	build_edit(&got, "host-6.18/state-a", NULL, NULL, NULL);
	assert_int_equal(ks_model_apply_ksyms(&got.m, ev, 1, &listing, NULL, &err), 1);
	ev[0].ksym.name = PROG_A;
	off.jit_kallsyms = 0;
	assert_int_equal(ks_model_apply_ksyms(&got.m, ev, 1, &off, NULL, &err), 1);
	assert_int_equal(got.m.n_owners, 2);
	unbuild(&got);
}

static void test_policy(void **state)
{
	struct ks_kevent prog = ADD(BPF, 0xffffffffc00219d0, PROG_A);
	struct ks_kevent tramp = ADD(BPF, 0xffffffffc0025000, "bpf_trampoline_6442525133");
	struct ks_kevent anon = ADD(BPF, 0xffffffffc00219d0, "");
	struct ks_kevent ool = ADD(OOL, 0xffffffffc0201000, "kprobe_optinsn_page");
	struct ks_dyn_env e;
	const char *why;

	(void)state;
	assert_int_equal(ks_dyn_policy(&prog, &listing, &why), KS_DYN_APPLY);
	assert_int_equal(ks_dyn_policy(&tramp, &listing, &why), KS_DYN_APPLY);
	assert_int_equal(ks_dyn_policy(&ool, &listing, &why), KS_DYN_APPLY);
	/* Not taken by bpf_prog_kallsyms_add(): 5.6+ sends no name. */
	assert_int_equal(ks_dyn_policy(&anon, &listing, &why), KS_DYN_SKIP);
	/* bpf_jit_kallsyms_enabled() false: no [bpf] line at all. */
	e = listing;
	e.jit_kallsyms = 0;
	assert_int_equal(ks_dyn_policy(&prog, &e, &why), KS_DYN_SKIP);
	assert_int_equal(ks_dyn_policy(&tramp, &e, &why), KS_DYN_SKIP);
	assert_int_equal(ks_dyn_policy(&ool, &e, &why), KS_DYN_APPLY);
	e = listing;
	e.jit_harden = 1;
	assert_int_equal(ks_dyn_policy(&prog, &e, &why), KS_DYN_SKIP);
	assert_int_equal(ks_dyn_policy(&tramp, &e, &why), KS_DYN_SKIP);
	e.jit_harden = 2;
	assert_int_equal(ks_dyn_policy(&prog, &e, &why), KS_DYN_SKIP);
	/* bpf_jit_enable does not decide the listing. */
	e = listing;
	e.jit_enable = 0;
	assert_int_equal(ks_dyn_policy(&prog, &e, &why), KS_DYN_APPLY);
	/* Sysctls not there: cannot tell. */
	e = listing;
	e.have_bpf = false;
	assert_int_equal(ks_dyn_policy(&prog, &e, &why), KS_DYN_REREAD);
	assert_int_equal(ks_dyn_policy(&ool, &e, &why), KS_DYN_APPLY);
	/* Before 5.6 every program had a named record. */
	e = listing;
	e.kver = KS_KVER(5, 4);
	assert_int_equal(ks_dyn_policy(&prog, &e, &why), KS_DYN_APPLY);	/* unpriv 2 */
	e.unpriv_disabled = 0;
	assert_int_equal(ks_dyn_policy(&prog, &e, &why), KS_DYN_REREAD);
	assert_non_null(why);
	assert_int_equal(ks_dyn_policy(&tramp, &e, &why), KS_DYN_APPLY);
	e.kver = 0;
	assert_int_equal(ks_dyn_policy(&prog, &e, &why), KS_DYN_REREAD);
	prog.ksym.len = 0;
	assert_int_equal(ks_dyn_policy(&prog, &e, &why), KS_DYN_SKIP);
	prog.ksym.len = 64;
	/* kCFI: FineIBT may add a __cfi_ twin no record announces. */
	e = listing;
	e.kcfi = true;
	assert_int_equal(ks_dyn_policy(&prog, &e, &why), KS_DYN_REREAD);
	assert_int_equal(ks_dyn_policy(&tramp, &e, &why), KS_DYN_APPLY);
	/* Unknown out-of-line names. */
	ool.ksym.name = "kprobe_page";
	assert_int_equal(ks_dyn_policy(&ool, &listing, &why), KS_DYN_REREAD);
}

static void test_env_read(void **state)
{
	char *dir = make_tmpdir(), path[4200];
	struct ks_error err = { 0 };
	struct ks_dyn_env env, env2;
	struct ks_root root;

	(void)state;
	assert_non_null(dir);
	open_root(&root, dir);
	assert_int_equal(ks_dyn_env_read(&env, &root, &err), 0);
	assert_false(env.have_bpf);
	assert_int_equal(env.kver, 0);
	ks_root_close(&root);
	snprintf(path, sizeof(path), "%s/proc/sys/net/core/bpf_jit_kallsyms", dir);
	assert_int_equal(write_file(path, "1\n"), 0);
	snprintf(path, sizeof(path), "%s/proc/sys/net/core/bpf_jit_harden", dir);
	assert_int_equal(write_file(path, "0\n"), 0);
	snprintf(path, sizeof(path), "%s/proc/sys/kernel/osrelease", dir);
	assert_int_equal(write_file(path, "6.18.44-fc-v669\n"), 0);
	open_root(&root, dir);
	assert_int_equal(ks_dyn_env_read(&env, &root, &err), 0);
	assert_true(env.have_bpf);
	assert_int_equal(env.jit_kallsyms, 1);
	assert_int_equal(env.jit_harden, 0);
	assert_int_equal(env.jit_enable, -1);
	assert_int_equal(env.kver, KS_KVER(6, 18));
	ks_root_close(&root);
	snprintf(path, sizeof(path), "%s/proc/sys/net/core/bpf_jit_kallsyms", dir);
	assert_int_equal(write_file(path, "0\n"), 0);
	open_root(&root, dir);
	assert_int_equal(ks_dyn_env_read(&env2, &root, &err), 0);
	assert_false(ks_dyn_env_same(&env, &env2));
	ks_root_close(&root);
	snprintf(path, sizeof(path), "%s/proc/sys/net/core/bpf_jit_kallsyms", dir);
	assert_int_equal(write_file(path, "x\n"), 0);
	open_root(&root, dir);
	assert_int_equal(ks_dyn_env_read(&env2, &root, &err), -EINVAL);
	ks_root_close(&root);
	rm_rf(dir);
	free(dir);
}

/* ---- images ------------------------------------------------------------- */

struct image {
	void *data;
	size_t size;
	int fd;
};

static void image_map(struct image *img)
{
	img->data = mmap(NULL, img->size, PROT_READ, MAP_SHARED, img->fd, 0);
	assert_true(img->data != MAP_FAILED);
}

static void image_free(struct image *img)
{
	munmap(img->data, img->size);
	close(img->fd);
}

static void write_fresh(const struct ks_model *m, struct image *img)
{
	struct ks_error err = { 0 };

	img->fd = memfd_create("t", MFD_CLOEXEC);
	assert_true(img->fd >= 0);
	if (ks_elfimage_write(m, img->fd, &img->size, &err) < 0)
		fail_msg("%s", err.msg);
	image_map(img);
}

static void write_live(const struct ks_editimage *ei, struct image *img)
{
	struct ks_error err = { 0 };

	img->fd = memfd_create("t", MFD_CLOEXEC);
	assert_true(img->fd >= 0);
	if (ks_editimage_write(ei, img->fd, &img->size, &err) < 0)
		fail_msg("%s", err.msg);
	image_map(img);
}

/* Same sections, segments and symbols, in the same order, by name. */
static void assert_images_alike(const struct image *a, const struct image *b)
{
	Elf *ea = elf_memory(a->data, a->size), *eb = elf_memory(b->data, b->size);
	size_t na, nb, stra, strb, sha, shb;
	Elf_Scn *sa = NULL, *sb = NULL;

	assert_non_null(ea);
	assert_non_null(eb);
	assert_int_equal(elf_getshdrnum(ea, &na), 0);
	assert_int_equal(elf_getshdrnum(eb, &nb), 0);
	assert_int_equal(na, nb);
	assert_int_equal(elf_getphdrnum(ea, &na), 0);
	assert_int_equal(elf_getphdrnum(eb, &nb), 0);
	assert_int_equal(na, nb);
	for (size_t i = 0; i < na; i++) {
		GElf_Phdr pa, pb;

		assert_non_null(gelf_getphdr(ea, (int)i, &pa));
		assert_non_null(gelf_getphdr(eb, (int)i, &pb));
		assert_int_equal(pa.p_vaddr, pb.p_vaddr);
		assert_int_equal(pa.p_memsz, pb.p_memsz);
		assert_int_equal(pa.p_flags, pb.p_flags);
	}
	assert_int_equal(elf_getshdrstrndx(ea, &sha), 0);
	assert_int_equal(elf_getshdrstrndx(eb, &shb), 0);
	while ((sa = elf_nextscn(ea, sa)) && (sb = elf_nextscn(eb, sb))) {
		GElf_Shdr ha, hb;

		assert_non_null(gelf_getshdr(sa, &ha));
		assert_non_null(gelf_getshdr(sb, &hb));
		assert_string_equal(elf_strptr(ea, sha, ha.sh_name), elf_strptr(eb, shb, hb.sh_name));
		assert_int_equal(ha.sh_type, hb.sh_type);
		assert_int_equal(ha.sh_addr, hb.sh_addr);
		/* .strtab keeps the names of removed symbols, and holds
		 * added ones untouched by tail merging. */
		if (ha.sh_type != SHT_STRTAB)
			assert_int_equal(ha.sh_size, hb.sh_size);
		assert_int_equal(ha.sh_flags, hb.sh_flags);
		assert_int_equal(ha.sh_info, hb.sh_info);
		if (ha.sh_type != SHT_SYMTAB)
			continue;
		stra = ha.sh_link;
		strb = hb.sh_link;
		Elf_Data *da = elf_getdata(sa, NULL), *db = elf_getdata(sb, NULL);

		for (size_t i = 0; i < ha.sh_size / ha.sh_entsize; i++) {
			GElf_Sym ya, yb;

			assert_non_null(gelf_getsym(da, (int)i, &ya));
			assert_non_null(gelf_getsym(db, (int)i, &yb));
			assert_string_equal(elf_strptr(ea, stra, ya.st_name),
					    elf_strptr(eb, strb, yb.st_name));
			assert_int_equal(ya.st_value, yb.st_value);
			assert_int_equal(ya.st_size, yb.st_size);
			assert_int_equal(ya.st_info, yb.st_info);
			assert_int_equal(ya.st_shndx, yb.st_shndx);
		}
	}
	elf_end(ea);
	elf_end(eb);
}

/* A fresh live table writes the bytes ks_elfimage_write() does. */
static void test_editimage_fresh_bytes(void **state)
{
	struct ks_error err = { 0 };
	struct image a, b;
	struct ks_editimage *ei;
	struct built got;

	(void)state;
	elf_version(EV_CURRENT);
	build_edit(&got, "debian-6.1/state-a", NULL, NULL, NULL);
	write_fresh(&got.m, &a);
	assert_int_equal(ks_editimage_new(&ei, &got.m, &listing, &err), 0);
	assert_int_equal(got.m.n_syms, 0);	/* taken over */
	write_live(ei, &b);
	assert_int_equal(a.size, b.size);
	assert_memory_equal(a.data, b.data, a.size);
	image_free(&a);
	image_free(&b);
	ks_editimage_free(ei);
	unbuild(&got);
}

/* After records, the image has what a read would give. */
static void test_editimage_apply_image(void **state)
{
	struct ks_kevent ev[] = { ADD(BPF, 0xffffffffc00219d0, PROG_A),
				  ADD(OOL, 0xffffffffc0300000, "ftrace_trampoline"),
				  ADD(BPF, 0xffffffffc0021a08, PROG_B) };
	struct ks_kevent ev2[] = { DEL(BPF, 0xffffffffc00219d0, PROG_A),
				   DEL(OOL, 0xffffffffc0201000, "ftrace_trampoline") };
	struct ks_error err = { 0 };
	struct built got, want, want2;
	struct ks_editimage *ei;
	struct image a, b;

	(void)state;
	elf_version(EV_CURRENT);
	build_edit(&got, "host-6.18/state-a", NULL, NULL, NULL);
	build_edit(&want, "host-6.18/state-a", FTRACE_LINE, "R __stop_runtime_ptr_USER_PTR_MAX\n",
		   "ffffffffc0300000 t ftrace_trampoline\t[__builtin__ftrace]\n" FTRACE_LINE
		   "ffffffffc00219d0 t " PROG_A "\t[bpf]\n"
		   "ffffffffc0021a08 t " PROG_B "\t[bpf]\n");
	build_edit(&want2, "host-6.18/state-a", FTRACE_LINE, "R __stop_runtime_ptr_USER_PTR_MAX\n",
		   "ffffffffc0300000 t ftrace_trampoline\t[__builtin__ftrace]\n"
		   "ffffffffc0021a08 t " PROG_B "\t[bpf]\n");
	assert_int_equal(ks_editimage_new(&ei, &got.m, &listing, &err), 0);
	assert_int_equal(ks_editimage_apply(ei, ev, 3, &err), 0);
	assert_models_equal(ks_editimage_model(ei), &want.m);
	write_live(ei, &a);
	write_fresh(&want.m, &b);
	assert_images_alike(&a, &b);
	image_free(&a);
	image_free(&b);
	assert_int_equal(ks_editimage_apply(ei, ev2, 2, &err), 0);
	assert_models_equal(ks_editimage_model(ei), &want2.m);
	write_live(ei, &a);
	write_fresh(&want2.m, &b);
	assert_images_alike(&a, &b);
	image_free(&a);
	image_free(&b);
	/* Already so (a removal applied again, an add of a line it has): 1,
	 * ei as it was. */
	assert_int_equal(ks_editimage_apply(ei, ev2, 1, &err), 1);
	assert_int_equal(ks_editimage_apply(ei, &ev[2], 1, &err), 1);
	assert_models_equal(ks_editimage_model(ei), &want2.m);
	ks_editimage_free(ei);
	unbuild(&got);
	unbuild(&want);
	unbuild(&want2);
}

/* Many loads and unloads: the names appended are bounded (merged afresh
 * past a limit), and the image stays right. */
static void test_editimage_churn(void **state)
{
	struct ks_error err = { 0 };
	struct built got, want;
	struct ks_editimage *ei;
	struct image a, b;
	char name[64];
	size_t most = 0;

	(void)state;
	elf_version(EV_CURRENT);
	build_edit(&got, "host-6.18/state-a", NULL, NULL, NULL);
	build_edit(&want, "host-6.18/state-a", NULL, NULL,
		   "ffffffffc0021a08 t " PROG_B "\t[bpf]\n");
	assert_int_equal(ks_editimage_new(&ei, &got.m, &listing, &err), 0);
	for (unsigned int i = 0; i < 5000; i++) {
		struct ks_kevent ev[2];

		snprintf(name, sizeof(name), "bpf_prog_%016x_churn", i);
		ev[0] = ADD(BPF, 0xffffffffc1000000ull + i * 64, name);
		ev[1] = DEL(BPF, 0xffffffffc1000000ull + i * 64, name);
		assert_int_equal(ks_editimage_apply(ei, &ev[0], 1, &err), 0);
		assert_int_equal(ks_editimage_apply(ei, &ev[1], 1, &err), 0);
		if (ks_editimage_appended(ei) > most)
			most = ks_editimage_appended(ei);
	}
	assert_true(most > 0);
	assert_true(most < (size_t)1 << 20);
	assert_true(ks_editimage_appended(ei) < most);	/* merged at least once */
	{
		struct ks_kevent ev = ADD(BPF, 0xffffffffc0021a08, PROG_B);

		assert_int_equal(ks_editimage_apply(ei, &ev, 1, &err), 0);
	}
	assert_models_equal(ks_editimage_model(ei), &want.m);
	write_live(ei, &a);
	write_fresh(&want.m, &b);
	assert_images_alike(&a, &b);
	image_free(&a);
	image_free(&b);
	ks_editimage_free(ei);
	unbuild(&got);
	unbuild(&want);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_add_bpf_after_ftrace),
		cmocka_unit_test(test_add_one_by_one),
		cmocka_unit_test(test_add_remove),
		cmocka_unit_test(test_remove_last),
		cmocka_unit_test(test_ftrace_newest_first),
		cmocka_unit_test(test_new_owners_in_kallsyms_order),
		cmocka_unit_test(test_idempotent_add),
		cmocka_unit_test(test_idempotent_remove),
		cmocka_unit_test(test_stale),
		cmocka_unit_test(test_skipped),
		cmocka_unit_test(test_policy),
		cmocka_unit_test(test_env_read),
		cmocka_unit_test(test_editimage_fresh_bytes),
		cmocka_unit_test(test_editimage_apply_image),
		cmocka_unit_test(test_editimage_churn),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
