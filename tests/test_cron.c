/* Periodic tasks with Redis and forked workers (docs/PROTOCOL.md, "Periodic tasks"): an
 * `@every 1s` entry fired by three supervisors enqueues one task per tick, their tick stamps
 * consecutive and none twice; after all workers stop for a few ticks, a restart fires none
 * of the missed ticks but the newest (no catch-up), or all of them (catch-up); a tick
 * claimed but not enqueued (a supervisor that died between the two steps) is finished by
 * another, once; bad specs are refused by the API, the CLI and the worker with the field
 * named; `spindle cron` lists last and next run, adds and removes.
 *
 * The entries enqueue on a queue no worker serves, so their tasks stay in its pending list to
 * be counted. Every wait is bounded and scaled by harness_slowdown(). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <CUnit/CUnit.h>

#include "fleet.h"
#include "spindle/cron.h"
#include "suites.h"

static spindle_client *client;
static const char *const served[] = {"cron-served"};
#define TICK_QUEUE "cron-ticks"

static int suite_init(void)
{
    return harness_suite_init_client(&client);
}

static int suite_cleanup(void)
{
    return harness_suite_cleanup_client(&client);
}

/* Adds an @every 1s entry enqueuing echo on TICK_QUEUE. */
static int add_every_second(const char *name, int catch_up)
{
    spindle_cron_entry e;
    spindle_cron_entry_init(&e);
    e.name = name;
    e.spec = "@every 1s";
    e.func = "echo";
    e.opts.queue = TICK_QUEUE;
    e.catch_up = catch_up;
    int rc = spindle_cron_set(client, &e, NULL);
    if (rc != SPINDLE_OK)
        fprintf(stderr, "cron set: %s\n", spindle_errstr(client));
    return rc;
}

static int by_value(const void *a, const void *b)
{
    long long x = *(const long long *)a, y = *(const long long *)b;
    return (x > y) - (x < y);
}

/* The cron_tick of every task in TICK_QUEUE's pending list, sorted, into out (cap); returns
 * how many. Checks each task's `cron` field names the entry. */
static size_t ticks(const char *name, long long *out, size_t cap)
{
    char key[512];
    redisReply *r =
        harness_cmd("LRANGE %s 0 -1", harness_key(key, sizeof(key), TICK_QUEUE, "pending"));
    size_t n = 0;
    for (size_t i = 0; r && r->type == REDIS_REPLY_ARRAY && i < r->elements && n < cap; i++) {
        char tk[600];
        snprintf(tk, sizeof(tk), "%s:{%s}:task:%s", harness_ns(), TICK_QUEUE, r->element[i]->str);
        char *cron = harness_hget(tk, "cron", NULL), *tick = harness_hget(tk, "cron_tick", NULL);
        CU_ASSERT_STRING_EQUAL(cron ? cron : "", name);
        out[n++] = tick ? atoll(tick) : -1;
        free(cron);
        free(tick);
    }
    if (r)
        freeReplyObject(r);
    qsort(out, n, sizeof(*out), by_value);
    return n;
}

/* Waits until TICK_QUEUE holds at least n tasks: 0 if seen within timeout_ms. */
static int wait_tasks(long long n, long timeout_ms)
{
    char key[512];
    harness_key(key, sizeof(key), TICK_QUEUE, "pending");
    for (int64_t end = harness_ms() + timeout_ms; harness_ms() < end; harness_sleep_ms(20))
        if (harness_int("LLEN %s", key) >= n)
            return 0;
    return -1;
}

static long long redis_now_ms(void)
{
    redisReply *r = harness_cmd("TIME");
    long long ms = -1;
    if (r && r->type == REDIS_REPLY_ARRAY && r->elements == 2)
        ms = atoll(r->element[0]->str) * 1000 + atoll(r->element[1]->str) / 1000;
    if (r)
        freeReplyObject(r);
    return ms;
}

/* Checks ticks[0..n) are whole seconds, distinct and consecutive. */
static void check_consecutive(const long long *t, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        CU_ASSERT_EQUAL(t[i] % 1000, 0);
        if (i > 0)
            CU_ASSERT_EQUAL(t[i] - t[i - 1], 1000); /* no duplicate, no gap */
    }
}

