/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Flag values of run/create as Docker's CLI parses them.  Messages follow
 * Docker's ("invalid argument \"12x\" for \"-m, --memory\" flag: invalid
 * size: '12x'"), so scripts written against it keep matching. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "basic/fileio.h"
#include "engine/ocispec-internal.h"
#include "net/nft.h"

#define ENV_FILE_MAX (16U << 20)

_printf_(4, 5) static int flag_error(struct error *err, const char *flag, const char *value, const char *fmt, ...)
{
        _cleanup_free_ char *m = NULL;
        va_list ap;

        va_start(ap, fmt);
        m = xvasprintf(fmt, ap);
        va_end(ap);
        return error_setx(err, EINVAL, "invalid argument \"%s\" for \"%s\" flag: %s", value, flag, m);
}

/* ---- numbers ---- */

int parse_size(const char *s, int64_t *ret)
{
        static const char units[] = "kmgtp";
        unsigned __int128 ip = 0, frac = 0, scale = 1, mul = 1, v;
        const char *p = s, *u;

        if (!s || !isdigit((unsigned char) *p))
                return -EINVAL;
        for (; isdigit((unsigned char) *p); p++) {
                ip = ip * 10 + (unsigned) (*p - '0');
                if (ip > INT64_MAX)
                        return -ERANGE;
        }
        if (*p == '.') {
                p++;
                if (!isdigit((unsigned char) *p))
                        return -EINVAL;
                for (; isdigit((unsigned char) *p); p++)
                        if (scale < 1000000000000000000ULL) { /* digits past 18 do not matter */
                                frac = frac * 10 + (unsigned) (*p - '0');
                                scale *= 10;
                        }
        }
        if (*p == ' ')
                p++;
        if (*p && (u = strchr(units, tolower((unsigned char) *p)))) {
                for (long i = 0; i <= u - units; i++)
                        mul *= 1024;
                p++;
                if (*p == 'i' || *p == 'I')
                        p++;
        }
        if (*p == 'b' || *p == 'B')
                p++;
        if (*p)
                return -EINVAL;
        v = ip * mul + frac * mul / scale;
        if (v > INT64_MAX)
                return -ERANGE;
        *ret = (int64_t) v;
        return 0;
}

int parse_bytes(const char *flag, const char *s, int64_t *ret, struct error *err)
{
        int64_t v;

        if (parse_size(s, &v) < 0)
                return flag_error(err, flag, s ? s : "", "invalid size: '%s'", s ? s : "");
        *ret = v;
        return 0;
}

int host_cpu_count(void)
{
        cpu_set_t set;
        long n;

        if (sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) > 0)
                return CPU_COUNT(&set);
        n = sysconf(_SC_NPROCESSORS_ONLN);
        return n > 0 && n < INT_MAX ? (int) n : 1;
}

/* A decimal number of CPUs in nano CPUs: [+-]digits[.digits]. */
static int parse_nano(const char *s, int64_t *ret, bool *ret_too_precise)
{
        const char *p = s;
        bool neg = false, digits = false;
        int64_t v = 0;
        int scale = 0;

        *ret_too_precise = false;
        if (*p == '-' || *p == '+')
                neg = *p++ == '-';
        for (; isdigit((unsigned char) *p); p++, digits = true)
                if (__builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, *p - '0', &v))
                        return -ERANGE;
        if (*p == '.')
                for (p++; isdigit((unsigned char) *p); p++, digits = true) {
                        if (scale == 9) {
                                if (*p != '0')
                                        *ret_too_precise = true;
                                continue;
                        }
                        v = v * 10 + (*p - '0');
                        scale++;
                }
        if (!digits || *p)
                return -EINVAL;
        for (; scale < 9; scale++)
                if (__builtin_mul_overflow(v, 10, &v))
                        return -ERANGE;
        *ret = neg ? -v : v;
        return 0;
}

int parse_cpus(const char *flag, const char *s, int64_t *ret, struct error *err)
{
        int n = host_cpu_count();
        bool too_precise;
        int64_t v;
        int r;

        r = parse_nano(s ? s : "", &v, &too_precise);
        if (r == -ERANGE)
                v = INT64_MAX; /* out of range below */
        else if (r < 0)
                return flag_error(err, flag, s ? s : "", "failed to parse %s as a rational number", s ? s : "");
        if (too_precise)
                return flag_error(err, flag, s, "value is too precise");
        if (v < 10000000 || v > (int64_t) n * 1000000000)
                return flag_error(err, flag, s,
                                  "range of CPUs is from 0.01 to %d.00, as there are only %d CPUs available", n, n);
        *ret = v;
        return 0;
}

/* ---- durations, Go's time.ParseDuration ---- */

static const struct {
        const char *name;
        uint64_t ns;
} duration_units[] = {
        { "ns", 1 },
        { "us", 1000 },
        { "\u00b5s", 1000 }, /* micro sign */
        { "\u03bcs", 1000 }, /* Greek mu */
        { "ms", 1000000 },
        { "s", 1000000000ULL },
        { "m", 60000000000ULL },
        { "h", 3600000000000ULL },
};

/* One "1.5h" element of S at *P: its nanoseconds added to *SUM. */
static int duration_element(const char **p, unsigned __int128 *sum, const char *flag, const char *s,
                            struct error *err)
{
        unsigned __int128 v = 0, frac = 0, scale = 1;
        const char *q = *p, *start;
        bool pre = false, post = false;
        size_t ul;

