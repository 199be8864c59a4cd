/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The default seccomp profile, equivalent to Docker's: an allow list with
 * EPERM for everything else, some syscalls allowed only with the
 * capability that makes them meaningful, clone without namespace flags,
 * clone3 answered with ENOSYS so that libcs fall back to clone (whose
 * flags the filter can see), personality limited to harmless domains.
 * Also the reader of user-supplied profiles in OCI or Docker format.
 *
 * Names unknown to the libseccomp a runtime is built with are skipped by
 * berth-runtime, runc and crun alike, so the lists name syscalls newer
 * than libseccomp 2.5.4 too (cachestat, fchmodat2, futex_wake...): the
 * profile keeps working when the runtime is rebuilt. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/utsname.h>

#include "engine/ocispec-internal.h"

#define EPERM_RET 1
#define ENOSYS_RET 38
#define CLONE_NS_FLAGS 0x7E020000ULL /* CLONE_NEWNS|NEWCGROUP|NEWUTS|NEWIPC|NEWUSER|NEWPID|NEWNET */

enum {
        ARCH_AMD64 = 1 << 0,
        ARCH_386 = 1 << 1,
        ARCH_ARM64 = 1 << 2,
        ARCH_ARM = 1 << 3,
        ARCH_S390X = 1 << 4,
        ARCH_PPC64LE = 1 << 5,
        ARCH_RISCV64 = 1 << 6,
        ARCH_OTHER = 1 << 7,
};

/* The native architecture: its bit, its Go name (Docker profiles' "arches")
 * and the libseccomp architectures of the filter (native first, then the
 * compat ones its kernel runs). */
#if defined(__x86_64__) && defined(__ILP32__)
#define NATIVE_ARCH ARCH_OTHER
#define NATIVE_GO "x32"
#define NATIVE_SCMP "SCMP_ARCH_X32", "SCMP_ARCH_X86_64", "SCMP_ARCH_X86"
#elif defined(__x86_64__)
#define NATIVE_ARCH ARCH_AMD64
#define NATIVE_GO "amd64"
#define NATIVE_SCMP "SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"
#elif defined(__i386__)
#define NATIVE_ARCH ARCH_386
#define NATIVE_GO "386"
#define NATIVE_SCMP "SCMP_ARCH_X86"
#elif defined(__aarch64__)
#define NATIVE_ARCH ARCH_ARM64
#define NATIVE_GO "arm64"
#define NATIVE_SCMP "SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"
#elif defined(__arm__)
#define NATIVE_ARCH ARCH_ARM
#define NATIVE_GO "arm"
#define NATIVE_SCMP "SCMP_ARCH_ARM"
#elif defined(__s390x__)
#define NATIVE_ARCH ARCH_S390X
#define NATIVE_GO "s390x"
#define NATIVE_SCMP "SCMP_ARCH_S390X", "SCMP_ARCH_S390"
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define NATIVE_ARCH ARCH_PPC64LE
#define NATIVE_GO "ppc64le"
#define NATIVE_SCMP "SCMP_ARCH_PPC64LE"
#elif defined(__riscv) && __riscv_xlen == 64
#define NATIVE_ARCH ARCH_RISCV64
#define NATIVE_GO "riscv64"
#define NATIVE_SCMP "SCMP_ARCH_RISCV64"
#else
#define NATIVE_ARCH ARCH_OTHER
#define NATIVE_GO "unknown"
#define NATIVE_SCMP NULL
#endif

static const char *const native_scmp[] = { NATIVE_SCMP, NULL };

/* Allowed to every container: what ordinary programs need, none of which
 * reaches beyond the container's namespaces and cgroup. */
