/* Single-file queues (single_file.h, docs/PROTOCOL.md "Single-file queues"), watched from
 * outside with workers in separate processes: three workers of three slots each run a
 * single-file queue one task at a time, in enqueue order (the task hashes' started_at and
 * finished_at, Redis's clock, never overlap); a worker killed mid-task leaves a lease that
 * outlives it, lapses after one heartbeat TTL, and the queue goes on; a worker serving a
 * single-file queue and an ordinary one keeps the ordinary one busy meanwhile; a retried task
 * frees the lease while it waits; turning the declaration off lets tasks run in parallel
 * again; garbage written by hand into the lease or the declaration stops the queue with a
 * clear error and loses nothing; the CLI declares, shows and lists it. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "fleet.h"
#include "spindle/limits.h"
#include "spindle/single_file.h"
#include "suites.h"

static spindle_client *client;

static int suite_init(void)
{
    return harness_suite_init_client(&client);
}

static int suite_cleanup(void)
{
    return harness_suite_cleanup_client(&client);
}

/* Forks a worker with the fleet settings, concurrency slots, serving queues[0..n). */
static pid_t worker(const char *const *queues, size_t n, int concurrency)
{
    spindle_worker_options o;
    fleet_options(&o, queues, n);
    o.concurrency = concurrency;
    return harness_worker_fork_opts(NULL, &o);
}

/* Enqueues n tasks func(arg) on queue into h[0..n), one call each, in order. 0 on success. */
static int enqueue_n(const char *queue, const char *func, long arg, int retries, size_t n,
                     spindle_handle **h)
{
    for (size_t i = 0; i < n; i++)
        if ((h[i] = fleet_enqueue(client, queue, func, arg, retries, 0)) == NULL)
            return -1;
    return 0;
}

/* Waits for every task to end (any way); returns how many succeeded within timeout_ms. */
static size_t wait_all(spindle_handle **h, size_t n, long timeout_ms)
{
    int64_t deadline = harness_ms() + timeout_ms;
    size_t ok = 0;
    for (size_t i = 0; i < n; i++) {
        long left = (long)(deadline - harness_ms());
        spindle_result *r = NULL;
        if (spindle_wait(client, h[i], left > 0 ? left : 1, &r) == SPINDLE_OK &&
            spindle_result_state(r) == SPINDLE_STATE_SUCCEEDED)
            ok++;
        spindle_result_free(r);
    }
    return ok;
}

static void free_all(spindle_handle **h, size_t n)
{
    for (size_t i = 0; i < n; i++)
        spindle_handle_free(h[i]);
}

/* One task's run as the task hash records it (Redis's clock, ms). */
typedef struct run {
    long long start, end;
    size_t index; /* enqueue order */
} run;

static int by_start(const void *a, const void *b)
{
    const run *x = a, *y = b;
    return (x->start > y->start) - (x->start < y->start);
}

/* Reads the runs of h[0..n) into r, sorted by start, and returns how many pairs of them
 * overlap (a run starting before the previous one ended); -1 if a hash lacks its times. */
static int overlaps(spindle_handle **h, size_t n, run *r)
{
    for (size_t i = 0; i < n; i++) {
        r[i] = (run){fleet_num(h[i], "started_at", -1), fleet_num(h[i], "finished_at", -1), i};
        if (r[i].start < 0 || r[i].end < r[i].start)
            return -1;
    }
    qsort(r, n, sizeof(*r), by_start);
    int bad = 0;
    for (size_t i = 1; i < n; i++)
        bad += r[i].start < r[i - 1].end;
    return bad;
}

/* EXISTS of the queue's lease key. */
static long long lease_exists(const char *queue)
{
    char key[512];
    return harness_int("EXISTS %s", harness_key(key, sizeof(key), queue, "lease"));
}

