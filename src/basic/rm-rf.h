/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Remove NAME beneath DIRFD and, when it is a directory, everything in it,
 * never following a symlink (a link is removed, not its target) and never
 * leaving the file system DIRFD is on for a mount point below it (such a
 * directory fails with EBUSY).  0, or the first -errno met (the rest is
 * still attempted); ENOENT for NAME itself counts as success. */
int rm_rf_at(int dirfd, const char *name);
