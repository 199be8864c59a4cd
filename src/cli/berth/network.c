/* SPDX-License-Identifier: GPL-2.0-or-later */
/* berth network create|ls|rm|inspect|connect|disconnect|prune: Docker's
 * verbs, flags and output over the engine's networks (engine.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "engine/engine.h"

static json_object *jget(json_object *o, const char *key)
{
        json_object *v = NULL;

        return o && json_object_object_get_ex(o, key, &v) ? v : NULL;
}

static void json_putp(json_object **o)
{
        json_object_put(*o);
}

static void add_str(json_object *o, const char *k, const char *v)
{
        json_object_object_add(o, k, json_object_new_string(v ? v : ""));
}

static json_object *ipam_config(const char *subnet, const char *gateway, const char *range)
{
        json_object *c = json_object_new_object();

        add_str(c, "Subnet", subnet);
        add_str(c, "Gateway", gateway);
        if (range && *range)
                add_str(c, "IPRange", range);
        return c;
}

/* The containers on N, with their addresses while they run. */
static json_object *containers_json(struct engine *e, const struct network *n)
{
        json_object *all = json_object_new_object();

        for (char **id = n->containers; id && *id; id++) {
                struct error err = ERROR_INIT;
                struct container c = {};
                json_object *o, *ep;
                const char *ip, *ip6;

                if (engine_lookup(e, *id, &c, &err) < 0) {
                        error_clear(&err);
                        continue;
                }
                ep = jget(jget(c.network, "Networks"), n->name);
                o = json_object_new_object();
                add_str(o, "Name", c.name);
                add_str(o, "EndpointID", "");
                add_str(o, "MacAddress", json_object_get_string(jget(ep, "MacAddress")));
                ip = json_object_get_string(jget(ep, "IPAddress"));
                ip6 = json_object_get_string(jget(ep, "GlobalIPv6Address"));
                if (ip && *ip) {
                        char *s = xasprintf("%s/%d", ip, json_object_get_int(jget(ep, "IPPrefixLen")));
                        add_str(o, "IPv4Address", s);
                        free(s);
                } else
                        add_str(o, "IPv4Address", "");
                if (ip6 && *ip6) {
                        char *s = xasprintf("%s/%d", ip6, json_object_get_int(jget(ep, "GlobalIPv6PrefixLen")));
                        add_str(o, "IPv6Address", s);
                        free(s);
                } else
                        add_str(o, "IPv6Address", "");
                json_object_object_add(all, c.id, o);
                container_clear(&c);
        }
        return all;
}

static json_object *network_json(struct engine *e, const struct network *n)
{
        json_object *o = json_object_new_object(), *ipam = json_object_new_object(), *cfg = json_object_new_array();
        json_object *opts = json_object_new_object(), *from = json_object_new_object();
        bool bridge = strcmp(n->driver, "bridge") == 0;

        add_str(o, "Name", n->name);
        add_str(o, "Id", n->id);
        add_str(o, "Created", n->created);
        add_str(o, "Scope", "local");
        add_str(o, "Driver", n->driver);
        json_object_object_add(o, "EnableIPv6", json_object_new_boolean(*n->subnet6));
        add_str(ipam, "Driver", "default");
        json_object_object_add(ipam, "Options", json_object_new_object());
        if (bridge)
                json_object_array_add(cfg, ipam_config(n->subnet, n->gateway, n->ip_range));
        if (*n->subnet6)
                json_object_array_add(cfg, ipam_config(n->subnet6, n->gateway6, NULL));
        json_object_object_add(ipam, "Config", cfg);
        json_object_object_add(o, "IPAM", ipam);
        json_object_object_add(o, "Internal", json_object_new_boolean(n->internal));
        json_object_object_add(o, "Attachable", json_object_new_boolean(false));
        json_object_object_add(o, "Ingress", json_object_new_boolean(false));
        add_str(from, "Network", "");
        json_object_object_add(o, "ConfigFrom", from);
        json_object_object_add(o, "ConfigOnly", json_object_new_boolean(false));
        json_object_object_add(o, "Containers", containers_json(e, n));
        if (bridge)
                add_str(opts, "com.docker.network.bridge.name", n->bridge);
        if (n->mtu) {
                char mtu[16];
                snprintf(mtu, sizeof(mtu), "%u", n->mtu);
                add_str(opts, "com.docker.network.driver.mtu", mtu);
        }
        json_object_object_add(o, "Options", opts);
        json_object_object_add(o, "Labels", json_object_get(n->labels));
        return o;
}

