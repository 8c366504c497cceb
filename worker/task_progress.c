/* spindle_task_progress() (progress.h): a running task's progress reports, coalesced.
 *
 * Why coalesce in the worker: a task that reports from a tight loop would otherwise send one
 * script call per iteration. Reports inside the interval only overwrite the pending one in
 * the context (a copy, no I/O), so a loop costs Redis at most one write per interval plus
 * the last report, flushed after the function returns. The cancel check comes first and is
 * a memory read, so every report of a cancelled task answers "cancelled" at once.
 *
 * A task run by a synchronous client (sync.h) has no Redis to spare: each report is stored
 * at once in its in-memory record, uncoalesced, so a test reads exactly the last one. */
#include <stdio.h>
#include <string.h>

#include "common/clock.h"
#include "common/log.h"
#include "common/sync_task.h"
#include "worker/worker_impl.h"

/* The longest prefix of s[0..len) within max bytes that does not split a UTF-8 sequence:
 * continuation bytes (10xxxxxx) at the cut are given back to their lead byte. */
static size_t utf8_cut(const char *s, size_t len, size_t max)
{
    if (len <= max)
        return len;
    size_t n = max;
    while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
        n--;
    return n;
}

/* Writes the pending report (one fenced script call). */
static int write_pending(spindle_task_ctx *ctx)
{
    if (ctx->store == NULL)
        return spindle_error_set(&ctx->call_err, SPINDLE_ERR_INVALID,
                                 "progress of task %s: no Redis connection in this context",
                                 ctx->id);
    ctx->progress.written = 1;
    ctx->progress.last_ms = spindle_mono_ms();
    int cancel = 0;
    int rc = spindle_store_progress_write(ctx->store, ctx->queue, ctx->id, ctx->worker_id,
                                          ctx->attempt, ctx->progress.done, ctx->progress.total,
                                          ctx->progress.msg, ctx->progress.msg_len, &cancel);
    /* A refused write will be refused again: only an outage keeps the report for later. */
    if (rc != SPINDLE_ERR_IO)
        ctx->progress.pending = 0;
    if (rc != SPINDLE_OK) {
        spindle_error_set(&ctx->call_err, rc, "%s", ctx->store->err->msg);
        return rc;
    }
    if (cancel) {
        if (ctx->cancel)
            atomic_store(ctx->cancel, 1);
        return spindle_error_set(&ctx->call_err, SPINDLE_ERR_CANCELLED,
                                 "task %s has a cancel request", ctx->id);
    }
    return SPINDLE_OK;
}

/* Stores the pending report in a synchronous client's record: seq + 1, host clock. */
static int store_in_record(spindle_task_ctx *ctx)
{
    spindle_progress *p = &ctx->sync->progress;
    p->done = ctx->progress.done;
    p->total = ctx->progress.total;
    memcpy(p->message, ctx->progress.msg, ctx->progress.msg_len + 1);
    p->updated_at_ms = spindle_wall_ms();
    p->seq++;
    ctx->progress.pending = 0;
    if (spindle_task_cancelled(ctx))
        return spindle_error_set(&ctx->call_err, SPINDLE_ERR_CANCELLED,
                                 "task %s has a cancel request", ctx->id);
    return SPINDLE_OK;
}

int spindle_task_progress(spindle_task_ctx *ctx, int64_t done, int64_t total, const char *msg)
{
    if (done < 0 || total < 0)
        return spindle_error_set(&ctx->call_err, SPINDLE_ERR_INVALID,
                                 "progress of task %s: done %lld and total %lld must not be "
                                 "negative",
                                 ctx->id, (long long)done, (long long)total);
    ctx->progress.pending = 1;
    ctx->progress.done = done;
    ctx->progress.total = total;
    size_t len = msg ? utf8_cut(msg, strlen(msg), SPINDLE_PROGRESS_MSG_MAX) : 0;
    memcpy(ctx->progress.msg, msg ? msg : "", len);
    ctx->progress.msg[len] = '\0';
    ctx->progress.msg_len = len;
    if (ctx->store == NULL && ctx->sync)
        return store_in_record(ctx);
    if (spindle_task_cancelled(ctx))
        return spindle_error_set(&ctx->call_err, SPINDLE_ERR_CANCELLED,
                                 "task %s has a cancel request", ctx->id);
    if (ctx->progress.written &&
        spindle_mono_ms() - ctx->progress.last_ms < ctx->progress_interval_ms)
        return SPINDLE_OK;
    return write_pending(ctx);
}

void spindle_task_progress_flush(spindle_task_ctx *ctx)
{
    if (!ctx->progress.pending || ctx->store == NULL)
        return;
    int rc = write_pending(ctx);
    if (rc != SPINDLE_OK && rc != SPINDLE_ERR_CANCELLED)
        spindle_log(SPINDLE_LOG_WARN, ctx->id, "last progress report not stored: %s",
                    ctx->call_err.msg);
}

const char *spindle_task_errstr(const spindle_task_ctx *ctx)
{
    return ctx->call_err.msg;
}
