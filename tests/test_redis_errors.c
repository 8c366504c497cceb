/* Redis answering errors instead of results, on the test's own server: out of memory
 * (maxmemory with noeviction: every write that could grow memory is refused with -OOM), a
 * read-only replica (REPLICAOF a master that does not exist: writes are refused with
 * -READONLY, blocked commands are cut short with -UNBLOCKED), and lost scripts (SCRIPT FLUSH
 * while a task runs: -NOSCRIPT). A producer gets SPINDLE_ERR_REDIS with Redis's message; a
 * worker keeps the task it holds, does not spin or flood its log, and once Redis takes writes
 * again it settles the task and serves new ones. Each test puts the server back as it was. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "fleet.h"
#include "suites.h"

static spindle_client *client;

static void config(const char *fmt, const char *arg)
{
    redisReply *r = harness_cmd(fmt, arg);
    CU_ASSERT_TRUE(r && r->type == REDIS_REPLY_STATUS);
    if (r)
        freeReplyObject(r);
}

static void restore(void)
{
    redisReply *r = harness_cmd("REPLICAOF NO ONE");
    if (r)
        freeReplyObject(r);
    r = harness_cmd("DEL gb-filler");
    if (r)
        freeReplyObject(r);
    r = harness_cmd("CONFIG SET maxmemory 0");
    if (r)
        freeReplyObject(r);
}

static int suite_init(void)
{
    if (harness_suite_init() != 0)
        return -1;
    client = harness_client();
    return client ? 0 : -1;
}

static int suite_cleanup(void)
{
    restore();
    harness_stop_workers();
    spindle_client_free(client);
    client = NULL;
    return harness_suite_cleanup();
}

/* add(20, 22) gives 42 within the usual wait. */
static void assert_serves(void)
{
    long args[2] = {20, 22};
    spindle_handle *h = fleet_enqueue_args(client, "default", "add", args, 2, -1, 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    spindle_result *r = NULL;
    CU_ASSERT_EQUAL(spindle_wait(client, h, HARNESS_WAIT_MS, &r), SPINDLE_OK);
    CU_ASSERT_TRUE(r && spindle_result_value(r)->via.u64 == 42);
    spindle_result_free(r);
    spindle_handle_free(h);
}

/* Enqueue is refused with SPINDLE_ERR_REDIS and Redis's word for it in the message. */
static void assert_enqueue_refused(const char *word)
{
    spindle_args *a = spindle_args_new();
    spindle_args_int(a, 1);
    spindle_handle *h = NULL;
    CU_ASSERT_EQUAL(spindle_enqueue(client, "echo", a, NULL, &h), SPINDLE_ERR_REDIS);
    CU_ASSERT_PTR_NOT_NULL(strstr(spindle_errstr(client), word));
    if (strstr(spindle_errstr(client), word) == NULL)
        fprintf(stderr, "\n  enqueue: '%s', expected '%s'\n", spindle_errstr(client), word);
    CU_ASSERT_PTR_NULL(h);
    spindle_args_free(a);
    spindle_handle_free(h);
}

/* A task of sleep_ms ms, running (claimed and started) when this returns; NULL on failure. */
static spindle_handle *running_task(long ms)
{
    spindle_handle *h = fleet_enqueue(client, "default", "sleep_ms", ms, -1, 0);
    char worker[160];
    if (h && fleet_wait_started(h, worker, sizeof(worker), HARNESS_WAIT_MS) < 0) {
        spindle_handle_free(h);
        return NULL;
    }
    return h;
}

/* The worker's log names word at most max times (once per part of it that met the error,
 * not once per 50 ms tick), and the worker still runs. */
static void assert_log_quiet(pid_t w, const char *word, int max)
{
    char *log = harness_worker_log(w);
    int n = fleet_count(log, word);
    CU_ASSERT_TRUE(n <= max);
    if (n > max)
        fprintf(stderr, "\n  '%s' %d times in the worker's log (at most %d expected):\n%.4000s\n",
                word, n, max, log ? log : "");
    free(log);
    CU_ASSERT_TRUE(harness_child_alive(w));
}

/* The task ended `succeeded` after all. */
static void assert_settled(spindle_handle *h)
{
    spindle_result *r = NULL;
    CU_ASSERT_EQUAL(spindle_wait(client, h, HARNESS_WAIT_MS, &r), SPINDLE_OK);
    spindle_result_free(r);
    spindle_handle_free(h);
}

static void test_out_of_memory(void)
{
    CU_ASSERT_EQUAL_FATAL(fleet_fresh(&client), 0);
    pid_t w = harness_worker_fork("default", 0);
    CU_ASSERT_TRUE_FATAL(w > 0);
    assert_serves(); /* the client has registered its queue: an enqueue is one script */
    spindle_handle *h = running_task(300);
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);

    long long used = 0;
    redisReply *r = harness_cmd("MEMORY STATS");
    for (size_t i = 0; r && r->type == REDIS_REPLY_ARRAY && i + 1 < r->elements; i += 2)
        if (strcmp(r->element[i]->str, "total.allocated") == 0)
            used = r->element[i + 1]->integer;
    if (r)
        freeReplyObject(r);
    CU_ASSERT_TRUE_FATAL(used > 0);
    char limit[32];
    snprintf(limit, sizeof(limit), "%lld", used + 1024LL * 1024);
    config("CONFIG SET maxmemory-policy %s", "noeviction");
    config("CONFIG SET maxmemory %s", limit);
    /* One write past the limit: from then on Redis refuses the ones that would grow. */
    enum { FILL = 4 * 1024 * 1024 };
    char *fill = malloc(FILL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(fill);
    memset(fill, 'x', FILL);
    r = harness_cmd("SET gb-filler %b", fill, (size_t)FILL);
    free(fill);
    if (r)
        freeReplyObject(r);
    r = harness_cmd("SET gb-probe x");
    CU_ASSERT_TRUE(r && r->type == REDIS_REPLY_ERROR && strncmp(r->str, "OOM", 3) == 0);
    if (r)
        freeReplyObject(r);

    assert_enqueue_refused("OOM");
    /* The running task ends meanwhile. Redis refuses a script's writes only until its first
     * one: the settle script starts by removing (LREM), so it goes through; whatever Redis
     * does, the task must not be lost. */
    harness_sleep_ms(harness_scaled_ms(1500));
    char *st = fleet_field(h, "state");
    CU_ASSERT_TRUE(st && (strcmp(st, "running") == 0 || strcmp(st, "pending") == 0 ||
                          strcmp(st, "succeeded") == 0));
    free(st);
    assert_log_quiet(w, "OOM", 3);

    restore();
    assert_settled(h);
    assert_serves();
}

static void test_read_only(void)
{
    CU_ASSERT_EQUAL_FATAL(fleet_fresh(&client), 0);
    pid_t w = harness_worker_fork("default", 0);
    CU_ASSERT_TRUE_FATAL(w > 0);
    assert_serves();
    spindle_handle *h = running_task(300);
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    /* A master nobody listens on: the server stays a replica that cannot sync, keeping its
     * data, serving reads and refusing writes. */
    redisReply *r = harness_cmd("REPLICAOF 127.0.0.1 1");
    CU_ASSERT_TRUE(r && r->type == REDIS_REPLY_STATUS);
    if (r)
        freeReplyObject(r);
    assert_enqueue_refused("READONLY");
    harness_sleep_ms(harness_scaled_ms(1500));
    char *st = fleet_field(h, "state");
    CU_ASSERT_TRUE(st && (strcmp(st, "running") == 0 || strcmp(st, "pending") == 0));
    free(st);
    assert_log_quiet(w, "READONLY", 3);

    restore();
    assert_settled(h);
    assert_serves();
}

/* Scripts flushed while a task runs: its settlement meets NOSCRIPT and loads them again. */
static void test_scripts_flushed_mid_task(void)
{
    CU_ASSERT_EQUAL_FATAL(fleet_fresh(&client), 0);
    pid_t w = harness_worker_fork("default", 0);
    CU_ASSERT_TRUE_FATAL(w > 0);
    assert_serves();
    spindle_handle *h = running_task(200);
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    redisReply *r = harness_cmd("SCRIPT FLUSH");
    CU_ASSERT_TRUE(r && r->type == REDIS_REPLY_STATUS);
    if (r)
        freeReplyObject(r);
    assert_settled(h);
    assert_serves();
    assert_log_quiet(w, "NOSCRIPT", 0);
}

int register_redis_errors_tests(void)
{
    static const test_case tests[] = {
        {"out of memory: refused, held, resumed", test_out_of_memory},
        {"read-only replica: refused, held, resumed", test_read_only},
        {"scripts flushed while a task runs", test_scripts_flushed_mid_task},
        {NULL, NULL},
    };
    return add_suite("Redis error replies (forked worker)", suite_init, suite_cleanup, tests);
}
