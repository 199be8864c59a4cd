/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <fcntl.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

#include "basic/fileio.h"
#include "runtime/namespace.h"

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

static char *format_map(const struct spec_id_mapping *m, size_t n)
{
        size_t cap = n * 40 + 1, len = 0;
        char *s = xmalloc(cap);

        s[0] = 0;
        for (size_t i = 0; i < n; i++)
                len += snprintf(s + len, cap - len, "%u %u %u\n", m[i].container_id, m[i].host_id, m[i].size);
        return s;
}

int ns_write_id_maps(pid_t pid, const struct spec_linux *l, struct error *err)
{
        char path[64];
        int r;

        if (l->n_uid_mappings > 0) {
                _cleanup_free_ char *m = format_map(l->uid_mappings, l->n_uid_mappings);
                snprintf(path, sizeof(path), "/proc/%d/uid_map", (int) pid);
                r = write_file_at(AT_FDCWD, path, m);
                if (r < 0)
                        return error_set(err, -r, "linux.uidMappings: write `%s`", path);
        }
        if (l->n_gid_mappings > 0) {
                _cleanup_free_ char *m = format_map(l->gid_mappings, l->n_gid_mappings);
                snprintf(path, sizeof(path), "/proc/%d/gid_map", (int) pid);
                r = write_file_at(AT_FDCWD, path, m);
                if (r < 0)
                        return error_set(err, -r, "linux.gidMappings: write `%s`", path);
        }
        return 0;
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
