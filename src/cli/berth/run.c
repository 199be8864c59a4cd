/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <termios.h>
#include <unistd.h>

#include "basic/fileio.h"
#include "cli.h"
#include "engine/engine.h"
#include "engine/ocispec.h"

/* Docker's exit codes for `run`: 125 the engine failed, 126 the command
 * cannot be run, 127 it was not found. */
int cli_run_code(const struct error *err)
{
        const char *m = err->msg ? err->msg : "";

        if (strstr(m, "executable file not found") || strstr(m, "not found in $PATH") ||
            (strstr(m, "exec") && strstr(m, "No such file or directory")))
                return 127;
        if (strstr(m, "exec") && (strstr(m, "Permission denied") || strstr(m, "permission denied")))
                return 126;
        return 125;
}

static int fail125(struct error *err)
{
        int code = cli_run_code(err);

        cli_fail(err);
        return code;
}

enum {
        OPT_RM = 256, OPT_NAME, OPT_ENV_FILE, OPT_ENTRYPOINT, OPT_MOUNT, OPT_TMPFS, OPT_READ_ONLY, OPT_MEMORY_SWAP,
        OPT_CPUS, OPT_CPUSET, OPT_PIDS, OPT_BLKIO, OPT_DEV_READ_BPS, OPT_DEVICE, OPT_CAP_ADD, OPT_CAP_DROP,
        OPT_PRIVILEGED, OPT_SECURITY_OPT, OPT_USERNS, OPT_INIT, OPT_RESTART, OPT_HEALTH_CMD, OPT_HEALTH_INTERVAL,
        OPT_HEALTH_RETRIES, OPT_HEALTH_TIMEOUT, OPT_HEALTH_START, OPT_NO_HEALTH, OPT_STOP_SIGNAL, OPT_STOP_TIMEOUT,
        OPT_LOG_OPT, OPT_LOG_DRIVER, OPT_NETWORK, OPT_RUNTIME, OPT_PULL, OPT_CPU_SHARES,
};

static const struct option run_opts[] = {
        { "detach", no_argument, NULL, 'd' },
        { "interactive", no_argument, NULL, 'i' },
        { "tty", no_argument, NULL, 't' },
        { "rm", no_argument, NULL, OPT_RM },
        { "name", required_argument, NULL, OPT_NAME },
        { "env", required_argument, NULL, 'e' },
        { "env-file", required_argument, NULL, OPT_ENV_FILE },
        { "workdir", required_argument, NULL, 'w' },
        { "user", required_argument, NULL, 'u' },
        { "entrypoint", required_argument, NULL, OPT_ENTRYPOINT },
        { "hostname", required_argument, NULL, 'h' },
        { "volume", required_argument, NULL, 'v' },
        { "mount", required_argument, NULL, OPT_MOUNT },
        { "tmpfs", required_argument, NULL, OPT_TMPFS },
        { "read-only", no_argument, NULL, OPT_READ_ONLY },
        { "memory", required_argument, NULL, 'm' },
        { "memory-swap", required_argument, NULL, OPT_MEMORY_SWAP },
        { "cpus", required_argument, NULL, OPT_CPUS },
        { "cpu-shares", required_argument, NULL, OPT_CPU_SHARES },
        { "cpuset-cpus", required_argument, NULL, OPT_CPUSET },
        { "pids-limit", required_argument, NULL, OPT_PIDS },
        { "blkio-weight", required_argument, NULL, OPT_BLKIO },
        { "device-read-bps", required_argument, NULL, OPT_DEV_READ_BPS },
        { "device", required_argument, NULL, OPT_DEVICE },
        { "cap-add", required_argument, NULL, OPT_CAP_ADD },
        { "cap-drop", required_argument, NULL, OPT_CAP_DROP },
        { "privileged", no_argument, NULL, OPT_PRIVILEGED },
        { "security-opt", required_argument, NULL, OPT_SECURITY_OPT },
        { "userns", required_argument, NULL, OPT_USERNS },
        { "init", no_argument, NULL, OPT_INIT },
        { "restart", required_argument, NULL, OPT_RESTART },
        { "health-cmd", required_argument, NULL, OPT_HEALTH_CMD },
        { "health-interval", required_argument, NULL, OPT_HEALTH_INTERVAL },
        { "health-retries", required_argument, NULL, OPT_HEALTH_RETRIES },
        { "health-timeout", required_argument, NULL, OPT_HEALTH_TIMEOUT },
        { "health-start-period", required_argument, NULL, OPT_HEALTH_START },
        { "no-healthcheck", no_argument, NULL, OPT_NO_HEALTH },
        { "stop-signal", required_argument, NULL, OPT_STOP_SIGNAL },
        { "stop-timeout", required_argument, NULL, OPT_STOP_TIMEOUT },
        { "log-opt", required_argument, NULL, OPT_LOG_OPT },
        { "log-driver", required_argument, NULL, OPT_LOG_DRIVER },
        { "label", required_argument, NULL, 'l' },
        { "network", required_argument, NULL, OPT_NETWORK },
        { "net", required_argument, NULL, OPT_NETWORK },
        { "runtime", required_argument, NULL, OPT_RUNTIME },
        { "pull", required_argument, NULL, OPT_PULL },
        { "help", no_argument, NULL, 'H' },
        {},
};

