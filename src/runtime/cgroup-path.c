/* SPDX-License-Identifier: GPL-2.0-or-later */
/* linux.cgroupsPath → a path relative to every hierarchy's mount. */
#include <ctype.h>
#include <string.h>

#include "runtime/cgroup-internal.h"
#include "runtime/cgroup.h"

#define FIELD "linux.cgroupsPath"

static bool has_control_chars(const char *s, size_t n)
{
        for (size_t i = 0; i < n && s[i]; i++)
                if (iscntrl((unsigned char) s[i]))
                        return true;
        return false;
}

bool cgroup_path_is_safe(const char *path)
{
        const char *p = path;

        if (!path || !*path || *path == '/')
                return false;
        for (;;) {
                size_t n = strcspn(p, "/");

                if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.') ||
                    has_control_chars(p, n))
                        return false;
                if (!p[n])
                        return true;
                p += n + 1;
        }
}

/* Append component C (N bytes) to *BUF, '/'-separated. */
static void append_component(char **buf, const char *c, size_t n)
{
        char *old = *buf;

        *buf = *old ? xasprintf("%s/%.*s", old, (int) n, c) : xstrndup(c, n);
        free(old);
}

int cgroup_path_normalize(const char *base, const char *cgroups_path, char **ret, struct error *err)
{
        _cleanup_free_ char *r = xstrdup(*cgroups_path == '/' || !base ? "" : base);
        const char *p = cgroups_path;

        if (*r && !cgroup_path_is_safe(r))
                return error_setx(err, EINVAL, "%s: the caller's cgroup `%s` cannot be used as a parent", FIELD, r);
        while (*p) {
                size_t n = strcspn(p, "/");

                if (n == 2 && p[0] == '.' && p[1] == '.')
                        return error_setx(err, EINVAL, "%s: `%s` must not contain `..`", FIELD, cgroups_path);
                if (has_control_chars(p, n))
                        return error_setx(err, EINVAL, "%s: `%s` contains a control character", FIELD, cgroups_path);
                if (n > 0 && !(n == 1 && p[0] == '.'))
                        append_component(&r, p, n);
                p += n;
                if (*p == '/')
                        p++;
        }
        if (!*r)
                return error_setx(err, EINVAL, "%s: `%s` names the root cgroup", FIELD, cgroups_path);
        *ret = TAKE_PTR(r);
        return 0;
}

/* Unit names in the systemd form: no '/', nothing systemd would refuse. */
static bool unit_part_ok(const char *s, bool allow_empty)
{
        if (!*s)
                return allow_empty;
        return !strchr(s, '/') && !has_control_chars(s, strlen(s)) && strcmp(s, ".") != 0 && strcmp(s, "..") != 0;
}

int cgroup_systemd_expand_slice(const char *slice, char **ret)
{
        static const char suffix[] = ".slice";
        size_t len = strlen(slice), n;
        _cleanup_free_ char *r = xstrdup("");

        if (strcmp(slice, "-.slice") == 0) {
                *ret = TAKE_PTR(r);
                return 0;
        }
        if (len <= strlen(suffix) || strcmp(slice + len - strlen(suffix), suffix) != 0)
                return -EINVAL;
        n = len - strlen(suffix);
        if (!unit_part_ok(slice, false) || slice[0] == '-' || slice[n - 1] == '-' || strstr(slice, "--"))
                return -EINVAL;
        for (size_t i = 0; i <= n; i++) {
                _cleanup_free_ char *c = NULL;

                if (i < n && slice[i] != '-')
                        continue;
                c = xasprintf("%.*s%s", (int) i, slice, suffix);
                append_component(&r, c, strlen(c));
        }
        *ret = TAKE_PTR(r);
        return 0;
}

