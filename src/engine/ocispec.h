/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

#include "basic/error.h"

/* A container's configuration as the engine stores it and `inspect`
 * shows it: Docker's container-create body, a JSON object with
 *
 *   "Config": { "Image": "full name or id as given", "Cmd": [..]|null,
 *               "Entrypoint": [..]|null (an empty array: --entrypoint ""),
 *               "Env": ["K=V", ...] (from -e/--env-file only), "WorkingDir": "",
 *               "User": "", "Hostname": "", "Labels": {..}, "Tty": false,
 *               "OpenStdin": false, "StopSignal": "SIGTERM"|"", "StopTimeout": N|null,
 *               "Healthcheck": null | { "Test": ["CMD-SHELL", ".."] | ["CMD", ..] | ["NONE"],
 *                                       "Interval": NS, "Timeout": NS, "StartPeriod": NS,
 *                                       "Retries": N } }
 *   "HostConfig": { "Mounts": [ { "Type": "bind"|"volume"|"tmpfs", "Source": "abs path|volume
 *                                 name|\"\"", "Target": "/abs", "ReadOnly": false,
 *                                 "BindOptions": {"Propagation": "rprivate"}, (bind, optional)
 *                                 "TmpfsOptions": {"SizeBytes": N, "Mode": N} (tmpfs, optional),
 *                                 "VolumeOptions": {"NoCopy": false} (volume, optional) } ],
 *                   "ReadonlyRootfs": false, "Memory": BYTES, "MemorySwap": BYTES (-1: unlimited),
 *                   "NanoCpus": N, "CpuShares": N, "CpusetCpus": "", "PidsLimit": N (0: unset),
 *                   "BlkioWeight": N, "BlkioDeviceReadBps": [ {"Path": "/dev/x", "Rate": N} ],
 *                   "Devices": [ {"PathOnHost": "", "PathInContainer": "", "CgroupPermissions": "rwm"} ],
 *                   "CapAdd": [..], "CapDrop": [..] ("ALL" allowed; names with or without CAP_),
 *                   "Privileged": false,
 *                   "SecurityOpt": ["seccomp=unconfined" | "seccomp=<profile JSON text>",
 *                                   "no-new-privileges"],
 *                   "UsernsMode": "" | "host" | "auto" | "UID:HOSTUID:COUNT",
 *                   "Init": false, "RestartPolicy": {"Name": "no", "MaximumRetryCount": 0},
 *                   "LogConfig": {"Type": "json-file", "Config": {"max-size": "10m", "max-file": "3"}},
 *                   "NetworkMode": "none" | "host" (default "none": own network namespace, loopback up),
 *                   "Runtime": "", "AutoRemove": false } }
 *
 * The engine resolves what needs the host before calling ocispec_build()
 * (volume names to directories, the init binary, the hosts files): see
 * struct ocispec_env. */

/* What the engine knows about one start of a container. */
struct ocispec_env {
        const char *id;            /* container id (64 hex) */
        const char *rootfs;        /* absolute path of the mounted root file system */
        int rootfs_fd;             /* an O_PATH|O_DIRECTORY fd of it: /etc/passwd and /etc/group are read
                                    * through it (never following a symlink out of it) */
        const char *volumes_dir;   /* a volume NAME is VOLUMES_DIR/NAME/_data */
        const char *hosts_file, *hostname_file, *resolv_file; /* bind-mounted read-write at /etc/hosts,
                                    * /etc/hostname, /etc/resolv.conf (NULL: not mounted) */
        const char *init_path;     /* the static init binary for "Init": bind-mounted read-only at
                                    * /sbin/berth-init and made the first argument */
        const char *cgroup_path;   /* linux.cgroupsPath, e.g. "/berth-ID" */
        const char *netns_path;    /* the network namespace to join (bridge networks, container:X);
                                    * NULL: a new one ("none") or the host's ("host") */
        uint32_t userns_uid, userns_gid, userns_count; /* "auto": the range the engine picked */
};

/* Build the OCI runtime config (config.json) of a container: CREATE is
 * the body above, IMAGE_CONFIG the image's OCI config (its "config" object:
 * Entrypoint, Cmd, Env, WorkingDir, User, StopSignal, Volumes, Labels; may
 * be NULL).  Docker's rules: Entrypoint + Cmd from the flags override the
 * image's (an --entrypoint drops the image's Cmd unless a Cmd is given), Env
 * is the image's then the flags' (a later K wins), PATH defaults to
 * Docker's, HOSTNAME is set, TERM=xterm with a tty; the user is resolved in
 * the rootfs' /etc/passwd and /etc/group ("name", "uid", "name:group",
 * "uid:gid"; additional groups from /etc/group; an unknown name is an error
 * naming it); the working directory is created by the runtime.  Docker's
 * defaults: its 14 default capabilities (all of them with Privileged),
 * the default seccomp profile (ocispec_default_seccomp()) unless
 * unconfined or privileged, masked and read-only paths (none with
 * Privileged), /dev/pts /dev/shm /dev/mqueue /sys /proc /dev mounts,
 * namespaces pid ipc uts mount network (none for "host") cgroup, rlimit
 * none added, process.noNewPrivileges only with "no-new-privileges".
 * No error leaves *RET set.  Errors name the field: "HostConfig.Memory:
 * below the 6 MiB minimum", "user `nobody2`: not in /etc/passwd".
 *
 * In detail (ocispec.c): errors are the field then Docker's wording where
 * it has one ("HostConfig.Memory: Minimum memory limit allowed is 6MB",
 * "Config.User: unable to find user nobody2: no matching entries in passwd
 * file", "HostConfig.CapAdd: unknown capability: \"CAP_FOO\"", "no command
 * specified").  "All" capabilities (Privileged, CapAdd ALL) are those the
 * kernel knows and the caller holds in its bounding set.  A seccomp=
 * profile may be in OCI or in Docker's format (archMap, includes and
 * excludes by caps, arches and minKernel).  Swap and block I/O weight
 * limits are left out where the host's cgroups cannot apply them, as
 * Docker does.  Nothing in the rootfs is created or changed. */