struct run_args {
        json_object *body, *config, *host;
        const char *name;
        const char *pull; /* missing (Docker's default), always, never */
        bool detach, rm;
};

/* O's member KEY of TYPE (an array or an object), made when missing. */
static json_object *member(json_object *o, const char *key, json_type type)
{
        json_object *v = NULL;

        if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, type)) {
                v = type == json_type_array ? json_object_new_array() : json_object_new_object();
                json_object_object_add(o, key, v);
        }
        return v;
}

static json_object *arr(json_object *o, const char *key)
{
        return member(o, key, json_type_array);
}

static json_object *obj(json_object *o, const char *key)
{
        return member(o, key, json_type_object);
}

static void set_int(json_object *o, const char *key, int64_t v)
{
        json_object_object_add(o, key, json_object_new_int64(v));
}

static int bad_value(const char *flag, const char *value, const char *why)
{
        return cli_usage("invalid argument \"%s\" for \"%s\" flag: %s", value, flag, why);
}

static int add_env(json_object *env, const char *v)
{
        if (!*v || *v == '=')
                return bad_value("-e, --env", v, "invalid environment variable");
        if (strchr(v, '=')) {
                json_object_array_add(env, json_object_new_string(v));
                return 0;
        }
        /* K alone: the value from our environment, or nothing */
        if (getenv(v)) {
                _cleanup_free_ char *kv = xasprintf("%s=%s", v, getenv(v));
                json_object_array_add(env, json_object_new_string(kv));
        }
        return 0;
}

static int add_label(json_object *labels, const char *v)
{
        const char *eq = strchr(v, '=');
        _cleanup_free_ char *k = eq ? xstrndup(v, (size_t) (eq - v)) : xstrdup(v);

        if (!*k)
                return bad_value("-l, --label", v, "empty label name");
        json_object_object_add(labels, k, json_object_new_string(eq ? eq + 1 : ""));
        return 0;
}

static int health_duration(json_object *hc, const char *key, const char *flag, const char *v)
{
        struct error err = ERROR_INIT;
        int64_t ns;

        if (parse_duration(flag, v, &ns, &err) < 0)
                return cli_fail(&err);
        set_int(hc, key, ns);
        return 0;
}

static int log_opt(json_object *host, const char *v)
{
        json_object *cfg = obj(obj(host, "LogConfig"), "Config");
        const char *eq = strchr(v, '=');
        _cleanup_free_ char *k = eq ? xstrndup(v, (size_t) (eq - v)) : NULL;
        struct error err = ERROR_INIT;
        int64_t n;

        if (!k || (strcmp(k, "max-size") && strcmp(k, "max-file")))
                return bad_value("--log-opt", v, "expected max-size=SIZE or max-file=N");
        if (strcmp(k, "max-size") == 0 && parse_bytes("--log-opt max-size", eq + 1, &n, &err) < 0)
                return cli_fail(&err);
        if (strcmp(k, "max-file") == 0 && (atoi(eq + 1) < 1 || strspn(eq + 1, "0123456789") != strlen(eq + 1)))
                return bad_value("--log-opt", v, "max-file must be a positive number");
        json_object_object_add(cfg, k, json_object_new_string(eq + 1));
        return 0;
}

