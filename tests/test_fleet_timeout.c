/* Hard timeouts. In a process pool the supervisor kills the slot whose task ran past its
 * `timeout` (or the worker's default timeout) and fails the task with "timed out after N s";
 * the slot is replaced. In a thread pool the thread cannot be killed: the supervisor fails
 * the task in Redis while the function still runs, and the thread's late result is refused.
 * Durations are checked against the task hash's own started_at and finished_at. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "fleet.h"
#include "suites.h"

static spindle_client *client;
static const char *const queue[] = {"timeouts"};

static int suite_init(void)
{
    return harness_suite_init_client(&client);
}

static int suite_cleanup(void)
{
    return harness_suite_cleanup_client(&client);
}

/* finished_at - started_at of a settled task (ms), -1 if either is missing. */
static long long ran_ms(const spindle_handle *h)
{
    long long s = fleet_num(h, "started_at", -1), f = fleet_num(h, "finished_at", -1);
    return s < 0 || f < 0 ? -1 : f - s;
}

/* The task failed with an error starting with prefix, after running limit_ms (plus the
 * supervisor's 50 ms tick and some slack). */
static void check_timed_out(const spindle_handle *h, const char *prefix, long limit_ms)
{
    char *err = fleet_field(h, "error");
    CU_ASSERT_TRUE(err && strncmp(err, prefix, strlen(prefix)) == 0);
    if (err == NULL || strncmp(err, prefix, strlen(prefix)) != 0)
        fprintf(stderr, "\n  error: %s\n", err ? err : "(none)");
    free(err);
    long long ran = ran_ms(h);
    CU_ASSERT_TRUE(ran >= limit_ms);
    CU_ASSERT_TRUE(ran <= limit_ms + harness_scaled_ms(500));
    if (ran < limit_ms || ran > limit_ms + harness_scaled_ms(500))
        fprintf(stderr, "\n  ran %lld ms for a %ld ms timeout\n", ran, limit_ms);
    CU_ASSERT_EQUAL(fleet_num(h, "attempts", -1), 1);
    CU_ASSERT_TRUE(fleet_in_zset(queue[0], "dead", h));
    CU_ASSERT_TRUE(fleet_absent(h, "result"));
}

/* Process pool, per-task timeout: the slot is killed at 1 s and replaced; a task within its
 * timeout succeeds on the new slot. */
