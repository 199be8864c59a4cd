/* SPDX-License-Identifier: GPL-2.0-or-later */
/* TAP output for the unit tests: ok(), skips, and the closing plan. */
#pragma once

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>

#include "basic/macro.h"

static unsigned n_tests, n_failed;

_printf_(2, 3) static inline bool ok(bool cond, const char *fmt, ...)
{
        va_list ap;

        n_tests++;
        if (!cond)
                n_failed++;
        printf("%s %u - ", cond ? "ok" : "not ok", n_tests);
        va_start(ap, fmt);
        vprintf(fmt, ap);
        va_end(ap);
        putchar('\n');
        fflush(stdout);
        return cond;
}

_printf_(1, 2) static inline void skip(const char *fmt, ...)
{
        va_list ap;

        printf("ok %u # SKIP ", ++n_tests);
        va_start(ap, fmt);
        vprintf(fmt, ap);
        va_end(ap);
        putchar('\n');
        fflush(stdout);
}

static inline void skip_named(const char *why, const char *name)
{
        printf("ok %u - %s # SKIP %s\n", ++n_tests, name, why);
        fflush(stdout);
}

/* The plan, last (tests may fork and count in children). */
static inline int tap_done(void)
{
        printf("1..%u\n", n_tests);
        return n_failed ? 1 : 0;
}
