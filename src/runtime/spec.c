/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <sched.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "basic/fileio.h"
#include "runtime/spec.h"

/* The parser is table driven: every JSON object the spec knows is an
 * object_type listing its fields with their C member (offset and type,
 * checked at compile time), and the same tables drive freeing, so a field
 * can never be parsed but leaked.  Arrays and nested structs are attached
 * to their owner before they are filled, so the free functions clean up
 * after a failure anywhere. */

#define SPEC_MAX_SIZE (16U << 20)
#define PATH_LEN 256

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080 /* Linux 5.6; older libc headers lack it */
#endif

struct parser {
        struct error *err;
        size_t len;
        char path[PATH_LEN]; /* JSON path of the value being parsed */
};

enum field_kind {
        K_STRING,
        K_STRV,
        K_BOOL,
        K_INT32,
        K_INT64,
        K_UINT16,
        K_UINT32,
        K_UINT64,
        K_UINT32_ARRAY, /* uint32_t * plus a size_t count */
        K_STRUCT,       /* an object embedded in the owner */
        K_PTR,          /* an object allocated and pointed to */
        K_ARRAY,        /* array of objects, pointer plus count */
        K_MAP,          /* object of strings, struct spec_kv pointer plus count */
        K_OBJMAP,       /* object of objects, the key goes to object_type.key_off */
        K_CUSTOM,       /* parse() fills the owner; owns no memory */
};

struct object_type;

struct field {
        const char *key;
        enum field_kind kind;
        bool required;
        size_t off;
        size_t has_off; /* offset + 1 of a bool set when present, 0 for none */
        size_t n_off;   /* the count of arrays and maps */
        const struct object_type *type;
        int (*parse)(struct parser *p, json_object *v, void *base);
};

struct object_type {
        size_t size;
        size_t key_off; /* K_OBJMAP elements: offset + 1 of the char * taking the key */
        const struct field *fields; /* ends with a NULL key */
        /* Runs after the fields parsed; validates and fills derived members. */
        int (*check)(struct parser *p, json_object *obj, void *base);
};

/* offsetof() that fails to compile unless the member has type ctype. */
#define TYPED_OFF(st, m, ctype) (offsetof(st, m) + _Generic(((st *) 0)->m, ctype : 0))

#define SCALAR(k, kind_, st, m, ctype, ...) \
        { .key = (k), .kind = (kind_), .off = TYPED_OFF(st, m, ctype), __VA_ARGS__ }
#define F_STRING(k, st, m, ...) SCALAR(k, K_STRING, st, m, char *, __VA_ARGS__)
#define F_STRV(k, st, m, ...) SCALAR(k, K_STRV, st, m, char **, __VA_ARGS__)
#define F_BOOL(k, st, m, ...) SCALAR(k, K_BOOL, st, m, bool, __VA_ARGS__)
#define F_INT32(k, st, m, ...) SCALAR(k, K_INT32, st, m, int, __VA_ARGS__)
#define F_INT64(k, st, m, ...) SCALAR(k, K_INT64, st, m, int64_t, __VA_ARGS__)
#define F_UINT16(k, st, m, ...) SCALAR(k, K_UINT16, st, m, uint16_t, __VA_ARGS__)
#define F_UINT32(k, st, m, ...) SCALAR(k, K_UINT32, st, m, uint32_t, __VA_ARGS__)
#define F_UINT64(k, st, m, ...) SCALAR(k, K_UINT64, st, m, uint64_t, __VA_ARGS__)
#define F_UINT32_ARRAY(k, st, m, n, ...) \
        SCALAR(k, K_UINT32_ARRAY, st, m, uint32_t *, .n_off = TYPED_OFF(st, n, size_t), __VA_ARGS__)
#define F_STRUCT(k, st, m, otype, ...) \
        { .key = (k), .kind = K_STRUCT, .off = offsetof(st, m), .type = &(otype), __VA_ARGS__ }
/* Fields of a JSON sub-object stored directly in the owner (root.path). */
#define F_INLINE(k, otype, ...) { .key = (k), .kind = K_STRUCT, .off = 0, .type = &(otype), __VA_ARGS__ }
#define F_PTR(k, st, m, etype, otype, ...) \
        SCALAR(k, K_PTR, st, m, etype *, .type = &(otype), __VA_ARGS__)
#define F_ARRAY(k, st, m, n, etype, otype, ...)                                      \
        SCALAR(k, K_ARRAY, st, m, etype *, .n_off = TYPED_OFF(st, n, size_t), \
               .type = &(otype), __VA_ARGS__)
#define F_OBJMAP(k, st, m, n, etype, otype, ...)                                      \
        SCALAR(k, K_OBJMAP, st, m, etype *, .n_off = TYPED_OFF(st, n, size_t), \
               .type = &(otype), __VA_ARGS__)
#define F_MAP(k, st, m, n, ...) \
        SCALAR(k, K_MAP, st, m, struct spec_kv *, .n_off = TYPED_OFF(st, n, size_t), __VA_ARGS__)
#define F_CUSTOM(k, fn, ...) { .key = (k), .kind = K_CUSTOM, .parse = (fn), __VA_ARGS__ }
#define F_END { .key = NULL }

#define HAS(st, m) .has_off = TYPED_OFF(st, m, bool) + 1
#define REQUIRED .required = true

#define MEMBER(base, off, ctype) ((ctype *) ((char *) (base) + (off)))

/* ---- paths and errors ---- */

_printf_(2, 3) static size_t path_pushf(struct parser *p, const char *fmt, ...)
{
        size_t old = p->len;
        va_list ap;
        int n;

        va_start(ap, fmt);
        n = vsnprintf(p->path + old, sizeof(p->path) - old, fmt, ap);
        va_end(ap);
        if (n > 0)
                p->len = old + (size_t) n < sizeof(p->path) ? old + (size_t) n : sizeof(p->path) - 1;
        return old;
}

static size_t path_push_key(struct parser *p, const char *key)
{
        return path_pushf(p, "%s%s", p->len > 0 ? "." : "", key);
}

static void path_pop(struct parser *p, size_t old)
{
        p->len = old;
        p->path[old] = 0;
}

_printf_(2, 0) static int vfail(struct parser *p, const char *fmt, va_list ap)
{
        _cleanup_free_ char *m = NULL;

        if (vasprintf(&m, fmt, ap) < 0)
                oom();
        if (p->len == 0)
                return error_setx(p->err, EINVAL, "%s", m);
        return error_setx(p->err, EINVAL, "%s: %s", p->path, m);
}

