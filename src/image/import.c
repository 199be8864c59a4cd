/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <archive.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "basic/timefmt.h"
#include "image/image.h"
#include "image/manifest.h"
#include "image/reference.h"
#include "image/store-internal.h"
#include "image/unpack.h"

/* `import`: a root file system as a one-layer image. */

static const char *host_arch(void)
{
        struct utsname u;

        if (uname(&u) < 0)
                return "amd64";
        if (strcmp(u.machine, "x86_64") == 0)
                return "amd64";
        if (strcmp(u.machine, "aarch64") == 0)
                return "arm64";
        return strcmp(u.machine, "i686") == 0 ? "386" : "amd64";
}

/* The digest of the uncompressed stream of blob DIGEST (its diff id). */
static int uncompressed_digest(struct store *s, const char *digest, char ret[DIGEST_BUF_SIZE], struct error *err)
{
        _cleanup_close_ int fd = store_blob_open(s, digest, err);
        struct archive *a;
        struct archive_entry *e;
        struct digest_ctx *d;
        const void *buf;
        size_t len;
        la_int64_t off;
        int rc, r = 0;

        if (fd < 0)
                return fd;
        a = archive_read_new();
        archive_read_support_filter_all(a);
        archive_read_support_format_raw(a);
        if (archive_read_open_fd(a, fd, 65536) != ARCHIVE_OK || archive_read_next_header(a, &e) != ARCHIVE_OK) {
                r = error_setx(err, EINVAL, "read the layer: %s", archive_error_string(a));
                archive_read_free(a);
                return r;
        }
        d = digest_new();
        while ((rc = archive_read_data_block(a, &buf, &len, &off)) == ARCHIVE_OK)
                digest_update(d, buf, len);
        if (rc != ARCHIVE_EOF) {
                r = error_setx(err, EINVAL, "decompress the layer: %s", archive_error_string(a));
                digest_free(d);
        } else
                digest_final(d, ret);
        archive_read_free(a);
        return r;
}

static const char *compression_type(struct store *s, const char *digest)
{
        _cleanup_close_ int fd = store_blob_open(s, digest, NULL);
        unsigned char m[4] = {};

        if (fd >= 0 && read(fd, m, sizeof(m)) == (ssize_t) sizeof(m)) {
                if (m[0] == 0x1f && m[1] == 0x8b)
                        return MT_OCI_LAYER_GZIP;
                if (m[0] == 0x28 && m[1] == 0xb5 && m[2] == 0x2f && m[3] == 0xfd)
                        return MT_OCI_LAYER_ZSTD;
        }
        return MT_OCI_LAYER;
}

/* Store SOURCE (a directory, a tar file, "-" for stdin) as a layer blob. */
static int layer_blob(struct store *s, const char *source, char blob[DIGEST_BUF_SIZE], char diff[DIGEST_BUF_SIZE],
                      uint64_t *size, struct error *err)
{
        _cleanup_close_ int fd = -EBADF;
        struct stat st;
        int r;

        fd = strcmp(source, "-") == 0 ? fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 3)
                                      : open(source, O_RDONLY | O_CLOEXEC);
        if (fd < 0 || fstat(fd, &st) < 0)
                return error_set(err, errno, "open `%s`", source);
        if (S_ISDIR(st.st_mode)) {
                struct store_writer w;

                r = store_blob_begin(s, &w, err);
                if (r < 0)
                        return r;
                r = layer_pack(fd, w.fd, diff, err);
                if (r < 0) {
                        store_blob_abort(s, &w);
                        return error_prefix(err, "pack `%s`", source);
                }
                return store_blob_finish(s, &w, diff, blob, size, err);
        }
        r = store_blob_put_fd(s, fd, NULL, blob, size, err);
        if (r < 0)
                return r;
        if (strcmp(compression_type(s, blob), MT_OCI_LAYER) == 0) {
                memcpy(diff, blob, DIGEST_BUF_SIZE);
                return 0;
        }
        return uncompressed_digest(s, blob, diff, err);
}

