/* The task function's side of the API (include/spindle/worker.h), with a forked worker over a
 * registry built here: what a running task sees of itself (id, queue, function name,
 * attempt, userdata), and the result contract enforced by the worker: nothing packed means
 * nil, two values packed is a failure, a bare error code without spindle_task_fail() is a
 * failure with a message naming the function and the code. Also the registry's own checks:
 * duplicate names refused, counts. */
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "harness.h"
#include "suites.h"

#define QUEUE "task-api.q"

static spindle_client *client;
static char userdata[] = "userdata-ok";

static int pack_str(msgpack_packer *pk, const char *s)
{
    size_t n = strlen(s);
    return msgpack_pack_str(pk, n) || msgpack_pack_str_body(pk, s, n);
}

/* whoami: [id, queue, func, attempt, userdata] */
static int task_whoami(spindle_task_ctx *ctx, const msgpack_object *args, msgpack_packer *result)
{
    (void)args;
    const char *ud = spindle_task_userdata(ctx);
    int rc = msgpack_pack_array(result, 5);
    rc = rc || pack_str(result, spindle_task_id(ctx));
    rc = rc || pack_str(result, spindle_task_queue(ctx));
    rc = rc || pack_str(result, spindle_task_func(ctx));
    rc = rc || msgpack_pack_long(result, spindle_task_attempt(ctx));
    rc = rc || pack_str(result, ud ? ud : "(null)");
    return rc ? spindle_task_fail(ctx, "whoami: out of memory") : SPINDLE_OK;
}

static int task_nothing(spindle_task_ctx *ctx, const msgpack_object *args, msgpack_packer *result)
{
    (void)ctx;
    (void)args;
    (void)result;
    return SPINDLE_OK;
}

static int task_two_values(spindle_task_ctx *ctx, const msgpack_object *args,
                           msgpack_packer *result)
{
    (void)ctx;
    (void)args;
    msgpack_pack_int(result, 1);
    return msgpack_pack_int(result, 2);
}

static int task_bare_error(spindle_task_ctx *ctx, const msgpack_object *args,
                           msgpack_packer *result)
{
    (void)ctx;
    (void)args;
    (void)result;
    return SPINDLE_ERR_INVALID;
}

static int fill_registry(spindle_registry *reg)
{
    int rc = spindle_registry_add(reg, "whoami", task_whoami, userdata);
    if (rc == SPINDLE_OK)
        rc = spindle_registry_add(reg, "nothing", task_nothing, NULL);
    if (rc == SPINDLE_OK)
        rc = spindle_registry_add(reg, "two_values", task_two_values, NULL);
    if (rc == SPINDLE_OK)
        rc = spindle_registry_add(reg, "bare_error", task_bare_error, NULL);
    return rc;
}

static int suite_init(void)
{
    if (harness_suite_init() != 0)
        return -1;
    client = harness_client();
    return client && harness_worker_fork_with(fill_registry, QUEUE, 0) > 0 ? 0 : -1;
}

static int suite_cleanup(void)
{
    spindle_client_free(client);
    client = NULL;
    return harness_suite_cleanup();
}

/* Runs func on QUEUE; returns the wait status, the result in *out (caller frees). */
static int run(const char *func, spindle_handle **hout, spindle_result **out)
{
    spindle_enqueue_options o;
    spindle_enqueue_options_init(&o);
    o.queue = QUEUE;
    spindle_handle *h = NULL;
    *out = NULL;
    int rc = spindle_enqueue(client, func, NULL, &o, &h);
    CU_ASSERT_EQUAL(rc, SPINDLE_OK);
    if (rc == SPINDLE_OK)
        rc = spindle_wait(client, h, HARNESS_WAIT_MS, out);
    if (hout)
        *hout = h;
    else
        spindle_handle_free(h);
    return rc;
}

static int is_str(const msgpack_object *o, const char *s)
{
    return o->type == MSGPACK_OBJECT_STR && o->via.str.size == strlen(s) &&
           memcmp(o->via.str.ptr, s, o->via.str.size) == 0;
}

