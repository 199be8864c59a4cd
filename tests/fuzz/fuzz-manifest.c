/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Manifests, indexes and image configs as a registry or an archive sends
 * them.  The first byte picks the parser (its value modulo 4, so the
 * seeds start with a digit): '0' manifest_parse, '1' image_index_parse,
 * '2' image_config_parse, '3' manifest_sniff, where the bytes before a
 * NUL are the Content-Type hint.  The rest is the document.
 *
 * A parsed manifest goes through manifest_to_json() and back: the copy
 * must parse, with the same config and layer digests and sizes, and
 * serialize to the same bytes (the push path re-serializes manifests). */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image/digest.h"
#include "image/manifest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

_noreturn_ static void invariant_failed(const char *what, const char *why)
{
        fprintf(stderr, "fuzz-manifest: %s: %s\n", what, why);
        abort();
}

static void check_descriptor(const struct descriptor *d, const char *what)
{
        if (!d->media_type || !d->digest || !digest_valid(d->digest) || d->size < 0)
                invariant_failed(what, "descriptor without a media type, a valid digest or a size");
}

static bool descriptor_same(const struct descriptor *a, const struct descriptor *b)
{
        return strcmp(a->digest, b->digest) == 0 && a->size == b->size && strcmp(a->media_type, b->media_type) == 0;
}

static void fuzz_manifest(const char *json, size_t len)
{
        _cleanup_(manifest_clear) struct manifest m = {}, again = {};
        _cleanup_error_ struct error err = ERROR_INIT, err2 = ERROR_INIT;
        _cleanup_free_ char *out = NULL, *out2 = NULL;

        if (manifest_parse(json, len, &m, &err) < 0) {
                if (!err.msg)
                        invariant_failed("manifest", "failure without an error message");
                return;
        }
        if (!m.media_type || (m.n_layers > 0 && !m.layers))
                invariant_failed("manifest", "parsed manifest lacks its media type or layers");
        check_descriptor(&m.config, "manifest config");
        for (size_t i = 0; i < m.n_layers; i++) {
                check_descriptor(&m.layers[i], "manifest layer");
                (void) layer_compression_from_media_type(m.layers[i].media_type);
        }

        out = manifest_to_json(&m);
        if (manifest_parse(out, strlen(out), &again, &err2) < 0)
                invariant_failed(out, err2.msg ? err2.msg : "serialized manifest does not parse");
        if (strcmp(m.media_type, again.media_type) != 0 || !descriptor_same(&m.config, &again.config) ||
            m.n_layers != again.n_layers)
                invariant_failed(out, "serialized manifest differs from the parsed one");
        for (size_t i = 0; i < m.n_layers; i++)
                if (!descriptor_same(&m.layers[i], &again.layers[i]))
                        invariant_failed(out, "serialized manifest has other layers");
        out2 = manifest_to_json(&again);
        if (strcmp(out, out2) != 0)
                invariant_failed(out, "serializing twice gives different documents");
}

static void fuzz_index(const char *json, size_t len)
{
        static const char *const platforms[][3] = {
                { "linux", "amd64", NULL },  { "linux", "amd64", "v3" }, { "linux", "arm64", NULL },
                { "linux", "arm", "v6" },    { "linux", "arm", NULL },   { "windows", "amd64", NULL },
        };
        _cleanup_(image_index_clear) struct image_index idx = {};
        _cleanup_error_ struct error err = ERROR_INIT;

        if (image_index_parse(json, len, &idx, &err) < 0) {
                if (!err.msg)
                        invariant_failed("image index", "failure without an error message");
                return;
        }
        if (!idx.media_type || (idx.n_manifests > 0 && !idx.manifests))
                invariant_failed("image index", "parsed index lacks its media type or manifests");
        for (size_t i = 0; i < idx.n_manifests; i++) {
                check_descriptor(&idx.manifests[i], "image index entry");
                if (!idx.manifests[i].platform_os != !idx.manifests[i].platform_arch)
                        invariant_failed("image index entry", "platform with only one of os and architecture");
        }
        for (size_t i = 0; i < ELEMENTSOF(platforms); i++) {
                const struct descriptor *d =
                        image_index_select(&idx, platforms[i][0], platforms[i][1], platforms[i][2]);

                if (d && (d < idx.manifests || d >= idx.manifests + idx.n_manifests))
                        invariant_failed("image index", "selected entry is not one of the index's");
        }
}

static void fuzz_config(const char *json, size_t len)
{
        _cleanup_(image_config_clear) struct image_config c = {};
        _cleanup_error_ struct error err = ERROR_INIT;

        if (image_config_parse(json, len, &c, &err) < 0) {
                if (!err.msg)
                        invariant_failed("image config", "failure without an error message");
                return;
        }
        /* the header promises these are never NULL */
        if (!c.architecture || !c.os || !c.env || !c.exposed_ports || !c.volumes || !c.labels || !c.diff_ids)
                invariant_failed("image config", "a field documented as never NULL is NULL");
        for (size_t i = 0; i < c.n_diff_ids; i++)
                if (!c.diff_ids[i] || !digest_valid(c.diff_ids[i]))
                        invariant_failed("image config", "rootfs.diff_ids holds a non-digest");
        if (c.diff_ids[c.n_diff_ids])
                invariant_failed("image config", "n_diff_ids does not count rootfs.diff_ids");
        if (c.n_history > 0 && !c.history)
                invariant_failed("image config", "history counted but missing");
}

static void fuzz_sniff(const char *data, size_t len)
{
        _cleanup_free_ char *hint = NULL;
        const char *nul = memchr(data, '\0', len), *t;

        if (nul) {
                hint = xstrndup(data, (size_t) (nul - data));
                len -= (size_t) (nul - data) + 1;
                data = nul + 1;
        }
        t = manifest_sniff(data, len, hint);
        if (t && strcmp(t, MT_OCI_MANIFEST) != 0 && strcmp(t, MT_OCI_INDEX) != 0 &&
            strcmp(t, MT_DOCKER_MANIFEST) != 0 && strcmp(t, MT_DOCKER_LIST) != 0)
                invariant_failed("manifest_sniff", "returned an unknown media type");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        const char *json = (const char *) data + 1;
        size_t len = size - 1;

        /* registries cap manifests at 4 MiB; past 1 MiB only slows fuzzing */
        if (size < 1 || size > (1U << 20))
                return 0;
        switch (data[0] % 4) {
        case 0:
                fuzz_manifest(json, len);
                break;
        case 1:
                fuzz_index(json, len);
                break;
        case 2:
                fuzz_config(json, len);
                break;
        default:
                fuzz_sniff(json, len);
                break;
        }
        return 0;
}
