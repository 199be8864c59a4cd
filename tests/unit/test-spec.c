/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <dirent.h>
#include <fcntl.h>
#include <sched.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "basic/fileio.h"
#include "runtime/spec.h"
#include "tap.h"

/* Unit tests of the config parser, TAP output; argv[1] is the directory of
 * real client configs (shared/client-samples). */

static bool streq_ptr(const char *a, const char *b)
{
        return a && b && strcmp(a, b) == 0;
}

#define BASE_PROCESS "\"process\":{\"args\":[\"sh\"],\"cwd\":\"/\"}"
#define BASE BASE_PROCESS ",\"root\":{\"path\":\"rootfs\"}"
#define CONFIG(extra) "{\"ociVersion\":\"1.2.0\"," BASE "," extra "}"
#define LINUX(extra) CONFIG("\"linux\":{" extra "}")
#define RESOURCES(extra) LINUX("\"resources\":{" extra "}")

/* ---- the real client configs ---- */

static void check_sample_config(const char *name, const struct spec *s)
{
        bool good = s->process && s->process->args && s->process->args[0] && s->root_path && s->n_mounts > 0 &&
                    spec_find_namespace(s, NS_MNT) && spec_find_namespace(s, NS_PID);

        ok(good, "%s: process, root, mounts and namespaces present", name);
        for (size_t i = 0; i < s->n_mounts; i++)
                if (s->mounts[i].destination[0] != '/')
                        ok(false, "%s: mount %zu destination absolute", name, i);

        if (strstr(name, "userns")) {
                const struct spec_rlimit *rl = &s->process->rlimits[0];

                ok(s->linux_.n_uid_mappings == 1 && s->linux_.uid_mappings[0].host_id == 100000 &&
                           s->linux_.uid_mappings[0].size == 65536 && spec_find_namespace(s, NS_USER),
                   "%s: user namespace and mappings", name);
                ok(s->process->user.has_umask && s->process->user.umask == 18, "%s: umask", name);
                ok(s->process->n_rlimits == 2 && rl->resource == RLIMIT_NOFILE && rl->soft == 20000 &&
                           rl->hard == 20000 && s->process->rlimits[1].resource == RLIMIT_NPROC,
                   "%s: rlimits", name);
                ok(streq_ptr(spec_annotation(s, "io.container.manager"), "libpod") &&
                           !spec_annotation(s, "no.such.key"),
                   "%s: annotations", name);
                ok(s->linux_.resources && s->linux_.resources->has_pids_limit &&
                           s->linux_.resources->pids_limit == 2048,
                   "%s: pids limit", name);
        }
        if (strstr(name, "pod-member")) {
                const struct spec_namespace *ns = spec_find_namespace(s, NS_NET);

                ok(ns && streq_ptr(ns->path, "/proc/27275/ns/net") && !spec_find_namespace(s, NS_USER),
                   "%s: joins the pod's network namespace", name);
        }
        if (strstr(name, "ctr-run-seccomp")) {
                const struct spec_seccomp *sc = s->linux_.seccomp;
                const struct spec_resources *r = s->linux_.resources;
                bool found = false;

                for (size_t i = 0; sc && i < sc->n_syscalls; i++)
                        for (size_t j = 0; j < sc->syscalls[i].n_args; j++)
                                if (sc->syscalls[i].args[j].value == 2114060288 &&
                                    streq_ptr(sc->syscalls[i].args[j].op, "SCMP_CMP_MASKED_EQ"))
                                        found = true;
                ok(sc && streq_ptr(sc->default_action, "SCMP_ACT_ERRNO") && sc->architectures && found,
                   "%s: seccomp profile", name);
                ok(r && r->n_devices > 1 && !r->devices[0].allow && r->devices[0].type == 'a' &&
                           streq_ptr(r->devices[0].access, "rwm") && r->devices[1].type == 'c' &&
                           r->devices[1].has_major && r->devices[1].major == 1 && r->has_cpu &&
                           r->cpu.has_shares,
                   "%s: device cgroup rules and cpu", name);
                ok(s->process->no_new_privileges && s->linux_.masked_paths && s->linux_.readonly_paths,
                   "%s: noNewPrivileges, masked and read-only paths", name);
        }
        if (strstr(name, "tty"))
                ok(s->process->terminal, "%s: terminal", name);
}

static void check_sample_process(const char *name, const struct spec_process *p)
{
        ok(p->args && p->args[0] && p->cwd && p->caps && p->caps->bounding && !p->caps->ambient &&
                   p->n_rlimits > 0,
           "%s: args, cwd, capabilities, rlimits", name);
        if (strstr(name, "ctr-exec-user"))
                ok(p->user.uid == 1000 && p->user.gid == 1000 && p->user.n_additional_gids == 1 &&
                           p->user.additional_gids[0] == 1000 && streq_ptr(p->cwd, "/tmp"),
                   "%s: user and additional gids", name);
        if (strstr(name, "tty"))
                ok(p->terminal, "%s: terminal", name);
}

static bool has_suffix(const char *s, const char *suffix)
{
        size_t a = strlen(s), b = strlen(suffix);

        return a >= b && strcmp(s + a - b, suffix) == 0;
}

