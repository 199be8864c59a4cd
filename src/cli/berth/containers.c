/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "basic/fileio.h"
#include "cli.h"
#include "engine/engine.h"
#include "engine/ocispec.h"

int cli_engine(struct engine **ret)
{
        struct error err = ERROR_INIT;

        if (engine_open(arg.root, ret, &err) < 0)
                return cli_fail(&err);
        return 0;
}

static json_object *jget(json_object *o, const char *key)
{
        json_object *v = NULL;

        return o && json_object_object_get_ex(o, key, &v) ? v : NULL;
}

static const char *jstr(json_object *o, const char *key)
{
        const char *s = json_object_get_string(jget(o, key));

        return s ? s : "";
}

static time_t parse_time(const char *s)
{
        struct tm tm = {};

        if (!s || !*s || !strptime(s, "%Y-%m-%dT%H:%M:%S", &tm))
                return (time_t) -1;
        return timegm(&tm);
}

/* Docker's human durations: "5 seconds", "About a minute", "3 hours". */
char *cli_duration(long secs)
{
        if (secs < 1)
                return xstrdup("Less than a second");
        if (secs == 1)
                return xstrdup("1 second");
        if (secs < 60)
                return xasprintf("%ld seconds", secs);
        if (secs < 120)
                return xstrdup("About a minute");
        if (secs < 3600)
                return xasprintf("%ld minutes", secs / 60);
        if (secs < 7200)
                return xstrdup("About an hour");
        if (secs < 48 * 3600)
                return xasprintf("%ld hours", secs / 3600);
        if (secs < 14 * 86400)
                return xasprintf("%ld days", secs / 86400);
        if (secs < 60 * 86400)
                return xasprintf("%ld weeks", secs / (7 * 86400));
        if (secs < 730 * 86400)
                return xasprintf("%ld months", secs / (30 * 86400));
        return xasprintf("%ld years", secs / (365 * 86400));
}

static char *since(const char *rfc3339)
{
        time_t t = parse_time(rfc3339);

        return cli_duration(t == (time_t) -1 ? 0 : (long) (time(NULL) - t));
}

static const char *health_status(const struct container *c)
{
        json_object *h = jget(c->status, "health");

        return h ? jstr(h, "status") : NULL;
}

/* "Up 5 seconds (healthy)", "Exited (0) 3 seconds ago", "Created"… */
char *cli_status_text(const struct container *c)
{
        const char *state = container_state(c), *health = health_status(c);
        int code = container_exit_code(c);
        _cleanup_free_ char *code_s = code < 0 ? xstrdup("unknown") : xasprintf("%d", code);

        if (strcmp(state, "running") == 0 || strcmp(state, "paused") == 0) {
                _cleanup_free_ char *up = since(jstr(c->status, "started_at"));
                if (strcmp(state, "paused") == 0)
                        return xasprintf("Up %s (Paused)", up);
                if (health && *health)
                        return xasprintf("Up %s (%s)", up, strcmp(health, "starting") == 0 ? "health: starting"
                                                                                           : health);
                return xasprintf("Up %s", up);
        }
        if (strcmp(state, "restarting") == 0) {
                _cleanup_free_ char *ago = since(jstr(c->status, "finished_at"));
                return xasprintf("Restarting (%s) %s ago", code_s, ago);
        }
        if (strcmp(state, "exited") == 0) {
                _cleanup_free_ char *ago = since(jstr(c->status, "finished_at"));
                return xasprintf("Exited (%s) %s ago", code_s, ago);
        }
        return xstrdup("Created");
}

/* The command C runs (from its last OCI config, else its create body). */
char *cli_command(const struct container *c)
{
        _cleanup_free_ char *path = xasprintf("%s/bundle/config.json", c->dir), *data = NULL;
        json_object *spec = NULL, *args = NULL;
        char *out = xstrdup("");

        if (read_full_file_at(AT_FDCWD, path, 4 << 20, &data, NULL) >= 0)
                spec = json_tokener_parse(data);
        args = jget(jget(spec, "process"), "args");
        if (!json_object_is_type(args, json_type_array))
                args = jget(jget(c->config, "Config"), "Cmd");
        for (size_t i = 0; json_object_is_type(args, json_type_array) && i < json_object_array_length(args); i++) {
                char *n = xasprintf("%s%s%s", out, i ? " " : "",
                                    json_object_get_string(json_object_array_get_idx(args, i)));
                free(out);
                out = n;
        }
        json_object_put(spec);
        return out;
}

/* ---- inspect --------------------------------------------------------- */

static json_object *jstring(const char *s)
{
        return json_object_new_string(s ? s : "");
}

