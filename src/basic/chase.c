/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "chase.h"
#include "macro.h"

bool chase_no_openat2;

#define MAX_LINKS 40

static int sys_openat2(int dirfd, const char *path, struct open_how *how)
{
        return (int) syscall(SYS_openat2, dirfd, path, how, sizeof(*how));
}

/* The component walk: used where openat2 is refused (Linux < 5.6, or a
 * seccomp filter that answers ENOSYS/EPERM).  Every step opens one name
 * with O_NOFOLLOW relative to the previous fd; symlinks are read and
 * restarted from ROOTFD (absolute) or the current directory (relative);
 * ".." at the root stays at the root. */
static int chase_walk(int rootfd, const char *path, int open_flags, mode_t mode)
{
        _cleanup_free_ char *todo = xstrdup(path);
        _cleanup_close_ int cur = -EBADF;
        /* stack of ancestor fds for "..": depth bounded by PATH_MAX/2 */
        int *stack = NULL;
        size_t depth = 0, cap = 0;
        int links = 0, r;
        char *p;

        cur = openat(rootfd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (cur < 0)
                return -errno;

        p = todo;
        for (;;) {
                char *name, *slash;
                _cleanup_close_ int next = -EBADF;
                struct stat st;
                bool last;

                while (*p == '/')
                        p++;
                if (!*p)
                        break;
                name = p;
                slash = strchr(p, '/');
                if (slash) {
                        *slash = 0;
                        p = slash + 1;
                } else
                        p += strlen(p);
                while (*p == '/')
                        p++;
                last = !*p;

                if (strcmp(name, ".") == 0)
                        continue;
                if (strcmp(name, "..") == 0) {
                        if (depth > 0) {
                                closep(&cur);
                                cur = stack[--depth];
                        }
                        continue;
                }

                next = openat(cur, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
                if (next < 0) {
                        if (errno == ENOENT && last && (open_flags & O_CREAT)) {
                                r = openat(cur, name, (open_flags | O_CLOEXEC | O_NOFOLLOW), mode);
                                if (r < 0)
                                        r = -errno;
                                goto out;
                        }
                        r = -errno;
                        goto out;
                }
                if (fstat(next, &st) < 0) {
                        r = -errno;
                        goto out;
                }
                if (S_ISLNK(st.st_mode) && !(last && (open_flags & O_NOFOLLOW))) {
                        char target[PATH_MAX];
                        ssize_t n;
                        char *rest;

                        if (++links > MAX_LINKS) {
                                r = -ELOOP;
                                goto out;
                        }
                        n = readlinkat(next, "", target, sizeof(target) - 1);
                        if (n < 0) {
                                r = -errno;
                                goto out;
                        }
                        target[n] = 0;
                        rest = xasprintf("%s/%s", target, p);
                        free(todo);
                        todo = rest;
                        p = todo;
                        if (target[0] == '/') {
                                while (depth > 0)
                                        close(stack[--depth]);
                                closep(&cur);
                                cur = openat(rootfd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
                                if (cur < 0) {
                                        r = -errno;
                                        goto out;
                                }
                        }
                        continue;
                }
                if (!last && !S_ISDIR(st.st_mode)) {
                        r = -ENOTDIR;
                        goto out;
                }
                if (depth == cap) {
                        cap = cap ? cap * 2 : 16;
                        stack = xrealloc(stack, cap * sizeof(int));
                }
                stack[depth++] = TAKE_FD(cur);
                cur = TAKE_FD(next);
        }

        if ((open_flags & (O_PATH | O_ACCMODE | O_DIRECTORY)) == O_PATH)
                r = TAKE_FD(cur);
        else {
                /* reopen with the requested mode via the fd, never by name */
                _cleanup_free_ char *proc = xasprintf("/proc/self/fd/%d", cur);
                r = open(proc, (open_flags & ~(O_CREAT | O_EXCL | O_NOFOLLOW)) | O_CLOEXEC);
                if (r < 0) {
                        if (errno == ENOENT && (open_flags & (O_ACCMODE)) == O_RDONLY && (open_flags & O_DIRECTORY))
                                r = openat(cur, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                        if (r < 0)
                                r = -errno;
                }
        }
out:
        while (depth > 0)
                close(stack[--depth]);
        free(stack);
        return r;
}

int chase_open(int rootfd, const char *path, int open_flags, mode_t mode)
{
        if (!chase_no_openat2) {
                struct open_how how = {
                        .flags = (uint64_t) (open_flags | O_CLOEXEC),
                        .mode = (open_flags & (O_CREAT | O_TMPFILE)) ? mode : 0,
                        .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
                };
                int fd;

                fd = RETRY_EINTR(sys_openat2(rootfd, path, &how));
                if (fd >= 0)
                        return fd;
                if (errno != ENOSYS && errno != EPERM && errno != EAGAIN)
                        return -errno;
        }
        return chase_walk(rootfd, path, open_flags, mode);
}

int chase_open_plain(int rootfd, const char *path, int open_flags)
{
        struct open_how how = {
                .flags = (uint64_t) (open_flags | O_CLOEXEC),
                .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
        };
        int fd;

        if (chase_no_openat2 || (open_flags & (O_CREAT | O_TMPFILE)))
                return -EOPNOTSUPP;
        fd = RETRY_EINTR(sys_openat2(rootfd, path, &how));
        if (fd >= 0)
                return fd;
        if (errno == ENOSYS || errno == EPERM || errno == EAGAIN)
                return -EOPNOTSUPP;
        return -errno;
}

/* Split off the last component: returns the parent part (may be "") and
 * sets *ret_base. */
static char *split_last(const char *path, const char **ret_base)
{
        char *dup = xstrdup(path), *s;
        size_t n = strlen(dup);

        while (n > 1 && dup[n - 1] == '/')
                dup[--n] = 0;
        s = strrchr(dup, '/');
        if (!s) {
                *ret_base = path;
                free(dup);
                return xstrdup("");
        }
        *ret_base = path + (s - dup) + 1;
        *s = 0;
        return dup;
}

static int mkdir_p_depth(int rootfd, const char *path, mode_t mode, int depth);

/* Create PARENT/BASE; when BASE is a dangling symlink, create its target
 * instead (still inside the root). */
static int mkdir_one(int rootfd, const char *parent, const char *base, mode_t mode, int depth)
{
        _cleanup_close_ int pfd = -EBADF;
        struct stat st;
        char target[PATH_MAX];
        ssize_t n;

        pfd = chase_open(rootfd, *parent ? parent : "/", O_PATH | O_DIRECTORY, 0);
        if (pfd < 0)
                return pfd;
        if (mkdirat(pfd, base, mode) == 0)
                return 0;
        if (errno != EEXIST)
                return -errno;
        if (fstatat(pfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return -errno;
        if (!S_ISLNK(st.st_mode))
                return 0;
        if (depth > MAX_LINKS)
                return -ELOOP;
        n = readlinkat(pfd, base, target, sizeof(target) - 1);
        if (n < 0)
                return -errno;
        target[n] = 0;
        if (target[0] == '/')
                return mkdir_p_depth(rootfd, target, mode, depth + 1);
        {
                _cleanup_free_ char *t = xasprintf("%s/%s", parent, target);
                return mkdir_p_depth(rootfd, t, mode, depth + 1);
        }
}

static int mkdir_p_depth(int rootfd, const char *path, mode_t mode, int depth)
{
        _cleanup_free_ char *copy = xstrdup(path);
        _cleanup_close_ int cur = -EBADF;
        char *p = copy;

        if (!mode)
                mode = 0755;
        /* the common case: it is there already */
        cur = chase_open(rootfd, path, O_PATH | O_DIRECTORY, 0);
        if (cur != -ENOENT)
                return TAKE_FD(cur);
        /* next: only the last component is missing */
        {
                _cleanup_free_ char *parent = NULL;
                const char *base;
                int r;

                parent = split_last(copy, &base);
                if (*base && strcmp(base, ".") != 0 && strcmp(base, "..") != 0) {
                        r = mkdir_one(rootfd, parent, base, mode, depth);
                        if (r >= 0)
                                return chase_open(rootfd, path, O_PATH | O_DIRECTORY, 0);
                        if (r != -ENOENT)
                                return r;
                }
        }
        cur = openat(rootfd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (cur < 0)
                return -errno;
        /* Resolve each prefix inside the root; create what is missing,
         * then re-resolve, so a link planted in between still resolves in
         * the root. */
        for (;;) {
                char *slash, saved = 0;
                int fd;

                while (*p == '/')
                        p++;
                if (!*p)
                        break;
                slash = strchr(p, '/');
                if (slash) {
                        saved = *slash;
                        *slash = 0;
                }
                fd = chase_open(rootfd, copy, O_PATH | O_DIRECTORY, 0);
                if (fd == -ENOENT) {
                        _cleanup_free_ char *parent = NULL;
                        const char *base;
                        int r;

                        parent = split_last(copy, &base);
                        r = mkdir_one(rootfd, parent, base, mode, depth);
                        if (r < 0)
                                return r;
                        fd = chase_open(rootfd, copy, O_PATH | O_DIRECTORY, 0);
                }
                if (fd < 0)
                        return fd;
                closep(&cur);
                cur = fd;
                if (!slash)
                        break;
                *slash = saved;
                p = slash + 1;
        }
        return TAKE_FD(cur);
}

int chase_mkdir_p(int rootfd, const char *path, mode_t mode)
{
        return mkdir_p_depth(rootfd, path, mode, 0);
}

int chase_mkpath(int rootfd, const char *path, bool is_dir, mode_t mode)
{
        _cleanup_free_ char *parent = NULL;
        _cleanup_close_ int pfd = -EBADF;
        const char *base;
        int fd;

        if (is_dir)
                return chase_mkdir_p(rootfd, path, mode);

        fd = chase_open(rootfd, path, O_PATH, 0);
        if (fd != -ENOENT)
                return fd;
        parent = split_last(path, &base);
        pfd = chase_mkdir_p(rootfd, *parent ? parent : "/", 0755);
        if (pfd < 0)
                return pfd;
        {
                /* an O_PATH directory fd serves as dirfd for creation */
                _cleanup_close_ int f = openat(pfd, base, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY,
                                               mode ? mode : 0644);
                if (f < 0 && errno != EEXIST && errno != EISDIR && errno != ELOOP)
                        return -errno;
        }
        return chase_open(rootfd, path, O_PATH, 0);
}
