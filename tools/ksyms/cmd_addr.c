/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ksyms addr: addresses to NAME+OFF/SIZE [OWNER], the kernel's %pS form
 * with the owner always named. From the command line, or from stdin: a
 * line that is an address is a question like an argument; in any other
 * line each address-looking token that falls in a symbol's section is
 * replaced by its symbol and the rest of the line is left as it was, so a
 * whole dmesg or /proc/PID/stack can be piped through.
 */
#include <elf.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "ksyms.h"
#include "trace.h"

struct addr_run {
	struct ksy *c;
	size_t entries; /* JSON entries written */
	int status;
};

static void print_symbol(struct ksy *c, const struct ksyms_sym *s, uint64_t off)
{
	fprintf(c->out, "%s+0x%" PRIx64 "/0x%" PRIx64 " [%s]", s->name, off, s->size,
		ksy_owner_name(c, s));
}

/* One JSON object for a question; line 0: from the command line. */
static void json_entry(struct addr_run *run, const char *query, size_t qlen, uint64_t addr,
		       const struct ksyms_sym *s, uint64_t off, size_t line)
{
	FILE *f = run->c->out;
	char *q = strndup(query, qlen);

	fputs(run->entries++ ? ",\n{" : "[\n{", f);
	ksy_json_str_field(f, 1, "query", q ? q : "");
	free(q);
	if (line)
		ksy_json_num_field(f, 0, "line", line);
	ksy_json_addr_field(f, 0, "address", addr);
	fputs(s ? ",\"found\":true" : ",\"found\":false", f);
	if (s) {
		ksy_json_str_field(f, 0, "name", s->name);
		ksy_json_num_field(f, 0, "offset", off);
		ksy_json_addr_field(f, 0, "value", s->value);
		ksy_json_num_field(f, 0, "size", s->size);
		ksy_json_str_field(f, 0, "type", ksy_type_name(s->type));
		ksy_json_str_field(f, 0, "bind", ksy_bind_name(s->bind));
		ksy_json_str_field(f, 0, "owner", ksy_owner_name(run->c, s));
		ksy_json_str_field(f, 0, "section", s->section);
	}
	putc('}', f);
}

/* A question: one line of output (or one JSON entry) whatever the answer. */
/* A lookup failed for the image, not the address: said once, and the
 * command fails. */
static void image_failed(struct addr_run *run)
{
	if (run->status != KSY_FAILED)
		ksy_warn("%s: %s", run->c->path, strerror(errno));
	run->status = KSY_FAILED;
}

static void ask(struct addr_run *run, const char *query, size_t qlen, uint64_t addr, size_t line)
{
	struct ksyms_sym s;
	uint64_t off;
	bool found = ksyms_lookup_addr(run->c->k, addr, &s, &off) == 0;

	if (!found && errno != ENOENT) {
		image_failed(run);
	} else if (!found) {
		if (run->status == KSY_OK)
			run->status = KSY_NOT_FOUND;
		ksy_warn("0x%" PRIx64 ": no symbol holds this address", addr);
	}
	if (run->c->json) {
		json_entry(run, query, qlen, addr, found ? &s : NULL, off, line);
		return;
	}
	if (found)
		print_symbol(run->c, &s, off);
	else
		fputs("??", run->c->out);
	putc('\n', run->c->out);
}

/* A line of a trace: its addresses in place. Per-CPU offsets (symbols in
 * no section) are not code: a small number there is left alone. */
static void resolve_in_place(struct addr_run *run, const char *line, size_t len, size_t lineno)
{
	struct ksy_token tok;
	struct ksyms_sym s;
	size_t done = 0;
	uint64_t off;

	while (ksy_next_address(line, len, done, &tok)) {
		int r = ksyms_lookup_addr(run->c->k, tok.value, &s, &off);
		bool hit = r == 0 && s.shndx != SHN_ABS && s.section;

		/* Not found leaves the address as it is; a broken image is
		 * an error, as for an address asked on its own. */
		if (r < 0 && errno != ENOENT)
			image_failed(run);

		if (run->c->json) {
			if (hit)
				json_entry(run, line + tok.start, tok.len, tok.value, &s, off,
					   lineno);
		} else {
			fwrite(line + done, 1, tok.start - done, run->c->out);
			if (hit)
				print_symbol(run->c, &s, off);
			else
				fwrite(line + tok.start, 1, tok.len, run->c->out);
		}
		done = tok.start + tok.len;
	}
	if (!run->c->json)
		fwrite(line + done, 1, len - done, run->c->out);
}

static void from_stdin(struct addr_run *run)
{
	size_t cap = 0, lineno = 0;
	char *line = NULL;
	ssize_t n;
	uint64_t addr;

	while ((n = getline(&line, &cap, stdin)) >= 0) {
		size_t len = (size_t)n;
		bool nl = len && line[len - 1] == '\n';

		lineno++;
		if (nl)
			len--;
		if (ksy_parse_address(line, len, &addr)) {
			ask(run, line, len, addr, lineno);
			continue;
		}
		resolve_in_place(run, line, len, lineno);
		if (!run->c->json && nl)
			putc('\n', run->c->out);
	}
	if (ferror(stdin)) {
		ksy_warn("reading stdin: %s", strerror(errno));
		run->status = KSY_FAILED;
	}
	free(line);
}

int ksy_cmd_addr(struct ksy *c, int argc, char **argv)
{
	struct addr_run run = { .c = c, .status = KSY_OK };
	uint64_t addr;

	/* Every argument checked before anything is printed. */
	for (int i = 0; i < argc; i++)
		if (!ksy_parse_address(argv[i], strlen(argv[i]), &addr))
			return ksy_usage_error("'%s' is not an address (hex, 0x optional)",
					       argv[i]);
	if (argc == 0)
		from_stdin(&run);
	for (int i = 0; i < argc; i++) {
		ksy_parse_address(argv[i], strlen(argv[i]), &addr);
		ask(&run, argv[i], strlen(argv[i]), addr, 0);
	}
	if (c->json)
		fputs(run.entries ? "\n]\n" : "[]\n", c->out);
	return run.status;
}
