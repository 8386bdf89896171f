/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ks_elfimage_write: models built by hand, images read back with libelf and
 * checked symbol by symbol, section by section; then eu-elflint, readelf,
 * llvm-readelf and eu-readelf on the same images.
 */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <setjmp.h>
#include <cmocka.h>

#include "elfimage.h"

#define MAX_OWNERS 8
#define MAX_REGIONS 8
#define MAX_SYMS 64

struct tmodel {
	struct ks_model m;
	struct ks_owner owners[MAX_OWNERS];
	struct ks_region regions[MAX_OWNERS][MAX_REGIONS];
	struct ks_sym syms[MAX_SYMS];
	char longname[512];
};

/* Owners, regions and symbols are appended to the last owner, so the model's
 * symbol slices come out grouped by owner as model.h requires. */
static void add_owner(struct tmodel *t, const char *name, enum ks_owner_kind kind)
{
	struct ks_owner *o = &t->owners[t->m.n_owners++];

	assert_true(t->m.n_owners <= MAX_OWNERS);
	o->name = name;
	o->kind = kind;
	o->regions = t->regions[t->m.n_owners - 1];
	o->first_sym = t->m.n_syms;
	t->m.owners = t->owners;
	t->m.syms = t->syms;
}

static void add_region(struct tmodel *t, const char *name, uint64_t addr, uint64_t size,
		       uint32_t flags)
{
	struct ks_owner *o = &t->owners[t->m.n_owners - 1];

	assert_true(o->n_regions < MAX_REGIONS);
	o->regions[o->n_regions++] = (struct ks_region){ name, addr, size, flags };
}

static void add_sym(struct tmodel *t, const char *name, uint64_t addr, uint64_t size,
		    uint32_t region, uint8_t bind, uint8_t type)
{
	struct ks_sym *s = &t->syms[t->m.n_syms++];

	assert_true(t->m.n_syms <= MAX_SYMS);
	*s = (struct ks_sym){
		.name = name, .addr = addr, .size = size, .owner = t->m.n_owners - 1,
		.region = region, .name_len = strlen(name), .bind = bind, .type = type,
	};
	t->owners[t->m.n_owners - 1].n_syms++;
	t->m.n_locals += bind == STB_LOCAL;
}

enum { TEXT, RODATA, DATA, INIT, BSS };
#define ABS KS_REGION_ABS
#define K(off) (0xffffffff81000000ull + (off))

/* Kernel, two modules, a module without symbols, a pseudo-module; locals,
 * globals and weaks interleaved; aliases; ABS symbols; a 511-byte name; two
 * zero-size regions; names that share tails. */