        for (; isdigit((unsigned char) *q); q++, pre = true)
                if ((v = v * 10 + (unsigned) (*q - '0')) > INT64_MAX)
                        return flag_error(err, flag, s, "time: invalid duration \"%s\"", s);
        if (*q == '.')
                for (q++; isdigit((unsigned char) *q); q++, post = true)
                        if (scale < 1000000000000000000ULL) {
                                frac = frac * 10 + (unsigned) (*q - '0');
                                scale *= 10;
                        }
        if (!pre && !post)
                return flag_error(err, flag, s, "time: invalid duration \"%s\"", s);
        start = q;
        while (*q && *q != '.' && !isdigit((unsigned char) *q))
                q++;
        ul = (size_t) (q - start);
        if (ul == 0)
                return flag_error(err, flag, s, "time: missing unit in duration \"%s\"", s);
        for (size_t i = 0; i < ELEMENTSOF(duration_units); i++)
                if (strlen(duration_units[i].name) == ul && strncmp(duration_units[i].name, start, ul) == 0) {
                        *sum += v * duration_units[i].ns + frac * duration_units[i].ns / scale;
                        if (*sum > INT64_MAX)
                                return flag_error(err, flag, s, "time: invalid duration \"%s\"", s);
                        *p = q;
                        return 0;
                }
        return flag_error(err, flag, s, "time: unknown unit \"%.*s\" in duration \"%s\"", (int) ul, start, s);
}

int parse_duration(const char *flag, const char *s, int64_t *ret, struct error *err)
{
        unsigned __int128 sum = 0;
        const char *p = s ? s : "";
        int r;

        if (*p == '-')
                return flag_error(err, flag, s, "duration must not be negative");
        if (*p == '+')
                p++;
        if (strcmp(p, "0") == 0) {
                *ret = 0;
                return 0;
        }
        if (!*p)
                return flag_error(err, flag, s ? s : "", "time: invalid duration \"%s\"", s ? s : "");
        while (*p) {
                r = duration_element(&p, &sum, flag, s, err);
                if (r < 0)
                        return r;
        }
        *ret = (int64_t) sum;
        return 0;
}

/* ---- signals ---- */

static const struct {
        const char *name;
        int num;
} signal_names[] = {
        { "HUP", 1 },     { "INT", 2 },     { "QUIT", 3 },  { "ILL", 4 },     { "TRAP", 5 },   { "ABRT", 6 },
        { "IOT", 6 },     { "BUS", 7 },     { "FPE", 8 },   { "KILL", 9 },    { "USR1", 10 },  { "SEGV", 11 },
        { "USR2", 12 },   { "PIPE", 13 },   { "ALRM", 14 }, { "TERM", 15 },   { "STKFLT", 16 }, { "CHLD", 17 },
        { "CLD", 17 },    { "CONT", 18 },   { "STOP", 19 }, { "TSTP", 20 },   { "TTIN", 21 },  { "TTOU", 22 },
        { "URG", 23 },    { "XCPU", 24 },   { "XFSZ", 25 }, { "VTALRM", 26 }, { "PROF", 27 },  { "WINCH", 28 },
        { "IO", 29 },     { "POLL", 29 },   { "PWR", 30 },  { "SYS", 31 },    { "RTMIN", 34 }, { "RTMAX", 64 },
};

/* "RTMIN+3", "RTMAX-2" (upper case, without SIG). */
static int signal_rt(const char *s)
{
        bool max = strncmp(s, "RTMAX-", 6) == 0;
        int64_t n;

        if (!max && strncmp(s, "RTMIN+", 6) != 0)
                return -EINVAL;
        if (parse_int64(s + 6, &n) < 0 || n < 1 || n > 29)
                return -EINVAL;
        return max ? 64 - (int) n : 34 + (int) n;
}

int parse_signal(const char *flag, const char *s, int *ret, struct error *err)
{
        _cleanup_free_ char *up = xstrdup(s);
        const char *name = up;
        int64_t n;
        int sig;

        if (parse_int64(up, &n) >= 0) {
                if (n < 1 || n > 64)
                        return flag_error(err, flag, up, "invalid signal: %s", up);
                *ret = (int) n;
                return 0;
        }
        for (char *p = up; *p; p++)
                *p = (char) toupper((unsigned char) *p);
        if (strncmp(name, "SIG", 3) == 0)
                name += 3;
        for (size_t i = 0; i < ELEMENTSOF(signal_names); i++)
                if (strcmp(signal_names[i].name, name) == 0) {
                        *ret = signal_names[i].num;
                        return 0;
                }
        sig = signal_rt(name);
        if (sig < 0)
                return flag_error(err, flag, s, "invalid signal: %s", s);
        *ret = sig;
        return 0;
}

/* ---- restart policies ---- */

int parse_restart(const char *flag, const char *s, char **ret_name, int *ret_max, struct error *err)
{
        static const char *const names[] = { "no", "always", "on-failure", "unless-stopped" };
        const char *colon = strchr(s, ':');
        _cleanup_free_ char *name = colon ? xstrndup(s, (size_t) (colon - s)) : xstrdup(s);
        int64_t max = 0;
        bool known = false;

        if (colon && !*name)
                return flag_error(err, flag, s, "invalid restart policy format: no policy provided before colon");
        if (colon && colon[1] && parse_int64(colon + 1, &max) < 0)
                return flag_error(err, flag, s,
                                  "invalid restart policy format: maximum retry count must be an integer");
        if (!*name) {
                free(name);
                name = xstrdup("no");
        }
        for (size_t i = 0; i < ELEMENTSOF(names); i++)
                known = known || strcmp(name, names[i]) == 0;
        if (!known)
                return flag_error(err, flag, s,
                                  "invalid restart policy: unknown policy '%s'; use one of 'no', 'always', "
                                  "'on-failure', or 'unless-stopped'", name);
        if (max != 0 && strcmp(name, "on-failure") != 0)
                return flag_error(err, flag, s,
                                  "invalid restart policy: maximum retry count can only be used with 'on-failure'");
        if (max < 0 || max > INT_MAX)
                return flag_error(err, flag, s, "invalid restart policy: maximum retry count cannot be negative");
        *ret_name = TAKE_PTR(name);
        *ret_max = (int) max;
        return 0;
}

