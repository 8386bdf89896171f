/* SPDX-License-Identifier: BSD-2-Clause */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *log_progname = "ksymsd";
static bool log_debug;
static bool log_prefix;

/* JOURNAL_STREAM is "DEV:INO" of the stream systemd connected; only trust it
 * if our stderr is still that stream (a child may have inherited the env). */
static bool stderr_is_journal(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (!js || sscanf(js, "%llu:%llu", &dev, &ino) != 2)
		return false;
	if (fstat(STDERR_FILENO, &st) < 0)
		return false;
	return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

void ks_log_init(const char *progname, bool debug)
{
	if (progname)
		log_progname = progname;
	log_debug = debug;
	log_prefix = stderr_is_journal();
}

bool ks_log_debug_enabled(void)
{
	return log_debug;
}

void ks_log(int priority, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	if (priority == LOG_DEBUG && !log_debug)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	/* One fprintf per line keeps lines whole when threads log at once. */
	if (log_prefix)
		fprintf(stderr, "<%d>%s\n", priority, line);
	else
		fprintf(stderr, "%s: %s\n", log_progname, line);
}