static void start_workers(pid_t *pids, int n)
{
    for (int i = 0; i < n; i++) {
        pids[i] = fleet_worker(served, 1);
        CU_ASSERT_TRUE(pids[i] > 0);
    }
}

static void stop_workers(const pid_t *pids, int n)
{
    for (int i = 0; i < n; i++)
        harness_worker_stop(pids[i], harness_scaled_ms(5000), NULL);
}

static void test_three_workers_fire_once_per_tick(void)
{
    CU_ASSERT_EQUAL_FATAL(fleet_fresh(&client), 0);
    CU_ASSERT_EQUAL_FATAL(add_every_second("tick", 0), SPINDLE_OK);
    pid_t pids[3];
    start_workers(pids, 3);
    CU_ASSERT_EQUAL(wait_tasks(1, harness_scaled_ms(HARNESS_WAIT_MS)), 0);
    harness_sleep_ms(3500);
    stop_workers(pids, 3);
    long long t[64];
    size_t n = ticks("tick", t, 64);
    CU_ASSERT_TRUE(n >= 3);
    CU_ASSERT_TRUE(n <= 6);
    check_consecutive(t, n);
    /* The entry records the last one, and the task of each tick has the derived id. */
    char key[512];
    snprintf(key, sizeof(key), "%s:{cron}:entry:tick", harness_ns());
    char *last = harness_hget(key, "last_tick", NULL),
         *pending = harness_hget(key, "pending", NULL);
    CU_ASSERT_TRUE(last && n > 0 && atoll(last) == t[n - 1]);
    CU_ASSERT_PTR_NULL(pending);
    free(last);
    free(pending);
}

/* Stops every worker for about 2.5 ticks, restarts them, and returns how many of the ticks
 * missed in between were fired, and into *missed how many there were. */
static long long downtime(const char *name, int catch_up, long long *missed)
{
    CU_ASSERT_EQUAL_FATAL(fleet_fresh(&client), 0);
    CU_ASSERT_EQUAL_FATAL(add_every_second(name, catch_up), SPINDLE_OK);
    pid_t pids[2];
    start_workers(pids, 2);
    CU_ASSERT_EQUAL(wait_tasks(1, harness_scaled_ms(HARNESS_WAIT_MS)), 0);
    stop_workers(pids, 2);
    long long before[64];
    size_t nb = ticks(name, before, 64);
    long long last = nb ? before[nb - 1] : 0;
    harness_sleep_ms(2600);
    long long restart = redis_now_ms();
    start_workers(pids, 2);
    CU_ASSERT_EQUAL(wait_tasks((long long)nb + 1, harness_scaled_ms(HARNESS_WAIT_MS)), 0);
    harness_sleep_ms(1500);
    stop_workers(pids, 2);
    long long t[128];
    size_t n = ticks(name, t, 128);
    long long fired = 0;
    for (size_t i = 0; i < n; i++)
        fired += t[i] > last && t[i] <= restart;
    for (size_t i = 1; i < n; i++)
        CU_ASSERT_TRUE(t[i] > t[i - 1]); /* never twice */
    *missed = (restart / 1000 * 1000 - last) / 1000;
    CU_ASSERT_TRUE(*missed >= 2);
    return fired;
}

static void test_restart_skips_missed_ticks(void)
{
    long long missed = 0;
    long long fired = downtime("skip", 0, &missed);
    CU_ASSERT_TRUE(fired <= 1); /* at most the newest, which was on time at the restart */
}

static void test_restart_catches_up(void)
{
    long long missed = 0;
    long long fired = downtime("catchup", 10, &missed);
    CU_ASSERT_EQUAL(fired, missed);
}

/* A supervisor that claimed a tick and died before enqueueing it leaves `pending`: the next
 * supervisor enqueues that tick (once, with the derived id) and clears it. */
