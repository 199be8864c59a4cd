/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The cgroup manager: which hierarchies are mounted, where a controller
 * lives, and the lifecycle of one container's cgroup across all of them.
 * Resource writers are in cgroup-v1.c and cgroup-v2.c, path resolution in
 * cgroup-path.c, freeze/pids/kill in cgroup-ops.c. */
#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/sched.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>
#include <linux/magic.h>

#include "basic/fileio.h"
#include "runtime/cgroup-internal.h"
#include "runtime/cgroup.h"

#define CGROUP_ROOT "/sys/fs/cgroup"
#define CGROUP_UNIFIED CGROUP_ROOT "/unified"

static const char *const controller_names[_CGC_MAX] = {
        [CGC_CPU] = "cpu",         [CGC_CPUACCT] = "cpuacct",   [CGC_CPUSET] = "cpuset",
        [CGC_MEMORY] = "memory",   [CGC_DEVICES] = "devices",   [CGC_FREEZER] = "freezer",
        [CGC_BLKIO] = "blkio",     [CGC_PIDS] = "pids",         [CGC_NET_CLS] = "net_cls",
        [CGC_NET_PRIO] = "net_prio", [CGC_HUGETLB] = "hugetlb", [CGC_RDMA] = "rdma",
        [CGC_PERF_EVENT] = "perf_event", [CGC_MISC] = "misc",
};

const char *cgroup_controller_to_string(enum cgroup_controller c, bool v2)
{
        if (c < 0 || c >= _CGC_MAX)
                return NULL;
        if (v2 && c == CGC_BLKIO)
                return "io";
        return controller_names[c];
}

enum cgroup_controller cgroup_controller_from_string(const char *s)
{
        if (!s)
                return _CGC_INVALID;
        if (strcmp(s, "io") == 0)
                return CGC_BLKIO;
        for (int i = 0; i < _CGC_MAX; i++)
                if (strcmp(s, controller_names[i]) == 0)
                        return i;
        return _CGC_INVALID;
}

/* ---- layout ---------------------------------------------------------- */

static const char *const layout_names[_CGROUP_LAYOUT_MAX] = {
        [CGROUP_LAYOUT_V1] = "v1",
        [CGROUP_LAYOUT_HYBRID] = "hybrid",
        [CGROUP_LAYOUT_V2] = "v2",
};

const char *cgroup_layout_to_string(enum cgroup_layout l)
{
        return l >= 0 && l < _CGROUP_LAYOUT_MAX ? layout_names[l] : "unknown";
}

static bool is_fs_type(const char *path, unsigned long magic)
{
        struct statfs fs;

        return statfs(path, &fs) == 0 && (unsigned long) fs.f_type == magic;
}

static enum cgroup_layout cached_layout = _CGROUP_LAYOUT_INVALID;
static struct cgroup_hierarchies cached_table;
static bool cached_table_loaded;
/* the texts the table was built from */
static char *cached_mountinfo, *cached_proc_cgroup;

enum cgroup_layout cgroup_layout(void)
{
        if (cached_layout >= 0)
                return cached_layout;
        if (is_fs_type(CGROUP_ROOT, CGROUP2_SUPER_MAGIC))
                cached_layout = CGROUP_LAYOUT_V2;
        else if (is_fs_type(CGROUP_UNIFIED, CGROUP2_SUPER_MAGIC))
                cached_layout = CGROUP_LAYOUT_HYBRID;
        else if (is_fs_type(CGROUP_ROOT, TMPFS_MAGIC) || access(CGROUP_ROOT, F_OK) == 0)
                cached_layout = CGROUP_LAYOUT_V1;
        return cached_layout;
}

void cgroup_cache_reset(void)
{
        cached_layout = _CGROUP_LAYOUT_INVALID;
        if (cached_table_loaded)
                cgroup_hierarchies_clear(&cached_table);
        cached_table_loaded = false;
        free(cached_mountinfo);
        free(cached_proc_cgroup);
        cached_mountinfo = cached_proc_cgroup = NULL;
}

void cgroup_host_views(const char **ret_mountinfo, const char **ret_proc_cgroup)
{
        *ret_mountinfo = cached_table_loaded ? cached_mountinfo : NULL;
        *ret_proc_cgroup = cached_table_loaded ? cached_proc_cgroup : NULL;
}

/* ---- the hierarchy table --------------------------------------------- */

/* mountinfo escapes blanks and backslashes as \ooo */
static char *unescape_octal(const char *s)
{
        char *r = xmalloc(strlen(s) + 1), *q = r;

        while (*s) {
                if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' && s[3] >= '0' &&
                    s[3] <= '7') {
                        *q++ = (char) ((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
                        s += 4;
                } else
                        *q++ = *s++;
        }
        *q = 0;
        return r;
}

/* Parse a comma list of v1 options or /proc/PID/cgroup controllers: the
 * known controllers go to *mask, "name=systemd" sets *systemd.  Returns
 * false when the list names another named hierarchy (not ours to touch). */
static bool parse_v1_controllers(const char *list, unsigned *mask, bool *systemd)
{
        _cleanup_free_ char *copy = xstrdup(list);
        char *save = NULL;

        *mask = 0;
        *systemd = false;
        for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
                enum cgroup_controller c;

                if (strncmp(t, "name=", 5) == 0) {
                        if (strcmp(t + 5, "systemd") != 0)
                                return false;
                        *systemd = true;
                        continue;
                }
                c = strcmp(t, "io") == 0 ? _CGC_INVALID : cgroup_controller_from_string(t);
                if (c >= 0)
                        *mask |= CGC_MASK(c);
        }
        return true;
}

