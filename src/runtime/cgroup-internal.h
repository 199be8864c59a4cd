/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Shared by the cgroup*.c files and tests/unit/test-cgroup.c; not part of
 * the library's public API. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "basic/error.h"
#include "runtime/cgroup.h"
#include "runtime/spec.h"

/* Internal functions report failures through ERR and return
 * error_ret(err): they need a non-NULL error object.  Public entry points
 * that accept NULL substitute a local one with this. */
#define CGROUP_ERR_LOCAL(err)                                     \
        _cleanup_error_ struct error _err_local_ = ERROR_INIT;   \
        if (!(err))                                               \
                (err) = &_err_local_

enum cgroup_controller {
        CGC_CPU,
        CGC_CPUACCT,
        CGC_CPUSET,
        CGC_MEMORY,
        CGC_DEVICES,
        CGC_FREEZER,
        CGC_BLKIO, /* "io" on cgroup v2 */
        CGC_PIDS,
        CGC_NET_CLS,
        CGC_NET_PRIO,
        CGC_HUGETLB,
        CGC_RDMA,
        CGC_PERF_EVENT,
        CGC_MISC,
        _CGC_MAX,
        _CGC_INVALID = -EINVAL,
};

#define CGC_MASK(c) (1u << (c))

/* The v1 name ("blkio") or the v2 one ("io"). */
const char *cgroup_controller_to_string(enum cgroup_controller c, bool v2);
/* Accepts both spellings. */
enum cgroup_controller cgroup_controller_from_string(const char *s);

/* One mounted hierarchy we manage. */
struct cgroup_hierarchy {
        char *mount;   /* mount point */
        char *root;    /* the mount's root inside the hierarchy ("/" usually) */
        bool v2;
        bool systemd;  /* the v1 "name=systemd" hierarchy */
        unsigned mask; /* CGC_MASK()s; v2: what the mount's cgroup.controllers lists */
        char *own;     /* our cgroup here, relative to mount ("" at the mount
                        * root); NULL when outside the mount */
};

struct cgroup_hierarchies {
        enum cgroup_layout layout;
        struct cgroup_hierarchy *h;
        size_t n;
        int v2;                     /* index of the cgroup2 mount, -1 when none */
        int by_controller[_CGC_MAX]; /* index of the hierarchy holding it, -1 */
};

/* Build the table from the text of /proc/self/mountinfo and /proc/self/cgroup
 * (pure: the v2 controller masks stay 0, cgroup_hierarchies_load() reads
 * them).  V2_AT_ROOT: /sys/fs/cgroup itself is cgroup2 (pure v2, v1 mounts
 * are ignored).  Returns 0 or -errno. */
int cgroup_hierarchies_parse(const char *mountinfo, const char *proc_cgroup, bool v2_at_root,
                             struct cgroup_hierarchies *ret);
void cgroup_hierarchies_clear(struct cgroup_hierarchies *hs);
/* The process-wide cached table, NULL (with ERR set) when unreadable. */
const struct cgroup_hierarchies *cgroup_hierarchies_get(struct error *err);
/* Forget the cached layout and table (tests that change namespaces). */
void cgroup_cache_reset(void);
/* The same, after checking PATH with cgroup_path_is_safe(). */
const struct cgroup_hierarchies *cgroup_hierarchies_for(const char *path, struct error *err);
void cgroup_sleep_ms(unsigned ms);

/* Where controller C lives for cgroup PATH: a malloc'd directory, or NULL
 * when no hierarchy has it.  *ret_v2 says which version's files to use. */
char *cgroup_controller_dir(const struct cgroup_hierarchies *hs, const char *path,
                            enum cgroup_controller c, bool *ret_v2);
/* The directory of PATH in hierarchy H (malloc'd). */
char *cgroup_hierarchy_dir(const struct cgroup_hierarchy *h, const char *path);

/* PATH must be relative, non-empty, with no empty, "." or ".." component. */
bool cgroup_path_is_safe(const char *path);
/* Normalise the config's cgroupsPath against BASE (the caller's cgroup,
 * relative to the hierarchy mount, "" for the root): "/a//b" → "a/b",
 * "a/b" → "BASE/a/b".  Refuses "..", control characters and the root. */
int cgroup_path_normalize(const char *base, const char *cgroups_path, char **ret, struct error *err);
/* "slice:prefix:name" → "a.slice/a-b.slice/prefix-name.scope". */
int cgroup_path_systemd(const char *cgroups_path, const char *id, char **ret, struct error *err);
/* "a-b-c.slice" → "a.slice/a-b.slice/a-b-c.slice", "-.slice" → "". */
int cgroup_systemd_expand_slice(const char *slice, char **ret);

