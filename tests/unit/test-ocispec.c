/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ocispec_build(): Docker's rules for the command, environment, user,
 * capabilities, mounts, resources and seccomp; every config it makes is
 * also fed to berth-runtime's parser and seccomp compiler, so a config
 * the runtime would refuse fails here. */
#include <fcntl.h>
#include <json-c/json.h>
#include <json-c/json_pointer.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "basic/chase.h"
#include "basic/rm-rf.h"
#include "engine/ocispec.h"
#include "runtime/security.h"
#include "runtime/spec.h"
#include "tap.h"

#define ID "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static const char passwd[] = "root:x:0:0:root:/root:/bin/sh\n"
                             "daemon:x:1:1:daemon:/usr/sbin:/bin/false\n"
                             "# a comment\n"
                             "app:x:1000:1000:app:/home/app:/bin/sh\n"
                             "nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n";
static const char group[] = "root:x:0:\n"
                            "audio:x:29:app\n"
                            "staff:x:50:daemon,app\n"
                            "wheel:x:10:root\n"
                            "app:x:1000:\n";

static char *tmpdir;
static struct ocispec_env env;

static void write_file(const char *dir, const char *name, const char *data)
{
        _cleanup_free_ char *p = xasprintf("%s/%s", dir, name);
        FILE *f = fopen(p, "w");

        if (!f) {
                printf("# cannot write %s\n", p);
                return;
        }
        fputs(data, f);
        fclose(f);
}

/* A root file system DIR/NAME with /etc/passwd and /etc/group. */
static char *make_rootfs(const char *name, bool with_db)
{
        _cleanup_free_ char *etc = NULL;
        char *root = xasprintf("%s/%s", tmpdir, name);

        (void) mkdir(root, 0755);
        etc = xasprintf("%s/etc", root);
        (void) mkdir(etc, 0755);
        if (with_db) {
                write_file(etc, "passwd", passwd);
                write_file(etc, "group", group);
        }
        return root;
}

static json_object *parse(const char *s)
{
        return s ? json_tokener_parse(s) : NULL;
}

static json_object *at(json_object *o, const char *ptr)
{
        json_object *v = NULL;

        return json_pointer_get(o, ptr, &v) == 0 ? v : NULL;
}

static const char *str_at(json_object *o, const char *ptr)
{
        json_object *v = at(o, ptr);

        return v ? json_object_get_string(v) : NULL;
}

static bool plain_is(json_object *o, const char *want)
{
        const char *got = o ? json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)
                            : "(null)";

        if (strcmp(got, want) != 0) {
                printf("# got  %s\n# want %s\n", got, want);
                return false;
        }
        return true;
}

static bool array_has(json_object *a, const char *s)
{
        for (size_t i = 0; a && i < json_object_array_length(a); i++)
                if (strcmp(json_object_get_string(json_object_array_get_idx(a, i)), s) == 0)
                        return true;
        return false;
}

/* Does berth-runtime take SPEC: its parser, the capability names and the
 * seccomp filter (compiled, not loaded)? */
static bool runtime_accepts(json_object *spec)
{
        const char *s = json_object_to_json_string_ext(spec, JSON_C_TO_STRING_PLAIN);
        struct error err = ERROR_INIT;
        struct spec *sp = NULL;
        scmp_filter_ctx ctx = NULL;
        bool notify = false;
        int r;

        r = spec_parse(s, strlen(s), &sp, &err);
        if (r >= 0)
                r = caps_validate(sp->process->caps, &err);
        if (r >= 0)
                r = seccomp_validate(sp->linux_.seccomp, &err);
        if (r >= 0 && sp->linux_.seccomp) {
                r = seccomp_build(sp->linux_.seccomp, &ctx, &notify, &err);
                if (ctx)
                        seccomp_release(ctx);
        }
        if (r < 0)
                printf("# berth-runtime refuses the config: %s\n", err.msg ? err.msg : "?");
        error_clear(&err);
        if (sp)
                spec_free(sp);
        return r >= 0;
}

/* Build from JSON texts; NULL on error, with the message in *ERR. */
static json_object *build(const char *create, const char *image, struct error *err)
{
        json_object *c = parse(create), *i = parse(image), *spec = NULL;
        int r;

        r = ocispec_build(c, i, &env, &spec, err);
        json_object_put(c);
        json_object_put(i);
        if (r < 0)
                return NULL;
        if (!runtime_accepts(spec))
                ok(false, "berth-runtime accepts the config of %s", create);
        return spec;
}

static bool build_fails(const char *create, const char *image, const char *want)
{
        struct error err = ERROR_INIT;
        json_object *spec = build(create, image, &err);
        bool r = !spec && err.msg && strstr(err.msg, want);

        if (!r)
                printf("# error \"%s\", want \"%s\"\n", err.msg ? err.msg : "(none)", want);
        json_object_put(spec);
        error_clear(&err);
        return r;
}

static bool args_are(const char *create, const char *image, const char *want)
{
        struct error err = ERROR_INIT;
        json_object *spec = build(create, image, &err);
        bool r = spec && plain_is(at(spec, "/process/args"), want);

        if (!spec)
                printf("# error: %s\n", err.msg);
        json_object_put(spec);
        error_clear(&err);
        return r;
}

static void test_args(void)
{
        const char *img = "{\"Entrypoint\":[\"/ep\"],\"Cmd\":[\"c1\",\"c2\"]}";

        ok(args_are("{}", img, "[\"/ep\",\"c1\",\"c2\"]"), "args: the image's entrypoint and cmd");
        ok(args_are("{\"Config\":{\"Cmd\":[\"x\"]}}", img, "[\"/ep\",\"x\"]"), "args: Cmd replaces the image's");
        ok(args_are("{\"Config\":{\"Entrypoint\":[\"e\"]}}", img, "[\"e\"]"),
           "args: an entrypoint drops the image's cmd");
        ok(args_are("{\"Config\":{\"Entrypoint\":[\"e\"],\"Cmd\":[\"x\"]}}", img, "[\"e\",\"x\"]"),
           "args: entrypoint and cmd");
        ok(args_are("{\"Config\":{\"Entrypoint\":[]}}", img, "[\"c1\",\"c2\"]"),
           "args: an empty entrypoint clears the image's, keeps its cmd");
        ok(args_are("{\"Config\":{\"Entrypoint\":[\"\"],\"Cmd\":[\"x\"]}}", img, "[\"x\"]"),
           "args: [\"\"] is an empty entrypoint");
        ok(args_are("{\"Config\":{\"Cmd\":[\"sh\"],\"Entrypoint\":null}}", NULL, "[\"sh\"]"), "args: no image config");
        ok(args_are("{\"Config\":{\"Cmd\":[\"sh\"]},\"HostConfig\":{\"Init\":true}}", NULL,
                    "[\"/sbin/berth-init\",\"--\",\"sh\"]"),
           "args: --init");
        ok(build_fails("{}", "{\"Cmd\":null}", "no command specified"), "args: no command");
        ok(build_fails("{\"Config\":{\"Entrypoint\":[]}}", "{\"Entrypoint\":[\"e\"]}", "no command specified"),
           "args: cleared entrypoint, no cmd");
        ok(build_fails("{\"Config\":{\"Cmd\":\"sh\"}}", NULL, "Config.Cmd: expected an array of strings"),
           "args: Cmd of the wrong type");
        ok(build_fails("{\"Config\":{\"Cmd\":[1]}}", NULL, "Config.Cmd[0]: expected a string"), "args: a number in Cmd");
}

