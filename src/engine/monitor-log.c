/* SPDX-License-Identifier: GPL-2.0-or-later */
/* berth-monitor's output: the container's stdio (its output to the
 * clients and the log, its input from them), the log in Docker's
 * json-file format, status.json, and the JSON and times they hold,
 * formatted by hand (no stdio, no json-c objects: the monitor stays small
 * while it runs). */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "basic/fileio.h"
#include "basic/timefmt.h"
#include "engine/monitor-internal.h"

char io_buf[IO_BUF_SIZE] __attribute__((aligned(4096)));

/* One log line being built: '{"log":"' + the escaped piece + the rest.
 * Page-aligned so that the idle trim can give its pages back. */
static char line_buf[MON_MAX_PAYLOAD] __attribute__((aligned(4096)));
#define LINE_TAIL_MAX 128 /* '","stream":"stdout","time":"…"}\n' fits */

/* ---- time ---------------------------------------------------------------- */

void format_time(const struct timespec *ts, char buf[static TIME_MAX])
{
        time_rfc3339_buf(ts, buf);
}

void now_rfc3339(char buf[static TIME_MAX])
{
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        format_time(&ts, buf);
}

/* ---- JSON strings -------------------------------------------------------- */

/* The length of the valid UTF-8 sequence at S (N bytes available), 0 when
 * it is not one: a stray continuation byte, an overlong form, a surrogate,
 * past U+10FFFF, or cut short. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
        uint32_t cp, min;
        size_t len;

        if (s[0] < 0x80)
                return 1;
        if (s[0] < 0xc2)
                return 0;
        if (s[0] < 0xe0) {
                len = 2;
                cp = s[0] & 0x1f;
                min = 0x80;
        } else if (s[0] < 0xf0) {
                len = 3;
                cp = s[0] & 0x0f;
                min = 0x800;
        } else if (s[0] < 0xf5) {
                len = 4;
                cp = s[0] & 0x07;
                min = 0x10000;
        } else
                return 0;
        if (n < len)
                return 0;
        for (size_t i = 1; i < len; i++) {
                if ((s[i] & 0xc0) != 0x80)
                        return 0;
                cp = cp << 6 | (s[i] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
                return 0;
        return len;
}

size_t json_escape(char *out, size_t out_size, const char *in, size_t n, size_t *ret_used)
{
        static const char hex[] = "0123456789abcdef";
        const unsigned char *s = (const unsigned char *) in;
        size_t o = 0, i = 0;

        while (i < n) {
                char esc[6];
                const char *src = esc;
                size_t elen, ilen = 1;

                if (s[i] == '"' || s[i] == '\\') {
                        esc[0] = '\\';
                        esc[1] = (char) s[i];
                        elen = 2;
                } else if (s[i] == '\n' || s[i] == '\r' || s[i] == '\t') {
                        esc[0] = '\\';
                        esc[1] = s[i] == '\n' ? 'n' : s[i] == '\r' ? 'r' : 't';
                        elen = 2;
                } else if (s[i] < 0x20) {
                        memcpy(esc, "\\u00", 4);
                        esc[4] = hex[s[i] >> 4];
                        esc[5] = hex[s[i] & 0xf];
                        elen = 6;
                } else if (s[i] < 0x80) {
                        src = in + i;
                        elen = 1;
                } else {
                        ilen = utf8_len(s + i, n - i);
                        if (ilen == 0) {
                                src = "\\ufffd";
                                elen = 6;
                                ilen = 1;
                        } else {
                                src = in + i;
                                elen = ilen;
                        }
                }
                if (o + elen > out_size)
                        break;
                memcpy(out + o, src, elen);
                o += elen;
                i += ilen;
        }
        *ret_used = i;
        return o;
}

/* ---- status.json's writer ------------------------------------------------ */

void obuf_init(struct obuf *o, int fd)
{
        o->fd = fd;
        o->err = 0;
        o->n = 0;
}

int obuf_flush(struct obuf *o)
{
        int r;

        if (o->n > 0 && !o->err) {
                r = write_all(o->fd, o->buf, o->n);
                if (r < 0)
                        o->err = r;
        }
        o->n = 0;
        return o->err;
}

