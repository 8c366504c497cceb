/* Channels (include/spindle/channel.h): round trips between a caller and a running task at
 * the three scopes, each ended by the scope's cancel event; bounded queues answering "full";
 * reads that time out; reading everything; channels that were never created; keys of the
 * wrong type written by hand; oversized messages; the TTL refreshed by writes; and the checks
 * done before anything is sent. Every layout detail is also checked with plain Redis
 * commands, as docs/PROTOCOL.md describes it.
 *
 * Tests that need a task running set up Redis first (channel created, input queued, the
 * task's `group` field) and then fork a worker, so that the task never starts before its
 * channel exists. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "common/channel_check.h"
#include "harness.h"
#include "spindle/channel.h"
#include "suites.h"
#include "worker/worker_impl.h"

#define QUEUE "chan.q"

static spindle_client *client;

static int suite_init(void)
{
    return harness_suite_init_client(&client);
}

static int suite_cleanup(void)
{
    return harness_suite_cleanup_client(&client);
}

/* Enqueues func with one string argument on QUEUE. NULL on failure. Caller frees. */
static spindle_handle *enqueue_str(const char *func, const char *arg)
{
    spindle_args *a = spindle_args_new();
    if (arg)
        spindle_args_str(a, arg);
    spindle_enqueue_options o;
    spindle_enqueue_options_init(&o);
    o.queue = QUEUE;
    spindle_handle *h = NULL;
    int rc = spindle_enqueue(client, func, a, &o, &h);
    CU_ASSERT_EQUAL(rc, SPINDLE_OK);
    spindle_args_free(a);
    return h;
}

static spindle_handle *enqueue_int(const char *func, long arg)
{
    spindle_args *a = spindle_args_new();
    spindle_args_int(a, arg);
    spindle_enqueue_options o;
    spindle_enqueue_options_init(&o);
    o.queue = QUEUE;
    spindle_handle *h = NULL;
    int rc = spindle_enqueue(client, func, a, &o, &h);
    CU_ASSERT_EQUAL(rc, SPINDLE_OK);
    spindle_args_free(a);
    return h;
}

static int send_str(spindle_channel ch, const char *s)
{
    return spindle_channel_send(client, ch, s, strlen(s));
}

/* Receives one output message and checks that it is want. */
static void expect_recv(spindle_channel ch, const char *want)
{
    spindle_message m;
    int rc = spindle_channel_recv(client, ch, HARNESS_WAIT_MS, &m);
    CU_ASSERT_EQUAL(rc, SPINDLE_OK);
    if (rc != SPINDLE_OK)
        fprintf(stderr, "recv: %s\n", spindle_errstr(client));
    CU_ASSERT_TRUE(rc == SPINDLE_OK && m.len == strlen(want) && memcmp(m.data, want, m.len) == 0);
    free(m.data);
}

