/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ks_symindex: lookups by name and address, and refusal of malformed images.
 * Images are made here with libelf rather than shipped, so each test shows
 * exactly which symbols it is about.
 */
#include "shared/symindex.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

struct tsym {
	const char *name;
	uint64_t value, size;
	unsigned char bind, type;
	uint32_t off;		/* out: st_name given by make_image */
};

#define L(n, v, s) { n, v, s, STB_LOCAL, STT_FUNC, 0 }
#define G(n, v, s) { n, v, s, STB_GLOBAL, STT_FUNC, 0 }
#define WK(n, v, s) { n, v, s, STB_WEAK, STT_FUNC, 0 }

#define NATIVE (__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ ? ELFDATA2LSB : ELFDATA2MSB)

static Elf_Scn *add_scn(Elf *e, const char *name, size_t *shstr, char *shbuf,
			GElf_Word type, void *buf, size_t size, Elf_Type dtype)
{
	Elf_Scn *scn = elf_newscn(e);
	Elf_Data *d = elf_newdata(scn);
	GElf_Shdr sh;

	assert_non_null(d);
	gelf_getshdr(scn, &sh);
	sh.sh_name = (GElf_Word)*shstr;
	sh.sh_type = type;
	strcpy(shbuf + *shstr, name);
	*shstr += strlen(name) + 1;
	d->d_buf = buf;
	d->d_size = size;
	d->d_type = dtype;
	d->d_align = 8;
	gelf_update_shdr(scn, &sh);
	return scn;
}

/* An image: .text (NOBITS), .symtab, .strtab, .shstrtab. Symbols are
 * written in the order given, after the null symbol; locals first is the
 * caller's business. Returns a malloc()ed buffer of exactly *size bytes. */
static void *make_image(int cls, int data, struct tsym *syms, size_t n, size_t *size)
{
	char shbuf[64] = "", *strtab, *image;
	size_t shstr = 1, strsz = 1, fsz;
	Elf_Scn *sym_scn, *str_scn, *sh_scn, *text;
	void *symbuf;
	GElf_Ehdr eh;
	GElf_Shdr sh;
	Elf_Data *d;
	off_t len;
	Elf *e;
	int fd;

	assert_int_not_equal(elf_version(EV_CURRENT), EV_NONE);
	for (size_t i = 0; i < n; i++)
		strsz += strlen(syms[i].name) + 1;
	strtab = calloc(1, strsz);
	fd = memfd_create("ksyms-test", 0);
	assert_true(fd >= 0);
	e = elf_begin(fd, ELF_C_WRITE, NULL);
	assert_non_null(e);
	assert_non_null(gelf_newehdr(e, cls));
	gelf_getehdr(e, &eh);
	eh.e_ident[EI_DATA] = (unsigned char)data;
	eh.e_type = ET_EXEC;
	eh.e_machine = cls == ELFCLASS64 ? EM_X86_64 : EM_PPC;
	eh.e_version = EV_CURRENT;
	gelf_update_ehdr(e, &eh);

	text = add_scn(e, ".text", &shstr, shbuf, SHT_NOBITS, NULL, 0x100000, ELF_T_BYTE);
	fsz = gelf_fsize(e, ELF_T_SYM, 1, EV_CURRENT);
	symbuf = calloc(n + 1, fsz);
	sym_scn = add_scn(e, ".symtab", &shstr, shbuf, SHT_SYMTAB, symbuf, (n + 1) * fsz,
			  ELF_T_SYM);
	str_scn = add_scn(e, ".strtab", &shstr, shbuf, SHT_STRTAB, strtab, strsz, ELF_T_BYTE);
	sh_scn = add_scn(e, ".shstrtab", &shstr, shbuf, SHT_STRTAB, shbuf, 0, ELF_T_BYTE);
	elf_getdata(sh_scn, NULL)->d_size = shstr;
	gelf_getehdr(e, &eh);
	eh.e_shstrndx = (GElf_Half)elf_ndxscn(sh_scn);
	gelf_update_ehdr(e, &eh);

	d = elf_getdata(sym_scn, NULL);
	strsz = 1;
	for (size_t i = 0; i < n; i++) {
		GElf_Sym s = {
			.st_name = (GElf_Word)strsz,
			.st_info = GELF_ST_INFO(syms[i].bind, syms[i].type),
			.st_shndx = (GElf_Section)elf_ndxscn(text),
			.st_value = syms[i].value,
			.st_size = syms[i].size,
		};

		syms[i].off = (uint32_t)strsz;
		strcpy(strtab + strsz, syms[i].name);
		strsz += strlen(syms[i].name) + 1;
		assert_true(gelf_update_sym(d, (int)i + 1, &s));
	}
	gelf_getshdr(sym_scn, &sh);
	sh.sh_link = (GElf_Word)elf_ndxscn(str_scn);
	sh.sh_info = 1;
	sh.sh_entsize = fsz;
	gelf_update_shdr(sym_scn, &sh);

	len = elf_update(e, ELF_C_WRITE);
	assert_true(len > 0);
	elf_end(e);
	image = malloc((size_t)len);
	assert_int_equal(pread(fd, image, (size_t)len, 0), len);
	close(fd);
	free(symbuf);
	free(strtab);
	*size = (size_t)len;
	return image;
}

