/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>

#include "basic/error.h"
#include "image/store.h"

/* Snapshots: an image's unpacked layers (store layers/HEX/, each an
 * overlayfs lower directory with overlayfs whiteouts) seen as one file
 * system, the base of a container's root file system and of `berth image
 * mount`.
 *
 * Read-only (UPPER NULL): an overlay of the lower layers only, top layer
 * first; an image of one layer is a read-only bind of its directory
 * instead (overlayfs wants two lower layers when it has no upper one).
 * Writable: an overlay with UPPER and WORK, which must be on the same file
 * system (made when missing; UPPER then gets the mode and owner of the
 * image's root).  Either way the mount is nodev but not nosuid (images
 * carry setuid programs such as su and ping), and a read-only one has
 * MOUNT_ATTR_RDONLY.  Overlays show "berth" as their source in
 * /proc/self/mountinfo, which is how snapshot_probe() knows them.
 *
 * Needs CAP_SYS_ADMIN in the initial user namespace (the layers carry
 * trusted.overlay.* whiteouts).  Every layer must be unpacked: a missing
 * one is ENOENT, named.  On a kernel without "lowerdir+" (before 6.8) the
 * lower layers go in one "lowerdir" option of at most 255 bytes (the
 * limit of an fsconfig() string); when absolute paths do not fit, the
 * call changes the working directory to the layers directory for a moment
 * and names the layers relative to it (so it is not thread-safe there);
 * an image with more layers than that (4 or more) is mounted with
 * mount(2), whose options may fill a page (about 60 layers), by a child
 * in a mount namespace of its own that hands back a detached clone. */

/* At most this many layers in one overlay (overlayfs's OVL_MAX_STACK). */
#define SNAPSHOT_MAX_LAYERS 500

/* A detached mount of IMG's layers (see above): the mount fd
 * (O_CLOEXEC), for move_mount() wherever the caller wants it. */
int snapshot_open(struct store *s, const struct store_image *img, const char *upper, const char *work,
                  struct error *err);

/* snapshot_open() with the lower layers seen through idmapped mounts of
 * the user namespace USERNS_FD (a container's): a file the image owns as
 * uid 0 shows as the host uid that namespace maps 0 to, and the upper
 * layer gets what the container writes with the container's host ids.
 * Needs "lowerdir+" (Linux 6.8+) and overlayfs that accepts detached
 * idmapped layers (EOPNOTSUPP, named, otherwise). */
int snapshot_open_idmapped(struct store *s, const struct store_image *img, const char *upper, const char *work,
                           int userns_fd, struct error *err);

/* snapshot_open(), attached at TARGET: an existing directory that is not
 * a mount point already (EBUSY). */
int snapshot_mount(struct store *s, const struct store_image *img, const char *upper, const char *work,
                   const char *target, struct error *err);

/* Detach the mount at TARGET (not following a final symlink).  EINVAL:
 * TARGET is not a mount point; EBUSY: something still uses it. */
int snapshot_unmount(const char *target, struct error *err);

enum snapshot_state {
        SNAPSHOT_NONE,  /* TARGET is a directory, not a mount point */
        SNAPSHOT_OURS,  /* the root of a snapshot: an overlay berth made or a bind of one of S's layers */
        SNAPSHOT_OTHER, /* the root of some other mount */
};
/* What is mounted at the directory TARGET: an enum snapshot_state or
 * -errno (ENOENT, ENOTDIR...). */
int snapshot_probe(struct store *s, const char *target, struct error *err);

/* Tests: behave as on a kernel without "lowerdir+" (before Linux 6.8). */
extern bool snapshot_no_lowerdir_plus;
