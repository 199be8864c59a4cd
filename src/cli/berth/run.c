/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <arpa/inet.h>
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
        OPT_LOG_OPT, OPT_LOG_DRIVER, OPT_NETWORK, OPT_RUNTIME, OPT_PULL, OPT_CPU_SHARES, OPT_IP, OPT_IP6, OPT_MAC,
        OPT_ALIAS, OPT_EXPOSE, OPT_DNS, OPT_DNS_SEARCH, OPT_DNS_OPT, OPT_ADD_HOST, OPT_EGRESS, OPT_EGRESS_ALLOW,
        OPT_EGRESS_DENY,
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
        { "ip", required_argument, NULL, OPT_IP },
        { "ip6", required_argument, NULL, OPT_IP6 },
        { "mac-address", required_argument, NULL, OPT_MAC },
        { "network-alias", required_argument, NULL, OPT_ALIAS },
        { "net-alias", required_argument, NULL, OPT_ALIAS },
        { "publish", required_argument, NULL, 'p' },
        { "publish-all", no_argument, NULL, 'P' },
        { "expose", required_argument, NULL, OPT_EXPOSE },
        { "dns", required_argument, NULL, OPT_DNS },
        { "dns-search", required_argument, NULL, OPT_DNS_SEARCH },
        { "dns-option", required_argument, NULL, OPT_DNS_OPT },
        { "dns-opt", required_argument, NULL, OPT_DNS_OPT },
        { "add-host", required_argument, NULL, OPT_ADD_HOST },
        { "egress", required_argument, NULL, OPT_EGRESS },
        { "egress-allow", required_argument, NULL, OPT_EGRESS_ALLOW },
        { "egress-deny", required_argument, NULL, OPT_EGRESS_DENY },
        { "runtime", required_argument, NULL, OPT_RUNTIME },
        { "pull", required_argument, NULL, OPT_PULL },
        { "help", no_argument, NULL, 'H' },
        {},
};

struct run_args {
        json_object *body, *config, *host;
        const char *name;
        /* networks: the --network values in order, and what applies to the first */
        char **networks;
        const char *ip, *ip6, *mac, *egress;
        char **aliases;
        json_object *egress_rules; /* the exceptions given, with the flag that gave them first */
        const char *egress_flag;
        const char *pull; /* missing (Docker's default), always, never */
        bool detach, rm;
};

static void run_args_clear(struct run_args *a)
{
        strv_free(a->networks);
        strv_free(a->aliases);
        json_object_put(a->egress_rules);
}

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
        case OPT_NETWORK: strv_push(&a->networks, xstrdup(strcmp(v, "default") == 0 ? "bridge" : v)); break;
        case OPT_IP: r = parse_ip("--ip", v, AF_INET, &err); a->ip = v; break;
        case OPT_IP6: r = parse_ip("--ip6", v, AF_INET6, &err); a->ip6 = v; break;
        case OPT_MAC: r = parse_mac(v, &err); a->mac = v; break;
        case OPT_ALIAS: strv_push(&a->aliases, xstrdup(v)); break;
        case 'p': r = parse_publish(v, obj(a->host, "PortBindings"), obj(a->config, "ExposedPorts"), &err); break;
        case 'P': json_object_object_add(a->host, "PublishAllPorts", json_object_new_boolean(true)); break;
        case OPT_EXPOSE: r = parse_expose("--expose", v, obj(a->config, "ExposedPorts"), &err); break;
        case OPT_DNS:
                if ((r = parse_ip("--dns", v, 0, &err)) >= 0)
                        json_object_array_add(arr(a->host, "Dns"), json_object_new_string(v));
                break;
        case OPT_DNS_SEARCH: json_object_array_add(arr(a->host, "DnsSearch"), json_object_new_string(v)); break;
        case OPT_DNS_OPT: json_object_array_add(arr(a->host, "DnsOptions"), json_object_new_string(v)); break;
        case OPT_ADD_HOST: {
                char *h = NULL;
                if ((r = parse_add_host(v, &h, &err)) >= 0)
                        json_object_array_add(arr(a->host, "ExtraHosts"), json_object_new_string(h));
                free(h);
                break;
        }
        case OPT_EGRESS:
                if (strcmp(v, "allow") && strcmp(v, "deny"))
                        return bad_value("--egress", v, "expected allow or deny");
                a->egress = v;
                break;
        case OPT_EGRESS_ALLOW:
        case OPT_EGRESS_DENY: {
                const char *flag = c == OPT_EGRESS_ALLOW ? "--egress-allow" : "--egress-deny";
                if (a->egress_flag && strcmp(a->egress_flag, flag) != 0)
                        return cli_usage("--egress-allow and --egress-deny cannot be combined: the exceptions are to "
                                         "one policy"), 125;
                a->egress_flag = flag;
                if ((r = parse_egress_rule(flag, v, &err)) >= 0) {
                        if (!a->egress_rules)
                                a->egress_rules = json_object_new_array();
                        json_object_array_add(a->egress_rules, json_object_new_string(v));
                }
                break;
        }
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
               "  --network bridge|none|host|container:NAME|NETWORK (repeatable)  --ip IP  --ip6 IP\n"
               "  --mac-address MAC  --network-alias NAME  -p, --publish [IP:][HOSTPORT:]PORT[/PROTO]\n"
               "  -P, --publish-all  --expose PORT[/PROTO]  --dns IP  --dns-search DOMAIN  --dns-option OPT\n"
               "  --add-host NAME:IP  --egress allow|deny  --egress-allow|--egress-deny CIDR[:PORT[/PROTO]]\n"
               "  --runtime PATH\n", cmd);
}

