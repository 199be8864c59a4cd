/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The cgroup v2 device controller is an eBPF program
 * (BPF_PROG_TYPE_CGROUP_DEVICE, Linux 4.15) that the kernel runs on every
 * device open and mknod; we generate it from the config's rules and load it
 * with bpf(2) directly.  See Documentation/admin-guide/cgroup-v2.rst,
 * "Device controller". */
#include <inttypes.h>
#include <string.h>
#include <sys/syscall.h>
#include <linux/bpf.h>

#include "runtime/cgroup-internal.h"

_Static_assert(CGROUP_DEV_MKNOD == BPF_DEVCG_ACC_MKNOD && CGROUP_DEV_READ == BPF_DEVCG_ACC_READ &&
                       CGROUP_DEV_WRITE == BPF_DEVCG_ACC_WRITE,
               "access bits follow the kernel's");

#define ACCESS_ALL (CGROUP_DEV_MKNOD | CGROUP_DEV_READ | CGROUP_DEV_WRITE)

int cgroup_device_access_parse(const char *access, unsigned *ret_bits)
{
        unsigned bits = 0;

        if (!access) {
                *ret_bits = ACCESS_ALL;
                return 0;
        }
        if (!*access)
                return -EINVAL;
        for (const char *p = access; *p; p++) {
                switch (*p) {
                case 'r':
                        bits |= CGROUP_DEV_READ;
                        break;
                case 'w':
                        bits |= CGROUP_DEV_WRITE;
                        break;
                case 'm':
                        bits |= CGROUP_DEV_MKNOD;
                        break;
                default:
                        return -EINVAL;
                }
        }
        *ret_bits = bits;
        return 0;
}

/* A few instruction encoders (the kernel's filter.h macros are not uapi). */
static struct bpf_insn insn(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm)
{
        return (struct bpf_insn) { .code = code, .dst_reg = dst, .src_reg = src, .off = off, .imm = imm };
}
#define LDX_W(dst, src, off) insn(BPF_LDX | BPF_W | BPF_MEM, dst, src, off, 0)
#define MOV_REG(dst, src) insn(BPF_ALU64 | BPF_MOV | BPF_X, dst, src, 0, 0)
#define MOV_IMM(dst, imm) insn(BPF_ALU64 | BPF_MOV | BPF_K, dst, 0, 0, imm)
#define AND_IMM(dst, imm) insn(BPF_ALU64 | BPF_AND | BPF_K, dst, 0, 0, imm)
#define RSH_IMM(dst, imm) insn(BPF_ALU64 | BPF_RSH | BPF_K, dst, 0, 0, imm)
#define JNE_IMM(dst, imm, off) insn(BPF_JMP | BPF_JNE | BPF_K, dst, 0, off, imm)
#define JEQ_IMM(dst, imm, off) insn(BPF_JMP | BPF_JEQ | BPF_K, dst, 0, off, imm)
#define EXIT() insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)

/* Registers: r2 access bits, r3 device type, r4 major, r5 minor, r6 scratch. */
enum { R0, R1, R2, R3, R4, R5, R6 };

struct prog {
        struct bpf_insn *insns;
        size_t n, cap;
};

static void emit(struct prog *p, struct bpf_insn i)
{
        if (p->n == p->cap) {
                p->cap = p->cap ? p->cap * 2 : 64;
                p->insns = xrealloc(p->insns, p->cap * sizeof(*p->insns));
        }
        p->insns[p->n++] = i;
}

struct rule {
        int type;          /* BPF_DEVCG_DEV_*, 0 = any */
        unsigned access;
        int64_t major, minor; /* -1 = any */
        bool allow;
};

static int rule_parse(const struct spec_device_cgroup *d, size_t i, struct rule *r, struct error *err)
{
        char type = d->type ? d->type : 'a';

        if (type != 'a' && type != 'b' && type != 'c')
                return error_setx(err, EINVAL, "linux.resources.devices[%zu].type: invalid type `%c`", i, type);
        if (cgroup_device_access_parse(d->access, &r->access) < 0)
                return error_setx(err, EINVAL, "linux.resources.devices[%zu].access: invalid access `%s`", i,
                                  d->access);
        r->type = type == 'b' ? BPF_DEVCG_DEV_BLOCK : type == 'c' ? BPF_DEVCG_DEV_CHAR : 0;
        r->major = type != 'a' && d->has_major && d->major >= 0 ? d->major : -1;
        r->minor = type != 'a' && d->has_minor && d->minor >= 0 ? d->minor : -1;
        if (r->major > INT32_MAX || r->minor > INT32_MAX)
                return error_setx(err, EINVAL, "linux.resources.devices[%zu]: device number out of range", i);
        r->allow = d->allow;
        return 0;
}

/* One rule: if the request matches, return its verdict.  An allow rule
 * matches when it grants every requested access bit, a deny rule when it
 * refuses any of them: a request is granted only as a whole, like v1's
 * exception lists.  Returns true when the rule matches everything (the
 * rules before it can never be reached). */