/* One flag of run/create into A; 0, or an exit code. */
static int run_flag(struct run_args *a, int c, const char *v)
{
        struct error err = ERROR_INIT;
        json_object *m = NULL;
        int64_t n;
        int r = 0;

        switch (c) {
        case 'd': a->detach = true; break;
        case 'i': json_object_object_add(a->config, "OpenStdin", json_object_new_boolean(true)); break;
        case 't': json_object_object_add(a->config, "Tty", json_object_new_boolean(true)); break;
        case OPT_RM: a->rm = true; json_object_object_add(a->host, "AutoRemove", json_object_new_boolean(true)); break;
        case OPT_NAME: a->name = v; break;
        case 'e': return add_env(arr(a->config, "Env"), v);
        case OPT_ENV_FILE: r = parse_env_file(v, arr(a->config, "Env"), &err); break;
        case 'w': json_object_object_add(a->config, "WorkingDir", json_object_new_string(v)); break;
        case 'u': json_object_object_add(a->config, "User", json_object_new_string(v)); break;
        case 'h': json_object_object_add(a->config, "Hostname", json_object_new_string(v)); break;
        case OPT_ENTRYPOINT: {
                json_object *ep = json_object_new_array();
                if (*v)
                        json_object_array_add(ep, json_object_new_string(v));
                json_object_object_add(a->config, "Entrypoint", ep);
                break;
        }
        case 'v': r = parse_volume(v, &m, &err); break;
        case OPT_MOUNT: r = parse_mount(v, &m, &err); break;
        case OPT_TMPFS: r = parse_tmpfs(v, &m, &err); break;
        case OPT_READ_ONLY: json_object_object_add(a->host, "ReadonlyRootfs", json_object_new_boolean(true)); break;
        case 'm':
                if ((r = parse_bytes("-m, --memory", v, &n, &err)) >= 0)
                        set_int(a->host, "Memory", n);
                break;
        case OPT_MEMORY_SWAP:
                if (strcmp(v, "-1") == 0)
                        set_int(a->host, "MemorySwap", -1);
                else if ((r = parse_bytes("--memory-swap", v, &n, &err)) >= 0)
                        set_int(a->host, "MemorySwap", n);
                break;
        case OPT_CPUS:
                if ((r = parse_cpus("--cpus", v, &n, &err)) >= 0)
                        set_int(a->host, "NanoCpus", n);
                break;
        case OPT_CPU_SHARES:
                if (parse_int64(v, &n) < 0 || n < 0)
                        return bad_value("-c, --cpu-shares", v, "expected a non-negative number");
                set_int(a->host, "CpuShares", n);
                break;
        case OPT_CPUSET:
                if (!*v || strspn(v, "0123456789,-") != strlen(v))
                        return bad_value("--cpuset-cpus", v, "expected a list such as 0-2,4");
                json_object_object_add(a->host, "CpusetCpus", json_object_new_string(v));
                break;
        case OPT_PIDS:
                if (parse_int64(v, &n) < 0 || n < -1)
                        return bad_value("--pids-limit", v, "expected a number (-1: unlimited)");
                set_int(a->host, "PidsLimit", n);
                break;
        case OPT_BLKIO:
                if (parse_int64(v, &n) < 0 || (n != 0 && (n < 10 || n > 1000)))
                        return bad_value("--blkio-weight", v, "range is from 10 to 1000");
                set_int(a->host, "BlkioWeight", n);
                break;
        case OPT_DEV_READ_BPS:
                if ((r = parse_device_rate(v, &m, &err)) >= 0)
                        json_object_array_add(arr(a->host, "BlkioDeviceReadBps"), TAKE_PTR(m));
                break;
        case OPT_DEVICE:
                if ((r = parse_device(v, &m, &err)) >= 0)
                        json_object_array_add(arr(a->host, "Devices"), TAKE_PTR(m));
                break;
        case OPT_CAP_ADD: json_object_array_add(arr(a->host, "CapAdd"), json_object_new_string(v)); break;
        case OPT_CAP_DROP: json_object_array_add(arr(a->host, "CapDrop"), json_object_new_string(v)); break;
        case OPT_PRIVILEGED: json_object_object_add(a->host, "Privileged", json_object_new_boolean(true)); break;
        case OPT_SECURITY_OPT:
                if (strncmp(v, "seccomp=", 8) == 0 && strcmp(v + 8, "unconfined") != 0) {
                        _cleanup_free_ char *profile = NULL;
                        _cleanup_free_ char *opt = NULL;
                        if (read_full_file_at(AT_FDCWD, v + 8, 16 << 20, &profile, NULL) < 0)
                                return cli_usage("--security-opt: cannot read seccomp profile `%s`", v + 8);
                        opt = xasprintf("seccomp=%s", profile);
                        json_object_array_add(arr(a->host, "SecurityOpt"), json_object_new_string(opt));
                } else if (strcmp(v, "seccomp=unconfined") == 0 || strcmp(v, "no-new-privileges") == 0 ||
                           strcmp(v, "no-new-privileges:true") == 0 || strcmp(v, "no-new-privileges=true") == 0)
                        json_object_array_add(arr(a->host, "SecurityOpt"),
                                              json_object_new_string(strncmp(v, "no-new", 6) == 0
                                                                             ? "no-new-privileges" : v));
                else
                        return bad_value("--security-opt", v,
                                         "expected seccomp=FILE, seccomp=unconfined or no-new-privileges");
                break;
        case OPT_USERNS: json_object_object_add(a->host, "UsernsMode", json_object_new_string(v)); break;
        case OPT_INIT: json_object_object_add(a->host, "Init", json_object_new_boolean(true)); break;
        case OPT_RESTART: {
                _cleanup_free_ char *name = NULL;
                int max = 0;
                if ((r = parse_restart("--restart", v, &name, &max, &err)) >= 0) {
                        json_object *rp = obj(a->host, "RestartPolicy");
                        json_object_object_add(rp, "Name", json_object_new_string(name));
                        json_object_object_add(rp, "MaximumRetryCount", json_object_new_int(max));
                }
                break;
        }
        case OPT_HEALTH_CMD: {
                json_object *t = json_object_new_array();
                json_object_array_add(t, json_object_new_string("CMD-SHELL"));
                json_object_array_add(t, json_object_new_string(v));
                json_object_object_add(obj(a->config, "Healthcheck"), "Test", t);
                break;
        }
        case OPT_NO_HEALTH: {
                json_object *t = json_object_new_array();
                json_object_array_add(t, json_object_new_string("NONE"));
                json_object_object_add(obj(a->config, "Healthcheck"), "Test", t);
                break;
        }
        case OPT_HEALTH_INTERVAL: return health_duration(obj(a->config, "Healthcheck"), "Interval", "--health-interval", v);
        case OPT_HEALTH_TIMEOUT: return health_duration(obj(a->config, "Healthcheck"), "Timeout", "--health-timeout", v);
        case OPT_HEALTH_START:
                return health_duration(obj(a->config, "Healthcheck"), "StartPeriod", "--health-start-period", v);
        case OPT_HEALTH_RETRIES:
                if (parse_int64(v, &n) < 0 || n < 0)
                        return bad_value("--health-retries", v, "expected a non-negative number");
                set_int(obj(a->config, "Healthcheck"), "Retries", n);
                break;
        case OPT_STOP_SIGNAL: {
                int sig;
                if ((r = parse_signal("--stop-signal", v, &sig, &err)) >= 0)
                        json_object_object_add(a->config, "StopSignal", json_object_new_string(v));
                break;
        }
        case OPT_STOP_TIMEOUT:
                if (parse_int64(v, &n) < 0 || n < -1)
                        return bad_value("--stop-timeout", v, "expected seconds");
                set_int(a->config, "StopTimeout", n);
                break;
        case OPT_LOG_OPT: {
                /* one per flag as Docker, or several joined with commas */
                _cleanup_free_ char *copy = xstrdup(v);
                char *save = NULL;
                for (char *o = strtok_r(copy, ",", &save); o; o = strtok_r(NULL, ",", &save))
                        if ((r = log_opt(a->host, o)))
                                return r;
                return 0;
        }
        case OPT_LOG_DRIVER:
                if (strcmp(v, "json-file") && strcmp(v, "k8s-file"))
                        return bad_value("--log-driver", v, "only json-file is supported");
                break;
        case 'l': return add_label(obj(a->config, "Labels"), v);
        case OPT_NETWORK:
                if (strcmp(v, "none") && strcmp(v, "host") && strcmp(v, "bridge") && strcmp(v, "default"))
                        return bad_value("--network", v, "only none and host are supported (networks come later)");
                /* until bridge networks exist, the default is a network namespace with loopback only */
                json_object_object_add(a->host, "NetworkMode", json_object_new_string(strcmp(v, "host") ? "none"
                                                                                                         : "host"));
                break;
        case OPT_RUNTIME: json_object_object_add(a->host, "Runtime", json_object_new_string(v)); break;
        case OPT_PULL:
                if (strcmp(v, "missing") && strcmp(v, "never") && strcmp(v, "always"))
                        return bad_value("--pull", v, "expected missing, never or always");
                a->pull = v;
                break;
        default:
                return 125;
        }
        if (r < 0)
                return fail125(&err);
        if (m)
                json_object_array_add(arr(a->host, "Mounts"), m);
        return 0;
}

