/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "basic/fileio.h"
#include "basic/rm-rf.h"
#include "engine/engine-internal.h"
#include "engine/monitor.h"
#include "engine/network-internal.h"
#include "engine/ocispec.h"
#include "image/snapshot.h"

/* ---- the OCI runtime ---------------------------------------------------- */

char **engine_runtime_argv(struct engine *e, const struct container *c)
{
        const char *base = strrchr(c->runtime, '/');
        char **v = NULL;

        base = base ? base + 1 : c->runtime;
        strv_push(&v, xstrdup(c->runtime));
        strv_push(&v, xstrdup("--root"));
        strv_push(&v, xasprintf("%s/%s", e->run_dir, base));
        return v;
}

/* The last non-empty line of S, without runc's "time=… level=error msg=" decoration. */
static char *last_line(char *s)
{
        char *end = s + strlen(s), *start, *msg;

        while (end > s && (end[-1] == '\n' || end[-1] == ' '))
                *--end = '\0';
        start = strrchr(s, '\n');
        start = start ? start + 1 : s;
        msg = strstr(start, "msg=\"");
        if (msg) {
                char *q = strrchr(msg + 5, '"');
                if (q)
                        *q = '\0';
                start = msg + 5;
        }
        return xstrdup(start);
}

/* A pipe P (close-on-exec) and a child: its pid (0 in the child), or -errno. */
static pid_t fork_with_pipe(int p[2], struct error *err)
{
        pid_t pid;

        if (pipe2(p, O_CLOEXEC) < 0)
                return error_set(err, errno, "pipe");
        pid = fork();
        if (pid < 0) {
                int r = error_set(err, errno, "fork");
                close(p[0]);
                close(p[1]);
                return r;
        }
        return pid;
}

