/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "basic/rm-rf.h"
#include "image/store-internal.h"
#include "tap.h"

/* The content store on its own: blobs verified before they are named,
 * ingest files resumed and locked, images recorded in one transaction,
 * and garbage collection that waits for commands adding content. */

static char root[64];

static void count_bad(const char *what, const char *why, void *userdata)
{
        printf("# %s: %s\n", what, why);
        (*(int *) userdata)++;
}

static struct store *open_store(void)
{
        struct store *s = NULL;
        struct error err = ERROR_INIT;

        if (store_open(root, &s, &err) < 0) {
                printf("# store_open: %s\n", err.msg);
                error_clear(&err);
                return NULL;
        }
        return s;
}

static void blobs(struct store *s)
{
        struct error err = ERROR_INIT;
        char d[DIGEST_BUF_SIZE], want[DIGEST_BUF_SIZE];
        _cleanup_free_ char *back = NULL;
        size_t len = 0;

        digest_buffer("hello", 5, want);
        ok(store_blob_put(s, "hello", 5, NULL, d, &err) == 0 && strcmp(d, want) == 0 && store_blob_exists(s, d),
           "a blob is stored under its digest");
        ok(store_blob_read(s, d, 100, &back, &len, &err) == 0 && len == 5 && memcmp(back, "hello", 5) == 0,
           "and reads back");
        {
                int r = store_blob_put(s, "hellp", 5, want, NULL, &err);
                ok(r == -EBADMSG && err.code == EBADMSG,
                   "a blob that does not match its expected digest is refused (%s)", err.msg ? err.msg : "");
        }
        error_clear(&err);
        ok(store_blob_open(s, "sha256:../../etc/passwd", &err) == -EINVAL, "a malformed digest names no file");
        error_clear(&err);
}

static void ingest(struct store *s)
{
        struct error err = ERROR_INIT;
        const char *data = "0123456789abcdef";
        char d[DIGEST_BUF_SIZE];
        int fd;

        digest_buffer(data, 16, d);
        fd = store_ingest_open(s, d, &err);
        ok(fd >= 0 && write(fd, data, 6) == 6, "an ingest file takes part of a blob");
        close(fd);
        /* a later attempt continues where the first stopped */
        fd = store_ingest_open(s, d, &err);
        ok(fd >= 0 && lseek(fd, 0, SEEK_CUR) == 6, "reopened, it is positioned at its end (a resumed download)");
        ok(fd >= 0 && write(fd, data + 6, 10) == 10 && store_ingest_commit(s, fd, d, 16, &err) == 0 &&
                   store_blob_exists(s, d),
           "completed and committed, it is a blob");
        if (fd >= 0)
                close(fd);
        {
                char bad[DIGEST_BUF_SIZE];
                digest_buffer("other", 5, bad);
                bool refused;

                fd = store_ingest_open(s, bad, &err);
                refused = fd >= 0 && write(fd, "wrong", 5) == 5 &&
                          store_ingest_commit(s, fd, bad, -1, &err) == -EBADMSG && !store_blob_exists(s, bad);
                ok(refused, "an ingest file with other content is refused and dropped (%s)",
                   err.msg ? err.msg : "");
                error_clear(&err);
                if (fd >= 0)
                        close(fd);
        }
}

/* An image with one (fake) layer directory, so that gc sees it live. */
static int add_image(struct store *s, const char *name, char id[DIGEST_BUF_SIZE], char layer[DIGEST_BUF_SIZE])
{
        struct error err = ERROR_INIT;
        char manifest[DIGEST_BUF_SIZE], blob[DIGEST_BUF_SIZE];
        _cleanup_free_ char *cfg = xasprintf("{\"name\": \"%s\"}", name), *mf = xasprintf("{\"m\": \"%s\"}", name);
        _cleanup_free_ char *lb = xasprintf("layer of %s", name);
        struct store_layer l = {};
        struct store_image img = {};
        int r;

        r = store_blob_put(s, cfg, strlen(cfg), NULL, id, &err);
        if (r >= 0)
                r = store_blob_put(s, mf, strlen(mf), NULL, manifest, &err);
        if (r >= 0)
                r = store_blob_put(s, lb, strlen(lb), NULL, blob, &err);
        store_chain_id(NULL, blob, layer);
        if (r >= 0) {
                _cleanup_free_ char *dir = store_layer_dir(s, layer);
                r = mkdir(dir, 0755) < 0 ? -errno : 0;
        }
        l = (struct store_layer) { .chain_id = layer, .diff_id = blob, .blob = blob, .media_type = (char *) "x",
                                   .size = 1 };
        img = (struct store_image) { .id = id, .manifest = manifest, .manifest_type = (char *) "x", .layers = &l,
                                     .n_layers = 1 };
        if (r >= 0)
                r = store_image_add(s, &img, name, NULL, &err);
        if (r < 0)
                printf("# add_image: %s\n", err.msg ? err.msg : strerror(-r));
        error_clear(&err);
        return r;
}

