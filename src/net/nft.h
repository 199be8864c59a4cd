/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "basic/error.h"
#include "net/net.h"

/* berth's firewall and NAT through libnftables (nft.c), in the network
 * namespace of the caller.
 *
 * berth owns exactly two tables and never touches anything else:
 *
 *   table inet berth       filtering: base chain "forward" (hook forward,
 *                          priority filter - 10, policy accept) jumping to
 *                          the regular chains "networks" (isolation and
 *                          internal networks), "egress" (per container) and
 *                          "publish" (accepts for published ports); the set
 *                          "bridges" holds every berth bridge.
 *   table inet berth_nat   NAT: "prerouting" and "output" (dstnat) for
 *                          published ports, "postrouting" (srcnat) for
 *                          masquerade.
 *
 * The host's firewall keeps its say: in nftables every base chain at a hook
 * sees the packet, and "accept" only ends the chain it is in, so berth's
 * accepts never skip a drop in the host's tables (a published port the host
 * drops in its forward chain stays dropped), while berth's own drops are
 * final.  Nothing here flushes, reorders or deletes another table's rules.
 *
 * Every rule berth adds carries a comment naming its owner
 * ("berth:net:BRIDGE", "berth:pub:BRIDGE:PROTO:HOST:PORT",
 * "berth:egress:ADDR"); removal deletes exactly the rules with that comment
 * (by handle, in one transaction with whatever replaces them), so each call
 * is atomic and idempotent.  Callers serialise calls (the engine's lock):
 * two concurrent calls for the same owner could both add its rules. */

/* Masquerade what SUBNETS (N of them) send out of any interface but BRIDGE,
 * unless INTERNAL; drop forwarding between BRIDGE and other berth bridges;
 * if INTERNAL, drop all forwarding into or out of BRIDGE.  Idempotent: the
 * network's rules are replaced. */
int net_nft_network_ensure(const char *bridge, const struct net_prefix *subnets, size_t n_subnets, bool internal,
                           struct error *err);
/* Delete the rules of BRIDGE's network (not its published ports: unpublish
 * those first); nothing to delete is success. */
int net_nft_network_remove(const char *bridge, struct error *err);

/* A published port: HOST_ADDR (NULL: every local address) : HOST_PORT
 * (through HOST_PORT_END when not 0, then CONTAINER_PORT must equal
 * HOST_PORT: ranges keep their ports) to CONTAINER_ADDR : CONTAINER_PORT
 * on BRIDGE.  PROTO is "tcp" or "udp".  The key, for unpublishing, is
 * BRIDGE, PROTO, HOST_ADDR and HOST_PORT. */
struct net_nft_port {
        const char *bridge;
        const char *proto;
        const struct net_prefix *host_addr;
        uint16_t host_port;
        uint16_t host_port_end;
        struct net_prefix container_addr;
        uint16_t container_port;
};
/* DNAT in prerouting (from outside) and output (from the host itself),
 * accept in forward.  Connections to 127.0.0.1 work for IPv4: the kernel
 * refuses to route a loopback source out of a non-loopback device unless
 * route_localnet is set on that (output) device, so this sets
 * net.ipv4.conf.BRIDGE.route_localnet=1 and the network masquerades
 * 127.0.0.0/8 sources leaving through BRIDGE (made by
 * net_nft_network_ensure).  IPv6 has no such knob: ::1 is not published.
 * Idempotent. */
int net_nft_publish(const struct net_nft_port *port, struct error *err);
int net_nft_unpublish(const struct net_nft_port *port, struct error *err);

enum net_nft_policy {
        NET_NFT_ALLOW,
        NET_NFT_DENY,
        _NET_NFT_POLICY_MAX,
        _NET_NFT_POLICY_INVALID = -EINVAL,
};
/* Egress of the container at ADDR, for what it forwards through the host
 * (traffic to the host itself and bridged traffic on its own network are
 * not forwarded, so not filtered).  RULES (N of them) are exceptions to
 * POLICY: "CIDR[:PORT[/PROTO]]", IPv6 in brackets when a port follows
 * ("[fd00::/64]:443/tcp"); a bare address is a /32 or /128; without PROTO
 * both tcp and udp.  With NET_NFT_DENY only the listed destinations pass
 * (and replies of connections made to the container); with NET_NFT_ALLOW
 * the listed ones are rejected.  Replaces the container's earlier rules. */
/* Parse one such rule: the prefix (a bare address: /32 or /128), the port
 * (0: any) and the protocol (NULL: both).  The error says what is wrong,
 * without the rule (callers name it). */
int net_egress_rule_parse(const char *rule, struct net_prefix *ret, unsigned *ret_port, const char **ret_proto,
                          struct error *err);
int net_nft_egress(const struct net_prefix *addr, const char *const *rules, size_t n, enum net_nft_policy policy,
                   struct error *err);
int net_nft_egress_remove(const struct net_prefix *addr, struct error *err);

/* Delete berth's tables (both); absent tables are success. */
int net_nft_remove_all(struct error *err);

/* Drop forwarding that neither comes from nor goes to a berth bridge: for
 * when berth turned IPv4 forwarding on for its networks, so that the host
 * routes nothing else it did not route before.  Idempotent; it goes with
 * the tables. */
int net_nft_forward_guard(struct error *err);
/* *RET: berth's tables are absent or hold no bridge (no network is up). */
int net_nft_idle(bool *ret, struct error *err);
/* The rules (nftables' text, without the comment) whose owner comment is
 * TAG, in table inet berth ("berth:egress:10.88.0.2"). */
int net_nft_rules(const char *tag, char ***ret, struct error *err);