static void test_three_workers_in_order(void)
{
    enum { N = 30, TASK_MS = 20, WORKERS = 3, SLOTS = 3 };
    static const char *const q[] = {"sf"};
    CU_ASSERT_EQUAL_FATAL(fleet_fresh(&client), 0);
    CU_ASSERT_EQUAL_FATAL(spindle_queue_single_file(client, q[0], 1), SPINDLE_OK);
    for (int i = 0; i < WORKERS; i++)
        CU_ASSERT_FATAL(worker(q, 1, SLOTS) > 0);
    CU_ASSERT_EQUAL_FATAL(harness_wait_idle_workers(WORKERS * SLOTS, harness_scaled_ms(5000)), 0);
    spindle_handle *h[N] = {0};
    CU_ASSERT_EQUAL_FATAL(enqueue_n(q[0], "sleep_ms", TASK_MS, -1, N, h), 0);
    CU_ASSERT_EQUAL(wait_all(h, N, harness_scaled_ms(HARNESS_WAIT_MS)), N);

    run r[N];
    CU_ASSERT_EQUAL(overlaps(h, N, r), 0);
    size_t in_order = 0, slots = 0;
    char seen[N][160];
    for (size_t i = 0; i < N; i++) {
        in_order += r[i].index == i;
        CU_ASSERT_EQUAL(fleet_num(h[i], "attempts", -1), 1);
        CU_ASSERT_TRUE(fleet_absent(h[i], "lease"));
        char *w = fleet_field(h[i], "worker");
        size_t k = 0;
        while (w && k < slots && strcmp(seen[k], w) != 0)
            k++;
        if (w && k == slots)
            snprintf(seen[slots++], sizeof(seen[0]), "%s", w);
        free(w);
    }
    CU_ASSERT_EQUAL(in_order, N); /* start order is enqueue order */
    long long span = r[N - 1].end - r[0].start, busy = 0;
    for (size_t i = 0; i < N; i++)
        busy += r[i].end - r[i].start;
    printf("\n    %d tasks of %d ms on %zu slots: %lld ms, %lld ms of it running, no overlap", N,
           TASK_MS, slots, span, busy);
    CU_ASSERT_TRUE(slots >= 2); /* served by the fleet, not by one slot that happened to win */
    CU_ASSERT_TRUE(span >= (long long)N * TASK_MS);
    /* The next task starts at once (the finishing slot claims again, and a wake token is
     * added): idle time is far below one idle wait (1 s) per task. */
    CU_ASSERT_TRUE(span - busy < harness_scaled_ms(N * 50L));
    CU_ASSERT_EQUAL(lease_exists(q[0]), 0);
    free_all(h, N);
}

static void test_worker_killed_mid_task(void)
{
    enum { N = 10, TASK_MS = 100 };
    static const char *const q[] = {"sfk"};
    CU_ASSERT_EQUAL_FATAL(fleet_fresh(&client), 0);
    CU_ASSERT_EQUAL_FATAL(spindle_queue_single_file(client, q[0], 1), SPINDLE_OK);
    spindle_handle *h[N] = {0};
    CU_ASSERT_EQUAL_FATAL(enqueue_n(q[0], "sleep_ms", TASK_MS, -1, N, h), 0);
    pid_t sup[3];
    for (int i = 0; i < 3; i++)
        CU_ASSERT_FATAL((sup[i] = worker(q, 1, 2)) > 0);
    char slot_id[160];
    CU_ASSERT_FATAL(fleet_wait_started(h[0], slot_id, sizeof(slot_id), harness_scaled_ms(5000)) >
                    0);
    /* The worker running the first task: its supervisor, from the slot's heartbeat. */
    fleet_beat b[16];
    int nb = fleet_beats(0, b, 16);
    pid_t victim = -1;
    for (int i = 0; i < nb && i < 16; i++)
        if (strcmp(b[i].id, slot_id) == 0)
            victim = (pid_t)b[i].supervisor;
    CU_ASSERT_FATAL(victim == sup[0] || victim == sup[1] || victim == sup[2]);
    int64_t killed_at = harness_ms();
    CU_ASSERT_EQUAL_FATAL(harness_worker_signal(victim, SIGKILL), 0);

    /* The lease outlives its worker: it still names the task, then lapses (TTL). */
    spindle_single_file_status st;
    CU_ASSERT_EQUAL(spindle_queue_single_file_status(client, q[0], &st), SPINDLE_OK);
    CU_ASSERT_STRING_EQUAL(st.holder, spindle_handle_id(h[0]));
    CU_ASSERT_TRUE(st.lease_ms > 0 && st.lease_ms <= harness_scaled_ms(FLEET_TTL_MS));
    CU_ASSERT_EQUAL(
        fleet_wait_state(h[1], "running", harness_scaled_ms(FLEET_TTL_MS + FLEET_SWEEP_MS) + 2000),
        0);
    printf("\n    the next task started %lld ms after the kill (lease TTL %ld ms)",
           (long long)(harness_ms() - killed_at), harness_scaled_ms(FLEET_TTL_MS));

    /* The queue goes on; the killed task is put back by the sweep and runs again. */
    CU_ASSERT_EQUAL(wait_all(h, N, harness_scaled_ms(HARNESS_WAIT_MS)), N);
    CU_ASSERT_EQUAL(fleet_num(h[0], "lost", 0), 1);
    CU_ASSERT_EQUAL(fleet_num(h[0], "attempts", 0), 2);
    run r[N];
    CU_ASSERT_EQUAL(overlaps(h, N, r), 0); /* the final runs: all on live workers */
    CU_ASSERT_EQUAL(lease_exists(q[0]), 0);
    free_all(h, N);
}

