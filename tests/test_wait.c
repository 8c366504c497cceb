/* spindle_wait() against a forked worker: a wait that runs out of time returns
 * SPINDLE_ERR_TIMEOUT after roughly its timeout and unregisters itself (no `waiters` field
 * left behind), a later wait gets the result; a zero timeout only looks; a negative one waits
 * until the end; a finished task can be waited on again; a task whose hash disappeared is
 * SPINDLE_ERR_NOT_FOUND. */
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

static spindle_handle *enqueue_sleep(int64_t ms)
{
    spindle_args *a = spindle_args_new();
    spindle_args_int(a, ms);
    spindle_handle *h = NULL;
    CU_ASSERT_EQUAL(spindle_enqueue(client, "sleep_ms", a, NULL, &h), SPINDLE_OK);
    spindle_args_free(a);
    return h;
}

static void test_timeout_then_result(void)
{
    spindle_handle *h = enqueue_sleep(500);
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    char key[512];
    harness_task_key(key, sizeof(key), h);

    spindle_result *r = (spindle_result *)1; /* must be reset to NULL */
    int64_t t0 = harness_ms();
    int rc = spindle_wait(client, h, 50, &r);
    int64_t took = harness_ms() - t0;
    CU_ASSERT_EQUAL(rc, SPINDLE_ERR_TIMEOUT);
    CU_ASSERT_PTR_NULL(r);
    CU_ASSERT_TRUE(took >= 45);
    CU_ASSERT_TRUE(took < 400);
    CU_ASSERT_PTR_NOT_NULL(strstr(spindle_errstr(client), spindle_handle_id(h)));
    /* The timed-out caller is no longer counted as a waiter. */
    CU_ASSERT_EQUAL(harness_int("HEXISTS %s waiters", key), 0);

    r = NULL;
    rc = spindle_wait(client, h, 3000, &r);
    CU_ASSERT_EQUAL(rc, SPINDLE_OK);
    CU_ASSERT_TRUE(r && spindle_result_value(r)->via.u64 == 500);
    spindle_result_free(r);
    CU_ASSERT_EQUAL(harness_int("HEXISTS %s waiters", key), 0);
    spindle_handle_free(h);
}

/* Several timed-out waits in a row leave no count behind either. */
static void test_repeated_timeouts(void)
{
    spindle_handle *h = enqueue_sleep(400);
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    char key[512];
    harness_task_key(key, sizeof(key), h);
    for (int i = 0; i < 3; i++) {
        spindle_result *r = NULL;
        CU_ASSERT_EQUAL(spindle_wait(client, h, 20, &r), SPINDLE_ERR_TIMEOUT);
        spindle_result_free(r);
        CU_ASSERT_EQUAL(harness_int("HEXISTS %s waiters", key), 0);
    }
    spindle_result *r = NULL;
    CU_ASSERT_EQUAL(spindle_wait(client, h, 3000, &r), SPINDLE_OK);
    spindle_result_free(r);
    spindle_handle_free(h);
}

static void test_zero_timeout_only_looks(void)
{
    spindle_handle *h = enqueue_sleep(300);
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    char key[512];
    harness_task_key(key, sizeof(key), h);
    spindle_result *r = NULL;
    int64_t t0 = harness_ms();
    CU_ASSERT_EQUAL(spindle_wait(client, h, 0, &r), SPINDLE_ERR_TIMEOUT);
    CU_ASSERT_TRUE(harness_ms() - t0 < 200);
    CU_ASSERT_PTR_NULL(r);
    CU_ASSERT_EQUAL(harness_int("HEXISTS %s waiters", key), 0);
    CU_ASSERT_EQUAL(spindle_wait(client, h, 3000, &r), SPINDLE_OK);
    spindle_result_free(r);

    /* Finished: a zero timeout now returns the result at once, as often as asked. */
    for (int i = 0; i < 2; i++) {
        r = NULL;
        CU_ASSERT_EQUAL(spindle_wait(client, h, 0, &r), SPINDLE_OK);
        CU_ASSERT_TRUE(r && spindle_result_value(r)->via.u64 == 300);
        spindle_result_free(r);
    }
    spindle_handle_free(h);
}

/* A negative timeout waits as long as it takes. */
static void test_wait_forever(void)
{
    spindle_handle *h = enqueue_sleep(150);
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    spindle_result *r = NULL;
    int64_t t0 = harness_ms();
    CU_ASSERT_EQUAL(spindle_wait(client, h, -1, &r), SPINDLE_OK);
    CU_ASSERT_TRUE(harness_ms() - t0 >= 100);
    CU_ASSERT_TRUE(r && spindle_result_value(r)->via.u64 == 150);
    spindle_result_free(r);
    spindle_handle_free(h);
}

static void test_vanished_task(void)
{
    spindle_handle *h = enqueue_sleep(1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    spindle_result *r = NULL;
    CU_ASSERT_EQUAL(spindle_wait(client, h, HARNESS_WAIT_MS, &r), SPINDLE_OK);
    spindle_result_free(r);
    char key[512];
    harness_task_key(key, sizeof(key), h);
    CU_ASSERT_EQUAL(harness_int("DEL %s", key), 1);
    r = NULL;
    CU_ASSERT_EQUAL(spindle_wait(client, h, 1000, &r), SPINDLE_ERR_NOT_FOUND);
    CU_ASSERT_PTR_NULL(r);
    spindle_state st;
    CU_ASSERT_EQUAL(spindle_status(client, h, &st), SPINDLE_ERR_NOT_FOUND);
    spindle_task_info info;
    CU_ASSERT_EQUAL(spindle_info(client, h, &info), SPINDLE_ERR_NOT_FOUND);
    spindle_handle_free(h);
}

int register_wait_tests(void)
{
    static const test_case tests[] = {
        {"50 ms wait on a 500 ms task: TIMEOUT, then result", test_timeout_then_result},
        {"repeated timeouts leave no waiters", test_repeated_timeouts},
        {"zero timeout only looks", test_zero_timeout_only_looks},
        {"negative timeout waits until done", test_wait_forever},
        {"vanished task -> NOT_FOUND", test_vanished_task},
        {NULL, NULL},
    };
    return add_suite("wait", suite_init, suite_cleanup, tests);
}
