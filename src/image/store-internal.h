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

/* Small SQLite helpers (also for the engine's tables, in the same
 * database).  ARGS: NULL-terminated texts bound to ?1, ?2, … */
int store_sql_prep(struct store *s, const char *sql, const char *const *args, sqlite3_stmt **ret, struct error *err);
/* Run SQL, no rows wanted. */
int store_sql_run(struct store *s, const char *sql, const char *const *args, struct error *err);
/* BEGIN IMMEDIATE; store_sql_commit() commits when R >= 0, else rolls
 * back; returns R or the commit's error. */
int store_sql_begin(struct store *s, struct error *err);
int store_sql_commit(struct store *s, int r, struct error *err);
/* Column I as a malloc'd string (NULL for NULL). */
char *store_sql_str(sqlite3_stmt *st, int i);
/* The text column 0 of every row, NULL-terminated. */
int store_sql_strv(struct store *s, const char *sql, const char *const *args, char ***ret, struct error *err);
/* Every row of SQL, each loaded by LOAD into an element of SIZE bytes
 * (zeroed first) of a malloc'd array; on failure CLEAR undoes the loaded
 * ones. */
int store_sql_rows(struct store *s, const char *sql, const char *const *args, size_t size,
                   int (*load)(sqlite3_stmt *st, void *row, void *userdata, struct error *err),
                   void (*clear)(void *row), void *userdata, void **ret, size_t *ret_n, struct error *err);
