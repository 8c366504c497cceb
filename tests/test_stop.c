/* The spindle-worker binary's process contract: SIGTERM while idle exits 0 within 3 s;
 * SIGTERM while a task runs lets the task finish and be settled before exiting 0; a worker
 * run in a thread of this process returns from spindle_worker_run() after
 * spindle_worker_stop() with its counters right; a bad
 * queue name exits 1 and a missing task library exits 2, each with a message on stderr; an
 * idle worker keeps its heartbeat, even with a short TTL. */
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <CUnit/CUnit.h>

#include "harness.h"
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

static void test_sigterm_idle(void)
{
    pid_t pid = harness_worker_exec(NULL);
    CU_ASSERT_FATAL(pid > 0);
    /* Idle: blocked in BRPOP on its wake list. */
    CU_ASSERT_EQUAL_FATAL(harness_wait_idle_workers(1, HARNESS_WAIT_MS), 0);
    /* Nothing but the worker has written: it registered its queue at start. */
    char queues[512];
    harness_key(queues, sizeof(queues), NULL, "queues");
    CU_ASSERT_EQUAL(harness_int("SISMEMBER %s default", queues), 1);
    int st = 0;
    int64_t t0 = harness_ms();
    int rc = harness_worker_stop(pid, 3000, &st);
    int64_t took = harness_ms() - t0;
    CU_ASSERT_EQUAL(rc, 0);
    CU_ASSERT_TRUE(WIFEXITED(st));
    CU_ASSERT_EQUAL(WIFEXITED(st) ? WEXITSTATUS(st) : -1, 0);
    CU_ASSERT_TRUE(took < 3000);
    if (rc != 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
        fprintf(stderr, "\n  worker %ld: stop rc %d, status 0x%x after %lld ms (log in %s)\n",
                (long)pid, rc, st, (long long)took, harness_dir());
}

static void test_sigterm_during_task(void)
{
    pid_t pid = harness_worker_exec(NULL);
    CU_ASSERT_FATAL(pid > 0);
    spindle_args *a = spindle_args_new();
    spindle_args_int(a, 400);
    spindle_handle *h = NULL;
    CU_ASSERT_EQUAL(spindle_enqueue(client, "sleep_ms", a, NULL, &h), SPINDLE_OK);
    spindle_args_free(a);
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    char key[512];
    harness_task_key(key, sizeof(key), h);
    int running = 0;
    for (int64_t end = harness_ms() + HARNESS_WAIT_MS; !running && harness_ms() < end;) {
        char *state = harness_hget(key, "state", NULL);
        running = state && strcmp(state, "running") == 0;
        free(state);
        if (!running)
            harness_sleep_ms(5);
    }
    CU_ASSERT_TRUE_FATAL(running);

    int st = 0;
    CU_ASSERT_EQUAL(harness_worker_stop(pid, 5000, &st), 0);
    CU_ASSERT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);

    /* Settled before the process went away. */
    spindle_result *r = NULL;
    CU_ASSERT_EQUAL(spindle_wait(client, h, 0, &r), SPINDLE_OK);
    CU_ASSERT_TRUE(r && spindle_result_value(r)->via.u64 == 400);
    spindle_result_free(r);
    redisReply *keys = harness_cmd("KEYS %s:{default}:inflight:*", harness_ns());
    CU_ASSERT_TRUE(keys && keys->type == REDIS_REPLY_ARRAY && keys->elements == 0);
    if (keys)
        freeReplyObject(keys);
    spindle_handle_free(h);
}

static int thread_rc = -100;

static void *worker_thread(void *arg)
{
    thread_rc = spindle_worker_run(arg);
    return NULL;
}

/* A worker run in a thread of this process: spindle_worker_stop() makes spindle_worker_run()
 * return SPINDLE_OK, and the counters add up. */
