/* Retries from the caller's side, with a forked worker serving "default": a task with
 * retries = 2 and a 50 ms back-off fails for good after exactly three attempts, no sooner
 * than its two back-offs allow, and becomes a dead letter with its error; spindle_retry()
 * runs it again through the same three attempts. A task scheduled a minute ahead shows its
 * retry in spindle_info() and the scheduled set, and spindle_retry() runs it now. What
 * cannot be retried (succeeded, pending, unknown) is refused and left as it was. The back-off
 * options reach the task hash, and spindle_info() reads retried, retry_at and lost. */
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "harness.h"
#include "spindle/admin.h"
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

/* Enqueues fail(msg) on queue (NULL: default) with the given retry options. */
static spindle_handle *enqueue_fail(const char *queue, const char *msg, int retries, long backoff)
{
    spindle_args *a = spindle_args_new();
    spindle_args_str(a, msg);
    spindle_enqueue_options o;
    spindle_enqueue_options_init(&o);
    o.queue = queue;
    o.max_retries = retries;
    o.backoff_ms = backoff;
    spindle_handle *h = NULL;
    int rc = spindle_enqueue(client, "fail", a, &o, &h);
    spindle_args_free(a);
    CU_ASSERT_EQUAL(rc, SPINDLE_OK);
    return h;
}

/* Waits for the task to end; asserts it failed with want as its error. */
static void wait_failed(const spindle_handle *h, const char *want)
{
    spindle_result *r = NULL;
    int rc = spindle_wait(client, h, HARNESS_WAIT_MS, &r);
    CU_ASSERT_EQUAL(rc, SPINDLE_ERR_TASK_FAILED);
    if (rc != SPINDLE_ERR_TASK_FAILED)
        fprintf(stderr, "\n  wait: %d %s\n", rc, spindle_errstr(client));
    CU_ASSERT_STRING_EQUAL(r && spindle_result_error(r) ? spindle_result_error(r) : "", want);
    spindle_result_free(r);
}

/* The dead letter of h in its queue's list copied into *out, its error text into err (64
 * bytes) and out->error set to err; 1 if found (and listed once only). */
static int find_dead(const spindle_handle *h, spindle_dead_letter *out, char err[64])
{
    spindle_dead_letter *list = NULL;
    size_t n = 0;
    CU_ASSERT_EQUAL(spindle_dead_list(client, spindle_handle_queue(h), 0, &list, &n), SPINDLE_OK);
    int found = 0;
    for (size_t i = 0; i < n; i++)
        if (strcmp(list[i].id, spindle_handle_id(h)) == 0) {
            *out = list[i];
            snprintf(err, 64, "%s", list[i].error);
            out->error = err;
            found++;
        }
    spindle_dead_list_free(list, n);
    CU_ASSERT_TRUE(found <= 1);
    return found == 1;
}

static void test_retries_then_dead_then_retry(void)
{
    spindle_handle *h = enqueue_fail(NULL, "boom-retry", 2, 50);
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    wait_failed(h, "boom-retry");

    spindle_task_info info;
    CU_ASSERT_EQUAL_FATAL(spindle_info(client, h, &info), SPINDLE_OK);
    CU_ASSERT_EQUAL(info.state, SPINDLE_STATE_FAILED);
    CU_ASSERT_EQUAL(info.attempts, 3);
    CU_ASSERT_EQUAL(info.retried, 2);
    CU_ASSERT_EQUAL(info.max_retries, 2);
    CU_ASSERT_EQUAL(info.backoff_ms, 50);
    CU_ASSERT_EQUAL(info.backoff_max_ms, 0);
    CU_ASSERT_EQUAL(info.retry_at_ms, 0);
    CU_ASSERT_EQUAL(info.lost, 0);
    CU_ASSERT_STRING_EQUAL(info.error ? info.error : "", "boom-retry");
    /* Two back-offs of d/2..d, d = 50 then 100 ms: the third claim came at least 25 + 50 ms
     * after the enqueue, both times by Redis's clock. */
    CU_ASSERT_TRUE(info.started_at_ms - info.enqueued_at_ms >= 75);
    int64_t finished = info.finished_at_ms;
    spindle_task_info_clear(&info);

    spindle_dead_letter d;
    char err[64];
    CU_ASSERT_TRUE_FATAL(find_dead(h, &d, err));
    CU_ASSERT_STRING_EQUAL(d.func, "fail");
    CU_ASSERT_STRING_EQUAL(d.error, "boom-retry");
    CU_ASSERT_EQUAL(d.attempts, 3);
    CU_ASSERT_EQUAL(d.failed_at_ms, finished);

    /* Retried: out of the dead letters, back to work with a fresh budget of two retries. */
    CU_ASSERT_EQUAL(spindle_retry(client, h), SPINDLE_OK);
    CU_ASSERT_FALSE(find_dead(h, &d, err));
    spindle_state st;
    CU_ASSERT_EQUAL(spindle_status(client, h, &st), SPINDLE_OK);
    CU_ASSERT_TRUE(st == SPINDLE_STATE_PENDING || st == SPINDLE_STATE_RUNNING ||
                   st == SPINDLE_STATE_SCHEDULED);
    wait_failed(h, "boom-retry");
    CU_ASSERT_EQUAL_FATAL(spindle_info(client, h, &info), SPINDLE_OK);
    CU_ASSERT_EQUAL(info.state, SPINDLE_STATE_FAILED);
    CU_ASSERT_EQUAL(info.attempts, 6);
    CU_ASSERT_EQUAL(info.retried, 2);
    CU_ASSERT_TRUE(info.finished_at_ms > finished);
    spindle_task_info_clear(&info);
    CU_ASSERT_TRUE(find_dead(h, &d, err));
    CU_ASSERT_EQUAL(d.attempts, 6);
    CU_ASSERT_STRING_EQUAL(d.error, "boom-retry");
    spindle_handle_free(h);
}

