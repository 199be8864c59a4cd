/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
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
        pid_t child;
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
                if (stat(a, &sa) < 0 || stat(b, &sb) < 0)
                        continue; /* a kernel without this namespace type */
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
        if (o->caps && o->caps[0]) {
                if (!p->caps)
                        p->caps = xzalloc(sizeof(*p->caps));
                char ***sets[] = { &p->caps->bounding, &p->caps->effective, &p->caps->permitted,
                                   &p->caps->inheritable, &p->caps->ambient };
                for (size_t i = 0; i < ELEMENTSOF(sets); i++) {
                        char **n = strv_concat(*sets[i], o->caps);
                        strv_free(*sets[i]);
                        *sets[i] = n;
                }
        }
        if (p->caps) {
                r = caps_validate(p->caps, err);
                if (r < 0)
                        return r;
        }
        if (p->terminal && o->detach && !o->console_socket)
                return error_setx(err, EINVAL, "--console-socket: required with --tty and --detach");
        return 0;
}

static int exec_child_setup(struct exec_ctx *c, struct exec_final *f, struct error *err)
{
        const struct spec_process *p = c->process;
        struct sync_msg m;
        int r;

        r = sync_expect(c->sync_fd, SYNC_GO, &m, err);
        if (r < 0)
                return r;
        if (c->join_flags && setns(c->pidfd, c->join_flags) < 0)
                return error_set(err, errno, "join the container's namespaces");
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
        if (process_seccomp_early(p) && f->seccomp) {
                r = seccomp_apply(f->seccomp, NULL, err);
                if (r < 0)
                        return r;
                f->seccomp_loaded = true;
        }
        r = process_set_user(p, true, err);
        if (r >= 0)
                r = process_drop_privileges(p, err);
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

        if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
                _exit(1);
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

static int exec_spawn(struct exec_ctx *c, struct error *err)
{
        _cleanup_close_ int own_pid = -EBADF;
        int pair[2];
        pid_t pid;

        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) < 0)
                return error_set(err, errno, "socketpair");
        if (c->join_pid) {
                /* our children are born in the container's pid namespace */
                own_pid = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
                if (own_pid < 0 || setns(c->pidfd, CLONE_NEWPID) < 0) {
                        close(pair[0]);
                        close(pair[1]);
                        return error_set(err, errno, "join the container's pid namespace");
                }
        }
        pid = fork();
        if (pid == 0) {
                close(pair[0]);
                c->sync_fd = pair[1];
                exec_child(c);
        }
        if (own_pid >= 0)
                (void) setns(own_pid, CLONE_NEWPID);
        close(pair[1]);
        c->sync_fd = pair[0];
        if (pid < 0)
                return error_set(err, errno, "fork");
        c->child = pid;
        return 0;
}

static int exec_drive(struct exec_ctx *c, int *ret_master, struct error *err)
{
        struct sync_msg m;
        int r;

        if (c->st->cgroup_path) {
                r = cgroup_enter(c->st->cgroup_path, c->child, err);
                if (r < 0)
                        return r;
        }
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

static int exec_wait(pid_t pid, int master, int *ret_status)
{
        static const int fwd[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH };
        sigset_t set, old;
        _cleanup_close_ int sfd = -EBADF;
        int status = 0;

        sigemptyset(&set);
        for (size_t i = 0; i < ELEMENTSOF(fwd); i++)
                sigaddset(&set, fwd[i]);
        sigaddset(&set, SIGCHLD);
        sigprocmask(SIG_BLOCK, &set, &old);
        sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
        if (master >= 0)
                terminal_proxy(master);
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
        r = read_full_file_at(dirfd, "config.json", 16 << 20, &raw, &len);
        if (r < 0)
                return error_set(err, -r, "read the config of `%s`", c->o->id);
        r = spec_parse(raw, len, &c->config, err);
        if (r < 0)
                return r;
        r = exec_build_process(c, err);
        if (r < 0)
                return r;
        c->pidfd = (int) syscall(SYS_pidfd_open, c->st->pid, 0);
        if (c->pidfd < 0 || !proc_alive(c->st->pid, c->st->pid_start))
                return error_setx(err, ESRCH, "container not running");
        ns_to_join(c->st->pid, &c->join_flags, &c->join_pid);
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
        } else if (r >= 0 && !o->detach)
                (void) exec_wait(c.child, master, ret_status);
        else if (r >= 0)
                *ret_status = 0;
        if (master >= 0)
                close(master);
        for (int *fd = &c.pidfd; fd <= &c.console_fd; fd++)
                if (*fd >= 0)
                        close(*fd);
        if (c.own_process)
                spec_process_free(c.process);
        spec_free(c.config);
        state_free(c.st);
        return r;
}
