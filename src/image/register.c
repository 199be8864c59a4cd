/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "image/image.h"
#include "image/manifest.h"
#include "image/reference.h"

#define SMALL_BLOB_MAX (16u << 20)

static void progress_event(const struct image_progress *p, const char *id, const char *what)
{
        if (p && p->event)
                p->event(id, what, p->userdata);
}

/* The layers of manifest M as the store records them: blob, diff id from
 * config C, chain id. */
static int layers_of(const struct manifest *m, const struct image_config *c, struct store_image *img,
                     struct error *err)
{
        const char *parent = NULL;

        if (c->n_diff_ids != m->n_layers)
                return error_setx(err, EINVAL, "the manifest has %zu layers, its config %zu diff ids", m->n_layers,
                                  c->n_diff_ids);
        img->layers = xzalloc((m->n_layers + 1) * sizeof(*img->layers));
        img->n_layers = m->n_layers;
        for (size_t i = 0; i < m->n_layers; i++) {
                struct store_layer *l = &img->layers[i];
                char chain[DIGEST_BUF_SIZE];

                if (layer_compression_from_media_type(m->layers[i].media_type) < 0)
                        return error_setx(err, EPROTONOSUPPORT, "layers[%zu]: unsupported media type `%s`", i,
                                          m->layers[i].media_type);
                store_chain_id(parent, c->diff_ids[i], chain);
                l->chain_id = xstrdup(chain);
                l->diff_id = xstrdup(c->diff_ids[i]);
                l->blob = xstrdup(m->layers[i].digest);
                l->media_type = xstrdup(m->layers[i].media_type);
                l->size = m->layers[i].size;
                parent = l->chain_id;
        }
        return 0;
}

static int unpack_all(struct store *s, const struct store_image *img, const struct image_progress *p,
                      struct error *err)
{
        for (size_t i = 0; i < img->n_layers; i++) {
                const struct store_layer *l = &img->layers[i];
                int r;

                if (store_layer_exists(s, l->chain_id))
                        continue;
                progress_event(p, l->blob, "Extracting");
                r = store_layer_unpack(s, l->chain_id, l->diff_id, l->blob, err);
                if (r < 0)
                        return r;
                progress_event(p, l->blob, "Pull complete");
        }
        return 0;
}

int image_register(struct store *s, const char *manifest, const char *name, const char *repo_digest,
                   const struct image_progress *p, char **ret_id, struct error *err)
{
        _cleanup_free_ char *mraw = NULL, *craw = NULL;
        struct store_image img = {};
        struct image_config cfg = {};
        struct manifest m = {};
        size_t mlen = 0, clen = 0;
        int r;

        r = store_blob_read(s, manifest, SMALL_BLOB_MAX, &mraw, &mlen, err);
        if (r >= 0)
                r = manifest_parse(mraw, mlen, &m, err);
        if (r >= 0)
                r = store_blob_read(s, m.config.digest, SMALL_BLOB_MAX, &craw, &clen, err);
        if (r >= 0)
                r = image_config_parse(craw, clen, &cfg, err);
        if (r >= 0) {
                img.id = xstrdup(m.config.digest);
                img.manifest = xstrdup(manifest);
                img.manifest_type = xstrdup(m.media_type);
                img.created = cfg.created ? xstrdup(cfg.created) : NULL;
                r = layers_of(&m, &cfg, &img, err);
        }
        for (size_t i = 0; r >= 0 && i < img.n_layers; i++)
                if (!store_blob_exists(s, img.layers[i].blob))
                        r = error_setx(err, ENOENT, "layer blob %s is missing", img.layers[i].blob);
        if (r >= 0)
                r = unpack_all(s, &img, p, err);
        if (r >= 0)
                r = store_image_add(s, &img, name, repo_digest, err);
        if (r >= 0 && ret_id)
                *ret_id = xstrdup(img.id);
        if (r < 0)
                error_prefix(err, "image %s", manifest);
        store_image_clear(&img);
        image_config_clear(&cfg);
        manifest_clear(&m);
        return r;
}

int image_lookup(struct store *s, const char *what, struct store_image *ret, char **ret_name, struct error *err)
{
        _cleanup_free_ char *full = image_ref_normalize(what);
        int r;

        if (full && store_image_find(s, full, ret, NULL) >= 0) {
                if (ret_name)
                        *ret_name = TAKE_PTR(full);
                return 0;
        }
        r = store_image_find(s, what, ret, err);
        if (r >= 0 && ret_name)
                *ret_name = NULL;
        return r;
}
