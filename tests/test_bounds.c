/* Payload bounds (include/spindle/bounds.h, docs/PROTOCOL.md "Limits"), on both sides:
 *   - the producer refuses args above its max_args_bytes before sending anything
 *     (SPINDLE_ERR_TOO_LARGE, a message naming the bound and the size), default 1 MiB;
 *   - args written into Redis by hand (bypassing the producer) above the worker's bound, or
 *     nested deeper than SPINDLE_MSGPACK_MAX_DEPTH, end the task `failed` with a message
 *     naming the bound and the size, and the worker runs the next task;
 *   - a result above the worker's max_result_bytes fails the task;
 *   - an attempt that emits more than the worker's max_items items is refused the extra one;
 *   - max_depth and max_channel_msg_bytes, client and worker side, each at its edge (equal
 *     passes, one more fails), and out of range refused at connect / worker start. */
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "fleet.h"
#include "spindle/bounds.h"
#include "spindle/channel.h"
#include "suites.h"

static spindle_client *client;
static const char *const queue[] = {"bounds"};

static int suite_init(void)
{
    return harness_suite_init_client(&client);
}

static int suite_cleanup(void)
{
    return harness_suite_cleanup_client(&client);
}

/* Asserts that the task ended state within a few seconds, with an error containing want
 * (want NULL: no check). */
static void assert_ends(const spindle_handle *h, const char *state, const char *want)
{
    int rc = fleet_wait_state(h, state, harness_scaled_ms(5000));
    CU_ASSERT_EQUAL(rc, 0);
    char *st = fleet_field(h, "state");
    char *err = fleet_field(h, "error");
    if (want) {
        CU_ASSERT_PTR_NOT_NULL(err);
        CU_ASSERT_PTR_NOT_NULL(err ? strstr(err, want) : NULL);
    }
    if (rc != 0 || (want && (err == NULL || strstr(err, want) == NULL)))
        fprintf(stderr, "\n  task %s: state %s (wanted %s), error '%s' (wanted '%s')\n",
                spindle_handle_id(h), st ? st : "(none)", state, err ? err : "(none)",
                want ? want : "");
    free(st);
    free(err);
}

/* msgpack [bin of n bytes]: 6 + n bytes for n >= 65536. Caller frees. */
static char *bin_args(size_t n, size_t *len)
{
    char *p = calloc(1, n + 6);
    if (p == NULL)
        return NULL;
    p[0] = (char)0x91;
    p[1] = (char)0xc6;
    p[2] = (char)(n >> 24);
    p[3] = (char)(n >> 16);
    p[4] = (char)(n >> 8);
    p[5] = (char)n;
    *len = n + 6;
    return p;
}

/* Replaces the args of a task nobody has claimed yet, as redis-cli could. */
static void hset_args(const spindle_handle *h, const char *args, size_t len)
{
    char key[512];
    harness_task_key(key, sizeof(key), h);
    const char *argv[] = {"HSET", key, "args", args};
    const size_t lens[] = {4, strlen(key), 4, len};
    redisReply *r = harness_cmdargv(4, argv, lens);
    CU_ASSERT_PTR_NOT_NULL(r);
    if (r)
        freeReplyObject(r);
}

static pid_t worker_with(long max_args, long max_result, long max_items)
{
    spindle_worker_options o;
    fleet_options(&o, queue, 1);
    o.max_args_bytes = max_args;
    o.max_result_bytes = max_result;
    o.max_items = max_items;
    return harness_worker_fork_opts(NULL, &o);
}

