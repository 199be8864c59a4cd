/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Networks and endpoints in the database (engine.h, "networks"): creating,
 * finding, removing networks, and each container's endpoints on them with
 * their addresses.  Every change runs in one IMMEDIATE transaction, so two
 * berth commands never hand out the same subnet or address; the UNIQUE
 * constraints of the tables say so once more.  The kernel side is
 * netattach.c. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "basic/timefmt.h"
#include "engine/engine-internal.h"
#include "engine/network-internal.h"
#include "engine/ocispec.h"

/* The pseudo networks' ids: fixed, so that they look the same on every call. */
#define HOST_NETWORK_ID "5b8c8e5bd0f4a6cbe6f04bd0cf0c5b09ad6a8e8c0a6f2ff6d0e7d4cfb56a3c21"
#define NONE_NETWORK_ID "9a1f0c23e9c6b1de43a2f8b8a1d0f9e7c36e2d5b4a79c8f01e3b6d2a5c7f9e04"

/* Where subnets come from when none is given: the default network's /16
 * and user networks' /24s, as Podman picks them; IPv6 /64s from a ULA. */
#define DEFAULT_POOL "10.88.0.0/13"
#define USER_POOL "10.89.0.0/16"
#define USER_POOL2 "10.90.0.0/15"
#define ULA_POOL "fd62:6572:7468::/48"

static const char *const network_columns = "id, name, bridge, subnet, gateway, ip_range, subnet6, gateway6, internal, "
                                           "mtu, labels, created";

void network_clear(struct network *n)
{
        free(n->id);
        free(n->name);
        free(n->driver);
        free(n->bridge);
        free(n->subnet);
        free(n->gateway);
        free(n->ip_range);
        free(n->subnet6);
        free(n->gateway6);
        json_object_put(n->labels);
        free(n->created);
        strv_free(n->containers);
        *n = (struct network){};
}

void networks_free(struct network *v, size_t n)
{
        for (size_t i = 0; i < n; i++)
                network_clear(&v[i]);
        free(v);
}

static bool network_name_valid(const char *name)
{
        size_t n = strlen(name);

        if (n < 1 || n > 64 || !strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", name[0]))
                return false;
        return strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123"
                            "456789_.-") == n;
}

static bool is_pseudo(const char *name)
{
        return strcmp(name, "host") == 0 || strcmp(name, "none") == 0;
}

static void pseudo_network(const char *name, struct network *ret)
{
        bool host = strcmp(name, "host") == 0;

        *ret = (struct network){
                .id = xstrdup(host ? HOST_NETWORK_ID : NONE_NETWORK_ID),
                .name = xstrdup(name),
                .driver = xstrdup(host ? "host" : "null"),
                .bridge = xstrdup(""),
                .subnet = xstrdup(""),
                .gateway = xstrdup(""),
                .ip_range = xstrdup(""),
                .subnet6 = xstrdup(""),
                .gateway6 = xstrdup(""),
                .labels = json_object_new_object(),
                .created = xstrdup("0001-01-01T00:00:00Z"),
                .containers = xzalloc(sizeof(char *)),
        };
}

static int load_network(sqlite3_stmt *st, void *row, void *userdata, struct error *err)
{
        struct engine *e = userdata;
        struct network *n = row;
        const char *labels = (const char *) sqlite3_column_text(st, 10);

        *n = (struct network){
                .id = store_sql_str(st, 0),
                .name = store_sql_str(st, 1),
                .driver = xstrdup("bridge"),
                .bridge = store_sql_str(st, 2),
                .subnet = store_sql_str(st, 3),
                .gateway = store_sql_str(st, 4),
                .ip_range = store_sql_str(st, 5),
                .subnet6 = store_sql_str(st, 6),
                .gateway6 = store_sql_str(st, 7),
                .internal = sqlite3_column_int(st, 8) != 0,
                .mtu = (unsigned) sqlite3_column_int(st, 9),
                .labels = labels ? json_tokener_parse(labels) : NULL,
                .created = store_sql_str(st, 11),
        };
        if (!json_object_is_type(n->labels, json_type_object)) {
                json_object_put(n->labels);
                n->labels = json_object_new_object();
        }
        return store_sql_strv(e->store,
                              "SELECT container_id FROM endpoints WHERE network_id = "
                              "?1 ORDER BY container_id",
                              (const char *[]){ n->id, NULL }, &n->containers, err);
}

static void network_clear_row(void *row)
{
        network_clear(row);
}

