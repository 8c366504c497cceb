/* The example task library: build/lib/spindle-example-tasks.so.
 *
 *   add N…        the sum of its numeric args (an integer unless a float is among them)
 *   echo X…       its args, as an array
 *   sleep_ms N    sleeps N ms, returns N; reports progress every 10 ms (spindle status ID)
 *                 and stops early when cancelled (spindle cancel ID)
 *   fail MSG      fails with MSG
 *   crash         aborts the process (for reliability tests)
 *   count_to N    emits 1, 2, ... N as partial results (items) with progress reports,
 *                 pausing 10 ms between numbers so that they can be followed; returns N.
 *                 Stops early when cancelled.
 *   infer_double N  a batch function (spindle/batch.h): a stand-in for batched inference,
 *                 served in batches of up to 32 requests gathered for up to 20 ms; each
 *                 request's result is 2 * N (an integer).
 *
 * Load it with `spindle-worker --load build/lib/spindle-example-tasks.so`. */
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include "spindle/batch.h"
#include "spindle/progress.h"
#include "spindle/worker.h"

static int task_add(spindle_task_ctx *ctx, const msgpack_object *args, msgpack_packer *result)
{
    int64_t isum = 0;
    double dsum = 0;
    int is_float = 0;
    for (uint32_t i = 0; i < args->via.array.size; i++) {
        const msgpack_object *a = &args->via.array.ptr[i];
        switch (a->type) {
        case MSGPACK_OBJECT_POSITIVE_INTEGER:
            if (a->via.u64 > INT64_MAX)
                return spindle_task_fail(ctx, "add: argument %u is too large", i);
            isum += (int64_t)a->via.u64;
            dsum += (double)a->via.u64;
            break;
        case MSGPACK_OBJECT_NEGATIVE_INTEGER:
            isum += a->via.i64;
            dsum += (double)a->via.i64;
            break;
        case MSGPACK_OBJECT_FLOAT32:
        case MSGPACK_OBJECT_FLOAT64:
            is_float = 1;
            dsum += a->via.f64;
            break;
        default:
            return spindle_task_fail(ctx, "add: argument %u is not a number", i);
        }
    }
    return is_float ? msgpack_pack_double(result, dsum) : msgpack_pack_int64(result, isum);
}

static int task_echo(spindle_task_ctx *ctx, const msgpack_object *args, msgpack_packer *result)
{
    (void)ctx;
    return msgpack_pack_object(result, *args);
}

static int task_sleep_ms(spindle_task_ctx *ctx, const msgpack_object *args, msgpack_packer *result)
{
    if (args->via.array.size != 1 || args->via.array.ptr[0].type != MSGPACK_OBJECT_POSITIVE_INTEGER)
        return spindle_task_fail(ctx, "sleep_ms: expects one non-negative integer (ms)");
    uint64_t ms = args->via.array.ptr[0].via.u64;
    /* In steps of 10 ms, each followed by a progress report (coalesced by the worker, so
     * this costs Redis about ten writes a second); a report answers "cancelled" once the task
     * is asked to stop. */
    for (uint64_t slept = 0; slept < ms;) {
        uint64_t step = ms - slept < 10 ? ms - slept : 10;
        struct timespec ts = {.tv_sec = 0, .tv_nsec = (long)step * 1000000};
        while (nanosleep(&ts, &ts) != 0)
            ;
        slept += step;
        if (spindle_task_progress(ctx, (int64_t)slept, (int64_t)ms, "sleeping") ==
            SPINDLE_ERR_CANCELLED)
            break;
    }
    return msgpack_pack_uint64(result, ms);
}

static int task_fail(spindle_task_ctx *ctx, const msgpack_object *args, msgpack_packer *result)
{
    (void)result;
    if (args->via.array.size >= 1 && args->via.array.ptr[0].type == MSGPACK_OBJECT_STR)
        return spindle_task_fail(ctx, "%.*s", (int)args->via.array.ptr[0].via.str.size,
                                 args->via.array.ptr[0].via.str.ptr);
    return spindle_task_fail(ctx, "fail: asked to fail");
}

static int task_crash(spindle_task_ctx *ctx, const msgpack_object *args, msgpack_packer *result)
{
    (void)ctx;
    (void)args;
    (void)result;
    abort();
}

static int task_count_to(spindle_task_ctx *ctx, const msgpack_object *args, msgpack_packer *result)
{
    if (args->via.array.size != 1 || args->via.array.ptr[0].type != MSGPACK_OBJECT_POSITIVE_INTEGER)
        return spindle_task_fail(ctx, "count_to: expects one non-negative integer");
    uint64_t n = args->via.array.ptr[0].via.u64;
    msgpack_sbuffer item;
    msgpack_sbuffer_init(&item);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &item, msgpack_sbuffer_write);
    int rc = SPINDLE_OK;
    for (uint64_t i = 1; i <= n && rc == SPINDLE_OK; i++) {
        struct timespec ts = {.tv_sec = 0, .tv_nsec = 10L * 1000000};
        nanosleep(&ts, NULL);
        msgpack_sbuffer_clear(&item);
        msgpack_pack_uint64(&pk, i);
        rc = spindle_task_emit(ctx, item.data, item.size);
        if (rc == SPINDLE_OK)
            rc = spindle_task_progress(ctx, (int64_t)i, (int64_t)n, "counting");
    }
    msgpack_sbuffer_destroy(&item);
    if (rc == SPINDLE_ERR_CANCELLED)
        return rc; /* the task ends cancelled */
    if (rc != SPINDLE_OK)
        return spindle_task_fail(ctx, "count_to: %s", spindle_task_errstr(ctx));
    return msgpack_pack_uint64(result, n);
}

/* infer_double: one call for the whole batch, as a model would run one forward pass over
 * its inputs; a request that is not one integer is rejected alone. */
static int task_infer_double(spindle_batch *b, void *userdata)
{
    (void)userdata;
    for (size_t i = 0; i < spindle_batch_size(b); i++) {
        const msgpack_object *a = spindle_batch_args(b, i);
        const msgpack_object *x = a->via.array.size == 1 ? &a->via.array.ptr[0] : NULL;
        if (x && x->type == MSGPACK_OBJECT_POSITIVE_INTEGER && x->via.u64 <= INT64_MAX / 2)
            spindle_batch_accept_int(b, i, 2 * (int64_t)x->via.u64);
        else if (x && x->type == MSGPACK_OBJECT_NEGATIVE_INTEGER && x->via.i64 >= INT64_MIN / 2)
            spindle_batch_accept_int(b, i, 2 * x->via.i64);
        else
            spindle_batch_reject(b, i, "infer_double: expects one integer");
    }
    return SPINDLE_OK;
}

int spindle_register_tasks(spindle_registry *reg);
int spindle_register_tasks(spindle_registry *reg)
{
    int rc = spindle_registry_add(reg, "add", task_add, NULL);
    if (rc == SPINDLE_OK)
        rc = spindle_registry_add(reg, "echo", task_echo, NULL);
    if (rc == SPINDLE_OK)
        rc = spindle_registry_add(reg, "sleep_ms", task_sleep_ms, NULL);
    if (rc == SPINDLE_OK)
        rc = spindle_registry_add(reg, "fail", task_fail, NULL);
    if (rc == SPINDLE_OK)
        rc = spindle_registry_add(reg, "crash", task_crash, NULL);
    if (rc == SPINDLE_OK)
        rc = spindle_registry_add(reg, "count_to", task_count_to, NULL);
    if (rc == SPINDLE_OK)
        rc = spindle_registry_add_batch(reg, "infer_double", task_infer_double, 32, 20, NULL);
    return rc;
}