void obuf_put(struct obuf *o, const char *s, size_t n)
{
        while (n > 0) {
                size_t k = sizeof(o->buf) - o->n;

                if (k == 0) {
                        (void) obuf_flush(o);
                        continue;
                }
                if (k > n)
                        k = n;
                memcpy(o->buf + o->n, s, k);
                o->n += k;
                s += k;
                n -= k;
        }
}

void obuf_puts(struct obuf *o, const char *s)
{
        obuf_put(o, s, strlen(s));
}

void obuf_int(struct obuf *o, int64_t v)
{
        char b[24], *p = b + sizeof(b);
        uint64_t u = v < 0 ? -(uint64_t) v : (uint64_t) v;

        do {
                *--p = (char) ('0' + u % 10);
                u /= 10;
        } while (u);
        if (v < 0)
                *--p = '-';
        obuf_put(o, p, (size_t) (b + sizeof(b) - p));
}

void obuf_json_string(struct obuf *o, const char *s, size_t n)
{
        obuf_put(o, "\"", 1);
        while (n > 0) {
                size_t used;

                if (sizeof(o->buf) - o->n < 8)
                        (void) obuf_flush(o);
                o->n += json_escape(o->buf + o->n, sizeof(o->buf) - o->n, s, n, &used);
                s += used;
                n -= used;
        }
        obuf_put(o, "\"", 1);
}

/* ---- status.json ------------------------------------------------------- */

/* Written whole to a temporary, renamed over: readers see one or the other. */
int status_write(struct monitor *m)
{
        static const char *const states[] = { "created", "running", "paused", "restarting", "exited" };
        bool running = m->state == STATE_RUNNING || m->state == STATE_PAUSED;
        struct obuf o;
        int fd, r;

        fd = open("status.json.tmp", O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (fd < 0)
                return -errno;
        obuf_init(&o, fd);
        obuf_puts(&o, "{\"state\":\"");
        obuf_puts(&o, states[m->state]);
        obuf_puts(&o, "\",\"pid\":");
        obuf_int(&o, running ? m->pid : 0);
        obuf_puts(&o, ",\"monitor_pid\":");
        obuf_int(&o, getpid());
        obuf_puts(&o, ",\"started_at\":\"");
        obuf_puts(&o, m->started_at);
        obuf_puts(&o, "\",\"finished_at\":\"");
        obuf_puts(&o, m->finished_at);
        obuf_puts(&o, "\",\"exit_code\":");
        obuf_int(&o, m->exit_code);
        obuf_puts(&o, m->oom_killed ? ",\"oom_killed\":true" : ",\"oom_killed\":false");
        obuf_puts(&o, ",\"restart_count\":");
        obuf_int(&o, m->restart_count);
        obuf_puts(&o, ",\"error\":");
        obuf_json_string(&o, m->error, strlen(m->error));
        obuf_puts(&o, m->stopped_by_user ? ",\"stopped_by_user\":true" : ",\"stopped_by_user\":false");
        obuf_puts(&o, ",\"health\":");
        health_write_json(m, &o);
        obuf_puts(&o, "}\n");
        r = obuf_flush(&o);
        if (close(fd) < 0 && r >= 0)
                r = -errno;
        if (r >= 0 && rename("status.json.tmp", "status.json") < 0)
                r = -errno;
        if (r < 0)
                (void) unlink("status.json.tmp");
        return r;
}

/* ---- the log file -------------------------------------------------------- */

int logfile_open(struct logfile *w)
{
        struct stat st;
        int fd;

        fd = open(w->path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0640);
        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0) {
                int r = -errno;
                close(fd);
                return r;
        }
        w->fd = fd;
        w->size = st.st_size;
        w->ino = st.st_ino;
        return 0;
}

void logfile_close(struct logfile *w)
{
        if (w->fd >= 0)
                close(w->fd);
        w->fd = -1;
}

/* LOG_PATH.N-1 to .N, …, LOG_PATH to .1, a new LOG_PATH: MAX_FILES files in
 * all.  With one file, like Docker, the log starts again from empty. */
