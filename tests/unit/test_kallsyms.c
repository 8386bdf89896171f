/* SPDX-License-Identifier: BSD-2-Clause */
/* The /proc/kallsyms parser: real captures, every malformed-line case, and
 * that it leaves the text as it was. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "engine/kallsyms.h"
#include "engine/text.h"
#include "testutil.h"

static int parse_str(struct ks_kallsyms *ks, const char *text, struct ks_error *err)
{
	return ks_kallsyms_parse(ks, text, strlen(text), err);
}

#define assert_name(sym, s) assert_true(name_eq((sym).name, (sym).name_len, (s)))
#define assert_module(sym, s) assert_true(name_eq((sym).module, (sym).module_len, (s)))

/* Parse a fixture's kallsyms; the text must outlive the table. */
static void parse_fixture(const char *tree, struct ks_text *text, struct ks_kallsyms *ks)
{
	struct ks_error err = { 0 };
	struct ks_root root;

	open_root(&root, fixture(tree));
	if (ks_text_read(&root, "proc/kallsyms", text, &err) < 0 ||
	    ks_kallsyms_parse(ks, text->data, text->len, &err) < 0)
		fail_msg("%s", err.msg);
	ks_root_close(&root);
}

static void test_basic_lines(void **state)
{
	struct ks_kallsyms ks;
	struct ks_error err = { 0 };

	(void)state;
	assert_int_equal(parse_str(&ks,
				   "ffffffff81000000 T _text\n"
				   "ffffffff81000010 t local_fn\n"
				   "0000000000035000 A __per_cpu_end\n"
				   "ffffffffc0440000 t fuse_init\t[fuse]\n"
				   "ffffffffc0440100 T fuse_exported\t[fuse]\n"
				   "ffffffffc0201000 t bpf_prog_6deef7357e7b4530_sd_fw_egress\t[bpf]\n",
				   &err),
			 0);
	assert_int_equal(ks.n_syms, 6);
	assert_true(ks.syms[0].addr == 0xffffffff81000000ull);
	assert_int_equal(ks.syms[0].type, 'T');
	assert_name(ks.syms[0], "_text");
	assert_int_equal(ks.syms[0].name_len, 5);
	assert_null(ks.syms[0].module);
	assert_true(ks.syms[2].addr == 0x35000);
	assert_int_equal(ks.syms[2].type, 'A');
	assert_name(ks.syms[3], "fuse_init");
	assert_module(ks.syms[3], "fuse");
	assert_int_equal(ks.syms[3].module_len, 4);
	assert_module(ks.syms[5], "bpf");
	assert_name(ks.syms[5], "bpf_prog_6deef7357e7b4530_sd_fw_egress");
	ks_kallsyms_release(&ks);
}

static void test_no_final_newline_and_short_addresses(void **state)
{
	struct ks_kallsyms ks;

	(void)state;
	/* 32-bit kernels print 8 hex digits. */
	assert_int_equal(parse_str(&ks, "c1000000 T _text\nc1000010 t x", NULL), 0);
	assert_int_equal(ks.n_syms, 2);
	assert_true(ks.syms[1].addr == 0xc1000010);
	assert_name(ks.syms[1], "x");
	ks_kallsyms_release(&ks);
}

static void test_empty_input(void **state)
{
	struct ks_kallsyms ks;

	(void)state;
	assert_int_equal(parse_str(&ks, "", NULL), 0);
	assert_int_equal(ks.n_syms, 0);
	ks_kallsyms_release(&ks);
}

static bool all_zero(const char *text)
{
	return ks_kallsyms_all_zero(text, strlen(text));
}

static void test_all_zero(void **state)
{
	(void)state;
	assert_true(all_zero("0000000000000000 T _text\n0000000000000000 t x\t[fuse]\n"));
	assert_true(all_zero("00000000 T _text\n0 t x"));
	assert_false(all_zero("0000000000000000 A __per_cpu_start\nffffffff81000000 T _text\n"));
	assert_false(all_zero("0000000000000000 T a\n0000000000000010 T b\n"));
	assert_false(all_zero(""));
	assert_false(all_zero("\n"));
	assert_false(all_zero("0000000000000000 T a\nzz T b\n"));
}

