/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>

#include "basic/error.h"

/* Image references as Docker writes them: [DOMAIN/]PATH[:TAG][@DIGEST].
 *
 *   busybox                     docker.io/library/busybox:latest
 *   localhost:5000/a/b:1        domain localhost:5000, path a/b, tag 1
 *   x@sha256:...                digest only (tag NULL)
 *
 * The first of several components is a domain when it holds a '.', a ':'
 * or upper case, or is "localhost" (Docker's rule); otherwise the reference
 * is short: image_ref_parse() marks it so (short_name) and fills the domain
 * "docker.io", with "library/" in front of a one-component path, the way
 * Docker does ("index.docker.io" is read as "docker.io" too).  Callers
 * that search several registries (registries.conf-like) use the short
 * form.  Names (domain/path as written) are at most 255 characters; a
 * short name that is 64 hex digits is refused (it reads as an image id). */
struct image_ref {
        char *domain; /* "docker.io", "localhost:5000", "localhost" */
        char *path;   /* "library/busybox", lower case, [a-z0-9._-/] */
        char *tag;    /* NULL when none was given and DIGEST is set */
        char *digest; /* "sha256:...", or NULL */
        bool short_name; /* no domain was written */
};

/* Parse S.  A missing tag becomes "latest" unless a digest is given.
 * Errors name what is wrong ("invalid reference `X`: tag too long"). */
int image_ref_parse(const char *s, struct image_ref *ret, struct error *err);
/* The same reference with DOMAIN as its registry (for short names): the
 * "library/" Docker put in front of a short one-component name is dropped
 * for other registries ("busybox" on quay.io is quay.io/busybox) and added
 * for docker.io.  -EINVAL when DOMAIN is not a valid domain. */
int image_ref_with_domain(const struct image_ref *r, const char *domain, struct image_ref *ret);
void image_ref_clear(struct image_ref *r);

/* "docker.io/library/busybox:latest", "…@sha256:…" (tag and digest both
 * when both are set).  malloc'd. */
char *image_ref_full(const struct image_ref *r);
/* S as a full reference ("busybox" → "docker.io/library/busybox:latest"),
 * or NULL when S is not a reference.  malloc'd. */
char *image_ref_normalize(const char *s);
/* DOMAIN/PATH without tag or digest ("docker.io/library/busybox"). */
char *image_ref_repo(const struct image_ref *r);
/* What Docker prints: "busybox:latest" for docker.io/library, the full
 * name otherwise. */
char *image_ref_familiar(const struct image_ref *r);
