/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A container's OCI runtime config from Docker's create body and the
 * image's config, with Docker's defaults: its capabilities, seccomp
 * profile, masked paths, mounts and device rules.  The result must work
 * with berth-runtime, runc and crun, so it uses only what all three take. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "basic/fileio.h"
#include "engine/ocispec-internal.h"

#define OCI_VERSION "1.0.2-dev"
#define INIT_PATH "/sbin/berth-init"
#define MIN_MEMORY (6LL << 20)
#define CPU_PERIOD 100000
#define HOSTNAME_MAX 64
#define DEVICE_DEPTH_MAX 8

/* Capability numbers 0..40 (linux/capability.h). */
static const char *const all_caps[] = {
        "CAP_CHOWN",           "CAP_DAC_OVERRIDE",   "CAP_DAC_READ_SEARCH", "CAP_FOWNER",
        "CAP_FSETID",          "CAP_KILL",           "CAP_SETGID",          "CAP_SETUID",
        "CAP_SETPCAP",         "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST",
        "CAP_NET_ADMIN",       "CAP_NET_RAW",        "CAP_IPC_LOCK",        "CAP_IPC_OWNER",
        "CAP_SYS_MODULE",      "CAP_SYS_RAWIO",      "CAP_SYS_CHROOT",      "CAP_SYS_PTRACE",
        "CAP_SYS_PACCT",       "CAP_SYS_ADMIN",      "CAP_SYS_BOOT",        "CAP_SYS_NICE",
        "CAP_SYS_RESOURCE",    "CAP_SYS_TIME",       "CAP_SYS_TTY_CONFIG",  "CAP_MKNOD",
        "CAP_LEASE",           "CAP_AUDIT_WRITE",    "CAP_AUDIT_CONTROL",   "CAP_SETFCAP",
        "CAP_MAC_OVERRIDE",    "CAP_MAC_ADMIN",      "CAP_SYSLOG",          "CAP_WAKE_ALARM",
        "CAP_BLOCK_SUSPEND",   "CAP_AUDIT_READ",     "CAP_PERFMON",         "CAP_BPF",
        "CAP_CHECKPOINT_RESTORE",
};

/* Docker's 14 (oci/caps/defaults.go), in its order. */
static const char *const default_caps[] = {
        "CAP_CHOWN",  "CAP_DAC_OVERRIDE", "CAP_FSETID",           "CAP_FOWNER",     "CAP_MKNOD",
        "CAP_NET_RAW", "CAP_SETGID",      "CAP_SETUID",           "CAP_SETFCAP",    "CAP_SETPCAP",
        "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL",     "CAP_AUDIT_WRITE",
};

static const char *const masked_paths[] = {
        "/proc/asound",     "/proc/acpi",        "/proc/kcore",       "/proc/keys",
        "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug",
        "/proc/scsi",       "/sys/firmware",     "/sys/devices/virtual/powercap",
};

static const char *const readonly_paths[] = {
        "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
};

/* Character devices every container may use (besides mknod of any):
 * null, zero, full, random, urandom, tty, console, ptmx, pts/N, net/tun. */
static const struct {
        int64_t major, minor; /* -1: any */
} default_devices[] = {
        { 1, 3 }, { 1, 5 }, { 1, 7 }, { 1, 8 }, { 1, 9 }, { 5, 0 }, { 5, 1 }, { 5, 2 }, { 136, -1 }, { 10, 200 },
};

enum seccomp_mode {
        SECCOMP_DEFAULT,
        SECCOMP_UNCONFINED,
        SECCOMP_PROFILE,
};

struct build {
        json_object *config, *host, *image;
        const struct ocispec_env *env;
        bool privileged, host_net, nnp;
        enum seccomp_mode seccomp;
        const char *profile;
        char *hostname;
        char **caps;
        struct ocispec_user user;
        bool userns;
        uint32_t map_ctr_gid, map_count; /* container gids ctr_gid..+count are mapped */
};

static void build_clear(struct build *b)
{
        free(b->hostname);
        strv_free(b->caps);
        ocispec_user_clear(&b->user);
}

/* ---- typed access to the create body ---- */

/* Member KEY of O as an array of strings, NULL when absent or null; PATH
 * names it in errors. */
static int get_strings(json_object *o, const char *key, const char *path, json_object **ret, struct error *err)
{
        json_object *v = jobj_get(o, key);

        *ret = NULL;
        if (!v)
                return 0;
        if (!json_object_is_type(v, json_type_array))
                return error_setx(err, EINVAL, "%s: expected an array of strings", path);
        for (size_t i = 0; i < json_object_array_length(v); i++)
                if (!json_object_is_type(json_object_array_get_idx(v, i), json_type_string))
                        return error_setx(err, EINVAL, "%s[%zu]: expected a string", path, i);
        *ret = v;
        return 0;
}

/* Member KEY of O as a string ("" when absent or null). */
static int get_string(json_object *o, const char *key, const char *path, const char **ret, struct error *err)
{
        json_object *v = jobj_get(o, key);

        *ret = "";
        if (!v)
                return 0;
        if (!json_object_is_type(v, json_type_string))
                return error_setx(err, EINVAL, "%s: expected a string", path);
        *ret = json_object_get_string(v);
        return 0;
}

static int get_int(json_object *o, const char *key, const char *path, int64_t *ret, struct error *err)
{
        json_object *v = jobj_get(o, key);

        *ret = 0;
        if (!v)
                return 0;
        if (!json_object_is_type(v, json_type_int))
                return error_setx(err, EINVAL, "%s: expected an integer", path);
        *ret = json_object_get_int64(v);
        return 0;
}

static size_t jlen(json_object *a)
{
        return a ? json_object_array_length(a) : 0;
}

static const char *jidx(json_object *a, size_t i)
{
        return json_object_get_string(json_object_array_get_idx(a, i));
}

static json_object *strings_new(const char *const *v, size_t n)
{
        json_object *a = json_object_new_array();

        for (size_t i = 0; i < n; i++)
                jarr_add_str(a, v[i]);
        return a;
}

/* ---- process.args ---- */

static bool strings_empty(json_object *a)
{
        /* [""] is how an API client says --entrypoint "" */
        return jlen(a) == 0 || (jlen(a) == 1 && !*jidx(a, 0));
}

/* Docker's merge (daemon/create.go): the image's Cmd only when neither an
 * Entrypoint nor a Cmd was given, its Entrypoint unless one was. */
