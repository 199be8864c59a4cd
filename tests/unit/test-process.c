/* SPDX-License-Identifier: GPL-2.0-or-later */
/* process.c: cwd resolution (CVE-2024-21626), the LSM attribute writes
 * (CVE-2019-16884), the sealed-binary check (CVE-2019-5736), oomScoreAdj,
 * and the small predicates init and exec decide with. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runtime/process.h"
#include "tap.h"

/* Run FN in a child (it changes cwd or root); its exit status is the
 * result, 0 = pass. */
static int in_child(int (*fn)(void *), void *arg)
{
        int status;
        pid_t pid = fork();

        if (pid == 0)
                _exit(fn(arg));
        if (pid < 0 || waitpid(pid, &status, 0) != pid)
                return -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static int chdir_case(void *arg)
{
        struct spec_process p = { .cwd = arg };
        struct error err = ERROR_INIT;
        char buf[PATH_MAX];
        int r = process_chdir(&p, &err);

        if (r < 0) {
                fprintf(stderr, "# %s\n", err.msg ? err.msg : "?");
                bool named = err.msg && strstr(err.msg, "process.cwd");
                error_clear(&err);
                return named ? 10 : 11; /* refused, naming the field */
        }
        if (!getcwd(buf, sizeof(buf)))
                return 12;
        printf("# cwd %s\n", buf);
        return 0;
}

static void test_chdir(void)
{
        char path[64];
        int fd = open("/tmp", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

        ok(in_child(chdir_case, (void *) "/tmp") == 0, "process_chdir: a plain directory");
        ok(in_child(chdir_case, (void *) "/") == 0, "process_chdir: /");
        {
                /* a missing directory is made, as runc and crun do */
                char tmp[] = "/tmp/berth-test-chdir-XXXXXX", want[96];
                struct stat st;
                if (!mkdtemp(tmp))
                        abort();
                snprintf(want, sizeof(want), "%s/a/b", tmp);
                ok(in_child(chdir_case, want) == 0 && stat(want, &st) == 0 && S_ISDIR(st.st_mode),
                   "process_chdir: a missing directory is made");
                snprintf(want, sizeof(want), "%s/a/b", tmp);
                (void) rmdir(want);
                snprintf(want, sizeof(want), "%s/a", tmp);
                (void) rmdir(want);
                (void) rmdir(tmp);
        }
        snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
        ok(in_child(chdir_case, path) == 10, "process_chdir: %s refused (CVE-2024-21626)", path);
        ok(in_child(chdir_case, (void *) "/proc/self/cwd") == 10, "process_chdir: /proc/self/cwd refused");
        ok(in_child(chdir_case, (void *) "/proc/1/root") == 10, "process_chdir: /proc/1/root refused");
        ok(in_child(chdir_case, (void *) "/proc/self") == 0, "process_chdir: /proc/self (a plain symlink) allowed");
        close(fd);
}

/* A root whose /proc/thread-self/attr/ files are plain files of the
 * image: process_apply_lsm must refuse them instead of writing there. */
static char fake_root[] = "/tmp/berth-test-process-XXXXXX";

static int lsm_case(void *arg)
{
        struct spec_process p = { 0 };
        struct error err = ERROR_INIT;
        int r;

        if (strcmp(arg, "apparmor") == 0)
                p.apparmor_profile = (char *) "berth-test";
        else
                p.selinux_label = (char *) "system_u:system_r:container_t:s0:c1,c2";
        if (chroot(fake_root) < 0 || chdir("/") < 0)
                return 20;
        r = process_apply_lsm(&p, &err);
        fprintf(stderr, "# %s\n", err.msg ? err.msg : "(no error)");
        if (r >= 0)
                return 21;
        if (err.code != EXDEV || !strstr(err.msg, "procfs"))
                return 22;
        if (!strstr(err.msg, strcmp(arg, "apparmor") == 0 ? "process.apparmorProfile" : "process.selinuxLabel"))
                return 23;
        error_clear(&err);
        return 0;
}

/* On the real /proc the write is reached (and refused by the kernel
 * when no LSM takes it): the path resolves through /proc/thread-self. */
static int lsm_real_case(void *arg)
{
        struct spec_process p = { .apparmor_profile = (char *) "berth-test" };
        struct error err = ERROR_INIT;
        int r;

        (void) arg;
        r = process_apply_lsm(&p, &err);
        fprintf(stderr, "# %s\n", err.msg ? err.msg : "(no error)");
        if (r >= 0)
                return 40;
        return err.msg && strstr(err.msg, ": write `/proc/thread-self/attr/") ? 0 : 41;
}

static int write_file(const char *dir, const char *name, const char *content)
{
        char path[PATH_MAX];
        FILE *f;

        snprintf(path, sizeof(path), "%s/%s", dir, name);
        f = fopen(path, "we");
        if (!f)
                return -1;
        fputs(content, f);
        return fclose(f);
}

static bool file_is(const char *dir, const char *name, const char *content)
{
        char path[PATH_MAX], buf[256] = "";
        FILE *f;
        size_t n;

        snprintf(path, sizeof(path), "%s/%s", dir, name);
        f = fopen(path, "re");
        if (!f)
                return false;
        n = fread(buf, 1, sizeof(buf) - 1, f);
        fclose(f);
        buf[n] = 0;
        return strcmp(buf, content) == 0;
}

/* The fake tree under fake_root, parents first. */
static const char *const fake_dirs[] = { "proc", "proc/thread-self", "proc/thread-self/attr",
                                         "proc/thread-self/attr/apparmor" };
static const char *const fake_files[] = { "proc/thread-self/attr/exec", "proc/thread-self/attr/apparmor/exec" };

static void test_lsm_fake_proc(void)
{
        char path[PATH_MAX];
        bool made = true, empty = true;

        if (geteuid() != 0) {
                skip_named("needs root for chroot", "process_apply_lsm: fake /proc refused");
                return;
        }
        if (!mkdtemp(fake_root)) {
                ok(false, "mkdtemp");
                return;
        }
        for (size_t i = 0; i < ELEMENTSOF(fake_dirs); i++) {
                snprintf(path, sizeof(path), "%s/%s", fake_root, fake_dirs[i]);
                made = made && mkdir(path, 0755) == 0;
        }
        for (size_t i = 0; i < ELEMENTSOF(fake_files); i++)
                made = made && write_file(fake_root, fake_files[i], "") == 0;
        ok(made, "fake attr files");
        ok(in_child(lsm_case, (void *) "apparmor") == 0,
           "process_apply_lsm: apparmor/exec on a non-procfs /proc refused (CVE-2019-16884)");
        ok(in_child(lsm_case, (void *) "selinux") == 0,
           "process_apply_lsm: selinux exec label on a non-procfs /proc refused");
        for (size_t i = 0; i < ELEMENTSOF(fake_files); i++) {
                empty = empty && file_is(fake_root, fake_files[i], "");
                snprintf(path, sizeof(path), "%s/%s", fake_root, fake_files[i]);
                (void) unlink(path);
        }
        ok(empty, "the fake files stayed empty");
        for (size_t i = ELEMENTSOF(fake_dirs); i > 0; i--) {
                snprintf(path, sizeof(path), "%s/%s", fake_root, fake_dirs[i - 1]);
                (void) rmdir(path);
        }
        (void) rmdir(fake_root);
}

static void test_lsm_check(void)
{
        struct spec_process p = { .apparmor_profile = (char *) "x" };
        struct error err = ERROR_INIT;
        bool aa = access("/sys/module/apparmor/parameters/enabled", F_OK) == 0;
        bool se = access("/sys/fs/selinux/enforce", F_OK) == 0;
        int r;

        ok(process_check_lsm(&(struct spec_process){ 0 }, NULL, &err) == 0, "process_check_lsm: nothing asked");
        if (aa) {
                skip_named("AppArmor may be enabled here", "process_check_lsm: apparmorProfile without AppArmor");
        } else {
                r = process_check_lsm(&p, NULL, &err);
                ok(r < 0 && strstr(err.msg, "process.apparmorProfile"),
                   "process_check_lsm: apparmorProfile without AppArmor names the field");
                error_clear(&err);
        }
        if (se) {
                skip_named("SELinux is enabled here", "process_check_lsm: selinuxLabel and mountLabel without SELinux");
                return;
        }
        p.apparmor_profile = NULL;
        p.selinux_label = (char *) "a:b:c:s0";
        r = process_check_lsm(&p, NULL, &err);
        ok(r < 0 && strstr(err.msg, "process.selinuxLabel"), "process_check_lsm: selinuxLabel names the field");
        error_clear(&err);
        r = process_check_lsm(&(struct spec_process){ 0 }, "a:b:c:s0", &err);
        ok(r < 0 && strstr(err.msg, "linux.mountLabel"), "process_check_lsm: mountLabel names the field");
        error_clear(&err);
}

static void test_lsm_real_proc(void)
{
        if (access("/sys/module/apparmor/parameters/enabled", F_OK) == 0 ||
            access("/sys/fs/selinux/enforce", F_OK) == 0) {
                skip_named("an LSM may take the write here", "process_apply_lsm: reaches the real attr file");
                return;
        }
        ok(in_child(lsm_real_case, NULL) == 0, "process_apply_lsm: reaches /proc/thread-self/attr on procfs");
}

static void test_predicates(void)
{
        char *with[] = { (char *) "CAP_KILL", (char *) "CAP_SYS_PTRACE", NULL };
        char *without[] = { (char *) "CAP_KILL", NULL };
        struct spec_caps c = { .bounding = without, .effective = without };
        struct spec_seccomp_syscall calls[] = {
                { .action = (char *) "SCMP_ACT_ERRNO" },
                { .action = (char *) "SCMP_ACT_NOTIFY" },
        };
        struct spec_seccomp sc = { .default_action = (char *) "SCMP_ACT_ALLOW", .syscalls = calls, .n_syscalls = 1 };

        ok(process_caps_may_hold(NULL, "CAP_SYS_PTRACE"), "no capabilities list: everything is held");
        ok(!process_caps_may_hold(&c, "CAP_SYS_PTRACE"), "CAP_SYS_PTRACE in no set");
        c.inheritable = with;
        ok(process_caps_may_hold(&c, "CAP_SYS_PTRACE"), "CAP_SYS_PTRACE in inheritable counts");
        ok(!process_seccomp_notify(NULL) && !process_seccomp_notify(&sc), "no SCMP_ACT_NOTIFY");
        sc.n_syscalls = 2;
        ok(process_seccomp_notify(&sc), "SCMP_ACT_NOTIFY in a rule");
        sc.n_syscalls = 0;
        sc.default_action = (char *) "SCMP_ACT_NOTIFY";
        ok(process_seccomp_notify(&sc), "SCMP_ACT_NOTIFY as the default action");
        ok(!process_exe_is_sealed(0), "a test binary on disk is not a sealed copy");
}

static int oom_case(void *arg)
{
        struct spec_process p = { .has_oom_score_adj = true, .oom_score_adj = 123 };
        struct error err = ERROR_INIT;
        char buf[32] = "";
        FILE *f;

        (void) arg;
        if (process_set_oom_score_adj(&p, 0, &err) < 0)
                return 30;
        f = fopen("/proc/self/oom_score_adj", "re");
        if (!f || !fgets(buf, sizeof(buf), f))
                return 31;
        fclose(f);
        return atoi(buf) == 123 ? 0 : 32;
}

int main(void)
{
        test_chdir();
        test_lsm_fake_proc();
        test_lsm_check();
        test_lsm_real_proc();
        test_predicates();
        ok(in_child(oom_case, NULL) == 0, "process_set_oom_score_adj: ourselves");
        printf("1..%u\n", n_tests);
        return n_failed ? 1 : 0;
}
