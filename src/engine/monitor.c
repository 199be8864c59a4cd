/* SPDX-License-Identifier: GPL-2.0-or-later */
/* berth-monitor DIR: the supervisor of one container (see monitor.h).
 *
 * One thread, one poll() loop over a signalfd (SIGCHLD, SIGTERM, SIGINT),
 * the container's stdout/stderr pipes or pty master, its stdin, the
 * attach socket and its clients, and a health check's output; deadlines
 * (restart back-off, stop escalation, health checks, the idle trim) are
 * poll()'s timeout.  Runtime commands other than `exec` are run to
 * completion, serving signals and the container's output meanwhile.
 *
 * Memory is what an idle container costs, so: no stdio, no threads, big
 * buffers in .bss (only touched pages count), and after a second without
 * events the monitor gives back what it no longer uses (see trim_memory). */
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <link.h>
#include <malloc.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "basic/error.h"
#include "basic/fileio.h"
#include "engine/monitor-internal.h"

#define MAX_CLIENTS 128
#define CLIENT_SNDBUF (4 << 20)
#define RUNTIME_TIMEOUT (120 * NSEC_PER_SEC)
#define TRIM_AFTER NSEC_PER_SEC
#define RESTART_DELAY_MIN (100 * NSEC_PER_MSEC)
#define RESTART_DELAY_MAX (60 * NSEC_PER_SEC)
#define RESTART_RESET_AFTER (10 * NSEC_PER_SEC)
#define WSTATUS_UNKNOWN (-1) /* the container was not our child */

struct client {
        int fd;
        bool out, err, in; /* attached streams */
        bool logs;         /* follows the log */
        bool dead;         /* closed at the end of the loop's turn */
};

/* Where the runtime's own output goes while a runtime_call() runs. */
struct tail {
        char buf[2048];
        size_t n;
};

static struct monitor M;
static struct client clients[MAX_CLIENTS];
static size_t n_clients;
/* exits of children we did not know yet (the container can die before
 * its pid file is read) */
static struct {
        pid_t pid;
        int wstatus;
} early_exits[8];
static size_t n_early;

static char msg_buf[1 + MON_MAX_PAYLOAD + 1] __attribute__((aligned(4096)));

static void stop_container(struct monitor *m, int sig, int timeout);
static _noreturn_ void finish(struct monitor *m);

/* ---- small helpers -------------------------------------------------------- */

int64_t now_ns(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t) ts.tv_sec * NSEC_PER_SEC + ts.tv_nsec;
}

/* Copy S into a fixed buffer as one line: control characters become spaces. */
static void copy_line(char *out, size_t size, const char *s, size_t n)
{
        size_t k = n < size - 1 ? n : size - 1;

        for (size_t i = 0; i < k; i++)
                out[i] = (unsigned char) s[i] < 0x20 ? ' ' : s[i];
        out[k] = '\0';
}

/* The first report line on fd 3, then fd 3 is closed. */
static void report(struct monitor *m, const char *what, const char *arg)
{
        char line[700];
        int n;

        if (m->report_fd < 0)
                return;
        n = snprintf(line, sizeof(line), "%s%s%s", what, arg ? " " : "", arg ? arg : "");
        if (n > (int) sizeof(line) - 2)
                n = (int) sizeof(line) - 2;
        copy_line(line, sizeof(line), line, (size_t) n); /* one line, whatever ARG holds */
        line[n++] = '\n';
        (void) write_all(m->report_fd, line, (size_t) n);
        close_fd(&m->report_fd);
}

/* Docker's exit code for a container that could not start. */
static int start_error_code(const char *msg)
{
        if (strcasestr(msg, "no such file") || strcasestr(msg, "not found"))
                return 127;
        if (strcasestr(msg, "permission denied"))
                return 126;
        return 128;
}

/* ---- processes ------------------------------------------------------------ */

pid_t spawn_argv(struct monitor *m, char *const *argv, int fd0, int fd1, int fd2, bool new_pgrp)
{
        int fds[3] = { fd0 < 0 ? m->null_fd : fd0, fd1 < 0 ? m->null_fd : fd1, fd2 < 0 ? m->null_fd : fd2 };
        sigset_t none;
        pid_t pid = fork();

        if (pid < 0)
                return -errno;
        if (pid > 0)
                return pid;
        /* the child: fds 0..2 of the monitor are always taken (main()), so
         * the sources are all >= 3 */
        sigemptyset(&none);
        (void) signal(SIGPIPE, SIG_DFL);
        (void) signal(SIGHUP, SIG_DFL);
        (void) sigprocmask(SIG_SETMASK, &none, NULL);
        if (new_pgrp)
                (void) setpgid(0, 0);
        for (int i = 0; i < 3; i++)
                if (dup2(fds[i], i) < 0)
                        _exit(127);
        execvp(argv[0], argv);
        {
                const char *e = strerror(errno);
                (void) !write(2, "exec ", 5);
                (void) !write(2, argv[0], strlen(argv[0]));
                (void) !write(2, ": ", 2);
                (void) !write(2, e, strlen(e));
                (void) !write(2, "\n", 1);
        }
        _exit(127);
}

char **runtime_argv(struct monitor *m, const char *const *args, size_t n_args)
{
        char **v = xmalloc((m->runtime_argc + n_args + 1) * sizeof(char *));

        memcpy(v, m->runtime_argv, m->runtime_argc * sizeof(char *));
        memcpy(v + m->runtime_argc, args, n_args * sizeof(char *));
        v[m->runtime_argc + n_args] = NULL;
        return v;
}

static void child_exited(struct monitor *m, pid_t pid, int wstatus)
{
        if (pid == m->call_pid) {
                m->call_done = true;
                m->call_status = wstatus;
        } else if (m->pid > 0 && pid == m->pid) {
                m->exited = true;
                m->wstatus = wstatus;
        } else if (m->health.pid > 0 && pid == m->health.pid) {
                health_child_exited(m, wstatus);
        } else {
                early_exits[n_early % ELEMENTSOF(early_exits)].pid = pid;
                early_exits[n_early % ELEMENTSOF(early_exits)].wstatus = wstatus;
                n_early++;
        }
}

static void reap_children(struct monitor *m)
{
        for (;;) {
                int wstatus;
                pid_t pid = waitpid(-1, &wstatus, WNOHANG);

                if (pid < 0 && errno == EINTR)
                        continue;
                if (pid <= 0)
                        break;
                child_exited(m, pid, wstatus);
        }
}

static void signals_read(struct monitor *m)
{
        struct signalfd_siginfo si;

        while (read(m->signal_fd, &si, sizeof(si)) == (ssize_t) sizeof(si))
                if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT)
                        m->got_stop = true;
        reap_children(m);
}

