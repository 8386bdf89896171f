/* SPDX-License-Identifier: BSD-2-Clause */
#include "fuselog.h"

#include <fuse_log.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "shared/log.h"

/* libfuse's format strings, checked as printf's (-Wformat-nonliteral). */
static void fuse_to_ks_log(enum fuse_log_level level, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

static void fuse_to_ks_log(enum fuse_log_level level, const char *fmt, va_list ap)
{
	char buf[1024], *line, *nl;
	int priority = (int)level;

	/* FUSE_LOG_EMERG..FUSE_LOG_DEBUG are LOG_EMERG..LOG_DEBUG by design. */
	if (priority < LOG_EMERG || priority > LOG_DEBUG)
		priority = LOG_ERR;
	if (priority == LOG_DEBUG && !ks_log_debug_enabled())
		return;
	vsnprintf(buf, sizeof(buf), fmt, ap);
	/* libfuse ends its messages with '\n' and some hold several lines;
	 * ks_log() adds its own newline (and prefix) to each. */
	for (line = buf; *line; line = nl + 1) {
		nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		if (*line)
			ks_log(priority, "%s", line);
		if (!nl)
			break;
	}
}

void ks_fuse_log_route(void)
{
	fuse_set_log_func(fuse_to_ks_log);
}
