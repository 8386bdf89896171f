/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Lookups by name and by address in a ksyms ELF image held in memory.
 *
 * The image may come from a client's memory (libksyms), so nothing in it is
 * trusted: every offset and size is checked against the buffer before it is
 * followed, and a malformed image is -EINVAL, never a read out of bounds.
 * libelf parses the headers and converts the symbols of either class and
 * byte order; it only reads the buffer (elf_memory() takes a non-const
 * pointer, but nothing here asks libelf to write: the tests run on a
 * read-only mapping to keep that true).
 *
 * Names: an open-addressing hash table with one slot per distinct name,
 * holding the symbol NetBSD's lookup would return (the first global, else
 * the first weak, else the first local), so a lookup is one probe sequence.
 *
 * Addresses: the symbols sorted by (value, extent) and grouped by value.
 * A lookup finds the last group at or below the address by binary search;
 * if no symbol there covers it, an enclosing symbol can only be one that
 * also covers that group's value, so each group links to the nearest
 * earlier group reaching past its value, and the search follows those
 * links. For the disjoint or properly nested symbols of a kernel that is
 * O(log n) plus the nesting depth.
 *
 * The index keeps the Elf handle and points into the image (names, and the
 * symbols themselves when no byte swapping was needed): the image must
 * outlive it. Lookups only read, so any number of threads may share one.
 */
#include "symindex.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define NONE UINT32_MAX

struct ks_slot {
	uint32_t tag;		/* high half of the name's hash */
	uint32_t sym;		/* symbol table index; 0 (the null symbol) if empty */
};

/*
 * One symbol in address order; those of equal value (a group) follow one
 * another, by increasing extent. A symbol's extent is st_size, or 1 for
 * size 0, which then matches its own address only. Value and extent are
 * copied here so that neither sorting nor searching reads the symbols.
 */
struct ks_aent {
	uint64_t value;
	uint64_t extent;
	uint32_t sym;		/* symbol table index */
	uint32_t best;		/* best-ranked of this and the later ones of its group */
};

/* For the last entry of each group, the one a search lands on. */
struct ks_link {
	uint32_t start;		/* the group's first entry */
	uint32_t up;		/* last entry of the nearest earlier group reaching
				 * past this value, or NONE */
};

struct ks_symindex {
	/* Kept open: symbols are read through it, in place when the image
	 * is of the host's byte order, rather than copied. */
	Elf *elf;
	Elf_Data *symdata;
	bool is64;		/* symdata holds Elf64_Syms, else Elf32_Syms */
	const char *strtab;	/* in the image */
	size_t nsyms;
	struct ks_slot *slots;
	size_t mask;
	struct ks_aent *aents;
	struct ks_link *links;	/* parallel to aents */
};

/*
 * Symbol i, read straight from the table libelf hands out: elf_getdata()
 * gives it in the host's byte order and aligned, as an array of ElfN_Sym.
 * gelf_getsym() would do the same with a call and checks per symbol, which
 * showed in the build time. i was checked against the table when indexed.
 */
static GElf_Sym sym_at(const struct ks_symindex *idx, uint32_t i)
{
	const Elf64_Sym *s64;
	const Elf32_Sym *s32;

	if (idx->is64) {
		s64 = (const Elf64_Sym *)idx->symdata->d_buf + i;
		return (GElf_Sym){
			.st_name = s64->st_name, .st_info = s64->st_info,
			.st_other = s64->st_other, .st_shndx = s64->st_shndx,
			.st_value = s64->st_value, .st_size = s64->st_size,
		};
	}
	s32 = (const Elf32_Sym *)idx->symdata->d_buf + i;
	return (GElf_Sym){
		.st_name = s32->st_name, .st_info = s32->st_info,
		.st_other = s32->st_other, .st_shndx = s32->st_shndx,
		.st_value = s32->st_value, .st_size = s32->st_size,
	};
}

static unsigned bind_rank(unsigned char info)
{
	switch (GELF_ST_BIND(info)) {
	case STB_GLOBAL:
	case STB_GNU_UNIQUE:
		return 2;
	case STB_WEAK:
		return 1;
	default:
		return 0;
	}
}

/* Is symbol a preferred over b? Higher rank, then earlier in the table
 * (the kernel before modules, modules in load order). */
static bool better(const struct ks_symindex *idx, uint32_t a, uint32_t b)
{
	unsigned ra = bind_rank(sym_at(idx, a).st_info), rb = bind_rank(sym_at(idx, b).st_info);

	return ra != rb ? ra > rb : a < b;
}

