/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "basic/error.h"
#include "image/store.h"

/* What the image commands do, above the store: pull, push, load, save,
 * import, prune.  The CLI only parses and prints. */

/* Progress reports: a line of text per event (PLAIN) or per-layer
 * counters (the CLI draws bars on a terminal).  May be NULL.  IDs are
 * layer digests, or the image's name for "Pulling".  A pull calls them
 * from several threads at once (one per layer download): they must be
 * thread-safe.  Pull events per layer: "Pulling fs layer" or "Already
 * exists", "Downloading", "Download complete", "Extracting", "Pull
 * complete"; bytes() while downloading. */
struct image_progress {
        void (*event)(const char *id, const char *what, void *userdata);           /* "Pulling fs layer" */
        void (*bytes)(const char *id, uint64_t done, uint64_t total, void *userdata); /* per blob */
        void *userdata;
};

/* Find image WHAT as Docker does: a name first (normalised: "busybox" is
 * docker.io/library/busybox:latest), then an id or unambiguous id prefix.
 * *RET_NAME (may be NULL) gets the full name when it was found by name,
 * NULL otherwise. */
int image_lookup(struct store *s, const char *what, struct store_image *ret, char **ret_name, struct error *err);

/* Make the image whose manifest blob MANIFEST (already stored, with its
 * config and layer blobs) describes: check it against its config (one
 * diff id per layer), unpack the layers that are not yet, record it with
 * NAME and REPO_DIGEST (either may be NULL).  *RET_ID (may be NULL) gets
 * the image id. */
int image_register(struct store *s, const char *manifest, const char *name, const char *repo_digest,
                   const struct image_progress *p, char **ret_id, struct error *err);

struct regconf;

struct pull_opts {
        const char *os, *arch, *variant; /* platform (NULL: linux/amd64 of this host) */
        const char *auth_file;
        const char *const *registries;   /* searched in order for short names; NULL or empty: those of
                                          * CONF, else docker.io */
        const char *const *insecure;     /* registries reached over plain http (besides CONF's) */
        const struct regconf *conf;      /* registries.conf: search list, mirrors, blocked and insecure
                                          * registries (image/regconf.h); may be NULL */
        unsigned max_downloads;          /* layers fetched at once; 0: 3 (Docker's default) */
        const struct image_progress *progress;
};
/* Pull REF; *RET_ID and *RET_NAME (the full name it got) on success.  A
 * registry with mirrors in CONF: each mirror in turn (same repository
 * path below the mirror's location), then the registry; a mirror that
 * fails is passed over, only the last source's error is reported.  The
 * name and repo digest recorded are REF's registry's.  A blocked registry
 * is EPERM.  Layers come in parallel; the first error wins and no other
 * layer is started after it. */
int image_pull(struct store *s, const char *ref, const struct pull_opts *o, char **ret_id, char **ret_name,
               struct error *err);

/* Push never goes to mirrors: the caller adds the insecure registries of
 * its configuration to INSECURE (regconf_insecure_domains()). */
struct push_opts {
        const char *auth_file;
        const char *const *insecure;
        const struct image_progress *progress; /* events: "Pushing", "Pushed", "Layer already exists" */
};
/* Is DOMAIN one of the registries INSECURE lists (plain http)? */
bool image_insecure(const char *const *insecure, const char *domain);

/* Push the local image WHAT to DEST (NULL: its own name WHAT). */
int image_push(struct store *s, const char *what, const char *dest, const struct push_opts *o, char **ret_digest,
               struct error *err);

/* Load a docker-archive or an OCI archive (tar, optionally compressed)
 * from IN_FD.  *RET_NAMES: what it loaded ("busybox:latest", or the id
 * of an image without a name), NULL-terminated. */
int image_load(struct store *s, int in_fd, const struct image_progress *p, char ***ret_names, struct error *err);
/* Write the images WHATS (names or ids) as one archive to OUT_FD, both a
 * docker-archive (manifest.json) and an OCI image layout (index.json),
 * blobs as they are stored: every digest survives save → load. */
int image_save(struct store *s, const char *const *whats, int out_fd, struct error *err);

/* Import a root file system (a tar file, optionally compressed, or a
 * directory) as a one-layer image with config CHANGES ("CMD [\"sh\"]",
 * "ENV A=b", "WORKDIR /x", "ENTRYPOINT …", "USER …", "LABEL k=v",
 * "EXPOSE 80"), named NAME (may be NULL). */
int image_import(struct store *s, const char *source, const char *const *changes, const char *name, char **ret_id,
                 struct error *err);

/* Remove images without names (ALL: every image no container uses),
 * then collect garbage.  *RET_IDS gets the removed ids. */
int image_prune(struct store *s, bool all, char ***ret_ids, int64_t *ret_freed, struct error *err);
