/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The flag-value parsers of run/create: good values, bad values and the
 * exact (Docker's) wording of their errors. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "basic/rm-rf.h"
#include "engine/ocispec.h"
#include "tap.h"

static bool err_is(struct error *err, const char *want)
{
        bool r = err->msg && strcmp(err->msg, want) == 0;

        if (!r)
                printf("# got \"%s\"\n# want \"%s\"\n", err->msg ? err->msg : "(none)", want);
        error_clear(err);
        return r;
}

static bool err_has(struct error *err, const char *want)
{
        bool r = err->msg && strstr(err->msg, want);

        if (!r)
                printf("# got \"%s\"\n# want it to contain \"%s\"\n", err->msg ? err->msg : "(none)", want);
        error_clear(err);
        return r;
}

static const char *js(json_object *o, const char *key)
{
        json_object *v = NULL;

        return json_object_object_get_ex(o, key, &v) ? json_object_get_string(v) : NULL;
}

static bool jis(json_object *o, const char *key, const char *want)
{
        const char *v = js(o, key);

        return v && strcmp(v, want) == 0;
}

static void test_bytes(void)
{
        static const struct {
                const char *s;
                int64_t v;
        } good[] = {
                { "12", 12 },          { "12b", 12 },         { "12k", 12 << 10 },  { "12K", 12 << 10 },
                { "12kb", 12 << 10 },  { "12KiB", 12 << 10 }, { "12m", 12 << 20 },  { "12MB", 12 << 20 },
                { "12mib", 12 << 20 }, { "2g", 2LL << 30 },   { "1.5g", 3LL << 29 }, { "1t", 1LL << 40 },
                { "0", 0 },            { "64 m", 64 << 20 },
        };
        static const char *const bad[] = { "12x", "-1", "", "m", "1.g", "12kk", "1e3", "12  ", "99999999999999999999" };
        struct error err = ERROR_INIT;
        int64_t v;

        for (size_t i = 0; i < ELEMENTSOF(good); i++) {
                v = -1;
                ok(parse_bytes("--memory", good[i].s, &v, &err) == 0 && v == good[i].v, "bytes \"%s\" = %lld", good[i].s,
                   (long long) v);
                error_clear(&err);
        }
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                ok(parse_bytes("--memory", bad[i], &v, &err) < 0, "bytes \"%s\" refused", bad[i]);
                error_clear(&err);
        }
        ok(parse_bytes("--memory", "12x", &v, &err) < 0 &&
                   err_is(&err, "invalid argument \"12x\" for \"--memory\" flag: invalid size: '12x'"),
           "bytes: Docker's wording");
}

static void test_cpus(void)
{
        struct error err = ERROR_INIT;
        char buf[32];
        int64_t v = 0;
        long n = sysconf(_SC_NPROCESSORS_ONLN);

        ok(parse_cpus("--cpus", "1", &v, &err) == 0 && v == 1000000000, "cpus 1");
        ok(parse_cpus("--cpus", "0.5", &v, &err) == 0 && v == 500000000, "cpus 0.5");
        ok(parse_cpus("--cpus", "0.01", &v, &err) == 0 && v == 10000000, "cpus 0.01");
        ok(parse_cpus("--cpus", ".25", &v, &err) == 0 && v == 250000000, "cpus .25");
        ok(parse_cpus("--cpus", "-1", &v, &err) < 0 && err_has(&err, "range of CPUs is from 0.01 to"), "cpus -1");
        ok(parse_cpus("--cpus", "0", &v, &err) < 0 && err_has(&err, "--cpus"), "cpus 0");
        ok(parse_cpus("--cpus", "0.001", &v, &err) < 0 && err_has(&err, "range"), "cpus below 0.01");
        ok(parse_cpus("--cpus", "abc", &v, &err) < 0 &&
                   err_is(&err, "invalid argument \"abc\" for \"--cpus\" flag: failed to parse abc as a rational number"),
           "cpus abc");
        ok(parse_cpus("--cpus", "0.0000000001", &v, &err) < 0 && err_has(&err, "too precise"), "cpus too precise");
        snprintf(buf, sizeof(buf), "%ld", n + 1);
        ok(parse_cpus("--cpus", buf, &v, &err) < 0, "cpus above the host's count");
        error_clear(&err);
        snprintf(buf, sizeof(buf), "%ld.00", n);
        ok(parse_cpus("--cpus", buf, &v, &err) == 0 && v == n * 1000000000LL, "cpus = the host's count");
        ok(parse_cpus("--cpus", "1e3", &v, &err) < 0, "cpus 1e3 refused");
        error_clear(&err);
}