/* Waits for the task and returns its integer result; -1 on anything else. */
static long long wait_int(const spindle_handle *h)
{
    spindle_result *r = NULL;
    int rc = spindle_wait(client, h, HARNESS_WAIT_MS, &r);
    long long v = -1;
    if (rc == SPINDLE_OK && spindle_result_value(r)->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
        v = (long long)spindle_result_value(r)->via.u64;
    else
        fprintf(stderr, "wait: %d %s\n", rc,
                r && spindle_result_error(r) ? spindle_result_error(r) : spindle_errstr(client));
    spindle_result_free(r);
    return v;
}

/* The round trip at any scope: three messages queued before the task starts (one of them
 * RPUSHed by hand, as a producer in another language would), one more while it runs, each
 * answered in order; then the cancel event stops the task, which counts four. */
static void round_trip(spindle_channel ch, const char *scope, const char *in_key, const char *group)
{
    spindle_handle *h = enqueue_str("chan_pump", scope);
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    if (ch.scope == SPINDLE_SCOPE_TASK)
        ch.task = h;
    if (group) {
        char key[512];
        redisReply *r =
            harness_cmd("HSET %s group %s", harness_task_key(key, sizeof(key), h), group);
        CU_ASSERT_TRUE(r && r->type == REDIS_REPLY_INTEGER);
        if (r)
            freeReplyObject(r);
    }
    CU_ASSERT_EQUAL(spindle_channel_create(client, ch, NULL), SPINDLE_OK);
    CU_ASSERT_EQUAL(send_str(ch, "a"), SPINDLE_OK);
    CU_ASSERT_EQUAL(send_str(ch, "b"), SPINDLE_OK);
    char key[512];
    if (ch.scope == SPINDLE_SCOPE_TASK)
        snprintf(key, sizeof(key), "%s:{%s}:chan:%s:in", harness_ns(), QUEUE, spindle_handle_id(h));
    else
        snprintf(key, sizeof(key), "%s:%s", harness_ns(), in_key);
    CU_ASSERT_EQUAL(harness_int("RPUSH %s c", key), 3);

    pid_t w = harness_worker_fork(QUEUE, 0);
    CU_ASSERT_TRUE_FATAL(w > 0);
    expect_recv(ch, "ok:a");
    expect_recv(ch, "ok:b");
    expect_recv(ch, "ok:c");
    CU_ASSERT_EQUAL(send_str(ch, "d"), SPINDLE_OK);
    expect_recv(ch, "ok:d");
    int set = -1;
    CU_ASSERT_EQUAL(spindle_channel_event(client, ch, &set), SPINDLE_OK);
    CU_ASSERT_EQUAL(set, 0);
    CU_ASSERT_EQUAL(spindle_channel_set_event(client, ch), SPINDLE_OK);
    CU_ASSERT_EQUAL(wait_int(h), 4);
    CU_ASSERT_EQUAL(spindle_channel_event(client, ch, &set), SPINDLE_OK);
    CU_ASSERT_EQUAL(set, 1);
    int existed = 0;
    CU_ASSERT_EQUAL(spindle_channel_delete(client, ch, &existed), SPINDLE_OK);
    CU_ASSERT_EQUAL(existed, 1);
    CU_ASSERT_EQUAL(harness_int("EXISTS %s", key), 0);
    CU_ASSERT_EQUAL(harness_worker_stop(w, HARNESS_WAIT_MS, NULL), 0);
    spindle_handle_free(h);
}

static void test_round_trip_task(void)
{
    round_trip(spindle_channel_of_task(NULL), "task", NULL, NULL);
}

static void test_round_trip_group(void)
{
    round_trip(spindle_channel_of_group("crawl-7"), "group", "{g:crawl-7}:chan:in", "crawl-7");
}

static void test_round_trip_global(void)
{
    round_trip(spindle_channel_global(), "global", "{global}:chan:in", NULL);
}

/* Runs chan_probe SCOPE and returns its [event status, read status, message]. */
static void probe(const char *scope, const char *group, int *erc, int *rrc, char *msg, size_t cap)
{
    *erc = *rrc = 1;
    msg[0] = '\0';
    spindle_handle *h = enqueue_str("chan_probe", scope);
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    if (group) {
        char key[512];
        redisReply *r =
            harness_cmd("HSET %s group %s", harness_task_key(key, sizeof(key), h), group);
        if (r)
            freeReplyObject(r);
    }
    pid_t w = harness_worker_fork(QUEUE, 0);
    CU_ASSERT_TRUE_FATAL(w > 0);
    spindle_result *r = NULL;
    CU_ASSERT_EQUAL(spindle_wait(client, h, HARNESS_WAIT_MS, &r), SPINDLE_OK);
    const msgpack_object *v = r ? spindle_result_value(r) : NULL;
    if (v && v->type == MSGPACK_OBJECT_ARRAY && v->via.array.size == 3 &&
        v->via.array.ptr[2].type == MSGPACK_OBJECT_STR) {
        *erc = (int)v->via.array.ptr[0].via.i64;
        *rrc = (int)v->via.array.ptr[1].via.i64;
        snprintf(msg, cap, "%.*s", (int)v->via.array.ptr[2].via.str.size,
                 v->via.array.ptr[2].via.str.ptr);
    }
    spindle_result_free(r);
    CU_ASSERT_EQUAL(harness_worker_stop(w, HARNESS_WAIT_MS, NULL), 0);
    spindle_handle_free(h);
}

static void test_task_in_no_group(void)
{
    int erc, rrc;
    char msg[512];
    probe("group", NULL, &erc, &rrc, msg, sizeof(msg));
    CU_ASSERT_EQUAL(erc, SPINDLE_ERR_NOT_FOUND);
    CU_ASSERT_EQUAL(rrc, SPINDLE_ERR_NOT_FOUND);
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, "is in no group"));
    /* A group whose channel was never created. */
    probe("group", "nobody", &erc, &rrc, msg, sizeof(msg));
    CU_ASSERT_EQUAL(rrc, SPINDLE_ERR_NOT_FOUND);
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, "channel of group 'nobody' not created"));
    /* An empty channel: the read answers at once. */
    CU_ASSERT_EQUAL(spindle_channel_create(client, spindle_channel_global(), NULL), SPINDLE_OK);
    probe("global", NULL, &erc, &rrc, msg, sizeof(msg));
    CU_ASSERT_EQUAL(erc, SPINDLE_OK);
    CU_ASSERT_EQUAL(rrc, SPINDLE_ERR_TIMEOUT);
    CU_ASSERT_EQUAL(spindle_channel_delete(client, spindle_channel_global(), NULL), SPINDLE_OK);
}