static int build_args(struct build *b, json_object *process, struct error *err)
{
        json_object *ep, *cmd, *iep, *icmd, *args;
        int r;

        if ((r = get_strings(b->config, "Entrypoint", "Config.Entrypoint", &ep, err)) < 0 ||
            (r = get_strings(b->config, "Cmd", "Config.Cmd", &cmd, err)) < 0 ||
            (r = get_strings(b->image, "Entrypoint", "image config Entrypoint", &iep, err)) < 0 ||
            (r = get_strings(b->image, "Cmd", "image config Cmd", &icmd, err)) < 0)
                return r;
        if (strings_empty(ep)) {
                if (jlen(cmd) == 0)
                        cmd = icmd;
                ep = ep ? NULL : iep;
        }
        if (jlen(ep) + jlen(cmd) == 0)
                return error_setx(err, EINVAL, "no command specified");
        args = json_object_new_array();
        if (jobj_bool(b->host, "Init")) {
                jarr_add_str(args, INIT_PATH);
                jarr_add_str(args, "--");
        }
        for (size_t i = 0; i < jlen(ep); i++)
                jarr_add_str(args, jidx(ep, i));
        for (size_t i = 0; i < jlen(cmd); i++)
                jarr_add_str(args, jidx(cmd, i));
        json_object_object_add(process, "args", args);
        return 0;
}

/* ---- process.env ---- */

/* Set K=V in LIST, in place when K is there (Docker's
 * ReplaceOrAppendEnvValues); a bare "K" removes K. */
static void env_set(json_object *list, const char *kv)
{
        const char *eq = strchr(kv, '=');
        size_t kl = eq ? (size_t) (eq - kv) : strlen(kv);

        for (size_t i = 0; i < json_object_array_length(list); i++) {
                const char *e = jidx(list, i);

                if (strncmp(e, kv, kl) != 0 || (e[kl] != '=' && e[kl] != 0))
                        continue;
                if (eq)
                        json_object_array_put_idx(list, i, json_object_new_string(kv));
                else
                        json_object_array_del_idx(list, i, 1);
                return;
        }
        if (eq)
                jarr_add_str(list, kv);
}

static bool env_has(json_object *list, const char *key)
{
        size_t kl = strlen(key);

        for (size_t i = 0; i < json_object_array_length(list); i++)
                if (strncmp(jidx(list, i), key, kl) == 0 && jidx(list, i)[kl] == '=')
                        return true;
        return false;
}

static int build_env(struct build *b, json_object *process, struct error *err)
{
        json_object *ienv, *cenv, *env;
        _cleanup_free_ char *hn = xasprintf("HOSTNAME=%s", b->hostname);
        int r;

        if ((r = get_strings(b->image, "Env", "image config Env", &ienv, err)) < 0 ||
            (r = get_strings(b->config, "Env", "Config.Env", &cenv, err)) < 0)
                return r;
        for (size_t i = 0; i < jlen(cenv); i++)
                if (jidx(cenv, i)[0] == '=' || !jidx(cenv, i)[0])
                        return error_setx(err, EINVAL, "Config.Env: invalid environment variable: %s", jidx(cenv, i));
        env = json_object_new_array();
        json_object_object_add(process, "env", env);
        jarr_add_str(env, "PATH=" DEFAULT_PATH);
        jarr_add_str(env, hn);
        if (jobj_bool(b->config, "Tty"))
                jarr_add_str(env, "TERM=xterm");
        for (size_t i = 0; i < jlen(ienv); i++)
                if (jidx(ienv, i)[0] && jidx(ienv, i)[0] != '=')
                        env_set(env, jidx(ienv, i));
        for (size_t i = 0; i < jlen(cenv); i++)
                env_set(env, jidx(cenv, i));
        if (!env_has(env, "HOME")) {
                _cleanup_free_ char *home = xasprintf("HOME=%s", b->user.home ? b->user.home
                                                                 : b->user.uid == 0 ? "/root" : "/");
                jarr_add_str(env, home);
        }
        return 0;
}

/* ---- capabilities ---- */

/* The highest capability the kernel knows. */
static size_t caps_known(void)
{
        _cleanup_free_ char *s = NULL;
        int64_t last;

        if (read_full_file_at(AT_FDCWD, "/proc/sys/kernel/cap_last_cap", 64, &s, NULL) < 0)
                return ELEMENTSOF(all_caps);
        s[strcspn(s, "\n")] = 0;
        if (parse_int64(s, &last) < 0 || last < 0)
                return ELEMENTSOF(all_caps);
        return (size_t) last + 1 < ELEMENTSOF(all_caps) ? (size_t) last + 1 : ELEMENTSOF(all_caps);
}

/* The capabilities we hold in our bounding set: a privileged container
 * gets those, not ones no process of ours could grant (a sandbox may
 * lack some, and the runtime's capset would fail). */
static uint64_t caps_bounding(void)
{
        _cleanup_free_ char *s = NULL;
        const char *p;

        if (read_full_file_at(AT_FDCWD, "/proc/self/status", 1 << 16, &s, NULL) < 0 ||
            !(p = strstr(s, "\nCapBnd:")))
                return UINT64_MAX;
        return strtoull(p + 8, NULL, 16);
}

static bool strv_has(char **v, const char *s)
{
        for (; v && *v; v++)
                if (strcmp(*v, s) == 0)
                        return true;
        return false;
}

static void strv_add_once(char ***v, const char *s)
{
        if (!strv_has(*v, s))
                strv_push(v, xstrdup(s));
}

/* CapAdd or CapDrop, names upper-cased with "CAP_" ("ALL" stays). */
static int caps_normalize(json_object *list, const char *path, char ***ret, struct error *err)
{
        _cleanup_strv_free_ char **v = NULL;

        for (size_t i = 0; i < jlen(list); i++) {
                _cleanup_free_ char *up = xstrdup(jidx(list, i)), *name = NULL;
                bool known = false;

                for (char *p = up; *p; p++)
                        *p = (char) toupper((unsigned char) *p);
                if (strcmp(up, "ALL") == 0) {
                        strv_add_once(&v, up);
                        continue;
                }
                name = strncmp(up, "CAP_", 4) == 0 ? xstrdup(up) : xasprintf("CAP_%s", up);
                for (size_t k = 0; k < ELEMENTSOF(all_caps); k++)
                        known = known || strcmp(all_caps[k], name) == 0;
                if (!known)
                        return error_setx(err, EINVAL, "%s: unknown capability: \"%s\"", path, name);
                strv_add_once(&v, name);
        }
        *ret = TAKE_PTR(v);
        return 0;
}

/* Docker's TweakCapabilities (oci/caps/utils.go). */
static int build_caps(struct build *b, struct error *err)
{
        _cleanup_strv_free_ char **add = NULL, **drop = NULL;
        json_object *a, *d;
        size_t n = caps_known();
        int r;

        if ((r = get_strings(b->host, "CapAdd", "HostConfig.CapAdd", &a, err)) < 0 ||
            (r = get_strings(b->host, "CapDrop", "HostConfig.CapDrop", &d, err)) < 0 ||
            (r = caps_normalize(a, "HostConfig.CapAdd", &add, err)) < 0 ||
            (r = caps_normalize(d, "HostConfig.CapDrop", &drop, err)) < 0)
                return r;
        if (b->privileged || strv_has(add, "ALL")) {
                uint64_t have = caps_bounding();

                for (size_t i = 0; i < n; i++)
                        if ((have >> i & 1) && (b->privileged || !strv_has(drop, all_caps[i])))
                                strv_add_once(&b->caps, all_caps[i]);
                return 0;
        }
        if (!strv_has(drop, "ALL"))
                for (size_t i = 0; i < ELEMENTSOF(default_caps); i++)
                        if (!strv_has(drop, default_caps[i]))
                                strv_add_once(&b->caps, default_caps[i]);
        for (char **c = add; c && *c; c++)
                strv_add_once(&b->caps, *c);
        return 0;
}

