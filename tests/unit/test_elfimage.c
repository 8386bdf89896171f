/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ks_elfimage_write: models built by hand, images read back with libelf and
 * checked symbol by symbol, section by section; allocation failures one by
 * one; then eu-elflint, readelf, llvm-readelf and eu-readelf on the images.
 */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <malloc.h>
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

#include "engine/elfimage.h"
#include "engine/notes.h"

#define EQ(a, b) assert_int_equal((a), (b))

struct tmodel {
	struct ks_model m;
	struct ks_owner owners[8];
	struct ks_region regions[8][8];
	struct ks_sym syms[64];
	char longname[512];
};

static struct tmodel T, T2;

/* Regions and symbols go to the last owner, so the symbol slices come out
 * grouped by owner as model.h requires. */
static void add_owner(struct tmodel *t, const char *name, enum ks_owner_kind kind)
{
	struct ks_owner *o = &t->owners[t->m.n_owners];

	*o = (struct ks_owner){ .name = name, .kind = kind, .first_sym = t->m.n_syms,
				.regions = t->regions[t->m.n_owners++] };
	t->m.owners = t->owners;
	t->m.syms = t->syms;
}

static void add_region(struct tmodel *t, const char *name, uint64_t addr, uint64_t size,
		       uint32_t flags)
{
	struct ks_owner *o = &t->owners[t->m.n_owners - 1];

	o->regions[o->n_regions++] = (struct ks_region){ name, addr, size, flags };
}

static void add_sym(struct tmodel *t, const char *name, uint64_t addr, uint64_t size,
		    uint32_t region, uint8_t bind, uint8_t type)
{
	/* Letters the writer only copies: a different one from symbol to
	 * symbol shows each in its own entry's place. */
	static const char letters[] = "TtDdBbRrWwVvAaGgSs";

	t->syms[t->m.n_syms] = (struct ks_sym){
		.name = name, .addr = addr, .size = size, .owner = t->m.n_owners - 1,
		.region = region, .name_len = strlen(name), .bind = bind, .type = type,
		.letter = letters[t->m.n_syms % (sizeof(letters) - 1)],
	};
	t->m.n_syms++;
	t->owners[t->m.n_owners - 1].n_syms++;
	t->m.n_locals += bind == STB_LOCAL;
}

enum { TEXT, RODATA, DATA, INIT, BSS };
#define ABS KS_REGION_ABS
#define K(off) (0xffffffff81000000ull + (off))
#define M(off) (0xffffffffc0440000ull + (off))
#define L STB_LOCAL
#define G STB_GLOBAL
#define W STB_WEAK
#define X KS_REGION_EXEC

/* Kernel, two modules, a module without symbols, a pseudo-module; locals,
 * globals and weaks interleaved; aliases; ABS symbols; a 511-byte name; two
 * zero-size regions; names that share tails; one name in two modules. */
static struct tmodel *model_x86(struct tmodel *t)
{
	memset(t, 0, sizeof(*t));
	t->m.target = (struct ks_target){ ELFCLASS64, ELFDATA2LSB, EM_X86_64 };
	memset(t->longname, 'x', 511);
	memcpy(t->longname + 500, "_long_name!", 11);

	add_owner(t, "vmlinux", KS_OWNER_KERNEL);
	add_region(t, ".text", K(0), 0x10000, X);
	add_region(t, ".rodata", K(0x1000000), 0x1000, 0);
	add_region(t, ".data", K(0x1800000), 0x1000, KS_REGION_WRITE);
	add_region(t, ".init.text", K(0x2000000), 0, X);
	add_region(t, ".bss", K(0x2800000), 0x2000, KS_REGION_WRITE);
	add_sym(t, "_text", K(0), 0, TEXT, G, STT_FUNC);
	add_sym(t, "startup_64", K(0), 0x41, TEXT, L, STT_FUNC);
	add_sym(t, "_stext", K(0), 0, TEXT, G, STT_FUNC);
	add_sym(t, "__per_cpu_start", 0, 0, ABS, G, STT_NOTYPE);
	add_sym(t, "__pfx_do_one_initcall", K(0x100), 16, TEXT, L, STT_FUNC);
	add_sym(t, "do_one_initcall", K(0x110), 0x100, TEXT, G, STT_FUNC);
	add_sym(t, "arch_cpu_idle", K(0x300), 0x20, TEXT, W, STT_FUNC);
	add_sym(t, "fixed_percpu_data", 0x1000, 0x28, ABS, L, STT_NOTYPE);
	add_sym(t, t->longname, K(0x1000010), 8, RODATA, L, STT_OBJECT);
	add_sym(t, "jiffies", K(0x1800000), 8, DATA, G, STT_OBJECT);
	add_sym(t, "jiffies_64", K(0x1800000), 8, DATA, G, STT_OBJECT);
	add_sym(t, "init_zero", K(0x2000000), 0, INIT, L, STT_FUNC);
	add_sym(t, "__bss_start", K(0x2800000), 0, BSS, G, STT_NOTYPE);
	add_sym(t, "some_bss", K(0x2800040), 0x40, BSS, L, STT_OBJECT);
	add_sym(t, "default_idle_obj", K(0x1800010), 8, DATA, W, STT_OBJECT);
	add_sym(t, "_end", K(0x2802000), 0, BSS, G, STT_NOTYPE);