static struct ks_symindex *index_of(const void *image, size_t size)
{
	struct ks_symindex *idx;
	struct ks_error err = { 0 };
	int r = ks_symindex_new(image, size, &idx, &err);

	if (r)
		fail_msg("ks_symindex_new: %d: %s", r, err.msg);
	return idx;
}

/* lookup_addr must give want (told by its st_name) at offset off; or
 * ENOENT if want is NULL. */
static void expect_addr(const struct ks_symindex *idx, uint64_t addr, const struct tsym *want,
			uint64_t off)
{
	const char *name = NULL;
	uint64_t o = ~0ull;
	GElf_Sym s = { 0 };
	int r = ks_symindex_lookup_addr(idx, addr, &s, &name, &o);

	if (r != (want ? 0 : -ENOENT) ||
	    (want && (s.st_name != want->off || strcmp(name, want->name) != 0 || o != off ||
		      s.st_value != want->value)))
		fail_msg("0x%llx: got %d %s+0x%llx, want %s+0x%llx", (unsigned long long)addr, r,
			 r ? "-" : name, (unsigned long long)o, want ? want->name : "ENOENT",
			 (unsigned long long)off);
	/* NULL outputs are allowed. */
	assert_int_equal(ks_symindex_lookup_addr(idx, addr, NULL, NULL, NULL), r);
}

static void expect_name(const struct ks_symindex *idx, const char *name, const struct tsym *want)
{
	GElf_Sym s = { 0 };
	int r = ks_symindex_lookup_name(idx, name, &s);

	if (r != (want ? 0 : -ENOENT) ||
	    (want && (s.st_name != want->off || s.st_value != want->value ||
		      s.st_size != want->size || GELF_ST_BIND(s.st_info) != want->bind)))
		fail_msg("%s: got %d, value 0x%llx; want 0x%llx", name, r,
			 (unsigned long long)s.st_value, want ? (unsigned long long)want->value : 0);
}

