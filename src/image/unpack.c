/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Layer unpacking: a tar stream (plain, gzip or zstd) into a directory,
 * every entry created by us relative to the destination fd.  libarchive
 * only parses; archive_write_disk is not used because it resolves entry
 * paths by name, following whatever symlinks earlier entries planted. */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <search.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "basic/chase.h"
#include "basic/fileio.h"
#include "image/unpack.h"

#define READ_BUF_SIZE (128 * 1024)
#define WHITEOUT_PREFIX ".wh."
#define WHITEOUT_OPAQUE ".wh..wh..opq"

/* What this unpack created at a path, for hard links (their target must be
 * a regular file unpacked here) and for directories (mode and mtime are
 * applied at the end, after their contents). */
struct node {
        char *path; /* clean relative path, "" for the layer root */
        bool is_reg;
        bool dir_meta;
        mode_t mode;
        struct timespec mtime;
};

struct unpack {
        int in_fd, dstfd;
        struct unpack_opts o;
        struct archive *raw; /* decompresses IN_FD: format "raw" */
        struct archive *tar; /* reads the tar from RAW's output */
        struct digest_ctx *blob, *diff;
        uint64_t size, raw_offset, unpacked_size, xattrs_skipped;
        void *buf;
        int in_errno;
        bool raw_failed;
        void *nodes; /* tsearch() tree of struct node */
        struct node **dirs;
        size_t n_dirs, cap_dirs;
        char *cache_path; /* the directory CACHE_FD refers to */
        int cache_fd;
        uid_t uid; /* ours: the owner of what we create without keep_owner */
        gid_t gid;
};

enum { ENTRY_PLAIN, ENTRY_WHITEOUT, ENTRY_OPAQUE };

enum mk_kind { MK_FILE, MK_LINK, MK_HARDLINK, MK_NODE };

struct mk {
        enum mk_kind kind;
        const char *target; /* MK_LINK */
        int tpfd;           /* MK_HARDLINK: parent fd and name of the target */
        const char *tbase;
        mode_t mode; /* MK_NODE: type and permissions */
        dev_t rdev;
};

static void node_free(void *p)
{
        struct node *n = p;

        free(n->path);
        free(n);
}

static int node_cmp(const void *a, const void *b)
{
        return strcmp(((const struct node *) a)->path, ((const struct node *) b)->path);
}

static void unpack_done(struct unpack *u)
{
        if (u->tar)
                archive_read_free(u->tar);
        if (u->raw)
                archive_read_free(u->raw);
        digest_free(u->blob);
        digest_free(u->diff);
        free(u->buf);
        tdestroy(u->nodes, node_free);
        free(u->dirs);
        free(u->cache_path);
        closep(&u->cache_fd);
}

static struct node *unpack_node(struct unpack *u, const char *path, bool create)
{
        struct node key = { .path = (char *) path }, *n;
        void **slot;

        if (!create) {
                slot = tfind(&key, &u->nodes, node_cmp);
                return slot ? *(struct node **) slot : NULL;
        }
        slot = tsearch(&key, &u->nodes, node_cmp);
        if (!slot)
                oom();
        if (*(struct node **) slot != &key)
                return *(struct node **) slot;
        n = xzalloc(sizeof(*n));
        n->path = xstrdup(path);
        *(struct node **) slot = n; /* same key: the tree order holds */
        return n;
}

/* Record what now sits at PATH: a regular file (a valid hard link target)
 * or something else (no longer one). */
static void unpack_note(struct unpack *u, const char *path, bool is_reg)
{
        struct node *n = unpack_node(u, path, is_reg);

        if (n)
                n->is_reg = is_reg;
}

/* Input side.  Two libarchive readers in a chain, one pass, so IN_FD may
 * be a pipe: RAW reads IN_FD (hashed: the blob digest) and decompresses;
 * its output is hashed (the diff id) on its way into TAR. */
static la_ssize_t unpack_read_input(struct archive *a, void *userdata, const void **ret_buf)
{
        struct unpack *u = userdata;
        ssize_t n;

        n = RETRY_EINTR(read(u->in_fd, u->buf, READ_BUF_SIZE));
        if (n < 0) {
                u->in_errno = errno;
                archive_set_error(a, errno, "read layer");
                return -1;
        }
        digest_update(u->blob, u->buf, (size_t) n);
        u->size += (uint64_t) n;
        if (n > 0 && u->o.progress)
                u->o.progress(u->size, u->o.userdata);
        *ret_buf = u->buf;
        return n;
}