/* ---- clients -------------------------------------------------------------- */

/* Never wait for a client: one whose socket is full (it does not read
 * fast enough; the socket holds CLIENT_SNDBUF) is disconnected. */
static void client_send(struct client *c, char type, const void *payload, size_t n)
{
        struct iovec iov[2] = { { &type, 1 }, { (void *) payload, n } };
        struct msghdr msg = { .msg_iov = iov, .msg_iovlen = n ? 2 : 1 };

        if (c->dead)
                return;
        if (sendmsg(c->fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
                c->dead = true;
}

static void client_send_str(struct client *c, char type, const char *s)
{
        client_send(c, type, s, strlen(s));
}

void monitor_output(struct monitor *m, enum stream s, const char *data, size_t n)
{
        for (size_t i = 0; i < n_clients; i++)
                if (s == STREAM_STDOUT ? clients[i].out : clients[i].err)
                        client_send(&clients[i], s == STREAM_STDOUT ? MON_STDOUT : MON_STDERR, data, n);
}

void monitor_log_line(struct monitor *m, const char *line, size_t len)
{
        for (size_t i = 0; i < n_clients; i++)
                if (clients[i].logs)
                        client_send(&clients[i], MON_LOG_LINE, line, len);
}

static void broadcast_exit(struct monitor *m, int code, bool restarting)
{
        char p[32];

        snprintf(p, sizeof(p), "%d %d", code, restarting ? 1 : 0);
        for (size_t i = 0; i < n_clients; i++)
                client_send_str(&clients[i], MON_EXIT, p);
}

static void clients_reap(void)
{
        size_t j = 0;

        for (size_t i = 0; i < n_clients; i++) {
                if (clients[i].dead)
                        close(clients[i].fd);
                else
                        clients[j++] = clients[i];
        }
        n_clients = j;
}

static void client_accept(struct monitor *m)
{
        int sz = CLIENT_SNDBUF;
        int fd = accept4(m->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

        if (fd < 0)
                return;
        if (n_clients == MAX_CLIENTS) {
                close(fd);
                return;
        }
        /* room for bursts of output before a slow reader is dropped */
        if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sz, sizeof(sz)) < 0)
                (void) setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
        clients[n_clients++] = (struct client) { .fd = fd };
}

/* ---- the runtime ---------------------------------------------------------- */

static void tail_add(struct tail *t, const char *s, size_t n)
{
        if (n >= sizeof(t->buf)) {
                s += n - sizeof(t->buf);
                n = sizeof(t->buf);
                t->n = 0;
        }
        if (t->n + n > sizeof(t->buf)) {
                size_t drop = t->n + n - sizeof(t->buf);
                memmove(t->buf, t->buf + drop, t->n - drop);
                t->n -= drop;
        }
        memcpy(t->buf + t->n, s, n);
        t->n += n;
}

/* The last non-empty line of T, without runc's `time="…" level=error
 * msg="…"` dress. */
static void tail_last_line(const struct tail *t, char *out, size_t size)
{
        const char *s = t->buf, *line, *msg;
        size_t end = t->n, start, len;

        while (end > 0 && (s[end - 1] == '\n' || s[end - 1] == '\r' || s[end - 1] == ' '))
                end--;
        start = end;
        while (start > 0 && s[start - 1] != '\n')
                start--;
        line = s + start;
        len = end - start;
        msg = memmem(line, len, "msg=\"", 5);
        if (msg) {
                char buf[sizeof(t->buf)];
                size_t k = 0;
                for (const char *p = msg + 5; p < line + len && *p != '"'; p++) {
                        if (*p == '\\' && p + 1 < line + len)
                                p++;
                        buf[k++] = *p;
                }
                copy_line(out, size, buf, k);
                return;
        }
        copy_line(out, size, line, len);
}

static int recv_fd(int sock)
{
        char data[256];
        struct iovec iov = { data, sizeof(data) };
        union {
                struct cmsghdr h;
                char buf[CMSG_SPACE(4 * sizeof(int))];
        } u;
        struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
                              .msg_controllen = sizeof(u.buf) };
        int fd = -EBADMSG;
        ssize_t n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);

        if (n < 0)
                return -errno;
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
                if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
                        continue;
                for (size_t i = 0; i < (c->cmsg_len - CMSG_LEN(0)) / sizeof(int); i++) {
                        int f;
                        memcpy(&f, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
                        if (fd < 0)
                                fd = f;
                        else
                                close(f);
                }
        }
        return fd >= 0 ? fd : n == 0 ? -ECONNRESET : -EBADMSG;
}

