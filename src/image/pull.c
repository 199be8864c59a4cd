/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "image/image.h"
#include "image/manifest.h"
#include "image/reference.h"
#include "image/registry.h"
#include "image/store-internal.h"

/* `pull`: manifest (through an index for the platform), config, layers;
 * each blob verified on its way into the store, a broken download
 * resumed by the next pull. */

struct puller {
        struct store *s;
        struct registry *reg;
        const char *repo; /* path in the registry: "library/busybox" */
        const struct image_progress *p;
        const char *cur;  /* the blob being fetched, for progress */
};

static void event(const struct puller *pl, const char *id, const char *what)
{
        if (pl->p && pl->p->event)
                pl->p->event(id, what, pl->p->userdata);
}

static void on_bytes(uint64_t done, uint64_t total, void *userdata)
{
        const struct puller *pl = userdata;

        if (pl->p && pl->p->bytes)
                pl->p->bytes(pl->cur, done, total, pl->p->userdata);
}

bool image_insecure(const char *const *insecure, const char *domain)
{
        for (; insecure && *insecure; insecure++)
                if (strcmp(*insecure, domain) == 0)
                        return true;
        return false;
}

/* Fetch blob D of SIZE into the store, resuming what an earlier pull
 * left in the ingest directory. */
static int fetch_blob(struct puller *pl, const char *d, int64_t size, struct error *err)
{
        _cleanup_close_ int fd = -EBADF;
        int r;

        if (store_blob_exists(pl->s, d)) {
                event(pl, d, "Already exists");
                return 0;
        }
        fd = store_ingest_open(pl->s, d, err);
        if (fd < 0)
                return fd;
        /* a concurrent pull may have finished it while we waited for the lock */
        if (store_blob_exists(pl->s, d)) {
                event(pl, d, "Already exists");
                return 0;
        }
        pl->cur = d;
        event(pl, d, "Downloading");
        r = registry_get_blob(pl->reg, pl->repo, d, size, fd, on_bytes, pl, err);
        if (r >= 0)
                r = store_ingest_commit(pl->s, fd, d, size, err);
        if (r >= 0)
                event(pl, d, "Download complete");
        return r;
}

static const char *default_arch(void)
{
        struct utsname u;

        if (uname(&u) == 0 && strcmp(u.machine, "aarch64") == 0)
                return "arm64";
        return "amd64";
}

/* Resolve an index to the manifest for the platform; fetch and store the
 * manifest.  *RET_MANIFEST: its digest. */
static int fetch_manifest(struct puller *pl, const char *body, size_t len, const char *type, const char *digest,
                          const struct pull_opts *o, char ret_manifest[DIGEST_BUF_SIZE], struct error *err)
{
        _cleanup_free_ char *mbody = NULL, *mtype = NULL;
        struct image_index idx = {};
        const struct descriptor *d;
        size_t mlen = 0;
        int r;

        r = store_blob_put(pl->s, body, len, digest, NULL, err);
        if (r < 0)
                return r;
        if (strcmp(type, MT_OCI_INDEX) != 0 && strcmp(type, MT_DOCKER_LIST) != 0) {
                memcpy(ret_manifest, digest, DIGEST_BUF_SIZE);
                return 0;
        }
        r = image_index_parse(body, len, &idx, err);
        if (r < 0)
                return r;
        d = image_index_select(&idx, o->os ? o->os : "linux", o->arch ? o->arch : default_arch(), o->variant);
        if (!d)
                r = error_setx(err, ENOENT, "no image for %s/%s in the index", o->os ? o->os : "linux",
                               o->arch ? o->arch : default_arch());
        if (r >= 0)
                r = registry_get_manifest(pl->reg, pl->repo, d->digest, &mbody, &mlen, &mtype, ret_manifest, err);
        if (r >= 0)
                r = store_blob_put(pl->s, mbody, mlen, ret_manifest, NULL, err);
        image_index_clear(&idx);
        return r;
}

