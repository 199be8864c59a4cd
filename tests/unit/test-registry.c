/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The registry client against a real docker-registry (started by
 * registry-fixture.sh, one plain and one with htpasswd auth) and against
 * registry-stub.py for what a real registry does not do on demand: token
 * auth, redirects to another host, 503/429, ignored ranges, broken
 * transfers, corrupt blobs. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "basic/fileio.h"
#include "image/digest.h"
#include "image/manifest.h"
#include "image/registry.h"
#include "tap.h"

#define TMP_PREFIX "/tmp/berth-test-registry-c-"
#define USER "alice"
#define PASSWORD "s3cret"

static char tmpdir[] = TMP_PREFIX "XXXXXX";

struct fixture {
        pid_t pid;
        int in; /* the child's stdin: closing it stops the child */
        char addr[64];
        char root[PATH_MAX];
};

/* The directory of this file's sources.  meson compiles with __FILE__
 * relative to the build root, and the binary sits in BUILD/tests/unit/;
 * BERTH_TEST_FIXTURE_DIR overrides. */
static char *fixture_dir(void)
{
        _cleanup_free_ char *src = xstrdup(__FILE__), *exe = NULL;
        const char *env = getenv("BERTH_TEST_FIXTURE_DIR");
        char *slash;

        if (env)
                return xstrdup(env);
        slash = strrchr(src, '/');
        if (slash)
                *slash = '\0';
        else {
                free(src);
                src = xstrdup(".");
        }
        if (src[0] == '/')
                return TAKE_PTR(src);
        exe = realpath("/proc/self/exe", NULL);
        if (!exe)
                return NULL;
        *strrchr(exe, '/') = '\0';
        return xasprintf("%s/../../%s", exe, src);
}

static void fixture_stop(struct fixture *f)
{
        int status;

        if (f->pid <= 0)
                return;
        close(f->in);
        if (waitpid(f->pid, &status, 0) < 0)
                printf("# waitpid %d: %m\n", (int) f->pid);
        f->pid = 0;
}

/* The first line the child prints, within 60 s. */
static int read_line(int fd, char *buf, size_t size)
{
        size_t n = 0;

        while (n + 1 < size) {
                struct pollfd p = { .fd = fd, .events = POLLIN };
                ssize_t k;

                if (poll(&p, 1, 60000) <= 0)
                        return -ETIMEDOUT;
                k = read(fd, buf + n, 1);
                if (k <= 0)
                        return -EIO;
                if (buf[n] == '\n')
                        break;
                n++;
        }
        buf[n] = '\0';
        return 0;
}

/* Start ARGV; 1 when it printed its address, 0 when it exited 77 (not
 * installed: skip), -1 on failure. */
static int fixture_start(struct fixture *f, char *const argv[])
{
        int in[2], out[2], status;
        char line[PATH_MAX + 80];

        if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0)
                return -1;
        f->pid = fork();
        if (f->pid < 0)
                return -1;
        if (f->pid == 0) {
                (void) signal(SIGPIPE, SIG_DFL);
                if (dup2(in[0], 0) < 0 || dup2(out[1], 1) < 0)
                        _exit(126);
                execvp(argv[0], argv);
                _exit(127);
        }
        close(in[0]);
        close(out[1]);
        f->in = in[1];
        if (read_line(out[0], line, sizeof(line)) == 0 && sscanf(line, "%63s %4095s", f->addr, f->root) >= 1) {
                close(out[0]);
                return 1;
        }
        close(out[0]);
        close(f->in);
        (void) waitpid(f->pid, &status, 0);
        f->pid = 0;
        if (WIFEXITED(status) && (WEXITSTATUS(status) == 77 || WEXITSTATUS(status) == 127))
                return 0;
        return -1;
}

static int fixture_registry(struct fixture *f, const char *dir, const char *auth)
{
        _cleanup_free_ char *script = xasprintf("%s/registry-fixture.sh", dir);
        char *argv[] = { (char *) "/bin/sh", script, (char *) auth, NULL };

        if (access(script, R_OK) < 0)
                return -1;
        return fixture_start(f, argv);
}

static int fixture_stub(struct fixture *f, const char *dir)
{
        _cleanup_free_ char *script = xasprintf("%s/registry-stub.py", dir);
        char *argv[] = { (char *) "python3", script, NULL };

        if (access(script, R_OK) < 0)
                return -1;
        return fixture_start(f, argv);
}

/* ---- helpers ---- */

static void pattern(char *buf, size_t len, unsigned seed)
{
        uint32_t x = seed * 2654435761u + 1;

        for (size_t i = 0; i < len; i++) {
                x = x * 1103515245u + 12345u;
                buf[i] = (char) (x >> 16);
        }
}

/* A new file in the temporary directory holding LEN bytes of DATA. */
static int tmp_file(const char *name, const void *data, size_t len)
{
        _cleanup_free_ char *path = xasprintf("%s/%s", tmpdir, name);
        int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

        if (fd >= 0 && len > 0 && write_all(fd, data, len) < 0) {
                close(fd);
                return -1;
        }
        return fd;
}

static bool file_equals(int fd, const char *data, size_t len)
{
        _cleanup_free_ char *got = NULL;
        size_t n;

        if (lseek(fd, 0, SEEK_SET) < 0 || read_full_fd(fd, len + 1, &got, &n) < 0)
                return false;
        return n == len && memcmp(got, data, len) == 0;
}

