/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The kernel's side of a container's networks (network-internal.h).
 *
 * A container on bridge networks gets a network namespace that the engine
 * makes before the runtime runs: unshare(CLONE_NEWNET) on this thread, a
 * bind mount of it at <root>/run/netns/ID, and back to the host's.  The
 * runtime joins it by path (config.json), so the network is complete
 * before the container's first instruction, works the same with any OCI
 * runtime, and outlives restarts by the monitor.  Into it go one veth per
 * endpoint, created with its peer already inside (eth0, eth1, …), the
 * addresses, and a default route through the first network's gateway.
 *
 * Names: each container's /etc/hosts lists itself and, on user-defined
 * networks, every running container on the same network (name, aliases,
 * short id).  The files are bind-mounted, so they are rewritten in place
 * whenever a container comes or goes.  Simple, no resolver process, and
 * anything in the container that reads /etc/hosts (every libc) follows.
 *
 * Everything here runs under /run/berth-net.lock, one for the whole host:
 * the nftables calls, the bridges' life, IPv4 forwarding and the hosts
 * files of other containers. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "basic/fileio.h"
#include "engine/network-internal.h"
#include "net/nft.h"

/* Where berth notes that it turned IPv4 forwarding on (tmpfs: a reboot
 * resets both). */
#define FORWARD_NOTE "/run/berth-ip_forward"
#define IP_FORWARD "/proc/sys/net/ipv4/ip_forward"

static char *veth_name(const char *container_id, int idx)
{
        return xasprintf("vb%.12s%x", container_id, (unsigned) idx & 0xf);
}

static char *netns_path(struct engine *e, const char *id)
{
        return xasprintf("%s/netns/%s", e->run_dir, id);
}

/* One lock for the whole host, not per data root: berth's nftables
 * tables, IPv4 forwarding and its note are the host's, and one root's
 * cleanup of them must not run while another root sets up a network. */
#define NET_LOCK "/run/berth-net.lock"

static int net_lock(struct error *err)
{
        _cleanup_close_ int fd = open(NET_LOCK, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);

        if (fd < 0)
                return error_set(err, errno, "open `%s`", NET_LOCK);
        if (RETRY_EINTR(flock(fd, LOCK_EX)) < 0)
                return error_set(err, errno, "lock `%s`", NET_LOCK);
        return TAKE_FD(fd);
}

/* ---- network namespaces ------------------------------------------------ */

static int netns_create(const char *path, struct error *err)
{
        _cleanup_close_ int self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
        _cleanup_close_ int fd = -EBADF;
        int r = 0;

        if (self < 0)
                return error_set(err, errno, "open our network namespace");
        fd = open(path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444);
        if (fd < 0)
                return error_set(err, errno, "create `%s`", path);
        if (unshare(CLONE_NEWNET) < 0)
                r = error_set(err, errno, "create a network namespace");
        else {
                /* Docker's defaults: any port and ping for everyone, which
                 * also lets a container whose root is mapped (--userns)
                 * bind port 80 in a namespace the host's user namespace owns */
                (void) write_file_at(AT_FDCWD, "/proc/sys/net/ipv4/ip_unprivileged_port_start", "0");
                (void) write_file_at(AT_FDCWD, "/proc/sys/net/ipv4/ping_group_range", "0 2147483647");
                if (mount("/proc/thread-self/ns/net", path, NULL, MS_BIND, NULL) < 0)
                        r = error_set(err, errno, "bind the network namespace at `%s`", path);
                if (setns(self, CLONE_NEWNET) < 0)
                        abort(); /* in the wrong namespace: nothing sensible can follow */
        }
        if (r < 0)
                (void) unlink(path);
        return r;
}

static void netns_remove(const char *path)
{
        while (umount2(path, MNT_DETACH | UMOUNT_NOFOLLOW) == 0)
                ;
        (void) unlink(path);
}

/* ---- IPv4 forwarding ------------------------------------------------- */

static int forwarding_on(struct error *err)
{
        _cleanup_free_ char *v = NULL;
        int r = read_full_file_at(AT_FDCWD, IP_FORWARD, 64, &v, NULL);

        if (r < 0)
                return error_set(err, -r, "read `%s`", IP_FORWARD);
        if (v[0] == '1')
                return 0;
        /* ours to undo: limit what is forwarded to berth's bridges, note it, turn it on */
        r = net_nft_forward_guard(err);
        if (r < 0)
                return r;
        r = write_file_atomic_at(AT_FDCWD, FORWARD_NOTE, "0\n", 2, 0600);
        if (r < 0)
                return error_set(err, -r, "write `%s`", FORWARD_NOTE);
        r = write_file_at(AT_FDCWD, IP_FORWARD, "1\n");
        return r < 0 ? error_set(err, -r, "turn on IPv4 forwarding (%s)", IP_FORWARD) : 0;
}

/* No berth network is up any more: the tables go, forwarding as it was. */
static void net_idle_cleanup(void)
{
        bool idle = false;

        if (net_nft_idle(&idle, NULL) < 0 || !idle)
                return;
        if (access(FORWARD_NOTE, F_OK) == 0) {
                (void) write_file_at(AT_FDCWD, IP_FORWARD, "0\n");
                (void) unlink(FORWARD_NOTE);
        }
        (void) net_nft_remove_all(NULL);
}

/* ---- bridges ------------------------------------------------------- */

static int parse_pair(const char *prefix, const char *addr, struct net_prefix *ret, struct error *err)
{
        struct net_prefix net;
        int r = net_prefix_parse(prefix, false, &net, err);

        if (r >= 0)
                r = net_addr_parse(addr, ret, err);
        if (r >= 0)
                ret->len = net.len;
        return r;
}

/* N's bridge with its gateway addresses, NAT and isolation, unless it is up. */
static int network_up(struct net_nl *host, const struct network *n, struct error *err)
{
        struct net_prefix subnets[2], gw;
        size_t k = 0;
        int r;

        if (net_link_exists(host, n->bridge))
                return 0;
        r = net_bridge_ensure(host, n->bridge, n->mtu, err);
        if (r >= 0)
                r = parse_pair(n->subnet, n->gateway, &gw, err);
        if (r >= 0)
                r = net_addr_add(host, n->bridge, &gw, err);
        if (r >= 0 && *n->subnet6) {
                r = parse_pair(n->subnet6, n->gateway6, &gw, err);
                if (r >= 0)
                        r = net_addr_add(host, n->bridge, &gw, err);
        }
        if (r >= 0)
                r = net_prefix_parse(n->subnet, false, &subnets[k++], err);
        if (r >= 0 && *n->subnet6)
                r = net_prefix_parse(n->subnet6, false, &subnets[k++], err);
        if (r >= 0 && !n->internal)
                r = forwarding_on(err);
        if (r >= 0)
                r = net_nft_network_ensure(n->bridge, subnets, k, n->internal, err);
        if (r < 0) {
                (void) net_link_delete(host, n->bridge, NULL);
                (void) net_nft_network_remove(n->bridge, NULL);
                return error_prefix(err, "network %s", n->name);
        }
        return 0;
}


