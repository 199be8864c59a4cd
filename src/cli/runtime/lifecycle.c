/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <ctype.h>
#include <signal.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "basic/fileio.h"
#include "cli.h"
#include "runtime/cgroup.h"

/* Subcommands whose only flags are -h. */
static int no_flags(int argc, char **argv)
{
        static const struct option opts[] = { { "help", no_argument, NULL, 'h' }, {} };
        int c;

        while ((c = getopt_long_only(argc, argv, "+h", opts, NULL)) >= 0)
                if (c != 'h')
                        return 1;
        return 0;
}

int cmd_start(int argc, char **argv)
{
        struct error err = ERROR_INIT;
        const char *id;

        if (no_flags(argc, argv) || cli_one_id(argc, argv, &id))
                return 1;
        if (container_start(&arg_ctx, id, &err) < 0)
                return cli_fail(&err);
        return 0;
}

int cmd_state(int argc, char **argv)
{
        _cleanup_(state_freep) struct state *st = NULL;
        struct error err = ERROR_INIT;
        _cleanup_free_ char *json = NULL;
        const char *id;

        if (no_flags(argc, argv) || cli_one_id(argc, argv, &id))
                return 1;
        if (container_load(&arg_ctx, id, NULL, &st, &err) < 0)
                return cli_fail(&err);
        json = state_to_oci_json(st, state_current_status(st), true);
        printf("%s\n", json);
        return 0;
}

int cmd_list(int argc, char **argv)
{
        static const struct option opts[] = {
                { "quiet", no_argument, NULL, 'q' }, { "format", required_argument, NULL, 'f' }, {},
        };
        _cleanup_strv_free_ char **ids = NULL;
        struct error err = ERROR_INIT;
        bool quiet = false, json = false;
        int c;

        while ((c = getopt_long_only(argc, argv, "+qf:", opts, NULL)) >= 0) {
                if (c == 'q')
                        quiet = true;
                else if (c == 'f') {
                        if (strcmp(optarg, "json") == 0)
                                json = true;
                        else if (strcmp(optarg, "table") != 0)
                                return cli_usage("--format: unknown format `%s` (want table or json)", optarg);
                } else
                        return 1;
        }
        if (container_list_ids(&arg_ctx, &ids, &err) < 0)
                return cli_fail(&err);
        if (json)
                printf("[");
        else if (!quiet)
                printf("%-12s %-8s %-10s %-40s %-32s %s\n", "ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER");
        for (size_t i = 0; ids[i]; i++) {
                _cleanup_(state_freep) struct state *st = NULL;
                enum container_status s;

                if (container_load(&arg_ctx, ids[i], NULL, &st, &err) < 0) {
                        error_clear(&err);
                        continue;
                }
                s = state_current_status(st);
                if (quiet)
                        printf("%s\n", ids[i]);
                else if (json) {
                        _cleanup_free_ char *j = state_to_oci_json(st, s, false);
                        printf("%s%s", i ? "," : "", j);
                } else
                        printf("%-12s %-8d %-10s %-40s %-32s %s\n", ids[i], s == STATUS_STOPPED ? 0 : st->pid,
                               container_status_to_string(s), st->bundle ? st->bundle : "",
                               st->created ? st->created : "", st->owner && *st->owner ? st->owner : "root");
        }
        if (json)
                printf("]\n");
        return 0;
}

static int parse_signal(const char *s)
{
        uint64_t n;
        int sig;

        if (parse_uint64(s, &n) == 0)
                return n > 0 && n < 65 ? (int) n : -1;
        if (strncasecmp(s, "SIG", 3) == 0)
                s += 3;
        for (sig = 1; sig < NSIG; sig++) {
                const char *name = sigabbrev_np(sig);
                if (name && strcasecmp(name, s) == 0)
                        return sig;
        }
        if (strncasecmp(s, "RTMIN+", 6) == 0 && parse_uint64(s + 6, &n) == 0 && SIGRTMIN + (int) n <= SIGRTMAX)
                return SIGRTMIN + (int) n;
        return -1;
}

