/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#include "image/parallel.h"

struct pool {
        parallel_job_fn job;
        void *ctx;
        size_t n, next;
        pthread_mutex_t lock;
        int r;            /* the first failure: no job is started after it */
        struct error err; /* its error, reported once */
};

struct worker {
        struct pool *pool;
        struct registry *reg;
        pthread_t thread;
        bool started;
};

static void pool_failed(struct pool *pool, int r, struct error *e)
{
        pthread_mutex_lock(&pool->lock);
        if (pool->r >= 0) {
                pool->r = r;
                pool->err = *e;
                *e = (struct error) ERROR_INIT;
        }
        pthread_mutex_unlock(&pool->lock);
        error_clear(e);
}

static void *work(void *userdata)
{
        struct worker *w = userdata;
        struct pool *pool = w->pool;

        for (;;) {
                struct error e = ERROR_INIT;
                size_t i = 0;
                bool take;
                int r;

                pthread_mutex_lock(&pool->lock);
                take = pool->r >= 0 && pool->next < pool->n;
                if (take)
                        i = pool->next++;
                pthread_mutex_unlock(&pool->lock);
                if (!take)
                        return NULL;
                r = pool->job(i, w->reg, pool->ctx, &e);
                if (r < 0)
                        pool_failed(pool, r, &e);
        }
}

int parallel_run(struct registry *client, const struct registry_opts *ro, size_t n, size_t k, parallel_job_fn job,
                 void *ctx, struct error *err)
{
        struct pool pool = { .job = job, .ctx = ctx, .n = n, .err = ERROR_INIT };
        _cleanup_free_ struct worker *w = NULL;
        size_t have = 1;

        if (n == 0)
                return 0;
        if (k == 0)
                k = 1;
        if (k > n)
                k = n;
        w = xzalloc(k * sizeof(*w));
        pthread_mutex_init(&pool.lock, NULL);
        w[0] = (struct worker) { .pool = &pool, .reg = client };
        for (; have < k; have++) {
                struct error ignored = ERROR_INIT;

                w[have].pool = &pool;
                if (registry_new(ro, &w[have].reg, &ignored) < 0) {
                        error_clear(&ignored);
                        break;
                }
        }
        for (size_t i = 1; i < have; i++)
                w[i].started = pthread_create(&w[i].thread, NULL, work, &w[i]) == 0;
        (void) work(&w[0]);
        for (size_t i = 1; i < have; i++) {
                if (w[i].started)
                        pthread_join(w[i].thread, NULL);
                registry_free(w[i].reg);
        }
        pthread_mutex_destroy(&pool.lock);
        if (pool.r >= 0)
                return 0;
        if (err && !err->msg)
                *err = pool.err;
        else
                error_clear(&pool.err);
        return pool.r;
}