static void run_usage(const char *cmd)
{
        printf("usage: berth %s [OPTIONS] IMAGE [COMMAND] [ARG...]\n\n"
               "  -d, --detach  -i, --interactive  -t, --tty  --rm  --name NAME\n"
               "  -e, --env K=V  --env-file FILE  -w, --workdir DIR  -u, --user USER[:GROUP]\n"
               "  --entrypoint CMD  -h, --hostname NAME  -l, --label K=V\n"
               "  -v, --volume SRC:DST[:ro]  --mount type=…,source=…,target=…  --tmpfs DST[:opts]  --read-only\n"
               "  -m, --memory SIZE  --memory-swap SIZE  --cpus N  -c, --cpu-shares N  --cpuset-cpus LIST\n"
               "  --pids-limit N  --blkio-weight N  --device-read-bps DEV:RATE  --device DEV[:DEV[:rwm]]\n"
               "  --cap-add CAP  --cap-drop CAP  --privileged  --security-opt seccomp=FILE|unconfined,\n"
               "  no-new-privileges  --userns host|auto|UID:HOSTUID:COUNT  --init\n"
               "  --restart no|on-failure[:N]|always|unless-stopped  --stop-signal SIG  --stop-timeout SECS\n"
               "  --health-cmd CMD  --health-interval D  --health-retries N  --health-timeout D\n"
               "  --health-start-period D  --no-healthcheck  --log-opt max-size=…|max-file=…\n"
               "  --network none|host  --runtime PATH\n", cmd);
}