static const char *const allow_base[] = {
        "accept", "accept4", "access", "adjtimex", "alarm", "bind", "brk", "cachestat", "capget", "capset",
        "chdir", "chmod", "chown", "chown32", "clock_adjtime", "clock_adjtime64", "clock_getres",
        "clock_getres_time64", "clock_gettime", "clock_gettime64", "clock_nanosleep", "clock_nanosleep_time64",
        "close", "close_range", "connect", "copy_file_range", "creat", "dup", "dup2", "dup3", "epoll_create",
        "epoll_create1", "epoll_ctl", "epoll_ctl_old", "epoll_pwait", "epoll_pwait2", "epoll_wait",
        "epoll_wait_old", "eventfd", "eventfd2", "execve", "execveat", "exit", "exit_group", "faccessat",
        "faccessat2", "fadvise64", "fadvise64_64", "fallocate", "fanotify_mark", "fchdir", "fchmod", "fchmodat",
        "fchmodat2", "fchown", "fchown32", "fchownat", "fcntl", "fcntl64", "fdatasync", "fgetxattr",
        "flistxattr", "flock", "fork", "fremovexattr", "fsetxattr", "fstat", "fstat64", "fstatat64", "fstatfs",
        "fstatfs64", "fsync", "ftruncate", "ftruncate64", "futex", "futex_requeue", "futex_time64",
        "futex_wait", "futex_waitv", "futex_wake", "futimesat", "getcpu", "getcwd", "getdents", "getdents64",
        "getegid", "getegid32", "geteuid", "geteuid32", "getgid", "getgid32", "getgroups", "getgroups32",
        "getitimer", "getpeername", "getpgid", "getpgrp", "getpid", "getppid", "getpriority", "getrandom",
        "getresgid", "getresgid32", "getresuid", "getresuid32", "getrlimit", "get_robust_list", "getrusage",
        "getsid", "getsockname", "getsockopt", "get_thread_area", "gettid", "gettimeofday", "getuid",
        "getuid32", "getxattr", "inotify_add_watch", "inotify_init", "inotify_init1", "inotify_rm_watch",
        "io_cancel", "ioctl", "io_destroy", "io_getevents", "io_pgetevents", "io_pgetevents_time64",
        "ioprio_get", "ioprio_set", "io_setup", "io_submit", "ipc", "kill", "landlock_add_rule",
        "landlock_create_ruleset", "landlock_restrict_self", "lchown", "lchown32", "lgetxattr", "link",
        "linkat", "listen", "listxattr", "llistxattr", "_llseek", "lremovexattr", "lseek", "lsetxattr", "lstat",
        "lstat64", "madvise", "map_shadow_stack", "membarrier", "memfd_create", "memfd_secret", "mincore",
        "mkdir", "mkdirat", "mknod", "mknodat", "mlock", "mlock2", "mlockall", "mmap", "mmap2", "mprotect",
        "mq_getsetattr", "mq_notify", "mq_open", "mq_timedreceive", "mq_timedreceive_time64", "mq_timedsend",
        "mq_timedsend_time64", "mq_unlink", "mremap", "msgctl", "msgget", "msgrcv", "msgsnd", "msync",
        "munlock", "munlockall", "munmap", "name_to_handle_at", "nanosleep", "newfstatat", "_newselect", "open",
        "openat", "openat2", "pause", "pidfd_open", "pidfd_send_signal", "pipe", "pipe2", "pkey_alloc",
        "pkey_free", "pkey_mprotect", "poll", "ppoll", "ppoll_time64", "prctl", "pread64", "preadv", "preadv2",
        "prlimit64", "process_mrelease", "pselect6", "pselect6_time64", "pwrite64", "pwritev", "pwritev2",
        "read", "readahead", "readlink", "readlinkat", "readv", "recv", "recvfrom", "recvmmsg",
        "recvmmsg_time64", "recvmsg", "remap_file_pages", "removexattr", "rename", "renameat", "renameat2",
        "restart_syscall", "rmdir", "rseq", "rt_sigaction", "rt_sigpending", "rt_sigprocmask",
        "rt_sigqueueinfo", "rt_sigreturn", "rt_sigsuspend", "rt_sigtimedwait", "rt_sigtimedwait_time64",
        "rt_tgsigqueueinfo", "sched_getaffinity", "sched_getattr", "sched_getparam", "sched_get_priority_max",
        "sched_get_priority_min", "sched_getscheduler", "sched_rr_get_interval", "sched_rr_get_interval_time64",
        "sched_setaffinity", "sched_setattr", "sched_setparam", "sched_setscheduler", "sched_yield", "seccomp",
        "select", "semctl", "semget", "semop", "semtimedop", "semtimedop_time64", "send", "sendfile",
        "sendfile64", "sendmmsg", "sendmsg", "sendto", "setfsgid", "setfsgid32", "setfsuid", "setfsuid32",
        "setgid", "setgid32", "setgroups", "setgroups32", "setitimer", "setpgid", "setpriority", "setregid",
        "setregid32", "setresgid", "setresgid32", "setresuid", "setresuid32", "setreuid", "setreuid32",
        "setrlimit", "set_robust_list", "setsid", "setsockopt", "set_thread_area", "set_tid_address", "setuid",
        "setuid32", "setxattr", "shmat", "shmctl", "shmdt", "shmget", "shutdown", "sigaltstack", "signalfd",
        "signalfd4", "sigprocmask", "sigreturn", "socket", "socketcall", "socketpair", "splice", "stat",
        "stat64", "statfs", "statfs64", "statx", "symlink", "symlinkat", "sync", "sync_file_range", "syncfs",
        "sysinfo", "tee", "tgkill", "time", "timer_create", "timer_delete", "timer_getoverrun",
        "timer_gettime", "timer_gettime64", "timer_settime", "timer_settime64", "timerfd_create",
        "timerfd_gettime", "timerfd_gettime64", "timerfd_settime", "timerfd_settime64", "times", "tkill",
        "truncate", "truncate64", "ugetrlimit", "umask", "uname", "unlink", "unlinkat", "uretprobe", "utime",
        "utimensat", "utimensat_time64", "utimes", "vfork", "vmsplice", "wait4", "waitid", "waitpid", "write",
        "writev",
        NULL,
};

