/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Users and groups of a container's root file system.  The image is
 * untrusted: /etc/passwd may be a symlink to the host's /etc/shadow, a
 * FIFO, or huge, so the files are opened inside the root with
 * chase_open(), must be regular files, and are read up to a limit. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "basic/chase.h"
#include "basic/fileio.h"
#include "engine/ocispec-internal.h"

#define DB_MAX (8U << 20)
#define ID_MAX 2147483647U /* runc's "uids and gids must be in range 0-2147483647" */

/* Read /etc/passwd or /etc/group of ROOTFS_FD into *RET; *RET is NULL
 * when the file does not exist (which is not an error). */
static int db_read(int rootfs_fd, const char *path, char **ret, struct error *err)
{
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ char *data = NULL;
        struct stat st;
        size_t len;
        int r;

        *ret = NULL;
        /* O_NONBLOCK: a FIFO planted as /etc/passwd must not hang us */
        fd = chase_open(rootfs_fd, path, O_RDONLY | O_NOCTTY | O_NONBLOCK, 0);
        if (fd == -ENOENT || fd == -ENOTDIR)
                return 0;
        if (fd < 0)
                return error_set(err, fd, "open `%s` in the container", path);
        if (fstat(fd, &st) < 0)
                return error_set(err, errno, "stat `%s` in the container", path);
        if (!S_ISREG(st.st_mode))
                return error_setx(err, EINVAL, "`%s` in the container is not a regular file", path);
        r = read_full_fd(fd, DB_MAX, &data, &len);
        if (r < 0)
                return error_set(err, r, "read `%s` in the container", path);
        if (strlen(data) != len)
                return error_setx(err, EINVAL, "`%s` in the container contains a NUL byte", path);
        *ret = TAKE_PTR(data);
        return 0;
}

/* A decimal id without sign, at most ID_MAX; -ERANGE past it. */
static int id_parse(const char *s, uint32_t *ret)
{
        uint64_t v;

        if (!*s || strspn(s, "0123456789") != strlen(s) || strlen(s) > 12)
                return -EINVAL;
        if (parse_uint64(s, &v) < 0)
                return -EINVAL;
        if (v > ID_MAX)
                return -ERANGE;
        *ret = (uint32_t) v;
        return 0;
}

/* Split LINE (modified) at ':' into up to N fields; the number found. */
static size_t fields_split(char *line, char **f, size_t n)
{
        size_t i = 0;

        while (i < n) {
                f[i++] = line;
                line = strchr(line, ':');
                if (!line)
                        break;
                *line++ = 0;
        }
        return i;
}

/* Iterate over the lines of DATA (modified); CB returns > 0 to stop. */
static int db_foreach(char *data, size_t nfields, int (*cb)(char **f, size_t n, void *userdata), void *userdata)
{
        for (char *line = data, *nl; line && *line; line = nl) {
                char *f[8] = {};
                size_t n;
                int r;

                nl = strchr(line, '\n');
                if (nl)
                        *nl++ = 0;
                while (isspace((unsigned char) *line))
                        line++;
                if (!*line || *line == '#')
                        continue;
                n = fields_split(line, f, nfields);
                r = cb(f, n, userdata);
                if (r != 0)
                        return r;
        }
        return 0;
}

struct pw_match {
        const char *name; /* match by name, or by uid when NULL */
        uint32_t uid;
        bool found;
        char *pw_name, *home;
        uint32_t pw_uid, pw_gid;
};

static int pw_cb(char **f, size_t n, void *userdata)
{
        struct pw_match *m = userdata;
        uint32_t uid, gid;

        /* name:password:uid:gid:gecos:home:shell */
        if (n < 4 || id_parse(f[2], &uid) < 0 || id_parse(f[3], &gid) < 0)
                return 0;
        if (m->name ? strcmp(f[0], m->name) != 0 : uid != m->uid)
                return 0;
        m->found = true;
        m->pw_name = xstrdup(f[0]);
        m->home = n >= 6 && f[5][0] ? xstrdup(f[5]) : NULL;
        m->pw_uid = uid;
        m->pw_gid = gid;
        return 1;
}

struct gr_match {
        const char *group; /* by name (or gid when numeric) */
        bool numeric;
        uint32_t gid;
        bool found;
        const char *member; /* collect the groups listing this user */
        uint32_t *gids;
        size_t n_gids;
};