static void test_duration(void)
{
        static const struct {
                const char *s;
                int64_t v;
        } good[] = {
                { "30s", 30000000000LL }, { "1m30s", 90000000000LL }, { "500ms", 500000000LL }, { "2h", 7200000000000LL },
                { "0", 0 },               { "1.5s", 1500000000LL },   { "10us", 10000 },        { "3ns", 3 },
                { "1h2m3s4ms", 3723004000000LL },
        };
        struct error err = ERROR_INIT;
        int64_t v;

        for (size_t i = 0; i < ELEMENTSOF(good); i++) {
                v = -1;
                ok(parse_duration("--health-interval", good[i].s, &v, &err) == 0 && v == good[i].v, "duration \"%s\"",
                   good[i].s);
                error_clear(&err);
        }
        ok(parse_duration("--health-interval", "10", &v, &err) < 0 &&
                   err_is(&err, "invalid argument \"10\" for \"--health-interval\" flag: time: missing unit in duration \"10\""),
           "duration without unit");
        ok(parse_duration("--health-interval", "10x", &v, &err) < 0 &&
                   err_is(&err, "invalid argument \"10x\" for \"--health-interval\" flag: time: unknown unit \"x\" in duration \"10x\""),
           "duration unknown unit");
        ok(parse_duration("--health-interval", "abc", &v, &err) < 0 && err_has(&err, "time: invalid duration \"abc\""),
           "duration abc");
        ok(parse_duration("--health-interval", "", &v, &err) < 0 && err_has(&err, "invalid duration"), "duration empty");
        ok(parse_duration("--health-interval", "-1s", &v, &err) < 0 && err_has(&err, "negative"), "duration negative");
        ok(parse_duration("--health-interval", "9999999999h", &v, &err) < 0, "duration overflow");
        error_clear(&err);
}

static void test_signal(void)
{
        struct error err = ERROR_INIT;
        int sig = 0;

        ok(parse_signal("--stop-signal", "SIGTERM", &sig, &err) == 0 && sig == 15, "signal SIGTERM");
        ok(parse_signal("--stop-signal", "TERM", &sig, &err) == 0 && sig == 15, "signal TERM");
        ok(parse_signal("--stop-signal", "15", &sig, &err) == 0 && sig == 15, "signal 15");
        ok(parse_signal("--stop-signal", "sigkill", &sig, &err) == 0 && sig == 9, "signal sigkill");
        ok(parse_signal("--stop-signal", "usr1", &sig, &err) == 0 && sig == 10, "signal usr1");
        ok(parse_signal("--stop-signal", "SIGRTMIN+3", &sig, &err) == 0 && sig == 37, "signal SIGRTMIN+3");
        ok(parse_signal("--stop-signal", "RTMAX", &sig, &err) == 0 && sig == 64, "signal RTMAX");
        ok(parse_signal("--stop-signal", "SIGNOPE", &sig, &err) < 0 &&
                   err_is(&err, "invalid argument \"SIGNOPE\" for \"--stop-signal\" flag: invalid signal: SIGNOPE"),
           "signal SIGNOPE");
        ok(parse_signal("--stop-signal", "0", &sig, &err) < 0, "signal 0");
        error_clear(&err);
        ok(parse_signal("--stop-signal", "65", &sig, &err) < 0, "signal 65");
        error_clear(&err);
        ok(parse_signal("--stop-signal", "", &sig, &err) < 0, "signal empty");
        error_clear(&err);
}

