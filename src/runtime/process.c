/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <linux/sched.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "basic/fileio.h"
#include "runtime/process.h"
#include "runtime/security.h"

#ifndef CLOSE_RANGE_UNSHARE
#define CLOSE_RANGE_UNSHARE (1U << 1)
#endif

static int parse_cpu_list(const char *s, cpu_set_t *set)
{
        CPU_ZERO(set);
        while (*s) {
                char *end;
                unsigned long a = strtoul(s, &end, 10), b;

                if (end == s)
                        return -EINVAL;
                b = a;
                if (*end == '-') {
                        s = end + 1;
                        b = strtoul(s, &end, 10);
                        if (end == s || b < a)
                                return -EINVAL;
                }
                if (b >= CPU_SETSIZE)
                        return -EINVAL;
                for (unsigned long c = a; c <= b; c++)
                        CPU_SET(c, set);
                s = end;
                if (*s == ',')
                        s++;
                else if (*s)
                        return -EINVAL;
        }
        return 0;
}

static int set_affinity(const char *list, const char *field, struct error *err)
{
        cpu_set_t set;

        if (!list || !*list)
                return 0;
        if (parse_cpu_list(list, &set) < 0)
                return error_setx(err, EINVAL, "%s: invalid cpu list `%s`", field, list);
        if (sched_setaffinity(0, sizeof(set), &set) < 0)
                return error_set(err, errno, "%s: sched_setaffinity", field);
        return 0;
}

struct sched_attr_v1 {
        uint32_t size, sched_policy;
        uint64_t sched_flags;
        int32_t sched_nice;
        uint32_t sched_priority;
        uint64_t sched_runtime, sched_deadline, sched_period;
};

static int set_scheduler(const struct spec_scheduler *sc, struct error *err)
{
        struct sched_attr_v1 a = { .size = sizeof(a) };

        a.sched_policy = sc->policy_num;
        a.sched_nice = sc->nice;
        a.sched_priority = sc->priority;
        a.sched_runtime = sc->runtime;
        a.sched_deadline = sc->deadline;
        a.sched_period = sc->period;
        for (char **f = sc->flags; f && *f; f++) {
                static const struct { const char *n; uint64_t v; } map[] = {
                        { "SCHED_FLAG_RESET_ON_FORK", 0x01 }, { "SCHED_FLAG_RECLAIM", 0x02 },
                        { "SCHED_FLAG_DL_OVERRUN", 0x04 },    { "SCHED_FLAG_KEEP_POLICY", 0x08 },
                        { "SCHED_FLAG_KEEP_PARAMS", 0x10 },   { "SCHED_FLAG_UTIL_CLAMP_MIN", 0x20 },
                        { "SCHED_FLAG_UTIL_CLAMP_MAX", 0x40 },
                };
                size_t i;
                for (i = 0; i < ELEMENTSOF(map); i++)
                        if (strcmp(*f, map[i].n) == 0)
                                break;
                if (i == ELEMENTSOF(map))
                        return error_setx(err, EINVAL, "process.scheduler.flags: unknown flag `%s`", *f);
                a.sched_flags |= map[i].v;
        }
        if (syscall(SYS_sched_setattr, 0, &a, 0) < 0)
                return error_set(err, errno, "process.scheduler: sched_setattr");
        return 0;
}

int process_setup_limits(const struct spec_process *p, struct error *err)
{
        int r;

        for (size_t i = 0; i < p->n_rlimits; i++) {
                struct rlimit rl = { .rlim_cur = p->rlimits[i].soft, .rlim_max = p->rlimits[i].hard };
                if (setrlimit(p->rlimits[i].resource, &rl) < 0)
                        return error_set(err, errno, "process.rlimits[%zu]: setrlimit %s", i, p->rlimits[i].type);
        }
        if (p->has_oom_score_adj) {
                char buf[32];
                snprintf(buf, sizeof(buf), "%d", p->oom_score_adj);
                r = write_file_at(AT_FDCWD, "/proc/self/oom_score_adj", buf);
                if (r < 0)
                        return error_set(err, -r, "process.oomScoreAdj: write `/proc/self/oom_score_adj`");
        }
        if (p->scheduler) {
                r = set_scheduler(p->scheduler, err);
                if (r < 0)
                        return r;
        }
        if (p->io_priority) {
                int v = (p->io_priority->class_num << 13) | p->io_priority->priority;
                if (syscall(SYS_ioprio_set, 1 /* IOPRIO_WHO_PROCESS */, 0, v) < 0)
                        return error_set(err, errno, "process.ioPriority: ioprio_set");
        }
        umask(p->user.has_umask ? p->user.umask : 0022);
        return 0;
}

int process_set_cpu_affinity(const struct spec_process *p, bool final, struct error *err)
{
        if (!p->exec_cpu_affinity)
                return 0;
        if (final)
                return set_affinity(p->exec_cpu_affinity->final, "process.execCPUAffinity.final", err);
        return set_affinity(p->exec_cpu_affinity->initial, "process.execCPUAffinity.initial", err);
}

static const char *env_get(char **env, const char *name)
{
        size_t n = strlen(name);
        for (char **e = env; e && *e; e++)
                if (strncmp(*e, name, n) == 0 && (*e)[n] == '=')
                        return *e + n + 1;
        return NULL;
}

