/* The middleware chain (middleware.h): registration, and the befores and afters that
 * spindle_execute() runs around every task.
 *
 * Why an onion rather than two independent lists: a middleware that set something up in its
 * before (took a token, started a clock, opened a log span) must see how the task ended, even
 * when a later middleware refused it; one that never ran its before must not see the end. So
 * the end hooks run for exactly the middlewares whose before ran, innermost first. */
#include <stdlib.h>
#include <string.h>

#include "common/names.h"
#include "worker/worker_impl.h"

int spindle_registry_use(spindle_registry *reg, const spindle_middleware *mw)
{
    if (mw == NULL)
        return spindle_error_set(&reg->err, SPINDLE_ERR_INVALID, "middleware is NULL");
    int rc = spindle_name_check(mw->name, "middleware", &reg->err);
    if (rc != SPINDLE_OK)
        return rc;
    if (mw->before == NULL && mw->after == NULL && mw->on_error == NULL)
        return spindle_error_set(&reg->err, SPINDLE_ERR_INVALID,
                                 "middleware '%s' has no hook (before, after, on_error all NULL)",
                                 mw->name);
    for (size_t i = 0; i < reg->nmw; i++)
        if (strcmp(reg->mw[i].name, mw->name) == 0)
            return spindle_error_set(&reg->err, SPINDLE_ERR_INVALID,
                                     "middleware '%s' is already registered", mw->name);
    if (reg->nmw == reg->capmw) {
        size_t cap = reg->capmw ? reg->capmw * 2 : 4;
        spindle_middleware *m = realloc(reg->mw, cap * sizeof(*m));
        if (m == NULL)
            return spindle_error_set(&reg->err, SPINDLE_ERR_NOMEM,
                                     "registering middleware '%s': out of memory", mw->name);
        reg->mw = m;
        reg->capmw = cap;
    }
    char *name = strdup(mw->name);
    if (name == NULL)
        return spindle_error_set(&reg->err, SPINDLE_ERR_NOMEM,
                                 "registering middleware '%s': out of memory", mw->name);
    reg->mw[reg->nmw] = *mw;
    reg->mw[reg->nmw].name = name;
    reg->nmw++;
    return SPINDLE_OK;
}

size_t spindle_registry_middleware_count(const spindle_registry *reg)
{
    return reg->nmw;
}

int spindle_middleware_enter(const spindle_registry *reg, spindle_task_ctx *ctx, size_t *entered)
{
    *entered = 0;
    for (size_t i = 0; i < reg->nmw; i++) {
        const spindle_middleware *m = &reg->mw[i];
        *entered = i + 1;
        if (m->before == NULL)
            continue;
        int rc = m->before(ctx, m->userdata);
        if (rc == SPINDLE_OK && !ctx->failed)
            continue;
        if (!ctx->failed)
            spindle_task_fail(ctx, "middleware '%s' refused the task with code %d (%s)", m->name,
                              rc, spindle_status_name(rc));
        return rc != SPINDLE_OK ? rc : SPINDLE_ERR_TASK_FAILED;
    }
    return SPINDLE_OK;
}

void spindle_middleware_leave(const spindle_registry *reg, spindle_task_ctx *ctx, size_t entered,
                              int ok, const char *payload, size_t len, double elapsed_ms)
{
    if (entered == 0)
        return;
    /* The error text as a C string for on_error: execute.c keeps it under TASK_ERROR_MAX. */
    char error[TASK_ERROR_MAX];
    if (!ok) {
        size_t n = len < sizeof(error) - 1 ? len : sizeof(error) - 1;
        if (n)
            memcpy(error, payload, n);
        error[n] = '\0';
    }
    for (size_t i = entered; i-- > 0;) {
        const spindle_middleware *m = &reg->mw[i];
        if (ok && m->after)
            m->after(ctx, payload, len, elapsed_ms, m->userdata);
        else if (!ok && m->on_error)
            m->on_error(ctx, error, elapsed_ms, m->userdata);
    }
}
