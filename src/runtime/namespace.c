/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "basic/fileio.h"
#include "runtime/mount.h"
#include "runtime/namespace.h"
#include "runtime/rootfs.h"
#include "runtime/state.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

int ns_plan_init(const struct spec *s, struct ns_plan *p, struct error *err)
{
        const struct spec_linux *l = &s->linux_;

        memset(p, 0, sizeof(*p));
        for (int i = 0; i < _NS_MAX; i++)
                p->join_fd[i] = -1;

        for (size_t i = 0; i < l->n_namespaces; i++) {
                const struct spec_namespace *n = &l->namespaces[i];
                int fd, type;

                p->has[n->type] = true;
                if (!n->path || !*n->path) {
                        p->new_flags |= ns_type_to_clone_flag(n->type);
                        continue;
                }
                fd = open(n->path, O_RDONLY | O_CLOEXEC);
                if (fd < 0) {
                        error_set(err, errno, "linux.namespaces[%zu]: open %s namespace `%s`", i,
                                  ns_type_to_string(n->type), n->path);
                        ns_plan_release(p);
                        return error_ret(err);
                }
                p->join_fd[n->type] = fd;
                /* refuse a path that is not a namespace of the named type */
                type = ioctl(fd, NS_GET_NSTYPE);
                if (type < 0 || type != ns_type_to_clone_flag(n->type)) {
                        error_setx(err, EINVAL, "linux.namespaces[%zu]: `%s` is not a %s namespace", i, n->path,
                                   ns_type_to_string(n->type));
                        ns_plan_release(p);
                        return error_ret(err);
                }
        }
        return 0;
}

void ns_plan_release(struct ns_plan *p)
{
        for (int i = 0; i < _NS_MAX; i++) {
                if (p->join_fd[i] >= 0)
                        close(p->join_fd[i]);
                p->join_fd[i] = -1;
        }
}

bool ns_rootless(void)
{
        return geteuid() != 0;
}

static bool is_own_id_only(const struct spec_id_mapping *m, size_t n, uint32_t own)
{
        return n == 1 && m[0].size == 1 && m[0].host_id == own;
}

int ns_plan_check_rootless(const struct ns_plan *p, const struct spec *s, struct error *err)
{
        const struct spec_linux *l = &s->linux_;

        if (!(p->new_flags & CLONE_NEWUSER) && p->join_fd[NS_USER] < 0)
                return error_setx(err, EPERM, "linux.namespaces: rootless containers need a user namespace");
        if ((p->new_flags & CLONE_NEWUSER) && s->process && s->process->user.n_additional_gids > 0 &&
            is_own_id_only(l->gid_mappings, l->n_gid_mappings, (uint32_t) getegid()))
                return error_setx(err, EPERM,
                                  "process.user.additionalGids: a rootless container whose linux.gidMappings "
                                  "maps only the caller's own gid cannot set groups (setgroups is denied); "
                                  "map a range from /etc/subgid");
        return 0;
}

static char *format_map(const struct spec_id_mapping *m, size_t n)
{
        size_t cap = n * 40 + 1, len = 0;
        char *s = xmalloc(cap);

        s[0] = 0;
        for (size_t i = 0; i < n; i++)
                len += snprintf(s + len, cap - len, "%u %u %u\n", m[i].container_id, m[i].host_id, m[i].size);
        return s;
}

static int write_map_direct(pid_t pid, const char *file, const struct spec_id_mapping *m, size_t n,
                            const char *field, struct error *err)
{
        _cleanup_free_ char *text = format_map(m, n);
        char path[64];
        int r;

        snprintf(path, sizeof(path), "/proc/%d/%s", (int) pid, file);
        r = write_file_at(AT_FDCWD, path, text);
        if (r < 0)
                return error_set(err, -r, "%s: write `%s`", field, path);
        return 0;
}

/* Run ARGV (found in PATH) with stdin on /dev/null and stdout/stderr
 * collected into *RET_OUTPUT (trimmed).  Returns its exit status, 127 when
 * it could not be executed, or -errno. */
