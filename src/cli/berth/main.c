/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "engine/engine.h"
#include "image/digest.h"

struct berth_args arg;

int cli_fail(struct error *err)
{
        fprintf(stderr, "berth: %s\n", err->msg ? err->msg : "unknown error");
        error_clear(err);
        return 1;
}

int cli_usage(const char *fmt, ...)
{
        va_list ap;

        fputs("berth: ", stderr);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
        return 1;
}

int cli_store(struct store **ret)
{
        struct error err = ERROR_INIT;

        if (store_open(arg.root, ret, &err) < 0)
                return cli_fail(&err);
        return 0;
}

char *cli_size(int64_t bytes)
{
        static const char *const units[] = { "B", "kB", "MB", "GB", "TB", "PB" };
        double v = (double) bytes;
        size_t u = 0;

        while (v >= 1000 && u + 1 < sizeof(units) / sizeof(units[0])) {
                v /= 1000;
                u++;
        }
        return xasprintf("%.4g%s", v, units[u]);
}

static time_t parse_rfc3339(const char *s)
{
        struct tm tm = {};
        const char *rest;

        if (!s || !(rest = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm)))
                return (time_t) -1;
        return timegm(&tm);
}

char *cli_ago(const char *rfc3339)
{
        static const struct {
                long secs;
                const char *one, *many;
        } steps[] = {
                { 365L * 86400, "a year", "years" }, { 30L * 86400, "a month", "months" },
                { 7L * 86400, "a week", "weeks" },   { 86400, "a day", "days" },
                { 3600, "an hour", "hours" },        { 60, "a minute", "minutes" },
        };
        time_t t = parse_rfc3339(rfc3339);
        long d;

        if (t == (time_t) -1)
                return xstrdup("N/A");
        d = (long) (time(NULL) - t);
        for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
                if (d >= steps[i].secs)
                        return d / steps[i].secs == 1 ? xasprintf("%s ago", steps[i].one)
                                                      : xasprintf("%ld %s ago", d / steps[i].secs, steps[i].many);
        return xstrdup("Less than a minute ago");
}

char *cli_short_id(const char *digest)
{
        const char *hex = strncmp(digest, DIGEST_PREFIX, strlen(DIGEST_PREFIX)) == 0 ? digest + strlen(DIGEST_PREFIX)
                                                                                    : digest;
        return xasprintf("%.12s", hex);
}

static const struct {
        const char *name;
        int (*fn)(int, char **);
} commands[] = {
        { "images", cmd_images }, { "rmi", cmd_rmi },       { "tag", cmd_tag },       { "history", cmd_history },
        { "save", cmd_save },     { "load", cmd_load },     { "import", cmd_import }, { "pull", cmd_pull },
        { "push", cmd_push },     { "login", cmd_login },   { "logout", cmd_logout }, { "doctor", cmd_doctor },
        { "version", cmd_version }, { "info", cmd_info },
        { "run", cmd_run },       { "create", cmd_create }, { "start", cmd_start },   { "stop", cmd_stop },
        { "restart", cmd_restart }, { "kill", cmd_kill },   { "rm", cmd_rm },         { "ps", cmd_ps },
        { "logs", cmd_logs },     { "attach", cmd_attach }, { "wait", cmd_wait },     { "pause", cmd_pause },
        { "unpause", cmd_pause }, { "rename", cmd_rename }, { "port", cmd_port },     { "exec", cmd_exec },
        { "top", cmd_top },       { "stats", cmd_stats },   { "cp", cmd_cp },         { "volume", cmd_volume },
        { "network", cmd_network },
};

int cli_engine_verbs(const char *what, const struct cli_engine_verb *verbs, size_t n, int argc, char **argv)
{
        struct engine *e = NULL;

        for (size_t i = 0; i < n; i++)
                if (strcmp(argv[1], verbs[i].verb) == 0) {
                        int r;
                        if (cli_engine(&e))
                                return 1;
                        optind = 0;
                        r = verbs[i].fn(argc - 1, argv + 1, e);
                        engine_close(e);
                        return r;
                }
        return cli_usage("%s: unknown command `%s`", what, argv[1]);
}

/* `berth container VERB`. */
static const struct {
        const char *verb;
        int (*fn)(int, char **);
} container_verbs[] = {
        { "run", cmd_run },       { "create", cmd_create }, { "start", cmd_start },   { "stop", cmd_stop },
        { "restart", cmd_restart }, { "kill", cmd_kill },   { "rm", cmd_rm },         { "remove", cmd_rm },
        { "ls", cmd_ps },         { "list", cmd_ps },       { "ps", cmd_ps },         { "logs", cmd_logs },
        { "attach", cmd_attach }, { "wait", cmd_wait },     { "pause", cmd_pause },   { "unpause", cmd_pause },
        { "rename", cmd_rename }, { "port", cmd_port },     { "exec", cmd_exec },     { "top", cmd_top },
        { "stats", cmd_stats },   { "cp", cmd_cp },         { "prune", cmd_container_prune },
        { "inspect", cmd_container_inspect }, { "cleanup", cmd_cleanup },
};

/* `berth image VERB`: Docker's management-command spellings. */
static const struct {
        const char *verb;
        int (*fn)(int, char **);
} image_verbs[] = {
        { "ls", cmd_images },   { "list", cmd_images },  { "rm", cmd_rmi },         { "remove", cmd_rmi },
        { "tag", cmd_tag },     { "inspect", cmd_inspect }, { "history", cmd_history }, { "save", cmd_save },
        { "load", cmd_load },   { "import", cmd_import }, { "prune", cmd_prune },   { "pull", cmd_pull },
        { "push", cmd_push },   { "mount", cmd_mount },   { "unmount", cmd_unmount }, { "umount", cmd_unmount },
};