/* The console socket: accept the runtime's connection, take the pty. */
static void console_step(struct monitor *m, int *conn)
{
        int fd;

        if (*conn < 0) {
                *conn = accept4(m->console_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
                if (*conn < 0)
                        return;
        }
        fd = recv_fd(*conn);
        if (fd == -EAGAIN)
                return;
        if (fd >= 0 && m->pty_fd < 0)
                m->pty_fd = fd;
        else if (fd >= 0)
                close(fd);
        close_fd(conn);
}

/* A runtime_call() under way. */
struct call {
        const int *ctr_stdio;
        bool creating; /* with a tty: the console socket is served */
        int cap[2];    /* the runtime's stdout and stderr, unless CTR_STDIO */
        int conn;      /* the runtime's connection to the console socket */
        pid_t pid;
        int64_t deadline;
        bool killed;
        struct tail tail;
};

/* Read what FD has into the call's tail: > 0 read some, 0 nothing now,
 * < 0 its end. */
static int call_read(struct call *c, int fd)
{
        ssize_t n = read(fd, io_buf, sizeof(io_buf));

        if (n > 0) {
                tail_add(&c->tail, io_buf, (size_t) n);
                return 1;
        }
        return n < 0 && (errno == EAGAIN || errno == EINTR) ? 0 : -1;
}

/* One turn of the wait for the runtime. */
static void call_step(struct monitor *m, struct call *c)
{
        bool own_output = !c->ctr_stdio && !m->hold_output;
        struct pollfd p[5] = {
                { .fd = m->signal_fd, .events = POLLIN },
                { .fd = c->cap[0], .events = POLLIN },
                { .fd = c->ctr_stdio || own_output ? m->out_fd[STREAM_STDOUT] : -1, .events = POLLIN },
                { .fd = c->ctr_stdio || own_output ? m->out_fd[STREAM_STDERR] : -1, .events = POLLIN },
                { .fd = !c->creating || m->pty_fd >= 0 ? -1 : c->conn >= 0 ? c->conn : m->console_fd,
                  .events = POLLIN },
        };
        int64_t now = now_ns();

        if (now >= c->deadline && !c->killed) {
                (void) kill(c->pid, SIGKILL);
                c->killed = true;
        }
        if (poll(p, ELEMENTSOF(p), c->killed ? 100 : (int) ((c->deadline - now) / NSEC_PER_MSEC + 1)) < 0) {
                if (errno != EINTR) {
                        /* cannot wait for events (ENOMEM): wait for the runtime */
                        (void) usleep(10000);
                        reap_children(m);
                }
                return;
        }
        if (p[0].revents)
                signals_read(m);
        if (p[1].revents && call_read(c, c->cap[0]) < 0)
                close_fd(&c->cap[0]);
        for (int s = 0; s < _STREAM_MAX; s++) {
                if (!p[2 + s].revents || m->out_fd[s] < 0)
                        continue;
                /* before the start, only the runtime writes there */
                if (c->ctr_stdio ? call_read(c, m->out_fd[s]) < 0 : !output_read(m, (enum stream) s, 4))
                        stream_ended(m, (enum stream) s);
        }
        if (p[4].fd >= 0 && p[4].revents)
                console_step(m, &c->conn);
}

/* The runtime exited: what it wrote is in the pipes (not at their end:
 * the container holds the ones it shares), the pty in the socket. */
static void call_drain(struct monitor *m, struct call *c)
{
        while (c->cap[0] >= 0 && call_read(c, c->cap[0]) > 0)
                ;
        close_fd(&c->cap[0]);
        for (int s = 0; c->ctr_stdio && s < _STREAM_MAX; s++)
                while (m->out_fd[s] >= 0 && call_read(c, m->out_fd[s]) > 0)
                        ;
        if (c->creating && m->console_fd >= 0 && m->pty_fd < 0)
                console_step(m, &c->conn);
        close_fd(&c->conn);
}

static void call_error(struct monitor *m, struct call *c, char *const *argv, char *err, size_t err_size)
{
        tail_last_line(&c->tail, err, err_size);
        if (*err)
                return;
        if (c->killed)
                snprintf(err, err_size, "%s %s: timed out", argv[0], argv[m->runtime_argc]);
        else if (m->call_done && WIFEXITED(m->call_status))
                snprintf(err, err_size, "%s %s: exit status %d", argv[0], argv[m->runtime_argc],
                         WEXITSTATUS(m->call_status));
        else
                snprintf(err, err_size, "%s %s: killed by signal %d", argv[0], argv[m->runtime_argc],
                         m->call_done ? WTERMSIG(m->call_status) : 0);
}

/* Run RUNTIME GLOBAL_ARGS ARGS and wait for it, serving signals, the
 * container's output (unless hold_output) and (creating with a tty) the
 * console socket.  CTR_STDIO: the runtime's stdio are the container's
 * (create without a tty); whatever arrives on them before it exits is the
 * runtime's own output.  Otherwise stdout and stderr go to a pipe.
 * Returns 0, or -1 with the runtime's last line of output in ERR. */
static int runtime_call(struct monitor *m, const char *const *args, size_t n_args, const int *ctr_stdio, char *err,
                        size_t err_size)
{
        _cleanup_free_ char **argv = runtime_argv(m, args, n_args);
        struct call c = {
                .ctr_stdio = ctr_stdio,
                .creating = ctr_stdio || (m->console_fd >= 0 && m->pty_fd < 0),
                .cap = { -1, -1 },
                .conn = -1,
                .deadline = now_ns() + RUNTIME_TIMEOUT,
        };

        *err = '\0';
        if (!ctr_stdio && pipe2(c.cap, O_CLOEXEC | O_NONBLOCK) < 0) {
                snprintf(err, err_size, "pipe: %s", strerror(errno));
                return -1;
        }
        m->call_done = false;
        c.pid = ctr_stdio ? spawn_argv(m, argv, ctr_stdio[0], ctr_stdio[1], ctr_stdio[2], false)
                          : spawn_argv(m, argv, -1, c.cap[1], c.cap[1], false);
        close_fd(&c.cap[1]);
        if (c.pid < 0) {
                close_fd(&c.cap[0]);
                snprintf(err, err_size, "fork: %s", strerror(-c.pid));
                return -1;
        }
        m->call_pid = c.pid;
        while (!m->call_done)
                call_step(m, &c);
        m->call_pid = 0;
        call_drain(m, &c);
        if (WIFEXITED(m->call_status) && WEXITSTATUS(m->call_status) == 0)
                return 0;
        call_error(m, &c, argv, err, err_size);
        return -1;
}

static int runtime_simple(struct monitor *m, const char *verb, const char *arg, char *err, size_t err_size)
{
        const char *args[] = { verb, m->id, arg };
        char ignored[8];

        return runtime_call(m, args, arg ? 3 : 2, NULL, err ? err : ignored, err ? err_size : sizeof(ignored));
}

static void runtime_delete(struct monitor *m)
{
        const char *args[] = { "delete", "--force", m->id };
        char err[8];

        (void) runtime_call(m, args, ELEMENTSOF(args), NULL, err, sizeof(err));
}

/* ---- monitor.json ----------------------------------------------------------- */

json_object *config_get(json_object *o, const char *key)
{
        json_object *v = NULL;

        return o && json_object_object_get_ex(o, key, &v) ? v : NULL;
}

static char *jstrdup(json_object *o, const char *key)
{
        json_object *v = config_get(o, key);

        return json_object_is_type(v, json_type_string) ? xstrdup(json_object_get_string(v)) : NULL;
}

/* A JSON array of strings as a NULL-terminated vector (NULL if not one). */
char **config_strv(json_object *a)
{
        char **v = NULL;

        if (!json_object_is_type(a, json_type_array))
                return NULL;
        v = xzalloc(sizeof(char *));
        for (size_t i = 0; i < json_object_array_length(a); i++) {
                json_object *s = json_object_array_get_idx(a, i);
                if (!json_object_is_type(s, json_type_string)) {
                        strv_free(v);
                        return NULL;
                }
                strv_push(&v, xstrdup(json_object_get_string(s)));
        }
        return v;
}

int64_t config_int(json_object *o, const char *key, int64_t def)
{
        json_object *v = config_get(o, key);

        return json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double)
                       ? json_object_get_int64(v)
                       : def;
}

static bool jbool(json_object *o, const char *key)
{
        json_object *v = config_get(o, key);

        return json_object_is_type(v, json_type_boolean) && json_object_get_boolean(v);
}

