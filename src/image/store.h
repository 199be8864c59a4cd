/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "basic/error.h"
#include "image/digest.h"

/* The content store under the data root (default /var/lib/berth):
 *
 *   blobs/sha256/HEX        manifests, configs, layer blobs: content-addressed,
 *                           verified before they get their name, never changed
 *   ingest/HEX              a blob being downloaded or copied in (kept for a
 *                           resumed download; flock'd by whoever writes it)
 *   layers/HEX/             a layer unpacked once, by chain id, shared by every
 *                           image that has it (overlayfs lower dir; read-only
 *                           to containers)
 *   layers/.tmp-*           an unpack under way (renamed into place when done)
 *   berth.db                SQLite: names, images, their layers, reference counts
 *
 * Files are written first and named last (rename), metadata changes in one
 * SQLite transaction each: a command killed at any point leaves nothing half
 * visible, only files no row points to, which store_gc() removes.  Two
 * commands may run at once (SQLite WAL and a busy timeout; flock on ingest
 * files and on layer unpacks). */

struct store;

int store_open(const char *root, struct store **ret, struct error *err);
void store_close(struct store *s);
const char *store_root(const struct store *s);

/* ---- blobs ---- */
/* The path of blob DIGEST (which need not exist); malloc'd. */
char *store_blob_path(const struct store *s, const char *digest);
bool store_blob_exists(const struct store *s, const char *digest);
/* Open blob DIGEST read-only: an fd or -errno (ENOENT with ERR naming it). */
int store_blob_open(const struct store *s, const char *digest, struct error *err);
/* Read a small blob (manifest, config) whole, at most MAX bytes. */
int store_blob_read(const struct store *s, const char *digest, size_t max, char **ret, size_t *ret_len,
                    struct error *err);
/* Store DATA as a blob; when EXPECTED is set a different digest is
 * refused (EBADMSG).  Writes the digest into RET_DIGEST (may be NULL). */
int store_blob_put(struct store *s, const void *data, size_t len, const char *expected,
                   char ret_digest[DIGEST_BUF_SIZE], struct error *err);
/* An ingest file for blob DIGEST, opened read-write at its end and
 * locked (LOCK_EX: a second writer waits): what an earlier attempt left is
 * kept for a resumed download.  Returns the fd. */
int store_ingest_open(struct store *s, const char *digest, struct error *err);
/* Verify the ingest file FD (from offset 0) against DIGEST and SIZE (-1:
 * any) and give it the blob's name.  On a mismatch the file is removed
 * and EBADMSG returned ("blob sha256:…: digest mismatch, got sha256:…").
 * FD stays open (the caller closes it). */
int store_ingest_commit(struct store *s, int fd, const char *digest, int64_t size, struct error *err);
/* A blob written piece by piece (digest unknown until the end): write
 * to W->fd, then finish (verify against EXPECTED when set, name it) or
 * abort. */
struct store_writer {
        int fd;
        char *name;
};
int store_blob_begin(struct store *s, struct store_writer *w, struct error *err);
int store_blob_finish(struct store *s, struct store_writer *w, const char *expected, char ret_digest[DIGEST_BUF_SIZE],
                      uint64_t *ret_size, struct error *err);
void store_blob_abort(struct store *s, struct store_writer *w);
/* Copy everything readable from IN_FD into the store as a blob,
 * verified against EXPECTED when set. */
int store_blob_put_fd(struct store *s, int in_fd, const char *expected, char ret_digest[DIGEST_BUF_SIZE],
                      uint64_t *ret_size, struct error *err);

/* ---- layers ---- */
/* Chain ids (OCI image spec): the first is the first diff id, then
 * sha256(previous chain id + " " + diff id). */
void store_chain_id(const char *parent_chain, const char *diff_id, char ret[DIGEST_BUF_SIZE]);
/* layers/HEX of CHAIN_ID; malloc'd. */
char *store_layer_dir(const struct store *s, const char *chain_id);
bool store_layer_exists(const struct store *s, const char *chain_id);
/* Make sure layer CHAIN_ID is unpacked from blob BLOB (whose uncompressed
 * digest must be DIFF_ID).  Unpacks into layers/.tmp-*, checks the diff
 * id, renames into place; a concurrent unpack of the same layer is waited
 * for. */
int store_layer_unpack(struct store *s, const char *chain_id, const char *diff_id, const char *blob,
                       struct error *err);

/* ---- images ---- */
struct store_layer {
        char *chain_id, *diff_id, *blob; /* blob: the compressed blob it came from */
        char *media_type;
        int64_t size;                    /* of the blob */
};

struct store_image {
        char *id;                /* the config digest */
        char *manifest;          /* manifest digest */
        char *manifest_type;     /* its media type */
        char *created;           /* from the config, may be NULL */
        int64_t size;            /* sum of the layer blobs */
        char **names;            /* full references ("docker.io/library/busybox:latest") */
        char **digests;          /* "REPO@sha256:…" this image was pulled or pushed as */
        struct store_layer *layers;
        size_t n_layers;
        int64_t added;           /* unix time it was first stored */
};
void store_image_clear(struct store_image *img);
void store_images_free(struct store_image *imgs, size_t n);

/* Record an image whose blobs (manifest, config, layers) are stored and
 * whose layers are unpacked, in one transaction: the image, its layers
 * (counted), NAME (a full reference, moved from any image it named; may be
 * NULL) and REPO_DIGEST ("repo@sha256:…", may be NULL). */
int store_image_add(struct store *s, const struct store_image *img, const char *name, const char *repo_digest,
                    struct error *err);
/* Every image, newest first. */
int store_image_list(struct store *s, struct store_image **ret, size_t *ret_n, struct error *err);
/* Find an image by full reference, by repo digest, by id ("sha256:…")
 * or by an unambiguous id prefix (at least 4 hex digits, with or without
 * "sha256:").  ENOENT: "no such image: X"; an ambiguous prefix is EINVAL. */
int store_image_find(struct store *s, const char *what, struct store_image *ret, struct error *err);
/* Point the full reference NAME at image ID (moving it from another). */
int store_tag(struct store *s, const char *id, const char *name, struct error *err);
/* Remove the full reference NAME; *RET_ID gets the image it named.
 * ENOENT when no image has that name. */
int store_untag(struct store *s, const char *name, char **ret_id, struct error *err);
/* Record that USER uses image ID (a container id, or "mount:PATH" for an
 * image mount): rmi refuses the image until store_image_release(USER). */
int store_image_use(struct store *s, const char *user, const char *id, struct error *err);
int store_image_release(struct store *s, const char *user, struct error *err);
/* Remove image ID with its names and digests (and make its layers
 * collectable).  Refused (EBUSY) while a container uses it unless FORCE.
 * The files go with store_gc(). */
int store_image_remove(struct store *s, const char *id, bool force, struct error *err);
/* Delete what no image refers to: layers, blobs, ingest files and unpacks
 * left by killed commands (unless another command holds them); with
 * STORE_GC_KEEP_INGEST the partial downloads stay for a resumed pull.
 * Returns the number of bytes freed, or -errno. */
enum {
        STORE_GC_KEEP_INGEST = 1 << 0,
};
int64_t store_gc(struct store *s, unsigned flags, struct error *err);

/* Check the store: every blob against its name, every image's blobs and
 * layers present.  BAD is called for each problem; returns how many (0:
 * all well) or -errno. */
int store_verify(struct store *s, void (*bad)(const char *what, const char *why, void *userdata), void *userdata,
                 struct error *err);
