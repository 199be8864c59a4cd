/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdarg.h>
#include <string.h>

#include "image/digest.h"
#include "image/manifest.h"

/* Where a parser is in a document: DOC names it in errors ("manifest"),
 * AT is the path of the current object ("" at the top, "layers[2]"). */
struct jpath {
        const char *doc;
        const char *at;
};

static void json_putp(json_object **o)
{
        if (*o)
                json_object_put(*o);
}
#define _cleanup_json_ _cleanup_(json_putp)

static void descriptor_arrayp_free(struct descriptor *d, size_t n)
{
        for (size_t i = 0; i < n; i++)
                descriptor_clear(&d[i]);
        free(d);
}

/* "AT.KEY", or KEY at the top. */
static char *jpath_field(const struct jpath *p, const char *key)
{
        return xasprintf("%s%s%s", p->at, *p->at ? "." : "", key);
}

_printf_(4, 5) static int jerror(struct error *err, const struct jpath *p, const char *key, const char *fmt, ...)
{
        _cleanup_free_ char *field = jpath_field(p, key), *why = NULL;
        va_list ap;

        va_start(ap, fmt);
        why = xvasprintf(fmt, ap);
        va_end(ap);
        return error_setx(err, EINVAL, "%s: %s: %s", p->doc, field, why);
}

static const char *json_type_article(json_type t)
{
        switch (t) {
        case json_type_boolean:
                return "a boolean";
        case json_type_int:
                return "an integer";
        case json_type_double:
                return "a number";
        case json_type_string:
                return "a string";
        case json_type_array:
                return "an array";
        case json_type_object:
                return "an object";
        default:
                return "null";
        }
}

/* O's member KEY, of TYPE.  A null member counts as missing (Docker
 * writes "Entrypoint": null).  *RET is NULL when it is missing and not
 * REQUIRED. */
static int jget(const struct jpath *p, json_object *o, const char *key, json_type type, bool required,
                json_object **ret, struct error *err)
{
        json_object *v = NULL;

        if (!json_object_object_get_ex(o, key, &v) || !v) {
                if (required)
                        return jerror(err, p, key, "missing");
                *ret = NULL;
                return 0;
        }
        if (!json_object_is_type(v, type))
                return jerror(err, p, key, "not %s", json_type_article(type));
        *ret = v;
        return 0;
}

static int jget_string(const struct jpath *p, json_object *o, const char *key, bool required, const char **ret,
                       struct error *err)
{
        json_object *v = NULL;
        int r = jget(p, o, key, json_type_string, required, &v, err);

        if (r < 0)
                return r;
        *ret = v ? json_object_get_string(v) : NULL;
        return 0;
}

/* A copy of an optional string member. */
static int jdup_string(const struct jpath *p, json_object *o, const char *key, bool required, char **ret,
                       struct error *err)
{
        const char *s;
        int r = jget_string(p, o, key, required, &s, err);

        if (r < 0)
                return r;
        *ret = s ? xstrdup(s) : NULL;
        return 0;
}

/* An array of strings as a NULL-terminated vector; *RET is NULL when the
 * member is missing and not REQUIRED. */
static int jget_strv(const struct jpath *p, json_object *o, const char *key, bool required, char ***ret,
                     struct error *err)
{
        _cleanup_strv_free_ char **v = NULL;
        json_object *a = NULL;
        size_t n;
        int r = jget(p, o, key, json_type_array, required, &a, err);

        if (r < 0)
                return r;
        if (!a) {
                *ret = NULL;
                return 0;
        }
        n = json_object_array_length(a);
        v = xzalloc((n + 1) * sizeof(char *));
        for (size_t i = 0; i < n; i++) {
                json_object *e = json_object_array_get_idx(a, i);

                if (!json_object_is_type(e, json_type_string)) {
                        _cleanup_free_ char *k = xasprintf("%s[%zu]", key, i);
                        return jerror(err, p, k, "not a string");
                }
                v[i] = xstrdup(json_object_get_string(e));
        }
        *ret = TAKE_PTR(v);
        return 0;
}