static int config_parse(struct monitor *m, json_object *root, struct error *err)
{
        static const char *const policies[] = {
                [RESTART_NO] = "no", [RESTART_ALWAYS] = "always",
                [RESTART_UNLESS_STOPPED] = "unless-stopped", [RESTART_ON_FAILURE] = "on-failure",
        };
        _cleanup_free_ char *runtime = jstrdup(root, "runtime"), *restart = jstrdup(root, "restart");
        _cleanup_strv_free_ char **args = config_strv(config_get(root, "runtime_args"));
        json_object *oom = config_get(root, "oom");
        int r;

        m->id = jstrdup(root, "id");
        m->log.path = jstrdup(root, "log_path");
        if (!m->id || !*m->id || !runtime || !*runtime || !m->log.path || !*m->log.path)
                return error_setx(err, EINVAL, "monitor.json: \"id\", \"runtime\" and \"log_path\" are required");
        strv_push(&m->runtime_argv, TAKE_PTR(runtime));
        for (char **a = args; a && *a; a++)
                strv_push(&m->runtime_argv, xstrdup(*a));
        m->runtime_argc = strv_length(m->runtime_argv);
        m->tty = jbool(root, "tty");
        m->open_stdin = jbool(root, "stdin");
        m->wait_attach = jbool(root, "wait_attach");
        m->log.max_size = config_int(root, "log_max_size", 0);
        m->log.max_files = (int) config_int(root, "log_max_files", 1);
        m->restart = RESTART_NO;
        for (size_t i = 0; restart && i < ELEMENTSOF(policies); i++)
                if (strcmp(restart, policies[i]) == 0)
                        m->restart = (enum restart_policy) i;
        if (restart && *restart && strcmp(restart, policies[m->restart]) != 0)
                return error_setx(err, EINVAL, "monitor.json: unknown restart policy `%s`", restart);
        m->restart_max = (int) config_int(root, "restart_max", 0);
        m->stop_signal = (int) config_int(root, "stop_signal", SIGTERM);
        if (m->stop_signal <= 0 || m->stop_signal >= NSIG)
                m->stop_signal = SIGTERM;
        m->stop_timeout = (int) config_int(root, "stop_timeout", 10);
        r = health_config(&m->health, config_get(root, "health"), err);
        if (r < 0)
                return r;
        for (size_t i = 0; json_object_is_type(oom, json_type_array) && i < json_object_array_length(oom); i++) {
                json_object *o = json_object_array_get_idx(oom, i);
                char *path = jstrdup(o, "path"), *key = jstrdup(o, "key");
                if (!path || !key) {
                        free(path);
                        free(key);
                        continue;
                }
                strv_push(&m->oom_paths, path);
                strv_push(&m->oom_keys, key);
                m->n_oom++;
        }
        m->exit_command = config_strv(config_get(root, "exit_command"));
        return 0;
}

static int config_load(struct monitor *m, int dir_fd, struct error *err)
{
        _cleanup_free_ char *text = NULL;
        json_object *root;
        int r;

        r = read_full_file_at(dir_fd, "monitor.json", 1 << 20, &text, NULL);
        if (r < 0)
                return error_set(err, -r, "read `%s/monitor.json`", m->dir);
        root = json_tokener_parse(text);
        if (!json_object_is_type(root, json_type_object)) {
                json_object_put(root);
                return error_setx(err, EINVAL, "`%s/monitor.json` is not a JSON object", m->dir);
        }
        r = config_parse(m, root, err);
        json_object_put(root);
        return r;
}

/* ---- the container ---------------------------------------------------------------- */

static uint64_t oom_count(struct monitor *m)
{
        uint64_t total = 0;

        for (size_t i = 0; i < m->n_oom; i++) {
                _cleanup_free_ char *s = NULL;
                size_t klen = strlen(m->oom_keys[i]);

                if (read_full_file_at(AT_FDCWD, m->oom_paths[i], 1 << 16, &s, NULL) < 0)
                        continue;
                for (char *line = s; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL)
                        if (strncmp(line, m->oom_keys[i], klen) == 0 && line[klen] == ' ')
                                total += strtoull(line + klen + 1, NULL, 10);
        }
        return total;
}

static int container_read_pid(struct monitor *m, char *err, size_t err_size)
{
        _cleanup_free_ char *s = NULL;
        int64_t pid;
        siginfo_t si = {};
        int r;

        r = read_full_file_at(AT_FDCWD, "pid", 64, &s, NULL);
        if (r >= 0) {
                s[strcspn(s, "\n")] = '\0';
                r = parse_int64(s, &pid);
        }
        if (r < 0 || pid <= 0) {
                snprintf(err, err_size, "read the pid file `%s/pid`: %s", m->dir, strerror(r < 0 ? -r : EINVAL));
                return -1;
        }
        m->pid = (pid_t) pid;
        m->exited = false;
        for (size_t i = 0; i < ELEMENTSOF(early_exits) && i < n_early; i++)
                if (early_exits[i].pid == m->pid) {
                        m->exited = true;
                        m->wstatus = early_exits[i].wstatus;
                        early_exits[i].pid = 0;
                        return 0;
                }
        /* runc, crun and berth-runtime leave it to us, their subreaper;
         * another runtime may not: then a pidfd says when it is gone */
        if (waitid(P_PID, m->pid, &si, WEXITED | WNOHANG | WNOWAIT) < 0 && errno == ECHILD) {
                m->pidfd = pidfd_open(m->pid, 0);
                if (m->pidfd < 0) {
                        m->exited = true;
                        m->wstatus = WSTATUS_UNKNOWN;
                }
        }
        return 0;
}

/* Listen on the console socket: DIR/console.sock, or when that path does
 * not fit in sun_path, a socket in a private directory under /tmp (runc
 * and crun chdir to the bundle, so a relative path will not do). */
static int console_listen(struct monitor *m, char **ret_path, char **ret_tmpdir, char *err, size_t err_size)
{
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        _cleanup_free_ char *path = xasprintf("%s/console.sock", m->dir);
        int fd;

        if (strlen(path) >= sizeof(sa.sun_path)) {
                char tmpl[] = "/tmp/berth-console-XXXXXX";
                if (!mkdtemp(tmpl)) {
                        snprintf(err, err_size, "create a directory in /tmp: %s", strerror(errno));
                        return -1;
                }
                *ret_tmpdir = xstrdup(tmpl);
                free(path);
                path = xasprintf("%s/console.sock", tmpl);
        }
        memcpy(sa.sun_path, path, strlen(path) + 1);
        (void) unlink(path);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0 || bind(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0 || listen(fd, 4) < 0) {
                snprintf(err, err_size, "console socket `%s`: %s", path, strerror(errno));
                if (fd >= 0)
                        close(fd);
                return -1;
        }
        m->console_fd = fd;
        *ret_path = TAKE_PTR(path);
        return 0;
}

