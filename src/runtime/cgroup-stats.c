/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The "data" object of `events --stats`, in the shape runc prints (its
 * field names are what clients parse: runc's types/events.go, whose
 * throttling fields are camelCase, unlike libcontainer's), from v1 or v2
 * files, wherever each controller lives.  Missing files leave their fields
 * out or at zero: statistics are best effort. */
#include <dirent.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <string.h>
#include <unistd.h>

#include "basic/fileio.h"
#include "runtime/cgroup-internal.h"
#include "runtime/cgroup.h"

static void json_putp(json_object **o)
{
        if (*o)
                json_object_put(*o);
}
#define _cleanup_json_ _cleanup_(json_putp)

static void put(json_object *o, const char *key, uint64_t v)
{
        json_object_object_add(o, key, json_object_new_uint64(v));
}

/* Go's omitempty: zero values are left out */
static void put_nz(json_object *o, const char *key, uint64_t v)
{
        if (v)
                put(o, key, v);
}

static uint64_t read_u64_or0(const char *dir, const char *file)
{
        uint64_t v = 0;

        if (!dir || cgroup_read_u64(dir, file, &v) < 0)
                return 0;
        return v;
}

/* "key value" lines (memory.stat, cpu.stat, memory.events) as an object */
static json_object *read_flat(const char *dir, const char *file)
{
        _cleanup_free_ char *text = NULL;
        json_object *o = json_object_new_object();
        char *save = NULL;

        if (!dir || cgroup_read(dir, file, &text) < 0)
                return o;
        for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
                char *sp = strchr(l, ' ');
                uint64_t v;

                if (!sp)
                        continue;
                *sp = 0;
                if (parse_uint64(sp + 1, &v) >= 0)
                        put(o, l, v);
        }
        return o;
}

static uint64_t flat_get(json_object *flat, const char *key)
{
        json_object *v;

        return json_object_object_get_ex(flat, key, &v) ? json_object_get_uint64(v) : 0;
}

/* "1 2 3" → [1,2,3] */
static json_object *read_list(const char *dir, const char *file)
{
        _cleanup_free_ char *text = NULL;
        json_object *a;
        char *save = NULL;

        if (!dir || cgroup_read(dir, file, &text) < 0)
                return NULL;
        a = json_object_new_array();
        for (char *t = strtok_r(text, " \n", &save); t; t = strtok_r(NULL, " \n", &save)) {
                uint64_t v;

                if (parse_uint64(t, &v) >= 0)
                        json_object_array_add(a, json_object_new_uint64(v));
        }
        return a;
}

static void add_list(json_object *o, const char *key, json_object *a)
{
        if (a && json_object_array_length(a) > 0)
                json_object_object_add(o, key, a);
        else
                json_putp(&a);
}

static json_object *cpu_v1(const char *acct, const char *cpu)
{
        json_object *o = json_object_new_object(), *usage = json_object_new_object(), *thr = json_object_new_object();
        _cleanup_json_ json_object *stat = read_flat(acct, "cpuacct.stat"), *cs = read_flat(cpu, "cpu.stat");
        long hz = sysconf(_SC_CLK_TCK);
        uint64_t ns_per_tick = hz > 0 ? 1000000000ull / (uint64_t) hz : 10000000ull;

        put_nz(usage, "total", read_u64_or0(acct, "cpuacct.usage"));
        add_list(usage, "percpu", read_list(acct, "cpuacct.usage_percpu"));
        add_list(usage, "percpu_kernel", read_list(acct, "cpuacct.usage_percpu_sys"));
        add_list(usage, "percpu_user", read_list(acct, "cpuacct.usage_percpu_user"));
        put(usage, "kernel", flat_get(stat, "system") * ns_per_tick);
        put(usage, "user", flat_get(stat, "user") * ns_per_tick);
        put_nz(thr, "periods", flat_get(cs, "nr_periods"));
        put_nz(thr, "throttledPeriods", flat_get(cs, "nr_throttled"));
        put_nz(thr, "throttledTime", flat_get(cs, "throttled_time"));
        json_object_object_add(o, "usage", usage);
        json_object_object_add(o, "throttling", thr);
        return o;
}

