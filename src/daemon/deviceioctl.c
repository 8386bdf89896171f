/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The ioctls of /dev/ksyms (ks_device_ioctl() in device.h): each request's
 * shape and the rounds in which a transport fetches its argument.
 */
#include "device.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ksyms.h>

/* A 32-bit caller's encodings of the requests whose argument has no
 * pointer in it. The lookups are not offered to such callers: where their
 * struct layouts differ (i386 aligns uint64_t to 4) the numbers differ too,
 * and where they do not (arm) we could not tell the layouts apart. */
#define KIOCGSIZE_SIZE_T32	_IOR('l', 1, uint32_t)
#define KIOCGADDR32		_IOR('l', 2, uint32_t)

static int ioctl_size(struct ks_open *o, uint64_t arg, size_t width, bool is_signed,
		      size_t out_len, struct ks_ioctl_step *st)
{
	uint64_t v64 = ks_open_size(o);
	uint32_t v32 = (uint32_t)v64;

	st->out[0] = (struct ks_iov){ .addr = arg, .len = width };
	st->n_out = 1;
	if (out_len < width)
		return KS_IOCTL_RETRY;
	if (width == sizeof(v64)) {
		memcpy(st->data, &v64, sizeof(v64));
	} else {
		if (v64 > (is_signed ? (size_t)INT_MAX : (size_t)UINT32_MAX))
			return -EOVERFLOW;
		memcpy(st->data, &v32, sizeof(v32));
	}
	st->data_len = width;
	return KS_IOCTL_DONE;
}

/* How each lookup request is laid out. */
struct lookup_shape {
	size_t arg_size;	/* the struct the caller passes */
	bool indirect;		/* OKIOC*: the result goes where the struct points */
	bool whole_sym;		/* the Elf64_Sym, else only st_value */
	size_t out_off;		/* !indirect: where in the struct the result goes */
	size_t out_len;
};

static const struct lookup_shape shape_gvalue = {
	.arg_size = sizeof(struct ksyms_gvalue),
	.out_off = offsetof(struct ksyms_gvalue, kv_value),
	.out_len = sizeof(uint64_t),
};
static const struct lookup_shape shape_gsymbol = {
	.arg_size = sizeof(struct ksyms_gsymbol),
	.whole_sym = true,
	.out_off = offsetof(struct ksyms_gsymbol, kg_sym),
	.out_len = sizeof(Elf64_Sym),
};
static const struct lookup_shape shape_ogsymbol = {
	.arg_size = sizeof(struct ksyms_ogsymbol),
	.indirect = true,
	.whole_sym = true,
	.out_len = sizeof(Elf64_Sym),
};
static const struct lookup_shape shape_ogvalue = {
	.arg_size = sizeof(struct ksyms_ogsymbol),
	.indirect = true,
	.out_len = sizeof(unsigned long),
};

/*
 * The rounds of a lookup:
 *   1. nothing fetched: ask for the struct;
 *   2. the struct: ask for the name, up to the end of its page (or to
 *      KSYMS_MAXNAMELEN bytes if that comes first);
 *   3. no NUL yet: ask again for the struct and a longer prefix of the name,
 *      up to the next page end; repeat until a NUL or KSYMS_MAXNAMELEN.
 * A name of at most 512 bytes spans at most two pages, so that is at most
 * three fetches for the usual 4 KiB pages. Each round asks for the struct
 * again because the kernel hands over only what the last round asked for.
 */
