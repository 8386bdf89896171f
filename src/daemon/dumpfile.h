/* SPDX-License-Identifier: BSD-2-Clause */
#pragma once

#include <stddef.h>

struct ks_error;

/*
 * Write an image to path for --dump, so that a failure (a full disk, a
 * quota, a file size limit) never leaves a truncated image behind:
 *   "-"                    standard output;
 *   a device, FIFO, ...    written in place (/dev/null, a pipe: there is
 *                          nothing to replace, and renaming over a device
 *                          node would replace the node);
 *   anything else          a temporary file beside it (beside the target of
 *                          a symlink), written, synced, given the mode of
 *                          the file it replaces (0600 for a new one: the
 *                          image holds kernel addresses) and renamed over
 *                          path. On failure it is removed and path is left
 *                          as it was.
 * 0 or -errno with a one-line message in err naming the file.
 */
int ks_dump_write(const char *path, const void *data, size_t len, struct ks_error *err);
