/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/magic.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "basic/chase.h"
#include "basic/fileio.h"
#include "runtime/mount.h"

enum opt_kind {
        OPT_SET,      /* MOUNT_ATTR_* on the top mount */
        OPT_CLR,
        OPT_ATIME,    /* one of the MOUNT_ATTR__ATIME values */
        OPT_RSET,     /* the same, recursive */
        OPT_RCLR,
        OPT_RATIME,
        OPT_SB,       /* superblock flag (fsconfig flag of the same name) */
        OPT_PROP,     /* propagation */
        OPT_FLAG,     /* MOUNT_OPT_* */
        OPT_IGNORE,   /* defaults, or a no-op on current kernels */
};

struct opt {
        const char *name;
        enum opt_kind kind;
        uint64_t value;
};

static const struct opt opt_table[] = {
        { "ro", OPT_SET, MOUNT_ATTR_RDONLY },
        { "rw", OPT_CLR, MOUNT_ATTR_RDONLY },
        { "nosuid", OPT_SET, MOUNT_ATTR_NOSUID },
        { "suid", OPT_CLR, MOUNT_ATTR_NOSUID },
        { "nodev", OPT_SET, MOUNT_ATTR_NODEV },
        { "dev", OPT_CLR, MOUNT_ATTR_NODEV },
        { "noexec", OPT_SET, MOUNT_ATTR_NOEXEC },
        { "exec", OPT_CLR, MOUNT_ATTR_NOEXEC },
        { "nosymfollow", OPT_SET, MOUNT_ATTR_NOSYMFOLLOW },
        { "symfollow", OPT_CLR, MOUNT_ATTR_NOSYMFOLLOW },
        { "nodiratime", OPT_SET, MOUNT_ATTR_NODIRATIME },
        { "diratime", OPT_CLR, MOUNT_ATTR_NODIRATIME },
        { "noatime", OPT_ATIME, MOUNT_ATTR_NOATIME },
        { "atime", OPT_ATIME, MOUNT_ATTR_RELATIME },
        { "relatime", OPT_ATIME, MOUNT_ATTR_RELATIME },
        { "norelatime", OPT_ATIME, MOUNT_ATTR_STRICTATIME },
        { "strictatime", OPT_ATIME, MOUNT_ATTR_STRICTATIME },
        { "nostrictatime", OPT_ATIME, MOUNT_ATTR_RELATIME },

        { "rro", OPT_RSET, MOUNT_ATTR_RDONLY },
        { "rrw", OPT_RCLR, MOUNT_ATTR_RDONLY },
        { "rnosuid", OPT_RSET, MOUNT_ATTR_NOSUID },
        { "rsuid", OPT_RCLR, MOUNT_ATTR_NOSUID },
        { "rnodev", OPT_RSET, MOUNT_ATTR_NODEV },
        { "rdev", OPT_RCLR, MOUNT_ATTR_NODEV },
        { "rnoexec", OPT_RSET, MOUNT_ATTR_NOEXEC },
        { "rexec", OPT_RCLR, MOUNT_ATTR_NOEXEC },
        { "rnosymfollow", OPT_RSET, MOUNT_ATTR_NOSYMFOLLOW },
        { "rsymfollow", OPT_RCLR, MOUNT_ATTR_NOSYMFOLLOW },
        { "rnodiratime", OPT_RSET, MOUNT_ATTR_NODIRATIME },
        { "rdiratime", OPT_RCLR, MOUNT_ATTR_NODIRATIME },
        { "rnoatime", OPT_RATIME, MOUNT_ATTR_NOATIME },
        { "ratime", OPT_RATIME, MOUNT_ATTR_RELATIME },
        { "rrelatime", OPT_RATIME, MOUNT_ATTR_RELATIME },
        { "rnorelatime", OPT_RATIME, MOUNT_ATTR_STRICTATIME },
        { "rstrictatime", OPT_RATIME, MOUNT_ATTR_STRICTATIME },
        { "rnostrictatime", OPT_RATIME, MOUNT_ATTR_RELATIME },

        { "sync", OPT_SB, MS_SYNCHRONOUS },
        { "dirsync", OPT_SB, MS_DIRSYNC },
        { "lazytime", OPT_SB, MS_LAZYTIME },
        { "silent", OPT_SB, MS_SILENT },
        { "async", OPT_IGNORE, 0 },
        { "nolazytime", OPT_IGNORE, 0 },
        { "loud", OPT_IGNORE, 0 },
        { "defaults", OPT_IGNORE, 0 },
        /* mandatory locking is gone since Linux 5.15 */
        { "mand", OPT_IGNORE, 0 },
        { "nomand", OPT_IGNORE, 0 },

        { "private", OPT_PROP, MS_PRIVATE },
        { "rprivate", OPT_PROP, MS_PRIVATE | MS_REC },
        { "shared", OPT_PROP, MS_SHARED },
        { "rshared", OPT_PROP, MS_SHARED | MS_REC },
        { "slave", OPT_PROP, MS_SLAVE },
        { "rslave", OPT_PROP, MS_SLAVE | MS_REC },
        { "unbindable", OPT_PROP, MS_UNBINDABLE },
        { "runbindable", OPT_PROP, MS_UNBINDABLE | MS_REC },

        { "bind", OPT_FLAG, MOUNT_OPT_BIND },
        { "rbind", OPT_FLAG, MOUNT_OPT_BIND | MOUNT_OPT_REC },
        { "remount", OPT_FLAG, MOUNT_OPT_REMOUNT },
        { "tmpcopyup", OPT_FLAG, MOUNT_OPT_TMPCOPYUP },
        { "idmap", OPT_FLAG, MOUNT_OPT_IDMAP },
        { "ridmap", OPT_FLAG, MOUNT_OPT_IDMAP | MOUNT_OPT_RIDMAP },
};

static const struct opt *opt_find(const char *name)
{
        for (size_t i = 0; i < ELEMENTSOF(opt_table); i++)
                if (strcmp(opt_table[i].name, name) == 0)
                        return &opt_table[i];
        return NULL;
}

static void data_append(char **data, const char *s)
{
        char *n = *data ? xasprintf("%s,%s", *data, s) : xstrdup(s);

        free(*data);
        *data = n;
}