static off_t file_size(int fd)
{
        struct stat st;

        return fstat(fd, &st) < 0 ? -1 : st.st_size;
}

static void cleanup_tmpdir(void)
{
        DIR *d;
        struct dirent *de;

        if (strncmp(tmpdir, TMP_PREFIX, strlen(TMP_PREFIX)) != 0 || strstr(tmpdir, ".."))
                return;
        d = opendir(tmpdir);
        if (!d)
                return;
        while ((de = readdir(d)))
                if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
                        (void) unlinkat(dirfd(d), de->d_name, 0);
        closedir(d);
        (void) rmdir(tmpdir);
}

struct progress {
        uint64_t min_done, last_done, last_total;
        unsigned calls;
};

static void on_progress(uint64_t done, uint64_t total, void *userdata)
{
        struct progress *p = userdata;

        if (p->calls++ == 0 || done < p->min_done)
                p->min_done = done;
        p->last_done = done;
        p->last_total = total;
}

static struct registry *open_registry(const char *domain, const char *user, const char *pass,
                                      const char *auth_file)
{
        struct registry_opts o = { .domain = domain, .username = user, .password = pass, .auth_file = auth_file,
                                   .retries = 2 };
        _cleanup_error_ struct error err = ERROR_INIT;
        struct registry *r = NULL;

        if (registry_new(&o, &r, &err) < 0)
                printf("# registry_new %s: %s\n", domain, err.msg);
        return r;
}

static bool msg_has(const struct error *err, const char *s)
{
        if (err->msg && strstr(err->msg, s))
                return true;
        printf("# message: %s (wanted \"%s\")\n", err->msg ? err->msg : "(none)", s);
        return false;
}

/* Push LEN bytes of pattern SEED to REPO; its digest in DIGEST. */
static int push_pattern(struct registry *r, const char *repo, unsigned seed, size_t len, uint64_t chunk,
                        char digest[DIGEST_BUF_SIZE], struct error *err)
{
        _cleanup_free_ char *data = xmalloc(len);
        _cleanup_close_ int fd = -EBADF;

        pattern(data, len, seed);
        digest_buffer(data, len, digest);
        fd = tmp_file("push", data, len);
        if (fd < 0)
                return -errno;
        return registry_put_blob(r, repo, digest, fd, len, NULL, chunk, NULL, NULL, err);
}

/* ---- parsers ---- */

static bool str_is(const char *got, const char *want)
{
        if (got && strcmp(got, want) == 0)
                return true;
        printf("# got \"%s\", wanted \"%s\"\n", got ? got : "(null)", want);
        return false;
}

static void test_challenges(void)
{
        struct registry_challenge c = {}, d = {}, e = {};
        _cleanup_free_ char *q = NULL, *q2 = NULL;

        ok(registry_challenge_parse("Bearer realm=\"https://auth.example/token?x=1\",service=\"reg, \\\"one\\\"\","
                                    "scope=\"repository:a/b:pull,push repository:c:pull\"",
                                    &c) == 0 &&
                   str_is(c.scheme, "Bearer") && str_is(c.realm, "https://auth.example/token?x=1") &&
                   str_is(c.service, "reg, \"one\"") && str_is(c.scope, "repository:a/b:pull,push repository:c:pull"),
           "a Bearer challenge: quoted values with commas and escaped quotes");
        q = registry_token_query(&c);
        ok(str_is(q, "service=reg%2C%20%22one%22&scope=repository%3Aa%2Fb%3Apull%2Cpush&scope=repository%3Ac%3Apull"),
           "its token query: one scope= per scope, percent-encoded");
        ok(registry_challenge_parse("  basic Realm=plain , charset=UTF-8", &d) == 0 && str_is(d.scheme, "basic") &&
                   str_is(d.realm, "plain") && !d.service,
           "a Basic challenge with an unquoted realm");
        ok(registry_challenge_parse("Bearer realm=\"http://a/t\", Basic realm=\"x\"", &e) == 0 &&
                   str_is(e.realm, "http://a/t"),
           "only the first of two challenges is read");
        q2 = registry_token_query(&d);
        ok(str_is(q2, ""), "a challenge without service or scope makes an empty query");
        registry_challenge_clear(&c);
        registry_challenge_clear(&d);
        registry_challenge_clear(&e);
        ok(registry_challenge_parse("Bearer realm=\"unterminated", &c) == -EINVAL && !c.scheme,
           "an unterminated quote is refused, the output untouched");
        ok(registry_challenge_parse("   ", &c) == -EINVAL, "an empty challenge is refused");
}

static void test_tokens(void)
{
        const char *a = "{\"token\":\"abc.def\",\"expires_in\":300}", *b = "{\"access_token\":\"xyz\"}",
                   *bad = "{\"token\":\"a b\\r\\nX-Evil: 1\"}", *none = "{\"expires_in\":1}";
        _cleanup_free_ char *t1 = NULL, *t2 = NULL, *t3 = NULL;

        ok(registry_token_parse(a, strlen(a), &t1) == 0 && str_is(t1, "abc.def"), "a \"token\" answer");
        ok(registry_token_parse(b, strlen(b), &t2) == 0 && str_is(t2, "xyz"), "an \"access_token\" answer");
        ok(registry_token_parse(bad, strlen(bad), &t3) == -EPROTO && !t3,
           "a token that would break the header line is refused");
        ok(registry_token_parse(none, strlen(none), &t3) == -EPROTO, "an answer without a token is refused");
        ok(registry_token_parse("{\"token\":", 9, &t3) == -EPROTO, "a cut answer is refused");
}

