/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Content digests: "sha256:" and 64 lowercase hex digits (the only
 * algorithm the OCI image spec requires and the only one berth writes). */

#define DIGEST_PREFIX "sha256:"
#define DIGEST_HEX_LEN 64
#define DIGEST_STR_LEN (sizeof(DIGEST_PREFIX) - 1 + DIGEST_HEX_LEN) /* 71 */
#define DIGEST_BUF_SIZE (DIGEST_STR_LEN + 1)

/* Is S a well-formed digest ("sha256:" + 64 lowercase hex)?  Anything
 * else (other algorithms, upper case, short) is refused: a digest names a
 * file in the store. */
bool digest_valid(const char *s);

/* Streaming SHA-256 (OpenSSL libcrypto EVP underneath). */
struct digest_ctx;
struct digest_ctx *digest_new(void);
void digest_update(struct digest_ctx *c, const void *data, size_t len);
/* Write "sha256:<hex>" into RET and free C. */
void digest_final(struct digest_ctx *c, char ret[DIGEST_BUF_SIZE]);
void digest_free(struct digest_ctx *c);
/* Digest of a buffer. */
void digest_buffer(const void *data, size_t len, char ret[DIGEST_BUF_SIZE]);
/* Digest of everything readable from FD (from its current offset), and
 * how many bytes that was.  0 or -errno. */
int digest_fd(int fd, char ret[DIGEST_BUF_SIZE], uint64_t *ret_size);