int ocispec_build(json_object *create, json_object *image_config, const struct ocispec_env *env,
                  json_object **ret, struct error *err);

/* Docker's default seccomp profile for a process with capabilities CAPS
 * (names "CAP_SYS_ADMIN"...; the profile allows more with some of them,
 * as Docker's does), as an OCI linux.seccomp object: default action
 * SCMP_ACT_ERRNO (EPERM), an allow list, clone3 answered with ENOSYS,
 * clone without namespace flags unless CAP_SYS_ADMIN, personality
 * restricted to the harmless values, for the native and compat
 * architectures. */
json_object *ocispec_default_seccomp(const char *const *caps, size_t n_caps);

/* ---- flag values, as Docker parses them (errors name FLAG) ---- */
/* "12", "12b", "12k", "12m", "12g" (also upper case, "kb", "mib"...) in
 * bytes; "12x" and negative values are errors. */
int parse_bytes(const char *flag, const char *s, int64_t *ret, struct error *err);
/* "1.5" CPUs in nano CPUs; > 0 and at most the host's CPU count. */
int parse_cpus(const char *flag, const char *s, int64_t *ret, struct error *err);
/* Go durations: "30s", "1m30s", "500ms", "2h"; in nanoseconds. */
int parse_duration(const char *flag, const char *s, int64_t *ret, struct error *err);
/* "SIGTERM", "TERM", "15" → 15. */
int parse_signal(const char *flag, const char *s, int *ret, struct error *err);
/* "no", "always", "unless-stopped", "on-failure", "on-failure:3". */
int parse_restart(const char *flag, const char *s, char **ret_name, int *ret_max, struct error *err);
/* -v/--volume SRC:DST[:OPTS] (SRC an absolute or ./relative path, which
 * must exist, or a volume name; DST only: an anonymous volume; OPTS
 * ro,rw,z,Z,nocopy,rprivate...), --mount type=…,source=…,target=…,readonly,
 * --tmpfs DST[:size=…,mode=…] → one HostConfig.Mounts entry. */
int parse_volume(const char *s, json_object **ret, struct error *err);
int parse_mount(const char *s, json_object **ret, struct error *err);
int parse_tmpfs(const char *s, json_object **ret, struct error *err);
/* --env-file FILE: K=V lines, K alone takes K from the environment,
 * blank lines and # comments skipped; appended to *ENV (a json array). */
int parse_env_file(const char *path, json_object *env, struct error *err);
/* --device /dev/x[:/dev/y[:rwm]] → a HostConfig.Devices entry. */
int parse_device(const char *s, json_object **ret, struct error *err);
/* --device-read-bps /dev/x:RATE → a HostConfig.BlkioDeviceReadBps entry. */
int parse_device_rate(const char *s, json_object **ret, struct error *err);
/* Networks.  --ip/--ip6/--dns (FAMILY AF_INET, AF_INET6 or 0 for either),
 * --mac-address: checked only. */
int parse_ip(const char *flag, const char *s, int family, struct error *err);
int parse_mac(const char *s, struct error *err);
/* --expose PORT[-PORT][/PROTO] into EXPOSED ({"80/tcp": {}}). */
int parse_expose(const char *flag, const char *s, json_object *exposed, struct error *err);
/* -p [IP:][HOSTPORT:]CONTAINERPORT[/PROTO] (ranges; IPv6 in brackets) into
 * Docker's PortBindings BINDINGS ({"80/tcp": [{"HostIp": "", "HostPort":
 * "8080"}]}: one entry per container port; HostPort "" is any free one,
 * "A-B" a free one of the range) and EXPOSED. */
int parse_publish(const char *s, json_object *bindings, json_object *exposed, struct error *err);
/* --add-host NAME:IP or NAME=IP (IP may be [v6] or host-gateway): *RET "NAME:IP". */
int parse_add_host(const char *s, char **ret, struct error *err);
/* An egress exception CIDR[:PORT[/PROTO]] (IPv6 in brackets when a port follows). */
int parse_egress_rule(const char *flag, const char *s, struct error *err);

/* USER ("name", "uid", "name:group", "uid:gid") in the /etc/passwd and
 * /etc/group of the root file system ROOTFS_FD (never following a symlink
 * out of it): exec -u uses it. */
int ocispec_resolve_user(int rootfs_fd, const char *user, uint32_t *ret_uid, uint32_t *ret_gid,
                         struct error *err);

/* --userns UID:HOSTUID:COUNT → V (container id, host id, count); -EINVAL
 * when malformed, COUNT 0 or a range past 2^32. */
int parse_userns_mapping(const char *s, uint32_t v[3]);
