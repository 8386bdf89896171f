/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * How long ks_elfimage_write takes for a real-sized kernel.
 *
 *	bench_elfimage [KALLSYMS [ROUNDS [OUT.elf]]]
 *
 * KALLSYMS defaults to $KSYMS_FIXTURES/host-6.18/state-a/proc/kallsyms, else
 * tests/fixtures/... (122k symbols). The model is built here by a quick
 * parse, independent of kallsyms.c and model.c, so this times the writer
 * alone: kernel regions from the linker markers, one ".text" per module
 * spanning its symbols. It prints the median (and fastest, and CPU time) of
 * ROUNDS runs, then the same with every name empty: the difference is what
 * the names cost (bucketing, dwelf_strtab, writing .strtab). OUT.elf, if
 * given, gets the image, for eu-elflint, gdb and the like.
 */
#include <elf.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "engine/elfimage.h"

static const struct {
	const char *name, *start, *end;
	uint32_t flags;
} kregions[] = {
	{ ".text", "_stext", "_etext", KS_REGION_EXEC },
	{ ".rodata", "__start_rodata", "__end_rodata", 0 },
	{ ".data", "_sdata", "_edata", KS_REGION_WRITE },
	{ ".init.text", "_sinittext", "_einittext", KS_REGION_EXEC },
	{ ".bss", "__bss_start", "__bss_stop", KS_REGION_WRITE },
};
#define N_KREGIONS (sizeof(kregions) / sizeof(kregions[0]))

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

