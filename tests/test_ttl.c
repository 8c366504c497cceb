/* Result TTLs (the `ttl` field of docs/PROTOCOL.md) with a forked worker: a 5 s TTL is
 * applied at settlement; TTL 0 deletes the task hash on success, yet a caller already waiting
 * still receives the result through the completion token, and the task is unknown
 * afterwards; TTL 0 keeps a failed task, as the protocol says "delete on success". */
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "harness.h"
#include "suites.h"

static spindle_client *client;

static int suite_init(void)
{
    return harness_suite_init_with_worker(&client);
}

static int suite_cleanup(void)
{
    return harness_suite_cleanup_client(&client);
}

static spindle_handle *enqueue1(const char *func, int64_t n, const char *str, long ttl)
{
    spindle_args *a = spindle_args_new();
    if (str)
        spindle_args_str(a, str);
    else
        spindle_args_int(a, n);
    spindle_enqueue_options o;
    spindle_enqueue_options_init(&o);
    o.result_ttl_s = ttl;
    spindle_handle *h = NULL;
    int rc = spindle_enqueue(client, func, a, &o, &h);
    spindle_args_free(a);
    CU_ASSERT_EQUAL(rc, SPINDLE_OK);
    return h;
}

static void test_ttl_5(void)
{
    spindle_handle *h = enqueue1("add", 7, NULL, 5);
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    char key[512];
    harness_task_key(key, sizeof(key), h);
    char *ttl_field = harness_hget(key, "ttl", NULL);
    CU_ASSERT_STRING_EQUAL(ttl_field ? ttl_field : "", "5");
    free(ttl_field);

    spindle_result *r = NULL;
    CU_ASSERT_EQUAL(spindle_wait(client, h, HARNESS_WAIT_MS, &r), SPINDLE_OK);
    CU_ASSERT_TRUE(r && spindle_result_value(r)->via.u64 == 7);
    spindle_result_free(r);
    long long ttl = harness_int("TTL %s", key);
    CU_ASSERT_TRUE(ttl > 0);
    CU_ASSERT_TRUE(ttl <= 5);

    spindle_task_info info;
    CU_ASSERT_EQUAL_FATAL(spindle_info(client, h, &info), SPINDLE_OK);
    CU_ASSERT_EQUAL(info.result_ttl_s, 5);
    CU_ASSERT_TRUE(info.expires_in_s > 0 && info.expires_in_s <= 5);
    spindle_task_info_clear(&info);
    spindle_handle_free(h);
}

static void test_ttl_0_waiter_gets_result(void)
{
    /* sleep_ms keeps the task running long enough for the wait to register first. */
    spindle_handle *h = enqueue1("sleep_ms", 300, NULL, 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    char key[512];
    harness_task_key(key, sizeof(key), h);
    char *ttl_field = harness_hget(key, "ttl", NULL);
    CU_ASSERT_STRING_EQUAL(ttl_field ? ttl_field : "", "0");
    free(ttl_field);

    spindle_result *r = NULL;
    int rc = spindle_wait(client, h, HARNESS_WAIT_MS, &r);
    CU_ASSERT_EQUAL(rc, SPINDLE_OK);
    if (rc != SPINDLE_OK)
        fprintf(stderr, "\n  wait: %s\n", spindle_errstr(client));
    CU_ASSERT_PTR_NOT_NULL(r);
    if (r) {
        CU_ASSERT_EQUAL(spindle_result_state(r), SPINDLE_STATE_SUCCEEDED);
        CU_ASSERT_EQUAL(spindle_result_value(r)->type, MSGPACK_OBJECT_POSITIVE_INTEGER);
        CU_ASSERT_EQUAL(spindle_result_value(r)->via.u64, 300);
    }
    spindle_result_free(r);

    /* The hash is gone, and with it the task. */
    CU_ASSERT_EQUAL(harness_int("EXISTS %s", key), 0);
    spindle_state st;
    CU_ASSERT_EQUAL(spindle_status(client, h, &st), SPINDLE_ERR_NOT_FOUND);
    r = NULL;
    CU_ASSERT_EQUAL(spindle_wait(client, h, 100, &r), SPINDLE_ERR_NOT_FOUND);
    CU_ASSERT_PTR_NULL(r);
    spindle_handle *again = NULL;
    CU_ASSERT_EQUAL(spindle_handle_open(client, spindle_handle_id(h), NULL, &again),
                    SPINDLE_ERR_NOT_FOUND);
    spindle_handle_free(again);
    spindle_handle_free(h);
}

static void test_ttl_0_failure_kept(void)
{
    spindle_handle *h = enqueue1("fail", 0, "kept for inspection", 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    spindle_result *r = NULL;
    CU_ASSERT_EQUAL(spindle_wait(client, h, HARNESS_WAIT_MS, &r), SPINDLE_ERR_TASK_FAILED);
    spindle_result_free(r);
    spindle_state st = SPINDLE_STATE_PENDING;
    CU_ASSERT_EQUAL(spindle_status(client, h, &st), SPINDLE_OK);
    CU_ASSERT_EQUAL(st, SPINDLE_STATE_FAILED);
    spindle_handle_free(h);
}

int register_ttl_tests(void)
{
    static const test_case tests[] = {
        {"ttl 5 -> TTL <= 5", test_ttl_5},
        {"ttl 0: waiter gets the result, then NOT_FOUND", test_ttl_0_waiter_gets_result},
        {"ttl 0: a failed task is kept", test_ttl_0_failure_kept},
        {NULL, NULL},
    };
    return add_suite("result ttl", suite_init, suite_cleanup, tests);
}
