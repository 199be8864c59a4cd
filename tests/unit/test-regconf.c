/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "image/regconf.h"
#include "tap.h"

static int parse(const char *text, struct regconf *c, struct error *err)
{
        return regconf_parse(text, strlen(text), "test.conf", c, err);
}

/* TEXT is refused with exactly the message WANT. */
static void refused(const char *text, const char *want)
{
        struct regconf c = {};
        struct error err = ERROR_INIT;
        int r = parse(text, &c, &err);

        if (!ok(r == -EINVAL && err.msg && strcmp(err.msg, want) == 0, "refused: %s", want))
                printf("# got %d: %s\n", r, err.msg ? err.msg : "(no message)");
        error_clear(&err);
        regconf_clear(&c);
}

static const char full[] =
        "# a registries.conf\n"
        "unqualified-search-registries = [\"docker.io\", 'quay.io',  # trailing comment\n"
        "   \"localhost:5000\",\n"
        "]\n"
        "short-name-mode = \"enforcing\"   # not ours: skipped\n"
        "\n"
        "[aliases]\n"
        "\"busybox\" = \"docker.io/library/busybox\"\n"
        "\r\n"
        "[[registry]]\n"
        "location = \"docker.io\"\n"
        "\n"
        "  [[registry.mirror]]\n"
        "  location = \"mirror.example:5000/hub\"\n"
        "  insecure = true\n"
        "  [[registry.mirror]]\n"
        "  location = \"second.example\"\n"
        "  pull-from-mirror = \"digest-only\"\n"
        "\n"
        "[[registry]]\n"
        "prefix = \"docker.io/library/private\"\n"
        "location = \"internal.example/lib\"\n"
        "blocked = false\n"
        "mirror-by-digest-only = true\n"
        "[[registry.mirror]]\n"
        "location = \"m.example\"\n"
        "\n"
        "[[registry]]\n"
        "location = \"bad.example\"\n"
        "blocked = true\n"
        "[[registry]]\n"
        "location = \"plain.example:8080\"\n"
        "insecure = true\n";

static void parses_the_whole_shape(void)
{
        struct regconf c = {};
        struct error err = ERROR_INIT;
        int r = parse(full, &c, &err);

        if (!ok(r == 0, "a full configuration parses"))
                printf("# %s\n", err.msg);
        error_clear(&err);
        if (r < 0)
                return;
        ok(c.search && c.search[0] && c.search[1] && c.search[2] && !c.search[3] &&
                   strcmp(c.search[0], "docker.io") == 0 && strcmp(c.search[1], "quay.io") == 0 &&
                   strcmp(c.search[2], "localhost:5000") == 0,
           "the search list spans lines, takes both string kinds and a trailing comma");
        ok(c.n_registries == 4, "four [[registry]] tables (%zu)", c.n_registries);
        ok(strcmp(c.registries[0].prefix, "docker.io") == 0 && c.registries[0].n_mirrors == 2 &&
                   c.registries[0].mirrors[0].insecure && !c.registries[0].mirrors[1].insecure &&
                   c.registries[0].mirrors[1].pull_from == REGCONF_PULL_DIGEST_ONLY,
           "mirrors belong to the [[registry]] before them, in order");
        ok(strcmp(c.registries[1].prefix, "docker.io/library/private") == 0 &&
                   strcmp(c.registries[1].location, "internal.example/lib") == 0 &&
                   c.registries[1].mirror_by_digest_only,
           "prefix and location are kept apart");
        ok(c.registries[2].blocked && c.registries[3].insecure && !c.registries[2].insecure,
           "blocked and insecure");
        ok(strcmp(c.path, "test.conf") == 0, "the file name is kept for messages");
        regconf_clear(&c);
}

static void sources_of(const struct regconf *c, const char *domain, const char *path, bool by_digest, char *out,
                       size_t size)
{
        struct regconf_source *v = NULL;
        struct error err = ERROR_INIT;
        size_t n = 0, used = 0;

        out[0] = 0;
        if (regconf_sources(c, domain, path, by_digest, &v, &n, &err) < 0) {
                (void) snprintf(out, size, "error %d: %s", err.code, err.msg);
                error_clear(&err);
                return;
        }
        for (size_t i = 0; i < n && used < size; i++)
                used += (size_t) snprintf(out + used, size - used, "%s%s%s/%s", i ? " " : "",
                                          v[i].insecure ? "http:" : "", v[i].domain, v[i].path);
        regconf_sources_free(v, n);
}