static void test_env(void)
{
        struct error err = ERROR_INIT;
        json_object *spec;

        spec = build("{\"Config\":{\"Cmd\":[\"sh\"],\"Tty\":true,\"Env\":[\"B=3\",\"C=4\",\"A\"]}}",
                     "{\"Env\":[\"PATH=/img\",\"A=1\",\"B=2\"]}", &err);
        ok(spec && plain_is(at(spec, "/process/env"),
                            "[\"PATH=/img\",\"HOSTNAME=0123456789ab\",\"TERM=xterm\",\"B=3\",\"C=4\",\"HOME=/root\"]"),
           "env: image, then flags, later wins in place; bare K removes; TERM with a tty; HOME");
        ok(spec && json_object_get_boolean(at(spec, "/process/terminal")), "terminal with Tty");
        json_object_put(spec);
        spec = build("{\"Config\":{\"Cmd\":[\"sh\"],\"Env\":[\"HOSTNAME=mine\",\"HOME=/h\"],\"User\":\"app\"}}", NULL, &err);
        ok(spec && plain_is(at(spec, "/process/env"),
                            "[\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\",\"HOSTNAME=mine\","
                            "\"HOME=/h\"]"),
           "env: default PATH, HOSTNAME and HOME overridable, no TERM without a tty");
        json_object_put(spec);
        spec = build("{\"Config\":{\"Cmd\":[\"sh\"],\"User\":\"app\",\"Hostname\":\"boat\"}}", NULL, &err);
        ok(spec && array_has(at(spec, "/process/env"), "HOME=/home/app") &&
                   array_has(at(spec, "/process/env"), "HOSTNAME=boat") && plain_is(at(spec, "/hostname"), "\"boat\""),
           "env: HOME from passwd, HOSTNAME from Config.Hostname");
        json_object_put(spec);
        spec = build("{\"Config\":{\"Cmd\":[\"sh\"],\"User\":\"4242\"}}", NULL, &err);
        ok(spec && array_has(at(spec, "/process/env"), "HOME=/"), "env: HOME=/ for an unknown uid");
        json_object_put(spec);
        ok(build_fails("{\"Config\":{\"Cmd\":[\"sh\"],\"Env\":[\"=x\"]}}", NULL, "invalid environment variable: =x"),
           "env: empty name");
        spec = build("{\"Config\":{\"Cmd\":[\"sh\"],\"WorkingDir\":\"/srv/./app/\"}}", "{\"WorkingDir\":\"/img\"}", &err);
        ok(spec && plain_is(at(spec, "/process/cwd"), "\"/srv/app\""), "cwd: Config.WorkingDir, cleaned");
        json_object_put(spec);
        spec = build("{\"Config\":{\"Cmd\":[\"sh\"]}}", "{\"WorkingDir\":\"/img\"}", &err);
        ok(spec && plain_is(at(spec, "/process/cwd"), "\"/img\""), "cwd: the image's");
        json_object_put(spec);
        spec = build("{\"Config\":{\"Cmd\":[\"sh\"]}}", NULL, &err);
        ok(spec && plain_is(at(spec, "/process/cwd"), "\"/\""), "cwd: default /");
        json_object_put(spec);
        ok(build_fails("{\"Config\":{\"Cmd\":[\"sh\"],\"WorkingDir\":\"rel\"}}", NULL, "needs to be an absolute path"),
           "cwd: relative");
        error_clear(&err);
}

static bool user_is(int rootfd, const char *user, const char *want)
{
        _cleanup_free_ char *c = xasprintf("{\"Config\":{\"Cmd\":[\"sh\"],\"User\":\"%s\"}}", user);
        struct error err = ERROR_INIT;
        int saved = env.rootfs_fd;
        json_object *spec;
        bool r;

        env.rootfs_fd = rootfd;
        spec = build(c, NULL, &err);
        env.rootfs_fd = saved;
        r = spec && plain_is(at(spec, "/process/user"), want);
        if (!spec)
                printf("# error: %s\n", err.msg);
        json_object_put(spec);
        error_clear(&err);
        return r;
}

static bool user_fails(int rootfd, const char *user, const char *want)
{
        _cleanup_free_ char *c = xasprintf("{\"Config\":{\"Cmd\":[\"sh\"],\"User\":\"%s\"}}", user);
        int saved = env.rootfs_fd;
        bool r;

        env.rootfs_fd = rootfd;
        r = build_fails(c, NULL, want);
        env.rootfs_fd = saved;
        return r;
}

static void test_user_in(int rootfd, const char *mode)
{
        ok(user_is(rootfd, "", "{\"uid\":0,\"gid\":0,\"additionalGids\":[10]}"), "user: default root (%s)", mode);
        ok(user_is(rootfd, "app", "{\"uid\":1000,\"gid\":1000,\"additionalGids\":[29,50]}"), "user: name (%s)", mode);
        ok(user_is(rootfd, "1000", "{\"uid\":1000,\"gid\":1000,\"additionalGids\":[29,50]}"), "user: uid (%s)", mode);
        ok(user_is(rootfd, "app:staff", "{\"uid\":1000,\"gid\":50}"), "user: name:group (%s)", mode);
        ok(user_is(rootfd, "1000:7", "{\"uid\":1000,\"gid\":7}"), "user: uid:gid (%s)", mode);
        ok(user_is(rootfd, "4242", "{\"uid\":4242,\"gid\":0}"), "user: uid without entry (%s)", mode);
        ok(user_is(rootfd, "daemon", "{\"uid\":1,\"gid\":1,\"additionalGids\":[50]}"), "user: daemon (%s)", mode);
        ok(user_fails(rootfd, "nobody2", "Config.User: unable to find user nobody2: no matching entries in passwd file"),
           "user: unknown name (%s)", mode);
        ok(user_fails(rootfd, "app:nogroup2", "unable to find group nogroup2: no matching entries in group file"),
           "user: unknown group (%s)", mode);
        ok(user_fails(rootfd, "3000000000", "must be in range"), "user: uid out of range (%s)", mode);
}

