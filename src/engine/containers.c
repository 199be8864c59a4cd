/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "basic/fileio.h"
#include "basic/rm-rf.h"
#include "basic/timefmt.h"
#include "engine/network-internal.h"
#include "engine/ocispec.h"
#include "image/image.h"

char *engine_path(const struct engine *e, const char *fmt, ...)
{
        _cleanup_free_ char *rel = NULL;
        va_list ap;

        va_start(ap, fmt);
        if (vasprintf(&rel, fmt, ap) < 0)
                abort();
        va_end(ap);
        return xasprintf("%s/%s", e->root, rel);
}

static char *self_dir(void)
{
        char buf[PATH_MAX];
        ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
        char *slash;

        if (n <= 0)
                return xstrdup("/usr/bin");
        buf[n] = '\0';
        slash = strrchr(buf, '/');
        if (slash)
                *slash = '\0';
        return xstrdup(buf);
}

int engine_open(const char *root, struct engine **ret, struct error *err)
{
        struct engine *e;
        struct store *s;
        int r = store_open(root, &s, err);

        if (r < 0)
                return r;
        e = xzalloc(sizeof(*e));
        e->store = s;
        e->root = xstrdup(store_root(s));
        e->containers_dir = engine_path(e, "containers");
        e->volumes_dir = engine_path(e, "volumes");
        e->run_dir = engine_path(e, "run");
        e->self_dir = self_dir();
        for (char **d = &e->containers_dir; d <= &e->run_dir; d++)
                if (mkdir(*d, 0700) < 0 && errno != EEXIST) {
                        r = error_set(err, errno, "create `%s`", *d);
                        engine_close(e);
                        return r;
                }
        *ret = e;
        return 0;
}

void engine_close(struct engine *e)
{
        if (!e)
                return;
        store_close(e->store);
        free(e->root);
        free(e->containers_dir);
        free(e->volumes_dir);
        free(e->run_dir);
        free(e->self_dir);
        free(e);
}

struct store *engine_store(struct engine *e)
{
        return e->store;
}

void container_clear(struct container *c)
{
        free(c->id);
        free(c->name);
        free(c->image_id);
        free(c->image);
        free(c->created);
        free(c->runtime);
        free(c->dir);
        json_object_put(c->config);
        json_object_put(c->status);
        json_object_put(c->network);
        *c = (struct container) {};
}

void containers_free(struct container *v, size_t n)
{
        for (size_t i = 0; i < n; i++)
                container_clear(&v[i]);
        free(v);
}

/* ---- cgroups ---------------------------------------------------------- */

/* A cgroup of its own at the root of each hierarchy, "/berth-ID", rather
 * than below a shared "/berth": delete removes all of it, and nothing is
 * left on the host when the last container goes. */
char *container_cgroup(const struct container *c)
{
        return xasprintf("/berth-%s", c->id);
}

bool cgroup2_only(void)
{
        return access("/sys/fs/cgroup/cgroup.controllers", F_OK) == 0;
}

char *container_cgroup_dir(const struct container *c, const char *controller)
{
        if (!controller || cgroup2_only())
                return xasprintf("/sys/fs/cgroup/berth-%s", c->id);
        return xasprintf("/sys/fs/cgroup/%s/berth-%s", controller, c->id);
}

/* ---- status ---------------------------------------------------------- */

json_object *engine_json_load(const char *path)
{
        _cleanup_free_ char *data = NULL;
        json_object *o = NULL;

        if (read_full_file_at(AT_FDCWD, path, 1 << 20, &data, NULL) >= 0)
                o = json_tokener_parse(data);
        if (o && !json_object_is_type(o, json_type_object)) {
                json_object_put(o);
                o = NULL;
        }
        return o;
}

void container_status_load(struct container *c)
{
        _cleanup_free_ char *path = xasprintf("%s/status.json", c->dir);

        json_object_put(c->status);
        c->status = engine_json_load(path);
        if (!c->status) {
                c->status = json_object_new_object();
                json_object_object_add(c->status, "state", json_object_new_string("created"));
        }
}