static void test_other_queue_kept_busy(void)
{
    enum { SLOW = 3, SLOW_MS = 300, FAST = 10, FAST_MS = 30 };
    static const char *const q[] = {"sfm", "plain"};
    CU_ASSERT_EQUAL_FATAL(fleet_fresh(&client), 0);
    CU_ASSERT_EQUAL_FATAL(spindle_queue_single_file(client, q[0], 1), SPINDLE_OK);
    spindle_handle *slow[SLOW] = {0}, *fast[FAST] = {0};
    CU_ASSERT_EQUAL_FATAL(enqueue_n(q[0], "sleep_ms", SLOW_MS, -1, SLOW, slow), 0);
    CU_ASSERT_EQUAL_FATAL(enqueue_n(q[1], "sleep_ms", FAST_MS, -1, FAST, fast), 0);
    CU_ASSERT_FATAL(worker(q, 2, 3) > 0); /* strict priority: the single-file queue first */
    CU_ASSERT_EQUAL(wait_all(slow, SLOW, harness_scaled_ms(HARNESS_WAIT_MS)), SLOW);
    CU_ASSERT_EQUAL(wait_all(fast, FAST, harness_scaled_ms(HARNESS_WAIT_MS)), FAST);
    run r[SLOW];
    CU_ASSERT_EQUAL(overlaps(slow, SLOW, r), 0);
    /* Two slots found the single-file queue busy and ran the ordinary one meanwhile. */
    size_t during = 0;
    for (size_t i = 0; i < FAST; i++) {
        long long s = fleet_num(fast[i], "started_at", -1);
        for (size_t j = 0; j < SLOW; j++)
            if (s >= r[j].start && s < r[j].end) {
                during++;
                break;
            }
    }
    printf("\n    %zu of %d ordinary tasks started while a single-file task ran", during, FAST);
    CU_ASSERT_TRUE(during >= FAST - 1);
    free_all(slow, SLOW);
    free_all(fast, FAST);
}

static void test_retry_frees_lease(void)
{
    static const char *const q[] = {"sfr"};
    CU_ASSERT_EQUAL_FATAL(fleet_fresh(&client), 0);
    CU_ASSERT_EQUAL_FATAL(spindle_queue_single_file(client, q[0], 1), SPINDLE_OK);
    spindle_handle *h[3] = {0};
    CU_ASSERT_PTR_NOT_NULL_FATAL(h[0] = fleet_enqueue(client, q[0], "fail_attempt", -1, 1, 0));
    CU_ASSERT_EQUAL_FATAL(fleet_set_backoff(h[0], 400, 400), 0);
    CU_ASSERT_EQUAL_FATAL(enqueue_n(q[0], "sleep_ms", 20, -1, 2, h + 1), 0);
    CU_ASSERT_FATAL(worker(q, 1, 2) > 0);
    CU_ASSERT_EQUAL(wait_all(h + 1, 2, harness_scaled_ms(HARNESS_WAIT_MS)), 2);
    spindle_result *res = NULL;
    CU_ASSERT_EQUAL(spindle_wait(client, h[0], harness_scaled_ms(HARNESS_WAIT_MS), &res),
                    SPINDLE_ERR_TASK_FAILED);
    spindle_result_free(res);
    /* While the failed task waited for its retry, the others ran: the lease was freed; its
     * retry joined the back of the queue. */
    CU_ASSERT_EQUAL(fleet_num(h[0], "retried", 0), 1);
    CU_ASSERT_TRUE(fleet_num(h[2], "finished_at", 0) <= fleet_num(h[0], "started_at", 0));
    CU_ASSERT_TRUE(fleet_num(h[1], "finished_at", 0) <= fleet_num(h[2], "started_at", 0));
    CU_ASSERT_EQUAL(lease_exists(q[0]), 0);
    free_all(h, 3);
}

