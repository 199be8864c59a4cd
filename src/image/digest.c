/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <openssl/evp.h>
#include <string.h>
#include <unistd.h>

#include "basic/macro.h"
#include "image/digest.h"

struct digest_ctx {
        EVP_MD_CTX *md;
};

bool digest_valid(const char *s)
{
        if (!s || strncmp(s, DIGEST_PREFIX, sizeof(DIGEST_PREFIX) - 1) != 0)
                return false;
        s += sizeof(DIGEST_PREFIX) - 1;
        for (size_t i = 0; i < DIGEST_HEX_LEN; i++)
                if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
                        return false;
        return s[DIGEST_HEX_LEN] == '\0';
}

/* libcrypto only fails here on allocation failure or a broken build (no
 * SHA-256 provider); neither is something a caller could handle. */
struct digest_ctx *digest_new(void)
{
        struct digest_ctx *c = xzalloc(sizeof(*c));

        c->md = EVP_MD_CTX_new();
        if (!c->md)
                oom();
        if (EVP_DigestInit_ex(c->md, EVP_sha256(), NULL) != 1)
                abort();
        return c;
}

void digest_update(struct digest_ctx *c, const void *data, size_t len)
{
        if (len == 0)
                return;
        if (EVP_DigestUpdate(c->md, data, len) != 1)
                abort();
}

void digest_final(struct digest_ctx *c, char ret[DIGEST_BUF_SIZE])
{
        static const char hex[] = "0123456789abcdef";
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned int n = 0;
        char *p;

        if (EVP_DigestFinal_ex(c->md, md, &n) != 1 || n != DIGEST_HEX_LEN / 2)
                abort();
        memcpy(ret, DIGEST_PREFIX, sizeof(DIGEST_PREFIX) - 1);
        p = ret + sizeof(DIGEST_PREFIX) - 1;
        for (unsigned int i = 0; i < n; i++) {
                *p++ = hex[md[i] >> 4];
                *p++ = hex[md[i] & 0xf];
        }
        *p = '\0';
        digest_free(c);
}

void digest_free(struct digest_ctx *c)
{
        if (!c)
                return;
        EVP_MD_CTX_free(c->md);
        free(c);
}

void digest_buffer(const void *data, size_t len, char ret[DIGEST_BUF_SIZE])
{
        struct digest_ctx *c = digest_new();

        digest_update(c, data, len);
        digest_final(c, ret);
}

int digest_fd(int fd, char ret[DIGEST_BUF_SIZE], uint64_t *ret_size)
{
        struct digest_ctx *c = digest_new();
        uint64_t total = 0;
        char buf[64 * 1024];

        for (;;) {
                ssize_t n = RETRY_EINTR(read(fd, buf, sizeof(buf)));
                if (n < 0) {
                        int r = -errno;
                        digest_free(c);
                        return r;
                }
                if (n == 0)
                        break;
                digest_update(c, buf, (size_t) n);
                total += (uint64_t) n;
        }
        digest_final(c, ret);
        if (ret_size)
                *ret_size = total;
        return 0;
}