static int add_label(json_object *labels, const char *v)
{
        const char *eq = strchr(v, '=');
        _cleanup_free_ char *k = eq ? xstrndup(v, (size_t) (eq - v)) : xstrdup(v);

        if (!*k)
                return cli_usage("invalid argument \"%s\" for \"--label\" flag: no key", v);
        json_object_object_add(labels, k, json_object_new_string(eq ? eq + 1 : ""));
        return 0;
}

static bool is_v6(const char *s)
{
        return strchr(s, ':') != NULL;
}

static int network_create_cmd(int argc, char **argv, struct engine *e)
{
        static const struct option opts[] = {
                { "driver", required_argument, NULL, 'd' },  { "subnet", required_argument, NULL, 'S' },
                { "gateway", required_argument, NULL, 'G' }, { "ip-range", required_argument, NULL, 'R' },
                { "ipv6", no_argument, NULL, '6' },          { "internal", no_argument, NULL, 'I' },
                { "label", required_argument, NULL, 'l' },   { "opt", required_argument, NULL, 'o' },
                {},
        };
        _cleanup_(json_putp) json_object *labels = json_object_new_object();
        struct network_opts o = {};
        struct network n = {};
        struct error err = ERROR_INIT;
        int c, r;

        while ((c = getopt_long(argc, argv, "d:o:l:", opts, NULL)) >= 0) {
                switch (c) {
                case 'd':
                        if (strcmp(optarg, "bridge") != 0)
                                return cli_usage("network create: --driver: only bridge is supported, not \"%s\"",
                                                 optarg);
                        break;
                case 'S':
                case 'G': {
                        const char **v4 = c == 'S' ? &o.subnet : &o.gateway, **v6 = c == 'S' ? &o.subnet6 : &o.gateway6;
                        const char **slot = is_v6(optarg) ? v6 : v4;
                        if (*slot)
                                return cli_usage("network create: %s: one IPv4 and one IPv6 at most",
                                                 c == 'S' ? "--subnet" : "--gateway");
                        *slot = optarg;
                        break;
                }
                case 'R': o.ip_range = optarg; break;
                case '6': o.ipv6 = true; break;
                case 'I': o.internal = true; break;
                case 'l':
                        if (add_label(labels, optarg))
                                return 1;
                        break;
                case 'o': {
                        const char *eq = strchr(optarg, '=');
                        char *end;
                        long v;
                        if (!eq || (strncmp(optarg, "mtu=", 4) != 0 &&
                                    strncmp(optarg, "com.docker.network.driver.mtu=", 30) != 0))
                                return cli_usage("network create: -o: unknown option \"%s\" (mtu=N)", optarg);
                        v = strtol(eq + 1, &end, 10);
                        if (!eq[1] || *end || v < 68 || v > 65535)
                                return cli_usage("network create: -o %s: the MTU must be 68 to 65535", optarg);
                        o.mtu = (unsigned) v;
                        break;
                }
                default: return 1;
                }
        }
        if (optind + 1 != argc)
                return cli_usage("network create: requires exactly 1 argument (NAME)");
        if (o.subnet6)
                o.ipv6 = true;
        if (o.gateway && !o.subnet)
                return cli_usage("network create: --gateway %s needs a --subnet", o.gateway);
        o.labels = labels;
        r = network_create(e, argv[optind], &o, &n, &err);
        if (r < 0)
                return cli_fail(&err);
        printf("%s\n", n.id);
        network_clear(&n);
        return 0;
}

/* --filter KEY=VALUE against N. */
static bool filter_match(const struct network *n, char **filters)
{
        for (char **f = filters; f && *f; f++) {
                const char *eq = strchr(*f, '='), *v = eq ? eq + 1 : "";
                size_t k = eq ? (size_t) (eq - *f) : strlen(*f);
                bool ok;

                if (strncmp(*f, "name", k) == 0 && k == 4)
                        ok = strstr(n->name, v) != NULL;
                else if (strncmp(*f, "id", k) == 0 && k == 2)
                        ok = strncmp(n->id, v, strlen(v)) == 0;
                else if (strncmp(*f, "driver", k) == 0 && k == 6)
                        ok = strcmp(n->driver, v) == 0;
                else if (strncmp(*f, "label", k) == 0 && k == 5) {
                        const char *eq2 = strchr(v, '=');
                        _cleanup_free_ char *key = eq2 ? xstrndup(v, (size_t) (eq2 - v)) : xstrdup(v);
                        json_object *lv = jget(n->labels, key);
                        ok = lv && (!eq2 || strcmp(json_object_get_string(lv), eq2 + 1) == 0);
                } else
                        ok = false;
                if (!ok)
                        return false;
        }
        return true;
}