static void test_samples(const char *dir)
{
        struct dirent **names = NULL;
        unsigned n_config = 0, n_process = 0;
        int n;

        n = dir ? scandir(dir, &names, NULL, alphasort) : -1;
        if (n < 0) {
                skip("client samples not found at %s", dir ? dir : "(none given)");
                return;
        }
        for (int i = 0; i < n; i++) {
                const char *name = names[i]->d_name;
                _cleanup_error_ struct error err = ERROR_INIT;
                _cleanup_free_ char *path = xasprintf("%s/%s", dir, name);
                _cleanup_free_ char *data = NULL;
                size_t len = 0;
                int r = 0;

                if (has_suffix(name, ".config.json") || has_suffix(name, ".process.json"))
                        r = read_full_file_at(AT_FDCWD, path, 1 << 24, &data, &len);
                if (r < 0)
                        ok(false, "read %s", path);
                else if (has_suffix(name, ".config.json")) {
                        struct spec *s = NULL;

                        r = spec_parse(data, len, &s, &err);
                        if (ok(r >= 0, "parse %s%s%s", name, err.msg ? ": " : "", err.msg ? err.msg : ""))
                                check_sample_config(name, s);
                        spec_free(s);
                        n_config++;
                } else if (has_suffix(name, ".process.json")) {
                        struct spec_process *p = NULL;

                        r = spec_parse_process(data, len, &p, &err);
                        if (ok(r >= 0, "parse process %s%s%s", name, err.msg ? ": " : "", err.msg ? err.msg : ""))
                                check_sample_process(name, p);
                        spec_process_free(p);
                        n_process++;
                }
                free(names[i]);
        }
        free(names);
        ok(n_config >= 7 && n_process >= 4, "found %u configs and %u process files", n_config, n_process);
}

/* ---- hostile and malformed input ---- */

struct bad_case {
        const char *json;
        const char *msg; /* the whole error message */
};

