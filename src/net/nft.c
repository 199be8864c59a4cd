/* SPDX-License-Identifier: GPL-2.0-or-later */
/* berth's firewall and NAT through libnftables: text commands, one
 * transaction per call, rules found again by their owner's comment (see
 * nft.h for the tables, chains and why berth's accepts never override the
 * host's drops). */
#include <errno.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <sys/socket.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <nftables/libnftables.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "basic/error.h"
#include "basic/macro.h"
#include "net/nft.h"

/* Priorities: berth's filter chain runs just before the usual host chains
 * (filter = 0) so its isolation drops come first; the order does not
 * matter for correctness, since an accept in either table never skips the
 * other's drops.  NAT uses the standard dstnat/srcnat slots (-100 for
 * output, where nftables 1.0.6 does not accept the name "dstnat"): the first NAT
 * chain that binds a connection wins, so a host DNAT registered earlier at
 * the same priority keeps precedence over a berth publish on the same
 * port. */
static const char skeleton[] =
        "add table inet berth\n"
        "add set inet berth bridges { type ifname; }\n"
        "add chain inet berth networks\n"
        "add chain inet berth egress\n"
        "add chain inet berth publish\n"
        "add chain inet berth forward { type filter hook forward priority filter - 10; policy accept; }\n"
        "flush chain inet berth forward\n"
        "add rule inet berth forward ct state established,related accept\n"
        "add rule inet berth forward jump networks\n"
        "add rule inet berth forward jump egress\n"
        "add rule inet berth forward jump publish\n"
        "add table inet berth_nat\n"
        "add chain inet berth_nat prerouting { type nat hook prerouting priority dstnat; policy accept; }\n"
        "add chain inet berth_nat output { type nat hook output priority -100; policy accept; }\n"
        "add chain inet berth_nat postrouting { type nat hook postrouting priority srcnat; policy accept; }\n";

static void nft_ctx_freep(struct nft_ctx **ctx)
{
        if (*ctx)
                nft_ctx_free(*ctx);
}
#define _cleanup_nft_ctx_ _cleanup_(nft_ctx_freep)

static void json_object_putp(struct json_object **o)
{
        if (*o)
                json_object_put(*o);
}

/* A growing text buffer of commands. */
struct cmds {
        char *buf;
        size_t len;
};

_printf_(2, 3) static void cmds_add(struct cmds *c, const char *fmt, ...)
{
        _cleanup_free_ char *s = NULL;
        va_list ap;
        size_t n;

        va_start(ap, fmt);
        s = xvasprintf(fmt, ap);
        va_end(ap);
        n = strlen(s);
        c->buf = xrealloc(c->buf, c->len + n + 2);
        memcpy(c->buf + c->len, s, n);
        c->len += n;
        c->buf[c->len++] = '\n';
        c->buf[c->len] = 0;
}

static void cmds_clear(struct cmds *c)
{
        free(c->buf);
        c->buf = NULL;
        c->len = 0;
}
#define _cleanup_cmds_ _cleanup_(cmds_clear)

/* libnftables exits the process when the kernel has no nf_tables netlink
 * (mnl.c: "Unable to initialize Netlink socket"): ask the kernel first. */
static int nft_available(struct error *err)
{
        static int known; /* 1 yes, -errno no, 0 not asked */
        int fd;

        if (known == 0) {
                fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER);
                known = fd >= 0 ? 1 : -errno;
                if (fd >= 0)
                        close(fd);
        }
        if (known < 0)
                return error_setx(err, -known, "nftables: the kernel has no nf_tables netlink (NETLINK_NETFILTER: %s); "
                                  "berth's networks need it (modprobe nf_tables), or run with --network none or host",
                                  strerror(-known));
        return 0;
}

static struct nft_ctx *ctx_new(bool json)
{
        struct nft_ctx *ctx = nft_ctx_new(NFT_CTX_DEFAULT);