static void add_caps(struct build *b, json_object *process)
{
        json_object *c = json_object_new_object(), *list = json_object_new_array();

        for (char **p = b->caps; p && *p; p++)
                jarr_add_str(list, *p);
        json_object_object_add(c, "bounding", list);
        json_object_object_add(c, "effective", json_object_get(list));
        json_object_object_add(c, "permitted", json_object_get(list));
        /* none inheritable or ambient: a non-root user gets none on exec (Docker 23, CVE-2022-24769) */
        json_object_object_add(c, "inheritable", json_object_new_array());
        json_object_object_add(c, "ambient", json_object_new_array());
        json_object_object_add(process, "capabilities", c);
}

/* ---- process ---- */

static int build_user(struct build *b, json_object *process, struct error *err)
{
        const char *user, *iuser;
        json_object *u, *gids;
        int r;

        if ((r = get_string(b->config, "User", "Config.User", &user, err)) < 0 ||
            (r = get_string(b->image, "User", "image config User", &iuser, err)) < 0)
                return r;
        if (!*user)
                user = iuser;
        r = ocispec_user_resolve(b->env->rootfs_fd, user, &b->user, err);
        if (r < 0)
                return error_prefix(err, "Config.User");
        u = json_object_new_object();
        jobj_add_int(u, "uid", b->user.uid);
        jobj_add_int(u, "gid", b->user.gid);
        if (b->user.n_gids > 0) {
                gids = json_object_new_array();
                for (size_t i = 0; i < b->user.n_gids; i++)
                        json_object_array_add(gids, json_object_new_int64(b->user.gids[i]));
                json_object_object_add(u, "additionalGids", gids);
        }
        json_object_object_add(process, "user", u);
        return 0;
}

static int build_cwd(struct build *b, json_object *process, struct error *err)
{
        _cleanup_free_ char *clean = NULL;
        const char *wd, *iwd;
        int r;

        if ((r = get_string(b->config, "WorkingDir", "Config.WorkingDir", &wd, err)) < 0 ||
            (r = get_string(b->image, "WorkingDir", "image config WorkingDir", &iwd, err)) < 0)
                return r;
        if (!*wd)
                wd = *iwd ? iwd : "/";
        clean = path_clean(wd);
        if (!clean)
                return error_setx(err, EINVAL,
                                  "Config.WorkingDir: the working directory '%s' is invalid, it needs to be an "
                                  "absolute path", wd);
        jobj_add_str(process, "cwd", clean);
        return 0;
}

static int build_process(struct build *b, json_object *spec, struct error *err)
{
        json_object *p = json_object_new_object();
        int r;

        json_object_object_add(spec, "process", p);
        json_object_object_add(p, "terminal", json_object_new_boolean(jobj_bool(b->config, "Tty")));
        r = build_user(b, p, err);
        if (r >= 0)
                r = build_args(b, p, err);
        if (r >= 0)
                r = build_env(b, p, err);
        if (r >= 0)
                r = build_cwd(b, p, err);
        if (r < 0)
                return r;
        add_caps(b, p);
        json_object_object_add(p, "noNewPrivileges", json_object_new_boolean(b->nnp));
        return 0;
}

/* ---- mounts ---- */

static json_object *mount_new(const char *dst, const char *type, const char *src, const char *const *opts)
{
        json_object *m = json_object_new_object(), *o = json_object_new_array();

        jobj_add_str(m, "destination", dst);
        jobj_add_str(m, "type", type);
        jobj_add_str(m, "source", src);
        for (; opts && *opts; opts++)
                jarr_add_str(o, *opts);
        json_object_object_add(m, "options", o);
        return m;
}

#define OPTS(...) ((const char *const[]) { __VA_ARGS__, NULL })

/* The default mounts (Docker's oci/defaults.go), /sys writable only
 * when privileged. */
static void default_mounts(struct build *b, json_object *list)
{
        bool gid5 = !b->userns || (b->map_ctr_gid <= 5 && 5 - b->map_ctr_gid < b->map_count);
        const char *ro = b->privileged ? "rw" : "ro";

        json_object_array_add(list, mount_new("/proc", "proc", "proc", OPTS("nosuid", "noexec", "nodev")));
        json_object_array_add(list, mount_new("/dev", "tmpfs", "tmpfs",
                                              OPTS("nosuid", "strictatime", "mode=755", "size=65536k")));
        /* gid=5 ("tty") only when it exists in the user namespace */
        json_object_array_add(list, mount_new("/dev/pts", "devpts", "devpts",
                                              gid5 ? OPTS("nosuid", "noexec", "newinstance", "ptmxmode=0666",
                                                          "mode=0620", "gid=5")
                                                   : OPTS("nosuid", "noexec", "newinstance", "ptmxmode=0666",
                                                          "mode=0620")));
        /* a sysfs needs a network namespace owned by its user namespace: with the host's or
         * one the engine made, bind it */
        if (b->userns && (b->host_net || b->env->netns_path))
                json_object_array_add(list, mount_new("/sys", "bind", "/sys",
                                                      OPTS("rbind", "nosuid", "noexec", "nodev", ro)));
        else
                json_object_array_add(list, mount_new("/sys", "sysfs", "sysfs", OPTS("nosuid", "noexec", "nodev", ro)));
        json_object_array_add(list, mount_new("/sys/fs/cgroup", "cgroup", "cgroup",
                                              OPTS(ro, "nosuid", "noexec", "nodev", "relatime")));
        json_object_array_add(list, mount_new("/dev/mqueue", "mqueue", "mqueue", OPTS("nosuid", "noexec", "nodev")));
        json_object_array_add(list, mount_new("/dev/shm", "tmpfs", "shm",
                                              OPTS("nosuid", "noexec", "nodev", "mode=1777", "size=67108864")));
}

struct user_mount {
        char *dst;
        json_object *spec;
        size_t depth;
};

static size_t path_depth(const char *p)
{
        size_t n = 0;

        for (; *p; p++)
                n += *p == '/';
        return n;
}