static void lookups(void)
{
        struct regconf c = {};
        struct error err = ERROR_INIT;
        char got[1024];
        _cleanup_strv_free_ char **insecure = NULL;

        if (parse(full, &c, &err) < 0) {
                skip("the configuration does not parse: %s", err.msg);
                error_clear(&err);
                return;
        }
        sources_of(&c, "docker.io", "library/busybox", false, got, sizeof(got));
        ok(strcmp(got, "http:mirror.example:5000/hub/library/busybox docker.io/library/busybox") == 0,
           "a tag: the mirror that serves tags, then the registry (%s)", got);
        sources_of(&c, "docker.io", "library/busybox", true, got, sizeof(got));
        ok(strcmp(got, "http:mirror.example:5000/hub/library/busybox second.example/library/busybox "
                       "docker.io/library/busybox") == 0,
           "a digest: every mirror, then the registry (%s)", got);
        sources_of(&c, "docker.io", "library/private/app", false, got, sizeof(got));
        ok(strcmp(got, "internal.example/lib/app") == 0,
           "the longest prefix wins; mirror-by-digest-only skips its mirror for a tag (%s)", got);
        sources_of(&c, "docker.io", "library/private/app", true, got, sizeof(got));
        ok(strcmp(got, "m.example/app internal.example/lib/app") == 0, "location replaces the prefix (%s)", got);
        sources_of(&c, "docker.io", "library/privateer", false, got, sizeof(got));
        ok(strncmp(got, "http:mirror.example:5000/hub/library/privateer", 45) == 0,
           "prefixes match whole components (%s)", got);
        sources_of(&c, "bad.example", "x/y", false, got, sizeof(got));
        ok(strcmp(got, "error 1: registry `bad.example` is blocked in test.conf") == 0, "blocked: EPERM (%s)", got);
        sources_of(&c, "bad.example.org", "x", false, got, sizeof(got));
        ok(strcmp(got, "bad.example.org/x") == 0, "a registry without a table is itself (%s)", got);
        sources_of(&c, "plain.example:8080", "x", false, got, sizeof(got));
        ok(strcmp(got, "http:plain.example:8080/x") == 0, "an insecure registry (%s)", got);
        sources_of(NULL, "quay.io", "a/b", false, got, sizeof(got));
        ok(strcmp(got, "quay.io/a/b") == 0, "no configuration at all (%s)", got);
        insecure = regconf_insecure_domains(&c);
        ok(insecure[0] && insecure[1] && !insecure[2] && strcmp(insecure[0], "mirror.example:5000") == 0 &&
                   strcmp(insecure[1], "plain.example:8080") == 0,
           "insecure hosts of registries and mirrors, without paths");
        regconf_clear(&c);
}

static void strings_and_values(void)
{
        struct regconf c = {};
        struct error err = ERROR_INIT;
        const char *text = "unqualified-search-registries = [\"a\\u002eexample\", \"b.example\\u003A5000\"]\n"
                           "other = [[1, 2], [\"x\\t\\\"y\\\\\"], true, -3_000]  # skipped, but it must parse\n"
                           "'quoted key' = 'C:\\no\\escapes'\n";

        if (!ok(parse(text, &c, &err) == 0, "escapes, nested arrays, integers, literal strings"))
                printf("# %s\n", err.msg);
        error_clear(&err);
        ok(c.search && c.search[0] && c.search[1] && strcmp(c.search[0], "a.example") == 0 &&
                   strcmp(c.search[1], "b.example:5000") == 0,
           "\\u escapes decode");
        regconf_clear(&c);
        ok(parse("", &c, &err) == 0 && !c.search && c.n_registries == 0, "an empty file is an empty configuration");
        regconf_clear(&c);
        ok(parse("unqualified-search-registries = []", &c, &err) == 0 && c.search && !c.search[0],
           "an empty search list is kept as set (no EOF newline needed)");
        regconf_clear(&c);
}

