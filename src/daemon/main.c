/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ksymsd: serve the running kernel's symbol table as /dev/ksyms (CUSE) or as
 * a file over FUSE, or with --dump write one snapshot to a file and exit.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "argnum.h"
#include "config.h"
#include "daemon.h"
#include "devname.h"
#include "dumpfile.h"
#include "fuselog.h"
#include "fusemount.h"
#include "memtune.h"
#include "shared/log.h"
#include "engine/snapshot.h"

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: ksymsd [OPTION]...\n"
		"Serve the running kernel's symbol table as an ELF image: the device /dev/ksyms\n"
		"(CUSE), or the file /run/ksyms/ksyms (FUSE) where the kernel has no CUSE.\n"
		"\n"
		"  -f, --foreground        stay in the foreground\n"
		"  -d, --debug             debug logging (libfuse requests, one line per open)\n"
		"  -n, --name NAME         device name under /dev, or file name (default: ksyms)\n"
		"  -r, --root DIR          read proc/ and sys/ under DIR instead of / (testing)\n"
		"      --max-opens N       simultaneous opens before ENOMEM (default: %u)\n"
		"      --max-memory BYTES  snapshot memory before ENOMEM, K/M/G suffixes\n"
		"                          (default: %zuM)\n"
		"  -t, --transport T       cuse (the device /dev/NAME), fuse (the file\n"
		"                          MOUNTPOINT/NAME) or auto (default: cuse where\n"
		"                          /dev/cuse opens, else fuse)\n"
		"      --mountpoint DIR    fuse: the directory to mount (default: %s)\n"
		"      --link PATH         fuse: make PATH a symlink to the file (e.g. /dev/ksyms)\n"
		"      --mount-helper      fuse: only open /dev/fuse; --mount-for mounts it\n"
		"      --mount-for PID     mount the FUSE channel of ksymsd PID (run by the\n"
		"                          service manager outside the daemon's sandbox), exit\n"
		"      --unmount           unmount MOUNTPOINT (and remove --link), exit\n"
		"      --dump FILE         write one snapshot to FILE ('-' = stdout) and exit\n"
		"  -h, --help              show this help and exit\n"
		"  -V, --version           show the version and exit\n"
		"\n"
		"See ksymsd(8) and ksyms(4).\n",
		KS_DEFAULT_MAX_OPENS, KS_DEFAULT_MAX_MEMORY >> 20, KS_DEFAULT_MOUNTPOINT);
}

/* A command line ksymsd cannot run: one line saying why, and where to look,
 * with the exit status GNU tools use for it. */
#define EXIT_USAGE 2
__attribute__((format(printf, 1, 2))) static int usage_error(const char *fmt, ...)
{
	va_list ap;

	if (fmt) {
		fputs("ksymsd: ", stderr);
		va_start(ap, fmt);
		vfprintf(stderr, fmt, ap);
		va_end(ap);
		fputc('\n', stderr);
	}
	fputs("Try 'ksymsd --help' for more information.\n", stderr);
	return EXIT_USAGE;
}

/* After --help or --version: a full disk or a closed pipe is an error, not
 * a success with the text lost. */
static int stdout_done(void)
{
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "ksymsd: standard output: %s\n", strerror(errno));
		return EXIT_FAILURE;
	}
	return EXIT_SUCCESS;
}

static int dump(const struct ks_root *root, const char *file)
{
	struct ks_snapshot_opts opts = { .root = root };
	struct ks_snapshot *snap;
	struct ks_error err = { 0 };
	int r;

	r = ks_snapshot_take(&opts, &snap, &err);
	if (r < 0) {
		ks_err("cannot take a snapshot: %s", err.msg);
		return EXIT_FAILURE;
	}
	r = ks_dump_write(file, ks_snapshot_data(snap), ks_snapshot_size(snap), &err);
	if (r < 0)
		ks_err("%s", err.msg);
	else
		ks_debug("wrote %zu bytes, %zu symbols to %s", ks_snapshot_size(snap),
			 ks_snapshot_n_syms(snap), file);
	ks_snapshot_unref(snap);
	return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}

