/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "basic/timefmt.h"
#include "engine/engine-internal.h"

/* Does the runtime still know C (its state directory under our --root)? */
static bool runtime_knows(struct engine *e, const struct container *c)
{
        _cleanup_strv_free_ char **argv = engine_runtime_argv(e, c);
        _cleanup_free_ char *state = xasprintf("%s/%s", argv[2], c->id);

        return access(state, F_OK) == 0;
}

static bool needs_repair(struct engine *e, const struct container *c)
{
        /* the status first: an exited container costs no system call (ps) */
        if (!container_running(c) && strcmp(container_state(c), "created") != 0)
                return false;
        if (container_monitor_alive(c))
                return false;
        return container_running(c) || runtime_knows(e, c);
}

int container_reconcile_locked(struct engine *e, struct container *c, struct error *err)
{
        json_object *st;
        bool was_running;
        int r;

        container_status_load(c);
        if (!needs_repair(e, c))
                return 0;
        was_running = container_running(c);
        container_teardown(e, c);
        if (!was_running)
                return 0; /* created, its monitor killed before the start: it stays created */
        /* the monitor died (kill -9, or the host rebooted): nobody knows how the container ended */
        st = json_object_get(c->status);
        json_object_object_add(st, "state", json_object_new_string("exited"));
        json_object_object_add(st, "pid", json_object_new_int(0));
        json_object_object_add(st, "exit_code", json_object_new_int(-1));
        {
                _cleanup_free_ char *now = time_now_rfc3339();
                json_object_object_add(st, "finished_at", json_object_new_string(now));
        }
        json_object_object_add(st, "error", json_object_new_string("its monitor died: exit code unknown"));
        r = container_status_save(c, st, err);
        json_object_put(st);
        container_status_load(c);
        return r;
}

int engine_reconcile(struct engine *e, struct container *c, struct error *err)
{
        _cleanup_close_ int lock = -EBADF;

        if (!needs_repair(e, c))
                return 0;
        lock = container_lock(c, err);
        if (lock < 0)
                return lock;
        return container_reconcile_locked(e, c, err);
}
