/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Layer unpack and pack.  Archives are built here with libarchive's writer
 * (plain, gzip, zstd), unpacked into a temporary directory and checked
 * entry by entry.  Hostile archives must fail naming the entry and leave a
 * sentinel directory next to the destination untouched; they run once
 * with openat2() and once with the component walk. */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "basic/chase.h"
#include "basic/fileio.h"
#include "basic/rm-rf.h"
#include "image/digest.h"
#include "image/unpack.h"
#include "tap.h"

#define TMP_PREFIX "/tmp/berth-test-unpack-"
#define T0 1600000000

static char top[] = TMP_PREFIX "XXXXXX";
static int topfd = -EBADF;
static bool is_root;
static unsigned n_case;

/* A growing byte buffer. */
struct buf {
        char *data;
        size_t len, cap;
};

static void buf_add(struct buf *b, const void *d, size_t n)
{
        if (b->len + n > b->cap) {
                b->cap = (b->len + n) * 2;
                b->data = xrealloc(b->data, b->cap);
        }
        memcpy(b->data + b->len, d, n);
        b->len += n;
}

static void buf_free(struct buf *b)
{
        free(b->data);
        *b = (struct buf) {};
}

static la_ssize_t buf_write_cb(struct archive *a, void *userdata, const void *d, size_t n)
{
        buf_add(userdata, d, n);
        return (la_ssize_t) n;
}

/* One tar entry to write: MODE has the type; HARDLINK makes a hard link. */
struct ent {
        const char *name;
        mode_t mode;
        const char *data;
        const char *link;
        const char *hardlink;
        dev_t rdev;
        int64_t uid, gid;
        time_t mtime;
        long nsec;
        const char *xname, *xvalue;
};

static struct archive *tar_new(struct buf *out, int format)
{
        struct archive *a = archive_write_new();

        if (archive_write_set_format(a, format) != ARCHIVE_OK || archive_write_add_filter_none(a) != ARCHIVE_OK ||
            archive_write_set_bytes_in_last_block(a, 1) != ARCHIVE_OK ||
            archive_write_open(a, out, NULL, buf_write_cb, NULL) != ARCHIVE_OK)
                printf("# tar writer: %s\n", archive_error_string(a));
        return a;
}

static bool tar_add(struct archive *a, const struct ent *x)
{
        struct archive_entry *e = archive_entry_new();
        size_t len = x->data ? strlen(x->data) : 0;
        bool good;

        archive_entry_set_pathname(e, x->name);
        archive_entry_set_mode(e, x->hardlink ? (S_IFREG | 0644) : x->mode);
        archive_entry_set_uid(e, x->uid);
        archive_entry_set_gid(e, x->gid);
        archive_entry_set_mtime(e, x->mtime ? x->mtime : T0, x->nsec);
        if (x->link)
                archive_entry_set_symlink(e, x->link);
        if (x->hardlink)
                archive_entry_set_hardlink(e, x->hardlink);
        if (x->rdev)
                archive_entry_set_rdev(e, x->rdev);
        archive_entry_set_size(e, x->hardlink || !S_ISREG(x->mode) ? 0 : (la_int64_t) len);
        if (x->xname)
                archive_entry_xattr_add_entry(e, x->xname, x->xvalue, strlen(x->xvalue));
        good = archive_write_header(a, e) >= ARCHIVE_WARN;
        if (good && len > 0 && !x->hardlink)
                good = archive_write_data(a, x->data, len) == (la_ssize_t) len;
        if (!good)
                printf("# tar entry `%s`: %s\n", x->name, archive_error_string(a));
        archive_entry_free(e);
        return good;
}

static void tar_end(struct archive *a)
{
        archive_write_close(a);
        archive_write_free(a);
}

/* A pax tar of ENTS (ended by one without a name). */
static struct buf tar_of(const struct ent *ents)
{
        struct buf out = {};
        struct archive *a = tar_new(&out, ARCHIVE_FORMAT_TAR_PAX_RESTRICTED);

        for (const struct ent *x = ents; x->name; x++)
                tar_add(a, x);
        tar_end(a);
        return out;
}

/* TAR compressed with FILTER (an ARCHIVE_FILTER_* code), through the "raw"
 * format: exactly these bytes inside. */
static bool compress_buf(const struct buf *tar, int filter, struct buf *ret)
{
        struct archive *a = archive_write_new();
        struct archive_entry *e = archive_entry_new();
        bool good;

        *ret = (struct buf) {};
        /* no padding after the compressed stream: zstd would read it as a frame */
        good = archive_write_set_format_raw(a) == ARCHIVE_OK && archive_write_add_filter(a, filter) == ARCHIVE_OK &&
               archive_write_set_bytes_in_last_block(a, 1) == ARCHIVE_OK &&
               archive_write_open(a, ret, NULL, buf_write_cb, NULL) == ARCHIVE_OK;
        archive_entry_set_pathname(e, "data");
        archive_entry_set_mode(e, S_IFREG | 0644);
        archive_entry_set_size(e, (la_int64_t) tar->len);
        good = good && archive_write_header(a, e) == ARCHIVE_OK &&
               archive_write_data(a, tar->data, tar->len) == (la_ssize_t) tar->len;
        good = good && archive_write_close(a) == ARCHIVE_OK;
        archive_entry_free(e);
        archive_write_free(a);
        if (!good)
                buf_free(ret);
        return good;
}

static int memfd_of(const struct buf *b)
{
        int fd = memfd_create("layer", MFD_CLOEXEC);

        if (fd < 0 || write_all(fd, b->data, b->len) < 0 || lseek(fd, 0, SEEK_SET) < 0)
                abort();
        return fd;
}

/* A fresh directory "case-N" in TOP holding "dst" (empty) and "sentinel"
 * (one file "file", "keep").  Returns an fd of the case directory. */