/* ---- paths ---- */

char *path_clean(const char *p)
{
        char *out, *o;

        if (!p || p[0] != '/')
                return NULL;
        out = xmalloc(strlen(p) + 2);
        o = out;
        while (*p) {
                const char *c;
                size_t n;

                while (*p == '/')
                        p++;
                c = p;
                while (*p && *p != '/')
                        p++;
                n = (size_t) (p - c);
                if (n == 0 || (n == 1 && c[0] == '.'))
                        continue;
                if (n == 2 && c[0] == '.' && c[1] == '.') {
                        while (o > out && *--o != '/')
                                ;
                        continue;
                }
                *o++ = '/';
                memcpy(o, c, n);
                o += n;
        }
        if (o == out)
                *o++ = '/';
        *o = 0;
        return out;
}

/* An absolute path for a source given as "/abs" or "./rel" ("." and ".."
 * prefixes: relative to the working directory, as Docker's CLI does);
 * NULL for anything else. */
static char *source_path(const char *s)
{
        char cwd[PATH_MAX];
        _cleanup_free_ char *joined = NULL;

        if (s[0] == '/')
                return path_clean(s);
        if (s[0] != '.' || !getcwd(cwd, sizeof(cwd)))
                return NULL;
        joined = xasprintf("%s/%s", cwd, s);
        return path_clean(joined);
}

static bool volume_name_valid(const char *s)
{
        if (!isalnum((unsigned char) s[0]) || !s[1])
                return false;
        for (const char *p = s + 1; *p; p++)
                if (!isalnum((unsigned char) *p) && !strchr("_.-", *p))
                        return false;
        return true;
}

static bool propagation_valid(const char *s)
{
        static const char *const props[] = { "private", "rprivate", "shared", "rshared", "slave", "rslave" };

        for (size_t i = 0; i < ELEMENTSOF(props); i++)
                if (strcmp(s, props[i]) == 0)
                        return true;
        return false;
}

/* ---- -v, --mount, --tmpfs ---- */

static json_object *mount_new(const char *type, const char *source, const char *target, bool ro)
{
        json_object *m = json_object_new_object();

        jobj_add_str(m, "Type", type);
        jobj_add_str(m, "Source", source ? source : "");
        jobj_add_str(m, "Target", target);
        json_object_object_add(m, "ReadOnly", json_object_new_boolean(ro));
        return m;
}

struct volume_mode {
        bool ro, nocopy;
        const char *propagation;
};

/* -v's third part: rw|ro, z|Z, a propagation, nocopy, each once. */
static int volume_mode_parse(char *mode, struct volume_mode *ret)
{
        bool seen_rw = false, seen_z = false, seen_nocopy = false, seen_cons = false;
        char *save = NULL;

        for (char *o = strtok_r(mode, ",", &save); o; o = strtok_r(NULL, ",", &save)) {
                bool *seen;

                if (strcmp(o, "ro") == 0 || strcmp(o, "rw") == 0) {
                        ret->ro = o[1] == 'o';
                        seen = &seen_rw;
                } else if (strcmp(o, "z") == 0 || strcmp(o, "Z") == 0)
                        seen = &seen_z; /* SELinux relabelling: no SELinux here */
                else if (strcmp(o, "nocopy") == 0) {
                        ret->nocopy = true;
                        seen = &seen_nocopy;
                } else if (strcmp(o, "consistent") == 0 || strcmp(o, "cached") == 0 || strcmp(o, "delegated") == 0)
                        seen = &seen_cons; /* macOS only, ignored as Docker does on Linux */
                else if (propagation_valid(o)) {
                        if (ret->propagation)
                                return -EINVAL;
                        ret->propagation = o;
                        continue;
                } else
                        return -EINVAL;
                if (*seen)
                        return -EINVAL;
                *seen = true;
        }
        return 0;
}

/* The checks -v and --mount share: TYPE, SOURCE as given, TARGET.  On
 * success *RET_SOURCE is the source to record. */