static int query_networks(struct engine *e, const char *where, const char *const *args, struct network **ret,
                          size_t *ret_n, struct error *err)
{
        _cleanup_free_ char *sql = xasprintf("SELECT %s FROM networks %s ORDER BY name", network_columns, where);

        return store_sql_rows(e->store, sql, args, sizeof(struct network), load_network, network_clear_row, e,
                              (void **) ret, ret_n, err);
}

/* The prefixes of every network (IPv4 and IPv6): what a new one must not
 * overlap. */
static int taken_subnets(struct engine *e, struct net_prefix **ret, size_t *ret_n, struct error *err)
{
        _cleanup_strv_free_ char **v = NULL;
        int r = store_sql_strv(e->store,
                               "SELECT subnet FROM networks UNION ALL SELECT subnet6 FROM networks "
                               "WHERE subnet6 != ''",
                               NULL, &v, err);
        size_t n = 0;

        if (r < 0)
                return r;
        *ret = xzalloc((strv_length(v) + 1) * sizeof(**ret));
        for (char **s = v; *s; s++)
                if (net_prefix_parse(*s, false, &(*ret)[n], NULL) >= 0)
                        n++;
        *ret_n = n;
        return 0;
}

/* The name of the network whose subnet overlaps P, or NULL. */
static char *overlapping_network(struct engine *e, const struct net_prefix *p)
{
        struct network *v = NULL;
        size_t n = 0;
        char *found = NULL;

        if (query_networks(e, "", NULL, &v, &n, NULL) < 0)
                return NULL;
        for (size_t i = 0; i < n && !found; i++) {
                struct net_prefix q;
                if ((net_prefix_parse(v[i].subnet, false, &q, NULL) >= 0 && net_prefix_overlaps(&q, p)) ||
                    (*v[i].subnet6 && net_prefix_parse(v[i].subnet6, false, &q, NULL) >= 0 &&
                     net_prefix_overlaps(&q, p)))
                        found = xasprintf("%s (%s)", v[i].name, p->family == AF_INET ? v[i].subnet : v[i].subnet6);
        }
        networks_free(v, n);
        return found;
}

static int pick_subnet(struct engine *e, const char *const *pools, unsigned len, struct net_prefix *ret,
                       struct error *err)
{
        _cleanup_free_ struct net_prefix *taken = NULL;
        size_t n = 0;
        int r = taken_subnets(e, &taken, &n, err);

        if (r < 0)
                return r;
        for (size_t i = 0; pools[i]; i++) {
                struct net_prefix pool;
                if (net_prefix_parse(pools[i], false, &pool, err) < 0)
                        return error_ret(err);
                r = net_pick_subnet(&pool, len, taken, n, ret, err);
                if (r != -ENOSPC)
                        return r;
                if (pools[i + 1])
                        error_clear(err);
        }
        return r;
}

/* SUBNET ("--subnet" FLAG) and GATEWAY into *NET and *GW: checked, or
 * picked from POOLS when SUBNET is NULL. */
static int subnet_and_gateway(struct engine *e, int family, const char *subnet, const char *gateway,
                              const char *const *pools, unsigned pool_len, const char *gw_flag, struct net_prefix *net,
                              struct net_prefix *gw, struct error *err)
{
        const char *flag = family == AF_INET ? "--subnet" : "--subnet (IPv6)";
        char buf[NET_ADDR_STRLEN];
        int r;

        if (subnet) {
                _cleanup_free_ char *other = NULL;
                r = net_prefix_parse(subnet, false, net, err);
                if (r < 0)
                        return error_prefix(err, "%s", flag);
                if (net->family != family)
                        return error_setx(err, EINVAL, "%s: %s is not an IPv%d prefix", flag, subnet,
                                          family == AF_INET ? 4 : 6);
                if (net->len > (family == AF_INET ? 30u : 126u))
                        return error_setx(err, EINVAL, "%s: %s is too small for a network (at most /%d)", flag, subnet,
                                          family == AF_INET ? 30 : 126);
                other = overlapping_network(e, net);
                if (other)
                        return error_setx(err, EEXIST, "%s: %s overlaps network %s", flag, subnet, other);
        } else {
                r = pick_subnet(e, pools, pool_len, net, err);
                if (r < 0)
                        return error_prefix(err, "no free subnet for the network (give one with --subnet)");
        }
        if (gateway) {
                struct net_prefix g;
                uint64_t off;
                r = net_addr_parse(gateway, &g, err);
                if (r < 0)
                        return error_prefix(err, "%s", gw_flag);
                off = net_prefix_offset(net, &g);
                g.len = net->len;
                if (!net_prefix_contains(net, &(struct net_prefix){ .family = g.family,
                                                                    .addr = g.addr,
                                                                    .len = family == AF_INET ? 32 : 128 }))
                        return error_setx(err, EINVAL, "%s: %s is not in %s", gw_flag, gateway,
                                          net_prefix_str(net, true, buf));
                if (off == 0 || (family == AF_INET && off == net_prefix_size(net) - 1))
                        return error_setx(err, EINVAL, "%s: %s is the network's %s address", gw_flag, gateway,
                                          off == 0 ? "network" : "broadcast");
                *gw = g;
        } else
                (void) net_prefix_nth(net, 1, gw);
        return 0;
}

