/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * libksyms' table API (owners, symbols by number, owner_of, kallsyms
 * letters, build-ids) and ksyms_open()'s refusal of what is no symbol
 * image. Images are made from fixture trees by the core's snapshot code;
 * the answers are checked against the trees themselves (their
 * proc/kallsyms lines and notes files) and a libelf reading of the image,
 * not against libksyms' own reading.
 */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "engine/model.h"
#include "engine/snapshot.h"
#include "libksyms.h"
#include "../unit/testutil.h"

static char *tmpdir;

/* The image of fixture tree rel, written to a file; its path (malloc'd). */
static char *image_of(const char *rel, const char *file)
{
	struct ks_root root;
	struct ks_snapshot_opts opts = { .root = &root };
	struct ks_snapshot *snap;
	struct ks_error err = { 0 };
	char *path;
	FILE *f;

	open_root(&root, fixture(rel));
	assert_int_equal(ks_snapshot_take(&opts, &snap, &err), 0);
	ks_root_close(&root);
	assert_int_not_equal(asprintf(&path, "%s/%s", tmpdir, file), -1);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(ks_snapshot_data(snap), 1, ks_snapshot_size(snap), f),
			 ks_snapshot_size(snap));
	assert_int_equal(fclose(f), 0);
	ks_snapshot_unref(snap);
	return path;
}

/* One proc/kallsyms line, as "owner name value letter". */
struct kline {
	char owner[80], name[256];
	uint64_t value;
	char letter;
};

static int cmp_kline(const void *pa, const void *pb)
{
	const struct kline *a = pa, *b = pb;
	int c = strcmp(a->owner, b->owner);

	if (!c)
		c = strcmp(a->name, b->name);
	if (!c)
		c = (a->value > b->value) - (a->value < b->value);
	return c ? c : a->letter - b->letter;
}

/* The tree's proc/kallsyms, sorted. */
static struct kline *read_kallsyms(const char *rel, size_t *n)
{
	char path[4200], line[512], addr[32], owner[80];
	size_t cap = 1024;
	struct kline *v = malloc(cap * sizeof(*v));
	FILE *f;

	snprintf(path, sizeof(path), "%s/proc/kallsyms", fixture(rel));
	f = fopen(path, "r");
	assert_non_null(f);
	*n = 0;
	while (fgets(line, sizeof(line), f)) {
		struct kline *k;
		int got;

		if (*n == cap)
			v = realloc(v, (cap *= 2) * sizeof(*v));
		k = &v[*n];
		owner[0] = '\0';
		got = sscanf(line, "%31s %c %255s %79s", addr, &k->letter, k->name, owner);
		assert_true(got >= 3);
		k->value = strtoull(addr, NULL, 16);
		if (got == 4) {
			owner[strlen(owner) - 1] = '\0'; /* [fuse] */
			snprintf(k->owner, sizeof(k->owner), "%s", owner + 1);
		} else {
			snprintf(k->owner, sizeof(k->owner), "vmlinux");
		}
		(*n)++;
	}
	fclose(f);
	qsort(v, *n, sizeof(*v), cmp_kline);
	return v;
}

/* The same lines from the image through the API; letters as given. */
static struct kline *table_lines(struct ksyms *k, size_t *n)
{
	long count = ksyms_count(k);
	struct kline *v;
	struct ksyms_sym s;

	assert_true(count > 0);
	v = calloc((size_t)count, sizeof(*v));
	for (long i = 0; i < count; i++) {
		const struct ksyms_owner *o;
		long oi;
		int letter;

		assert_int_equal(ksyms_symbol(k, (size_t)i, &s), 0);
		oi = ksyms_owner_of(k, &s);
		assert_true(oi >= 0);
		assert_int_equal(ksyms_symbol_owner(k, (size_t)i), oi);
		o = ksyms_owner(k, (size_t)oi);
		assert_non_null(o);
		letter = ksyms_symbol_letter(k, (size_t)i);
		assert_true(letter > 0);
		snprintf(v[i].owner, sizeof(v[i].owner), "%s", o->name);
		snprintf(v[i].name, sizeof(v[i].name), "%s", s.name);
		v[i].value = s.value;
		v[i].letter = (char)letter;
	}
	*n = (size_t)count;
	qsort(v, *n, sizeof(*v), cmp_kline);
	return v;
}

/* Do two letters map to the same ELF binding and type in ksymsd? */
static bool same_elf(char a, char b)
{
	uint8_t ba, ta, bb, tb;

	return ks_letter_to_elf(a, &ba, &ta) == 0 && ks_letter_to_elf(b, &bb, &tb) == 0 &&
	       ba == bb && ta == tb;
}