/* "rbind" plus propagation and "ro" for bind and volume mounts. */
static int bind_options(json_object *m, size_t i, json_object *opts, struct error *err)
{
        const char *prop = jobj_str(jobj_get(m, "BindOptions"), "Propagation");
        static const char *const props[] = { "private", "rprivate", "shared", "rshared", "slave", "rslave" };
        bool ok = false;

        if (!prop || !*prop)
                prop = "rprivate";
        for (size_t k = 0; k < ELEMENTSOF(props); k++)
                ok = ok || strcmp(prop, props[k]) == 0;
        if (!ok)
                return error_setx(err, EINVAL, "HostConfig.Mounts[%zu].BindOptions.Propagation: invalid propagation "
                                  "mode: %s", i, prop);
        jarr_add_str(opts, "rbind");
        jarr_add_str(opts, prop);
        if (jobj_bool(m, "ReadOnly"))
                jarr_add_str(opts, "ro");
        return 0;
}

/* Remove FLAG's opposite ("exec" for "noexec") from OPTS, then add FLAG. */
static void flag_set(json_object *opts, const char *flag)
{
        const char *other = strncmp(flag, "no", 2) == 0 ? flag + 2 : NULL;
        _cleanup_free_ char *neg = other ? NULL : xasprintf("no%s", flag);

        for (size_t k = json_object_array_length(opts); k-- > 0;)
                if (streq(jidx(opts, k), other ? other : neg) || streq(jidx(opts, k), flag))
                        json_object_array_del_idx(opts, k, 1);
        jarr_add_str(opts, flag);
}

static int tmpfs_options(json_object *m, size_t i, json_object *opts, struct error *err)
{
        json_object *t = jobj_get(m, "TmpfsOptions"), *extra = jobj_get(t, "Options");
        int64_t size = jobj_int64(t, "SizeBytes"), mode = jobj_int64(t, "Mode");

        jarr_add_str(opts, "noexec");
        jarr_add_str(opts, "nosuid");
        jarr_add_str(opts, "nodev");
        for (size_t k = 0; k < jlen(extra); k++) {
                json_object *o = json_object_array_get_idx(extra, k);
                _cleanup_free_ char *kv = NULL;

                if (!json_object_is_type(o, json_type_array) || jlen(o) < 1 || jlen(o) > 2 ||
                    !jidx(o, 0) || strchr(jidx(o, 0), ',') || (jlen(o) == 2 && strchr(jidx(o, 1), ',')))
                        return error_setx(err, EINVAL, "HostConfig.Mounts[%zu].TmpfsOptions.Options[%zu]: expected "
                                          "[\"flag\"] or [\"key\", \"value\"]", i, k);
                if (jlen(o) == 1) {
                        flag_set(opts, jidx(o, 0));
                        continue;
                }
                kv = xasprintf("%s=%s", jidx(o, 0), jidx(o, 1));
                jarr_add_str(opts, kv);
        }
        if (size < 0 || mode < 0 || mode > 07777)
                return error_setx(err, EINVAL, "HostConfig.Mounts[%zu].TmpfsOptions: invalid size or mode", i);
        if (size > 0) {
                _cleanup_free_ char *s = xasprintf("size=%lld", (long long) size);
                jarr_add_str(opts, s);
        }
        if (mode > 0) {
                _cleanup_free_ char *s = xasprintf("mode=%llo", (long long) mode);
                jarr_add_str(opts, s);
        }
        if (jobj_bool(m, "ReadOnly"))
                jarr_add_str(opts, "ro");
        return 0;
}

/* The source of a bind or volume mount: *RET is malloc'd. */
static int mount_source(struct build *b, json_object *m, size_t i, const char *type, char **ret, struct error *err)
{
        const char *src = jobj_str(m, "Source");
        struct stat st;

        if (strcmp(type, "bind") == 0) {
                if (!src || src[0] != '/')
                        return error_setx(err, EINVAL, "HostConfig.Mounts[%zu].Source: invalid mount config for type "
                                          "\"bind\": invalid mount path: '%s' mount path must be absolute", i,
                                          src ? src : "");
                if (stat(src, &st) < 0)
                        return error_setx(err, ENOENT, "HostConfig.Mounts[%zu].Source: invalid mount config for type "
                                          "\"bind\": bind source path does not exist: %s", i, src);
                *ret = path_clean(src);
                return 0;
        }
        if (!src || !*src || strchr(src, '/') || strcmp(src, "..") == 0 || strcmp(src, ".") == 0)
                return error_setx(err, EINVAL, "HostConfig.Mounts[%zu].Source: invalid volume name \"%s\"", i,
                                  src ? src : "");
        if (!b->env->volumes_dir)
                return error_setx(err, EINVAL, "HostConfig.Mounts[%zu]: no volumes directory", i);
        *ret = xasprintf("%s/%s/_data", b->env->volumes_dir, src);
        return 0;
}

static int user_mount(struct build *b, json_object *m, size_t i, struct user_mount *ret, struct error *err)
{
        const char *type = jobj_str(m, "Type"), *target = jobj_str(m, "Target");
        _cleanup_free_ char *dst = path_clean(target), *src = NULL;
        json_object *opts;
        int r;

        if (!json_object_is_type(m, json_type_object))
                return error_setx(err, EINVAL, "HostConfig.Mounts[%zu]: expected an object", i);
        if (!streq(type, "bind") && !streq(type, "volume") && !streq(type, "tmpfs"))
                return error_setx(err, EINVAL, "HostConfig.Mounts[%zu].Type: mount type unknown: \"%s\"", i,
                                  type ? type : "");
        if (!dst || strcmp(dst, "/") == 0)
                return error_setx(err, EINVAL, "HostConfig.Mounts[%zu].Target: invalid mount config for type "
                                  "\"%s\": invalid mount path: '%s' mount path must be absolute and not '/'", i, type,
                                  target ? target : "");
        opts = json_object_new_array();
        if (strcmp(type, "tmpfs") == 0) {
                src = xstrdup("tmpfs");
                r = tmpfs_options(m, i, opts, err);
        } else {
                r = mount_source(b, m, i, type, &src, err);
                if (r >= 0)
                        r = bind_options(m, i, opts, err);
        }
        if (r < 0) {
                json_object_put(opts);
                return r;
        }
        ret->spec = mount_new(dst, strcmp(type, "tmpfs") == 0 ? "tmpfs" : "bind", src, NULL);
        json_object_object_add(ret->spec, "options", opts);
        ret->depth = path_depth(dst);
        ret->dst = TAKE_PTR(dst);
        return 0;
}

static void user_mounts_free(struct user_mount *um, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                free(um[i].dst);
                json_object_put(um[i].spec);
        }
        free(um);
}

static bool user_mounted(const struct user_mount *um, size_t n, const char *dst)
{
        for (size_t i = 0; i < n; i++)
                if (strcmp(um[i].dst, dst) == 0)
                        return true;
        return false;
}