/* Does any container but EXCEPT still run attached to NET_ID (its
 * network.json, written last by an attach under the lock)?  Not the
 * veths: a stopped container's goes with its namespace, a little later. */
static bool network_in_use(struct engine *e, const char *net_id, const char *except)
{
        _cleanup_strv_free_ char **ids = NULL;

        if (store_sql_strv(e->store, "SELECT container_id FROM endpoints WHERE network_id = ?1 AND container_id != ?2",
                           (const char *[]) { net_id, except, NULL }, &ids, NULL) < 0)
                return true;
        for (char **id = ids; *id; id++) {
                _cleanup_free_ char *mark = xasprintf("%s/%s/network.json", e->containers_dir, *id);
                if (access(mark, F_OK) == 0)
                        return true;
        }
        return false;
}

/* ---- /etc/hosts, /etc/hostname, /etc/resolv.conf -------------------- */

char *container_hostname(const struct container *c)
{
        const char *h = jstr(jget(c->config, "Config"), "Hostname");
        char buf[256] = "";

        if (h && *h)
                return xstrdup(h);
        if (strcmp(container_network_mode(c), "host") == 0 && gethostname(buf, sizeof(buf) - 1) == 0)
                return xstrdup(buf);
        return xstrndup(c->id, 12);
}

/* Rewrite PATH in place: it is bind-mounted into running containers, so a
 * rename would not reach them.  CREATE: make it when missing; otherwise
 * (another container's file) a missing one is left alone, so that nothing
 * is added to a directory that its rm is emptying. */
static int write_in_place(const char *path, const char *s, bool create, struct error *err)
{
        _cleanup_close_ int fd = open(path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC | (create ? O_CREAT : 0), 0644);
        size_t n = strlen(s), done = 0;

        if (fd < 0)
                return error_set(err, errno, "open `%s`", path);
        while (done < n) {
                ssize_t k = pwrite(fd, s + done, n - done, (off_t) done);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        return error_set(err, errno, "write `%s`", path);
                done += (size_t) k;
        }
        if (ftruncate(fd, (off_t) n) < 0)
                return error_set(err, errno, "truncate `%s`", path);
        return 0;
}

static void add_line(char **buf, const char *fmt, ...) _printf_(2, 3);
static void add_line(char **buf, const char *fmt, ...)
{
        _cleanup_free_ char *s = NULL;
        char *n;
        va_list ap;

        va_start(ap, fmt);
        s = xvasprintf(fmt, ap);
        va_end(ap);
        n = xasprintf("%s%s\n", *buf ? *buf : "", s);
        free(*buf);
        *buf = n;
}

/* "name alias1 alias2 shortid" of a container on a network. */
static char *names_of(const char *name, const char *id, const char *aliases)
{
        json_object *a = aliases ? json_tokener_parse(aliases) : NULL;
        char *s = xasprintf("%s", name);

        for (size_t i = 0; json_object_is_type(a, json_type_array) && i < json_object_array_length(a); i++) {
                char *n = xasprintf("%s %s", s, json_object_get_string(json_object_array_get_idx(a, i)));
                free(s);
                s = n;
        }
        json_object_put(a);
        {
                char *n = xasprintf("%s %.12s", s, id);
                free(s);
                s = n;
        }
        return s;
}

/* The running containers on C's user-defined networks. */
static void add_peers(struct engine *e, const struct container *c, char **hosts)
{
        sqlite3_stmt *st = NULL;

        if (store_sql_prep(e->store,
                           "SELECT DISTINCT c.id, c.name, p.ip, p.ip6, p.aliases "
                           "FROM endpoints p "
                           "JOIN containers c ON c.id = p.container_id JOIN networks "
                           "n ON n.id = p.network_id "
                           "WHERE n.name != 'bridge' AND p.container_id != ?1 AND "
                           "p.network_id IN "
                           "(SELECT network_id FROM endpoints WHERE container_id = "
                           "?1) ORDER BY c.name, p.ip",
                           (const char *[]){ c->id, NULL }, &st, NULL) < 0)
                return;
        while (sqlite3_step(st) == SQLITE_ROW) {
                const char *id = (const char *) sqlite3_column_text(st, 0);
                const char *ip = (const char *) sqlite3_column_text(st, 2);
                const char *ip6 = (const char *) sqlite3_column_text(st, 3);
                _cleanup_free_ char *mark = xasprintf("%s/%s/network.json", e->containers_dir, id);
                _cleanup_free_ char *names = NULL;

                if (access(mark, F_OK) < 0)
                        continue; /* not running */
                names = names_of((const char *) sqlite3_column_text(st, 1), id,
                                 (const char *) sqlite3_column_text(st, 4));
                if (ip && *ip)
                        add_line(hosts, "%s\t%s", ip, names);
                if (ip6 && *ip6)
                        add_line(hosts, "%s\t%s", ip6, names);
        }
        sqlite3_finalize(st);
}

static char *hosts_content(struct engine *e, const struct container *c, const struct endpoint *eps, size_t n,
                           bool peers)
{
        json_object *extra = jget(jget(c->config, "HostConfig"), "ExtraHosts");
        _cleanup_free_ char *hostname = container_hostname(c);
        char *hosts = NULL;

        add_line(&hosts, "127.0.0.1\tlocalhost");
        add_line(&hosts, "::1\tlocalhost ip6-localhost ip6-loopback");
        if (n == 0)
                add_line(&hosts, "127.0.0.1\t%s", hostname);
        for (size_t i = 0; i < n; i++) {
                if (*eps[i].ip)
                        add_line(&hosts, "%s\t%s", eps[i].ip, hostname);
                if (*eps[i].ip6)
                        add_line(&hosts, "%s\t%s", eps[i].ip6, hostname);
        }
        for (size_t i = 0; json_object_is_type(extra, json_type_array) && i < json_object_array_length(extra); i++) {
                const char *h = json_object_get_string(json_object_array_get_idx(extra, i));
                const char *colon = h ? strchr(h, ':') : NULL;
                const char *ip = colon ? colon + 1 : "";

                if (!colon)
                        continue;
                if (strcmp(ip, "host-gateway") == 0)
                        ip = n > 0 ? eps[0].net.gateway : "127.0.0.1";
                add_line(&hosts, "%s\t%.*s", ip, (int) (colon - h), h);
        }
        if (peers)
                add_peers(e, c, &hosts);
        return hosts;
}

static bool is_loopback_ns(const char *ns)
{
        return strncmp(ns, "127.", 4) == 0 || strcmp(ns, "::1") == 0;
}

static void add_list(char **out, const char *key, json_object *arr)
{
        _cleanup_free_ char *line = xstrdup(key);

        for (size_t i = 0; i < json_object_array_length(arr); i++) {
                char *n = xasprintf("%s %s", line, json_object_get_string(json_object_array_get_idx(arr, i)));
                free(line);
                line = n;
        }
        add_line(out, "%s", line);
}

