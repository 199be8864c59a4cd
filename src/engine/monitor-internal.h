/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* berth-monitor's pieces (monitor.h is the contract): monitor.c runs the
 * event loop, the runtime and the clients; monitor-log.c moves the
 * container's stdio and writes the json-file log and status.json;
 * monitor-health.c runs the health checks.  One static struct monitor holds everything: its big
 * buffers live in .bss, where only the pages touched take memory. */

#include <fcntl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "basic/macro.h"
#include "engine/monitor.h"

#define LOG_LINE_MAX 16384     /* a longer line is logged in pieces (Docker's limit) */
#define HEALTH_OUTPUT_MAX 4096 /* of a check's output, kept in its log entry */
#define HEALTH_LOG_MAX 5       /* results kept */
#define TIME_MAX 40            /* "2026-11-23T21:00:00.123456789Z" and its NUL */
#define NSEC_PER_SEC 1000000000LL
#define NSEC_PER_MSEC 1000000LL
#define IO_BUF_SIZE 16384

/* For reading the container's output (and the runtime's): .bss, trimmed. */
extern char io_buf[IO_BUF_SIZE];

static inline void close_fd(int *fd)
{
        if (*fd >= 0)
                close(*fd);
        *fd = -1;
}

static inline void set_nonblock(int fd)
{
        int fl = fcntl(fd, F_GETFL);

        if (fl >= 0)
                (void) fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

enum stream {
        STREAM_STDOUT,
        STREAM_STDERR,
        _STREAM_MAX,
};

enum mon_state {
        STATE_CREATED,
        STATE_RUNNING,
        STATE_PAUSED,
        STATE_RESTARTING,
        STATE_EXITED,
};

enum restart_policy {
        RESTART_NO,
        RESTART_ALWAYS,
        RESTART_UNLESS_STOPPED,
        RESTART_ON_FAILURE,
};

enum health_status {
        HEALTH_STARTING,
        HEALTH_HEALTHY,
        HEALTH_UNHEALTHY,
};

struct health_result {
        char start[TIME_MAX], end[TIME_MAX];
        int exit_code;
        char *output; /* malloc'd, raw bytes, NUL-terminated */
};

struct health {
        /* from monitor.json; test NULL: no health check */
        char **test;
        bool shell; /* CMD-SHELL: test[0] is the shell command */
        int64_t interval, timeout, start_period; /* ns */
        int retries;

        enum health_status status;
        int failing_streak;
        struct health_result log[HEALTH_LOG_MAX];
        size_t n_log;

        /* the check now running: `RUNTIME exec`, its output pipe */
        pid_t pid;
        int out_fd;
        bool exited, timed_out, abandoned;
        int wstatus;
        char out[HEALTH_OUTPUT_MAX];
        size_t out_len;
        struct timespec begun;   /* CLOCK_REALTIME */
        int64_t deadline;        /* CLOCK_MONOTONIC ns: its timeout */
        int64_t next;            /* CLOCK_MONOTONIC ns: the next check, 0: none */
};

struct logfile {
        char *path;
        int64_t max_size;
        int max_files;
        int fd;
        int64_t size;
        uint64_t ino;
        /* the unfinished line of each stream */
        char part[_STREAM_MAX][LOG_LINE_MAX];
        size_t part_len[_STREAM_MAX];
};

/* A buffered writer for status.json: no stdio. */
struct obuf {
        int fd;
        int err;
        size_t n;
        char buf[2048];
};

struct monitor {
        /* monitor.json */
        char *dir;
        char *id;
        char **runtime_argv; /* RUNTIME GLOBAL_ARGS... */
        size_t runtime_argc;
        bool tty, open_stdin, wait_attach;
        enum restart_policy restart;
        int restart_max;
        int stop_signal, stop_timeout;
        char **oom_paths, **oom_keys;
        size_t n_oom;
        char **exit_command;

        struct logfile log;
        struct health health;

        int report_fd;  /* fd 3 until the first report */
        int lock_fd;
        int signal_fd;
        int listen_fd;
        int console_fd; /* tty: where the runtime hands over the pty */
        int null_fd;

        /* the current run */
        enum mon_state state;
        pid_t pid;
        int pidfd;       /* when the container is not our child */
        bool exited;     /* reaped (or gone), status in wstatus */
        int wstatus;
        int out_fd[_STREAM_MAX]; /* pipes' read ends, or the pty master as stdout */
        int pty_fd;
        int in_fd;               /* the container's stdin: pipe or pty master; -1 */
        char *in_buf;            /* stdin bytes the container has not read yet */
        size_t in_len;
        bool in_close;           /* close the stdin pipe once in_buf is written */
        unsigned short rows, cols;
        uint64_t oom_base;
        int64_t run_started;     /* CLOCK_MONOTONIC ns */

        /* status.json */
        char started_at[TIME_MAX], finished_at[TIME_MAX];
        int exit_code;
        bool oom_killed;
        int restart_count;
        char error[512];
        bool stopped_by_user;

        /* deadlines, CLOCK_MONOTONIC ns, 0: none */
        int64_t restart_at;
        int64_t kill_at;
        int64_t trim_at;
        int64_t restart_delay;

        /* the synchronous runtime call under way */
        bool hold_output; /* leave the container's output in its pipes meanwhile */
        pid_t call_pid;
        bool call_done;
        int call_status;

        bool got_stop; /* SIGTERM or SIGINT */
        bool started_once;
};

struct error;
struct json_object;

/* monitor.c */
int64_t now_ns(void);
/* monitor.json: a member of O (NULL if none), an array of strings as a
 * NULL-terminated vector (NULL if not one), a number or DEF. */
struct json_object *config_get(struct json_object *o, const char *key);
char **config_strv(struct json_object *a);
int64_t config_int(struct json_object *o, const char *key, int64_t def);
/* fork + exec ARGV with stdio FD0..FD2 (-1: /dev/null); the child gets
 * an empty signal mask and default dispositions.  Returns the pid. */
pid_t spawn_argv(struct monitor *m, char *const *argv, int fd0, int fd1, int fd2, bool new_pgrp);
/* RUNTIME GLOBAL_ARGS ARGS... as a malloc'd vector (the strings borrowed). */
char **runtime_argv(struct monitor *m, const char *const *args, size_t n_args);
/* Output of stream S: to the attached clients. */
void monitor_output(struct monitor *m, enum stream s, const char *data, size_t n);
/* A line was written to the log: pass it to the clients following it. */
void monitor_log_line(struct monitor *m, const char *line, size_t len);
int status_write(struct monitor *m);

/* monitor-log.c */
int logfile_open(struct logfile *w);
/* Output of a stream: split at newlines (and LOG_LINE_MAX), logged. */
void logfile_output(struct monitor *m, enum stream s, const char *data, size_t n);
/* The stream ended: its unfinished line goes out without a newline. */
void logfile_flush(struct monitor *m, enum stream s);
void logfile_close(struct logfile *w);
/* Give the pages of idle buffers back (the monitor is idle). */
void logfile_trim(struct logfile *w);
void trim_pages(void *p, size_t len);
/* Read what stream S has (at most MAX_READS chunks, 0: until it would
 * block): to the attached clients and the log.  False when it ended. */
bool output_read(struct monitor *m, enum stream s, int max_reads);
/* Stream S ended: its last line logged, its fd closed. */
void stream_ended(struct monitor *m, enum stream s);
/* The run ended: close its stdout, stderr, stdin, pty. */
void stdio_close(struct monitor *m);
/* Write to the container's stdin without blocking, queueing the rest. */
void stdin_write(struct monitor *m, const char *data, size_t n);
/* POLLOUT on the container's stdin: write what is queued. */
void stdin_flush(struct monitor *m);
void stdin_close(struct monitor *m);
void pty_resize(struct monitor *m);
/* Escape IN as the inside of a JSON string into OUT (at most OUT_SIZE
 * bytes); invalid UTF-8 becomes \ufffd.  Returns the bytes written and
 * in *ret_used the input consumed: stops early when OUT is full. */
size_t json_escape(char *out, size_t out_size, const char *in, size_t n, size_t *ret_used);
void format_time(const struct timespec *ts, char buf[static TIME_MAX]);
void now_rfc3339(char buf[static TIME_MAX]);

void obuf_init(struct obuf *o, int fd);
void obuf_put(struct obuf *o, const char *s, size_t n);
void obuf_puts(struct obuf *o, const char *s);
void obuf_int(struct obuf *o, int64_t v);
void obuf_json_string(struct obuf *o, const char *s, size_t n);
int obuf_flush(struct obuf *o);

/* monitor-health.c */
int health_config(struct health *h, struct json_object *o, struct error *err);
void health_clear(struct health *h);
/* A run started (first check INTERVAL later) or ended (the check under
 * way is killed). */
void health_run_started(struct monitor *m);
void health_run_ended(struct monitor *m);
/* The next CLOCK_MONOTONIC deadline health_tick() wants, 0: none. */
int64_t health_deadline(const struct monitor *m);
void health_tick(struct monitor *m, int64_t now);
void health_read(struct monitor *m);
void health_child_exited(struct monitor *m, int wstatus);
void health_write_json(struct monitor *m, struct obuf *o);
