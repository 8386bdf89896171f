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

#include "daemon/memtune.h"
#include "engine/elfimage.h"
#include "engine/kallsyms.h"
#include "engine/model.h"
#include "engine/modules.h"
#include "engine/text.h"

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
static void target_for_root(const struct ks_root *root, struct ks_target *t)
{
	char machine[65] = "x86_64";
	struct ks_error err = { 0 };
	int fd = ks_root_open_file(root, "uname-m", NULL);
	ssize_t n;

	if (fd >= 0) {
		n = read(fd, machine, sizeof(machine) - 1);
		if (n > 0)
			machine[n] = '\0';
		machine[strcspn(machine, "\n")] = '\0';
		close(fd);
	}
	if (ks_target_from_machine(machine, t) < 0) {
		ks_error_set(&err, ENOTSUP, "unsupported machine \"%s\"", machine);
		fail("uname-m", &err);
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
	char path[4200];
	const char *fix = getenv("KSYMS_FIXTURES");
	const char **owner_names;
	struct ks_root root;
	struct ks_text text;
	int rounds = argc > 2 && atoi(argv[2]) > 0 ? atoi(argv[2]) : 31, fd, out;
	struct ks_error err = { 0 };
	struct ks_kallsyms ks = { 0 };
	struct ks_modlist mods = { 0 };
	struct ks_model m = { 0 };
	struct ks_target target;
	size_t size, size_noname;
	struct timing full, noname;
	void *map;

	/* malloc as the daemon has it: the writer's big buffers are fresh
	 * mappings at every image (src/daemon/memtune.h). */
	ks_malloc_tune();
	if (argc > 1 && *argv[1])
		snprintf(path, sizeof(path), "%s", argv[1]);
	else
		snprintf(path, sizeof(path), "%s/host-6.18/state-a", fix ? fix : "tests/fixtures");
	if (ks_root_open(&root, path, &err) < 0)
		fail(path, &err);
	target_for_root(&root, &target);
	if (ks_text_read(&root, "proc/kallsyms", &text, &err) < 0 ||
	    ks_kallsyms_parse(&ks, text.data, text.len, &err) < 0)
		fail("proc/kallsyms", &err);
	if (ks_modlist_read(&mods, &root, &err) < 0)
		fail("modules", &err);
	if (ks_model_build(&m, &ks, &mods, &target, &err) < 0)
		fail("model", &err);

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

	/* The model is ours to change (the owners' names are put back for
	 * ks_model_release, which frees some). */
	owner_names = malloc(m.n_owners * sizeof(*owner_names));
	if (!owner_names)
		die("malloc");
	for (size_t i = 0; i < m.n_syms; i++)
		m.syms[i].name_len = 0;
	for (size_t o = 0; o < m.n_owners; o++) {
		owner_names[o] = m.owners[o].name;
		m.owners[o].name = "";
	}
	noname = run(&m, fd, rounds, &size_noname);
	for (size_t o = 0; o < m.n_owners; o++)
		m.owners[o].name = owner_names[o];
	free(owner_names);

	printf("%s: %zu symbols, %zu owners, %zu locals, image %zu bytes\n",
	       path, m.n_syms, m.n_owners, m.n_locals, size);
	printf("%d runs: median %.2f ms (fastest %.2f, cpu %.2f); without names %.2f ms "
	       "(fastest %.2f, cpu %.2f): names cost %.0f%%\n", rounds, full.wall, full.wall_min,
	       full.cpu, noname.wall, noname.wall_min, noname.cpu,
	       100 * (full.wall - noname.wall) / full.wall);
	close(fd);
	ks_model_release(&m);
	ks_modlist_release(&mods);
	ks_kallsyms_release(&ks);
	ks_text_release(&text);
	ks_root_close(&root);
	return 0;
}
