/* Graceful and forced stop of a supervisor (docs/PROTOCOL.md, "Delivery guarantee"): on
 * SIGTERM slots stop claiming and hand back what they claimed but did not start; a running
 * task gets the shutdown timeout, after which its slot is killed and the task goes back to
 * pending (not failed: the worker chose to stop, the task did nothing wrong), its attempt
 * count kept; a second signal stops at once the same way. Nothing of the worker is left in
 * Redis afterwards: no heartbeat, no index entry, no in-flight list. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <CUnit/CUnit.h>

#include "fleet.h"
#include "suites.h"

static spindle_client *client;
static const char *const queue[] = {"stop"};

static int suite_init(void)
{
    return harness_suite_init_client(&client);
}

static int suite_cleanup(void)
{
    return harness_suite_cleanup_client(&client);
}

/* No heartbeat, worker index entry or in-flight list is left. */
static void check_no_trace(void)
{
    CU_ASSERT_EQUAL(fleet_beats(0, NULL, 0), 0);
    char key[512];
    CU_ASSERT_EQUAL(harness_int("SCARD %s", harness_key(key, sizeof(key), NULL, "workers")), 0);
    redisReply *r = harness_cmd("KEYS %s:{%s}:inflight:*", harness_ns(), queue[0]);
    CU_ASSERT_TRUE(r && r->type == REDIS_REPLY_ARRAY && r->elements == 0);
    if (r)
        freeReplyObject(r);
}

/* The task was put back, not failed: pending and at the right end of the pending list (it
 * runs next), its claim's worker fields removed, attempts as counted. */
static void check_put_back(const spindle_handle *h, long long attempts)
{
    char *state = fleet_field(h, "state");
    CU_ASSERT_STRING_EQUAL(state ? state : "", "pending");
    free(state);
    CU_ASSERT_EQUAL(fleet_num(h, "attempts", -1), attempts);
    CU_ASSERT_TRUE(fleet_absent(h, "worker"));
    CU_ASSERT_TRUE(fleet_absent(h, "error"));
    CU_ASSERT_TRUE(fleet_absent(h, "lost"));
    CU_ASSERT_FALSE(fleet_in_zset(queue[0], "dead", h));
    char key[512];
    redisReply *r = harness_cmd("LINDEX %s -1", harness_key(key, sizeof(key), queue[0], "pending"));
    CU_ASSERT_TRUE(r && r->type == REDIS_REPLY_STRING && strcmp(r->str, spindle_handle_id(h)) == 0);
    if (r)
        freeReplyObject(r);
}

/* SIGTERM with --shutdown-timeout 1 while a 5 s task runs: the binary exits 0 after about
 * 1 s, the task is back on pending. */
