/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vm-churn: clients of /dev/ksyms for the churn test, while modules load and
 * unload underneath at full speed.
 *
 *   vm-churn [-x MODULE:COUNT]... SECONDS CLIENTS [DEVICE]
 *
 * forks CLIENTS processes that, until SECONDS have passed, each open the
 * device, ask its size (KIOCGSIZE), read the whole image, check it, look
 * "schedule" up (KIOCGVALUE) and close. An image is valid when libelf reads
 * it, its size is what KIOCGSIZE said, every symbol's section exists, the
 * lookup agrees with the image's own "schedule", and every local symbol of a
 * module lies in a section of that module (or is absolute only if its
 * kallsyms letter was 'a'; no module symbol here is). With -x, an image must
 * also hold MODULE's symbols whole (COUNT of them: what kallsyms lists for it
 * loaded) or not at all; a local is MODULE's if it follows MODULE's STT_FILE,
 * another symbol if its section is "MODULE:...". Prints one line
 *
 *   opens N images N enxio N errors N invalid N module-abs N bytes N partial N present N
 *
 * (partial: images holding some but not all of a -x module's symbols, also
 * counted invalid; present: -x modules found whole, over all images)
 *
 * and an "error: ..." line per distinct failure. Exit status 0 unless an
 * image was invalid or an open failed with anything but ENXIO.
 */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/ksyms.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct counts {
	unsigned long opens, images, enxio, errors, invalid, module_abs, partial, present;
	unsigned long long bytes;
	char first_error[200];
	char abs_example[200];	/* the first module symbol with no section */
};

__attribute__((format(printf, 3, 4)))
static void fail(struct counts *c, bool invalid, const char *fmt, ...)
{
	va_list ap;

	if (invalid)
		c->invalid++;
	else
		c->errors++;
	if (!c->first_error[0]) {
		va_start(ap, fmt);
		vsnprintf(c->first_error, sizeof(c->first_error), fmt, ap);
		va_end(ap);
	}
}

/* -x: modules whose symbols an image holds all or none of. */
#define MAX_WATCH 16
static struct {
	char name[64];
	unsigned long want, got;
} watch[MAX_WATCH];
static int n_watch;

static void watch_count(const char *owner, size_t len)
{
	for (int i = 0; i < n_watch; i++)
		if (strlen(watch[i].name) == len && !strncmp(watch[i].name, owner, len))
			watch[i].got++;
}

/* The owner a section belongs to: "mod" of "mod:.text", "" for the kernel's. */
static size_t owner_len(const char *secname)
{
	const char *colon = strchr(secname, ':');

	return colon ? (size_t)(colon - secname) : 0;
}

/* Check an image; 0 if valid, else a reason. */
static const char *check_image(char *buf, size_t size, uint64_t *schedule, unsigned long *mod_abs,
			       char *abs_example, size_t example_size)
{
	Elf *e = elf_memory(buf, size);
	size_t shnum, shstrndx;
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;
	Elf_Data *d;
	const char *owner = NULL, *why = NULL;

	*schedule = 0;
	for (int i = 0; i < n_watch; i++)
		watch[i].got = 0;
	if (!e || elf_kind(e) != ELF_K_ELF || elf_getshdrnum(e, &shnum) < 0 ||
	    elf_getshdrstrndx(e, &shstrndx) < 0) {
		why = "not an ELF file";
		goto out;
	}
	while ((scn = elf_nextscn(e, scn)))
		if (gelf_getshdr(scn, &sh) && sh.sh_type == SHT_SYMTAB)
			break;
	if (!scn || !(d = elf_getdata(scn, NULL)) || sh.sh_entsize == 0) {
		why = "no .symtab";
		goto out;
	}
	for (size_t i = 1; i < sh.sh_size / sh.sh_entsize; i++) {
		const char *name, *secname;
		GElf_Shdr ssh;
		GElf_Sym s;

		if (!gelf_getsym(d, (int)i, &s) || !(name = elf_strptr(e, sh.sh_link, s.st_name))) {
			why = "unreadable symbol";
			goto out;
		}
		if (GELF_ST_TYPE(s.st_info) == STT_FILE) {
			owner = name;
			continue;
		}
		if (GELF_ST_BIND(s.st_info) == STB_GLOBAL && !strcmp(name, "schedule"))
			*schedule = s.st_value;
		if (GELF_ST_BIND(s.st_info) == STB_LOCAL && owner)
			watch_count(owner, strlen(owner));
		if (s.st_shndx == SHN_ABS) {
			/* A module's local with no section of its module. */
			if (GELF_ST_BIND(s.st_info) == STB_LOCAL && owner && strcmp(owner, "vmlinux") &&
			    owner[0] != '[' && s.st_value >= 0xffff000000000000ull &&
			    !(*mod_abs)++ && !abs_example[0])
				snprintf(abs_example, example_size, "%s %s %#llx", owner, name,
					 (unsigned long long)s.st_value);
			continue;
		}
		if (s.st_shndx == SHN_UNDEF || s.st_shndx >= shnum ||
		    !gelf_getshdr(elf_getscn(e, s.st_shndx), &ssh) ||
		    !(secname = elf_strptr(e, shstrndx, ssh.sh_name))) {
			why = "symbol in no section";
			goto out;
		}
		if (GELF_ST_BIND(s.st_info) != STB_LOCAL)
			watch_count(secname, owner_len(secname));
		/* Locals follow their owner's STT_FILE: a module's lie in its
		 * sections, the kernel's in sections without a prefix. */
		if (GELF_ST_BIND(s.st_info) == STB_LOCAL && owner) {
			size_t n = owner_len(secname);
			bool kernel = !strcmp(owner, "vmlinux");

			if (kernel ? n != 0 : (n != strlen(owner) || strncmp(secname, owner, n))) {
				why = "a local symbol in another owner's section";
				goto out;
			}
		}
	}
	if (!*schedule)
		why = "no schedule";
	for (int i = 0; !why && i < n_watch; i++)
		if (watch[i].got && watch[i].got != watch[i].want) {
			static char msg[200];

			snprintf(msg, sizeof(msg), "%.63s: %lu of its %lu symbols", watch[i].name,
				 watch[i].got, watch[i].want);
			why = msg;
		}
out:
	elf_end(e);
	return why;
}

