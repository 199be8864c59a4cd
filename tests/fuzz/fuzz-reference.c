/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Image references: the input is one reference string.  A parsed one must
 * print (full, repo, familiar) and its full form must parse back to the
 * same full form: pull, tag and the store all key images by that string. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image/reference.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

_noreturn_ static void invariant_failed(const char *input, const char *full, const char *why)
{
        fprintf(stderr, "fuzz-reference: `%s` (full `%s`): %s\n", input, full, why);
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        _cleanup_(image_ref_clear) struct image_ref ref = {}, again = {};
        _cleanup_error_ struct error err = ERROR_INIT, err2 = ERROR_INIT;
        _cleanup_free_ char *s = NULL, *full = NULL, *repo = NULL, *familiar = NULL, *full2 = NULL;

        /* names stop at 255 characters, tags at 128, digests at 71; a NUL
         * would only cut the string short */
        if (size > 1024 || memchr(data, '\0', size))
                return 0;
        s = xstrndup((const char *) data, size);
        if (image_ref_parse(s, &ref, &err) < 0) {
                if (!err.msg)
                        invariant_failed(s, "", "failure without an error message");
                return 0;
        }
        if (!ref.domain || !ref.path || (!ref.tag && !ref.digest))
                invariant_failed(s, "", "parsed reference lacks a domain, path, or both tag and digest");
        full = image_ref_full(&ref);
        repo = image_ref_repo(&ref);
        familiar = image_ref_familiar(&ref);
        if (strncmp(full, repo, strlen(repo)) != 0)
                invariant_failed(s, full, "full form does not start with the repository");
        if (image_ref_parse(full, &again, &err2) < 0)
                invariant_failed(s, full, err2.msg ? err2.msg : "full form does not parse");
        full2 = image_ref_full(&again);
        if (strcmp(full, full2) != 0)
                invariant_failed(s, full, "full form parses to a different reference");
        if (again.short_name)
                invariant_failed(s, full, "full form parses as a short name");
        return 0;
}
