/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <sys/stat.h>
#include <unistd.h>

#include "basic/fileio.h"
#include "image/snapshot.h"
#include "image/store-internal.h"

bool snapshot_no_lowerdir_plus;

/* The longest string fsconfig(FSCONFIG_SET_STRING) copies in: 256 bytes
 * with its NUL (fs/fsopen.c), whatever the file system. */
#define FSCONFIG_STRING_MAX 255

/* Overlay options, the same for every snapshot:
 *  - index=off: the inode index ties the lower layers to one upper layer
 *    (it records their file handles) and refuses them to a second overlay
 *    while mounted, but a layer is shared by every image and container
 *    that has it;
 *  - redirect_dir=off: renaming a lower directory then fails with EXDEV
 *    (mv copies instead) rather than leaving a trusted.overlay.redirect
 *    xattr in the upper layer, which no layer tar can carry (layer_pack()
 *    drops overlayfs's xattrs when a container is committed);
 *  - metacopy=off: for the same reason, a file copied up carries its data
 *    in the upper layer, not only its metadata.
 * No "userxattr": the layers' opaque directories are trusted.overlay.opaque
 * (unpack.h), which overlayfs only reads without it. */
static const char *const overlay_options[][2] = {
        { "index", "off" },
        { "redirect_dir", "off" },
        { "metacopy", "off" },
};

enum lower_mode {
        LOWER_PLUS,   /* "lowerdir+" once per layer: Linux 6.8+ */
        LOWER_STRING, /* one "lowerdir" of absolute paths, or names relative to layers/ */
};

/* One overlay being built. */
struct overlay {
        struct store *s;
        const struct store_image *img;
        const char *upper, *work;
        int upperfd, workfd;
        enum lower_mode mode;
        int fsfd;
        int cwdfd; /* the working directory to go back to, when we left it */
        int userns_fd; /* >= 0: the lower layers are idmapped through this user namespace */
        int *trees;    /* their idmapped clones, open until the overlay is made */
};


static int set_string(int fsfd, const char *key, const char *value, struct error *err)
{
        if (fsconfig(fsfd, FSCONFIG_SET_STRING, key, value, 0) < 0) {
                _cleanup_free_ char *what = xasprintf("overlay option %s=%s", key, value);
                return error_fs_context(fsfd, err, errno, what);
        }
        return 0;
}

/* PATH, or /proc/self/fd/FD (the directory it names, opened by us) when
 * PATH is longer than an fsconfig() string may be.  Overlayfs resolves
 * the path at fsconfig() time (Linux 6.5+) or at create time (before):
 * FD stays open until then. */
static int set_path(int fsfd, const char *key, const char *path, int fd, struct error *err)
{
        char proc[64];

        if (strlen(path) <= FSCONFIG_STRING_MAX)
                return set_string(fsfd, key, path, err);
        (void) snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
        return set_string(fsfd, key, proc, err);
}

/* Top layer first, as overlayfs wants its lower layers. */
static const char *layer_hex(const struct overlay *o, size_t i)
{
        return store_hex(o->img->layers[o->img->n_layers - 1 - i].chain_id);
}

/* Layer I as a detached clone idmapped through O->userns_fd: the fd
 * (kept in O->trees, closed with the overlay context). */
static int idmapped_layer(struct overlay *o, size_t i, struct error *err)
{
        struct mount_attr a = { .attr_set = MOUNT_ATTR_IDMAP | MOUNT_ATTR_RDONLY, .userns_fd = (uint64_t) o->userns_fd };
        int tree = open_tree(o->s->layerfd, layer_hex(o, i), OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_SYMLINK_NOFOLLOW);

        if (tree < 0)
                return error_set(err, errno, "clone layer %s", layer_hex(o, i));
        o->trees[i] = tree;
        if (mount_setattr(tree, "", AT_EMPTY_PATH, &a, sizeof(a)) < 0)
                return error_set(err, errno, "idmap layer %s", layer_hex(o, i));
        return tree;
}

