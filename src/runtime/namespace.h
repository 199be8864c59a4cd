/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <sys/types.h>

#include "basic/error.h"
#include "runtime/spec.h"

/* The namespaces a config asks for: fds of those joined by path (opened and
 * type-checked before anything is created) and clone flags of new ones. */
struct ns_plan {
        int join_fd[_NS_MAX]; /* -1 when not joined */
        int new_flags;        /* CLONE_NEW* of namespaces to create */
        bool has[_NS_MAX];    /* the config lists the type at all */
};

int ns_plan_init(const struct spec *s, struct ns_plan *ret, struct error *err);
void ns_plan_release(struct ns_plan *p);

/* Write uid_map/gid_map (and setgroups) of PID. */
int ns_write_id_maps(pid_t pid, const struct spec_linux *l, struct error *err);
/* Write timens_offsets of PID (before it enters or creates children in it). */
int ns_write_time_offsets(pid_t pid, const struct spec_linux *l, struct error *err);

/* Join one namespace fd of type T (setns), error names the type. */
int ns_join(int fd, enum ns_type t, struct error *err);
