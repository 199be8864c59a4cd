/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include "basic/error.h"
#include "runtime/spec.h"
#include "runtime/state.h"

struct runtime_ctx {
        const char *root;    /* state root, e.g. /run/berth */
        bool systemd_cgroup; /* --systemd-cgroup */
};

struct create_opts {
        const char *id;
        const char *bundle;  /* NULL: current directory */
        const char *config;  /* NULL: BUNDLE/config.json */
        const char *pid_file;
        const char *console_socket;
        int preserve_fds;
        bool no_pivot;
        bool no_new_keyring;
        bool keep;           /* run: keep the stopped container */
};

enum run_mode {
        RUN_CREATE,     /* create: leave the init waiting for start */
        RUN_DETACHED,   /* run -d */
        RUN_FOREGROUND, /* run: wait and return the exit status */
};

/* create / run.  For RUN_FOREGROUND *ret_status gets the shell-style exit
 * status (128+signal when killed). */
int container_run(const struct runtime_ctx *ctx, const struct create_opts *o, enum run_mode mode, int *ret_status,
                  struct error *err);
int container_start(const struct runtime_ctx *ctx, const char *id, struct error *err);
int container_kill(const struct runtime_ctx *ctx, const char *id, int sig, bool all, struct error *err);
int container_delete(const struct runtime_ctx *ctx, const char *id, bool force, struct error *err);
int container_pause(const struct runtime_ctx *ctx, const char *id, bool pause, struct error *err);
/* Load a container's state; error "container `ID` does not exist". */
int container_load(const struct runtime_ctx *ctx, const char *id, int *ret_dirfd, struct state **ret, struct error *err);
/* Ids of every container under the root (sorted). */
int container_list_ids(const struct runtime_ctx *ctx, char ***ret, struct error *err);
int container_pids(const struct runtime_ctx *ctx, const char *id, pid_t **ret, size_t *ret_n, struct error *err);
int container_update(const struct runtime_ctx *ctx, const char *id, const struct spec_resources *res,
                     struct error *err);

struct exec_opts {
        const char *id;
        const char *process_file; /* --process (or "-") */
        char **args;              /* argv form when no --process */
        char **env;               /* -e additions */
        const char *cwd;
        const char *user;         /* "uid[:gid]" */
        char **caps;              /* --cap additions */
        bool tty, detach, no_new_privs;
        const char *console_socket;
        const char *pid_file;
        int preserve_fds;
        const char *apparmor;      /* --apparmor: process.apparmorProfile */
        const char *process_label; /* --process-label: process.selinuxLabel */
};

int container_exec(const struct runtime_ctx *ctx, const struct exec_opts *o, int *ret_status, struct error *err);
