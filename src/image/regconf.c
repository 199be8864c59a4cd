/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic/fileio.h"
#include "image/regconf.h"

/* A registries.conf in a TOML subset (see regconf.h).  The parser works
 * on the whole text with a cursor; every error is "NAME:LINE: what". */

#define REGCONF_MAX (1u << 20)
#define ARRAY_DEPTH_MAX 8

enum value_type {
        VALUE_STRING,
        VALUE_BOOL,
        VALUE_INT,
        VALUE_ARRAY,
};

struct value {
        enum value_type type;
        char *s;
        bool b;
        struct value *items;
        size_t n;
};

enum table {
        TABLE_ROOT,
        TABLE_REGISTRY,
        TABLE_MIRROR,
        TABLE_OTHER, /* known to TOML, not to us: its keys are skipped */
};

struct parser {
        const char *p, *end;
        const char *name;
        unsigned line;
        struct regconf *c;
        enum table table;
        unsigned table_line;
        char **seen; /* the keys of the current table, for duplicates */
        size_t n_seen;
        struct error *err;
};

/* A growing string. */
struct sbuf {
        char *s;
        size_t n, cap;
};

static void sbuf_put(struct sbuf *b, const char *p, size_t n)
{
        if (b->n + n + 1 > b->cap) {
                b->cap = (b->n + n + 1) * 2;
                b->s = xrealloc(b->s, b->cap);
        }
        memcpy(b->s + b->n, p, n);
        b->n += n;
        b->s[b->n] = 0;
}

_printf_(3, 4) static int fail_at(struct parser *ps, unsigned line, const char *fmt, ...)
{
        char msg[512];
        va_list ap;

        va_start(ap, fmt);
        (void) vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        return error_setx(ps->err, EINVAL, "%s:%u: %s", ps->name, line, msg);
}
#define fail(ps, ...) fail_at(ps, (ps)->line, __VA_ARGS__)

static void value_clear(struct value *v)
{
        free(v->s);
        for (size_t i = 0; i < v->n; i++)
                value_clear(&v->items[i]);
        free(v->items);
        *v = (struct value) {};
}

static bool at_end(const struct parser *ps)
{
        return ps->p >= ps->end;
}

static bool looking_at(const struct parser *ps, const char *s)
{
        size_t n = strlen(s);

        return (size_t) (ps->end - ps->p) >= n && memcmp(ps->p, s, n) == 0;
}

static void skip_blank(struct parser *ps)
{
        while (!at_end(ps) && (*ps->p == ' ' || *ps->p == '\t'))
                ps->p++;
}

static void skip_comment(struct parser *ps)
{
        if (!at_end(ps) && *ps->p == '#')
                while (!at_end(ps) && *ps->p != '\n')
                        ps->p++;
}

/* A newline ("\n" or "\r\n") at the cursor: consume it. */
static bool take_newline(struct parser *ps)
{
        if (looking_at(ps, "\n") || looking_at(ps, "\r\n")) {
                ps->p += *ps->p == '\r' ? 2 : 1;
                ps->line++;
                return true;
        }
        return false;
}

/* Blanks, an optional comment, then the end of the line or of the text. */
static int end_line(struct parser *ps)
{
        skip_blank(ps);
        skip_comment(ps);
        if (at_end(ps) || take_newline(ps))
                return 0;
        return fail(ps, "expected end of line");
}

/* Inside an array: blanks, comments and newlines. */
static void skip_space(struct parser *ps)
{
        for (;;) {
                skip_blank(ps);
                skip_comment(ps);
                if (!take_newline(ps))
                        return;
        }
}

