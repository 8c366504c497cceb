/* The pool: `concurrency` slots run tasks at once, as child processes (one pid each, none the
 * supervisor's) or as threads of the supervisor's process (its pid, one worker id each); and
 * a thread pool refuses a function registered with spindle_registry_require_process(),
 * failing its task with a message, while serving the others. Parallelism is read from the
 * task hashes: every task started before any finished. */
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "fleet.h"
#include "suites.h"

static spindle_client *client;
static const char *const queue[] = {"pool"};

static int suite_init(void)
{
    return harness_suite_init_client(&client);
}

static int suite_cleanup(void)
{
    return harness_suite_cleanup_client(&client);
}

/* n slots of the given pool run n tasks of sleep_ms each at the same time. */
static void run_parallel(int pool, int n)
{
    enum { MAX = 8 };
    const long sleep_ms = 600;
    CU_ASSERT_EQUAL_FATAL(fleet_fresh(&client), 0);
    spindle_worker_options o;
    fleet_options(&o, queue, 1);
    o.pool = pool;
    o.concurrency = n;
    pid_t sup = harness_worker_fork_opts(NULL, &o);
    CU_ASSERT_FATAL(sup > 0);
    /* Every slot is up and idle, so that start-up time is not measured. */
    CU_ASSERT_EQUAL_FATAL(fleet_wait_beats(sup, n, HARNESS_WAIT_MS), 0);
    CU_ASSERT_EQUAL_FATAL(harness_wait_idle_workers(n, HARNESS_WAIT_MS), 0);
    fleet_beat beats[MAX];
    CU_ASSERT_EQUAL_FATAL(fleet_beats(sup, beats, MAX), n);
    for (int i = 0; i < n; i++) {
        CU_ASSERT_STRING_EQUAL(beats[i].pool, pool == SPINDLE_POOL_THREAD ? "thread" : "process");
        CU_ASSERT_TRUE(pool == SPINDLE_POOL_THREAD ? beats[i].pid == sup
                                                   : beats[i].pid > 0 && beats[i].pid != sup);
    }

    spindle_handle *h[MAX] = {NULL};
    int64_t t0 = harness_ms();
    for (int i = 0; i < n; i++) {
        h[i] = fleet_enqueue(client, queue[0], "sleep_ms", sleep_ms, -1, 0);
        CU_ASSERT_PTR_NOT_NULL_FATAL(h[i]);
    }
    for (int i = 0; i < n; i++) {
        spindle_result *r = NULL;
        CU_ASSERT_EQUAL(spindle_wait(client, h[i], HARNESS_WAIT_MS, &r), SPINDLE_OK);
        spindle_result_free(r);
    }
    int64_t wall = harness_ms() - t0;
    /* About one task's time, far from n of them. */
    CU_ASSERT_TRUE(wall >= sleep_ms);
    CU_ASSERT_TRUE(wall < sleep_ms + harness_scaled_ms(400));
    if (wall >= sleep_ms + harness_scaled_ms(400))
        fprintf(stderr, "\n  %d tasks of %ld ms took %lld ms\n", n, sleep_ms, (long long)wall);

    long long last_start = 0, first_end = -1;
    char ids[MAX][160];
    for (int i = 0; i < n; i++) {
        long long s = fleet_num(h[i], "started_at", -1), f = fleet_num(h[i], "finished_at", -1);
        if (s > last_start)
            last_start = s;
        if (first_end < 0 || f < first_end)
            first_end = f;
        char *w = fleet_field(h[i], "worker");
        snprintf(ids[i], sizeof(ids[i]), "%s", w ? w : "");
        free(w);
        pid_t pid = harness_worker_id_pid(ids[i]);
        CU_ASSERT_TRUE(pool == SPINDLE_POOL_THREAD ? pid == sup : pid > 0 && pid != sup);
        for (int j = 0; j < i; j++)
            CU_ASSERT_STRING_NOT_EQUAL(ids[i], ids[j]); /* one task per slot */
    }
    CU_ASSERT_TRUE(last_start < first_end); /* all ran at once */
    for (int i = 0; i < n; i++)
        spindle_handle_free(h[i]);
}

static void test_process_pool_parallel(void)
{
    run_parallel(SPINDLE_POOL_PROCESS, 3);
}

static void test_thread_pool_parallel(void)
{
    run_parallel(SPINDLE_POOL_THREAD, 3);
}

/* The fixture registry, with segfault declared as needing its own process. */
static int fill_requiring_process(spindle_registry *reg)
{
    int rc = fixture_register_tasks(reg);
    return rc == SPINDLE_OK ? spindle_registry_require_process(reg, "segfault") : rc;
}

/* A thread pool fails a require_process function's task with a message instead of running
 * it (which would take the whole worker down), and serves the rest. */
static void test_thread_pool_refuses(void)
{
    CU_ASSERT_EQUAL_FATAL(fleet_fresh(&client), 0);
    spindle_worker_options o;
    fleet_options(&o, queue, 1);
    o.pool = SPINDLE_POOL_THREAD;
    pid_t sup = harness_worker_fork_opts(fill_requiring_process, &o);
    CU_ASSERT_FATAL(sup > 0);
    spindle_handle *h = fleet_enqueue(client, queue[0], "segfault", -1, -1, 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    spindle_result *r = NULL;
    CU_ASSERT_EQUAL(spindle_wait(client, h, HARNESS_WAIT_MS, &r), SPINDLE_ERR_TASK_FAILED);
    const char *err = r ? spindle_result_error(r) : "";
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "'segfault' needs process isolation"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "--pool process"));
    spindle_result_free(r);
    CU_ASSERT_EQUAL(fleet_num(h, "attempts", -1), 1);
    CU_ASSERT_TRUE(fleet_in_zset(queue[0], "dead", h));
    spindle_handle_free(h);

    CU_ASSERT_TRUE(harness_child_alive(sup));
    h = fleet_enqueue(client, queue[0], "sleep_first", 0, -1, 0);
    CU_ASSERT_EQUAL(h ? spindle_wait(client, h, HARNESS_WAIT_MS, &r) : -1, SPINDLE_OK);
    spindle_result_free(r);
    spindle_handle_free(h);

    /* spindle_registry_require_process() on an unknown name is refused. */
    spindle_registry *reg = spindle_registry_new();
    CU_ASSERT_PTR_NOT_NULL_FATAL(reg);
    CU_ASSERT_EQUAL(spindle_registry_require_process(reg, "nope"), SPINDLE_ERR_NOT_FOUND);
    CU_ASSERT_PTR_NOT_NULL(strstr(spindle_registry_errstr(reg), "'nope'"));
    spindle_registry_free(reg);
}

int register_fleet_pool_tests(void)
{
    static const test_case tests[] = {
        {"process pool, concurrency 3: 3 tasks at once", test_process_pool_parallel},
        {"thread pool, concurrency 3: 3 tasks at once", test_thread_pool_parallel},
        {"thread pool refuses a require_process function", test_thread_pool_refuses},
        {NULL, NULL},
    };
    return add_suite("fleet: pools and concurrency", suite_init, suite_cleanup, tests);
}