/* NetworkSettings: what the engine recorded while C is attached, else
 * Docker's shape for a stopped container: its networks, no addresses. */
static json_object *network_settings(const struct container *c)
{
        static const char *const empty[] = { "SandboxKey", "IPAddress", "Gateway", "MacAddress", "GlobalIPv6Address",
                                             "IPv6Gateway" };
        json_object *ns, *nets, *eps = jget(jget(c->config, "NetworkingConfig"), "EndpointsConfig"), *names;
        const char *mode = jstr(jget(c->config, "HostConfig"), "NetworkMode");

        if (c->network)
                return json_object_get(c->network);
        ns = json_object_new_object();
        nets = json_object_new_object();
        for (size_t i = 0; i < sizeof(empty) / sizeof(empty[0]); i++)
                json_object_object_add(ns, empty[i], json_object_new_string(""));
        json_object_object_add(ns, "IPPrefixLen", json_object_new_int(0));
        json_object_object_add(ns, "GlobalIPv6PrefixLen", json_object_new_int(0));
        json_object_object_add(ns, "Ports", json_object_new_object());
        json_object_object_add(ns, "Networks", nets);
        if (!mode || !*mode || strcmp(mode, "default") == 0)
                mode = "bridge";
        if (strncmp(mode, "container:", 10) == 0)
                return ns;
        names = json_object_new_array();
        json_object_array_add(names, json_object_new_string(mode));
        if (json_object_is_type(eps, json_type_object)) {
                json_object_object_foreach(eps, name, cfg) {
                        (void) cfg;
                        if (strcmp(name, mode) != 0)
                                json_object_array_add(names, json_object_new_string(name));
                }
        }
        for (size_t i = 0; i < json_object_array_length(names); i++) {
                const char *name = json_object_get_string(json_object_array_get_idx(names, i));
                json_object *m = json_object_new_object(), *aliases = jget(jget(eps, name), "Aliases");
                for (size_t k = 1; k < sizeof(empty) / sizeof(empty[0]); k++)
                        json_object_object_add(m, empty[k], json_object_new_string(""));
                json_object_object_add(m, "NetworkID", json_object_new_string(""));
                json_object_object_add(m, "IPPrefixLen", json_object_new_int(0));
                json_object_object_add(m, "GlobalIPv6PrefixLen", json_object_new_int(0));
                json_object_object_add(m, "Aliases", aliases ? json_object_get(aliases) : json_object_new_array());
                json_object_object_add(nets, name, m);
        }
        json_object_put(names);
        return ns;
}

/* Docker's PORTS text: "0.0.0.0:8080->80/tcp, 53/udp". */
static char *ports_text(const struct container *c)
{
        json_object *ports = jget(c->network, "Ports");
        char *s = xstrdup("");

        if (!json_object_is_type(ports, json_type_object))
                return s;
        json_object_object_foreach(ports, key, arr) {
                size_t n = json_object_is_type(arr, json_type_array) ? json_object_array_length(arr) : 0;
                for (size_t i = 0; i < (n ? n : 1); i++) {
                        json_object *b = n ? json_object_array_get_idx(arr, i) : NULL;
                        char *item = b ? xasprintf("%s:%s->%s", jstr(b, "HostIp"), jstr(b, "HostPort"), key)
                                       : xstrdup(key);
                        char *next = xasprintf("%s%s%s", s, *s ? ", " : "", item);
                        free(item);
                        free(s);
                        s = next;
                }
        }
        return s;
}