static void test_restart(void)
{
        struct error err = ERROR_INIT;
        char *name = NULL;
        int max = -1;

        ok(parse_restart("--restart", "no", &name, &max, &err) == 0 && strcmp(name, "no") == 0 && max == 0, "restart no");
        free(name);
        ok(parse_restart("--restart", "always", &name, &max, &err) == 0 && strcmp(name, "always") == 0, "restart always");
        free(name);
        ok(parse_restart("--restart", "unless-stopped", &name, &max, &err) == 0, "restart unless-stopped");
        free(name);
        ok(parse_restart("--restart", "on-failure:3", &name, &max, &err) == 0 && strcmp(name, "on-failure") == 0 &&
                   max == 3,
           "restart on-failure:3");
        free(name);
        ok(parse_restart("--restart", "on-failure", &name, &max, &err) == 0 && max == 0, "restart on-failure");
        free(name);
        name = NULL;
        ok(parse_restart("--restart", "sometimes", &name, &max, &err) < 0 && !name &&
                   err_is(&err, "invalid argument \"sometimes\" for \"--restart\" flag: invalid restart policy: unknown "
                                "policy 'sometimes'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'"),
           "restart sometimes");
        ok(parse_restart("--restart", "always:3", &name, &max, &err) < 0 && err_has(&err, "only be used with 'on-failure'"),
           "restart always:3");
        ok(parse_restart("--restart", "on-failure:x", &name, &max, &err) < 0 && err_has(&err, "must be an integer"),
           "restart on-failure:x");
        ok(parse_restart("--restart", "on-failure:-1", &name, &max, &err) < 0 && err_has(&err, "cannot be negative"),
           "restart on-failure:-1");
        ok(parse_restart("--restart", ":3", &name, &max, &err) < 0 && err_has(&err, "no policy provided"), "restart :3");
}

static void test_volume(const char *dir)
{
        struct error err = ERROR_INIT;
        _cleanup_free_ char *spec = xasprintf("%s:/data:rshared,ro", dir);
        json_object *m = NULL, *o;
        char cwd[PATH_MAX];

        ok(parse_volume(spec, &m, &err) == 0 && jis(m, "Type", "bind") && jis(m, "Source", dir) &&
                   jis(m, "Target", "/data") && json_object_get_boolean(json_object_object_get(m, "ReadOnly")) &&
                   json_object_object_get_ex(m, "BindOptions", &o) && jis(o, "Propagation", "rshared"),
           "volume bind with rshared,ro");
        json_object_put(m);
        m = NULL;
        ok(parse_volume("data:/var/lib/x/", &m, &err) == 0 && jis(m, "Type", "volume") && jis(m, "Source", "data") &&
                   jis(m, "Target", "/var/lib/x") && !json_object_get_boolean(json_object_object_get(m, "ReadOnly")),
           "volume named");
        json_object_put(m);
        m = NULL;
        ok(parse_volume("/anon", &m, &err) == 0 && jis(m, "Type", "volume") && jis(m, "Source", ""), "volume anonymous");
        json_object_put(m);
        m = NULL;
        ok(parse_volume("data:/x:nocopy", &m, &err) == 0 && json_object_object_get_ex(m, "VolumeOptions", &o) &&
                   json_object_get_boolean(json_object_object_get(o, "NoCopy")),
           "volume nocopy");
        json_object_put(m);
        m = NULL;
        /* a ./relative source is relative to the working directory */
        if (getcwd(cwd, sizeof(cwd)) && chdir(dir) == 0) {
                ok(parse_volume("./sub:/s", &m, &err) == 0 && jis(m, "Type", "bind") &&
                           strcmp(js(m, "Source"), dir) > 0 && strstr(js(m, "Source"), "/sub") &&
                           js(m, "Source")[0] == '/',
                   "volume ./relative source made absolute");
                json_object_put(m);
                m = NULL;
                ok(parse_volume("./no/such/dir:/x", &m, &err) < 0 && !m && err_has(&err, "no/such/dir"),
                   "volume: missing ./relative source");
                (void) !chdir(cwd);
        }
        ok(parse_volume("/no/such/dir:/x", &m, &err) < 0 &&
                   err_is(&err, "invalid volume specification: '/no/such/dir:/x': invalid mount config for type "
                                "\"bind\": bind source path does not exist: /no/such/dir"),
           "volume: missing source");
        ok(parse_volume("data:rel", &m, &err) < 0 && err_has(&err, "mount path must be absolute"), "volume: relative target");
        ok(parse_volume("/data:ro", &m, &err) < 0 && err_is(&err, "invalid volume specification: '/data:ro'"),
           "volume: destination with a mode");
        ok(parse_volume("a:/b:c:d", &m, &err) < 0 && err_is(&err, "invalid volume specification: 'a:/b:c:d'"),
           "volume: four parts");
        ok(parse_volume("data:/x:rw,ro", &m, &err) < 0 && err_has(&err, "invalid mode: rw,ro"), "volume: rw,ro");
        ok(parse_volume("data:/x:bogus", &m, &err) < 0 && err_has(&err, "invalid mode: bogus"), "volume: bogus mode");
        ok(parse_volume("data:/", &m, &err) < 0 && err_has(&err, "destination can't be '/'"), "volume: target /");
        ok(parse_volume("b@d:/x", &m, &err) < 0 && err_has(&err, "includes invalid characters for a local volume name"),
           "volume: bad name");
        ok(parse_volume("", &m, &err) < 0, "volume: empty");
        error_clear(&err);
        spec = (free(spec), xasprintf("%s:/x:nocopy", dir));
        ok(parse_volume(spec, &m, &err) < 0 && err_has(&err, "invalid mode"), "volume: nocopy on a bind");
}

