/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Address arithmetic for berth's networks: parsing and printing prefixes,
 * containment and overlap, the Nth address of a subnet, the host's routes
 * and picking a free subnet from a pool.  Addresses are handled as 128-bit
 * integers in host order (IPv4 in the low 32 bits), which keeps the
 * arithmetic the same for both families. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic/error.h"
#include "basic/macro.h"
#include "net/net.h"

typedef unsigned __int128 u128;

static unsigned family_bits(int family)
{
        return family == AF_INET ? 32 : 128;
}

static u128 prefix_to_u128(const struct net_prefix *p)
{
        u128 v = 0;

        if (p->family == AF_INET)
                return ntohl(p->addr.v4.s_addr);
        for (size_t i = 0; i < 16; i++)
                v = (v << 8) | p->addr.v6.s6_addr[i];
        return v;
}

static void u128_to_prefix(int family, u128 v, unsigned len, struct net_prefix *ret)
{
        memset(ret, 0, sizeof(*ret));
        ret->family = family;
        ret->len = len;
        if (family == AF_INET) {
                ret->addr.v4.s_addr = htonl((uint32_t) v);
                return;
        }
        for (int i = 15; i >= 0; i--) {
                ret->addr.v6.s6_addr[i] = (uint8_t) v;
                v >>= 8;
        }
}

/* The mask of a LEN-bit prefix in a BITS-wide address. */
static u128 mask_of(unsigned bits, unsigned len)
{
        u128 all = bits == 128 ? ~(u128) 0 : (((u128) 1 << bits) - 1);

        if (len == 0)
                return 0;
        return all & ~((((u128) 1) << (bits - len)) - 1) & all;
}

/* Parse the text address A (no prefix) into *RET with the full length. */
static int addr_from_text(const char *a, struct net_prefix *ret)
{
        struct net_prefix p = {};

        if (inet_pton(AF_INET, a, &p.addr.v4) == 1)
                p.family = AF_INET;
        else if (inet_pton(AF_INET6, a, &p.addr.v6) == 1)
                p.family = AF_INET6;
        else
                return -EINVAL;
        p.len = family_bits(p.family);
        *ret = p;
        return 0;
}

int net_prefix_parse(const char *s, bool allow_host_bits, struct net_prefix *ret, struct error *err)
{
        _cleanup_free_ char *a = NULL;
        const char *slash, *l;
        struct net_prefix p;
        unsigned len = 0;
        u128 v;

        if (!s)
                return error_setx(err, EINVAL, "no prefix given");
        slash = strchr(s, '/');
        if (!slash)
                return error_setx(err, EINVAL, "invalid prefix `%s`: no prefix length", s);
        a = xstrndup(s, (size_t) (slash - s));
        if (addr_from_text(a, &p) < 0)
                return error_setx(err, EINVAL, "invalid prefix `%s`: bad address", s);
        l = slash + 1;
        if (!*l || strlen(l) > 3)
                return error_setx(err, EINVAL, "invalid prefix `%s`: bad prefix length", s);
        for (; *l; l++) {
                if (!isdigit((unsigned char) *l))
                        return error_setx(err, EINVAL, "invalid prefix `%s`: bad prefix length", s);
                len = len * 10 + (unsigned) (*l - '0');
        }
        if (len > family_bits(p.family))
                return error_setx(err, EINVAL, "invalid prefix `%s`: length %u exceeds %u", s, len,
                                  family_bits(p.family));
        p.len = len;
        v = prefix_to_u128(&p);
        if (!allow_host_bits && (v & ~mask_of(family_bits(p.family), len)) != 0)
                return error_setx(err, EINVAL, "invalid prefix `%s`: host bits set", s);
        *ret = p;
        return 0;
}

int net_addr_parse(const char *s, struct net_prefix *ret, struct error *err)
{
        if (!s || addr_from_text(s, ret) < 0)
                return error_setx(err, EINVAL, "invalid address `%s`", s ? s : "");
        return 0;
}

