/* Synchronous mode (include/spindle/sync.h), without Redis: enqueue runs the task at once
 * through the worker's execution path, and the handle API answers from memory. The registry
 * is built here, with a counting middleware. One test reaches into the task context
 * (worker/worker_impl.h) to check that a running task's record is reachable from it, as the
 * task-side calls of synchronous mode use it; the others use the public task-side calls
 * (progress, items, channels) and read what they did back through the caller's API. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "common/clock.h"
#include "common/sync_task.h"
#include "spindle/admin.h"
#include "spindle/callbacks.h"
#include "spindle/channel.h"
#include "spindle/middleware.h"
#include "spindle/sync.h"
#include "suites.h"
#include "worker/worker_impl.h"

static spindle_registry *reg;
static spindle_client *c;
static int befores, afters, errors;

static int sum(spindle_task_ctx *ctx, const msgpack_object *args, msgpack_packer *result)
{
    int64_t s = 0;
    for (uint32_t i = 0; i < args->via.array.size; i++) {
        if (args->via.array.ptr[i].type != MSGPACK_OBJECT_POSITIVE_INTEGER)
            return spindle_task_fail(ctx, "sum: argument %u is not a number", i);
        s += (int64_t)args->via.array.ptr[i].via.u64;
    }
    return msgpack_pack_int64(result, s);
}

static int boom(spindle_task_ctx *ctx, const msgpack_object *args, msgpack_packer *result)
{
    (void)args;
    (void)result;
    return spindle_task_fail(ctx, "boom on attempt %ld", spindle_task_attempt(ctx));
}

/* flaky N: fails until attempt N, then returns the attempt. */
static int flaky(spindle_task_ctx *ctx, const msgpack_object *args, msgpack_packer *result)
{
    long need = args->via.array.size ? (long)args->via.array.ptr[0].via.u64 : 1;
    if (spindle_task_attempt(ctx) < need)
        return spindle_task_fail(ctx, "not yet (attempt %ld)", spindle_task_attempt(ctx));
    return msgpack_pack_long(result, spindle_task_attempt(ctx));
}

/* whoami: [id, queue, attempt, cancelled] */
static int whoami(spindle_task_ctx *ctx, const msgpack_object *args, msgpack_packer *result)
{
    (void)args;
    const char *id = spindle_task_id(ctx), *q = spindle_task_queue(ctx);
    msgpack_pack_array(result, 4);
    msgpack_pack_str_with_body(result, id, strlen(id));
    msgpack_pack_str_with_body(result, q, strlen(q));
    msgpack_pack_long(result, spindle_task_attempt(ctx));
    return msgpack_pack_int(result, spindle_task_cancelled(ctx));
}

/* record: writes a progress report and an item into its in-memory record, as the task-side
 * calls of synchronous mode do; fails if the context has a store or no record. */
static int record(spindle_task_ctx *ctx, const msgpack_object *args, msgpack_packer *result)
{
    (void)args;
    if (ctx->store != NULL || ctx->sync == NULL)
        return spindle_task_fail(ctx, "record: store %p, sync %p", (void *)ctx->store,
                                 (void *)ctx->sync);
    ctx->sync->progress.done = 3;
    ctx->sync->progress.total = 4;
    ctx->sync->progress.seq++;
    if (spindle_sync_task_add_item(ctx->sync, "\x01", 1) != SPINDLE_OK)
        return spindle_task_fail(ctx, "record: out of memory");
    return msgpack_pack_true(result);
}

/* Packs v and emits it as an item. */
static int emit_int(spindle_task_ctx *ctx, int64_t v)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_int64(&pk, v);
    int rc = spindle_task_emit(ctx, sb.data, sb.size);
    msgpack_sbuffer_destroy(&sb);
    return rc;
}

/* A progress message one byte longer than the limit, whose cut falls inside "é". */
static void long_message(char *buf)
{
    memset(buf, 'a', SPINDLE_PROGRESS_MSG_MAX - 1);
    memcpy(buf + SPINDLE_PROGRESS_MSG_MAX - 1, "\xc3\xa9z", 4);
}

/* report N: reports i of N ("step i") and emits i, for i = 1..N, then a last report of N
 * of N with a message too long to keep whole. Returns N. Any failed call fails the task. */
static int report(spindle_task_ctx *ctx, const msgpack_object *args, msgpack_packer *result)
{
    int64_t n = args->via.array.size ? (int64_t)args->via.array.ptr[0].via.u64 : 0;
    for (int64_t i = 1; i <= n; i++) {
        char msg[32];
        snprintf(msg, sizeof(msg), "step %lld", (long long)i);
        int rc = spindle_task_progress(ctx, i, n, msg);
        if (rc == SPINDLE_OK)
            rc = emit_int(ctx, i);
        if (rc != SPINDLE_OK)
            return rc;
    }
    char msg[SPINDLE_PROGRESS_MSG_MAX + 4];
    long_message(msg);
    int rc = n ? spindle_task_progress(ctx, n, n, msg) : SPINDLE_OK;
    return rc != SPINDLE_OK ? rc : msgpack_pack_int64(result, n);
}

/* emit_checks: emits nothing, a byte that is not msgpack, an item too large, then 7, and a
 * negative progress; returns the five codes. */
static int emit_checks(spindle_task_ctx *ctx, const msgpack_object *args, msgpack_packer *result)
{
    (void)args;
    char *big = calloc(1, SPINDLE_ITEM_MAX + 1);
    if (big == NULL)
        return spindle_task_fail(ctx, "emit_checks: out of memory");
    int rc[5] = {spindle_task_emit(ctx, NULL, 0), spindle_task_emit(ctx, "\xc1", 1),
                 spindle_task_emit(ctx, big, SPINDLE_ITEM_MAX + 1), emit_int(ctx, 7),
                 spindle_task_progress(ctx, -1, 0, NULL)};
    free(big);
    msgpack_pack_array(result, 5);
    for (int i = 0; i < 5; i++)
        msgpack_pack_int(result, rc[i]);
    return SPINDLE_OK;
}

/* flaky_emit: emits its attempt, and fails on the first. */
static int flaky_emit(spindle_task_ctx *ctx, const msgpack_object *args, msgpack_packer *result)
{
    (void)args;
    int rc = emit_int(ctx, spindle_task_attempt(ctx));
    if (rc != SPINDLE_OK)
        return rc;
    if (spindle_task_attempt(ctx) < 2)
        return spindle_task_fail(ctx, "first attempt fails");
    return msgpack_pack_true(result);
}