int container_status_save(const struct container *c, json_object *status, struct error *err)
{
        const char *s = json_object_to_json_string_ext(status, JSON_C_TO_STRING_PLAIN);
        _cleanup_free_ char *path = xasprintf("%s/status.json", c->dir);
        int r = write_file_atomic_at(AT_FDCWD, path, s, strlen(s), 0600);

        return r < 0 ? error_set(err, -r, "write `%s`", path) : 0;
}

static const char *status_str(const struct container *c, const char *key)
{
        json_object *v;

        return c->status && json_object_object_get_ex(c->status, key, &v) ? json_object_get_string(v) : NULL;
}

static int64_t status_int(const struct container *c, const char *key, int64_t def)
{
        json_object *v;

        return c->status && json_object_object_get_ex(c->status, key, &v) && v ? json_object_get_int64(v) : def;
}

const char *container_state(const struct container *c)
{
        const char *s = status_str(c, "state");

        return s ? s : "created";
}

int container_exit_code(const struct container *c)
{
        return (int) status_int(c, "exit_code", 0);
}

int container_pid(const struct container *c)
{
        return (int) status_int(c, "pid", 0);
}

bool container_running(const struct container *c)
{
        const char *s = container_state(c);

        return strcmp(s, "running") == 0 || strcmp(s, "paused") == 0 || strcmp(s, "restarting") == 0;
}

/* ---- locks ----------------------------------------------------------- */

int container_lock(const struct container *c, struct error *err)
{
        _cleanup_free_ char *path = xasprintf("%s/lock", c->dir);
        _cleanup_close_ int fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);

        if (fd < 0 && errno == ENOENT)
                return error_setx(err, ENOENT, "no such container: %s (it was removed)", c->name);
        if (fd < 0)
                return error_set(err, errno, "open `%s`", path);
        if (RETRY_EINTR(flock(fd, LOCK_EX)) < 0)
                return error_set(err, errno, "lock `%s`", path);
        return TAKE_FD(fd);
}

bool container_monitor_alive(const struct container *c)
{
        _cleanup_free_ char *path = xasprintf("%s/monitor.lock", c->dir);
        _cleanup_close_ int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);

        if (fd < 0)
                return false;
        return flock(fd, LOCK_SH | LOCK_NB) < 0 && errno == EWOULDBLOCK;
}

/* ---- rows ------------------------------------------------------------ */

#define CONTAINER_COLUMNS "id, name, image_id, image, created, runtime, config"

static int container_from_row(sqlite3_stmt *st, void *row, void *userdata, struct error *err)
{
        struct engine *e = userdata;
        struct container *c = row;
        const char *config = (const char *) sqlite3_column_text(st, 6);

        *c = (struct container) {
                .id = store_sql_str(st, 0),
                .name = store_sql_str(st, 1),
                .image_id = store_sql_str(st, 2),
                .image = store_sql_str(st, 3),
                .created = store_sql_str(st, 4),
                .runtime = store_sql_str(st, 5),
                .config = config ? json_tokener_parse(config) : NULL,
        };
        c->dir = xasprintf("%s/%s", e->containers_dir, c->id);
        if (!json_object_is_type(c->config, json_type_object)) {
                int r = error_setx(err, EIO, "container %s: its configuration in the database is damaged", c->name);
                container_clear(c);
                return r;
        }
        container_status_load(c);
        container_network_load(c);
        return 0;
}

static void container_clear_row(void *row)
{
        container_clear(row);
}

static int query_containers(struct engine *e, const char *where, const char *const *args, struct container **ret,
                            size_t *ret_n, struct error *err)
{
        _cleanup_free_ char *sql = xasprintf("SELECT " CONTAINER_COLUMNS " FROM containers %s ORDER BY created DESC",
                                             where);

        return store_sql_rows(e->store, sql, args, sizeof(struct container), container_from_row, container_clear_row,
                              e, (void **) ret, ret_n, err);
}

