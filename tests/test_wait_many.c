/* Waiting on many handles (include/spindle/callbacks.h), against a forked worker with three
 * slots serving "default" and "wm-b" (so tasks of different lengths finish out of order), and
 * a queue no worker serves, "wm-idle", whose tasks are finished or edited by hand. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "harness.h"
#include "spindle/callbacks.h"
#include "suites.h"

#define IDLE "wm-idle"
#define MAX_CALLS 16

static spindle_client *client;

/* What the callbacks saw. */
typedef struct seen {
    int success[MAX_CALLS], failure[MAX_CALLS], progress[MAX_CALLS];
    spindle_state state[MAX_CALLS];
    char error[MAX_CALLS][64];
    int64_t value[MAX_CALLS];
    long seqs[MAX_CALLS]; /* progress seqs in the order seen, for index 0 */
    int nseqs;
    spindle_progress last;
} seen;

static void on_success(size_t i, const spindle_result *r, void *ud)
{
    seen *s = ud;
    s->success[i]++;
    s->state[i] = spindle_result_state(r);
    s->value[i] = spindle_result_value(r)->via.i64;
}

static void on_failure(size_t i, const spindle_result *r, void *ud)
{
    seen *s = ud;
    s->failure[i]++;
    s->state[i] = spindle_result_state(r);
    snprintf(s->error[i], sizeof(s->error[i]), "%s",
             spindle_result_error(r) ? spindle_result_error(r) : "");
}

static void on_progress(size_t i, const spindle_progress *p, void *ud)
{
    seen *s = ud;
    s->progress[i]++;
    if (i == 0 && s->nseqs < MAX_CALLS)
        s->seqs[s->nseqs++] = p->seq;
    if (i == 0)
        s->last = *p;
}

static int suite_init(void)
{
    if (harness_suite_init() != 0)
        return -1;
    client = harness_client();
    static const char *queues[] = {"default", "wm-b"};
    spindle_worker_options o;
    spindle_worker_options_init(&o);
    o.queues = queues;
    o.nqueues = 2;
    o.concurrency = 3;
    o.prefetch = 1;
    return client && harness_worker_fork_opts(NULL, &o) > 0 ? 0 : -1;
}

static int suite_cleanup(void)
{
    return harness_suite_cleanup_client(&client);
}

/* Enqueues func with one argument (an integer, or a string when s is not NULL) on queue. */
static spindle_handle *enq(const char *queue, const char *func, long n, const char *s)
{
    spindle_args *a = spindle_args_new();
    if (s)
        spindle_args_str(a, s);
    else
        spindle_args_int(a, n);
    spindle_enqueue_options o;
    spindle_enqueue_options_init(&o);
    o.queue = queue;
    spindle_handle *h = NULL;
    CU_ASSERT_EQUAL(spindle_enqueue(client, func, a, &o, &h), SPINDLE_OK);
    spindle_args_free(a);
    return h;
}

static int total(const int *v, size_t n)
{
    int t = 0;
    for (size_t i = 0; i < n; i++)
        t += v[i];
    return t;
}

/* ANY returns the first finisher, whatever its position; ALL then waits for the rest, and
 * calls back once per task again (a new wait, the tasks already final). */
static void test_any_then_all(void)
{
    long s = harness_slowdown();
    spindle_handle *h[3] = {enq("default", "sleep_ms", 1500 * s, NULL),
                            enq("default", "sleep_ms", 50, NULL),
                            enq("default", "sleep_ms", 2000 * s, NULL)};
    spindle_wait_callbacks cb = {.on_success = on_success, .on_failure = on_failure};
    seen any = {0};
    cb.userdata = &any;
    size_t first = 99;
    CU_ASSERT_EQUAL(spindle_wait_many(client, h, 3, SPINDLE_WAIT_ANY, HARNESS_WAIT_MS, &cb, &first),
                    SPINDLE_OK);
    CU_ASSERT_EQUAL(first, 1);
    CU_ASSERT_EQUAL(any.success[1], 1);
    CU_ASSERT_EQUAL(any.value[1], 50);
    CU_ASSERT_EQUAL(total(any.success, 3) + total(any.failure, 3), 1);
    /* The others are no longer waited on. */
    char key[512];
    harness_task_key(key, sizeof(key), h[0]);
    char *w = harness_hget(key, "waiters", NULL);
    CU_ASSERT_PTR_NULL(w);
    free(w);

    seen all = {0};
    cb.userdata = &all;
    CU_ASSERT_EQUAL(spindle_wait_many(client, h, 3, SPINDLE_WAIT_ALL, HARNESS_WAIT_MS, &cb, &first),
                    SPINDLE_OK);
    CU_ASSERT_EQUAL(first, 1); /* already final at the start: the lowest such index */
    for (int i = 0; i < 3; i++)
        CU_ASSERT_EQUAL(all.success[i], 1);
    CU_ASSERT_EQUAL(total(all.failure, 3), 0);
    CU_ASSERT_EQUAL(all.value[0], 1500 * s);
    CU_ASSERT_EQUAL(all.value[2], 2000 * s);
    for (int i = 0; i < 3; i++)
        spindle_handle_free(h[i]);
}