static bool under_cgroup_root(const char *mount)
{
        return strncmp(mount, CGROUP_ROOT "/", strlen(CGROUP_ROOT "/")) == 0;
}

static void hierarchy_free_fields(struct cgroup_hierarchy *h)
{
        free(h->mount);
        free(h->root);
        free(h->own);
}

/* Add (or prefer, for a duplicate mount of the same hierarchy) one entry. */
static void hierarchies_add(struct cgroup_hierarchies *hs, const char *mount, const char *root, bool v2,
                            bool systemd, unsigned mask)
{
        for (size_t i = 0; i < hs->n; i++) {
                struct cgroup_hierarchy *h = &hs->h[i];

                if (h->v2 != v2 || h->systemd != systemd || h->mask != mask)
                        continue;
                if (under_cgroup_root(h->mount) || !under_cgroup_root(mount))
                        return;
                free(h->mount);
                free(h->root);
                h->mount = xstrdup(mount);
                h->root = xstrdup(root);
                return;
        }
        hs->h = xrealloc(hs->h, (hs->n + 1) * sizeof(*hs->h));
        hs->h[hs->n++] = (struct cgroup_hierarchy) {
                .mount = xstrdup(mount),
                .root = xstrdup(root),
                .v2 = v2,
                .systemd = systemd,
                .mask = mask,
        };
}

/* One mountinfo line: "ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS [TAGS...] - TYPE SOURCE SUPEROPTS" */
static void parse_mountinfo_line(struct cgroup_hierarchies *hs, char *line, bool v2_at_root)
{
        char *sep = strstr(line, " - "), *save = NULL, *f[5] = { 0 };
        char *type, *superopts;
        _cleanup_free_ char *root = NULL, *mount = NULL;
        unsigned mask;
        bool systemd;

        if (!sep)
                return;
        *sep = 0;
        type = strtok_r(sep + 3, " ", &save);
        (void) strtok_r(NULL, " ", &save);
        superopts = strtok_r(NULL, " ", &save);
        if (!type || !superopts)
                return;
        save = NULL;
        for (size_t i = 0; i < ELEMENTSOF(f); i++)
                if (!(f[i] = strtok_r(i ? NULL : line, " ", &save)))
                        return;
        root = unescape_octal(f[3]);
        mount = unescape_octal(f[4]);

        if (strcmp(type, "cgroup2") == 0) {
                if (strcmp(mount, v2_at_root ? CGROUP_ROOT : CGROUP_UNIFIED) == 0)
                        hierarchies_add(hs, mount, root, true, false, 0);
                return;
        }
        if (strcmp(type, "cgroup") != 0 || v2_at_root)
                return;
        if (!parse_v1_controllers(superopts, &mask, &systemd) || (mask == 0 && !systemd))
                return;
        hierarchies_add(hs, mount, root, false, systemd, mask);
}

/* PATH (from /proc/PID/cgroup) relative to hierarchy H's mount, or NULL
 * when the mount does not show it. */
static char *path_under_mount(const struct cgroup_hierarchy *h, const char *path)
{
        size_t len = strlen(h->root);

        while (len > 0 && h->root[len - 1] == '/')
                len--;
        if (strncmp(path, h->root, len) != 0 || (path[len] != '/' && path[len] != 0))
                return NULL;
        path += len;
        while (*path == '/')
                path++;
        return xstrdup(path);
}

/* Match one /proc/PID/cgroup line to a hierarchy: its index, or -1. */
static int match_proc_cgroup_line(const struct cgroup_hierarchies *hs, char *line, char **ret_path)
{
        char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
        unsigned mask;
        bool systemd, v2;

        if (!c2)
                return -1;
        *c1 = *c2 = 0;
        v2 = strcmp(line, "0") == 0 && c1 + 1 == c2;
        if (!v2 && !parse_v1_controllers(c1 + 1, &mask, &systemd))
                return -1;
        for (size_t i = 0; i < hs->n; i++) {
                const struct cgroup_hierarchy *h = &hs->h[i];

                if (h->v2 != v2 || (!v2 && (h->mask != mask || h->systemd != systemd)))
                        continue;
                *ret_path = path_under_mount(h, c2 + 1);
                return (int) i;
        }
        return -1;
}

static void hierarchies_index(struct cgroup_hierarchies *hs)
{
        hs->v2 = -1;
        for (int c = 0; c < _CGC_MAX; c++)
                hs->by_controller[c] = -1;
        for (size_t i = 0; i < hs->n; i++) {
                if (hs->h[i].v2)
                        hs->v2 = (int) i;
                for (int c = 0; c < _CGC_MAX; c++)
                        if ((hs->h[i].mask & CGC_MASK(c)) && (hs->by_controller[c] < 0 || !hs->h[i].v2))
                                hs->by_controller[c] = (int) i;
        }
}

