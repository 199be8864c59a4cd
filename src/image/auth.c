/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Registry credentials in Docker's config.json format:
 *
 *   {"auths": {"localhost:5000": {"auth": "base64(user:pass)"}}, ...}
 *
 * Keys may be bare domains or URLs ("https://index.docker.io/v1/", what
 * the Docker CLI writes for Docker Hub); docker.io, index.docker.io and
 * registry-1.docker.io are one registry.  Everything else in the file
 * (credsStore, HttpHeaders, other registries) is kept as it is. */
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <limits.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "basic/fileio.h"
#include "image/registry.h"

#define AUTH_FILE_MAX ((size_t) 4 << 20)

static void json_object_putp(struct json_object **o)
{
        json_object_put(*o);
}

static void free_secretp(char **s)
{
        if (*s)
                explicit_bzero(*s, strlen(*s));
        free(*s);
}

#define _cleanup_json_ _cleanup_(json_object_putp)
#define _cleanup_secret_ _cleanup_(free_secretp)

static char *b64_encode(const char *s, size_t n)
{
        char *out = xmalloc(4 * ((n + 2) / 3) + 1);

        EVP_EncodeBlock((unsigned char *) out, (const unsigned char *) s, (int) n);
        return out;
}

/* Decode base64 with or without its '=' padding; -EINVAL when it is not
 * base64. */
static int b64_decode(const char *s, char **ret)
{
        size_t n = strlen(s), pad = 0;
        _cleanup_secret_ char *in = NULL, *out = NULL;
        int k;

        if (n == 0 || n > AUTH_FILE_MAX)
                return -EINVAL;
        in = xmalloc(n + 4);
        memcpy(in, s, n);
        while (n % 4)
                in[n++] = '=';
        in[n] = '\0';
        out = xmalloc(n / 4 * 3 + 1);
        k = EVP_DecodeBlock((unsigned char *) out, (const unsigned char *) in, (int) n);
        if (k < 0)
                return -EINVAL;
        /* EVP_DecodeBlock counts the padding as zero bytes */
        for (size_t i = n; i > 0 && in[i - 1] == '=' && pad < 2; i--)
                pad++;
        k -= (int) pad;
        out[k] = '\0';
        if (strlen(out) != (size_t) k)
                return -EINVAL; /* a NUL inside */
        *ret = TAKE_PTR(out);
        return 0;
}

static bool is_docker_hub(const char *host)
{
        return strcasecmp(host, "docker.io") == 0 || strcasecmp(host, "index.docker.io") == 0 ||
               strcasecmp(host, "registry-1.docker.io") == 0;
}

/* Does the key "https://index.docker.io/v1/", "localhost:5000", … name DOMAIN? */
static bool key_matches(const char *key, const char *domain)
{
        _cleanup_free_ char *host = NULL;

        if (strncasecmp(key, "https://", 8) == 0)
                key += 8;
        else if (strncasecmp(key, "http://", 7) == 0)
                key += 7;
        host = xstrndup(key, strcspn(key, "/"));
        return strcasecmp(host, domain) == 0 || (is_docker_hub(host) && is_docker_hub(domain));
}

/* Parse FILE: 1 with the object in *RET, 0 when the file does not exist,
 * < 0 on error.  An empty file is an empty object. */
static int auth_read(const char *file, struct json_object **ret, struct error *err)
{
        _cleanup_free_ char *data = NULL;
        struct json_tokener *tok;
        struct json_object *root;
        size_t len;
        int k;

        k = read_full_file_at(AT_FDCWD, file, AUTH_FILE_MAX, &data, &len);
        if (k == -ENOENT)
                return 0;
        if (k < 0)
                return error_set(err, -k, "read `%s`", file);
        if (strspn(data, " \t\r\n") == len) {
                *ret = json_object_new_object();
                return 1;
        }
        tok = json_tokener_new();
        if (!tok)
                oom();
        root = json_tokener_parse_ex(tok, data, (int) len);
        k = json_tokener_get_error(tok) == json_tokener_success && json_tokener_get_parse_end(tok) == len;
        json_tokener_free(tok);
        if (!k || !json_object_is_type(root, json_type_object)) {
                json_object_put(root);
                return error_setx(err, EINVAL, "parse `%s`: not a json object", file);
        }
        explicit_bzero(data, len);
        *ret = root;
        return 1;
}