/* The host's resolv.conf with C's --dns, --dns-search and --dns-option;
 * outside the host's network the host's loopback resolvers cannot be
 * reached, so they are left out (and Docker's public fallback used when
 * none is left). */
static char *resolv_content(const struct container *c, bool host_net)
{
        json_object *host = jget(c->config, "HostConfig");
        json_object *dns = jget(host, "Dns"), *search = jget(host, "DnsSearch"), *opts = jget(host, "DnsOptions");
        bool own_dns = json_object_is_type(dns, json_type_array) && json_object_array_length(dns) > 0;
        bool own_search = json_object_is_type(search, json_type_array) && json_object_array_length(search) > 0;
        bool own_opts = json_object_is_type(opts, json_type_array) && json_object_array_length(opts) > 0;
        _cleanup_free_ char *src = NULL;
        char *out = NULL, *save = NULL;
        int servers = 0;

        if (read_full_file_at(AT_FDCWD, "/etc/resolv.conf", 1 << 20, &src, NULL) < 0)
                src = xstrdup("");
        for (char *line = strtok_r(src, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char key[32] = "", val[256] = "";
                if (sscanf(line, "%31s %255s", key, val) < 1)
                        continue;
                if (strcmp(key, "nameserver") == 0) {
                        if (own_dns || (!host_net && is_loopback_ns(val)))
                                continue;
                        servers++;
                } else if ((strcmp(key, "search") == 0 || strcmp(key, "domain") == 0) && own_search)
                        continue;
                else if (strcmp(key, "options") == 0 && own_opts)
                        continue;
                add_line(&out, "%s", line);
        }
        if (own_dns) {
                for (size_t i = 0; i < json_object_array_length(dns); i++)
                        add_line(&out, "nameserver %s", json_object_get_string(json_object_array_get_idx(dns, i)));
        } else if (!servers && !host_net) {
                add_line(&out, "nameserver 8.8.8.8");
                add_line(&out, "nameserver 8.8.4.4");
        }
        if (own_search)
                add_list(&out, "search", search);
        if (own_opts)
                add_list(&out, "options", opts);
        return out ? out : xstrdup("");
}

static int write_etc(struct engine *e, const struct container *c, const struct endpoint *eps, size_t n,
                     struct error *err)
{
        const char *mode = container_network_mode(c);
        bool host = strcmp(mode, "host") == 0;
        _cleanup_free_ char *hosts = NULL, *resolv = resolv_content(c, host), *hostname = container_hostname(c);
        _cleanup_free_ char *hp = xasprintf("%s/hosts", c->dir), *np = xasprintf("%s/hostname", c->dir);
        _cleanup_free_ char *rp = xasprintf("%s/resolv.conf", c->dir), *name = xasprintf("%s\n", hostname);
        int r;

        if (host && read_full_file_at(AT_FDCWD, "/etc/hosts", 1 << 20, &hosts, NULL) < 0)
                hosts = NULL;
        if (!hosts)
                hosts = hosts_content(e, c, eps, n, n > 0);
        r = write_in_place(hp, hosts, true, err);
        if (r >= 0)
                r = write_in_place(np, name, true, err);
        if (r >= 0)
                r = write_in_place(rp, resolv, true, err);
        return r;
}

/* Rewrite the hosts files of the running containers IDS. */
static void rewrite_hosts(struct engine *e, char **ids)
{
        for (char **id = ids; *id; id++) {
                _cleanup_(container_clear) struct container peer = {};
                _cleanup_free_ char *mark = xasprintf("%s/%s/network.json", e->containers_dir, *id);
                _cleanup_free_ char *hp = NULL, *hosts = NULL;
                struct endpoint *eps = NULL;
                size_t n = 0;

                if (access(mark, F_OK) < 0 || container_find(e, *id, &peer, NULL) < 0)
                        continue;
                if (container_endpoints(e, peer.id, &eps, &n, NULL) < 0)
                        continue;
                hosts = hosts_content(e, &peer, eps, n, true);
                hp = xasprintf("%s/hosts", peer.dir);
                (void) write_in_place(hp, hosts, false, NULL);
                endpoints_free(eps, n);
        }
}

/* ... of those on C's user networks but C (after C came or went). */
static void refresh_peers(struct engine *e, const struct container *c)
{
        _cleanup_strv_free_ char **ids = NULL;

        if (store_sql_strv(e->store,
                           "SELECT DISTINCT p.container_id FROM endpoints p JOIN networks n ON n.id = p.network_id "
                           "WHERE n.name != 'bridge' AND p.container_id != ?1 AND p.network_id IN "
                           "(SELECT network_id FROM endpoints WHERE container_id = ?1)",
                           (const char *[]) { c->id, NULL }, &ids, NULL) >= 0)
                rewrite_hosts(e, ids);
}

void net_refresh_network(struct engine *e, const char *net_id)
{
        _cleanup_strv_free_ char **ids = NULL;
        _cleanup_close_ int lock = net_lock(NULL);

        (void) lock; /* held to the end */
        if (store_sql_strv(e->store, "SELECT container_id FROM endpoints WHERE network_id = ?1",
                           (const char *[]) { net_id, NULL }, &ids, NULL) >= 0)
                rewrite_hosts(e, ids);
}

/* ---- published ports ------------------------------------------------- */

struct binding {
        char proto[4];
        char host_ip[NET_ADDR_STRLEN]; /* "" every address */
        int port_lo, port_hi; /* 0: any free one */
        int container_port;
};

/* "80/tcp" */
static int parse_port_key(const char *key, int *port, char proto[4])
{
        char p[8] = "tcp";
        int n = 0;

        if (sscanf(key, "%d%n", port, &n) != 1 || *port < 1 || *port > 65535)
                return -EINVAL;
        if (key[n] == '/' && snprintf(p, sizeof(p), "%s", key + n + 1) >= (int) sizeof(p))
                return -EINVAL;
        else if (key[n] && key[n] != '/')
                return -EINVAL;
        if (strcmp(p, "tcp") != 0 && strcmp(p, "udp") != 0)
                return -EINVAL;
        snprintf(proto, 4, "%s", p);
        return 0;
}

static int parse_host_port(const char *s, struct binding *b)
{
        int n = 0;

        b->port_lo = b->port_hi = 0;
        if (!s || !*s)
                return 0;
        if (sscanf(s, "%d%n", &b->port_lo, &n) != 1)
                return -EINVAL;
        b->port_hi = b->port_lo;
        if (s[n] == '-' && sscanf(s + n + 1, "%d", &b->port_hi) != 1)
                return -EINVAL;
        if (b->port_lo < 1 || b->port_hi > 65535 || b->port_hi < b->port_lo)
                return -EINVAL;
        return 0;
}

/* Every port C publishes: PortBindings, and with PublishAllPorts each
 * exposed port (the container's and the image's) not bound yet. */
static int collect_bindings(const struct container *c, json_object *image_config, struct binding **ret, size_t *ret_n,
                            struct error *err)
{
        json_object *host = jget(c->config, "HostConfig"), *pb = jget(host, "PortBindings");
        bool all = json_object_get_boolean(jget(host, "PublishAllPorts"));
        struct binding *v = NULL;
        size_t n = 0;

        if (json_object_is_type(pb, json_type_object)) {
                json_object_object_foreach(pb, key, arr)
                {
                        struct binding b = {};
                        if (parse_port_key(key, &b.container_port, b.proto) < 0) {
                                free(v);
                                return error_setx(err, EINVAL, "HostConfig.PortBindings: invalid port `%s`", key);
                        }
                        for (size_t i = 0;
                             json_object_is_type(arr, json_type_array) && i < json_object_array_length(arr); i++) {
                                json_object *o = json_object_array_get_idx(arr, i);
                                const char *ip = jstr(o, "HostIp"), *hp = jstr(o, "HostPort");
                                struct net_prefix a;
                                if (parse_host_port(hp, &b) < 0) {
                                        free(v);
                                        return error_setx(err, EINVAL, "-p: invalid host port `%s` for %s", hp, key);
                                }
                                b.host_ip[0] = '\0';
                                if (ip && *ip && strcmp(ip, "0.0.0.0") != 0) {
                                        if (net_addr_parse(ip, &a, NULL) < 0 || a.family != AF_INET) {
                                                free(v);
                                                return error_setx(err, EINVAL,
                                                                  "-p: %s: only IPv4 host addresses can be "
                                                                  "published",
                                                                  ip);
                                        }
                                        net_prefix_str(&a, false, b.host_ip);
                                }
                                v = xrealloc(v, (n + 1) * sizeof(*v));
                                v[n++] = b;
                        }
                }
        }
        if (all) {
                json_object *sets[] = { jget(jget(c->config, "Config"), "ExposedPorts"),
                                        jget(image_config, "ExposedPorts") };
                for (size_t s = 0; s < ELEMENTSOF(sets); s++) {
                        if (!json_object_is_type(sets[s], json_type_object))
                                continue;
                        json_object_object_foreach(sets[s], ekey, eval)
                        {
                                struct binding b = {};
                                bool have = false;
                                (void) eval;
                                if (parse_port_key(ekey, &b.container_port, b.proto) < 0)
                                        continue;
                                for (size_t i = 0; i < n && !have; i++)
                                        have = v[i].container_port == b.container_port &&
                                               strcmp(v[i].proto, b.proto) == 0;
                                if (have)
                                        continue;
                                v = xrealloc(v, (n + 1) * sizeof(*v));
                                v[n++] = b;
                        }
                }
        }
        *ret = v;
        *ret_n = n;
        return 0;
}

/* Can PORT (0: any) be had on IP ("" all)?  Its number, or -EADDRINUSE. */
static int probe_port(const char *proto, const char *ip, int port)
{
        bool udp = strcmp(proto, "udp") == 0;
        _cleanup_close_ int fd = socket(AF_INET, (udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0);
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t) port) };
        socklen_t len = sizeof(sa);
        int one = 1;

        if (fd < 0)
                return -errno;
        if (*ip && inet_pton(AF_INET, ip, &sa.sin_addr) != 1)
                return -EINVAL;
        /* a listener (or a bound UDP socket) is what is in the way, not TIME_WAIT */
        if (!udp)
                (void) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (bind(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0)
                return errno == EADDRNOTAVAIL ? -EADDRNOTAVAIL : -EADDRINUSE;
        if (getsockname(fd, (struct sockaddr *) &sa, &len) < 0)
                return -errno;
        return ntohs(sa.sin_port);
}

