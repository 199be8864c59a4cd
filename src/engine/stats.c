/* SPDX-License-Identifier: GPL-2.0-or-later */
/* `stats` and `top`: a container's resource use from its cgroup, and its
 * processes from the OCI runtime and /proc. */
#include <errno.h>
#include <inttypes.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "basic/fileio.h"
#include "engine/engine-internal.h"
#include "engine/ops.h"

static int read_small(const char *dir, const char *file, char **ret)
{
        _cleanup_free_ char *path = xasprintf("%s/%s", dir, file);

        return read_full_file_at(AT_FDCWD, path, 1 << 20, ret, NULL);
}

/* A file holding one number ("max": UINT64_MAX). */
static int read_u64(const char *dir, const char *file, uint64_t *ret)
{
        _cleanup_free_ char *s = NULL;
        int r = read_small(dir, file, &s);

        if (r < 0)
                return r;
        s[strcspn(s, "\n")] = '\0';
        if (strcmp(s, "max") == 0) {
                *ret = UINT64_MAX;
                return 0;
        }
        return parse_uint64(s, ret);
}

/* The value of KEY in a flat-keyed file ("KEY VALUE" lines). */
static int read_key(const char *dir, const char *file, const char *key, uint64_t *ret)
{
        _cleanup_free_ char *s = NULL;
        size_t kl = strlen(key);
        int r = read_small(dir, file, &s);

        if (r < 0)
                return r;
        for (char *line = s; line && *line;) {
                char *nl = strchr(line, '\n');
                if (nl)
                        *nl = '\0';
                if (strncmp(line, key, kl) == 0 && line[kl] == ' ')
                        return parse_uint64(line + kl + 1, ret);
                line = nl ? nl + 1 : NULL;
        }
        return -ENOENT;
}

static uint64_t host_memory(void)
{
        uint64_t kb = 0;

        if (read_key("/proc", "meminfo", "MemTotal:", &kb) < 0) {
                /* "MemTotal:    16318000 kB": the key ends in a colon and the value is padded */
                _cleanup_free_ char *s = NULL;
                if (read_small("/proc", "meminfo", &s) >= 0)
                        (void) sscanf(s, "MemTotal: %" SCNu64, &kb);
        }
        return kb * 1024;
}

/* io.stat (v2: "MAJ:MIN rbytes=N wbytes=N ...") */
static void io_v2(const char *dir, struct container_stats *st)
{
        _cleanup_free_ char *s = NULL;

        if (read_small(dir, "io.stat", &s) < 0)
                return;
        for (char *tok = s; (tok = strpbrk(tok, "rw"));) {
                uint64_t v;
                if (sscanf(tok, "rbytes=%" SCNu64, &v) == 1)
                        st->blk_read += v;
                else if (sscanf(tok, "wbytes=%" SCNu64, &v) == 1)
                        st->blk_write += v;
                tok = tok + strcspn(tok, " \n");
        }
}

/* blkio.*io_service_bytes* (v1: "MAJ:MIN Read N" lines). */
static void io_v1_file(const char *dir, const char *file, uint64_t *ret_read, uint64_t *ret_write)
{
        _cleanup_free_ char *s = NULL;

        *ret_read = *ret_write = 0;
        if (read_small(dir, file, &s) < 0)
                return;
        for (char *line = s; line && *line;) {
                char dev[32], op[16];
                uint64_t v;
                if (sscanf(line, "%31s %15s %" SCNu64, dev, op, &v) == 3) {
                        if (strcmp(op, "Read") == 0)
                                *ret_read += v;
                        else if (strcmp(op, "Write") == 0)
                                *ret_write += v;
                }
                line = strchr(line, '\n');
                if (line)
                        line++;
        }
}

static void io_v1(const char *dir, struct container_stats *st)
{
        uint64_t tr, tw, br, bw;

        /* The throttle counters see every device, BFQ's only its own:
         * the same I/O counted twice at two layers, so the larger of each. */
        io_v1_file(dir, "blkio.throttle.io_service_bytes_recursive", &tr, &tw);
        if (tr == 0 && tw == 0)
                io_v1_file(dir, "blkio.throttle.io_service_bytes", &tr, &tw);
        io_v1_file(dir, "blkio.bfq.io_service_bytes_recursive", &br, &bw);
        st->blk_read = tr > br ? tr : br;
        st->blk_write = tw > bw ? tw : bw;
}

/* /proc/PID/net/dev, every interface but lo; nothing when PID shares our
 * network namespace (host networking: those bytes are not the container's). */
