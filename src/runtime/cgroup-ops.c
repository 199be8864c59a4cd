/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Operations on a running container's cgroup: freeze, list, signal. */
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <time.h>

#include "basic/fileio.h"
#include "runtime/cgroup-internal.h"
#include "runtime/cgroup.h"

#define FREEZE_TIMEOUT_MS 10000

/* The v1 freezer when mounted, else cgroup2's core cgroup.freeze (Linux
 * 5.2), which also serves hybrid hosts without a v1 freezer. */
static char *freezer_dir(const struct cgroup_hierarchies *hs, const char *path, bool *ret_v2)
{
        char *dir = cgroup_controller_dir(hs, path, CGC_FREEZER, ret_v2);

        if (dir && !*ret_v2)
                return dir;
        free(dir);
        if (hs->v2 < 0)
                return NULL;
        *ret_v2 = true;
        return cgroup_hierarchy_dir(&hs->h[hs->v2], path);
}

/* First line of DIR/FILE without its newline, or the line starting with
 * KEY (cgroup.events) when KEY is given. */
static int read_state(const char *dir, const char *file, const char *key, char **ret)
{
        _cleanup_free_ char *text = NULL;
        char *line, *save = NULL;
        int r = cgroup_read(dir, file, &text);

        if (r < 0)
                return r;
        for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
                if (!key || (strncmp(line, key, strlen(key)) == 0 && line[strlen(key)] == ' ')) {
                        *ret = xstrdup(key ? line + strlen(key) + 1 : line);
                        return 0;
                }
        *ret = xstrdup("");
        return 0;
}

static int freeze_v1(const char *dir, bool freeze, struct error *err)
{
        const char *want = freeze ? "FROZEN" : "THAWED";
        unsigned waited = 0, delay = 1;

        for (unsigned i = 0;; i++) {
                _cleanup_free_ char *state = NULL;
                int r;

                /* re-asserted now and then: FREEZING can stall on tasks in
                 * uninterruptible sleep, a new write retries them */
                if (i % 16 == 0 && cgroup_write(dir, "freezer.state", want, NULL, err) < 0)
                        return error_ret(err);
                r = read_state(dir, "freezer.state", NULL, &state);
                if (r < 0)
                        return error_set(err, r, "read `%s/freezer.state`", dir);
                if (strcmp(state, want) == 0)
                        return 0;
                if (waited >= FREEZE_TIMEOUT_MS)
                        break;
                cgroup_sleep_ms(delay);
                waited += delay;
                delay = delay < 16 ? delay * 2 : 16;
        }
        if (freeze)
                (void) cgroup_write(dir, "freezer.state", "THAWED", NULL, NULL);
        return error_setx(err, ETIMEDOUT, "%s cgroup `%s`: not %s after %u ms", freeze ? "freeze" : "thaw", dir, want,
                          (unsigned) FREEZE_TIMEOUT_MS);
}

static int freeze_v2(const char *dir, bool freeze, struct error *err)
{
        const char *want = freeze ? "1" : "0";
        unsigned waited = 0, delay = 1;

        if (cgroup_write(dir, "cgroup.freeze", want, NULL, err) < 0)
                return error_ret(err);
        for (;;) {
                _cleanup_free_ char *state = NULL;
                int r = read_state(dir, "cgroup.events", "frozen", &state);

                if (r < 0)
                        return error_set(err, r, "read `%s/cgroup.events`", dir);
                if (strcmp(state, want) == 0)
                        return 0;
                if (waited >= FREEZE_TIMEOUT_MS)
                        break;
                cgroup_sleep_ms(delay);
                waited += delay;
                delay = delay < 16 ? delay * 2 : 16;
        }
        if (freeze)
                (void) cgroup_write(dir, "cgroup.freeze", "0", NULL, NULL);
        return error_setx(err, ETIMEDOUT, "%s cgroup `%s`: cgroup.events never said frozen %s", freeze ? "freeze" : "thaw",
                          dir, want);
}

int cgroup_freeze(const char *path, bool freeze, struct error *err)
{
        CGROUP_ERR_LOCAL(err);
        const struct cgroup_hierarchies *hs = cgroup_hierarchies_for(path, err);
        _cleanup_free_ char *dir = NULL;
        bool v2 = false;

        if (!hs)
                return error_ret(err);
        dir = freezer_dir(hs, path, &v2);
        if (!dir)
                return error_setx(err, ENODEV, "%s cgroup `%s`: no freezer available", freeze ? "freeze" : "thaw", path);
        return v2 ? freeze_v2(dir, freeze, err) : freeze_v1(dir, freeze, err);
}

int cgroup_is_frozen(const char *path)
{
        const struct cgroup_hierarchies *hs = cgroup_hierarchies_for(path, NULL);
        _cleanup_free_ char *dir = NULL, *state = NULL;
        bool v2 = false;
        int r;

        if (!hs)
                return -EINVAL;
        dir = freezer_dir(hs, path, &v2);
        if (!dir)
                return -ENODEV;
        r = v2 ? read_state(dir, "cgroup.events", "frozen", &state) : read_state(dir, "freezer.state", NULL, &state);
        if (r < 0)
                return r;
        return strcmp(state, v2 ? "1" : "FROZEN") == 0;
}