/* Is PORT taken by another berth container (on IP or every address)? */
static bool port_recorded(struct engine *e, const char *proto, const char *ip, int port)
{
        _cleanup_strv_free_ char **v = NULL;
        char ps[12];

        snprintf(ps, sizeof(ps), "%d", port);
        if (store_sql_strv(e->store,
                           "SELECT container_id FROM ports WHERE proto = ?1 AND "
                           "host_port = ?2 AND "
                           "(host_ip = ?3 OR host_ip = '' OR ?3 = '')",
                           (const char *[]){ proto, ps, ip, NULL }, &v, NULL) < 0)
                return true;
        return v[0] != NULL;
}

static int take_port(struct engine *e, const struct container *c, struct binding *b, struct error *err)
{
        char ps[12], cps[12];
        int port = -EADDRINUSE, r;

        if (b->port_lo == 0) {
                for (int tries = 0; tries < 64 && port < 0; tries++) {
                        port = probe_port(b->proto, b->host_ip, 0);
                        if (port > 0 && port_recorded(e, b->proto, b->host_ip, port))
                                port = -EADDRINUSE;
                }
        } else
                for (int p = b->port_lo; p <= b->port_hi && port < 0; p++) {
                        port = port_recorded(e, b->proto, b->host_ip, p) ? -EADDRINUSE
                                                                         : probe_port(b->proto, b->host_ip, p);
                        if (port == -EADDRNOTAVAIL)
                                return error_setx(err, EADDRNOTAVAIL, "-p: %s is not an address of this host",
                                                  b->host_ip);
                }
        if (port < 0) {
                if (b->port_lo == 0)
                        return error_setx(err, EADDRINUSE, "no free host port for %d/%s", b->container_port, b->proto);
                if (b->port_lo == b->port_hi)
                        return error_setx(err, EADDRINUSE, "bind for %s:%d/%s failed: port is already in use",
                                          *b->host_ip ? b->host_ip : "0.0.0.0", b->port_lo, b->proto);
                return error_setx(err, EADDRINUSE, "bind for %s:%d-%d/%s failed: every port is already in use",
                                  *b->host_ip ? b->host_ip : "0.0.0.0", b->port_lo, b->port_hi, b->proto);
        }
        b->port_lo = b->port_hi = port;
        snprintf(ps, sizeof(ps), "%d", port);
        snprintf(cps, sizeof(cps), "%d", b->container_port);
        r = store_sql_run(e->store,
                          "INSERT INTO ports (container_id, proto, host_ip, host_port, "
                          "container_port) "
                          "VALUES (?1, ?2, ?3, ?4, ?5)",
                          (const char *[]){ c->id, b->proto, b->host_ip, ps, cps, NULL }, err);
        return r;
}

static void port_spec(const struct endpoint *ep, const char *proto, const char *host_ip, int host_port,
                      int container_port, struct net_prefix *ha, struct net_nft_port *p)
{
        *p = (struct net_nft_port){
                .bridge = ep->net.bridge,
                .proto = proto,
                .host_port = (uint16_t) host_port,
                .container_port = (uint16_t) container_port,
        };
        if (*host_ip && net_addr_parse(host_ip, ha, NULL) >= 0)
                p->host_addr = ha;
        (void) net_addr_parse(ep->ip, &p->container_addr, NULL);
}