/* Split "slice:prefix:name" into its three parts (exactly two colons). */
static int split_systemd(const char *s, char **slice, char **prefix, char **name)
{
        const char *c1 = strchr(s, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;

        if (!c2 || strchr(c2 + 1, ':'))
                return -EINVAL;
        *slice = xstrndup(s, c1 - s);
        *prefix = xstrndup(c1 + 1, c2 - c1 - 1);
        *name = xstrdup(c2 + 1);
        return 0;
}

/* The systemd form: exactly two colons, no '/', a slice (or nothing)
 * first. */
static bool looks_systemd(const char *s)
{
        _cleanup_free_ char *slice = NULL, *prefix = NULL, *name = NULL;
        size_t n;

        if (strchr(s, '/') || split_systemd(s, &slice, &prefix, &name) < 0)
                return false;
        n = strlen(slice);
        return n == 0 || (n > 6 && strcmp(slice + n - 6, ".slice") == 0);
}

int cgroup_path_systemd(const char *cgroups_path, const char *id, char **ret, struct error *err)
{
        _cleanup_free_ char *def = NULL, *slice = NULL, *prefix = NULL, *name = NULL, *parent = NULL, *unit = NULL;
        _cleanup_free_ char *r = NULL;
        const char *s = cgroups_path;

        if (!s || !*s)
                s = def = xasprintf("system.slice:berth:%s", id ? id : "");
        if (split_systemd(s, &slice, &prefix, &name) < 0)
                return error_setx(err, EINVAL, "%s: `%s` is not of the form slice:prefix:name (systemd cgroup driver)",
                                  FIELD, s);
        if (!unit_part_ok(prefix, true) || !unit_part_ok(name, false))
                return error_setx(err, EINVAL, "%s: `%s` has an invalid prefix or name", FIELD, s);
        if (cgroup_systemd_expand_slice(*slice ? slice : "system.slice", &parent) < 0)
                return error_setx(err, EINVAL, "%s: `%s` is not a valid slice name", FIELD, slice);
        if (strlen(name) > strlen(".slice") && strcmp(name + strlen(name) - strlen(".slice"), ".slice") == 0) {
                /* a slice as the leaf: its own name spells its parents */
                if (cgroup_systemd_expand_slice(name, &r) < 0 || !*r)
                        return error_setx(err, EINVAL, "%s: `%s` is not a valid slice name", FIELD, name);
        } else {
                unit = *prefix ? xasprintf("%s-%s.scope", prefix, name) : xasprintf("%s.scope", name);
                r = *parent ? xasprintf("%s/%s", parent, unit) : xstrdup(unit);
        }
        if (!cgroup_path_is_safe(r))
                return error_setx(err, EINVAL, "%s: `%s` does not give a valid cgroup path", FIELD, s);
        *ret = TAKE_PTR(r);
        return 0;
}

/* The caller's cgroup that relative paths go under.  On v1 controllers can
 * each put us elsewhere; we take the name=systemd hierarchy's view (what
 * systemd keeps the controllers in step with), then the cgroup2 one, then
 * memory's, then the root. */
static const char *own_base(const struct cgroup_hierarchies *hs)
{
        int mem = hs->by_controller[CGC_MEMORY];

        for (size_t i = 0; i < hs->n; i++)
                if (hs->h[i].systemd && hs->h[i].own)
                        return hs->h[i].own;
        if (hs->v2 >= 0 && hs->h[hs->v2].own)
                return hs->h[hs->v2].own;
        if (mem >= 0 && hs->h[mem].own)
                return hs->h[mem].own;
        return "";
}

int cgroup_resolve_path(const char *cgroups_path, const char *id, bool systemd, char **ret, struct error *err)
{
        CGROUP_ERR_LOCAL(err);
        const struct cgroup_hierarchies *hs;
        _cleanup_free_ char *def = NULL;

        if (id && (!*id || strchr(id, '/') || strcmp(id, ".") == 0 || strcmp(id, "..") == 0))
                return error_setx(err, EINVAL, "invalid container id `%s` for a cgroup name", id);
        /* Podman and containerd write "slice:prefix:name" for systemd's
         * driver; without systemd (or --systemd-cgroup) it still means the
         * same place in the cgroupfs: system.slice/prefix-name.scope */
        if (systemd || (cgroups_path && looks_systemd(cgroups_path)))
                return cgroup_path_systemd(cgroups_path, id, ret, err);
        if (!cgroups_path || !*cgroups_path) {
                if (!id)
                        return error_setx(err, EINVAL, "%s: empty and no container id", FIELD);
                /* no parent of ours: delete leaves nothing behind, and
                 * there is no shared directory to make or remove */
                cgroups_path = def = xasprintf("berth-%s", id);
        }
        if (*cgroups_path == '/')
                return cgroup_path_normalize(NULL, cgroups_path, ret, err);
        hs = cgroup_hierarchies_get(err);
        if (!hs)
                return error_ret(err);
        return cgroup_path_normalize(own_base(hs), cgroups_path, ret, err);
}