/* Fail naming the current path. */
_printf_(2, 3) static int fail(struct parser *p, const char *fmt, ...)
{
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = vfail(p, fmt, ap);
        va_end(ap);
        return r;
}

/* Fail naming the member KEY of the current object. */
_printf_(3, 4) static int fail_at(struct parser *p, const char *key, const char *fmt, ...)
{
        size_t old = path_push_key(p, key);
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = vfail(p, fmt, ap);
        va_end(ap);
        path_pop(p, old);
        return r;
}

/* ---- scalars ---- */

/* A JSON string without embedded NUL bytes ("\u0000" is valid JSON). */
static int get_cstring(struct parser *p, json_object *v, const char **ret)
{
        const char *s = NULL;

        if (!json_object_is_type(v, json_type_string))
                return fail(p, "expected string");
        s = json_object_get_string(v);
        if (strlen(s) != (size_t) json_object_get_string_len(v))
                return fail(p, "string contains a NUL byte");
        *ret = s;
        return 0;
}

static int parse_string(struct parser *p, json_object *v, char **ret)
{
        const char *s = NULL;
        int r;

        r = get_cstring(p, v, &s);
        if (r < 0)
                return r;
        free(*ret);
        *ret = xstrdup(s);
        return 0;
}

static int parse_strv(struct parser *p, json_object *v, char ***ret)
{
        char **l;
        size_t n;

        if (!json_object_is_type(v, json_type_array))
                return fail(p, "expected array of strings");
        n = json_object_array_length(v);
        l = xzalloc((n + 1) * sizeof(char *));
        strv_free(*ret);
        *ret = l; /* NULL-terminated at every step: the owner can free it */
        for (size_t i = 0; i < n; i++) {
                size_t old = path_pushf(p, "[%zu]", i);
                int r = parse_string(p, json_object_array_get_idx(v, i), &l[i]);

                path_pop(p, old);
                if (r < 0)
                        return r;
        }
        return 0;
}

static const struct {
        int64_t min;
        uint64_t max;
} int_range[] = {
        [K_INT32] = { INT32_MIN, INT32_MAX },
        [K_INT64] = { INT64_MIN, INT64_MAX },
        [K_UINT16] = { 0, UINT16_MAX },
        [K_UINT32] = { 0, UINT32_MAX },
        [K_UINT64] = { 0, UINT64_MAX },
};

/* json-c keeps integers as int64 or, above INT64_MAX, uint64; literals past
 * either end saturate (json-c 0.16), so 2^64 reads as UINT64_MAX. */
static int parse_int(struct parser *p, json_object *v, enum field_kind kind, void *m)
{
        int64_t min = int_range[kind].min, i;
        uint64_t max = int_range[kind].max, u;

        if (!json_object_is_type(v, json_type_int))
                return fail(p, "expected integer between %" PRId64 " and %" PRIu64, min, max);
        i = json_object_get_int64(v);
        u = json_object_get_uint64(v);
        if (i < 0 ? i < min : u > max)
                return fail(p, "expected integer between %" PRId64 " and %" PRIu64, min, max);

        switch (kind) {
        case K_INT32:
                *(int32_t *) m = (int32_t) i;
                break;
        case K_INT64:
                *(int64_t *) m = i;
                break;
        case K_UINT16:
                *(uint16_t *) m = (uint16_t) u;
                break;
        case K_UINT32:
                *(uint32_t *) m = (uint32_t) u;
                break;
        default:
                *(uint64_t *) m = u;
                break;
        }
        return 0;
}

