/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * bench/dynsyms: the image after a BPF program load, from an editable image,
 * against reading /proc/kallsyms.
 *
 * Builds the model once (from ROOT's kallsyms and modules, not timed),
 * keeps it as an editable image, then alternates N times: (a) read
 * ROOT/proc/kallsyms to the end, nothing else; (b) apply one BPF program
 * add and write the image into a new memfd, sealed, as an open would get
 * it; (c) the same for its remove; (d) the full writer, ks_elfimage_write(),
 * on the model as it is, into a new memfd. Prints the medians and the
 * ratios to (a). The target for (b): <= 1.0x.
 * The env is one that lists BPF programs, whatever the host's sysctls.
 * Usage: dynsyms [-n N] [-r ROOT] [-u]   (-u: malloc untuned)
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/perf_event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "benchutil.h"

#include "daemon/memtune.h"
#include "engine/elfimage.h"
#include "engine/kallsyms.h"
#include "engine/editimage.h"
#include "engine/model.h"
#include "engine/modules.h"
#include "engine/text.h"

#define SEALS (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL)

static void die(const char *what, const struct ks_error *err)
{
	fprintf(stderr, "dynsyms: %s: %s\n", what, err ? err->msg : strerror(errno));
	exit(1);
}

/* A new sealed image, as the daemon makes one; its size. */
static size_t image(const struct ks_editimage *ei, const struct ks_model *full)
{
	struct ks_error err = { 0 };
	int fd = memfd_create("ksyms-bench", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	size_t size;
	int r;

	if (fd < 0)
		die("memfd_create", NULL);
	r = ei ? ks_editimage_write(ei, fd, &size, &err) : ks_elfimage_write(full, fd, &size, &err);
	if (r < 0)
		die("write", &err);
	if (fcntl(fd, F_ADD_SEALS, SEALS) < 0)
		die("seal", NULL);
	close(fd);
	return size;
}

int main(int argc, char **argv)
{
	const char *root_path = "/";
	size_t cap = (size_t)64 << 20, bytes = 0, size = 0;
	struct ks_dyn_env env;
	struct ks_error err = { 0 };
	struct ks_kallsyms ks = { 0 };
	struct ks_modlist mods = { 0 };
	struct ks_model m = { 0 };
	struct ks_editimage *ei;
	struct ks_target target;
	struct ks_text text;
	struct ks_root root;
	double *t_read, *t_add, *t_del, *t_full;
	char *buf = malloc(cap);
	bool tune = true;
	int n = 21;

	if (bench_options(argc, argv, &n, &root_path, &tune))
		return 2;
	if (tune)
		ks_malloc_tune();
	t_read = calloc((size_t)n, sizeof(double));
	t_add = calloc((size_t)n, sizeof(double));
	t_del = calloc((size_t)n, sizeof(double));
	t_full = calloc((size_t)n, sizeof(double));
	if (!buf || !t_read || !t_add || !t_del || !t_full)
		die("malloc", NULL);
	if (ks_root_open(&root, root_path, &err) < 0)
		die(root_path, &err);
	if (ks_target_from_machine("x86_64", &target) < 0)
		return 1;
	if (ks_text_read(&root, "proc/kallsyms", &text, &err) < 0 ||
	    ks_kallsyms_parse(&ks, text.data, text.len, &err) < 0)
		die("proc/kallsyms", &err);
	if (ks_modlist_read(&mods, &root, &err) < 0)
		die("modules", &err);
	if (ks_model_build(&m, &ks, &mods, &target, &err) < 0)
		die("model", &err);
	if (ks_dyn_env_read(&env, &root, &err) < 0)
		die("sysctls", &err);
	env.have_bpf = true;
	env.jit_kallsyms = 1;
	env.jit_harden = 0;
	env.kver = KS_KVER(6, 18);
	if (ks_editimage_new(&ei, &m, &env, &err) < 0)
		die("editimage", &err);

	for (int i = 0; i < n; i++) {
		struct ks_kevent ev = {
			.kind = KS_KEVENT_KSYM_ADD,
			.ksym = { .addr = 0xffffffffc0f00000ull + (uint64_t)i * 4096, .len = 64,
				  .type = PERF_RECORD_KSYMBOL_TYPE_BPF,
				  .name = "bpf_prog_6deef7357e7b4530_sd_fw_egress" },
		};
		double t0;

		t0 = now_ms();
		if (read_kallsyms(&root, buf, cap, &bytes) < 0)
			die("read proc/kallsyms", NULL);
		t_read[i] = now_ms() - t0;

		t0 = now_ms();
		if (ks_editimage_apply(ei, &ev, 1, &err) != 0)
			die("apply add", &err);
		size = image(ei, NULL);
		t_add[i] = now_ms() - t0;

		ev.kind = KS_KEVENT_KSYM_REMOVE;
		t0 = now_ms();
		if (ks_editimage_apply(ei, &ev, 1, &err) != 0)
			die("apply remove", &err);
		image(ei, NULL);
		t_del[i] = now_ms() - t0;

		t0 = now_ms();
		image(NULL, ks_editimage_model(ei));
		t_full[i] = now_ms() - t0;
	}
	{
		double r = median(t_read, n), a = median(t_add, n), d = median(t_del, n),
		       f = median(t_full, n);

		printf("runs:                      %d\n", n);
		printf("symbols:                   %zu (%zu bytes of kallsyms, image %zu bytes)\n",
		       ks_editimage_model(ei)->n_syms, bytes, size);
		printf("read /proc/kallsyms:       %.2f ms (median)\n", r);
		printf("apply BPF add + image:     %.2f ms (median)  %.2fx the read\n", a, a / r);
		printf("apply BPF remove + image:  %.2f ms (median)  %.2fx the read\n", d, d / r);
		printf("full writer (reference):   %.2f ms (median)  %.2fx the read\n", f, f / r);
		printf("target:                    <= 1.0x\n");
	}
	ks_editimage_free(ei);
	ks_modlist_release(&mods);
	ks_kallsyms_release(&ks);
	ks_text_release(&text);
	ks_root_close(&root);
	free(buf);
	free(t_read);
	free(t_add);
	free(t_del);
	free(t_full);
	return 0;
}
