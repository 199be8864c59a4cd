/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "basic/chase.h"
#include "basic/fileio.h"
#include "runtime/devices.h"
#include "runtime/mount.h"
#include "runtime/rootfs.h"

static int root_propagation(const struct spec *s, unsigned long *ret, struct error *err)
{
        const char *p = s->linux_.rootfs_propagation;

        if (!p || !*p) {
                *ret = 0;
                return 0;
        }
        if (mount_propagation_parse(p, ret) < 0)
                return error_setx(err, EINVAL, "linux.rootfsPropagation: unknown value `%s`", p);
        return 0;
}

/* pivot_root refuses a new root whose parent mount is shared, and a bind
 * of a shared mount would join its peer group (propagating our mounts
 * back to the host): make the mount holding the rootfs private when it
 * is shared, as it is after rootfsPropagation "shared"/"rshared". */
static int parent_private(const char *rootfs, struct error *err)
{
        _cleanup_free_ char *mountpoint = NULL;
        struct statx stx;
        bool shared;
        int r;

        if (statx(AT_FDCWD, rootfs, 0, STATX_MNT_ID, &stx) < 0)
                return error_set(err, errno, "root.path: stat `%s`", rootfs);
        if (!(stx.stx_mask & STATX_MNT_ID))
                return 0; /* before Linux 5.8: pivot_root will say if it minds */
        r = mount_info_lookup(stx.stx_mnt_id, &mountpoint, &shared);
        if (r == -ENOENT || (r >= 0 && !shared))
                return 0;
        if (r < 0)
                return error_set(err, r, "read /proc/self/mountinfo");
        if (mount(NULL, mountpoint, NULL, MS_PRIVATE, NULL) < 0)
                return error_set(err, errno, "make `%s` private", mountpoint);
        return 0;
}

/* Bind the rootfs onto itself (pivot_root wants a mount point) and
 * return an O_PATH fd of that new mount's root. */
static int bind_root(const char *rootfs, struct error *err)
{
        _cleanup_close_ int dir = -EBADF, tree = -EBADF;
        int r;

        dir = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (dir < 0)
                return error_set(err, errno, "root.path: open `%s`", rootfs);
        tree = open_tree(dir, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH | AT_RECURSIVE);
        if (tree < 0)
                return error_set(err, errno, "root.path: bind `%s`", rootfs);
        r = mount_move(tree, dir);
        if (r < 0)
                return error_set(err, r, "root.path: bind `%s` onto itself", rootfs);
        /* the tree fd now refers to the attached mount's root */
        return TAKE_FD(tree);
}

/* MS_MOVE the rootfs over "/" and chroot into it: for --no-pivot and for
 * a host running from the initramfs, where pivot_root is refused. */
static int move_root(int rootfd, struct error *err)
{
        if (fchdir(rootfd) < 0)
                return error_set(err, errno, "chdir into the rootfs");
        if (move_mount(rootfd, "", AT_FDCWD, "/", MOVE_MOUNT_F_EMPTY_PATH) < 0)
                return error_set(err, errno, "move the rootfs onto /");
        if (chroot(".") < 0)
                return error_set(err, errno, "chroot");
        if (chdir("/") < 0)
                return error_set(err, errno, "chdir /");
        return 0;
}

static bool on_initramfs(void)
{
        struct statfs sfs;

        return statfs("/", &sfs) == 0 && (sfs.f_type == RAMFS_MAGIC || sfs.f_type == TMPFS_MAGIC);
}

static int pivot(int rootfd, struct error *err)
{
        _cleanup_close_ int oldroot = -EBADF;
        struct mount_attr slave = { .propagation = MS_SLAVE };

        oldroot = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (oldroot < 0)
                return error_set(err, errno, "open /");
        if (fchdir(rootfd) < 0)
                return error_set(err, errno, "chdir into the rootfs");
        if (syscall(SYS_pivot_root, ".", ".") < 0) {
                if (errno == EINVAL && on_initramfs())
                        return move_root(rootfd, err);
                return error_set(err, errno, "pivot_root");
        }
        /* The old root is now stacked on the new one.  Make it a slave
         * first, so detaching it cannot propagate into the host's mount
         * namespace (rootfsPropagation "rshared" shares it). */
        if (mount_setattr(oldroot, "", AT_EMPTY_PATH | AT_RECURSIVE, &slave, sizeof(slave)) < 0)
                return error_set(err, errno, "make the old root a slave");
        if (fchdir(oldroot) < 0)
                return error_set(err, errno, "chdir into the old root");
        if (umount2(".", MNT_DETACH) < 0)
                return error_set(err, errno, "detach the old root");
        if (chdir("/") < 0)
                return error_set(err, errno, "chdir /");
        return 0;
}

