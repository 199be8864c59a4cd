/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "image/image.h"
#include "image/manifest.h"
#include "image/parallel.h"
#include "image/reference.h"
#include "image/regconf.h"
#include "image/registry.h"
#include "image/store-internal.h"

/* `pull`: manifest (through an index for the platform), config, then the
 * layers, up to MAX_DOWNLOADS at a time (Docker's default of 3), each
 * thread with its own registry client; every blob verified on its way into
 * the store, a broken download resumed by the next pull.  A repository
 * with mirrors (registries.conf) is fetched from the first of them that
 * has it whole, else from its registry; the image is recorded under the
 * name that was asked for either way. */

#define MAX_DOWNLOADS_DEFAULT 3
#define MAX_DOWNLOADS_LIMIT 16

/* Fetching from one source: a mirror or the registry itself. */
struct puller {
        struct store *s;
        struct registry *reg;       /* the calling thread's */
        struct registry_opts ro;    /* to make one per download thread */
        const char *repo;           /* path at the source: "library/busybox" */
        const struct pull_opts *o;
};

static void event(const struct puller *pl, const char *id, const char *what)
{
        const struct image_progress *p = pl->o->progress;

        if (p && p->event)
                p->event(id, what, p->userdata);
}

/* What the registry's progress callback needs: the blob it is about. */
struct blob_progress {
        const struct image_progress *p;
        const char *id;
};

static void on_bytes(uint64_t done, uint64_t total, void *userdata)
{
        const struct blob_progress *bp = userdata;

        if (bp->p && bp->p->bytes)
                bp->p->bytes(bp->id, done, total, bp->p->userdata);
}

bool image_insecure(const char *const *insecure, const char *domain)
{
        for (; insecure && *insecure; insecure++)
                if (strcmp(*insecure, domain) == 0)
                        return true;
        return false;
}

/* Fetch blob D into the store with REG (the calling thread's own client),
 * resuming what an earlier pull left in the ingest directory.  LAYER:
 * report it (configs are not shown). */
static int fetch_blob(struct puller *pl, struct registry *reg, const struct descriptor *d, bool layer,
                      struct error *err)
{
        struct blob_progress bp = { .p = layer ? pl->o->progress : NULL, .id = d->digest };
        _cleanup_close_ int fd = -EBADF;
        int r;

        if (!store_blob_exists(pl->s, d->digest)) {
                fd = store_ingest_open(pl->s, d->digest, err);
                if (fd < 0)
                        return fd;
        }
        /* a concurrent pull may have finished it while we waited for the lock */
        if (store_blob_exists(pl->s, d->digest)) {
                if (layer)
                        event(pl, d->digest, "Already exists");
                return 0;
        }
        if (layer)
                event(pl, d->digest, "Downloading");
        r = registry_get_blob(reg, pl->repo, d->digest, d->size, fd, on_bytes, &bp, err);
        if (r >= 0)
                r = store_ingest_commit(pl->s, fd, d->digest, d->size, err);
        if (r >= 0 && layer)
                event(pl, d->digest, "Download complete");
        return r;
}

/* ---- layers in parallel ---- */

struct layer_job {
        struct puller *pl;
        const struct descriptor **todo;
};

/* A download that is under way when another fails is let finish (the
 * registry client cannot be interrupted); it stays in the store for the
 * next pull. */
static int fetch_one(size_t i, struct registry *reg, void *ctx, struct error *err)
{
        struct layer_job *j = ctx;

        return fetch_blob(j->pl, reg, j->todo[i], true, err);
}

static size_t max_downloads(const struct pull_opts *o)
{
        size_t k = o->max_downloads ? o->max_downloads : MAX_DOWNLOADS_DEFAULT;

        return k > MAX_DOWNLOADS_LIMIT ? MAX_DOWNLOADS_LIMIT : k;
}

