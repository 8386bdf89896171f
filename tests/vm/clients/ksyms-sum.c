/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ksyms-sum < READELF-OUTPUT: "COUNT SUM" (as ksyms-read prints it) of the
 * symbol lines of `readelf -sW` or `eu-readelf -s` output, both of which
 * read "NUM: VALUE SIZE TYPE BIND VIS NDX [NAME]". Entry 0 is left out, as
 * the clients leave it out. C rather than busybox awk, which takes seconds
 * for 100k lines on an emulated CPU.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;

	while (n--)
		h = (h ^ *b++) * 0x100000001b3ull;
	return h;
}

int main(void)
{
	uint64_t h = 0xcbf29ce484222325ull, value;
	char line[8192], name[4096];
	unsigned long num;
	size_t n = 0;

	while (fgets(line, sizeof(line), stdin)) {
		unsigned char v[8];
		int f;

		name[0] = '\0';
		f = sscanf(line, " %lu: %" SCNx64 " %*s %*s %*s %*s %*s %4095s", &num, &value, name);
		if (f < 2 || num == 0)
			continue;
		for (int b = 0; b < 8; b++)
			v[b] = (unsigned char)(value >> (8 * b));
		h = fnv(fnv(h, name, strlen(name) + 1), v, 8);
		n++;
	}
	printf("%zu %016" PRIx64 "\n", n, h);
	return 0;
}