static void test_shutdown_timeout(void)
{
    CU_ASSERT_EQUAL_FATAL(fleet_fresh(&client), 0);
    static const char *const args[] = {
        "--shutdown-timeout", "1", "--heartbeat-interval", "0.2", "--heartbeat-ttl", "0.6", NULL};
    pid_t sup = harness_worker_exec_args(queue[0], args);
    CU_ASSERT_FATAL(sup > 0);
    spindle_handle *h = fleet_enqueue(client, queue[0], "sleep_ms", 5000, -1, 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    char id[160];
    pid_t slot = fleet_wait_started(h, id, sizeof(id), HARNESS_WAIT_MS);
    CU_ASSERT_FATAL(slot > 0 && slot != sup);

    int64_t t0 = harness_ms();
    int st = -1;
    CU_ASSERT_EQUAL(harness_worker_stop(sup, 5000, &st), 0);
    int64_t took = harness_ms() - t0;
    CU_ASSERT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    CU_ASSERT_TRUE(took >= 950); /* the task had its second */
    CU_ASSERT_TRUE(took <= 2000 + harness_scaled_ms(500));
    if (took < 950 || took > 2000 + harness_scaled_ms(500))
        fprintf(stderr, "\n  stopped after %lld ms\n", (long long)took);
    CU_ASSERT_FALSE(harness_pid_running(slot));
    check_put_back(h, 1);
    check_no_trace();
    spindle_handle_free(h);
}

/* A second SIGTERM stops at once, however long the shutdown timeout (25 s by default). */
static void test_second_signal(void)
{
    CU_ASSERT_EQUAL_FATAL(fleet_fresh(&client), 0);
    spindle_worker_options o;
    fleet_options(&o, queue, 1);
    o.shutdown_timeout_s = 25;
    pid_t sup = harness_worker_fork_opts(NULL, &o);
    CU_ASSERT_FATAL(sup > 0);
    spindle_handle *h = fleet_enqueue(client, queue[0], "sleep_ms", 5000, -1, 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    char id[160];
    pid_t slot = fleet_wait_started(h, id, sizeof(id), HARNESS_WAIT_MS);
    CU_ASSERT_FATAL(slot > 0 && slot != sup);

    CU_ASSERT_EQUAL_FATAL(harness_worker_signal(sup, SIGTERM), 0);
    harness_sleep_ms(300);
    /* The first signal lets the task run on. */
    CU_ASSERT_TRUE(harness_child_alive(sup));
    char *state = fleet_field(h, "state");
    CU_ASSERT_STRING_EQUAL(state ? state : "", "running");
    free(state);

    int64_t t0 = harness_ms();
    int st = -1;
    CU_ASSERT_EQUAL(harness_worker_stop(sup, 3000, &st), 0);
    int64_t took = harness_ms() - t0;
    CU_ASSERT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    CU_ASSERT_TRUE(took < harness_scaled_ms(500));
    if (took >= harness_scaled_ms(500))
        fprintf(stderr, "\n  second signal: stopped after %lld ms\n", (long long)took);
    CU_ASSERT_FALSE(harness_pid_running(slot));
    check_put_back(h, 1);
    check_no_trace();
    spindle_handle_free(h);
}

/* The same for a thread pool, whose threads cannot be killed: at the shutdown timeout the
 * task is put back and the process exits. */
static void test_thread_pool_shutdown_timeout(void)
{
    CU_ASSERT_EQUAL_FATAL(fleet_fresh(&client), 0);
    spindle_worker_options o;
    fleet_options(&o, queue, 1);
    o.pool = SPINDLE_POOL_THREAD;
    o.shutdown_timeout_s = 1;
    pid_t sup = harness_worker_fork_opts(NULL, &o);
    CU_ASSERT_FATAL(sup > 0);
    spindle_handle *h = fleet_enqueue(client, queue[0], "sleep_ms", 5000, -1, 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    char id[160];
    CU_ASSERT_FATAL(fleet_wait_started(h, id, sizeof(id), HARNESS_WAIT_MS) == sup);
    int64_t t0 = harness_ms();
    int st = -1;
    CU_ASSERT_EQUAL(harness_worker_stop(sup, 5000, &st), 0);
    int64_t took = harness_ms() - t0;
    CU_ASSERT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    CU_ASSERT_TRUE(took >= 950 && took <= 2000 + harness_scaled_ms(500));
    check_put_back(h, 1);
    check_no_trace();
    spindle_handle_free(h);
}

/* Enqueues n tasks func(arg) in one bulk call (so they appear at once) into h[]. */
static int bulk(const char *func, long arg, spindle_handle **h, size_t n)
{
    msgpack_sbuffer buf;
    msgpack_sbuffer_init(&buf);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &buf, msgpack_sbuffer_write);
    msgpack_pack_array(&pk, 1);
    msgpack_pack_long(&pk, arg);
    spindle_task_spec specs[64];
    for (size_t i = 0; i < n && i < 64; i++)
        specs[i] = (spindle_task_spec){.func = func, .args = buf.data, .args_len = buf.size};
    spindle_enqueue_options o;
    spindle_enqueue_options_init(&o);
    o.queue = queue[0];
    int rc = spindle_enqueue_bulk(client, specs, n, &o, h);
    msgpack_sbuffer_destroy(&buf);
    return rc;
}

/* A stop while short tasks are claimed: the running one finishes and succeeds, the claimed
 * ones not started are handed back in their order (the next to run at the right end of
 * pending), their claim undone (attempts 0), and the worker exits without waiting for the
 * shutdown timeout. */
static void test_stop_hands_back_in_order(void)
{
    enum { WARM = 64, N = 6 };
    CU_ASSERT_EQUAL_FATAL(fleet_fresh(&client), 0);
    spindle_worker_options o;
    fleet_options(&o, queue, 1);
    o.prefetch = 8;
    o.shutdown_timeout_s = 25;
    pid_t sup = harness_worker_fork_opts(NULL, &o);
    CU_ASSERT_FATAL(sup > 0);
    /* Quick tasks first: the slot's batch grows to the prefetch of 8. */
    spindle_handle *warm[WARM] = {NULL};
    CU_ASSERT_EQUAL_FATAL(bulk("add", 1, warm, WARM), SPINDLE_OK);
    spindle_result *r = NULL;
    CU_ASSERT_EQUAL(spindle_wait(client, warm[WARM - 1], HARNESS_WAIT_MS, &r), SPINDLE_OK);
    spindle_result_free(r);
    for (int i = 0; i < WARM; i++)
        spindle_handle_free(warm[i]);
    CU_ASSERT_EQUAL(harness_wait_idle_workers(1, HARNESS_WAIT_MS), 0);

    spindle_handle *h[N] = {NULL};
    CU_ASSERT_EQUAL_FATAL(bulk("sleep_ms", 400, h, N), SPINDLE_OK);
    char id[160];
    CU_ASSERT_FATAL(fleet_wait_started(h[0], id, sizeof(id), HARNESS_WAIT_MS) > 0);
    char pending[512];
    harness_key(pending, sizeof(pending), queue[0], "pending");
    long long left = harness_int("LLEN %s", pending);
    /* At least one task besides the running one was claimed, or nothing is handed back. */
    CU_ASSERT_TRUE(left >= 0 && left <= N - 2);

    int64_t t0 = harness_ms();
    int st = -1;
    CU_ASSERT_EQUAL(harness_worker_stop(sup, 5000, &st), 0);
    int64_t took = harness_ms() - t0;
    CU_ASSERT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    CU_ASSERT_TRUE(took < 400 + harness_scaled_ms(600));
    CU_ASSERT_EQUAL(spindle_wait(client, h[0], 0, &r), SPINDLE_OK);
    CU_ASSERT_TRUE(r && spindle_result_value(r)->via.u64 == 400);
    spindle_result_free(r);

    /* The rest, in order: h[1] next (rightmost), h[N-1] last. */
    redisReply *list = harness_cmd("LRANGE %s 0 -1", pending);
    CU_ASSERT_TRUE_FATAL(list && list->type == REDIS_REPLY_ARRAY);
    CU_ASSERT_EQUAL(list->elements, N - 1);
    for (size_t i = 0; i < list->elements && i < N - 1; i++) {
        const char *want = spindle_handle_id(h[N - 1 - i]);
        CU_ASSERT_STRING_EQUAL(list->element[i]->str, want);
    }
    if (list->elements == N - 1 && strcmp(list->element[0]->str, spindle_handle_id(h[N - 1])) != 0)
        fprintf(stderr, "\n  pending order is not the enqueue order (%lld were not claimed)\n",
                left);
    freeReplyObject(list);
    for (int i = 1; i < N; i++) {
        char *state = fleet_field(h[i], "state");
        CU_ASSERT_STRING_EQUAL(state ? state : "", "pending");
        free(state);
        CU_ASSERT_EQUAL(fleet_num(h[i], "attempts", 0), 0);
    }
    check_no_trace();
    for (int i = 0; i < N; i++)
        spindle_handle_free(h[i]);
}

int register_fleet_stop_tests(void)
{
    static const test_case tests[] = {
        {"SIGTERM, --shutdown-timeout 1, 5 s task: exit in ~1 s, task pending",
         test_shutdown_timeout},
        {"second SIGTERM: exit at once, task pending", test_second_signal},
        {"thread pool: shutdown timeout puts the task back", test_thread_pool_shutdown_timeout},
        {"stop with short tasks: finished, the rest handed back in order",
         test_stop_hands_back_in_order},
        {NULL, NULL},
    };
    return add_suite("fleet: graceful and forced stop", suite_init, suite_cleanup, tests);
}
