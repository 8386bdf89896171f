/* SPDX-License-Identifier: BSD-2-Clause */
#pragma once

#include <sys/socket.h>
#include <sys/un.h>

/*
 * Service manager notifications: the sd_notify(3) datagram protocol, without
 * libsystemd. When systemd starts a Type=notify service it sets
 * $NOTIFY_SOCKET to a datagram socket, a path ("/run/systemd/notify") or an
 * abstract name ("@..."), and reads newline-separated VAR=value assignments
 * from it: READY=1, STOPPING=1, STATUS=text...
 *
 * Every function here is a no-op returning 0 when $NOTIFY_SOCKET is unset,
 * so callers need not know whether systemd runs them. They are safe to call
 * from any thread (one socket per call, no shared state).
 */

/* Send STATE to the service manager. Returns 1 when sent, 0 when there is no
 * service manager to tell, or a negative errno (-EINVAL for a malformed
 * $NOTIFY_SOCKET, -EAFNOSUPPORT for a kind of socket we do not speak, such
 * as systemd 253's "vsock:"). */
int ks_sd_notify(const char *state);

/* The same with a printf-style STATE. */
int ks_sd_notifyf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Turn a $NOTIFY_SOCKET value into a socket address: "/path" is a file
 * system socket, "@name" an abstract one (the '@' stands for the leading NUL
 * byte). Returns 0, or -EINVAL (empty, relative), -ENAMETOOLONG,
 * -EAFNOSUPPORT. Exposed for the unit test. */
int ks_sd_notify_addr(const char *spec, struct sockaddr_un *sa, socklen_t *len);
