/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The flag-value parsers of run/create: good values, bad values and the
 * exact (Docker's) wording of their errors. */
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
        /* rm_rf_at() wants a directory fd and a name below it */
        tmp_fd = open("/tmp", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (tmp_fd < 0 || rm_rf_at(tmp_fd, dir + strlen("/tmp/")) < 0)
                printf("# could not remove %s\n", dir);
        return tap_done();
}
