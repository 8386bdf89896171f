/* SPDX-License-Identifier: BSD-2-Clause */
#pragma once

#include <malloc.h>

/*
 * glibc's malloc, set up for a daemon that builds snapshots on many threads.
 *
 * A snapshot build allocates tables that grow with the symbol count (the
 * parsed kallsyms, the model, the string table) and frees them once the
 * image is sealed. By default glibc mmaps large blocks, but the first time
 * such a block is freed it raises its mmap threshold to the block's size,
 * and its trim threshold to twice that: from then on every build's tables
 * come from the arena of the thread that builds, and freeing them returns
 * nothing to the kernel. Each arena then keeps the most its threads ever
 * had allocated at once, and an idle daemon stays at (builds at once) x
 * (one build's tables) (bench/soak --no-tune shows it).
 *
 * Setting the threshold fixes it at glibc's own default and turns the
 * adjustment off, for the trim threshold too: a build's tables are mapped
 * for it and unmapped when it ends, so an idle daemon is back near its
 * startup size. The price is a page fault per page of those tables at
 * every build (README, "Memory"). The number of arenas needs no limit once
 * they hold only small chunks.
 *
 * Call it first, before anything is freed: ksymsd's main(), bench/soak.
 */
#define KS_MMAP_THRESHOLD (128 * 1024)

static inline void ks_malloc_tune(void)
{
	mallopt(M_MMAP_THRESHOLD, KS_MMAP_THRESHOLD);
}