json_object *cli_container_json(const struct container *c)
{
        json_object *o = json_object_new_object(), *st = json_object_new_object(), *mounts = json_object_new_array();
        json_object *hm = jget(jget(c->config, "HostConfig"), "Mounts"), *h = jget(c->status, "health");
        const char *state = container_state(c);
        _cleanup_free_ char *name = xasprintf("/%s", c->name), *log = xasprintf("%s/ctr.log", c->dir);
        _cleanup_free_ char *path = xasprintf("%s/bundle/config.json", c->dir), *data = NULL;
        json_object *spec = NULL, *args;

        if (read_full_file_at(AT_FDCWD, path, 4 << 20, &data, NULL) >= 0)
                spec = json_tokener_parse(data);
        args = jget(jget(spec, "process"), "args");
        if (!json_object_is_type(args, json_type_array))
                args = jget(jget(c->config, "Config"), "Cmd");
        if (!json_object_is_type(args, json_type_array))
                args = NULL;
        json_object_object_add(o, "Id", jstring(c->id));
        json_object_object_add(o, "Created", jstring(c->created));
        json_object_object_add(o, "Path", jstring(args ? json_object_get_string(json_object_array_get_idx(args, 0))
                                                       : ""));
        {
                json_object *rest = json_object_new_array();
                for (size_t i = 1; args && i < json_object_array_length(args); i++)
                        json_object_array_add(rest, json_object_get(json_object_array_get_idx(args, i)));
                json_object_object_add(o, "Args", rest);
        }
        json_object_object_add(st, "Status", jstring(state));
        json_object_object_add(st, "Running", json_object_new_boolean(container_running(c)));
        json_object_object_add(st, "Paused", json_object_new_boolean(strcmp(state, "paused") == 0));
        json_object_object_add(st, "Restarting", json_object_new_boolean(strcmp(state, "restarting") == 0));
        json_object_object_add(st, "OOMKilled", json_object_new_boolean(json_object_get_boolean(jget(c->status,
                                                                                                    "oom_killed"))));
        json_object_object_add(st, "Dead", json_object_new_boolean(false));
        json_object_object_add(st, "Pid", json_object_new_int(container_pid(c)));
        json_object_object_add(st, "ExitCode", json_object_new_int(container_exit_code(c)));
        json_object_object_add(st, "Error", jstring(jstr(c->status, "error")));
        json_object_object_add(st, "StartedAt", jstring(jstr(c->status, "started_at")));
        json_object_object_add(st, "FinishedAt", jstring(jstr(c->status, "finished_at")));
        if (h) {
                json_object *hh = json_object_new_object(), *logv = json_object_new_array(), *l = jget(h, "log");
                json_object_object_add(hh, "Status", jstring(jstr(h, "status")));
                json_object_object_add(hh, "FailingStreak", json_object_new_int(json_object_get_int(jget(h,
                                                                                                      "failing_streak"))));
                for (size_t i = 0; json_object_is_type(l, json_type_array) && i < json_object_array_length(l); i++) {
                        json_object *x = json_object_array_get_idx(l, i), *y = json_object_new_object();
                        json_object_object_add(y, "Start", jstring(jstr(x, "start")));
                        json_object_object_add(y, "End", jstring(jstr(x, "end")));
                        json_object_object_add(y, "ExitCode", json_object_new_int(json_object_get_int(jget(x,
                                                                                                         "exit_code"))));
                        json_object_object_add(y, "Output", jstring(jstr(x, "output")));
                        json_object_array_add(logv, y);
                }
                json_object_object_add(hh, "Log", logv);
                json_object_object_add(st, "Health", hh);
        }
        json_object_object_add(o, "State", st);
        json_object_object_add(o, "Image", jstring(c->image_id));
        json_object_object_add(o, "ImageName", jstring(c->image));
        json_object_object_add(o, "Name", jstring(name));
        json_object_object_add(o, "RestartCount", json_object_new_int(json_object_get_int(jget(c->status,
                                                                                              "restart_count"))));
        json_object_object_add(o, "Driver", jstring("overlay"));
        json_object_object_add(o, "LogPath", jstring(log));
        json_object_object_add(o, "Runtime", jstring(c->runtime));
        for (size_t i = 0; json_object_is_type(hm, json_type_array) && i < json_object_array_length(hm); i++) {
                json_object *m = json_object_array_get_idx(hm, i), *x = json_object_new_object();
                const char *type = jstr(m, "Type");
                _cleanup_free_ char *src = strcmp(type, "volume") == 0
                                                   ? xasprintf("%s/volumes/%s/_data", arg.root, jstr(m, "Source"))
                                                   : xstrdup(jstr(m, "Source"));
                json_object_object_add(x, "Type", jstring(type));
                if (strcmp(type, "volume") == 0)
                        json_object_object_add(x, "Name", jstring(jstr(m, "Source")));
                json_object_object_add(x, "Source", jstring(src));
                json_object_object_add(x, "Destination", jstring(jstr(m, "Target")));
                json_object_object_add(x, "RW", json_object_new_boolean(!json_object_get_boolean(jget(m,
                                                                                                     "ReadOnly"))));
                json_object_array_add(mounts, x);
        }
        json_object_object_add(o, "Mounts", mounts);
        json_object_object_add(o, "Config", json_object_get(jget(c->config, "Config")));
        json_object_object_add(o, "HostConfig", json_object_get(jget(c->config, "HostConfig")));
        json_object_object_add(o, "NetworkSettings", network_settings(c));
        json_object_put(spec);
        return o;
}

/* ---- ps -------------------------------------------------------------- */

