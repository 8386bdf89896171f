/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * libFuzzer: ksymbol records applied to a kept model (dynsyms.c) and the
 * images of the editable image that keeps it (editimage.c).
 *
 * The input picks a small x86_64 kallsyms (the mini fixture's lines, held
 * here, with or without [__builtin__ftrace], [bpf], [__builtin__kprobes]
 * and an unknown tag's lines), an env (the BPF sysctls, the kernel version),
 * then batches of PERF_RECORD_KSYMBOL events: add or remove (or now and
 * then a loss), type BPF, OOL or another, an address and a name from small
 * sets, so that adds and removes collide and every branch of the policy is
 * reached. Each batch goes through ks_editimage_apply(), and after it:
 *
 *  - the result is 0, 1, -ESTALE or -ENOMEM; -ESTALE exactly when a record
 *    of the batch is REREAD by ks_dyn_policy(), and then the model is as
 *    it was (counts, and the pseudo-modules' lines);
 *  - the pseudo-modules' lines are those this program keeps itself by the
 *    rules dynsyms.h documents (APPLY adds a line not there, removes one
 *    there; SKIP nothing; a new ftrace trampoline and kprobe page first,
 *    a BPF symbol last, optinsn pages after the insn pages; the owners in
 *    kallsyms' order), in order; 1 exactly when no record changed a line;
 *  - the model is field by field the one ks_model_build() makes from the
 *    same kallsyms with those lines (regions, sizes, n_locals);
 *  - the image ks_editimage_write() makes reads back with libelf: header,
 *    sections, and every symbol where elfimage.c puts it, named as the
 *    model names it;
 *  - every fourth batch and after the last, it has the sections, segments
 *    and symbols (by name, not .strtab offset) of a fresh
 *    ks_elfimage_write() of the same model.
 *
 * Names given to apply are copies freed after the batch: a model that kept
 * a pointer into a record would read freed memory (ASan).
 */
#include <elf.h>
#include <errno.h>
#include <gelf.h>
#include <linux/perf_event.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/dynsyms.h"
#include "engine/editimage.h"
#include "engine/elfimage.h"
#include "engine/kallsyms.h"
#include "engine/model.h"
#include "engine/modules.h"
#include "fuzzinput.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* ---- the kernel ---------------------------------------------------------- */

/* The mini fixture's kernel and module lines (tests/fixtures/mini). */
/* clang-format off */
static const char base_text[] =
	"0000000000000000 A __per_cpu_start\n"
	"0000000000000040 A pcpu_var\n"
	"0000000000001000 A __per_cpu_end\n"
	"ffffffff81000000 T _stext\n"
	"ffffffff81000000 T _text\n"
	"ffffffff81000000 T alias_a\n"
	"ffffffff81000000 t alias_b\n"
	"ffffffff81000010 W weak_fn\n"
	"ffffffff81000020 t dup\n"
	"ffffffff81000030 t dup\n"
	"ffffffff81000100 T _etext\n"
	"ffffffff81200000 R __start_rodata\n"
	"ffffffff81200000 r const_tbl\n"
	"ffffffff81200800 V weak_obj\n"
	"ffffffff81201000 D __end_rodata\n"
	"ffffffff81400000 D _sdata\n"
	"ffffffff81400000 D data_var\n"
	"ffffffff81400100 d local_data\n"
	"ffffffff81401000 D _edata\n"
	"ffffffff81800000 B __bss_start\n"
	"ffffffff81800000 b bss_var\n"
	"ffffffff81802000 B __bss_stop\n";
/* With FineIBT a kernel has __cfi_ twins: env.kcfi. */
static const char cfi_line[] = "ffffffff81000008 t __cfi_weak_fn\n";
static const char mod_text[] =
	"ffffffffa0000000 t mod_b_fn\t[modb]\n"
	"ffffffffa0001000 d mod_b_data\t[modb]\n"
	"ffffffffa0000040 T mod_b_export\t[modb]\n"
	"ffffffffc0000100 t mod_a_fn2\t[moda]\n"
	"ffffffffc0000000 T mod_a_fn\t[moda]\n"
	"ffffffffc0002000 b mod_a_bss\t[moda]\n"
	"0000000000000010 a mod_a_pcpu\t[moda]\n"
	"ffffffffc0000000 t dup\t[moda]\n";
static const char modules_text[] =
	"modb 8192 0 - Live 0xffffffffa0000000\n"
	"empty 4096 0 - Live 0xffffffffb0000000\n"
	"moda 12288 1 modb, Live 0xffffffffc0000000 (OE)\n";
/* clang-format on */

/* ---- what the records carry ---------------------------------------------- */

static const uint64_t addrs[] = {
	0xffffffffc0200000ull, 0xffffffffc0200040ull,
	0xffffffffc0201000ull, 0xffffffffc0300000ull,
	0xffffffffc0300800ull, 0xffffffffc0000100ull, /* in moda */
	0xffffffffc0400ff8ull, 0,
};

#define PROG_A "bpf_prog_037c447e5d155045_k"
#define PROG_B "bpf_prog_9ff3683733a23ae6_ks"

static char long_ok[KS_NAME_MAX];	/* the longest name kallsyms lists */
static char long_bad[KS_NAME_MAX + 1];	/* one longer */
static char long_var[256][KS_NAME_MAX]; /* long_ok with 2 hex digits changed */

static const char *names[] = {
	PROG_A,
	PROG_B,
	"bpf_prog_0000000000000000",
	"bpf_trampoline_6442525133",
	"bpf_dispatcher_xdp",
	"ftrace_trampoline",
	"kprobe_insn_page",
	"kprobe_optinsn_page",
	"kprobe_page", /* an out-of-line name nobody knows */
	"",
	NULL,
	long_ok,
	long_bad,
};

#define TAG_FTRACE "__builtin__ftrace"
#define TAG_BPF "bpf"
#define TAG_KPROBES "__builtin__kprobes"
#define TAG_OTHER "ftmod" /* a tag of no module: before the others */

/* ---- the expected tail --------------------------------------------------- */

#define MAX_LINES 1024

struct xline {
	const char *name; /* static */
	uint64_t addr;
};

struct xowner {
	const char *tag;
	struct xline lines[MAX_LINES];
	size_t n;
};

/* In kallsyms' order: unknown tags, ftrace, bpf, kprobes. */
enum { X_OTHER, X_FTRACE, X_BPF, X_KPROBES, N_X };

static const char *const xtags[N_X] = { TAG_OTHER, TAG_FTRACE, TAG_BPF, TAG_KPROBES };

struct expect {
	struct xowner o[N_X];
};

static void x_insert(struct xowner *o, size_t at, const char *name, uint64_t addr)
{
	CHECK(o->n < MAX_LINES);
	memmove(&o->lines[at + 1], &o->lines[at], (o->n - at) * sizeof(*o->lines));
	o->lines[at] = (struct xline){ .name = name, .addr = addr };
	o->n++;
}

static ssize_t x_find(const struct xowner *o, const char *name, uint64_t addr)
{
	for (size_t i = 0; i < o->n; i++)
		if (o->lines[i].addr == addr && !strcmp(o->lines[i].name, name))
			return (ssize_t)i;
	return -1;
}

/* Where kallsyms lists a new line (dynsyms.h): a trampoline or page the
 * newest first, optinsn pages after the insn pages, BPF in load order. */
static size_t x_where(const struct xowner *o, int x, const char *name)
{
	size_t at = 0;

	if (x == X_BPF)
		return o->n;
	if (!strcmp(name, "kprobe_optinsn_page"))
		for (size_t i = 0; i < o->n; i++)
			if (!strcmp(o->lines[i].name, "kprobe_insn_page"))
				at = i + 1;
	return at;
}

/* One APPLY record; whether it changed a line. */
static bool x_apply(struct expect *x, const struct ks_kevent *ev, const char *name)
{
	int k;
	struct xowner *o;
	ssize_t at;

	if (ev->ksym.type == PERF_RECORD_KSYMBOL_TYPE_BPF)
		k = X_BPF;
	else if (!strcmp(name, "ftrace_trampoline"))
		k = X_FTRACE;
	else {
		CHECK(!strcmp(name, "kprobe_insn_page") || !strcmp(name, "kprobe_optinsn_page"));
		k = X_KPROBES;
	}
	o = &x->o[k];
	at = x_find(o, name, ev->ksym.addr);
	if (ev->kind == KS_KEVENT_KSYM_ADD) {
		if (at >= 0)
			return false;
		x_insert(o, x_where(o, k, name), name, ev->ksym.addr);
		return true;
	}
	if (at < 0)
		return false;
	memmove(&o->lines[at], &o->lines[at + 1], (o->n - (size_t)at - 1) * sizeof(*o->lines));
	o->n--;
	return true;
}

/* ---- the kallsyms text ------------------------------------------------- */

static void text_line(struct text *t, uint64_t addr, const char *name, const char *tag)
{
	char head[32];

	snprintf(head, sizeof(head), "%016llx t ", (unsigned long long)addr);
	text_add(t, head, strlen(head));
	text_add(t, name, strlen(name));
	text_add(t, "\t[", 2);
	text_add(t, tag, strlen(tag));
	text_add(t, "]\n", 2);
}

/* The kallsyms a read would give now. */
static void text_of(struct text *t, bool cfi, const struct expect *x)
{
	text_add(t, base_text, sizeof(base_text) - 1);
	if (cfi)
		text_add(t, cfi_line, sizeof(cfi_line) - 1);
	text_add(t, mod_text, sizeof(mod_text) - 1);
	for (int k = 0; k < N_X; k++)
		for (size_t i = 0; i < x->o[k].n; i++)
			text_line(t, x->o[k].lines[i].addr, x->o[k].lines[i].name, xtags[k]);
}

/* A model built from a text, and what it points into. */
struct built {
	struct text text;
	char *modtext;
	struct ks_kallsyms ks;
	struct ks_modlist mods;
	struct ks_model m;
};

static void build(struct built *b, bool cfi, const struct expect *x)
{
	struct ks_error err = { 0 };
	struct ks_target target;

	memset(b, 0, sizeof(*b));
	text_of(&b->text, cfi, x);
	b->modtext = strdup(modules_text);
	CHECK(b->modtext);
	CHECK(ks_modlist_parse(&b->mods, b->modtext, strlen(b->modtext), NULL) == 0);
	CHECK(ks_target_from_machine("x86_64", &target) == 0);
	/* Room for a few lines: see fuzz_image.c. */
	b->ks.cap = 64;
	b->ks.syms = malloc(b->ks.cap * sizeof(*b->ks.syms));
	CHECK(b->ks.syms);
	if (ks_kallsyms_parse_more(&b->ks, b->text.p, b->text.len, true, &err) < 0) {
		fprintf(stderr, "kallsyms: %s\n", err.msg);
		abort();
	}
	if (ks_model_build(&b->m, &b->ks, &b->mods, &target, &err) < 0) {
		fprintf(stderr, "model: %s\n", err.msg);
		abort();
	}
}

static void unbuild(struct built *b)
{
	ks_model_release(&b->m);
	ks_kallsyms_release(&b->ks);
	ks_modlist_release(&b->mods);
	free(b->modtext);
	free(b->text.p);
}

/* ---- model checks -------------------------------------------------------- */

static bool sym_named(const struct ks_sym *s, const char *name)
{
	return s->name_len == strlen(name) && !memcmp(s->name, name, s->name_len);
}

/* The first pseudo-module: the owners before it are the kernel and the
 * three modules, always. */
#define P0 4

/* The model's pseudo-modules are x's non-empty owners, line for line. */
static void check_tail(const struct ks_model *m, const struct expect *x)
{
	size_t o = P0;

	CHECK(m->n_owners >= P0);
	for (size_t k = 0; k < P0; k++)
		CHECK(m->owners[k].kind != KS_OWNER_PSEUDO);
	for (int k = 0; k < N_X; k++) {
		const struct xowner *xo = &x->o[k];
		const struct ks_owner *ow;

		if (!xo->n)
			continue;
		CHECK(o < m->n_owners);
		ow = &m->owners[o];
		CHECK(ow->kind == KS_OWNER_PSEUDO && !strcmp(ow->name, xtags[k]));
		CHECK(ow->n_syms == xo->n && ow->first_sym <= m->n_syms &&
		      ow->n_syms <= m->n_syms - ow->first_sym);
		for (size_t i = 0; i < xo->n; i++) {
			const struct ks_sym *s = &m->syms[ow->first_sym + i];

			CHECK(s->owner == o && s->addr == xo->lines[i].addr &&
			      sym_named(s, xo->lines[i].name));
		}
		o++;
	}
	CHECK(o == m->n_owners);
	CHECK(m->owners[o - 1].first_sym + m->owners[o - 1].n_syms == m->n_syms);
}

/* What a -ESTALE must leave as it was. */
struct snap {
	size_t n_syms, n_owners, n_locals;
	size_t n_tail;
	char **names;
	uint64_t *addrs;
};

static void snap_take(struct snap *s, const struct ks_model *m)
{
	size_t t0 = m->n_owners > P0 ? m->owners[P0].first_sym : m->n_syms;

	*s = (struct snap){ .n_syms = m->n_syms,
			    .n_owners = m->n_owners,
			    .n_locals = m->n_locals,
			    .n_tail = m->n_syms - t0 };
	s->names = calloc(s->n_tail + 1, sizeof(*s->names));
	s->addrs = calloc(s->n_tail + 1, sizeof(*s->addrs));
	CHECK(s->names && s->addrs);
	for (size_t i = 0; i < s->n_tail; i++) {
		s->names[i] = strndup(m->syms[t0 + i].name, m->syms[t0 + i].name_len);
		CHECK(s->names[i]);
		s->addrs[i] = m->syms[t0 + i].addr;
	}
}

static void snap_check(const struct snap *s, const struct ks_model *m)
{
	size_t t0;

	CHECK(m->n_syms == s->n_syms && m->n_owners == s->n_owners && m->n_locals == s->n_locals);
	t0 = m->n_owners > P0 ? m->owners[P0].first_sym : m->n_syms;
	CHECK(m->n_syms - t0 == s->n_tail);
	for (size_t i = 0; i < s->n_tail; i++)
		CHECK(m->syms[t0 + i].addr == s->addrs[i] &&
		      sym_named(&m->syms[t0 + i], s->names[i]));
}

static void snap_release(struct snap *s)
{
	for (size_t i = 0; i < s->n_tail; i++)
		free(s->names[i]);
	free(s->names);
	free(s->addrs);
}

/* Two models say the same, field by field (as test_dynsyms.c). */
static void check_models_equal(const struct ks_model *a, const struct ks_model *b)
{
	CHECK(a->n_owners == b->n_owners && a->n_syms == b->n_syms && a->n_locals == b->n_locals);
	for (size_t o = 0; o < a->n_owners; o++) {
		const struct ks_owner *x = &a->owners[o], *y = &b->owners[o];

		CHECK(!strcmp(x->name, y->name) && x->kind == y->kind);
		CHECK(x->first_sym == y->first_sym && x->n_syms == y->n_syms);
		CHECK(x->base == y->base && x->size == y->size && x->n_regions == y->n_regions);
		for (size_t r = 0; r < x->n_regions; r++) {
			CHECK(!strcmp(x->regions[r].name, y->regions[r].name));
			CHECK(x->regions[r].addr == y->regions[r].addr &&
			      x->regions[r].size == y->regions[r].size &&
			      x->regions[r].flags == y->regions[r].flags);
		}
	}
	for (size_t i = 0; i < a->n_syms; i++) {
		const struct ks_sym *x = &a->syms[i], *y = &b->syms[i];

		CHECK(x->name_len == y->name_len && !memcmp(x->name, y->name, x->name_len));
		CHECK(x->addr == y->addr && x->size == y->size && x->owner == y->owner &&
		      x->region == y->region && x->bind == y->bind && x->type == y->type &&
		      x->letter == y->letter);
	}
}

/* ---- images -------------------------------------------------------------- */

struct image {
	unsigned char *p;
	size_t size;
	Elf *elf;
};

static void image_read(struct image *img, int fd, size_t size)
{
	struct stat st;

	CHECK(fstat(fd, &st) == 0 && (size_t)st.st_size == size);
	img->size = size;
	img->p = malloc(size);
	CHECK(img->p && pread(fd, img->p, size, 0) == (ssize_t)size);
	close(fd);
	img->elf = elf_memory((char *)img->p, size);
	CHECK(img->elf && elf_kind(img->elf) == ELF_K_ELF);
}

static void image_live(struct image *img, const struct ks_editimage *ei)
{
	struct ks_error err = { 0 };
	int fd = memfd_create("ksyms-fuzz", MFD_CLOEXEC);
	size_t size = 0;

	CHECK(fd >= 0);
	if (ks_editimage_write(ei, fd, &size, &err) < 0) {
		fprintf(stderr, "ks_editimage_write: %s\n", err.msg);
		abort();
	}
	image_read(img, fd, size);
}

static void image_fresh(struct image *img, const struct ks_model *m)
{
	struct ks_error err = { 0 };
	int fd = memfd_create("ksyms-fuzz", MFD_CLOEXEC);
	size_t size = 0;

	CHECK(fd >= 0);
	if (ks_elfimage_write(m, fd, &size, &err) < 0) {
		fprintf(stderr, "ks_elfimage_write: %s\n", err.msg);
		abort();
	}
	image_read(img, fd, size);
}

static void image_free(struct image *img)
{
	elf_end(img->elf);
	free(img->p);
}

static size_t n_regions(const struct ks_model *m)
{
	size_t n = 0;

	for (size_t o = 0; o < m->n_owners; o++)
		n += m->owners[o].n_regions;
	return n;
}

/* The symbol table, its strings and their size. */
static Elf_Data *symtab(const struct image *img, GElf_Shdr *sh, const char **str, size_t *strsz)
{
	GElf_Shdr ssh;
	Elf_Data *d;

	CHECK(gelf_getshdr(elf_getscn(img->elf, 1), sh) && sh->sh_type == SHT_SYMTAB);
	CHECK(sh->sh_link == 2 && sh->sh_entsize == sizeof(Elf64_Sym));
	CHECK(gelf_getshdr(elf_getscn(img->elf, 2), &ssh) && ssh.sh_type == SHT_STRTAB);
	CHECK(ssh.sh_offset <= img->size && ssh.sh_size &&
	      ssh.sh_size <= img->size - ssh.sh_offset);
	*str = (const char *)img->p + ssh.sh_offset;
	*strsz = ssh.sh_size;
	CHECK((*str)[0] == '\0' && (*str)[*strsz - 1] == '\0');
	d = elf_getdata(elf_getscn(img->elf, 1), NULL);
	CHECK(d && d->d_size == sh->sh_size);
	return d;
}

static void check_one(const GElf_Sym *s, const char *str, size_t strsz, size_t shnum,
		      const char *name, size_t len, uint64_t value, uint64_t size,
		      unsigned char info, uint16_t shndx)
{
	CHECK(s->st_name < strsz);
	CHECK(strlen(str + s->st_name) == len && !memcmp(str + s->st_name, name, len));
	CHECK(s->st_shndx == SHN_ABS || (s->st_shndx >= 5 && s->st_shndx < shnum));
	CHECK(s->st_value == value && s->st_size == size && s->st_info == info &&
	      s->st_shndx == shndx && s->st_other == 0);
}

/* The live image read back, against the model. */
static void check_image(const struct image *img, const struct ks_model *m)
{
	size_t shnum, phnum, strsz, nreg = n_regions(m), sec = 5;
	size_t i_loc = 1, i_glob = 1 + m->n_owners + m->n_locals;
	const char *str, *types;
	GElf_Ehdr eh;
	GElf_Shdr sh;
	GElf_Sym s;
	Elf_Data *d;

	CHECK(img->size >= EI_NIDENT && !memcmp(img->p, ELFMAG, SELFMAG));
	CHECK(img->p[EI_CLASS] == ELFCLASS64 && img->p[EI_DATA] == ELFDATA2LSB);
	CHECK(gelf_getehdr(img->elf, &eh) && eh.e_type == ET_EXEC && eh.e_machine == EM_X86_64 &&
	      eh.e_version == EV_CURRENT && eh.e_shstrndx == 3);
	CHECK(elf_getshdrnum(img->elf, &shnum) == 0 && shnum == 5 + nreg);
	CHECK(elf_getphdrnum(img->elf, &phnum) == 0 && phnum == nreg);
	CHECK(eh.e_shoff <= img->size && shnum * eh.e_shentsize <= img->size - eh.e_shoff);
	for (size_t i = 1; i < shnum; i++) {
		CHECK(gelf_getshdr(elf_getscn(img->elf, i), &sh));
		CHECK(elf_strptr(img->elf, 3, sh.sh_name));
		if (sh.sh_type != SHT_NOBITS)
			CHECK(sh.sh_offset <= img->size && sh.sh_size <= img->size - sh.sh_offset);
	}
	/* Each symbol's letter, at its index of .symtab. */
	CHECK(gelf_getshdr(elf_getscn(img->elf, 4), &sh) && sh.sh_type == SHT_PROGBITS &&
	      sh.sh_size == 1 + m->n_owners + m->n_syms);
	types = (const char *)img->p + sh.sh_offset;
	d = symtab(img, &sh, &str, &strsz);
	CHECK(sh.sh_size / sh.sh_entsize == 1 + m->n_owners + m->n_syms);
	CHECK(sh.sh_info == 1 + m->n_owners + m->n_locals);
	CHECK(gelf_getsym(d, 0, &s) && s.st_name == 0 && s.st_value == 0 && s.st_info == 0);
	/* Per owner its STT_FILE and its locals, then the globals. */
	for (size_t o = 0; o < m->n_owners; sec += m->owners[o++].n_regions) {
		const struct ks_owner *ow = &m->owners[o];

		CHECK(gelf_getsym(d, (int)i_loc++, &s));
		check_one(&s, str, strsz, shnum, ow->name, strlen(ow->name), 0, 0,
			  GELF_ST_INFO(STB_LOCAL, STT_FILE), SHN_ABS);
		for (size_t k = ow->first_sym; k < ow->first_sym + ow->n_syms; k++) {
			const struct ks_sym *y = &m->syms[k];
			size_t i = y->bind == STB_LOCAL ? i_loc++ : i_glob++;

			CHECK(y->region == KS_REGION_ABS || y->region < ow->n_regions);
			CHECK(types[i] == y->letter);
			CHECK(gelf_getsym(d, (int)i, &s));
			check_one(&s, str, strsz, shnum, y->name, y->name_len, y->addr, y->size,
				  GELF_ST_INFO(y->bind, y->type),
				  y->region == KS_REGION_ABS ? SHN_ABS
							     : (uint16_t)(sec + y->region));
		}
	}
	CHECK(i_loc == 1 + m->n_owners + m->n_locals && i_glob == 1 + m->n_owners + m->n_syms);
}

/* The live image against a fresh one of the same model: the same sections,
 * segments and symbols, only .strtab may differ. */
static void check_alike(const struct image *a, const struct image *b)
{
	size_t na, nb, sza, szb;
	const char *sa, *sb;
	GElf_Shdr ha, hb;
	Elf_Data *da, *db;

	CHECK(elf_getshdrnum(a->elf, &na) == 0 && elf_getshdrnum(b->elf, &nb) == 0 && na == nb);
	for (size_t i = 1; i < na; i++) {
		CHECK(gelf_getshdr(elf_getscn(a->elf, i), &ha));
		CHECK(gelf_getshdr(elf_getscn(b->elf, i), &hb));
		CHECK(!strcmp(elf_strptr(a->elf, 3, ha.sh_name),
			      elf_strptr(b->elf, 3, hb.sh_name)));
		CHECK(ha.sh_type == hb.sh_type && ha.sh_addr == hb.sh_addr &&
		      ha.sh_flags == hb.sh_flags && ha.sh_info == hb.sh_info &&
		      ha.sh_link == hb.sh_link);
		if (ha.sh_type != SHT_STRTAB)
			CHECK(ha.sh_size == hb.sh_size);
	}
	CHECK(elf_getphdrnum(a->elf, &na) == 0 && elf_getphdrnum(b->elf, &nb) == 0 && na == nb);
	for (size_t i = 0; i < na; i++) {
		GElf_Phdr pa, pb;

		CHECK(gelf_getphdr(a->elf, (int)i, &pa) && gelf_getphdr(b->elf, (int)i, &pb));
		CHECK(pa.p_type == pb.p_type && pa.p_vaddr == pb.p_vaddr &&
		      pa.p_memsz == pb.p_memsz && pa.p_flags == pb.p_flags);
	}
	da = symtab(a, &ha, &sa, &sza);
	db = symtab(b, &hb, &sb, &szb);
	CHECK(ha.sh_size == hb.sh_size);
	for (size_t i = 0; i < ha.sh_size / ha.sh_entsize; i++) {
		GElf_Sym ya, yb;
		GElf_Shdr ca, cb;

		CHECK(gelf_getsym(da, (int)i, &ya) && gelf_getsym(db, (int)i, &yb));
		CHECK(ya.st_name < sza && yb.st_name < szb);
		CHECK(!strcmp(sa + ya.st_name, sb + yb.st_name));
		CHECK(ya.st_value == yb.st_value && ya.st_size == yb.st_size &&
		      ya.st_info == yb.st_info && ya.st_other == yb.st_other &&
		      ya.st_shndx == yb.st_shndx);
		if (ya.st_shndx != SHN_ABS && ya.st_shndx != SHN_UNDEF) {
			CHECK(gelf_getshdr(elf_getscn(a->elf, ya.st_shndx), &ca));
			CHECK(gelf_getshdr(elf_getscn(b->elf, yb.st_shndx), &cb));
			CHECK(!strcmp(elf_strptr(a->elf, 3, ca.sh_name),
				      elf_strptr(b->elf, 3, cb.sh_name)));
		}
	}
}

/* ---- one input ----------------------------------------------------------- */

#define MAX_BATCHES 32
#define MAX_EVENTS 12

static void gen_env(struct input *in, struct ks_dyn_env *env)
{
	static const unsigned int kvers[] = { KS_KVER(6, 18), KS_KVER(6, 1), KS_KVER(5, 6),
					      KS_KVER(5, 4), 0 };
	static const int kallsyms[] = { 1, 1, 1, 0, -1, 2 };
	static const int harden[] = { 0, 0, 0, 1, 2, -1 };
	uint8_t a = u8(in), b = u8(in);

	*env = (struct ks_dyn_env){
		.have_bpf = a % 8 != 7,
		.jit_enable = (int)(a >> 3) % 3 - 1,
		.jit_kallsyms = kallsyms[b % N(kallsyms)],
		.jit_harden = harden[(b >> 3) % N(harden)],
		.unpriv_disabled = (int)(a >> 5) % 4 - 1,
		.kver = kvers[(b >> 5) % N(kvers)],
	};
}

/* The pseudo lines of the read the model starts from. */
static void gen_start(uint8_t bits, struct expect *x)
{
	if (bits & 1)
		x_insert(&x->o[X_OTHER], 0, "init_fn", 0xffffffffc0500000ull);
	if (bits & 2)
		x_insert(&x->o[X_FTRACE], 0, "ftrace_trampoline", addrs[2]);
	if (bits & 4) {
		x_insert(&x->o[X_BPF], 0, PROG_A, addrs[0]);
		x_insert(&x->o[X_BPF], 1, "bpf_trampoline_6442525133", addrs[1]);
	}
	if (bits & 8) {
		x_insert(&x->o[X_KPROBES], 0, "kprobe_insn_page", addrs[3]);
		x_insert(&x->o[X_KPROBES], 1, "kprobe_optinsn_page", addrs[4]);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct expect x, x_before;
	struct input in = { data, size };
	struct ks_error err = { 0 };
	struct ks_editimage *ei = NULL;
	struct ks_dyn_env env, env_eff;
	struct built start;
	size_t n_batches;
	uint8_t bits;
	bool cfi;

	if (!long_ok[0]) {
		memset(long_ok, 'x', sizeof(long_ok) - 1);
		memcpy(long_ok, PROG_A "_", strlen(PROG_A "_"));
		memset(long_bad, 'y', sizeof(long_bad) - 1);
		memcpy(long_bad, PROG_B "_", strlen(PROG_B "_"));
		for (int v = 0; v < 256; v++) {
			memcpy(long_var[v], long_ok, sizeof(long_ok));
			snprintf(long_var[v] + KS_NAME_MAX - 3, 3, "%02x", v);
		}
	}
	elf_version(EV_CURRENT);
	memset(&x, 0, sizeof(x));
	bits = u8(&in);
	cfi = bits & 0x10;
	gen_start(bits, &x);
	gen_env(&in, &env);
	n_batches = 1 + u8(&in) % MAX_BATCHES;

	build(&start, cfi, &x);
	env_eff = env;
	ks_dyn_env_model(&env_eff, &start.m);
	CHECK(env_eff.kcfi == cfi);
	check_tail(&start.m, &x);
	if (ks_editimage_new(&ei, &start.m, &env, &err) < 0) {
		fprintf(stderr, "ks_editimage_new: %s\n", err.msg);
		abort();
	}
	CHECK(start.m.n_syms == 0 && start.m.n_owners == 0);

	for (size_t b = 0; b < n_batches && in.n; b++) {
		struct ks_kevent evs[MAX_EVENTS];
		char *copies[MAX_EVENTS];
		const char *statics[MAX_EVENTS];
		const char *why;
		size_t n = u8(&in) % (MAX_EVENTS + 1);
		bool reread = false, changed = false;
		struct snap before;
		struct image live;
		int r;

		for (size_t i = 0; i < n; i++) {
			uint8_t k = u8(&in), t = u8(&in);
			const char *name = names[u8(&in) % N(names)];
			uint64_t addr = addrs[u8(&in) % N(addrs)];
			static const uint16_t types[] = {
				PERF_RECORD_KSYMBOL_TYPE_BPF,	  PERF_RECORD_KSYMBOL_TYPE_BPF,
				PERF_RECORD_KSYMBOL_TYPE_BPF,	  PERF_RECORD_KSYMBOL_TYPE_OOL,
				PERF_RECORD_KSYMBOL_TYPE_OOL,	  PERF_RECORD_KSYMBOL_TYPE_OOL,
				PERF_RECORD_KSYMBOL_TYPE_UNKNOWN, PERF_RECORD_KSYMBOL_TYPE_MAX
			};

			/* Distinct long names, enough of them over a run to
			 * fill the appended names past a merge (64 KiB). */
			if (name == long_ok)
				name = long_var[u8(&in)];
			statics[i] = name;
			copies[i] = name ? strdup(name) : NULL;
			CHECK(!name || copies[i]);
			if ((k & 0xf8) == 0xf8) {
				evs[i] = (struct ks_kevent){ .kind = KS_KEVENT_LOST,
							     .cpu = 0,
							     .lost = { KS_LOST_PERF_RECORD,
								       k & 7 } };
				continue;
			}
			evs[i] = (struct ks_kevent){
				.kind = k & 1 ? KS_KEVENT_KSYM_REMOVE : KS_KEVENT_KSYM_ADD,
				.cpu = (int)(t >> 4),
				.ksym = { .addr = addr,
					  .len = (k & 0x0e) ? 64 : 0,
					  .type = types[t % N(types)],
					  .name = copies[i] },
			};
		}

		/* What should come of it. */
		x_before = x;
		for (size_t i = 0; i < n && !reread; i++)
			reread = ks_dyn_policy(&evs[i], &env_eff, &why) == KS_DYN_REREAD;
		for (size_t i = 0; i < n && !reread; i++)
			if (ks_dyn_policy(&evs[i], &env_eff, &why) == KS_DYN_APPLY)
				changed |= x_apply(&x, &evs[i], statics[i]);

		snap_take(&before, ks_editimage_model(ei));
		r = ks_editimage_apply(ei, evs, n, &err);
		for (size_t i = 0; i < n; i++) {
			/* Scribble first: ASan does not see a read of freed
			 * memory that malloc handed out again. */
			if (copies[i])
				memset(copies[i], '#', strlen(copies[i]));
			free(copies[i]);
		}
		CHECK(r == 0 || r == 1 || r == -ESTALE || r == -ENOMEM);
		if (r == -ENOMEM) {
			snap_release(&before);
			break;
		}
		if (reread) {
			if (r != -ESTALE) {
				fprintf(stderr, "batch %zu: %d, not -ESTALE\n", b, r);
				abort();
			}
			CHECK(err.msg[0]);
			snap_check(&before, ks_editimage_model(ei));
			x = x_before;
		} else if (r != (changed ? 0 : 1)) {
			fprintf(stderr, "batch %zu: %d (%s), expected %d\n", b, r,
				r < 0 ? err.msg : "-", changed ? 0 : 1);
			abort();
		}
		if (r == 1)
			snap_check(&before, ks_editimage_model(ei));
		snap_release(&before);
		check_tail(ks_editimage_model(ei), &x);

		image_live(&live, ei);
		check_image(&live, ks_editimage_model(ei));
		if (r == 0 || b % 4 == 3 || b + 1 == n_batches || !in.n) {
			struct built want;
			struct image fresh;

			/* What a read of kallsyms now would give. */
			build(&want, cfi, &x);
			check_models_equal(ks_editimage_model(ei), &want.m);
			unbuild(&want);
			if (b % 4 == 3 || b + 1 == n_batches || !in.n) {
				image_fresh(&fresh, ks_editimage_model(ei));
				check_alike(&live, &fresh);
				image_free(&fresh);
			}
		}
		image_free(&live);
	}
	ks_editimage_free(ei);
	unbuild(&start);
	return 0;
}
