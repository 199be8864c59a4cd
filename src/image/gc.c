/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "basic/rm-rf.h"
#include "image/store-internal.h"

/* What the database still points to: digests, sorted for bsearch. */
struct live {
        char **v;
        size_t n;
};

static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(char *const *) a, *(char *const *) b);
}

static int live_load(struct store *s, const char *sql, struct live *ret, struct error *err)
{
        sqlite3_stmt *st = NULL;
        int rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);

        if (rc != SQLITE_OK)
                return store_sql_error(s, rc, "prepare a query", err);
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                const char *t = (const char *) sqlite3_column_text(st, 0);
                const char *at = t ? strrchr(t, '@') : NULL;

                if (!t)
                        continue;
                ret->v = xrealloc(ret->v, (ret->n + 1) * sizeof(char *));
                ret->v[ret->n++] = xstrdup(at ? at + 1 : t); /* repo@digest → digest */
        }
        sqlite3_finalize(st);
        if (rc != SQLITE_DONE)
                return store_sql_error(s, rc, "query the database", err);
        if (ret->n)
                qsort(ret->v, ret->n, sizeof(char *), cmp_str);
        return 0;
}

static bool live_has(const struct live *l, const char *hex)
{
        _cleanup_free_ char *d = xasprintf(DIGEST_PREFIX "%s", hex);

        return l->n && bsearch(&d, l->v, l->n, sizeof(char *), cmp_str);
}

static void live_clear(struct live *l)
{
        for (size_t i = 0; i < l->n; i++)
                free(l->v[i]);
        free(l->v);
}

/* Bytes under DIRFD/NAME (apparent sizes of regular files). */
static int64_t du_at(int dirfd, const char *name, int depth)
{
        _cleanup_close_ int fd = -EBADF;
        struct stat st;
        int64_t sum = 0;
        struct dirent *de;
        DIR *d;

        if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return 0;
        if (!S_ISDIR(st.st_mode))
                return S_ISREG(st.st_mode) ? st.st_size : 0;
        if (depth > 256)
                return 0;
        fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return 0;
        d = fdopendir(fcntl(fd, F_DUPFD_CLOEXEC, 3));
        if (!d)
                return 0;
        while ((de = readdir(d)))
                if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
                        sum += du_at(fd, de->d_name, depth + 1);
        closedir(d);
        return sum;
}

/* Is NAME in DIRFD free of any holder's lock (an abandoned leftover)? */
static bool abandoned(int dirfd, const char *name, bool dir)
{
        _cleanup_close_ int fd = openat(dirfd, name, (dir ? O_RDONLY | O_DIRECTORY : O_RDWR) | O_NOFOLLOW | O_CLOEXEC);

        return fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) == 0;
}

static bool is_hex64(const char *s)
{
        return strlen(s) == DIGEST_HEX_LEN && strspn(s, "0123456789abcdef") == DIGEST_HEX_LEN;
}

/* Remove from DIRFD what KEEP(name) says is garbage; returns bytes freed. */
static int64_t sweep(int dirfd, bool layers, const struct live *live)
{
        int64_t freed = 0;
        struct dirent *de;
        DIR *d = fdopendir(fcntl(dirfd, F_DUPFD_CLOEXEC, 3));

        if (!d)
                return 0;
        while ((de = readdir(d))) {
                const char *n = de->d_name;
                bool junk;

                if (strcmp(n, ".") == 0 || strcmp(n, "..") == 0)
                        continue;
                if (is_hex64(n))
                        junk = live ? !live_has(live, n) : abandoned(dirfd, n, false);
                else if (strncmp(n, ".tmp-", 5) == 0)
                        junk = abandoned(dirfd, n, layers);
                else if (strncmp(n, ".lock-", 6) == 0)
                        junk = abandoned(dirfd, n, false);
                else
                        junk = false; /* not ours: leave it */
                if (!junk)
                        continue;
                freed += du_at(dirfd, n, 0);
                (void) rm_rf_at(dirfd, n);
        }
        closedir(d);
        return freed;
}

int64_t store_gc(struct store *s, unsigned flags, struct error *err)
{
        struct live layers = {}, blobs = {};
        int64_t freed = 0;
        int r;

        if (s->leased)
                return error_setx(err, EDEADLK, "garbage collection while adding content");
        /* waits for pulls, loads and imports in other processes */
        if (flock(s->gclock, LOCK_EX) < 0)
                return error_set(err, errno, "lock `%s/gc.lock`", s->root);
        r = live_load(s, "SELECT DISTINCT chain_id FROM image_layers", &layers, err);
        if (r >= 0)
                r = live_load(s,
                              "SELECT id FROM images UNION SELECT manifest FROM images "
                              "UNION SELECT blob FROM image_layers UNION SELECT ref FROM repo_digests",
                              &blobs, err);
        if (r >= 0) {
                freed += sweep(s->layerfd, true, &layers);
                freed += sweep(s->blobfd, false, &blobs);
                if (!(flags & STORE_GC_KEEP_INGEST))
                        freed += sweep(s->ingestfd, false, NULL);
        }
        live_clear(&layers);
        live_clear(&blobs);
        (void) flock(s->gclock, LOCK_UN);
        return r < 0 ? r : freed;
}

static int verify_blobs(struct store *s, void (*bad)(const char *, const char *, void *), void *userdata)
{
        DIR *d = fdopendir(fcntl(s->blobfd, F_DUPFD_CLOEXEC, 3));
        struct dirent *de;
        int n = 0;

        if (!d)
                return -errno;
        while ((de = readdir(d))) {
                _cleanup_close_ int fd = -EBADF;
                _cleanup_free_ char *name = NULL, *why = NULL;
                char got[DIGEST_BUF_SIZE];

                if (!is_hex64(de->d_name))
                        continue;
                name = xasprintf(DIGEST_PREFIX "%s", de->d_name);
                fd = openat(s->blobfd, de->d_name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
                if (fd < 0 || digest_fd(fd, got, NULL) < 0)
                        why = xasprintf("cannot be read: %m");
                else if (strcmp(got, name) != 0)
                        why = xasprintf("content is %s", got);
                if (why) {
                        bad(name, why, userdata);
                        n++;
                }
        }
        closedir(d);
        return n;
}

int store_verify(struct store *s, void (*bad)(const char *what, const char *why, void *userdata), void *userdata,
                 struct error *err)
{
        struct store_image *imgs = NULL;
        size_t n = 0;
        int problems, r;

        problems = verify_blobs(s, bad, userdata);
        if (problems < 0)
                return error_set(err, -problems, "read `%s/blobs/sha256`", s->root);
        r = store_image_list(s, &imgs, &n, err);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                const struct store_image *img = &imgs[i];

                if (!store_blob_exists(s, img->manifest) && ++problems)
                        bad(img->id, "its manifest blob is missing", userdata);
                if (!store_blob_exists(s, img->id) && ++problems)
                        bad(img->id, "its config blob is missing", userdata);
                for (size_t j = 0; j < img->n_layers; j++) {
                        if (!store_blob_exists(s, img->layers[j].blob) && ++problems)
                                bad(img->id, "a layer blob is missing", userdata);
                        if (!store_layer_exists(s, img->layers[j].chain_id) && ++problems)
                                bad(img->id, "an unpacked layer is missing", userdata);
                }
        }
        store_images_free(imgs, n);
        return problems;
}