static void model_x86(struct tmodel *t)
{
	memset(t, 0, sizeof(*t));
	t->m.target = (struct ks_target){ ELFCLASS64, ELFDATA2LSB, EM_X86_64 };
	memset(t->longname, 'x', 511);
	memcpy(t->longname + 500, "_long_name!", 11);

	add_owner(t, "vmlinux", KS_OWNER_KERNEL);
	add_region(t, ".text", K(0), 0x10000, KS_REGION_EXEC);
	add_region(t, ".rodata", K(0x1000000), 0x1000, 0);
	add_region(t, ".data", K(0x1800000), 0x1000, KS_REGION_WRITE);
	add_region(t, ".init.text", K(0x2000000), 0, KS_REGION_EXEC);
	add_region(t, ".bss", K(0x2800000), 0x2000, KS_REGION_WRITE);
	add_sym(t, "_text", K(0), 0, TEXT, STB_GLOBAL, STT_FUNC);
	add_sym(t, "startup_64", K(0), 0x40, TEXT, STB_LOCAL, STT_FUNC);
	add_sym(t, "_stext", K(0), 0, TEXT, STB_GLOBAL, STT_FUNC);
	add_sym(t, "__per_cpu_start", 0, 0, ABS, STB_GLOBAL, STT_NOTYPE);
	add_sym(t, "__pfx_do_one_initcall", K(0x100), 16, TEXT, STB_LOCAL, STT_FUNC);
	add_sym(t, "do_one_initcall", K(0x110), 0x100, TEXT, STB_GLOBAL, STT_FUNC);
	add_sym(t, "arch_cpu_idle", K(0x300), 0x20, TEXT, STB_WEAK, STT_FUNC);
	add_sym(t, "fixed_percpu_data", 0x1000, 0x28, ABS, STB_LOCAL, STT_NOTYPE);
	add_sym(t, t->longname, K(0x1000010), 8, RODATA, STB_LOCAL, STT_OBJECT);
	add_sym(t, "jiffies", K(0x1800000), 8, DATA, STB_GLOBAL, STT_OBJECT);
	add_sym(t, "jiffies_64", K(0x1800000), 8, DATA, STB_GLOBAL, STT_OBJECT);
	add_sym(t, "init_zero", K(0x2000000), 0, INIT, STB_LOCAL, STT_FUNC);
	add_sym(t, "__bss_start", K(0x2800000), 0, BSS, STB_GLOBAL, STT_NOTYPE);
	add_sym(t, "some_bss", K(0x2800040), 0x40, BSS, STB_LOCAL, STT_OBJECT);
	add_sym(t, "default_idle_obj", K(0x1800010), 8, DATA, STB_WEAK, STT_OBJECT);
	add_sym(t, "_end", K(0x2802000), 0, BSS, STB_GLOBAL, STT_NOTYPE);

	add_owner(t, "fuse", KS_OWNER_MODULE);
	add_region(t, ".text", 0xffffffffc0440000, 0x3000, KS_REGION_EXEC);
	add_region(t, ".rodata", 0xffffffffc0444000, 0x800, 0);
	add_region(t, ".data", 0xffffffffc0446000, 0x200, KS_REGION_WRITE);
	add_region(t, ".bss", 0xffffffffc0447000, 0x100, KS_REGION_WRITE);
	add_sym(t, "fuse_dev_open", 0xffffffffc04400f0, 0x20, 0, STB_LOCAL, STT_FUNC);
	add_sym(t, "fuse_conn_get", 0xffffffffc0440200, 0x30, 0, STB_GLOBAL, STT_FUNC);
	add_sym(t, "__pfx_fuse_dev_poll", 0xffffffffc0440100, 16, 0, STB_LOCAL, STT_FUNC);
	add_sym(t, "fuse_dev_poll", 0xffffffffc0440110, 0xc0, 0, STB_LOCAL, STT_FUNC);
	add_sym(t, "fuse_ctl_add_conn", 0xffffffffc0440300, 0x40, 0, STB_WEAK, STT_FUNC);
	add_sym(t, "fuse_mutex", 0xffffffffc0446000, 0x20, 2, STB_LOCAL, STT_OBJECT);
	add_sym(t, "__this_module", 0xffffffffc0446040, 0x1c0, 2, STB_GLOBAL, STT_OBJECT);
	add_sym(t, "fuse_req_cachep", 0xffffffffc0447000, 8, 3, STB_LOCAL, STT_OBJECT);
	add_sym(t, "fuse_version_str", 0xffffffffc0444000, 0x10, 1, STB_LOCAL, STT_OBJECT);

	add_owner(t, "cuse", KS_OWNER_MODULE);
	add_region(t, ".text", 0xffffffffc0450000, 0x1000, KS_REGION_EXEC);
	add_region(t, ".data", 0xffffffffc0451000, 0x400, KS_REGION_WRITE);
	add_region(t, ".init.text", 0xffffffffc0452000, 0, KS_REGION_EXEC);
	add_sym(t, "__this_module", 0xffffffffc0451000, 0x1c0, 1, STB_GLOBAL, STT_OBJECT);
	add_sym(t, "cuse_init", 0xffffffffc0452000, 0, 2, STB_LOCAL, STT_FUNC);
	add_sym(t, "cuse_channel_open", 0xffffffffc0450010, 0x80, 0, STB_LOCAL, STT_FUNC);

	add_owner(t, "dummy", KS_OWNER_MODULE);	/* no symbols */
	add_region(t, ".text", 0xffffffffc0460000, 0x1000, KS_REGION_EXEC);

	/* Below the modules: its PT_LOAD sorts before theirs. */
	add_owner(t, "__builtin__ftrace", KS_OWNER_PSEUDO);
	add_region(t, ".text", 0xffffffffc0201000, 0x1000, KS_REGION_EXEC);
	add_sym(t, "ftrace_trampoline", 0xffffffffc0201000, 0x80, 0, STB_LOCAL, STT_FUNC);
}

