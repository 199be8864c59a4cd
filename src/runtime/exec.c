/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "basic/fileio.h"
#include "runtime/cgroup.h"
#include "runtime/container.h"
#include "runtime/init.h"
#include "runtime/process.h"
#include "runtime/security.h"
#include "runtime/sync.h"
#include "runtime/terminal.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

struct exec_ctx {
        const struct exec_opts *o;
        struct spec *config;           /* the container's config copy */
        struct spec_process *process;  /* what to run (owned when from --process) */
        bool own_process;
        struct state *st;
        int pidfd, sync_fd, console_fd;
        int join_flags;                /* namespaces to join, other than pid */
        bool join_pid;
        bool ptrace_before;            /* CAP_SYS_PTRACE may be held in the container already */
        pid_t joiner;                  /* first child: joins, then clones the one that runs */
        pid_t child;                   /* the process that runs (the joiner until SYNC_CHILD) */
        bool unplaced;                 /* joiner: the child is not in its v2 cgroup yet */
        int gate[2];                   /* joiner → child: EOF once the runtime knows the child */
        char *stdin_process;           /* --process -: what we read from stdin */
        size_t stdin_process_len;
};

/* Which of the init's namespaces differ from ours: those are joined. */
static int ns_to_join(pid_t pid, int *ret_flags, bool *ret_pid)
{
        static const enum ns_type types[] = { NS_USER, NS_MNT, NS_NET, NS_IPC, NS_UTS, NS_CGROUP, NS_TIME, NS_PID };
        int flags = 0;

        *ret_pid = false;
        for (size_t i = 0; i < ELEMENTSOF(types); i++) {
                char a[64], b[64];
                struct stat sa, sb;
                const char *n = ns_type_to_proc_name(types[i]);

                snprintf(a, sizeof(a), "/proc/%d/ns/%s", (int) pid, n);
                snprintf(b, sizeof(b), "/proc/self/ns/%s", n);
                if (stat(b, &sb) < 0) {
                        if (errno == ENOENT)
                                continue; /* a kernel without this namespace type */
                        return -errno;
                }
                /* never skip on failure (EACCES on a non-dumpable init, a
                 * dead init): the process would run outside the container */
                if (stat(a, &sa) < 0)
                        return -errno;
                if (sa.st_ino == sb.st_ino && sa.st_dev == sb.st_dev)
                        continue;
                if (types[i] == NS_PID)
                        *ret_pid = true;
                else
                        flags |= ns_type_to_clone_flag(types[i]);
        }
        *ret_flags = flags;
        return 0;
}

static char **strv_concat(char **a, char **b)
{
        size_t na = 0, nb = 0;
        char **r;

        while (a && a[na])
                na++;
        while (b && b[nb])
                nb++;
        r = xzalloc((na + nb + 1) * sizeof(char *));
        for (size_t i = 0; i < na; i++)
                r[i] = xstrdup(a[i]);
        for (size_t i = 0; i < nb; i++)
                r[na + i] = xstrdup(b[i]);
        return r;
}

static char **strv_copy(char **a)
{
        return strv_concat(a, NULL);
}

static int parse_user(const char *s, struct spec_user *u, struct error *err)
{
        uint64_t uid, gid;
        _cleanup_free_ char *copy = xstrdup(s);
        char *colon = strchr(copy, ':');

        if (colon)
                *colon = 0;
        if (parse_uint64(copy, &uid) < 0 || uid > UINT32_MAX)
                return error_setx(err, EINVAL, "--user: invalid uid `%s`", s);
        u->uid = uid;
        if (colon) {
                if (parse_uint64(colon + 1, &gid) < 0 || gid > UINT32_MAX)
                        return error_setx(err, EINVAL, "--user: invalid gid `%s`", s);
                u->gid = gid;
        }
        return 0;
}

static bool strv_contains(char **v, const char *s)
{
        for (; v && *v; v++)
                if (strcmp(*v, s) == 0)
                        return true;
        return false;
}

/* --cap: into bounding, effective and permitted.  Not into inheritable
 * (CVE-2022-29162: programs with inheritable file capabilities would gain
 * them at execve); into ambient only where inheritable already has it,
 * since an ambient capability needs that. */
static void exec_add_caps(struct spec_caps *caps, char **add)
{
        char ***sets[] = { &caps->bounding, &caps->effective, &caps->permitted, &caps->ambient };

        for (size_t i = 0; i < ELEMENTSOF(sets); i++)
                for (char **a = add; *a; a++) {
                        char *one[] = { *a, NULL }, **n;

                        if (strv_contains(*sets[i], *a))
                                continue;
                        if (sets[i] == &caps->ambient && !strv_contains(caps->inheritable, *a))
                                continue;
                        n = strv_concat(*sets[i], one);
                        strv_free(*sets[i]);
                        *sets[i] = n;
                }
}