static void net_of(pid_t pid, struct container_stats *st)
{
        _cleanup_free_ char *ns = xasprintf("/proc/%d/ns/net", (int) pid), *dev = xasprintf("/proc/%d/net", (int) pid);
        _cleanup_free_ char *s = NULL;
        struct stat a, b;
        char *line;

        if (stat(ns, &a) < 0 || stat("/proc/self/ns/net", &b) < 0 || (a.st_dev == b.st_dev && a.st_ino == b.st_ino))
                return;
        if (read_small(dev, "dev", &s) < 0)
                return;
        /* two header lines, then "  NAME: rx_bytes packets errs drop fifo frame compressed multicast tx_bytes ..." */
        line = strchr(s, '\n');
        line = line ? strchr(line + 1, '\n') : NULL;
        while (line && *++line) {
                char *colon = strchr(line, ':'), *name = line, *nl;
                uint64_t f[9];
                if (!colon)
                        break;
                while (*name == ' ')
                        name++;
                nl = strchr(colon, '\n');
                if (nl)
                        *nl = '\0';
                if (!(colon - name == 2 && strncmp(name, "lo", 2) == 0) &&
                    sscanf(colon + 1, "%" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64
                                      " %" SCNu64 " %" SCNu64 " %" SCNu64,
                           &f[0], &f[1], &f[2], &f[3], &f[4], &f[5], &f[6], &f[7], &f[8]) == 9) {
                        st->net_rx += f[0];
                        st->net_tx += f[8];
                }
                line = nl;
        }
}

static uint64_t now_ns(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000000ULL + (uint64_t) ts.tv_nsec;
}

static int stats_v2(const struct container *c, struct container_stats *st)
{
        _cleanup_free_ char *dir = container_cgroup_dir(c, NULL);
        uint64_t v = 0, inactive = 0;
        int r;

        r = read_u64(dir, "memory.current", &st->mem_usage);
        if (r < 0)
                return r;
        if (read_key(dir, "memory.stat", "inactive_file", &inactive) >= 0 && inactive < st->mem_usage)
                st->mem_usage -= inactive;
        if (read_u64(dir, "memory.max", &v) >= 0)
                st->mem_limit = v;
        if (read_key(dir, "cpu.stat", "usage_usec", &v) >= 0)
                st->cpu_ns = v * 1000;
        (void) read_u64(dir, "pids.current", &st->pids);
        io_v2(dir, st);
        return 0;
}

static int stats_v1(const struct container *c, struct container_stats *st)
{
        _cleanup_free_ char *mem = container_cgroup_dir(c, "memory"), *cpu = container_cgroup_dir(c, "cpuacct");
        _cleanup_free_ char *pids = container_cgroup_dir(c, "pids"), *blkio = container_cgroup_dir(c, "blkio");
        uint64_t v = 0, inactive = 0;
        int r;

        r = read_u64(mem, "memory.usage_in_bytes", &st->mem_usage);
        if (r < 0)
                return r;
        if (read_key(mem, "memory.stat", "total_inactive_file", &inactive) >= 0 && inactive < st->mem_usage)
                st->mem_usage -= inactive;
        if (read_u64(mem, "memory.limit_in_bytes", &v) >= 0)
                st->mem_limit = v;
        if (read_u64(cpu, "cpuacct.usage", &v) >= 0)
                st->cpu_ns = v;
        else {
                /* cpu and cpuacct mounted together */
                _cleanup_free_ char *both = container_cgroup_dir(c, "cpu,cpuacct");
                if (read_u64(both, "cpuacct.usage", &v) >= 0)
                        st->cpu_ns = v;
        }
        (void) read_u64(pids, "pids.current", &st->pids);
        io_v1(blkio, st);
        return 0;
}

int engine_stats(struct engine *e, const struct container *c, struct container_stats *ret, struct error *err)
{
        struct container_stats st = { .sampled_ns = now_ns() };
        uint64_t host = host_memory();
        pid_t pid = container_pid(c);
        int r;

        (void) e;
        (void) err;
        if (!container_running(c) || pid <= 0) {
                *ret = st;
                return 0;
        }
        r = cgroup2_only() ? stats_v2(c, &st) : stats_v1(c, &st);
        if (r < 0) {
                /* it stopped meanwhile: its cgroup went with it */
                *ret = (struct container_stats) { .sampled_ns = st.sampled_ns };
                return 0;
        }
        st.running = true;
        /* Docker: a limit above the host's memory (v1's "unlimited" is
         * 2^63 rounded down to a page) is the host's memory */
        if (host && (st.mem_limit == 0 || st.mem_limit > host))
                st.mem_limit = host;
        net_of(pid, &st);
        *ret = st;
        return 0;
}