static int network_ls_cmd(int argc, char **argv, struct engine *e)
{
        static const struct option opts[] = {
                { "quiet", no_argument, NULL, 'q' },          { "no-trunc", no_argument, NULL, 'T' },
                { "filter", required_argument, NULL, 'f' },   { "format", required_argument, NULL, 'F' },
                {},
        };
        _cleanup_strv_free_ char **filters = NULL;
        struct error err = ERROR_INIT;
        struct network *v = NULL;
        struct cli_table t = { .cols = 4 };
        bool quiet = false, trunc = true;
        const char *format = NULL;
        size_t n = 0;
        int c, r = 0;

        while ((c = getopt_long(argc, argv, "qf:", opts, NULL)) >= 0) {
                switch (c) {
                case 'q': quiet = true; break;
                case 'T': trunc = false; break;
                case 'f':
                        if (!strchr(optarg, '='))
                                return cli_usage("network ls: --filter %s: expected KEY=VALUE", optarg);
                        strv_push(&filters, xstrdup(optarg));
                        break;
                case 'F': format = optarg; break;
                default: return 1;
                }
        }
        if (network_list(e, &v, &n, &err) < 0)
                return cli_fail(&err);
        if (!quiet && !format)
                cli_table_add(&t, "NETWORK ID", "NAME", "DRIVER", "SCOPE");
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *id = trunc ? xstrndup(v[i].id, 12) : xstrdup(v[i].id);
                if (!filter_match(&v[i], filters))
                        continue;
                if (quiet)
                        printf("%s\n", id);
                else if (format) {
                        json_object *o = network_json(e, &v[i]);
                        if (strcmp(format, "json") == 0 || strcmp(format, "{{json .}}") == 0)
                                printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
                                                                                      JSON_C_TO_STRING_NOSLASHESCAPE));
                        else if (cli_format(o, format) < 0)
                                r = 1;
                        json_object_put(o);
                } else
                        cli_table_add(&t, id, v[i].name, v[i].driver, "local");
        }
        if (!quiet && !format)
                cli_table_print(&t);
        networks_free(v, n);
        return r;
}

static int network_rm_cmd(int argc, char **argv, struct engine *e)
{
        static const struct option opts[] = { { "force", no_argument, NULL, 'f' }, {} };
        int c, failed = 0;

        while ((c = getopt_long(argc, argv, "f", opts, NULL)) >= 0)
                if (c != 'f')
                        return 1;
        if (optind >= argc)
                return cli_usage("network rm: requires at least 1 network");
        for (int i = optind; i < argc; i++) {
                struct error err = ERROR_INIT;
                if (network_remove(e, argv[i], &err) < 0)
                        failed = cli_fail(&err);
                else
                        printf("%s\n", argv[i]);
        }
        return failed;
}

static int network_inspect_cmd(int argc, char **argv, struct engine *e)
{
        static const struct option opts[] = { { "format", required_argument, NULL, 'f' }, {} };
        json_object *all = json_object_new_array();
        const char *format = NULL;
        int c, failed = 0;

        while ((c = getopt_long(argc, argv, "f:", opts, NULL)) >= 0) {
                if (c != 'f') {
                        json_object_put(all);
                        return 1;
                }
                format = optarg;
        }
        if (optind >= argc) {
                json_object_put(all);
                return cli_usage("network inspect: requires at least 1 network");
        }
        for (int i = optind; i < argc; i++) {
                struct error err = ERROR_INIT;
                struct network n = {};
                if (network_get(e, argv[i], &n, &err) < 0)
                        failed = cli_fail(&err);
                else
                        json_object_array_add(all, network_json(e, &n));
                network_clear(&n);
        }
        if (format) {
                for (size_t i = 0; i < json_object_array_length(all); i++)
                        if (cli_format(json_object_array_get_idx(all, i), format) < 0)
                                failed = 1;
        } else
                printf("%s\n", json_object_to_json_string_ext(all, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
                                                                           JSON_C_TO_STRING_NOSLASHESCAPE));
        json_object_put(all);
        return failed;
}

