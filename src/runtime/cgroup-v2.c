/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Resource writers for cgroup v2, converting the OCI config's v1 vocabulary
 * (the conversions follow runc's documented cgroup v2 mapping), and the
 * linux.resources.unified map written as is. */
#include <inttypes.h>
#include <string.h>

#include "runtime/cgroup-internal.h"

#define MEM "linux.resources.memory."
#define CPU "linux.resources.cpu."
#define BLKIO "linux.resources.blockIO."

static uint64_t clamp_u64(uint64_t v, uint64_t lo, uint64_t hi)
{
        return v < lo ? lo : v > hi ? hi : v;
}

uint64_t cgroup_cpu_shares_to_weight(uint64_t shares)
{
        if (shares == 0)
                return 0;
        shares = clamp_u64(shares, 2, 262144);
        return 1 + ((shares - 2) * 9999) / 262142;
}

uint64_t cgroup_cpu_weight_to_shares(uint64_t weight)
{
        if (weight == 0)
                return 0;
        weight = clamp_u64(weight, 1, 10000);
        return 2 + ((weight - 1) * 262142) / 9999;
}

uint64_t cgroup_blkio_weight_to_io_weight(uint64_t weight)
{
        if (weight == 0)
                return 0;
        weight = clamp_u64(weight, 10, 1000);
        return 1 + ((weight - 10) * 9999) / 990;
}

int cgroup_memory_swap_to_v2(bool has_swap, int64_t swap, bool has_limit, int64_t limit, int64_t *ret,
                             bool *ret_set, struct error *err)
{
        if (!has_swap || swap == 0) {
                /* as on v1, an unlimited memory limit lifts the swap limit */
                *ret = -1;
                *ret_set = has_limit && limit == -1;
                return 0;
        }
        if (swap < -1)
                return error_setx(err, EINVAL, MEM "swap: invalid value %" PRId64, swap);
        if (swap == -1) {
                *ret = -1;
                *ret_set = true;
                return 0;
        }
        if (!has_limit || limit <= 0)
                return error_setx(err, EINVAL,
                                  MEM "swap: a swap limit needs a memory limit (swap is the memory+swap total)");
        if (swap < limit)
                return error_setx(err, EINVAL,
                                  MEM "swap: %" PRId64 " is below the memory limit %" PRId64
                                      " (swap is the memory+swap total)",
                                  swap, limit);
        *ret = swap - limit;
        *ret_set = true;
        return 0;
}

static int write_max(const char *dir, const char *file, int64_t v, const char *field, struct error *err)
{
        if (v < -1)
                return error_setx(err, EINVAL, "%s: invalid value %" PRId64, field, v);
        if (v == -1)
                return cgroup_write(dir, file, "max", field, err);
        return cgroup_write_i64(dir, file, v, field, err);
}

int cgroup_v2_memory(const char *dir, const struct spec_resources *res, struct error *err)
{
        int64_t swap;
        bool set_swap;

        if (res->memory.check_before_update && res->memory.has_limit && res->memory.limit > 0) {
                uint64_t usage;

                if (cgroup_read_u64(dir, "memory.current", &usage) >= 0 && usage > (uint64_t) res->memory.limit)
                        return error_setx(err, EBUSY, MEM "limit: %" PRId64 " is below the current usage %" PRIu64,
                                          res->memory.limit, usage);
        }
        if (cgroup_memory_swap_to_v2(res->memory.has_swap, res->memory.swap, res->memory.has_limit,
                                     res->memory.limit, &swap, &set_swap, err) < 0)
                return error_ret(err);
        if (res->memory.has_limit && write_max(dir, "memory.max", res->memory.limit, MEM "limit", err) < 0)
                return error_ret(err);
        if (set_swap) {
                if (!cgroup_file_exists(dir, "memory.swap.max")) {
                        if (swap != -1)
                                return error_setx(err, EOPNOTSUPP, MEM "swap: swap accounting is off on this host");
                } else if (write_max(dir, "memory.swap.max", swap, MEM "swap", err) < 0)
                        return error_ret(err);
        }
        if (res->memory.has_reservation &&
            write_max(dir, "memory.low", res->memory.reservation, MEM "reservation", err) < 0)
                return error_ret(err);
        /* swappiness and disableOOMKiller have no v2 file; kernel and
         * kernelTCP are gone: all ignored, as runc does */
        return 0;
}

char *cgroup_cpu_max_string(const struct spec_resources *res, const char *current)
{
        _cleanup_free_ char *quota = NULL, *period = NULL;
        bool has_period = res->cpu.has_period && res->cpu.period > 0;
        size_t n;

        if (!res->cpu.has_quota && !has_period)
                return NULL;
        if (res->cpu.has_quota)
                quota = res->cpu.quota > 0 ? xasprintf("%" PRId64, res->cpu.quota) : xstrdup("max");
        else {
                n = current ? strcspn(current, " \n") : 0;
                quota = n ? xstrndup(current, n) : xstrdup("max");
        }
        if (has_period)
                period = xasprintf("%" PRIu64, res->cpu.period);
        /* without a period the kernel keeps the one in force */
        return period ? xasprintf("%s %s", quota, period) : xstrdup(quota);
}

int cgroup_v2_cpu(const char *dir, const struct spec_resources *res, struct error *err)
{
        _cleanup_free_ char *cur = NULL, *max = NULL;

        if ((res->cpu.has_realtime_runtime && res->cpu.realtime_runtime != 0) ||
            (res->cpu.has_realtime_period && res->cpu.realtime_period != 0))
                return error_setx(err, EOPNOTSUPP, CPU "%s: realtime scheduling limits do not exist on cgroup v2",
                                  res->cpu.has_realtime_runtime ? "realtimeRuntime" : "realtimePeriod");
        if (res->cpu.has_shares && res->cpu.shares &&
            cgroup_write_u64(dir, "cpu.weight", cgroup_cpu_shares_to_weight(res->cpu.shares), CPU "shares", err) < 0)
                return error_ret(err);
        if (res->cpu.has_quota != (res->cpu.has_period && res->cpu.period > 0))
                (void) cgroup_read(dir, "cpu.max", &cur);
        max = cgroup_cpu_max_string(res, cur);
        if (max && cgroup_write(dir, "cpu.max", max, res->cpu.has_quota ? CPU "quota" : CPU "period", err) < 0)
                return error_ret(err);
        if (res->cpu.has_burst && cgroup_write_u64(dir, "cpu.max.burst", res->cpu.burst, CPU "burst", err) < 0)
                return error_ret(err);
        if (res->cpu.has_idle && cgroup_write_i64(dir, "cpu.idle", res->cpu.idle, CPU "idle", err) < 0)
                return error_ret(err);
        return 0;
}

int cgroup_v2_cpuset(const char *dir, const struct spec_resources *res, struct error *err)
{
        /* an empty cpuset inherits the parent's on v2: nothing to copy */
        if (res->cpu.cpus && *res->cpu.cpus && cgroup_write(dir, "cpuset.cpus", res->cpu.cpus, CPU "cpus", err) < 0)
                return error_ret(err);
        if (res->cpu.mems && *res->cpu.mems && cgroup_write(dir, "cpuset.mems", res->cpu.mems, CPU "mems", err) < 0)
                return error_ret(err);
        return 0;
}

/* BFQ takes the v1 scale (1-1000) in io.bfq.weight; without BFQ the
 * io.weight file (1-10000) gets the converted value. */
static int io_weight(const char *dir, const char *devspec, uint64_t w, const char *field, struct error *err)
{
        _cleanup_free_ char *v = NULL;

        if (cgroup_file_exists(dir, "io.bfq.weight")) {
                v = xasprintf("%s%" PRIu64, devspec, w);
                return cgroup_write(dir, "io.bfq.weight", v, field, err);
        }
        if (!cgroup_file_exists(dir, "io.weight"))
                return error_setx(err, ENOENT, "%s: no io.bfq.weight or io.weight (is the io controller enabled?)",
                                  field);
        v = xasprintf("%s%" PRIu64, *devspec ? devspec : "default ", cgroup_blkio_weight_to_io_weight(w));
        return cgroup_write(dir, "io.weight", v, field, err);
}

static int io_max(const char *dir, const char *key, const char *field, const struct spec_throttle_device *t,
                  size_t n, struct error *err)
{
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *f = xasprintf(BLKIO "%s[%zu]", field, i), *v = NULL, *rate = NULL;

                if (t[i].major < 0 || t[i].minor < 0)
                        return error_setx(err, EINVAL, "%s: invalid device %" PRId64 ":%" PRId64, f, t[i].major,
                                          t[i].minor);
                rate = t[i].rate ? xasprintf("%" PRIu64, t[i].rate) : xstrdup("max");
                v = xasprintf("%" PRId64 ":%" PRId64 " %s=%s", t[i].major, t[i].minor, key, rate);
                if (cgroup_write(dir, "io.max", v, f, err) < 0)
                        return error_ret(err);
        }
        return 0;
}