static int user_mounts_parse(struct build *b, struct user_mount **ret, size_t *ret_n, struct error *err)
{
        json_object *mounts = jobj_get(b->host, "Mounts");
        size_t n = jlen(mounts);
        struct user_mount *um;

        if (mounts && !json_object_is_type(mounts, json_type_array))
                return error_setx(err, EINVAL, "HostConfig.Mounts: expected an array");
        um = xzalloc((n + 1) * sizeof(*um));
        for (size_t i = 0; i < n; i++) {
                int r = user_mount(b, json_object_array_get_idx(mounts, i), i, &um[i], err);

                if (r >= 0 && user_mounted(um, i, um[i].dst))
                        r = error_setx(err, EINVAL, "HostConfig.Mounts[%zu]: Duplicate mount point: %s", i, um[i].dst);
                if (r < 0) {
                        user_mounts_free(um, i + 1);
                        return r;
                }
        }
        /* parents before children: a stable insertion sort by depth */
        for (size_t i = 1; i < n; i++)
                for (size_t k = i; k > 0 && um[k - 1].depth > um[k].depth; k--) {
                        struct user_mount t = um[k];
                        um[k] = um[k - 1];
                        um[k - 1] = t;
                }
        *ret = um;
        *ret_n = n;
        return 0;
}

/* Docker's rootfs propagation for shared or slave binds. */
static const char *rootfs_propagation(const struct user_mount *um, size_t n)
{
        const char *r = NULL;

        for (size_t i = 0; i < n; i++) {
                json_object *o = jobj_get(um[i].spec, "options");

                for (size_t k = 0; k < jlen(o); k++) {
                        if (strstr(jidx(o, k), "shared"))
                                return "rshared";
                        if (strstr(jidx(o, k), "slave"))
                                r = "rslave";
                }
        }
        return r;
}

static int build_mounts(struct build *b, json_object *spec, json_object *linux_, struct error *err)
{
        json_object *defaults = json_object_new_array(), *list = json_object_new_array();
        struct user_mount *um = NULL;
        const char *etc[][2] = { { "/etc/resolv.conf", b->env->resolv_file },
                                 { "/etc/hostname", b->env->hostname_file },
                                 { "/etc/hosts", b->env->hosts_file } };
        size_t n = 0;
        bool dev;
        int r;

        json_object_object_add(spec, "mounts", list);
        r = user_mounts_parse(b, &um, &n, err);
        if (r < 0) {
                json_object_put(defaults);
                return r;
        }
        dev = user_mounted(um, n, "/dev");
        default_mounts(b, defaults);
        for (size_t i = 0; i < json_object_array_length(defaults); i++) {
                json_object *m = json_object_array_get_idx(defaults, i);
                const char *d = jobj_str(m, "destination");

                if (!user_mounted(um, n, d) && !(dev && strncmp(d, "/dev/", 5) == 0))
                        json_object_array_add(list, json_object_get(m));
        }
        json_object_put(defaults);
        for (size_t i = 0; i < ELEMENTSOF(etc); i++)
                if (etc[i][1] && !user_mounted(um, n, etc[i][0]))
                        json_object_array_add(list, mount_new(etc[i][0], "bind", etc[i][1], OPTS("rbind", "rprivate")));
        for (size_t i = 0; i < n; i++)
                json_object_array_add(list, json_object_get(um[i].spec));
        if (rootfs_propagation(um, n))
                jobj_add_str(linux_, "rootfsPropagation", rootfs_propagation(um, n));
        user_mounts_free(um, n);
        if (jobj_bool(b->host, "Init")) {
                if (!b->env->init_path)
                        return error_setx(err, ENOENT, "HostConfig.Init: no init binary (berth-init) found");
                json_object_array_add(list, mount_new(INIT_PATH, "bind", b->env->init_path, OPTS("bind", "ro")));
        }
        return 0;
}

/* ---- namespaces and ids ---- */

static json_object *id_map(uint32_t ctr, uint32_t host, uint32_t size)
{
        json_object *a = json_object_new_array(), *m = json_object_new_object();

        jobj_add_int(m, "containerID", ctr);
        jobj_add_int(m, "hostID", host);
        jobj_add_int(m, "size", size);
        json_object_array_add(a, m);
        return a;
}

int parse_userns_mapping(const char *s, uint32_t v[3])
{
        _cleanup_free_ char *copy = xstrdup(s);
        char *p = copy;

        for (int i = 0; i < 3; i++) {
                char *end = strchr(p, ':');
                uint64_t x;

                if ((end != NULL) != (i < 2))
                        return -EINVAL;
                if (end)
                        *end = 0;
                if (!*p || strspn(p, "0123456789") != strlen(p) || parse_uint64(p, &x) < 0 || x > UINT32_MAX)
                        return -EINVAL;
                v[i] = (uint32_t) x;
                p = end ? end + 1 : NULL;
        }
        return v[2] > 0 && (uint64_t) v[0] + v[2] <= (1ULL << 32) && (uint64_t) v[1] + v[2] <= (1ULL << 32) ? 0
                                                                                                           : -EINVAL;
}

static int build_userns(struct build *b, json_object *linux_, uint32_t v[3], struct error *err)
{
        const char *mode;
        int r;

        if ((r = get_string(b->host, "UsernsMode", "HostConfig.UsernsMode", &mode, err)) < 0)
                return r;
        if (!*mode || strcmp(mode, "host") == 0)
                return 0;
        if (strcmp(mode, "auto") == 0) {
                if (b->env->userns_count == 0)
                        return error_setx(err, EINVAL,
                                          "HostConfig.UsernsMode: \"auto\": the engine picked no id range");
                v[0] = 0;
                v[1] = b->env->userns_uid;
                v[2] = b->env->userns_count;
        } else if (parse_userns_mapping(mode, v) < 0)
                return error_setx(err, EINVAL, "HostConfig.UsernsMode: invalid mode \"%s\", expected host, auto or "
                                  "UID:HOSTUID:COUNT", mode);
        if (b->privileged)
                return error_setx(err, EINVAL, "HostConfig.Privileged: privileged mode is incompatible with user "
                                  "namespaces; run privileged containers with --userns host");
        json_object_object_add(linux_, "uidMappings", id_map(v[0], v[1], v[2]));
        json_object_object_add(linux_, "gidMappings",
                               id_map(v[0], strcmp(mode, "auto") == 0 ? b->env->userns_gid : v[1], v[2]));
        b->userns = true;
        b->map_ctr_gid = v[0];
        b->map_count = v[2];
        return 0;
}

static void build_namespaces(struct build *b, json_object *linux_)
{
        static const char *const types[] = { "pid", "ipc", "uts", "mount", "network", "cgroup", "user" };
        json_object *list = json_object_new_array();

        for (size_t i = 0; i < ELEMENTSOF(types); i++) {
                json_object *ns;

                if ((strcmp(types[i], "network") == 0 && b->host_net) || (strcmp(types[i], "user") == 0 && !b->userns))
                        continue;
                ns = json_object_new_object();
                jobj_add_str(ns, "type", types[i]);
                if (strcmp(types[i], "network") == 0 && b->env->netns_path)
                        jobj_add_str(ns, "path", b->env->netns_path);
                json_object_array_add(list, ns);
        }
        json_object_object_add(linux_, "namespaces", list);
}