static int mount_check(const char *type, const char *source, const char *target, char **ret_source,
                       char **ret_target, char **ret_msg)
{
        _cleanup_free_ char *dst = path_clean(target), *src = NULL;
        struct stat st;

        if (!dst) {
                *ret_msg = xasprintf("invalid mount config for type \"%s\": invalid mount path: '%s' mount path "
                                     "must be absolute", type, target);
                return -EINVAL;
        }
        if (strcmp(dst, "/") == 0) {
                *ret_msg = xasprintf("invalid mount config for type \"%s\": invalid specification: destination "
                                     "can't be '/'", type);
                return -EINVAL;
        }
        if (strcmp(type, "bind") == 0) {
                if (!*source) {
                        *ret_msg = xstrdup("invalid mount config for type \"bind\": field Source must not be empty");
                        return -EINVAL;
                }
                src = source_path(source);
                if (!src) {
                        *ret_msg = xasprintf("invalid mount config for type \"bind\": invalid mount path: '%s' "
                                             "mount path must be absolute", source);
                        return -EINVAL;
                }
                if (stat(src, &st) < 0) {
                        *ret_msg = xasprintf("invalid mount config for type \"bind\": bind source path does not "
                                             "exist: %s", src);
                        return -ENOENT;
                }
        } else if (strcmp(type, "volume") == 0) {
                if (*source && !volume_name_valid(source)) {
                        *ret_msg = xasprintf("create %s: \"%s\" includes invalid characters for a local volume "
                                             "name, only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you "
                                             "intended to pass a host directory, use absolute path", source, source);
                        return -EINVAL;
                }
                src = xstrdup(source);
        } else if (*source) {
                *ret_msg = xasprintf("invalid mount config for type \"%s\": field Source must not be specified",
                                     type);
                return -EINVAL;
        } else
                src = xstrdup("");
        *ret_source = TAKE_PTR(src);
        *ret_target = TAKE_PTR(dst);
        return 0;
}

/* strconv.ParseBool */
static int parse_go_bool(const char *s, bool *ret)
{
        static const char *const yes[] = { "1", "t", "T", "TRUE", "true", "True" };
        static const char *const no[] = { "0", "f", "F", "FALSE", "false", "False" };

        for (size_t i = 0; i < ELEMENTSOF(yes); i++) {
                if (strcmp(s, yes[i]) == 0) {
                        *ret = true;
                        return 0;
                }
                if (strcmp(s, no[i]) == 0) {
                        *ret = false;
                        return 0;
                }
        }
        return -EINVAL;
}

/* Split one CSV record (Go's encoding/csv: fields may be quoted, "" is a
 * quote inside quotes) into a string vector. */
static int csv_split(const char *s, char ***ret)
{
        _cleanup_strv_free_ char **v = NULL;
        const char *p = s;

        for (;;) {
                _cleanup_free_ char *f = xmalloc(strlen(p) + 1);
                size_t n = 0;

                if (*p == '"') {
                        for (p++;; p++) {
                                if (!*p)
                                        return -EINVAL;
                                if (*p == '"' && p[1] == '"')
                                        f[n++] = *p++;
                                else if (*p == '"')
                                        break;
                                else
                                        f[n++] = *p;
                        }
                        p++;
                        if (*p && *p != ',')
                                return -EINVAL;
                } else
                        while (*p && *p != ',') {
                                if (*p == '"')
                                        return -EINVAL;
                                f[n++] = *p++;
                        }
                f[n] = 0;
                strv_push(&v, TAKE_PTR(f));
                if (!*p)
                        break;
                p++;
        }
        *ret = TAKE_PTR(v);
        return 0;
}

struct mount_opts {
        const char *type, *source, *target, *propagation;
        bool ro, nocopy, has_tmpfs, has_bind, has_volume;
        int64_t size;
        uint32_t mode;
};

/* One key[=value] of --mount into O; a message on error. */
static int mount_field(const char *field, struct mount_opts *o, char **ret_msg)
{
        const char *eq = strchr(field, '=');
        _cleanup_free_ char *key = eq ? xstrndup(field, (size_t) (eq - field)) : xstrdup(field);
        const char *val = eq ? eq + 1 : NULL;
        bool b = true;

        for (char *p = key; *p; p++)
                *p = (char) tolower((unsigned char) *p);
        if (!val && strcmp(key, "readonly") && strcmp(key, "ro") && strcmp(key, "volume-nocopy")) {
                *ret_msg = xasprintf("invalid field '%s' must be a key=value pair", field);
                return -EINVAL;
        }
        if (val && (!strcmp(key, "readonly") || !strcmp(key, "ro") || !strcmp(key, "volume-nocopy")) &&
            parse_go_bool(val, &b) < 0) {
                *ret_msg = xasprintf("invalid value for %s: %s", key, val);
                return -EINVAL;
        }
        if (!strcmp(key, "type"))
                o->type = val;
        else if (!strcmp(key, "source") || !strcmp(key, "src"))
                o->source = val;
        else if (!strcmp(key, "target") || !strcmp(key, "dst") || !strcmp(key, "destination"))
                o->target = val;
        else if (!strcmp(key, "readonly") || !strcmp(key, "ro"))
                o->ro = b;
        else if (!strcmp(key, "consistency"))
                ; /* macOS only */
        else if (!strcmp(key, "bind-propagation")) {
                o->has_bind = true;
                o->propagation = val;
                if (!propagation_valid(val)) {
                        *ret_msg = xasprintf("invalid propagation mode: %s", val);
                        return -EINVAL;
                }
        } else if (!strcmp(key, "volume-nocopy")) {
                o->has_volume = true;
                o->nocopy = b;
        } else if (!strcmp(key, "volume-driver") && strcmp(val, "local") == 0)
                o->has_volume = true;
        else if (!strcmp(key, "tmpfs-size")) {
                o->has_tmpfs = true;
                if (parse_size(val, &o->size) < 0) {
                        *ret_msg = xasprintf("invalid value for %s: %s", key, val);
                        return -EINVAL;
                }
        } else if (!strcmp(key, "tmpfs-mode")) {
                char *end = NULL;
                unsigned long m;

                o->has_tmpfs = true;
                errno = 0;
                m = strtoul(val, &end, 8);
                if (!*val || *end || errno || m > 07777) {
                        *ret_msg = xasprintf("invalid value for %s: %s", key, val);
                        return -EINVAL;
                }
                o->mode = (uint32_t) m;
        } else {
                *ret_msg = xasprintf("unexpected key '%s' in '%s'", key, field);
                return -EINVAL;
        }
        return 0;
}