int cgroup_hierarchies_parse(const char *mountinfo, const char *proc_cgroup, bool v2_at_root,
                             struct cgroup_hierarchies *ret)
{
        struct cgroup_hierarchies hs = { .v2 = -1 };
        _cleanup_free_ char *mi = xstrdup(mountinfo), *pc = xstrdup(proc_cgroup);
        char *save = NULL;
        bool has_v1 = false;

        for (char *l = strtok_r(mi, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
                parse_mountinfo_line(&hs, l, v2_at_root);
        hierarchies_index(&hs);
        save = NULL;
        for (char *l = strtok_r(pc, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
                char *p = NULL;
                int i = match_proc_cgroup_line(&hs, l, &p);

                if (i >= 0 && !hs.h[i].own)
                        hs.h[i].own = p;
                else
                        free(p);
        }
        for (size_t i = 0; i < hs.n; i++)
                has_v1 |= !hs.h[i].v2;
        hs.layout = v2_at_root ? CGROUP_LAYOUT_V2 : hs.v2 >= 0 && has_v1 ? CGROUP_LAYOUT_HYBRID : CGROUP_LAYOUT_V1;
        if (hs.n == 0) {
                cgroup_hierarchies_clear(&hs);
                return -ENOMEDIUM;
        }
        *ret = hs;
        return 0;
}

void cgroup_hierarchies_clear(struct cgroup_hierarchies *hs)
{
        for (size_t i = 0; i < hs->n; i++)
                hierarchy_free_fields(&hs->h[i]);
        free(hs->h);
        hs->h = NULL;
        hs->n = 0;
        hs->v2 = -1;
}

/* The controllers a cgroup2 mount offers. */
static unsigned v2_controllers(const char *dir)
{
        _cleanup_free_ char *text = NULL;
        char *save = NULL;
        unsigned mask = 0;

        if (cgroup_read(dir, "cgroup.controllers", &text) < 0)
                return 0;
        for (char *t = strtok_r(text, " \n", &save); t; t = strtok_r(NULL, " \n", &save)) {
                enum cgroup_controller c = cgroup_controller_from_string(t);

                if (c >= 0 && c != CGC_CPUACCT && strcmp(t, "blkio") != 0)
                        mask |= CGC_MASK(c);
        }
        return mask;
}

const struct cgroup_hierarchies *cgroup_hierarchies_get(struct error *err)
{
        _cleanup_free_ char *mountinfo = NULL, *own = NULL;
        enum cgroup_layout layout = cgroup_layout();
        int r;

        if (cached_table_loaded)
                return &cached_table;
        if (layout < 0) {
                error_setx(err, ENOMEDIUM, "no cgroup filesystem mounted on %s", CGROUP_ROOT);
                return NULL;
        }
        r = read_full_file_at(AT_FDCWD, "/proc/self/mountinfo", 16 << 20, &mountinfo, NULL);
        if (r < 0) {
                error_set(err, r, "read `/proc/self/mountinfo`");
                return NULL;
        }
        r = read_full_file_at(AT_FDCWD, "/proc/self/cgroup", 1 << 20, &own, NULL);
        if (r < 0) {
                error_set(err, r, "read `/proc/self/cgroup`");
                return NULL;
        }
        r = cgroup_hierarchies_parse(mountinfo, own, layout == CGROUP_LAYOUT_V2, &cached_table);
        if (r < 0) {
                error_set(err, r, "find the cgroup hierarchies in `/proc/self/mountinfo`");
                return NULL;
        }
        if (cached_table.v2 >= 0)
                cached_table.h[cached_table.v2].mask = v2_controllers(cached_table.h[cached_table.v2].mount);
        hierarchies_index(&cached_table);
        cached_table.layout = layout;
        cached_table_loaded = true;
        cached_mountinfo = TAKE_PTR(mountinfo);
        cached_proc_cgroup = TAKE_PTR(own);
        return &cached_table;
}

char *cgroup_hierarchy_dir(const struct cgroup_hierarchy *h, const char *path)
{
        return path && *path ? xasprintf("%s/%s", h->mount, path) : xstrdup(h->mount);
}

char *cgroup_controller_dir(const struct cgroup_hierarchies *hs, const char *path, enum cgroup_controller c,
                            bool *ret_v2)
{
        int i = c >= 0 && c < _CGC_MAX ? hs->by_controller[c] : -1;

        if (i < 0)
                return NULL;
        if (ret_v2)
                *ret_v2 = hs->h[i].v2;
        return cgroup_hierarchy_dir(&hs->h[i], path);
}

/* ---- file helpers ---------------------------------------------------- */

int cgroup_write(const char *dir, const char *file, const char *value, const char *field, struct error *err)
{
        _cleanup_free_ char *p = xasprintf("%s/%s", dir, file);
        int r = write_file_at(AT_FDCWD, p, value);

        if (r < 0)
                return field ? error_set(err, r, "%s: write %s", field, file)
                             : error_set(err, r, "write `%s`", p);
        return 0;
}

int cgroup_write_i64(const char *dir, const char *file, int64_t v, const char *field, struct error *err)
{
        char buf[32];

        (void) snprintf(buf, sizeof(buf), "%" PRId64, v);
        return cgroup_write(dir, file, buf, field, err);
}

int cgroup_write_u64(const char *dir, const char *file, uint64_t v, const char *field, struct error *err)
{
        char buf[32];

        (void) snprintf(buf, sizeof(buf), "%" PRIu64, v);
        return cgroup_write(dir, file, buf, field, err);
}

int cgroup_read(const char *dir, const char *file, char **ret)
{
        _cleanup_free_ char *p = xasprintf("%s/%s", dir, file);

        return read_full_file_at(AT_FDCWD, p, 16 << 20, ret, NULL);
}

int cgroup_read_u64(const char *dir, const char *file, uint64_t *ret)
{
        _cleanup_free_ char *text = NULL;
        size_t len;
        int r = cgroup_read(dir, file, &text);

        if (r < 0)
                return r;
        len = strcspn(text, "\n");
        text[len] = 0;
        if (strcmp(text, "max") == 0) {
                *ret = UINT64_MAX;
                return 0;
        }
        return parse_uint64(text, ret);
}

bool cgroup_file_exists(const char *dir, const char *file)
{
        _cleanup_free_ char *p = xasprintf("%s/%s", dir, file);

        return access(p, F_OK) == 0;
}

/* ---- directories ----------------------------------------------------- */

static int rmdir_tree(const char *dir, struct error *err);

/* mkdir -p PATH under MOUNT; *ret_top is the topmost directory we made
 * (relative), NULL when all existed. */
static int mkdir_tree(const char *mount, const char *path, char **ret_top, struct error *err)
{
        _cleanup_free_ char *top = NULL;
        size_t len = strlen(path);
        int retries = 0;

        /* the common case: only the leaf is new */
        {
                _cleanup_free_ char *leaf = xasprintf("%s/%s", mount, path);

                if (mkdir(leaf, 0755) == 0) {
                        *ret_top = xstrdup(path);
                        return 0;
                }
                if (errno == EEXIST) {
                        *ret_top = NULL;
                        return 0;
                }
        }
        for (size_t i = 0; i <= len; i++) {
                _cleanup_free_ char *dir = NULL;

                if (path[i] != '/' && path[i] != 0)
                        continue;
                dir = xasprintf("%s/%.*s", mount, (int) i, path);
                if (mkdir(dir, 0755) < 0) {
                        if (errno == EEXIST)
                                continue;
                        /* a parent removed under us (by an administrator
                         * or a test's cleanup): start over */
                        if (errno == ENOENT && !top && retries++ < 8) {
                                i = (size_t) -1;
                                continue;
                        }
                        error_set(err, errno, "create cgroup `%s`", dir);
                        if (top) {
                                _cleanup_free_ char *t = xasprintf("%s/%s", mount, top);
                                _cleanup_error_ struct error ignored = ERROR_INIT;

                                (void) rmdir_tree(t, &ignored);
                        }
                        return error_ret(err);
                }
                if (!top)
                        top = xstrndup(path, i);
        }
        *ret_top = TAKE_PTR(top);
        return 0;
}

void cgroup_sleep_ms(unsigned ms)
{
        struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long) (ms % 1000) * 1000000L };

        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

/* rmdir, retrying while the kernel still counts exiting tasks (EBUSY). */
static int rmdir_retry(const char *dir)
{
        unsigned delay = 1, waited = 0;

        for (;;) {
                if (rmdir(dir) == 0 || errno == ENOENT)
                        return 0;
                if (errno != EBUSY || waited >= 2000)
                        return -errno;
                cgroup_sleep_ms(delay);
                waited += delay;
                delay = delay < 100 ? delay * 2 : 100;
        }
}

/* Remove DIR and every cgroup below it, children first. */
static int rmdir_tree(const char *dir, struct error *err)
{
        DIR *d;
        struct dirent *de;
        int r = 0;

        /* the common case first: nothing nested, nothing running */
        if (rmdir(dir) == 0 || errno == ENOENT)
                return 0;
        d = opendir(dir);
        if (!d)
                return errno == ENOENT ? 0 : error_set(err, errno, "open cgroup `%s`", dir);
        while ((de = readdir(d))) {
                _cleanup_free_ char *sub = NULL;

                if (de->d_type != DT_DIR || strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                        continue;
                sub = xasprintf("%s/%s", dir, de->d_name);
                if (rmdir_tree(sub, err) < 0)
                        r = error_ret(err);
        }
        closedir(d);
        if (r < 0)
                return r;
        r = rmdir_retry(dir);
        return r < 0 ? error_set(err, r, "remove cgroup `%s`", dir) : 0;
}

static void created_free(char **created, size_t n)
{
        for (size_t i = 0; created && i < n; i++)
                free(created[i]);
        free(created);
}

/* Undo cgroup_create(): remove what mkdir_tree() made. */
static void created_remove(const struct cgroup_hierarchies *hs, char **created)
{
        for (size_t i = 0; i < hs->n; i++) {
                _cleanup_free_ char *dir = NULL;
                _cleanup_error_ struct error ignored = ERROR_INIT;

                if (!created[i])
                        continue;
                dir = cgroup_hierarchy_dir(&hs->h[i], created[i]);
                (void) rmdir_tree(dir, &ignored);
        }
}

/* v1 cpuset: fill every level we created, top down. */
static int cpuset_inherit_levels(const struct cgroup_hierarchy *h, const char *path, const char *top,
                                 struct error *err)
{
        size_t len = strlen(path);

        for (size_t i = strlen(top); i <= len; i++) {
                _cleanup_free_ char *dir = NULL;

                if (path[i] != '/' && path[i] != 0)
                        continue;
                dir = xasprintf("%s/%.*s", h->mount, (int) i, path);
                if (cgroup_v1_cpuset_inherit(dir, err) < 0)
                        return error_ret(err);
                /* a parent we made hands its cpus and mems to the next
                 * children itself */
                if (i < len)
                        (void) cgroup_write(dir, "cgroup.clone_children", "1", NULL, NULL);
        }
        return 0;
}

static int make_dirs(const struct cgroup_hierarchies *hs, const char *path, char **created, struct error *err)
{
        for (size_t i = 0; i < hs->n; i++) {
                const struct cgroup_hierarchy *h = &hs->h[i];

                if (mkdir_tree(h->mount, path, &created[i], err) < 0)
                        return error_ret(err);
                if (!h->v2 && (h->mask & CGC_MASK(CGC_CPUSET)) && created[i] &&
                    cpuset_inherit_levels(h, path, created[i], err) < 0)
                        return error_ret(err);
        }
        return 0;
}

/* ---- v2 controllers -------------------------------------------------- */

/* Is WORD in the blank-separated list TEXT? */
static bool word_in(const char *text, const char *word)
{
        size_t n = strlen(word);

        for (const char *p = text; (p = strstr(p, word)); p += n)
                if ((p == text || isspace((unsigned char) p[-1])) && (p[n] == 0 || isspace((unsigned char) p[n])))
                        return true;
        return false;
}

static int enable_in(const char *dir, unsigned want, unsigned need, struct error *err)
{
        _cleanup_free_ char *cur = NULL;
        int r;

        r = cgroup_read(dir, "cgroup.subtree_control", &cur);
        if (r < 0)
                return error_set(err, r, "read `%s/cgroup.subtree_control`", dir);
        for (int c = 0; c < _CGC_MAX; c++) {
                const char *name = cgroup_controller_to_string(c, true);
                _cleanup_free_ char *op = NULL;

                if (!(want & CGC_MASK(c)) || word_in(cur, name))
                        continue;
                op = xasprintf("+%s", name);
                r = cgroup_write(dir, "cgroup.subtree_control", op, NULL, NULL);
                if (r < 0 && (need & CGC_MASK(c)))
                        return error_set(err, r, "enable the %s controller in `%s/cgroup.subtree_control`", name,
                                         dir);
        }
        return 0;
}

int cgroup_v2_enable_controllers(const struct cgroup_hierarchy *h, const char *path, unsigned want,
                                 unsigned need, struct error *err)
{
        size_t len = strlen(path);

        want &= h->mask;
        need &= want;
        if (!want)
                return 0;
        if (enable_in(h->mount, want, need, err) < 0)
                return error_ret(err);
        for (size_t i = 1; i < len; i++) {
                _cleanup_free_ char *dir = NULL;

                if (path[i] != '/')
                        continue;
                dir = xasprintf("%s/%.*s", h->mount, (int) i, path);
                if (enable_in(dir, want, need, err) < 0)
                        return error_ret(err);
        }
        return 0;
}

/* Which controllers the pure-v2 layout turns on for every container (all it
 * offers, so that stats work); on hybrid only what RES needs, as the
 * unified hierarchy's root belongs to the host. */
static int v2_prepare(const struct cgroup_hierarchies *hs, const char *path, const struct spec_resources *res,
                      struct error *err)
{
        const struct cgroup_hierarchy *h;
        unsigned need;

        if (hs->v2 < 0)
                return 0;
        h = &hs->h[hs->v2];
        need = cgroup_resources_mask(res);
        return cgroup_v2_enable_controllers(h, path, hs->layout == CGROUP_LAYOUT_V2 ? h->mask : need, need, err);
}

/* ---- resources ------------------------------------------------------- */

static bool str_set(const char *s)
{
        return s && *s;
}

/* The controllers the typed fields use (the unified map aside). */
static unsigned typed_mask(const struct spec_resources *res)
{
        unsigned m = 0;

        if (!res)
                return 0;
        if (res->has_memory && (res->memory.has_limit || res->memory.has_reservation || res->memory.has_swap ||
                                res->memory.has_swappiness || res->memory.has_disable_oom_killer))
                m |= CGC_MASK(CGC_MEMORY);
        if (res->has_cpu && (res->cpu.has_shares || res->cpu.has_quota || res->cpu.has_period ||
                             res->cpu.has_burst || res->cpu.has_realtime_runtime ||
                             res->cpu.has_realtime_period || res->cpu.has_idle))
                m |= CGC_MASK(CGC_CPU);
        if (res->has_cpu && (str_set(res->cpu.cpus) || str_set(res->cpu.mems)))
                m |= CGC_MASK(CGC_CPUSET);
        if (res->has_pids_limit)
                m |= CGC_MASK(CGC_PIDS);
        if (res->has_block_io &&
            (res->block_io.has_weight || res->block_io.has_leaf_weight || res->block_io.n_weight_device ||
             res->block_io.n_throttle_read_bps || res->block_io.n_throttle_write_bps ||
             res->block_io.n_throttle_read_iops || res->block_io.n_throttle_write_iops))
                m |= CGC_MASK(CGC_BLKIO);
        if (res->n_hugepage_limits)
                m |= CGC_MASK(CGC_HUGETLB);
        if (res->has_network && res->network.has_class_id)
                m |= CGC_MASK(CGC_NET_CLS);
        if (res->has_network && res->network.n_priorities)
                m |= CGC_MASK(CGC_NET_PRIO);
        if (res->n_rdma)
                m |= CGC_MASK(CGC_RDMA);
        if (res->n_devices)
                m |= CGC_MASK(CGC_DEVICES);
        return m;
}

unsigned cgroup_resources_mask(const struct spec_resources *res)
{
        unsigned m = typed_mask(res);

        for (size_t i = 0; res && i < res->n_unified; i++) {
                const char *k = res->unified[i].key, *dot = k ? strchr(k, '.') : NULL;
                _cleanup_free_ char *name = dot ? xstrndup(k, dot - k) : NULL;
                enum cgroup_controller c = cgroup_controller_from_string(name);

                if (c >= 0)
                        m |= CGC_MASK(c);
        }
        return m;
}

typedef int (*resource_writer)(const char *dir, const struct spec_resources *res, struct error *err);

struct resource_kind {
        enum cgroup_controller controller;
        const char *field;
        resource_writer v1, v2;
        bool optional; /* v1-only tags: skipped on pure v2 */
};

static const struct resource_kind resource_kinds[] = {
        { CGC_CPUSET, "linux.resources.cpu", cgroup_v1_cpuset, cgroup_v2_cpuset, false },
        { CGC_MEMORY, "linux.resources.memory", cgroup_v1_memory, cgroup_v2_memory, false },
        { CGC_CPU, "linux.resources.cpu", cgroup_v1_cpu, cgroup_v2_cpu, false },
        { CGC_PIDS, "linux.resources.pids", cgroup_pids_limit, cgroup_pids_limit, false },
        { CGC_BLKIO, "linux.resources.blockIO", cgroup_v1_blkio, cgroup_v2_io, false },
        { CGC_HUGETLB, "linux.resources.hugepageLimits", cgroup_v1_hugetlb, cgroup_v2_hugetlb, false },
        { CGC_NET_CLS, "linux.resources.network.classID", cgroup_v1_net_cls, NULL, true },
        { CGC_NET_PRIO, "linux.resources.network.priorities", cgroup_v1_net_prio, NULL, true },
        { CGC_RDMA, "linux.resources.rdma", cgroup_rdma, cgroup_rdma, false },
};

static int apply_kind(const struct cgroup_hierarchies *hs, const char *path, const struct resource_kind *k,
                      const struct spec_resources *res, struct error *err)
{
        _cleanup_free_ char *dir = NULL;
        resource_writer w;
        bool v2 = false;

        dir = cgroup_controller_dir(hs, path, k->controller, &v2);
        if (!dir) {
                /* v2 has no net_cls/net_prio (runc ignores them there); a
                 * v1 host without them mounted cannot honour the config */
                if (k->optional && cgroup_layout() == CGROUP_LAYOUT_V2)
                        return 0;
                return error_setx(err, ENODEV, "%s: the %s cgroup controller is not available", k->field,
                                  cgroup_controller_to_string(k->controller, hs->layout == CGROUP_LAYOUT_V2));
        }
        w = v2 ? k->v2 : k->v1;
        return w ? w(dir, res, err) : 0;
}

static int apply_devices(const struct cgroup_hierarchies *hs, const char *path, const struct spec_resources *res,
                         struct error *err)
{
        _cleanup_free_ char *dir = NULL;
        _cleanup_close_ int fd = -EBADF;
        bool v2 = false;

        dir = cgroup_controller_dir(hs, path, CGC_DEVICES, &v2);
        if (dir && !v2)
                return cgroup_v1_devices(dir, res, err);
        if (hs->v2 < 0)
                return error_setx(err, ENODEV, "linux.resources.devices: the devices cgroup controller is not available");
        free(dir);
        dir = cgroup_hierarchy_dir(&hs->h[hs->v2], path);
        fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return error_set(err, errno, "linux.resources.devices: open `%s`", dir);
        return cgroup_bpf_devices_apply(fd, res->devices, res->n_devices, err);
}

/* unified keys must belong to the cgroup2 hierarchy: on hybrid only the
 * controllers it holds (and the core "cgroup." files). */
static int apply_unified(const struct cgroup_hierarchies *hs, const char *path, const struct spec_resources *res,
                         struct error *err)
{
        _cleanup_free_ char *dir = NULL;

        if (hs->v2 < 0)
                return error_setx(err, EOPNOTSUPP, "linux.resources.unified: requires cgroup v2, this host has v1 only");
        for (size_t i = 0; i < res->n_unified; i++) {
                const char *k = res->unified[i].key, *dot = k ? strchr(k, '.') : NULL;
                _cleanup_free_ char *name = dot ? xstrndup(k, dot - k) : NULL;
                enum cgroup_controller c = cgroup_controller_from_string(name);

                if (c >= 0 && hs->by_controller[c] != hs->v2)
                        return error_setx(err, EOPNOTSUPP,
                                          "linux.resources.unified.%s: the %s controller is not on cgroup v2 here", k,
                                          name);
        }
        dir = cgroup_hierarchy_dir(&hs->h[hs->v2], path);
        return cgroup_v2_unified(dir, res, err);
}

int cgroup_apply_resources(const struct cgroup_hierarchies *hs, const char *path, const struct spec_resources *res,
                           struct error *err)
{
        unsigned mask = typed_mask(res);

        for (size_t i = 0; i < ELEMENTSOF(resource_kinds); i++) {
                const struct resource_kind *k = &resource_kinds[i];

                if (!(mask & CGC_MASK(k->controller)))
                        continue;
                if (apply_kind(hs, path, k, res, err) < 0)
                        return error_ret(err);
        }
        if (res && res->n_devices && apply_devices(hs, path, res, err) < 0)
                return error_ret(err);
        /* last, so that it overrides what the fields above wrote */
        if (res && res->n_unified && apply_unified(hs, path, res, err) < 0)
                return error_ret(err);
        return 0;
}

/* ---- moving processes ------------------------------------------------ */

/* PID's cgroup in each hierarchy (relative to the mount), NULL if unknown. */
static char **pid_cgroups(const struct cgroup_hierarchies *hs, pid_t pid)
{
        _cleanup_free_ char *p = xasprintf("/proc/%d/cgroup", (int) pid), *text = NULL;
        char **paths = xzalloc(hs->n * sizeof(char *)), *save = NULL;

        if (read_full_file_at(AT_FDCWD, p, 1 << 20, &text, NULL) < 0)
                return paths;
        for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
                char *rel = NULL;
                int i = match_proc_cgroup_line(hs, l, &rel);

                if (i >= 0 && !paths[i])
                        paths[i] = rel;
                else
                        free(rel);
        }
        return paths;
}

static int enter_one(const struct cgroup_hierarchy *h, const char *path, pid_t pid, struct error *err)
{
        _cleanup_free_ char *dir = cgroup_hierarchy_dir(h, path), *s = xasprintf("%d", (int) pid);
        int r = cgroup_write(dir, "cgroup.procs", s, NULL, NULL);

        if (r < 0)
                return error_set(err, r, "move pid %d into cgroup `%s`", (int) pid, dir);
        return 0;
}

/* Move PID into PATH everywhere; on failure put it back where it was.  With
 * !STRICT, hierarchies where the cgroup does not exist are skipped. */
static int enter_all(const struct cgroup_hierarchies *hs, const char *path, pid_t pid, bool strict,
                     struct error *err)
{
        char **orig = pid_cgroups(hs, pid);
        size_t i, entered = 0;
        int r = 0;

        for (i = 0; i < hs->n; i++) {
                _cleanup_error_ struct error e = ERROR_INIT;

                r = enter_one(&hs->h[i], path, pid, &e);
                if (r == -ENOENT && !strict)
                        continue;
                if (r < 0) {
                        error_setx(err, e.code, "%s", e.msg);
                        break;
                }
                entered++;
        }
        if (r >= 0 && entered == 0)
                r = error_setx(err, ENOENT, "cgroup `%s` does not exist", path);
        if (r < 0)
                for (size_t j = 0; j < i; j++)
                        if (orig[j])
                                (void) enter_one(&hs->h[j], orig[j], pid, NULL);
        created_free(orig, hs->n);
        return r < 0 ? r : 0;
}

/* ---- public entry points --------------------------------------------- */

const struct cgroup_hierarchies *cgroup_hierarchies_for(const char *path, struct error *err)
{
        if (!cgroup_path_is_safe(path)) {
                error_setx(err, EINVAL, "invalid cgroup path `%s`", path ? path : "");
                return NULL;
        }
        return cgroup_hierarchies_get(err);
}

int cgroup_create(const char *path, const struct spec_resources *res, pid_t pid, struct error *err)
{
        CGROUP_ERR_LOCAL(err);
        const struct cgroup_hierarchies *hs = cgroup_hierarchies_for(path, err);
        char **created;
        int r;

        if (!hs)
                return error_ret(err);
        created = xzalloc(hs->n * sizeof(char *));
        r = make_dirs(hs, path, created, err);
        if (r >= 0)
                r = v2_prepare(hs, path, res, err);
        if (r >= 0)
                r = cgroup_apply_resources(hs, path, res, err);
        if (r >= 0 && pid > 0)
                r = enter_all(hs, path, pid, true, err);
        if (r < 0)
                created_remove(hs, created);
        created_free(created, hs->n);
        return r < 0 ? r : 0;
}

int cgroup_enter(const char *path, pid_t pid, struct error *err)
{
        CGROUP_ERR_LOCAL(err);
        const struct cgroup_hierarchies *hs = cgroup_hierarchies_for(path, err);

        if (!hs)
                return error_ret(err);
        if (pid <= 0)
                return error_setx(err, EINVAL, "invalid pid %d", (int) pid);
        return enter_all(hs, path, pid, false, err);
}

/* v1: "0" into `tasks` moves one thread (the caller, single-threaded),
 * which the kernel does without taking the global threadgroup lock; its
 * first writer in a while waits a whole RCU grace period (~10 ms here),
 * the largest single cost of a container start.  v2 has no such per-thread
 * way for a domain cgroup: there the caller is born in the cgroup through
 * clone3(CLONE_INTO_CGROUP) (SKIP_V2), or falls back to cgroup.procs. */
int cgroup_enter_self(const char *path, bool skip_v2, struct error *err)
{
        CGROUP_ERR_LOCAL(err);
        const struct cgroup_hierarchies *hs = cgroup_hierarchies_for(path, err);

        if (!hs)
                return error_ret(err);
        for (size_t i = 0; i < hs->n; i++) {
                const struct cgroup_hierarchy *h = &hs->h[i];
                _cleanup_free_ char *dir = NULL;
                int r;

                if (h->v2 && skip_v2)
                        continue;
                dir = cgroup_hierarchy_dir(h, path);
                r = cgroup_write(dir, h->v2 ? "cgroup.procs" : "tasks", "0", NULL, NULL);
                if (r < 0)
                        return error_set(err, r, "enter cgroup `%s`", dir);
        }
        return 0;
}

pid_t cgroup_clone(uint64_t flags, int cgroup_fd, bool *ret_born)
{
        *ret_born = false;
        if (cgroup_fd >= 0) {
                struct clone_args args = {
                        .flags = flags | CLONE_INTO_CGROUP,
                        /* clone3 refuses one with CLONE_PARENT: the child
                         * then signals our parent as we would */
                        .exit_signal = (flags & CLONE_PARENT) ? 0 : SIGCHLD,
                        .cgroup = (uint64_t) cgroup_fd,
                };
                pid_t pid = (pid_t) syscall(SYS_clone3, &args, sizeof(args));

                if (pid >= 0) {
                        *ret_born = true;
                        return pid;
                }
                /* Linux < 5.7, or a cgroup that cannot take us: migrate later */
                if (errno != ENOSYS && errno != E2BIG && errno != EINVAL && errno != EPERM && errno != EOPNOTSUPP &&
                    errno != EBUSY)
                        return -1;
        }
        return (pid_t) syscall(SYS_clone, flags | SIGCHLD, NULL, NULL, NULL, NULL);
}

int cgroup_update(const char *path, const struct spec_resources *res, struct error *err)
{
        CGROUP_ERR_LOCAL(err);
        const struct cgroup_hierarchies *hs = cgroup_hierarchies_for(path, err);
        struct spec_resources no_devices;

        if (!hs)
                return error_ret(err);
        /* Device rules are left alone, as runc's update does: containerd's
         * shim pipes in the whole LinuxResources, whose devices list is the
         * config's bare "deny all"; the default devices are added at create
         * only, so applying it would take /dev/null from the container. */
        if (res && res->n_devices) {
                no_devices = *res;
                no_devices.devices = NULL;
                no_devices.n_devices = 0;
                res = &no_devices;
        }
        if (v2_prepare(hs, path, res, err) < 0)
                return error_ret(err);
        return cgroup_apply_resources(hs, path, res, err);
}

int cgroup_destroy(const char *path, struct error *err)
{
        CGROUP_ERR_LOCAL(err);
        const struct cgroup_hierarchies *hs = cgroup_hierarchies_for(path, err);
        int r = 0;

        if (!hs)
                return error_ret(err);
        /* every hierarchy, even when one fails, to leave as little as possible */
        for (size_t i = 0; i < hs->n; i++) {
                _cleanup_free_ char *dir = cgroup_hierarchy_dir(&hs->h[i], path);

                if (rmdir_tree(dir, err) < 0)
                        r = error_ret(err);
        }
        return r;
}

int cgroup_open_v2_dir(const char *path)
{
        const struct cgroup_hierarchies *hs = cgroup_hierarchies_for(path, NULL);
        _cleanup_free_ char *dir = NULL;
        int fd;

        if (!hs)
                return -EINVAL;
        /* hybrid's unified mount is the default hierarchy too */
        if (hs->v2 < 0)
                return -EOPNOTSUPP;
        dir = cgroup_hierarchy_dir(&hs->h[hs->v2], path);
        fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        return fd < 0 ? -errno : fd;
}
