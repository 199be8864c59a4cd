/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "basic/error.h"
#include "basic/timefmt.h"
#include "runtime/spec.h"

/* A container's record under the runtime root: ROOT/ID with its state
 * (state.json), plus a copy of the config (config.json) used by exec and
 * the poststart/poststop hooks.  Both are attributes of ROOT/ID where they
 * fit ("user.berth.state", "user.berth.config"), else files. */

enum container_status {
        STATUS_CREATING,
        STATUS_CREATED,
        STATUS_RUNNING,
        STATUS_PAUSED,
        STATUS_STOPPED,
        _STATUS_MAX,
        _STATUS_INVALID = -EINVAL,
};

struct state {
        char *id;
        pid_t pid;             /* 0 until the init exists */
        uint64_t pid_start;    /* /proc/PID/stat starttime, guards pid reuse */
        enum container_status recorded; /* what the runtime last wrote */
        char *bundle;
        char *rootfs;
        char *created;         /* RFC 3339 with nanoseconds */
        char *owner;
        char *cgroup_path;     /* relative to the hierarchy roots */
        bool systemd_cgroup;
        bool has_pidns;        /* its own pid namespace: killing init kills all */
        bool use_terminal;
        /* the config copy has these hooks: start and delete read it only then */
        bool poststart_hooks, poststop_hooks;
        struct spec_kv *annotations;
        size_t n_annotations;
};

const char *container_status_to_string(enum container_status s);

/* Check an id: non-empty, at most 1024 bytes, no '/', no control chars,
 * not "." or "..". */
int state_validate_id(const char *id, struct error *err);

/* The runtime root: created with 0700 when missing. Returns an O_DIRECTORY fd. */
int state_open_root(const char *root, struct error *err);

/* Serialize (status given explicitly) and record the state of ROOT/ID
 * (DIRFD) atomically. */
int state_write(int dirfd, const struct state *st, enum container_status status, struct error *err);
/* Read the state of DIRFD.  -ENOENT (no error set) when there is none. */
int state_read(int dirfd, struct state **ret, struct error *err);
void state_free(struct state *st);
static inline void state_freep(struct state **st)
{
        state_free(*st);
}

/* The status now: recorded status corrected by whether the init is alive
 * (and its start time matches), and whether the cgroup is frozen. */
enum container_status state_current_status(const struct state *st);

/* runc's `state` JSON for a container in status S.  Caller frees. */
char *state_to_oci_json(const struct state *st, enum container_status s, bool pretty);

/* The start time of PID from /proc/PID/stat (field 22), or 0. */
uint64_t proc_start_time(pid_t pid);
/* Is PID alive with that start time (and not a zombie)? */
bool proc_alive(pid_t pid, uint64_t start);

/* The state dir's copy of the container's config (a record like
 * state.json, see state.c).  0 or -errno. */
int state_config_write(int dirfd, const char *raw, size_t len);
#define STATE_CONFIG_MAX (16 << 20)
/* The copy, malloc'd in *RET (NUL-terminated), its length in *RET_LEN. */
int state_config_read(int dirfd, char **ret, size_t *ret_len);


