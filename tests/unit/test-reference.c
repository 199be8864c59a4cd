/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <string.h>

#include "image/reference.h"
#include "tap.h"

#define DG "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define HEX64 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

struct ref_case {
        const char *in;
        /* expected on success */
        const char *domain, *path, *tag, *digest, *familiar, *full;
        bool short_name;
        /* expected on failure: the reason after "invalid reference `IN`: " */
        const char *why;
};

#define GOOD(in, dom, path, tag, dig, fam, full, sh) { in, dom, path, tag, dig, fam, full, sh, NULL }
#define BAD(in, why) { in, NULL, NULL, NULL, NULL, NULL, NULL, false, why }

static const struct ref_case cases[] = {
        GOOD("busybox", "docker.io", "library/busybox", "latest", NULL, "busybox:latest",
             "docker.io/library/busybox:latest", true),
        GOOD("busybox:1.36", "docker.io", "library/busybox", "1.36", NULL, "busybox:1.36",
             "docker.io/library/busybox:1.36", true),
        GOOD("user/app", "docker.io", "user/app", "latest", NULL, "user/app:latest", "docker.io/user/app:latest",
             true),
        GOOD("library/busybox", "docker.io", "library/busybox", "latest", NULL, "busybox:latest",
             "docker.io/library/busybox:latest", true),
        GOOD("a/b/c", "docker.io", "a/b/c", "latest", NULL, "a/b/c:latest", "docker.io/a/b/c:latest", true),
        GOOD("docker.io/busybox", "docker.io", "library/busybox", "latest", NULL, "busybox:latest",
             "docker.io/library/busybox:latest", false),
        GOOD("docker.io/library/busybox:musl", "docker.io", "library/busybox", "musl", NULL, "busybox:musl",
             "docker.io/library/busybox:musl", false),
        GOOD("docker.io/library/a/b", "docker.io", "library/a/b", "latest", NULL, "library/a/b:latest",
             "docker.io/library/a/b:latest", false),
        GOOD("index.docker.io/library/busybox", "docker.io", "library/busybox", "latest", NULL, "busybox:latest",
             "docker.io/library/busybox:latest", false),
        GOOD("index.docker.io/user/app:v1", "docker.io", "user/app", "v1", NULL, "user/app:v1",
             "docker.io/user/app:v1", false),
        GOOD("index.docker.io/redis", "docker.io", "library/redis", "latest", NULL, "redis:latest",
             "docker.io/library/redis:latest", false),
        GOOD("localhost/foo", "localhost", "foo", "latest", NULL, "localhost/foo:latest",
             "localhost/foo:latest", false),
        GOOD("localhost", "docker.io", "library/localhost", "latest", NULL, "localhost:latest",
             "docker.io/library/localhost:latest", true),
        GOOD("localhost:5000", "docker.io", "library/localhost", "5000", NULL, "localhost:5000",
             "docker.io/library/localhost:5000", true),
        GOOD("localhost:5000/a/b:tag", "localhost:5000", "a/b", "tag", NULL, "localhost:5000/a/b:tag",
             "localhost:5000/a/b:tag", false),
        GOOD("127.0.0.1:5000/x", "127.0.0.1:5000", "x", "latest", NULL, "127.0.0.1:5000/x:latest",
             "127.0.0.1:5000/x:latest", false),
        GOOD("[::1]:5000/x:y", "[::1]:5000", "x", "y", NULL, "[::1]:5000/x:y", "[::1]:5000/x:y", false),
        GOOD("[fe80::1]/x", "[fe80::1]", "x", "latest", NULL, "[fe80::1]/x:latest", "[fe80::1]/x:latest", false),
        GOOD("quay.io/coreos/etcd:v3.5.0", "quay.io", "coreos/etcd", "v3.5.0", NULL, "quay.io/coreos/etcd:v3.5.0",
             "quay.io/coreos/etcd:v3.5.0", false),
        GOOD("ghcr.io/a/b/c/d:1", "ghcr.io", "a/b/c/d", "1", NULL, "ghcr.io/a/b/c/d:1", "ghcr.io/a/b/c/d:1",
             false),
        GOOD("my-registry.example.com:443/team/app@" DG, "my-registry.example.com:443", "team/app", NULL, DG,
             "my-registry.example.com:443/team/app@" DG, "my-registry.example.com:443/team/app@" DG, false),
        GOOD("busybox@" DG, "docker.io", "library/busybox", NULL, DG, "busybox@" DG,
             "docker.io/library/busybox@" DG, true),
        GOOD("busybox:1.36@" DG, "docker.io", "library/busybox", "1.36", DG, "busybox:1.36@" DG,
             "docker.io/library/busybox:1.36@" DG, true),
        GOOD("localhost:5000/a:b@" DG, "localhost:5000", "a", "b", DG, "localhost:5000/a:b@" DG,
             "localhost:5000/a:b@" DG, false),
        GOOD("Example.COM/app", "Example.COM", "app", "latest", NULL, "Example.COM/app:latest",
             "Example.COM/app:latest", false),
        GOOD("Foo/bar", "Foo", "bar", "latest", NULL, "Foo/bar:latest", "Foo/bar:latest", false),
        GOOD("x/a_b__c-d---e.f", "docker.io", "x/a_b__c-d---e.f", "latest", NULL, "x/a_b__c-d---e.f:latest",
             "docker.io/x/a_b__c-d---e.f:latest", true),
        GOOD("a-b_c/x", "docker.io", "a-b_c/x", "latest", NULL, "a-b_c/x:latest", "docker.io/a-b_c/x:latest",
             true),
        GOOD("example.com", "docker.io", "library/example.com", "latest", NULL, "example.com:latest",
             "docker.io/library/example.com:latest", true),
        GOOD("x:_Tag.1-2", "docker.io", "library/x", "_Tag.1-2", NULL, "x:_Tag.1-2",
             "docker.io/library/x:_Tag.1-2", true),
        GOOD("docker.io/" HEX64, "docker.io", "library/" HEX64, "latest", NULL, HEX64 ":latest",
             "docker.io/library/" HEX64 ":latest", false),

        BAD("Busybox", "repository name must be lowercase"),
        BAD("docker.io/Library/busybox", "repository name must be lowercase"),
        BAD("user/App:1", "repository name must be lowercase"),
        BAD("localhost:5000/A", "repository name must be lowercase"),
        BAD("a//b", "invalid repository name `a//b`"),
        BAD("-a", "invalid repository name `-a`"),
        BAD("a.", "invalid repository name `a.`"),
        BAD("a/b.", "invalid repository name `a/b.`"),
        BAD("a/", "invalid repository name `a/`"),
        BAD("/a", "invalid repository name `/a`"),
        BAD("a___b", "invalid repository name `a___b`"),
        BAD("a..b", "invalid repository name `a..b`"),
        BAD("a b", "invalid repository name `a b`"),
        BAD("example.com/", "invalid repository name ``"),
        BAD("busybox:latest:x", "invalid repository name `busybox:latest`"),
        BAD("x:", "empty tag"),
        BAD("x:.a", "tag must start with a letter, digit or '_'"),
        BAD("x:-a", "tag must start with a letter, digit or '_'"),
        BAD("x:a+b", "tag holds a character other than [A-Za-z0-9_.-]"),
        BAD("x:a/b", "invalid domain `x:a`"),
        BAD("localhost:port/x", "invalid domain `localhost:port`"),
        BAD("localhost:/x", "invalid domain `localhost:`"),
        BAD("exa_mple.com/x", "invalid domain `exa_mple.com`"),
        BAD("a_b.c/x", "invalid domain `a_b.c`"),
        BAD("-bad.com/x", "invalid domain `-bad.com`"),
        BAD("bad-.com/x", "invalid domain `bad-.com`"),
        BAD("a..com/x", "invalid domain `a..com`"),
        BAD("[::1/x", "invalid domain `[::1`"),
        BAD("[::g]/x", "invalid domain `[::g]`"),
        BAD("x@sha256:abc", "digest is not sha256: and 64 lowercase hex digits"),
        BAD("x@sha256:E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855",
            "digest is not sha256: and 64 lowercase hex digits"),
        BAD("x@md5:d41d8cd98f00b204e9800998ecf8427e", "unsupported digest algorithm"),
        BAD("x@" HEX64, "digest has no algorithm"),
        BAD("x@", "empty digest"),
        BAD("x@" DG "@" DG, "digest is not sha256: and 64 lowercase hex digits"),
        BAD("@" DG, "empty repository name"),
        BAD(":tag", "empty repository name"),
        BAD(HEX64, "repository name cannot be 64 hexadecimal digits (an image id?)"),
};

