/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "basic/fileio.h"
#include "basic/rm-rf.h"
#include "image/store-internal.h"
#include "image/unpack.h"

/* The schema; user_version says which one a database has. */
#define SCHEMA_VERSION 3
static const char schema[] =
        "CREATE TABLE IF NOT EXISTS images ("
        "  id TEXT PRIMARY KEY, manifest TEXT NOT NULL, manifest_type TEXT NOT NULL,"
        "  created TEXT, size INTEGER NOT NULL, added INTEGER NOT NULL);"
        "CREATE TABLE IF NOT EXISTS image_layers ("
        "  image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE, idx INTEGER NOT NULL,"
        "  chain_id TEXT NOT NULL, diff_id TEXT NOT NULL, blob TEXT NOT NULL, media_type TEXT NOT NULL,"
        "  size INTEGER NOT NULL, PRIMARY KEY (image_id, idx));"
        "CREATE INDEX IF NOT EXISTS image_layers_chain ON image_layers(chain_id);"
        "CREATE TABLE IF NOT EXISTS names ("
        "  name TEXT PRIMARY KEY, image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE);"
        "CREATE TABLE IF NOT EXISTS repo_digests ("
        "  ref TEXT PRIMARY KEY, image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE);"
        /* filled by the engine: containers made from an image */
        "CREATE TABLE IF NOT EXISTS image_users (container_id TEXT PRIMARY KEY, image_id TEXT NOT NULL);"
        /* version 2: the engine's containers and volumes (src/engine/) */
        "CREATE TABLE IF NOT EXISTS containers ("
        "  id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, image_id TEXT NOT NULL, image TEXT NOT NULL,"
        "  created TEXT NOT NULL, runtime TEXT NOT NULL, config TEXT NOT NULL);"
        "CREATE TABLE IF NOT EXISTS volumes ("
        "  name TEXT PRIMARY KEY, created TEXT NOT NULL, labels TEXT NOT NULL, anonymous INTEGER NOT NULL);"
        "CREATE TABLE IF NOT EXISTS volume_users ("
        "  volume TEXT NOT NULL REFERENCES volumes(name), container_id TEXT NOT NULL"
        "  REFERENCES containers(id) ON DELETE CASCADE, PRIMARY KEY (volume, container_id));"
        /* version 3: networks and each container's endpoints on them (src/engine/network.c) */
        "CREATE TABLE IF NOT EXISTS networks ("
        "  id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, bridge TEXT NOT NULL UNIQUE, subnet TEXT NOT NULL,"
        "  gateway TEXT NOT NULL, ip_range TEXT NOT NULL, subnet6 TEXT NOT NULL, gateway6 TEXT NOT NULL,"
        "  internal INTEGER NOT NULL, mtu INTEGER NOT NULL, labels TEXT NOT NULL, created TEXT NOT NULL);"
        "CREATE TABLE IF NOT EXISTS endpoints ("
        "  container_id TEXT NOT NULL REFERENCES containers(id) ON DELETE CASCADE,"
        "  network_id TEXT NOT NULL REFERENCES networks(id), idx INTEGER NOT NULL, ip TEXT NOT NULL,"
        "  ip6 TEXT NOT NULL, mac TEXT NOT NULL, aliases TEXT NOT NULL,"
        "  PRIMARY KEY (container_id, network_id), UNIQUE (network_id, ip), UNIQUE (container_id, idx));"
        "CREATE UNIQUE INDEX IF NOT EXISTS endpoints_ip6 ON endpoints(network_id, ip6) WHERE ip6 != '';"
        /* published ports in force, so that two containers never take the same one */
        "CREATE TABLE IF NOT EXISTS ports ("
        "  container_id TEXT NOT NULL REFERENCES containers(id) ON DELETE CASCADE, proto TEXT NOT NULL,"
        "  host_ip TEXT NOT NULL, host_port INTEGER NOT NULL, container_port INTEGER NOT NULL,"
        "  PRIMARY KEY (proto, host_ip, host_port));";

static int mkdir_at(int dirfd, const char *name, mode_t mode)
{
        if (mkdirat(dirfd, name, mode) < 0 && errno != EEXIST)
                return -errno;
        return 0;
}

static int open_dir(int dirfd, const char *name, int *ret)
{
        int r = mkdir_at(dirfd, name, 0700);

        if (r < 0)
                return r;
        *ret = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        return *ret < 0 ? -errno : 0;
}