/* Word-at-a-time: hashing ~120,000 names byte by byte would cost more than
 * the rest of the build. Host byte order only matters within a process. */
static uint64_t hash_name(const char *s, size_t len)
{
	uint64_t h = 0x9e3779b97f4a7c15ull ^ len, w = 0;

	for (; len >= 8; s += 8, len -= 8) {
		memcpy(&w, s, 8);
		h = (h ^ w) * 0xff51afd7ed558ccdull;
		h ^= h >> 32;
	}
	/* The tail, without a call to a variable-length memcpy(). */
	w = 0;
	for (size_t k = 0; k < len; k++)
		w |= (uint64_t)(unsigned char)s[k] << (8 * k);
	h = (h ^ w) * 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 29;
	h *= 0x94d049bb133111ebull;
	return h ^ (h >> 32);
}

static void name_insert(struct ks_symindex *idx, uint32_t i, const char *name, uint64_t h)
{
	uint32_t tag = (uint32_t)(h >> 32);
	struct ks_slot *slot;

	for (size_t pos = h & idx->mask;; pos = (pos + 1) & idx->mask) {
		slot = &idx->slots[pos];
		if (!slot->sym) {
			slot->tag = tag;
			slot->sym = i;
			return;
		}
		if (slot->tag == tag &&
		    strcmp(idx->strtab + sym_at(idx, slot->sym).st_name, name) == 0) {
			if (better(idx, i, slot->sym))
				slot->sym = i;
			return;
		}
	}
}

/* By value, then extent, then table order. */
static int cmp_aent(const void *pa, const void *pb)
{
	const struct ks_aent *a = pa, *b = pb;

	if (a->value != b->value)
		return a->value < b->value ? -1 : 1;
	if (a->extent != b->extent)
		return a->extent < b->extent ? -1 : 1;
	return a->sym < b->sym ? -1 : a->sym > b->sym;
}

/* Merge the sorted runs [run[k], run[k + 1]) pairwise from a into b,
 * halving their number. */
static void merge_runs(const struct ks_aent *a, struct ks_aent *b, size_t *run,
		       size_t *nruns)
{
	size_t k, out = 0, i, j, end, o;

	for (k = 0; k + 1 < *nruns; k += 2) {
		i = run[k];
		j = run[k + 1];
		end = k + 2 < *nruns ? run[k + 2] : run[*nruns];
		o = i;
		while (i < run[k + 1] && j < end)
			b[o++] = a[j].value < a[i].value ? a[j++] : a[i++];
		memcpy(b + o, a + i, (run[k + 1] - i) * sizeof(*a));
		o += run[k + 1] - i;
		memcpy(b + o, a + j, (end - j) * sizeof(*a));
		run[out++] = run[k];
	}
	if (k < *nruns) {	/* an odd one out */
		memcpy(b + run[k], a + run[k], (run[k + 1] - run[k]) * sizeof(*a));
		run[out++] = run[k];
	}
	run[out] = run[*nruns];
	*nruns = out;
}

/*
 * qsort() of ~120,000 entries would take most of the build, so, by value:
 * when the table is a few sorted runs (kallsyms lists addresses in order;
 * ELF puts the locals first), a merge, one sequential pass per halving;
 * otherwise an LSD radix sort over just the bits that differ (31 of a
 * kernel's 64), 11 at a time. Then the few aliases of each value by
 * extent. Returns the sorted array, which is a or tmp.
 */
#define MAX_RUNS 8
#define RADIX_BITS 11

static struct ks_aent *sort_aents(struct ks_aent *a, size_t n, struct ks_aent *tmp)
{
	uint64_t and = UINT64_MAX, or = 0, diff = 0;
	uint32_t count[1u << RADIX_BITS];
	size_t run[MAX_RUNS + 1], nruns = 1, pos, c;
	struct ks_aent *t;
	unsigned shift;