#define NAMES(...) ((const char *const[]) { __VA_ARGS__, NULL })

struct rule {
        const char *const *names;
        const char *cap;     /* only with this capability */
        const char *no_cap;  /* only without it */
        unsigned arches;     /* only on these native architectures (0: all) */
        unsigned no_arches;  /* not on these */
        unsigned min_kernel; /* major << 16 | minor, 0: any */
        unsigned errno_ret;  /* 0: allow, else SCMP_ACT_ERRNO with this */
        bool has_arg;        /* one condition on an argument: */
        unsigned index;
        uint64_t value, value_two;
        const char *op;
};

#define PERSONALITY(v) \
        { .names = NAMES("personality"), .has_arg = true, .index = 0, .value = (v), .op = "SCMP_CMP_EQ" }

static const struct rule default_rules[] = {
        { .names = allow_base },
        /* PER_LINUX, UNAME26, PER_LINUX32, UNAME26|PER_LINUX32 and the query 0xffffffff: not
         * READ_IMPLIES_EXEC or ADDR_NO_RANDOMIZE, which weaken the process */
        PERSONALITY(0x0),
        PERSONALITY(0x0008),
        PERSONALITY(0x20000),
        PERSONALITY(0x20008),
        PERSONALITY(0xffffffff),
        { .names = NAMES("sync_file_range2", "swapcontext"), .arches = ARCH_PPC64LE },
        { .names = NAMES("arm_fadvise64_64", "arm_sync_file_range", "sync_file_range2", "breakpoint",
                         "cacheflush", "set_tls"),
          .arches = ARCH_ARM | ARCH_ARM64 },
        { .names = NAMES("arch_prctl"), .arches = ARCH_AMD64 },
        { .names = NAMES("modify_ldt"), .arches = ARCH_AMD64 | ARCH_386 },
        { .names = NAMES("s390_pci_mmio_read", "s390_pci_mmio_write", "s390_runtime_instr"), .arches = ARCH_S390X },
        { .names = NAMES("riscv_flush_icache"), .arches = ARCH_RISCV64 },
        /* ptrace is safe since Linux 4.8 moved the seccomp check after the tracer's changes */
        { .names = NAMES("process_vm_readv", "process_vm_writev", "ptrace"), .min_kernel = 4 << 16 | 8 },
        { .names = NAMES("open_by_handle_at"), .cap = "CAP_DAC_READ_SEARCH" },
        { .names = NAMES("bpf", "clone", "clone3", "fanotify_init", "fsconfig", "fsmount", "fsopen", "fspick",
                         "lookup_dcookie", "mount", "mount_setattr", "move_mount", "open_tree",
                         "perf_event_open", "pivot_root", "quotactl", "quotactl_fd", "setdomainname",
                         "sethostname", "setns", "syslog", "umount", "umount2", "unshare"),
          .cap = "CAP_SYS_ADMIN" },
        /* without CAP_SYS_ADMIN: clone, but no new namespaces (the flags are the second
         * argument on s390) */
        { .names = NAMES("clone"), .no_cap = "CAP_SYS_ADMIN", .no_arches = ARCH_S390X, .has_arg = true,
          .index = 0, .value = CLONE_NS_FLAGS, .value_two = 0, .op = "SCMP_CMP_MASKED_EQ" },
        { .names = NAMES("clone"), .no_cap = "CAP_SYS_ADMIN", .arches = ARCH_S390X, .has_arg = true,
          .index = 1, .value = CLONE_NS_FLAGS, .value_two = 0, .op = "SCMP_CMP_MASKED_EQ" },
        /* clone3 passes its flags in memory the filter cannot read: ENOSYS makes libcs use clone */
        { .names = NAMES("clone3"), .no_cap = "CAP_SYS_ADMIN", .errno_ret = ENOSYS_RET },
        { .names = NAMES("reboot"), .cap = "CAP_SYS_BOOT" },
        { .names = NAMES("chroot"), .cap = "CAP_SYS_CHROOT" },
        { .names = NAMES("delete_module", "init_module", "finit_module"), .cap = "CAP_SYS_MODULE" },
        { .names = NAMES("acct"), .cap = "CAP_SYS_PACCT" },
        { .names = NAMES("kcmp", "pidfd_getfd", "process_madvise", "process_vm_readv", "process_vm_writev",
                         "ptrace"),
          .cap = "CAP_SYS_PTRACE" },
        { .names = NAMES("iopl", "ioperm"), .cap = "CAP_SYS_RAWIO" },
        { .names = NAMES("settimeofday", "stime", "clock_settime", "clock_settime64"), .cap = "CAP_SYS_TIME" },
        { .names = NAMES("vhangup"), .cap = "CAP_SYS_TTY_CONFIG" },
        { .names = NAMES("get_mempolicy", "mbind", "set_mempolicy", "set_mempolicy_home_node"),
          .cap = "CAP_SYS_NICE" },
        { .names = NAMES("syslog"), .cap = "CAP_SYSLOG" },
        { .names = NAMES("bpf"), .cap = "CAP_BPF" },
        { .names = NAMES("perf_event_open"), .cap = "CAP_PERFMON" },
};