/* An object's keys ("ExposedPorts": {"80/tcp": {}}); with VALUES, an
 * object of strings as key, value, …  Never NULL when it succeeds. */
static int jget_object_list(const struct jpath *p, json_object *o, const char *key, bool values, char ***ret,
                            struct error *err)
{
        _cleanup_strv_free_ char **v = NULL;
        json_object *obj = NULL;
        size_t i = 0;
        int r = jget(p, o, key, json_type_object, false, &obj, err);

        if (r < 0)
                return r;
        v = xzalloc(((obj ? (size_t) json_object_object_length(obj) : 0) * 2 + 1) * sizeof(char *));
        if (obj) {
                json_object_object_foreach(obj, k, val) {
                        if (values && !json_object_is_type(val, json_type_string)) {
                                _cleanup_free_ char *f = xasprintf("%s.%s", key, k);
                                return jerror(err, p, f, "not a string");
                        }
                        v[i++] = xstrdup(k);
                        if (values)
                                v[i++] = xstrdup(json_object_get_string(val));
                }
        }
        *ret = TAKE_PTR(v);
        return 0;
}

/* Optional annotations: NULL when absent. */
static int jget_annotations(const struct jpath *p, json_object *o, char ***ret, struct error *err)
{
        json_object *a = NULL;

        if (!json_object_object_get_ex(o, "annotations", &a) || !a) {
                *ret = NULL;
                return 0;
        }
        return jget_object_list(p, o, "annotations", true, ret, err);
}

static int jget_digest(const struct jpath *p, json_object *o, const char *key, char **ret, struct error *err)
{
        const char *s;
        int r = jget_string(p, o, key, true, &s, err);

        if (r < 0)
                return r;
        if (!digest_valid(s))
                return jerror(err, p, key, "`%s` is not a digest", s);
        *ret = xstrdup(s);
        return 0;
}

/* The whole of JSON[0..LEN) as one object. */
static int json_parse_object(const char *doc, const char *json, size_t len, json_object **ret, struct error *err)
{
        _cleanup_json_ json_object *o = NULL;
        enum json_tokener_error jerr;
        json_tokener *tok;
        size_t end;

        if (!json || len > INT_MAX)
                return error_setx(err, EFBIG, "%s: document too large", doc);
        tok = json_tokener_new();
        if (!tok)
                oom();
        o = json_tokener_parse_ex(tok, json, (int) len);
        jerr = json_tokener_get_error(tok);
        end = json_tokener_get_parse_end(tok);
        json_tokener_free(tok);
        if (jerr == json_tokener_continue || (!o && jerr == json_tokener_success))
                return error_setx(err, EINVAL, "%s: truncated JSON", doc);
        if (jerr != json_tokener_success)
                return error_setx(err, EINVAL, "%s: invalid JSON: %s", doc, json_tokener_error_desc(jerr));
        for (; end < len; end++)
                if (!strchr(" \t\r\n", json[end]) || json[end] == '\0')
                        return error_setx(err, EINVAL, "%s: trailing data after the JSON document", doc);
        if (!json_object_is_type(o, json_type_object))
                return error_setx(err, EINVAL, "%s: not a JSON object", doc);
        *ret = TAKE_PTR(o);
        return 0;
}

static int check_schema_version(const struct jpath *p, json_object *o, struct error *err)
{
        json_object *v = NULL;
        int r = jget(p, o, "schemaVersion", json_type_int, true, &v, err);

        if (r < 0)
                return r;
        if (json_object_get_int64(v) != 2)
                return jerror(err, p, "schemaVersion", "%s is not supported (only 2)", json_object_get_string(v));
        return 0;
}

