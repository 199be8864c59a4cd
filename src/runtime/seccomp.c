/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <json-c/json.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include "basic/fileio.h"
#include "runtime/security.h"

#define SECCOMP_MAX_ARGS 6

struct seccomp_name {
        const char *name;
        uint32_t value;
};

static const struct seccomp_name seccomp_actions[] = {
        { "SCMP_ACT_KILL", SCMP_ACT_KILL },
        { "SCMP_ACT_KILL_PROCESS", SCMP_ACT_KILL_PROCESS },
        { "SCMP_ACT_KILL_THREAD", SCMP_ACT_KILL_THREAD },
        { "SCMP_ACT_TRAP", SCMP_ACT_TRAP },
        { "SCMP_ACT_ERRNO", SCMP_ACT_ERRNO(0) },
        { "SCMP_ACT_TRACE", SCMP_ACT_TRACE(0) },
        { "SCMP_ACT_ALLOW", SCMP_ACT_ALLOW },
        { "SCMP_ACT_LOG", SCMP_ACT_LOG },
        { "SCMP_ACT_NOTIFY", SCMP_ACT_NOTIFY },
};

static const struct seccomp_name seccomp_arches[] = {
        { "SCMP_ARCH_X86", SCMP_ARCH_X86 },
        { "SCMP_ARCH_X86_64", SCMP_ARCH_X86_64 },
        { "SCMP_ARCH_X32", SCMP_ARCH_X32 },
        { "SCMP_ARCH_ARM", SCMP_ARCH_ARM },
        { "SCMP_ARCH_AARCH64", SCMP_ARCH_AARCH64 },
        { "SCMP_ARCH_MIPS", SCMP_ARCH_MIPS },
        { "SCMP_ARCH_MIPS64", SCMP_ARCH_MIPS64 },
        { "SCMP_ARCH_MIPS64N32", SCMP_ARCH_MIPS64N32 },
        { "SCMP_ARCH_MIPSEL", SCMP_ARCH_MIPSEL },
        { "SCMP_ARCH_MIPSEL64", SCMP_ARCH_MIPSEL64 },
        { "SCMP_ARCH_MIPSEL64N32", SCMP_ARCH_MIPSEL64N32 },
        { "SCMP_ARCH_PPC", SCMP_ARCH_PPC },
        { "SCMP_ARCH_PPC64", SCMP_ARCH_PPC64 },
        { "SCMP_ARCH_PPC64LE", SCMP_ARCH_PPC64LE },
        { "SCMP_ARCH_S390", SCMP_ARCH_S390 },
        { "SCMP_ARCH_S390X", SCMP_ARCH_S390X },
        { "SCMP_ARCH_PARISC", SCMP_ARCH_PARISC },
        { "SCMP_ARCH_PARISC64", SCMP_ARCH_PARISC64 },
        { "SCMP_ARCH_RISCV64", SCMP_ARCH_RISCV64 },
};

/* Filter attributes set to 1 for each flag; 0 means the flag is accepted
 * and ignored. */
static const struct seccomp_name seccomp_flags[] = {
        { "SECCOMP_FILTER_FLAG_TSYNC", SCMP_FLTATR_CTL_TSYNC },
        { "SECCOMP_FILTER_FLAG_LOG", SCMP_FLTATR_CTL_LOG },
        { "SECCOMP_FILTER_FLAG_SPEC_ALLOW", SCMP_FLTATR_CTL_SSB },
#if SCMP_VER_MAJOR > 2 || (SCMP_VER_MAJOR == 2 && SCMP_VER_MINOR >= 6)
        { "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", SCMP_FLTATR_CTL_WAITKILL },
#else
        /* no attribute before libseccomp 2.6: seccomp_apply loads such a
         * filter itself (seccomp_load_raw) */
        { "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", 0 },
#endif
};