static bool caps_have(const char *const *caps, size_t n, const char *cap)
{
        for (size_t i = 0; i < n; i++)
                if (caps[i] && (strcasecmp(caps[i], cap) == 0 ||
                                (strncasecmp(cap, "CAP_", 4) == 0 && strcasecmp(caps[i], cap + 4) == 0)))
                        return true;
        return false;
}

/* The running kernel as major << 16 | minor. */
static unsigned kernel_version(void)
{
        struct utsname u;
        unsigned major = 0, minor = 0;

        if (uname(&u) < 0 || sscanf(u.release, "%u.%u", &major, &minor) < 1)
                return 0;
        return major << 16 | (minor & 0xffff);
}

static bool rule_applies(const struct rule *r, const char *const *caps, size_t n_caps, unsigned kernel)
{
        if (r->cap && !caps_have(caps, n_caps, r->cap))
                return false;
        if (r->no_cap && caps_have(caps, n_caps, r->no_cap))
                return false;
        if (r->arches && !(r->arches & NATIVE_ARCH))
                return false;
        if (r->no_arches & NATIVE_ARCH)
                return false;
        return !r->min_kernel || kernel >= r->min_kernel;
}

static bool array_has_string(json_object *a, const char *s)
{
        for (size_t i = 0; i < json_object_array_length(a); i++)
                if (streq(json_object_get_string(json_object_array_get_idx(a, i)), s))
                        return true;
        return false;
}

