/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "engine/engine-internal.h"

/* Generated names: a harbour word and a ship's, "calm_schooner". */
static const char *const left[] = {
        "amber",  "bold",   "brave",  "breezy", "bright", "calm",   "clever", "coastal", "cool",   "crisp",
        "deep",   "eager",  "fair",   "fleet",  "gentle", "glad",   "golden", "grand",   "hardy",  "keen",
        "kind",   "lively", "lucky",  "merry",  "misty",  "nimble", "noble",  "patient", "proud",  "quick",
        "quiet",  "rapid",  "salty",  "serene", "sharp",  "silent", "snug",   "steady",  "stout",  "sunny",
        "swift",  "tidal",  "trusty", "vivid",  "wandering", "warm", "wise",  "witty",   "young",  "zealous",
};
static const char *const right[] = {
        "anchor",  "barge",    "beacon",   "brig",     "buoy",    "caravel", "catamaran", "clipper", "coracle",
        "corvette", "cutter",  "dhow",     "dinghy",   "dory",    "ferry",   "frigate",   "galleon", "gig",
        "harbor",  "hull",     "jetty",    "junk",     "keel",    "ketch",   "launch",    "lighthouse", "mast",
        "mooring", "pier",     "pilot",    "pinnace",  "quay",    "raft",    "rudder",    "sampan",  "schooner",
        "shallop", "skiff",    "sloop",    "tender",   "trawler", "tug",     "wharf",     "yawl",
};

bool container_name_valid(const char *name)
{
        static const char alnum[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
        size_t n = name ? strlen(name) : 0;

        if (n == 0 || n > 253 || !strchr(alnum, name[0]))
                return false;
        for (size_t i = 1; i < n; i++)
                if (!strchr(alnum, name[i]) && !strchr("_.-", name[i]))
                        return false;
        return true;
}

static bool name_taken(struct engine *e, const char *name)
{
        _cleanup_strv_free_ char **ids = NULL;

        if (store_sql_strv(e->store, "SELECT id FROM containers WHERE name = ?1", (const char *[]) { name, NULL },
                           &ids, NULL) < 0)
                return false; /* the insert will tell */
        return ids[0] != NULL;
}

char *container_name_generate(struct engine *e)
{
        for (unsigned attempt = 0;; attempt++) {
                uint32_t rnd[2];
                char *name;

                if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd))
                        abort();
                name = attempt < 10 ? xasprintf("%s_%s", left[rnd[0] % ELEMENTSOF(left)],
                                                right[rnd[1] % ELEMENTSOF(right)])
                                    : xasprintf("%s_%s%u", left[rnd[0] % ELEMENTSOF(left)],
                                                right[rnd[1] % ELEMENTSOF(right)], rnd[0] % 100);
                if (!name_taken(e, name))
                        return name;
                free(name);
        }
}
