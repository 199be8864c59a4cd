/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/bpf.h>

#include "basic/fileio.h"
#include "runtime/cgroup-internal.h"
#include "runtime/cgroup.h"
#include "tap.h"

/* Unit tests of the cgroup manager, TAP output.  The pure parts (path
 * resolution, mountinfo parsing, v1↔v2 conversions, the device eBPF
 * program, run by a small interpreter here) always run; the host part
 * creates cgroups named berth-test-PID* (v1/hybrid hosts, root), and
 * removes every one of them. */

static bool streq_ptr(const char *a, const char *b)
{
        return a && b && strcmp(a, b) == 0;
}

static bool starts_with(const char *s, const char *prefix)
{
        return s && strncmp(s, prefix, strlen(prefix)) == 0;
}

static bool ends_with(const char *s, const char *suffix)
{
        size_t a = s ? strlen(s) : 0, b = strlen(suffix);

        return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* ---- path resolution ---- */

static void check_norm(const char *base, const char *in, const char *want)
{
        struct error err = ERROR_INIT;
        char *out = NULL;
        int r = cgroup_path_normalize(base, in, &out, &err);

        if (want)
                ok(r == 0 && streq_ptr(out, want), "normalize(%s, %s) = %s (got %s)", base ? base : "NULL", in, want,
                   r == 0 ? out : err.msg);
        else
                ok(r < 0 && !out && starts_with(err.msg, "linux.cgroupsPath: "), "normalize(%s, %s) refused (%s)",
                   base ? base : "NULL", in, err.msg ? err.msg : "accepted");
        free(out);
        error_clear(&err);
}

static void check_systemd(const char *in, const char *want)
{
        struct error err = ERROR_INIT;
        char *out = NULL;
        int r = cgroup_path_systemd(in, "ctr", &out, &err);

        if (want)
                ok(r == 0 && streq_ptr(out, want), "systemd(%s) = %s (got %s)", in ? in : "NULL", want,
                   r == 0 ? out : err.msg);
        else
                ok(r < 0 && !out && starts_with(err.msg, "linux.cgroupsPath: "), "systemd(%s) refused (%s)", in,
                   err.msg ? err.msg : "accepted");
        free(out);
        error_clear(&err);
}

static void test_paths(void)
{
        static const char *const safe[] = { "a", "a/b", "berth/x.y", "a..b/c" };
        static const char *const unsafe[] = { "", "/a", "a/", "a//b", "./a", "a/..", "../a", "a/./b", "a\nb" };
        char *s = NULL;
        int r;

        for (size_t i = 0; i < ELEMENTSOF(safe); i++)
                ok(cgroup_path_is_safe(safe[i]), "`%s` is safe", safe[i]);
        for (size_t i = 0; i < ELEMENTSOF(unsafe); i++)
                ok(!cgroup_path_is_safe(unsafe[i]), "`%s` is not safe", unsafe[i]);
        ok(!cgroup_path_is_safe(NULL), "NULL is not safe");

        check_norm("", "/a/b", "a/b");
        check_norm("user.slice/x", "/a//./b/", "a/b");
        check_norm("user.slice/x", "a/b", "user.slice/x/a/b");
        check_norm("", "a/b", "a/b");
        check_norm(NULL, "c", "c");
        check_norm("", "/a/../b", NULL);
        check_norm("x", "a/..", NULL);
        check_norm("x", "../../etc", NULL);
        check_norm("", "/", NULL);
        check_norm("", "//./", NULL);
        check_norm("", "/a\tb", NULL);

        check_systemd("system.slice:docker:abc", "system.slice/docker-abc.scope");
        check_systemd("a-b.slice:pre:n", "a.slice/a-b.slice/pre-n.scope");
        check_systemd(":pre:n", "system.slice/pre-n.scope");
        check_systemd("-.slice:p:n", "p-n.scope");
        check_systemd("machine.slice::n", "machine.slice/n.scope");
        check_systemd("a.slice:p:a-b.slice", "a.slice/a-b.slice");
        check_systemd(NULL, "system.slice/berth-ctr.scope");
        check_systemd("a:b", NULL);
        check_systemd("a.slice:b:c:d", NULL);
        check_systemd("foo:p:n", NULL);
        check_systemd("a--b.slice:p:n", NULL);
        check_systemd("x.slice:p:../n", NULL);
        check_systemd("x.slice:p:..", NULL);
        check_systemd("x.slice:a/b:n", NULL);
        check_systemd("../x.slice:p:n", NULL);
        check_systemd("x.slice:p:", NULL);

        ok(cgroup_systemd_expand_slice("-.slice", &s) == 0 && streq_ptr(s, ""), "expand -.slice");
        free(s);
        s = NULL;
        r = cgroup_systemd_expand_slice("a-b-c.slice", &s);
        ok(r == 0 && streq_ptr(s, "a.slice/a-b.slice/a-b-c.slice"), "expand a-b-c.slice (%s)", s ? s : "error");
        free(s);
        ok(cgroup_systemd_expand_slice("-a.slice", &s) < 0 && cgroup_systemd_expand_slice("a-.slice", &s) < 0 &&
                   cgroup_systemd_expand_slice("a", &s) < 0 && cgroup_systemd_expand_slice(".slice", &s) < 0,
           "bad slice names refused");
}

/* cgroup_resolve_path() against this host's /proc/self/cgroup */
static void test_resolve(void)
{
        struct error err = ERROR_INIT;
        char *s = NULL;
        int r;

        r = cgroup_resolve_path("/berth-x/y", "id", false, &s, &err);
        ok(r == 0 && streq_ptr(s, "berth-x/y"), "absolute path (%s)", r == 0 ? s : err.msg);
        free(s);
        s = NULL;
        error_clear(&err);
        r = cgroup_resolve_path("a/b", "id", false, &s, &err);
        ok(r == 0 && (streq_ptr(s, "a/b") || ends_with(s, "/a/b")) && cgroup_path_is_safe(s),
           "relative path under our cgroup (%s)", r == 0 ? s : err.msg);
        free(s);
        s = NULL;
        error_clear(&err);
        r = cgroup_resolve_path(NULL, "myid", false, &s, &err);
        ok(r == 0 && (streq_ptr(s, "berth-myid") || ends_with(s, "/berth-myid")), "default path (%s)",
           r == 0 ? s : err.msg);
        free(s);
        s = NULL;
        error_clear(&err);
        r = cgroup_resolve_path("", "myid", true, &s, &err);
        ok(r == 0 && streq_ptr(s, "system.slice/berth-myid.scope"), "default systemd path (%s)", r == 0 ? s : err.msg);
        free(s);
        s = NULL;
        error_clear(&err);
        r = cgroup_resolve_path("machine.slice:libpod:abc", "id", false, &s, &err);
        ok(r == 0 && streq_ptr(s, "machine.slice/libpod-abc.scope"),
           "systemd form without systemd maps to its cgroupfs place (%s)", r == 0 ? s : err.msg);
        free(s);
        s = NULL;
        error_clear(&err);
        r = cgroup_resolve_path("x:y", "id", false, &s, &err);
        ok(r == 0 && (streq_ptr(s, "x:y") || ends_with(s, "/x:y")), "other colons stay a plain name (%s)",
           r == 0 ? s : err.msg);
        free(s);
        s = NULL;
        error_clear(&err);
        r = cgroup_resolve_path("a/../../b", "id", false, &s, &err);
        ok(r < 0 && !s && strstr(err.msg, "linux.cgroupsPath"), "`..` refused (%s)", err.msg ? err.msg : "accepted");
        error_clear(&err);
        r = cgroup_resolve_path("/a/b", "id", true, &s, &err);
        ok(r < 0 && !s && strstr(err.msg, "slice:prefix:name"), "non-systemd path refused in systemd mode (%s)",
           err.msg ? err.msg : "accepted");
        error_clear(&err);
        r = cgroup_resolve_path(NULL, "../x", false, &s, &err);
        ok(r < 0 && !s, "id with a slash refused");
        error_clear(&err);
}

/* ---- mountinfo ---- */

static const char hybrid_mountinfo[] =
        "22 1 0:21 / /proc rw,nosuid - proc proc rw\n"
        "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
        "32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime shared:9 - cgroup cgroup rw,cpu,cpuacct\n"
        "34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset,clone_children\n"
        "35 31 0:32 /docker/abc /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
        "36 31 0:33 / /sys/fs/cgroup/my\\040freezer rw,relatime - cgroup cgroup rw,freezer\n"
        "37 31 0:34 / /sys/fs/cgroup/openrc rw,relatime - cgroup cgroup rw,name=openrc\n"
        "40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd\n"
        "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw,nsdelegate\n"
        "42 1 0:31 / /mnt/cpuset rw,relatime - cgroup cgroup rw,cpuset\n"
        "43 1 0:39 / /mnt/other2 rw,relatime - cgroup2 cgroup2 rw\n";

static const char hybrid_cgroup[] = "12:name=openrc:/\n"
                                    "9:name=systemd:/user.slice/session-1.scope\n"
                                    "6:freezer:/\n"
                                    "4:memory:/docker/abc/inner\n"
                                    "3:cpuset:/\n"
                                    "2:cpu,cpuacct:/user.slice\n"
                                    "0::/user.slice/session-1.scope\n";

static const struct cgroup_hierarchy *find_mount(const struct cgroup_hierarchies *hs, const char *mount)
{
        for (size_t i = 0; i < hs->n; i++)
                if (streq_ptr(hs->h[i].mount, mount))
                        return &hs->h[i];
        return NULL;
}

static void test_mountinfo(void)
{
        struct cgroup_hierarchies hs;
        const struct cgroup_hierarchy *h;
        int r;

        r = cgroup_hierarchies_parse(hybrid_mountinfo, hybrid_cgroup, false, &hs);
        if (!ok(r == 0, "parse a hybrid mountinfo"))
                return;
        ok(hs.n == 6 && hs.layout == CGROUP_LAYOUT_HYBRID, "6 hierarchies, hybrid (%zu)", hs.n);
        h = find_mount(&hs, "/sys/fs/cgroup/cpu,cpuacct");
        ok(h && h->mask == (CGC_MASK(CGC_CPU) | CGC_MASK(CGC_CPUACCT)) && streq_ptr(h->own, "user.slice") &&
                   hs.by_controller[CGC_CPUACCT] == hs.by_controller[CGC_CPU],
           "co-mounted cpu,cpuacct");
        h = find_mount(&hs, "/sys/fs/cgroup/cpuset");
        ok(h && streq_ptr(h->own, "") && !find_mount(&hs, "/mnt/cpuset"), "duplicate mount: /sys/fs/cgroup wins");
        h = find_mount(&hs, "/sys/fs/cgroup/memory");
        ok(h && streq_ptr(h->root, "/docker/abc") && streq_ptr(h->own, "inner"), "mount root stripped from own path");
        ok(find_mount(&hs, "/sys/fs/cgroup/my freezer") != NULL, "octal escapes in mount points");
        ok(!find_mount(&hs, "/sys/fs/cgroup/openrc"), "other named hierarchies ignored");
        h = find_mount(&hs, "/sys/fs/cgroup/systemd");
        ok(h && h->systemd && streq_ptr(h->own, "user.slice/session-1.scope"), "name=systemd");
        h = hs.v2 >= 0 ? &hs.h[hs.v2] : NULL;
        ok(h && streq_ptr(h->mount, "/sys/fs/cgroup/unified") && streq_ptr(h->own, "user.slice/session-1.scope"),
           "the unified mount, not another cgroup2 mount");
        ok(hs.by_controller[CGC_PIDS] < 0 && hs.by_controller[CGC_MEMORY] >= 0, "controller index");
        cgroup_hierarchies_clear(&hs);

        r = cgroup_hierarchies_parse("30 1 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n"
                                     "31 1 0:27 / /mnt/v1 rw - cgroup cgroup rw,name=systemd\n",
                                     "1:name=systemd:/\n0::/system.slice/x.service\n", true, &hs);
        ok(r == 0 && hs.n == 1 && hs.layout == CGROUP_LAYOUT_V2 && hs.v2 == 0 &&
                   streq_ptr(hs.h[0].own, "system.slice/x.service"),
           "pure v2: v1 mounts ignored");
        cgroup_hierarchies_clear(&hs);
        ok(cgroup_hierarchies_parse("22 1 0:21 / /proc rw - proc proc rw\n", "", false, &hs) < 0,
           "no cgroup mount: error");
}

/* ---- conversions ---- */

static void test_conversions(void)
{
        struct error err = ERROR_INIT;
        int64_t v = 0;
        bool set = false;
        int r;

        ok(cgroup_cpu_shares_to_weight(2) == 1 && cgroup_cpu_shares_to_weight(262144) == 10000 &&
                   cgroup_cpu_shares_to_weight(1024) == 39 && cgroup_cpu_shares_to_weight(0) == 0 &&
                   cgroup_cpu_shares_to_weight(1) == 1 && cgroup_cpu_shares_to_weight(1u << 30) == 10000,
           "cpu shares → weight");
        ok(cgroup_cpu_weight_to_shares(1) == 2 && cgroup_cpu_weight_to_shares(10000) == 262144 &&
                   cgroup_cpu_weight_to_shares(100) == 2597 && cgroup_cpu_weight_to_shares(0) == 0,
           "cpu weight → shares");
        ok(cgroup_blkio_weight_to_io_weight(10) == 1 && cgroup_blkio_weight_to_io_weight(1000) == 10000 &&
                   cgroup_blkio_weight_to_io_weight(500) == 4950 && cgroup_blkio_weight_to_io_weight(0) == 0,
           "blkio weight → io.weight");

        ok(cgroup_memory_swap_to_v2(true, 300, true, 100, &v, &set, &err) == 0 && set && v == 200,
           "swap 300 limit 100 → swap.max 200");
        ok(cgroup_memory_swap_to_v2(true, -1, true, 100, &v, &set, &err) == 0 && set && v == -1, "swap -1 → max");
        ok(cgroup_memory_swap_to_v2(false, 0, true, -1, &v, &set, &err) == 0 && set && v == -1,
           "unlimited memory lifts swap");
        ok(cgroup_memory_swap_to_v2(false, 0, true, 100, &v, &set, &err) == 0 && !set, "no swap: nothing written");
        r = cgroup_memory_swap_to_v2(true, 50, true, 100, &v, &set, &err);
        ok(r < 0 && starts_with(err.msg, "linux.resources.memory.swap: "), "swap below limit refused (%s)", err.msg);
        error_clear(&err);
        ok(cgroup_memory_swap_to_v2(true, 100, false, 0, &v, &set, &err) < 0, "swap without limit refused");
        error_clear(&err);

}

static void test_resource_strings(void)
{
        struct spec_resources res = { 0 };
        struct error err = ERROR_INIT;
        char *s;
        int r;

        res.has_cpu = true;
        ok(cgroup_cpu_max_string(&res, NULL) == NULL, "cpu.max: nothing set");
        res.cpu.has_quota = res.cpu.has_period = true;
        res.cpu.quota = 50000;
        res.cpu.period = 100000;
        s = cgroup_cpu_max_string(&res, NULL);
        ok(streq_ptr(s, "50000 100000"), "cpu.max quota and period (%s)", s);
        free(s);
        res.cpu.has_period = false;
        res.cpu.quota = -1;
        s = cgroup_cpu_max_string(&res, "20000 100000\n");
        ok(streq_ptr(s, "max"), "cpu.max unlimited quota keeps the period (%s)", s);
        free(s);
        res.cpu.has_quota = false;
        res.cpu.has_period = true;
        res.cpu.period = 50000;
        s = cgroup_cpu_max_string(&res, "20000 100000\n");
        ok(streq_ptr(s, "20000 50000"), "cpu.max period alone keeps the quota (%s)", s);
        free(s);
        s = cgroup_cpu_max_string(&res, NULL);
        ok(streq_ptr(s, "max 50000"), "cpu.max period alone, nothing current (%s)", s);
        free(s);

        res.has_pids_limit = true;
        res.cpu.cpus = (char *) "0";
        ok(cgroup_resources_mask(&res) == (CGC_MASK(CGC_CPU) | CGC_MASK(CGC_CPUSET) | CGC_MASK(CGC_PIDS)),
           "resources mask");
        ok(cgroup_resources_mask(NULL) == 0, "no resources, no controllers");

        memset(&res, 0, sizeof(res));
        res.n_hugepage_limits = 1;
        res.hugepage_limits = &(struct spec_hugepage_limit) { .page_size = (char *) "../x", .limit = 1 };
        r = cgroup_v2_hugetlb("/nonexistent", &res, &err);
        ok(r < 0 && starts_with(err.msg, "linux.resources.hugepageLimits[0].pageSize: invalid"),
           "bad hugepage size (%s)", err.msg);
        error_clear(&err);
        res.hugepage_limits[0].page_size = (char *) "2MB";
        r = cgroup_v1_hugetlb("/nonexistent", &res, &err);
        ok(r < 0 && strstr(err.msg, "not supported"), "unsupported hugepage size (%s)", err.msg);
        error_clear(&err);
}

/* ---- the device program, run by a tiny interpreter ---- */

static int bpf_run(const struct bpf_insn *p, size_t n, uint32_t type, uint32_t access, uint32_t major,
                   uint32_t minor)
{
        uint32_t ctx[3] = { access << 16 | type, major, minor };
        uint64_t r[11] = { 0 };

        for (size_t pc = 0; pc < n; pc++) {
                const struct bpf_insn *i = &p[pc];
                uint64_t imm = (uint64_t) (int64_t) i->imm;

                switch (i->code) {
                case BPF_LDX | BPF_W | BPF_MEM:
                        if (i->src_reg != 1 || i->off % 4 || i->off < 0 || i->off > 8)
                                return -2;
                        r[i->dst_reg] = ctx[i->off / 4];
                        break;
                case BPF_ALU64 | BPF_MOV | BPF_X: r[i->dst_reg] = r[i->src_reg]; break;
                case BPF_ALU64 | BPF_MOV | BPF_K: r[i->dst_reg] = imm; break;
                case BPF_ALU64 | BPF_AND | BPF_K: r[i->dst_reg] &= imm; break;
                case BPF_ALU64 | BPF_RSH | BPF_K: r[i->dst_reg] >>= i->imm; break;
                case BPF_JMP | BPF_JNE | BPF_K:
                        if (r[i->dst_reg] != imm)
                                pc += i->off;
                        break;
                case BPF_JMP | BPF_JEQ | BPF_K:
                        if (r[i->dst_reg] == imm)
                                pc += i->off;
                        break;
                case BPF_JMP | BPF_EXIT: return (int) r[0];
                default: return -3;
                }
        }
        return -1; /* fell off the end */
}

#define RULE(a, t, maj, min, acc) \
        { .allow = (a), .type = (t), .has_major = true, .has_minor = true, .major = (maj), .minor = (min), .access = (acc) }

static const struct spec_device_cgroup test_rules[] = {
        RULE(false, 'a', -1, -1, "rwm"),
        RULE(true, 'c', 1, 3, NULL),     /* /dev/null */
        RULE(true, 'c', 1, 5, "r"),      /* /dev/zero read-only */
        RULE(true, 'c', 136, -1, "rw"),  /* pts */
        RULE(true, 'b', 8, 0, "rwm"),
        RULE(false, 'c', 1, 3, "w"),     /* later deny wins */
        RULE(true, 'c', 1, 3, "r"),
};

static void test_bpf(void)
{
        struct spec_device_cgroup bad = RULE(true, 'c', 1, 3, "rx");
        struct spec_device_cgroup all = { .allow = true, .type = 'a' };
        struct error err = ERROR_INIT;
        struct bpf_insn *p = NULL;
        size_t n = 0;
        unsigned bits;
        int r;

        ok(cgroup_device_access_parse(NULL, &bits) == 0 && bits == 7 && cgroup_device_access_parse("rw", &bits) == 0 &&
                   bits == (CGROUP_DEV_READ | CGROUP_DEV_WRITE) && cgroup_device_access_parse("", &bits) < 0 &&
                   cgroup_device_access_parse("rwx", &bits) < 0,
           "device access strings");
        r = cgroup_bpf_devices_build(test_rules, ELEMENTSOF(test_rules), &p, &n, &err);
        if (!ok(r == 0 && n > 0, "build the device program (%zu insns)", n))
                return;
#define C BPF_DEVCG_DEV_CHAR
#define B BPF_DEVCG_DEV_BLOCK
#define R BPF_DEVCG_ACC_READ
#define W BPF_DEVCG_ACC_WRITE
#define M BPF_DEVCG_ACC_MKNOD
        ok(bpf_run(p, n, C, R, 1, 3) == 1, "null: read allowed");
        ok(bpf_run(p, n, C, W, 1, 3) == 0, "null: write denied by the later rule");
        /* v1: the deny strips w from the rwm exception, m stays */
        ok(bpf_run(p, n, C, M, 1, 3) == 1, "null: mknod still allowed by the earlier rwm rule");
        ok(bpf_run(p, n, C, R, 1, 5) == 1 && bpf_run(p, n, C, R | W, 1, 5) == 0, "zero: r yes, rw no");
        ok(bpf_run(p, n, C, R | W, 136, 42) == 1 && bpf_run(p, n, C, M, 136, 42) == 0, "pts wildcard minor");
        ok(bpf_run(p, n, B, R | W | M, 8, 0) == 1 && bpf_run(p, n, C, R, 8, 0) == 0, "block 8:0, not char 8:0");
        ok(bpf_run(p, n, C, R, 1, 7) == 0, "unlisted denied");
        free(p);

        r = cgroup_bpf_devices_build(&all, 1, &p, &n, &err);
        ok(r == 0 && bpf_run(p, n, B, R, 253, 1) == 1 && n == 8, "allow all: one terminal rule (%zu insns)", n);
        free(p);
        r = cgroup_bpf_devices_build(&bad, 1, &p, &n, &err);
        ok(r < 0 && starts_with(err.msg, "linux.resources.devices[0].access"), "bad access refused (%s)", err.msg);
        error_clear(&err);
#undef C
#undef B
#undef R
#undef W
#undef M
}

/* ---- on this host ---- */

static char *cg_file(const char *path, enum cgroup_controller c, const char *file)
{
        const struct cgroup_hierarchies *hs = cgroup_hierarchies_get(NULL);
        _cleanup_free_ char *dir = hs ? cgroup_controller_dir(hs, path, c, NULL) : NULL;
        char *text = NULL;

        if (!dir || cgroup_read(dir, file, &text) < 0)
                return NULL;
        text[strcspn(text, "\n")] = 0;
        return text;
}

static bool cg_file_is(const char *path, enum cgroup_controller c, const char *file, const char *want)
{
        _cleanup_free_ char *v = cg_file(path, c, file);

        if (!streq_ptr(v, want))
                printf("# %s: `%s`, want `%s`\n", file, v ? v : "(unreadable)", want);
        return streq_ptr(v, want);
}

/* Does PATH exist in any hierarchy? */
static bool cg_exists_anywhere(const char *path)
{
        const struct cgroup_hierarchies *hs = cgroup_hierarchies_get(NULL);

        for (size_t i = 0; hs && i < hs->n; i++) {
                _cleanup_free_ char *dir = cgroup_hierarchy_dir(&hs->h[i], path);

                if (access(dir, F_OK) == 0)
                        return true;
        }
        return false;
}

static pid_t spawn_pause(void)
{
        pid_t pid = fork();

        if (pid == 0) {
                /* never outlive a crashed test */
                (void) prctl(PR_SET_PDEATHSIG, SIGKILL);
                for (;;)
                        pause();
        }
        return pid;
}

static int reap(pid_t pid)
{
        int st = 0;

        if (pid <= 0)
                return -1;
        (void) kill(pid, SIGKILL);
        return waitpid(pid, &st, 0) == pid ? st : -1;
}

/* Wait (5 s at most) for our child PID; 0 = gone */
static int wait_child(pid_t *pid, int *ret_status)
{
        for (int i = 0; i < 500; i++) {
                pid_t r = waitpid(*pid, ret_status, WNOHANG);

                if (r == *pid) {
                        *pid = 0;
                        return 0;
                }
                usleep(10000);
        }
        (void) reap(*pid);
        *pid = 0;
        return -1;
}

/* Root of the initial user namespace (the identity uid map)?  A mapped
 * root may write cgroupfs files it owns yet lacks the capabilities. */
static bool real_root(void)
{
        _cleanup_free_ char *map = NULL;
        unsigned a, b, c;

        if (geteuid() != 0 || read_full_file_at(AT_FDCWD, "/proc/self/uid_map", 4096, &map, NULL) < 0)
                return false;
        return sscanf(map, "%u %u %u", &a, &b, &c) == 3 && a == 0 && b == 0 && c == 4294967295u;
}

static bool host_usable(char **why)
{
        const struct cgroup_hierarchies *hs;
        struct error err = ERROR_INIT;

        if (!real_root())
                return *why = "not root (of the initial user namespace)", false;
        hs = cgroup_hierarchies_get(&err);
        error_clear(&err);
        if (!hs)
                return *why = "no cgroup hierarchies", false;
        if (cgroup_layout() == CGROUP_LAYOUT_V2)
                return *why = "pure cgroup v2 host: these host tests are for v1/hybrid", false;
        for (int c = 0; c < _CGC_MAX; c++)
                if ((c == CGC_MEMORY || c == CGC_PIDS || c == CGC_CPU || c == CGC_CPUSET || c == CGC_FREEZER ||
                     c == CGC_DEVICES) &&
                    hs->by_controller[c] < 0)
                        return *why = "a v1 controller is missing", false;
        for (size_t i = 0; i < hs->n; i++)
                if (access(hs->h[i].mount, W_OK) < 0)
                        return *why = "the cgroup hierarchies are not writable", false;
        return true;
}

static void fill_resources(struct spec_resources *res)
{
        static struct spec_device_cgroup devs[] = {
                RULE(true, 'c', 1, 3, NULL),
                RULE(true, 'c', 1, 5, "r"),
        };

        memset(res, 0, sizeof(*res));
        res->has_memory = true;
        res->memory.has_limit = true;
        res->memory.limit = 64 << 20;
        res->memory.has_swap = cgroup_file_exists("/sys/fs/cgroup/memory", "memory.memsw.limit_in_bytes");
        res->memory.swap = 128 << 20;
        res->has_pids_limit = true;
        res->pids_limit = 32;
        res->has_cpu = true;
        res->cpu.has_shares = res->cpu.has_quota = res->cpu.has_period = true;
        res->cpu.shares = 512;
        res->cpu.quota = 20000;
        res->cpu.period = 100000;
        res->cpu.cpus = (char *) "0";
        res->cpu.mems = (char *) "0";
        res->devices = devs;
        res->n_devices = ELEMENTSOF(devs);
}

static void expect_error(const char *path, const struct spec_resources *res, const char *prefix, const char *what)
{
        struct error err = ERROR_INIT;
        int r = cgroup_update(path, res, &err);

        ok(r < 0 && starts_with(err.msg, prefix), "%s: `%s`", what, err.msg ? err.msg : "accepted");
        error_clear(&err);
}

static void test_host_errors(const char *path)
{
        struct spec_resources res = { 0 };
        struct spec_kv kv[] = { { (char *) "memory.high", (char *) "1G" } };
        struct spec_kv bad_kv[] = { { (char *) "../memory.max", (char *) "1" } };

        res.has_cpu = res.cpu.has_quota = true;
        res.cpu.quota = 500; /* below the kernel's 1 ms */
        expect_error(path, &res, "linux.resources.cpu.quota: write cpu.cfs_quota_us: Invalid argument", "tiny quota");
        memset(&res, 0, sizeof(res));
        res.has_cpu = true;
        res.cpu.cpus = (char *) "4095";
        expect_error(path, &res, "linux.resources.cpu.cpus: write cpuset.cpus: ", "cpus outside the machine");
        memset(&res, 0, sizeof(res));
        res.has_memory = res.memory.has_limit = res.memory.has_swap = true;
        res.memory.limit = 100 << 20;
        res.memory.swap = 50 << 20;
        expect_error(path, &res, "linux.resources.memory.swap: ", "swap below the limit");
        memset(&res, 0, sizeof(res));
        res.has_memory = res.memory.has_swappiness = true;
        res.memory.swappiness = 101;
        expect_error(path, &res, "linux.resources.memory.swappiness: ", "swappiness 101");
        memset(&res, 0, sizeof(res));
        res.unified = kv;
        res.n_unified = 1;
        expect_error(path, &res, "linux.resources.unified", "unified memory key on a v1 memory controller");
        res.unified = bad_kv;
        expect_error(path, &res, "linux.resources.unified", "unified key with `..`");
}

static void test_host_limits(const char *path, pid_t child)
{
        struct spec_resources res;
        struct error err = ERROR_INIT;
        _cleanup_free_ char *devlist = NULL;
        int r;

        fill_resources(&res);
        r = cgroup_create(path, &res, child, &err);
        if (!ok(r == 0, "create `%s` with limits and a pid (%s)", path, err.msg ? err.msg : "ok"))
                return;
        ok(cg_file_is(path, CGC_MEMORY, "memory.limit_in_bytes", "67108864"), "memory limit");
        if (res.memory.has_swap)
                ok(cg_file_is(path, CGC_MEMORY, "memory.memsw.limit_in_bytes", "134217728"), "memory+swap limit");
        ok(cg_file_is(path, CGC_PIDS, "pids.max", "32"), "pids limit");
        ok(cg_file_is(path, CGC_CPU, "cpu.shares", "512") && cg_file_is(path, CGC_CPU, "cpu.cfs_quota_us", "20000") &&
                   cg_file_is(path, CGC_CPU, "cpu.cfs_period_us", "100000"),
           "cpu shares, quota and period");
        ok(cg_file_is(path, CGC_CPUSET, "cpuset.cpus", "0") && cg_file_is(path, CGC_CPUSET, "cpuset.mems", "0"),
           "cpuset");
        devlist = cg_file(path, CGC_DEVICES, "devices.list");
        ok(devlist && strstr(devlist, "c 1:3 rwm") && !strstr(devlist, "a *:*"), "device rules (%s)",
           devlist ? devlist : "unreadable");

        /* raising the limit above memsw needs memsw first */
        memset(&res, 0, sizeof(res));
        res.has_memory = res.memory.has_limit = true;
        res.memory.limit = -1;
        r = cgroup_update(path, &res, &err);
        ok(r == 0 && cg_file_is(path, CGC_MEMORY, "memory.limit_in_bytes", "9223372036854771712"),
           "update: memory unlimited (%s)", err.msg ? err.msg : "ok");
        error_clear(&err);
        res.memory.limit = 32 << 20;
        res.has_pids_limit = true;
        res.pids_limit = 0;
        r = cgroup_update(path, &res, &err);
        ok(r == 0 && cg_file_is(path, CGC_MEMORY, "memory.limit_in_bytes", "33554432") &&
                   cg_file_is(path, CGC_PIDS, "pids.max", "max"),
           "update: 32 MiB and no pids limit (%s)", err.msg ? err.msg : "ok");
        error_clear(&err);
}

static void test_host_stats(const char *top)
{
        struct error err = ERROR_INIT;
        char *json = NULL;
        int r = cgroup_stats_json(top, &json, &err);

        ok(r == 0 && strstr(json, "\"cpu\":{\"usage\":{") && strstr(json, "\"memory\":{") &&
                   strstr(json, "\"pids\":{\"current\":1") && strstr(json, "\"limit\":33554432"),
           "stats json");
        if (json)
                printf("# %.300s...\n", json);
        free(json);
        error_clear(&err);
        ok(cgroup_stats_json("berth-test-no-such", &json, &err) < 0, "stats of a missing cgroup");
        error_clear(&err);
}

static void test_host_processes(const char *top, const char *path, pid_t *child)
{
        struct error err = ERROR_INIT;
        pid_t *pids = NULL, second, third;
        size_t n = 0;
        int st = 0, r, w;

        ok(cgroup_pids(top, &pids, &n, &err) == 0 && n == 1 && pids[0] == *child, "pids of the parent: the child");
        free(pids);
        error_clear(&err);
        ok(cgroup_freeze(top, true, &err) == 0 && cgroup_is_frozen(top) == 1 && cgroup_is_frozen(path) == 1,
           "freeze (%s)", err.msg ? err.msg : "ok");
        error_clear(&err);
        ok(cgroup_freeze(top, false, &err) == 0 && cgroup_is_frozen(top) == 0, "thaw");
        error_clear(&err);

        second = spawn_pause();
        ok(cgroup_enter(path, second, &err) == 0, "enter a second pid (%s)", err.msg ? err.msg : "ok");
        error_clear(&err);
        ok(cgroup_pids(path, &pids, &n, &err) == 0 && n == 2, "two pids");
        free(pids);
        error_clear(&err);
        r = cgroup_kill_all(top, SIGTERM, &err);
        ok(r == 0 && wait_child(&second, &st) == 0 && WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM &&
                   wait_child(child, &st) == 0 && WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM,
           "kill_all SIGTERM (freeze, signal, thaw): both die (%s)", err.msg ? err.msg : "ok");
        error_clear(&err);
        if (second > 0)
                (void) reap(second);
        ok(cgroup_is_frozen(top) == 0, "thawed after kill_all");

        third = spawn_pause();
        ok(cgroup_enter(path, third, &err) == 0, "enter a third pid (%s)", err.msg ? err.msg : "ok");
        error_clear(&err);
        r = cgroup_kill_all(top, SIGKILL, &err);
        w = r == 0 ? wait_child(&third, &st) : -1;
        ok(r == 0 && w == 0 && WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL, "kill_all SIGKILL (%s, wait %d, status %#x)",
           err.msg ? err.msg : "ok", w, st);
        error_clear(&err);
        if (third > 0)
                (void) reap(third);
}

/* A child that checks device access once told to go: 0 = as expected. */
static pid_t spawn_device_checker(int *ret_go)
{
        int go[2];
        pid_t pid;

        if (pipe(go) < 0)
                return -1;
        pid = fork();
        if (pid == 0) {
                char c;
                int bad = 0;

                (void) prctl(PR_SET_PDEATHSIG, SIGKILL);
                close(go[1]);
                if (read(go[0], &c, 1) != 1)
                        _exit(100);
                bad |= open("/dev/null", O_RDWR) < 0 ? 1 : 0;
                bad |= open("/dev/zero", O_RDONLY) < 0 ? 2 : 0;
                bad |= open("/dev/zero", O_WRONLY) >= 0 || errno != EPERM ? 4 : 0;
                bad |= open("/dev/full", O_RDONLY) >= 0 || errno != EPERM ? 8 : 0;
                _exit(bad);
        }
        close(go[0]);
        *ret_go = go[1];
        return pid;
}

static void test_host_bpf(const char *path)
{
        const struct cgroup_hierarchies *hs = cgroup_hierarchies_get(NULL);
        static const struct spec_device_cgroup rules[] = {
                RULE(true, 'c', 1, 3, NULL),
                RULE(true, 'c', 1, 5, "r"),
        };
        struct error err = ERROR_INIT;
        _cleanup_free_ char *dir = NULL;
        _cleanup_close_ int fd = -EBADF;
        int go = -1, st = 0;
        pid_t pid;

        if (hs->v2 < 0)
                return skip("no cgroup2 mount for the eBPF device program");
        if (!ok(cgroup_create(path, NULL, 0, &err) == 0, "create `%s`", path))
                return;
        dir = cgroup_hierarchy_dir(&hs->h[hs->v2], path);
        fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (!ok(fd >= 0 && cgroup_bpf_devices_apply(fd, rules, ELEMENTSOF(rules), &err) == 0,
                "attach the device program (%s)", err.msg ? err.msg : "ok"))
                goto out;
        pid = spawn_device_checker(&go);
        if (pid < 0)
                goto out;
        ok(cgroup_enter(path, pid, &err) == 0, "move the child in");
        (void) !write(go, "x", 1);
        close(go);
        ok(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0,
           "device program enforced: null rw, zero r only, full denied (status %d)", WEXITSTATUS(st));
out:
        error_clear(&err);
        ok(cgroup_destroy(path, &err) == 0, "destroy `%s` (%s)", path, err.msg ? err.msg : "ok");
        error_clear(&err);
}

static void test_host(void)
{
        char top[64], path[96], bad[128], badtop[64], bpf[96], *why = NULL;
        struct spec_resources res = { 0 };
        struct error err = ERROR_INIT;
        pid_t child;
        int r;

        if (!host_usable(&why))
                return skip("host cgroup tests: %s", why);
        (void) snprintf(top, sizeof(top), "berth-test-%d", (int) getpid());
        (void) snprintf(path, sizeof(path), "%s/c1", top);
        (void) snprintf(badtop, sizeof(badtop), "berth-test-%d-bad", (int) getpid());
        (void) snprintf(bad, sizeof(bad), "%s/x", badtop);
        (void) snprintf(bpf, sizeof(bpf), "berth-test-%d-bpf", (int) getpid());

        child = spawn_pause();
        test_host_limits(path, child);
        test_host_errors(path);
        test_host_stats(path);
        test_host_processes(top, path, &child);
        ok(cgroup_destroy(top, &err) == 0 && !cg_exists_anywhere(top), "destroy, nested included (%s)",
           err.msg ? err.msg : "ok");
        error_clear(&err);
        ok(cgroup_destroy(top, &err) == 0, "destroying a missing cgroup succeeds");
        error_clear(&err);

        res.has_cpu = true;
        res.cpu.cpus = (char *) "4095";
        r = cgroup_create(bad, &res, 0, &err);
        ok(r < 0 && starts_with(err.msg, "linux.resources.cpu.cpus") &&
                   !cg_exists_anywhere(bad) && !cg_exists_anywhere(badtop),
           "a failed create leaves nothing (%s)", err.msg ? err.msg : "accepted");
        error_clear(&err);
        ok(cgroup_create("../x", NULL, 0, &err) < 0 && cgroup_destroy("", &err) < 0 && cgroup_destroy("/", &err) < 0,
           "unsafe paths refused");
        error_clear(&err);
        {
                /* top was destroyed above: the hierarchy's own answer */
                int fd = cgroup_open_v2_dir(top);
                ok(cgroup_layout() == CGROUP_LAYOUT_V1 ? fd == -EOPNOTSUPP : fd == -ENOENT,
                   "a v2 dir looked up exactly where a cgroup2 mount is (%d)", fd);
                if (fd >= 0)
                        close(fd);
        }

        test_host_bpf(bpf);

        /* whatever failed above, nothing of ours stays */
        if (child > 0)
                (void) reap(child);
        (void) cgroup_destroy(top, NULL);
        (void) cgroup_destroy(bpf, NULL);
        (void) cgroup_destroy(badtop, NULL);
}

/* ---- pure v2, simulated in a child ---- */

/* A cgroup namespace rooted at unified/berth-test-PID-v2 plus a private
 * mount namespace with cgroup2 mounted on /sys/fs/cgroup: the library sees
 * a pure v2 host whose root is our own test cgroup (so enabling
 * controllers never touches the host's). */
static int v2_sim_setup(const char *host_dir)
{
        _cleanup_free_ char *init = xasprintf("%s/init", host_dir), *self = xasprintf("%d", (int) getpid());

        if (cgroup_write(host_dir, "cgroup.procs", self, NULL, NULL) < 0)
                return -1;
        if (unshare(CLONE_NEWNS | CLONE_NEWCGROUP) < 0)
                return -2;
        /* nothing we mount may propagate to the host */
        if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
                return -3;
        /* the namespace root must hold no process to enable controllers */
        if (mkdir(init, 0755) < 0 || cgroup_write(init, "cgroup.procs", self, NULL, NULL) < 0)
                return -4;
        if (mount("cgroup2", "/sys/fs/cgroup", "cgroup2", 0, NULL) < 0)
                return -5;
        cgroup_cache_reset();
        return 0;
}

static void v2_sim_processes(const char *path)
{
        struct error err = ERROR_INIT;
        pid_t p1 = spawn_pause(), p2, checker, *pids = NULL;
        size_t n = 0;
        int st = 0, go = -1, r;

        ok(cgroup_enter(path, p1, &err) == 0, "v2: enter (%s)", err.msg ? err.msg : "ok");
        error_clear(&err);
        ok(cgroup_pids(path, &pids, &n, &err) == 0 && n == 1 && pids[0] == p1, "v2: pids");
        free(pids);
        error_clear(&err);
        r = cgroup_freeze(path, true, &err);
        ok(r == 0 && cgroup_is_frozen(path) == 1, "v2: freeze (%s)", err.msg ? err.msg : "ok");
        error_clear(&err);
        r = cgroup_freeze(path, false, &err);
        ok(r == 0 && cgroup_is_frozen(path) == 0, "v2: thaw (%s)", err.msg ? err.msg : "ok");
        error_clear(&err);

        checker = spawn_device_checker(&go);
        ok(cgroup_enter(path, checker, &err) == 0, "v2: move the device checker in");
        error_clear(&err);
        (void) !write(go, "x", 1);
        close(go);
        ok(wait_child(&checker, &st) == 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0,
           "v2: device program enforced (status %#x)", st);

        r = cgroup_kill_all(path, SIGTERM, &err);
        ok(r == 0 && wait_child(&p1, &st) == 0 && WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM && cgroup_is_frozen(path) == 0,
           "v2: kill_all SIGTERM through cgroup.freeze (%s)", err.msg ? err.msg : "ok");
        error_clear(&err);
        p2 = spawn_pause();
        (void) cgroup_enter(path, p2, NULL);
        r = cgroup_kill_all(path, SIGKILL, &err);
        ok(r == 0 && wait_child(&p2, &st) == 0 && WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL,
           "v2: kill_all SIGKILL through cgroup.kill (%s)", err.msg ? err.msg : "ok");
        error_clear(&err);
        if (p1 > 0)
                (void) reap(p1);
        if (p2 > 0)
                (void) reap(p2);
}

static void v2_sim_tests(void)
{
        static struct spec_device_cgroup devs[] = { RULE(true, 'c', 1, 3, NULL), RULE(true, 'c', 1, 5, "r") };
        struct spec_kv kv[] = { { (char *) "cgroup.max.descendants", (char *) "5" } };
        struct spec_kv bad_kv[] = { { (char *) "nosuch.file", (char *) "1" } };
        struct spec_resources res = { 0 };
        struct error err = ERROR_INIT;
        const struct cgroup_hierarchies *hs;
        char *s = NULL;
        int r, fd;

        ok(cgroup_layout() == CGROUP_LAYOUT_V2, "v2: layout");
        hs = cgroup_hierarchies_get(&err);
        ok(hs && hs->n == 1 && hs->v2 == 0 && streq_ptr(hs->h[0].own, "init"), "v2: one hierarchy, we are in init");
        r = cgroup_resolve_path("a", "id", false, &s, &err);
        ok(r == 0 && streq_ptr(s, "init/a"), "v2: relative path (%s)", r == 0 ? s : err.msg);
        free(s);
        error_clear(&err);

        res.devices = devs;
        res.n_devices = ELEMENTSOF(devs);
        res.unified = kv;
        res.n_unified = 1;
        r = cgroup_create("c1", &res, 0, &err);
        if (!ok(r == 0, "v2: create with devices and unified (%s)", err.msg ? err.msg : "ok"))
                return;
        s = NULL;
        (void) cgroup_read("/sys/fs/cgroup/c1", "cgroup.max.descendants", &s);
        ok(streq_ptr(s, "5\n"), "v2: unified key written");
        free(s);
        fd = cgroup_open_v2_dir("c1");
        ok(fd >= 0, "v2: open the directory (%d)", fd);
        if (fd >= 0)
                close(fd);
        v2_sim_processes("c1");

        memset(&res, 0, sizeof(res));
        res.has_memory = res.memory.has_limit = true;
        res.memory.limit = 1 << 20;
        r = cgroup_update("c1", &res, &err);
        ok(r < 0 && starts_with(err.msg, "linux.resources.memory: "), "v2: memory controller missing (%s)", err.msg);
        error_clear(&err);
        memset(&res, 0, sizeof(res));
        res.unified = bad_kv;
        res.n_unified = 1;
        r = cgroup_update("c1", &res, &err);
        ok(r < 0 && starts_with(err.msg, "linux.resources.unified.nosuch.file: no such cgroup file"), "v2: unknown key (%s)",
           err.msg);
        error_clear(&err);
        r = cgroup_destroy("c1", &err);
        ok(r == 0 && access("/sys/fs/cgroup/c1", F_OK) < 0, "v2: destroy (%s)", err.msg ? err.msg : "ok");
        error_clear(&err);
}

static void test_v2_simulated(void)
{
        const struct cgroup_hierarchies *hs = cgroup_hierarchies_get(NULL);
        _cleanup_free_ char *name = xasprintf("berth-test-%d-v2", (int) getpid()), *dir = NULL;
        unsigned counts[2] = { 0 };
        int fds[2], st = 0;
        pid_t pid;

        if (!real_root() || !hs || hs->layout != CGROUP_LAYOUT_HYBRID || hs->v2 < 0 ||
            access(hs->h[hs->v2].mount, W_OK) < 0)
                return skip("simulated v2: needs root on a hybrid host");
        dir = cgroup_hierarchy_dir(&hs->h[hs->v2], name);
        if (mkdir(dir, 0755) < 0 || pipe(fds) < 0)
                return skip("simulated v2: cannot create `%s`", dir);
        fflush(stdout);
        pid = fork();
        if (pid == 0) {
                int r = v2_sim_setup(dir);

                close(fds[0]);
                if (r < 0)
                        skip("simulated v2: namespace setup failed (%d: %m)", r);
                else
                        v2_sim_tests();
                counts[0] = n_tests;
                counts[1] = n_failed;
                fflush(stdout);
                (void) !write(fds[1], counts, sizeof(counts));
                _exit(0);
        }
        close(fds[1]);
        if (read_exact(fds[0], counts, sizeof(counts)) == 0) {
                n_tests = counts[0];
                n_failed = counts[1];
        } else
                ok(false, "simulated v2: the child died");
        close(fds[0]);
        (void) waitpid(pid, &st, 0);
        /* the child and its namespaces are gone: remove the test cgroup */
        ok(cgroup_destroy(name, NULL) == 0 && access(dir, F_OK) < 0, "simulated v2: cleaned up");
}

int main(void)
{
        test_paths();
        test_resolve();
        test_mountinfo();
        test_conversions();
        test_resource_strings();
        test_bpf();
        printf("# layout: %s\n", cgroup_layout_to_string(cgroup_layout()));
        test_host();
        test_v2_simulated();
        printf("1..%u\n", n_tests);
        return n_failed ? 1 : 0;
}
