/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Resource writers for cgroup v1 controllers (the OCI config's own
 * vocabulary), plus the few files whose format both versions share. */
#include <ctype.h>
#include <inttypes.h>
#include <fcntl.h>
#include <string.h>

#include "runtime/cgroup-internal.h"

#define MEM "linux.resources.memory."
#define CPU "linux.resources.cpu."
#define BLKIO "linux.resources.blockIO."

/* -1 (unlimited) sorts above every limit */
static uint64_t limit_u64(int64_t v)
{
        return v < 0 ? UINT64_MAX : (uint64_t) v;
}

static int check_usage(const char *dir, const char *file, const struct spec_resources *res, struct error *err)
{
        uint64_t usage;

        if (!res->memory.check_before_update || !res->memory.has_limit || res->memory.limit < 0)
                return 0;
        if (cgroup_read_u64(dir, file, &usage) < 0 || usage <= (uint64_t) res->memory.limit)
                return 0;
        return error_setx(err, EBUSY, MEM "limit: %" PRId64 " is below the current usage %" PRIu64,
                          res->memory.limit, usage);
}

/* The kernel keeps memory.limit_in_bytes <= memory.memsw.limit_in_bytes at
 * every step, so the order of the two writes depends on the direction. */
static int v1_memory_limits(const char *dir, const struct spec_resources *res, struct error *err)
{
        static const char limit_file[] = "memory.limit_in_bytes", memsw_file[] = "memory.memsw.limit_in_bytes";
        bool set_limit = res->memory.has_limit, set_swap = res->memory.has_swap && res->memory.swap != 0;
        int64_t limit = res->memory.limit, swap = res->memory.swap;
        uint64_t cur_memsw = UINT64_MAX;
        bool has_memsw = cgroup_file_exists(dir, memsw_file);

        if (set_limit && limit == -1 && !set_swap) {
                /* an unlimited memory limit lifts the swap limit too */
                set_swap = has_memsw;
                swap = -1;
        }
        if (set_swap && !has_memsw) {
                if (swap != -1)
                        return error_setx(err, EOPNOTSUPP, MEM "swap: swap accounting is off on this host (no %s)",
                                          memsw_file);
                set_swap = false;
        }
        if (set_limit && set_swap && limit_u64(swap) < limit_u64(limit))
                return error_setx(err, EINVAL,
                                  MEM "swap: %" PRId64 " is below the memory limit %" PRId64
                                      " (swap is the memory+swap total)",
                                  swap, limit);
        if (set_swap && set_limit)
                (void) cgroup_read_u64(dir, memsw_file, &cur_memsw);
        if (set_swap && (!set_limit || limit_u64(limit) > cur_memsw) &&
            cgroup_write_i64(dir, memsw_file, swap, MEM "swap", err) < 0)
                return error_ret(err);
        if (set_limit && cgroup_write_i64(dir, limit_file, limit, MEM "limit", err) < 0)
                return error_ret(err);
        if (set_swap && set_limit && limit_u64(limit) <= cur_memsw &&
            cgroup_write_i64(dir, memsw_file, swap, MEM "swap", err) < 0)
                return error_ret(err);
        return 0;
}

int cgroup_v1_memory(const char *dir, const struct spec_resources *res, struct error *err)
{
        if (check_usage(dir, "memory.usage_in_bytes", res, err) < 0)
                return error_ret(err);
        if (v1_memory_limits(dir, res, err) < 0)
                return error_ret(err);
        if (res->memory.has_reservation &&
            cgroup_write_i64(dir, "memory.soft_limit_in_bytes", res->memory.reservation, MEM "reservation", err) < 0)
                return error_ret(err);
        /* UINT64_MAX is (uint64)-1, "leave it", as some engines send */
        if (res->memory.has_swappiness && res->memory.swappiness != UINT64_MAX) {
                if (res->memory.swappiness > 100)
                        return error_setx(err, EINVAL, MEM "swappiness: %" PRIu64 " is not within 0-100",
                                          res->memory.swappiness);
                if (cgroup_write_u64(dir, "memory.swappiness", res->memory.swappiness, MEM "swappiness", err) < 0)
                        return error_ret(err);
        }
        if (res->memory.has_disable_oom_killer &&
            cgroup_write(dir, "memory.oom_control", res->memory.disable_oom_killer ? "1" : "0",
                         MEM "disableOOMKiller", err) < 0)
                return error_ret(err);
        /* kernel: the limit file is still there on v1 but the kernel ignores
         * it since Linux 5.16 (as runc does, write what it accepts);
         * kernelTCP still works */
        if (res->memory.has_kernel && cgroup_file_exists(dir, "memory.kmem.limit_in_bytes"))
                (void) cgroup_write_i64(dir, "memory.kmem.limit_in_bytes", res->memory.kernel, MEM "kernel", NULL);
        if (res->memory.has_kernel_tcp && cgroup_file_exists(dir, "memory.kmem.tcp.limit_in_bytes") &&
            cgroup_write_i64(dir, "memory.kmem.tcp.limit_in_bytes", res->memory.kernel_tcp, MEM "kernelTCP", err) < 0)
                return error_ret(err);
        return 0;
}