/* ---- against docker-registry ---- */

#define SIZE_A 100000
#define SIZE_B 70000

static void test_blobs(struct registry *r, char digest_a[DIGEST_BUF_SIZE])
{
        _cleanup_free_ char *a = xmalloc(SIZE_A), *b = xmalloc(SIZE_B);
        _cleanup_error_ struct error e1 = ERROR_INIT, e2 = ERROR_INIT, e3 = ERROR_INIT, e4 = ERROR_INIT;
        _cleanup_close_ int fa = -EBADF, fb = -EBADF, out = -EBADF;
        char digest_b[DIGEST_BUF_SIZE], got[DIGEST_BUF_SIZE];
        struct progress p = {}, q = {};

        pattern(a, SIZE_A, 1);
        pattern(b, SIZE_B, 2);
        digest_buffer(a, SIZE_A, digest_a);
        digest_buffer(b, SIZE_B, digest_b);
        fa = tmp_file("a", a, SIZE_A);
        fb = tmp_file("b", b, SIZE_B);
        ok(registry_blob_exists(r, "test/app", digest_a, &e1) == 0, "HEAD of a blob not pushed yet: 0 (%s)",
           e1.msg ? e1.msg : "");
        ok(registry_put_blob(r, "test/app", digest_a, fa, SIZE_A, NULL, 0, on_progress, &p, &e2) == 0,
           "push a blob monolithically (%s)", e2.msg ? e2.msg : "ok");
        ok(p.last_done == SIZE_A && p.last_total == SIZE_A, "upload progress ends at %llu of %llu",
           (unsigned long long) p.last_done, (unsigned long long) p.last_total);
        ok(registry_blob_exists(r, "test/app", digest_a, NULL) == 1, "HEAD finds the pushed blob");
        ok(registry_put_blob(r, "test/app", digest_b, fb, SIZE_B, NULL, 16384, NULL, NULL, &e3) == 0,
           "push a blob in 16 KiB chunks (%s)", e3.msg ? e3.msg : "ok");
        ok(registry_blob_exists(r, "test/app", digest_b, NULL) == 1, "HEAD finds the chunked blob");
        ok(push_pattern(r, "test/empty-blob", 4, 0, 4096, got, NULL) == 0 &&
                   registry_blob_exists(r, "test/empty-blob", got, NULL) == 1,
           "push an empty blob in chunks (no PATCH at all)");

        out = tmp_file("get-b", NULL, 0);
        ok(registry_get_blob(r, "test/app", digest_b, SIZE_B, out, on_progress, &q, &e4) == 0 &&
                   file_equals(out, b, SIZE_B),
           "GET the chunked blob: same bytes (%s)", e4.msg ? e4.msg : "ok");
        (void) lseek(out, 0, SEEK_SET);
        ok(digest_fd(out, got, NULL) == 0 && strcmp(got, digest_b) == 0, "the downloaded file has the digest");
        ok(q.last_done == SIZE_B && q.min_done > 0, "download progress ends at %llu",
           (unsigned long long) q.last_done);
}

static void test_resume(struct registry *r, const char *digest_a)
{
        _cleanup_free_ char *a = xmalloc(SIZE_A), *bad = xmalloc(SIZE_A / 2);
        _cleanup_error_ struct error e1 = ERROR_INIT, e2 = ERROR_INIT, e3 = ERROR_INIT, e4 = ERROR_INIT;
        _cleanup_close_ int f1 = -EBADF, f2 = -EBADF, f3 = -EBADF;
        struct progress p = {};
        int k;

        pattern(a, SIZE_A, 1);
        f1 = tmp_file("resume", a, 40000);
        k = registry_get_blob(r, "test/app", digest_a, SIZE_A, f1, on_progress, &p, &e1);
        ok(k == 0 && file_equals(f1, a, SIZE_A), "resume a download from 40000 bytes (%s)", e1.msg ? e1.msg : "ok");
        ok(p.calls > 0 && p.min_done >= 40000 && p.last_done == SIZE_A,
           "the download went on from byte 40000 (progress %llu..%llu)", (unsigned long long) p.min_done,
           (unsigned long long) p.last_done);
        k = registry_get_blob(r, "test/app", digest_a, -1, f1, NULL, NULL, &e2);
        ok(k == 0, "a file that holds the whole blob (size unknown) verifies (%d: %s)", k, e2.msg ? e2.msg : "ok");
        ok(file_equals(f1, a, SIZE_A), "and still holds it (%lld bytes)", (long long) file_size(f1));

        for (size_t i = 0; i < SIZE_A / 2; i++)
                bad[i] = (char) ~a[i];
        f2 = tmp_file("resume-bad", bad, SIZE_A / 2);
        k = registry_get_blob(r, "test/app", digest_a, SIZE_A, f2, NULL, NULL, &e3);
        ok(k == -EBADMSG && msg_has(&e3, "digest mismatch"), "a wrong partial file is a digest mismatch");
        ok(file_size(f2) == 0, "the file is truncated after the mismatch");

        f3 = tmp_file("wrong-size", NULL, 0);
        k = registry_get_blob(r, "test/app", digest_a, SIZE_A + 1, f3, NULL, NULL, &e4);
        ok(k == -EBADMSG && msg_has(&e4, "size mismatch"), "a blob shorter than expected is refused");
}