static void test_half_done_tick_is_finished_once(void)
{
    CU_ASSERT_EQUAL_FATAL(fleet_fresh(&client), 0);
    /* A spec due only on the first of the month half a year away, so no regular tick can
     * fire while the test runs (an hourly one did, when the run crossed the hour). */
    time_t now_s = (time_t)(redis_now_ms() / 1000);
    struct tm now_tm;
    gmtime_r(&now_s, &now_tm);
    char spec[32];
    snprintf(spec, sizeof(spec), "0 0 1 %d *", (now_tm.tm_mon + 6) % 12 + 1);
    spindle_cron_entry e;
    spindle_cron_entry_init(&e);
    e.name = "half";
    e.spec = spec;
    e.func = "echo";
    e.opts.queue = TICK_QUEUE;
    CU_ASSERT_EQUAL_FATAL(spindle_cron_set(client, &e, NULL), SPINDLE_OK);
    long long tick = redis_now_ms() / 1000 * 1000 - 5000;
    char key[512];
    snprintf(key, sizeof(key), "%s:{cron}:entry:half", harness_ns());
    redisReply *r = harness_cmd("HSET %s last_tick %lld pending %lld", key, tick, tick);
    if (r)
        freeReplyObject(r);
    pid_t pids[2];
    start_workers(pids, 2);
    CU_ASSERT_EQUAL(wait_tasks(1, harness_scaled_ms(HARNESS_WAIT_MS)), 0);
    harness_sleep_ms(500);
    /* Again, as if a second supervisor had died in the same place: still one task. */
    r = harness_cmd("HSET %s pending %lld", key, tick);
    if (r)
        freeReplyObject(r);
    r = harness_cmd("PUBLISH %s:cron half", harness_ns());
    if (r)
        freeReplyObject(r);
    harness_sleep_ms(harness_scaled_ms(800));
    stop_workers(pids, 2);
    long long t[8];
    CU_ASSERT_EQUAL(ticks("half", t, 8), 1);
    CU_ASSERT_EQUAL(t[0], tick);
    char *pending = harness_hget(key, "pending", NULL);
    CU_ASSERT_PTR_NULL(pending);
    free(pending);
}

static void test_bad_spec_refused(void)
{
    CU_ASSERT_EQUAL_FATAL(fleet_fresh(&client), 0);
    spindle_cron_entry e;
    spindle_cron_entry_init(&e);
    e.name = "bad";
    e.spec = "61 * * * *";
    e.func = "echo";
    CU_ASSERT_EQUAL(spindle_cron_set(client, &e, NULL), SPINDLE_ERR_INVALID);
    CU_ASSERT_PTR_NOT_NULL(strstr(spindle_errstr(client), "minute field '61'"));
    char key[512];
    snprintf(key, sizeof(key), "%s:{cron}:entry:bad", harness_ns());
    CU_ASSERT_EQUAL(harness_int("EXISTS %s", key), 0);
    /* The CLI and the worker refuse it too, naming the field. */
    char cli[512], worker[512], lib[512];
    snprintf(cli, sizeof(cli), "%s/bin/spindle", harness_build());
    snprintf(worker, sizeof(worker), "%s/bin/spindle-worker", harness_build());
    snprintf(lib, sizeof(lib), "%s/lib/spindle-example-tasks.so", harness_build());
    char *const add[] = {cli,
                         "--redis",
                         (char *)harness_url(),
                         "--namespace",
                         (char *)harness_ns(),
                         "cron",
                         "add",
                         "bad",
                         "* * * 13 *",
                         "echo",
                         NULL};
    harness_output out;
    CU_ASSERT_EQUAL_FATAL(harness_run(add, harness_scaled_ms(HARNESS_WAIT_MS), &out), 0);
    CU_ASSERT_EQUAL(out.code, 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(out.err, "month field '13'"));
    harness_output_free(&out);
    char *const run[] = {
        worker, "--redis", (char *)harness_url(),  "--namespace", (char *)harness_ns(), "--load",
        lib,    "--cron",  "bad=*/0 * * * * echo", NULL};
    CU_ASSERT_EQUAL_FATAL(harness_run(run, harness_scaled_ms(HARNESS_WAIT_MS), &out), 0);
    CU_ASSERT_EQUAL(out.code, 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(out.err, "minute field '*/0'"));
    harness_output_free(&out);
    CU_ASSERT_EQUAL(harness_int("EXISTS %s", key), 0);
}

