/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * libFuzzer: device.c's semantics without a transport. The input is a
 * sequence of operations by a handful of processes (tgids) on one device
 * over the mini fixture tree: open, reads of any size (held replies too),
 * release, and ioctls driven through the unrestricted-ioctl rounds exactly
 * as cuse.c relays them, with the kernel's part (fs/fuse/ioctl.c) played
 * against a fake caller memory whose pages may be unmapped or read-only.
 * Also single rounds with arbitrary fetched bytes and output room, which
 * the device must take as they come (the rounds carry no state).
 *
 * Every result is checked against what the device promises (device.h,
 * <sys/ksyms.h>), predicted independently here: which open succeeds and
 * with which errno, the bytes and cursor of each read against a reference
 * snapshot of the same tree, each ioctl's errno or result (a lookup's
 * against a linear scan of the reference image's .symtab), where results
 * are written. Everything is released at the end of each input, and LSan
 * plus an fd count catch what is not.
 */
#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <gelf.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ksyms.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/device.h"
#include "engine/snapshot.h"
#include "fuzzinput.h"

#ifndef KS_FIXTURES
#define KS_FIXTURES "tests/fixtures"
#endif

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* ---- the trees and the reference image (once, at start) ---- */

/*
 * mini has no proc/sys, and the device reads the access sysctls from its
 * root at every open. So three trees are made at start in a temporary
 * folder, each the mini fixture (symlinks) plus its own sysctls, each with
 * a different rule; the rule is restated here rather than taken from
 * access.c, so a wrong access.c shows.
 */
enum { TREE_CAP, TREE_OPEN, TREE_NONE, N_TREES };
static const struct {
	const char *name;
	int kptr_restrict, perf_event_paranoid;
} trees[N_TREES] = {
	[TREE_CAP] = { "cap", 1, 2 },	/* CAP_SYSLOG in the initial userns */
	[TREE_OPEN] = { "open", 0, 1 },	/* everyone */
	[TREE_NONE] = { "none", 2, 2 },	/* nobody */
};

static bool tree_allows(int tree, bool cap_syslog, bool init_userns)
{
	switch (tree) {
	case TREE_OPEN:
		return true;
	case TREE_CAP:
		return cap_syslog && init_userns;
	default:
		return false;
	}
}

static char tmpdir[PATH_MAX];
static char mini[PATH_MAX];
static struct ks_root roots[N_TREES];

static struct ks_snapshot *ref;
static const unsigned char *ref_data;
static size_t ref_size;
static Elf *ref_elf;
static GElf_Sym *ref_syms;
static const char **ref_names;
static size_t n_ref_syms;
static int fd_baseline;

/* Names for the lookups: every name of the image, and some that are not. */
static const char **dict;
static size_t n_dict;

static void die(const char *what)
{
	fprintf(stderr, "fuzz_device: %s: %s\n", what, strerror(errno));
	abort();
}

static void write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		die(path);
	close(fd);
}

static void make_tree(const char *dir, const char *from, int kptr_restrict, int paranoid)
{
	static const char *const links[] = { "proc/kallsyms", "proc/modules", "sys", "uname-m" };
	static const char *const dirs[] = { "", "/proc", "/proc/sys", "/proc/sys/kernel" };
	char path[PATH_MAX], target[PATH_MAX], val[32];

	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(path, sizeof(path), "%s%s", dir, dirs[i]);
		if (mkdir(path, 0755) < 0)
			die(path);
	}
	for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i++) {
		snprintf(target, sizeof(target), "%s/%s", from, links[i]);
		snprintf(path, sizeof(path), "%s/%s", dir, links[i]);
		if (symlink(target, path) < 0)
			die(path);
	}
	snprintf(path, sizeof(path), "%s/proc/sys/kernel/kptr_restrict", dir);
	snprintf(val, sizeof(val), "%d\n", kptr_restrict);
	write_file(path, val);
	snprintf(path, sizeof(path), "%s/proc/sys/kernel/perf_event_paranoid", dir);
	snprintf(val, sizeof(val), "%d\n", paranoid);
	write_file(path, val);
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_DP)
		rmdir(path);
	else
		unlink(path);
	return 0;
}