static int insert_network(struct engine *e, const char *name, const struct network_opts *o, char **ret_id,
                          struct error *err)
{
        static const char *const default_pools[] = { DEFAULT_POOL, NULL };
        static const char *const user_pools[] = { USER_POOL, USER_POOL2, DEFAULT_POOL, NULL };
        static const char *const ula_pools[] = { ULA_POOL, NULL };
        bool is_default = strcmp(name, "bridge") == 0;
        _cleanup_free_ char *id = engine_new_id(), *bridge = NULL, *created = time_now_rfc3339();
        _cleanup_strv_free_ char **taken = NULL;
        struct net_prefix net, gw, net6 = {}, gw6 = {}, range = {};
        char s[5][NET_ADDR_STRLEN] = {};
        char mtu[16];
        int r;

        r = store_sql_strv(e->store, "SELECT id FROM networks WHERE name = ?1", (const char *[]){ name, NULL }, &taken,
                           err);
        if (r < 0)
                return r;
        if (taken[0])
                return error_setx(err, EEXIST, "network with name %s already exists", name);
        r = subnet_and_gateway(e, AF_INET, o->subnet, o->gateway, is_default ? default_pools : user_pools,
                               is_default ? 16 : 24, "--gateway", &net, &gw, err);
        if (r < 0)
                return r;
        if (o->ip_range) {
                r = net_prefix_parse(o->ip_range, false, &range, err);
                if (r < 0)
                        return error_prefix(err, "--ip-range");
                if (!net_prefix_contains(&net, &range))
                        return error_setx(err, EINVAL, "--ip-range: %s is not in %s", o->ip_range,
                                          net_prefix_str(&net, true, s[0]));
                net_prefix_str(&range, true, s[2]);
        }
        if (o->ipv6 || o->subnet6) {
                r = subnet_and_gateway(e, AF_INET6, o->subnet6, o->gateway6, ula_pools, 64, "--gateway (IPv6)", &net6,
                                       &gw6, err);
                if (r < 0)
                        return r;
                net_prefix_str(&net6, true, s[3]);
                net_prefix_str(&gw6, false, s[4]);
        } else if (o->gateway6)
                return error_setx(err, EINVAL, "--gateway: %s needs an IPv6 subnet (--ipv6)", o->gateway6);
        if (o->mtu && (o->mtu < 68 || o->mtu > 65535))
                return error_setx(err, EINVAL, "-o mtu: %u is out of range (68 to 65535)", o->mtu);
        net_prefix_str(&net, true, s[0]);
        net_prefix_str(&gw, false, s[1]);
        snprintf(mtu, sizeof(mtu), "%u", o->mtu);
        bridge = xasprintf("berth%.10s", id);
        r = store_sql_run(
                e->store,
                "INSERT INTO networks (id, name, bridge, subnet, gateway, ip_range, "
                "subnet6, gateway6, "
                "internal, mtu, labels, created) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, "
                "?9, ?10, ?11, ?12)",
                (const char *[]){ id, name, bridge, s[0], s[1], s[2], s[3], s[4], o->internal ? "1" : "0", mtu,
                                  o->labels ? json_object_to_json_string_ext(o->labels, JSON_C_TO_STRING_PLAIN) : "{}",
                                  created, NULL },
                err);
        if (r >= 0 && ret_id)
                *ret_id = TAKE_PTR(id);
        return r;
}

/* The default network "bridge" (in the caller's transaction when there is one).
 */
static int ensure_default(struct engine *e, struct error *err)
{
        _cleanup_strv_free_ char **v = NULL;
        int r = store_sql_strv(e->store, "SELECT id FROM networks WHERE name = 'bridge'", NULL, &v, err);

        if (r < 0 || v[0])
                return r;
        return insert_network(e, "bridge", &(struct network_opts){}, NULL, err);
}

