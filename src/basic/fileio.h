/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Leaf helpers: return >= 0 on success, -errno on failure. */

/* Read a whole fd into a NUL-terminated buffer (at most max bytes, -EFBIG past it). */
int read_full_fd(int fd, size_t max, char **ret, size_t *ret_len);
/* Read a whole file, opened relative to dirfd (AT_FDCWD allowed). */
int read_full_file_at(int dirfd, const char *path, size_t max, char **ret, size_t *ret_len);
/* Write all of buf, retrying on EINTR and short writes. */
int write_all(int fd, const void *buf, size_t len);
/* open(O_WRONLY|O_CLOEXEC[|O_TRUNC]) + write_all + close.  No O_CREAT:
 * for writing procfs, sysfs and cgroupfs files. */
int write_file_at(int dirfd, const char *path, const char *s);
/* Write a file atomically: a temporary in the same directory, fsync-less
 * rename over path.  mode is the final file's mode. */
int write_file_atomic_at(int dirfd, const char *path, const char *data, size_t len, mode_t mode);
/* Create PATH (which must not exist) holding DATA: for a directory only we
 * write to, where no reader can see a half-written file that matters. */
int write_file_new_at(int dirfd, const char *path, const char *data, size_t len, mode_t mode);
/* Read all of len bytes (fails with -EIO on EOF). */
int read_exact(int fd, void *buf, size_t len);

/* Parse a decimal integer, the whole string. */
int parse_int64(const char *s, int64_t *ret);
int parse_uint64(const char *s, uint64_t *ret);

/* Where FD points, from /proc/self/fd: a malloc'd absolute path or NULL. */
char *fd_get_path(int fd);
