/* spindle_task_emit() (progress.h): a running task's partial results.
 *
 * Unlike progress, items are never coalesced: each is a value the caller must receive, in
 * order. So each is checked here (one msgpack value, within SPINDLE_ITEM_MAX) and written at
 * once, fenced like every task-side write, in one script call; in a synchronous client
 * (sync.h), appended to the task's in-memory record after the same checks. */
#include "common/msgpack_check.h"
#include "common/sync_task.h"
#include "worker/worker_impl.h"

int spindle_task_emit(spindle_task_ctx *ctx, const void *buf, size_t len)
{
    if (buf == NULL || len == 0)
        return spindle_error_set(&ctx->call_err, SPINDLE_ERR_INVALID,
                                 "item of task %s is empty: pack exactly one msgpack value",
                                 ctx->id);
    if (len > SPINDLE_ITEM_MAX)
        return spindle_error_set(&ctx->call_err, SPINDLE_ERR_TOO_LARGE,
                                 "item of task %s is %zu bytes; at most %u are accepted", ctx->id,
                                 len, SPINDLE_ITEM_MAX);
    const char *bad = spindle_msgpack_check(buf, len, SPINDLE_MSGPACK_MAX_DEPTH);
    if (bad)
        return spindle_error_set(&ctx->call_err, SPINDLE_ERR_INVALID,
                                 "item of task %s is %s (%zu bytes): pack exactly one msgpack "
                                 "value",
                                 ctx->id, bad, len);
    size_t max_items = (size_t)(ctx->max_items > 0 ? ctx->max_items : SPINDLE_ITEMS_MAX_DEFAULT);
    if (ctx->items >= max_items)
        return spindle_error_set(&ctx->call_err, SPINDLE_ERR_TOO_LARGE,
                                 "task %s has emitted %zu items, the worker's max_items", ctx->id,
                                 ctx->items);
    ctx->items++;
    int cancel = 0;
    if (ctx->store == NULL && ctx->sync) {
        if (spindle_sync_task_add_item(ctx->sync, buf, len) != SPINDLE_OK)
            return spindle_error_set(&ctx->call_err, SPINDLE_ERR_NOMEM,
                                     "item of task %s (%zu bytes): out of memory", ctx->id, len);
    } else if (ctx->store == NULL) {
        return spindle_error_set(&ctx->call_err, SPINDLE_ERR_INVALID,
                                 "item of task %s: no Redis connection in this context", ctx->id);
    } else {
        int rc = spindle_store_item_add(ctx->store, ctx->queue, ctx->id, ctx->worker_id,
                                        ctx->attempt, buf, len, &cancel);
        if (rc != SPINDLE_OK)
            return spindle_error_set(&ctx->call_err, rc, "%s", ctx->store->err->msg);
    }
    if (cancel && ctx->cancel)
        atomic_store(ctx->cancel, 1);
    if (cancel || spindle_task_cancelled(ctx))
        return spindle_error_set(&ctx->call_err, SPINDLE_ERR_CANCELLED,
                                 "task %s has a cancel request (the item was stored)", ctx->id);
    return SPINDLE_OK;
}