static const struct seccomp_name seccomp_ops[] = {
        { "SCMP_CMP_NE", SCMP_CMP_NE },
        { "SCMP_CMP_LT", SCMP_CMP_LT },
        { "SCMP_CMP_LE", SCMP_CMP_LE },
        { "SCMP_CMP_EQ", SCMP_CMP_EQ },
        { "SCMP_CMP_GE", SCMP_CMP_GE },
        { "SCMP_CMP_GT", SCMP_CMP_GT },
        { "SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ },
};

static const struct seccomp_name *seccomp_find(const struct seccomp_name *t, size_t n, const char *name)
{
        for (size_t i = 0; name && i < n; i++)
                if (strcmp(t[i].name, name) == 0)
                        return &t[i];
        return NULL;
}

#define SECCOMP_FIND(table, name) seccomp_find(table, ELEMENTSOF(table), name)

/* Resolve an action name; ERRNO and TRACE carry errnoRet (EPERM when
 * absent, as runc does for both).  PREFIX, ACTION_KEY and RET_KEY make
 * the JSON paths named in errors. */
static int seccomp_action(const char *prefix, const char *action_key, const char *ret_key, const char *name,
                          bool has_ret, unsigned ret, uint32_t *ret_action, struct error *err)
{
        const struct seccomp_name *a;

        if (!name)
                return error_setx(err, EINVAL, "%s.%s: missing", prefix, action_key);
        a = SECCOMP_FIND(seccomp_actions, name);
        if (!a)
                return error_setx(err, EINVAL, "%s.%s: unknown action \"%s\"", prefix, action_key, name);
        if (a->value == SCMP_ACT_ERRNO(0) || a->value == SCMP_ACT_TRACE(0)) {
                if (has_ret && ret > 0xffff)
                        return error_setx(err, ERANGE, "%s.%s: %u out of range (0-65535)", prefix, ret_key, ret);
                *ret_action = a->value | (has_ret ? ret : EPERM);
        } else
                *ret_action = a->value;
        return 0;
}

static int seccomp_default_action(const struct spec_seccomp *sc, uint32_t *ret, struct error *err)
{
        int r = seccomp_action("linux.seccomp", "defaultAction", "defaultErrnoRet", sc->default_action,
                               sc->has_default_errno_ret, sc->default_errno_ret, ret, err);
        if (r < 0)
                return r;
        /* Every syscall, the runtime's own included, would wait on a
         * listener that has not got the fd yet. */
        if (*ret == SCMP_ACT_NOTIFY)
                return error_setx(err, EINVAL,
                                  "linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be the default action");
        return 0;
}

static int seccomp_check_args(const struct spec_seccomp_syscall *s, size_t i, struct error *err)
{
        for (size_t k = 0; k < s->n_args; k++) {
                const struct spec_seccomp_arg *a = &s->args[k];

                if (a->index >= SECCOMP_MAX_ARGS)
                        return error_setx(err, EINVAL,
                                          "linux.seccomp.syscalls[%zu].args[%zu].index: %u out of range (0-5)",
                                          i, k, a->index);
                if (!SECCOMP_FIND(seccomp_ops, a->op))
                        return error_setx(err, EINVAL,
                                          "linux.seccomp.syscalls[%zu].args[%zu].op: unknown operator \"%s\"",
                                          i, k, a->op ? a->op : "");
        }
        return 0;
}

/* Check one syscalls[] entry; *ret_action gets its action. */
static int seccomp_check_syscall(const struct spec_seccomp *sc, size_t i, uint32_t *ret_action,
                                 struct error *err)
{
        const struct spec_seccomp_syscall *s = &sc->syscalls[i];
        char prefix[64];
        int r;

        (void) snprintf(prefix, sizeof(prefix), "linux.seccomp.syscalls[%zu]", i);
        r = seccomp_action(prefix, "action", "errnoRet", s->action, s->has_errno_ret, s->errno_ret,
                           ret_action, err);
        if (r < 0)
                return r;
        if (*ret_action == SCMP_ACT_NOTIFY && !sc->listener_path)
                return error_setx(err, EINVAL, "linux.seccomp.listenerPath: required by SCMP_ACT_NOTIFY");
        return seccomp_check_args(s, i, err);
}

static int seccomp_arch(const struct spec_seccomp *sc, size_t i, uint32_t *ret, struct error *err)
{
        const struct seccomp_name *a = SECCOMP_FIND(seccomp_arches, sc->architectures[i]);

        if (!a)
                return error_setx(err, EINVAL, "linux.seccomp.architectures[%zu]: unknown architecture \"%s\"",
                                  i, sc->architectures[i]);
        *ret = a->value;
        return 0;
}

static int seccomp_flag(const struct spec_seccomp *sc, size_t i, uint32_t *ret, struct error *err)
{
        const struct seccomp_name *f = SECCOMP_FIND(seccomp_flags, sc->flags[i]);

        if (!f)
                return error_setx(err, EINVAL, "linux.seccomp.flags[%zu]: unknown flag \"%s\"", i,
                                  sc->flags[i]);
        *ret = f->value;
        return 0;
}

static int seccomp_check_lists(const struct spec_seccomp *sc, struct error *err)
{
        uint32_t v = 0;
        int r;

        for (size_t i = 0; sc->architectures && sc->architectures[i]; i++) {
                r = seccomp_arch(sc, i, &v, err);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; sc->flags && sc->flags[i]; i++) {
                r = seccomp_flag(sc, i, &v, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* Syscall names are not checked: names libseccomp does not know are
 * skipped when the filter is built, like runc and crun do, so that a
 * profile may list syscalls newer than the library. */
int seccomp_validate(const struct spec_seccomp *sc, struct error *err)
{
        uint32_t action;
        int r;

        if (!sc)
                return 0;
        r = seccomp_default_action(sc, &action, err);
        if (r < 0)
                return r;
        r = seccomp_check_lists(sc, err);
        if (r < 0)
                return r;
        for (size_t i = 0; i < sc->n_syscalls; i++) {
                r = seccomp_check_syscall(sc, i, &action, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

static void seccomp_releasep(scmp_filter_ctx *ctx)
{
        if (*ctx)
                seccomp_release(*ctx);
}

static struct scmp_arg_cmp seccomp_cmp(const struct spec_seccomp_arg *a)
{
        /* For MASKED_EQ, value is the mask and valueTwo the datum. */
        return (struct scmp_arg_cmp) {
                .arg = a->index,
                .op = SECCOMP_FIND(seccomp_ops, a->op)->value,
                .datum_a = a->value,
                .datum_b = a->value_two,
        };
}

/* Conditions on distinct argument indexes are ANDed in one rule.  When an
 * index repeats, libseccomp cannot put them in one rule (EINVAL), and runc
 * adds every condition as a rule of its own, so they are ORed, distinct
 * indexes included (opencontainers/runc#2735).  crun and youki do the
 * same and profiles rely on it (personality in runtime-tools), so follow
 * it rather than invent a third meaning. */
static int seccomp_add_syscall(scmp_filter_ctx ctx, const struct spec_seccomp_syscall *s, int nr,
                               uint32_t action)
{
        struct scmp_arg_cmp cmp[SECCOMP_MAX_ARGS];
        unsigned seen = 0;
        bool split = false;
        int r;

        for (size_t k = 0; k < s->n_args; k++) {
                if (seen & (1U << s->args[k].index))
                        split = true;
                seen |= 1U << s->args[k].index;
        }
        if (!split) {
                for (size_t k = 0; k < s->n_args; k++)
                        cmp[k] = seccomp_cmp(&s->args[k]);
                return seccomp_rule_add_array(ctx, action, nr, s->n_args, cmp);
        }
        for (size_t k = 0; k < s->n_args; k++) {
                cmp[0] = seccomp_cmp(&s->args[k]);
                r = seccomp_rule_add_array(ctx, action, nr, 1, cmp);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* Add the rules of syscalls[i]; *notify is set when one uses NOTIFY. */
static int seccomp_add_entry(scmp_filter_ctx ctx, const struct spec_seccomp *sc, size_t i,
                             uint32_t default_action, bool *notify, struct error *err)
{
        const struct spec_seccomp_syscall *s = &sc->syscalls[i];
        uint32_t action;
        int r;

        r = seccomp_check_syscall(sc, i, &action, err);
        if (r < 0)
                return r;
        /* libseccomp refuses such rules (EACCES); they change nothing. */
        if (action == default_action)
                return 0;
        for (size_t j = 0; s->names && s->names[j]; j++) {
                int nr = seccomp_syscall_resolve_name(s->names[j]);

                if (nr == __NR_SCMP_ERROR)
                        continue; /* unknown to libseccomp: skip, see seccomp_validate() */
                r = seccomp_add_syscall(ctx, s, nr, action);
                if (r < 0)
                        return error_set(err, r, "linux.seccomp.syscalls[%zu]: add rule for \"%s\"", i,
                                         s->names[j]);
                if (action == SCMP_ACT_NOTIFY)
                        *notify = true;
        }
        return 0;
}

static int seccomp_set_attrs(scmp_filter_ctx ctx, const struct spec_seccomp *sc, struct error *err)
{
        int r;

        /* no_new_privs is the caller's business (process.noNewPrivileges). */
        r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
        if (r < 0)
                return error_set(err, r, "linux.seccomp: clear no_new_privs attribute");
        /* Real errnos from seccomp_load(), not libseccomp's -ECANCELED. */
        (void) seccomp_attr_set(ctx, SCMP_FLTATR_API_SYSRAWRC, 1);

        for (size_t i = 0; sc->flags && sc->flags[i]; i++) {
                uint32_t attr = 0;

                r = seccomp_flag(sc, i, &attr, err);
                if (r < 0)
                        return r;
                if (attr == 0)
                        continue;
                r = seccomp_attr_set(ctx, attr, 1);
                if (r < 0)
                        return error_set(err, r, "linux.seccomp.flags[%zu]: set \"%s\"", i, sc->flags[i]);
        }
        return 0;
}

static int seccomp_add_arches(scmp_filter_ctx ctx, const struct spec_seccomp *sc, struct error *err)
{
        for (size_t i = 0; sc->architectures && sc->architectures[i]; i++) {
                uint32_t arch = 0;
                int r;

                r = seccomp_arch(sc, i, &arch, err);
                if (r < 0)
                        return r;
                r = seccomp_arch_add(ctx, arch);
                if (r < 0 && r != -EEXIST) /* the native one is always there */
                        return error_set(err, r, "linux.seccomp.architectures[%zu]: add \"%s\"", i,
                                         sc->architectures[i]);
        }
        return 0;
}

/* Contract: loads into the calling thread (all threads with
 * SECCOMP_FILTER_FLAG_TSYNC).  The filter does not set no_new_privs, so
 * the caller must either still have CAP_SYS_ADMIN or have set
 * no_new_privs before.  With SCMP_ACT_NOTIFY rules, *ret_notify_fd gets
 * the listener (O_CLOEXEC, owned by the caller; libseccomp keeps its
 * number but never closes it), else -1. */
int seccomp_build(const struct spec_seccomp *sc, scmp_filter_ctx *ret_ctx, bool *ret_notify, struct error *err)
{
        _cleanup_(seccomp_releasep) scmp_filter_ctx ctx = NULL;
        uint32_t default_action;
        bool notify = false;
        int r;

        r = seccomp_default_action(sc, &default_action, err);
        if (r < 0)
                return r;
        ctx = seccomp_init(default_action);
        if (!ctx)
                return error_setx(err, EINVAL, "linux.seccomp: create filter with default action \"%s\"",
                                  sc->default_action);
        r = seccomp_set_attrs(ctx, sc, err);
        if (r >= 0)
                r = seccomp_add_arches(ctx, sc, err);
        for (size_t i = 0; r >= 0 && i < sc->n_syscalls; i++)
                r = seccomp_add_entry(ctx, sc, i, default_action, &notify, err);
        if (r < 0)
                return r;
        *ret_ctx = TAKE_PTR(ctx);
        *ret_notify = notify;
        return 0;
}

static bool seccomp_has_flag(const struct spec_seccomp *sc, const char *name)
{
        for (size_t i = 0; sc->flags && sc->flags[i]; i++)
                if (strcmp(sc->flags[i], name) == 0)
                        return true;
        return false;
}

/* libseccomp < 2.6 cannot ask for SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
 * (Linux 5.19): the compiled program goes in through seccomp(2) itself,
 * with NEW_LISTENER (which that flag needs) and LOG/SPEC_ALLOW as asked;
 * TSYNC is left out (the kernel refuses it with NEW_LISTENER, and our
 * callers are single-threaded).  Returns the listener fd or -errno. */
static int seccomp_load_raw(scmp_filter_ctx ctx, const struct spec_seccomp *sc, struct error *err)
{
        _cleanup_close_ int mfd = memfd_create("berth-seccomp", MFD_CLOEXEC);
        _cleanup_free_ char *buf = NULL;
        unsigned long flags = SECCOMP_FILTER_FLAG_NEW_LISTENER | (1UL << 5) /* WAIT_KILLABLE_RECV */;
        struct sock_fprog prog;
        size_t len = 0;
        int r, fd;

        if (mfd < 0)
                return error_set(err, errno, "linux.seccomp: memfd for the filter");
        r = seccomp_export_bpf(ctx, mfd);
        if (r < 0)
                return error_set(err, r, "linux.seccomp: compile filter");
        if (lseek(mfd, 0, SEEK_SET) < 0 || (r = read_full_fd(mfd, 1 << 20, &buf, &len)) < 0)
                return error_set(err, errno, "linux.seccomp: read compiled filter");
        if (seccomp_has_flag(sc, "SECCOMP_FILTER_FLAG_LOG"))
                flags |= SECCOMP_FILTER_FLAG_LOG;
        if (seccomp_has_flag(sc, "SECCOMP_FILTER_FLAG_SPEC_ALLOW"))
                flags |= SECCOMP_FILTER_FLAG_SPEC_ALLOW;
        prog = (struct sock_fprog){ .len = (unsigned short) (len / sizeof(struct sock_filter)),
                                    .filter = (struct sock_filter *) buf };
        fd = (int) syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
        if (fd < 0)
                return error_set(err, errno, "linux.seccomp: load filter with SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV");
        return fd;
}

int seccomp_apply(const struct spec_seccomp *sc, int *ret_notify_fd, struct error *err)
{
        _cleanup_(seccomp_releasep) scmp_filter_ctx ctx = NULL;
        bool notify = false;
        int r, fd = -1;

        if (!sc) {
                if (ret_notify_fd)
                        *ret_notify_fd = -1;
                return 0;
        }
        r = seccomp_build(sc, &ctx, &notify, err);
        if (r < 0)
                return r;
#if !(SCMP_VER_MAJOR > 2 || (SCMP_VER_MAJOR == 2 && SCMP_VER_MINOR >= 6))
        /* the flag only matters to a listener */
        if (notify && seccomp_has_flag(sc, "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV")) {
                fd = seccomp_load_raw(ctx, sc, err);
                if (fd < 0)
                        return fd;
                if (ret_notify_fd)
                        *ret_notify_fd = fd;
                else
                        close(fd);
                return 0;
        }
#endif
        r = seccomp_load(ctx);
        if (r < 0)
                return error_set(err, r, "linux.seccomp: load filter");
        if (notify) {
                fd = seccomp_notify_fd(ctx);
                if (fd < 0)
                        return error_set(err, fd, "linux.seccomp: get notify fd");
        }
        if (ret_notify_fd)
                *ret_notify_fd = fd;
        return 0;
}

/* The ContainerProcessState message of the spec ("seccomp", listenerPath):
 * {"ociVersion", "fds": ["seccompFd"], "pid", "metadata", "state"}.
 * STATE_JSON is either the container state (wrapped here) or a whole
 * ContainerProcessState (recognised by its "state" member; its "fds" is
 * set). */
static int seccomp_notify_message(const struct spec_seccomp *sc, const char *state_json, char **ret,
                                  struct error *err)
{
        json_object *in = json_tokener_parse(state_json ? state_json : ""), *msg, *v, *fds;

        if (!in || !json_object_is_type(in, json_type_object)) {
                json_object_put(in);
                return error_setx(err, EINVAL, "seccomp listener: state is not a JSON object");
        }
        if (json_object_object_get_ex(in, "state", NULL))
                msg = in;
        else {
                msg = json_object_new_object();
                json_object_object_add(msg, "ociVersion", json_object_new_string(OCI_SPEC_VERSION));
                json_object_object_add(msg, "fds", NULL);
                if (json_object_object_get_ex(in, "pid", &v))
                        json_object_object_add(msg, "pid", json_object_get(v));
        }
        fds = json_object_new_array();
        json_object_array_add(fds, json_object_new_string("seccompFd"));
        json_object_object_add(msg, "fds", fds);
        if (sc->listener_metadata && !json_object_object_get_ex(msg, "metadata", NULL))
                json_object_object_add(msg, "metadata", json_object_new_string(sc->listener_metadata));
        if (msg != in)
                json_object_object_add(msg, "state", in);

        *ret = xstrdup(json_object_to_json_string_ext(msg, JSON_C_TO_STRING_PLAIN |
                                                                   JSON_C_TO_STRING_NOSLASHESCAPE));
        json_object_put(msg);
        return 0;
}

/* Send BUF with FD attached to the first byte, then the rest. */
static int send_with_fd(int sock, const char *buf, size_t len, int fd)
{
        union {
                struct cmsghdr h;
                char b[CMSG_SPACE(sizeof(int))];
        } control = {};
        struct iovec iov = { .iov_base = (void *) buf, .iov_len = len };
        struct msghdr mh = {
                .msg_iov = &iov,
                .msg_iovlen = 1,
                .msg_control = &control,
                .msg_controllen = sizeof(control),
        };
        struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
        ssize_t n;

        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(c), &fd, sizeof(int));

        n = RETRY_EINTR(sendmsg(sock, &mh, MSG_NOSIGNAL));
        while (n >= 0 && (size_t) n < len) {
                buf += n;
                len -= n;
                n = RETRY_EINTR(send(sock, buf, len, MSG_NOSIGNAL));
        }
        return n < 0 ? -errno : 0;
}

int seccomp_send_notify_fd(const struct spec_seccomp *sc, int notify_fd, const char *state_json,
                           struct error *err)
{
        struct sockaddr_un addr = { .sun_family = AF_UNIX };
        _cleanup_close_ int sock = -EBADF;
        _cleanup_free_ char *msg = NULL;
        size_t len;
        int r;

        if (!sc->listener_path)
                return error_setx(err, EINVAL, "linux.seccomp.listenerPath: missing");
        len = strlen(sc->listener_path);
        if (len >= sizeof(addr.sun_path))
                return error_set(err, ENAMETOOLONG, "linux.seccomp.listenerPath: `%s`", sc->listener_path);
        memcpy(addr.sun_path, sc->listener_path, len);

        r = seccomp_notify_message(sc, state_json, &msg, err);
        if (r < 0)
                return r;

        sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (sock < 0)
                return error_set(err, errno, "seccomp listener: create socket");
        if (connect(sock, (struct sockaddr *) &addr, sizeof(addr)) < 0)
                return error_set(err, errno, "linux.seccomp.listenerPath: connect to `%s`", sc->listener_path);
        r = send_with_fd(sock, msg, strlen(msg), notify_fd);
        if (r < 0)
                return error_set(err, r, "linux.seccomp.listenerPath: send to `%s`", sc->listener_path);
        return 0;
}
