/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <string.h>

#include "image/digest.h"
#include "image/manifest.h"
#include "tap.h"

/* Documents are written with ' for " to stay readable; jq() swaps them. */
#define H8(x) x x x x x x x x
#define DG(x) "sha256:" H8(H8(x))
#define DA DG("a")
#define DB DG("b")
#define DC DG("c")
#define DD DG("d")
#define DE DG("e")
#define DF DG("f")
#define D1 DG("1")
#define D2 DG("2")
#define D3 DG("3")
#define D4 DG("4")

static char *jq(const char *s)
{
        char *r = xstrdup(s);

        for (char *p = r; *p; p++)
                if (*p == '\'')
                        *p = '"';
        return r;
}

static bool streq_null(const char *a, const char *b)
{
        return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static size_t strv_len(char **v)
{
        size_t n = 0;

        while (v && v[n])
                n++;
        return n;
}

static const char oci_manifest[] =
        "{'schemaVersion':2,'mediaType':'application/vnd.oci.image.manifest.v1+json',"
        " 'config':{'mediaType':'application/vnd.oci.image.config.v1+json','digest':'" DA "','size':581},"
        " 'layers':[{'mediaType':'application/vnd.oci.image.layer.v1.tar+gzip','digest':'" DB "','size':2152262},"
        "           {'mediaType':'application/vnd.oci.image.layer.v1.tar+zstd','digest':'" DC "','size':32,"
        "            'annotations':{'org.opencontainers.image.title':'layer two'}},"
        "           {'mediaType':'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip','digest':'" DD "',"
        "            'size':0,'urls':['https://example.com/a','https://example.com/b']}],"
        " 'annotations':{'org.opencontainers.image.created':'2024-01-02T03:04:05Z','z.last':'1','a.first':'2'}}";

static const char docker_manifest[] =
        "{\n  'schemaVersion': 2,\n  'mediaType': 'application/vnd.docker.distribution.manifest.v2+json',\n"
        "  'config': {\n    'mediaType': 'application/vnd.docker.container.image.v1+json',\n    'size': 1472,\n"
        "    'digest': '" DA "'\n  },\n  'layers': [\n"
        "    {\n      'mediaType': 'application/vnd.docker.image.rootfs.diff.tar.gzip',\n      'size': 3401967,\n"
        "      'digest': '" DB "'\n    },\n"
        "    {\n      'mediaType': 'application/vnd.docker.image.rootfs.diff.tar.gzip',\n      'size': 120,\n"
        "      'digest': '" DC "'\n    }\n  ]\n}\n";

static void parse_oci_manifest(void)
{
        _cleanup_error_ struct error err = ERROR_INIT;
        _cleanup_free_ char *j = jq(oci_manifest);
        struct manifest m = {};

        if (!ok(manifest_parse(j, strlen(j), &m, &err) == 0, "parse an OCI manifest")) {
                printf("# %s\n", err.msg);
                return;
        }
        ok(strcmp(m.media_type, MT_OCI_MANIFEST) == 0, "its media type");
        ok(strcmp(m.config.media_type, MT_OCI_CONFIG) == 0 && strcmp(m.config.digest, DA) == 0 &&
                   m.config.size == 581 && !m.config.platform_os && !m.config.urls && !m.config.annotations,
           "its config descriptor");
        ok(m.n_layers == 3 && strcmp(m.layers[0].digest, DB) == 0 && m.layers[0].size == 2152262 &&
                   strcmp(m.layers[2].digest, DD) == 0 && m.layers[2].size == 0,
           "its three layers");
        ok(m.layers[1].annotations && strcmp(m.layers[1].annotations[0], "org.opencontainers.image.title") == 0 &&
                   strcmp(m.layers[1].annotations[1], "layer two") == 0 && !m.layers[1].annotations[2],
           "a layer's annotations");
        ok(strv_len(m.layers[2].urls) == 2 && strcmp(m.layers[2].urls[1], "https://example.com/b") == 0,
           "a foreign layer's urls");
        ok(strv_len(m.annotations) == 6 && strcmp(m.annotations[2], "z.last") == 0 &&
                   strcmp(m.annotations[5], "2") == 0,
           "the manifest's annotations, in document order");
        ok(layer_compression_from_media_type(m.layers[0].media_type) == LAYER_GZIP &&
                   layer_compression_from_media_type(m.layers[1].media_type) == LAYER_ZSTD &&
                   layer_compression_from_media_type(m.layers[2].media_type) == _LAYER_COMPRESSION_INVALID,
           "layer compressions: gzip, zstd, non-distributable refused");
        manifest_clear(&m);
        ok(!m.layers && m.n_layers == 0 && !m.media_type, "manifest_clear() empties it");
        manifest_clear(&m);
}

static void parse_docker_manifest(void)
{
        _cleanup_error_ struct error err = ERROR_INIT;
        _cleanup_free_ char *j = jq(docker_manifest);
        struct manifest m = {};

        if (!ok(manifest_parse(j, strlen(j), &m, &err) == 0, "parse a Docker schema 2 manifest")) {
                printf("# %s\n", err.msg);
                return;
        }
        ok(strcmp(m.media_type, MT_DOCKER_MANIFEST) == 0 && strcmp(m.config.media_type, MT_DOCKER_CONFIG) == 0 &&
                   m.config.size == 1472,
           "its media type and config");
        ok(m.n_layers == 2 && strcmp(m.layers[1].digest, DC) == 0 && m.layers[1].size == 120 &&
                   layer_compression_from_media_type(m.layers[1].media_type) == LAYER_GZIP && !m.annotations,
           "its layers (gzip), no annotations");
        manifest_clear(&m);
}

static void parse_minimal_oci(void)
{
        _cleanup_free_ char *j = jq("{'schemaVersion':2,'config':{'mediaType':'" MT_OCI_CONFIG "','digest':'" DA
                                    "','size':2},'layers':[]}");
        struct manifest m = {};

        ok(manifest_parse(j, strlen(j), &m, NULL) == 0 && strcmp(m.media_type, MT_OCI_MANIFEST) == 0 &&
                   m.n_layers == 0,
           "an OCI manifest without mediaType and without layers is an OCI manifest");
        manifest_clear(&m);
}

static void layer_types(void)
{
        ok(layer_compression_from_media_type(MT_OCI_LAYER) == LAYER_PLAIN, "OCI tar is plain");
        ok(layer_compression_from_media_type(MT_OCI_LAYER_GZIP) == LAYER_GZIP, "OCI tar+gzip is gzip");
        ok(layer_compression_from_media_type(MT_OCI_LAYER_ZSTD) == LAYER_ZSTD, "OCI tar+zstd is zstd");
        ok(layer_compression_from_media_type(MT_DOCKER_LAYER) == LAYER_GZIP, "Docker diff.tar.gzip is gzip");
        ok(layer_compression_from_media_type("application/vnd.docker.image.rootfs.foreign.diff.tar.gzip") ==
                   _LAYER_COMPRESSION_INVALID,
           "a Docker foreign layer is refused");
        ok(layer_compression_from_media_type("application/json") == _LAYER_COMPRESSION_INVALID,
           "an unknown type is refused");
        ok(layer_compression_from_media_type(NULL) == _LAYER_COMPRESSION_INVALID, "NULL is refused");
}

#define CFG "'config':{'mediaType':'" MT_OCI_CONFIG "','digest':'" DA "','size':7}"
#define LAY(d) "{'mediaType':'" MT_OCI_LAYER_GZIP "','digest':'" d "','size':1}"

enum doc_kind { DOC_MANIFEST, DOC_INDEX, DOC_CONFIG };

struct bad_case {
        enum doc_kind kind;
        const char *json;
        const char *want;
};

static const struct bad_case bad_cases[] = {
        { DOC_MANIFEST, "{'schemaVersion':1," CFG ",'layers':[]}", "manifest: schemaVersion: 1 is not supported (only 2)" },
        { DOC_MANIFEST, "{'schemaVersion':3," CFG ",'layers':[]}", "manifest: schemaVersion: 3 is not supported (only 2)" },
        { DOC_MANIFEST, "{" CFG ",'layers':[]}", "manifest: schemaVersion: missing" },
        { DOC_MANIFEST, "{'schemaVersion':'2'," CFG ",'layers':[]}", "manifest: schemaVersion: not an integer" },
        { DOC_MANIFEST, "{'schemaVersion':2,'layers':[]}", "manifest: config: missing" },
        { DOC_MANIFEST, "{'schemaVersion':2,'config':[],'layers':[]}", "manifest: config: not an object" },
        { DOC_MANIFEST, "{'schemaVersion':2," CFG "}", "manifest: layers: missing" },
        { DOC_MANIFEST, "{'schemaVersion':2," CFG ",'layers':{}}", "manifest: layers: not an array" },
        { DOC_MANIFEST, "{'schemaVersion':2," CFG ",'layers':[" LAY(DB) "," LAY(DC) ",{'mediaType':'"
          MT_OCI_LAYER "','digest':'sha256:zz','size':1}]}",
          "manifest: layers[2].digest: `sha256:zz` is not a digest" },
        { DOC_MANIFEST, "{'schemaVersion':2," CFG ",'layers':[" LAY(DB) ",7]}", "manifest: layers[1]: not an object" },
        { DOC_MANIFEST, "{'schemaVersion':2," CFG ",'layers':[{'digest':'" DB "','size':1}]}",
          "manifest: layers[0].mediaType: missing" },
        { DOC_MANIFEST, "{'schemaVersion':2," CFG ",'layers':[{'mediaType':'x','digest':'" DB "','size':-1}]}",
          "manifest: layers[0].size: negative" },
        { DOC_MANIFEST, "{'schemaVersion':2," CFG ",'layers':[{'mediaType':'x','digest':'" DB "','size':1.5}]}",
          "manifest: layers[0].size: not an integer" },
        { DOC_MANIFEST, "{'schemaVersion':2," CFG ",'layers':[{'mediaType':'x','digest':'" DB "'}]}",
          "manifest: layers[0].size: missing" },
        { DOC_MANIFEST, "{'schemaVersion':2," CFG ",'layers':[{'mediaType':'x','size':1}]}",
          "manifest: layers[0].digest: missing" },
        { DOC_MANIFEST, "{'schemaVersion':2," CFG ",'layers':[{'mediaType':'x','digest':'sha512:" H8(H8("aa"))
          "','size':1}]}", "manifest: layers[0].digest: `sha512:" H8(H8("aa")) "` is not a digest" },
        { DOC_MANIFEST, "{'schemaVersion':2," CFG ",'layers':[{'mediaType':'x','digest':'" DB
          "','size':1,'urls':['a',2]}]}", "manifest: layers[0].urls[1]: not a string" },
        { DOC_MANIFEST, "{'schemaVersion':2,'config':{'mediaType':'x','digest':'" DA "','size':'7'},'layers':[]}",
          "manifest: config.size: not an integer" },
        { DOC_MANIFEST, "{'schemaVersion':2,'config':{'mediaType':7,'digest':'" DA "','size':7},'layers':[]}",
          "manifest: config.mediaType: not a string" },
        { DOC_MANIFEST, "{'schemaVersion':2," CFG ",'layers':[],'annotations':{'foo':1}}",
          "manifest: annotations.foo: not a string" },
        { DOC_MANIFEST, "{'schemaVersion':2," CFG ",'layers':[],'annotations':[]}",
          "manifest: annotations: not an object" },
        { DOC_MANIFEST, "{'schemaVersion':2,'mediaType':'" MT_OCI_INDEX "'," CFG ",'layers':[]}",
          "manifest: mediaType: `" MT_OCI_INDEX "` is not a manifest" },
        { DOC_MANIFEST, "{'schemaVersion':2,'mediaType':7," CFG ",'layers':[]}", "manifest: mediaType: not a string" },
        { DOC_MANIFEST, "[]", "manifest: not a JSON object" },
        { DOC_MANIFEST, "{'schemaVersion':2,", "manifest: truncated JSON" },
        { DOC_MANIFEST, "", "manifest: truncated JSON" },
        { DOC_MANIFEST, "{'schemaVersion':2," CFG ",'layers':[]} {}", "manifest: trailing data after the JSON document" },

        { DOC_INDEX, "{'schemaVersion':2,'manifests':[{'mediaType':'" MT_OCI_MANIFEST "','digest':'" DA
          "','size':1,'platform':{'os':'linux','architecture':'amd64'}},{'mediaType':'" MT_OCI_MANIFEST
          "','digest':'" DB "','size':1,'platform':{'os':'linux'}}]}",
          "image index: manifests[1].platform.architecture: missing" },
        { DOC_INDEX, "{'schemaVersion':2,'manifests':[{'mediaType':'" MT_OCI_MANIFEST "','digest':'" DA
          "','size':1,'platform':'linux/amd64'}]}", "image index: manifests[0].platform: not an object" },
        { DOC_INDEX, "{'schemaVersion':2,'manifests':[{'mediaType':'" MT_OCI_MANIFEST "','digest':'" DA
          "','size':1,'platform':{'os':'linux','architecture':'arm','variant':7}}]}",
          "image index: manifests[0].platform.variant: not a string" },
        { DOC_INDEX, "{'schemaVersion':2}", "image index: manifests: missing" },
        { DOC_INDEX, "{'schemaVersion':1,'manifests':[]}", "image index: schemaVersion: 1 is not supported (only 2)" },
        { DOC_INDEX, "{'schemaVersion':2,'mediaType':'" MT_DOCKER_MANIFEST "','manifests':[]}",
          "image index: mediaType: `" MT_DOCKER_MANIFEST "` is not an image index" },
        { DOC_INDEX, "{'schemaVersion':2,'manifests':[{'mediaType':'" MT_OCI_MANIFEST "','digest':'" DA
          "','size':1},{'mediaType':'" MT_OCI_MANIFEST "','digest':'sha256:1','size':1}]}",
          "image index: manifests[1].digest: `sha256:1` is not a digest" },

        { DOC_CONFIG, "{'architecture':'amd64','os':'linux','rootfs':{'type':'layers'}}",
          "image config: rootfs.diff_ids: missing" },
        { DOC_CONFIG, "{'architecture':'amd64','os':'linux'}", "image config: rootfs: missing" },
        { DOC_CONFIG, "{'os':'linux','rootfs':{'type':'layers','diff_ids':[]}}", "image config: architecture: missing" },
        { DOC_CONFIG, "{'architecture':'amd64','rootfs':{'type':'layers','diff_ids':[]}}", "image config: os: missing" },
        { DOC_CONFIG, "{'architecture':'amd64','os':'linux','rootfs':{'type':'foo','diff_ids':[]}}",
          "image config: rootfs.type: `foo` is not \"layers\"" },
        { DOC_CONFIG, "{'architecture':'amd64','os':'linux','rootfs':{'diff_ids':[]}}",
          "image config: rootfs.type: missing" },
        { DOC_CONFIG, "{'architecture':'amd64','os':'linux','rootfs':{'type':'layers','diff_ids':['" DA
          "','sha256:1']}}", "image config: rootfs.diff_ids[1]: `sha256:1` is not a digest" },
        { DOC_CONFIG, "{'architecture':'amd64','os':'linux','rootfs':{'type':'layers','diff_ids':['" DA "',3]}}",
          "image config: rootfs.diff_ids[1]: not a string" },
        { DOC_CONFIG, "{'architecture':'amd64','os':'linux','config':{'Env':'PATH=/bin'},"
          "'rootfs':{'type':'layers','diff_ids':[]}}", "image config: config.Env: not an array" },
        { DOC_CONFIG, "{'architecture':'amd64','os':'linux','config':{'Cmd':['sh',1]},"
          "'rootfs':{'type':'layers','diff_ids':[]}}", "image config: config.Cmd[1]: not a string" },
        { DOC_CONFIG, "{'architecture':'amd64','os':'linux','config':{'Labels':{'a':1}},"
          "'rootfs':{'type':'layers','diff_ids':[]}}", "image config: config.Labels.a: not a string" },
        { DOC_CONFIG, "{'architecture':'amd64','os':'linux','config':{'ExposedPorts':['80/tcp']},"
          "'rootfs':{'type':'layers','diff_ids':[]}}", "image config: config.ExposedPorts: not an object" },
        { DOC_CONFIG, "{'architecture':'amd64','os':'linux','config':{'User':0},"
          "'rootfs':{'type':'layers','diff_ids':[]}}", "image config: config.User: not a string" },
        { DOC_CONFIG, "{'architecture':'amd64','os':'linux','config':'x','rootfs':{'type':'layers','diff_ids':[]}}",
          "image config: config: not an object" },
        { DOC_CONFIG, "{'architecture':'amd64','os':'linux','rootfs':{'type':'layers','diff_ids':[]},"
          "'history':[{},{'empty_layer':'yes'}]}", "image config: history[1].empty_layer: not a boolean" },
        { DOC_CONFIG, "{'architecture':'amd64','os':'linux','rootfs':{'type':'layers','diff_ids':[]},"
          "'history':[{'created_by':'x'},'y']}", "image config: history[1]: not an object" },
        { DOC_CONFIG, "{'architecture':'amd64','os':'linux','rootfs':{'type':'layers','diff_ids':[]},"
          "'created':5}", "image config: created: not a string" },
};

/* Parse JSON as KIND; 0 or the negative error, its message in ERR. */
static int parse_as(enum doc_kind kind, const char *json, size_t len, struct error *err)
{
        int r;

        if (kind == DOC_MANIFEST) {
                struct manifest m = { .media_type = (char *) "untouched" };
                r = manifest_parse(json, len, &m, err);
                if (r == 0)
                        manifest_clear(&m);
                else if (strcmp(m.media_type, "untouched") != 0)
                        return -EUCLEAN; /* the result was written on failure */
        } else if (kind == DOC_INDEX) {
                struct image_index idx = { .media_type = (char *) "untouched" };
                r = image_index_parse(json, len, &idx, err);
                if (r == 0)
                        image_index_clear(&idx);
                else if (strcmp(idx.media_type, "untouched") != 0)
                        return -EUCLEAN; /* the result was written on failure */
        } else {
                struct image_config c = { .os = (char *) "untouched" };
                r = image_config_parse(json, len, &c, err);
                if (r == 0)
                        image_config_clear(&c);
                else if (strcmp(c.os, "untouched") != 0)
                        return -EUCLEAN; /* the result was written on failure */
        }
        return r;
}

static void bad_documents(void)
{
        for (size_t i = 0; i < ELEMENTSOF(bad_cases); i++) {
                _cleanup_error_ struct error err = ERROR_INIT;
                _cleanup_free_ char *j = jq(bad_cases[i].json);
                int r = parse_as(bad_cases[i].kind, j, strlen(j), &err);

                ok(r == -EINVAL && err.msg && strcmp(err.msg, bad_cases[i].want) == 0, "refused: %s%s%s",
                   bad_cases[i].want, err.msg && strcmp(err.msg, bad_cases[i].want) != 0 ? " -- got: " : "",
                   err.msg && strcmp(err.msg, bad_cases[i].want) != 0 ? err.msg : "");
        }
}

/* Lengths are honoured: a valid document followed by bytes outside LEN
 * parses, a NUL inside LEN does not. */
static void lengths(void)
{
        _cleanup_error_ struct error err = ERROR_INIT, err2 = ERROR_INIT;
        _cleanup_free_ char *j = jq(docker_manifest), *padded = xasprintf("%sGARBAGE", j);
        _cleanup_free_ char *nul = xmalloc(strlen(j) + 2);
        struct manifest m = {};
        int r;

        ok(manifest_parse(padded, strlen(j), &m, NULL) == 0 && m.n_layers == 2,
           "only LEN bytes are read (trailing garbage outside LEN is ignored)");
        manifest_clear(&m);
        memcpy(nul, j, strlen(j));
        nul[strlen(j)] = '\0';
        nul[strlen(j) + 1] = '}';
        ok(manifest_parse(nul, strlen(j) + 2, &m, &err) == -EINVAL &&
                   strcmp(err.msg, "manifest: trailing data after the JSON document") == 0,
           "a NUL byte inside LEN is trailing data");
        /* json-c words the reason; only the prefix is ours. */
        r = manifest_parse("{\"schemaVersion\":2,,}", strlen("{\"schemaVersion\":2,,}"), &m, &err2);
        ok(r == -EINVAL && err2.msg && strncmp(err2.msg, "manifest: invalid JSON: ", 24) == 0 && strlen(err2.msg) > 24,
           "a syntax error is invalid JSON (%s)", err2.msg ? err2.msg : "no error");
}

#define ENTRY(d, plat) "{'mediaType':'" MT_OCI_MANIFEST "','digest':'" d "','size':1000" plat "}"
#define PLAT(os, arch) ",'platform':{'os':'" os "','architecture':'" arch "'}"
#define PLATV(os, arch, v) ",'platform':{'os':'" os "','architecture':'" arch "','variant':'" v "'}"

static const char oci_index[] =
        "{'schemaVersion':2,'mediaType':'" MT_OCI_INDEX "','manifests':["
        ENTRY(DA, PLATV("linux", "amd64", "v3")) ","
        ENTRY(DB, PLAT("linux", "amd64")) ","
        ENTRY(DC, PLATV("linux", "arm", "v6")) ","
        ENTRY(DD, PLATV("linux", "arm", "v7")) ","
        ENTRY(DE, PLATV("linux", "arm64", "v8")) ","
        ENTRY(DF, PLAT("linux", "ppc64le")) ","
        ENTRY(D1, PLAT("windows", "amd64")) ","
        ENTRY(D2, PLAT("unknown", "unknown")) ","
        ENTRY(D3, "") "],"
        "'annotations':{'org.opencontainers.image.ref.name':'latest'}}";

static const char docker_list[] =
        "{'schemaVersion':2,'mediaType':'" MT_DOCKER_LIST "','manifests':["
        "{'mediaType':'" MT_DOCKER_MANIFEST "','size':528,'digest':'" DA "',"
        " 'platform':{'architecture':'amd64','os':'linux'}},"
        "{'mediaType':'" MT_DOCKER_MANIFEST "','size':528,'digest':'" DB "',"
        " 'platform':{'architecture':'arm64','os':'linux','variant':'v8','features':['sse4']}},"
        "{'mediaType':'" MT_DOCKER_MANIFEST "','size':528,'digest':'" DC "',"
        " 'platform':{'architecture':'arm','os':'linux','variant':'v5'}}]}";

static const char *selected(const struct image_index *idx, const char *os, const char *arch, const char *variant)
{
        const struct descriptor *d = image_index_select(idx, os, arch, variant);

        return d ? d->digest : NULL;
}

static void index_select(void)
{
        _cleanup_error_ struct error err = ERROR_INIT;
        _cleanup_free_ char *j = jq(oci_index), *l = jq(docker_list);
        struct image_index idx = {}, list = {};

        if (!ok(image_index_parse(j, strlen(j), &idx, &err) == 0, "parse an OCI index with several platforms")) {
                printf("# %s\n", err.msg);
                return;
        }
        ok(strcmp(idx.media_type, MT_OCI_INDEX) == 0 && idx.n_manifests == 9, "its media type and 9 entries");
        ok(strcmp(idx.manifests[2].platform_os, "linux") == 0 && strcmp(idx.manifests[2].platform_arch, "arm") == 0 &&
                   strcmp(idx.manifests[2].platform_variant, "v6") == 0 && !idx.manifests[1].platform_variant &&
                   !idx.manifests[8].platform_os && idx.manifests[8].size == 1000,
           "platforms are read");
        ok(streq_null(selected(&idx, "linux", "amd64", NULL), DB), "linux/amd64 prefers the entry without variant");
        ok(streq_null(selected(&idx, "linux", "amd64", "v3"), DA), "linux/amd64/v3 is the v3 entry");
        ok(streq_null(selected(&idx, "linux", "amd64", "v2"), DB), "linux/amd64/v2 takes plain amd64 (v1)");
        ok(streq_null(selected(&idx, "linux", "amd64", "v4"), DA), "linux/amd64/v4 takes the best older one (v3)");
        ok(streq_null(selected(&idx, "linux", "arm64", NULL), DE), "linux/arm64 takes arm64/v8 (the default)");
        ok(streq_null(selected(&idx, "linux", "arm64", "v8"), DE), "linux/arm64/v8 is the v8 entry");
        ok(streq_null(selected(&idx, "linux", "arm", NULL), DD), "linux/arm takes arm/v7 (the default)");
        ok(streq_null(selected(&idx, "linux", "arm", "v6"), DC), "linux/arm/v6 is the v6 entry");
        ok(streq_null(selected(&idx, "linux", "arm", "v7"), DD), "linux/arm/v7 is the v7 entry");
        ok(streq_null(selected(&idx, "linux", "arm", "v5"), NULL), "linux/arm/v5 runs neither v6 nor v7");
        ok(streq_null(selected(&idx, "linux", "ppc64le", NULL), DF), "linux/ppc64le");
        ok(streq_null(selected(&idx, "linux", "ppc64le", "power9"), NULL), "an unknown variant matches nothing");
        ok(streq_null(selected(&idx, "windows", "amd64", NULL), D1), "windows/amd64");
        ok(streq_null(selected(&idx, "linux", "riscv64", NULL), NULL), "linux/riscv64 is absent");
        ok(streq_null(selected(&idx, "Linux", "amd64", NULL), NULL), "os matches exactly");
        ok(streq_null(selected(&idx, "linux", "s390x", NULL), NULL),
           "the entry without platform is never picked among several");
        ok(!image_index_select(&idx, NULL, "amd64", NULL) && !image_index_select(NULL, "linux", "amd64", NULL),
           "NULL arguments select nothing");

        if (ok(image_index_parse(l, strlen(l), &list, &err) == 0, "parse a Docker manifest list")) {
                ok(strcmp(list.media_type, MT_DOCKER_LIST) == 0 && list.n_manifests == 3 &&
                           strcmp(list.manifests[0].media_type, MT_DOCKER_MANIFEST) == 0,
                   "its media type and entries");
                ok(streq_null(selected(&list, "linux", "arm64", NULL), DB) &&
                           streq_null(selected(&list, "linux", "arm", "v7"), DC) &&
                           streq_null(selected(&list, "linux", "amd64", NULL), DA),
                   "select arm64, arm/v7 (gets v5), amd64 from it");
                ok(streq_null(selected(&list, "linux", "arm", NULL), DC), "linux/arm falls back to the only arm");
        }
        image_index_clear(&list);
        image_index_clear(&idx);
}

static void index_single(void)
{
        _cleanup_free_ char *one = jq("{'schemaVersion':2,'manifests':[" ENTRY(DA, "") "]}");
        _cleanup_free_ char *two = jq("{'schemaVersion':2,'manifests':[" ENTRY(DA, "") "," ENTRY(DB, PLAT("linux",
                                                                                                       "amd64")) "]}");
        struct image_index idx = {};

        if (ok(image_index_parse(one, strlen(one), &idx, NULL) == 0, "parse an index of one entry without platform")) {
                ok(strcmp(idx.media_type, MT_OCI_INDEX) == 0, "a missing mediaType means an OCI index");
                ok(streq_null(selected(&idx, "linux", "arm64", NULL), DA),
                   "its only entry is picked though it has no platform");
        }
        image_index_clear(&idx);
        if (ok(image_index_parse(two, strlen(two), &idx, NULL) == 0, "parse an index with a platformless entry")) {
                ok(streq_null(selected(&idx, "linux", "amd64", NULL), DB), "the platformed entry is picked");
                ok(streq_null(selected(&idx, "linux", "arm64", NULL), NULL), "the platformless one never is");
        }
        image_index_clear(&idx);
}

static const char *sniff(const char *json, const char *hint)
{
        _cleanup_free_ char *j = jq(json);

        return manifest_sniff(j, strlen(j), hint);
}

static void sniffing(void)
{
        _cleanup_free_ char *oci = jq(oci_manifest), *dm = jq(docker_manifest), *oi = jq(oci_index),
                            *dl = jq(docker_list);

        ok(streq_null(manifest_sniff(oci, strlen(oci), NULL), MT_OCI_MANIFEST),
           "an OCI manifest by its mediaType");
        ok(streq_null(manifest_sniff(dm, strlen(dm), NULL), MT_DOCKER_MANIFEST), "a Docker manifest");
        ok(streq_null(manifest_sniff(oi, strlen(oi), NULL), MT_OCI_INDEX), "an OCI index");
        ok(streq_null(manifest_sniff(dl, strlen(dl), NULL), MT_DOCKER_LIST), "a Docker manifest list");
        ok(streq_null(sniff("{'schemaVersion':2," CFG ",'layers':[]}", NULL), MT_OCI_MANIFEST),
           "an OCI manifest without mediaType, by its shape");
        ok(streq_null(sniff("{'schemaVersion':2,'manifests':[]}", NULL), MT_OCI_INDEX),
           "an OCI index without mediaType, by its shape");
        ok(streq_null(manifest_sniff(oci, strlen(oci), MT_DOCKER_LIST), MT_DOCKER_LIST), "a known hint wins");
        ok(streq_null(manifest_sniff(dm, strlen(dm), MT_DOCKER_MANIFEST "; charset=utf-8"), MT_DOCKER_MANIFEST),
           "a hint's parameters are ignored");
        ok(streq_null(manifest_sniff(dm, strlen(dm), "application/json"), MT_DOCKER_MANIFEST),
           "an unknown hint is ignored");
        ok(streq_null(manifest_sniff("", 0, MT_OCI_INDEX), MT_OCI_INDEX), "a known hint wins even over no document");
        ok(!sniff("{'schemaVersion':1,'name':'x','tag':'y','fsLayers':[],'history':[]}", NULL), "schema 1 is neither");
        ok(!sniff("{'schemaVersion':2,'mediaType':'application/vnd.docker.distribution.manifest.v1+prettyjws'}",
                  NULL),
           "an unknown mediaType is neither");
        ok(!sniff("{'schemaVersion':2,'mediaType':'" MT_OCI_MANIFEST "x'," CFG ",'layers':[]}", NULL),
           "a mediaType with a known prefix is not known");
        ok(!sniff("{'architecture':'amd64','os':'linux','rootfs':{'type':'layers','diff_ids':[]}}", NULL),
           "an image config is neither");
        ok(!sniff("{'schemaVersion':2,", NULL) && !sniff("not json", NULL) && !manifest_sniff(NULL, 0, NULL),
           "broken JSON is neither");
}

static const char oci_config[] =
        "{'created':'2024-05-06T07:08:09.123456789Z','author':'berth tests','architecture':'arm64','variant':'v8',"
        " 'os':'linux',"
        " 'config':{'User':'1000:1000','ExposedPorts':{'80/tcp':{},'53/udp':{}},"
        "   'Env':['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin','LANG=C.UTF-8'],"
        "   'Entrypoint':['/docker-entrypoint.sh'],'Cmd':['nginx','-g','daemon off;'],"
        "   'Volumes':{'/var/cache/nginx':{}},'WorkingDir':'/srv','Labels':{'maintainer':'x','version':'1.2'},"
        "   'StopSignal':'SIGQUIT'},"
        " 'rootfs':{'type':'layers','diff_ids':['" D1 "','" D2 "','" D3 "']},"
        " 'history':[{'created':'2024-05-01T00:00:00Z','created_by':'/bin/sh -c #(nop) ADD file:abc in / '},"
        "            {'created_by':'/bin/sh -c #(nop)  CMD [\\'sh\\']','empty_layer':true},"
        "            {'created_by':'RUN make','comment':'buildkit.dockerfile.v0','author':'me'},"
        "            {'created_by':'COPY . /srv','empty_layer':false}]}";

/* What Docker writes: nulls for unset fields, extra keys berth ignores. */
static const char docker_config[] =
        "{'architecture':'amd64','config':{'Hostname':'','Env':null,'Cmd':['sh'],'Entrypoint':null,"
        " 'Image':'sha256:x','Volumes':null,'WorkingDir':'','Labels':null,'OnBuild':null},"
        " 'container':'abc','docker_version':'20.10.23','os':'linux',"
        " 'rootfs':{'type':'layers','diff_ids':['" D4 "']}}";

static void config_oci(void)
{
        _cleanup_error_ struct error err = ERROR_INIT;
        _cleanup_free_ char *j = jq(oci_config);
        struct image_config c = {};

        if (!ok(image_config_parse(j, strlen(j), &c, &err) == 0, "parse an OCI image config")) {
                printf("# %s\n", err.msg);
                return;
        }
        ok(strcmp(c.architecture, "arm64") == 0 && strcmp(c.os, "linux") == 0 && strcmp(c.variant, "v8") == 0 &&
                   strcmp(c.created, "2024-05-06T07:08:09.123456789Z") == 0 && strcmp(c.author, "berth tests") == 0,
           "architecture, os, variant, created, author");
        ok(strv_len(c.env) == 2 && strcmp(c.env[1], "LANG=C.UTF-8") == 0, "Env");
        ok(strv_len(c.entrypoint) == 1 && strcmp(c.entrypoint[0], "/docker-entrypoint.sh") == 0, "Entrypoint");
        ok(strv_len(c.cmd) == 3 && strcmp(c.cmd[2], "daemon off;") == 0, "Cmd");
        ok(strcmp(c.working_dir, "/srv") == 0 && strcmp(c.user, "1000:1000") == 0 &&
                   strcmp(c.stop_signal, "SIGQUIT") == 0,
           "WorkingDir, User, StopSignal");
        ok(strv_len(c.exposed_ports) == 2 && strcmp(c.exposed_ports[0], "80/tcp") == 0 &&
                   strcmp(c.exposed_ports[1], "53/udp") == 0,
           "ExposedPorts are the object's keys");
        ok(strv_len(c.volumes) == 1 && strcmp(c.volumes[0], "/var/cache/nginx") == 0, "Volumes are the keys");
        ok(strv_len(c.labels) == 4 && strcmp(c.labels[2], "version") == 0 && strcmp(c.labels[3], "1.2") == 0,
           "Labels as key, value pairs");
        ok(c.n_diff_ids == 3 && strv_len(c.diff_ids) == 3 && strcmp(c.diff_ids[2], D3) == 0, "rootfs.diff_ids");
        ok(c.n_history == 4 && strcmp(c.history[0].created, "2024-05-01T00:00:00Z") == 0 && !c.history[0].empty_layer &&
                   c.history[1].empty_layer && !c.history[1].created &&
                   strcmp(c.history[2].comment, "buildkit.dockerfile.v0") == 0 &&
                   strcmp(c.history[2].author, "me") == 0 && !c.history[3].empty_layer,
           "history entries");
        image_config_clear(&c);
        ok(!c.env && !c.history && c.n_history == 0, "image_config_clear() empties it");
}

static void config_docker(void)
{
        _cleanup_error_ struct error err = ERROR_INIT;
        _cleanup_free_ char *j = jq(docker_config),
                            *bare = jq("{'architecture':'amd64','os':'linux','rootfs':{'type':'layers',"
                                       "'diff_ids':[]}}");
        struct image_config c = {};

        if (!ok(image_config_parse(j, strlen(j), &c, &err) == 0, "parse a Docker image config with nulls")) {
                printf("# %s\n", err.msg);
                return;
        }
        ok(c.env && !c.env[0] && !c.entrypoint && strv_len(c.cmd) == 1 && strcmp(c.working_dir, "") == 0,
           "null Env is empty, null Entrypoint unset, Cmd and WorkingDir read");
        ok(c.volumes && !c.volumes[0] && c.labels && !c.labels[0] && c.exposed_ports && !c.exposed_ports[0],
           "null Volumes and Labels, missing ExposedPorts are empty lists");
        ok(!c.variant && !c.created && !c.history && c.n_history == 0 && c.n_diff_ids == 1, "absent fields");
        image_config_clear(&c);
        ok(image_config_parse(bare, strlen(bare), &c, &err) == 0 && c.env && !c.env[0] && !c.cmd &&
                   !c.user && c.n_diff_ids == 0 && c.diff_ids && !c.diff_ids[0],
           "a config without \"config\" (scratch) parses with empty lists");
        image_config_clear(&c);
}

static void round_trip(void)
{
        _cleanup_error_ struct error err = ERROR_INIT;
        _cleanup_free_ char *j = jq(oci_manifest), *out = NULL, *out2 = NULL, *small = NULL;
        struct manifest m = {}, back = {}, s = {};
        struct descriptor layer = { .media_type = (char *) MT_OCI_LAYER_GZIP, .digest = (char *) DB, .size = 3 };
        char *ann[] = { (char *) "k", (char *) "v/\"q\"", NULL };

        if (!ok(manifest_parse(j, strlen(j), &m, &err) == 0, "parse the manifest to serialize"))
                return;
        out = manifest_to_json(&m);
        ok(strncmp(out, "{\"schemaVersion\":2,\"mediaType\":\"" MT_OCI_MANIFEST "\",\"config\":{", 80) == 0 &&
                   !strstr(out, "\": ") && !strchr(out, '\n'),
           "manifest_to_json() starts with schemaVersion and mediaType, no spaces after keys");
        ok(manifest_parse(out, strlen(out), &back, &err) == 0, "its output parses back (%s)", err.msg ? err.msg : "ok");
        ok(streq_null(back.media_type, m.media_type) && streq_null(back.config.digest, DA) &&
                   back.config.size == 581 && back.n_layers == 3 && streq_null(back.layers[2].urls[1], m.layers[2].urls[1]) &&
                   streq_null(back.layers[1].annotations[1], "layer two") && strv_len(back.annotations) == 6 &&
                   streq_null(back.annotations[2], "z.last"),
           "the parsed copy matches the original");
        out2 = manifest_to_json(&back);
        ok(strcmp(out, out2) == 0, "serializing again gives the same bytes");
        manifest_clear(&back);
        manifest_clear(&m);

        s = (struct manifest) { .config = { .media_type = (char *) MT_OCI_CONFIG, .digest = (char *) DA, .size = 2 },
                                .layers = &layer, .n_layers = 1, .annotations = ann };
        small = manifest_to_json(&s);
        ok(strcmp(small, "{\"schemaVersion\":2,\"mediaType\":\"" MT_OCI_MANIFEST "\",\"config\":{\"mediaType\":\""
                         MT_OCI_CONFIG "\",\"digest\":\"" DA "\",\"size\":2},\"layers\":[{\"mediaType\":\""
                         MT_OCI_LAYER_GZIP "\",\"digest\":\"" DB "\",\"size\":3}],"
                         "\"annotations\":{\"k\":\"v/\\\"q\\\"\"}}") == 0,
           "a manifest serializes to the exact canonical bytes: %s", small);
}

int main(void)
{
        parse_oci_manifest();
        parse_docker_manifest();
        parse_minimal_oci();
        layer_types();
        bad_documents();
        lengths();
        index_select();
        index_single();
        sniffing();
        config_oci();
        config_docker();
        round_trip();
        return tap_done();
}