static int cmp_addr(const void *a, const void *b)
{
	const struct ks_sym *x = *(struct ks_sym *const *)a, *y = *(struct ks_sym *const *)b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

static void die(const char *what)
{
	perror(what);
	exit(1);
}

static void letter_to_elf(char c, struct ks_sym *s)
{
	char l = c | 0x20;

	s->bind = c == 'W' || c == 'w' || c == 'V' || c == 'v' ? STB_WEAK :
		c >= 'a' ? STB_LOCAL : STB_GLOBAL;
	s->type = l == 't' || l == 'w' ? STT_FUNC :
		l == 'd' || l == 'b' || l == 'r' || l == 'v' ? STT_OBJECT : STT_NOTYPE;
}

/* Parse "ADDR T NAME[\t[MOD]]" lines; owners in first-seen order. */
static void build_model(char *text, struct ks_model *m)
{
	size_t cap = 1024, n = 0, cap_o = 8;
	struct ks_sym *raw = malloc(cap * sizeof(*raw));
	struct ks_owner *ow = calloc(cap_o, sizeof(*ow));
	uint64_t marks[2 * N_KREGIONS] = { 0 };

	ow[0].name = "vmlinux";
	ow[0].kind = KS_OWNER_KERNEL;
	m->n_owners = 1;
	for (char *line = text, *next; *line; line = next) {
		struct ks_sym *s;
		char *name, *mod, *nl = strchr(line, '\n');
		uint32_t o = 0;

		next = nl ? nl + 1 : line + strlen(line);
		if (nl)
			*nl = '\0';
		if (n == cap)
			raw = realloc(raw, (cap *= 2) * sizeof(*raw));
		s = &raw[n++];
		memset(s, 0, sizeof(*s));
		s->addr = strtoull(line, &name, 16);
		s->letter = name[1];
		name += 3;
		mod = strchr(name, '\t');
		if (mod) {
			*mod = '\0';
			mod += 2;
			mod[strlen(mod) - 1] = '\0';
			for (o = 1; o < m->n_owners && strcmp(ow[o].name, mod); o++)
				;
			if (o == m->n_owners) {
				if (o == cap_o)
					ow = realloc(ow, (cap_o *= 2) * sizeof(*ow));
				memset(&ow[o], 0, sizeof(ow[o]));
				ow[o].name = mod;
				ow[o].kind = strncmp(mod, "__builtin__", 11) &&
					strcmp(mod, "bpf") ? KS_OWNER_MODULE : KS_OWNER_PSEUDO;
				ow[o].regions = calloc(1, sizeof(*ow[o].regions));
				ow[o].regions[0] = (struct ks_region){ ".text", UINT64_MAX, 0, KS_REGION_EXEC };
				ow[o].n_regions = 1;
				m->n_owners++;
			}
		}
		s->name = name;
		s->name_len = strlen(name);
		s->owner = o;
		letter_to_elf(s->letter, s);
		for (size_t k = 0; !o && k < 2 * N_KREGIONS; k++)
			if (!strcmp(name, k & 1 ? kregions[k / 2].end : kregions[k / 2].start))
				marks[k] = s->addr;
		if (o && (s->letter | 0x20) != 'a') {
			struct ks_region *r = &ow[o].regions[0];
			uint64_t end = r->addr + r->size;

			if (r->addr == UINT64_MAX)
				end = s->addr + 1;
			if (s->addr < r->addr)
				r->addr = s->addr;
			r->size = (s->addr + 1 > end ? s->addr + 1 : end) - r->addr;
		}
	}
	ow[0].regions = calloc(N_KREGIONS, sizeof(*ow[0].regions));
	for (size_t k = 0; k < N_KREGIONS; k++)
		if (marks[2 * k] && marks[2 * k + 1] > marks[2 * k])
			ow[0].regions[ow[0].n_regions++] = (struct ks_region){
				kregions[k].name, marks[2 * k],
				marks[2 * k + 1] - marks[2 * k], kregions[k].flags };

	/* Group by owner (stable), then region and size per symbol. */
	m->syms = malloc(n * sizeof(*m->syms));
	m->n_syms = n;
	for (size_t o = 0, at = 0; o < m->n_owners; o++) {
		ow[o].first_sym = at;
		for (size_t i = 0; i < n; i++)
			if (raw[i].owner == o)
				m->syms[at++] = raw[i];
		ow[o].n_syms = at - ow[o].first_sym;
	}
	m->n_locals = 0;
	for (size_t i = 0; i < n; i++) {
		struct ks_sym *s = &m->syms[i];
		const struct ks_owner *o = &ow[s->owner];

		m->n_locals += s->bind == STB_LOCAL;
		s->region = KS_REGION_ABS;
		for (uint32_t r = 0; (s->letter | 0x20) != 'a' && r < o->n_regions; r++)
			if (s->addr >= o->regions[r].addr &&
			    s->addr < o->regions[r].addr + o->regions[r].size)
				s->region = r;
	}
	/* Size: up to the next higher address in the same region (module
	 * symbols are not sorted in kallsyms, so sort a copy). */
	{
		struct ks_sym **by = malloc(n * sizeof(*by));

		for (size_t i = 0; i < n; i++)
			by[i] = &m->syms[i];
		qsort(by, n, sizeof(*by), cmp_addr);
		for (size_t i = 0; i < n; i++) {
			const struct ks_region *rg;
			uint64_t end;
			size_t j = i + 1;

			if (by[i]->region == KS_REGION_ABS)
				continue;
			rg = &ow[by[i]->owner].regions[by[i]->region];
			end = rg->addr + rg->size;
			while (j < n && by[j]->addr == by[i]->addr)
				j++;
			if (j < n && by[j]->addr < end)
				end = by[j]->addr;
			by[i]->size = end - by[i]->addr;
		}
		free(by);
	}
	m->owners = ow;
	free(raw);
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
	char path[4096], *text;
	const char *fix = getenv("KSYMS_FIXTURES");
	int rounds = argc > 2 && atoi(argv[2]) > 0 ? atoi(argv[2]) : 31, fd, out;
	struct ks_model m = { .target = { ELFCLASS64, ELFDATA2LSB, EM_X86_64 } };
	struct stat st;
	size_t size, size_noname;
	struct timing full, noname;
	void *map;

	if (argc > 1 && *argv[1])
		snprintf(path, sizeof(path), "%s", argv[1]);
	else
		snprintf(path, sizeof(path), "%s/host-6.18/state-a/proc/kallsyms",
			 fix ? fix : "tests/fixtures");
	fd = open(path, O_RDONLY);
	if (fd < 0 || fstat(fd, &st) < 0)
		die(path);
	text = malloc(st.st_size + 1);
	if (read(fd, text, st.st_size) != st.st_size)
		die("read");
	text[st.st_size] = '\0';
	close(fd);
	build_model(text, &m);

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

	for (size_t i = 0; i < m.n_syms; i++)
		m.syms[i].name_len = 0;
	for (size_t o = 0; o < m.n_owners; o++)
		m.owners[o].name = "";
	noname = run(&m, fd, rounds, &size_noname);

	printf("%s: %zu symbols, %zu owners, %zu locals, image %zu bytes\n",
	       path, m.n_syms, m.n_owners, m.n_locals, size);
	printf("%d runs: median %.2f ms (fastest %.2f, cpu %.2f); without names %.2f ms "
	       "(fastest %.2f, cpu %.2f): names cost %.0f%%\n", rounds, full.wall, full.wall_min,
	       full.cpu, noname.wall, noname.wall_min, noname.cpu,
	       100 * (full.wall - noname.wall) / full.wall);
	return 0;
}