/* The "auths" object of ROOT; created when CREATE is set. */
static int auths_get(struct json_object *root, bool create, const char *file, struct json_object **ret,
                     struct error *err)
{
        struct json_object *auths;

        if (json_object_object_get_ex(root, "auths", &auths)) {
                if (!json_object_is_type(auths, json_type_object))
                        return error_setx(err, EINVAL, "parse `%s`: \"auths\" is not an object", file);
                *ret = auths;
                return 1;
        }
        if (!create)
                return 0;
        auths = json_object_new_object();
        json_object_object_add(root, "auths", auths);
        *ret = auths;
        return 1;
}

/* User and password of one entry: "auth", else "username" + "password".
 * 1 when found, 0 when the entry has neither (an identity token). */
static int entry_credentials(struct json_object *entry, char **ret_user, char **ret_pass)
{
        _cleanup_secret_ char *plain = NULL;
        struct json_object *a, *u, *p;
        char *colon;

        if (json_object_object_get_ex(entry, "auth", &a) && json_object_is_type(a, json_type_string) &&
            json_object_get_string_len(a) > 0) {
                if (b64_decode(json_object_get_string(a), &plain) < 0)
                        return -EINVAL;
                colon = strchr(plain, ':');
                if (!colon)
                        return -EINVAL;
                *ret_user = xstrndup(plain, colon - plain);
                *ret_pass = xstrdup(colon + 1);
                return 1;
        }
        if (json_object_object_get_ex(entry, "username", &u) && json_object_is_type(u, json_type_string) &&
            json_object_object_get_ex(entry, "password", &p) && json_object_is_type(p, json_type_string)) {
                *ret_user = xstrdup(json_object_get_string(u));
                *ret_pass = xstrdup(json_object_get_string(p));
                return 1;
        }
        return 0;
}

/* The "auths" object of AUTH_FILE for an operation WHAT on DOMAIN: 1 and
 * *RET_ROOT (owning it) and *RET_AUTHS, 0 when the file or the object is
 * missing, or -errno. */
static int auths_open(const char *auth_file, const char *domain, const char *what, struct json_object **ret_root,
                      struct json_object **ret_auths, struct error *err)
{
        int k;

        if (!auth_file || !domain || !*domain)
                return error_setx(err, EINVAL, "%s: no file or domain", what);
        k = auth_read(auth_file, ret_root, err);
        if (k <= 0)
                return k;
        return auths_get(*ret_root, false, auth_file, ret_auths, err);
}

int registry_auth_lookup(const char *auth_file, const char *domain, char **ret_user, char **ret_pass,
                         struct error *err)
{
        _cleanup_json_ struct json_object *root = NULL;
        struct json_object *auths, *entry = NULL;
        int k;

        k = auths_open(auth_file, domain, "look up credentials", &root, &auths, err);
        if (k <= 0)
                return k;
        /* the exact key first, then one that names the same registry */
        if (!json_object_object_get_ex(auths, domain, &entry)) {
                json_object_object_foreach(auths, key, value) {
                        if (key_matches(key, domain)) {
                                entry = value;
                                break;
                        }
                }
        }
        if (!entry || !json_object_is_type(entry, json_type_object))
                return 0;
        k = entry_credentials(entry, ret_user, ret_pass);
        if (k < 0)
                return error_setx(err, EINVAL, "parse `%s`: bad credentials for `%s`", auth_file, domain);
        return k;
}

/* Where to write: the target of a symbolic link, so the link stays. */
static char *auth_target(const char *file)
{
        struct stat st;
        char *real;

        if (lstat(file, &st) == 0 && S_ISLNK(st.st_mode)) {
                real = realpath(file, NULL);
                if (real)
                        return real;
        }
        return xstrdup(file);
}

