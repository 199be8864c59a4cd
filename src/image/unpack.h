/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "basic/error.h"
#include "image/digest.h"

/* Unpacking one layer (a tar stream, plain, gzip or zstd: detected from
 * the bytes, not trusted from a media type) into a directory, for use as
 * an overlayfs lower layer.
 *
 * One pass, so IN_FD may be a pipe (a download) as well as a file: a
 * first libarchive reader (format "raw") decompresses the bytes read from
 * IN_FD, and its output feeds the tar reader through callbacks; the
 * compressed bytes are hashed on the way in (digest), the uncompressed
 * ones on the way between the two (diff_id).  After the tar's end marker
 * the rest of both streams is still read and hashed, so the digests are
 * of everything up to IN_FD's EOF.
 *
 * Safety contract: nothing is ever created, changed or followed outside
 * the directory DSTFD refers to.  Entries are created by berth itself
 * relative to an fd of their parent directory (never archive_write_disk,
 * which goes by path names).  The parent is resolved beneath DSTFD with
 * openat2(RESOLVE_IN_ROOT|RESOLVE_NO_SYMLINKS|RESOLVE_NO_MAGICLINKS), or,
 * without openat2 or when directories are missing, one component at a
 * time with O_NOFOLLOW, creating missing directories (0755, root-owned).
 * An entry path that goes through a symlink is refused, even one that
 * would resolve inside the layer (no layer a real tar writer makes has
 * one).  The last component is never followed: it is made with
 * mkdirat/openat(O_CREAT|O_EXCL|O_NOFOLLOW)/symlinkat/linkat/mknodat.
 *
 * Names: a leading "/" and "./" are dropped, as Docker does (they are
 * how tar writers spell the same relative path, never the host root), as
 * are "." and empty components; the name "./" (or "/", ".") is the layer
 * root itself, whose metadata a directory entry may set.  Refused, with
 * an error naming the entry ("layer entry `../etc/passwd`: path leaves
 * the layer"); the caller removes the half-filled directory:
 *  - an empty name, and ".." anywhere in a name or hard link target;
 *  - a path through a symlink or a non-directory;
 *  - hard links to anything but a regular file already unpacked from this
 *    layer (by name; not a directory, link, node or a name not seen yet);
 *  - replacing a directory of the layer with anything that is not a
 *    directory (a later entry with the same name otherwise wins: the
 *    earlier one is removed first; directory over directory updates it);
 *  - device nodes unless O->allow_devices, except 0/0 character devices
 *    (they open nothing; overlayfs reads them as whiteouts);
 *  - entry types other than file, directory, symlink, hard link, fifo,
 *    character and block device;
 *  - xattrs in "trusted.overlay." or "user.overlay." (overlayfs's own,
 *    the latter with "userxattr"), which would let a layer redirect
 *    lookups into other layers;
 *  - ".wh." names other than the whiteouts below.
 *
 * Kept: regular files (sparse holes too), directories, symlinks (their
 * targets are data, not followed), hard links within the layer, fifos,
 * device nodes (when allowed, as root), owner (when O->keep_owner, as
 * root: numeric ids; uname/gname are ignored), mode including
 * setuid/setgid/sticky (set after the owner, which would clear them;
 * without keep_owner a file's setuid/setgid bit is dropped unless the
 * tar's owner/group is ours, as tar --no-same-owner does),
 * mtime (atime = mtime; directories last, after their contents), xattrs
 * (user.*, trusted.* as root, security.capability: set after the owner).
 * An xattr the file system or this process cannot hold (EPERM, ENOTSUP:
 * trusted.* when not root, user.* on a symlink) is skipped and counted in
 * RET->xattrs_skipped.  Hard link entries carry no metadata of their own:
 * the inode is the target's.
 *
 * Whiteouts (OCI image spec): ".wh.NAME" becomes a 0/0 character device
 * NAME (needs CAP_MKNOD, or Linux >= 5.8 in a user namespace); an entry
 * of this same layer already at NAME is kept, since a whiteout only hides
 * lower layers.  ".wh..wh..opq" sets trusted.overlay.opaque="y" on its
 * directory (needs CAP_SYS_ADMIN).  Other ".wh." names are refused. */

struct unpack_opts {
        bool allow_devices; /* mknod device nodes (root only) */
        bool keep_owner;    /* chown to the tar's numeric ids (root only) */
        /* Optional: bytes of compressed input consumed so far, for progress */
        void (*progress)(uint64_t done, void *userdata);
        void *userdata;
};

struct unpack_result {
        char digest[DIGEST_BUF_SIZE];  /* of the bytes read from IN_FD (compressed) */
        char diff_id[DIGEST_BUF_SIZE]; /* of the uncompressed tar stream */
        uint64_t size;                 /* bytes read from IN_FD */
        uint64_t unpacked_size;        /* sum of regular file sizes */
        uint64_t xattrs_skipped;       /* xattrs refused with EPERM/ENOTSUP */
};

/* Read a layer from IN_FD (a file or a pipe) until EOF and unpack it into
 * DSTFD (an empty directory; an O_PATH fd will do).  O may be NULL (all
 * off), RET too.  0 or a negative errno with ERR set; RET is only written
 * on success. */
int layer_unpack(int in_fd, int dstfd, const struct unpack_opts *o, struct unpack_result *ret, struct error *err);

/* Write the directory tree SRCFD as an uncompressed layer tar to OUT_FD
 * (for `import` of a directory and for committing a container later).
 * Reproducible: names sorted bytewise, depth first, each directory before
 * its contents; the root itself has no entry; pax format with extended
 * headers only where needed (long names, large ids, xattrs as
 * SCHILY.xattr); numeric owners only; mtimes in whole seconds (as Docker
 * writes them), no atime/ctime; no padding past the end marker.  Hard
 * links are found by (dev, ino): the first name in that order is the
 * file, the others link to it.  xattrs are kept except overlayfs's own
 * ("trusted.overlay.", "user.overlay."); overlayfs whiteouts become OCI
 * ones: a 0/0 character device NAME is an empty file ".wh.NAME", and a
 * directory with trusted.overlay.opaque="y" is followed by an empty
 * ".wh..wh..opq" in it.  Sockets are skipped (not layer content); a name
 * starting with ".wh." is refused (it would read back as a whiteout).
 * Symlinks are never followed.  Computes the diff id (the sha256 of what
 * it wrote).  0 or a negative errno with ERR set. */
int layer_pack(int srcfd, int out_fd, char ret_diff_id[DIGEST_BUF_SIZE], struct error *err);