/* The process to run: --process, or the config's with the CLI's changes
 * (it keeps the config's capabilities, no_new_privs and LSM labels). */
static int exec_build_process(struct exec_ctx *c, struct error *err)
{
        const struct exec_opts *o = c->o;
        struct spec_process *p = c->config->process;
        int r;

        if (o->process_file) {
                _cleanup_free_ char *data = NULL;
                size_t len;
                r = strcmp(o->process_file, "-") == 0 ? read_full_fd(STDIN_FILENO, 16 << 20, &data, &len)
                                                      : read_full_file_at(AT_FDCWD, o->process_file, 16 << 20,
                                                                          &data, &len);
                if (r < 0)
                        return error_set(err, -r, "--process: read `%s`", o->process_file);
                r = spec_parse_process(data, len, &c->process, err);
                if (r < 0)
                        return error_prefix(err, "--process `%s`", o->process_file);
                c->own_process = true;
                p = c->process;
                if (strcmp(o->process_file, "-") == 0) {
                        c->stdin_process = TAKE_PTR(data);
                        c->stdin_process_len = len;
                }
        } else {
                if (!o->args || !o->args[0])
                        return error_setx(err, EINVAL, "exec: a command is required (or --process)");
                strv_free(p->args);
                p->args = strv_copy(o->args);
                p->terminal = o->tty;
                c->process = p;
        }
        if (o->env) {
                char **e = strv_concat(p->env, o->env);
                strv_free(p->env);
                p->env = e;
        }
        if (o->cwd) {
                free(p->cwd);
                p->cwd = xstrdup(o->cwd);
        }
        if (o->user) {
                r = parse_user(o->user, &p->user, err);
                if (r < 0)
                        return r;
        }
        if (o->no_new_privs)
                p->no_new_privileges = true;
        if (o->apparmor) {
                free(p->apparmor_profile);
                p->apparmor_profile = xstrdup(o->apparmor);
        }
        if (o->process_label) {
                free(p->selinux_label);
                p->selinux_label = xstrdup(o->process_label);
        }
        /* no capabilities list: nothing is dropped, nothing to add */
        if (o->caps && o->caps[0] && p->caps)
                exec_add_caps(p->caps, o->caps);
        if (p->caps) {
                r = caps_validate(p->caps, err);
                if (r < 0)
                        return r;
        }
        r = process_check_lsm(p, NULL, err);
        if (r < 0)
                return r;
        if (p->terminal && o->detach && !o->console_socket)
                return error_setx(err, EINVAL, "--console-socket: required with --tty and --detach");
        return 0;
}

/* In the container already (see exec_joiner): the process setup. */
static int exec_child_setup(struct exec_ctx *c, struct exec_final *f, struct error *err)
{
        const struct spec_process *p = c->process;
        int r;

        if (p->terminal) {
                _cleanup_close_ int master = -EBADF, slave = -EBADF;
                r = terminal_open_pty(p->has_console_size ? &p->console_size : NULL, &master, &slave, err);
                if (r < 0)
                        return r;
                r = c->console_fd >= 0 ? send_fd(c->console_fd, master, NULL)
                                       : sync_send_fd(c->sync_fd, SYNC_PTY, master);
                if (r < 0)
                        return error_set(err, -r, "send the pty master");
                r = terminal_make_controlling(slave, err);
                if (r < 0)
                        return r;
        }
        r = process_setup_limits(p, err);
        if (r >= 0)
                r = process_chdir(p, err);
        if (r >= 0)
                r = process_resolve_exec(p, &f->path, err);
        if (r < 0)
                return r;
        f->env = process_build_env(p);
        r = exec_seccomp_point(f, true, c->sync_fd, err);
        if (r < 0)
                return r;
        /* setgroups is denied in a user namespace whose gid map a
         * rootless runtime wrote itself */
        r = process_set_user(p, ns_setgroups_allowed(), err);
        if (r >= 0)
                r = process_drop_privileges(p, err);
        if (r >= 0)
                r = exec_seccomp_point(f, false, c->sync_fd, err);
        return r;
}