/* quota, then burst (which must not exceed it); when lowering the quota
 * under the present burst the other order is the one that works */
static int v1_cfs(const char *dir, const struct spec_resources *res, struct error *err)
{
        const char *qf = "cpu.cfs_quota_us", *bf = "cpu.cfs_burst_us";
        int r;

        if (res->cpu.has_period && cgroup_write_u64(dir, "cpu.cfs_period_us", res->cpu.period, CPU "period", err) < 0)
                return error_ret(err);
        if (!res->cpu.has_quota)
                return res->cpu.has_burst ? cgroup_write_u64(dir, bf, res->cpu.burst, CPU "burst", err) : 0;
        r = cgroup_write_i64(dir, qf, res->cpu.quota, CPU "quota", NULL);
        if (r == -EINVAL && res->cpu.has_burst) {
                if (cgroup_write_u64(dir, bf, res->cpu.burst, CPU "burst", err) < 0)
                        return error_ret(err);
                return cgroup_write_i64(dir, qf, res->cpu.quota, CPU "quota", err);
        }
        if (r < 0)
                return error_set(err, r, CPU "quota: write %s", qf);
        return res->cpu.has_burst ? cgroup_write_u64(dir, bf, res->cpu.burst, CPU "burst", err) : 0;
}

int cgroup_v1_cpu(const char *dir, const struct spec_resources *res, struct error *err)
{
        if (res->cpu.has_shares && res->cpu.shares &&
            cgroup_write_u64(dir, "cpu.shares", res->cpu.shares, CPU "shares", err) < 0)
                return error_ret(err);
        if (v1_cfs(dir, res, err) < 0)
                return error_ret(err);
        if (res->cpu.has_realtime_period && res->cpu.realtime_period &&
            cgroup_write_u64(dir, "cpu.rt_period_us", res->cpu.realtime_period, CPU "realtimePeriod", err) < 0)
                return error_ret(err);
        if (res->cpu.has_realtime_runtime &&
            cgroup_write_i64(dir, "cpu.rt_runtime_us", res->cpu.realtime_runtime, CPU "realtimeRuntime", err) < 0)
                return error_ret(err);
        if (res->cpu.has_idle && cgroup_write_i64(dir, "cpu.idle", res->cpu.idle, CPU "idle", err) < 0)
                return error_ret(err);
        return 0;
}

int cgroup_v1_cpuset(const char *dir, const struct spec_resources *res, struct error *err)
{
        if (res->cpu.cpus && *res->cpu.cpus && cgroup_write(dir, "cpuset.cpus", res->cpu.cpus, CPU "cpus", err) < 0)
                return error_ret(err);
        if (res->cpu.mems && *res->cpu.mems && cgroup_write(dir, "cpuset.mems", res->cpu.mems, CPU "mems", err) < 0)
                return error_ret(err);
        return 0;
}

static bool blank(const char *s)
{
        for (; *s; s++)
                if (!isspace((unsigned char) *s))
                        return false;
        return true;
}

