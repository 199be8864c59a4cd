/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "macro.h"

/* What failed: an errno (0 when none applies) and a message made where the
 * failure happened, prefixed by callers with context. */
struct error {
        int code;
        char *msg;
};

#define ERROR_INIT { 0, NULL }

/* Fill *err (if not NULL and not already set) and return -code (or -EINVAL
 * when code is 0).  The message gets ": strerror(code)" appended when
 * code != 0. */
_printf_(3, 4) int error_set(struct error *err, int code, const char *fmt, ...);
/* Like error_set() without the strerror suffix. */
_printf_(3, 4) int error_setx(struct error *err, int code, const char *fmt, ...);
/* Prepend "PREFIX: " to the message; returns the negative code. */
_printf_(2, 3) int error_prefix(struct error *err, const char *fmt, ...);
void error_clear(struct error *err);
/* Like error_set(), with the first line of the log of the filesystem
 * context FSFD (fsopen()) appended: "e tmpfs: Bad value for 'size'"
 * explains an EINVAL much better than strerror does. */
int error_fs_context(int fsfd, struct error *err, int code, const char *what);
static inline int error_ret(const struct error *err)
{
        return err && err->code > 0 ? -err->code : -EINVAL; /* ERR NULL: the caller did not want the message */
}

static inline void error_clearp(struct error *err)
{
        error_clear(err);
}
#define _cleanup_error_ _cleanup_(error_clearp)
