/* SPDX-License-Identifier: GPL-2.0-or-later */
/* rootfs_setup/rootfs_finalize on throwaway roots.  Every test that mounts
 * runs in a forked child with its own mount namespace whose "/" is made
 * rprivate first, so nothing reaches the host; the child reports checks
 * over a pipe and the parent prints them as TAP.  Needs root: skipped
 * otherwise. */
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <linux/magic.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "basic/chase.h"
#include "basic/fileio.h"
#include "runtime/mount.h"
#include "runtime/rootfs.h"

static int n_test, n_fail;
static int result_fd = -1; /* in a child: where checks go */

static void tap(bool cond, const char *msg)
{
        n_test++;
        if (!cond)
                n_fail++;
        printf("%sok %d - %s\n", cond ? "" : "not ", n_test, msg);
        fflush(stdout);
}

_printf_(2, 3) static void check(bool cond, const char *fmt, ...)
{
        char buf[1024];
        va_list ap;

        va_start(ap, fmt);
        (void) vsnprintf(buf, sizeof(buf), fmt, ap);
        va_end(ap);
        for (char *p = buf; *p; p++)
                if (*p == '\n')
                        *p = ' ';
        if (result_fd >= 0)
                dprintf(result_fd, "%d %s\n", cond ? 1 : 0, buf);
        else
                tap(cond, buf);
}

/* Fixtures */

struct fixture {
        char base[64];    /* the bundle: /tmp/berth-test-rootfs-XXXXXX */
        char rootfs[128]; /* BASE/rootfs */
};

static void write_text(const char *path, const char *text, mode_t mode)
{
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);

        if (fd < 0 || write(fd, text, strlen(text)) < 0) {
                perror(path);
                exit(1);
        }
        close(fd);
}

static void copy_file(const char *from, const char *to)
{
        _cleanup_free_ char *cmd = xasprintf("cp '%s' '%s'", from, to);

        if (system(cmd) != 0) {
                fprintf(stderr, "%s failed\n", cmd);
                exit(1);
        }
}

static char *fx_path(const struct fixture *fx, const char *rel)
{
        return xasprintf("%s/%s", fx->rootfs, rel);
}

static void fx_mkdir(const struct fixture *fx, const char *rel)
{
        _cleanup_free_ char *p = fx_path(fx, rel);

        (void) mkdir(p, 0755);
}

static void fx_symlink(const struct fixture *fx, const char *target, const char *rel)
{
        _cleanup_free_ char *p = fx_path(fx, rel);

        if (symlink(target, p) < 0) {
                perror(p);
                exit(1);
        }
}

static void fx_init(struct fixture *fx)
{
        static const char *const dirs[] = { "bin", "proc", "dev", "sys", "etc", "tmp", "mnt" };

        snprintf(fx->base, sizeof(fx->base), "/tmp/berth-test-rootfs-XXXXXX");
        if (!mkdtemp(fx->base)) {
                perror("mkdtemp");
                exit(1);
        }
        snprintf(fx->rootfs, sizeof(fx->rootfs), "%s/rootfs", fx->base);
        (void) mkdir(fx->rootfs, 0755);
        for (size_t i = 0; i < ELEMENTSOF(dirs); i++)
                fx_mkdir(fx, dirs[i]);
        {
                _cleanup_free_ char *bb = fx_path(fx, "bin/busybox"), *pw = fx_path(fx, "etc/passwd");
                copy_file("/bin/busybox", bb);
                write_text(pw, "root:x:0:0:root:/root:/bin/sh\n", 0644);
        }
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
        (void) st;
        (void) ftw;
        if (flag == FTW_DP)
                return rmdir(path) < 0 ? 0 : 0;
        (void) unlink(path);
        return 0;
}

