/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The name travels to the kernel as the value of one "DEVNAME=<name>" string
 * in CUSE's NUL-separated device info, and names a node directly under /dev:
 * no '/', no "." or "..". White space and control characters would make the
 * node awkward to name in a shell or a udev rule, so they are refused too,
 * and so are bytes >= 0x80 (tested as unsigned: a signed char test used to
 * refuse them on x86 but accept them where char is unsigned).
 */
#include "devname.h"

#include <string.h>

bool ks_device_name_valid(const char *name)
{
	const unsigned char *p;
	size_t n;

	if (!name)
		return false;
	n = strnlen(name, KS_DEVICE_NAME_MAX + 1);
	if (n == 0 || n > KS_DEVICE_NAME_MAX || !strcmp(name, ".") || !strcmp(name, ".."))
		return false;
	for (p = (const unsigned char *)name; *p; p++)
		if (*p <= ' ' || *p >= 0x7f || *p == '/')
			return false;
	return true;
}