/* Take the image's recorded letters away: its .kallsyms.types section,
 * renamed in .shstrtab, is then a section libksyms does not know. */
static void hide_letters(const char *path)
{
	static const char name[] = ".kallsyms.types";
	FILE *f = fopen(path, "r+b");
	size_t len, hits = 0;
	char *bytes;

	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	len = (size_t)ftell(f);
	rewind(f);
	bytes = malloc(len);
	assert_int_equal(fread(bytes, 1, len, f), len);
	for (size_t i = 0; i + sizeof(name) <= len; i++)
		if (memcmp(bytes + i, name, sizeof(name)) == 0) {
			bytes[i + sizeof(name) - 2] = 'Z';
			hits++;
		}
	assert_int_equal(hits, 1);
	rewind(f);
	assert_int_equal(fwrite(bytes, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
	free(bytes);
}

/* Every kallsyms line is a symbol of the image with the same owner, and
 * the other way round; letters exact where exact says so, else the same
 * for ELF. */
static void check_lines(const char *rel, const char *file, bool exact, int max_module_differ)
{
	char *path = image_of(rel, file);
	struct ksyms *k;
	struct kline *want, *got;
	size_t nw, ng, differ = 0;

	if (!exact)
		hide_letters(path);
	k = ksyms_open(path, 0);
	assert_non_null(k);
	want = read_kallsyms(rel, &nw);
	got = table_lines(k, &ng);
	assert_int_equal(ng, nw);
	/* Sorted with the letter last: equal up to the letter, line by line. */
	for (size_t i = 0; i < nw; i++) {
		assert_string_equal(got[i].owner, want[i].owner);
		assert_string_equal(got[i].name, want[i].name);
		assert_int_equal(got[i].value, want[i].value);
		assert_true(same_elf(got[i].letter, want[i].letter));
		differ += got[i].letter != want[i].letter;
	}
	if (exact)
		assert_int_equal(differ, 0);
	else
		assert_true(differ > 0); /* derived: the kernel's own exceptions */
	/* A module's letters follow its own ELF's section flags: derived,
	 * they miss only where ksymsd's sections are not the module's (on
	 * debian-6.1, two .bss objects it places in .gnu.linkonce.this_module). */
	if (max_module_differ >= 0) {
		size_t module_differ = 0;

		for (size_t i = 0; i < nw; i++)
			module_differ += strcmp(got[i].owner, "vmlinux") != 0 &&
					 got[i].letter != want[i].letter;
		assert_true(module_differ <= (size_t)max_module_differ);
	}
	assert_int_equal(ksyms_letters_recorded(k), exact);
	free(want);
	free(got);
	ksyms_close(k);
	unlink(path);
	free(path);
}

/* As ksymsd writes them: the kernel's letters, recorded. */
static void lines_mini(void **state)
{
	(void)state;
	check_lines("mini", "mini.elf", true, 0);
}

static void lines_debian61(void **state)
{
	(void)state;
	check_lines("debian-6.1/state-a", "d61.elf", true, 0);
}

static void lines_debian612(void **state)
{
	(void)state;
	check_lines("debian-6.12/state-a", "d612.elf", true, 0);
}

/* Without the recorded letters (an image from before them): derived. */
static void derived_mini(void **state)
{
	(void)state;
	check_lines("mini", "mini-derived.elf", false, 0);
}

static void derived_debian61(void **state)
{
	(void)state;
	check_lines("debian-6.1/state-a", "d61-derived.elf", false, 2);
}

static void derived_debian612(void **state)
{
	(void)state;
	check_lines("debian-6.12/state-a", "d612-derived.elf", false, -1);
}

/* Owners: the STT_FILE symbols in order, their kinds, counts and spans. */
static void owners_mini(void **state)
{
	static const struct {
		const char *name;
		int kind;
		size_t nsyms;
	} want[] = {
		{ "vmlinux", KSYMS_OWNER_KERNEL, 22 },
		{ "moda", KSYMS_OWNER_MODULE, 5 },
		{ "empty", KSYMS_OWNER_MODULE, 0 },
		{ "modb", KSYMS_OWNER_MODULE, 3 },
		{ "bpf", KSYMS_OWNER_PSEUDO, 2 },
		{ "__builtin__ftrace", KSYMS_OWNER_PSEUDO, 1 },
	};
	char *path = image_of("mini", "owners.elf");
	struct ksyms *k = ksyms_open(path, 0);
	const struct ksyms_owner *o;
	struct ksyms_sym s;
	size_t total = 0;

	(void)state;
	assert_non_null(k);
	assert_int_equal(ksyms_owner_count(k), sizeof(want) / sizeof(want[0]));
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		o = ksyms_owner(k, i);
		assert_non_null(o);
		assert_string_equal(o->name, want[i].name);
		assert_int_equal(o->kind, want[i].kind);
		assert_int_equal(o->nsyms, want[i].nsyms);
		assert_null(o->build_id);
		total += o->nsyms;
	}
	assert_int_equal(total, ksyms_count(k));
	/* moda's sections span its core; bpf's its page. */
	o = ksyms_owner(k, 1);
	assert_int_equal(o->start, 0xffffffffc0000000ull);
	assert_int_equal(o->end, 0xffffffffc0003000ull);
	o = ksyms_owner(k, 4);
	assert_int_equal(o->start, 0xffffffffc0100000ull);
	assert_int_equal(o->end, 0xffffffffc0101000ull);
	/* A module's per-CPU symbol lies in no section: its owner is the
	 * table's, and the lookups find it. */
	assert_int_equal(ksyms_lookup_name(k, "mod_a_pcpu", &s), 0);
	assert_int_equal(s.shndx, SHN_ABS);
	assert_null(s.module);
	assert_int_equal(ksyms_owner_of(k, &s), 1);
	assert_int_equal(ksyms_lookup_name(k, "pcpu_var", &s), 0);
	assert_int_equal(ksyms_owner_of(k, &s), 0);
	/* Past the end, and a symbol that is not this image's. */
	assert_null(ksyms_owner(k, 6));
	assert_int_equal(errno, ENOENT);
	assert_int_equal(ksyms_symbol(k, (size_t)ksyms_count(k), &s), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(ksyms_symbol_letter(k, (size_t)ksyms_count(k)), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(ksyms_symbol_owner(k, (size_t)ksyms_count(k)), -1);
	assert_int_equal(errno, ENOENT);
	s.name = "mod_a_pcpu";
	assert_int_equal(ksyms_owner_of(k, &s), -1);
	assert_int_equal(errno, ENOENT);
	ksyms_close(k);
	unlink(path);
	free(path);
}

/* Symbol i through the API is .symtab's i-th named symbol, read here by
 * libelf; and it lies in its owner's span. */
static void symbols_in_table_order(void **state)
{
	char *path = image_of("debian-6.1/state-a", "order.elf");
	struct ksyms *k = ksyms_open(path, 0);
	size_t n = 0, shnum;
	Elf_Scn *scn = NULL;
	struct ksyms_sym s;
	GElf_Shdr sh;
	Elf_Data *d;
	GElf_Sym es;
	Elf *elf;
	int fd;

	(void)state;
	assert_non_null(k);
	elf_version(EV_CURRENT);
	fd = open(path, O_RDONLY);
	elf = elf_begin(fd, ELF_C_READ, NULL);
	assert_int_equal(elf_getshdrnum(elf, &shnum), 0);
	while ((scn = elf_nextscn(elf, scn)) && gelf_getshdr(scn, &sh) && sh.sh_type != SHT_SYMTAB)
		;
	assert_non_null(scn);
	d = elf_getdata(scn, NULL);
	for (size_t i = 1; i < sh.sh_size / sh.sh_entsize; i++) {
		const char *name;
		const struct ksyms_owner *o;

		gelf_getsym(d, (int)i, &es);
		name = elf_strptr(elf, sh.sh_link, es.st_name);
		if (!*name || GELF_ST_TYPE(es.st_info) == STT_FILE ||
		    GELF_ST_TYPE(es.st_info) == STT_SECTION)
			continue;
		assert_int_equal(ksyms_symbol(k, n, &s), 0);
		assert_string_equal(s.name, name);
		assert_int_equal(s.value, es.st_value);
		assert_int_equal(s.size, es.st_size);
		assert_int_equal(s.shndx, es.st_shndx);
		assert_int_equal(s.bind, GELF_ST_BIND(es.st_info));
		assert_int_equal(s.type, GELF_ST_TYPE(es.st_info));
		if (es.st_shndx != SHN_ABS) {
			o = ksyms_owner(k, (size_t)ksyms_owner_of(k, &s));
			assert_true(s.value >= o->start && s.value + s.size <= o->end);
		}
		n++;
	}
	assert_int_equal(n, ksyms_count(k));
	elf_end(elf);
	close(fd);
	ksyms_close(k);
	unlink(path);
	free(path);
}

/* The GNU build-id note's bytes in a notes file; 0 if none. */
static size_t build_id_of(const char *file, unsigned char *out, size_t cap)
{
	unsigned char buf[4096];
	size_t len, off = 0;
	FILE *f = fopen(file, "rb");

	assert_non_null(f);
	len = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	while (off + 12 <= len) {
		uint32_t namesz, descsz, type;
		size_t name_off = off + 12, desc_off;

		memcpy(&namesz, buf + off, 4);
		memcpy(&descsz, buf + off + 4, 4);
		memcpy(&type, buf + off + 8, 4);
		desc_off = name_off + ((namesz + 3) & ~3u);
		if (type == 3 && namesz == 4 && memcmp(buf + name_off, "GNU", 4) == 0 &&
		    descsz <= cap && desc_off + descsz <= len) {
			memcpy(out, buf + desc_off, descsz);
			return descsz;
		}
		off = desc_off + ((descsz + 3) & ~3u);
	}
	return 0;
}

static void build_ids(void **state)
{
	char *path = image_of("debian-6.1/state-a", "notes.elf");
	struct ksyms *k = ksyms_open(path, 0);
	unsigned char want[64];
	char file[4300];
	size_t with = 0;
	long n;

	(void)state;
	assert_non_null(k);
	n = ksyms_owner_count(k);
	assert_true(n > 20);
	for (long i = 0; i < n; i++) {
		const struct ksyms_owner *o = ksyms_owner(k, (size_t)i);
		size_t len;

		if (i == 0)
			snprintf(file, sizeof(file), "%s/sys/kernel/notes",
				 fixture("debian-6.1/state-a"));
		else
			snprintf(file, sizeof(file), "%s/sys/module/%s/notes/.note.gnu.build-id",
				 fixture("debian-6.1/state-a"), o->name);
		if (access(file, R_OK) != 0) {
			assert_null(o->build_id);
			continue;
		}
		len = build_id_of(file, want, sizeof(want));
		assert_int_equal(o->build_id_size, len);
		assert_memory_equal(o->build_id, want, len);
		with++;
	}
	assert_true(with >= 2); /* the kernel's and fuse's at least */
	ksyms_close(k);
	unlink(path);
	free(path);
}

/* ksyms_open() of what is no symbol image fails at once, ENOEXEC. */
static void open_refuses_non_images(void **state)
{
	char *img = image_of("mini", "whole.elf"), *path;
	static const char text[] = "ffffffff81000000 T _stext\n";
	unsigned char head[64];
	FILE *f;

	(void)state;
	assert_int_not_equal(asprintf(&path, "%s/not-elf", tmpdir), -1);
	assert_int_equal(write_file(path, "%s", text), 0);
	errno = 0;
	assert_null(ksyms_open(path, 0));
	assert_int_equal(errno, ENOEXEC);
	/* The ELF header alone: its section headers lie past the end. */
	f = fopen(img, "rb");
	assert_int_equal(fread(head, 1, sizeof(head), f), sizeof(head));
	fclose(f);
	f = fopen(path, "wb");
	assert_int_equal(fwrite(head, 1, sizeof(head), f), sizeof(head));
	fclose(f);
	errno = 0;
	assert_null(ksyms_open(path, 0));
	assert_int_equal(errno, ENOEXEC);
	unlink(path);
	unlink(img);
	free(path);
	free(img);
}

static struct kline *mini_lines;
static size_t mini_n;

/* The image plus a .kallsyms.types section holding letters[i] for symbol
 * table entry i (libelf lays the file out again). */
static void add_letters(const char *path, char (*letter_of)(const GElf_Sym *, const char *),
			size_t size_delta)
{
	static const char secname[] = ".kallsyms.types";
	int fd = open(path, O_RDWR);
	Elf *elf;
	Elf_Scn *scn = NULL, *symscn = NULL, *shstr;
	Elf_Data *d, *symd, *strd;
	GElf_Shdr sh, symsh;
	size_t shstrndx, nsyms, old;
	char *letters, *names;
	GElf_Sym s;

	elf_version(EV_CURRENT);
	elf = elf_begin(fd, ELF_C_RDWR, NULL);
	assert_non_null(elf);
	while ((scn = elf_nextscn(elf, scn)))
		if (gelf_getshdr(scn, &sh) && sh.sh_type == SHT_SYMTAB)
			symscn = scn;
	assert_non_null(symscn);
	gelf_getshdr(symscn, &symsh);
	symd = elf_getdata(symscn, NULL);
	nsyms = symsh.sh_size / symsh.sh_entsize;
	letters = calloc(nsyms + size_delta, 1);
	for (size_t i = 1; i < nsyms; i++) {
		gelf_getsym(symd, (int)i, &s);
		letters[i] = letter_of(&s, elf_strptr(elf, symsh.sh_link, s.st_name));
	}
	/* The name, appended to .shstrtab. */
	assert_int_equal(elf_getshdrstrndx(elf, &shstrndx), 0);
	shstr = elf_getscn(elf, shstrndx);
	strd = elf_getdata(shstr, NULL);
	old = strd->d_size;
	names = malloc(old + sizeof(secname));
	memcpy(names, strd->d_buf, old);
	memcpy(names + old, secname, sizeof(secname));
	strd->d_buf = names;
	strd->d_size = old + sizeof(secname);
	elf_flagdata(strd, ELF_C_SET, ELF_F_DIRTY);
	scn = elf_newscn(elf);
	d = elf_newdata(scn);
	d->d_buf = letters;
	d->d_size = nsyms + size_delta;
	d->d_type = ELF_T_BYTE;
	d->d_align = 1;
	gelf_getshdr(scn, &sh);
	sh.sh_name = (GElf_Word)old;
	sh.sh_type = SHT_PROGBITS;
	sh.sh_entsize = 1;
	sh.sh_link = (GElf_Word)elf_ndxscn(symscn);
	gelf_update_shdr(scn, &sh);
	assert_true(elf_update(elf, ELF_C_WRITE) > 0);
	elf_end(elf);
	close(fd);
	free(letters);
	free(names);
}

/* The tree's letter for this symbol table entry: the line of its name and
 * address whose letter ksymsd maps to its binding and type. */
static char mini_letter(const GElf_Sym *s, const char *name)
{
	uint8_t bind, type;

	for (size_t i = 0; i < mini_n; i++)
		if (mini_lines[i].value == s->st_value && strcmp(mini_lines[i].name, name) == 0 &&
		    ks_letter_to_elf(mini_lines[i].letter, &bind, &type) == 0 &&
		    bind == GELF_ST_BIND(s->st_info) && type == GELF_ST_TYPE(s->st_info))
			return mini_lines[i].letter;
	return 0;
}

/* A letter that is valid but, for most symbols, wrong. */
static char decoy_letter(const GElf_Sym *s, const char *name)
{
	(void)s;
	(void)name;
	return 'T';
}

/* Letters recorded by hand (in a section of the same name and format as
 * ksymsd's, on an image whose own is hidden) are the ones given; a section
 * of the wrong size is ignored (derived letters again), also when a right
 * one follows it: that one's letters are read, not the first's bytes. */
static void recorded_letters(void **state)
{
	char *path = image_of("mini", "letters.elf");
	struct ksyms *k;
	struct kline *got;
	size_t n;

	(void)state;
	mini_lines = read_kallsyms("mini", &mini_n);
	hide_letters(path);
	add_letters(path, mini_letter, 0);
	k = ksyms_open(path, 0);
	assert_non_null(k);
	assert_int_equal(ksyms_letters_recorded(k), 1);
	got = table_lines(k, &n);
	assert_int_equal(n, mini_n);
	for (size_t i = 0; i < n; i++) {
		assert_string_equal(got[i].name, mini_lines[i].name);
		assert_int_equal(got[i].letter, mini_lines[i].letter);
	}
	free(got);
	ksyms_close(k);
	unlink(path);
	free(path);

	path = image_of("mini", "letters-short.elf");
	hide_letters(path);
	add_letters(path, mini_letter, 1);
	k = ksyms_open(path, 0);
	assert_non_null(k);
	assert_int_equal(ksyms_letters_recorded(k), 0);
	ksyms_close(k);
	unlink(path);
	free(path);

	path = image_of("mini", "letters-decoy.elf");
	hide_letters(path);
	add_letters(path, decoy_letter, 1);
	add_letters(path, mini_letter, 0);
	k = ksyms_open(path, 0);
	assert_non_null(k);
	assert_int_equal(ksyms_letters_recorded(k), 1);
	got = table_lines(k, &n);
	assert_int_equal(n, mini_n);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(got[i].letter, mini_lines[i].letter);
	free(got);
	ksyms_close(k);
	unlink(path);
	free(path);
	free(mini_lines);
}

static int setup(void **state)
{
	(void)state;
	tmpdir = make_tmpdir();
	return tmpdir ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	rm_rf(tmpdir);
	free(tmpdir);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(owners_mini),	     cmocka_unit_test(lines_mini),
		cmocka_unit_test(lines_debian61),    cmocka_unit_test(lines_debian612),
		cmocka_unit_test(derived_mini),	     cmocka_unit_test(derived_debian61),
		cmocka_unit_test(derived_debian612), cmocka_unit_test(symbols_in_table_order),
		cmocka_unit_test(build_ids),	     cmocka_unit_test(open_refuses_non_images),
		cmocka_unit_test(recorded_letters),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