static bool is_bare(char c)
{
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

static void put_utf8(struct sbuf *b, uint32_t cp)
{
        char u[4];
        size_t n;

        if (cp < 0x80) {
                u[0] = (char) cp;
                n = 1;
        } else if (cp < 0x800) {
                u[0] = (char) (0xc0 | (cp >> 6));
                u[1] = (char) (0x80 | (cp & 0x3f));
                n = 2;
        } else if (cp < 0x10000) {
                u[0] = (char) (0xe0 | (cp >> 12));
                u[1] = (char) (0x80 | ((cp >> 6) & 0x3f));
                u[2] = (char) (0x80 | (cp & 0x3f));
                n = 3;
        } else {
                u[0] = (char) (0xf0 | (cp >> 18));
                u[1] = (char) (0x80 | ((cp >> 12) & 0x3f));
                u[2] = (char) (0x80 | ((cp >> 6) & 0x3f));
                u[3] = (char) (0x80 | (cp & 0x3f));
                n = 4;
        }
        sbuf_put(b, u, n);
}

/* \uXXXX or \UXXXXXXXX, the cursor after the 'u' or 'U'. */
static int parse_unicode(struct parser *ps, size_t digits, struct sbuf *b)
{
        uint32_t cp = 0;

        if ((size_t) (ps->end - ps->p) < digits)
                return fail(ps, "unterminated string");
        for (size_t i = 0; i < digits; i++) {
                char c = *ps->p++;
                int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
                                                        : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
                if (v < 0)
                        return fail(ps, "invalid unicode escape");
                cp = cp << 4 | (uint32_t) v;
        }
        if (cp == 0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
                return fail(ps, "invalid unicode escape");
        put_utf8(b, cp);
        return 0;
}

static int parse_escape(struct parser *ps, struct sbuf *b)
{
        static const char from[] = "btnfr\"\\", to[] = "\b\t\n\f\r\"\\";
        const char *k;
        char c;

        if (at_end(ps))
                return fail(ps, "unterminated string");
        c = *ps->p++;
        if (c == 'u' || c == 'U')
                return parse_unicode(ps, c == 'u' ? 4 : 8, b);
        k = c ? strchr(from, c) : NULL;
        if (!k)
                return fail(ps, "invalid escape in string");
        sbuf_put(b, &to[k - from], 1);
        return 0;
}

/* A basic ("…", with escapes) or literal ('…') string on one line. */
static int parse_string(struct parser *ps, char **ret)
{
        char quote = *ps->p;
        struct sbuf b = {};
        int r = 0;

        if (looking_at(ps, "\"\"\"") || looking_at(ps, "'''"))
                return fail(ps, "multi-line strings are not supported");
        sbuf_put(&b, "", 0);
        ps->p++;
        while (r >= 0) {
                unsigned char c;

                if (at_end(ps) || *ps->p == '\n' || *ps->p == '\r') {
                        r = fail(ps, "unterminated string");
                        break;
                }
                c = (unsigned char) *ps->p++;
                if (c == (unsigned char) quote)
                        break;
                if ((c < 0x20 && c != '\t') || c == 0x7f)
                        r = fail(ps, "control character in string");
                else if (c == '\\' && quote == '"')
                        r = parse_escape(ps, &b);
                else
                        sbuf_put(&b, (const char *) &c, 1);
        }
        if (r < 0) {
                free(b.s);
                return r;
        }
        *ret = b.s;
        return 0;
}

static int parse_key(struct parser *ps, char **ret)
{
        const char *start = ps->p;

        if (!at_end(ps) && (*ps->p == '"' || *ps->p == '\''))
                return parse_string(ps, ret);
        while (!at_end(ps) && is_bare(*ps->p))
                ps->p++;
        if (ps->p == start)
                return fail(ps, "expected a key");
        *ret = xstrndup(start, (size_t) (ps->p - start));
        return 0;
}

static int parse_value(struct parser *ps, struct value *ret, unsigned depth);

static int parse_array(struct parser *ps, struct value *ret, unsigned depth)
{
        struct value v = { .type = VALUE_ARRAY };
        int r = 0;

        if (depth >= ARRAY_DEPTH_MAX)
                return fail(ps, "arrays nested too deep");
        ps->p++;
        for (;;) {
                skip_space(ps);
                if (!at_end(ps) && *ps->p == ']')
                        break;
                v.items = xrealloc(v.items, (v.n + 1) * sizeof(*v.items));
                r = parse_value(ps, &v.items[v.n], depth + 1);
                if (r < 0)
                        break;
                v.n++;
                skip_space(ps);
                if (!at_end(ps) && *ps->p == ',') {
                        ps->p++;
                        continue;
                }
                if (at_end(ps) || *ps->p != ']')
                        r = fail(ps, "expected `,` or `]`");
                break;
        }
        if (r < 0) {
                value_clear(&v);
                return r;
        }
        ps->p++;
        *ret = v;
        return 0;
}

/* A bare word: true, false, or a decimal integer (the only other values
 * known keys may have; skipped keys may have them too). */
static int parse_word(struct parser *ps, struct value *ret)
{
        const char *start = ps->p;
        size_t n;

        while (!at_end(ps) && (is_bare(*ps->p) || *ps->p == '+'))
                ps->p++;
        n = (size_t) (ps->p - start);
        if (n == 4 && memcmp(start, "true", 4) == 0)
                *ret = (struct value) { .type = VALUE_BOOL, .b = true };
        else if (n == 5 && memcmp(start, "false", 5) == 0)
                *ret = (struct value) { .type = VALUE_BOOL, .b = false };
        else {
                size_t i = n && (*start == '+' || *start == '-');
                if (i == n)
                        return fail_at(ps, ps->line, "expected a value");
                for (; i < n; i++)
                        if (!(start[i] >= '0' && start[i] <= '9') && start[i] != '_')
                                return fail(ps, "unsupported value `%.*s`", (int) n, start);
                *ret = (struct value) { .type = VALUE_INT };
        }
        return 0;
}

static int parse_value(struct parser *ps, struct value *ret, unsigned depth)
{
        if (at_end(ps))
                return fail(ps, "expected a value");
        if (*ps->p == '"' || *ps->p == '\'') {
                *ret = (struct value) { .type = VALUE_STRING };
                return parse_string(ps, &ret->s);
        }
        if (*ps->p == '[')
                return parse_array(ps, ret, depth);
        if (*ps->p == '{')
                return fail(ps, "inline tables are not supported");
        return parse_word(ps, ret);
}

/* ---- what the keys mean ---- */

/* host[:port][/path]: no scheme, no empty component, no blanks. */
static bool location_valid(const char *s, bool host_only)
{
        size_t n = strlen(s);

        if (n == 0 || n > 255 || s[0] == '/' || s[n - 1] == '/' || strstr(s, "//") || strstr(s, "://"))
                return false;
        for (const char *p = s; *p; p++)
                if (!is_bare(*p) && !strchr(".:/[]", *p))
                        return false;
        return !host_only || !strchr(s, '/');
}

static int want_bool(struct parser *ps, unsigned line, const char *key, const struct value *v, bool *ret)
{
        if (v->type != VALUE_BOOL)
                return fail_at(ps, line, "`%s`: expected true or false", key);
        *ret = v->b;
        return 0;
}

static int want_location(struct parser *ps, unsigned line, const char *key, struct value *v, char **ret)
{
        if (v->type != VALUE_STRING)
                return fail_at(ps, line, "`%s`: expected a string", key);
        if (!location_valid(v->s, false))
                return fail_at(ps, line, "`%s`: invalid location `%s` (expected host[:port][/path])", key, v->s);
        free(*ret);
        *ret = TAKE_PTR(v->s);
        return 0;
}

static int set_search(struct parser *ps, unsigned line, const struct value *v)
{
        char **list;

        if (v->type != VALUE_ARRAY)
                return fail_at(ps, line, "`unqualified-search-registries`: expected an array of strings");
        for (size_t i = 0; i < v->n; i++) {
                if (v->items[i].type != VALUE_STRING)
                        return fail_at(ps, line, "`unqualified-search-registries`: expected an array of strings");
                if (!location_valid(v->items[i].s, true))
                        return fail_at(ps, line, "`unqualified-search-registries`: invalid registry `%s`",
                                       v->items[i].s);
        }
        list = xzalloc((v->n + 1) * sizeof(char *));
        for (size_t i = 0; i < v->n; i++)
                list[i] = xstrdup(v->items[i].s);
        strv_free(ps->c->search);
        ps->c->search = list;
        return 0;
}

static int set_registry_key(struct parser *ps, unsigned line, const char *key, struct value *v)
{
        struct regconf_registry *reg = &ps->c->registries[ps->c->n_registries - 1];

        if (strcmp(key, "location") == 0)
                return want_location(ps, line, key, v, &reg->location);
        if (strcmp(key, "prefix") == 0)
                return want_location(ps, line, key, v, &reg->prefix);
        if (strcmp(key, "insecure") == 0)
                return want_bool(ps, line, key, v, &reg->insecure);
        if (strcmp(key, "blocked") == 0)
                return want_bool(ps, line, key, v, &reg->blocked);
        if (strcmp(key, "mirror-by-digest-only") == 0)
                return want_bool(ps, line, key, v, &reg->mirror_by_digest_only);
        return fail_at(ps, line, "unknown key `%s` in [[registry]]", key);
}

static int set_mirror_key(struct parser *ps, unsigned line, const char *key, struct value *v)
{
        struct regconf_registry *reg = &ps->c->registries[ps->c->n_registries - 1];
        struct regconf_mirror *m = &reg->mirrors[reg->n_mirrors - 1];

        if (strcmp(key, "location") == 0)
                return want_location(ps, line, key, v, &m->location);
        if (strcmp(key, "insecure") == 0)
                return want_bool(ps, line, key, v, &m->insecure);
        if (strcmp(key, "pull-from-mirror") == 0) {
                if (v->type == VALUE_STRING && strcmp(v->s, "all") == 0)
                        m->pull_from = REGCONF_PULL_ALL;
                else if (v->type == VALUE_STRING && strcmp(v->s, "digest-only") == 0)
                        m->pull_from = REGCONF_PULL_DIGEST_ONLY;
                else if (v->type == VALUE_STRING && strcmp(v->s, "tag-only") == 0)
                        m->pull_from = REGCONF_PULL_TAG_ONLY;
                else
                        return fail_at(ps, line, "`pull-from-mirror`: expected \"all\", \"digest-only\" or "
                                                 "\"tag-only\"");
                return 0;
        }
        return fail_at(ps, line, "unknown key `%s` in [[registry.mirror]]", key);
}

static int set_key(struct parser *ps, unsigned line, char *key, struct value *v)
{
        for (size_t i = 0; i < ps->n_seen; i++)
                if (strcmp(ps->seen[i], key) == 0) {
                        int r = fail_at(ps, line, "duplicate key `%s`", key);
                        free(key);
                        return r;
                }
        ps->seen = xrealloc(ps->seen, (ps->n_seen + 2) * sizeof(char *));
        ps->seen[ps->n_seen++] = key;
        ps->seen[ps->n_seen] = NULL;
        switch (ps->table) {
        case TABLE_ROOT:
                return strcmp(key, "unqualified-search-registries") == 0 ? set_search(ps, line, v) : 0;
        case TABLE_REGISTRY:
                return set_registry_key(ps, line, key, v);
        case TABLE_MIRROR:
                return set_mirror_key(ps, line, key, v);
        default:
                return 0;
        }
}

static int parse_keyval(struct parser *ps)
{
        _cleanup_free_ char *key = NULL;
        struct value v = {};
        unsigned line = ps->line;
        int r;

        r = parse_key(ps, &key);
        if (r < 0)
                return r;
        skip_blank(ps);
        if (at_end(ps) || *ps->p != '=')
                return fail(ps, "expected `=`");
        ps->p++;
        skip_blank(ps);
        r = parse_value(ps, &v, 0);
        if (r >= 0)
                r = set_key(ps, line, TAKE_PTR(key), &v);
        value_clear(&v);
        if (r < 0)
                return r;
        return end_line(ps);
}

/* ---- tables ---- */

/* The table that ends here is whole: a location, no duplicate. */
static int close_table(struct parser *ps)
{
        struct regconf *c = ps->c;
        struct regconf_registry *reg = c->n_registries ? &c->registries[c->n_registries - 1] : NULL;

        if (ps->table == TABLE_MIRROR && !reg->mirrors[reg->n_mirrors - 1].location)
                return fail_at(ps, ps->table_line, "[[registry.mirror]] without `location`");
        if (ps->table != TABLE_REGISTRY)
                return 0;
        if (!reg->location)
                return fail_at(ps, ps->table_line, "[[registry]] without `location`");
        if (!reg->prefix)
                reg->prefix = xstrdup(reg->location);
        for (size_t i = 0; i + 1 < c->n_registries; i++)
                if (strcmp(c->registries[i].prefix, reg->prefix) == 0)
                        return fail_at(ps, ps->table_line, "[[registry]] `%s` defined twice", reg->prefix);
        return 0;
}

/* "[a.b]" or "[[a.b]]" (the cursor at the first '['): the dotted name. */
static int parse_header_name(struct parser *ps, bool array, char **ret)
{
        struct sbuf name = {};
        int r = 0;

        ps->p += array ? 2 : 1;
        for (;;) {
                _cleanup_free_ char *part = NULL;

                skip_blank(ps);
                r = parse_key(ps, &part);
                if (r < 0)
                        break;
                if (name.n)
                        sbuf_put(&name, ".", 1);
                sbuf_put(&name, part, strlen(part));
                skip_blank(ps);
                if (at_end(ps) || *ps->p != '.')
                        break;
                ps->p++;
        }
        if (r >= 0 && !looking_at(ps, array ? "]]" : "]"))
                r = fail(ps, "expected `%s`", array ? "]]" : "]");
        if (r < 0) {
                free(name.s);
                return r;
        }
        ps->p += array ? 2 : 1;
        *ret = name.s;
        return 0;
}

static int open_table(struct parser *ps, const char *name, bool array)
{
        struct regconf *c = ps->c;

        if ((strcmp(name, "registry") == 0 || strcmp(name, "registry.mirror") == 0) && !array)
                return fail(ps, "`[%s]` must be an array of tables: `[[%s]]`", name, name);
        if (array && strcmp(name, "registry") == 0) {
                c->registries = xrealloc(c->registries, (c->n_registries + 1) * sizeof(*c->registries));
                c->registries[c->n_registries++] = (struct regconf_registry) {};
                ps->table = TABLE_REGISTRY;
        } else if (array && strcmp(name, "registry.mirror") == 0) {
                struct regconf_registry *reg;

                if (c->n_registries == 0)
                        return fail(ps, "[[registry.mirror]] before any [[registry]]");
                reg = &c->registries[c->n_registries - 1];
                reg->mirrors = xrealloc(reg->mirrors, (reg->n_mirrors + 1) * sizeof(*reg->mirrors));
                reg->mirrors[reg->n_mirrors++] = (struct regconf_mirror) {};
                ps->table = TABLE_MIRROR;
        } else
                ps->table = TABLE_OTHER;
        ps->table_line = ps->line;
        return 0;
}

static int parse_header(struct parser *ps)
{
        _cleanup_free_ char *name = NULL;
        bool array = looking_at(ps, "[[");
        int r;

        r = parse_header_name(ps, array, &name);
        if (r < 0)
                return r;
        r = close_table(ps);
        if (r < 0)
                return r;
        for (size_t i = 0; i < ps->n_seen; i++)
                free(ps->seen[i]);
        ps->n_seen = 0;
        r = open_table(ps, name, array);
        if (r < 0)
                return r;
        return end_line(ps);
}

static void registry_clear(struct regconf_registry *reg)
{
        free(reg->prefix);
        free(reg->location);
        for (size_t i = 0; i < reg->n_mirrors; i++)
                free(reg->mirrors[i].location);
        free(reg->mirrors);
}

void regconf_clear(struct regconf *c)
{
        if (!c)
                return;
        free(c->path);
        strv_free(c->search);
        for (size_t i = 0; i < c->n_registries; i++)
                registry_clear(&c->registries[i]);
        free(c->registries);
        *c = (struct regconf) {};
}

static int parse_all(struct parser *ps)
{
        while (skip_blank(ps), !at_end(ps)) {
                char ch = *ps->p;
                int r;

                if (ch == '#' || ch == '\n' || ch == '\r')
                        r = end_line(ps);
                else if (ch == '[')
                        r = parse_header(ps);
                else
                        r = parse_keyval(ps);
                if (r < 0)
                        return r;
        }
        return close_table(ps);
}

int regconf_parse(const char *text, size_t len, const char *name, struct regconf *ret, struct error *err)
{
        struct regconf c = {};
        struct parser ps = { .p = text, .end = text + len, .name = name ? name : "registries.conf", .line = 1,
                             .c = &c, .table = TABLE_ROOT, .err = err };
        int r;

        r = parse_all(&ps);
        for (size_t i = 0; i < ps.n_seen; i++)
                free(ps.seen[i]);
        free(ps.seen);
        if (r < 0) {
                regconf_clear(&c);
                return r;
        }
        c.path = name ? xstrdup(name) : NULL;
        *ret = c;
        return 0;
}

int regconf_load(const char *path, struct regconf *ret, struct error *err)
{
        const char *env = getenv("BERTH_REGISTRIES_CONF");
        bool must_exist = path || (env && *env);
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        int r;

        if (!path)
                path = env && *env ? env : REGCONF_DEFAULT_PATH;
        r = read_full_file_at(AT_FDCWD, path, REGCONF_MAX, &text, &len);
        if (r == -ENOENT && !must_exist) {
                *ret = (struct regconf) {};
                return 0;
        }
        if (r < 0)
                return error_set(err, -r, "read registries configuration `%s`", path);
        return regconf_parse(text, len, path, ret, err);
}

/* ---- lookups ---- */

/* Does PREFIX cover the repository REPO ("domain/path"): equal, or a
 * parent of it component-wise? */
static bool covers(const char *prefix, const char *repo)
{
        size_t n = strlen(prefix);

        return strncmp(prefix, repo, n) == 0 && (repo[n] == '\0' || repo[n] == '/');
}

const struct regconf_registry *regconf_find(const struct regconf *c, const char *domain, const char *path)
{
        _cleanup_free_ char *repo = xasprintf("%s/%s", domain, path);
        const struct regconf_registry *best = NULL;

        for (size_t i = 0; c && i < c->n_registries; i++)
                if (covers(c->registries[i].prefix, repo) &&
                    (!best || strlen(c->registries[i].prefix) > strlen(best->prefix)))
                        best = &c->registries[i];
        return best;
}

/* LOCATION in place of PREFIX in REPO, split into domain and path. */
static int source_at(const char *location, const char *prefix, const char *repo, bool insecure, bool mirror,
                     struct regconf_source *ret, struct error *err)
{
        _cleanup_free_ char *full = xasprintf("%s%s", location, repo + strlen(prefix));
        char *slash = strchr(full, '/');

        if (!slash || !slash[1])
                return error_setx(err, EINVAL, "`%s` for `%s` leaves no repository path", location, repo);
        *ret = (struct regconf_source) { .domain = xstrndup(full, (size_t) (slash - full)),
                                         .path = xstrdup(slash + 1), .insecure = insecure, .mirror = mirror };
        return 0;
}

static bool mirror_serves(const struct regconf_registry *reg, const struct regconf_mirror *m, bool by_digest)
{
        if (reg->mirror_by_digest_only && !by_digest)
                return false;
        if (m->pull_from == REGCONF_PULL_DIGEST_ONLY)
                return by_digest;
        if (m->pull_from == REGCONF_PULL_TAG_ONLY)
                return !by_digest;
        return true;
}

void regconf_sources_free(struct regconf_source *v, size_t n)
{
        for (size_t i = 0; v && i < n; i++) {
                free(v[i].domain);
                free(v[i].path);
        }
        free(v);
}

int regconf_sources(const struct regconf *c, const char *domain, const char *path, bool by_digest,
                    struct regconf_source **ret, size_t *ret_n, struct error *err)
{
        const struct regconf_registry *reg = regconf_find(c, domain, path);
        _cleanup_free_ char *repo = xasprintf("%s/%s", domain, path);
        struct regconf_source *v;
        size_t n = 0;
        int r = 0;

        if (reg && reg->blocked)
                return error_setx(err, EPERM, "registry `%s` is blocked in %s", reg->prefix,
                                  c->path ? c->path : "the registries configuration");
        v = xzalloc(((reg ? reg->n_mirrors : 0) + 1) * sizeof(*v));
        for (size_t i = 0; reg && r >= 0 && i < reg->n_mirrors; i++) {
                const struct regconf_mirror *m = &reg->mirrors[i];
                if (!mirror_serves(reg, m, by_digest))
                        continue;
                r = source_at(m->location, reg->prefix, repo, m->insecure, true, &v[n], err);
                n += r >= 0;
        }
        if (r >= 0 && reg)
                r = source_at(reg->location, reg->prefix, repo, reg->insecure, false, &v[n], err);
        else if (r >= 0)
                v[n] = (struct regconf_source) { .domain = xstrdup(domain), .path = xstrdup(path) };
        if (r < 0) {
                regconf_sources_free(v, n);
                return r;
        }
        *ret = v;
        *ret_n = n + 1;
        return 0;
}

static void add_host(char ***list, size_t *n, const char *location)
{
        _cleanup_free_ char *host = xstrndup(location, strcspn(location, "/"));

        for (size_t i = 0; i < *n; i++)
                if (strcmp((*list)[i], host) == 0)
                        return;
        *list = xrealloc(*list, (*n + 2) * sizeof(char *));
        (*list)[(*n)++] = TAKE_PTR(host);
        (*list)[*n] = NULL;
}

char **regconf_insecure_domains(const struct regconf *c)
{
        char **list = xzalloc(sizeof(char *));
        size_t n = 0;

        for (size_t i = 0; c && i < c->n_registries; i++) {
                const struct regconf_registry *reg = &c->registries[i];
                if (reg->insecure)
                        add_host(&list, &n, reg->location);
                for (size_t j = 0; j < reg->n_mirrors; j++)
                        if (reg->mirrors[j].insecure)
                                add_host(&list, &n, reg->mirrors[j].location);
        }
        return list;
}