static void test_mount(const char *dir)
{
        struct error err = ERROR_INIT;
        _cleanup_free_ char *s1 = xasprintf("type=bind,source=%s,target=/mnt,readonly,bind-propagation=rslave", dir);
        _cleanup_free_ char *s2 = xasprintf("type=bind,src=%s,dst=/mnt,ro=false", dir);
        json_object *m = NULL, *o;

        ok(parse_mount(s1, &m, &err) == 0 && jis(m, "Type", "bind") && jis(m, "Target", "/mnt") &&
                   json_object_get_boolean(json_object_object_get(m, "ReadOnly")) &&
                   json_object_object_get_ex(m, "BindOptions", &o) && jis(o, "Propagation", "rslave"),
           "mount bind readonly rslave");
        json_object_put(m);
        m = NULL;
        ok(parse_mount(s2, &m, &err) == 0 && !json_object_get_boolean(json_object_object_get(m, "ReadOnly")),
           "mount src/dst aliases, ro=false");
        json_object_put(m);
        m = NULL;
        ok(parse_mount("type=volume,source=v1,target=/v,volume-nocopy", &m, &err) == 0 && jis(m, "Source", "v1") &&
                   json_object_object_get_ex(m, "VolumeOptions", &o),
           "mount volume nocopy");
        json_object_put(m);
        m = NULL;
        ok(parse_mount("target=/v", &m, &err) == 0 && jis(m, "Type", "volume") && jis(m, "Source", ""),
           "mount: default type volume, anonymous");
        json_object_put(m);
        m = NULL;
        ok(parse_mount("type=tmpfs,target=/t,tmpfs-size=64m,tmpfs-mode=1770", &m, &err) == 0 &&
                   json_object_object_get_ex(m, "TmpfsOptions", &o) &&
                   json_object_get_int64(json_object_object_get(o, "SizeBytes")) == 64 << 20 &&
                   json_object_get_int64(json_object_object_get(o, "Mode")) == 01770,
           "mount tmpfs size and mode");
        json_object_put(m);
        m = NULL;
        ok(parse_mount("\"type=tmpfs\",\"target=/a,b\"", &m, &err) == 0 && jis(m, "Target", "/a,b"), "mount: CSV quoting");
        json_object_put(m);
        m = NULL;
        ok(parse_mount("type=bind,target=/x", &m, &err) < 0 && err_has(&err, "field Source must not be empty"),
           "mount: bind without source");
        ok(parse_mount("type=bind,source=/no/such,target=/x", &m, &err) < 0 &&
                   err_is(&err, "invalid argument \"type=bind,source=/no/such,target=/x\" for \"--mount\" flag: invalid "
                                "mount config for type \"bind\": bind source path does not exist: /no/such"),
           "mount: missing bind source");
        ok(parse_mount("type=volume,source=v", &m, &err) < 0 && err_has(&err, "target is required"), "mount: no target");
        ok(parse_mount("type=nfs,target=/x", &m, &err) < 0 && err_has(&err, "invalid mount type"), "mount: bad type");
        ok(parse_mount("type=volume,target=/x,foo=bar", &m, &err) < 0 && err_has(&err, "unexpected key 'foo'"),
           "mount: unknown key");
        ok(parse_mount("type=volume,target", &m, &err) < 0 && err_has(&err, "must be a key=value pair"), "mount: bare key");
        ok(parse_mount("type=tmpfs,source=x,target=/t", &m, &err) < 0 && err_has(&err, "must not be specified"),
           "mount: tmpfs with a source");
        ok(parse_mount("type=volume,target=/x,tmpfs-size=1m", &m, &err) < 0 && err_has(&err, "cannot mix"),
           "mount: tmpfs option on a volume");
        ok(parse_mount("type=tmpfs,target=/t,tmpfs-mode=99", &m, &err) < 0 && err_has(&err, "tmpfs-mode"),
           "mount: bad tmpfs-mode");
        ok(parse_mount("type=volume,target=/x,readonly=maybe", &m, &err) < 0 && err_has(&err, "readonly"),
           "mount: bad bool");
        ok(parse_mount("type=volume,target=\"/x", &m, &err) < 0, "mount: unbalanced quote");
        error_clear(&err);
}

