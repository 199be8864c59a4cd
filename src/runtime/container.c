/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <dirent.h>
#include <stddef.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <linux/sched.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/signalfd.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>

#include "basic/fileio.h"
#include "runtime/cgroup.h"
#include "runtime/container.h"
#include "runtime/hooks.h"
#include "runtime/init.h"
#include "runtime/namespace.h"
#include "runtime/process.h"
#include "runtime/security.h"
#include "runtime/state.h"
#include "runtime/sync.h"
#include "runtime/terminal.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif


/* Everything create sets up, so one function can undo it. */
struct create_ctx {
        const struct runtime_ctx *rt;
        const struct create_opts *o;
        enum run_mode mode;
        struct spec *spec;
        char *raw_config;
        size_t raw_len;
        char *bundle, *rootfs;
        struct ns_plan ns;
        struct state st;
        int rootfd, dirfd, listen_fd, console_fd, sync_fd;
        bool dir_made, cgroup_made;
        bool rootless;          /* ns_rootless() */
        pid_t child;
        int pty_master;
};

static void create_ctx_release(struct create_ctx *c)
{
        ns_plan_release(&c->ns);
        spec_free(c->spec);
        free(c->raw_config);
        free(c->bundle);
        free(c->rootfs);
        free(c->st.created);
        free(c->st.cgroup_path);
        for (int *fd = &c->rootfd; fd <= &c->sync_fd; fd++)
                if (*fd >= 0)
                        close(*fd);
        if (c->pty_master >= 0)
                close(c->pty_master);
}

/* Remove ROOT/ID and what it holds (flat: state.json, config.json,
 * start.sock, temporaries). */