static void test_off_runs_in_parallel(void)
{
    enum { N = 6, TASK_MS = 200 };
    static const char *const q[] = {"sfo"};
    CU_ASSERT_EQUAL_FATAL(fleet_fresh(&client), 0);
    spindle_single_file_status st;
    CU_ASSERT_EQUAL(spindle_queue_single_file_status(client, q[0], &st), SPINDLE_OK);
    CU_ASSERT_EQUAL(st.on, 0);
    CU_ASSERT_STRING_EQUAL(st.holder, "");
    CU_ASSERT_EQUAL(st.lease_ms, -1);
    CU_ASSERT_EQUAL_FATAL(spindle_queue_single_file(client, q[0], 1), SPINDLE_OK);
    spindle_handle *h[N] = {0};
    CU_ASSERT_EQUAL_FATAL(enqueue_n(q[0], "sleep_ms", TASK_MS, -1, N / 2, h), 0);
    CU_ASSERT_FATAL(worker(q, 1, 3) > 0);
    /* While one runs, the status names it. */
    CU_ASSERT_EQUAL_FATAL(fleet_wait_state(h[0], "running", harness_scaled_ms(5000)), 0);
    CU_ASSERT_EQUAL(spindle_queue_single_file_status(client, q[0], &st), SPINDLE_OK);
    CU_ASSERT_EQUAL(st.on, 1);
    CU_ASSERT_STRING_EQUAL(st.holder, spindle_handle_id(h[0]));
    CU_ASSERT_TRUE(st.lease_ms > 0 && st.lease_ms <= harness_scaled_ms(FLEET_TTL_MS));
    CU_ASSERT_EQUAL(wait_all(h, N / 2, harness_scaled_ms(HARNESS_WAIT_MS)), N / 2);
    run r[N];
    CU_ASSERT_EQUAL(overlaps(h, N / 2, r), 0);

    CU_ASSERT_EQUAL_FATAL(spindle_queue_single_file(client, q[0], 0), SPINDLE_OK);
    CU_ASSERT_EQUAL(spindle_queue_single_file_status(client, q[0], &st), SPINDLE_OK);
    CU_ASSERT_EQUAL(st.on, 0);
    CU_ASSERT_EQUAL_FATAL(enqueue_n(q[0], "sleep_ms", TASK_MS, -1, N / 2, h + N / 2), 0);
    CU_ASSERT_EQUAL(wait_all(h + N / 2, N / 2, harness_scaled_ms(HARNESS_WAIT_MS)), N / 2);
    int ov = overlaps(h + N / 2, N / 2, r);
    printf("\n    off: %d of %d consecutive runs overlap", ov, N / 2 - 1);
    CU_ASSERT_TRUE(ov >= 1);
    for (size_t i = N / 2; i < N; i++)
        CU_ASSERT_TRUE(fleet_absent(h[i], "lease"));
    free_all(h, N);
}

/* Waits until the worker's log holds needle; returns the log (caller frees). */
static char *log_with(pid_t w, const char *needle)
{
    char *log = NULL;
    for (int64_t end = harness_ms() + harness_scaled_ms(3000); harness_ms() < end;
         harness_sleep_ms(20)) {
        free(log);
        log = harness_worker_log(w);
        if (strstr(log, needle))
            break;
    }
    return log;
}