static void opt_apply(struct mount_options *mo, const struct opt *o)
{
        switch (o->kind) {
        case OPT_SET:
                mo->attr_set |= o->value;
                mo->attr_clr &= ~o->value;
                break;
        case OPT_CLR:
                mo->attr_clr |= o->value;
                mo->attr_set &= ~o->value;
                break;
        case OPT_ATIME:
                mo->attr_set = (mo->attr_set & ~MOUNT_ATTR__ATIME) | o->value;
                mo->attr_clr |= MOUNT_ATTR__ATIME;
                break;
        case OPT_RSET:
                mo->rattr_set |= o->value;
                mo->rattr_clr &= ~o->value;
                break;
        case OPT_RCLR:
                mo->rattr_clr |= o->value;
                mo->rattr_set &= ~o->value;
                break;
        case OPT_RATIME:
                mo->rattr_set = (mo->rattr_set & ~MOUNT_ATTR__ATIME) | o->value;
                mo->rattr_clr |= MOUNT_ATTR__ATIME;
                break;
        case OPT_SB:
                mo->sb_flags |= o->value;
                break;
        case OPT_PROP:
                mo->propagation = o->value;
                break;
        case OPT_FLAG:
                mo->flags |= o->value;
                break;
        case OPT_IGNORE:
                break;
        }
}

int mount_options_parse(char *const *options, struct mount_options *ret, struct error *err)
{
        struct mount_options mo = {};

        for (char *const *p = options; p && *p; p++) {
                const struct opt *o;

                if (!**p)
                        continue;
                o = opt_find(*p);
                if (o)
                        opt_apply(&mo, o);
                else if (strncmp(*p, "x-", 2) == 0)
                        continue; /* mount(8) userspace options, never for the kernel */
                else
                        data_append(&mo.data, *p);
        }
        *ret = mo;
        return 0;
}

void mount_options_clear(struct mount_options *mo)
{
        free(mo->data);
        mo->data = NULL;
}

int mount_propagation_parse(const char *s, unsigned long *ret)
{
        const struct opt *o = s ? opt_find(s) : NULL;

        if (!o || o->kind != OPT_PROP)
                return -EINVAL;
        *ret = (unsigned long) o->value;
        return 0;
}

bool mount_is_bind(const struct spec_mount *m)
{
        if (m->type && strcmp(m->type, "bind") == 0)
                return true;
        for (char **p = m->options; p && *p; p++)
                if (strcmp(*p, "bind") == 0 || strcmp(*p, "rbind") == 0)
                        return true;
        return false;
}

/* Primitives over the new mount API. */

