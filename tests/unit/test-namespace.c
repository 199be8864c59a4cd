/* SPDX-License-Identifier: GPL-2.0-or-later */
/* namespace.c: the rootless checks, /etc/subuid matching, id maps written
 * into a child's fresh user namespace, setgroups detection and the pid
 * listing used for containers without a cgroup.  Cases that create
 * namespaces for another process need root and are skipped otherwise. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "basic/fileio.h"
#include "runtime/namespace.h"
#include "runtime/state.h"
#include "tap.h"

static void test_subid_matching(void)
{
        static const char subuid[] = "# comment:1:2\n"
                                     "alice:100000:65536\n"
                                     "1234:300000:10\n"
                                     "bob:200000:65536\n"
                                     "broken line\n"
                                     "alice:500000:1000";
        struct spec_id_mapping own[] = { { 0, 1000, 1 } };
        struct spec_id_mapping inside[] = { { 0, 1000, 1 }, { 1, 100000, 65536 }, { 70000, 500000, 1000 } };
        struct spec_id_mapping past_end[] = { { 0, 100000, 65537 } };
        struct spec_id_mapping others[] = { { 0, 1000, 1 }, { 1, 200000, 10 } };
        struct spec_id_mapping by_uid[] = { { 0, 300000, 10 } };
        struct spec_id_mapping own_wide[] = { { 0, 1000, 2 } };

        ok(ns_subid_first_outside(subuid, "alice", 1000, 1000, own, 1) == -1,
           "subid: the caller's own id alone needs no entry");
        ok(ns_subid_first_outside(subuid, "alice", 1000, 1000, inside, 3) == -1,
           "subid: ranges inside the user's entries fit");
        ok(ns_subid_first_outside(subuid, "alice", 1000, 1000, past_end, 1) == 0,
           "subid: one id past the end does not fit");
        ok(ns_subid_first_outside(subuid, "alice", 1000, 1000, others, 2) == 1,
           "subid: another user's range is refused, its index reported");
        ok(ns_subid_first_outside(subuid, "nobody-here", 1234, 1234, by_uid, 1) == -1,
           "subid: entries may name the uid instead of the user");
        ok(ns_subid_first_outside(subuid, "alice", 1000, 1000, own_wide, 1) == 0,
           "subid: the own id plus one more is not the own-id exception");
        ok(ns_subid_first_outside("", NULL, 1000, 1000, inside, 3) == 1, "subid: empty file, no user name");
}

static int parse(const char *json, struct spec **ret)
{
        struct error err = ERROR_INIT;
        int r = spec_parse(json, strlen(json), ret, &err);

        if (r < 0)
                printf("# spec_parse: %s\n", err.msg ? err.msg : "?");
        error_clear(&err);
        return r;
}

static void test_check_rootless(void)
{
        char *with_user = xasprintf(
                "{\"ociVersion\":\"1.0.0\",\"root\":{\"path\":\"r\"},"
                "\"process\":{\"cwd\":\"/\",\"args\":[\"sh\"],\"user\":{\"uid\":0,\"gid\":0,\"additionalGids\":[10]}},"
                "\"linux\":{\"namespaces\":[{\"type\":\"user\"},{\"type\":\"mount\"}],"
                "\"uidMappings\":[{\"containerID\":0,\"hostID\":%u,\"size\":1}],"
                "\"gidMappings\":[{\"containerID\":0,\"hostID\":%u,\"size\":%u}]}}",
                (unsigned) geteuid(), (unsigned) getegid(), 1u);
        static const char no_user[] = "{\"ociVersion\":\"1.0.0\",\"root\":{\"path\":\"r\"},"
                                      "\"process\":{\"cwd\":\"/\",\"args\":[\"sh\"],\"user\":{\"uid\":0,\"gid\":0}},"
                                      "\"linux\":{\"namespaces\":[{\"type\":\"mount\"}]}}";
        struct spec *s = NULL;
        struct ns_plan p;
        struct error err = ERROR_INIT;
        int r;

        if (parse(no_user, &s) >= 0 && ns_plan_init(s, &p, &err) >= 0) {
                r = ns_plan_check_rootless(&p, s, &err);
                ok(r == -EPERM && err.msg &&
                           strcmp(err.msg, "linux.namespaces: rootless containers need a user namespace") == 0,
                   "rootless: no user namespace is refused (%s)", err.msg ? err.msg : "no error");
                ns_plan_release(&p);
        } else
                ok(false, "rootless: parse the config without a user namespace");
        error_clear(&err);
        spec_free(s);
        s = NULL;

        if (parse(with_user, &s) >= 0 && ns_plan_init(s, &p, &err) >= 0) {
                r = ns_plan_check_rootless(&p, s, &err);
                ok(r == -EPERM && err.msg && strstr(err.msg, "process.user.additionalGids"),
                   "rootless: additionalGids with only the own gid mapped is refused");
                error_clear(&err);
                s->process->user.n_additional_gids = 0;
                r = ns_plan_check_rootless(&p, s, &err);
                ok(r == 0, "rootless: a user namespace mapping the own ids passes");
                ns_plan_release(&p);
        } else
                ok(false, "rootless: parse the config with a user namespace");
        error_clear(&err);
        spec_free(s);
        free(with_user);
}

/* A child in a new user namespace, blocked on a pipe until released. */
struct userns_child {
        pid_t pid;
        int release; /* write end */
};