int cgroup_v1_cpuset_inherit(const char *dir, struct error *err)
{
        static const char *const files[] = { "cpuset.cpus", "cpuset.mems" };
        _cleanup_free_ char *parent = xstrdup(dir);
        char *slash = strrchr(parent, '/');

        if (!slash || slash == parent)
                return 0;
        *slash = 0;
        for (size_t i = 0; i < ELEMENTSOF(files); i++) {
                _cleanup_free_ char *mine = NULL, *theirs = NULL;
                int r;

                r = cgroup_read(dir, files[i], &mine);
                if (r < 0)
                        return error_set(err, r, "read `%s/%s`", dir, files[i]);
                if (!blank(mine))
                        continue;
                r = cgroup_read(parent, files[i], &theirs);
                if (r < 0)
                        return error_set(err, r, "read `%s/%s`", parent, files[i]);
                if (blank(theirs))
                        continue;
                if (cgroup_write(dir, files[i], theirs, NULL, err) < 0)
                        return error_ret(err);
        }
        return 0;
}

static int check_dev(int64_t major, int64_t minor, const char *field, size_t i, struct error *err)
{
        if (major < 0 || minor < 0 || major > UINT32_MAX || minor > UINT32_MAX)
                return error_setx(err, EINVAL, BLKIO "%s[%zu]: invalid device %" PRId64 ":%" PRId64, field, i, major,
                                  minor);
        return 0;
}

static int v1_throttle(const char *dir, const char *file, const char *field,
                       const struct spec_throttle_device *t, size_t n, struct error *err)
{
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *f = xasprintf(BLKIO "%s[%zu]", field, i), *v = NULL;

                if (check_dev(t[i].major, t[i].minor, field, i, err) < 0)
                        return error_ret(err);
                v = xasprintf("%" PRId64 ":%" PRId64 " %" PRIu64, t[i].major, t[i].minor, t[i].rate);
                if (cgroup_write(dir, file, v, f, err) < 0)
                        return error_ret(err);
        }
        return 0;
}

/* The CFQ files went with CFQ (Linux 5.0); BFQ offers blkio.bfq.*. */
static const char *pick(const char *dir, const char *a, const char *b)
{
        return cgroup_file_exists(dir, a) ? a : cgroup_file_exists(dir, b) ? b : NULL;
}

static int v1_weight_devices(const char *dir, const struct spec_resources *res, struct error *err)
{
        const char *wf = pick(dir, "blkio.weight_device", "blkio.bfq.weight_device");

        for (size_t i = 0; i < res->block_io.n_weight_device; i++) {
                const struct spec_weight_device *w = &res->block_io.weight_device[i];
                _cleanup_free_ char *f = xasprintf(BLKIO "weightDevice[%zu]", i), *v = NULL;

                if (check_dev(w->major, w->minor, "weightDevice", i, err) < 0)
                        return error_ret(err);
                if (w->has_weight) {
                        if (!wf)
                                return error_setx(err, ENOENT, "%s: no blkio.weight_device or blkio.bfq.weight_device", f);
                        v = xasprintf("%" PRId64 ":%" PRId64 " %u", w->major, w->minor, w->weight);
                        if (cgroup_write(dir, wf, v, f, err) < 0)
                                return error_ret(err);
                }
                /* leaf weights went with CFQ: ignored where the file is gone */
                if (w->has_leaf_weight && cgroup_file_exists(dir, "blkio.leaf_weight_device")) {
                        free(v);
                        v = xasprintf("%" PRId64 ":%" PRId64 " %u", w->major, w->minor, w->leaf_weight);
                        if (cgroup_write(dir, "blkio.leaf_weight_device", v, f, err) < 0)
                                return error_ret(err);
                }
        }
        return 0;
}

int cgroup_v1_blkio(const char *dir, const struct spec_resources *res, struct error *err)
{
        const typeof(res->block_io) *b = &res->block_io;

        if (b->has_weight && b->weight) {
                const char *wf = pick(dir, "blkio.weight", "blkio.bfq.weight");

                if (!wf)
                        return error_setx(err, ENOENT, BLKIO "weight: no blkio.weight or blkio.bfq.weight "
                                                           "(is the bfq scheduler available?)");
                if (cgroup_write_u64(dir, wf, b->weight, BLKIO "weight", err) < 0)
                        return error_ret(err);
        }
        if (b->has_leaf_weight && b->leaf_weight && cgroup_file_exists(dir, "blkio.leaf_weight") &&
            cgroup_write_u64(dir, "blkio.leaf_weight", b->leaf_weight, BLKIO "leafWeight", err) < 0)
                return error_ret(err);
        if (v1_weight_devices(dir, res, err) < 0 ||
            v1_throttle(dir, "blkio.throttle.read_bps_device", "throttleReadBpsDevice", b->throttle_read_bps,
                        b->n_throttle_read_bps, err) < 0 ||
            v1_throttle(dir, "blkio.throttle.write_bps_device", "throttleWriteBpsDevice", b->throttle_write_bps,
                        b->n_throttle_write_bps, err) < 0 ||
            v1_throttle(dir, "blkio.throttle.read_iops_device", "throttleReadIOPSDevice", b->throttle_read_iops,
                        b->n_throttle_read_iops, err) < 0 ||
            v1_throttle(dir, "blkio.throttle.write_iops_device", "throttleWriteIOPSDevice", b->throttle_write_iops,
                        b->n_throttle_write_iops, err) < 0)
                return error_ret(err);
        return 0;
}