static void cleanup(void)
{
	for (int t = 0; t < N_TREES; t++)
		ks_root_close(&roots[t]);
	if (tmpdir[0])
		nftw(tmpdir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}

/* A run that finds something dies without its atexit handlers: remove the
 * trees of earlier runs whose process is gone (named after their pid). */
static void remove_stale_trees(const char *parent)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *d = opendir(parent);
	int pid;

	if (!d)
		return;
	while ((de = readdir(d))) {
		if (sscanf(de->d_name, "ksymsd-fuzz-device.%d.", &pid) != 1 || pid <= 0 ||
		    kill(pid, 0) == 0 || errno != ESRCH)
			continue;
		snprintf(path, sizeof(path), "%s/%s", parent, de->d_name);
		nftw(path, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
	}
	closedir(d);
}

/*
 * The fds that are ours to count: snapshot memfds and anything opened below
 * the trees or the fixture. libFuzzer opens files of its own between inputs,
 * so "the lowest free fd" would not do.
 */
static int count_our_fds(void)
{
	char link[PATH_MAX + 1], path[64];
	struct dirent *de;
	DIR *d = opendir("/proc/self/fd");
	int n = 0;
	ssize_t len;

	CHECK(d);
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' || atoi(de->d_name) == dirfd(d))
			continue;
		snprintf(path, sizeof(path), "/proc/self/fd/%s", de->d_name);
		len = readlink(path, link, sizeof(link) - 1);
		if (len < 0)
			continue;
		link[len] = '\0';
		n += !strncmp(link, "/memfd:ksyms", 12) ||
		     !strncmp(link, tmpdir, strlen(tmpdir)) || !strncmp(link, mini, strlen(mini));
	}
	closedir(d);
	return n;
}

/* The reference image's symbols, for an oracle that does not use symindex. */
static void load_ref_syms(void)
{
	static const char *const absent[] = {
		"", "no_such_symbol", "_tex", "_textx", "mod_a_fn ", "[moda]", "vmlinux", "moda",
	};
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;
	Elf_Data *d;

	elf_version(EV_CURRENT);
	ref_elf = elf_memory((char *)ref_data, ref_size);
	CHECK(ref_elf);
	while ((scn = elf_nextscn(ref_elf, scn))) {
		CHECK(gelf_getshdr(scn, &sh));
		if (sh.sh_type == SHT_SYMTAB)
			break;
	}
	CHECK(scn && (d = elf_getdata(scn, NULL)));
	n_ref_syms = sh.sh_size / sh.sh_entsize;
	ref_syms = calloc(n_ref_syms, sizeof(*ref_syms));
	ref_names = calloc(n_ref_syms, sizeof(*ref_names));
	dict = calloc(n_ref_syms + sizeof(absent) / sizeof(absent[0]), sizeof(*dict));
	CHECK(ref_syms && ref_names && dict);
	for (size_t i = 0; i < n_ref_syms; i++) {
		CHECK(gelf_getsym(d, (int)i, &ref_syms[i]));
		ref_names[i] = elf_strptr(ref_elf, sh.sh_link, ref_syms[i].st_name);
		CHECK(ref_names[i]);
		if (ref_names[i][0])
			dict[n_dict++] = ref_names[i];
	}
	for (size_t i = 0; i < sizeof(absent) / sizeof(absent[0]); i++)
		dict[n_dict++] = absent[i];
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *base = getenv("KSYMS_FIXTURES");
	struct ks_snapshot_opts so = { 0 };
	struct ks_error err = { 0 };
	char rel[PATH_MAX + 8], path[PATH_MAX];
	const char *tmp = getenv("TMPDIR");

	(void)argc;
	(void)argv;
	snprintf(rel, sizeof(rel), "%s/mini", base && base[0] ? base : KS_FIXTURES);
	if (!realpath(rel, mini))
		die(rel);
	if (!tmp || !tmp[0])
		tmp = "/tmp";
	remove_stale_trees(tmp);
	snprintf(tmpdir, sizeof(tmpdir), "%s/ksymsd-fuzz-device.%d.XXXXXX", tmp, (int)getpid());
	if (!mkdtemp(tmpdir))
		die(tmpdir);
	atexit(cleanup);
	for (int t = 0; t < N_TREES; t++) {
		snprintf(path, sizeof(path), "%s/%s", tmpdir, trees[t].name);
		make_tree(path, mini, trees[t].kptr_restrict, trees[t].perf_event_paranoid);
		if (ks_root_open(&roots[t], path, &err) < 0) {
			fprintf(stderr, "fuzz_device: %s\n", err.msg);
			abort();
		}
	}
	/* Without a cache: built from scratch, not shared with any device. */
	so.root = &roots[TREE_CAP];
	if (ks_snapshot_take(&so, &ref, &err) < 0) {
		fprintf(stderr, "fuzz_device: reference snapshot: %s\n", err.msg);
		abort();
	}
	ref_data = ks_snapshot_data(ref);
	ref_size = ks_snapshot_size(ref);
	load_ref_syms();
	/* Everything of ours kept open for the whole run is open now. */
	fd_baseline = count_our_fds();
	return 0;
}

/* NetBSD's lookup order, by a plain scan: the first global, else the first
 * weak, else the first local. Section and file symbols name no object. */
