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
};

/* The container's init, in the child of clone(). Never returns. */
_noreturn_ void init_main(const struct init_args *a);

/* Shared by init and exec: the last steps before execve: startContainer
 * hooks are the caller's; this does cpu affinity, late seccomp, fds, exec. */
struct exec_final {
        const struct spec_process *process;
        const struct spec_seccomp *seccomp; /* NULL: none */
        bool seccomp_loaded;
        char *path;  /* resolved executable */
        char **env;
        int preserve_fds;
};
int exec_final(const struct exec_final *f, struct error *err);
