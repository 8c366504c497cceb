/* Items (partial results, include/spindle/progress.h) with a forked worker: every item is
 * stored, in order, before the task's result (a reader opened after the result reads them
 * all without waiting); a reader that follows a running task gets them as they come and
 * then the end, without waiting out a slice; it times out, polls, and ends for a task that
 * emitted nothing; the stream takes the task's TTL when the task ends (60 s for a TTL-0
 * task, whose hash is gone at once); bad items (not msgpack, two values, too large, empty)
 * are refused with a message and the task goes on; an unknown task and a stream key of the
 * wrong type are clear errors; a retry by id starts the items afresh. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "fleet.h"
#include "harness.h"
#include "spindle/progress.h"
#include "suites.h"

#define QUEUE "items.q"

static spindle_client *client;

static int suite_init(void)
{
    if (harness_suite_init() != 0)
        return -1;
    client = harness_client();
    static const char *const queues[] = {QUEUE};
    return client && fleet_worker(queues, 1) > 0 ? 0 : -1;
}

static int suite_cleanup(void)
{
    return harness_suite_cleanup_client(&client);
}

static spindle_handle *enqueue_ttl(const char *func, const long *args, size_t n, long ttl_s)
{
    spindle_args *a = spindle_args_new();
    for (size_t i = 0; i < n; i++)
        spindle_args_int(a, args[i]);
    spindle_enqueue_options o;
    spindle_enqueue_options_init(&o);
    o.queue = QUEUE;
    o.result_ttl_s = ttl_s;
    spindle_handle *h = NULL;
    CU_ASSERT_EQUAL(spindle_enqueue(client, func, a, &o, &h), SPINDLE_OK);
    spindle_args_free(a);
    return h;
}

static spindle_handle *enqueue(const char *func, const long *args, size_t n)
{
    return enqueue_ttl(func, args, n, -1);
}

static int wait_ok(const spindle_handle *h)
{
    spindle_result *r = NULL;
    int rc = spindle_wait(client, h, harness_scaled_ms(HARNESS_WAIT_MS), &r);
    spindle_result_free(r);
    return rc;
}

static char *items_key(char *buf, size_t cap, const spindle_handle *h)
{
    snprintf(buf, cap, "%s:{%s}:items:%s", harness_ns(), QUEUE, spindle_handle_id(h));
    return buf;
}

/* Reads items with timeout_ms per call until the end; checks they are 1..n in order from
 * the attempt. Returns the number of calls that timed out (polling), or -1 on an error. */
static int read_attempt(spindle_items_reader *rd, long n, long timeout_ms, long attempt)
{
    long want = 1;
    int timeouts = 0;
    int64_t end = harness_ms() + harness_scaled_ms(HARNESS_WAIT_MS);
    while (harness_ms() < end) {
        spindle_item *it = NULL;
        int rc = spindle_items_next(client, rd, timeout_ms, &it);
        if (rc == SPINDLE_ERR_TIMEOUT) {
            timeouts++;
            continue;
        }
        CU_ASSERT_EQUAL(rc, SPINDLE_OK);
        if (rc != SPINDLE_OK) {
            fprintf(stderr, "\n  items_next: %s\n", spindle_errstr(client));
            return -1;
        }
        if (it == NULL)
            break;
        const msgpack_object *v = spindle_item_value(it);
        CU_ASSERT_EQUAL(v->type, MSGPACK_OBJECT_POSITIVE_INTEGER);
        CU_ASSERT_EQUAL((long)v->via.u64, want);
        CU_ASSERT_EQUAL(spindle_item_attempt(it), attempt);
        size_t len = 0;
        CU_ASSERT_PTR_NOT_NULL(spindle_item_raw(it, &len));
        CU_ASSERT_TRUE(len >= 1);
        CU_ASSERT_PTR_NOT_NULL(strchr(spindle_item_id(it), '-'));
        spindle_item_free(it);
        want++;
    }
    CU_ASSERT_EQUAL(want, n + 1);
    CU_ASSERT_TRUE(spindle_items_ended(rd));
    return timeouts;
}

