/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * 32-bit images and regions: found by fuzz/fuzz_image. ks_elfimage_write
 * checked every symbol's value and size against a 32-bit class (EOVERFLOW,
 * test_elfimage.c's test_bad_models) but not the regions, which come from
 * the module sections and core sizes the kernel reports: a region starting
 * above 4 GiB reached gelf_update_shdr(), which refused it, and the writer
 * said "out of memory"; one starting below and ending past 4 GiB was
 * written as a section (and PT_LOAD) that wraps the address space. No
 * 32-bit kernel reports such modules: robustness, not a real image. Both
 * are EOVERFLOW with nothing written; a region may end exactly at 4 GiB.
 */
#include <elf.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "engine/elfimage.h"

/* i686: a kernel without symbols or regions, and one module whose one
 * section is [addr, addr + size). */
static int write_module_region(uint64_t base, uint64_t core, uint64_t addr, uint64_t size,
			       off_t *file_size)
{
	struct ks_region region = { .name = ".text", .addr = addr, .size = size,
				    .flags = KS_REGION_EXEC };
	struct ks_owner owners[2] = {
		{ .name = "vmlinux", .kind = KS_OWNER_KERNEL },
		{ .name = "m", .kind = KS_OWNER_MODULE, .base = base, .size = core,
		  .regions = &region, .n_regions = 1 },
	};
	struct ks_sym none[1];		/* no symbols, but not a NULL array */
	struct ks_model m = {
		.target = { ELFCLASS32, ELFDATA2LSB, EM_386 },
		.owners = owners,
		.n_owners = 2,
		.syms = none,
	};
	struct ks_error err = { 0 };
	struct stat st;
	size_t size_out = 0;
	int fd = memfd_create("class32", MFD_CLOEXEC), ret;

	assert_true(fd >= 0);
	ret = ks_elfimage_write(&m, fd, &size_out, &err);
	assert_int_equal(fstat(fd, &st), 0);
	*file_size = st.st_size;
	close(fd);
	return ret;
}

static void test_region_above_4g(void **state)
{
	off_t size;

	(void)state;
	/* Today: -ENOMEM ("elfimage: headers: invalid data"). */
	assert_int_equal(write_module_region(0xffffff00, 0x900, 0x100000000ull, 0x800, &size),
			 -EOVERFLOW);
	assert_int_equal(size, 0);
}

static void test_region_across_4g(void **state)
{
	off_t size;

	(void)state;
	/* Today: 0, and a section [0xfffff000, 0x100001000). */
	assert_int_equal(write_module_region(0xfffff000, 0x2000, 0xfffff000, 0x2000, &size),
			 -EOVERFLOW);
	assert_int_equal(size, 0);
}

static void test_region_up_to_4g(void **state)
{
	off_t size;

	(void)state;
	assert_int_equal(write_module_region(0xfffff000, 0x1000, 0xfffff000, 0x1000, &size), 0);
	assert_true(size > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_region_above_4g),
		cmocka_unit_test(test_region_across_4g),
		cmocka_unit_test(test_region_up_to_4g),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