static const struct bad_case bad_configs[] = {
        { "", "invalid JSON at line 1, column 1 (offset 0): unexpected end of data" },
        { "{\n  \"process\": {\n", "invalid JSON at line 3, column 1 (offset 17): unexpected end of data" },
        { "{\"a\": 1,}", "invalid JSON at line 1, column 9 (offset 8): unexpected character" },
        { "{} {}", "invalid JSON at line 1, column 4 (offset 3): unexpected character" },
        { "[]", "expected object" },
        { "null", "expected object" },
        { "123", "expected object" },
        { "{}", "process: required field missing" },
        { "{\"process\": []}", "process: expected object" },
        { "{\"process\": {\"cwd\": \"/\"}}", "process.args: required field missing" },
        { "{\"process\": {\"args\": \"sh\", \"cwd\": \"/\"}}", "process.args: expected array of strings" },
        { "{\"process\": {\"args\": [], \"cwd\": \"/\"}}", "process.args: must not be empty" },
        { "{\"process\": {\"args\": [\"sh\", 1], \"cwd\": \"/\"}}", "process.args[1]: expected string" },
        { "{\"process\": {\"args\": [\"sh\", null], \"cwd\": \"/\"}}", "process.args[1]: expected string" },
        { "{\"process\": {\"args\": [\"s\\u0000h\"], \"cwd\": \"/\"}}", "process.args[0]: string contains a NUL byte" },
        { "{\"process\": {\"args\": [\"sh\"], \"env\": [\"A=1\", \"B=\\u0000\"], \"cwd\": \"/\"}}",
          "process.env[1]: string contains a NUL byte" },
        { "{\"process\": {\"args\": [\"sh\"]}}", "process.cwd: required field missing" },
        { "{\"process\": {\"args\": [\"sh\"], \"cwd\": \"tmp\"}}", "process.cwd: must be an absolute path, got \"tmp\"" },
        { "{" BASE_PROCESS "}", "root: required field missing" },
        { "{" BASE_PROCESS ", \"root\": {}}", "root.path: required field missing" },
        { "{" BASE_PROCESS ", \"root\": {\"path\": \"\"}}", "root.path: must not be empty" },
        { "{" BASE_PROCESS ", \"root\": {\"path\": \"r\", \"readonly\": 1}}", "root.readonly: expected boolean" },
        { "{\"process\": {\"args\": [\"sh\"], \"cwd\": \"/\", \"terminal\": \"yes\"}}",
          "process.terminal: expected boolean" },
        { "{\"process\": {\"args\": [\"sh\"], \"cwd\": \"/\", \"user\": {\"uid\": 4294967296}}}",
          "process.user.uid: expected integer between 0 and 4294967295" },
        { "{\"process\": {\"args\": [\"sh\"], \"cwd\": \"/\", \"user\": {\"uid\": -1}}}",
          "process.user.uid: expected integer between 0 and 4294967295" },
        { "{\"process\": {\"args\": [\"sh\"], \"cwd\": \"/\", \"user\": {\"gid\": \"0\"}}}",
          "process.user.gid: expected integer between 0 and 4294967295" },
        { "{\"process\": {\"args\": [\"sh\"], \"cwd\": \"/\", \"user\": {\"gid\": 1.5}}}",
          "process.user.gid: expected integer between 0 and 4294967295" },
        { "{\"process\": {\"args\": [\"sh\"], \"cwd\": \"/\", \"user\": {\"additionalGids\": [1, -2]}}}",
          "process.user.additionalGids[1]: expected integer between 0 and 4294967295" },
        { "{\"process\": {\"args\": [\"sh\"], \"cwd\": \"/\", \"oomScoreAdj\": 2147483648}}",
          "process.oomScoreAdj: expected integer between -2147483648 and 2147483647" },
        { "{\"process\": {\"args\": [\"sh\"], \"cwd\": \"/\", \"rlimits\": [{\"type\": \"RLIMIT_FOO\"}]}}",
          "process.rlimits[0].type: unknown rlimit \"RLIMIT_FOO\"" },
        { "{\"process\": {\"args\": [\"sh\"], \"cwd\": \"/\", \"rlimits\": [{\"type\": \"RLIMIT_NOFILE\", \"soft\": -1}]}}",
          "process.rlimits[0].soft: expected integer between 0 and 18446744073709551615" },
        { "{\"process\": {\"args\": [\"sh\"], \"cwd\": \"/\", \"rlimits\": [{\"soft\": 1}]}}",
          "process.rlimits[0].type: required field missing" },
        { "{\"process\": {\"args\": [\"sh\"], \"cwd\": \"/\", \"capabilities\": {\"bounding\": [\"CAP_KILL\", {}]}}}",
          "process.capabilities.bounding[1]: expected string" },
        { "{\"process\": {\"args\": [\"sh\"], \"cwd\": \"/\", \"scheduler\": {\"policy\": \"SCHED_FOO\"}}}",
          "process.scheduler.policy: unknown scheduler policy \"SCHED_FOO\"" },
        { "{\"process\": {\"args\": [\"sh\"], \"cwd\": \"/\", \"ioPriority\": {\"class\": \"IOPRIO_CLASS_NONE\"}}}",
          "process.ioPriority.class: unknown I/O priority class \"IOPRIO_CLASS_NONE\"" },
        { CONFIG("\"mounts\": {}"), "mounts: expected array of objects" },
        { CONFIG("\"mounts\": [1]"), "mounts[0]: expected object" },
        { CONFIG("\"mounts\": [{\"destination\": \"/a\"}, {\"destination\": \"\"}]"),
          "mounts[1].destination: must not be empty" },
        { CONFIG("\"mounts\": [{\"type\": \"proc\"}]"), "mounts[0].destination: required field missing" },
        { CONFIG("\"mounts\": [{\"destination\": \"/a\", \"options\": [\"ro\", 7]}]"),
          "mounts[0].options[1]: expected string" },
        { CONFIG("\"mounts\": [{\"destination\": \"/a\", \"uidMappings\": [{\"containerID\": 0, \"hostID\": 1, \"size\": 0}]}]"),
          "mounts[0].uidMappings[0].size: must be greater than 0" },
        { CONFIG("\"hooks\": {\"prestart\": [{\"path\": \"bin/true\"}]}"),
          "hooks.prestart[0].path: must be an absolute path, got \"bin/true\"" },
        { CONFIG("\"hooks\": {\"poststop\": [{\"path\": \"/bin/true\", \"timeout\": 0}]}"),
          "hooks.poststop[0].timeout: must be greater than 0" },
        { CONFIG("\"hooks\": {\"createRuntime\": [{\"path\": \"/bin/true\", \"args\": \"x\"}]}"),
          "hooks.createRuntime[0].args: expected array of strings" },
        { CONFIG("\"annotations\": {\"a\": \"b\", \"c\": 1}"), "annotations[\"c\"]: expected string" },
        { CONFIG("\"annotations\": []"), "annotations: expected object of strings" },
        { CONFIG("\"linux\": []"), "linux: expected object" },
        { LINUX("\"namespaces\": [{\"type\": \"pid\"}, {\"type\": \"mount\"}, {\"type\": \"foo\"}]"),
          "linux.namespaces[2].type: unknown namespace type \"foo\"" },
        { LINUX("\"namespaces\": [{\"type\": \"pid\"}, {\"type\": \"pid\"}]"),
          "linux.namespaces[1].type: duplicate namespace type \"pid\"" },
        { LINUX("\"namespaces\": [{\"type\": \"pid\\u0000\"}]"),
          "linux.namespaces[0].type: string contains a NUL byte" },
        { LINUX("\"namespaces\": [{\"path\": \"/proc/1/ns/pid\"}]"),
          "linux.namespaces[0].type: required field missing" },
        { LINUX("\"namespaces\": [{\"type\": \"network\", \"path\": \"proc/1/ns/net\"}]"),
          "linux.namespaces[0].path: must be an absolute path, got \"proc/1/ns/net\"" },
        { LINUX("\"uidMappings\": [{\"containerID\": 0, \"hostID\": 1000}]"),
          "linux.uidMappings[0].size: required field missing" },
        { LINUX("\"gidMappings\": [{\"containerID\": 0, \"hostID\": 1000, \"size\": 0}]"),
          "linux.gidMappings[0].size: must be greater than 0" },
        { LINUX("\"timeOffsets\": {\"realtime\": {\"secs\": 1}}"),
          "linux.timeOffsets[\"realtime\"]: unknown clock, expected \"monotonic\" or \"boottime\"" },
        { LINUX("\"timeOffsets\": {\"boottime\": {\"nanosecs\": 1000000000}}"),
          "linux.timeOffsets[\"boottime\"].nanosecs: must be less than 1000000000" },
        { LINUX("\"devices\": [{\"path\": \"/dev/x\", \"type\": \"x\", \"major\": 1, \"minor\": 1}]"),
          "linux.devices[0].type: unknown device type \"x\"" },
        { LINUX("\"devices\": [{\"path\": \"/dev/x\", \"type\": \"cc\", \"major\": 1, \"minor\": 1}]"),
          "linux.devices[0].type: unknown device type \"cc\"" },
        { LINUX("\"devices\": [{\"path\": \"/dev/x\", \"type\": \"c\", \"minor\": 1}]"),
          "linux.devices[0].major: required field missing" },
        { LINUX("\"devices\": [{\"path\": \"/dev/x\", \"type\": \"b\", \"major\": 8, \"minor\": null}]"),
          "linux.devices[0].minor: required field missing" },
        { LINUX("\"devices\": [{\"path\": \"dev/x\", \"type\": \"p\"}]"),
          "linux.devices[0].path: must be an absolute path, got \"dev/x\"" },
        { LINUX("\"sysctl\": {\"net.ipv4.ip_forward\": 1}"), "linux.sysctl[\"net.ipv4.ip_forward\"]: expected string" },
        { LINUX("\"rootfsPropagation\": \"bogus\""), "linux.rootfsPropagation: unknown propagation \"bogus\"" },
        { LINUX("\"personality\": {\"domain\": \"LINUX64\"}"), "linux.personality.domain: unknown personality \"LINUX64\"" },
        { LINUX("\"seccomp\": {\"syscalls\": []}"), "linux.seccomp.defaultAction: required field missing" },
        { LINUX("\"seccomp\": {\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"read\"]}]}"),
          "linux.seccomp.syscalls[0].action: required field missing" },
        { LINUX("\"seccomp\": {\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"read\"], "
                "\"action\": \"SCMP_ACT_ERRNO\", \"args\": [{\"index\": 0, \"value\": -1, \"op\": \"SCMP_CMP_EQ\"}]}]}"),
          "linux.seccomp.syscalls[0].args[0].value: expected integer between 0 and 18446744073709551615" },
        { RESOURCES("\"memory\": {\"swappiness\": -1}"),
          "linux.resources.memory.swappiness: expected integer between 0 and 18446744073709551615" },
        { RESOURCES("\"memory\": {\"limit\": 9223372036854775808}"),
          "linux.resources.memory.limit: expected integer between -9223372036854775808 and 9223372036854775807" },
        { RESOURCES("\"blockIO\": {\"weight\": 70000}"),
          "linux.resources.blockIO.weight: expected integer between 0 and 65535" },
        { RESOURCES("\"blockIO\": {\"throttleReadBpsDevice\": [{\"major\": 8, \"minor\": 0}]}"),
          "linux.resources.blockIO.throttleReadBpsDevice[0].rate: required field missing" },
        { RESOURCES("\"devices\": [{\"allow\": true, \"type\": \"u\"}]"),
          "linux.resources.devices[0].type: unknown device type \"u\"" },
        { RESOURCES("\"devices\": [{\"allow\": true, \"access\": \"rwx\"}]"),
          "linux.resources.devices[0].access: expected a combination of \"r\", \"w\" and \"m\", got \"rwx\"" },
        { RESOURCES("\"devices\": [{\"access\": \"rwm\"}]"), "linux.resources.devices[0].allow: required field missing" },
        { RESOURCES("\"hugepageLimits\": [{\"limit\": 1}]"),
          "linux.resources.hugepageLimits[0].pageSize: required field missing" },
        { RESOURCES("\"rdma\": {\"mlx5_1\": {\"hcaHandles\": -3}}"),
          "linux.resources.rdma[\"mlx5_1\"].hcaHandles: expected integer between 0 and 4294967295" },
        { RESOURCES("\"unified\": {\"memory.max\": [\"1\"]}"), "linux.resources.unified[\"memory.max\"]: expected string" },
        { RESOURCES("\"network\": {\"priorities\": [{\"name\": \"eth0\"}]}"),
          "linux.resources.network.priorities[0].priority: required field missing" },
};