static int oracle_lookup(const char *name, GElf_Sym *out)
{
	size_t best = 0;
	int best_rank = -1;

	for (size_t i = 1; i < n_ref_syms; i++) {
		const GElf_Sym *s = &ref_syms[i];
		int rank;

		if (GELF_ST_TYPE(s->st_info) == STT_SECTION ||
		    GELF_ST_TYPE(s->st_info) == STT_FILE || !ref_names[i][0] ||
		    strcmp(ref_names[i], name) != 0)
			continue;
		switch (GELF_ST_BIND(s->st_info)) {
		case STB_GLOBAL:
		case STB_GNU_UNIQUE:
			rank = 2;
			break;
		case STB_WEAK:
			rank = 1;
			break;
		default:
			rank = 0;
		}
		if (rank > best_rank) {
			best = i;
			best_rank = rank;
		}
	}
	if (best_rank < 0)
		return -ENOENT;
	*out = ref_syms[best];
	return 0;
}

/* ---- the fake caller's memory ---- */

#define MEM_PAGES 4
#define MEM_MAX_PAGE 16384
enum { PERM_NONE, PERM_R, PERM_RW };

static unsigned char mem[MEM_PAGES * MEM_MAX_PAGE];
static uint8_t mem_perm[MEM_PAGES];
static uint64_t mem_base;
static size_t mem_page;		/* the caller's (the kernel's) page size */

static size_t mem_size(void)
{
	return MEM_PAGES * mem_page;
}

/* May [addr, addr + len) be read (need PERM_R) or written (PERM_RW)? The
 * kernel's copies fail on the first page that may not. */
static bool mem_ok(uint64_t addr, size_t len, int need)
{
	uint64_t off;

	if (!len)
		return true;
	if (addr < mem_base || addr - mem_base >= mem_size())
		return false;
	off = addr - mem_base;
	if (len > mem_size() - off)
		return false;
	for (uint64_t p = off / mem_page; p <= (off + len - 1) / mem_page; p++)
		if (mem_perm[p] < need)
			return false;
	return true;
}

static unsigned char *mem_at(uint64_t addr)
{
	return mem + (addr - mem_base);
}

static uint64_t mem_rd64(uint64_t addr)
{
	uint64_t v;

	memcpy(&v, mem_at(addr), sizeof(v));
	return v;
}

/* An address in or around the caller's memory, from the input. */
static uint64_t pick_addr(struct input *in)
{
	uint8_t how = u8(in);
	uint16_t off = u16(in);

	switch (how % 8) {
	case 0:
		return 0;
	case 1:
		return u64(in);
	case 2:	/* just below the end of the memory, or of a page */
		return mem_base + mem_size() - 1 - off % 64;
	case 3:
		return mem_base + (off % MEM_PAGES + 1) * mem_page - 1 - (off >> 8) % 32;
	default:
		return mem_base + off % mem_size();
	}
}

/* Write len bytes at a memory offset, cut at the end of the memory. The
 * caller's own stores: permissions do not apply. */
static void mem_put(uint64_t addr, const void *p, size_t len)
{
	if (addr < mem_base || addr - mem_base >= mem_size())
		return;
	if (len > mem_size() - (addr - mem_base))
		len = mem_size() - (addr - mem_base);
	memcpy(mem_at(addr), p, len);
}

/* ---- the kernel's half of an unrestricted CUSE ioctl ---- */

/* fc->max_pages (FUSE_DEFAULT_MAX_PAGES_PER_REQ) pages of 4 KiB: the most
 * a round may fetch or declare before the kernel fails it with ENOMEM. */
#define KERNEL_MAX_IOCTL (32u * 4096u)

/* A step as device.h defines it, whatever was fetched. */
static void check_step(int ret, const struct ks_ioctl_step *st, size_t out_len)
{
	size_t in_total = 0, out_total = 0;

	switch (ret) {
	case KS_IOCTL_DONE:
		/* Past out_len the kernel fails the reply with EIO. */
		CHECK(st->data_len <= sizeof(st->data) && st->data_len <= out_len);
		break;
	case KS_IOCTL_RETRY:
		CHECK(st->n_in <= 2 && st->n_out <= 1);
		for (unsigned i = 0; i < st->n_in; i++) {
			CHECK(st->in[i].len <= KERNEL_MAX_IOCTL - in_total);
			in_total += st->in[i].len;
		}
		for (unsigned i = 0; i < st->n_out; i++) {
			CHECK(st->out[i].len <= KERNEL_MAX_IOCTL - out_total);
			out_total += st->out[i].len;
		}
		/* Asking for nothing new would loop forever. */
		CHECK(st->n_in || st->n_out);
		break;
	default:
		/* Plain errnos only: EIO or ENOMEM here would be the device
		 * failing on its own image or its own bookkeeping. */
		CHECK(ret == -EFAULT || ret == -EINVAL || ret == -ENOENT || ret == -ENOTTY ||
		      ret == -EOPNOTSUPP || ret == -EOVERFLOW);
	}
}

/* One round's fetch, into an exactly sized buffer so that ASan sees any
 * read past in_len. NULL when nothing was fetched, as libfuse passes it. */
static unsigned char *copy_in(const void *p, size_t len)
{
	unsigned char *buf;

	if (!len)
		return NULL;
	buf = malloc(len);
	CHECK(buf);
	memcpy(buf, p, len);
	return buf;
}