int mount_move(int treefd, int dstfd)
{
        if (move_mount(treefd, "", dstfd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
                return -errno;
        return 0;
}

static int setattr(int fd, bool recursive, uint64_t set, uint64_t clr, uint64_t propagation, int userns_fd)
{
        struct mount_attr a = {
                .attr_set = set,
                .attr_clr = clr,
                .propagation = propagation,
                .userns_fd = userns_fd >= 0 ? (uint64_t) userns_fd : 0,
        };

        if (!set && !clr && !propagation)
                return 0;
        if (mount_setattr(fd, "", AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0), &a, sizeof(a)) < 0)
                return -errno;
        return 0;
}

int mount_bind_fd(int srcfd, int dstfd, bool recursive, uint64_t attr_set)
{
        _cleanup_close_ int tree = -EBADF;
        int r;

        tree = open_tree(srcfd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH |
                                            (recursive ? AT_RECURSIVE : 0));
        if (tree < 0)
                return -errno;
        r = setattr(tree, recursive, attr_set, 0, 0, -1);
        if (r < 0)
                return r;
        return mount_move(tree, dstfd);
}


static int fsconfig_data(int fsfd, const char *data, struct error *err)
{
        _cleanup_free_ char *copy = xstrdup(data);
        char *next;

        for (char *kv = copy; kv; kv = next) {
                char *eq;
                int r;

                next = strchr(kv, ',');
                if (next)
                        *next++ = 0;
                if (!*kv)
                        continue;
                eq = strchr(kv, '=');
                if (eq) {
                        *eq = 0;
                        r = fsconfig(fsfd, FSCONFIG_SET_STRING, kv, eq + 1, 0);
                } else
                        r = fsconfig(fsfd, FSCONFIG_SET_FLAG, kv, NULL, 0);
                if (r < 0) {
                        _cleanup_free_ char *what = xasprintf("option `%s`", kv);
                        return error_fs_context(fsfd, err, errno, what);
                }
        }
        return 0;
}

static const struct {
        unsigned long flag;
        const char *name;
} sb_flag_names[] = {
        { MS_SYNCHRONOUS, "sync" },
        { MS_DIRSYNC, "dirsync" },
        { MS_LAZYTIME, "lazytime" },
        { MS_SILENT, "silent" },
};

/* A new detached instance of filesystem TYPE: fsopen, fsconfig (source,
 * superblock flags, data, SELinux context LABEL unless NULL), create,
 * fsmount.  Returns the mount fd. */
/* What fsmount() itself can set on a new mount. */
#define FSMOUNT_ATTRS                                                                                         \
        (MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC | MOUNT_ATTR__ATIME |   \
         MOUNT_ATTR_NODIRATIME)

/* A new detached mount of TYPE with the attributes ATTR (FSMOUNT_ATTRS
 * only: the rest is for setattr()). */
static int fs_new_tree_labeled(const char *type, const char *source, unsigned long sb_flags, const char *data,
                               const char *label, uint64_t attr, struct error *err)
{
        _cleanup_close_ int fsfd = -EBADF;
        int mfd, r;

        fsfd = fsopen(type, FSOPEN_CLOEXEC);
        if (fsfd < 0)
                return error_set(err, errno, "fsopen `%s`", type);
        if (source && *source && fsconfig(fsfd, FSCONFIG_SET_STRING, "source", source, 0) < 0)
                return error_fs_context(fsfd, err, errno, "source");
        for (size_t i = 0; i < ELEMENTSOF(sb_flag_names); i++)
                if ((sb_flags & sb_flag_names[i].flag) &&
                    fsconfig(fsfd, FSCONFIG_SET_FLAG, sb_flag_names[i].name, NULL, 0) < 0)
                        return error_fs_context(fsfd, err, errno, sb_flag_names[i].name);
        if (data) {
                r = fsconfig_data(fsfd, data, err);
                if (r < 0)
                        return r;
        }
        /* a string of its own: MCS labels hold commas */
        if (label && *label && fsconfig(fsfd, FSCONFIG_SET_STRING, "context", label, 0) < 0)
                return error_fs_context(fsfd, err, errno, "linux.mountLabel");
        if (fsconfig(fsfd, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0) {
                _cleanup_free_ char *what = xasprintf("mount %s", type);
                return error_fs_context(fsfd, err, errno, what);
        }
        mfd = fsmount(fsfd, FSMOUNT_CLOEXEC, (unsigned int) (attr & FSMOUNT_ATTRS));
        if (mfd < 0)
                return error_set(err, errno, "fsmount %s", type);
        return mfd;
}

static int fs_new_tree(const char *type, const char *source, unsigned long sb_flags, const char *data,
                       uint64_t attr, struct error *err)
{
        return fs_new_tree_labeled(type, source, sb_flags, data, NULL, attr, err);
}

int mount_new_tmpfs(uint64_t attr_set, const char *data)
{
        struct error e = ERROR_INIT;
        _cleanup_close_ int tree = -EBADF;
        int r;

        tree = fs_new_tree("tmpfs", "tmpfs", 0, data, attr_set, &e);
        error_clear(&e);
        if (tree < 0)
                return tree;
        r = setattr(tree, false, attr_set & ~FSMOUNT_ATTRS, 0, 0, -1);
        if (r < 0)
                return r;
        return TAKE_FD(tree);
}

/* Idmapped mounts need a user namespace that carries the mapping: a
 * short-lived child unshares one, we write its maps and keep an fd. */
static int write_id_map(pid_t pid, const char *file, const struct spec_id_mapping *m, size_t n)
{
        _cleanup_free_ char *path = xasprintf("/proc/%d/%s", (int) pid, file);
        _cleanup_free_ char *buf = xstrdup("");

        if (n == 0)
                return 0;
        for (size_t i = 0; i < n; i++) {
                char *t = xasprintf("%s%u %u %u\n", buf, m[i].container_id, m[i].host_id, m[i].size);
                free(buf);
                buf = t;
        }
        return write_file_at(AT_FDCWD, path, buf);
}

int mount_make_userns(const struct spec_id_mapping *uid, size_t n_uid,
                      const struct spec_id_mapping *gid, size_t n_gid)
{
        int ready[2], hold[2], fd = -EBADF, r;
        _cleanup_free_ char *path = NULL;
        pid_t pid;
        char c;

        if (pipe2(ready, O_CLOEXEC) < 0)
                return -errno;
        if (pipe2(hold, O_CLOEXEC) < 0) {
                r = -errno;
                close(ready[0]);
                close(ready[1]);
                return r;
        }
        pid = fork();
        if (pid == 0) {
                close(ready[0]);
                close(hold[1]);
                c = unshare(CLONE_NEWUSER) < 0 ? 'e' : 'o';
                (void) !write(ready[1], &c, 1);
                (void) !read(hold[0], &c, 1); /* until the parent holds the ns */
                _exit(0);
        }
        close(ready[1]);
        close(hold[0]);
        r = pid < 0 ? -errno : read_exact(ready[0], &c, 1);
        if (r >= 0 && c != 'o')
                r = -EPERM;
        if (r >= 0)
                r = write_id_map(pid, "uid_map", uid, n_uid);
        if (r >= 0)
                r = write_id_map(pid, "gid_map", gid, n_gid);
        if (r >= 0) {
                path = xasprintf("/proc/%d/ns/user", (int) pid);
                fd = open(path, O_RDONLY | O_CLOEXEC);
                if (fd < 0)
                        r = -errno;
        }
        close(ready[0]);
        close(hold[1]);
        if (pid > 0)
                (void) RETRY_EINTR(waitpid(pid, NULL, 0));
        return r < 0 ? r : fd;
}


/* The path FD has inside the tree of ROOTFD ("/proc/sys"), or NULL when
 * it is not below it. */
static char *path_in_root(const struct mount_ctx *ctx, int fd)
{
        _cleanup_free_ char *own = ctx->root_path ? NULL : fd_get_path(ctx->rootfd), *p = fd_get_path(fd);
        const char *root = ctx->root_path ? ctx->root_path : own;
        size_t n;

        if (!root || !p || p[0] != '/')
                return NULL;
        if (strcmp(root, "/") == 0)
                return TAKE_PTR(p);
        n = strlen(root);
        if (strncmp(p, root, n) != 0 || (p[n] != '/' && p[n] != 0))
                return NULL;
        return xstrdup(p[n] ? p + n : "/");
}

/* Lexically normalise PATH as seen from "/": no "//", ".", or ".."
 * (which stops at the root). */
char *mount_path_clean(const char *path)
{
        size_t len = strlen(path), n = 0;
        char *out = xmalloc(len + 2);
        const char *p = path;

        while (*p) {
                const char *e;
                size_t l;

                while (*p == '/')
                        p++;
                if (!*p)
                        break;
                e = strchrnul(p, '/');
                l = (size_t) (e - p);
                if (l == 1 && p[0] == '.')
                        ;
                else if (l == 2 && p[0] == '.' && p[1] == '.') {
                        while (n > 0 && out[n - 1] != '/')
                                n--;
                        if (n > 0)
                                n--;
                } else {
                        out[n++] = '/';
                        memcpy(out + n, p, l);
                        n += l;
                }
                p = e;
        }
        if (n == 0)
                out[n++] = '/';
        out[n] = 0;
        return out;
}

static bool path_is_under(const char *path, const char *prefix)
{
        size_t n = strlen(prefix);

        return strncmp(path, prefix, n) == 0 && (path[n] == 0 || path[n] == '/');
}

static bool streq_ptr(const char *a, const char *b)
{
        return a && b && strcmp(a, b) == 0;
}

/* Files in /proc that may be covered by a bind (lxcfs-style views). */
static const char *const proc_bind_allowed[] = {
        "/proc/cpuinfo", "/proc/diskstats", "/proc/meminfo", "/proc/stat",
        "/proc/swaps",   "/proc/uptime",    "/proc/loadavg", "/proc/slabinfo",
        "/proc/net/dev", "/proc/sys/kernel/ns_last_pid",
};

/* CVE-2019-16884, CVE-2019-19921: a mount that lands in /proc (directly,
 * or through a symlink of the image) could replace files the runtime and
 * the LSMs later write to.  Only procfs itself at /proc, a bind of a
 * procfs, or a bind over a few read-only views is allowed there. */
static int check_proc_dest(const char *where, const char *type, bool bind, int srcfd, struct error *err)
{
        struct statfs sfs;

        if (!path_is_under(where, "/proc"))
                return 0;
        if (!bind && streq_ptr(type, "proc") && strcmp(where, "/proc") == 0)
                return 0;
        if (bind && srcfd >= 0 && fstatfs(srcfd, &sfs) == 0 && sfs.f_type == PROC_SUPER_MAGIC)
                return 0;
        for (size_t i = 0; bind && i < ELEMENTSOF(proc_bind_allowed); i++)
                if (strcmp(where, proc_bind_allowed[i]) == 0)
                        return 0;
        return error_setx(err, EPERM, "destination resolves to `%s`: only procfs may be mounted in /proc", where);
}

/* procfs and sysfs must be mounted on a plain directory reached without
 * any symlink (CVE-2019-19921: /proc as a symlink into a volume). */
static int check_plain_dest(const char *dest, const char *where, struct error *err)
{
        _cleanup_free_ char *clean = mount_path_clean(dest);

        if (strcmp(clean, where) != 0)
                return error_setx(err, EPERM, "destination goes through a symlink (to `%s`)", where);
        return 0;
}

/* Resolve DEST inside the rootfs, creating it as a directory (IS_DIR) or
 * an empty file; returns an O_PATH fd and its in-root path. */
static int resolve_dest(const struct mount_ctx *ctx, const char *dest, bool is_dir, char **ret_where,
                        struct error *err)
{
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ char *where = NULL;
        struct stat st;

        /* no symlink on the way: the cleaned path is where it is, no need
         * to ask /proc */
        fd = chase_open_plain(ctx->rootfd, dest, O_PATH);
        if (fd == -ENOENT) {
                fd = chase_mkpath(ctx->rootfd, dest, is_dir, is_dir ? 0755 : 0644);
                if (fd >= 0) {
                        closep(&fd);
                        fd = chase_open_plain(ctx->rootfd, dest, O_PATH);
                }
        }
        if (fd >= 0)
                where = mount_path_clean(dest);
        else {
                fd = chase_mkpath(ctx->rootfd, dest, is_dir, is_dir ? 0755 : 0644);
                if (fd < 0)
                        return error_set(err, fd, "resolve destination");
                where = path_in_root(ctx, fd);
                if (!where)
                        return error_setx(err, EXDEV, "destination resolves outside the rootfs");
        }
        if (fstat(fd, &st) < 0)
                return error_set(err, errno, "stat destination");
        if (is_dir && !S_ISDIR(st.st_mode))
                return error_setx(err, ENOTDIR, "destination is not a directory");
        if (!is_dir && S_ISDIR(st.st_mode))
                return error_setx(err, EISDIR, "destination is a directory, source is not");
        if (strcmp(where, "/") == 0)
                return error_setx(err, EINVAL, "destination resolves to the root itself");
        *ret_where = TAKE_PTR(where);
        return TAKE_FD(fd);
}

static int open_source(const struct mount_ctx *ctx, const char *source, struct error *err)
{
        _cleanup_close_ int bfd = -EBADF;
        int fd;

        if (!source || !*source)
                return error_setx(err, EINVAL, "bind mount without a source");
        if (source[0] != '/' && ctx->bundle) {
                bfd = open(ctx->bundle, O_PATH | O_DIRECTORY | O_CLOEXEC);
                if (bfd < 0)
                        return error_set(err, errno, "open bundle `%s`", ctx->bundle);
        }
        fd = openat(bfd >= 0 ? bfd : AT_FDCWD, source, O_PATH | O_CLOEXEC);
        if (fd < 0)
                return error_set(err, errno, "open source `%s`", source);
        return fd;
}

static int idmap_tree(const struct mount_ctx *ctx, const struct spec_mount *m, const struct mount_options *mo,
                      int tree, struct error *err)
{
        _cleanup_close_ int userns = -EBADF;
        int r;

        if (m->n_uid_mappings || m->n_gid_mappings)
                userns = mount_make_userns(m->uid_mappings, m->n_uid_mappings, m->gid_mappings,
                                           m->n_gid_mappings);
        else if (ctx->new_userns)
                userns = open("/proc/self/ns/user", O_RDONLY | O_CLOEXEC);
        else
                return error_setx(err, EINVAL, "idmap without uidMappings/gidMappings needs a user namespace");
        if (userns < 0)
                return error_set(err, userns == -1 ? errno : userns, "user namespace for idmap");
        r = setattr(tree, mo->flags & MOUNT_OPT_RIDMAP, MOUNT_ATTR_IDMAP, 0, 0, userns);
        if (r < 0)
                return error_set(err, r, "idmap");
        return 0;
}

/* tmpcopyup: fill the new (still detached) tmpfs with what it is about
 * to cover, so the container never sees it empty. */
static int tmpcopyup(int dst, int tree, const struct mount_options *mo, struct error *err)
{
        _cleanup_close_ int root = -EBADF;
        struct stat st;
        int r;

        r = mount_copy_tree(dst, tree, err);
        if (r < 0)
                return error_prefix(err, "tmpcopyup");
        root = openat(tree, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (root < 0 || fstat(dst, &st) < 0)
                return error_set(err, errno, "tmpcopyup");
        if (fchown(root, st.st_uid, st.st_gid) < 0)
                return error_set(err, errno, "tmpcopyup: chown");
        if (!(mo->data && strstr(mo->data, "mode=")) && fchmod(root, st.st_mode & 07777) < 0)
                return error_set(err, errno, "tmpcopyup: chmod");
        return 0;
}

/* Attributes, idmapping and copy-up on the detached TREE, then attach it
 * on DST and set its propagation. */
static int finish_tree(const struct mount_ctx *ctx, const struct spec_mount *m, const struct mount_options *mo,
                       int tree, int dst, bool premounted, struct error *err)
{
        int r;

        r = setattr(tree, false, mo->attr_set, mo->attr_clr, 0, -1);
        if (r < 0)
                return error_set(err, r, "set mount attributes");
        r = setattr(tree, true, mo->rattr_set, mo->rattr_clr, 0, -1);
        if (r < 0)
                return error_set(err, r, "set recursive mount attributes");
        if ((mo->flags & MOUNT_OPT_IDMAP) && !premounted) {
                r = idmap_tree(ctx, m, mo, tree, err);
                if (r < 0)
                        return r;
        }
        if (mo->flags & MOUNT_OPT_TMPCOPYUP) {
                r = tmpcopyup(dst, tree, mo, err);
                if (r < 0)
                        return r;
        }
        r = mount_move(tree, dst);
        if (r < 0)
                return error_set(err, r, "attach mount");
        r = setattr(tree, mo->propagation & MS_REC, 0, 0, mo->propagation & ~MS_REC, -1);
        if (r < 0)
                return error_set(err, r, "set propagation");
        return 0;
}

static int do_bind(const struct mount_ctx *ctx, const struct spec_mount *m, size_t idx,
                   const struct mount_options *mo, struct error *err)
{
        _cleanup_close_ int src = -EBADF, tree = -EBADF, dst = -EBADF;
        _cleanup_free_ char *where = NULL;
        bool pre = ctx->premounted && idx < ctx->n_premounted && ctx->premounted[idx] >= 0;
        struct stat st;
        int r;

        if (pre) {
                tree = fcntl(ctx->premounted[idx], F_DUPFD_CLOEXEC, 3);
                if (tree < 0)
                        return error_set(err, errno, "dup premounted tree");
        } else {
                src = open_source(ctx, m->source, err);
                if (src < 0)
                        return src;
                tree = open_tree(src, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH |
                                                  ((mo->flags & MOUNT_OPT_REC) ? AT_RECURSIVE : 0));
                if (tree < 0)
                        return error_set(err, errno, "clone `%s`", m->source);
        }
        if (fstat(tree, &st) < 0)
                return error_set(err, errno, "stat source");
        dst = resolve_dest(ctx, m->destination, S_ISDIR(st.st_mode), &where, err);
        if (dst < 0)
                return dst;
        r = check_proc_dest(where, m->type, true, tree, err);
        if (r < 0)
                return r;
        return finish_tree(ctx, m, mo, tree, dst, pre, err);
}

/* A bind of a host tree where mounting a new instance is refused: sysfs
 * in a user namespace without its own network namespace, mqueue without
 * its own IPC namespace.  The attributes go to every mount of it. */
static int host_tree_fallback(const char *host, struct mount_options *mo, struct error *err)
{
        int tree;

        error_clear(err);
        tree = open_tree(AT_FDCWD, host, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
        if (tree < 0)
                return error_set(err, errno, "clone host `%s`", host);
        mo->rattr_set |= mo->attr_set & ~MOUNT_ATTR__ATIME;
        return tree;
}

static bool mount_takes_label(const char *type)
{
        return strcmp(type, "tmpfs") == 0 || strcmp(type, "devpts") == 0 || strcmp(type, "mqueue") == 0;
}

static int do_fs(const struct mount_ctx *ctx, const struct spec_mount *m, const struct mount_options *mo_in,
                 struct error *err)
{
        _cleanup_close_ int tree = -EBADF, dst = -EBADF, check = -EBADF;
        _cleanup_free_ char *where = NULL;
        struct mount_options mo = *mo_in; /* shares data; not cleared here */
        bool proc = strcmp(m->type, "proc") == 0, sysfs = strcmp(m->type, "sysfs") == 0;
        struct statfs sfs;
        int r;

        /* linux.mountLabel labels the filesystems made for the container
         * (checked by the runtime to be on an SELinux host) */
        tree = fs_new_tree_labeled(m->type, m->source, mo.sb_flags, mo.data,
                                   mount_takes_label(m->type) ? ctx->mount_label : NULL, mo.attr_set, err);
        if (tree >= 0) {
                /* a new mount starts with none of them: fsmount set these */
                mo.attr_set &= ~FSMOUNT_ATTRS;
                mo.attr_clr &= ~FSMOUNT_ATTRS;
        } else if (tree == -EPERM || tree == -EBUSY) {
                if (sysfs)
                        tree = host_tree_fallback("/sys", &mo, err);
                else if (strcmp(m->type, "mqueue") == 0)
                        tree = host_tree_fallback("/dev/mqueue", &mo, err);
        }
        if (tree < 0)
                return tree;
        dst = resolve_dest(ctx, m->destination, true, &where, err);
        if (dst < 0)
                return dst;
        if (proc || sysfs) {
                r = check_plain_dest(m->destination, where, err);
                if (r < 0)
                        return r;
        }
        r = check_proc_dest(where, m->type, false, -1, err);
        if (r < 0)
                return r;
        r = finish_tree(ctx, m, &mo, tree, dst, false, err);
        if (r < 0 || !proc)
                return r;
        /* what the container will see at that path must be procfs now */
        check = chase_open(ctx->rootfd, where, O_PATH | O_DIRECTORY, 0);
        if (check < 0)
                return error_set(err, check, "reopen");
        if (fstatfs(check, &sfs) < 0)
                return error_set(err, errno, "statfs");
        if (sfs.f_type != PROC_SUPER_MAGIC)
                return error_setx(err, EXDEV, "`%s` is not procfs after mounting it", where);
        return 0;
}

static int do_remount(const struct mount_ctx *ctx, const struct spec_mount *m, const struct mount_options *mo,
                      struct error *err)
{
        _cleanup_close_ int fd = -EBADF;
        int r;

        fd = chase_open(ctx->rootfd, m->destination, O_PATH, 0);
        if (fd < 0)
                return error_set(err, fd, "resolve destination");
        r = setattr(fd, false, mo->attr_set, mo->attr_clr, 0, -1);
        if (r >= 0)
                r = setattr(fd, true, mo->rattr_set, mo->rattr_clr, 0, -1);
        if (r >= 0)
                r = setattr(fd, mo->propagation & MS_REC, 0, 0, mo->propagation & ~MS_REC, -1);
        if (r < 0)
                return error_set(err, r, "remount");
        return 0;
}

static int mount_cgroup(const struct mount_ctx *ctx, const struct spec_mount *m, const struct mount_options *mo,
                        struct error *err);

int mount_apply(const struct mount_ctx *ctx, const struct spec_mount *m, size_t idx, struct error *err)
{
        _cleanup_(mount_options_clear) struct mount_options mo = {};
        int r;

        if (!m->destination || !*m->destination)
                return error_setx(err, EINVAL, "mounts[%zu].destination: missing", idx);
        r = mount_options_parse(m->options, &mo, err);
        if (r < 0)
                return error_prefix(err, "mounts[%zu].options", idx);
        if (mo.flags & MOUNT_OPT_REMOUNT)
                r = do_remount(ctx, m, &mo, err);
        else if (mount_is_bind(m) || (ctx->premounted && idx < ctx->n_premounted && ctx->premounted[idx] >= 0))
                r = do_bind(ctx, m, idx, &mo, err);
        else if (!m->type || !*m->type)
                return error_setx(err, EINVAL, "mounts[%zu].type: missing for a mount that is not a bind", idx);
        else if (strcmp(m->type, "cgroup") == 0)
                r = mount_cgroup(ctx, m, &mo, err);
        else
                r = do_fs(ctx, m, &mo, err);
        if (r < 0)
                return error_prefix(err, "mounts[%zu] (%s)", idx, m->destination);
        return 0;
}

/* cgroup mounts */

/* Undo the octal escapes of /proc/self/mountinfo ("\040" is a space). */
static void unescape_octal(char *s)
{
        char *w = s;

        for (char *r = s; *r; r++) {
                if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] >= '0' && r[2] <= '7' && r[3] >= '0' &&
                    r[3] <= '7') {
                        *w++ = (char) ((r[1] - '0') * 64 + (r[2] - '0') * 8 + (r[3] - '0'));
                        r += 3;
                } else
                        *w++ = *r;
        }
        *w = 0;
}

struct mountinfo_line {
        char *id, *root, *mountpoint, *fstype, *superopts;
        bool shared;
};

/* Split one mountinfo line in place; -EINVAL when malformed. */
static int mountinfo_parse(char *line, struct mountinfo_line *ret)
{
        char *f[64];
        size_t n = 0, sep;

        for (char *p = line; *p && n < ELEMENTSOF(f);) {
                while (*p == ' ')
                        *p++ = 0;
                if (!*p)
                        break;
                f[n++] = p;
                p += strcspn(p, " ");
        }
        for (sep = 6; sep < n && strcmp(f[sep], "-") != 0; sep++)
                ;
        if (n < 6 || sep + 3 >= n)
                return -EINVAL;
        ret->id = f[0];
        ret->shared = false;
        for (size_t i = 6; i < sep; i++)
                if (strncmp(f[i], "shared:", 7) == 0)
                        ret->shared = true;
        ret->root = f[3];
        ret->mountpoint = f[4];
        ret->fstype = f[sep + 1];
        ret->superopts = f[sep + 3];
        unescape_octal(ret->root);
        unescape_octal(ret->mountpoint);
        return 0;
}

int mount_info_lookup(uint64_t mnt_id, char **ret_mountpoint, bool *ret_shared)
{
        _cleanup_free_ char *text = NULL;
        char id[32];
        int r;

        r = read_full_file_at(AT_FDCWD, "/proc/self/mountinfo", 64 << 20, &text, NULL);
        if (r < 0)
                return r;
        (void) snprintf(id, sizeof(id), "%" PRIu64, mnt_id);
        for (char *l = text, *nl; l && *l; l = nl) {
                struct mountinfo_line mi;

                nl = strchr(l, '\n');
                if (nl)
                        *nl++ = 0;
                if (mountinfo_parse(l, &mi) < 0 || strcmp(mi.id, id) != 0)
                        continue;
                *ret_mountpoint = xstrdup(mi.mountpoint);
                *ret_shared = mi.shared;
                return 0;
        }
        return -ENOENT;
}

static bool list_has(const char *list, const char *item, size_t len)
{
        for (const char *p = list; p && *p;) {
                size_t l = strcspn(p, ",");

                if (l == len && strncmp(p, item, len) == 0)
                        return true;
                p += l;
                if (*p == ',')
                        p++;
        }
        return false;
}

/* Our cgroup in the hierarchy of a mount with SUPEROPTS, from the text of
 * /proc/self/cgroup: the "0::" line for cgroup2, else the line sharing a
 * controller (or name=) with the mount.  NULL when there is none. */
static char *own_cgroup(const char *cgroups, bool v2, const char *superopts)
{
        for (const char *l = cgroups; l && *l;) {
                const char *nl = strchrnul(l, '\n'), *c1 = memchr(l, ':', (size_t) (nl - l));
                const char *c2 = c1 ? memchr(c1 + 1, ':', (size_t) (nl - c1 - 1)) : NULL;

                if (c2) {
                        bool match = v2 ? c2 == c1 + 1 : false;

                        for (const char *t = c1 + 1; !v2 && t < c2;) {
                                size_t len = strcspn(t, ",:");

                                if (len && list_has(superopts, t, len))
                                        match = true;
                                t += len + (t[len] == ',');
                        }
                        if (match)
                                return xstrndup(c2 + 1, (size_t) (nl - c2 - 1));
                }
                l = *nl ? nl + 1 : nl;
        }
        return NULL;
}

/* The options to mount the same hierarchy again inside a cgroup
 * namespace: its controllers and flags, without rw/ro and release_agent
 * (refused outside the initial user namespace). */
static char *cgroup_fs_data(const char *superopts)
{
        _cleanup_free_ char *copy = xstrdup(superopts);
        char *data = NULL, *next;

        for (char *o = copy; o; o = next) {
                next = strchr(o, ',');
                if (next)
                        *next++ = 0;
                if (!*o || strcmp(o, "rw") == 0 || strcmp(o, "ro") == 0 || strncmp(o, "release_agent=", 14) == 0)
                        continue;
                data_append(&data, o);
        }
        return data;
}

/* One hierarchy under the cgroup tmpfs (dirfd TMPFS): a new instance in
 * a cgroup namespace, else a bind of our own cgroup's directory. */
static int cgroup_v1_one(const struct mount_ctx *ctx, int tmpfs, const struct mountinfo_line *mi,
                         const char *cgroups, const struct mount_options *mo, struct error *err)
{
        const char *name = strrchr(mi->mountpoint, '/') + 1;
        bool v2 = strcmp(mi->fstype, "cgroup2") == 0;
        _cleanup_free_ char *own = own_cgroup(cgroups, v2, mi->superopts), *src = NULL, *data = NULL;
        _cleanup_close_ int tree = -EBADF, sub = -EBADF;
        const char *rel;
        int r;

        if (!own || !*name)
                return 0; /* not a member of that hierarchy */
        if (mkdirat(tmpfs, name, 0755) < 0 && errno != EEXIST)
                return error_set(err, errno, "mkdir `%s`", name);
        sub = openat(tmpfs, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (sub < 0)
                return error_set(err, errno, "open `%s`", name);
        if (ctx->cgroupns && ctx->cgroup_path && strcmp(mi->root, "/") == 0) {
                /* our cgroup namespace's root is our cgroup: a bind of it
                 * shows what a new instance would, and costs less */
                src = xasprintf("%s/%s", mi->mountpoint, ctx->cgroup_path);
                tree = open_tree(AT_FDCWD, src, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
                if (tree < 0)
                        return error_set(err, errno, "clone `%s`", src);
        } else if (ctx->cgroupns) {
                data = cgroup_fs_data(mi->superopts);
                tree = fs_new_tree(mi->fstype, "cgroup", 0, data, mo->attr_set, err);
                if (tree < 0)
                        return tree;
        } else {
                rel = own;
                if (strcmp(mi->root, "/") != 0)
                        rel = path_is_under(own, mi->root) ? own + strlen(mi->root) : "";
                src = xasprintf("%s%s", mi->mountpoint, rel);
                tree = open_tree(AT_FDCWD, src, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
                if (tree < 0)
                        return error_set(err, errno, "clone `%s`", src);
        }
        /* the attributes go to all of them at once (mount_cgroup_v1):
         * nothing runs in the container yet */
        r = mount_move(tree, sub);
        if (r < 0)
                return error_set(err, r, "mount cgroup `%s`", name);
        /* "cpu,cpuacct" is also reachable as "cpu" and "cpuacct" */
        for (const char *p = strchr(name, ',') ? name : NULL; p && *p;) {
                size_t l = strcspn(p, ",");
                _cleanup_free_ char *link = xstrndup(p, l);

                if (symlinkat(name, tmpfs, link) < 0 && errno != EEXIST)
                        return error_set(err, errno, "symlink `%s`", link);
                p += l + (p[l] == ',');
        }
        return 0;
}

/* cgroup v1 or hybrid host: a tmpfs holding one mount per hierarchy
 * found directly under the host's /sys/fs/cgroup, read-only at the end
 * when asked. */
static int mount_cgroup_v1(const struct mount_ctx *ctx, const struct spec_mount *m, const struct mount_options *mo,
                           struct error *err)
{
        _cleanup_free_ char *cgroups = NULL, *mountinfo = NULL, *where = NULL;
        _cleanup_close_ int tree = -EBADF, dst = -EBADF;
        int r;

        if (ctx->cgroupns && ctx->host_mountinfo && ctx->host_proc_cgroup) {
                /* membership is all a cgroup namespace needs of them */
                cgroups = xstrdup(ctx->host_proc_cgroup);
                mountinfo = xstrdup(ctx->host_mountinfo);
                r = 0;
        } else {
                r = read_full_file_at(AT_FDCWD, "/proc/self/cgroup", 1 << 20, &cgroups, NULL);
                if (r >= 0)
                        r = read_full_file_at(AT_FDCWD, "/proc/self/mountinfo", 64 << 20, &mountinfo, NULL);
        }
        if (r < 0)
                return error_set(err, r, "read /proc/self/cgroup and mountinfo");
        tree = fs_new_tree("tmpfs", "tmpfs", 0, "mode=755", mo->attr_set & ~MOUNT_ATTR_RDONLY, err);
        if (tree < 0)
                return tree;
        r = setattr(tree, false, mo->attr_set & ~(MOUNT_ATTR_RDONLY | FSMOUNT_ATTRS), mo->attr_clr & ~FSMOUNT_ATTRS, 0,
                    -1);
        if (r < 0)
                return error_set(err, r, "set mount attributes");
        dst = resolve_dest(ctx, m->destination, true, &where, err);
        if (dst < 0)
                return dst;
        r = mount_move(tree, dst);
        if (r < 0)
                return error_set(err, r, "attach tmpfs");
        for (char *l = mountinfo, *nl; l && *l; l = nl) {
                struct mountinfo_line mi;

                nl = strchr(l, '\n');
                if (nl)
                        *nl++ = 0;
                if (mountinfo_parse(l, &mi) < 0 ||
                    (strcmp(mi.fstype, "cgroup") != 0 && strcmp(mi.fstype, "cgroup2") != 0) ||
                    strncmp(mi.mountpoint, "/sys/fs/cgroup/", 15) != 0 || strchr(mi.mountpoint + 15, '/'))
                        continue;
                r = cgroup_v1_one(ctx, tree, &mi, cgroups, mo, err);
                if (r < 0)
                        return r;
        }
        /* every hierarchy's mount, and the tmpfs made read-only last */
        r = setattr(tree, true, mo->attr_set, mo->attr_clr, 0, -1);
        if (r >= 0)
                r = setattr(tree, mo->propagation & MS_REC, 0, 0, mo->propagation & ~MS_REC, -1);
        if (r < 0)
                return error_set(err, r, "set mount attributes");
        return 0;
}

/* type "cgroup": with a cgroup namespace a new cgroup2 instance (its
 * root is the container's cgroup), else a bind of the host tree. */
static int mount_cgroup(const struct mount_ctx *ctx, const struct spec_mount *m, const struct mount_options *mo,
                        struct error *err)
{
        _cleanup_close_ int tree = -EBADF, dst = -EBADF;
        _cleanup_free_ char *where = NULL;
        struct mount_options rec = *mo;
        struct statfs sfs;

        if (statfs("/sys/fs/cgroup", &sfs) < 0)
                return error_set(err, errno, "statfs /sys/fs/cgroup");
        if (sfs.f_type != CGROUP2_SUPER_MAGIC)
                return mount_cgroup_v1(ctx, m, mo, err);
        if (ctx->cgroupns) {
                tree = fs_new_tree("cgroup2", "cgroup", mo->sb_flags, mo->data, 0, err);
                if (tree == -EPERM || tree == -EBUSY)
                        tree = host_tree_fallback("/sys/fs/cgroup", &rec, err);
        } else
                tree = host_tree_fallback("/sys/fs/cgroup", &rec, err);
        if (tree < 0)
                return tree;
        dst = resolve_dest(ctx, m->destination, true, &where, err);
        if (dst < 0)
                return dst;
        return finish_tree(ctx, m, &rec, tree, dst, false, err);
}

/* tmpcopyup: copy a tree, preserving what matters to programs. */

static int copy_owner_mode(int dirfd, const char *name, const struct stat *st, struct error *err)
{
        _cleanup_close_ int fd = openat(dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        char proc[64];

        if (fd < 0 || fchownat(fd, "", st->st_uid, st->st_gid, AT_EMPTY_PATH) < 0)
                return error_set(err, errno, "chown `%s`", name);
        if (!S_ISLNK(st->st_mode)) {
                (void) snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
                if (chmod(proc, st->st_mode & 07777) < 0)
                        return error_set(err, errno, "chmod `%s`", name);
        }
        (void) utimensat(dirfd, name, (const struct timespec[2]){ st->st_atim, st->st_mtim }, AT_SYMLINK_NOFOLLOW);
        return 0;
}

static int copy_file(int srcdir, int dstdir, const char *name, const struct stat *st, struct error *err)
{
        _cleanup_close_ int in = -EBADF, out = -EBADF;
        off_t left = st->st_size;

        in = openat(srcdir, name, O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC);
        if (in < 0)
                return error_set(err, errno, "open `%s`", name);
        out = openat(dstdir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (out < 0)
                return error_set(err, errno, "create `%s`", name);
        while (left > 0) {
                ssize_t n = sendfile(out, in, NULL, left > (1 << 30) ? (1 << 30) : (size_t) left);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return error_set(err, errno, "copy `%s`", name);
                if (n == 0)
                        break; /* shrank meanwhile */
                left -= n;
        }
        return 0;
}

static int copy_dir(int srcfd, int dstfd, unsigned depth, struct error *err);

static int copy_entry(int srcdir, int dstdir, const char *name, unsigned depth, struct error *err)
{
        struct stat st;
        char target[PATH_MAX];
        ssize_t n;
        int r = 0;

        if (fstatat(srcdir, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return error_set(err, errno, "stat `%s`", name);
        switch (st.st_mode & S_IFMT) {
        case S_IFDIR: {
                _cleanup_close_ int s = -EBADF, d = -EBADF;

                if (mkdirat(dstdir, name, 0700) < 0)
                        return error_set(err, errno, "mkdir `%s`", name);
                s = openat(srcdir, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                d = openat(dstdir, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (s < 0 || d < 0)
                        return error_set(err, errno, "open `%s`", name);
                r = copy_dir(s, d, depth + 1, err);
                if (r < 0)
                        return error_prefix(err, "%s", name);
                break;
        }
        case S_IFREG:
                r = copy_file(srcdir, dstdir, name, &st, err);
                break;
        case S_IFLNK:
                n = readlinkat(srcdir, name, target, sizeof(target) - 1);
                if (n < 0)
                        return error_set(err, errno, "readlink `%s`", name);
                target[n] = 0;
                if (symlinkat(target, dstdir, name) < 0)
                        return error_set(err, errno, "symlink `%s`", name);
                break;
        default:
                if (mknodat(dstdir, name, st.st_mode, st.st_rdev) < 0)
                        return error_set(err, errno, "mknod `%s`", name);
                break;
        }
        if (r < 0)
                return r;
        return copy_owner_mode(dstdir, name, &st, err);
}

static int copy_dir(int srcfd, int dstfd, unsigned depth, struct error *err)
{
        DIR *d;
        struct dirent *de;
        int fd, r = 0;

        if (depth > 256)
                return error_setx(err, ELOOP, "tree too deep");
        fd = openat(srcfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return error_set(err, errno, "open directory");
        d = fdopendir(fd);
        if (!d) {
                close(fd);
                return error_set(err, errno, "open directory");
        }
        while (r >= 0 && (errno = 0, de = readdir(d))) {
                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                        continue;
                r = copy_entry(dirfd(d), dstfd, de->d_name, depth, err);
        }
        if (r >= 0 && errno)
                r = error_set(err, errno, "read directory");
        closedir(d);
        return r;
}

int mount_copy_tree(int srcdirfd, int dstdirfd, struct error *err)
{
        return copy_dir(srcdirfd, dstdirfd, 0, err);
}

int mount_prepare_idmapped(const struct spec_mount *m, const char *bundle, int userns_fd, struct error *err)
{
        _cleanup_(mount_options_clear) struct mount_options mo = {};
        struct mount_ctx ctx = { .rootfd = -EBADF, .bundle = bundle };
        _cleanup_close_ int src = -EBADF, tree = -EBADF, userns = -EBADF;
        int r;

        r = mount_options_parse(m->options, &mo, err);
        if (r < 0)
                return r;
        if (!(mo.flags & MOUNT_OPT_IDMAP) || !mount_is_bind(m))
                return error_setx(err, EINVAL, "not an idmapped bind mount");
        src = open_source(&ctx, m->source, err);
        if (src < 0)
                return src;
        tree = open_tree(src, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH |
                                          ((mo.flags & MOUNT_OPT_REC) ? AT_RECURSIVE : 0));
        if (tree < 0)
                return error_set(err, errno, "clone `%s`", m->source);
        if (m->n_uid_mappings || m->n_gid_mappings) {
                userns = mount_make_userns(m->uid_mappings, m->n_uid_mappings, m->gid_mappings,
                                           m->n_gid_mappings);
                if (userns < 0)
                        return error_set(err, userns, "user namespace for idmap");
        } else if (userns_fd < 0)
                return error_setx(err, EINVAL, "idmap without uidMappings/gidMappings needs a user namespace");
        r = setattr(tree, mo.flags & MOUNT_OPT_RIDMAP, MOUNT_ATTR_IDMAP, 0, 0, userns >= 0 ? userns : userns_fd);
        if (r < 0)
                return error_set(err, r, "idmap");
        return TAKE_FD(tree);
}
