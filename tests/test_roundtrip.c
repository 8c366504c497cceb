/* End to end through the real spindle-worker binary loading the example task library: add
 * round trip read back both through the API and with raw Redis commands (the task hash of
 * docs/PROTOCOL.md, its TTL, the emptied pending and in-flight lists), a failing task,
 * rebuilding a handle from an id with and without its queue and reading spindle_info(), and
 * unknown or malformed ids. */
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "common/names.h"
#include "harness.h"
#include "suites.h"

static spindle_client *client;
static pid_t worker;

static int suite_init(void)
{
    if (harness_suite_init() != 0)
        return -1;
    client = harness_client();
    worker = harness_worker_exec(NULL);
    return client && worker > 0 ? 0 : -1;
}

static int suite_cleanup(void)
{
    spindle_client_free(client);
    client = NULL;
    return harness_suite_cleanup();
}

/* Enqueues func(a, b) with integer arguments; NULL on failure (asserted). */
static spindle_handle *enqueue2(const char *func, int64_t a, int64_t b,
                                const spindle_enqueue_options *opts)
{
    spindle_args *args = spindle_args_new();
    spindle_args_int(args, a);
    spindle_args_int(args, b);
    spindle_handle *h = NULL;
    int rc = spindle_enqueue(client, func, args, opts, &h);
    spindle_args_free(args);
    CU_ASSERT_EQUAL(rc, SPINDLE_OK);
    if (rc != SPINDLE_OK)
        fprintf(stderr, "\n  enqueue %s: %s\n", func, spindle_errstr(client));
    return h;
}

static int64_t field_num(const redisReply *hash, const char *name)
{
    const redisReply *v = harness_field(hash, name);
    return v && v->type == REDIS_REPLY_STRING ? strtoll(v->str, NULL, 10) : -1;
}

static int field_is(const redisReply *hash, const char *name, const char *value, size_t len)
{
    const redisReply *v = harness_field(hash, name);
    return v && v->type == REDIS_REPLY_STRING && v->len == len && memcmp(v->str, value, len) == 0;
}