/* Capacity 3 each way. Input: three sends, the fourth is refused and nothing is written;
 * a larger capacity (create again) lets one more in. Output: the task writes three, is told
 * "full" on the fourth, and gets it in once the caller has read one. */
static void test_full_queue(void)
{
    spindle_channel g = spindle_channel_of_group("bounded");
    spindle_channel_options o;
    spindle_channel_options_init(&o);
    o.capacity_in = o.capacity_out = 3;
    CU_ASSERT_EQUAL(spindle_channel_create(client, g, &o), SPINDLE_OK);
    for (int i = 0; i < 3; i++)
        CU_ASSERT_EQUAL(send_str(g, "x"), SPINDLE_OK);
    CU_ASSERT_EQUAL(send_str(g, "y"), SPINDLE_ERR_FULL);
    CU_ASSERT_PTR_NOT_NULL(strstr(spindle_errstr(client), "input queue is full (capacity 3)"));
    char key[512];
    CU_ASSERT_EQUAL(harness_int("LLEN %s", harness_key(key, sizeof(key), "g:bounded", "chan:in")),
                    3);
    o.capacity_in = 4;
    CU_ASSERT_EQUAL(spindle_channel_create(client, g, &o), SPINDLE_OK);
    CU_ASSERT_EQUAL(send_str(g, "y"), SPINDLE_OK);
    CU_ASSERT_EQUAL(harness_int("LLEN %s", key), 4);

    spindle_handle *h = enqueue_int("chan_fill", 4);
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    spindle_channel t = spindle_channel_of_task(h);
    CU_ASSERT_EQUAL(spindle_channel_create(client, t, &o), SPINDLE_OK);
    pid_t w = harness_worker_fork(QUEUE, 0);
    CU_ASSERT_TRUE_FATAL(w > 0);
    snprintf(key, sizeof(key), "%s:{%s}:chan:%s:out", harness_ns(), QUEUE, spindle_handle_id(h));
    int64_t until = harness_ms() + HARNESS_WAIT_MS;
    while (harness_int("LLEN %s", key) < 3 && harness_ms() < until)
        harness_sleep_ms(5);
    harness_sleep_ms(50); /* the task is now retrying its fourth write */
    CU_ASSERT_EQUAL(harness_int("LLEN %s", key), 3);
    expect_recv(t, "0");
    spindle_result *r = NULL;
    CU_ASSERT_EQUAL(spindle_wait(client, h, HARNESS_WAIT_MS, &r), SPINDLE_OK);
    const msgpack_object *v = r ? spindle_result_value(r) : NULL;
    CU_ASSERT_TRUE(v && v->type == MSGPACK_OBJECT_ARRAY && v->via.array.size == 3);
    if (v && v->type == MSGPACK_OBJECT_ARRAY && v->via.array.size == 3) {
        CU_ASSERT_EQUAL(v->via.array.ptr[0].via.u64, 3); /* written before "full" */
        CU_ASSERT_EQUAL(v->via.array.ptr[1].via.u64, 1); /* "full" was answered */
        CU_ASSERT_EQUAL(v->via.array.ptr[2].via.u64, 4); /* and the fourth got in later */
    }
    spindle_result_free(r);
    expect_recv(t, "1");
    expect_recv(t, "2");
    expect_recv(t, "3");
    CU_ASSERT_EQUAL(harness_worker_stop(w, HARNESS_WAIT_MS, NULL), 0);
    spindle_handle_free(h);
}