enum {
	OPT_MAX_OPENS = 256, OPT_MAX_MEMORY, OPT_DUMP, OPT_MOUNTPOINT, OPT_LINK,
	OPT_MOUNT_HELPER, OPT_MOUNT_FOR, OPT_UNMOUNT,
};

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "foreground", no_argument, NULL, 'f' },
		{ "debug", no_argument, NULL, 'd' },
		{ "name", required_argument, NULL, 'n' },
		{ "root", required_argument, NULL, 'r' },
		{ "max-opens", required_argument, NULL, OPT_MAX_OPENS },
		{ "max-memory", required_argument, NULL, OPT_MAX_MEMORY },
		{ "dump", required_argument, NULL, OPT_DUMP },
		{ "transport", required_argument, NULL, 't' },
		{ "mountpoint", required_argument, NULL, OPT_MOUNTPOINT },
		{ "link", required_argument, NULL, OPT_LINK },
		{ "mount-helper", no_argument, NULL, OPT_MOUNT_HELPER },
		{ "mount-for", required_argument, NULL, OPT_MOUNT_FOR },
		{ "unmount", no_argument, NULL, OPT_UNMOUNT },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 },
	};
	struct ks_daemon_opts opts = {
		.name = "ksyms",
		.max_opens = KS_DEFAULT_MAX_OPENS,
		.max_memory = KS_DEFAULT_MAX_MEMORY,
		.mountpoint = KS_DEFAULT_MOUNTPOINT,
	};
	const char *dump_file = NULL, *root_path = "/";
	char file[PATH_MAX];
	pid_t mount_for = 0;
	bool unmount = false;
	struct ks_error err = { 0 };
	struct ks_root root;
	unsigned long long n;
	int c, r, status;

	/* Before anything is freed: see memtune.h. */
	ks_malloc_tune();
	while ((c = getopt_long(argc, argv, "fdn:r:t:hV", longopts, NULL)) != -1) {
		switch (c) {
		case 'f':
			opts.foreground = true;
			break;
		case 'd':
			opts.debug = true;
			break;
		case 'n':
			if (!ks_device_name_valid(optarg))
				return usage_error("--name: a device name is 1-%d bytes of "
						   "printable ASCII without '/', and not '.' or "
						   "'..': '%s'",
						   KS_DEVICE_NAME_MAX, optarg);
			opts.name = optarg;
			break;
		case 'r':
			root_path = optarg;
			break;
		case OPT_MAX_OPENS:
			r = ks_parse_count(optarg, UINT_MAX, &n);
			if (r == -ERANGE)
				return usage_error("--max-opens: more than %u: '%s'", UINT_MAX,
						   optarg);
			if (r < 0)
				return usage_error("--max-opens: not a positive whole number: '%s'",
						   optarg);
			opts.max_opens = (unsigned)n;
			break;
		case OPT_MAX_MEMORY:
			r = ks_parse_size(optarg, &opts.max_memory);
			if (r == -ERANGE)
				return usage_error("--max-memory: too large for this machine: '%s'",
						   optarg);
			if (r < 0)
				return usage_error("--max-memory: not a size (a positive whole "
						   "number, K, M or G after it): '%s'",
						   optarg);
			break;
		case OPT_DUMP:
			dump_file = optarg;
			break;
		case 't':
			if (!strcmp(optarg, "cuse")) {
				opts.transport = KS_TRANSPORT_CUSE;
			} else if (!strcmp(optarg, "fuse")) {
				opts.transport = KS_TRANSPORT_FUSE;
			} else if (!strcmp(optarg, "auto")) {
				opts.transport = KS_TRANSPORT_AUTO;
			} else {
				return usage_error("--transport: cuse, fuse or auto: '%s'", optarg);
			}
			break;
		case OPT_MOUNTPOINT:
			if (optarg[0] != '/')
				return usage_error("--mountpoint: not an absolute path: '%s'", optarg);
			opts.mountpoint = optarg;
			break;
		case OPT_MOUNT_HELPER:
			opts.mount_helper = true;
			break;
		case OPT_MOUNT_FOR:
			if (ks_parse_count(optarg, INT_MAX, &n) < 0)
				return usage_error("--mount-for: not a process id: '%s'", optarg);
			mount_for = (pid_t)n;
			break;
		case OPT_UNMOUNT:
			unmount = true;
			break;
		case OPT_LINK:
			if (optarg[0] != '/')
				return usage_error("--link: not an absolute path: '%s'", optarg);
			opts.link = optarg;
			break;
		case 'h':
			usage(stdout);
			return stdout_done();
		case 'V':
			printf("ksymsd %s\n", KSYMSD_VERSION);
			return stdout_done();
		default:
			/* getopt_long has said what was wrong. */
			return usage_error(NULL);
		}
	}
	if (optind < argc)
		return usage_error("unexpected argument: '%s'", argv[optind]);
	if (dump_file && !*dump_file)
		return usage_error("--dump: an empty file name (use '-' for standard output)");
	ks_log_init("ksymsd", opts.debug);
	ks_fuse_log_route();
	if (mount_for || unmount) {
		snprintf(file, sizeof(file), "%s/%s", opts.mountpoint, opts.name);
		return mount_for ? ks_fusemount_mount_for(mount_for, opts.mountpoint, file, opts.link)
				 : ks_fusemount_unmount(opts.mountpoint, file, opts.link);
	}
	if (ks_root_open(&root, root_path, &err) < 0) {
		ks_err("--root: %s", err.msg);
		return EXIT_FAILURE;
	}
	opts.root = &root;
	status = dump_file ? dump(&root, dump_file) : ks_daemon_run(&opts);
	ks_root_close(&root);
	return status;
}