/* 32-bit big-endian: byte order and class both differ from the host's. */
static void model_ppc(struct tmodel *t)
{
	memset(t, 0, sizeof(*t));
	t->m.target = (struct ks_target){ ELFCLASS32, ELFDATA2MSB, EM_PPC };
	memset(t->longname, 'p', 511);

	add_owner(t, "vmlinux", KS_OWNER_KERNEL);
	add_region(t, ".text", 0xc0000000, 0x800000, KS_REGION_EXEC);
	add_region(t, ".data", 0xc0900000, 0x10000, KS_REGION_WRITE);
	add_sym(t, "_stext", 0xc0000000, 0, 0, STB_GLOBAL, STT_FUNC);
	add_sym(t, "__pfx_start_kernel", 0xc0001000, 16, 0, STB_LOCAL, STT_FUNC);
	add_sym(t, "start_kernel", 0xc0001010, 0x1234, 0, STB_GLOBAL, STT_FUNC);
	add_sym(t, t->longname, 0xc0900010, 4, 1, STB_LOCAL, STT_OBJECT);
	add_sym(t, "__kernel_weak", 0xc0002000, 4, 0, STB_WEAK, STT_FUNC);
	add_sym(t, "__abs_thing", 0x12345678, 0, ABS, STB_GLOBAL, STT_NOTYPE);

	add_owner(t, "ext4", KS_OWNER_MODULE);
	add_region(t, ".text", 0xf1000000, 0x20000, KS_REGION_EXEC);
	add_region(t, ".bss", 0xf1030000, 0x100, KS_REGION_WRITE);
	add_sym(t, "ext4_fill_super", 0xf1000100, 0x400, 0, STB_LOCAL, STT_FUNC);
	add_sym(t, "ext4_mount", 0xf1000500, 0x40, 0, STB_GLOBAL, STT_FUNC);
	add_sym(t, "ext4_counter", 0xf1030000, 4, 1, STB_LOCAL, STT_OBJECT);
}

static int write_image(const struct tmodel *t, size_t *size)
{
	struct ks_error err = { 0 };
	struct stat st;
	int fd = memfd_create("test-ksyms", MFD_CLOEXEC);
	int ret;

	assert_true(fd >= 0);
	ret = ks_elfimage_write(&t->m, fd, size, &err);
	if (ret)
		fail_msg("ks_elfimage_write: %d %s", ret, err.msg);
	assert_int_equal(fstat(fd, &st), 0);
	assert_int_equal((size_t)st.st_size, *size);
	return fd;
}

static Elf_Scn *scn_named(Elf *e, const char *want)
{
	size_t shstrndx;
	Elf_Scn *scn = NULL;

	assert_int_equal(elf_getshdrstrndx(e, &shstrndx), 0);
	while ((scn = elf_nextscn(e, scn))) {
		GElf_Shdr sh;

		assert_non_null(gelf_getshdr(scn, &sh));
		if (!strcmp(elf_strptr(e, shstrndx, sh.sh_name), want))
			return scn;
	}
	return NULL;
}

static const char *scn_name(Elf *e, size_t ndx)
{
	size_t shstrndx;
	GElf_Shdr sh;

	assert_int_equal(elf_getshdrstrndx(e, &shstrndx), 0);
	assert_non_null(gelf_getshdr(elf_getscn(e, ndx), &sh));
	return elf_strptr(e, shstrndx, sh.sh_name);
}