/* chan_echo: reads the global input until it is empty, writing "echo:" + each message to the
 * global output; returns [read, written, first write error (0 if none), event, the read's
 * last code, the group read's code, its message, the own channel read's code]. */
static int chan_echo(spindle_task_ctx *ctx, const msgpack_object *args, msgpack_packer *result)
{
    (void)args;
    int nread = 0, nwritten = 0, wrc = 0, rc, set = -1;
    spindle_message m;
    while ((rc = spindle_task_channel_read(ctx, SPINDLE_SCOPE_GLOBAL, 10000, &m)) == SPINDLE_OK) {
        nread++;
        char out[64];
        int len = snprintf(out, sizeof(out), "echo:%.*s", (int)m.len, m.data);
        free(m.data);
        int w = spindle_task_channel_write(ctx, SPINDLE_SCOPE_GLOBAL, out, (size_t)len);
        if (w == SPINDLE_OK)
            nwritten++;
        else if (wrc == 0)
            wrc = w;
    }
    if (spindle_task_channel_event(ctx, SPINDLE_SCOPE_GLOBAL, &set) != SPINDLE_OK)
        return spindle_task_fail(ctx, "%s", spindle_task_channel_errstr(ctx));
    int grc = spindle_task_channel_read(ctx, SPINDLE_SCOPE_GROUP, 0, &m);
    char gmsg[SPINDLE_ERROR_MAX];
    snprintf(gmsg, sizeof(gmsg), "%s", spindle_task_channel_errstr(ctx));
    int trc = spindle_task_channel_write(ctx, SPINDLE_SCOPE_TASK, "x", 1);
    msgpack_pack_array(result, 8);
    msgpack_pack_int(result, nread);
    msgpack_pack_int(result, nwritten);
    msgpack_pack_int(result, wrc);
    msgpack_pack_int(result, set);
    msgpack_pack_int(result, rc);
    msgpack_pack_int(result, grc);
    msgpack_pack_str_with_body(result, gmsg, strlen(gmsg));
    return msgpack_pack_int(result, trc);
}

/* own_chan: reads one message of its own channel's input (failing with the channel's message
 * if it cannot), writes "got:" + it to its own output, and returns it. */
static int own_chan(spindle_task_ctx *ctx, const msgpack_object *args, msgpack_packer *result)
{
    (void)args;
    spindle_message m;
    if (spindle_task_channel_read(ctx, SPINDLE_SCOPE_TASK, 0, &m) != SPINDLE_OK)
        return spindle_task_fail(ctx, "%s", spindle_task_channel_errstr(ctx));
    char out[64];
    int len = snprintf(out, sizeof(out), "got:%.*s", (int)m.len, m.data);
    int rc = spindle_task_channel_write(ctx, SPINDLE_SCOPE_TASK, out, (size_t)len);
    if (rc == SPINDLE_OK)
        rc = msgpack_pack_str_with_body(result, m.data, m.len);
    else
        spindle_task_fail(ctx, "%s", spindle_task_channel_errstr(ctx));
    free(m.data);
    return rc;
}

/* nested: enqueues on the client running it; returns the code. */
static int nested(spindle_task_ctx *ctx, const msgpack_object *args, msgpack_packer *result)
{
    (void)ctx;
    (void)args;
    spindle_handle *h = NULL;
    int rc = spindle_enqueue(c, "sum", NULL, NULL, &h);
    spindle_handle_free(h);
    return msgpack_pack_int(result, rc);
}

static int mw_before(spindle_task_ctx *ctx, void *ud)
{
    (void)ud;
    befores++;
    if (strcmp(spindle_task_queue(ctx), "closed") == 0)
        return spindle_task_fail(ctx, "queue closed by middleware");
    return SPINDLE_OK;
}

static void mw_after(spindle_task_ctx *ctx, const char *r, size_t len, double ms, void *ud)
{
    (void)ctx, (void)r, (void)len, (void)ms, (void)ud;
    afters++;
}

static void mw_error(spindle_task_ctx *ctx, const char *e, double ms, void *ud)
{
    (void)ctx, (void)e, (void)ms, (void)ud;
    errors++;
}

static int suite_init(void)
{
    reg = spindle_registry_new();
    spindle_middleware mw = {
        .name = "count", .before = mw_before, .after = mw_after, .on_error = mw_error};
    if (reg == NULL || spindle_registry_add(reg, "sum", sum, NULL) != SPINDLE_OK ||
        spindle_registry_add(reg, "boom", boom, NULL) != SPINDLE_OK ||
        spindle_registry_add(reg, "flaky", flaky, NULL) != SPINDLE_OK ||
        spindle_registry_add(reg, "whoami", whoami, NULL) != SPINDLE_OK ||
        spindle_registry_add(reg, "record", record, NULL) != SPINDLE_OK ||
        spindle_registry_add(reg, "report", report, NULL) != SPINDLE_OK ||
        spindle_registry_add(reg, "emit_checks", emit_checks, NULL) != SPINDLE_OK ||
        spindle_registry_add(reg, "flaky_emit", flaky_emit, NULL) != SPINDLE_OK ||
        spindle_registry_add(reg, "chan_echo", chan_echo, NULL) != SPINDLE_OK ||
        spindle_registry_add(reg, "own_chan", own_chan, NULL) != SPINDLE_OK ||
        spindle_registry_add(reg, "nested", nested, NULL) != SPINDLE_OK ||
        spindle_registry_use(reg, &mw) != SPINDLE_OK)
        return -1;
    c = spindle_client_new_sync(reg);
    return c && spindle_client_is_sync(c) ? 0 : -1;
}

static int suite_cleanup(void)
{
    spindle_client_free(c);
    spindle_registry_free(reg);
    c = NULL;
    reg = NULL;
    return 0;
}

static spindle_handle *enq_ints(const char *func, int a, int b, const spindle_enqueue_options *o,
                                int *rc)
{
    spindle_args *args = spindle_args_new();
    spindle_args_int(args, a);
    spindle_args_int(args, b);
    spindle_handle *h = NULL;
    *rc = spindle_enqueue(c, func, args, o, &h);
    spindle_args_free(args);
    return h;
}

