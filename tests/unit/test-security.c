/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <poll.h>
#include <seccomp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runtime/security.h"
#include "basic/rm-rf.h"
#include "tap.h"

/* Each case that changes credentials or loads a filter runs in a child
 * forked here; the child reports through its exit status (0 = pass, else
 * the number of the failed check) and prints details on stderr. */

#define CHECK(cond)                                                                    \
        do {                                                                           \
                if (!(cond)) {                                                         \
                        fprintf(stderr, "# %s:%d: check failed: %s (errno %d)\n",      \
                                __FILE__, __LINE__, #cond, errno);                     \
                        return __LINE__ % 250 + 1;                                     \
                }                                                                      \
        } while (0)

/* Fork, run FN in the child, return the raw wait status. */
static int run_child(int (*fn)(const void *), const void *arg, pid_t *ret_pid)
{
        int status;
        pid_t pid;

        fflush(NULL);
        pid = fork();
        if (pid < 0)
                return -1;
        if (pid == 0) {
                struct rlimit no_core = { 0, 0 };

                (void) setrlimit(RLIMIT_CORE, &no_core);
                _exit(fn(arg));
        }
        if (ret_pid)
                *ret_pid = pid;
        if (waitpid(pid, &status, 0) != pid)
                return -1;
        return status;
}

#define EXIT_SKIP 77

static bool exited_ok(int status)
{
        return status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

/* ok() unless the child exited with EXIT_SKIP. */
static void ok_child(int status, const char *name)
{
        if (status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == EXIT_SKIP)
                skip_named("cannot switch to uid 1000 here", name);
        else
                ok(exited_ok(status), "%s", name);
}

/* ---- capabilities ---- */

struct cap_masks {
        uint64_t inh, prm, eff, bnd, amb;
};

static int read_cap_masks(struct cap_masks *m)
{
        static const struct {
                const char *key;
                size_t off;
        } keys[] = {
                { "CapInh:", offsetof(struct cap_masks, inh) }, { "CapPrm:", offsetof(struct cap_masks, prm) },
                { "CapEff:", offsetof(struct cap_masks, eff) }, { "CapBnd:", offsetof(struct cap_masks, bnd) },
                { "CapAmb:", offsetof(struct cap_masks, amb) },
        };
        _cleanup_fclose_ FILE *f = fopen("/proc/self/status", "re");
        char line[256];
        unsigned found = 0;

        if (!f)
                return -errno;
        while (fgets(line, sizeof(line), f))
                for (size_t i = 0; i < ELEMENTSOF(keys); i++)
                        if (strncmp(line, keys[i].key, strlen(keys[i].key)) == 0) {
                                *(uint64_t *) ((char *) m + keys[i].off) =
                                        strtoull(line + strlen(keys[i].key), NULL, 16);
                                found++;
                        }
        return found == ELEMENTSOF(keys) ? 0 : -EIO;
}

#define C(n) (UINT64_C(1) << (n))

struct caps_case {
        struct spec_caps caps;
        bool null_caps;
        uid_t uid;       /* switch to it first when != 0 */
        bool keepcaps;   /* with PR_SET_KEEPCAPS */
        bool expect_fail;
        struct cap_masks want;
};

static int child_caps(const void *p)
{
        const struct caps_case *c = p;
        _cleanup_error_ struct error err = ERROR_INIT;
        struct cap_masks before, m;
        int r;

        CHECK(read_cap_masks(&before) == 0);
        if (c->uid != 0) {
                CHECK(caps_keep_across_setuid(c->keepcaps, &err) == 0);
                /* e.g. under `unshare -r`, where only uid 0 is mapped */
                if (setgroups(0, NULL) < 0 || setresgid(c->uid, c->uid, c->uid) < 0 ||
                    setresuid(c->uid, c->uid, c->uid) < 0)
                        return EXIT_SKIP;
        }
        r = caps_apply(c->null_caps ? NULL : &c->caps, &err);
        if (c->expect_fail) {
                CHECK(r < 0 && err.msg);
                return 0;
        }
        if (r < 0)
                fprintf(stderr, "# caps_apply: %s\n", err.msg);
        CHECK(r == 0);
        CHECK(read_cap_masks(&m) == 0);
        if (c->null_caps) {
                CHECK(memcmp(&m, &before, sizeof(m)) == 0);
                return 0;
        }
        if (memcmp(&m, &c->want, sizeof(m)) != 0)
                fprintf(stderr, "# got inh %" PRIx64 " prm %" PRIx64 " eff %" PRIx64 " bnd %" PRIx64 " amb %" PRIx64 "\n",
                        m.inh, m.prm, m.eff, m.bnd, m.amb);
        CHECK(m.bnd == c->want.bnd);
        CHECK(m.eff == c->want.eff);
        CHECK(m.prm == c->want.prm);
        CHECK(m.inh == c->want.inh);
        CHECK(m.amb == c->want.amb);
        CHECK(getuid() == c->uid && geteuid() == c->uid);
        return 0;
}

static void test_caps_apply(void)
{
        const struct caps_case root_case = {
                .caps = {
                        .bounding = (char *[]) { "CAP_CHOWN", "CAP_KILL", NULL },
                        .effective = (char *[]) { "CAP_KILL", NULL },
                        .permitted = (char *[]) { "CAP_CHOWN", "CAP_KILL", NULL },
                        .inheritable = (char *[]) { "CAP_KILL", NULL },
                        .ambient = (char *[]) { "CAP_KILL", NULL },
                },
                .want = { .bnd = C(0) | C(5), .eff = C(5), .prm = C(0) | C(5), .inh = C(5), .amb = C(5) },
        };
        /* Ambient CAP_CHOWN is not inheritable: ignored; absent lists are empty. */
        const struct caps_case ambient_ignored = {
                .caps = {
                        .bounding = (char *[]) { "CAP_CHOWN", "CAP_KILL", NULL },
                        .permitted = (char *[]) { "CAP_CHOWN", NULL },
                        .ambient = (char *[]) { "CAP_CHOWN", NULL },
                },
                .want = { .bnd = C(0) | C(5), .prm = C(0) },
        };
        const struct caps_case uid_case = {
                .caps = {
                        .bounding = (char *[]) { "CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE", NULL },
                        .effective = (char *[]) { "CAP_KILL", "CAP_NET_BIND_SERVICE", NULL },
                        .permitted = (char *[]) { "CAP_KILL", "CAP_NET_BIND_SERVICE", NULL },
                        .inheritable = (char *[]) { "CAP_NET_BIND_SERVICE", NULL },
                        .ambient = (char *[]) { "CAP_NET_BIND_SERVICE", NULL },
                },
                .uid = 1000,
                .keepcaps = true,
                .want = { .bnd = C(0) | C(5) | C(10), .eff = C(5) | C(10), .prm = C(5) | C(10), .inh = C(10),
                          .amb = C(10) },
        };
        struct caps_case no_keep = uid_case, null_case = { .null_caps = true };

        no_keep.keepcaps = false;
        no_keep.expect_fail = true;

        if (geteuid() != 0) {
                skip_named("needs root", "caps_apply");
                return;
        }
        ok(exited_ok(run_child(child_caps, &root_case, NULL)), "caps: bounding/effective/permitted/inheritable/ambient exact");
        ok(exited_ok(run_child(child_caps, &ambient_ignored, NULL)), "caps: ambient not inheritable is ignored");
        ok_child(run_child(child_caps, &uid_case, NULL), "caps: uid 1000 with keepcaps keeps effective caps");
        ok_child(run_child(child_caps, &no_keep, NULL), "caps: uid 1000 without keepcaps fails");
        ok(exited_ok(run_child(child_caps, &null_case, NULL)), "caps: NULL leaves sets unchanged");
}

static void test_caps_validate(void)
{
        _cleanup_error_ struct error err = ERROR_INIT;
        struct spec_caps caps = {
                .bounding = (char *[]) { "CAP_CHOWN", "CAP_FOO", NULL },
        };
        int r;

        r = caps_validate(&caps, &err);
        ok(r == -EINVAL && err.msg &&
                   strcmp(err.msg, "process.capabilities.bounding: unknown capability \"CAP_FOO\"") == 0,
           "caps: unknown name in bounding: %s", err.msg);
        error_clear(&err);

        caps = (struct spec_caps) { .effective = (char *[]) { "cap_chown", NULL } };
        r = caps_validate(&caps, &err);
        ok(r < 0 && err.msg && strstr(err.msg, "process.capabilities.effective: unknown capability \"cap_chown\""),
           "caps: lower case name rejected: %s", err.msg);
        error_clear(&err);

        caps = (struct spec_caps) { .ambient = (char *[]) { "CAP_CHOWN1", NULL } };
        r = caps_validate(&caps, &err);
        ok(r < 0 && err.msg && strstr(err.msg, "process.capabilities.ambient:"), "caps: trailing junk rejected");
        error_clear(&err);

        caps = (struct spec_caps) {
                .bounding = (char *[]) { "CAP_CHOWN", "CAP_SYS_ADMIN", "CAP_CHECKPOINT_RESTORE", NULL },
                .permitted = (char *[]) { "CAP_AUDIT_WRITE", NULL },
        };
        ok(caps_validate(&caps, &err) == 0 && caps_validate(NULL, &err) == 0, "caps: valid names accepted");
}

/* ---- seccomp ---- */

struct sc_case {
        const struct spec_seccomp *sc;
        int (*check)(void);
};

static int child_seccomp(const void *p)
{
        const struct sc_case *c = p;
        _cleanup_error_ struct error err = ERROR_INIT;
        int fd = -2;

        if (seccomp_apply(c->sc, &fd, &err) < 0) {
                fprintf(stderr, "# seccomp_apply: %s\n", err.msg);
                return 200;
        }
        if (fd != -1)
                return 201;
        return c->check();
}

static int run_seccomp(const struct spec_seccomp *sc, int (*check)(void))
{
        struct sc_case c = { sc, check };

        return run_child(child_seccomp, &c, NULL);
}

static int check_getcwd_mkdir_38(void)
{
        char buf[256];

        errno = 0;
        CHECK(syscall(SYS_getcwd, buf, sizeof(buf)) < 0 && errno == 38);
        errno = 0;
        CHECK(syscall(SYS_mkdir, "/nonexistent-berth-test/x", 0700) < 0 && errno == 38);
        CHECK(getpid() > 0);
        return 0;
}

static void test_seccomp_errno(void)
{
        struct spec_seccomp_syscall calls[] = {
                /* socketcall, _llseek and arm_fadvise64_64 do not exist on x86_64 */
                { .names = (char *[]) { "no_such_syscall_berth", "getcwd", "mkdir", "mkdirat", "socketcall",
                                        "_llseek", "arm_fadvise64_64", NULL },
                  .action = "SCMP_ACT_ERRNO", .has_errno_ret = true, .errno_ret = 38 },
        };
        struct spec_seccomp sc = {
                .default_action = "SCMP_ACT_ALLOW",
                .architectures = (char *[]) { "SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32", NULL },
                .flags = (char *[]) { "SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG",
                                      "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
                                      "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", NULL },
                .syscalls = calls,
                .n_syscalls = ELEMENTSOF(calls),
        };

        ok(exited_ok(run_seccomp(&sc, check_getcwd_mkdir_38)),
           "seccomp: ERRNO 38 for getcwd/mkdir, unknown name skipped, arches and flags");
}

static int check_personality(void)
{
        errno = 0;
        CHECK(personality(0xffffffff) >= 0);
        errno = 0;
        CHECK(personality(PER_LINUX) < 0 && errno == 38);
        return 0;
}

static int check_personality_or(void)
{
        CHECK(personality(0xffffffff) >= 0);
        errno = 0;
        CHECK(personality(PER_LINUX32) < 0 && errno == EXDEV);
        errno = 0;
        CHECK(personality(PER_BSD) < 0 && errno == EXDEV);
        CHECK(personality(PER_LINUX) >= 0);
        return 0;
}

static int check_masked(void)
{
        /* (arg0 & CLONE_NEWUSER) == CLONE_NEWUSER && arg1 == 0 -> EXDEV;
         * unshare() ignores its (unused) second register */
        errno = 0;
        CHECK(syscall(SYS_unshare, 0x10000000, 0) < 0 && errno == EXDEV);
        CHECK(syscall(SYS_unshare, 0, 0) == 0);
        errno = 0;
        CHECK(syscall(SYS_unshare, 0x10000000, 1) == 0 || errno != EXDEV);
        return 0;
}

static void test_seccomp_args(void)
{
        struct spec_seccomp_arg ne = { .index = 0, .value = 0xffffffff, .op = "SCMP_CMP_NE" };
        struct spec_seccomp_syscall calls[] = {
                { .names = (char *[]) { "personality", NULL }, .action = "SCMP_ACT_ERRNO",
                  .has_errno_ret = true, .errno_ret = 38, .args = &ne, .n_args = 1 },
                { .names = (char *[]) { "socketcall", "arm_fadvise64_64", "s390_pci_mmio_read", NULL },
                  .action = "SCMP_ACT_ERRNO", .args = &ne, .n_args = 1 },
        };
        struct spec_seccomp sc = {
                .default_action = "SCMP_ACT_ALLOW",
                .syscalls = calls,
                .n_syscalls = 2,
        };
        struct spec_seccomp_arg two[] = {
                { .index = 0, .value = PER_LINUX32, .op = "SCMP_CMP_EQ" },
                { .index = 0, .value = PER_BSD, .op = "SCMP_CMP_EQ" },
        };
        struct spec_seccomp_arg masked[] = {
                { .index = 0, .value = 0x10000000, .value_two = 0x10000000, .op = "SCMP_CMP_MASKED_EQ" },
                { .index = 1, .value = 0, .op = "SCMP_CMP_EQ" },
        };

        ok(exited_ok(run_seccomp(&sc, check_personality)), "seccomp: personality(0xffffffff) allowed, others ERRNO");

        calls[0] = (struct spec_seccomp_syscall) { .names = (char *[]) { "personality", NULL },
                                                   .action = "SCMP_ACT_ERRNO", .has_errno_ret = true,
                                                   .errno_ret = EXDEV, .args = two, .n_args = 2 };
        ok(exited_ok(run_seccomp(&sc, check_personality_or)), "seccomp: repeated index is ORed");

        calls[0] = (struct spec_seccomp_syscall) { .names = (char *[]) { "unshare", NULL },
                                                   .action = "SCMP_ACT_ERRNO", .has_errno_ret = true,
                                                   .errno_ret = EXDEV, .args = masked, .n_args = 2 };
        ok(exited_ok(run_seccomp(&sc, check_masked)), "seccomp: MASKED_EQ and distinct indexes ANDed");
}

static int check_getcwd_dies(void)
{
        char buf[64];

        (void) syscall(SYS_getcwd, buf, sizeof(buf));
        return 0;
}

static void test_seccomp_kill(void)
{
        static const char *const kills[] = { "SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD" };

        for (size_t i = 0; i < ELEMENTSOF(kills); i++) {
                struct spec_seccomp_syscall call = { .names = (char *[]) { "getcwd", NULL },
                                                     .action = (char *) kills[i] };
                struct spec_seccomp sc = { .default_action = "SCMP_ACT_ALLOW", .syscalls = &call, .n_syscalls = 1 };
                int st = run_seccomp(&sc, check_getcwd_dies);

                ok(st >= 0 && WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS, "seccomp: %s kills with SIGSYS", kills[i]);
        }
}

/* Leaves by exit_group() directly: sanitizer runtimes make syscalls the
 * filter forbids on the way out. */
static int check_default_errno(void)
{
        int code = 0;

        errno = 0;
        if (syscall(SYS_getppid) >= 0 || errno != EPERM)
                code = 1;
        else if (syscall(SYS_getpid) <= 0)
                code = 2;
        else {
                errno = 0;
                if (syscall(SYS_getuid) >= 0 || errno != 5)
                        code = 3;
        }
        syscall(SYS_exit_group, code);
        return code;
}

static void test_seccomp_default_errno(void)
{
        struct spec_seccomp_syscall calls[] = {
                { .names = (char *[]) { "exit_group", "exit", "getpid", "rt_sigreturn", NULL },
                  .action = "SCMP_ACT_ALLOW" },
                { .names = (char *[]) { "getuid", NULL }, .action = "SCMP_ACT_ERRNO", .has_errno_ret = true,
                  .errno_ret = 5 },
                /* same as the default: skipped, not an error */
                { .names = (char *[]) { "getgid", NULL }, .action = "SCMP_ACT_ERRNO" },
        };
        struct spec_seccomp sc = { .default_action = "SCMP_ACT_ERRNO", .syscalls = calls, .n_syscalls = 3 };

        ok(exited_ok(run_seccomp(&sc, check_default_errno)), "seccomp: default ERRNO (EPERM) with allow list");
}

/* NOTIFY: the child loads a filter notifying mkdir, sends the listener
 * fd to our socket, then calls mkdir; we answer EXDEV. */
struct notify_case {
        struct spec_seccomp sc;
};

static int child_notify(const void *p)
{
        const struct spec_seccomp *sc = p;
        _cleanup_error_ struct error err = ERROR_INIT;
        int fd = -1;

        if (seccomp_apply(sc, &fd, &err) < 0) {
                fprintf(stderr, "# seccomp_apply: %s\n", err.msg);
                return 200;
        }
        CHECK(fd >= 0);
        if (seccomp_send_notify_fd(sc, fd,
                                   "{\"ociVersion\":\"1.2.0\",\"id\":\"t1\",\"status\":\"creating\",\"pid\":4242,"
                                   "\"bundle\":\"/b\"}",
                                   &err) < 0) {
                fprintf(stderr, "# seccomp_send_notify_fd: %s\n", err.msg);
                return 201;
        }
        close(fd);
        errno = 0;
        CHECK(syscall(SYS_mkdir, "/nonexistent-berth-test/y", 0700) < 0 && errno == EXDEV);
        return 0;
}

/* Accept one connection on LISTENER; read the whole message and the fd. */
static int receive_state(int listener, char *buf, size_t size, int *ret_fd)
{
        union {
                struct cmsghdr h;
                char b[CMSG_SPACE(sizeof(int))];
        } control = {};
        struct iovec iov = { buf, size - 1 };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = &control,
                             .msg_controllen = sizeof(control) };
        struct pollfd pfd = { listener, POLLIN, 0 };
        _cleanup_close_ int conn = -EBADF;
        struct timeval tv = { 10, 0 };
        struct cmsghdr *c;
        size_t len;
        ssize_t n;

        *ret_fd = -1;
        if (poll(&pfd, 1, 10000) != 1)
                return -ETIMEDOUT;
        conn = accept4(listener, NULL, NULL, SOCK_CLOEXEC);
        if (conn < 0)
                return -errno;
        (void) setsockopt(conn, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        n = recvmsg(conn, &mh, MSG_CMSG_CLOEXEC);
        if (n <= 0)
                return -EIO;
        c = CMSG_FIRSTHDR(&mh);
        if (c && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
                memcpy(ret_fd, CMSG_DATA(c), sizeof(int));
        for (len = n; len < size - 1; len += n) {
                n = read(conn, buf + len, size - 1 - len);
                if (n <= 0)
                        break;
        }
        buf[len] = 0;
        return 0;
}

static int make_listener(const char *path)
{
        struct sockaddr_un addr = { .sun_family = AF_UNIX };
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

        if (fd < 0)
                return -1;
        snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path);
        if (bind(fd, (struct sockaddr *) &addr, sizeof(addr)) < 0 || listen(fd, 4) < 0) {
                close(fd);
                return -1;
        }
        return fd;
}

static bool answer_notification(int fd, pid_t child)
{
        struct seccomp_notif *req = NULL;
        struct seccomp_notif_resp *resp = NULL;
        struct pollfd pfd = { fd, POLLIN, 0 };
        bool good = false;

        if (seccomp_notify_alloc(&req, &resp) < 0)
                return false;
        if (poll(&pfd, 1, 10000) == 1 && seccomp_notify_receive(fd, req) == 0) {
                good = req->data.nr == SYS_mkdir && (pid_t) req->pid == child;
                resp->id = req->id;
                resp->error = -EXDEV;
                resp->val = 0;
                resp->flags = 0;
                good = seccomp_notify_respond(fd, resp) == 0 && good;
        }
        seccomp_notify_free(req, resp);
        return good;
}

/* FLAGS: the filter's flags (WAIT_KILLABLE_RECV takes the raw seccomp(2)
 * load with libseccomp < 2.6); TAG names the case. */
static void test_seccomp_notify(const char *tmpdir, char **flags, const char *tag)
{
        struct spec_seccomp_syscall call = { .names = (char *[]) { "mkdir", "mkdirat", NULL },
                                             .action = "SCMP_ACT_NOTIFY" };
        _cleanup_free_ char *path = xasprintf("%s/listener-%s.sock", tmpdir, tag);
        struct spec_seccomp sc = { .default_action = "SCMP_ACT_ALLOW", .syscalls = &call, .n_syscalls = 1,
                                   .listener_path = path, .listener_metadata = "meta=1", .flags = flags };
        _cleanup_close_ int listener = make_listener(path), notify_fd = -EBADF;
        char buf[4096];
        bool json_ok, answered = false;
        int status;
        pid_t pid;

        if (listener < 0) {
                ok(false, "seccomp (%s): notify listener socket", tag);
                return;
        }
        fflush(NULL);
        pid = fork();
        if (pid == 0)
                _exit(child_notify(&sc));
        if (pid < 0 || receive_state(listener, buf, sizeof(buf), &notify_fd) < 0)
                buf[0] = 0;
        json_ok = strstr(buf, "\"fds\":[\"seccompFd\"]") && strstr(buf, "\"pid\":4242") &&
                  strstr(buf, "\"metadata\":\"meta=1\"") && strstr(buf, "\"state\":{\"ociVersion\":\"1.2.0\",\"id\":\"t1\"") &&
                  strncmp(buf, "{\"ociVersion\":", 14) == 0;
        ok(json_ok, "seccomp (%s): listener gets ContainerProcessState: %s", tag, buf);
        ok(notify_fd >= 0, "seccomp (%s): listener gets the notify fd", tag);
        if (notify_fd >= 0)
                answered = answer_notification(notify_fd, pid);
        ok(answered, "seccomp (%s): parent receives mkdir notification and responds", tag);
        if (!answered && pid > 0)
                (void) kill(pid, SIGKILL);
        ok(pid > 0 && waitpid(pid, &status, 0) == pid && exited_ok(status), "seccomp (%s): notified child sees EXDEV", tag);
}

/* A whole ContainerProcessState goes through with "fds" set. */
static void test_seccomp_send_process_state(const char *tmpdir)
{
        _cleanup_error_ struct error err = ERROR_INIT;
        _cleanup_free_ char *path = xasprintf("%s/listener2.sock", tmpdir);
        struct spec_seccomp sc = { .default_action = "SCMP_ACT_ALLOW", .listener_path = path };
        _cleanup_close_ int listener = make_listener(path), devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
        _cleanup_close_ int got = -EBADF;
        char buf[4096] = "";
        int r;

        r = seccomp_send_notify_fd(&sc, devnull,
                                   "{\"ociVersion\":\"1.0.2\",\"fds\":[],\"pid\":7,\"metadata\":\"m\","
                                   "\"state\":{\"id\":\"x\"}}",
                                   &err);
        if (r == 0)
                r = receive_state(listener, buf, sizeof(buf), &got);
        ok(r == 0 && got >= 0 &&
                   strcmp(buf, "{\"ociVersion\":\"1.0.2\",\"fds\":[\"seccompFd\"],\"pid\":7,\"metadata\":\"m\","
                               "\"state\":{\"id\":\"x\"}}") == 0,
           "seccomp: ContainerProcessState passed through: %s %s", buf, err.msg ? err.msg : "");

        error_clear(&err);
        r = seccomp_send_notify_fd(&sc, devnull, "[1]", &err);
        ok(r < 0 && err.msg, "seccomp: state that is not an object rejected: %s", err.msg);
}

struct bad_case {
        const char *what, *want;
        struct spec_seccomp sc;
};

static void test_seccomp_validate(void)
{
        struct spec_seccomp_arg bad_op = { .index = 0, .op = "SCMP_CMP_FOO" };
        struct spec_seccomp_arg bad_index = { .index = 6, .op = "SCMP_CMP_EQ" };
        struct spec_seccomp_syscall calls[] = {
                { .names = (char *[]) { "read", NULL }, .action = "SCMP_ACT_ALLOW" },
                { .names = (char *[]) { "write", NULL }, .action = "SCMP_ACT_LOG" },
                { .names = (char *[]) { "open", NULL }, .action = "SCMP_ACT_TRAP" },
                { .names = (char *[]) { "close", NULL }, .action = "SCMP_ACT_FOO" },
        };
        struct spec_seccomp_syscall op_call = { .names = (char *[]) { "read", NULL }, .action = "SCMP_ACT_ERRNO",
                                                .args = &bad_op, .n_args = 1 };
        struct spec_seccomp_syscall index_call = op_call, notify_call = { .names = (char *[]) { "read", NULL },
                                                                         .action = "SCMP_ACT_NOTIFY" };
        struct spec_seccomp_syscall big_errno = { .names = (char *[]) { "read", NULL }, .action = "SCMP_ACT_ERRNO",
                                                  .has_errno_ret = true, .errno_ret = 70000 };
        _cleanup_error_ struct error err = ERROR_INIT;
        int fd = -5;

        index_call.args = &bad_index;
        struct bad_case cases[] = {
                { "action", "linux.seccomp.syscalls[3].action: unknown action \"SCMP_ACT_FOO\"",
                  { .default_action = "SCMP_ACT_ERRNO", .syscalls = calls, .n_syscalls = 4 } },
                { "default action", "linux.seccomp.defaultAction: unknown action \"SCMP_ACT_BAR\"",
                  { .default_action = "SCMP_ACT_BAR" } },
                { "missing default", "linux.seccomp.defaultAction: missing", { .default_action = NULL } },
                { "arch", "linux.seccomp.architectures[1]: unknown architecture \"SCMP_ARCH_Z80\"",
                  { .default_action = "SCMP_ACT_ALLOW",
                    .architectures = (char *[]) { "SCMP_ARCH_X86_64", "SCMP_ARCH_Z80", NULL } } },
                { "flag", "linux.seccomp.flags[0]: unknown flag \"SECCOMP_FILTER_FLAG_FOO\"",
                  { .default_action = "SCMP_ACT_ALLOW", .flags = (char *[]) { "SECCOMP_FILTER_FLAG_FOO", NULL } } },
                { "op", "linux.seccomp.syscalls[0].args[0].op: unknown operator \"SCMP_CMP_FOO\"",
                  { .default_action = "SCMP_ACT_ALLOW", .syscalls = &op_call, .n_syscalls = 1 } },
                { "index", "linux.seccomp.syscalls[0].args[0].index: 6 out of range (0-5)",
                  { .default_action = "SCMP_ACT_ALLOW", .syscalls = &index_call, .n_syscalls = 1 } },
                { "notify without listener", "linux.seccomp.listenerPath: required by SCMP_ACT_NOTIFY",
                  { .default_action = "SCMP_ACT_ALLOW", .syscalls = &notify_call, .n_syscalls = 1 } },
                { "notify default",
                  "linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be the default action",
                  { .default_action = "SCMP_ACT_NOTIFY", .listener_path = "/x" } },
                { "errnoRet", "linux.seccomp.syscalls[0].errnoRet: 70000 out of range (0-65535)",
                  { .default_action = "SCMP_ACT_ALLOW", .syscalls = &big_errno, .n_syscalls = 1 } },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                int r = seccomp_validate(&cases[i].sc, &err);
                bool good = r < 0 && err.msg && strcmp(err.msg, cases[i].want) == 0;

                error_clear(&err);
                /* apply must refuse before loading anything */
                r = seccomp_apply(&cases[i].sc, &fd, &err);
                good = good && r < 0 && fd == -5 && err.msg && strcmp(err.msg, cases[i].want) == 0;
                ok(good, "seccomp: invalid %s: %s", cases[i].what, err.msg);
                error_clear(&err);
        }

        calls[3].action = "SCMP_ACT_KILL_PROCESS";
        struct spec_seccomp good = { .default_action = "SCMP_ACT_ERRNO", .syscalls = calls, .n_syscalls = 4,
                                     .architectures = (char *[]) { "SCMP_ARCH_AARCH64", "SCMP_ARCH_RISCV64",
                                                                   "SCMP_ARCH_S390X", "SCMP_ARCH_PPC64LE", NULL } };
        ok(seccomp_validate(&good, &err) == 0 && seccomp_validate(NULL, &err) == 0, "seccomp: valid profile accepted");
}

int main(void)
{
        char tmpdir[] = "/tmp/berth-test-security-XXXXXX";

        printf("TAP version 13\n");
        if (!mkdtemp(tmpdir)) {
                printf("Bail out! mkdtemp: %s\n", strerror(errno));
                return 1;
        }
        test_caps_validate();
        test_caps_apply();
        test_seccomp_validate();
        if (geteuid() == 0) {
                test_seccomp_errno();
                test_seccomp_args();
                test_seccomp_kill();
                test_seccomp_default_errno();
                test_seccomp_notify(tmpdir, NULL, "plain");
                test_seccomp_notify(tmpdir, (char *[]) { "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", NULL }, "wait-killable");
        } else
                skip_named("needs root (no no_new_privs in the filter)", "seccomp_apply");
        test_seccomp_send_process_state(tmpdir);

        /* the listener sockets the notify tests bound, whatever their names */
        if (strncmp(tmpdir, "/tmp/berth-test-security-", 25) == 0) {
                _cleanup_close_ int tmp = open("/tmp", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

                if (tmp >= 0)
                        (void) rm_rf_at(tmp, tmpdir + 5);
        }
        printf("1..%u\n", n_tests);
        return n_failed ? 1 : 0;
}