static void test_names(void **state)
{
	struct tsym t[] = {
		L("dup", 0x1000, 0x10),		/* 0: a local of a global's name */
		L("only_local", 0x1010, 0x10),	/* 1 */
		L("only_local", 0x1020, 0x10),	/* 2: second local: the first wins */
		L("weakdup", 0x1030, 0x10),	/* 3 */
		G("dup", 0x2000, 0x10),		/* 4 */
		G("dup", 0x2010, 0x10),		/* 5: a module's global: the kernel's wins */
		WK("weak", 0x2020, 0x10),	/* 6 */
		WK("weakdup", 0x2030, 0x10),	/* 7: weak beats local */
		WK("wg", 0x2040, 0x10),		/* 8 */
		G("wg", 0x2050, 0x10),		/* 9: global beats weak */
		{ "sect", 0x3000, 0, STB_LOCAL, STT_SECTION, 0 },	/* 10: skipped */
		{ "file.c", 0, 0, STB_LOCAL, STT_FILE, 0 },		/* 11: skipped */
		{ "", 0x3000, 0x10, STB_GLOBAL, STT_FUNC, 0 },		/* 12: skipped */
	};
	struct ks_symindex *idx;
	size_t size;
	void *image = make_image(ELFCLASS64, NATIVE, t, sizeof(t) / sizeof(t[0]), &size);

	(void)state;
	idx = index_of(image, size);
	assert_int_equal(ks_symindex_count(idx), 10);
	expect_name(idx, "dup", &t[4]);
	expect_name(idx, "only_local", &t[1]);
	expect_name(idx, "weak", &t[6]);
	expect_name(idx, "weakdup", &t[7]);
	expect_name(idx, "wg", &t[9]);
	expect_name(idx, "sect", NULL);
	expect_name(idx, "file.c", NULL);
	expect_name(idx, "", NULL);
	expect_name(idx, "du", NULL);
	expect_name(idx, "dupe", NULL);
	assert_int_equal(ks_symindex_lookup_name(idx, "dup", NULL), 0);
	ks_symindex_free(idx);
	free(image);

	/* No symbols but the null one: valid, finds nothing. */
	image = make_image(ELFCLASS32, ELFDATA2MSB, t, 0, &size);
	idx = index_of(image, size);
	assert_int_equal(ks_symindex_count(idx), 0);
	expect_name(idx, "dup", NULL);
	expect_addr(idx, 0, NULL, 0);
	ks_symindex_free(idx);
	free(image);
}

static void test_addrs(void **state)
{
	struct tsym t[] = {
		L("a_local", 0x1000, 0x100),	/* 0: alias of 1 and 2 */
		L("zero", 0x1200, 0),		/* 1: size 0: exact only */
		L("outer", 0x2000, 0x1000),	/* 2: encloses 3, 4 */
		L("inner", 0x2100, 0x100),	/* 3 */
		L("inner2", 0x2800, 0x10),	/* 4 */
		L("short_alias", 0x3000, 0x10),	/* 5 */
		L("first", 0, 0x10),		/* 6: at address 0 */
		G("a_global", 0x1000, 0x100),	/* 7 */
		WK("a_weak", 0x1000, 0x100),	/* 8 */
		G("long_alias", 0x3000, 0x20),	/* 9: global, but only covers more */
		G("top", 0xffffffffffffff00ull, 0x100),	/* 10: ends at 2^64 */
		G("marker", 0x2800, 0),		/* 11: size-0 global at inner2 */
		L("big", 0x5000, 0x1000),	/* 12: [0x5000, 0x6000) */
		L("mid", 0x5100, 0x1000),	/* 13: [0x5100, 0x6100): overlaps */
		L("small", 0x5200, 0x10),	/* 14 */
		L("tiny", 0x5300, 0),		/* 15 */
		G("next_region", 0x6100, 0x100),	/* 16: starts where 13 ends */
	};
	struct ks_symindex *idx;
	size_t size;
	void *image = make_image(ELFCLASS64, NATIVE, t, sizeof(t) / sizeof(t[0]), &size);

	(void)state;
	idx = index_of(image, size);
	expect_addr(idx, 0xfff, NULL, 0);
	expect_addr(idx, 0x1000, &t[7], 0);		/* first byte, global alias */
	expect_addr(idx, 0x10ff, &t[7], 0xff);		/* last byte */
	expect_addr(idx, 0x1100, NULL, 0);		/* one past the end */
	expect_addr(idx, 0x11ff, NULL, 0);		/* between symbols */
	expect_addr(idx, 0x1200, &t[1], 0);		/* size 0: exact */
	expect_addr(idx, 0x1201, NULL, 0);
	expect_addr(idx, 0x2000, &t[2], 0);
	expect_addr(idx, 0x20ff, &t[2], 0xff);
	expect_addr(idx, 0x2100, &t[3], 0);		/* nested: innermost */
	expect_addr(idx, 0x21ff, &t[3], 0xff);
	expect_addr(idx, 0x2200, &t[2], 0x200);		/* back out to outer */
	expect_addr(idx, 0x2800, &t[11], 0);		/* size-0 global alias */
	expect_addr(idx, 0x2801, &t[4], 1);
	expect_addr(idx, 0x2810, &t[2], 0x810);
	expect_addr(idx, 0x2fff, &t[2], 0xfff);
	expect_addr(idx, 0x3000, &t[9], 0);
	expect_addr(idx, 0x300f, &t[9], 0xf);
	expect_addr(idx, 0x3010, &t[9], 0x10);		/* only the long one covers */
	expect_addr(idx, 0x3020, NULL, 0);
	expect_addr(idx, 0, &t[6], 0);
	expect_addr(idx, 0xf, &t[6], 0xf);
	expect_addr(idx, 0x10, NULL, 0);
	expect_addr(idx, 0xffffffffffffff00ull, &t[10], 0);
	expect_addr(idx, UINT64_MAX, &t[10], 0xff);
	expect_addr(idx, 0xfffffffffffffeffull, NULL, 0);
	/* Overlapping, not nested: the greatest start that covers wins. */
	expect_addr(idx, 0x50ff, &t[12], 0xff);
	expect_addr(idx, 0x5100, &t[13], 0);
	expect_addr(idx, 0x5205, &t[14], 5);
	expect_addr(idx, 0x5210, &t[13], 0x110);
	expect_addr(idx, 0x5300, &t[15], 0);
	expect_addr(idx, 0x5301, &t[13], 0x201);
	expect_addr(idx, 0x6050, &t[13], 0xf50);
	expect_addr(idx, 0x60ff, &t[13], 0xfff);	/* region edges */
	expect_addr(idx, 0x6100, &t[16], 0);
	expect_addr(idx, 0x61ff, &t[16], 0xff);
	expect_addr(idx, 0x6200, NULL, 0);
	ks_symindex_free(idx);
	free(image);
}