/* `RUNTIME create ARGS… ID` with a tty: the pty comes over the console socket. */
static int create_with_tty(struct monitor *m, const char **args, size_t n, char *err, size_t err_size)
{
        _cleanup_free_ char *console = NULL, *console_dir = NULL;
        int r;

        r = console_listen(m, &console, &console_dir, err, err_size);
        if (r >= 0) {
                args[n++] = "--console-socket";
                args[n++] = console;
                args[n++] = m->id;
                r = runtime_call(m, args, n, NULL, err, err_size);
                close_fd(&m->console_fd);
                (void) unlink(console);
        }
        if (console_dir)
                (void) rmdir(console_dir);
        if (r >= 0 && m->pty_fd < 0) {
                snprintf(err, err_size, "the runtime sent no terminal");
                r = -1;
        }
        if (m->pty_fd >= 0) {
                set_nonblock(m->pty_fd);
                pty_resize(m);
                m->out_fd[STREAM_STDOUT] = m->pty_fd;
                m->in_fd = m->open_stdin ? m->pty_fd : -1;
        }
        return r;
}

/* `RUNTIME create ARGS… ID` without: pipes, their other ends the
 * runtime's stdio, which the container inherits (stdin /dev/null unless
 * "stdin"). */
static int create_with_pipes(struct monitor *m, const char **args, size_t n, char *err, size_t err_size)
{
        int in[2] = { -1, -1 }, out[2] = { -1, -1 }, errp[2] = { -1, -1 };
        int r;

        if ((m->open_stdin && pipe2(in, O_CLOEXEC) < 0) || pipe2(out, O_CLOEXEC) < 0 ||
            pipe2(errp, O_CLOEXEC) < 0) {
                snprintf(err, err_size, "pipe: %s", strerror(errno));
                for (int i = 0; i < 2; i++) {
                        close_fd(&in[i]);
                        close_fd(&out[i]);
                        close_fd(&errp[i]);
                }
                return -1;
        }
        m->out_fd[STREAM_STDOUT] = out[0];
        m->out_fd[STREAM_STDERR] = errp[0];
        set_nonblock(out[0]);
        set_nonblock(errp[0]);
        /* room for what it writes while `RUNTIME start` runs (pages are
         * taken as written); best effort */
        (void) fcntl(out[0], F_SETPIPE_SZ, 1 << 20);
        (void) fcntl(errp[0], F_SETPIPE_SZ, 1 << 20);
        args[n++] = m->id;
        r = runtime_call(m, args, n, (const int[]) { in[0], out[1], errp[1] }, err, err_size);
        /* the container has its ends now */
        close_fd(&in[0]);
        close_fd(&out[1]);
        close_fd(&errp[1]);
        m->in_fd = in[1];
        if (m->in_fd >= 0)
                set_nonblock(m->in_fd);
        return r;
}

/* `RUNTIME create`, the container's stdio ours; on failure, what the
 * runtime left is deleted. */
static int container_create(struct monitor *m, char *err, size_t err_size)
{
        _cleanup_free_ char *bundle = xasprintf("%s/bundle", m->dir), *pid_file = xasprintf("%s/pid", m->dir);
        const char *args[10] = { "create", "--bundle", bundle, "--pid-file", pid_file };
        int r;

        (void) unlink("pid");
        r = m->tty ? create_with_tty(m, args, 5, err, err_size) : create_with_pipes(m, args, 5, err, err_size);
        if (r >= 0)
                r = container_read_pid(m, err, err_size);
        if (r < 0) {
                runtime_delete(m);
                stdio_close(m);
                m->pid = 0;
                return -1;
        }
        m->oom_base = oom_count(m);
        return 0;
}

static int container_start(struct monitor *m, char *err, size_t err_size)
{
        int r;

        /* what it writes meanwhile comes after MON_STARTED */
        m->hold_output = true;
        r = runtime_simple(m, "start", NULL, err, err_size);
        m->hold_output = false;
        if (r < 0)
                return -1;
        m->state = STATE_RUNNING;
        m->started_once = true;
        m->run_started = now_ns();
        now_rfc3339(m->started_at);
        m->error[0] = '\0';
        health_run_started(m);
        (void) status_write(m);
        return 0;
}

/* Create (and unless WAIT_ATTACH on the first run, start) the container. */
static int container_run(struct monitor *m, bool first, char *err, size_t err_size)
{
        if (container_create(m, err, err_size) < 0)
                return -1;
        if (first && m->wait_attach) {
                m->state = STATE_CREATED;
                (void) status_write(m);
                return 0;
        }
        if (container_start(m, err, err_size) < 0) {
                runtime_delete(m);
                stdio_close(m);
                close_fd(&m->pidfd);
                m->pid = 0; /* reaped later, as a stranger */
                return -1;
        }
        return 0;
}

static void container_signal(struct monitor *m, int sig)
{
        char num[16];

        snprintf(num, sizeof(num), "%d", sig);
        if (runtime_simple(m, "kill", num, NULL, 0) >= 0 || m->pid <= 0 || m->exited)
                return;
        /* the runtime refused (it thinks the container stopped, say) */
        if (m->pidfd >= 0)
                (void) pidfd_send_signal(m->pidfd, sig, NULL, 0);
        else
                (void) kill(m->pid, sig); /* our child, not reaped yet: still its pid */
}

static bool should_restart(struct monitor *m, int code)
{
        if (m->stopped_by_user)
                return false;
        switch (m->restart) {
        case RESTART_ALWAYS:
        case RESTART_UNLESS_STOPPED:
                return true;
        case RESTART_ON_FAILURE:
                return code != 0 && (m->restart_max <= 0 || m->restart_count < m->restart_max);
        default:
                return false;
        }
}

static _noreturn_ void finish_exited(struct monitor *m, int code)
{
        m->state = STATE_EXITED;
        (void) status_write(m);
        broadcast_exit(m, code, false);
        finish(m);
}

/* A run ended with CODE (an exit, or a failed restart): restart or finish. */
static void run_ended(struct monitor *m, int code)
{
        int64_t now = now_ns();

        if (!should_restart(m, code))
                finish_exited(m, code);
        if (now - m->run_started >= RESTART_RESET_AFTER)
                m->restart_delay = RESTART_DELAY_MIN;
        m->restart_at = now + m->restart_delay;
        m->restart_delay = m->restart_delay * 2 > RESTART_DELAY_MAX ? RESTART_DELAY_MAX : m->restart_delay * 2;
        m->state = STATE_RESTARTING;
        (void) status_write(m);
        broadcast_exit(m, code, true);
}

