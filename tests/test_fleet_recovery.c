/* Recovery of a worker that vanished, and fencing of one that comes back.
 *
 * A supervisor killed with SIGKILL takes its slot with it (PR_SET_PDEATHSIG); nobody settles
 * the task the slot ran, so it stays `running` until another worker's sweep sees the slot's
 * heartbeat expire and puts it back on pending (`lost` + 1), where it runs again. A worker
 * that only stopped beating (SIGSTOP to its supervisor and slot) is recovered the same way;
 * when it resumes and settles its old attempt, the settle script refuses it, because the
 * task's attempt number (the fencing token) and worker id now belong to the new attempt.
 * Every outcome is read back with plain Redis commands. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <CUnit/CUnit.h>

#include "fleet.h"
#include "suites.h"

static spindle_client *client;
static const char *const queue[] = {"recover"};

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

/* The id of the one slot of supervisor sup, once its heartbeat is there; "" if not. */
static void slot_id(pid_t sup, char *id, size_t cap)
{
    fleet_beat b[2];
    id[0] = '\0';
    if (fleet_wait_beats(sup, 1, HARNESS_WAIT_MS) == 0 && fleet_beats(sup, b, 2) == 1)
        snprintf(id, cap, "%s", b[0].id);
}

/* Waits until pid has ended: 0 if within timeout_ms. */
static int wait_gone(pid_t pid, long timeout_ms)
{
    int64_t deadline = harness_ms() + timeout_ms;
    while (harness_pid_running(pid)) {
        if (harness_ms() >= deadline)
            return -1;
        harness_sleep_ms(5);
    }
    return 0;
}

/* What the sweep leaves of a lost worker: no heartbeat, no index entries, no in-flight list. */
static void check_forgotten(const char *id)
{
    char key[512], suffix[200];
    CU_ASSERT_FALSE(fleet_beat_exists(id));
    CU_ASSERT_EQUAL(
        harness_int("SISMEMBER %s %s", harness_key(key, sizeof(key), NULL, "workers"), id), 0);
    CU_ASSERT_EQUAL(
        harness_int("SISMEMBER %s %s", harness_key(key, sizeof(key), queue[0], "workers"), id), 0);
    snprintf(suffix, sizeof(suffix), "inflight:%s", id);
    CU_ASSERT_EQUAL(harness_int("EXISTS %s", harness_key(key, sizeof(key), queue[0], suffix)), 0);
}

/* The task ran again on new_id and succeeded there, once lost: result 2 (the second
 * attempt's), read through the API and as raw msgpack in the hash. */
static void check_rerun_by(const spindle_handle *h, const char *new_id)
{
    spindle_result *r = NULL;
    CU_ASSERT_EQUAL(spindle_wait(client, h, 0, &r), SPINDLE_OK);
    CU_ASSERT_TRUE(r && spindle_result_value(r)->via.u64 == 2);
    spindle_result_free(r);
    char key[512];
    redisReply *hash = harness_cmd("HGETALL %s", harness_task_key(key, sizeof(key), h));
    CU_ASSERT_PTR_NOT_NULL_FATAL(hash);
    const redisReply *v = harness_field(hash, "state");
    CU_ASSERT_STRING_EQUAL(v ? v->str : "", "succeeded");
    v = harness_field(hash, "worker");
    CU_ASSERT_STRING_EQUAL(v ? v->str : "", new_id);
    v = harness_field(hash, "attempts");
    CU_ASSERT_STRING_EQUAL(v ? v->str : "", "2");
    v = harness_field(hash, "lost");
    CU_ASSERT_STRING_EQUAL(v ? v->str : "", "1");
    v = harness_field(hash, "result"); /* msgpack positive fixint 2 */
    CU_ASSERT_TRUE(v && v->type == REDIS_REPLY_STRING && v->len == 1 && v->str[0] == 0x02);
    CU_ASSERT_PTR_NULL(harness_field(hash, "error"));
    freeReplyObject(hash);
    char pending[512];
    CU_ASSERT_EQUAL(
        harness_int("LLEN %s", harness_key(pending, sizeof(pending), queue[0], "pending")), 0);
}

/* kill -9 of the supervisor while its slot runs a task, with a second worker already
 * running: the slot dies with it, and the second worker recovers and reruns the task once
 * the slot's heartbeat has expired: not before, and within TTL + sweep interval. */
