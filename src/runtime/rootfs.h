/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "basic/error.h"
#include "runtime/spec.h"

struct rootfs_opts {
        const char *rootfs; /* absolute path of the root on the host */
        const char *bundle; /* absolute path of the bundle (relative mount sources) */
        bool no_pivot;      /* MS_MOVE + chroot instead of pivot_root */
        bool new_userns;    /* devices must be bind-mounted, not mknod'ed */
        bool new_mntns;     /* false: no mount namespace, skip rootfs setup */
        bool has_terminal;  /* /dev/console for the container's pty */
        bool cgroupns;      /* the container has its own cgroup namespace */
        /* Called after every mount is in place and before pivot_root (the
         * spec's createRuntime/createContainer hook point); may be NULL. */
        int (*before_pivot)(void *userdata, struct error *err);
        void *userdata;
        /* Optional: detached mount trees prepared by the parent, indexed
         * like spec->mounts (-1: none), e.g. from
         * rootfs_prepare_idmapped_mount(); used instead of the source. */
        const int *mount_fds;
        size_t n_mount_fds;
        const char *mount_label; /* linux.mountLabel, NULL: none */
        /* The runtime's /proc/self/mountinfo and /proc/self/cgroup when the
         * container's mount namespace is a copy of its namespace and it has
         * a cgroup namespace (cgroup_host_views); NULL: read them. */
        const char *host_mountinfo, *host_proc_cgroup;
        /* The container's cgroup below each hierarchy's root ("berth-ID"),
         * NULL: unknown. */
        const char *cgroup_path;
};

/* Runs in the container's init after it entered its namespaces (mount ns
 * new, uid maps written).  Sets rootfsPropagation, binds the root onto
 * itself, performs every mount in order (bind/rbind with options and
 * propagation flags, tmpfs, proc, sysfs, mqueue, devpts, cgroup,
 * tmpcopyup), creates default devices and linux.devices, /dev symlinks,
 * /dev/pts/ptmx, pivot_root (or MS_MOVE+chroot), then chdir("/").
 * Every destination is resolved inside the rootfs (chase_open) and the
 * mount lands on the checked fd. */
int rootfs_setup(const struct spec *s, const struct rootfs_opts *o, struct error *err);

/* After pivot: sysctl (verified to be procfs), maskedPaths,
 * readonlyPaths, root.readonly remount, final propagation.  Writes into
 * /proc and /sys are checked with fstatfs (CVE-2019-16884). */
int rootfs_finalize(const struct spec *s, const struct rootfs_opts *o, struct error *err);

/* Bind the pty slave PTY_SLAVE_PATH (host path or fd path) over
 * /dev/console inside the already pivoted root, race-free
 * (CVE-2025-52565). */
int rootfs_setup_console(int pty_slave_fd, struct error *err);

/* In the parent (initial user namespace), for mounts[IDX] with the idmap
 * or ridmap option: a detached clone of its bind source, idmapped with
 * the mount's own uidMappings/gidMappings, or with USERNS_FD (the
 * container's user namespace, e.g. /proc/PID/ns/user) when it has none.
 * Idmapping needs CAP_SYS_ADMIN over the filesystem's user namespace,
 * which an init inside a new user namespace lacks.  Returns the fd for
 * rootfs_opts.mount_fds. */
int rootfs_prepare_idmapped_mount(const struct spec *s, size_t idx, const char *bundle, int userns_fd,
                                  struct error *err);
