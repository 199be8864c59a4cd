/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Shared by ocispec.c, parse.c, passwd.c and seccomp-default.c; nothing
 * outside them includes this. */

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "engine/ocispec.h"

/* ---- JSON access that tolerates NULL objects and wrong types ---- */

static inline json_object *jobj_get(json_object *o, const char *key)
{
        json_object *v = NULL;

        if (!o || !json_object_is_type(o, json_type_object) || !json_object_object_get_ex(o, key, &v))
                return NULL;
        return v;
}

/* A string member, NULL when absent or not a string. */
static inline const char *jobj_str(json_object *o, const char *key)
{
        json_object *v = jobj_get(o, key);

        return json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

static inline bool jobj_bool(json_object *o, const char *key)
{
        json_object *v = jobj_get(o, key);

        return json_object_is_type(v, json_type_boolean) && json_object_get_boolean(v);
}

static inline int64_t jobj_int64(json_object *o, const char *key)
{
        json_object *v = jobj_get(o, key);

        return json_object_is_type(v, json_type_int) ? json_object_get_int64(v) : 0;
}

static inline void jobj_add_str(json_object *o, const char *key, const char *s)
{
        json_object_object_add(o, key, json_object_new_string(s));
}

static inline void jobj_add_int(json_object *o, const char *key, int64_t v)
{
        json_object_object_add(o, key, json_object_new_int64(v));
}

static inline void jarr_add_str(json_object *a, const char *s)
{
        json_object_array_add(a, json_object_new_string(s));
}

static inline bool streq(const char *a, const char *b)
{
        return a && b && strcmp(a, b) == 0;
}

/* ---- parse.c ---- */

/* Docker's RAMInBytes ("12", "1.5g", "64MiB"...) without error text:
 * -EINVAL or -ERANGE. */
int parse_size(const char *s, int64_t *ret);
/* The CPUs this process may run on (Go's runtime.NumCPU()), at least 1. */
int host_cpu_count(void);
/* Lexically clean an absolute path ("/a//b/./c/../" → "/a/b"); NULL when
 * P is not absolute. */
char *path_clean(const char *p);

/* ---- passwd.c ---- */

/* A process identity resolved in a root file system. */
struct ocispec_user {
        uint32_t uid, gid;
        uint32_t *gids;  /* supplementary groups: those of /etc/group listing the name */
        size_t n_gids;
        char *home;      /* from /etc/passwd, NULL without an entry */
};

/* Resolve USER ("", "name", "uid", "name:group", "uid:gid"; "" is root)
 * in /etc/passwd and /etc/group of ROOTFS_FD, runc's rules: a numeric
 * user needs no entry, a name does ("unable to find user NAME: no
 * matching entries in passwd file"), an explicit group replaces the
 * supplementary groups.  The files are opened with chase_open(), so a
 * symlink cannot lead out of the root; a FIFO or directory in their place
 * is an error, not a hang. */
int ocispec_user_resolve(int rootfs_fd, const char *user, struct ocispec_user *ret, struct error *err);
void ocispec_user_clear(struct ocispec_user *u);

/* ---- seccomp-default.c ---- */

/* Turn the text of a seccomp profile (OCI's linux.seccomp or Docker's
 * format: "archMap", "name", "includes"/"excludes" by caps, arches and
 * minKernel) into an OCI linux.seccomp object for a process with CAPS.
 * Errors say what is wrong ("syscalls[3].action: unknown action ..."). */
int ocispec_seccomp_from_text(const char *text, const char *const *caps, size_t n_caps, json_object **ret,
                              struct error *err);