static void test_add_round_trip(void)
{
    spindle_handle *h = enqueue2("add", 2, 3, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    CU_ASSERT_STRING_EQUAL(spindle_handle_queue(h), "default");
    CU_ASSERT_EQUAL(strlen(spindle_handle_id(h)), 36);

    spindle_result *r = NULL;
    int rc = spindle_wait(client, h, HARNESS_WAIT_MS, &r);
    CU_ASSERT_EQUAL(rc, SPINDLE_OK);
    CU_ASSERT_PTR_NOT_NULL(r);
    if (r) {
        const msgpack_object *v = spindle_result_value(r);
        CU_ASSERT_EQUAL(spindle_result_state(r), SPINDLE_STATE_SUCCEEDED);
        CU_ASSERT_EQUAL(v->type, MSGPACK_OBJECT_POSITIVE_INTEGER);
        CU_ASSERT_EQUAL(v->via.u64, 5);
        CU_ASSERT_PTR_NULL(spindle_result_error(r));
        size_t len = 0;
        const char *raw = spindle_result_raw(r, &len);
        CU_ASSERT_EQUAL(len, 1);
        CU_ASSERT_EQUAL(raw ? raw[0] : 0, 5);
    }
    spindle_result_free(r);

    /* The task hash as an operator sees it with redis-cli. */
    char key[512];
    harness_task_key(key, sizeof(key), h);
    redisReply *hash = harness_cmd("HGETALL %s", key);
    CU_ASSERT_PTR_NOT_NULL_FATAL(hash);
    CU_ASSERT_EQUAL(hash->type, REDIS_REPLY_ARRAY);
    CU_ASSERT_TRUE(field_is(hash, "state", "succeeded", 9));
    CU_ASSERT_TRUE(field_is(hash, "func", "add", 3));
    CU_ASSERT_TRUE(field_is(hash, "attempts", "1", 1));
    CU_ASSERT_TRUE(field_is(hash, "args", "\x92\x02\x03", 3));
    CU_ASSERT_TRUE(field_is(hash, "result", "\x05", 1));
    CU_ASSERT_PTR_NULL(harness_field(hash, "error"));
    CU_ASSERT_PTR_NULL(harness_field(hash, "waiters"));
    int64_t enq = field_num(hash, "enqueued_at"), start = field_num(hash, "started_at"),
            fin = field_num(hash, "finished_at");
    /* Milliseconds since the epoch from Redis's clock: after 2020, in order. */
    CU_ASSERT_TRUE(enq > INT64_C(1577836800000));
    CU_ASSERT_TRUE(start >= enq);
    CU_ASSERT_TRUE(fin >= start);
    CU_ASSERT_TRUE(fin - enq < HARNESS_WAIT_MS);
    /* The worker id is HOST:PID:RANDOM, with the PID of the slot (a child of the process we
     * started), and its live heartbeat names that process as its supervisor. */
    const redisReply *w = harness_field(hash, "worker");
    CU_ASSERT_PTR_NOT_NULL(w);
    if (w) {
        char beat[512], pid[32];
        snprintf(beat, sizeof(beat), "%s:worker:%s", harness_ns(), w->str);
        char *sup = harness_hget(beat, "supervisor", NULL);
        char *child = harness_hget(beat, "pid", NULL);
        snprintf(pid, sizeof(pid), "%ld", (long)worker);
        CU_ASSERT_STRING_EQUAL(sup ? sup : "", pid);
        snprintf(pid, sizeof(pid), ":%s:", child ? child : "?");
        CU_ASSERT_PTR_NOT_NULL(strstr(w->str, pid));
        CU_ASSERT_TRUE(harness_int("PTTL %s", beat) > 0);
        free(sup);
        free(child);
    }
    char inflight[512] = "";
    if (w) {
        char suffix[256];
        snprintf(suffix, sizeof(suffix), "inflight:%s", w->str);
        harness_key(inflight, sizeof(inflight), "default", suffix);
    }
    freeReplyObject(hash);

    long long ttl = harness_int("TTL %s", key);
    CU_ASSERT_TRUE(ttl > 0);
    CU_ASSERT_TRUE(ttl <= 3600);

    char pending[512];
    harness_key(pending, sizeof(pending), "default", "pending");
    CU_ASSERT_EQUAL(harness_int("LLEN %s", pending), 0);
    CU_ASSERT_EQUAL(harness_int("LLEN %s", inflight), 0);

    char queues[512];
    harness_key(queues, sizeof(queues), NULL, "queues");
    CU_ASSERT_EQUAL(harness_int("SISMEMBER %s default", queues), 1);

    spindle_state st = SPINDLE_STATE_PENDING;
    CU_ASSERT_EQUAL(spindle_status(client, h, &st), SPINDLE_OK);
    CU_ASSERT_EQUAL(st, SPINDLE_STATE_SUCCEEDED);
    int ready = 0;
    CU_ASSERT_EQUAL(spindle_is_ready(client, h, &ready), SPINDLE_OK);
    CU_ASSERT_EQUAL(ready, 1);
    spindle_handle_free(h);
}

static void test_failing_task(void)
{
    spindle_args *args = spindle_args_new();
    spindle_args_str(args, "boom");
    spindle_handle *h = NULL;
    CU_ASSERT_EQUAL(spindle_enqueue(client, "fail", args, NULL, &h), SPINDLE_OK);
    spindle_args_free(args);
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);

    spindle_result *r = NULL;
    CU_ASSERT_EQUAL(spindle_wait(client, h, HARNESS_WAIT_MS, &r), SPINDLE_ERR_TASK_FAILED);
    CU_ASSERT_PTR_NOT_NULL(r);
    if (r) {
        CU_ASSERT_EQUAL(spindle_result_state(r), SPINDLE_STATE_FAILED);
        CU_ASSERT_PTR_NOT_NULL(spindle_result_error(r));
        CU_ASSERT_STRING_EQUAL(spindle_result_error(r) ? spindle_result_error(r) : "", "boom");
        CU_ASSERT_EQUAL(spindle_result_value(r)->type, MSGPACK_OBJECT_NIL);
    }
    spindle_result_free(r);
    CU_ASSERT_PTR_NOT_NULL(strstr(spindle_errstr(client), "boom"));

    spindle_state st = SPINDLE_STATE_PENDING;
    CU_ASSERT_EQUAL(spindle_status(client, h, &st), SPINDLE_OK);
    CU_ASSERT_EQUAL(st, SPINDLE_STATE_FAILED);

    char key[512];
    harness_task_key(key, sizeof(key), h);
    char *err = harness_hget(key, "error", NULL);
    char *state = harness_hget(key, "state", NULL);
    CU_ASSERT_STRING_EQUAL(err ? err : "", "boom");
    CU_ASSERT_STRING_EQUAL(state ? state : "", "failed");
    free(err);
    free(state);
    CU_ASSERT_EQUAL(harness_int("HEXISTS %s result", key), 0);
    /* A task that failed for good is a dead letter: listed in the queue's dead set and kept
     * 7 days so it can be read and retried. */
    long long ttl = harness_int("TTL %s", key);
    CU_ASSERT_TRUE(ttl > 3600 && ttl <= 604800);
    char dead[512];
    snprintf(dead, sizeof(dead), "%s:{%s}:dead", harness_ns(), spindle_handle_queue(h));
    CU_ASSERT_EQUAL(harness_int("ZCOUNT %s -inf +inf", dead), 1);
    CU_ASSERT_EQUAL(harness_int("ZRANK %s %s", dead, spindle_handle_id(h)), 0);

    /* Waiting again gives the same answer. */
    r = NULL;
    CU_ASSERT_EQUAL(spindle_wait(client, h, 0, &r), SPINDLE_ERR_TASK_FAILED);
    CU_ASSERT_STRING_EQUAL(r && spindle_result_error(r) ? spindle_result_error(r) : "", "boom");
    spindle_result_free(r);
    spindle_handle_free(h);
}