/* Unpublish C's ports (recorded in the table) and forget them; whether
 * it had any. */
static bool unpublish_all(struct engine *e, const struct container *c, const struct endpoint *ep)
{
        sqlite3_stmt *st = NULL;
        bool had = false;

        if (ep && store_sql_prep(e->store, "SELECT proto, host_ip, host_port, container_port FROM ports "
                                 "WHERE container_id = ?1", (const char *[]) { c->id, NULL }, &st, NULL) >= 0) {
                while (sqlite3_step(st) == SQLITE_ROW) {
                        struct net_nft_port p;
                        struct net_prefix ha;
                        port_spec(ep, (const char *) sqlite3_column_text(st, 0),
                                  (const char *) sqlite3_column_text(st, 1), sqlite3_column_int(st, 2),
                                  sqlite3_column_int(st, 3), &ha, &p);
                        (void) net_nft_unpublish(&p, NULL);
                        had = true;
                }
                sqlite3_finalize(st);
        }
        (void) store_sql_run(e->store, "DELETE FROM ports WHERE container_id = ?1", (const char *[]) { c->id, NULL },
                             NULL);
        return had;
}

/* The endpoint ports are published to: the first with an IPv4 address. */
static const struct endpoint *port_endpoint(const struct endpoint *eps, size_t n)
{
        for (size_t i = 0; i < n; i++)
                if (*eps[i].ip)
                        return &eps[i];
        return NULL;
}

static int publish(struct engine *e, const struct container *c, json_object *image_config, const struct endpoint *eps,
                   size_t n, json_object *ports, struct error *err)
{
        const struct endpoint *ep = port_endpoint(eps, n);
        _cleanup_free_ struct binding *b = NULL;
        size_t nb = 0;
        int r = collect_bindings(c, image_config, &b, &nb, err);

        for (size_t i = 0; r >= 0 && i < nb; i++) {
                struct net_nft_port p;
                struct net_prefix ha;
                _cleanup_free_ char *key = xasprintf("%d/%s", b[i].container_port, b[i].proto);
                json_object *arr, *o;
                char hp[12];

                r = take_port(e, c, &b[i], err);
                if (r < 0)
                        break;
                port_spec(ep, b[i].proto, b[i].host_ip, b[i].port_lo, b[i].container_port, &ha, &p);
                r = net_nft_publish(&p, err);
                if (r < 0)
                        break;
                if (!json_object_object_get_ex(ports, key, &arr) || !arr) {
                        arr = json_object_new_array();
                        json_object_object_add(ports, key, arr);
                }
                o = json_object_new_object();
                snprintf(hp, sizeof(hp), "%d", b[i].port_lo);
                json_object_object_add(o, "HostIp", json_object_new_string(*b[i].host_ip ? b[i].host_ip : "0.0.0.0"));
                json_object_object_add(o, "HostPort", json_object_new_string(hp));
                json_object_array_add(arr, o);
        }
        return r;
}

/* Exposed but not published: null, as Docker shows them. */
static void add_exposed(const struct container *c, json_object *image_config, json_object *ports)
{
        json_object *sets[] = { jget(jget(c->config, "Config"), "ExposedPorts"), jget(image_config, "ExposedPorts") };

        for (size_t s = 0; s < ELEMENTSOF(sets); s++) {
                if (!json_object_is_type(sets[s], json_type_object))
                        continue;
                json_object_object_foreach(sets[s], key, val)
                {
                        (void) val;
                        if (!jget(ports, key) && !json_object_object_get_ex(ports, key, NULL))
                                json_object_object_add(ports, key, NULL);
                }
        }
}

/* ---- egress ---------------------------------------------------------- */

static bool rule_is_v6(const char *rule)
{
        const char *c = strchr(rule, ':');

        return rule[0] == '[' || (c && strchr(c + 1, ':'));
}

static int egress_apply(const struct container *c, const struct endpoint *eps, size_t n, json_object *out,
                        struct error *err)
{
        json_object *eg = jget(jget(c->config, "HostConfig"), "Egress"), *rules = jget(eg, "Rules");
        const char *policy = jstr(eg, "Policy");
        json_object *exc = json_object_new_array(), *applied = json_object_new_array();
        int r = 0;

        if (!policy || !*policy) {
                json_object_put(exc);
                json_object_put(applied);
                return 0;
        }
        if (strcmp(policy, "allow") != 0 && strcmp(policy, "deny") != 0) {
                json_object_put(exc);
                json_object_put(applied);
                return error_setx(err, EINVAL, "HostConfig.Egress.Policy: `%s` is not allow or deny", policy);
        }
        for (size_t i = 0; r >= 0 && i < n; i++) {
                const char *addrs[] = { eps[i].ip, eps[i].ip6 };
                for (size_t k = 0; r >= 0 && k < 2; k++) {
                        _cleanup_free_ const char **v = xzalloc((json_object_array_length(rules) + 1) * sizeof(char *));
                        _cleanup_strv_free_ char **now = NULL;
                        _cleanup_free_ char *tag = NULL;
                        struct net_prefix a;
                        size_t m = 0;

                        if (!*addrs[k] || net_addr_parse(addrs[k], &a, err) < 0)
                                continue;
                        for (size_t j = 0;
                             json_object_is_type(rules, json_type_array) && j < json_object_array_length(rules); j++) {
                                const char *s = json_object_get_string(json_object_array_get_idx(rules, j));
                                if (rule_is_v6(s) == (k == 1))
                                        v[m++] = s;
                        }
                        if (m == 0 && strcmp(policy, "allow") == 0)
                                continue;
                        r = net_nft_egress(&a, v, m, strcmp(policy, "deny") == 0 ? NET_NFT_DENY : NET_NFT_ALLOW, err);
                        tag = xasprintf("berth:egress:%s", addrs[k]);
                        if (r >= 0)
                                r = net_nft_rules(tag, &now, err);
                        for (char **s = now; r >= 0 && *s; s++)
                                json_object_array_add(applied, json_object_new_string(*s));
                }
        }
        for (size_t j = 0; json_object_is_type(rules, json_type_array) && j < json_object_array_length(rules); j++)
                json_object_array_add(exc, json_object_get(json_object_array_get_idx(rules, j)));
        {
                json_object *o = json_object_new_object();
                json_object_object_add(o, "Policy", json_object_new_string(policy));
                json_object_object_add(o, "Exceptions", exc);
                json_object_object_add(o, "Rules", applied);
                json_object_object_add(out, "Egress", o);
        }
        return r;
}

static void egress_remove(const struct endpoint *eps, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                const char *addrs[] = { eps[i].ip, eps[i].ip6 };
                for (size_t k = 0; k < 2; k++) {
                        struct net_prefix a;
                        if (*addrs[k] && net_addr_parse(addrs[k], &a, NULL) >= 0)
                                (void) net_nft_egress_remove(&a, NULL);
                }
        }
}