static int check_exec_file(const char *path, int *ret_errno)
{
        struct stat st;

        if (stat(path, &st) < 0) {
                *ret_errno = errno;
                return -1;
        }
        if (S_ISDIR(st.st_mode)) {
                *ret_errno = EACCES;
                return -1;
        }
        if (access(path, X_OK) < 0) {
                *ret_errno = errno;
                return -1;
        }
        return 0;
}

int process_resolve_exec(const struct spec_process *p, char **ret_path, struct error *err)
{
        const char *arg0 = p->args[0], *path;
        int e = ENOENT;

        if (strchr(arg0, '/')) {
                if (check_exec_file(arg0, &e) < 0)
                        return error_set(err, e, "exec: `%s`", arg0);
                *ret_path = xstrdup(arg0);
                return 0;
        }
        path = env_get(p->env, "PATH");
        if (!path)
                path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
        {
                _cleanup_free_ char *copy = xstrdup(path);
                char *save = NULL;
                bool denied = false;

                for (char *dir = strtok_r(copy, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
                        _cleanup_free_ char *cand = xasprintf("%s/%s", *dir ? dir : ".", arg0);
                        if (check_exec_file(cand, &e) == 0) {
                                *ret_path = TAKE_PTR(cand);
                                return 0;
                        }
                        if (e == EACCES)
                                denied = true;
                }
                if (denied)
                        return error_setx(err, EACCES, "exec: \"%s\": permission denied", arg0);
        }
        return error_setx(err, ENOENT, "exec: \"%s\": executable file not found in $PATH", arg0);
}

int process_chdir(const struct spec_process *p, struct error *err)
{
        char buf[PATH_MAX];
        const char *cwd = p->cwd && *p->cwd ? p->cwd : "/";

        if (chdir(cwd) < 0)
                return error_set(err, errno, "process.cwd: chdir to `%s`", cwd);
        /* CVE-2024-21626: a cwd reached through a leaked fd would show up
         * as "(unreachable)..." here; refuse anything not under our root */
        if (!getcwd(buf, sizeof(buf)) || buf[0] != '/')
                return error_setx(err, EPERM, "process.cwd: current working directory is outside of the container root");
        return 0;
}

int process_set_user(const struct spec_process *p, bool setgroups_allowed, struct error *err)
{
        const struct spec_user *u = &p->user;

        if (setgroups_allowed && setgroups(u->n_additional_gids, u->additional_gids) < 0)
                return error_set(err, errno, "process.user.additionalGids: setgroups");
        if (setresgid(u->gid, u->gid, u->gid) < 0)
                return error_set(err, errno, "process.user.gid: setresgid %u", (unsigned) u->gid);
        if (u->uid != 0 && prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
                return error_set(err, errno, "prctl PR_SET_KEEPCAPS");
        if (setresuid(u->uid, u->uid, u->uid) < 0)
                return error_set(err, errno, "process.user.uid: setresuid %u", (unsigned) u->uid);
        if (u->uid != 0)
                (void) prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
        return 0;
}

int process_drop_privileges(const struct spec_process *p, struct error *err)
{
        int r;

        r = caps_apply(p->caps, err);
        if (r < 0)
                return r;
        if (p->no_new_privileges && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                return error_set(err, errno, "process.noNewPrivileges: prctl");
        return 0;
}

bool process_seccomp_early(const struct spec_process *p)
{
        if (p->no_new_privileges)
                return false;
        if (p->caps && p->caps->effective)
                for (char **c = p->caps->effective; *c; c++)
                        if (strcmp(*c, "CAP_SYS_ADMIN") == 0)
                                return false;
        return p->caps != NULL || p->user.uid != 0;
}

void process_close_fds(int first, const int *keep)
{
        int lo = first;

        /* keep is sorted ascending by the callers */
        for (const int *k = keep; k && *k >= 0; k++) {
                if (*k < lo)
                        continue;
                if (*k > lo)
                        (void) syscall(SYS_close_range, lo, *k - 1, 0);
                lo = *k + 1;
        }
        (void) syscall(SYS_close_range, lo, ~0U, 0);
}

static char *home_of(uid_t uid)
{
        _cleanup_fclose_ FILE *f = fopen("/etc/passwd", "re");
        char line[1024];

        if (!f)
                return NULL;
        while (fgets(line, sizeof(line), f)) {
                char *fields[7] = { 0 }, *s = line, *save = NULL;
                int n = 0;
                for (char *t = strsep(&s, ":"); t && n < 7; t = strsep(&s, ":"))
                        fields[n++] = t;
                (void) save;
                if (n < 6 || !fields[2] || (uid_t) strtoul(fields[2], NULL, 10) != uid)
                        continue;
                if (fields[5] && *fields[5])
                        return xstrdup(fields[5]);
        }
        return NULL;
}

char **process_build_env(const struct spec_process *p)
{
        size_t n = 0;
        char **env;

        for (char **e = p->env; e && *e; e++)
                n++;
        env = xzalloc((n + 2) * sizeof(char *));
        for (size_t i = 0; i < n; i++)
                env[i] = p->env[i];
        if (!env_get(p->env, "HOME")) {
                _cleanup_free_ char *h = home_of(p->user.uid);
                env[n] = xasprintf("HOME=%s", h ? h : "/");
        }
        return env; /* strings borrowed except HOME: the process execs or exits */
}
