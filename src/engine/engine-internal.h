/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "engine/engine.h"
#include "image/store-internal.h"

struct engine {
        struct store *store;
        char *root;
        char *containers_dir, *volumes_dir, *run_dir;
        char *self_dir;
};

/* KEY of object O (NULL when O is not an object or has no KEY), and the
 * same when it is a string. */
static inline json_object *jget(json_object *o, const char *key)
{
        json_object *v = NULL;

        return o && json_object_object_get_ex(o, key, &v) ? v : NULL;
}

static inline const char *jstr(json_object *o, const char *key)
{
        json_object *v = jget(o, key);

        return v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

/* containers.c */
/* The JSON object in file PATH; NULL when it is missing or not an object. */
json_object *engine_json_load(const char *path);
/* Load C's status.json into C->status ({"state": "created"} when missing). */
void container_status_load(struct container *c);
/* Write STATUS as C's status.json (atomically). */
int container_status_save(const struct container *c, json_object *status, struct error *err);
/* Take C's lock (DIR/lock, LOCK_EX, waiting): the fd, or -errno with ERR. */
int container_lock(const struct container *c, struct error *err);
/* Is C's monitor alive (someone holds DIR/monitor.lock)? */
bool container_monitor_alive(const struct container *c);
/* Delete C's rows (and image use) in one transaction. */
int container_forget(struct engine *e, const struct container *c, struct error *err);
/* Find by exact id, name or unique prefix, without reconciling. */
int container_find(struct engine *e, const char *what, struct container *ret, struct error *err);

/* names.c: a free "adjective_noun" name. */
char *container_name_generate(struct engine *e);
bool container_name_valid(const char *name);

/* The image's OCI config object ("config"; *RET NULL when it has none). */
int engine_image_config(struct engine *e, const char *image_id, json_object **ret, struct error *err);

/* reconcile.c: C's monitor died (or the host rebooted) while its status
 * says it runs: clean up after it and record an exit with unknown code. */
int engine_reconcile(struct engine *e, struct container *c, struct error *err);
/* The same, with C's lock held by the caller. */
int container_reconcile_locked(struct engine *e, struct container *c, struct error *err);
/* The runtime's state, mounts and status of a stopped container: runtime
 * delete --force, unmount its rootfs.  Errors are ignored (best effort,
 * idempotent). */
void container_teardown(struct engine *e, const struct container *c);

/* lifecycle.c: mount C's root file system at DIR/rootfs (the image's
 * layers under DIR/diff) unless it is mounted; with C's lock held. */
int container_mount_rootfs(struct engine *e, const struct container *c, struct error *err);
/* lifecycle.c: run the OCI runtime for C with ARGS (after the global
 * options), stdio /dev/null, its stderr's last line into ERR on failure.
 * Returns its exit status (>= 0) or -errno. */
int engine_runtime_run(struct engine *e, const struct container *c, const char *const *args, struct error *err);
/* Send one message to C's monitor and, when WANT is not 0, wait for a
 * reply of type WANT (or MON_ERROR). */
int monitor_request(struct engine *e, const struct container *c, char type, const char *payload, char want,
                    struct error *err);

/* volumes.c: a volume's row (in the caller's transaction) and its
 * directories; volume_dir_remove() undoes the directories. */
int volume_insert(struct engine *e, const char *name, json_object *labels, bool anonymous, struct error *err);
void volume_dir_remove(struct engine *e, const char *name);
/* volumes.c: record that C uses volume NAME / the volumes of C. */
int volume_use(struct engine *e, const char *name, const char *container_id, struct error *err);
/* Copy the image content at PATH (in ROOTFS_FD) into the empty volume DIR. */
int volume_populate(int rootfs_fd, const char *path, const char *dir, struct error *err);
/* Remove C's anonymous volumes that nobody else uses. */
int volume_remove_anonymous(struct engine *e, const struct container *c, struct error *err);

/* userns.c: a container's user namespace: CONTAINER ids map to HOST… */
struct userns_range {
        uint32_t container, host, count;
};
/* C's range: 1 (*RET filled), 0 (no user namespace) or -EINVAL. */
int container_userns(const struct container *c, struct userns_range *ret);
/* --userns auto: a free range, as HOST's "UsernsRange" (in the caller's
 * transaction). */
int userns_pick(struct engine *e, json_object *host, struct error *err);
/* A user namespace with that mapping (an fd), for idmapped mounts. */
int userns_open(const struct userns_range *u, struct error *err);
/* Search permission for the container's root on the way to its files;
 * its writable layer's root owned by it. */
int userns_prepare_dirs(struct engine *e, const struct container *c, const struct userns_range *u,
                        struct error *err);

/* C's cgroupsPath ("/berth-ID"); its directory in CONTROLLER's v1
 * hierarchy, or the v2 one when the host has only cgroup2 (or CONTROLLER
 * is NULL); malloc'd. */
char *container_cgroup(const struct container *c);
char *container_cgroup_dir(const struct container *c, const char *controller);
bool cgroup2_only(void);

/* A new random id: 64 hex characters. */
char *engine_new_id(void);

/* Paths: malloc'd. */
char *engine_path(const struct engine *e, const char *fmt, ...) _printf_(2, 3);