static void test_user(void)
{
        _cleanup_free_ char *evil = make_rootfs("evil", false), *bare = make_rootfs("bare", false);
        _cleanup_free_ char *fifo = make_rootfs("fifo", false);
        _cleanup_free_ char *outside = xasprintf("%s/outside-passwd", tmpdir), *link = NULL, *p = NULL;
        _cleanup_close_ int evilfd = -EBADF, barefd = -EBADF, fifofd = -EBADF;
        struct error err = ERROR_INIT;
        uint32_t uid = 1, gid = 1;

        test_user_in(env.rootfs_fd, "openat2");
        chase_no_openat2 = true;
        test_user_in(env.rootfs_fd, "component walk");
        chase_no_openat2 = false;

        /* /etc/passwd a symlink to a file outside the root: the host file must not be read */
        write_file(tmpdir, "outside-passwd", "evil:x:666:666::/evil:/bin/sh\n");
        link = xasprintf("%s/etc/passwd", evil);
        (void) !symlink(outside, link);
        p = (free(p), xasprintf("%s/etc/group", evil));
        (void) !symlink("../../../../../../../../../../../../../../../..", p);
        evilfd = open(evil, O_PATH | O_DIRECTORY | O_CLOEXEC);
        ok(user_fails(evilfd, "evil", "unable to find user evil"), "user: absolute symlink out of the root not followed");
        chase_no_openat2 = true;
        ok(user_fails(evilfd, "evil", "unable to find user evil"), "user: ... nor by the component walk");
        chase_no_openat2 = false;
        ok(user_is(evilfd, "77", "{\"uid\":77,\"gid\":0}"), "user: numeric user with a dangling /etc/passwd");

        barefd = open(bare, O_PATH | O_DIRECTORY | O_CLOEXEC);
        ok(user_is(barefd, "", "{\"uid\":0,\"gid\":0}"), "user: root without /etc/passwd");
        ok(user_is(barefd, "12:34", "{\"uid\":12,\"gid\":34}"), "user: uid:gid without /etc/passwd");
        ok(user_fails(barefd, "app", "unable to find user app: no matching entries in passwd file"),
           "user: a name without /etc/passwd");

        p = (free(p), xasprintf("%s/etc/passwd", fifo));
        (void) mkfifo(p, 0644);
        fifofd = open(fifo, O_PATH | O_DIRECTORY | O_CLOEXEC);
        ok(user_fails(fifofd, "app", "not a regular file"), "user: a FIFO as /etc/passwd does not hang");

        ok(ocispec_resolve_user(env.rootfs_fd, "app", &uid, &gid, &err) == 0 && uid == 1000 && gid == 1000,
           "ocispec_resolve_user app");
        ok(ocispec_resolve_user(env.rootfs_fd, "app:audio", &uid, &gid, &err) == 0 && uid == 1000 && gid == 29,
           "ocispec_resolve_user app:audio");
        uid = gid = 7;
        ok(ocispec_resolve_user(env.rootfs_fd, "ghost", &uid, &gid, &err) < 0 && uid == 7 && gid == 7 && err.msg,
           "ocispec_resolve_user: unknown user, outputs untouched");
        error_clear(&err);
}

static json_object *caps_of(const char *host)
{
        _cleanup_free_ char *c = xasprintf("{\"Config\":{\"Cmd\":[\"sh\"]},\"HostConfig\":%s}", host);
        struct error err = ERROR_INIT;
        json_object *spec = build(c, NULL, &err), *caps;

        if (!spec) {
                printf("# error: %s\n", err.msg);
                error_clear(&err);
                return NULL;
        }
        caps = json_object_get(at(spec, "/process/capabilities/bounding"));
        json_object_put(spec);
        return caps;
}

/* "All" capabilities: those the kernel knows (up to CAP_CHECKPOINT_RESTORE)
 * and we hold in our bounding set. */
static size_t kernel_caps(void)
{
        FILE *f = fopen("/proc/sys/kernel/cap_last_cap", "r");
        unsigned long long bnd = ~0ULL;
        char line[256];
        int last = 40;
        size_t n = 0;

        if (f) {
                if (fscanf(f, "%d", &last) != 1)
                        last = 40;
                fclose(f);
        }
        f = fopen("/proc/self/status", "r");
        while (f && fgets(line, sizeof(line), f))
                if (strncmp(line, "CapBnd:", 7) == 0)
                        bnd = strtoull(line + 7, NULL, 16);
        if (f)
                fclose(f);
        for (int i = 0; i <= (last > 40 ? 40 : last); i++)
                n += bnd >> i & 1;
        return n;
}

static void test_caps(void)
{
        struct error err = ERROR_INIT;
        json_object *c, *spec;

        c = caps_of("{}");
        ok(c && json_object_array_length(c) == 14 && array_has(c, "CAP_CHOWN") && array_has(c, "CAP_AUDIT_WRITE") &&
                   !array_has(c, "CAP_SYS_ADMIN") && !array_has(c, "CAP_NET_ADMIN"),
           "caps: Docker's 14");
        json_object_put(c);
        c = caps_of("{\"CapAdd\":[\"sys_admin\",\"CAP_NET_ADMIN\"],\"CapDrop\":[\"chown\",\"CAP_KILL\"]}");
        ok(c && json_object_array_length(c) == 14 && array_has(c, "CAP_SYS_ADMIN") && array_has(c, "CAP_NET_ADMIN") &&
                   !array_has(c, "CAP_CHOWN") && !array_has(c, "CAP_KILL"),
           "caps: add and drop, any spelling");
        json_object_put(c);
        c = caps_of("{\"CapDrop\":[\"ALL\"],\"CapAdd\":[\"NET_RAW\"]}");
        ok(plain_is(c, "[\"CAP_NET_RAW\"]"), "caps: drop ALL, add one");
        json_object_put(c);
        c = caps_of("{\"CapAdd\":[\"all\"],\"CapDrop\":[\"MKNOD\"]}");
        ok(c && json_object_array_length(c) == kernel_caps() - 1 && !array_has(c, "CAP_MKNOD"),
           "caps: add ALL (those we hold), drop one");
        json_object_put(c);
        c = caps_of("{\"Privileged\":true,\"CapDrop\":[\"MKNOD\"]}");
        ok(c && json_object_array_length(c) == kernel_caps() && array_has(c, "CAP_MKNOD"), "caps: privileged gets all we hold");
        json_object_put(c);
        ok(build_fails("{\"Config\":{\"Cmd\":[\"sh\"]},\"HostConfig\":{\"CapAdd\":[\"FOO\"]}}", NULL,
                       "HostConfig.CapAdd: unknown capability: \"CAP_FOO\""),
           "caps: unknown name");
        ok(build_fails("{\"Config\":{\"Cmd\":[\"sh\"]},\"HostConfig\":{\"CapDrop\":[\"CAP_CHOWN1\"]}}", NULL,
                       "HostConfig.CapDrop: unknown capability"),
           "caps: unknown name in CapDrop");
        spec = build("{\"Config\":{\"Cmd\":[\"sh\"]}}", NULL, &err);
        ok(spec && plain_is(at(spec, "/process/capabilities/inheritable"), "[]") &&
                   plain_is(at(spec, "/process/capabilities/ambient"), "[]") &&
                   json_object_array_length(at(spec, "/process/capabilities/effective")) == 14 &&
                   json_object_array_length(at(spec, "/process/capabilities/permitted")) == 14,
           "caps: effective = permitted = bounding, none inheritable or ambient");
        ok(spec && !json_object_get_boolean(at(spec, "/process/noNewPrivileges")), "noNewPrivileges off by default");
        json_object_put(spec);
        spec = build("{\"Config\":{\"Cmd\":[\"sh\"]},\"HostConfig\":{\"SecurityOpt\":[\"no-new-privileges\"]}}", NULL,
                     &err);
        ok(spec && json_object_get_boolean(at(spec, "/process/noNewPrivileges")), "noNewPrivileges on request");
        json_object_put(spec);
        error_clear(&err);
}

