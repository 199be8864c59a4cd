/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "basic/fileio.h"
#include "image/image.h"
#include "image/manifest.h"
#include "image/reference.h"
#include "image/store-internal.h"

/* `load` and `save`: docker-archive (manifest.json, Docker's `save`) and
 * OCI image layouts (index.json + blobs/sha256), in one tar. */

#define JSON_MAX (16u << 20)

/* Every regular file of the archive, stored as a blob as it streams by;
 * small JSON files are also kept in memory by name. */
struct member {
        char *path;
        char digest[DIGEST_BUF_SIZE];
        uint64_t size;
        char *json; /* manifest.json, index.json, oci-layout, …: NULL otherwise */
};

struct members {
        struct member *v;
        size_t n;
};

static void members_clear(struct members *m)
{
        for (size_t i = 0; i < m->n; i++) {
                free(m->v[i].path);
                free(m->v[i].json);
        }
        free(m->v);
        *m = (struct members) {};
}

static const struct member *member_find(const struct members *m, const char *path)
{
        if (strncmp(path, "./", 2) == 0)
                path += 2;
        for (size_t i = 0; i < m->n; i++)
                if (strcmp(m->v[i].path, path) == 0)
                        return &m->v[i];
        return NULL;
}

static bool wants_json(const char *path)
{
        return strcmp(path, "manifest.json") == 0 || strcmp(path, "index.json") == 0 ||
               strcmp(path, "oci-layout") == 0 || strcmp(path, "repositories") == 0;
}

/* Docker's legacy per-layer files: nothing an image needs. */
static bool skipped(const char *path)
{
        const char *base = strrchr(path, '/');

        return base && (strcmp(base, "/VERSION") == 0 || strcmp(base, "/json") == 0);
}

static int entry_to_memory(struct archive *a, struct member *mb, struct error *err)
{
        size_t cap = 4096, len = 0;
        char *buf = xmalloc(cap);
        la_ssize_t n;

        while ((n = archive_read_data(a, buf + len, cap - len - 1)) > 0) {
                len += (size_t) n;
                if (len + 1 >= cap) {
                        if (cap >= JSON_MAX) {
                                free(buf);
                                return error_setx(err, EFBIG, "`%s` in the archive is too large", mb->path);
                        }
                        cap *= 2;
                        buf = xrealloc(buf, cap);
                }
        }
        if (n < 0) {
                free(buf);
                return error_setx(err, EIO, "read `%s` from the archive: %s", mb->path, archive_error_string(a));
        }
        buf[len] = 0;
        mb->json = buf;
        mb->size = len;
        return 0;
}

/* Stream the current entry of A into a new blob. */
static int entry_to_blob(struct store *s, struct archive *a, struct member *mb, struct error *err)
{
        struct store_writer w;
        const void *buf;
        size_t len;
        la_int64_t off;
        int r, rc;

        r = store_blob_begin(s, &w, err);
        if (r < 0)
                return r;
        while ((rc = archive_read_data_block(a, &buf, &len, &off)) == ARCHIVE_OK) {
                /* sparse members: fill the holes */
                off_t at = lseek(w.fd, 0, SEEK_CUR);
                if (at >= 0 && off > at && ftruncate(w.fd, off) == 0)
                        (void) lseek(w.fd, off, SEEK_SET);
                r = write_all(w.fd, buf, len);
                if (r < 0) {
                        store_blob_abort(s, &w);
                        return error_set(err, -r, "store `%s`", mb->path);
                }
        }
        if (rc != ARCHIVE_EOF) {
                store_blob_abort(s, &w);
                return error_setx(err, EIO, "read `%s` from the archive: %s", mb->path, archive_error_string(a));
        }
        return store_blob_finish(s, &w, NULL, mb->digest, &mb->size, err);
}