        if (!ctx)
                oom();
        (void) nft_ctx_buffer_error(ctx);
        (void) nft_ctx_buffer_output(ctx);
        if (json)
                nft_ctx_output_set_flags(ctx, NFT_CTX_OUTPUT_JSON | NFT_CTX_OUTPUT_HANDLE);
        return ctx;
}

/* nftables' first error line ("Error: Could not process rule: ...") into
 * ERR.  The command line nftables quotes after it is not always the one
 * that failed for multi-line buffers (1.0.6), so WHAT gives the context. */
static int nft_error(struct nft_ctx *ctx, const char *what, struct error *err)
{
        const char *e = nft_ctx_get_error_buffer(ctx);
        const char *nl;

        if (!e || !*e)
                return error_setx(err, EINVAL, "%s: nftables failed", what);
        if (strncmp(e, "Error: ", 7) == 0)
                e += 7;
        nl = strchr(e, '\n');
        return error_setx(err, EINVAL, "%s: %.*s", what, nl ? (int) (nl - e) : (int) strlen(e), e);
}

/* A context (JSON output or text), when the kernel has nf_tables. */
static int ctx_open(bool json, struct nft_ctx **ret, struct error *err)
{
        int r = nft_available(err);

        if (r < 0)
                return r;
        *ret = ctx_new(json);
        return 0;
}

static int nft_exec(const char *cmds, const char *what, struct error *err)
{
        _cleanup_nft_ctx_ struct nft_ctx *ctx = NULL;
        int r;

        r = ctx_open(false, &ctx, err);
        if (r < 0)
                return r;

        if (nft_run_cmd_from_buffer(ctx, cmds) != 0)
                return nft_error(ctx, what, err);
        return 0;
}

/* Add to C a "delete rule" for every rule of FAMILY TABLE whose comment is
 * TAG. */
static int tagged_rules(const char *table, const char *tag, struct cmds *c, struct error *err)
{
        _cleanup_nft_ctx_ struct nft_ctx *ctx = NULL;
        _cleanup_(json_object_putp) struct json_object *root = NULL;
        _cleanup_free_ char *cmd = xasprintf("list table inet %s", table);
        struct json_object *arr;
        int r;

        r = ctx_open(true, &ctx, err);
        if (r < 0)
                return r;
        if (nft_run_cmd_from_buffer(ctx, cmd) != 0)
                return nft_error(ctx, "list berth's rules", err);
        root = json_tokener_parse(nft_ctx_get_output_buffer(ctx));
        if (!root || !json_object_object_get_ex(root, "nftables", &arr) || !json_object_is_type(arr, json_type_array))
                return error_setx(err, EINVAL, "list berth's rules: unexpected JSON from nftables");
        for (size_t i = 0; i < json_object_array_length(arr); i++) {
                struct json_object *rule, *comment, *chain, *handle;

                if (!json_object_object_get_ex(json_object_array_get_idx(arr, i), "rule", &rule))
                        continue;
                if (!json_object_object_get_ex(rule, "comment", &comment) ||
                    strcmp(json_object_get_string(comment), tag) != 0)
                        continue;
                if (!json_object_object_get_ex(rule, "chain", &chain) ||
                    !json_object_object_get_ex(rule, "handle", &handle))
                        return error_setx(err, EINVAL, "list berth's rules: rule `%s` without chain or handle", tag);
                cmds_add(c, "delete rule inet %s %s handle %" PRId64, table, json_object_get_string(chain),
                         json_object_get_int64(handle));
        }
        return 0;
}

/* Replace the rules commented TAG by ADDS (may be empty), atomically, after
 * making sure berth's tables and chains exist. */
static int apply(const char *tag, const char *adds, const char *what, struct error *err)
{
        _cleanup_cmds_ struct cmds c = {};
        int r;

        r = nft_exec(skeleton, "set up berth's nftables tables", err);
        if (r < 0)
                return r;
        cmds_add(&c, "# %s", tag);
        r = tagged_rules("berth", tag, &c, err);
        if (r < 0)
                return r;
        r = tagged_rules("berth_nat", tag, &c, err);
        if (r < 0)
                return r;
        cmds_add(&c, "%s", adds ? adds : "");
        return nft_exec(c.buf, what, err);
}