static void container_exited(struct monitor *m)
{
        int code = m->wstatus == WSTATUS_UNKNOWN ? -1
                   : WIFEXITED(m->wstatus)       ? WEXITSTATUS(m->wstatus)
                                                 : 128 + WTERMSIG(m->wstatus);

        health_run_ended(m);
        m->oom_killed = m->n_oom > 0 && oom_count(m) > m->oom_base;
        runtime_delete(m);
        /* all of its output before its exit */
        for (int s = 0; s < _STREAM_MAX; s++)
                if (m->out_fd[s] >= 0 && !output_read(m, (enum stream) s, 0))
                        stream_ended(m, (enum stream) s);
        stdio_close(m);
        close_fd(&m->pidfd);
        m->pid = 0;
        m->exited = false;
        m->kill_at = 0;
        m->exit_code = code;
        now_rfc3339(m->finished_at);
        run_ended(m, code);
}

static void restart_now(struct monitor *m)
{
        char err[sizeof(m->error)];

        m->restart_at = 0;
        m->restart_count++;
        m->run_started = now_ns();
        if (container_run(m, false, err, sizeof(err)) >= 0)
                return;
        snprintf(m->error, sizeof(m->error), "%s", err);
        m->exit_code = start_error_code(err);
        now_rfc3339(m->finished_at);
        run_ended(m, m->exit_code);
}

/* MON_STOP, SIGTERM, SIGINT: by the user, so no restart. */
static void stop_container(struct monitor *m, int sig, int timeout)
{
        int64_t at;

        if (sig <= 0 || sig >= NSIG)
                sig = m->stop_signal;
        if (timeout < 0)
                timeout = m->stop_timeout;
        m->stopped_by_user = true;
        switch (m->state) {
        case STATE_RESTARTING:
                m->restart_at = 0;
                finish_exited(m, m->exit_code);
        case STATE_CREATED:
                sig = SIGKILL; /* never started: nothing to ask nicely */
                break;
        case STATE_RUNNING:
        case STATE_PAUSED:
                break;
        default:
                return;
        }
        (void) status_write(m);
        container_signal(m, sig);
        /* a frozen container gets its signal when thawed */
        if (m->state == STATE_PAUSED && runtime_simple(m, "resume", NULL, NULL, 0) >= 0) {
                m->state = STATE_RUNNING;
                (void) status_write(m);
        }
        if (sig == SIGKILL)
                return;
        at = now_ns() + (int64_t) timeout * NSEC_PER_SEC;
        if (!m->kill_at || at < m->kill_at)
                m->kill_at = at;
}

/* ---- client requests ---------------------------------------------------------------- */

/* The first MON_ATTACH under WAIT_ATTACH starts the container. */
static void attach_start(struct monitor *m, struct client *c)
{
        char err[sizeof(m->error)], pid[16];

        if (container_start(m, err, sizeof(err)) >= 0) {
                snprintf(pid, sizeof(pid), "%d", (int) m->pid);
                client_send_str(c, MON_STARTED, pid);
                return;
        }
        client_send_str(c, MON_ERROR, err);
        runtime_delete(m);
        stdio_close(m);
        close_fd(&m->pidfd);
        m->pid = 0;
        snprintf(m->error, sizeof(m->error), "%s", err);
        m->exit_code = start_error_code(err);
        (void) status_write(m); /* "created", with the error: as Docker shows it */
        finish(m);
}

static void pause_container(struct monitor *m, struct client *c, bool pause)
{
        char err[sizeof(m->error)];

        if (m->state != (pause ? STATE_RUNNING : STATE_PAUSED)) {
                client_send_str(c, MON_ERROR, pause ? "container is not running" : "container is not paused");
                return;
        }
        if (runtime_simple(m, pause ? "pause" : "resume", NULL, err, sizeof(err)) < 0) {
                client_send_str(c, MON_ERROR, err);
                return;
        }
        /* it may have exited meanwhile: container_exited() sees to that */
        if (!m->exited && m->pid > 0)
                m->state = pause ? STATE_PAUSED : STATE_RUNNING;
        (void) status_write(m);
        client_send(c, MON_OK, NULL, 0);
}

/* "A" or "A B": decimal numbers; how many were there. */
static int parse_two(const char *s, int *a, int *b)
{
        char *end;
        long v;

        errno = 0;
        v = strtol(s, &end, 10);
        if (end == s || errno || v < INT32_MIN || v > INT32_MAX)
                return 0;
        *a = (int) v;
        s = end;
        v = strtol(s, &end, 10);
        if (end == s || errno || v < INT32_MIN || v > INT32_MAX)
                return 1;
        *b = (int) v;
        return 2;
}

static void client_request(struct monitor *m, struct client *c, const char *payload, size_t len)
{
        char p[64];
        int a = 0, b = -1;

        copy_line(p, sizeof(p), payload, len);
        switch (msg_buf[0]) {
        case MON_ATTACH:
                c->out = memchr(payload, 'o', len);
                c->err = memchr(payload, 'e', len);
                c->in = memchr(payload, 'i', len);
                if (m->state == STATE_CREATED && !m->started_once)
                        attach_start(m, c);
                break;
        case MON_STDIN:
                if (c->in && m->open_stdin)
                        stdin_write(m, payload, len);
                break;
        case MON_CLOSE_IN:
                /* a tty has no end of input; a pipe closes once drained */
                if (c->in && !m->tty && m->in_fd >= 0) {
                        m->in_close = true;
                        if (m->in_len == 0)
                                stdin_close(m);
                }
                break;
        case MON_RESIZE:
                if (parse_two(p, &a, &b) == 2 && a > 0 && b > 0 && a < 65536 && b < 65536) {
                        m->rows = (unsigned short) a;
                        m->cols = (unsigned short) b;
                        pty_resize(m);
                }
                break;
        case MON_STOP:
                if (parse_two(p, &a, &b) < 1)
                        a = 0;
                stop_container(m, a, b);
                break;
        case MON_KILL:
                if (parse_two(p, &a, &b) >= 1 && a > 0 && a < NSIG &&
                    (m->state == STATE_RUNNING || m->state == STATE_PAUSED))
                        container_signal(m, a);
                break;
        case MON_PAUSE:
        case MON_RESUME:
                pause_container(m, c, msg_buf[0] == MON_PAUSE);
                break;
        case MON_LOGS:
                snprintf(p, sizeof(p), "%llu %lld", (unsigned long long) m->log.ino, (long long) m->log.size);
                c->logs = true;
                client_send_str(c, MON_LOG_POS, p);
                break;
        default:
                client_send_str(c, MON_ERROR, "unknown request");
                break;
        }
}