static json_object *rule_entry(const struct rule *r)
{
        json_object *e = json_object_new_object(), *names = json_object_new_array();

        for (const char *const *n = r->names; *n; n++)
                jarr_add_str(names, *n);
        json_object_object_add(e, "names", names);
        jobj_add_str(e, "action", r->errno_ret ? "SCMP_ACT_ERRNO" : "SCMP_ACT_ALLOW");
        if (r->errno_ret)
                jobj_add_int(e, "errnoRet", r->errno_ret);
        if (r->has_arg) {
                json_object *args = json_object_new_array(), *a = json_object_new_object();

                jobj_add_int(a, "index", r->index);
                json_object_object_add(a, "value", json_object_new_uint64(r->value));
                json_object_object_add(a, "valueTwo", json_object_new_uint64(r->value_two));
                jobj_add_str(a, "op", r->op);
                json_object_array_add(args, a);
                json_object_object_add(e, "args", args);
        }
        return e;
}

static json_object *profile_new(void)
{
        json_object *p = json_object_new_object(), *arches = json_object_new_array();

        jobj_add_str(p, "defaultAction", "SCMP_ACT_ERRNO");
        jobj_add_int(p, "defaultErrnoRet", EPERM_RET);
        for (const char *const *a = native_scmp; *a; a++)
                jarr_add_str(arches, *a);
        if (json_object_array_length(arches) > 0)
                json_object_object_add(p, "architectures", arches);
        else
                json_object_put(arches);
        return p;
}

json_object *ocispec_default_seccomp(const char *const *caps, size_t n_caps)
{
        json_object *p = profile_new(), *syscalls = json_object_new_array();
        json_object *allow = json_object_new_array(), *entry = json_object_new_object();
        unsigned kernel = kernel_version();

        /* the unconditional allows merge into one entry, each name once */
        json_object_object_add(entry, "names", allow);
        jobj_add_str(entry, "action", "SCMP_ACT_ALLOW");
        json_object_array_add(syscalls, entry);
        for (size_t i = 0; i < ELEMENTSOF(default_rules); i++) {
                const struct rule *r = &default_rules[i];

                if (!rule_applies(r, caps, n_caps, kernel))
                        continue;
                if (r->has_arg || r->errno_ret) {
                        json_object_array_add(syscalls, rule_entry(r));
                        continue;
                }
                for (const char *const *n = r->names; *n; n++)
                        if (!array_has_string(allow, *n))
                                jarr_add_str(allow, *n);
        }
        json_object_object_add(p, "syscalls", syscalls);
        return p;
}

/* ---- profiles given with --security-opt seccomp=FILE ---- */

static const char *const known_actions[] = {
        "SCMP_ACT_KILL",  "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_TRAP", "SCMP_ACT_ERRNO",
        "SCMP_ACT_TRACE", "SCMP_ACT_ALLOW",        "SCMP_ACT_LOG",         "SCMP_ACT_NOTIFY", NULL,
};

static const char *const known_ops[] = {
        "SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE", "SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT",
        "SCMP_CMP_MASKED_EQ", NULL,
};

static bool name_known(const char *s, const char *const *list)
{
        for (; s && *list; list++)
                if (strcmp(s, *list) == 0)
                        return true;
        return false;
}

static bool is_string_array(json_object *a)
{
        if (!json_object_is_type(a, json_type_array))
                return false;
        for (size_t i = 0; i < json_object_array_length(a); i++)
                if (!json_object_is_type(json_object_array_get_idx(a, i), json_type_string))
                        return false;
        return true;
}

static bool arch_listed(json_object *arches)
{
        for (size_t i = 0; i < json_object_array_length(arches); i++) {
                const char *a = json_object_get_string(json_object_array_get_idx(arches, i));

                if (streq(a, NATIVE_GO) || (NATIVE_ARCH == ARCH_386 && streq(a, "x86")))
                        return true;
        }
        return false;
}