static void logfile_rotate(struct logfile *w)
{
        if (w->max_files <= 1) {
                if (ftruncate(w->fd, 0) == 0)
                        w->size = 0;
                return;
        }
        for (int i = w->max_files - 1; i >= 1; i--) {
                _cleanup_free_ char *to = xasprintf("%s.%d", w->path, i);
                _cleanup_free_ char *from = i > 1 ? xasprintf("%s.%d", w->path, i - 1) : xstrdup(w->path);
                if (rename(from, to) < 0 && errno != ENOENT)
                        return; /* keep writing where we are */
        }
        logfile_close(w);
        (void) logfile_open(w);
}

static void logfile_write(struct logfile *w, const char *line, size_t len)
{
        if (w->fd < 0 && logfile_open(w) < 0)
                return;
        if (w->max_size > 0 && w->size > 0 && w->size + (int64_t) len > w->max_size) {
                logfile_rotate(w);
                if (w->fd < 0)
                        return;
        }
        if (write_all(w->fd, line, len) >= 0)
                w->size += (int64_t) len;
}

/* Log DATA (one line, or a piece of one) of stream S: one JSON object per
 * piece, each short enough to be a MON_LOG_LINE packet too. */
static void logfile_emit(struct monitor *m, enum stream s, const char *data, size_t n)
{
        static const char *const names[_STREAM_MAX] = { "stdout", "stderr" };

        while (n > 0) {
                char ts[TIME_MAX];
                size_t used, len = 8;

                memcpy(line_buf, "{\"log\":\"", len);
                len += json_escape(line_buf + len, sizeof(line_buf) - LINE_TAIL_MAX - len, data, n, &used);
                now_rfc3339(ts);
                memcpy(line_buf + len, "\",\"stream\":\"", 12);
                len += 12;
                memcpy(line_buf + len, names[s], 6);
                len += 6;
                memcpy(line_buf + len, "\",\"time\":\"", 10);
                len += 10;
                memcpy(line_buf + len, ts, strlen(ts));
                len += strlen(ts);
                memcpy(line_buf + len, "\"}\n", 3);
                len += 3;
                logfile_write(&m->log, line_buf, len);
                monitor_log_line(m, line_buf, len);
                data += used;
                n -= used;
        }
}

/* How many bytes at the end of S (N bytes) start a UTF-8 sequence that
 * does not end there: carried over to the next piece of a long line. */
static size_t utf8_cut(const char *s, size_t n)
{
        for (size_t k = 1; k <= 3 && k <= n; k++) {
                unsigned char c = (unsigned char) s[n - k];
                size_t need;

                if ((c & 0xc0) == 0x80)
                        continue;
                need = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
                return need > k ? k : 0;
        }
        return 0;
}

void logfile_output(struct monitor *m, enum stream s, const char *data, size_t n)
{
        struct logfile *w = &m->log;
        char *part = w->part[s];

        while (n > 0) {
                const char *nl = memchr(data, '\n', n);
                size_t take = nl ? (size_t) (nl - data) + 1 : n;
                bool complete = nl != NULL;

                if (w->part_len[s] == 0 && complete && take <= LOG_LINE_MAX) {
                        /* the common case: a whole line, no copy */
                        logfile_emit(m, s, data, take);
                        data += take;
                        n -= take;
                        continue;
                }
                if (take > LOG_LINE_MAX - w->part_len[s]) {
                        take = LOG_LINE_MAX - w->part_len[s];
                        complete = false;
                }
                memcpy(part + w->part_len[s], data, take);
                w->part_len[s] += take;
                data += take;
                n -= take;
                if (complete) {
                        logfile_emit(m, s, part, w->part_len[s]);
                        w->part_len[s] = 0;
                } else if (w->part_len[s] == LOG_LINE_MAX) {
                        size_t cut = utf8_cut(part, LOG_LINE_MAX);
                        logfile_emit(m, s, part, LOG_LINE_MAX - cut);
                        memmove(part, part + LOG_LINE_MAX - cut, cut);
                        w->part_len[s] = cut;
                }
        }
}

void logfile_flush(struct monitor *m, enum stream s)
{
        if (m->log.part_len[s] > 0)
                logfile_emit(m, s, m->log.part[s], m->log.part_len[s]);
        m->log.part_len[s] = 0;
}