/* Interface names go into rules between quotes: keep them plain. */
static int check_ifname(const char *name, struct error *err)
{
        size_t n = name ? strlen(name) : 0;

        if (n == 0 || n >= 16)
                return error_setx(err, EINVAL, "invalid bridge name `%s`", name ? name : "");
        for (size_t i = 0; i < n; i++)
                if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-", name[i]))
                        return error_setx(err, EINVAL, "invalid bridge name `%s`", name);
        return 0;
}

static const char *family_kw(int family)
{
        return family == AF_INET ? "ip" : "ip6";
}

int net_nft_network_ensure(const char *bridge, const struct net_prefix *subnets, size_t n_subnets, bool internal,
                           struct error *err)
{
        _cleanup_free_ char *tag = NULL, *what = NULL;
        _cleanup_cmds_ struct cmds c = {};
        char buf[NET_ADDR_STRLEN];

        if (check_ifname(bridge, err) < 0)
                return error_ret(err);
        tag = xasprintf("berth:net:%s", bridge);
        what = xasprintf("set up the firewall of network `%s`", bridge);
        cmds_add(&c, "add element inet berth bridges { \"%s\" }", bridge);
        if (internal) {
                cmds_add(&c, "add rule inet berth networks iifname \"%s\" oifname != \"%s\" drop comment \"%s\"",
                         bridge, bridge, tag);
                cmds_add(&c, "add rule inet berth networks oifname \"%s\" iifname != \"%s\" drop comment \"%s\"",
                         bridge, bridge, tag);
                return apply(tag, c.buf, what, err);
        }
        /* Each bridge drops what it sends to the others: with every bridge
         * in the set, that isolates all pairs both ways. */
        cmds_add(&c,
                 "add rule inet berth networks iifname \"%s\" oifname @bridges oifname != \"%s\" drop "
                 "comment \"%s\"",
                 bridge, bridge, tag);
        for (size_t i = 0; i < n_subnets; i++) {
                const char *fk = family_kw(subnets[i].family);

                net_prefix_str(&subnets[i], true, buf);
                cmds_add(&c, "add rule inet berth_nat postrouting %s saddr %s oifname != \"%s\" masquerade comment \"%s\"",
                         fk, buf, bridge, tag);
                /* Hairpin: a container reaching a port published to its own
                 * network must see the reply come back through the host. */
                cmds_add(&c,
                         "add rule inet berth_nat postrouting %s saddr %s oifname \"%s\" ct status dnat masquerade "
                         "comment \"%s\"",
                         fk, buf, bridge, tag);
        }
        /* Published ports reached through 127.0.0.1 (see nft.h). */
        cmds_add(&c, "add rule inet berth_nat postrouting oifname \"%s\" ip saddr 127.0.0.0/8 masquerade comment \"%s\"",
                 bridge, tag);
        return apply(tag, c.buf, what, err);
}

int net_nft_network_remove(const char *bridge, struct error *err)
{
        _cleanup_free_ char *tag = NULL, *what = NULL, *adds = NULL;

        if (check_ifname(bridge, err) < 0)
                return error_ret(err);
        tag = xasprintf("berth:net:%s", bridge);
        what = xasprintf("remove the firewall of network `%s`", bridge);
        /* Add then delete: deleting an absent element is an error. */
        adds = xasprintf("add element inet berth bridges { \"%s\" }\ndelete element inet berth bridges { \"%s\" }",
                         bridge, bridge);
        return apply(tag, adds, what, err);
}

static int route_localnet(const char *bridge, struct error *err)
{
        _cleanup_free_ char *path = xasprintf("/proc/sys/net/ipv4/conf/%s/route_localnet", bridge);
        _cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);

        if (fd < 0)
                return error_set(err, errno, "open `%s`", path);
        if (write(fd, "1", 1) != 1)
                return error_set(err, errno, "write `%s`", path);
        return 0;
}