static int parse_uint32_array(struct parser *p, json_object *v, uint32_t **ret, size_t *ret_n)
{
        size_t n;

        if (!json_object_is_type(v, json_type_array))
                return fail(p, "expected array of integers");
        n = json_object_array_length(v);
        free(*ret);
        *ret = n > 0 ? xzalloc(n * sizeof(uint32_t)) : NULL;
        *ret_n = n;
        for (size_t i = 0; i < n; i++) {
                size_t old = path_pushf(p, "[%zu]", i);
                int r = parse_int(p, json_object_array_get_idx(v, i), K_UINT32, &(*ret)[i]);

                path_pop(p, old);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* ---- objects, arrays, maps ---- */

static int parse_object(struct parser *p, json_object *obj, const struct object_type *t, void *base);

static int parse_array(struct parser *p, json_object *v, const struct object_type *t, void **ret,
                       size_t *ret_n)
{
        char *arr;
        size_t n;

        if (!json_object_is_type(v, json_type_array))
                return fail(p, "expected array of objects");
        n = json_object_array_length(v);
        if (n == 0)
                return 0;
        /* n is bounded by the input size (one byte per element at least) */
        arr = xzalloc(n * t->size);
        *ret = arr;
        *ret_n = n;
        for (size_t i = 0; i < n; i++) {
                size_t old = path_pushf(p, "[%zu]", i);
                int r = parse_object(p, json_object_array_get_idx(v, i), t, arr + i * t->size);

                path_pop(p, old);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* Objects keyed by name: {"key": value, ...}.  T is NULL for a map of strings. */
static int parse_map(struct parser *p, json_object *v, const struct object_type *t, void **ret,
                     size_t *ret_n)
{
        size_t size = t ? t->size : sizeof(struct spec_kv), n = 0;
        char *arr;

        if (!json_object_is_type(v, json_type_object))
                return fail(p, t ? "expected object of objects" : "expected object of strings");
        if (json_object_object_length(v) == 0)
                return 0;
        arr = xzalloc((size_t) json_object_object_length(v) * size);
        *ret = arr;
        json_object_object_foreach(v, key, val) {
                void *elem = arr + n * size;
                size_t old = path_pushf(p, "[\"%s\"]", key);
                int r;

                *ret_n = ++n;
                if (t) {
                        *MEMBER(elem, t->key_off - 1, char *) = xstrdup(key);
                        r = parse_object(p, val, t, elem);
                } else {
                        struct spec_kv *kv = elem;

                        kv->key = xstrdup(key);
                        r = parse_string(p, val, &kv->value);
                }
                path_pop(p, old);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int parse_field(struct parser *p, const struct field *f, json_object *v, void *base)
{
        void *m = MEMBER(base, f->off, char);

        switch (f->kind) {
        case K_STRING:
                return parse_string(p, v, m);
        case K_STRV:
                return parse_strv(p, v, m);
        case K_BOOL:
                if (!json_object_is_type(v, json_type_boolean))
                        return fail(p, "expected boolean");
                *(bool *) m = json_object_get_boolean(v);
                return 0;
        case K_INT32:
        case K_INT64:
        case K_UINT16:
        case K_UINT32:
        case K_UINT64:
                return parse_int(p, v, f->kind, m);
        case K_UINT32_ARRAY:
                return parse_uint32_array(p, v, m, MEMBER(base, f->n_off, size_t));
        case K_STRUCT:
                return parse_object(p, v, f->type, m);
        case K_PTR:
                if (!*(void **) m)
                        *(void **) m = xzalloc(f->type->size);
                return parse_object(p, v, f->type, *(void **) m);
        case K_ARRAY:
                return parse_array(p, v, f->type, m, MEMBER(base, f->n_off, size_t));
        case K_MAP:
                return parse_map(p, v, NULL, m, MEMBER(base, f->n_off, size_t));
        case K_OBJMAP:
                return parse_map(p, v, f->type, m, MEMBER(base, f->n_off, size_t));
        case K_CUSTOM:
                return f->parse(p, v, base);
        }
        abort();
}

/* JSON null counts as absent, as it does for the Go runtimes. */
static bool has_member(json_object *obj, const char *key)
{
        json_object *v = NULL;

        return json_object_object_get_ex(obj, key, &v) && v;
}

static int parse_object(struct parser *p, json_object *obj, const struct object_type *t, void *base)
{
        if (!json_object_is_type(obj, json_type_object))
                return fail(p, "expected object");

        for (const struct field *f = t->fields; f->key; f++) {
                json_object *v = NULL;
                size_t old;
                int r;

                if (!json_object_object_get_ex(obj, f->key, &v) || !v) {
                        if (f->required)
                                return fail_at(p, f->key, "required field missing");
                        continue;
                }
                old = path_push_key(p, f->key);
                r = parse_field(p, f, v, base);
                path_pop(p, old);
                if (r < 0)
                        return r;
                if (f->has_off > 0)
                        *MEMBER(base, f->has_off - 1, bool) = true;
        }
        return t->check ? t->check(p, obj, base) : 0;
}

static void free_object(const struct object_type *t, void *base);

static void free_elements(const struct object_type *t, void *arr, size_t n)
{
        for (size_t i = 0; arr && i < n; i++) {
                void *elem = (char *) arr + i * (t ? t->size : sizeof(struct spec_kv));

                if (!t) {
                        free(((struct spec_kv *) elem)->key);
                        free(((struct spec_kv *) elem)->value);
                        continue;
                }
                if (t->key_off > 0)
                        free(*MEMBER(elem, t->key_off - 1, char *));
                free_object(t, elem);
        }
        free(arr);
}

/* Free what the tables say BASE owns; BASE itself stays. */
static void free_object(const struct object_type *t, void *base)
{
        if (!base)
                return;
        for (const struct field *f = t->fields; f->key; f++) {
                void *m = MEMBER(base, f->off, char);

                switch (f->kind) {
                case K_STRING:
                case K_UINT32_ARRAY:
                        free(*(void **) m);
                        break;
                case K_STRV:
                        strv_free(*(char ***) m);
                        break;
                case K_STRUCT:
                        free_object(f->type, m);
                        break;
                case K_PTR:
                        free_object(f->type, *(void **) m);
                        free(*(void **) m);
                        break;
                case K_ARRAY:
                case K_OBJMAP:
                        free_elements(f->type, *(void **) m, *MEMBER(base, f->n_off, size_t));
                        break;
                case K_MAP:
                        free_elements(NULL, *(void **) m, *MEMBER(base, f->n_off, size_t));
                        break;
                default:
                        break;
                }
        }
}

/* ---- name tables ---- */

struct name_num {
        const char *name;
        int num;
};

static const struct name_num rlimit_names[] = {
        { "RLIMIT_AS", RLIMIT_AS },
        { "RLIMIT_CORE", RLIMIT_CORE },
        { "RLIMIT_CPU", RLIMIT_CPU },
        { "RLIMIT_DATA", RLIMIT_DATA },
        { "RLIMIT_FSIZE", RLIMIT_FSIZE },
        { "RLIMIT_LOCKS", RLIMIT_LOCKS },
        { "RLIMIT_MEMLOCK", RLIMIT_MEMLOCK },
        { "RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE },
        { "RLIMIT_NICE", RLIMIT_NICE },
        { "RLIMIT_NOFILE", RLIMIT_NOFILE },
        { "RLIMIT_NPROC", RLIMIT_NPROC },
        { "RLIMIT_RSS", RLIMIT_RSS },
        { "RLIMIT_RTPRIO", RLIMIT_RTPRIO },
        { "RLIMIT_RTTIME", RLIMIT_RTTIME },
        { "RLIMIT_SIGPENDING", RLIMIT_SIGPENDING },
        { "RLIMIT_STACK", RLIMIT_STACK },
        { NULL, 0 },
};

/* Kernel numbers (include/uapi/linux/sched.h); SCHED_ISO is reserved and
 * rejected by sched_setattr(), but the spec lists it. */
static const struct name_num sched_policies[] = {
        { "SCHED_OTHER", 0 }, { "SCHED_FIFO", 1 }, { "SCHED_RR", 2 },       { "SCHED_BATCH", 3 },
        { "SCHED_ISO", 4 },   { "SCHED_IDLE", 5 }, { "SCHED_DEADLINE", 6 }, { NULL, 0 },
};

/* include/uapi/linux/ioprio.h */
static const struct name_num ioprio_classes[] = {
        { "IOPRIO_CLASS_RT", 1 },
        { "IOPRIO_CLASS_BE", 2 },
        { "IOPRIO_CLASS_IDLE", 3 },
        { NULL, 0 },
};

static int name_lookup(const struct name_num *t, const char *name)
{
        for (; t->name; t++)
                if (name && strcmp(t->name, name) == 0)
                        return t->num;
        return -EINVAL;
}

static bool name_in(const char *name, const char *const *list)
{
        for (; *list; list++)
                if (strcmp(name, *list) == 0)
                        return true;
        return false;
}

static const struct {
        const char *spec, *proc;
        int flag;
} ns_names[_NS_MAX] = {
        [NS_PID] = { "pid", "pid", CLONE_NEWPID },
        [NS_NET] = { "network", "net", CLONE_NEWNET },
        [NS_MNT] = { "mount", "mnt", CLONE_NEWNS },
        [NS_IPC] = { "ipc", "ipc", CLONE_NEWIPC },
        [NS_UTS] = { "uts", "uts", CLONE_NEWUTS },
        [NS_USER] = { "user", "user", CLONE_NEWUSER },
        [NS_CGROUP] = { "cgroup", "cgroup", CLONE_NEWCGROUP },
        [NS_TIME] = { "time", "time", CLONE_NEWTIME },
};

const char *ns_type_to_string(enum ns_type t)
{
        return t >= 0 && t < _NS_MAX ? ns_names[t].spec : NULL;
}

enum ns_type ns_type_from_string(const char *s)
{
        for (int t = 0; s && t < _NS_MAX; t++)
                if (strcmp(ns_names[t].spec, s) == 0)
                        return t;
        return _NS_INVALID;
}

int ns_type_to_clone_flag(enum ns_type t)
{
        return t >= 0 && t < _NS_MAX ? ns_names[t].flag : -EINVAL;
}

const char *ns_type_to_proc_name(enum ns_type t)
{
        return t >= 0 && t < _NS_MAX ? ns_names[t].proc : NULL;
}

/* ---- process ---- */

static int check_process(struct parser *p, json_object *obj, void *base)
{
        struct spec_process *proc = base;

        if (!proc->args[0])
                return fail_at(p, "args", "must not be empty");
        if (proc->cwd[0] != '/')
                return fail_at(p, "cwd", "must be an absolute path, got \"%.64s\"", proc->cwd);
        return 0;
}

static int check_rlimit(struct parser *p, json_object *obj, void *base)
{
        struct spec_rlimit *rl = base;

        rl->resource = name_lookup(rlimit_names, rl->type);
        if (rl->resource < 0)
                return fail_at(p, "type", "unknown rlimit \"%.64s\"", rl->type);
        return 0;
}

static int check_scheduler(struct parser *p, json_object *obj, void *base)
{
        struct spec_scheduler *s = base;

        s->policy_num = name_lookup(sched_policies, s->policy);
        if (s->policy_num < 0)
                return fail_at(p, "policy", "unknown scheduler policy \"%.64s\"", s->policy);
        return 0;
}

static int check_io_priority(struct parser *p, json_object *obj, void *base)
{
        struct spec_io_priority *io = base;

        io->class_num = name_lookup(ioprio_classes, io->class);
        if (io->class_num < 0)
                return fail_at(p, "class", "unknown I/O priority class \"%.64s\"", io->class);
        return 0;
}

static const struct object_type console_size_type = {
        .fields = (const struct field[]) {
                F_UINT32("height", struct spec_console_size, height),
                F_UINT32("width", struct spec_console_size, width),
                F_END,
        },
};

static const struct object_type user_type = {
        .fields = (const struct field[]) {
                F_UINT32("uid", struct spec_user, uid),
                F_UINT32("gid", struct spec_user, gid),
                F_UINT32("umask", struct spec_user, umask, HAS(struct spec_user, has_umask)),
                F_UINT32_ARRAY("additionalGids", struct spec_user, additional_gids, n_additional_gids),
                F_STRING("username", struct spec_user, username),
                F_END,
        },
};

static const struct object_type caps_type = {
        .size = sizeof(struct spec_caps),
        .fields = (const struct field[]) {
                F_STRV("bounding", struct spec_caps, bounding),
                F_STRV("effective", struct spec_caps, effective),
                F_STRV("inheritable", struct spec_caps, inheritable),
                F_STRV("permitted", struct spec_caps, permitted),
                F_STRV("ambient", struct spec_caps, ambient),
                F_END,
        },
};

static const struct object_type rlimit_type = {
        .size = sizeof(struct spec_rlimit),
        .check = check_rlimit,
        .fields = (const struct field[]) {
                F_STRING("type", struct spec_rlimit, type, REQUIRED),
                F_UINT64("soft", struct spec_rlimit, soft),
                F_UINT64("hard", struct spec_rlimit, hard),
                F_END,
        },
};

static const struct object_type scheduler_type = {
        .size = sizeof(struct spec_scheduler),
        .check = check_scheduler,
        .fields = (const struct field[]) {
                F_STRING("policy", struct spec_scheduler, policy, REQUIRED),
                F_INT32("nice", struct spec_scheduler, nice),
                F_INT32("priority", struct spec_scheduler, priority),
                F_STRV("flags", struct spec_scheduler, flags),
                F_UINT64("runtime", struct spec_scheduler, runtime),
                F_UINT64("deadline", struct spec_scheduler, deadline),
                F_UINT64("period", struct spec_scheduler, period),
                F_END,
        },
};

static const struct object_type io_priority_type = {
        .size = sizeof(struct spec_io_priority),
        .check = check_io_priority,
        .fields = (const struct field[]) {
                F_STRING("class", struct spec_io_priority, class, REQUIRED),
                F_INT32("priority", struct spec_io_priority, priority),
                F_END,
        },
};

static const struct object_type cpu_affinity_type = {
        .size = sizeof(struct spec_cpu_affinity),
        .fields = (const struct field[]) {
                F_STRING("initial", struct spec_cpu_affinity, initial),
                F_STRING("final", struct spec_cpu_affinity, final),
                F_END,
        },
};

#define P struct spec_process
static const struct object_type process_type = {
        .size = sizeof(struct spec_process),
        .check = check_process,
        .fields = (const struct field[]) {
                F_BOOL("terminal", P, terminal),
                F_STRUCT("consoleSize", P, console_size, console_size_type, HAS(P, has_console_size)),
                F_STRUCT("user", P, user, user_type),
                F_STRV("args", P, args, REQUIRED),
                F_STRING("commandLine", P, command_line),
                F_STRV("env", P, env),
                F_STRING("cwd", P, cwd, REQUIRED),
                F_PTR("capabilities", P, caps, struct spec_caps, caps_type),
                F_ARRAY("rlimits", P, rlimits, n_rlimits, struct spec_rlimit, rlimit_type),
                F_BOOL("noNewPrivileges", P, no_new_privileges),
                F_STRING("apparmorProfile", P, apparmor_profile),
                F_INT32("oomScoreAdj", P, oom_score_adj, HAS(P, has_oom_score_adj)),
                F_STRING("selinuxLabel", P, selinux_label),
                F_PTR("scheduler", P, scheduler, struct spec_scheduler, scheduler_type),
                F_PTR("ioPriority", P, io_priority, struct spec_io_priority, io_priority_type),
                F_PTR("execCPUAffinity", P, exec_cpu_affinity, struct spec_cpu_affinity, cpu_affinity_type),
                F_END,
        },
};
#undef P

/* ---- mounts, hooks, namespaces, devices ---- */

static int check_id_mapping(struct parser *p, json_object *obj, void *base)
{
        struct spec_id_mapping *m = base;

        if (m->size == 0)
                return fail_at(p, "size", "must be greater than 0");
        return 0;
}

static const struct object_type id_mapping_type = {
        .size = sizeof(struct spec_id_mapping),
        .check = check_id_mapping,
        .fields = (const struct field[]) {
                F_UINT32("containerID", struct spec_id_mapping, container_id),
                F_UINT32("hostID", struct spec_id_mapping, host_id),
                F_UINT32("size", struct spec_id_mapping, size, REQUIRED),
                F_END,
        },
};

/* Spec 1.x says destinations "should" be absolute; runc 1.1 takes a
 * relative one as relative to "/", and so do we. */
static int check_mount(struct parser *p, json_object *obj, void *base)
{
        struct spec_mount *m = base;

        if (m->destination[0] == 0)
                return fail_at(p, "destination", "must not be empty");
        if (m->destination[0] != '/') {
                char *d = xasprintf("/%s", m->destination);

                free(m->destination);
                m->destination = d;
        }
        return 0;
}

static const struct object_type mount_type = {
        .size = sizeof(struct spec_mount),
        .check = check_mount,
        .fields = (const struct field[]) {
                F_STRING("destination", struct spec_mount, destination, REQUIRED),
                F_STRING("type", struct spec_mount, type),
                F_STRING("source", struct spec_mount, source),
                F_STRV("options", struct spec_mount, options),
                F_ARRAY("uidMappings", struct spec_mount, uid_mappings, n_uid_mappings,
                        struct spec_id_mapping, id_mapping_type),
                F_ARRAY("gidMappings", struct spec_mount, gid_mappings, n_gid_mappings,
                        struct spec_id_mapping, id_mapping_type),
                F_END,
        },
};

static int check_hook(struct parser *p, json_object *obj, void *base)
{
        struct spec_hook *h = base;

        if (h->path[0] != '/')
                return fail_at(p, "path", "must be an absolute path, got \"%.64s\"", h->path);
        if (h->has_timeout && h->timeout <= 0)
                return fail_at(p, "timeout", "must be greater than 0");
        return 0;
}

static const struct object_type hook_type = {
        .size = sizeof(struct spec_hook),
        .check = check_hook,
        .fields = (const struct field[]) {
                F_STRING("path", struct spec_hook, path, REQUIRED),
                F_STRV("args", struct spec_hook, args),
                F_STRV("env", struct spec_hook, env),
                F_INT32("timeout", struct spec_hook, timeout, HAS(struct spec_hook, has_timeout)),
                F_END,
        },
};

#define HOOK_ARRAY(k, kind) \
        F_ARRAY(k, struct spec_hooks, list[kind], n[kind], struct spec_hook, hook_type)
static const struct object_type hooks_type = {
        .fields = (const struct field[]) {
                HOOK_ARRAY("prestart", SPEC_HOOK_PRESTART),
                HOOK_ARRAY("createRuntime", SPEC_HOOK_CREATE_RUNTIME),
                HOOK_ARRAY("createContainer", SPEC_HOOK_CREATE_CONTAINER),
                HOOK_ARRAY("startContainer", SPEC_HOOK_START_CONTAINER),
                HOOK_ARRAY("poststart", SPEC_HOOK_POSTSTART),
                HOOK_ARRAY("poststop", SPEC_HOOK_POSTSTOP),
                F_END,
        },
};
#undef HOOK_ARRAY

static int parse_ns_type(struct parser *p, json_object *v, void *base)
{
        struct spec_namespace *ns = base;
        const char *s = NULL;
        int r;

        r = get_cstring(p, v, &s);
        if (r < 0)
                return r;
        ns->type = ns_type_from_string(s);
        if (ns->type < 0)
                return fail(p, "unknown namespace type \"%.64s\"", s);
        return 0;
}

static int check_namespace(struct parser *p, json_object *obj, void *base)
{
        struct spec_namespace *ns = base;

        if (ns->path && ns->path[0] != '/')
                return fail_at(p, "path", "must be an absolute path, got \"%.64s\"", ns->path);
        return 0;
}

static const struct object_type namespace_type = {
        .size = sizeof(struct spec_namespace),
        .check = check_namespace,
        .fields = (const struct field[]) {
                F_CUSTOM("type", parse_ns_type, REQUIRED),
                F_STRING("path", struct spec_namespace, path),
                F_END,
        },
};

/* A one-letter string from ALLOWED. */
static int parse_type_char(struct parser *p, json_object *v, const char *allowed, char *ret)
{
        const char *s = NULL;
        int r;

        r = get_cstring(p, v, &s);
        if (r < 0)
                return r;
        if (s[0] == 0 || s[1] != 0 || !strchr(allowed, s[0]))
                return fail(p, "unknown device type \"%.64s\"", s);
        *ret = s[0];
        return 0;
}

static int parse_device_type(struct parser *p, json_object *v, void *base)
{
        return parse_type_char(p, v, "cbup", &((struct spec_device *) base)->type);
}

static int check_device(struct parser *p, json_object *obj, void *base)
{
        struct spec_device *d = base;

        if (d->path[0] != '/')
                return fail_at(p, "path", "must be an absolute path, got \"%.64s\"", d->path);
        if (d->type == 'p')
                return 0;
        /* major and minor are required except for FIFOs */
        if (!has_member(obj, "major"))
                return fail_at(p, "major", "required field missing");
        if (!has_member(obj, "minor"))
                return fail_at(p, "minor", "required field missing");
        return 0;
}

#define D struct spec_device
static const struct object_type device_type = {
        .size = sizeof(struct spec_device),
        .check = check_device,
        .fields = (const struct field[]) {
                F_STRING("path", D, path, REQUIRED),
                F_CUSTOM("type", parse_device_type, REQUIRED),
                F_INT64("major", D, major),
                F_INT64("minor", D, minor),
                F_UINT32("fileMode", D, file_mode, HAS(D, has_file_mode)),
                F_UINT32("uid", D, uid, HAS(D, has_uid)),
                F_UINT32("gid", D, gid, HAS(D, has_gid)),
                F_END,
        },
};
#undef D

/* ---- resources ---- */

static int parse_cgroup_device_type(struct parser *p, json_object *v, void *base)
{
        return parse_type_char(p, v, "acb", &((struct spec_device_cgroup *) base)->type);
}

static int check_device_cgroup(struct parser *p, json_object *obj, void *base)
{
        struct spec_device_cgroup *d = base;

        if (d->type == 0)
                d->type = 'a';
        if (d->access && d->access[strspn(d->access, "rwm")] != 0)
                return fail_at(p, "access", "expected a combination of \"r\", \"w\" and \"m\", got \"%.64s\"",
                               d->access);
        return 0;
}

#define DC struct spec_device_cgroup
static const struct object_type device_cgroup_type = {
        .size = sizeof(struct spec_device_cgroup),
        .check = check_device_cgroup,
        .fields = (const struct field[]) {
                F_BOOL("allow", DC, allow, REQUIRED),
                F_CUSTOM("type", parse_cgroup_device_type),
                F_INT64("major", DC, major, HAS(DC, has_major)),
                F_INT64("minor", DC, minor, HAS(DC, has_minor)),
                F_STRING("access", DC, access),
                F_END,
        },
};
#undef DC

#define R struct spec_resources
static const struct object_type memory_type = {
        .fields = (const struct field[]) {
                F_INT64("limit", R, memory.limit, HAS(R, memory.has_limit)),
                F_INT64("reservation", R, memory.reservation, HAS(R, memory.has_reservation)),
                F_INT64("swap", R, memory.swap, HAS(R, memory.has_swap)),
                F_INT64("kernel", R, memory.kernel, HAS(R, memory.has_kernel)),
                F_INT64("kernelTCP", R, memory.kernel_tcp, HAS(R, memory.has_kernel_tcp)),
                F_UINT64("swappiness", R, memory.swappiness, HAS(R, memory.has_swappiness)),
                F_BOOL("disableOOMKiller", R, memory.disable_oom_killer,
                       HAS(R, memory.has_disable_oom_killer)),
                F_BOOL("useHierarchy", R, memory.use_hierarchy, HAS(R, memory.has_use_hierarchy)),
                F_BOOL("checkBeforeUpdate", R, memory.check_before_update),
                F_END,
        },
};

static const struct object_type cpu_type = {
        .fields = (const struct field[]) {
                F_UINT64("shares", R, cpu.shares, HAS(R, cpu.has_shares)),
                F_INT64("quota", R, cpu.quota, HAS(R, cpu.has_quota)),
                F_UINT64("burst", R, cpu.burst, HAS(R, cpu.has_burst)),
                F_UINT64("period", R, cpu.period, HAS(R, cpu.has_period)),
                F_INT64("realtimeRuntime", R, cpu.realtime_runtime, HAS(R, cpu.has_realtime_runtime)),
                F_UINT64("realtimePeriod", R, cpu.realtime_period, HAS(R, cpu.has_realtime_period)),
                F_STRING("cpus", R, cpu.cpus),
                F_STRING("mems", R, cpu.mems),
                F_INT64("idle", R, cpu.idle, HAS(R, cpu.has_idle)),
                F_END,
        },
};

static const struct object_type pids_type = {
        .fields = (const struct field[]) {
                F_INT64("limit", R, pids_limit, HAS(R, has_pids_limit)),
                F_END,
        },
};

static const struct object_type weight_device_type = {
        .size = sizeof(struct spec_weight_device),
        .fields = (const struct field[]) {
                F_INT64("major", struct spec_weight_device, major, REQUIRED),
                F_INT64("minor", struct spec_weight_device, minor, REQUIRED),
                F_UINT16("weight", struct spec_weight_device, weight,
                         HAS(struct spec_weight_device, has_weight)),
                F_UINT16("leafWeight", struct spec_weight_device, leaf_weight,
                         HAS(struct spec_weight_device, has_leaf_weight)),
                F_END,
        },
};

static const struct object_type throttle_device_type = {
        .size = sizeof(struct spec_throttle_device),
        .fields = (const struct field[]) {
                F_INT64("major", struct spec_throttle_device, major, REQUIRED),
                F_INT64("minor", struct spec_throttle_device, minor, REQUIRED),
                F_UINT64("rate", struct spec_throttle_device, rate, REQUIRED),
                F_END,
        },
};

#define THROTTLE(k, m) \
        F_ARRAY(k, R, block_io.m, block_io.n_##m, struct spec_throttle_device, throttle_device_type)
static const struct object_type block_io_type = {
        .fields = (const struct field[]) {
                F_UINT16("weight", R, block_io.weight, HAS(R, block_io.has_weight)),
                F_UINT16("leafWeight", R, block_io.leaf_weight, HAS(R, block_io.has_leaf_weight)),
                F_ARRAY("weightDevice", R, block_io.weight_device, block_io.n_weight_device,
                        struct spec_weight_device, weight_device_type),
                THROTTLE("throttleReadBpsDevice", throttle_read_bps),
                THROTTLE("throttleWriteBpsDevice", throttle_write_bps),
                THROTTLE("throttleReadIOPSDevice", throttle_read_iops),
                THROTTLE("throttleWriteIOPSDevice", throttle_write_iops),
                F_END,
        },
};
#undef THROTTLE

static const struct object_type hugepage_limit_type = {
        .size = sizeof(struct spec_hugepage_limit),
        .fields = (const struct field[]) {
                F_STRING("pageSize", struct spec_hugepage_limit, page_size, REQUIRED),
                F_UINT64("limit", struct spec_hugepage_limit, limit, REQUIRED),
                F_END,
        },
};

static const struct object_type net_priority_type = {
        .size = sizeof(struct spec_net_priority),
        .fields = (const struct field[]) {
                F_STRING("name", struct spec_net_priority, name, REQUIRED),
                F_UINT32("priority", struct spec_net_priority, priority, REQUIRED),
                F_END,
        },
};

static const struct object_type network_type = {
        .fields = (const struct field[]) {
                F_UINT32("classID", R, network.class_id, HAS(R, network.has_class_id)),
                F_ARRAY("priorities", R, network.priorities, network.n_priorities,
                        struct spec_net_priority, net_priority_type),
                F_END,
        },
};

static const struct object_type rdma_type = {
        .size = sizeof(struct spec_rdma),
        .key_off = TYPED_OFF(struct spec_rdma, device, char *) + 1,
        .fields = (const struct field[]) {
                F_UINT32("hcaHandles", struct spec_rdma, hca_handles, HAS(struct spec_rdma, has_hca_handles)),
                F_UINT32("hcaObjects", struct spec_rdma, hca_objects, HAS(struct spec_rdma, has_hca_objects)),
                F_END,
        },
};

static const struct object_type resources_type = {
        .size = sizeof(struct spec_resources),
        .fields = (const struct field[]) {
                F_ARRAY("devices", R, devices, n_devices, struct spec_device_cgroup, device_cgroup_type),
                F_INLINE("memory", memory_type, HAS(R, has_memory)),
                F_INLINE("cpu", cpu_type, HAS(R, has_cpu)),
                F_INLINE("pids", pids_type),
                F_INLINE("blockIO", block_io_type, HAS(R, has_block_io)),
                F_ARRAY("hugepageLimits", R, hugepage_limits, n_hugepage_limits,
                        struct spec_hugepage_limit, hugepage_limit_type),
                F_INLINE("network", network_type, HAS(R, has_network)),
                F_OBJMAP("rdma", R, rdma, n_rdma, struct spec_rdma, rdma_type),
                F_MAP("unified", R, unified, n_unified),
                F_END,
        },
};
#undef R

/* ---- seccomp ---- */

static const struct object_type seccomp_arg_type = {
        .size = sizeof(struct spec_seccomp_arg),
        .fields = (const struct field[]) {
                F_UINT32("index", struct spec_seccomp_arg, index, REQUIRED),
                F_UINT64("value", struct spec_seccomp_arg, value, REQUIRED),
                F_UINT64("valueTwo", struct spec_seccomp_arg, value_two),
                F_STRING("op", struct spec_seccomp_arg, op, REQUIRED),
                F_END,
        },
};

#define SC struct spec_seccomp_syscall
static const struct object_type seccomp_syscall_type = {
        .size = sizeof(struct spec_seccomp_syscall),
        .fields = (const struct field[]) {
                F_STRV("names", SC, names, REQUIRED),
                F_STRING("action", SC, action, REQUIRED),
                F_UINT32("errnoRet", SC, errno_ret, HAS(SC, has_errno_ret)),
                F_ARRAY("args", SC, args, n_args, struct spec_seccomp_arg, seccomp_arg_type),
                F_END,
        },
};
#undef SC

#define S struct spec_seccomp
static const struct object_type seccomp_type = {
        .size = sizeof(struct spec_seccomp),
        .fields = (const struct field[]) {
                F_STRING("defaultAction", S, default_action, REQUIRED),
                F_UINT32("defaultErrnoRet", S, default_errno_ret, HAS(S, has_default_errno_ret)),
                F_STRV("architectures", S, architectures),
                F_STRV("flags", S, flags),
                F_STRING("listenerPath", S, listener_path),
                F_STRING("listenerMetadata", S, listener_metadata),
                F_ARRAY("syscalls", S, syscalls, n_syscalls, struct spec_seccomp_syscall, seccomp_syscall_type),
                F_END,
        },
};
#undef S

/* ---- linux ---- */

static int check_time_offset(struct parser *p, json_object *obj, void *base)
{
        static const char *const clocks[] = { "monotonic", "boottime", NULL };
        struct spec_time_offset *t = base;

        if (!name_in(t->clock, clocks))
                return fail(p, "unknown clock, expected \"monotonic\" or \"boottime\"");
        if (t->nanosecs >= 1000000000)
                return fail_at(p, "nanosecs", "must be less than 1000000000");
        return 0;
}

static const struct object_type time_offset_type = {
        .size = sizeof(struct spec_time_offset),
        .key_off = TYPED_OFF(struct spec_time_offset, clock, char *) + 1,
        .check = check_time_offset,
        .fields = (const struct field[]) {
                F_INT64("secs", struct spec_time_offset, secs),
                F_UINT32("nanosecs", struct spec_time_offset, nanosecs),
                F_END,
        },
};

static int check_linux(struct parser *p, json_object *obj, void *base)
{
        static const char *const propagations[] = { "private", "rprivate", "slave", "rslave", "shared",
                                                    "rshared", "unbindable", "runbindable", NULL };
        static const char *const domains[] = { "LINUX", "LINUX32", NULL };
        struct spec_linux *l = base;
        unsigned seen = 0;

        for (size_t i = 0; i < l->n_namespaces; i++) {
                enum ns_type t = l->namespaces[i].type;

                if (seen & (1U << t)) {
                        size_t old = path_pushf(p, ".namespaces[%zu]", i);
                        int r = fail_at(p, "type", "duplicate namespace type \"%s\"", ns_type_to_string(t));

                        path_pop(p, old);
                        return r;
                }
                seen |= 1U << t;
        }
        if (l->rootfs_propagation && l->rootfs_propagation[0] &&
            !name_in(l->rootfs_propagation, propagations))
                return fail_at(p, "rootfsPropagation", "unknown propagation \"%.64s\"", l->rootfs_propagation);
        if (l->personality_domain && !name_in(l->personality_domain, domains))
                return fail_at(p, "personality.domain", "unknown personality \"%.64s\"", l->personality_domain);
        return 0;
}

#define L struct spec_linux
static const struct object_type intel_rdt_type = {
        .fields = (const struct field[]) {
                F_STRING("closID", L, intel_rdt_clos_id),
                F_END,
        },
};

static const struct object_type personality_type = {
        .fields = (const struct field[]) {
                F_STRING("domain", L, personality_domain, REQUIRED),
                F_END,
        },
};

static const struct object_type linux_type = {
        .check = check_linux,
        .fields = (const struct field[]) {
                F_ARRAY("namespaces", L, namespaces, n_namespaces, struct spec_namespace, namespace_type),
                F_ARRAY("uidMappings", L, uid_mappings, n_uid_mappings, struct spec_id_mapping, id_mapping_type),
                F_ARRAY("gidMappings", L, gid_mappings, n_gid_mappings, struct spec_id_mapping, id_mapping_type),
                F_OBJMAP("timeOffsets", L, time_offsets, n_time_offsets, struct spec_time_offset, time_offset_type),
                F_ARRAY("devices", L, devices, n_devices, struct spec_device, device_type),
                F_STRING("cgroupsPath", L, cgroups_path),
                F_PTR("resources", L, resources, struct spec_resources, resources_type),
                F_MAP("sysctl", L, sysctl, n_sysctl),
                F_PTR("seccomp", L, seccomp, struct spec_seccomp, seccomp_type),
                F_STRING("rootfsPropagation", L, rootfs_propagation),
                F_STRV("maskedPaths", L, masked_paths),
                F_STRV("readonlyPaths", L, readonly_paths),
                F_STRING("mountLabel", L, mount_label),
                F_INLINE("intelRdt", intel_rdt_type),
                F_INLINE("personality", personality_type),
                F_END,
        },
};
#undef L

/* ---- the config ---- */

static int check_root(struct parser *p, json_object *obj, void *base)
{
        struct spec *s = base;

        if (s->root_path[0] == 0)
                return fail_at(p, "path", "must not be empty");
        return 0;
}

static const struct object_type root_type = {
        .check = check_root,
        .fields = (const struct field[]) {
                F_STRING("path", struct spec, root_path, REQUIRED),
                F_BOOL("readonly", struct spec, root_readonly),
                F_END,
        },
};

static const struct object_type spec_type = {
        .size = sizeof(struct spec),
        .fields = (const struct field[]) {
                F_STRING("ociVersion", struct spec, oci_version),
                F_PTR("process", struct spec, process, struct spec_process, process_type, REQUIRED),
                F_INLINE("root", root_type, REQUIRED),
                F_STRING("hostname", struct spec, hostname),
                F_STRING("domainname", struct spec, domainname),
                F_ARRAY("mounts", struct spec, mounts, n_mounts, struct spec_mount, mount_type),
                F_STRUCT("hooks", struct spec, hooks, hooks_type),
                F_MAP("annotations", struct spec, annotations, n_annotations),
                F_STRUCT("linux", struct spec, linux_, linux_type),
                F_END,
        },
};

static void json_tokener_freep(struct json_tokener **tok)
{
        if (*tok)
                json_tokener_free(*tok);
}

static void json_object_putp(json_object **obj)
{
        (void) json_object_put(*obj);
}

static int json_error(const char *data, size_t end, const char *what, struct error *err)
{
        unsigned line = 1, col = 1;

        for (size_t i = 0; i < end; i++, col++)
                if (data[i] == '\n') {
                        line++;
                        col = 0;
                }
        return error_setx(err, EINVAL, "invalid JSON at line %u, column %u (offset %zu): %s", line, col,
                          end, what);
}

/* Parse DATA as one JSON value, nothing but whitespace after it. */
static int parse_json(const char *data, size_t len, json_object **ret, struct error *err)
{
        _cleanup_(json_tokener_freep) struct json_tokener *tok = NULL;
        _cleanup_(json_object_putp) json_object *obj = NULL;
        enum json_tokener_error e;
        size_t end;

        if (len > SPEC_MAX_SIZE)
                return error_setx(err, EFBIG, "JSON document larger than %u bytes", SPEC_MAX_SIZE);
        if (!data)
                data = "";
        tok = json_tokener_new();
        if (!tok)
                oom();
        json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
        obj = json_tokener_parse_ex(tok, data, (int) len);
        e = json_tokener_get_error(tok);
        end = json_tokener_get_parse_end(tok);
        if (e == json_tokener_continue) {
                /* a NUL byte marks the end: completes a bare top-level
                 * literal ("null", "1"), fails on a truncated document */
                obj = json_tokener_parse_ex(tok, "", 1);
                e = json_tokener_get_error(tok);
        }
        if (e != json_tokener_success)
                return json_error(data, end, json_tokener_error_desc(e), err);
        while (end < len && (data[end] == ' ' || data[end] == '\t' || data[end] == '\n' || data[end] == '\r'))
                end++;
        if (end < len)
                return json_error(data, end, "trailing data after the JSON value", err);
        *ret = TAKE_PTR(obj);
        return 0;
}

/* Parse a document whose top level is an object of type T into BASE; ROOT
 * names it in error messages. */
static int parse_document(const char *data, size_t len, const char *root, const struct object_type *t,
                          void *base, struct error *err)
{
        _cleanup_(json_object_putp) json_object *obj = NULL;
        struct parser p = { .err = err };
        int r;

        r = parse_json(data, len, &obj, err);
        if (r < 0)
                return r;
        (void) path_pushf(&p, "%s", root);
        return parse_object(&p, obj, t, base);
}

int spec_parse(const char *data, size_t len, struct spec **ret, struct error *err)
{
        _cleanup_(spec_freep) struct spec *s = xzalloc(sizeof(struct spec));
        int r;

        r = parse_document(data, len, "", &spec_type, s, err);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(s);
        return 0;
}

int spec_load(int bundle_fd, struct spec **ret, struct error *err)
{
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ char *data = NULL;
        struct stat st;
        size_t len;
        int r;

        /* O_NONBLOCK: a FIFO planted as config.json must not hang us */
        fd = openat(bundle_fd, "config.json", O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0)
                return error_set(err, errno, "open `config.json`");
        if (fstat(fd, &st) < 0)
                return error_set(err, errno, "stat `config.json`");
        if (!S_ISREG(st.st_mode))
                return error_setx(err, EINVAL, "`config.json` is not a regular file");
        r = read_full_fd(fd, SPEC_MAX_SIZE, &data, &len);
        if (r == -EFBIG)
                return error_setx(err, EFBIG, "read `config.json`: larger than %u bytes", SPEC_MAX_SIZE);
        if (r < 0)
                return error_set(err, r, "read `config.json`");
        r = spec_parse(data, len, ret, err);
        if (r < 0)
                return error_prefix(err, "config.json");
        return 0;
}

int spec_parse_process(const char *data, size_t len, struct spec_process **ret, struct error *err)
{
        struct spec_process *proc = xzalloc(sizeof(struct spec_process));
        int r;

        r = parse_document(data, len, "process", &process_type, proc, err);
        if (r < 0) {
                spec_process_free(proc);
                return r;
        }
        *ret = proc;
        return 0;
}

int spec_parse_resources(const char *data, size_t len, struct spec_resources **ret, struct error *err)
{
        struct spec_resources *res = xzalloc(sizeof(struct spec_resources));
        int r;

        r = parse_document(data, len, "resources", &resources_type, res, err);
        if (r < 0) {
                spec_resources_free(res);
                return r;
        }
        *ret = res;
        return 0;
}

void spec_free(struct spec *s)
{
        free_object(&spec_type, s);
        free(s);
}

void spec_process_free(struct spec_process *p)
{
        free_object(&process_type, p);
        free(p);
}

void spec_resources_free(struct spec_resources *r)
{
        free_object(&resources_type, r);
        free(r);
}

const struct spec_namespace *spec_find_namespace(const struct spec *s, enum ns_type t)
{
        for (size_t i = 0; i < s->linux_.n_namespaces; i++)
                if (s->linux_.namespaces[i].type == t)
                        return &s->linux_.namespaces[i];
        return NULL;
}

const char *spec_annotation(const struct spec *s, const char *key)
{
        for (size_t i = 0; i < s->n_annotations; i++)
                if (strcmp(s->annotations[i].key, key) == 0)
                        return s->annotations[i].value;
        return NULL;
}