/* The entry of SYSCALL in profile P with ACTION (NULL: any). */
static json_object *seccomp_entry(json_object *p, const char *syscall, const char *action)
{
        json_object *list = at(p, "/syscalls");

        for (size_t i = 0; list && i < json_object_array_length(list); i++) {
                json_object *e = json_object_array_get_idx(list, i);

                if (array_has(at(e, "/names"), syscall) && (!action || strcmp(str_at(e, "/action"), action) == 0))
                        return e;
        }
        return NULL;
}

/* Names the libseccomp we build with may not know yet (newer kernels):
 * any other unknown name in the profile is a typo. */
static bool newer_than_libseccomp(const char *name)
{
        static const char *const newer[] = { "cachestat", "fchmodat2", "futex_requeue", "futex_wait", "futex_wake",
                                             "map_shadow_stack", "set_mempolicy_home_node", "epoll_ctl_old",
                                             "epoll_wait_old", "memfd_secret", "process_mrelease", "futex_waitv",
                                             "quotactl_fd", "landlock_add_rule", "landlock_create_ruleset",
                                             "landlock_restrict_self", "uretprobe" };

        for (size_t i = 0; i < ELEMENTSOF(newer); i++)
                if (strcmp(name, newer[i]) == 0)
                        return true;
        return false;
}

static void test_seccomp_shape(void)
{
        static const char *const admin[] = { "CAP_CHOWN", "CAP_SYS_ADMIN", "CAP_SYS_PTRACE" };
        static const char *const plain[] = { "CAP_CHOWN" };
        json_object *p = ocispec_default_seccomp(plain, ELEMENTSOF(plain)), *e, *list;
        size_t unknown = 0;

        ok(plain_is(at(p, "/defaultAction"), "\"SCMP_ACT_ERRNO\"") && plain_is(at(p, "/defaultErrnoRet"), "1"),
           "seccomp: default EPERM");
#ifdef __x86_64__
        ok(plain_is(at(p, "/architectures"), "[\"SCMP_ARCH_X86_64\",\"SCMP_ARCH_X86\",\"SCMP_ARCH_X32\"]"),
           "seccomp: native and compat architectures");
        ok(seccomp_entry(p, "arch_prctl", "SCMP_ACT_ALLOW") != NULL, "seccomp: arch_prctl on amd64");
#endif
        e = seccomp_entry(p, "clone3", NULL);
        ok(e && plain_is(at(e, "/action"), "\"SCMP_ACT_ERRNO\"") && plain_is(at(e, "/errnoRet"), "38"),
           "seccomp: clone3 answered with ENOSYS");
        e = seccomp_entry(p, "clone", NULL);
        ok(e && json_object_array_length(at(e, "/names")) == 1 &&
                   plain_is(at(e, "/args"), "[{\"index\":0,\"value\":2114060288,\"valueTwo\":0,\"op\":\"SCMP_CMP_MASKED_EQ\"}]"),
           "seccomp: clone without namespace flags");
        ok(seccomp_entry(p, "read", "SCMP_ACT_ALLOW") && seccomp_entry(p, "execve", "SCMP_ACT_ALLOW") &&
                   seccomp_entry(p, "chroot", NULL) == NULL && seccomp_entry(p, "mount", NULL) == NULL &&
                   seccomp_entry(p, "keyctl", NULL) == NULL && seccomp_entry(p, "kexec_load", NULL) == NULL &&
                   seccomp_entry(p, "open_by_handle_at", NULL) == NULL && seccomp_entry(p, "io_uring_setup", NULL) == NULL,
           "seccomp: the allow list and what it leaves out");
        list = at(p, "/syscalls");
        for (size_t i = 0; i < json_object_array_length(list); i++) {
                json_object *names = at(json_object_array_get_idx(list, i), "/names");

                for (size_t k = 0; k < json_object_array_length(names); k++) {
                        const char *n = json_object_get_string(json_object_array_get_idx(names, k));

                        if (seccomp_syscall_resolve_name(n) == __NR_SCMP_ERROR && !newer_than_libseccomp(n)) {
                                printf("# unknown syscall name \"%s\"\n", n);
                                unknown++;
                        }
                }
        }
        ok(unknown == 0, "seccomp: every name is a syscall libseccomp knows, or a newer one");
        e = seccomp_entry(p, "personality", NULL);
        ok(e && plain_is(at(e, "/args/0/op"), "\"SCMP_CMP_EQ\""), "seccomp: personality restricted");
        json_object_put(p);

        p = ocispec_default_seccomp(admin, ELEMENTSOF(admin));
        ok(seccomp_entry(p, "clone", "SCMP_ACT_ALLOW") && !at(seccomp_entry(p, "clone", NULL), "/args") &&
                   seccomp_entry(p, "clone3", "SCMP_ACT_ALLOW") && !seccomp_entry(p, "clone3", "SCMP_ACT_ERRNO") &&
                   seccomp_entry(p, "mount", "SCMP_ACT_ALLOW") && seccomp_entry(p, "ptrace", "SCMP_ACT_ALLOW") &&
                   seccomp_entry(p, "kcmp", "SCMP_ACT_ALLOW"),
           "seccomp: CAP_SYS_ADMIN and CAP_SYS_PTRACE allow more");
        json_object_put(p);
}

