/* SPDX-License-Identifier: BSD-2-Clause */
#pragma once

#include <stddef.h>

#include "shared/error.h"
#include "dynsyms.h"
#include "kevwire.h"
#include "model.h"

/*
 * An editable image: a model kept between images with the .strtab of its
 * last image, so that the next image after a few ksymbol records costs a
 * .symtab and headers, not a read of kallsyms and a merge of every name.
 *
 * For the snapshot cache, at each open:
 *   - after a read of kallsyms: ks_model_build(), then ks_editimage_new()
 *     (takes the model) and ks_editimage_write() make the image, the same
 *     bytes as ks_elfimage_write() for the same cost;
 *   - with the editable image current (ks_editimage_current() with a
 *     ks_dyn_env_read() of now: a sysctl change shows or hides [bpf]
 *     lines without any record) and records drained: ks_editimage_apply()
 *     with all of them, then, if it returned 0, ks_editimage_write();
 *     1 means the last image is still right;
 *   - -ESTALE (or any error) from apply: ks_editimage_free() it, read
 *     kallsyms again.
 * The kallsyms text and the module list the model was built from must
 * outlive the editable image (its names point into them).
 *
 * Names of symbols the records add go at the end of the kept .strtab;
 * those of symbols they remove stay there unused until the table is
 * merged afresh (when what was added reaches a sixteenth of it, and at
 * least 64 KiB): an image after records is not byte for byte the one a
 * read would give, but has the same symbols, sections and segments.
 *
 * Not thread-safe: one caller at a time (the cache's build lock).
 */
struct ks_editimage;

/* Take over *m (left empty) and merge its names. env: ks_dyn_env_read()
 * at the read m was built from; its kcfi is set from m here. */
int ks_editimage_new(struct ks_editimage **ei, struct ks_model *m, const struct ks_dyn_env *env,
		   struct ks_error *err);

/* Is ei still what kallsyms would give under env (read now)? */
bool ks_editimage_current(const struct ks_editimage *ei, const struct ks_dyn_env *env);

/*
 * Apply n events in order (ks_model_apply_ksyms() under the env ei was
 * made with). 0: the model changed, write an image; 1: nothing changed;
 * -ESTALE: the events do not fit (err says why), ei is unchanged but of
 * no more use: read kallsyms; -ENOMEM: free ei.
 */
int ks_editimage_apply(struct ks_editimage *ei, const struct ks_kevent *evs, size_t n,
		     struct ks_error *err);

/* The image of the current model into fd (as ks_elfimage_write()). */
int ks_editimage_write(const struct ks_editimage *ei, int fd, size_t *size, struct ks_error *err);

const struct ks_model *ks_editimage_model(const struct ks_editimage *ei);

/* Bytes of names appended since the last full merge (tests, benchmarks). */
size_t ks_editimage_appended(const struct ks_editimage *ei);

void ks_editimage_free(struct ks_editimage *ei);
