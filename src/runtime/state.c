/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <ctype.h>
#include <inttypes.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <time.h>

#include "basic/fileio.h"
#include "runtime/cgroup.h"
#include "runtime/state.h"

static const char *const status_names[_STATUS_MAX] = {
        [STATUS_CREATING] = "creating",
        [STATUS_CREATED] = "created",
        [STATUS_RUNNING] = "running",
        [STATUS_PAUSED] = "paused",
        [STATUS_STOPPED] = "stopped",
};

const char *container_status_to_string(enum container_status s)
{
        return s >= 0 && s < _STATUS_MAX ? status_names[s] : "unknown";
}

static enum container_status status_from_string(const char *s)
{
        for (int i = 0; i < _STATUS_MAX; i++)
                if (s && strcmp(s, status_names[i]) == 0)
                        return i;
        return _STATUS_INVALID;
}

/* runc's rule ([A-Za-z0-9_+.-]+), which clients already live with: no
 * '/', no whitespace or control characters, nothing a path could abuse. */
int state_validate_id(const char *id, struct error *err)
{
        size_t len = id ? strlen(id) : 0;

        if (len == 0)
                return error_setx(err, EINVAL, "container id cannot be empty");
        if (len > 1024)
                return error_setx(err, EINVAL, "invalid container id: longer than 1024 bytes");
        if (strcmp(id, ".") == 0 || strcmp(id, "..") == 0)
                return error_setx(err, EINVAL, "invalid container id `%s`", id);
        for (const unsigned char *p = (const unsigned char *) id; *p; p++) {
                if (isalnum(*p) || strchr("_+.-", *p))
                        continue;
                if (*p == '/')
                        return error_setx(err, EINVAL, "invalid container id: it contains `/`");
                if (*p == '\n')
                        return error_setx(err, EINVAL, "invalid container id: it contains a newline");
                return error_setx(err, EINVAL, "invalid container id: `%c` is not allowed (use letters, digits, _ + . -)",
                                  isprint(*p) ? *p : '?');
        }
        return 0;
}

int state_open_root(const char *root, struct error *err)
{
        int fd;

        fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd >= 0)
                return fd;
        if (errno != ENOENT)
                return error_set(err, errno, "open runtime root `%s`", root);
        {
                /* mkdir -p with 0700 for the last component */
                _cleanup_free_ char *copy = xstrdup(root);
                for (char *p = copy + 1; *p; p++) {
                        if (*p != '/')
                                continue;
                        *p = 0;
                        if (mkdir(copy, 0755) < 0 && errno != EEXIST)
                                return error_set(err, errno, "mkdir `%s`", copy);
                        *p = '/';
                }
                if (mkdir(root, 0700) < 0 && errno != EEXIST)
                        return error_set(err, errno, "mkdir runtime root `%s`", root);
        }
        fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return error_set(err, errno, "open runtime root `%s`", root);
        return fd;
}

static void json_add_str(struct json_object *o, const char *k, const char *v)
{
        json_object_object_add(o, k, json_object_new_string(v ? v : ""));
}

static struct json_object *annotations_to_json(const struct state *st)
{
        struct json_object *a = json_object_new_object();
        for (size_t i = 0; i < st->n_annotations; i++)
                json_add_str(a, st->annotations[i].key, st->annotations[i].value);
        return a;
}

/* The records of a state dir (state.json, config.json) are attributes of
 * the directory where they fit: each new file costs ext4 an inode, found
 * by a scan past the recently deleted ones.  Larger ones, and all of them
 * where attributes are refused, are files of that name. */
#define RECORD_XATTR_PREFIX "user.berth."
/* ext4 keeps a value of up to a block outside the inode */
#define RECORD_XATTR_MAX 3584

static void record_xattr_name(char *buf, size_t size, const char *file)
{
        (void) snprintf(buf, size, RECORD_XATTR_PREFIX "%.*s", (int) strcspn(file, "."), file);
}

/* Write record FILE; ATOMIC: replace an existing one so that readers see
 * the old or the new, else create it anew.  0 or -errno. */