static void test_seccomp_options(void)
{
        struct error err = ERROR_INIT;
        json_object *spec;
        _cleanup_free_ char *c = NULL;
        const char *docker = "{\\\"defaultAction\\\":\\\"SCMP_ACT_ERRNO\\\",\\\"archMap\\\":[{\\\"architecture\\\":"
                             "\\\"SCMP_ARCH_X86_64\\\",\\\"subArchitectures\\\":[\\\"SCMP_ARCH_X86\\\"]}],"
                             "\\\"syscalls\\\":[{\\\"names\\\":[\\\"read\\\",\\\"write\\\"],\\\"action\\\":"
                             "\\\"SCMP_ACT_ALLOW\\\"},{\\\"name\\\":\\\"mount\\\",\\\"action\\\":\\\"SCMP_ACT_ALLOW\\\","
                             "\\\"includes\\\":{\\\"caps\\\":[\\\"CAP_SYS_ADMIN\\\"]}},{\\\"names\\\":[\\\"chroot\\\"],"
                             "\\\"action\\\":\\\"SCMP_ACT_ALLOW\\\",\\\"excludes\\\":{\\\"caps\\\":[\\\"CAP_SYS_ADMIN\\\"]}},"
                             "{\\\"names\\\":[\\\"kill\\\"],\\\"action\\\":\\\"SCMP_ACT_ERRNO\\\",\\\"errnoRet\\\":1,"
                             "\\\"args\\\":[{\\\"index\\\":1,\\\"value\\\":9,\\\"op\\\":\\\"SCMP_CMP_EQ\\\"}]}]}";

        spec = build("{\"Config\":{\"Cmd\":[\"sh\"]},\"HostConfig\":{\"SecurityOpt\":[\"seccomp=unconfined\"]}}", NULL,
                     &err);
        ok(spec && !at(spec, "/linux/seccomp"), "seccomp=unconfined: no filter");
        json_object_put(spec);
        spec = build("{\"Config\":{\"Cmd\":[\"sh\"]},\"HostConfig\":{\"Privileged\":true}}", NULL, &err);
        ok(spec && !at(spec, "/linux/seccomp") && !at(spec, "/linux/maskedPaths") && !at(spec, "/linux/readonlyPaths"),
           "privileged: no filter, no masked or read-only paths");
        json_object_put(spec);
        spec = build("{\"Config\":{\"Cmd\":[\"sh\"]}}", NULL, &err);
        ok(spec && at(spec, "/linux/seccomp/syscalls") && array_has(at(spec, "/linux/maskedPaths"), "/proc/kcore") &&
                   array_has(at(spec, "/linux/readonlyPaths"), "/proc/sys"),
           "default: filter, masked and read-only paths");
        json_object_put(spec);
        c = xasprintf("{\"Config\":{\"Cmd\":[\"sh\"]},\"HostConfig\":{\"SecurityOpt\":[\"seccomp=%s\"]}}", docker);
        spec = build(c, NULL, &err);
        if (!spec)
                printf("# error: %s\n", err.msg);
        error_clear(&err);
#ifdef __x86_64__
        ok(spec && plain_is(at(spec, "/linux/seccomp/architectures"), "[\"SCMP_ARCH_X86_64\",\"SCMP_ARCH_X86\"]"),
           "seccomp profile: archMap");
#endif
        ok(spec && plain_is(at(spec, "/linux/seccomp/syscalls"),
                            "[{\"names\":[\"read\",\"write\"],\"action\":\"SCMP_ACT_ALLOW\"},"
                            "{\"names\":[\"chroot\"],\"action\":\"SCMP_ACT_ALLOW\"},"
                            "{\"names\":[\"kill\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":1,"
                            "\"args\":[{\"index\":1,\"value\":9,\"op\":\"SCMP_CMP_EQ\"}]}]"),
           "seccomp profile: Docker's format, includes and excludes by capability");
        json_object_put(spec);
        ok(build_fails("{\"Config\":{\"Cmd\":[\"sh\"]},\"HostConfig\":{\"SecurityOpt\":[\"seccomp={\\\"defaultAction\\\":"
                       "\\\"SCMP_ACT_NOPE\\\"}\"]}}",
                       NULL, "HostConfig.SecurityOpt: decoding seccomp profile failed: defaultAction: unknown action"),
           "seccomp profile: unknown action");
        ok(build_fails("{\"Config\":{\"Cmd\":[\"sh\"]},\"HostConfig\":{\"SecurityOpt\":[\"seccomp={nope\"]}}", NULL,
                       "decoding seccomp profile failed"),
           "seccomp profile: not JSON");
        ok(build_fails("{\"Config\":{\"Cmd\":[\"sh\"]},\"HostConfig\":{\"SecurityOpt\":[\"seccomp={\\\"defaultAction\\\":"
                       "\\\"SCMP_ACT_ALLOW\\\",\\\"syscalls\\\":[{\\\"names\\\":[\\\"x\\\"],\\\"action\\\":"
                       "\\\"SCMP_ACT_ERRNO\\\",\\\"args\\\":[{\\\"index\\\":9,\\\"value\\\":1,\\\"op\\\":\\\"SCMP_CMP_EQ\\\"}]}]}\"]}}",
                       NULL, "syscalls[0].args[0].index"),
           "seccomp profile: bad argument index");
        ok(build_fails("{\"Config\":{\"Cmd\":[\"sh\"]},\"HostConfig\":{\"SecurityOpt\":[\"bogus\"]}}", NULL,
                       "invalid --security-opt"),
           "security-opt: unknown");
}