static int ioctl_lookup(struct ks_open *o, const struct lookup_shape *sh, uint64_t arg,
			const unsigned char *in, size_t in_len, size_t out_len,
			size_t page_size, struct ks_ioctl_step *st)
{
	const char *name;
	size_t fetched, chunk, nlen;
	uint64_t name_ptr, out_ptr;
	const void *p;
	GElf_Sym sym;
	int ret;

	st->in[0] = (struct ks_iov){ .addr = arg, .len = sh->arg_size };
	st->n_in = 1;
	if (!sh->indirect) {
		st->out[0] = (struct ks_iov){ .addr = arg + sh->out_off, .len = sh->out_len };
		st->n_out = 1;
	}
	if (in_len < sh->arg_size)
		return KS_IOCTL_RETRY;

	memcpy(&p, in, sizeof(p));	/* the name pointer is first in every struct */
	name_ptr = (uintptr_t)p;
	if (sh->indirect) {
		memcpy(&p, in + offsetof(struct ksyms_ogsymbol, _un), sizeof(p));
		out_ptr = (uintptr_t)p;
		if (!out_ptr)
			return -EFAULT;
		st->out[0] = (struct ks_iov){ .addr = out_ptr, .len = sh->out_len };
		st->n_out = 1;
	}
	if (!name_ptr)
		return -EFAULT;

	name = (const char *)in + sh->arg_size;
	fetched = in_len - sh->arg_size;
	nlen = strnlen(name, fetched);
	if (nlen == fetched) {
		/* No NUL in what we have: fetch more, never past a page end. */
		if (fetched >= KSYMS_MAXNAMELEN)
			return -EINVAL;
		chunk = page_size - (size_t)((name_ptr + fetched) & (page_size - 1));
		if (chunk > KSYMS_MAXNAMELEN - fetched)
			chunk = KSYMS_MAXNAMELEN - fetched;
		if (name_ptr + fetched + chunk < name_ptr)
			return -EFAULT;	/* wraps around the address space */
		st->in[1] = (struct ks_iov){ .addr = name_ptr, .len = fetched + chunk };
		st->n_in = 2;
		return KS_IOCTL_RETRY;
	}
	if (nlen >= KSYMS_MAXNAMELEN)
		return -EINVAL;
	if (out_len < sh->out_len) {
		/* Not expected (every name round declares the output), but
		 * the protocol allows it: ask once more with the same name. */
		st->in[1] = (struct ks_iov){ .addr = name_ptr, .len = fetched };
		st->n_in = 2;
		return KS_IOCTL_RETRY;
	}

	ret = ks_open_lookup(o, name, &sym);
	if (ret < 0)
		return ret;
	if (sh->whole_sym) {
		Elf64_Sym es = {
			.st_name = sym.st_name,
			.st_info = sym.st_info,
			.st_other = sym.st_other,
			.st_shndx = sym.st_shndx,
			.st_value = sym.st_value,
			.st_size = sym.st_size,
		};

		memcpy(st->data, &es, sizeof(es));
	} else if (sh->out_len == sizeof(uint64_t)) {
		uint64_t v = sym.st_value;

		memcpy(st->data, &v, sizeof(v));
	} else {
		unsigned long v = (unsigned long)sym.st_value;

		memcpy(st->data, &v, sizeof(v));
	}
	st->data_len = sh->out_len;
	return KS_IOCTL_DONE;
}

int ks_device_ioctl(struct ks_open *o, unsigned cmd, uint64_t arg, bool compat,
		    const void *in, size_t in_len, size_t out_len, size_t page_size,
		    struct ks_ioctl_step *step)
{
	memset(step, 0, sizeof(*step));
	if (!page_size || (page_size & (page_size - 1)))
		page_size = 4096;

	if (compat) {
		switch (cmd) {
		case KIOCGSIZE_SIZE_T32:
			return ioctl_size(o, arg, sizeof(uint32_t), false, out_len, step);
		case KIOCGSIZE_INT:
			return ioctl_size(o, arg, sizeof(int), true, out_len, step);
		case KIOCGADDR32:
			return -EOPNOTSUPP;
		default:
			return -ENOTTY;
		}
	}

	switch (cmd) {
	case KIOCGSIZE_SIZE_T:
		return ioctl_size(o, arg, sizeof(size_t), false, out_len, step);
	case KIOCGSIZE_INT:
		return ioctl_size(o, arg, sizeof(int), true, out_len, step);
	case KIOCGADDR:
		/* Documented in <sys/ksyms.h>: we cannot map memory into the
		 * caller, and ENOTTY would claim we do not know the request. */
		return -EOPNOTSUPP;
	case KIOCGVALUE:
		return ioctl_lookup(o, &shape_gvalue, arg, in, in_len, out_len, page_size, step);
	case KIOCGSYMBOL:
		return ioctl_lookup(o, &shape_gsymbol, arg, in, in_len, out_len, page_size, step);
	case OKIOCGSYMBOL:
		return ioctl_lookup(o, &shape_ogsymbol, arg, in, in_len, out_len, page_size, step);
	case OKIOCGVALUE:
		return ioctl_lookup(o, &shape_ogvalue, arg, in, in_len, out_len, page_size, step);
	default:
		return -ENOTTY;
	}
}