static int record_write(int dirfd, const char *file, const char *data, size_t len, bool atomic)
{
        char name[64];

        record_xattr_name(name, sizeof(name), file);
        if (len <= RECORD_XATTR_MAX && fsetxattr(dirfd, name, data, len, atomic ? 0 : XATTR_CREATE) == 0)
                return 0;
        /* a file from now on: no stale attribute may shadow it */
        (void) fremovexattr(dirfd, name);
        return atomic ? write_file_atomic_at(dirfd, file, data, len, 0600)
                      : write_file_new_at(dirfd, file, data, len, 0600);
}

/* Read record FILE, malloc'd and NUL-terminated; -ENOENT when there is
 * none. */
static int record_read(int dirfd, const char *file, size_t max, char **ret, size_t *ret_len)
{
        char name[64], buf[RECORD_XATTR_MAX + 1];
        ssize_t n;

        record_xattr_name(name, sizeof(name), file);
        n = fgetxattr(dirfd, name, buf, sizeof(buf) - 1);
        if (n < 0)
                return read_full_file_at(dirfd, file, max, ret, ret_len);
        *ret = xmalloc((size_t) n + 1);
        memcpy(*ret, buf, (size_t) n);
        (*ret)[n] = 0;
        if (ret_len)
                *ret_len = (size_t) n;
        return 0;
}

int state_config_write(int dirfd, const char *raw, size_t len)
{
        return record_write(dirfd, "config.json", raw, len, false);
}

int state_config_read(int dirfd, char **ret, size_t *ret_len)
{
        return record_read(dirfd, "config.json", STATE_CONFIG_MAX, ret, ret_len);
}

int state_write(int dirfd, const struct state *st, enum container_status status, struct error *err)
{
        struct json_object *o = json_object_new_object();
        const char *s;
        int r;

        json_add_str(o, "id", st->id);
        json_object_object_add(o, "pid", json_object_new_int(st->pid));
        json_object_object_add(o, "pid_start", json_object_new_uint64(st->pid_start));
        json_add_str(o, "status", container_status_to_string(status));
        json_add_str(o, "bundle", st->bundle);
        json_add_str(o, "rootfs", st->rootfs);
        json_add_str(o, "created", st->created);
        json_add_str(o, "owner", st->owner);
        json_add_str(o, "cgroup_path", st->cgroup_path);
        json_object_object_add(o, "systemd_cgroup", json_object_new_boolean(st->systemd_cgroup));
        json_object_object_add(o, "has_pidns", json_object_new_boolean(st->has_pidns));
        json_object_object_add(o, "terminal", json_object_new_boolean(st->use_terminal));
        json_object_object_add(o, "poststart_hooks", json_object_new_boolean(st->poststart_hooks));
        json_object_object_add(o, "poststop_hooks", json_object_new_boolean(st->poststop_hooks));
        json_object_object_add(o, "annotations", annotations_to_json(st));
        s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
        r = record_write(dirfd, "state.json", s, strlen(s), true);
        json_object_put(o);
        if (r < 0)
                return error_set(err, -r, "write `state.json`");
        return 0;
}

static char *get_str(struct json_object *o, const char *k)
{
        struct json_object *v;
        if (!json_object_object_get_ex(o, k, &v) || !json_object_is_type(v, json_type_string))
                return NULL;
        return xstrdup(json_object_get_string(v));
}

static bool get_bool(struct json_object *o, const char *k)
{
        struct json_object *v;
        return json_object_object_get_ex(o, k, &v) && json_object_get_boolean(v);
}

