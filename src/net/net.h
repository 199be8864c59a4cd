/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

#include "basic/error.h"

/* berth's networks (issue #8), the kernel side: links, addresses and routes
 * through netlink (libmnl, link.c), firewall and NAT through nftables
 * (libnftables, nft.c), address arithmetic (addr.c).  No state of its own:
 * the engine keeps networks and allocations in its database and calls these
 * to make the kernel match.  Every function is idempotent where the name
 * says "ensure", and fails with a message naming the interface, address or
 * rule otherwise.  Nothing here prints. */

/* ---- addresses (addr.c) ---- */
struct net_prefix {
        int family;              /* AF_INET or AF_INET6 */
        union {
                struct in_addr v4;
                struct in6_addr v6;
        } addr;                  /* network address (host bits zero) or an address in it */
        unsigned len;            /* prefix length */
};
/* "10.88.0.0/16", "fd00:1::/64" (a host address with host bits set is an
 * error naming it, unless ALLOW_HOST_BITS: "10.88.0.5/16"). */
int net_prefix_parse(const char *s, bool allow_host_bits, struct net_prefix *ret, struct error *err);
/* "10.88.0.5" (no prefix): *RET with len 32 / 128. */
int net_addr_parse(const char *s, struct net_prefix *ret, struct error *err);
/* Text forms: with the prefix ("10.88.0.1/16") or without; into BUF. */
#define NET_ADDR_STRLEN 64
const char *net_prefix_str(const struct net_prefix *p, bool with_len, char buf[NET_ADDR_STRLEN]);
bool net_prefix_contains(const struct net_prefix *net, const struct net_prefix *addr);
bool net_prefix_overlaps(const struct net_prefix *a, const struct net_prefix *b);
/* The Nth address of NET (0 the network address): ENOSPC past its end. */
int net_prefix_nth(const struct net_prefix *net, uint64_t n, struct net_prefix *ret);
/* ADDR's offset inside NET (its host bits; UINT64_MAX past 64 bits), and
 * the number of addresses of NET (UINT64_MAX from 2^64 on). */
uint64_t net_prefix_offset(const struct net_prefix *net, const struct net_prefix *addr);
uint64_t net_prefix_size(const struct net_prefix *net);
/* The routes of the host (IPv4 and IPv6, from /proc/net/route and
 * /proc/net/ipv6_route), as prefixes; malloc'd array. */
int net_host_routes(struct net_prefix **ret, size_t *ret_n, struct error *err);
/* The first /LEN in POOL ("10.88.0.0/12" style) that overlaps neither a
 * host route nor one of the TAKEN prefixes: for a default network. */
int net_pick_subnet(const struct net_prefix *pool, unsigned len, const struct net_prefix *taken, size_t n_taken,
                    struct net_prefix *ret, struct error *err);

/* ---- links (link.c, netlink through libmnl) ---- */
/* A netlink route socket in network namespace NETNS_FD (-1: ours). */
struct net_nl;
int net_nl_open(int netns_fd, struct net_nl **ret, struct error *err);
void net_nl_close(struct net_nl *nl);

/* A bridge NAME with MTU (0: default), up; made unless it exists (then its
 * MTU is left alone). */
int net_bridge_ensure(struct net_nl *nl, const char *name, unsigned mtu, struct error *err);
/* A veth pair HOST_NAME / PEER_NAME in NL's namespace, MTU (0: default),
 * the host end attached to bridge MASTER (NULL: none) and up; the peer is
 * moved into PEER_NETNS_FD and renamed PEER_NEW_NAME ("eth0") there. */
int net_veth_create(struct net_nl *nl, const char *host_name, const char *master, const char *peer_name,
                    int peer_netns_fd, const char *peer_new_name, unsigned mtu, const uint8_t *peer_mac,
                    struct error *err);
/* Delete link NAME (its veth peer goes with it); ENOENT is success. */
int net_link_delete(struct net_nl *nl, const char *name, struct error *err);
bool net_link_exists(struct net_nl *nl, const char *name);
int net_link_up(struct net_nl *nl, const char *name, struct error *err);
/* Take link NAME down (a bridge port: its learned addresses go); no such
 * link is success. */
int net_link_down(struct net_nl *nl, const char *name, struct error *err);
/* Add ADDR (with its prefix length) to NAME; EEXIST is success. */
int net_addr_add(struct net_nl *nl, const char *name, const struct net_prefix *addr, struct error *err);
/* A default route through GW (family from GW) in NL's namespace. */
int net_route_default(struct net_nl *nl, const struct net_prefix *gw, struct error *err);
/* The index of link NAME (> 0); -ENODEV with an error naming it if none. */
int net_link_index(struct net_nl *nl, const char *name, struct error *err);
/* Set the MTU of link NAME (a bridge's MTU stops following its ports). */
int net_link_set_mtu(struct net_nl *nl, const char *name, unsigned mtu, struct error *err);