/*
 * Drive one ioctl to its end as fs/fuse/ioctl.c and cuse.c do: the first
 * round fetches nothing; each retry's regions are fetched whole or the
 * ioctl fails with EFAULT; the final data is copied across the out regions,
 * EFAULT at the first page that is not writable.
 */
static int drive_ioctl(struct ks_open *o, unsigned cmd, uint64_t arg, bool compat,
		       size_t page_arg, struct ks_iov *written)
{
	static unsigned char fetched[KERNEL_MAX_IOCTL];
	struct ks_iov in[2], out[1];
	unsigned n_in = 0, n_out = 0;
	struct ks_ioctl_step st;
	int ret;

	memset(written, 0, sizeof(*written));
	for (int round = 1; round <= 16; round++) {
		size_t in_len = 0, out_len = 0;
		unsigned char *buf;

		for (unsigned i = 0; i < n_in; i++) {
			if (!mem_ok(in[i].addr, in[i].len, PERM_R))
				return -EFAULT;
			if (in[i].len)
				memcpy(fetched + in_len, mem_at(in[i].addr), in[i].len);
			in_len += in[i].len;
		}
		for (unsigned i = 0; i < n_out; i++)
			out_len += out[i].len;

		buf = copy_in(fetched, in_len);
		ret = ks_device_ioctl(o, cmd, arg, compat, buf, in_len, out_len, page_arg, &st);
		free(buf);
		check_step(ret, &st, out_len);
		if (ret < 0)
			return ret;
		if (ret == KS_IOCTL_DONE) {
			size_t done = 0;

			for (unsigned i = 0; i < n_out && done < st.data_len; i++) {
				size_t n = out[i].len < st.data_len - done ? out[i].len
									   : st.data_len - done;

				for (size_t k = 0; k < n; k++) {
					if (!mem_ok(out[i].addr + k, 1, PERM_RW))
						return -EFAULT;
					*mem_at(out[i].addr + k) = st.data[done + k];
				}
				if (!written->len)
					*written = (struct ks_iov){ .addr = out[i].addr, .len = n };
				done += n;
			}
			return 0;
		}
		/* A 32-bit caller's kernel refuses (EIO) regions it cannot
		 * address; arg is zero-extended, so the device has no reason to
		 * ask for any. */
		for (unsigned i = 0; compat && i < st.n_in; i++)
			CHECK(st.in[i].addr <= UINT32_MAX && st.in[i].len <= UINT32_MAX);
		for (unsigned i = 0; compat && i < st.n_out; i++)
			CHECK(st.out[i].addr <= UINT32_MAX && st.out[i].len <= UINT32_MAX);
		n_in = st.n_in;
		n_out = st.n_out;
		memcpy(in, st.in, sizeof(in));
		memcpy(out, st.out, sizeof(out));
	}
	fprintf(stderr, "ioctl %#x did not finish in 16 rounds\n", cmd);
	abort();
}

/* ---- what each ioctl must do ---- */

/* A 32-bit caller's encodings (device.c's own, restated). */
#define KIOCGSIZE_SIZE_T32	_IOR('l', 1, uint32_t)
#define KIOCGADDR32		_IOR('l', 2, uint32_t)

struct shape {
	size_t arg_size;
	bool indirect, whole_sym;
	size_t out_off, out_len;
};

static const struct shape *lookup_shape(unsigned cmd)
{
	static const struct shape gvalue = { sizeof(struct ksyms_gvalue), false, false,
					     offsetof(struct ksyms_gvalue, kv_value), 8 };
	static const struct shape gsymbol = { sizeof(struct ksyms_gsymbol), false, true,
					      offsetof(struct ksyms_gsymbol, kg_sym),
					      sizeof(Elf64_Sym) };
	static const struct shape ogsymbol = { sizeof(struct ksyms_ogsymbol), true, true, 0,
					       sizeof(Elf64_Sym) };
	static const struct shape ogvalue = { sizeof(struct ksyms_ogsymbol), true, false, 0,
					      sizeof(unsigned long) };

	switch (cmd) {
	case KIOCGVALUE:
		return &gvalue;
	case KIOCGSYMBOL:
		return &gsymbol;
	case OKIOCGSYMBOL:
		return &ogsymbol;
	case OKIOCGVALUE:
		return &ogvalue;
	default:
		return NULL;
	}
}

/* The bytes a lookup answers with. */
static size_t lookup_result(const struct shape *sh, const GElf_Sym *s, unsigned char *data)
{
	if (sh->whole_sym) {
		Elf64_Sym es = { .st_name = s->st_name, .st_info = s->st_info,
				 .st_other = s->st_other, .st_shndx = s->st_shndx,
				 .st_value = s->st_value, .st_size = s->st_size };

		memcpy(data, &es, sizeof(es));
	} else if (sh->out_len == 8) {
		uint64_t v = s->st_value;

		memcpy(data, &v, 8);
	} else {
		unsigned long v = (unsigned long)s->st_value;

		memcpy(data, &v, sizeof(v));
	}
	return sh->out_len;
}

