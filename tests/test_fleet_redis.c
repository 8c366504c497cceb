/* Redis restarted under a running worker (the harness's server stopped by PID and started
 * again on the same port or socket). The worker does not crash or exit: its slot and its
 * supervisor each log the outage once and its end once, reconnect with back-off, and serve
 * again. With the data kept (SAVE before the stop), a task that finished during the outage is
 * settled once Redis is back, exactly once; without it (an empty Redis), the worker writes its
 * heartbeat and registrations again and serves tasks enqueued after the restart, and the
 * liveness probe sees it. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "fleet.h"
#include "suites.h"

static spindle_client *client;
static const char *const queue[] = {"outage"};

/* How long Redis stays down: longer than the heartbeat TTL, so that every heartbeat has
 * expired when it comes back. LONG_DOWN_MS also outlasts five rounds of a slot's back-off
 * (100 ms doubling: attempts 0.1, 0.3, 0.7, 1.5, 3.1 and 6.3 s after the first failure, which
 * comes about 0.5 s into the outage below), so that the slot's next attempt comes well over a
 * heartbeat TTL after Redis is back. */
#define DOWN_MS 1500
#define LONG_DOWN_MS 5000

static int suite_init(void)
{
    return harness_suite_init_client(&client);
}

static int suite_cleanup(void)
{
    return harness_suite_cleanup_client(&client);
}

/* The outage as the worker's log tells it: once each, from the slot and the supervisor. */
static void check_log(pid_t sup)
{
    char *log = harness_worker_log(sup);
    int slot_down = fleet_count(log, "retrying with back-off");
    int sup_down = fleet_count(log, "; will retry");
    int back = fleet_count(log, " is back");
    CU_ASSERT_EQUAL(slot_down, 1);
    CU_ASSERT_EQUAL(sup_down, 1);
    CU_ASSERT_EQUAL(back, 2);
    if (slot_down != 1 || sup_down != 1 || back != 2)
        fprintf(stderr, "\n  outage logged %d + %d times, its end %d times; log:\n%s\n", slot_down,
                sup_down, back, log ? log : "");
    free(log);
}

static int run_check(void)
{
    char bin[512];
    snprintf(bin, sizeof(bin), "%s/bin/spindle-worker", harness_build());
    const char *argv[] = {bin,           "--check",    "--redis", harness_url(),
                          "--namespace", harness_ns(), NULL};
    harness_output out;
    if (harness_run((char *const *)argv, HARNESS_WAIT_MS, &out) != 0)
        return -1;
    int code = out.code;
    harness_output_free(&out);
    return code;
}

/* Data kept: a task that was running when Redis went away finishes during the outage; its
 * settlement waits for Redis and lands once, with no rerun (the supervisor neither sweeps
 * its own slot the moment Redis is back nor stops beating for it while it backs off); a task
 * enqueued after the restart runs on the same slot. */