/* A 32-bit big-endian image, built and indexed on a read-only mapping:
 * neither libelf nor the index may write to the image. */
static void test_be32_readonly(void **state)
{
	struct tsym t[] = {
		L("lo", 0xc0001000u, 0x20),
		G("hi", 0xc0002000u, 0x40),
		G("lo", 0xc0003000u, 0x10),
	};
	static const int kinds[][2] = {
		{ ELFCLASS32, ELFDATA2MSB }, { ELFCLASS32, ELFDATA2LSB },
		{ ELFCLASS64, ELFDATA2MSB }, { ELFCLASS64, ELFDATA2LSB },
	};

	(void)state;
	for (size_t k = 0; k < 4; k++) {
		struct ks_symindex *idx;
		size_t size;
		void *image = make_image(kinds[k][0], kinds[k][1], t, 3, &size);
		void *ro = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
				-1, 0);
		GElf_Sym s;

		assert_true(ro != MAP_FAILED);
		memcpy(ro, image, size);
		assert_int_equal(mprotect(ro, size, PROT_READ), 0);
		idx = index_of(ro, size);
		assert_int_equal(ks_symindex_count(idx), 3);
		expect_name(idx, "lo", &t[2]);
		expect_name(idx, "hi", &t[1]);
		expect_addr(idx, 0xc000101f, &t[0], 0x1f);
		expect_addr(idx, 0xc0002020, &t[1], 0x20);
		expect_addr(idx, 0xc0003010, NULL, 0);
		assert_int_equal(ks_symindex_lookup_name(idx, "hi", &s), 0);
		assert_int_equal(GELF_ST_TYPE(s.st_info), STT_FUNC);
		assert_int_equal(s.st_shndx, 1);
		ks_symindex_free(idx);
		munmap(ro, size);
		free(image);
	}
}

enum { TEXT = 1, SYMTAB = 2, STRTAB = 3 };

static void expect_einval(const void *image, size_t size, const char *what)
{
	struct ks_error err = { 0 };
	struct ks_symindex *idx = (void *)1;
	int r = ks_symindex_new(image, size, &idx, &err);

	if (r != -EINVAL)
		fail_msg("%s: want -EINVAL, got %d", what, r);
	assert_null(idx);
	assert_int_equal(err.code, EINVAL);
	assert_true(err.msg[0] != '\0');
}

/* Breaks a native 64-bit image from make_image() in way number which;
 * returns how, or NULL past the last way. */