struct expect {
	int ret;
	uint64_t out;		/* where the result goes */
	unsigned char data[32];
	size_t len;
};

static void expect_size(uint64_t arg, size_t width, struct expect *e)
{
	uint64_t v64 = ref_size;
	uint32_t v32 = (uint32_t)ref_size;

	if (!mem_ok(arg, width, PERM_RW)) {
		e->ret = -EFAULT;
		return;
	}
	e->out = arg;
	e->len = width;
	memcpy(e->data, width == 8 ? (void *)&v64 : (void *)&v32, width);
}

/*
 * The outcome from the caller's memory: the struct must be readable, then
 * the name up to its NUL within KSYMS_MAXNAMELEN bytes (a longer one is
 * EINVAL, an unreadable byte before the NUL EFAULT), then the lookup, then
 * the result's place must be writable.
 */
static void expect_lookup(const struct shape *sh, uint64_t arg, struct expect *e)
{
	char name[KSYMS_MAXNAMELEN];
	uint64_t name_ptr, out_ptr = 0;
	GElf_Sym s;
	size_t k;

	e->ret = -EFAULT;
	if (!mem_ok(arg, sh->arg_size, PERM_R))
		return;
	name_ptr = mem_rd64(arg);
	if (sh->indirect) {
		out_ptr = mem_rd64(arg + offsetof(struct ksyms_ogsymbol, _un));
		if (!out_ptr)
			return;
	}
	if (!name_ptr)
		return;
	for (k = 0; k < KSYMS_MAXNAMELEN; k++) {
		if (name_ptr + k < name_ptr || !mem_ok(name_ptr + k, 1, PERM_R))
			return;
		name[k] = (char)*mem_at(name_ptr + k);
		if (!name[k])
			break;
	}
	if (k == KSYMS_MAXNAMELEN) {
		e->ret = -EINVAL;
		return;
	}
	if (oracle_lookup(name, &s) < 0) {
		e->ret = -ENOENT;
		return;
	}
	e->out = sh->indirect ? out_ptr : arg + sh->out_off;
	if (!mem_ok(e->out, sh->out_len, PERM_RW))
		return;
	e->ret = 0;
	e->len = lookup_result(sh, &s, e->data);
}

static void expect_ioctl(unsigned cmd, uint64_t arg, bool compat, struct expect *e)
{
	const struct shape *sh;

	memset(e, 0, sizeof(*e));
	if (compat) {
		switch (cmd) {
		case KIOCGSIZE_SIZE_T32:
			expect_size(arg, 4, e);
			return;
		case KIOCGSIZE_INT:
			expect_size(arg, sizeof(int), e);
			return;
		case KIOCGADDR32:
			e->ret = -EOPNOTSUPP;
			return;
		default:
			e->ret = -ENOTTY;
			return;
		}
	}
	switch (cmd) {
	case KIOCGSIZE_SIZE_T:
		expect_size(arg, sizeof(size_t), e);
		return;
	case KIOCGSIZE_INT:
		expect_size(arg, sizeof(int), e);
		return;
	case KIOCGADDR:
		e->ret = -EOPNOTSUPP;
		return;
	}
	sh = lookup_shape(cmd);
	if (sh)
		expect_lookup(sh, arg, e);
	else
		e->ret = -ENOTTY;
}

static const unsigned known_cmds[] = {
	KIOCGSIZE_SIZE_T, KIOCGADDR, KIOCGSIZE_INT, KIOCGVALUE, KIOCGSYMBOL,
	OKIOCGSYMBOL, OKIOCGVALUE, KIOCGSIZE_SIZE_T32, KIOCGADDR32,
};
#define N_KNOWN (sizeof(known_cmds) / sizeof(known_cmds[0]))

static unsigned pick_cmd(struct input *in)
{
	uint8_t how = u8(in);

	if (how < 200)
		return known_cmds[how % N_KNOWN];
	if (how < 240) {	/* an 'l' request of any direction, number and size */
		unsigned dir = u8(in) & 3, nr = u8(in) & 15, size = u16(in) & 0x3fff;

		return _IOC(dir, 'l', nr, size);
	}
	return u32(in);
}

/* The page size the device is told: the caller's, or one the device must
 * replace by 4096 (when the caller's is 4096). Never a larger one: the
 * device would then rightly fetch past a page end of ours. */
static size_t pick_page_arg(struct input *in)
{
	static const size_t odd[] = { 0, 12345, 4097 };
	uint8_t how = u8(in);

	if (how < 224 || mem_page != 4096)
		return how & 1 ? mem_page : 4096;
	return odd[how % 3];
}

/* ---- the processes ---- */

#define N_SLOTS 5
#define MAX_HELD 8

struct proc {
	pid_t tgid;
	struct ks_open *o;
	size_t cursor;		/* where its next read must start */
};