int cgroup_v2_io(const char *dir, const struct spec_resources *res, struct error *err)
{
        const typeof(res->block_io) *b = &res->block_io;

        if (b->has_weight && b->weight && io_weight(dir, "", b->weight, BLKIO "weight", err) < 0)
                return error_ret(err);
        /* leafWeight has no v2 counterpart: ignored */
        for (size_t i = 0; i < b->n_weight_device; i++) {
                const struct spec_weight_device *w = &b->weight_device[i];
                _cleanup_free_ char *f = xasprintf(BLKIO "weightDevice[%zu]", i), *dev = NULL;

                if (!w->has_weight)
                        continue;
                if (w->major < 0 || w->minor < 0)
                        return error_setx(err, EINVAL, "%s: invalid device %" PRId64 ":%" PRId64, f, w->major,
                                          w->minor);
                dev = xasprintf("%" PRId64 ":%" PRId64 " ", w->major, w->minor);
                if (io_weight(dir, dev, w->weight, f, err) < 0)
                        return error_ret(err);
        }
        if (io_max(dir, "rbps", "throttleReadBpsDevice", b->throttle_read_bps, b->n_throttle_read_bps, err) < 0 ||
            io_max(dir, "wbps", "throttleWriteBpsDevice", b->throttle_write_bps, b->n_throttle_write_bps, err) < 0 ||
            io_max(dir, "riops", "throttleReadIOPSDevice", b->throttle_read_iops, b->n_throttle_read_iops, err) < 0 ||
            io_max(dir, "wiops", "throttleWriteIOPSDevice", b->throttle_write_iops, b->n_throttle_write_iops, err) < 0)
                return error_ret(err);
        return 0;
}

