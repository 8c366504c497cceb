/* Queue behaviour as seen in Redis: FIFO order in the pending list (newest at the left,
 * next to run at the right); a bulk enqueue of 2500 tasks (three script calls across the
 * 1000-task chunks) all pending before any worker starts and all completed with the right
 * results once one does; queue priority, where a worker serving "high,low" with both filled
 * starts every high task before any low one; wake-ups (an idle worker takes a new task at
 * once, and a burst is passed on to a second idle worker); a batch over its time budget handing
 * unstarted tasks back without counting an attempt; a 128-byte queue name end to end. Each test
 * starts from an empty database and starts its own forked worker when it needs one. */
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "harness.h"
#include "suites.h"

static spindle_client *client;

static int suite_init(void)
{
    return harness_suite_init_client(&client);
}

static int suite_cleanup(void)
{
    return harness_suite_cleanup_client(&client);
}

/* A fresh start inside the suite: no workers, empty database, and a new client, whose cache
 * of registered queues would otherwise outlive the flush. */
static void fresh(void)
{
    harness_stop_workers();
    CU_ASSERT_EQUAL(harness_flushall(), 0);
    spindle_client_free(client);
    client = harness_client();
    CU_ASSERT_PTR_NOT_NULL_FATAL(client);
}

static spindle_handle *enqueue_on(const char *queue, const char *func, int64_t n)
{
    spindle_args *a = spindle_args_new();
    spindle_args_int(a, n);
    spindle_enqueue_options o;
    spindle_enqueue_options_init(&o);
    o.queue = queue;
    spindle_handle *h = NULL;
    CU_ASSERT_EQUAL(spindle_enqueue(client, func, a, &o, &h), SPINDLE_OK);
    spindle_args_free(a);
    return h;
}

static void test_fifo_order(void)
{
    fresh();
    enum { N = 10 };
    spindle_handle *h[N];
    for (int i = 0; i < N; i++) {
        h[i] = enqueue_on(NULL, "add", i);
        CU_ASSERT_PTR_NOT_NULL_FATAL(h[i]);
    }
    char pending[512];
    harness_key(pending, sizeof(pending), "default", "pending");
    redisReply *r = harness_cmd("LRANGE %s 0 -1", pending);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    CU_ASSERT_EQUAL_FATAL(r->type, REDIS_REPLY_ARRAY);
    CU_ASSERT_EQUAL_FATAL(r->elements, N);
    /* Oldest at the right: element N-1 is the first enqueued. */
    for (int i = 0; i < N; i++)
        CU_ASSERT_STRING_EQUAL(r->element[N - 1 - i]->str, spindle_handle_id(h[i]));
    freeReplyObject(r);
    /* RPOP, as the claim script does, yields the first enqueued. */
    r = harness_cmd("LINDEX %s -1", pending);
    CU_ASSERT_TRUE(r && r->type == REDIS_REPLY_STRING &&
                   strcmp(r->str, spindle_handle_id(h[0])) == 0);
    if (r)
        freeReplyObject(r);
    /* One wake token: the list was empty only before the first push. */
    char wake[512];
    harness_key(wake, sizeof(wake), "default", "wake");
    CU_ASSERT_EQUAL(harness_int("LLEN %s", wake), 1);
    for (int i = 0; i < N; i++)
        spindle_handle_free(h[i]);
}