static _noreturn_ void exec_child(struct exec_ctx *c)
{
        struct error err = ERROR_INIT;
        struct exec_final f = {
                .process = c->process,
                .seccomp = c->config->linux_.seccomp,
                .preserve_fds = c->o->preserve_fds,
        };
        struct sync_msg m;
        char byte;
        const int keep[] = { c->sync_fd, c->console_fd };

        /* our parent is the runtime (CLONE_PARENT) */
        if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
                _exit(1);
        /* go on once the joiner told the runtime our pid: then every
         * message of ours comes after that one */
        close(c->gate[1]);
        while (read(c->gate[0], &byte, 1) < 0 && errno == EINTR)
                ;
        /* fds the runtime inherited and does not pass on: gone now rather
         * than at execve (a container holding CAP_SYS_PTRACE could reach
         * them through /proc/PID/fd meanwhile) */
        exec_close_stray_fds(c->o->preserve_fds, keep, ELEMENTSOF(keep));
        if (exec_child_setup(c, &f, &err) < 0 || sync_send(c->sync_fd, SYNC_CREATED, 0, NULL) < 0 ||
            sync_expect(c->sync_fd, SYNC_START, &m, &err) < 0) {
                sync_send_error(c->sync_fd, &err);
                _exit(1);
        }
        if (c->o->detach)
                (void) prctl(PR_SET_PDEATHSIG, 0, 0, 0, 0);
        (void) exec_final(&f, &err);
        sync_send_error(c->sync_fd, &err);
        _exit(127);
}

/* The joiner, our first child, stays in our pid namespace, out of the
 * container's sight, while it joins the container's other namespaces.
 * Only then does it clone the process that runs: that one is born in the
 * container's pid namespace already inside its mount namespace, root and
 * cwd, and non-dumpable (CVE-2019-5736: /proc/PID/{exe,root,cwd,fd} of a
 * process of ours must not open up to the container), as our own child
 * (CLONE_PARENT), so that we wait for it.  Returns the clone's result
 * (0 in the new process) or -errno. */
static pid_t exec_join(struct exec_ctx *c, struct error *err)
{
        int flags = c->join_flags | (c->join_pid ? CLONE_NEWPID : 0);
        _cleanup_close_ int cgfd = -EBADF;
        struct sync_msg m;
        bool born = false;
        pid_t pid;
        int r;

        r = sync_expect(c->sync_fd, SYNC_GO, &m, err);
        if (r < 0)
                return r;
        /* through the host's /proc while we still may (see process.h) */
        r = process_set_oom_score_adj(c->process, 0, err);
        if (r < 0)
                return r;
        if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
                return error_set(err, errno, "prctl PR_SET_DUMPABLE");
        /* into the container's cgroups while the host's /sys is in view:
         * v1 by ourselves (cheap, see cgroup_enter_self), v2 by birth */
        if (c->st->cgroup_path) {
                cgfd = cgroup_open_v2_dir(c->st->cgroup_path);
                r = cgroup_enter_self(c->st->cgroup_path, cgfd >= 0, err);
                if (r < 0)
                        return r;
        }
        /* all but the cgroup namespace: born into a cgroup is refused
         * (ENOENT) to a parent whose cgroup namespace hides where it is */
        if ((flags & ~CLONE_NEWCGROUP) && setns(c->pidfd, flags & ~CLONE_NEWCGROUP) < 0)
                return error_set(err, errno, "join the container's namespaces");
        pid = cgroup_clone(CLONE_PARENT, cgfd, &born);
        if (pid < 0)
                return error_set(err, errno, "clone the exec process");
        if (pid == 0 && (flags & CLONE_NEWCGROUP) && setns(c->pidfd, CLONE_NEWCGROUP) < 0)
                return error_set(err, errno, "join the container's cgroup namespace");
        /* a kernel without CLONE_INTO_CGROUP: the runtime, still in the
         * host's cgroup namespace, moves it before it may exec */
        c->unplaced = pid > 0 && cgfd >= 0 && !born;
        return pid;
}

static _noreturn_ void exec_joiner(struct exec_ctx *c)
{
        struct error err = ERROR_INIT;
        pid_t pid;

        if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
                _exit(1);
        pid = exec_join(c, &err);
        if (pid == 0)
                exec_child(c);
        if (pid < 0) {
                sync_send_error(c->sync_fd, &err);
                _exit(1);
        }
        if (sync_send(c->sync_fd, SYNC_CHILD, (int) pid, c->unplaced ? "unplaced" : NULL) < 0) {
                (void) kill(pid, SIGKILL);
                _exit(1);
        }
        _exit(0); /* closes the gate */
}