static int ensure_default_tx(struct engine *e, struct error *err)
{
        _cleanup_strv_free_ char **v = NULL;
        int r = store_sql_strv(e->store, "SELECT id FROM networks WHERE name = 'bridge'", NULL, &v, err);

        if (r < 0 || v[0])
                return r;
        r = store_sql_begin(e->store, err);
        if (r >= 0)
                r = ensure_default(e, err);
        return store_sql_commit(e->store, r, err);
}

int network_create(struct engine *e, const char *name, const struct network_opts *o, struct network *ret,
                   struct error *err)
{
        _cleanup_free_ char *id = NULL;
        int r;

        if (!network_name_valid(name))
                return error_setx(err, EINVAL,
                                  "invalid network name \"%s\": only [a-zA-Z0-9][a-zA-Z0-9_.-] are "
                                  "allowed",
                                  name);
        if (is_pseudo(name) || strcmp(name, "bridge") == 0 || strcmp(name, "default") == 0)
                return error_setx(err, EEXIST, "network with name %s already exists (it is pre-defined)", name);
        r = ensure_default_tx(e, err);
        if (r < 0)
                return r;
        r = store_sql_begin(e->store, err);
        if (r >= 0)
                r = insert_network(e, name, o, &id, err);
        r = store_sql_commit(e->store, r, err);
        if (r < 0 || !ret)
                return r;
        return network_get(e, id, ret, err);
}

int network_get(struct engine *e, const char *what, struct network *ret, struct error *err)
{
        struct network *v = NULL;
        size_t n = 0;
        int r;

        if (is_pseudo(what) || strcmp(what, HOST_NETWORK_ID) == 0 || strcmp(what, NONE_NETWORK_ID) == 0) {
                pseudo_network(strcmp(what, "host") == 0 || strcmp(what, HOST_NETWORK_ID) == 0 ? "host" : "none", ret);
                return 0;
        }
        if (strcmp(what, "bridge") == 0 || strcmp(what, "default") == 0) {
                what = "bridge";
                r = ensure_default_tx(e, err);
                if (r < 0)
                        return r;
        }
        r = query_networks(e, "WHERE name = ?1 OR id = ?1", (const char *[]){ what, NULL }, &v, &n, err);
        if (r >= 0 && n == 0 && strlen(what) >= 1 && strspn(what, "0123456789abcdef") == strlen(what)) {
                _cleanup_free_ char *like = xasprintf("%s%%", what);
                free(v);
                v = NULL;
                r = query_networks(e, "WHERE id LIKE ?1", (const char *[]){ like, NULL }, &v, &n, err);
                if (r >= 0 && n > 1) {
                        networks_free(v, n);
                        return error_setx(err, EINVAL, "network %s is ambiguous (%zu networks match)", what, n);
                }
        }
        if (r < 0)
                return r;
        if (n == 0) {
                free(v);
                return error_setx(err, ENOENT, "network %s not found", what);
        }
        *ret = v[0];
        for (size_t i = 1; i < n; i++)
                network_clear(&v[i]);
        free(v);
        return 0;
}

int network_list(struct engine *e, struct network **ret, size_t *ret_n, struct error *err)
{
        struct network *v = NULL, *all;
        size_t n = 0, k = 0;
        int r = ensure_default_tx(e, err);

        if (r >= 0)
                r = query_networks(e, "", NULL, &v, &n, err);
        if (r < 0)
                return r;
        all = xzalloc((n + 2) * sizeof(*all));
        for (size_t i = 0; i < n; i++)
                if (strcmp(v[i].name, "bridge") == 0)
                        all[k++] = v[i];
        pseudo_network("host", &all[k++]);
        pseudo_network("none", &all[k++]);
        for (size_t i = 0; i < n; i++)
                if (strcmp(v[i].name, "bridge") != 0)
                        all[k++] = v[i];
        free(v);
        *ret = all;
        *ret_n = k;
        return 0;
}

static int refuse_predefined(const struct network *n, struct error *err)
{
        if (strcmp(n->name, "bridge") == 0 || strcmp(n->driver, "bridge") != 0)
                return error_setx(err, EPERM, "%s is a pre-defined network and cannot be removed", n->name);
        return 0;
}

/* Delete N's row unless a container uses it (in a transaction); the kernel's
 * side of it goes after. */
