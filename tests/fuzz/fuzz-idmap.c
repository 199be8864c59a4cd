/* SPDX-License-Identifier: GPL-2.0-or-later */
/* /etc/subuid-style id ranges checked against requested mappings: the
 * first line of the input holds up to 8 mappings "C H S;C H S;...", the
 * rest is the file. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "runtime/namespace.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct spec_id_mapping maps[8];
        _cleanup_free_ char *text = NULL;
        char *nl, *p;
        size_t n = 0;

        if (size > (64U << 10))
                return 0;
        text = xstrndup((const char *) data, size);
        nl = strchr(text, '\n');
        if (!nl)
                return 0;
        *nl = 0;
        for (p = text; n < ELEMENTSOF(maps) && *p;) {
                unsigned c, h, s;
                int used = 0;

                if (sscanf(p, "%u %u %u%n", &c, &h, &s, &used) != 3 || used <= 0)
                        break;
                maps[n++] = (struct spec_id_mapping){ .container_id = c, .host_id = h, .size = s };
                p += used;
                while (*p == ';' || *p == ' ')
                        p++;
        }
        (void) ns_subid_first_outside(nl + 1, "berth", 1000, 1000, maps, n);
        (void) ns_subid_first_outside(nl + 1, NULL, 0, 0, maps, n);
        return 0;
}
