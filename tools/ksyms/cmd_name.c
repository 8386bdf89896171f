/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ksyms name: every symbol of each NAME (several owners may have one of
 * that name, and a kernel has thousands of repeated local names), or
 * matching it when it is a glob, in table order: the kernel's first, then
 * the modules' in load order.
 */
#include <errno.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <string.h>

#include "json.h"
#include "ksyms.h"
#include "names.h"

static bool is_glob(const char *s)
{
	return strpbrk(s, "*?[") != NULL;
}

static void print_sym(struct ksy *c, const struct ksyms_sym *s, bool first)
{
	FILE *f = c->out;

	if (!c->json) {
		fprintf(f, "%0*" PRIx64 " %8" PRIu64 " %-6s %-6s %s [%s]\n", c->width, s->value,
			s->size, ksy_type_name(s->type), ksy_bind_name(s->bind), s->name,
			ksy_owner_name(c, s));
		return;
	}
	fputs(first ? "\n  {" : ",\n  {", f);
	ksy_json_str_field(f, 1, "name", s->name);
	ksy_json_addr_field(f, 0, "address", s->value);
	ksy_json_num_field(f, 0, "size", s->size);
	ksy_json_str_field(f, 0, "type", ksy_type_name(s->type));
	ksy_json_str_field(f, 0, "bind", ksy_bind_name(s->bind));
	ksy_json_str_field(f, 0, "owner", ksy_owner_name(c, s));
	ksy_json_str_field(f, 0, "section", s->section);
	putc('}', f);
}

/* A hash of all names pays off from this many names on: below, each name
 * is one pass over the table (a fraction of a millisecond a pass, where the
 * hash costs megabytes of fresh memory). */
#define HASH_FROM 8

/* The symbols of one question; how many, or -1 (errno) if the image fails.
 * hash: build and use the hash of names for exact names. */
static long answer(struct ksy *c, const char *query, bool hash, struct ksy_names **names)
{
	bool glob = is_glob(query);
	struct ksyms_sym s;
	long n = 0, count;

	/* The library's lookup first: a missing name costs no pass. */
	if (!glob && ksyms_lookup_name(c->k, query, NULL) < 0)
		return errno == ENOENT ? 0 : -1;
	if (glob || !hash) {
		count = ksyms_count(c->k);
		for (long i = 0; i < count; i++) {
			if (ksyms_symbol(c->k, (size_t)i, &s) < 0)
				return -1;
			if (glob ? fnmatch(query, s.name, 0) == 0 : strcmp(query, s.name) == 0)
				print_sym(c, &s, n++ == 0);
		}
		return count < 0 ? -1 : n;
	}
	if (!*names && !(*names = ksy_names_new(c->k)))
		return -1;
	for (size_t i = ksy_names_first(*names, query); i != SIZE_MAX;
	     i = ksy_names_next(*names, i)) {
		if (ksyms_symbol(c->k, i, &s) < 0)
			return -1;
		print_sym(c, &s, n++ == 0);
	}
	return n;
}

int ksy_cmd_name(struct ksy *c, int argc, char **argv)
{
	struct ksy_names *names = NULL;
	int status = KSY_OK, exact = 0;

	if (argc == 0)
		return ksy_usage_error("name: which name? (ksyms name NAME...)");
	for (int i = 0; i < argc; i++)
		exact += !is_glob(argv[i]);
	if (c->json)
		fputs("[", c->out);
	for (int i = 0; i < argc; i++) {
		long n;

		if (c->json) {
			fputs(i ? ",\n{" : "\n{", c->out);
			ksy_json_str_field(c->out, 1, "query", argv[i]);
			fputs(",\"symbols\":[", c->out);
		}
		n = answer(c, argv[i], exact >= HASH_FROM, &names);
		if (c->json)
			fputs(n > 0 ? "\n]}" : "]}", c->out);
		if (n < 0) {
			ksy_warn("%s: %s", c->path, strerror(errno));
			status = KSY_FAILED;
			break;
		}
		if (n == 0) {
			ksy_warn("%s: no such symbol", argv[i]);
			status = KSY_NOT_FOUND;
		}
	}
	if (c->json)
		fputs("\n]\n", c->out);
	ksy_names_free(names);
	return status;
}