static bool is_hex_prefix(const char *s)
{
        size_t n = strlen(s);

        if (n == 0 || n > 64)
                return false;
        for (size_t i = 0; i < n; i++)
                if (!isxdigit((unsigned char) s[i]) || isupper((unsigned char) s[i]))
                        return false;
        return true;
}

int container_find(struct engine *e, const char *what, struct container *ret, struct error *err)
{
        struct container *v = NULL;
        size_t n = 0;
        int r;

        /* an exact id or name first, then an id prefix */
        r = query_containers(e, "WHERE id = ?1 OR name = ?1", (const char *[]) { what, NULL }, &v, &n, err);
        if (r >= 0 && n == 0 && is_hex_prefix(what)) {
                _cleanup_free_ char *like = xasprintf("%s%%", what);
                free(v);
                r = query_containers(e, "WHERE id LIKE ?1", (const char *[]) { like, NULL }, &v, &n, err);
        }
        if (r < 0)
                return r;
        if (n == 0)
                r = error_setx(err, ENOENT, "no such container: %s", what);
        else if (n > 1 && strcmp(v[0].id, what) != 0 && strcmp(v[0].name, what) != 0)
                r = error_setx(err, EINVAL, "container id prefix `%s` is ambiguous (%zu containers)", what, n);
        else {
                /* the id wins over a name that equals another's id */
                size_t pick = 0;
                for (size_t i = 0; i < n; i++)
                        if (strcmp(v[i].id, what) == 0)
                                pick = i;
                *ret = v[pick];
                v[pick] = (struct container) {};
        }
        containers_free(v, n);
        return r;
}

int engine_lookup(struct engine *e, const char *what, struct container *ret, struct error *err)
{
        int r = container_find(e, what, ret, err);

        if (r < 0)
                return r;
        r = engine_reconcile(e, ret, err);
        if (r < 0)
                container_clear(ret);
        return r;
}

int engine_list(struct engine *e, struct container **ret, size_t *ret_n, struct error *err)
{
        int r = query_containers(e, "", NULL, ret, ret_n, err);

        for (size_t i = 0; r >= 0 && i < *ret_n; i++)
                r = engine_reconcile(e, &(*ret)[i], err);
        if (r < 0)
                containers_free(*ret, *ret_n);
        return r;
}

int container_forget(struct engine *e, const struct container *c, struct error *err)
{
        const char *args[] = { c->id, NULL };
        int r = store_sql_begin(e->store, err);

        if (r >= 0)
                r = store_sql_run(e->store, "DELETE FROM volume_users WHERE container_id = ?1", args, err);
        if (r >= 0)
                r = store_sql_run(e->store, "DELETE FROM containers WHERE id = ?1", args, err);
        if (r >= 0)
                r = store_image_release(e->store, c->id, err);
        return store_sql_commit(e->store, r, err);
}

int engine_rename(struct engine *e, struct container *c, const char *name, struct error *err)
{
        _cleanup_strv_free_ char **taken = NULL;
        int r;

        if (!container_name_valid(name))
                return error_setx(err, EINVAL, "invalid container name \"%s\": only [a-zA-Z0-9][a-zA-Z0-9_.-] are "
                                  "allowed", name);
        r = store_sql_begin(e->store, err);
        if (r >= 0)
                r = store_sql_strv(e->store, "SELECT id FROM containers WHERE name = ?1",
                                   (const char *[]) { name, NULL }, &taken, err);
        if (r >= 0 && taken[0])
                r = error_setx(err, EEXIST, "the container name \"%s\" is already in use by container %.12s", name,
                               taken[0]);
        if (r >= 0)
                r = store_sql_run(e->store, "UPDATE containers SET name = ?1 WHERE id = ?2",
                                  (const char *[]) { name, c->id, NULL }, err);
        r = store_sql_commit(e->store, r, err);
        if (r >= 0) {
                free(c->name);
                c->name = xstrdup(name);
        }
        return r;
}

