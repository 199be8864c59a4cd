/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "basic/error.h"

/* OCI image and Docker schema 2 formats: manifests, indexes (manifest
 * lists) and image configs.  Parsers check every field they use and name
 * the bad one in the error ("manifest: layers[2].digest: not a digest"). */

#define MT_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define MT_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define MT_OCI_CONFIG "application/vnd.oci.image.config.v1+json"
#define MT_OCI_LAYER "application/vnd.oci.image.layer.v1.tar"
#define MT_OCI_LAYER_GZIP "application/vnd.oci.image.layer.v1.tar+gzip"
#define MT_OCI_LAYER_ZSTD "application/vnd.oci.image.layer.v1.tar+zstd"
#define MT_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define MT_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define MT_DOCKER_CONFIG "application/vnd.docker.container.image.v1+json"
#define MT_DOCKER_LAYER "application/vnd.docker.image.rootfs.diff.tar.gzip"

struct descriptor {
        char *media_type;
        char *digest;     /* validated with digest_valid() */
        int64_t size;     /* >= 0 */
        char *platform_os, *platform_arch, *platform_variant; /* index entries, else NULL */
        char **urls;      /* NULL-terminated or NULL (foreign layers) */
        char **annotations; /* key, value, key, value, …, NULL; or NULL */
};

enum layer_compression {
        LAYER_PLAIN,
        LAYER_GZIP,
        LAYER_ZSTD,
        _LAYER_COMPRESSION_MAX,
        _LAYER_COMPRESSION_INVALID = -EINVAL,
};
/* From a layer media type (OCI or Docker); _INVALID for the unknown and
 * for non-distributable/foreign types berth does not fetch. */
enum layer_compression layer_compression_from_media_type(const char *mt);

struct manifest {
        char *media_type;     /* MT_OCI_MANIFEST or MT_DOCKER_MANIFEST */
        struct descriptor config;
        struct descriptor *layers;
        size_t n_layers;
        char **annotations;
};

struct image_index {
        char *media_type;     /* MT_OCI_INDEX or MT_DOCKER_LIST */
        struct descriptor *manifests;
        size_t n_manifests;
};

/* The media type a manifest document says it is: its "mediaType" field,
 * else guessed from its shape (OCI manifests may omit it); HINT (e.g. the
 * registry's Content-Type, parameters after ';' ignored) wins when it is a
 * known type.  NULL when it is neither a manifest nor an index (schema 1,
 * unknown media types, not JSON).  Returns one of the MT_* strings. */
const char *manifest_sniff(const char *json, size_t len, const char *hint);
/* Both refuse a schemaVersion other than 2 and a mediaType of the other
 * kind; a missing mediaType means the OCI type.  Errors name the field:
 * "manifest: layers[2].digest: `sha256:zz` is not a digest". */
int manifest_parse(const char *json, size_t len, struct manifest *ret, struct error *err);
int image_index_parse(const char *json, size_t len, struct image_index *ret, struct error *err);
/* The entry for OS/ARCH[/VARIANT] ("linux", "amd64", NULL), or NULL.  OS
 * and ARCH match exactly.  A missing variant means the arch's default
 * (arm64: v8, arm: v7, amd64: v1) on either side; with VARIANT NULL an
 * entry without one or with the default is preferred, then any other.
 * Where variants are levels (arm, arm64, amd64) an older one serves when
 * no exact one exists (arm v7 runs v6, amd64 v3 runs v2).  An entry
 * without a platform is picked only when it is the index's only entry. */
const struct descriptor *image_index_select(const struct image_index *idx, const char *os, const char *arch,
                                            const char *variant);
void manifest_clear(struct manifest *m);
void image_index_clear(struct image_index *idx);
void descriptor_clear(struct descriptor *d);
/* Serialize as an OCI manifest, no spaces, keys always in this order:
 * schemaVersion (2), mediaType (M's, MT_OCI_MANIFEST when NULL), config,
 * layers, annotations (when set); descriptors: mediaType, digest, size,
 * urls and annotations (when set).  Annotations keep their order.
 * malloc'd. */
char *manifest_to_json(const struct manifest *m);

/* The parts of an image config berth uses.  The whole document is kept
 * by the store as a blob; this is a parsed view. */
struct image_config {
        char *architecture, *os, *variant;
        char *created;          /* RFC 3339 or NULL */
        char *author;
        char **env;             /* NULL-terminated, never NULL */
        char **entrypoint, **cmd; /* NULL-terminated, or NULL when unset */
        char *working_dir, *user, *stop_signal;
        char **exposed_ports;   /* "80/tcp", …; never NULL */
        char **volumes;         /* never NULL */
        char **labels;          /* key, value, …, NULL; never NULL */
        char **diff_ids;        /* rootfs.diff_ids, NULL-terminated */
        size_t n_diff_ids;
        struct image_history {
                char *created, *created_by, *author, *comment;
                bool empty_layer;
        } *history;             /* NULL when the config has none */
        size_t n_history;
};
/* architecture, os and rootfs (type "layers", diff_ids all digests) are
 * required; "config" and "history" may be missing, JSON null counts as
 * missing.  Errors name the field: "image config: rootfs.diff_ids: missing". */
int image_config_parse(const char *json, size_t len, struct image_config *ret, struct error *err);
void image_config_clear(struct image_config *c);