/* File helpers: DIR/FILE.  cgroup_write() fails as "FIELD: write FILE: ..." */
int cgroup_write(const char *dir, const char *file, const char *value, const char *field, struct error *err);
int cgroup_write_i64(const char *dir, const char *file, int64_t v, const char *field, struct error *err);
int cgroup_write_u64(const char *dir, const char *file, uint64_t v, const char *field, struct error *err);
int cgroup_read(const char *dir, const char *file, char **ret);
int cgroup_read_u64(const char *dir, const char *file, uint64_t *ret);
bool cgroup_file_exists(const char *dir, const char *file);

/* Controllers RES needs (CGC_MASK()s), to enable them in v2 ancestors. */
unsigned cgroup_resources_mask(const struct spec_resources *res);
/* Enable the controllers in WANT in every ancestor's cgroup.subtree_control
 * (v2 hierarchy H) from the mount down to PATH's parent; a failure is an
 * error only for the controllers in NEED. */
int cgroup_v2_enable_controllers(const struct cgroup_hierarchy *h, const char *path, unsigned want,
                                 unsigned need, struct error *err);

/* Write RES to the cgroup (every controller wherever it lives). */
int cgroup_apply_resources(const struct cgroup_hierarchies *hs, const char *path,
                           const struct spec_resources *res, struct error *err);

/* Resource writers; DIR is the controller's directory for the cgroup. */
int cgroup_v1_memory(const char *dir, const struct spec_resources *res, struct error *err);
int cgroup_v1_cpu(const char *dir, const struct spec_resources *res, struct error *err);
int cgroup_v1_cpuset(const char *dir, const struct spec_resources *res, struct error *err);
int cgroup_v1_blkio(const char *dir, const struct spec_resources *res, struct error *err);
int cgroup_v1_net_cls(const char *dir, const struct spec_resources *res, struct error *err);
int cgroup_v1_net_prio(const char *dir, const struct spec_resources *res, struct error *err);
int cgroup_v1_devices(const char *dir, const struct spec_resources *res, struct error *err);
/* Copy cpuset.cpus/cpuset.mems from the parent where empty (v1 refuses to
 * attach tasks to a cpuset without cpus or mems). */
int cgroup_v1_cpuset_inherit(const char *dir, struct error *err);

int cgroup_v2_memory(const char *dir, const struct spec_resources *res, struct error *err);
int cgroup_v2_cpu(const char *dir, const struct spec_resources *res, struct error *err);
int cgroup_v2_cpuset(const char *dir, const struct spec_resources *res, struct error *err);
int cgroup_v2_io(const char *dir, const struct spec_resources *res, struct error *err);
int cgroup_v2_unified(const char *dir, const struct spec_resources *res, struct error *err);
/* Same file format on both versions (or nearly: hugetlb's file names). */
int cgroup_v1_hugetlb(const char *dir, const struct spec_resources *res, struct error *err);
int cgroup_v2_hugetlb(const char *dir, const struct spec_resources *res, struct error *err);
int cgroup_pids_limit(const char *dir, const struct spec_resources *res, struct error *err);
int cgroup_rdma(const char *dir, const struct spec_resources *res, struct error *err);

/* Conversions between the v1 vocabulary of the OCI config and v2 files. */
uint64_t cgroup_cpu_shares_to_weight(uint64_t shares);   /* 2..262144 → 1..10000, 0 → 0 */
uint64_t cgroup_cpu_weight_to_shares(uint64_t weight);   /* inverse */
uint64_t cgroup_blkio_weight_to_io_weight(uint64_t weight); /* 10..1000 → 1..10000, 0 → 0 */
/* memory.swap.max from the OCI memory+swap total SWAP and LIMIT (-1 =
 * unlimited, 0 = unset): *ret is -1 for "max"; 0 with *ret_set false when
 * nothing should be written. */
int cgroup_memory_swap_to_v2(bool has_swap, int64_t swap, bool has_limit, int64_t limit,
                             int64_t *ret, bool *ret_set, struct error *err);
/* The "quota period" pair for cpu.max, keeping CURRENT (the file's present
 * content, may be NULL) for what RES leaves unset; NULL when RES sets neither. */
char *cgroup_cpu_max_string(const struct spec_resources *res, const char *current);

/* Validate a device rule's access string ("rwm" subset, non-empty). */
int cgroup_device_access_parse(const char *access, unsigned *ret_bits);
#define CGROUP_DEV_MKNOD 1u
#define CGROUP_DEV_READ 2u
#define CGROUP_DEV_WRITE 4u

/* Build the BPF_PROG_TYPE_CGROUP_DEVICE program for RULES (evaluated like
 * v1: everything denied, then each rule in order, the last match wins).
 * *ret is a malloc'd array of struct bpf_insn. */
struct bpf_insn;
int cgroup_bpf_devices_build(const struct spec_device_cgroup *rules, size_t n, struct bpf_insn **ret,
                             size_t *ret_n, struct error *err);
/* Load it and attach it to the cgroup2 directory DIRFD (replacing the one a
 * previous call attached). */
int cgroup_bpf_devices_apply(int dirfd, const struct spec_device_cgroup *rules, size_t n, struct error *err);
