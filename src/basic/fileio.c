/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fileio.h"
#include "macro.h"

int read_full_fd(int fd, size_t max, char **ret, size_t *ret_len)
{
        _cleanup_free_ char *buf = NULL;
        size_t len = 0, cap = 0;

        for (;;) {
                ssize_t n;

                if (cap - len < 4096) {
                        cap = cap ? cap * 2 : 8192;
                        buf = xrealloc(buf, cap + 1);
                }
                n = read(fd, buf + len, cap - len);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (n == 0)
                        break;
                len += n;
                if (len > max)
                        return -EFBIG;
        }
        if (!buf)
                buf = xmalloc(1);
        buf[len] = 0;
        *ret = TAKE_PTR(buf);
        if (ret_len)
                *ret_len = len;
        return 0;
}

int read_full_file_at(int dirfd, const char *path, size_t max, char **ret, size_t *ret_len)
{
        _cleanup_close_ int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        return read_full_fd(fd, max, ret, ret_len);
}

int write_all(int fd, const void *buf, size_t len)
{
        const char *p = buf;

        while (len > 0) {
                ssize_t n = write(fd, p, len);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                p += n;
                len -= n;
        }
        return 0;
}

int write_file_at(int dirfd, const char *path, const char *s)
{
        _cleanup_close_ int fd = openat(dirfd, path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
        ssize_t n;
        size_t len = strlen(s);

        if (fd < 0)
                return -errno;
        /* kernel interface files want the whole value in one write */
        n = RETRY_EINTR(write(fd, s, len));
        if (n < 0)
                return -errno;
        if ((size_t) n != len)
                return -EIO;
        return 0;
}

/* Create PATH with FLAGS (O_TRUNC or O_EXCL) and write DATA; removed
 * again when the write fails. */
static int write_new(int dirfd, const char *path, int flags, const char *data, size_t len, mode_t mode)
{
        _cleanup_close_ int fd = -EBADF;
        int r;

        fd = openat(dirfd, path, O_WRONLY | O_CREAT | flags | O_CLOEXEC | O_NOFOLLOW, mode);
        if (fd < 0)
                return -errno;
        r = write_all(fd, data, len);
        if (r < 0)
                (void) unlinkat(dirfd, path, 0);
        return r;
}

int write_file_new_at(int dirfd, const char *path, const char *data, size_t len, mode_t mode)
{
        return write_new(dirfd, path, O_EXCL, data, len, mode);
}

int write_file_atomic_at(int dirfd, const char *path, const char *data, size_t len, mode_t mode)
{
        _cleanup_free_ char *tmp = xasprintf("%s.tmp%d", path, (int) getpid());
        int r;

        r = write_new(dirfd, tmp, O_TRUNC, data, len, mode);
        if (r >= 0 && renameat(dirfd, tmp, dirfd, path) < 0) {
                r = -errno;
                (void) unlinkat(dirfd, tmp, 0);
        }
        return r;
}

int read_exact(int fd, void *buf, size_t len)
{
        char *p = buf;

        while (len > 0) {
                ssize_t n = read(fd, p, len);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (n == 0)
                        return -EIO;
                p += n;
                len -= n;
        }
        return 0;
}

int parse_int64(const char *s, int64_t *ret)
{
        char *end;
        long long v;

        if (!s || !*s)
                return -EINVAL;
        errno = 0;
        v = strtoll(s, &end, 10);
        if (errno)
                return -errno;
        if (*end)
                return -EINVAL;
        *ret = v;
        return 0;
}

int parse_uint64(const char *s, uint64_t *ret)
{
        char *end;
        unsigned long long v;

        if (!s || !*s || *s == '-')
                return -EINVAL;
        errno = 0;
        v = strtoull(s, &end, 10);
        if (errno)
                return -errno;
        if (*end)
                return -EINVAL;
        *ret = v;
        return 0;
}

char *fd_get_path(int fd)
{
        char link[64], buf[PATH_MAX];
        ssize_t n;

        (void) snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
        n = readlink(link, buf, sizeof(buf) - 1);
        if (n <= 0)
                return NULL;
        buf[n] = 0;
        return xstrdup(buf);
}