/* `spindle cron add`, the listing with last and next run (table and JSON), and remove. */
static void test_cli_lists_last_and_next_run(void)
{
    CU_ASSERT_EQUAL_FATAL(fleet_fresh(&client), 0);
    char cli[512];
    snprintf(cli, sizeof(cli), "%s/bin/spindle", harness_build());
    char *const add[] = {cli,
                         "--redis",
                         (char *)harness_url(),
                         "--namespace",
                         (char *)harness_ns(),
                         "cron",
                         "add",
                         "beat",
                         "@every 1s",
                         "echo",
                         "7",
                         "--queue",
                         TICK_QUEUE,
                         NULL};
    harness_output out;
    CU_ASSERT_EQUAL_FATAL(harness_run(add, harness_scaled_ms(HARNESS_WAIT_MS), &out), 0);
    CU_ASSERT_EQUAL(out.code, 0);
    CU_ASSERT_STRING_EQUAL(out.out, "added beat\n");
    harness_output_free(&out);
    pid_t pid = fleet_worker(served, 1);
    CU_ASSERT_EQUAL(wait_tasks(1, harness_scaled_ms(HARNESS_WAIT_MS)), 0);
    harness_worker_stop(pid, harness_scaled_ms(5000), NULL);
    char *const list[] = {
        cli, "--redis", (char *)harness_url(), "--namespace", (char *)harness_ns(), "cron", NULL};
    CU_ASSERT_EQUAL_FATAL(harness_run(list, harness_scaled_ms(HARNESS_WAIT_MS), &out), 0);
    CU_ASSERT_EQUAL(out.code, 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out.out, "NAME"));
    CU_ASSERT_PTR_NOT_NULL(strstr(out.out, "LAST_RUN"));
    CU_ASSERT_PTR_NOT_NULL(strstr(out.out, "NEXT_RUN"));
    CU_ASSERT_PTR_NOT_NULL(strstr(out.out, "beat  @every 1s  echo  " TICK_QUEUE));
    CU_ASSERT_EQUAL(fleet_count(out.out, "Z"), 2); /* last and next run, as UTC times */
    harness_output_free(&out);
    char *const json[] = {
        cli,      "--redis", (char *)harness_url(), "--namespace", (char *)harness_ns(), "cron",
        "--json", NULL};
    CU_ASSERT_EQUAL_FATAL(harness_run(json, harness_scaled_ms(HARNESS_WAIT_MS), &out), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out.out, "\"args\":[7]"));
    CU_ASSERT_PTR_NOT_NULL(strstr(out.out, "\"last_run\":1"));
    CU_ASSERT_PTR_NOT_NULL(strstr(out.out, "\"next_run\":1"));
    CU_ASSERT_PTR_NOT_NULL(strstr(out.out, "\"error\":null"));
    harness_output_free(&out);
    /* A hand-damaged entry is listed with why it cannot fire. */
    redisReply *r = harness_cmd("HSET %s:{cron}:entry:beat spec nonsense", harness_ns());
    if (r)
        freeReplyObject(r);
    CU_ASSERT_EQUAL_FATAL(harness_run(list, harness_scaled_ms(HARNESS_WAIT_MS), &out), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out.out, "cannot fire: cron spec 'nonsense'"));
    harness_output_free(&out);
    char *const rm[] = {cli,
                        "--redis",
                        (char *)harness_url(),
                        "--namespace",
                        (char *)harness_ns(),
                        "cron",
                        "remove",
                        "beat",
                        NULL};
    CU_ASSERT_EQUAL_FATAL(harness_run(rm, harness_scaled_ms(HARNESS_WAIT_MS), &out), 0);
    CU_ASSERT_EQUAL(out.code, 0);
    harness_output_free(&out);
    CU_ASSERT_EQUAL_FATAL(harness_run(rm, harness_scaled_ms(HARNESS_WAIT_MS), &out), 0);
    CU_ASSERT_EQUAL(out.code, 3);
    harness_output_free(&out);
}

int register_cron_tests(void)
{
    static const test_case tests[] = {
        {"@every 1s with 3 workers: one task per tick", test_three_workers_fire_once_per_tick},
        {"restart without catch-up skips missed ticks", test_restart_skips_missed_ticks},
        {"restart with catch-up fires missed ticks", test_restart_catches_up},
        {"a half-done tick is finished once", test_half_done_tick_is_finished_once},
        {"bad spec refused by API, CLI and worker", test_bad_spec_refused},
        {"spindle cron: add, list last/next run, remove", test_cli_lists_last_and_next_run},
        {NULL, NULL},
    };
    return add_suite("cron", suite_init, suite_cleanup, tests);
}