enum layer_compression layer_compression_from_media_type(const char *mt)
{
        static const struct {
                const char *type;
                enum layer_compression c;
        } table[] = {
                { MT_OCI_LAYER, LAYER_PLAIN },
                { MT_OCI_LAYER_GZIP, LAYER_GZIP },
                { MT_OCI_LAYER_ZSTD, LAYER_ZSTD },
                { MT_DOCKER_LAYER, LAYER_GZIP },
                /* "docker save" of uncompressed layers */
                { "application/vnd.docker.image.rootfs.diff.tar", LAYER_PLAIN },
        };

        if (!mt)
                return _LAYER_COMPRESSION_INVALID;
        for (size_t i = 0; i < ELEMENTSOF(table); i++)
                if (strcmp(mt, table[i].type) == 0)
                        return table[i].c;
        return _LAYER_COMPRESSION_INVALID;
}

void descriptor_clear(struct descriptor *d)
{
        if (!d)
                return;
        free(d->media_type);
        free(d->digest);
        free(d->platform_os);
        free(d->platform_arch);
        free(d->platform_variant);
        strv_free(d->urls);
        strv_free(d->annotations);
        *d = (struct descriptor) {};
}

static int platform_parse(const struct jpath *p, json_object *o, struct descriptor *d, struct error *err)
{
        _cleanup_free_ char *at = jpath_field(p, "platform");
        struct jpath pp = { p->doc, at };
        json_object *plat = NULL;
        int r;

        r = jget(p, o, "platform", json_type_object, false, &plat, err);
        if (r < 0 || !plat)
                return r;
        r = jdup_string(&pp, plat, "os", true, &d->platform_os, err);
        if (r >= 0)
                r = jdup_string(&pp, plat, "architecture", true, &d->platform_arch, err);
        if (r >= 0)
                r = jdup_string(&pp, plat, "variant", false, &d->platform_variant, err);
        return r;
}

/* The descriptor object O at P (e.g. "layers[2]"); PLATFORM for index
 * entries. */
static int descriptor_parse(const struct jpath *p, json_object *o, bool platform, struct descriptor *ret,
                            struct error *err)
{
        _cleanup_(descriptor_clear) struct descriptor d = {};
        json_object *size = NULL;
        int r;

        if (!json_object_is_type(o, json_type_object))
                return error_setx(err, EINVAL, "%s: %s: not an object", p->doc, p->at);
        r = jdup_string(p, o, "mediaType", true, &d.media_type, err);
        if (r < 0)
                return r;
        r = jget_digest(p, o, "digest", &d.digest, err);
        if (r < 0)
                return r;
        r = jget(p, o, "size", json_type_int, true, &size, err);
        if (r < 0)
                return r;
        d.size = json_object_get_int64(size);
        if (d.size < 0)
                return jerror(err, p, "size", "negative");
        r = jget_strv(p, o, "urls", false, &d.urls, err);
        if (r < 0)
                return r;
        r = jget_annotations(p, o, &d.annotations, err);
        if (r < 0)
                return r;
        if (platform) {
                r = platform_parse(p, o, &d, err);
                if (r < 0)
                        return r;
        }
        *ret = d;
        d = (struct descriptor) {};
        return 0;
}

/* The array KEY of descriptors. */
static int descriptors_parse(const struct jpath *p, json_object *o, const char *key, bool platform,
                             struct descriptor **ret, size_t *ret_n, struct error *err)
{
        struct descriptor *v;
        json_object *a = NULL;
        size_t n;
        int r = jget(p, o, key, json_type_array, true, &a, err);

        if (r < 0)
                return r;
        n = json_object_array_length(a);
        v = xzalloc(n * sizeof(*v));
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *at = xasprintf("%s[%zu]", key, i);
                struct jpath ep = { p->doc, at };

                r = descriptor_parse(&ep, json_object_array_get_idx(a, i), platform, &v[i], err);
                if (r < 0) {
                        descriptor_arrayp_free(v, i);
                        return r;
                }
        }
        *ret = v;
        *ret_n = n;
        return 0;
}

