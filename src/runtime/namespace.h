/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdint.h>
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

/* Is the runtime unprivileged (euid not 0)?  Then a container needs a user
 * namespace, id maps beyond the caller's own ids go through newuidmap and
 * newgidmap, and cgroups are used only where they were delegated. */
bool ns_rootless(void);

/* The checks a rootless create makes before anything exists: a user
 * namespace (new or joined), and no process.user.additionalGids when the
 * gid map is the caller's own gid alone (setgroups is denied then). */
int ns_plan_check_rootless(const struct ns_plan *p, const struct spec *s, struct error *err);

/* Write uid_map/gid_map of PID.  As root both are written directly.
 * Rootless (ROOTLESS true): a map of the caller's own id alone is written
 * directly ("deny" goes to setgroups before such a gid_map, as the kernel
 * requires); any other map is handed to the setuid helpers newuidmap and
 * newgidmap (package uidmap), which check it against /etc/subuid and
 * /etc/subgid (or NSS).  Errors name linux.uidMappings/gidMappings. */
int ns_write_id_maps(pid_t pid, const struct spec_linux *l, bool rootless, struct error *err);

/* Does MAPS (N entries) fit the ranges delegated to USER (or its uid UID)
 * in CONTENTS, text in the format of /etc/subuid?  A single mapping of OWN,
 * the caller's own id, is always allowed.  Returns the index of the first
 * mapping outside every range, or -1 when all fit.  Used only to explain a
 * failed newuidmap/newgidmap. */
ssize_t ns_subid_first_outside(const char *contents, const char *user, uid_t uid, uint32_t own,
                               const struct spec_id_mapping *maps, size_t n);

/* May this process call setgroups(2)?  False when /proc/self/setgroups is
 * "deny" (a user namespace whose gid map was written unprivileged). */
bool ns_setgroups_allowed(void);

/* Write timens_offsets of PID (before it enters or creates children in it). */
int ns_write_time_offsets(pid_t pid, const struct spec_linux *l, struct error *err);

/* Join one namespace fd of type T (setns), error names the type. */
int ns_join(int fd, enum ns_type t, struct error *err);

/* In the runtime, for a container with a user namespace (USERNS_FD, e.g.
 * /proc/PID/ns/user of its init once the maps are written): an idmapped,
 * detached clone of the source of every bind mount with the idmap or
 * ridmap option, which the init, lacking CAP_SYS_ADMIN over the host's
 * filesystems, cannot make itself.  *ret_fds gets S->n_mounts entries
 * indexed like S->mounts (-1: none); *ret_n how many are >= 0.  Rootless
 * runtimes cannot idmap host filesystems either: such a mount is an
 * error naming it. */
int ns_prepare_idmapped_mounts(const struct spec *s, const char *bundle, int userns_fd, bool rootless,
                               int **ret_fds, size_t *ret_n, struct error *err);
/* Close and free what ns_prepare_idmapped_mounts() returned. */
void ns_mount_fds_free(int *fds, size_t n_mounts);

/* The processes of a container that has no cgroup (rootless): every
 * process in the pid namespace of INIT when the container has its own
 * (OWN_PIDNS), else INIT and its descendants.  INIT must match START
 * (proc_start_time), else the list is empty.  Sorted, malloc'd. */
int ns_container_pids(pid_t init, uint64_t start, bool own_pidns, pid_t **ret, size_t *ret_n,
                      struct error *err);