/* The next block of the uncompressed stream, 0 at its end.  The block
 * stays valid until the next call, as libarchive expects of a client. */
static la_ssize_t unpack_next_plain(struct unpack *u, const void **ret_buf)
{
        for (;;) {
                const void *b;
                size_t len;
                la_int64_t off;
                int r;

                r = archive_read_data_block(u->raw, &b, &len, &off);
                if (r == ARCHIVE_EOF)
                        return 0;
                if (r < ARCHIVE_WARN || off != (la_int64_t) u->raw_offset) {
                        u->raw_failed = true;
                        return -1;
                }
                if (len == 0)
                        continue;
                digest_update(u->diff, b, len);
                u->raw_offset += len;
                *ret_buf = b;
                return (la_ssize_t) len;
        }
}

static la_ssize_t unpack_read_plain(struct archive *a, void *userdata, const void **ret_buf)
{
        struct unpack *u = userdata;
        la_ssize_t n = unpack_next_plain(u, ret_buf);

        if (n < 0)
                archive_set_error(a, EIO, "decompress layer");
        return n;
}

/* The most precise reason the readers failed. */
static int unpack_archive_error(struct unpack *u, struct error *err)
{
        const char *m;

        if (u->in_errno)
                return error_set(err, u->in_errno, "read layer");
        if (u->raw_failed) {
                m = archive_error_string(u->raw);
                return error_setx(err, EBADMSG, "decompress layer: %s", m ? m : "unknown error");
        }
        m = archive_error_string(u->tar);
        return error_setx(err, EBADMSG, "read layer tar: %s", m ? m : "unknown error");
}

/* 0, or 1 when IN_FD gave no bytes at all. */
static int unpack_open_readers(struct unpack *u, struct error *err)
{
        struct archive_entry *e;

        u->raw = archive_read_new();
        u->tar = archive_read_new();
        if (!u->raw || !u->tar)
                oom();
        /* WARN: libarchive will run an external program; still works */
        if (archive_read_support_filter_gzip(u->raw) < ARCHIVE_WARN ||
            archive_read_support_filter_zstd(u->raw) < ARCHIVE_WARN ||
            archive_read_support_filter_none(u->raw) != ARCHIVE_OK ||
            archive_read_support_format_raw(u->raw) != ARCHIVE_OK)
                return error_setx(err, ENOTSUP, "set up layer decompression: %s", archive_error_string(u->raw));
        if (archive_read_support_format_tar(u->tar) != ARCHIVE_OK ||
            archive_read_support_format_empty(u->tar) != ARCHIVE_OK)
                return error_setx(err, ENOTSUP, "set up layer tar reader: %s", archive_error_string(u->tar));

        if (archive_read_open(u->raw, u, NULL, unpack_read_input, NULL) != ARCHIVE_OK ||
            archive_read_next_header(u->raw, &e) < ARCHIVE_WARN) {
                /* No bytes at all: an empty layer, as Docker reads it. */
                if (u->size == 0 && !u->in_errno)
                        return 1;
                u->raw_failed = true;
                return unpack_archive_error(u, err);
        }
        if (archive_read_open(u->tar, u, NULL, unpack_read_plain, NULL) != ARCHIVE_OK)
                return unpack_archive_error(u, err);
        return 0;
}

/* After the tar's end: the rest of the uncompressed stream (the diff id
 * covers all of it) and of IN_FD (the digest covers the whole blob). */
static int unpack_drain(struct unpack *u, struct error *err)
{
        const void *b;
        la_ssize_t n;

        do
                n = unpack_next_plain(u, &b);
        while (n > 0);
        if (n < 0)
                return unpack_archive_error(u, err);
        do
                n = unpack_read_input(u->raw, u, &b);
        while (n > 0);
        if (n < 0)
                return unpack_archive_error(u, err);
        return 0;
}

/* NAME as a clean path below the layer root ("" for the root itself), in a
 * new string.  A leading "/" or "./" is dropped, as Docker does: tar
 * writers add them and they never mean the host's root; "." and empty
 * components go too.  ".." anywhere is refused, not resolved (-EPERM);
 * an empty NAME is -EINVAL. */
static int unpack_clean_name(const char *name, char **ret)
{
        size_t n = strlen(name), o = 0;
        _cleanup_free_ char *out = NULL;
        const char *p = name;

        if (n == 0)
                return -EINVAL;
        out = xmalloc(n + 1);
        while (*p) {
                const char *end = strchrnul(p, '/');
                size_t len = (size_t) (end - p);

                if (len == 2 && p[0] == '.' && p[1] == '.')
                        return -EPERM;
                if (len > 0 && !(len == 1 && p[0] == '.')) {
                        if (o > 0)
                                out[o++] = '/';
                        memcpy(out + o, p, len);
                        o += len;
                }
                p = *end ? end + 1 : end;
        }
        out[o] = 0;
        *ret = TAKE_PTR(out);
        return 0;
}

