/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <time.h>

/* Current time as RFC 3339 UTC with nanoseconds; malloc'd. */
char *time_now_rfc3339(void);
/* TS as UTC "2006-01-02T15:04:05.999999999Z" (years 0 to 9999) into
 * BUF, without allocating or loading a time zone (the monitor's logs). */
#define TIME_RFC3339_MAX 32
void time_rfc3339_buf(const struct timespec *ts, char buf[static TIME_RFC3339_MAX]);
/* The same, malloc'd. */
char *time_rfc3339(const struct timespec *ts);
