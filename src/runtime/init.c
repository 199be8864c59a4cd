/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <fcntl.h>
#include <stdlib.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include "basic/fileio.h"
#include "runtime/cgroup.h"
#include "runtime/hooks.h"
#include "runtime/init.h"
#include "runtime/process.h"
#include "runtime/rootfs.h"
#include "runtime/security.h"
#include "runtime/sync.h"
#include "runtime/terminal.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

static int join_namespaces(const struct init_args *a, struct error *err)
{
        /* user first: it owns the others; mount last */
        static const enum ns_type order[] = { NS_USER, NS_IPC, NS_UTS, NS_NET, NS_CGROUP, NS_MNT };

        for (size_t i = 0; i < ELEMENTSOF(order); i++) {
                int fd = a->ns->join_fd[order[i]], r;
                if (fd < 0 || (a->joined_before & (unsigned) ns_type_to_clone_flag(order[i])))
                        continue;
                r = ns_join(fd, order[i], err);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int set_names(const struct spec *s, const struct ns_plan *ns, struct error *err)
{
        if (s->hostname && *s->hostname) {
                if (!(ns->new_flags & CLONE_NEWUTS) && ns->join_fd[NS_UTS] < 0)
                        return error_setx(err, EINVAL, "hostname: setting the hostname needs a private uts namespace");
                if (sethostname(s->hostname, strlen(s->hostname)) < 0)
                        return error_set(err, errno, "hostname: sethostname");
        }
        if (s->domainname && *s->domainname) {
                if (!(ns->new_flags & CLONE_NEWUTS) && ns->join_fd[NS_UTS] < 0)
                        return error_setx(err, EINVAL,
                                          "domainname: setting the domainname needs a private uts namespace");
                if (setdomainname(s->domainname, strlen(s->domainname)) < 0)
                        return error_set(err, errno, "domainname: setdomainname");
        }
        return 0;
}

/* The spec's createRuntime/createContainer point: the runtime runs its
 * hooks, then this process runs createContainer ones in our namespaces. */
static int before_pivot(void *userdata, struct error *err)
{
        const struct init_args *a = userdata;
        struct sync_msg m;
        int r;

        if (!a->has_hooks_before_pivot)
                return 0;
        r = sync_send(a->sync_fd, SYNC_HOOKS, 0, NULL);
        if (r < 0)
                return error_set(err, -r, "sync with runtime");
        r = sync_expect(a->sync_fd, SYNC_HOOKS_DONE, &m, err);
        if (r < 0)
                return r;
        return hooks_run(a->spec, SPEC_HOOK_CREATE_CONTAINER, m.text, err);
}

static int setup_terminal(const struct init_args *a, struct error *err)
{
        const struct spec_process *p = a->spec->process;
        _cleanup_close_ int master = -EBADF, slave = -EBADF;
        int r;

        r = terminal_open_pty(p->has_console_size ? &p->console_size : NULL, &master, &slave, err);
        if (r < 0)
                return r;
        if (a->ns->has[NS_MNT]) {
                r = rootfs_setup_console(slave, err);
                if (r < 0)
                        return r;
        }
        if (a->console_fd >= 0)
                r = send_fd(a->console_fd, master, NULL);
        else
                r = sync_send_fd(a->sync_fd, SYNC_PTY, master);
        if (r < 0)
                return error_set(err, -r, "send the pty master to the console socket");
        return terminal_make_controlling(slave, err);
}

static int setup_mounts(const struct init_args *a, const int *mount_fds, struct error *err)
{
        const struct spec *s = a->spec;
        struct rootfs_opts o = {
                .mount_fds = mount_fds,
                .n_mount_fds = mount_fds ? s->n_mounts : 0,
                .rootfs = a->rootfs,
                .bundle = a->bundle,
                .no_pivot = a->no_pivot,
                .new_userns = (a->ns->new_flags & CLONE_NEWUSER) || a->ns->join_fd[NS_USER] >= 0,
                .new_mntns = a->ns->has[NS_MNT],
                .has_terminal = s->process && s->process->terminal,
                .cgroupns = a->ns->has[NS_CGROUP],
                .before_pivot = before_pivot,
                .userdata = (void *) a,
                .mount_label = s->linux_.mount_label,
        };
        int r;

        if (o.cgroupns && a->ns->join_fd[NS_MNT] < 0)
                cgroup_host_views(&o.host_mountinfo, &o.host_proc_cgroup);
        o.cgroup_path = a->cgroup_path;
        r = rootfs_setup(s, &o, err);
        if (r < 0)
                return r;
        return rootfs_finalize(s, &o, err);
}

/* Wait for GO.  Before it the runtime may send detached trees it prepared
 * for us (idmapped mounts, see ns_prepare_idmapped_mounts), one
 * SYNC_MOUNT_FD per mounts[] index: *ret_fds gets s->n_mounts entries
 * (-1: none), or stays NULL when none came. */
static int await_go(const struct init_args *a, int **ret_fds, struct error *err)
{
        size_t n = a->spec->n_mounts;
        struct sync_msg m;
        int r;

        while ((r = sync_recv(a->sync_fd, &m)) >= 0 && m.type == SYNC_MOUNT_FD) {
                if (m.fd < 0 || m.code < 0 || (size_t) m.code >= n) {
                        if (m.fd >= 0)
                                close(m.fd);
                        return error_setx(err, EPROTO, "bad mount fd message from the runtime");
                }
                if (!*ret_fds) {
                        *ret_fds = xmalloc(n * sizeof(int));
                        for (size_t i = 0; i < n; i++)
                                (*ret_fds)[i] = -1;
                }
                if ((*ret_fds)[m.code] >= 0)
                        close((*ret_fds)[m.code]);
                (*ret_fds)[m.code] = m.fd;
        }
        if (r < 0)
                return error_setx(err, EPIPE, "the runtime exited unexpectedly");
        if (m.type != SYNC_GO)
                return error_setx(err, EPROTO, "unexpected message %d from the runtime", m.type);
        return 0;
}

/* A new network namespace has its loopback down; runc and crun bring it
 * up, and programs expect 127.0.0.1 to work. */
static int loopback_up(struct error *err)
{
        struct ifreq ifr = { .ifr_name = "lo" };
        _cleanup_close_ int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

        if (fd < 0)
                return error_set(err, errno, "bring up the loopback interface: socket");
        if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
                return error_set(err, errno, "bring up the loopback interface");
        if (ifr.ifr_flags & IFF_UP)
                return 0;
        ifr.ifr_flags |= IFF_UP;
        if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
                return error_set(err, errno, "bring up the loopback interface");
        return 0;
}

static int init_setup(const struct init_args *a, struct exec_final *f, struct error *err)
{
        const struct spec *s = a->spec;
        const struct spec_process *p = s->process;
        int *mount_fds = NULL;
        int r;

        r = await_go(a, &mount_fds, err);
        if (r < 0) {
                ns_mount_fds_free(mount_fds, s->n_mounts);
                return r;
        }
        /* into the container's cgroups ourselves, still host root (see
         * cgroup_enter_self for why not the runtime) */
        if (a->cgroup_path) {
                r = cgroup_enter_self(a->cgroup_path, a->born_in_cgroup, err);
                if (r < 0)
                        return r;
        }
        if (a->ns->new_flags & CLONE_NEWUSER) {
                /* root of the new user namespace, if mapped */
                (void) setresgid(0, 0, 0);
                (void) setresuid(0, 0, 0);
        }
        r = join_namespaces(a, err);
        if (r < 0)
                return r;
        if (a->ns->has[NS_NET] && a->ns->join_fd[NS_NET] < 0) {
                r = loopback_up(err);
                if (r < 0)
                        return r;
        }
        /* after the runtime moved us into the container's cgroup, so that
         * becomes the namespace's root */
        if ((a->ns->has[NS_CGROUP] && a->ns->join_fd[NS_CGROUP] < 0) && unshare(CLONE_NEWCGROUP) < 0)
                return error_set(err, errno, "linux.namespaces: create cgroup namespace");
        r = set_names(s, a->ns, err);
        if (r < 0)
                return r;
        r = setup_mounts(a, mount_fds, err);
        ns_mount_fds_free(mount_fds, s->n_mounts);
        if (r < 0)
                return r;
        {
                /* what we inherited beyond stdio and the preserved fds
                 * (namespace fds too, now joined) goes now rather than at
                 * execve: see exec_child */
                const int keep[] = { a->sync_fd, a->listen_fd, a->console_fd };
                exec_close_stray_fds(a->preserve_fds, keep, ELEMENTSOF(keep));
        }
        if (p->terminal) {
                r = setup_terminal(a, err);
                if (r < 0)
                        return r;
        }
        if (!a->no_new_keyring) {
                r = process_set_keyring_label(p, err);
                if (r < 0)
                        return r;
                if (syscall(SYS_keyctl, 1 /* KEYCTL_JOIN_SESSION_KEYRING */, NULL) < 0 && errno != ENOSYS &&
                    errno != EPERM && errno != EACCES)
                        return error_set(err, errno, "create session keyring");
        }
        r = process_setup_limits(p, err);
        if (r < 0)
                return r;
        r = process_chdir(p, err);
        if (r < 0)
                return r;
        r = process_resolve_exec(p, &f->path, err);
        if (r < 0)
                return r;
        f->env = process_build_env(p);
        r = exec_seccomp_point(f, true, a->sync_fd, err);
        if (r < 0)
                return r;
        /* setgroups is denied in a user namespace whose gid map a
         * rootless runtime wrote itself */
        r = process_set_user(p, ns_setgroups_allowed(), err);
        if (r < 0)
                return r;
        r = process_drop_privileges(p, err);
        if (r < 0)
                return r;
        return exec_seccomp_point(f, false, a->sync_fd, err);
}

/* Wait for `start`: RUN_CREATE accepts on start.sock (the starter sends
 * the state JSON and shuts its side down), the others read the sync
 * socket.  Returns the fd to report exec failures on; *ret_state gets the
 * state JSON for the startContainer hooks. */
static int wait_start(const struct init_args *a, char **ret_state, struct error *err)
{
        struct sync_msg m;
        int r, conn;

        if (a->mode != RUN_CREATE) {
                r = sync_expect(a->sync_fd, SYNC_START, &m, err);
                if (r < 0)
                        return r;
                *ret_state = xstrdup(m.text);
                return a->sync_fd;
        }
        for (;;) {
                _cleanup_free_ char *buf = NULL;

                conn = RETRY_EINTR(accept4(a->listen_fd, NULL, NULL, SOCK_CLOEXEC));
                if (conn < 0)
                        return error_set(err, errno, "wait for start");
                if (read_full_fd(conn, 1 << 20, &buf, NULL) >= 0 && buf[0]) {
                        *ret_state = TAKE_PTR(buf);
                        break;
                }
                close(conn);
        }
        close(a->listen_fd);
        return conn;
}

/* SIG_IGN survives execve, and so does the signal mask: a runtime started
 * under nohup, or in the background of a shell (SIGHUP, SIGINT, SIGQUIT
 * ignored), must not hand that on to the container's process, whose
 * traps would silently not work. */
static void reset_signals(void)
{
        sigset_t none;

        for (int sig = 1; sig < NSIG; sig++) {
                struct sigaction sa;

                if (sig != SIGKILL && sig != SIGSTOP && sigaction(sig, NULL, &sa) == 0 && sa.sa_handler == SIG_IGN)
                        (void) signal(sig, SIG_DFL);
        }
        sigemptyset(&none);
        (void) sigprocmask(SIG_SETMASK, &none, NULL);
}

int exec_final(const struct exec_final *f, struct error *err)
{
        int r;

        r = process_set_cpu_affinity(f->process, true, err);
        if (r < 0)
                return r;
        /* preserved fds (and LISTEN_FDS) survive exec; everything else is
         * closed by it.  Within the preserved range only what our caller
         * passed us: those came without O_CLOEXEC, while every fd of ours
         * has it from birth, and one of ours may well sit in that range
         * when the caller passed fewer fds than it said (a leaked host
         * directory fd is CVE-2024-21626's way out) */
        (void) syscall(SYS_close_range, 3 + f->preserve_fds, ~0U, CLOSE_RANGE_CLOEXEC);
        r = process_apply_lsm(f->process, err);
        if (r < 0)
                return r;
        reset_signals();
        if (f->seccomp && !f->seccomp_loaded) {
                r = seccomp_apply(f->seccomp, NULL, err);
                if (r < 0)
                        return r;
        }
        execve(f->path, f->process->args, f->env);
        return error_set(err, errno, "exec `%s`", f->process->args[0]);
}

int exec_seccomp_point(struct exec_final *f, bool early, int sync_fd, struct error *err)
{
        int nfd = -1, r;

        if (!f->seccomp || f->seccomp_loaded)
                return 0;
        if (early ? !process_seccomp_early(f->process) : !process_seccomp_notify(f->seccomp))
                return 0;
        r = seccomp_apply(f->seccomp, &nfd, err);
        if (r < 0)
                return r;
        f->seccomp_loaded = true;
        if (nfd < 0)
                return 0;
        /* the runtime, still on the host, connects to listenerPath: our
         * own view of the filesystem is the container's by now */
        r = sync_send_fd(sync_fd, SYNC_SECCOMP, nfd);
        close(nfd);
        if (r < 0)
                return error_set(err, r, "linux.seccomp.listenerPath: hand the listener fd to the runtime");
        return 0;
}

static int cmp_int(const void *a, const void *b)
{
        return (*(const int *) a > *(const int *) b) - (*(const int *) a < *(const int *) b);
}

void exec_close_stray_fds(int preserve_fds, const int *keep, size_t n_keep)
{
        int sorted[16];
        size_t n = 0;

        for (size_t i = 0; i < n_keep && n < ELEMENTSOF(sorted) - 1; i++)
                if (keep[i] >= 3 + preserve_fds)
                        sorted[n++] = keep[i];
        qsort(sorted, n, sizeof(int), cmp_int);
        sorted[n] = -1;
        process_close_fds(3 + preserve_fds, sorted);
}

_noreturn_ void init_main(const struct init_args *a)
{
        struct error err = ERROR_INIT;
        struct exec_final f = {
                .process = a->spec->process,
                .seccomp = a->spec->linux_.seccomp,
                .preserve_fds = a->preserve_fds,
        };
        char *state_json = NULL;
        int r, report_fd;

        /* in a new pid namespace getppid() is 0; a dead parent also shows
         * as EOF on the sync socket */
        if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0 || (getppid() != a->parent && getppid() != 0))
                _exit(1);
        for (size_t i = 0; i < ELEMENTSOF(a->close_fds); i++)
                if (a->close_fds[i] >= 0)
                        close(a->close_fds[i]);
        r = init_setup(a, &f, &err);
        if (r < 0) {
                sync_send_error(a->sync_fd, &err);
                _exit(1);
        }
        /* a create outlives its runtime: from here on a runtime that dies
         * before it recorded us shows as EOF instead of RELEASE */
        if (a->mode != RUN_FOREGROUND)
                (void) prctl(PR_SET_PDEATHSIG, 0, 0, 0, 0);
        if (sync_send(a->sync_fd, SYNC_CREATED, 0, NULL) < 0)
                _exit(1);
        if (a->mode != RUN_FOREGROUND) {
                struct sync_msg m;
                if (sync_expect(a->sync_fd, SYNC_RELEASE, &m, &err) < 0)
                        _exit(1);
        }
        report_fd = wait_start(a, &state_json, &err);
        if (report_fd < 0)
                _exit(1);
        r = hooks_run(a->spec, SPEC_HOOK_START_CONTAINER, state_json, &err);
        if (r >= 0)
                r = exec_final(&f, &err);
        /* only reached on failure */
        sync_send_error(report_fd, &err);
        _exit(127);
}
