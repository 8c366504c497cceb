/* Running one task: look the function up, decode its args, call it, check its result, all
 * inside the registry's middleware chain (worker/middleware.c).
 *
 * Anything a producer or a hand-written redis-cli command can put in a task hash reaches this
 * file: an unregistered name, args that are not msgpack, not an array, or followed by junk, a
 * result packed twice. Each ends the task `failed` with a message saying which, and the
 * worker goes on. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/clock.h"
#include "common/msgpack_check.h"
#include "spindle/bounds.h"
#include "worker/worker_impl.h"

/* Writes a failure message into out and returns 0. */
static int fail(msgpack_sbuffer *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(msgpack_sbuffer *out, const char *fmt, ...)
{
    char msg[TASK_ERROR_MAX];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    msgpack_sbuffer_clear(out);
    msgpack_sbuffer_write(out, msg,
                          n < 0                     ? 0
                          : (size_t)n < sizeof(msg) ? (size_t)n
                                                    : sizeof(msg) - 1);
    return 0;
}

static const char *unpack_error(msgpack_unpack_return r)
{
    switch (r) {
    case MSGPACK_UNPACK_CONTINUE:
        return "truncated";
    case MSGPACK_UNPACK_PARSE_ERROR:
        return "not valid msgpack (or nested too deep)";
    case MSGPACK_UNPACK_NOMEM_ERROR:
        return "too large to decode";
    default:
        return "empty";
    }
}

/* A payload bound from the options: the default when not set (<= 0). */
static size_t bound(long opt, long dflt)
{
    return (size_t)(opt > 0 ? opt : dflt);
}

/* The task itself: lookup, argument checks, the call, the result check. ctx is filled but
 * for its userdata, set here once the function is found. */
static int run_task(const spindle_registry *reg, const spindle_claimed *task, spindle_task_ctx *ctx,
                    int in_thread, msgpack_zone *zone, msgpack_sbuffer *out)
{
    if (task->func[0] == '\0')
        return fail(out, "task hash has no 'func' field");
    const registry_entry *e = spindle_registry_find(reg, task->func);
    if (e == NULL)
        return fail(out, "unknown function '%.128s': not registered on this worker", task->func);
    if (in_thread && e->needs_process)
        return fail(out,
                    "'%s' needs process isolation and this worker runs a thread pool; serve "
                    "its queue with a --pool process worker",
                    task->func);

    size_t max_args = bound(ctx->max_args_bytes, SPINDLE_ARGS_MAX_DEFAULT);
    if (task->args_len > max_args)
        return fail(out, "args of '%s' are %zu bytes, above the worker's max_args_bytes of %zu",
                    task->func, task->args_len, max_args);
    int refs = 0, deepest = 0;
    const char *bad = spindle_msgpack_check_depth(task->args, task->args_len,
                                                  SPINDLE_MSGPACK_MAX_DEPTH, &refs, &deepest);
    if (bad)
        return fail(out, "args of '%s' are %s (%zu bytes)", task->func, bad, task->args_len);
    int max_depth = ctx->max_depth > 0 ? ctx->max_depth : SPINDLE_MSGPACK_MAX_DEPTH;
    if (deepest > max_depth)
        return fail(out, "args of '%s' are nested %d deep, above the worker's max_depth of %d",
                    task->func, deepest, max_depth);
    msgpack_zone_clear(zone);
    msgpack_object args;
    size_t off = 0;
    msgpack_unpack_return ur = msgpack_unpack(task->args, task->args_len, &off, zone, &args);
    if (ur != MSGPACK_UNPACK_SUCCESS && ur != MSGPACK_UNPACK_EXTRA_BYTES)
        return fail(out, "args of '%s' are %s (%zu bytes)", task->func, unpack_error(ur),
                    task->args_len);
    if (off != task->args_len)
        return fail(out, "args of '%s' have %zu junk bytes after the msgpack value", task->func,
                    task->args_len - off);
    if (args.type != MSGPACK_OBJECT_ARRAY)
        return fail(out, "args of '%s' must be a msgpack array", task->func);
    if (refs && spindle_task_deps(ctx, &args, zone, &ctx->call_err) != SPINDLE_OK)
        return fail(out, "%s", ctx->call_err.msg);

    msgpack_packer pk;
    msgpack_packer_init(&pk, out, msgpack_sbuffer_write);
    int rc = e->fn(ctx, &args, &pk);
    /* The last progress report is stored before the task settles, however it ended. */
    spindle_task_progress_flush(ctx);
    if (rc != SPINDLE_OK || ctx->failed) {
        if (ctx->failed)
            return fail(out, "%s", ctx->error);
        if (ctx->call_err.msg[0] && ctx->call_err.code == rc)
            return fail(out, "'%s' returned %d (%s): %s", task->func, rc, spindle_status_name(rc),
                        ctx->call_err.msg);
        return fail(out, "'%s' returned %d (%s) without a message", task->func, rc,
                    spindle_status_name(rc));
    }
    if (out->size == 0)
        return msgpack_pack_nil(&pk) == 0 ? 1 : fail(out, "out of memory packing the result");
    size_t max_result = bound(ctx->max_result_bytes, SPINDLE_RESULT_MAX_DEFAULT);
    if (out->size > max_result)
        return fail(out,
                    "'%s' packed a result of %zu bytes, above the worker's max_result_bytes of %zu",
                    task->func, out->size, max_result);
    /* The result must be exactly one value, or the caller could not read it back. */
    msgpack_zone_clear(zone);
    msgpack_object res;
    off = 0;
    ur = msgpack_unpack(out->data, out->size, &off, zone, &res);
    if (ur != MSGPACK_UNPACK_SUCCESS)
        return fail(out, "'%s' packed %s as its result; it must pack exactly one value", task->func,
                    ur == MSGPACK_UNPACK_EXTRA_BYTES ? "more than one value"
                                                     : "an incomplete value");
    return 1;
}

int spindle_execute(const spindle_registry *reg, const spindle_claimed *task,
                    const spindle_task_ctx *env, int in_thread, msgpack_zone *zone,
                    msgpack_sbuffer *out)
{
    msgpack_sbuffer_clear(out);
    /* The userdata is known before the chain runs, so that a before sees it too. */
    const registry_entry *e = task->func[0] ? spindle_registry_find(reg, task->func) : NULL;
    spindle_task_ctx ctx = {.id = task->id,
                            .queue = env->queue,
                            .func = task->func,
                            .attempt = task->attempt,
                            .userdata = e ? e->userdata : NULL,
                            .entry = e,
                            .store = env->store,
                            .worker_id = env->worker_id,
                            .cancel = env->cancel,
                            .sync = env->sync,
                            .progress_interval_ms = env->progress_interval_ms,
                            .max_args_bytes = env->max_args_bytes,
                            .max_result_bytes = env->max_result_bytes,
                            .max_items = env->max_items,
                            .max_depth = env->max_depth,
                            .max_channel_msg_bytes = env->max_channel_msg_bytes};
    size_t entered = 0;
    double elapsed_ms = 0;
    int ok;
    if (spindle_middleware_enter(reg, &ctx, &entered) != SPINDLE_OK) {
        ok = fail(out, "%s", ctx.error);
    } else {
        int64_t t0 = spindle_mono_us();
        ok = run_task(reg, task, &ctx, in_thread, zone, out);
        elapsed_ms = (double)(spindle_mono_us() - t0) / 1000.0;
    }
    /* An after may call spindle_task_fail(); the outcome is already in out and stays. */
    spindle_middleware_leave(reg, &ctx, entered, ok, out->data ? out->data : "", out->size,
                             elapsed_ms);
    return ok;
}