static void test_restart_keeping_data(void)
{
    CU_ASSERT_EQUAL_FATAL(fleet_fresh(&client), 0);
    pid_t sup = fleet_worker(queue, 1);
    CU_ASSERT_FATAL(sup > 0);
    spindle_handle *h = fleet_enqueue(client, queue[0], "sleep_ms", 500, -1, 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    char id[160];
    pid_t slot = fleet_wait_started(h, id, sizeof(id), HARNESS_WAIT_MS);
    CU_ASSERT_FATAL(slot > 0);

    CU_ASSERT_EQUAL_FATAL(harness_redis_stop(1), 0);
    harness_sleep_ms(LONG_DOWN_MS);
    CU_ASSERT_TRUE(harness_child_alive(sup));
    CU_ASSERT_TRUE(harness_pid_running(slot));
    CU_ASSERT_EQUAL_FATAL(harness_redis_restart(), 0);
    /* The test's own client was cut off too. */
    CU_ASSERT_EQUAL(spindle_client_reconnect(client), SPINDLE_OK);

    spindle_result *r = NULL;
    CU_ASSERT_EQUAL(spindle_wait(client, h, HARNESS_WAIT_MS, &r), SPINDLE_OK);
    spindle_result_free(r);
    CU_ASSERT_EQUAL(fleet_num(h, "attempts", -1), 1);
    CU_ASSERT_TRUE(fleet_absent(h, "lost"));
    spindle_handle_free(h);

    h = fleet_enqueue(client, queue[0], "sleep_ms", 1, -1, 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    CU_ASSERT_EQUAL(spindle_wait(client, h, HARNESS_WAIT_MS, &r), SPINDLE_OK);
    spindle_result_free(r);
    char *w = fleet_field(h, "worker");
    CU_ASSERT_STRING_EQUAL(w ? w : "", id); /* the same slot: it was not restarted */
    free(w);
    spindle_handle_free(h);
    CU_ASSERT_TRUE(harness_child_alive(sup));
    check_log(sup);
}

/* An empty Redis after the restart: the worker serves new tasks, writes its heartbeat again
 * and counts as alive for --check. */
static void test_restart_losing_data(void)
{
    CU_ASSERT_EQUAL_FATAL(fleet_fresh(&client), 0);
    pid_t sup = fleet_worker(queue, 1);
    CU_ASSERT_FATAL(sup > 0);
    CU_ASSERT_EQUAL_FATAL(fleet_wait_beats(sup, 1, HARNESS_WAIT_MS), 0);
    CU_ASSERT_EQUAL(run_check(), 0);

    char marker[512];
    harness_key(marker, sizeof(marker), NULL, "test-marker");
    freeReplyObject(harness_cmd("SET %s 1", marker));
    CU_ASSERT_EQUAL_FATAL(harness_redis_stop(0), 0);
    harness_sleep_ms(DOWN_MS);
    CU_ASSERT_NOT_EQUAL(run_check(), 0); /* Redis unreachable */
    CU_ASSERT_TRUE(harness_child_alive(sup));
    CU_ASSERT_EQUAL_FATAL(harness_redis_restart(), 0);
    /* The test's own client was cut off too. */
    CU_ASSERT_EQUAL(spindle_client_reconnect(client), SPINDLE_OK);
    CU_ASSERT_EQUAL(harness_int("EXISTS %s", marker), 0); /* the data is gone */

    spindle_handle *h = fleet_enqueue(client, queue[0], "sleep_ms", 1, -1, 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    spindle_result *r = NULL;
    CU_ASSERT_EQUAL(spindle_wait(client, h, HARNESS_WAIT_MS, &r), SPINDLE_OK);
    spindle_result_free(r);
    spindle_handle_free(h);
    CU_ASSERT_EQUAL(fleet_wait_beats(sup, 1, HARNESS_WAIT_MS), 0);
    /* Registered again: listed as a worker, and alive to the probe. */
    fleet_beat b;
    CU_ASSERT_EQUAL_FATAL(fleet_beats(sup, &b, 1), 1);
    char key[512];
    int64_t deadline = harness_ms() + HARNESS_WAIT_MS;
    while (harness_int("SISMEMBER %s %s", harness_key(key, sizeof(key), NULL, "workers"), b.id) !=
               1 &&
           harness_ms() < deadline)
        harness_sleep_ms(20);
    CU_ASSERT_EQUAL(harness_int("SISMEMBER %s %s", key, b.id), 1);
    CU_ASSERT_EQUAL(run_check(), 0);
    CU_ASSERT_TRUE(harness_child_alive(sup));
    check_log(sup);
}

int register_fleet_redis_tests(void)
{
    static const test_case tests[] = {
        {"Redis restarted, data kept: settled once after, same slot serves",
         test_restart_keeping_data},
        {"Redis restarted empty: serves, beats, --check passes", test_restart_losing_data},
        {NULL, NULL},
    };
    return add_suite("fleet: Redis restart", suite_init, suite_cleanup, tests);
}