static json_object *mount_from_opts(const struct mount_opts *o, const char *src, const char *dst)
{
        json_object *m = mount_new(o->type, src, dst, o->ro), *x;

        if (o->propagation) {
                x = json_object_new_object();
                jobj_add_str(x, "Propagation", o->propagation);
                json_object_object_add(m, "BindOptions", x);
        }
        if (o->nocopy) {
                x = json_object_new_object();
                json_object_object_add(x, "NoCopy", json_object_new_boolean(true));
                json_object_object_add(m, "VolumeOptions", x);
        }
        if (o->size > 0 || o->mode > 0) {
                x = json_object_new_object();
                if (o->size > 0)
                        jobj_add_int(x, "SizeBytes", o->size);
                if (o->mode > 0)
                        jobj_add_int(x, "Mode", o->mode);
                json_object_object_add(m, "TmpfsOptions", x);
        }
        return m;
}

static int mount_opts_check(struct mount_opts *o, char **ret_msg)
{
        if (!o->type)
                o->type = "volume";
        if (strcmp(o->type, "bind") && strcmp(o->type, "volume") && strcmp(o->type, "tmpfs")) {
                *ret_msg = xasprintf("invalid mount type \"%s\"; supported: bind, volume, tmpfs", o->type);
                return -EINVAL;
        }
        if (!o->target || !*o->target) {
                *ret_msg = xstrdup("target is required");
                return -EINVAL;
        }
        if ((o->has_bind && strcmp(o->type, "bind")) || (o->has_volume && strcmp(o->type, "volume")) ||
            (o->has_tmpfs && strcmp(o->type, "tmpfs"))) {
                *ret_msg = xasprintf("cannot mix '%s-*' options with mount type '%s'",
                                     o->has_bind ? "bind" : o->has_volume ? "volume" : "tmpfs", o->type);
                return -EINVAL;
        }
        return 0;
}

int parse_volume(const char *s, json_object **ret, struct error *err)
{
        _cleanup_free_ char *copy = xstrdup(s), *msg = NULL, *src = NULL, *dst = NULL;
        char *part[4] = {}, prop[16] = "";
        struct volume_mode mode = {};
        struct mount_opts o;
        const char *type;
        size_t n = 0;
        int r;

        for (char *p = copy; n < ELEMENTSOF(part); n++) {
                part[n] = p;
                p = strchr(p, ':');
                if (!p) {
                        n++;
                        break;
                }
                *p++ = 0;
        }
        if (!*s || n > 3 || !*part[0] || (n >= 2 && !*part[1]))
                return error_setx(err, EINVAL, "invalid volume specification: '%s'", s);
        if (n == 2) {
                /* "/dst:ro" is a destination with a mode: volumes cannot have one */
                struct volume_mode probe = {};
                _cleanup_free_ char *m2 = xstrdup(part[1]);

                if (volume_mode_parse(m2, &probe) >= 0)
                        return error_setx(err, EINVAL, "invalid volume specification: '%s'", s);
        }
        if (n == 3) {
                _cleanup_free_ char *m3 = xstrdup(part[2]);

                if (!*part[2] || volume_mode_parse(m3, &mode) < 0)
                        return error_setx(err, EINVAL, "invalid volume specification: '%s': invalid mode: %s", s,
                                          part[2]);
                if (mode.propagation)
                        snprintf(prop, sizeof(prop), "%s", mode.propagation);
        }
        if (n == 1)
                type = "volume";
        else
                type = part[0][0] == '/' || part[0][0] == '.' ? "bind" : "volume";
        r = mount_check(type, n == 1 ? "" : part[0], n == 1 ? part[0] : part[1], &src, &dst, &msg);
        if (r < 0)
                return error_setx(err, -r, "invalid volume specification: '%s': %s", s, msg);
        if (mode.nocopy && strcmp(type, "bind") == 0)
                return error_setx(err, EINVAL, "invalid volume specification: '%s': invalid mode: %s", s, part[2]);
        o = (struct mount_opts) { .type = type, .ro = mode.ro, .nocopy = mode.nocopy,
                                  .propagation = *prop && strcmp(type, "bind") == 0 ? prop : NULL };
        *ret = mount_from_opts(&o, src, dst);
        return 0;
}

int parse_mount(const char *s, json_object **ret, struct error *err)
{
        _cleanup_strv_free_ char **fields = NULL;
        _cleanup_free_ char *msg = NULL, *src = NULL, *dst = NULL;
        struct mount_opts o = {};
        int r;

        if (csv_split(s, &fields) < 0)
                return flag_error(err, "--mount", s, "invalid CSV: unbalanced quotes");
        for (char **f = fields; *f; f++)
                if (**f && mount_field(*f, &o, &msg) < 0)
                        return flag_error(err, "--mount", s, "%s", msg);
        if (mount_opts_check(&o, &msg) < 0)
                return flag_error(err, "--mount", s, "%s", msg);
        r = mount_check(o.type, o.source ? o.source : "", o.target, &src, &dst, &msg);
        if (r < 0)
                return flag_error(err, "--mount", s, "%s", msg);
        *ret = mount_from_opts(&o, src, dst);
        return 0;
}

/* Flags a tmpfs takes besides size and mode, passed on as
 * TmpfsOptions.Options (Docker API 1.46). */
