/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <fcntl.h>
#include <stdarg.h>
#include <string.h>
#include <time.h>

#include "fileio.h"
#include "log.h"

static int log_fd = -1;
static enum log_format log_fmt;
static bool log_debug_on;

int log_open(const char *path, enum log_format fmt, bool debug)
{
        log_fmt = fmt;
        log_debug_on = debug;
        if (!path)
                return 0;
        log_fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        return log_fd < 0 ? -errno : 0;
}

static void json_escape(char *out, size_t cap, const char *s)
{
        size_t o = 0;

        for (; *s && o + 7 < cap; s++) {
                unsigned char c = *s;
                if (c == '"' || c == '\\') {
                        out[o++] = '\\';
                        out[o++] = c;
                } else if (c < 0x20)
                        o += snprintf(out + o, cap - o, "\\u%04x", c);
                else
                        out[o++] = c;
        }
        out[o] = 0;
}

_printf_(2, 0) static void log_write(const char *level, const char *fmt, va_list ap)
{
        char msg[4096], line[16384], ts[64];
        struct timespec now;
        struct tm tm;
        int n;

        vsnprintf(msg, sizeof(msg), fmt, ap);
        clock_gettime(CLOCK_REALTIME, &now);
        gmtime_r(&now.tv_sec, &tm);
        n = (int) strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
        snprintf(ts + n, sizeof(ts) - n, ".%09ldZ", now.tv_nsec);

        if (strcmp(level, "debug") != 0 || log_debug_on) {
                n = snprintf(line, sizeof(line), "berth-runtime: %s\n", msg);
                if (log_fd < 0 || strcmp(level, "debug") != 0)
                        (void) write_all(STDERR_FILENO, line, n);
        }
        if (log_fd < 0)
                return;
        if (log_fmt == LOG_FORMAT_JSON) {
                char esc[8192];
                json_escape(esc, sizeof(esc), msg);
                n = snprintf(line, sizeof(line), "{\"level\":\"%s\",\"msg\":\"%s\",\"time\":\"%s\"}\n", level, esc, ts);
        } else
                n = snprintf(line, sizeof(line), "time=\"%s\" level=%s msg=\"%s\"\n", ts, level, msg);
        (void) write_all(log_fd, line, n < (int) sizeof(line) ? (size_t) n : sizeof(line) - 1);
}

void log_error(const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        log_write("error", fmt, ap);
        va_end(ap);
}

void log_warning(const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        log_write("warning", fmt, ap);
        va_end(ap);
}

void log_debug(const char *fmt, ...)
{
        va_list ap;
        if (!log_debug_on)
                return;
        va_start(ap, fmt);
        log_write("debug", fmt, ap);
        va_end(ap);
}