static int case_new(char **ret_name)
{
        char *name = xasprintf("case-%u", ++n_case);
        int fd;

        if (mkdirat(topfd, name, 0755) < 0 || (fd = openat(topfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
                abort();
        if (mkdirat(fd, "dst", 0755) < 0 || mkdirat(fd, "sentinel", 0755) < 0 ||
            write_file_new_at(fd, "sentinel/file", "keep", 4, 0644) < 0)
                abort();
        *ret_name = name;
        return fd;
}

static void case_free(int fd, char *name)
{
        close(fd);
        if (rm_rf_at(topfd, name) < 0)
                printf("# cannot remove %s/%s\n", top, name);
        free(name);
}

static int unpack_into(int casefd, const struct buf *b, const struct unpack_opts *o, struct unpack_result *res,
                       struct error *err)
{
        _cleanup_close_ int in = memfd_of(b), dst = openat(casefd, "dst", O_PATH | O_DIRECTORY | O_CLOEXEC);

        return layer_unpack(in, dst, o, res, err);
}

static bool xattr_is(int dfd, const char *path, const char *name, const char *want)
{
        _cleanup_close_ int fd = openat(dfd, path, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        char proc[64], v[256];
        ssize_t n;

        snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
        n = fd < 0 ? -1 : getxattr(proc, name, v, sizeof(v) - 1);
        if (!want)
                return n < 0 && errno == ENODATA;
        if (n < 0)
                return false;
        v[n] = 0;
        return strcmp(v, want) == 0;
}

static bool content_is(int dfd, const char *path, const char *want)
{
        _cleanup_free_ char *got = NULL;
        size_t len;

        if (read_full_file_at(dfd, path, 1 << 20, &got, &len) < 0)
                return false;
        return len == strlen(want) && memcmp(got, want, len) == 0;
}

static bool stat_is(int dfd, const char *path, mode_t mode, struct stat *ret)
{
        struct stat st;

        if (fstatat(dfd, path, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                printf("# %s: %m\n", path);
                return false;
        }
        if (ret)
                *ret = st;
        if (st.st_mode != mode)
                printf("# %s: mode %o, want %o\n", path, st.st_mode, mode);
        return st.st_mode == mode;
}

/* The entries of a directory, sorted, joined by " ". */
static char *listing(int dfd, const char *path)
{
        struct dirent **list = NULL;
        struct buf b = {};
        int n = scandirat(dfd, path, &list, NULL, alphasort);

        for (int i = 0; i < n; i++) {
                if (strcmp(list[i]->d_name, ".") != 0 && strcmp(list[i]->d_name, "..") != 0) {
                        if (b.len)
                                buf_add(&b, " ", 1);
                        buf_add(&b, list[i]->d_name, strlen(list[i]->d_name));
                }
                free(list[i]);
        }
        free(list);
        buf_add(&b, "", 1);
        return b.data;
}

/* Nothing outside "dst" changed: the case directory holds dst and
 * sentinel only, the sentinel its one untouched file. */
static bool outside_untouched(int casefd)
{
        _cleanup_free_ char *c = listing(casefd, "."), *s = listing(casefd, "sentinel");
        struct stat st;

        if (strcmp(c, "dst sentinel") != 0 || strcmp(s, "file") != 0) {
                printf("# case dir: %s; sentinel: %s\n", c, s);
                return false;
        }
        if (!xattr_is(casefd, "sentinel", "trusted.overlay.opaque", NULL))
                return false;
        return fstatat(casefd, "sentinel/file", &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode) &&
               st.st_nlink == 1 && content_is(casefd, "sentinel/file", "keep");
}

static const struct ent basic_ents[] = {
        { .name = "./", .mode = S_IFDIR | 0751, .mtime = T0 + 1 },
        { .name = "dir/", .mode = S_IFDIR | 0750, .uid = 1000, .gid = 1001, .mtime = T0 + 2, .xname = "user.dir",
          .xvalue = "yes" },
        { .name = "dir/file", .mode = S_IFREG | 0640, .data = "hello\n", .uid = 1000, .gid = 1001,
          .mtime = T0 + 3, .nsec = 123456789, .xname = "user.a", .xvalue = "b" },
        { .name = "dir/suid", .mode = S_IFREG | 04755, .data = "#!/bin/sh\n" },
        { .name = "dir/sgid", .mode = S_IFREG | 02750, .data = "x", .uid = 1000, .gid = 1001 },
        { .name = "dir/empty", .mode = S_IFREG | 0444 },
        { .name = "dir/link", .mode = S_IFLNK | 0777, .link = "file", .mtime = T0 + 4 },
        { .name = "dir/hard", .hardlink = "dir/file" },
        { .name = "dir/tx", .mode = S_IFREG | 0644, .data = "t", .xname = "trusted.berth", .xvalue = "1" },
        { .name = "sticky/", .mode = S_IFDIR | 01777 },
        { .name = "/abs/x", .mode = S_IFREG | 0644, .data = "abs" },
        { .name = "./dot//./y", .mode = S_IFREG | 0600, .data = "dot" },
        { .name = "fifo", .mode = S_IFIFO | 0620 },
        { .name = "deep/a/b/c", .mode = S_IFREG | 0644, .data = "deep" },
        {},
};

static void check_basic_tree(int d)
{
        struct stat st, st2;

        ok(stat_is(d, ".", S_IFDIR | 0751, &st) && st.st_mtim.tv_sec == T0 + 1,
           "\"./\" sets the root's mode and mtime");
        ok(stat_is(d, "dir", S_IFDIR | 0750, &st) && st.st_mtim.tv_sec == T0 + 2 && st.st_mtim.tv_nsec == 0,
           "a directory gets its mode and its mtime after its contents");
        ok(xattr_is(d, "dir", "user.dir", "yes"), "a directory's xattr");
        ok(stat_is(d, "dir/file", S_IFREG | 0640, &st) && content_is(d, "dir/file", "hello\n"),
           "a file's mode and content");
        ok(st.st_mtim.tv_sec == T0 + 3 && st.st_mtim.tv_nsec == 123456789 && st.st_atim.tv_sec == T0 + 3,
           "a file's mtime with nanoseconds (pax), atime = mtime");
        ok(xattr_is(d, "dir/file", "user.a", "b"), "a file's user.* xattr");
        ok(stat_is(d, "dir/hard", S_IFREG | 0640, &st2) && st2.st_ino == st.st_ino && st2.st_nlink == 2,
           "a hard link shares the inode");
        if (is_root) {
                ok(stat_is(d, "dir/suid", S_IFREG | 04755, NULL), "setuid kept");
                ok(stat_is(d, "dir/sgid", S_IFREG | 02750, &st), "setgid kept");
                ok(st.st_uid == 1000 && st.st_gid == 1001, "numeric owner applied (and setgid survived the chown)");
        } else {
                ok(stat_is(d, "dir/suid", S_IFREG | 0755, NULL), "setuid of another owner dropped (not root)");
                ok(stat_is(d, "dir/sgid", S_IFREG | 0750, NULL), "setgid of another group dropped (not root)");
                skip("owners need root");
        }
        ok(stat_is(d, "dir/empty", S_IFREG | 0444, &st) && st.st_size == 0, "an empty read-only file");
        ok(stat_is(d, "dir/link", S_IFLNK | 0777, &st) && st.st_mtim.tv_sec == T0 + 4, "a symlink with its mtime");
        {
                char t[64];
                ssize_t n = readlinkat(d, "dir/link", t, sizeof(t));

                ok(n == 4 && memcmp(t, "file", 4) == 0, "a symlink's target");
        }
        if (is_root)
                ok(xattr_is(d, "dir/tx", "trusted.berth", "1"), "a trusted.* xattr as root");
        else
                skip("trusted.* xattrs need root");
        ok(stat_is(d, "sticky", S_IFDIR | 01777, NULL), "the sticky bit kept");
        ok(content_is(d, "abs/x", "abs"), "a leading \"/\" is dropped");
        ok(content_is(d, "dot/y", "dot"), "\"./\", \".\" and \"//\" are dropped");
        ok(stat_is(d, "fifo", S_IFIFO | 0620, NULL), "a fifo");
        ok(stat_is(d, "deep/a/b", S_IFDIR | 0755, NULL) && content_is(d, "deep/a/b/c", "deep"),
           "missing parents are created 0755");
}

static void test_basic(int filter, const char *fname)
{
        struct buf tar = tar_of(basic_ents), z = {};
        struct unpack_opts o = { .keep_owner = is_root };
        struct unpack_result res = {};
        _cleanup_error_ struct error err = ERROR_INIT;
        _cleanup_close_ int d = -EBADF;
        char want[DIGEST_BUF_SIZE];
        char *name;
        int c = case_new(&name), r;

        printf("# basic tree, %s\n", fname);
        if (filter == ARCHIVE_FILTER_NONE)
                z = (struct buf) { .data = xmalloc(tar.len), .len = tar.len };
        if (filter == ARCHIVE_FILTER_NONE)
                memcpy(z.data, tar.data, tar.len);
        else if (!compress_buf(&tar, filter, &z)) {
                skip("cannot compress with %s", fname);
                goto out;
        }
        r = unpack_into(c, &z, &o, &res, &err);
        if (!ok(r == 0, "unpack a %s layer", fname))
                printf("# %s\n", err.msg);
        d = openat(c, "dst", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (r == 0)
                check_basic_tree(d);
        digest_buffer(tar.data, tar.len, want);
        ok(r == 0 && strcmp(res.diff_id, want) == 0, "diff id is the sha256 of the uncompressed tar (%s)", fname);
        digest_buffer(z.data, z.len, want);
        ok(r == 0 && strcmp(res.digest, want) == 0 && res.size == z.len,
           "digest and size are of the bytes given (%s)", fname);
        ok(r == 0 && res.unpacked_size == 6 + 10 + 1 + 1 + 3 + 3 + 4, "unpacked size sums the regular files");
        /* libarchive's pax writer stores each xattr twice (LIBARCHIVE. and
         * SCHILY.), so trusted.berth may be refused twice without root */
        ok(r == 0 && (is_root ? res.xattrs_skipped == 0 : res.xattrs_skipped >= 1), "xattrs skipped: %llu",
           (unsigned long long) res.xattrs_skipped);
        ok(outside_untouched(c), "nothing written outside the destination");
out:
        buf_free(&tar);
        buf_free(&z);
        case_free(c, name);
}

/* Without keep_owner, setuid/setgid only stay on files the tar gives to
 * us: a layer's setuid-1000 program must not become a setuid-root one. */
static void test_no_owner(void)
{
        const struct ent ents[] = {
                { .name = "theirs", .mode = S_IFREG | 06755, .data = "x", .uid = 1000, .gid = 1000 },
                { .name = "ours", .mode = S_IFREG | 06755, .data = "x", .uid = geteuid(), .gid = getegid() },
                { .name = "d/", .mode = S_IFDIR | 02775, .uid = 1000, .gid = 1000 },
                {},
        };
        _cleanup_error_ struct error err = ERROR_INIT;
        struct buf tar = tar_of(ents);
        struct stat st;
        char *name;
        int c = case_new(&name), d;

        ok(unpack_into(c, &tar, &(struct unpack_opts) {}, NULL, &err) == 0, "unpack without keep_owner %s",
           err.msg ? err.msg : "");
        d = openat(c, "dst", O_PATH | O_DIRECTORY | O_CLOEXEC);
        ok(stat_is(d, "theirs", S_IFREG | 0755, &st) && st.st_uid == geteuid(),
           "setuid/setgid of another owner dropped, the file is ours");
        ok(stat_is(d, "ours", S_IFREG | 06755, NULL), "setuid/setgid of our own ids kept");
        ok(stat_is(d, "d", S_IFDIR | 02775, NULL), "a setgid directory keeps its bit");
        close(d);
        buf_free(&tar);
        case_free(c, name);
}

/* GNU tar format: long names and link targets (././@LongLink). */
static void test_gnu(void)
{
        _cleanup_error_ struct error err = ERROR_INIT;
        _cleanup_free_ char *longname = NULL, *target = NULL;
        struct buf tar = {};
        struct archive *a = tar_new(&tar, ARCHIVE_FORMAT_TAR_GNUTAR);
        char *name, buf[512];
        int c = case_new(&name), d;
        ssize_t n;

        longname = xasprintf("%0150d/file", 7);
        target = xasprintf("../%0200d", 8);
        tar_add(a, &(struct ent) { .name = longname, .mode = S_IFREG | 0644, .data = "long" });
        tar_add(a, &(struct ent) { .name = "l", .mode = S_IFLNK | 0777, .link = target });
        tar_end(a);
        ok(unpack_into(c, &tar, NULL, NULL, &err) == 0, "unpack a GNU tar %s", err.msg ? err.msg : "");
        d = openat(c, "dst", O_PATH | O_DIRECTORY | O_CLOEXEC);
        ok(content_is(d, longname, "long"), "a 155-character name");
        n = readlinkat(d, "l", buf, sizeof(buf));
        ok(n == (ssize_t) strlen(target) && memcmp(buf, target, (size_t) n) == 0,
           "a 203-character symlink target, kept as is");
        close(d);
        buf_free(&tar);
        case_free(c, name);
}

/* A name repeated: the later entry wins; a directory over a directory is
 * updated in place. */
static void test_repeat(void)
{
        static const struct ent ents[] = {
                { .name = "r", .mode = S_IFREG | 0644, .data = "one" },
                { .name = "h", .hardlink = "r" },
                { .name = "r", .mode = S_IFREG | 0600, .data = "two" },
                { .name = "h2", .hardlink = "r" },
                { .name = "d/", .mode = S_IFDIR | 0700 },
                { .name = "d/in", .mode = S_IFREG | 0644, .data = "in" },
                { .name = "d/", .mode = S_IFDIR | 0755, .mtime = T0 + 9 },
                { .name = "s", .mode = S_IFLNK | 0777, .link = "/etc" },
                { .name = "s", .mode = S_IFREG | 0644, .data = "file now" },
                { .name = "f", .mode = S_IFREG | 0644, .data = "f" },
                { .name = "f/", .mode = S_IFDIR | 0711 },
                {},
        };
        _cleanup_error_ struct error err = ERROR_INIT;
        struct buf tar = tar_of(ents);
        struct stat st;
        char *name;
        int c = case_new(&name), d;

        ok(unpack_into(c, &tar, NULL, NULL, &err) == 0, "unpack repeated names %s", err.msg ? err.msg : "");
        d = openat(c, "dst", O_PATH | O_DIRECTORY | O_CLOEXEC);
        ok(stat_is(d, "r", S_IFREG | 0600, NULL) && content_is(d, "r", "two"), "the later file wins");
        ok(content_is(d, "h", "one") && content_is(d, "h2", "two"), "hard links follow the file of their time");
        ok(stat_is(d, "d", S_IFDIR | 0755, &st) && st.st_mtim.tv_sec == T0 + 9 && content_is(d, "d/in", "in"),
           "a directory repeated keeps its contents and takes the later metadata");
        ok(stat_is(d, "s", S_IFREG | 0644, NULL) && content_is(d, "s", "file now"), "a file replaces a symlink");
        ok(stat_is(d, "f", S_IFDIR | 0711, NULL), "a directory replaces a file");
        close(d);
        buf_free(&tar);
        case_free(c, name);
}

static bool is_whiteout(int d, const char *path)
{
        struct stat st;

        return fstatat(d, path, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0);
}

static void test_whiteouts(void)
{
        static const struct ent ents[] = {
                { .name = "w/keep", .mode = S_IFREG | 0644, .data = "k" },
                { .name = "w/.wh.gone", .mode = S_IFREG | 0644 },
                { .name = ".wh.top", .mode = S_IFREG | 0644 },
                { .name = "o/.wh..wh..opq", .mode = S_IFREG | 0644 },
                { .name = "o/x", .mode = S_IFREG | 0644, .data = "x" },
                { .name = "k/x", .mode = S_IFREG | 0644, .data = "same layer" },
                { .name = "k/.wh.x", .mode = S_IFREG | 0644 },
                { .name = "n/.wh.y", .mode = S_IFREG | 0644 },
                { .name = "n/y", .mode = S_IFREG | 0644, .data = "back" },
                { .name = "c", .mode = S_IFCHR | 0600, .rdev = 0 },
                {},
        };
        _cleanup_error_ struct error err = ERROR_INIT;
        struct buf tar = {};
        char *name;
        int c, d, r;

        if (!is_root) {
                skip("whiteouts need CAP_MKNOD and CAP_SYS_ADMIN");
                return;
        }
        tar = tar_of(ents);
        c = case_new(&name);
        r = unpack_into(c, &tar, NULL, NULL, &err);
        ok(r == 0, "unpack whiteouts %s", err.msg ? err.msg : "");
        d = openat(c, "dst", O_PATH | O_DIRECTORY | O_CLOEXEC);
        ok(is_whiteout(d, "w/gone") && content_is(d, "w/keep", "k"), "\".wh.gone\" becomes a 0/0 device \"gone\"");
        ok(faccessat(d, "w/.wh.gone", F_OK, AT_SYMLINK_NOFOLLOW) < 0, "no \".wh.\" file is left");
        ok(is_whiteout(d, "top"), "a whiteout in the root");
        ok(xattr_is(d, "o", "trusted.overlay.opaque", "y") && content_is(d, "o/x", "x"),
           "\".wh..wh..opq\" makes its directory opaque");
        ok(faccessat(d, "o/.wh..wh..opq", F_OK, AT_SYMLINK_NOFOLLOW) < 0, "no opaque marker file is left");
        ok(content_is(d, "k/x", "same layer"), "a whiteout does not hide an entry of its own layer");
        ok(content_is(d, "n/y", "back"), "an entry after its whiteout replaces it");
        ok(is_whiteout(d, "c"), "a 0/0 character device entry is allowed without allow_devices");
        ok(xattr_is(d, "w", "trusted.overlay.opaque", NULL), "other directories are not opaque");
        close(d);
        buf_free(&tar);
        case_free(c, name);
}

/* A hostile archive: refused, with NAME in the message, nothing outside. */
static void hostile(const char *what, const struct buf *tar, const char *name, const struct unpack_opts *o)
{
        _cleanup_error_ struct error err = ERROR_INIT;
        _cleanup_free_ char *q1 = xasprintf("`%s`", name), *q2 = xasprintf("`%s/`", name);
        char *cname;
        int c = case_new(&cname), r;

        r = unpack_into(c, tar, o, NULL, &err);
        ok(r < 0 && err.msg && (strstr(err.msg, q1) || strstr(err.msg, q2)), "%s: refused naming %s (%s)", what, q1,
           err.msg ? err.msg : "no error");
        ok(outside_untouched(c), "%s: nothing changed outside", what);
        case_free(c, cname);
}

static void hostile_ents(const char *what, const struct ent *ents, const char *name)
{
        struct buf tar = tar_of(ents);

        hostile(what, &tar, name, NULL);
        buf_free(&tar);
}

/* A ustar header by hand, for what libarchive will not write. */
static struct buf ustar_raw(const char *name, char type, const char *linkname)
{
        struct buf b = {};
        char h[512] = {}, z[1024] = {};
        unsigned sum = 0;

        memcpy(h, name, strlen(name));
        snprintf(h + 100, 8, "%07o", 0644);
        snprintf(h + 108, 8, "%07o", 0);
        snprintf(h + 116, 8, "%07o", 0);
        snprintf(h + 124, 12, "%011o", 0);
        snprintf(h + 136, 12, "%011o", T0);
        memset(h + 148, ' ', 8);
        h[156] = type;
        if (linkname)
                memcpy(h + 157, linkname, strlen(linkname));
        memcpy(h + 257, "ustar", 6);
        memcpy(h + 263, "00", 2);
        for (size_t i = 0; i < sizeof(h); i++)
                sum += (unsigned char) h[i];
        snprintf(h + 148, 8, "%06o", sum);
        h[155] = ' ';
        buf_add(&b, h, sizeof(h));
        buf_add(&b, z, sizeof(z));
        return b;
}

/* The sentinel directory of the case hostile() makes next. */
static char *next_sentinel(void)
{
        return xasprintf("%s/case-%u/sentinel", top, n_case + 1);
}

/* Names that leave the layer, and paths through links or files. */
static void hostile_paths(void)
{
        struct ent e[4] = {};
        struct buf tar;

        hostile_ents("\"..\" out", (struct ent[]) { { .name = "../escape", .mode = S_IFREG | 0644, .data = "x" }, {} },
                     "../escape");
        hostile_ents("\"..\" inside", (struct ent[]) { { .name = "a/../../escape", .mode = S_IFREG | 0644 }, {} },
                     "a/../../escape");
        hostile_ents("\"x/..\"", (struct ent[]) { { .name = "x/..", .mode = S_IFDIR | 0755 }, {} }, "x/..");
        {
                _cleanup_free_ char *sentinel = next_sentinel();

                e[0] = (struct ent) { .name = "a", .mode = S_IFLNK | 0777, .link = sentinel };
                e[1] = (struct ent) { .name = "a/passwd", .mode = S_IFREG | 0644, .data = "root::0:0::/:/bin/sh\n" };
                hostile_ents("an absolute symlink, then a file through it", e, "a/passwd");
        }
        e[0] = (struct ent) { .name = "a", .mode = S_IFLNK | 0777, .link = "../sentinel" };
        hostile_ents("a relative symlink out, then a file through it", e, "a/passwd");
        e[0] = (struct ent) { .name = "a", .mode = S_IFLNK | 0777, .link = "inside" };
        e[1] = (struct ent) { .name = "a/f", .mode = S_IFREG | 0644, .data = "x" };
        hostile_ents("a symlink inside the layer, then a file through it", e, "a/f");
        {
                _cleanup_free_ char *sentinel = next_sentinel();

                e[0] = (struct ent) { .name = "d/", .mode = S_IFDIR | 0755 };
                e[1] = (struct ent) { .name = "d", .mode = S_IFLNK | 0777, .link = sentinel };
                e[2] = (struct ent) { .name = "d/f", .mode = S_IFREG | 0644, .data = "x" };
                hostile_ents("a directory replaced by a symlink", e, "d");
        }
        e[0] = (struct ent) { .name = "f", .mode = S_IFREG | 0644 };
        e[1] = (struct ent) { .name = "f/g", .mode = S_IFREG | 0644 };
        e[2] = (struct ent) {};
        hostile_ents("a file under a file", e, "f/g");
        hostile_ents("a non-directory layer root", (struct ent[]) { { .name = ".", .mode = S_IFREG | 0644 }, {} }, ".");
        e[0] = (struct ent) { .name = "/", .mode = S_IFLNK | 0777, .link = "x" };
        e[1] = (struct ent) {};
        hostile_ents("a symlink as the layer root", e, "/");
        tar = ustar_raw("", '0', NULL);
        hostile("an empty name", &tar, "", NULL);
        buf_free(&tar);
}

static void hostile_links(void)
{
        struct ent e[4] = {};

        {
                _cleanup_free_ char *sentinel = next_sentinel();

                e[0] = (struct ent) { .name = "s", .mode = S_IFLNK | 0777, .link = sentinel };
                e[1] = (struct ent) { .name = "h", .hardlink = "s/file" };
                hostile_ents("a symlink out, then a hard link through it", e, "h");
        }
        {
                _cleanup_free_ char *sentinel = next_sentinel();

                e[0] = (struct ent) { .name = "x", .mode = S_IFREG | 0644, .data = "x" };
                e[1] = (struct ent) { .name = "s", .mode = S_IFLNK | 0777, .link = sentinel };
                e[2] = (struct ent) { .name = "s/h", .hardlink = "x" };
                hostile_ents("a hard link made through a symlink out", e, "s/h");
        }
        {
                _cleanup_free_ char *sentinel = next_sentinel();

                e[0] = (struct ent) { .name = "f", .mode = S_IFREG | 0644, .data = "f" };
                e[1] = (struct ent) { .name = "f", .mode = S_IFLNK | 0777, .link = sentinel };
                e[2] = (struct ent) { .name = "h", .hardlink = "f" };
                hostile_ents("a hard link to a file since replaced by a symlink", e, "h");
        }
        e[0] = (struct ent) { .name = "h", .hardlink = "../sentinel/file" };
        e[1] = (struct ent) {};
        hostile_ents("a hard link to \"../\"", e, "h");
        e[0] = (struct ent) { .name = "h", .hardlink = "/etc/passwd" };
        hostile_ents("a hard link to an absolute path", e, "h");
        e[0] = (struct ent) { .name = "h", .hardlink = "later" };
        e[1] = (struct ent) { .name = "later", .mode = S_IFREG | 0644 };
        e[2] = (struct ent) {};
        hostile_ents("a hard link to a file not yet unpacked", e, "h");
        e[0] = (struct ent) { .name = "d/", .mode = S_IFDIR | 0755 };
        e[1] = (struct ent) { .name = "h", .hardlink = "d" };
        hostile_ents("a hard link to a directory", e, "h");
        e[0] = (struct ent) { .name = "l", .mode = S_IFLNK | 0777, .link = "/etc/passwd" };
        e[1] = (struct ent) { .name = "h", .hardlink = "l" };
        hostile_ents("a hard link to a symlink", e, "h");
}

static void hostile_xattr(const char *what, const char *name, mode_t mode, const char *xname)
{
        struct ent e[2] = { { .name = name, .mode = mode, .xname = xname, .xvalue = "y" } };

        hostile_ents(what, e, name);
}

/* Devices, ".wh." names, overlayfs xattrs, whiteouts through links. */
static void hostile_names(void)
{
        struct ent e[3] = {};

        e[0] = (struct ent) { .name = "null", .mode = S_IFCHR | 0666, .rdev = makedev(1, 3) };
        hostile_ents("a device node without allow_devices", e, "null");
        e[0] = (struct ent) { .name = "sda", .mode = S_IFBLK | 0660, .rdev = makedev(8, 0) };
        hostile_ents("a block device without allow_devices", e, "sda");
        e[0] = (struct ent) { .name = ".wh..wh.plnk", .mode = S_IFREG | 0644 };
        hostile_ents("an AUFS metadata name", e, ".wh..wh.plnk");
        e[0] = (struct ent) { .name = "a/.wh.", .mode = S_IFREG | 0644 };
        hostile_ents("a bare \".wh.\"", e, "a/.wh.");
        e[0] = (struct ent) { .name = "a/.wh...", .mode = S_IFREG | 0644 };
        hostile_ents("a \".wh...\" whiteout of \"..\"", e, "a/.wh...");
        e[0] = (struct ent) { .name = ".wh.d/f", .mode = S_IFREG | 0644 };
        hostile_ents("a \".wh.\" directory", e, ".wh.d/f");
        hostile_xattr("a trusted.overlay xattr", "f", S_IFREG | 0644, "trusted.overlay.redirect");
        hostile_xattr("an opaque xattr on a directory", "d", S_IFDIR | 0755, "trusted.overlay.opaque");
        hostile_xattr("a user.overlay xattr", "f", S_IFREG | 0644, "user.overlay.opaque");
        {
                _cleanup_free_ char *sentinel = next_sentinel();

                e[0] = (struct ent) { .name = "a", .mode = S_IFLNK | 0777, .link = sentinel };
                e[1] = (struct ent) { .name = "a/.wh.file", .mode = S_IFREG | 0644 };
                hostile_ents("a whiteout through a symlink", e, "a/.wh.file");
        }
        {
                _cleanup_free_ char *sentinel = next_sentinel();

                e[0] = (struct ent) { .name = "a", .mode = S_IFLNK | 0777, .link = sentinel };
                e[1] = (struct ent) { .name = "a/.wh..wh..opq", .mode = S_IFREG | 0644 };
                hostile_ents("an opaque marker through a symlink", e, "a/.wh..wh..opq");
        }
}

static void test_hostile(void)
{
        hostile_paths();
        hostile_links();
        hostile_names();
}

static void test_devices(void)
{
        const struct ent ents[] = {
                { .name = "null", .mode = S_IFCHR | 0666, .rdev = makedev(1, 3), .uid = 5, .gid = 6 },
                { .name = "loop9", .mode = S_IFBLK | 0640, .rdev = makedev(7, 9) },
                {},
        };
        _cleanup_error_ struct error err = ERROR_INIT;
        struct unpack_opts o = { .allow_devices = true, .keep_owner = true };
        struct buf tar = {};
        struct stat st;
        char *name;
        int c, d;

        if (!is_root) {
                skip("device nodes need root");
                return;
        }
        tar = tar_of(ents);
        c = case_new(&name);
        ok(unpack_into(c, &tar, &o, NULL, &err) == 0, "unpack device nodes with allow_devices %s",
           err.msg ? err.msg : "");
        d = openat(c, "dst", O_PATH | O_DIRECTORY | O_CLOEXEC);
        ok(stat_is(d, "null", S_IFCHR | 0666, &st) && st.st_rdev == makedev(1, 3) && st.st_uid == 5 && st.st_gid == 6,
           "a character device with its numbers and owner");
        ok(stat_is(d, "loop9", S_IFBLK | 0640, &st) && st.st_rdev == makedev(7, 9), "a block device");
        close(d);
        buf_free(&tar);
        case_free(c, name);
}

static void bad_input(const char *what, const struct buf *b)
{
        _cleanup_error_ struct error err = ERROR_INIT;
        char *name;
        int c = case_new(&name), r;

        r = unpack_into(c, b, NULL, NULL, &err);
        ok(r < 0 && err.msg, "%s: refused (%s)", what, err.msg ? err.msg : "no error");
        case_free(c, name);
}

static void test_bad_input(void)
{
        struct buf junk = {}, tar = tar_of(basic_ents), z = {};

        for (int i = 0; i < 2000; i++) {
                char ch = (char) ('a' + (i * 7) % 26);

                buf_add(&junk, &ch, 1);
        }
        bad_input("not a tar", &junk);
        if (compress_buf(&tar, ARCHIVE_FILTER_GZIP, &z)) {
                z.len /= 2;
                bad_input("a truncated gzip stream", &z);
                buf_free(&z);
        }
        if (compress_buf(&tar, ARCHIVE_FILTER_ZSTD, &z)) {
                z.data[z.len / 2] ^= 0x55;
                z.data[z.len / 2 + 1] ^= 0x55;
                bad_input("a corrupt zstd stream", &z);
                buf_free(&z);
        }
        if (compress_buf(&tar, ARCHIVE_FILTER_BZIP2, &z)) {
                bad_input("bzip2 (not an OCI layer compression)", &z);
                buf_free(&z);
        } else
                skip("no bzip2 writer");
        tar.len -= 1024 + 512; /* the end marker and part of the last entries */
        bad_input("a truncated tar", &tar);
        buf_free(&junk);
        buf_free(&tar);
}

static uint64_t progress_last, progress_calls;
static bool progress_monotonic = true;

static void on_progress(uint64_t done, void *userdata)
{
        if (done < progress_last || userdata != &progress_last)
                progress_monotonic = false;
        progress_last = done;
        progress_calls++;
}

/* A layer through a pipe (no seeking), larger than the pipe buffer, fed by
 * a child; with a progress callback. */
static void test_pipe(void)
{
        _cleanup_error_ struct error err = ERROR_INIT;
        struct unpack_opts o = { .progress = on_progress, .userdata = &progress_last };
        struct unpack_result res = {};
        struct buf tar = {}, z = {};
        struct archive *a = tar_new(&tar, ARCHIVE_FORMAT_TAR_PAX_RESTRICTED);
        _cleanup_free_ char *big = xmalloc(3 << 20);
        char want[DIGEST_BUF_SIZE], got[DIGEST_BUF_SIZE];
        int p[2], c, d, r, status = 0;
        char *name;
        pid_t pid;

        /* xorshift: barely compressible, so many reads go through the pipe */
        for (size_t i = 0, x = 88172645463325252u; i < (3 << 20) - 1; i++) {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                big[i] = (char) ('A' + x % 50);
        }
        big[(3 << 20) - 1] = 0;
        tar_add(a, &(struct ent) { .name = "big", .mode = S_IFREG | 0644, .data = big });
        tar_end(a);
        if (!compress_buf(&tar, ARCHIVE_FILTER_GZIP, &z) || pipe2(p, O_CLOEXEC) < 0) {
                skip("cannot set up the pipe test");
                buf_free(&tar);
                return;
        }
        pid = fork();
        if (pid == 0) {
                close(p[0]);
                _exit(write_all(p[1], z.data, z.len) < 0 ? 1 : 0);
        }
        close(p[1]);
        c = case_new(&name);
        d = openat(c, "dst", O_PATH | O_DIRECTORY | O_CLOEXEC);
        r = layer_unpack(p[0], d, &o, &res, &err);
        close(p[0]);
        (void) waitpid(pid, &status, 0);
        ok(r == 0, "unpack from a pipe %s", err.msg ? err.msg : "");
        digest_buffer(z.data, z.len, want);
        ok(r == 0 && strcmp(res.digest, want) == 0 && res.size == z.len, "digest of what came through the pipe");
        digest_buffer(tar.data, tar.len, want);
        ok(r == 0 && strcmp(res.diff_id, want) == 0, "diff id through the pipe");
        {
                _cleanup_close_ int f = openat(d, "big", O_RDONLY | O_CLOEXEC);

                digest_buffer(big, strlen(big), want);
                ok(f >= 0 && digest_fd(f, got, NULL) == 0 && strcmp(got, want) == 0, "3 MiB of content intact");
        }
        ok(progress_calls > 1 && progress_monotonic && progress_last == z.len,
           "progress reported %llu times, up to the size", (unsigned long long) progress_calls);
        close(d);
        buf_free(&tar);
        buf_free(&z);
        case_free(c, name);
}

static void test_empty(void)
{
        _cleanup_error_ struct error err = ERROR_INIT;
        struct unpack_result res = {};
        struct buf tar = tar_of((struct ent[]) { {} }), none = {};
        char want[DIGEST_BUF_SIZE];
        char *name;
        int c = case_new(&name), r;

        r = unpack_into(c, &tar, NULL, &res, &err);
        digest_buffer(tar.data, tar.len, want);
        ok(r == 0 && tar.len == 1024 && strcmp(res.diff_id, want) == 0, "an empty tar (%zu bytes) is an empty layer",
           tar.len);
        {
                _cleanup_free_ char *l = listing(c, "dst");

                ok(strcmp(l, "") == 0, "an empty layer creates nothing");
        }
        case_free(c, name);
        c = case_new(&name);
        r = unpack_into(c, &none, NULL, &res, &err);
        digest_buffer("", 0, want);
        ok(r == 0 && strcmp(res.diff_id, want) == 0 && res.size == 0, "no bytes at all is an empty layer %s",
           err.msg ? err.msg : "");
        case_free(c, name);
        buf_free(&tar);
}

/* A sparse file (pax): holes stay holes, data lands at its offsets. */
static void test_sparse(void)
{
        _cleanup_error_ struct error err = ERROR_INIT;
        struct buf tar = {};
        struct archive *a = tar_new(&tar, ARCHIVE_FORMAT_TAR_PAX_RESTRICTED);
        struct archive_entry *e = archive_entry_new();
        _cleanup_free_ char *got = NULL, *data = xzalloc(1 << 20);
        size_t len = 0;
        char *name;
        int c, d;
        bool good;

        archive_entry_set_pathname(e, "sparse");
        archive_entry_set_mode(e, S_IFREG | 0644);
        archive_entry_set_size(e, 1 << 20);
        archive_entry_sparse_add_entry(e, 0, 4);
        archive_entry_sparse_add_entry(e, 512 * 1024, 4);
        /* the writer takes the whole file and keeps only the mapped parts */
        memcpy(data, "head", 4);
        memcpy(data + 512 * 1024, "tail", 4);
        good = archive_write_header(a, e) == ARCHIVE_OK && archive_write_data(a, data, 1 << 20) == 1 << 20;
        archive_entry_free(e);
        tar_end(a);
        if (!good) {
                skip("libarchive wrote no sparse entry");
                buf_free(&tar);
                return;
        }
        c = case_new(&name);
        ok(unpack_into(c, &tar, NULL, NULL, &err) == 0, "unpack a sparse file %s", err.msg ? err.msg : "");
        d = openat(c, "dst", O_PATH | O_DIRECTORY | O_CLOEXEC);
        ok(read_full_file_at(d, "sparse", 2 << 20, &got, &len) == 0 && len == 1 << 20 &&
                   memcmp(got, "head", 4) == 0 && memcmp(got + 512 * 1024, "tail", 4) == 0 && got[4] == 0 &&
                   got[(1 << 20) - 1] == 0,
           "a sparse file's size and data at its offsets");
        close(d);
        buf_free(&tar);
        case_free(c, name);
}

static int strcmp_ptr(const void *a, const void *b)
{
        return strcmp(*(char *const *) a, *(char *const *) b);
}

/* "name=value" of each xattr of PATH in DFD, sorted, space-separated. */
static void describe_xattrs(int dfd, const char *path, struct buf *out)
{
        _cleanup_close_ int fd = openat(dfd, path, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        char proc[64], list[4096], *names[64];
        ssize_t n;
        size_t k = 0;

        snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
        n = fd < 0 ? -1 : listxattr(proc, list, sizeof(list));
        for (char *s = list; n > 0 && s < list + n && k < ELEMENTSOF(names); s += strlen(s) + 1)
                names[k++] = s;
        qsort(names, k, sizeof(char *), strcmp_ptr);
        for (size_t i = 0; i < k; i++) {
                char v[256];
                ssize_t m = getxattr(proc, names[i], v, sizeof(v) - 1);
                _cleanup_free_ char *s = NULL;

                v[m > 0 ? m : 0] = 0;
                s = xasprintf(" %s=%s", names[i], v);
                buf_add(out, s, strlen(s));
        }
}

/* One line per entry below DFD (sockets left out): what a layer keeps. */
static void describe(int dfd, const char *prefix, struct buf *out)
{
        struct dirent **list = NULL;
        int n = scandirat(dfd, ".", &list, NULL, alphasort);

        for (int i = 0; i < n; i++) {
                const char *name = list[i]->d_name;
                _cleanup_free_ char *path = NULL, *line = NULL, *extra = NULL;
                struct stat st;

                if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0 ||
                    fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 || S_ISSOCK(st.st_mode)) {
                        free(list[i]);
                        continue;
                }
                path = *prefix ? xasprintf("%s/%s", prefix, name) : xstrdup(name);
                if (S_ISREG(st.st_mode)) {
                        _cleanup_close_ int f = openat(dfd, name, O_RDONLY | O_CLOEXEC);
                        char dg[DIGEST_BUF_SIZE] = "";

                        if (f >= 0)
                                (void) digest_fd(f, dg, NULL);
                        extra = xasprintf(" size=%lld links=%lu %s", (long long) st.st_size,
                                          (unsigned long) st.st_nlink, dg);
                } else if (S_ISLNK(st.st_mode)) {
                        char t[512];
                        ssize_t m = readlinkat(dfd, name, t, sizeof(t) - 1);

                        t[m > 0 ? m : 0] = 0;
                        extra = xasprintf(" -> %s", t);
                } else if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode))
                        extra = xasprintf(" dev=%u:%u", major(st.st_rdev), minor(st.st_rdev));
                line = xasprintf("%s %o %u:%u", path, st.st_mode, st.st_uid, st.st_gid);
                buf_add(out, line, strlen(line));
                if (!(S_ISCHR(st.st_mode) && st.st_rdev == 0)) { /* whiteouts carry no time */
                        free(line);
                        line = xasprintf(" t=%lld", (long long) st.st_mtim.tv_sec);
                        buf_add(out, line, strlen(line));
                }
                if (extra)
                        buf_add(out, extra, strlen(extra));
                describe_xattrs(dfd, name, out);
                buf_add(out, "\n", 1);
                if (S_ISDIR(st.st_mode)) {
                        _cleanup_close_ int sub = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

                        if (sub >= 0)
                                describe(sub, path, out);
                }
                free(list[i]);
        }
        free(list);
}

static char *describe_tree(int dfd)
{
        struct buf b = {};

        describe(dfd, "", &b);
        buf_add(&b, "", 1);
        return b.data;
}

static bool touch(int dfd, const char *path, time_t t)
{
        struct timespec ts[2] = { { t, 5 }, { t, 5 } };

        return utimensat(dfd, path, ts, AT_SYMLINK_NOFOLLOW) == 0;
}

/* The source tree of the round trip; root-only parts when root. */
static bool make_tree(int casefd, const char *casepath)
{
        static const char *const dirs[] = { "src", "src/a", "src/b", "src/empty", "src/sticky", "src/op", "src/tr" };
        _cleanup_free_ char *sockpath = xasprintf("%s/src/sock", casepath);
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        _cleanup_close_ int s = -EBADF;
        bool good = true;

        for (size_t i = 0; i < ELEMENTSOF(dirs); i++)
                good = good && mkdirat(casefd, dirs[i], 0755) == 0;
        good = good && write_file_new_at(casefd, "src/a/file", "content", 7, 0644) == 0 &&
               write_file_new_at(casefd, "src/a/suid", "s", 1, 0755) == 0 &&
               fchmodat(casefd, "src/a/suid", 04755, 0) == 0 &&
               linkat(casefd, "src/a/file", casefd, "src/a/hard", 0) == 0 &&
               linkat(casefd, "src/a/file", casefd, "src/b/hard2", 0) == 0 &&
               symlinkat("../b", casefd, "src/a/sym") == 0 && symlinkat("/nonexistent", casefd, "src/a/dangle") == 0 &&
               mkfifoat(casefd, "src/b/fifo", 0640) == 0 && fchmodat(casefd, "src/b", 02755, 0) == 0 &&
               fchmodat(casefd, "src/empty", 0555, 0) == 0 && fchmodat(casefd, "src/sticky", 01777, 0) == 0 &&
               fchmodat(casefd, "src/op", 0700, 0) == 0 &&
               write_file_new_at(casefd, "src/op/inner", "in", 2, 0600) == 0 &&
               write_file_new_at(casefd, "src/\xc3\xbcn\xc3\xaf", "utf8", 4, 0644) == 0;
        {
                _cleanup_free_ char *longname = xasprintf("src/%0130d", 1);

                good = good && write_file_new_at(casefd, longname, "long", 4, 0644) == 0;
        }
        {
                _cleanup_close_ int f = openat(casefd, "src/a/file", O_RDONLY | O_CLOEXEC);

                good = good && f >= 0 && fsetxattr(f, "user.test", "1", 1, 0) == 0;
        }
        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sockpath);
        s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        good = good && s >= 0 && bind(s, (struct sockaddr *) &sa, sizeof(sa)) == 0;
        if (is_root) {
                _cleanup_free_ char *sym = xasprintf("%s/src/a/sym", casepath);
                _cleanup_close_ int op = openat(casefd, "src/op", O_RDONLY | O_DIRECTORY | O_CLOEXEC),
                                    tr = openat(casefd, "src/tr", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

                good = good && fchownat(casefd, "src/a/file", 1000, 1001, 0) == 0 &&
                       fchmodat(casefd, "src/a/file", 0640, 0) == 0 &&
                       fchownat(casefd, "src/a/sym", 7, 8, AT_SYMLINK_NOFOLLOW) == 0 &&
                       mknodat(casefd, "src/b/gone", S_IFCHR | 0, makedev(0, 0)) == 0 &&
                       mknodat(casefd, "src/b/null", S_IFCHR | 0666, makedev(1, 3)) == 0 &&
                       fsetxattr(op, "trusted.overlay.opaque", "y", 1, 0) == 0 &&
                       fsetxattr(tr, "trusted.test", "v", 1, 0) == 0 && lsetxattr(sym, "trusted.sym", "1", 1, 0) == 0;
        }
        /* times last, files before their directories */
        good = good && touch(casefd, "src/a/file", T0 + 10) && touch(casefd, "src/a/sym", T0 + 11) &&
               touch(casefd, "src/a/dangle", T0 + 12) && touch(casefd, "src/b/fifo", T0 + 13) &&
               touch(casefd, "src/a", T0 + 20) && touch(casefd, "src/b", T0 + 21) && touch(casefd, "src/op", T0 + 22);
        return good;
}

/* The names in a tar; whether any carries an overlayfs xattr; the hard
 * link target of "a/hard". */
static char *tar_names(int fd, bool *ret_overlay_xattr, char **ret_hard)
{
        struct archive *a = archive_read_new();
        struct archive_entry *e;
        struct buf b = {};

        *ret_overlay_xattr = false;
        *ret_hard = NULL;
        archive_read_support_format_tar(a);
        if (lseek(fd, 0, SEEK_SET) == 0 && archive_read_open_fd(a, fd, 10240) == ARCHIVE_OK)
                while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
                        const char *n = archive_entry_pathname(e), *xn;
                        const void *xv;
                        size_t xs;

                        buf_add(&b, n, strlen(n));
                        buf_add(&b, "\n", 1);
                        archive_entry_xattr_reset(e);
                        while (archive_entry_xattr_next(e, &xn, &xv, &xs) == ARCHIVE_OK)
                                if (strncmp(xn, "trusted.overlay.", 16) == 0)
                                        *ret_overlay_xattr = true;
                        if (strcmp(n, "a/hard") == 0 && archive_entry_hardlink(e))
                                *ret_hard = xstrdup(archive_entry_hardlink(e));
                }
        archive_read_free(a);
        buf_add(&b, "", 1);
        return b.data;
}

static void test_pack(void)
{
        _cleanup_error_ struct error err = ERROR_INIT;
        _cleanup_free_ char *casepath = NULL, *names = NULL, *hard = NULL, *want = NULL, *got = NULL;
        struct unpack_opts o = { .keep_owner = is_root, .allow_devices = is_root };
        struct unpack_result res = {};
        char diff[DIGEST_BUF_SIZE] = "", diff2[DIGEST_BUF_SIZE] = "", file_digest[DIGEST_BUF_SIZE] = "";
        _cleanup_close_ int src = -EBADF, dst = -EBADF, out = -EBADF, out2 = -EBADF;
        bool overlay_xattr;
        char *name;
        int c = case_new(&name), r;

        casepath = xasprintf("%s/%s", top, name);
        if (!ok(make_tree(c, casepath), "build the source tree (%m)"))
                goto out;
        src = openat(c, "src", O_PATH | O_DIRECTORY | O_CLOEXEC);
        dst = openat(c, "dst", O_PATH | O_DIRECTORY | O_CLOEXEC);
        out = memfd_create("packed", MFD_CLOEXEC);
        out2 = memfd_create("packed2", MFD_CLOEXEC);
        r = layer_pack(src, out, diff, &err);
        ok(r == 0, "pack a tree %s", err.msg ? err.msg : "");
        ok(lseek(out, 0, SEEK_SET) == 0 && digest_fd(out, file_digest, NULL) == 0 && strcmp(diff, file_digest) == 0,
           "the diff id is the sha256 of the bytes written (%s)", diff);
        ok(layer_pack(src, out2, diff2, &err) == 0 && strcmp(diff, diff2) == 0, "packing again gives the same bytes");

        names = tar_names(out, &overlay_xattr, &hard);
        ok(strstr(names, "\na/file\n") && !strstr(names, "sock") && !strstr(names, "\nsrc"),
           "names are relative, sockets left out");
        ok(hard && strcmp(hard, "a/file") == 0, "a hard link found by inode points at the first name");
        if (is_root) {
                ok(strstr(names, "\nb/.wh.gone\n") && !strstr(names, "\nb/gone\n"),
                   "a 0/0 device becomes a \".wh.\" whiteout");
                ok(strstr(names, "\nop/\nop/.wh..wh..opq\nop/inner\n") != NULL,
                   "an opaque directory is followed by its \".wh..wh..opq\"");
                ok(!overlay_xattr, "no trusted.overlay.* xattr in the tar");
        } else
                skip("whiteouts need root");

        r = lseek(out, 0, SEEK_SET) == 0 ? layer_unpack(out, dst, &o, &res, &err) : -errno;
        ok(r == 0 && strcmp(res.diff_id, diff) == 0, "unpack what was packed, same diff id %s",
           err.msg ? err.msg : "");
        want = describe_tree(src);
        got = describe_tree(dst);
        if (!ok(strcmp(want, got) == 0, "pack -> unpack keeps the tree"))
                printf("# source:\n%s# unpacked:\n%s", want, got);
        {
                struct stat a, b;

                ok(fstatat(dst, "a/hard", &a, 0) == 0 && fstatat(dst, "b/hard2", &b, 0) == 0 && a.st_ino == b.st_ino &&
                           a.st_nlink == 3,
                   "hard links across directories come back as one inode");
        }
out:
        case_free(c, name);
}

static void test_pack_refuses(void)
{
        _cleanup_error_ struct error err = ERROR_INIT;
        _cleanup_close_ int src = -EBADF, out = -EBADF;
        char diff[DIGEST_BUF_SIZE];
        char *name;
        int c = case_new(&name), r;

        (void) mkdirat(c, "src", 0755);
        (void) mkdirat(c, "src/d", 0755);
        (void) write_file_new_at(c, "src/d/.wh.x", "", 0, 0644);
        src = openat(c, "src", O_PATH | O_DIRECTORY | O_CLOEXEC);
        out = memfd_create("packed", MFD_CLOEXEC);
        r = layer_pack(src, out, diff, &err);
        ok(r < 0 && err.msg && strstr(err.msg, "`d/.wh.x`"), "pack refuses a \".wh.\" name (%s)",
           err.msg ? err.msg : "no error");
        case_free(c, name);
}

/* Root of the host: uid 0 with the identity map (not "unshare -r", where
 * owners outside the map, mknod and trusted.* xattrs fail). */
static bool full_root(void)
{
        _cleanup_free_ char *map = NULL;
        unsigned a, b, c;

        if (geteuid() != 0 || read_full_file_at(AT_FDCWD, "/proc/self/uid_map", 4096, &map, NULL) < 0)
                return false;
        return sscanf(map, "%u %u %u", &a, &b, &c) == 3 && a == 0 && b == 0 && c == 4294967295u;
}

int main(void)
{
        is_root = full_root();
        if (!mkdtemp(top) || strncmp(top, TMP_PREFIX, strlen(TMP_PREFIX)) != 0) {
                printf("Bail out! cannot create a temporary directory\n");
                return 1;
        }
        topfd = open(top, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (topfd < 0) {
                printf("Bail out! cannot open %s\n", top);
                return 1;
        }

        test_basic(ARCHIVE_FILTER_NONE, "plain");
        test_basic(ARCHIVE_FILTER_GZIP, "gzip");
        test_basic(ARCHIVE_FILTER_ZSTD, "zstd");
        test_no_owner();
        test_gnu();
        test_repeat();
        test_whiteouts();
        printf("# hostile archives, openat2\n");
        test_hostile();
        printf("# hostile archives, component walk\n");
        chase_no_openat2 = true;
        test_hostile();
        test_basic(ARCHIVE_FILTER_NONE, "plain, component walk");
        chase_no_openat2 = false;
        test_devices();
        test_bad_input();
        test_pipe();
        test_empty();
        test_sparse();
        test_pack();
        test_pack_refuses();

        close(topfd);
        {
                _cleanup_close_ int tmp = open("/tmp", O_PATH | O_DIRECTORY | O_CLOEXEC);

                if (strncmp(top, TMP_PREFIX, strlen(TMP_PREFIX)) != 0 || tmp < 0 ||
                    rm_rf_at(tmp, top + strlen("/tmp/")) < 0)
                        printf("# cannot remove %s\n", top);
        }
        return tap_done();
}
