/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "basic/error.h"

/* The registries configuration: $BERTH_REGISTRIES_CONF, else
 * /etc/berth/registries.conf when it exists.  A TOML subset shaped like
 * containers-registries.conf(5) version 2:
 *
 *   unqualified-search-registries = ["docker.io", "quay.io"]
 *
 *   [[registry]]
 *   location = "docker.io"          # host[:port][/path]
 *   # prefix = "docker.io/library"  # what it covers when not LOCATION
 *   insecure = false                # plain http (and unverified TLS)
 *   blocked = false                 # pulls refused
 *   mirror-by-digest-only = false   # mirrors only for name@digest
 *
 *   [[registry.mirror]]             # tried in order before LOCATION
 *   location = "mirror.example:5000/hub"
 *   insecure = true
 *   pull-from-mirror = "all"        # "digest-only", "tag-only"
 *
 * TOML as far as these need it: comments, bare and quoted keys, basic
 * strings with escapes and literal strings, booleans, integers, arrays
 * (spanning lines, trailing comma), [table] and [[array]] headers.  Keys
 * and tables this file does not know are skipped ([aliases],
 * short-name-mode, …) once they parse; an unknown key inside [[registry]]
 * or [[registry.mirror]] is an error.  Errors name the file and line:
 * "/etc/berth/registries.conf:7: expected `=`". */

#define REGCONF_DEFAULT_PATH "/etc/berth/registries.conf"

enum regconf_pull_from {
        REGCONF_PULL_ALL,         /* every reference */
        REGCONF_PULL_DIGEST_ONLY, /* name@digest only */
        REGCONF_PULL_TAG_ONLY,    /* name:tag only */
};

struct regconf_mirror {
        char *location;
        bool insecure;
        enum regconf_pull_from pull_from;
};

struct regconf_registry {
        char *prefix;   /* the references it covers: "host[:port][/path]" (LOCATION when not given) */
        char *location; /* where those are pulled from */
        bool insecure, blocked, mirror_by_digest_only;
        struct regconf_mirror *mirrors;
        size_t n_mirrors;
};

struct regconf {
        char *path;    /* the file it came from, NULL when none */
        char **search; /* unqualified-search-registries, NULL-terminated; NULL when not set */
        struct regconf_registry *registries;
        size_t n_registries;
};

/* Parse TEXT (LEN bytes), NAME being the file it came from (for errors).
 * EINVAL with "NAME:LINE: what" on a syntax or type error. */
int regconf_parse(const char *text, size_t len, const char *name, struct regconf *ret, struct error *err);
/* Read PATH; with PATH NULL, $BERTH_REGISTRIES_CONF when set (it must
 * exist), else REGCONF_DEFAULT_PATH when it exists (else an empty
 * configuration). */
int regconf_load(const char *path, struct regconf *ret, struct error *err);
void regconf_clear(struct regconf *c);

/* The [[registry]] entry that covers repository DOMAIN/PATH: the longest
 * prefix that is it or a parent of it, component-wise.  NULL when none
 * (C may be NULL). */
const struct regconf_registry *regconf_find(const struct regconf *c, const char *domain, const char *path);

/* One place to pull a repository from. */
struct regconf_source {
        char *domain; /* "mirror.example:5000" */
        char *path;   /* the repository there: "hub/library/busybox" */
        bool insecure;
        bool mirror;  /* false: the registry itself (the last one) */
};
/* Where to pull repository DOMAIN/PATH from, in order: its mirrors (those
 * that serve BY_DIGEST references or tags), then its registry (LOCATION
 * put in place of the prefix).  With no [[registry]] for it: DOMAIN/PATH
 * alone.  EPERM when the registry is blocked, EINVAL when a rewritten
 * location leaves no repository path.  C may be NULL. */
int regconf_sources(const struct regconf *c, const char *domain, const char *path, bool by_digest,
                    struct regconf_source **ret, size_t *ret_n, struct error *err);
void regconf_sources_free(struct regconf_source *v, size_t n);

/* The hosts ("host[:port]") of every insecure registry and mirror,
 * NULL-terminated (for push and login, which take a list).  malloc'd. */
char **regconf_insecure_domains(const struct regconf *c);