/* Change one byte of a stored blob behind the registry's back: it serves
 * what it has, the client must notice. */
static void test_corrupt(struct registry *r, const char *storage)
{
        _cleanup_error_ struct error e1 = ERROR_INIT, e2 = ERROR_INIT;
        _cleanup_free_ char *path = NULL;
        _cleanup_close_ int fd = -EBADF, out = -EBADF;
        char digest[DIGEST_BUF_SIZE];
        const char *hex = digest + strlen(DIGEST_PREFIX);
        int k;

        if (push_pattern(r, "test/corrupt", 3, 5000, 0, digest, &e1) < 0) {
                ok(false, "push a blob to corrupt: %s", e1.msg);
                return;
        }
        path = xasprintf("%s/docker/registry/v2/blobs/sha256/%.2s/%s/data", storage, hex, hex);
        fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd < 0 || pwrite(fd, "X", 1, 100) != 1) {
                skip("cannot change the registry's copy `%s`: %m", path);
                return;
        }
        out = tmp_file("corrupt", NULL, 0);
        k = registry_get_blob(r, "test/corrupt", digest, 5000, out, NULL, NULL, &e2);
        ok(k == -EBADMSG && msg_has(&e2, "digest mismatch"), "a corrupt blob from the registry is detected");
        ok(file_size(out) == 0, "and the file is emptied");
}

static void test_push_wrong_digest(struct registry *r)
{
        _cleanup_error_ struct error err = ERROR_INIT;
        _cleanup_close_ int fd = tmp_file("wrong", "hello", 5);
        char digest[DIGEST_BUF_SIZE];
        int k;

        digest_buffer("world", 5, digest);
        k = registry_put_blob(r, "test/app", digest, fd, 5, NULL, 0, NULL, NULL, &err);
        ok(k == -EBADMSG, "push under the wrong digest is EBADMSG (%d: %s)", k, err.msg ? err.msg : "");
        ok(registry_blob_exists(r, "test/app", digest, NULL) == 0, "and the registry did not keep it");
}

static char *make_manifest(struct registry *r, const char *repo, const char *layer_digest, struct error *err)
{
        const char *config = "{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\","
                             "\"diff_ids\":[]}}";
        _cleanup_close_ int fd = tmp_file("config", config, strlen(config));
        char digest[DIGEST_BUF_SIZE];

        digest_buffer(config, strlen(config), digest);
        if (registry_put_blob(r, repo, digest, fd, strlen(config), NULL, 0, NULL, NULL, err) < 0)
                return NULL;
        return xasprintf("{\"schemaVersion\":2,\"mediaType\":\"%s\",\"config\":{\"mediaType\":\"%s\",\"digest\":"
                         "\"%s\",\"size\":%zu},\"layers\":[{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":%d}]}",
                         MT_OCI_MANIFEST, MT_OCI_CONFIG, digest, strlen(config), MT_OCI_LAYER, layer_digest, SIZE_A);
}

static void test_manifest_unknown(struct registry *r, const char *addr)
{
        _cleanup_error_ struct error e1 = ERROR_INIT, e2 = ERROR_INIT;
        _cleanup_free_ char *body = NULL, *want = xasprintf("%s/test/app", addr);
        char digest[DIGEST_BUF_SIZE];
        size_t len;
        int k;

        k = registry_get_manifest(r, "test/app", "nope", &body, &len, NULL, digest, &e1);
        ok(k == -ENOENT && msg_has(&e1, "manifest unknown") && msg_has(&e1, want),
           "an unknown tag is ENOENT with the registry's message");
        digest_buffer("nothing", 7, digest);
        k = registry_get_manifest(r, "test/app", digest, &body, &len, NULL, NULL, &e2);
        ok(k == -ENOENT, "an unknown digest is ENOENT (%s)", e2.msg ? e2.msg : "");
}