/* "2MB", "1GB", "64KB" */
static bool page_size_ok(const char *s)
{
        size_t n = strspn(s, "0123456789");

        return n > 0 && strchr("KMGTP", s[n]) && s[n] != 0 && s[n + 1] == 'B' && s[n + 2] == 0;
}

static int hugetlb(const char *dir, const struct spec_resources *res, const char *limit_suffix,
                   const char *rsvd_suffix, struct error *err)
{
        for (size_t i = 0; i < res->n_hugepage_limits; i++) {
                const struct spec_hugepage_limit *h = &res->hugepage_limits[i];
                _cleanup_free_ char *f = xasprintf("linux.resources.hugepageLimits[%zu]", i);
                _cleanup_free_ char *file = NULL, *rsvd = NULL;

                if (!h->page_size || !page_size_ok(h->page_size))
                        return error_setx(err, EINVAL, "%s.pageSize: invalid page size `%s`", f,
                                          h->page_size ? h->page_size : "");
                file = xasprintf("hugetlb.%s.%s", h->page_size, limit_suffix);
                if (!cgroup_file_exists(dir, file))
                        return error_setx(err, EINVAL, "%s.pageSize: page size `%s` is not supported here", f,
                                          h->page_size);
                if (cgroup_write_u64(dir, file, h->limit, f, err) < 0)
                        return error_ret(err);
                /* reservations (Linux 5.7) get the same limit, so that
                 * mmap(MAP_NORESERVE)-less mappings cannot overshoot it */
                rsvd = xasprintf("hugetlb.%s.%s", h->page_size, rsvd_suffix);
                if (cgroup_file_exists(dir, rsvd) && cgroup_write_u64(dir, rsvd, h->limit, f, err) < 0)
                        return error_ret(err);
        }
        return 0;
}

int cgroup_v1_hugetlb(const char *dir, const struct spec_resources *res, struct error *err)
{
        return hugetlb(dir, res, "limit_in_bytes", "rsvd.limit_in_bytes", err);
}

int cgroup_v2_hugetlb(const char *dir, const struct spec_resources *res, struct error *err)
{
        return hugetlb(dir, res, "max", "rsvd.max", err);
}

int cgroup_v1_net_cls(const char *dir, const struct spec_resources *res, struct error *err)
{
        if (!res->network.has_class_id)
                return 0;
        return cgroup_write_u64(dir, "net_cls.classid", res->network.class_id, "linux.resources.network.classID", err);
}

static bool word_ok(const char *s)
{
        if (!s || !*s)
                return false;
        for (; *s; s++)
                if (isspace((unsigned char) *s) || iscntrl((unsigned char) *s))
                        return false;
        return true;
}

int cgroup_v1_net_prio(const char *dir, const struct spec_resources *res, struct error *err)
{
        for (size_t i = 0; i < res->network.n_priorities; i++) {
                const struct spec_net_priority *p = &res->network.priorities[i];
                _cleanup_free_ char *f = xasprintf("linux.resources.network.priorities[%zu]", i), *v = NULL;

                if (!word_ok(p->name))
                        return error_setx(err, EINVAL, "%s.name: invalid interface name `%s`", f, p->name ? p->name : "");
                v = xasprintf("%s %" PRIu32, p->name, p->priority);
                if (cgroup_write(dir, "net_prio.ifpriomap", v, f, err) < 0)
                        return error_ret(err);
        }
        return 0;
}