/* The document's own "mediaType", one of ALLOWED[0..N) (the first is the
 * default when it is absent). */
static int media_type_check(const struct jpath *p, json_object *o, const char *const *allowed, size_t n,
                            char **ret, struct error *err)
{
        const char *mt;
        int r = jget_string(p, o, "mediaType", false, &mt, err);

        if (r < 0)
                return r;
        if (!mt)
                mt = allowed[0];
        for (size_t i = 0; i < n; i++)
                if (strcmp(mt, allowed[i]) == 0) {
                        *ret = xstrdup(mt);
                        return 0;
                }
        return jerror(err, p, "mediaType", "`%s` is not %s %s", mt, p->doc[0] == 'i' ? "an" : "a", p->doc);
}

void manifest_clear(struct manifest *m)
{
        if (!m)
                return;
        free(m->media_type);
        descriptor_clear(&m->config);
        descriptor_arrayp_free(m->layers, m->n_layers);
        strv_free(m->annotations);
        *m = (struct manifest) {};
}

int manifest_parse(const char *json, size_t len, struct manifest *ret, struct error *err)
{
        static const char *const types[] = { MT_OCI_MANIFEST, MT_DOCKER_MANIFEST };
        _cleanup_(manifest_clear) struct manifest m = {};
        _cleanup_json_ json_object *o = NULL;
        const struct jpath p = { "manifest", "" };
        const struct jpath cp = { "manifest", "config" };
        json_object *config = NULL;
        int r;

        r = json_parse_object(p.doc, json, len, &o, err);
        if (r >= 0)
                r = check_schema_version(&p, o, err);
        if (r >= 0)
                r = media_type_check(&p, o, types, ELEMENTSOF(types), &m.media_type, err);
        if (r >= 0)
                r = jget(&p, o, "config", json_type_object, true, &config, err);
        if (r >= 0)
                r = descriptor_parse(&cp, config, false, &m.config, err);
        if (r >= 0)
                r = descriptors_parse(&p, o, "layers", false, &m.layers, &m.n_layers, err);
        if (r >= 0)
                r = jget_annotations(&p, o, &m.annotations, err);
        if (r < 0)
                return r;
        *ret = m;
        m = (struct manifest) {};
        return 0;
}

void image_index_clear(struct image_index *idx)
{
        if (!idx)
                return;
        free(idx->media_type);
        descriptor_arrayp_free(idx->manifests, idx->n_manifests);
        *idx = (struct image_index) {};
}

int image_index_parse(const char *json, size_t len, struct image_index *ret, struct error *err)
{
        static const char *const types[] = { MT_OCI_INDEX, MT_DOCKER_LIST };
        _cleanup_(image_index_clear) struct image_index idx = {};
        _cleanup_json_ json_object *o = NULL;
        const struct jpath p = { "image index", "" };
        int r;

        r = json_parse_object(p.doc, json, len, &o, err);
        if (r >= 0)
                r = check_schema_version(&p, o, err);
        if (r >= 0)
                r = media_type_check(&p, o, types, ELEMENTSOF(types), &idx.media_type, err);
        if (r >= 0)
                r = descriptors_parse(&p, o, "manifests", true, &idx.manifests, &idx.n_manifests, err);
        if (r < 0)
                return r;
        *ret = idx;
        idx = (struct image_index) {};
        return 0;
}

/* MT (up to any ";" parameters) as one of the known document types. */
static const char *known_type(const char *mt, size_t n)
{
        static const char *const known[] = { MT_OCI_MANIFEST, MT_OCI_INDEX, MT_DOCKER_MANIFEST, MT_DOCKER_LIST };

        while (n > 0 && (mt[n - 1] == ' ' || mt[n - 1] == '\t'))
                n--;
        for (size_t i = 0; i < ELEMENTSOF(known); i++)
                if (strlen(known[i]) == n && strncmp(mt, known[i], n) == 0)
                        return known[i];
        return NULL;
}

