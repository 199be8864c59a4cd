/* SPDX-License-Identifier: GPL-2.0-or-later */
/* `berth stats` and `berth top`, in Docker's formats. */
#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "engine/engine.h"
#include "engine/ops.h"

/* ---- a table as Go's tabwriter lays it out -------------------------------- */

/* Rows of cells; each column as wide as its widest cell plus PADDING, at
 * least MINWIDTH; the last cell of a row is not padded (Docker's
 * tabwriter.NewWriter(out, MINWIDTH, 1, PADDING, ' ', 0)). */
struct table {
        char ***rows;
        size_t n_rows;
};

static void table_add(struct table *t, char **cells)
{
        t->rows = xrealloc(t->rows, (t->n_rows + 1) * sizeof(char **));
        t->rows[t->n_rows++] = cells;
}

static void table_print(struct table *t, size_t minwidth, size_t padding)
{
        size_t cols = 0, *width;

        for (size_t i = 0; i < t->n_rows; i++)
                if (strv_length(t->rows[i]) > cols)
                        cols = strv_length(t->rows[i]);
        width = xzalloc((cols ? cols : 1) * sizeof(size_t));
        for (size_t i = 0; i < t->n_rows; i++)
                for (size_t j = 0; t->rows[i][j]; j++)
                        if (strlen(t->rows[i][j]) + padding > width[j])
                                width[j] = strlen(t->rows[i][j]) + padding;
        for (size_t i = 0; i < t->n_rows; i++) {
                size_t n = strv_length(t->rows[i]);
                for (size_t j = 0; j < n; j++) {
                        if (j + 1 == n)
                                printf("%s\n", t->rows[i][j]);
                        else
                                printf("%-*s", (int) (width[j] > minwidth ? width[j] : minwidth), t->rows[i][j]);
                }
        }
        free(width);
}

static void table_clear(struct table *t)
{
        for (size_t i = 0; i < t->n_rows; i++)
                strv_free(t->rows[i]);
        free(t->rows);
        *t = (struct table) {};
}

static char **cells(const char *first, ...)
{
        char **v = NULL;
        va_list ap;

        va_start(ap, first);
        for (const char *s = first; s; s = va_arg(ap, const char *))
                strv_push(&v, xstrdup(s));
        va_end(ap);
        return v;
}

/* ---- Docker's units ------------------------------------------------------ */

/* go-units' CustomSize("%.*g%s", size, base, units). */
static char *units_size(uint64_t bytes, double base, const char *const *units, size_t n, int precision)
{
        double v = (double) bytes;
        size_t u = 0;

        while (v >= base && u + 1 < n) {
                v /= base;
                u++;
        }
        return xasprintf("%.*g%s", precision, v, units[u]);
}

/* units.BytesSize: "1.5MiB" */
static char *bytes_binary(uint64_t b)
{
        static const char *const u[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB" };

        return units_size(b, 1024.0, u, ELEMENTSOF(u), 4);
}

/* units.HumanSizeWithPrecision(b, 3): "12.3kB" */
static char *bytes_decimal(uint64_t b)
{
        static const char *const u[] = { "B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB" };

        return units_size(b, 1000.0, u, ELEMENTSOF(u), 3);
}

/* ---- stats ---------------------------------------------------------------- */

static volatile sig_atomic_t interrupted;

static void on_interrupt(int sig)
{
        (void) sig;
        interrupted = 1;
}

struct stats_row {
        struct container c;
        char *given;                  /* the name as the user wrote it, or the id */
        struct container_stats prev, cur;
};

static void stats_rows_free(struct stats_row *v, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                container_clear(&v[i].c);
                free(v[i].given);
        }
        free(v);
}

struct stats_args {
        bool all, no_stream, json, no_trunc;
        char **names;
};

/* The containers to show now: the named ones, or every running one (all: every one). */
static int stats_targets(struct engine *e, const struct stats_args *a, struct stats_row **ret, size_t *ret_n,
                         bool first)
{
        struct stats_row *v = NULL;
        size_t n = 0;

        if (a->names) {
                for (char **p = a->names; *p; p++) {
                        struct error err = ERROR_INIT;
                        struct container c = {};
                        if (engine_lookup(e, *p, &c, &err) < 0) {
                                if (first) {
                                        stats_rows_free(v, n);
                                        return cli_fail(&err);
                                }
                                error_clear(&err);
                                continue; /* removed while we watch */
                        }
                        v = xrealloc(v, (n + 1) * sizeof(*v));
                        v[n++] = (struct stats_row) { .c = c, .given = xstrdup(*p) };
                }
        } else {
                struct error err = ERROR_INIT;
                struct container *list = NULL;
                size_t k = 0;
                if (engine_list(e, &list, &k, &err) < 0)
                        return cli_fail(&err);
                for (size_t i = 0; i < k; i++) {
                        if (!a->all && !container_running(&list[i])) {
                                container_clear(&list[i]);
                                continue;
                        }
                        v = xrealloc(v, (n + 1) * sizeof(*v));
                        v[n++] = (struct stats_row) { .c = list[i], .given = xstrdup(list[i].id) };
                }
                free(list);
        }
        *ret = v;
        *ret_n = n;
        return 0;
}

