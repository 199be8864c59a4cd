/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdlib.h>
#include <string.h>

#include "image/store-internal.h"

/* Prepare SQL and bind the NULL-terminated text ARGS to ?1, ?2, … */
int store_sql_prep(struct store *s, const char *sql, const char *const *args, sqlite3_stmt **ret, struct error *err)
{
        sqlite3_stmt *st = NULL;
        int rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);

        if (rc != SQLITE_OK)
                return store_sql_error(s, rc, "prepare a query", err);
        for (int i = 0; args && args[i]; i++)
                sqlite3_bind_text(st, i + 1, args[i], -1, SQLITE_TRANSIENT);
        *ret = st;
        return 0;
}

/* Run SQL (no rows wanted) with text ARGS. */
int store_sql_run(struct store *s, const char *sql, const char *const *args, struct error *err)
{
        sqlite3_stmt *st = NULL;
        int rc, r = store_sql_prep(s, sql, args, &st, err);

        if (r < 0)
                return r;
        rc = sqlite3_step(st);
        sqlite3_finalize(st);
        if (rc != SQLITE_DONE && rc != SQLITE_ROW)
                return store_sql_error(s, rc, "update the database", err);
        return 0;
}

int store_sql_begin(struct store *s, struct error *err)
{
        int rc = sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);

        return rc == SQLITE_OK ? 0 : store_sql_error(s, rc, "begin a transaction", err);
}

int store_sql_commit(struct store *s, int r, struct error *err)
{
        int rc;

        if (r < 0) {
                (void) sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
                return r;
        }
        rc = sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
        if (rc != SQLITE_OK) {
                (void) sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
                return store_sql_error(s, rc, "commit", err);
        }
        return 0;
}

char *store_sql_str(sqlite3_stmt *st, int i)
{
        const unsigned char *t = sqlite3_column_text(st, i);
        return t ? xstrdup((const char *) t) : NULL;
}

/* The text column 0 of every row of SQL with ARGS, NULL-terminated. */
int store_sql_strv(struct store *s, const char *sql, const char *const *args, char ***ret, struct error *err)
{
        sqlite3_stmt *st = NULL;
        char **v = xzalloc(sizeof(char *));
        size_t n = 0;
        int rc, r = store_sql_prep(s, sql, args, &st, err);

        if (r < 0) {
                free(v);
                return r;
        }
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                v = xrealloc(v, (n + 2) * sizeof(char *));
                v[n++] = store_sql_str(st, 0);
                v[n] = NULL;
        }
        sqlite3_finalize(st);
        if (rc != SQLITE_DONE) {
                strv_free(v);
                return store_sql_error(s, rc, "query the database", err);
        }
        *ret = v;
        return 0;
}


int store_sql_rows(struct store *s, const char *sql, const char *const *args, size_t size,
                   int (*load)(sqlite3_stmt *st, void *row, void *userdata, struct error *err),
                   void (*clear)(void *row), void *userdata, void **ret, size_t *ret_n, struct error *err)
{
        sqlite3_stmt *st = NULL;
        char *v = NULL;
        size_t n = 0;
        int rc = SQLITE_DONE, r = store_sql_prep(s, sql, args, &st, err);

        if (r < 0)
                return r;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                v = xrealloc(v, (n + 1) * size);
                memset(v + n * size, 0, size);
                r = load(st, v + n * size, userdata, err);
                n++;
                if (r < 0)
                        break;
        }
        sqlite3_finalize(st);
        if (r >= 0 && rc != SQLITE_DONE)
                r = store_sql_error(s, rc, "query the database", err);
        if (r < 0) {
                for (size_t i = 0; i < n; i++)
                        clear(v + i * size);
                free(v);
                return r;
        }
        *ret = v;
        *ret_n = n;
        return 0;
}
