/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ksyms modules: the owners in the image's order (the kernel, modules in
 * load order, then pseudo-modules such as bpf), with the span of their
 * sections, their number of symbols and their build-id when the image
 * carries their notes.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "json.h"
#include "ksyms.h"

static const char *kind_name(int kind)
{
	switch (kind) {
	case KSYMS_OWNER_KERNEL:
		return "kernel";
	case KSYMS_OWNER_PSEUDO:
		return "pseudo";
	default:
		return "module";
	}
}

static void print_build_id(FILE *f, const struct ksyms_owner *o)
{
	for (size_t i = 0; i < o->build_id_size; i++)
		fprintf(f, "%02x", o->build_id[i]);
}

int ksy_cmd_modules(struct ksy *c, int argc, char **argv)
{
	long n = ksyms_owner_count(c->k);
	FILE *f = c->out;

	(void)argv;
	if (argc > 0)
		return ksy_usage_error("modules takes no arguments");
	if (n < 0) {
		ksy_warn("%s: %s", c->path, strerror(errno));
		return KSY_FAILED;
	}
	if (c->json)
		fputs("[", f);
	for (long i = 0; i < n; i++) {
		const struct ksyms_owner *o = ksyms_owner(c->k, (size_t)i);

		if (!o) {
			ksy_warn("%s: %s", c->path, strerror(errno));
			return KSY_FAILED;
		}
		if (!c->json) {
			fprintf(f, "%-24s %0*" PRIx64 "-%0*" PRIx64 " %7zu ", o->name, c->width,
				o->start, c->width, o->end, o->nsyms);
			if (o->build_id)
				print_build_id(f, o);
			else
				putc('-', f);
			putc('\n', f);
			continue;
		}
		fputs(i ? ",\n{" : "\n{", f);
		ksy_json_str_field(f, 1, "name", o->name);
		ksy_json_str_field(f, 0, "kind", kind_name(o->kind));
		ksy_json_addr_field(f, 0, "start", o->start);
		ksy_json_addr_field(f, 0, "end", o->end);
		ksy_json_num_field(f, 0, "symbols", o->nsyms);
		fputs(",\"build_id\":", f);
		if (o->build_id) {
			putc('"', f);
			print_build_id(f, o);
			putc('"', f);
		} else {
			fputs("null", f);
		}
		putc('}', f);
	}
	if (c->json)
		fputs(n ? "\n]\n" : "]\n", f);
	return KSY_OK;
}