static void test_producer_refuses(void)
{
    CU_ASSERT_EQUAL_FATAL(fleet_fresh(&client), 0);
    size_t len;
    char *big = bin_args((size_t)SPINDLE_ARGS_MAX_DEFAULT, &len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(big);
    spindle_enqueue_options eo;
    spindle_enqueue_options_init(&eo);
    eo.queue = queue[0];
    /* The default bound: 1 MiB + 6 bytes is refused, naming the bound and the size. */
    CU_ASSERT_EQUAL(spindle_enqueue_msgpack(client, "echo", big, len, &eo, NULL),
                    SPINDLE_ERR_TOO_LARGE);
    CU_ASSERT_PTR_NOT_NULL(strstr(spindle_errstr(client), "max_args_bytes of 1048576"));
    CU_ASSERT_PTR_NOT_NULL(strstr(spindle_errstr(client), "1048582 bytes"));
    /* A client with a lower bound refuses less; one with a higher bound sends it. */
    spindle_client *small = spindle_client_new(), *large = spindle_client_new();
    CU_ASSERT_PTR_NOT_NULL_FATAL(small);
    CU_ASSERT_PTR_NOT_NULL_FATAL(large);
    spindle_client_options co;
    spindle_client_options_init(&co);
    co.url = harness_url();
    co.ns = harness_ns();
    co.max_args_bytes = 100;
    CU_ASSERT_EQUAL(spindle_client_connect(small, &co), SPINDLE_OK);
    co.max_args_bytes = 2L << 20;
    CU_ASSERT_EQUAL(spindle_client_connect(large, &co), SPINDLE_OK);
    spindle_args *a = spindle_args_new();
    char text[200];
    memset(text, 'x', sizeof(text));
    spindle_args_strn(a, text, sizeof(text));
    CU_ASSERT_EQUAL(spindle_enqueue(small, "echo", a, &eo, NULL), SPINDLE_ERR_TOO_LARGE);
    CU_ASSERT_PTR_NOT_NULL(
        strstr(spindle_errstr(small), "above the client's max_args_bytes of 100"));
    CU_ASSERT_EQUAL(harness_int("DBSIZE"), 0);
    spindle_handle *h = NULL;
    CU_ASSERT_EQUAL(spindle_enqueue_msgpack(large, "echo", big, len, &eo, &h), SPINDLE_OK);
    CU_ASSERT_PTR_NOT_NULL(h);
    /* ... and a worker with the default bound fails it, naming its own bound. */
    CU_ASSERT_FATAL(worker_with(0, 0, 0) > 0);
    if (h)
        assert_ends(h, "failed", "1048582 bytes, above the worker's max_args_bytes of 1048576");
    spindle_handle_free(h);
    spindle_args_free(a);
    spindle_client_free(small);
    spindle_client_free(large);
    free(big);
}

static void test_worker_refuses_args_by_hand(void)
{
    CU_ASSERT_EQUAL_FATAL(fleet_fresh(&client), 0);
    spindle_handle *big = fleet_enqueue(client, queue[0], "echo", 1, -1, 0);
    spindle_handle *deep = fleet_enqueue(client, queue[0], "echo", 2, -1, 0);
    spindle_handle *next = fleet_enqueue(client, queue[0], "add", 3, -1, 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(big);
    CU_ASSERT_PTR_NOT_NULL_FATAL(deep);
    CU_ASSERT_PTR_NOT_NULL_FATAL(next);
    size_t len;
    char *args = bin_args(2u << 20, &len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(args);
    hset_args(big, args, len);
    char nested[41];
    memset(nested, (char)0x91, 40);
    nested[40] = 0x00;
    hset_args(deep, nested, sizeof(nested));
    CU_ASSERT_FATAL(worker_with(0, 0, 0) > 0);
    assert_ends(big, "failed", "2097158 bytes, above the worker's max_args_bytes of 1048576");
    assert_ends(deep, "failed", "nested too deep");
    assert_ends(next, "succeeded", NULL);
    free(args);
    spindle_handle_free(big);
    spindle_handle_free(deep);
    spindle_handle_free(next);
}

static void test_result_over_limit(void)
{
    CU_ASSERT_EQUAL_FATAL(fleet_fresh(&client), 0);
    CU_ASSERT_FATAL(worker_with(0, 64, 0) > 0);
    spindle_enqueue_options eo;
    spindle_enqueue_options_init(&eo);
    eo.queue = queue[0];
    spindle_args *a = spindle_args_new();
    char text[100];
    memset(text, 'y', sizeof(text));
    spindle_args_strn(a, text, sizeof(text));
    spindle_handle *h = NULL;
    CU_ASSERT_EQUAL_FATAL(spindle_enqueue(client, "echo", a, &eo, &h), SPINDLE_OK);
    /* echo returns its args: [str 100] packs to 1 + 2 + 100 bytes. */
    assert_ends(h, "failed",
                "'echo' packed a result of 103 bytes, above the worker's max_result_bytes of 64");
    spindle_handle *small = fleet_enqueue(client, queue[0], "echo", 7, -1, 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(small);
    assert_ends(small, "succeeded", NULL);
    spindle_handle_free(h);
    spindle_handle_free(small);
    spindle_args_free(a);
}

static void test_too_many_items(void)
{
    CU_ASSERT_EQUAL_FATAL(fleet_fresh(&client), 0);
    CU_ASSERT_FATAL(worker_with(0, 0, 3) > 0);
    const long over[] = {5, 0}, within[] = {3, 0};
    spindle_handle *h = fleet_enqueue_args(client, queue[0], "emit_n", over, 2, -1, 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    assert_ends(h, "failed", "has emitted 3 items, the worker's max_items");
    spindle_handle *ok = fleet_enqueue_args(client, queue[0], "emit_n", within, 2, -1, 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ok);
    assert_ends(ok, "succeeded", NULL);
    spindle_handle_free(h);
    spindle_handle_free(ok);
}

/* A client on the test server with the given depth and channel bounds (connect's answer in
 * *rc). */
static spindle_client *client_with(int max_depth, long max_chan, int *rc)
{
    spindle_client *c = spindle_client_new();
    spindle_client_options co;
    spindle_client_options_init(&co);
    co.url = harness_url();
    co.ns = harness_ns();
    co.max_depth = max_depth;
    co.max_channel_msg_bytes = max_chan;
    *rc = c ? spindle_client_connect(c, &co) : SPINDLE_ERR_NOMEM;
    return c;
}

/* msgpack [[[...[0]...]]]: depth arrays nested (the outer args array included). */
static void nested_args(char *buf, int depth)
{
    memset(buf, (char)0x91, (size_t)depth);
    buf[depth] = 0x00;
}

static void test_connect_refuses_out_of_range(void)
{
    int rc;
    spindle_client *c = client_with(SPINDLE_MSGPACK_MAX_DEPTH + 1, 0, &rc);
    CU_ASSERT_EQUAL(rc, SPINDLE_ERR_INVALID);
    CU_ASSERT_PTR_NOT_NULL(strstr(spindle_errstr(c), "max_depth 33 out of range"));
    spindle_client_free(c);
    c = client_with(0, SPINDLE_CHANNEL_MSG_MAX + 1, &rc);
    CU_ASSERT_EQUAL(rc, SPINDLE_ERR_INVALID);
    CU_ASSERT_PTR_NOT_NULL(strstr(spindle_errstr(c), "max_channel_msg_bytes 1048577 out of range"));
    spindle_client_free(c);
    c = client_with(-1, 0, &rc);
    CU_ASSERT_EQUAL(rc, SPINDLE_ERR_INVALID);
    spindle_client_free(c);
    c = client_with(SPINDLE_MSGPACK_MAX_DEPTH, SPINDLE_CHANNEL_MSG_MAX, &rc);
    CU_ASSERT_EQUAL(rc, SPINDLE_OK);
    spindle_client_free(c);
    /* The worker refuses its own out-of-range bounds at start. */
    spindle_worker_options o;
    fleet_options(&o, queue, 1);
    o.max_depth = SPINDLE_MSGPACK_MAX_DEPTH + 1;
    spindle_registry *reg = spindle_registry_new();
    spindle_worker *w = spindle_worker_new(&o, reg);
    CU_ASSERT_PTR_NOT_NULL_FATAL(w);
    CU_ASSERT_EQUAL(spindle_worker_run(w), SPINDLE_ERR_INVALID);
    CU_ASSERT_PTR_NOT_NULL(strstr(spindle_worker_errstr(w), "max_depth 33"));
    spindle_worker_free(w);
    o.max_depth = 0;
    o.max_channel_msg_bytes = SPINDLE_CHANNEL_MSG_MAX + 1;
    w = spindle_worker_new(&o, reg);
    CU_ASSERT_PTR_NOT_NULL_FATAL(w);
    CU_ASSERT_EQUAL(spindle_worker_run(w), SPINDLE_ERR_INVALID);
    CU_ASSERT_PTR_NOT_NULL(strstr(spindle_worker_errstr(w), "max_channel_msg_bytes 1048577"));
    spindle_worker_free(w);
    spindle_registry_free(reg);
}

static void test_depth_edges(void)
{
    CU_ASSERT_EQUAL_FATAL(fleet_fresh(&client), 0);
    int rc;
    spindle_client *c4 = client_with(4, 0, &rc);
    CU_ASSERT_EQUAL_FATAL(rc, SPINDLE_OK);
    spindle_enqueue_options eo;
    spindle_enqueue_options_init(&eo);
    eo.queue = queue[0];
    char args[8];
    /* Producer: 4 deep passes a max_depth of 4, 5 deep is refused before sending. */
    nested_args(args, 5);
    CU_ASSERT_EQUAL(spindle_enqueue_msgpack(c4, "echo", args, 6, &eo, NULL), SPINDLE_ERR_INVALID);
    CU_ASSERT_PTR_NOT_NULL(strstr(spindle_errstr(c4),
                                  "args of 'echo' are nested 5 deep, above the client's "
                                  "max_depth of 4"));
    CU_ASSERT_EQUAL(harness_int("DBSIZE"), 0);
    spindle_handle *at = NULL, *over = NULL;
    nested_args(args, 4);
    CU_ASSERT_EQUAL(spindle_enqueue_msgpack(c4, "echo", args, 5, &eo, &at), SPINDLE_OK);
    /* Worker: a max_depth of 4 runs 4 deep and fails 5 deep (sent by a default client). */
    nested_args(args, 5);
    CU_ASSERT_EQUAL(spindle_enqueue_msgpack(client, "echo", args, 6, &eo, &over), SPINDLE_OK);
    CU_ASSERT_PTR_NOT_NULL_FATAL(at);
    CU_ASSERT_PTR_NOT_NULL_FATAL(over);
    spindle_worker_options o;
    fleet_options(&o, queue, 1);
    o.max_depth = 4;
    CU_ASSERT_FATAL(harness_worker_fork_opts(NULL, &o) > 0);
    assert_ends(at, "succeeded", NULL);
    assert_ends(over, "failed",
                "args of 'echo' are nested 5 deep, above the worker's max_depth of 4");
    spindle_handle_free(at);
    spindle_handle_free(over);
    spindle_client_free(c4);
}

/* Pushes len bytes of 'm' onto the global channel's output queue, as redis-cli could. */
static void push_out(size_t len)
{
    char key[256], data[64];
    snprintf(key, sizeof(key), "%s:{global}:chan:out", harness_ns());
    memset(data, 'm', sizeof(data));
    const char *argv[] = {"RPUSH", key, data};
    const size_t lens[] = {5, strlen(key), len};
    redisReply *r = harness_cmdargv(3, argv, lens);
    CU_ASSERT_PTR_NOT_NULL(r);
    if (r)
        freeReplyObject(r);
}

static void test_client_channel_edges(void)
{
    CU_ASSERT_EQUAL_FATAL(fleet_fresh(&client), 0);
    int rc;
    spindle_client *c = client_with(0, 10, &rc);
    CU_ASSERT_EQUAL_FATAL(rc, SPINDLE_OK);
    spindle_channel g = spindle_channel_global();
    CU_ASSERT_EQUAL_FATAL(spindle_channel_create(c, g, NULL), SPINDLE_OK);
    /* Send: 10 bytes pass a bound of 10, 11 are refused before sending. */
    CU_ASSERT_EQUAL(spindle_channel_send(c, g, "0123456789", 10), SPINDLE_OK);
    CU_ASSERT_EQUAL(spindle_channel_send(c, g, "0123456789a", 11), SPINDLE_ERR_TOO_LARGE);
    CU_ASSERT_PTR_NOT_NULL(strstr(spindle_errstr(c), "channel message of 11 bytes is larger than "
                                                     "the client's max_channel_msg_bytes of 10"));
    /* Receive: 10 bytes pass; 11 are taken out, dropped, and refused; the next one comes. */
    push_out(10);
    push_out(11);
    push_out(3);
    spindle_message m;
    CU_ASSERT_EQUAL(spindle_channel_recv(c, g, 0, &m), SPINDLE_OK);
    CU_ASSERT_EQUAL(m.len, 10);
    free(m.data);
    CU_ASSERT_EQUAL(spindle_channel_recv(c, g, 0, &m), SPINDLE_ERR_TOO_LARGE);
    CU_ASSERT_PTR_NULL(m.data);
    CU_ASSERT_PTR_NOT_NULL(strstr(spindle_errstr(c), "received a channel message of 11 bytes, "
                                                     "larger than the client's "
                                                     "max_channel_msg_bytes of 10"));
    CU_ASSERT_EQUAL(spindle_channel_recv(c, g, 0, &m), SPINDLE_OK);
    CU_ASSERT_EQUAL(m.len, 3);
    free(m.data);
    /* recv_all keeps what fits, in order, and answers SPINDLE_ERR_TOO_LARGE. */
    push_out(1);
    push_out(11);
    push_out(10);
    spindle_message *all = NULL;
    size_t n = 0;
    CU_ASSERT_EQUAL(spindle_channel_recv_all(c, g, &all, &n), SPINDLE_ERR_TOO_LARGE);
    CU_ASSERT_EQUAL_FATAL(n, 2);
    CU_ASSERT_EQUAL(all[0].len, 1);
    CU_ASSERT_EQUAL(all[1].len, 10);
    spindle_messages_free(all, n);
    CU_ASSERT_EQUAL(harness_int("LLEN %s:{global}:chan:out", harness_ns()), 0);
    spindle_client_free(c);
}

/* Runs chan_pump on the global channel fed one message of len bytes under a worker whose
 * channel bound is 13 (the pump writes "ok:" + message back), and checks how it ended. */
static void pump_one(size_t len, const char *state, const char *want)
{
    spindle_channel g = spindle_channel_global();
    char data[32];
    memset(data, 'p', sizeof(data));
    CU_ASSERT_EQUAL(spindle_channel_send(client, g, data, len), SPINDLE_OK);
    spindle_args *a = spindle_args_new();
    spindle_args_str(a, "global");
    spindle_enqueue_options eo;
    spindle_enqueue_options_init(&eo);
    eo.queue = queue[0];
    spindle_handle *h = NULL;
    CU_ASSERT_EQUAL_FATAL(spindle_enqueue(client, "chan_pump", a, &eo, &h), SPINDLE_OK);
    spindle_args_free(a);
    if (strcmp(state, "succeeded") == 0) {
        spindle_message m;
        CU_ASSERT_EQUAL(spindle_channel_recv(client, g, harness_scaled_ms(5000), &m), SPINDLE_OK);
        CU_ASSERT_EQUAL(m.len, len + 3);
        free(m.data);
        CU_ASSERT_EQUAL(spindle_channel_set_event(client, g), SPINDLE_OK);
    }
    assert_ends(h, state, want);
    spindle_handle_free(h);
    spindle_channel_clear_event(client, g);
}

static void test_task_channel_edges(void)
{
    CU_ASSERT_EQUAL_FATAL(fleet_fresh(&client), 0);
    CU_ASSERT_EQUAL_FATAL(spindle_channel_create(client, spindle_channel_global(), NULL),
                          SPINDLE_OK);
    spindle_worker_options o;
    fleet_options(&o, queue, 1);
    o.max_channel_msg_bytes = 13;
    CU_ASSERT_FATAL(harness_worker_fork_opts(NULL, &o) > 0);
    /* Write: "ok:" + 10 bytes = 13 passes; "ok:" + 11 bytes = 14 is refused. */
    pump_one(10, "succeeded", NULL);
    pump_one(11, "failed",
             "channel message of 14 bytes is larger than the worker's max_channel_msg_bytes of 13");
    /* Read: 13 bytes are read (then the 16-byte answer is refused); 14 are refused. */
    pump_one(13, "failed", "channel message of 16 bytes is larger than");
    pump_one(14, "failed",
             "read a channel message of 14 bytes, larger than the worker's max_channel_msg_bytes "
             "of 13");
}

int register_bounds_tests(void)
{
    static const test_case tests[] = {
        {"producer refuses args over its bound", test_producer_refuses},
        {"args over the bound or too deep, written by hand, fail on the worker",
         test_worker_refuses_args_by_hand},
        {"a result over the bound fails the task", test_result_over_limit},
        {"items past max_items are refused", test_too_many_items},
        {"max_depth / max_channel_msg_bytes out of range are refused",
         test_connect_refuses_out_of_range},
        {"max_depth at its edge, producer and worker", test_depth_edges},
        {"client max_channel_msg_bytes at its edge, send and receive", test_client_channel_edges},
        {"worker max_channel_msg_bytes at its edge, task write and read", test_task_channel_edges},
        {NULL, NULL},
    };
    return add_suite("payload bounds", suite_init, suite_cleanup, tests);
}
