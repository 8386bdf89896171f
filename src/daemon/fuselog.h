/* SPDX-License-Identifier: BSD-2-Clause */
#pragma once

/*
 * libfuse's own messages ("cuse: device not found...", its -d request
 * trace) go to stderr as bare lines by default: under systemd they would
 * reach the journal without a priority and without our name. This sends
 * them through ks_log() instead, one line each, at the level libfuse gave
 * (its levels are syslog's), so journald files them like our own lines and
 * its debug lines appear only with --debug. Call after ks_log_init().
 */
void ks_fuse_log_route(void);
