/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdarg.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

struct runtime_ctx arg_ctx;

int cli_fail(struct error *err)
{
        log_error("%s", err->msg ? err->msg : "unknown error");
        error_clear(err);
        return 1;
}

int cli_usage(const char *fmt, ...)
{
        char buf[1024];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(buf, sizeof(buf), fmt, ap);
        va_end(ap);
        log_error("%s", buf);
        return 1;
}

int cli_one_id(int argc, char **argv, const char **ret_id)
{
        if (optind >= argc)
                return cli_usage("%s: missing container id", argv[0]);
        if (argc - optind > 1)
                return cli_usage("%s: expected one container id, got %d arguments", argv[0], argc - optind);
        *ret_id = argv[optind];
        return 0;
}

static const struct {
        const char *name;
        int (*fn)(int, char **);
} commands[] = {
        { "create", cmd_create }, { "run", cmd_run },         { "start", cmd_start },   { "state", cmd_state },
        { "list", cmd_list },     { "kill", cmd_kill },       { "delete", cmd_delete }, { "pause", cmd_pause },
        { "resume", cmd_resume }, { "ps", cmd_ps },           { "exec", cmd_exec },     { "update", cmd_update },
        { "spec", cmd_spec },     { "features", cmd_features }, { "events", cmd_events },
};

static void usage(void)
{
        printf("usage: berth-runtime [global options] COMMAND [options] [arguments]\n\n"
               "An OCI runtime, compatible with runc's command line.\n\n"
               "Commands: create run start state list kill delete pause resume ps exec update spec features events\n\n"
               "Global options:\n"
               "  --root DIR          state directory (default /run/berth, $XDG_RUNTIME_DIR/berth when not root)\n"
               "  --log FILE          also write errors to FILE\n"
               "  --log-format FMT    text or json\n"
               "  --debug             verbose logging\n"
               "  --systemd-cgroup    cgroupsPath is slice:prefix:name\n"
               "  -v, --version       print the version\n");
}

static int print_version(void)
{
        printf("berth-runtime version %s\nspec: %s\n", BERTH_VERSION, OCI_SPEC_VERSION);
        return 0;
}

static char *default_root(void)
{
        const char *xdg = getenv("XDG_RUNTIME_DIR");

        if (geteuid() != 0 && xdg && *xdg)
                return xasprintf("%s/berth", xdg);
        return xstrdup("/run/berth");
}

static bool systemd_running(void)
{
        struct stat st;
        return lstat("/run/systemd/system", &st) == 0 && S_ISDIR(st.st_mode);
}

int main(int argc, char **argv)
{
        static const struct option opts[] = {
                { "root", required_argument, NULL, 'r' },  { "log", required_argument, NULL, 'l' },
                { "log-format", required_argument, NULL, 'f' }, { "debug", no_argument, NULL, 'd' },
                { "systemd-cgroup", no_argument, NULL, 's' }, { "version", no_argument, NULL, 'v' },
                { "help", no_argument, NULL, 'h' },        { "rootless", required_argument, NULL, 'R' },
                { "criu", required_argument, NULL, 'C' },  {},
        };
        const char *log_path = NULL;
        enum log_format fmt = LOG_FORMAT_TEXT;
        bool debug = false;
        char *root = NULL;
        int c;

        /* CVE-2019-5736: containers that share our pid namespace, running
         * as root like us, must not open our binary through /proc/PID/exe;
         * non-dumpable, that takes CAP_SYS_PTRACE.  Our forks inherit it.
         * Not for an unprivileged runtime, which must write its
         * containers' id maps (and has no root-owned binary to lose). */
        if (geteuid() == 0)
                (void) prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
        /* PATH may be missing altogether (Podman calls kill and delete so) */
        if (!getenv("PATH"))
                setenv("PATH", DEFAULT_PATH, 1);
        while ((c = getopt_long_only(argc, argv, "+vh", opts, NULL)) >= 0) {
                switch (c) {
                case 'r':
                        root = xstrdup(optarg);
                        break;
                case 'l':
                        log_path = optarg;
                        break;
                case 'f':
                        if (strcmp(optarg, "json") == 0)
                                fmt = LOG_FORMAT_JSON;
                        else if (strcmp(optarg, "text") != 0)
                                return cli_usage("--log-format: unknown format `%s` (want text or json)", optarg);
                        break;
                case 'd':
                        debug = true;
                        break;
                case 's':
                        arg_ctx.systemd_cgroup = true;
                        break;
                case 'v':
                        return print_version();
                case 'h':
                        usage();
                        return 0;
                case 'R':
                case 'C':
                        break; /* accepted for runc compatibility */
                default:
                        return 1;
                }
        }
        if (log_open(log_path, fmt, debug) < 0)
                return cli_usage("--log: cannot open `%s`: %s", log_path, strerror(errno));
        if (arg_ctx.systemd_cgroup && !systemd_running())
                return cli_usage("--systemd-cgroup: systemd is not running on this host");
        arg_ctx.root = root ? root : default_root();
        if (optind >= argc) {
                usage();
                return 1;
        }
        for (size_t i = 0; i < ELEMENTSOF(commands); i++)
                if (strcmp(argv[optind], commands[i].name) == 0) {
                        argc -= optind;
                        argv += optind;
                        optind = 0; /* restart getopt for the subcommand */
                        return commands[i].fn(argc, argv);
                }
        return cli_usage("unknown command `%s`", argv[optind]);
}
