/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <inttypes.h>
#include <sqlite3.h>

#include "image/store.h"

#define STRINGIFY_(x) #x
#define STRINGIFY(x) STRINGIFY_(x)

struct store {
        char *root;
        sqlite3 *db;
        /* in this order: store_close() closes them as a range */
        int rootfd, blobfd, ingestfd, layerfd, gclock;
        bool leased;
};

/* The hex part of a valid digest. */
const char *store_hex(const char *digest);
/* ERR from SQLite's last error on S's database; returns the negative code. */
int store_sql_error(struct store *s, int rc, const char *what, struct error *err);
/* Hold off store_gc() (in any process) until S is closed: taken by
 * whoever adds content that no image row names yet. */
int store_lease(struct store *s, struct error *err);
void store_lease_release(struct store *s);