int engine_runtime_run(struct engine *e, const struct container *c, const char *const *args, struct error *err)
{
        _cleanup_strv_free_ char **argv = engine_runtime_argv(e, c);
        _cleanup_free_ char *out = NULL;
        int p[2], status;
        pid_t pid;

        for (size_t i = 0; args[i]; i++)
                strv_push(&argv, xstrdup(args[i]));
        pid = fork_with_pipe(p, err);
        if (pid < 0)
                return pid;
        if (pid == 0) {
                int null = open("/dev/null", O_RDWR);
                dup2(null, 0);
                dup2(null, 1);
                dup2(p[1], 2);
                execv(argv[0], argv);
                _exit(127);
        }
        close(p[1]);
        (void) read_full_fd(p[0], 1 << 20, &out, NULL);
        close(p[0]);
        if (RETRY_EINTR(waitpid(pid, &status, 0)) < 0)
                return error_set(err, errno, "wait for %s", argv[0]);
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
                return 0;
        {
                _cleanup_free_ char *line = last_line(out ? out : xstrdup(""));
                error_setx(err, EIO, "%s %s: %s", argv[0], args[0],
                           *line ? line : WIFEXITED(status) ? "failed" : "killed");
        }
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* ---- the monitor's socket ------------------------------------------------ */

int engine_connect(struct engine *e, const struct container *c, struct error *err)
{
        _cleanup_close_ int dir = open(c->dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
        _cleanup_close_ int fd = -EBADF;
        struct sockaddr_un sa = { .sun_family = AF_UNIX };

        if (dir < 0)
                return error_set(err, errno, "open `%s`", c->dir);
        snprintf(sa.sun_path, sizeof(sa.sun_path), "/proc/self/fd/%d/attach.sock", dir);
        fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return error_set(err, errno, "socket");
        if (connect(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0) {
                if (errno == ENOENT || errno == ECONNREFUSED)
                        return error_setx(err, ENOTCONN, "container %s is not running", c->name);
                return error_set(err, errno, "connect to the monitor of %s", c->name);
        }
        return TAKE_FD(fd);
}

static int send_msg(int fd, char type, const char *payload, size_t len)
{
        char buf[1 + MON_MAX_PAYLOAD];

        if (len > MON_MAX_PAYLOAD)
                len = MON_MAX_PAYLOAD;
        buf[0] = type;
        if (len)
                memcpy(buf + 1, payload, len);
        return send(fd, buf, 1 + len, MSG_NOSIGNAL) < 0 ? -errno : 0;
}

int monitor_request(struct engine *e, const struct container *c, char type, const char *payload, char want,
                    struct error *err)
{
        _cleanup_close_ int fd = engine_connect(e, c, err);
        char buf[1 + MON_MAX_PAYLOAD];
        int r;

        if (fd < 0)
                return fd;
        r = send_msg(fd, type, payload, payload ? strlen(payload) : 0);
        if (r < 0)
                return error_set(err, -r, "talk to the monitor of %s", c->name);
        for (;;) {
                ssize_t n;
                if (!want)
                        return 0;
                n = RETRY_EINTR(recv(fd, buf, sizeof(buf) - 1, 0));
                if (n < 0)
                        return error_set(err, errno, "talk to the monitor of %s", c->name);
                if (n == 0)
                        return want == MON_EXIT ? 0 : error_setx(err, ENOTCONN, "container %s is not running", c->name);
                buf[n] = '\0';
                if (buf[0] == MON_ERROR)
                        return error_setx(err, EIO, "container %s: %s", c->name, buf + 1);
                if (buf[0] == want) {
                        if (want != MON_EXIT)
                                return 0;
                        /* a stop waits for the last exit, not a restart */
                        if (!strchr(buf + 1, ' ') || strchr(buf + 1, ' ')[1] != '1')
                                return 0;
                }
        }
}

/* ---- start ----------------------------------------------------------- */

static char *find_helper(struct engine *e, const char *env, const char *name)
{
        const char *v = getenv(env);
        char *p;

        if (v && *v)
                return xstrdup(v);
        p = xasprintf("%s/%s", e->self_dir, name);
        if (access(p, X_OK) == 0)
                return p;
        free(p);
        return xasprintf("/usr/libexec/berth/%s", name);
}

/* Mount C's root file system at DIR/rootfs unless it is. */
int container_mount_rootfs(struct engine *e, const struct container *c, struct error *err)
{
        _cleanup_free_ char *target = xasprintf("%s/rootfs", c->dir);
        _cleanup_free_ char *upper = xasprintf("%s/diff", c->dir), *work = xasprintf("%s/work", c->dir);
        struct store_image img = {};
        struct userns_range u;
        int r;

        if (mkdir(target, 0755) < 0 && errno != EEXIST)
                return error_set(err, errno, "create `%s`", target);
        r = snapshot_probe(e->store, target, err);
        if (r == SNAPSHOT_OURS)
                return 0;
        if (r < 0)
                return r;
        if (r == SNAPSHOT_OTHER)
                return error_setx(err, EBUSY, "`%s`: something else is mounted there", target);
        r = store_image_find(e->store, c->image_id, &img, err);
        if (r < 0)
                return error_prefix(err, "container %s", c->name);
        if (container_userns(c, &u) > 0) {
                /* the image's files seen as the container's ids: idmapped layers */
                _cleanup_close_ int userns = -EBADF, mfd = -EBADF;
                r = userns_prepare_dirs(e, c, &u, err);
                if (r >= 0)
                        r = userns = userns_open(&u, err);
                if (r >= 0)
                        r = mfd = snapshot_open_idmapped(e->store, &img, upper, work, userns, err);
                if (r >= 0 && move_mount(mfd, "", AT_FDCWD, target, MOVE_MOUNT_F_EMPTY_PATH) < 0)
                        r = error_set(err, errno, "mount the root file system at `%s`", target);
        } else
                r = snapshot_mount(e->store, &img, upper, work, target, err);
        store_image_clear(&img);
        return r;
}

void container_teardown(struct engine *e, const struct container *c)
{
        _cleanup_strv_free_ char **argv = engine_runtime_argv(e, c);
        _cleanup_free_ char *state = xasprintf("%s/%s", argv[2], c->id);
        _cleanup_free_ char *rootfs = xasprintf("%s/rootfs", c->dir);

        if (access(state, F_OK) == 0)
                (void) engine_runtime_run(e, c, (const char *[]) { "delete", "--force", c->id, NULL }, NULL);
        container_net_detach(e, c);
        while (umount2(rootfs, MNT_DETACH | UMOUNT_NOFOLLOW) == 0)
                ;
}

/* Fill the volumes that are new and empty from the image, as Docker does. */
static int populate_volumes(struct engine *e, const struct container *c, struct error *err)
{
        json_object *mounts = jget(jget(c->config, "HostConfig"), "Mounts");
        _cleanup_free_ char *rootfs = xasprintf("%s/rootfs", c->dir);
        _cleanup_close_ int rfd = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);

        struct userns_range u;
        bool userns = container_userns(c, &u) > 0 && u.container == 0;
        struct stat st;

        if (rfd < 0)
                return error_set(err, errno, "open `%s`", rootfs);
        for (size_t i = 0; json_object_is_type(mounts, json_type_array) && i < json_object_array_length(mounts); i++) {
                json_object *m = json_object_array_get_idx(mounts, i);
                json_object *no_copy = jget(jget(m, "VolumeOptions"), "NoCopy");
                const char *type = jstr(m, "Type"), *src = jstr(m, "Source"), *dst = jstr(m, "Target");
                _cleanup_free_ char *dir = NULL;
                int r;

                if (!type || strcmp(type, "volume") != 0 || !src || !dst || json_object_get_boolean(no_copy))
                        continue;
                dir = xasprintf("%s/%s/_data", e->volumes_dir, src);
                r = volume_populate(rfd, dst, dir, err);
                if (r < 0)
                        return r;
                /* a volume nothing filled belongs to the container's root, as with Docker's
                 * remapping; the way to it searchable by that root */
                if (userns && lstat(dir, &st) == 0 && st.st_uid == 0 && chown(dir, u.host, u.host) < 0)
                        return error_set(err, errno, "chown `%s`", dir);
                if (userns) {
                        _cleanup_free_ char *vdir = xasprintf("%s/%s", e->volumes_dir, src);
                        if (chmod(e->volumes_dir, 0711) < 0 || chmod(vdir, 0711) < 0)
                                return error_set(err, errno, "chmod `%s`", vdir);
                }
        }
        return 0;
}

static int write_config(struct engine *e, const struct container *c, json_object *image_config, const char *netns,
                        struct error *err)
{
        _cleanup_free_ char *rootfs = xasprintf("%s/rootfs", c->dir), *bundle = xasprintf("%s/bundle", c->dir);
        _cleanup_free_ char *hosts = xasprintf("%s/hosts", c->dir), *hn = xasprintf("%s/hostname", c->dir);
        _cleanup_free_ char *resolv = xasprintf("%s/resolv.conf", c->dir), *cg = container_cgroup(c);
        _cleanup_free_ char *init = find_helper(e, "BERTH_INIT", "berth-init");
        _cleanup_free_ char *path = xasprintf("%s/bundle/config.json", c->dir);
        _cleanup_close_ int rfd = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
        json_object *spec = NULL;
        struct ocispec_env env = {
                .id = c->id, .rootfs = rootfs, .rootfs_fd = rfd, .volumes_dir = e->volumes_dir,
                .hosts_file = hosts, .hostname_file = hn, .resolv_file = resolv, .init_path = init,
                .cgroup_path = cg, .netns_path = netns,
        };
        struct userns_range u;
        const char *s;
        int r;

        if (container_userns(c, &u) > 0 && u.container == 0) {
                env.userns_uid = env.userns_gid = u.host;
                env.userns_count = u.count;
        }
        if (rfd < 0)
                return error_set(err, errno, "open `%s`", rootfs);
        if (mkdir(bundle, 0700) < 0 && errno != EEXIST)
                return error_set(err, errno, "create `%s`", bundle);
        r = ocispec_build(c->config, image_config, &env, &spec, err);
        if (r < 0)
                return r;
        s = json_object_to_json_string_ext(spec, JSON_C_TO_STRING_PLAIN);
        r = write_file_atomic_at(AT_FDCWD, path, s, strlen(s), 0600);
        json_object_put(spec);
        return r < 0 ? error_set(err, -r, "write `%s`", path) : 0;
}

/* The health check of the container, else of the image; NULL: none. */
static json_object *health_json(const struct container *c, json_object *image_config)
{
        json_object *hc = jget(jget(c->config, "Config"), "Healthcheck"), *test, *h, *v;

        if (!hc)
                hc = jget(image_config, "Healthcheck");
        test = jget(hc, "Test");
        if (!json_object_is_type(test, json_type_array) || json_object_array_length(test) < 2 ||
            strcmp(json_object_get_string(json_object_array_get_idx(test, 0)), "NONE") == 0)
                return NULL;
        h = json_object_new_object();
        json_object_object_add(h, "test", json_object_get(test));
        v = jget(hc, "Interval");
        json_object_object_add(h, "interval", json_object_new_int64(v && json_object_get_int64(v) > 0
                                                                            ? json_object_get_int64(v)
                                                                            : 30000000000LL));
        v = jget(hc, "Timeout");
        json_object_object_add(h, "timeout", json_object_new_int64(v && json_object_get_int64(v) > 0
                                                                           ? json_object_get_int64(v)
                                                                           : 30000000000LL));
        v = jget(hc, "StartPeriod");
        json_object_object_add(h, "start_period", json_object_new_int64(v ? json_object_get_int64(v) : 0));
        v = jget(hc, "Retries");
        json_object_object_add(h, "retries",
                               json_object_new_int(v && json_object_get_int(v) > 0 ? json_object_get_int(v) : 3));
        return h;
}

static int stop_signal_of(const struct container *c, json_object *image_config)
{
        const char *s = jstr(jget(c->config, "Config"), "StopSignal");
        int sig = SIGTERM;

        if (!s || !*s)
                s = jstr(image_config, "StopSignal");
        if (s && *s && parse_signal("StopSignal", s, &sig, NULL) < 0)
                sig = SIGTERM;
        return sig;
}

static int stop_timeout_of(const struct container *c)
{
        json_object *t = jget(jget(c->config, "Config"), "StopTimeout");

        return t && json_object_is_type(t, json_type_int) ? json_object_get_int(t) : 10;
}

static int write_monitor_config(struct engine *e, const struct container *c, json_object *image_config,
                                bool wait_attach, struct error *err)
{
        json_object *cfg = jget(c->config, "Config"), *host = jget(c->config, "HostConfig");
        json_object *restart = jget(host, "RestartPolicy"), *logc = jget(jget(host, "LogConfig"), "Config");
        const char *max_size = jstr(logc, "max-size"), *max_file = jstr(logc, "max-file");
        json_object *m, *a, *oom, *o, *exit_cmd;
        _cleanup_strv_free_ char **rt = engine_runtime_argv(e, c);
        _cleanup_free_ char *log = xasprintf("%s/ctr.log", c->dir), *path = xasprintf("%s/monitor.json", c->dir);
        _cleanup_free_ char *self = NULL, *cg = NULL;
        int64_t size = 10 << 20, files = 3;
        const char *s;
        int r;

        r = max_size ? parse_bytes("--log-opt max-size", max_size, &size, err) : 0;
        if (r < 0)
                return r;
        if (max_file)
                files = atoi(max_file) > 0 ? atoi(max_file) : 1;
        /* the runtime's --root, which the monitor's first call needs */
        if (mkdir(rt[2], 0700) < 0 && errno != EEXIST)
                return error_set(err, errno, "create `%s`", rt[2]);
        m = json_object_new_object();
        a = json_object_new_array();
        oom = json_object_new_array();
        o = json_object_new_object();
        exit_cmd = json_object_new_array();
        json_object_object_add(m, "id", json_object_new_string(c->id));
        json_object_object_add(m, "runtime", json_object_new_string(rt[0]));
        json_object_array_add(a, json_object_new_string(rt[1]));
        json_object_array_add(a, json_object_new_string(rt[2]));
        json_object_object_add(m, "runtime_args", a);
        json_object_object_add(m, "tty", json_object_new_boolean(json_object_get_boolean(jget(cfg, "Tty"))));
        json_object_object_add(m, "stdin", json_object_new_boolean(json_object_get_boolean(jget(cfg, "OpenStdin"))));
        json_object_object_add(m, "wait_attach", json_object_new_boolean(wait_attach));
        json_object_object_add(m, "log_path", json_object_new_string(log));
        json_object_object_add(m, "log_max_size", json_object_new_int64(size));
        json_object_object_add(m, "log_max_files", json_object_new_int64(files));
        s = jstr(restart, "Name");
        json_object_object_add(m, "restart", json_object_new_string(s && *s ? s : "no"));
        json_object_object_add(m, "restart_max", json_object_new_int(json_object_get_int(jget(restart,
                                                                                            "MaximumRetryCount"))));
        json_object_object_add(m, "stop_signal", json_object_new_int(stop_signal_of(c, image_config)));
        json_object_object_add(m, "stop_timeout", json_object_new_int(stop_timeout_of(c)));
        json_object_object_add(m, "health", health_json(c, image_config));
        {
                _cleanup_free_ char *dir = container_cgroup_dir(c, "memory");
                cg = xasprintf("%s/%s", dir, cgroup2_only() ? "memory.events" : "memory.oom_control");
        }
        json_object_object_add(o, "path", json_object_new_string(cg));
        json_object_object_add(o, "key", json_object_new_string("oom_kill"));
        json_object_array_add(oom, o);
        json_object_object_add(m, "oom", oom);
        self = realpath("/proc/self/exe", NULL);
        json_object_array_add(exit_cmd, json_object_new_string(self ? self : "/usr/bin/berth"));
        json_object_array_add(exit_cmd, json_object_new_string("--root"));
        json_object_array_add(exit_cmd, json_object_new_string(e->root));
        json_object_array_add(exit_cmd, json_object_new_string("container"));
        json_object_array_add(exit_cmd, json_object_new_string("cleanup"));
        json_object_array_add(exit_cmd, json_object_new_string(c->id));
        json_object_object_add(m, "exit_command", exit_cmd);
        s = json_object_to_json_string_ext(m, JSON_C_TO_STRING_PLAIN);
        r = write_file_atomic_at(AT_FDCWD, path, s, strlen(s), 0600);
        json_object_put(m);
        return r < 0 ? error_set(err, -r, "write `%s`", path) : 0;
}

/* Start C's monitor, detached; its report line (see monitor.h). */
static int spawn_monitor(struct engine *e, const struct container *c, char **ret_line, struct error *err)
{
        _cleanup_free_ char *monitor = find_helper(e, "BERTH_MONITOR", "berth-monitor");
        _cleanup_free_ char *out = NULL;
        int p[2], status;
        pid_t pid;

        pid = fork_with_pipe(p, err);
        if (pid < 0)
                return pid;
        if (pid == 0) {
                sigset_t none;
                int null;
                /* detached: its own session, not our child */
                if (setsid() < 0 || fork() != 0)
                        _exit(0);
                null = open("/dev/null", O_RDWR | O_CLOEXEC);
                dup2(null, 0);
                dup2(null, 1);
                dup2(null, 2);
                dup2(p[1], 3);
                (void) close_range(4, ~0U, 0);
                sigemptyset(&none);
                sigprocmask(SIG_SETMASK, &none, NULL);
                for (int sig = 1; sig < NSIG; sig++)
                        (void) signal(sig, SIG_DFL);
                execl(monitor, "berth-monitor", c->dir, (char *) NULL);
                _exit(127);
        }
        close(p[1]);
        (void) read_full_fd(p[0], 1 << 16, &out, NULL);
        close(p[0]);
        (void) RETRY_EINTR(waitpid(pid, &status, 0));
        if (!out || !*out)
                return error_setx(err, EIO, "the monitor of %s (%s) did not start", c->name, monitor);
        out[strcspn(out, "\n")] = '\0';
        *ret_line = TAKE_PTR(out);
        return 0;
}

static int do_start(struct engine *e, struct container *c, bool wait_attach, struct error *err)
{
        _cleanup_free_ char *line = NULL, *netns = NULL;
        json_object *image_config = NULL;
        int r;

        /* the image's config, read once for the OCI config and the monitor's */
        r = engine_image_config(e, c->image_id, &image_config, err);
        if (r >= 0)
                r = container_mount_rootfs(e, c, err);
        if (r >= 0)
                r = populate_volumes(e, c, err);
        if (r >= 0)
                r = container_net_attach(e, c, image_config, &netns, err);
        if (r >= 0)
                r = write_config(e, c, image_config, netns, err);
        if (r >= 0)
                r = write_monitor_config(e, c, image_config, wait_attach, err);
        json_object_put(image_config);
        if (r >= 0)
                r = spawn_monitor(e, c, &line, err);
        if (r >= 0 && strncmp(line, "error ", 6) == 0)
                r = error_setx(err, EIO, "%s", line + 6);
        else if (r >= 0 && strncmp(line, "created", 7) != 0 && strncmp(line, "started", 7) != 0)
                r = error_setx(err, EIO, "the monitor of %s said: %s", c->name, line);
        if (r < 0) {
                container_teardown(e, c);
                return r;
        }
        container_status_load(c);
        return 0;
}

int engine_start(struct engine *e, struct container *c, int *attach_fd, struct error *err)
{
        _cleanup_close_ int lock = container_lock(c, err);
        int r;

        if (lock < 0)
                return lock;
        container_status_load(c);
        r = container_reconcile_locked(e, c, err);
        if (r < 0)
                return r;
        if (container_monitor_alive(c)) {
                /* Docker: starting a running container does nothing */
                if (!attach_fd)
                        return 0;
                *attach_fd = engine_connect(e, c, err);
                return *attach_fd < 0 ? *attach_fd : 0;
        }
        r = do_start(e, c, attach_fd != NULL, err);
        if (r < 0 || !attach_fd)
                return r;
        *attach_fd = engine_connect(e, c, err);
        if (*attach_fd < 0) {
                container_teardown(e, c);
                return *attach_fd;
        }
        return 0;
}

/* ---- attach ---------------------------------------------------------- */

/* Docker's detach keys on a terminal: ctrl-p ctrl-q.  *STATE: -1 off, 0
 * on, 1 a ctrl-p ended the last read and was held back.  True when the
 * sequence is complete: BUF and *N then keep what came before it.  A
 * held-back ctrl-p not followed by ctrl-q is sent on to FD first. */
static bool detach_keys(int *state, int fd, char *buf, ssize_t *n)
{
        if (*state < 0)
                return false;
        if (*state == 1) {
                *state = 0;
                if (buf[0] == 0x11) {
                        *n = 0;
                        return true;
                }
                (void) send_msg(fd, MON_STDIN, "\x10", 1);
        }
        for (ssize_t i = 0; i + 1 < *n; i++)
                if (buf[i] == 0x10 && buf[i + 1] == 0x11) {
                        *n = i;
                        return true;
                }
        if (buf[*n - 1] == 0x10) {
                *state = 1;
                (*n)--;
        }
        return false;
}

static void send_size(int fd, int tty_fd)
{
        struct winsize ws;
        char sz[32];
        int n;

        if (tty_fd < 0 || !isatty(tty_fd) || ioctl(tty_fd, TIOCGWINSZ, &ws) < 0)
                return;
        n = snprintf(sz, sizeof(sz), "%u %u", ws.ws_row, ws.ws_col);
        (void) send_msg(fd, MON_RESIZE, sz, (size_t) n);
}

int engine_attach_stream(int fd, const char *streams, int in_fd, int out_fd, int err_fd, int sig_fd, int *ret_exit,
                         struct error *err)
{
        char buf[1 + MON_MAX_PAYLOAD];
        int tty_fd = in_fd, keys = in_fd >= 0 && isatty(in_fd) ? 0 : -1, r;

        *ret_exit = -1;
        /* the size first: the first attach may start the container, whose
         * program reads its terminal's size at once */
        send_size(fd, tty_fd);
        r = send_msg(fd, MON_ATTACH, streams, strlen(streams));
        if (r < 0)
                return error_set(err, -r, "attach");
        for (;;) {
                struct pollfd p[3] = { { .fd = fd, .events = POLLIN }, { .fd = sig_fd, .events = POLLIN },
                                       { .fd = in_fd, .events = POLLIN } };
                ssize_t n;

                if (poll(p, in_fd >= 0 ? 3 : 2, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        return error_set(err, errno, "poll");
                }
                if (sig_fd >= 0 && p[1].revents) {
                        struct signalfd_siginfo si;
                        while (read(sig_fd, &si, sizeof(si)) == sizeof(si)) {
                                char num[16];
                                if (si.ssi_signo == SIGWINCH) {
                                        send_size(fd, tty_fd);
                                        continue;
                                }
                                snprintf(num, sizeof(num), "%u", si.ssi_signo);
                                (void) send_msg(fd, MON_KILL, num, strlen(num));
                        }
                }
                if (in_fd >= 0 && p[2].revents) {
                        n = read(in_fd, buf, sizeof(buf) - 1);
                        if (n > 0) {
                                bool detach = detach_keys(&keys, fd, buf, &n);
                                if (n > 0)
                                        (void) send_msg(fd, MON_STDIN, buf, (size_t) n);
                                if (detach) {
                                        *ret_exit = ENGINE_DETACHED;
                                        return 0;
                                }
                        } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
                                (void) send_msg(fd, MON_CLOSE_IN, NULL, 0);
                                in_fd = -1;
                        }
                }
                if (!p[0].revents)
                        continue;
                n = recv(fd, buf, sizeof(buf) - 1, 0);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        return 0; /* the monitor went away: exit code unknown */
                buf[n] = '\0';
                switch (buf[0]) {
                case MON_STDOUT:
                        (void) write_all(out_fd, buf + 1, (size_t) n - 1);
                        break;
                case MON_STDERR:
                        (void) write_all(err_fd, buf + 1, (size_t) n - 1);
                        break;
                case MON_ERROR:
                        return error_setx(err, EIO, "%s", buf + 1);
                case MON_EXIT:
                        *ret_exit = atoi(buf + 1);
                        return 0;
                default:
                        break;
                }
        }
}

/* ---- stop, kill, pause, wait, remove ---------------------------------- */

/* After the last MON_EXIT: the monitor closes its socket, then releases its
 * lock (and execs the cleanup).  Wait up to 2 s for that, then reload C's
 * status. */
static void monitor_gone(struct container *c)
{
        for (int i = 0; i < 2000 && container_monitor_alive(c); i++)
                usleep(1000);
        container_status_load(c);
}

int engine_stop(struct engine *e, struct container *c, int sig, int timeout, struct error *err)
{
        char payload[64];
        int r;

        if (!container_monitor_alive(c))
                return engine_reconcile(e, c, err);
        snprintf(payload, sizeof(payload), "%d %d", sig, timeout);
        r = monitor_request(e, c, MON_STOP, payload, MON_EXIT, err);
        if (r == -ENOTCONN) {
                error_clear(err);
                r = 0;
        }
        if (r < 0)
                return r;
        monitor_gone(c);
        return engine_reconcile(e, c, err);
}

int engine_kill(struct engine *e, struct container *c, int sig, struct error *err)
{
        char payload[16];

        if (!container_running(c) || !container_monitor_alive(c))
                return error_setx(err, EINVAL, "cannot kill container %s: container is not running", c->name);
        snprintf(payload, sizeof(payload), "%d", sig);
        return monitor_request(e, c, MON_KILL, payload, 0, err);
}

int engine_pause(struct engine *e, struct container *c, bool pause, struct error *err)
{
        const char *state = container_state(c);

        if (pause && strcmp(state, "paused") == 0)
                return error_setx(err, EINVAL, "container %s is already paused", c->name);
        if (!pause && strcmp(state, "paused") != 0)
                return error_setx(err, EINVAL, "container %s is not paused", c->name);
        if (!container_running(c))
                return error_setx(err, EINVAL, "container %s is not running", c->name);
        return monitor_request(e, c, pause ? MON_PAUSE : MON_RESUME, NULL, MON_OK, err);
}

int engine_wait(struct engine *e, struct container *c, int *ret_code, struct error *err)
{
        if (container_running(c) && container_monitor_alive(c)) {
                _cleanup_close_ int fd = engine_connect(e, c, err);
                char buf[1 + MON_MAX_PAYLOAD];
                if (fd < 0 && fd != -ENOTCONN)
                        return fd;
                error_clear(err);
                /* any message the monitor sends to every client; the exit ends it */
                while (fd >= 0) {
                        ssize_t n = RETRY_EINTR(recv(fd, buf, sizeof(buf) - 1, 0));
                        if (n <= 0)
                                break;
                        buf[n] = '\0';
                        if (buf[0] == MON_EXIT) {
                                *ret_code = atoi(buf + 1);
                                return 0;
                        }
                }
                monitor_gone(c);
                (void) engine_reconcile(e, c, NULL);
        }
        *ret_code = container_exit_code(c);
        return 0;
}

static int remove_locked(struct engine *e, struct container *c, bool volumes, struct error *err)
{
        _cleanup_close_ int dfd = open(e->containers_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        int r;

        container_teardown(e, c);
        r = volumes ? volume_remove_anonymous(e, c, err) : 0;
        if (r >= 0)
                r = container_forget(e, c, err);
        if (r < 0)
                return r;
        if (dfd >= 0 && strlen(c->id) == 64) {
                /* out of the way first, in one step: a command that was
                 * waiting for its lock (the monitor's cleanup) must not make
                 * DIR/lock again in a directory being emptied */
                _cleanup_free_ char *gone = xasprintf(".removing-%s", c->id);
                if (renameat(dfd, c->id, dfd, gone) < 0 && errno != ENOENT)
                        return error_set(err, errno, "remove `%s`", c->dir);
                r = rm_rf_at(dfd, gone);
                if (r < 0)
                        return error_set(err, -r, "remove `%s`", c->dir);
        }
        return 0;
}

int engine_remove(struct engine *e, struct container *c, bool force, bool volumes, struct error *err)
{
        _cleanup_close_ int lock = -EBADF;
        int r;

        /* a monitor alive with its container "created" waits for an attach
         * that will not come (its run was killed): it goes with -f too */
        if (container_running(c) || (force && container_monitor_alive(c) &&
                                      strcmp(container_state(c), "created") == 0)) {
                if (!force)
                        return error_setx(err, EBUSY,
                                          "cannot remove container %s: container is %s: stop the container before "
                                          "removing or force remove",
                                          c->name, container_state(c));
                r = engine_stop(e, c, SIGKILL, 0, err);
                if (r < 0)
                        return r;
        }
        /* a monitor that recorded the exit is on its way out (to the cleanup) */
        for (int i = 0; i < 5000 && container_monitor_alive(c) && !container_running(c); i++) {
                usleep(1000);
                container_status_load(c);
        }
        lock = container_lock(c, err);
        if (lock < 0)
                return lock;
        if (container_monitor_alive(c))
                return error_setx(err, EBUSY, "cannot remove container %s: it was started again", c->name);
        return remove_locked(e, c, volumes, err);
}

int engine_cleanup(struct engine *e, const char *id, struct error *err)
{
        _cleanup_(container_clear) struct container c = {};
        _cleanup_close_ int lock = -EBADF;
        json_object *auto_rm;
        int r = container_find(e, id, &c, err);

        if (r == -ENOENT) {
                error_clear(err);
                return 0;
        }
        if (r < 0)
                return r;
        lock = container_lock(&c, err);
        if (lock == -ENOENT) {
                error_clear(err);
                return 0; /* removed meanwhile */
        }
        if (lock < 0)
                return lock;
        if (access(c.dir, F_OK) < 0 || container_monitor_alive(&c))
                return 0; /* removed, or started again meanwhile */
        auto_rm = jget(jget(c.config, "HostConfig"), "AutoRemove");
        if (json_object_get_boolean(auto_rm))
                return remove_locked(e, &c, true, err);
        container_teardown(e, &c);
        return 0;
}
