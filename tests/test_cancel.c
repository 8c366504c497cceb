/* Cancellation (docs/PROTOCOL.md, "Cancellation"), end to end with forked workers.
 *
 * A pending or scheduled task ends `cancelled` at once and never runs (the fixture functions
 * leave a marker file when they start). A running task is marked: the fixture's sleep_ms,
 * which checks spindle_task_cancelled() every 10 ms, stops within 100 ms of the request
 * (measured on Redis's clock, from the `cancel` field to `finished_at`); sleep_first, which
 * ignores it, is killed after the grace (process pool) or ended in Redis with its late result
 * refused (thread pool). Whatever spindle_cancel() reports is how the task ends, even when it
 * races the task's completion. A claimed but unstarted task never runs; a waiter is told
 * "cancelled"; a task whose worker is lost ends `cancelled`; `spindle cancel` says what it
 * did. The shared-memory parts (the ring of cancelled tasks, the slot's cancel lock) and the
 * channel's message format are tested without a server first. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CUnit/CUnit.h>

#include "fleet.h"
#include "spindle/progress.h"
#include "store/cancel_sub.h"
#include "cli_run.h"
#include "suites.h"
#include "worker/cancel_ring.h"
#include "worker/slot_state.h"

static spindle_client *client;
static const char *const queue[] = {"cancels"};

static int suite_init(void)
{
    return harness_suite_init_client(&client);
}

static int suite_cleanup(void)
{
    return harness_suite_cleanup_client(&client);
}

/* 1 if the fixture function of h ever started (its marker file exists). */
static int started(const spindle_handle *h)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/started-%s", harness_dir(), spindle_handle_id(h));
    return access(path, F_OK) == 0;
}

/* The task's error starts with prefix (printed when not). */
static void check_error(const spindle_handle *h, const char *prefix)
{
    char *err = fleet_field(h, "error");
    int ok = err && strncmp(err, prefix, strlen(prefix)) == 0;
    CU_ASSERT_TRUE(ok);
    if (!ok)
        fprintf(stderr, "\n  error: '%s', expected '%s...'\n", err ? err : "(none)", prefix);
    free(err);
}

/* finished_at - cancel of a task (Redis's clock, ms); -1 if either is missing. */
static long long cancel_to_end_ms(const spindle_handle *h)
{
    long long c = fleet_num(h, "cancel", -1), f = fleet_num(h, "finished_at", -1);
    return c < 0 || f < 0 ? -1 : f - c;
}

/* A worker on the suite's queue with the fleet's short heartbeats. */
static pid_t worker(int pool, long cancel_grace_ms)
{
    spindle_worker_options o;
    fleet_options(&o, queue, 1);
    o.pool = pool;
    o.cancel_grace_ms = cancel_grace_ms;
    return harness_worker_fork_opts(NULL, &o);
}

/* The next task on the queue runs to success on a live worker. */
static void check_still_serving(pid_t sup)
{
    spindle_handle *h = fleet_enqueue(client, queue[0], "sleep_ms", 5, -1, 0);
    spindle_result *r = NULL;
    CU_ASSERT_EQUAL(h ? spindle_wait(client, h, HARNESS_WAIT_MS, &r) : -1, SPINDLE_OK);
    spindle_result_free(r);
    spindle_handle_free(h);
    CU_ASSERT_TRUE(harness_child_alive(sup));
}

/* ---- without a server ------------------------------------------------------------------ */

