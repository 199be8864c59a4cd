/* SPDX-License-Identifier: GPL-2.0-or-later */
/* `cp`: files between a container and the host (ops.h).
 *
 * Two kinds of trees meet here: the host's, whose paths the user gave
 * (looked up as any program does), and the container's, which a process
 * in it may be rewriting while we copy.  Inside the container nothing is
 * looked up by a path string relative to the host: the root is an fd, a
 * path given by the user or read from a tar stream is resolved beneath it
 * with chase_open() (RESOLVE_IN_ROOT), and everything below is reached one
 * name at a time relative to an fd of its parent with O_NOFOLLOW (AT_
 * SYMLINK_NOFOLLOW, O_EXCL on creation).  Regular files are opened O_PATH,
 * checked, and only then reopened through /proc/self/fd for I/O, so a
 * fifo or device node swapped in is never opened. */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <search.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "basic/chase.h"
#include "basic/fileio.h"
#include "engine/engine-internal.h"
#include "engine/ops.h"
#include "image/snapshot.h"

/* Directory nesting we follow: two fds per level must fit in RLIMIT_NOFILE's usual 1024. */
#define CP_MAX_DEPTH 256
#define CP_MAX_LINKS 40
#define CP_BUF_SIZE (128 * 1024)

/* ---- the container's root ------------------------------------------------ */

struct croot {
        int fd;        /* O_PATH directory fd of the container's "/" */
        int lock;      /* C's lock, held while we use its unmounted rootfs */
        char *mounted; /* DIR/rootfs when we mounted it: unmounted at the end */
};

static void croot_close(struct croot *r)
{
        closep(&r->fd);
        r->fd = -EBADF;
        if (r->mounted) {
                /* nothing of ours is open in it now: a plain detach suffices */
                (void) umount2(r->mounted, MNT_DETACH | UMOUNT_NOFOLLOW);
                free(r->mounted);
                r->mounted = NULL;
        }
        closep(&r->lock);
        r->lock = -EBADF;
}

/* Is PID's cgroup C's (container_cgroup(), on any hierarchy)? */
static bool pid_in_container_cgroup(pid_t pid, const struct container *c)
{
        _cleanup_free_ char *path = xasprintf("/proc/%d/cgroup", (int) pid), *data = NULL;
        _cleanup_free_ char *want = container_cgroup(c);
        size_t wl = strlen(want);

        if (read_full_file_at(AT_FDCWD, path, 1 << 20, &data, NULL) < 0)
                return false;
        for (char *p = data; (p = strstr(p, want)); p += wl)
                if (p[wl] == '\n' || p[wl] == '/' || p[wl] == '\0')
                        return true;
        return false;
}

/* /proc/PID/root of C's running process PID, checked to be C's.
 *
 * A pid is only a name: the container may exit and its pid be reused
 * by a host process between reading status.json and opening
 * /proc/PID/root, which would then be the host's "/".  So: pin the
 * process with a pidfd, check that it is in C's cgroup, open its root,
 * and check that the pinned process is still alive (then the pid still
 * named it when we opened its root).  -ESRCH when it is gone. */
static int proc_root_open(const struct container *c, pid_t pid, struct error *err)
{
        _cleanup_close_ int pidfd = -EBADF, fd = -EBADF;
        _cleanup_free_ char *path = xasprintf("/proc/%d/root", (int) pid);
        struct stat st, host;

        pidfd = (int) syscall(SYS_pidfd_open, pid, 0);
        if (pidfd < 0)
                return errno == ESRCH ? -ESRCH : error_set(err, errno, "pidfd_open %d", (int) pid);
        if (!pid_in_container_cgroup(pid, c))
                return -ESRCH;
        fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return errno == ENOENT || errno == ESRCH ? -ESRCH : error_set(err, errno, "open `%s`", path);
        if (syscall(SYS_pidfd_send_signal, pidfd, 0, NULL, 0) < 0)
                return -ESRCH;
        if (fstat(fd, &st) < 0 || stat("/", &host) < 0)
                return error_set(err, errno, "stat the root of container %s", c->name);
        if (st.st_dev == host.st_dev && st.st_ino == host.st_ino)
                return error_setx(err, EPERM, "container %s: its root is the host's", c->name);
        return TAKE_FD(fd);
}

/* C's root file system: a running container's /proc/PID/root (with its
 * volumes), else its overlay at DIR/rootfs, mounted when it is not (and
 * unmounted by croot_close()) with C's lock held until then. */