static bool streq_null(const char *a, const char *b)
{
        return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static void check_good(const struct ref_case *c)
{
        _cleanup_error_ struct error err = ERROR_INIT;
        struct image_ref r = {};
        _cleanup_free_ char *fam = NULL, *full = NULL;
        int ret = image_ref_parse(c->in, &r, &err);

        if (!ok(ret == 0, "parse `%s`", c->in)) {
                printf("# %s\n", err.msg);
                return;
        }
        fam = image_ref_familiar(&r);
        full = image_ref_full(&r);
        ok(streq_null(r.domain, c->domain) && streq_null(r.path, c->path) && streq_null(r.tag, c->tag) &&
                   streq_null(r.digest, c->digest) && r.short_name == c->short_name,
           "`%s`: domain %s path %s tag %s digest %s short %d", c->in, r.domain, r.path, r.tag ? r.tag : "-",
           r.digest ? "set" : "-", r.short_name);
        ok(strcmp(fam, c->familiar) == 0 && strcmp(full, c->full) == 0, "`%s`: familiar `%s`, full `%s`", c->in,
           fam, full);
        image_ref_clear(&r);
}

static void check_bad(const struct ref_case *c)
{
        _cleanup_error_ struct error err = ERROR_INIT;
        _cleanup_free_ char *want = xasprintf("invalid reference `%s`: %s", c->in, c->why);
        struct image_ref r = { .domain = (char *) "untouched" };
        int ret = image_ref_parse(c->in, &r, &err);

        ok(ret == -EINVAL && err.msg && strcmp(err.msg, want) == 0 && err.code == EINVAL,
           "`%s` is refused: %s", c->in, err.msg ? err.msg : "(no error)");
        ok(strcmp(r.domain, "untouched") == 0 && !r.path, "`%s`: the result is not written on failure", c->in);
        if (ret == 0)
                image_ref_clear(&r);
}

static void table(void)
{
        for (size_t i = 0; i < ELEMENTSOF(cases); i++)
                if (cases[i].why)
                        check_bad(&cases[i]);
                else
                        check_good(&cases[i]);
}

static char *repeat(char c, size_t n)
{
        char *s = xmalloc(n + 1);

        memset(s, c, n);
        s[n] = '\0';
        return s;
}

static void lengths(void)
{
        _cleanup_error_ struct error err = ERROR_INIT, err2 = ERROR_INIT, err3 = ERROR_INIT, err4 = ERROR_INIT;
        _cleanup_free_ char *a243 = repeat('a', 243), *a244 = repeat('a', 244), *t128 = repeat('t', 128),
                            *t129 = repeat('t', 129);
        _cleanup_free_ char *n255 = xasprintf("example.com/%s", a243), *n256 = xasprintf("example.com/%s", a244);
        _cleanup_free_ char *tag128 = xasprintf("x:%s", t128), *tag129 = xasprintf("x:%s", t129);
        _cleanup_free_ char *want = NULL;
        struct image_ref r = {};

        ok(strlen(n255) == 255 && image_ref_parse(n255, &r, &err) == 0 && strcmp(r.path, a243) == 0,
           "a 255-character name is accepted");
        image_ref_clear(&r);
        want = xasprintf("invalid reference `%s`: name longer than 255 characters", n256);
        ok(image_ref_parse(n256, &r, &err2) == -EINVAL && strcmp(err2.msg, want) == 0,
           "a 256-character name is refused");
        ok(image_ref_parse(tag128, &r, &err3) == 0 && strcmp(r.tag, t128) == 0, "a 128-character tag is accepted");
        image_ref_clear(&r);
        free(want);
        want = xasprintf("invalid reference `%s`: tag too long", tag129);
        ok(image_ref_parse(tag129, &r, &err4) == -EINVAL && strcmp(err4.msg, want) == 0,
           "a 129-character tag is refused: tag too long");
        {
                /* short, but too long once docker.io/library/ is added
                 * (found by fuzz-reference: it did not parse again) */
                _cleanup_free_ char *a250 = repeat('a', 250);
                _cleanup_error_ struct error err5 = ERROR_INIT;

                ok(image_ref_parse(a250, &r, &err5) == -EINVAL && err5.msg && strstr(err5.msg, "once normalised"),
                   "a short name too long once normalised is refused");
        }
}

static void empty(void)
{
        _cleanup_error_ struct error err = ERROR_INIT, err2 = ERROR_INIT;
        struct image_ref r = {};

        ok(image_ref_parse("", &r, &err) == -EINVAL && strcmp(err.msg, "invalid reference ``: empty reference") == 0,
           "the empty reference is refused (%s)", err.msg ? err.msg : "no error");
        ok(image_ref_parse(NULL, &r, &err2) == -EINVAL && err2.msg, "a NULL reference is refused");
        ok(image_ref_parse("x", &r, NULL) == 0, "a NULL error object is allowed");
        image_ref_clear(&r);
        ok(!r.domain && !r.path && !r.tag, "image_ref_clear() zeroes the reference");
        image_ref_clear(&r);
        image_ref_clear(NULL);
        ok(image_ref_parse("A", &r, NULL) == -EINVAL, "a failure without an error object still fails");
}

/* Parse IN, move it to DOMAIN, compare the full names. */
static void with_domain_case(const char *in, const char *domain, const char *want)
{
        struct image_ref r = {}, moved = {};
        _cleanup_free_ char *full = NULL;

        if (!ok(image_ref_parse(in, &r, NULL) == 0 && image_ref_with_domain(&r, domain, &moved) == 0,
                "`%s` moves to %s", in, domain)) {
                image_ref_clear(&r);
                return;
        }
        full = image_ref_full(&moved);
        ok(strcmp(full, want) == 0 && !moved.short_name, "`%s` on %s is `%s` (got `%s`)", in, domain, want, full);
        image_ref_clear(&r);
        image_ref_clear(&moved);
}

static void with_domain(void)
{
        struct image_ref r = {}, moved = { .path = (char *) "untouched" };
        _cleanup_free_ char *repo = NULL;

        with_domain_case("busybox", "quay.io", "quay.io/busybox:latest");
        with_domain_case("busybox:1@" DG, "localhost:5000", "localhost:5000/busybox:1@" DG);
        with_domain_case("user/app:v2", "quay.io", "quay.io/user/app:v2");
        with_domain_case("busybox", "docker.io", "docker.io/library/busybox:latest");
        with_domain_case("busybox", "index.docker.io", "docker.io/library/busybox:latest");
        with_domain_case("quay.io/busybox", "docker.io", "docker.io/library/busybox:latest");
        with_domain_case("docker.io/library/busybox", "quay.io", "quay.io/library/busybox:latest");

        ok(image_ref_parse("busybox", &r, NULL) == 0, "parse busybox");
        ok(image_ref_with_domain(&r, "bad_domain", &moved) == -EINVAL && strcmp(moved.path, "untouched") == 0,
           "an invalid domain is refused and the result left alone");
        ok(image_ref_with_domain(&r, "", &moved) == -EINVAL, "an empty domain is refused");
        repo = image_ref_repo(&r);
        ok(strcmp(repo, "docker.io/library/busybox") == 0, "image_ref_repo() is `%s`", repo);
        image_ref_clear(&r);
}

int main(void)
{
        table();
        lengths();
        empty();
        with_domain();
        return tap_done();
}