static void test_message_format(void)
{
    spindle_cancel_msg m;
    const char *ok = "q1 0b8f3a4e-6d7c-4b21-9f55-3c1e2d0a9b87 3 250";
    CU_ASSERT_EQUAL(spindle_cancel_msg_parse(ok, strlen(ok), &m), 0);
    CU_ASSERT_STRING_EQUAL(m.queue, "q1");
    CU_ASSERT_STRING_EQUAL(m.id, "0b8f3a4e-6d7c-4b21-9f55-3c1e2d0a9b87");
    CU_ASSERT_EQUAL(m.attempt, 3);
    CU_ASSERT_EQUAL(m.grace_ms, 250);
    const char *dflt = "q1 0b8f3a4e-6d7c-4b21-9f55-3c1e2d0a9b87 1 -1";
    CU_ASSERT_EQUAL(spindle_cancel_msg_parse(dflt, strlen(dflt), &m), 0);
    CU_ASSERT_EQUAL(m.grace_ms, -1);
    const char *const bad[] = {
        "",
        "q1",
        "q1 0b8f3a4e-6d7c-4b21-9f55-3c1e2d0a9b87 1",
        "q1 0b8f3a4e-6d7c-4b21-9f55-3c1e2d0a9b87 1 -1 extra",
        "q1 not-an-id 1 -1",
        "q{1} 0b8f3a4e-6d7c-4b21-9f55-3c1e2d0a9b87 1 -1",
        "q1 0b8f3a4e-6d7c-4b21-9f55-3c1e2d0a9b87 0 -1",
        "q1 0b8f3a4e-6d7c-4b21-9f55-3c1e2d0a9b87 x -1",
        "q1 0b8f3a4e-6d7c-4b21-9f55-3c1e2d0a9b87 1 -2",
        "q1 0b8f3a4e-6d7c-4b21-9f55-3c1e2d0a9b87 1 99999999999",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        CU_ASSERT_EQUAL(spindle_cancel_msg_parse(bad[i], strlen(bad[i]), &m), -1);
    /* A payload with a NUL inside is not a message. */
    CU_ASSERT_EQUAL(spindle_cancel_msg_parse(ok, strlen(ok) + 1, &m), -1);
}

/* The ring remembers (id, attempt) pairs, the latest SPINDLE_CANCEL_RING of them. */
static void test_ring(void)
{
    spindle_cancel_ring *r = spindle_cancel_ring_new(0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    char id[SPINDLE_ID_LEN + 1], first[SPINDLE_ID_LEN + 1];
    spindle_id_new(first);
    CU_ASSERT_FALSE(spindle_cancel_ring_has(r, first, 1));
    spindle_cancel_ring_add(r, first, 1);
    CU_ASSERT_TRUE(spindle_cancel_ring_has(r, first, 1));
    CU_ASSERT_FALSE(spindle_cancel_ring_has(r, first, 2)); /* a later attempt (a retry) runs */
    for (int i = 0; i < SPINDLE_CANCEL_RING - 1; i++) {
        spindle_id_new(id);
        spindle_cancel_ring_add(r, id, 1);
    }
    CU_ASSERT_TRUE(spindle_cancel_ring_has(r, first, 1));
    CU_ASSERT_TRUE(spindle_cancel_ring_has(r, id, 1));
    spindle_id_new(id);
    spindle_cancel_ring_add(r, id, 1);
    CU_ASSERT_FALSE(spindle_cancel_ring_has(r, first, 1)); /* the oldest made room */
    CU_ASSERT_TRUE(spindle_cancel_ring_has(r, id, 1));
    CU_ASSERT_FALSE(spindle_cancel_ring_has(NULL, id, 1));
    spindle_cancel_ring_free(r, 0);
}

/* A slot does not start a task in the ring, and clears the flag for the next task; the
 * supervisor flags only the task that is published. */
static void test_slot_begin(void)
{
    spindle_slot_state st;
    spindle_slot_state_reset(&st);
    spindle_cancel_ring *r = spindle_cancel_ring_new(0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    spindle_slot_task a = {.running = 1, .attempt = 1}, b = {.running = 1, .attempt = 1};
    spindle_id_new(a.id);
    spindle_id_new(b.id);
    spindle_cancel_ring_add(r, b.id, 1);

    CU_ASSERT_EQUAL(spindle_slot_begin(&st, &a, r), 0);
    spindle_slot_task t;
    CU_ASSERT_TRUE(spindle_slot_snapshot(&st, &t) && t.running && strcmp(t.id, a.id) == 0);
    CU_ASSERT_EQUAL(spindle_slot_flag_cancel(&st, b.id, 1), 0); /* not the one running */
    CU_ASSERT_EQUAL(atomic_load(&st.cancel), 0);
    CU_ASSERT_EQUAL(spindle_slot_flag_cancel(&st, a.id, 2), 0); /* another attempt */
    CU_ASSERT_EQUAL(spindle_slot_flag_cancel(&st, a.id, 1), 1);
    CU_ASSERT_EQUAL(atomic_load(&st.cancel), 1);

    /* b was cancelled before it started: not published, the flag of a is cleared. */
    CU_ASSERT_EQUAL(spindle_slot_begin(&st, &b, r), 1);
    CU_ASSERT_EQUAL(atomic_load(&st.cancel), 0);
    CU_ASSERT_TRUE(spindle_slot_snapshot(&st, &t) && strcmp(t.id, a.id) == 0);
    /* A slot that died holding the lock: the supervisor gives up instead of hanging. */
    atomic_store(&st.cancel_lock, 1);
    CU_ASSERT_EQUAL(spindle_slot_flag_cancel(&st, a.id, 1), -1);
    spindle_cancel_ring_free(r, 0);
}

/* ---- before the task starts -------------------------------------------------------------- */

/* Pending: cancelled at once, a second cancel reports it as it is, the worker started later
 * skips it (no marker) and serves the next task; the result TTL applies; no dead letter. */
static void test_pending(void)
{
    CU_ASSERT_EQUAL_FATAL(fleet_fresh(&client), 0);
    spindle_handle *h = fleet_enqueue(client, queue[0], "sleep_ms", 10, -1, 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    spindle_state st = SPINDLE_STATE_PENDING;
    CU_ASSERT_EQUAL(spindle_cancel(client, h, -1, &st), SPINDLE_OK);
    CU_ASSERT_EQUAL(st, SPINDLE_STATE_CANCELLED);
    check_error(h, "cancelled before it started");
    CU_ASSERT_TRUE(fleet_num(h, "finished_at", 0) > 0);
    CU_ASSERT_TRUE(fleet_absent(h, "cancel")); /* only a running task is marked */
    CU_ASSERT_FALSE(fleet_in_zset(queue[0], "dead", h));
    char key[512];
    long long ttl = harness_int("TTL %s", harness_task_key(key, sizeof(key), h));
    CU_ASSERT_TRUE(ttl > 3500 && ttl <= 3600);
    st = SPINDLE_STATE_PENDING;
    CU_ASSERT_EQUAL(spindle_cancel(client, h, 0, &st), SPINDLE_OK);
    CU_ASSERT_EQUAL(st, SPINDLE_STATE_CANCELLED);
    CU_ASSERT_EQUAL(spindle_cancel(client, h, -1, NULL), SPINDLE_OK);

    spindle_result *r = NULL;
    CU_ASSERT_EQUAL(spindle_wait(client, h, 0, &r), SPINDLE_ERR_CANCELLED);
    CU_ASSERT_EQUAL(r ? (int)spindle_result_state(r) : -1, (int)SPINDLE_STATE_CANCELLED);
    CU_ASSERT_STRING_EQUAL(r && spindle_result_error(r) ? spindle_result_error(r) : "",
                           "cancelled before it started");
    spindle_result_free(r);

    pid_t sup = worker(SPINDLE_POOL_PROCESS, -1);
    CU_ASSERT_FATAL(sup > 0);
    check_still_serving(sup);
    CU_ASSERT_FALSE(started(h));
    char *state = fleet_field(h, "state");
    CU_ASSERT_STRING_EQUAL(state ? state : "", "cancelled");
    free(state);
    char *log = harness_worker_log(sup);
    CU_ASSERT_EQUAL(fleet_count(log, "dropped id"), 0); /* not news: see log_dropped() */
    free(log);

    /* Bad input is refused before anything is sent; an unknown task is not found. */
    CU_ASSERT_EQUAL(spindle_cancel(client, h, -2, NULL), SPINDLE_ERR_INVALID);
    spindle_handle *gone = NULL;
    char id[SPINDLE_ID_LEN + 1];
    spindle_id_new(id);
    CU_ASSERT_EQUAL(harness_int("DEL %s", harness_task_key(key, sizeof(key), h)), 1);
    CU_ASSERT_EQUAL(spindle_cancel(client, h, -1, &st), SPINDLE_ERR_NOT_FOUND);
    CU_ASSERT_EQUAL(spindle_handle_open(client, id, queue[0], &gone), SPINDLE_ERR_NOT_FOUND);
    spindle_handle_free(h);
}

/* Scheduled for a retry: cancelled at once, out of the scheduled set, never run again; a
 * cancelled task is not retried by its policy, and spindle_retry() runs it again. */
static void test_scheduled(void)
{
    CU_ASSERT_EQUAL_FATAL(fleet_fresh(&client), 0);
    spindle_handle *h = fleet_enqueue(client, queue[0], "fail_attempt", -1, 3, 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    CU_ASSERT_EQUAL_FATAL(fleet_set_backoff(h, 60000, 60000), 0);
    pid_t sup = worker(SPINDLE_POOL_PROCESS, -1);
    CU_ASSERT_FATAL(sup > 0);
    CU_ASSERT_EQUAL_FATAL(fleet_wait_state(h, "scheduled", HARNESS_WAIT_MS), 0);
    CU_ASSERT_TRUE(fleet_in_zset(queue[0], "scheduled", h));
    spindle_state st = SPINDLE_STATE_PENDING;
    CU_ASSERT_EQUAL(spindle_cancel(client, h, -1, &st), SPINDLE_OK);
    CU_ASSERT_EQUAL(st, SPINDLE_STATE_CANCELLED);
    check_error(h, "cancelled while waiting for a retry");
    CU_ASSERT_FALSE(fleet_in_zset(queue[0], "scheduled", h));
    CU_ASSERT_FALSE(fleet_in_zset(queue[0], "dead", h));
    CU_ASSERT_TRUE(fleet_absent(h, "retry_at"));
    CU_ASSERT_EQUAL(fleet_num(h, "attempts", -1), 1);

    /* Due now, it would run: it does not. */
    char key[512];
    redisReply *r = harness_cmd(
        "ZADD %s 0 %s", harness_key(key, sizeof(key), queue[0], "scheduled"), spindle_handle_id(h));
    if (r)
        freeReplyObject(r);
    check_still_serving(sup);
    CU_ASSERT_EQUAL(fleet_num(h, "attempts", -1), 1);
    CU_ASSERT_EQUAL(fleet_wait_state(h, "cancelled", 0), 0);

    CU_ASSERT_EQUAL(spindle_retry(client, h), SPINDLE_OK);
    CU_ASSERT_EQUAL_FATAL(fleet_wait_state(h, "scheduled", HARNESS_WAIT_MS), 0);
    CU_ASSERT_EQUAL(fleet_num(h, "attempts", -1), 2);
    spindle_handle_free(h);
}

/* ---- while it runs ------------------------------------------------------------------------- */

/* A child process that cancels h (with grace_ms) after delay_ms, through a client of its own,
 * and exits 0 if spindle_cancel() reported state want. Returns its pid. */
static pid_t cancel_later(const spindle_handle *h, long delay_ms, long grace_ms, spindle_state want)
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    harness_sleep_ms(delay_ms);
    spindle_client *c = harness_client();
    spindle_state st = SPINDLE_STATE_PENDING;
    int rc = c ? spindle_cancel(c, h, grace_ms, &st) : -1;
    spindle_client_free(c);
    _exit(rc == SPINDLE_OK && st == want ? 0 : 1);
}

static int reaped_ok(pid_t pid)
{
    int status = 0;
    return waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

/* Cooperative: sleep_ms checks every 10 ms; a waiter blocked on it is told "cancelled"
 * within 100 ms of the request (scaled), and the slot was not killed: it runs the next task. */
static void test_cooperative(void)
{
    CU_ASSERT_EQUAL_FATAL(fleet_fresh(&client), 0);
    pid_t sup = worker(SPINDLE_POOL_PROCESS, -1);
    CU_ASSERT_FATAL(sup > 0);
    spindle_handle *h = fleet_enqueue(client, queue[0], "sleep_ms", 20000, -1, 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    char wid[160];
    pid_t slot = fleet_wait_started(h, wid, sizeof(wid), HARNESS_WAIT_MS);
    CU_ASSERT_FATAL(slot > 0);
    pid_t canceller = cancel_later(h, 200, -1, SPINDLE_STATE_RUNNING);
    CU_ASSERT_FATAL(canceller > 0);
    spindle_result *r = NULL;
    CU_ASSERT_EQUAL(spindle_wait(client, h, HARNESS_WAIT_MS, &r), SPINDLE_ERR_CANCELLED);
    CU_ASSERT_STRING_EQUAL(r && spindle_result_error(r) ? spindle_result_error(r) : "",
                           "cancelled while running");
    CU_ASSERT_TRUE(strstr(spindle_errstr(client), "was cancelled") != NULL);
    spindle_result_free(r);
    CU_ASSERT_TRUE(reaped_ok(canceller));
    long long took = cancel_to_end_ms(h);
    CU_ASSERT_TRUE(took >= 0 && took <= harness_scaled_ms(100));
    if (took < 0 || took > harness_scaled_ms(100))
        fprintf(stderr, "\n  ended %lld ms after the cancel request\n", took);
    CU_ASSERT_FALSE(fleet_in_zset(queue[0], "dead", h));
    CU_ASSERT_TRUE(fleet_absent(h, "result"));
    spindle_task_info info;
    CU_ASSERT_EQUAL_FATAL(spindle_info(client, h, &info), SPINDLE_OK);
    CU_ASSERT_EQUAL(info.state, SPINDLE_STATE_CANCELLED);
    CU_ASSERT_EQUAL(info.cancel_requested_at_ms, fleet_num(h, "cancel", -1));
    CU_ASSERT_EQUAL(info.cancel_grace_ms, -1);
    spindle_task_info_clear(&info);
    check_still_serving(sup);
    CU_ASSERT_TRUE(harness_pid_running(slot)); /* stopped by itself, not killed */
    spindle_handle_free(h);
}

/* A task reporting progress every 10 ms (progress_sleep) stops within 100 ms (scaled) of the
 * request: its next report answers "cancelled", and it ends `cancelled` with its last report
 * stored (the worker flushes it before the task settles). */
static void test_progress_stops(void)
{
    CU_ASSERT_EQUAL_FATAL(fleet_fresh(&client), 0);
    pid_t sup = worker(SPINDLE_POOL_PROCESS, -1);
    CU_ASSERT_FATAL(sup > 0);
    spindle_handle *h = fleet_enqueue(client, queue[0], "progress_sleep", 20000, -1, 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    char wid[160];
    CU_ASSERT_FATAL(fleet_wait_started(h, wid, sizeof(wid), HARNESS_WAIT_MS) > 0);
    pid_t canceller = cancel_later(h, 300, -1, SPINDLE_STATE_RUNNING);
    CU_ASSERT_FATAL(canceller > 0);
    spindle_result *r = NULL;
    CU_ASSERT_EQUAL(spindle_wait(client, h, HARNESS_WAIT_MS, &r), SPINDLE_ERR_CANCELLED);
    spindle_result_free(r);
    CU_ASSERT_TRUE(reaped_ok(canceller));
    long long took = cancel_to_end_ms(h);
    CU_ASSERT_TRUE(took >= 0 && took <= harness_scaled_ms(100));
    if (took < 0 || took > harness_scaled_ms(100))
        fprintf(stderr, "\n  ended %lld ms after the cancel request\n", took);
    spindle_progress p;
    CU_ASSERT_EQUAL_FATAL(spindle_progress_get(client, h, &p), SPINDLE_OK);
    CU_ASSERT_TRUE(p.seq >= 1);
    CU_ASSERT_EQUAL(p.total, 20000);
    /* At least one step's report, in steps of 10 ms; not "about 300": on a loaded machine the
     * 10 ms sleeps overrun, so fewer steps fit before the cancel (seen on 2 busy cores). */
    CU_ASSERT_TRUE(p.done >= 10 && p.done % 10 == 0 && p.done < 20000);
    CU_ASSERT_STRING_EQUAL(p.message, "sleeping");
    check_still_serving(sup);
    spindle_handle_free(h);
}

/* Forced, process pool: sleep_first ignores the request; the per-call grace (100 ms) wins
 * over the worker's (300 ms), which applies when the call gives none. The slot is killed,
 * the task ends cancelled, the slot is replaced at once (no crash back-off), and a retry of
 * the cancelled task runs to success: the mark went with the retry. */
static void test_forced_process(void)
{
    CU_ASSERT_EQUAL_FATAL(fleet_fresh(&client), 0);
    pid_t sup = worker(SPINDLE_POOL_PROCESS, 300);
    CU_ASSERT_FATAL(sup > 0);
    const long graces[] = {100, -1}, expect[] = {100, 300};
    for (int i = 0; i < 2; i++) {
        spindle_handle *h = fleet_enqueue(client, queue[0], "sleep_first", 20000, -1, 0);
        CU_ASSERT_PTR_NOT_NULL_FATAL(h);
        char wid[160];
        pid_t slot = fleet_wait_started(h, wid, sizeof(wid), HARNESS_WAIT_MS);
        CU_ASSERT_FATAL(slot > 0 && slot != sup);
        spindle_state st = SPINDLE_STATE_PENDING;
        CU_ASSERT_EQUAL(spindle_cancel(client, h, graces[i], &st), SPINDLE_OK);
        CU_ASSERT_EQUAL(st, SPINDLE_STATE_RUNNING);
        CU_ASSERT_EQUAL_FATAL(fleet_wait_state(h, "cancelled", HARNESS_WAIT_MS), 0);
        char want[96];
        snprintf(want, sizeof(want), "cancelled; killed after a grace of %ld ms", expect[i]);
        check_error(h, want);
        long long took = cancel_to_end_ms(h);
        CU_ASSERT_TRUE(took >= expect[i] && took <= expect[i] + harness_scaled_ms(1000));
        if (took < expect[i] || took > expect[i] + harness_scaled_ms(1000))
            fprintf(stderr, "\n  ended %lld ms after the request (grace %ld)\n", took, expect[i]);
        CU_ASSERT_FALSE(harness_pid_running(slot));
        CU_ASSERT_FALSE(fleet_in_zset(queue[0], "dead", h));
        if (i == 1) {
            CU_ASSERT_EQUAL(spindle_retry(client, h), SPINDLE_OK);
            CU_ASSERT_TRUE(fleet_absent(h, "cancel") && fleet_absent(h, "cancel_grace"));
            spindle_result *r = NULL;
            CU_ASSERT_EQUAL(spindle_wait(client, h, HARNESS_WAIT_MS, &r), SPINDLE_OK);
            CU_ASSERT_EQUAL(r ? spindle_result_value(r)->via.i64 : 0, 2);
            spindle_result_free(r);
        }
        spindle_handle_free(h);
    }
    check_still_serving(sup);
    char *log = harness_worker_log(sup);
    CU_ASSERT_EQUAL(fleet_count(log, "keep dying"), 0);
    CU_ASSERT_EQUAL(fleet_count(log, "after its cancel request: killing"), 2);
    free(log);
}

/* Forced, thread pool: the task ends cancelled in Redis while the function still sleeps; its
 * late result is refused, and the thread serves the next task. */
static void test_forced_thread(void)
{
    CU_ASSERT_EQUAL_FATAL(fleet_fresh(&client), 0);
    pid_t sup = worker(SPINDLE_POOL_THREAD, -1);
    CU_ASSERT_FATAL(sup > 0);
    const long sleep_ms = 2500;
    spindle_handle *h = fleet_enqueue(client, queue[0], "sleep_first", sleep_ms, -1, 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    char wid[160];
    CU_ASSERT_FATAL(fleet_wait_started(h, wid, sizeof(wid), HARNESS_WAIT_MS) == sup);
    int64_t t0 = harness_ms();
    spindle_state st = SPINDLE_STATE_PENDING;
    CU_ASSERT_EQUAL(spindle_cancel(client, h, 100, &st), SPINDLE_OK);
    CU_ASSERT_EQUAL(st, SPINDLE_STATE_RUNNING);
    CU_ASSERT_EQUAL_FATAL(fleet_wait_state(h, "cancelled", HARNESS_WAIT_MS), 0);
    CU_ASSERT_TRUE(harness_ms() - t0 < sleep_ms - 500); /* the function still sleeps */
    check_error(h, "cancelled; still running after a grace of 100 ms (a thread pool cannot");
    int refused = 0;
    for (int64_t end = harness_ms() + HARNESS_WAIT_MS; !refused && harness_ms() < end;) {
        char *log = harness_worker_log(sup);
        refused = fleet_count(log, "settlement refused: attempt 1 no longer owns the task");
        free(log);
        if (!refused)
            harness_sleep_ms(20);
    }
    CU_ASSERT_EQUAL(refused, 1);
    char *state = fleet_field(h, "state");
    CU_ASSERT_STRING_EQUAL(state ? state : "", "cancelled");
    free(state);
    CU_ASSERT_TRUE(fleet_absent(h, "result"));
    check_still_serving(sup);
    char *w = fleet_field(h, "worker");
    CU_ASSERT_STRING_EQUAL(w ? w : "", wid);
    free(w);
    spindle_handle_free(h);
}

/* Cancel racing completion: many short tasks on two slots, each cancelled at a random
 * moment. What spindle_cancel() reported and how the task ended agree: running or cancelled
 * end cancelled, a task already finished is left as it was. */
static void test_race(void)
{
    CU_ASSERT_EQUAL_FATAL(fleet_fresh(&client), 0);
    spindle_worker_options o;
    fleet_options(&o, queue, 1);
    o.concurrency = 2;
    pid_t sup = harness_worker_fork_opts(NULL, &o);
    CU_ASSERT_FATAL(sup > 0);
    enum { N = 60 };
    spindle_handle *h[N];
    spindle_state said[N];
    unsigned seed = (unsigned)harness_ms();
    for (int i = 0; i < N; i++) {
        h[i] = fleet_enqueue(client, queue[0], i % 3 ? "sleep_ms" : "sleep_first",
                             rand_r(&seed) % 20, -1, 0);
        CU_ASSERT_PTR_NOT_NULL_FATAL(h[i]);
    }
    int seen[SPINDLE_STATE_CANCELLED + 1] = {0};
    for (int i = 0; i < N; i++) {
        harness_sleep_ms(rand_r(&seed) % 8);
        CU_ASSERT_EQUAL(spindle_cancel(client, h[i], rand_r(&seed) % 2 ? -1 : 0, &said[i]),
                        SPINDLE_OK);
        seen[said[i]]++;
    }
    for (int i = 0; i < N; i++) {
        spindle_result *r = NULL;
        int rc = spindle_wait(client, h[i], HARNESS_WAIT_MS, &r);
        spindle_state end = r ? spindle_result_state(r) : SPINDLE_STATE_PENDING;
        spindle_result_free(r);
        spindle_state want = said[i] == SPINDLE_STATE_RUNNING ? SPINDLE_STATE_CANCELLED : said[i];
        CU_ASSERT_EQUAL(end, want);
        CU_ASSERT_EQUAL(rc, want == SPINDLE_STATE_CANCELLED ? SPINDLE_ERR_CANCELLED : SPINDLE_OK);
        if (end != want)
            fprintf(stderr, "\n  task %d: cancel said %s, ended %s\n", i,
                    spindle_state_name(said[i]), spindle_state_name(end));
        CU_ASSERT_TRUE(said[i] == SPINDLE_STATE_CANCELLED || said[i] == SPINDLE_STATE_RUNNING ||
                       said[i] == SPINDLE_STATE_SUCCEEDED);
        spindle_handle_free(h[i]);
    }
    /* Not a timing bound: the mix shows the races were there to be lost or won. */
    if (seen[SPINDLE_STATE_RUNNING] == 0 || seen[SPINDLE_STATE_SUCCEEDED] == 0)
        fprintf(stderr, "\n  (race mix: %d cancelled, %d running, %d succeeded)\n",
                seen[SPINDLE_STATE_CANCELLED], seen[SPINDLE_STATE_RUNNING],
                seen[SPINDLE_STATE_SUCCEEDED]);
    check_still_serving(sup);
}

/* A task claimed in a batch behind a long one is `running` in Redis without having started;
 * cancelled then, it never runs and ends "cancelled before it started". */
static void test_unstarted_in_batch(void)
{
    CU_ASSERT_EQUAL_FATAL(fleet_fresh(&client), 0);
    pid_t sup = worker(SPINDLE_POOL_PROCESS, -1);
    CU_ASSERT_FATAL(sup > 0);
    /* Quick tasks first, so that the slot's batches grow past one task. */
    spindle_task_spec warm[64];
    for (int i = 0; i < 64; i++)
        warm[i] = (spindle_task_spec){.func = "echo"};
    spindle_enqueue_options eo;
    spindle_enqueue_options_init(&eo);
    eo.queue = queue[0];
    spindle_handle *wh[64];
    CU_ASSERT_EQUAL_FATAL(spindle_enqueue_bulk(client, warm, 64, &eo, wh), SPINDLE_OK);
    for (int i = 0; i < 64; i++) {
        spindle_result *r = NULL;
        CU_ASSERT_EQUAL(spindle_wait(client, wh[i], HARNESS_WAIT_MS, &r), SPINDLE_OK);
        spindle_result_free(r);
        spindle_handle_free(wh[i]);
    }
    /* Both in one claim: the first sleeps 300 ms (ignoring cancels), the second waits. */
    spindle_args *a = spindle_args_new(), *b = spindle_args_new();
    spindle_args_int(a, 300);
    spindle_args_int(b, 10);
    spindle_task_spec two[2] = {{.func = "sleep_first"}, {.func = "sleep_ms"}};
    const char *da = NULL, *db = NULL;
    CU_ASSERT_EQUAL_FATAL(spindle_args_data(a, &da, &two[0].args_len), SPINDLE_OK);
    CU_ASSERT_EQUAL_FATAL(spindle_args_data(b, &db, &two[1].args_len), SPINDLE_OK);
    two[0].args = da;
    two[1].args = db;
    spindle_handle *hh[2] = {NULL, NULL};
    CU_ASSERT_EQUAL_FATAL(spindle_enqueue_bulk(client, two, 2, &eo, hh), SPINDLE_OK);
    spindle_args_free(a);
    spindle_args_free(b);
    char wid[160], wid2[160];
    CU_ASSERT_FATAL(fleet_wait_started(hh[0], wid, sizeof(wid), HARNESS_WAIT_MS) > 0);
    CU_ASSERT_FATAL(fleet_wait_running(hh[1], wid2, sizeof(wid2), HARNESS_WAIT_MS) > 0);
    CU_ASSERT_STRING_EQUAL(wid, wid2); /* claimed by the same slot, which runs the first */
    spindle_state st = SPINDLE_STATE_PENDING;
    CU_ASSERT_EQUAL(spindle_cancel(client, hh[1], -1, &st), SPINDLE_OK);
    CU_ASSERT_EQUAL(st, SPINDLE_STATE_RUNNING);
    spindle_result *r = NULL;
    CU_ASSERT_EQUAL(spindle_wait(client, hh[1], HARNESS_WAIT_MS, &r), SPINDLE_ERR_CANCELLED);
    CU_ASSERT_STRING_EQUAL(r && spindle_result_error(r) ? spindle_result_error(r) : "",
                           "cancelled before it started");
    spindle_result_free(r);
    CU_ASSERT_FALSE(started(hh[1]));
    CU_ASSERT_EQUAL(spindle_wait(client, hh[0], HARNESS_WAIT_MS, &r), SPINDLE_OK);
    spindle_result_free(r);
    CU_ASSERT_FALSE(started(hh[1]));
    spindle_handle_free(hh[0]);
    spindle_handle_free(hh[1]);
}

/* A task with a cancel request whose worker is lost (SIGKILL to its supervisor) ends
 * cancelled when another worker's sweep recovers it, instead of running again. */
static void test_lost_worker(void)
{
    CU_ASSERT_EQUAL_FATAL(fleet_fresh(&client), 0);
    pid_t w1 = worker(SPINDLE_POOL_PROCESS, -1);
    CU_ASSERT_FATAL(w1 > 0);
    spindle_handle *h = fleet_enqueue(client, queue[0], "sleep_first", 60000, -1, 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    char wid[160];
    CU_ASSERT_FATAL(fleet_wait_started(h, wid, sizeof(wid), HARNESS_WAIT_MS) > 0);
    spindle_state st = SPINDLE_STATE_PENDING;
    CU_ASSERT_EQUAL(spindle_cancel(client, h, -1, &st), SPINDLE_OK);
    CU_ASSERT_EQUAL(st, SPINDLE_STATE_RUNNING);
    pid_t w2 = worker(SPINDLE_POOL_PROCESS, -1);
    CU_ASSERT_FATAL(w2 > 0);
    CU_ASSERT_EQUAL_FATAL(harness_worker_signal(w1, SIGKILL), 0);
    harness_worker_stop(w1, 1000, NULL);
    long bound = harness_scaled_ms(FLEET_TTL_MS + FLEET_SWEEP_MS) + HARNESS_WAIT_MS;
    CU_ASSERT_EQUAL_FATAL(fleet_wait_state(h, "cancelled", bound), 0);
    check_error(h, "cancelled while running (its worker was lost)");
    CU_ASSERT_EQUAL(fleet_num(h, "attempts", -1), 1);
    check_still_serving(w2);
    spindle_handle_free(h);
}

/* ---- the command line ---------------------------------------------------------------------- */

static void test_cli(void)
{
    CU_ASSERT_EQUAL_FATAL(fleet_fresh(&client), 0);
    spindle_handle *p = fleet_enqueue(client, queue[0], "sleep_ms", 10, -1, 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    harness_output o = cli_run("cancel", spindle_handle_id(p), NULL);
    CU_ASSERT_EQUAL(o.code, 0);
    CU_ASSERT_STRING_EQUAL(o.out, "cancelled\n");
    harness_output_free(&o);

    pid_t sup = worker(SPINDLE_POOL_PROCESS, -1);
    CU_ASSERT_FATAL(sup > 0);
    spindle_handle *h = fleet_enqueue(client, queue[0], "sleep_first", 20000, -1, 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    char wid[160], grace[32];
    CU_ASSERT_FATAL(fleet_wait_started(h, wid, sizeof(wid), HARNESS_WAIT_MS) > 0);
    snprintf(grace, sizeof(grace), "%ld", harness_scaled_ms(3000));
    o = cli_run("cancel", spindle_handle_id(h), "--queue", queue[0], "--grace", grace, NULL);
    CU_ASSERT_EQUAL(o.code, 0);
    CU_ASSERT_STRING_EQUAL(o.out, "cancel requested; it will end cancelled\n");
    harness_output_free(&o);
    o = cli_run("status", spindle_handle_id(h), NULL);
    CU_ASSERT_EQUAL(o.code, 0);
    CU_ASSERT_TRUE(strncmp(o.out, "running\ncancel requested at ", 28) == 0);
    harness_output_free(&o);
    o = cli_run("status", spindle_handle_id(h), "--verbose", NULL);
    CU_ASSERT_TRUE(strstr(o.out, "\ncancel_requested_at: ") != NULL);
    char line[64];
    snprintf(line, sizeof(line), "\ncancel_grace: %s ms\n", grace);
    CU_ASSERT_TRUE(strstr(o.out, line) != NULL);
    harness_output_free(&o);
    CU_ASSERT_EQUAL(fleet_wait_state(h, "cancelled", HARNESS_WAIT_MS + harness_scaled_ms(3000)), 0);
    o = cli_run("result", spindle_handle_id(h), NULL);
    CU_ASSERT_EQUAL(o.code, 5);
    harness_output_free(&o);

    spindle_handle *done = fleet_enqueue(client, queue[0], "sleep_ms", 1, -1, 0);
    spindle_result *r = NULL;
    CU_ASSERT_EQUAL(done ? spindle_wait(client, done, HARNESS_WAIT_MS, &r) : -1, SPINDLE_OK);
    spindle_result_free(r);
    o = cli_run("cancel", done ? spindle_handle_id(done) : "x", NULL);
    CU_ASSERT_EQUAL(o.code, 0);
    CU_ASSERT_STRING_EQUAL(o.out, "already succeeded\n");
    harness_output_free(&o);
    char id[SPINDLE_ID_LEN + 1];
    spindle_id_new(id);
    o = cli_run("cancel", id, "--queue", queue[0], NULL);
    CU_ASSERT_EQUAL(o.code, 3);
    harness_output_free(&o);
    o = cli_run("cancel", id, "--grace", "-5", NULL);
    CU_ASSERT_EQUAL(o.code, 2);
    harness_output_free(&o);
    spindle_handle_free(p);
    spindle_handle_free(h);
    spindle_handle_free(done);
}

int register_cancel_tests(void)
{
    static const test_case tests[] = {
        {"cancel message format", test_message_format},
        {"ring of cancelled tasks", test_ring},
        {"slot start and cancel flag under the lock", test_slot_begin},
        {"pending: cancelled at once, never runs", test_pending},
        {"scheduled: cancelled at once, never retried", test_scheduled},
        {"cooperative: stops within 100 ms, waiter told", test_cooperative},
        {"progress every 10 ms: stops within 100 ms of the request", test_progress_stops},
        {"forced, process pool: killed after the grace", test_forced_process},
        {"forced, thread pool: ended, late result refused", test_forced_thread},
        {"cancel racing completion: both sides agree", test_race},
        {"claimed but unstarted: never runs", test_unstarted_in_batch},
        {"lost worker: a marked task ends cancelled", test_lost_worker},
        {"spindle cancel and status", test_cli},
        {NULL, NULL},
    };
    return add_suite("cancellation", suite_init, suite_cleanup, tests);
}