	add_owner(t, "fuse", KS_OWNER_MODULE);
	add_region(t, ".text", M(0), 0x3000, X);
	add_region(t, ".rodata", M(0x4000), 0x800, 0);
	add_region(t, ".data", M(0x6000), 0x200, KS_REGION_WRITE);
	add_region(t, ".bss", M(0x7000), 0x100, KS_REGION_WRITE);
	add_sym(t, "fuse_dev_open", M(0xf0), 0x20, 0, L, STT_FUNC);
	add_sym(t, "fuse_conn_get", M(0x200), 0x30, 0, G, STT_FUNC);
	add_sym(t, "__pfx_fuse_dev_poll", M(0x100), 16, 0, L, STT_FUNC);
	add_sym(t, "fuse_dev_poll", M(0x110), 0xc0, 0, L, STT_FUNC);
	add_sym(t, "fuse_ctl_add_conn", M(0x300), 0x40, 0, W, STT_FUNC);
	add_sym(t, "fuse_mutex", M(0x6000), 0x21, 2, L, STT_OBJECT);
	add_sym(t, "__this_module", M(0x6040), 0x1c0, 2, G, STT_OBJECT);
	add_sym(t, "fuse_req_cachep", M(0x7000), 8, 3, L, STT_OBJECT);
	add_sym(t, "fuse_version_str", M(0x4000), 0x10, 1, L, STT_OBJECT);

	add_owner(t, "cuse", KS_OWNER_MODULE);
	add_region(t, ".text", M(0x10000), 0x1000, X);
	add_region(t, ".data", M(0x11000), 0x400, KS_REGION_WRITE);
	add_region(t, ".init.text", M(0x12000), 0, X);
	add_sym(t, "__this_module", M(0x11000), 0x1c0, 1, G, STT_OBJECT);
	add_sym(t, "cuse_init", M(0x12000), 0, 2, L, STT_FUNC);
	add_sym(t, "cuse_channel_open", M(0x10011), 0x7f, 0, L, STT_FUNC);

	add_owner(t, "dummy", KS_OWNER_MODULE);	/* no symbols */
	add_region(t, ".text", M(0x20000), 0x1000, X);

	/* Below the modules: its PT_LOAD sorts before theirs. */
	add_owner(t, "__builtin__ftrace", KS_OWNER_PSEUDO);
	add_region(t, ".text", 0xffffffffc0201000, 0x1000, X);
	add_sym(t, "ftrace_trampoline", 0xffffffffc0201000, 0x80, 0, L, STT_FUNC);
	return t;
}

/* 32-bit big-endian: byte order and class both differ from the host's. */
static struct tmodel *model_ppc(struct tmodel *t)
{
	memset(t, 0, sizeof(*t));
	t->m.target = (struct ks_target){ ELFCLASS32, ELFDATA2MSB, EM_PPC };
	memset(t->longname, 'p', 511);
	add_owner(t, "vmlinux", KS_OWNER_KERNEL);
	add_region(t, ".text", 0xc0000000, 0x800000, X);
	add_region(t, ".data", 0xc0900000, 0x10000, KS_REGION_WRITE);
	add_sym(t, "_stext", 0xc0000000, 0, 0, G, STT_FUNC);
	add_sym(t, "__pfx_start_kernel", 0xc0001000, 16, 0, L, STT_FUNC);
	add_sym(t, "start_kernel", 0xc0001010, 0x1234, 0, G, STT_FUNC);
	add_sym(t, t->longname, 0xc0900010, 4, 1, L, STT_OBJECT);
	add_sym(t, "__kernel_weak", 0xc0002000, 4, 0, W, STT_FUNC);
	add_sym(t, "__abs_thing", 0x12345679, 0, ABS, G, STT_NOTYPE);
	add_owner(t, "ext4", KS_OWNER_MODULE);
	add_region(t, ".text", 0xf1000000, 0x20000, X);
	add_region(t, ".bss", 0xf1030000, 0x100, KS_REGION_WRITE);
	add_sym(t, "ext4_fill_super", 0xf1000100, 0x400, 0, L, STT_FUNC);
	add_sym(t, "ext4_mount", 0xf1000501, 0x3f, 0, G, STT_FUNC);
	add_sym(t, "ext4_counter", 0xf1030000, 4, 1, L, STT_OBJECT);
	return t;
}