static void test_tmpfs(void)
{
        struct error err = ERROR_INIT;
        json_object *m = NULL, *o, *opts;

        ok(parse_tmpfs("/run", &m, &err) == 0 && jis(m, "Type", "tmpfs") && jis(m, "Target", "/run") &&
                   !json_object_object_get_ex(m, "TmpfsOptions", &o),
           "tmpfs plain");
        json_object_put(m);
        m = NULL;
        ok(parse_tmpfs("/run:rw,size=64m,mode=1777,exec,uid=1000", &m, &err) == 0 &&
                   json_object_object_get_ex(m, "TmpfsOptions", &o) &&
                   json_object_get_int64(json_object_object_get(o, "SizeBytes")) == 64 << 20 &&
                   json_object_get_int64(json_object_object_get(o, "Mode")) == 01777 &&
                   json_object_object_get_ex(o, "Options", &opts) && json_object_array_length(opts) == 2 &&
                   strcmp(json_object_to_json_string_ext(opts, JSON_C_TO_STRING_PLAIN),
                          "[[\"exec\"],[\"uid\",\"1000\"]]") == 0,
           "tmpfs options");
        json_object_put(m);
        m = NULL;
        ok(parse_tmpfs("/ro:ro", &m, &err) == 0 && json_object_get_boolean(json_object_object_get(m, "ReadOnly")),
           "tmpfs ro");
        json_object_put(m);
        m = NULL;
        ok(parse_tmpfs("run", &m, &err) < 0 && err_has(&err, "mount path must be absolute"), "tmpfs: relative");
        ok(parse_tmpfs("/run:size=lots", &m, &err) < 0 && err_has(&err, "invalid tmpfs size: lots"), "tmpfs: bad size");
        ok(parse_tmpfs("/run:mode=9", &m, &err) < 0 && err_has(&err, "invalid tmpfs mode"), "tmpfs: bad mode");
        ok(parse_tmpfs("/run:bogus", &m, &err) < 0 && err_has(&err, "invalid tmpfs option: bogus"), "tmpfs: bad option");
}

