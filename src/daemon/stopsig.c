/* SPDX-License-Identifier: BSD-2-Clause */
#define FUSE_USE_VERSION 31

#include "stopsig.h"

#include <fuse_lowlevel.h>
#include <stddef.h>

static volatile sig_atomic_t stop_signal;
static struct fuse_session *volatile signal_session;

static void on_stop_signal(int sig)
{
	struct fuse_session *se = signal_session;

	stop_signal = sig;
	if (se)
		fuse_session_exit(se);
}

static void set_handlers(void (*handler)(int))
{
	static const int sigs[] = { SIGTERM, SIGINT, SIGHUP };
	struct sigaction sa = { .sa_handler = handler };
	size_t i;

	/* No SA_RESTART: a blocked read of /dev/cuse or /dev/fuse must see
	 * EINTR. */
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);
}

void ks_stopsig_install(struct fuse_session *se)
{
	signal_session = se;
	set_handlers(on_stop_signal);
}

void ks_stopsig_detach(void)
{
	signal_session = NULL;
}

void ks_stopsig_reset(void)
{
	signal_session = NULL;
	set_handlers(SIG_DFL);
}

int ks_stopsig_caught(void)
{
	return stop_signal;
}