static int write_image(const struct tmodel *t, size_t *size)
{
	struct ks_error err = { 0 };
	struct stat st;
	int fd = memfd_create("test-ksyms", MFD_CLOEXEC), ret;

	assert_true(fd >= 0);
	ret = ks_elfimage_write(&t->m, fd, size, &err);
	if (ret)
		fail_msg("ks_elfimage_write: %d %s", ret, err.msg);
	EQ(fstat(fd, &st), 0);
	EQ(st.st_size, *size);
	return fd;
}

static const char *scn_name(Elf *e, size_t ndx, GElf_Shdr *sh)
{
	size_t shstrndx;

	EQ(elf_getshdrstrndx(e, &shstrndx), 0);
	assert_non_null(gelf_getshdr(elf_getscn(e, ndx), sh));
	return elf_strptr(e, shstrndx, sh->sh_name);
}

/* The section name a region must get. */
static const char *region_name(const struct ks_owner *o, size_t r)
{
	static char buf[600];

	if (o->kind == KS_OWNER_KERNEL)
		return o->regions[r].name;
	snprintf(buf, sizeof(buf), "%s:%s", o->name, o->regions[r].name);
	return buf;
}

/* name: len bytes, not necessarily NUL-terminated (as ks_sym.name). */
static void check_sym(Elf *e, Elf_Data *d, size_t i, const char *name, size_t len,
		      uint64_t value, uint64_t size, int bind, int type, const char *sec)
{
	const char *got;
	GElf_Shdr sh;
	GElf_Sym s;

	assert_non_null(gelf_getsym(d, i, &s));
	got = elf_strptr(e, 2, s.st_name);
	assert_non_null(got);
	if (strlen(got) != len || memcmp(got, name, len))
		fail_msg("symbol %zu is \"%s\", not \"%.*s\"", i, got, (int)len, name);
	EQ(s.st_value, value);
	EQ(s.st_size, size);
	EQ(GELF_ST_BIND(s.st_info), bind);
	EQ(GELF_ST_TYPE(s.st_info), type);
	EQ(s.st_other, 0);
	if (sec)
		assert_string_equal(scn_name(e, s.st_shndx, &sh), sec);
	else
		EQ(s.st_shndx, SHN_ABS);
}

static void check_image_notes(const struct tmodel *t, int fd, size_t size, size_t n_kernel,
			      size_t n_other);

/* Read the image back and check all of it against the model. */
static void check_image(const struct tmodel *t, int fd, size_t size)
{
	check_image_notes(t, fd, size, 0, 0);
}

/* The same, with n_kernel notes sections before the regions' and n_other
 * after them (each checked by the caller, as the PT_NOTEs are); a region's
 * notes are checked here. */
