/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <inttypes.h>
#include <stdint.h>

#include "macro.h"
#include "timefmt.h"

static char *put_num(char *p, int64_t v, int width)
{
        for (int i = width - 1; i >= 0; i--) {
                p[i] = (char) ('0' + v % 10);
                v /= 10;
        }
        return p + width;
}

void time_rfc3339_buf(const struct timespec *ts, char buf[static TIME_RFC3339_MAX])
{
        int64_t days = ts->tv_sec / 86400, secs = ts->tv_sec % 86400;
        int64_t era, doe, yoe, doy, mp, y, mo, d;
        char *p = buf;

        if (secs < 0) {
                secs += 86400;
                days--;
        }
        /* the civil date of a day count (Howard Hinnant's algorithm);
         * gmtime_r() would load /etc/localtime on its first call */
        days += 719468;
        era = (days >= 0 ? days : days - 146096) / 146097;
        doe = days - era * 146097;
        yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
        doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        mp = (5 * doy + 2) / 153;
        d = doy - (153 * mp + 2) / 5 + 1;
        mo = mp < 10 ? mp + 3 : mp - 9;
        y = yoe + era * 400 + (mo <= 2);
        if (y < 0 || y > 9999)
                y = 0;
        p = put_num(p, y, 4);
        *p++ = '-';
        p = put_num(p, mo, 2);
        *p++ = '-';
        p = put_num(p, d, 2);
        *p++ = 'T';
        p = put_num(p, secs / 3600, 2);
        *p++ = ':';
        p = put_num(p, secs / 60 % 60, 2);
        *p++ = ':';
        p = put_num(p, secs % 60, 2);
        *p++ = '.';
        p = put_num(p, ts->tv_nsec, 9);
        *p++ = 'Z';
        *p = '\0';
}

char *time_rfc3339(const struct timespec *ts)
{
        char buf[TIME_RFC3339_MAX];

        time_rfc3339_buf(ts, buf);
        return xstrdup(buf);
}

char *time_now_rfc3339(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        return time_rfc3339(&ts);
}