/* Any hierarchy has every process; prefer v1 ones that are always there. */
static char *pids_dir(const struct cgroup_hierarchies *hs, const char *path)
{
        static const enum cgroup_controller prefer[] = { CGC_FREEZER, CGC_PIDS, CGC_MEMORY, CGC_CPU };

        for (size_t i = 0; i < ELEMENTSOF(prefer); i++) {
                int h = hs->by_controller[prefer[i]];

                if (h >= 0 && !hs->h[h].v2)
                        return cgroup_hierarchy_dir(&hs->h[h], path);
        }
        if (hs->v2 >= 0)
                return cgroup_hierarchy_dir(&hs->h[hs->v2], path);
        return hs->n ? cgroup_hierarchy_dir(&hs->h[0], path) : NULL;
}

struct pid_list {
        pid_t *pids;
        size_t n, cap;
};

static void pid_list_add(struct pid_list *l, pid_t pid)
{
        if (l->n == l->cap) {
                l->cap = l->cap ? l->cap * 2 : 32;
                l->pids = xrealloc(l->pids, l->cap * sizeof(pid_t));
        }
        l->pids[l->n++] = pid;
}

/* cgroup.procs of DIR, then of every descendant.  A descendant that
 * vanishes meanwhile is no error; TOP missing is. */
static int collect_pids(const char *dir, bool top, struct pid_list *l, struct error *err)
{
        _cleanup_free_ char *text = NULL;
        char *save = NULL;
        struct dirent *de;
        DIR *d;
        int r = cgroup_read(dir, "cgroup.procs", &text);

        if (r < 0)
                return r == -ENOENT && !top ? 0 : error_set(err, r, "read `%s/cgroup.procs`", dir);
        for (char *t = strtok_r(text, "\n", &save); t; t = strtok_r(NULL, "\n", &save)) {
                int64_t v;

                if (parse_int64(t, &v) >= 0 && v > 0)
                        pid_list_add(l, (pid_t) v);
        }
        d = opendir(dir);
        if (!d)
                return errno == ENOENT && !top ? 0 : error_set(err, errno, "open cgroup `%s`", dir);
        r = 0;
        while (r >= 0 && (de = readdir(d))) {
                _cleanup_free_ char *sub = NULL;

                if (de->d_type != DT_DIR || strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                        continue;
                sub = xasprintf("%s/%s", dir, de->d_name);
                r = collect_pids(sub, false, l, err);
        }
        closedir(d);
        return r;
}

int cgroup_pids(const char *path, pid_t **ret, size_t *ret_n, struct error *err)
{
        CGROUP_ERR_LOCAL(err);
        const struct cgroup_hierarchies *hs = cgroup_hierarchies_for(path, err);
        _cleanup_free_ char *dir = NULL;
        struct pid_list l = { 0 };

        if (!hs)
                return error_ret(err);
        dir = pids_dir(hs, path);
        if (!dir)
                return error_setx(err, ENODEV, "list the pids of cgroup `%s`: no hierarchy", path);
        if (collect_pids(dir, true, &l, err) < 0) {
                free(l.pids);
                return error_ret(err);
        }
        *ret = l.pids ? l.pids : xzalloc(sizeof(pid_t));
        *ret_n = l.n;
        return 0;
}

/* cgroup.kill (Linux 5.14) kills the whole subtree atomically, forks
 * included; -ENOENT when unavailable. */
static int kill_v2(const struct cgroup_hierarchies *hs, const char *path)
{
        _cleanup_free_ char *dir = NULL;

        if (hs->v2 < 0)
                return -ENOENT;
        dir = cgroup_hierarchy_dir(&hs->h[hs->v2], path);
        return cgroup_write(dir, "cgroup.kill", "1", NULL, NULL);
}

int cgroup_kill_all(const char *path, int sig, struct error *err)
{
        CGROUP_ERR_LOCAL(err);
        const struct cgroup_hierarchies *hs = cgroup_hierarchies_for(path, err);
        _cleanup_free_ pid_t *pids = NULL;
        size_t n = 0;
        bool was_frozen, froze;
        int r = 0;

        if (!hs)
                return error_ret(err);
        if (sig == SIGKILL && kill_v2(hs, path) >= 0)
                return 0;
        /* frozen, nothing can fork a child we would miss */
        was_frozen = cgroup_is_frozen(path) == 1;
        froze = was_frozen || cgroup_freeze(path, true, NULL) >= 0;
        if (cgroup_pids(path, &pids, &n, err) < 0)
                r = error_ret(err);
        for (size_t i = 0; r >= 0 && i < n; i++)
                if (kill(pids[i], sig) < 0 && errno != ESRCH)
                        r = error_set(err, errno, "send signal %d to pid %d", sig, (int) pids[i]);
        /* a paused container stays paused, unless it must die: v1 frozen
         * tasks act on SIGKILL only once thawed */
        if (froze && (!was_frozen || sig == SIGKILL))
                (void) cgroup_freeze(path, false, NULL);
        return r;
}
