/* The task functions the forked test workers serve. They follow the contracts of
 * examples/tasks.c (add, echo, sleep_ms, fail) so a test can use either kind of worker; they
 * are written again here because the test binary links libspindle statically and cannot
 * dlopen the example library into the same process. The fleet suites add functions that
 * tell attempts apart, and two that kill their process. */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "spindle/channel.h"
#include "spindle/deps.h"
#include "spindle/progress.h"

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

/* progress_sleep N: sleeps N ms in steps of 10 ms, reporting progress after each step, and
 * stops at the first report that answers SPINDLE_ERR_CANCELLED; returns the ms slept. */
static int fx_progress_sleep(spindle_task_ctx *ctx, const msgpack_object *args,
                             msgpack_packer *result)
{
    if (args->via.array.size != 1 || args->via.array.ptr[0].type != MSGPACK_OBJECT_POSITIVE_INTEGER)
        return spindle_task_fail(ctx, "progress_sleep: expects one non-negative integer (ms)");
    uint64_t ms = args->via.array.ptr[0].via.u64, slept = 0;
    mark_started(ctx);
    while (slept < ms) {
        uint64_t step = ms - slept < 10 ? ms - slept : 10;
        harness_sleep_ms((long)step);
        slept += step;
        if (spindle_task_progress(ctx, (int64_t)slept, (int64_t)ms, "sleeping") ==
            SPINDLE_ERR_CANCELLED)
            break;
    }
    return msgpack_pack_uint64(result, slept);
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

/* ---- channels (test_channel.c) ---- */

/* The scope named by a string argument ("task", "group", "global"); -1 if it is none. */
static int fx_scope(const msgpack_object *a)
{
    static const char *const names[] = {"task", "group", "global"};
    static const spindle_scope scopes[] = {SPINDLE_SCOPE_TASK, SPINDLE_SCOPE_GROUP,
                                           SPINDLE_SCOPE_GLOBAL};
    if (a->type != MSGPACK_OBJECT_STR)
        return -1;
    for (int i = 0; i < 3; i++)
        if (a->via.str.size == strlen(names[i]) &&
            memcmp(a->via.str.ptr, names[i], a->via.str.size) == 0)
            return (int)scopes[i];
    return -1;
}

/* chan_pump SCOPE: reads the input of its SCOPE channel and writes each message back to the
 * output as "ok:" + message, until the input is empty and the cancel event is set; returns
 * how many it handled. Gives up (fails) after 30 s (scaled) without the event. */
static int fx_chan_pump(spindle_task_ctx *ctx, const msgpack_object *args, msgpack_packer *result)
{
    int scope = args->via.array.size == 1 ? fx_scope(&args->via.array.ptr[0]) : -1;
    if (scope < 0)
        return spindle_task_fail(ctx, "chan_pump: expects one scope: task, group or global");
    int64_t deadline = harness_ms() + harness_scaled_ms(30000);
    long handled = 0;
    char buf[256];
    while (harness_ms() < deadline) {
        spindle_message m;
        int rc = spindle_task_channel_read(ctx, (spindle_scope)scope, 50, &m);
        if (rc == SPINDLE_ERR_TIMEOUT) {
            int set = 0;
            rc = spindle_task_channel_event(ctx, (spindle_scope)scope, &set);
            if (rc == SPINDLE_OK && set)
                return msgpack_pack_long(result, handled);
            if (rc == SPINDLE_OK)
                continue;
        }
        if (rc != SPINDLE_OK)
            return spindle_task_fail(ctx, "chan_pump: %s", spindle_task_channel_errstr(ctx));
        int n = snprintf(buf, sizeof(buf), "ok:%.*s", (int)(m.len < 200 ? m.len : 200), m.data);
        free(m.data);
        rc = spindle_task_channel_write(ctx, (spindle_scope)scope, buf, (size_t)n);
        if (rc != SPINDLE_OK)
            return spindle_task_fail(ctx, "chan_pump: %s", spindle_task_channel_errstr(ctx));
        handled++;
    }
    return spindle_task_fail(ctx, "chan_pump: no cancel event within 30 s");
}

/* chan_fill N: writes "0".."N-1" to its own channel's output; on SPINDLE_ERR_FULL it retries
 * the same message every 10 ms for up to 10 s (scaled). Returns [written before the first
 * full answer, 1 if a full answer came else 0, written in all]. */
static int fx_chan_fill(spindle_task_ctx *ctx, const msgpack_object *args, msgpack_packer *result)
{
    if (args->via.array.size != 1 || args->via.array.ptr[0].type != MSGPACK_OBJECT_POSITIVE_INTEGER)
        return spindle_task_fail(ctx, "chan_fill: expects one count");
    uint64_t n = args->via.array.ptr[0].via.u64;
    int64_t before_full = -1;
    uint64_t i = 0;
    int64_t deadline = harness_ms() + harness_scaled_ms(10000);
    while (i < n) {
        char buf[24];
        int len = snprintf(buf, sizeof(buf), "%llu", (unsigned long long)i);
        int rc = spindle_task_channel_write(ctx, SPINDLE_SCOPE_TASK, buf, (size_t)len);
        if (rc == SPINDLE_OK) {
            i++;
            continue;
        }
        if (rc != SPINDLE_ERR_FULL || harness_ms() > deadline)
            return spindle_task_fail(ctx, "chan_fill: %s", spindle_task_channel_errstr(ctx));
        if (before_full < 0)
            before_full = (int64_t)i;
        harness_sleep_ms(10);
    }
    int rc = msgpack_pack_array(result, 3);
    rc = rc || msgpack_pack_int64(result, before_full < 0 ? (int64_t)n : before_full);
    rc = rc || msgpack_pack_int(result, before_full >= 0);
    rc = rc || msgpack_pack_uint64(result, i);
    return rc ? spindle_task_fail(ctx, "chan_fill: out of memory") : SPINDLE_OK;
}

/* chan_probe SCOPE: one event check and one read without waiting on its SCOPE channel;
 * returns [event status, read status, the read's error message]. */
static int fx_chan_probe(spindle_task_ctx *ctx, const msgpack_object *args, msgpack_packer *result)
{
    int scope = args->via.array.size == 1 ? fx_scope(&args->via.array.ptr[0]) : -1;
    if (scope < 0)
        return spindle_task_fail(ctx, "chan_probe: expects one scope: task, group or global");
    int set = 0;
    int erc = spindle_task_channel_event(ctx, (spindle_scope)scope, &set);
    spindle_message m;
    int rrc = spindle_task_channel_read(ctx, (spindle_scope)scope, 0, &m);
    free(m.data);
    const char *msg = spindle_task_channel_errstr(ctx);
    int rc = msgpack_pack_array(result, 3);
    rc = rc || msgpack_pack_int(result, erc);
    rc = rc || msgpack_pack_int(result, rrc);
    rc = rc || msgpack_pack_str(result, strlen(msg));
    rc = rc || msgpack_pack_str_body(result, msg, strlen(msg));
    return rc ? spindle_task_fail(ctx, "chan_probe: out of memory") : SPINDLE_OK;
}

/* The i-th argument as an unsigned integer, or dflt if absent or not one. */
static uint64_t arg_u64(const msgpack_object *args, uint32_t i, uint64_t dflt)
{
    if (i >= args->via.array.size || args->via.array.ptr[i].type != MSGPACK_OBJECT_POSITIVE_INTEGER)
        return dflt;
    return args->via.array.ptr[i].via.u64;
}

/* progress_steps N STEP_MS: reports i/N with message "step i" every STEP_MS ms for i = 1..N;
 * returns N. */
static int fx_progress_steps(spindle_task_ctx *ctx, const msgpack_object *args,
                             msgpack_packer *result)
{
    uint64_t n = arg_u64(args, 0, 0), step = arg_u64(args, 1, 0);
    char msg[32];
    for (uint64_t i = 1; i <= n; i++) {
        harness_sleep_ms((long)step);
        snprintf(msg, sizeof(msg), "step %llu", (unsigned long long)i);
        int rc = spindle_task_progress(ctx, (int64_t)i, (int64_t)n, msg);
        if (rc != SPINDLE_OK)
            return spindle_task_fail(ctx, "progress_steps: %s", spindle_task_errstr(ctx));
    }
    return msgpack_pack_uint64(result, n);
}

/* progress_spin MS: reports progress (i, 0) in a tight loop for MS ms, then a last report
 * (count, count, "spun"); returns count, the number of reports made. */
static int fx_progress_spin(spindle_task_ctx *ctx, const msgpack_object *args,
                            msgpack_packer *result)
{
    int64_t end = harness_ms() + (int64_t)arg_u64(args, 0, 0);
    int64_t count = 0;
    while (harness_ms() < end)
        if (spindle_task_progress(ctx, count++, 0, NULL) != SPINDLE_OK)
            return spindle_task_fail(ctx, "progress_spin: %s", spindle_task_errstr(ctx));
    count++;
    if (spindle_task_progress(ctx, count, count, "spun") != SPINDLE_OK)
        return spindle_task_fail(ctx, "progress_spin: %s", spindle_task_errstr(ctx));
    return msgpack_pack_int64(result, count);
}

/* emit_n N [STEP_MS]: emits the numbers 1..N as items, STEP_MS ms apart; returns N. */
static int fx_emit_n(spindle_task_ctx *ctx, const msgpack_object *args, msgpack_packer *result)
{
    uint64_t n = arg_u64(args, 0, 0), step = arg_u64(args, 1, 0);
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    int rc = SPINDLE_OK;
    for (uint64_t i = 1; i <= n && rc == SPINDLE_OK; i++) {
        harness_sleep_ms((long)step);
        msgpack_sbuffer_clear(&sb);
        msgpack_pack_uint64(&pk, i);
        rc = spindle_task_emit(ctx, sb.data, sb.size);
    }
    msgpack_sbuffer_destroy(&sb);
    if (rc != SPINDLE_OK)
        return spindle_task_fail(ctx, "emit_n: %s", spindle_task_errstr(ctx));
    return msgpack_pack_uint64(result, n);
}

static int pack_text(msgpack_packer *pk, const char *s)
{
    size_t n = strlen(s);
    return msgpack_pack_str(pk, n) || msgpack_pack_str_body(pk, s, n);
}

/* misuse: the task-side calls with bad input, each refused while the task goes on; returns
 * [[status, message] for: progress(-1, 0), progress(1, -1), emit of bytes that are not
 * msgpack, emit of two values, emit of SPINDLE_ITEM_MAX + 1 bytes, emit of nothing], then
 * emits the string "ok" (which must be stored) and reports progress 1/1 "after". */
static int fx_misuse(spindle_task_ctx *ctx, const msgpack_object *args, msgpack_packer *result)
{
    (void)args;
    static const char not_msgpack[] = {(char)0xc1};
    static const char two_values[] = {0x01, 0x02};
    char *big = calloc(1, SPINDLE_ITEM_MAX + 1);
    if (big == NULL)
        return spindle_task_fail(ctx, "misuse: out of memory");
    int rcs[6];
    char msgs[6][512];
    rcs[0] = spindle_task_progress(ctx, -1, 0, NULL);
    snprintf(msgs[0], sizeof(msgs[0]), "%s", spindle_task_errstr(ctx));
    rcs[1] = spindle_task_progress(ctx, 1, -1, NULL);
    snprintf(msgs[1], sizeof(msgs[1]), "%s", spindle_task_errstr(ctx));
    rcs[2] = spindle_task_emit(ctx, not_msgpack, sizeof(not_msgpack));
    snprintf(msgs[2], sizeof(msgs[2]), "%s", spindle_task_errstr(ctx));
    rcs[3] = spindle_task_emit(ctx, two_values, sizeof(two_values));
    snprintf(msgs[3], sizeof(msgs[3]), "%s", spindle_task_errstr(ctx));
    rcs[4] = spindle_task_emit(ctx, big, SPINDLE_ITEM_MAX + 1);
    snprintf(msgs[4], sizeof(msgs[4]), "%s", spindle_task_errstr(ctx));
    rcs[5] = spindle_task_emit(ctx, NULL, 0);
    snprintf(msgs[5], sizeof(msgs[5]), "%s", spindle_task_errstr(ctx));
    free(big);
    static const char ok[] = {(char)0xa2, 'o', 'k'};
    if (spindle_task_emit(ctx, ok, sizeof(ok)) != SPINDLE_OK ||
        spindle_task_progress(ctx, 1, 1, "after") != SPINDLE_OK)
        return spindle_task_fail(ctx, "misuse: %s", spindle_task_errstr(ctx));
    int bad = msgpack_pack_array(result, 6);
    for (int i = 0; i < 6; i++)
        bad = bad || msgpack_pack_array(result, 2) || msgpack_pack_int(result, rcs[i]) ||
              pack_text(result, msgs[i]);
    return bad ? spindle_task_fail(ctx, "misuse: out of memory") : SPINDLE_OK;
}

/* Writes text to DIR/NAME-ID for the running task (a test reads it). */
static void write_probe(const spindle_task_ctx *ctx, const char *name, const char *text)
{
    char path[300], tmp[310];
    snprintf(path, sizeof(path), "%s/%s-%s", harness_dir(), name, spindle_task_id(ctx));
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (f == NULL)
        return;
    fputs(text, f);
    fclose(f);
    rename(tmp, path); /* whole or not at all */
}

/* Waits up to HARNESS_WAIT_MS (scaled) for DIR/NAME-ID to exist: 0 if it does. */
static int await_file(const spindle_task_ctx *ctx, const char *name)
{
    char path[300];
    snprintf(path, sizeof(path), "%s/%s-%s", harness_dir(), name, spindle_task_id(ctx));
    for (int64_t end = harness_ms() + harness_scaled_ms(HARNESS_WAIT_MS); harness_ms() < end;
         harness_sleep_ms(5))
        if (access(path, F_OK) == 0)
            return 0;
    return -1;
}

/* fenced_probe: marks itself started, waits for the file go-ID, then reports progress and
 * emits an item, writes "PROGRESS_STATUS EMIT_STATUS\nPROGRESS_MESSAGE\nEMIT_MESSAGE" to
 * probe-ID, waits for the file end-ID and returns nil. A test changes the task hash while it
 * waits, so that both writes are refused by the fence, and restores it before end-ID. */
static int fx_fenced_probe(spindle_task_ctx *ctx, const msgpack_object *args,
                           msgpack_packer *result)
{
    (void)args;
    (void)result;
    mark_started(ctx);
    if (await_file(ctx, "go") != 0)
        return spindle_task_fail(ctx, "fenced_probe: no go file");
    int prc = spindle_task_progress(ctx, 1, 2, "late");
    char pmsg[512];
    snprintf(pmsg, sizeof(pmsg), "%s", spindle_task_errstr(ctx));
    static const char one[] = {0x01};
    int erc = spindle_task_emit(ctx, one, sizeof(one));
    char text[1200];
    snprintf(text, sizeof(text), "%d %d\n%s\n%s\n", prc, erc, pmsg, spindle_task_errstr(ctx));
    write_probe(ctx, "probe", text);
    if (await_file(ctx, "end") != 0)
        return spindle_task_fail(ctx, "fenced_probe: no end file");
    return SPINDLE_OK;
}

/* until_cancel: marks itself started and reports progress every 5 ms until a report answers
 * SPINDLE_ERR_CANCELLED (at most HARNESS_WAIT_MS, scaled); then emits the string "after" and
 * writes "REPORTS CANCELLED_FLAG EMIT_STATUS" to probe-ID (a file, since a cancelled task
 * keeps no result). Returns the status of the last report. */
static int fx_until_cancel(spindle_task_ctx *ctx, const msgpack_object *args,
                           msgpack_packer *result)
{
    (void)args;
    mark_started(ctx);
    int rc = SPINDLE_OK;
    long n = 0;
    for (int64_t end = harness_ms() + harness_scaled_ms(HARNESS_WAIT_MS);
         rc == SPINDLE_OK && harness_ms() < end; harness_sleep_ms(5))
        rc = spindle_task_progress(ctx, ++n, 0, "waiting for a cancel");
    static const char after[] = {(char)0xa5, 'a', 'f', 't', 'e', 'r'};
    int erc = spindle_task_emit(ctx, after, sizeof(after));
    char text[64];
    snprintf(text, sizeof(text), "%ld %d %d\n", n, spindle_task_cancelled(ctx), erc);
    write_probe(ctx, "probe", text);
    return msgpack_pack_int(result, rc);
}

/* sum_all X…: the sum of every integer in its arguments, arrays included (the results of
 * dependencies handed over in an array: test_deps.c). */
static int sum_into(spindle_task_ctx *ctx, const msgpack_object *o, int64_t *sum)
{
    if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER || o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER) {
        *sum += o->via.i64;
        return SPINDLE_OK;
    }
    if (o->type != MSGPACK_OBJECT_ARRAY)
        return spindle_task_fail(ctx, "sum_all: a value is neither an integer nor an array");
    for (uint32_t i = 0; i < o->via.array.size; i++)
        if (sum_into(ctx, &o->via.array.ptr[i], sum) != SPINDLE_OK)
            return SPINDLE_ERR_TASK_FAILED;
    return SPINDLE_OK;
}