static int write_secret_file(const char *path, const char *data, struct error *err)
{
        _cleanup_free_ char *dir = xstrdup(path), *tmp = NULL;
        _cleanup_close_ int fd = -EBADF;
        char *slash = strrchr(dir, '/');
        int k;

        if (slash == dir)
                dir[1] = '\0';
        else if (slash)
                *slash = '\0';
        else {
                free(dir);
                dir = xstrdup(".");
        }
        /* ~/.docker may not exist yet */
        if (mkdir(dir, 0700) < 0 && errno != EEXIST)
                return error_set(err, errno, "create directory `%s`", dir);
        tmp = xasprintf("%s/.%s.XXXXXX", dir, slash ? slash + 1 : path);
        fd = mkostemp(tmp, O_CLOEXEC); /* mode 0600 from birth */
        if (fd < 0)
                return error_set(err, errno, "create a temporary file in `%s`", dir);
        k = write_all(fd, data, strlen(data));
        if (k >= 0 && fsync(fd) < 0)
                k = -errno;
        if (k >= 0 && rename(tmp, path) < 0)
                k = -errno;
        if (k < 0) {
                (void) unlink(tmp);
                return error_set(err, -k, "write `%s`", path);
        }
        return 0;
}

static int auth_write(const char *file, struct json_object *root, struct error *err)
{
        _cleanup_free_ char *target = auth_target(file), *text = NULL;
        const char *s = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);
        int k;

        if (!s)
                oom();
        text = xasprintf("%s\n", s);
        k = write_secret_file(target, text, err);
        explicit_bzero(text, strlen(text));
        return k;
}

/* Remove the keys of AUTHS that name DOMAIN, except KEEP (may be NULL);
 * how many went. */
static size_t auths_remove(struct json_object *auths, const char *domain, const char *keep)
{
        _cleanup_strv_free_ char **drop = xzalloc((json_object_object_length(auths) + 1) * sizeof(char *));
        size_t n = 0;

        json_object_object_foreach(auths, key, value) {
                (void) value;
                if (key_matches(key, domain) && !(keep && strcmp(key, keep) == 0))
                        drop[n++] = xstrdup(key);
        }
        for (size_t i = 0; i < n; i++)
                json_object_object_del(auths, drop[i]);
        return n;
}

int registry_auth_store(const char *auth_file, const char *domain, const char *user, const char *pass,
                        struct error *err)
{
        _cleanup_json_ struct json_object *root = NULL;
        _cleanup_secret_ char *plain = NULL, *encoded = NULL;
        struct json_object *auths, *entry;
        int k;

        if (!auth_file || !domain || !*domain)
                return error_setx(err, EINVAL, "store credentials: no file or domain");
        if (!user || !*user || strchr(user, ':') || !pass)
                return error_setx(err, EINVAL, "store credentials for `%s`: the user name must be set and hold no ':'",
                                  domain);
        k = auth_read(auth_file, &root, err);
        if (k < 0)
                return k;
        if (k == 0)
                root = json_object_new_object();
        k = auths_get(root, true, auth_file, &auths, err);
        if (k < 0)
                return k;
        (void) auths_remove(auths, domain, domain);
        if (!json_object_object_get_ex(auths, domain, &entry) || !json_object_is_type(entry, json_type_object)) {
                entry = json_object_new_object();
                json_object_object_add(auths, domain, entry);
        }
        plain = xasprintf("%s:%s", user, pass);
        encoded = b64_encode(plain, strlen(plain));
        json_object_object_add(entry, "auth", json_object_new_string(encoded));
        json_object_object_del(entry, "username");
        json_object_object_del(entry, "password");
        json_object_object_del(entry, "identitytoken");
        return auth_write(auth_file, root, err);
}

int registry_auth_remove(const char *auth_file, const char *domain, struct error *err)
{
        _cleanup_json_ struct json_object *root = NULL;
        struct json_object *auths;
        int k;

        k = auths_open(auth_file, domain, "remove credentials", &root, &auths, err);
        if (k <= 0)
                return k;
        if (auths_remove(auths, domain, NULL) == 0)
                return 0;
        k = auth_write(auth_file, root, err);
        return k < 0 ? k : 1;
}

/* ---- what registries send about auth ---- */

void registry_challenge_clear(struct registry_challenge *c)
{
        free(c->scheme);
        free(c->realm);
        free(c->service);
        free(c->scope);
        *c = (struct registry_challenge) {};
}

/* A quoted-string with backslash escapes; *P is at the opening quote and
 * ends up after the closing one.  NULL when it is not closed. */
static char *parse_quoted(const char **p)
{
        const char *s = *p + 1;
        _cleanup_free_ char *v = xmalloc(strlen(s) + 1);
        size_t n = 0;

        for (; *s && *s != '"'; s++) {
                if (*s == '\\' && s[1])
                        s++;
                v[n++] = *s;
        }
        if (*s != '"')
                return NULL;
        v[n] = '\0';
        *p = s + 1;
        return TAKE_PTR(v);
}