/* The section name a region must get. */
static void region_name(const struct ks_owner *o, size_t r, char *buf, size_t len)
{
	if (o->kind == KS_OWNER_KERNEL)
		snprintf(buf, len, "%s", o->regions[r].name);
	else
		snprintf(buf, len, "%s:%s", o->name, o->regions[r].name);
}

static void check_sym(Elf *e, Elf_Data *d, size_t strndx, size_t i, const char *name,
		      uint64_t value, uint64_t size, int bind, int type, const char *sec)
{
	GElf_Sym s;

	assert_non_null(gelf_getsym(d, i, &s));
	assert_string_equal(elf_strptr(e, strndx, s.st_name), name);
	assert_int_equal(s.st_value, value);
	assert_int_equal(s.st_size, size);
	assert_int_equal(GELF_ST_BIND(s.st_info), bind);
	assert_int_equal(GELF_ST_TYPE(s.st_info), type);
	assert_int_equal(s.st_other, 0);
	if (!sec)
		assert_int_equal(s.st_shndx, SHN_ABS);
	else
		assert_string_equal(scn_name(e, s.st_shndx), sec);
}

/* Read the image back and check all of it against the model. */
static void check_image(const struct tmodel *t, int fd, size_t size)
{
	const struct ks_model *m = &t->m;
	size_t n_loc = 1 + m->n_owners + m->n_locals, i_loc = 1, i_glob = n_loc;
	size_t n_regions = 0, phnum, shnum, strndx;
	bool is64 = m->target.elf_class == ELFCLASS64;
	Elf_Scn *symscn, *strscn;
	GElf_Shdr sh, strsh;
	GElf_Ehdr eh;
	Elf_Data *d;
	Elf *e;
	char want[600];

	assert_int_equal(elf_version(EV_CURRENT) == EV_NONE, 0);
	e = elf_begin(fd, ELF_C_READ, NULL);
	assert_non_null(e);
	assert_int_equal(elf_kind(e), ELF_K_ELF);
	assert_non_null(gelf_getehdr(e, &eh));
	assert_int_equal(eh.e_ident[EI_CLASS], m->target.elf_class);
	assert_int_equal(eh.e_ident[EI_DATA], m->target.elf_data);
	assert_int_equal(eh.e_ident[EI_VERSION], EV_CURRENT);
	assert_int_equal(eh.e_machine, m->target.machine);
	assert_int_equal(eh.e_type, ET_EXEC);
	assert_int_equal(eh.e_entry, 0);
	assert_int_equal(eh.e_version, EV_CURRENT);
	assert_int_equal(eh.e_shoff + eh.e_shnum * eh.e_shentsize, size);

	/* Fixed sections. */
	symscn = scn_named(e, ".symtab");
	strscn = scn_named(e, ".strtab");
	assert_non_null(symscn);
	assert_non_null(strscn);
	assert_int_equal(elf_ndxscn(symscn), 1);
	assert_int_equal(elf_ndxscn(strscn), 2);
	assert_int_equal(elf_ndxscn(scn_named(e, ".shstrtab")), 3);
	assert_int_equal(eh.e_shstrndx, 3);
	assert_non_null(gelf_getshdr(symscn, &sh));
	assert_non_null(gelf_getshdr(strscn, &strsh));
	assert_int_equal(sh.sh_type, SHT_SYMTAB);
	assert_int_equal(sh.sh_link, 2);
	assert_int_equal(sh.sh_info, n_loc);
	assert_int_equal(sh.sh_entsize, gelf_fsize(e, ELF_T_SYM, 1, EV_CURRENT));
	assert_int_equal(sh.sh_addralign, is64 ? 8 : 4);
	assert_int_equal(sh.sh_offset % sh.sh_addralign, 0);
	assert_int_equal(sh.sh_size, (1 + m->n_owners + m->n_syms) * sh.sh_entsize);
	assert_int_equal(strsh.sh_type, SHT_STRTAB);
	strndx = elf_ndxscn(strscn);

	/* One NOBITS section per region, in model order, then its PT_LOAD. */
	assert_int_equal(elf_getshdrnum(e, &shnum), 0);
	assert_int_equal(elf_getphdrnum(e, &phnum), 0);
	for (size_t o = 0; o < m->n_owners; o++)
		n_regions += m->owners[o].n_regions;
	assert_int_equal(shnum, 4 + n_regions);
	assert_int_equal(phnum, n_regions);
	for (size_t o = 0, sec = 4; o < m->n_owners; o++) {
		const struct ks_owner *ow = &m->owners[o];

		for (size_t r = 0; r < ow->n_regions; r++, sec++) {
			const struct ks_region *rg = &ow->regions[r];
			GElf_Phdr ph;
			size_t p;

			region_name(ow, r, want, sizeof(want));
			assert_string_equal(scn_name(e, sec), want);
			assert_non_null(gelf_getshdr(elf_getscn(e, sec), &sh));
			assert_int_equal(sh.sh_type, SHT_NOBITS);
			assert_int_equal(sh.sh_flags, SHF_ALLOC |
					 (rg->flags & KS_REGION_EXEC ? SHF_EXECINSTR : 0) |
					 (rg->flags & KS_REGION_WRITE ? SHF_WRITE : 0));
			assert_int_equal(sh.sh_addr, rg->addr);
			assert_int_equal(sh.sh_size, rg->size);
			/* Its own segment: same address, size and offset. */
			for (p = 0; p < phnum; p++) {
				assert_non_null(gelf_getphdr(e, p, &ph));
				if (ph.p_offset == sh.sh_offset && ph.p_vaddr == rg->addr)
					break;
			}
			assert_true(p < phnum);
			assert_true(sh.sh_offset >= size);
			assert_int_equal(ph.p_type, PT_LOAD);
			assert_int_equal(ph.p_paddr, rg->addr);
			assert_int_equal(ph.p_filesz, 0);
			assert_int_equal(ph.p_memsz, rg->size);
			assert_int_equal(ph.p_flags, PF_R |
					 (rg->flags & KS_REGION_EXEC ? PF_X : 0) |
					 (rg->flags & KS_REGION_WRITE ? PF_W : 0));
		}
	}
	/* PT_LOADs by address; virtual offsets do not overlap. */
	for (size_t p = 1; p < phnum; p++) {
		GElf_Phdr a, b;

		assert_non_null(gelf_getphdr(e, p - 1, &a));
		assert_non_null(gelf_getphdr(e, p, &b));
		assert_true(a.p_vaddr <= b.p_vaddr);
		assert_true(a.p_offset + a.p_memsz <= b.p_offset);
	}

	/* Symbols: null, then per owner STT_FILE + locals, then globals. */
	d = elf_getdata(symscn, NULL);
	assert_non_null(d);
	check_sym(e, d, strndx, 0, "", 0, 0, STB_LOCAL, STT_NOTYPE, "");
	for (size_t o = 0; o < m->n_owners; o++) {
		const struct ks_owner *ow = &m->owners[o];

		check_sym(e, d, strndx, i_loc++, ow->name, 0, 0, STB_LOCAL, STT_FILE, NULL);
		for (size_t i = ow->first_sym; i < ow->first_sym + ow->n_syms; i++) {
			const struct ks_sym *s = &m->syms[i];

			if (s->region != ABS)
				region_name(ow, s->region, want, sizeof(want));
			check_sym(e, d, strndx, s->bind == STB_LOCAL ? i_loc++ : i_glob++,
				  s->name, s->addr, s->size, s->bind, s->type,
				  s->region == ABS ? NULL : want);
		}
	}
	assert_int_equal(i_loc, n_loc);
	assert_int_equal(i_glob, 1 + m->n_owners + m->n_syms);
	assert_int_equal(elf_end(e), 0);
}