static int lowers_plus(struct overlay *o, struct error *err)
{
        for (size_t i = 0; i < o->img->n_layers; i++) {
                _cleanup_free_ char *path = xasprintf("%s/layers/%s", o->s->root, layer_hex(o, i));
                _cleanup_close_ int fd = -EBADF;
                int r;

                if (o->userns_fd >= 0) {
                        /* overlayfs takes an idmapped layer by the path of its mount */
                        int tree = idmapped_layer(o, i, err);
                        char proc[64];
                        if (tree < 0)
                                return tree;
                        (void) snprintf(proc, sizeof(proc), "/proc/self/fd/%d", tree);
                        r = set_string(o->fsfd, "lowerdir+", proc, err);
                        if (r < 0)
                                return r;
                        continue;
                }
                if (strlen(path) > FSCONFIG_STRING_MAX) {
                        fd = openat(o->s->layerfd, layer_hex(o, i), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        if (fd < 0)
                                return error_set(err, errno, "open `%s`", path);
                }
                /* resolved here and now on every kernel that has it */
                r = set_path(o->fsfd, "lowerdir+", path, fd, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* The lower layers, top first, joined with ':' ("lowerdir"), with ':'
 * and '\' escaped as overlayfs wants; NULL when a path has a comma, which
 * the legacy mount option parser (before Linux 6.5) refuses outright. */
static char *join_lowers(const struct overlay *o, bool relative)
{
        size_t len = 0, n = o->img->n_layers;
        char *list, *p;

        for (size_t i = 0; i < n; i++)
                len += 2 * (strlen(o->s->root) + strlen("/layers/")) + strlen(layer_hex(o, i)) + 1;
        p = list = xmalloc(len + 1);
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *path = relative ? xstrdup(layer_hex(o, i))
                                                     : xasprintf("%s/layers/%s", o->s->root, layer_hex(o, i));
                if (strchr(path, ',')) {
                        free(list);
                        return NULL;
                }
                if (i > 0)
                        *p++ = ':';
                for (const char *c = path; *c; c++) {
                        if (*c == ':' || *c == '\\')
                                *p++ = '\\';
                        *p++ = *c;
                }
        }
        *p = 0;
        return list;
}

/* Kernels before 6.8: every layer in one string.  Absolute paths when
 * they fit, else the layers' names with the working directory moved to
 * layers/ until the overlay is created (the kernel resolves relative
 * lower paths against it: at fsconfig() time on 6.5+, at create time
 * before). */
static int lowers_string(struct overlay *o, struct error *err)
{
        _cleanup_free_ char *abs = join_lowers(o, false), *rel = NULL;

        if (abs && strlen(abs) <= FSCONFIG_STRING_MAX)
                return set_string(o->fsfd, "lowerdir", abs, err);
        rel = join_lowers(o, true);
        if (strlen(rel) > FSCONFIG_STRING_MAX)
                return -E2BIG; /* no error set: mount(2) takes a page (overlay_open_legacy) */
        o->cwdfd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (o->cwdfd < 0)
                return error_set(err, errno, "open the working directory");
        if (fchdir(o->s->layerfd) < 0)
                return error_set(err, errno, "change directory to `%s/layers`", o->s->root);
        return set_string(o->fsfd, "lowerdir", rel, err);
}

static void restore_cwd(struct overlay *o)
{
        if (o->cwdfd < 0)
                return;
        /* nothing sensible to do if this fails: the directory we came from is held open */
        (void) fchdir(o->cwdfd);
        close(o->cwdfd);
        o->cwdfd = -EBADF;
}

/* Configure o->fsfd: source, options, layers. */
static int overlay_configure(struct overlay *o, struct error *err)
{
        int r;

        /* shown as the mount's source in mountinfo: snapshot_probe() looks for it */
        r = set_string(o->fsfd, "source", "berth", err);
        for (size_t i = 0; r >= 0 && i < ELEMENTSOF(overlay_options); i++)
                r = set_string(o->fsfd, overlay_options[i][0], overlay_options[i][1], err);
        if (r >= 0)
                r = o->mode == LOWER_PLUS ? lowers_plus(o, err) : lowers_string(o, err);
        if (r < 0)
                return r;
        if (!o->upper)
                return 0;
        r = set_path(o->fsfd, "upperdir", o->upper, o->upperfd, err);
        if (r >= 0)
                r = set_path(o->fsfd, "workdir", o->work, o->workfd, err);
        return r;
}

/* How this kernel takes lower layers, asked of a throwaway context once. */
static enum lower_mode lower_mode_probe(struct store *s)
{
        static int mode = -1;
        _cleanup_close_ int fsfd = -EBADF;
        char path[64];

        if (mode >= 0)
                return mode;
        fsfd = fsopen("overlay", FSOPEN_CLOEXEC);
        if (fsfd < 0)
                return LOWER_PLUS; /* the real attempt will say why */
        (void) snprintf(path, sizeof(path), "/proc/self/fd/%d", s->layerfd);
        if (fsconfig(fsfd, FSCONFIG_SET_FLAG, "x-berth-probe", NULL, 0) >= 0)
                /* Before Linux 6.5 overlayfs takes its options through the
                 * legacy parser, which accepts any key here and fails only
                 * at create. */
                mode = LOWER_STRING;
        else if (fsconfig(fsfd, FSCONFIG_SET_STRING, "lowerdir+", path, 0) < 0 && errno == EINVAL)
                mode = LOWER_STRING; /* "lowerdir+" came with Linux 6.8 */
        else
                mode = LOWER_PLUS;
        return mode;
}

/* The options of a legacy mount(2) of the overlay: the lower layers by
 * their names in layers/ (the working directory), upper and work through
 * our fds.  NULL when they do not fit in the page mount(2) copies. */
static char *legacy_options(const struct overlay *o)
{
        _cleanup_free_ char *lowers = join_lowers(o, true), *upper = NULL;
        char *data;

        if (!lowers)
                return NULL;
        if (o->upper) {
                /* by path: the child's new mount namespace has its own
                 * copies of the mounts our fds point into */
                _cleanup_free_ char *up = fd_get_path(o->upperfd), *wk = fd_get_path(o->workfd);
                if (!up || !wk || strpbrk(up, ",:") || strpbrk(wk, ",:"))
                        return NULL;
                upper = xasprintf(",upperdir=%s,workdir=%s", up, wk);
        }
        data = xasprintf("lowerdir=%s,index=off,redirect_dir=off,metacopy=off%s", lowers, upper ? upper : "");
        if (strlen(data) >= 4096) {
                free(data);
                return NULL;
        }
        return data;
}

/* Hand FD (or, when FD < 0, the errno -FD) over SOCK. */
static void send_result(int sock, int fd)
{
        char cbuf[CMSG_SPACE(sizeof(int))] = {};
        int code = fd < 0 ? -fd : 0;
        struct iovec iov = { .iov_base = &code, .iov_len = sizeof(code) };
        struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };

        if (fd >= 0) {
                struct cmsghdr *c;

                msg.msg_control = cbuf;
                msg.msg_controllen = sizeof(cbuf);
                c = CMSG_FIRSTHDR(&msg);
                c->cmsg_level = SOL_SOCKET;
                c->cmsg_type = SCM_RIGHTS;
                c->cmsg_len = CMSG_LEN(sizeof(int));
                memcpy(CMSG_DATA(c), &fd, sizeof(int));
        }
        (void) sendmsg(sock, &msg, MSG_NOSIGNAL);
}

/* The fd or the -errno send_result() sent; -EIO when nothing came. */
static int recv_result(int sock)
{
        char cbuf[CMSG_SPACE(sizeof(int))] = {};
        int code = 0, fd;
        struct iovec iov = { .iov_base = &code, .iov_len = sizeof(code) };
        struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
        struct cmsghdr *c;

        if (recvmsg(sock, &msg, MSG_CMSG_CLOEXEC) != (ssize_t) sizeof(code))
                return -EIO;
        c = CMSG_FIRSTHDR(&msg);
        if (c && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
                memcpy(&fd, CMSG_DATA(c), sizeof(int));
                return fd;
        }
        return code > 0 ? -code : -EIO;
}

/* The child of overlay_open_legacy(): in a mount namespace of its own
 * (nothing propagates to the host), mount the overlay with mount(2) on
 * the layers directory, clone it detached and hand the clone over. */
_noreturn_ static void legacy_child(const struct overlay *o, const char *data, const char *at, int sock)
{
        unsigned long flags = MS_NODEV | (o->upper ? 0 : MS_RDONLY);
        int tree;

        /* into layers/ first: unshare() moves the working directory over
         * to the new namespace's copy of its mount, which overlayfs needs
         * (it refuses layers on mounts of another namespace) */
        if (fchdir(o->s->layerfd) < 0 || unshare(CLONE_NEWNS) < 0 ||
            mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
            /* read-only from the start: no writable moment */
            mount("berth", at, "overlay", flags, data) < 0 ||
            /* by path: "." would still be the directory under the mount */
            (tree = open_tree(AT_FDCWD, at, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC)) < 0) {
                send_result(sock, -errno);
                _exit(1);
        }
        send_result(sock, tree);
        _exit(0);
}

/* Kernels before 6.8 with more layers than one fsconfig() string holds:
 * mount(2), whose options may fill a page (about 60 layers). */
static int overlay_open_legacy(struct overlay *o, struct error *err)
{
        _cleanup_free_ char *data = legacy_options(o), *at = fd_get_path(o->s->layerfd);
        int sv[2], status = 0, fd;

        pid_t pid;

        if (!at)
                return error_set(err, errno, "find `%s/layers`", o->s->root);
        if (!data)
                return error_setx(err, E2BIG,
                                  "image %s has %zu layers: too many for one overlay mount on this kernel "
                                  "(Linux 6.8 takes any number)",
                                  o->img->id, o->img->n_layers);
        if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv) < 0)
                return error_set(err, errno, "socketpair");
        pid = fork();
        if (pid == 0) {
                close(sv[0]);
                legacy_child(o, data, at, sv[1]);
        }
        close(sv[1]);
        fd = pid < 0 ? -errno : recv_result(sv[0]);
        close(sv[0]);
        if (pid > 0)
                (void) waitpid(pid, &status, 0);
        if (fd >= 0)
                return fd;
        if (pid < 0)
                return error_set(err, -fd, "fork");
        return error_set(err, -fd, "mount the overlay of %zu layers", o->img->n_layers);
}

