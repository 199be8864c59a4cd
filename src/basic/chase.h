/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

/* Open PATH inside the directory tree rooted at ROOTFD, resolving every
 * component (symlinks and ".." included) as if ROOTFD were "/": nothing can
 * resolve to a place outside it (CVE-2021-30465 class).  Uses openat2()
 * with RESOLVE_IN_ROOT|RESOLVE_NO_MAGICLINKS; where that is unavailable
 * (ENOSYS before Linux 5.6, EPERM/ENOSYS under seccomp) it walks one
 * component at a time with O_PATH|O_NOFOLLOW, resolving links by hand
 * against ROOTFD.  OPEN_FLAGS are openat flags (O_CLOEXEC is always added);
 * O_CREAT is honoured for the last component only.
 * Returns an fd or -errno. */
int chase_open(int rootfd, const char *path, int open_flags, mode_t mode);

/* Open PATH below ROOTFD only when no symlink is on the way (".." stays
 * in the root): then PATH, cleaned lexically, is where the fd is.  -ELOOP
 * when a symlink was met, -EOPNOTSUPP without openat2(), else -errno. */
int chase_open_plain(int rootfd, const char *path, int open_flags);

/* Create every missing directory of PATH inside ROOTFD (mode 0755 unless
 * given) and return an O_PATH|O_DIRECTORY fd of the last one, or -errno. */
int chase_mkdir_p(int rootfd, const char *path, mode_t mode);

/* Make sure PATH exists inside ROOTFD as a directory (IS_DIR) or an empty
 * regular file (!IS_DIR), creating parents as needed; returns an O_PATH fd
 * of it (not following a final symlink out of the root), or -errno. */
int chase_mkpath(int rootfd, const char *path, bool is_dir, mode_t mode);

/* Force the fallback walk (tests). */
extern bool chase_no_openat2;