static void test_x86_64(void **state)
{
	struct tmodel *t = malloc(sizeof(*t));
	size_t size;
	int fd;

	(void)state;
	model_x86(t);
	fd = write_image(t, &size);
	check_image(t, fd, size);
	close(fd);
	free(t);
}

static void test_ppc32_big_endian(void **state)
{
	struct tmodel *t = malloc(sizeof(*t));
	unsigned char *p;
	size_t size;
	int fd;

	(void)state;
	model_ppc(t);
	fd = write_image(t, &size);
	check_image(t, fd, size);
	/* Raw bytes too: libelf reading it back would hide a swapped header. */
	p = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
	assert_true(p != MAP_FAILED);
	assert_int_equal(p[EI_CLASS], ELFCLASS32);
	assert_int_equal(p[EI_DATA], ELFDATA2MSB);
	assert_int_equal((p[18] << 8) | p[19], EM_PPC);		/* e_machine */
	assert_int_equal((p[16] << 8) | p[17], ET_EXEC);	/* e_type */
	assert_int_equal((p[40] << 8) | p[41], sizeof(Elf32_Ehdr));	/* e_ehsize */
	munmap(p, size);
	close(fd);
	free(t);
}

/* Tails are shared; the same name twice is stored once. */
static void test_string_sharing(void **state)
{
	struct tmodel *t = malloc(sizeof(*t));
	size_t size, sum = 1, strndx;
	uint32_t off[4];
	const char *names[4] = { "__pfx_fuse_dev_poll", "fuse_dev_poll", "__this_module", "__this_module" };
	Elf_Data *d;
	Elf *e;
	int fd;

	(void)state;
	model_x86(t);
	fd = write_image(t, &size);
	e = elf_begin(fd, ELF_C_READ, NULL);
	assert_non_null(e);
	strndx = elf_ndxscn(scn_named(e, ".strtab"));
	d = elf_getdata(scn_named(e, ".symtab"), NULL);
	for (int k = 0, found = 0; k < 4; k++, found = 0) {
		for (size_t i = 0; i < d->d_size / gelf_fsize(e, ELF_T_SYM, 1, EV_CURRENT); i++) {
			GElf_Sym s;

			gelf_getsym(d, i, &s);
			if (!strcmp(elf_strptr(e, strndx, s.st_name), names[k]) && found++ == (k == 3))
				off[k] = s.st_name;
		}
		assert_int_equal(found, k >= 2 ? 2 : 1);
	}
	assert_int_equal(off[1], off[0] + strlen("__pfx_"));
	assert_int_equal(off[2], off[3]);
	for (size_t i = 0; i < t->m.n_syms; i++)
		sum += t->syms[i].name_len + 1;
	for (size_t o = 0; o < t->m.n_owners; o++)
		sum += strlen(t->owners[o].name) + 1;
	{
		GElf_Shdr sh;

		gelf_getshdr(elf_getscn(e, strndx), &sh);
		assert_true(sh.sh_size <= sum - (strlen("fuse_dev_poll") + 1) - (strlen("__this_module") + 1));
	}
	elf_end(e);
	close(fd);
	free(t);
}