static char *port_tag(const struct net_nft_port *p)
{
        char buf[NET_ADDR_STRLEN];

        return xasprintf("berth:pub:%s:%s:%s:%u", p->bridge, p->proto,
                         p->host_addr ? net_prefix_str(p->host_addr, false, buf) : "*", p->host_port);
}

static int port_check(const struct net_nft_port *p, struct error *err)
{
        if (check_ifname(p->bridge, err) < 0)
                return error_ret(err);
        if (!p->proto || (strcmp(p->proto, "tcp") != 0 && strcmp(p->proto, "udp") != 0))
                return error_setx(err, EINVAL, "invalid protocol `%s`: tcp or udp", p->proto ? p->proto : "");
        if (p->host_port == 0 || (p->host_port_end && p->host_port_end < p->host_port))
                return error_setx(err, EINVAL, "invalid host port %u-%u", p->host_port, p->host_port_end);
        return 0;
}

int net_nft_publish(const struct net_nft_port *p, struct error *err)
{
        _cleanup_free_ char *tag = NULL, *what = NULL, *match = NULL, *ports = NULL, *to = NULL;
        _cleanup_cmds_ struct cmds c = {};
        const struct net_prefix *ca = &p->container_addr;
        const char *fk = family_kw(ca->family);
        char hbuf[NET_ADDR_STRLEN], cbuf[NET_ADDR_STRLEN], cport[16];
        bool range;
        int r;

        if (port_check(p, err) < 0)
                return error_ret(err);
        range = p->host_port_end && p->host_port_end != p->host_port;
        tag = port_tag(p);
        what = xasprintf("publish %s port %u on `%s`", p->proto, p->host_port, p->bridge);
        if (p->container_port == 0 || (range && p->container_port != p->host_port))
                return error_setx(err, EINVAL, "%s: invalid container port %u (ranges keep their ports)", what,
                                  p->container_port);
        if (p->host_addr && p->host_addr->family != ca->family)
                return error_setx(err, EINVAL, "%s: host address `%s` and container address `%s` differ in family",
                                  what, net_prefix_str(p->host_addr, false, hbuf), net_prefix_str(ca, false, cbuf));
        net_prefix_str(ca, false, cbuf);
        match = p->host_addr ? xasprintf("%s daddr %s", fk, net_prefix_str(p->host_addr, false, hbuf))
                             : xasprintf("meta nfproto %s", ca->family == AF_INET ? "ipv4" : "ipv6");
        ports = range ? xasprintf("%u-%u", p->host_port, p->host_port_end) : xasprintf("%u", p->host_port);
        if (range)
                to = xasprintf(ca->family == AF_INET ? "%s" : "[%s]", cbuf);
        else
                to = xasprintf(ca->family == AF_INET ? "%s:%u" : "[%s]:%u", cbuf, p->container_port);

        /* Only what is addressed to the host itself, not transit traffic. */
        cmds_add(&c, "add rule inet berth_nat prerouting %s fib daddr type local %s dport %s dnat %s to %s comment \"%s\"",
                 match, p->proto, ports, fk, to, tag);
        cmds_add(&c, "add rule inet berth_nat output %s fib daddr type local %s dport %s dnat %s to %s comment \"%s\"",
                 match, p->proto, ports, fk, to, tag);
        snprintf(cport, sizeof(cport), "%u", p->container_port);
        cmds_add(&c, "add rule inet berth publish oifname \"%s\" %s daddr %s %s dport %s ct status dnat accept comment \"%s\"",
                 p->bridge, fk, cbuf, p->proto, range ? ports : cport, tag);
        if (ca->family == AF_INET) {
                r = route_localnet(p->bridge, err);
                if (r < 0)
                        return error_prefix(err, "%s", what);
        }
        return apply(tag, c.buf, what, err);
}