static void test_resources(void)
{
        struct error err = ERROR_INIT;
        json_object *spec;
        bool swap = access("/sys/fs/cgroup/cgroup.controllers", F_OK) == 0 ||
                    access("/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes", F_OK) == 0;
        bool loop0 = access("/dev/loop0", F_OK) == 0;
        _cleanup_free_ char *c = NULL, *want = NULL;
        struct stat st;

        spec = build("{\"Config\":{\"Cmd\":[\"sh\"]},\"HostConfig\":{\"Memory\":67108864,\"NanoCpus\":500000000,"
                     "\"CpuShares\":512,\"PidsLimit\":50,\"CpusetCpus\":\"0\"}}",
                     NULL, &err);
        ok(spec && plain_is(at(spec, "/linux/resources/memory/limit"), "67108864") &&
                   (swap ? plain_is(at(spec, "/linux/resources/memory/swap"), "134217728")
                         : !at(spec, "/linux/resources/memory/swap")),
           "resources: memory, swap as much again by default");
        ok(spec && plain_is(at(spec, "/linux/resources/cpu"),
                            "{\"shares\":512,\"quota\":50000,\"period\":100000,\"cpus\":\"0\"}"),
           "resources: cpu");
        ok(spec && plain_is(at(spec, "/linux/resources/pids"), "{\"limit\":50}"), "resources: pids");
        ok(spec && plain_is(at(spec, "/linux/cgroupsPath"), "\"/berth/test\""), "cgroupsPath");
        json_object_put(spec);
        spec = build("{\"Config\":{\"Cmd\":[\"sh\"]},\"HostConfig\":{\"Memory\":8388608,\"MemorySwap\":-1,"
                     "\"PidsLimit\":-1}}",
                     NULL, &err);
        ok(spec && (!swap || plain_is(at(spec, "/linux/resources/memory/swap"), "-1")) &&
                   plain_is(at(spec, "/linux/resources/pids/limit"), "-1"),
           "resources: unlimited swap and pids");
        json_object_put(spec);
        spec = build("{\"Config\":{\"Cmd\":[\"sh\"]}}", NULL, &err);
        ok(spec && !at(spec, "/linux/resources/memory") && !at(spec, "/linux/resources/cpu") &&
                   !at(spec, "/linux/resources/pids"),
           "resources: none by default");
        ok(spec && plain_is(at(spec, "/linux/resources/devices/0"), "{\"allow\":false,\"access\":\"rwm\"}") &&
                   plain_is(at(spec, "/linux/resources/devices/3"),
                            "{\"allow\":true,\"type\":\"c\",\"major\":1,\"minor\":3,\"access\":\"rwm\"}") &&
                   plain_is(at(spec, "/linux/resources/devices/11"),
                            "{\"allow\":true,\"type\":\"c\",\"major\":136,\"access\":\"rwm\"}"),
           "devices: deny all, then Docker's list");
        json_object_put(spec);
        spec = build("{\"Config\":{\"Cmd\":[\"sh\"]},\"HostConfig\":{\"Devices\":[{\"PathOnHost\":\"/dev/null\","
                     "\"PathInContainer\":\"/dev/mynull\",\"CgroupPermissions\":\"rw\"}]}}",
                     NULL, &err);
        if (stat("/dev/null", &st) == 0)
                want = xasprintf("[{\"path\":\"/dev/mynull\",\"type\":\"c\",\"major\":1,\"minor\":3,\"fileMode\":%u,"
                                 "\"uid\":%u,\"gid\":%u}]", (unsigned) (st.st_mode & 0777), (unsigned) st.st_uid,
                                 (unsigned) st.st_gid);
        ok(spec && want && plain_is(at(spec, "/linux/devices"), want) &&
                   plain_is(at(spec, "/linux/resources/devices/13"),
                            "{\"allow\":true,\"type\":\"c\",\"major\":1,\"minor\":3,\"access\":\"rw\"}"),
           "devices: --device adds the node and its rule");
        json_object_put(spec);
        spec = build("{\"Config\":{\"Cmd\":[\"sh\"]},\"HostConfig\":{\"Privileged\":true}}", NULL, &err);
        ok(spec && plain_is(at(spec, "/linux/resources/devices"), "[{\"allow\":true,\"type\":\"a\",\"access\":\"rwm\"}]"),
           "devices: privileged allows all");
        json_object_put(spec);
        if (loop0) {
                spec = build("{\"Config\":{\"Cmd\":[\"sh\"]},\"HostConfig\":{\"BlkioDeviceReadBps\":[{\"Path\":"
                             "\"/dev/loop0\",\"Rate\":1048576}]}}",
                             NULL, &err);
                ok(spec && plain_is(at(spec, "/linux/resources/blockIO/throttleReadBpsDevice"),
                                    "[{\"major\":7,\"minor\":0,\"rate\":1048576}]"),
                   "blkio: read bps by major:minor");
                json_object_put(spec);
        } else
                skip("no /dev/loop0 for the blkio test");
        spec = build("{\"Config\":{\"Cmd\":[\"sh\"]},\"HostConfig\":{\"BlkioWeight\":500}}", NULL, &err);
        ok(spec != NULL, "blkio weight (kept where the kernel has it)");
        json_object_put(spec);
        error_clear(&err);

        ok(build_fails("{\"Config\":{\"Cmd\":[\"sh\"]},\"HostConfig\":{\"Memory\":4194304}}", NULL,
                       "HostConfig.Memory: Minimum memory limit allowed is 6MB"),
           "memory below 6 MiB");
        ok(build_fails("{\"Config\":{\"Cmd\":[\"sh\"]},\"HostConfig\":{\"Memory\":67108864,\"MemorySwap\":33554432}}",
                       NULL, "HostConfig.MemorySwap: Minimum memoryswap limit should be larger than memory limit"),
           "swap below memory");
        ok(build_fails("{\"Config\":{\"Cmd\":[\"sh\"]},\"HostConfig\":{\"MemorySwap\":33554432}}", NULL,
                       "You should always set the Memory limit"),
           "swap without memory");
        c = xasprintf("{\"Config\":{\"Cmd\":[\"sh\"]},\"HostConfig\":{\"NanoCpus\":%lld}}",
                      (long long) (sysconf(_SC_NPROCESSORS_ONLN) + 1) * 1000000000LL);
        ok(build_fails(c, NULL, "HostConfig.NanoCpus: range of CPUs is from 0.01 to"), "cpus above the host's");
        ok(build_fails("{\"Config\":{\"Cmd\":[\"sh\"]},\"HostConfig\":{\"CpusetCpus\":\"0-9999\"}}", NULL,
                       "HostConfig.CpusetCpus"),
           "cpuset beyond the host's");
        ok(build_fails("{\"Config\":{\"Cmd\":[\"sh\"]},\"HostConfig\":{\"CpusetCpus\":\"a\"}}", NULL,
                       "Invalid value a for cpuset cpus"),
           "cpuset garbage");
        ok(build_fails("{\"Config\":{\"Cmd\":[\"sh\"]},\"HostConfig\":{\"BlkioWeight\":5}}", NULL,
                       "Range of blkio weight is from 10 to 1000"),
           "blkio weight out of range");
        ok(build_fails("{\"Config\":{\"Cmd\":[\"sh\"]},\"HostConfig\":{\"Devices\":[{\"PathOnHost\":\"/dev/nope\"}]}}",
                       NULL, "error gathering device information while adding custom device \"/dev/nope\""),
           "device that does not exist");
        ok(build_fails("{\"Config\":{\"Cmd\":[\"sh\"]},\"HostConfig\":{\"BlkioDeviceReadBps\":[{\"Path\":\"/dev/null\","
                       "\"Rate\":1}]}}",
                       NULL, "not a block device"),
           "read bps on a character device");
        ok(build_fails("{\"Config\":{\"Cmd\":[\"sh\"]},\"HostConfig\":{\"Memory\":\"64m\"}}", NULL,
                       "HostConfig.Memory: expected an integer"),
           "memory of the wrong type");
}

static json_object *mount_at(json_object *spec, const char *dst)
{
        json_object *list = at(spec, "/mounts");

        for (size_t i = 0; list && i < json_object_array_length(list); i++)
                if (strcmp(str_at(json_object_array_get_idx(list, i), "/destination"), dst) == 0)
                        return json_object_array_get_idx(list, i);
        return NULL;
}

static size_t mount_index(json_object *spec, const char *dst)
{
        json_object *list = at(spec, "/mounts");

        for (size_t i = 0; list && i < json_object_array_length(list); i++)
                if (strcmp(str_at(json_object_array_get_idx(list, i), "/destination"), dst) == 0)
                        return i;
        return SIZE_MAX;
}