static int read_all(spindle_items_reader *rd, long n, long timeout_ms)
{
    return read_attempt(rd, n, timeout_ms, 1);
}

/* All items are stored before the result: read after it, polling, none is missing. */
static void test_items_before_result(void)
{
    const long args[] = {50};
    spindle_handle *h = enqueue("emit_n", args, 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    CU_ASSERT_EQUAL_FATAL(wait_ok(h), SPINDLE_OK);
    spindle_items_reader *rd = NULL;
    CU_ASSERT_EQUAL_FATAL(spindle_items_open(client, h, &rd), SPINDLE_OK);
    CU_ASSERT_EQUAL(read_all(rd, 50, 0), 0);
    CU_ASSERT_EQUAL(spindle_items_final_state(rd), SPINDLE_STATE_SUCCEEDED);
    spindle_items_close(rd);
    spindle_handle_free(h);
}

/* Following a running task: items as they come, then the end, at which the task is final. */
static void test_follow_running_task(void)
{
    const long args[] = {20, 15};
    spindle_handle *h = enqueue("emit_n", args, 2);
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    spindle_items_reader *rd = NULL;
    CU_ASSERT_EQUAL_FATAL(spindle_items_open(client, h, &rd), SPINDLE_OK);
    CU_ASSERT_EQUAL(read_all(rd, 20, harness_scaled_ms(HARNESS_WAIT_MS)), 0);
    spindle_result *r = NULL;
    CU_ASSERT_EQUAL(spindle_wait(client, h, 0, &r), SPINDLE_OK);
    spindle_result_free(r);
    /* Ended is for good. */
    spindle_item *it = (spindle_item *)1;
    CU_ASSERT_EQUAL(spindle_items_next(client, rd, 0, &it), SPINDLE_OK);
    CU_ASSERT_PTR_NULL(it);
    spindle_items_close(rd);
    spindle_handle_free(h);
}

/* A short timeout times out, a poll answers at once, a long one gets the next item. */
static void test_timeout_and_polling(void)
{
    const long args[] = {3, 400};
    spindle_handle *h = enqueue("emit_n", args, 2);
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    spindle_items_reader *rd = NULL;
    CU_ASSERT_EQUAL_FATAL(spindle_items_open(client, h, &rd), SPINDLE_OK);
    spindle_item *it = (spindle_item *)1;
    int64_t t0 = harness_ms();
    CU_ASSERT_EQUAL(spindle_items_next(client, rd, 60, &it), SPINDLE_ERR_TIMEOUT);
    CU_ASSERT_PTR_NULL(it);
    CU_ASSERT_TRUE(harness_ms() - t0 >= 55);
    CU_ASSERT_PTR_NOT_NULL(strstr(spindle_errstr(client), spindle_handle_id(h)));
    t0 = harness_ms();
    CU_ASSERT_EQUAL(spindle_items_next(client, rd, 0, &it), SPINDLE_ERR_TIMEOUT);
    CU_ASSERT_TRUE(harness_ms() - t0 < harness_scaled_ms(300));
    CU_ASSERT_FALSE(spindle_items_ended(rd));
    CU_ASSERT_TRUE(read_all(rd, 3, 50) >= 1);
    spindle_items_close(rd);
    CU_ASSERT_EQUAL(wait_ok(h), SPINDLE_OK);
    spindle_handle_free(h);
}

/* A task that emits nothing: a follower is woken by its end (long before the reader's own
 * 10 s look); once it has ended, a new reader ends at once. A task nobody reads and that
 * emits nothing gets no stream and no mark. */
static void test_end_without_items(void)
{
    const long args[] = {300};
    spindle_handle *h = enqueue("sleep_ms", args, 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    spindle_items_reader *rd = NULL;
    CU_ASSERT_EQUAL_FATAL(spindle_items_open(client, h, &rd), SPINDLE_OK);
    spindle_item *it = (spindle_item *)1;
    int64_t t0 = harness_ms();
    CU_ASSERT_EQUAL(spindle_items_next(client, rd, -1, &it), SPINDLE_OK);
    CU_ASSERT_PTR_NULL(it);
    CU_ASSERT_TRUE(harness_ms() - t0 < 9000);
    CU_ASSERT_EQUAL(spindle_items_final_state(rd), SPINDLE_STATE_SUCCEEDED);
    spindle_items_close(rd);

    /* Read again: its stream now holds just the end entry. */
    rd = NULL;
    CU_ASSERT_EQUAL_FATAL(spindle_items_open(client, h, &rd), SPINDLE_OK);
    CU_ASSERT_EQUAL(spindle_items_next(client, rd, 0, &it), SPINDLE_OK);
    CU_ASSERT_PTR_NULL(it);
    CU_ASSERT_TRUE(spindle_items_ended(rd));
    spindle_items_close(rd);
    spindle_handle_free(h);

    const long none[] = {0};
    h = enqueue("sleep_ms", none, 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    CU_ASSERT_EQUAL(wait_ok(h), SPINDLE_OK);
    char ikey[512];
    CU_ASSERT_EQUAL(harness_int("EXISTS %s", items_key(ikey, sizeof(ikey), h)), 0);
    CU_ASSERT_TRUE(fleet_absent(h, "items"));
    /* Opened after its end: ended at once, nothing written. */
    rd = NULL;
    CU_ASSERT_EQUAL_FATAL(spindle_items_open(client, h, &rd), SPINDLE_OK);
    CU_ASSERT_TRUE(spindle_items_ended(rd));
    CU_ASSERT_EQUAL(spindle_items_next(client, rd, -1, &it), SPINDLE_OK);
    CU_ASSERT_PTR_NULL(it);
    CU_ASSERT_TRUE(fleet_absent(h, "items"));
    spindle_items_close(rd);
    spindle_handle_free(h);
}

/* The stream ends with an end entry and takes the task's TTL; a TTL-0 task's stream stays
 * 60 s after its hash is gone, and can still be read to the end. */
static void test_stream_ttl(void)
{
    const long args[] = {2};
    spindle_handle *h = enqueue_ttl("emit_n", args, 1, 100);
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    CU_ASSERT_EQUAL_FATAL(wait_ok(h), SPINDLE_OK);
    char ikey[512];
    items_key(ikey, sizeof(ikey), h);
    long long ttl = harness_int("TTL %s", ikey);
    CU_ASSERT_TRUE(ttl > 0 && ttl <= 100);
    CU_ASSERT_EQUAL(harness_int("XLEN %s", ikey), 3);
    redisReply *last = harness_cmd("XREVRANGE %s + - COUNT 1", ikey);
    CU_ASSERT_FATAL(last && last->type == REDIS_REPLY_ARRAY && last->elements == 1);
    const redisReply *fields = last->element[0]->element[1];
    CU_ASSERT_EQUAL(fields->elements, 2);
    CU_ASSERT_STRING_EQUAL(fields->element[0]->str, "end");
    CU_ASSERT_STRING_EQUAL(fields->element[1]->str, "succeeded");
    freeReplyObject(last);
    spindle_handle_free(h);

    h = enqueue_ttl("emit_n", args, 1, 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    /* A TTL-0 task's hash is deleted as it succeeds: a wait that starts after that finds
     * nothing, so either answer means it ended. */
    int rc = wait_ok(h);
    CU_ASSERT_FATAL(rc == SPINDLE_OK || rc == SPINDLE_ERR_NOT_FOUND);
    char key[512];
    harness_task_key(key, sizeof(key), h);
    CU_ASSERT_EQUAL(harness_int("EXISTS %s", key), 0);
    ttl = harness_int("TTL %s", items_key(ikey, sizeof(ikey), h));
    CU_ASSERT_TRUE(ttl > 0 && ttl <= 60);
    spindle_items_reader *rd = NULL;
    CU_ASSERT_EQUAL_FATAL(spindle_items_open(client, h, &rd), SPINDLE_OK);
    CU_ASSERT_EQUAL(read_all(rd, 2, 0), 0);
    CU_ASSERT_EQUAL(spindle_items_final_state(rd), SPINDLE_STATE_SUCCEEDED);
    spindle_items_close(rd);
    spindle_handle_free(h);
}

static int has_text(const msgpack_object *o, const char *needle)
{
    if (o->type != MSGPACK_OBJECT_STR)
        return 0;
    char buf[600];
    snprintf(buf, sizeof(buf), "%.*s", (int)o->via.str.size, o->via.str.ptr);
    return strstr(buf, needle) != NULL;
}

/* Bad items are refused with a message saying what is wrong; nothing of them is stored, and
 * the task goes on to emit a good one. */
static void test_bad_items_refused(void)
{
    spindle_handle *h = enqueue("misuse", NULL, 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    spindle_result *r = NULL;
    CU_ASSERT_EQUAL_FATAL(spindle_wait(client, h, harness_scaled_ms(HARNESS_WAIT_MS), &r),
                          SPINDLE_OK);
    const msgpack_object *v = spindle_result_value(r);
    CU_ASSERT_FATAL(v->type == MSGPACK_OBJECT_ARRAY && v->via.array.size == 6);
    static const struct {
        int rc;
        const char *text;
    } want[] = {
        {SPINDLE_ERR_INVALID, "negative"},          {SPINDLE_ERR_INVALID, "negative"},
        {SPINDLE_ERR_INVALID, "not valid msgpack"}, {SPINDLE_ERR_INVALID, "followed by junk bytes"},
        {SPINDLE_ERR_TOO_LARGE, "at most 1048576"}, {SPINDLE_ERR_INVALID, "empty"},
    };
    for (int i = 0; i < 6; i++) {
        const msgpack_object *e = &v->via.array.ptr[i];
        CU_ASSERT_EQUAL(e->via.array.ptr[0].via.i64, want[i].rc);
        CU_ASSERT_TRUE(has_text(&e->via.array.ptr[1], want[i].text));
    }
    spindle_result_free(r);
    spindle_items_reader *rd = NULL;
    CU_ASSERT_EQUAL_FATAL(spindle_items_open(client, h, &rd), SPINDLE_OK);
    spindle_item *it = NULL;
    CU_ASSERT_EQUAL(spindle_items_next(client, rd, 0, &it), SPINDLE_OK);
    CU_ASSERT_FATAL(it != NULL);
    const msgpack_object *o = spindle_item_value(it);
    CU_ASSERT_TRUE(o->type == MSGPACK_OBJECT_STR && o->via.str.size == 2 &&
                   memcmp(o->via.str.ptr, "ok", 2) == 0);
    spindle_item_free(it);
    CU_ASSERT_EQUAL(spindle_items_next(client, rd, 0, &it), SPINDLE_OK);
    CU_ASSERT_PTR_NULL(it);
    spindle_items_close(rd);
    spindle_handle_free(h);
}

/* An unknown (expired) task, a stream key of the wrong type, and an entry that is not an
 * item (written by hand): clear errors; the reader skips the bad entry and goes on. */
static void test_bad_keys(void)
{
    const long args[] = {1};
    spindle_handle *h = enqueue("emit_n", args, 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    CU_ASSERT_EQUAL_FATAL(wait_ok(h), SPINDLE_OK);
    char key[512], ikey[512];
    harness_task_key(key, sizeof(key), h);
    items_key(ikey, sizeof(ikey), h);

    /* An entry without 'v' before an item and the end: skipped with a message. */
    CU_ASSERT_EQUAL(harness_int("DEL %s", ikey), 1);
    const char *adds[] = {"XADD %s * junk 1", "XADD %s * v \x01 a 1", "XADD %s * end succeeded"};
    for (int i = 0; i < 3; i++) {
        redisReply *x = harness_cmd(adds[i], ikey);
        CU_ASSERT_TRUE(x && x->type == REDIS_REPLY_STRING);
        freeReplyObject(x);
    }
    spindle_items_reader *rd = NULL;
    CU_ASSERT_EQUAL_FATAL(spindle_items_open(client, h, &rd), SPINDLE_OK);
    spindle_item *it = NULL;
    CU_ASSERT_EQUAL(spindle_items_next(client, rd, 0, &it), SPINDLE_ERR_PROTOCOL);
    CU_ASSERT_PTR_NOT_NULL(strstr(spindle_errstr(client), "neither 'v' nor 'end'"));
    CU_ASSERT_EQUAL(spindle_items_next(client, rd, 0, &it), SPINDLE_OK);
    CU_ASSERT_PTR_NOT_NULL(it);
    spindle_item_free(it);
    it = NULL;
    CU_ASSERT_EQUAL(spindle_items_next(client, rd, 0, &it), SPINDLE_OK);
    CU_ASSERT_PTR_NULL(it);
    spindle_items_close(rd);

    CU_ASSERT_EQUAL(harness_int("DEL %s", ikey), 1);
    redisReply *s = harness_cmd("SET %s not-a-stream", ikey);
    freeReplyObject(s);
    rd = NULL;
    CU_ASSERT_EQUAL(spindle_items_open(client, h, &rd), SPINDLE_ERR_REDIS);
    CU_ASSERT_PTR_NULL(rd);
    CU_ASSERT_PTR_NOT_NULL(strstr(spindle_errstr(client), "not a stream"));

    CU_ASSERT_EQUAL(harness_int("DEL %s %s", ikey, key), 2);
    CU_ASSERT_EQUAL(spindle_items_open(client, h, &rd), SPINDLE_ERR_NOT_FOUND);
    CU_ASSERT_PTR_NULL(rd);
    spindle_handle_free(h);
}

/* spindle_retry() runs a task afresh: the items of the finished run are dropped with it. */
static void test_retry_drops_items(void)
{
    const long args[] = {3};
    spindle_handle *h = enqueue("emit_n", args, 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    CU_ASSERT_EQUAL_FATAL(wait_ok(h), SPINDLE_OK);
    char key[512], ikey[512];
    harness_task_key(key, sizeof(key), h);
    items_key(ikey, sizeof(ikey), h);
    CU_ASSERT_EQUAL(harness_int("XLEN %s", ikey), 4);
    /* Only failed, cancelled or scheduled tasks can be retried: pretend it failed. */
    CU_ASSERT_EQUAL(harness_int("HSET %s state failed", key), 0);
    CU_ASSERT_EQUAL_FATAL(spindle_retry(client, h), SPINDLE_OK);
    CU_ASSERT_EQUAL(fleet_wait_state(h, "succeeded", harness_scaled_ms(HARNESS_WAIT_MS)), 0);
    spindle_items_reader *rd = NULL;
    CU_ASSERT_EQUAL_FATAL(spindle_items_open(client, h, &rd), SPINDLE_OK);
    CU_ASSERT_EQUAL(read_attempt(rd, 3, 0, 2), 0);
    spindle_items_close(rd);
    spindle_handle_free(h);
}

int register_items_tests(void)
{
    static const test_case tests[] = {
        {"every item stored before the result", test_items_before_result},
        {"follow a running task to its end", test_follow_running_task},
        {"reader timeout and polling", test_timeout_and_polling},
        {"end of a task without items", test_end_without_items},
        {"stream TTL and end entry", test_stream_ttl},
        {"bad items refused, the task goes on", test_bad_items_refused},
        {"unknown task, wrong key type, bad entry", test_bad_keys},
        {"retry by id drops the old items", test_retry_drops_items},
        {NULL, NULL},
    };
    return add_suite("items", suite_init, suite_cleanup, tests);
}