static void test_recv_timeout(void)
{
    spindle_channel g = spindle_channel_of_group("quiet");
    CU_ASSERT_EQUAL(spindle_channel_create(client, g, NULL), SPINDLE_OK);
    spindle_message m;
    CU_ASSERT_EQUAL(spindle_channel_recv(client, g, 0, &m), SPINDLE_ERR_TIMEOUT);
    CU_ASSERT_PTR_NULL(m.data);
    int64_t t0 = harness_ms();
    CU_ASSERT_EQUAL(spindle_channel_recv(client, g, 300, &m), SPINDLE_ERR_TIMEOUT);
    int64_t took = harness_ms() - t0;
    CU_ASSERT_TRUE(took >= 290);
    CU_ASSERT_TRUE(took < 300 + harness_scaled_ms(2000));
    CU_ASSERT_PTR_NOT_NULL(strstr(spindle_errstr(client), "no message in the output queue"));
    CU_ASSERT_PTR_NULL(m.data);
}

/* 2,500 messages written by a task, read in one call (three round trips of up to 1000), in
 * order; the queue is then empty. */
static void test_recv_all(void)
{
    spindle_handle *h = enqueue_int("chan_fill", 2500);
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    spindle_channel t = spindle_channel_of_task(h);
    spindle_channel_options o;
    spindle_channel_options_init(&o);
    o.capacity_out = 5000;
    CU_ASSERT_EQUAL(spindle_channel_create(client, t, &o), SPINDLE_OK);
    pid_t w = harness_worker_fork(QUEUE, 0);
    CU_ASSERT_TRUE_FATAL(w > 0);
    spindle_result *r = NULL;
    CU_ASSERT_EQUAL(spindle_wait(client, h, HARNESS_WAIT_MS, &r), SPINDLE_OK);
    spindle_result_free(r);
    spindle_message *msgs = NULL;
    size_t n = 0;
    CU_ASSERT_EQUAL(spindle_channel_recv_all(client, t, &msgs, &n), SPINDLE_OK);
    CU_ASSERT_EQUAL(n, 2500);
    int in_order = n == 2500;
    for (size_t i = 0; in_order && i < n; i++) {
        char want[24];
        snprintf(want, sizeof(want), "%zu", i);
        in_order = msgs[i].len == strlen(want) && strcmp(msgs[i].data, want) == 0;
    }
    CU_ASSERT_TRUE(in_order);
    spindle_messages_free(msgs, n);
    CU_ASSERT_EQUAL(spindle_channel_recv_all(client, t, &msgs, &n), SPINDLE_OK);
    CU_ASSERT_EQUAL(n, 0);
    CU_ASSERT_PTR_NULL(msgs);
    CU_ASSERT_EQUAL(harness_worker_stop(w, HARNESS_WAIT_MS, NULL), 0);
    spindle_handle_free(h);
}

/* Set, read, clear from the caller; the layout's `event` field. */
static void test_event_caller(void)
{
    spindle_channel g = spindle_channel_global();
    CU_ASSERT_EQUAL(spindle_channel_create(client, g, NULL), SPINDLE_OK);
    int set = -1;
    CU_ASSERT_EQUAL(spindle_channel_event(client, g, &set), SPINDLE_OK);
    CU_ASSERT_EQUAL(set, 0);
    CU_ASSERT_EQUAL(spindle_channel_set_event(client, g), SPINDLE_OK);
    CU_ASSERT_EQUAL(spindle_channel_event(client, g, &set), SPINDLE_OK);
    CU_ASSERT_EQUAL(set, 1);
    char key[512];
    char *at = harness_hget(harness_key(key, sizeof(key), "global", "chan:meta"), "event", NULL);
    CU_ASSERT_TRUE(at && atoll(at) > 1600000000000LL); /* Redis-clock ms */
    free(at);
    CU_ASSERT_EQUAL(spindle_channel_clear_event(client, g), SPINDLE_OK);
    CU_ASSERT_EQUAL(spindle_channel_event(client, g, &set), SPINDLE_OK);
    CU_ASSERT_EQUAL(set, 0);
    CU_ASSERT_EQUAL(spindle_channel_delete(client, g, NULL), SPINDLE_OK);
}