static void test_manifests(struct registry *r, const char *addr, const char *digest_a)
{
        _cleanup_error_ struct error e1 = ERROR_INIT, e2 = ERROR_INIT, e3 = ERROR_INIT, e4 = ERROR_INIT,
                                     e5 = ERROR_INIT, e6 = ERROR_INIT;
        _cleanup_free_ char *m = make_manifest(r, "test/app", digest_a, &e1), *body = NULL, *body2 = NULL,
                            *mt = NULL, *mt2 = NULL, *index = NULL, *ibody = NULL, *imt = NULL;
        char want[DIGEST_BUF_SIZE], got[DIGEST_BUF_SIZE], got2[DIGEST_BUF_SIZE], wrong[DIGEST_BUF_SIZE];
        size_t len = 0, len2 = 0, ilen = 0;
        int k;

        if (!m) {
                ok(false, "push a config blob: %s", e1.msg);
                return;
        }
        digest_buffer(m, strlen(m), want);
        k = registry_put_manifest(r, "test/app", "v1", MT_OCI_MANIFEST, m, strlen(m), &e2);
        ok(k == 0, "PUT a manifest by tag (%s)", e2.msg ? e2.msg : "ok");
        k = registry_get_manifest(r, "test/app", "v1", &body, &len, &mt, got, &e3);
        ok(k == 0 && len == strlen(m) && memcmp(body, m, len) == 0, "GET it by tag: same bytes (%s)",
           e3.msg ? e3.msg : "ok");
        ok(k == 0 && strcmp(mt, MT_OCI_MANIFEST) == 0 && strcmp(got, want) == 0,
           "with its media type and digest");
        k = registry_get_manifest(r, "test/app", want, &body2, &len2, &mt2, got2, &e4);
        ok(k == 0 && len2 == len && memcmp(body2, m, len) == 0 && strcmp(got2, want) == 0,
           "GET it by digest (%s)", e4.msg ? e4.msg : "ok");

        k = registry_put_manifest(r, "test/bydigest", want, MT_OCI_MANIFEST, m, strlen(m), &e5);
        ok(k == -ENOENT || k == -EINVAL, "PUT in a repository without its blobs is refused (%d: %s)", k,
           e5.msg ? e5.msg : "");
        digest_buffer("other", 5, wrong);
        ok(registry_put_manifest(r, "test/app", wrong, MT_OCI_MANIFEST, m, strlen(m), NULL) == -EBADMSG,
           "PUT under a digest that is not the body's is EBADMSG");
        ok(registry_put_manifest(r, "test/app", want, MT_OCI_MANIFEST, m, strlen(m), NULL) == 0,
           "PUT a manifest by digest");

        index = xasprintf("{\"schemaVersion\":2,\"mediaType\":\"%s\",\"manifests\":[{\"mediaType\":\"%s\","
                          "\"digest\":\"%s\",\"size\":%zu,\"platform\":{\"architecture\":\"amd64\",\"os\":\"linux\"}}]}",
                          MT_OCI_INDEX, MT_OCI_MANIFEST, want, strlen(m));
        k = registry_put_manifest(r, "test/app", "multi", MT_OCI_INDEX, index, strlen(index), &e6);
        ok(k == 0 && registry_get_manifest(r, "test/app", "multi", &ibody, &ilen, &imt, NULL, NULL) == 0 &&
                   strcmp(imt, MT_OCI_INDEX) == 0 && ilen == strlen(index),
           "PUT and GET an index (%s)", e6.msg ? e6.msg : "ok");
        test_manifest_unknown(r, addr);
}

static void test_mount(struct registry *r, const char *digest_a)
{
        _cleanup_error_ struct error e1 = ERROR_INIT, e2 = ERROR_INIT;
        _cleanup_close_ int null = open("/dev/null", O_RDONLY | O_CLOEXEC), fd = -EBADF;
        _cleanup_free_ char *b = xmalloc(SIZE_B);
        char digest_b[DIGEST_BUF_SIZE];
        int k;

        /* an upload would read /dev/null and fail: only a mount succeeds */
        k = registry_put_blob(r, "test/other", digest_a, null, SIZE_A, "test/app", 0, NULL, NULL, &e1);
        ok(k == 0 && registry_blob_exists(r, "test/other", digest_a, NULL) == 1,
           "a cross-repository mount, no upload (%s)", e1.msg ? e1.msg : "ok");

        pattern(b, SIZE_B, 2);
        digest_buffer(b, SIZE_B, digest_b);
        fd = tmp_file("mount-b", b, SIZE_B);
        k = registry_put_blob(r, "test/third", digest_b, fd, SIZE_B, "test/empty", 0, NULL, NULL, &e2);
        ok(k == 0 && registry_blob_exists(r, "test/third", digest_b, NULL) == 1,
           "a mount from a repository without the blob goes on as an upload (%s)", e2.msg ? e2.msg : "ok");
}

static void test_bad_names(struct registry *r)
{
        _cleanup_free_ char *body = NULL;
        size_t len;

        ok(registry_get_manifest(r, "../x", "latest", &body, &len, NULL, NULL, NULL) == -EINVAL,
           "a repository name with .. is refused");
        ok(registry_get_manifest(r, "x", "bad tag", &body, &len, NULL, NULL, NULL) == -EINVAL,
           "a tag with a space is refused");
        ok(registry_blob_exists(r, "x", "sha256:1234", NULL) == -EINVAL, "a short digest is refused");
}

static void test_plain(const char *dir)
{
        _cleanup_(fixture_stop) struct fixture f = {};
        struct registry *r;
        char digest_a[DIGEST_BUF_SIZE];
        int k = fixture_registry(&f, dir, NULL);

        if (k <= 0) {
                if (k == 0)
                        skip("docker-registry is not installed");
                else
                        ok(false, "start docker-registry with %s/registry-fixture.sh", dir);
                return;
        }
        printf("# docker-registry at %s\n", f.addr);
        r = open_registry(f.addr, NULL, NULL, NULL);
        if (!ok(r != NULL, "registry_new for %s", f.addr))
                return;
        ok(registry_login_check(r, NULL) == 0, "GET /v2/ on an open registry");
        test_blobs(r, digest_a);
        test_resume(r, digest_a);
        test_corrupt(r, f.root);
        test_push_wrong_digest(r);
        test_manifests(r, f.addr, digest_a);
        test_mount(r, digest_a);
        test_bad_names(r);
        registry_free(r);
}

