/* Channels from the running task's side (channel.h): the task reads its input, writes its
 * output and checks the cancel event of its own channel, its group's, or the global one.
 *
 * Every call goes through begin(), the one place that needs Redis: the slot's connection
 * (ctx->store), with its error record pointed at the task's own (ctx->chan_err) for the
 * duration of the call, so that a task's failed channel call never overwrites the slot's
 * message and the task can read it with spindle_task_channel_errstr(). A task run by a
 * synchronous client (sync.h) has no store but its record, which lends it the client's
 * in-memory channels (common/sync_channel.h): the same calls go there, with the same checks. */
#include <stdlib.h>
#include <string.h>

#include "common/channel_check.h"
#include "common/sync_channel.h"
#include "common/sync_task.h"
#include "store/channel.h"
#include "worker/worker_impl.h"

/* The task's channel for scope, in the store's form. The group is read from the task hash on
 * first use and remembered, absent or not, for the rest of the run. */
static int resolve(spindle_task_ctx *ctx, spindle_scope scope, spindle_chan_id *id)
{
    memset(id, 0, sizeof(*id));
    id->scope = scope;
    switch (scope) {
    case SPINDLE_SCOPE_TASK:
        id->queue = ctx->queue;
        id->id = ctx->id;
        return SPINDLE_OK;
    case SPINDLE_SCOPE_GROUP:
        if (!ctx->group_read) {
            /* A synchronous client's tasks are in no group: it has no way to put them in one. */
            int rc = ctx->store
                         ? spindle_store_task_group(ctx->store, ctx->queue, ctx->id, ctx->group)
                         : SPINDLE_ERR_NOT_FOUND;
            if (rc == SPINDLE_ERR_NOT_FOUND)
                ctx->group[0] = '\0';
            else if (rc != SPINDLE_OK)
                return rc;
            ctx->group_read = 1;
        }
        if (ctx->group[0] == '\0')
            return spindle_error_set(&ctx->chan_err, SPINDLE_ERR_NOT_FOUND,
                                     "task %s is in no group", ctx->id);
        id->group = ctx->group;
        return SPINDLE_OK;
    case SPINDLE_SCOPE_GLOBAL:
        return SPINDLE_OK;
    }
    return spindle_error_set(&ctx->chan_err, SPINDLE_ERR_INVALID, "channel scope %d is not a scope",
                             (int)scope);
}

/* Starts a channel call: lends the store the task's error record (*saved keeps the slot's,
 * for end()) and resolves scope. */
static int begin(spindle_task_ctx *ctx, spindle_scope scope, spindle_chan_id *id,
                 spindle_error **saved)
{
    spindle_error_clear(&ctx->chan_err);
    *saved = NULL;
    if (ctx->store == NULL && ctx->sync == NULL)
        return spindle_error_set(&ctx->chan_err, SPINDLE_ERR_INVALID,
                                 "task %s: channels need a Redis connection, and this task runs "
                                 "without one",
                                 ctx->id ? ctx->id : "?");
    if (ctx->store) {
        *saved = ctx->store->err;
        ctx->store->err = &ctx->chan_err;
    }
    return resolve(ctx, scope, id);
}

/* The name a synchronous client's table knows the channel by (sync_channel.h). */
static const char *sync_name(const spindle_chan_id *id)
{
    return id->scope == SPINDLE_SCOPE_TASK ? id->id : id->group;
}

static int end(spindle_task_ctx *ctx, spindle_error *saved, int rc)
{
    if (saved)
        ctx->store->err = saved;
    return rc;
}

/* How the task side's channel message bound is named in errors. */
static const char *whose(const spindle_task_ctx *ctx)
{
    return ctx->max_channel_msg_bytes > 0 ? "the worker's max_channel_msg_bytes" : "the limit";
}

int spindle_task_channel_read(spindle_task_ctx *ctx, spindle_scope scope, long timeout_ms,
                              spindle_message *out)
{
    memset(out, 0, sizeof(*out));
    spindle_chan_id id;
    spindle_error *saved;
    int rc = begin(ctx, scope, &id, &saved);
    if (rc == SPINDLE_OK && ctx->store == NULL)
        rc = spindle_sync_chan_pop(ctx->sync->chans, id.scope, sync_name(&id), SPINDLE_SYNC_IN,
                                   timeout_ms, out, &ctx->chan_err);
    else if (rc == SPINDLE_OK)
        rc = spindle_store_chan_pop(ctx->store, &id, SPINDLE_CHAN_IN, timeout_ms, out);
    long max =
        ctx->max_channel_msg_bytes > 0 ? ctx->max_channel_msg_bytes : SPINDLE_CHANNEL_MSG_MAX;
    if (rc == SPINDLE_OK && out->len > (size_t)max) {
        /* Taken out of the channel by the pop: dropped, as on the client's side. */
        size_t len = out->len;
        free(out->data);
        memset(out, 0, sizeof(*out));
        rc = spindle_error_set(&ctx->chan_err, SPINDLE_ERR_TOO_LARGE,
                               "read a channel message of %zu bytes, larger than %s of %ld "
                               "bytes: it was taken out of the channel and dropped",
                               len, whose(ctx), max);
    }
    return end(ctx, saved, rc);
}

int spindle_task_channel_write(spindle_task_ctx *ctx, spindle_scope scope, const void *data,
                               size_t len)
{
    spindle_chan_id id;
    spindle_error *saved;
    int rc = begin(ctx, scope, &id, &saved);
    if (rc == SPINDLE_OK)
        rc = spindle_channel_message_bound(data, len, ctx->max_channel_msg_bytes, whose(ctx),
                                           &ctx->chan_err);
    if (rc == SPINDLE_OK && ctx->store == NULL)
        rc = spindle_sync_chan_push(ctx->sync->chans, id.scope, sync_name(&id), SPINDLE_SYNC_OUT,
                                    data, len, &ctx->chan_err);
    else if (rc == SPINDLE_OK)
        rc = spindle_store_chan_push(ctx->store, &id, SPINDLE_CHAN_OUT, data, len);
    return end(ctx, saved, rc);
}

int spindle_task_channel_event(spindle_task_ctx *ctx, spindle_scope scope, int *set)
{
    *set = 0;
    spindle_chan_id id;
    spindle_error *saved;
    int rc = begin(ctx, scope, &id, &saved);
    if (rc == SPINDLE_OK && ctx->store == NULL)
        rc = spindle_sync_chan_event(ctx->sync->chans, id.scope, sync_name(&id), 0, set,
                                     &ctx->chan_err);
    else if (rc == SPINDLE_OK)
        rc = spindle_store_chan_event(ctx->store, &id, 0, set);
    return end(ctx, saved, rc);
}

const char *spindle_task_channel_errstr(const spindle_task_ctx *ctx)
{
    return ctx->chan_err.msg;
}