/* A kernel with nothing: no regions, no symbols, no program headers. */
static void test_empty_kernel(void **state)
{
	struct tmodel *t = malloc(sizeof(*t));
	size_t size;
	int fd;

	(void)state;
	memset(t, 0, sizeof(*t));
	t->m.target = (struct ks_target){ ELFCLASS64, ELFDATA2LSB, EM_AARCH64 };
	add_owner(t, "vmlinux", KS_OWNER_KERNEL);
	fd = write_image(t, &size);
	check_image(t, fd, size);
	close(fd);
	free(t);
}

/* Same model, same bytes; and a smaller image leaves no tail of a bigger one. */
static void test_rewrite_same_fd(void **state)
{
	struct tmodel *big = malloc(sizeof(*big)), *small = malloc(sizeof(*small));
	struct ks_error err = { 0 };
	size_t size, size2, size_small;
	char *a, *b;
	int fd, fd2;

	(void)state;
	model_x86(big);
	fd = write_image(big, &size);
	fd2 = write_image(big, &size2);
	assert_int_equal(size, size2);
	a = malloc(size);
	b = malloc(size);
	assert_int_equal(pread(fd, a, size, 0), size);
	assert_int_equal(pread(fd2, b, size, 0), size);
	assert_memory_equal(a, b, size);

	memset(small, 0, sizeof(*small));
	small->m.target = big->m.target;
	add_owner(small, "vmlinux", KS_OWNER_KERNEL);
	add_region(small, ".text", K(0), 0x100, KS_REGION_EXEC);
	add_sym(small, "only", K(0), 4, 0, STB_GLOBAL, STT_FUNC);
	assert_int_equal(ks_elfimage_write(&small->m, fd, &size_small, &err), 0);
	assert_true(size_small < size);
	{
		struct stat st;

		assert_int_equal(fstat(fd, &st), 0);
		assert_int_equal(st.st_size, size_small);
	}
	check_image(small, fd, size_small);
	close(fd);
	close(fd2);
	free(a);
	free(b);
	free(big);
	free(small);
}

