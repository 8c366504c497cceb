/* Garbage under Spindle's keys, written by hand the way an operator with redis-cli or a buggy
 * producer in another language could write it, for the keys and fields test_bad_tasks.c does
 * not cover: a hash where the wake list, the queue's workers set, the scheduled zset, the
 * fleet's workers set or the queue registry belongs, a string where the limits hash belongs;
 * task hashes without `args`, with a 5 MB `func`, with state "banana", with attempts "x",
 * with random bytes as args. Each test starts a fresh worker on the garbage, then checks
 * that the bad thing is named in its log a bounded number of times (once, not every 50 ms
 * tick), that a task that can be marked `failed` is (with the reason in `error`), and that a
 * good task enqueued after the garbage completes. Last, the CLI on the same garbage: a clear
 * message, no crash. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <CUnit/CUnit.h>

#include "cli_run.h"
#include "common/names.h"
#include "fleet.h"
#include "suites.h"

static spindle_client *client;

static int suite_init(void)
{
    if (harness_suite_init() != 0)
        return -1;
    client = harness_client();
    return client ? 0 : -1;
}

static int suite_cleanup(void)
{
    harness_stop_workers();
    spindle_client_free(client);
    client = NULL;
    return harness_suite_cleanup();
}

static void cmd(const char *fmt, const char *key)
{
    redisReply *r = harness_cmd(fmt, key);
    CU_ASSERT_TRUE(r && r->type != REDIS_REPLY_ERROR);
    if (r)
        freeReplyObject(r);
}

/* add(20, 22) on queue must give 42 within the usual wait. */
static void assert_serves(const char *queue)
{
    long args[2] = {20, 22};
    spindle_handle *h = fleet_enqueue_args(client, queue, "add", args, 2, -1, 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    spindle_result *r = NULL;
    int rc = spindle_wait(client, h, HARNESS_WAIT_MS, &r);
    CU_ASSERT_EQUAL(rc, SPINDLE_OK);
    if (rc != SPINDLE_OK)
        fprintf(stderr, "\n  add on '%s': rc %d (%s)\n", queue, rc, spindle_errstr(client));
    CU_ASSERT_TRUE(r && spindle_result_value(r)->via.u64 == 42);
    spindle_result_free(r);
    spindle_handle_free(h);
}

/* Starts a worker on queues (comma-separated) after a fresh start; its PID. */
static pid_t fresh_worker(void)
{
    return harness_worker_fork("default,other", 0);
}

/* Lets the worker run into the garbage for a while (1 s: 20 supervisor ticks, several idle
 * waits), then asserts that its log names what (a key or an id) at least once and at most
 * max times. */
static void assert_logged_between(pid_t w, const char *what, int min, int max)
{
    harness_sleep_ms(harness_scaled_ms(1000));
    char *log = harness_worker_log(w);
    int n = fleet_count(log, what);
    CU_ASSERT_TRUE(n >= min && n <= max);
    if (n < min || n > max)
        fprintf(stderr, "\n  '%s' named %d times in the worker's log (%d..%d expected):\n%.3000s\n",
                what, n, min, max, log ? log : "");
    free(log);
    CU_ASSERT_TRUE(harness_child_alive(w));
}

static void assert_logged(pid_t w, const char *what, int max)
{
    assert_logged_between(w, what, 1, max);
}

/* A hash where a queue-level key belongs; the worker serves default and other. A broken key
 * the claim script needs makes its queue unusable (skipped, logged); the other queue and
 * (for hints like the wake list) the same queue go on. */
static void garbage_queue_key(const char *suffix, const char *type_cmd, int same_queue_serves,
                              int min_lines)
{
    CU_ASSERT_EQUAL_FATAL(fleet_fresh(&client), 0);
    char key[512];
    harness_key(key, sizeof(key), "default", suffix);
    cmd(type_cmd, key);
    pid_t w = fresh_worker();
    CU_ASSERT_TRUE_FATAL(w > 0);
    assert_serves("other");
    if (same_queue_serves)
        assert_serves("default");
    assert_logged_between(w, key, min_lines, 2);
    assert_serves("other");
}

static void test_wake_hash(void)
{
    garbage_queue_key("wake", "HSET %s a b", 1, 1);
}

static void test_queue_workers_hash(void)
{
    /* Only added to (SADD under pcall, in the claim script) while the worker lives: nothing
     * to say until a sweep needs it. */
    garbage_queue_key("workers", "HSET %s a b", 1, 0);
}

static void test_scheduled_hash(void)
{
    garbage_queue_key("scheduled", "HSET %s a b", 0, 1);
}

static void test_limits_string(void)
{
    garbage_queue_key("limits", "SET %s 10/1000/1", 0, 1);
}

/* Two broken queues: each is named (once), the third is served. */
static void test_two_broken_queues(void)
{
    CU_ASSERT_EQUAL_FATAL(fleet_fresh(&client), 0);
    char sched[512], limits[512];
    harness_key(sched, sizeof(sched), "default", "scheduled");
    harness_key(limits, sizeof(limits), "other", "limits");
    cmd("HSET %s a b", sched);
    cmd("SET %s 10/1000/1", limits);
    pid_t w = harness_worker_fork("default,other,third", 0);
    CU_ASSERT_TRUE_FATAL(w > 0);
    assert_serves("third");
    assert_logged(w, sched, 1);
    assert_logged(w, limits, 1);
}

/* NS:workers and NS:queues: namespace-wide. */
static void garbage_ns_key(const char *suffix, int max)
{
    CU_ASSERT_EQUAL_FATAL(fleet_fresh(&client), 0);
    char key[512];
    harness_key(key, sizeof(key), NULL, suffix);
    cmd("HSET %s a b", key);
    pid_t w = fresh_worker();
    CU_ASSERT_TRUE_FATAL(w > 0);
    assert_serves("default");
    assert_logged(w, key, max);
    assert_serves("other");
}

static void test_fleet_workers_hash(void)
{
    /* Said by each part that adds to it: the slot at its start, the supervisor's sweep and
     * its round of heartbeats; each at most every 10 s. */
    garbage_ns_key("workers", 3);
}

/* NS:queues: a producer registers a queue before its first enqueue there, and is refused with
 * the key named; the worker serves without it. Once repaired, enqueues go through. */
static void test_queue_registry_hash(void)
{
    CU_ASSERT_EQUAL_FATAL(fleet_fresh(&client), 0);
    char key[512];
    harness_key(key, sizeof(key), NULL, "queues");
    cmd("HSET %s a b", key);
    pid_t w = fresh_worker();
    CU_ASSERT_TRUE_FATAL(w > 0);
    spindle_args *a = spindle_args_new();
    spindle_handle *h = NULL;
    CU_ASSERT_EQUAL(spindle_enqueue(client, "add", a, NULL, &h), SPINDLE_ERR_REDIS);
    CU_ASSERT_PTR_NOT_NULL(strstr(spindle_errstr(client), key));
    spindle_args_free(a);
    spindle_handle_free(h);
    /* One line from each part that uses it: the worker's start, its sweep, its slot. */
    assert_logged(w, key, 3);
    cmd("DEL %s", key);
    assert_serves("default");
}

/* NS:queues garbled: the sweep cannot list the fleet's queues, so it sweeps the ones its
 * worker serves. A worker that never beat holds a running task of default: the task goes
 * back to pending (lost 1) and runs, and the key is still named in the log. */
static void test_queue_registry_hash_sweep(void)
{
    CU_ASSERT_EQUAL_FATAL(fleet_fresh(&client), 0);
    char key[512], task[512], suffix[128], id[SPINDLE_ID_LEN + 1];
    harness_key(key, sizeof(key), NULL, "queues");
    cmd("HSET %s a b", key);
    spindle_id_new(id);
    CU_ASSERT_EQUAL(fleet_plant_running("default", "ghost-host:1:0badf00d", id, 1, 0), 0);
    snprintf(suffix, sizeof(suffix), "task:%s", id);
    harness_key(task, sizeof(task), "default", suffix);
    pid_t w = fresh_worker();
    CU_ASSERT_TRUE_FATAL(w > 0);
    /* One sweep interval (3 s) after the worker's start grace of one heartbeat TTL. */
    CU_ASSERT_EQUAL(harness_wait_hfield(task, "state", "succeeded", 3L * HARNESS_WAIT_MS), 0);
    char *lost = harness_hget(task, "lost", NULL);
    CU_ASSERT_STRING_EQUAL(lost ? lost : "", "1");
    free(lost);
    assert_logged(w, key, 3);
    cmd("DEL %s", key);
}

/* Writes a task hash on default from field/value pairs and pushes its id with a wake token. */
static int inject(char id[SPINDLE_ID_LEN + 1], int nf, const char **fv, const size_t *lens)
{
    spindle_id_new(id);
    char key[512], pending[512], wake[512], suffix[64];
    snprintf(suffix, sizeof(suffix), "task:%s", id);
    harness_key(key, sizeof(key), "default", suffix);
    harness_key(pending, sizeof(pending), "default", "pending");
    harness_key(wake, sizeof(wake), "default", "wake");
    const char *argv[16] = {"HSET", key};
    size_t l[16] = {4, strlen(key)};
    for (int i = 0; i < nf && i < 14; i++) {
        argv[2 + i] = fv[i];
        l[2 + i] = lens ? lens[i] : strlen(fv[i]);
    }
    redisReply *r = harness_cmdargv(2 + nf, argv, l);
    int ok = r && r->type == REDIS_REPLY_INTEGER;
    if (r)
        freeReplyObject(r);
    ok = ok && harness_int("LPUSH %s %s", pending, id) > 0;
    ok = ok && harness_int("LPUSH %s 1", wake) > 0;
    return ok ? 0 : -1;
}

/* The task ends `failed` with want in its error (read from the hash). */
static void assert_failed(const char *id, const char *want)
{
    char key[512], suffix[64];
    snprintf(suffix, sizeof(suffix), "task:%s", id);
    harness_key(key, sizeof(key), "default", suffix);
    CU_ASSERT_EQUAL(harness_wait_hfield(key, "state", "failed", HARNESS_WAIT_MS), 0);
    char *err = harness_hget(key, "error", NULL);
    CU_ASSERT_PTR_NOT_NULL(err ? strstr(err, want) : NULL);
    if (err == NULL || strstr(err, want) == NULL)
        fprintf(stderr, "\n  task %s: error '%.300s', expected '%s'\n", id, err ? err : "(none)",
                want);
    free(err);
}

static void test_no_args(void)
{
    CU_ASSERT_EQUAL_FATAL(fleet_fresh(&client), 0);
    pid_t w = fresh_worker();
    CU_ASSERT_TRUE_FATAL(w > 0);
    char id[SPINDLE_ID_LEN + 1];
    const char *fv[] = {"func", "echo", "state", "pending"};
    CU_ASSERT_EQUAL_FATAL(inject(id, 4, fv, NULL), 0);
    assert_failed(id, "args of 'echo'");
    assert_serves("default");
    assert_logged(w, id, 2);
}

/* A 5 MB function name: refused as a name, and the error and the log line are short. */
static void test_huge_func(void)
{
    CU_ASSERT_EQUAL_FATAL(fleet_fresh(&client), 0);
    pid_t w = fresh_worker();
    CU_ASSERT_TRUE_FATAL(w > 0);
    enum { BIG = 5 * 1024 * 1024 };
    char *big = malloc(BIG);
    CU_ASSERT_PTR_NOT_NULL_FATAL(big);
    memset(big, 'f', BIG);
    char id[SPINDLE_ID_LEN + 1];
    const char *fv[] = {"func", big, "args", "\x90", "state", "pending"};
    size_t lens[] = {4, BIG, 4, 1, 5, 7};
    CU_ASSERT_EQUAL_FATAL(inject(id, 6, fv, lens), 0);
    free(big);
    assert_failed(id, "not registered");
    char key[512], suffix[64];
    snprintf(suffix, sizeof(suffix), "task:%s", id);
    harness_key(key, sizeof(key), "default", suffix);
    size_t len = 0;
    char *err = harness_hget(key, "error", &len);
    CU_ASSERT_TRUE(err && len < 1024);
    free(err);
    assert_serves("default");
    assert_logged(w, id, 2);
    char *log = harness_worker_log(w);
    CU_ASSERT_TRUE(log && strlen(log) < 64UL * 1024);
    free(log);
}

/* A state no version of the protocol has: the id is taken off pending, the task ends
 * `failed` saying so (it would otherwise sit in no list at all). */
static void test_state_banana(void)
{
    CU_ASSERT_EQUAL_FATAL(fleet_fresh(&client), 0);
    pid_t w = fresh_worker();
    CU_ASSERT_TRUE_FATAL(w > 0);
    char id[SPINDLE_ID_LEN + 1];
    const char *fv[] = {"func", "add", "args", "\x92\x01\x02", "state", "banana"};
    CU_ASSERT_EQUAL_FATAL(inject(id, 6, fv, NULL), 0);
    assert_failed(id, "banana");
    assert_serves("default");
    assert_logged(w, id, 2);
}

/* attempts "x": HINCRBY would fail half-way through the claim script, after the batch's
 * other tasks were moved to running; the script checks it first and fails the task. The
 * good tasks in the same batch are claimed and run. */
static void test_attempts_not_a_number(void)
{
    CU_ASSERT_EQUAL_FATAL(fleet_fresh(&client), 0);
    /* Enqueued before the worker starts, so that one claim takes them all. */
    long args[2] = {20, 22};
    spindle_handle *before = fleet_enqueue_args(client, "default", "add", args, 2, -1, 0);
    char id[SPINDLE_ID_LEN + 1];
    const char *fv[] = {"func", "add", "args", "\x92\x01\x02", "state", "pending", "attempts", "x"};
    CU_ASSERT_EQUAL_FATAL(inject(id, 8, fv, NULL), 0);
    spindle_handle *after = fleet_enqueue_args(client, "default", "add", args, 2, -1, 0);
    pid_t w = fresh_worker();
    CU_ASSERT_TRUE_FATAL(w > 0);
    assert_failed(id, "attempts");
    spindle_handle *hs[2] = {before, after};
    for (int i = 0; i < 2; i++) {
        spindle_result *r = NULL;
        CU_ASSERT_EQUAL(hs[i] ? spindle_wait(client, hs[i], HARNESS_WAIT_MS, &r) : -1, SPINDLE_OK);
        spindle_result_free(r);
        spindle_handle_free(hs[i]);
    }
    assert_serves("default");
    assert_logged(w, id, 2);
}

/* 4 KiB of random bytes as args (seeded: the same bytes every run). */
static void test_random_args(void)
{
    CU_ASSERT_EQUAL_FATAL(fleet_fresh(&client), 0);
    pid_t w = fresh_worker();
    CU_ASSERT_TRUE_FATAL(w > 0);
    enum { N = 4096 };
    char bytes[N];
    unsigned seed = 12345;
    for (int i = 0; i < N; i++) {
        seed = seed * 1103515245u + 12345u;
        bytes[i] = (char)(seed >> 16);
    }
    bytes[0] = '\xc1'; /* never valid msgpack, whatever the rest is */
    char id[SPINDLE_ID_LEN + 1];
    const char *fv[] = {"func", "echo", "args", bytes, "state", "pending"};
    size_t lens[] = {4, 4, 4, N, 5, 7};
    CU_ASSERT_EQUAL_FATAL(inject(id, 6, fv, lens), 0);
    assert_failed(id, "args of 'echo'");
    assert_serves("default");
    assert_logged(w, id, 2);
}

/* Periodic tasks: an entry whose key is a string, one with a spec that is not one, and the
 * entries index itself of the wrong type. Each bad entry is named once; the worker serves. */
static void test_cron_entries(void)
{
    CU_ASSERT_EQUAL_FATAL(fleet_fresh(&client), 0);
    char index[512], bad1[512], bad2[512];
    harness_key(index, sizeof(index), "cron", "entries");
    harness_key(bad1, sizeof(bad1), "cron", "entry:bad1");
    harness_key(bad2, sizeof(bad2), "cron", "entry:bad2");
    redisReply *r = harness_cmd("SADD %s bad1 bad2", index);
    if (r)
        freeReplyObject(r);
    cmd("SET %s oops", bad1);
    r = harness_cmd("HSET %s spec banana func add queue default rev 1", bad2);
    if (r)
        freeReplyObject(r);
    pid_t w = fresh_worker();
    CU_ASSERT_TRUE_FATAL(w > 0);
    assert_serves("default");
    assert_logged(w, "'bad1'", 1);
    assert_logged(w, "'bad2'", 1);

    /* The index a hash: the table cannot be read, said once. */
    harness_stop_workers();
    cmd("DEL %s", index);
    cmd("HSET %s a b", index);
    w = fresh_worker();
    CU_ASSERT_TRUE_FATAL(w > 0);
    assert_serves("default");
    assert_logged(w, "periodic tasks", 1);
}

/* Only registered names run: a task naming a symbol that exists in the loaded library (its
 * entry point) or in libc fails "not registered"; and the worker's log names each library
 * it loaded and the functions it registered. */
static void test_only_registered_run(void)
{
    CU_ASSERT_EQUAL_FATAL(fleet_fresh(&client), 0);
    pid_t w = harness_worker_exec("default");
    CU_ASSERT_TRUE_FATAL(w > 0);
    static const char *const symbols[] = {"spindle_register_tasks", "exit", "system"};
    for (size_t i = 0; i < sizeof(symbols) / sizeof(symbols[0]); i++) {
        spindle_handle *h = fleet_enqueue(client, "default", symbols[i], 0, -1, 0);
        CU_ASSERT_PTR_NOT_NULL_FATAL(h);
        spindle_result *r = NULL;
        CU_ASSERT_EQUAL(spindle_wait(client, h, HARNESS_WAIT_MS, &r), SPINDLE_ERR_TASK_FAILED);
        const char *err = r ? spindle_result_error(r) : NULL;
        CU_ASSERT_PTR_NOT_NULL(err ? strstr(err, "not registered") : NULL);
        spindle_result_free(r);
        spindle_handle_free(h);
    }
    assert_serves("default");
    char *log = harness_worker_log(w);
    CU_ASSERT_PTR_NOT_NULL(strstr(log, "loading task library "));
    CU_ASSERT_PTR_NOT_NULL(strstr(log, "spindle-example-tasks.so registered "));
    char line[1024];
    const char *at = log ? strstr(log, "spindle-example-tasks.so registered ") : NULL;
    snprintf(line, sizeof(line), "%.*s", at ? (int)strcspn(at, "\n") : 0, at ? at : "");
    CU_ASSERT_PTR_NOT_NULL(strstr(line, "add"));
    CU_ASSERT_PTR_NOT_NULL(strstr(line, "echo"));
    free(log);
}

/* The CLI on garbage: a message, an exit code, no crash (a signal shows as code -1). */
static void test_cli_on_garbage(void)
{
    CU_ASSERT_EQUAL_FATAL(fleet_fresh(&client), 0);
    char queues[512], pending[512], task[512], suffix[64], id[SPINDLE_ID_LEN + 1];
    harness_key(queues, sizeof(queues), NULL, "queues");
    harness_key(pending, sizeof(pending), "default", "pending");
    spindle_id_new(id);
    snprintf(suffix, sizeof(suffix), "task:%s", id);
    harness_key(task, sizeof(task), "default", suffix);
    cmd("HSET %s a b", queues);
    cmd("SET %s oops", pending);
    cmd("SET %s oops", task);

    harness_output o = cli_run("queues", NULL);
    CU_ASSERT_NOT_EQUAL(o.code, 0);
    CU_ASSERT_NOT_EQUAL(o.code, -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(o.err, queues));
    harness_output_free(&o);

    o = cli_run("list", "default", NULL);
    CU_ASSERT_NOT_EQUAL(o.code, 0);
    CU_ASSERT_NOT_EQUAL(o.code, -1);
    CU_ASSERT_TRUE(strlen(o.err) > 0);
    harness_output_free(&o);

    o = cli_run("status", id, "--queue", "default", NULL);
    CU_ASSERT_NOT_EQUAL(o.code, 0);
    CU_ASSERT_NOT_EQUAL(o.code, -1);
    CU_ASSERT_TRUE(strlen(o.err) > 0);
    harness_output_free(&o);

    o = cli_run("inspect", id, "--queue", "default", NULL);
    CU_ASSERT_NOT_EQUAL(o.code, 0);
    CU_ASSERT_NOT_EQUAL(o.code, -1);
    CU_ASSERT_TRUE(strlen(o.err) > 0);
    harness_output_free(&o);

    /* A hash with a state no version has, and one with no fields Spindle knows. */
    cmd("DEL %s", task);
    redisReply *r = harness_cmd("HSET %s state banana attempts x", task);
    if (r)
        freeReplyObject(r);
    o = cli_run("inspect", id, "--queue", "default", NULL); /* the raw fields, as they are */
    CU_ASSERT_EQUAL(o.code, 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(o.out, "banana"));
    harness_output_free(&o);
    o = cli_run("status", id, "--queue", "default", NULL);
    CU_ASSERT_NOT_EQUAL(o.code, 0);
    CU_ASSERT_NOT_EQUAL(o.code, -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(o.err, "banana"));
    harness_output_free(&o);
}

int register_garbage_tests(void)
{
    static const test_case tests[] = {
        {"wake list is a hash", test_wake_hash},
        {"queue's workers set is a hash", test_queue_workers_hash},
        {"scheduled zset is a hash", test_scheduled_hash},
        {"limits hash is a string", test_limits_string},
        {"two broken queues: each named", test_two_broken_queues},
        {"fleet's workers set is a hash", test_fleet_workers_hash},
        {"queue registry is a hash", test_queue_registry_hash},
        {"queue registry is a hash: the sweep still recovers", test_queue_registry_hash_sweep},
        {"task without args", test_no_args},
        {"task with a 5 MB func", test_huge_func},
        {"task with state banana", test_state_banana},
        {"task with attempts x", test_attempts_not_a_number},
        {"task with random bytes as args", test_random_args},
        {"cron entries of the wrong type", test_cron_entries},
        {"only registered names run; --load logged", test_only_registered_run},
        {"CLI on garbage", test_cli_on_garbage},
        {NULL, NULL},
    };
    return add_suite("garbage in Redis (forked worker)", suite_init, suite_cleanup, tests);
}