/* ---- top ---------------------------------------------------------------- */

void top_processes_free(struct top_process *v, size_t n)
{
        for (size_t i = 0; v && i < n; i++) {
                free(v[i].tty);
                free(v[i].cmd);
        }
        free(v);
}

/* Run ARGV with stdin and stderr on /dev/null (stderr's last line into
 * ERR on failure), its stdout into *RET. */
static int run_capture(char **argv, char **ret, struct error *err)
{
        _cleanup_free_ char *out = NULL, *errout = NULL;
        int po[2], pe[2], status;
        pid_t pid;

        if (pipe2(po, O_CLOEXEC) < 0)
                return error_set(err, errno, "pipe");
        if (pipe2(pe, O_CLOEXEC) < 0) {
                close(po[0]);
                close(po[1]);
                return error_set(err, errno, "pipe");
        }
        pid = fork();
        if (pid < 0) {
                close(po[0]);
                close(po[1]);
                close(pe[0]);
                close(pe[1]);
                return error_set(err, errno, "fork");
        }
        if (pid == 0) {
                int null = open("/dev/null", O_RDONLY);
                dup2(null, 0);
                dup2(po[1], 1);
                dup2(pe[1], 2);
                execv(argv[0], argv);
                _exit(127);
        }
        close(po[1]);
        close(pe[1]);
        /* ps prints a line of pids and little on stderr: no poll needed below a pipe's capacity */
        (void) read_full_fd(po[0], 16 << 20, &out, NULL);
        (void) read_full_fd(pe[0], 1 << 20, &errout, NULL);
        close(po[0]);
        close(pe[0]);
        if (RETRY_EINTR(waitpid(pid, &status, 0)) < 0)
                return error_set(err, errno, "wait for %s", argv[0]);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                char *msg = errout ? errout : "";
                size_t n = strlen(msg);
                while (n && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
                        msg[--n] = '\0';
                if (strrchr(msg, '\n'))
                        msg = strrchr(msg, '\n') + 1;
                return error_setx(err, EIO, "%s ps: %s", argv[0], *msg ? msg : "failed");
        }
        *ret = out ? TAKE_PTR(out) : xstrdup("");
        return 0;
}

static int pid_cmp(const void *a, const void *b)
{
        pid_t x = *(const pid_t *) a, y = *(const pid_t *) b;

        return x < y ? -1 : x > y;
}

/* C's pids from `RUNTIME ps --format json ID` (a JSON array of host pids). */
static int runtime_pids(struct engine *e, const struct container *c, pid_t **ret, size_t *ret_n, struct error *err)
{
        _cleanup_strv_free_ char **argv = engine_runtime_argv(e, c);
        _cleanup_free_ char *out = NULL;
        _cleanup_free_ pid_t *pids = NULL;
        json_object *arr;
        size_t n;
        int r;

        strv_push(&argv, xstrdup("ps"));
        strv_push(&argv, xstrdup("--format"));
        strv_push(&argv, xstrdup("json"));
        strv_push(&argv, xstrdup(c->id));
        r = run_capture(argv, &out, err);
        if (r < 0)
                return r;
        arr = json_tokener_parse(out);
        if (!json_object_is_type(arr, json_type_array)) {
                json_object_put(arr);
                return error_setx(err, EIO, "%s ps: not a JSON array of pids", argv[0]);
        }
        n = json_object_array_length(arr);
        pids = xmalloc((n ? n : 1) * sizeof(pid_t));
        for (size_t i = 0; i < n; i++)
                pids[i] = (pid_t) json_object_get_int(json_object_array_get_idx(arr, i));
        json_object_put(arr);
        qsort(pids, n, sizeof(pid_t), pid_cmp);
        *ret = TAKE_PTR(pids);
        *ret_n = n;
        return 0;
}

static char *tty_name(unsigned long tty_nr)
{
        unsigned major = (unsigned) ((tty_nr >> 8) & 0xfff);
        unsigned minor = (unsigned) ((tty_nr & 0xff) | ((tty_nr >> 12) & 0xfff00));

        if (tty_nr == 0)
                return xstrdup("?");
        if (major >= 136 && major <= 143)
                return xasprintf("pts/%u", minor + (major - 136) * 256);
        if (major == 4)
                return minor < 64 ? xasprintf("tty%u", minor) : xasprintf("ttyS%u", minor - 64);
        if (major == 5 && minor == 1)
                return xstrdup("console");
        return xstrdup("?");
}