static void test_bad_configs(void)
{
        for (size_t i = 0; i < ELEMENTSOF(bad_configs); i++) {
                _cleanup_error_ struct error err = ERROR_INIT;
                struct spec *s = NULL;
                int r;

                r = spec_parse(bad_configs[i].json, strlen(bad_configs[i].json), &s, &err);
                if (!ok(r == -EINVAL && !s && streq_ptr(err.msg, bad_configs[i].msg), "rejects: %s",
                        bad_configs[i].msg))
                        printf("# got r=%d msg=%s\n#   for %s\n", r, err.msg ? err.msg : "(null)",
                               bad_configs[i].json);
        }
}

static void test_bad_bytes(void)
{
        static const char nul_after[] = "{\"a\": 1}\0{}";
        _cleanup_error_ struct error err = ERROR_INIT;
        _cleanup_free_ char *big = NULL, *deep = NULL;
        struct spec *s = NULL;
        size_t n;
        int r;

        r = spec_parse(nul_after, sizeof(nul_after) - 1, &s, &err);
        ok(r < 0 && streq_ptr(err.msg, "invalid JSON at line 1, column 9 (offset 8): trailing data after the JSON value"),
           "rejects a NUL byte after the value: %s", err.msg);
        error_clear(&err);

        n = (16U << 20) + 1;
        big = xmalloc(n);
        memset(big, ' ', n);
        r = spec_parse(big, n, &s, &err);
        ok(r == -EFBIG && !s, "rejects input over 16 MiB: %s", err.msg);
        error_clear(&err);

        /* nesting beyond json-c's depth limit fails in the tokenizer */
        deep = xmalloc(2001);
        memset(deep, '[', 2000);
        deep[2000] = 0;
        r = spec_parse(deep, 2000, &s, &err);
        ok(r < 0 && err.msg && strstr(err.msg, "too deep"), "rejects deep nesting: %s", err.msg);
        error_clear(&err);
}