static void test_success(void)
{
    int rc;
    spindle_handle *h = enq_ints("sum", 2, 3, NULL, &rc);
    CU_ASSERT_EQUAL(rc, SPINDLE_OK);
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    CU_ASSERT_STRING_EQUAL(spindle_handle_queue(h), "default");
    spindle_state st;
    CU_ASSERT_EQUAL(spindle_status(c, h, &st), SPINDLE_OK);
    CU_ASSERT_EQUAL(st, SPINDLE_STATE_SUCCEEDED);
    int ready = 0;
    CU_ASSERT_EQUAL(spindle_is_ready(c, h, &ready), SPINDLE_OK);
    CU_ASSERT_EQUAL(ready, 1);
    spindle_result *r = NULL;
    CU_ASSERT_EQUAL(spindle_wait(c, h, 0, &r), SPINDLE_OK);
    CU_ASSERT_TRUE(r && spindle_result_value(r)->via.i64 == 5);
    size_t len = 0;
    CU_ASSERT_TRUE(r && spindle_result_raw(r, &len) && len == 1);
    spindle_result_free(r);
    spindle_task_info info;
    CU_ASSERT_EQUAL(spindle_info(c, h, &info), SPINDLE_OK);
    CU_ASSERT_EQUAL(info.state, SPINDLE_STATE_SUCCEEDED);
    CU_ASSERT_STRING_EQUAL(info.func, "sum");
    CU_ASSERT_EQUAL(info.attempts, 1);
    CU_ASSERT_PTR_NULL(info.error);
    CU_ASSERT_TRUE(info.finished_at_ms >= info.started_at_ms && info.started_at_ms > 0);
    spindle_task_info_clear(&info);
    /* The task ended before enqueue returned: a cancel finds it final and leaves it so. */
    st = SPINDLE_STATE_PENDING;
    CU_ASSERT_EQUAL(spindle_cancel(c, h, -1, &st), SPINDLE_OK);
    CU_ASSERT_EQUAL(st, SPINDLE_STATE_SUCCEEDED);
    CU_ASSERT_EQUAL(spindle_status(c, h, &st), SPINDLE_OK);
    CU_ASSERT_EQUAL(st, SPINDLE_STATE_SUCCEEDED);
    spindle_handle_free(h);
}

static void test_failure(void)
{
    spindle_handle *h = NULL;
    CU_ASSERT_EQUAL(spindle_enqueue(c, "boom", NULL, NULL, &h), SPINDLE_OK);
    spindle_result *r = NULL;
    CU_ASSERT_EQUAL(spindle_wait(c, h, 1000, &r), SPINDLE_ERR_TASK_FAILED);
    CU_ASSERT_TRUE(r && strcmp(spindle_result_error(r), "boom on attempt 1") == 0);
    CU_ASSERT_TRUE(r && spindle_result_state(r) == SPINDLE_STATE_FAILED);
    CU_ASSERT_PTR_NOT_NULL(strstr(spindle_errstr(c), "boom on attempt 1"));
    spindle_result_free(r);
    /* Retrying a failed task runs it again at once; a succeeded one cannot be retried. */
    CU_ASSERT_EQUAL(spindle_retry(c, h), SPINDLE_OK);
    spindle_task_info info;
    CU_ASSERT_EQUAL(spindle_info(c, h, &info), SPINDLE_OK);
    CU_ASSERT_EQUAL(info.attempts, 2);
    CU_ASSERT_TRUE(info.error && strcmp(info.error, "boom on attempt 2") == 0);
    spindle_task_info_clear(&info);
    spindle_handle_free(h);
    int rc;
    h = enq_ints("sum", 1, 1, NULL, &rc);
    CU_ASSERT_EQUAL(spindle_retry(c, h), SPINDLE_ERR_INVALID);
    CU_ASSERT_PTR_NOT_NULL(strstr(spindle_errstr(c), "is succeeded"));
    spindle_handle_free(h);
}

static void test_retries(void)
{
    spindle_enqueue_options o;
    spindle_enqueue_options_init(&o);
    o.max_retries = 5;
    o.backoff_ms = 60000; /* ignored: retries are immediate */
    int rc;
    spindle_handle *h = enq_ints("flaky", 3, 0, &o, &rc);
    CU_ASSERT_EQUAL(rc, SPINDLE_OK);
    spindle_result *r = NULL;
    CU_ASSERT_EQUAL(spindle_wait(c, h, 0, &r), SPINDLE_OK);
    CU_ASSERT_TRUE(r && spindle_result_value(r)->via.i64 == 3);
    spindle_result_free(r);
    spindle_task_info info;
    CU_ASSERT_EQUAL(spindle_info(c, h, &info), SPINDLE_OK);
    CU_ASSERT_EQUAL(info.attempts, 3);
    CU_ASSERT_EQUAL(info.retried, 2);
    CU_ASSERT_EQUAL(info.max_retries, 5);
    spindle_task_info_clear(&info);
    spindle_handle_free(h);

    o.max_retries = 1; /* two attempts, both short of 5 */
    h = enq_ints("flaky", 5, 0, &o, &rc);
    CU_ASSERT_EQUAL(spindle_wait(c, h, 0, &r), SPINDLE_ERR_TASK_FAILED);
    CU_ASSERT_TRUE(r && strcmp(spindle_result_error(r), "not yet (attempt 2)") == 0);
    spindle_result_free(r);
    spindle_handle_free(h);
}

static void test_bad_input(void)
{
    spindle_handle *h = NULL;
    /* Refused at enqueue, as with Redis: nothing runs. */
    int before = befores;
    CU_ASSERT_EQUAL(spindle_enqueue_msgpack(c, "sum", "\x01", 1, NULL, &h), SPINDLE_ERR_INVALID);
    CU_ASSERT_PTR_NOT_NULL(strstr(spindle_errstr(c), "must be exactly one msgpack array"));
    CU_ASSERT_EQUAL(spindle_enqueue(c, "bad name", NULL, NULL, &h), SPINDLE_ERR_INVALID);
    spindle_enqueue_options o;
    spindle_enqueue_options_init(&o);
    o.max_retries = 5000;
    CU_ASSERT_EQUAL(spindle_enqueue(c, "sum", NULL, &o, &h), SPINDLE_ERR_INVALID);
    CU_ASSERT_EQUAL(befores, before);
    CU_ASSERT_PTR_NULL(h);
    /* Arguments the function refuses: a failed task with its message. */
    spindle_args *a = spindle_args_new();
    spindle_args_str(a, "x");
    CU_ASSERT_EQUAL(spindle_enqueue(c, "sum", a, NULL, &h), SPINDLE_OK);
    spindle_args_free(a);
    spindle_result *r = NULL;
    CU_ASSERT_EQUAL(spindle_wait(c, h, 0, &r), SPINDLE_ERR_TASK_FAILED);
    CU_ASSERT_TRUE(r && strcmp(spindle_result_error(r), "sum: argument 0 is not a number") == 0);
    spindle_result_free(r);
    spindle_handle_free(h);
}