static int delete_network(struct engine *e, const struct network *n, struct error *err)
{
        _cleanup_strv_free_ char **users = NULL;
        int r = store_sql_begin(e->store, err);

        if (r >= 0)
                r = store_sql_strv(e->store,
                                   "SELECT c.name FROM endpoints p JOIN containers c ON "
                                   "c.id = p.container_id "
                                   "WHERE p.network_id = ?1 ORDER BY c.name",
                                   (const char *[]){ n->id, NULL }, &users, err);
        if (r >= 0 && users[0]) {
                _cleanup_free_ char *list = NULL;
                for (char **u = users; *u; u++) {
                        char *l = xasprintf("%s%s%s", list ? list : "", list ? ", " : "", *u);
                        free(list);
                        list = l;
                }
                r = error_setx(err, EBUSY, "network %s is in use by container%s %s (disconnect or remove %s first)",
                               n->name, users[1] ? "s" : "", list, users[1] ? "them" : "it");
        }
        if (r >= 0)
                r = store_sql_run(e->store, "DELETE FROM networks WHERE id = ?1", (const char *[]){ n->id, NULL }, err);
        r = store_sql_commit(e->store, r, err);
        if (r >= 0)
                (void) network_gc(e, n->id, n->bridge, false, NULL);
        return r;
}

int network_remove(struct engine *e, const char *what, struct error *err)
{
        _cleanup_(network_clear) struct network n = {};
        int r = network_get(e, what, &n, err);

        if (r >= 0)
                r = refuse_predefined(&n, err);
        if (r >= 0)
                r = delete_network(e, &n, err);
        return r;
}

int network_prune(struct engine *e, char ***ret_names, struct error *err)
{
        struct network *v = NULL;
        size_t n = 0;
        char **names = xzalloc(sizeof(char *));
        int r = query_networks(e, "WHERE name != 'bridge'", NULL, &v, &n, err);

        for (size_t i = 0; r >= 0 && i < n; i++) {
                if (v[i].containers[0])
                        continue;
                r = delete_network(e, &v[i], err);
                if (r == -EBUSY) {
                        /* a container joined it meanwhile */
                        error_clear(err);
                        r = 0;
                } else if (r >= 0)
                        strv_push(&names, xstrdup(v[i].name));
        }
        networks_free(v, n);
        if (r < 0) {
                strv_free(names);
                return r;
        }
        *ret_names = names;
        return 0;
}

/* ---- endpoints ------------------------------------------------------- */

void endpoint_clear(struct endpoint *ep)
{
        network_clear(&ep->net);
        free(ep->ip);
        free(ep->ip6);
        free(ep->mac);
        json_object_put(ep->aliases);
        *ep = (struct endpoint){};
}

void endpoints_free(struct endpoint *v, size_t n)
{
        for (size_t i = 0; i < n; i++)
                endpoint_clear(&v[i]);
        free(v);
}

static int load_endpoint(sqlite3_stmt *st, void *row, void *userdata, struct error *err)
{
        struct endpoint *ep = row;
        const char *aliases = (const char *) sqlite3_column_text(st, 16);
        int r = load_network(st, &ep->net, userdata, err);

        if (r < 0)
                return r;
        ep->idx = sqlite3_column_int(st, 12);
        ep->ip = store_sql_str(st, 13);
        ep->ip6 = store_sql_str(st, 14);
        ep->mac = store_sql_str(st, 15);
        ep->aliases = aliases ? json_tokener_parse(aliases) : NULL;
        if (!json_object_is_type(ep->aliases, json_type_array)) {
                json_object_put(ep->aliases);
                ep->aliases = json_object_new_array();
        }
        return 0;
}

static void endpoint_clear_row(void *row)
{
        endpoint_clear(row);
}

int container_endpoints(struct engine *e, const char *container_id, struct endpoint **ret, size_t *ret_n,
                        struct error *err)
{
        _cleanup_free_ char *sql = xasprintf("SELECT n.id, n.name, n.bridge, n.subnet, n.gateway, "
                                             "n.ip_range, n.subnet6, n.gateway6, n.internal, "
                                             "n.mtu, n.labels, n.created, p.idx, p.ip, p.ip6, p.mac, "
                                             "p.aliases FROM endpoints p "
                                             "JOIN networks n ON n.id = p.network_id WHERE p.container_id = "
                                             "?1 ORDER BY p.idx");

        return store_sql_rows(e->store, sql, (const char *[]){ container_id, NULL }, sizeof(struct endpoint),
                              load_endpoint, endpoint_clear_row, e, (void **) ret, ret_n, err);
}

/* The lowest free address of NET's SUBNET (inside RANGE when given) that
 * is not GATEWAY nor in use: into BUF. */