static int userns_child_start(struct userns_child *c)
{
        int ready[2], hold[2];
        char ch;

        if (pipe2(ready, O_CLOEXEC) < 0 || pipe2(hold, O_CLOEXEC) < 0)
                return -errno;
        c->pid = fork();
        if (c->pid == 0) {
                close(ready[0]);
                close(hold[1]);
                ch = unshare(CLONE_NEWUSER) < 0 ? 'e' : 'o';
                (void) !write(ready[1], &ch, 1);
                (void) !read(hold[0], &ch, 1);
                _exit(0);
        }
        close(ready[1]);
        close(hold[0]);
        c->release = hold[1];
        if (c->pid < 0 || read(ready[0], &ch, 1) != 1 || ch != 'o') {
                close(ready[0]);
                return -EPERM;
        }
        close(ready[0]);
        return 0;
}

static void userns_child_stop(struct userns_child *c)
{
        close(c->release);
        if (c->pid > 0)
                (void) waitpid(c->pid, NULL, 0);
}

static char *read_proc(pid_t pid, const char *file)
{
        char path[64];
        char *s = NULL;

        snprintf(path, sizeof(path), "/proc/%d/%s", (int) pid, file);
        if (read_full_file_at(AT_FDCWD, path, 4096, &s, NULL) < 0)
                return xstrdup("");
        return s;
}

static bool map_is(const char *text, unsigned a, unsigned b, unsigned c)
{
        unsigned x, y, z;
        return sscanf(text, "%u %u %u", &x, &y, &z) == 3 && x == a && y == b && z == c;
}

static void test_write_id_maps(void)
{
        struct spec_id_mapping m[] = { { 0, 100000, 65536 } };
        struct spec_id_mapping own[] = { { 0, 0, 1 } };
        struct spec_linux l = { .uid_mappings = m, .gid_mappings = m, .n_uid_mappings = 1, .n_gid_mappings = 1 };
        struct userns_child c;
        struct error err = ERROR_INIT;

        if (geteuid() != 0) {
                skip_named("needs root", "ns_write_id_maps");
                return;
        }
        if (userns_child_start(&c) < 0) {
                skip_named("host limit: cannot create a user namespace", "ns_write_id_maps");
                return;
        }
        {
                int r = ns_write_id_maps(c.pid, &l, false, &err);
                _cleanup_free_ char *u = read_proc(c.pid, "uid_map"), *g = read_proc(c.pid, "gid_map"),
                                    *sg = read_proc(c.pid, "setgroups");
                ok(r == 0 && map_is(u, 0, 100000, 65536) && map_is(g, 0, 100000, 65536),
                   "maps: root writes a wide map directly (%s)", err.msg ? err.msg : "ok");
                ok(strncmp(sg, "allow", 5) == 0, "maps: setgroups stays allowed for root's maps");
        }
        userns_child_stop(&c);
        error_clear(&err);

        /* ROOTLESS with the caller's own id (0 here): the direct path, setgroups denied first */
        l.uid_mappings = l.gid_mappings = own;
        if (userns_child_start(&c) < 0)
                return;
        {
                int r = ns_write_id_maps(c.pid, &l, true, &err);
                _cleanup_free_ char *u = read_proc(c.pid, "uid_map"), *g = read_proc(c.pid, "gid_map"),
                                    *sg = read_proc(c.pid, "setgroups");
                ok(r == 0 && map_is(u, 0, 0, 1) && map_is(g, 0, 0, 1),
                   "maps: a rootless map of the own ids is written directly (%s)", err.msg ? err.msg : "ok");
                ok(strncmp(sg, "deny", 4) == 0, "maps: setgroups denied before a rootless gid_map");
        }
        userns_child_stop(&c);
        error_clear(&err);
}

