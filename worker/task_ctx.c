/* What a running task sees of itself (worker.h): ids, attempt, userdata, failing, and
 * whether it was asked to stop. */
#include <stdarg.h>
#include <stdio.h>

#include "worker/worker_impl.h"

int spindle_task_fail(spindle_task_ctx *ctx, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ctx->error, sizeof(ctx->error), fmt, ap);
    va_end(ap);
    ctx->failed = 1;
    return SPINDLE_ERR_TASK_FAILED;
}

const char *spindle_task_id(const spindle_task_ctx *ctx)
{
    return ctx->id;
}

const char *spindle_task_queue(const spindle_task_ctx *ctx)
{
    return ctx->queue;
}

const char *spindle_task_func(const spindle_task_ctx *ctx)
{
    return ctx->func;
}

long spindle_task_attempt(const spindle_task_ctx *ctx)
{
    return ctx->attempt;
}

void *spindle_task_userdata(const spindle_task_ctx *ctx)
{
    return ctx->userdata;
}

int spindle_task_cancelled(const spindle_task_ctx *ctx)
{
    return ctx->cancel != NULL && atomic_load(ctx->cancel) != 0;
}