static int exec_spawn(struct exec_ctx *c, struct error *err)
{
        int pair[2];
        pid_t pid;

        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) < 0)
                return error_set(err, errno, "socketpair");
        if (pipe2(c->gate, O_CLOEXEC) < 0) {
                close(pair[0]);
                close(pair[1]);
                return error_set(err, errno, "pipe");
        }
        pid = fork();
        if (pid == 0) {
                close(pair[0]);
                c->sync_fd = pair[1];
                exec_joiner(c);
        }
        close(pair[1]);
        close(c->gate[0]);
        close(c->gate[1]);
        c->sync_fd = pair[0];
        if (pid < 0)
                return error_set(err, errno, "fork");
        c->joiner = c->child = pid;
        return 0;
}

/* linux.seccomp.listenerPath gets the listener fd with a
 * ContainerProcessState whose pid is the exec'd process. */
static int exec_send_seccomp_fd(struct exec_ctx *c, int fd, struct error *err)
{
        _cleanup_free_ char *state = NULL, *msg = NULL;

        if (fd < 0)
                return error_setx(err, EPROTO, "seccomp listener fd message without an fd");
        state = state_to_oci_json(c->st, state_current_status(c->st), false);
        msg = xasprintf("{\"ociVersion\":\"%s\",\"pid\":%d,\"state\":%s}", OCI_SPEC_VERSION, (int) c->child,
                        state);
        return seccomp_send_notify_fd(c->config->linux_.seccomp, fd, msg, err);
}

static int exec_drive(struct exec_ctx *c, int *ret_master, struct error *err)
{
        struct sync_msg m;
        int r;

        /* the joiner enters the cgroups itself (exec_join) */
        r = sync_send(c->sync_fd, SYNC_GO, 0, NULL);
        if (r < 0)
                return error_set(err, -r, "sync with the exec process");
        for (;;) {
                r = sync_recv(c->sync_fd, &m);
                if (r < 0)
                        return error_setx(err, EPIPE, "exec process exited unexpectedly");
                if (m.type == SYNC_ERROR)
                        return error_setx(err, m.code, "%s", m.text);
                if (m.type == SYNC_PTY) {
                        *ret_master = m.fd;
                        continue;
                }
                if (m.type == SYNC_CHILD) {
                        c->child = m.code;
                        (void) RETRY_EINTR(waitpid(c->joiner, NULL, 0));
                        c->joiner = 0;
                        /* before SYNC_START, so before it execs */
                        if (strcmp(m.text, "unplaced") == 0 && c->st->cgroup_path &&
                            cgroup_enter(c->st->cgroup_path, c->child, err) < 0)
                                return error_ret(err);
                        continue;
                }
                if (m.type == SYNC_SECCOMP) {
                        r = exec_send_seccomp_fd(c, m.fd, err);
                        if (m.fd >= 0)
                                close(m.fd);
                        if (r < 0)
                                return r;
                        continue;
                }
                if (m.type == SYNC_CREATED)
                        break;
        }
        if (c->o->pid_file) {
                char buf[32];
                snprintf(buf, sizeof(buf), "%d", (int) c->child);
                r = write_file_atomic_at(AT_FDCWD, c->o->pid_file, buf, strlen(buf), 0644);
                if (r < 0)
                        return error_set(err, -r, "--pid-file: write `%s`", c->o->pid_file);
        }
        r = sync_send(c->sync_fd, SYNC_START, 0, NULL);
        if (r < 0)
                return error_set(err, -r, "start the exec process");
        r = sync_recv(c->sync_fd, &m);
        if (r >= 0 && m.type == SYNC_ERROR)
                return error_setx(err, m.code, "%s", m.text);
        return 0;
}

#define EXEC_PTRACE_MARK "exec-cap-sys-ptrace"

/* CVE-2019-5736 where non-dumpability is not enough: a process of the
 * container holding CAP_SYS_PTRACE in our user namespace (the container
 * has none of its own) can open /proc/PID/exe of ours.  Such a process
 * comes from the config (the init and its descendants), from an earlier
 * exec that granted it (marked in the state dir), or is this exec's; then
 * we run from a sealed copy of the binary (process_ensure_sealed_exe).
 * An exec granting the capability into a created container whose init
 * still waits as the plain binary is refused. */
/* Before starting over: the process JSON we took from stdin (--process -)
 * becomes stdin again, for the next run of the command to read. */
static int exec_restore_stdin(const struct exec_ctx *c, struct error *err)
{
        _cleanup_close_ int fd = -EBADF;

        if (!c->stdin_process)
                return 0;
        fd = memfd_create("berth-process", MFD_CLOEXEC);
        if (fd < 0)
                return error_set(err, errno, "--process -: memfd_create");
        if (write_all(fd, c->stdin_process, c->stdin_process_len) < 0 || lseek(fd, 0, SEEK_SET) < 0 ||
            dup2(fd, STDIN_FILENO) < 0)
                return error_set(err, errno, "--process -: keep the process for the sealed copy");
        return 0;
}