/* Polls spindle_info() until the task is scheduled with `attempts` claims; 0 if it was. */
static int await_scheduled(const spindle_handle *h, long attempts, spindle_task_info *info)
{
    int64_t deadline = harness_ms() + HARNESS_WAIT_MS;
    while (harness_ms() < deadline) {
        if (spindle_info(client, h, info) != SPINDLE_OK)
            return -1;
        if (info->state == SPINDLE_STATE_SCHEDULED && info->attempts == attempts)
            return 0;
        spindle_task_info_clear(info);
        harness_sleep_ms(10);
    }
    return -1;
}

/* ZSCORE of the task in its queue's scheduled set, or -1 if it is not there. */
static long long scheduled_score(const spindle_handle *h)
{
    char key[512];
    harness_key(key, sizeof(key), spindle_handle_queue(h), "scheduled");
    redisReply *r = harness_cmd("ZSCORE %s %s", key, spindle_handle_id(h));
    long long score = r && r->type == REDIS_REPLY_STRING ? atoll(r->str) : -1;
    if (r)
        freeReplyObject(r);
    return score;
}

static void test_retry_scheduled_runs_now(void)
{
    /* One retry, a minute away: d = 60 s, so it is due in 30 to 60 s. */
    spindle_handle *h = enqueue_fail(NULL, "later", 1, 60000);
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    spindle_task_info info;
    CU_ASSERT_EQUAL_FATAL(await_scheduled(h, 1, &info), 0);
    CU_ASSERT_EQUAL(info.retried, 1);
    CU_ASSERT_STRING_EQUAL(info.error ? info.error : "", "later");
    CU_ASSERT_TRUE(info.retry_at_ms - info.started_at_ms >= 30000);
    CU_ASSERT_TRUE(info.retry_at_ms - info.started_at_ms <= 60000 + HARNESS_WAIT_MS);
    CU_ASSERT_EQUAL(scheduled_score(h), info.retry_at_ms);
    spindle_task_info_clear(&info);

    /* Now instead of in a minute: it runs, fails, and with its budget renewed is scheduled
     * again rather than dead. */
    CU_ASSERT_EQUAL(spindle_retry(client, h), SPINDLE_OK);
    CU_ASSERT_EQUAL_FATAL(await_scheduled(h, 2, &info), 0);
    CU_ASSERT_EQUAL(info.retried, 1);
    CU_ASSERT_EQUAL(scheduled_score(h), info.retry_at_ms);
    spindle_task_info_clear(&info);
    spindle_handle_free(h);
}

