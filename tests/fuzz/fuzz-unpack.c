/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Layer unpack: the input is a layer (tar, or gzip or zstd of one) fed
 * through a memfd to layer_unpack() with default options (no devices, no
 * owners) into a fresh directory, removed after each run.
 *
 * The directory sits two levels down in a private temporary tree,
 * BASE/outer/layer, and the working directory is BASE/outer during the
 * unpack: an entry created by name instead of beneath the layer's fd, or
 * through a ".." or a relative symlink that got out, lands in BASE or
 * BASE/outer, which must hold nothing else afterwards (abort()).  A
 * successful unpack must have read and hashed the whole input.
 *
 * When fuzzing, give libFuzzer an absolute -artifact_prefix: a crash
 * inside layer_unpack() happens with the working directory in BASE. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "basic/fileio.h"
#include "basic/rm-rf.h"
#include "image/digest.h"
#include "image/unpack.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char base_path[] = "/tmp/berth-fuzz-unpack.XXXXXX";
static int basefd = -EBADF, outerfd = -EBADF, cwdfd = -EBADF, memfd = -EBADF;

_noreturn_ static void fail(const char *what, int r)
{
        fprintf(stderr, "fuzz-unpack: %s: %s\n", what, strerror(r < 0 ? -r : r));
        abort();
}

static void base_remove(void)
{
        _cleanup_close_ int tmpfd = open("/tmp", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

        if (tmpfd >= 0)
                (void) rm_rf_at(tmpfd, base_path + strlen("/tmp/"));
}

static void setup(void)
{
        if (!mkdtemp(base_path))
                fail("mkdtemp", errno);
        atexit(base_remove);
        basefd = open(base_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (basefd < 0 || mkdirat(basefd, "outer", 0755) < 0)
                fail(base_path, errno);
        outerfd = openat(basefd, "outer", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        cwdfd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
        memfd = memfd_create("fuzz-unpack", MFD_CLOEXEC);
        if (outerfd < 0 || cwdfd < 0 || memfd < 0)
                fail("setup", errno);
}

/* DIRFD must hold exactly one entry, ONLY. */
static void check_only(int dirfd, const char *only, const char *where)
{
        int fd = fcntl(dirfd, F_DUPFD_CLOEXEC, 3);
        struct dirent *de;
        DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
        bool seen = false;

        if (!d)
                fail(where, errno);
        rewinddir(d); /* the offset is shared with DIRFD */
        while ((de = readdir(d))) {
                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                        continue;
                if (strcmp(de->d_name, only) != 0) {
                        fprintf(stderr, "fuzz-unpack: `%s` created in %s, outside the layer\n", de->d_name, where);
                        abort();
                }
                seen = true;
        }
        closedir(d);
        if (!seen) {
                fprintf(stderr, "fuzz-unpack: `%s` gone from %s\n", only, where);
                abort();
        }
}

/* Remove every entry beneath FD, which refers to a directory of ours,
 * however deep the tree: rm_rf_at() stops at 256 levels and a layer may
 * nest deeper.  Goes down through a non-empty subdirectory (O_NOFOLLOW,
 * never onto another file system), empties it, comes back up by "..".
 * Nothing else changes the tree meanwhile. */
static int empty_deep(int topfd)
{
        _cleanup_close_ int fd = fcntl(topfd, F_DUPFD_CLOEXEC, 3);
        size_t depth = 0;
        struct stat top;

        if (fd < 0 || fstat(fd, &top) < 0)
                return -errno;
        for (;;) {
                int dfd = fcntl(fd, F_DUPFD_CLOEXEC, 3), next;
                char sub[NAME_MAX + 1] = "";
                struct dirent *de;
                struct stat st;
                DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;

                if (!d) {
                        if (dfd >= 0)
                                close(dfd);
                        return -errno;
                }
                rewinddir(d); /* the offset is shared with FD */
                while ((de = readdir(d))) {
                        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0 ||
                            unlinkat(fd, de->d_name, 0) == 0 || unlinkat(fd, de->d_name, AT_REMOVEDIR) == 0)
                                continue;
                        if (errno != ENOTEMPTY && errno != EEXIST) {
                                closedir(d);
                                return -errno;
                        }
                        if (!sub[0])
                                (void) snprintf(sub, sizeof(sub), "%s", de->d_name);
                }
                closedir(d);
                if (!sub[0] && depth == 0)
                        return 0;
                next = openat(fd, sub[0] ? sub : "..", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (next < 0)
                        return -errno;
                closep(&fd);
                fd = next;
                if (fstat(fd, &st) < 0)
                        return -errno;
                if (st.st_dev != top.st_dev)
                        return -EBUSY;
                depth = sub[0] ? depth + 1 : depth - 1;
        }
}

static void layer_remove(void)
{
        _cleanup_close_ int fd = -EBADF;
        int r = rm_rf_at(outerfd, "layer");

        if (r != -ELOOP) {
                if (r < 0)
                        fail("remove the layer", r);
                return;
        }
        fd = openat(outerfd, "layer", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                fail("open the layer", errno);
        r = empty_deep(fd);
        if (r < 0)
                fail("empty the deep layer", r);
        if (unlinkat(outerfd, "layer", AT_REMOVEDIR) < 0)
                fail("remove the deep layer", errno);
}

static bool is_zstd(const uint8_t *data, size_t size)
{
        return size >= 4 && data[0] == 0x28 && data[1] == 0xb5 && data[2] == 0x2f && data[3] == 0xfd;
}

static bool is_gzip(const uint8_t *data, size_t size)
{
        return size >= 2 && data[0] == 0x1f && data[1] == 0x8b;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        _cleanup_error_ struct error err = ERROR_INIT;
        _cleanup_close_ int dstfd = -EBADF;
        struct unpack_opts opts = {};
        struct unpack_result res;
        char digest[DIGEST_BUF_SIZE];
        int r;

        /* Bounds on what one run may write and hash: gzip inflates at most
         * ~1000:1, zstd's RLE blocks ~32000:1. */
        if (size > (256U << 10) || (is_gzip(data, size) && size > (32U << 10)) ||
            (is_zstd(data, size) && size > 2048))
                return 0;
        if (basefd < 0)
                setup();

        /* the last run left the offset at its input's end */
        if (ftruncate(memfd, 0) < 0 || lseek(memfd, 0, SEEK_SET) < 0)
                fail("empty the memfd", errno);
        r = write_all(memfd, data, size);
        if (r < 0)
                fail("fill the memfd", r);
        if (lseek(memfd, 0, SEEK_SET) < 0)
                fail("rewind the memfd", errno);
        if (mkdirat(outerfd, "layer", 0755) < 0)
                fail("create the layer directory", errno);
        dstfd = openat(outerfd, "layer", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (dstfd < 0)
                fail("open the layer directory", errno);

        if (fchdir(outerfd) < 0)
                fail("chdir", errno);
        r = layer_unpack(memfd, dstfd, &opts, &res, &err);
        if (fchdir(cwdfd) < 0)
                fail("chdir back", errno);

        check_only(basefd, "outer", base_path);
        check_only(outerfd, "layer", "outer");
        if (r < 0 && !err.msg)
                fail("layer_unpack failed without an error message", r);
        if (r >= 0) {
                digest_buffer(data, size, digest);
                if (res.size != size || strcmp(res.digest, digest) != 0)
                        fail("layer_unpack succeeded without reading the whole input", EBADMSG);
        }
        layer_remove();
        return 0;
}