int net_nft_unpublish(const struct net_nft_port *p, struct error *err)
{
        _cleanup_free_ char *tag = NULL, *what = NULL;

        if (port_check(p, err) < 0)
                return error_ret(err);
        tag = port_tag(p);
        what = xasprintf("unpublish %s port %u on `%s`", p->proto, p->host_port, p->bridge);
        return apply(tag, NULL, what, err);
}

int net_egress_rule_parse(const char *rule, struct net_prefix *ret, unsigned *ret_port, const char **ret_proto,
                          struct error *err)
{
        _cleanup_free_ char *cidr = NULL;
        const char *rest = "", *colon, *slash;
        unsigned long port = 0;

        if (rule[0] == '[') {
                const char *close = strchr(rule, ']');
                if (!close)
                        return error_setx(err, EINVAL, "no \"]\" after the IPv6 address");
                cidr = xstrndup(rule + 1, (size_t) (close - rule - 1));
                rest = close + 1;
        } else if ((colon = strchr(rule, ':')) && !strchr(colon + 1, ':')) {
                cidr = xstrndup(rule, (size_t) (colon - rule));
                rest = colon;
        } else
                cidr = xstrdup(rule);
        slash = strchr(cidr, '/');
        if (slash)
                *(char *) slash = '\0';
        if (net_addr_parse(cidr, ret, NULL) < 0)
                return error_setx(err, EINVAL, "invalid address %s", cidr);
        if (slash) {
                char *end;
                unsigned long len;
                errno = 0;
                len = strtoul(slash + 1, &end, 10);
                if (slash[1] < '0' || slash[1] > '9' || *end || errno || len > (ret->family == AF_INET ? 32 : 128))
                        return error_setx(err, EINVAL, "invalid prefix length /%s", slash + 1);
                ret->len = (unsigned) len;
        }
        *ret_proto = NULL;
        if (*rest) {
                char *end;
                if (*rest != ':' || rest[1] < '0' || rest[1] > '9')
                        return error_setx(err, EINVAL, "expected CIDR[:PORT[/PROTO]]");
                errno = 0;
                port = strtoul(rest + 1, &end, 10);
                if (errno || port == 0 || port > 65535 || (*end && *end != '/'))
                        return error_setx(err, EINVAL, "invalid port (1 to 65535)");
                if (*end == '/') {
                        if (strcmp(end + 1, "tcp") != 0 && strcmp(end + 1, "udp") != 0)
                                return error_setx(err, EINVAL, "invalid protocol \"%s\" (tcp or udp)", end + 1);
                        *ret_proto = strcmp(end + 1, "tcp") == 0 ? "tcp" : "udp";
                }
        }
        *ret_port = (unsigned) port;
        return 0;
}

/* One egress exception, "CIDR[:PORT[/PROTO]]", as an nftables match. */
static int egress_match(const char *rule, int family, char **ret, struct error *err)
{
        struct net_prefix p;
        char buf[NET_ADDR_STRLEN];
        const char *proto;
        unsigned port;
        int r = net_egress_rule_parse(rule, &p, &port, &proto, err);

        if (r < 0)
                return error_prefix(err, "invalid egress rule `%s`", rule);
        if (p.family != family)
                return error_setx(err, EINVAL, "invalid egress rule `%s`: not the container's address family", rule);
        /* the network address of the prefix, as nftables wants it */
        (void) net_prefix_nth(&p, 0, &p);
        net_prefix_str(&p, true, buf);
        if (!port)
                *ret = xasprintf("%s daddr %s", family_kw(family), buf);
        else
                *ret = xasprintf("%s daddr %s meta l4proto %s th dport %u", family_kw(family), buf,
                                 proto ? proto : "{ tcp, udp }", port);
        return 0;
}

int net_nft_egress(const struct net_prefix *addr, const char *const *rules, size_t n, enum net_nft_policy policy,
                   struct error *err)
{
        _cleanup_free_ char *tag = NULL, *what = NULL;
        _cleanup_cmds_ struct cmds c = {};
        char abuf[NET_ADDR_STRLEN];
        const char *fk = family_kw(addr->family);
        /* Reject rather than drop: the container's connect() fails at once. */
        const char *no = "reject with icmpx type admin-prohibited";
        int r;

