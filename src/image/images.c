/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "image/store-internal.h"

/* ---- images ---------------------------------------------------------- */

void store_image_clear(struct store_image *img)
{
        free(img->id);
        free(img->manifest);
        free(img->manifest_type);
        free(img->created);
        strv_free(img->names);
        strv_free(img->digests);
        for (size_t i = 0; i < img->n_layers; i++) {
                free(img->layers[i].chain_id);
                free(img->layers[i].diff_id);
                free(img->layers[i].blob);
                free(img->layers[i].media_type);
        }
        free(img->layers);
        *img = (struct store_image) {};
}

void store_images_free(struct store_image *imgs, size_t n)
{
        for (size_t i = 0; i < n; i++)
                store_image_clear(&imgs[i]);
        free(imgs);
}

static int add_layers(struct store *s, const struct store_image *img, struct error *err)
{
        for (size_t i = 0; i < img->n_layers; i++) {
                const struct store_layer *l = &img->layers[i];
                sqlite3_stmt *st = NULL;
                int rc, r;

                r = store_sql_prep(s, "INSERT INTO image_layers VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)", NULL, &st, err);
                if (r < 0)
                        return r;
                sqlite3_bind_text(st, 1, img->id, -1, SQLITE_STATIC);
                sqlite3_bind_int64(st, 2, (int64_t) i);
                sqlite3_bind_text(st, 3, l->chain_id, -1, SQLITE_STATIC);
                sqlite3_bind_text(st, 4, l->diff_id, -1, SQLITE_STATIC);
                sqlite3_bind_text(st, 5, l->blob, -1, SQLITE_STATIC);
                sqlite3_bind_text(st, 6, l->media_type ? l->media_type : "", -1, SQLITE_STATIC);
                sqlite3_bind_int64(st, 7, l->size);
                rc = sqlite3_step(st);
                sqlite3_finalize(st);
                if (rc != SQLITE_DONE)
                        return store_sql_error(s, rc, "record a layer", err);
        }
        return 0;
}

static int add_image_row(struct store *s, const struct store_image *img, struct error *err)
{
        sqlite3_stmt *st = NULL;
        int rc, r;
        int64_t size = 0;

        for (size_t i = 0; i < img->n_layers; i++)
                size += img->layers[i].size;
        r = store_sql_prep(s, "INSERT INTO images VALUES (?1, ?2, ?3, ?4, ?5, ?6)", NULL, &st, err);
        if (r < 0)
                return r;
        sqlite3_bind_text(st, 1, img->id, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, img->manifest, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, img->manifest_type, -1, SQLITE_STATIC);
        if (img->created)
                sqlite3_bind_text(st, 4, img->created, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 5, size);
        sqlite3_bind_int64(st, 6, (int64_t) time(NULL));
        rc = sqlite3_step(st);
        sqlite3_finalize(st);
        if (rc != SQLITE_DONE)
                return store_sql_error(s, rc, "record an image", err);
        return add_layers(s, img, err);
}

static int image_known(struct store *s, const char *id, bool *ret, struct error *err)
{
        _cleanup_strv_free_ char **v = NULL;
        int r = store_sql_strv(s, "SELECT id FROM images WHERE id = ?1", (const char *[]) { id, NULL }, &v, err);

        if (r >= 0)
                *ret = v[0] != NULL;
        return r;
}

int store_image_add(struct store *s, const struct store_image *img, const char *name, const char *repo_digest,
                    struct error *err)
{
        bool known = false;
        int r;

        if (!digest_valid(img->id) || !digest_valid(img->manifest))
                return error_setx(err, EINVAL, "image %s: not a digest", img->id);
        r = store_sql_begin(s, err);
        if (r < 0)
                return r;
        r = image_known(s, img->id, &known, err);
        if (r >= 0 && !known)
                r = add_image_row(s, img, err);
        else if (r >= 0) /* the same config pulled through another manifest: keep the first */
                r = 0;
        if (r >= 0 && name)
                r = store_sql_run(s, "INSERT OR REPLACE INTO names VALUES (?1, ?2)", (const char *[]) { name, img->id, NULL },
                        err);
        if (r >= 0 && repo_digest)
                r = store_sql_run(s, "INSERT OR REPLACE INTO repo_digests VALUES (?1, ?2)",
                        (const char *[]) { repo_digest, img->id, NULL }, err);
        return store_sql_commit(s, r, err);
}

