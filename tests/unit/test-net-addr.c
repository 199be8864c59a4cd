/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Address arithmetic (src/net/addr.c): parsing, printing, containment,
 * the Nth address, the host's routes and picking a free subnet.  Pure but
 * for the routes; the subnet picks run in a network namespace of their own
 * when we may make one, so the host's routes do not move the answers. */
#include <sched.h>
#include <string.h>

#include "basic/error.h"
#include "net/net.h"
#include "tap.h"

static struct net_prefix P(const char *s)
{
        struct net_prefix p = {};
        struct error err = ERROR_INIT;

        if (net_prefix_parse(s, true, &p, &err) < 0) {
                printf("# fixture `%s`: %s\n", s, err.msg);
                error_clear(&err);
        }
        return p;
}

static void parse_ok(const char *s, bool host_bits, const char *want)
{
        _cleanup_error_ struct error err = ERROR_INIT;
        struct net_prefix p;
        char buf[NET_ADDR_STRLEN];
        int r = net_prefix_parse(s, host_bits, &p, &err);

        ok(r == 0 && strcmp(net_prefix_str(&p, true, buf), want) == 0, "parse `%s` -> `%s` (%s)", s, want,
           r == 0 ? buf : err.msg);
}

static void parse_bad(const char *s, bool host_bits)
{
        _cleanup_error_ struct error err = ERROR_INIT;
        struct net_prefix p;
        int r = net_prefix_parse(s, host_bits, &p, &err);

        ok(r == -EINVAL && err.msg && strstr(err.msg, s), "reject `%s` (%s)", s, err.msg ? err.msg : "accepted");
}

static void test_parse(void)
{
        _cleanup_error_ struct error err = ERROR_INIT;
        struct net_prefix p;
        char buf[NET_ADDR_STRLEN];

        parse_ok("10.88.0.0/16", false, "10.88.0.0/16");
        parse_ok("0.0.0.0/0", false, "0.0.0.0/0");
        parse_ok("10.88.0.5/32", false, "10.88.0.5/32");
        parse_ok("10.88.0.5/16", true, "10.88.0.5/16");
        parse_ok("fd00:1::/64", false, "fd00:1::/64");
        parse_ok("::/0", false, "::/0");
        parse_ok("fd00:1::5/64", true, "fd00:1::5/64");
        parse_ok("2001:db8::1/128", false, "2001:db8::1/128");

        parse_bad("10.88.0.5/16", false);
        parse_bad("fd00:1::5/64", false);
        parse_bad("10.88.0.0/33", false);
        parse_bad("fd00::/129", false);
        parse_bad("10.88.0.0", false);
        parse_bad("10.88.0.0/", false);
        parse_bad("10.88.0.0/-1", false);
        parse_bad("10.88.0.0/+8", false);
        parse_bad("10.88.0.0/ 8", false);
        parse_bad("10.88.0.0/16x", false);
        parse_bad("10.88.0.0/0016", false);
        parse_bad("10.88.0/16", false);
        parse_bad("10.88.0.256/32", false);
        parse_bad("garbage/8", false);
        parse_bad("/8", false);
        parse_bad("fd00:::1/64", false);
        parse_bad(" 10.0.0.0/8", false);

        ok(net_addr_parse("10.88.0.5", &p, &err) == 0 && p.family == AF_INET && p.len == 32 &&
                   strcmp(net_prefix_str(&p, false, buf), "10.88.0.5") == 0,
           "address 10.88.0.5");
        ok(net_addr_parse("fd00::5", &p, &err) == 0 && p.family == AF_INET6 && p.len == 128 &&
                   strcmp(net_prefix_str(&p, true, buf), "fd00::5/128") == 0,
           "address fd00::5");
        ok(net_addr_parse("10.88.0.5/32", &p, &err) == -EINVAL && strstr(err.msg, "10.88.0.5/32"),
           "address with a prefix rejected (%s)", err.msg);
        error_clear(&err);
        ok(net_addr_parse("nope", &p, &err) == -EINVAL && strstr(err.msg, "nope"), "address garbage rejected");
}

static void test_contains(void)
{
        struct net_prefix n16 = P("10.88.0.0/16"), n24 = P("10.88.3.0/24"), other = P("10.89.0.0/16");
        struct net_prefix a = P("10.88.200.7/32"), v6 = P("fd00:1::/64"), v6a = P("fd00:1::99/128");
        struct net_prefix all = P("0.0.0.0/0");

        ok(net_prefix_contains(&n16, &n24), "/16 contains /24 inside");
        ok(!net_prefix_contains(&n24, &n16), "/24 does not contain its /16");
        ok(net_prefix_contains(&n16, &a), "/16 contains an address");
        ok(!net_prefix_contains(&other, &a), "other /16 does not");
        ok(net_prefix_contains(&all, &a), "0.0.0.0/0 contains everything");
        ok(net_prefix_contains(&v6, &v6a), "v6 /64 contains its address");
        ok(!net_prefix_contains(&v6, &a) && !net_prefix_overlaps(&v6, &a), "families never mix");
        ok(net_prefix_overlaps(&n16, &n24) && net_prefix_overlaps(&n24, &n16), "overlap is symmetric");
        ok(!net_prefix_overlaps(&n16, &other), "adjacent /16s do not overlap");
}

static void nth_is(const char *net, uint64_t n, const char *want)
{
        struct net_prefix p = P(net), r;
        char buf[NET_ADDR_STRLEN];
        int ret = net_prefix_nth(&p, n, &r);

        ok(ret == 0 && strcmp(net_prefix_str(&r, true, buf), want) == 0, "%s #%llu = %s (%s)", net,
           (unsigned long long) n, want, ret == 0 ? buf : "error");
}

