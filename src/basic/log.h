/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>

#include "macro.h"

/* Front-end logging: messages go to stderr and, with --log FILE, to that
 * file as text or as JSON lines {"level","msg","time"} the way runc writes
 * them (containerd and conmon show users what is in that file). */
enum log_format {
        LOG_FORMAT_TEXT,
        LOG_FORMAT_JSON,
};

int log_open(const char *path, enum log_format fmt, bool debug);
_printf_(1, 2) void log_error(const char *fmt, ...);
_printf_(1, 2) void log_warning(const char *fmt, ...);
_printf_(1, 2) void log_debug(const char *fmt, ...);