static void stats_sample(struct engine *e, struct stats_row *v, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                struct error err = ERROR_INIT;
                v[i].prev = v[i].cur;
                if (engine_stats(e, &v[i].c, &v[i].cur, &err) < 0) {
                        error_clear(&err);
                        v[i].cur = (struct container_stats) {};
                }
        }
}

static void stats_print(const struct stats_args *a, struct stats_row *v, size_t n, bool clear)
{
        struct table t = {};

        if (clear)
                fputs("\033[2J\033[H", stdout);
        if (!a->json)
                table_add(&t, cells("CONTAINER ID", "NAME", "CPU %", "MEM USAGE / LIMIT", "MEM %", "NET I/O",
                                    "BLOCK I/O", "PIDS", NULL));
        for (size_t i = 0; i < n; i++) {
                const struct container_stats *s = &v[i].cur, *p = &v[i].prev;
                double cpu = 0, mem = 0;
                _cleanup_free_ char *id = xstrndup(v[i].c.id, a->no_trunc ? 64 : 12);
                _cleanup_free_ char *cpu_s = NULL, *mem_s = NULL, *pids = NULL;
                _cleanup_free_ char *mu = bytes_binary(s->mem_usage), *ml = bytes_binary(s->mem_limit);
                _cleanup_free_ char *nr = bytes_decimal(s->net_rx), *nt = bytes_decimal(s->net_tx);
                _cleanup_free_ char *br = bytes_decimal(s->blk_read), *bw = bytes_decimal(s->blk_write);
                _cleanup_free_ char *mem_usage = xasprintf("%s / %s", mu, ml), *net = xasprintf("%s / %s", nr, nt);
                _cleanup_free_ char *blk = xasprintf("%s / %s", br, bw);

                if (s->running && p->running && s->sampled_ns > p->sampled_ns && s->cpu_ns >= p->cpu_ns)
                        cpu = (double) (s->cpu_ns - p->cpu_ns) / (double) (s->sampled_ns - p->sampled_ns) * 100.0;
                if (s->mem_limit)
                        mem = (double) s->mem_usage / (double) s->mem_limit * 100.0;
                cpu_s = xasprintf("%.2f%%", cpu);
                mem_s = xasprintf("%.2f%%", mem);
                pids = xasprintf("%" PRIu64, s->pids);
                if (a->json) {
                        json_object *o = json_object_new_object();
                        json_object_object_add(o, "BlockIO", json_object_new_string(blk));
                        json_object_object_add(o, "CPUPerc", json_object_new_string(cpu_s));
                        json_object_object_add(o, "Container", json_object_new_string(v[i].given));
                        json_object_object_add(o, "ID", json_object_new_string(id));
                        json_object_object_add(o, "MemPerc", json_object_new_string(mem_s));
                        json_object_object_add(o, "MemUsage", json_object_new_string(mem_usage));
                        json_object_object_add(o, "Name", json_object_new_string(v[i].c.name));
                        json_object_object_add(o, "NetIO", json_object_new_string(net));
                        json_object_object_add(o, "PIDs", json_object_new_string(pids));
                        printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
                                                                                 JSON_C_TO_STRING_NOSLASHESCAPE));
                        json_object_put(o);
                } else
                        table_add(&t, cells(id, v[i].c.name, cpu_s, mem_usage, mem_s, net, blk, pids, NULL));
        }
        table_print(&t, 10, 3);
        table_clear(&t);
        fflush(stdout);
}

/* Sleep MS milliseconds; false when interrupted. */
static bool nap(long ms)
{
        struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };

        if (interrupted)
                return false;
        (void) nanosleep(&ts, NULL);
        return !interrupted;
}

/* The previous sample of ID among OLD (for a CPU delta across a re-listing). */
static const struct stats_row *row_find(const struct stats_row *old, size_t n, const char *id)
{
        for (size_t i = 0; i < n; i++)
                if (strcmp(old[i].c.id, id) == 0)
                        return &old[i];
        return NULL;
}

static int stats_loop(struct engine *e, const struct stats_args *a)
{
        bool tty = isatty(STDOUT_FILENO);
        struct stats_row *v = NULL;
        size_t n = 0;
        int r;

        r = stats_targets(e, a, &v, &n, true);
        if (r)
                return r;
        /* CPU use is a rate: two samples, half a second apart */
        stats_sample(e, v, n);
        if (!nap(500)) {
                stats_rows_free(v, n);
                return 0;
        }
        stats_sample(e, v, n);
        stats_print(a, v, n, !a->no_stream && tty);
        while (!a->no_stream && nap(1000)) {
                struct stats_row *w = NULL;
                size_t m = 0;
                if (stats_targets(e, a, &w, &m, false))
                        break;
                for (size_t i = 0; i < m; i++) {
                        const struct stats_row *old = row_find(v, n, w[i].c.id);
                        if (old)
                                w[i].cur = old->cur;
                }
                stats_rows_free(v, n);
                v = w;
                n = m;
                stats_sample(e, v, n);
                stats_print(a, v, n, tty);
        }
        stats_rows_free(v, n);
        return 0;
}

