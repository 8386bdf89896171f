/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The client ABI of /dev/ksyms: ioctl numbers, structure layout, and the
 * header's self-sufficiency. Numbers are pinned as literals so that any
 * drift of a macro's direction, type, number or argument size fails here
 * rather than silently breaking binaries built against an older header.
 */

/* First, before anything else: proves <sys/ksyms.h> includes all it uses. */
#include <sys/ksyms.h>

#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

/* Linux's asm-generic layout, written out independently of <asm/ioctl.h>:
 * nr in bits 0-7, type 8-15, size 16-29, direction 30-31 (write 1, read 2). */
#define ENC(dir, type, nr, size) \
	(((unsigned long)(dir) << 30) | ((unsigned long)(size) << 16) | \
	 ((unsigned long)(type) << 8) | (unsigned long)(nr))
#define W 1u
#define R 2u

struct req {
	const char *name;
	unsigned long value;	/* the macro's value */
	unsigned dir;		/* _IOC_READ / _IOC_WRITE bits */
	unsigned nr;
	size_t size;
	unsigned long pinned;	/* literal, for LP64 with the generic layout */
};

#define REQ(n, d, nr, sz, lit) { #n, (unsigned long)(n), d, nr, sz, lit }

static const struct req reqs[] = {
	REQ(KIOCGSIZE_SIZE_T, _IOC_READ, 1, sizeof(size_t), 0x80086c01ul),
	REQ(KIOCGADDR, _IOC_READ, 2, sizeof(void *), 0x80086c02ul),
	REQ(KIOCGSIZE_INT, _IOC_READ, 3, sizeof(int), 0x80046c03ul),
	REQ(KIOCGVALUE, _IOC_READ | _IOC_WRITE, 4, sizeof(struct ksyms_gvalue), 0xc0106c04ul),
	REQ(KIOCGSYMBOL, _IOC_READ | _IOC_WRITE, 5, sizeof(struct ksyms_gsymbol), 0xc0206c05ul),
	REQ(OKIOCGSYMBOL, _IOC_WRITE, 1, sizeof(struct ksyms_ogsymbol), 0x40106c01ul),
	REQ(OKIOCGVALUE, _IOC_WRITE, 2, sizeof(struct ksyms_ogsymbol), 0x40106c02ul),
};
#define NREQS (sizeof(reqs) / sizeof(reqs[0]))

static void test_fields(void **state)
{
	(void)state;
	for (size_t i = 0; i < NREQS; i++) {
		const struct req *r = &reqs[i];

		printf("# %-16s 0x%08lx\n", r->name, r->value);
		assert_int_equal(_IOC_TYPE(r->value), 'l');
		assert_int_equal(_IOC_NR(r->value), r->nr);
		assert_int_equal(_IOC_DIR(r->value), r->dir);
		assert_int_equal(_IOC_SIZE(r->value), r->size);
	}
}

static void test_pinned(void **state)
{
	(void)state;
#if defined(__LP64__) && _IOC_SIZEBITS == 14 && _IOC_DIRBITS == 2 && \
	_IOC_WRITE == 1U && _IOC_READ == 2U
	for (size_t i = 0; i < NREQS; i++) {
		const struct req *r = &reqs[i];
		unsigned d = (r->dir & _IOC_READ ? R : 0) | (r->dir & _IOC_WRITE ? W : 0);

		/* The literal agrees with the encoding rules ... */
		assert_int_equal(r->pinned, ENC(d, 'l', r->nr, r->size));
		/* ... and the header agrees with the literal. */
		if (r->value != r->pinned)
			fail_msg("%s is 0x%lx, pinned 0x%lx", r->name, r->value, r->pinned);
	}
#else
	skip();
#endif
}

static void test_distinct(void **state)
{
	(void)state;
	for (size_t i = 0; i < NREQS; i++)
		for (size_t j = i + 1; j < NREQS; j++)
			if (reqs[i].value == reqs[j].value)
				fail_msg("%s == %s", reqs[i].name, reqs[j].name);
}

static void test_defaults(void **state)
{
	(void)state;
	/* Without KSYMS_NETBSD_COMPAT, KIOCGSIZE is FreeBSD's (size_t). */
	assert_int_equal(KIOCGSIZE, KIOCGSIZE_SIZE_T);
	assert_string_equal(KSYMS_DEVICE, "/dev/ksyms");
	assert_string_equal(_PATH_KSYMS, "/dev/ksyms");
	assert_int_equal(KSYMS_MAXNAMELEN, 512);
	assert_int_equal(sizeof(Elf_Sym), sizeof(void *) == 8 ? sizeof(Elf64_Sym)
							       : sizeof(Elf32_Sym));
}

