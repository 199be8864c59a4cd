/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "basic/error.h"
#include "image/store.h"

/* The engine: containers made from images, each run by an OCI runtime CLI
 * (berth-runtime unless the container says otherwise) and supervised by
 * its own berth-monitor (monitor.h).  No daemon: every `berth` call opens
 * the engine, reads the truth from the database and the containers'
 * directories, and repairs what a killed monitor or a reboot left
 * (engine_reconcile).
 *
 *   <root>/berth.db                the store's database: also the tables
 *                                  containers, volumes, volume_users
 *   <root>/containers/ID/          one per container:
 *       bundle/config.json         the OCI config of its last start
 *       rootfs/ diff/ work/        overlay mount point, upper and work dirs
 *       hosts hostname resolv.conf bind-mounted into it
 *       monitor.json status.json   monitor.h
 *       monitor.lock attach.sock   held / served by the monitor
 *       lock                       flock'd by commands changing the container
 *       ctr.log ctr.log.N          its output (json-file)
 *   <root>/volumes/NAME/_data      named and anonymous volumes
 *   <root>/run/RUNTIME/            the OCI runtime's --root
 */

struct engine;

/* Open the engine on the data root ROOT (made when missing).  SELF_DIR:
 * where berth-monitor, berth-init and berth-runtime are looked for first
 * (NULL: the directory of /proc/self/exe; $BERTH_MONITOR, $BERTH_INIT and
 * $BERTH_RUNTIME override each). */
int engine_open(const char *root, struct engine **ret, struct error *err);
void engine_close(struct engine *e);
struct store *engine_store(struct engine *e);

struct container {
        char *id, *name;
        char *image_id, *image;  /* the image's id, and its name as the user gave it */
        char *created;           /* RFC 3339 */
        char *runtime;           /* the OCI runtime's path */
        json_object *config;     /* the create body (ocispec.h) */
        json_object *status;     /* status.json, reconciled (monitor.h) */
        char *dir;               /* <root>/containers/ID */
        json_object *network;    /* network.json while attached to bridge networks (see networks below), else NULL */
};
void container_clear(struct container *c);
void containers_free(struct container *v, size_t n);
/* From C's status: */
const char *container_state(const struct container *c); /* "created", "running", … */
int container_exit_code(const struct container *c);     /* -1: unknown */
int container_pid(const struct container *c);
bool container_running(const struct container *c);     /* running, paused or restarting */

/* Make a container from CREATE (the create body, consumed): resolves the
 * image (Config.Image), the runtime (HostConfig.Runtime: a name in PATH
 * or a path; "" berth-runtime), turns the image's Volumes into anonymous
 * volumes, checks every mount source, makes named volumes on first use,
 * records it under NAME (NULL: a generated one).  Nothing is left behind
 * on failure. */
int engine_create(struct engine *e, json_object *create, const char *name, struct container *ret,
                  struct error *err);

/* Find a container by name, id or unique id prefix, reconciled. */
int engine_lookup(struct engine *e, const char *what, struct container *ret, struct error *err);
/* Every container, newest first, reconciled. */
int engine_list(struct engine *e, struct container **ret, size_t *ret_n, struct error *err);

/* Start C (created or exited).  ATTACH_FD NULL: started when this
 * returns.  Otherwise the container is created but waits for its first
 * attached client: *ATTACH_FD is a connection to its monitor that
 * engine_attach_stream() serves (and that starts it). */
int engine_start(struct engine *e, struct container *c, int *attach_fd, struct error *err);

/* Connect to C's monitor: the attach socket, or -ENOTCONN (error set)
 * when C is not running. */
int engine_connect(struct engine *e, const struct container *c, struct error *err);
/* Attach to C's monitor on FD (engine_connect() or engine_start()):
 * send MON_ATTACH (STREAMS: "oei" subset), copy the container's output to
 * OUT_FD/ERR_FD, IN_FD (-1: none) to its stdin, until it exits.  SIG_FD
 * (-1: none): a signalfd whose signals are passed to the container, but
 * SIGWINCH, which resizes its terminal to IN_FD's.  *RET_EXIT gets the
 * exit code (-1 if the monitor went away without one; ENGINE_DETACHED
 * when the user typed the detach keys, ctrl-p ctrl-q, on a terminal IN_FD:
 * the container runs on). */