/* Succeeded, failed and cancelled, across three queues: each callback once, at its index. */
static void test_mixed_outcomes(void)
{
    spindle_handle *h[4] = {enq(IDLE, "add", 1, NULL), enq("wm-b", "fail", 0, "no luck"),
                            enq("default", "add", 7, NULL), enq("default", "sleep_ms", 100, NULL)};
    /* h[0] is cancelled by hand: no worker serves its queue. */
    char key[512];
    harness_task_key(key, sizeof(key), h[0]);
    redisReply *r = harness_cmd("HSET %s state cancelled error %s", key, "by hand");
    CU_ASSERT_TRUE(r && r->type == REDIS_REPLY_INTEGER);
    freeReplyObject(r);
    seen sn = {0};
    spindle_wait_callbacks cb = {
        .on_success = on_success, .on_failure = on_failure, .userdata = &sn};
    size_t first = 99;
    CU_ASSERT_EQUAL(spindle_wait_many(client, h, 4, SPINDLE_WAIT_ALL, HARNESS_WAIT_MS, &cb, &first),
                    SPINDLE_OK);
    CU_ASSERT_EQUAL(first, 0);
    CU_ASSERT_EQUAL(sn.failure[0], 1);
    CU_ASSERT_EQUAL(sn.state[0], SPINDLE_STATE_CANCELLED);
    CU_ASSERT_STRING_EQUAL(sn.error[0], "by hand");
    CU_ASSERT_EQUAL(sn.failure[1], 1);
    CU_ASSERT_EQUAL(sn.state[1], SPINDLE_STATE_FAILED);
    CU_ASSERT_STRING_EQUAL(sn.error[1], "no luck");
    CU_ASSERT_EQUAL(sn.success[2], 1);
    CU_ASSERT_EQUAL(sn.value[2], 7);
    CU_ASSERT_EQUAL(sn.success[3], 1);
    CU_ASSERT_EQUAL(total(sn.success, 4), 2);
    CU_ASSERT_EQUAL(total(sn.failure, 4), 2);
    for (int i = 0; i < 4; i++)
        spindle_handle_free(h[i]);
}

/* Nothing finishes: SPINDLE_ERR_TIMEOUT after the timeout, no callback, no waiter left. */
static void test_timeout(void)
{
    spindle_handle *h[2] = {enq(IDLE, "add", 1, NULL), enq(IDLE, "add", 2, NULL)};
    seen sn = {0};
    spindle_wait_callbacks cb = {
        .on_success = on_success, .on_failure = on_failure, .userdata = &sn};
    size_t first = 99;
    int64_t t0 = harness_ms();
    CU_ASSERT_EQUAL(spindle_wait_many(client, h, 2, SPINDLE_WAIT_ANY, 200, &cb, &first),
                    SPINDLE_ERR_TIMEOUT);
    int64_t took = harness_ms() - t0;
    CU_ASSERT_TRUE(took >= 195);
    CU_ASSERT_TRUE(took < HARNESS_WAIT_MS);
    CU_ASSERT_EQUAL(first, 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(spindle_errstr(client), "0 of 2 tasks finished within 200 ms"));
    CU_ASSERT_EQUAL(total(sn.success, 2) + total(sn.failure, 2), 0);
    char key[512];
    for (int i = 0; i < 2; i++) {
        harness_task_key(key, sizeof(key), h[i]);
        char *w = harness_hget(key, "waiters", NULL);
        CU_ASSERT_PTR_NULL(w);
        free(w);
    }
    /* Timeout 0 only looks. */
    CU_ASSERT_EQUAL(spindle_wait_many(client, h, 2, SPINDLE_WAIT_ALL, 0, &cb, &first),
                    SPINDLE_ERR_TIMEOUT);
    for (int i = 0; i < 2; i++)
        spindle_handle_free(h[i]);
}