int state_read(int dirfd, struct state **ret, struct error *err)
{
        _cleanup_free_ char *data = NULL;
        struct json_object *o, *v;
        struct state *st;
        int r;

        r = record_read(dirfd, "state.json", 16 << 20, &data, NULL);
        if (r == -ENOENT)
                return r;
        if (r < 0)
                return error_set(err, -r, "read `state.json`");
        o = json_tokener_parse(data);
        if (!o || !json_object_is_type(o, json_type_object)) {
                json_object_put(o);
                return error_setx(err, EINVAL, "`state.json` is corrupt");
        }
        st = xzalloc(sizeof(*st));
        st->id = get_str(o, "id");
        if (json_object_object_get_ex(o, "pid", &v))
                st->pid = json_object_get_int(v);
        if (json_object_object_get_ex(o, "pid_start", &v))
                st->pid_start = json_object_get_uint64(v);
        {
                _cleanup_free_ char *s = get_str(o, "status");
                st->recorded = status_from_string(s);
                if (st->recorded < 0)
                        st->recorded = STATUS_STOPPED;
        }
        st->bundle = get_str(o, "bundle");
        st->rootfs = get_str(o, "rootfs");
        st->created = get_str(o, "created");
        st->owner = get_str(o, "owner");
        st->cgroup_path = get_str(o, "cgroup_path");
        st->systemd_cgroup = get_bool(o, "systemd_cgroup");
        st->has_pidns = get_bool(o, "has_pidns");
        st->use_terminal = get_bool(o, "terminal");
        st->poststart_hooks = get_bool(o, "poststart_hooks");
        st->poststop_hooks = get_bool(o, "poststop_hooks");
        if (json_object_object_get_ex(o, "annotations", &v) && json_object_is_type(v, json_type_object)) {
                size_t n = json_object_object_length(v), i = 0;
                st->annotations = xzalloc(sizeof(struct spec_kv) * (n ? n : 1));
                json_object_object_foreach(v, key, val)
                {
                        st->annotations[i].key = xstrdup(key);
                        st->annotations[i].value = xstrdup(json_object_get_string(val));
                        i++;
                }
                st->n_annotations = i;
        }
        json_object_put(o);
        *ret = st;
        return 0;
}

void state_free(struct state *st)
{
        if (!st)
                return;
        free(st->id);
        free(st->bundle);
        free(st->rootfs);
        free(st->created);
        free(st->owner);
        free(st->cgroup_path);
        for (size_t i = 0; i < st->n_annotations; i++) {
                free(st->annotations[i].key);
                free(st->annotations[i].value);
        }
        free(st->annotations);
        free(st);
}

uint64_t proc_start_time(pid_t pid)
{
        char path[64], buf[1024];
        _cleanup_close_ int fd = -EBADF;
        ssize_t n;
        char *p;
        unsigned long long start = 0;

        snprintf(path, sizeof(path), "/proc/%d/stat", (int) pid);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return 0;
        n = read(fd, buf, sizeof(buf) - 1);
        if (n <= 0)
                return 0;
        buf[n] = 0;
        /* comm may hold spaces and parentheses: skip to the last ')' */
        p = strrchr(buf, ')');
        if (!p)
                return 0;
        /* fields after comm: state(3) ... starttime(22) */
        if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %*d %*d %llu",
                   &start) != 1)
                return 0;
        if (p[2] == 'Z' || p[2] == 'X')
                return 0; /* a zombie is as good as gone */
        return start;
}

bool proc_alive(pid_t pid, uint64_t start)
{
        uint64_t now;

        if (pid <= 0)
                return false;
        now = proc_start_time(pid);
        return now != 0 && (start == 0 || now == start);
}

enum container_status state_current_status(const struct state *st)
{
        if (st->recorded == STATUS_STOPPED)
                return STATUS_STOPPED;
        if (st->pid <= 0)
                return st->recorded == STATUS_CREATING ? STATUS_CREATING : STATUS_STOPPED;
        if (!proc_alive(st->pid, st->pid_start))
                return STATUS_STOPPED;
        if (st->recorded == STATUS_CREATED || st->recorded == STATUS_CREATING)
                return st->recorded;
        if (st->cgroup_path && cgroup_is_frozen(st->cgroup_path) > 0)
                return STATUS_PAUSED;
        return STATUS_RUNNING;
}

char *state_to_oci_json(const struct state *st, enum container_status s, bool pretty)
{
        struct json_object *o = json_object_new_object();
        char *r;

        json_add_str(o, "ociVersion", OCI_SPEC_VERSION);
        json_add_str(o, "id", st->id);
        json_object_object_add(o, "pid", json_object_new_int(s == STATUS_STOPPED ? 0 : st->pid));
        json_add_str(o, "status", container_status_to_string(s));
        json_add_str(o, "bundle", st->bundle);
        json_add_str(o, "rootfs", st->rootfs);
        json_add_str(o, "created", st->created);
        json_add_str(o, "owner", st->owner);
        if (st->n_annotations > 0)
                json_object_object_add(o, "annotations", annotations_to_json(st));
        r = xstrdup(json_object_to_json_string_ext(o, pretty ? JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE
                                                                : JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
        json_object_put(o);
        return r;
}