static void test_unknown_function(void)
{
    spindle_handle *h = NULL;
    CU_ASSERT_EQUAL(spindle_enqueue(c, "nowhere", NULL, NULL, &h), SPINDLE_OK);
    spindle_result *r = NULL;
    CU_ASSERT_EQUAL(spindle_wait(c, h, 0, &r), SPINDLE_ERR_TASK_FAILED);
    CU_ASSERT_PTR_NOT_NULL(r ? strstr(spindle_result_error(r), "unknown function 'nowhere'")
                             : NULL);
    spindle_result_free(r);
    spindle_handle_free(h);
}

static void test_handle_open(void)
{
    spindle_enqueue_options o;
    spindle_enqueue_options_init(&o);
    o.queue = "q1";
    int rc;
    spindle_handle *h = enq_ints("sum", 4, 4, &o, &rc);
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    spindle_handle *h2 = NULL;
    CU_ASSERT_EQUAL(spindle_handle_open(c, spindle_handle_id(h), NULL, &h2), SPINDLE_OK);
    CU_ASSERT_TRUE(h2 && strcmp(spindle_handle_queue(h2), "q1") == 0);
    spindle_result *r = NULL;
    CU_ASSERT_EQUAL(h2 ? spindle_wait(c, h2, 0, &r) : -1, SPINDLE_OK);
    CU_ASSERT_TRUE(r && spindle_result_value(r)->via.i64 == 8);
    spindle_result_free(r);
    spindle_handle_free(h2);
    h2 = NULL;
    CU_ASSERT_EQUAL(spindle_handle_open(c, spindle_handle_id(h), "q2", &h2), SPINDLE_ERR_NOT_FOUND);
    CU_ASSERT_EQUAL(spindle_handle_open(c, "0b8f3a4e-6d7c-4b21-9f55-3c1e2d0a9b87", NULL, &h2),
                    SPINDLE_ERR_NOT_FOUND);
    CU_ASSERT_EQUAL(spindle_handle_open(c, "not-an-id", NULL, &h2), SPINDLE_ERR_INVALID);
    CU_ASSERT_PTR_NULL(h2);
    spindle_handle_free(h);
}

/* Waits return at once, even "forever"; wait_many calls back once per task. */
static void test_waits_return_at_once(void)
{
    spindle_task_spec specs[3] = {
        {.func = "sum", .args = "\x91\x07", .args_len = 2}, {.func = "boom"}, {.func = "whoami"}};
    spindle_handle *h[3] = {0};
    CU_ASSERT_EQUAL_FATAL(spindle_enqueue_bulk(c, specs, 3, NULL, h), SPINDLE_OK);
    spindle_result *r = NULL;
    CU_ASSERT_EQUAL(spindle_wait(c, h[0], -1, &r), SPINDLE_OK);
    CU_ASSERT_TRUE(r && spindle_result_value(r)->via.i64 == 7);
    spindle_result_free(r);
    CU_ASSERT_EQUAL(spindle_wait(c, h[2], -1, &r), SPINDLE_OK);
    const msgpack_object *v = r ? spindle_result_value(r) : NULL;
    CU_ASSERT_TRUE_FATAL(v && v->type == MSGPACK_OBJECT_ARRAY && v->via.array.size == 4);
    CU_ASSERT_EQUAL(v->via.array.ptr[0].via.str.size, 36);
    CU_ASSERT_EQUAL(memcmp(v->via.array.ptr[0].via.str.ptr, spindle_handle_id(h[2]), 36), 0);
    CU_ASSERT_EQUAL(v->via.array.ptr[2].via.u64, 1);
    CU_ASSERT_EQUAL(v->via.array.ptr[3].via.u64, 0);
    spindle_result_free(r);
    size_t first = 9;
    CU_ASSERT_EQUAL(spindle_wait_many(c, h, 3, SPINDLE_WAIT_ALL, -1, NULL, &first), SPINDLE_OK);
    CU_ASSERT_EQUAL(first, 0);
    for (int i = 0; i < 3; i++)
        spindle_handle_free(h[i]);
}

static void test_middleware_runs(void)
{
    int b = befores, a = afters, e = errors, rc;
    spindle_handle *h = enq_ints("sum", 1, 2, NULL, &rc);
    spindle_handle_free(h);
    CU_ASSERT_EQUAL(befores, b + 1);
    CU_ASSERT_EQUAL(afters, a + 1);
    CU_ASSERT_EQUAL(errors, e);
    spindle_enqueue_options o;
    spindle_enqueue_options_init(&o);
    o.queue = "closed";
    h = enq_ints("sum", 1, 2, &o, &rc);
    spindle_result *r = NULL;
    CU_ASSERT_EQUAL(spindle_wait(c, h, 0, &r), SPINDLE_ERR_TASK_FAILED);
    CU_ASSERT_TRUE(r && strcmp(spindle_result_error(r), "queue closed by middleware") == 0);
    CU_ASSERT_EQUAL(errors, e + 1);
    spindle_result_free(r);
    spindle_handle_free(h);
}

/* The running task's context points to its record; progress reads come from it. */
static void test_task_record(void)
{
    spindle_handle *h = NULL;
    CU_ASSERT_EQUAL(spindle_enqueue(c, "record", NULL, NULL, &h), SPINDLE_OK);
    spindle_result *r = NULL;
    CU_ASSERT_EQUAL(spindle_wait(c, h, 0, &r), SPINDLE_OK);
    spindle_result_free(r);
    spindle_progress p;
    CU_ASSERT_EQUAL(spindle_progress_get(c, h, &p), SPINDLE_OK);
    CU_ASSERT_EQUAL(p.done, 3);
    CU_ASSERT_EQUAL(p.total, 4);
    CU_ASSERT_EQUAL(p.seq, 1);
    spindle_handle_free(h);
}

