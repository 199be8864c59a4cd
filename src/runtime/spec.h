/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "basic/error.h"

/* The OCI runtime config (runtime-spec 1.2, Linux), parsed once.  Strings are
 * owned; arrays are (pointer, count) pairs; `has_*` flags mark optional
 * scalars that were present.  Unknown fields are ignored; a field of the
 * wrong type is an error naming its JSON path. */

struct spec_rlimit {
        int resource; /* RLIMIT_* */
        char *type;
        uint64_t soft, hard;
};

struct spec_caps {
        /* NULL-terminated name lists ("CAP_CHOWN"); NULL when absent */
        char **bounding, **effective, **inheritable, **permitted, **ambient;
};

struct spec_user {
        uid_t uid;
        gid_t gid;
        bool has_umask;
        mode_t umask;
        gid_t *additional_gids;
        size_t n_additional_gids;
        char *username;
};

struct spec_console_size {
        unsigned height, width;
};

struct spec_scheduler {
        char *policy;
        int policy_num;
        int nice;
        int priority;
        char **flags;
        uint64_t runtime, deadline, period;
};

struct spec_io_priority {
        char *class;
        int class_num;
        int priority;
};

struct spec_cpu_affinity {
        char *initial; /* cpu list string like "0-3,7" */
        char *final;
};

struct spec_process {
        bool terminal;
        bool has_console_size;
        struct spec_console_size console_size;
        struct spec_user user;
        char **args; /* NULL-terminated */
        char *command_line;
        char **env;  /* NULL-terminated */
        char *cwd;
        struct spec_caps *caps; /* NULL when absent */
        struct spec_rlimit *rlimits;
        size_t n_rlimits;
        bool no_new_privileges;
        char *apparmor_profile;
        bool has_oom_score_adj;
        int oom_score_adj;
        char *selinux_label;
        struct spec_scheduler *scheduler;
        struct spec_io_priority *io_priority;
        struct spec_cpu_affinity *exec_cpu_affinity;
};

struct spec_mount {
        char *destination;
        char *type;
        char *source;
        char **options; /* NULL-terminated, may be NULL */
        struct spec_id_mapping *uid_mappings, *gid_mappings;
        size_t n_uid_mappings, n_gid_mappings;
};

struct spec_hook {
        char *path;
        char **args; /* NULL-terminated, may be NULL */
        char **env;  /* NULL-terminated, may be NULL */
        bool has_timeout;
        int timeout; /* seconds, > 0 */
};

enum spec_hook_kind {
        SPEC_HOOK_PRESTART,
        SPEC_HOOK_CREATE_RUNTIME,
        SPEC_HOOK_CREATE_CONTAINER,
        SPEC_HOOK_START_CONTAINER,
        SPEC_HOOK_POSTSTART,
        SPEC_HOOK_POSTSTOP,
        _SPEC_HOOK_MAX,
};

struct spec_hooks {
        struct spec_hook *list[_SPEC_HOOK_MAX];
        size_t n[_SPEC_HOOK_MAX];
};

enum ns_type {
        NS_PID,
        NS_NET,
        NS_MNT,
        NS_IPC,
        NS_UTS,
        NS_USER,
        NS_CGROUP,
        NS_TIME,
        _NS_MAX,
        _NS_INVALID = -EINVAL,
};

struct spec_namespace {
        enum ns_type type;
        char *path; /* NULL: a new namespace */
};

struct spec_id_mapping {
        uint32_t container_id, host_id, size;
};

struct spec_device {
        char *path;
        char type; /* 'c', 'b', 'u', 'p' */
        int64_t major, minor;
        bool has_file_mode;
        mode_t file_mode;
        bool has_uid, has_gid;
        uid_t uid;
        gid_t gid;
};

struct spec_device_cgroup {
        bool allow;
        char type; /* 'a', 'c', 'b'; 'a' when absent */
        bool has_major, has_minor;
        int64_t major, minor; /* -1 = wildcard */
        char *access;          /* NULL = "rwm" */
};

struct spec_weight_device {
        int64_t major, minor;
        bool has_weight, has_leaf_weight;
        uint16_t weight, leaf_weight;
};

struct spec_throttle_device {
        int64_t major, minor;
        uint64_t rate;
};

struct spec_hugepage_limit {
        char *page_size;
        uint64_t limit;
};

struct spec_net_priority {
        char *name;
        uint32_t priority;
};

struct spec_rdma {
        char *device;
        bool has_hca_handles, has_hca_objects;
        uint32_t hca_handles, hca_objects;
};

struct spec_kv {
        char *key, *value;
};

struct spec_resources {
        struct spec_device_cgroup *devices;
        size_t n_devices;

        struct {
                bool has_limit, has_reservation, has_swap, has_kernel, has_kernel_tcp, has_swappiness;
                int64_t limit, reservation, swap, kernel, kernel_tcp;
                uint64_t swappiness;
                bool has_disable_oom_killer, disable_oom_killer;
                bool has_use_hierarchy, use_hierarchy;
                bool check_before_update;
        } memory;
        bool has_memory;