const char *manifest_sniff(const char *json, size_t len, const char *hint)
{
        _cleanup_json_ json_object *o = NULL;
        json_object *v = NULL, *sv = NULL;
        const char *t;

        if (hint && (t = known_type(hint, strcspn(hint, ";"))))
                return t;
        if (json_parse_object("manifest", json, len, &o, NULL) < 0)
                return NULL;
        /* Schema 1 and unknown versions are neither. */
        if (!json_object_object_get_ex(o, "schemaVersion", &sv) || !json_object_is_type(sv, json_type_int) ||
            json_object_get_int64(sv) != 2)
                return NULL;
        if (json_object_object_get_ex(o, "mediaType", &v)) {
                if (!json_object_is_type(v, json_type_string))
                        return NULL;
                t = json_object_get_string(v);
                return known_type(t, strlen(t));
        }
        if (json_object_object_get_ex(o, "manifests", &v) && json_object_is_type(v, json_type_array))
                return MT_OCI_INDEX;
        if (json_object_object_get_ex(o, "config", &v) && json_object_is_type(v, json_type_object) &&
            json_object_object_get_ex(o, "layers", &v) && json_object_is_type(v, json_type_array))
                return MT_OCI_MANIFEST;
        return NULL;
}

/* The variant an architecture means when it names none (what Docker and
 * containerd assume). */
static const char *default_variant(const char *arch)
{
        if (strcmp(arch, "arm64") == 0)
                return "v8";
        if (strcmp(arch, "arm") == 0)
                return "v7";
        if (strcmp(arch, "amd64") == 0)
                return "v1";
        return NULL;
}

