/* SPDX-License-Identifier: BSD-2-Clause */
#pragma once

#include <stdbool.h>

/*
 * The rule for a device name (--name): the one place it is written down.
 * main() rejects a bad --name with it; ks_daemon_run() checks it again
 * before the name reaches the kernel.
 */
#define KS_DEVICE_NAME_MAX 64

/* Is name usable as /dev/<name>: 1 to KS_DEVICE_NAME_MAX bytes of printable
 * ASCII other than '/' (no space, control character, DEL or byte >= 0x80),
 * and neither "." nor ".."? */
bool ks_device_name_valid(const char *name);