/* ---- interfaces ------------------------------------------------------ */

static int mac_bytes(const char *s, uint8_t mac[6])
{
        unsigned b[6];

        if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5]) != 6)
                return -EINVAL;
        for (size_t i = 0; i < 6; i++)
                mac[i] = (uint8_t) b[i];
        return 0;
}

/* EP's interface in the namespace NETNS_FD (NS its netlink socket). */
static int endpoint_up(const struct container *c, struct net_nl *host, struct net_nl *ns, int netns_fd,
                       const struct endpoint *ep, bool route, struct error *err)
{
        _cleanup_free_ char *veth = veth_name(c->id, ep->idx), *ifname = xasprintf("eth%d", ep->idx);
        struct net_prefix a, gw;
        uint8_t mac[6];
        int r = network_up(host, &ep->net, err);

        if (r >= 0 && mac_bytes(ep->mac, mac) < 0)
                r = error_setx(err, EINVAL, "container %s: invalid MAC address `%s`", c->name, ep->mac);
        if (r >= 0)
                r = net_veth_create(host, veth, ep->net.bridge, ifname, netns_fd, ifname, ep->net.mtu, mac, err);
        if (r == -EEXIST) {
                /* the last run's, its namespace not gone yet (a restart right after a stop) */
                error_clear(err);
                r = net_link_delete(host, veth, err);
                if (r >= 0)
                        r = net_veth_create(host, veth, ep->net.bridge, ifname, netns_fd, ifname, ep->net.mtu, mac,
                                            err);
        }
        if (r >= 0 && *ep->ip) {
                r = parse_pair(ep->net.subnet, ep->ip, &a, err);
                if (r >= 0)
                        r = net_addr_add(ns, ifname, &a, err);
        }
        if (r >= 0 && *ep->ip6) {
                r = parse_pair(ep->net.subnet6, ep->ip6, &a, err);
                if (r >= 0)
                        r = net_addr_add(ns, ifname, &a, err);
        }
        if (r >= 0)
                r = net_link_up(ns, ifname, err);
        if (r >= 0 && route) {
                r = net_addr_parse(ep->net.gateway, &gw, err);
                if (r >= 0)
                        r = net_route_default(ns, &gw, err);
                if (r >= 0 && *ep->net.gateway6) {
                        r = net_addr_parse(ep->net.gateway6, &gw, err);
                        if (r >= 0)
                                r = net_route_default(ns, &gw, err);
                }
        }
        return r < 0 ? error_prefix(err, "connect %s to network %s", c->name, ep->net.name) : 0;
}

/* A network nobody uses any more: its bridge and rules go now. */
static void network_down_now(struct net_nl *host, const char *bridge)
{
        (void) net_link_delete(host, bridge, NULL);
        (void) net_nft_network_remove(bridge, NULL);
}

/* ... or a little later, by a detached `berth network gc` (see
 * network_gc()), so that a container started right after (back-to-back
 * `run --rm`) finds them still up rather than waiting for their removal
 * and making them again: deleting a bridge and nftables rules costs tens
 * of milliseconds of RCU grace periods. */
/* The file whose time says when a network's last container went: a gc
 * scheduled before that leaves the decision to the one scheduled with it. */
static char *gc_mark(struct engine *e, const char *net_id)
{
        return xasprintf("%s/netgc-%s", e->run_dir, net_id);
}

/* Milliseconds since MARK was written; -1 without it. */
static long mark_age_ms(const char *mark)
{
        struct timespec now;
        struct stat st;

        if (stat(mark, &st) < 0)
                return -1;
        clock_gettime(CLOCK_REALTIME, &now);
        return (now.tv_sec - st.st_mtim.tv_sec) * 1000 + (now.tv_nsec - st.st_mtim.tv_nsec) / 1000000;
}

static void network_down_later(struct engine *e, const struct network *n)
{
        _cleanup_free_ char *self = NULL, *mark = gc_mark(e, n->id);
        long age = mark_age_ms(mark);
        /* a mark much older than the delay: its gc died (a reboot) */
        bool pending = age >= 0 && age < 3 * NETWORK_GC_DELAY_MS;
        pid_t pid;

        /* the time of the last container's going; a gc already waiting waits on (the net lock is ours) */
        (void) write_file_atomic_at(AT_FDCWD, mark, "", 0, 0600);
        if (pending)
                return;
        self = realpath("/proc/self/exe", NULL);
        pid = self ? fork() : -1;

        if (pid < 0) {
                struct net_nl *host = NULL;
                if (net_nl_open(-1, &host, NULL) >= 0)
                        network_down_now(host, n->bridge);
                net_nl_close(host);
                return;
        }
        if (pid == 0) {
                int null = open("/dev/null", O_RDWR | O_CLOEXEC);
                if (setsid() < 0 || fork() != 0)
                        _exit(0);
                dup2(null, 0);
                dup2(null, 1);
                dup2(null, 2);
                (void) close_range(3, ~0U, 0);
                execl(self, "berth", "--root", e->root, "network", "gc", n->id, n->bridge, (char *) NULL);
                _exit(127);
        }
        (void) RETRY_EINTR(waitpid(pid, NULL, 0));
}

int network_gc(struct engine *e, const char *net_id, const char *bridge, bool delayed, struct error *err)
{
        _cleanup_free_ char *mark = e ? gc_mark(e, net_id) : NULL;
        _cleanup_close_ int lock = -EBADF;
        long wait_ms = delayed ? NETWORK_GC_DELAY_MS : 0;
        struct net_nl *host = NULL;
        int r;

        /* the lock is held from the last check through the removal: a
         * container starting meanwhile finds the bridge either up or gone */
        for (;;) {
                long age;

                if (wait_ms > 0)
                        usleep((useconds_t) wait_ms * 1000);
                lock = net_lock(err);
                if (lock < 0)
                        return lock;
                if (!e)
                        break; /* the data root went: so did its containers */
                if (network_in_use(e, net_id, "")) {
                        (void) unlink(mark); /* the next container to go schedules a gc again */
                        return 0;
                }
                /* containers came and went meanwhile: wait on from the last one */
                age = delayed ? mark_age_ms(mark) : -1;
                if (age < 0 || age >= NETWORK_GC_DELAY_MS) {
                        (void) unlink(mark);
                        break;
                }
                wait_ms = NETWORK_GC_DELAY_MS - age;
                close(lock);
                lock = -EBADF;
        }
        r = net_nl_open(-1, &host, err);
        if (r >= 0 && net_link_exists(host, bridge)) {
                network_down_now(host, bridge);
                net_idle_cleanup();
        }
        net_nl_close(host);
        return r;
}

/* EP's interface goes, and its network with it (LATER: a little later)
 * when nobody else is on it.  LATER: C's network namespace is about to be
 * unmounted with no process left in it; the kernel then deletes the veth
 * pair with it, after we return, which spares the start path the ~10 ms a
 * veth deletion waits for (synchronize_net).  Taking the bridge's end down
 * first makes the bridge forget its addresses at once.  Whether nftables
 * was touched now. */