static int lowest_free(struct engine *e, const char *net_id, const char *column, const char *subnet, const char *range,
                       const char *gateway, char buf[NET_ADDR_STRLEN], struct error *err)
{
        _cleanup_free_ char *sql =
                xasprintf("SELECT %s FROM endpoints WHERE network_id = ?1 AND %s != ''", column, column);
        _cleanup_strv_free_ char **used = NULL;
        _cleanup_free_ uint64_t *offs = NULL;
        struct net_prefix net, from, gw;
        uint64_t first, last, size;
        size_t n = 0;
        int r;

        if (net_prefix_parse(subnet, false, &net, err) < 0 || net_addr_parse(gateway, &gw, err) < 0)
                return error_ret(err);
        from = net;
        if (range && *range && net_prefix_parse(range, false, &from, err) < 0)
                return error_ret(err);
        r = store_sql_strv(e->store, sql, (const char *[]){ net_id, NULL }, &used, err);
        if (r < 0)
                return r;
        offs = xzalloc((strv_length(used) + 1) * sizeof(*offs));
        for (char **u = used; *u; u++) {
                struct net_prefix a;
                if (net_addr_parse(*u, &a, NULL) >= 0)
                        offs[n++] = net_prefix_offset(&net, &a);
        }
        size = net_prefix_size(&net);
        first = net_prefix_offset(&net, &from);
        last = first + (net_prefix_size(&from) - 1);
        if (first == 0)
                first = 1;
        /* not the broadcast address (IPv4), and a bound for huge IPv6 subnets */
        if (net.family == AF_INET && last >= size - 1)
                last = size - 2;
        if (last - first > 1000000)
                last = first + 1000000;
        for (uint64_t o = first; o <= last; o++) {
                struct net_prefix a;
                bool busy = o == net_prefix_offset(&net, &gw);
                for (size_t i = 0; i < n && !busy; i++)
                        busy = offs[i] == o;
                if (busy)
                        continue;
                (void) net_prefix_nth(&net, o, &a);
                net_prefix_str(&a, false, buf);
                return 0;
        }
        return error_setx(err, ENOSPC, "no free address left on the network (%s)", range && *range ? range : subnet);
}

/* A fixed address ADDR (flag FLAG) on SUBNET: in it, not the network,
 * gateway or broadcast address, not in use. */
static int fixed_address(struct engine *e, const struct network *n, const char *column, const char *flag,
                         const char *addr, const char *subnet, const char *gateway, char buf[NET_ADDR_STRLEN],
                         struct error *err)
{
        _cleanup_free_ char *sql = xasprintf("SELECT c.name FROM endpoints p JOIN containers c ON c.id = "
                                             "p.container_id WHERE p.network_id = ?1 AND p.%s = ?2",
                                             column);
        _cleanup_strv_free_ char **users = NULL;
        struct net_prefix net, a, gw;
        uint64_t off;
        int r;

        if (!*subnet)
                return error_setx(err, EINVAL, "%s: network %s has no IPv6 subnet", flag, n->name);
        if (net_addr_parse(addr, &a, err) < 0)
                return error_prefix(err, "%s", flag);
        if (net_prefix_parse(subnet, false, &net, err) < 0 || net_addr_parse(gateway, &gw, err) < 0)
                return error_ret(err);
        if (!net_prefix_contains(&net, &a))
                return error_setx(err, EINVAL, "%s: %s is not in the subnet %s of network %s", flag, addr, subnet,
                                  n->name);
        off = net_prefix_offset(&net, &a);
        if (off == 0 || off == net_prefix_offset(&net, &gw) ||
            (net.family == AF_INET && off == net_prefix_size(&net) - 1))
                return error_setx(err, EINVAL, "%s: %s is the network %s's %s address", flag, addr, n->name,
                                  off == 0                              ? "network"
                                  : off == net_prefix_offset(&net, &gw) ? "gateway"
                                                                        : "broadcast");
        net_prefix_str(&a, false, buf);
        r = store_sql_strv(e->store, sql, (const char *[]){ n->id, buf, NULL }, &users, err);
        if (r < 0)
                return r;
        if (users[0])
                return error_setx(err, EADDRINUSE, "%s: address %s is already in use on network %s (by %s)", flag, buf,
                                  n->name, users[0]);
        return 0;
}

/* A new endpoint of container ID on network N, in the caller's transaction. */
static int endpoint_insert(struct engine *e, const char *id, const struct network *n, const struct endpoint_opts *o,
                           struct error *err)
{
        _cleanup_strv_free_ char **idx = NULL;
        char ip[NET_ADDR_STRLEN] = "", ip6[NET_ADDR_STRLEN] = "", mac[18], idxs[12];
        json_object *aliases = json_object_new_array();
        struct net_prefix a;
        int r;

