/* The consistency audit of the sweep: task hashes left in no list their state calls for
 * (written here by hand, as a Redis failure mid-step or an operator's DEL could leave them)
 * are found by the audit of a worker sweeping every 20 ms (it audits every 20th sweep), put
 * back, and run to completion: a `running` task
 * whose worker has no in-flight list, a `pending` task missing from pending, and a
 * `scheduled` task missing from the scheduled set. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

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

/* Writes the hash of an add(2, 3) task in the given state, in no list. */
static void orphan(const char *id, const char *state, const char *extra_field,
                   const char *extra_value)
{
    char key[512], suffix[128];
    snprintf(suffix, sizeof(suffix), "task:%s", id);
    harness_key(key, sizeof(key), "default", suffix);
    const char *argv[] = {"HSET",  key,   "func",     "add", "args",      "\x92\x02\x03",
                          "state", state, "attempts", "1",   extra_field, extra_value};
    int argc = extra_field ? 12 : 10;
    size_t lens[12];
    for (int i = 0; i < argc; i++)
        lens[i] = strlen(argv[i]);
    redisReply *r = harness_cmdargv(argc, argv, lens);
    CU_ASSERT_PTR_NOT_NULL(r);
    CU_ASSERT_EQUAL(r ? r->type : -1, REDIS_REPLY_INTEGER);
    if (r)
        freeReplyObject(r);
}

static void *run_worker(void *w)
{
    spindle_worker_run(w);
    return NULL;
}

static void expect_succeeds(const char *id)
{
    spindle_handle *h = NULL;
    CU_ASSERT_EQUAL_FATAL(spindle_handle_open(client, id, "default", &h), SPINDLE_OK);
    spindle_result *r = NULL;
    CU_ASSERT_EQUAL(spindle_wait(client, h, HARNESS_WAIT_MS, &r), SPINDLE_OK);
    const msgpack_object *v = r ? spindle_result_value(r) : NULL;
    CU_ASSERT_TRUE(v && v->type == MSGPACK_OBJECT_POSITIVE_INTEGER && v->via.u64 == 5);
    spindle_result_free(r);
    spindle_handle_free(h);
}

static void test_orphans_are_repaired(void)
{
    const char *running = "00000000-0000-4000-8000-000000000001";
    const char *pending = "00000000-0000-4000-8000-000000000002";
    const char *scheduled = "00000000-0000-4000-8000-000000000003";
    orphan(running, "running", "worker", "ghost:1:deadbeef");
    orphan(pending, "pending", NULL, NULL);
    orphan(scheduled, "scheduled", "retry_at", "1000");
    char queues[512];
    CU_ASSERT_EQUAL(
        harness_int("SADD %s default", harness_key(queues, sizeof(queues), NULL, "queues")), 1);
    spindle_registry *reg = spindle_registry_new();
    CU_ASSERT_PTR_NOT_NULL_FATAL(reg);
    CU_ASSERT_EQUAL(fixture_register_tasks(reg), SPINDLE_OK);
    spindle_worker_options o;
    spindle_worker_options_init(&o);
    o.url = harness_url();
    o.ns = harness_ns();
    o.handle_signals = 0;
    o.log_level = SPINDLE_LOG_ERROR;
    o.pool = SPINDLE_POOL_THREAD;
    o.sweep_interval_ms = 20;
    spindle_worker *w = spindle_worker_new(&o, reg);
    CU_ASSERT_PTR_NOT_NULL_FATAL(w);
    pthread_t t;
    CU_ASSERT_EQUAL_FATAL(pthread_create(&t, NULL, run_worker, w), 0);
    expect_succeeds(running);
    expect_succeeds(pending);
    expect_succeeds(scheduled);
    spindle_worker_stop(w);
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 5;
    CU_ASSERT_EQUAL_FATAL(pthread_timedjoin_np(t, NULL, &until), 0);
    spindle_worker_free(w);
    spindle_registry_free(reg);
    char key[512];
    CU_ASSERT_EQUAL(harness_int("ZCARD %s", harness_key(key, sizeof(key), "default", "scheduled")),
                    0);
    CU_ASSERT_EQUAL(harness_int("LLEN %s", harness_key(key, sizeof(key), "default", "pending")), 0);
    /* The audit keeps its SCAN cursor for the next sweep. */
    CU_ASSERT_EQUAL(harness_int("EXISTS %s", harness_key(key, sizeof(key), NULL, "audit")), 1);
}

int register_audit_tests(void)
{
    static const test_case tests[] = {
        {"orphaned running, pending, scheduled tasks are put back and run",
         test_orphans_are_repaired},
        {NULL, NULL}};
    return add_suite("consistency audit", suite_init, suite_cleanup, tests);
}