static void one_open(const char *dev, struct counts *c, char **buf, size_t *cap)
{
	struct ksyms_gvalue gv = { .kv_name = "schedule" };
	size_t size = 0, got = 0;
	unsigned long mod_abs = 0;
	uint64_t schedule;
	const char *why;
	ssize_t r;
	int fd;

	fd = open(dev, O_RDONLY);
	c->opens++;
	if (fd < 0) {
		if (errno == ENXIO)
			c->enxio++;
		else
			fail(c, false, "open: %s", strerror(errno));
		return;
	}
	if (ioctl(fd, KIOCGSIZE_SIZE_T, &size) < 0 || size == 0) {
		fail(c, false, "KIOCGSIZE: %s", strerror(errno));
		goto out;
	}
	if (size > *cap) {
		free(*buf);
		*cap = size;
		*buf = malloc(size + 1);
		if (!*buf) {
			fail(c, false, "%s", "out of memory");
			*cap = 0;
			goto out;
		}
	}
	while ((r = read(fd, *buf + got, size + 1 - got)) > 0)
		got += (size_t)r;
	if (r < 0 || got != size) {
		fail(c, true, "read: %s", r < 0 ? strerror(errno) : "not KIOCGSIZE's size");
		goto out;
	}
	c->images++;
	c->bytes += size;
	why = check_image(*buf, size, &schedule, &mod_abs, c->abs_example, sizeof(c->abs_example));
	c->module_abs += mod_abs;
	if (why) {
		if (strchr(why, ':'))
			c->partial++;
		fail(c, true, "image: %s", why);
		goto out;
	}
	for (int i = 0; i < n_watch; i++)
		c->present += watch[i].got != 0;
	if (ioctl(fd, KIOCGVALUE, &gv) < 0)
		fail(c, true, "KIOCGVALUE(schedule): %s", strerror(errno));
	else if (gv.kv_value != schedule)
		fail(c, true, "KIOCGVALUE(schedule): %#llx, the image says %#llx",
		     (unsigned long long)gv.kv_value, (unsigned long long)schedule);
out:
	close(fd);
}

int main(int argc, char **argv)
{
	const char *dev;
	int seconds, clients, opt;
	struct counts total = { 0 };
	int (*pipes)[2];
	bool bad;

	while ((opt = getopt(argc, argv, "x:")) != -1) {
		char *colon = opt == 'x' ? strrchr(optarg, ':') : NULL, *end;

		if (!colon || colon == optarg || (size_t)(colon - optarg) >= sizeof(watch[0].name) ||
		    n_watch == MAX_WATCH)
			goto usage;
		watch[n_watch].want = strtoul(colon + 1, &end, 10);
		if (*end || !watch[n_watch].want)
			goto usage;
		memcpy(watch[n_watch].name, optarg, (size_t)(colon - optarg));
		n_watch++;
	}
	argc -= optind - 1;
	argv += optind - 1;
	dev = argc > 3 ? argv[3] : "/dev/ksyms";
	seconds = argc > 2 ? atoi(argv[1]) : 0;
	clients = argc > 2 ? atoi(argv[2]) : 0;
	if (seconds <= 0 || clients <= 0)
		goto usage;
	elf_version(EV_CURRENT);
	pipes = calloc((size_t)clients, sizeof(*pipes));
	for (int i = 0; pipes && i < clients; i++) {
		if (pipe(pipes[i]) < 0)
			return 1;
		if (fork() == 0) {
			time_t end = time(NULL) + seconds;
			struct counts c = { 0 };
			size_t cap = 0;
			char *buf = NULL;

			close(pipes[i][0]);
			while (time(NULL) < end)
				one_open(dev, &c, &buf, &cap);
			if (write(pipes[i][1], &c, sizeof(c)) != (ssize_t)sizeof(c))
				_exit(1);
			_exit(0);
		}
		close(pipes[i][1]);
	}
	for (int i = 0; pipes && i < clients; i++) {
		struct counts c;

		if (read(pipes[i][0], &c, sizeof(c)) != (ssize_t)sizeof(c)) {
			total.errors++;
			snprintf(total.first_error, sizeof(total.first_error), "client %d died", i);
			continue;
		}
		total.opens += c.opens;
		total.images += c.images;
		total.enxio += c.enxio;
		total.errors += c.errors;
		total.invalid += c.invalid;
		total.module_abs += c.module_abs;
		total.partial += c.partial;
		total.present += c.present;
		total.bytes += c.bytes;
		if (c.first_error[0])
			printf("error: client %d: %s\n", i, c.first_error);
		if (c.abs_example[0])
			printf("module symbol without a section: client %d: %s\n", i, c.abs_example);
	}
	while (wait(NULL) > 0)
		;
	printf("opens %lu images %lu enxio %lu errors %lu invalid %lu module-abs %lu bytes %llu "
	       "partial %lu present %lu\n",
	       total.opens, total.images, total.enxio, total.errors, total.invalid,
	       total.module_abs, total.bytes, total.partial, total.present);
	bad = total.invalid || total.errors || !pipes;
	free(pipes);
	return bad;
usage:
	fprintf(stderr, "usage: vm-churn [-x MODULE:COUNT]... SECONDS CLIENTS [DEVICE]\n");
	return 2;
}