static bool endpoint_down(struct engine *e, const struct container *c, struct net_nl *host, const struct endpoint *ep,
                          bool later)
{
        _cleanup_free_ char *veth = veth_name(c->id, ep->idx);

        if (later)
                (void) net_link_down(host, veth, NULL);
        else
                (void) net_link_delete(host, veth, NULL);
        if (!net_link_exists(host, ep->net.bridge) || network_in_use(e, ep->net.id, c->id))
                return false;
        if (later) {
                network_down_later(e, &ep->net);
                return false;
        }
        network_down_now(host, ep->net.bridge);
        return true;
}

/* ---- network.json ------------------------------------------------------ */

static void add_str(json_object *o, const char *k, const char *v)
{
        json_object_object_add(o, k, json_object_new_string(v ? v : ""));
}

static int prefix_len(const char *subnet)
{
        const char *s = subnet ? strchr(subnet, '/') : NULL;

        return s ? atoi(s + 1) : 0;
}

static json_object *settings_json(struct engine *e, const struct container *c, const struct endpoint *eps, size_t n,
                                  json_object *ports)
{
        json_object *o = json_object_new_object(), *nets = json_object_new_object();
        _cleanup_free_ char *sandbox = netns_path(e, c->id);
        const struct endpoint *first = n ? &eps[0] : NULL;

        add_str(o, "SandboxKey", sandbox);
        add_str(o, "IPAddress", first ? first->ip : "");
        json_object_object_add(o, "IPPrefixLen", json_object_new_int(first ? prefix_len(first->net.subnet) : 0));
        add_str(o, "Gateway", first ? first->net.gateway : "");
        add_str(o, "MacAddress", first ? first->mac : "");
        add_str(o, "GlobalIPv6Address", first ? first->ip6 : "");
        json_object_object_add(o, "GlobalIPv6PrefixLen",
                               json_object_new_int(first && *first->ip6 ? prefix_len(first->net.subnet6) : 0));
        add_str(o, "IPv6Gateway", first ? first->net.gateway6 : "");
        json_object_object_add(o, "Ports", json_object_get(ports));
        for (size_t i = 0; i < n; i++) {
                json_object *m = json_object_new_object();
                add_str(m, "NetworkID", eps[i].net.id);
                add_str(m, "Gateway", eps[i].net.gateway);
                add_str(m, "IPAddress", eps[i].ip);
                json_object_object_add(m, "IPPrefixLen", json_object_new_int(prefix_len(eps[i].net.subnet)));
                add_str(m, "IPv6Gateway", eps[i].net.gateway6);
                add_str(m, "GlobalIPv6Address", eps[i].ip6);
                json_object_object_add(m, "GlobalIPv6PrefixLen",
                                       json_object_new_int(*eps[i].ip6 ? prefix_len(eps[i].net.subnet6) : 0));
                add_str(m, "MacAddress", eps[i].mac);
                json_object_object_add(m, "Aliases", json_object_get(eps[i].aliases));
                json_object_object_add(nets, eps[i].net.name, m);
        }
        json_object_object_add(o, "Networks", nets);
        return o;
}

static int save_settings(const struct container *c, json_object *o, struct error *err)
{
        _cleanup_free_ char *path = xasprintf("%s/network.json", c->dir);
        const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
        int r = write_file_atomic_at(AT_FDCWD, path, s, strlen(s), 0600);

        return r < 0 ? error_set(err, -r, "write `%s`", path) : 0;
}

void container_network_load(struct container *c)
{
        _cleanup_free_ char *path = xasprintf("%s/network.json", c->dir);

        json_object_put(c->network);
        c->network = engine_json_load(path);
}

/* ---- attach and detach ------------------------------------------------ */

/* container:NAME: the namespace of NAME, which must run. */
static int other_netns(struct engine *e, const struct container *c, const char *mode, char **ret, struct error *err)
{
        _cleanup_(container_clear) struct container o = {};
        _cleanup_free_ char *path = NULL;
        int r = engine_lookup(e, mode + 10, &o, err);

        if (r < 0)
                return error_prefix(err, "--network %s", mode);
        if (strcmp(o.id, c->id) == 0)
                return error_setx(err, EINVAL, "--network %s: a container cannot join its own network", mode);
        if (!container_running(&o) || container_pid(&o) <= 0)
                return error_setx(err, EINVAL, "--network %s: container %s is not running", mode, o.name);
        if (strcmp(container_network_mode(&o), "host") == 0) {
                *ret = NULL;
                return 0;
        }
        path = netns_path(e, o.id);
        if (access(path, F_OK) < 0) {
                free(path);
                path = xasprintf("/proc/%d/ns/net", container_pid(&o));
        }
        /* its names and resolvers too */
        {
                static const char *const files[] = { "hosts", "resolv.conf" };
                for (size_t i = 0; i < ELEMENTSOF(files); i++) {
                        _cleanup_free_ char *src = xasprintf("%s/%s", o.dir, files[i]), *data = NULL;
                        _cleanup_free_ char *dst = xasprintf("%s/%s", c->dir, files[i]);
                        if (read_full_file_at(AT_FDCWD, src, 1 << 20, &data, NULL) >= 0)
                                (void) write_in_place(dst, data, true, NULL);
                }
        }
        *ret = TAKE_PTR(path);
        return 0;
}

static int attach_bridged(struct engine *e, const struct container *c, json_object *image_config, char **ret_netns,
                          struct error *err)
{
        _cleanup_free_ char *path = netns_path(e, c->id), *dir = xasprintf("%s/netns", e->run_dir);
        _cleanup_close_ int lock = -EBADF, nsfd = -EBADF;
        struct net_nl *host = NULL, *ns = NULL;
        struct endpoint *eps = NULL;
        json_object *ports = json_object_new_object(), *settings = NULL;
        size_t n = 0;
        int r;

        r = container_endpoints(e, c->id, &eps, &n, err);
        if (r < 0)
                goto out;
        lock = r = net_lock(err);
        if (r < 0)
                goto out;
        if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
                r = error_set(err, errno, "create `%s`", dir);
                goto out;
        }
        netns_remove(path); /* a stale one, from a crash */
        r = netns_create(path, err);
        if (r < 0)
                goto out;
        nsfd = open(path, O_RDONLY | O_CLOEXEC);
        if (nsfd < 0)
                r = error_set(err, errno, "open `%s`", path);
        if (r >= 0)
                r = net_nl_open(-1, &host, err);
        if (r >= 0)
                r = net_nl_open(nsfd, &ns, err);
        if (r >= 0)
                r = net_link_up(ns, "lo", err);
        for (size_t i = 0; r >= 0 && i < n; i++)
                r = endpoint_up(c, host, ns, nsfd, &eps[i], i == 0, err);
        if (r >= 0 && port_endpoint(eps, n))
                r = publish(e, c, image_config, eps, n, ports, err);
        if (r >= 0)
                add_exposed(c, image_config, ports);
        if (r >= 0) {
                settings = settings_json(e, c, eps, n, ports);
                r = egress_apply(c, eps, n, settings, err);
        }
        if (r >= 0)
                r = save_settings(c, settings, err);
        if (r >= 0)
                r = write_etc(e, c, eps, n, err);
        if (r >= 0)
                refresh_peers(e, c);
        if (r < 0) {
                /* nothing stays: what was made goes */
                _cleanup_free_ char *mark = xasprintf("%s/network.json", c->dir);
                egress_remove(eps, n);
                unpublish_all(e, c, port_endpoint(eps, n));
                for (size_t i = 0; host && i < n; i++)
                        endpoint_down(e, c, host, &eps[i], false);
                (void) unlink(mark);
                if (nsfd >= 0)
                        close(nsfd);
                nsfd = -EBADF;
                netns_remove(path);
                net_idle_cleanup();
        } else
                *ret_netns = TAKE_PTR(path);
