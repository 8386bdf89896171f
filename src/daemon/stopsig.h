/* SPDX-License-Identifier: BSD-2-Clause */
#pragma once

#include <signal.h>

struct fuse_session;

/*
 * Our own SIGTERM/SIGINT/SIGHUP handlers in place of libfuse's, for both
 * transports: they end the session the same way (fuse_session_exit() is
 * async-signal-safe; libfuse's handler calls it too) and also record that
 * we were asked to stop. A session loop also ends when the kernel drops the
 * channel, and libfuse reports that as a clean 0: only the record tells the
 * two apart.
 */

/* Install the handlers, ending se (NULL: only record). */
void ks_stopsig_install(struct fuse_session *se);
/* From now on the handlers only record (the session is about to go). */
void ks_stopsig_detach(void);
/* Back to the default actions. */
void ks_stopsig_reset(void);
/* The signal that asked us to stop, or 0. */
int ks_stopsig_caught(void);
