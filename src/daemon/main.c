/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ksymsd: serve the running kernel's symbol table as /dev/ksyms (CUSE) or as
 * a file over FUSE, or with --dump write one snapshot to a file and exit.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "daemon.h"
#include "devname.h"
#include "fusemount.h"
#include "memtune.h"
#include "shared/fdio.h"
#include "shared/log.h"
#include "engine/snapshot.h"

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: ksymsd [OPTION]...\n"
		"Serve the running kernel's symbol table as the ELF device /dev/ksyms.\n"
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

static int parse_size(const char *s, size_t *out)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *s == '-')
		return -EINVAL;
	switch (*end) {
	case 'G': case 'g': v <<= 10; /* fall through */
	case 'M': case 'm': v <<= 10; /* fall through */
	case 'K': case 'k': v <<= 10; end++; break;
	case '\0': break;
	default: return -EINVAL;
	}
	if (*end || v == 0 || v > SIZE_MAX)
		return -EINVAL;
	*out = (size_t)v;
	return 0;
}

static int dump(const struct ks_root *root, const char *file)
{
	struct ks_snapshot_opts opts = { .root = root };
	struct ks_snapshot *snap;
	struct ks_error err = { 0 };
	bool to_stdout = strcmp(file, "-") == 0;
	int fd, r;

	r = ks_snapshot_take(&opts, &snap, &err);
	if (r < 0) {
		ks_err("cannot take a snapshot: %s", err.msg);
		return EXIT_FAILURE;
	}
	fd = to_stdout ? STDOUT_FILENO : open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		ks_err("%s: %s", file, strerror(errno));
		ks_snapshot_unref(snap);
		return EXIT_FAILURE;
	}
	r = ks_write_all(fd, ks_snapshot_data(snap), ks_snapshot_size(snap));
	if (r == 0 && !to_stdout && close(fd) < 0)
		r = -errno;
	else if (!to_stdout && r < 0)
		close(fd);
	if (r < 0) {
		ks_err("%s: %s", file, strerror(-r));
		ks_snapshot_unref(snap);
		return EXIT_FAILURE;
	}
	ks_debug("wrote %zu bytes, %zu symbols to %s", ks_snapshot_size(snap),
		 ks_snapshot_n_syms(snap), file);
	ks_snapshot_unref(snap);
	return EXIT_SUCCESS;
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
	size_t v;
	int c, status;

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
			if (!ks_device_name_valid(optarg)) {
				fprintf(stderr, "ksymsd: --name: a device name is 1-%d bytes of "
					"printable ASCII without '/', and not '.' or '..': '%s'\n",
					KS_DEVICE_NAME_MAX, optarg);
				return EXIT_FAILURE;
			}
			opts.name = optarg;
			break;
		case 'r':
			root_path = optarg;
			break;
		case OPT_MAX_OPENS:
			if (parse_size(optarg, &v) < 0 || v > UINT_MAX) {
				fprintf(stderr, "ksymsd: --max-opens: not a positive number: %s\n", optarg);
				return EXIT_FAILURE;
			}
			opts.max_opens = (unsigned)v;
			break;
		case OPT_MAX_MEMORY:
			if (parse_size(optarg, &opts.max_memory) < 0) {
				fprintf(stderr, "ksymsd: --max-memory: not a size: %s\n", optarg);
				return EXIT_FAILURE;
			}
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
				fprintf(stderr, "ksymsd: --transport: cuse, fuse or auto: '%s'\n",
					optarg);
				return EXIT_FAILURE;
			}
			break;
		case OPT_MOUNTPOINT:
			if (optarg[0] != '/') {
				fprintf(stderr, "ksymsd: --mountpoint: not an absolute path: '%s'\n",
					optarg);
				return EXIT_FAILURE;
			}
			opts.mountpoint = optarg;
			break;
		case OPT_MOUNT_HELPER:
			opts.mount_helper = true;
			break;
		case OPT_MOUNT_FOR:
			if (parse_size(optarg, &v) < 0 || v > INT_MAX) {
				fprintf(stderr, "ksymsd: --mount-for: not a process id: %s\n", optarg);
				return EXIT_FAILURE;
			}
			mount_for = (pid_t)v;
			break;
		case OPT_UNMOUNT:
			unmount = true;
			break;
		case OPT_LINK:
			if (optarg[0] != '/') {
				fprintf(stderr, "ksymsd: --link: not an absolute path: '%s'\n", optarg);
				return EXIT_FAILURE;
			}
			opts.link = optarg;
			break;
		case 'h':
			usage(stdout);
			return EXIT_SUCCESS;
		case 'V':
			printf("ksymsd %s\n", KSYMSD_VERSION);
			return EXIT_SUCCESS;
		default:
			usage(stderr);
			return EXIT_FAILURE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "ksymsd: unexpected argument: %s\n", argv[optind]);
		usage(stderr);
		return EXIT_FAILURE;
	}
	ks_log_init("ksymsd", opts.debug);
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