/* Every call on a channel that was not created answers NOT_FOUND and writes nothing. */
static void test_not_created(void)
{
    spindle_channel g = spindle_channel_of_group("typo");
    spindle_message m, *msgs = NULL;
    size_t n = 1;
    int set;
    CU_ASSERT_EQUAL(send_str(g, "x"), SPINDLE_ERR_NOT_FOUND);
    CU_ASSERT_PTR_NOT_NULL(strstr(spindle_errstr(client), "channel of group 'typo' not created"));
    CU_ASSERT_EQUAL(spindle_channel_recv(client, g, 0, &m), SPINDLE_ERR_NOT_FOUND);
    CU_ASSERT_EQUAL(spindle_channel_recv(client, g, 100, &m), SPINDLE_ERR_NOT_FOUND);
    CU_ASSERT_EQUAL(spindle_channel_recv_all(client, g, &msgs, &n), SPINDLE_ERR_NOT_FOUND);
    CU_ASSERT_EQUAL(n, 0);
    CU_ASSERT_EQUAL(spindle_channel_set_event(client, g), SPINDLE_ERR_NOT_FOUND);
    CU_ASSERT_EQUAL(spindle_channel_event(client, g, &set), SPINDLE_ERR_NOT_FOUND);
    int existed = 1;
    CU_ASSERT_EQUAL(spindle_channel_delete(client, g, &existed), SPINDLE_OK);
    CU_ASSERT_EQUAL(existed, 0);
    char key[512];
    CU_ASSERT_EQUAL(harness_int("EXISTS %s %s", harness_key(key, sizeof(key), "g:typo", "chan:in"),
                                harness_key(key, sizeof(key), "g:typo", "chan:meta")),
                    0);
    /* A task channel needs its task: a task whose hash is gone (expired) has none. */
    spindle_handle *real = enqueue_str("echo", "x");
    CU_ASSERT_PTR_NOT_NULL_FATAL(real);
    char tkey[512];
    CU_ASSERT_EQUAL(harness_int("DEL %s", harness_task_key(tkey, sizeof(tkey), real)), 1);
    CU_ASSERT_EQUAL(spindle_channel_create(client, spindle_channel_of_task(real), NULL),
                    SPINDLE_ERR_NOT_FOUND);
    CU_ASSERT_PTR_NOT_NULL(strstr(spindle_errstr(client), "task not found"));
    spindle_handle_free(real);
    /* Deleted, then written: NOT_FOUND again. */
    CU_ASSERT_EQUAL(spindle_channel_create(client, g, NULL), SPINDLE_OK);
    CU_ASSERT_EQUAL(send_str(g, "x"), SPINDLE_OK);
    CU_ASSERT_EQUAL(spindle_channel_delete(client, g, &existed), SPINDLE_OK);
    CU_ASSERT_EQUAL(existed, 1);
    CU_ASSERT_EQUAL(send_str(g, "x"), SPINDLE_ERR_NOT_FOUND);
}

/* Keys overwritten by hand with the wrong type, or a meta hash without its fields: a clear
 * PROTOCOL error naming the key, nothing written. */
static void test_wrong_key_type(void)
{
    spindle_channel g = spindle_channel_of_group("mangled");
    char meta[512], in[512];
    harness_key(meta, sizeof(meta), "g:mangled", "chan:meta");
    harness_key(in, sizeof(in), "g:mangled", "chan:in");
    redisReply *r = harness_cmd("SET %s oops", meta);
    if (r)
        freeReplyObject(r);
    CU_ASSERT_EQUAL(send_str(g, "x"), SPINDLE_ERR_PROTOCOL);
    CU_ASSERT_PTR_NOT_NULL(strstr(spindle_errstr(client), meta));
    CU_ASSERT_PTR_NOT_NULL(strstr(spindle_errstr(client), "holds a string"));
    CU_ASSERT_EQUAL(spindle_channel_create(client, g, NULL), SPINDLE_ERR_PROTOCOL);
    CU_ASSERT_EQUAL(harness_int("DEL %s", meta), 1);

    CU_ASSERT_EQUAL(spindle_channel_create(client, g, NULL), SPINDLE_OK);
    r = harness_cmd("SET %s oops", in);
    if (r)
        freeReplyObject(r);
    CU_ASSERT_EQUAL(send_str(g, "x"), SPINDLE_ERR_PROTOCOL);
    CU_ASSERT_PTR_NOT_NULL(strstr(spindle_errstr(client), in));
    spindle_message m;
    CU_ASSERT_EQUAL(spindle_channel_recv(client, g, 50, &m), SPINDLE_ERR_PROTOCOL);
    int set;
    CU_ASSERT_EQUAL(spindle_channel_event(client, g, &set), SPINDLE_ERR_PROTOCOL);
    CU_ASSERT_EQUAL(harness_int("DEL %s", in), 1);

    r = harness_cmd("HDEL %s cap_in", meta);
    if (r)
        freeReplyObject(r);
    CU_ASSERT_EQUAL(send_str(g, "x"), SPINDLE_ERR_PROTOCOL);
    CU_ASSERT_PTR_NOT_NULL(strstr(spindle_errstr(client), "no valid 'cap_in' field"));
    CU_ASSERT_EQUAL(harness_int("EXISTS %s", in), 0);
    CU_ASSERT_EQUAL(spindle_channel_delete(client, g, NULL), SPINDLE_OK);
}