/* A key is a file name in the cgroup directory: "memory.high". */
static bool unified_key_ok(const char *k)
{
        static const char *const refused[] = { "cgroup.procs", "cgroup.threads", "cgroup.kill" };

        if (!k || !*k || strchr(k, '/') || strstr(k, "..") || !strchr(k, '.') || k[0] == '.')
                return false;
        for (const char *p = k; *p; p++)
                if ((unsigned char) *p < 0x20 || *p == 0x7f)
                        return false;
        /* those move or kill processes, they are no resource */
        for (size_t i = 0; i < ELEMENTSOF(refused); i++)
                if (strcmp(k, refused[i]) == 0)
                        return false;
        return true;
}

int cgroup_v2_unified(const char *dir, const struct spec_resources *res, struct error *err)
{
        for (size_t i = 0; i < res->n_unified; i++) {
                const struct spec_kv *kv = &res->unified[i];
                int r;

                if (!unified_key_ok(kv->key))
                        return error_setx(err, EINVAL, "linux.resources.unified: invalid key `%s`",
                                          kv->key ? kv->key : "");
                r = cgroup_write(dir, kv->key, kv->value ? kv->value : "", NULL, NULL);
                if (r == -ENOENT)
                        return error_setx(err, ENOENT,
                                          "linux.resources.unified.%s: no such cgroup file (unknown key or "
                                          "controller not enabled)",
                                          kv->key);
                if (r < 0)
                        return error_set(err, r, "linux.resources.unified.%s: write `%s`", kv->key,
                                         kv->value ? kv->value : "");
        }
        return 0;
}
