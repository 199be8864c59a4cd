/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Layer packing: a directory tree into a reproducible pax tar, overlayfs
 * whiteouts turned into OCI ones.  See layer_pack() in unpack.h. */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <search.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "basic/fileio.h"
#include "image/unpack.h"

#define COPY_BUF_SIZE (128 * 1024)

struct pack_link {
        dev_t dev;
        ino_t ino;
        char *path; /* the first name of the inode in the tar */
};

struct pack {
        struct archive *a;
        int out_fd;
        int out_errno;
        struct digest_ctx *diff;
        void *links; /* tsearch() tree of struct pack_link */
        char *buf;
};

static void link_free(void *p)
{
        struct pack_link *l = p;

        free(l->path);
        free(l);
}

static int link_cmp(const void *a, const void *b)
{
        const struct pack_link *x = a, *y = b;

        if (x->dev != y->dev)
                return x->dev < y->dev ? -1 : 1;
        if (x->ino != y->ino)
                return x->ino < y->ino ? -1 : 1;
        return 0;
}

static void pack_done(struct pack *p)
{
        if (p->a)
                archive_write_free(p->a);
        digest_free(p->diff);
        tdestroy(p->links, link_free);
        free(p->buf);
}

static void archive_entry_freep(struct archive_entry **e)
{
        if (*e)
                archive_entry_free(*e);
}

static la_ssize_t pack_write(struct archive *a, void *userdata, const void *buf, size_t len)
{
        struct pack *p = userdata;
        int r;

        r = write_all(p->out_fd, buf, len);
        if (r < 0) {
                p->out_errno = -r;
                archive_set_error(a, -r, "write layer");
                return -1;
        }
        digest_update(p->diff, buf, len);
        return (la_ssize_t) len;
}

static int pack_archive_error(struct pack *p, const char *path, struct error *err)
{
        const char *m = archive_error_string(p->a);

        if (p->out_errno)
                return error_set(err, p->out_errno, "write layer");
        return error_setx(err, EIO, "pack `%s`: %s", path, m ? m : "unknown error");
}

static int strcmp_ptr(const void *a, const void *b)
{
        return strcmp(*(char *const *) a, *(char *const *) b);
}