        if (strcmp(n->name, "bridge") == 0 && (o->ip || o->ip6 || (o->aliases && o->aliases[0])))
                r = error_setx(err, EINVAL,
                               "%s on the default network: user specified addresses and aliases are "
                               "supported on user defined networks only",
                               o->ip    ? "--ip"
                               : o->ip6 ? "--ip6"
                                        : "--network-alias");
        else if (o->ip)
                r = fixed_address(e, n, "ip", "--ip", o->ip, n->subnet, n->gateway, ip, err);
        else
                r = lowest_free(e, n->id, "ip", n->subnet, n->ip_range, n->gateway, ip, err);
        if (r >= 0 && o->ip && (net_addr_parse(o->ip, &a, NULL) < 0 || a.family != AF_INET))
                r = error_setx(err, EINVAL, "--ip: %s is not an IPv4 address", o->ip);
        if (r >= 0 && o->ip6)
                r = fixed_address(e, n, "ip6", "--ip6", o->ip6, n->subnet6, n->gateway6, ip6, err);
        else if (r >= 0 && *n->subnet6)
                r = lowest_free(e, n->id, "ip6", n->subnet6, NULL, n->gateway6, ip6, err);
        if (r >= 0 && o->mac)
                r = parse_mac(o->mac, err);
        if (r >= 0) {
                if (o->mac)
                        snprintf(mac, sizeof(mac), "%s", o->mac);
                else {
                        /* 02:42 and the IPv4 address, as Docker makes them: unique on the network
       */
                        struct in_addr in;
                        (void) inet_pton(AF_INET, ip, &in);
                        uint8_t *b = (uint8_t *) &in.s_addr;
                        snprintf(mac, sizeof(mac), "02:42:%02x:%02x:%02x:%02x", b[0], b[1], b[2], b[3]);
                }
                for (char **al = o->aliases; al && *al; al++)
                        json_object_array_add(aliases, json_object_new_string(*al));
                r = store_sql_strv(e->store,
                                   "SELECT coalesce(max(idx) + 1, 0) FROM endpoints WHERE "
                                   "container_id = ?1",
                                   (const char *[]){ id, NULL }, &idx, err);
        }
        if (r >= 0) {
                snprintf(idxs, sizeof(idxs), "%s", idx[0] ? idx[0] : "0");
                if (atoi(idxs) > 15)
                        r = error_setx(err, ENOSPC, "a container joins at most 16 networks");
        }
        if (r >= 0)
                r = store_sql_run(e->store,
                                  "INSERT INTO endpoints (container_id, network_id, idx, ip, ip6, mac, "
                                  "aliases) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                                  (const char *[]){ id, n->id, idxs, ip, ip6, mac,
                                                    json_object_to_json_string_ext(aliases, JSON_C_TO_STRING_PLAIN),
                                                    NULL },
                                  err);
        json_object_put(aliases);
        return r;
}

const char *container_network_mode(const struct container *c)
{
        const char *m = json_object_get_string(jget(jget(c->config, "HostConfig"), "NetworkMode"));

        return !m || !*m || strcmp(m, "default") == 0 ? "bridge" : m;
}

bool network_mode_bridged(const char *mode)
{
        return strcmp(mode, "host") != 0 && strcmp(mode, "none") != 0 && strncmp(mode, "container:", 10) != 0;
}

/* OPTS from NetworkingConfig.EndpointsConfig.NAME (strings borrowed from CFG).
 */
static void endpoint_opts_from(json_object *cfg, struct endpoint_opts *o, char ***aliases)
{
        json_object *ipam = jget(cfg, "IPAMConfig"), *al = jget(cfg, "Aliases");
        const char *s;

        *o = (struct endpoint_opts){};
        s = json_object_get_string(jget(ipam, "IPv4Address"));
        o->ip = s && *s ? s : NULL;
        s = json_object_get_string(jget(ipam, "IPv6Address"));
        o->ip6 = s && *s ? s : NULL;
        s = json_object_get_string(jget(cfg, "MacAddress"));
        o->mac = s && *s ? s : NULL;
        *aliases = xzalloc(sizeof(char *));
        for (size_t i = 0; json_object_is_type(al, json_type_array) && i < json_object_array_length(al); i++)
                strv_push(aliases, xstrdup(json_object_get_string(json_object_array_get_idx(al, i))));
        o->aliases = *aliases;
}