/* A finished task on the served queue, and a pending one with every option on a queue no
 * worker serves: rebuilt from their ids alone, their info matches the hash. */
static void test_handle_from_id(void)
{
    spindle_handle *done = enqueue2("add", 40, 2, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(done);
    spindle_result *r = NULL;
    CU_ASSERT_EQUAL(spindle_wait(client, done, HARNESS_WAIT_MS, &r), SPINDLE_OK);
    spindle_result_free(r);

    spindle_enqueue_options o;
    spindle_enqueue_options_init(&o);
    o.queue = "reports.nightly";
    o.result_ttl_s = 120;
    o.timeout_s = 30;
    o.max_retries = 2;
    spindle_handle *pend = enqueue2("add", 1, 1, &o);
    CU_ASSERT_PTR_NOT_NULL_FATAL(pend);

    spindle_handle *h = NULL;
    CU_ASSERT_EQUAL(spindle_handle_open(client, spindle_handle_id(done), NULL, &h), SPINDLE_OK);
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    CU_ASSERT_STRING_EQUAL(spindle_handle_id(h), spindle_handle_id(done));
    CU_ASSERT_STRING_EQUAL(spindle_handle_queue(h), "default");

    spindle_task_info info;
    CU_ASSERT_EQUAL_FATAL(spindle_info(client, h, &info), SPINDLE_OK);
    char key[512];
    harness_task_key(key, sizeof(key), h);
    redisReply *hash = harness_cmd("HGETALL %s", key);
    CU_ASSERT_PTR_NOT_NULL_FATAL(hash);
    CU_ASSERT_EQUAL(info.state, SPINDLE_STATE_SUCCEEDED);
    CU_ASSERT_STRING_EQUAL(info.func, "add");
    CU_ASSERT_EQUAL(info.enqueued_at_ms, field_num(hash, "enqueued_at"));
    CU_ASSERT_EQUAL(info.started_at_ms, field_num(hash, "started_at"));
    CU_ASSERT_EQUAL(info.finished_at_ms, field_num(hash, "finished_at"));
    CU_ASSERT_TRUE(info.enqueued_at_ms > 0);
    CU_ASSERT_TRUE(info.finished_at_ms >= info.started_at_ms);
    CU_ASSERT_EQUAL(info.attempts, 1);
    const redisReply *w = harness_field(hash, "worker");
    CU_ASSERT_STRING_EQUAL(info.worker, w ? w->str : "?");
    CU_ASSERT_PTR_NULL(info.error);
    CU_ASSERT_EQUAL(info.result_ttl_s, -1);
    CU_ASSERT_EQUAL(info.timeout_s, 0);
    CU_ASSERT_EQUAL(info.max_retries, -1);
    CU_ASSERT_TRUE(info.expires_in_s > 0 && info.expires_in_s <= 3600);
    freeReplyObject(hash);
    spindle_task_info_clear(&info);
    spindle_handle_free(h);

    /* The same id with its queue named. */
    h = NULL;
    CU_ASSERT_EQUAL(spindle_handle_open(client, spindle_handle_id(done), "default", &h),
                    SPINDLE_OK);
    CU_ASSERT_STRING_EQUAL(h ? spindle_handle_queue(h) : "", "default");
    spindle_handle_free(h);
    /* … and with the wrong queue. */
    h = NULL;
    CU_ASSERT_EQUAL(spindle_handle_open(client, spindle_handle_id(done), "reports.nightly", &h),
                    SPINDLE_ERR_NOT_FOUND);
    CU_ASSERT_PTR_NULL(h);

    /* The pending task on the other queue: found by searching NS:queues. */
    h = NULL;
    CU_ASSERT_EQUAL(spindle_handle_open(client, spindle_handle_id(pend), NULL, &h), SPINDLE_OK);
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    CU_ASSERT_STRING_EQUAL(spindle_handle_queue(h), "reports.nightly");
    CU_ASSERT_EQUAL_FATAL(spindle_info(client, h, &info), SPINDLE_OK);
    CU_ASSERT_EQUAL(info.state, SPINDLE_STATE_PENDING);
    CU_ASSERT_STRING_EQUAL(info.func, "add");
    CU_ASSERT_TRUE(info.enqueued_at_ms > 0);
    CU_ASSERT_EQUAL(info.started_at_ms, 0);
    CU_ASSERT_EQUAL(info.finished_at_ms, 0);
    CU_ASSERT_EQUAL(info.attempts, 0);
    CU_ASSERT_STRING_EQUAL(info.worker, "");
    CU_ASSERT_EQUAL(info.result_ttl_s, 120);
    CU_ASSERT_EQUAL(info.timeout_s, 30);
    CU_ASSERT_EQUAL(info.max_retries, 2);
    CU_ASSERT_EQUAL(info.expires_in_s, -1);
    spindle_task_info_clear(&info);
    int ready = 1;
    CU_ASSERT_EQUAL(spindle_is_ready(client, h, &ready), SPINDLE_OK);
    CU_ASSERT_EQUAL(ready, 0);
    spindle_handle_free(h);

    spindle_handle_free(done);
    spindle_handle_free(pend);
}

static void test_unknown_id(void)
{
    /* Some queues exist, so the search has somewhere to look. */
    spindle_handle *h = enqueue2("add", 0, 0, NULL);
    spindle_handle_free(h);

    char id[37];
    spindle_id_new(id);
    h = NULL;
    CU_ASSERT_EQUAL(spindle_handle_open(client, id, NULL, &h), SPINDLE_ERR_NOT_FOUND);
    CU_ASSERT_PTR_NULL(h);
    CU_ASSERT_PTR_NOT_NULL(strstr(spindle_errstr(client), id));
    CU_ASSERT_EQUAL(spindle_handle_open(client, id, "default", &h), SPINDLE_ERR_NOT_FOUND);
    CU_ASSERT_PTR_NULL(h);

    static const char *const bad[] = {
        "nope",
        "",
        "0B8F3A4E-6D7C-4B21-9F55-3C1E2D0A9B87",
        "0b8f3a4e-6d7c-4b21-9f55-3c1e2d0a9b8",
        "0b8f3a4e-6d7c-4b21-9f55-3c1e2d0a9b87\n",
        "*",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        h = NULL;
        CU_ASSERT_EQUAL(spindle_handle_open(client, bad[i], NULL, &h), SPINDLE_ERR_INVALID);
        CU_ASSERT_PTR_NULL(h);
    }
    CU_ASSERT_EQUAL(spindle_handle_open(client, "nope", NULL, &h), SPINDLE_ERR_INVALID);
    CU_ASSERT_PTR_NOT_NULL(strstr(spindle_errstr(client), "'nope'"));
}

int register_roundtrip_tests(void)
{
    static const test_case tests[] = {
        {"add(2,3) = 5, task hash, TTL", test_add_round_trip},
        {"fail \"boom\" -> SPINDLE_ERR_TASK_FAILED", test_failing_task},
        {"handle from id, spindle_info", test_handle_from_id},
        {"unknown and malformed ids", test_unknown_id},
        {NULL, NULL},
    };
    return add_suite("round trip (spindle-worker binary)", suite_init, suite_cleanup, tests);
}