/* v2 reports microseconds, the schema nanoseconds */
static json_object *cpu_v2(const char *dir)
{
        json_object *o = json_object_new_object(), *usage = json_object_new_object(), *thr = json_object_new_object();
        _cleanup_json_ json_object *cs = read_flat(dir, "cpu.stat");

        put_nz(usage, "total", flat_get(cs, "usage_usec") * 1000);
        put(usage, "kernel", flat_get(cs, "system_usec") * 1000);
        put(usage, "user", flat_get(cs, "user_usec") * 1000);
        put_nz(thr, "periods", flat_get(cs, "nr_periods"));
        put_nz(thr, "throttledPeriods", flat_get(cs, "nr_throttled"));
        put_nz(thr, "throttledTime", flat_get(cs, "throttled_usec") * 1000);
        json_object_object_add(o, "usage", usage);
        json_object_object_add(o, "throttling", thr);
        return o;
}

static json_object *mem_entry(uint64_t limit, uint64_t usage, uint64_t max, uint64_t failcnt)
{
        json_object *e = json_object_new_object();

        put(e, "limit", limit);
        put_nz(e, "usage", usage);
        put_nz(e, "max", max);
        put(e, "failcnt", failcnt);
        return e;
}

static json_object *mem_entry_v1(const char *dir, const char *prefix)
{
        _cleanup_free_ char *l = xasprintf("%s.limit_in_bytes", prefix), *u = xasprintf("%s.usage_in_bytes", prefix);
        _cleanup_free_ char *m = xasprintf("%s.max_usage_in_bytes", prefix), *f = xasprintf("%s.failcnt", prefix);

        return mem_entry(read_u64_or0(dir, l), read_u64_or0(dir, u), read_u64_or0(dir, m), read_u64_or0(dir, f));
}

static json_object *memory_v1(const char *dir)
{
        json_object *o = json_object_new_object(), *raw = read_flat(dir, "memory.stat");

        put_nz(o, "cache", flat_get(raw, "cache"));
        json_object_object_add(o, "usage", mem_entry_v1(dir, "memory"));
        json_object_object_add(o, "swap", mem_entry_v1(dir, "memory.memsw"));
        json_object_object_add(o, "kernel", mem_entry_v1(dir, "memory.kmem"));
        json_object_object_add(o, "kernelTCP", mem_entry_v1(dir, "memory.kmem.tcp"));
        json_object_object_add(o, "raw", raw);
        return o;
}

/* v2 has no memory+swap counter: swap is reported as memory + swap, as
 * v1's memsw would have been */
static json_object *memory_v2(const char *dir)
{
        json_object *o = json_object_new_object(), *raw = read_flat(dir, "memory.stat");
        _cleanup_json_ json_object *events = read_flat(dir, "memory.events");
        uint64_t cur = read_u64_or0(dir, "memory.current"), swap = read_u64_or0(dir, "memory.swap.current");
        uint64_t limit = read_u64_or0(dir, "memory.max"), swap_max = read_u64_or0(dir, "memory.swap.max");

        put_nz(o, "cache", flat_get(raw, "file"));
        json_object_object_add(
                o, "usage",
                mem_entry(limit, cur, read_u64_or0(dir, "memory.peak"), flat_get(events, "max")));
        json_object_object_add(o, "swap",
                               mem_entry(swap_max == UINT64_MAX || limit == UINT64_MAX ? UINT64_MAX : swap_max + limit,
                                         cur + swap, 0, 0));
        json_object_object_add(o, "kernel", mem_entry(0, flat_get(raw, "kernel"), 0, 0));
        json_object_object_add(o, "kernelTCP", mem_entry(0, flat_get(raw, "sock"), 0, 0));
        json_object_object_add(o, "raw", raw);
        return o;
}

static json_object *pids_stats(const char *dir)
{
        json_object *o = json_object_new_object();
        uint64_t limit = read_u64_or0(dir, "pids.max");

        put_nz(o, "current", read_u64_or0(dir, "pids.current"));
        put_nz(o, "limit", limit == UINT64_MAX ? 0 : limit);
        return o;
}

static void blkio_entry(json_object *list, unsigned major, unsigned minor, const char *op, uint64_t v)
{
        json_object *e = json_object_new_object();

        put(e, "major", major);
        put(e, "minor", minor);
        json_object_object_add(e, "op", json_object_new_string(op));
        put(e, "value", v);
        json_object_array_add(list, e);
}