static void test_process_timeout(void)
{
    CU_ASSERT_EQUAL_FATAL(fleet_fresh(&client), 0);
    spindle_worker_options o;
    fleet_options(&o, queue, 1);
    pid_t sup = harness_worker_fork_opts(NULL, &o);
    CU_ASSERT_FATAL(sup > 0);
    spindle_handle *h = fleet_enqueue(client, queue[0], "sleep_ms", 5000, -1, 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    char id[160];
    pid_t slot = fleet_wait_running(h, id, sizeof(id), HARNESS_WAIT_MS);
    CU_ASSERT_FATAL(slot > 0 && slot != sup);
    CU_ASSERT_EQUAL_FATAL(fleet_wait_state(h, "failed", HARNESS_WAIT_MS), 0);
    check_timed_out(h, "timed out after 1 s (its process was killed)", 1000);
    CU_ASSERT_FALSE(harness_pid_running(slot));
    spindle_handle_free(h);

    h = fleet_enqueue(client, queue[0], "sleep_ms", 100, -1, 1);
    spindle_result *r = NULL;
    CU_ASSERT_EQUAL(h ? spindle_wait(client, h, HARNESS_WAIT_MS, &r) : -1, SPINDLE_OK);
    spindle_result_free(r);
    char *w = fleet_field(h, "worker");
    CU_ASSERT_STRING_NOT_EQUAL(w ? w : id, id);
    free(w);
    spindle_handle_free(h);
    CU_ASSERT_TRUE(harness_child_alive(sup));
}

/* The binary's --default-timeout applies to tasks enqueued without a timeout; a task's own
 * timeout wins over it. Two slots run both at once. */
static void test_default_timeout(void)
{
    CU_ASSERT_EQUAL_FATAL(fleet_fresh(&client), 0);
    static const char *const args[] = {"--default-timeout",
                                       "1",
                                       "--concurrency",
                                       "2",
                                       "--heartbeat-interval",
                                       "0.2",
                                       "--heartbeat-ttl",
                                       "0.6",
                                       NULL};
    pid_t sup = harness_worker_exec_args(queue[0], args);
    CU_ASSERT_FATAL(sup > 0);
    spindle_handle *own = fleet_enqueue(client, queue[0], "sleep_ms", 5000, -1, 2);
    spindle_handle *dflt = fleet_enqueue(client, queue[0], "sleep_ms", 5000, -1, 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(own);
    CU_ASSERT_PTR_NOT_NULL_FATAL(dflt);
    CU_ASSERT_EQUAL_FATAL(fleet_wait_state(dflt, "failed", HARNESS_WAIT_MS), 0);
    check_timed_out(dflt, "timed out after 1 s (its process was killed)", 1000);
    /* Still running: its own 2 s apply. */
    char *state = fleet_field(own, "state");
    CU_ASSERT_STRING_EQUAL(state ? state : "", "running");
    free(state);
    CU_ASSERT_EQUAL_FATAL(fleet_wait_state(own, "failed", HARNESS_WAIT_MS), 0);
    check_timed_out(own, "timed out after 2 s (its process was killed)", 2000);
    spindle_handle_free(own);
    spindle_handle_free(dflt);
}

/* Thread pool: the task is failed at its timeout while the function sleeps on; when the
 * function returns, its result is refused and the task stays as it was failed. The thread
 * was not killed: it serves the next task under the same worker id. */
static void test_thread_timeout(void)
{
    CU_ASSERT_EQUAL_FATAL(fleet_fresh(&client), 0);
    spindle_worker_options o;
    fleet_options(&o, queue, 1);
    o.pool = SPINDLE_POOL_THREAD;
    pid_t sup = harness_worker_fork_opts(NULL, &o);
    CU_ASSERT_FATAL(sup > 0);
    const long sleep_ms = 2500;
    spindle_handle *h = fleet_enqueue(client, queue[0], "sleep_first", sleep_ms, -1, 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    char id[160];
    pid_t pid = fleet_wait_running(h, id, sizeof(id), HARNESS_WAIT_MS);
    CU_ASSERT_EQUAL(pid, sup); /* a thread of the supervisor's process */
    int64_t t0 = harness_ms();
    CU_ASSERT_EQUAL_FATAL(fleet_wait_state(h, "failed", HARNESS_WAIT_MS), 0);
    CU_ASSERT_TRUE(harness_ms() - t0 < sleep_ms - 500); /* the function is still running */
    check_timed_out(h, "timed out after 1 s (a thread pool cannot stop the function", 1000);
    char *err = fleet_field(h, "error");
    long long finished = fleet_num(h, "finished_at", -1);

    /* The function returns 1 at 2.5 s: refused. */
    int refused = 0;
    for (int64_t end = harness_ms() + HARNESS_WAIT_MS; !refused && harness_ms() < end;) {
        char *log = harness_worker_log(sup);
        refused = fleet_count(log, "settlement refused: attempt 1 no longer owns the task");
        free(log);
        if (!refused)
            harness_sleep_ms(20);
    }
    CU_ASSERT_EQUAL(refused, 1);
    char *state = fleet_field(h, "state"), *err2 = fleet_field(h, "error");
    CU_ASSERT_STRING_EQUAL(state ? state : "", "failed");
    CU_ASSERT_STRING_EQUAL(err2 ? err2 : "", err ? err : "?");
    CU_ASSERT_EQUAL(fleet_num(h, "finished_at", -1), finished);
    CU_ASSERT_TRUE(fleet_absent(h, "result"));
    free(state);
    free(err);
    free(err2);
    spindle_handle_free(h);

    h = fleet_enqueue(client, queue[0], "sleep_first", 0, -1, 1);
    spindle_result *r = NULL;
    CU_ASSERT_EQUAL(h ? spindle_wait(client, h, HARNESS_WAIT_MS, &r) : -1, SPINDLE_OK);
    spindle_result_free(r);
    char *w = fleet_field(h, "worker");
    CU_ASSERT_STRING_EQUAL(w ? w : "", id);
    free(w);
    spindle_handle_free(h);
}

int register_fleet_timeout_tests(void)
{
    static const test_case tests[] = {
        {"process pool: task past its timeout is killed", test_process_timeout},
        {"--default-timeout applies; a task's own timeout wins", test_default_timeout},
        {"thread pool: timed out while running, late result refused", test_thread_timeout},
        {NULL, NULL},
    };
    return add_suite("fleet: hard timeouts", suite_init, suite_cleanup, tests);
}
