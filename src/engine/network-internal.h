/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "engine/engine-internal.h"
#include "net/net.h"

/* network.c: a container's endpoint on a network (a row of endpoints with
 * its network's row). */
struct endpoint {
        struct network net;
        int idx; /* its interface is eth<idx>, its host side vb<id:12><idx in hex> */
        char *ip, *ip6, *mac; /* "" when none */
        json_object *aliases; /* an array */
};
void endpoint_clear(struct endpoint *ep);
void endpoints_free(struct endpoint *v, size_t n);
/* The endpoints of container ID, by interface index. */
int container_endpoints(struct engine *e, const char *container_id, struct endpoint **ret, size_t *ret_n,
                        struct error *err);
/* C's HostConfig.NetworkMode, "bridge" when unset or "default". */
const char *container_network_mode(const struct container *c);
/* Is MODE one of berth's bridge networks (not host, none, container:X)? */
bool network_mode_bridged(const char *mode);
/* C's endpoints from its NetworkMode and NetworkingConfig, in the
 * caller's transaction (engine_create's). */
int container_endpoints_create(struct engine *e, const struct container *c, struct error *err);

/* netattach.c: the kernel's side.
 *
 * Before C's runtime starts: its network namespace (bridged modes: made
 * and wired; container:X: X's), its /etc files, published ports and
 * egress rules; *RET_NETNS the namespace's path for config.json (NULL:
 * the runtime makes one, or the host's).  Nothing stays on failure. */
int container_net_attach(struct engine *e, const struct container *c, json_object *image_config, char **ret_netns,
                         struct error *err);
/* After C's last exit, at rm, or when its monitor died: everything
 * container_net_attach made goes; a network nobody uses any more loses
 * its bridge and rules.  Best effort, idempotent. */
void container_net_detach(struct engine *e, const struct container *c);
/* A running C joins / leaves network NET_ID (its endpoint row exists). */
int container_net_join(struct engine *e, const struct container *c, const char *net_id, struct error *err);
void container_net_leave(struct engine *e, const struct container *c, const char *net_id);
/* Rewrite the hosts files of the running containers on network NET_ID. */
void net_refresh_network(struct engine *e, const char *net_id);
/* C's hostname: Config.Hostname, the host's with host networking, else its
 * short id. */
char *container_hostname(const struct container *c);
/* Load C's network.json into C->network (NULL when absent). */
void container_network_load(struct container *c);