struct state {
	struct ks_device *dev;
	int tree;
	unsigned max_opens;
	size_t max_memory;
	struct proc procs[N_SLOTS];
	unsigned n_open;
	struct ks_read held[MAX_HELD];	/* replies still being "sent" */
	size_t n_held;
	int image_fd;		/* the memfd every open of this device shares */
};

/* A reply's bytes, through its fd as the transport splices them: those
 * of the reference image at that offset. */
static void check_reply(struct state *s, const struct ks_read *r)
{
	static unsigned char buf[1 << 16];

	CHECK(r->snap && r->fd >= 0 && r->offset >= 0);
	CHECK((size_t)r->offset <= ref_size && r->len <= ref_size - (size_t)r->offset);
	CHECK(ks_snapshot_size(r->snap) == ref_size && ks_snapshot_fd(r->snap) == r->fd);
	/* Opens of an unchanged tree share one image. */
	if (s->image_fd < 0)
		s->image_fd = r->fd;
	CHECK(r->fd == s->image_fd);
	for (size_t done = 0, n; done < r->len; done += n) {
		n = r->len - done < sizeof(buf) ? r->len - done : sizeof(buf);
		CHECK(pread(r->fd, buf, n, r->offset + (off_t)done) == (ssize_t)n);
		CHECK(memcmp(buf, ref_data + r->offset + done, n) == 0);
	}
}

static void op_open(struct state *s, struct input *in)
{
	struct proc *p = &s->procs[u8(in) % N_SLOTS];
	uint8_t flags = u8(in);
	struct ks_caller c = {
		.tgid = p->tgid,
		.tid = p->tgid ^ (flags >> 4),
		.uid = flags & 0x80 ? 1000 : 0,
		/* Mostly privileged, or little would get past open. */
		.cap_syslog = (flags & 3) != 3,
		.init_userns = (flags & 0xc) != 0xc,
	};
	struct ks_error err = { 0 };
	struct ks_open *o = NULL;
	int want, ret;

	if (!tree_allows(s->tree, c.cap_syslog, c.init_userns))
		want = -EPERM;
	else if (p->o)
		want = -EBUSY;
	else if (s->max_opens && s->n_open >= s->max_opens)
		want = -ENOMEM;
	else if (s->max_memory && (ref_size > s->max_memory ||
				   s->n_open * ref_size > s->max_memory - ref_size))
		want = -ENOMEM;
	else
		want = 0;
	ret = ks_device_open(s->dev, &c, &o, &err);
	if (ret != want) {
		fprintf(stderr, "open by %d: %d, expected %d (%s)\n", (int)p->tgid, ret, want,
			err.msg);
		abort();
	}
	if (ret < 0)
		return;
	CHECK(o && ks_open_size(o) == ref_size && ks_open_tgid(o) == p->tgid);
	p->o = o;
	p->cursor = 0;
	s->n_open++;
}

static size_t pick_read_size(struct input *in, const struct proc *p)
{
	switch (u8(in) % 10) {
	case 0:
		return 0;
	case 1:
		return 1;
	case 2:
		return u8(in);
	case 3:
		return u16(in);
	case 4:
		return ref_size;
	case 5:
		return SIZE_MAX;
	case 6:
		return 4096;
	case 7:
		return ref_size - p->cursor;
	case 8:
		return ref_size - p->cursor + 1;
	default:
		return u32(in);
	}
}

static void op_read(struct state *s, struct input *in, bool hold)
{
	struct proc *p = &s->procs[u8(in) % N_SLOTS];
	size_t size, want;
	struct ks_read r;

	if (!p->o)
		return;		/* no fd, no read */
	size = pick_read_size(in, p);
	want = ref_size - p->cursor < size ? ref_size - p->cursor : size;
	CHECK(ks_device_read(p->o, size, &r) == 0);
	CHECK(r.len == want);
	if (!r.len) {
		/* End of file. */
		CHECK(!r.snap && r.fd == -1);
		return;
	}
	CHECK(r.offset == (off_t)p->cursor);
	p->cursor += r.len;
	CHECK(p->cursor <= ref_size);
	check_reply(s, &r);
	if (hold && s->n_held < MAX_HELD) {
		s->held[s->n_held++] = r;
		return;
	}
	ks_device_read_done(&r);
	CHECK(!r.snap && r.fd == -1);
}

/* The oldest held reply is sent: its bytes are still the image's, even if
 * its open (or the whole device) is gone meanwhile. */
static void finish_held(struct state *s)
{
	if (!s->n_held)
		return;
	check_reply(s, &s->held[0]);
	ks_device_read_done(&s->held[0]);
	CHECK(!s->held[0].snap);
	memmove(&s->held[0], &s->held[1], --s->n_held * sizeof(s->held[0]));
}

static void release(struct state *s, struct proc *p)
{
	ks_device_release(p->o);
	p->o = NULL;
	s->n_open--;
}

static void op_release(struct state *s, struct input *in)
{
	struct proc *p = &s->procs[u8(in) % N_SLOTS];

	if (p->o)
		release(s, p);
}

