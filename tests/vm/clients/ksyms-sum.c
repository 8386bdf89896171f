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

#include "symsum.h"

int main(void)
{
	uint64_t h = SYMSUM_INIT, value;
	char line[8192], name[4096];
	unsigned long num;
	size_t n = 0;

	while (fgets(line, sizeof(line), stdin)) {
		int f;

		name[0] = '\0';
		f = sscanf(line, " %lu: %" SCNx64 " %*s %*s %*s %*s %*s %4095s", &num, &value, name);
		if (f < 2 || num == 0)
			continue;
		h = symsum_add(h, name, value);
		n++;
	}
	printf("%zu %016" PRIx64 "\n", n, h);
	return 0;
}