/* ---- basic auth (htpasswd) ---- */

static void test_basic_auth(const char *dir)
{
        _cleanup_(fixture_stop) struct fixture f = {};
        _cleanup_error_ struct error e1 = ERROR_INIT, e2 = ERROR_INIT, e3 = ERROR_INIT, e4 = ERROR_INIT,
                                     e5 = ERROR_INIT;
        _cleanup_free_ char *body = NULL, *auth_file = NULL;
        struct registry *anon, *wrong, *right, *from_file;
        char digest[DIGEST_BUF_SIZE];
        size_t len;
        int k = fixture_registry(&f, dir, USER ":" PASSWORD);

        if (k <= 0) {
                if (k == 0)
                        skip("docker-registry or htpasswd (apache2-utils) is not installed");
                else
                        ok(false, "start docker-registry with htpasswd auth");
                return;
        }
        anon = open_registry(f.addr, NULL, NULL, NULL);
        wrong = open_registry(f.addr, USER, "wrong", NULL);
        right = open_registry(f.addr, USER, PASSWORD, NULL);
        if (!anon || !wrong || !right)
                goto out;
        k = registry_login_check(anon, &e1);
        ok(k == -EACCES, "no credentials: EACCES (%s)", e1.msg ? e1.msg : "");
        k = registry_login_check(wrong, &e2);
        ok(k == -EACCES && msg_has(&e2, f.addr), "a wrong password: EACCES naming the registry");
        k = registry_get_manifest(wrong, "test/app", "latest", &body, &len, NULL, NULL, &e3);
        ok(k == -EACCES, "a wrong password: GET manifest is EACCES (%s)", e3.msg ? e3.msg : "");
        ok(registry_login_check(right, &e4) == 0, "the right password is accepted (%s)", e4.msg ? e4.msg : "ok");
        k = push_pattern(right, "test/secret", 9, 3000, 1000, digest, &e5);
        ok(k == 0 && registry_blob_exists(right, "test/secret", digest, NULL) == 1,
           "push (chunked, relative locations) and HEAD with basic auth (%s)", e5.msg ? e5.msg : "ok");
        ok(push_pattern(right, "test/secret", 10, 3000, 0, digest, NULL) == 0 &&
                   registry_blob_exists(right, "test/secret", digest, NULL) == 1,
           "push (monolithic, relative location) with basic auth");

        auth_file = xasprintf("%s/config.json", tmpdir);
        if (registry_auth_store(auth_file, f.addr, USER, PASSWORD, NULL) == 0) {
                from_file = open_registry(f.addr, NULL, NULL, auth_file);
                ok(from_file && registry_login_check(from_file, NULL) == 0, "credentials from the auth file work");
                registry_free(from_file);
        } else
                ok(false, "store credentials in %s", auth_file);
        (void) unlink(auth_file);
out:
        registry_free(anon);
        registry_free(wrong);
        registry_free(right);
}

/* A port where nothing listens: bound, never listening. */
static void test_refused(void)
{
        _cleanup_close_ int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        _cleanup_error_ struct error err = ERROR_INIT;
        _cleanup_free_ char *domain = NULL, *url = NULL;
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        socklen_t alen = sizeof(a);
        struct registry *r;
        int k;

        if (s < 0 || bind(s, (struct sockaddr *) &a, sizeof(a)) < 0 ||
            getsockname(s, (struct sockaddr *) &a, &alen) < 0) {
                skip("no loopback socket: %m");
                return;
        }
        domain = xasprintf("127.0.0.1:%u", ntohs(a.sin_port));
        url = xasprintf("http://%s/v2/", domain);
        r = open_registry(domain, NULL, NULL, NULL);
        if (!r)
                return;
        k = registry_login_check(r, &err);
        ok(k == -ECONNREFUSED && msg_has(&err, url), "connection refused names the URL");
        registry_free(r);
}

/* ---- the auth file ---- */

static struct json_object *read_json(const char *path)
{
        _cleanup_free_ char *data = NULL;

        if (read_full_file_at(AT_FDCWD, path, 1 << 20, &data, NULL) < 0)
                return NULL;
        return json_tokener_parse(data);
}

static bool json_has(struct json_object *o, const char *key, const char *sub)
{
        struct json_object *v;

        return json_object_object_get_ex(o, key, &v) && (!sub || json_object_object_get_ex(v, sub, NULL));
}

static unsigned count_entries(const char *dir)
{
        DIR *d = opendir(dir);
        unsigned n = 0;

        while (d && readdir(d))
                n++;
        if (d)
                closedir(d);
        return n;
}

static void test_auth_file_keeps(const char *path)
{
        struct json_object *o = read_json(path);
        struct stat st = {};
        int k = stat(path, &st);

        ok(k == 0 && (st.st_mode & 07777) == 0600, "the auth file is 0600 (%o)", (unsigned) (st.st_mode & 07777));
        ok(o && json_has(o, "credsStore", NULL) && json_has(o, "HttpHeaders", "X-Test") &&
                   json_has(o, "auths", "other.example"),
           "unrelated keys are kept");
        json_object_put(o);
}

