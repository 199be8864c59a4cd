/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "basic/error.h"
#include "runtime/spec.h"

/* The cgroup manager.  One container's cgroup may span several hierarchies
 * (v1 and hybrid); the paths are relative to each hierarchy's mount. */

enum cgroup_layout {
        CGROUP_LAYOUT_V1,     /* v1 controllers only */
        CGROUP_LAYOUT_HYBRID, /* v1 controllers plus a cgroup2 mount at .../unified */
        CGROUP_LAYOUT_V2,     /* pure cgroup2 at /sys/fs/cgroup */
        _CGROUP_LAYOUT_MAX,
        _CGROUP_LAYOUT_INVALID = -EINVAL,
};

/* Detect once per process (cached). */
enum cgroup_layout cgroup_layout(void);
const char *cgroup_layout_to_string(enum cgroup_layout l);
/* The runtime's /proc/self/mountinfo and /proc/self/cgroup as read when
 * the hierarchies were first looked up (a forked init still sees the
 * same cgroup mounts), or NULLs when they were not. */
void cgroup_host_views(const char **ret_mountinfo, const char **ret_proc_cgroup);

/* Resolve the config's cgroupsPath (or a default for ID when NULL/empty) to
 * a path relative to the hierarchy roots ("berth-ID", "/a/b" → "a/b",
 * "slice:prefix:name" → ".../slice/prefix-name.scope"), refusing ".." and
 * anything that escapes.  Relative paths are placed under the calling
 * process' own cgroup. */
int cgroup_resolve_path(const char *cgroups_path, const char *id, bool systemd, char **ret, struct error *err);

/* Create the cgroup in every hierarchy and apply RES (may be NULL).  PID is
 * moved in when > 0.  Leaves nothing behind on failure. */
int cgroup_create(const char *path, const struct spec_resources *res, pid_t pid, struct error *err);
/* Move the calling single-threaded process into PATH in every hierarchy,
 * the cheap way (see cgroup.c); SKIP_V2 when it was born in the v2 cgroup
 * (clone3 CLONE_INTO_CGROUP). */
int cgroup_enter_self(const char *path, bool skip_v2, struct error *err);
/* fork()-like clone (FLAGS: CLONE_* without the exit signal); born
 * straight into the v2 cgroup CGROUP_FD when >= 0 (clone3
 * CLONE_INTO_CGROUP, Linux 5.7), which *ret_born reports. */
pid_t cgroup_clone(uint64_t flags, int cgroup_fd, bool *ret_born);
/* Move PID into an existing cgroup (exec). */
int cgroup_enter(const char *path, pid_t pid, struct error *err);
/* Apply/update resources on an existing cgroup (update). */
int cgroup_update(const char *path, const struct spec_resources *res, struct error *err);
/* Remove the cgroup (and nested ones) from every hierarchy; kills nothing.
 * Missing cgroups are not an error. */
int cgroup_destroy(const char *path, struct error *err);
/* Freeze or thaw, waiting until the kernel reports the state reached. */
int cgroup_freeze(const char *path, bool freeze, struct error *err);
/* Is it frozen?  0 no, 1 yes, negative on error. */
int cgroup_is_frozen(const char *path);
/* Every pid in the cgroup and its descendants (malloc'd array). */
int cgroup_pids(const char *path, pid_t **ret, size_t *ret_n, struct error *err);
/* Signal every process in it (kill --all). */
int cgroup_kill_all(const char *path, int sig, struct error *err);
/* An fd of the v2 cgroup directory (for clone3 CLONE_INTO_CGROUP; on v2 and
 * on hybrid's unified mount), or -errno when the layout has none. */
int cgroup_open_v2_dir(const char *path);
/* Statistics of the cgroup as runc's `events --stats` "data" object (cpu,
 * memory, pids, blkio, hugetlb), a malloc'd JSON string. */
int cgroup_stats_json(const char *path, char **ret_json, struct error *err);
/* How many processes the kernel's OOM killer has killed in the cgroup. */
int cgroup_oom_kills(const char *path, uint64_t *ret);