static int load_layers(struct store *s, struct store_image *img, struct error *err)
{
        sqlite3_stmt *st = NULL;
        int rc, r;

        r = store_sql_prep(s,
                 "SELECT chain_id, diff_id, blob, media_type, size FROM image_layers WHERE image_id = ?1 ORDER BY idx",
                 (const char *[]) { img->id, NULL }, &st, err);
        if (r < 0)
                return r;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                struct store_layer *l;

                img->layers = xrealloc(img->layers, (img->n_layers + 1) * sizeof(*img->layers));
                l = &img->layers[img->n_layers++];
                l->chain_id = store_sql_str(st, 0);
                l->diff_id = store_sql_str(st, 1);
                l->blob = store_sql_str(st, 2);
                l->media_type = store_sql_str(st, 3);
                l->size = sqlite3_column_int64(st, 4);
        }
        sqlite3_finalize(st);
        return rc == SQLITE_DONE ? 0 : store_sql_error(s, rc, "read layers", err);
}

/* Fill IMG (id set) from the database. */
static int load_image(struct store *s, struct store_image *img, struct error *err)
{
        sqlite3_stmt *st = NULL;
        const char *args[] = { img->id, NULL };
        int rc, r;

        r = store_sql_prep(s, "SELECT manifest, manifest_type, created, size, added FROM images WHERE id = ?1", args, &st, err);
        if (r < 0)
                return r;
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
                img->manifest = store_sql_str(st, 0);
                img->manifest_type = store_sql_str(st, 1);
                img->created = store_sql_str(st, 2);
                img->size = sqlite3_column_int64(st, 3);
                img->added = sqlite3_column_int64(st, 4);
        }
        sqlite3_finalize(st);
        if (rc != SQLITE_ROW)
                return rc == SQLITE_DONE ? error_setx(err, ENOENT, "no such image: %s", img->id)
                                         : store_sql_error(s, rc, "read an image", err);
        r = store_sql_strv(s, "SELECT name FROM names WHERE image_id = ?1 ORDER BY name", args, &img->names, err);
        if (r >= 0)
                r = store_sql_strv(s, "SELECT ref FROM repo_digests WHERE image_id = ?1 ORDER BY ref", args, &img->digests,
                               err);
        if (r >= 0)
                r = load_layers(s, img, err);
        return r;
}

int store_image_list(struct store *s, struct store_image **ret, size_t *ret_n, struct error *err)
{
        _cleanup_strv_free_ char **ids = NULL;
        struct store_image *imgs;
        size_t n = 0;
        int r;

        r = store_sql_strv(s, "SELECT id FROM images ORDER BY added DESC, id", NULL, &ids, err);
        if (r < 0)
                return r;
        while (ids[n])
                n++;
        imgs = xzalloc((n + 1) * sizeof(*imgs));
        for (size_t i = 0; i < n; i++) {
                imgs[i].id = xstrdup(ids[i]);
                r = load_image(s, &imgs[i], err);
                if (r < 0) {
                        store_images_free(imgs, n);
                        return r;
                }
        }
        *ret = imgs;
        *ret_n = n;
        return 0;
}

static bool is_hex_prefix(const char *p)
{
        size_t n = strlen(p);

        if (n < 4 || n > DIGEST_HEX_LEN)
                return false;
        for (; *p; p++)
                if (!isdigit((unsigned char) *p) && !(*p >= 'a' && *p <= 'f'))
                        return false;
        return true;
}