static void test_auth_file(void)
{
        _cleanup_free_ char *path = xasprintf("%s/auth.json", tmpdir), *u = NULL, *p = NULL, *hu = NULL,
                            *hp = NULL, *ou = NULL, *op = NULL, *nu = NULL, *np = NULL;
        _cleanup_error_ struct error e1 = ERROR_INIT, e2 = ERROR_INIT;
        const char *initial = "{\"auths\":{\"other.example\":{\"auth\":\"b3RoZXI6cHc=\"},"
                              "\"https://index.docker.io/v1/\":{\"auth\":\"aHViOmh1YnB3\"}},"
                              "\"credsStore\":\"none\",\"HttpHeaders\":{\"X-Test\":\"1\"}}";
        struct json_object *o;
        unsigned before;

        if (write_file_atomic_at(AT_FDCWD, path, initial, strlen(initial), 0644) < 0) {
                ok(false, "write %s: %m", path);
                return;
        }
        before = count_entries(tmpdir);
        ok(registry_auth_lookup(path, "docker.io", &hu, &hp, NULL) == 1 && strcmp(hu, "hub") == 0 &&
                   strcmp(hp, "hubpw") == 0,
           "docker.io finds the https://index.docker.io/v1/ entry");
        ok(registry_auth_store(path, "localhost:5000", "alice", "p:a:ss", &e1) == 0, "store credentials (%s)",
           e1.msg ? e1.msg : "ok");
        ok(registry_auth_lookup(path, "localhost:5000", &u, &p, NULL) == 1 && strcmp(u, "alice") == 0 &&
                   strcmp(p, "p:a:ss") == 0,
           "look them up again (a ':' in the password survives)");
        ok(registry_auth_lookup(path, "other.example", &ou, &op, NULL) == 1 && strcmp(ou, "other") == 0,
           "the other registry's credentials are still there");
        test_auth_file_keeps(path);
        ok(count_entries(tmpdir) == before, "no temporary file is left behind");

        ok(registry_auth_store(path, "docker.io", "neo", "pw2", NULL) == 0 &&
                   registry_auth_lookup(path, "registry-1.docker.io", &nu, &np, NULL) == 1 && strcmp(nu, "neo") == 0,
           "storing docker.io replaces the Docker Hub entry");
        o = read_json(path);
        ok(o && !json_has(o, "auths", "https://index.docker.io/v1/") && json_has(o, "auths", "docker.io"),
           "under one key");
        json_object_put(o);

        ok(registry_auth_remove(path, "localhost:5000", &e2) == 1, "remove credentials (%s)", e2.msg ? e2.msg : "ok");
        ok(registry_auth_lookup(path, "localhost:5000", &u, &p, NULL) == 0, "they are gone");
        ok(registry_auth_remove(path, "localhost:5000", NULL) == 0, "removing them again changes nothing");
        test_auth_file_keeps(path);
        (void) unlink(path);
        ok(registry_auth_lookup(path, "localhost:5000", &u, &p, NULL) == 0, "a missing auth file has nothing");
        (void) write_file_atomic_at(AT_FDCWD, path, "[1,", 3, 0600);
        ok(registry_auth_store(path, "x.example", "a", "b", NULL) == -EINVAL, "a broken auth file is not overwritten");
        (void) unlink(path);
}

/* ---- against the stub ---- */

#define STUB_BLOB_SIZE 20000

static void stub_blob(char *buf, char digest[DIGEST_BUF_SIZE])
{
        for (size_t i = 0; i < STUB_BLOB_SIZE; i++)
                buf[i] = (char) ((i * 7 + 3) % 251);
        digest_buffer(buf, STUB_BLOB_SIZE, digest);
}

/* GET the stub's blob from REPO into a file that starts with PREFIX
 * bytes (of garbage when GARBAGE). */
static int stub_get(struct registry *r, const char *repo, size_t prefix, bool garbage, bool *ret_same,
                    struct error *err)
{
        _cleanup_free_ char *blob = xmalloc(STUB_BLOB_SIZE), *start = NULL;
        _cleanup_close_ int fd = -EBADF;
        char digest[DIGEST_BUF_SIZE];
        int k;

        stub_blob(blob, digest);
        start = xmalloc(prefix + 1);
        memcpy(start, blob, prefix);
        if (garbage)
                memset(start, 'g', prefix);
        fd = tmp_file("stub", start, prefix);
        if (fd < 0)
                return -errno;
        k = registry_get_blob(r, repo, digest, STUB_BLOB_SIZE, fd, NULL, NULL, err);
        *ret_same = file_equals(fd, blob, STUB_BLOB_SIZE);
        return k;
}