static void test_nth(void)
{
        struct net_prefix p = P("10.88.0.0/24"), r;
        struct net_prefix v6 = P("fd00::/120"), h = P("10.0.0.1/32"), big = P("fd00::/8");

        nth_is("10.88.0.0/16", 0, "10.88.0.0/16");
        nth_is("10.88.0.0/16", 1, "10.88.0.1/16");
        nth_is("10.88.0.0/16", 256, "10.88.1.0/16");
        nth_is("10.88.0.0/16", 65535, "10.88.255.255/16");
        nth_is("10.88.0.9/16", 2, "10.88.0.2/16");
        nth_is("fd00:1::/64", 1, "fd00:1::1/64");
        nth_is("fd00:1::/64", 0x10000, "fd00:1::1:0/64");
        nth_is("fd00::/8", UINT64_MAX, "fd00::ffff:ffff:ffff:ffff/8");
        nth_is("255.255.255.0/24", 255, "255.255.255.255/24");
        ok(net_prefix_nth(&p, 256, &r) == -ENOSPC, "past a /24: ENOSPC");
        ok(net_prefix_nth(&v6, 256, &r) == -ENOSPC, "past a v6 /120: ENOSPC");
        ok(net_prefix_nth(&h, 1, &r) == -ENOSPC && net_prefix_nth(&h, 0, &r) == 0, "a /32 holds one");
        ok(net_prefix_nth(&big, UINT64_MAX, &r) == 0, "a v6 /8 holds any uint64");
}

static void test_routes(void)
{
        _cleanup_error_ struct error err = ERROR_INIT;
        _cleanup_free_ struct net_prefix *routes = NULL;
        size_t n = 0;
        int r = net_host_routes(&routes, &n, &err);
        bool sane = true;

        ok(r == 0, "host routes parse (%s)", r == 0 ? "ok" : err.msg);
        for (size_t i = 0; i < n; i++) {
                char buf[NET_ADDR_STRLEN];
                struct net_prefix chk;
                _cleanup_error_ struct error e2 = ERROR_INIT;

                printf("# route %s\n", net_prefix_str(&routes[i], true, buf));
                /* A route's destination has no host bits: it must parse strictly. */
                if (net_prefix_parse(buf, false, &chk, &e2) < 0)
                        sane = false;
        }
        ok(sane, "%zu host routes, all well-formed prefixes", n);
}

static void pick_is(const char *pool, unsigned len, const char **taken, size_t n_taken, const char *want)
{
        _cleanup_error_ struct error err = ERROR_INIT;
        struct net_prefix p = P(pool), t[8], r;
        char buf[NET_ADDR_STRLEN];
        int ret;

        for (size_t i = 0; i < n_taken; i++)
                t[i] = P(taken[i]);
        ret = net_pick_subnet(&p, len, t, n_taken, &r, &err);
        if (!want)
                ok(ret == -ENOSPC, "pick /%u in %s: full (%s)", len, pool, ret < 0 ? err.msg : "got one");
        else
                ok(ret == 0 && strcmp(net_prefix_str(&r, true, buf), want) == 0, "pick /%u in %s = %s (%s)", len,
                   pool, want, ret == 0 ? buf : err.msg);
}

static void test_pick(void)
{
        const char *t1[] = { "10.88.0.0/16" };
        const char *t2[] = { "10.88.0.0/16", "10.89.0.0/24", "10.90.0.0/16" };
        const char *t3[] = { "10.64.0.0/10" };
        const char *t4[] = { "10.88.0.0/16", "10.89.0.0/16", "10.90.0.0/16", "10.91.0.0/16" };
        const char *t6[] = { "fd00:1::/64", "fd00:1:0:1::/64" };
        const char *t7[] = { "0.0.0.0/0" };

        /* Routes of a fresh namespace: none (lo is down). */
        if (unshare(CLONE_NEWNET) < 0) {
                skip_named("host limit: unshare(CLONE_NEWNET) failed, picks depend on the host's routes",
                           "subnet picks");
                return;
        }
        pick_is("10.88.0.0/14", 16, NULL, 0, "10.88.0.0/16");
        pick_is("10.88.0.0/14", 16, t1, 1, "10.89.0.0/16");
        pick_is("10.88.0.0/14", 16, t2, 3, "10.91.0.0/16");
        pick_is("10.0.0.0/8", 16, t3, 1, "10.0.0.0/16");
        pick_is("10.64.0.0/10", 16, t3, 1, NULL);
        pick_is("10.88.0.0/14", 16, t4, 4, NULL);
        pick_is("fd00:1::/48", 64, t6, 2, "fd00:1:0:2::/64");
        /* A taken 0.0.0.0/0 counts; a host default route does not (below). */
        pick_is("10.88.0.0/14", 16, t7, 1, NULL);

        /* With host routes: a default route and a /16 in the pool. */
        if (system("ip link set lo up && ip link add dummy0 type veth peer name dummy1 && ip link set dummy0 up && "
                   "ip addr add 10.88.0.1/16 dev dummy0 && ip route add default dev dummy0 && "
                   "ip -6 addr add fd00:1::1/64 dev dummy0 nodad && ip -6 route add default dev dummy0") != 0) {
                skip_named("host limit: ip(8) could not set up routes", "picks around host routes");
                return;
        }
        pick_is("10.88.0.0/14", 16, NULL, 0, "10.89.0.0/16");
        pick_is("10.88.0.0/14", 24, NULL, 0, "10.89.0.0/24");
        pick_is("fd00:1::/48", 64, NULL, 0, "fd00:1:0:1::/64");
}

int main(void)
{
        test_parse();
        test_contains();
        test_nth();
        test_routes();
        test_pick();
        return tap_done();
}