static bool streq_null(const char *a, const char *b)
{
        return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* "v7" → 7; -1 for anything else ("v8.2"). */
static int variant_level(const char *v)
{
        if (!v || v[0] != 'v' || v[1] < '0' || v[1] > '9' || v[2] != '\0')
                return -1;
        return v[1] - '0';
}

/* How well an entry's variant HAVE suits WANT on ARCH: < 0 not at all,
 * higher is better. */
static int variant_score(const char *arch, const char *want, const char *have)
{
        const char *def = default_variant(arch);
        int wl, hl;

        if (!want)
                return !have || streq_null(have, def) ? 100 : 1;
        if (!have)
                have = def;
        if (streq_null(want, have))
                return 100;
        /* Where variants are levels (arm, arm64, amd64), a machine runs the
         * older ones too: arm v7 runs v6, amd64 v3 runs v2 and plain amd64. */
        wl = variant_level(want);
        hl = variant_level(have);
        if (def && wl >= 0 && hl >= 0 && hl < wl)
                return 50 - (wl - hl);
        return -1;
}

const struct descriptor *image_index_select(const struct image_index *idx, const char *os, const char *arch,
                                            const char *variant)
{
        const struct descriptor *best = NULL;
        int best_score = -1;

        if (!idx || !os || !arch)
                return NULL;
        if (idx->n_manifests == 1 && !idx->manifests[0].platform_os)
                return &idx->manifests[0];
        for (size_t i = 0; i < idx->n_manifests; i++) {
                const struct descriptor *d = &idx->manifests[i];
                int score;

                if (!d->platform_os || !d->platform_arch || strcmp(d->platform_os, os) != 0 ||
                    strcmp(d->platform_arch, arch) != 0)
                        continue;
                score = variant_score(arch, variant, d->platform_variant);
                if (score > best_score) {
                        best = d;
                        best_score = score;
                }
        }
        return best;
}

static json_object *json_new_strv(char *const *v)
{
        json_object *a = json_object_new_array();

        for (; v && *v; v++)
                json_object_array_add(a, json_object_new_string(*v));
        return a;
}

static json_object *json_new_map(char *const *kv)
{
        json_object *o = json_object_new_object();

        for (; kv && kv[0] && kv[1]; kv += 2)
                json_object_object_add(o, kv[0], json_object_new_string(kv[1]));
        return o;
}

/* Optional string fields are left out when NULL. */
static json_object *descriptor_to_json(const struct descriptor *d)
{
        json_object *o = json_object_new_object();

        json_object_object_add(o, "mediaType", json_object_new_string(d->media_type ? d->media_type : ""));
        json_object_object_add(o, "digest", json_object_new_string(d->digest ? d->digest : ""));
        json_object_object_add(o, "size", json_object_new_int64(d->size));
        if (d->urls)
                json_object_object_add(o, "urls", json_new_strv(d->urls));
        if (d->annotations)
                json_object_object_add(o, "annotations", json_new_map(d->annotations));
        return o;
}

char *manifest_to_json(const struct manifest *m)
{
        _cleanup_json_ json_object *o = json_object_new_object();
        json_object *layers = json_object_new_array();

        if (!o || !layers)
                oom();
        json_object_object_add(o, "schemaVersion", json_object_new_int(2));
        json_object_object_add(o, "mediaType", json_object_new_string(m->media_type ? m->media_type : MT_OCI_MANIFEST));
        json_object_object_add(o, "config", descriptor_to_json(&m->config));
        for (size_t i = 0; i < m->n_layers; i++)
                json_object_array_add(layers, descriptor_to_json(&m->layers[i]));
        json_object_object_add(o, "layers", layers);
        if (m->annotations)
                json_object_object_add(o, "annotations", json_new_map(m->annotations));
        return xstrdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
}

void image_config_clear(struct image_config *c)
{
        if (!c)
                return;
        free(c->architecture);
        free(c->os);
        free(c->variant);
        free(c->created);
        free(c->author);
        strv_free(c->env);
        strv_free(c->entrypoint);
        strv_free(c->cmd);
        free(c->working_dir);
        free(c->user);
        free(c->stop_signal);
        strv_free(c->exposed_ports);
        strv_free(c->volumes);
        strv_free(c->labels);
        strv_free(c->diff_ids);
        for (size_t i = 0; i < c->n_history; i++) {
                free(c->history[i].created);
                free(c->history[i].created_by);
                free(c->history[i].author);
                free(c->history[i].comment);
        }
        free(c->history);
        *c = (struct image_config) {};
}

/* The "config" object: how to run the image.  Optional as a whole. */
static int run_config_parse(const struct jpath *top, json_object *o, struct image_config *c, struct error *err)
{
        const struct jpath p = { top->doc, "config" };
        json_object *rc = NULL;
        int r;

        r = jget(top, o, "config", json_type_object, false, &rc, err);
        if (r < 0)
                return r;
        if (!rc)
                rc = json_object_new_object(); /* as if empty: fills the vectors */
        else
                json_object_get(rc);
        r = jget_strv(&p, rc, "Env", false, &c->env, err);
        if (r >= 0)
                r = jget_strv(&p, rc, "Entrypoint", false, &c->entrypoint, err);
        if (r >= 0)
                r = jget_strv(&p, rc, "Cmd", false, &c->cmd, err);
        if (r >= 0)
                r = jdup_string(&p, rc, "WorkingDir", false, &c->working_dir, err);
        if (r >= 0)
                r = jdup_string(&p, rc, "User", false, &c->user, err);
        if (r >= 0)
                r = jdup_string(&p, rc, "StopSignal", false, &c->stop_signal, err);
        if (r >= 0)
                r = jget_object_list(&p, rc, "ExposedPorts", false, &c->exposed_ports, err);
        if (r >= 0)
                r = jget_object_list(&p, rc, "Volumes", false, &c->volumes, err);
        if (r >= 0)
                r = jget_object_list(&p, rc, "Labels", true, &c->labels, err);
        json_object_put(rc);
        if (r >= 0 && !c->env)
                c->env = xzalloc(sizeof(char *));
        return r;
}

static int rootfs_parse(const struct jpath *top, json_object *o, struct image_config *c, struct error *err)
{
        const struct jpath p = { top->doc, "rootfs" };
        json_object *rootfs = NULL;
        const char *type;
        int r;

        r = jget(top, o, "rootfs", json_type_object, true, &rootfs, err);
        if (r < 0)
                return r;
        r = jget_string(&p, rootfs, "type", true, &type, err);
        if (r < 0)
                return r;
        if (strcmp(type, "layers") != 0)
                return jerror(err, &p, "type", "`%s` is not \"layers\"", type);
        r = jget_strv(&p, rootfs, "diff_ids", true, &c->diff_ids, err);
        if (r < 0)
                return r;
        for (c->n_diff_ids = 0; c->diff_ids[c->n_diff_ids]; c->n_diff_ids++)
                if (!digest_valid(c->diff_ids[c->n_diff_ids])) {
                        _cleanup_free_ char *k = xasprintf("diff_ids[%zu]", c->n_diff_ids);
                        return jerror(err, &p, k, "`%s` is not a digest", c->diff_ids[c->n_diff_ids]);
                }
        return 0;
}

static int history_entry_parse(const struct jpath *p, json_object *o, struct image_history *h, struct error *err)
{
        json_object *empty = NULL;
        int r;

        if (!json_object_is_type(o, json_type_object))
                return error_setx(err, EINVAL, "%s: %s: not an object", p->doc, p->at);
        r = jdup_string(p, o, "created", false, &h->created, err);
        if (r >= 0)
                r = jdup_string(p, o, "created_by", false, &h->created_by, err);
        if (r >= 0)
                r = jdup_string(p, o, "author", false, &h->author, err);
        if (r >= 0)
                r = jdup_string(p, o, "comment", false, &h->comment, err);
        if (r >= 0)
                r = jget(p, o, "empty_layer", json_type_boolean, false, &empty, err);
        if (r < 0)
                return r;
        h->empty_layer = empty && json_object_get_boolean(empty);
        return 0;
}

static int history_parse(const struct jpath *top, json_object *o, struct image_config *c, struct error *err)
{
        json_object *a = NULL;
        size_t n;
        int r;

        r = jget(top, o, "history", json_type_array, false, &a, err);
        if (r < 0 || !a)
                return r;
        n = json_object_array_length(a);
        c->history = xzalloc(n * sizeof(*c->history));
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *at = xasprintf("history[%zu]", i);
                struct jpath p = { top->doc, at };

                c->n_history = i + 1; /* so that image_config_clear() frees this entry */
                r = history_entry_parse(&p, json_object_array_get_idx(a, i), &c->history[i], err);
                if (r < 0)
                        return r;
        }
        return 0;
}

int image_config_parse(const char *json, size_t len, struct image_config *ret, struct error *err)
{
        _cleanup_(image_config_clear) struct image_config c = {};
        _cleanup_json_ json_object *o = NULL;
        const struct jpath p = { "image config", "" };
        int r;

        r = json_parse_object(p.doc, json, len, &o, err);
        if (r >= 0)
                r = jdup_string(&p, o, "architecture", true, &c.architecture, err);
        if (r >= 0)
                r = jdup_string(&p, o, "os", true, &c.os, err);
        if (r >= 0)
                r = jdup_string(&p, o, "variant", false, &c.variant, err);
        if (r >= 0)
                r = jdup_string(&p, o, "created", false, &c.created, err);
        if (r >= 0)
                r = jdup_string(&p, o, "author", false, &c.author, err);
        if (r >= 0)
                r = run_config_parse(&p, o, &c, err);
        if (r >= 0)
                r = rootfs_parse(&p, o, &c, err);
        if (r >= 0)
                r = history_parse(&p, o, &c, err);
        if (r < 0)
                return r;
        *ret = c;
        c = (struct image_config) {};
        return 0;
}