static void fx_done(struct fixture *fx)
{
        /* only ever our own mkdtemp directory; never follow symlinks
         * (the fixtures hold links to /etc) nor cross mounts */
        if (strncmp(fx->base, "/tmp/berth-test-rootfs-", 23) != 0 || strlen(fx->base) != 29)
                return;
        (void) nftw(fx->base, rm_one, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
}

/* Hand-built configs */

static char **split(const char *s)
{
        char **v;
        size_t n = 0;

        if (!s)
                return NULL;
        v = xzalloc(sizeof(char *) * 32);
        for (const char *p = s; *p && n < 31;) {
                size_t l = strcspn(p, ",");
                v[n++] = xstrndup(p, l);
                p += l + (p[l] == ',');
        }
        return v;
}

static struct spec_mount M(const char *dest, const char *type, const char *src, const char *opts)
{
        return (struct spec_mount){
                .destination = xstrdup(dest),
                .type = type ? xstrdup(type) : NULL,
                .source = src ? xstrdup(src) : NULL,
                .options = split(opts),
        };
}

static struct spec *spec_new(void)
{
        struct spec *s = xzalloc(sizeof(*s));

        s->mounts = xzalloc(sizeof(struct spec_mount) * 32);
        return s;
}

static void add_mount(struct spec *s, struct spec_mount m)
{
        s->mounts[s->n_mounts++] = m;
}

static void add_default_mounts(struct spec *s)
{
        add_mount(s, M("/proc", "proc", "proc", NULL));
        add_mount(s, M("/dev", "tmpfs", "tmpfs", "nosuid,strictatime,mode=755,size=65536k"));
        add_mount(s, M("/dev/pts", "devpts", "devpts", "nosuid,noexec,newinstance,ptmxmode=0666,mode=0620,gid=5"));
        add_mount(s, M("/dev/shm", "tmpfs", "shm", "nosuid,noexec,nodev,mode=1777,size=65536k"));
        add_mount(s, M("/dev/mqueue", "mqueue", "mqueue", "nosuid,noexec,nodev"));
        add_mount(s, M("/sys", "sysfs", "sysfs", "nosuid,noexec,nodev,ro"));
        add_mount(s, M("/sys/fs/cgroup", "cgroup", "cgroup", "nosuid,noexec,nodev,relatime,ro"));
}

static struct rootfs_opts opts_for(const struct fixture *fx)
{
        return (struct rootfs_opts){
                .rootfs = fx->rootfs,
                .bundle = fx->base,
                .new_mntns = true,
        };
}

/* Children */

typedef void (*child_fn)(const struct fixture *fx, void *arg);

/* Run FN in a child with a private mount namespace (plus EXTRA_NS) and
 * turn its reports into TAP lines. */
static void run_child(const char *name, const struct fixture *fx, child_fn fn, void *arg, int extra_ns)
{
        int p[2], status = 0, got = 0;
        FILE *f;
        char line[1200];
        pid_t pid;

        if (pipe2(p, O_CLOEXEC) < 0) {
                perror("pipe");
                exit(1);
        }
        fflush(stdout);
        pid = fork();
        if (pid == 0) {
                close(p[0]);
                result_fd = p[1];
                if (unshare(CLONE_NEWNS | extra_ns) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
                        check(false, "%s: private mount namespace: %m", name);
                        _exit(1);
                }
                fn(fx, arg);
                _exit(0);
        }
        close(p[1]);
        f = fdopen(p[0], "r");
        while (f && fgets(line, sizeof(line), f)) {
                _cleanup_free_ char *msg = NULL;

                line[strcspn(line, "\n")] = 0;
                msg = xasprintf("%s: %s", name, line + 2);
                tap(line[0] == '1', msg);
                got++;
        }
        if (f)
                fclose(f);
        (void) waitpid(pid, &status, 0);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || got == 0) {
                _cleanup_free_ char *msg = xasprintf("%s: child finished cleanly (status %d)", name, status);
                tap(false, msg);
        }
}

static bool is_fs(const char *path, long magic)
{
        struct statfs sfs;

        return statfs(path, &sfs) == 0 && sfs.f_type == magic;
}

static bool is_ro(const char *path)
{
        struct statvfs sv;

        return statvfs(path, &sv) == 0 && (sv.f_flag & ST_RDONLY);
}

static bool is_chr(const char *path, unsigned maj, unsigned min)
{
        struct stat st;

        return stat(path, &st) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == makedev(maj, min);
}

static bool link_is(const char *path, const char *target)
{
        char buf[256];
        ssize_t n = readlink(path, buf, sizeof(buf) - 1);

        if (n < 0)
                return false;
        buf[n] = 0;
        return strcmp(buf, target) == 0;
}