	run[0] = 0;
	for (size_t i = 0; i < n; i++) {
		and &= a[i].value;
		or |= a[i].value;
		if (i && a[i].value < a[i - 1].value) {
			if (nruns < MAX_RUNS)
				run[nruns] = i;
			nruns++;
		}
	}
	if (nruns <= MAX_RUNS) {
		run[nruns] = n;
		while (nruns > 1) {
			merge_runs(a, tmp, run, &nruns);
			t = a, a = tmp, tmp = t;
		}
		shift = 64;
	} else {
		diff = and ^ or;
		shift = (unsigned)__builtin_ctzll(diff);	/* diff != 0: unsorted */
	}
	for (; shift < 64 && diff >> shift; shift += RADIX_BITS) {
		memset(count, 0, sizeof(count));
		for (size_t i = 0; i < n; i++)
			count[(a[i].value >> shift) & ((1u << RADIX_BITS) - 1)]++;
		pos = 0;
		for (size_t d = 0; d < (1u << RADIX_BITS); d++) {
			c = count[d];
			count[d] = (uint32_t)pos;
			pos += c;
		}
		for (size_t i = 0; i < n; i++)
			tmp[count[(a[i].value >> shift) & ((1u << RADIX_BITS) - 1)]++] = a[i];
		t = a, a = tmp, tmp = t;
	}
	for (size_t i = 0, j; i < n; i = j) {
		for (j = i + 1; j < n && a[j].value == a[i].value; j++)
			;
		if (j - i > 1)	/* aliases: few, and rarely more than two */
			qsort(a + i, j - i, sizeof(*a), cmp_aent);
	}
	return a;
}

/* One past the last address entry a covers, capped. */
static uint64_t end_of(const struct ks_aent *a)
{
	return a->extent > UINT64_MAX - a->value ? UINT64_MAX : a->value + a->extent;
}

/* aents holds (value, extent, sym) in table order. */
static int build_addr_index(struct ks_symindex *idx, struct ks_error *err)
{
	size_t n = idx->nsyms, top = 0, start = 0;
	struct ks_aent *a, *tmp;
	struct ks_link *links, *shrunk;
	uint32_t *stack;

	tmp = malloc((n ? n : 1) * sizeof(*tmp));
	if (!tmp)
		return ks_error_set(err, ENOMEM, "out of memory");
	a = sort_aents(idx->aents, n, tmp);
	if (a == tmp) {
		tmp = idx->aents;
		idx->aents = a;
	}

	/* Within each group, the best symbol of every suffix: the symbols
	 * long enough to cover an address form a suffix. */
	for (size_t i = n; i-- > 0;) {
		a[i].best = a[i].sym;
		if (i + 1 < n && a[i + 1].value == a[i].value && better(idx, a[i + 1].best, a[i].sym))
			a[i].best = a[i + 1].best;
	}

	/* The sort's scratch space, already in memory, holds the links and
	 * a stack (8 + 4 bytes an entry, of 24), then shrinks to the links. */
	links = (struct ks_link *)tmp;
	stack = (uint32_t *)(links + n);

	/* up: the greatest earlier group whose end lies past this value. A
	 * group ending at or before it ends before every later value too, so
	 * it can be dropped for good: a stack gives them all in O(n). */
	for (size_t i = 0; i < n; i++) {
		if (i + 1 < n && a[i + 1].value == a[i].value)
			continue;
		while (top && end_of(&a[stack[top - 1]]) <= a[i].value)
			top--;
		links[i].start = (uint32_t)start;
		links[i].up = top ? stack[top - 1] : NONE;
		stack[top++] = (uint32_t)i;
		start = i + 1;
	}
	shrunk = realloc(links, (n ? n : 1) * sizeof(*links));
	idx->links = shrunk ? shrunk : links;
	return 0;
}

static int bad(struct ks_error *err, const char *what)
{
	return ks_error_set(err, EINVAL, "malformed ksyms image: %s", what);
}

/* Is [off, off + len) inside an image of size bytes? */
static bool in_image(uint64_t off, uint64_t len, size_t size)
{
	return off <= size && len <= size - off;
}

static int check_ident(const unsigned char *id, size_t size, struct ks_error *err)
{
	if (size < EI_NIDENT || memcmp(id, ELFMAG, SELFMAG) != 0)
		return bad(err, "not an ELF file");
	if (id[EI_CLASS] != ELFCLASS32 && id[EI_CLASS] != ELFCLASS64)
		return bad(err, "unknown ELF class");
	if (id[EI_DATA] != ELFDATA2LSB && id[EI_DATA] != ELFDATA2MSB)
		return bad(err, "unknown byte order");
	if (id[EI_VERSION] != EV_CURRENT)
		return bad(err, "unknown ELF version");
	if (size < (id[EI_CLASS] == ELFCLASS32 ? sizeof(Elf32_Ehdr) : sizeof(Elf64_Ehdr)))
		return bad(err, "truncated ELF header");
	return 0;
}