static const char *mangle(char *image, int which)
{
	Elf64_Ehdr *eh = (Elf64_Ehdr *)image;
	Elf64_Shdr *sym = (Elf64_Shdr *)(image + eh->e_shoff) + SYMTAB;
	Elf64_Shdr *str = (Elf64_Shdr *)(image + eh->e_shoff) + STRTAB;

	switch (which) {
	case 0: image[1] = 'X'; return "bad magic";
	case 1: image[EI_CLASS] = 7; return "bad class";
	case 2: eh->e_shoff = ~0ull - 8; return "bad e_shoff";
	case 3: eh->e_shentsize = 20; return "bad e_shentsize";
	case 4: eh->e_shnum = 0xfeff; return "huge e_shnum";
	case 5: sym->sh_offset = 1u << 30; return "bad sh_offset";
	case 6: sym->sh_offset = ~0ull - 4; return "wrapping sh_offset";
	case 7: sym->sh_size += 24 * 1000; return "bad sh_size";
	case 8: str->sh_offset = 1u << 30; return "bad strtab offset";
	case 9: sym->sh_entsize = 16; return "bad sh_entsize";
	case 10: sym->sh_link = 99; return "sh_link out of range";
	case 11: sym->sh_link = SYMTAB; return "sh_link to itself";
	case 12: sym->sh_link = TEXT; return "sh_link to nobits";
	case 13: sym->sh_link = 0; return "sh_link 0";
	case 14: sym->sh_type = SHT_PROGBITS; return "no symtab";
	case 15: str->sh_size = 0; return "empty strtab";
	case 16: image[str->sh_offset + str->sh_size - 1] = 'x'; return "strtab not terminated";
	case 17:
		((Elf64_Sym *)(image + sym->sh_offset))[2].st_name = (Elf64_Word)str->sh_size;
		return "st_name out of range";
	default: return NULL;
	}
}

static void test_malformed(void **state)
{
	struct tsym t[] = { L("a", 0x1000, 0x10), G("bb", 0x2000, 0x10) };
	size_t size;
	char *good = make_image(ELFCLASS64, NATIVE, t, 2, &size), *img, *cut;

	(void)state;
	/* Sanity: the unmangled image is accepted. */
	ks_symindex_free(index_of(good, size));
	for (int m = 0;; m++) {
		const char *how;

		img = malloc(size);
		memcpy(img, good, size);
		how = mangle(img, m);
		if (how)
			expect_einval(img, size, how);
		free(img);
		if (!how)
			break;
	}
	/* Every truncation, each in a buffer of exactly that size so that
	 * ASan or valgrind sees any read past it. */
	for (size_t len = 0; len < size; len++) {
		cut = malloc(len ? len : 1);
		memcpy(cut, good, len);
		expect_einval(cut, len, "truncated");
		free(cut);
	}
	expect_einval(NULL, 0, "NULL");
	free(good);
}

/* Random corruption: accepted or -EINVAL, never a crash or a bad read. */
static void test_corrupt_fuzz(void **state)
{
	struct tsym t[] = { L("a", 0x1000, 0x10), G("bb", 0x2000, 0x10), G("a", 0x3000, 0) };
	size_t size, ok = 0;
	char *good = make_image(ELFCLASS64, NATIVE, t, 3, &size), *img = malloc(size);
	uint64_t rng = 0x2545f4914f6cdd1dull;

	(void)state;
	for (int iter = 0; iter < 3000; iter++) {
		struct ks_symindex *idx;
		int r;

		memcpy(img, good, size);
		for (int k = 0; k < 1 + iter % 4; k++) {
			rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
			img[rng % size] = (char)(rng >> 32);
		}
		r = ks_symindex_new(img, size, &idx, NULL);
		if (r == 0) {
			ok++;
			ks_symindex_lookup_name(idx, "a", NULL);
			ks_symindex_lookup_addr(idx, 0x1005, NULL, NULL, NULL);
			ks_symindex_free(idx);
		} else {
			assert_int_equal(r, -EINVAL);
		}
	}
	printf("# fuzz: %zu of 3000 corrupted images accepted\n", ok);
	free(img);
	free(good);
}