static void check_image_notes(const struct tmodel *t, int fd, size_t size, size_t n_kernel,
			      size_t n_other)
{
	const struct ks_model *m = &t->m;
	size_t n_loc = 1 + m->n_owners + m->n_locals, i_loc = 1, i_glob = n_loc;
	size_t n_regions = 0, phnum, shnum, sec = 5 + n_kernel;
	const char *types;
	uint64_t end;
	GElf_Shdr sh;
	GElf_Ehdr eh;
	Elf_Data *d;
	Elf *e = elf_begin(fd, ELF_C_READ, NULL);

	assert_non_null(e);
	assert_non_null(gelf_getehdr(e, &eh));
	EQ(eh.e_ident[EI_CLASS], m->target.elf_class);
	EQ(eh.e_ident[EI_DATA], m->target.elf_data);
	EQ(eh.e_ident[EI_VERSION], EV_CURRENT);
	EQ(eh.e_machine, m->target.machine);
	EQ(eh.e_type, ET_EXEC);
	EQ(eh.e_entry, 0);
	EQ(eh.e_version, EV_CURRENT);
	EQ(eh.e_shstrndx, 3);
	assert_string_equal(scn_name(e, 3, &sh), ".shstrtab");
	EQ(sh.sh_type, SHT_STRTAB);
	assert_string_equal(scn_name(e, 2, &sh), ".strtab");
	EQ(sh.sh_type, SHT_STRTAB);
	end = sh.sh_offset + sh.sh_size;
	assert_string_equal(scn_name(e, 1, &sh), ".symtab");
	EQ(sh.sh_type, SHT_SYMTAB);
	EQ(sh.sh_link, 2);
	EQ(sh.sh_info, n_loc);
	EQ(sh.sh_entsize, gelf_fsize(e, ELF_T_SYM, 1, EV_CURRENT));
	EQ(sh.sh_addralign, m->target.elf_class == ELFCLASS64 ? 8 : 4);
	EQ(sh.sh_offset % sh.sh_addralign, 0);
	EQ(sh.sh_size, (1 + m->n_owners + m->n_syms) * sh.sh_entsize);
	/* The file ends where its last table ends: nothing missing, no tail. */
	if (eh.e_shoff + eh.e_shnum * eh.e_shentsize > end)
		end = eh.e_shoff + eh.e_shnum * eh.e_shentsize;
	EQ(end, size);

	/* One NOBITS section per region, in model order, each in a PT_LOAD of
	 * its own: same address, size and (virtual, past EOF) offset; a
	 * region with notes is an SHT_NOTE, its bytes in the file. */
	EQ(elf_getshdrnum(e, &shnum), 0);
	EQ(elf_getphdrnum(e, &phnum), 0);
	for (size_t o = 0; o < m->n_owners; o++)
		n_regions += m->owners[o].n_regions;
	EQ(shnum, 5 + n_kernel + n_regions + n_other);
	EQ(phnum, n_regions + n_kernel);
	phnum = n_regions;	/* the PT_LOADs come first */
	for (size_t o = 0; o < m->n_owners; o++) {
		for (size_t r = 0; r < m->owners[o].n_regions; r++, sec++) {
			const struct ks_region *rg = &m->owners[o].regions[r];
			GElf_Phdr ph;
			size_t p;

			assert_string_equal(scn_name(e, sec, &sh), region_name(&m->owners[o], r));
			EQ(sh.sh_type, rg->notes ? SHT_NOTE : SHT_NOBITS);
			EQ(sh.sh_flags, SHF_ALLOC | (rg->flags & X ? SHF_EXECINSTR : 0) |
			   (rg->flags & KS_REGION_WRITE ? SHF_WRITE : 0));
			EQ(sh.sh_addr, rg->addr);
			EQ(sh.sh_size, rg->size);
			if (rg->notes) {
				unsigned char buf[64];

				assert_true(sh.sh_offset + sh.sh_size <= size && sh.sh_size <= 64);
				EQ(sh.sh_addralign, 4);
				EQ(pread(fd, buf, sh.sh_size, sh.sh_offset), (ssize_t)sh.sh_size);
				assert_memory_equal(buf, rg->notes->data, sh.sh_size);
			} else {
				assert_true(sh.sh_offset >= size);
			}
			for (p = 0; p < phnum; p++)
				if (gelf_getphdr(e, p, &ph) && ph.p_offset == sh.sh_offset &&
				    ph.p_vaddr == rg->addr)
					break;
			assert_true(p < phnum);
			EQ(ph.p_type, PT_LOAD);
			EQ(ph.p_paddr, rg->addr);
			EQ(ph.p_filesz, rg->notes ? rg->size : 0);
			EQ(ph.p_memsz, rg->size);
			EQ(ph.p_flags, PF_R | (rg->flags & X ? PF_X : 0) |
			   (rg->flags & KS_REGION_WRITE ? PF_W : 0));
		}
	}
	/* PT_LOADs by address; virtual offsets do not overlap. */
	for (size_t p = 1, last = SIZE_MAX; p <= phnum; p++) {
		GElf_Phdr a, b;

		assert_non_null(gelf_getphdr(e, p - 1, &b));
		if (p < phnum) {
			assert_non_null(gelf_getphdr(e, p, &a));
			assert_true(b.p_vaddr <= a.p_vaddr);
		}
		if (b.p_filesz)
			continue;
		if (last != SIZE_MAX) {
			assert_non_null(gelf_getphdr(e, last, &a));
			assert_true(a.p_offset + a.p_memsz <= b.p_offset);
		}
		last = p - 1;
	}

	/* The letters: a byte per .symtab entry, in the file. */
	assert_string_equal(scn_name(e, 4, &sh), ".kallsyms.types");
	EQ(sh.sh_type, SHT_PROGBITS);
	EQ(sh.sh_flags, 0);
	EQ(sh.sh_size, 1 + m->n_owners + m->n_syms);
	EQ(sh.sh_entsize, 1);
	EQ(sh.sh_link, 1);
	assert_true(sh.sh_offset + sh.sh_size <= size);
	d = elf_getdata(elf_getscn(e, 4), NULL);
	assert_non_null(d);
	types = d->d_buf;

	/* Symbols: null, then per owner STT_FILE + locals, then globals;
	 * the letter of each at its index, 0 for the others. */
	d = elf_getdata(elf_getscn(e, 1), NULL);
	assert_non_null(d);
	check_sym(e, d, 0, "", 0, 0, 0, L, STT_NOTYPE, "");
	EQ(types[0], 0);
	for (size_t o = 0; o < m->n_owners; o++) {
		const struct ks_owner *ow = &m->owners[o];

		EQ(types[i_loc], 0);
		check_sym(e, d, i_loc++, ow->name, strlen(ow->name), 0, 0, L, STT_FILE, NULL);
		for (const struct ks_sym *s = m->syms + ow->first_sym;
		     s < m->syms + ow->first_sym + ow->n_syms; s++) {
			size_t i = s->bind == L ? i_loc++ : i_glob++;

			check_sym(e, d, i, s->name, s->name_len, s->addr, s->size, s->bind, s->type,
				  s->region == ABS ? NULL : region_name(ow, s->region));
			EQ(types[i], s->letter);
		}
	}
	EQ(i_loc, n_loc);
	EQ(i_glob, 1 + m->n_owners + m->n_syms);
	EQ(elf_end(e), 0);
}