static bool label_matches(const struct container *c, const char *want)
{
        json_object *labels = jget(jget(c->config, "Config"), "Labels");
        const char *eq = strchr(want, '=');
        _cleanup_free_ char *k = eq ? xstrndup(want, (size_t) (eq - want)) : xstrdup(want);
        json_object *v = jget(labels, k);

        return v && (!eq || strcmp(json_object_get_string(v), eq + 1) == 0);
}

static bool filter_matches(const struct container *c, char **filters)
{
        for (char **f = filters; f && *f; f++) {
                const char *eq = strchr(*f, '='), *v = eq ? eq + 1 : "";
                size_t kl = eq ? (size_t) (eq - *f) : strlen(*f);
                bool ok;

                if (kl == 6 && strncmp(*f, "status", 6) == 0)
                        ok = strcmp(container_state(c), v) == 0;
                else if (kl == 4 && strncmp(*f, "name", 4) == 0)
                        ok = strstr(c->name, v) != NULL;
                else if (kl == 2 && strncmp(*f, "id", 2) == 0)
                        ok = strncmp(c->id, v, strlen(v)) == 0;
                else if (kl == 5 && strncmp(*f, "label", 5) == 0)
                        ok = label_matches(c, v);
                else if (kl == 8 && strncmp(*f, "ancestor", 8) == 0)
                        ok = strcmp(c->image, v) == 0 || strncmp(c->image_id + 7, v, strlen(v)) == 0 ||
                             strcmp(c->image_id, v) == 0;
                else if (kl == 6 && strncmp(*f, "exited", 6) == 0)
                        ok = strcmp(container_state(c), "exited") == 0 && container_exit_code(c) == atoi(v);
                else if (kl == 6 && strncmp(*f, "health", 6) == 0)
                        ok = health_status(c) && strcmp(health_status(c), v) == 0;
                else
                        ok = false;
                if (!ok)
                        return false;
        }
        return true;
}

static bool known_filter(const char *f)
{
        static const char *const keys[] = { "status=", "name=", "id=", "label=", "ancestor=", "exited=", "health=" };

        for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
                if (strncmp(f, keys[i], strlen(keys[i])) == 0)
                        return true;
        return false;
}

static void ps_row(struct cli_table *t, const struct container *c, bool json, bool no_trunc)
{
        _cleanup_free_ char *cmd = cli_command(c), *status = cli_status_text(c), *dur = since(c->created);
        _cleanup_free_ char *ago = xasprintf("%s ago", dur);
        _cleanup_free_ char *qcmd = NULL;

        if (json) {
                json_object *o = json_object_new_object();
                json_object_object_add(o, "ID", json_object_new_string(c->id));
                json_object_object_add(o, "Image", json_object_new_string(c->image));
                json_object_object_add(o, "Command", json_object_new_string(cmd));
                json_object_object_add(o, "CreatedAt", json_object_new_string(c->created));
                json_object_object_add(o, "RunningFor", json_object_new_string(ago));
                json_object_object_add(o, "State", json_object_new_string(container_state(c)));
                json_object_object_add(o, "Status", json_object_new_string(status));
                {
                        _cleanup_free_ char *ports = ports_text(c);
                        json_object_object_add(o, "Ports", json_object_new_string(ports));
                }
                json_object_object_add(o, "Names", json_object_new_string(c->name));
                json_object_object_add(o, "ExitCode", json_object_new_int(container_exit_code(c)));
                json_object_object_add(o, "Pid", json_object_new_int(container_pid(c)));
                json_object_object_add(o, "Labels", json_object_get(jget(jget(c->config, "Config"), "Labels")));
                printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
                                                                         JSON_C_TO_STRING_NOSLASHESCAPE));
                json_object_put(o);
                return;
        }
        if (!no_trunc && strlen(cmd) > 20)
                qcmd = xasprintf("\"%.19s…\"", cmd);
        else
                qcmd = xasprintf("\"%s\"", cmd);
        {
                _cleanup_free_ char *id = xstrndup(c->id, no_trunc ? 64 : 12), *ports = ports_text(c);
                cli_table_add(t, id, c->image, qcmd, ago, status, ports, c->name);
        }
}

