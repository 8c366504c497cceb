/* The task functions the forked test workers serve. They follow the contracts of
 * examples/tasks.c (add, echo, sleep_ms, fail) so a test can use either kind of worker; they
 * are written again here because the test binary links libspindle statically and cannot
 * dlopen the example library into the same process. The fleet suites add functions that
 * tell attempts apart, and two that kill their process. */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

#include "harness.h"

/* add N…: the sum of its numeric arguments; a double if any argument is one. */
static int fx_add(spindle_task_ctx *ctx, const msgpack_object *args, msgpack_packer *result)
{
    int64_t isum = 0;
    double dsum = 0;
    int is_float = 0;
    for (uint32_t i = 0; i < args->via.array.size; i++) {
        const msgpack_object *a = &args->via.array.ptr[i];
        if (a->type == MSGPACK_OBJECT_POSITIVE_INTEGER) {
            isum += (int64_t)a->via.u64;
            dsum += (double)a->via.u64;
        } else if (a->type == MSGPACK_OBJECT_NEGATIVE_INTEGER) {
            isum += a->via.i64;
            dsum += (double)a->via.i64;
        } else if (a->type == MSGPACK_OBJECT_FLOAT64 || a->type == MSGPACK_OBJECT_FLOAT32) {
            is_float = 1;
            dsum += a->via.f64;
        } else {
            return spindle_task_fail(ctx, "add: argument %u is not a number", i);
        }
    }
    return is_float ? msgpack_pack_double(result, dsum) : msgpack_pack_int64(result, isum);
}

/* echo X…: its arguments, as one array. */
static int fx_echo(spindle_task_ctx *ctx, const msgpack_object *args, msgpack_packer *result)
{
    (void)ctx;
    return msgpack_pack_object(result, *args);
}

/* Creates DIR/started-ID for the running task, so that a test knows the function itself
 * runs (a claimed task is `running` in Redis before that); see fleet_wait_started(). */
static void mark_started(const spindle_task_ctx *ctx)
{
    char path[300];
    snprintf(path, sizeof(path), "%s/started-%s", harness_dir(), spindle_task_id(ctx));
    FILE *f = fopen(path, "w");
    if (f)
        fclose(f);
}

/* sleep_ms N: sleeps N ms and returns N; stops early, checking every 10 ms, when cancelled.
 * sleep_first (below) ignores cancellation. */
static int fx_sleep_ms(spindle_task_ctx *ctx, const msgpack_object *args, msgpack_packer *result)
{
    if (args->via.array.size != 1 || args->via.array.ptr[0].type != MSGPACK_OBJECT_POSITIVE_INTEGER)
        return spindle_task_fail(ctx, "sleep_ms: expects one non-negative integer (ms)");
    uint64_t ms = args->via.array.ptr[0].via.u64;
    mark_started(ctx);
    for (uint64_t slept = 0; slept < ms && !spindle_task_cancelled(ctx); slept += 10)
        harness_sleep_ms((long)(ms - slept < 10 ? ms - slept : 10));
    return msgpack_pack_uint64(result, ms);
}

/* fail MSG: fails with MSG. */
static int fx_fail(spindle_task_ctx *ctx, const msgpack_object *args, msgpack_packer *result)
{
    (void)result;
    if (args->via.array.size >= 1 && args->via.array.ptr[0].type == MSGPACK_OBJECT_STR)
        return spindle_task_fail(ctx, "%.*s", (int)args->via.array.ptr[0].via.str.size,
                                 args->via.array.ptr[0].via.str.ptr);
    return spindle_task_fail(ctx, "fail: asked to fail");
}

/* sleep_first MS [LATER]: sleeps MS on its first attempt and LATER ms (default 0) on the
 * others; returns the attempt number. A rerun after a crash or a recovery can finish at once
 * or overlap the first attempt, and its result tells which attempt won. */
static int fx_sleep_first(spindle_task_ctx *ctx, const msgpack_object *args, msgpack_packer *result)
{
    uint32_t n = args->via.array.size;
    for (uint32_t i = 0; i < n; i++)
        if (args->via.array.ptr[i].type != MSGPACK_OBJECT_POSITIVE_INTEGER)
            n = 0;
    if (n < 1 || n > 2)
        return spindle_task_fail(ctx, "sleep_first: expects one or two non-negative integers");
    long attempt = spindle_task_attempt(ctx);
    mark_started(ctx);
    uint64_t ms = attempt == 1 ? args->via.array.ptr[0].via.u64
                  : n == 2     ? args->via.array.ptr[1].via.u64
                               : 0;
    harness_sleep_ms((long)ms);
    return msgpack_pack_long(result, attempt);
}

/* fail_attempt: always fails, with a message naming the attempt. */
static int fx_fail_attempt(spindle_task_ctx *ctx, const msgpack_object *args,
                           msgpack_packer *result)
{
    (void)args;
    (void)result;
    return spindle_task_fail(ctx, "attempt %ld failed", spindle_task_attempt(ctx));
}

/* No core file from the crashes below, whatever the shell's ulimit. */
static void no_core(void)
{
    struct rlimit none = {0, 0};
    setrlimit(RLIMIT_CORE, &none);
}

/* abort: the process dies of SIGABRT. */
static int fx_abort(spindle_task_ctx *ctx, const msgpack_object *args, msgpack_packer *result)
{
    (void)ctx;
    (void)args;
    (void)result;
    no_core();
    abort();
}

/* segfault: the process dies of SIGSEGV. The default action is restored first, so that a
 * sanitizer's SEGV handler does not turn the death into an exit(1). */
static int fx_segfault(spindle_task_ctx *ctx, const msgpack_object *args, msgpack_packer *result)
{
    (void)ctx;
    (void)args;
    (void)result;
    no_core();
    signal(SIGSEGV, SIG_DFL);
    raise(SIGSEGV);
    return spindle_task_fail(ctx, "segfault: still alive after SIGSEGV");
}

int fixture_register_tasks(spindle_registry *reg)
{
    int rc = spindle_registry_add(reg, "add", fx_add, NULL);
    if (rc == SPINDLE_OK)
        rc = spindle_registry_add(reg, "echo", fx_echo, NULL);
    if (rc == SPINDLE_OK)
        rc = spindle_registry_add(reg, "sleep_ms", fx_sleep_ms, NULL);
    if (rc == SPINDLE_OK)
        rc = spindle_registry_add(reg, "fail", fx_fail, NULL);
    if (rc == SPINDLE_OK)
        rc = spindle_registry_add(reg, "sleep_first", fx_sleep_first, NULL);
    if (rc == SPINDLE_OK)
        rc = spindle_registry_add(reg, "fail_attempt", fx_fail_attempt, NULL);
    if (rc == SPINDLE_OK)
        rc = spindle_registry_add(reg, "abort", fx_abort, NULL);
    if (rc == SPINDLE_OK)
        rc = spindle_registry_add(reg, "segfault", fx_segfault, NULL);
    return rc;
}