static int setup_mounts(int rootfd, const struct spec *s, const struct rootfs_opts *o, struct error *err)
{
        /* the bind of the rootfs stays where it is until pivot_root */
        _cleanup_free_ char *root_path = fd_get_path(rootfd);
        struct mount_ctx ctx = {
                .rootfd = rootfd,
                .root_path = root_path,
                .bundle = o->bundle,
                .new_userns = o->new_userns,
                .cgroupns = o->cgroupns,
                .premounted = o->mount_fds,
                .n_premounted = o->n_mount_fds,
                .mount_label = o->mount_label,
                .host_mountinfo = o->host_mountinfo,
                .host_proc_cgroup = o->host_proc_cgroup,
                .cgroup_path = o->cgroup_path,
        };
        int r;

        for (size_t i = 0; i < s->n_mounts; i++) {
                r = mount_apply(&ctx, &s->mounts[i], i, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

int rootfs_setup(const struct spec *s, const struct rootfs_opts *o, struct error *err)
{
        _cleanup_close_ int rootfd = -EBADF;
        unsigned long prop;
        int r;

        if (!o->rootfs || o->rootfs[0] != '/')
                return error_setx(err, EINVAL, "root.path: `%s` is not an absolute path", o->rootfs ? o->rootfs : "");
        if (!o->new_mntns) {
                /* the host's mount namespace: mount nothing, only change root */
                if (o->before_pivot && (r = o->before_pivot(o->userdata, err)) < 0)
                        return r;
                if (chroot(o->rootfs) < 0 || chdir("/") < 0)
                        return error_set(err, errno, "root.path: chroot to `%s`", o->rootfs);
                return 0;
        }
        r = root_propagation(s, &prop, err);
        if (r < 0)
                return r;
        /* an unbindable / could not be bound: it is applied after pivot */
        if (prop & MS_UNBINDABLE)
                prop = MS_SLAVE | MS_REC;
        if (!prop)
                prop = MS_SLAVE | MS_REC;
        if (mount(NULL, "/", NULL, prop, NULL) < 0)
                return error_set(err, errno, "linux.rootfsPropagation: set propagation of /");
        /* after a recursive slave or private nothing is shared any more */
        if (!(prop & MS_REC) || (prop & MS_SHARED)) {
                r = parent_private(o->rootfs, err);
                if (r < 0)
                        return r;
        }
        rootfd = bind_root(o->rootfs, err);
        if (rootfd < 0)
                return rootfd;
        r = setup_mounts(rootfd, s, o, err);
        if (r < 0)
                return r;
        r = devices_setup(rootfd, s, o->new_userns, o->has_terminal, err);
        if (r < 0)
                return r;
        if (o->before_pivot) {
                r = o->before_pivot(o->userdata, err);
                if (r < 0)
                        return r;
        }
        return o->no_pivot ? move_root(rootfd, err) : pivot(rootfd, err);
}

/* linux.sysctl: KEY is dotted ("net.ipv4.ip_forward") or, when it
 * contains a slash, already a path (interface names may hold dots). */
static char *sysctl_path(const char *key)
{
        char *p = xasprintf("/proc/sys/%s", key);
        bool slashes = strchr(key, '/');

        for (char *c = p + 10; !slashes && *c; c++)
                if (*c == '.')
                        *c = '/';
        for (const char *c = p + 10; *c;) {
                size_t l = strcspn(c, "/");

                if (l == 0 || (l == 1 && c[0] == '.') || (l == 2 && c[0] == '.' && c[1] == '.')) {
                        free(p);
                        return NULL;
                }
                c += l + (c[l] == '/');
        }
        return p;
}

/* CVE-2019-16884, CVE-2025-52881: the write must reach procfs, never a
 * file an image or a mount put in its place: resolve inside the root,
 * refuse a final symlink, and check the filesystem of the opened fd. */
static int sysctl_write(int rootfd, const struct spec_kv *kv, struct error *err)
{
        _cleanup_free_ char *path = NULL;
        _cleanup_close_ int fd = -EBADF;
        struct statfs sfs;
        size_t len;
        ssize_t n;

        path = kv->key ? sysctl_path(kv->key) : NULL;
        if (!path)
                return error_setx(err, EINVAL, "linux.sysctl: invalid key `%s`", kv->key ? kv->key : "");
        fd = chase_open(rootfd, path, O_WRONLY | O_NOFOLLOW | O_NOCTTY, 0);
        if (fd < 0)
                return error_set(err, fd, "linux.sysctl.%s: open %s", kv->key, path);
        if (fstatfs(fd, &sfs) < 0)
                return error_set(err, errno, "linux.sysctl.%s: statfs", kv->key);
        if (sfs.f_type != PROC_SUPER_MAGIC)
                return error_setx(err, EXDEV, "linux.sysctl.%s: %s is not on procfs", kv->key, path);
        len = kv->value ? strlen(kv->value) : 0;
        n = RETRY_EINTR(write(fd, kv->value ? kv->value : "", len));
        if (n < 0)
                return error_set(err, errno, "linux.sysctl.%s: write", kv->key);
        if ((size_t) n != len)
                return error_setx(err, EIO, "linux.sysctl.%s: short write", kv->key);
        return 0;
}

/* The container's /dev/null, checked to be the null device itself and not
 * a symlink or another node planted by the image (CVE-2025-31133). */
static int open_null(int rootfd, struct error *err)
{
        _cleanup_close_ int fd = -EBADF;
        struct stat st;

        fd = chase_open(rootfd, "/dev/null", O_PATH | O_NOFOLLOW, 0);
        if (fd < 0)
                return error_set(err, fd, "open /dev/null");
        if (fstat(fd, &st) < 0)
                return error_set(err, errno, "stat /dev/null");
        if (!S_ISCHR(st.st_mode) || st.st_rdev != makedev(1, 3))
                return error_setx(err, EPERM, "/dev/null is not the null device");
        return TAKE_FD(fd);
}

/* Open PATH of maskedPaths/readonlyPaths inside the root; -ENOENT,
 * with ERR untouched, when it does not exist (ignored, as the spec
 * allows). */
static int open_listed(int rootfd, const char *field, size_t i, const char *path, struct error *err)
{
        int fd = chase_open(rootfd, path, O_PATH, 0);

        if (fd == -ENOENT || fd == -ENOTDIR)
                return -ENOENT;
        if (fd < 0)
                return error_set(err, fd, "linux.%s[%zu] (%s): open", field, i, path);
        return fd;
}

static int mask_path(int rootfd, size_t i, const char *path, int *nullfd, struct error *err)
{
        _cleanup_close_ int fd = -EBADF, tmpfs = -EBADF;
        struct stat st;
        int r;

        fd = open_listed(rootfd, "maskedPaths", i, path, err);
        if (fd == -ENOENT)
                return 0;
        if (fd < 0)
                return fd;
        if (fstat(fd, &st) < 0)
                return error_set(err, errno, "linux.maskedPaths[%zu] (%s): stat", i, path);
        if (S_ISDIR(st.st_mode)) {
                tmpfs = mount_new_tmpfs(MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV |
                                        MOUNT_ATTR_NOEXEC, NULL);
                r = tmpfs < 0 ? tmpfs : mount_move(tmpfs, fd);
        } else {
                if (*nullfd < 0) {
                        *nullfd = open_null(rootfd, err);
                        if (*nullfd < 0)
                                return error_prefix(err, "linux.maskedPaths[%zu] (%s)", i, path);
                }
                r = mount_bind_fd(*nullfd, fd, false, 0);
        }
        if (r < 0)
                return error_set(err, r, "linux.maskedPaths[%zu] (%s): mount", i, path);
        return 0;
}

static int readonly_path(int rootfd, size_t i, const char *path, struct error *err)
{
        _cleanup_close_ int fd = -EBADF;
        int r;

        fd = open_listed(rootfd, "readonlyPaths", i, path, err);
        if (fd == -ENOENT)
                return 0;
        if (fd < 0)
                return fd;
        r = mount_bind_fd(fd, fd, true, MOUNT_ATTR_RDONLY);
        if (r < 0)
                return error_set(err, r, "linux.readonlyPaths[%zu] (%s): bind read-only", i, path);
        return 0;
}

static int finalize_paths(int rootfd, const struct spec *s, struct error *err)
{
        _cleanup_close_ int nullfd = -EBADF;
        char **ro = s->linux_.readonly_paths, **masked = s->linux_.masked_paths;
        int r;

        for (size_t i = 0; ro && ro[i]; i++) {
                r = readonly_path(rootfd, i, ro[i], err);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; masked && masked[i]; i++) {
                r = mask_path(rootfd, i, masked[i], &nullfd, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

int rootfs_finalize(const struct spec *s, const struct rootfs_opts *o, struct error *err)
{
        _cleanup_close_ int rootfd = -EBADF;
        unsigned long prop;
        int r;

        r = root_propagation(s, &prop, err);
        if (r < 0)
                return r;
        rootfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (rootfd < 0)
                return error_set(err, errno, "open /");
        for (size_t i = 0; i < s->linux_.n_sysctl; i++) {
                r = sysctl_write(rootfd, &s->linux_.sysctl[i], err);
                if (r < 0)
                        return r;
        }
        if (!o->new_mntns)
                return 0; /* masks and read-only remounts would hit the host */
        r = finalize_paths(rootfd, s, err);
        if (r < 0)
                return r;
        if (s->root_readonly) {
                /* only the root mount, keeping its other attributes */
                struct mount_attr a = { .attr_set = MOUNT_ATTR_RDONLY };

                if (mount_setattr(rootfd, "", AT_EMPTY_PATH, &a, sizeof(a)) < 0)
                        return error_set(err, errno, "root.readonly: remount / read-only");
        }
        if (prop) {
                struct mount_attr a = { .propagation = prop & ~MS_REC };

                if (mount_setattr(rootfd, "", AT_EMPTY_PATH | ((prop & MS_REC) ? AT_RECURSIVE : 0), &a,
                                  sizeof(a)) < 0)
                        return error_set(err, errno, "linux.rootfsPropagation: set propagation of /");
        }
        return 0;
}

/* CVE-2025-52565: /dev/console is opened without following a symlink the
 * image may have planted there, checked to be a file (made by
 * devices_setup) or a device node, and the pty lands on that very fd. */
int rootfs_setup_console(int pty_slave_fd, struct error *err)
{
        _cleanup_close_ int rootfd = -EBADF, fd = -EBADF;
        struct stat st;
        int r;

        rootfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (rootfd < 0)
                return error_set(err, errno, "open /");
        fd = chase_open(rootfd, "/dev/console", O_PATH | O_NOFOLLOW, 0);
        if (fd < 0)
                return error_set(err, fd, "open /dev/console");
        if (fstat(fd, &st) < 0)
                return error_set(err, errno, "stat /dev/console");
        if (!S_ISREG(st.st_mode) && !S_ISCHR(st.st_mode))
                return error_setx(err, EPERM, "/dev/console is neither a file nor a character device");
        r = mount_bind_fd(pty_slave_fd, fd, false, 0);
        if (r < 0)
                return error_set(err, r, "bind the pty over /dev/console");
        return 0;
}

int rootfs_prepare_idmapped_mount(const struct spec *s, size_t idx, const char *bundle, int userns_fd,
                                  struct error *err)
{
        int r;

        if (idx >= s->n_mounts)
                return error_setx(err, EINVAL, "mounts[%zu]: no such mount", idx);
        r = mount_prepare_idmapped(&s->mounts[idx], bundle, userns_fd, err);
        if (r < 0)
                return error_prefix(err, "mounts[%zu] (%s)", idx,
                                    s->mounts[idx].destination ? s->mounts[idx].destination : "");
        return r;
}