int cgroup_pids_limit(const char *dir, const struct spec_resources *res, struct error *err)
{
        if (!res->has_pids_limit)
                return 0;
        /* 0 and -1 both mean no limit */
        if (res->pids_limit <= 0)
                return cgroup_write(dir, "pids.max", "max", "linux.resources.pids.limit", err);
        return cgroup_write_i64(dir, "pids.max", res->pids_limit, "linux.resources.pids.limit", err);
}

int cgroup_rdma(const char *dir, const struct spec_resources *res, struct error *err)
{
        for (size_t i = 0; i < res->n_rdma; i++) {
                const struct spec_rdma *d = &res->rdma[i];
                _cleanup_free_ char *f = xasprintf("linux.resources.rdma.%s", d->device ? d->device : ""), *v = NULL;
                _cleanup_free_ char *h = NULL, *o = NULL;

                if (!word_ok(d->device))
                        return error_setx(err, EINVAL, "%s: invalid device name", f);
                if (!d->has_hca_handles && !d->has_hca_objects)
                        continue;
                h = d->has_hca_handles ? xasprintf(" hca_handle=%" PRIu32, d->hca_handles) : xstrdup("");
                o = d->has_hca_objects ? xasprintf(" hca_object=%" PRIu32, d->hca_objects) : xstrdup("");
                v = xasprintf("%s%s%s", d->device, h, o);
                if (cgroup_write(dir, "rdma.max", v, f, err) < 0)
                        return error_ret(err);
        }
        return 0;
}

/* "c 1:3 rwm", wildcards as '*' */
static int device_rule_string(const struct spec_device_cgroup *d, size_t i, char **ret, struct error *err)
{
        _cleanup_free_ char *maj = NULL, *min = NULL;
        unsigned bits;
        char type = d->type ? d->type : 'a';

        if (type != 'a' && type != 'b' && type != 'c')
                return error_setx(err, EINVAL, "linux.resources.devices[%zu].type: invalid type `%c`", i, type);
        if (cgroup_device_access_parse(d->access, &bits) < 0)
                return error_setx(err, EINVAL, "linux.resources.devices[%zu].access: invalid access `%s`", i,
                                  d->access);
        if (type == 'a') {
                *ret = xstrdup("a");
                return 0;
        }
        maj = d->has_major && d->major >= 0 ? xasprintf("%" PRId64, d->major) : xstrdup("*");
        min = d->has_minor && d->minor >= 0 ? xasprintf("%" PRId64, d->minor) : xstrdup("*");
        *ret = xasprintf("%c %s:%s %s%s%s", type, maj, min, bits & CGROUP_DEV_READ ? "r" : "",
                         bits & CGROUP_DEV_WRITE ? "w" : "", bits & CGROUP_DEV_MKNOD ? "m" : "");
        return 0;
}

int cgroup_v1_devices(const char *dir, const struct spec_resources *res, struct error *err)
{
        _cleanup_close_ int allow = -EBADF, deny = -EBADF;
        _cleanup_free_ char *allow_path = NULL, *deny_path = NULL;

        if (!res->n_devices)
                return 0;
        /* one open per file, one write per rule (the kernel takes one rule
         * a write) */
        allow_path = xasprintf("%s/devices.allow", dir);
        deny_path = xasprintf("%s/devices.deny", dir);
        allow = open(allow_path, O_WRONLY | O_CLOEXEC);
        deny = open(deny_path, O_WRONLY | O_CLOEXEC);
        if (allow < 0 || deny < 0)
                return error_set(err, errno, "linux.resources.devices: open `%s`", allow < 0 ? allow_path : deny_path);
        if (RETRY_EINTR(write(deny, "a", 1)) < 0)
                return error_set(err, errno, "linux.resources.devices: write devices.deny");
        for (size_t i = 0; i < res->n_devices; i++) {
                const struct spec_device_cgroup *d = &res->devices[i];
                _cleanup_free_ char *rule = NULL;

                if (device_rule_string(d, i, &rule, err) < 0)
                        return error_ret(err);
                if (RETRY_EINTR(write(d->allow ? allow : deny, rule, strlen(rule))) < 0)
                        return error_set(err, errno, "linux.resources.devices[%zu]: write %s `%s`", i,
                                         d->allow ? "devices.allow" : "devices.deny", rule);
        }
        return 0;
}
