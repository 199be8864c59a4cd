/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <time.h>

/* Current time as RFC 3339 UTC with nanoseconds; malloc'd. */
char *time_now_rfc3339(void);
/* TS as UTC "2006-01-02T15:04:05.999999999Z"; malloc'd. */
char *time_rfc3339(const struct timespec *ts);