static json_object *str_array(char **v)
{
        json_object *a = json_object_new_array();

        for (; v && *v; v++)
                json_object_array_add(a, json_object_new_string(*v));
        return a;
}

/* CMD/ENTRYPOINT value: a JSON array, else the shell form. */
static json_object *exec_form(const char *v)
{
        json_object *o = json_tokener_parse(v);

        if (o && json_object_is_type(o, json_type_array)) {
                for (size_t i = 0; i < json_object_array_length(o); i++)
                        if (!json_object_is_type(json_object_array_get_idx(o, i), json_type_string)) {
                                json_object_put(o);
                                return NULL;
                        }
                return o;
        }
        json_object_put(o);
        return str_array((char *[]) { (char *) "/bin/sh", (char *) "-c", (char *) v, NULL });
}

static void obj_key(json_object *cfg, const char *field, const char *key, json_object *val)
{
        json_object *m;

        if (!json_object_object_get_ex(cfg, field, &m)) {
                m = json_object_new_object();
                json_object_object_add(cfg, field, m);
        }
        json_object_object_add(m, key, val);
}

static int apply_change(json_object *cfg, const char *change, struct error *err)
{
        size_t kl = strcspn(change, " \t");
        const char *v = change + kl + strspn(change + kl, " \t");
        _cleanup_free_ char *k = xstrndup(change, kl);

        for (char *c = k; *c; c++)
                *c = (char) (*c >= 'a' && *c <= 'z' ? *c - 'a' + 'A' : *c);
        if (!*v)
                return error_setx(err, EINVAL, "--change `%s`: %s needs a value", change, k);
        if (strcmp(k, "CMD") == 0 || strcmp(k, "ENTRYPOINT") == 0) {
                json_object *a = exec_form(v);
                if (!a)
                        return error_setx(err, EINVAL, "--change `%s`: not a list of strings", change);
                json_object_object_add(cfg, strcmp(k, "CMD") == 0 ? "Cmd" : "Entrypoint", a);
        } else if (strcmp(k, "ENV") == 0) {
                json_object *env;
                _cleanup_free_ char *kv = strchr(v, '=') ? xstrdup(v) : NULL;
                if (!kv) {
                        size_t l = strcspn(v, " \t");
                        if (!v[l])
                                return error_setx(err, EINVAL, "--change `%s`: ENV wants NAME=VALUE", change);
                        kv = xasprintf("%.*s=%s", (int) l, v, v + l + strspn(v + l, " \t"));
                }
                if (!json_object_object_get_ex(cfg, "Env", &env)) {
                        env = json_object_new_array();
                        json_object_object_add(cfg, "Env", env);
                }
                json_object_array_add(env, json_object_new_string(kv));
        } else if (strcmp(k, "WORKDIR") == 0 || strcmp(k, "USER") == 0 || strcmp(k, "STOPSIGNAL") == 0)
                json_object_object_add(cfg, strcmp(k, "WORKDIR") == 0 ? "WorkingDir" : strcmp(k, "USER") == 0 ? "User"
                                                                                                               : "StopSignal",
                                       json_object_new_string(v));
        else if (strcmp(k, "LABEL") == 0) {
                const char *eq = strchr(v, '=');
                _cleanup_free_ char *key = eq ? xstrndup(v, (size_t) (eq - v)) : NULL;
                if (!key || !*key)
                        return error_setx(err, EINVAL, "--change `%s`: LABEL wants KEY=VALUE", change);
                obj_key(cfg, "Labels", key, json_object_new_string(eq + 1));
        } else if (strcmp(k, "EXPOSE") == 0) {
                _cleanup_free_ char *p = strchr(v, '/') ? xstrdup(v) : xasprintf("%s/tcp", v);
                obj_key(cfg, "ExposedPorts", p, json_object_new_object());
        } else if (strcmp(k, "VOLUME") == 0)
                obj_key(cfg, "Volumes", v, json_object_new_object());
        else
                return error_setx(err, EINVAL,
                                  "--change `%s`: unknown instruction %s (CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, "
                                  "STOPSIGNAL, USER, VOLUME, WORKDIR)",
                                  change, k);
        return 0;
}