const char *net_prefix_str(const struct net_prefix *p, bool with_len, char buf[NET_ADDR_STRLEN])
{
        char a[INET6_ADDRSTRLEN];

        if (!inet_ntop(p->family, &p->addr, a, sizeof(a)))
                snprintf(a, sizeof(a), "?");
        if (with_len)
                snprintf(buf, NET_ADDR_STRLEN, "%s/%u", a, p->len);
        else
                snprintf(buf, NET_ADDR_STRLEN, "%s", a);
        return buf;
}

static bool same_under(const struct net_prefix *a, const struct net_prefix *b, unsigned len)
{
        u128 m = mask_of(family_bits(a->family), len);

        return (prefix_to_u128(a) & m) == (prefix_to_u128(b) & m);
}

bool net_prefix_contains(const struct net_prefix *net, const struct net_prefix *addr)
{
        if (net->family != addr->family || net->len > addr->len)
                return false;
        return same_under(net, addr, net->len);
}

bool net_prefix_overlaps(const struct net_prefix *a, const struct net_prefix *b)
{
        if (a->family != b->family)
                return false;
        return same_under(a, b, a->len < b->len ? a->len : b->len);
}

/* *RET keeps NET's length, so "10.88.0.0/16" gives "10.88.0.1/16" for 1:
 * the form an interface address takes. */
int net_prefix_nth(const struct net_prefix *net, uint64_t n, struct net_prefix *ret)
{
        unsigned bits = family_bits(net->family), host = bits - net->len;
        u128 base;

        if (host < 64 && n >= ((uint64_t) 1 << host))
                return -ENOSPC;
        base = prefix_to_u128(net) & mask_of(bits, net->len);
        u128_to_prefix(net->family, base + n, net->len, ret);
        return 0;
}

uint64_t net_prefix_offset(const struct net_prefix *net, const struct net_prefix *addr)
{
        unsigned bits = family_bits(net->family);
        u128 off = (prefix_to_u128(addr) & ~mask_of(bits, net->len)) & (bits == 128 ? ~(u128) 0
                                                                                   : (((u128) 1 << bits) - 1));

        return off > UINT64_MAX ? UINT64_MAX : (uint64_t) off;
}

uint64_t net_prefix_size(const struct net_prefix *net)
{
        unsigned host = family_bits(net->family) - net->len;

        return host >= 64 ? UINT64_MAX : (uint64_t) 1 << host;
}

static void routes_push(struct net_prefix **v, size_t *n, const struct net_prefix *p)
{
        *v = xrealloc(*v, (*n + 1) * sizeof(**v));
        (*v)[(*n)++] = *p;
}

/* /proc/net/route prints each __be32 as a u32 in the CPU's order ("%08X"),
 * so storing the parsed number back into s_addr restores the address on
 * either endianness. */
static int routes_v4(struct net_prefix **v, size_t *n, struct error *err)
{
        _cleanup_fclose_ FILE *f = fopen("/proc/net/route", "re");
        char line[512];

        if (!f)
                return errno == ENOENT ? 0 : error_set(err, errno, "open `/proc/net/route`");
        if (!fgets(line, sizeof(line), f))
                return 0;
        while (fgets(line, sizeof(line), f)) {
                char ifname[64];
                unsigned dst, gw, flags, refcnt, use, metric, mask;
                struct net_prefix p = { .family = AF_INET };

                if (sscanf(line, "%63s %x %x %x %u %u %u %x", ifname, &dst, &gw, &flags, &refcnt, &use, &metric,
                           &mask) != 8)
                        return error_setx(err, EINVAL, "parse `/proc/net/route`: bad line `%.64s`", line);
                p.addr.v4.s_addr = dst & mask;
                p.len = (unsigned) __builtin_popcount(mask);
                routes_push(v, n, &p);
        }
        return 0;
}

static int hex_digit(char c)
{
        if (c >= '0' && c <= '9')
                return c - '0';
        if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
                return (c | 0x20) - 'a' + 10;
        return -1;
}

static int hex_byte(const char *s)
{
        int hi = hex_digit(s[0]), lo = hi < 0 ? -1 : hex_digit(s[1]);

        return hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
}

/* /proc/net/ipv6_route: 32 hex digits of destination (bytes in network
 * order), its length in hex, then source, next hop, ... ; missing when
 * IPv6 is disabled. */