/* A one-argument task, run at once. */
static spindle_handle *enq_one(const char *func, int a, const spindle_enqueue_options *o)
{
    spindle_args *args = spindle_args_new();
    spindle_args_int(args, a);
    spindle_handle *h = NULL;
    CU_ASSERT_EQUAL(spindle_enqueue(c, func, args, o, &h), SPINDLE_OK);
    spindle_args_free(args);
    return h;
}

typedef struct seen_progress {
    int calls;
    spindle_progress last;
} seen_progress;

static void on_progress(const spindle_progress *p, void *ud)
{
    seen_progress *s = ud;
    s->calls++;
    s->last = *p;
}

/* Every report is stored (no coalescing); the last one is read back, its message cut at a
 * UTF-8 boundary; a wait with a callback sees it once. */
static void test_progress_reported(void)
{
    int64_t before = spindle_wall_ms();
    spindle_handle *h = enq_one("report", 3, NULL);
    int64_t after = spindle_wall_ms();
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    spindle_progress p;
    CU_ASSERT_EQUAL(spindle_progress_get(c, h, &p), SPINDLE_OK);
    CU_ASSERT_EQUAL(p.done, 3);
    CU_ASSERT_EQUAL(p.total, 3);
    CU_ASSERT_EQUAL(p.seq, 4);
    CU_ASSERT_EQUAL(strlen(p.message), SPINDLE_PROGRESS_MSG_MAX - 1);
    CU_ASSERT_EQUAL(strspn(p.message, "a"), SPINDLE_PROGRESS_MSG_MAX - 1);
    CU_ASSERT_TRUE(p.updated_at_ms >= before && p.updated_at_ms <= after);
    seen_progress seen = {0};
    spindle_result *r = NULL;
    CU_ASSERT_EQUAL(spindle_wait_progress(c, h, -1, on_progress, &seen, &r), SPINDLE_OK);
    CU_ASSERT_TRUE(r && spindle_result_value(r)->via.i64 == 3);
    spindle_result_free(r);
    CU_ASSERT_EQUAL(seen.calls, 1);
    CU_ASSERT_EQUAL(seen.last.seq, 4);
    CU_ASSERT_EQUAL(seen.last.done, 3);
    /* The sum over several tasks reads the same records. */
    spindle_handle *two[2] = {h, enq_one("report", 2, NULL)};
    CU_ASSERT_PTR_NOT_NULL_FATAL(two[1]);
    CU_ASSERT_EQUAL(spindle_progress_sum(c, two, 2, &p), SPINDLE_OK);
    CU_ASSERT_EQUAL(p.done, 5);
    CU_ASSERT_EQUAL(p.total, 5);
    CU_ASSERT_EQUAL(p.seq, 7);
    spindle_handle_free(two[1]);
    spindle_handle_free(h);

    /* No report: no callback, and the wait answers as spindle_wait(). */
    h = enq_one("report", 0, NULL);
    CU_ASSERT_EQUAL(spindle_progress_get(c, h, &p), SPINDLE_OK);
    CU_ASSERT_EQUAL(p.seq, 0);
    CU_ASSERT_EQUAL(p.updated_at_ms, 0);
    seen.calls = 0;
    CU_ASSERT_EQUAL(spindle_wait_progress(c, h, 0, on_progress, &seen, &r), SPINDLE_OK);
    spindle_result_free(r);
    CU_ASSERT_EQUAL(seen.calls, 0);
    spindle_handle_free(h);
    h = NULL;
    CU_ASSERT_EQUAL(spindle_enqueue(c, "boom", NULL, NULL, &h), SPINDLE_OK);
    CU_ASSERT_EQUAL(spindle_wait_progress(c, h, 0, on_progress, &seen, &r),
                    SPINDLE_ERR_TASK_FAILED);
    CU_ASSERT_TRUE(r && spindle_result_state(r) == SPINDLE_STATE_FAILED);
    spindle_result_free(r);
    spindle_handle_free(h);
}

/* Reads every item of h into vals (at most max), then checks the end. Returns the count. */
static size_t read_items(const spindle_handle *h, int64_t *vals, long *attempts, size_t max,
                         spindle_state final)
{
    spindle_items_reader *rd = NULL;
    CU_ASSERT_EQUAL_FATAL(spindle_items_open(c, h, &rd), SPINDLE_OK);
    size_t n = 0;
    spindle_item *it = NULL;
    /* Even "forever" returns at once: the task is final. */
    while (spindle_items_next(c, rd, -1, &it) == SPINDLE_OK && it) {
        char id[32];
        snprintf(id, sizeof(id), "0-%zu", n + 1);
        CU_ASSERT_STRING_EQUAL(spindle_item_id(it), id);
        size_t len = 0;
        CU_ASSERT_PTR_NOT_NULL(spindle_item_raw(it, &len));
        CU_ASSERT_TRUE(len > 0);
        if (n < max) {
            vals[n] = spindle_item_value(it)->via.i64;
            attempts[n] = spindle_item_attempt(it);
        }
        n++;
        spindle_item_free(it);
    }
    CU_ASSERT_PTR_NULL(it);
    CU_ASSERT_EQUAL(spindle_items_ended(rd), 1);
    CU_ASSERT_EQUAL(spindle_items_final_state(rd), final);
    CU_ASSERT_EQUAL(spindle_items_next(c, rd, 0, &it), SPINDLE_OK);
    CU_ASSERT_PTR_NULL(it);
    spindle_items_close(rd);
    return n;
}

/* Emitted items are read in order, then the end; bad items are refused with the same codes
 * as in a worker, and nothing of them is stored. */
