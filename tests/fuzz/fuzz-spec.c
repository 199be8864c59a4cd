/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stddef.h>
#include <stdint.h>

#include "runtime/spec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        _cleanup_error_ struct error err = ERROR_INIT;
        struct spec *s = NULL;

        /* the parser caps input at 16 MiB; past 1 MiB only slows fuzzing */
        if (size > (1U << 20))
                return 0;
        if (spec_parse((const char *) data, size, &s, &err) >= 0)
                spec_free(s);
        return 0;
}