static void client_read(struct monitor *m, struct client *c)
{
        ssize_t n = recv(c->fd, msg_buf, sizeof(msg_buf) - 1, MSG_DONTWAIT);

        if (n < 0 && (errno == EAGAIN || errno == EINTR))
                return;
        if (n <= 0) {
                c->dead = true;
                return;
        }
        msg_buf[n] = '\0';
        client_request(m, c, msg_buf + 1, (size_t) n - 1);
}

/* ---- the end ---------------------------------------------------------------------- */

/* The last exit has been reported: close everything, release the lock,
 * become the exit command (the engine's cleanup). */
static _noreturn_ void finish(struct monitor *m)
{
        sigset_t none;

        for (size_t i = 0; i < n_clients; i++)
                close(clients[i].fd);
        n_clients = 0;
        close_fd(&m->listen_fd);
        (void) unlink("attach.sock");
        (void) unlink("console.sock");
        (void) unlink("health.pid");
        logfile_close(&m->log);
        reap_children(m);
        close_fd(&m->lock_fd);
        if (!m->exit_command || !m->exit_command[0])
                _exit(0);
        (void) prctl(PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0);
        /* a SIGTERM still pending would kill us as soon as unblocked */
        for (struct signalfd_siginfo si; read(m->signal_fd, &si, sizeof(si)) > 0;)
                ;
        (void) signal(SIGPIPE, SIG_DFL);
        (void) signal(SIGHUP, SIG_DFL);
        sigemptyset(&none);
        (void) sigprocmask(SIG_SETMASK, &none, NULL);
        (void) !chdir("/");
        execvp(m->exit_command[0], m->exit_command);
        _exit(127);
}

/* ---- memory -------------------------------------------------------------------------- */

/* The pages of the binary's read-only and executable segments: clean,
 * read again from the page cache when needed.  Never the writable ones
 * (relocated data, RELRO). */
static struct {
        uintptr_t start, end;
} text_ranges[8];
static size_t n_text_ranges;

static int find_text(struct dl_phdr_info *info, size_t size, void *data)
{
        for (int i = 0; i < info->dlpi_phnum && n_text_ranges < ELEMENTSOF(text_ranges); i++) {
                const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
                uintptr_t start = (info->dlpi_addr + ph->p_vaddr + 4095) & ~(uintptr_t) 4095;
                uintptr_t end = (info->dlpi_addr + ph->p_vaddr + ph->p_memsz) & ~(uintptr_t) 4095;

                if (ph->p_type == PT_LOAD && !(ph->p_flags & PF_W) && end > start) {
                        text_ranges[n_text_ranges].start = start;
                        text_ranges[n_text_ranges++].end = end;
                }
        }
        return 1; /* the program itself only (it comes first) */
}

/* Idle: give back the pages that start-up and bursts of work touched.
 * Code that ran once (glibc's start-up, json-c, the runtime calls) would
 * otherwise stay mapped for the container's whole life, and the kernel
 * maps the binary in 64 KiB windows around each fault: without this, an
 * idle monitor holds most of its 1 MiB binary.  Called right before
 * poll(), so that only the code from here to the poll() comes back. */
static void trim_memory(struct monitor *m)
{
        (void) malloc_trim(0);
        logfile_trim(&m->log);
        trim_pages(msg_buf, sizeof(msg_buf));
        for (size_t i = 0; i < n_text_ranges; i++)
                (void) madvise((void *) text_ranges[i].start, text_ranges[i].end - text_ranges[i].start,
                               MADV_DONTNEED);
}

/* ---- the loop ------------------------------------------------------------------------- */

static int64_t next_deadline(struct monitor *m)
{
        int64_t d[] = { m->restart_at, m->kill_at, health_deadline(m), m->trim_at }, best = 0;

        for (size_t i = 0; i < ELEMENTSOF(d); i++)
                if (d[i] && (!best || d[i] < best))
                        best = d[i];
        return best;
}

static void timers_run(struct monitor *m, int64_t now)
{
        if (m->restart_at && now >= m->restart_at && m->state == STATE_RESTARTING)
                restart_now(m);
        if (m->kill_at && now >= m->kill_at) {
                m->kill_at = 0;
                if (m->pid > 0 && !m->exited)
                        container_signal(m, SIGKILL);
        }
        health_tick(m, now);
}

enum {
        PI_SIGNAL,
        PI_LISTEN,
        PI_OUT,
        PI_ERR,
        PI_IN,
        PI_HEALTH,
        PI_PIDFD,
        PI_CLIENTS,
};

/* The fds to wait for; returns how many. */
static size_t loop_pollfds(struct monitor *m, struct pollfd *p)
{
        bool stdin_full = m->in_len > 0;

        p[PI_SIGNAL] = (struct pollfd) { .fd = m->signal_fd, .events = POLLIN };
        p[PI_LISTEN] = (struct pollfd) { .fd = m->listen_fd, .events = POLLIN };
        p[PI_OUT] = (struct pollfd) { .fd = m->out_fd[STREAM_STDOUT], .events = POLLIN };
        p[PI_ERR] = (struct pollfd) { .fd = m->out_fd[STREAM_STDERR], .events = POLLIN };
        p[PI_IN] = (struct pollfd) { .fd = stdin_full ? m->in_fd : -1, .events = POLLOUT };
        p[PI_HEALTH] = (struct pollfd) { .fd = m->health.out_fd, .events = POLLIN };
        p[PI_PIDFD] = (struct pollfd) { .fd = m->pidfd, .events = POLLIN };
        if (p[PI_IN].fd >= 0 && p[PI_IN].fd == p[PI_OUT].fd) {
                p[PI_OUT].events |= POLLOUT; /* the pty: one entry */
                p[PI_IN].fd = -1;
        }
        /* while the container's stdin is full, who may write more waits */
        for (size_t i = 0; i < n_clients; i++)
                p[PI_CLIENTS + i] = (struct pollfd) {
                        .fd = clients[i].fd,
                        .events = stdin_full && clients[i].in ? 0 : POLLIN,
                };
        return PI_CLIENTS + n_clients;
}

/* Serve what poll() found in P (NC clients then). */
static void loop_dispatch(struct monitor *m, const struct pollfd *p, size_t nc)
{
        if (p[PI_SIGNAL].revents)
                signals_read(m);
        for (int s = 0; s < _STREAM_MAX; s++)
                if (m->out_fd[s] >= 0 && p[PI_OUT + s].revents & (POLLIN | POLLHUP | POLLERR) &&
                    !output_read(m, (enum stream) s, 4))
                        stream_ended(m, (enum stream) s);
        if (m->in_len > 0 && ((p[PI_IN].fd >= 0 && p[PI_IN].revents) || (p[PI_OUT].revents & POLLOUT)))
                stdin_flush(m);
        if (p[PI_HEALTH].revents && m->health.out_fd >= 0)
                health_read(m);
        if (p[PI_PIDFD].revents && m->pidfd >= 0) {
                close_fd(&m->pidfd);
                m->exited = true;
                m->wstatus = WSTATUS_UNKNOWN;
        }
        for (size_t i = 0; i < nc; i++)
                if (p[PI_CLIENTS + i].revents && !clients[i].dead)
                        client_read(m, &clients[i]);
        if (p[PI_LISTEN].revents)
                client_accept(m);
}