static void test_oversize(void)
{
    spindle_channel g = spindle_channel_of_group("big");
    spindle_channel_options o;
    spindle_channel_options_init(&o);
    CU_ASSERT_EQUAL(spindle_channel_create(client, g, &o), SPINDLE_OK);
    size_t max = (size_t)SPINDLE_CHANNEL_MSG_MAX;
    char *buf = calloc(1, max + 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(buf);
    CU_ASSERT_EQUAL(spindle_channel_send(client, g, buf, max + 1), SPINDLE_ERR_TOO_LARGE);
    CU_ASSERT_PTR_NOT_NULL(strstr(spindle_errstr(client), "larger than the limit"));
    CU_ASSERT_EQUAL(spindle_channel_send(client, g, buf, max), SPINDLE_OK);
    char key[512];
    CU_ASSERT_EQUAL(harness_int("LLEN %s", harness_key(key, sizeof(key), "g:big", "chan:in")), 1);
    free(buf);
    CU_ASSERT_EQUAL(spindle_channel_delete(client, g, NULL), SPINDLE_OK);
}

/* The meta hash's fields and the TTL of every key, refreshed by a write. */
static void test_layout_and_ttl(void)
{
    spindle_channel g = spindle_channel_of_group("ttl");
    spindle_channel_options o;
    spindle_channel_options_init(&o);
    o.capacity_in = 7;
    o.capacity_out = 9;
    o.ttl_s = 100;
    CU_ASSERT_EQUAL(spindle_channel_create(client, g, &o), SPINDLE_OK);
    char meta[512], in[512];
    harness_key(meta, sizeof(meta), "g:ttl", "chan:meta");
    harness_key(in, sizeof(in), "g:ttl", "chan:in");
    char *v = harness_hget(meta, "cap_in", NULL);
    CU_ASSERT_TRUE(v && strcmp(v, "7") == 0);
    free(v);
    v = harness_hget(meta, "cap_out", NULL);
    CU_ASSERT_TRUE(v && strcmp(v, "9") == 0);
    free(v);
    v = harness_hget(meta, "ttl", NULL);
    CU_ASSERT_TRUE(v && strcmp(v, "100000") == 0);
    free(v);
    v = harness_hget(meta, "created_at", NULL);
    CU_ASSERT_TRUE(v && atoll(v) > 1600000000000LL);
    free(v);
    long long pttl = harness_int("PTTL %s", meta);
    CU_ASSERT_TRUE(pttl > 90000 && pttl <= 100000);
    /* Shortened by hand; a write restores it on every key. */
    CU_ASSERT_EQUAL(harness_int("PEXPIRE %s 5000", meta), 1);
    CU_ASSERT_EQUAL(send_str(g, "x"), SPINDLE_OK);
    pttl = harness_int("PTTL %s", meta);
    CU_ASSERT_TRUE(pttl > 90000 && pttl <= 100000);
    pttl = harness_int("PTTL %s", in);
    CU_ASSERT_TRUE(pttl > 90000 && pttl <= 100000);
    /* A read does not refresh. */
    CU_ASSERT_EQUAL(harness_int("PEXPIRE %s 5000", meta), 1);
    spindle_message m;
    CU_ASSERT_EQUAL(spindle_channel_recv(client, g, 0, &m), SPINDLE_ERR_TIMEOUT);
    CU_ASSERT_TRUE(harness_int("PTTL %s", meta) <= 5000);
    CU_ASSERT_EQUAL(spindle_channel_delete(client, g, NULL), SPINDLE_OK);
}

/* Checks made before anything is sent. */
static void test_validation(void)
{
    spindle_channel_options o;
    spindle_channel_options_init(&o);
    CU_ASSERT_EQUAL(o.capacity_in, 1000);
    CU_ASSERT_EQUAL(o.capacity_out, 1000);
    CU_ASSERT_EQUAL(o.ttl_s, 3600);
    spindle_error err;
    CU_ASSERT_EQUAL(spindle_channel_options_check(&o, &err), SPINDLE_OK);
    o.capacity_in = 0;
    CU_ASSERT_EQUAL(spindle_channel_options_check(&o, &err), SPINDLE_ERR_INVALID);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "capacity_in 0"));
    o.capacity_in = SPINDLE_CHANNEL_CAP_MAX + 1;
    CU_ASSERT_EQUAL(spindle_channel_options_check(&o, &err), SPINDLE_ERR_INVALID);
    o.capacity_in = 1;
    o.capacity_out = -5;
    CU_ASSERT_EQUAL(spindle_channel_options_check(&o, &err), SPINDLE_ERR_INVALID);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "capacity_out -5"));
    o.capacity_out = 1;
    o.ttl_s = SPINDLE_CHANNEL_TTL_MAX + 1;
    CU_ASSERT_EQUAL(spindle_channel_options_check(&o, &err), SPINDLE_ERR_INVALID);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "ttl_s"));
    CU_ASSERT_EQUAL(spindle_channel_message_check("", 0, &err), SPINDLE_OK);
    CU_ASSERT_EQUAL(spindle_channel_message_check(NULL, 0, &err), SPINDLE_OK);
    CU_ASSERT_EQUAL(spindle_channel_message_check(NULL, 3, &err), SPINDLE_ERR_INVALID);
    CU_ASSERT_EQUAL(spindle_channel_message_check("x", (size_t)SPINDLE_CHANNEL_MSG_MAX + 1, &err),
                    SPINDLE_ERR_TOO_LARGE);

    /* Through the client: refused before Redis is asked. */
    CU_ASSERT_EQUAL(spindle_channel_create(client, spindle_channel_of_group("bad name"), NULL),
                    SPINDLE_ERR_INVALID);
    CU_ASSERT_PTR_NOT_NULL(strstr(spindle_errstr(client), "group name 'bad name'"));
    CU_ASSERT_EQUAL(send_str(spindle_channel_of_group("{x}"), "a"), SPINDLE_ERR_INVALID);
    CU_ASSERT_EQUAL(send_str(spindle_channel_of_group(NULL), "a"), SPINDLE_ERR_INVALID);
    CU_ASSERT_EQUAL(send_str(spindle_channel_of_task(NULL), "a"), SPINDLE_ERR_INVALID);
    spindle_channel bad = {.scope = (spindle_scope)7, .task = NULL, .group = NULL};
    CU_ASSERT_EQUAL(send_str(bad, "a"), SPINDLE_ERR_INVALID);
    CU_ASSERT_PTR_NOT_NULL(strstr(spindle_errstr(client), "scope 7"));
    o.ttl_s = 0;
    CU_ASSERT_EQUAL(spindle_channel_create(client, spindle_channel_global(), &o),
                    SPINDLE_ERR_INVALID);
    CU_ASSERT_EQUAL(harness_int("DBSIZE"), 0);

    /* A task context without a Redis connection (the in-process mode to come). */
    spindle_task_ctx ctx;
    memset(&ctx, 0, sizeof(ctx));
    ctx.id = "00000000-0000-4000-8000-000000000000";
    ctx.queue = QUEUE;
    spindle_message m;
    int set = 1;
    CU_ASSERT_EQUAL(spindle_task_channel_read(&ctx, SPINDLE_SCOPE_TASK, 0, &m),
                    SPINDLE_ERR_INVALID);
    CU_ASSERT_PTR_NOT_NULL(strstr(spindle_task_channel_errstr(&ctx), "need a Redis connection"));
    CU_ASSERT_EQUAL(spindle_task_channel_write(&ctx, SPINDLE_SCOPE_GLOBAL, "x", 1),
                    SPINDLE_ERR_INVALID);
    CU_ASSERT_EQUAL(spindle_task_channel_event(&ctx, SPINDLE_SCOPE_GROUP, &set),
                    SPINDLE_ERR_INVALID);
    CU_ASSERT_EQUAL(set, 0);
}

