/* SPDX-License-Identifier: GPL-2.0-or-later */
/* berth-monitor: health checks, Docker's way.  Every INTERVAL after a run
 * starts (and INTERVAL after each check ends) `RUNTIME exec ID …` runs the
 * test, its output captured, killed after TIMEOUT.  Status "starting"
 * until a success; RETRIES failures in a row make it "unhealthy", except
 * failures inside START_PERIOD before any success. */
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "basic/error.h"
#include "basic/fileio.h"
#include "engine/monitor-internal.h"

#define HEALTH_PID_FILE "health.pid" /* in DIR, our working directory */

/* monitor.json's "health": null, or {"test": ["CMD-SHELL", CMD] or
 * ["CMD", PROG, ARGS…], "interval", "timeout", "start_period" (ns),
 * "retries"}; another test (["NONE"]) means no check. */
int health_config(struct health *hc, json_object *h, struct error *err)
{
        _cleanup_strv_free_ char **test = config_strv(config_get(h, "test"));
        size_t n = strv_length(test);

        if (!h || json_object_is_type(h, json_type_null))
                return 0;
        if (!json_object_is_type(h, json_type_object) || !test)
                return error_setx(err, EINVAL, "monitor.json: \"health\" is not an object with a \"test\" array");
        if (n < 2 || (strcmp(test[0], "CMD") != 0 && strcmp(test[0], "CMD-SHELL") != 0))
                return 0; /* ["NONE"] and the like: no check */
        hc->shell = strcmp(test[0], "CMD-SHELL") == 0;
        free(test[0]);
        memmove(test, test + 1, n * sizeof(char *));
        hc->test = TAKE_PTR(test);
        hc->interval = config_int(h, "interval", 0) > 0 ? config_int(h, "interval", 0) : 30 * NSEC_PER_SEC;
        hc->timeout = config_int(h, "timeout", 0) > 0 ? config_int(h, "timeout", 0) : 30 * NSEC_PER_SEC;
        hc->start_period = config_int(h, "start_period", 0) > 0 ? config_int(h, "start_period", 0) : 0;
        hc->retries = config_int(h, "retries", 0) > 0 ? (int) config_int(h, "retries", 0) : 3;
        return 0;
}

void health_clear(struct health *h)
{
        for (size_t i = 0; i < h->n_log; i++)
                free(h->log[i].output);
        h->n_log = 0;
}

void health_run_started(struct monitor *m)
{
        struct health *h = &m->health;

        if (!h->test)
                return;
        health_clear(h);
        h->status = HEALTH_STARTING;
        h->failing_streak = 0;
        h->next = now_ns() + h->interval;
}

/* Kill the check under way: the process the runtime started in the
 * container (its pid file), then the runtime and its process group. */
static void health_kill(struct health *h)
{
        _cleanup_free_ char *s = NULL;
        int64_t pid;

        if (h->pid <= 0 || h->exited)
                return;
        /* the runtime has not been reaped: its child's pid is still its own */
        if (read_full_file_at(AT_FDCWD, HEALTH_PID_FILE, 64, &s, NULL) >= 0) {
                s[strcspn(s, "\n")] = '\0';
                if (parse_int64(s, &pid) >= 0 && pid > 1)
                        (void) kill((pid_t) pid, SIGKILL);
        }
        (void) kill(-h->pid, SIGKILL);
        (void) kill(h->pid, SIGKILL);
}

void health_run_ended(struct monitor *m)
{
        struct health *h = &m->health;

        h->next = 0;
        if (h->pid > 0) {
                health_kill(h);
                h->abandoned = true; /* reaped later, its result dropped */
        }
        if (h->out_fd >= 0) {
                close(h->out_fd);
                h->out_fd = -1;
        }
}

int64_t health_deadline(const struct monitor *m)
{
        const struct health *h = &m->health;

        if (!h->test)
                return 0;
        if (h->pid > 0)
                return h->timed_out || h->exited ? 0 : h->deadline;
        return h->next;
}

static void health_spawn(struct monitor *m)
{
        struct health *h = &m->health;
        _cleanup_free_ char *pid_file = xasprintf("%s/" HEALTH_PID_FILE, m->dir);
        _cleanup_free_ char **argv = NULL;
        _cleanup_free_ const char **args = xmalloc((strv_length(h->test) + 6) * sizeof(char *));
        size_t n = 0;
        int p[2];

        args[n++] = "exec";
        args[n++] = "--pid-file";
        args[n++] = pid_file;
        args[n++] = m->id;
        if (h->shell) {
                args[n++] = "/bin/sh";
                args[n++] = "-c";
        }
        for (char **t = h->test; *t; t++)
                args[n++] = *t;
        argv = runtime_argv(m, args, n);
        (void) unlink(HEALTH_PID_FILE);
        if (pipe2(p, O_CLOEXEC | O_NONBLOCK) < 0) {
                h->next = now_ns() + h->interval;
                return;
        }
        h->out_len = 0;
        h->exited = h->timed_out = h->abandoned = false;
        clock_gettime(CLOCK_REALTIME, &h->begun);
        h->deadline = now_ns() + h->timeout;
        h->pid = spawn_argv(m, argv, -1, p[1], p[1], true);
        close(p[1]);
        if (h->pid < 0) {
                close(p[0]);
                h->pid = 0;
                h->next = now_ns() + h->interval;
                return;
        }
        h->out_fd = p[0];
}

