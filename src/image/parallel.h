/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stddef.h>

#include "basic/error.h"
#include "image/registry.h"

/* Transfers in parallel: JOB(I, REG, CTX, ERR) for every I in [0, N), on
 * up to K threads at once, taken in order.  The calling thread is one of
 * them and uses CLIENT; every other thread gets a registry client of its
 * own made from RO (a client is not thread-safe), all made before any
 * thread starts; a client or a thread that cannot be had means fewer at a
 * time.  The first failure stops new jobs (the running ones finish: the
 * client cannot be interrupted) and is returned, its error in ERR, once. */
typedef int (*parallel_job_fn)(size_t i, struct registry *reg, void *ctx, struct error *err);
int parallel_run(struct registry *client, const struct registry_opts *ro, size_t n, size_t k, parallel_job_fn job,
                 void *ctx, struct error *err);