static void test_items(void)
{
    int64_t v[8];
    long a[8];
    spindle_handle *h = enq_one("report", 3, NULL);
    CU_ASSERT_EQUAL(read_items(h, v, a, 8, SPINDLE_STATE_SUCCEEDED), 3);
    CU_ASSERT_TRUE(v[0] == 1 && v[1] == 2 && v[2] == 3);
    CU_ASSERT_TRUE(a[0] == 1 && a[2] == 1);
    spindle_handle_free(h);

    h = enq_one("report", 0, NULL); /* none: the reader ends at once */
    CU_ASSERT_EQUAL(read_items(h, v, a, 8, SPINDLE_STATE_SUCCEEDED), 0);
    spindle_handle_free(h);

    h = NULL;
    CU_ASSERT_EQUAL(spindle_enqueue(c, "emit_checks", NULL, NULL, &h), SPINDLE_OK);
    spindle_result *r = NULL;
    CU_ASSERT_EQUAL(spindle_wait(c, h, 0, &r), SPINDLE_OK);
    const msgpack_object *o = r ? spindle_result_value(r) : NULL;
    CU_ASSERT_TRUE_FATAL(o && o->type == MSGPACK_OBJECT_ARRAY && o->via.array.size == 5);
    CU_ASSERT_EQUAL(o->via.array.ptr[0].via.i64, SPINDLE_ERR_INVALID);
    CU_ASSERT_EQUAL(o->via.array.ptr[1].via.i64, SPINDLE_ERR_INVALID);
    CU_ASSERT_EQUAL(o->via.array.ptr[2].via.i64, SPINDLE_ERR_TOO_LARGE);
    CU_ASSERT_EQUAL(o->via.array.ptr[3].via.i64, SPINDLE_OK);
    CU_ASSERT_EQUAL(o->via.array.ptr[4].via.i64, SPINDLE_ERR_INVALID);
    spindle_result_free(r);
    CU_ASSERT_EQUAL(read_items(h, v, a, 8, SPINDLE_STATE_SUCCEEDED), 1);
    CU_ASSERT_EQUAL(v[0], 7);
    spindle_progress p;
    CU_ASSERT_EQUAL(spindle_progress_get(c, h, &p), SPINDLE_OK);
    CU_ASSERT_EQUAL(p.seq, 0);
    spindle_handle_free(h);

    /* Items of every attempt are kept, each with its attempt. */
    spindle_enqueue_options opt;
    spindle_enqueue_options_init(&opt);
    opt.max_retries = 1;
    h = NULL;
    CU_ASSERT_EQUAL(spindle_enqueue(c, "flaky_emit", NULL, &opt, &h), SPINDLE_OK);
    CU_ASSERT_EQUAL(read_items(h, v, a, 8, SPINDLE_STATE_SUCCEEDED), 2);
    CU_ASSERT_TRUE(v[0] == 1 && a[0] == 1 && v[1] == 2 && a[1] == 2);
    spindle_handle_free(h);

    /* A failed task's items end with its failure. */
    h = NULL;
    CU_ASSERT_EQUAL(spindle_enqueue(c, "flaky_emit", NULL, NULL, &h), SPINDLE_OK);
    CU_ASSERT_EQUAL(read_items(h, v, a, 8, SPINDLE_STATE_FAILED), 1);
    spindle_handle_free(h);
}

static int recv_str(spindle_channel ch, const char *want)
{
    spindle_message m;
    int rc = spindle_channel_recv(c, ch, 0, &m);
    int ok = rc == SPINDLE_OK && m.len == strlen(want) && memcmp(m.data, want, m.len) == 0;
    free(m.data);
    return ok;
}

/* Global channel: filled before enqueue, read and written by the task while it runs, read
 * by the caller afterwards; FULL both ways, the event, recv_all, delete. The task's group
 * and own channels are not found. */