static int make_layout(struct store *s, struct error *err)
{
        _cleanup_close_ int blobs = -EBADF;
        int r;

        /* its parents as Docker's --data-root makes them (0755), itself 0700 */
        for (char *slash = strchr(s->root + 1, '/'); slash; slash = strchr(slash + 1, '/')) {
                *slash = '\0';
                r = mkdir_at(AT_FDCWD, s->root, 0755);
                *slash = '/';
                if (r < 0 && r != -EACCES && r != -EPERM && r != -EROFS)
                        return error_set(err, -r, "create data root `%s`", s->root);
        }
        r = mkdir_at(AT_FDCWD, s->root, 0700);
        if (r == -EACCES || r == -EPERM || r == -EROFS)
                return error_set(err, -r, "create data root `%s` (run as root, or choose another with --root or "
                                 "$BERTH_ROOT)", s->root);
        if (r < 0)
                return error_set(err, -r, "create data root `%s`", s->root);
        s->rootfd = open(s->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (s->rootfd < 0)
                return error_set(err, errno, "open data root `%s`", s->root);
        r = open_dir(s->rootfd, "blobs", &blobs);
        if (r >= 0)
                r = open_dir(blobs, "sha256", &s->blobfd);
        if (r >= 0)
                r = open_dir(s->rootfd, "ingest", &s->ingestfd);
        if (r >= 0)
                r = open_dir(s->rootfd, "layers", &s->layerfd);
        if (r < 0)
                return error_set(err, -r, "create the store layout in `%s`", s->root);
        s->gclock = openat(s->rootfd, "gc.lock", O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (s->gclock < 0)
                return error_set(err, errno, "open `%s/gc.lock`", s->root);
        return 0;
}

int store_sql_error(struct store *s, int rc, const char *what, struct error *err)
{
        int code = rc == SQLITE_BUSY || rc == SQLITE_LOCKED ? EBUSY : rc == SQLITE_FULL ? ENOSPC : EIO;

        return error_setx(err, code, "%s: %s (%s/berth.db)", what, sqlite3_errmsg(s->db), s->root);
}

/* WAL lets readers and a writer work at once; it is recorded in the file,
 * so only a new database needs the switch, which takes an exclusive lock
 * that SQLite does not wait for: two commands opening a new store at
 * once retry here. */
static int set_wal(sqlite3 *db)
{
        int rc = SQLITE_BUSY;

        for (int i = 0; i < 500; i++) {
                sqlite3_stmt *st = NULL;
                bool wal = false;

                rc = sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL);
                if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW)
                        wal = strcmp((const char *) sqlite3_column_text(st, 0), "wal") == 0;
                sqlite3_finalize(st);
                if (wal)
                        return SQLITE_OK;
                if (rc == SQLITE_ROW)
                        rc = sqlite3_exec(db, "PRAGMA journal_mode=WAL", NULL, NULL, NULL);
                if (rc != SQLITE_BUSY && rc != SQLITE_LOCKED && rc != SQLITE_ROW && rc != SQLITE_OK)
                        return rc;
                usleep(20 * 1000);
        }
        return rc;
}

static int open_db(struct store *s, struct error *err)
{
        _cleanup_free_ char *path = xasprintf("%s/berth.db", s->root);
        int rc, version = 0;

        rc = sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
        if (rc != SQLITE_OK)
                return error_setx(err, EIO, "open `%s`: %s", path, s->db ? sqlite3_errmsg(s->db) : "out of memory");
        /* another berth may be writing: wait for it rather than fail */
        sqlite3_busy_timeout(s->db, 60000);
        rc = sqlite3_exec(s->db, "PRAGMA foreign_keys=ON; PRAGMA synchronous=NORMAL;", NULL, NULL, NULL);
        if (rc == SQLITE_OK)
                rc = set_wal(s->db);
        if (rc != SQLITE_OK)
                return store_sql_error(s, rc, "set up the database", err);
        {
                sqlite3_stmt *st = NULL;
                if (sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK &&
                    sqlite3_step(st) == SQLITE_ROW)
                        version = sqlite3_column_int(st, 0);
                sqlite3_finalize(st);
        }
        if (version > SCHEMA_VERSION)
                return error_setx(err, EPROTO, "`%s` was written by a newer berth (schema %d, we know %d)", path,
                                  version, SCHEMA_VERSION);
        if (version == SCHEMA_VERSION)
                return 0;
        rc = sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
        if (rc == SQLITE_OK)
                rc = sqlite3_exec(s->db, schema, NULL, NULL, NULL);
        if (rc == SQLITE_OK)
                rc = sqlite3_exec(s->db, "PRAGMA user_version=" STRINGIFY(SCHEMA_VERSION) "; COMMIT", NULL, NULL,
                                  NULL);
        if (rc != SQLITE_OK) {
                (void) sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
                return store_sql_error(s, rc, "create the tables", err);
        }
        return 0;
}

int store_open(const char *root, struct store **ret, struct error *err)
{
        struct store *s = xzalloc(sizeof(*s));
        int r;

        s->rootfd = s->blobfd = s->ingestfd = s->layerfd = s->gclock = -EBADF;
        s->root = xstrdup(root);
        r = make_layout(s, err);
        if (r >= 0)
                r = open_db(s, err);
        if (r < 0) {
                store_close(s);
                return r;
        }
        *ret = s;
        return 0;
}