        struct {
                bool has_shares, has_quota, has_burst, has_period, has_realtime_runtime,
                        has_realtime_period, has_idle;
                uint64_t shares, period, realtime_period, burst;
                int64_t quota, realtime_runtime, idle;
                char *cpus, *mems;
        } cpu;
        bool has_cpu;

        bool has_pids_limit;
        int64_t pids_limit;

        struct {
                bool has_weight, has_leaf_weight;
                uint16_t weight, leaf_weight;
                struct spec_weight_device *weight_device;
                size_t n_weight_device;
                struct spec_throttle_device *throttle_read_bps, *throttle_write_bps,
                        *throttle_read_iops, *throttle_write_iops;
                size_t n_throttle_read_bps, n_throttle_write_bps, n_throttle_read_iops,
                        n_throttle_write_iops;
        } block_io;
        bool has_block_io;

        struct spec_hugepage_limit *hugepage_limits;
        size_t n_hugepage_limits;

        struct {
                bool has_class_id;
                uint32_t class_id;
                struct spec_net_priority *priorities;
                size_t n_priorities;
        } network;
        bool has_network;

        struct spec_rdma *rdma;
        size_t n_rdma;

        struct spec_kv *unified;
        size_t n_unified;
};

struct spec_seccomp_arg {
        unsigned index;
        uint64_t value, value_two;
        char *op; /* SCMP_CMP_* */
};

struct spec_seccomp_syscall {
        char **names; /* NULL-terminated */
        char *action;
        bool has_errno_ret;
        unsigned errno_ret;
        struct spec_seccomp_arg *args;
        size_t n_args;
};

struct spec_seccomp {
        char *default_action;
        bool has_default_errno_ret;
        unsigned default_errno_ret;
        char **architectures;
        char **flags;
        char *listener_path;
        char *listener_metadata;
        struct spec_seccomp_syscall *syscalls;
        size_t n_syscalls;
};

struct spec_time_offset {
        char *clock; /* "monotonic" or "boottime" */
        int64_t secs;
        uint32_t nanosecs;
};

struct spec_linux {
        struct spec_namespace *namespaces;
        size_t n_namespaces;
        struct spec_id_mapping *uid_mappings, *gid_mappings;
        size_t n_uid_mappings, n_gid_mappings;
        struct spec_time_offset *time_offsets;
        size_t n_time_offsets;
        struct spec_device *devices;
        size_t n_devices;
        char *cgroups_path;
        struct spec_resources *resources; /* NULL when absent */
        struct spec_kv *sysctl;
        size_t n_sysctl;
        struct spec_seccomp *seccomp; /* NULL when absent */
        char *rootfs_propagation;
        char **masked_paths;   /* NULL-terminated, may be NULL */
        char **readonly_paths; /* NULL-terminated, may be NULL */
        char *mount_label;
        char *intel_rdt_clos_id;
        char *personality_domain;
};

struct spec {
        char *oci_version;
        struct spec_process *process; /* NULL when absent (allowed for create? no: required) */
        char *root_path;
        bool root_readonly;
        char *hostname;
        char *domainname;
        struct spec_mount *mounts;
        size_t n_mounts;
        struct spec_hooks hooks;
        struct spec_kv *annotations;
        size_t n_annotations;
        struct spec_linux linux_; /* always present (zeroed when absent) */
};

/* Parse a config from a JSON string (len bytes). */
int spec_parse(const char *data, size_t len, struct spec **ret, struct error *err);
/* Read and parse BUNDLE/config.json (dirfd is the bundle directory). */
int spec_load(int bundle_fd, struct spec **ret, struct error *err);
/* Parse a process object (exec --process). */
int spec_parse_process(const char *data, size_t len, struct spec_process **ret, struct error *err);
/* Parse a resources object (update --resources). */
int spec_parse_resources(const char *data, size_t len, struct spec_resources **ret, struct error *err);

void spec_free(struct spec *s);
void spec_process_free(struct spec_process *p);
void spec_resources_free(struct spec_resources *r);

static inline void spec_freep(struct spec **s)
{
        spec_free(*s);
}

const char *ns_type_to_string(enum ns_type t);     /* "pid", "network", ... */
enum ns_type ns_type_from_string(const char *s);  /* _NS_INVALID if unknown */
int ns_type_to_clone_flag(enum ns_type t);         /* CLONE_NEWPID ... */
const char *ns_type_to_proc_name(enum ns_type t);  /* "pid", "net", "mnt", ... */

/* Find a namespace entry of the given type, NULL when the config has none. */
const struct spec_namespace *spec_find_namespace(const struct spec *s, enum ns_type t);
/* Look up an annotation, NULL when absent. */
const char *spec_annotation(const struct spec *s, const char *key);