static void images(struct store *s)
{
        struct error err = ERROR_INIT;
        struct store_image img = {};
        char id[DIGEST_BUF_SIZE], layer[DIGEST_BUF_SIZE], id2[DIGEST_BUF_SIZE], layer2[DIGEST_BUF_SIZE];
        _cleanup_free_ char *untagged = NULL, *prefix = NULL;

        ok(add_image(s, "docker.io/library/a:1", id, layer) == 0, "an image is recorded");
        ok(store_image_find(s, "docker.io/library/a:1", &img, &err) == 0 && strcmp(img.id, id) == 0 &&
                   img.n_layers == 1 && strcmp(img.layers[0].chain_id, layer) == 0,
           "found by name, with its layers");
        store_image_clear(&img);
        prefix = xstrndup(id + 7, 8);
        ok(store_image_find(s, prefix, &img, &err) == 0 && strcmp(img.id, id) == 0, "found by an id prefix");
        store_image_clear(&img);
        ok(store_tag(s, id, "localhost/b:2", &err) == 0 && store_untag(s, "docker.io/library/a:1", &untagged, &err) == 0 &&
                   strcmp(untagged, id) == 0,
           "tagged anew and untagged");
        ok(store_image_find(s, "docker.io/library/a:1", &img, &err) == -ENOENT, "an untagged name finds nothing");
        error_clear(&err);
        ok(add_image(s, "docker.io/library/c:1", id2, layer2) == 0, "a second image");
        ok(store_image_remove(s, id2, false, &err) == 0 && store_gc(s, 0, &err) >= 0 && !store_layer_exists(s, layer2) &&
                   !store_blob_exists(s, id2) && store_layer_exists(s, layer) && store_blob_exists(s, id),
           "removed, gc takes its layer and blobs and leaves the other image's");
}

/* A command adding content holds the gc lease: gc waits for it. */
static void gc_waits_for_a_lease(void)
{
        struct error err = ERROR_INIT;
        int pipefd[2], status = 0;
        struct timespec t0, t1;
        struct store *s;
        char c;
        pid_t pid;

        if (pipe(pipefd) < 0) {
                skip("pipe: %m");
                return;
        }
        pid = fork();
        if (pid == 0) {
                struct store *cs = open_store();
                if (!cs || store_lease(cs, &err) < 0)
                        _exit(1);
                (void) write(pipefd[1], "x", 1);
                usleep(300 * 1000);
                store_close(cs);
                _exit(0);
        }
        close(pipefd[1]);
        if (read(pipefd[0], &c, 1) != 1) {
                ok(false, "the child took the lease");
                close(pipefd[0]);
                (void) waitpid(pid, NULL, 0);
                return;
        }
        close(pipefd[0]);
        s = open_store();
        clock_gettime(CLOCK_MONOTONIC, &t0);
        ok(s && store_gc(s, 0, &err) >= 0, "gc runs");
        clock_gettime(CLOCK_MONOTONIC, &t1);
        ok((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000 >= 200,
           "gc waited for the command holding the lease");
        (void) waitpid(pid, &status, 0);
        ok(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the lease holder finished normally");
        store_close(s);
        error_clear(&err);
}

int main(void)
{
        struct store *s;
        struct error err = ERROR_INIT;
        char tmpl[] = "/tmp/berth-test-store-XXXXXX";

        if (!mkdtemp(tmpl)) {
                skip("cannot create a temporary directory");
                return tap_done();
        }
        snprintf(root, sizeof(root), "%s/root", tmpl);
        s = open_store();
        ok(s != NULL, "a new store is created with its layout");
        if (s) {
                blobs(s);
                ingest(s);
                images(s);
                int bad = 0;
                ok(store_verify(s, count_bad, &bad, &err) == 0 && bad == 0, "the store verifies clean");
                store_close(s);
        }
        gc_waits_for_a_lease();
        error_clear(&err);
        if (strncmp(tmpl, "/tmp/berth-test-store-", 22) == 0) {
                int fd = open("/tmp", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                (void) rm_rf_at(fd, tmpl + 5);
                close(fd);
        }
        return tap_done();
}