void store_close(struct store *s)
{
        if (!s)
                return;
        sqlite3_close_v2(s->db);
        for (int *fd = &s->rootfd; fd <= &s->gclock; fd++)
                if (*fd >= 0)
                        close(*fd);
        free(s->root);
        free(s);
}

const char *store_root(const struct store *s)
{
        return s->root;
}

int store_lease(struct store *s, struct error *err)
{
        if (s->leased)
                return 0;
        if (flock(s->gclock, LOCK_SH) < 0)
                return error_set(err, errno, "lock `%s/gc.lock`", s->root);
        s->leased = true;
        return 0;
}

void store_lease_release(struct store *s)
{
        if (s->leased)
                (void) flock(s->gclock, LOCK_UN);
        s->leased = false;
}

/* ---- blobs ---------------------------------------------------------- */

const char *store_hex(const char *digest)
{
        return digest + strlen(DIGEST_PREFIX);
}

char *store_blob_path(const struct store *s, const char *digest)
{
        return xasprintf("%s/blobs/sha256/%s", s->root, store_hex(digest));
}

bool store_blob_exists(const struct store *s, const char *digest)
{
        return digest_valid(digest) && faccessat(s->blobfd, store_hex(digest), F_OK, AT_SYMLINK_NOFOLLOW) == 0;
}