/* v1 "MAJ:MIN Op VALUE" lines (the trailing "Total N" has no device) */
static json_object *blkio_list_v1(const char *dir, const char *file)
{
        _cleanup_free_ char *text = NULL;
        json_object *a = json_object_new_array();
        char *save = NULL;

        if (!dir || cgroup_read(dir, file, &text) < 0)
                return a;
        for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
                unsigned major, minor;
                char op[16];
                uint64_t v;

                if (sscanf(l, "%u:%u %15s %" SCNu64, &major, &minor, op, &v) == 4)
                        blkio_entry(a, major, minor, op, v);
        }
        return a;
}

static json_object *blkio_v1(const char *dir)
{
        json_object *o = json_object_new_object();
        bool bfq = dir && cgroup_file_exists(dir, "blkio.bfq.io_service_bytes_recursive");

        add_list(o, "ioServiceBytesRecursive",
                 blkio_list_v1(dir, bfq ? "blkio.bfq.io_service_bytes_recursive"
                                        : "blkio.throttle.io_service_bytes_recursive"));
        add_list(o, "ioServicedRecursive",
                 blkio_list_v1(dir, bfq ? "blkio.bfq.io_serviced_recursive" : "blkio.throttle.io_serviced_recursive"));
        return o;
}

/* io.stat: "MAJ:MIN rbytes=N wbytes=N rios=N wios=N dbytes=N dios=N" */
static json_object *blkio_v2(const char *dir)
{
        json_object *o = json_object_new_object(), *bytes = json_object_new_array(), *ios = json_object_new_array();
        _cleanup_free_ char *text = NULL;
        char *save = NULL;

        if (dir && cgroup_read(dir, "io.stat", &text) >= 0)
                for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
                        unsigned major, minor;
                        uint64_t rb = 0, wb = 0, rio = 0, wio = 0;
                        char *p;

                        if (sscanf(l, "%u:%u", &major, &minor) != 2)
                                continue;
                        if ((p = strstr(l, "rbytes=")))
                                (void) sscanf(p, "rbytes=%" SCNu64, &rb);
                        if ((p = strstr(l, "wbytes=")))
                                (void) sscanf(p, "wbytes=%" SCNu64, &wb);
                        if ((p = strstr(l, "rios=")))
                                (void) sscanf(p, "rios=%" SCNu64, &rio);
                        if ((p = strstr(l, "wios=")))
                                (void) sscanf(p, "wios=%" SCNu64, &wio);
                        blkio_entry(bytes, major, minor, "Read", rb);
                        blkio_entry(bytes, major, minor, "Write", wb);
                        blkio_entry(ios, major, minor, "Read", rio);
                        blkio_entry(ios, major, minor, "Write", wio);
                }
        add_list(o, "ioServiceBytesRecursive", bytes);
        add_list(o, "ioServicedRecursive", ios);
        return o;
}

/* "hugepages-2048kB" → "2MB" (the names the cgroup files use) */
static char *hugepage_name(const char *dirent)
{
        static const char *const units[] = { "KB", "MB", "GB", "TB" };
        uint64_t kb;
        size_t u = 0;
        _cleanup_free_ char *num = NULL;

        if (strncmp(dirent, "hugepages-", 10) != 0 || !strstr(dirent, "kB"))
                return NULL;
        num = xstrndup(dirent + 10, strcspn(dirent + 10, "k"));
        if (parse_uint64(num, &kb) < 0 || kb == 0)
                return NULL;
        while (kb % 1024 == 0 && u + 1 < ELEMENTSOF(units)) {
                kb /= 1024;
                u++;
        }
        return xasprintf("%" PRIu64 "%s", kb, units[u]);
}

