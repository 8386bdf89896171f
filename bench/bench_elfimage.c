/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * How long ks_elfimage_write takes for a real-sized kernel.
 *
 *	bench_elfimage [ROOT [ROUNDS [OUT.elf]]]
 *
 * ROOT is a tree as ksymsd --root takes it (proc/kallsyms, proc/modules,
 * sys/module/<name>/sections, uname-m), "/" for the running system; it
 * defaults to $KSYMS_FIXTURES/host-6.18/state-a, else tests/fixtures/....
 * The model is built by the daemon's own code (kallsyms.c, modules.c,
 * model.c), and not timed: this times the writer alone. It prints the median
 * (and fastest, and CPU time) of ROUNDS runs, then the same with every name
 * empty: the difference is what the names cost (strtab.c, writing .strtab).
 * OUT.elf, if given, gets the image (the one ksymsd --dump writes for ROOT),
 * for eu-elflint, gdb and the like.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "engine/elfimage.h"
#include "engine/kallsyms.h"
#include "engine/model.h"
#include "engine/modules.h"

static double now_ms(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void fail(const char *what, const struct ks_error *err)
{
	fprintf(stderr, "bench_elfimage: %s: %s\n", what, err->msg);
	exit(1);
}

static void die(const char *what)
{
	perror(what);
	exit(1);
}

/* As the daemon does for a root: <root>/uname-m, else x86_64 (the fixtures). */
static void target_for_root(const char *root, struct ks_target *t)
{
	char path[4200], machine[65] = "x86_64";
	struct ks_error err = { 0 };
	FILE *f;

	snprintf(path, sizeof(path), "%s/uname-m", root);
	f = fopen(path, "re");
	if (f) {
		if (fgets(machine, sizeof(machine), f))
			machine[strcspn(machine, "\n")] = '\0';
		fclose(f);
	}
	if (ks_target_from_machine(machine, t) < 0) {
		ks_error_set(&err, ENOTSUP, "unsupported machine \"%s\"", machine);
		fail(path, &err);
	}
}

struct timing {
	double wall, wall_min, cpu;	/* medians, and the fastest run */
};

static struct timing run(const struct ks_model *m, int fd, int rounds, size_t *size)
{
	double *wall = malloc(rounds * sizeof(*wall)), *cpu = malloc(rounds * sizeof(*cpu));
	struct ks_error err = { 0 };
	struct timing t;

	for (int i = 0; i < rounds; i++) {
		double w = now_ms(CLOCK_MONOTONIC), c = now_ms(CLOCK_THREAD_CPUTIME_ID);

		if (ks_elfimage_write(m, fd, size, &err) < 0) {
			fprintf(stderr, "ks_elfimage_write: %s\n", err.msg);
			exit(1);
		}
		wall[i] = now_ms(CLOCK_MONOTONIC) - w;
		cpu[i] = now_ms(CLOCK_THREAD_CPUTIME_ID) - c;
	}
	qsort(wall, rounds, sizeof(*wall), cmp_double);
	qsort(cpu, rounds, sizeof(*cpu), cmp_double);
	t = (struct timing){ wall[rounds / 2], wall[0], cpu[rounds / 2] };
	free(wall);
	free(cpu);
	return t;
}

int main(int argc, char **argv)
{
	char root[4096], path[4200];
	const char *fix = getenv("KSYMS_FIXTURES");
	int rounds = argc > 2 && atoi(argv[2]) > 0 ? atoi(argv[2]) : 31, fd, out;
	struct ks_error err = { 0 };
	struct ks_kallsyms ks = { 0 };
	struct ks_modlist mods = { 0 };
	struct ks_model m = { 0 };
	struct ks_target target;
	size_t size, size_noname;
	struct timing full, noname;
	void *map;

	if (argc > 1 && *argv[1])
		snprintf(root, sizeof(root), "%s", argv[1]);
	else
		snprintf(root, sizeof(root), "%s/host-6.18/state-a", fix ? fix : "tests/fixtures");
	snprintf(path, sizeof(path), "%s/proc/kallsyms", root);
	target_for_root(root, &target);
	if (ks_kallsyms_read(&ks, path, NULL, &err) < 0)
		fail(path, &err);
	if (ks_modlist_read(&mods, root, &err) < 0)
		fail(root, &err);
	/*
	 * Twice, as a running daemon has built and freed a model before: glibc
	 * raises its mmap threshold when a big block is freed, and only then
	 * do the writer's big buffers come from reused heap instead of fresh
	 * pages. Built once, the rounds would time page faults a daemon does
	 * not take from its second snapshot on.
	 */
	for (int i = 0; i < 2; i++) {
		ks_model_release(&m);
		if (ks_model_build(&m, &ks, &mods, &target, &err) < 0)
			fail("model", &err);
	}

	fd = memfd_create("ksyms-bench", MFD_CLOEXEC);
	if (fd < 0)
		die("memfd_create");
	full = run(&m, fd, rounds, &size);

	if (argc > 3) {
		map = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
		out = open(argv[3], O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (map == MAP_FAILED || out < 0 || write(out, map, size) != (ssize_t)size)
			die(argv[3]);
		close(out);
		munmap(map, size);
	}

	/* The model is ours to change: names point into ks, which stays. */
	for (size_t i = 0; i < m.n_syms; i++)
		m.syms[i].name_len = 0;
	for (size_t o = 0; o < m.n_owners; o++)
		m.owners[o].name = "";
	noname = run(&m, fd, rounds, &size_noname);

	printf("%s: %zu symbols, %zu owners, %zu locals, image %zu bytes\n",
	       root, m.n_syms, m.n_owners, m.n_locals, size);
	printf("%d runs: median %.2f ms (fastest %.2f, cpu %.2f); without names %.2f ms "
	       "(fastest %.2f, cpu %.2f): names cost %.0f%%\n", rounds, full.wall, full.wall_min,
	       full.cpu, noname.wall, noname.wall_min, noname.cpu,
	       100 * (full.wall - noname.wall) / full.wall);
	close(fd);
	ks_model_release(&m);
	ks_modlist_release(&mods);
	ks_kallsyms_release(&ks);
	return 0;
}