static void test_env_file(const char *dir)
{
        _cleanup_free_ char *path = xasprintf("%s/env", dir), *bad = xasprintf("%s/bad", dir);
        struct error err = ERROR_INIT;
        json_object *env = json_object_new_array();
        _cleanup_free_ char *got = NULL;
        FILE *f;
        int r;

        f = fopen(path, "w");
        fputs("\xef\xbb\xbf# comment\nA=1\n\n   B=two words \r\nFROM_ENV\nUNSET_XYZ\n  # indented comment\nC=\nD=x=y", f);
        fclose(f);
        setenv("FROM_ENV", "inherited", 1);
        unsetenv("UNSET_XYZ");
        json_object_array_add(env, json_object_new_string("PRE=1"));
        r = parse_env_file(path, env, &err);
        got = xstrdup(json_object_to_json_string_ext(env, JSON_C_TO_STRING_PLAIN));
        ok(r == 0 && strcmp(got, "[\"PRE=1\",\"A=1\",\"B=two words \",\"FROM_ENV=inherited\",\"C=\",\"D=x=y\"]") == 0,
           "env file: %s", got);
        json_object_put(env);
        env = json_object_new_array();
        f = fopen(bad, "w");
        fputs("OK=1\nA B=1\n", f);
        fclose(f);
        ok(parse_env_file(bad, env, &err) < 0 && err_has(&err, "variable 'A B' contains whitespaces"),
           "env file: key with a space");
        f = fopen(bad, "w");
        fputs("=1\n", f);
        fclose(f);
        ok(parse_env_file(bad, env, &err) < 0 && err_has(&err, "no variable name"), "env file: no name");
        f = fopen(bad, "w");
        fputs("A=\xff\n", f);
        fclose(f);
        ok(parse_env_file(bad, env, &err) < 0 && err_has(&err, "invalid utf8"), "env file: bad UTF-8");
        ok(parse_env_file("/no/such/env", env, &err) < 0 && err_has(&err, "/no/such/env"), "env file: missing");
        json_object_put(env);
}

static void test_device(void)
{
        struct error err = ERROR_INIT;
        json_object *d = NULL;

        ok(parse_device("/dev/null", &d, &err) == 0 && jis(d, "PathOnHost", "/dev/null") &&
                   jis(d, "PathInContainer", "/dev/null") && jis(d, "CgroupPermissions", "rwm"),
           "device /dev/null");
        json_object_put(d);
        ok(parse_device("/dev/null:/dev/mynull", &d, &err) == 0 && jis(d, "PathInContainer", "/dev/mynull"),
           "device with a container path");
        json_object_put(d);
        ok(parse_device("/dev/null:r", &d, &err) == 0 && jis(d, "PathInContainer", "/dev/null") &&
                   jis(d, "CgroupPermissions", "r"),
           "device with permissions");
        json_object_put(d);
        ok(parse_device("/dev/null:/dev/n:rw", &d, &err) == 0 && jis(d, "PathInContainer", "/dev/n") &&
                   jis(d, "CgroupPermissions", "rw"),
           "device with both");
        json_object_put(d);
        d = NULL;
        ok(parse_device("/dev/null:/dev/n:rx", &d, &err) < 0 && !d &&
                   err_is(&err, "invalid argument \"/dev/null:/dev/n:rx\" for \"--device\" flag: bad mode specified: rx"),
           "device: bad mode");
        ok(parse_device("/dev/null:rel", &d, &err) < 0 && err_has(&err, "rel is not an absolute path"),
           "device: relative container path");
        ok(parse_device("a:b:c:d", &d, &err) < 0 && err_has(&err, "bad format for path"), "device: four parts");
        ok(parse_device("", &d, &err) < 0, "device: empty");
        error_clear(&err);
}

static void test_device_rate(void)
{
        struct error err = ERROR_INIT;
        json_object *d = NULL;

        ok(parse_device_rate("/dev/sda:1mb", &d, &err) == 0 && jis(d, "Path", "/dev/sda") &&
                   json_object_get_int64(json_object_object_get(d, "Rate")) == 1 << 20,
           "device rate 1mb");
        json_object_put(d);
        ok(parse_device_rate("/dev/sda", &d, &err) < 0 && err_has(&err, "bad format: /dev/sda"), "device rate: no rate");
        ok(parse_device_rate("sda:1", &d, &err) < 0 && err_has(&err, "bad format for device path"),
           "device rate: not in /dev");
        ok(parse_device_rate("/dev/sda:fast", &d, &err) < 0 && err_has(&err, "invalid rate for device"),
           "device rate: bad rate");
}