static void errors(void)
{
        refused("a = 1\n\n[[registry]]\nlocation \"x\"\n", "test.conf:4: expected `=`");
        refused("x.y = 1\n", "test.conf:1: expected `=`");
        refused("a = \"unterminated\n", "test.conf:1: unterminated string");
        refused("a = \"bad \\q escape\"\n", "test.conf:1: invalid escape in string");
        refused("a = \"\\u0000\"\n", "test.conf:1: invalid unicode escape");
        refused("a = \"\\ud800\"\n", "test.conf:1: invalid unicode escape");
        refused("a = \"\"\"multi\"\"\"\n", "test.conf:1: multi-line strings are not supported");
        refused("a = 1 b = 2\n", "test.conf:1: expected end of line");
        refused("a = [1,\n 2\n 3]\n", "test.conf:3: expected `,` or `]`");
        refused("a = [1, 2\n", "test.conf:2: expected `,` or `]`");
        refused("a = \n", "test.conf:1: expected a value");
        refused("a = 1.5x\n", "test.conf:1: expected end of line");
        refused("a = nope\n", "test.conf:1: unsupported value `nope`");
        refused("a = {x = 1}\n", "test.conf:1: inline tables are not supported");
        refused("a = [[[[[[[[[[1]]]]]]]]]]\n", "test.conf:1: arrays nested too deep");
        refused("a = 1\na = 2\n", "test.conf:2: duplicate key `a`");
        refused("[registry]\nlocation = \"x\"\n", "test.conf:1: `[registry]` must be an array of tables: `[[registry]]`");
        refused("[[registry.mirror]]\nlocation = \"x\"\n", "test.conf:1: [[registry.mirror]] before any [[registry]]");
        refused("[[registry\n", "test.conf:1: expected `]]`");
        refused("# one\n[[registry]]\ninsecure = true\n\n[[registry]]\nlocation = \"y\"\n",
                "test.conf:2: [[registry]] without `location`");
        refused("[[registry]]\nlocation = \"y\"\n[[registry.mirror]]\ninsecure = true\n",
                "test.conf:3: [[registry.mirror]] without `location`");
        refused("[[registry]]\nlocation = \"a.example\"\n[[registry]]\nlocation = \"a.example\"\n",
                "test.conf:3: [[registry]] `a.example` defined twice");
        refused("[[registry]]\nlocation = \"x\"\nbocked = true\n", "test.conf:3: unknown key `bocked` in [[registry]]");
        refused("[[registry]]\nlocation = \"x\"\ninsecure = \"yes\"\n", "test.conf:3: `insecure`: expected true or false");
        refused("[[registry]]\nlocation = \"https://x.example\"\n",
                "test.conf:2: `location`: invalid location `https://x.example` (expected host[:port][/path])");
        refused("[[registry]]\nlocation = \"x\"\n[[registry.mirror]]\nlocation = \"m\"\npull-from-mirror = \"some\"\n",
                "test.conf:5: `pull-from-mirror`: expected \"all\", \"digest-only\" or \"tag-only\"");
        refused("unqualified-search-registries = \"docker.io\"\n",
                "test.conf:1: `unqualified-search-registries`: expected an array of strings");
        refused("unqualified-search-registries = [\"docker.io/library\"]\n",
                "test.conf:1: `unqualified-search-registries`: invalid registry `docker.io/library`");
        refused("a = \"tab\tok, bell \a not\"\n", "test.conf:1: control character in string");
        refused("= 1\n", "test.conf:1: expected a key");
}

/* Every prefix of a good file is either good or refused with a file and
 * line: no crash, no leak (the sanitizer build checks). */
static void truncations(void)
{
        size_t n = strlen(full), bad = 0;

        for (size_t i = 0; i <= n; i++) {
                struct regconf c = {};
                struct error err = ERROR_INIT;
                if (regconf_parse(full, i, "t", &c, &err) < 0 && (!err.msg || strncmp(err.msg, "t:", 2) != 0))
                        bad++;
                error_clear(&err);
                regconf_clear(&c);
        }
        ok(bad == 0, "every truncation of a good file parses or names file and line (%zu bad)", bad);
}

static void loading(void)
{
        char tmpl[] = "/tmp/berth-test-regconf-XXXXXX";
        char *dir = mkdtemp(tmpl);
        _cleanup_free_ char *path = NULL, *missing = NULL;
        struct regconf c = {};
        struct error err = ERROR_INIT;
        FILE *f;
        int r;

        if (!dir) {
                skip("cannot create a temporary directory");
                return;
        }
        path = xasprintf("%s/registries.conf", dir);
        missing = xasprintf("%s/missing.conf", dir);
        f = fopen(path, "we");
        if (f) {
                fputs("unqualified-search-registries = [\"localhost:5000\"]\n[[registry]]\nlocation = 7\n", f);
                fclose(f);
        }
        r = regconf_load(path, &c, &err);
        ok(r == -EINVAL && err.msg && strncmp(err.msg, path, strlen(path)) == 0 &&
                   strstr(err.msg, ":3: `location`: expected a string"),
           "a file's errors name the file and line (%s)", err.msg ? err.msg : "no message");
        error_clear(&err);
        ok(regconf_load(missing, &c, &err) == -ENOENT && err.msg && strstr(err.msg, missing),
           "a file asked for must exist");
        error_clear(&err);
        (void) setenv("BERTH_REGISTRIES_CONF", missing, 1);
        ok(regconf_load(NULL, &c, &err) == -ENOENT, "so must $BERTH_REGISTRIES_CONF");
        error_clear(&err);
        (void) unsetenv("BERTH_REGISTRIES_CONF");
        (void) unlink(path);
        (void) rmdir(dir);
}

int main(void)
{
        parses_the_whole_shape();
        lookups();
        strings_and_values();
        errors();
        truncations();
        loading();
        return tap_done();
}