static void test_bulk_2500(void)
{
    fresh();
    enum { N = 2500 };
    char(*bufs)[16] = calloc(N, sizeof(*bufs));
    spindle_task_spec *specs = calloc(N, sizeof(*specs));
    spindle_handle **out = calloc(N, sizeof(*out));
    CU_ASSERT_PTR_NOT_NULL_FATAL(bufs);
    CU_ASSERT_PTR_NOT_NULL_FATAL(specs);
    CU_ASSERT_PTR_NOT_NULL_FATAL(out);
    for (size_t i = 0; i < N; i++) {
        /* [i, 1] as msgpack: fixarray 2, uint16 i, fixint 1. */
        bufs[i][0] = (char)0x92;
        bufs[i][1] = (char)0xcd;
        bufs[i][2] = (char)(i >> 8);
        bufs[i][3] = (char)(i & 0xff);
        bufs[i][4] = 0x01;
        specs[i] = (spindle_task_spec){.func = "add", .args = bufs[i], .args_len = 5};
    }
    int64_t t0 = harness_ms();
    int rc = spindle_enqueue_bulk(client, specs, N, NULL, out);
    CU_ASSERT_EQUAL(rc, SPINDLE_OK);
    if (rc != SPINDLE_OK)
        fprintf(stderr, "\n  bulk: %s\n", spindle_errstr(client));
    int64_t enq_ms = harness_ms() - t0;

    char pending[512], queues[512];
    harness_key(pending, sizeof(pending), "default", "pending");
    harness_key(queues, sizeof(queues), NULL, "queues");
    CU_ASSERT_EQUAL(harness_int("LLEN %s", pending), N);
    CU_ASSERT_EQUAL(harness_int("SISMEMBER %s default", queues), 1);
    size_t nonnull = 0;
    for (size_t i = 0; i < N; i++)
        nonnull += out[i] != NULL;
    CU_ASSERT_EQUAL_FATAL(nonnull, N);
    /* Ids are distinct across chunks, which reuse their id buffers. */
    CU_ASSERT_STRING_NOT_EQUAL(spindle_handle_id(out[0]), spindle_handle_id(out[1000]));
    CU_ASSERT_STRING_NOT_EQUAL(spindle_handle_id(out[999]), spindle_handle_id(out[1999]));
    /* FIFO across chunks: the first task is next to run, the last is leftmost. */
    redisReply *r = harness_cmd("LRANGE %s 0 0", pending);
    CU_ASSERT_TRUE(r && r->elements == 1 &&
                   strcmp(r->element[0]->str, spindle_handle_id(out[N - 1])) == 0);
    if (r)
        freeReplyObject(r);
    r = harness_cmd("LINDEX %s -1", pending);
    CU_ASSERT_TRUE(r && r->type == REDIS_REPLY_STRING &&
                   strcmp(r->str, spindle_handle_id(out[0])) == 0);
    if (r)
        freeReplyObject(r);

    CU_ASSERT_FATAL(harness_worker_fork(NULL, 0) > 0);
    size_t ok = 0;
    for (size_t i = 0; i < N; i++) {
        spindle_result *res = NULL;
        if (spindle_wait(client, out[i], HARNESS_WAIT_MS, &res) == SPINDLE_OK &&
            spindle_result_value(res)->type == MSGPACK_OBJECT_POSITIVE_INTEGER &&
            spindle_result_value(res)->via.u64 == i + 1)
            ok++;
        else if (ok + 5 > i) /* report the first few only */
            fprintf(stderr, "\n  task %zu: %s\n", i, spindle_errstr(client));
        spindle_result_free(res);
        spindle_handle_free(out[i]);
    }
    CU_ASSERT_EQUAL(ok, N);
    CU_ASSERT_EQUAL(harness_int("LLEN %s", pending), 0);
    CU_ASSERT_TRUE(enq_ms < 5000);
    free(bufs);
    free(specs);
    free(out);
}

static void test_bulk_empty(void)
{
    fresh();
    CU_ASSERT_EQUAL(spindle_enqueue_bulk(client, NULL, 0, NULL, NULL), SPINDLE_OK);
    CU_ASSERT_EQUAL(harness_int("DBSIZE"), 0);
}

static int64_t started_at(const spindle_handle *h)
{
    char key[512];
    harness_task_key(key, sizeof(key), h);
    char *v = harness_hget(key, "started_at", NULL);
    int64_t t = v ? strtoll(v, NULL, 10) : -1;
    free(v);
    return t;
}

static void test_priority(void)
{
    fresh();
    enum { N = 6 };
    spindle_handle *high[N], *low[N];
    /* Low first, so that arrival order alone would favour it. */
    for (int i = 0; i < N; i++)
        low[i] = enqueue_on("low", "sleep_ms", 5);
    for (int i = 0; i < N; i++)
        high[i] = enqueue_on("high", "sleep_ms", 5);
    for (int i = 0; i < N; i++) {
        CU_ASSERT_PTR_NOT_NULL_FATAL(low[i]);
        CU_ASSERT_PTR_NOT_NULL_FATAL(high[i]);
    }
    CU_ASSERT_FATAL(harness_worker_fork("high,low", 0) > 0);
    for (int i = 0; i < N; i++) {
        spindle_result *r = NULL;
        CU_ASSERT_EQUAL(spindle_wait(client, low[i], HARNESS_WAIT_MS, &r), SPINDLE_OK);
        spindle_result_free(r);
        r = NULL;
        CU_ASSERT_EQUAL(spindle_wait(client, high[i], HARNESS_WAIT_MS, &r), SPINDLE_OK);
        spindle_result_free(r);
    }
    int64_t last_high = 0, first_low = INT64_MAX;
    for (int i = 0; i < N; i++) {
        int64_t h = started_at(high[i]), l = started_at(low[i]);
        CU_ASSERT_TRUE(h > 0 && l > 0);
        if (h > last_high)
            last_high = h;
        if (l < first_low)
            first_low = l;
    }
    /* Each task sleeps 5 ms, so the first low task starts strictly after the last high one. */
    CU_ASSERT_TRUE(last_high < first_low);
    if (last_high >= first_low)
        fprintf(stderr, "\n  last high task started at %lld, first low at %lld\n",
                (long long)last_high, (long long)first_low);
    for (int i = 0; i < N; i++) {
        spindle_handle_free(high[i]);
        spindle_handle_free(low[i]);
    }
}