static int run_helper(char *const *argv, char **ret_output)
{
        _cleanup_free_ char *out = NULL;
        int pipefd[2], status = 0, r;
        pid_t pid;

        if (pipe2(pipefd, O_CLOEXEC) < 0)
                return -errno;
        pid = fork();
        if (pid < 0) {
                r = -errno;
                close(pipefd[0]);
                close(pipefd[1]);
                return r;
        }
        if (pid == 0) {
                int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
                if (null < 0 || dup2(null, STDIN_FILENO) < 0 || dup2(pipefd[1], STDOUT_FILENO) < 0 ||
                    dup2(pipefd[1], STDERR_FILENO) < 0)
                        _exit(127);
                execvp(argv[0], argv);
                _exit(127);
        }
        close(pipefd[1]);
        r = read_full_fd(pipefd[0], 1 << 16, &out, NULL);
        close(pipefd[0]);
        if (RETRY_EINTR(waitpid(pid, &status, 0)) < 0)
                return -errno;
        if (r >= 0 && out) {
                size_t len = strlen(out);
                while (len > 0 && isspace((unsigned char) out[len - 1]))
                        out[--len] = 0;
        }
        *ret_output = r >= 0 ? TAKE_PTR(out) : xstrdup("");
        if (WIFEXITED(status))
                return WEXITSTATUS(status);
        return 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

ssize_t ns_subid_first_outside(const char *contents, const char *user, uid_t uid, uint32_t own,
                               const struct spec_id_mapping *maps, size_t n)
{
        char uidbuf[16];

        snprintf(uidbuf, sizeof(uidbuf), "%u", (unsigned) uid);
        for (size_t i = 0; i < n; i++) {
                uint64_t lo = maps[i].host_id, hi = lo + maps[i].size;
                bool inside = maps[i].size == 1 && maps[i].host_id == own;

                for (const char *l = contents; !inside && l && *l;) {
                        const char *eol = strchr(l, '\n');
                        size_t len = eol ? (size_t) (eol - l) : strlen(l);
                        _cleanup_free_ char *line = xstrndup(l, len);
                        char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
                        uint64_t start, count;

                        l = eol ? eol + 1 : NULL;
                        if (!c2 || line[0] == '#')
                                continue;
                        *c1 = *c2 = 0;
                        if (strcmp(line, user ? user : "") != 0 && strcmp(line, uidbuf) != 0)
                                continue;
                        if (parse_uint64(c1 + 1, &start) < 0 || parse_uint64(c2 + 1, &count) < 0)
                                continue;
                        inside = lo >= start && hi <= start + count;
                }
                if (!inside)
                        return (ssize_t) i;
        }
        return -1;
}

/* The name of UID from /etc/passwd (the binary is static: no NSS), or
 * NULL. */
static char *user_name(uid_t uid)
{
        _cleanup_free_ char *passwd = NULL;
        char uidbuf[16];

        if (read_full_file_at(AT_FDCWD, "/etc/passwd", 16 << 20, &passwd, NULL) < 0)
                return NULL;
        snprintf(uidbuf, sizeof(uidbuf), "%u", (unsigned) uid);
        for (char *l = passwd; l && *l;) {
                char *eol = strchr(l, '\n'), *f1, *f2, *f3;

                if (eol)
                        *eol = 0;
                f1 = strchr(l, ':');
                f2 = f1 ? strchr(f1 + 1, ':') : NULL;
                f3 = f2 ? strchr(f2 + 1, ':') : NULL;
                if (f3 && (size_t) (f3 - f2 - 1) == strlen(uidbuf) && strncmp(f2 + 1, uidbuf, f3 - f2 - 1) == 0)
                        return xstrndup(l, f1 - l);
                l = eol ? eol + 1 : NULL;
        }
        return NULL;
}

/* newuidmap PID C H S... (or newgidmap), with an error that says what
 * /etc/subuid would need when the helper refuses. */
static int write_map_helper(pid_t pid, bool gid, const struct spec_id_mapping *m, size_t n, struct error *err)
{
        const char *helper = gid ? "newgidmap" : "newuidmap", *field = gid ? "linux.gidMappings" : "linux.uidMappings";
        const char *file = gid ? "/etc/subgid" : "/etc/subuid";
        uint32_t own = gid ? (uint32_t) getegid() : (uint32_t) geteuid();
        _cleanup_strv_free_ char **argv = xzalloc((3 * n + 3) * sizeof(char *));
        _cleanup_free_ char *out = NULL, *subids = NULL, *user = NULL;
        ssize_t bad;
        int r;

        argv[0] = xstrdup(helper);
        argv[1] = xasprintf("%d", (int) pid);
        for (size_t i = 0; i < n; i++) {
                argv[2 + 3 * i] = xasprintf("%u", m[i].container_id);
                argv[3 + 3 * i] = xasprintf("%u", m[i].host_id);
                argv[4 + 3 * i] = xasprintf("%u", m[i].size);
        }
        r = run_helper(argv, &out);
        if (r == 0)
                return 0;
        if (r < 0)
                return error_set(err, -r, "%s: run %s", field, helper);
        if (r == 127)
                return error_setx(err, EPERM,
                                  "%s: mapping more than the caller's own %s (%u) needs %s, which could not be "
                                  "run (install the uidmap package)%s%s",
                                  field, gid ? "gid" : "uid", own, helper, *out ? ": " : "", out);
        user = user_name(geteuid());
        if (read_full_file_at(AT_FDCWD, file, 1 << 20, &subids, NULL) < 0)
                subids = xstrdup("");
        bad = ns_subid_first_outside(subids, user, geteuid(), own, m, n);
        if (bad >= 0)
                return error_setx(err, EPERM, "%s: host ids %u-%u are not delegated to user `%s` (uid %u) in %s (%s: %s)",
                                  field, m[bad].host_id, (unsigned) (m[bad].host_id + m[bad].size - 1),
                                  user ? user : "?", (unsigned) geteuid(), file, helper, *out ? out : "failed");
        return error_setx(err, EPERM, "%s: %s failed with status %d%s%s", field, helper, r, *out ? ": " : "", out);
}

int ns_write_id_maps(pid_t pid, const struct spec_linux *l, bool rootless, struct error *err)
{
        char path[64];
        int r;

        if (l->n_uid_mappings > 0) {
                if (!rootless || is_own_id_only(l->uid_mappings, l->n_uid_mappings, (uint32_t) geteuid()))
                        r = write_map_direct(pid, "uid_map", l->uid_mappings, l->n_uid_mappings,
                                             "linux.uidMappings", err);
                else
                        r = write_map_helper(pid, false, l->uid_mappings, l->n_uid_mappings, err);
                if (r < 0)
                        return r;
        }
        if (l->n_gid_mappings > 0) {
                if (!rootless)
                        r = write_map_direct(pid, "gid_map", l->gid_mappings, l->n_gid_mappings,
                                             "linux.gidMappings", err);
                else if (is_own_id_only(l->gid_mappings, l->n_gid_mappings, (uint32_t) getegid())) {
                        /* unprivileged gid_map writes need setgroups denied
                         * first (Linux 3.19, CVE-2014-8989) */
                        snprintf(path, sizeof(path), "/proc/%d/setgroups", (int) pid);
                        r = write_file_at(AT_FDCWD, path, "deny");
                        if (r < 0 && r != -ENOENT)
                                return error_set(err, -r, "linux.gidMappings: write `%s`", path);
                        r = write_map_direct(pid, "gid_map", l->gid_mappings, l->n_gid_mappings,
                                             "linux.gidMappings", err);
                } else
                        r = write_map_helper(pid, true, l->gid_mappings, l->n_gid_mappings, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

bool ns_setgroups_allowed(void)
{
        _cleanup_free_ char *s = NULL;

        if (read_full_file_at(AT_FDCWD, "/proc/self/setgroups", 64, &s, NULL) < 0)
                return true; /* no such file: a kernel before 3.19 */
        return strncmp(s, "deny", 4) != 0;
}

int ns_write_time_offsets(pid_t pid, const struct spec_linux *l, struct error *err)
{
        char path[64];
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        int r;

        if (l->n_time_offsets == 0)
                return 0;
        size_t cap = l->n_time_offsets * 64 + 1;
        buf = xmalloc(cap);
        buf[0] = 0;
        for (size_t i = 0; i < l->n_time_offsets; i++)
                len += snprintf(buf + len, cap - len, "%s %lld %u\n", l->time_offsets[i].clock,
                               (long long) l->time_offsets[i].secs, l->time_offsets[i].nanosecs);
        snprintf(path, sizeof(path), "/proc/%d/timens_offsets", (int) pid);
        r = write_file_at(AT_FDCWD, path, buf);
        if (r < 0)
                return error_set(err, -r, "linux.timeOffsets: write `%s`", path);
        return 0;
}

int ns_join(int fd, enum ns_type t, struct error *err)
{
        if (setns(fd, ns_type_to_clone_flag(t)) < 0)
                return error_set(err, errno, "join %s namespace", ns_type_to_string(t));
        return 0;
}

void ns_mount_fds_free(int *fds, size_t n_mounts)
{
        if (!fds)
                return;
        for (size_t i = 0; i < n_mounts; i++)
                if (fds[i] >= 0)
                        close(fds[i]);
        free(fds);
}

static bool wants_idmap(const struct spec_mount *m)
{
        _cleanup_(mount_options_clear) struct mount_options mo = {};

        if (mount_options_parse(m->options, &mo, NULL) < 0)
                return false; /* the init reports it */
        return (mo.flags & MOUNT_OPT_IDMAP) && mount_is_bind(m);
}

int ns_prepare_idmapped_mounts(const struct spec *s, const char *bundle, int userns_fd, bool rootless,
                               int **ret_fds, size_t *ret_n, struct error *err)
{
        int *fds = NULL;
        size_t n = 0;

        for (size_t i = 0; i < s->n_mounts; i++) {
                const struct spec_mount *m = &s->mounts[i];
                int fd;

                if (!wants_idmap(m))
                        continue;
                if (rootless) {
                        ns_mount_fds_free(fds, s->n_mounts);
                        return error_setx(err, EPERM,
                                          "mounts[%zu] (%s): idmapped mounts of host directories need "
                                          "CAP_SYS_ADMIN in the initial user namespace, which a rootless "
                                          "runtime does not have",
                                          i, m->destination);
                }
                if (!fds) {
                        fds = xmalloc(s->n_mounts * sizeof(int));
                        for (size_t j = 0; j < s->n_mounts; j++)
                                fds[j] = -1;
                }
                fd = rootfs_prepare_idmapped_mount(s, i, bundle, userns_fd, err);
                if (fd < 0) {
                        ns_mount_fds_free(fds, s->n_mounts);
                        return fd;
                }
                fds[i] = fd;
                n++;
        }
        *ret_fds = fds;
        *ret_n = n;
        return 0;
}

static int pid_cmp(const void *a, const void *b)
{
        pid_t x = *(const pid_t *) a, y = *(const pid_t *) b;
        return (x > y) - (x < y);
}

/* The parent pid of PID from /proc/PID/stat, or -1. */
static pid_t proc_ppid(pid_t pid)
{
        _cleanup_free_ char *stat = NULL;
        char path[64], *p;
        int ppid;

        snprintf(path, sizeof(path), "/proc/%d/stat", (int) pid);
        if (read_full_file_at(AT_FDCWD, path, 4096, &stat, NULL) < 0)
                return -1;
        /* the comm field may hold anything, ")" included: take the last */
        p = strrchr(stat, ')');
        if (!p || sscanf(p + 1, " %*c %d", &ppid) != 1)
                return -1;
        return (pid_t) ppid;
}

static bool same_pidns(pid_t pid, const struct stat *ns)
{
        char path[64];
        struct stat st;

        snprintf(path, sizeof(path), "/proc/%d/ns/pid", (int) pid);
        return stat(path, &st) == 0 && st.st_dev == ns->st_dev && st.st_ino == ns->st_ino;
}

/* Append to V (holding N pids, room for N_ALL more) the descendants of
 * the pids already in it, from the snapshot ALL with parents PPID. */
static size_t add_descendants(pid_t *v, size_t n, const pid_t *all, const pid_t *ppid, size_t n_all)
{
        bool grew = true;

        /* a pass adds the children of what is known; until none is new */
        while (grew) {
                grew = false;
                for (size_t i = 0; i < n_all; i++) {
                        bool known = false, child = false;

                        for (size_t j = 0; j < n; j++) {
                                known |= v[j] == all[i];
                                child |= v[j] == ppid[i];
                        }
                        if (!known && child) {
                                v[n++] = all[i];
                                grew = true;
                        }
                }
        }
        return n;
}

/* Every pid in /proc now. */
static int list_all_pids(pid_t **ret, size_t *ret_n, struct error *err)
{
        _cleanup_free_ pid_t *all = NULL;
        size_t n = 0;
        struct dirent *de;
        DIR *d = opendir("/proc");

        if (!d)
                return error_set(err, errno, "open /proc");
        while ((de = readdir(d))) {
                int64_t pid;
                if (parse_int64(de->d_name, &pid) < 0 || pid <= 0)
                        continue;
                all = xrealloc(all, (n + 1) * sizeof(pid_t));
                all[n++] = (pid_t) pid;
        }
        closedir(d);
        *ret = TAKE_PTR(all);
        *ret_n = n;
        return 0;
}

int ns_container_pids(pid_t init, uint64_t start, bool own_pidns, pid_t **ret, size_t *ret_n,
                      struct error *err)
{
        _cleanup_free_ pid_t *all = NULL, *v = NULL;
        size_t n_all = 0, n = 0;
        struct stat ns;
        char path[64];
        int r;

        *ret = NULL;
        *ret_n = 0;
        if (!proc_alive(init, start))
                return 0;
        snprintf(path, sizeof(path), "/proc/%d/ns/pid", (int) init);
        if (own_pidns && stat(path, &ns) < 0)
                return error_set(err, errno, "stat `%s`", path);
        r = list_all_pids(&all, &n_all, err);
        if (r < 0)
                return r;
        v = xmalloc((n_all + 1) * sizeof(pid_t));
        if (own_pidns) {
                for (size_t i = 0; i < n_all; i++)
                        if (same_pidns(all[i], &ns))
                                v[n++] = all[i];
        } else {
                _cleanup_free_ pid_t *ppid = xmalloc((n_all + 1) * sizeof(pid_t));

                for (size_t i = 0; i < n_all; i++)
                        ppid[i] = proc_ppid(all[i]);
                v[n++] = init;
                n = add_descendants(v, n, all, ppid, n_all);
        }
        qsort(v, n, sizeof(pid_t), pid_cmp);
        *ret = TAKE_PTR(v);
        *ret_n = n;
        return 0;
}