/* The overlay: its mount fd, or -errno. */
static int overlay_open(struct overlay *o, struct error *err)
{
        _cleanup_close_ int fsfd = -EBADF;
        unsigned attr = MOUNT_ATTR_NODEV | (o->upper ? 0 : MOUNT_ATTR_RDONLY);
        int r, mfd;

        fsfd = fsopen("overlay", FSOPEN_CLOEXEC);
        if (fsfd < 0)
                return error_set(err, errno, "fsopen `overlay`");
        o->fsfd = fsfd;
        o->cwdfd = -EBADF;
        o->mode = snapshot_no_lowerdir_plus ? LOWER_STRING : lower_mode_probe(o->s);
        if (o->userns_fd >= 0 && o->mode != LOWER_PLUS)
                return error_setx(err, EOPNOTSUPP, "a user namespace needs idmapped overlay layers (Linux 6.8 or "
                                  "later)");
        r = overlay_configure(o, err);
        if (r >= 0 && fsconfig(fsfd, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
                r = error_fs_context(fsfd, err, errno, "create the overlay");
        restore_cwd(o);
        if (r == -E2BIG && !err->msg)
                return overlay_open_legacy(o, err);
        if (r < 0)
                return r;
        mfd = fsmount(fsfd, FSMOUNT_CLOEXEC, attr);
        if (mfd < 0)
                return error_set(err, errno, "fsmount the overlay");
        return mfd;
}

/* One layer and no upper one: a read-only bind of the layer itself. */
static int bind_layer(struct store *s, const char *chain_id, struct error *err)
{
        struct mount_attr a = { .attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NODEV };
        _cleanup_close_ int tree = -EBADF;

        tree = open_tree(s->layerfd, store_hex(chain_id),
                         OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_SYMLINK_NOFOLLOW);
        if (tree < 0)
                return error_set(err, errno, "bind layer %s", chain_id);
        /* set before it is attached anywhere: no writable window */
        if (mount_setattr(tree, "", AT_EMPTY_PATH, &a, sizeof(a)) < 0)
                return error_set(err, errno, "make layer %s read-only", chain_id);
        return TAKE_FD(tree);
}

static int check_layers(struct store *s, const struct store_image *img, struct error *err)
{
        if (img->n_layers == 0)
                return error_setx(err, EINVAL, "image %s has no layers", img->id);
        if (img->n_layers > SNAPSHOT_MAX_LAYERS)
                return error_setx(err, E2BIG, "image %s has %zu layers: overlayfs stacks at most %d", img->id,
                                  img->n_layers, SNAPSHOT_MAX_LAYERS);
        for (size_t i = 0; i < img->n_layers; i++)
                if (!store_layer_exists(s, img->layers[i].chain_id))
                        return error_setx(err, ENOENT, "image %s: layer %s is missing from `%s/layers`", img->id,
                                          img->layers[i].chain_id, s->root);
        return 0;
}

/* DIR as a directory fd, made when missing with MODE, UID and GID. */
static int open_made_dir(const char *dir, const struct stat *like, struct error *err)
{
        int fd;

        if (mkdir(dir, like->st_mode & 07777) >= 0) {
                fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (fd < 0)
                        return error_set(err, errno, "open `%s`", dir);
                /* mkdir applied the umask; and the owner is ours so far */
                if (fchown(fd, like->st_uid, like->st_gid) < 0 || fchmod(fd, like->st_mode & 07777) < 0) {
                        int r = error_set(err, errno, "set the owner and mode of `%s`", dir);
                        close(fd);
                        return r;
                }
                return fd;
        }
        if (errno != EEXIST)
                return error_set(err, errno, "create `%s`", dir);
        fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return error_set(err, errno, "open `%s`", dir);
        return fd;
}

/* UPPER (with the mode and owner of the image's root when made here) and
 * WORK (0700), on one file system as overlayfs needs. */
static int open_upper(struct store *s, const struct store_image *img, struct overlay *o, struct error *err)
{
        struct stat root, us, ws;
        const struct stat work_like = { .st_mode = 0700, .st_uid = geteuid(), .st_gid = getegid() };

        if (fstatat(s->layerfd, store_hex(img->layers[img->n_layers - 1].chain_id), &root, AT_SYMLINK_NOFOLLOW) < 0)
                return error_set(err, errno, "stat layer %s", img->layers[img->n_layers - 1].chain_id);
        o->upperfd = open_made_dir(o->upper, &root, err);
        if (o->upperfd < 0)
                return o->upperfd;
        o->workfd = open_made_dir(o->work, &work_like, err);
        if (o->workfd < 0)
                return o->workfd;
        if (fstat(o->upperfd, &us) < 0 || fstat(o->workfd, &ws) < 0)
                return error_set(err, errno, "stat `%s`", o->upper);
        if (us.st_dev != ws.st_dev)
                return error_setx(err, EXDEV, "upper `%s` and work `%s` are not on the same file system", o->upper,
                                  o->work);
        return 0;
}

int snapshot_open_idmapped(struct store *s, const struct store_image *img, const char *upper, const char *work,
                           int userns_fd, struct error *err)
{
        struct overlay o = { .s = s, .img = img, .upper = upper, .work = work, .upperfd = -EBADF, .workfd = -EBADF,
                             .userns_fd = userns_fd };
        int r;

        if (!upper != !work)
                return error_setx(err, EINVAL, "a writable snapshot needs both an upper and a work directory");
        r = check_layers(s, img, err);
        if (r < 0)
                return r;
        if (!upper && img->n_layers == 1 && userns_fd < 0)
                return bind_layer(s, img->layers[0].chain_id, err);
        if (userns_fd >= 0) {
                o.trees = xmalloc(img->n_layers * sizeof(int));
                for (size_t i = 0; i < img->n_layers; i++)
                        o.trees[i] = -EBADF;
        }
        if (upper)
                r = open_upper(s, img, &o, err);
        if (r >= 0)
                r = overlay_open(&o, err);
        if (o.upperfd >= 0)
                close(o.upperfd);
        if (o.workfd >= 0)
                close(o.workfd);
        for (size_t i = 0; o.trees && i < img->n_layers; i++)
                if (o.trees[i] >= 0)
                        close(o.trees[i]);
        free(o.trees);
        return r < 0 ? error_prefix(err, "mount image %s", img->id) : r;
}

int snapshot_open(struct store *s, const struct store_image *img, const char *upper, const char *work,
                  struct error *err)
{
        return snapshot_open_idmapped(s, img, upper, work, -EBADF, err);
}

/* Whether FD (a directory) is the root of a mount; RET_MNT_ID gets its
 * mount id (0 before Linux 5.8). */
static int mount_root(int fd, uint64_t *ret_mnt_id)
{
        struct statx sx = {}, px = {};
        _cleanup_close_ int parent = -EBADF;

        if (statx(fd, "", AT_EMPTY_PATH | AT_STATX_SYNC_AS_STAT, STATX_MNT_ID, &sx) < 0)
                return -errno;
        *ret_mnt_id = (sx.stx_mask & STATX_MNT_ID) ? sx.stx_mnt_id : 0;
        if (sx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT)
                return !!(sx.stx_attributes & STATX_ATTR_MOUNT_ROOT);
        /* Linux before 5.8: compare with the parent */
        parent = openat(fd, "..", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (parent < 0 || statx(parent, "", AT_EMPTY_PATH | AT_STATX_SYNC_AS_STAT, STATX_MNT_ID, &px) < 0)
                return -errno;
        if (sx.stx_dev_major != px.stx_dev_major || sx.stx_dev_minor != px.stx_dev_minor)
                return 1;
        return sx.stx_ino == px.stx_ino; /* "/" is its own parent */
}

int snapshot_mount(struct store *s, const struct store_image *img, const char *upper, const char *work,
                   const char *target, struct error *err)
{
        _cleanup_close_ int tfd = -EBADF, mfd = -EBADF;
        uint64_t id;
        int r;

        tfd = open(target, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (tfd < 0)
                return error_set(err, errno, "open `%s`", target);
        r = mount_root(tfd, &id);
        if (r < 0)
                return error_set(err, -r, "stat `%s`", target);
        if (r > 0)
                return error_setx(err, EBUSY, "`%s` is already a mount point", target);
        mfd = snapshot_open(s, img, upper, work, err);
        if (mfd < 0)
                return mfd;
        if (move_mount(mfd, "", tfd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
                return error_set(err, errno, "mount image %s on `%s`", img->id, target);
        return 0;
}

int snapshot_unmount(const char *target, struct error *err)
{
        if (umount2(target, UMOUNT_NOFOLLOW) >= 0)
                return 0;
        if (errno == EBUSY)
                return error_setx(err, EBUSY,
                                  "unmount `%s`: it is busy (a process has a file open or its working directory "
                                  "there)",
                                  target);
        if (errno == EINVAL)
                return error_setx(err, EINVAL, "unmount `%s`: not a mount point", target);
        return error_set(err, errno, "unmount `%s`", target);
}

/* The file system type and source of mount MNT_ID (mountinfo's fields
 * after " - "); ENOENT when it is not listed. */
static int mount_info(uint64_t mnt_id, char **ret_type, char **ret_source)
{
        _cleanup_fclose_ FILE *f = fopen("/proc/self/mountinfo", "re");
        _cleanup_free_ char *line = NULL;
        size_t size = 0;

        if (!f)
                return -errno;
        while (getline(&line, &size, f) > 0) {
                char type[64], source[256];
                const char *dash;
                uint64_t id;

                if (sscanf(line, "%" SCNu64, &id) != 1 || id != mnt_id)
                        continue;
                dash = strstr(line, " - ");
                if (!dash || sscanf(dash + 3, "%63s %255s", type, source) != 2)
                        return -EBADMSG;
                *ret_type = xstrdup(type);
                *ret_source = xstrdup(source);
                return 0;
        }
        return -ENOENT;
}

/* Is the directory FD one of S's layers (a bind of it)? */
static bool is_layer(struct store *s, int fd)
{
        _cleanup_close_ int dfd = openat(s->layerfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        struct stat st, lst;
        struct dirent *de;
        DIR *d;
        bool found = false;

        if (dfd < 0 || fstat(fd, &st) < 0 || !(d = fdopendir(dfd)))
                return false;
        dfd = -EBADF; /* the DIR owns it */
        while (!found && (de = readdir(d)))
                found = de->d_name[0] != '.' &&
                        fstatat(s->layerfd, de->d_name, &lst, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(lst.st_mode) &&
                        lst.st_dev == st.st_dev && lst.st_ino == st.st_ino;
        closedir(d);
        return found;
}

int snapshot_probe(struct store *s, const char *target, struct error *err)
{
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ char *type = NULL, *source = NULL;
        uint64_t id;
        int r;

        fd = open(target, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return error_set(err, errno, "open `%s`", target);
        r = mount_root(fd, &id);
        if (r < 0)
                return error_set(err, -r, "stat `%s`", target);
        if (r == 0)
                return SNAPSHOT_NONE;
        r = id ? mount_info(id, &type, &source) : -ENOENT;
        if (r < 0 && r != -ENOENT)
                return error_set(err, -r, "read /proc/self/mountinfo");
        if (r >= 0 && strcmp(type, "overlay") == 0)
                return strcmp(source, "berth") == 0 ? SNAPSHOT_OURS : SNAPSHOT_OTHER;
        return is_layer(s, fd) ? SNAPSHOT_OURS : SNAPSHOT_OTHER;
}