static bool has_prefix(const char *s, const char *prefix)
{
        return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* One xattr's value, in a new buffer. */
static ssize_t pack_getxattr(const char *proc, const char *name, char **ret)
{
        for (;;) {
                _cleanup_free_ char *v = NULL;
                ssize_t n = getxattr(proc, name, NULL, 0), m;

                if (n < 0)
                        return -errno;
                v = xmalloc((size_t) n + 1);
                m = getxattr(proc, name, v, (size_t) n);
                if (m < 0 && errno == ERANGE)
                        continue; /* it grew in between */
                if (m < 0)
                        return -errno;
                *ret = TAKE_PTR(v);
                return m;
        }
}

/* The NUL-separated names of FD's xattrs, sorted, in RET (NULL-ended). */
static int pack_list_xattrs(const char *proc, char ***ret, char **ret_buf)
{
        _cleanup_free_ char *buf = NULL;
        _cleanup_free_ char **names = NULL;
        ssize_t n, m;
        size_t k = 0;

        do {
                n = listxattr(proc, NULL, 0);
                if (n < 0)
                        return errno == ENOTSUP ? 0 : -errno;
                free(buf);
                buf = xmalloc((size_t) n + 1);
                m = listxattr(proc, buf, (size_t) n);
        } while (m < 0 && errno == ERANGE);
        if (m < 0)
                return -errno;
        names = xmalloc(((size_t) m + 1) * sizeof(char *));
        for (char *s = buf; s < buf + m; s += strlen(s) + 1)
                names[k++] = s;
        names[k] = NULL;
        qsort(names, k, sizeof(char *), strcmp_ptr);
        *ret = TAKE_PTR(names);
        *ret_buf = TAKE_PTR(buf);
        return 0;
}

/* FD's xattrs (any kind of fd: read through its /proc/self/fd link, which
 * getxattr() follows to the inode itself, a symlink too) into E, sorted,
 * overlayfs's own left out; *RET_OPAQUE tells whether it is an opaque
 * directory. */
static int pack_xattrs(struct archive_entry *e, int fd, const char *path, bool *ret_opaque, struct error *err)
{
        _cleanup_free_ char *buf = NULL;
        _cleanup_free_ char **names = NULL;
        char proc[64];
        int r;

        *ret_opaque = false;
        snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
        r = pack_list_xattrs(proc, &names, &buf);
        if (r < 0)
                return error_set(err, -r, "pack `%s`: list attributes", path);
        for (char **n = names; n && *n; n++) {
                _cleanup_free_ char *v = NULL;
                ssize_t len;

                if (has_prefix(*n, "trusted.overlay.") || has_prefix(*n, "user.overlay.")) {
                        if (strcmp(*n, "trusted.overlay.opaque") == 0 && pack_getxattr(proc, *n, &v) == 1 &&
                            v[0] == 'y')
                                *ret_opaque = true;
                        continue;
                }
                len = pack_getxattr(proc, *n, &v);
                if (len == -ENODATA)
                        continue; /* removed in between */
                if (len < 0)
                        return error_set(err, (int) -len, "pack `%s`: read attribute `%s`", path, *n);
                archive_entry_xattr_add_entry(e, *n, v, (size_t) len);
        }
        return 0;
}

static struct archive_entry *pack_entry_new(const char *path, const struct stat *st)
{
        struct archive_entry *e = archive_entry_new();

        if (!e)
                oom();
        archive_entry_set_pathname(e, path);
        archive_entry_set_mode(e, st->st_mode);
        archive_entry_set_uid(e, st->st_uid);
        archive_entry_set_gid(e, st->st_gid);
        archive_entry_set_mtime(e, st->st_mtim.tv_sec, 0);
        return e;
}

static int pack_header(struct pack *p, struct archive_entry *e, const char *path, struct error *err)
{
        if (archive_write_header(p->a, e) < ARCHIVE_WARN)
                return pack_archive_error(p, path, err);
        return 0;
}

/* An empty regular file NAME in the directory PATH: an OCI whiteout,
 * taking the owner, permissions and mtime of what it stands for. */
static int pack_marker(struct pack *p, const char *dir, const char *name, const struct stat *st, struct error *err)
{
        _cleanup_(archive_entry_freep) struct archive_entry *e = NULL;
        _cleanup_free_ char *path = *dir ? xasprintf("%s/%s", dir, name) : xstrdup(name);
        struct stat m = *st;

        m.st_mode = S_IFREG | (st->st_mode & 0777);
        e = pack_entry_new(path, &m);
        archive_entry_set_size(e, 0);
        return pack_header(p, e, path, err);
}

static int pack_data(struct pack *p, int fd, const char *path, struct error *err)
{
        if (!p->buf)
                p->buf = xmalloc(COPY_BUF_SIZE);
        for (;;) {
                ssize_t n = RETRY_EINTR(read(fd, p->buf, COPY_BUF_SIZE));

                if (n < 0)
                        return error_set(err, errno, "pack `%s`: read", path);
                if (n == 0)
                        return 0;
                if (archive_write_data(p->a, p->buf, (size_t) n) < 0)
                        return pack_archive_error(p, path, err);
        }
}

/* A regular file, or a hard link to the first name of its inode. */
static int pack_file(struct pack *p, int dfd, const char *name, const char *path, const struct stat *st,
                     struct error *err)
{
        _cleanup_(archive_entry_freep) struct archive_entry *e = NULL;
        _cleanup_close_ int fd = -EBADF;
        bool opaque;
        int r;

        e = pack_entry_new(path, st);
        if (st->st_nlink > 1) {
                struct pack_link key = { .dev = st->st_dev, .ino = st->st_ino }, **slot;

                slot = (struct pack_link **) tsearch(&key, &p->links, link_cmp);
                if (!slot)
                        oom();
                if (*slot != &key) {
                        archive_entry_set_hardlink(e, (*slot)->path);
                        archive_entry_set_size(e, 0);
                        return pack_header(p, e, path, err);
                }
                *slot = xzalloc(sizeof(**slot));
                **slot = (struct pack_link) { .dev = st->st_dev, .ino = st->st_ino, .path = xstrdup(path) };
        }
        fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC);
        if (fd < 0)
                return error_set(err, errno, "pack `%s`: open", path);
        archive_entry_set_size(e, st->st_size);
        r = pack_xattrs(e, fd, path, &opaque, err);
        if (r < 0)
                return r;
        r = pack_header(p, e, path, err);
        if (r < 0)
                return r;
        return pack_data(p, fd, path, err);
}

/* Symlinks, fifos, device nodes: no data, xattrs through an O_PATH fd. */
static int pack_special(struct pack *p, int dfd, const char *name, const char *path, const struct stat *st,
                        struct error *err)
{
        _cleanup_(archive_entry_freep) struct archive_entry *e = NULL;
        _cleanup_close_ int fd = -EBADF;
        bool opaque;
        int r;

        e = pack_entry_new(path, st);
        fd = openat(dfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return error_set(err, errno, "pack `%s`: open", path);
        if (S_ISLNK(st->st_mode)) {
                /* st_size is the target's length, except on a few file
                 * systems that say 0 */
                size_t size = st->st_size > 0 ? (size_t) st->st_size : PATH_MAX;
                _cleanup_free_ char *target = xmalloc(size + 1);
                ssize_t n = readlinkat(fd, "", target, size + 1);

                if (n < 0)
                        return error_set(err, errno, "pack `%s`: read symbolic link", path);
                if ((size_t) n > size)
                        return error_setx(err, EAGAIN, "pack `%s`: symbolic link changed while read", path);
                target[n] = 0;
                archive_entry_set_symlink(e, target);
        } else if (S_ISCHR(st->st_mode) || S_ISBLK(st->st_mode))
                archive_entry_set_rdev(e, st->st_rdev);
        r = pack_xattrs(e, fd, path, &opaque, err);
        if (r < 0)
                return r;
        return pack_header(p, e, path, err);
}

static int pack_tree(struct pack *p, int dfd, const char *prefix, struct error *err);

static int pack_directory(struct pack *p, int dfd, const char *name, const char *path, const struct stat *st,
                          struct error *err)
{
        _cleanup_(archive_entry_freep) struct archive_entry *e = NULL;
        _cleanup_close_ int fd = -EBADF;
        bool opaque;
        int r;

        fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return error_set(err, errno, "pack `%s`: open directory", path);
        e = pack_entry_new(path, st);
        r = pack_xattrs(e, fd, path, &opaque, err);
        if (r < 0)
                return r;
        r = pack_header(p, e, path, err);
        if (r < 0)
                return r;
        if (opaque) {
                r = pack_marker(p, path, ".wh..wh..opq", st, err);
                if (r < 0)
                        return r;
        }
        return pack_tree(p, fd, path, err);
}

static int pack_one(struct pack *p, int dfd, const char *name, const char *dir, struct error *err)
{
        _cleanup_free_ char *path = *dir ? xasprintf("%s/%s", dir, name) : xstrdup(name);
        struct stat st;

        if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return error_set(err, errno, "pack `%s`: stat", path);
        if (has_prefix(name, ".wh."))
                return error_setx(err, EINVAL, "pack `%s`: name reserved for whiteouts", path);
        switch (st.st_mode & S_IFMT) {
        case S_IFREG:
                return pack_file(p, dfd, name, path, &st, err);
        case S_IFDIR:
                return pack_directory(p, dfd, name, path, &st, err);
        case S_IFCHR:
                if (st.st_rdev == 0) {
                        _cleanup_free_ char *wh = xasprintf(".wh.%s", name);

                        return pack_marker(p, dir, wh, &st, err);
                }
                return pack_special(p, dfd, name, path, &st, err);
        case S_IFLNK:
        case S_IFIFO:
        case S_IFBLK:
                return pack_special(p, dfd, name, path, &st, err);
        default:
                return 0; /* sockets: not layer content */
        }
}

/* The names in DFD, sorted bytewise. */
static int pack_names(int dfd, const char *prefix, char ***ret, struct error *err)
{
        _cleanup_strv_free_ char **names = NULL;
        size_t n = 0, cap = 0;
        struct dirent *de;
        DIR *d;
        int fd;

        fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0 || !(d = fdopendir(fd))) {
                int saved = errno;

                if (fd >= 0)
                        close(fd);
                return error_set(err, saved, "pack `%s`: read directory", *prefix ? prefix : ".");
        }
        names = xzalloc(sizeof(char *));
        while ((errno = 0, de = readdir(d))) {
                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                        continue;
                if (n + 1 >= cap) {
                        cap = cap ? cap * 2 : 16;
                        names = xrealloc(names, cap * sizeof(char *));
                }
                names[n++] = xstrdup(de->d_name);
                names[n] = NULL;
        }
        if (errno) {
                int saved = errno;

                closedir(d);
                return error_set(err, saved, "pack `%s`: read directory", *prefix ? prefix : ".");
        }
        closedir(d);
        qsort(names, n, sizeof(char *), strcmp_ptr);
        *ret = TAKE_PTR(names);
        return 0;
}

static int pack_tree(struct pack *p, int dfd, const char *prefix, struct error *err)
{
        _cleanup_strv_free_ char **names = NULL;
        int r;

        r = pack_names(dfd, prefix, &names, err);
        if (r < 0)
                return r;
        for (char **n = names; *n; n++) {
                r = pack_one(p, dfd, *n, prefix, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

int layer_pack(int srcfd, int out_fd, char ret_diff_id[DIGEST_BUF_SIZE], struct error *err)
{
        _cleanup_(pack_done) struct pack p = { .out_fd = out_fd };
        int r;

        p.a = archive_write_new();
        if (!p.a)
                oom();
        p.diff = digest_new();
        if (archive_write_set_format_pax_restricted(p.a) != ARCHIVE_OK ||
            archive_write_set_format_option(p.a, "pax", "xattrheader", "SCHILY") != ARCHIVE_OK ||
            archive_write_add_filter_none(p.a) != ARCHIVE_OK ||
            archive_write_set_bytes_in_last_block(p.a, 1) != ARCHIVE_OK)
                return error_setx(err, ENOTSUP, "set up layer tar writer: %s", archive_error_string(p.a));
        if (archive_write_open(p.a, &p, NULL, pack_write, NULL) != ARCHIVE_OK)
                return pack_archive_error(&p, ".", err);
        r = pack_tree(&p, srcfd, "", err);
        if (r < 0)
                return r;
        if (archive_write_close(p.a) != ARCHIVE_OK)
                return pack_archive_error(&p, ".", err);
        digest_final(TAKE_PTR(p.diff), ret_diff_id);
        return 0;
}
