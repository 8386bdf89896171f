/* SPDX-License-Identifier: BSD-2-Clause */
#pragma once

#include <stdbool.h>
#include <syslog.h>

/*
 * Logging to stderr. Under systemd (JOURNAL_STREAM names our stderr) each
 * line gets the sd-daemon "<N>" priority prefix, so journald files it at the
 * right level; otherwise lines are plain. LOG_DEBUG lines appear only when
 * debug logging is on.
 */
void ks_log_init(const char *progname, bool debug);
bool ks_log_debug_enabled(void);
void ks_log(int priority, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define ks_err(...) ks_log(LOG_ERR, __VA_ARGS__)
#define ks_warn(...) ks_log(LOG_WARNING, __VA_ARGS__)
#define ks_info(...) ks_log(LOG_INFO, __VA_ARGS__)
#define ks_debug(...) do { if (ks_log_debug_enabled()) ks_log(LOG_DEBUG, __VA_ARGS__); } while (0)
