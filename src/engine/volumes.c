/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <dirent.h>
#include <linux/openat2.h>
#include <unistd.h>

#include "basic/rm-rf.h"
#include "basic/timefmt.h"
#include "engine/engine-internal.h"

/* Docker's rule for volume names. */
static bool volume_name_valid(const char *name)
{
        size_t n = strlen(name);

        if (n < 2 || n > 255 || !strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", name[0]))
                return false;
        return strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") == n;
}

void volume_clear(struct volume *v)
{
        free(v->name);
        free(v->created);
        free(v->mountpoint);
        json_object_put(v->labels);
        strv_free(v->users);
        *v = (struct volume) {};
}

void volume_dir_remove(struct engine *e, const char *name)
{
        _cleanup_close_ int dfd = -EBADF;

        if (!volume_name_valid(name))
                return;
        dfd = open(e->volumes_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0)
                (void) rm_rf_at(dfd, name);
}

int volume_insert(struct engine *e, const char *name, json_object *labels, bool anonymous, struct error *err)
{
        _cleanup_free_ char *dir = NULL, *data = NULL, *created = time_now_rfc3339();
        const char *l = labels ? json_object_to_json_string_ext(labels, JSON_C_TO_STRING_PLAIN) : "{}";
        int r;

        if (!volume_name_valid(name))
                return error_setx(err, EINVAL, "invalid volume name \"%s\": only [a-zA-Z0-9][a-zA-Z0-9_.-] are "
                                  "allowed, at least 2 characters", name);
        r = store_sql_run(e->store, "INSERT INTO volumes (name, created, labels, anonymous) VALUES (?1, ?2, ?3, ?4)",
                          (const char *[]) { name, created, l, anonymous ? "1" : "0", NULL }, err);
        if (r < 0)
                return r;
        dir = xasprintf("%s/%s", e->volumes_dir, name);
        data = xasprintf("%s/_data", dir);
        if (mkdir(dir, 0700) < 0 && errno != EEXIST)
                return error_set(err, errno, "create `%s`", dir);
        /* _data is what containers see: root's 0755 as Docker makes it */
        if (mkdir(data, 0755) < 0 && errno != EEXIST)
                return error_set(err, errno, "create `%s`", data);
        return 0;
}

static int load_volume(sqlite3_stmt *st, void *row, void *userdata, struct error *err)
{
        struct engine *e = userdata;
        struct volume *v = row;
        const char *labels = (const char *) sqlite3_column_text(st, 2);

        *v = (struct volume) {
                .name = store_sql_str(st, 0),
                .created = store_sql_str(st, 1),
                .labels = labels ? json_tokener_parse(labels) : NULL,
                .anonymous = sqlite3_column_int(st, 3) != 0,
        };
        if (!v->labels)
                v->labels = json_object_new_object();
        v->mountpoint = xasprintf("%s/%s/_data", e->volumes_dir, v->name);
        return store_sql_strv(e->store, "SELECT container_id FROM volume_users WHERE volume = ?1",
                              (const char *[]) { v->name, NULL }, &v->users, err);
}

static void volume_clear_row(void *row)
{
        volume_clear(row);
}

static int query_volumes(struct engine *e, const char *where, const char *const *args, struct volume **ret,
                         size_t *ret_n, struct error *err)
{
        _cleanup_free_ char *sql = xasprintf("SELECT name, created, labels, anonymous FROM volumes %s ORDER BY name",
                                             where);

        return store_sql_rows(e->store, sql, args, sizeof(struct volume), load_volume, volume_clear_row, e,
                              (void **) ret, ret_n, err);
}

int volume_get(struct engine *e, const char *name, struct volume *ret, struct error *err)
{
        struct volume *v = NULL;
        size_t n = 0;
        int r = query_volumes(e, "WHERE name = ?1", (const char *[]) { name, NULL }, &v, &n, err);

        if (r < 0)
                return r;
        if (n == 0) {
                free(v);
                return error_setx(err, ENOENT, "no such volume: %s", name);
        }
        *ret = v[0];
        free(v);
        return 0;
}

int volume_list(struct engine *e, struct volume **ret, size_t *ret_n, struct error *err)
{
        return query_volumes(e, "", NULL, ret, ret_n, err);
}

int volume_create(struct engine *e, const char *name, json_object *labels, bool anonymous, struct volume *ret,
                  struct error *err)
{
        struct volume existing = {};
        int r;

        /* Docker: creating an existing volume returns it */
        if (volume_get(e, name, &existing, NULL) >= 0) {
                if (ret)
                        *ret = existing;
                else
                        volume_clear(&existing);
                return 0;
        }
        r = store_sql_begin(e->store, err);
        if (r >= 0)
                r = volume_insert(e, name, labels, anonymous, err);
        r = store_sql_commit(e->store, r, err);
        if (r < 0) {
                if (r != -EEXIST)
                        volume_dir_remove(e, name);
                return r;
        }
        return ret ? volume_get(e, name, ret, err) : 0;
}

int volume_use(struct engine *e, const char *name, const char *container_id, struct error *err)
{
        return store_sql_run(e->store, "INSERT OR IGNORE INTO volume_users (volume, container_id) VALUES (?1, ?2)",
                             (const char *[]) { name, container_id, NULL }, err);
}

int volume_remove(struct engine *e, const char *name, bool force, struct error *err)
{
        _cleanup_strv_free_ char **users = NULL;
        const char *args[] = { name, NULL };
        int r = store_sql_begin(e->store, err);

        if (r >= 0)
                r = store_sql_strv(e->store, "SELECT name FROM volumes WHERE name = ?1", args, &users, err);
        if (r >= 0 && !users[0])
                r = error_setx(err, ENOENT, "no such volume: %s", name);
        strv_free(TAKE_PTR(users));
        if (r >= 0)
                r = store_sql_strv(e->store, "SELECT container_id FROM volume_users WHERE volume = ?1", args, &users,
                                   err);
        if (r >= 0 && users[0] && !force)
                r = error_setx(err, EBUSY, "remove %s: volume is in use by container %.12s", name, users[0]);
        if (r >= 0)
                r = store_sql_run(e->store, "DELETE FROM volume_users WHERE volume = ?1", args, err);
        if (r >= 0)
                r = store_sql_run(e->store, "DELETE FROM volumes WHERE name = ?1", args, err);
        r = store_sql_commit(e->store, r, err);
        if (r >= 0)
                volume_dir_remove(e, name);
        return r;
}

int volume_prune(struct engine *e, bool all, char ***ret_names, struct error *err)
{
        _cleanup_strv_free_ char **names = NULL;
        char **removed = xzalloc(sizeof(char *));
        int r = store_sql_strv(e->store,
                               all ? "SELECT name FROM volumes WHERE name NOT IN (SELECT volume FROM volume_users)"
                                   : "SELECT name FROM volumes WHERE anonymous = 1 AND name NOT IN "
                                     "(SELECT volume FROM volume_users)",
                               NULL, &names, err);

        for (size_t i = 0; r >= 0 && names[i]; i++) {
                struct error e2 = ERROR_INIT;
                /* one taken meanwhile is skipped */
                if (volume_remove(e, names[i], false, &e2) >= 0)
                        strv_push(&removed, xstrdup(names[i]));
                error_clear(&e2);
        }
        if (r < 0) {
                strv_free(removed);
                return r;
        }
        *ret_names = removed;
        return 0;
}

int volume_remove_anonymous(struct engine *e, const struct container *c, struct error *err)
{
        _cleanup_strv_free_ char **names = NULL;
        int r = store_sql_strv(e->store,
                               "SELECT v.name FROM volumes v JOIN volume_users u ON u.volume = v.name "
                               "WHERE u.container_id = ?1 AND v.anonymous = 1",
                               (const char *[]) { c->id, NULL }, &names, err);

        if (r < 0)
                return r;
        r = store_sql_run(e->store, "DELETE FROM volume_users WHERE container_id = ?1",
                          (const char *[]) { c->id, NULL }, err);
        for (size_t i = 0; r >= 0 && names[i]; i++) {
                struct error e2 = ERROR_INIT;
                (void) volume_remove(e, names[i], false, &e2); /* another container may use it */
                error_clear(&e2);
        }
        return r;
}

int volume_populate(int rootfs_fd, const char *path, const char *dir, struct error *err)
{
        _cleanup_close_ int src = -EBADF, dst = -EBADF;
        _cleanup_free_ char *from = NULL, *to = NULL;
        struct open_how how = { .flags = O_PATH | O_DIRECTORY | O_CLOEXEC, .resolve = RESOLVE_IN_ROOT };
        int status;
        pid_t pid;

        /* the image's directory, never reached through a symlink out of it */
        src = (int) syscall(SYS_openat2, rootfs_fd, path[0] == '/' ? path + 1 : path, &how, sizeof(how));
        if (src < 0)
                return errno == ENOENT || errno == ENOTDIR ? 0 : error_set(err, errno, "open `%s` in the image", path);
        dst = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (dst < 0)
                return error_set(err, errno, "open `%s`", dir);
        {
                /* only an empty volume is filled */
                _cleanup_close_ int probe = fcntl(dst, F_DUPFD_CLOEXEC, 3);
                DIR *d = probe >= 0 ? fdopendir(probe) : NULL;
                struct dirent *de;
                bool empty = true;
                if (d) {
                        TAKE_FD(probe);
                        while ((de = readdir(d)))
                                if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
                                        empty = false;
                        closedir(d);
                }
                if (!empty)
                        return 0;
        }
        from = xasprintf("/proc/self/fd/%d/.", src);
        to = xasprintf("/proc/self/fd/%d/", dst);
        pid = fork();
        if (pid < 0)
                return error_set(err, errno, "fork");
        if (pid == 0) {
                int fl = fcntl(src, F_GETFD), fl2 = fcntl(dst, F_GETFD);
                (void) fcntl(src, F_SETFD, fl & ~FD_CLOEXEC);
                (void) fcntl(dst, F_SETFD, fl2 & ~FD_CLOEXEC);
                execlp("cp", "cp", "-a", "--", from, to, (char *) NULL);
                _exit(127);
        }
        if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
                return error_setx(err, EIO, "copy the image's `%s` into volume `%s` failed", path, dir);
        return 0;
}