static int build_hostname(struct build *b, json_object *spec, struct error *err)
{
        const char *hn, *net;
        char host[HOSTNAME_MAX + 1] = "";
        int r;

        if ((r = get_string(b->config, "Hostname", "Config.Hostname", &hn, err)) < 0 ||
            (r = get_string(b->host, "NetworkMode", "HostConfig.NetworkMode", &net, err)) < 0)
                return r;
        b->host_net = strcmp(net, "host") == 0;
        /* container:NAME sharing the host's: the engine passes no namespace path */
        if (strncmp(net, "container:", 10) == 0 && !b->env->netns_path)
                b->host_net = true;
        if (strlen(hn) > HOSTNAME_MAX)
                return error_setx(err, EINVAL, "Config.Hostname: longer than %d characters", HOSTNAME_MAX);
        if (*hn)
                b->hostname = xstrdup(hn);
        else if (b->host_net && gethostname(host, sizeof(host) - 1) == 0)
                b->hostname = xstrdup(host);
        else
                b->hostname = xstrndup(b->env->id ? b->env->id : "", 12);
        jobj_add_str(spec, "hostname", b->hostname);
        return 0;
}

/* ---- resources ---- */

static bool file_exists(const char *p)
{
        return access(p, F_OK) == 0;
}

static bool cgroup_unified(void)
{
        return file_exists("/sys/fs/cgroup/cgroup.controllers");
}

/* Swap limits need swap accounting; without it Docker ignores them. */
static bool swap_supported(void)
{
        return cgroup_unified() || file_exists("/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes");
}

/* A block I/O weight needs CFQ or BFQ under cgroup v1. */
static bool blkio_weight_supported(void)
{
        return cgroup_unified() || file_exists("/sys/fs/cgroup/blkio/blkio.weight") ||
               file_exists("/sys/fs/cgroup/blkio/blkio.bfq.weight");
}

static int build_memory(struct build *b, json_object *res, struct error *err)
{
        int64_t mem, swap;
        json_object *m;
        int r;

        if ((r = get_int(b->host, "Memory", "HostConfig.Memory", &mem, err)) < 0 ||
            (r = get_int(b->host, "MemorySwap", "HostConfig.MemorySwap", &swap, err)) < 0)
                return r;
        if (mem < 0)
                return error_setx(err, EINVAL, "HostConfig.Memory: must not be negative");
        if (mem > 0 && mem < MIN_MEMORY)
                return error_setx(err, EINVAL, "HostConfig.Memory: Minimum memory limit allowed is 6MB");
        if (swap < -1)
                return error_setx(err, EINVAL, "HostConfig.MemorySwap: must be -1 (unlimited) or a size");
        if (swap > 0 && mem == 0)
                return error_setx(err, EINVAL, "HostConfig.MemorySwap: You should always set the Memory limit when "
                                  "using Memoryswap limit, see usage");
        if (swap > 0 && swap < mem)
                return error_setx(err, EINVAL, "HostConfig.MemorySwap: Minimum memoryswap limit should be larger "
                                  "than memory limit, see usage");
        if (mem == 0)
                return 0;
        m = json_object_new_object();
        jobj_add_int(m, "limit", mem);
        /* MemorySwap is memory plus swap; unset means as much swap as memory */
        if (swap_supported())
                jobj_add_int(m, "swap", swap == 0 ? 2 * mem : swap);
        json_object_object_add(res, "memory", m);
        return 0;
}

/* A "0-2,4" list into SET (bits 0..1023). */
static int cpuset_parse(const char *s, uint64_t set[16])
{
        const char *p = s;

        memset(set, 0, 16 * sizeof(uint64_t));
        while (*p) {
                char *end;
                unsigned long a = strtoul(p, &end, 10), z = a;

                if (end == p || !isdigit((unsigned char) *p))
                        return -EINVAL;
                p = end;
                if (*p == '-') {
                        if (!isdigit((unsigned char) p[1]))
                                return -EINVAL;
                        z = strtoul(p + 1, &end, 10);
                        p = end;
                }
                if (z < a || z >= 1024)
                        return -EINVAL;
                for (unsigned long c = a; c <= z; c++)
                        set[c / 64] |= 1ULL << (c % 64);
                if (*p == ',' && p[1])
                        p++;
                else if (*p)
                        return -EINVAL;
        }
        return p == s ? -EINVAL : 0;
}

static int check_cpuset(const char *cpus, struct error *err)
{
        _cleanup_free_ char *online = NULL;
        uint64_t want[16], have[16];

        if (cpuset_parse(cpus, want) < 0)
                return error_setx(err, EINVAL, "HostConfig.CpusetCpus: Invalid value %s for cpuset cpus", cpus);
        if (read_full_file_at(AT_FDCWD, "/sys/devices/system/cpu/online", 4096, &online, NULL) < 0)
                return 0;
        online[strcspn(online, "\n")] = 0;
        if (cpuset_parse(online, have) < 0)
                return 0;
        for (size_t i = 0; i < 16; i++)
                if (want[i] & ~have[i])
                        return error_setx(err, EINVAL, "HostConfig.CpusetCpus: Requested CPUs are not available - "
                                          "requested %s, available: %s", cpus, online);
        return 0;
}

static int build_cpu(struct build *b, json_object *res, struct error *err)
{
        int64_t nano, shares, n = host_cpu_count();
        const char *cpus;
        json_object *c;
        int r;

        if ((r = get_int(b->host, "NanoCpus", "HostConfig.NanoCpus", &nano, err)) < 0 ||
            (r = get_int(b->host, "CpuShares", "HostConfig.CpuShares", &shares, err)) < 0 ||
            (r = get_string(b->host, "CpusetCpus", "HostConfig.CpusetCpus", &cpus, err)) < 0)
                return r;
        if (nano < 0 || nano > n * 1000000000 || (nano > 0 && nano < 10000000))
                return error_setx(err, EINVAL, "HostConfig.NanoCpus: range of CPUs is from 0.01 to %lld.00, as there "
                                  "are only %lld CPUs available", (long long) n, (long long) n);
        if (shares < 0)
                return error_setx(err, EINVAL, "HostConfig.CpuShares: must not be negative");
        if (*cpus && (r = check_cpuset(cpus, err)) < 0)
                return r;
        if (nano == 0 && shares == 0 && !*cpus)
                return 0;
        c = json_object_new_object();
        if (shares > 0) /* the kernel's range, as Docker clamps it */
                jobj_add_int(c, "shares", shares < 2 ? 2 : shares > 262144 ? 262144 : shares);
        if (nano > 0) {
                jobj_add_int(c, "quota", nano * CPU_PERIOD / 1000000000);
                jobj_add_int(c, "period", CPU_PERIOD);
        }
        if (*cpus)
                jobj_add_str(c, "cpus", cpus);
        json_object_object_add(res, "cpu", c);
        return 0;
}