static int croot_open(struct engine *e, struct container *c, struct croot *ret, struct error *err)
{
        _cleanup_free_ char *target = xasprintf("%s/rootfs", c->dir);
        struct croot r = { .fd = -EBADF, .lock = -EBADF };
        int probe;

        r.lock = container_lock(c, err);
        if (r.lock < 0)
                return r.lock;
        container_status_load(c);
        if (container_running(c) && container_pid(c) > 0) {
                r.fd = proc_root_open(c, container_pid(c), err);
                if (r.fd >= 0) {
                        /* the fd pins its mounts: no need to block a stop while we copy */
                        closep(&r.lock);
                        r.lock = -EBADF;
                        *ret = r;
                        return 0;
                }
                if (r.fd != -ESRCH) {
                        croot_close(&r);
                        return r.fd;
                }
                r.fd = -EBADF; /* exited meanwhile: its rootfs, as for a stopped one */
        }
        probe = snapshot_probe(e->store, target, NULL);
        if (probe == SNAPSHOT_OTHER) {
                croot_close(&r);
                return error_setx(err, EBUSY, "`%s`: something else is mounted there", target);
        }
        if (probe != SNAPSHOT_OURS) {
                int k = container_mount_rootfs(e, c, err);
                if (k < 0) {
                        croot_close(&r);
                        return k;
                }
                r.mounted = xstrdup(target);
        }
        r.fd = open(target, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (r.fd < 0) {
                int k = error_set(err, errno, "open `%s`", target);
                croot_close(&r);
                return k;
        }
        *ret = r;
        return 0;
}

/* ---- file systems we keep out of ------------------------------------------ */

#ifndef MQUEUE_MAGIC
#define MQUEUE_MAGIC 0x19800202
#endif
#define CONFIGFS_MAGIC_ 0x62656570
#define FUSECTL_MAGIC_ 0x65735543

/* A kernel interface rather than files (proc, sysfs, cgroupfs...): a
 * container's are views of the host's kernel, which berth, as root on
 * the host, must neither read nor write on its behalf.  Docker's cp never
 * sees them either: its view of a container has no such mounts. */
static bool kernel_fs(int fd)
{
        static const unsigned long magic[] = {
                PROC_SUPER_MAGIC, SYSFS_MAGIC, CGROUP_SUPER_MAGIC, CGROUP2_SUPER_MAGIC, DEBUGFS_MAGIC,
                TRACEFS_MAGIC,    SECURITYFS_MAGIC, SELINUX_MAGIC, SMACK_MAGIC, BPF_FS_MAGIC,
                DEVPTS_SUPER_MAGIC, MQUEUE_MAGIC, PSTOREFS_MAGIC, EFIVARFS_MAGIC, BINFMTFS_MAGIC,
                NSFS_MAGIC,       CONFIGFS_MAGIC_, FUSECTL_MAGIC_,
        };
        struct statfs sf;

        if (fstatfs(fd, &sf) < 0)
                return true; /* unknown: keep out */
        for (size_t i = 0; i < ELEMENTSOF(magic); i++)
                if ((unsigned long) sf.f_type == magic[i])
                        return true;
        return false;
}

/* ---- the copy ---------------------------------------------------------- */

struct cp_ctx {
        unsigned flags;
        bool src_in_container, dst_in_container;
        const char *name;     /* the container's, for messages */
        uid_t uid;            /* owner of what we create without CP_ARCHIVE */
        gid_t gid;
        uint64_t bytes;
        struct archive *tar;  /* writing a tar stream instead of files */
        void *links;          /* tsearch(): hard links seen, for the tar stream */
        char *buf;
        struct error *err;
};

struct link_seen {
        dev_t dev;
        ino_t ino;
        char *path;
};

static int link_cmp(const void *a, const void *b)
{
        const struct link_seen *x = a, *y = b;

        if (x->dev != y->dev)
                return x->dev < y->dev ? -1 : 1;
        return x->ino < y->ino ? -1 : x->ino > y->ino;
}

static void link_free(void *p)
{
        struct link_seen *l = p;

        free(l->path);
        free(l);
}

static char *path_join(const char *a, const char *b)
{
        if (!a || !*a)
                return xstrdup(b);
        if (!b || !*b)
                return xstrdup(a);
        return xasprintf("%s%s%s", a, a[strlen(a) - 1] == '/' ? "" : "/", b);
}

/* The owner and permission bits for a copy of an entry with ST. */
static void target_meta(const struct cp_ctx *x, const struct stat *st, uid_t *ret_uid, gid_t *ret_gid,
                        mode_t *ret_perm)
{
        mode_t perm = st->st_mode & 07777;

        if (x->flags & CP_ARCHIVE) {
                *ret_uid = st->st_uid;
                *ret_gid = st->st_gid;
        } else {
                *ret_uid = x->uid;
                *ret_gid = x->gid;
                /* as tar --no-same-owner: a set-id bit only for the owner it was meant for */
                if (st->st_uid != x->uid)
                        perm &= ~(mode_t) S_ISUID;
                if (st->st_gid != x->gid)
                        perm &= ~(mode_t) S_ISGID;
        }
        *ret_perm = perm;
}

static void times_of(const struct stat *st, struct timespec ts[2])
{
        ts[0] = st->st_mtim;
        ts[1] = st->st_mtim;
}

/* Owner, mode and times of FD, a real (not O_PATH) fd of what we made. */
static int finish_fd(struct cp_ctx *x, int fd, const struct stat *st, const char *rel)
{
        struct timespec ts[2];
        uid_t uid;
        gid_t gid;
        mode_t perm;

        target_meta(x, st, &uid, &gid, &perm);
        times_of(st, ts);
        /* chown clears set-id bits: the mode after it */
        if (fchown(fd, uid, gid) < 0)
                return error_set(x->err, errno, "chown `%s`", rel);
        if (fchmod(fd, perm) < 0)
                return error_set(x->err, errno, "chmod `%s`", rel);
        if (futimens(fd, ts) < 0)
                return error_set(x->err, errno, "set the times of `%s`", rel);
        return 0;
}

/* Make room for a non-directory NAME in PFD: remove what is there unless
 * it is a directory.  1: NAME is a regular file that cannot be removed
 * (EBUSY: a bind mount, such as a container's /etc/hosts): *RET_FD is
 * it, opened for writing, truncated. */
static int clear_slot(struct cp_ctx *x, int pfd, const char *name, const char *rel, bool regular, int *ret_fd)
{
        struct stat old;

        if (fstatat(pfd, name, &old, AT_SYMLINK_NOFOLLOW) < 0)
                return errno == ENOENT ? 0 : error_set(x->err, errno, "stat `%s`", rel);
        if (S_ISDIR(old.st_mode))
                return error_setx(x->err, EISDIR, "cannot overwrite directory `%s` with non-directory", rel);
        if (unlinkat(pfd, name, 0) == 0)
                return 0;
        if (errno == EBUSY && regular && S_ISREG(old.st_mode)) {
                _cleanup_close_ int p = openat(pfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
                _cleanup_free_ char *proc = NULL;
                struct stat now;
                int fd;

                if (p < 0 || fstat(p, &now) < 0)
                        return error_set(x->err, errno, "open `%s`", rel);
                if (!S_ISREG(now.st_mode))
                        return error_setx(x->err, EBUSY, "replace `%s`: not a regular file", rel);
                if (x->dst_in_container && kernel_fs(p))
                        return error_setx(x->err, EPERM, "`%s` is on a kernel file system: not written", rel);
                proc = xasprintf("/proc/self/fd/%d", p);
                fd = open(proc, O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOCTTY);
                if (fd < 0)
                        return error_set(x->err, errno, "open `%s`", rel);
                *ret_fd = fd;
                return 1;
        }
        return error_set(x->err, errno, "remove `%s`", rel);
}

/* A directory NAME in PFD, new or the one there: its fd (O_RDONLY). */
static int put_dir(struct cp_ctx *x, int pfd, const char *name, const char *rel, bool *ret_existed)
{
        struct stat old;
        int fd;

        *ret_existed = false;
        if (fstatat(pfd, name, &old, AT_SYMLINK_NOFOLLOW) == 0) {
                if (S_ISDIR(old.st_mode))
                        *ret_existed = true;
                else if (unlinkat(pfd, name, 0) < 0)
                        return error_set(x->err, errno, "remove `%s`", rel);
        } else if (errno != ENOENT)
                return error_set(x->err, errno, "stat `%s`", rel);
        if (!*ret_existed && mkdirat(pfd, name, 0700) < 0)
                return error_set(x->err, errno, "create directory `%s`", rel);
        fd = openat(pfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return error_set(x->err, errno, "open directory `%s`", rel);
        if (x->dst_in_container && kernel_fs(fd)) {
                close(fd);
                return error_setx(x->err, EPERM, "`%s` is on a kernel file system: not written", rel);
        }
        return fd;
}

/* A new regular file NAME in PFD, open for writing. */
static int put_file(struct cp_ctx *x, int pfd, const char *name, const char *rel)
{
        int fd = -EBADF, r;

        r = clear_slot(x, pfd, name, rel, true, &fd);
        if (r < 0)
                return r;
        if (r == 1)
                return fd;
        fd = openat(pfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0600);
        if (fd < 0)
                return error_set(x->err, errno, "create `%s`", rel);
        return fd;
}

static int put_symlink(struct cp_ctx *x, int pfd, const char *name, const char *rel, const char *target,
                       const struct stat *st)
{
        struct timespec ts[2];
        uid_t uid;
        gid_t gid;
        mode_t perm;
        int r;

        r = clear_slot(x, pfd, name, rel, false, NULL);
        if (r < 0)
                return r;
        if (symlinkat(target, pfd, name) < 0)
                return error_set(x->err, errno, "create symlink `%s`", rel);
        target_meta(x, st, &uid, &gid, &perm);
        times_of(st, ts);
        if (fchownat(pfd, name, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
                return error_set(x->err, errno, "chown `%s`", rel);
        (void) utimensat(pfd, name, ts, AT_SYMLINK_NOFOLLOW);
        return 0;
}

/* A fifo or device node.  Its metadata through an O_PATH fd of what we
 * made, never by name: a name may be a symlink by then. */
static int put_node(struct cp_ctx *x, int pfd, const char *name, const char *rel, const struct stat *st)
{
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ char *proc = NULL;
        struct timespec ts[2];
        struct stat now;
        uid_t uid;
        gid_t gid;
        mode_t perm;
        int r;

        r = clear_slot(x, pfd, name, rel, false, NULL);
        if (r < 0)
                return r;
        if (mknodat(pfd, name, (st->st_mode & S_IFMT) | 0600, S_ISFIFO(st->st_mode) ? 0 : st->st_rdev) < 0)
                return error_set(x->err, errno, "create `%s`", rel);
        fd = openat(pfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0 || fstat(fd, &now) < 0)
                return error_set(x->err, errno, "open `%s`", rel);
        if ((now.st_mode & S_IFMT) != (st->st_mode & S_IFMT))
                return error_setx(x->err, EBUSY, "`%s` changed while we made it", rel);
        target_meta(x, st, &uid, &gid, &perm);
        times_of(st, ts);
        proc = xasprintf("/proc/self/fd/%d", fd);
        if (fchownat(fd, "", uid, gid, AT_EMPTY_PATH) < 0)
                return error_set(x->err, errno, "chown `%s`", rel);
        if (chmod(proc, perm) < 0)
                return error_set(x->err, errno, "chmod `%s`", rel);
        (void) utimensat(AT_FDCWD, proc, ts, 0);
        return 0;
}

/* ---- writing a tar stream ------------------------------------------------ */

static int tar_error(struct cp_ctx *x, const char *rel)
{
        const char *msg = archive_error_string(x->tar);

        return error_setx(x->err, archive_errno(x->tar) > 0 ? archive_errno(x->tar) : EIO,
                          "write the tar stream at `%s`: %s", rel, msg ? msg : "failed");
}

static int tar_header(struct cp_ctx *x, const char *rel, const struct stat *st, const char *symlink,
                      const char *hardlink)
{
        struct archive_entry *e = archive_entry_new();
        _cleanup_free_ char *name = S_ISDIR(st->st_mode) ? xasprintf("%s/", rel) : xstrdup(rel);
        int r;

        archive_entry_set_pathname(e, name);
        archive_entry_set_mode(e, st->st_mode);
        archive_entry_set_uid(e, st->st_uid);
        archive_entry_set_gid(e, st->st_gid);
        archive_entry_set_mtime(e, st->st_mtim.tv_sec, st->st_mtim.tv_nsec);
        if (hardlink) {
                archive_entry_set_hardlink(e, hardlink);
                archive_entry_set_size(e, 0);
        } else if (S_ISREG(st->st_mode))
                archive_entry_set_size(e, st->st_size);
        if (symlink)
                archive_entry_set_symlink(e, symlink);
        if (S_ISCHR(st->st_mode) || S_ISBLK(st->st_mode))
                archive_entry_set_rdev(e, st->st_rdev);
        r = archive_write_header(x->tar, e);
        archive_entry_free(e);
        return r < ARCHIVE_WARN ? tar_error(x, rel) : 0;
}

/* A regular file's data into the tar entry, exactly its header's size
 * (libarchive pads a file that shrank meanwhile; one that grew is cut). */
static int tar_data(struct cp_ctx *x, int fd, const char *rel, off_t size)
{
        uint64_t left = (uint64_t) size;

        while (left > 0) {
                ssize_t n = read(fd, x->buf, left < CP_BUF_SIZE ? left : CP_BUF_SIZE);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return error_set(x->err, errno, "read `%s`", rel);
                if (n == 0)
                        break;
                if (archive_write_data(x->tar, x->buf, (size_t) n) < 0)
                        return tar_error(x, rel);
                left -= (uint64_t) n;
                x->bytes += (uint64_t) n;
        }
        return 0;
}

/* ---- walking a source tree ---------------------------------------------- */

static int walk(struct cp_ctx *x, int srcfd, const struct stat *st, const char *name, const char *rel, int pfd,
                unsigned depth);

static int copy_data(struct cp_ctx *x, int in, int out, const char *rel)
{
        for (;;) {
                ssize_t n = read(in, x->buf, CP_BUF_SIZE);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return error_set(x->err, errno, "read `%s`", rel);
                if (n == 0)
                        return 0;
                if (write_all(out, x->buf, (size_t) n) < 0)
                        return error_set(x->err, errno, "write `%s`", rel);
                x->bytes += (uint64_t) n;
        }
}

/* SRCFD: an O_PATH fd of a regular file; reopened for reading only
 * once we know it is one (it cannot change: the fd pins the inode). */
static int copy_reg(struct cp_ctx *x, int srcfd, const struct stat *st, const char *name, const char *rel, int pfd)
{
        _cleanup_free_ char *proc = xasprintf("/proc/self/fd/%d", srcfd);
        _cleanup_close_ int in = -EBADF, out = -EBADF;
        struct stat now;
        int r;

        if (x->src_in_container && kernel_fs(srcfd))
                return 0; /* a bind-mounted proc or sysfs file: not ours to read */
        in = open(proc, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (in < 0)
                return error_set(x->err, errno, "open `%s`", rel);
        if (fstat(in, &now) < 0 || !S_ISREG(now.st_mode) || now.st_ino != st->st_ino || now.st_dev != st->st_dev)
                return error_setx(x->err, EBUSY, "`%s` changed while we read it", rel);
        if (x->tar) {
                if (st->st_nlink > 1) {
                        struct link_seen key = { .dev = st->st_dev, .ino = st->st_ino }, **found, *l;
                        found = tfind(&key, &x->links, link_cmp);
                        if (found)
                                return tar_header(x, rel, st, NULL, (*found)->path);
                        l = xzalloc(sizeof(*l));
                        *l = (struct link_seen) { .dev = st->st_dev, .ino = st->st_ino, .path = xstrdup(rel) };
                        if (!tsearch(l, &x->links, link_cmp))
                                oom();
                }
                r = tar_header(x, rel, st, NULL, NULL);
                if (r >= 0)
                        r = tar_data(x, in, rel, st->st_size);
                return r;
        }
        out = put_file(x, pfd, name, rel);
        if (out < 0)
                return out;
        r = copy_data(x, in, out, rel);
        if (r >= 0)
                r = finish_fd(x, out, st, rel);
        return r;
}

static int name_cmp(const void *a, const void *b)
{
        return strcmp(*(char *const *) a, *(char *const *) b);
}

/* The names in directory DFD, sorted (a stable order for tar streams). */
static int list_dir(struct cp_ctx *x, int dfd, const char *rel, char ***ret)
{
        _cleanup_strv_free_ char **v = NULL;
        struct dirent *de;
        DIR *d;
        int fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

        if (fd < 0)
                return error_set(x->err, errno, "open directory `%s`", *rel ? rel : ".");
        d = fdopendir(fd);
        if (!d) {
                close(fd);
                return error_set(x->err, errno, "read directory `%s`", *rel ? rel : ".");
        }
        errno = 0;
        while ((de = readdir(d))) {
                if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
                        strv_push(&v, xstrdup(de->d_name));
                errno = 0;
        }
        if (errno) {
                int k = errno;
                closedir(d);
                return error_set(x->err, k, "read directory `%s`", *rel ? rel : ".");
        }
        closedir(d);
        if (v)
                qsort(v, strv_length(v), sizeof(char *), name_cmp);
        *ret = v ? TAKE_PTR(v) : xzalloc(sizeof(char *));
        return 0;
}

/* Every entry of the directory SRCDIR (O_PATH or not) into DSTFD (-1: the tar stream, under REL). */
static int walk_children(struct cp_ctx *x, int srcdir, const char *rel, int dstfd, unsigned depth)
{
        _cleanup_strv_free_ char **names = NULL;
        int r = list_dir(x, srcdir, rel, &names);

        if (r < 0)
                return r;
        for (char **n = names; *n; n++) {
                _cleanup_free_ char *crel = path_join(rel, *n);
                _cleanup_close_ int child = openat(srcdir, *n, O_PATH | O_NOFOLLOW | O_CLOEXEC);
                struct stat st;

                if (child < 0 && errno == ENOENT)
                        continue; /* removed while we copy */
                if (child < 0 || fstat(child, &st) < 0)
                        return error_set(x->err, errno, "open `%s`", crel);
                r = walk(x, child, &st, *n, crel, dstfd, depth);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int copy_dir(struct cp_ctx *x, int srcfd, const struct stat *st, const char *name, const char *rel, int pfd,
                    unsigned depth)
{
        _cleanup_close_ int dfd = -EBADF;
        bool existed = false;
        int r;

        if (depth >= CP_MAX_DEPTH)
                return error_setx(x->err, ELOOP, "`%s`: directories nested too deeply", rel);
        if (x->tar)
                r = tar_header(x, rel, st, NULL, NULL);
        else {
                dfd = put_dir(x, pfd, name, rel, &existed);
                r = dfd < 0 ? dfd : 0;
        }
        if (r < 0)
                return r;
        /* a container's proc, sysfs...: the directory, not what the kernel shows in it */
        if (!(x->src_in_container && kernel_fs(srcfd))) {
                r = walk_children(x, srcfd, rel, dfd, depth + 1);
                if (r < 0)
                        return r;
        }
        return x->tar ? 0 : finish_fd(x, dfd, st, rel);
}

/* Copy the entry SRCFD (O_PATH, not followed), described by ST, as NAME
 * into the directory PFD, or as REL into the tar stream. */
static int walk(struct cp_ctx *x, int srcfd, const struct stat *st, const char *name, const char *rel, int pfd,
                unsigned depth)
{
        switch (st->st_mode & S_IFMT) {
        case S_IFREG:
                return copy_reg(x, srcfd, st, name, rel, pfd);
        case S_IFDIR:
                return copy_dir(x, srcfd, st, name, rel, pfd, depth);
        case S_IFLNK: {
                char target[PATH_MAX];
                ssize_t n = readlinkat(srcfd, "", target, sizeof(target) - 1);
                if (n < 0)
                        return error_set(x->err, errno, "read symlink `%s`", rel);
                target[n] = '\0';
                if (x->tar)
                        return tar_header(x, rel, st, target, NULL);
                return put_symlink(x, pfd, name, rel, target, st);
        }
        case S_IFIFO:
        case S_IFCHR:
        case S_IFBLK:
                if (x->tar)
                        return tar_header(x, rel, st, NULL, NULL);
                return put_node(x, pfd, name, rel, st);
        default:
                return 0; /* sockets: no tar entry holds one, Docker skips them too */
        }
}

/* ---- paths ----------------------------------------------------------------- */

/* Where paths resolve: beneath a container's root fd, or (-1) on the host. */
static int root_open(int rootfd, const char *path, int flags)
{
        int fd;

        if (rootfd >= 0)
                return chase_open(rootfd, path, flags, 0);
        fd = openat(AT_FDCWD, path, flags | O_CLOEXEC);
        return fd < 0 ? -errno : fd;
}

static bool ends_with(const char *s, const char *suffix)
{
        size_t a = strlen(s), b = strlen(suffix);

        return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* PATH's parent (never empty: "/" or ".") and last component ("" for "/"), trailing slashes ignored. */
static void split_path(const char *path, char **ret_parent, char **ret_base)
{
        size_t n = strlen(path);
        const char *slash;

        while (n > 1 && path[n - 1] == '/')
                n--;
        slash = memrchr(path, '/', n);
        if (!slash) {
                *ret_parent = xstrdup(".");
                *ret_base = xstrndup(path, n);
        } else if (slash == path && n == 1) {
                *ret_parent = xstrdup("/");
                *ret_base = xstrdup("");
        } else {
                *ret_parent = slash == path ? xstrdup("/") : xstrndup(path, (size_t) (slash - path));
                *ret_base = xstrndup(slash + 1, (size_t) (n - (size_t) (slash + 1 - path)));
        }
}

static int not_found(struct cp_ctx *x, int rootfd, const char *path, int code)
{
        if (code == ENOTDIR && ends_with(path, "/"))
                return error_setx(x->err, ENOTDIR, "`%s`: not a directory", path);
        if (rootfd >= 0 && (code == ENOENT || code == ENOTDIR))
                return error_setx(x->err, ENOENT, "Could not find the file %s in container %s", path, x->name);
        return error_set(x->err, code, "lstat `%s`", path);
}

struct cp_src {
        int fd;          /* O_PATH */
        struct stat st;
        char *base;      /* its name in the copy; "" for the contents of a directory */
};

static void cp_src_clear(struct cp_src *s)
{
        closep(&s->fd);
        free(s->base);
}

/* The source PATH: not followed when it is a symlink, unless CP_FOLLOW
 * or a trailing "/" or "/." says so. */
static int src_open(struct cp_ctx *x, int rootfd, const char *path, struct cp_src *ret)
{
        bool contents = ends_with(path, "/.") || strcmp(path, ".") == 0;
        bool slash = contents || ends_with(path, "/");
        _cleanup_free_ char *parent = NULL, *base = NULL;
        struct cp_src s = { .fd = -EBADF };

        s.fd = root_open(rootfd, path, O_PATH | ((x->flags & CP_FOLLOW) || slash ? 0 : O_NOFOLLOW));
        if (s.fd < 0)
                return not_found(x, rootfd, path, -s.fd);
        if (fstat(s.fd, &s.st) < 0) {
                int k = error_set(x->err, errno, "stat `%s`", path);
                cp_src_clear(&s);
                return k;
        }
        if (slash && !S_ISDIR(s.st.st_mode)) {
                cp_src_clear(&s);
                return error_setx(x->err, ENOTDIR, "`%s`: not a directory", path);
        }
        if (rootfd >= 0 && kernel_fs(s.fd)) {
                cp_src_clear(&s);
                return error_setx(x->err, EPERM, "`%s` in container %s is on a kernel file system: not copied",
                                  path, x->name);
        }
        split_path(path, &parent, &base);
        if (contents || !*base || strcmp(base, "..") == 0 || strcmp(base, ".") == 0)
                s.base = xstrdup(""); /* "/", "dir/.": what is in it */
        else
                s.base = TAKE_PTR(base);
        *ret = s;
        return 0;
}

struct cp_dest {
        int dirfd;       /* the parent of NAME (O_PATH), or the destination directory itself */
        char *name;      /* NULL: DIRFD is an existing directory to copy into */
        bool exists;     /* NAME exists (a non-directory) */
};

static void cp_dest_clear(struct cp_dest *d)
{
        closep(&d->dirfd);
        free(d->name);
}

/* The destination PATH, symlinks at its end followed (beneath the
 * container's root: a link to "/etc" there is the container's /etc),
 * as Docker does: an existing directory, or a parent and a name. */
static int dest_resolve(struct cp_ctx *x, int rootfd, const char *path, struct cp_dest *ret)
{
        _cleanup_free_ char *cur = xstrdup(path);

        for (unsigned links = 0;; links++) {
                _cleanup_free_ char *parent = NULL, *base = NULL;
                _cleanup_close_ int pfd = -EBADF;
                struct stat st;

                split_path(cur, &parent, &base);
                if (!*base || strcmp(base, ".") == 0 || strcmp(base, "..") == 0) {
                        int fd = root_open(rootfd, cur, O_PATH | O_DIRECTORY);
                        if (fd < 0)
                                return not_found(x, rootfd, path, -fd);
                        *ret = (struct cp_dest) { .dirfd = fd };
                        return 0;
                }
                pfd = root_open(rootfd, parent, O_PATH | O_DIRECTORY);
                if (pfd < 0) /* in a container: Docker names the whole path */
                        return not_found(x, rootfd, rootfd >= 0 ? path : parent, -pfd);
                if (fstatat(pfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                        if (errno != ENOENT)
                                return error_set(x->err, errno, "lstat `%s`", cur);
                        *ret = (struct cp_dest) { .dirfd = TAKE_FD(pfd), .name = TAKE_PTR(base) };
                        return 0;
                }
                if (S_ISLNK(st.st_mode)) {
                        char target[PATH_MAX];
                        ssize_t n;
                        if (links >= CP_MAX_LINKS)
                                return error_set(x->err, ELOOP, "resolve `%s`", path);
                        n = readlinkat(pfd, base, target, sizeof(target) - 1);
                        if (n < 0)
                                return error_set(x->err, errno, "read symlink `%s`", cur);
                        target[n] = '\0';
                        free(cur);
                        cur = target[0] == '/' ? xstrdup(target) : path_join(parent, target);
                        continue;
                }
                if (S_ISDIR(st.st_mode)) {
                        int fd = openat(pfd, base, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        if (fd < 0)
                                return error_set(x->err, errno, "open `%s`", cur);
                        *ret = (struct cp_dest) { .dirfd = fd };
                        return 0;
                }
                *ret = (struct cp_dest) { .dirfd = TAKE_FD(pfd), .name = TAKE_PTR(base), .exists = true };
                return 0;
        }
}

/* Docker's rules: SRC into DEST (DEST_PATH as the user wrote it). */
static int place(struct cp_ctx *x, const struct cp_src *s, const struct cp_dest *d, const char *dest_path)
{
        bool dest_dir = ends_with(dest_path, "/") || ends_with(dest_path, "/.");
        _cleanup_close_ int dfd = -EBADF;

        if (x->dst_in_container && kernel_fs(d->dirfd))
                return error_setx(x->err, EPERM, "`%s` in container %s is on a kernel file system: not written",
                                  dest_path, x->name);
        if (!d->name) {
                /* an existing directory: SRC goes inside it, or its contents for "dir/." */
                dfd = openat(d->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (dfd < 0)
                        return error_set(x->err, errno, "open `%s`", dest_path);
                if (!*s->base)
                        return walk_children(x, s->fd, "", dfd, 1);
                return walk(x, s->fd, &s->st, s->base, s->base, dfd, 0);
        }
        if (d->exists && dest_dir)
                return error_setx(x->err, ENOTDIR, "`%s`: not a directory", dest_path);
        if (d->exists && S_ISDIR(s->st.st_mode))
                return error_setx(x->err, EISDIR, "cannot copy a directory to a file: `%s`", dest_path);
        if (!d->exists && dest_dir)
                return error_setx(x->err, ENOENT, "no such directory: `%s`", dest_path);
        /* a new NAME, or a file replacing the file NAME */
        return walk(x, s->fd, &s->st, d->name, d->name, d->dirfd, 0);
}

/* ---- reading a tar stream into the container ----------------------------- */

/* A tar entry's name relative to the destination: no leading "/" or
 * "./", no "." or empty components; NULL when it has a ".." (Docker
 * refuses those as a breakout). */
static char *tar_clean_name(const char *raw)
{
        _cleanup_free_ char *copy = xstrdup(raw);
        char *out = xstrdup(""), *save = NULL;

        for (char *t = strtok_r(copy, "/", &save); t; t = strtok_r(NULL, "/", &save)) {
                char *n;
                if (strcmp(t, ".") == 0)
                        continue;
                if (strcmp(t, "..") == 0) {
                        free(out);
                        return NULL;
                }
                n = path_join(out, t);
                free(out);
                out = n;
        }
        return out;
}

static int tar_read_error(struct cp_ctx *x, struct archive *a)
{
        const char *msg = archive_error_string(a);

        return error_setx(x->err, archive_errno(a) > 0 ? archive_errno(a) : EIO, "read the tar stream: %s",
                          msg ? msg : "failed");
}

/* One entry NAME (cleaned) under DEST: its parent resolved (and made)
 * beneath ROOTFD, the entry itself made relative to the parent's fd. */
static int tar_entry(struct cp_ctx *x, struct archive *a, struct archive_entry *e, int rootfd, const char *dest,
                     const char *name)
{
        _cleanup_free_ char *dir = NULL, *base = NULL, *parent = NULL;
        _cleanup_close_ int pfd = -EBADF;
        const struct stat *st = archive_entry_stat(e);
        const char *hardlink = archive_entry_hardlink(e);
        int r;

        split_path(name, &dir, &base);
        parent = strcmp(dir, ".") == 0 ? xstrdup(dest) : path_join(dest, dir);
        pfd = chase_mkdir_p(rootfd, parent, 0755);
        if (pfd < 0)
                return error_set(x->err, -pfd, "tar entry `%s`: create its directory", name);
        if (kernel_fs(pfd))
                return error_setx(x->err, EPERM, "tar entry `%s`: on a kernel file system: not written", name);
        if (hardlink) {
                _cleanup_free_ char *t = tar_clean_name(hardlink), *tdir = NULL, *tbase = NULL, *tparent = NULL;
                _cleanup_close_ int tfd = -EBADF;
                if (!t || !*t)
                        return error_setx(x->err, EINVAL, "tar entry `%s`: link target `%s` leaves the destination",
                                          name, hardlink);
                split_path(t, &tdir, &tbase);
                tparent = strcmp(tdir, ".") == 0 ? xstrdup(dest) : path_join(dest, tdir);
                tfd = chase_open(rootfd, tparent, O_PATH | O_DIRECTORY, 0);
                if (tfd < 0)
                        return error_set(x->err, -tfd, "tar entry `%s`: link target `%s`", name, hardlink);
                r = clear_slot(x, pfd, base, name, false, NULL);
                if (r < 0)
                        return r;
                if (linkat(tfd, tbase, pfd, base, 0) < 0)
                        return error_set(x->err, errno, "tar entry `%s`: link to `%s`", name, hardlink);
                return 0;
        }
        switch (st->st_mode & S_IFMT) {
        case S_IFDIR: {
                _cleanup_close_ int dfd = -EBADF;
                bool existed;
                dfd = put_dir(x, pfd, base, name, &existed);
                return dfd < 0 ? dfd : finish_fd(x, dfd, st, name);
        }
        case S_IFREG: {
                _cleanup_close_ int fd = put_file(x, pfd, base, name);
                if (fd < 0)
                        return fd;
                if (archive_entry_size(e) > 0 && archive_read_data_into_fd(a, fd) < ARCHIVE_WARN)
                        return tar_read_error(x, a);
                x->bytes += (uint64_t) archive_entry_size(e);
                return finish_fd(x, fd, st, name);
        }
        case S_IFLNK:
                return put_symlink(x, pfd, base, name, archive_entry_symlink(e) ? archive_entry_symlink(e) : "", st);
        case S_IFIFO:
        case S_IFCHR:
        case S_IFBLK:
                return put_node(x, pfd, base, name, st);
        default:
                return error_setx(x->err, EINVAL, "tar entry `%s`: unsupported type", name);
        }
}

static void archive_read_freep(struct archive **a)
{
        if (*a)
                archive_read_free(*a);
}

static int tar_extract(struct cp_ctx *x, int in_fd, int rootfd, const char *dest)
{
        _cleanup_(archive_read_freep) struct archive *a = archive_read_new();
        struct archive_entry *e;

        archive_read_support_filter_all(a);
        archive_read_support_format_tar(a);
        if (archive_read_open_fd(a, in_fd, CP_BUF_SIZE) != ARCHIVE_OK)
                return tar_read_error(x, a);
        for (;;) {
                _cleanup_free_ char *name = NULL;
                int r = archive_read_next_header(a, &e);
                if (r == ARCHIVE_EOF)
                        return 0;
                if (r < ARCHIVE_WARN)
                        return tar_read_error(x, a);
                name = tar_clean_name(archive_entry_pathname(e) ? archive_entry_pathname(e) : "");
                if (!name)
                        return error_setx(x->err, EINVAL, "tar entry `%s`: path leaves the destination",
                                          archive_entry_pathname(e));
                if (!*name)
                        continue; /* "./": the destination itself, left as it is */
                r = tar_entry(x, a, e, rootfd, dest, name);
                if (r < 0)
                        return r;
        }
}

/* ---- entry points ------------------------------------------------------ */

static void archive_write_freep(struct archive **a)
{
        if (*a)
                archive_write_free(*a);
}

static void cp_ctx_done(struct cp_ctx *x)
{
        tdestroy(x->links, link_free);
        x->links = NULL;
        free(x->buf);
        x->buf = NULL;
}

static void cp_ctx_init(struct cp_ctx *x, const struct container *c, unsigned flags, struct error *err)
{
        *x = (struct cp_ctx) {
                .flags = flags, .name = c->name, .uid = geteuid(), .gid = getegid(), .err = err,
                .buf = xmalloc(CP_BUF_SIZE),
        };
}

/* SRC as a tar stream on OUT_FD: under its own name, or its contents for "dir/.". */
static int write_tar(struct cp_ctx *x, const struct cp_src *s, int out_fd)
{
        _cleanup_(archive_write_freep) struct archive *a = archive_write_new();
        int r;

        x->tar = a;
        archive_write_set_format_pax_restricted(a);
        archive_write_set_bytes_in_last_block(a, 1);
        if (archive_write_open_fd(a, out_fd) != ARCHIVE_OK)
                r = tar_error(x, "");
        else if (!*s->base)
                r = walk_children(x, s->fd, "", -EBADF, 1);
        else
                r = walk(x, s->fd, &s->st, s->base, s->base, -EBADF, 0);
        if (r >= 0 && archive_write_close(a) != ARCHIVE_OK)
                r = tar_error(x, "");
        x->tar = NULL;
        return r;
}

/* The end of a copy, whatever R says: its byte count, everything released. */
static int cp_finish(struct cp_ctx *x, struct cp_src *s, struct cp_dest *d, struct croot *root, uint64_t *ret_bytes,
                     int r)
{
        if (r >= 0 && ret_bytes)
                *ret_bytes = x->bytes;
        cp_src_clear(s);
        cp_dest_clear(d);
        cp_ctx_done(x);
        croot_close(root);
        return r;
}

int engine_cp_from(struct engine *e, struct container *c, const char *path, const char *dest, int out_fd,
                   unsigned flags, uint64_t *ret_bytes, struct error *err)
{
        struct croot root = { .fd = -EBADF, .lock = -EBADF };
        struct cp_src s = { .fd = -EBADF };
        struct cp_dest d = { .dirfd = -EBADF };
        struct cp_ctx x;
        int r;

        r = croot_open(e, c, &root, err);
        if (r < 0)
                return r;
        cp_ctx_init(&x, c, flags, err);
        x.src_in_container = true;
        r = src_open(&x, root.fd, path, &s);
        if (r >= 0 && !dest)
                r = write_tar(&x, &s, out_fd);
        else if (r >= 0) {
                r = dest_resolve(&x, -EBADF, dest, &d);
                if (r >= 0)
                        r = place(&x, &s, &d, dest);
        }
        return cp_finish(&x, &s, &d, &root, ret_bytes, r);
}

int engine_cp_to(struct engine *e, struct container *c, const char *src, int in_fd, const char *path,
                 unsigned flags, uint64_t *ret_bytes, struct error *err)
{
        struct croot root = { .fd = -EBADF, .lock = -EBADF };
        struct cp_src s = { .fd = -EBADF };
        struct cp_dest d = { .dirfd = -EBADF };
        struct cp_ctx x;
        int r = 0;

        cp_ctx_init(&x, c, flags, err);
        x.dst_in_container = true;
        /* the host's side first: a missing SRC needs no mount */
        if (src)
                r = src_open(&x, -EBADF, src, &s);
        if (r >= 0)
                r = croot_open(e, c, &root, err);
        if (r >= 0)
                r = dest_resolve(&x, root.fd, path, &d);
        if (r >= 0 && !src) {
                if (d.name)
                        r = d.exists ? error_setx(err, ENOTDIR, "destination `%s` must be a directory", path)
                                     : not_found(&x, root.fd, path, ENOENT);
                else if (kernel_fs(d.dirfd))
                        r = error_setx(err, EPERM, "`%s` in container %s is on a kernel file system: not written",
                                       path, c->name);
                else
                        /* entries resolve beneath the root from PATH: Docker extracts in a chroot */
                        r = tar_extract(&x, in_fd, root.fd, path);
        } else if (r >= 0)
                r = place(&x, &s, &d, path);
        return cp_finish(&x, &s, &d, &root, ret_bytes, r);
}