/* Parse run/create's arguments into A (A->body owned by the caller). */
static int parse_run(int argc, char **argv, struct run_args *a)
{
        int c, r;

        a->body = json_object_new_object();
        a->config = obj(a->body, "Config");
        a->host = obj(a->body, "HostConfig");
        /* "+": options end at the image, the rest is the command */
        while ((c = getopt_long(argc, argv, "+dith:e:w:u:v:m:l:c:", run_opts, NULL)) >= 0) {
                if (c == 'H') {
                        run_usage(argv[0]);
                        return -1;
                }
                if (c == '?')
                        return 125;
                if (c == 'c')
                        c = OPT_CPU_SHARES;
                r = run_flag(a, c, optarg);
                if (r)
                        return r > 125 ? r : 125; /* Docker: a bad flag is the engine's error */
        }
        if (optind >= argc)
                return cli_usage("%s: requires at least 1 argument (IMAGE)", argv[0]), 125;
        if (a->rm) {
                json_object *rp = NULL, *nm = NULL;
                if (json_object_object_get_ex(a->host, "RestartPolicy", &rp) &&
                    json_object_object_get_ex(rp, "Name", &nm) && strcmp(json_object_get_string(nm), "no") != 0) {
                        cli_usage("conflicting options: --restart and --rm");
                        return 125;
                }
        }
        json_object_object_add(a->config, "Image", json_object_new_string(argv[optind]));
        if (optind + 1 < argc) {
                json_object *cmd = json_object_new_array();
                for (int i = optind + 1; i < argc; i++)
                        json_object_array_add(cmd, json_object_new_string(argv[i]));
                json_object_object_add(a->config, "Cmd", cmd);
        }
        return 0;
}

/* engine_create(), pulling the image first as A->pull says (an image not
 * found locally is pulled unless --pull never).  BODY is consumed.  125:
 * the pull failed and said why. */
static int create_pulling(struct engine *e, struct run_args *a, struct container *c, struct error *err)
{
        json_object *img = NULL;
        _cleanup_free_ char *image = NULL;
        const char *pull = a->pull ? a->pull : "missing";
        int r;

        json_object_object_get_ex(a->config, "Image", &img);
        image = xstrdup(json_object_get_string(img));
        if (strcmp(pull, "always") == 0 && cli_pull_missing(image)) {
                json_object_put(a->body);
                return 125;
        }
        json_object_get(a->body);
        r = engine_create(e, a->body, a->name, c, err);
        if (r == -ENOENT && strcmp(pull, "missing") == 0 && err->msg && strstr(err->msg, "unable to find image")) {
                error_clear(err);
                if (cli_pull_missing(image)) {
                        json_object_put(a->body);
                        return 125;
                }
                return engine_create(e, a->body, a->name, c, err);
        }
        json_object_put(a->body);
        return r;
}