int cmd_ps(int argc, char **argv)
{
        static const struct option opts[] = {
                { "all", no_argument, NULL, 'a' },       { "quiet", no_argument, NULL, 'q' },
                { "filter", required_argument, NULL, 'f' }, { "format", required_argument, NULL, 'F' },
                { "no-trunc", no_argument, NULL, 'T' },  { "latest", no_argument, NULL, 'l' },
                { "last", required_argument, NULL, 'n' }, {},
        };
        _cleanup_strv_free_ char **filters = NULL;
        struct error err = ERROR_INIT;
        struct container *v = NULL;
        struct engine *e = NULL;
        bool all = false, quiet = false, json = false, no_trunc = false;
        struct cli_table t = { .cols = 7 };
        long last = -1;
        size_t n = 0;
        int c;

        while ((c = getopt_long(argc, argv, "aqf:ln:", opts, NULL)) >= 0) {
                switch (c) {
                case 'a': all = true; break;
                case 'q': quiet = true; break;
                case 'f':
                        if (!known_filter(optarg))
                                return cli_usage("ps: invalid filter `%s` (status, name, id, label, ancestor, "
                                                 "exited, health)", optarg);
                        strv_push(&filters, xstrdup(optarg));
                        break;
                case 'F':
                        if (strcmp(optarg, "json") == 0 || strcmp(optarg, "{{json .}}") == 0)
                                json = true;
                        else if (strcmp(optarg, "table") != 0)
                                return cli_usage("ps: --format: only json and table are supported");
                        break;
                case 'T': no_trunc = true; break;
                case 'l': all = true; last = 1; break;
                case 'n': all = true; last = atol(optarg); break;
                default: return 1;
                }
        }
        if (optind != argc)
                return cli_usage("ps: unexpected argument `%s`", argv[optind]);
        if (cli_engine(&e))
                return 1;
        if (engine_list(e, &v, &n, &err) < 0) {
                engine_close(e);
                return cli_fail(&err);
        }
        if (!quiet && !json)
                cli_table_add(&t, "CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES");
        for (size_t i = 0, shown = 0; i < n; i++) {
                if (!all && !container_running(&v[i]))
                        continue;
                if (!filter_matches(&v[i], filters))
                        continue;
                if (last >= 0 && (long) shown >= last)
                        break;
                shown++;
                if (quiet)
                        printf("%.*s\n", no_trunc ? 64 : 12, v[i].id);
                else
                        ps_row(&t, &v[i], json, no_trunc);
        }
        cli_table_print(&t);
        containers_free(v, n);
        engine_close(e);
        return 0;
}

/* ---- commands over named containers ------------------------------------ */

/* Run FN on every container named in ARGV[FIRST..]; prints what each
 * succeeded on (Docker prints the name as given); 1 when any failed. */
static int each(int argc, char **argv, int first, bool print,
                int (*fn)(struct engine *, struct container *, void *, struct error *), void *userdata)
{
        struct engine *e = NULL;
        int failed = 0;

        if (first >= argc)
                return cli_usage("%s: requires at least 1 container", argv[0]);
        if (cli_engine(&e))
                return 1;
        for (int i = first; i < argc; i++) {
                struct error err = ERROR_INIT;
                struct container c = {};
                if (engine_lookup(e, argv[i], &c, &err) >= 0 && fn(e, &c, userdata, &err) >= 0) {
                        if (print)
                                printf("%s\n", argv[i]);
                } else
                        failed = cli_fail(&err);
                container_clear(&c);
        }
        engine_close(e);
        return failed;
}

static int do_start(struct engine *e, struct container *c, void *u, struct error *err)
{
        (void) u;
        return engine_start(e, c, NULL, err);
}

int cmd_start(int argc, char **argv)
{
        static const struct option opts[] = {
                { "attach", no_argument, NULL, 'a' }, { "interactive", no_argument, NULL, 'i' }, {},
        };
        bool attach = false, in = false;
        int c;

        while ((c = getopt_long(argc, argv, "ai", opts, NULL)) >= 0) {
                if (c == 'a')
                        attach = true;
                else if (c == 'i')
                        in = true;
                else
                        return 1;
        }
        if (attach) {
                struct error err = ERROR_INIT;
                struct container ct = {};
                struct engine *e = NULL;
                json_object *tty;
                int fd = -1, r;
                if (optind + 1 != argc)
                        return cli_usage("start: --attach takes one container");
                if (cli_engine(&e))
                        return 1;
                if (engine_lookup(e, argv[optind], &ct, &err) < 0 || engine_start(e, &ct, &fd, &err) < 0) {
                        r = cli_fail(&err);
                } else {
                        tty = jget(jget(ct.config, "Config"), "Tty");
                        r = cli_attach(&ct, fd, in, json_object_get_boolean(tty));
                        close(fd);
                }
                container_clear(&ct);
                engine_close(e);
                return r;
        }
        return each(argc, argv, optind, true, do_start, NULL);
}

struct stop_args {
        int signal, timeout;
};

static int do_stop(struct engine *e, struct container *c, void *u, struct error *err)
{
        struct stop_args *a = u;

        return engine_stop(e, c, a->signal, a->timeout, err);
}