static char *config_json(const char *diff, const char *source, const char *const *changes, struct error *err)
{
        json_object *o = json_object_new_object(), *cfg = json_object_new_object(), *rootfs = json_object_new_object();
        json_object *hist = json_object_new_object(), *history = json_object_new_array();
        _cleanup_free_ char *now = NULL;
        char *ret = NULL;
        int r = 0;

        now = time_now_rfc3339();
        for (size_t i = 0; r >= 0 && changes && changes[i]; i++)
                r = apply_change(cfg, changes[i], err);
        json_object_object_add(o, "architecture", json_object_new_string(host_arch()));
        json_object_object_add(o, "os", json_object_new_string("linux"));
        json_object_object_add(o, "created", json_object_new_string(now));
        json_object_object_add(o, "config", cfg);
        json_object_object_add(rootfs, "type", json_object_new_string("layers"));
        json_object_object_add(rootfs, "diff_ids", str_array((char *[]) { (char *) diff, NULL }));
        json_object_object_add(o, "rootfs", rootfs);
        json_object_object_add(hist, "created", json_object_new_string(now));
        json_object_object_add(hist, "created_by", json_object_new_string("berth import"));
        json_object_object_add(hist, "comment", json_object_new_string(strcmp(source, "-") ? source : "stdin"));
        json_object_array_add(history, hist);
        json_object_object_add(o, "history", history);
        if (r >= 0)
                ret = xstrdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
        json_object_put(o);
        return ret;
}

static char *manifest_json(struct store *s, const char *config, size_t config_len, const char *blob, uint64_t size)
{
        char cfg[DIGEST_BUF_SIZE];
        struct descriptor layer = { .media_type = (char *) compression_type(s, blob), .digest = (char *) blob,
                                    .size = (int64_t) size };
        struct manifest m = { .media_type = (char *) MT_OCI_MANIFEST, .layers = &layer, .n_layers = 1 };

        digest_buffer(config, config_len, cfg);
        m.config = (struct descriptor) { .media_type = (char *) MT_OCI_CONFIG, .digest = cfg,
                                         .size = (int64_t) config_len };
        return manifest_to_json(&m);
}

int image_import(struct store *s, const char *source, const char *const *changes, const char *name, char **ret_id,
                 struct error *err)
{
        _cleanup_free_ char *full = NULL, *config = NULL, *manifest = NULL;
        char blob[DIGEST_BUF_SIZE], diff[DIGEST_BUF_SIZE], mdigest[DIGEST_BUF_SIZE];
        struct image_ref ref = {};
        uint64_t size = 0;
        int r;

        if (name) {
                r = image_ref_parse(name, &ref, err);
                if (r < 0)
                        return error_prefix(err, "import: name");
                if (ref.digest) {
                        image_ref_clear(&ref);
                        return error_setx(err, EINVAL, "import: name `%s`: a digest cannot be chosen", name);
                }
                full = image_ref_full(&ref);
                image_ref_clear(&ref);
        }
        /* the changes first: a typo costs no copy of the source */
        config = config_json("sha256:0000000000000000000000000000000000000000000000000000000000000000", source,
                             changes, err);
        if (!config)
                return error_ret(err);
        free(config);
        r = store_lease(s, err);
        if (r >= 0)
                r = layer_blob(s, source, blob, diff, &size, err);
        if (r >= 0) {
                config = config_json(diff, source, changes, err);
                r = config ? store_blob_put(s, config, strlen(config), NULL, NULL, err) : error_ret(err);
        }
        if (r >= 0) {
                manifest = manifest_json(s, config, strlen(config), blob, size);
                r = store_blob_put(s, manifest, strlen(manifest), NULL, mdigest, err);
        }
        if (r >= 0)
                r = image_register(s, mdigest, full, NULL, NULL, ret_id, err);
        if (r < 0) {
                /* nothing of a failed import stays */
                store_lease_release(s);
                (void) store_gc(s, 0, NULL);
        }
        return r;
}
