/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "basic/error.h"
#include "image/digest.h"

/* A client of the OCI distribution API (v2) over libcurl.
 *
 * Auth: anonymous; bearer tokens (a 401 with WWW-Authenticate: Bearer
 * realm=,service=,scope= is answered by fetching a token from the realm,
 * with basic credentials when we have them, then retrying once; tokens
 * are cached per repository); basic auth (sent up front once the registry
 * asked for it).  Credentials come from the options, else from
 * registry_auth_lookup() (Docker's config.json format, "auths": {"host":
 * {"auth": base64(user:pass)}}).
 *
 * Transport: https by default; plain http only for a registry marked
 * insecure in the options or when the host is localhost / 127.0.0.0/8 /
 * [::1] (Docker's rule).  Only http and https, also across redirects.
 * Redirects of GET and HEAD are followed here (blob storage), sending our
 * Authorization only to the origin it belongs to, and never from https
 * down to http unless insecure.  Transient failures (connect errors,
 * 429, 502, 503, 504) are retried with exponential back-off from 100 ms
 * (BERTH_REGISTRY_RETRY_MS overrides, read by registry_new()), up to
 * O->retries times.
 *
 * Errors name the object ("localhost:5000/x:latest: manifest unknown",
 * with the registry's own message when it sent one): ENOENT for 404,
 * EACCES for 401/403 after auth, EBADMSG for a digest or size mismatch,
 * EAGAIN for 429 after the retries, EIO for 5xx, ECONNREFUSED /
 * EHOSTUNREACH / ETIMEDOUT naming the URL, EINVAL for a bad repository
 * name, tag or digest (checked before anything goes out).
 *
 * A struct registry is one CURL handle: use it from one thread at a
 * time.  libcurl is told not to use signals; a caller writing to sockets
 * should ignore SIGPIPE as usual. */

struct registry_opts {
        const char *domain;        /* "localhost:5000", "docker.io" (→ registry-1.docker.io) */
        bool insecure;             /* talk http to it; unverified TLS where https remains (realm, redirects) */
        const char *username, *password; /* NULL: anonymous (or from the auth file) */
        const char *auth_file;     /* Docker config.json with "auths"; NULL: none */
        const char *ca_file;       /* extra CA bundle, NULL: system */
        int retries;               /* 0: default (3), < 0: none */
        const char *user_agent;    /* NULL: "berth/VERSION" */
};

struct registry;
int registry_new(const struct registry_opts *o, struct registry **ret, struct error *err);
void registry_free(struct registry *r);

/* GET /v2/REPO/manifests/REF (a tag or a digest), accepting OCI and
 * Docker manifests and indexes.  Returns the body, its media type (the
 * Content-Type, else sniffed) and its digest (computed; when REF is a
 * digest a mismatch is an error).  Errors: ENOENT for 404 ("manifest
 * unknown"), EACCES for 401/403 after auth ("unauthorized: …"). */
int registry_get_manifest(struct registry *r, const char *repo, const char *ref, char **ret_body,
                          size_t *ret_len, char **ret_media_type, char ret_digest[DIGEST_BUF_SIZE],
                          struct error *err);
/* PUT a manifest under REF (tag or digest). */
int registry_put_manifest(struct registry *r, const char *repo, const char *ref, const char *media_type,
                          const char *body, size_t len, struct error *err);

/* Progress of a transfer: bytes so far and the total when known (else 0).
 * A resumed download counts from where the file was. */
typedef void (*registry_progress_fn)(uint64_t done, uint64_t total, void *userdata);

/* GET blob DIGEST into OUT_FD (a regular file opened O_RDWR), appending:
 * when OUT_FD already holds N bytes (a download that broke), asks for
 * Range: bytes=N- and continues (starting over when the server ignores
 * the range); a transfer that breaks off is resumed the same way, up to
 * the retry count.  The digest of the whole file is checked at the end: a
 * mismatch is EBADMSG and OUT_FD is truncated to 0.  EXPECTED_SIZE (-1:
 * unknown) is checked too, and no more than that is written.  On success
 * the file offset is at its end. */
int registry_get_blob(struct registry *r, const char *repo, const char *digest, int64_t expected_size, int out_fd,
                      registry_progress_fn progress, void *userdata, struct error *err);
/* HEAD the blob: 1 when the registry has it, 0 when not (404). */
int registry_blob_exists(struct registry *r, const char *repo, const char *digest, struct error *err);
/* Upload SIZE bytes from IN_FD (read with pread() from offset 0) as blob
 * DIGEST.  Nothing is sent when a HEAD finds the blob.  Tries a
 * cross-repository mount from FROM_REPO first when given (201: done; 202:
 * the upload goes on where the answer says), then POST + PUT ?digest=
 * (monolithic), or PATCH chunks of CHUNK bytes (Content-Range) and a PUT
 * ?digest= when CHUNK > 0.  The registry checks the digest: a mismatch is
 * EBADMSG.  A failed upload is cancelled (DELETE), best effort. */
int registry_put_blob(struct registry *r, const char *repo, const char *digest, int in_fd, uint64_t size,
                      const char *from_repo, uint64_t chunk, registry_progress_fn progress, void *userdata,
                      struct error *err);

/* Credentials (Docker's config.json "auths"): read, add, remove.  The file
 * is written 0600 via a temporary and rename (through a symbolic link to
 * its target); other keys are kept.  Keys may be URLs as Docker writes
 * them ("https://index.docker.io/v1/"); docker.io, index.docker.io and
 * registry-1.docker.io are one registry.  A missing file holds nothing.
 *
 * lookup: 1 with malloc'd *RET_USER and *RET_PASS, 0 when FILE has none for
 * DOMAIN (outputs untouched).  store: 0 (USER must not hold ':').
 * remove: 1 when something was removed, 0 when there was nothing. */
int registry_auth_lookup(const char *auth_file, const char *domain, char **ret_user, char **ret_pass,
                         struct error *err);
int registry_auth_store(const char *auth_file, const char *domain, const char *user, const char *pass,
                        struct error *err);
int registry_auth_remove(const char *auth_file, const char *domain, struct error *err);
/* Check credentials against the registry (GET /v2/ with auth): 0 when
 * accepted, -EACCES when refused. */
int registry_login_check(struct registry *r, struct error *err);

/* Parsers of what registries send: used by the client, public for tests
 * and fuzzing (the input is untrusted). */
struct registry_challenge {
        char *scheme;                  /* "Bearer", "Basic" */
        char *realm, *service, *scope; /* NULL when absent */
};
/* The first challenge of a WWW-Authenticate value: SCHEME key=value,
 * key="quoted, with \"escapes\"", …  0, or -EINVAL with *RET untouched. */
int registry_challenge_parse(const char *header, struct registry_challenge *ret);
void registry_challenge_clear(struct registry_challenge *c);
/* The query string for a token realm, "service=S&scope=A&scope=B" (the
 * challenge's scope may hold several, space-separated), percent-encoded;
 * "" when the challenge has neither.  malloc'd. */
char *registry_token_query(const struct registry_challenge *c);
/* The token in a token server's JSON answer ("token", else
 * "access_token"): 0 with a malloc'd token, -EPROTO when there is none fit
 * for a header line (printable ASCII, no spaces). */
int registry_token_parse(const char *body, size_t len, char **ret);