/* Bad calls, and a task that vanished: NOT_FOUND naming its index, no waiter left behind. */
static void test_invalid_and_missing(void)
{
    spindle_handle *h[2] = {enq(IDLE, "add", 1, NULL), enq(IDLE, "add", 2, NULL)};
    size_t first = 99;
    CU_ASSERT_EQUAL(spindle_wait_many(client, h, 0, SPINDLE_WAIT_ANY, 10, NULL, &first),
                    SPINDLE_ERR_INVALID);
    CU_ASSERT_EQUAL(spindle_wait_many(client, h, 2, 7, 10, NULL, &first), SPINDLE_ERR_INVALID);
    CU_ASSERT_PTR_NOT_NULL(strstr(spindle_errstr(client), "mode 7"));
    spindle_handle *with_null[2] = {h[0], NULL};
    CU_ASSERT_EQUAL(spindle_wait_many(client, with_null, 2, SPINDLE_WAIT_ALL, 10, NULL, NULL),
                    SPINDLE_ERR_INVALID);
    CU_ASSERT_PTR_NOT_NULL(strstr(spindle_errstr(client), "handle 1 is NULL"));

    char key[512];
    harness_task_key(key, sizeof(key), h[1]);
    CU_ASSERT_EQUAL(harness_int("DEL %s", key), 1);
    CU_ASSERT_EQUAL(spindle_wait_many(client, h, 2, SPINDLE_WAIT_ALL, 1000, NULL, &first),
                    SPINDLE_ERR_NOT_FOUND);
    CU_ASSERT_PTR_NOT_NULL(strstr(spindle_errstr(client), "handle 1"));
    harness_task_key(key, sizeof(key), h[0]);
    char *w = harness_hget(key, "waiters", NULL);
    CU_ASSERT_PTR_NULL(w);
    free(w);
    for (int i = 0; i < 2; i++)
        spindle_handle_free(h[i]);
}

/* Writes progress reports into a running task's hash by hand, on a connection of its own, as
 * the progress writer would (docs/PROTOCOL.md, "Progress"). */
typedef struct writer {
    char key[512];
    redisContext *rc;
} writer;

static redisContext *own_connection(void)
{
    const char *url = harness_url();
    if (strncmp(url, "unix://", 7) == 0)
        return redisConnectUnix(url + 7);
    const char *colon = strrchr(url, ':');
    return colon ? redisConnect("127.0.0.1", atoi(colon + 1)) : NULL;
}

static void report(writer *w, long done, const char *msg)
{
    redisReply *r = redisCommand(
        w->rc, "HSET %s progress_done %ld progress_total 3 progress_msg %s", w->key, done, msg);
    freeReplyObject(r);
    r = redisCommand(w->rc, "HINCRBY %s progress_seq 1", w->key);
    freeReplyObject(r);
}

static void *write_progress(void *p)
{
    writer *w = p;
    long s = harness_slowdown();
    harness_sleep_ms(150 * s);
    report(w, 1, "one");
    harness_sleep_ms(300 * s);
    report(w, 2, "two");
    return NULL;
}

static void test_progress_callback(void)
{
    long s = harness_slowdown();
    spindle_handle *h[2] = {enq("default", "sleep_ms", 1200 * s, NULL),
                            enq("wm-b", "sleep_ms", 1300 * s, NULL)};
    writer w;
    harness_task_key(w.key, sizeof(w.key), h[0]);
    w.rc = own_connection();
    CU_ASSERT_TRUE_FATAL(w.rc && !w.rc->err);
    pthread_t t;
    CU_ASSERT_EQUAL_FATAL(pthread_create(&t, NULL, write_progress, &w), 0);
    seen sn = {0};
    spindle_wait_callbacks cb = {.on_success = on_success,
                                 .on_failure = on_failure,
                                 .on_progress = on_progress,
                                 .userdata = &sn};
    CU_ASSERT_EQUAL(spindle_wait_many(client, h, 2, SPINDLE_WAIT_ALL, HARNESS_WAIT_MS, &cb, NULL),
                    SPINDLE_OK);
    pthread_join(t, NULL);
    redisFree(w.rc);
    /* Both reports are 300 ms apart, far more than the 100 ms between reads. */
    CU_ASSERT_EQUAL(sn.nseqs, 2);
    CU_ASSERT_EQUAL(sn.seqs[0], 1);
    CU_ASSERT_EQUAL(sn.seqs[1], 2);
    CU_ASSERT_EQUAL(sn.last.done, 2);
    CU_ASSERT_EQUAL(sn.last.total, 3);
    CU_ASSERT_STRING_EQUAL(sn.last.message, "two");
    CU_ASSERT_EQUAL(sn.progress[1], 0);
    CU_ASSERT_EQUAL(sn.success[0], 1);
    CU_ASSERT_EQUAL(sn.success[1], 1);
    for (int i = 0; i < 2; i++)
        spindle_handle_free(h[i]);
}

int register_wait_many_tests(void)
{
    static const test_case tests[] = {
        {"wait-any returns the first finisher; wait-all the rest", test_any_then_all},
        {"succeeded, failed, cancelled across queues: one callback each", test_mixed_outcomes},
        {"timeout: no callback, no waiter left; timeout 0 only looks", test_timeout},
        {"bad arguments; a vanished task is not found", test_invalid_and_missing},
        {"progress callback on every change", test_progress_callback},
        {NULL, NULL},
    };
    return add_suite("wait many", suite_init, suite_cleanup, tests);
}