static void test_setgroups_allowed(void)
{
        int status = -1;
        pid_t pid;

        ok(ns_setgroups_allowed(), "setgroups: allowed in the initial user namespace");
        pid = fork();
        if (pid == 0) {
                if (unshare(CLONE_NEWUSER) < 0)
                        _exit(77);
                if (write_file_at(AT_FDCWD, "/proc/self/setgroups", "deny") < 0)
                        _exit(2);
                _exit(ns_setgroups_allowed() ? 1 : 0);
        }
        if (pid > 0)
                (void) waitpid(pid, &status, 0);
        if (WIFEXITED(status) && WEXITSTATUS(status) == 77)
                skip_named("host limit: cannot create a user namespace", "setgroups: deny detected");
        else
                ok(WIFEXITED(status) && WEXITSTATUS(status) == 0, "setgroups: deny detected");
}

static bool contains(const pid_t *v, size_t n, pid_t p)
{
        for (size_t i = 0; i < n; i++)
                if (v[i] == p)
                        return true;
        return false;
}

/* A child that forks a grandchild; both wait on a pipe.  The grandchild's
 * pid comes back over another pipe. */
static void test_container_pids(void)
{
        int hold[2], report[2];
        pid_t child, grandchild = 0;
        _cleanup_free_ pid_t *v = NULL;
        size_t n = 0;
        struct error err = ERROR_INIT;
        int r;

        if (pipe2(hold, O_CLOEXEC) < 0 || pipe2(report, O_CLOEXEC) < 0) {
                ok(false, "pids: pipes");
                return;
        }
        child = fork();
        if (child == 0) {
                char ch;
                pid_t g = fork();
                if (g == 0) {
                        close(hold[1]);
                        (void) !read(hold[0], &ch, 1);
                        _exit(0);
                }
                (void) !write(report[1], &g, sizeof(g));
                close(hold[1]);
                (void) !read(hold[0], &ch, 1);
                (void) waitpid(g, NULL, 0);
                _exit(0);
        }
        close(hold[0]);
        close(report[1]);
        if (read(report[0], &grandchild, sizeof(grandchild)) != sizeof(grandchild))
                grandchild = 0;
        close(report[0]);
        r = ns_container_pids(child, proc_start_time(child), false, &v, &n, &err);
        ok(r == 0 && n == 2 && contains(v, n, child) && contains(v, n, grandchild) && v[0] < v[1],
           "pids: without a pid namespace, the init and its descendants, sorted (n=%zu)", n);
        free(v);
        v = NULL;
        r = ns_container_pids(child, proc_start_time(child) + 1, false, &v, &n, &err);
        ok(r == 0 && n == 0, "pids: an init with another start time (reused pid) lists nothing");
        close(hold[1]);
        (void) waitpid(child, NULL, 0);
        error_clear(&err);

        if (geteuid() != 0) {
                skip_named("needs root", "pids: a pid namespace's members");
                return;
        }
        {
                int h[2];
                pid_t init;

                if (pipe2(h, O_CLOEXEC) < 0)
                        return;
                init = (pid_t) syscall(SYS_clone, CLONE_NEWPID | SIGCHLD, NULL, NULL, NULL, NULL);
                if (init == 0) {
                        char ch;
                        pid_t g = fork();
                        close(h[1]);
                        (void) !read(h[0], &ch, 1);
                        if (g > 0)
                                (void) waitpid(g, NULL, 0);
                        _exit(0);
                }
                close(h[0]);
                if (init < 0) {
                        close(h[1]);
                        skip_named("host limit: cannot create a pid namespace", "pids: a pid namespace's members");
                        return;
                }
                /* the init's child exists once the init forked; give it a moment */
                for (int i = 0; i < 200; i++) {
                        free(v);
                        v = NULL;
                        r = ns_container_pids(init, proc_start_time(init), true, &v, &n, &err);
                        if (r < 0 || n >= 2)
                                break;
                        usleep(10000);
                }
                ok(r == 0 && n == 2 && contains(v, n, init) && !contains(v, n, getpid()),
                   "pids: with a pid namespace, its members only (n=%zu)", n);
                close(h[1]);
                (void) waitpid(init, NULL, 0);
                error_clear(&err);
        }
}

int main(void)
{
        printf("TAP version 13\n");
        test_subid_matching();
        test_check_rootless();
        test_write_id_maps();
        test_setgroups_allowed();
        test_container_pids();
        printf("1..%u\n", n_tests);
        return n_failed ? 1 : 0;
}