static bool list_has(const char *list, const char *name)
{
        size_t l = strlen(name);

        for (const char *p = list; p && *p;) {
                const char *c = strchr(p, ',');
                size_t n = c ? (size_t) (c - p) : strlen(p);

                if (n == l && strncmp(p, name, l) == 0)
                        return true;
                p = c ? c + 1 : NULL;
        }
        return false;
}

static int gr_cb(char **f, size_t n, void *userdata)
{
        struct gr_match *m = userdata;
        uint32_t gid;

        /* name:password:gid:member,member */
        if (n < 3 || id_parse(f[2], &gid) < 0)
                return 0;
        if (m->group) {
                if (m->numeric ? gid != m->gid : strcmp(f[0], m->group) != 0)
                        return 0;
                m->found = true;
                m->gid = gid;
                return 1;
        }
        if (n < 4 || !list_has(f[3], m->member))
                return 0;
        for (size_t i = 0; i < m->n_gids; i++)
                if (m->gids[i] == gid)
                        return 0;
        m->gids = xrealloc(m->gids, (m->n_gids + 1) * sizeof(uint32_t));
        m->gids[m->n_gids++] = gid;
        return 0;
}

static int user_part(int rootfs_fd, const char *user, struct pw_match *pw, struct error *err)
{
        _cleanup_free_ char *data = NULL;
        int r;

        r = id_parse(user, &pw->uid);
        if (r == -ERANGE)
                return error_setx(err, ERANGE, "user `%s`: uids and gids must be in range 0-%u", user, ID_MAX);
        pw->name = r < 0 ? user : NULL;
        r = db_read(rootfs_fd, "/etc/passwd", &data, err);
        if (r < 0)
                return r;
        if (data)
                (void) db_foreach(data, 7, pw_cb, pw);
        if (!pw->found && pw->name)
                return error_setx(err, ENOENT, "unable to find user %s: no matching entries in passwd file", user);
        return 0;
}

static int group_part(int rootfs_fd, const char *group, const char *member, struct ocispec_user *u,
                      struct error *err)
{
        _cleanup_free_ char *data = NULL;
        struct gr_match gm = { .group = group, .member = member };
        int r;

        if (group) {
                r = id_parse(group, &gm.gid);
                if (r == -ERANGE)
                        return error_setx(err, ERANGE, "group `%s`: uids and gids must be in range 0-%u", group,
                                          ID_MAX);
                gm.numeric = r >= 0;
        }
        if (!group && !member)
                return 0;
        r = db_read(rootfs_fd, "/etc/group", &data, err);
        if (r < 0)
                return r;
        if (data)
                (void) db_foreach(data, 4, gr_cb, &gm);
        if (group && !gm.found && !gm.numeric)
                return error_setx(err, ENOENT, "unable to find group %s: no matching entries in group file", group);
        if (group)
                u->gid = gm.gid;
        u->gids = gm.gids;
        u->n_gids = gm.n_gids;
        return 0;
}

int ocispec_user_resolve(int rootfs_fd, const char *user, struct ocispec_user *ret, struct error *err)
{
        _cleanup_free_ char *copy = xstrdup(user && *user ? user : "0");
        char *colon = strchr(copy, ':'), *group = NULL;
        struct pw_match pw = {};
        struct ocispec_user u = {};
        int r;

        if (colon) {
                *colon = 0;
                group = colon[1] ? colon + 1 : NULL;
        }
        if (!*copy)
                return error_setx(err, EINVAL, "user `%s`: empty user name", user);
        r = user_part(rootfs_fd, copy, &pw, err);
        if (r >= 0) {
                u.uid = pw.found ? pw.pw_uid : pw.uid;
                u.gid = pw.found ? pw.pw_gid : 0;
                u.home = TAKE_PTR(pw.home);
                /* an explicit group replaces the supplementary ones (runc) */
                r = group_part(rootfs_fd, group, group ? NULL : pw.pw_name, &u, err);
        }
        free(pw.pw_name);
        free(pw.home);
        if (r < 0) {
                ocispec_user_clear(&u);
                return r;
        }
        *ret = u;
        return 0;
}

void ocispec_user_clear(struct ocispec_user *u)
{
        free(u->gids);
        free(u->home);
        *u = (struct ocispec_user) {};
}

int ocispec_resolve_user(int rootfs_fd, const char *user, uint32_t *ret_uid, uint32_t *ret_gid,
                         struct error *err)
{
        struct ocispec_user u = {};
        int r;

        r = ocispec_user_resolve(rootfs_fd, user, &u, err);
        if (r < 0)
                return r;
        *ret_uid = u.uid;
        *ret_gid = u.gid;
        ocispec_user_clear(&u);
        return 0;
}
