/* Payload bounds (include/spindle/bounds.h, docs/PROTOCOL.md "Limits"), on both sides:
 *   - the producer refuses args above its max_args_bytes before sending anything
 *     (SPINDLE_ERR_TOO_LARGE, a message naming the bound and the size), default 1 MiB;
 *   - args written into Redis by hand (bypassing the producer) above the worker's bound, or
 *     nested deeper than SPINDLE_MSGPACK_MAX_DEPTH, end the task `failed` with a message
 *     naming the bound and the size, and the worker runs the next task;
 *   - a result above the worker's max_result_bytes fails the task;
 *   - an attempt that emits more than the worker's max_items items is refused the extra one. */
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "fleet.h"
#include "spindle/bounds.h"
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

int register_bounds_tests(void)
{
    static const test_case tests[] = {
        {"producer refuses args over its bound", test_producer_refuses},
        {"args over the bound or too deep, written by hand, fail on the worker",
         test_worker_refuses_args_by_hand},
        {"a result over the bound fails the task", test_result_over_limit},
        {"items past max_items are refused", test_too_many_items},
        {NULL, NULL},
    };
    return add_suite("payload bounds", suite_init, suite_cleanup, tests);
}