static void usage(void)
{
        printf("usage: berth [--root DIR] COMMAND [options] [arguments]\n\n"
               "Containers:\n"
               "  run [OPTIONS] IMAGE [CMD…]  create and start a container (run --help: the flags)\n"
               "  create, start, stop, restart, kill, rm, pause, unpause, rename, wait\n"
               "  ps [-a] [-q] [--filter K=V] [--format json]   list containers\n"
               "  logs [-f] [--tail N] [--since T] [-t] C   exec [-it] C CMD…   attach C\n"
               "  inspect C|IMAGE   top C   stats [--no-stream]   cp SRC DST   port C\n"
               "  container prune   volume create|ls|rm|inspect|prune\n"
               "  network create|ls|rm|inspect|connect|disconnect|prune\n\n"
               "Images:\n"
               "  pull NAME             fetch an image from a registry\n"
               "  push NAME [DEST]      send an image to a registry\n"
               "  images                list images (also: image ls)\n"
               "  rmi IMAGE...          remove images (also: image rm)\n"
               "  tag SOURCE TARGET     give an image another name\n"
               "  image inspect IMAGE   details as JSON\n"
               "  history IMAGE         the layers' history\n"
               "  save [-o FILE] IMAGE… write images to an archive\n"
               "  load [-i FILE]        read images from an archive\n"
               "  import SOURCE [NAME]  a root file system (tar or directory) as an image\n"
               "  image prune [-a]      remove unused images\n"
               "  image mount IMAGE [DIR]  its file system, read-only (image unmount to undo)\n"
               "  login / logout SERVER registry credentials\n"
               "  doctor --verify       check every blob of the store against its digest\n"
               "  version, info         berth's version; the store, kernel, cgroups and registries\n\n"
               "Global options:\n"
               "  --root DIR            data root (default /var/lib/berth, or $BERTH_ROOT)\n"
               "  -v, --version         print the version\n");
}

static char **split_list(const char *s)
{
        char **v = xzalloc(sizeof(char *));
        size_t n = 0;

        for (const char *p = s; p && *p;) {
                size_t l = strcspn(p, ",");
                if (l) {
                        v = xrealloc(v, (n + 2) * sizeof(char *));
                        v[n++] = xstrndup(p, l);
                        v[n] = NULL;
                }
                p += l + (p[l] == ',');
        }
        return v;
}

static char *default_auth_file(void)
{
        const char *e = getenv("BERTH_AUTH_FILE"), *dc = getenv("DOCKER_CONFIG"), *home = getenv("HOME");

        if (e && *e)
                return xstrdup(e);
        if (dc && *dc)
                return xasprintf("%s/config.json", dc);
        return xasprintf("%s/.docker/config.json", home && *home ? home : "/root");
}

static int dispatch(int argc, char **argv)
{
        if (strcmp(argv[0], "image") == 0) {
                if (argc < 2)
                        return cli_usage("image: missing command (ls, rm, tag, inspect, history, save, load, import, "
                                         "prune, pull, push)");
                for (size_t i = 0; i < sizeof(image_verbs) / sizeof(image_verbs[0]); i++)
                        if (strcmp(argv[1], image_verbs[i].verb) == 0)
                                return image_verbs[i].fn(argc - 1, argv + 1);
                return cli_usage("image: unknown command `%s`", argv[1]);
        }
        if (strcmp(argv[0], "container") == 0) {
                if (argc < 2)
                        return cli_usage("container: missing command (ls, run, create, start, stop, rm, inspect, "
                                         "logs, exec, prune...)");
                for (size_t i = 0; i < sizeof(container_verbs) / sizeof(container_verbs[0]); i++)
                        if (strcmp(argv[1], container_verbs[i].verb) == 0)
                                return container_verbs[i].fn(argc - 1, argv + 1);
                return cli_usage("container: unknown command `%s`", argv[1]);
        }
        if (strcmp(argv[0], "inspect") == 0)
                return cmd_any_inspect(argc, argv);
        for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
                if (strcmp(argv[0], commands[i].name) == 0)
                        return commands[i].fn(argc, argv);
        return cli_usage("unknown command `%s` (see berth --help)", argv[0]);
}

int main(int argc, char **argv)
{
        static const struct option opts[] = {
                { "root", required_argument, NULL, 'r' },
                { "version", no_argument, NULL, 'v' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        const char *env = getenv("BERTH_ROOT");
        int c, r;

        /* a registry that closes on us must be an error, not our death */
        signal(SIGPIPE, SIG_IGN);
        arg.root = xstrdup(env && *env ? env : "/var/lib/berth");
        while ((c = getopt_long(argc, argv, "+vh", opts, NULL)) >= 0) {
                switch (c) {
                case 'r':
                        free(arg.root);
                        arg.root = xstrdup(optarg);
                        break;
                case 'v':
                        printf("berth version %s\n", BERTH_VERSION);
                        return 0;
                case 'h':
                        usage();
                        return 0;
                default:
                        return 2;
                }
        }
        if (optind >= argc) {
                usage();
                return 2;
        }
        arg.auth_file = default_auth_file();
        /* the environment overrides the registries configuration, which
         * the registry commands read (transfer.c): unset, no list */
        arg.registries = getenv("BERTH_REGISTRIES") ? split_list(getenv("BERTH_REGISTRIES")) : NULL;
        arg.insecure = split_list(getenv("BERTH_INSECURE_REGISTRIES"));
        argc -= optind;
        argv += optind;
        optind = 0; /* subcommands parse from argv[0] */
        r = dispatch(argc, argv);
        free(arg.root);
        free(arg.auth_file);
        strv_free(arg.registries);
        strv_free(arg.insecure);
        return r;
}