static int build_blkio(struct build *b, json_object *res, struct error *err)
{
        json_object *rates = jobj_get(b->host, "BlkioDeviceReadBps"), *bio, *list;
        int64_t weight;
        int r;

        if ((r = get_int(b->host, "BlkioWeight", "HostConfig.BlkioWeight", &weight, err)) < 0)
                return r;
        if (weight != 0 && (weight < 10 || weight > 1000))
                return error_setx(err, EINVAL, "HostConfig.BlkioWeight: Range of blkio weight is from 10 to 1000");
        if (rates && !json_object_is_type(rates, json_type_array))
                return error_setx(err, EINVAL, "HostConfig.BlkioDeviceReadBps: expected an array");
        if ((weight == 0 || !blkio_weight_supported()) && jlen(rates) == 0)
                return 0;
        bio = json_object_new_object();
        json_object_object_add(res, "blockIO", bio);
        if (weight > 0 && blkio_weight_supported())
                jobj_add_int(bio, "weight", weight);
        if (jlen(rates) == 0)
                return 0;
        list = json_object_new_array();
        json_object_object_add(bio, "throttleReadBpsDevice", list);
        for (size_t i = 0; i < jlen(rates); i++) {
                json_object *d = json_object_array_get_idx(rates, i), *t;
                const char *path = jobj_str(d, "Path");
                int64_t rate = jobj_int64(d, "Rate");
                struct stat st;

                if (!path || stat(path, &st) < 0)
                        return error_setx(err, ENOENT, "HostConfig.BlkioDeviceReadBps[%zu]: no such device: %s", i,
                                          path ? path : "");
                if (!S_ISBLK(st.st_mode) || rate < 0)
                        return error_setx(err, EINVAL, "HostConfig.BlkioDeviceReadBps[%zu]: %s is not a block device",
                                          i, path);
                t = json_object_new_object();
                jobj_add_int(t, "major", major(st.st_rdev));
                jobj_add_int(t, "minor", minor(st.st_rdev));
                jobj_add_int(t, "rate", rate);
                json_object_array_add(list, t);
        }
        return 0;
}

static int build_pids(struct build *b, json_object *res, struct error *err)
{
        int64_t limit;
        json_object *p;
        int r;

        if ((r = get_int(b->host, "PidsLimit", "HostConfig.PidsLimit", &limit, err)) < 0)
                return r;
        if (limit == 0)
                return 0;
        p = json_object_new_object();
        jobj_add_int(p, "limit", limit < 0 ? -1 : limit);
        json_object_object_add(res, "pids", p);
        return 0;
}

/* ---- devices ---- */

static json_object *cgroup_rule(bool allow, const char *type, int64_t maj, int64_t min, const char *access)
{
        json_object *r = json_object_new_object();

        json_object_object_add(r, "allow", json_object_new_boolean(allow));
        if (type)
                jobj_add_str(r, "type", type);
        if (maj >= 0)
                jobj_add_int(r, "major", maj);
        if (min >= 0)
                jobj_add_int(r, "minor", min);
        jobj_add_str(r, "access", access);
        return r;
}

struct device_ctx {
        json_object *devices, *rules;
        const char *perms;
};

static void device_add(struct device_ctx *d, const char *path, const struct stat *st)
{
        json_object *dev = json_object_new_object();
        const char *type = S_ISCHR(st->st_mode) ? "c" : "b";

        jobj_add_str(dev, "path", path);
        jobj_add_str(dev, "type", type);
        jobj_add_int(dev, "major", major(st->st_rdev));
        jobj_add_int(dev, "minor", minor(st->st_rdev));
        jobj_add_int(dev, "fileMode", st->st_mode & 0777);
        jobj_add_int(dev, "uid", st->st_uid);
        jobj_add_int(dev, "gid", st->st_gid);
        json_object_array_add(d->devices, dev);
        if (d->rules)
                json_object_array_add(d->rules,
                                      cgroup_rule(true, type, major(st->st_rdev), minor(st->st_rdev), d->perms));
}

/* The devices below directory HOST (Docker's --device /dev/snd), as CTR/... */
static void device_dir(struct device_ctx *d, const char *host, const char *ctr, unsigned depth)
{
        DIR *dir;
        struct dirent *de;

        if (depth > DEVICE_DEPTH_MAX || !(dir = opendir(host)))
                return;
        while ((de = readdir(dir))) {
                _cleanup_free_ char *h = NULL, *c = NULL;
                struct stat st;

                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                        continue;
                h = xasprintf("%s/%s", host, de->d_name);
                c = xasprintf("%s/%s", ctr, de->d_name);
                if (lstat(h, &st) < 0)
                        continue;
                if (S_ISDIR(st.st_mode))
                        device_dir(d, h, c, depth + 1);
                else if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode))
                        device_add(d, c, &st);
        }
        closedir(dir);
}

static int device_one(struct device_ctx *d, json_object *dev, size_t i, struct error *err)
{
        const char *host = jobj_str(dev, "PathOnHost"), *ctr = jobj_str(dev, "PathInContainer");
        const char *perms = jobj_str(dev, "CgroupPermissions");
        struct stat st;

        if (!host || host[0] != '/')
                return error_setx(err, EINVAL, "HostConfig.Devices[%zu].PathOnHost: %s is not an absolute path", i,
                                  host ? host : "");
        if (!ctr || !*ctr)
                ctr = host;
        if (ctr[0] != '/')
                return error_setx(err, EINVAL, "HostConfig.Devices[%zu].PathInContainer: %s is not an absolute path",
                                  i, ctr);
        if (!perms || !*perms)
                perms = "rwm";
        if (strspn(perms, "rwm") != strlen(perms))
                return error_setx(err, EINVAL, "HostConfig.Devices[%zu].CgroupPermissions: bad mode specified: %s",
                                  i, perms);
        d->perms = perms;
        if (stat(host, &st) < 0)
                return error_set(err, errno, "HostConfig.Devices[%zu]: error gathering device information while "
                                 "adding custom device \"%s\"", i, host);
        if (S_ISDIR(st.st_mode))
                device_dir(d, host, ctr, 0);
        else if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode))
                device_add(d, ctr, &st);
        else
                return error_setx(err, EINVAL, "HostConfig.Devices[%zu]: error gathering device information while "
                                  "adding custom device \"%s\": not a device node", i, host);
        return 0;
}