static void test_channels_global(void)
{
    spindle_channel g = spindle_channel_global();
    CU_ASSERT_EQUAL(spindle_channel_send(c, g, "a", 1), SPINDLE_ERR_NOT_FOUND);
    CU_ASSERT_PTR_NOT_NULL(strstr(spindle_errstr(c), "global channel not created"));
    spindle_channel_options o;
    spindle_channel_options_init(&o);
    o.capacity_in = 3;
    o.capacity_out = 2;
    o.ttl_s = 0;
    CU_ASSERT_EQUAL(spindle_channel_create(c, g, &o), SPINDLE_ERR_INVALID);
    o.ttl_s = 1;
    CU_ASSERT_EQUAL_FATAL(spindle_channel_create(c, g, &o), SPINDLE_OK);
    CU_ASSERT_EQUAL(spindle_channel_send(c, g, "a", 1), SPINDLE_OK);
    CU_ASSERT_EQUAL(spindle_channel_send(c, g, "b", 1), SPINDLE_OK);
    CU_ASSERT_EQUAL(spindle_channel_send(c, g, "c", 1), SPINDLE_OK);
    CU_ASSERT_EQUAL(spindle_channel_send(c, g, "d", 1), SPINDLE_ERR_FULL);
    CU_ASSERT_PTR_NOT_NULL(strstr(spindle_errstr(c), "input queue is full (capacity 3)"));
    char *big = calloc(1, (size_t)SPINDLE_CHANNEL_MSG_MAX + 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(big);
    CU_ASSERT_EQUAL(spindle_channel_send(c, g, big, (size_t)SPINDLE_CHANNEL_MSG_MAX + 1),
                    SPINDLE_ERR_TOO_LARGE);
    free(big);
    CU_ASSERT_EQUAL(spindle_channel_set_event(c, g), SPINDLE_OK);
    /* A group channel exists, but the task is in none. */
    CU_ASSERT_EQUAL(spindle_channel_create(c, spindle_channel_of_group("g1"), NULL), SPINDLE_OK);

    int64_t t0 = spindle_mono_ms();
    spindle_handle *h = NULL;
    CU_ASSERT_EQUAL(spindle_enqueue(c, "chan_echo", NULL, NULL, &h), SPINDLE_OK);
    /* The task's last read had a 10 s timeout: it did not wait. */
    CU_ASSERT_TRUE(spindle_mono_ms() - t0 < 5000);
    spindle_result *r = NULL;
    CU_ASSERT_EQUAL(spindle_wait(c, h, 0, &r), SPINDLE_OK);
    const msgpack_object *v = r ? spindle_result_value(r) : NULL;
    CU_ASSERT_TRUE_FATAL(v && v->type == MSGPACK_OBJECT_ARRAY && v->via.array.size == 8);
    const msgpack_object *e = v->via.array.ptr;
    CU_ASSERT_EQUAL(e[0].via.i64, 3);                   /* read a, b, c */
    CU_ASSERT_EQUAL(e[1].via.i64, 2);                   /* wrote two of them */
    CU_ASSERT_EQUAL(e[2].via.i64, SPINDLE_ERR_FULL);    /* the third found the output full */
    CU_ASSERT_EQUAL(e[3].via.i64, 1);                   /* the event set before enqueue */
    CU_ASSERT_EQUAL(e[4].via.i64, SPINDLE_ERR_TIMEOUT); /* then the input was empty */
    CU_ASSERT_EQUAL(e[5].via.i64, SPINDLE_ERR_NOT_FOUND);
    CU_ASSERT_TRUE(e[6].type == MSGPACK_OBJECT_STR && e[6].via.str.size > 0 &&
                   strstr(e[6].via.str.ptr, "is in no group") != NULL);
    CU_ASSERT_EQUAL(e[7].via.i64, SPINDLE_ERR_NOT_FOUND);
    spindle_result_free(r);

    CU_ASSERT_TRUE(recv_str(g, "echo:a"));
    CU_ASSERT_EQUAL(spindle_channel_send(c, g, "e", 1), SPINDLE_OK); /* room again */
    spindle_message *msgs = NULL;
    size_t n = 0;
    CU_ASSERT_EQUAL(spindle_channel_recv_all(c, g, &msgs, &n), SPINDLE_OK);
    CU_ASSERT_EQUAL(n, 1);
    CU_ASSERT_TRUE(n == 1 && msgs[0].len == 6 && memcmp(msgs[0].data, "echo:b", 6) == 0);
    spindle_messages_free(msgs, n);
    CU_ASSERT_EQUAL(spindle_channel_recv_all(c, g, &msgs, &n), SPINDLE_OK);
    CU_ASSERT_EQUAL(n, 0);
    CU_ASSERT_PTR_NULL(msgs);
    /* Nothing can arrive while the caller waits: a timeout answers at once. */
    t0 = spindle_mono_ms();
    spindle_message m;
    CU_ASSERT_EQUAL(spindle_channel_recv(c, g, 10000, &m), SPINDLE_ERR_TIMEOUT);
    CU_ASSERT_PTR_NULL(m.data);
    CU_ASSERT_EQUAL(spindle_channel_recv(c, g, -1, &m), SPINDLE_ERR_TIMEOUT);
    CU_ASSERT_TRUE(spindle_mono_ms() - t0 < 5000);

    int set = -1;
    CU_ASSERT_EQUAL(spindle_channel_event(c, g, &set), SPINDLE_OK);
    CU_ASSERT_EQUAL(set, 1);
    CU_ASSERT_EQUAL(spindle_channel_clear_event(c, g), SPINDLE_OK);
    CU_ASSERT_EQUAL(spindle_channel_event(c, g, &set), SPINDLE_OK);
    CU_ASSERT_EQUAL(set, 0);
    int existed = -1;
    CU_ASSERT_EQUAL(spindle_channel_delete(c, g, &existed), SPINDLE_OK);
    CU_ASSERT_EQUAL(existed, 1);
    CU_ASSERT_EQUAL(spindle_channel_event(c, g, &set), SPINDLE_ERR_NOT_FOUND);
    CU_ASSERT_EQUAL(spindle_channel_delete(c, g, &existed), SPINDLE_OK);
    CU_ASSERT_EQUAL(existed, 0);
    /* With the global channel gone, the task's first read is NOT_FOUND: it fails. */
    spindle_handle_free(h);
    h = NULL;
    CU_ASSERT_EQUAL(spindle_enqueue(c, "chan_echo", NULL, NULL, &h), SPINDLE_OK);
    CU_ASSERT_EQUAL(spindle_wait(c, h, 0, &r), SPINDLE_ERR_TASK_FAILED);
    CU_ASSERT_TRUE(r && strstr(spindle_result_error(r), "global channel not created"));
    spindle_result_free(r);
    spindle_handle_free(h);
    CU_ASSERT_EQUAL(spindle_channel_delete(c, spindle_channel_of_group("g1"), NULL), SPINDLE_OK);
}

/* Group channels on the caller's side: named, checked, kept apart; capacities updated. */
static void test_channels_group(void)
{
    spindle_channel g1 = spindle_channel_of_group("g1"), g2 = spindle_channel_of_group("g2");
    CU_ASSERT_EQUAL(spindle_channel_create(c, spindle_channel_of_group("bad name"), NULL),
                    SPINDLE_ERR_INVALID);
    CU_ASSERT_EQUAL(spindle_channel_send(c, g1, "x", 1), SPINDLE_ERR_NOT_FOUND);
    CU_ASSERT_PTR_NOT_NULL(strstr(spindle_errstr(c), "channel of group 'g1' not created"));
    spindle_channel_options o;
    spindle_channel_options_init(&o);
    o.capacity_in = 1;
    CU_ASSERT_EQUAL(spindle_channel_create(c, g1, &o), SPINDLE_OK);
    CU_ASSERT_EQUAL(spindle_channel_create(c, g2, NULL), SPINDLE_OK);
    CU_ASSERT_EQUAL(spindle_channel_send(c, g1, "1", 1), SPINDLE_OK);
    CU_ASSERT_EQUAL(spindle_channel_send(c, g1, "2", 1), SPINDLE_ERR_FULL);
    CU_ASSERT_EQUAL(spindle_channel_send(c, g2, "2", 1), SPINDLE_OK);
    o.capacity_in = 2; /* recreated: larger, its message kept */
    CU_ASSERT_EQUAL(spindle_channel_create(c, g1, &o), SPINDLE_OK);
    CU_ASSERT_EQUAL(spindle_channel_send(c, g1, "2", 1), SPINDLE_OK);
    CU_ASSERT_EQUAL(spindle_channel_send(c, g1, "3", 1), SPINDLE_ERR_FULL);
    CU_ASSERT_EQUAL(spindle_channel_set_event(c, g2), SPINDLE_OK);
    int set = -1;
    CU_ASSERT_EQUAL(spindle_channel_event(c, g1, &set), SPINDLE_OK);
    CU_ASSERT_EQUAL(set, 0);
    CU_ASSERT_EQUAL(spindle_channel_event(c, g2, &set), SPINDLE_OK);
    CU_ASSERT_EQUAL(set, 1);
    /* Only the task side reads the input: the output is empty. */
    spindle_message m;
    CU_ASSERT_EQUAL(spindle_channel_recv(c, g1, 0, &m), SPINDLE_ERR_TIMEOUT);
    int existed = 0;
    CU_ASSERT_EQUAL(spindle_channel_delete(c, g1, &existed), SPINDLE_OK);
    CU_ASSERT_EQUAL(existed, 1);
    CU_ASSERT_EQUAL(spindle_channel_delete(c, g2, &existed), SPINDLE_OK);
    CU_ASSERT_EQUAL(existed, 1);
}

/* A task's own channel: not there while the task first runs; created after enqueue (the task
 * must exist), it is seen by a retry, and what the task wrote is read afterwards. */
static void test_channels_task(void)
{
    spindle_handle *h = NULL;
    CU_ASSERT_EQUAL_FATAL(spindle_enqueue(c, "own_chan", NULL, NULL, &h), SPINDLE_OK);
    spindle_result *r = NULL;
    CU_ASSERT_EQUAL(spindle_wait(c, h, 0, &r), SPINDLE_ERR_TASK_FAILED);
    char want[96];
    snprintf(want, sizeof(want), "channel of task %s not created", spindle_handle_id(h));
    CU_ASSERT_TRUE(r && strstr(spindle_result_error(r), want));
    spindle_result_free(r);
    spindle_channel ch = spindle_channel_of_task(h);
    CU_ASSERT_EQUAL(spindle_channel_send(c, ch, "hi", 2), SPINDLE_ERR_NOT_FOUND);
    CU_ASSERT_EQUAL(spindle_channel_create(c, ch, NULL), SPINDLE_OK);
    CU_ASSERT_EQUAL(spindle_channel_send(c, ch, "hi", 2), SPINDLE_OK);
    CU_ASSERT_EQUAL(spindle_retry(c, h), SPINDLE_OK);
    CU_ASSERT_EQUAL(spindle_wait(c, h, 0, &r), SPINDLE_OK);
    const msgpack_object *v = r ? spindle_result_value(r) : NULL;
    CU_ASSERT_TRUE(v && v->type == MSGPACK_OBJECT_STR && v->via.str.size == 2 &&
                   memcmp(v->via.str.ptr, "hi", 2) == 0);
    spindle_result_free(r);
    CU_ASSERT_TRUE(recv_str(ch, "got:hi"));

    /* A handle this client does not know: no channel for it. */
    spindle_client *other = spindle_client_new_sync(reg);
    CU_ASSERT_PTR_NOT_NULL_FATAL(other);
    spindle_handle *h2 = NULL;
    CU_ASSERT_EQUAL(spindle_enqueue(other, "sum", NULL, NULL, &h2), SPINDLE_OK);
    CU_ASSERT_EQUAL(spindle_channel_create(c, spindle_channel_of_task(h2), NULL),
                    SPINDLE_ERR_NOT_FOUND);
    CU_ASSERT_PTR_NOT_NULL(strstr(spindle_errstr(c), "not found"));
    CU_ASSERT_EQUAL(spindle_channel_create(c, spindle_channel_of_task(NULL), NULL),
                    SPINDLE_ERR_INVALID);
    spindle_handle_free(h2);
    spindle_client_free(other); /* with no channel of its own: nothing to leak */
    int existed = 0;
    CU_ASSERT_EQUAL(spindle_channel_delete(c, ch, &existed), SPINDLE_OK);
    CU_ASSERT_EQUAL(existed, 1);
    /* Left behind on purpose: the client frees the channels it still has. */
    CU_ASSERT_EQUAL(spindle_channel_create(c, ch, NULL), SPINDLE_OK);
    CU_ASSERT_EQUAL(spindle_channel_send(c, ch, "left", 4), SPINDLE_OK);
    spindle_handle_free(h);
}

static void test_redis_only_calls(void)
{
    CU_ASSERT_EQUAL(spindle_client_connect(c, NULL), SPINDLE_ERR_INVALID);
    CU_ASSERT_PTR_NOT_NULL(strstr(spindle_errstr(c), "this client is synchronous"));
    CU_ASSERT_EQUAL(spindle_client_reconnect(c), SPINDLE_ERR_INVALID);
    spindle_queue_stat *qs = NULL;
    size_t n = 9;
    CU_ASSERT_EQUAL(spindle_queue_list(c, &qs, &n), SPINDLE_ERR_INVALID);
    CU_ASSERT_PTR_NOT_NULL(strstr(spindle_errstr(c), "spindle_queue_list needs Redis"));
    spindle_dead_letter *dl = NULL;
    CU_ASSERT_EQUAL(spindle_dead_list(c, "default", 10, &dl, &n), SPINDLE_ERR_INVALID);
    spindle_worker_info *wi = NULL;
    CU_ASSERT_EQUAL(spindle_worker_list(c, &wi, &n), SPINDLE_ERR_INVALID);
    CU_ASSERT_EQUAL(n, 0);
    /* The client still works after them. */
    int rc;
    spindle_handle *h = enq_ints("sum", 1, 1, NULL, &rc);
    CU_ASSERT_EQUAL(rc, SPINDLE_OK);
    spindle_handle_free(h);
    CU_ASSERT_PTR_NULL(spindle_client_new_sync(NULL));
    /* A task enqueueing on the client running it is refused; the client goes on. */
    h = NULL;
    CU_ASSERT_EQUAL(spindle_enqueue(c, "nested", NULL, NULL, &h), SPINDLE_OK);
    spindle_result *r = NULL;
    CU_ASSERT_EQUAL(spindle_wait(c, h, 0, &r), SPINDLE_OK);
    CU_ASSERT_TRUE(r && spindle_result_value(r)->via.i64 == SPINDLE_ERR_INVALID);
    spindle_result_free(r);
    spindle_handle_free(h);
    h = enq_ints("sum", 1, 1, NULL, &rc);
    CU_ASSERT_EQUAL(rc, SPINDLE_OK);
    spindle_handle_free(h);
}

int register_sync_tests(void)
{
    static const test_case tests[] = {
        {"success: status, ready, wait, info", test_success},
        {"failure with its message; retry runs it again", test_failure},
        {"retries happen at once, up to max_retries", test_retries},
        {"bad input refused at enqueue; bad args fail the task", test_bad_input},
        {"unknown function fails the task", test_unknown_function},
        {"handle reopened by id", test_handle_open},
        {"waits return at once; bulk; task context", test_waits_return_at_once},
        {"middleware runs", test_middleware_runs},
        {"the task's context carries its record", test_task_record},
        {"progress reports stored at once, read back and waited on", test_progress_reported},
        {"items read in order, then the end", test_items},
        {"global channel round trip, FULL, event, delete", test_channels_global},
        {"group channels on the caller's side", test_channels_group},
        {"a task's own channel: created after enqueue, seen by a retry", test_channels_task},
        {"Redis-only calls refused, saying why", test_redis_only_calls},
        {NULL, NULL},
    };
    return add_suite("synchronous mode", suite_init, suite_cleanup, tests);
}