/* The image id WHAT stands for, or NULL (ENOENT/EINVAL in ERR). */
static int resolve_id(struct store *s, const char *what, char **ret, struct error *err)
{
        _cleanup_strv_free_ char **v = NULL;
        const char *hex = strncmp(what, DIGEST_PREFIX, strlen(DIGEST_PREFIX)) == 0 ? what + strlen(DIGEST_PREFIX)
                                                                                   : what;
        int r;

        r = store_sql_strv(s,
                       "SELECT image_id FROM names WHERE name = ?1 UNION SELECT image_id FROM repo_digests WHERE ref = ?1",
                       (const char *[]) { what, NULL }, &v, err);
        if (r >= 0 && !v[0] && is_hex_prefix(hex)) {
                _cleanup_free_ char *like = xasprintf(DIGEST_PREFIX "%s%%", hex);
                strv_free(v);
                v = NULL;
                r = store_sql_strv(s, "SELECT id FROM images WHERE id LIKE ?1", (const char *[]) { like, NULL }, &v, err);
        }
        if (r < 0)
                return r;
        if (!v[0])
                return error_setx(err, ENOENT, "no such image: %s", what);
        if (v[1])
                return error_setx(err, EINVAL, "`%s` matches more than one image: give more of the id", what);
        *ret = xstrdup(v[0]);
        return 0;
}

int store_image_find(struct store *s, const char *what, struct store_image *ret, struct error *err)
{
        struct store_image img = {};
        int r;

        r = resolve_id(s, what, &img.id, err);
        if (r >= 0)
                r = load_image(s, &img, err);
        if (r < 0) {
                store_image_clear(&img);
                return r;
        }
        *ret = img;
        return 0;
}

int store_tag(struct store *s, const char *id, const char *name, struct error *err)
{
        bool known = false;
        int r = store_sql_begin(s, err);

        if (r >= 0)
                r = image_known(s, id, &known, err);
        if (r >= 0 && !known)
                r = error_setx(err, ENOENT, "no such image: %s", id);
        if (r >= 0)
                r = store_sql_run(s, "INSERT OR REPLACE INTO names VALUES (?1, ?2)", (const char *[]) { name, id, NULL }, err);
        return store_sql_commit(s, r, err);
}

int store_untag(struct store *s, const char *name, char **ret_id, struct error *err)
{
        _cleanup_strv_free_ char **v = NULL;
        int r = store_sql_begin(s, err);

        if (r >= 0)
                r = store_sql_strv(s, "SELECT image_id FROM names WHERE name = ?1", (const char *[]) { name, NULL }, &v,
                               err);
        if (r >= 0 && !v[0])
                r = error_setx(err, ENOENT, "no such image: %s", name);
        if (r >= 0)
                r = store_sql_run(s, "DELETE FROM names WHERE name = ?1", (const char *[]) { name, NULL }, err);
        r = store_sql_commit(s, r, err);
        if (r >= 0 && ret_id)
                *ret_id = xstrdup(v[0]);
        return r;
}

int store_image_use(struct store *s, const char *user, const char *id, struct error *err)
{
        return store_sql_run(s, "INSERT OR REPLACE INTO image_users VALUES (?1, ?2)", (const char *[]) { user, id, NULL }, err);
}

int store_image_release(struct store *s, const char *user, struct error *err)
{
        return store_sql_run(s, "DELETE FROM image_users WHERE container_id = ?1", (const char *[]) { user, NULL }, err);
}

int store_image_remove(struct store *s, const char *id, bool force, struct error *err)
{
        _cleanup_strv_free_ char **users = NULL;
        const char *args[] = { id, NULL };
        int r = store_sql_begin(s, err);

        if (r >= 0)
                r = store_sql_strv(s, "SELECT container_id FROM image_users WHERE image_id = ?1", args, &users, err);
        if (r >= 0 && users[0] && !force) {
                if (strncmp(users[0], "mount:", 6) == 0)
                        r = error_setx(err, EBUSY, "image %.19s is mounted at %s (image unmount it first, or -f)", id,
                                       users[0] + 6);
                else
                        r = error_setx(err, EBUSY,
                                       "image %.19s is used by container %s (remove the container first, or -f)", id,
                                       users[0]);
        }
        /* forced while in use: the names go, the image stays for its
         * containers (their root file systems are its layers) */
        if (r >= 0 && users[0]) {
                r = store_sql_run(s, "DELETE FROM names WHERE image_id = ?1", args, err);
                if (r >= 0)
                        r = store_sql_run(s, "DELETE FROM repo_digests WHERE image_id = ?1", args, err);
        } else if (r >= 0)
                r = store_sql_run(s, "DELETE FROM images WHERE id = ?1", args, err);
        return store_sql_commit(s, r, err);
}