static void test_layout(void **state)
{
	struct ksyms_ogsymbol og;
	struct ksyms_gsymbol g;
	unsigned long v;
	Elf_Sym s;

	(void)state;
	/* NetBSD's names reach the right members in both structures. */
	og.kg_sym = &s;
	assert_ptr_equal(og._un.ku_sym, &s);
	og.kg_value = &v;
	assert_ptr_equal(og._un.ku_value, &v);
	g.kg_sym.st_value = 42;
	assert_int_equal(g._un.ku_sym.st_value, 42);

#define FSIZE(type, field) sizeof(((type *)0)->field)
	assert_int_equal(FSIZE(struct ksyms_gvalue, kv_name), sizeof(void *));
	assert_int_equal(FSIZE(struct ksyms_gvalue, kv_value), 8);
	assert_int_equal(FSIZE(struct ksyms_gsymbol, kg_name), sizeof(void *));
	assert_int_equal(FSIZE(struct ksyms_gsymbol, kg_sym), sizeof(Elf_Sym));
	assert_int_equal(FSIZE(struct ksyms_ogsymbol, kg_sym), sizeof(void *));
	assert_int_equal(FSIZE(struct ksyms_ogsymbol, kg_value), sizeof(unsigned long *));
	assert_int_equal(offsetof(struct ksyms_gvalue, kv_name), 0);
	assert_int_equal(offsetof(struct ksyms_gsymbol, kg_name), 0);
	assert_int_equal(offsetof(struct ksyms_ogsymbol, kg_name), 0);
	assert_int_equal(offsetof(struct ksyms_gsymbol, kg_sym), sizeof(void *));
	assert_int_equal(offsetof(struct ksyms_ogsymbol, kg_sym), sizeof(void *));
	assert_int_equal(offsetof(struct ksyms_ogsymbol, kg_value), sizeof(void *));
#ifdef __LP64__
	assert_int_equal(sizeof(struct ksyms_gvalue), 16);
	assert_int_equal(offsetof(struct ksyms_gvalue, kv_value), 8);
	assert_int_equal(sizeof(struct ksyms_gsymbol), 32);
	assert_int_equal(sizeof(g.kg_sym), 24);
	assert_int_equal(offsetof(struct ksyms_gsymbol, kg_sym.st_name), 8);
	assert_int_equal(offsetof(struct ksyms_gsymbol, kg_sym.st_info), 12);
	assert_int_equal(offsetof(struct ksyms_gsymbol, kg_sym.st_shndx), 14);
	assert_int_equal(offsetof(struct ksyms_gsymbol, kg_sym.st_value), 16);
	assert_int_equal(offsetof(struct ksyms_gsymbol, kg_sym.st_size), 24);
	assert_int_equal(sizeof(struct ksyms_ogsymbol), 16);
#endif
}

/*
 * The header on its own in other languages and modes: C99 (no static
 * assertions), C11, C++98 and C++17, with and without KSYMS_NETBSD_COMPAT.
 * Needs a compiler at test time and the source tree (found from
 * KSYMS_FIXTURES); skipped without them.
 */
static const char probe_src[] =
	"#include <sys/ksyms.h>\n"
	"#ifdef KSYMS_NETBSD_COMPAT\n"
	"typedef char check[KIOCGSIZE == _IOR('l', 3, int) ? 1 : -1];\n"
	"#else\n"
	"typedef char check[KIOCGSIZE == _IOR('l', 1, size_t) ? 1 : -1];\n"
	"#endif\n"
	"struct ksyms_gsymbol probe_g;\n"
	"int probe(void);\n"
	"int probe(void) { probe_g.kg_sym.st_size = 1; return (int)sizeof(check); }\n";

static int have(const char *prog)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "command -v %s >/dev/null 2>&1", prog);
	return system(cmd) == 0;
}

static void test_compiles_alone(void **state)
{
	static const struct {
		const char *cc, *lang, *std;
	} modes[] = {
		{ "cc", "c", "c99" }, { "cc", "c", "c11" },
		{ "c++", "c++", "c++98" }, { "c++", "c++", "c++17" },
	};
	const char *fix = getenv("KSYMS_FIXTURES");
	char dir[] = "/tmp/ksyms-abi-XXXXXX", src[64], cmd[PATH_MAX + 512];
	int ran = 0;
	FILE *f;

	(void)state;
	if (!fix || !have("cc"))
		skip();
	assert_non_null(mkdtemp(dir));
	snprintf(src, sizeof(src), "%s/probe.h", dir);
	f = fopen(src, "w");
	assert_non_null(f);
	fputs(probe_src, f);
	assert_int_equal(fclose(f), 0);

	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		if (!have(modes[i].cc))
			continue;
		for (int compat = 0; compat < 2; compat++) {
			snprintf(cmd, sizeof(cmd),
				 "%s -x %s -std=%s -Wall -Wextra -Werror -pedantic %s "
				 "-I'%s/../../include' -c '%s' -o /dev/null",
				 modes[i].cc, modes[i].lang, modes[i].std,
				 compat ? "-DKSYMS_NETBSD_COMPAT" : "", fix, src);
			if (system(cmd) != 0)
				fail_msg("header does not compile: %s", cmd);
			ran++;
		}
	}
	unlink(src);
	rmdir(dir);
	assert_true(ran >= 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fields),
		cmocka_unit_test(test_pinned),
		cmocka_unit_test(test_distinct),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_layout),
		cmocka_unit_test(test_compiles_alone),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
