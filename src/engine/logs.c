/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "basic/fileio.h"
#include "engine/engine-internal.h"
#include "engine/monitor.h"

/* "2026-11-23T21:00:00.123456789Z" in ns since the epoch (0: unparsable). */
static int64_t parse_time_ns(const char *s)
{
        struct tm tm = {};
        const char *rest = s ? strptime(s, "%Y-%m-%dT%H:%M:%S", &tm) : NULL;
        int64_t ns = 0, scale = 100000000;

        if (!rest)
                return 0;
        if (*rest == '.')
                for (rest++; *rest >= '0' && *rest <= '9'; rest++, scale /= 10)
                        ns += (*rest - '0') * scale;
        return (int64_t) timegm(&tm) * 1000000000 + ns;
}

struct log_sink {
        const struct logs_opts *o;
        int out_fd, err_fd;
        /* with a tail: the last lines, a ring */
        char **ring;
        size_t n, next;
};

/* Write one json-file line (LINE, LEN, no newline needed) as the user sees it. */
static void emit(struct log_sink *k, const char *line, size_t len)
{
        _cleanup_free_ char *copy = xstrndup(line, len);
        json_object *j = json_tokener_parse(copy), *log = NULL, *stream = NULL, *t = NULL;
        const char *text;
        int64_t ns;
        int fd;

        if (!j)
                return;
        json_object_object_get_ex(j, "log", &log);
        json_object_object_get_ex(j, "stream", &stream);
        json_object_object_get_ex(j, "time", &t);
        ns = parse_time_ns(json_object_get_string(t));
        text = json_object_get_string(log);
        if (!text || (k->o->since_ns && ns < k->o->since_ns) || (k->o->until_ns && ns > k->o->until_ns)) {
                json_object_put(j);
                return;
        }
        fd = stream && strcmp(json_object_get_string(stream), "stderr") == 0 ? k->err_fd : k->out_fd;
        if (k->o->timestamps) {
                const char *ts = json_object_get_string(t);
                (void) write_all(fd, ts ? ts : "", ts ? strlen(ts) : 0);
                (void) write_all(fd, " ", 1);
        }
        (void) write_all(fd, text, (size_t) json_object_get_string_len(log));
        json_object_put(j);
}

static void take(struct log_sink *k, const char *line, size_t len)
{
        if (k->o->tail < 0) {
                emit(k, line, len);
                return;
        }
        if (k->o->tail == 0)
                return;
        if (k->n < (size_t) k->o->tail) {
                k->ring = xrealloc(k->ring, (k->n + 1) * sizeof(char *));
                k->ring[k->n++] = xstrndup(line, len);
                return;
        }
        free(k->ring[k->next]);
        k->ring[k->next] = xstrndup(line, len);
        k->next = (k->next + 1) % k->n;
}

static void flush_tail(struct log_sink *k)
{
        for (size_t i = 0; i < k->n; i++) {
                char *l = k->ring[(k->next + i) % k->n];
                emit(k, l, strlen(l));
                free(l);
        }
        free(k->ring);
        k->ring = NULL;
        k->n = k->next = 0;
}

/* Feed the lines of PATH (at most LIMIT bytes of it, -1: all) to K. */
static void read_log(struct log_sink *k, const char *path, int64_t limit)
{
        _cleanup_free_ char *data = NULL;
        size_t len = 0;

        if (read_full_file_at(AT_FDCWD, path, (size_t) 1 << 31, &data, &len) < 0)
                return;
        if (limit >= 0 && (size_t) limit < len)
                len = (size_t) limit;
        for (size_t i = 0; i < len;) {
                char *nl = memchr(data + i, '\n', len - i);
                size_t end = nl ? (size_t) (nl - data) : len;
                if (end > i)
                        take(k, data + i, end - i);
                i = end + 1;
        }
}

/* The rotated files, oldest first, then the current one (stopping at
 * OFFSET when it is the file INODE). */
static void read_all(const struct container *c, struct log_sink *k, ino_t inode, int64_t offset)
{
        _cleanup_free_ char *cur = xasprintf("%s/ctr.log", c->dir);
        int n = 0;
        struct stat st;

        for (;; n++) {
                _cleanup_free_ char *p = xasprintf("%s.%d", cur, n + 1);
                if (access(p, F_OK) < 0)
                        break;
        }
        for (int i = n; i >= 1; i--) {
                _cleanup_free_ char *p = xasprintf("%s.%d", cur, i);
                read_log(k, p, -1);
        }
        read_log(k, cur, inode && stat(cur, &st) == 0 && st.st_ino == inode ? offset : -1);
}

int engine_logs(struct engine *e, struct container *c, const struct logs_opts *o, int out_fd, int err_fd,
                struct error *err)
{
        struct log_sink k = { .o = o, .out_fd = out_fd, .err_fd = err_fd };
        _cleanup_close_ int fd = -EBADF;
        char buf[1 + MON_MAX_PAYLOAD];
        unsigned long long inode = 0;
        long long offset = -1;

        if (o->follow && container_running(c) && container_monitor_alive(c)) {
                fd = engine_connect(e, c, NULL);
                if (fd >= 0 && send(fd, (char[]) { MON_LOGS }, 1, MSG_NOSIGNAL) == 1) {
                        ssize_t n = RETRY_EINTR(recv(fd, buf, sizeof(buf) - 1, 0));
                        if (n > 0 && buf[0] == MON_LOG_POS) {
                                buf[n] = '\0';
                                (void) sscanf(buf + 1, "%llu %lld", &inode, &offset);
                        } else
                                fd = (close(fd), -EBADF);
                } else if (fd >= 0)
                        fd = (close(fd), -EBADF);
        }
        read_all(c, &k, (ino_t) inode, offset);
        flush_tail(&k);
        if (fd < 0)
                return 0;
        /* following: every line the monitor writes from now on, until it exits for good */
        k.o = &(struct logs_opts) { .timestamps = o->timestamps, .tail = -1, .since_ns = o->since_ns,
                                    .until_ns = o->until_ns };
        for (;;) {
                ssize_t n = RETRY_EINTR(recv(fd, buf, sizeof(buf) - 1, 0));
                if (n <= 0)
                        return 0;
                buf[n] = '\0';
                if (buf[0] == MON_LOG_LINE)
                        emit(&k, buf + 1, (size_t) n - 1);
                else if (buf[0] == MON_EXIT && !(strchr(buf + 1, ' ') && strchr(buf + 1, ' ')[1] == '1'))
                        return 0;
        }
        (void) err;
}