static void expect_error(struct tmodel *t, int fd, int code)
{
	struct ks_error err = { 0 };
	size_t size = 12345;

	assert_int_equal(ks_elfimage_write(&t->m, fd, &size, &err), -code);
	assert_int_equal(err.code, code);
	assert_true(strlen(err.msg) > 0);
	assert_int_equal(size, 12345);
	if (fd >= 0) {
		struct stat st;

		/* Nothing half written. */
		assert_int_equal(fstat(fd, &st), 0);
		assert_int_equal(st.st_size, 0);
	}
}

static void test_bad_models(void **state)
{
	struct tmodel *t = malloc(sizeof(*t));
	int fd = memfd_create("bad", MFD_CLOEXEC);

	(void)state;
	model_x86(t);
	t->m.target.elf_class = 7;
	expect_error(t, fd, EINVAL);

	model_x86(t);
	t->syms[3].region = 9;			/* kernel has 5 regions */
	expect_error(t, fd, EINVAL);

	model_x86(t);
	t->m.n_locals++;
	expect_error(t, fd, EINVAL);

	model_x86(t);
	t->m.n_locals--;
	expect_error(t, fd, EINVAL);

	model_x86(t);
	t->owners[1].first_sym++;		/* slices must tile syms[] */
	expect_error(t, fd, EINVAL);

	model_x86(t);
	t->m.n_syms--;
	expect_error(t, fd, EINVAL);

	model_ppc(t);
	t->syms[1].addr = 0x100000000ull;	/* does not fit ELFCLASS32 */
	expect_error(t, fd, EOVERFLOW);

	model_x86(t);
	expect_error(t, -1, EBADF);
	close(fd);
	free(t);
}

