/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "basic/error.h"
#include "engine/engine.h"

/* Looking into containers: `stats`, `top` and `cp`. */

/* ---- stats.c ----------------------------------------------------------- */

/* One sample of a container's resource use, raw, from its cgroup
 * (container_cgroup(): cgroup v2 at /sys/fs/cgroup/berth-ID, v1 under
 * each controller's hierarchy) and its network namespace. */
struct container_stats {
        bool running;         /* false: everything below is 0 */
        uint64_t sampled_ns;  /* CLOCK_MONOTONIC when it was taken */
        uint64_t cpu_ns;      /* CPU time used by all its processes */
        uint64_t mem_usage;   /* memory in use minus inactive page cache (as Docker) */
        uint64_t mem_limit;   /* its limit; the host's memory when unlimited */
        uint64_t net_rx, net_tx;       /* bytes, every interface but lo; 0 in the host's namespace */
        uint64_t blk_read, blk_write;  /* bytes */
        uint64_t pids;        /* tasks in its cgroup */
};

/* Sample C.  A container that is not running (or whose cgroup is gone)
 * gives a zeroed sample with running false, not an error. */
int engine_stats(struct engine *e, const struct container *c, struct container_stats *ret, struct error *err);

/* One process of a container, as `ps -ef` describes it (host view). */
struct top_process {
        pid_t pid, ppid;
        uid_t uid;
        unsigned cpu_percent;   /* ps's C: CPU time over lifetime, capped at 99 */
        time_t started;         /* wall clock */
        uint64_t cpu_secs;      /* user + system time */
        char *tty;              /* "?", "pts/0", "tty1" */
        char *cmd;              /* its argv, space separated; "[comm]" when empty */
};
void top_processes_free(struct top_process *v, size_t n);

/* C's processes, sorted by pid: the pids from the OCI runtime's `ps
 * --format json ID`, described from /proc.  EINVAL "container NAME is
 * not running" when it is not. */
int engine_top(struct engine *e, const struct container *c, struct top_process **ret, size_t *ret_n,
               struct error *err);

/* ---- cp.c -------------------------------------------------------------- */

enum {
        CP_ARCHIVE = 1 << 0, /* -a: keep the source's uid/gid (else: root in the container, us on the host) */
        CP_FOLLOW = 1 << 1,  /* -L: follow SRC when it is a symlink */
};

/* Docker's `cp` between container C and the host, with Docker's rules
 * for files and directories (a directory into an existing directory goes
 * inside it, SRC ending in "/." copies its contents, DEST ending in "/"
 * must be a directory, a missing DEST parent is an error).
 *
 * Every path inside C is resolved relative to C's root (openat2 with
 * RESOLVE_IN_ROOT, chase.h), and every entry is created relative to an fd
 * of its parent directory without following a symlink at its name, so no
 * symlink in C (absolute, "../..", or swapped in by a process of C while
 * we copy) can make us read or write a file outside it.  The root is
 * /proc/PID/root of a running container (with its volumes), else its
 * overlay at DIR/rootfs, mounted for the copy (with C's lock held) and
 * unmounted again when it was not mounted before.  Kernel file systems
 * (proc, sysfs, cgroup...) inside C are neither read nor written.
 *
 * engine_cp_from: C's PATH to the host's DEST, or, DEST NULL, as a tar
 * stream on OUT_FD.  engine_cp_to: the host's SRC, or, SRC NULL, a tar
 * stream read from IN_FD (DEST then must be a directory), to C's PATH.
 * *RET_BYTES (may be NULL): bytes of file content copied. */
int engine_cp_from(struct engine *e, struct container *c, const char *path, const char *dest, int out_fd,
                   unsigned flags, uint64_t *ret_bytes, struct error *err);
int engine_cp_to(struct engine *e, struct container *c, const char *src, int in_fd, const char *path,
                 unsigned flags, uint64_t *ret_bytes, struct error *err);