static bool has_prefix(const char *s, const char *prefix)
{
        return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* OCI whiteouts: ".wh.NAME" hides NAME of the layers below, and
 * ".wh..wh..opq" all of its directory there.  Any other ".wh." name
 * (AUFS metadata such as ".wh..wh.plnk", ".wh." alone, ".wh..", a ".wh."
 * directory) has no meaning here and is refused. */
static int unpack_classify(const char *path, const char *base, const char *raw, struct error *err)
{
        const char *rest;

        for (const char *p = path; p < base; p = strchr(p, '/') + 1)
                if (has_prefix(p, WHITEOUT_PREFIX))
                        return error_setx(err, EINVAL, "layer entry `%s`: whiteout name used as a directory", raw);
        if (!has_prefix(base, WHITEOUT_PREFIX))
                return ENTRY_PLAIN;
        if (strcmp(base, WHITEOUT_OPAQUE) == 0)
                return ENTRY_OPAQUE;
        rest = base + strlen(WHITEOUT_PREFIX);
        if (!*rest || strcmp(rest, ".") == 0 || strcmp(rest, "..") == 0 || has_prefix(rest, WHITEOUT_PREFIX))
                return error_setx(err, EINVAL, "layer entry `%s`: unknown whiteout name", raw);
        return ENTRY_WHITEOUT;
}

/* Overlayfs reads its own xattrs from a layer directory (whiteouts,
 * opaque dirs, redirects, metacopy): a tar must not be able to set them,
 * or it could redirect lookups to other layers.  "user.overlay." is the
 * same namespace for overlayfs mounted with "userxattr". */
static int unpack_check_entry(struct unpack *u, struct archive_entry *e, const char *raw, struct error *err)
{
        const char *name;
        const void *value;
        size_t size;

        archive_entry_xattr_reset(e);
        while (archive_entry_xattr_next(e, &name, &value, &size) == ARCHIVE_OK)
                if (has_prefix(name, "trusted.overlay.") || has_prefix(name, "user.overlay."))
                        return error_setx(err, EPERM, "layer entry `%s`: overlayfs attribute `%s` refused", raw, name);
        if (u->o.keep_owner && (archive_entry_uid(e) < 0 || archive_entry_uid(e) >= UINT32_MAX ||
                                archive_entry_gid(e) < 0 || archive_entry_gid(e) >= UINT32_MAX))
                return error_setx(err, EINVAL, "layer entry `%s`: owner out of range", raw);
        return 0;
}

/* One step of the walk: the directory NAME in CUR, created (0755) when
 * missing.  A symlink or anything else on the way is refused: entries of
 * a layer never go through a link, even one that would resolve inside. */
static int unpack_walk_step(int cur, const char *name, const char *prefix, const char *raw, struct error *err)
{
        struct stat st;
        int fd;

        fd = openat(cur, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd >= 0)
                return fd;
        if (errno == ENOENT) {
                if (mkdirat(cur, name, 0755) < 0) {
                        if (errno != EEXIST)
                                return error_set(err, errno, "layer entry `%s`: create directory `%s`", raw, prefix);
                } else
                        (void) fchmodat(cur, name, 0755, 0); /* not the umask's; ours alone */
                fd = openat(cur, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (fd >= 0)
                        return fd;
        }
        if (errno == ENOTDIR || errno == ELOOP) {
                if (fstatat(cur, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode))
                        return error_setx(err, EPERM, "layer entry `%s`: path goes through symbolic link `%s`", raw,
                                          prefix);
                return error_setx(err, ENOTDIR, "layer entry `%s`: `%s` is not a directory", raw, prefix);
        }
        return error_set(err, errno, "layer entry `%s`: open directory `%s`", raw, prefix);
}

/* Open the directory DIR (clean, relative; "" is the root) of the layer
 * as a new O_PATH fd, creating missing directories.  openat2() with
 * RESOLVE_IN_ROOT|RESOLVE_NO_SYMLINKS answers the common case in one call;
 * otherwise (missing parts, a link met, no openat2 before Linux 5.6) walk
 * one component at a time with O_NOFOLLOW: the components hold no "." or
 * "..", so each step stays below the root. */
static int unpack_open_dir(struct unpack *u, const char *dir, const char *raw, struct error *err)
{
        _cleanup_free_ char *copy = NULL;
        _cleanup_close_ int cur = -EBADF;
        char *p;
        int fd;

        if (!*dir)
                fd = openat(u->dstfd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
        else
                fd = chase_open_plain(u->dstfd, dir, O_PATH | O_DIRECTORY);
        if (fd >= 0)
                return fd;
        if (!*dir)
                return error_set(err, errno, "open layer directory");
        if (fd != -ENOENT && fd != -EOPNOTSUPP && fd != -ELOOP && fd != -ENOTDIR)
                return error_set(err, -fd, "layer entry `%s`: open directory `%s`", raw, dir);

        cur = openat(u->dstfd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (cur < 0)
                return error_set(err, errno, "open layer directory");
        copy = xstrdup(dir);
        for (p = copy;;) {
                char *slash = strchr(p, '/');

                if (slash)
                        *slash = 0;
                fd = unpack_walk_step(cur, p, copy, raw, err);
                if (fd < 0)
                        return fd;
                closep(&cur);
                cur = fd;
                if (!slash)
                        break;
                *slash = '/';
                p = slash + 1;
        }
        return TAKE_FD(cur);
}

/* Like unpack_open_dir(), but the fd is borrowed: entries come grouped by
 * directory, so the last one is kept.  It stays valid: a directory of the
 * layer is never removed or replaced. */
static int unpack_parent(struct unpack *u, const char *dir, const char *raw, struct error *err)
{
        int fd;

        if (!*dir)
                return u->dstfd;
        if (u->cache_path && strcmp(u->cache_path, dir) == 0)
                return u->cache_fd;
        fd = unpack_open_dir(u, dir, raw, err);
        if (fd < 0)
                return fd;
        closep(&u->cache_fd);
        free(u->cache_path);
        u->cache_fd = fd;
        u->cache_path = xstrdup(dir);
        return fd;
}

/* Something is at BASE already (layers may repeat a name: the later entry
 * wins): remove it.  A directory is never replaced (a new directory
 * entry just updates it, see unpack_dir()): removing it would take all it
 * holds, and a link in its place would redirect later entries. */
static int unpack_make_room(int pfd, const char *base, const char *raw, struct error *err)
{
        struct stat st;

        if (fstatat(pfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return error_set(err, errno, "layer entry `%s`: inspect the earlier entry", raw);
        if (S_ISDIR(st.st_mode))
                return error_setx(err, EEXIST, "layer entry `%s`: would replace a directory of the layer", raw);
        if (unlinkat(pfd, base, 0) < 0)
                return error_set(err, errno, "layer entry `%s`: remove the earlier entry", raw);
        return 0;
}

static int unpack_mk_once(int pfd, const char *base, const struct mk *m)
{
        switch (m->kind) {
        case MK_FILE:
                return openat(pfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0600);
        case MK_LINK:
                return symlinkat(m->target, pfd, base);
        case MK_HARDLINK:
                return linkat(m->tpfd, m->tbase, pfd, base, 0);
        case MK_NODE:
                return mknodat(pfd, base, m->mode, m->rdev);
        }
        errno = EINVAL;
        return -1;
}

/* Create BASE in PFD, never following it; returns the fd for MK_FILE. */
static int unpack_mk(int pfd, const char *base, const struct mk *m, const char *raw, struct error *err)
{
        static const char *const what[] = {
                [MK_FILE] = "file", [MK_LINK] = "symbolic link", [MK_HARDLINK] = "hard link", [MK_NODE] = "node",
        };
        int r;

        r = unpack_mk_once(pfd, base, m);
        if (r < 0 && errno == EEXIST) {
                r = unpack_make_room(pfd, base, raw, err);
                if (r < 0)
                        return r;
                r = unpack_mk_once(pfd, base, m);
        }
        if (r < 0)
                return error_set(err, errno, "layer entry `%s`: create %s", raw, what[m->kind]);
        return r;
}

static void unpack_times(struct archive_entry *e, struct timespec ts[2])
{
        ts[1].tv_sec = 0;
        ts[1].tv_nsec = UTIME_OMIT;
        if (archive_entry_mtime_is_set(e)) {
                long nsec = archive_entry_mtime_nsec(e);

                ts[1].tv_sec = archive_entry_mtime(e);
                ts[1].tv_nsec = nsec >= 0 && nsec < 1000000000L ? nsec : 0;
        }
        ts[0] = ts[1];
}

/* Set the entry's xattrs on FD (an O_PATH fd when OPATH: symlinks and
 * nodes, through its /proc/self/fd link, which setxattr() follows to the
 * inode itself).  EPERM and ENOTSUP (a namespace this process or file
 * system cannot hold, user.* on a symlink) are counted, not fatal. */
static int unpack_xattrs(struct unpack *u, int fd, bool opath, struct archive_entry *e, const char *raw,
                         struct error *err)
{
        const char *name;
        const void *value;
        char proc[64];
        size_t size;
        int r;

        snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
        archive_entry_xattr_reset(e);
        while (archive_entry_xattr_next(e, &name, &value, &size) == ARCHIVE_OK) {
                if (opath)
                        r = setxattr(proc, name, value, size, 0);
                else
                        r = fsetxattr(fd, name, value, size, 0);
                if (r >= 0)
                        continue;
                if (errno != EPERM && errno != ENOTSUP)
                        return error_set(err, errno, "layer entry `%s`: set attribute `%s`", raw, name);
                u->xattrs_skipped++;
        }
        return 0;
}

/* The entry's permissions.  Without keep_owner a setuid (setgid) file
 * whose owner (group) is not ours loses the bit, as with tar
 * --no-same-owner: a layer's setuid-1000 program must not become a setuid
 * program of ours.  On directories setgid only means group inheritance. */
static mode_t unpack_perm(struct unpack *u, struct archive_entry *e)
{
        mode_t m = archive_entry_perm(e) & 07777;

        if (u->o.keep_owner || archive_entry_filetype(e) == AE_IFDIR)
                return m;
        if (archive_entry_uid(e) != (la_int64_t) u->uid)
                m &= ~(mode_t) S_ISUID;
        if (archive_entry_gid(e) != (la_int64_t) u->gid)
                m &= ~(mode_t) S_ISGID;
        return m;
}

/* Owner, then xattrs (a chown drops security.capability), then the mode
 * (a chown drops setuid/setgid), then the times. */
static int unpack_meta_fd(struct unpack *u, int fd, struct archive_entry *e, bool mode_times, const char *raw,
                          struct error *err)
{
        struct timespec ts[2];
        int r;

        if (u->o.keep_owner && fchown(fd, (uid_t) archive_entry_uid(e), (gid_t) archive_entry_gid(e)) < 0)
                return error_set(err, errno, "layer entry `%s`: set owner", raw);
        r = unpack_xattrs(u, fd, false, e, raw, err);
        if (r < 0 || !mode_times)
                return r;
        if (fchmod(fd, unpack_perm(u, e)) < 0)
                return error_set(err, errno, "layer entry `%s`: set mode", raw);
        unpack_times(e, ts);
        if (futimens(fd, ts) < 0)
                return error_set(err, errno, "layer entry `%s`: set times", raw);
        return 0;
}

/* The same for symlinks and nodes, by name in PFD, never following. */
static int unpack_meta_at(struct unpack *u, int pfd, const char *base, struct archive_entry *e, bool is_link,
                          const char *raw, struct error *err)
{
        struct timespec ts[2];
        int r;

        if (u->o.keep_owner && fchownat(pfd, base, (uid_t) archive_entry_uid(e), (gid_t) archive_entry_gid(e),
                                        AT_SYMLINK_NOFOLLOW) < 0)
                return error_set(err, errno, "layer entry `%s`: set owner", raw);
        if (archive_entry_xattr_count(e) > 0) {
                _cleanup_close_ int fd = openat(pfd, base, O_PATH | O_NOFOLLOW | O_CLOEXEC);

                if (fd < 0)
                        return error_set(err, errno, "layer entry `%s`: open", raw);
                r = unpack_xattrs(u, fd, true, e, raw, err);
                if (r < 0)
                        return r;
        }
        if (!is_link && fchmodat(pfd, base, unpack_perm(u, e), AT_SYMLINK_NOFOLLOW) < 0)
                return error_set(err, errno, "layer entry `%s`: set mode", raw);
        unpack_times(e, ts);
        if (utimensat(pfd, base, ts, AT_SYMLINK_NOFOLLOW) < 0)
                return error_set(err, errno, "layer entry `%s`: set times", raw);
        return 0;
}

/* The entry's data into FD, sparse holes (GNU and pax sparse files) kept
 * as holes. */
static int unpack_copy_data(struct unpack *u, int fd, struct archive_entry *e, const char *raw, struct error *err)
{
        la_int64_t end = 0, size = archive_entry_size(e);

        for (;;) {
                const void *b;
                size_t len;
                la_int64_t off;
                int r;

                r = archive_read_data_block(u->tar, &b, &len, &off);
                if (r == ARCHIVE_EOF)
                        break;
                if (r < ARCHIVE_WARN) {
                        (void) unpack_archive_error(u, err);
                        return error_prefix(err, "layer entry `%s`", raw);
                }
                if (off != end && lseek(fd, off, SEEK_SET) < 0)
                        return error_set(err, errno, "layer entry `%s`: seek", raw);
                r = write_all(fd, b, len);
                if (r < 0)
                        return error_set(err, -r, "layer entry `%s`: write", raw);
                end = off + (la_int64_t) len;
        }
        if (size > end && ftruncate(fd, size) < 0)
                return error_set(err, errno, "layer entry `%s`: set size", raw);
        return 0;
}

static int unpack_file(struct unpack *u, int pfd, const char *base, const char *path, struct archive_entry *e,
                       const char *raw, struct error *err)
{
        _cleanup_close_ int fd = -EBADF;
        int r;

        fd = unpack_mk(pfd, base, &(struct mk) { .kind = MK_FILE }, raw, err);
        if (fd < 0)
                return fd;
        r = unpack_copy_data(u, fd, e, raw, err);
        if (r < 0)
                return r;
        r = unpack_meta_fd(u, fd, e, true, raw, err);
        if (r < 0)
                return r;
        if (archive_entry_size(e) > 0)
                u->unpacked_size += (uint64_t) archive_entry_size(e);
        unpack_note(u, path, true);
        return 0;
}

/* A directory: created, or kept when one is there (then updated).  Owner
 * and xattrs now, mode and mtime at the end (unpack_finish_dirs()). */
static int unpack_dir(struct unpack *u, int pfd, const char *base, const char *path, struct archive_entry *e,
                      const char *raw, struct error *err)
{
        _cleanup_close_ int fd = -EBADF;
        struct timespec ts[2];
        struct stat st;
        struct node *n;
        int r;

        if (*path && mkdirat(pfd, base, 0700) < 0) {
                if (errno != EEXIST)
                        return error_set(err, errno, "layer entry `%s`: create directory", raw);
                if (fstatat(pfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode)) {
                        r = unpack_make_room(pfd, base, raw, err);
                        if (r < 0)
                                return r;
                        if (mkdirat(pfd, base, 0700) < 0)
                                return error_set(err, errno, "layer entry `%s`: create directory", raw);
                }
        }
        fd = openat(pfd, *path ? base : ".", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return error_set(err, errno, "layer entry `%s`: open directory", raw);
        r = unpack_meta_fd(u, fd, e, false, raw, err);
        if (r < 0)
                return r;

        n = unpack_node(u, path, true);
        n->is_reg = false;
        if (!n->dir_meta) {
                if (u->n_dirs == u->cap_dirs) {
                        u->cap_dirs = u->cap_dirs ? u->cap_dirs * 2 : 64;
                        u->dirs = xrealloc(u->dirs, u->cap_dirs * sizeof(*u->dirs));
                }
                u->dirs[u->n_dirs++] = n;
                n->dir_meta = true;
        }
        n->mode = unpack_perm(u, e);
        unpack_times(e, ts);
        n->mtime = ts[1];
        return 0;
}

static int unpack_symlink(struct unpack *u, int pfd, const char *base, const char *path, struct archive_entry *e,
                          const char *raw, struct error *err)
{
        const char *target = archive_entry_symlink(e);
        int r;

        /* The target is data: stored as is, never resolved here. */
        if (!target || !*target)
                return error_setx(err, EINVAL, "layer entry `%s`: symbolic link without a target", raw);
        r = unpack_mk(pfd, base, &(struct mk) { .kind = MK_LINK, .target = target }, raw, err);
        if (r < 0)
                return r;
        unpack_note(u, path, false);
        return unpack_meta_at(u, pfd, base, e, true, raw, err);
}

/* A hard link may only point at a regular file this unpack created (by
 * its clean name): never at a directory, a link, or anything that was
 * there before.  No metadata is applied: the inode is the target's. */
static int unpack_hardlink(struct unpack *u, int pfd, const char *base, const char *path, struct archive_entry *e,
                           const char *raw, struct error *err)
{
        _cleanup_free_ char *target = NULL, *tdir = NULL;
        _cleanup_close_ int tpfd = -EBADF;
        const char *tbase;
        struct node *n;
        struct stat st;
        int r;

        r = unpack_clean_name(archive_entry_hardlink(e), &target);
        if (r == -EPERM)
                return error_setx(err, EPERM, "layer entry `%s`: hard link target `%s` leaves the layer", raw,
                                  archive_entry_hardlink(e));
        if (r < 0)
                return error_setx(err, EINVAL, "layer entry `%s`: hard link without a target", raw);
        if (strcmp(target, path) == 0)
                return error_setx(err, EINVAL, "layer entry `%s`: hard link to itself", raw);
        n = unpack_node(u, target, false);
        if (!n || !n->is_reg)
                return error_setx(err, EPERM, "layer entry `%s`: hard link target `%s` is not a file of this layer",
                                  raw, archive_entry_hardlink(e));
        tbase = strrchr(target, '/');
        tdir = tbase ? xstrndup(target, (size_t) (tbase - target)) : xstrdup("");
        tbase = tbase ? tbase + 1 : target;
        tpfd = unpack_open_dir(u, tdir, raw, err);
        if (tpfd < 0)
                return tpfd;
        if (fstatat(tpfd, tbase, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
                return error_setx(err, EPERM, "layer entry `%s`: hard link target `%s` is not a regular file", raw,
                                  archive_entry_hardlink(e));
        r = unpack_mk(pfd, base, &(struct mk) { .kind = MK_HARDLINK, .tpfd = tpfd, .tbase = tbase }, raw, err);
        if (r < 0)
                return r;
        unpack_note(u, path, true);
        return 0;
}

/* Fifos always; device nodes only when asked for (they give access to the
 * host's devices), except a 0/0 character device: it opens nothing, and
 * overlayfs reads it as a whiteout. */
static int unpack_special(struct unpack *u, int pfd, const char *base, const char *path, struct archive_entry *e,
                          const char *raw, struct error *err)
{
        mode_t type = archive_entry_filetype(e);
        dev_t rdev = archive_entry_rdev(e);
        int r;

        if (type != AE_IFIFO && !(type == AE_IFCHR && rdev == 0) && !u->o.allow_devices)
                return error_setx(err, EPERM, "layer entry `%s`: device node refused (devices not allowed)", raw);
        r = unpack_mk(pfd, base, &(struct mk) { .kind = MK_NODE, .mode = type | 0600, .rdev = rdev }, raw, err);
        if (r < 0)
                return r;
        unpack_note(u, path, false);
        return unpack_meta_at(u, pfd, base, e, false, raw, err);
}

/* ".wh.NAME": a 0/0 character device NAME, overlayfs's whiteout.  An
 * entry of this layer already at NAME stays: a whiteout only hides the
 * layers below (OCI image spec, "Whiteouts"). */
static int unpack_whiteout(int pfd, const char *name, const char *raw, struct error *err)
{
        if (mknodat(pfd, name, S_IFCHR | 0000, makedev(0, 0)) == 0 || errno == EEXIST)
                return 0;
        if (errno == EPERM)
                return error_set(err, errno,
                                 "layer entry `%s`: create whiteout (a 0/0 character device, needs CAP_MKNOD)", raw);
        return error_set(err, errno, "layer entry `%s`: create whiteout", raw);
}

/* ".wh..wh..opq": its directory hides all of the same directory below. */
static int unpack_opaque(int pfd, const char *raw, struct error *err)
{
        _cleanup_close_ int fd = openat(pfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

        if (fd < 0)
                return error_set(err, errno, "layer entry `%s`: open directory", raw);
        if (fsetxattr(fd, "trusted.overlay.opaque", "y", 1, 0) < 0)
                return error_set(err, errno, "layer entry `%s`: mark directory opaque (needs CAP_SYS_ADMIN)", raw);
        return 0;
}

static int unpack_entry(struct unpack *u, struct archive_entry *e, struct error *err)
{
        _cleanup_free_ char *path = NULL, *dir = NULL;
        const char *raw = archive_entry_pathname(e), *base;
        int kind, pfd, r;

        if (!raw)
                return error_setx(err, EINVAL, "layer entry without a readable name");
        r = unpack_clean_name(raw, &path);
        if (r == -EINVAL)
                return error_setx(err, EINVAL, "layer entry `%s`: empty name", raw);
        if (r < 0)
                return error_setx(err, EPERM, "layer entry `%s`: path leaves the layer", raw);
        r = unpack_check_entry(u, e, raw, err);
        if (r < 0)
                return r;
        if (!*path) {
                if (archive_entry_hardlink(e) || archive_entry_filetype(e) != AE_IFDIR)
                        return error_setx(err, EINVAL, "layer entry `%s`: the layer root is not a directory", raw);
                return unpack_dir(u, u->dstfd, "", "", e, raw, err);
        }
        base = strrchr(path, '/');
        dir = base ? xstrndup(path, (size_t) (base - path)) : xstrdup("");
        base = base ? base + 1 : path;
        kind = unpack_classify(path, base, raw, err);
        if (kind < 0)
                return kind;
        pfd = unpack_parent(u, dir, raw, err);
        if (pfd < 0)
                return pfd;
        if (kind == ENTRY_OPAQUE)
                return unpack_opaque(pfd, raw, err);
        if (kind == ENTRY_WHITEOUT)
                return unpack_whiteout(pfd, base + strlen(WHITEOUT_PREFIX), raw, err);
        if (archive_entry_hardlink(e))
                return unpack_hardlink(u, pfd, base, path, e, raw, err);
        switch (archive_entry_filetype(e)) {
        case AE_IFREG:
                return unpack_file(u, pfd, base, path, e, raw, err);
        case AE_IFDIR:
                return unpack_dir(u, pfd, base, path, e, raw, err);
        case AE_IFLNK:
                return unpack_symlink(u, pfd, base, path, e, raw, err);
        case AE_IFIFO:
        case AE_IFCHR:
        case AE_IFBLK:
                return unpack_special(u, pfd, base, path, e, raw, err);
        default:
                return error_setx(err, EINVAL, "layer entry `%s`: unsupported entry type", raw);
        }
}

static size_t path_depth(const char *p)
{
        size_t d = *p ? 1 : 0;

        for (; *p; p++)
                d += *p == '/';
        return d;
}

static int dir_depth_cmp(const void *a, const void *b)
{
        size_t x = path_depth((*(struct node *const *) a)->path), y = path_depth((*(struct node *const *) b)->path);

        return x > y ? -1 : x < y ? 1 : 0;
}

/* Directory modes and mtimes last, deepest first: creating entries
 * changed the mtimes, and a read-only directory could not have been
 * filled without CAP_DAC_OVERRIDE. */
static int unpack_finish_dirs(struct unpack *u, struct error *err)
{
        if (u->n_dirs > 1)
                qsort(u->dirs, u->n_dirs, sizeof(*u->dirs), dir_depth_cmp);
        for (size_t i = 0; i < u->n_dirs; i++) {
                struct node *n = u->dirs[i];
                _cleanup_close_ int pfd = -EBADF, fd = -EBADF;
                struct timespec ts[2] = { n->mtime, n->mtime };

                pfd = unpack_open_dir(u, n->path, n->path, err);
                if (pfd < 0)
                        return pfd;
                fd = openat(pfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (fd < 0)
                        return error_set(err, errno, "layer directory `%s`: open", n->path);
                if (fchmod(fd, n->mode) < 0)
                        return error_set(err, errno, "layer directory `%s`: set mode", n->path);
                if (futimens(fd, ts) < 0)
                        return error_set(err, errno, "layer directory `%s`: set times", n->path);
        }
        return 0;
}

static int unpack_entries(struct unpack *u, struct error *err)
{
        struct archive_entry *e;
        int r;

        for (;;) {
                r = archive_read_next_header(u->tar, &e);
                if (r == ARCHIVE_EOF)
                        break;
                if (r < ARCHIVE_WARN)
                        return unpack_archive_error(u, err);
                r = unpack_entry(u, e, err);
                if (r < 0)
                        return r;
        }
        r = unpack_finish_dirs(u, err);
        if (r < 0)
                return r;
        return unpack_drain(u, err);
}

int layer_unpack(int in_fd, int dstfd, const struct unpack_opts *o, struct unpack_result *ret, struct error *err)
{
        _cleanup_(unpack_done) struct unpack u = {
                .in_fd = in_fd,
                .dstfd = dstfd,
                .cache_fd = -EBADF,
                .uid = geteuid(),
                .gid = getegid(),
        };
        int r;

        if (o)
                u.o = *o;
        u.buf = xmalloc(READ_BUF_SIZE);
        u.blob = digest_new();
        u.diff = digest_new();
        r = unpack_open_readers(&u, err);
        if (r < 0)
                return r;
        if (r == 0) {
                r = unpack_entries(&u, err);
                if (r < 0)
                        return r;
        }
        if (ret) {
                *ret = (struct unpack_result) {
                        .size = u.size,
                        .unpacked_size = u.unpacked_size,
                        .xattrs_skipped = u.xattrs_skipped,
                };
                digest_final(TAKE_PTR(u.blob), ret->digest);
                digest_final(TAKE_PTR(u.diff), ret->diff_id);
        }
        return 0;
}
