/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image/image.h"
#include "image/parallel.h"
#include "image/reference.h"
#include "image/registry.h"
#include "image/store-internal.h"

/* `push`: every blob the registry lacks (a HEAD first, a cross-repository
 * mount when the image came from another repository of that registry),
 * then the manifest exactly as stored, so that its digest is kept. */

struct pusher {
        struct store *s;
        struct registry *reg;    /* the calling thread's */
        struct registry_opts ro; /* to make one per upload thread */
        const char *repo;
        const char *from; /* a repository of the same registry that has the blobs, or NULL */
        const struct image_progress *p;
        const struct store_image *img;
};

/* Docker's default number of uploads at once. */
#define MAX_UPLOADS 5

static void event(const struct pusher *pu, const char *id, const char *what)
{
        if (pu->p && pu->p->event)
                pu->p->event(id, what, pu->p->userdata);
}

/* Progress of one blob (uploads run in parallel). */
struct blob_progress {
        const struct pusher *pu;
        const char *digest;
};

static void on_bytes(uint64_t done, uint64_t total, void *userdata)
{
        const struct blob_progress *bp = userdata;

        if (bp->pu->p && bp->pu->p->bytes)
                bp->pu->p->bytes(bp->digest, done, total, bp->pu->p->userdata);
}

static int push_blob(const struct pusher *pu, struct registry *reg, const char *d, struct error *err)
{
        struct blob_progress bp = { .pu = pu, .digest = d };
        _cleanup_close_ int fd = -EBADF;
        struct stat st;
        int r;

        r = registry_blob_exists(reg, pu->repo, d, err);
        if (r < 0)
                return r;
        if (r > 0) {
                event(pu, d, "Layer already exists");
                return 0;
        }
        fd = store_blob_open(pu->s, d, err);
        if (fd < 0)
                return fd;
        if (fstat(fd, &st) < 0)
                return error_set(err, errno, "stat blob %s", d);
        event(pu, d, "Pushing");
        r = registry_put_blob(reg, pu->repo, d, fd, (uint64_t) st.st_size, pu->from, 0, on_bytes, &bp, err);
        if (r >= 0)
                event(pu, d, "Pushed");
        return r;
}

static int push_layer(size_t i, struct registry *reg, void *ctx, struct error *err)
{
        const struct pusher *pu = ctx;

        return push_blob(pu, reg, pu->img->layers[i].blob, err);
}

/* A repository of DOMAIN the image was pulled from or pushed to (for a
 * cross-repository mount), or NULL. */
static char *mount_source(const struct store_image *img, const struct image_ref *dest)
{
        size_t dl = strlen(dest->domain);

        for (char **d = img->digests; d && *d; d++) {
                const char *at = strrchr(*d, '@');
                if (strncmp(*d, dest->domain, dl) == 0 && (*d)[dl] == '/' && at) {
                        char *repo = xstrndup(*d + dl + 1, (size_t) (at - *d - (ptrdiff_t) dl - 1));
                        if (strcmp(repo, dest->path) != 0)
                                return repo;
                        free(repo);
                }
        }
        return NULL;
}

static int push_image(struct store *s, const struct store_image *img, const struct image_ref *dest,
                      const struct push_opts *o, struct error *err)
{
        _cleanup_free_ char *from = mount_source(img, dest), *body = NULL;
        struct pusher pu = { .s = s, .repo = dest->path, .from = from, .p = o->progress, .img = img };
        size_t len = 0;
        int r;

        pu.ro = (struct registry_opts) { .domain = dest->domain, .auth_file = o->auth_file,
                                         .insecure = image_insecure(o->insecure, dest->domain) };
        r = registry_new(&pu.ro, &pu.reg, err);
        if (r < 0)
                return r;
        /* the layers (several at once), then the config, then the manifest
         * that names them */
        r = parallel_run(pu.reg, &pu.ro, img->n_layers, MAX_UPLOADS, push_layer, &pu, err);
        if (r >= 0)
                r = push_blob(&pu, pu.reg, img->id, err);
        if (r >= 0)
                r = store_blob_read(s, img->manifest, 16u << 20, &body, &len, err);
        if (r >= 0)
                r = registry_put_manifest(pu.reg, dest->path, dest->tag ? dest->tag : img->manifest, img->manifest_type,
                                          body, len, err);
        registry_free(pu.reg);
        return r;
}

int image_push(struct store *s, const char *what, const char *dest, const struct push_opts *o, char **ret_digest,
               struct error *err)
{
        _cleanup_free_ char *full = NULL, *repo = NULL, *rd = NULL;
        struct store_image img = {};
        struct image_ref ref = {};
        int r;

        r = image_ref_parse(dest ? dest : what, &ref, err);
        if (r < 0)
                return r;
        if (ref.digest) {
                image_ref_clear(&ref);
                return error_setx(err, EINVAL, "push to `%s`: give a tag, not a digest", dest ? dest : what);
        }
        full = image_ref_full(&ref);
        /* the local image: by that name, else WHAT as a name or id */
        r = store_image_find(s, full, &img, NULL);
        if (r < 0)
                r = image_lookup(s, what, &img, NULL, err);
        if (r >= 0)
                r = push_image(s, &img, &ref, o, err);
        if (r >= 0) {
                repo = image_ref_repo(&ref);
                rd = xasprintf("%s@%s", repo, img.manifest);
                r = store_image_add(s, &img, NULL, rd, err);
        }
        if (r >= 0 && ret_digest)
                *ret_digest = xstrdup(img.manifest);
        store_image_clear(&img);
        image_ref_clear(&ref);
        return r;
}