static bool emit_rule(struct prog *p, const struct rule *r)
{
        unsigned other = ACCESS_ALL & ~r->access;
        bool check_access = r->allow ? other != 0 : r->access != ACCESS_ALL;
        size_t len = 2 + (r->type ? 1 : 0) + (check_access ? 3 : 0) + (r->major >= 0) + (r->minor >= 0);
        size_t start = p->n;
#define SKIP() ((int16_t) (len - (p->n - start) - 1))

        if (r->type)
                emit(p, JNE_IMM(R3, r->type, SKIP()));
        if (check_access) {
                emit(p, MOV_REG(R6, R2));
                emit(p, AND_IMM(R6, r->allow ? (int32_t) other : (int32_t) r->access));
                emit(p, r->allow ? JNE_IMM(R6, 0, SKIP()) : JEQ_IMM(R6, 0, SKIP()));
        }
        if (r->major >= 0)
                emit(p, JNE_IMM(R4, (int32_t) r->major, SKIP()));
        if (r->minor >= 0)
                emit(p, JNE_IMM(R5, (int32_t) r->minor, SKIP()));
        emit(p, MOV_IMM(R0, r->allow ? 1 : 0));
        emit(p, EXIT());
#undef SKIP
        return len == 2;
}

int cgroup_bpf_devices_build(const struct spec_device_cgroup *rules, size_t n, struct bpf_insn **ret,
                             size_t *ret_n, struct error *err)
{
        CGROUP_ERR_LOCAL(err);
        struct prog p = { 0 };
        bool terminal = false;

        /* struct bpf_cgroup_dev_ctx: access_type = access << 16 | type, major, minor */
        emit(&p, LDX_W(R2, R1, 0));
        emit(&p, MOV_REG(R3, R2));
        emit(&p, AND_IMM(R3, 0xffff));
        emit(&p, RSH_IMM(R2, 16));
        emit(&p, LDX_W(R4, R1, 4));
        emit(&p, LDX_W(R5, R1, 8));
        /* the last matching rule wins: test them from the end */
        for (size_t i = n; i > 0 && !terminal; i--) {
                struct rule r;

                if (rule_parse(&rules[i - 1], i - 1, &r, err) < 0) {
                        free(p.insns);
                        return error_ret(err);
                }
                terminal = emit_rule(&p, &r);
        }
        if (!terminal) {
                emit(&p, MOV_IMM(R0, 0));
                emit(&p, EXIT());
        }
        *ret = p.insns;
        *ret_n = p.n;
        return 0;
}

static int bpf(int cmd, union bpf_attr *attr)
{
        return (int) syscall(SYS_bpf, cmd, attr, sizeof(*attr));
}

/* Load the program; on failure the verifier's last words go in the error. */
static int prog_load(const struct bpf_insn *insns, size_t n, struct error *err)
{
        static const char license[] = "GPL";
        _cleanup_free_ char *log = NULL;
        union bpf_attr attr;
        size_t len;
        int fd;

        memset(&attr, 0, sizeof(attr));
        attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
        attr.insns = (uint64_t) (uintptr_t) insns;
        attr.insn_cnt = (uint32_t) n;
        attr.license = (uint64_t) (uintptr_t) license;
        fd = bpf(BPF_PROG_LOAD, &attr);
        if (fd >= 0 || errno != EACCES)
                return fd >= 0 ? fd : error_set(err, errno, "linux.resources.devices: load the device eBPF program");
        log = xzalloc(1 << 16);
        attr.log_buf = (uint64_t) (uintptr_t) log;
        attr.log_size = 1 << 16;
        attr.log_level = 1;
        fd = bpf(BPF_PROG_LOAD, &attr);
        if (fd >= 0)
                return fd;
        len = strlen(log);
        while (len > 0 && log[len - 1] == '\n')
                log[--len] = 0;
        return error_set(err, errno, "linux.resources.devices: the verifier refused the device program (%s)",
                         strrchr(log, '\n') ? strrchr(log, '\n') + 1 : log);
}

int cgroup_bpf_devices_apply(int dirfd, const struct spec_device_cgroup *rules, size_t n, struct error *err)
{
        CGROUP_ERR_LOCAL(err);
        _cleanup_free_ struct bpf_insn *insns = NULL;
        _cleanup_close_ int fd = -EBADF;
        union bpf_attr attr;
        size_t count;

        if (cgroup_bpf_devices_build(rules, n, &insns, &count, err) < 0)
                return error_ret(err);
        fd = prog_load(insns, count, err);
        if (fd < 0)
                return fd;
        /* no BPF_F_ALLOW_MULTI: attaching again (update) replaces it */
        memset(&attr, 0, sizeof(attr));
        attr.target_fd = (uint32_t) dirfd;
        attr.attach_bpf_fd = (uint32_t) fd;
        attr.attach_type = BPF_CGROUP_DEVICE;
        if (bpf(BPF_PROG_ATTACH, &attr) < 0)
                return error_set(err, errno, "linux.resources.devices: attach the device eBPF program");
        return 0;
}
