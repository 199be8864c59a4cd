/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "macro.h"
#include "rm-rf.h"

#define MAX_DEPTH 256

static int rm_children(int fd, dev_t dev, int depth);

static int rm_one(int dirfd, const char *name, dev_t dev, int depth)
{
        _cleanup_close_ int fd = -EBADF;
        struct stat st;
        int r;

        if (unlinkat(dirfd, name, 0) == 0 || errno == ENOENT)
                return 0;
        if (errno != EISDIR && errno != EPERM)
                return -errno;
        if (depth > MAX_DEPTH)
                return -ELOOP;
        fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return errno == ENOENT ? 0 : -errno;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (st.st_dev != dev)
                return -EBUSY; /* a mount point: not ours to empty */
        r = rm_children(fd, dev, depth + 1);
        if (unlinkat(dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT && r >= 0)
                r = -errno;
        return r;
}

static int rm_children(int fd, dev_t dev, int depth)
{
        int dfd = fcntl(fd, F_DUPFD_CLOEXEC, 3), r = 0;
        struct dirent *de;
        DIR *d;

        if (dfd < 0)
                return -errno;
        d = fdopendir(dfd);
        if (!d) {
                r = -errno;
                close(dfd);
                return r;
        }
        while ((de = readdir(d))) {
                int q;

                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                        continue;
                q = rm_one(fd, de->d_name, dev, depth);
                if (q < 0 && r >= 0)
                        r = q;
        }
        closedir(d);
        return r;
}

int rm_rf_at(int dirfd, const char *name)
{
        struct stat st;

        if (fstat(dirfd, &st) < 0)
                return -errno;
        return rm_one(dirfd, name, st.st_dev, 0);
}