static int fetch_layers(struct puller *pl, const struct descriptor **todo, size_t n, struct error *err)
{
        struct layer_job j = { .pl = pl, .todo = todo };

        return parallel_run(pl->reg, &pl->ro, n, max_downloads(pl->o), fetch_one, &j, err);
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
                          char ret_manifest[DIGEST_BUF_SIZE], struct error *err)
{
        _cleanup_free_ char *mbody = NULL, *mtype = NULL;
        const struct pull_opts *o = pl->o;
        const char *os = o->os ? o->os : "linux", *arch = o->arch ? o->arch : default_arch();
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
        d = image_index_select(&idx, os, arch, o->variant);
        if (!d)
                r = error_setx(err, ENOENT, "no image for %s/%s in the index", os, arch);
        if (r >= 0)
                r = registry_get_manifest(pl->reg, pl->repo, d->digest, &mbody, &mlen, &mtype, ret_manifest, err);
        if (r >= 0)
                r = store_blob_put(pl->s, mbody, mlen, ret_manifest, NULL, err);
        image_index_clear(&idx);
        return r;
}

/* The layers of M to download (each blob once), reporting the others. */
static const struct descriptor **layers_todo(struct puller *pl, const struct manifest *m, size_t *ret_n)
{
        const struct descriptor **todo = xzalloc((m->n_layers + 1) * sizeof(*todo));
        size_t n = 0;

        for (size_t i = 0; i < m->n_layers; i++) {
                const struct descriptor *d = &m->layers[i];
                bool dup = false;

                for (size_t j = 0; j < i && !dup; j++)
                        dup = strcmp(m->layers[j].digest, d->digest) == 0;
                if (dup)
                        continue;
                if (store_blob_exists(pl->s, d->digest)) {
                        event(pl, d->digest, "Already exists");
                        continue;
                }
                event(pl, d->digest, "Pulling fs layer");
                todo[n++] = d;
        }
        *ret_n = n;
        return todo;
}

static int fetch_content(struct puller *pl, const char *manifest, struct error *err)
{
        _cleanup_free_ const struct descriptor **todo = NULL;
        _cleanup_free_ char *raw = NULL;
        struct manifest m = {};
        size_t len = 0, n = 0;
        int r;

        r = store_blob_read(pl->s, manifest, 16u << 20, &raw, &len, err);
        if (r >= 0)
                r = manifest_parse(raw, len, &m, err);
        /* refuse what cannot be unpacked before downloading anything */
        for (size_t i = 0; r >= 0 && i < m.n_layers; i++)
                if (layer_compression_from_media_type(m.layers[i].media_type) < 0)
                        r = error_setx(err, EPROTONOSUPPORT, "layer %s: unsupported media type `%s`",
                                       m.layers[i].digest, m.layers[i].media_type);
        if (r >= 0)
                r = fetch_blob(pl, pl->reg, &m.config, false, err);
        if (r >= 0) {
                todo = layers_todo(pl, &m, &n);
                r = fetch_layers(pl, todo, n, err);
        }
        manifest_clear(&m);
        return r;
}

/* ---- sources: mirrors, then the registry ---- */

/* Fetch the manifest REF names and everything it needs from SRC.
 * *RET_DIGEST: the digest of what REF names (an index or the manifest);
 * *RET_MANIFEST: the image's manifest. */
static int fetch_from(struct store *s, const struct image_ref *ref, const struct regconf_source *src,
                      const struct pull_opts *o, char ret_digest[DIGEST_BUF_SIZE],
                      char ret_manifest[DIGEST_BUF_SIZE], struct error *err)
{
        struct puller pl = { .s = s, .repo = src->path, .o = o,
                             .ro = { .domain = src->domain, .auth_file = o->auth_file,
                                     .insecure = src->insecure || image_insecure(o->insecure, src->domain) } };
        _cleanup_free_ char *body = NULL, *type = NULL, *full = image_ref_full(ref), *what = NULL;
        size_t len = 0;
        int r;

        r = registry_new(&pl.ro, &pl.reg, err);
        if (r < 0)
                return r;
        what = src->mirror ? xasprintf("Pulling from mirror %s/%s", src->domain, src->path) : xstrdup("Pulling");
        event(&pl, full, what);
        r = registry_get_manifest(pl.reg, src->path, ref->digest ? ref->digest : ref->tag, &body, &len, &type,
                                  ret_digest, err);
        if (r >= 0)
                r = fetch_manifest(&pl, body, len, type, ret_digest, ret_manifest, err);
        if (r >= 0)
                r = fetch_content(&pl, ret_manifest, err);
        registry_free(pl.reg);
        return r;
}