static size_t mount_count(json_object *spec, const char *dst)
{
        json_object *list = at(spec, "/mounts");
        size_t n = 0;

        for (size_t i = 0; list && i < json_object_array_length(list); i++)
                n += strcmp(str_at(json_object_array_get_idx(list, i), "/destination"), dst) == 0;
        return n;
}

static void test_mounts(void)
{
        struct error err = ERROR_INIT;
        json_object *spec, *m;
        _cleanup_free_ char *c = NULL, *want = NULL;

        spec = build("{\"Config\":{\"Cmd\":[\"sh\"]},\"HostConfig\":{\"ReadonlyRootfs\":true}}", NULL, &err);
        ok(spec && mount_at(spec, "/proc") && mount_at(spec, "/dev") && mount_at(spec, "/dev/pts") &&
                   mount_at(spec, "/dev/mqueue") && plain_is(at(mount_at(spec, "/sys/fs/cgroup"), "/type"), "\"cgroup\""),
           "mounts: the defaults");
        ok(spec && array_has(at(mount_at(spec, "/sys"), "/options"), "ro") &&
                   array_has(at(mount_at(spec, "/sys/fs/cgroup"), "/options"), "ro"),
           "mounts: /sys and its cgroups read-only");
        ok(spec && plain_is(mount_at(spec, "/dev/shm"),
                            "{\"destination\":\"/dev/shm\",\"type\":\"tmpfs\",\"source\":\"shm\",\"options\":[\"nosuid\","
                            "\"noexec\",\"nodev\",\"mode=1777\",\"size=67108864\"]}"),
           "mounts: /dev/shm of 64 MiB");
        ok(spec && plain_is(mount_at(spec, "/etc/hosts"),
                            "{\"destination\":\"/etc/hosts\",\"type\":\"bind\",\"source\":\"/h/hosts\",\"options\":"
                            "[\"rbind\",\"rprivate\"]}") &&
                   mount_at(spec, "/etc/hostname") && mount_at(spec, "/etc/resolv.conf"),
           "mounts: /etc/hosts, hostname and resolv.conf");
        ok(spec && plain_is(at(spec, "/root"), "{\"path\":\"/fake/rootfs\",\"readonly\":true}"), "root: read-only");
        ok(spec && plain_is(at(spec, "/ociVersion"), "\"1.0.2-dev\""), "ociVersion");
        json_object_put(spec);
        spec = build("{\"Config\":{\"Cmd\":[\"sh\"]},\"HostConfig\":{\"Privileged\":true}}", NULL, &err);
        ok(spec && !array_has(at(mount_at(spec, "/sys"), "/options"), "ro") &&
                   array_has(at(mount_at(spec, "/sys"), "/options"), "rw"),
           "mounts: /sys writable when privileged");
        json_object_put(spec);

        c = xasprintf("{\"Config\":{\"Cmd\":[\"sh\"]},\"HostConfig\":{\"Mounts\":["
                      "{\"Type\":\"bind\",\"Source\":\"%s\",\"Target\":\"/data/sub\",\"ReadOnly\":true},"
                      "{\"Type\":\"volume\",\"Source\":\"vol1\",\"Target\":\"/data\"},"
                      "{\"Type\":\"tmpfs\",\"Target\":\"/dev/shm\",\"TmpfsOptions\":{\"SizeBytes\":1048576,\"Mode\":1023,"
                      "\"Options\":[[\"exec\"],[\"uid\",\"1000\"]]}},"
                      "{\"Type\":\"bind\",\"Source\":\"%s\",\"Target\":\"/sh\",\"BindOptions\":{\"Propagation\":\"rslave\"}}"
                      "],\"Init\":true}}",
                      tmpdir, tmpdir);
        spec = build(c, NULL, &err);
        if (!spec)
                printf("# error: %s\n", err.msg);
        error_clear(&err);
        want = xasprintf("{\"destination\":\"/data/sub\",\"type\":\"bind\",\"source\":\"%s\",\"options\":[\"rbind\","
                         "\"rprivate\",\"ro\"]}",
                         tmpdir);
        ok(spec && plain_is(mount_at(spec, "/data/sub"), want), "mounts: read-only bind");
        ok(spec && plain_is(mount_at(spec, "/data"),
                            "{\"destination\":\"/data\",\"type\":\"bind\",\"source\":\"/v/vol1/_data\",\"options\":"
                            "[\"rbind\",\"rprivate\"]}"),
           "mounts: volume");
        ok(spec && mount_index(spec, "/data") < mount_index(spec, "/data/sub"), "mounts: parents first");
        m = spec ? mount_at(spec, "/dev/shm") : NULL;
        ok(m && plain_is(m, "{\"destination\":\"/dev/shm\",\"type\":\"tmpfs\",\"source\":\"tmpfs\",\"options\":["
                            "\"nosuid\",\"nodev\",\"exec\",\"uid=1000\",\"size=1048576\",\"mode=1777\"]}") &&
                   mount_count(spec, "/dev/shm") == 1,
           "mounts: a tmpfs replaces the default /dev/shm");
        ok(spec && array_has(at(mount_at(spec, "/sh"), "/options"), "rslave") &&
                   plain_is(at(spec, "/linux/rootfsPropagation"), "\"rslave\""),
           "mounts: slave propagation makes the root rslave");
        ok(spec && plain_is(mount_at(spec, "/sbin/berth-init"),
                            "{\"destination\":\"/sbin/berth-init\",\"type\":\"bind\",\"source\":\"/i/berth-init\","
                            "\"options\":[\"bind\",\"ro\"]}"),
           "mounts: --init binary");
        json_object_put(spec);

        ok(build_fails("{\"Config\":{\"Cmd\":[\"sh\"]},\"HostConfig\":{\"Mounts\":[{\"Type\":\"bind\",\"Source\":"
                       "\"rel\",\"Target\":\"/x\"}]}}",
                       NULL, "HostConfig.Mounts[0].Source: invalid mount config for type \"bind\": invalid mount path: "
                             "'rel' mount path must be absolute"),
           "mounts: relative bind source");
        ok(build_fails("{\"Config\":{\"Cmd\":[\"sh\"]},\"HostConfig\":{\"Mounts\":[{\"Type\":\"bind\",\"Source\":"
                       "\"/no/such/dir\",\"Target\":\"/x\"}]}}",
                       NULL, "bind source path does not exist: /no/such/dir"),
           "mounts: missing bind source");
        ok(build_fails("{\"Config\":{\"Cmd\":[\"sh\"]},\"HostConfig\":{\"Mounts\":[{\"Type\":\"volume\",\"Source\":"
                       "\"v\",\"Target\":\"/x\"},{\"Type\":\"tmpfs\",\"Target\":\"/x/\"}]}}",
                       NULL, "HostConfig.Mounts[1]: Duplicate mount point: /x"),
           "mounts: duplicate");
        ok(build_fails("{\"Config\":{\"Cmd\":[\"sh\"]},\"HostConfig\":{\"Mounts\":[{\"Type\":\"volume\",\"Source\":"
                       "\"../x\",\"Target\":\"/x\"}]}}",
                       NULL, "invalid volume name"),
           "mounts: a volume name with a slash");
        ok(build_fails("{\"Config\":{\"Cmd\":[\"sh\"]},\"HostConfig\":{\"Mounts\":[{\"Type\":\"nfs\",\"Target\":\"/x\"}]}}",
                       NULL, "mount type unknown"),
           "mounts: unknown type");
        ok(build_fails("{\"Config\":{\"Cmd\":[\"sh\"]},\"HostConfig\":{\"Mounts\":[{\"Type\":\"tmpfs\",\"Target\":\"x\"}]}}",
                       NULL, "mount path must be absolute"),
           "mounts: relative target");
}