static void test_supervisor_killed(void)
{
    CU_ASSERT_EQUAL_FATAL(fleet_fresh(&client), 0);
    pid_t w1 = start_worker();
    CU_ASSERT_FATAL(w1 > 0);
    spindle_handle *h = fleet_enqueue(client, queue[0], "sleep_first", 60000, -1, 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    char id1[160], id2[160];
    pid_t slot1 = fleet_wait_started(h, id1, sizeof(id1), HARNESS_WAIT_MS);
    CU_ASSERT_FATAL(slot1 > 0 && slot1 != w1);
    pid_t w2 = start_worker();
    CU_ASSERT_FATAL(w2 > 0);
    slot_id(w2, id2, sizeof(id2));
    CU_ASSERT_FATAL(id2[0] != '\0');

    int64_t t0 = harness_ms();
    CU_ASSERT_EQUAL_FATAL(harness_worker_signal(w1, SIGKILL), 0);
    int st = 0;
    harness_worker_stop(w1, 1000, &st);
    CU_ASSERT_TRUE(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
    CU_ASSERT_EQUAL(wait_gone(slot1, 2000), 0); /* died with its supervisor */

    long bound = harness_scaled_ms(FLEET_TTL_MS + FLEET_SWEEP_MS) + 1000;
    CU_ASSERT_EQUAL_FATAL(fleet_wait_state(h, "succeeded", bound + HARNESS_WAIT_MS), 0);
    int64_t took = harness_ms() - t0;
    /* The slot's last beat was at most one interval (and a 50 ms tick) before the kill. */
    CU_ASSERT_TRUE(took >= harness_scaled_ms(FLEET_TTL_MS - FLEET_BEAT_MS) - 100);
    CU_ASSERT_TRUE(took <= bound);
    if (took > bound)
        fprintf(stderr, "\n  recovered after %lld ms (bound %ld ms)\n", (long long)took, bound);
    check_rerun_by(h, id2);
    check_forgotten(id1);
    char *log = harness_worker_log(w2);
    CU_ASSERT_EQUAL(fleet_count(log, "recovered 1 lost worker(s): 1 task(s) back on pending"), 1);
    free(log);
    spindle_handle_free(h);
}

/* Nobody is left to recover the task: it stays running, held in the dead slot's in-flight
 * list, after the heartbeat expired. A worker started later sweeps at once and reruns it. */
static void test_recovered_by_later_worker(void)
{
    CU_ASSERT_EQUAL_FATAL(fleet_fresh(&client), 0);
    pid_t w1 = start_worker();
    CU_ASSERT_FATAL(w1 > 0);
    spindle_handle *h = fleet_enqueue(client, queue[0], "sleep_first", 60000, -1, 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    char id1[160], id2[160];
    pid_t slot1 = fleet_wait_started(h, id1, sizeof(id1), HARNESS_WAIT_MS);
    CU_ASSERT_FATAL(slot1 > 0);
    CU_ASSERT_EQUAL_FATAL(harness_worker_signal(w1, SIGKILL), 0);
    harness_worker_stop(w1, 1000, NULL);
    CU_ASSERT_EQUAL(wait_gone(slot1, 2000), 0);

    /* Past the TTL: the heartbeat is gone, the task is not. */
    harness_sleep_ms(harness_scaled_ms(FLEET_TTL_MS) + 200);
    CU_ASSERT_FALSE(fleet_beat_exists(id1));
    char *state = fleet_field(h, "state");
    CU_ASSERT_STRING_EQUAL(state ? state : "", "running");
    free(state);
    char key[512], suffix[200];
    snprintf(suffix, sizeof(suffix), "inflight:%s", id1);
    CU_ASSERT_EQUAL(harness_int("LLEN %s", harness_key(key, sizeof(key), queue[0], suffix)), 1);

    int64_t t0 = harness_ms();
    pid_t w2 = start_worker();
    CU_ASSERT_FATAL(w2 > 0);
    CU_ASSERT_EQUAL_FATAL(fleet_wait_state(h, "succeeded", HARNESS_WAIT_MS), 0);
    /* The start-up sweep, not a later one: well within a second of the start. */
    CU_ASSERT_TRUE(harness_ms() - t0 < harness_scaled_ms(1000));
    slot_id(w2, id2, sizeof(id2));
    check_rerun_by(h, id2);
    check_forgotten(id1);
    spindle_handle_free(h);
}

/* Waits until the log of worker pid shows text: 1 if within timeout_ms. */
static int wait_log(pid_t pid, const char *text, long timeout_ms)
{
    int64_t deadline = harness_ms() + timeout_ms;
    for (;;) {
        char *log = harness_worker_log(pid);
        int seen = fleet_count(log, text) > 0;
        free(log);
        if (seen)
            return 1;
        if (harness_ms() >= deadline)
            return 0;
        harness_sleep_ms(20);
    }
}

/* A worker that stops beating (supervisor and slot stopped with SIGSTOP) is presumed dead:
 * a second worker takes its task back and runs it again. The first is resumed while the
 * second attempt still runs, so its late settlement of attempt 1 finds the task `running`,
 * as it left it, but under attempt 2 and another worker id: refused by the fencing token,
 * not merely because the task already ended. Then attempt 2 completes: worker, attempts and
 * result are the new attempt's. */
static void test_fencing_after_sigstop(void)
{
    CU_ASSERT_EQUAL_FATAL(fleet_fresh(&client), 0);
    pid_t w1 = start_worker();
    CU_ASSERT_FATAL(w1 > 0);
    /* Attempt 1 sleeps 1.5 s: stopped within its first 0.1 s, recovered after about 0.8 s,
     * it wakes up and settles at 1.5 s, while attempt 2 (started at about 0.8 s, 2 s long)
     * is running. */
    const long first_ms = harness_scaled_ms(1500), second_ms = harness_scaled_ms(2000);
    const long args[] = {first_ms, second_ms};
    spindle_handle *h = fleet_enqueue_args(client, queue[0], "sleep_first", args, 2, -1, 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    char id1[160], id2[160];
    pid_t slot1 = fleet_wait_started(h, id1, sizeof(id1), HARNESS_WAIT_MS);
    CU_ASSERT_FATAL(slot1 > 0 && slot1 != w1);
    pid_t w2 = start_worker();
    CU_ASSERT_FATAL(w2 > 0);
    slot_id(w2, id2, sizeof(id2));
    CU_ASSERT_FATAL(id2[0] != '\0');

    CU_ASSERT_EQUAL_FATAL(harness_worker_signal(w1, SIGSTOP), 0);
    CU_ASSERT_EQUAL_FATAL(harness_slot_signal(slot1, SIGSTOP), 0);
    int64_t t0 = harness_ms();
    long bound = harness_scaled_ms(FLEET_TTL_MS + FLEET_SWEEP_MS) + 1000;
    /* Recovered and claimed again: running, under attempt 2 of the second worker. */
    char key[512], running_on[160] = "";
    harness_task_key(key, sizeof(key), h);
    int rerun = harness_wait_hfield(key, "attempts", "2", bound) == 0 &&
                fleet_wait_running(h, running_on, sizeof(running_on), 0) > 0;
    int64_t took = harness_ms() - t0;
    /* Resume whatever happened, so that a failure does not leave stopped processes behind. */
    harness_slot_signal(slot1, SIGCONT);
    harness_worker_signal(w1, SIGCONT);
    CU_ASSERT_FATAL(rerun);
    CU_ASSERT_STRING_EQUAL(running_on, id2);
    CU_ASSERT_EQUAL(fleet_num(h, "lost", -1), 1);
    CU_ASSERT_TRUE(took >= harness_scaled_ms(FLEET_TTL_MS - FLEET_BEAT_MS) - 100);
    CU_ASSERT_TRUE(took <= bound);

    /* Attempt 1 wakes up and settles: refused, and the task is untouched. */
    CU_ASSERT_TRUE(
        wait_log(w1, "settlement refused: attempt 1 no longer owns the task", HARNESS_WAIT_MS));
    char *state = fleet_field(h, "state"), *worker = fleet_field(h, "worker");
    CU_ASSERT_STRING_EQUAL(state ? state : "", "running");
    CU_ASSERT_STRING_EQUAL(worker ? worker : "", id2);
    free(state);
    free(worker);
    CU_ASSERT_EQUAL(fleet_num(h, "attempts", -1), 2);
    CU_ASSERT_TRUE(fleet_absent(h, "result"));
    CU_ASSERT_TRUE(fleet_absent(h, "finished_at"));

    /* Attempt 2 completes. */
    CU_ASSERT_EQUAL_FATAL(fleet_wait_state(h, "succeeded", second_ms + HARNESS_WAIT_MS), 0);
    check_rerun_by(h, id2);
    /* The resumed worker is alive, beats again and is listed again (the sweep pruned it). */
    CU_ASSERT_TRUE(harness_child_alive(w1));
    CU_ASSERT_TRUE(harness_pid_running(slot1));
    char all[512];
    harness_key(all, sizeof(all), NULL, "workers");
    int64_t deadline = harness_ms() + HARNESS_WAIT_MS;
    while (harness_int("SISMEMBER %s %s", all, id1) != 1 && harness_ms() < deadline)
        harness_sleep_ms(10);
    CU_ASSERT_TRUE(fleet_beat_exists(id1));
    CU_ASSERT_EQUAL(harness_int("SISMEMBER %s %s", all, id1), 1);
    spindle_handle_free(h);
}

int register_fleet_recovery_tests(void)
{
    static const test_case tests[] = {
        {"kill -9 of the supervisor: a running worker recovers the task", test_supervisor_killed},
        {"kill -9 of the supervisor: a worker started later recovers the task",
         test_recovered_by_later_worker},
        {"SIGSTOP: task recovered, late settlement refused (fencing)", test_fencing_after_sigstop},
        {NULL, NULL},
    };
    return add_suite("fleet: lost workers and fencing", suite_init, suite_cleanup, tests);
}