static void test_task_context(void)
{
    spindle_handle *h = NULL;
    spindle_result *r = NULL;
    CU_ASSERT_EQUAL(run("whoami", &h, &r), SPINDLE_OK);
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    const msgpack_object *v = r ? spindle_result_value(r) : NULL;
    CU_ASSERT_TRUE(v && v->type == MSGPACK_OBJECT_ARRAY && v->via.array.size == 5);
    if (v && v->type == MSGPACK_OBJECT_ARRAY && v->via.array.size == 5) {
        const msgpack_object *e = v->via.array.ptr;
        CU_ASSERT_TRUE(is_str(&e[0], spindle_handle_id(h)));
        CU_ASSERT_TRUE(is_str(&e[1], QUEUE));
        CU_ASSERT_TRUE(is_str(&e[2], "whoami"));
        CU_ASSERT_EQUAL(e[3].type, MSGPACK_OBJECT_POSITIVE_INTEGER);
        CU_ASSERT_EQUAL(e[3].via.u64, 1);
        CU_ASSERT_TRUE(is_str(&e[4], "userdata-ok"));
    }
    spindle_result_free(r);
    spindle_handle_free(h);
}

static void test_nothing_packed_is_nil(void)
{
    spindle_handle *h = NULL;
    spindle_result *r = NULL;
    CU_ASSERT_EQUAL(run("nothing", &h, &r), SPINDLE_OK);
    CU_ASSERT_TRUE(r && spindle_result_value(r)->type == MSGPACK_OBJECT_NIL);
    spindle_result_free(r);
    /* Stored as one msgpack nil. */
    char key[512];
    harness_task_key(key, sizeof(key), h);
    size_t len = 0;
    char *res = h ? harness_hget(key, "result", &len) : NULL;
    CU_ASSERT_TRUE(res && len == 1 && (unsigned char)res[0] == 0xc0);
    free(res);
    spindle_handle_free(h);
}

static void test_two_values_fail(void)
{
    spindle_result *r = NULL;
    CU_ASSERT_EQUAL(run("two_values", NULL, &r), SPINDLE_ERR_TASK_FAILED);
    const char *err = r ? spindle_result_error(r) : NULL;
    CU_ASSERT_PTR_NOT_NULL(err ? strstr(err, "'two_values'") : NULL);
    CU_ASSERT_PTR_NOT_NULL(err ? strstr(err, "more than one value") : NULL);
    spindle_result_free(r);
}

static void test_bare_error_code(void)
{
    spindle_result *r = NULL;
    CU_ASSERT_EQUAL(run("bare_error", NULL, &r), SPINDLE_ERR_TASK_FAILED);
    const char *err = r ? spindle_result_error(r) : NULL;
    CU_ASSERT_PTR_NOT_NULL(err ? strstr(err, "'bare_error' returned -1") : NULL);
    CU_ASSERT_PTR_NOT_NULL(err ? strstr(err, "without a message") : NULL);
    spindle_result_free(r);
}

static void test_registry_checks(void)
{
    spindle_registry *reg = spindle_registry_new();
    CU_ASSERT_PTR_NOT_NULL_FATAL(reg);
    CU_ASSERT_EQUAL(spindle_registry_count(reg), 0);
    CU_ASSERT_EQUAL(fill_registry(reg), SPINDLE_OK);
    CU_ASSERT_EQUAL(spindle_registry_count(reg), 4);
    CU_ASSERT_EQUAL(spindle_registry_add(reg, "whoami", task_nothing, NULL), SPINDLE_ERR_INVALID);
    CU_ASSERT_PTR_NOT_NULL(strstr(spindle_registry_errstr(reg), "'whoami' is already registered"));
    CU_ASSERT_EQUAL(spindle_registry_add(reg, "null_fn", NULL, NULL), SPINDLE_ERR_INVALID);
    CU_ASSERT_PTR_NOT_NULL(strstr(spindle_registry_errstr(reg), "'null_fn'"));
    CU_ASSERT_EQUAL(spindle_registry_count(reg), 4);
    /* A library that does not exist. */
    CU_ASSERT_EQUAL(spindle_registry_load(reg, "/nonexistent/lib.so"), SPINDLE_ERR_INVALID);
    CU_ASSERT_PTR_NOT_NULL(strstr(spindle_registry_errstr(reg), "/nonexistent/lib.so"));
    spindle_registry_free(reg);
    spindle_registry_free(NULL);
}

int register_task_api_tests(void)
{
    static const test_case tests[] = {
        {"task context: id, queue, func, attempt, userdata", test_task_context},
        {"nothing packed -> nil", test_nothing_packed_is_nil},
        {"two values packed -> failed", test_two_values_fail},
        {"bare error code -> failed with a message", test_bare_error_code},
        {"registry: duplicates, NULL function, bad library", test_registry_checks},
        {NULL, NULL},
    };
    return add_suite("task API (custom registry)", suite_init, suite_cleanup, tests);
}