/* Run a command, return its exit status; its stdout in out (may be NULL). */
static int run(char *out, size_t len, const char *fmt, ...)
{
	char cmd[1024];
	size_t got = 0;
	va_list ap;
	FILE *p;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	p = popen(cmd, "r");
	assert_non_null(p);
	if (out) {
		while (got + 1 < len && !feof(p))
			got += fread(out + got, 1, len - 1 - got, p);
		out[got] = '\0';
	}
	while (!feof(p) && fgetc(p) != EOF)
		;
	st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static bool have(const char *tool)
{
	return run(NULL, 0, "command -v '%s' >/dev/null 2>&1", tool) == 0;
}

static const char *tool(const char *env, const char *def)
{
	const char *v = getenv(env);

	return v && *v ? v : def;
}

/* Write the model to a file for the tools. */
static void write_file(const struct tmodel *t, char *path)
{
	struct ks_error err = { 0 };
	size_t size;
	int fd;

	strcpy(path, "/tmp/test_elfimage-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(ks_elfimage_write(&t->m, fd, &size, &err), 0);
	close(fd);
}

/*
 * eu-elflint in debuginfo mode (-d) must find nothing. Without -d it can
 * never be silent about an image of NOBITS sections only: it wants .text to
 * be PROGBITS, executable sections to be PROGBITS, and an executable or
 * writable PT_LOAD to contain such sections. Those are the only complaints
 * allowed, so every other check it makes (sections inside segments by file
 * offset, symbols inside their sections, sh_info...) must pass.
 */
static void elflint_one(const struct tmodel *t)
{
	static const char *const allowed[] = {
		"has wrong type: expected PROGBITS, is NOBITS",
		"has unexpected type 8 for an executable section",
		"is executable but contains no executable sections",
		"is writable but contains no writable sections",
	};
	const char *lint = tool("ELFLINT", "eu-elflint");
	char path[64], out[16384];

	write_file(t, path);
	assert_int_equal(run(out, sizeof(out), "%s -d --gnu-ld '%s' 2>&1", lint, path), 0);
	assert_int_equal(run(out, sizeof(out), "%s -d '%s' 2>&1", lint, path), 0);
	run(out, sizeof(out), "%s --gnu-ld '%s' 2>&1", lint, path);
	for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n")) {
		size_t k = 0;

		while (k < 4 && !strstr(line, allowed[k]))
			k++;
		if (k == 4)
			fail_msg("eu-elflint --gnu-ld: %s", line);
	}
	unlink(path);
}

static void test_elflint(void **state)
{
	struct tmodel *t = malloc(sizeof(*t));

	(void)state;
	if (!have(tool("ELFLINT", "eu-elflint"))) {
		free(t);
		skip();
	}
	model_x86(t);
	elflint_one(t);
	model_ppc(t);
	elflint_one(t);
	free(t);
}

/* The symbol count line, and one symbol line with its section index. */
static void readers_one(const struct tmodel *t, size_t fuse_text)
{
	const char *tools[][3] = {
		{ "READELF", "readelf", "-sW" },
		{ "LLVM_READELF", "llvm-readelf", "-s" },
		{ "EU_READELF", "eu-readelf", "-s" },
	};
	size_t n = 1 + t->m.n_owners + t->m.n_syms;
	char path[64], *out = malloc(1 << 20), want[128];

	write_file(t, path);
	for (size_t k = 0; k < 3; k++) {
		const char *cmd = tool(tools[k][0], tools[k][1]);

		if (!have(cmd))
			continue;
		assert_int_equal(run(out, 1 << 20, "%s %s '%s'", cmd, tools[k][2], path), 0);
		snprintf(want, sizeof(want), "'.symtab' contains %zu entries", n);
		if (!strstr(out, want))
			fail_msg("%s: no \"%s\" in\n%s", cmd, want, out);
		if (fuse_text) {
			/* "... 192 FUNC LOCAL DEFAULT 10 fuse_dev_poll" */
			snprintf(want, sizeof(want), "192 FUNC    LOCAL  DEFAULT %*zu fuse_dev_poll\n",
				 k == 2 ? 8 : k == 1 ? 4 : 3, fuse_text);
			if (!strstr(out, want))
				fail_msg("%s: no \"%s\" in\n%s", cmd, want, out);
		}
	}
	free(out);
	unlink(path);
}

static void test_readers(void **state)
{
	struct tmodel *t = malloc(sizeof(*t));

	(void)state;
	model_x86(t);
	readers_one(t, 4 + 5);	/* null, 3 fixed, 5 kernel regions, then fuse:.text */
	model_ppc(t);
	readers_one(t, 0);
	free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_x86_64),
		cmocka_unit_test(test_ppc32_big_endian),
		cmocka_unit_test(test_string_sharing),
		cmocka_unit_test(test_empty_kernel),
		cmocka_unit_test(test_rewrite_same_fd),
		cmocka_unit_test(test_bad_models),
		cmocka_unit_test(test_elflint),
		cmocka_unit_test(test_readers),
	};

	elf_version(EV_CURRENT);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
