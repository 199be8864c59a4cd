/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "basic/chase.h"
#include "runtime/devices.h"
#include "runtime/mount.h"

static const struct spec_device default_devices[] = {
        { .path = (char *) "/dev/null", .type = 'c', .major = 1, .minor = 3 },
        { .path = (char *) "/dev/zero", .type = 'c', .major = 1, .minor = 5 },
        { .path = (char *) "/dev/full", .type = 'c', .major = 1, .minor = 7 },
        { .path = (char *) "/dev/random", .type = 'c', .major = 1, .minor = 8 },
        { .path = (char *) "/dev/urandom", .type = 'c', .major = 1, .minor = 9 },
        { .path = (char *) "/dev/tty", .type = 'c', .major = 5, .minor = 0 },
};

static const struct {
        const char *name, *target;
} dev_links[] = {
        { "fd", "/proc/self/fd" },
        { "stdin", "/proc/self/fd/0" },
        { "stdout", "/proc/self/fd/1" },
        { "stderr", "/proc/self/fd/2" },
};

static const struct spec_mount *find_mount(const struct spec *s, const char *dest)
{
        const struct spec_mount *found = NULL;

        for (size_t i = 0; i < s->n_mounts; i++)
                if (s->mounts[i].destination) {
                        _cleanup_free_ char *clean = mount_path_clean(s->mounts[i].destination);

                        if (strcmp(clean, dest) == 0)
                                found = &s->mounts[i]; /* the last one wins */
                }
        return found;
}

bool devices_need_setup(const struct spec *s)
{
        const struct spec_mount *m = find_mount(s, "/dev");

        return !m || !mount_is_bind(m);
}

static int dev_mode(const struct spec_device *d, mode_t *ret)
{
        switch (d->type) {
        case 'c':
        case 'u':
                *ret = S_IFCHR;
                return 0;
        case 'b':
                *ret = S_IFBLK;
                return 0;
        case 'p':
                *ret = S_IFIFO;
                return 0;
        default:
                return -EINVAL;
        }
}

/* mknod NAME in PFD; an existing node of the same kind is kept, anything
 * else but a directory is replaced (the image's /dev). */
