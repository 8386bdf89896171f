/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ksyms kallsyms: the image back as /proc/kallsyms text, for tools that
 * only read that (perf report --kallsyms, crash, older scripts).
 *
 * The kernel lists its own symbols by address, then each module's in the
 * module's own symbol table order, newest module first, then the dynamic
 * code (bpf, ftrace, kprobes). The image keeps no module's internal order
 * and holds modules oldest first, so here: the kernel's by address, the
 * modules newest first, each by address, then the pseudo-modules in the
 * image's order; aliases at one address in table order (locals first).
 * The lines are the kernel's; only their order may differ (ksyms(1)).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "ksyms.h"

struct line {
	uint64_t value;
	uint32_t rank; /* the owner's place in kallsyms' order */
	uint32_t idx;  /* table index: ties keep table order */
	uint32_t owner;
};

static int cmp_line(const void *pa, const void *pb)
{
	const struct line *a = pa, *b = pb;

	if (a->rank != b->rank)
		return a->rank < b->rank ? -1 : 1;
	if (a->value != b->value)
		return a->value < b->value ? -1 : 1;
	return (a->idx > b->idx) - (a->idx < b->idx);
}

/* Each owner's rank: kernel 0, modules newest first, pseudo-modules last. */
static uint32_t *owner_ranks(struct ksyms *k, long nowners)
{
	uint32_t *rank = malloc(((size_t)nowners + 1) * sizeof(*rank)), next = 0;
	const struct ksyms_owner *o;

	if (!rank)
		return NULL;
	for (int kind = KSYMS_OWNER_KERNEL; kind <= KSYMS_OWNER_PSEUDO; kind++) {
		for (long j = 0; j < nowners; j++) {
			long i = kind == KSYMS_OWNER_MODULE ? nowners - 1 - j : j;

			if (!(o = ksyms_owner(k, (size_t)i))) {
				free(rank);
				return NULL;
			}
			if (o->kind == kind)
				rank[i] = next++;
		}
	}
	return rank;
}

int ksy_cmd_kallsyms(struct ksy *c, int argc, char **argv)
{
	long count = ksyms_count(c->k), nowners = ksyms_owner_count(c->k);
	struct line *lines = NULL;
	uint32_t *rank = NULL;
	int status = KSY_FAILED;
	struct ksyms_sym s;

	(void)argv;
	if (argc > 0)
		return ksy_usage_error("kallsyms takes no arguments");
	if (count < 0 || nowners < 0)
		goto fail;
	lines = malloc(((size_t)count + 1) * sizeof(*lines));
	rank = owner_ranks(c->k, nowners);
	if (!lines || !rank)
		goto fail;
	for (long i = 0; i < count; i++) {
		long o;

		if (ksyms_symbol(c->k, (size_t)i, &s) < 0 || (o = ksyms_symbol_owner(c->k, (size_t)i)) < 0)
			goto fail;
		lines[i] = (struct line){ .value = s.value, .rank = rank[o], .idx = (uint32_t)i,
					  .owner = (uint32_t)o };
	}
	qsort(lines, (size_t)count, sizeof(*lines), cmp_line);
	for (long i = 0; i < count; i++) {
		const struct ksyms_owner *o;
		int letter;

		if (ksyms_symbol(c->k, lines[i].idx, &s) < 0 ||
		    (letter = ksyms_symbol_letter(c->k, lines[i].idx)) < 0 ||
		    !(o = ksyms_owner(c->k, lines[i].owner)))
			goto fail;
		if (o->kind == KSYMS_OWNER_KERNEL)
			fprintf(c->out, "%0*" PRIx64 " %c %s\n", c->width, s.value, letter, s.name);
		else
			fprintf(c->out, "%0*" PRIx64 " %c %s\t[%s]\n", c->width, s.value, letter,
				s.name, o->name);
	}
	status = KSY_OK;
fail:
	if (status != KSY_OK)
		ksy_warn("%s: %s", c->path, strerror(errno));
	free(lines);
	free(rank);
	return status;
}