int cmd_kill(int argc, char **argv)
{
        static const struct option opts[] = { { "all", no_argument, NULL, 'a' }, {} };
        struct error err = ERROR_INIT;
        bool all = false;
        int c, sig = SIGTERM;

        while ((c = getopt_long_only(argc, argv, "+a", opts, NULL)) >= 0) {
                if (c == 'a')
                        all = true;
                else
                        return 1;
        }
        if (optind >= argc)
                return cli_usage("kill: missing container id");
        if (argc - optind > 2)
                return cli_usage("kill: expected a container id and a signal");
        if (argc - optind == 2) {
                sig = parse_signal(argv[optind + 1]);
                if (sig < 0)
                        return cli_usage("kill: unknown signal `%s`", argv[optind + 1]);
        }
        if (container_kill(&arg_ctx, argv[optind], sig, all, &err) < 0)
                return cli_fail(&err);
        return 0;
}

int cmd_delete(int argc, char **argv)
{
        static const struct option opts[] = { { "force", no_argument, NULL, 'f' }, {} };
        struct error err = ERROR_INIT;
        bool force = false;
        int c, ret = 0;

        while ((c = getopt_long_only(argc, argv, "+f", opts, NULL)) >= 0) {
                if (c == 'f')
                        force = true;
                else
                        return 1;
        }
        if (optind >= argc)
                return cli_usage("delete: missing container id");
        for (int i = optind; i < argc; i++)
                if (container_delete(&arg_ctx, argv[i], force, &err) < 0)
                        ret = cli_fail(&err);
        return ret;
}

static int pause_resume(int argc, char **argv, bool pause)
{
        struct error err = ERROR_INIT;
        const char *id;

        if (no_flags(argc, argv) || cli_one_id(argc, argv, &id))
                return 1;
        if (container_pause(&arg_ctx, id, pause, &err) < 0)
                return cli_fail(&err);
        return 0;
}

int cmd_pause(int argc, char **argv)
{
        return pause_resume(argc, argv, true);
}

int cmd_resume(int argc, char **argv)
{
        return pause_resume(argc, argv, false);
}

static bool has_pid(const pid_t *pids, size_t n, long pid)
{
        for (size_t i = 0; i < n; i++)
                if (pids[i] == pid)
                        return true;
        return false;
}

/* runc's table: `ps` output filtered to the container's processes. */
static int ps_table(const pid_t *pids, size_t n, char **ps_args)
{
        _cleanup_free_ char *cmd = NULL;
        char line[4096];
        FILE *f;
        int pid_col = -1;
        bool header = true;
        size_t len = 0;

        cmd = xstrdup("ps");
        for (char **a = ps_args; a && *a; a++) {
                for (const char *p = *a; *p; p++)
                        if (!isalnum((unsigned char) *p) && !strchr("-=,_", *p))
                                return cli_usage("ps: unsupported ps argument `%s`", *a);
                len = strlen(cmd);
                cmd = xrealloc(cmd, len + strlen(*a) + 2);
                snprintf(cmd + len, strlen(*a) + 2, " %s", *a);
        }
        if (!ps_args || !*ps_args) {
                free(cmd);
                cmd = xstrdup("ps -ef");
        }
        f = popen(cmd, "re");
        if (!f)
                return cli_usage("ps: cannot run `%s`", cmd);
        while (fgets(line, sizeof(line), f)) {
                if (header) {
                        char copy[4096], *save = NULL;
                        int col = 0;
                        snprintf(copy, sizeof(copy), "%s", line);
                        for (char *t = strtok_r(copy, " \t\n", &save); t; t = strtok_r(NULL, " \t\n", &save), col++)
                                if (strcmp(t, "PID") == 0)
                                        pid_col = col;
                        fputs(line, stdout);
                        header = false;
                        continue;
                }
                {
                        char copy[4096], *save = NULL, *t;
                        int col = 0;
                        snprintf(copy, sizeof(copy), "%s", line);
                        for (t = strtok_r(copy, " \t\n", &save); t && col < pid_col; t = strtok_r(NULL, " \t\n", &save))
                                col++;
                        if (t && has_pid(pids, n, strtol(t, NULL, 10)))
                                fputs(line, stdout);
                }
        }
        pclose(f);
        if (pid_col < 0)
                return cli_usage("ps: no PID column in the output of `%s` (is procps installed? `--format json` needs no ps)",
                                 cmd);
        return 0;
}