static int network_connect_cmd(int argc, char **argv, struct engine *e)
{
        static const struct option opts[] = {
                { "ip", required_argument, NULL, '4' },    { "ip6", required_argument, NULL, '6' },
                { "alias", required_argument, NULL, 'a' }, {},
        };
        _cleanup_strv_free_ char **aliases = NULL;
        struct endpoint_opts o = {};
        struct error err = ERROR_INIT;
        struct container c = {};
        int ch, r;

        while ((ch = getopt_long(argc, argv, "", opts, NULL)) >= 0) {
                unsigned char buf[16];
                switch (ch) {
                case '4':
                        if (inet_pton(AF_INET, optarg, buf) != 1)
                                return cli_usage("invalid argument \"%s\" for \"--ip\" flag: invalid IPv4 address",
                                                 optarg);
                        o.ip = optarg;
                        break;
                case '6':
                        if (inet_pton(AF_INET6, optarg, buf) != 1)
                                return cli_usage("invalid argument \"%s\" for \"--ip6\" flag: invalid IPv6 address",
                                                 optarg);
                        o.ip6 = optarg;
                        break;
                case 'a': strv_push(&aliases, xstrdup(optarg)); break;
                default: return 1;
                }
        }
        if (optind + 2 != argc)
                return cli_usage("network connect: requires exactly 2 arguments (NETWORK CONTAINER)");
        o.aliases = aliases;
        r = engine_lookup(e, argv[optind + 1], &c, &err);
        if (r >= 0)
                r = network_connect(e, &c, argv[optind], &o, &err);
        container_clear(&c);
        return r < 0 ? cli_fail(&err) : 0;
}

static int network_disconnect_cmd(int argc, char **argv, struct engine *e)
{
        static const struct option opts[] = { { "force", no_argument, NULL, 'f' }, {} };
        struct error err = ERROR_INIT;
        struct container c = {};
        int ch, r;

        while ((ch = getopt_long(argc, argv, "f", opts, NULL)) >= 0)
                if (ch != 'f')
                        return 1;
        if (optind + 2 != argc)
                return cli_usage("network disconnect: requires exactly 2 arguments (NETWORK CONTAINER)");
        r = engine_lookup(e, argv[optind + 1], &c, &err);
        if (r >= 0)
                r = network_disconnect(e, &c, argv[optind], &err);
        container_clear(&c);
        return r < 0 ? cli_fail(&err) : 0;
}

static int network_prune_cmd(int argc, char **argv, struct engine *e)
{
        static const struct option opts[] = { { "force", no_argument, NULL, 'f' }, {} };
        _cleanup_strv_free_ char **names = NULL;
        struct error err = ERROR_INIT;
        int c;

        while ((c = getopt_long(argc, argv, "f", opts, NULL)) >= 0)
                if (c != 'f')
                        return 1;
        if (network_prune(e, &names, &err) < 0)
                return cli_fail(&err);
        printf("Deleted Networks:\n");
        for (char **n = names; *n; n++)
                printf("%s\n", *n);
        return 0;
}

/* `berth network gc NETWORK_ID BRIDGE`, run detached by the engine when a
 * network's last container stopped: after a grace period, its bridge and
 * rules go unless a container uses it again.  A data root removed
 * meanwhile is not made again: the bridge goes without it. */
static int network_gc_cmd(int argc, char **argv)
{
        struct error err = ERROR_INIT;
        struct engine *e = NULL;
        int r;

        if (argc != 4)
                return cli_usage("network gc: usage: berth network gc NETWORK_ID BRIDGE");
        if (access(arg.root, F_OK) == 0 && cli_engine(&e))
                return 1;
        r = network_gc(e, argv[2], argv[3], true, &err);
        if (e)
                engine_close(e);
        return r < 0 ? cli_fail(&err) : 0;
}

int cmd_network(int argc, char **argv)
{
        static const struct cli_engine_verb verbs[] = {
                { "create", network_create_cmd },   { "ls", network_ls_cmd },
                { "list", network_ls_cmd },         { "rm", network_rm_cmd },
                { "remove", network_rm_cmd },       { "inspect", network_inspect_cmd },
                { "connect", network_connect_cmd }, { "disconnect", network_disconnect_cmd },
                { "prune", network_prune_cmd },
        };

        if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
                printf("usage: berth network COMMAND\n\n"
                       "  create [--subnet CIDR]... [--gateway IP]... [--ip-range CIDR] [--ipv6] [--internal]\n"
                       "         [--label K=V]... [-o mtu=N] NAME\n"
                       "  ls [-q] [--no-trunc] [--filter name=|id=|driver=|label=] [--format json|TEMPLATE]\n"
                       "  rm NETWORK...    inspect [-f TEMPLATE] NETWORK...\n"
                       "  connect [--ip IP] [--ip6 IP] [--alias NAME]... NETWORK CONTAINER\n"
                       "  disconnect NETWORK CONTAINER    prune (removes every unused user network)\n");
                return argc < 2 ? 1 : 0;
        }
        if (strcmp(argv[1], "gc") == 0)
                return network_gc_cmd(argc, argv);
        return cli_engine_verbs("network", verbs, sizeof(verbs) / sizeof(verbs[0]), argc, argv);
}