static void test_bad_process(void)
{
        _cleanup_error_ struct error err = ERROR_INIT;
        struct spec_process *p = NULL;
        const char *j = "{\"args\": [\"sh\"], \"cwd\": \"/\", \"user\": {\"umask\": \"022\"}}";
        int r;

        r = spec_parse_process(j, strlen(j), &p, &err);
        ok(r < 0 && !p && streq_ptr(err.msg, "process.user.umask: expected integer between 0 and 4294967295"),
           "process file: %s", err.msg);
}

static void test_bad_resources(void)
{
        _cleanup_error_ struct error err = ERROR_INIT;
        struct spec_resources *res = NULL;
        const char *j = "{\"memory\": {\"limit\": \"1G\"}}";
        int r;

        r = spec_parse_resources(j, strlen(j), &res, &err);
        ok(r < 0 && !res &&
                   streq_ptr(err.msg, "resources.memory.limit: expected integer between -9223372036854775808 and "
                                      "9223372036854775807"),
           "resources file: %s", err.msg);
}

/* ---- accepted values ---- */

static const char full_config[] = "{\"ociVersion\": \"1.2.0\", \"unknownTopLevel\": {\"x\": [1, 2]},"
        "\"hostname\": null, \"domainname\": \"example.org\","
        "\"process\": {\"terminal\": true, \"consoleSize\": {\"height\": 24, \"width\": 80},"
        "  \"user\": {\"uid\": 4294967295, \"gid\": 0, \"umask\": 0, \"additionalGids\": [], \"username\": \"u\"},"
        "  \"args\": [\"sh\", \"\"], \"commandLine\": \"sh\", \"env\": [], \"cwd\": \"/\","
        "  \"capabilities\": {\"ambient\": [\"CAP_KILL\"], \"inheritable\": []},"
        "  \"rlimits\": [{\"type\": \"RLIMIT_CORE\", \"soft\": 18446744073709551615, \"hard\": 18446744073709551615}],"
        "  \"noNewPrivileges\": false, \"apparmorProfile\": \"a\", \"oomScoreAdj\": -1000, \"selinuxLabel\": \"l\","
        "  \"scheduler\": {\"policy\": \"SCHED_DEADLINE\", \"nice\": -20, \"priority\": 0, \"flags\": [\"SCHED_FLAG_RESET_ON_FORK\"],"
        "     \"runtime\": 1, \"deadline\": 2, \"period\": 3},"
        "  \"ioPriority\": {\"class\": \"IOPRIO_CLASS_IDLE\", \"priority\": 7},"
        "  \"execCPUAffinity\": {\"initial\": \"0\", \"final\": \"0-3,7\"}},"
        "\"root\": {\"path\": \"/rootfs\", \"readonly\": true},"
        "\"mounts\": [{\"destination\": \"proc\", \"type\": \"proc\", \"source\": \"proc\"},"
        "  {\"destination\": \"/data\", \"type\": \"bind\", \"source\": \"/srv\", \"options\": [\"rbind\", \"idmap\"],"
        "   \"uidMappings\": [{\"containerID\": 0, \"hostID\": 1000, \"size\": 1}],"
        "   \"gidMappings\": [{\"containerID\": 0, \"hostID\": 1000, \"size\": 1}]}],"
        "\"hooks\": {\"prestart\": [{\"path\": \"/bin/a\"}], \"createRuntime\": [{\"path\": \"/bin/b\", \"args\": [\"b\", \"1\"],"
        "   \"env\": [\"X=1\"], \"timeout\": 5}], \"createContainer\": [], \"startContainer\": [{\"path\": \"/bin/c\"}],"
        "   \"poststart\": null, \"poststop\": [{\"path\": \"/bin/d\"}, {\"path\": \"/bin/e\"}]},"
        "\"annotations\": {\"k\": \"v\", \"empty\": \"\"},"
        "\"linux\": {\"namespaces\": [{\"type\": \"pid\"}, {\"type\": \"network\", \"path\": \"/run/netns/x\"},"
        "   {\"type\": \"mount\"}, {\"type\": \"ipc\"}, {\"type\": \"uts\"}, {\"type\": \"user\"}, {\"type\": \"cgroup\"},"
        "   {\"type\": \"time\"}],"
        "  \"uidMappings\": [{\"containerID\": 0, \"hostID\": 100000, \"size\": 65536}],"
        "  \"gidMappings\": [{\"containerID\": 0, \"hostID\": 100000, \"size\": 65536}],"
        "  \"timeOffsets\": {\"monotonic\": {\"secs\": -86400, \"nanosecs\": 5}, \"boottime\": {\"secs\": 1}},"
        "  \"devices\": [{\"path\": \"/dev/fuse\", \"type\": \"c\", \"major\": 10, \"minor\": 229, \"fileMode\": 438,"
        "     \"uid\": 0, \"gid\": 0}, {\"path\": \"/dev/fifo\", \"type\": \"p\"}],"
        "  \"cgroupsPath\": \"/berth/test\","
        "  \"resources\": {\"devices\": [{\"allow\": false}, {\"allow\": true, \"type\": \"c\", \"major\": 10, \"minor\": -1,"
        "       \"access\": \"rw\"}],"
        "     \"memory\": {\"limit\": -1, \"reservation\": 0, \"swap\": -1, \"kernel\": 1, \"kernelTCP\": 2,"
        "       \"swappiness\": 60, \"disableOOMKiller\": true, \"useHierarchy\": false, \"checkBeforeUpdate\": true},"
        "     \"cpu\": {\"shares\": 1024, \"quota\": -1, \"burst\": 0, \"period\": 100000, \"realtimeRuntime\": 0,"
        "       \"realtimePeriod\": 0, \"cpus\": \"0-1\", \"mems\": \"0\", \"idle\": 1},"
        "     \"pids\": {\"limit\": -1},"
        "     \"blockIO\": {\"weight\": 500, \"leafWeight\": 10, \"weightDevice\": [{\"major\": 8, \"minor\": 0, \"weight\": 100}],"
        "       \"throttleReadBpsDevice\": [{\"major\": 8, \"minor\": 0, \"rate\": 1048576}],"
        "       \"throttleWriteBpsDevice\": [{\"major\": 8, \"minor\": 0, \"rate\": 1}],"
        "       \"throttleReadIOPSDevice\": [{\"major\": 8, \"minor\": 0, \"rate\": 2}],"
        "       \"throttleWriteIOPSDevice\": [{\"major\": 8, \"minor\": 0, \"rate\": 3}]},"
        "     \"hugepageLimits\": [{\"pageSize\": \"2MB\", \"limit\": 209715200}],"
        "     \"network\": {\"classID\": 1048577, \"priorities\": [{\"name\": \"eth0\", \"priority\": 500}]},"
        "     \"rdma\": {\"mlx5_1\": {\"hcaHandles\": 3, \"hcaObjects\": 10000}},"
        "     \"unified\": {\"memory.high\": \"max\"}},"
        "  \"sysctl\": {\"net.ipv4.ip_forward\": \"1\"},"
        "  \"seccomp\": {\"defaultAction\": \"SCMP_ACT_ERRNO\", \"defaultErrnoRet\": 1,"
        "     \"architectures\": [\"SCMP_ARCH_X86_64\"], \"flags\": [\"SECCOMP_FILTER_FLAG_LOG\"],"
        "     \"listenerPath\": \"/run/l.sock\", \"listenerMetadata\": \"m\","
        "     \"syscalls\": [{\"names\": [\"clone\"], \"action\": \"SCMP_ACT_ALLOW\","
        "        \"args\": [{\"index\": 0, \"value\": 2114060288, \"valueTwo\": 0, \"op\": \"SCMP_CMP_MASKED_EQ\"}]},"
        "       {\"names\": [\"mount\"], \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 38}]},"
        "  \"rootfsPropagation\": \"rslave\", \"maskedPaths\": [\"/proc/kcore\"], \"readonlyPaths\": [\"/proc/sys\"],"
        "  \"mountLabel\": \"m\", \"intelRdt\": {\"closID\": \"guaranteed\", \"l3CacheSchema\": \"L3:0=7f0\"},"
        "  \"personality\": {\"domain\": \"LINUX32\", \"flags\": []}}}";