static int parse_stop(int argc, char **argv, struct stop_args *a)
{
        static const struct option opts[] = {
                { "time", required_argument, NULL, 't' }, { "timeout", required_argument, NULL, 't' },
                { "signal", required_argument, NULL, 's' }, {},
        };
        struct error err = ERROR_INIT;
        int64_t n;
        int c;

        *a = (struct stop_args) { .signal = 0, .timeout = -1 };
        while ((c = getopt_long(argc, argv, "t:s:", opts, NULL)) >= 0) {
                if (c == 't') {
                        if (parse_int64(optarg, &n) < 0 || n < -1)
                                return cli_usage("invalid argument \"%s\" for \"-t, --time\" flag: expected seconds",
                                                 optarg);
                        a->timeout = (int) n;
                } else if (c == 's') {
                        if (parse_signal("-s, --signal", optarg, &a->signal, &err) < 0)
                                return cli_fail(&err);
                } else
                        return 1;
        }
        return 0;
}

int cmd_stop(int argc, char **argv)
{
        struct stop_args a;

        if (parse_stop(argc, argv, &a))
                return 1;
        return each(argc, argv, optind, true, do_stop, &a);
}

static int do_restart(struct engine *e, struct container *c, void *u, struct error *err)
{
        int r = do_stop(e, c, u, err);

        return r < 0 ? r : engine_start(e, c, NULL, err);
}

int cmd_restart(int argc, char **argv)
{
        struct stop_args a;

        if (parse_stop(argc, argv, &a))
                return 1;
        return each(argc, argv, optind, true, do_restart, &a);
}

static int do_kill(struct engine *e, struct container *c, void *u, struct error *err)
{
        return engine_kill(e, c, *(int *) u, err);
}

int cmd_kill(int argc, char **argv)
{
        static const struct option opts[] = { { "signal", required_argument, NULL, 's' }, {} };
        struct error err = ERROR_INIT;
        int sig = SIGKILL, c;

        while ((c = getopt_long(argc, argv, "s:", opts, NULL)) >= 0) {
                if (c != 's')
                        return 1;
                if (parse_signal("-s, --signal", optarg, &sig, &err) < 0)
                        return cli_fail(&err);
        }
        return each(argc, argv, optind, true, do_kill, &sig);
}

struct rm_args {
        bool force, volumes;
};

static int do_rm(struct engine *e, struct container *c, void *u, struct error *err)
{
        struct rm_args *a = u;

        return engine_remove(e, c, a->force, a->volumes, err);
}

int cmd_rm(int argc, char **argv)
{
        static const struct option opts[] = {
                { "force", no_argument, NULL, 'f' }, { "volumes", no_argument, NULL, 'v' }, {},
        };
        struct rm_args a = {};
        int c;

        while ((c = getopt_long(argc, argv, "fv", opts, NULL)) >= 0) {
                if (c == 'f')
                        a.force = true;
                else if (c == 'v')
                        a.volumes = true;
                else
                        return 1;
        }
        return each(argc, argv, optind, true, do_rm, &a);
}

static int do_pause(struct engine *e, struct container *c, void *u, struct error *err)
{
        return engine_pause(e, c, *(bool *) u, err);
}

int cmd_pause(int argc, char **argv)
{
        bool p = strcmp(argv[0], "pause") == 0;

        return each(argc, argv, 1, true, do_pause, &p);
}

static int do_wait(struct engine *e, struct container *c, void *u, struct error *err)
{
        int code, r = engine_wait(e, c, &code, err);

        if (r >= 0)
                printf("%d\n", code);
        (void) u;
        return r;
}

int cmd_wait(int argc, char **argv)
{
        return each(argc, argv, 1, false, do_wait, NULL);
}

int cmd_rename(int argc, char **argv)
{
        struct error err = ERROR_INIT;
        struct container c = {};
        struct engine *e = NULL;
        int r = 0;

        if (argc != 3)
                return cli_usage("rename: usage: berth rename CONTAINER NEW_NAME");
        if (cli_engine(&e))
                return 1;
        if (engine_lookup(e, argv[1], &c, &err) < 0 || engine_rename(e, &c, argv[2], &err) < 0)
                r = cli_fail(&err);
        container_clear(&c);
        engine_close(e);
        return r;
}

int cmd_container_prune(int argc, char **argv)
{
        struct error err = ERROR_INIT;
        struct container *v = NULL;
        struct engine *e = NULL;
        size_t n = 0;
        int failed = 0;

        (void) argc;
        (void) argv;
        if (cli_engine(&e))
                return 1;
        if (engine_list(e, &v, &n, &err) < 0) {
                engine_close(e);
                return cli_fail(&err);
        }
        printf("Deleted Containers:\n");
        for (size_t i = 0; i < n; i++) {
                if (container_running(&v[i]) || strcmp(container_state(&v[i]), "created") == 0)
                        continue;
                if (engine_remove(e, &v[i], false, false, &err) < 0)
                        failed = cli_fail(&err);
                else
                        printf("%s\n", v[i].id);
        }
        containers_free(v, n);
        engine_close(e);
        return failed;
}

