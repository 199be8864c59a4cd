/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sys/xattr.h>

#include "runtime/state.h"
#include "tap.h"

/* time_rfc3339() computes the UTC date itself (no time zone load): it
 * must agree with gmtime_r() + strftime() everywhere. */
static bool same_as_libc(time_t t, long nsec)
{
        struct timespec ts = { .tv_sec = t, .tv_nsec = nsec };
        _cleanup_free_ char *mine = time_rfc3339(&ts);
        char want[96], date[64];
        struct tm tm;

        if (!gmtime_r(&t, &tm))
                return false;
        strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm);
        snprintf(want, sizeof(want), "%s.%09ldZ", date, nsec);
        if (strcmp(mine, want) != 0) {
                printf("# %lld: %s, libc %s\n", (long long) t, mine, want);
                return false;
        }
        return true;
}

/* The config copy of a state dir: small ones as an attribute, large ones
 * as config.json; either way read back byte for byte. */
static void config_copies(void)
{
        char tmpl[] = "/tmp/berth-test-state-XXXXXX";
        char *dir = mkdtemp(tmpl);
        size_t big_len = 64 * 1024, len = 0;
        _cleanup_free_ char *big = xmalloc(big_len), *got = NULL, *got2 = NULL;
        const char *small = "{\"ociVersion\": \"1.1.0\"}";
        int a, b;

        if (!dir) {
                skip("cannot create a temporary directory");
                return;
        }
        memset(big, 'x', big_len);
        big[0] = '{';
        a = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        (void) mkdirat(a, "b", 0700);
        b = openat(a, "b", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        ok(state_config_write(a, small, strlen(small)) == 0 && state_config_read(a, &got, &len) == 0 &&
                   len == strlen(small) && strcmp(got, small) == 0,
           "a small config copy reads back");
        if (fsetxattr(b, "user.berth.probe", "1", 1, 0) < 0)
                ok(faccessat(a, "config.json", F_OK, 0) == 0,
                   "a small config copy is the file config.json where attributes are refused (%m)");
        else
                ok(faccessat(a, "config.json", F_OK, 0) < 0,
                   "a small config copy makes no file (an attribute holds it)");
        ok(state_config_write(b, big, big_len) == 0 && state_config_read(b, &got2, &len) == 0 && len == big_len &&
                   memcmp(got2, big, big_len) == 0,
           "a 64 KiB config copy reads back");
        ok(faccessat(b, "config.json", F_OK, 0) == 0, "a 64 KiB config copy is the file config.json");
        (void) unlinkat(a, "config.json", 0);
        (void) unlinkat(b, "config.json", 0);
        close(b);
        (void) unlinkat(a, "b", AT_REMOVEDIR);
        close(a);
        (void) rmdir(dir);
}

/* The state record: read back whole, an attribute when small, the file
 * state.json when large (many annotations). */
static void state_records(void)
{
        char tmpl[] = "/tmp/berth-test-state-XXXXXX";
        char *dir = mkdtemp(tmpl);
        _cleanup_free_ char *big = xmalloc(8192);
        struct spec_kv kv = { .key = (char *) "org.example/big", .value = big };
        struct state st = { .id = (char *) "c1", .pid = 42, .pid_start = 7, .bundle = (char *) "/b",
                            .rootfs = (char *) "/b/rootfs", .created = (char *) "2026-11-23T08:00:00Z",
                            .owner = (char *) "root", .cgroup_path = (char *) "berth-c1" };
        struct state *got = NULL;
        struct error err = ERROR_INIT;
        bool xattrs;
        int fd;

        if (!dir) {
                skip("cannot create a temporary directory");
                return;
        }
        fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        xattrs = fsetxattr(fd, "user.berth.probe", "1", 1, 0) == 0;
        (void) fremovexattr(fd, "user.berth.probe");
        ok(state_read(fd, &got, &err) == -ENOENT, "no state recorded yet reads as ENOENT");
        ok(state_write(fd, &st, STATUS_CREATED, &err) == 0 && state_read(fd, &got, &err) == 0 && got->pid == 42 &&
                   got->recorded == STATUS_CREATED && strcmp(got->cgroup_path, "berth-c1") == 0,
           "a small state reads back");
        ok(xattrs == (faccessat(fd, "state.json", F_OK, 0) < 0), "a small state is a file only without attributes");
        state_free(got);
        got = NULL;
        memset(big, 'a', 8191);
        big[8191] = 0;
        st.annotations = &kv;
        st.n_annotations = 1;
        ok(state_write(fd, &st, STATUS_RUNNING, &err) == 0 && state_read(fd, &got, &err) == 0 &&
                   got->recorded == STATUS_RUNNING && got->n_annotations == 1 &&
                   strcmp(got->annotations[0].value, big) == 0,
           "a state with 8 KiB of annotations replaces it and reads back");
        ok(faccessat(fd, "state.json", F_OK, 0) == 0, "a large state is the file state.json");
        state_free(got);
        error_clear(&err);
        (void) unlinkat(fd, "state.json", 0);
        close(fd);
        (void) rmdir(dir);
}

int main(void)
{
        static const time_t fixed[] = {
                0,          -1,         86399,      86400,      951782399,  951782400, /* 2000-02-29 */
                951868800,  4107542399, 4107542400, /* 2100-03-01 */ 1709164800, 2147483647,
                2147483648, 253402300799,
        };
        bool all = true;
        unsigned seed = 42;

        for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
                all &= same_as_libc(fixed[i], 123456789);
        ok(all, "fixed dates (epoch, leap days, 2038, 2100, 9999) match gmtime_r");

        all = true;
        for (int i = 0; i < 200000; i++) {
                seed = seed * 1103515245u + 12345u;
                time_t t = (time_t) (((uint64_t) seed << 16) % 253402300800ull);
                all &= same_as_libc(t, (long) (seed % 1000000000u));
        }
        ok(all, "200000 pseudo-random instants from 1970 to 9999 match gmtime_r");

        {
                struct timespec ts = { .tv_sec = 1795420800, .tv_nsec = 5 };
                _cleanup_free_ char *s = time_rfc3339(&ts);
                ok(strcmp(s, "2026-11-23T08:00:00.000000005Z") == 0, "2026-11-23 08:00 UTC is written %s", s);
        }
        config_copies();
        state_records();
        return tap_done();
}