static int run_busybox(const char *applet)
{
        int status;
        pid_t pid = fork();

        if (pid == 0) {
                execl("/bin/busybox", "busybox", applet, (char *) NULL);
                _exit(127);
        }
        if (pid < 0 || waitpid(pid, &status, 0) < 0)
                return -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static bool setup_ok(const struct spec *s, const struct rootfs_opts *o, bool finalize)
{
        struct error err = ERROR_INIT;
        int r;

        r = rootfs_setup(s, o, &err);
        check(r >= 0, "rootfs_setup: %s", r >= 0 ? "ok" : err.msg);
        if (r >= 0 && finalize) {
                r = rootfs_finalize(s, o, &err);
                check(r >= 0, "rootfs_finalize: %s", r >= 0 ? "ok" : err.msg);
        }
        error_clear(&err);
        return r >= 0;
}

static int hook_calls;

static int before_pivot(void *userdata, struct error *err)
{
        int *calls = userdata;
        struct statfs sfs;

        (*calls)++;
        /* still before pivot_root: the host's / is ours */
        if (statfs("/proc", &sfs) < 0)
                return error_set(err, errno, "statfs");
        return 0;
}

/* The default runc-like config with masked and read-only paths, a sysctl
 * and a read-only root. */
static void child_default(const struct fixture *fx, void *arg)
{
        struct spec *s = spec_new();
        struct rootfs_opts o = opts_for(fx);
        char host[256] = "", cwd[256] = "";
        int fd;

        (void) arg;
        add_default_mounts(s);
        s->root_readonly = true;
        /* missing entries first: skipping one once closed fd 0 */
        s->linux_.masked_paths = split("/proc/kcore,/proc/acpi,/proc/does-not-exist,/proc/timer_list,/proc/scsi");
        s->linux_.readonly_paths = split("/proc/sysrq-trigger,/proc/sys,/proc/keys,/proc/bus");
        s->linux_.sysctl = xzalloc(sizeof(struct spec_kv));
        s->linux_.sysctl[0] = (struct spec_kv){ xstrdup("kernel.hostname"), xstrdup("berth-test") };
        s->linux_.n_sysctl = 1;
        o.has_terminal = true;
        o.before_pivot = before_pivot;
        o.userdata = &hook_calls;
        if (!setup_ok(s, &o, true))
                return;

        check(hook_calls == 1, "before_pivot ran once");
        check(getcwd(cwd, sizeof(cwd)) && strcmp(cwd, "/") == 0, "cwd is / (%s)", cwd);
        check(access(fx->base, F_OK) < 0, "the host's tree is gone after pivot_root");
        check(access("/bin/busybox", X_OK) == 0, "busybox inside");
        check(run_busybox("true") == 0, "exec busybox in the new root");
        check(is_fs("/proc", PROC_SUPER_MAGIC), "/proc is procfs");
        check(is_fs("/dev", TMPFS_MAGIC), "/dev is tmpfs");
        check(is_fs("/dev/pts", DEVPTS_SUPER_MAGIC), "/dev/pts is devpts");
        check(is_fs("/dev/shm", TMPFS_MAGIC) && !is_ro("/dev/shm"), "/dev/shm is a writable tmpfs");
        check(is_fs("/dev/mqueue", 0x19800202 /* MQUEUE_MAGIC */), "/dev/mqueue is mqueue");
        check(is_fs("/sys", SYSFS_MAGIC) && is_ro("/sys"), "/sys is read-only sysfs");
        check(access("/sys/fs/cgroup", F_OK) == 0 && is_ro("/sys/fs/cgroup"), "/sys/fs/cgroup read-only");
        {
                DIR *d = opendir("/sys/fs/cgroup");
                int n = 0;
                for (struct dirent *de; d && (de = readdir(d));)
                        n += de->d_name[0] != '.';
                if (d)
                        closedir(d);
                check(n > 0, "/sys/fs/cgroup has %d entries", n);
        }
        if (access("/sys/fs/cgroup/memory/cgroup.procs", F_OK) == 0) {
                _cleanup_free_ char *procs = NULL, *lines = NULL, *me = xasprintf("\n%d\n", (int) getpid());
                int r = read_full_file_at(AT_FDCWD, "/sys/fs/cgroup/memory/cgroup.procs", 1 << 20, &procs, NULL);

                lines = xasprintf("\n%s", r >= 0 ? procs : "");
                check(strstr(lines, me), "v1 memory hierarchy is our own cgroup");
        }
        check(is_chr("/dev/null", 1, 3) && is_chr("/dev/zero", 1, 5) && is_chr("/dev/full", 1, 7) &&
                      is_chr("/dev/random", 1, 8) && is_chr("/dev/urandom", 1, 9) && is_chr("/dev/tty", 5, 0),
              "default devices");
        {
                struct stat st;
                check(stat("/dev/null", &st) == 0 && (st.st_mode & 07777) == 0666, "/dev/null mode 0666");
                check(lstat("/dev/console", &st) == 0 && S_ISREG(st.st_mode), "/dev/console is a file");
        }
        check(link_is("/dev/ptmx", "pts/ptmx") && access("/dev/ptmx", F_OK) == 0, "/dev/ptmx -> pts/ptmx");
        check(link_is("/dev/fd", "/proc/self/fd") && link_is("/dev/stdin", "/proc/self/fd/0") &&
                      link_is("/dev/stdout", "/proc/self/fd/1") && link_is("/dev/stderr", "/proc/self/fd/2"),
              "/dev/fd and std links");
        check(is_chr("/proc/timer_list", 1, 3), "masked file /proc/timer_list is /dev/null");
        fd = open("/proc/timer_list", O_RDONLY | O_CLOEXEC);
        check(fd >= 0 && read(fd, host, 1) == 0, "masked file reads empty");
        if (fd >= 0)
                close(fd);
        if (access("/proc/acpi", F_OK) == 0)
                check(is_fs("/proc/acpi", TMPFS_MAGIC) && is_ro("/proc/acpi"), "masked dir is a read-only tmpfs (%d %d)", is_fs("/proc/acpi", TMPFS_MAGIC), is_ro("/proc/acpi"));
        check(is_ro("/proc/sys") && is_fs("/proc/sys", PROC_SUPER_MAGIC), "/proc/sys read-only procfs");
        fd = open("/proc/sys/kernel/hostname", O_WRONLY | O_CLOEXEC);
        check(fd < 0 && errno == EROFS, "/proc/sys write refused: %m");
        if (fd >= 0)
                close(fd);
        check(is_ro("/proc/keys"), "readonly file path");
        check(!is_ro("/proc"), "/proc itself stays writable");
        check(gethostname(host, sizeof(host)) == 0 && strcmp(host, "berth-test") == 0, "sysctl applied (%s)", host);
        check(is_ro("/") && mkdir("/newdir", 0755) < 0 && errno == EROFS, "root is read-only");
        check(!is_ro("/dev") && !is_ro("/dev/shm"), "/dev stays writable");
}

/* A cgroup namespace: the cgroup hierarchies are mounted anew. */
static void child_cgroupns(const struct fixture *fx, void *arg)
{
        struct spec *s = spec_new();
        struct rootfs_opts o = opts_for(fx);
        int n = 0;
        DIR *d;

        (void) arg;
        add_default_mounts(s);
        o.cgroupns = true;
        if (!setup_ok(s, &o, true))
                return;
        d = opendir("/sys/fs/cgroup");
        for (struct dirent *de; d && (de = readdir(d));) {
                _cleanup_free_ char *p = NULL;
                struct statfs sfs;

                if (de->d_name[0] == '.')
                        continue;
                p = xasprintf("/sys/fs/cgroup/%s", de->d_name);
                if (statfs(p, &sfs) == 0 && (sfs.f_type == CGROUP_SUPER_MAGIC || sfs.f_type == CGROUP2_SUPER_MAGIC))
                        n++;
        }
        if (d)
                closedir(d);
        check(n > 0, "%d cgroup hierarchies mounted", n);
        check(is_ro("/sys/fs/cgroup"), "read-only");
}

/* Absolute symlink /evil -> /etc: the mount must land in the rootfs. */
static void child_evil_link(const struct fixture *fx, void *arg)
{
        const char *name = arg;
        struct spec *s = spec_new();
        struct rootfs_opts o = opts_for(fx);
        _cleanup_free_ char *dest = xasprintf("/evil/%s", name), *inside = xasprintf("/etc/%s", name);
        _cleanup_free_ char *dotdot = xasprintf("/../../../%s", name), *top = xasprintf("/%s", name);

        add_mount(s, M(dest, "tmpfs", "tmpfs", "size=1m"));
        add_mount(s, M(dotdot, "tmpfs", "tmpfs", "size=1m"));
        if (!setup_ok(s, &o, true))
                return;
        check(is_fs(inside, TMPFS_MAGIC), "the link resolved inside the rootfs (%s)", inside);
        check(is_fs(top, TMPFS_MAGIC), "../../.. stayed in the rootfs (%s)", top);
}

static void child_expect_error(const struct fixture *fx, void *arg)
{
        const struct spec *s = arg;
        struct rootfs_opts o = opts_for(fx);
        struct error err = ERROR_INIT;
        int r;

        r = rootfs_setup(s, &o, &err);
        if (r >= 0)
                r = rootfs_finalize(s, &o, &err);
        dprintf(result_fd, "%d %d %s\n", 1, -r, err.msg ? err.msg : "");
        error_clear(&err);
}

/* Run a config expected to fail; the error code and message come back. */
static void expect_error(const char *name, struct fixture *fx, struct spec *s, int code, const char *substr)
{
        int p[2], status;
        char buf[1024] = "";
        ssize_t n;
        pid_t pid;
        int got = 0;
        char *msg = buf;

        if (pipe2(p, O_CLOEXEC) < 0)
                exit(1);
        fflush(stdout);
        pid = fork();
        if (pid == 0) {
                close(p[0]);
                result_fd = p[1];
                if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
                        _exit(1);
                child_expect_error(fx, s);
                _exit(0);
        }
        close(p[1]);
        n = read(p[0], buf, sizeof(buf) - 1);
        close(p[0]);
        (void) waitpid(pid, &status, 0);
        if (n > 0) {
                buf[n] = 0;
                buf[strcspn(buf, "\n")] = 0;
                (void) sscanf(buf, "1 %d", &got);
                msg = strchr(buf + 2, ' ');
                msg = msg ? msg + 1 : buf;
        }
        {
                _cleanup_free_ char *t = xasprintf("%s: fails with %s (got %s: %s)", name, strerror(code),
                                                   got ? strerror(got) : "success", msg);
                tap(got == code && strstr(msg, substr), t);
        }
}

/* Binds: relative source from the bundle, read-only, a file bind. */
static void child_binds(const struct fixture *fx, void *arg)
{
        struct spec *s = spec_new();
        struct rootfs_opts o = opts_for(fx);
        char buf[64] = "";
        int fd;

        (void) arg;
        add_mount(s, M("/proc", "proc", "proc", NULL));
        add_mount(s, M("/mnt/vol", "bind", "vol", "rbind,ro,nosuid"));
        add_mount(s, M("/etc/hostfile", "none", "vol/file", "bind"));
        add_mount(s, M("/mnt/rw", NULL, "vol", "rbind,rprivate"));
        add_mount(s, M("/mnt/copy", "tmpfs", "tmpfs", "tmpcopyup,size=1m"));
        if (!setup_ok(s, &o, true))
                return;
        fd = open("/mnt/vol/file", O_RDONLY | O_CLOEXEC);
        check(fd >= 0 && read(fd, buf, sizeof(buf) - 1) > 0 && strcmp(buf, "hello\n") == 0,
              "relative bind source read (%s)", buf);
        if (fd >= 0)
                close(fd);
        check(is_ro("/mnt/vol") && open("/mnt/vol/new", O_WRONLY | O_CREAT | O_CLOEXEC, 0644) < 0 &&
                      errno == EROFS, "ro bind refuses writes");
        {
                struct statvfs sv;
                check(statvfs("/mnt/vol", &sv) == 0 && (sv.f_flag & ST_NOSUID), "nosuid on the bind");
        }
        check(!is_ro("/mnt/rw"), "rw bind stays writable");
        {
                struct stat st;
                check(stat("/etc/hostfile", &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 6,
                      "file bind onto a created file");
                check(is_fs("/mnt/copy", TMPFS_MAGIC), "tmpcopyup mounted a tmpfs");
                check(stat("/mnt/copy/sub/data", &st) == 0 && (st.st_mode & 07777) == 0640 && st.st_uid == 123,
                      "tmpcopyup kept file, mode and owner");
                check(link_is("/mnt/copy/link", "sub/data"), "tmpcopyup kept the symlink");
                check(stat("/mnt/copy", &st) == 0 && (st.st_mode & 07777) == 0750, "tmpcopyup kept the root mode");
        }
}

static void child_no_pivot(const struct fixture *fx, void *arg)
{
        struct spec *s = spec_new();
        struct rootfs_opts o = opts_for(fx);

        (void) arg;
        add_default_mounts(s);
        o.no_pivot = true;
        if (!setup_ok(s, &o, true))
                return;
        check(access("/etc/passwd", F_OK) == 0 && access(fx->base, F_OK) < 0, "chrooted into the rootfs");
        check(is_fs("/proc", PROC_SUPER_MAGIC) && is_chr("/dev/null", 1, 3), "mounts and devices present");
        check(run_busybox("true") == 0, "exec busybox");
}

/* The image's /dev (no /dev mount): a planted /dev/null symlink is
 * replaced by the real node, /etc/passwd stays untouched; a config
 * device too. */
static void child_image_dev(const struct fixture *fx, void *arg)
{
        struct spec *s = spec_new();
        struct rootfs_opts o = opts_for(fx);
        struct stat st;

        (void) arg;
        add_mount(s, M("/proc", "proc", "proc", NULL));
        s->linux_.devices = xzalloc(sizeof(struct spec_device) * 2);
        s->linux_.devices[0] = (struct spec_device){ .path = xstrdup("/dev/sub/fuse"), .type = 'c', .major = 10,
                                                     .minor = 229, .has_file_mode = true, .file_mode = 0600,
                                                     .has_uid = true, .uid = 7, .has_gid = true, .gid = 8 };
        s->linux_.devices[1] = (struct spec_device){ .path = xstrdup("/dev/fifo"), .type = 'p' };
        s->linux_.n_devices = 2;
        s->linux_.masked_paths = split("/proc/timer_list");
        if (!setup_ok(s, &o, true))
                return;
        check(is_chr("/dev/null", 1, 3) && lstat("/dev/null", &st) == 0 && !S_ISLNK(st.st_mode),
              "planted /dev/null symlink replaced by the device");
        check(lstat("/etc/passwd", &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0, "/etc/passwd untouched");
        check(lstat("/dev/sub/fuse", &st) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == makedev(10, 229) &&
                      (st.st_mode & 07777) == 0600 && st.st_uid == 7 && st.st_gid == 8,
              "linux.devices entry with mode and owner");
        check(lstat("/dev/fifo", &st) == 0 && S_ISFIFO(st.st_mode), "fifo device");
        check(access("/dev/ptmx", F_OK) < 0, "no /dev/ptmx without devpts");
        check(is_chr("/proc/timer_list", 1, 3), "masking uses the real /dev/null");
}

static void child_console(const struct fixture *fx, void *arg)
{
        struct spec *s = spec_new();
        struct rootfs_opts o = opts_for(fx);
        struct error err = ERROR_INIT;
        struct stat a, b;
        int master, slave, r;

        (void) arg;
        add_default_mounts(s);
        o.has_terminal = true;
        if (!setup_ok(s, &o, true))
                return;
        master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
        check(master >= 0 && grantpt(master) == 0 && unlockpt(master) == 0, "pty from the container's devpts");
        if (master < 0)
                return;
        slave = open(ptsname(master), O_RDWR | O_NOCTTY | O_CLOEXEC);
        r = rootfs_setup_console(slave, &err);
        check(r >= 0, "rootfs_setup_console: %s", r >= 0 ? "ok" : err.msg);
        check(fstat(slave, &a) == 0 && stat("/dev/console", &b) == 0 && a.st_rdev == b.st_rdev &&
                      S_ISCHR(b.st_mode),
              "/dev/console is the pty");
        error_clear(&err);
}

/* Without a mount namespace of its own the container only changes root:
 * nothing is mounted (that would land in the host's namespace). */
static void child_no_mntns(const struct fixture *fx, void *arg)
{
        struct spec *s = spec_new();
        struct rootfs_opts o = opts_for(fx);
        struct error err = ERROR_INIT;
        int r;

        (void) arg;
        add_default_mounts(s);
        o.new_mntns = false;
        r = rootfs_setup(s, &o, &err);
        check(r >= 0, "rootfs_setup without a mount namespace: %s", r >= 0 ? "ok" : err.msg);
        check(access("/bin/busybox", X_OK) == 0, "root changed to the rootfs");
        check(access("/proc/self", F_OK) < 0, "no mounts made (no /proc)");
        error_clear(&err);
        spec_free(s);
}

/* /dev bound from the host (no device setup) holding a hostile console
 * symlink: rootfs_setup_console refuses to follow it. */
static void child_console_link(const struct fixture *fx, void *arg)
{
        struct spec *s = spec_new();
        struct rootfs_opts o = opts_for(fx);
        struct error err = ERROR_INIT;
        int r;

        (void) arg;
        add_mount(s, M("/proc", "proc", "proc", NULL));
        add_mount(s, M("/dev", "bind", "fakedev", "rbind"));
        if (!setup_ok(s, &o, false))
                return;
        r = rootfs_setup_console(0, &err);
        check(r == -EPERM || r == -ELOOP, "symlinked /dev/console refused: %s", err.msg ? err.msg : "accepted");
        error_clear(&err);
}

static void child_propagation(const struct fixture *fx, void *arg)
{
        struct spec *s = spec_new();
        struct rootfs_opts o = opts_for(fx);
        FILE *f;
        char line[1024];
        bool shared = false;

        (void) arg;
        add_mount(s, M("/proc", "proc", "proc", NULL));
        s->linux_.rootfs_propagation = xstrdup("rshared");
        if (!setup_ok(s, &o, true))
                return;
        f = fopen("/proc/self/mountinfo", "re");
        while (f && fgets(line, sizeof(line), f)) {
                char mp[512];
                if (sscanf(line, "%*s %*s %*s %*s %511s", mp) == 1 && strcmp(mp, "/") == 0)
                        shared = strstr(line, " shared:") != NULL;
        }
        if (f)
                fclose(f);
        check(shared, "/ is shared after rootfsPropagation rshared");
}

static void child_idmap(const struct fixture *fx, void *arg)
{
        struct spec *s = spec_new();
        struct rootfs_opts o = opts_for(fx);
        struct spec_mount m = M("/mnt/idm", "bind", "idsrc", "bind,idmap");
        struct stat st;

        (void) arg;
        m.uid_mappings = xzalloc(sizeof(struct spec_id_mapping));
        m.gid_mappings = xzalloc(sizeof(struct spec_id_mapping));
        m.uid_mappings[0] = (struct spec_id_mapping){ 0, 1000, 1 };
        m.gid_mappings[0] = (struct spec_id_mapping){ 0, 2000, 1 };
        m.n_uid_mappings = m.n_gid_mappings = 1;
        add_mount(s, M("/proc", "proc", "proc", NULL));
        add_mount(s, m);
        if (!setup_ok(s, &o, true))
                return;
        if (stat("/mnt/idm/owned", &st) < 0)
                st.st_uid = st.st_gid = (unsigned) -1;
        check(st.st_uid == 1000 && st.st_gid == 2000, "idmapped bind shows 0:0 as %u:%u", (unsigned) st.st_uid,
              (unsigned) st.st_gid);
}

/* In a user namespace (maps written by our parent), with new pid and ipc
 * namespaces but the host's network namespace: devices are bind-mounted,
 * sysfs falls back to a bind of the host's /sys. */
static void userns_grandchild(const struct fixture *fx)
{
        struct spec *s = spec_new();
        struct rootfs_opts o = opts_for(fx);
        struct stat st;

        add_default_mounts(s);
        s->linux_.masked_paths = split("/proc/timer_list");
        s->linux_.readonly_paths = split("/proc/sys");
        o.new_userns = true;
        if (!setup_ok(s, &o, true))
                return;
        check(is_chr("/dev/null", 1, 3) && stat("/dev/null", &st) == 0, "host /dev/null bound in");
        check(is_fs("/sys", SYSFS_MAGIC) && is_ro("/sys"), "/sys via the host bind, read-only");
        check(is_fs("/proc", PROC_SUPER_MAGIC) && getpid() == 1, "own procfs as pid 1");
        check(is_chr("/proc/timer_list", 1, 3), "masked in a user namespace");
        check(run_busybox("true") == 0, "exec busybox");
}

static void child_userns(const struct fixture *fx, void *arg)
{
        int ready[2], go[2], status;
        char c = 0;
        pid_t pid;

        (void) arg;
        if (pipe(ready) < 0 || pipe(go) < 0)
                _exit(1);
        pid = fork();
        if (pid == 0) {
                pid_t inner;

                if (unshare(CLONE_NEWUSER) < 0) {
                        check(false, "unshare user: %m");
                        _exit(1);
                }
                (void) !write(ready[1], "x", 1);
                if (read(go[0], &c, 1) != 1 || setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0 ||
                    unshare(CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC) < 0 ||
                    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
                        check(false, "enter namespaces: %m");
                        _exit(1);
                }
                inner = fork();
                if (inner == 0) {
                        userns_grandchild(fx);
                        _exit(0);
                }
                _exit(inner > 0 && waitpid(inner, &status, 0) > 0 && WIFEXITED(status) ? WEXITSTATUS(status) : 1);
        }
        if (pid < 0 || read(ready[0], &c, 1) != 1)
                _exit(1);
        {
                _cleanup_free_ char *u = xasprintf("/proc/%d/uid_map", pid), *g = xasprintf("/proc/%d/gid_map", pid);
                write_text(u, "0 0 65536\n", 0);
                write_text(g, "0 0 65536\n", 0);
        }
        (void) !write(go[1], "x", 1);
        (void) waitpid(pid, &status, 0);
        check(WIFEXITED(status) && WEXITSTATUS(status) == 0, "user namespace child exited cleanly");
}

/* Tests without privileges */

static void test_options(void)
{
        char **o = split("ro,nosuid,rro,rnodev,rbind,rprivate,mode=755,size=1k,x-foo,strictatime,tmpcopyup,sync");
        struct mount_options mo;
        struct error err = ERROR_INIT;
        unsigned long prop = 0;
        _cleanup_free_ char *c1 = mount_path_clean("//a/./b/../../../c/"), *c2 = mount_path_clean("../..");

        tap(mount_options_parse(o, &mo, &err) == 0, "options parse");
        tap(mo.attr_set == (MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_STRICTATIME) &&
                    (mo.attr_clr & MOUNT_ATTR__ATIME),
            "top-level attributes");
        tap(mo.rattr_set == (MOUNT_ATTR_RDONLY | MOUNT_ATTR_NODEV), "recursive attributes");
        tap((mo.flags & (MOUNT_OPT_BIND | MOUNT_OPT_REC | MOUNT_OPT_TMPCOPYUP)) ==
                    (MOUNT_OPT_BIND | MOUNT_OPT_REC | MOUNT_OPT_TMPCOPYUP),
            "rbind and tmpcopyup flags");
        tap(mo.propagation == (MS_PRIVATE | MS_REC), "propagation rprivate");
        tap(mo.sb_flags == MS_SYNCHRONOUS, "superblock flag sync");
        tap(mo.data && strcmp(mo.data, "mode=755,size=1k") == 0, "data keeps the rest, drops x-");
        mount_options_clear(&mo);
        tap(mount_propagation_parse("rslave", &prop) == 0 && prop == (MS_SLAVE | MS_REC), "rslave");
        tap(mount_propagation_parse("bogus", &prop) == -EINVAL, "unknown propagation");
        tap(strcmp(c1, "/c") == 0 && strcmp(c2, "/") == 0, "path clean");
        {
                struct spec_mount m = M("/x", "none", "/y", "rbind");
                struct spec_mount t = M("/x", "tmpfs", "tmpfs", "size=1k");
                tap(mount_is_bind(&m) && !mount_is_bind(&t), "bind detection");
                for (struct spec_mount *x = &m; x; x = x == &m ? &t : NULL) {
                        free(x->destination);
                        free(x->type);
                        free(x->source);
                        strv_free(x->options);
                }
        }
        strv_free(o);
}

static void hostile_specs(struct fixture *fx)
{
        struct spec *s;

        /* each config is freed after its run */

        s = spec_new();
        add_mount(s, M("/loop1/x", "tmpfs", "tmpfs", NULL));
        expect_error("symlink loop", fx, s, ELOOP, "mounts[0] (/loop1/x)");
        spec_free(s);

        s = spec_new();
        add_mount(s, M("/proc", "proc", "proc", NULL));
        add_mount(s, M("/dev", "bind", "fakedev", "rbind"));
        s->linux_.masked_paths = split("/proc/timer_list");
        expect_error("masking with a /dev/null symlink to /etc/passwd", fx, s, EPERM,
                     "/dev/null is not the null device");
        spec_free(s);

        s = spec_new();
        add_mount(s, M("/procl", "proc", "proc", NULL));
        expect_error("proc through a symlink", fx, s, EPERM, "mounts[0] (/procl): destination goes through");
        spec_free(s);

        s = spec_new();
        add_mount(s, M("/proc", "proc", "proc", NULL));
        add_mount(s, M("/evilproc/sys", "tmpfs", "tmpfs", NULL));
        expect_error("tmpfs into /proc via a symlink", fx, s, EPERM, "only procfs may be mounted in /proc");
        spec_free(s);

        s = spec_new();
        add_mount(s, M("/x", "nosuchfs", "none", NULL));
        expect_error("unknown filesystem", fx, s, ENODEV, "mounts[0] (/x): fsopen `nosuchfs`");
        spec_free(s);

        s = spec_new();
        add_mount(s, M("/dev/pts", "devpts", "devpts", "newinstance,bogusopt=1"));
        expect_error("bad devpts option", fx, s, EINVAL, "mounts[0] (/dev/pts): ");
        spec_free(s);

        s = spec_new();
        add_mount(s, M("/x", "bind", "does-not-exist", "bind"));
        expect_error("missing bind source", fx, s, ENOENT, "open source `does-not-exist`");
        spec_free(s);

        s = spec_new();
        s->linux_.rootfs_propagation = xstrdup("sideways");
        expect_error("bad rootfsPropagation", fx, s, EINVAL, "linux.rootfsPropagation");
        spec_free(s);

        s = spec_new();
        add_mount(s, M("/proc", "proc", "proc", NULL));
        s->linux_.sysctl = xzalloc(sizeof(struct spec_kv));
        s->linux_.sysctl[0] = (struct spec_kv){ xstrdup("kernel..hostname"), xstrdup("x") };
        s->linux_.n_sysctl = 1;
        expect_error("sysctl key with ..", fx, s, EINVAL, "linux.sysctl: invalid key");
        spec_free(s);
}

static void prepare_hostile(struct fixture *fx)
{
        _cleanup_free_ char *fakedev = xasprintf("%s/fakedev", fx->base), *null = xasprintf("%s/null", fakedev);
        _cleanup_free_ char *con = xasprintf("%s/console", fakedev);

        fx_symlink(fx, "/etc", "evil");
        fx_symlink(fx, "loop2", "loop1");
        fx_symlink(fx, "loop1", "loop2");
        fx_symlink(fx, "/proc", "evilproc");
        fx_symlink(fx, "/fakeproc", "procl");
        fx_mkdir(fx, "fakeproc");
        (void) mkdir(fakedev, 0755);
        if (symlink("/etc/passwd", null) < 0 || symlink("/etc/passwd", con) < 0)
                exit(1);
}

static void prepare_binds(struct fixture *fx)
{
        _cleanup_free_ char *vol = xasprintf("%s/vol", fx->base), *file = xasprintf("%s/vol/file", fx->base);
        _cleanup_free_ char *copy = fx_path(fx, "mnt/copy"), *sub = fx_path(fx, "mnt/copy/sub");
        _cleanup_free_ char *data = fx_path(fx, "mnt/copy/sub/data"), *lnk = fx_path(fx, "mnt/copy/link");

        (void) mkdir(vol, 0755);
        write_text(file, "hello\n", 0644);
        (void) mkdir(copy, 0750);
        (void) chmod(copy, 0750);
        (void) mkdir(sub, 0755);
        write_text(data, "payload", 0640);
        (void) chmod(data, 0640);
        (void) chown(data, 123, 0);
        (void) !symlink("sub/data", lnk);
}

static void prepare_image_dev(struct fixture *fx)
{
        fx_symlink(fx, "/etc/passwd", "dev/null");
}

static void prepare_idmap(struct fixture *fx)
{
        _cleanup_free_ char *d = xasprintf("%s/idsrc", fx->base), *f = xasprintf("%s/idsrc/owned", fx->base);

        (void) mkdir(d, 0755);
        write_text(f, "x", 0644);
        (void) chown(f, 0, 0);
}

static void with_fixture(const char *name, void (*prep)(struct fixture *), child_fn fn, void *arg, int ns)
{
        struct fixture fx;

        fx_init(&fx);
        if (prep)
                prep(&fx);
        run_child(name, &fx, fn, arg, ns);
        fx_done(&fx);
}

static void test_escape(void)
{
        struct fixture fx;
        char name[64];
        _cleanup_free_ char *host_etc = NULL, *host_top = NULL, *in_etc = NULL, *in_top = NULL;

        fx_init(&fx);
        prepare_hostile(&fx);
        snprintf(name, sizeof(name), "berth-escape-%d", (int) getpid());
        host_etc = xasprintf("/etc/%s", name);
        host_top = xasprintf("/%s", name);
        in_etc = xasprintf("%s/etc/%s", fx.rootfs, name);
        in_top = xasprintf("%s/%s", fx.rootfs, name);
        run_child("absolute symlink and ../../..", &fx, child_evil_link, name, 0);
        tap(access(host_etc, F_OK) < 0 && access(host_top, F_OK) < 0, "nothing created on the host");
        tap(access(in_etc, F_OK) == 0 && access(in_top, F_OK) == 0, "mount points created in the rootfs");
        fx_done(&fx);
}

int main(void)
{
        struct fixture fx;

        /* the component walk instead of openat2 (as under seccomp) */
        if (getenv("BERTH_TEST_NO_OPENAT2"))
                chase_no_openat2 = true;
        test_options();
        if (geteuid() != 0) {
                n_test++;
                printf("ok %d # SKIP mount tests need root\n1..%d\n", n_test, n_test);
                return 0;
        }
        with_fixture("default config", NULL, child_default, NULL, CLONE_NEWUTS);
        test_escape();
        fx_init(&fx);
        prepare_hostile(&fx);
        hostile_specs(&fx);
        run_child("hostile /dev/console", &fx, child_console_link, NULL, 0);
        fx_done(&fx);
        with_fixture("binds and tmpcopyup", prepare_binds, child_binds, NULL, 0);
        with_fixture("cgroup namespace", NULL, child_cgroupns, NULL, CLONE_NEWCGROUP);
        with_fixture("no pivot", NULL, child_no_pivot, NULL, 0);
        with_fixture("no mount namespace", NULL, child_no_mntns, NULL, 0);
        with_fixture("image /dev", prepare_image_dev, child_image_dev, NULL, 0);
        with_fixture("console", NULL, child_console, NULL, 0);
        with_fixture("rshared", NULL, child_propagation, NULL, 0);
        with_fixture("idmap", prepare_idmap, child_idmap, NULL, 0);
        with_fixture("user namespace", NULL, child_userns, NULL, 0);
        printf("1..%d\n", n_test);
        return n_fail ? 1 : 0;
}
