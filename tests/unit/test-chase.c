/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Hostile fixtures for in-root path resolution: absolute and relative
 * links out of the root, "..", loops; once with openat2 and once with the
 * component walk. */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "basic/chase.h"
#include "basic/macro.h"

static int n_test, n_fail;

static void ok(bool cond, const char *what, const char *mode)
{
        n_test++;
        if (!cond)
                n_fail++;
        printf("%sok %d - %s (%s)\n", cond ? "" : "not ", n_test, what, mode);
}

/* The path an fd points at. */
static char *fd_path(int fd)
{
        char proc[64], buf[PATH_MAX];
        ssize_t n;

        snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
        n = readlink(proc, buf, sizeof(buf) - 1);
        if (n < 0)
                return xstrdup("?");
        buf[n] = 0;
        return xstrdup(buf);
}

static bool path_is(int fd, const char *root, const char *rel)
{
        _cleanup_free_ char *p = fd_path(fd), *want = xasprintf("%s%s", root, rel);
        return strcmp(p, want) == 0;
}

static bool under(int fd, const char *root)
{
        _cleanup_free_ char *p = fd_path(fd);
        return strncmp(p, root, strlen(root)) == 0;
}

static void run(const char *root, int rootfd, const char *mode)
{
        int fd;

        fd = chase_open(rootfd, "/abs/passwd", O_PATH, 0);
        ok(fd == -ENOENT || (fd >= 0 && under(fd, root)), "absolute link to /etc stays in root", mode);
        if (fd >= 0)
                close(fd);

        fd = chase_open(rootfd, "/rel/etc", O_PATH, 0);
        ok(fd == -ENOENT || (fd >= 0 && under(fd, root)), "relative ../../.. link stays in root", mode);
        if (fd >= 0)
                close(fd);

        fd = chase_open(rootfd, "../../../../etc/passwd", O_PATH, 0);
        ok(fd == -ENOENT || (fd >= 0 && under(fd, root)), "dotdot past the root clamps at root", mode);
        if (fd >= 0)
                close(fd);

        fd = chase_open(rootfd, "/loop", O_PATH, 0);
        ok(fd == -ELOOP, "symlink loop gives ELOOP", mode);
        if (fd >= 0)
                close(fd);

        fd = chase_open(rootfd, "/dir/file", O_RDONLY, 0);
        ok(fd >= 0 && under(fd, root), "plain file opens", mode);
        if (fd >= 0)
                close(fd);

        fd = chase_open(rootfd, "/link-to-dir/file", O_RDONLY, 0);
        ok(fd >= 0 && under(fd, root), "absolute link inside root resolves against root", mode);
        if (fd >= 0)
                close(fd);

        fd = chase_mkdir_p(rootfd, "/abs/new/dir", 0755);
        ok(fd >= 0 && under(fd, root), "mkdir -p through an escaping link creates inside root", mode);
        if (fd >= 0)
                close(fd);

        fd = chase_mkpath(rootfd, "/dir/newfile", false, 0644);
        ok(fd >= 0 && under(fd, root), "mkpath creates a file inside root", mode);
        if (fd >= 0)
                close(fd);

        fd = chase_mkdir_p(rootfd, "/dir", 0755);
        ok(fd >= 0 && path_is(fd, root, "/dir"), "mkdir -p of an existing directory opens it", mode);
        if (fd >= 0)
                close(fd);

        fd = chase_mkdir_p(rootfd, "/dir/leaf", 0755);
        ok(fd >= 0 && path_is(fd, root, "/dir/leaf"), "mkdir -p makes a missing last directory", mode);
        if (fd >= 0)
                close(fd);

        fd = chase_mkdir_p(rootfd, "/dangling", 0755);
        ok(fd >= 0 && path_is(fd, root, "/made-by-link"),
           "mkdir -p of a dangling last link makes its target inside root", mode);
        if (fd >= 0)
                close(fd);

        fd = chase_mkdir_p(rootfd, "/dir/file", 0755);
        ok(fd == -ENOTDIR, "mkdir -p of a file gives ENOTDIR", mode);
        if (fd >= 0)
                close(fd);
}

int main(void)
{
        char tmpl[] = "/tmp/berth-test-chase-XXXXXX";
        char *root = mkdtemp(tmpl);
        int rootfd, r;
        char cmd[PATH_MAX + 64];

        if (!root) {
                printf("1..0 # SKIP cannot create a temporary directory\n");
                return 0;
        }
        rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
        r = mkdirat(rootfd, "dir", 0755);
        r |= close(openat(rootfd, "dir/file", O_CREAT | O_WRONLY | O_CLOEXEC, 0644));
        r |= symlinkat("/etc", rootfd, "abs");
        r |= symlinkat("../../../../../../", rootfd, "rel");
        r |= symlinkat("loop2", rootfd, "loop");
        r |= symlinkat("loop", rootfd, "loop2");
        r |= symlinkat("/dir", rootfd, "link-to-dir");
        r |= symlinkat("/made-by-link", rootfd, "dangling");
        if (r != 0) {
                printf("1..0 # SKIP cannot build fixtures\n");
                return 0;
        }
        printf("1..24\n");
        chase_no_openat2 = false;
        run(root, rootfd, "openat2");
        /* undo what the first pass created */
        (void) unlinkat(rootfd, "dir/newfile", 0);
        (void) unlinkat(rootfd, "etc/new/dir", AT_REMOVEDIR);
        (void) unlinkat(rootfd, "etc/new", AT_REMOVEDIR);
        (void) unlinkat(rootfd, "etc", AT_REMOVEDIR);
        (void) unlinkat(rootfd, "dir/leaf", AT_REMOVEDIR);
        (void) unlinkat(rootfd, "made-by-link", AT_REMOVEDIR);
        chase_no_openat2 = true;
        run(root, rootfd, "component walk");
        close(rootfd);
        if (strncmp(root, "/tmp/berth-test-chase-", 22) == 0) {
                snprintf(cmd, sizeof(cmd), "rm -rf -- '%s'", root);
                r = system(cmd);
        }
        return n_fail ? 1 : 0;
}
