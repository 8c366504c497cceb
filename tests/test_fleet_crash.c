/* A slot process that dies while it runs a task: killed from outside with SIGKILL, or
 * crashing by itself (abort, segfault). Its supervisor settles the task as a failed attempt
 * whose error names the signal, through the task's retry policy (failed for good and
 * dead-lettered, or run again), forgets the dead slot's heartbeat, and restarts the slot,
 * which serves the next task. Outcomes are read back with plain Redis commands. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "fleet.h"
#include "suites.h"

static spindle_client *client;
static const char *const queue[] = {"crash"};

static int suite_init(void)
{
    return harness_suite_init_client(&client);
}

static int suite_cleanup(void)
{
    return harness_suite_cleanup_client(&client);
}

static pid_t start_worker(void)
{
    return fleet_worker(queue, 1);
}

/* The slot that replaced the dead one: a heartbeat of the same supervisor with another id,
 * while the dead slot's heartbeat and index entry are gone. Then it serves a task. */
static void check_restarted(pid_t sup, const char *dead_id, pid_t dead_pid)
{
    fleet_beat b[4];
    int64_t deadline = harness_ms() + HARNESS_WAIT_MS;
    int n = 0;
    while (harness_ms() < deadline) {
        n = fleet_beats(sup, b, 4);
        if (n == 1 && strcmp(b[0].id, dead_id) != 0)
            break;
        harness_sleep_ms(10);
    }
    CU_ASSERT_EQUAL_FATAL(n, 1);
    CU_ASSERT_STRING_NOT_EQUAL(b[0].id, dead_id);
    CU_ASSERT_NOT_EQUAL(b[0].pid, (long)dead_pid);
    CU_ASSERT_NOT_EQUAL(b[0].pid, (long)sup);
    CU_ASSERT_STRING_EQUAL(b[0].pool, "process");
    CU_ASSERT_FALSE(fleet_beat_exists(dead_id));
    char key[512];
    harness_key(key, sizeof(key), NULL, "workers");
    CU_ASSERT_EQUAL(harness_int("SISMEMBER %s %s", key, dead_id), 0);
    char inflight[512], suffix[200];
    snprintf(suffix, sizeof(suffix), "inflight:%s", dead_id);
    CU_ASSERT_EQUAL(
        harness_int("EXISTS %s", harness_key(inflight, sizeof(inflight), queue[0], suffix)), 0);

    spindle_handle *h = fleet_enqueue(client, queue[0], "sleep_first", 0, -1, 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    spindle_result *r = NULL;
    CU_ASSERT_EQUAL(spindle_wait(client, h, HARNESS_WAIT_MS, &r), SPINDLE_OK);
    CU_ASSERT_TRUE(r && spindle_result_value(r)->via.u64 == 1);
    spindle_result_free(r);
    char *w = fleet_field(h, "worker");
    CU_ASSERT_STRING_EQUAL(w ? w : "", b[0].id);
    free(w);
    spindle_handle_free(h);
    CU_ASSERT_TRUE(harness_child_alive(sup));
}

/* SIGKILL to the slot running a task without retries: failed for good, error naming the
 * signal, dead-lettered; the slot is replaced. */
static void test_kill9_no_retry(void)
{
    CU_ASSERT_EQUAL_FATAL(fleet_fresh(&client), 0);
    pid_t sup = start_worker();
    CU_ASSERT_FATAL(sup > 0);
    spindle_handle *h = fleet_enqueue(client, queue[0], "sleep_first", 5000, -1, 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    char id[160];
    pid_t slot = fleet_wait_started(h, id, sizeof(id), HARNESS_WAIT_MS);
    CU_ASSERT_FATAL(slot > 0);
    CU_ASSERT_NOT_EQUAL_FATAL(slot, sup); /* a child process runs it, not the supervisor */
    CU_ASSERT_TRUE(fleet_beat_exists(id));

    int64_t t0 = harness_ms();
    CU_ASSERT_EQUAL_FATAL(harness_slot_signal(slot, SIGKILL), 0);
    CU_ASSERT_EQUAL_FATAL(fleet_wait_state(h, "failed", HARNESS_WAIT_MS), 0);
    /* Settled by the supervisor's next ticks, not by a heartbeat expiry. */
    CU_ASSERT_TRUE(harness_ms() - t0 < harness_scaled_ms(FLEET_TTL_MS));
    char *err = fleet_field(h, "error");
    CU_ASSERT_PTR_NOT_NULL(err ? strstr(err, "killed by signal SIGKILL") : NULL);
    if (err == NULL || strstr(err, "SIGKILL") == NULL)
        fprintf(stderr, "\n  error: %s\n", err ? err : "(none)");
    free(err);
    CU_ASSERT_EQUAL(fleet_num(h, "attempts", -1), 1);
    CU_ASSERT_TRUE(fleet_absent(h, "retried"));
    CU_ASSERT_TRUE(fleet_in_zset(queue[0], "dead", h));
    CU_ASSERT_EQUAL(fleet_zcard(queue[0], "scheduled"), 0);
    spindle_result *r = NULL;
    CU_ASSERT_EQUAL(spindle_wait(client, h, 0, &r), SPINDLE_ERR_TASK_FAILED);
    CU_ASSERT_PTR_NOT_NULL(r ? strstr(spindle_result_error(r), "SIGKILL") : NULL);
    spindle_result_free(r);
    spindle_handle_free(h);

    check_restarted(sup, id, slot);
}

/* The same with one retry: the task runs again on the restarted slot and succeeds there. */
static void test_kill9_retried(void)
{
    CU_ASSERT_EQUAL_FATAL(fleet_fresh(&client), 0);
    /* Enqueued before any worker serves the queue, so the back-off is set before a claim. */
    spindle_handle *h = fleet_enqueue(client, queue[0], "sleep_first", 5000, 1, 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    CU_ASSERT_EQUAL(fleet_set_backoff(h, 100, 100), 0);
    pid_t sup = start_worker();
    CU_ASSERT_FATAL(sup > 0);
    char id[160];
    pid_t slot = fleet_wait_started(h, id, sizeof(id), HARNESS_WAIT_MS);
    CU_ASSERT_FATAL(slot > 0 && slot != sup);
    CU_ASSERT_EQUAL_FATAL(harness_slot_signal(slot, SIGKILL), 0);

    /* Between the two attempts: scheduled, with the first attempt's error. */
    CU_ASSERT_EQUAL(fleet_wait_state(h, "scheduled", HARNESS_WAIT_MS), 0);
    spindle_result *r = NULL;
    CU_ASSERT_EQUAL(spindle_wait(client, h, HARNESS_WAIT_MS, &r), SPINDLE_OK);
    CU_ASSERT_TRUE(r && spindle_result_value(r)->via.u64 == 2); /* the second attempt's */
    CU_ASSERT_PTR_NULL(r ? spindle_result_error(r) : NULL);
    spindle_result_free(r);
    CU_ASSERT_EQUAL(fleet_num(h, "attempts", -1), 2);
    CU_ASSERT_EQUAL(fleet_num(h, "retried", -1), 1);
    /* Succeeded: neither the first attempt's error nor a retry time is left behind. */
    CU_ASSERT_TRUE(fleet_absent(h, "error"));
    CU_ASSERT_TRUE(fleet_absent(h, "retry_at"));
    char *w = fleet_field(h, "worker");
    CU_ASSERT_STRING_NOT_EQUAL(w ? w : id, id);
    CU_ASSERT_NOT_EQUAL(harness_worker_id_pid(w ? w : ""), slot);
    free(w);
    CU_ASSERT_FALSE(fleet_in_zset(queue[0], "dead", h));
    CU_ASSERT_EQUAL(fleet_zcard(queue[0], "scheduled"), 0);
    spindle_handle_free(h);

    check_restarted(sup, id, slot);
}

/* Tasks that crash their own process: the error names the signal. */
static void test_crash_signal_names(void)
{
    CU_ASSERT_EQUAL_FATAL(fleet_fresh(&client), 0);
    pid_t sup = start_worker();
    CU_ASSERT_FATAL(sup > 0);
    static const struct {
        const char *func, *sig;
    } crashes[] = {{"abort", "SIGABRT"}, {"segfault", "SIGSEGV"}};
    for (size_t i = 0; i < 2; i++) {
        spindle_handle *h = fleet_enqueue(client, queue[0], crashes[i].func, -1, -1, 0);
        CU_ASSERT_PTR_NOT_NULL_FATAL(h);
        spindle_result *r = NULL;
        CU_ASSERT_EQUAL(spindle_wait(client, h, HARNESS_WAIT_MS, &r), SPINDLE_ERR_TASK_FAILED);
        const char *err = r ? spindle_result_error(r) : NULL;
        char expect[64];
        snprintf(expect, sizeof(expect), "killed by signal %s", crashes[i].sig);
        CU_ASSERT_PTR_NOT_NULL(err ? strstr(err, expect) : NULL);
        CU_ASSERT_PTR_NOT_NULL(err ? strstr(err, "while running the task") : NULL);
        if (err == NULL || strstr(err, expect) == NULL)
            fprintf(stderr, "\n  %s: error %s\n", crashes[i].func, err ? err : "(none)");
        spindle_result_free(r);
        CU_ASSERT_EQUAL(fleet_num(h, "attempts", -1), 1);
        CU_ASSERT_TRUE(fleet_in_zset(queue[0], "dead", h));
        spindle_handle_free(h);
    }
    CU_ASSERT_TRUE(harness_child_alive(sup));
    CU_ASSERT_EQUAL(fleet_wait_beats(sup, 1, HARNESS_WAIT_MS), 0);
}

/* A crashing task with retries=2 runs three times (each on a fresh slot), then is
 * dead-lettered with the last crash as its error. */
static void test_crash_retries_exhausted(void)
{
    CU_ASSERT_EQUAL_FATAL(fleet_fresh(&client), 0);
    spindle_handle *h = fleet_enqueue(client, queue[0], "abort", -1, 2, 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    CU_ASSERT_EQUAL(fleet_set_backoff(h, 50, 100), 0);
    pid_t sup = start_worker();
    CU_ASSERT_FATAL(sup > 0);
    spindle_result *r = NULL;
    CU_ASSERT_EQUAL(spindle_wait(client, h, HARNESS_WAIT_MS, &r), SPINDLE_ERR_TASK_FAILED);
    CU_ASSERT_PTR_NOT_NULL(r ? strstr(spindle_result_error(r), "SIGABRT") : NULL);
    spindle_result_free(r);
    CU_ASSERT_EQUAL(fleet_num(h, "attempts", -1), 3);
    CU_ASSERT_EQUAL(fleet_num(h, "retried", -1), 2);
    CU_ASSERT_TRUE(fleet_in_zset(queue[0], "dead", h));
    CU_ASSERT_EQUAL(fleet_zcard(queue[0], "scheduled"), 0);
    CU_ASSERT_TRUE(fleet_absent(h, "retry_at"));
    spindle_handle_free(h);
    /* Three slots died; the supervisor lives on with a fresh one. */
    char *log = harness_worker_log(sup);
    CU_ASSERT_EQUAL(fleet_count(log, "ended: worker process killed by signal SIGABRT"), 3);
    free(log);
    CU_ASSERT_TRUE(harness_child_alive(sup));
    CU_ASSERT_EQUAL(fleet_wait_beats(sup, 1, HARNESS_WAIT_MS), 0);
}

int register_fleet_crash_tests(void)
{
    static const test_case tests[] = {
        {"kill -9 of a slot mid-task, retries 0: failed, SIGKILL, restarted", test_kill9_no_retry},
        {"kill -9 of a slot mid-task, retries 1: rerun succeeds", test_kill9_retried},
        {"abort / segfault: failed with SIGABRT / SIGSEGV", test_crash_signal_names},
        {"crash with retries 2: 3 attempts, dead-lettered", test_crash_retries_exhausted},
        {NULL, NULL},
    };
    return add_suite("fleet: slot crashes", suite_init, suite_cleanup, tests);
}