static void state_dir_remove(int rootfd, const char *id)
{
        _cleanup_close_ int fd = openat(rootfd, id, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        DIR *d;
        struct dirent *de;

        if (fd < 0)
                return;
        d = fdopendir(TAKE_FD(fd));
        if (!d)
                return;
        while ((de = readdir(d)))
                if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
                        (void) unlinkat(dirfd(d), de->d_name, 0);
        closedir(d);
        (void) unlinkat(rootfd, id, AT_REMOVEDIR);
}

static void create_undo(struct create_ctx *c)
{
        if (c->child > 0) {
                (void) kill(c->child, SIGKILL);
                (void) RETRY_EINTR(waitpid(c->child, NULL, 0));
        }
        if (c->cgroup_made)
                (void) cgroup_destroy(c->st.cgroup_path, NULL);
        if (c->dir_made)
                state_dir_remove(c->rootfd, c->o->id);
}

static int load_config(struct create_ctx *c, struct error *err)
{
        _cleanup_close_ int bfd = -EBADF;
        char buf[PATH_MAX];
        const char *cfg = c->o->config ? c->o->config : "config.json";
        int r;

        if (!realpath(c->o->bundle ? c->o->bundle : ".", buf))
                return error_set(err, errno, "--bundle: `%s`", c->o->bundle ? c->o->bundle : ".");
        c->bundle = xstrdup(buf);
        bfd = open(c->bundle, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (bfd < 0)
                return error_set(err, errno, "--bundle: open `%s`", c->bundle);
        r = read_full_file_at(bfd, cfg, STATE_CONFIG_MAX, &c->raw_config, &c->raw_len);
        if (r < 0)
                return error_set(err, -r, "open `%s`", cfg);
        r = spec_parse(c->raw_config, c->raw_len, &c->spec, err);
        if (r < 0)
                return error_prefix(err, "%s", cfg);
        if (!c->spec->process)
                return error_setx(err, EINVAL, "%s: process: missing (required to create a container)", cfg);
        {
                _cleanup_free_ char *p = c->spec->root_path[0] == '/'
                                                 ? xstrdup(c->spec->root_path)
                                                 : xasprintf("%s/%s", c->bundle, c->spec->root_path);
                _cleanup_close_ int rfd = open(p, O_PATH | O_DIRECTORY | O_CLOEXEC);

                if (rfd < 0 && errno == ENOTDIR)
                        return error_setx(err, ENOTDIR, "root.path: `%s` is not a directory", p);
                if (rfd < 0)
                        return error_set(err, errno, "root.path: `%s`", p);
                /* one readlink instead of realpath()'s one per component */
                c->rootfs = fd_get_path(rfd);
                if (!c->rootfs || c->rootfs[0] != '/')
                        return error_setx(err, ENOENT, "root.path: `%s`: cannot tell where it is", p);
        }
        return 0;
}

static int validate_spec(struct create_ctx *c, struct error *err)
{
        const struct spec *s = c->spec;
        int r;

        if (s->process->caps) {
                r = caps_validate(s->process->caps, err);
                if (r < 0)
                        return r;
        }
        if (s->linux_.seccomp) {
                r = seccomp_validate(s->linux_.seccomp, err);
                if (r < 0)
                        return r;
        }
        if (s->process->terminal && c->mode != RUN_FOREGROUND && !c->o->console_socket)
                return error_setx(err, EINVAL, "process.terminal: --console-socket is required when terminal is true");
        if (!s->process->terminal && c->o->console_socket)
                return error_setx(err, EINVAL, "--console-socket: only valid when process.terminal is true");
        if (c->ns.join_fd[NS_USER] >= 0 && (c->ns.new_flags & ~CLONE_NEWCGROUP))
                return error_setx(err, EOPNOTSUPP,
                                  "linux.namespaces: joining a user namespace while creating other namespaces is not supported yet");
        if ((c->ns.new_flags & CLONE_NEWUSER) && (s->linux_.n_uid_mappings == 0 || s->linux_.n_gid_mappings == 0))
                return error_setx(err, EINVAL, "linux.uidMappings: a new user namespace needs uid and gid mappings");
        r = process_check_lsm(s->process, s->linux_.mount_label, err);
        if (r < 0)
                return r;
        if (c->rootless)
                return ns_plan_check_rootless(&c->ns, s, err);
        return 0;
}

/* See process_ensure_sealed_exe: could a process of this container hold
 * CAP_SYS_PTRACE in our user namespace, where it opens /proc/PID/exe of
 * even a non-dumpable init? */
static bool create_needs_sealed_exe(const struct create_ctx *c)
{
        if ((c->ns.new_flags & CLONE_NEWUSER) || c->ns.join_fd[NS_USER] >= 0)
                return false;
        return process_caps_may_hold(c->spec->process->caps, "CAP_SYS_PTRACE");
}

/* The state dir: ROOT/ID created exclusively and locked. */
static int make_state_dir(struct create_ctx *c, struct error *err)
{
        c->rootfd = state_open_root(c->rt->root, err);
        if (c->rootfd < 0)
                return c->rootfd;
        if (mkdirat(c->rootfd, c->o->id, 0700) < 0) {
                if (errno == EEXIST)
                        return error_setx(err, EEXIST, "container with id exists: %s", c->o->id);
                return error_set(err, errno, "create state directory for `%s`", c->o->id);
        }
        c->dir_made = true;
        c->dirfd = openat(c->rootfd, c->o->id, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (c->dirfd < 0)
                return error_set(err, errno, "open state directory");
        if (flock(c->dirfd, LOCK_EX) < 0)
                return error_set(err, errno, "lock state directory");
        return 0;
}

static void fill_state(struct create_ctx *c)
{
        struct state *st = &c->st;

        st->id = (char *) c->o->id;
        st->bundle = c->bundle;
        st->rootfs = c->rootfs;
        st->created = time_now_rfc3339();
        st->owner = "";
        st->systemd_cgroup = c->rt->systemd_cgroup;
        st->has_pidns = c->ns.has[NS_PID];
        st->use_terminal = c->spec->process->terminal;
        st->poststart_hooks = c->spec->hooks.n[SPEC_HOOK_POSTSTART] > 0;
        st->poststop_hooks = c->spec->hooks.n[SPEC_HOOK_POSTSTOP] > 0;
        st->annotations = c->spec->annotations;
        st->n_annotations = c->spec->n_annotations;
}

static int make_listener(struct create_ctx *c, struct error *err)
{
        struct sockaddr_un sa = { .sun_family = AF_UNIX };

        c->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (c->listen_fd < 0)
                return error_set(err, errno, "socket");
        /* through the dir fd: ROOT/ID may be longer than sun_path */
        snprintf(sa.sun_path, sizeof(sa.sun_path), "/proc/self/fd/%d/start.sock", c->dirfd);
        if (bind(c->listen_fd, (struct sockaddr *) &sa, sizeof(sa)) < 0 || listen(c->listen_fd, 4) < 0)
                return error_set(err, errno, "create start socket");
        return 0;
}

/* Under a new user namespace, joining a network, ipc or uts namespace
 * that the host's user namespace owns fails (EPERM): the init would need
 * CAP_SYS_ADMIN over it.  So the runtime joins those itself before the
 * clone, the init is born in them, and the runtime goes back after.  OWN:
 * our namespaces to go back to. */
static const enum ns_type early_joins[] = { NS_NET, NS_IPC, NS_UTS };

static int join_early(struct create_ctx *c, int own[], unsigned *ret_flags, struct error *err)
{
        *ret_flags = 0;
        if (!(c->ns.new_flags & CLONE_NEWUSER))
                return 0;
        for (size_t i = 0; i < ELEMENTSOF(early_joins); i++) {
                enum ns_type t = early_joins[i];
                int flag = ns_type_to_clone_flag(t);
                char path[32];

                if (c->ns.join_fd[t] < 0)
                        continue;
                snprintf(path, sizeof(path), "/proc/self/ns/%s", t == NS_NET ? "net" : t == NS_IPC ? "ipc" : "uts");
                own[i] = open(path, O_RDONLY | O_CLOEXEC);
                if (own[i] < 0 || setns(c->ns.join_fd[t], flag) < 0)
                        return error_set(err, errno, "join %s namespace", ns_type_to_string(t));
                *ret_flags |= (unsigned) flag;
        }
        return 0;
}

static void join_early_undo(int own[])
{
        for (size_t i = 0; i < ELEMENTSOF(early_joins); i++)
                if (own[i] >= 0) {
                        (void) setns(own[i], ns_type_to_clone_flag(early_joins[i]));
                        close(own[i]);
                        own[i] = -EBADF;
                }
}

/* clone() the init into its new namespaces.  Joined pid and new time
 * namespaces are entered through our *_for_children namespaces, restored
 * right after. */
static int spawn_init(struct create_ctx *c, struct error *err)
{
        _cleanup_close_ int own_pid = -EBADF, own_time = -EBADF;
        int own_early[ELEMENTSOF(early_joins)] = { -EBADF, -EBADF, -EBADF };
        int pair[2], flags = c->ns.new_flags & ~(CLONE_NEWCGROUP | CLONE_NEWTIME);
        struct init_args a = {
                .spec = c->spec, .ns = &c->ns, .mode = c->mode, .parent = getpid(),
                .listen_fd = c->listen_fd, .console_fd = c->console_fd,
                .preserve_fds = c->o->preserve_fds, .close_fds = { c->dirfd, c->rootfd }, .rootfs = c->rootfs, .bundle = c->bundle,
                .no_pivot = c->o->no_pivot, .no_new_keyring = c->o->no_new_keyring,
                .has_hooks_before_pivot = c->spec->hooks.n[SPEC_HOOK_PRESTART] ||
                                          c->spec->hooks.n[SPEC_HOOK_CREATE_RUNTIME] ||
                                          c->spec->hooks.n[SPEC_HOOK_CREATE_CONTAINER],
        };
        pid_t pid;

        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) < 0)
                return error_set(err, errno, "socketpair");
        c->sync_fd = pair[0];
        a.sync_fd = pair[1];
        if (c->ns.join_fd[NS_PID] >= 0) {
                own_pid = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
                if (own_pid < 0 || setns(c->ns.join_fd[NS_PID], CLONE_NEWPID) < 0)
                        return error_set(err, errno, "join pid namespace");
        }
        if (c->ns.new_flags & CLONE_NEWTIME) {
                own_time = open("/proc/self/ns/time", O_RDONLY | O_CLOEXEC);
                if (own_time < 0 || unshare(CLONE_NEWTIME) < 0)
                        return error_set(err, errno, "linux.namespaces: create time namespace");
                if (ns_write_time_offsets(getpid(), &c->spec->linux_, err) < 0)
                        goto restore;
        } else if (c->ns.join_fd[NS_TIME] >= 0) {
                own_time = open("/proc/self/ns/time", O_RDONLY | O_CLOEXEC);
                if (own_time < 0 || setns(c->ns.join_fd[NS_TIME], CLONE_NEWTIME) < 0)
                        return error_set(err, errno, "join time namespace");
        }
        if (join_early(c, own_early, &a.joined_before, err) < 0)
                goto restore;
        a.cgroup_path = c->st.cgroup_path;
        /* CVE-2019-5736: the init is the runtime binary in the container's
         * pid namespace until it execs; non-dumpable from birth (execve
         * resets it), /proc/PID/{exe,root,cwd,fd} stay closed to processes
         * without CAP_SYS_PTRACE in our user namespace.  Not rootless: an
         * unprivileged runtime (and newuidmap) could not write its id maps */
        if (!c->rootless && prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0) {
                error_set(err, errno, "prctl PR_SET_DUMPABLE");
                goto restore;
        }
        {
                _cleanup_close_ int cgfd = c->st.cgroup_path ? cgroup_open_v2_dir(c->st.cgroup_path) : -EBADF;
                pid = cgroup_clone(flags, cgfd, &a.born_in_cgroup);
        }
        if (pid == 0) {
                close(c->sync_fd);
                init_main(&a);
        }
        if (pid < 0)
                error_set(err, errno, "clone the container init");
        else
                c->child = pid;
restore:
        close(a.sync_fd);
        join_early_undo(own_early);
        if (own_pid >= 0)
                (void) setns(own_pid, CLONE_NEWPID);
        if (own_time >= 0)
                (void) setns(own_time, CLONE_NEWTIME);
        return err->msg ? error_ret(err) : 0;
}

static int run_hooks_before_pivot(struct create_ctx *c, struct error *err)
{
        /* "created" as crun reports it; the validation suite expects it */
        _cleanup_free_ char *json = state_to_oci_json(&c->st, STATUS_CREATED, false);
        int r;

        r = hooks_run(c->spec, SPEC_HOOK_PRESTART, json, err);
        if (r >= 0)
                r = hooks_run(c->spec, SPEC_HOOK_CREATE_RUNTIME, json, err);
        if (r < 0)
                return r;
        r = sync_send(c->sync_fd, SYNC_HOOKS_DONE, 0, json);
        if (r < 0)
                return error_set(err, -r, "sync with the container init");
        return 0;
}

/* linux.seccomp.listenerPath gets the init's listener fd (SCMP_ACT_NOTIFY)
 * with the state, from here: the init sees the container's files only. */
static int send_seccomp_fd(struct create_ctx *c, int fd, struct error *err)
{
        _cleanup_close_ int owned = fd;
        _cleanup_free_ char *json = NULL;

        if (owned < 0 || !c->spec->linux_.seccomp)
                return error_setx(err, EPROTO, "unexpected seccomp listener fd from the container init");
        json = state_to_oci_json(&c->st, STATUS_CREATING, false);
        return seccomp_send_notify_fd(c->spec->linux_.seccomp, owned, json, err);
}

/* Drive the init until it reports it is ready for start. */
static int await_created(struct create_ctx *c, struct error *err)
{
        for (;;) {
                struct sync_msg m;
                int r;

                r = sync_recv(c->sync_fd, &m);
                if (r < 0)
                        return error_setx(err, EPIPE, "container init exited unexpectedly");
                switch (m.type) {
                case SYNC_ERROR:
                        return error_setx(err, m.code, "%s", m.text);
                case SYNC_HOOKS:
                        r = run_hooks_before_pivot(c, err);
                        if (r < 0)
                                return r;
                        break;
                case SYNC_PTY:
                        if (c->pty_master >= 0)
                                close(c->pty_master);
                        c->pty_master = m.fd;
                        break;
                case SYNC_SECCOMP:
                        r = send_seccomp_fd(c, m.fd, err);
                        if (r < 0)
                                return r;
                        break;
                case SYNC_CREATED:
                        return 0;
                default:
                        return error_setx(err, EPROTO, "unexpected message %d from the container init", m.type);
                }
        }
}

/* The device rules the container gets on top of the config's: mknod of
 * anything (access is what the rules guard), the default devices, the
 * pty devices, and each linux.devices entry.  The kernel's last match
 * wins, so these follow the config's rules. */
static void add_default_device_rules(struct spec *s)
{
        static const struct { char type; int64_t major, minor; const char *access; } defaults[] = {
                { 'c', -1, -1, "m" }, { 'b', -1, -1, "m" },  { 'c', 1, 3, "rwm" },  { 'c', 1, 5, "rwm" },
                { 'c', 1, 7, "rwm" }, { 'c', 1, 8, "rwm" },  { 'c', 1, 9, "rwm" },  { 'c', 5, 0, "rwm" },
                { 'c', 5, 1, "rwm" }, { 'c', 5, 2, "rwm" },  { 'c', 136, -1, "rwm" }, { 'c', 10, 200, "rwm" },
        };
        struct spec_resources *r = s->linux_.resources;
        size_t n = ELEMENTSOF(defaults) + s->linux_.n_devices, base;

        if (!r)
                r = s->linux_.resources = xzalloc(sizeof(*r));
        if (r->n_devices == 0)
                return; /* no rules: the cgroup keeps allowing everything */
        base = r->n_devices;
        r->devices = xrealloc(r->devices, (base + n) * sizeof(*r->devices));
        for (size_t i = 0; i < ELEMENTSOF(defaults); i++)
                r->devices[base + i] = (struct spec_device_cgroup){
                        .allow = true, .type = defaults[i].type, .has_major = true, .has_minor = true,
                        .major = defaults[i].major, .minor = defaults[i].minor, .access = xstrdup(defaults[i].access),
                };
        for (size_t i = 0; i < s->linux_.n_devices; i++) {
                const struct spec_device *d = &s->linux_.devices[i];
                r->devices[base + ELEMENTSOF(defaults) + i] = (struct spec_device_cgroup){
                        .allow = true, .type = d->type == 'b' ? 'b' : 'c', .has_major = true, .has_minor = true,
                        .major = d->major, .minor = d->minor, .access = xstrdup("rwm"),
                };
        }
        r->n_devices = base + n;
}

static int write_pid_file(const char *path, pid_t pid, struct error *err)
{
        char buf[32], abs[PATH_MAX];
        int r;

        snprintf(buf, sizeof(buf), "%d", (int) pid);
        /* resolve against our cwd now; write atomically like runc */
        if (path[0] != '/' && getcwd(abs, sizeof(abs)))
                path = xasprintf("%s/%s", abs, path);
        r = write_file_atomic_at(AT_FDCWD, path, buf, strlen(buf), 0644);
        if (r < 0)
                return error_set(err, -r, "--pid-file: write `%s`", path);
        return 0;
}

/* Rootless: is PATH inside a cgroup2 subtree delegated to us, i.e. is its
 * nearest existing ancestor writable, cgroup.procs included?  v1
 * hierarchies are never delegated to users. */
static bool cgroup_delegated(const char *path)
{
        _cleanup_free_ char *p = xstrdup(path);

        if (cgroup_layout() != CGROUP_LAYOUT_V2)
                return false;
        for (;;) {
                _cleanup_close_ int fd = cgroup_open_v2_dir(p);
                char *slash;

                if (fd >= 0)
                        return faccessat(fd, ".", W_OK, AT_EACCESS) == 0 &&
                               faccessat(fd, "cgroup.procs", W_OK, AT_EACCESS) == 0;
                slash = strrchr(p, '/');
                if (fd != -ENOENT || !slash)
                        return false;
                *slash = 0;
        }
}

/* The container's cgroup, made before the init exists (it enters it
 * itself).  Rootless without a delegated cgroup2 subtree there is none:
 * st.cgroup_path becomes NULL and kill, delete and ps go by the init's
 * pid namespace instead. */
static int make_cgroup(struct create_ctx *c, struct error *err)
{
        int r;

        if (c->rootless && c->st.cgroup_path && !cgroup_delegated(c->st.cgroup_path)) {
                free(c->st.cgroup_path);
                c->st.cgroup_path = NULL;
        }
        if (!c->st.cgroup_path)
                return 0;
        add_default_device_rules(c->spec);
        r = cgroup_create(c->st.cgroup_path, c->spec->linux_.resources, 0, err);
        if (r < 0 && c->rootless && (err->code == EACCES || err->code == EPERM || err->code == EROFS)) {
                /* delegated, yet not for everything asked: go without */
                error_clear(err);
                free(c->st.cgroup_path);
                c->st.cgroup_path = NULL;
                return 0;
        }
        c->cgroup_made = r >= 0;
        return r;
}

/* Idmapped bind mounts for a container with a user namespace: made here,
 * where the privilege is, and handed to the init before GO. */
static int send_idmapped_mounts(struct create_ctx *c, struct error *err)
{
        _cleanup_close_ int userns = -EBADF;
        int *fds = NULL;
        size_t n = 0;
        int r;

        if (c->ns.join_fd[NS_USER] >= 0)
                userns = fcntl(c->ns.join_fd[NS_USER], F_DUPFD_CLOEXEC, 3);
        else if (c->ns.new_flags & CLONE_NEWUSER) {
                char path[64];
                snprintf(path, sizeof(path), "/proc/%d/ns/user", (int) c->child);
                userns = open(path, O_RDONLY | O_CLOEXEC);
        } else
                return 0;
        if (userns < 0)
                return error_set(err, errno, "open the container's user namespace");
        r = ns_prepare_idmapped_mounts(c->spec, c->bundle, userns, c->rootless, &fds, &n, err);
        if (r < 0)
                return r;
        for (size_t i = 0; r >= 0 && n > 0 && i < c->spec->n_mounts; i++)
                if (fds[i] >= 0 && (r = sync_send_fd_code(c->sync_fd, SYNC_MOUNT_FD, (int) i, fds[i])) < 0)
                        error_set(err, -r, "send mounts[%zu] to the container init", i);
        ns_mount_fds_free(fds, c->spec->n_mounts);
        return r < 0 ? error_ret(err) : 0;
}

/* state.json is written once, when the init is ready: replacing a file
 * by rename costs a journal flush on ext4.  Until then a killed create is
 * recognised by the missing state.json, and its cgroup found through a
 * copy of the config, made before the cgroup (a copy cut short names no
 * cgroup yet).  exec, and the poststart and poststop hooks, read it too. */
static int record_unfinished(struct create_ctx *c, struct error *err)
{
        int r = state_config_write(c->dirfd, c->raw_config, c->raw_len);

        return r < 0 ? error_set(err, -r, "copy config.json") : 0;
}

static int create_container(struct create_ctx *c, struct error *err)
{
        int r;

        c->rootless = ns_rootless();
        r = load_config(c, err);
        if (r >= 0)
                r = ns_plan_init(c->spec, &c->ns, err);
        if (r >= 0)
                r = validate_spec(c, err);
        if (r >= 0 && create_needs_sealed_exe(c))
                r = process_ensure_sealed_exe(err); /* may start over: no side effects before */
        if (r >= 0)
                r = cgroup_resolve_path(c->spec->linux_.cgroups_path, c->o->id, c->rt->systemd_cgroup,
                                        &c->st.cgroup_path, err);
        if (r >= 0)
                r = make_state_dir(c, err);
        if (r < 0)
                return r;
        fill_state(c);
        r = record_unfinished(c, err);
        if (r >= 0 && c->mode == RUN_CREATE)
                r = make_listener(c, err);
        if (r >= 0 && c->o->console_socket) {
                c->console_fd = terminal_connect(c->o->console_socket, err);
                r = c->console_fd;
        }
        if (r >= 0)
                r = make_cgroup(c, err);
        if (r >= 0)
                r = spawn_init(c, err);
        if (r < 0)
                return r;
        c->st.pid = c->child;
        /* through the host's /proc: see process_set_oom_score_adj */
        r = process_set_oom_score_adj(c->spec->process, c->child, err);
        if (r < 0)
                return r;
        if (c->ns.new_flags & CLONE_NEWUSER) {
                r = ns_write_id_maps(c->child, &c->spec->linux_, c->rootless, err);
                if (r < 0)
                        return r;
        }
        r = send_idmapped_mounts(c, err);
        if (r < 0)
                return r;
        r = sync_send(c->sync_fd, SYNC_GO, 0, NULL);
        if (r < 0)
                return error_set(err, -r, "sync with the container init");
        /* while the init sets itself up */
        c->st.pid_start = proc_start_time(c->child);
        r = await_created(c, err);
        if (r < 0)
                return r;
        /* run starts it right away: record it as running at once (see
         * container_load for how a created one turns running) */
        r = state_write(c->dirfd, &c->st, c->mode == RUN_CREATE ? STATUS_CREATED : STATUS_RUNNING, err);
        if (r >= 0 && c->o->pid_file)
                r = write_pid_file(c->o->pid_file, c->child, err);
        if (r < 0 || c->mode == RUN_FOREGROUND)
                return r;
        /* no answer: the init reads it before the EOF of our exit */
        r = sync_send(c->sync_fd, SYNC_RELEASE, 0, NULL);
        if (r < 0)
                return error_set(err, -r, "sync with the container init");
        return 0;
}

static void cleanup_stopped(const struct runtime_ctx *ctx, int rootfd, int dirfd, struct state *st);

static int start_from_runtime(struct create_ctx *c, struct error *err)
{
        _cleanup_free_ char *json = state_to_oci_json(&c->st, STATUS_CREATED, false);
        struct sync_msg m;
        int r;

        r = sync_send(c->sync_fd, SYNC_START, 0, json);
        if (r < 0)
                return error_set(err, -r, "start the container");
        /* EOF: exec happened (our end closes on exec); a message: it failed */
        r = sync_recv(c->sync_fd, &m);
        if (r >= 0 && m.type == SYNC_ERROR)
                return error_setx(err, m.code, "%s", m.text);
        {
                _cleanup_free_ char *running = state_to_oci_json(&c->st, STATUS_RUNNING, false);
                struct error ignored = ERROR_INIT;
                /* a failing poststart hook is a warning, per the spec */
                (void) hooks_run(c->spec, SPEC_HOOK_POSTSTART, running, &ignored);
                error_clear(&ignored);
        }
        return 0;
}

int container_run(const struct runtime_ctx *ctx, const struct create_opts *o, enum run_mode mode, int *ret_status,
                  struct error *err)
{
        struct create_ctx c = {
                .rt = ctx, .o = o, .mode = mode,
                .rootfd = -1, .dirfd = -1, .listen_fd = -1, .console_fd = -1, .sync_fd = -1, .pty_master = -1,
        };
        int r;

        for (int i = 0; i < _NS_MAX; i++)
                c.ns.join_fd[i] = -1;
        r = state_validate_id(o->id, err);
        if (r < 0)
                return r;
        r = create_container(&c, err);
        if (r >= 0 && mode != RUN_CREATE)
                r = start_from_runtime(&c, err);
        if (r < 0) {
                create_undo(&c);
                create_ctx_release(&c);
                return r;
        }
        if (mode == RUN_FOREGROUND) {
                struct state *st = &c.st;
                (void) process_wait_foreground(c.child, c.pty_master, ret_status);
                c.child = 0;
                if (!o->keep)
                        cleanup_stopped(ctx, c.rootfd, c.dirfd, st);
        }
        create_ctx_release(&c);
        return 0;
}

/* The poststart or poststop hooks from the config copy, with the state
 * in status S.  Their failures are warnings (the spec), so nothing is
 * returned; containers without such hooks never read the copy. */
static void run_recorded_hooks(int dirfd, const struct state *st, enum spec_hook_kind kind, enum container_status s)
{
        _cleanup_free_ char *raw = NULL, *json = NULL;
        struct error ignored = ERROR_INIT;
        struct spec *spec = NULL;
        size_t len;

        if (!(kind == SPEC_HOOK_POSTSTART ? st->poststart_hooks : st->poststop_hooks))
                return;
        if (state_config_read(dirfd, &raw, &len) < 0 || spec_parse(raw, len, &spec, &ignored) < 0) {
                error_clear(&ignored);
                return;
        }
        json = state_to_oci_json(st, s, false);
        (void) hooks_run(spec, kind, json, &ignored);
        error_clear(&ignored);
        spec_free(spec);
}

/* Poststop hooks, cgroup, state dir: what delete removes once nothing runs. */
static void cleanup_stopped(const struct runtime_ctx *ctx, int rootfd, int dirfd, struct state *st)
{
        run_recorded_hooks(dirfd, st, SPEC_HOOK_POSTSTOP, STATUS_STOPPED);
        if (st->cgroup_path)
                (void) cgroup_destroy(st->cgroup_path, NULL);
        state_dir_remove(rootfd, st->id);
        (void) ctx;
}

/* A state dir without state.json: "creating" while its create holds the
 * lock, else the remains of a killed one (stopped), whose cgroup the
 * config copy names, so that delete --force removes it. */
static struct state *load_unfinished(const struct runtime_ctx *ctx, const char *id, int dirfd)
{
        struct state *st = xzalloc(sizeof(*st));
        _cleanup_close_ int lockfd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        _cleanup_free_ char *raw = NULL;
        size_t len;

        st->recorded = STATUS_STOPPED;
        if (lockfd >= 0 && flock(lockfd, LOCK_SH | LOCK_NB) < 0 && errno == EWOULDBLOCK) {
                st->recorded = STATUS_CREATING;
                return st;
        }
        if (state_config_read(dirfd, &raw, &len) >= 0) {
                struct spec *s = NULL;
                struct error ignored = ERROR_INIT;
                if (spec_parse(raw, len, &s, &ignored) >= 0)
                        (void) cgroup_resolve_path(s->linux_.cgroups_path, id, ctx->systemd_cgroup, &st->cgroup_path,
                                                   &ignored);
                error_clear(&ignored);
                spec_free(s);
        }
        return st;
}

int container_load(const struct runtime_ctx *ctx, const char *id, int *ret_dirfd, struct state **ret,
                   struct error *err)
{
        _cleanup_close_ int rootfd = -EBADF, dirfd = -EBADF;
        struct state *st = NULL;
        int r;

        r = state_validate_id(id, err);
        if (r < 0)
                return r;
        rootfd = open(ctx->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (rootfd >= 0)
                dirfd = openat(rootfd, id, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (dirfd < 0) {
                if (errno == ENOENT)
                        return error_setx(err, ENOENT, "container `%s` does not exist", id);
                return error_set(err, errno, "open state of `%s`", id);
        }
        r = state_read(dirfd, &st, err);
        if (r == -ENOENT) {
                /* no state.json: a create under way, or one that was killed */
                st = load_unfinished(ctx, id, dirfd);
                r = 0;
        }
        if (r < 0)
                return r;
        if (st->recorded == STATUS_CREATED &&
            faccessat(dirfd, "start.sock", F_OK, AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT)
                st->recorded = STATUS_RUNNING;
        free(st->id);
        st->id = xstrdup(id);
        if (st->cgroup_path && !*st->cgroup_path) {
                /* recorded as "": no cgroup (rootless) */
                free(st->cgroup_path);
                st->cgroup_path = NULL;
        }
        if (ret_dirfd)
                *ret_dirfd = TAKE_FD(dirfd);
        *ret = st;
        return 0;
}

static int open_root(const struct runtime_ctx *ctx, struct error *err)
{
        int fd = open(ctx->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return error_set(err, errno, "open runtime root `%s`", ctx->root);
        return fd;
}

int container_start(const struct runtime_ctx *ctx, const char *id, struct error *err)
{
        _cleanup_(state_freep) struct state *st = NULL;
        _cleanup_close_ int dirfd = -EBADF, sock = -EBADF;
        _cleanup_free_ char *json = NULL, *reply = NULL;
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        enum container_status s;
        size_t len = 0;
        int r;

        r = container_load(ctx, id, &dirfd, &st, err);
        if (r < 0)
                return r;
        if (flock(dirfd, LOCK_EX) < 0)
                return error_set(err, errno, "lock state of `%s`", id);
        s = state_current_status(st);
        if (s != STATUS_CREATED)
                return error_setx(err, EINVAL, "cannot start a container in the %s state", container_status_to_string(s));
        json = state_to_oci_json(st, STATUS_CREATED, false);
        sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (sock < 0)
                return error_set(err, errno, "socket");
        snprintf(sa.sun_path, sizeof(sa.sun_path), "/proc/self/fd/%d/start.sock", dirfd);
        if (connect(sock, (struct sockaddr *) &sa, sizeof(sa)) < 0)
                return error_set(err, errno, "start container `%s`", id);
        if (write_all(sock, json, strlen(json)) < 0 || shutdown(sock, SHUT_WR) < 0)
                return error_set(err, errno, "start container `%s`", id);
        r = read_full_fd(sock, SYNC_MAX * 2, &reply, &len);
        if (r >= 0 && len >= offsetof(struct sync_msg, text) + 1) {
                struct sync_msg *m = (struct sync_msg *) reply;
                if (m->type == SYNC_ERROR)
                        return error_setx(err, m->code, "%s", m->text);
        }
        /* started: no start.sock means running (see container_load) */
        if (unlinkat(dirfd, "start.sock", 0) < 0 && errno != ENOENT)
                return error_set(err, errno, "remove the start socket of `%s`", id);
        run_recorded_hooks(dirfd, st, SPEC_HOOK_POSTSTART, STATUS_RUNNING);
        return 0;
}

static int signal_init(const struct state *st, int sig, struct error *err)
{
        _cleanup_close_ int pfd = (int) syscall(SYS_pidfd_open, st->pid, 0);

        /* the pidfd pins the process; recheck it is still ours */
        if (pfd < 0 || !proc_alive(st->pid, st->pid_start))
                return error_setx(err, ESRCH, "container not running");
        if (syscall(SYS_pidfd_send_signal, pfd, sig, NULL, 0) < 0) {
                if (errno == ESRCH)
                        return error_setx(err, ESRCH, "container not running");
                return error_set(err, errno, "kill container init");
        }
        return 0;
}

/* kill --all of a container without a cgroup (rootless): with its own pid
 * namespace SIGKILL to the init takes everything with it; other signals
 * go to each process of that namespace.  Without one, to the init and its
 * descendants. */
static int kill_all_without_cgroup(const struct state *st, int sig, struct error *err)
{
        _cleanup_free_ pid_t *pids = NULL;
        size_t n = 0;
        int r;

        if (!proc_alive(st->pid, st->pid_start))
                return 0;
        if (st->has_pidns && sig == SIGKILL)
                return signal_init(st, sig, err);
        r = ns_container_pids(st->pid, st->pid_start, st->has_pidns, &pids, &n, err);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                _cleanup_close_ int pfd = (int) syscall(SYS_pidfd_open, pids[i], 0);
                if (pfd >= 0)
                        (void) syscall(SYS_pidfd_send_signal, pfd, sig, NULL, 0);
        }
        return 0;
}

static int need_cgroup(const struct state *st, const char *what, struct error *err)
{
        if (!st->cgroup_path)
                return error_setx(err, EOPNOTSUPP,
                                  "%s: container `%s` has no cgroup (rootless, without a delegated cgroup v2 subtree)",
                                  what, st->id);
        return 0;
}

int container_kill(const struct runtime_ctx *ctx, const char *id, int sig, bool all, struct error *err)
{
        _cleanup_(state_freep) struct state *st = NULL;
        _cleanup_close_ int dirfd = -EBADF;
        enum container_status s;
        int r;

        r = container_load(ctx, id, &dirfd, &st, err);
        if (r < 0)
                return r;
        s = state_current_status(st);
        if (s == STATUS_STOPPED && !all)
                return error_setx(err, ESRCH, "container not running");
        if (all && st->cgroup_path) {
                r = cgroup_kill_all(st->cgroup_path, sig, err);
                if (r < 0)
                        return r;
                return 0;
        }
        if (all)
                return kill_all_without_cgroup(st, sig, err);
        if (s == STATUS_STOPPED)
                return error_setx(err, ESRCH, "container not running");
        return signal_init(st, sig, err);
}

/* Kill everything and wait (at most ~10 s) for the init to be gone. */
static int kill_and_wait(struct state *st, struct error *err)
{
        if (st->cgroup_path) {
                (void) cgroup_freeze(st->cgroup_path, false, NULL);
                (void) cgroup_kill_all(st->cgroup_path, SIGKILL, NULL);
        } else if (!st->has_pidns)
                (void) kill_all_without_cgroup(st, SIGKILL, NULL);
        if (proc_alive(st->pid, st->pid_start)) {
                _cleanup_close_ int pfd = (int) syscall(SYS_pidfd_open, st->pid, 0);
                if (pfd >= 0 && proc_alive(st->pid, st->pid_start)) {
                        struct pollfd p = { .fd = pfd, .events = POLLIN };
                        (void) syscall(SYS_pidfd_send_signal, pfd, SIGKILL, NULL, 0);
                        (void) poll(&p, 1, 10000);
                }
        }
        for (int i = 0; i < 1000 && proc_alive(st->pid, st->pid_start); i++) {
                struct timespec ts = { 0, 10 * 1000 * 1000 };
                nanosleep(&ts, NULL);
        }
        if (proc_alive(st->pid, st->pid_start))
                return error_setx(err, EBUSY, "container init %d did not exit after SIGKILL", (int) st->pid);
        return 0;
}

int container_delete(const struct runtime_ctx *ctx, const char *id, bool force, struct error *err)
{
        _cleanup_(state_freep) struct state *st = NULL;
        _cleanup_close_ int dirfd = -EBADF, rootfd = -EBADF;
        enum container_status s;
        int r;

        r = container_load(ctx, id, &dirfd, &st, err);
        if (r < 0) {
                if (force && err->code == ENOENT) {
                        error_clear(err);
                        return 0;
                }
                return r;
        }
        if (flock(dirfd, LOCK_EX) < 0)
                return error_set(err, errno, "lock state of `%s`", id);
        s = state_current_status(st);
        if ((s == STATUS_RUNNING || s == STATUS_PAUSED) && !force)
                return error_setx(err, EBUSY, "cannot delete container %s that is not stopped: container is %s", id,
                                  container_status_to_string(s));
        if (s == STATUS_CREATING && !force)
                return error_setx(err, EBUSY, "cannot delete container %s that is being created", id);
        r = kill_and_wait(st, err);
        if (r < 0)
                return r;
        rootfd = open_root(ctx, err);
        if (rootfd < 0)
                return rootfd;
        cleanup_stopped(ctx, rootfd, dirfd, st);
        return 0;
}

int container_pause(const struct runtime_ctx *ctx, const char *id, bool pause, struct error *err)
{
        _cleanup_(state_freep) struct state *st = NULL;
        enum container_status s;
        int r;

        r = container_load(ctx, id, NULL, &st, err);
        if (r < 0)
                return r;
        s = state_current_status(st);
        if (pause && s != STATUS_RUNNING && s != STATUS_CREATED)
                return error_setx(err, EINVAL, "container not running");
        if (!pause && s != STATUS_PAUSED)
                return error_setx(err, EINVAL, "container not paused");
        r = need_cgroup(st, pause ? "pause" : "resume", err);
        if (r < 0)
                return r;
        return cgroup_freeze(st->cgroup_path, pause, err);
}

static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(char *const *) a, *(char *const *) b);
}

int container_list_ids(const struct runtime_ctx *ctx, char ***ret, struct error *err)
{
        DIR *d = opendir(ctx->root);
        struct dirent *de;
        char **v = NULL;
        size_t n = 0;

        if (!d) {
                if (errno == ENOENT) {
                        *ret = xzalloc(sizeof(char *));
                        return 0;
                }
                return error_set(err, errno, "open runtime root `%s`", ctx->root);
        }
        while ((de = readdir(d))) {
                if (de->d_name[0] == '.' || de->d_type != DT_DIR)
                        continue;
                v = xrealloc(v, (n + 2) * sizeof(char *));
                v[n++] = xstrdup(de->d_name);
        }
        closedir(d);
        if (!v)
                v = xzalloc(sizeof(char *));
        v[n] = NULL;
        qsort(v, n, sizeof(char *), cmp_str);
        *ret = v;
        return 0;
}

int container_pids(const struct runtime_ctx *ctx, const char *id, pid_t **ret, size_t *ret_n, struct error *err)
{
        _cleanup_(state_freep) struct state *st = NULL;
        int r;

        r = container_load(ctx, id, NULL, &st, err);
        if (r < 0)
                return r;
        if (state_current_status(st) == STATUS_STOPPED) {
                *ret = NULL;
                *ret_n = 0;
                return 0;
        }
        if (!st->cgroup_path)
                return ns_container_pids(st->pid, st->pid_start, st->has_pidns, ret, ret_n, err);
        return cgroup_pids(st->cgroup_path, ret, ret_n, err);
}

int container_update(const struct runtime_ctx *ctx, const char *id, const struct spec_resources *res,
                     struct error *err)
{
        _cleanup_(state_freep) struct state *st = NULL;
        int r;

        r = container_load(ctx, id, NULL, &st, err);
        if (r < 0)
                return r;
        if (state_current_status(st) == STATUS_STOPPED)
                return error_setx(err, EINVAL, "container not running");
        r = need_cgroup(st, "update", err);
        if (r < 0)
                return r;
        return cgroup_update(st->cgroup_path, res, err);
}