static void write_and_check(const struct tmodel *t)
{
	size_t size;
	int fd = write_image(t, &size);

	check_image(t, fd, size);
	close(fd);
}

static void test_x86_64(void **state)
{
	(void)state;
	write_and_check(model_x86(&T));
}

static void test_ppc32_big_endian(void **state)
{
	unsigned char p[52];
	size_t size;
	int fd;

	(void)state;
	write_and_check(model_ppc(&T));
	/* Raw bytes too: a header written in the wrong order could read back
	 * right through libelf. */
	fd = write_image(&T, &size);
	EQ(pread(fd, p, sizeof(p), 0), sizeof(p));
	EQ((p[16] << 8) | p[17], ET_EXEC);
	EQ((p[18] << 8) | p[19], EM_PPC);
	EQ((p[40] << 8) | p[41], sizeof(Elf32_Ehdr));	/* e_ehsize */
	close(fd);
}

/* A kernel with nothing: no regions, no symbols, no program headers. */
static void test_empty_kernel(void **state)
{
	(void)state;
	memset(&T, 0, sizeof(T));
	T.m.target = (struct ks_target){ ELFCLASS64, ELFDATA2LSB, EM_AARCH64 };
	add_owner(&T, "vmlinux", KS_OWNER_KERNEL);
	write_and_check(&T);
}

/* st_name of the nth symbol called name. */
static uint32_t name_off(Elf *e, Elf_Data *d, const char *name, int nth)
{
	GElf_Sym s;

	for (int i = 0; gelf_getsym(d, i, &s); i++)
		if (!strcmp(elf_strptr(e, 2, s.st_name), name) && !nth--)
			return s.st_name;
	fail_msg("no %s", name);
	return 0;
}

/* Tails are shared; the same name twice is stored once. */
static void test_string_sharing(void **state)
{
	size_t size, sum = 1;
	GElf_Shdr sh;
	Elf_Data *d;
	Elf *e;
	int fd;

	(void)state;
	fd = write_image(model_x86(&T), &size);
	e = elf_begin(fd, ELF_C_READ, NULL);
	d = elf_getdata(elf_getscn(e, 1), NULL);
	EQ(name_off(e, d, "fuse_dev_poll", 0), name_off(e, d, "__pfx_fuse_dev_poll", 0) + 6);
	EQ(name_off(e, d, "do_one_initcall", 0), name_off(e, d, "__pfx_do_one_initcall", 0) + 6);
	EQ(name_off(e, d, "__this_module", 0), name_off(e, d, "__this_module", 1));
	for (size_t i = 0; i < T.m.n_syms; i++)
		sum += T.syms[i].name_len + 1;
	for (size_t o = 0; o < T.m.n_owners; o++)
		sum += strlen(T.owners[o].name) + 1;
	assert_non_null(gelf_getshdr(elf_getscn(e, 2), &sh));
	assert_true(sh.sh_size <= sum - sizeof("fuse_dev_poll") - sizeof("do_one_initcall") -
		    sizeof("__this_module"));
	elf_end(e);
	close(fd);
}

/* Same model, same bytes; and a smaller image leaves no tail of a bigger one. */
static void test_rewrite_same_fd(void **state)
{
	struct ks_error err = { 0 };
	size_t size, size2, size_small;
	int fd = write_image(model_x86(&T), &size), fd2 = write_image(&T, &size2);
	char *a = malloc(size), *b = malloc(size);

	(void)state;
	EQ(size, size2);
	EQ(pread(fd, a, size, 0), size);
	EQ(pread(fd2, b, size, 0), size);
	assert_memory_equal(a, b, size);

	memset(&T2, 0, sizeof(T2));
	T2.m.target = T.m.target;
	add_owner(&T2, "vmlinux", KS_OWNER_KERNEL);
	add_region(&T2, ".text", K(0), 0x100, X);
	add_sym(&T2, "only", K(0), 4, 0, G, STT_FUNC);
	EQ(ks_elfimage_write(&T2.m, fd, &size_small, &err), 0);
	assert_true(size_small < size);
	check_image(&T2, fd, size_small);
	close(fd);
	close(fd2);
	free(a);
	free(b);
}