static json_object *hugetlb_stats(const char *dir, bool v2)
{
        json_object *o = json_object_new_object();
        DIR *d = opendir("/sys/kernel/mm/hugepages");
        struct dirent *de;

        while (dir && d && (de = readdir(d))) {
                _cleanup_free_ char *name = hugepage_name(de->d_name), *u = NULL, *m = NULL, *f = NULL;
                _cleanup_json_ json_object *events = NULL;
                json_object *e;

                if (!name)
                        continue;
                e = json_object_new_object();
                u = xasprintf("hugetlb.%s.%s", name, v2 ? "current" : "usage_in_bytes");
                put_nz(e, "usage", read_u64_or0(dir, u));
                if (v2) {
                        f = xasprintf("hugetlb.%s.events", name);
                        events = read_flat(dir, f);
                        put(e, "failcnt", flat_get(events, "max"));
                } else {
                        m = xasprintf("hugetlb.%s.max_usage_in_bytes", name);
                        f = xasprintf("hugetlb.%s.failcnt", name);
                        put_nz(e, "max", read_u64_or0(dir, m));
                        put(e, "failcnt", read_u64_or0(dir, f));
                }
                json_object_object_add(o, name, e);
        }
        if (d)
                closedir(d);
        return o;
}

static json_object *stats_object(const struct cgroup_hierarchies *hs, const char *path)
{
        json_object *o = json_object_new_object();
        _cleanup_free_ char *cpu = NULL, *acct = NULL, *mem = NULL, *pids = NULL, *blk = NULL, *huge = NULL;
        bool cpu_v2_ = false, acct_v2 = false, mem_v2 = false, pids_v2 = false, blk_v2 = false, huge_v2 = false;

        cpu = cgroup_controller_dir(hs, path, CGC_CPU, &cpu_v2_);
        acct = cgroup_controller_dir(hs, path, CGC_CPUACCT, &acct_v2);
        mem = cgroup_controller_dir(hs, path, CGC_MEMORY, &mem_v2);
        pids = cgroup_controller_dir(hs, path, CGC_PIDS, &pids_v2);
        blk = cgroup_controller_dir(hs, path, CGC_BLKIO, &blk_v2);
        huge = cgroup_controller_dir(hs, path, CGC_HUGETLB, &huge_v2);

        if (acct && !acct_v2)
                json_object_object_add(o, "cpu", cpu_v1(acct, cpu_v2_ ? NULL : cpu));
        else if (hs->v2 >= 0) {
                /* cpu.stat's usage lines are there even without the cpu controller */
                _cleanup_free_ char *dir = cgroup_hierarchy_dir(&hs->h[hs->v2], path);
                json_object_object_add(o, "cpu", cpu_v2(dir));
        }
        if (mem)
                json_object_object_add(o, "memory", mem_v2 ? memory_v2(mem) : memory_v1(mem));
        json_object_object_add(o, "pids", pids_stats(pids));
        json_object_object_add(o, "blkio", blk_v2 ? blkio_v2(blk) : blkio_v1(blk));
        json_object_object_add(o, "hugetlb", hugetlb_stats(huge, huge_v2));
        json_object_object_add(o, "intel_rdt", json_object_new_object());
        json_object_object_add(o, "network_interfaces", NULL);
        return o;
}

int cgroup_stats_json(const char *path, char **ret_json, struct error *err)
{
        CGROUP_ERR_LOCAL(err);
        const struct cgroup_hierarchies *hs = cgroup_hierarchies_for(path, err);
        _cleanup_json_ json_object *o = NULL;
        bool found = false;

        if (!hs)
                return error_ret(err);
        for (size_t i = 0; i < hs->n && !found; i++) {
                _cleanup_free_ char *dir = cgroup_hierarchy_dir(&hs->h[i], path);

                found = access(dir, F_OK) == 0;
        }
        if (!found)
                return error_setx(err, ENOENT, "read the statistics of cgroup `%s`: it does not exist", path);
        o = stats_object(hs, path);
        *ret_json = xstrdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
        return 0;
}

/* OOM kills so far: v1 memory.oom_control "oom_kill N" (Linux 4.13),
 * v2 memory.events "oom_kill N". */
int cgroup_oom_kills(const char *path, uint64_t *ret)
{
        const struct cgroup_hierarchies *hs = cgroup_hierarchies_for(path, NULL);
        _cleanup_free_ char *mem = NULL;
        _cleanup_json_ json_object *flat = NULL;
        bool v2 = false;

        if (!hs)
                return -EINVAL;
        mem = cgroup_controller_dir(hs, path, CGC_MEMORY, &v2);
        if (!mem)
                return -ENOENT;
        flat = read_flat(mem, v2 ? "memory.events" : "memory.oom_control");
        *ret = flat_get(flat, "oom_kill");
        return 0;
}