/* Docker's "includes"/"excludes": does entry E apply? */
static bool filter_applies(json_object *e, const char *const *caps, size_t n_caps, unsigned kernel)
{
        json_object *inc = jobj_get(e, "includes"), *exc = jobj_get(e, "excludes"), *v;
        const char *mk = jobj_str(inc, "minKernel");
        unsigned major = 0, minor = 0;

        v = jobj_get(inc, "caps");
        for (size_t i = 0; is_string_array(v) && i < json_object_array_length(v); i++)
                if (!caps_have(caps, n_caps, json_object_get_string(json_object_array_get_idx(v, i))))
                        return false;
        v = jobj_get(exc, "caps");
        for (size_t i = 0; is_string_array(v) && i < json_object_array_length(v); i++)
                if (caps_have(caps, n_caps, json_object_get_string(json_object_array_get_idx(v, i))))
                        return false;
        v = jobj_get(inc, "arches");
        if (is_string_array(v) && json_object_array_length(v) > 0 && !arch_listed(v))
                return false;
        v = jobj_get(exc, "arches");
        if (is_string_array(v) && arch_listed(v))
                return false;
        if (mk && sscanf(mk, "%u.%u", &major, &minor) >= 1 && kernel < (major << 16 | minor))
                return false;
        return true;
}

static int convert_args(json_object *args, size_t i, json_object *out, struct error *err)
{
        json_object *list = json_object_new_array();

        json_object_object_add(out, "args", list);
        if (!json_object_is_type(args, json_type_array))
                return error_setx(err, EINVAL, "syscalls[%zu].args: expected an array", i);
        for (size_t k = 0; k < json_object_array_length(args); k++) {
                json_object *a = json_object_array_get_idx(args, k), *o;
                json_object *idx = jobj_get(a, "index"), *val = jobj_get(a, "value"), *two = jobj_get(a, "valueTwo");
                const char *op = jobj_str(a, "op");

                if (!json_object_is_type(idx, json_type_int) || json_object_get_int64(idx) < 0 ||
                    json_object_get_int64(idx) > 5)
                        return error_setx(err, EINVAL, "syscalls[%zu].args[%zu].index: expected 0 to 5", i, k);
                if (!json_object_is_type(val, json_type_int) || (two && !json_object_is_type(two, json_type_int)))
                        return error_setx(err, EINVAL, "syscalls[%zu].args[%zu].value: expected an integer", i, k);
                if (!name_known(op, known_ops))
                        return error_setx(err, EINVAL, "syscalls[%zu].args[%zu].op: unknown operator \"%s\"", i, k,
                                          op ? op : "");
                o = json_object_new_object();
                json_object_object_add(o, "index", json_object_get(idx));
                json_object_object_add(o, "value", json_object_get(val));
                if (two)
                        json_object_object_add(o, "valueTwo", json_object_get(two));
                jobj_add_str(o, "op", op);
                json_object_array_add(list, o);
        }
        return 0;
}

/* syscalls[I] of a profile as an OCI entry (*RET NULL when it does not apply). */
static int convert_syscall(json_object *e, size_t i, const char *const *caps, size_t n_caps, unsigned kernel,
                           json_object **ret, struct error *err)
{
        json_object *names = jobj_get(e, "names"), *eret = jobj_get(e, "errnoRet"), *out;
        const char *name = jobj_str(e, "name"), *action = jobj_str(e, "action");
        int r = 0;

        *ret = NULL;
        if (!json_object_is_type(e, json_type_object))
                return error_setx(err, EINVAL, "syscalls[%zu]: expected an object", i);
        if ((names && !is_string_array(names)) || (!names && !name))
                return error_setx(err, EINVAL, "syscalls[%zu].names: expected an array of strings", i);
        if (!name_known(action, known_actions))
                return error_setx(err, EINVAL, "syscalls[%zu].action: unknown action \"%s\"", i, action ? action : "");
        if (eret && !json_object_is_type(eret, json_type_int))
                return error_setx(err, EINVAL, "syscalls[%zu].errnoRet: expected an integer", i);
        if (!filter_applies(e, caps, n_caps, kernel))
                return 0;
        out = json_object_new_object();
        if (names)
                json_object_object_add(out, "names", json_object_get(names));
        else {
                json_object *one = json_object_new_array();

                jarr_add_str(one, name);
                json_object_object_add(out, "names", one);
        }
        jobj_add_str(out, "action", action);
        if (eret)
                json_object_object_add(out, "errnoRet", json_object_get(eret));
        if (jobj_get(e, "args"))
                r = convert_args(jobj_get(e, "args"), i, out, err);
        if (r < 0 || json_object_array_length(jobj_get(out, "names")) == 0) {
                json_object_put(out);
                return r;
        }
        *ret = out;
        return 0;
}