static void run_ioctl(struct proc *p, unsigned cmd, uint64_t arg, bool compat,
		      size_t page_arg)
{
	struct ks_iov written;
	struct expect e;
	int ret;

	/* A 32-bit caller's argument is a 32-bit pointer. */
	if (compat)
		arg = (uint32_t)arg;
	expect_ioctl(cmd, arg, compat, &e);
	ret = drive_ioctl(p->o, cmd, arg, compat, page_arg, &written);
	if (ret != e.ret) {
		fprintf(stderr, "ioctl %#x%s arg %#llx: %d, expected %d\n", cmd,
			compat ? " (compat)" : "", (unsigned long long)arg, ret, e.ret);
		abort();
	}
	if (ret == 0 && e.len) {
		CHECK(written.addr == e.out && written.len == e.len);
		CHECK(memcmp(mem_at(e.out), e.data, e.len) == 0);
	}
}

static void op_ioctl(struct state *s, struct input *in)
{
	struct proc *p = &s->procs[u8(in) % N_SLOTS];
	unsigned cmd = pick_cmd(in);
	uint64_t arg = pick_addr(in);
	bool compat = (u8(in) & 7) == 0;
	size_t page_arg = pick_page_arg(in);

	if (p->o)
		run_ioctl(p, cmd, arg, compat, page_arg);
}

/* A name from the dictionary, or bytes of the input, with or without its
 * NUL; long ones around KSYMS_MAXNAMELEN too. */
static size_t pick_name(struct input *in, char *buf, size_t cap)
{
	uint8_t how = u8(in);
	size_t len;

	if (how < 160) {
		const char *d = dict[u8(in) % n_dict];

		len = strlen(d) + 1;
		memcpy(buf, d, len);
		if (how & 1)
			len--;		/* unterminated: whatever follows */
		return len;
	}
	if (how < 200) {
		len = u8(in) % 48;
		for (size_t i = 0; i < len; i++)
			buf[i] = (char)u8(in);
		buf[len] = '\0';
		return len + 1;
	}
	len = KSYMS_MAXNAMELEN - 3 + how % 6;	/* 509 .. 514 */
	if (len >= cap)
		len = cap - 1;
	memset(buf, 'a' + how % 3, len);
	buf[len] = '\0';
	return len + 1;
}

/* A lookup laid out in the caller's memory: the name, the struct pointing
 * at it (and, for the old forms, at where the result goes), the ioctl. */
static void op_lookup(struct state *s, struct input *in)
{
	static const unsigned cmds[] = { KIOCGVALUE, KIOCGSYMBOL, OKIOCGSYMBOL, OKIOCGVALUE };
	struct proc *p = &s->procs[u8(in) % N_SLOTS];
	unsigned cmd = cmds[u8(in) % 4];
	char name[KSYMS_MAXNAMELEN + 8];
	size_t len = pick_name(in, name, sizeof(name));
	uint64_t name_at = pick_addr(in), arg = pick_addr(in), out = pick_addr(in);
	uint64_t ptrs[2] = { name_at, out };
	uint8_t flags = u8(in);
	size_t page_arg = pick_page_arg(in);

	mem_put(name_at, name, len);
	/* Sometimes a struct that points elsewhere than the name. */
	if (flags & 1)
		ptrs[0] = pick_addr(in);
	mem_put(arg, ptrs, sizeof(ptrs));
	if (p->o)
		run_ioctl(p, cmd, arg, (flags & 0xe) == 0xe, page_arg);
}

/*
 * One round with whatever was "fetched" and whatever output room: the
 * device may only ask for more, answer within the room, or fail with a
 * plain errno. A lookup that answers from such bytes answers for the
 * name they hold.
 */
static void op_raw_round(struct state *s, struct input *in)
{
	struct proc *p = &s->procs[u8(in) % N_SLOTS];
	unsigned cmd = pick_cmd(in);
	uint64_t arg = u8(in) & 1 ? pick_addr(in) : u64(in);
	bool compat = (u8(in) & 7) == 0;
	size_t page_arg = u8(in) & 1 ? (size_t)1 << (u8(in) % 40) : u32(in);
	size_t out_len = u8(in) & 1 ? u8(in) : u32(in);
	size_t in_len = u16(in) % (KSYMS_MAXNAMELEN + 64);
	const struct shape *sh = compat ? NULL : lookup_shape(cmd);
	unsigned char raw[KSYMS_MAXNAMELEN + 64], *buf;
	struct ks_ioctl_step st;
	GElf_Sym sym;
	int ret;

	for (size_t i = 0; i < in_len; i++)
		raw[i] = u8(in);
	if (!p->o)
		return;
	buf = copy_in(raw, in_len);
	ret = ks_device_ioctl(p->o, cmd, arg, compat, buf, in_len, out_len, page_arg, &st);
	free(buf);
	check_step(ret, &st, out_len);
	if (sh && in_len > sh->arg_size && (ret == KS_IOCTL_DONE || ret == -ENOENT)) {
		/* The device found a NUL after the struct: that is the name. */
		const char *name = (const char *)raw + sh->arg_size;
		unsigned char data[32];

		CHECK(memchr(name, '\0', in_len - sh->arg_size));
		if (ret == -ENOENT) {
			CHECK(oracle_lookup(name, &sym) == -ENOENT);
		} else {
			CHECK(oracle_lookup(name, &sym) == 0);
			CHECK(st.data_len == lookup_result(sh, &sym, data));
			CHECK(memcmp(st.data, data, st.data_len) == 0);
		}
	} else if (ret == KS_IOCTL_DONE && !sh) {
		/* Only the sizes answer without a name. */
		uint64_t v = 0;

		CHECK(st.data_len == 4 || st.data_len == 8);
		memcpy(&v, st.data, st.data_len);
		CHECK(v == ref_size);
	} else if (sh) {
		CHECK(ret != KS_IOCTL_DONE);
	}
}

