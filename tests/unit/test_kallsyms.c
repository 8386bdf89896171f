/* SPDX-License-Identifier: BSD-2-Clause */
/* The /proc/kallsyms parser: real captures and every malformed-line case. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>

#include "engine/kallsyms.h"
#include "testutil.h"

static int parse_str(struct ks_kallsyms *ks, const char *text, struct ks_error *err)
{
	size_t len = strlen(text);
	char *copy = malloc(len + 1);

	assert_non_null(copy);
	memcpy(copy, text, len + 1);
	return ks_kallsyms_parse(ks, copy, len, err);
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
	assert_false(ks.all_zero);
	assert_true(ks.syms[0].addr == 0xffffffff81000000ull);
	assert_int_equal(ks.syms[0].type, 'T');
	assert_string_equal(ks.syms[0].name, "_text");
	assert_int_equal(ks.syms[0].name_len, 5);
	assert_null(ks.syms[0].module);
	assert_true(ks.syms[2].addr == 0x35000);
	assert_int_equal(ks.syms[2].type, 'A');
	assert_string_equal(ks.syms[3].name, "fuse_init");
	assert_string_equal(ks.syms[3].module, "fuse");
	assert_int_equal(ks.syms[3].module_len, 4);
	assert_string_equal(ks.syms[5].module, "bpf");
	assert_string_equal(ks.syms[5].name, "bpf_prog_6deef7357e7b4530_sd_fw_egress");
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
	assert_string_equal(ks.syms[1].name, "x");
	ks_kallsyms_release(&ks);
}

static void test_empty_input(void **state)
{
	struct ks_kallsyms ks;

	(void)state;
	assert_int_equal(parse_str(&ks, "", NULL), 0);
	assert_int_equal(ks.n_syms, 0);
	assert_false(ks.all_zero);
	ks_kallsyms_release(&ks);
}

static void test_all_zero(void **state)
{
	struct ks_kallsyms ks;

	(void)state;
	assert_int_equal(parse_str(&ks, "0000000000000000 T _text\n"
					"0000000000000000 t x\t[fuse]\n", NULL), 0);
	assert_true(ks.all_zero);
	ks_kallsyms_release(&ks);
	assert_int_equal(parse_str(&ks, "0000000000000000 A __per_cpu_start\n"
					"ffffffff81000000 T _text\n", NULL), 0);
	assert_false(ks.all_zero);
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
		assert_null(ks.text);
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
	assert_int_equal(strlen(ks.syms[0].name), 511);
	assert_string_equal(ks.syms[0].module, "mod");
	ks_kallsyms_release(&ks);

	/* 512 bytes cannot come from a kernel (KSYM_NAME_LEN counts the NUL). */
	memset(name, 'n', 512);
	name[512] = '\0';
	snprintf(text, sizeof(text), "ffffffff81000000 T %s\n", name);
	assert_int_equal(parse_str(&ks, text, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "line 1: symbol name longer than 511 bytes"));
}

/* A real capture: counts and spot checks against the MANIFEST's numbers. */
static void test_debian_capture(void **state)
{
	struct ks_kallsyms ks;
	struct ks_error err = { 0 };
	size_t tagged = 0, fuse = 0;

	(void)state;
	assert_int_equal(ks_kallsyms_read(&ks, fixture("debian-6.1/state-a/proc/kallsyms"), NULL,
					  &err), 0);
	assert_int_equal(ks.n_syms, 101953);
	for (size_t i = 0; i < ks.n_syms; i++) {
		if (ks.syms[i].module) {
			tagged++;
			fuse += strcmp(ks.syms[i].module, "fuse") == 0;
		}
	}
	assert_int_equal(tagged, 7687);
	assert_true(fuse > 100);
	assert_string_equal(ks.syms[0].name, "fixed_percpu_data");
	assert_int_equal(ks.syms[0].type, 'A');
	ks_kallsyms_release(&ks);
}

static void test_host_capture(void **state)
{
	struct ks_kallsyms ks;
	struct ks_error err = { 0 };
	const struct ks_rawsym *last;

	(void)state;
	assert_int_equal(ks_kallsyms_read(&ks, fixture("host-6.18/state-a/proc/kallsyms"), NULL,
					  &err), 0);
	assert_int_equal(ks.n_syms, 122153);
	last = &ks.syms[ks.n_syms - 1];
	assert_string_equal(last->name, "ftrace_trampoline");
	assert_string_equal(last->module, "__builtin__ftrace");
	assert_true(last->addr == 0xffffffffc0201000ull);
	ks_kallsyms_release(&ks);
}

static void test_unprivileged_capture_is_all_zero(void **state)
{
	struct ks_kallsyms ks;

	(void)state;
	assert_int_equal(ks_kallsyms_read(&ks, fixture("debian-6.1/state-c-unprivileged/proc/kallsyms"),
					  NULL, NULL), 0);
	assert_true(ks.all_zero);
	ks_kallsyms_release(&ks);
}