static void check_full_process(const struct spec_process *p)
{
        ok(p->terminal && p->has_console_size && p->console_size.height == 24 && p->console_size.width == 80,
           "full: terminal and console size");
        ok(p->user.uid == 4294967295U && p->user.has_umask && p->user.umask == 0 && p->user.n_additional_gids == 0 &&
                   streq_ptr(p->user.username, "u"),
           "full: user");
        ok(streq_ptr(p->args[1], "") && !p->args[2] && p->env && !p->env[0], "full: args and empty env");
        ok(p->caps && !p->caps->bounding && p->caps->ambient && streq_ptr(p->caps->ambient[0], "CAP_KILL") &&
                   p->caps->inheritable && !p->caps->inheritable[0],
           "full: capabilities, absent vs empty");
        ok(p->n_rlimits == 1 && p->rlimits[0].resource == RLIMIT_CORE && p->rlimits[0].soft == UINT64_MAX &&
                   p->rlimits[0].hard == UINT64_MAX,
           "full: rlimit of UINT64_MAX");
        ok(p->has_oom_score_adj && p->oom_score_adj == -1000, "full: oomScoreAdj");
        ok(p->scheduler && p->scheduler->policy_num == 6 && p->scheduler->nice == -20 && p->scheduler->period == 3 &&
                   streq_ptr(p->scheduler->flags[0], "SCHED_FLAG_RESET_ON_FORK"),
           "full: scheduler");
        ok(p->io_priority && p->io_priority->class_num == 3 && p->io_priority->priority == 7, "full: ioPriority");
        ok(p->exec_cpu_affinity && streq_ptr(p->exec_cpu_affinity->final, "0-3,7"), "full: execCPUAffinity");
}