static void test_garbage_by_hand(void)
{
    static const char *const q[] = {"sfg"};
    CU_ASSERT_EQUAL_FATAL(fleet_fresh(&client), 0);
    CU_ASSERT_EQUAL_FATAL(spindle_queue_single_file(client, q[0], 1), SPINDLE_OK);
    char lease[512], limits[512];
    harness_key(lease, sizeof(lease), q[0], "lease");
    harness_key(limits, sizeof(limits), q[0], "limits");
    CU_ASSERT_EQUAL_FATAL(harness_int("RPUSH %s junk", lease), 1);
    spindle_handle *h = fleet_enqueue(client, q[0], "add", 1, -1, 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    pid_t w = worker(q, 1, 1);
    CU_ASSERT_FATAL(w > 0);

    /* A lease of the wrong type: the queue is skipped with a message naming the key. */
    char *log = log_with(w, "not a string (the lease of a single-file queue)");
    CU_ASSERT_PTR_NOT_NULL(strstr(log, "skipping queue 'sfg'"));
    CU_ASSERT_PTR_NOT_NULL(strstr(log, "holds a list"));
    free(log);
    spindle_single_file_status st;
    CU_ASSERT_EQUAL(spindle_queue_single_file_status(client, q[0], &st), SPINDLE_ERR_REDIS);
    CU_ASSERT_PTR_NOT_NULL(strstr(spindle_errstr(client), "holds a list, not a string"));
    CU_ASSERT_EQUAL(spindle_queue_single_file(client, q[0], 0), SPINDLE_ERR_REDIS);
    char *state = fleet_field(h, "state");
    CU_ASSERT_STRING_EQUAL(state ? state : "", "pending");
    free(state);

    /* A lease that would never expire (a new worker: the skip is logged once per 10 s). */
    CU_ASSERT_EQUAL(harness_worker_stop(w, 5000, NULL), 0);
    CU_ASSERT_EQUAL_FATAL(harness_int("DEL %s", lease), 1);
    redisReply *r = harness_cmd("SET %s nobody", lease);
    freeReplyObject(r);
    CU_ASSERT_FATAL((w = worker(q, 1, 1)) > 0);
    log = log_with(w, "with no expiry (written by hand? delete it)");
    CU_ASSERT_PTR_NOT_NULL(strstr(log, "holds \"nobody\""));
    free(log);
    CU_ASSERT_EQUAL(spindle_queue_single_file_status(client, q[0], &st), SPINDLE_ERR_PROTOCOL);
    CU_ASSERT_PTR_NOT_NULL(strstr(spindle_errstr(client), "'nobody' with no expiry"));

    /* A declaration that is not "1". */
    CU_ASSERT_EQUAL(harness_worker_stop(w, 5000, NULL), 0);
    CU_ASSERT_EQUAL_FATAL(harness_int("DEL %s", lease), 1);
    CU_ASSERT_EQUAL_FATAL(harness_int("HSET %s !single-file yes", limits), 0);
    CU_ASSERT_FATAL((w = worker(q, 1, 1)) > 0);
    log = log_with(w, "is \"yes\", not 1");
    CU_ASSERT_PTR_NOT_NULL(strstr(log, "single-file flag"));
    free(log);
    spindle_rate_limit *l = NULL;
    size_t n = 0;
    CU_ASSERT_EQUAL(spindle_limit_list(client, q[0], &l, &n), SPINDLE_ERR_PROTOCOL);
    CU_ASSERT_PTR_NOT_NULL(strstr(spindle_errstr(client), "is 'yes' in Redis, not 1"));
    state = fleet_field(h, "state");
    CU_ASSERT_STRING_EQUAL(state ? state : "", "pending");
    free(state);

    /* Declared again properly: nothing was lost. */
    CU_ASSERT_EQUAL(spindle_queue_single_file(client, q[0], 1), SPINDLE_OK);
    spindle_result *res = NULL;
    CU_ASSERT_EQUAL(spindle_wait(client, h, harness_scaled_ms(HARNESS_WAIT_MS), &res), SPINDLE_OK);
    CU_ASSERT_EQUAL(spindle_result_state(res), SPINDLE_STATE_SUCCEEDED);
    spindle_result_free(res);
    spindle_handle_free(h);
}

/* Runs the CLI with args after the connection options; fills *out. 0 if it ran. */
static int cli(harness_output *out, const char *a, const char *b, const char *c, const char *d)
{
    char bin[300];
    snprintf(bin, sizeof(bin), "%s/bin/spindle", harness_build());
    char *const argv[] = {bin,
                          "--redis",
                          (char *)harness_url(),
                          "--namespace",
                          (char *)harness_ns(),
                          (char *)a,
                          (char *)b,
                          (char *)c,
                          (char *)d,
                          NULL};
    return harness_run(argv, 5000, out);
}

static void test_cli(void)
{
    CU_ASSERT_EQUAL_FATAL(fleet_fresh(&client), 0);
    harness_output out;
    CU_ASSERT_EQUAL_FATAL(cli(&out, "limit", "single-file", "clq", "on"), 0);
    CU_ASSERT_EQUAL(out.code, 0);
    harness_output_free(&out);
    CU_ASSERT_EQUAL_FATAL(cli(&out, "limit", "set", "clq", "5/s"), 0);
    CU_ASSERT_EQUAL(out.code, 0);
    harness_output_free(&out);
    CU_ASSERT_EQUAL_FATAL(cli(&out, "limit", "list", "clq", NULL), 0);
    CU_ASSERT_EQUAL(out.code, 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out.out, "5/s"));
    CU_ASSERT_PTR_NOT_NULL(strstr(out.out, "single-file"));
    CU_ASSERT_TRUE(strstr(out.out, "5/s") < strstr(out.out, "single-file"));
    harness_output_free(&out);
    CU_ASSERT_EQUAL_FATAL(cli(&out, "limit", "list", "--json", NULL), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out.out, "\"single_file\":true"));
    harness_output_free(&out);
    CU_ASSERT_EQUAL_FATAL(cli(&out, "limit", "single-file", "clq", NULL), 0);
    CU_ASSERT_EQUAL(out.code, 0);
    CU_ASSERT_STRING_EQUAL(out.out, "clq: single-file on\n");
    harness_output_free(&out);
    /* The API lists the declaration after the queue's rate. */
    spindle_rate_limit *l = NULL;
    size_t n = 0;
    CU_ASSERT_EQUAL_FATAL(spindle_limit_list(client, "clq", &l, &n), SPINDLE_OK);
    CU_ASSERT_EQUAL_FATAL(n, 2);
    CU_ASSERT_EQUAL(l[0].single_file, 0);
    CU_ASSERT_EQUAL(l[0].count, 5);
    CU_ASSERT_EQUAL(l[1].single_file, 1);
    CU_ASSERT_STRING_EQUAL(l[1].func, "");
    spindle_limit_list_free(l);
    CU_ASSERT_EQUAL_FATAL(cli(&out, "limit", "single-file", "clq", "off"), 0);
    CU_ASSERT_EQUAL(out.code, 0);
    harness_output_free(&out);
    CU_ASSERT_EQUAL_FATAL(cli(&out, "limit", "single-file", "clq", NULL), 0);
    CU_ASSERT_STRING_EQUAL(out.out, "clq: single-file off\n");
    harness_output_free(&out);
    CU_ASSERT_EQUAL_FATAL(cli(&out, "limit", "single-file", "clq", "maybe"), 0);
    CU_ASSERT_EQUAL(out.code, 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(out.err, "'maybe' is not on or off"));
    harness_output_free(&out);
    /* The layout of docs/PROTOCOL.md. */
    char key[512];
    CU_ASSERT_EQUAL(
        harness_int("HEXISTS %s !single-file", harness_key(key, sizeof(key), "clq", "limits")), 0);
    CU_ASSERT_EQUAL(spindle_queue_single_file(client, "bad name", 1), SPINDLE_ERR_INVALID);
}

int register_single_file_tests(void)
{
    static const test_case tests[] = {
        {"3 workers x 3 slots: 30 tasks one at a time, in enqueue order, no overlap",
         test_three_workers_in_order},
        {"worker killed mid-task: the lease outlives it, lapses, the queue goes on",
         test_worker_killed_mid_task},
        {"a worker keeps its ordinary queue busy while the single-file one is held",
         test_other_queue_kept_busy},
        {"a failed attempt frees the lease while it waits for its retry", test_retry_frees_lease},
        {"status names the holder; off lets tasks run in parallel again",
         test_off_runs_in_parallel},
        {"garbage lease or declaration by hand: clear error, nothing lost", test_garbage_by_hand},
        {"CLI: single-file on/off/show, listed with the limits", test_cli},
        {NULL, NULL},
    };
    return add_suite("single-file queues", suite_init, suite_cleanup, tests);
}