static int open_engine(struct engine **e)
{
        struct error err = ERROR_INIT;

        if (engine_open(arg.root, e, &err) < 0) {
                cli_fail(&err);
                return 125;
        }
        return 0;
}

int cmd_create(int argc, char **argv)
{
        struct run_args a = {};
        struct container c = {};
        struct error err = ERROR_INIT;
        struct engine *e = NULL;
        int r = parse_run(argc, argv, &a);

        if (r) {
                json_object_put(a.body);
                return r < 0 ? 0 : r;
        }
        r = open_engine(&e);
        if (r) {
                json_object_put(a.body);
                return r;
        }
        r = create_pulling(e, &a, &c, &err);
        if (r < 0)
                r = fail125(&err);
        else if (r == 0)
                printf("%s\n", c.id);
        container_clear(&c);
        engine_close(e);
        return r;
}

/* The signals a foreground run passes on to the container (Docker's
 * --sig-proxy), and SIGWINCH. */
static int proxy_signals(sigset_t *old)
{
        static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH };
        sigset_t set;

        sigemptyset(&set);
        for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
                sigaddset(&set, sigs[i]);
        sigprocmask(SIG_BLOCK, &set, old);
        return signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
}

/* Attach the terminal or our stdio to C (through FD) until it exits;
 * its exit code. */
int cli_attach(const struct container *c, int fd, bool in, bool tty)
{
        struct error err = ERROR_INIT;
        struct termios saved, raw;
        bool restore = false;
        sigset_t old;
        int code = -1, sfd, r;

        if (tty && in && isatty(0) && tcgetattr(0, &saved) == 0) {
                raw = saved;
                cfmakeraw(&raw);
                restore = tcsetattr(0, TCSANOW, &raw) == 0;
        }
        sfd = proxy_signals(&old);
        r = engine_attach_stream(fd, in ? "oei" : "oe", in ? 0 : -1, 1, 2, sfd, &code, &err);
        if (restore)
                (void) tcsetattr(0, TCSANOW, &saved);
        if (sfd >= 0)
                close(sfd);
        sigprocmask(SIG_SETMASK, &old, NULL);
        if (r < 0)
                return fail125(&err);
        if (code == ENGINE_DETACHED) {
                fprintf(stderr, "\r\nberth: detached from %s (it runs on; berth attach to come back)\r\n",
                        c->name);
                return 0;
        }
        return code < 0 ? 125 : code;
}

int cmd_run(int argc, char **argv)
{
        struct run_args a = {};
        struct container c = {};
        struct error err = ERROR_INIT;
        struct engine *e = NULL;
        json_object *v = NULL;
        bool in, tty;
        int fd = -1, r = parse_run(argc, argv, &a);

        if (r) {
                json_object_put(a.body);
                return r < 0 ? 0 : r;
        }
        in = json_object_object_get_ex(a.config, "OpenStdin", &v) && json_object_get_boolean(v);
        tty = json_object_object_get_ex(a.config, "Tty", &v) && json_object_get_boolean(v);
        if (tty && in && !a.detach && !isatty(0)) {
                json_object_put(a.body);
                return cli_usage("the input device is not a TTY (leave out -t, or run from a terminal)"), 125;
        }
        r = open_engine(&e);
        if (r) {
                json_object_put(a.body);
                return r;
        }
        r = create_pulling(e, &a, &c, &err);
        if (r) {
                r = r < 0 ? fail125(&err) : r;
                goto out;
        }
        if (engine_start(e, &c, a.detach ? NULL : &fd, &err) < 0) {
                r = fail125(&err);
                /* a container that never ran is not kept with --rm */
                if (a.rm)
                        (void) engine_remove(e, &c, true, true, NULL);
                goto out;
        }
        if (a.detach) {
                printf("%s\n", c.id);
                goto out;
        }
        r = cli_attach(&c, fd, in, tty);
        close(fd);
        if (a.rm) {
                struct container again = {};
                /* the monitor's cleanup may have removed it already */
                if (engine_lookup(e, c.id, &again, NULL) >= 0) {
                        (void) engine_remove(e, &again, true, true, NULL);
                        container_clear(&again);
                }
        }
out:
        container_clear(&c);
        engine_close(e);
        return r;
}