static bool tmpfs_flag_valid(const char *o)
{
        static const char *const flags[] = { "exec", "noexec", "suid", "nosuid", "dev", "nodev", "atime",
                                             "noatime", "relatime", "norelatime", "strictatime", "nostrictatime",
                                             "diratime", "nodiratime", "sync", "async", "dirsync" };

        for (size_t i = 0; i < ELEMENTSOF(flags); i++)
                if (strcmp(o, flags[i]) == 0)
                        return true;
        return false;
}

static int tmpfs_option(const char *s, const char *o, json_object *m, json_object *opts, struct error *err)
{
        json_object *t = jobj_get(m, "TmpfsOptions"), *pair;
        const char *eq = strchr(o, '=');
        int64_t v;

        if (strcmp(o, "ro") == 0 || strcmp(o, "rw") == 0) {
                json_object_object_add(m, "ReadOnly", json_object_new_boolean(o[1] == 'o'));
                return 0;
        }
        if (strncmp(o, "size=", 5) == 0) {
                if (parse_size(o + 5, &v) < 0 || v <= 0)
                        return flag_error(err, "--tmpfs", s, "invalid tmpfs size: %s", o + 5);
                jobj_add_int(t, "SizeBytes", v);
                return 0;
        }
        if (strncmp(o, "mode=", 5) == 0) {
                char *end = NULL;
                unsigned long mode = strtoul(o + 5, &end, 8);

                if (!o[5] || *end || mode > 07777)
                        return flag_error(err, "--tmpfs", s, "invalid tmpfs mode: %s", o + 5);
                jobj_add_int(t, "Mode", (int64_t) mode);
                return 0;
        }
        pair = json_object_new_array();
        if (eq && (!strncmp(o, "uid=", 4) || !strncmp(o, "gid=", 4) || !strncmp(o, "nr_inodes=", 10)) &&
            eq[1] && strspn(eq + 1, "0123456789kKmMgG") == strlen(eq + 1)) {
                json_object_array_add(pair, json_object_new_string_len(o, (int) (eq - o)));
                jarr_add_str(pair, eq + 1);
        } else if (!eq && tmpfs_flag_valid(o))
                jarr_add_str(pair, o);
        else {
                json_object_put(pair);
                return flag_error(err, "--tmpfs", s, "invalid tmpfs option: %s", o);
        }
        json_object_array_add(opts, pair);
        return 0;
}

int parse_tmpfs(const char *s, json_object **ret, struct error *err)
{
        const char *colon = strchr(s, ':');
        _cleanup_free_ char *target = colon ? xstrndup(s, (size_t) (colon - s)) : xstrdup(s);
        _cleanup_free_ char *dst = path_clean(target), *opts = colon ? xstrdup(colon + 1) : NULL;
        json_object *m, *t, *list;
        char *save = NULL;

        if (!dst)
                return flag_error(err, "--tmpfs", s, "invalid mount path: '%s' mount path must be absolute", target);
        if (strcmp(dst, "/") == 0)
                return flag_error(err, "--tmpfs", s, "invalid specification: destination can't be '/'");
        m = mount_new("tmpfs", "", dst, false);
        t = json_object_new_object();
        list = json_object_new_array();
        json_object_object_add(m, "TmpfsOptions", t);
        for (char *o = opts ? strtok_r(opts, ",", &save) : NULL; o; o = strtok_r(NULL, ",", &save))
                if (tmpfs_option(s, o, m, list, err) < 0) {
                        json_object_put(list);
                        json_object_put(m);
                        return -EINVAL;
                }
        if (json_object_array_length(list) > 0)
                json_object_object_add(t, "Options", list);
        else
                json_object_put(list);
        if (json_object_object_length(t) == 0)
                json_object_object_del(m, "TmpfsOptions");
        *ret = m;
        return 0;
}

/* ---- --env-file ---- */

static bool utf8_valid(const char *s, size_t n)
{
        const unsigned char *p = (const unsigned char *) s, *end = p + n;

        while (p < end) {
                unsigned c = *p++, k;

                if (c < 0x80)
                        continue;
                if (c >= 0xc2 && c <= 0xdf)
                        k = 1;
                else if (c >= 0xe0 && c <= 0xef)
                        k = 2;
                else if (c >= 0xf0 && c <= 0xf4)
                        k = 3;
                else
                        return false;
                if ((size_t) (end - p) < k)
                        return false;
                for (unsigned i = 0; i < k; i++)
                        if ((p[i] & 0xc0) != 0x80)
                                return false;
                p += k;
        }
        return true;
}

/* One line (already without its newline) of an env file into ENV. */
static int env_line(const char *path, unsigned lineno, char *line, json_object *env, struct error *err)
{
        size_t n = strlen(line);
        const char *key, *val;
        char *eq;

        if (n > 0 && line[n - 1] == '\r')
                line[--n] = 0;
        if (!utf8_valid(line, n))
                return error_setx(err, EINVAL, "env file %s contains invalid utf8 bytes at line %u", path, lineno);
        while (isspace((unsigned char) *line))
                line++;
        if (!*line || *line == '#')
                return 0;
        eq = strchr(line, '=');
        if (eq)
                *eq = 0;
        key = line;
        val = eq ? eq + 1 : NULL;
        if (!*key)
                return error_setx(err, EINVAL, "--env-file `%s`: line %u: no variable name on line '%s=%s'", path,
                                  lineno, key, val ? val : "");
        if (strpbrk(key, " \t"))
                return error_setx(err, EINVAL,
                                  "--env-file `%s`: line %u: poorly formatted environment: variable '%s' contains "
                                  "whitespaces", path, lineno, key);
        if (val) {
                _cleanup_free_ char *kv = xasprintf("%s=%s", key, val);

                jarr_add_str(env, kv);
        } else if (getenv(key)) {
                _cleanup_free_ char *kv = xasprintf("%s=%s", key, getenv(key));

                jarr_add_str(env, kv);
        } /* unset in our environment: left out, as Docker does */
        return 0;
}