/* One key=value or key="value" at *P: 1 with both, 0 at the end of the
 * challenge (or the start of the next one), -EINVAL. */
static int parse_param(const char **p, char **ret_key, char **ret_value)
{
        _cleanup_free_ char *key = NULL, *value = NULL;
        const char *s = *p;
        size_t n;

        s += strspn(s, " \t,");
        n = strcspn(s, "= \t,");
        if (n == 0 || s[n] != '=')
                return 0;
        key = xstrndup(s, n);
        s += n + 1;
        if (*s == '"') {
                value = parse_quoted(&s);
                if (!value)
                        return -EINVAL;
        } else {
                n = strcspn(s, " \t,");
                value = xstrndup(s, n);
                s += n;
        }
        *p = s;
        *ret_key = TAKE_PTR(key);
        *ret_value = TAKE_PTR(value);
        return 1;
}

int registry_challenge_parse(const char *header, struct registry_challenge *ret)
{
        _cleanup_(registry_challenge_clear) struct registry_challenge c = {};
        const char *s = header;
        size_t n;
        int k;

        s += strspn(s, " \t");
        n = strcspn(s, " \t,");
        if (n == 0)
                return -EINVAL;
        c.scheme = xstrndup(s, n);
        s += n;
        for (;;) {
                _cleanup_free_ char *key = NULL, *value = NULL;
                char **slot = NULL;

                k = parse_param(&s, &key, &value);
                if (k < 0)
                        return k;
                if (k == 0)
                        break;
                if (strcasecmp(key, "realm") == 0)
                        slot = &c.realm;
                else if (strcasecmp(key, "service") == 0)
                        slot = &c.service;
                else if (strcasecmp(key, "scope") == 0)
                        slot = &c.scope;
                if (slot && !*slot)
                        *slot = TAKE_PTR(value);
        }
        *ret = c;
        c = (struct registry_challenge) {};
        return 0;
}

/* Append KEY=percent-encoded(VALUE, N bytes) to Q ('&' between). */
static void query_add(char **q, size_t *len, const char *key, const char *value, size_t n)
{
        static const char hex[] = "0123456789ABCDEF";
        char *p;

        *q = xrealloc(*q, *len + strlen(key) + 3 * n + 3);
        p = *q + *len;
        if (*len > 0)
                *p++ = '&';
        p = stpcpy(p, key);
        *p++ = '=';
        for (size_t i = 0; i < n; i++) {
                unsigned char ch = value[i];
                if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
                    strchr("-._~", ch)) {
                        *p++ = ch;
                        continue;
                }
                *p++ = '%';
                *p++ = hex[ch >> 4];
                *p++ = hex[ch & 15];
        }
        *p = '\0';
        *len = p - *q;
}

char *registry_token_query(const struct registry_challenge *c)
{
        char *q = xstrdup("");
        const char *s = c->scope ? c->scope : "";
        size_t len = 0;

        if (c->service)
                query_add(&q, &len, "service", c->service, strlen(c->service));
        while (*(s += strspn(s, " "))) {
                size_t n = strcspn(s, " ");
                query_add(&q, &len, "scope", s, n);
                s += n;
        }
        return q;
}

static bool token_valid(const char *t)
{
        if (!*t || strlen(t) > 64 * 1024)
                return false;
        for (; *t; t++)
                if (*t <= 0x20 || *t >= 0x7f)
                        return false;
        return true;
}

int registry_token_parse(const char *body, size_t len, char **ret)
{
        static const char *const keys[] = { "token", "access_token" };
        struct json_tokener *tok = json_tokener_new();
        _cleanup_json_ struct json_object *root = NULL;
        struct json_object *v;

        if (!tok)
                oom();
        root = json_tokener_parse_ex(tok, body, (int) (len < INT_MAX ? len : INT_MAX));
        json_tokener_free(tok);
        for (size_t i = 0; i < ELEMENTSOF(keys); i++)
                if (json_object_object_get_ex(root, keys[i], &v) && json_object_is_type(v, json_type_string) &&
                    token_valid(json_object_get_string(v))) {
                        *ret = xstrdup(json_object_get_string(v));
                        return 0;
                }
        return -EPROTO;
}
