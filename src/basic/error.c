/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdarg.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

#include "error.h"

_noreturn_ void oom(void)
{
        static const char m[] = "berth: out of memory\n";
        (void) !write(STDERR_FILENO, m, sizeof(m) - 1);
        abort();
}

char *xstrdup(const char *s)
{
        char *r = strdup(s ? s : "");
        if (!r)
                oom();
        return r;
}

char *xstrndup(const char *s, size_t n)
{
        char *r = strndup(s, n);
        if (!r)
                oom();
        return r;
}

size_t strv_length(char *const *v)
{
        size_t n = 0;

        while (v && v[n])
                n++;
        return n;
}

void strv_push(char ***v, char *s)
{
        size_t n = strv_length(*v);

        *v = xrealloc(*v, (n + 2) * sizeof(char *));
        (*v)[n] = s;
        (*v)[n + 1] = NULL;
}

char *xvasprintf(const char *fmt, va_list ap)
{
        char *r;

        if (vasprintf(&r, fmt, ap) < 0)
                oom();
        return r;
}

char *xasprintf(const char *fmt, ...)
{
        va_list ap;
        char *r;

        va_start(ap, fmt);
        if (vasprintf(&r, fmt, ap) < 0)
                oom();
        va_end(ap);
        return r;
}

_printf_(4, 0) static int error_vset(struct error *err, int code, bool with_errno, const char *fmt, va_list ap)
{
        char *m;

        if (code < 0)
                code = -code;
        if (!err)
                return code ? -code : -EINVAL;
        if (err->msg) /* keep the first, most precise failure */
                return error_ret(err);
        if (vasprintf(&m, fmt, ap) < 0)
                oom();
        if (with_errno && code) {
                char *t = xasprintf("%s: %s", m, strerror(code));
                free(m);
                m = t;
        }
        err->code = code;
        err->msg = m;
        return error_ret(err);
}

int error_set(struct error *err, int code, const char *fmt, ...)
{
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = error_vset(err, code, true, fmt, ap);
        va_end(ap);
        return r;
}

int error_setx(struct error *err, int code, const char *fmt, ...)
{
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = error_vset(err, code, false, fmt, ap);
        va_end(ap);
        return r;
}

int error_prefix(struct error *err, const char *fmt, ...)
{
        va_list ap;
        char *p, *m;

        if (!err)
                return -EINVAL;
        va_start(ap, fmt);
        if (vasprintf(&p, fmt, ap) < 0)
                oom();
        va_end(ap);
        m = xasprintf("%s: %s", p, err->msg ? err->msg : "unknown error");
        free(p);
        free(err->msg);
        err->msg = m;
        return error_ret(err);
}

void error_clear(struct error *err)
{
        if (!err)
                return;
        free(err->msg);
        err->msg = NULL;
        err->code = 0;
}

int error_fs_context(int fsfd, struct error *err, int code, const char *what)
{
        char buf[256];
        ssize_t n = fsfd >= 0 ? read(fsfd, buf, sizeof(buf) - 1) : -1;

        if (n > 2) {
                buf[n] = 0;
                buf[strcspn(buf, "\n")] = 0;
                return error_set(err, code, "%s (%s)", what, buf + 2);
        }
        return error_set(err, code, "%s", what);
}
