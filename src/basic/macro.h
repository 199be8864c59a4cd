/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _unused_ __attribute__((unused))
#define _printf_(a, b) __attribute__((format(printf, a, b)))
#define _noreturn_ __attribute__((noreturn))
#define _likely_(x) __builtin_expect(!!(x), 1)
#define _unlikely_(x) __builtin_expect(!!(x), 0)

/* PATH when none is set: the runtime's for processes, the engine's lookups. */
#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

#define ELEMENTSOF(x) (sizeof(x) / sizeof((x)[0]))

static inline void freep(void *p)
{
        free(*(void **) p);
}

static inline void closep(int *fd)
{
        if (*fd >= 0) {
                int saved = errno;
                close(*fd);
                errno = saved;
        }
}

static inline void fclosep(FILE **f)
{
        if (*f) {
                int saved = errno;
                fclose(*f);
                errno = saved;
        }
}

/* A NULL-terminated array of strings. */
static inline void strv_free(char **v)
{
        if (!v)
                return;
        for (char **p = v; *p; p++)
                free(*p);
        free(v);
}

static inline void strv_freep(char ***v)
{
        strv_free(*v);
}

#define _cleanup_free_ _cleanup_(freep)
#define _cleanup_close_ _cleanup_(closep)
#define _cleanup_fclose_ _cleanup_(fclosep)
#define _cleanup_strv_free_ _cleanup_(strv_freep)

#define TAKE_PTR(p)                         \
        ({                                  \
                __typeof__(p) _tp_ = (p);   \
                (p) = NULL;                 \
                _tp_;                       \
        })

#define TAKE_FD(fd)                         \
        ({                                  \
                int _tf_ = (fd);            \
                (fd) = -EBADF;              \
                _tf_;                       \
        })

/* Retry a syscall on EINTR. */
#define RETRY_EINTR(expr)                                       \
        ({                                                      \
                __typeof__(expr) _r_;                           \
                do                                              \
                        _r_ = (expr);                           \
                while (_r_ < 0 && errno == EINTR);              \
                _r_;                                            \
        })

_noreturn_ void oom(void);

static inline void *xmalloc(size_t n)
{
        void *p = malloc(n ? n : 1);
        if (!p)
                oom();
        return p;
}

static inline void *xzalloc(size_t n)
{
        void *p = calloc(1, n ? n : 1);
        if (!p)
                oom();
        return p;
}

static inline void *xrealloc(void *p, size_t n)
{
        p = realloc(p, n ? n : 1);
        if (!p)
                oom();
        return p;
}

char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
_printf_(1, 2) char *xasprintf(const char *fmt, ...);
_printf_(1, 0) char *xvasprintf(const char *fmt, va_list ap);
/* NULL-terminated string vectors: the number of entries; append S
 * (taken) to *V (NULL: a new vector). */
size_t strv_length(char *const *v);
void strv_push(char ***v, char *s);