/* BINDINGS as compact JSON */
static bool json_is(json_object *o, const char *want)
{
        const char *got = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);

        if (strcmp(got, want) != 0) {
                printf("# got  %s\n# want %s\n", got, want);
                return false;
        }
        return true;
}

static bool publish_is(const char *spec, const char *bindings, const char *exposed)
{
        struct error err = ERROR_INIT;
        json_object *b = json_object_new_object(), *e = json_object_new_object();
        bool good = parse_publish(spec, b, e, &err) == 0 && json_is(b, bindings) && json_is(e, exposed);

        if (err.msg)
                printf("# %s\n", err.msg);
        error_clear(&err);
        json_object_put(b);
        json_object_put(e);
        return good;
}

static bool publish_fails(const char *spec, const char *want)
{
        struct error err = ERROR_INIT;
        json_object *b = json_object_new_object(), *e = json_object_new_object();
        bool good = parse_publish(spec, b, e, &err) < 0 && err.msg && strstr(err.msg, "\"-p, --publish\" flag") &&
                    err_has(&err, want) && json_object_object_length(b) == 0;

        json_object_put(b);
        json_object_put(e);
        return good;
}

static void test_publish(void)
{
        ok(publish_is("8080:80", "{\"80/tcp\":[{\"HostIp\":\"\",\"HostPort\":\"8080\"}]}", "{\"80/tcp\":{}}"),
           "publish HOST:CONTAINER");
        ok(publish_is("80", "{\"80/tcp\":[{\"HostIp\":\"\",\"HostPort\":\"\"}]}", "{\"80/tcp\":{}}"),
           "publish a container port: any host port");
        ok(publish_is("127.0.0.1:5353:53/udp", "{\"53/udp\":[{\"HostIp\":\"127.0.0.1\",\"HostPort\":\"5353\"}]}",
                      "{\"53/udp\":{}}"),
           "publish IP:HOST:CONTAINER/udp");
        ok(publish_is("127.0.0.1::80", "{\"80/tcp\":[{\"HostIp\":\"127.0.0.1\",\"HostPort\":\"\"}]}", "{\"80/tcp\":{}}"),
           "publish IP::CONTAINER");
        ok(publish_is("[::1]:8080:80", "{\"80/tcp\":[{\"HostIp\":\"::1\",\"HostPort\":\"8080\"}]}", "{\"80/tcp\":{}}"),
           "publish [IPv6]:HOST:CONTAINER");
        ok(publish_is("8000-8001:80-81",
                      "{\"80/tcp\":[{\"HostIp\":\"\",\"HostPort\":\"8000\"}],\"81/tcp\":[{\"HostIp\":\"\",\"HostPort\":"
                      "\"8001\"}]}",
                      "{\"80/tcp\":{},\"81/tcp\":{}}"),
           "publish ranges of equal length, port by port");
        ok(publish_is("8000-8010:80", "{\"80/tcp\":[{\"HostIp\":\"\",\"HostPort\":\"8000-8010\"}]}", "{\"80/tcp\":{}}"),
           "publish a host range for one port: a free one of them");
        ok(publish_fails("70000:80", "invalid port 70000"), "publish: host port out of range");
        ok(publish_fails("80:0", "invalid container port 0"), "publish: container port 0");
        ok(publish_fails("8080:80/sctp", "invalid protocol \"sctp\""), "publish: bad protocol");
        ok(publish_fails("8000-8002:80-81", "differ in length"), "publish: ranges of different lengths");
        ok(publish_fails("1.2.3:8080:80", "invalid IP address 1.2.3"), "publish: bad IP");
        ok(publish_fails("[::1:8080:80", "no \"]:\""), "publish: IPv6 without ]");
        ok(publish_fails("", "invalid container port"), "publish: empty");
}

