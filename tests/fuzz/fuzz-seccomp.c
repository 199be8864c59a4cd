/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The linux.seccomp section: the input is the section's JSON, placed in a
 * minimal config, then validated and compiled to a filter (not loaded). */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "runtime/security.h"
#include "runtime/spec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static const char head[] = "{\"ociVersion\":\"1.0.0\",\"root\":{\"path\":\"r\"},"
                                   "\"process\":{\"args\":[\"x\"],\"cwd\":\"/\"},\"linux\":{\"seccomp\":";
        _cleanup_error_ struct error err = ERROR_INIT;
        _cleanup_free_ char *config = NULL;
        struct spec *s = NULL;
        size_t len;

        if (size > (256U << 10))
                return 0;
        len = sizeof(head) - 1 + size + 2;
        config = xmalloc(len + 1);
        memcpy(config, head, sizeof(head) - 1);
        memcpy(config + sizeof(head) - 1, data, size);
        memcpy(config + sizeof(head) - 1 + size, "}}", 3);
        if (spec_parse(config, len, &s, &err) < 0)
                return 0;
        if (s->linux_.seccomp && seccomp_validate(s->linux_.seccomp, &err) >= 0) {
                scmp_filter_ctx ctx = NULL;
                bool notify;

                if (seccomp_build(s->linux_.seccomp, &ctx, &notify, &err) >= 0)
                        seccomp_release(ctx);
        }
        spec_free(s);
        return 0;
}
