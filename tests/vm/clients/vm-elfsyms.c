/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vm-elfsyms: a deliberately independent reader of ELF symbol tables, for the
 * guest tests. It shares no code with ksymsd (plain <elf.h>, no libelf), so a
 * bug in the daemon's ELF writer cannot hide behind the same bug in the
 * checker. It is C rather than awk because busybox under TCG needs ~5 s for
 * one awk join of 100k symbols and ~12 s for a sort.
 *
 *   vm-elfsyms IMAGE      one line per symbol (index 0 excluded):
 *                         ADDR NAME BIND TYPE SIZE SECTION
 *                         ADDR: 16 hex digits, as /proc/kallsyms prints it;
 *                         BIND: L G W or the number; TYPE: N O F S f or the
 *                         number; SECTION: section name, ABS, UND or COM
 *   vm-elfsyms -p IMAGE   ADDR NAME only, kernel symbols only (see below)
 *   vm-elfsyms -c IMAGE   the number of kernel symbols
 *   "Kernel symbols" are all but index 0 and the ELF bookkeeping symbols
 *   (STT_FILE, STT_SECTION), which have no /proc/kallsyms line: ksymsd opens
 *   each owner's locals with an STT_FILE named after it.
 *   vm-elfsyms -s IMAGE   one line per section: INDEX NAME TYPE ADDR SIZE FLAGS
 *   vm-elfsyms -k KALLSYMS [-m "MOD..."] IMAGE
 *                         compare with a copy of /proc/kallsyms (or some of
 *                         its lines); "key: value" lines:
 *     missing: N            (address, name) pairs of KALLSYMS not in the
 *     extra: N              image, and the reverse (as multisets)
 *     missing examples: {ADDR NAME}...   (at most 5 each)
 *     extra examples: {ADDR NAME}...
 *     name hits: N          KALLSYMS lines whose name the image has at all
 *     files: NAME...        the STT_FILE symbols, in order
 *     section owner mismatches: N   symbols in a section that does not name
 *                           their owner: a module's sections are
 *                           "<module>:<region>", the kernel's have no ':'
 *     section owner examples: {ADDR NAME SECTION OWNER}...
 *     owner mismatches: N   symbols whose owner in the image is not the
 *                           [module] of their kallsyms line (vmlinux if none):
 *                           a local's owner is the STT_FILE before it, any
 *                           other's the prefix of its section (none: vmlinux;
 *                           ABS, UND and COM ones are not counted); brackets
 *                           are ignored on both sides ("[bpf]" is "bpf")
 *     owner examples: {ADDR NAME IMAGE-OWNER KALLSYMS-OWNER}...
 *   and with -m, the loaded modules in load order, per binding class C (L:
 *   local, G: global or weak; ELF puts locals first, so an owner order can
 *   only hold within a class), each image symbol's owner being vmlinux or
 *   the [module] tag of its (address, name) line:
 *     C order: MOD...       modules of -m by first appearance in the image
 *     C want: MOD...        the same modules in -m's order
 *     C late: N             kernel symbols after some module's symbol
 *     C split: OWNER...     owners whose symbols come in more than one run
 *     absent modules: MOD...  modules of -m that KALLSYMS has and the image not
 *
 * Native byte order and class only (the guest runs the image's own kernel).
 * Exit status 0, 1 with a message on a malformed file, 2 on bad usage.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#if UINTPTR_MAX == UINT64_MAX
typedef Elf64_Ehdr Ehdr;
typedef Elf64_Shdr Shdr;
typedef Elf64_Sym Sym;
#define ST_BIND ELF64_ST_BIND
#define ST_TYPE ELF64_ST_TYPE
#define MY_CLASS ELFCLASS64
#else
typedef Elf32_Ehdr Ehdr;
typedef Elf32_Shdr Shdr;
typedef Elf32_Sym Sym;
#define ST_BIND ELF32_ST_BIND
#define ST_TYPE ELF32_ST_TYPE
#define MY_CLASS ELFCLASS32
#endif

static const char *prog = "vm-elfsyms";

__attribute__((format(printf, 1, 2), noreturn))
static void die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size);

	if (!p)
		die("out of memory");
	return p;
}