static unsigned rank(const struct tsym *s)
{
	return s->bind == STB_GLOBAL ? 2 : s->bind == STB_WEAK;
}

/* Brute force: the symbol lookup_addr should find, or NULL. */
static const struct tsym *slow_addr(const struct tsym *t, size_t n, uint64_t a)
{
	const struct tsym *want = NULL;

	for (size_t i = 0; i < n; i++) {
		uint64_t span = t[i].size ? t[i].size : 1;

		if (a < t[i].value || a - t[i].value >= span)
			continue;
		if (!want || t[i].value > want->value ||
		    (t[i].value == want->value && rank(&t[i]) > rank(want)))
			want = &t[i];
	}
	return want;
}

static uint64_t xorshift(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

/*
 * Random overlapping, nested, aliased and size-0 symbols with shared
 * names, in random order (the radix sort) or as a few sorted runs (the
 * merge), checked against brute force.
 */
static void check_random(unsigned runs, uint64_t seed)
{
	enum { N = 1500 };
	static char names[N][8];
	struct tsym t[N], tmp;
	struct ks_symindex *idx;
	uint64_t rng = seed, base = runs == 3 ? UINT64_MAX - 8192 : 0, a;
	size_t size, chunk;
	void *image;

	for (size_t i = 0; i < N; i++) {
		uint64_t r = xorshift(&rng);

		snprintf(names[i], sizeof(names[i]), "s%u", (unsigned)(r % 400));
		t[i] = (struct tsym){
			.name = names[i],
			.value = base + (r >> 16) % 4096,
			.size = r % 5 == 0 ? 0 : r % 7 == 0 ? (r >> 40) % 1024 : (r >> 40) % 48,
			.bind = r % 3 == 0 ? STB_GLOBAL : r % 11 == 0 ? STB_WEAK : STB_LOCAL,
			.type = r % 13 == 0 ? STT_OBJECT : STT_FUNC,
		};
		if (i % 97 == 0)	/* far away: all 64 bits differ */
			t[i].value = i % 2 ? UINT64_MAX - 3 : 5;
	}
	if (runs) {
		/* Sorted chunks, the higher first: runs descents. */
		for (size_t i = 1; i < N; i++)
			for (size_t j = i; j > 0 && t[j - 1].value > t[j].value; j--)
				tmp = t[j], t[j] = t[j - 1], t[j - 1] = tmp;
		chunk = (N + runs - 1) / runs;
		for (size_t i = 0; i < N / 2; i++)
			tmp = t[i], t[i] = t[N - 1 - i], t[N - 1 - i] = tmp;
		for (size_t c = 0; c < N; c += chunk)
			for (size_t i = c, j = (c + chunk < N ? c + chunk : N) - 1; i < j; i++, j--)
				tmp = t[i], t[i] = t[j], t[j] = tmp;
	}
	image = make_image(ELFCLASS64, NATIVE, t, N, &size);
	idx = index_of(image, size);
	for (int q = 0; q < 3000; q++) {
		a = base + xorshift(&rng) % 4200;
		if (q % 50 == 0)
			a = q % 100 ? UINT64_MAX - xorshift(&rng) % 8 : xorshift(&rng) % 8;
		const struct tsym *w = slow_addr(t, N, a);

		expect_addr(idx, a, w, w ? a - w->value : 0);
	}
	for (unsigned k = 0; k < 410; k++) {
		const struct tsym *w = NULL;
		char name[8];

		snprintf(name, sizeof(name), "s%u", k);
		for (size_t i = 0; i < N; i++)
			if (strcmp(t[i].name, name) == 0 && (!w || rank(&t[i]) > rank(w)))
				w = &t[i];
		expect_name(idx, name, w);
	}
	ks_symindex_free(idx);
	free(image);
}

static void test_random(void **state)
{
	(void)state;
	for (unsigned runs = 0; runs <= 9; runs++)
		check_random(runs, 0x9e3779b97f4a7c15ull * (runs + 1));
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The symbol whose name is at strtab offset off: make_image() gives
 * increasing offsets. */
static size_t by_off(const struct tsym *t, size_t n, uint32_t off)
{
	size_t lo = 0, hi = n;

	while (hi - lo > 1)
		if (t[lo + (hi - lo) / 2].off <= off)
			lo += (hi - lo) / 2;
		else
			hi = lo + (hi - lo) / 2;
	assert_int_equal(t[lo].off, off);
	return lo;
}

/*
 * A real kernel's symbols (the host-6.18 fixture, ~122,000), sizes made up
 * from the distance to the next address: every name must find its best
 * symbol, and random addresses must agree with a linear search. Prints the
 * build time.
 */
static void test_kernel_scale(void **state)
{
	const char *fix = getenv("KSYMS_FIXTURES");
	char path[4096], line[1024], addr[32], type[4], name[512];
	struct tsym *t = NULL, *tmp;
	size_t n = 0, cap, size;
	double best = 1e9, t0;
	struct ks_symindex *idx;
	uint64_t rng = 88172645463325252ull;
	void *image;
	FILE *f;

	(void)state;
	if (!fix)
		skip();
	snprintf(path, sizeof(path), "%s/host-6.18/state-a/proc/kallsyms", fix);
	f = fopen(path, "r");
	if (!f)
		skip();
	t = calloc(cap = 200000, sizeof(*t));
	while (fgets(line, sizeof(line), f) && n < cap) {
		if (sscanf(line, "%31s %3s %511s", addr, type, name) != 3)
			continue;
		t[n++] = (struct tsym){
			.name = strdup(name), .value = strtoull(addr, NULL, 16),
			.bind = strchr("wWvV", type[0]) ? STB_WEAK
				: type[0] >= 'a' ? STB_LOCAL : STB_GLOBAL,
			.type = STT_FUNC,
		};
	}
	fclose(f);
	/* kallsyms lists addresses in order. */
	for (size_t i = 0; i + 1 < n; i++)
		t[i].size = t[i + 1].value >= t[i].value ? t[i + 1].value - t[i].value : 0;
	/* Locals first, as ELF wants them: kallsyms order no more, so the
	 * index has to sort. */
	tmp = malloc(n * sizeof(*t));
	for (int pass = 0, k = 0; pass < 2; pass++)
		for (size_t i = 0; i < n; i++)
			if ((t[i].bind == STB_LOCAL) == !pass)
				tmp[k++] = t[i];
	memcpy(t, tmp, n * sizeof(*t));
	free(tmp);
	image = make_image(ELFCLASS64, NATIVE, t, n, &size);

	for (int run = 0; run < 5; run++) {
		t0 = now();
		idx = index_of(image, size);
		t0 = now() - t0;
		best = t0 < best ? t0 : best;
		if (run < 4)
			ks_symindex_free(idx);
	}
	printf("# %zu symbols, %zu-byte image: index built in %.2f ms (best of 5)\n", n, size,
	       best * 1e3);
	assert_int_equal(ks_symindex_count(idx), n);

	/* Names: the first global, else first weak, else first local. So
	 * what a name finds is that name, and no worse than any symbol of
	 * it, which makes it the best. */
	for (size_t i = 0, j; i < n; i++) {
		GElf_Sym s;

		assert_int_equal(ks_symindex_lookup_name(idx, t[i].name, &s), 0);
		j = by_off(t, n, s.st_name);
		assert_string_equal(t[j].name, t[i].name);
		assert_true(rank(&t[j]) > rank(&t[i]) || (rank(&t[j]) == rank(&t[i]) && j <= i));
	}

	/* Addresses: a linear search for the greatest covering start, best
	 * rank, first in the table. */
	for (int q = 0; q < 200; q++) {
		const struct tsym *want;
		uint64_t a;

		xorshift(&rng);
		a = t[rng % n].value + (q % 4 ? (rng >> 40) % 64 : 0);
		want = slow_addr(t, n, a);
		expect_addr(idx, a, want, want ? a - want->value : 0);
	}
	ks_symindex_free(idx);
	for (size_t i = 0; i < n; i++)
		free((char *)t[i].name);
	free(t);
	free(image);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_addrs),
		cmocka_unit_test(test_be32_readonly),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_corrupt_fuzz),
		cmocka_unit_test(test_random),
		cmocka_unit_test(test_kernel_scale),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