static bool network_special(const char *n)
{
        return strcmp(n, "none") == 0 || strcmp(n, "host") == 0 || strncmp(n, "container:", 10) == 0;
}

static json_object *endpoint(json_object *eps, const char *name)
{
        json_object *ep = obj(eps, name), *ipam = obj(ep, "IPAMConfig");

        if (!json_object_object_get_ex(ipam, "IPv4Address", NULL)) {
                json_object_object_add(ipam, "IPv4Address", json_object_new_string(""));
                json_object_object_add(ipam, "IPv6Address", json_object_new_string(""));
                json_object_object_add(ep, "MacAddress", json_object_new_string(""));
                arr(ep, "Aliases");
        }
        return ep;
}

/* --network (HostConfig.NetworkMode: the first; NetworkingConfig.EndpointsConfig:
 * each), what applies to the first network's endpoint, and --egress. */
static int network_flags(struct run_args *a)
{
        const char *first = a->networks ? a->networks[0] : "bridge";
        bool per_endpoint = a->ip || a->ip6 || a->mac || a->aliases;
        json_object *eps, *ep;

        for (char **n = a->networks; n && *n; n++) {
                if (network_special(*n) && strv_length(a->networks) > 1)
                        return cli_usage("--network: %s cannot be combined with other networks", *n), 125;
                if (strcmp(*n, "container:") == 0)
                        return bad_value("--network", *n, "container: needs a container's name or id");
        }
        if (a->networks)
                json_object_object_add(a->host, "NetworkMode", json_object_new_string(first));
        if (network_special(first)) {
                if (per_endpoint)
                        return cli_usage("%s: needs a bridge network, not %s",
                                         a->ip ? "--ip" : a->ip6 ? "--ip6" : a->mac ? "--mac-address" : "--network-alias",
                                         first), 125;
        } else if (a->networks || per_endpoint) {
                eps = obj(obj(a->body, "NetworkingConfig"), "EndpointsConfig");
                for (char **n = a->networks; n && *n; n++)
                        endpoint(eps, *n);
                ep = endpoint(eps, first);
                if (a->ip)
                        json_object_object_add(obj(ep, "IPAMConfig"), "IPv4Address", json_object_new_string(a->ip));
                if (a->ip6)
                        json_object_object_add(obj(ep, "IPAMConfig"), "IPv6Address", json_object_new_string(a->ip6));
                if (a->mac)
                        json_object_object_add(ep, "MacAddress", json_object_new_string(a->mac));
                for (char **al = a->aliases; al && *al; al++)
                        json_object_array_add(arr(ep, "Aliases"), json_object_new_string(*al));
        }
        if (a->egress || a->egress_rules) {
                const char *policy = a->egress;
                json_object *eg = obj(a->host, "Egress");
                if (!policy)
                        policy = a->egress_flag && strcmp(a->egress_flag, "--egress-allow") == 0 ? "deny" : "allow";
                if (a->egress_flag && strcmp(policy, "deny") == 0 && strcmp(a->egress_flag, "--egress-deny") == 0)
                        return cli_usage("--egress-deny lists exceptions to --egress allow, not deny"), 125;
                if (a->egress_flag && strcmp(policy, "allow") == 0 && strcmp(a->egress_flag, "--egress-allow") == 0)
                        return cli_usage("--egress-allow lists exceptions to --egress deny, not allow"), 125;
                if (network_special(first))
                        return cli_usage("--egress: needs a bridge network, not %s", first), 125;
                json_object_object_add(eg, "Policy", json_object_new_string(policy));
                json_object_object_add(eg, "Rules", a->egress_rules ? a->egress_rules : json_object_new_array());
                a->egress_rules = NULL;
        }
        return 0;
}

/* Parse run/create's arguments into A (A->body owned by the caller). */
static int parse_run(int argc, char **argv, struct run_args *a)
{
        int c, r;

        a->body = json_object_new_object();
        a->config = obj(a->body, "Config");
        a->host = obj(a->body, "HostConfig");
        /* "+": options end at the image, the rest is the command */
        while ((c = getopt_long(argc, argv, "+dith:e:w:u:v:m:l:c:p:P", run_opts, NULL)) >= 0) {
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
        r = network_flags(a);
        if (r)
                return r;
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
        _cleanup_(run_args_clear) struct run_args a = {};
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
        _cleanup_(run_args_clear) struct run_args a = {};
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