/* ---- the image ---------------------------------------------------------- */

struct sym {
	uint64_t addr, size;
	const char *name;
	const char *sec;
	unsigned char bind, type;
};

static const unsigned char *img;
static size_t img_size;
static const char *img_path;
static const Shdr *sh;
static unsigned n_sh, shstr;

/* Bounds-checked pointer into the image. */
static const void *at(uint64_t off, uint64_t len, const char *what)
{
	if (off > img_size || len > img_size - off)
		die("%s: %s lies outside the file", img_path, what);
	return img + off;
}

/* A NUL-terminated string inside string table section tab. */
static const char *str(unsigned tab, uint32_t off)
{
	const char *s;

	if (tab >= n_sh || sh[tab].sh_type != SHT_STRTAB)
		die("%s: bad string table link %u", img_path, tab);
	if (off >= sh[tab].sh_size)
		die("%s: name offset %" PRIu32 " past its string table", img_path, off);
	s = at(sh[tab].sh_offset, sh[tab].sh_size, "a string table");
	if (!memchr(s + off, '\0', sh[tab].sh_size - off))
		die("%s: unterminated name in a string table", img_path);
	return s + off;
}

static void map_image(const char *path)
{
	const Ehdr *eh;
	struct stat st;
	int fd;

	img_path = path;
	fd = open(path, O_RDONLY);
	if (fd < 0 || fstat(fd, &st) < 0)
		die("cannot open %s: %s", path, strerror(errno));
	img_size = (size_t)st.st_size;
	if (img_size < sizeof(Ehdr))
		die("%s: too small for an ELF header", path);
	img = mmap(NULL, img_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (img == MAP_FAILED)
		die("cannot map %s: %s", path, strerror(errno));
	close(fd);

	eh = (const Ehdr *)img;
	if (memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0)
		die("%s: not an ELF file", path);
	if (eh->e_ident[EI_CLASS] != MY_CLASS)
		die("%s: ELF class is not this machine's", path);
	if (eh->e_shentsize != sizeof(Shdr))
		die("%s: unexpected e_shentsize %u", path, (unsigned)eh->e_shentsize);
	n_sh = eh->e_shnum;
	shstr = eh->e_shstrndx;
	/* Extended numbering: counts past 0xff00 live in section 0. */
	if (n_sh == 0 && eh->e_shoff != 0) {
		sh = at(eh->e_shoff, sizeof(Shdr), "section header 0");
		n_sh = (unsigned)sh[0].sh_size;
	}
	sh = at(eh->e_shoff, (uint64_t)n_sh * sizeof(Shdr), "the section header table");
	if (shstr == SHN_XINDEX && n_sh > 0)
		shstr = sh[0].sh_link;
}

/* All symbols but index 0, in symbol table order. */
static struct sym *read_syms(size_t *count)
{
	const Elf32_Word *xndx = NULL;
	const Sym *syms;
	unsigned i, symtab = 0;
	size_t n_syms, k;
	struct sym *out;

	for (i = 0; i < n_sh; i++)
		if (sh[i].sh_type == SHT_SYMTAB) {
			symtab = i;
			break;
		}
	if (!symtab)
		die("%s: no SHT_SYMTAB section", img_path);
	if (sh[symtab].sh_entsize != sizeof(Sym))
		die("%s: unexpected symtab entry size", img_path);
	syms = at(sh[symtab].sh_offset, sh[symtab].sh_size, "the symbol table");
	n_syms = sh[symtab].sh_size / sizeof(Sym);
	/* Section indexes past SHN_LORESERVE live in SHT_SYMTAB_SHNDX. */
	for (i = 0; i < n_sh; i++)
		if (sh[i].sh_type == SHT_SYMTAB_SHNDX && sh[i].sh_link == symtab) {
			if (sh[i].sh_size / sizeof(*xndx) < n_syms)
				die("%s: SHT_SYMTAB_SHNDX too small", img_path);
			xndx = at(sh[i].sh_offset, sh[i].sh_size, "extended section indexes");
		}

	*count = n_syms ? n_syms - 1 : 0;
	out = xcalloc(*count, sizeof(*out));
	for (k = 1; k < n_syms; k++) {
		const Sym *s = &syms[k];
		struct sym *o = &out[k - 1];
		uint32_t shndx = s->st_shndx;

		if (shndx == SHN_XINDEX) {
			if (!xndx)
				die("%s: SHN_XINDEX without SHT_SYMTAB_SHNDX", img_path);
			shndx = xndx[k];
		}
		switch (shndx) {
		case SHN_UNDEF: o->sec = "UND"; break;
		case SHN_ABS: o->sec = "ABS"; break;
		case SHN_COMMON: o->sec = "COM"; break;
		default:
			if (shndx >= n_sh)
				die("%s: symbol %zu: section index %" PRIu32 " out of range",
				    img_path, k, shndx);
			o->sec = str(shstr, sh[shndx].sh_name);
			if (!*o->sec)
				o->sec = "-";
		}
		o->name = str(sh[symtab].sh_link, s->st_name);
		if (!*o->name)
			o->name = "<noname>";
		o->addr = s->st_value;
		o->size = s->st_size;
		o->bind = ST_BIND(s->st_info);
		o->type = ST_TYPE(s->st_info);
	}
	return out;
}

static char bind_char(unsigned b)
{
	switch (b) {
	case STB_LOCAL: return 'L';
	case STB_GLOBAL: return 'G';
	case STB_WEAK: return 'W';
	default: return (char)('0' + (b % 10));
	}
}

static char type_char(unsigned t)
{
	switch (t) {
	case STT_NOTYPE: return 'N';
	case STT_OBJECT: return 'O';
	case STT_FUNC: return 'F';
	case STT_SECTION: return 'S';
	case STT_FILE: return 'f';
	default: return (char)('0' + (t % 10));
	}
}

static bool bookkeeping(const struct sym *s)
{
	return s->type == STT_FILE || s->type == STT_SECTION;
}

/* ---- comparison with kallsyms ------------------------------------------- */

/* One (address, name) of kallsyms; a multiset entry through count. */
struct ent {
	uint64_t addr;
	char *name;
	int owner;		/* index into owners; 0 = vmlinux */
	unsigned total;		/* occurrences in kallsyms */
	unsigned count;		/* of those, not yet matched by the image */
	struct ent *next;	/* hash chain */
};

struct name_ent {
	const char *name;
	struct name_ent *next;
};

#define NBUCKETS (1u << 18)

static uint64_t hash_str(const char *s, uint64_t h)
{
	while (*s)
		h = (h ^ (unsigned char)*s++) * 0x100000001b3ull;
	return h;
}

static uint64_t hash_pair(uint64_t addr, const char *name)
{
	return hash_str(name, (0xcbf29ce484222325ull ^ addr) * 0x100000001b3ull);
}

static char **owners;		/* owners[0] = "vmlinux" */
static int n_owners, cap_owners;

static int owner_index(const char *name)
{
	int i;

	for (i = 0; i < n_owners; i++)
		if (strcmp(owners[i], name) == 0)
			return i;
	if (n_owners == cap_owners) {
		cap_owners = cap_owners ? 2 * cap_owners : 64;
		owners = realloc(owners, (size_t)cap_owners * sizeof(*owners));
		if (!owners)
			die("out of memory");
	}
	owners[n_owners] = strdup(name);
	if (!owners[n_owners])
		die("out of memory");
	return n_owners++;
}

static void append(char *buf, size_t size, const char *word)
{
	size_t len = strlen(buf);

	snprintf(buf + len, size - len, " %s", word);
}

/* name, less the brackets of a "[pseudo-module]", equals want's. */
static bool same_owner(const char *name, size_t len, const char *want)
{
	if (len >= 2 && name[0] == '[' && name[len - 1] == ']') {
		name++;
		len -= 2;
	}
	return strlen(want) == len && strncmp(name, want, len) == 0;
}

/* Whether the image gives s the owner kallsyms gives it (want, bracketless):
 * a local's is file, the STT_FILE it follows; another's its section's
 * prefix. Symbols in no section cannot say: true. */
static bool owner_matches(const struct sym *s, const char *file, const char *want)
{
	const char *colon;

	if (s->bind == STB_LOCAL)
		return same_owner(file, strlen(file), want);
	if (!strcmp(s->sec, "ABS") || !strcmp(s->sec, "UND") || !strcmp(s->sec, "COM"))
		return true;
	colon = strchr(s->sec, ':');
	return colon ? same_owner(s->sec, (size_t)(colon - s->sec), want) : !strcmp(want, "vmlinux");
}

static int compare(const struct sym *syms, size_t n, const char *kallsyms, const char *mods)
{
	struct ent **tab = xcalloc(NBUCKETS, sizeof(*tab));
	struct name_ent **names = xcalloc(NBUCKETS, sizeof(*names));
	char line[4096], ex_missing[1024] = "", ex_extra[1024] = "";
	unsigned long n_missing = 0, n_extra = 0, n_name_hits = 0;
	int *load_pos, n_load = 0, i;
	bool *in_kallsyms, *in_image;
	FILE *f;
	size_t k;

	owner_index("vmlinux");
	/* -m: the modules in load order; load_pos[owner] = position or -1. */
	if (mods) {
		char *copy = strdup(mods), *tok, *save = NULL;

		for (tok = strtok_r(copy, " \t\n", &save); tok; tok = strtok_r(NULL, " \t\n", &save)) {
			owner_index(tok);
			n_load++;
		}
		free(copy);
	}

	/* kallsyms: "ADDR LETTER NAME[\t[MODULE]]" */
	f = fopen(kallsyms, "r");
	if (!f)
		die("cannot open %s: %s", kallsyms, strerror(errno));
	while (fgets(line, sizeof(line), f)) {
		char *save = NULL, *a = strtok_r(line, " \t\n", &save);
		char *letter = strtok_r(NULL, " \t\n", &save);
		char *name = strtok_r(NULL, " \t\n", &save);
		char *mod = strtok_r(NULL, " \t\n", &save);
		struct ent *e;
		uint64_t h, addr;
		int owner = 0;

		if (!a || !letter || !name)
			continue;
		addr = strtoull(a, NULL, 16);
		if (mod && mod[0] == '[') {
			mod[strcspn(mod, "]")] = '\0';
			owner = owner_index(mod + 1);
		}
		h = hash_pair(addr, name) & (NBUCKETS - 1);
		for (e = tab[h]; e; e = e->next)
			if (e->addr == addr && strcmp(e->name, name) == 0)
				break;
		if (e) {
			e->total++;
			e->count++;
			continue;
		}
		e = xcalloc(1, sizeof(*e));
		e->addr = addr;
		e->name = strdup(name);
		if (!e->name)
			die("out of memory");
		e->owner = owner;
		e->total = e->count = 1;
		e->next = tab[h];
		tab[h] = e;
	}
	fclose(f);

	load_pos = xcalloc((size_t)n_owners, sizeof(*load_pos));
	in_kallsyms = xcalloc((size_t)n_owners, sizeof(bool));
	in_image = xcalloc((size_t)n_owners, sizeof(bool));
	for (i = 0; i < n_owners; i++)
		load_pos[i] = (i >= 1 && i <= n_load) ? i - 1 : -1;
	for (k = 0; k < NBUCKETS; k++)
		for (struct ent *e = tab[k]; e; e = e->next)
			in_kallsyms[e->owner] = true;

	/* Image names, for "name hits". */
	for (k = 0; k < n; k++) {
		uint64_t h = hash_str(syms[k].name, 0xcbf29ce484222325ull) & (NBUCKETS - 1);
		struct name_ent *ne;

		if (bookkeeping(&syms[k]))
			continue;
		ne = xcalloc(1, sizeof(*ne));

		ne->name = syms[k].name;
		ne->next = names[h];
		names[h] = ne;
	}

	/* Walk the image in order, per class. */
	{
		int last[2] = { -1, -1 };
		unsigned long late[2] = { 0, 0 };
		bool mod_seen[2] = { false, false };
		bool *seen[2] = { xcalloc((size_t)n_owners, sizeof(bool)),
				  xcalloc((size_t)n_owners, sizeof(bool)) };
		static char order[2][8192], split[2][8192], want[2][8192];
		char absent[8192] = "", ex_sec[4096] = "", ex_own[4096] = "";
		static char files[65536];
		unsigned long n_sec_bad = 0, n_own_bad = 0;
		const char *cur_file = "vmlinux";

		for (k = 0; k < n; k++) {
			const struct sym *s = &syms[k];
			uint64_t h = hash_pair(s->addr, s->name) & (NBUCKETS - 1);
			int c = s->bind == STB_LOCAL ? 0 : 1;
			struct ent *e;

			if (s->type == STT_FILE) {
				append(files, sizeof(files), s->name);
				cur_file = s->name;
			}
			if (bookkeeping(s))
				continue;
			for (e = tab[h]; e; e = e->next)
				if (e->addr == s->addr && strcmp(e->name, s->name) == 0)
					break;
			if (!e || e->count == 0) {
				if (++n_extra <= 5) {
					char ex[300];

					snprintf(ex, sizeof(ex), "{%016" PRIx64 " %.256s}", s->addr, s->name);
					append(ex_extra, sizeof(ex_extra), ex);
				}
				if (!e)
					continue;
			} else {
				e->count--;
			}
			/* The section must name the owner kallsyms gives. */
			if (strcmp(s->sec, "ABS") && strcmp(s->sec, "UND") && strcmp(s->sec, "COM")) {
				const char *colon = strchr(s->sec, ':');
				const char *own = owners[e->owner];
				bool match = e->owner == 0 ? !colon :
					colon && (size_t)(colon - s->sec) == strlen(own) &&
					strncmp(s->sec, own, strlen(own)) == 0;

				if (!match && ++n_sec_bad <= 5) {
					char ex[800];

					snprintf(ex, sizeof(ex), "{%016" PRIx64 " %.256s %.256s %.256s}",
						 s->addr, s->name, s->sec, own);
					append(ex_sec, sizeof(ex_sec), ex);
				}
			}
			if (!owner_matches(s, cur_file, owners[e->owner]) && ++n_own_bad <= 5) {
				char ex[800];

				snprintf(ex, sizeof(ex), "{%016" PRIx64 " %.256s %.200s %.200s}", s->addr,
					 s->name, s->bind == STB_LOCAL ? cur_file : s->sec,
					 owners[e->owner]);
				append(ex_own, sizeof(ex_own), ex);
			}
			if (e->owner == 0 && mod_seen[c])
				late[c]++;
			if (load_pos[e->owner] >= 0) {
				mod_seen[c] = true;
				in_image[e->owner] = true;
			}
			if (e->owner != last[c]) {
				if (seen[c][e->owner])
					append(split[c], sizeof(split[c]), owners[e->owner]);
				seen[c][e->owner] = true;
				last[c] = e->owner;
				if (load_pos[e->owner] >= 0)
					append(order[c], sizeof(order[c]), owners[e->owner]);
			}
		}
		for (k = 0; k < NBUCKETS; k++)
			for (struct ent *e = tab[k]; e; e = e->next) {
				uint64_t h = hash_str(e->name, 0xcbf29ce484222325ull) & (NBUCKETS - 1);
				struct name_ent *ne;

				for (ne = names[h]; ne; ne = ne->next)
					if (strcmp(ne->name, e->name) == 0)
						break;
				if (ne)
					n_name_hits += e->total;
				if (e->count == 0)
					continue;
				if (n_missing < 5) {
					char ex[300];

					snprintf(ex, sizeof(ex), "{%016" PRIx64 " %.256s}", e->addr, e->name);
					append(ex_missing, sizeof(ex_missing), ex);
				}
				n_missing += e->count;
			}
		for (i = 1; i <= n_load; i++)
			for (int c = 0; c < 2; c++)
				if (seen[c][i])
					append(want[c], sizeof(want[c]), owners[i]);
		for (i = 1; i <= n_load; i++)
			if (in_kallsyms[i] && !in_image[i])
				append(absent, sizeof(absent), owners[i]);

		printf("missing: %lu\nextra: %lu\n", n_missing, n_extra);
		printf("missing examples:%s\nextra examples:%s\n", ex_missing, ex_extra);
		printf("name hits: %lu\n", n_name_hits);
		printf("files:%s\n", files);
		printf("section owner mismatches: %lu\n", n_sec_bad);
		printf("section owner examples:%s\n", ex_sec);
		printf("owner mismatches: %lu\n", n_own_bad);
		printf("owner examples:%s\n", ex_own);
		if (mods) {
			for (int c = 0; c < 2; c++) {
				char cl = c ? 'G' : 'L';

				printf("%c order:%s\n%c want:%s\n", cl, order[c], cl, want[c]);
				printf("%c late: %lu\n%c split:%s\n", cl, late[c], cl, split[c]);
			}
			printf("absent modules:%s\n", absent);
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	const char *kallsyms = NULL, *mods = NULL;
	struct sym *syms;
	size_t n, k;
	int opt, mode = 'l';

	while ((opt = getopt(argc, argv, "pcsk:m:")) != -1) {
		switch (opt) {
		case 'p': case 'c': case 's': mode = opt; break;
		case 'k': mode = 'k'; kallsyms = optarg; break;
		case 'm': mods = optarg; break;
		default: goto usage;
		}
	}
	if (optind != argc - 1 || (mods && mode != 'k'))
		goto usage;
	map_image(argv[optind]);

	if (mode == 's') {
		for (unsigned i = 0; i < n_sh; i++)
			printf("%u %s %u %016" PRIx64 " %" PRIu64 " %" PRIx64 "\n", i,
			       i ? str(shstr, sh[i].sh_name) : "-",
			       (unsigned)sh[i].sh_type, (uint64_t)sh[i].sh_addr,
			       (uint64_t)sh[i].sh_size, (uint64_t)sh[i].sh_flags);
		return 0;
	}
	syms = read_syms(&n);
	switch (mode) {
	case 'c': {
		size_t kernel = 0;

		for (k = 0; k < n; k++)
			kernel += !bookkeeping(&syms[k]);
		printf("%zu\n", kernel);
		break;
	}
	case 'k':
		compare(syms, n, kallsyms, mods);
		break;
	default:
		for (k = 0; k < n; k++) {
			if (mode == 'p' && bookkeeping(&syms[k]))
				continue;
			printf("%016" PRIx64 " %s", syms[k].addr, syms[k].name);
			if (mode == 'l')
				printf(" %c %c %" PRIu64 " %s", bind_char(syms[k].bind),
				       type_char(syms[k].type), syms[k].size, syms[k].sec);
			putchar('\n');
		}
	}
	if (fflush(stdout) != 0)
		die("write error: %s", strerror(errno));
	return 0;
usage:
	fprintf(stderr, "usage: %s [-p|-c|-s] ELF-FILE\n"
			"       %s -k KALLSYMS [-m \"MODULE...\"] ELF-FILE\n", prog, prog);
	return 2;
}