static void test_retry_refused(void)
{
    /* Succeeded. */
    spindle_args *a = spindle_args_new();
    spindle_args_int(a, 1);
    spindle_handle *h = NULL;
    CU_ASSERT_EQUAL_FATAL(spindle_enqueue(client, "add", a, NULL, &h), SPINDLE_OK);
    spindle_args_free(a);
    spindle_result *r = NULL;
    CU_ASSERT_EQUAL(spindle_wait(client, h, HARNESS_WAIT_MS, &r), SPINDLE_OK);
    spindle_result_free(r);
    CU_ASSERT_EQUAL(spindle_retry(client, h), SPINDLE_ERR_INVALID);
    CU_ASSERT_PTR_NOT_NULL(strstr(spindle_errstr(client), "succeeded"));
    spindle_state st;
    CU_ASSERT_EQUAL(spindle_status(client, h, &st), SPINDLE_OK);
    CU_ASSERT_EQUAL(st, SPINDLE_STATE_SUCCEEDED);

    /* Gone: deleted by hand after the handle was made. */
    char key[512];
    harness_task_key(key, sizeof(key), h);
    CU_ASSERT_EQUAL(harness_int("DEL %s", key), 1);
    CU_ASSERT_EQUAL(spindle_retry(client, h), SPINDLE_ERR_NOT_FOUND);
    CU_ASSERT_PTR_NOT_NULL(strstr(spindle_errstr(client), spindle_handle_id(h)));
    spindle_handle_free(h);

    /* Pending on a queue nobody serves: refused, and still pending exactly once. */
    h = enqueue_fail("retry.idle", "x", 0, 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    CU_ASSERT_EQUAL(spindle_retry(client, h), SPINDLE_ERR_INVALID);
    CU_ASSERT_PTR_NOT_NULL(strstr(spindle_errstr(client), "pending"));
    harness_key(key, sizeof(key), "retry.idle", "pending");
    CU_ASSERT_EQUAL(harness_int("LLEN %s", key), 1);
    spindle_handle_free(h);
}

static void test_options_in_hash(void)
{
    spindle_enqueue_options o;
    spindle_enqueue_options_init(&o);
    CU_ASSERT_EQUAL(o.backoff_ms, 0);
    CU_ASSERT_EQUAL(o.backoff_max_ms, 0);
    o.queue = "retry.idle";
    spindle_handle *plain = NULL, *set = NULL;
    CU_ASSERT_EQUAL_FATAL(spindle_enqueue(client, "add", NULL, &o, &plain), SPINDLE_OK);
    o.backoff_ms = 250;
    o.backoff_max_ms = 4000;
    o.max_retries = SPINDLE_MAX_RETRIES;
    CU_ASSERT_EQUAL_FATAL(spindle_enqueue(client, "add", NULL, &o, &set), SPINDLE_OK);

    char key[512];
    harness_task_key(key, sizeof(key), plain);
    CU_ASSERT_EQUAL(harness_int("HEXISTS %s backoff", key), 0);
    CU_ASSERT_EQUAL(harness_int("HEXISTS %s backoff_max", key), 0);
    CU_ASSERT_EQUAL(harness_int("HEXISTS %s retries", key), 0);
    harness_task_key(key, sizeof(key), set);
    char *v = harness_hget(key, "backoff", NULL);
    CU_ASSERT_STRING_EQUAL(v ? v : "", "250");
    free(v);
    v = harness_hget(key, "backoff_max", NULL);
    CU_ASSERT_STRING_EQUAL(v ? v : "", "4000");
    free(v);
    v = harness_hget(key, "retries", NULL);
    CU_ASSERT_STRING_EQUAL(v ? v : "", "1000");
    free(v);

    spindle_task_info info;
    CU_ASSERT_EQUAL_FATAL(spindle_info(client, plain, &info), SPINDLE_OK);
    CU_ASSERT_EQUAL(info.backoff_ms, 0);
    CU_ASSERT_EQUAL(info.backoff_max_ms, 0);
    CU_ASSERT_EQUAL(info.max_retries, -1);
    spindle_task_info_clear(&info);
    CU_ASSERT_EQUAL_FATAL(spindle_info(client, set, &info), SPINDLE_OK);
    CU_ASSERT_EQUAL(info.backoff_ms, 250);
    CU_ASSERT_EQUAL(info.backoff_max_ms, 4000);
    CU_ASSERT_EQUAL(info.max_retries, 1000);
    spindle_task_info_clear(&info);
    spindle_handle_free(plain);
    spindle_handle_free(set);
}

static void test_info_retry_fields(void)
{
    spindle_handle *h = enqueue_fail("retry.idle", "x", 3, 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    spindle_task_info info;
    CU_ASSERT_EQUAL_FATAL(spindle_info(client, h, &info), SPINDLE_OK);
    CU_ASSERT_EQUAL(info.retried, 0);
    CU_ASSERT_EQUAL(info.retry_at_ms, 0);
    CU_ASSERT_EQUAL(info.lost, 0);
    spindle_task_info_clear(&info);

    /* As a worker and the sweep would write them. */
    char key[512];
    harness_task_key(key, sizeof(key), h);
    redisReply *r = harness_cmd("HSET %s retried 2 retry_at 1795433626470 lost 4", key);
    CU_ASSERT_PTR_NOT_NULL(r);
    if (r)
        freeReplyObject(r);
    CU_ASSERT_EQUAL_FATAL(spindle_info(client, h, &info), SPINDLE_OK);
    CU_ASSERT_EQUAL(info.retried, 2);
    CU_ASSERT_EQUAL(info.retry_at_ms, 1795433626470LL);
    CU_ASSERT_EQUAL(info.lost, 4);
    spindle_task_info_clear(&info);
    spindle_handle_free(h);
}

int register_retry_tests(void)
{
    static const test_case tests[] = {
        {"retries 2, back-off 50 ms: 3 attempts, dead letter, retry",
         test_retries_then_dead_then_retry},
        {"retry of a scheduled task runs it now", test_retry_scheduled_runs_now},
        {"retry refused: succeeded, gone, pending", test_retry_refused},
        {"back-off and retries options in the task hash", test_options_in_hash},
        {"info reads retried, retry_at, lost", test_info_retry_fields},
        {NULL, NULL},
    };
    return add_suite("retries and dead letters", suite_init, suite_cleanup, tests);
}
