/* SPDX-License-Identifier: BSD-2-Clause */
#pragma once

#include <malloc.h>

/*
 * glibc's malloc, set up for a daemon that builds snapshots on many threads.
 *
 * A snapshot build allocates tables that grow with the symbol count (the
 * parsed kallsyms, the model, the string table: ~14 MB touched for 100k
 * symbols) and frees them once the image is sealed. By default glibc mmaps
 * blocks of 128 KiB and more, but the first time such a block is freed it
 * raises that threshold to the block's size (up to 32 MiB) and its trim
 * threshold to twice that: from then on every build's tables come from the
 * arena of the thread that builds, and freeing them returns nothing to the
 * kernel. Each arena (up to 8 per CPU) then keeps the most its threads ever
 * had allocated at once, and an idle daemon stays at about (builds at once)
 * x (one build's tables): ~200 MB for 102k symbols and 10-16 threads
 * (bench/soak --no-tune).
 *
 * Setting the threshold fixes it at glibc's own default and turns the
 * adjustment off, for the trim threshold too (it stays at 128 KiB): a
 * build's tables are mapped for it and unmapped when it ends, so an idle
 * daemon is back near its startup size (bench/soak: +10 MB, the small
 * chunks left in the arenas and the cached image). The price is a page
 * fault per 4 KiB of those tables at every build (~3,000 for 102k symbols).
 * The number of arenas needs no limit once they hold only small chunks.
 *
 * Call it first, before anything is freed: ksymsd's main(), bench/soak.
 */
#define KS_MMAP_THRESHOLD (128 * 1024)

static inline void ks_malloc_tune(void)
{
	mallopt(M_MMAP_THRESHOLD, KS_MMAP_THRESHOLD);
}
