/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ksyms(1): options, the image, and the command. Everything a command
 * prints goes through one buffered stream, checked once at the end, so
 * that a full disk or a closed pipe is an error and not a short answer.
 */
#include <elf.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "ksyms.h"

static const char usage_text
	[] = "Usage: ksyms [-f FILE] [--json] COMMAND [ARG...]\n"
	     "The kernel's symbol table, from /dev/ksyms or an image written by\n"
	     "'ksymsd --dump'.\n"
	     "\n"
	     "Commands:\n"
	     "  addr [ADDR...]  the symbol holding each address, as NAME+OFF/SIZE [OWNER];\n"
	     "                  without ADDR, lines from stdin: a line that is an address\n"
	     "                  is looked up, the addresses in any other line (a stack\n"
	     "                  trace) are replaced by their symbols in place\n"
	     "  name NAME...    address, size, type, binding and owner of each symbol\n"
	     "                  named NAME; NAME may be a glob ('tcp_v4_*')\n"
	     "  modules         the owners in load order: address range, number of\n"
	     "                  symbols, build-id\n"
	     "  kallsyms        the image as /proc/kallsyms text\n"
	     "\n"
	     "Options:\n"
	     "  -f, --file=FILE  read the image from FILE instead of /dev/ksyms\n"
	     "  -j, --json       write JSON (addr, name, modules)\n"
	     "  -h, --help       show this help\n"
	     "  -V, --version    show the version\n"
	     "\n"
	     "Exit status: 0 if everything asked for was found, 1 if something was not,\n"
	     "2 on bad usage or when the image cannot be read. See ksyms(1).\n";

void ksy_warn(const char *fmt, ...)
{
	va_list ap;

	fputs("ksyms: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	putc('\n', stderr);
}

int ksy_usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("ksyms: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nTry 'ksyms --help' for more information.\n", stderr);
	return KSY_FAILED;
}

const char *ksy_owner_name(struct ksy *c, const struct ksyms_sym *sym)
{
	const struct ksyms_owner *o;
	long i;

	if (sym->module)
		return sym->module;
	i = ksyms_owner_of(c->k, sym);
	o = i >= 0 ? ksyms_owner(c->k, (size_t)i) : NULL;
	return o ? o->name : "?";
}

const char *ksy_type_name(unsigned char type)
{
	switch (type) {
	case STT_FUNC:
		return "FUNC";
	case STT_OBJECT:
		return "OBJECT";
	case STT_NOTYPE:
		return "NOTYPE";
	default:
		return "OTHER";
	}
}

const char *ksy_bind_name(unsigned char bind)
{
	switch (bind) {
	case STB_LOCAL:
		return "LOCAL";
	case STB_GLOBAL:
		return "GLOBAL";
	case STB_WEAK:
		return "WEAK";
	default:
		return "OTHER";
	}
}

static const struct {
	const char *name;
	int (*run)(struct ksy *c, int argc, char **argv);
} commands[] = {
	{ "addr", ksy_cmd_addr },
	{ "name", ksy_cmd_name },
	{ "modules", ksy_cmd_modules },
	{ "kallsyms", ksy_cmd_kallsyms },
};

/* Why an open failed, said for the case at hand. */
static void open_failed(const char *path, bool device)
{
	int e = errno;

	if (e == ENOEXEC)
		ksy_warn("%s: not a ksyms symbol image (an ELF file with a symbol table)", path);
	else if (device && e == ENOENT)
		ksy_warn("%s: %s (is ksymsd running? -f FILE reads an image from 'ksymsd --dump')",
			 path, strerror(e));
	else if (device && (e == EPERM || e == EACCES))
		ksy_warn("%s: %s (the kernel's rules for /proc/kallsyms apply: see ksyms(4))", path,
			 strerror(e));
	else
		ksy_warn("%s: %s", path, strerror(e));
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "file", required_argument, NULL, 'f' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct ksy c = { .out = stdout, .width = 16 };
	const unsigned char *ident;
	size_t cmd;
	int opt, status;

	opterr = 0;
	/* '+': options end at the command, so that its arguments may look like
	 * options; a command's own options, if any, come after it. */
	while ((opt = getopt_long(argc, argv, "+:f:jhV", longopts, NULL)) != -1) {
		switch (opt) {
		case 'f':
			c.path = optarg;
			break;
		case 'j':
			c.json = true;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return fflush(stdout) == 0 ? KSY_OK : KSY_FAILED;
		case 'V':
			printf("ksyms %s\n", KSYMSD_VERSION);
			return fflush(stdout) == 0 ? KSY_OK : KSY_FAILED;
		case ':':
			return ksy_usage_error("option '%s' needs an argument", argv[optind - 1]);
		default:
			if (optopt)
				return ksy_usage_error("unknown option '-%c'", optopt);
			return ksy_usage_error("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return ksy_usage_error("no command (addr, name, modules, kallsyms)");
	for (cmd = 0; cmd < sizeof(commands) / sizeof(commands[0]); cmd++)
		if (strcmp(argv[optind], commands[cmd].name) == 0)
			break;
	if (cmd == sizeof(commands) / sizeof(commands[0]))
		return ksy_usage_error("unknown command '%s' (addr, name, modules, kallsyms)",
				       argv[optind]);
	if (c.json && commands[cmd].run == ksy_cmd_kallsyms)
		return ksy_usage_error(
			"kallsyms writes /proc/kallsyms text; --json does not apply");

	c.k = ksyms_open(c.path, 0);
	if (!c.k) {
		open_failed(c.path ? c.path : "/dev/ksyms", !c.path);
		return KSY_FAILED;
	}
	if (!c.path)
		c.path = "/dev/ksyms";
	ident = ksyms_addr(c.k);
	if (ident[EI_CLASS] == ELFCLASS32)
		c.width = 8;
	status = commands[cmd].run(&c, argc - optind - 1, argv + optind + 1);
	ksyms_close(c.k);
	if (fflush(c.out) != 0 || ferror(c.out)) {
		ksy_warn("writing the output: %s", strerror(errno));
		return KSY_FAILED;
	}
	return status;
}