int cmd_stats(int argc, char **argv)
{
        static const struct option opts[] = {
                { "all", no_argument, NULL, 'a' },     { "no-stream", no_argument, NULL, 'N' },
                { "format", required_argument, NULL, 'F' }, { "no-trunc", no_argument, NULL, 'T' }, {},
        };
        struct stats_args a = {};
        struct sigaction sa = { .sa_handler = on_interrupt };
        struct engine *e = NULL;
        int c, r;

        while ((c = getopt_long(argc, argv, "a", opts, NULL)) >= 0) {
                switch (c) {
                case 'a': a.all = true; break;
                case 'N': a.no_stream = true; break;
                case 'T': a.no_trunc = true; break;
                case 'F':
                        if (strcmp(optarg, "json") == 0 || strcmp(optarg, "{{json .}}") == 0)
                                a.json = true;
                        else if (strcmp(optarg, "table") != 0)
                                return cli_usage("stats: --format: only json and table are supported");
                        break;
                default: return 1;
                }
        }
        for (int i = optind; i < argc; i++)
                strv_push(&a.names, xstrdup(argv[i]));
        if (cli_engine(&e)) {
                strv_free(a.names);
                return 1;
        }
        /* ^C ends the live view: a clean exit, not a death */
        sigemptyset(&sa.sa_mask);
        (void) sigaction(SIGINT, &sa, NULL);
        (void) sigaction(SIGTERM, &sa, NULL);
        r = stats_loop(e, &a);
        engine_close(e);
        strv_free(a.names);
        return r;
}

/* ---- top ----------------------------------------------------------------- */

/* ps -ef's UID: the host's user name (cut to 7 characters and "+" past
 * 8, as procps does), else the number. */
static char *user_name(uid_t uid)
{
        FILE *f = fopen("/etc/passwd", "re");
        struct passwd *pw;
        char *name = NULL;

        while (f && (pw = fgetpwent(f)))
                if (pw->pw_uid == uid) {
                        name = strlen(pw->pw_name) > 8 ? xasprintf("%.7s+", pw->pw_name) : xstrdup(pw->pw_name);
                        break;
                }
        if (f)
                fclose(f);
        return name ? name : xasprintf("%u", (unsigned) uid);
}

/* ps's STIME: "HH:MM" today, "MonDD" this year, else the year. */
static char *start_text(time_t t)
{
        time_t now = time(NULL);
        struct tm a, b;
        char buf[32];
        size_t n;

        localtime_r(&now, &a);
        localtime_r(&t, &b);
        if (a.tm_year != b.tm_year)
                n = strftime(buf, sizeof(buf), "%Y", &b);
        else if (a.tm_yday != b.tm_yday)
                n = strftime(buf, sizeof(buf), "%b%d", &b);
        else
                n = strftime(buf, sizeof(buf), "%H:%M", &b);
        return xstrdup(n ? buf : "?");
}

/* ps's TIME: "[DD-]HH:MM:SS" of CPU time. */
static char *cpu_time_text(uint64_t secs)
{
        uint64_t d = secs / 86400, h = secs / 3600 % 24, m = secs / 60 % 60, s = secs % 60;

        if (d)
                return xasprintf("%" PRIu64 "-%02" PRIu64 ":%02" PRIu64 ":%02" PRIu64, d, h, m, s);
        return xasprintf("%02" PRIu64 ":%02" PRIu64 ":%02" PRIu64, h, m, s);
}

int cmd_top(int argc, char **argv)
{
        struct error err = ERROR_INIT;
        struct container ct = {};
        struct top_process *v = NULL;
        struct engine *e = NULL;
        struct table t = {};
        size_t n = 0;
        int r = 0;

        /* Docker passes the rest to ps; berth reads /proc and shows ps -ef's columns */
        if (argc < 2)
                return cli_usage("top: usage: berth top CONTAINER [ps OPTIONS]");
        if (cli_engine(&e))
                return 1;
        if (engine_lookup(e, argv[1], &ct, &err) < 0 || engine_top(e, &ct, &v, &n, &err) < 0) {
                r = cli_fail(&err);
                goto out;
        }
        table_add(&t, cells("UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD", NULL));
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *uid = user_name(v[i].uid), *pid = xasprintf("%d", (int) v[i].pid);
                _cleanup_free_ char *ppid = xasprintf("%d", (int) v[i].ppid), *c = xasprintf("%u", v[i].cpu_percent);
                _cleanup_free_ char *stime = start_text(v[i].started), *time_s = cpu_time_text(v[i].cpu_secs);

                table_add(&t, cells(uid, pid, ppid, c, stime, v[i].tty, time_s, v[i].cmd, NULL));
        }
        table_print(&t, 20, 3);
        table_clear(&t);
out:
        top_processes_free(v, n);
        container_clear(&ct);
        engine_close(e);
        return r;
}