/* The text is left byte for byte as it was, and the table points into it. */
static void test_text_untouched(void **state)
{
	static const char orig[] = "ffffffff81000000 T _text\n"
				   "ffffffffc0440000 t fuse_init\t[fuse]\n"
				   "ffffffffc0440010 t last\t[fuse]";
	char text[sizeof(orig)];
	struct ks_kallsyms ks;

	(void)state;
	memcpy(text, orig, sizeof(orig));
	assert_int_equal(ks_kallsyms_parse(&ks, text, sizeof(orig) - 1, NULL), 0);
	assert_memory_equal(text, orig, sizeof(orig));
	assert_int_equal(ks.n_syms, 3);
	assert_ptr_equal(ks.syms[0].name, text + 19);
	assert_ptr_equal(ks.syms[1].module, strchr(text, '[') + 1);
	assert_name(ks.syms[2], "last");
	assert_module(ks.syms[2], "fuse");
	ks_kallsyms_release(&ks);
}

/* Each malformed line is an error that names its line number. */
static void test_malformed_lines(void **state)
{
	static const struct {
		const char *line;
		const char *why;
	} bad[] = {
		{ "zzzz T name\n", "hex address" },
		{ "ffffffff81000000T name\n", "hex address" },
		{ "12345678901234567 T name\n", "1-16 digits" },
		{ "ffffffff81000000 TT name\n", "type letter" },
		{ "ffffffff81000000 1 name\n", "type letter" },
		{ "ffffffff81000000 x name\n", "type letter" },
		{ "ffffffff81000000 T\n", "type letter" },
		{ "ffffffff81000000 T \n", "empty symbol name" },
		{ "ffffffff81000000 T a b\n", "space in symbol name" },
		{ "ffffffff81000000 T name\tfuse\n", "[module]" },
		{ "ffffffff81000000 T name\t[fuse\n", "[module]" },
		{ "ffffffff81000000 T name\t[]\n", "[module]" },
		{ "ffffffff81000000 T name\t[fu]se]\n", "module name" },
		{ "\n", "hex address" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char text[256], want[32];
		struct ks_kallsyms ks;
		struct ks_error err = { 0 };

		snprintf(text, sizeof(text), "ffffffff81000000 T _text\nffffffff81000001 t ok\n%s",
			 bad[i].line);
		assert_int_equal(parse_str(&ks, text, &err), -EINVAL);
		assert_int_equal(err.code, EINVAL);
		snprintf(want, sizeof(want), "line 3:");
		if (!strstr(err.msg, want) || !strstr(err.msg, bad[i].why))
			fail_msg("case %zu (%s): message \"%s\"", i, bad[i].line, err.msg);
		assert_null(ks.syms);
		assert_int_equal(ks.n_syms, 0);
	}
}

static void test_name_length_limit(void **state)
{
	char text[1200], name[600];
	struct ks_kallsyms ks;
	struct ks_error err = { 0 };

	(void)state;
	memset(name, 'n', 511);
	name[511] = '\0';
	snprintf(text, sizeof(text), "ffffffff81000000 T %s\t[mod]\n", name);
	assert_int_equal(parse_str(&ks, text, &err), 0);
	assert_int_equal(ks.syms[0].name_len, 511);
	assert_module(ks.syms[0], "mod");
	ks_kallsyms_release(&ks);

	/* 512 bytes cannot come from a kernel (KSYM_NAME_LEN counts the NUL). */
	memset(name, 'n', 512);
	name[512] = '\0';
	snprintf(text, sizeof(text), "ffffffff81000000 T %s\n", name);
	assert_int_equal(parse_str(&ks, text, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "line 1: symbol name longer than 511 bytes"));

	/* Module tags have the same limit (their length is kept in 16 bits). */
	snprintf(text, sizeof(text), "ffffffff81000000 T x\t[%s]\n", name);
	assert_int_equal(parse_str(&ks, text, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "line 1: module name longer than 511 bytes"));
}

/* Fed in pieces, a line that cannot end within the longest possible line
 * fails before the rest of the text arrives. */
static void test_parse_in_pieces(void **state)
{
	static const char text[] = "ffffffff81000000 T _text\nffffffff81000010 t lo";
	char *big = malloc(KS_LINE_MAX + 64);
	struct ks_kallsyms ks = { 0 };
	struct ks_error err = { 0 };

	(void)state;
	/* A partial last line waits for more; the whole lines are there. */
	assert_int_equal(ks_kallsyms_parse_more(&ks, text, sizeof(text) - 1, false, NULL), 0);
	assert_int_equal(ks.n_syms, 1);
	assert_int_equal(ks_kallsyms_parse_more(&ks, text, sizeof(text) - 1, true, NULL), 0);
	assert_int_equal(ks.n_syms, 2);
	assert_name(ks.syms[1], "lo");
	ks_kallsyms_release(&ks);

	assert_non_null(big);
	memset(big, 'x', KS_LINE_MAX + 64);
	memcpy(big, "ffffffff81000000 T ", 19);
	assert_int_equal(ks_kallsyms_parse_more(&ks, big, KS_LINE_MAX, false, &err), 0);
	assert_int_equal(ks_kallsyms_parse_more(&ks, big, KS_LINE_MAX + 1, false, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "line 1: longer than"));
	assert_null(ks.syms);
	free(big);
}

/* A real capture: counts and spot checks against the MANIFEST's numbers. */
static void test_debian_capture(void **state)
{
	struct ks_kallsyms ks;
	struct ks_text text;
	size_t tagged = 0, fuse = 0;

	(void)state;
	parse_fixture("debian-6.1/state-a", &text, &ks);
	assert_int_equal(ks.n_syms, 101953);
	for (size_t i = 0; i < ks.n_syms; i++) {
		if (ks.syms[i].module) {
			tagged++;
			fuse += name_eq(ks.syms[i].module, ks.syms[i].module_len, "fuse");
		}
	}
	assert_int_equal(tagged, 7687);
	assert_true(fuse > 100);
	assert_name(ks.syms[0], "fixed_percpu_data");
	assert_int_equal(ks.syms[0].type, 'A');
	ks_kallsyms_release(&ks);
	ks_text_release(&text);
}

static void test_host_capture(void **state)
{
	struct ks_kallsyms ks;
	struct ks_text text;
	const struct ks_rawsym *last;

	(void)state;
	parse_fixture("host-6.18/state-a", &text, &ks);
	assert_int_equal(ks.n_syms, 122153);
	last = &ks.syms[ks.n_syms - 1];
	assert_name(*last, "ftrace_trampoline");
	assert_module(*last, "__builtin__ftrace");
	assert_true(last->addr == 0xffffffffc0201000ull);
	ks_kallsyms_release(&ks);
	ks_text_release(&text);
}

static void test_unprivileged_capture_is_all_zero(void **state)
{
	struct ks_kallsyms ks;
	struct ks_text text;

	(void)state;
	parse_fixture("debian-6.1/state-c-unprivileged", &text, &ks);
	assert_true(ks.n_syms > 100000);
	assert_true(ks_kallsyms_all_zero(text.data, text.len));
	ks_kallsyms_release(&ks);
	ks_text_release(&text);
	parse_fixture("debian-6.1/state-a", &text, &ks);
	assert_false(ks_kallsyms_all_zero(text.data, text.len));
	ks_kallsyms_release(&ks);
	ks_text_release(&text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_basic_lines),
		cmocka_unit_test(test_no_final_newline_and_short_addresses),
		cmocka_unit_test(test_empty_input),
		cmocka_unit_test(test_all_zero),
		cmocka_unit_test(test_text_untouched),
		cmocka_unit_test(test_malformed_lines),
		cmocka_unit_test(test_name_length_limit),
		cmocka_unit_test(test_parse_in_pieces),
		cmocka_unit_test(test_debian_capture),
		cmocka_unit_test(test_host_capture),
		cmocka_unit_test(test_unprivileged_capture_is_all_zero),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