out:
        json_object_put(settings);
        json_object_put(ports);
        net_nl_close(ns);
        net_nl_close(host);
        endpoints_free(eps, n);
        return r;
}

int container_net_attach(struct engine *e, const struct container *c, json_object *image_config, char **ret_netns,
                         struct error *err)
{
        const char *mode = container_network_mode(c);

        *ret_netns = NULL;
        /* what the last run left, when its cleanup has not come yet (a restart) */
        container_net_detach(e, c);
        if (strncmp(mode, "container:", 10) == 0) {
                int r = write_etc(e, c, NULL, 0, err);
                return r < 0 ? r : other_netns(e, c, mode, ret_netns, err);
        }
        if (!network_mode_bridged(mode))
                return write_etc(e, c, NULL, 0, err);
        return attach_bridged(e, c, image_config, ret_netns, err);
}

void container_net_detach(struct engine *e, const struct container *c)
{
        _cleanup_free_ char *path = netns_path(e, c->id), *mark = xasprintf("%s/network.json", c->dir);
        _cleanup_close_ int lock = -EBADF;
        struct net_nl *host = NULL;
        struct endpoint *eps = NULL;
        size_t n = 0;
        bool had = access(mark, F_OK) == 0 || access(path, F_OK) == 0, nft = false;

        if (!had || !network_mode_bridged(container_network_mode(c)))
                return;
        lock = net_lock(NULL);
        if (container_endpoints(e, c->id, &eps, &n, NULL) < 0)
                n = 0;
        if (jstr(jget(jget(c->config, "HostConfig"), "Egress"), "Policy")) {
                egress_remove(eps, n);
                nft = true;
        }
        nft |= unpublish_all(e, c, port_endpoint(eps, n));
        /* the namespace goes first, so that nothing can see it half torn down */
        (void) unlink(mark);
        if (net_nl_open(-1, &host, NULL) >= 0)
                for (size_t i = 0; i < n; i++)
                        nft |= endpoint_down(e, c, host, &eps[i], true);
        net_nl_close(host);
        netns_remove(path);
        refresh_peers(e, c);
        /* also when no bridge went: the calls above make berth's tables
         * when they are missing (after a reboot) */
        if (nft)
                net_idle_cleanup();
        endpoints_free(eps, n);
}

static int find_endpoint(struct endpoint *eps, size_t n, const char *net_id)
{
        for (size_t i = 0; i < n; i++)
                if (strcmp(eps[i].net.id, net_id) == 0)
                        return (int) i;
        return -1;
}

/* network.json again from the endpoints, keeping Ports and Egress. */
static int resave_settings(struct engine *e, const struct container *c, const struct endpoint *eps, size_t n,
                           struct error *err)
{
        _cleanup_(container_clear) struct container copy = { .dir = xstrdup(c->dir) };
        json_object *ports, *o;
        int r;

        container_network_load(&copy);
        ports = jget(copy.network, "Ports");
        ports = ports ? json_object_get(ports) : json_object_new_object();
        o = settings_json(e, c, eps, n, ports);
        json_object_put(ports);
        if (jget(copy.network, "Egress"))
                json_object_object_add(o, "Egress", json_object_get(jget(copy.network, "Egress")));
        r = save_settings(c, o, err);
        json_object_put(o);
        return r;
}

int container_net_join(struct engine *e, const struct container *c, const char *net_id, struct error *err)
{
        _cleanup_free_ char *path = netns_path(e, c->id);
        _cleanup_close_ int lock = -EBADF, nsfd = -EBADF;
        struct net_nl *host = NULL, *ns = NULL;
        struct endpoint *eps = NULL;
        size_t n = 0;
        int r, i;

        r = container_endpoints(e, c->id, &eps, &n, err);
        if (r < 0)
                return r;
        i = find_endpoint(eps, n, net_id);
        lock = r = net_lock(err);
        if (r >= 0) {
                nsfd = open(path, O_RDONLY | O_CLOEXEC);
                if (nsfd < 0)
                        r = error_set(err, errno, "container %s has no network namespace of its own (`%s`)", c->name,
                                      path);
        }
        if (r >= 0 && i < 0)
                r = error_setx(err, ENOENT, "container %s: no endpoint on that network", c->name);
        if (r >= 0)
                r = net_nl_open(-1, &host, err);
        if (r >= 0)
                r = net_nl_open(nsfd, &ns, err);
        if (r >= 0)
                r = endpoint_up(c, host, ns, nsfd, &eps[i], false, err);
        if (r >= 0)
                r = resave_settings(e, c, eps, n, err);
        if (r >= 0)
                r = write_etc(e, c, eps, n, err);
        if (r >= 0)
                refresh_peers(e, c);
        if (r < 0 && host && i >= 0)
                endpoint_down(e, c, host, &eps[i], false);
        net_nl_close(ns);
        net_nl_close(host);
        endpoints_free(eps, n);
        return r;
}

void container_net_leave(struct engine *e, const struct container *c, const char *net_id)
{
        _cleanup_close_ int lock = net_lock(NULL);
        struct net_nl *host = NULL;
        struct endpoint *eps = NULL, *rest;
        size_t n = 0, k = 0;
        bool down = false;
        int i;

        (void) lock; /* held to the end */
        if (container_endpoints(e, c->id, &eps, &n, NULL) < 0)
                return;
        i = find_endpoint(eps, n, net_id);
        if (i >= 0 && net_nl_open(-1, &host, NULL) >= 0) {
                down = endpoint_down(e, c, host, &eps[i], false);
                net_nl_close(host);
        }
        rest = xzalloc((n + 1) * sizeof(*rest));
        for (size_t j = 0; j < n; j++)
                if ((int) j != i)
                        rest[k++] = eps[j];
        (void) resave_settings(e, c, rest, k, NULL);
        (void) write_etc(e, c, rest, k, NULL);
        free(rest);
        if (down)
                net_idle_cleanup();
        endpoints_free(eps, n);
}
