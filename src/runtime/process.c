/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <linux/magic.h>
#include <linux/sched.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/sendfile.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "basic/chase.h"
#include "basic/fileio.h"
#include "runtime/process.h"
#include "runtime/security.h"
#include "runtime/terminal.h"

#ifndef CLOSE_RANGE_UNSHARE
#define CLOSE_RANGE_UNSHARE (1U << 1)
#endif
#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif
#ifndef SELINUX_MAGIC
#define SELINUX_MAGIC 0xf97cff8c
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

int process_set_oom_score_adj(const struct spec_process *p, pid_t pid, struct error *err)
{
        char path[64], buf[32];
        int r;

        if (!p->has_oom_score_adj)
                return 0;
        if (pid > 0)
                snprintf(path, sizeof(path), "/proc/%d/oom_score_adj", (int) pid);
        else
                snprintf(path, sizeof(path), "/proc/self/oom_score_adj");
        snprintf(buf, sizeof(buf), "%d", p->oom_score_adj);
        r = write_file_at(AT_FDCWD, path, buf);
        if (r < 0)
                return error_set(err, -r, "process.oomScoreAdj: write `%s`", path);
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
                path = DEFAULT_PATH;
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
        _cleanup_close_ int rootfd = -EBADF, fd = -EBADF;
        char buf[PATH_MAX];
        const char *cwd = p->cwd && *p->cwd ? p->cwd : "/";

        /* CVE-2024-21626: cwd "/proc/self/fd/N" would land on whatever a
         * leaked fd of ours points to, outside the root.  Resolve it
         * inside our root with magic links refused, then enter that very
         * directory. */
        rootfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (rootfd < 0)
                return error_set(err, errno, "process.cwd: open /");
        fd = chase_open(rootfd, cwd, O_PATH | O_DIRECTORY, 0);
        if (fd == -ENOENT) {
                /* runc and crun make a missing working directory (Docker's
                 * -w /new relies on it); still as the container's root */
                fd = chase_mkdir_p(rootfd, cwd, 0755);
                if (fd >= 0)
                        fd = (close(fd), chase_open(rootfd, cwd, O_PATH | O_DIRECTORY, 0));
        }
        if (fd == -ELOOP)
                return error_setx(err, ELOOP, "process.cwd: `%s` goes through a magic link or too many symlinks",
                                  cwd);
        if (fd < 0)
                return error_set(err, fd, "process.cwd: chdir to `%s`", cwd);
        if (fchdir(fd) < 0)
                return error_set(err, errno, "process.cwd: chdir to `%s`", cwd);
        /* belt and braces: a cwd outside the root reads "(unreachable)..." */
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

bool process_seccomp_notify(const struct spec_seccomp *sc)
{
        if (!sc)
                return false;
        if (sc->default_action && strcmp(sc->default_action, "SCMP_ACT_NOTIFY") == 0)
                return true;
        for (size_t i = 0; i < sc->n_syscalls; i++)
                if (sc->syscalls[i].action && strcmp(sc->syscalls[i].action, "SCMP_ACT_NOTIFY") == 0)
                        return true;
        return false;
}

bool process_caps_may_hold(const struct spec_caps *caps, const char *name)
{
        char *const *sets[5];

        if (!caps)
                return true; /* nothing is dropped */
        sets[0] = caps->bounding;
        sets[1] = caps->effective;
        sets[2] = caps->permitted;
        sets[3] = caps->inheritable;
        sets[4] = caps->ambient;
        for (size_t i = 0; i < ELEMENTSOF(sets); i++)
                for (char *const *c = sets[i]; c && *c; c++)
                        if (strcmp(*c, name) == 0)
                                return true;
        return false;
}

/* Linux security modules */

static bool apparmor_enabled(void)
{
        _cleanup_free_ char *v = NULL;

        /* built in but possibly disabled on the kernel command line */
        if (read_full_file_at(AT_FDCWD, "/sys/module/apparmor/parameters/enabled", 64, &v, NULL) < 0)
                return false;
        return v[0] == 'Y';
}

static bool selinux_enabled(void)
{
        struct statfs sfs;

        return statfs("/sys/fs/selinux", &sfs) == 0 && (uint32_t) sfs.f_type == SELINUX_MAGIC;
}

int process_check_lsm(const struct spec_process *p, const char *mount_label, struct error *err)
{
        if (p && p->apparmor_profile && *p->apparmor_profile && !apparmor_enabled())
                return error_setx(err, EOPNOTSUPP,
                                  "process.apparmorProfile: profile `%s` requested, but AppArmor is not enabled on this host",
                                  p->apparmor_profile);
        if (p && p->selinux_label && *p->selinux_label && !selinux_enabled())
                return error_setx(err, EOPNOTSUPP,
                                  "process.selinuxLabel: label `%s` requested, but SELinux is not enabled on this host",
                                  p->selinux_label);
        if (mount_label && *mount_label && !selinux_enabled())
                return error_setx(err, EOPNOTSUPP,
                                  "linux.mountLabel: label `%s` requested, but SELinux is not enabled on this host",
                                  mount_label);
        return 0;
}

/* Write VALUE to the LSM attribute file ATTR of this thread, inside the
 * container.  CVE-2019-16884: the image or a mount may have put a file
 * of its own at that path, and a write that lands there would leave the
 * process unconfined without a word; so the file is resolved inside the
 * root without magic links or a final symlink and must be on procfs.
 * -ENOENT (ERR untouched) when the attribute does not exist. */
static int lsm_write_attr(const char *field, const char *attr, const char *value, struct error *err)
{
        _cleanup_close_ int rootfd = -EBADF, fd = -EBADF;
        _cleanup_free_ char *path = xasprintf("/proc/thread-self/attr/%s", attr);
        struct statfs sfs;
        size_t len = strlen(value);
        ssize_t n;

        rootfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (rootfd < 0)
                return error_set(err, errno, "%s: open /", field);
        fd = chase_open(rootfd, path, O_WRONLY | O_NOFOLLOW | O_NOCTTY, 0);
        if (fd == -ENOENT)
                return -ENOENT;
        if (fd < 0)
                return error_set(err, fd, "%s: open `%s`", field, path);
        if (fstatfs(fd, &sfs) < 0)
                return error_set(err, errno, "%s: statfs `%s`", field, path);
        if (sfs.f_type != PROC_SUPER_MAGIC)
                return error_setx(err, EXDEV, "%s: `%s` is not on procfs", field, path);
        n = RETRY_EINTR(write(fd, value, len));
        if (n < 0)
                return error_set(err, errno, "%s: write `%s`", field, path);
        if ((size_t) n != len)
                return error_setx(err, EIO, "%s: short write to `%s`", field, path);
        return 0;
}

int process_set_keyring_label(const struct spec_process *p, struct error *err)
{
        int r;

        if (!p->selinux_label || !*p->selinux_label)
                return 0;
        r = lsm_write_attr("process.selinuxLabel", "keycreate", p->selinux_label, err);
        if (r == -ENOENT)
                return error_setx(err, ENOENT, "process.selinuxLabel: /proc/thread-self/attr/keycreate is missing");
        return r;
}

int process_apply_lsm(const struct spec_process *p, struct error *err)
{
        int r;

        if (p->apparmor_profile && *p->apparmor_profile) {
                /* what aa_change_onexec() writes; the per-module file
                 * appeared in Linux 5.1, the shared one is older */
                _cleanup_free_ char *cmd = xasprintf("exec %s", p->apparmor_profile);
                r = lsm_write_attr("process.apparmorProfile", "apparmor/exec", cmd, err);
                if (r == -ENOENT)
                        r = lsm_write_attr("process.apparmorProfile", "exec", cmd, err);
                if (r == -ENOENT)
                        return error_setx(err, ENOENT, "process.apparmorProfile: /proc/thread-self/attr/exec is missing");
                if (r < 0)
                        return r;
        }
        if (p->selinux_label && *p->selinux_label) {
                r = lsm_write_attr("process.selinuxLabel", "exec", p->selinux_label, err);
                if (r == -ENOENT)
                        return error_setx(err, ENOENT, "process.selinuxLabel: /proc/thread-self/attr/exec is missing");
                if (r < 0)
                        return r;
        }
        return 0;
}

/* CVE-2019-5736, for the one case non-dumpability does not cover */

static bool exe_is_sealed(int fd)
{
        const int want = F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE;
        int seals = fcntl(fd, F_GET_SEALS);

        /* a plain tmpfs file reports F_SEAL_SEAL alone */
        return seals >= 0 && (seals & want) == want;
}

/* Our argv as the kernel recorded it (getopt permutes the pointers, not
 * these bytes). */
static char **self_argv(void)
{
        _cleanup_free_ char *raw = NULL;
        size_t len = 0, n = 0;
        char **argv;

        if (read_full_file_at(AT_FDCWD, "/proc/self/cmdline", 1 << 22, &raw, &len) < 0 || len == 0)
                return NULL;
        for (size_t i = 0; i < len; i++)
                n += raw[i] == 0;
        if (raw[len - 1] != 0)
                n++;
        argv = xzalloc((n + 1) * sizeof(char *));
        for (size_t i = 0, k = 0; i < len && k < n; k++) {
                argv[k] = xstrdup(raw + i);
                i += strlen(raw + i) + 1;
        }
        return argv;
}

static int copy_to_sealed_memfd(int src, struct error *err)
{
        _cleanup_close_ int mfd = -EBADF;
        char path[64];
        struct stat st;
        int ro;

        mfd = memfd_create("berth-runtime", MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC);
        if (mfd < 0 && errno == EINVAL) /* before Linux 6.3 */
                mfd = memfd_create("berth-runtime", MFD_CLOEXEC | MFD_ALLOW_SEALING);
        if (mfd < 0)
                return error_set(err, errno, "memfd_create");
        if (fstat(src, &st) < 0)
                return error_set(err, errno, "stat /proc/self/exe");
        for (off_t off = 0; off < st.st_size;) {
                ssize_t n = sendfile(mfd, src, &off, st.st_size - off);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        return error_set(err, n < 0 ? errno : EIO, "copy /proc/self/exe");
        }
        if (fcntl(mfd, F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) < 0)
                return error_set(err, errno, "seal the copy of /proc/self/exe");
        /* execve refuses a file open for writing (ETXTBSY): keep a
         * read-only descriptor of it only */
        snprintf(path, sizeof(path), "/proc/self/fd/%d", mfd);
        ro = open(path, O_RDONLY | O_CLOEXEC);
        if (ro < 0)
                return error_set(err, errno, "reopen the copy of /proc/self/exe");
        return ro;
}

bool process_exe_is_sealed(pid_t pid)
{
        _cleanup_close_ int fd = -EBADF;
        char path[64];

        if (pid > 0)
                snprintf(path, sizeof(path), "/proc/%d/exe", (int) pid);
        else
                snprintf(path, sizeof(path), "/proc/self/exe");
        fd = open(path, O_RDONLY | O_CLOEXEC);
        return fd >= 0 && exe_is_sealed(fd);
}

int process_ensure_sealed_exe(struct error *err)
{
        _cleanup_close_ int self = -EBADF, mfd = -EBADF;
        _cleanup_strv_free_ char **argv = NULL;

        self = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
        if (self < 0)
                return error_set(err, errno, "open /proc/self/exe");
        if (exe_is_sealed(self))
                return 0;
        argv = self_argv();
        if (!argv)
                return error_setx(err, EIO, "read /proc/self/cmdline");
        mfd = copy_to_sealed_memfd(self, err);
        if (mfd < 0)
                return mfd;
        (void) syscall(SYS_execveat, mfd, "", argv, environ, AT_EMPTY_PATH);
        return error_set(err, errno, "re-execute from a sealed copy of the runtime");
}

int process_wait_foreground(pid_t pid, int pty_master, int *ret_status)
{
        static const int forwarded[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH };
        sigset_t set, old;
        _cleanup_close_ int sfd = -EBADF;
        int status = 0;

        sigemptyset(&set);
        for (size_t i = 0; i < ELEMENTSOF(forwarded); i++)
                sigaddset(&set, forwarded[i]);
        sigaddset(&set, SIGCHLD);
        sigprocmask(SIG_BLOCK, &set, &old);
        sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
        /* the proxy returns when the process' side of the pty is gone;
         * signals stay blocked meanwhile and are forwarded below */
        if (pty_master >= 0)
                terminal_proxy(pty_master);
        for (;;) {
                struct signalfd_siginfo si;
                struct pollfd p = { .fd = sfd, .events = POLLIN };
                pid_t w = waitpid(pid, &status, WNOHANG);

                if (w == pid || (w < 0 && errno != EINTR))
                        break;
                if (poll(&p, 1, -1) < 0 && errno != EINTR)
                        break;
                while (read(sfd, &si, sizeof(si)) == sizeof(si))
                        if (si.ssi_signo != SIGCHLD)
                                (void) kill(pid, si.ssi_signo);
        }
        sigprocmask(SIG_SETMASK, &old, NULL);
        *ret_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        return 0;
}