static int build_devices(struct build *b, json_object *linux_, json_object *res, struct error *err)
{
        json_object *list = jobj_get(b->host, "Devices"), *rules = json_object_new_array();
        struct device_ctx d = { .devices = json_object_new_array(), .rules = b->privileged ? NULL : rules };

        json_object_object_add(res, "devices", rules);
        json_object_object_add(linux_, "devices", d.devices);
        if (list && !json_object_is_type(list, json_type_array))
                return error_setx(err, EINVAL, "HostConfig.Devices: expected an array");
        if (b->privileged)
                json_object_array_add(rules, cgroup_rule(true, "a", -1, -1, "rwm"));
        else {
                json_object_array_add(rules, cgroup_rule(false, NULL, -1, -1, "rwm"));
                json_object_array_add(rules, cgroup_rule(true, "c", -1, -1, "m"));
                json_object_array_add(rules, cgroup_rule(true, "b", -1, -1, "m"));
                for (size_t i = 0; i < ELEMENTSOF(default_devices); i++)
                        json_object_array_add(rules, cgroup_rule(true, "c", default_devices[i].major,
                                                                 default_devices[i].minor, "rwm"));
        }
        for (size_t i = 0; i < jlen(list); i++) {
                int r = device_one(&d, json_object_array_get_idx(list, i), i, err);

                if (r < 0)
                        return r;
        }
        return 0;
}

/* ---- security options and seccomp ---- */

static int parse_security_opts(struct build *b, struct error *err)
{
        json_object *opts;
        int r;

        if ((r = get_strings(b->host, "SecurityOpt", "HostConfig.SecurityOpt", &opts, err)) < 0)
                return r;
        for (size_t i = 0; i < jlen(opts); i++) {
                const char *o = jidx(opts, i);

                if (strcmp(o, "no-new-privileges") == 0 || strcmp(o, "no-new-privileges:true") == 0 ||
                    strcmp(o, "no-new-privileges=true") == 0)
                        b->nnp = true;
                else if (strcmp(o, "no-new-privileges:false") == 0 || strcmp(o, "no-new-privileges=false") == 0)
                        b->nnp = false;
                else if (strcmp(o, "seccomp=unconfined") == 0 || strcmp(o, "seccomp:unconfined") == 0)
                        b->seccomp = SECCOMP_UNCONFINED;
                else if ((strncmp(o, "seccomp=", 8) == 0 || strncmp(o, "seccomp:", 8) == 0) && o[8]) {
                        b->seccomp = SECCOMP_PROFILE;
                        b->profile = o + 8;
                } else if (strncmp(o, "apparmor=", 9) == 0 || strncmp(o, "label=", 6) == 0 ||
                           strncmp(o, "label:", 6) == 0)
                        ; /* no AppArmor or SELinux support: nothing to confine with */
                else
                        return error_setx(err, EINVAL, "HostConfig.SecurityOpt[%zu]: invalid --security-opt: \"%.64s\"",
                                          i, o);
        }
        return 0;
}

static int build_seccomp(struct build *b, json_object *linux_, struct error *err)
{
        const char *const *caps = (const char *const *) b->caps;
        json_object *profile = NULL;
        int r;

        /* privileged containers are unconfined, a profile given or not (Docker) */
        if (b->privileged || b->seccomp == SECCOMP_UNCONFINED)
                return 0;
        if (b->seccomp == SECCOMP_DEFAULT)
                profile = ocispec_default_seccomp(caps, strv_length(b->caps));
        else {
                r = ocispec_seccomp_from_text(b->profile, caps, strv_length(b->caps), &profile, err);
                if (r < 0)
                        return error_prefix(err, "HostConfig.SecurityOpt");
        }
        json_object_object_add(linux_, "seccomp", profile);
        return 0;
}

/* ---- linux ---- */

static int build_resources(struct build *b, json_object *linux_, struct error *err)
{
        json_object *res = json_object_new_object();
        int r;

        json_object_object_add(linux_, "resources", res);
        if ((r = build_devices(b, linux_, res, err)) < 0 || (r = build_memory(b, res, err)) < 0 ||
            (r = build_cpu(b, res, err)) < 0 || (r = build_pids(b, res, err)) < 0 ||
            (r = build_blkio(b, res, err)) < 0)
                return r;
        return 0;
}

static int build_linux(struct build *b, json_object *spec, struct error *err)
{
        json_object *linux_ = json_object_new_object();
        uint32_t map[3];
        int r;

        json_object_object_add(spec, "linux", linux_);
        r = build_userns(b, linux_, map, err);
        if (r < 0)
                return r;
        build_namespaces(b, linux_);
        if (b->env->cgroup_path)
                jobj_add_str(linux_, "cgroupsPath", b->env->cgroup_path);
        r = build_resources(b, linux_, err);
        if (r < 0)
                return r;
        if (!b->privileged) {
                json_object_object_add(linux_, "maskedPaths", strings_new(masked_paths, ELEMENTSOF(masked_paths)));
                json_object_object_add(linux_, "readonlyPaths",
                                       strings_new(readonly_paths, ELEMENTSOF(readonly_paths)));
        }
        return build_seccomp(b, linux_, err);
}

static int build_root(struct build *b, json_object *spec, struct error *err)
{
        json_object *root;

        if (!b->env->rootfs || b->env->rootfs[0] != '/')
                return error_setx(err, EINVAL, "the root file system path must be absolute");
        root = json_object_new_object();
        jobj_add_str(root, "path", b->env->rootfs);
        json_object_object_add(root, "readonly", json_object_new_boolean(jobj_bool(b->host, "ReadonlyRootfs")));
        json_object_object_add(spec, "root", root);
        return 0;
}

static int check_body(json_object *create, json_object *image_config, struct error *err)
{
        json_object *c = jobj_get(create, "Config"), *h = jobj_get(create, "HostConfig");

        if (!json_object_is_type(create, json_type_object))
                return error_setx(err, EINVAL, "container config: expected an object");
        if (c && !json_object_is_type(c, json_type_object))
                return error_setx(err, EINVAL, "Config: expected an object");
        if (h && !json_object_is_type(h, json_type_object))
                return error_setx(err, EINVAL, "HostConfig: expected an object");
        if (image_config && !json_object_is_type(image_config, json_type_object))
                return error_setx(err, EINVAL, "image config: expected an object");
        return 0;
}

int ocispec_build(json_object *create, json_object *image_config, const struct ocispec_env *env,
                  json_object **ret, struct error *err)
{
        struct build b = {
                .config = jobj_get(create, "Config"),
                .host = jobj_get(create, "HostConfig"),
                .image = image_config,
                .env = env,
                .privileged = jobj_bool(jobj_get(create, "HostConfig"), "Privileged"),
        };
        json_object *spec = json_object_new_object();
        int r;

        jobj_add_str(spec, "ociVersion", OCI_VERSION);
        r = check_body(create, image_config, err);
        if (r >= 0)
                r = parse_security_opts(&b, err);
        if (r >= 0)
                r = build_caps(&b, err);
        if (r >= 0)
                r = build_hostname(&b, spec, err);
        if (r >= 0)
                r = build_process(&b, spec, err);
        if (r >= 0)
                r = build_root(&b, spec, err);
        if (r >= 0)
                r = build_linux(&b, spec, err); /* before the mounts: they depend on the user namespace */
        if (r >= 0)
                r = build_mounts(&b, spec, jobj_get(spec, "linux"), err);
        build_clear(&b);
        if (r < 0) {
                json_object_put(spec);
                return r;
        }
        *ret = spec;
        return 0;
}