/* Pull REF (a full reference): from the first source that has it whole;
 * a source that fails is passed over unless it is the last.  Recorded
 * under REF's name and repository, wherever it came from. */
static int pull_ref(struct store *s, const struct image_ref *ref, const struct pull_opts *o, char **ret_id,
                    struct error *err)
{
        _cleanup_free_ char *full = NULL, *repo = NULL, *repo_digest = NULL;
        char digest[DIGEST_BUF_SIZE], manifest[DIGEST_BUF_SIZE];
        struct regconf_source *src = NULL;
        size_t n = 0;
        int r;

        r = regconf_sources(o->conf, ref->domain, ref->path, ref->digest != NULL, &src, &n, err);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                struct error skipped = ERROR_INIT;

                r = fetch_from(s, ref, &src[i], o, digest, manifest, i + 1 == n ? err : &skipped);
                error_clear(&skipped);
                if (r >= 0)
                        break;
        }
        regconf_sources_free(src, n);
        if (r < 0)
                return r;
        full = image_ref_full(ref);
        repo = image_ref_repo(ref);
        repo_digest = xasprintf("%s@%s", repo, digest);
        /* by digest only: the image has no tag to be listed under */
        return image_register(s, manifest, ref->tag ? full : NULL, repo_digest, o->progress, ret_id, err);
}

/* The registries a short name is looked for in: the caller's list, else
 * the configuration's, else Docker Hub. */
static int search_list(const struct pull_opts *o, const char *what, const char *const **ret, struct error *err)
{
        static const char *const docker_io[] = { "docker.io", NULL };

        if (o->registries && o->registries[0])
                *ret = o->registries;
        else if (o->conf && o->conf->search && o->conf->search[0])
                *ret = (const char *const *) o->conf->search;
        else if (o->conf && o->conf->search)
                return error_setx(err, EINVAL, "short name `%s`: no unqualified-search-registries in %s", what,
                                  o->conf->path ? o->conf->path : "the registries configuration");
        else
                *ret = docker_io;
        return 0;
}

/* A short name: the registries in order, the first that has it.  Only a
 * miss (ENOENT) moves on: an unreachable registry is an error. */
static int pull_search(struct store *s, const struct image_ref *ref, const char *what, const struct pull_opts *o,
                       char **ret_id, char **ret_name, struct error *err)
{
        const char *const *domains = NULL;
        int r;

        r = search_list(o, what, &domains, err);
        for (size_t i = 0; r >= 0 && domains[i]; i++) {
                struct image_ref cand = {};
                struct error miss = ERROR_INIT;
                bool last = !domains[i + 1];

                if (image_ref_with_domain(ref, domains[i], &cand) < 0) {
                        r = last ? error_setx(err, EINVAL, "short name `%s`: invalid search registry `%s`", what,
                                              domains[i])
                                 : 0;
                        continue;
                }
                r = pull_ref(s, &cand, o, ret_id, last ? err : &miss);
                if (r >= 0 && ret_name)
                        *ret_name = image_ref_full(&cand);
                image_ref_clear(&cand);
                if (r >= 0)
                        return r;
                if (r == -ENOENT && !last) {
                        error_clear(&miss);
                        r = 0;
                        continue;
                }
                if (miss.msg && err && !err->msg)
                        *err = miss;
                else
                        error_clear(&miss);
        }
        return r;
}

int image_pull(struct store *s, const char *what, const struct pull_opts *o, char **ret_id, char **ret_name,
               struct error *err)
{
        struct image_ref ref = {};
        int r;

        r = image_ref_parse(what, &ref, err);
        if (r < 0)
                return r;
        r = store_lease(s, err);
        if (r >= 0 && ref.short_name)
                r = pull_search(s, &ref, what, o, ret_id, ret_name, err);
        else if (r >= 0) {
                r = pull_ref(s, &ref, o, ret_id, err);
                if (r >= 0 && ret_name)
                        *ret_name = image_ref_full(&ref);
        }
        image_ref_clear(&ref);
        if (r < 0) {
                /* no trace of a failed pull but what a retry resumes from */
                store_lease_release(s);
                (void) store_gc(s, STORE_GC_KEEP_INGEST, NULL);
        }
        return r;
}
