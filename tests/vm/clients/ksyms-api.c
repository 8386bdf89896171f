/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ksyms-api [-k KALLSYMS] [DEVICE]: libksyms on the device.
 *   prints "COUNT SUM" of ksyms_addr()'s image (as ksyms-read prints it),
 *   then "key: value" lines:
 *     fd: N             symbols libelf finds through elf_begin() on
 *                       ksyms_fd() with ELF_C_READ_MMAP
 *     second open: E    errno name of a second ksyms_open() in this process
 *                       (EBUSY: the BSD rule of one open per process)
 *   with -k, a copy of /proc/kallsyms taken with the same modules loaded:
 *     lines: N          its lines
 *     addr misses: N    lines whose address ksyms_lookup_addr() does not
 *                       resolve to a symbol starting there
 *     name misses: N    lines whose name ksyms_lookup_name() does not know
 *     module misses: N  [module] lines whose name resolves to a symbol of
 *                       another owner although that module has the name
 *                       (checked on names unique in the file)
 * Exit status 0; 1 with a message on any error.
 */
#include <errno.h>
#include <gelf.h>

#include "symsum.h"
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libksyms.h>

/* Name occurrences in the kallsyms copy, for "unique" (a small table). */
static size_t count_name(char **names, size_t n, const char *name)
{
	size_t c = 0;

	for (size_t i = 0; i < n && c < 2; i++)
		c += strcmp(names[i], name) == 0;
	return c;
}

static int check_kallsyms(struct ksyms *k, const char *path)
{
	size_t lines = 0, addr_miss = 0, name_miss = 0, mod_miss = 0, nmods = 0, cap = 0;
	char line[1024], **mod_names = NULL, **mod_tags = NULL;
	FILE *f = fopen(path, "r");
	struct ksyms_sym s;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		char name[512], tag[256] = "", letter;
		uint64_t addr;
		int fields = sscanf(line, "%" SCNx64 " %c %511s [%255[^]]", &addr, &letter, name, tag);

		if (fields < 3)
			continue;
		lines++;
		if (ksyms_lookup_addr(k, addr, &s, NULL) != 0 || s.value != addr)
			addr_miss++;
		if (ksyms_lookup_name(k, name, &s) != 0) {
			name_miss++;
		} else if (fields == 4) {
			if (nmods == cap) {
				cap = cap ? 2 * cap : 1024;
				mod_names = realloc(mod_names, cap * sizeof(*mod_names));
				mod_tags = realloc(mod_tags, cap * sizeof(*mod_tags));
			}
			mod_names[nmods] = strdup(name);
			mod_tags[nmods++] = strdup(tag);
		}
	}
	fclose(f);
	/* Module symbols whose name is unique among module symbols (the
	 * kernel may still have it: NetBSD's order may prefer it). */
	for (size_t i = 0; i < nmods; i++) {
		if (count_name(mod_names, nmods, mod_names[i]) != 1)
			continue;
		if (ksyms_lookup_name(k, mod_names[i], &s) == 0 && s.module &&
		    strcmp(s.module, mod_tags[i]) != 0 && strcmp(s.module, "vmlinux") != 0)
			mod_miss++;
	}
	for (size_t i = 0; i < nmods; i++) {
		free(mod_names[i]);
		free(mod_tags[i]);
	}
	free(mod_names);
	free(mod_tags);
	printf("lines: %zu\naddr misses: %zu\nname misses: %zu\nmodule misses: %zu\n",
	       lines, addr_miss, name_miss, mod_miss);
	return 0;
}

int main(int argc, char **argv)
{
	const char *kallsyms = NULL, *path = NULL;
	struct ksyms *k, *k2;
	Elf *e;
	int c;

	while ((c = getopt(argc, argv, "k:")) != -1) {
		if (c != 'k') {
			fprintf(stderr, "usage: ksyms-api [-k KALLSYMS] [DEVICE]\n");
			return 2;
		}
		kallsyms = optarg;
	}
	if (optind < argc)
		path = argv[optind];
	k = ksyms_open(path, 0);
	if (!k) {
		fprintf(stderr, "ksyms-api: ksyms_open: %s\n", strerror(errno));
		return 1;
	}
	elf_version(EV_CURRENT);
	e = elf_memory((char *)ksyms_addr(k), ksyms_size(k));
	if (!e || symsum_elf(e, 1) < 0)
		return 1;
	elf_end(e);
	e = elf_begin(ksyms_fd(k), ELF_C_READ_MMAP, NULL);
	printf("fd: %ld\n", e ? symsum_elf(e, 0) : -1L);
	elf_end(e);
	k2 = ksyms_open(path, 0);
	printf("second open: %s\n", k2 ? "ok" : errno == EBUSY ? "EBUSY" : strerror(errno));
	ksyms_close(k2);
	if (kallsyms && check_kallsyms(k, kallsyms) < 0) {
		fprintf(stderr, "ksyms-api: %s: %s\n", kallsyms, strerror(errno));
		return 1;
	}
	ksyms_close(k);
	return 0;
}
