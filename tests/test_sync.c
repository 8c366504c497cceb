/* Synchronous mode (include/spindle/sync.h), without Redis: enqueue runs the task at once
 * through the worker's execution path, and the handle API answers from memory. The registry
 * is built here, with a counting middleware. One test reaches into the task context
 * (worker/worker_impl.h) to check that a running task's record is reachable from it, as the
 * task-side calls of synchronous mode use it. */
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "common/sync_task.h"
#include "spindle/admin.h"
#include "spindle/callbacks.h"
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
        {"Redis-only calls refused, saying why", test_redis_only_calls},
        {NULL, NULL},
    };
    return add_suite("synchronous mode", suite_init, suite_cleanup, tests);
}