void health_tick(struct monitor *m, int64_t now)
{
        struct health *h = &m->health;

        if (!h->test)
                return;
        if (h->pid > 0) {
                if (!h->exited && !h->timed_out && now >= h->deadline) {
                        h->timed_out = true;
                        health_kill(h);
                }
                return;
        }
        if (!h->next || now < h->next)
                return;
        if (m->state != STATE_RUNNING) {
                h->next = now + h->interval; /* paused: no checks */
                return;
        }
        health_spawn(m);
}

static void health_push(struct health *h, const struct health_result *r)
{
        if (h->n_log == HEALTH_LOG_MAX) {
                free(h->log[0].output);
                memmove(h->log, h->log + 1, (HEALTH_LOG_MAX - 1) * sizeof(h->log[0]));
                h->n_log--;
        }
        h->log[h->n_log++] = *r;
}

/* Go's time.Duration spelling for the usual cases: "30s", "1.5s", "500ms". */
static char *duration_string(int64_t ns)
{
        if (ns % NSEC_PER_SEC == 0)
                return xasprintf("%llds", (long long) (ns / NSEC_PER_SEC));
        if (ns >= NSEC_PER_SEC)
                return xasprintf("%gs", (double) ns / NSEC_PER_SEC);
        return xasprintf("%gms", (double) ns / NSEC_PER_MSEC);
}

static void health_done(struct monitor *m)
{
        struct health *h = &m->health;
        struct health_result r = {};
        struct timespec end;
        int64_t now = now_ns();

        clock_gettime(CLOCK_REALTIME, &end);
        format_time(&h->begun, r.start);
        format_time(&end, r.end);
        if (h->timed_out) {
                _cleanup_free_ char *d = duration_string(h->timeout);
                r.exit_code = -1;
                r.output = xasprintf("Health check exceeded timeout (%s)", d);
        } else {
                r.exit_code = WIFEXITED(h->wstatus) ? WEXITSTATUS(h->wstatus) : 128 + WTERMSIG(h->wstatus);
                r.output = xstrndup(h->out, h->out_len);
        }
        health_push(h, &r);
        if (r.exit_code == 0) {
                h->status = HEALTH_HEALTHY;
                h->failing_streak = 0;
        } else if (h->status != HEALTH_STARTING || now - m->run_started >= h->start_period) {
                /* failures in the start period count only after a success */
                if (++h->failing_streak >= h->retries)
                        h->status = HEALTH_UNHEALTHY;
        }
        h->pid = 0;
        h->next = now + h->interval;
        (void) status_write(m);
}

void health_read(struct monitor *m)
{
        struct health *h = &m->health;

        while (h->out_fd >= 0) {
                char buf[1024];
                ssize_t n = read(h->out_fd, buf, sizeof(buf));

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 && errno == EAGAIN)
                        break;
                if (n <= 0) {
                        close(h->out_fd);
                        h->out_fd = -1;
                        break;
                }
                if (h->out_len < sizeof(h->out)) {
                        size_t k = sizeof(h->out) - h->out_len;
                        if (k > (size_t) n)
                                k = (size_t) n;
                        memcpy(h->out + h->out_len, buf, k);
                        h->out_len += k;
                }
        }
}

void health_child_exited(struct monitor *m, int wstatus)
{
        struct health *h = &m->health;

        h->exited = true;
        h->wstatus = wstatus;
        if (h->abandoned) {
                h->pid = 0;
                return;
        }
        /* what it wrote is in the pipe; a process it left behind may hold
         * the pipe open, so read what is there and stop */
        health_read(m);
        if (h->out_fd >= 0) {
                close(h->out_fd);
                h->out_fd = -1;
        }
        health_done(m);
}

void health_write_json(struct monitor *m, struct obuf *o)
{
        static const char *const names[] = { "starting", "healthy", "unhealthy" };
        struct health *h = &m->health;

        if (!h->test) {
                obuf_puts(o, "null");
                return;
        }
        obuf_puts(o, "{\"status\":\"");
        obuf_puts(o, names[h->status]);
        obuf_puts(o, "\",\"failing_streak\":");
        obuf_int(o, h->failing_streak);
        obuf_puts(o, ",\"log\":[");
        for (size_t i = 0; i < h->n_log; i++) {
                const struct health_result *r = &h->log[i];
                obuf_puts(o, i ? ",{\"start\":\"" : "{\"start\":\"");
                obuf_puts(o, r->start);
                obuf_puts(o, "\",\"end\":\"");
                obuf_puts(o, r->end);
                obuf_puts(o, "\",\"exit_code\":");
                obuf_int(o, r->exit_code);
                obuf_puts(o, ",\"output\":");
                obuf_json_string(o, r->output, strlen(r->output));
                obuf_puts(o, "}");
        }
        obuf_puts(o, "]}");
}