#define ENGINE_DETACHED (-2)
int engine_attach_stream(int fd, const char *streams, int in_fd, int out_fd, int err_fd, int sig_fd, int *ret_exit,
                         struct error *err);

/* Stop: SIGNAL (0: the container's stop signal), SIGKILL after TIMEOUT
 * seconds (-1: the container's stop timeout, default 10); returns when it
 * has exited.  A container that is not running: nothing to do. */
int engine_stop(struct engine *e, struct container *c, int signal, int timeout, struct error *err);
int engine_kill(struct engine *e, struct container *c, int signal, struct error *err);
int engine_pause(struct engine *e, struct container *c, bool pause, struct error *err);
/* Wait until C is not running; *RET_CODE its exit code. */
int engine_wait(struct engine *e, struct container *c, int *ret_code, struct error *err);
/* Remove C: refused while running unless FORCE (then killed).  VOLUMES:
 * also its anonymous volumes.  Its mounts, runtime state, directory,
 * logs, database rows and image use go. */
int engine_remove(struct engine *e, struct container *c, bool force, bool volumes, struct error *err);
/* What the monitor runs after the container's last exit: unmount its root
 * file system, and remove it when it was created with AutoRemove.  A
 * container already gone is not an error. */
int engine_cleanup(struct engine *e, const char *id, struct error *err);
int engine_rename(struct engine *e, struct container *c, const char *name, struct error *err);

struct exec_opts {
        char **argv;
        char **env;           /* K=V */
        const char *workdir, *user;
        bool tty, interactive, detach, privileged;
};
/* Run a process in running container C with our stdio; returns its exit
 * code, or, detached, 0 once started.  A command not found in the
 * container is ENOENT ("executable file not found"), before anything runs. */
int engine_exec(struct engine *e, struct container *c, const struct exec_opts *o, struct error *err);

struct logs_opts {
        bool follow, timestamps;
        int64_t tail;         /* -1: all */
        int64_t since_ns, until_ns; /* 0: unset */
};
/* Write C's logs (stdout lines to OUT_FD, stderr lines to ERR_FD). */
int engine_logs(struct engine *e, struct container *c, const struct logs_opts *o, int out_fd, int err_fd,
                struct error *err);

/* The OCI runtime's own command line for C: RUNTIME --root DIR, as a
 * NULL-terminated vector ending where the subcommand goes. */
char **engine_runtime_argv(struct engine *e, const struct container *c);

/* ---- volumes ---- */
struct volume {
        char *name, *created, *mountpoint;
        json_object *labels;
        bool anonymous;
        char **users;  /* container ids */
};
void volume_clear(struct volume *v);
int volume_create(struct engine *e, const char *name, json_object *labels, bool anonymous, struct volume *ret,
                  struct error *err);
int volume_get(struct engine *e, const char *name, struct volume *ret, struct error *err);
int volume_list(struct engine *e, struct volume **ret, size_t *ret_n, struct error *err);
/* Refused (EBUSY) while a container uses it, unless FORCE. */
int volume_remove(struct engine *e, const char *name, bool force, struct error *err);
/* Remove every volume no container uses (ALL: named ones too; else only
 * anonymous ones, as Docker 23+); *RET_NAMES gets their names. */
int volume_prune(struct engine *e, bool all, char ***ret_names, struct error *err);

/* ---- networks (network.c: the database; netattach.c: the kernel) ----
 *
 * A network is a Linux bridge with a subnet (IPv4, and IPv6 with --ipv6),
 * NAT to the outside unless internal, isolated from berth's other
 * networks.  Its rows live in the tables networks and endpoints; each
 * container has one endpoint per network it joins (its address, MAC and
 * aliases, kept from create to rm).  The bridge and the network's nftables
 * rules exist while a running container is attached; the last one to go
 * takes them with it (half a second later: network_gc()).  "bridge" is the
 * default network, made on first use with a subnet that overlaps no
 * route of the host; "host" and "none" are listed as pseudo networks
 * (drivers "host" and "null") and are not rows.
 *
 * A running container on bridge networks has <root>/run/netns/ID (its
 * network namespace, bind-mounted), veths eth0, eth1, … and its
 * <dir>/network.json: Docker's NetworkSettings ("SandboxKey", "IPAddress",
 * "IPPrefixLen", "Gateway", "MacAddress", "GlobalIPv6Address",
 * "GlobalIPv6PrefixLen", "IPv6Gateway", "Ports": {"80/tcp": [{"HostIp":
 * "0.0.0.0", "HostPort": "8080"}] or null when only exposed}, "Networks":
 * {NAME: {"NetworkID", "Gateway", "IPAddress", "IPPrefixLen",
 * "IPv6Gateway", "GlobalIPv6Address", "GlobalIPv6PrefixLen", "MacAddress",
 * "Aliases": [..]}}, and berth's "Egress": {"Policy": "allow"|"deny",
 * "Exceptions": [..], "Rules": [the nftables rules in force]}).  It is
 * loaded as struct container's "network" (NULL when not attached). */