int cmd_ps(int argc, char **argv)
{
        static const struct option opts[] = { { "format", required_argument, NULL, 'f' }, {} };
        _cleanup_free_ pid_t *pids = NULL;
        struct error err = ERROR_INIT;
        bool json = false;
        size_t n = 0;
        int c;

        while ((c = getopt_long_only(argc, argv, "+f:", opts, NULL)) >= 0) {
                if (c != 'f')
                        return 1;
                if (strcmp(optarg, "json") == 0)
                        json = true;
                else if (strcmp(optarg, "table") != 0)
                        return cli_usage("--format: unknown format `%s` (want table or json)", optarg);
        }
        if (optind >= argc)
                return cli_usage("ps: missing container id");
        if (container_pids(&arg_ctx, argv[optind], &pids, &n, &err) < 0)
                return cli_fail(&err);
        if (json) {
                printf("[");
                for (size_t i = 0; i < n; i++)
                        printf("%s%d", i ? "," : "", (int) pids[i]);
                printf("]\n");
                return 0;
        }
        return ps_table(pids, n, argv + optind + 1);
}

/* runc's events: {"type":"stats","id":ID,"data":{...}} once with
 * --stats, else every --interval until the container stops. */
int cmd_events(int argc, char **argv)
{
        static const struct option opts[] = {
                { "stats", no_argument, NULL, 's' }, { "interval", required_argument, NULL, 'i' }, {},
        };
        struct error err = ERROR_INIT;
        bool once = false;
        uint64_t interval = 5000; /* ms, runc's default of 5 s */
        const char *id;
        int c;

        while ((c = getopt_long_only(argc, argv, "+", opts, NULL)) >= 0) {
                if (c == 's')
                        once = true;
                else if (c == 'i') {
                        /* "5s", "500ms" or plain seconds */
                        char *end;
                        double v = strtod(optarg, &end);
                        if (end == optarg || v <= 0 || (*end && strcmp(end, "s") && strcmp(end, "ms")))
                                return cli_usage("--interval: invalid duration `%s`", optarg);
                        interval = (uint64_t) (strcmp(end, "ms") == 0 ? v : v * 1000);
                        if (interval < 100)
                                interval = 100;
                } else
                        return 1;
        }
        if (cli_one_id(argc, argv, &id))
                return 1;
        for (uint64_t waited = interval, ooms = UINT64_MAX;; waited += 100) {
                _cleanup_(state_freep) struct state *st = NULL;
                uint64_t n;

                if (container_load(&arg_ctx, id, NULL, &st, &err) < 0)
                        return cli_fail(&err);
                /* an OOM kill is reported as it happens (checked every 100 ms) */
                if (!once && cgroup_oom_kills(st->cgroup_path, &n) >= 0) {
                        if (ooms != UINT64_MAX && n > ooms)
                                printf("{\"type\":\"oom\",\"id\":\"%s\"}\n", id);
                        ooms = n;
                        fflush(stdout);
                }
                if (state_current_status(st) == STATUS_STOPPED) {
                        if (once)
                                return cli_usage("events: container `%s` is not running", id);
                        return 0;
                }
                if (waited >= interval) {
                        _cleanup_free_ char *data = NULL;
                        if (!st->cgroup_path)
                        return cli_usage("events: container `%s` has no cgroup (rootless, without a delegated "
                                         "cgroup v2 subtree)", id);
                if (cgroup_stats_json(st->cgroup_path, &data, &err) < 0)
                                return cli_fail(&err);
                        printf("{\"type\":\"stats\",\"id\":\"%s\",\"data\":%s}\n", id, data);
                        fflush(stdout);
                        waited = 0;
                }
                if (once)
                        return 0;
                {
                        struct timespec ts = { 0, 100 * 1000000 };
                        nanosleep(&ts, NULL);
                }
        }
}
