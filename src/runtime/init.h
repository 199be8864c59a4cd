/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include "runtime/container.h"
#include "runtime/namespace.h"
#include "runtime/spec.h"

/* What the container's init needs, set up by the runtime before clone(). */
struct init_args {
        const struct spec *spec;
        const struct ns_plan *ns;
        enum run_mode mode;
        pid_t parent;
        int sync_fd;        /* child's end of the sync pair */
        int listen_fd;      /* start.sock listener (RUN_CREATE), else -1 */
        int console_fd;     /* --console-socket connection, else -1 */
        int preserve_fds;
        int close_fds[2];   /* the runtime's own (state dir holds a flock) */
        const char *cgroup_path; /* to enter first thing; NULL: none */
        bool born_in_cgroup;     /* clone3 put us in the v2 cgroup already */
        const char *rootfs;
        const char *bundle;
        bool no_pivot;
        bool no_new_keyring;
        bool has_hooks_before_pivot; /* prestart/createRuntime/createContainer */
        unsigned joined_before;      /* CLONE_NEW* flags of namespaces the runtime joined for us before
                                      * clone (under a new user namespace we could not: EPERM) */
};

/* The container's init, in the child of clone(). Never returns. */
_noreturn_ void init_main(const struct init_args *a);

/* Shared by init and exec: the last steps before execve: startContainer
 * hooks are the caller's; this does cpu affinity, fds, LSM labels, late
 * seccomp, exec.  Fds 3..3+preserve_fds-1 survive only if they came to us
 * without O_CLOEXEC (from our caller): one of ours that happens to sit in
 * that range is closed like all the others. */
struct exec_final {
        const struct spec_process *process;
        const struct spec_seccomp *seccomp; /* NULL: none */
        bool seccomp_loaded;
        char *path;  /* resolved executable */
        char **env;
        int preserve_fds;
};
int exec_final(const struct exec_final *f, struct error *err);

/* The two points where seccomp may load before the wait for start: EARLY
 * (before the user switch) when process_seccomp_early() says so, and
 * after the privileges are dropped when the filter has SCMP_ACT_NOTIFY
 * rules.  Otherwise a no-op: exec_final loads it as late as possible.  A
 * listener fd goes to the runtime over SYNC_FD (SYNC_SECCOMP), which
 * hands it to linux.seccomp.listenerPath. */
int exec_seccomp_point(struct exec_final *f, bool early, int sync_fd, struct error *err);

/* Close every fd from 3 up, except the preserved ones (3..3+PRESERVE_FDS-1)
 * and the N_KEEP (at most 15) in KEEP (any order; negative ones are
 * ignored). */
void exec_close_stray_fds(int preserve_fds, const int *keep, size_t n_keep);