int cmd_cleanup(int argc, char **argv)
{
        struct error err = ERROR_INIT;
        struct engine *e = NULL;
        int r = 0;

        if (argc != 2)
                return cli_usage("container cleanup: usage: berth container cleanup ID");
        /* run by a monitor after its container's last exit: a container (or
         * a data root) removed meanwhile has nothing left to clean, and no
         * store is opened (which would make a removed data root again) */
        {
                _cleanup_free_ char *dir = xasprintf("%s/containers/%s", arg.root, argv[1]);
                if (strchr(argv[1], '/') || (access(dir, F_OK) < 0 && errno == ENOENT))
                        return 0; /* removed already (by rm, or run --rm's CLI) */
        }
        if (cli_engine(&e))
                return 1;
        if (engine_cleanup(e, argv[1], &err) < 0)
                r = cli_fail(&err);
        engine_close(e);
        return r;
}

/* inspect: containers (TYPE "container"), images ("image") or either. */
static int inspect(int argc, char **argv, const char *type)
{
        static const struct option opts[] = {
                { "format", required_argument, NULL, 'f' }, { "type", required_argument, NULL, 'T' }, {},
        };
        json_object *all = json_object_new_array();
        const char *format = NULL;
        struct engine *e = NULL;
        int failed = 0, c;

        while ((c = getopt_long(argc, argv, "f:", opts, NULL)) >= 0) {
                if (c == 'f')
                        format = optarg;
                else if (c == 'T' && !type && (strcmp(optarg, "container") == 0 || strcmp(optarg, "image") == 0))
                        type = optarg;
                else {
                        json_object_put(all);
                        return c == 'T' ? cli_usage("inspect: --type: container or image") : 1;
                }
        }
        if (optind >= argc) {
                json_object_put(all);
                return cli_usage("inspect: requires at least 1 argument");
        }
        if (cli_engine(&e)) {
                json_object_put(all);
                return 1;
        }
        for (int i = optind; i < argc; i++) {
                struct error err = ERROR_INIT;
                struct container ct = {};
                json_object *o = NULL;
                if (!type || strcmp(type, "container") == 0) {
                        if (engine_lookup(e, argv[i], &ct, &err) >= 0)
                                o = cli_container_json(&ct);
                        container_clear(&ct);
                }
                if (!o && (!type || strcmp(type, "image") == 0) && (!err.code || err.code == ENOENT)) {
                        error_clear(&err);
                        o = cli_image_json(engine_store(e), argv[i], &err);
                        if (!o && !type && err.code == ENOENT) {
                                error_clear(&err);
                                error_setx(&err, ENOENT, "no such object: %s", argv[i]);
                        }
                }
                if (!o)
                        failed = cli_fail(&err);
                else if (format)
                        failed |= cli_format(o, format);
                if (o && format)
                        json_object_put(o);
                else if (o)
                        json_object_array_add(all, o);
        }
        if (!format)
                printf("%s\n", json_object_to_json_string_ext(all, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
                                                                           JSON_C_TO_STRING_NOSLASHESCAPE));
        json_object_put(all);
        engine_close(e);
        return failed;
}

int cmd_container_inspect(int argc, char **argv)
{
        return inspect(argc, argv, "container");
}

int cmd_any_inspect(int argc, char **argv)
{
        return inspect(argc, argv, NULL);
}

int cmd_port(int argc, char **argv)
{
        struct error err = ERROR_INIT;
        struct container c = {};
        struct engine *e = NULL;
        int r = 0;

        if (argc < 2 || argc > 3)
                return cli_usage("port: usage: berth port CONTAINER [PRIVATE_PORT[/PROTO]]");
        if (cli_engine(&e))
                return 1;
        if (engine_lookup(e, argv[1], &c, &err) < 0)
                r = cli_fail(&err);
        else {
                json_object *ports = jget(c.network, "Ports");
                _cleanup_free_ char *want = argc == 3 ? xasprintf("%s%s", argv[2], strchr(argv[2], '/') ? "" : "/tcp")
                                                      : NULL;
                bool found = false;
                if (json_object_is_type(ports, json_type_object)) {
                        json_object_object_foreach(ports, key, arr) {
                                if (want && strcmp(key, want) != 0)
                                        continue;
                                for (size_t i = 0; json_object_is_type(arr, json_type_array) &&
                                                   i < json_object_array_length(arr); i++) {
                                        json_object *b = json_object_array_get_idx(arr, i);
                                        found = true;
                                        if (want)
                                                printf("%s:%s\n", jstr(b, "HostIp"), jstr(b, "HostPort"));
                                        else
                                                printf("%s -> %s:%s\n", key, jstr(b, "HostIp"), jstr(b, "HostPort"));
                                }
                        }
                }
                if (want && !found)
                        r = cli_usage("no public port '%s' published for %s", want, c.name);
        }
        container_clear(&c);
        engine_close(e);
        return r;
}

