/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <inttypes.h>
#include <stdint.h>

#include "macro.h"
#include "timefmt.h"

char *time_rfc3339(const struct timespec *ts)
{
        int64_t days, secs, era, doe, yoe, doy, mp, y, m, d;

        /* UTC by hand: glibc's gmtime_r() loads /etc/localtime first.
         * The civil date of a day count (Howard Hinnant's algorithm). */
        days = ts->tv_sec / 86400;
        secs = ts->tv_sec % 86400;
        if (secs < 0) {
                secs += 86400;
                days--;
        }
        days += 719468;
        era = (days >= 0 ? days : days - 146096) / 146097;
        doe = days - era * 146097;
        yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
        doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        mp = (5 * doy + 2) / 153;
        d = doy - (153 * mp + 2) / 5 + 1;
        m = mp < 10 ? mp + 3 : mp - 9;
        y = yoe + era * 400 + (m <= 2);
        return xasprintf("%04" PRId64 "-%02" PRId64 "-%02" PRId64 "T%02" PRId64 ":%02" PRId64 ":%02" PRId64 ".%09ldZ",
                         y, m, d, secs / 3600, secs / 60 % 60, secs % 60, ts->tv_nsec);
}

char *time_now_rfc3339(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        return time_rfc3339(&ts);
}