static int fx_sum_all(spindle_task_ctx *ctx, const msgpack_object *args, msgpack_packer *result)
{
    int64_t sum = 0;
    int rc = sum_into(ctx, args, &sum);
    return rc != SPINDLE_OK ? rc : msgpack_pack_int64(result, sum);
}

/* dep_errors X…: its arguments as one array, each dependency error (spindle_arg_dep_error())
 * replaced by the string "error: TEXT". */
static int fx_dep_errors(spindle_task_ctx *ctx, const msgpack_object *args, msgpack_packer *result)
{
    (void)ctx;
    int rc = msgpack_pack_array(result, args->via.array.size);
    for (uint32_t i = 0; rc == 0 && i < args->via.array.size; i++) {
        const char *msg;
        size_t len;
        if (spindle_arg_dep_error(&args->via.array.ptr[i], &msg, &len)) {
            char text[600];
            int n = snprintf(text, sizeof(text), "error: %.*s", (int)(len > 500 ? 500 : len), msg);
            rc = msgpack_pack_str_with_body(result, text, (size_t)n);
        } else {
            rc = msgpack_pack_object(result, args->via.array.ptr[i]);
        }
    }
    return rc;
}

int fixture_register_tasks(spindle_registry *reg)
{
    int rc = spindle_registry_add(reg, "add", fx_add, NULL);
    if (rc == SPINDLE_OK)
        rc = spindle_registry_add(reg, "echo", fx_echo, NULL);
    if (rc == SPINDLE_OK)
        rc = spindle_registry_add(reg, "sleep_ms", fx_sleep_ms, NULL);
    if (rc == SPINDLE_OK)
        rc = spindle_registry_add(reg, "progress_sleep", fx_progress_sleep, NULL);
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
    if (rc == SPINDLE_OK)
        rc = spindle_registry_add(reg, "chan_pump", fx_chan_pump, NULL);
    if (rc == SPINDLE_OK)
        rc = spindle_registry_add(reg, "chan_fill", fx_chan_fill, NULL);
    if (rc == SPINDLE_OK)
        rc = spindle_registry_add(reg, "chan_probe", fx_chan_probe, NULL);
    if (rc == SPINDLE_OK)
        rc = spindle_registry_add(reg, "progress_steps", fx_progress_steps, NULL);
    if (rc == SPINDLE_OK)
        rc = spindle_registry_add(reg, "progress_spin", fx_progress_spin, NULL);
    if (rc == SPINDLE_OK)
        rc = spindle_registry_add(reg, "emit_n", fx_emit_n, NULL);
    if (rc == SPINDLE_OK)
        rc = spindle_registry_add(reg, "misuse", fx_misuse, NULL);
    if (rc == SPINDLE_OK)
        rc = spindle_registry_add(reg, "fenced_probe", fx_fenced_probe, NULL);
    if (rc == SPINDLE_OK)
        rc = spindle_registry_add(reg, "until_cancel", fx_until_cancel, NULL);
    if (rc == SPINDLE_OK)
        rc = spindle_registry_add(reg, "sum_all", fx_sum_all, NULL);
    if (rc == SPINDLE_OK)
        rc = spindle_registry_add(reg, "dep_errors", fx_dep_errors, NULL);
    return rc;
}