static void check_full_linux(const struct spec *s)
{
        const struct spec_linux *l = &s->linux_;

        ok(l->n_namespaces == _NS_MAX && spec_find_namespace(s, NS_TIME) &&
                   streq_ptr(spec_find_namespace(s, NS_NET)->path, "/run/netns/x") &&
                   !spec_find_namespace(s, NS_PID)->path,
           "full: all namespace types");
        ok(l->n_time_offsets == 2 && streq_ptr(l->time_offsets[0].clock, "monotonic") &&
                   l->time_offsets[0].secs == -86400 && l->time_offsets[0].nanosecs == 5,
           "full: timeOffsets");
        ok(l->n_devices == 2 && l->devices[0].type == 'c' && l->devices[0].major == 10 &&
                   l->devices[0].has_file_mode && l->devices[0].file_mode == 0666 && l->devices[1].type == 'p' &&
                   !l->devices[1].has_uid,
           "full: devices");
        ok(l->n_sysctl == 1 && streq_ptr(l->sysctl[0].value, "1") && streq_ptr(l->rootfs_propagation, "rslave") &&
                   streq_ptr(l->intel_rdt_clos_id, "guaranteed") && streq_ptr(l->personality_domain, "LINUX32") &&
                   streq_ptr(l->mount_label, "m") && streq_ptr(l->cgroups_path, "/berth/test"),
           "full: sysctl, propagation, intelRdt, personality");
        ok(l->seccomp && l->seccomp->has_default_errno_ret && l->seccomp->n_syscalls == 2 &&
                   l->seccomp->syscalls[0].n_args == 1 && l->seccomp->syscalls[0].args[0].value == 2114060288 &&
                   l->seccomp->syscalls[1].has_errno_ret && l->seccomp->syscalls[1].errno_ret == 38 &&
                   streq_ptr(l->seccomp->listener_path, "/run/l.sock"),
           "full: seccomp");
}

static void check_full_resources(const struct spec_resources *r)
{
        ok(r->n_devices == 2 && r->devices[0].type == 'a' && !r->devices[0].has_major && !r->devices[0].access &&
                   r->devices[1].has_minor && r->devices[1].minor == -1,
           "full: device cgroup rules");
        ok(r->has_memory && r->memory.has_limit && r->memory.limit == -1 && r->memory.swap == -1 &&
                   r->memory.swappiness == 60 && r->memory.has_disable_oom_killer && r->memory.disable_oom_killer &&
                   r->memory.has_use_hierarchy && !r->memory.use_hierarchy && r->memory.check_before_update,
           "full: memory, -1 means unlimited");
        ok(r->has_cpu && r->cpu.has_quota && r->cpu.quota == -1 && r->cpu.shares == 1024 && r->cpu.has_burst &&
                   streq_ptr(r->cpu.cpus, "0-1") && r->cpu.has_idle,
           "full: cpu");
        ok(r->has_pids_limit && r->pids_limit == -1, "full: pids");
        ok(r->has_block_io && r->block_io.weight == 500 && r->block_io.n_weight_device == 1 &&
                   r->block_io.weight_device[0].has_weight && !r->block_io.weight_device[0].has_leaf_weight &&
                   r->block_io.n_throttle_write_iops == 1 && r->block_io.throttle_write_iops[0].rate == 3,
           "full: blockIO");
        ok(r->n_hugepage_limits == 1 && r->has_network && r->network.class_id == 1048577 &&
                   r->network.n_priorities == 1 && r->n_rdma == 1 && streq_ptr(r->rdma[0].device, "mlx5_1") &&
                   r->rdma[0].has_hca_objects && r->rdma[0].hca_objects == 10000 && r->n_unified == 1,
           "full: hugepages, network, rdma, unified");
}

static void test_full_config(void)
{
        _cleanup_error_ struct error err = ERROR_INIT;
        struct spec *s = NULL;
        int r;

        r = spec_parse(full_config, sizeof(full_config) - 1, &s, &err);
        if (!ok(r >= 0, "full config parses: %s", err.msg ? err.msg : "ok"))
                return;
        ok(!s->hostname && streq_ptr(s->domainname, "example.org") && s->root_readonly &&
                   streq_ptr(s->root_path, "/rootfs"),
           "full: null is absent, root");
        ok(s->n_mounts == 2 && streq_ptr(s->mounts[0].destination, "/proc") && !s->mounts[0].options &&
                   s->mounts[1].n_uid_mappings == 1 && s->mounts[1].gid_mappings[0].host_id == 1000,
           "full: relative mount destination made absolute, idmapped mount");
        ok(s->hooks.n[SPEC_HOOK_PRESTART] == 1 && s->hooks.n[SPEC_HOOK_CREATE_CONTAINER] == 0 &&
                   s->hooks.n[SPEC_HOOK_POSTSTART] == 0 && s->hooks.n[SPEC_HOOK_POSTSTOP] == 2 &&
                   s->hooks.list[SPEC_HOOK_CREATE_RUNTIME][0].has_timeout &&
                   s->hooks.list[SPEC_HOOK_CREATE_RUNTIME][0].timeout == 5 &&
                   !s->hooks.list[SPEC_HOOK_PRESTART][0].has_timeout &&
                   streq_ptr(s->hooks.list[SPEC_HOOK_POSTSTOP][1].path, "/bin/e"),
           "full: hooks");
        ok(s->n_annotations == 2 && streq_ptr(spec_annotation(s, "empty"), ""), "full: annotations");
        check_full_process(s->process);
        check_full_linux(s);
        check_full_resources(s->linux_.resources);
        spec_free(s);
}