static int exec_guard_exe(struct exec_ctx *c, int dirfd, enum container_status s, struct error *err)
{
        _cleanup_close_ int mark = -EBADF;
        bool widens;
        int r;

        if (c->join_flags & CLONE_NEWUSER)
                return 0; /* its capabilities stop at its own user namespace */
        widens = !c->ptrace_before && process_caps_may_hold(c->process->caps, "CAP_SYS_PTRACE");
        if (!c->ptrace_before && !widens && faccessat(dirfd, EXEC_PTRACE_MARK, F_OK, AT_SYMLINK_NOFOLLOW) < 0)
                return 0;
        if (widens && s == STATUS_CREATED && !process_exe_is_sealed(c->st->pid))
                return error_setx(err, EPERM,
                                  "process.capabilities: CAP_SYS_PTRACE for a process in created container `%s` "
                                  "would expose the runtime binary its init runs from (CVE-2019-5736); start it first",
                                  c->o->id);
        if (!process_exe_is_sealed(0)) {
                r = exec_restore_stdin(c, err);
                if (r >= 0)
                        r = process_ensure_sealed_exe(err);
                if (r < 0)
                        return r;
        }
        if (!widens)
                return 0;
        mark = openat(dirfd, EXEC_PTRACE_MARK, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (mark < 0)
                return error_set(err, errno, "mark the state of `%s`", c->o->id);
        return 0;
}

static int exec_prepare(const struct runtime_ctx *ctx, struct exec_ctx *c, struct error *err)
{
        _cleanup_close_ int dirfd = -EBADF;
        _cleanup_free_ char *raw = NULL;
        enum container_status s;
        size_t len;
        int r;

        r = container_load(ctx, c->o->id, &dirfd, &c->st, err);
        if (r < 0)
                return r;
        s = state_current_status(c->st);
        if (s == STATUS_STOPPED)
                return error_setx(err, EINVAL, "cannot exec in a stopped container");
        if (s == STATUS_PAUSED)
                return error_setx(err, EINVAL, "cannot exec in a paused container");
        r = state_config_read(dirfd, &raw, &len);
        if (r < 0)
                return error_set(err, -r, "read the config of `%s`", c->o->id);
        r = spec_parse(raw, len, &c->config, err);
        if (r < 0)
                return r;
        if (!c->config->process)
                return error_setx(err, EINVAL, "the config of `%s` has no process", c->o->id);
        c->ptrace_before = process_caps_may_hold(c->config->process->caps, "CAP_SYS_PTRACE");
        r = exec_build_process(c, err);
        if (r < 0)
                return r;
        c->pidfd = (int) syscall(SYS_pidfd_open, c->st->pid, 0);
        if (c->pidfd < 0 || !proc_alive(c->st->pid, c->st->pid_start))
                return error_setx(err, ESRCH, "container not running");
        r = ns_to_join(c->st->pid, &c->join_flags, &c->join_pid);
        if (r < 0)
                return error_set(err, r, "inspect the namespaces of the container's init %d", (int) c->st->pid);
        /* before any side effect: it may start the command over */
        r = exec_guard_exe(c, dirfd, s, err);
        if (r < 0)
                return r;
        if (c->o->console_socket) {
                c->console_fd = terminal_connect(c->o->console_socket, err);
                if (c->console_fd < 0)
                        return c->console_fd;
        }
        return 0;
}

int container_exec(const struct runtime_ctx *ctx, const struct exec_opts *o, int *ret_status, struct error *err)
{
        struct exec_ctx c = { .o = o, .pidfd = -1, .sync_fd = -1, .console_fd = -1 };
        int r, master = -1;

        r = exec_prepare(ctx, &c, err);
        if (r >= 0)
                r = exec_spawn(&c, err);
        if (r >= 0)
                r = exec_drive(&c, &master, err);
        if (r < 0 && c.child > 0) {
                (void) kill(c.child, SIGKILL);
                (void) waitpid(c.child, NULL, 0);
                if (c.joiner > 0 && c.joiner != c.child)
                        (void) waitpid(c.joiner, NULL, 0);
        } else if (r >= 0 && !o->detach)
                (void) process_wait_foreground(c.child, master, ret_status);
        else if (r >= 0)
                *ret_status = 0;
        if (master >= 0)
                close(master);
        for (int *fd = &c.pidfd; fd <= &c.console_fd; fd++)
                if (*fd >= 0)
                        close(*fd);
        if (c.own_process)
                spec_process_free(c.process);
        free(c.stdin_process);
        spec_free(c.config);
        state_free(c.st);
        return r;
}