/* An idle worker blocked on its wake list picks a new task up at once, not at its next 1 s
 * poll: the enqueue script's wake token does its job, round after round. */
static void test_idle_worker_wakes_at_once(void)
{
    fresh();
    CU_ASSERT_FATAL(harness_worker_fork(NULL, 0) > 0);
    for (int round = 0; round < 3; round++) {
        CU_ASSERT_EQUAL_FATAL(harness_wait_idle_workers(1, HARNESS_WAIT_MS), 0);
        int64_t t0 = harness_ms();
        spindle_handle *h = enqueue_on(NULL, "add", round);
        spindle_result *r = NULL;
        CU_ASSERT_EQUAL(h ? spindle_wait(client, h, HARNESS_WAIT_MS, &r) : -1, SPINDLE_OK);
        int64_t took = harness_ms() - t0;
        CU_ASSERT_TRUE(took < 500);
        if (took >= 500)
            fprintf(stderr, "\n  round %d: %lld ms from enqueue to result\n", round,
                    (long long)took);
        spindle_result_free(r);
        spindle_handle_free(h);
    }
}

/* Two idle workers and a burst of two slow tasks in one enqueue (one wake token): the
 * worker that wakes claims one and, since another is left, passes a token on, so the
 * second worker runs the other at the same time. */
static void test_burst_shared_by_idle_workers(void)
{
    fresh();
    CU_ASSERT_FATAL(harness_worker_fork(NULL, 0) > 0);
    CU_ASSERT_FATAL(harness_worker_fork(NULL, 0) > 0);
    CU_ASSERT_EQUAL_FATAL(harness_wait_idle_workers(2, HARNESS_WAIT_MS), 0);
    static const char sleep300[] = "\x91\xcd\x01\x2c"; /* [300] */
    spindle_task_spec specs[2] = {{"sleep_ms", sleep300, 4}, {"sleep_ms", sleep300, 4}};
    spindle_handle *h[2] = {NULL, NULL};
    int64_t t0 = harness_ms();
    CU_ASSERT_EQUAL_FATAL(spindle_enqueue_bulk(client, specs, 2, NULL, h), SPINDLE_OK);
    for (int i = 0; i < 2; i++) {
        spindle_result *r = NULL;
        CU_ASSERT_EQUAL(spindle_wait(client, h[i], HARNESS_WAIT_MS, &r), SPINDLE_OK);
        spindle_result_free(r);
    }
    int64_t took = harness_ms() - t0;
    /* Ran at the same time: each started before the other finished (Redis's clock), which
     * holds however loaded the machine is; one after the other (the second worker left
     * asleep until its 1 s poll) would not. */
    char k0[512], k1[512];
    harness_task_key(k0, sizeof(k0), h[0]);
    harness_task_key(k1, sizeof(k1), h[1]);
    long long started[2], finished[2];
    const char *keys[2] = {k0, k1};
    for (int i = 0; i < 2; i++) {
        char *s = harness_hget(keys[i], "started_at", NULL),
             *f = harness_hget(keys[i], "finished_at", NULL);
        started[i] = s ? atoll(s) : -1;
        finished[i] = f ? atoll(f) : -1;
        free(s);
        free(f);
    }
    int overlap =
        started[0] > 0 && started[1] > 0 && started[0] < finished[1] && started[1] < finished[0];
    CU_ASSERT_TRUE(overlap);
    char *w0 = harness_hget(k0, "worker", NULL), *w1 = harness_hget(k1, "worker", NULL);
    CU_ASSERT_TRUE(w0 && w1 && strcmp(w0, w1) != 0);
    if (!overlap || !w0 || !w1 || strcmp(w0, w1) == 0)
        fprintf(stderr, "\n  %lld ms; ran %lld-%lld and %lld-%lld; workers %s and %s\n",
                (long long)took, started[0], finished[0], started[1], finished[1], w0 ? w0 : "-",
                w1 ? w1 : "-");
    free(w0);
    free(w1);
    spindle_handle_free(h[0]);
    spindle_handle_free(h[1]);
}