/*
 * Symbol names are name_len bytes, not C strings: here each is followed by
 * junk, the next name's bytes without a NUL between them. The image must be
 * the same, and an error message must show the name alone.
 */
static void test_unterminated_names(void **state)
{
	static char pool[64 * 520];
	struct ks_error err = { 0 };
	size_t size, size2, at = 0;
	int fd = write_image(model_x86(&T), &size), fd2;
	char *a = malloc(size), *b = malloc(size);

	(void)state;
	for (size_t i = 0; i < T.m.n_syms; i++) {
		memcpy(pool + at, T.syms[i].name, T.syms[i].name_len);
		memcpy(pool + at + T.syms[i].name_len, "#junk", 5);
		T.syms[i].name = pool + at;
		at += T.syms[i].name_len + 5;
	}
	fd2 = write_image(&T, &size2);
	check_image(&T, fd2, size2);
	EQ(size, size2);
	EQ(pread(fd, a, size, 0), size);
	EQ(pread(fd2, b, size, 0), size);
	assert_memory_equal(a, b, size);

	T.syms[3].region = 9;
	EQ(ks_elfimage_write(&T.m, fd2, &size2, &err), -EINVAL);
	if (!strstr(err.msg, "symbol __per_cpu_start in region 9") || strchr(err.msg, '#'))
		fail_msg("message: %s", err.msg);
	close(fd);
	close(fd2);
	free(a);
	free(b);
}

static void expect_error(int fd, int code)
{
	struct ks_error err = { 0 };
	size_t size = 12345;

	EQ(ks_elfimage_write(&T.m, fd, &size, &err), -code);
	EQ(err.code, code);
	assert_true(strlen(err.msg) > 0);
	EQ(size, 12345);
	EQ(fd < 0 || lseek(fd, 0, SEEK_END) == 0, 1);	/* nothing half written */
}

static void test_bad_models(void **state)
{
	int fd = memfd_create("bad", MFD_CLOEXEC);

	(void)state;
	model_x86(&T)->m.target.elf_class = 7;
	expect_error(fd, EINVAL);
	model_x86(&T)->syms[3].region = 9;	/* the kernel has 5 */
	expect_error(fd, EINVAL);
	model_x86(&T)->regions[1][2].name = NULL;
	expect_error(fd, EINVAL);
	model_x86(&T)->m.n_locals++;
	expect_error(fd, EINVAL);
	model_x86(&T)->m.n_locals--;
	expect_error(fd, EINVAL);
	model_x86(&T)->owners[1].first_sym++;	/* slices must tile syms[] */
	expect_error(fd, EINVAL);
	model_x86(&T)->m.n_syms--;
	expect_error(fd, EINVAL);
	model_ppc(&T)->syms[1].addr = 0x100000000ull;	/* not for ELFCLASS32 */
	expect_error(fd, EOVERFLOW);
	model_x86(&T);
	expect_error(-1, EBADF);
	close(fd);
}

/*
 * Allocation failures: the n-th allocation inside ks_elfimage_write fails,
 * for every n until a write succeeds. Each must be -ENOMEM, leave the fd
 * empty and free all it allocated. This replaces malloc for the process:
 * not under ASan (its own allocator), skipped under valgrind (it puts its
 * own back). mallinfo2 counts chunks parked in glibc's per-thread cache as
 * in use, so the unit tests run with that cache off (GLIBC_TUNABLES in
 * tests/unit/meson.build); otherwise a freed chunk looks like a leak.
 */
#ifndef __SANITIZE_ADDRESS__
#include "allocfail.h"

static void test_out_of_memory(void **state)
{
	long n;

	(void)state;
	model_x86(&T);
	for (n = 1; n < 100000; n++) {
		struct ks_error err = { 0 };
		struct mallinfo2 before = mallinfo2(), after;
		int fd = memfd_create("oom", MFD_CLOEXEC), ret;
		bool failed;
		size_t size;

		allocfail_arm(n);
		ret = ks_elfimage_write(&T.m, fd, &size, &err);
		failed = allocfail_disarm();
		after = mallinfo2();
		if (!failed) {
			if (n == 1) {
				close(fd);
				skip();		/* somebody else's malloc */
			}
			EQ(ret, 0);
			check_image(&T, fd, size);
			close(fd);
			break;
		}
		EQ(before.uordblks + before.hblkhd, after.uordblks + after.hblkhd);
		EQ(ret, -ENOMEM);
		EQ(err.code, ENOMEM);
		EQ(lseek(fd, 0, SEEK_END), 0);	/* nothing half written */
		close(fd);
	}
	assert_true(n > 10);
	print_message("%ld allocations failed one by one\n", n - 1);
}
#else
static void test_out_of_memory(void **state)
{
	(void)state;
	skip();
}
#endif

