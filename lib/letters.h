/* SPDX-License-Identifier: BSD-2-Clause */
#pragma once

#include <gelf.h>
#include <stdbool.h>

/*
 * The /proc/kallsyms type letter of an image's symbol (hidden in libksyms).
 *
 * ksymsd maps letters to ELF as nm would (README, src/engine/model.c), and
 * that loses some of them: D, R, B, G, S, C and V are all STT_OBJECT, and a
 * weak symbol keeps no case. What is left is derived here from the
 * symbol's section: the kernel's .bss and .brk and any module section
 * named .bss* are b, a writable section d, any other r (for a module, as
 * its own ELF has them where ksymsd's flags differ: letters.c); an object
 * outside every section d for the kernel, r for a module (its notes).
 * Exact: T t, A a, and the case of every non-weak letter.
 */

/* Is c a letter /proc/kallsyms can show? */
bool ksi_letter_valid(char c);

/* The letter for sym, whose section is sh (NULL for SHN_ABS and other
 * special indexes) named secname ("" if none); kernel: the owner is
 * vmlinux (its weak symbols are W and V, everyone else's w and v). */
char ksi_letter_derive(const GElf_Sym *sym, const GElf_Shdr *sh, const char *secname, bool kernel);