/* MADV_DONTNEED the whole pages inside [P, P+LEN): private anonymous
 * memory, so they read back as zeros (or are never read again). */
void trim_pages(void *p, size_t len)
{
        uintptr_t start = ((uintptr_t) p + 4095) & ~(uintptr_t) 4095;
        uintptr_t end = ((uintptr_t) p + len) & ~(uintptr_t) 4095;

        if (end > start)
                (void) madvise((void *) start, end - start, MADV_DONTNEED);
}

void logfile_trim(struct logfile *w)
{
        trim_pages(io_buf, sizeof(io_buf));
        trim_pages(line_buf, sizeof(line_buf));
        for (int s = 0; s < _STREAM_MAX; s++)
                trim_pages(w->part[s] + w->part_len[s], LOG_LINE_MAX - w->part_len[s]);
}

/* ---- the container's stdio ------------------------------------------------ */

/* Read what stream S has (at most MAX_READS chunks, 0: until it would
 * block): to the attached clients and the log.  False when it ended. */
bool output_read(struct monitor *m, enum stream s, int max_reads)
{
        for (int i = 0; max_reads == 0 || i < max_reads; i++) {
                ssize_t n = read(m->out_fd[s], io_buf, sizeof(io_buf));

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 && errno == EAGAIN)
                        return true;
                if (n <= 0)
                        return false; /* EOF, or EIO: the pty's last slave end closed */
                monitor_output(m, s, io_buf, (size_t) n);
                logfile_output(m, s, io_buf, (size_t) n);
        }
        return true;
}

static void stdin_drop(struct monitor *m)
{
        free(m->in_buf);
        m->in_buf = NULL;
        m->in_len = 0;
        m->in_close = false;
}

void stdin_close(struct monitor *m)
{
        stdin_drop(m);
        if (m->in_fd >= 0 && m->in_fd != m->pty_fd)
                close(m->in_fd);
        m->in_fd = -1;
}

void stream_ended(struct monitor *m, enum stream s)
{
        logfile_flush(m, s);
        if (m->out_fd[s] >= 0 && m->out_fd[s] == m->pty_fd) {
                /* the pty is gone for input too */
                if (m->in_fd == m->pty_fd)
                        stdin_close(m);
                m->pty_fd = -1;
        }
        close_fd(&m->out_fd[s]);
}

void stdio_close(struct monitor *m)
{
        for (int s = 0; s < _STREAM_MAX; s++)
                if (m->out_fd[s] >= 0)
                        stream_ended(m, (enum stream) s);
        stdin_close(m);
        close_fd(&m->pty_fd);
}

/* Write to the container's stdin without blocking: what it does not take
 * now waits in in_buf, and the clients that may send more are not read
 * until it has gone (their own sends block instead). */
void stdin_flush(struct monitor *m)
{
        while (m->in_len > 0) {
                ssize_t n = write(m->in_fd, m->in_buf, m->in_len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 && errno == EAGAIN)
                        return;
                if (n < 0) {
                        /* EPIPE: the container closed its stdin */
                        if (m->in_fd == m->pty_fd)
                                stdin_drop(m);
                        else
                                stdin_close(m);
                        return;
                }
                memmove(m->in_buf, m->in_buf + n, m->in_len - (size_t) n);
                m->in_len -= (size_t) n;
        }
        free(m->in_buf);
        m->in_buf = NULL;
        if (m->in_close)
                stdin_close(m);
}

void stdin_write(struct monitor *m, const char *data, size_t n)
{
        if (m->in_fd < 0 || m->in_close || n == 0)
                return;
        m->in_buf = xrealloc(m->in_buf, m->in_len + n);
        memcpy(m->in_buf + m->in_len, data, n);
        m->in_len += n;
        stdin_flush(m);
}

void pty_resize(struct monitor *m)
{
        struct winsize ws = { .ws_row = m->rows, .ws_col = m->cols };

        if (m->pty_fd >= 0 && m->rows && m->cols)
                (void) ioctl(m->pty_fd, TIOCSWINSZ, &ws);
}