/* Run a shell command; its exit status, its stdout in out (may be NULL). */
__attribute__((format(printf, 3, 4)))
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
	assert_non_null(p = popen(cmd, "r"));
	while (out && got + 1 < len && !feof(p))
		got += fread(out + got, 1, len - 1 - got, p);
	if (out)
		out[got] = '\0';
	while (fgetc(p) != EOF)
		;
	st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* The tool named by env, else def; NULL if not installed. */
static const char *tool(const char *env, const char *def)
{
	const char *v = getenv(env) && *getenv(env) ? getenv(env) : def;

	return run(NULL, 0, "command -v '%s' >/dev/null 2>&1", v) ? NULL : v;
}

static void write_file(const struct tmodel *t, char *path)
{
	struct ks_error err = { 0 };
	size_t size;
	int fd;

	strcpy(path, "/tmp/test_elfimage-XXXXXX");
	assert_true((fd = mkstemp(path)) >= 0);
	EQ(ks_elfimage_write(&t->m, fd, &size, &err), 0);
	close(fd);
}

/* "11: ffffffffc0440110 192 FUNC LOCAL DEFAULT 9 fuse_dev_poll", whatever
 * the spacing. */
static void check_sym_line(const char *cmd, const char *out)
{
	const char *line = strstr(out, " fuse_dev_poll\n");
	char f[7][32];

	if (!line)
		fail_msg("%s: no fuse_dev_poll", cmd);
	while (line > out && line[-1] != '\n')
		line--;
	EQ(sscanf(line, "%31s %31s %31s %31s %31s %31s %31s", f[0], f[1], f[2], f[3], f[4],
		  f[5], f[6]), 7);
	assert_string_equal(f[1], "ffffffffc0440110");
	assert_string_equal(f[2], "192");
	assert_string_equal(f[3], "FUNC");
	assert_string_equal(f[4], "LOCAL");
	assert_string_equal(f[6], "10");	/* null, 4 tables, 5 kernel regions */
}

/*
 * eu-elflint in debuginfo mode (-d) must find nothing. Without -d it can
 * never be quiet about an image of NOBITS sections only: it wants .text,
 * and any executable section, to be PROGBITS, and an executable or writable
 * PT_LOAD to contain such sections. Those are the only complaints allowed,
 * so all its other checks (sections in segments by file offset, symbols in
 * their sections, sh_info, ...) must pass.
 */
static void lint(const char *path)
{
	static const char *const allowed[] = {
		"has wrong type: expected PROGBITS, is NOBITS",
		"has unexpected type 8 for an executable section",
		"is executable but contains no executable sections",
		"is writable but contains no writable sections",
	};
	const char *lint = tool("ELFLINT", "eu-elflint");
	char out[16384];

	if (!lint)
		return;
	if (run(out, sizeof(out), "%s -d --gnu-ld '%s' 2>&1", lint, path) ||
	    run(out, sizeof(out), "%s -d '%s' 2>&1", lint, path))
		fail_msg("eu-elflint -d: %s", out);
	run(out, sizeof(out), "%s --gnu-ld '%s' 2>&1", lint, path);
	for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n")) {
		size_t a = 0;

		while (a < 4 && !strstr(line, allowed[a]))
			a++;
		if (a == 4)
			fail_msg("eu-elflint --gnu-ld: %s", line);
	}
}

/* eu-elflint, and every reader lists every symbol and reads one right. */
static void test_tools(void **state)
{
	static const char *const readers[][3] = {
		{ "READELF", "readelf", "-sW" },
		{ "LLVM_READELF", "llvm-readelf", "-s" },
		{ "EU_READELF", "eu-readelf", "-s" },
	};
	char path[64], *out = malloc(1 << 20), want[64];

	(void)state;
	for (int k = 0; k < 2; k++) {
		write_file(k ? model_ppc(&T) : model_x86(&T), path);
		lint(path);
		for (size_t i = 0; i < 3; i++) {
			const char *cmd = tool(readers[i][0], readers[i][1]);

			if (!cmd)
				continue;
			EQ(run(out, 1 << 20, "%s %s '%s'", cmd, readers[i][2], path), 0);
			snprintf(want, sizeof(want), "'.symtab' contains %zu entries",
				 1 + T.m.n_owners + T.m.n_syms);
			if (!strstr(out, want))
				fail_msg("%s: no \"%s\"", cmd, want);
			if (!k)
				check_sym_line(cmd, out);
		}
		unlink(path);
	}
	free(out);
}

/*
 * Notes: the kernel's as ".notes", the first section after the fixed ones,
 * with one PT_NOTE (after the PT_LOADs); a module's that is no region as
 * "<module>:<name>" after the regions; a region's as its SHT_NOTE section
 * (checked by check_image_notes); bytes as given (the target's order), in
 * both classes and byte orders; the rest of the image as it was.
 */