static int read_members(struct store *s, int fd, struct members *ret, struct error *err)
{
        struct archive *a = archive_read_new();
        struct archive_entry *e;
        int rc, r = 0;

        archive_read_support_filter_all(a);
        archive_read_support_format_tar(a);
        if (archive_read_open_fd(a, fd, 65536) != ARCHIVE_OK) {
                r = error_setx(err, EINVAL, "not an image archive: %s", archive_error_string(a));
                goto out;
        }
        while (r >= 0 && (rc = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
                const char *p = archive_entry_pathname(e);
                struct member *mb;

                if (archive_entry_filetype(e) != AE_IFREG || !p)
                        continue;
                if (strncmp(p, "./", 2) == 0)
                        p += 2;
                if (skipped(p))
                        continue;
                ret->v = xrealloc(ret->v, (ret->n + 1) * sizeof(*ret->v));
                mb = &ret->v[ret->n++];
                *mb = (struct member) { .path = xstrdup(p) };
                /* the archive's own index files are no blobs of an image */
                r = wants_json(mb->path) ? entry_to_memory(a, mb, err) : entry_to_blob(s, a, mb, err);
        }
        if (r >= 0 && rc != ARCHIVE_EOF)
                r = error_setx(err, EINVAL, "read the archive: %s", archive_error_string(a));
out:
        archive_read_free(a);
        return r;
}

static void names_add(char ***names, size_t *n, const char *name)
{
        *names = xrealloc(*names, (*n + 2) * sizeof(char *));
        (*names)[(*n)++] = xstrdup(name);
        (*names)[*n] = NULL;
}

/* A name from an archive: a full reference, or NULL when it is not one
 * (a bare "latest": an OCI ref.name may be only a tag; or a digest). */
static char *full_name(const char *name)
{
        if (!name || !strpbrk(name, ":/") || strchr(name, '@'))
                return NULL;
        return image_ref_normalize(name);
}

/* ---- OCI layout ---- */

static const char *annotation(const struct descriptor *d, const char *key)
{
        for (char **a = d->annotations; a && a[0] && a[1]; a += 2)
                if (strcmp(a[0], key) == 0)
                        return a[1];
        return NULL;
}

static int load_oci_manifest(struct store *s, const struct descriptor *d, const struct image_progress *p,
                             char ***names, size_t *n, struct error *err)
{
        const char *ref = annotation(d, "io.containerd.image.name");
        _cleanup_free_ char *name = full_name(ref ? ref : annotation(d, "org.opencontainers.image.ref.name"));
        _cleanup_free_ char *id = NULL;
        int r;

        r = image_register(s, d->digest, name, NULL, p, &id, err);
        if (r < 0)
                return r;
        names_add(names, n, name ? name : id);
        return 0;
}

static int load_oci(struct store *s, const struct member *index, const struct image_progress *p, char ***names,
                    size_t *n, struct error *err)
{
        struct image_index idx = {};
        int r;

        r = image_index_parse(index->json, strlen(index->json), &idx, err);
        if (r < 0)
                return error_prefix(err, "index.json");
        for (size_t i = 0; r >= 0 && i < idx.n_manifests; i++) {
                const struct descriptor *d = &idx.manifests[i];

                if (strcmp(d->media_type, MT_OCI_MANIFEST) == 0 || strcmp(d->media_type, MT_DOCKER_MANIFEST) == 0)
                        r = load_oci_manifest(s, d, p, names, n, err);
                /* nested indexes (multi-platform): not loaded, like Docker */
        }
        image_index_clear(&idx);
        return r;
}

/* ---- docker-archive ---- */

/* The layer media type for a member: compressed or not, from its bytes. */
static const char *docker_layer_type(struct store *s, const char *digest)
{
        _cleanup_close_ int fd = store_blob_open(s, digest, NULL);
        unsigned char magic[4] = {};

        if (fd >= 0 && read(fd, magic, sizeof(magic)) == (ssize_t) sizeof(magic)) {
                if (magic[0] == 0x1f && magic[1] == 0x8b)
                        return MT_OCI_LAYER_GZIP;
                if (magic[0] == 0x28 && magic[1] == 0xb5 && magic[2] == 0x2f && magic[3] == 0xfd)
                        return MT_OCI_LAYER_ZSTD;
        }
        return MT_OCI_LAYER;
}

/* Write an OCI manifest for a docker-archive entry and store it. */
static int docker_manifest(struct store *s, const struct members *m, json_object *entry, char ret[DIGEST_BUF_SIZE],
                           struct error *err)
{
        json_object *cfg = NULL, *layers = NULL;
        const struct member *c;
        struct manifest man = { .media_type = (char *) MT_OCI_MANIFEST };
        _cleanup_free_ char *json = NULL;
        size_t n;
        int r = 0;

        if (!json_object_object_get_ex(entry, "Config", &cfg) || !json_object_is_type(cfg, json_type_string) ||
            !(c = member_find(m, json_object_get_string(cfg))))
                return error_setx(err, EINVAL, "manifest.json: Config: missing or not in the archive");
        if (!json_object_object_get_ex(entry, "Layers", &layers) || !json_object_is_type(layers, json_type_array))
                return error_setx(err, EINVAL, "manifest.json: Layers: missing");
        n = json_object_array_length(layers);
        man.config = (struct descriptor) { .media_type = (char *) MT_OCI_CONFIG, .digest = (char *) c->digest,
                                           .size = (int64_t) c->size };
        man.layers = xzalloc((n + 1) * sizeof(*man.layers));
        man.n_layers = n;
        for (size_t i = 0; i < n && r >= 0; i++) {
                json_object *l = json_object_array_get_idx(layers, i);
                const struct member *lm = json_object_is_type(l, json_type_string)
                                                  ? member_find(m, json_object_get_string(l))
                                                  : NULL;
                if (!lm)
                        r = error_setx(err, EINVAL, "manifest.json: Layers[%zu]: not in the archive", i);
                else
                        man.layers[i] = (struct descriptor) { .media_type = (char *) docker_layer_type(s, lm->digest),
                                                              .digest = (char *) lm->digest,
                                                              .size = (int64_t) lm->size };
        }
        if (r >= 0) {
                json = manifest_to_json(&man);
                r = store_blob_put(s, json, strlen(json), NULL, ret, err);
        }
        free(man.layers);
        return r;
}

static int load_docker_entry(struct store *s, const struct members *m, json_object *entry,
                             const struct image_progress *p, char ***names, size_t *n, struct error *err)
{
        json_object *tags = NULL;
        char manifest[DIGEST_BUF_SIZE];
        _cleanup_free_ char *id = NULL;
        size_t ntags;
        int r;

        r = docker_manifest(s, m, entry, manifest, err);
        if (r < 0)
                return r;
        if (!json_object_object_get_ex(entry, "RepoTags", &tags) || !json_object_is_type(tags, json_type_array))
                tags = NULL;
        ntags = tags ? json_object_array_length(tags) : 0;
        r = image_register(s, manifest, NULL, NULL, p, &id, err);
        for (size_t i = 0; r >= 0 && i < ntags; i++) {
                json_object *t = json_object_array_get_idx(tags, i);
                _cleanup_free_ char *name = full_name(json_object_is_type(t, json_type_string)
                                                              ? json_object_get_string(t)
                                                              : NULL);
                if (!name)
                        return error_setx(err, EINVAL, "manifest.json: RepoTags[%zu]: not an image name", i);
                r = store_tag(s, id, name, err);
                if (r >= 0)
                        names_add(names, n, json_object_get_string(t));
        }
        if (r >= 0 && ntags == 0)
                names_add(names, n, id);
        return r;
}

static int load_docker(struct store *s, const struct members *m, const struct member *mj,
                       const struct image_progress *p, char ***names, size_t *n, struct error *err)
{
        json_object *root = json_tokener_parse(mj->json);
        int r = 0;

        if (!root || !json_object_is_type(root, json_type_array)) {
                json_object_put(root);
                return error_setx(err, EINVAL, "manifest.json: not a JSON array");
        }
        for (size_t i = 0; r >= 0 && i < json_object_array_length(root); i++) {
                r = load_docker_entry(s, m, json_object_array_get_idx(root, i), p, names, n, err);
                if (r < 0)
                        error_prefix(err, "manifest.json[%zu]", i);
        }
        json_object_put(root);
        return r;
}

int image_load(struct store *s, int in_fd, const struct image_progress *p, char ***ret_names, struct error *err)
{
        struct members m = {};
        const struct member *mj, *idx;
        char **names = NULL;
        size_t n = 0;
        int r;

        r = store_lease(s, err);
        if (r >= 0)
                r = read_members(s, in_fd, &m, err);
        if (r >= 0) {
                mj = member_find(&m, "manifest.json");
                idx = member_find(&m, "index.json");
                /* both: one of ours (or Docker 25's); the OCI side keeps the digests */
                if (idx && idx->json)
                        r = load_oci(s, idx, p, &names, &n, err);
                else if (mj && mj->json)
                        r = load_docker(s, &m, mj, p, &names, &n, err);
                else
                        r = error_setx(err, EINVAL, "not an image archive: neither manifest.json nor index.json in it");
        }
        if (r >= 0 && n == 0)
                r = error_setx(err, EINVAL, "the archive holds no image");
        members_clear(&m);
        if (r < 0) {
                /* what the archive brought before it broke: gone again */
                store_lease_release(s);
                (void) store_gc(s, 0, NULL);
                strv_free(names);
                return r;
        }
        *ret_names = names;
        return 0;
}

/* ---- save ---- */

struct saver {
        struct store *s;
        struct archive *a;
        char **written; /* blob digests already in the archive */
        size_t n_written;
};

static int add_bytes(struct saver *sv, const char *path, const void *data, size_t len, struct error *err)
{
        struct archive_entry *e = archive_entry_new();
        int rc;

        archive_entry_set_pathname(e, path);
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_perm(e, 0644);
        archive_entry_set_size(e, (la_int64_t) len);
        rc = archive_write_header(sv->a, e);
        if (rc == ARCHIVE_OK && len && archive_write_data(sv->a, data, len) != (la_ssize_t) len)
                rc = ARCHIVE_FATAL;
        archive_entry_free(e);
        if (rc != ARCHIVE_OK)
                return error_setx(err, EIO, "write `%s` into the archive: %s", path, archive_error_string(sv->a));
        return 0;
}

static int add_blob(struct saver *sv, const char *digest, struct error *err)
{
        _cleanup_free_ char *path = xasprintf("blobs/sha256/%s", store_hex(digest));
        _cleanup_close_ int fd = -EBADF;
        struct archive_entry *e;
        struct stat st;
        char buf[65536];
        ssize_t n;
        int rc;

        for (size_t i = 0; i < sv->n_written; i++)
                if (strcmp(sv->written[i], digest) == 0)
                        return 0;
        fd = store_blob_open(sv->s, digest, err);
        if (fd < 0)
                return fd;
        if (fstat(fd, &st) < 0)
                return error_set(err, errno, "stat blob %s", digest);
        e = archive_entry_new();
        archive_entry_set_pathname(e, path);
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_perm(e, 0644);
        archive_entry_set_size(e, st.st_size);
        rc = archive_write_header(sv->a, e);
        archive_entry_free(e);
        while (rc == ARCHIVE_OK && (n = read(fd, buf, sizeof(buf))) > 0)
                if (archive_write_data(sv->a, buf, (size_t) n) != n)
                        rc = ARCHIVE_FATAL;
        if (rc != ARCHIVE_OK)
                return error_setx(err, EIO, "write blob %s into the archive: %s", digest, archive_error_string(sv->a));
        sv->written = xrealloc(sv->written, (sv->n_written + 1) * sizeof(char *));
        sv->written[sv->n_written++] = xstrdup(digest);
        return 0;
}

static int64_t blob_size(struct store *s, const char *digest)
{
        _cleanup_close_ int fd = store_blob_open(s, digest, NULL);
        struct stat st;

        return fd >= 0 && fstat(fd, &st) == 0 ? st.st_size : 0;
}

/* One image: its blobs, an index.json entry and a manifest.json entry. */
static int save_one(struct saver *sv, const struct store_image *img, const char *as, json_object *index,
                    json_object *docker, struct error *err)
{
        json_object *desc = json_object_new_object(), *entry = json_object_new_object();
        json_object *layers = json_object_new_array(), *tags = json_object_new_array();
        _cleanup_free_ char *cfg = xasprintf("blobs/sha256/%s", store_hex(img->id));
        int r;

        r = add_blob(sv, img->id, err);
        if (r >= 0)
                r = add_blob(sv, img->manifest, err);
        for (size_t i = 0; r >= 0 && i < img->n_layers; i++) {
                _cleanup_free_ char *lp = xasprintf("blobs/sha256/%s", store_hex(img->layers[i].blob));

                r = add_blob(sv, img->layers[i].blob, err);
                json_object_array_add(layers, json_object_new_string(lp));
        }
        json_object_object_add(desc, "mediaType", json_object_new_string(img->manifest_type));
        json_object_object_add(desc, "digest", json_object_new_string(img->manifest));
        json_object_object_add(desc, "size", json_object_new_int64(blob_size(sv->s, img->manifest)));
        if (as) {
                json_object *ann = json_object_new_object();
                struct image_ref ref = {};
                struct error ignored = ERROR_INIT;
                json_object_object_add(ann, "io.containerd.image.name", json_object_new_string(as));
                if (image_ref_parse(as, &ref, &ignored) >= 0 && ref.tag) {
                        _cleanup_free_ char *fam = image_ref_familiar(&ref);

                        json_object_object_add(ann, "org.opencontainers.image.ref.name", json_object_new_string(ref.tag));
                        json_object_array_add(tags, json_object_new_string(fam));
                }
                image_ref_clear(&ref);
                error_clear(&ignored);
                json_object_object_add(desc, "annotations", ann);
        }
        json_object_array_add(index, desc);
        json_object_object_add(entry, "Config", json_object_new_string(cfg));
        json_object_object_add(entry, "RepoTags", tags);
        json_object_object_add(entry, "Layers", layers);
        json_object_array_add(docker, entry);
        return r;
}

/* The image WHAT names and the full name to save it as (NULL: by id). */
static int save_resolve(struct store *s, const char *what, struct store_image *img, char **ret_as, struct error *err)
{
        return image_lookup(s, what, img, ret_as, err);
}

static int write_index_files(struct saver *sv, json_object *index, json_object *docker, struct error *err)
{
        json_object *root = json_object_new_object();
        const char *layout = "{\"imageLayoutVersion\":\"1.0.0\"}";
        const char *t;
        int r;

        json_object_object_add(root, "schemaVersion", json_object_new_int(2));
        json_object_object_add(root, "mediaType", json_object_new_string(MT_OCI_INDEX));
        json_object_object_add(root, "manifests", json_object_get(index));
        r = add_bytes(sv, "oci-layout", layout, strlen(layout), err);
        t = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
        if (r >= 0)
                r = add_bytes(sv, "index.json", t, strlen(t), err);
        t = json_object_to_json_string_ext(docker, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
        if (r >= 0)
                r = add_bytes(sv, "manifest.json", t, strlen(t), err);
        json_object_put(root);
        return r;
}

int image_save(struct store *s, const char *const *whats, int out_fd, struct error *err)
{
        struct saver sv = { .s = s, .a = archive_write_new() };
        json_object *index = json_object_new_array(), *docker = json_object_new_array();
        int r = 0;

        archive_write_set_format_pax_restricted(sv.a);
        if (archive_write_open_fd(sv.a, out_fd) != ARCHIVE_OK)
                r = error_setx(err, EIO, "open the archive: %s", archive_error_string(sv.a));
        for (size_t i = 0; r >= 0 && whats[i]; i++) {
                struct store_image img = {};
                _cleanup_free_ char *as = NULL;

                r = save_resolve(s, whats[i], &img, &as, err);
                if (r >= 0)
                        r = save_one(&sv, &img, as, index, docker, err);
                store_image_clear(&img);
        }
        if (r >= 0)
                r = write_index_files(&sv, index, docker, err);
        if (archive_write_close(sv.a) != ARCHIVE_OK && r >= 0)
                r = error_setx(err, EIO, "finish the archive: %s", archive_error_string(sv.a));
        archive_write_free(sv.a);
        json_object_put(index);
        json_object_put(docker);
        for (size_t i = 0; i < sv.n_written; i++)
                free(sv.written[i]);
        free(sv.written);
        return r;
}