/* Runs `spindle channel WORD...` (a NULL-ended list) against the harness's server into *out,
 * which the caller frees with harness_output_free(). 0 if it ran. */
static int run_cli(harness_output *out, ...)
{
    char bin[512];
    snprintf(bin, sizeof(bin), "%s/bin/spindle", harness_build());
    const char *argv[16] = {bin, "--redis", harness_url(), "--namespace", harness_ns(), "channel"};
    size_t k = 6;
    va_list ap;
    va_start(ap, out);
    for (const char *w; k < 15 && (w = va_arg(ap, const char *)) != NULL;)
        argv[k++] = w;
    va_end(ap);
    argv[k] = NULL;
    memset(out, 0, sizeof(*out));
    return harness_run((char *const *)argv, HARNESS_WAIT_MS, out);
}

/* `spindle channel` against the same server: create, send typed values, read output. */
static void test_cli(void)
{
    harness_output out;
    CU_ASSERT_EQUAL_FATAL(run_cli(&out, "send", "--group", "shell", "1", NULL), 0);
    CU_ASSERT_EQUAL(out.code, 3);
    harness_output_free(&out);
    CU_ASSERT_EQUAL_FATAL(run_cli(&out, "create", "--group", "shell", "--capacity-in", "2", NULL),
                          0);
    CU_ASSERT_EQUAL(out.code, 0);
    harness_output_free(&out);
    CU_ASSERT_EQUAL_FATAL(run_cli(&out, "send", "--group", "shell", "42", "hi", "2.5", NULL), 0);
    CU_ASSERT_EQUAL(out.code, 1); /* the third is refused: full */
    CU_ASSERT_PTR_NOT_NULL(strstr(out.err, "full (capacity 2)"));
    harness_output_free(&out);
    char in[512], outk[512];
    harness_key(in, sizeof(in), "g:shell", "chan:in");
    harness_key(outk, sizeof(outk), "g:shell", "chan:out");
    redisReply *r = harness_cmd("LRANGE %s 0 -1", in);
    CU_ASSERT_TRUE(r && r->type == REDIS_REPLY_ARRAY && r->elements == 2);
    if (r && r->type == REDIS_REPLY_ARRAY && r->elements == 2) {
        CU_ASSERT_TRUE(r->element[0]->len == 1 && r->element[0]->str[0] == 42);
        CU_ASSERT_TRUE(r->element[1]->len == 3 && memcmp(r->element[1]->str, "\xa2hi", 3) == 0);
    }
    if (r)
        freeReplyObject(r);
    CU_ASSERT_EQUAL(harness_int("RPUSH %s %b", outk, "\x92\x01\xc3", (size_t)3), 1);
    CU_ASSERT_EQUAL_FATAL(run_cli(&out, "recv", "--group", "shell", "--all", NULL), 0);
    CU_ASSERT_EQUAL(out.code, 0);
    CU_ASSERT_STRING_EQUAL(out.out, "[1,true]\n");
    harness_output_free(&out);
    CU_ASSERT_EQUAL_FATAL(run_cli(&out, "recv", "--group", "shell", "--wait", "0.1", NULL), 0);
    CU_ASSERT_EQUAL(out.code, 6);
    harness_output_free(&out);
    CU_ASSERT_EQUAL_FATAL(run_cli(&out, "set-event", "--group", "shell", NULL), 0);
    CU_ASSERT_EQUAL(out.code, 0);
    harness_output_free(&out);
    CU_ASSERT_EQUAL_FATAL(run_cli(&out, "event", "--group", "shell", NULL), 0);
    CU_ASSERT_STRING_EQUAL(out.out, "set\n");
    harness_output_free(&out);
    CU_ASSERT_EQUAL_FATAL(run_cli(&out, "delete", "--group", "shell", NULL), 0);
    CU_ASSERT_EQUAL(out.code, 0);
    harness_output_free(&out);
    CU_ASSERT_EQUAL(harness_int("EXISTS %s", in), 0);
}

int register_channel_tests(void)
{
    static const test_case tests[] = {
        {"checks before sending: options, sizes, names, scopes, no store", test_validation},
        {"round trip at task scope, ended by the cancel event", test_round_trip_task},
        {"round trip at group scope (task hash field group)", test_round_trip_group},
        {"round trip at global scope", test_round_trip_global},
        {"task side: no group, group channel not created, empty read", test_task_in_no_group},
        {"bounded queues answer full, and accept again after a read", test_full_queue},
        {"read with a timeout on an empty queue", test_recv_timeout},
        {"read all until empty, in order, across round trips", test_recv_all},
        {"cancel event set, read and cleared by the caller", test_event_caller},
        {"channel not created: NOT_FOUND, nothing written", test_not_created},
        {"keys of the wrong type: PROTOCOL naming the key", test_wrong_key_type},
        {"message over 1 MiB: TOO_LARGE", test_oversize},
        {"meta fields, TTL refreshed by writes and not by reads", test_layout_and_ttl},
        {"spindle channel: create, send, recv, events, delete", test_cli},
        {NULL, NULL},
    };
    return add_suite("channels", suite_init, suite_cleanup, tests);
}