int parse_env_file(const char *path, json_object *env, struct error *err)
{
        _cleanup_free_ char *data = NULL;
        unsigned lineno = 0;
        size_t len = 0;
        char *p, *nl;
        int r;

        r = read_full_file_at(AT_FDCWD, path, ENV_FILE_MAX, &data, &len);
        if (r < 0)
                return error_set(err, r, "open `%s`", path);
        if (strlen(data) != len)
                return error_setx(err, EINVAL, "--env-file `%s`: contains a NUL byte", path);
        p = data;
        if (strncmp(p, "\xef\xbb\xbf", 3) == 0)
                p += 3;
        for (; p && *p; p = nl) {
                nl = strchr(p, '\n');
                if (nl)
                        *nl++ = 0;
                r = env_line(path, ++lineno, p, env, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* ---- --device, --device-read-bps ---- */

static bool device_mode_valid(const char *m)
{
        if (!*m || strlen(m) > 3)
                return false;
        for (const char *p = m; *p; p++)
                if (!strchr("rwm", *p) || strchr(p + 1, *p))
                        return false;
        return true;
}

int parse_device(const char *s, json_object **ret, struct error *err)
{
        _cleanup_free_ char *copy = xstrdup(s), *host = NULL, *ctr = NULL;
        const char *mode = "rwm", *dst;
        char *part[3] = {}, *p = copy;
        size_t n = 0;
        json_object *d;

        for (; n < 3 && p; n++) {
                part[n] = p;
                p = strchr(p, ':');
                if (p)
                        *p++ = 0;
        }
        if (p || !*part[0])
                return flag_error(err, "--device", s, "bad format for path: %s", s);
        dst = part[0];
        if (n == 2 && device_mode_valid(part[1]))
                mode = part[1];
        else if (n >= 2)
                dst = part[1];
        if (n == 3) {
                if (!device_mode_valid(part[2]))
                        return flag_error(err, "--device", s, "bad mode specified: %s", part[2]);
                mode = part[2];
        }
        host = path_clean(part[0]);
        ctr = path_clean(dst);
        if (!host)
                return flag_error(err, "--device", s, "%s is not an absolute path", part[0]);
        if (!ctr)
                return flag_error(err, "--device", s, "%s is not an absolute path", dst);
        d = json_object_new_object();
        jobj_add_str(d, "PathOnHost", host);
        jobj_add_str(d, "PathInContainer", ctr);
        jobj_add_str(d, "CgroupPermissions", mode);
        *ret = d;
        return 0;
}

int parse_device_rate(const char *s, json_object **ret, struct error *err)
{
        const char *colon = strchr(s, ':');
        _cleanup_free_ char *path = colon ? xstrndup(s, (size_t) (colon - s)) : NULL;
        json_object *d;
        int64_t rate;

        if (!colon)
                return flag_error(err, "--device-read-bps", s, "bad format: %s", s);
        if (strncmp(path, "/dev/", 5) != 0)
                return flag_error(err, "--device-read-bps", s, "bad format for device path: %s", s);
        if (parse_size(colon + 1, &rate) < 0)
                return flag_error(err, "--device-read-bps", s,
                                  "invalid rate for device: %s. The correct format is <device-path>:<number>[<unit>]. "
                                  "Number must be a positive integer. Unit is optional and can be kb, mb, or gb", s);
        d = json_object_new_object();
        jobj_add_str(d, "Path", path);
        jobj_add_int(d, "Rate", rate);
        *ret = d;
        return 0;
}

/* ---- networks ---- */

static bool ip_valid(const char *s, int family)
{
        unsigned char buf[sizeof(struct in6_addr)];

        if (family)
                return inet_pton(family, s, buf) == 1;
        return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

int parse_ip(const char *flag, const char *s, int family, struct error *err)
{
        if (!ip_valid(s, family))
                return flag_error(err, flag, s, "invalid %s address", family == AF_INET ? "IPv4"
                                                                     : family == AF_INET6 ? "IPv6" : "IP");
        return 0;
}

int parse_mac(const char *s, struct error *err)
{
        unsigned b[6];
        char end;

        if (strlen(s) != 17 || sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5], &end) != 6)
                return flag_error(err, "--mac-address", s, "invalid MAC address");
        if (b[0] & 1)
                return flag_error(err, "--mac-address", s, "a multicast address cannot be an interface's");
        return 0;
}

/* "N" or "N-M", each 1..65535 (0 when S is empty and EMPTY_OK). */
static int port_range(const char *s, bool empty_ok, int *lo, int *hi)
{
        char *end;
        long a, b;

        *lo = *hi = 0;
        if (!*s)
                return empty_ok ? 0 : -EINVAL;
        if (!isdigit((unsigned char) *s))
                return -EINVAL;
        a = strtol(s, &end, 10);
        b = a;
        if (*end == '-') {
                const char *m = end + 1;
                if (!isdigit((unsigned char) *m))
                        return -EINVAL;
                b = strtol(m, &end, 10);
        }
        if (*end || a < 1 || a > 65535 || b < 1 || b > 65535)
                return -ERANGE;
        if (b < a)
                return -EINVAL;
        *lo = (int) a;
        *hi = (int) b;
        return 0;
}

static void add_binding(json_object *bindings, const char *key, const char *ip, const char *port)
{
        json_object *arr = NULL, *o = json_object_new_object();

        if (!json_object_object_get_ex(bindings, key, &arr) || !json_object_is_type(arr, json_type_array)) {
                arr = json_object_new_array();
                json_object_object_add(bindings, key, arr);
        }
        jobj_add_str(o, "HostIp", ip);
        jobj_add_str(o, "HostPort", port);
        json_object_array_add(arr, o);
}

int parse_expose(const char *flag, const char *s, json_object *exposed, struct error *err)
{
        const char *slash = strchr(s, '/');
        _cleanup_free_ char *ports = slash ? xstrndup(s, (size_t) (slash - s)) : xstrdup(s);
        const char *proto = slash ? slash + 1 : "tcp";
        int lo, hi;

        if (strcmp(proto, "tcp") != 0 && strcmp(proto, "udp") != 0)
                return flag_error(err, flag, s, "invalid protocol \"%s\" (tcp or udp)", proto);
        if (port_range(ports, false, &lo, &hi) < 0)
                return flag_error(err, flag, s, "invalid port %s (1 to 65535)", ports);
        for (int p = lo; p <= hi; p++) {
                char key[16];
                snprintf(key, sizeof(key), "%d/%s", p, proto);
                json_object_object_add(exposed, key, json_object_new_object());
        }
        return 0;
}

int parse_publish(const char *s, json_object *bindings, json_object *exposed, struct error *err)
{
        static const char flag[] = "-p, --publish";
        _cleanup_free_ char *copy = xstrdup(s), *ip = xstrdup("");
        char *rest = copy, *proto = strrchr(copy, '/'), *host = NULL, *ctr, *colon;
        int hlo, hhi, clo, chi, r;

        if (proto && !strchr(proto, ']')) {
                *proto++ = '\0';
                if (strcmp(proto, "tcp") != 0 && strcmp(proto, "udp") != 0)
                        return flag_error(err, flag, s, "invalid protocol \"%s\" (tcp or udp)", proto);
        } else
                proto = "tcp";
        if (*rest == '[') {
                char *close = strchr(rest, ']');
                if (!close || close[1] != ':')
                        return flag_error(err, flag, s, "invalid IPv6 address: no \"]:\"");
                free(ip);
                ip = xstrndup(rest + 1, (size_t) (close - rest - 1));
                rest = close + 2;
                if (!ip_valid(ip, AF_INET6))
                        return flag_error(err, flag, s, "invalid IP address %s", ip);
        }
        ctr = strrchr(rest, ':');
        if (ctr) {
                *ctr++ = '\0';
                host = rest;
                colon = strrchr(host, ':');
                if (colon && !*ip) {
                        *colon = '\0';
                        free(ip);
                        ip = xstrdup(host);
                        host = colon + 1;
                        if (!ip_valid(ip, 0))
                                return flag_error(err, flag, s, "invalid IP address %s", ip);
                } else if (colon)
                        return flag_error(err, flag, s, "too many colons");
        } else
                ctr = rest;
        r = port_range(ctr, false, &clo, &chi);
        if (r < 0)
                return flag_error(err, flag, s, "invalid container port %s (1 to 65535)", ctr);
        r = port_range(host ? host : "", true, &hlo, &hhi);
        if (r < 0)
                return flag_error(err, flag, s, "invalid port %s (1 to 65535)", host);
        if (hlo && hhi - hlo != chi - clo && clo != chi)
                return flag_error(err, flag, s, "the host range %s and the container range %s differ in length",
                                  host, ctr);
        for (int p = clo; p <= chi; p++) {
                char key[16], hp[16] = "";
                snprintf(key, sizeof(key), "%d/%s", p, proto);
                if (hlo && clo == chi && hlo != hhi)
                        snprintf(hp, sizeof(hp), "%d-%d", hlo, hhi); /* one free port of the range */
                else if (hlo)
                        snprintf(hp, sizeof(hp), "%d", hlo + (p - clo));
                add_binding(bindings, key, ip, hp);
                json_object_object_add(exposed, key, json_object_new_object());
        }
        return 0;
}

int parse_add_host(const char *s, char **ret, struct error *err)
{
        const char *sep = strchr(s, '=');
        _cleanup_free_ char *name = NULL, *ip = NULL;

        if (!sep)
                sep = strchr(s, ':');
        if (!sep || sep == s)
                return flag_error(err, "--add-host", s, "expected NAME:IP");
        name = xstrndup(s, (size_t) (sep - s));
        ip = xstrdup(sep + 1);
        if (strpbrk(name, " \t"))
                return flag_error(err, "--add-host", s, "invalid host name \"%s\"", name);
        if (ip[0] == '[' && ip[strlen(ip) - 1] == ']') {
                char *inner = xstrndup(ip + 1, strlen(ip) - 2);
                free(ip);
                ip = inner;
        }
        if (strcmp(ip, "host-gateway") != 0 && !ip_valid(ip, 0))
                return flag_error(err, "--add-host", s, "invalid IP address \"%s\"", ip);
        *ret = xasprintf("%s:%s", name, ip);
        return 0;
}

int parse_egress_rule(const char *flag, const char *s, struct error *err)
{
        struct error why = ERROR_INIT;
        struct net_prefix p;
        const char *proto;
        unsigned port;
        int r;

        if (net_egress_rule_parse(s, &p, &port, &proto, &why) >= 0)
                return 0;
        r = flag_error(err, flag, s, "%s", why.msg);
        error_clear(&why);
        return r;
}
