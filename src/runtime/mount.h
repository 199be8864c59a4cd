/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "basic/error.h"
#include "runtime/spec.h"

/* Mounts of the OCI config, done with the new mount API (Linux >= 5.12
 * for mount_setattr): every mount is built detached (fsopen/fsmount or
 * open_tree), gets its attributes while nobody can see it, and is then
 * attached with move_mount() onto an fd resolved inside the rootfs. */

enum {
        MOUNT_OPT_BIND = 1 << 0,      /* bind or rbind */
        MOUNT_OPT_REC = 1 << 1,       /* rbind */
        MOUNT_OPT_REMOUNT = 1 << 2,
        MOUNT_OPT_TMPCOPYUP = 1 << 3,
        MOUNT_OPT_IDMAP = 1 << 4,
        MOUNT_OPT_RIDMAP = 1 << 5,
};

struct mount_options {
        unsigned flags;                /* MOUNT_OPT_* */
        uint64_t attr_set, attr_clr;   /* MOUNT_ATTR_*, the top mount */
        uint64_t rattr_set, rattr_clr; /* MOUNT_ATTR_*, the whole tree */
        unsigned long sb_flags;        /* MS_SYNCHRONOUS, MS_DIRSYNC, MS_LAZYTIME, MS_SILENT */
        unsigned long propagation;     /* MS_{SHARED,SLAVE,PRIVATE,UNBINDABLE} [| MS_REC], 0: none */
        char *data;                    /* the rest, comma separated; NULL when none */
};

/* Split OPTIONS (NULL-terminated, may be NULL) into flags and data.
 * Unknown options go to data for the filesystem; never fails today but
 * keeps the error slot for stricter checks. */
int mount_options_parse(char *const *options, struct mount_options *ret, struct error *err);
void mount_options_clear(struct mount_options *mo);

/* "rslave" → MS_SLAVE|MS_REC, ...; -EINVAL when unknown. */
int mount_propagation_parse(const char *s, unsigned long *ret);

/* Does this config entry ask for a bind mount (type "bind", or a bind or
 * rbind option)? */
bool mount_is_bind(const struct spec_mount *m);

struct mount_ctx {
        int rootfd;             /* O_PATH fd of the rootfs (a mount point) */
        const char *root_path;  /* where ROOTFD is (fd_get_path), NULL: look each time */
        const char *bundle;     /* relative bind sources */
        bool new_userns;
        bool cgroupns;
        const int *premounted;  /* optional detached trees by mount index, -1 none */
        size_t n_premounted;
        const char *mount_label; /* linux.mountLabel (SELinux context= of tmpfs, devpts, mqueue), NULL: none */
        const char *host_mountinfo, *host_proc_cgroup; /* see struct rootfs_opts */
        const char *cgroup_path;                         /* see struct rootfs_opts */
};

/* Perform config mount IDX.  Errors read "mounts[IDX] (DEST): ...". */
int mount_apply(const struct mount_ctx *ctx, const struct spec_mount *m, size_t idx, struct error *err);

/* Attach the detached tree TREEFD onto the object DSTFD refers to. */
int mount_move(int treefd, int dstfd);
/* Clone the mount at SRCFD (its subtree when RECURSIVE) onto DSTFD with
 * ATTR_SET added to every mount of the clone, without a writable window.
 * Returns 0 or -errno. */
int mount_bind_fd(int srcfd, int dstfd, bool recursive, uint64_t attr_set);
/* A fresh, detached tmpfs with the given attributes and data, or -errno. */
int mount_new_tmpfs(uint64_t attr_set, const char *data);

/* A user namespace fd whose maps are the given mappings (idmapped
 * mounts), or -errno. */
int mount_make_userns(const struct spec_id_mapping *uid, size_t n_uid,
                      const struct spec_id_mapping *gid, size_t n_gid);

/* Copy the tree under SRCDIRFD into DSTDIRFD: modes, owners, symlinks,
 * device nodes and fifos (tmpcopyup). */
int mount_copy_tree(int srcdirfd, int dstdirfd, struct error *err);

/* Mount point of mount MNT_ID (statx STATX_MNT_ID) and whether it is
 * shared, from /proc/self/mountinfo; -ENOENT when unknown. */
int mount_info_lookup(uint64_t mnt_id, char **ret_mountpoint, bool *ret_shared);

/* For the parent, in the initial user namespace: a detached, idmapped
 * clone of the bind source of M (idmap/ridmap), with USERNS_FD (the
 * container's user namespace) when M has no mappings of its own. */
int mount_prepare_idmapped(const struct spec_mount *m, const char *bundle, int userns_fd, struct error *err);

/* PATH normalised lexically as seen from "/": no "//", "." or ".."
 * (which stops at the root); always absolute.  Malloc'd. */
char *mount_path_clean(const char *path);