static int join(struct engine *e, const char *id, const char *name, json_object *cfg, struct error *err)
{
        _cleanup_(network_clear) struct network n = {};
        _cleanup_strv_free_ char **aliases = NULL;
        struct endpoint_opts o;
        int r;

        if (is_pseudo(name) || strncmp(name, "container:", 10) == 0)
                return error_setx(err, EINVAL, "--network: %s cannot be combined with other networks", name);
        r = network_get(e, name, &n, err);
        if (r < 0)
                return r;
        endpoint_opts_from(cfg, &o, &aliases);
        return endpoint_insert(e, id, &n, &o, err);
}

int container_endpoints_create(struct engine *e, const struct container *c, struct error *err)
{
        const char *mode = container_network_mode(c);
        json_object *eps = jget(jget(c->config, "NetworkingConfig"), "EndpointsConfig");
        int r;

        if (!network_mode_bridged(mode)) {
                _cleanup_(container_clear) struct container other = {};
                if (json_object_is_type(eps, json_type_object) && json_object_object_length(eps) > 0)
                        return error_setx(err, EINVAL, "--network: %s cannot be combined with other networks", mode);
                if (strncmp(mode, "container:", 10) == 0 && container_find(e, mode + 10, &other, err) < 0)
                        return error_prefix(err, "--network %s", mode);
                return 0;
        }
        r = ensure_default(e, err);
        if (r < 0)
                return r;
        r = join(e, c->id, mode, jget(eps, mode), err);
        if (r < 0)
                return r;
        if (!json_object_is_type(eps, json_type_object))
                return 0;
        json_object_object_foreach(eps, name, cfg)
        {
                if (strcmp(name, mode) == 0 || (strcmp(mode, "bridge") == 0 && strcmp(name, "default") == 0))
                        continue;
                r = join(e, c->id, name, cfg, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

int network_connect(struct engine *e, struct container *c, const char *network, const struct endpoint_opts *o,
                    struct error *err)
{
        _cleanup_(network_clear) struct network n = {};
        _cleanup_strv_free_ char **have = NULL;
        _cleanup_close_ int lock = -EBADF;
        int r;

        if (!network_mode_bridged(container_network_mode(c)))
                return error_setx(err, EINVAL, "container %s uses network mode %s: it cannot join networks", c->name,
                                  container_network_mode(c));
        r = network_get(e, network, &n, err);
        if (r < 0)
                return r;
        if (strcmp(n.driver, "bridge") != 0)
                return error_setx(err, EINVAL, "container %s cannot join the %s network", c->name, n.name);
        lock = container_lock(c, err);
        if (lock < 0)
                return lock;
        r = store_sql_begin(e->store, err);
        if (r >= 0)
                r = store_sql_strv(e->store,
                                   "SELECT network_id FROM endpoints WHERE container_id = "
                                   "?1 AND network_id = ?2",
                                   (const char *[]){ c->id, n.id, NULL }, &have, err);
        if (r >= 0 && have[0])
                r = error_setx(err, EEXIST, "container %s is already connected to network %s", c->name, n.name);
        if (r >= 0)
                r = endpoint_insert(e, c->id, &n, o, err);
        r = store_sql_commit(e->store, r, err);
        if (r < 0)
                return r;
        if (container_running(c) && access(c->dir, F_OK) == 0) {
                r = container_net_join(e, c, n.id, err);
                if (r < 0) {
                        (void) store_sql_run(e->store,
                                             "DELETE FROM endpoints WHERE container_id = ?1 AND network_id = ?2",
                                             (const char *[]){ c->id, n.id, NULL }, NULL);
                        return r;
                }
        }
        return 0;
}

int network_disconnect(struct engine *e, struct container *c, const char *network, struct error *err)
{
        _cleanup_(network_clear) struct network n = {};
        _cleanup_strv_free_ char **have = NULL;
        _cleanup_close_ int lock = -EBADF;
        int r = network_get(e, network, &n, err);

        if (r < 0)
                return r;
        lock = container_lock(c, err);
        if (lock < 0)
                return lock;
        r = store_sql_strv(e->store,
                           "SELECT network_id FROM endpoints WHERE container_id = ?1 "
                           "AND network_id = ?2",
                           (const char *[]){ c->id, n.id, NULL }, &have, err);
        if (r < 0)
                return r;
        if (!have[0])
                return error_setx(err, ENOENT, "container %s is not connected to network %s", c->name, n.name);
        if (container_running(c))
                container_net_leave(e, c, n.id);
        r = store_sql_run(e->store, "DELETE FROM endpoints WHERE container_id = ?1 AND network_id = ?2",
                          (const char *[]){ c->id, n.id, NULL }, err);
        if (r >= 0)
                net_refresh_network(e, n.id);
        return r;
}