struct network {
        char *id, *name;
        char *driver;              /* "bridge", or "host" / "null" for the pseudo networks */
        char *bridge;              /* the bridge's device name ("" for the pseudo networks) */
        char *subnet, *gateway;    /* "10.89.0.0/24", "10.89.0.1" */
        char *ip_range;            /* "" or a prefix inside SUBNET that addresses are taken from */
        char *subnet6, *gateway6;  /* "" without IPv6 */
        bool internal;
        unsigned mtu;              /* 0: the default (1500) */
        json_object *labels;       /* an object */
        char *created;             /* RFC 3339 */
        char **containers;         /* ids of the containers with an endpoint on it (NULL-terminated) */
};
void network_clear(struct network *n);
void networks_free(struct network *v, size_t n);

struct network_opts {
        const char *subnet, *gateway, *ip_range;   /* NULL: picked / the first address / the subnet */
        bool ipv6;                                 /* dual stack: SUBNET6 or a picked ULA /64 */
        const char *subnet6, *gateway6;
        bool internal;
        unsigned mtu;                              /* 0: default */
        json_object *labels;                       /* borrowed; NULL: none */
};
/* Make network NAME.  Errors name the option: "--subnet: 10.88.0.0/33 is
 * not a valid prefix", "--subnet: 10.89.0.0/24 overlaps network `x`",
 * "--gateway: 10.0.0.1 is not in 10.89.0.0/24", EEXIST for a taken name. */
int network_create(struct engine *e, const char *name, const struct network_opts *o, struct network *ret,
                   struct error *err);
/* By name, id or unique id prefix ("host" and "none" too); ENOENT:
 * "network NAME not found". */
int network_get(struct engine *e, const char *what, struct network *ret, struct error *err);
/* bridge, host, none, then the others by name. */
int network_list(struct engine *e, struct network **ret, size_t *ret_n, struct error *err);
/* EBUSY while a container has an endpoint on it; EPERM for the
 * pre-defined bridge, host and none. */
int network_remove(struct engine *e, const char *what, struct error *err);
/* Remove every user network no container uses; *RET_NAMES their names. */
int network_prune(struct engine *e, char ***ret_names, struct error *err);

struct endpoint_opts {
        const char *ip, *ip6;      /* NULL: the lowest free address */
        const char *mac;           /* NULL: generated */
        char **aliases;            /* NULL-terminated or NULL */
};
/* Join C to NETWORK (a user network or "bridge"): a new endpoint; when C
 * runs, its new interface comes up at once and the names on the network
 * follow.  EEXIST when already joined. */
int network_connect(struct engine *e, struct container *c, const char *network, const struct endpoint_opts *o,
                    struct error *err);
/* The bridge and rules of network NET_ID (bridge BRIDGE) go unless a
 * running container uses it; E NULL: its data root is gone, they go.
 * When a network's last container stops, `berth network gc` does this
 * NETWORK_GC_DELAY_MS later (DELAYED), so that back-to-back starts do not
 * tear down and make again what the next one needs; such a gc leaves the
 * decision to a later one when the network was used meanwhile. */
#define NETWORK_GC_DELAY_MS 500
int network_gc(struct engine *e, const char *net_id, const char *bridge, bool delayed, struct error *err);
/* Leave NETWORK: the interface goes (when running), the endpoint and its
 * address are freed. */
int network_disconnect(struct engine *e, struct container *c, const char *network, struct error *err);
