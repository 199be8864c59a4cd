/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "basic/fileio.h"
#include "engine/engine-internal.h"
#include "engine/ocispec.h"

/* --userns auto: 65536 ids per container from here on, as Docker's
 * userns-remap and Podman's auto mode hand out. */
#define USERNS_AUTO_BASE 100000U
#define USERNS_AUTO_SIZE 65536U
#define USERNS_AUTO_SLOTS 1000U

int container_userns(const struct container *c, struct userns_range *ret)
{
        json_object *host = jget(c->config, "HostConfig"), *range = jget(host, "UsernsRange");
        const char *mode = json_object_get_string(jget(host, "UsernsMode"));
        uint32_t v[3];

        *ret = (struct userns_range) {};
        if (!mode || !*mode || strcmp(mode, "host") == 0)
                return 0;
        if (strcmp(mode, "auto") == 0) {
                ret->host = (uint32_t) json_object_get_int64(jget(range, "HostID"));
                ret->count = (uint32_t) json_object_get_int64(jget(range, "Size"));
                return ret->count ? 1 : -EINVAL;
        }
        if (parse_userns_mapping(mode, v) < 0)
                return -EINVAL;
        ret->container = v[0];
        ret->host = v[1];
        ret->count = v[2];
        return 1;
}

int userns_pick(struct engine *e, json_object *host, struct error *err)
{
        _cleanup_strv_free_ char **configs = NULL;
        bool *used = xzalloc(USERNS_AUTO_SLOTS * sizeof(bool));
        int r = store_sql_strv(e->store, "SELECT config FROM containers", NULL, &configs, err);

        for (size_t i = 0; r >= 0 && configs[i]; i++) {
                json_object *cfg = json_tokener_parse(configs[i]);
                json_object *range = jget(jget(cfg, "HostConfig"), "UsernsRange");
                int64_t id = range ? json_object_get_int64(jget(range, "HostID")) : 0;
                if (id >= USERNS_AUTO_BASE && (id - USERNS_AUTO_BASE) / USERNS_AUTO_SIZE < USERNS_AUTO_SLOTS)
                        used[(id - USERNS_AUTO_BASE) / USERNS_AUTO_SIZE] = true;
                json_object_put(cfg);
        }
        for (unsigned k = 0; r >= 0; k++) {
                json_object *range;
                if (k == USERNS_AUTO_SLOTS) {
                        r = error_setx(err, ENOSPC, "--userns auto: all %u id ranges are in use", USERNS_AUTO_SLOTS);
                        break;
                }
                if (used[k])
                        continue;
                range = json_object_new_object();
                json_object_object_add(range, "HostID", json_object_new_int64(USERNS_AUTO_BASE + (int64_t) k *
                                                                                                 USERNS_AUTO_SIZE));
                json_object_object_add(range, "Size", json_object_new_int64(USERNS_AUTO_SIZE));
                json_object_object_add(host, "UsernsRange", range);
                break;
        }
        free(used);
        return r;
}

int userns_open(const struct userns_range *u, struct error *err)
{
        char path[64], map[96];
        int p[2], fd, r = 0;
        pid_t pid;

        if (pipe2(p, O_CLOEXEC) < 0)
                return error_set(err, errno, "pipe");
        pid = fork();
        if (pid < 0) {
                r = error_set(err, errno, "fork");
                close(p[0]);
                close(p[1]);
                return r;
        }
        if (pid == 0) {
                char c = unshare(CLONE_NEWUSER) < 0 ? 'e' : 'o';
                (void) !write(p[1], &c, 1);
                pause();
                _exit(0);
        }
        close(p[1]);
        {
                char c = 'e';
                if (read(p[0], &c, 1) != 1 || c != 'o')
                        r = error_setx(err, EPERM, "create a user namespace");
        }
        close(p[0]);
        snprintf(map, sizeof(map), "%u %u %u\n", u->container, u->host, u->count);
        for (const char *const *f = (const char *const[]) { "uid_map", "gid_map", NULL }; r >= 0 && *f; f++) {
                snprintf(path, sizeof(path), "/proc/%d/%s", (int) pid, *f);
                if (write_file_at(AT_FDCWD, path, map) < 0)
                        r = error_set(err, errno, "write `%s`", path);
        }
        fd = -EBADF;
        if (r >= 0) {
                snprintf(path, sizeof(path), "/proc/%d/ns/user", (int) pid);
                fd = open(path, O_RDONLY | O_CLOEXEC);
                if (fd < 0)
                        r = error_set(err, errno, "open `%s`", path);
        }
        kill(pid, SIGKILL);
        (void) waitpid(pid, NULL, 0);
        return r < 0 ? r : fd;
}

/* The container's root, a host id in the range, must reach its root file
 * system: search permission (no listing) on the way there. */
int userns_prepare_dirs(struct engine *e, const struct container *c, const struct userns_range *u,
                        struct error *err)
{
        const char *dirs[] = { e->root, e->containers_dir, c->dir };
        _cleanup_free_ char *upper = xasprintf("%s/diff", c->dir);
        struct stat st;

        for (size_t i = 0; i < ELEMENTSOF(dirs); i++) {
                if (stat(dirs[i], &st) < 0)
                        return error_set(err, errno, "stat `%s`", dirs[i]);
                if ((st.st_mode & 0011) != 0011 && chmod(dirs[i], (st.st_mode & 07777) | 0011) < 0)
                        return error_set(err, errno, "chmod `%s`", dirs[i]);
        }
        /* the container's root owns its writable layer's root */
        if (mkdir(upper, 0755) < 0 && errno != EEXIST)
                return error_set(err, errno, "create `%s`", upper);
        if (lstat(upper, &st) == 0 && st.st_uid == 0 && u->container == 0 &&
            chown(upper, u->host, u->host) < 0)
                return error_set(err, errno, "chown `%s`", upper);
        return 0;
}