        net_prefix_str(addr, false, abuf);
        tag = xasprintf("berth:egress:%s", abuf);
        what = xasprintf("set the egress policy of `%s`", abuf);
        if (policy != NET_NFT_ALLOW && policy != NET_NFT_DENY)
                return error_setx(err, EINVAL, "%s: invalid policy", what);
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *m = NULL;

                r = egress_match(rules[i], addr->family, &m, err);
                if (r < 0)
                        return r;
                cmds_add(&c, "add rule inet berth egress %s saddr %s %s %s comment \"%s\"", fk, abuf, m,
                         policy == NET_NFT_DENY ? "accept" : no, tag);
        }
        if (policy == NET_NFT_DENY)
                cmds_add(&c, "add rule inet berth egress %s saddr %s %s comment \"%s\"", fk, abuf, no, tag);
        return apply(tag, c.buf, what, err);
}

int net_nft_egress_remove(const struct net_prefix *addr, struct error *err)
{
        _cleanup_free_ char *tag = NULL, *what = NULL;
        char abuf[NET_ADDR_STRLEN];

        net_prefix_str(addr, false, abuf);
        tag = xasprintf("berth:egress:%s", abuf);
        what = xasprintf("remove the egress policy of `%s`", abuf);
        return apply(tag, NULL, what, err);
}

int net_nft_remove_all(struct error *err)
{
        /* Add then delete: one transaction, and absent tables are fine
         * (nftables 1.0.6 has no "destroy"). */
        return nft_exec("add table inet berth\n"
                        "delete table inet berth\n"
                        "add table inet berth_nat\n"
                        "delete table inet berth_nat\n",
                        "remove berth's nftables tables", err);
}

int net_nft_forward_guard(struct error *err)
{
        return apply("berth:guard",
                     "add rule inet berth networks iifname != @bridges oifname != @bridges drop comment \"berth:guard\"",
                     "limit forwarding to berth's bridges", err);
}

/* The text output of CMD (in berth's tables); *RET NULL when the table is
 * not there. */
static int list_text(const char *cmd, char **ret, struct error *err)
{
        _cleanup_nft_ctx_ struct nft_ctx *ctx = NULL;
        int r;

        *ret = NULL;
        r = ctx_open(false, &ctx, err);
        if (r < 0)
                return r;
        if (nft_run_cmd_from_buffer(ctx, cmd) != 0) {
                const char *e = nft_ctx_get_error_buffer(ctx);
                if (e && strstr(e, "No such file or directory"))
                        return 0;
                return nft_error(ctx, "list berth's rules", err);
        }
        *ret = xstrdup(nft_ctx_get_output_buffer(ctx) ?: "");
        return 0;
}

int net_nft_idle(bool *ret, struct error *err)
{
        _cleanup_free_ char *out = NULL;
        int r = list_text("list set inet berth bridges", &out, err);

        if (r < 0)
                return r;
        *ret = !out || !strstr(out, "elements = ");
        return 0;
}

int net_nft_rules(const char *tag, char ***ret, struct error *err)
{
        _cleanup_free_ char *out = NULL, *needle = xasprintf(" comment \"%s\"", tag);
        char **v = xzalloc(sizeof(char *)), *save = NULL;
        int r = list_text("list table inet berth", &out, err);

        if (r < 0) {
                strv_free(v);
                return r;
        }
        for (char *line = out ? strtok_r(out, "\n", &save) : NULL; line; line = strtok_r(NULL, "\n", &save)) {
                char *c = strstr(line, needle);
                if (!c || c[strlen(needle)] != '\0')
                        continue;
                *c = '\0';
                line += strspn(line, " \t");
                strv_push(&v, xstrdup(line));
        }
        *ret = v;
        return 0;
}