static void test_in_process_stop(void)
{
    spindle_registry *reg = spindle_registry_new();
    CU_ASSERT_PTR_NOT_NULL_FATAL(reg);
    CU_ASSERT_EQUAL(fixture_register_tasks(reg), SPINDLE_OK);
    spindle_worker_options o;
    spindle_worker_options_init(&o);
    o.url = harness_url();
    o.ns = harness_ns();
    o.handle_signals = 0;
    o.log_level = SPINDLE_LOG_ERROR;
    spindle_worker *w = spindle_worker_new(&o, reg);
    CU_ASSERT_PTR_NOT_NULL_FATAL(w);
    char pid[32];
    snprintf(pid, sizeof(pid), ":%ld:", (long)getpid());
    CU_ASSERT_PTR_NOT_NULL(strstr(spindle_worker_id(w), pid));
    pthread_t t;
    CU_ASSERT_EQUAL_FATAL(pthread_create(&t, NULL, worker_thread, w), 0);

    static const char *const funcs[] = {"add", "add", "fail", "add"};
    for (int i = 0; i < 4; i++) {
        spindle_handle *h = NULL;
        CU_ASSERT_EQUAL(spindle_enqueue(client, funcs[i], NULL, NULL, &h), SPINDLE_OK);
        spindle_result *r = NULL;
        CU_ASSERT_EQUAL(h ? spindle_wait(client, h, HARNESS_WAIT_MS, &r) : -1,
                        i == 2 ? SPINDLE_ERR_TASK_FAILED : SPINDLE_OK);
        spindle_result_free(r);
        spindle_handle_free(h);
    }
    spindle_worker_stop(w);
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 5;
    int joined = pthread_timedjoin_np(t, NULL, &until);
    CU_ASSERT_EQUAL_FATAL(joined, 0); /* a worker that never stops cannot be freed */
    CU_ASSERT_EQUAL(thread_rc, SPINDLE_OK);
    CU_ASSERT_EQUAL(spindle_worker_processed(w), 4);
    CU_ASSERT_EQUAL(spindle_worker_failed(w), 1);
    spindle_worker_free(w);
    spindle_registry_free(reg);
}

/* Runs the worker binary with extra arguments; returns its output (caller frees). */
static harness_output run_worker(const char *const *extra, size_t n)
{
    char bin[512], lib[512];
    snprintf(bin, sizeof(bin), "%s/bin/spindle-worker", harness_build());
    snprintf(lib, sizeof(lib), "%s/lib/spindle-example-tasks.so", harness_build());
    const char *argv[16] = {bin, "--redis", harness_url(), "--namespace", harness_ns()};
    size_t argc = 5;
    for (size_t i = 0; i < n && argc < 15; i++)
        argv[argc++] = strcmp(extra[i], "LIB") == 0 ? lib : extra[i];
    argv[argc] = NULL;
    harness_output out;
    if (harness_run((char *const *)argv, HARNESS_WAIT_MS, &out) != 0)
        CU_FAIL("could not run spindle-worker");
    return out;
}

static void test_bad_queue_exits_1(void)
{
    CU_ASSERT_EQUAL(harness_flushall(), 0);
    static const char *const args[] = {"--load", "LIB", "--queues", "default,bad queue"};
    harness_output out = run_worker(args, 4);
    CU_ASSERT_EQUAL(out.code, 1);
    CU_ASSERT_PTR_NOT_NULL(out.err ? strstr(out.err, "'bad queue'") : NULL);
    harness_output_free(&out);
    CU_ASSERT_EQUAL(harness_int("DBSIZE"), 0);
}

/* A Redis that may evict keys is refused unless --allow-eviction; nothing is written. */
static void test_eviction_policy(void)
{
    CU_ASSERT_EQUAL(harness_flushall(), 0);
    freeReplyObject(harness_cmd("CONFIG SET maxmemory-policy allkeys-lru"));
    static const char *const args[] = {"--load", "LIB"};
    harness_output out = run_worker(args, 2);
    CU_ASSERT_EQUAL(out.code, 1);
    CU_ASSERT_PTR_NOT_NULL(out.err ? strstr(out.err, "maxmemory-policy allkeys-lru") : NULL);
    CU_ASSERT_PTR_NOT_NULL(out.err ? strstr(out.err, "--allow-eviction") : NULL);
    harness_output_free(&out);
    CU_ASSERT_EQUAL(harness_int("DBSIZE"), 0);

    /* With the flag it warns and serves (stopped by the harness's timeout). */
    char bin[512], lib[512];
    snprintf(bin, sizeof(bin), "%s/bin/spindle-worker", harness_build());
    snprintf(lib, sizeof(lib), "%s/lib/spindle-example-tasks.so", harness_build());
    const char *argv[] = {bin,      "--redis", harness_url(),      "--namespace", harness_ns(),
                          "--load", lib,       "--allow-eviction", NULL};
    CU_ASSERT_EQUAL(harness_run((char *const *)argv, 1000, &out), 0);
    CU_ASSERT_PTR_NOT_NULL(out.err ? strstr(out.err, "tasks can be lost") : NULL);
    CU_ASSERT_PTR_NOT_NULL(out.err ? strstr(out.err, "serving") : NULL);
    harness_output_free(&out);
    freeReplyObject(harness_cmd("CONFIG SET maxmemory-policy noeviction"));
    CU_ASSERT_EQUAL(harness_int("DBSIZE") > 0, 1); /* it registered its queue */
}