/* Check every section header, and find the symbol table and its strings. */
static int find_tables(Elf *elf, size_t size, Elf_Scn **symscn, GElf_Shdr *symsh,
		       GElf_Shdr *strsh, struct ks_error *err)
{
	size_t shnum, symndx = 0, shentsize;
	GElf_Ehdr eh;
	Elf_Scn *scn;
	GElf_Shdr sh;

	if (!gelf_getehdr(elf, &eh) || elf_getshdrnum(elf, &shnum) != 0)
		return bad(err, elf_errmsg(-1));
	shentsize = gelf_fsize(elf, ELF_T_SHDR, 1, EV_CURRENT);
	if (shnum == 0)
		return bad(err, "no sections");
	if (eh.e_shentsize != shentsize)
		return bad(err, "wrong section header size");
	if (shnum > SIZE_MAX / shentsize || !in_image(eh.e_shoff, shnum * shentsize, size))
		return bad(err, "section headers outside the image");

	for (size_t i = 1; i < shnum; i++) {
		scn = elf_getscn(elf, i);
		if (!scn || !gelf_getshdr(scn, &sh))
			return bad(err, "unreadable section header");
		if (sh.sh_type != SHT_NOBITS && !in_image(sh.sh_offset, sh.sh_size, size))
			return bad(err, "section outside the image");
		if (sh.sh_type == SHT_SYMTAB && !symndx) {
			symndx = i;
			*symscn = scn;
			*symsh = sh;
		}
	}
	if (!symndx)
		return bad(err, "no symbol table");
	if (symsh->sh_entsize != gelf_fsize(elf, ELF_T_SYM, 1, EV_CURRENT) ||
	    symsh->sh_size % symsh->sh_entsize != 0)
		return bad(err, "wrong symbol size");
	if (symsh->sh_size / symsh->sh_entsize >= NONE)
		return bad(err, "too many symbols");
	if (symsh->sh_link == 0 || symsh->sh_link >= shnum || symsh->sh_link == symndx)
		return bad(err, "symbol table links to no string table");
	scn = elf_getscn(elf, symsh->sh_link);
	if (!scn || !gelf_getshdr(scn, strsh) || strsh->sh_type != SHT_STRTAB)
		return bad(err, "symbol table links to no string table");
	return 0;
}

#define AHEAD 8		/* a power of two */

/*
 * One pass over the symbol table: check each symbol, and enter it in both
 * indexes. The name table is megabytes and each insert lands at random in
 * it, so names are hashed AHEAD symbols early and their slots prefetched:
 * the cache misses overlap instead of following one another.
 */
static int index_symbols(struct ks_symindex *idx, size_t count, uint64_t strsz,
			 struct ks_error *err)
{
	struct {
		uint64_t hash;
		const char *name;
		uint32_t sym;
	} ring[AHEAD], *r;
	size_t cap, n = 0;
	GElf_Sym s;

	/* Power of two, at most half full: short probe sequences. */
	for (cap = 16; cap < 2 * count; cap *= 2)
		;
	idx->slots = calloc(cap, sizeof(*idx->slots));
	idx->aents = malloc((count ? count : 1) * sizeof(*idx->aents));
	if (!idx->slots || !idx->aents)
		return ks_error_set(err, ENOMEM, "out of memory");
	idx->mask = cap - 1;

	/* Symbol 0 is the null symbol. */
	for (size_t i = 1; i < count; i++) {
		s = sym_at(idx, (uint32_t)i);
		if (s.st_name >= strsz)
			return ks_error_set(err, EINVAL,
					    "malformed ksyms image: symbol %zu: name outside the string table",
					    i);
		/* Section and file symbols name no kernel object; a nameless
		 * symbol could be found by no one. */
		if (GELF_ST_TYPE(s.st_info) == STT_SECTION ||
		    GELF_ST_TYPE(s.st_info) == STT_FILE || !idx->strtab[s.st_name])
			continue;
		idx->aents[n] = (struct ks_aent){
			.value = s.st_value,
			.extent = s.st_size ? s.st_size : 1,
			.sym = (uint32_t)i,
		};
		r = &ring[n++ % AHEAD];
		if (n > AHEAD)	/* the symbol AHEAD before this one */
			name_insert(idx, r->sym, r->name, r->hash);
		r->sym = (uint32_t)i;
		r->name = idx->strtab + s.st_name;
		r->hash = hash_name(r->name, strlen(r->name));
		__builtin_prefetch(&idx->slots[r->hash & idx->mask], 1);
	}
	for (size_t k = n > AHEAD ? n - AHEAD : 0; k < n; k++)
		name_insert(idx, ring[k % AHEAD].sym, ring[k % AHEAD].name, ring[k % AHEAD].hash);
	idx->nsyms = n;
	return 0;
}

