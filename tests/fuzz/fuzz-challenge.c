/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What a registry says about auth: the input up to its first NUL is a
 * WWW-Authenticate value (registry_challenge_parse, then the token query
 * made from it), what follows is a token server's JSON answer
 * (registry_token_parse).  Without a NUL the whole input is both. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image/registry.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

_noreturn_ static void invariant_failed(const char *what, const char *s)
{
        fprintf(stderr, "fuzz-challenge: %s: `%s`\n", what, s);
        abort();
}

static void fuzz_header(const char *header)
{
        _cleanup_(registry_challenge_clear) struct registry_challenge c = {};
        _cleanup_free_ char *query = NULL;

        if (registry_challenge_parse(header, &c) < 0) {
                if (c.scheme || c.realm || c.service || c.scope)
                        invariant_failed("failed parse wrote its output", header);
                return;
        }
        if (!c.scheme || !*c.scheme || strpbrk(c.scheme, " \t,"))
                invariant_failed("scheme empty or holding a separator", header);
        /* the query goes into a URL as it is: only unreserved bytes,
         * percent escapes and the separators we put there */
        query = registry_token_query(&c);
        for (const char *p = query; *p; p++)
                if (!strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~%=&", *p))
                        invariant_failed("token query holds a byte that needs escaping", query);
}

static void fuzz_token(const char *body, size_t len)
{
        _cleanup_free_ char *token = NULL;

        if (registry_token_parse(body, len, &token) < 0)
                return;
        /* it goes into an Authorization header line */
        if (!token || !*token)
                invariant_failed("empty token", "");
        for (const char *p = token; *p; p++)
                if (*p <= ' ' || *p >= 0x7f)
                        invariant_failed("token unfit for a header line", token);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        _cleanup_free_ char *header = NULL;
        const char *nul;

        if (size > (64U << 10))
                return 0;
        header = xstrndup((const char *) data, size);
        fuzz_header(header);
        nul = memchr(data, '\0', size);
        if (nul)
                fuzz_token(nul + 1, size - (size_t) ((const uint8_t *) nul - data) - 1);
        else
                fuzz_token((const char *) data, size);
        return 0;
}