/* A worker whose batch has grown claims sleeping tasks along with quick ones, runs past its
 * time budget and hands the unstarted rest back: each task still runs exactly once, and
 * handing back undoes the claim (attempts stays 1). */
static void test_batch_hand_back(void)
{
    fresh();
    enum { QUICK = 200, SLOW = 12 };
    spindle_handle *quick[QUICK], *slow[SLOW];
    for (int i = 0; i < QUICK; i++)
        quick[i] = enqueue_on(NULL, "add", i);
    for (int i = 0; i < SLOW; i++)
        slow[i] = enqueue_on(NULL, "sleep_ms", 20);
    CU_ASSERT_FATAL(harness_worker_fork(NULL, 32) > 0);
    int ok = 0;
    for (int i = 0; i < QUICK; i++) {
        spindle_result *r = NULL;
        if (quick[i] && spindle_wait(client, quick[i], HARNESS_WAIT_MS, &r) == SPINDLE_OK &&
            spindle_result_value(r)->via.u64 == (uint64_t)i)
            ok++;
        spindle_result_free(r);
    }
    for (int i = 0; i < SLOW; i++) {
        spindle_result *r = NULL;
        if (slow[i] && spindle_wait(client, slow[i], HARNESS_WAIT_MS, &r) == SPINDLE_OK &&
            spindle_result_value(r)->via.u64 == 20)
            ok++;
        spindle_result_free(r);
    }
    CU_ASSERT_EQUAL(ok, QUICK + SLOW);
    for (int i = 0; i < SLOW; i++) {
        char key[512];
        harness_task_key(key, sizeof(key), slow[i]);
        char *attempts = harness_hget(key, "attempts", NULL);
        CU_ASSERT_STRING_EQUAL(attempts ? attempts : "", "1");
        free(attempts);
    }
    char pending[512];
    harness_key(pending, sizeof(pending), "default", "pending");
    CU_ASSERT_EQUAL(harness_int("LLEN %s", pending), 0);
    redisReply *keys = harness_cmd("KEYS %s:{default}:inflight:*", harness_ns());
    CU_ASSERT_TRUE(keys && keys->type == REDIS_REPLY_ARRAY && keys->elements == 0);
    if (keys)
        freeReplyObject(keys);
    for (int i = 0; i < QUICK; i++)
        spindle_handle_free(quick[i]);
    for (int i = 0; i < SLOW; i++)
        spindle_handle_free(slow[i]);
}

/* A queue name of the maximum length works end to end (keys, worker, handle). */
static void test_longest_queue_name(void)
{
    fresh();
    char name[129];
    memset(name, 'Q', 128);
    name[128] = '\0';
    CU_ASSERT_FATAL(harness_worker_fork(name, 0) > 0);
    spindle_handle *h = enqueue_on(name, "add", 9);
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    CU_ASSERT_STRING_EQUAL(spindle_handle_queue(h), name);
    spindle_result *r = NULL;
    CU_ASSERT_EQUAL(spindle_wait(client, h, HARNESS_WAIT_MS, &r), SPINDLE_OK);
    CU_ASSERT_TRUE(r && spindle_result_value(r)->via.u64 == 9);
    spindle_result_free(r);
    spindle_handle *again = NULL;
    CU_ASSERT_EQUAL(spindle_handle_open(client, spindle_handle_id(h), NULL, &again), SPINDLE_OK);
    CU_ASSERT_STRING_EQUAL(again ? spindle_handle_queue(again) : "", name);
    spindle_handle_free(again);
    spindle_handle_free(h);
}

int register_queue_tests(void)
{
    static const test_case tests[] = {
        {"FIFO order in pending", test_fifo_order},
        {"bulk enqueue of 2500 (3 chunks)", test_bulk_2500},
        {"bulk enqueue of 0", test_bulk_empty},
        {"priority: high before low", test_priority},
        {"idle worker wakes at once", test_idle_worker_wakes_at_once},
        {"burst shared by two idle workers", test_burst_shared_by_idle_workers},
        {"batch over budget hands tasks back", test_batch_hand_back},
        {"128-byte queue name end to end", test_longest_queue_name},
        {NULL, NULL},
    };
    return add_suite("queues: fifo, bulk, priority", suite_init, suite_cleanup, tests);
}