/* ---- create ---------------------------------------------------------- */

char *engine_new_id(void)
{
        uint8_t b[32];
        char *id = xmalloc(65);

        if (getrandom(b, sizeof(b), 0) != sizeof(b))
                abort();
        for (size_t i = 0; i < sizeof(b); i++)
                sprintf(id + 2 * i, "%02x", b[i]);
        return id;
}

static bool find_in_path(const char *name, char **ret)
{
        const char *path = getenv("PATH");
        _cleanup_free_ char *copy = xstrdup(path && *path ? path : DEFAULT_PATH);
        char *save = NULL;

        for (char *d = strtok_r(copy, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
                _cleanup_free_ char *p = xasprintf("%s/%s", d, name);
                if (access(p, X_OK) == 0) {
                        *ret = TAKE_PTR(p);
                        return true;
                }
        }
        return false;
}

/* The runtime RUNTIME names ("": berth-runtime, beside us or in PATH). */
static int resolve_runtime(struct engine *e, const char *runtime, char **ret, struct error *err)
{
        const char *env = getenv("BERTH_RUNTIME");

        if (!runtime || !*runtime) {
                _cleanup_free_ char *beside = xasprintf("%s/berth-runtime", e->self_dir);
                if (env && *env)
                        runtime = env;
                else if (access(beside, X_OK) == 0) {
                        *ret = TAKE_PTR(beside);
                        return 0;
                } else
                        runtime = "berth-runtime";
        }
        if (strchr(runtime, '/')) {
                if (access(runtime, X_OK) < 0)
                        return error_set(err, errno, "--runtime: `%s`", runtime);
                *ret = realpath(runtime, NULL);
                if (!*ret)
                        return error_set(err, errno, "--runtime: `%s`", runtime);
                return 0;
        }
        if (!find_in_path(runtime, ret))
                return error_setx(err, ENOENT, "--runtime: `%s` not found in PATH", runtime);
        return 0;
}

static json_object *obj_get(json_object *o, const char *key)
{
        json_object *v = NULL;

        return o && json_object_object_get_ex(o, key, &v) ? v : NULL;
}

static json_object *obj_ensure(json_object *o, const char *key, json_type type)
{
        json_object *v = obj_get(o, key);

        if (!json_object_is_type(v, type)) {
                v = type == json_type_array ? json_object_new_array() : json_object_new_object();
                json_object_object_add(o, key, v);
        }
        return v;
}

/* The image's config object (its "config"), or NULL. */
int engine_image_config(struct engine *e, const char *image_id, json_object **ret, struct error *err)
{
        _cleanup_free_ char *data = NULL;
        json_object *doc, *cfg;
        int r = store_blob_read(e->store, image_id, 16 << 20, &data, NULL, err);

        if (r < 0)
                return r;
        doc = json_tokener_parse(data);
        if (!json_object_is_type(doc, json_type_object)) {
                json_object_put(doc);
                return error_setx(err, EBADMSG, "image %.19s: its config is not a JSON object", image_id);
        }
        cfg = obj_get(doc, "config");
        *ret = cfg ? json_object_get(cfg) : NULL;
        json_object_put(doc);
        return 0;
}

static bool mount_has_target(json_object *mounts, const char *target)
{
        for (size_t i = 0; i < json_object_array_length(mounts); i++) {
                json_object *t = obj_get(json_object_array_get_idx(mounts, i), "Target");
                if (t && strcmp(json_object_get_string(t), target) == 0)
                        return true;
        }
        return false;
}

/* The image's VOLUMES as anonymous volumes, where no mount covers them. */
static void add_image_volumes(json_object *mounts, json_object *image_config)
{
        json_object *vols = obj_get(image_config, "Volumes");

        if (!json_object_is_type(vols, json_type_object))
                return;
        json_object_object_foreach(vols, target, v) {
                json_object *m;
                (void) v;
                if (mount_has_target(mounts, target))
                        continue;
                m = json_object_new_object();
                json_object_object_add(m, "Type", json_object_new_string("volume"));
                json_object_object_add(m, "Source", json_object_new_string(""));
                json_object_object_add(m, "Target", json_object_new_string(target));
                json_object_array_add(mounts, m);
        }
}

/* The image's labels under the container's own (which win), as Docker
 * shows them. */
static void add_image_labels(json_object *config, json_object *image_config)
{
        json_object *from = obj_get(image_config, "Labels"), *to;

        if (!json_object_is_type(from, json_type_object))
                return;
        to = obj_ensure(config, "Labels", json_type_object);
        json_object_object_foreach(from, k, v)
                if (!obj_get(to, k))
                        json_object_object_add(to, k, json_object_get(v));
}

/* Check the mounts; give anonymous volumes a name; make and record the
 * volumes (in the caller's transaction). */
static int prepare_mounts(struct engine *e, const char *id, json_object *mounts, char ***made, struct error *err)
{
        for (size_t i = 0; i < json_object_array_length(mounts); i++) {
                json_object *m = json_object_array_get_idx(mounts, i), *src = obj_get(m, "Source");
                const char *type = json_object_get_string(obj_get(m, "Type"));
                const char *target = json_object_get_string(obj_get(m, "Target"));
                const char *source = src ? json_object_get_string(src) : "";
                struct volume vol = {};
                struct stat st;
                bool anon;
                int r;

                if (!type || !target || target[0] != '/')
                        return error_setx(err, EINVAL, "HostConfig.Mounts[%zu]: Target must be an absolute path", i);
                if (strcmp(type, "bind") == 0) {
                        if (source[0] != '/')
                                return error_setx(err, EINVAL, "invalid mount %s: the host path must be absolute",
                                                  target);
                        if (stat(source, &st) < 0)
                                return error_set(err, errno, "bind source path `%s`", source);
                        continue;
                }
                if (strcmp(type, "volume") != 0)
                        continue;
                anon = !*source;
                if (anon) {
                        _cleanup_free_ char *name = engine_new_id();
                        json_object_object_add(m, "Source", json_object_new_string(name));
                        source = json_object_get_string(obj_get(m, "Source"));
                }
                r = volume_get(e, source, &vol, NULL);
                volume_clear(&vol);
                if (r == -ENOENT) {
                        r = volume_insert(e, source, NULL, anon, err);
                        if (r >= 0)
                                strv_push(made, xstrdup(source));
                } else if (r < 0)
                        r = volume_get(e, source, &vol, err);
                if (r < 0)
                        return r;
                r = volume_use(e, source, id, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int insert_row(struct engine *e, const struct container *c, json_object *mounts, char ***made,
                      struct error *err)
{
        _cleanup_strv_free_ char **taken = NULL;
        const char *config = json_object_to_json_string_ext(c->config, JSON_C_TO_STRING_PLAIN);
        int r = store_sql_begin(e->store, err);

        if (r >= 0 && strcmp(json_object_get_string(obj_get(obj_get(c->config, "HostConfig"), "UsernsMode")) ?: "",
                             "auto") == 0)
                r = userns_pick(e, obj_get(c->config, "HostConfig"), err);
        if (r >= 0)
                r = store_sql_strv(e->store, "SELECT id FROM containers WHERE name = ?1",
                                   (const char *[]) { c->name, NULL }, &taken, err);
        if (r >= 0 && taken[0])
                r = error_setx(err, EEXIST,
                               "the container name \"%s\" is already in use by container %s (remove or rename that "
                               "container to reuse the name)", c->name, taken[0]);
        if (r >= 0)
                r = store_sql_run(e->store, "INSERT INTO containers (" CONTAINER_COLUMNS ") VALUES (?1, ?2, ?3, ?4, "
                                  "?5, ?6, ?7)",
                                  (const char *[]) { c->id, c->name, c->image_id, c->image, c->created, c->runtime,
                                                     config, NULL },
                                  err);
        if (r >= 0)
                r = store_image_use(e->store, c->id, c->image_id, err);
        if (r >= 0)
                r = container_endpoints_create(e, c, err);
        if (r >= 0)
                r = prepare_mounts(e, c->id, mounts, made, err);
        if (r >= 0) {
                /* the mounts got names: store them so */
                config = json_object_to_json_string_ext(c->config, JSON_C_TO_STRING_PLAIN);
                r = store_sql_run(e->store, "UPDATE containers SET config = ?1 WHERE id = ?2",
                                  (const char *[]) { config, c->id, NULL }, err);
        }
        return store_sql_commit(e->store, r, err);
}

int engine_create(struct engine *e, json_object *create, const char *name, struct container *ret,
                  struct error *err)
{
        _cleanup_(container_clear) struct container c = { .config = create };
        _cleanup_strv_free_ char **made = xzalloc(sizeof(char *));
        json_object *config = obj_ensure(create, "Config", json_type_object);
        json_object *host = obj_ensure(create, "HostConfig", json_type_object);
        json_object *image_config = NULL, *mounts, *rt = obj_get(host, "Runtime");
        struct store_image img = {};
        const char *image = json_object_get_string(obj_get(config, "Image"));
        json_object *status;
        int r;

        if (!image || !*image)
                return error_setx(err, EINVAL, "no image given");
        if (name && !container_name_valid(name))
                return error_setx(err, EINVAL, "invalid container name \"%s\": only [a-zA-Z0-9][a-zA-Z0-9_.-] are "
                                  "allowed", name);
        r = image_lookup(e->store, image, &img, NULL, err);
        if (r == -ENOENT) {
                error_clear(err);
                r = error_setx(err, ENOENT, "unable to find image '%s' locally (berth pull %s)", image, image);
        }
        if (r < 0)
                return r;
        c.image_id = xstrdup(img.id);
        store_image_clear(&img);
        c.image = xstrdup(image);
        {
                struct userns_range u;
                const char *mode = json_object_get_string(obj_get(host, "UsernsMode"));
                if ((!mode || strcmp(mode, "auto") != 0) && container_userns(&c, &u) < 0)
                        return error_setx(err, EINVAL, "invalid --userns \"%s\": expected host, auto or "
                                          "UID:HOSTUID:COUNT", json_object_get_string(obj_get(host, "UsernsMode")));
        }
        r = resolve_runtime(e, rt ? json_object_get_string(rt) : NULL, &c.runtime, err);
        if (r < 0)
                return r;
        r = engine_image_config(e, c.image_id, &image_config, err);
        if (r < 0)
                return r;
        mounts = obj_ensure(host, "Mounts", json_type_array);
        add_image_volumes(mounts, image_config);
        add_image_labels(config, image_config);
        json_object_put(image_config);

        c.id = engine_new_id();
        c.name = name ? xstrdup(name) : container_name_generate(e);
        c.created = time_now_rfc3339();
        c.dir = xasprintf("%s/%s", e->containers_dir, c.id);
        if (mkdir(c.dir, 0700) < 0)
                return error_set(err, errno, "create `%s`", c.dir);
        status = json_object_new_object();
        json_object_object_add(status, "state", json_object_new_string("created"));
        r = container_status_save(&c, status, err);
        json_object_put(status);
        if (r >= 0)
                r = insert_row(e, &c, mounts, &made, err);
        if (r < 0) {
                /* nothing stays: the directory and the volumes made for it */
                _cleanup_close_ int dfd = open(e->containers_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (dfd >= 0)
                        (void) rm_rf_at(dfd, c.id);
                for (char **v = made; *v; v++)
                        volume_dir_remove(e, *v);
                return r;
        }
        container_status_load(&c);
        *ret = c;
        c = (struct container) {};
        return 0;
}