static void test_network_flags(void)
{
        struct error err = ERROR_INIT;
        json_object *e = json_object_new_object();
        char *h = NULL;

        ok(parse_expose("--expose", "7000-7001/udp", e, &err) == 0 && json_is(e, "{\"7000/udp\":{},\"7001/udp\":{}}"),
           "expose a range");
        ok(parse_expose("--expose", "0", e, &err) < 0 && err_has(&err, "invalid port 0"), "expose: port 0");
        json_object_put(e);
        ok(parse_add_host("db:10.0.0.5", &h, &err) == 0 && strcmp(h, "db:10.0.0.5") == 0, "add-host NAME:IP");
        free(h);
        ok(parse_add_host("db6=[fd00::5]", &h, &err) == 0 && strcmp(h, "db6:fd00::5") == 0, "add-host NAME=[IPv6]");
        free(h);
        ok(parse_add_host("gw:host-gateway", &h, &err) == 0 && strcmp(h, "gw:host-gateway") == 0,
           "add-host host-gateway");
        free(h);
        h = NULL;
        ok(parse_add_host("db:10.0.0.300", &h, &err) < 0 && err_has(&err, "--add-host") && !h, "add-host: bad IP");
        ok(parse_add_host(":10.0.0.1", &h, &err) < 0 && err_has(&err, "expected NAME:IP"), "add-host: no name");
        ok(parse_ip("--ip", "10.0.0.1", AF_INET, &err) == 0, "ip: IPv4");
        ok(parse_ip("--ip", "fd00::1", AF_INET, &err) < 0 && err_has(&err, "\"--ip\" flag: invalid IPv4 address"),
           "ip: IPv6 given to --ip");
        ok(parse_ip("--dns", "fd00::1", 0, &err) == 0, "dns: either family");
        ok(parse_mac("02:42:ac:11:00:02", &err) == 0, "mac");
        ok(parse_mac("01:42:ac:11:00:02", &err) < 0 && err_has(&err, "multicast"), "mac: multicast refused");
        ok(parse_mac("02:42:ac:11:00", &err) < 0 && err_has(&err, "invalid MAC address"), "mac: too short");
        ok(parse_egress_rule("--egress-allow", "10.0.0.0/8", &err) == 0, "egress: a prefix");
        ok(parse_egress_rule("--egress-allow", "10.1.2.3:443/tcp", &err) == 0, "egress: address, port, proto");
        ok(parse_egress_rule("--egress-allow", "[fd00::/64]:53/udp", &err) == 0, "egress: IPv6 with a port");
        ok(parse_egress_rule("--egress-allow", "fd00::/64", &err) == 0, "egress: IPv6 prefix");
        ok(parse_egress_rule("--egress-allow", "10.0.0.0/33", &err) < 0 && err_has(&err, "invalid prefix length"),
           "egress: prefix too long");
        ok(parse_egress_rule("--egress-deny", "10.0.0.1:0", &err) < 0 && err.msg && strstr(err.msg, "--egress-deny") &&
                   err_has(&err, "invalid port"),
           "egress: port 0");
        ok(parse_egress_rule("--egress-allow", "10.0.0.1:80/icmp", &err) < 0 && err_has(&err, "invalid protocol"),
           "egress: bad protocol");
        ok(parse_egress_rule("--egress-allow", "example.com", &err) < 0 && err_has(&err, "invalid address"),
           "egress: a name is not an address");
        error_clear(&err);
}

int main(void)
{
        _cleanup_close_ int tmp_fd = -EBADF;
        char tmpl[] = "/tmp/berth-test-parse-XXXXXX";
        char *dir = mkdtemp(tmpl);
        _cleanup_free_ char *sub = NULL;

        if (!dir) {
                skip("mkdtemp failed");
                return tap_done();
        }
        sub = xasprintf("%s/sub", dir);
        (void) mkdir(sub, 0755);
        test_bytes();
        test_cpus();
        test_duration();
        test_signal();
        test_restart();
        test_volume(dir);
        test_mount(dir);
        test_tmpfs();
        test_env_file(dir);
        test_device();
        test_device_rate();
        test_publish();
        test_network_flags();
        /* rm_rf_at() wants a directory fd and a name below it */
        tmp_fd = open("/tmp", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (tmp_fd < 0 || rm_rf_at(tmp_fd, dir + strlen("/tmp/")) < 0)
                printf("# could not remove %s\n", dir);
        return tap_done();
}