static void test_bearer(struct registry *anon, struct registry *alice, struct registry *wrong)
{
        _cleanup_error_ struct error e1 = ERROR_INIT, e2 = ERROR_INIT, e3 = ERROR_INIT, e4 = ERROR_INIT,
                                     e5 = ERROR_INIT, e6 = ERROR_INIT;
        _cleanup_free_ char *b1 = NULL, *b2 = NULL, *b3 = NULL, *b4 = NULL, *mt = NULL;
        char d1[DIGEST_BUF_SIZE], d2[DIGEST_BUF_SIZE];
        size_t len;
        bool same = false;
        int k;

        ok(registry_login_check(anon, &e1) == 0, "bearer: /v2/ with an anonymous token (%s)", e1.msg ? e1.msg : "ok");
        k = registry_get_manifest(anon, "bearer/public", "latest", &b1, &len, &mt, d1, &e2);
        ok(k == 0 && strcmp(mt, MT_OCI_MANIFEST) == 0, "bearer: GET a manifest with a token for its scope (%s)",
           e2.msg ? e2.msg : "ok");
        ok(k == 0 && registry_get_manifest(anon, "bearer/public", d1, &b2, &len, NULL, d2, NULL) == 0 &&
                   strcmp(d1, d2) == 0,
           "bearer: GET it by its digest (the cached token)");
        k = registry_get_manifest(anon, "bearer/private", "latest", &b3, &len, NULL, NULL, &e3);
        ok(k == -EACCES, "bearer: no token for a private repository without credentials (%s)",
           e3.msg ? e3.msg : "");
        k = registry_get_manifest(alice, "bearer/private", "latest", &b3, &len, NULL, NULL, &e4);
        ok(k == 0, "bearer: the token server takes basic credentials (%s)", e4.msg ? e4.msg : "ok");
        k = registry_get_manifest(wrong, "bearer/private", "latest", &b4, &len, NULL, NULL, &e5);
        ok(k == -EACCES, "bearer: a wrong password at the token server is EACCES (%s)", e5.msg ? e5.msg : "");
        k = stub_get(anon, "bearer/access", 0, false, &same, &e6);
        ok(k == 0 && same, "bearer: an \"access_token\" answer works too (%s)", e6.msg ? e6.msg : "ok");
}

static void test_stub_blobs(struct registry *r)
{
        _cleanup_error_ struct error e1 = ERROR_INIT, e2 = ERROR_INIT, e3 = ERROR_INIT, e4 = ERROR_INIT,
                                     e5 = ERROR_INIT, e6 = ERROR_INIT;
        bool same = false;
        int k;

        k = stub_get(r, "bearer/moved", 0, false, &same, &e1);
        ok(k == 0 && same, "a redirect to another host is followed without our Authorization (%s)",
           e1.msg ? e1.msg : "ok");
        k = stub_get(r, "bearer/moved", 5000, false, &same, &e2);
        ok(k == 0 && same, "a resumed download through a redirect (%s)", e2.msg ? e2.msg : "ok");
        k = stub_get(r, "flaky", 0, false, &same, &e3);
        ok(k == 0 && same, "503 twice, then the blob: retried (%s)", e3.msg ? e3.msg : "ok");
        k = stub_get(r, "busy", 0, false, &same, &e4);
        ok(k == -EAGAIN && msg_has(&e4, "slow down"), "429 every time: EAGAIN after the retries");
        k = stub_get(r, "norange", 7000, true, &same, &e5);
        ok(k == 0 && same, "a registry that ignores Range: the download starts over (%s)", e5.msg ? e5.msg : "ok");
        k = stub_get(r, "short", 0, false, &same, &e6);
        ok(k == 0 && same, "a transfer that breaks off is resumed (%s)", e6.msg ? e6.msg : "ok");
}

static void test_stub_bad(struct registry *r)
{
        _cleanup_error_ struct error err = ERROR_INIT;
        bool same = true;
        int k;

        k = stub_get(r, "bad", 0, false, &same, &err);
        ok(k == -EBADMSG && msg_has(&err, "digest mismatch") && !same, "a changed byte is a digest mismatch");
}

static void test_stub(const char *dir)
{
        _cleanup_(fixture_stop) struct fixture f = {};
        struct registry *anon, *alice, *wrong;
        int k = fixture_stub(&f, dir);

        if (k <= 0) {
                if (k == 0)
                        skip("python3 is not installed");
                else
                        ok(false, "start %s/registry-stub.py", dir);
                return;
        }
        anon = open_registry(f.addr, NULL, NULL, NULL);
        alice = open_registry(f.addr, USER, PASSWORD, NULL);
        wrong = open_registry(f.addr, USER, "nope", NULL);
        if (anon && alice && wrong) {
                test_bearer(anon, alice, wrong);
                test_stub_blobs(anon);
                test_stub_bad(anon);
        }
        registry_free(anon);
        registry_free(alice);
        registry_free(wrong);
}

int main(void)
{
        _cleanup_free_ char *dir = fixture_dir();

        /* keep the back-off short; the fixtures must not see our SIGPIPE */
        setenv("BERTH_REGISTRY_RETRY_MS", "5", 1);
        signal(SIGPIPE, SIG_IGN);
        if (!mkdtemp(tmpdir)) {
                skip("cannot create a temporary directory: %m");
                return tap_done();
        }
        printf("# fixtures from %s\n", dir ? dir : "(unknown)");
        test_challenges();
        test_tokens();
        test_auth_file();
        test_refused();
        if (dir) {
                test_plain(dir);
                test_basic_auth(dir);
                test_stub(dir);
        } else
                ok(false, "find the directory of registry-fixture.sh");
        cleanup_tmpdir();
        return tap_done();
}
