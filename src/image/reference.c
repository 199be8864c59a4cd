/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdarg.h>
#include <string.h>

#include "image/digest.h"
#include "image/reference.h"

/* The grammar is the distribution project's reference format:
 *
 *   reference := name [":" tag] ["@" digest]
 *   name      := [domain "/"] path
 *   domain    := host [":" port]        host: dotted components of
 *                                        [A-Za-z0-9] with inner '-', or
 *                                        "[" IPv6 "]"
 *   path      := component ("/" component)*
 *   component := [a-z0-9]+ (separator [a-z0-9]+)*
 *   separator := "." | "_" | "__" | "-"+
 *   tag       := [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}
 */

#define NAME_MAX_LEN 255
#define TAG_MAX_LEN 128
#define DOCKER_DOMAIN "docker.io"
#define DOCKER_LEGACY_DOMAIN "index.docker.io"
#define DOCKER_LIBRARY "library/"

static bool is_lower_alnum(char c)
{
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool is_alnum(char c)
{
        return is_lower_alnum(c) || (c >= 'A' && c <= 'Z');
}

static bool is_digit(char c)
{
        return c >= '0' && c <= '9';
}

static bool is_hex(char c)
{
        return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* One path component: alnum runs joined by single separators. */
static bool path_component_valid(const char *s, size_t n)
{
        size_t i = 0;

        for (;;) {
                size_t start = i;

                while (i < n && is_lower_alnum(s[i]))
                        i++;
                if (i == start)
                        return false;
                if (i == n)
                        return true;
                if (s[i] == '.')
                        i++;
                else if (s[i] == '_')
                        i += (i + 1 < n && s[i + 1] == '_') ? 2 : 1;
                else if (s[i] == '-')
                        while (i < n && s[i] == '-')
                                i++;
                else
                        return false;
        }
}

static bool path_valid(const char *s)
{
        for (;;) {
                const char *slash = strchr(s, '/');
                size_t n = slash ? (size_t) (slash - s) : strlen(s);

                if (!path_component_valid(s, n))
                        return false;
                if (!slash)
                        return true;
                s = slash + 1;
        }
}

static bool host_valid(const char *s, size_t n)
{
        size_t i = 0;

        if (n == 0)
                return false;
        if (s[0] == '[') { /* IPv6 literal */
                if (n < 3 || s[n - 1] != ']')
                        return false;
                for (i = 1; i < n - 1; i++)
                        if (!is_hex(s[i]) && s[i] != ':')
                                return false;
                return true;
        }
        while (i < n) {
                size_t start = i;

                while (i < n && (is_alnum(s[i]) || s[i] == '-'))
                        i++;
                if (i == start || s[start] == '-' || s[i - 1] == '-')
                        return false;
                if (i == n)
                        return true;
                if (s[i] != '.')
                        return false;
                i++;
                if (i == n)
                        return false; /* trailing dot */
        }
        return false;
}

static bool domain_valid(const char *s)
{
        const char *close = s[0] == '[' ? strchr(s, ']') : NULL;
        const char *colon = strchr(close ? close : s, ':');

        if (s[0] == '[' && !close)
                return false;
        if (!host_valid(s, colon ? (size_t) (colon - s) : strlen(s)))
                return false;
        if (!colon)
                return true;
        if (colon[1] == '\0')
                return false;
        for (const char *p = colon + 1; *p; p++)
                if (!is_digit(*p))
                        return false;
        return true;
}

static bool tag_char_valid(char c)
{
        return is_alnum(c) || c == '_' || c == '.' || c == '-';
}

/* NULL when TAG is fine, else why not. */
static const char *tag_check(const char *tag)
{
        size_t n = strlen(tag);

        if (n == 0)
                return "empty tag";
        if (tag[0] == '.' || tag[0] == '-')
                return "tag must start with a letter, digit or '_'";
        for (size_t i = 0; i < n; i++)
                if (!tag_char_valid(tag[i]))
                        return "tag holds a character other than [A-Za-z0-9_.-]";
        if (n > TAG_MAX_LEN)
                return "tag too long";
        return NULL;
}

static const char *digest_check(const char *d)
{
        const char *colon = strchr(d, ':');

        if (d[0] == '\0')
                return "empty digest";
        if (digest_valid(d))
                return NULL;
        if (colon && (size_t) (colon - d) == strlen("sha256") && strncmp(d, "sha256", 6) == 0)
                return "digest is not sha256: and 64 lowercase hex digits";
        return colon ? "unsupported digest algorithm" : "digest has no algorithm";
}

/* Docker's rule: the first of several components names a registry when
 * it looks like a host (a dot, a port, "localhost") or holds upper case,
 * which no repository may. */
static bool first_is_domain(const char *name, size_t n)
{
        if (n == strlen("localhost") && strncmp(name, "localhost", n) == 0)
                return true;
        for (size_t i = 0; i < n; i++)
                if (name[i] == '.' || name[i] == ':' || (name[i] >= 'A' && name[i] <= 'Z'))
                        return true;
        return false;
}

static bool is_hex64(const char *s)
{
        if (strlen(s) != DIGEST_HEX_LEN)
                return false;
        for (; *s; s++)
                if (!is_lower_alnum(*s) || !is_hex(*s))
                        return false;
        return true;
}

_printf_(3, 4) static int ref_error(struct error *err, const char *s, const char *fmt, ...)
{
        _cleanup_free_ char *why = NULL;
        va_list ap;

        va_start(ap, fmt);
        why = xvasprintf(fmt, ap);
        va_end(ap);
        return error_setx(err, EINVAL, "invalid reference `%s`: %s", s, why);
}

/* Cut ":TAG" off NAME (in place): the last ':' after the last '/'. */
static char *split_tag(char *name)
{
        char *slash = strrchr(name, '/');
        char *colon = strrchr(slash ? slash : name, ':');

        if (!colon)
                return NULL;
        *colon = '\0';
        return xstrdup(colon + 1);
}

/* Split NAME into domain and path; no domain was written when the
 * returned domain is NULL. */
static void split_domain(const char *name, char **ret_domain, char **ret_path)
{
        const char *slash = strchr(name, '/');

        if (slash && first_is_domain(name, (size_t) (slash - name))) {
                *ret_domain = xstrndup(name, (size_t) (slash - name));
                *ret_path = xstrdup(slash + 1);
        } else {
                *ret_domain = NULL;
                *ret_path = xstrdup(name);
        }
}

static bool has_upper(const char *s)
{
        for (; *s; s++)
                if (*s >= 'A' && *s <= 'Z')
                        return true;
        return false;
}

/* Check DOMAIN (NULL: none written) and PATH; *DOMAIN becomes the
 * normalised registry, *PATH gets "library/" where Docker adds it. */
static int ref_check_name(const char *s, char **domain, char **path, struct error *err)
{
        bool short_name = !*domain;

        if (*domain && !domain_valid(*domain))
                return ref_error(err, s, "invalid domain `%s`", *domain);
        if (short_name && is_hex64(*path))
                return ref_error(err, s, "repository name cannot be 64 hexadecimal digits (an image id?)");
        if (has_upper(*path))
                return ref_error(err, s, "repository name must be lowercase");
        if (!path_valid(*path))
                return ref_error(err, s, "invalid repository name `%s`", *path);
        if (short_name || strcmp(*domain, DOCKER_LEGACY_DOMAIN) == 0) {
                free(*domain);
                *domain = xstrdup(DOCKER_DOMAIN);
        }
        if (strcmp(*domain, DOCKER_DOMAIN) == 0 && !strchr(*path, '/')) {
                char *p = xasprintf(DOCKER_LIBRARY "%s", *path);
                free(*path);
                *path = p;
        }
        return 0;
}

int image_ref_parse(const char *s, struct image_ref *ret, struct error *err)
{
        _cleanup_free_ char *name = NULL, *tag = NULL, *domain = NULL, *path = NULL;
        const char *at, *why;
        bool short_name;
        int r;

        if (!s || !*s)
                return error_setx(err, EINVAL, "invalid reference ``: empty reference");
        at = strchr(s, '@');
        if (at && (why = digest_check(at + 1)))
                return ref_error(err, s, "%s", why);
        name = at ? xstrndup(s, (size_t) (at - s)) : xstrdup(s);
        tag = split_tag(name);
        if (tag && (why = tag_check(tag)))
                return ref_error(err, s, "%s", why);
        if (!*name)
                return ref_error(err, s, "empty repository name");
        if (strlen(name) > NAME_MAX_LEN)
                return ref_error(err, s, "name longer than %d characters", NAME_MAX_LEN);
        split_domain(name, &domain, &path);
        short_name = !domain;
        r = ref_check_name(s, &domain, &path, err);
        if (r < 0)
                return r;
        /* the limit holds for the name as normalised too ("docker.io/
         * library/" added), so that a parsed name always parses again */
        if (strlen(domain) + 1 + strlen(path) > NAME_MAX_LEN)
                return ref_error(err, s, "name longer than %d characters once normalised (%s/%s)", NAME_MAX_LEN,
                                 domain, path);
        if (!tag && !at)
                tag = xstrdup("latest");
        *ret = (struct image_ref) {
                .domain = TAKE_PTR(domain),
                .path = TAKE_PTR(path),
                .tag = TAKE_PTR(tag),
                .digest = at ? xstrdup(at + 1) : NULL,
                .short_name = short_name,
        };
        return 0;
}

int image_ref_with_domain(const struct image_ref *r, const char *domain, struct image_ref *ret)
{
        size_t lib = strlen(DOCKER_LIBRARY);
        bool docker;
        char *path;

        if (!domain || !domain_valid(domain))
                return -EINVAL;
        if (strcmp(domain, DOCKER_LEGACY_DOMAIN) == 0)
                domain = DOCKER_DOMAIN;
        docker = strcmp(domain, DOCKER_DOMAIN) == 0;
        /* Docker's "library/" belongs to Docker Hub only: a short
         * "busybox" searched elsewhere is DOMAIN/busybox. */
        if (r->short_name && !docker && strncmp(r->path, DOCKER_LIBRARY, lib) == 0 && !strchr(r->path + lib, '/'))
                path = xstrdup(r->path + lib);
        else if (docker && !strchr(r->path, '/'))
                path = xasprintf(DOCKER_LIBRARY "%s", r->path);
        else
                path = xstrdup(r->path);
        *ret = (struct image_ref) {
                .domain = xstrdup(domain),
                .path = path,
                .tag = r->tag ? xstrdup(r->tag) : NULL,
                .digest = r->digest ? xstrdup(r->digest) : NULL,
                .short_name = false,
        };
        return 0;
}

void image_ref_clear(struct image_ref *r)
{
        if (!r)
                return;
        free(r->domain);
        free(r->path);
        free(r->tag);
        free(r->digest);
        *r = (struct image_ref) {};
}

/* PREFIX + ":TAG" and/or "@DIGEST". */
static char *ref_with_suffix(const char *prefix, const struct image_ref *r)
{
        return xasprintf("%s%s%s%s%s", prefix, r->tag ? ":" : "", r->tag ? r->tag : "", r->digest ? "@" : "",
                         r->digest ? r->digest : "");
}

char *image_ref_repo(const struct image_ref *r)
{
        return xasprintf("%s/%s", r->domain, r->path);
}

char *image_ref_full(const struct image_ref *r)
{
        _cleanup_free_ char *repo = image_ref_repo(r);

        return ref_with_suffix(repo, r);
}

char *image_ref_familiar(const struct image_ref *r)
{
        _cleanup_free_ char *repo = NULL;
        const char *name;

        if (strcmp(r->domain, DOCKER_DOMAIN) != 0) {
                repo = image_ref_repo(r);
                name = repo;
        } else if (strncmp(r->path, DOCKER_LIBRARY, strlen(DOCKER_LIBRARY)) == 0 &&
                   !strchr(r->path + strlen(DOCKER_LIBRARY), '/'))
                name = r->path + strlen(DOCKER_LIBRARY);
        else
                name = r->path;
        return ref_with_suffix(name, r);
}

char *image_ref_normalize(const char *s)
{
        struct image_ref ref = {};
        char *full = NULL;

        if (image_ref_parse(s, &ref, NULL) >= 0)
                full = image_ref_full(&ref);
        image_ref_clear(&ref);
        return full;
}