static void test_missing_file(void **state)
{
	struct ks_kallsyms ks;
	struct ks_error err = { 0 };

	(void)state;
	assert_int_equal(ks_kallsyms_read(&ks, "/nonexistent/kallsyms", NULL, &err), -ENOENT);
	assert_non_null(strstr(err.msg, "/nonexistent/kallsyms"));
}

/* Feed more than the reader's first buffer through a pipe in small writes,
 * the way procfs hands out a page at a time. */
struct feeder {
	int fd;
	size_t total;
};

static void *feed(void *arg)
{
	struct feeder *f = arg;
	char chunk[4096];
	size_t sent = 0;

	for (size_t i = 0; i < sizeof(chunk); i++)
		chunk[i] = (char)('a' + i % 26);
	while (sent < f->total) {
		size_t n = f->total - sent < sizeof(chunk) ? f->total - sent : sizeof(chunk);
		ssize_t w = write(f->fd, chunk, n);

		if (w <= 0)
			break;
		sent += (size_t)w;
	}
	close(f->fd);
	return NULL;
}

static void test_read_all_grows(void **state)
{
	struct feeder f;
	pthread_t t;
	char *text;
	size_t len;
	int p[2];

	(void)state;
	assert_int_equal(pipe(p), 0);
	f.fd = p[1];
	f.total = (9u << 20) + 123;
	assert_int_equal(pthread_create(&t, NULL, feed, &f), 0);
	assert_int_equal(ks_read_all(p[0], &text, &len, NULL), 0);
	pthread_join(t, NULL);
	close(p[0]);
	assert_int_equal(len, f.total);
	assert_int_equal(text[len], '\0');
	assert_int_equal(text[len - 1], 'a' + (int)((f.total - 1) % 4096 % 26));
	free(text);
}

/* A text equal to the expected one is not parsed; any difference is. */
static void test_expect_and_keep_raw(void **state)
{
	const char *path = fixture("mini/proc/kallsyms");
	struct ks_kallsyms_read_opts o = { .keep_raw = true };
	struct ks_kallsyms ks, again;
	char *raw, *edited;
	size_t len;
	int fd = open(path, O_RDONLY);

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(ks_read_all(fd, &raw, &len, NULL), 0);
	close(fd);

	/* No expectation: parsed, with an unparsed copy identical to the file. */
	assert_int_equal(ks_kallsyms_read(&ks, path, &o, NULL), 0);
	assert_false(ks.unchanged);
	assert_int_equal(ks.n_syms, 33);
	assert_int_equal(ks.raw_len, len);
	assert_memory_equal(ks.raw, raw, len);

	/* Expecting exactly that text: left unparsed. */
	o.expect = ks.raw;
	o.expect_len = ks.raw_len;
	assert_int_equal(ks_kallsyms_read(&again, path, &o, NULL), 0);
	assert_true(again.unchanged);
	assert_null(again.syms);
	assert_null(again.raw);
	/* ... until asked: then parsed as usual, with its copy. */
	assert_int_equal(ks_kallsyms_parse_unchanged(&again, true, NULL), 0);
	assert_false(again.unchanged);
	assert_int_equal(again.n_syms, 33);
	assert_memory_equal(again.raw, raw, len);
	ks_kallsyms_release(&again);

	/* One byte different, a shorter and a longer expectation: parsed. */
	edited = malloc(len + 1);
	memcpy(edited, raw, len + 1);
	edited[len / 2] ^= 1;
	o.expect = edited;
	o.expect_len = len;
	assert_int_equal(ks_kallsyms_read(&again, path, &o, NULL), 0);
	assert_false(again.unchanged);
	assert_int_equal(again.n_syms, 33);
	ks_kallsyms_release(&again);
	o.expect = raw;
	o.expect_len = len - 1;
	assert_int_equal(ks_kallsyms_read(&again, path, &o, NULL), 0);
	assert_false(again.unchanged);
	assert_int_equal(again.n_syms, 33);
	ks_kallsyms_release(&again);
	o.expect_len = len + 1;	/* raw has its NUL there */
	assert_int_equal(ks_kallsyms_read(&again, path, &o, NULL), 0);
	assert_false(again.unchanged);
	assert_int_equal(again.n_syms, 33);
	ks_kallsyms_release(&again);

	free(edited);
	free(raw);
	ks_kallsyms_release(&ks);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_basic_lines),
		cmocka_unit_test(test_no_final_newline_and_short_addresses),
		cmocka_unit_test(test_empty_input),
		cmocka_unit_test(test_all_zero),
		cmocka_unit_test(test_malformed_lines),
		cmocka_unit_test(test_name_length_limit),
		cmocka_unit_test(test_debian_capture),
		cmocka_unit_test(test_host_capture),
		cmocka_unit_test(test_unprivileged_capture_is_all_zero),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_read_all_grows),
		cmocka_unit_test(test_expect_and_keep_raw),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