int store_blob_open(const struct store *s, const char *digest, struct error *err)
{
        int fd;

        if (!digest_valid(digest))
                return error_setx(err, EINVAL, "`%s` is not a digest", digest);
        fd = openat(s->blobfd, store_hex(digest), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return error_set(err, errno, "blob %s", digest);
        return fd;
}

int store_blob_read(const struct store *s, const char *digest, size_t max, char **ret, size_t *ret_len,
                    struct error *err)
{
        _cleanup_close_ int fd = store_blob_open(s, digest, err);
        int r;

        if (fd < 0)
                return fd;
        r = read_full_fd(fd, max, ret, ret_len);
        if (r < 0)
                return error_set(err, -r, "read blob %s", digest);
        return 0;
}

/* Lock the ingest file of DIGEST: after the wait, make sure FD is still
 * the file of that name (the writer before us may have committed it). */
static int ingest_lock(struct store *s, const char *hex, int *fd)
{
        for (int tries = 0; tries < 16; tries++) {
                struct stat a, b;

                if (flock(*fd, LOCK_EX) < 0)
                        return -errno;
                if (fstat(*fd, &a) < 0)
                        return -errno;
                if (fstatat(s->ingestfd, hex, &b, AT_SYMLINK_NOFOLLOW) == 0 && a.st_ino == b.st_ino &&
                    a.st_dev == b.st_dev)
                        return 0;
                close(*fd);
                *fd = openat(s->ingestfd, hex, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
                if (*fd < 0)
                        return -errno;
        }
        return -EAGAIN;
}

int store_ingest_open(struct store *s, const char *digest, struct error *err)
{
        _cleanup_close_ int fd = -EBADF;
        int r;

        if (!digest_valid(digest))
                return error_setx(err, EINVAL, "`%s` is not a digest", digest);
        fd = openat(s->ingestfd, store_hex(digest), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0)
                return error_set(err, errno, "open ingest file of %s", digest);
        r = ingest_lock(s, store_hex(digest), &fd);
        if (r < 0)
                return error_set(err, -r, "lock ingest file of %s", digest);
        if (lseek(fd, 0, SEEK_END) < 0)
                return error_set(err, errno, "seek ingest file of %s", digest);
        return TAKE_FD(fd);
}

int store_ingest_commit(struct store *s, int fd, const char *digest, int64_t size, struct error *err)
{
        char got[DIGEST_BUF_SIZE];
        uint64_t n = 0;
        int r;

        if (lseek(fd, 0, SEEK_SET) < 0)
                return error_set(err, errno, "seek ingest file of %s", digest);
        r = digest_fd(fd, got, &n);
        if (r < 0)
                return error_set(err, -r, "read ingest file of %s", digest);
        if (strcmp(got, digest) != 0 || (size >= 0 && (uint64_t) size != n)) {
                (void) unlinkat(s->ingestfd, store_hex(digest), 0);
                if (strcmp(got, digest) != 0)
                        return error_setx(err, EBADMSG, "blob %s: digest mismatch, got %s", digest, got);
                return error_setx(err, EBADMSG, "blob %s: size %" PRIu64 ", expected %" PRId64, digest, n, size);
        }
        if (fchmod(fd, 0444) < 0 || renameat(s->ingestfd, store_hex(digest), s->blobfd, store_hex(digest)) < 0)
                return error_set(err, errno, "store blob %s", digest);
        return 0;
}

/* A private ingest file for data whose digest is not known yet. */
static int ingest_tmp(struct store *s, char **ret_name)
{
        for (int i = 0; i < 100; i++) {
                char *name = xasprintf(".tmp-%d-%ld", (int) getpid(), random());
                int fd = openat(s->ingestfd, name, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);

                if (fd >= 0) {
                        /* holds off store_gc() until it is named */
                        (void) flock(fd, LOCK_EX);
                        *ret_name = name;
                        return fd;
                }
                free(name);
                if (errno != EEXIST)
                        return -errno;
        }
        return -EEXIST;
}

/* Name the private ingest file NAME (FD) after its digest, checked
 * against EXPECTED. */
static int ingest_tmp_commit(struct store *s, int fd, const char *name, const char *expected,
                             char ret_digest[DIGEST_BUF_SIZE], uint64_t *ret_size, struct error *err)
{
        char got[DIGEST_BUF_SIZE];
        uint64_t n = 0;
        int r;

        r = lseek(fd, 0, SEEK_SET) < 0 ? -errno : digest_fd(fd, got, &n);
        if (r < 0) {
                (void) unlinkat(s->ingestfd, name, 0);
                return error_set(err, -r, "read back a new blob");
        }
        if (expected && strcmp(expected, got) != 0) {
                (void) unlinkat(s->ingestfd, name, 0);
                return error_setx(err, EBADMSG, "blob %s: digest mismatch, got %s", expected, got);
        }
        if (fchmod(fd, 0444) < 0 || renameat(s->ingestfd, name, s->blobfd, store_hex(got)) < 0) {
                r = -errno;
                (void) unlinkat(s->ingestfd, name, 0);
                return error_set(err, -r, "store blob %s", got);
        }
        if (ret_digest)
                memcpy(ret_digest, got, DIGEST_BUF_SIZE);
        if (ret_size)
                *ret_size = n;
        return 0;
}

int store_blob_put(struct store *s, const void *data, size_t len, const char *expected,
                   char ret_digest[DIGEST_BUF_SIZE], struct error *err)
{
        _cleanup_free_ char *name = NULL;
        _cleanup_close_ int fd = -EBADF;
        char got[DIGEST_BUF_SIZE];
        int r;

        digest_buffer(data, len, got);
        if (expected && strcmp(expected, got) != 0)
                return error_setx(err, EBADMSG, "blob %s: digest mismatch, got %s", expected, got);
        if (ret_digest)
                memcpy(ret_digest, got, DIGEST_BUF_SIZE);
        if (store_blob_exists(s, got))
                return 0;
        fd = ingest_tmp(s, &name);
        if (fd < 0)
                return error_set(err, -fd, "create a file in `%s/ingest`", s->root);
        r = write_all(fd, data, len);
        if (r < 0) {
                (void) unlinkat(s->ingestfd, name, 0);
                return error_set(err, -r, "write blob %s", got);
        }
        return ingest_tmp_commit(s, fd, name, got, NULL, NULL, err);
}

int store_blob_begin(struct store *s, struct store_writer *w, struct error *err)
{
        w->name = NULL;
        w->fd = ingest_tmp(s, &w->name);
        if (w->fd < 0)
                return error_set(err, -w->fd, "create a file in `%s/ingest`", s->root);
        return 0;
}

int store_blob_finish(struct store *s, struct store_writer *w, const char *expected, char ret_digest[DIGEST_BUF_SIZE],
                      uint64_t *ret_size, struct error *err)
{
        int r = ingest_tmp_commit(s, w->fd, w->name, expected, ret_digest, ret_size, err);

        close(w->fd);
        free(w->name);
        *w = (struct store_writer) { .fd = -EBADF };
        return r;
}

void store_blob_abort(struct store *s, struct store_writer *w)
{
        if (w->name)
                (void) unlinkat(s->ingestfd, w->name, 0);
        if (w->fd >= 0)
                close(w->fd);
        free(w->name);
        *w = (struct store_writer) { .fd = -EBADF };
}

int store_blob_put_fd(struct store *s, int in_fd, const char *expected, char ret_digest[DIGEST_BUF_SIZE],
                      uint64_t *ret_size, struct error *err)
{
        struct store_writer w;
        char buf[65536];
        int r;

        r = store_blob_begin(s, &w, err);
        if (r < 0)
                return r;
        for (;;) {
                ssize_t n = read(in_fd, buf, sizeof(buf));

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 || (n > 0 && (r = write_all(w.fd, buf, (size_t) n)) < 0)) {
                        r = n < 0 ? -errno : r;
                        store_blob_abort(s, &w);
                        return error_set(err, -r, "copy a blob into `%s/ingest`", s->root);
                }
                if (n == 0)
                        break;
        }
        return store_blob_finish(s, &w, expected, ret_digest, ret_size, err);
}