static int build(struct ks_symindex *idx, const void *image, size_t size,
		 struct ks_error *err)
{
	GElf_Shdr symsh = { 0 }, strsh = { 0 };
	Elf_Scn *symscn = NULL;
	int r;

	r = check_ident(image, size, err);
	if (r)
		return r;
	if (elf_version(EV_CURRENT) == EV_NONE)
		return ks_error_set(err, EINVAL, "libelf: %s", elf_errmsg(-1));
	/* libelf reads only: see the top of the file. */
	idx->elf = elf_memory((char *)image, size);
	if (!idx->elf)
		return bad(err, elf_errmsg(-1));
	if (elf_kind(idx->elf) != ELF_K_ELF)
		return bad(err, "not an ELF object");
	r = find_tables(idx->elf, size, &symscn, &symsh, &strsh, err);
	if (r)
		return r;
	/* A string table ending in NUL bounds every name in it. */
	idx->strtab = (const char *)image + strsh.sh_offset;
	if (strsh.sh_size == 0 || idx->strtab[strsh.sh_size - 1] != '\0')
		return bad(err, "string table not terminated");
	idx->symdata = elf_getdata(symscn, NULL);
	idx->is64 = gelf_getclass(idx->elf) == ELFCLASS64;
	/* The entry size was checked to be the class's symbol size, which is
	 * the same in memory as in the file. */
	if (!idx->symdata || idx->symdata->d_type != ELF_T_SYM ||
	    idx->symdata->d_size != symsh.sh_size || !idx->symdata->d_buf)
		return bad(err, "unreadable symbol table");

	r = index_symbols(idx, symsh.sh_size / symsh.sh_entsize, strsh.sh_size, err);
	return r ? r : build_addr_index(idx, err);
}

int ks_symindex_new(const void *image, size_t size, struct ks_symindex **out,
		    struct ks_error *err)
{
	struct ks_symindex *idx;
	int r;

	*out = NULL;
	if (!image)
		return bad(err, "no image");
	idx = calloc(1, sizeof(*idx));
	if (!idx)
		return ks_error_set(err, ENOMEM, "out of memory");
	r = build(idx, image, size, err);
	if (r) {
		ks_symindex_free(idx);
		return r;
	}
	*out = idx;
	return 0;
}

void ks_symindex_free(struct ks_symindex *idx)
{
	if (!idx)
		return;
	free(idx->slots);
	free(idx->aents);
	free(idx->links);
	elf_end(idx->elf);
	free(idx);
}

size_t ks_symindex_count(const struct ks_symindex *idx)
{
	return idx->nsyms;
}

int ks_symindex_lookup_name(const struct ks_symindex *idx, const char *name, GElf_Sym *sym)
{
	uint64_t h = hash_name(name, strlen(name));
	uint32_t tag = (uint32_t)(h >> 32);
	const struct ks_slot *slot;
	GElf_Sym s;

	for (size_t pos = h & idx->mask;; pos = (pos + 1) & idx->mask) {
		slot = &idx->slots[pos];
		if (!slot->sym)
			return -ENOENT;
		if (slot->tag != tag)
			continue;
		s = sym_at(idx, slot->sym);
		if (strcmp(idx->strtab + s.st_name, name) == 0) {
			if (sym)
				*sym = s;
			return 0;
		}
	}
}

int ks_symindex_lookup_addr(const struct ks_symindex *idx, uint64_t addr, GElf_Sym *sym,
			    const char **name, uint64_t *offset)
{
	const struct ks_aent *a = idx->aents;
	size_t lo = 0, hi = idx->nsyms;
	uint32_t i;
	GElf_Sym s;
	uint64_t d;

	/* The last entry whose value is <= addr: the last of its group. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (a[mid].value <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return -ENOENT;

	for (i = (uint32_t)(lo - 1); i != NONE; i = idx->links[i].up) {
		d = addr - a[i].value;
		if (d >= a[i].extent)
			continue;	/* not even the group's longest covers addr */
		/* The first of the group long enough: extents increase. */
		lo = idx->links[i].start;
		hi = i;
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;

			if (a[mid].extent > d)
				hi = mid;
			else
				lo = mid + 1;
		}
		s = sym_at(idx, a[lo].best);
		if (sym)
			*sym = s;
		if (name)
			*name = idx->strtab + s.st_name;
		if (offset)
			*offset = d;
		return 0;
	}
	return -ENOENT;
}