static void test_namespaces(void)
{
        struct error err = ERROR_INIT;
        json_object *spec;
        char host[65] = "";

        spec = build("{\"Config\":{\"Cmd\":[\"sh\"]}}", NULL, &err);
        ok(spec && plain_is(at(spec, "/linux/namespaces"),
                            "[{\"type\":\"pid\"},{\"type\":\"ipc\"},{\"type\":\"uts\"},{\"type\":\"mount\"},"
                            "{\"type\":\"network\"},{\"type\":\"cgroup\"}]") &&
                   plain_is(at(spec, "/hostname"), "\"0123456789ab\""),
           "namespaces: default, hostname from the id");
        json_object_put(spec);
        (void) gethostname(host, sizeof(host) - 1);
        spec = build("{\"Config\":{\"Cmd\":[\"sh\"]},\"HostConfig\":{\"NetworkMode\":\"host\"}}", NULL, &err);
        ok(spec && !strstr(json_object_to_json_string(at(spec, "/linux/namespaces")), "network") &&
                   strcmp(str_at(spec, "/hostname"), host) == 0,
           "namespaces: host network, the host's name");
        json_object_put(spec);
        env.userns_uid = 100000;
        env.userns_gid = 200000;
        env.userns_count = 65536;
        spec = build("{\"Config\":{\"Cmd\":[\"sh\"]},\"HostConfig\":{\"UsernsMode\":\"auto\"}}", NULL, &err);
        ok(spec && strstr(json_object_to_json_string(at(spec, "/linux/namespaces")), "user") &&
                   plain_is(at(spec, "/linux/uidMappings"), "[{\"containerID\":0,\"hostID\":100000,\"size\":65536}]") &&
                   plain_is(at(spec, "/linux/gidMappings"), "[{\"containerID\":0,\"hostID\":200000,\"size\":65536}]") &&
                   array_has(at(mount_at(spec, "/dev/pts"), "/options"), "gid=5"),
           "userns auto");
        json_object_put(spec);
        spec = build("{\"Config\":{\"Cmd\":[\"sh\"]},\"HostConfig\":{\"UsernsMode\":\"1000:300000:10\","
                     "\"NetworkMode\":\"host\"}}",
                     NULL, &err);
        ok(spec && plain_is(at(spec, "/linux/uidMappings"), "[{\"containerID\":1000,\"hostID\":300000,\"size\":10}]") &&
                   !array_has(at(mount_at(spec, "/dev/pts"), "/options"), "gid=5") &&
                   plain_is(at(mount_at(spec, "/sys"), "/type"), "\"bind\""),
           "userns mapping: no gid=5 when unmapped, /sys bound with the host's network");
        json_object_put(spec);
        ok(build_fails("{\"Config\":{\"Cmd\":[\"sh\"]},\"HostConfig\":{\"UsernsMode\":\"1:2\"}}", NULL,
                       "HostConfig.UsernsMode: invalid mode"),
           "userns: bad mode");
        ok(build_fails("{\"Config\":{\"Cmd\":[\"sh\"]},\"HostConfig\":{\"UsernsMode\":\"auto\",\"Privileged\":true}}",
                       NULL, "incompatible with user namespaces"),
           "userns with privileged");
        env.userns_count = 0;
        ok(build_fails("{\"Config\":{\"Cmd\":[\"sh\"]},\"HostConfig\":{\"UsernsMode\":\"auto\"}}", NULL,
                       "no id range"),
           "userns auto without a range");
        env.netns_path = "/var/lib/berth/run/netns/0123";
        spec = build("{\"Config\":{\"Cmd\":[\"sh\"]},\"HostConfig\":{\"NetworkMode\":\"mynet\","
                     "\"UsernsMode\":\"1000:300000:10\"}}",
                     NULL, &err);
        ok(spec && strstr(json_object_to_json_string_ext(at(spec, "/linux/namespaces"), JSON_C_TO_STRING_PLAIN),
                          "{\"type\":\"network\",\"path\":\"\\/var\\/lib\\/berth\\/run\\/netns\\/0123\"}") &&
                   plain_is(at(mount_at(spec, "/sys"), "/type"), "\"bind\""),
           "a network namespace the engine made: joined by path; /sys bound under a user namespace");
        json_object_put(spec);
        env.netns_path = NULL;
        spec = build("{\"Config\":{\"Cmd\":[\"sh\"]},\"HostConfig\":{\"NetworkMode\":\"container:x\"}}", NULL,
                     &err);
        ok(spec && !strstr(json_object_to_json_string(at(spec, "/linux/namespaces")), "network"),
           "container:X whose network is the host's: no namespace of its own");
        json_object_put(spec);
        ok(build_fails("[]", NULL, "expected an object"), "create body not an object");
        error_clear(&err);
}

int main(void)
{
        _cleanup_close_ int tmp_fd = -EBADF;
        char tmpl[] = "/tmp/berth-test-ocispec-XXXXXX";
        _cleanup_free_ char *root = NULL;

        tmpdir = mkdtemp(tmpl);
        if (!tmpdir) {
                skip("mkdtemp failed");
                return tap_done();
        }
        root = make_rootfs("rootfs", true);
        env = (struct ocispec_env) {
                .id = ID, .rootfs = "/fake/rootfs", .volumes_dir = "/v", .hosts_file = "/h/hosts",
                .hostname_file = "/h/hostname", .resolv_file = "/h/resolv.conf", .init_path = "/i/berth-init",
                .cgroup_path = "/berth/test",
        };
        env.rootfs_fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
        test_args();
        test_env();
        test_user();
        test_caps();
        test_seccomp_shape();
        test_seccomp_options();
        test_resources();
        test_mounts();
        test_namespaces();
        close(env.rootfs_fd);
        /* rm_rf_at() wants a directory fd and a name below it */
        tmp_fd = open("/tmp", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (tmp_fd < 0 || rm_rf_at(tmp_fd, tmpdir + strlen("/tmp/")) < 0)
                printf("# could not remove %s\n", tmpdir);
        return tap_done();
}