static void test_notes(void **state)
{
	/* namesz 4, descsz 4, type 3, "GNU\0", desc: in either order the same
	 * bytes once the words are swapped. */
	static unsigned char le[] = { 4, 0, 0, 0, 4, 0, 0, 0, 3, 0, 0, 0, 'G', 'N', 'U', 0,
				      0xde, 0xad, 0xbe, 0xef };
	static unsigned char be[] = { 0, 0, 0, 4, 0, 0, 0, 4, 0, 0, 0, 3, 'G', 'N', 'U', 0,
				      0xde, 0xad, 0xbe, 0xef };
	static unsigned char mod[] = { 6, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 'L', 'i', 'n', 'u',
				       'x', 0, 0, 0 };
	static unsigned char mod_be[] = { 0, 0, 0, 6, 0, 0, 0, 0, 0, 0, 1, 0, 'L', 'i', 'n',
					  'u', 'x', 0, 0, 0 };

	(void)state;
	for (int k = 0; k < 2; k++) {
		struct ks_notes kn = { .name = ".notes", .data = k ? be : le, .size = 20 };
		struct ks_notes mn[3] = { { .name = ".note.Linux", .data = mod, .size = 20 },
					  { .name = ".note.empty" },
					  { .name = ".note.region", .data = mod, .size = 20 } };
		struct ks_region *rg;
		size_t size, plain, shnum, phnum, n_regions = 0;
		int fd = write_image(k ? model_ppc(&T) : model_x86(&T), &plain);
		unsigned char buf[20];
		GElf_Shdr sh;
		GElf_Phdr ph;
		Elf *e;

		close(fd);
		for (size_t o = 0; o < T.m.n_owners; o++)
			n_regions += T.owners[o].n_regions;
		T.owners[0].notes = &kn;
		T.owners[0].n_notes = 1;
		if (k)
			mn[0].data = mn[2].data = mod_be;
		T.owners[1].notes = mn;
		T.owners[1].n_notes = 3;	/* the empty one is no section */
		/* Its second region holds its third notes (regions.c matches
		 * the names; the writer takes the region's). */
		rg = &T.owners[1].regions[1];
		rg->notes = &mn[2];
		rg->size = 20;
		fd = write_image(&T, &size);
		check_image_notes(&T, fd, size, 1, 1);
		assert_true(size > plain);
		assert_non_null(e = elf_begin(fd, ELF_C_READ, NULL));
		EQ(elf_getshdrnum(e, &shnum), 0);
		EQ(elf_getphdrnum(e, &phnum), 0);
		EQ(shnum, 5 + n_regions + 2);
		EQ(phnum, n_regions + 1);
		assert_string_equal(scn_name(e, 5, &sh), ".notes");
		EQ(sh.sh_type, SHT_NOTE);
		EQ(sh.sh_flags, 0);
		EQ(sh.sh_size, 20);
		EQ(sh.sh_addralign, 4);
		EQ(pread(fd, buf, 20, sh.sh_offset), 20);
		assert_memory_equal(buf, kn.data, 20);
		assert_non_null(gelf_getphdr(e, n_regions, &ph));
		EQ(ph.p_type, PT_NOTE);
		EQ(ph.p_offset, sh.sh_offset);
		EQ(ph.p_filesz, 20);
		EQ(ph.p_memsz, 0);
		assert_string_equal(scn_name(e, 6 + n_regions, &sh),
				    k ? "ext4:.note.Linux" : "fuse:.note.Linux");
		EQ(sh.sh_flags, 0);
		EQ(sh.sh_addr, 0);
		EQ(sh.sh_type, SHT_NOTE);
		EQ(pread(fd, buf, 20, sh.sh_offset), 20);
		assert_memory_equal(buf, mn[0].data, 20);
		EQ(elf_end(e), 0);
		close(fd);

		/* A region's notes that are not its owner's, or not its size,
		 * would be bytes the image does not account for. */
		rg->notes = &kn;
		expect_error(-1, EINVAL);
		rg->notes = &mn[2];
		rg->size = 24;
		expect_error(-1, EINVAL);
		rg->size = 20;
		/* Malformed notes are the caller's to leave out: -EINVAL here. */
		kn.size = 16;
		expect_error(-1, EINVAL);
		T.owners[0].n_notes = 0;
		T.owners[1].n_notes = 0;
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_x86_64),
		cmocka_unit_test(test_ppc32_big_endian),
		cmocka_unit_test(test_empty_kernel),
		cmocka_unit_test(test_string_sharing),
		cmocka_unit_test(test_rewrite_same_fd),
		cmocka_unit_test(test_unterminated_names),
		cmocka_unit_test(test_bad_models),
		cmocka_unit_test(test_out_of_memory),
		cmocka_unit_test(test_tools),
		cmocka_unit_test(test_notes),
	};

	elf_version(EV_CURRENT);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