static int dev_mknod(int pfd, const char *name, mode_t mode, dev_t rdev, struct error *err)
{
        struct stat st;

        if (mknodat(pfd, name, mode, rdev) == 0)
                return 0;
        if (errno != EEXIST)
                return error_set(err, errno, "mknod");
        if (fstatat(pfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return error_set(err, errno, "stat");
        if ((st.st_mode & S_IFMT) == (mode & S_IFMT) && (S_ISFIFO(mode) || st.st_rdev == rdev))
                return 0;
        if (S_ISDIR(st.st_mode))
                return error_setx(err, EEXIST, "a directory is in the way");
        if (unlinkat(pfd, name, 0) < 0)
                return error_set(err, errno, "remove what is in the way");
        if (mknodat(pfd, name, mode, rdev) < 0)
                return error_set(err, errno, "mknod");
        return 0;
}

/* A file NAME in PFD to mount on (or to keep as /dev/console): an
 * existing node that is neither a directory nor a symlink, else a new
 * empty regular file (a symlink there is removed, never followed).
 * Returns an O_PATH fd of it. */
static int make_mount_file(int pfd, const char *name, mode_t mode, struct error *err)
{
        _cleanup_close_ int fd = -EBADF;
        struct stat st;

        fd = openat(pfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        if (fd >= 0 && fstat(fd, &st) < 0)
                return error_set(err, errno, "stat");
        if (fd >= 0 && S_ISDIR(st.st_mode))
                return error_setx(err, EISDIR, "a directory is in the way");
        if (fd >= 0 && !S_ISLNK(st.st_mode))
                return TAKE_FD(fd);
        if (fd >= 0 && unlinkat(pfd, name, 0) < 0)
                return error_set(err, errno, "remove what is in the way");
        closep(&fd);
        fd = openat(pfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
        if (fd < 0)
                return error_set(err, errno, "create");
        if (fchmod(fd, mode) < 0)
                return error_set(err, errno, "chmod");
        closep(&fd);
        fd = openat(pfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return error_set(err, errno, "reopen");
        return TAKE_FD(fd);
}

/* In a user namespace mknod is refused: bind the host's node instead. */
static int dev_bind(int pfd, const char *name, const char *host, struct error *err)
{
        _cleanup_close_ int src = -EBADF, dst = -EBADF;
        struct stat st;
        int r;

        src = open(host, O_PATH | O_CLOEXEC);
        if (src < 0)
                return error_set(err, errno, "open host `%s`", host);
        if (fstat(src, &st) < 0)
                return error_set(err, errno, "stat host `%s`", host);
        if (!S_ISCHR(st.st_mode) && !S_ISBLK(st.st_mode))
                return error_setx(err, ENODEV, "host `%s` is not a device", host);
        dst = make_mount_file(pfd, name, 0000, err);
        if (dst < 0)
                return dst;
        r = mount_bind_fd(src, dst, false, 0);
        if (r < 0)
                return error_set(err, r, "bind host `%s`", host);
        return 0;
}

/* Owner and mode of a node we made, through an fd that cannot follow a
 * symlink. */
static int dev_fixup(int pfd, const char *name, mode_t fmt, dev_t rdev, const struct spec_device *d,
                     struct error *err)
{
        _cleanup_close_ int fd = openat(pfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        char proc[64];
        struct stat st;

        if (fd < 0 || fstat(fd, &st) < 0)
                return error_set(err, errno, "reopen");
        if ((st.st_mode & S_IFMT) != fmt || (!S_ISFIFO(fmt) && st.st_rdev != rdev))
                return error_setx(err, EEXIST, "replaced while being created");
        (void) snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
        if (chmod(proc, d->has_file_mode ? d->file_mode & 07777 : 0666) < 0)
                return error_set(err, errno, "chmod");
        if ((d->has_uid || d->has_gid) &&
            fchownat(fd, "", d->has_uid ? d->uid : (uid_t) -1, d->has_gid ? d->gid : (gid_t) -1, AT_EMPTY_PATH) < 0)
                return error_set(err, errno, "chown");
        return 0;
}

/* Create device D below ROOTFD; DEVFD is an fd of the container's /dev
 * (spares resolving it for every node there). */
static int dev_create(int rootfd, int devfd, const struct spec_device *d, bool bind, struct error *err)
{
        _cleanup_free_ char *parent = NULL;
        _cleanup_close_ int pfd = -EBADF;
        const char *name;
        mode_t fmt, mode, old_umask;
        dev_t rdev;
        int r;

        if (!d->path || !*d->path)
                return error_setx(err, EINVAL, "path missing");
        if (dev_mode(d, &fmt) < 0)
                return error_setx(err, EINVAL, "type `%c` is not one of c, b, u, p", d->type);
        if (d->major < 0 || d->minor < 0 || d->major > 0xfff || d->minor > 0xfffff)
                return error_setx(err, ERANGE, "major/minor out of range");
        rdev = S_ISFIFO(fmt) ? 0 : makedev((unsigned) d->major, (unsigned) d->minor);
        name = strrchr(d->path, '/');
        parent = name ? xstrndup(d->path, (size_t) (name - d->path)) : xstrdup("/");
        name = name ? name + 1 : d->path;
        if (!*name || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
                return error_setx(err, EINVAL, "path does not name a file");
        if (strcmp(parent, "/dev") == 0)
                pfd = fcntl(devfd, F_DUPFD_CLOEXEC, 3);
        else
                pfd = chase_mkdir_p(rootfd, *parent ? parent : "/", 0755);
        if (pfd < 0)
                return error_set(err, pfd == -1 ? errno : pfd, "create parent directory");
        if (bind && !S_ISFIFO(fmt))
                return dev_bind(pfd, name, d->path, err);
        /* a new node gets its final mode right away (mknodat does not
         * follow a link planted at NAME); an existing one is fixed up
         * through an fd */
        mode = d->has_file_mode ? d->file_mode & 07777 : 0666;
        old_umask = umask(0);
        r = mknodat(pfd, name, fmt | mode, rdev);
        umask(old_umask);
        if (r == 0 && !d->has_uid && !d->has_gid)
                return 0;
        if (r < 0 && errno != EEXIST)
                return error_set(err, errno, "mknod");
        if (r < 0) {
                r = dev_mknod(pfd, name, fmt | 0600, rdev, err);
                if (r < 0)
                        return r;
        }
        return dev_fixup(pfd, name, fmt, rdev, d, err);
}

static int dev_links_setup(int devfd, const struct spec *s, struct error *err)
{
        const struct spec_mount *pts = find_mount(s, "/dev/pts");

        for (size_t i = 0; i < ELEMENTSOF(dev_links); i++)
                if (symlinkat(dev_links[i].target, devfd, dev_links[i].name) < 0 && errno != EEXIST)
                        return error_set(err, errno, "symlink /dev/%s", dev_links[i].name);
        if (access("/proc/kcore", F_OK) == 0 && symlinkat("/proc/kcore", devfd, "core") < 0 && errno != EEXIST)
                return error_set(err, errno, "symlink /dev/core");
        if (!pts || !pts->type || strcmp(pts->type, "devpts") != 0)
                return 0;
        /* the devpts instance's own ptmx, not the host's */
        if (unlinkat(devfd, "ptmx", 0) < 0 && errno != ENOENT)
                return error_set(err, errno, "remove /dev/ptmx");
        if (symlinkat("pts/ptmx", devfd, "ptmx") < 0)
                return error_set(err, errno, "symlink /dev/ptmx");
        return 0;
}

int devices_setup(int rootfd, const struct spec *s, bool bind, bool console, struct error *err)
{
        _cleanup_close_ int devfd = -EBADF;
        int r;

        if (!devices_need_setup(s))
                return 0;
        devfd = chase_mkdir_p(rootfd, "/dev", 0755);
        if (devfd < 0)
                return error_set(err, devfd, "open /dev");
        for (size_t i = 0; i < ELEMENTSOF(default_devices); i++) {
                r = dev_create(rootfd, devfd, &default_devices[i], bind, err);
                if (r < 0)
                        return error_prefix(err, "default device %s", default_devices[i].path);
        }
        for (size_t i = 0; i < s->linux_.n_devices; i++) {
                r = dev_create(rootfd, devfd, &s->linux_.devices[i], bind, err);
                if (r < 0)
                        return error_prefix(err, "linux.devices[%zu] (%s)", i,
                                            s->linux_.devices[i].path ? s->linux_.devices[i].path : "");
        }
        r = dev_links_setup(devfd, s, err);
        if (r < 0)
                return r;
        if (console) {
                _cleanup_close_ int fd = make_mount_file(devfd, "console", 0666, err);
                if (fd < 0)
                        return error_prefix(err, "/dev/console");
        }
        return 0;
}