static void op_poke(struct input *in)
{
	uint64_t at = mem_base + u16(in) % mem_size();
	unsigned char buf[256];
	size_t len = u8(in);

	for (size_t i = 0; i < len; i++)
		buf[i] = u8(in);
	mem_put(at, buf, len);
}

static void op_put_name(struct input *in)
{
	char name[KSYMS_MAXNAMELEN + 8];
	size_t len = pick_name(in, name, sizeof(name));

	mem_put(pick_addr(in), name, len);
}

static void op_put_ptr(struct input *in)
{
	uint64_t at = pick_addr(in), v = pick_addr(in);

	mem_put(at, &v, sizeof(v));
}

static void op_perm(struct input *in)
{
	uint8_t page = u8(in) % MEM_PAGES;

	mem_perm[page] = u8(in) % 3;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const pid_t tgids[N_SLOTS] = { 100, 101, 4194304, 2, INT_MAX };
	struct input in = { data, size };
	struct ks_device_opts dopts;
	struct ks_error err = { 0 };
	struct state s = { .image_fd = -1 };
	uint8_t setup = u8(&in), end_mode;

	s.tree = setup % 8 < 6 ? TREE_CAP : setup % 8 == 6 ? TREE_OPEN : TREE_NONE;
	s.max_opens = (setup >> 3) % 5;
	switch ((setup >> 6) ^ (u8(&in) & 7)) {
	case 0:
		s.max_memory = ref_size - 1;	/* not even one */
		break;
	case 1:
		s.max_memory = ref_size;
		break;
	case 2:
		s.max_memory = 2 * ref_size + ref_size / 2;
		break;
	case 3:
		s.max_memory = u32(&in);
		break;
	default:
		s.max_memory = 0;
	}
	end_mode = u8(&in);
	mem_page = end_mode & 0x80 ? MEM_MAX_PAGE : 4096;
	/* Below 4 GiB a 32-bit caller can point into it; above, it cannot. */
	mem_base = end_mode & 0x40 ? 0x7ffe00000000ull : 0x10000000ull;
	memset(mem, 0, mem_size());
	memset(mem_perm, PERM_RW, sizeof(mem_perm));
	for (int i = 0; i < N_SLOTS; i++)
		s.procs[i].tgid = tgids[i];

	dopts = (struct ks_device_opts){ .root = &roots[s.tree], .max_opens = s.max_opens,
					 .max_memory = s.max_memory };
	CHECK(ks_device_new(&dopts, &s.dev, &err) == 0);

	for (unsigned n = 0; in.n && n < 512; n++) {
		switch (u8(&in) % 13) {
		case 0:
		case 1:
			op_open(&s, &in);
			break;
		case 2:
			op_read(&s, &in, false);
			break;
		case 3:
			op_read(&s, &in, true);
			break;
		case 4:
			finish_held(&s);
			break;
		case 5:
			op_release(&s, &in);
			break;
		case 6:
			op_ioctl(&s, &in);
			break;
		case 7:
		case 8:
			op_lookup(&s, &in);
			break;
		case 9:
			op_raw_round(&s, &in);
			break;
		case 10:
			op_poke(&in);
			break;
		case 11:
			op_put_name(&in);
			op_put_ptr(&in);
			break;
		default:
			op_perm(&in);
		}
	}

	/* Clients closing; or the daemon exiting with clients attached (no
	 * releases: ks_device_free frees them); replies in flight throughout. */
	if (end_mode & 1)
		finish_held(&s);
	for (int i = 0; i < N_SLOTS; i++)
		if (s.procs[i].o && !(end_mode & 2))
			release(&s, &s.procs[i]);
	if (end_mode & 4)
		finish_held(&s);
	ks_device_free(s.dev);
	while (s.n_held)
		finish_held(&s);

	/* Nothing of this input may still hold an fd (snapshots, texts,
	 * directories of the tree). */
	CHECK(count_our_fds() == fd_baseline);
	return 0;
}