static _noreturn_ void loop(struct monitor *m)
{
        bool trim = true; /* start-up's pages: at once */

        (void) dl_iterate_phdr(find_text, NULL);
        for (;;) {
                struct pollfd p[PI_CLIENTS + MAX_CLIENTS];
                int64_t deadline = next_deadline(m), now = now_ns();
                size_t n_fds = loop_pollfds(m, p);
                int n;

                if (trim) {
                        trim_memory(m);
                        trim = false;
                }
                n = poll(p, n_fds,
                         deadline ? (deadline > now ? (int) ((deadline - now + NSEC_PER_MSEC - 1) / NSEC_PER_MSEC) : 0)
                                  : -1);
                now = now_ns();
                if (n > 0) {
                        m->trim_at = now + TRIM_AFTER;
                        loop_dispatch(m, p, n_fds - PI_CLIENTS);
                } else if (m->trim_at && now >= m->trim_at) {
                        m->trim_at = 0;
                        trim = true;
                }
                if (m->got_stop) {
                        m->got_stop = false;
                        stop_container(m, 0, -1);
                }
                timers_run(m, now_ns());
                if (m->exited && (m->state == STATE_CREATED || m->state == STATE_RUNNING || m->state == STATE_PAUSED))
                        container_exited(m);
                clients_reap();
        }
}

/* ---- start-up ------------------------------------------------------------------------ */

static int setup_signals(struct monitor *m, struct error *err)
{
        sigset_t mask;

        sigemptyset(&mask);
        sigaddset(&mask, SIGCHLD);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
                return error_set(err, errno, "sigprocmask");
        m->signal_fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
        if (m->signal_fd < 0)
                return error_set(err, errno, "signalfd");
        (void) signal(SIGPIPE, SIG_IGN);
        (void) signal(SIGHUP, SIG_IGN);
        if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0)
                return error_set(err, errno, "prctl(PR_SET_CHILD_SUBREAPER)");
        return 0;
}

static int setup_socket(struct monitor *m, struct error *err)
{
        struct sockaddr_un sa = { .sun_family = AF_UNIX, .sun_path = "attach.sock" };

        m->listen_fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (m->listen_fd < 0)
                return error_set(err, errno, "socket");
        (void) unlink("attach.sock");
        if (bind(m->listen_fd, (struct sockaddr *) &sa, sizeof(sa)) < 0)
                return error_set(err, errno, "bind `%s/attach.sock`", m->dir);
        if (listen(m->listen_fd, 64) < 0)
                return error_set(err, errno, "listen on `%s/attach.sock`", m->dir);
        return 0;
}

static int setup(struct monitor *m, const char *dir, struct error *err)
{
        _cleanup_close_ int dir_fd = -EBADF;
        int r;

        m->dir = realpath(dir, NULL);
        if (!m->dir)
                return error_set(err, errno, "`%s`", dir);
        dir_fd = open(m->dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (dir_fd < 0)
                return error_set(err, errno, "open `%s`", m->dir);
        r = config_load(m, dir_fd, err);
        if (r < 0)
                return r;
        m->lock_fd = openat(dir_fd, "monitor.lock", O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (m->lock_fd < 0)
                return error_set(err, errno, "open `%s/monitor.lock`", m->dir);
        if (flock(m->lock_fd, LOCK_EX | LOCK_NB) < 0)
                return errno == EWOULDBLOCK ? error_setx(err, EBUSY, "container %s has a monitor already", m->id)
                                            : error_set(err, errno, "lock `%s/monitor.lock`", m->dir);
        if (fchdir(dir_fd) < 0)
                return error_set(err, errno, "chdir `%s`", m->dir);
        m->null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
        if (m->null_fd < 0)
                return error_set(err, errno, "open /dev/null");
        r = setup_signals(m, err);
        if (r >= 0)
                r = setup_socket(m, err);
        if (r < 0)
                return r;
        m->log.fd = -1;
        r = logfile_open(&m->log);
        if (r < 0)
                return error_set(err, -r, "open the log `%s`", m->log.path);
        return 0;
}

int main(int argc, char **argv)
{
        struct monitor *m = &M;
        struct error err = ERROR_INIT;
        char msg[sizeof(m->error)];

        /* fd 3 is the engine's pipe; 0..2 must be taken so that no pipe
         * of ours lands there */
        m->report_fd = fcntl(3, F_SETFD, FD_CLOEXEC) >= 0 ? 3 : -1;
        for (int fd = 0; fd < 3; fd++)
                if (fcntl(fd, F_GETFD) < 0 && open("/dev/null", O_RDWR) != fd)
                        return 1;
        m->lock_fd = m->signal_fd = m->listen_fd = m->console_fd = m->null_fd = -1;
        m->out_fd[STREAM_STDOUT] = m->out_fd[STREAM_STDERR] = m->pty_fd = m->in_fd = m->pidfd = -1;
        m->health.out_fd = -1;
        m->log.fd = -1;
        m->restart_delay = RESTART_DELAY_MIN;
        if (argc != 2 || argv[1][0] == '\0') {
                report(m, "error", "usage: berth-monitor DIR");
                return 2;
        }
        if (setup(m, argv[1], &err) < 0) {
                report(m, "error", err.msg ? err.msg : "setup failed");
                if (m->listen_fd >= 0)
                        (void) unlink("attach.sock");
                return 1;
        }
        m->run_started = now_ns();
        if (container_run(m, true, msg, sizeof(msg)) < 0) {
                /* as Docker shows a container that failed to start */
                snprintf(m->error, sizeof(m->error), "%s", msg);
                m->exit_code = start_error_code(msg);
                m->state = STATE_CREATED;
                (void) status_write(m);
                (void) unlink("attach.sock");
                reap_children(m);
                report(m, "error", msg);
                return 1;
        }
        if (m->wait_attach)
                report(m, "created", NULL);
        else {
                snprintf(msg, sizeof(msg), "%d", (int) m->pid);
                report(m, "started", msg);
        }
        m->trim_at = now_ns() + TRIM_AFTER;
        loop(m);
}