/* "architectures", or Docker's "archMap" entry of the native architecture. */
static void convert_arches(json_object *in, json_object *out)
{
        json_object *arches = jobj_get(in, "architectures"), *map = jobj_get(in, "archMap"), *list;

        if (is_string_array(arches)) {
                json_object_object_add(out, "architectures", json_object_get(arches));
                return;
        }
        for (size_t i = 0; json_object_is_type(map, json_type_array) && i < json_object_array_length(map); i++) {
                json_object *m = json_object_array_get_idx(map, i), *sub = jobj_get(m, "subArchitectures");
                const char *a = jobj_str(m, "architecture");

                if (!native_scmp[0] || !streq(a, native_scmp[0]))
                        continue;
                list = json_object_new_array();
                jarr_add_str(list, a);
                for (size_t k = 0; is_string_array(sub) && k < json_object_array_length(sub); k++)
                        json_object_array_add(list, json_object_get(json_object_array_get_idx(sub, k)));
                json_object_object_add(out, "architectures", list);
                return;
        }
}

static int convert_profile(json_object *in, const char *const *caps, size_t n_caps, json_object *out,
                           struct error *err)
{
        json_object *syscalls = jobj_get(in, "syscalls"), *list, *der;
        const char *def = jobj_str(in, "defaultAction");
        unsigned kernel = kernel_version();

        if (!name_known(def, known_actions))
                return error_setx(err, EINVAL, "defaultAction: unknown action \"%s\"", def ? def : "");
        jobj_add_str(out, "defaultAction", def);
        der = jobj_get(in, "defaultErrnoRet");
        if (der && !json_object_is_type(der, json_type_int))
                return error_setx(err, EINVAL, "defaultErrnoRet: expected an integer");
        if (der)
                json_object_object_add(out, "defaultErrnoRet", json_object_get(der));
        convert_arches(in, out);
        if (is_string_array(jobj_get(in, "flags")))
                json_object_object_add(out, "flags", json_object_get(jobj_get(in, "flags")));
        if (jobj_str(in, "listenerPath"))
                jobj_add_str(out, "listenerPath", jobj_str(in, "listenerPath"));
        if (jobj_str(in, "listenerMetadata"))
                jobj_add_str(out, "listenerMetadata", jobj_str(in, "listenerMetadata"));
        if (syscalls && !json_object_is_type(syscalls, json_type_array))
                return error_setx(err, EINVAL, "syscalls: expected an array");
        list = json_object_new_array();
        json_object_object_add(out, "syscalls", list);
        for (size_t i = 0; i < json_object_array_length(syscalls); i++) {
                json_object *e = NULL;
                int r = convert_syscall(json_object_array_get_idx(syscalls, i), i, caps, n_caps, kernel, &e, err);

                if (r < 0)
                        return r;
                if (e)
                        json_object_array_add(list, e);
        }
        return 0;
}

int ocispec_seccomp_from_text(const char *text, const char *const *caps, size_t n_caps, json_object **ret,
                              struct error *err)
{
        enum json_tokener_error jerr = json_tokener_success;
        json_object *in = json_tokener_parse_verbose(text, &jerr), *out;
        int r;

        if (!in)
                return error_setx(err, EINVAL, "decoding seccomp profile failed: %s", json_tokener_error_desc(jerr));
        if (!json_object_is_type(in, json_type_object)) {
                json_object_put(in);
                return error_setx(err, EINVAL, "decoding seccomp profile failed: expected a JSON object");
        }
        out = json_object_new_object();
        r = convert_profile(in, caps, n_caps, out, err);
        json_object_put(in);
        if (r < 0) {
                json_object_put(out);
                return error_prefix(err, "decoding seccomp profile failed");
        }
        *ret = out;
        return 0;
}