static int routes_v6(struct net_prefix **v, size_t *n, struct error *err)
{
        _cleanup_fclose_ FILE *f = fopen("/proc/net/ipv6_route", "re");
        char line[512];

        if (!f)
                return errno == ENOENT ? 0 : error_set(err, errno, "open `/proc/net/ipv6_route`");
        while (fgets(line, sizeof(line), f)) {
                struct net_prefix p = { .family = AF_INET6 };
                int b, len;

                if (strlen(line) < 35 || line[32] != ' ')
                        return error_setx(err, EINVAL, "parse `/proc/net/ipv6_route`: bad line `%.64s`", line);
                for (size_t i = 0; i < 16; i++) {
                        b = hex_byte(line + 2 * i);
                        if (b < 0)
                                return error_setx(err, EINVAL, "parse `/proc/net/ipv6_route`: bad line `%.64s`", line);
                        p.addr.v6.s6_addr[i] = (uint8_t) b;
                }
                len = hex_byte(line + 33);
                if (len < 0 || len > 128)
                        return error_setx(err, EINVAL, "parse `/proc/net/ipv6_route`: bad line `%.64s`", line);
                p.len = (unsigned) len;
                routes_push(v, n, &p);
        }
        return 0;
}

int net_host_routes(struct net_prefix **ret, size_t *ret_n, struct error *err)
{
        _cleanup_free_ struct net_prefix *v = NULL;
        size_t n = 0;
        int r;

        r = routes_v4(&v, &n, err);
        if (r < 0)
                return r;
        r = routes_v6(&v, &n, err);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(v);
        *ret_n = n;
        return 0;
}

/* The first of LIST (of N) that overlaps CAND; default routes (length 0)
 * are skipped when SKIP_DEFAULT, else every subnet would overlap them. */
static const struct net_prefix *first_overlap(const struct net_prefix *cand, const struct net_prefix *list, size_t n,
                                              bool skip_default)
{
        for (size_t i = 0; i < n; i++)
                if ((list[i].len > 0 || !skip_default) && net_prefix_overlaps(cand, &list[i]))
                        return &list[i];
        return NULL;
}

int net_pick_subnet(const struct net_prefix *pool, unsigned len, const struct net_prefix *taken, size_t n_taken,
                    struct net_prefix *ret, struct error *err)
{
        _cleanup_free_ struct net_prefix *routes = NULL;
        unsigned bits = family_bits(pool->family);
        char pbuf[NET_ADDR_STRLEN];
        size_t n_routes = 0;
        u128 cur, end, step;
        int r;

        if (len < pool->len || len > bits)
                return error_setx(err, EINVAL, "pick a /%u in `%s`: bad length", len,
                                  net_prefix_str(pool, true, pbuf));
        r = net_host_routes(&routes, &n_routes, err);
        if (r < 0)
                return r;

        step = len == 0 ? 0 : (u128) 1 << (bits - len);
        cur = prefix_to_u128(pool) & mask_of(bits, pool->len);
        /* The last address of the pool: the loop stops once past it. */
        end = cur | ~mask_of(bits, pool->len);
        if (bits == 32)
                end &= 0xffffffffu;
        for (;;) {
                struct net_prefix cand;
                const struct net_prefix *o;
                u128 next;

                u128_to_prefix(pool->family, cur, len, &cand);
                o = first_overlap(&cand, routes, n_routes, true);
                if (!o)
                        o = first_overlap(&cand, taken, n_taken, false);
                if (!o) {
                        *ret = cand;
                        return 0;
                }
                /* Jump past whichever is larger: the candidate or what it hit. */
                if (o->len == 0)
                        break;
                if (o->len < len) {
                        u128 ob = prefix_to_u128(o) & mask_of(bits, o->len);
                        next = ob + ((u128) 1 << (bits - o->len));
                        if (next == 0 || (bits == 32 && next >> 32))
                                break;
                } else {
                        if (step == 0)
                                break;
                        next = cur + step;
                }
                if (next <= cur || next > end || (bits == 32 && next >> 32))
                        break;
                cur = next;
        }
        return error_setx(err, ENOSPC, "no free /%u left in `%s`", len, net_prefix_str(pool, true, pbuf));
}