static void test_resources_file(void)
{
        _cleanup_error_ struct error err = ERROR_INIT;
        struct spec_resources *res = NULL;
        const char *j = "{\"memory\": {\"limit\": 1048576, \"swap\": 2097152}, \"cpu\": {\"quota\": -1}, "
                        "\"pids\": {\"limit\": 10}, \"blockIO\": {}}";
        int r;

        r = spec_parse_resources(j, strlen(j), &res, &err);
        ok(r >= 0 && res->has_memory && res->memory.limit == 1048576 && !res->memory.has_reservation &&
                   res->cpu.quota == -1 && res->has_pids_limit && res->pids_limit == 10 && res->has_block_io &&
                   !res->has_network,
           "update --resources file: %s", err.msg ? err.msg : "ok");
        spec_resources_free(res);
        spec_resources_free(NULL);
        spec_process_free(NULL);
        spec_free(NULL);
}

static void test_namespace_names(void)
{
        static const int flags[_NS_MAX] = {
                [NS_PID] = CLONE_NEWPID,   [NS_NET] = CLONE_NEWNET,   [NS_MNT] = CLONE_NEWNS,
                [NS_IPC] = CLONE_NEWIPC,   [NS_UTS] = CLONE_NEWUTS,   [NS_USER] = CLONE_NEWUSER,
                [NS_CGROUP] = CLONE_NEWCGROUP, [NS_TIME] = 0x80,
        };
        static const char *const proc[_NS_MAX] = { "pid", "net", "mnt", "ipc", "uts", "user", "cgroup", "time" };
        bool good = true;

        for (int t = 0; t < _NS_MAX; t++)
                good = good && ns_type_from_string(ns_type_to_string(t)) == (enum ns_type) t &&
                       ns_type_to_clone_flag(t) == flags[t] && streq_ptr(ns_type_to_proc_name(t), proc[t]);
        ok(good, "namespace names, proc names and clone flags round-trip");
        ok(ns_type_from_string("net") == _NS_INVALID && ns_type_from_string("network") == NS_NET &&
                   ns_type_from_string("mount") == NS_MNT && ns_type_from_string(NULL) == _NS_INVALID &&
                   !ns_type_to_string(_NS_MAX) && !ns_type_to_proc_name(_NS_INVALID) &&
                   ns_type_to_clone_flag(_NS_MAX) < 0,
           "namespace names: unknown and out of range");
}

/* ---- spec_load ---- */

static void test_load(void)
{
        char dir[] = "/tmp/berth-test-spec-XXXXXX";
        _cleanup_error_ struct error err = ERROR_INIT;
        _cleanup_close_ int dfd = -EBADF;
        const char *bad = "{\"process\": {\"args\": \"sh\"}}";
        struct spec *s = NULL;
        int r;

        if (!mkdtemp(dir)) {
                skip("mkdtemp: %m");
                return;
        }
        dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

        r = spec_load(dfd, &s, &err);
        ok(r == -ENOENT && streq_ptr(err.msg, "open `config.json`: No such file or directory"), "load: missing: %s",
           err.msg);
        error_clear(&err);

        r = write_file_atomic_at(dfd, "config.json", bad, strlen(bad), 0644);
        r = r < 0 ? r : spec_load(dfd, &s, &err);
        ok(r == -EINVAL && streq_ptr(err.msg, "config.json: process.args: expected array of strings"),
           "load: error names the file and field: %s", err.msg);
        error_clear(&err);

        r = write_file_atomic_at(dfd, "config.json", full_config, sizeof(full_config) - 1, 0644);
        r = r < 0 ? r : spec_load(dfd, &s, &err);
        ok(r >= 0 && s && streq_ptr(s->oci_version, "1.2.0"), "load: valid config: %s", err.msg ? err.msg : "ok");
        spec_free(s);

        (void) unlinkat(dfd, "config.json", 0);
        r = mkdirat(dfd, "config.json", 0755);
        r = r < 0 ? r : spec_load(dfd, &s, &err);
        ok(r < 0 && err.msg && strstr(err.msg, "config.json"), "load: a directory is refused: %s", err.msg);
        error_clear(&err);

        (void) unlinkat(dfd, "config.json", AT_REMOVEDIR);
        r = mkfifoat(dfd, "config.json", 0644);
        r = r < 0 ? r : spec_load(dfd, &s, &err);
        ok(r < 0 && streq_ptr(err.msg, "`config.json` is not a regular file"), "load: a FIFO is refused, no hang: %s",
           err.msg);
        error_clear(&err);

        (void) unlinkat(dfd, "config.json", 0);
        (void) rmdir(dir);
}

int main(int argc, char **argv)
{
        test_samples(argc > 1 ? argv[1] : NULL);
        test_bad_configs();
        test_bad_bytes();
        test_bad_process();
        test_bad_resources();
        test_full_config();
        test_resources_file();
        test_namespace_names();
        test_load();
        printf("1..%u\n", n_tests);
        return n_failed > 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