/* ps's CMD: the argv (NULs as spaces, control characters as "?"), or
 * "[COMM]" for a process without one (a kernel thread, a zombie). */
static char *cmdline_text(const char *buf, size_t len, const char *comm)
{
        char *s;

        while (len > 0 && buf[len - 1] == '\0')
                len--;
        if (!buf || len == 0)
                return xasprintf("[%s]", comm);
        s = xmalloc(len + 1);
        memcpy(s, buf, len);
        s[len] = '\0';
        for (size_t i = 0; i < len; i++)
                if (s[i] == '\0')
                        s[i] = ' ';
                else if ((unsigned char) s[i] < 0x20 || s[i] == 0x7f)
                        s[i] = '?';
        return s;
}

static time_t boot_time(void)
{
        uint64_t btime = 0;

        (void) read_key("/proc", "stat", "btime", &btime);
        return (time_t) btime;
}

/* P from /proc/PID/{stat,status,cmdline}; -ESRCH when it is gone. */
static int process_read(pid_t pid, time_t btime, struct top_process *p)
{
        _cleanup_free_ char *dir = xasprintf("/proc/%d", (int) pid);
        _cleanup_free_ char *stat = NULL, *status = NULL, *cmdline = NULL;
        unsigned long long utime, stime, start;
        unsigned long tty_nr;
        long hz = sysconf(_SC_CLK_TCK);
        size_t len = 0;
        char *rp, *comm_start, *u;
        int ppid;
        struct timespec up;

        if (read_small(dir, "stat", &stat) < 0 || read_small(dir, "status", &status) < 0)
                return -ESRCH;
        if (hz <= 0)
                hz = 100;
        comm_start = strchr(stat, '(');
        rp = strrchr(stat, ')');
        if (!comm_start || !rp ||
            sscanf(rp + 2, "%*s %d %*s %*s %lu %*s %*s %*s %*s %*s %*s %llu %llu %*s %*s %*s %*s %*s %*s %llu",
                   &ppid, &tty_nr, &utime, &stime, &start) != 5)
                return -EIO;
        *rp = '\0';
        u = strstr(status, "\nUid:");
        p->pid = pid;
        p->ppid = ppid;
        p->uid = 0;
        if (u) {
                unsigned ruid, euid;
                if (sscanf(u + 5, "%u %u", &ruid, &euid) == 2)
                        p->uid = euid;
        }
        p->cpu_secs = (utime + stime) / (unsigned long long) hz;
        p->started = btime + (time_t) (start / (unsigned long long) hz);
        p->cpu_percent = 0;
        if (clock_gettime(CLOCK_BOOTTIME, &up) == 0) {
                unsigned long long elapsed = (unsigned long long) up.tv_sec - start / (unsigned long long) hz;
                if (elapsed > 0)
                        p->cpu_percent = (unsigned) ((utime + stime) * 100ULL / (unsigned long long) hz / elapsed);
                if (p->cpu_percent > 99)
                        p->cpu_percent = 99;
        }
        {
                _cleanup_free_ char *path = xasprintf("%s/cmdline", dir);
                if (read_full_file_at(AT_FDCWD, path, 1 << 20, &cmdline, &len) < 0)
                        len = 0;
        }
        p->tty = tty_name(tty_nr);
        p->cmd = cmdline_text(cmdline, len, comm_start + 1);
        return 0;
}

int engine_top(struct engine *e, const struct container *c, struct top_process **ret, size_t *ret_n,
               struct error *err)
{
        _cleanup_free_ pid_t *pids = NULL;
        struct top_process *v = NULL;
        time_t btime = boot_time();
        size_t n = 0, k = 0;
        int r;

        if (!container_running(c) || container_pid(c) <= 0)
                return error_setx(err, EINVAL, "container %s is not running", c->name);
        r = runtime_pids(e, c, &pids, &n, err);
        if (r < 0)
                return error_prefix(err, "container %s", c->name);
        v = xzalloc((n ? n : 1) * sizeof(*v));
        for (size_t i = 0; i < n; i++)
                if (process_read(pids[i], btime, &v[k]) >= 0)
                        k++; /* gone meanwhile: not listed */
        *ret = v;
        *ret_n = k;
        return 0;
}