static void test_usage_errors_exit_2(void)
{
    harness_output out = run_worker(NULL, 0);
    CU_ASSERT_EQUAL(out.code, 2);
    CU_ASSERT_PTR_NOT_NULL(out.err ? strstr(out.err, "--load") : NULL);
    harness_output_free(&out);

    static const char *const missing[] = {"--load", "/nonexistent/tasks.so"};
    out = run_worker(missing, 2);
    CU_ASSERT_EQUAL(out.code, 2);
    CU_ASSERT_PTR_NOT_NULL(out.err ? strstr(out.err, "/nonexistent/tasks.so") : NULL);
    harness_output_free(&out);
}

/* An idle worker keeps its heartbeat, even with a TTL shorter than the 1 s an idle slot
 * blocks on its wake lists. Its supervisor used to stop beating for a slot after one TTL
 * without progress, which an idle slot shows only once per wait: with a 0.3 s TTL the
 * heartbeat then lapsed every second, and the fleet's sweep took the idle worker for lost. */
static void test_idle_heartbeat_short_ttl(void)
{
    pid_t pid = harness_worker_fork_beating("beat", 100, 300, 100);
    CU_ASSERT_FATAL(pid > 0);
    char pattern[256], key[512] = "";
    snprintf(pattern, sizeof(pattern), "%s:worker:*", harness_ns());
    for (int64_t end = harness_ms() + HARNESS_WAIT_MS; !key[0] && harness_ms() < end;) {
        redisReply *r = harness_cmd("KEYS %s", pattern);
        for (size_t i = 0; r && r->type == REDIS_REPLY_ARRAY && i < r->elements; i++) {
            char *q = harness_hget(r->element[i]->str, "queues", NULL);
            if (q && strcmp(q, "beat") == 0)
                snprintf(key, sizeof(key), "%s", r->element[i]->str);
            free(q);
        }
        if (r)
            freeReplyObject(r);
        if (!key[0])
            harness_sleep_ms(10);
    }
    CU_ASSERT_FATAL(key[0] != '\0');
    int missing = 0;
    for (int i = 0; i < 125; i++) { /* 2.5 s: more than two idle waits */
        missing += harness_int("EXISTS %s", key) != 1;
        harness_sleep_ms(20);
    }
    CU_ASSERT_EQUAL(missing, 0);
    if (missing)
        fprintf(stderr, "\n  heartbeat %s missing in %d of 125 looks\n", key, missing);
    CU_ASSERT_EQUAL(harness_worker_stop(pid, 5000, NULL), 0);
}

int register_stop_tests(void)
{
    static const test_case tests[] = {
        {"SIGTERM while idle: exit 0 within 3 s", test_sigterm_idle},
        {"SIGTERM during a task: settled, exit 0", test_sigterm_during_task},
        {"in-process worker: spindle_worker_stop()", test_in_process_stop},
        {"bad queue name: exit 1", test_bad_queue_exits_1},
        {"evicting Redis refused unless --allow-eviction", test_eviction_policy},
        {"usage errors: exit 2", test_usage_errors_exit_2},
        {"idle worker, 0.3 s heartbeat TTL: no lapse", test_idle_heartbeat_short_ttl},
        {NULL, NULL},
    };
    return add_suite("spindle-worker process (graceful stop)", suite_init, suite_cleanup, tests);
}