static int fetch_content(struct puller *pl, const char *manifest, struct error *err)
{
        _cleanup_free_ char *raw = NULL;
        struct manifest m = {};
        size_t len = 0;
        int r;

        r = store_blob_read(pl->s, manifest, 16u << 20, &raw, &len, err);
        if (r >= 0)
                r = manifest_parse(raw, len, &m, err);
        if (r >= 0)
                r = fetch_blob(pl, m.config.digest, m.config.size, err);
        for (size_t i = 0; r >= 0 && i < m.n_layers; i++) {
                if (layer_compression_from_media_type(m.layers[i].media_type) < 0)
                        r = error_setx(err, EPROTONOSUPPORT, "layer %s: unsupported media type `%s`",
                                       m.layers[i].digest, m.layers[i].media_type);
                else
                        r = fetch_blob(pl, m.layers[i].digest, m.layers[i].size, err);
        }
        manifest_clear(&m);
        return r;
}

/* Pull REF from the registry in REF's domain. */
static int pull_from(struct store *s, const struct image_ref *ref, const struct pull_opts *o, char **ret_id,
                     struct error *err)
{
        struct registry_opts ro = { .domain = ref->domain, .auth_file = o->auth_file,
                                    .insecure = image_insecure(o->insecure, ref->domain) };
        _cleanup_free_ char *body = NULL, *type = NULL, *full = image_ref_full(ref), *repo = image_ref_repo(ref);
        _cleanup_free_ char *repo_digest = NULL;
        char digest[DIGEST_BUF_SIZE], manifest[DIGEST_BUF_SIZE];
        struct puller pl = { .s = s, .repo = ref->path, .p = o->progress };
        size_t len = 0;
        int r;

        r = registry_new(&ro, &pl.reg, err);
        if (r < 0)
                return r;
        event(&pl, full, "Pulling");
        r = registry_get_manifest(pl.reg, ref->path, ref->digest ? ref->digest : ref->tag, &body, &len, &type, digest,
                                  err);
        if (r >= 0)
                r = fetch_manifest(&pl, body, len, type, digest, o, manifest, err);
        if (r >= 0)
                r = fetch_content(&pl, manifest, err);
        if (r >= 0) {
                repo_digest = xasprintf("%s@%s", repo, digest);
                /* by digest only: the image has no tag to be listed under */
                r = image_register(s, manifest, ref->tag ? full : NULL, repo_digest, o->progress, ret_id, err);
        }
        registry_free(pl.reg);
        return r;
}

int image_pull(struct store *s, const char *what, const struct pull_opts *o, char **ret_id, char **ret_name,
               struct error *err)
{
        static const char *const docker_io[] = { "docker.io", NULL };
        const char *const *domains;
        struct image_ref ref = {};
        int r;

        r = image_ref_parse(what, &ref, err);
        if (r < 0)
                return r;
        r = store_lease(s, err);
        domains = ref.short_name ? (o->registries && o->registries[0] ? o->registries : docker_io) : NULL;
        if (r >= 0 && !domains)
                r = pull_from(s, &ref, o, ret_id, err);
        /* a short name: the registries in order, the first that has it */
        for (size_t i = 0; r >= 0 && domains && domains[i]; i++) {
                struct image_ref cand = {};
                struct error miss = ERROR_INIT;

                if (image_ref_with_domain(&ref, domains[i], &cand) < 0)
                        continue;
                r = pull_from(s, &cand, o, ret_id, domains[i + 1] ? &miss : err);
                if (r >= 0 && ret_name)
                        *ret_name = image_ref_full(&cand);
                image_ref_clear(&cand);
                if (r >= 0)
                        break;
                if (r == -ENOENT && domains[i + 1]) {
                        error_clear(&miss);
                        r = 0;
                        continue;
                }
                if (miss.msg)
                        *err = miss;
                break;
        }
        if (r >= 0 && !domains && ret_name)
                *ret_name = image_ref_full(&ref);
        image_ref_clear(&ref);
        if (r < 0) {
                /* no trace of a failed pull but what a retry resumes from */
                store_lease_release(s);
                (void) store_gc(s, STORE_GC_KEEP_INGEST, NULL);
        }
        return r;
}