/* ---- logs, attach ------------------------------------------------------ */

static int parse_since(const char *flag, const char *s, int64_t *ret)
{
        struct error err = ERROR_INIT;
        int64_t d, n;
        time_t t;

        if (parse_int64(s, &n) >= 0) {
                *ret = n * 1000000000;
                return 0;
        }
        t = parse_time(s);
        if (t != (time_t) -1) {
                /* RFC 3339 to the nanosecond, as the log lines carry it */
                const char *frac = strchr(s, '.');
                int64_t ns = 0, scale = 100000000;
                for (const char *p = frac ? frac + 1 : ""; *p >= '0' && *p <= '9' && scale; p++, scale /= 10)
                        ns += (*p - '0') * scale;
                *ret = (int64_t) t * 1000000000 + ns;
                return 0;
        }
        if (parse_duration(flag, s, &d, &err) < 0)
                return cli_fail(&err);
        {
                /* to the nanosecond: whole seconds would move the cut by up to one */
                struct timespec now;
                clock_gettime(CLOCK_REALTIME, &now);
                *ret = (int64_t) now.tv_sec * 1000000000 + now.tv_nsec - d;
        }
        return 0;
}

int cmd_logs(int argc, char **argv)
{
        static const struct option opts[] = {
                { "follow", no_argument, NULL, 'f' },    { "timestamps", no_argument, NULL, 't' },
                { "tail", required_argument, NULL, 'n' }, { "since", required_argument, NULL, 'S' },
                { "until", required_argument, NULL, 'U' }, {},
        };
        struct logs_opts o = { .tail = -1 };
        struct error err = ERROR_INIT;
        struct container ct = {};
        struct engine *e = NULL;
        int c, r = 0;

        while ((c = getopt_long(argc, argv, "ftn:", opts, NULL)) >= 0) {
                switch (c) {
                case 'f': o.follow = true; break;
                case 't': o.timestamps = true; break;
                case 'n':
                        if (strcmp(optarg, "all") == 0)
                                o.tail = -1;
                        else if (parse_int64(optarg, &o.tail) < 0 || o.tail < 0)
                                return cli_usage("invalid argument \"%s\" for \"-n, --tail\" flag", optarg);
                        break;
                case 'S':
                        if (parse_since("--since", optarg, &o.since_ns))
                                return 1;
                        break;
                case 'U':
                        if (parse_since("--until", optarg, &o.until_ns))
                                return 1;
                        break;
                default: return 1;
                }
        }
        if (optind + 1 != argc)
                return cli_usage("logs: requires exactly 1 container");
        if (cli_engine(&e))
                return 1;
        if (engine_lookup(e, argv[optind], &ct, &err) < 0 || engine_logs(e, &ct, &o, 1, 2, &err) < 0)
                r = cli_fail(&err);
        container_clear(&ct);
        engine_close(e);
        return r;
}

int cmd_attach(int argc, char **argv)
{
        static const struct option opts[] = { { "no-stdin", no_argument, NULL, 'N' }, {} };
        struct error err = ERROR_INIT;
        struct container ct = {};
        struct engine *e = NULL;
        bool no_stdin = false;
        int c, fd, r;

        while ((c = getopt_long(argc, argv, "", opts, NULL)) >= 0) {
                if (c != 'N')
                        return 1;
                no_stdin = true;
        }
        if (optind + 1 != argc)
                return cli_usage("attach: requires exactly 1 container");
        if (cli_engine(&e))
                return 1;
        if (engine_lookup(e, argv[optind], &ct, &err) < 0 || (fd = engine_connect(e, &ct, &err)) < 0) {
                r = cli_fail(&err);
        } else {
                json_object *cfg = jget(ct.config, "Config");
                bool in = !no_stdin && json_object_get_boolean(jget(cfg, "OpenStdin"));
                r = cli_attach(&ct, fd, in, json_object_get_boolean(jget(cfg, "Tty")));
                close(fd);
        }
        container_clear(&ct);
        engine_close(e);
        return r;
}
