/* Rate limits (limits.h, docs/PROTOCOL.md "Rate limits"), watched from outside with forked
 * workers: a queue limit of 50/s (burst 10) holds across 5 workers — no 1-s window of start
 * times holds more than 50 + burst, the whole run takes as long as the tokens say, no task is
 * lost or run twice, and the workers do not spin while they wait; a function's limit paces
 * that function alone while the queue's other functions run at once, its waiting tasks
 * `scheduled` and counted in `throttled`, never as retries; bad specs are refused by the API,
 * the parser and the CLI with messages naming what is wrong, and garbage written into the
 * limits hash by hand stops the queue (with an error in the log) without losing its tasks. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "fleet.h"
#include "spindle/limits.h"
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

/* Enqueues n tasks of func (no arguments) on queue into h[0..n). 0 on success. */
static int enqueue_n(const char *queue, const char *func, size_t n, spindle_handle **h)
{
    spindle_task_spec *specs = calloc(n, sizeof(*specs));
    spindle_enqueue_options o;
    spindle_enqueue_options_init(&o);
    o.queue = queue;
    for (size_t i = 0; i < n; i++)
        specs[i] = (spindle_task_spec){.func = func};
    int rc = spindle_enqueue_bulk(client, specs, n, &o, h);
    free(specs);
    if (rc != SPINDLE_OK)
        fprintf(stderr, "\n  enqueue: %s\n", spindle_errstr(client));
    return rc == SPINDLE_OK ? 0 : -1;
}

/* Waits for every task to succeed; returns how many did within timeout_ms. */
static size_t wait_all(spindle_handle **h, size_t n, long timeout_ms)
{
    int64_t deadline = harness_ms() + timeout_ms;
    size_t ok = 0;
    for (size_t i = 0; i < n; i++) {
        long left = (long)(deadline - harness_ms());
        spindle_result *r = NULL;
        if (spindle_wait(client, h[i], left > 0 ? left : 1, &r) == SPINDLE_OK)
            ok++;
        spindle_result_free(r);
    }
    return ok;
}

static int cmp_ll(const void *a, const void *b)
{
    long long x = *(const long long *)a, y = *(const long long *)b;
    return (x > y) - (x < y);
}

/* The most start times in any window [t, t + window_ms) of the sorted times. */
static int busiest_window(const long long *t, size_t n, long window_ms)
{
    int best = 0;
    for (size_t i = 0, j = 0; i < n; i++) {
        while (j < n && t[j] < t[i] + window_ms)
            j++;
        if ((int)(j - i) > best)
            best = (int)(j - i);
    }
    return best;
}

/* Calls of one command so far, from INFO commandstats; 0 if none. */
static long long calls(const char *info, const char *cmd)
{
    char needle[64];
    snprintf(needle, sizeof(needle), "cmdstat_%s:calls=", cmd);
    const char *p = strstr(info, needle);
    return p ? atoll(p + strlen(needle)) : 0;
}

/* The scripts and blocking waits clients sent so far: what a worker spinning on an empty
 * bucket would multiply (the commands a script runs inside count apart). */
static long long sent_commands(void)
{
    redisReply *info = harness_cmd("INFO commandstats");
    long long n = 0;
    if (info && info->type == REDIS_REPLY_STRING)
        n = calls(info->str, "evalsha") + calls(info->str, "brpop") + calls(info->str, "blpop");
    freeReplyObject(info);
    return n;
}

static void free_all(spindle_handle **h, size_t n)
{
    for (size_t i = 0; i < n; i++)
        spindle_handle_free(h[i]);
}

static void test_queue_limit_fleet(void)
{
    enum { N = 130, RATE = 50, BURST = 10, WORKERS = 5 };
    static const char *const q[] = {"rl"};
    CU_ASSERT_EQUAL_FATAL(fleet_fresh(&client), 0);
    CU_ASSERT_EQUAL_FATAL(spindle_limit_set(client, q[0], NULL, RATE, 1000, BURST), SPINDLE_OK);
    spindle_handle *h[N] = {0};
    CU_ASSERT_EQUAL_FATAL(enqueue_n(q[0], "add", N, h), 0);
    long long cmds0 = sent_commands();
    int64_t t0 = harness_ms();
    for (int i = 0; i < WORKERS; i++)
        CU_ASSERT_FATAL(fleet_worker(q, 1) > 0);
    /* (N - BURST) / RATE = 2.4 s at the least. */
    size_t ok = wait_all(h, N, harness_scaled_ms(2400) + 5000);
    double secs = (double)(harness_ms() - t0) / 1000.0;
    CU_ASSERT_EQUAL(ok, N);
    long long cmds1 = sent_commands();

    long long started[N];
    size_t n = 0;
    for (size_t i = 0; i < N; i++) {
        long long s = fleet_num(h[i], "started_at", -1);
        if (s > 0)
            started[n++] = s;
        CU_ASSERT_EQUAL(fleet_num(h[i], "attempts", -1), 1); /* ran once: nothing lost or redone */
    }
    CU_ASSERT_EQUAL_FATAL(n, N);
    qsort(started, n, sizeof(started[0]), cmp_ll);
    int busiest = busiest_window(started, n, 1000);
    long long span = started[n - 1] - started[0];
    printf("\n    %d starts in the busiest second (limit %d + burst %d); span %lld ms; %.0f "
           "scripts and waits/s over %.1f s",
           busiest, RATE, BURST, span, (double)(cmds1 - cmds0) / secs, secs);
    CU_ASSERT_TRUE(busiest <= RATE + BURST);
    CU_ASSERT_TRUE(span >= (N - BURST - 1) * 1000 / RATE - 50);
    /* Waiting is sleeping, not spinning: 5 slots claiming in a loop would send tens of
     * thousands of scripts a second. Each slot claims about once per token (50/s), plus this
     * test's waits and the heartbeats. */
    CU_ASSERT_TRUE((double)(cmds1 - cmds0) / secs < 1500.0);
    free_all(h, N);
}

static void test_function_limit(void)
{
    enum { SLOW = 8, FAST = 60 };
    static const char *const q[] = {"rlf"};
    CU_ASSERT_EQUAL_FATAL(fleet_fresh(&client), 0);
    CU_ASSERT_EQUAL_FATAL(spindle_limit_set(client, q[0], "echo", 10, 1000, 1), SPINDLE_OK);
    spindle_handle *slow[SLOW] = {0}, *fast[FAST] = {0};
    CU_ASSERT_EQUAL_FATAL(enqueue_n(q[0], "echo", SLOW, slow), 0);
    CU_ASSERT_EQUAL_FATAL(enqueue_n(q[0], "add", FAST, fast), 0);
    CU_ASSERT_FATAL(fleet_worker(q, 1) > 0);
    CU_ASSERT_FATAL(fleet_worker(q, 1) > 0);
    /* While echo tasks wait for their tokens they are `scheduled`, not failed or retried. */
    int seen_waiting = 0;
    for (int64_t end = harness_ms() + harness_scaled_ms(600); !seen_waiting && harness_ms() < end;
         harness_sleep_ms(5)) {
        for (size_t i = 0; i < SLOW && !seen_waiting; i++) {
            char *st = fleet_field(slow[i], "state");
            if (st && strcmp(st, "scheduled") == 0 && fleet_num(slow[i], "throttled", 0) >= 1 &&
                fleet_absent(slow[i], "retried") && fleet_absent(slow[i], "error") &&
                fleet_in_zset(q[0], "scheduled", slow[i]))
                seen_waiting = 1;
            free(st);
        }
    }
    CU_ASSERT_TRUE(seen_waiting);
    CU_ASSERT_EQUAL(wait_all(fast, FAST, harness_scaled_ms(HARNESS_WAIT_MS)), FAST);
    CU_ASSERT_EQUAL(wait_all(slow, SLOW, harness_scaled_ms(HARNESS_WAIT_MS)), SLOW);
    long long fs[FAST], ss[SLOW];
    for (size_t i = 0; i < FAST; i++)
        fs[i] = fleet_num(fast[i], "started_at", 0);
    for (size_t i = 0; i < SLOW; i++) {
        ss[i] = fleet_num(slow[i], "started_at", 0);
        CU_ASSERT_EQUAL(fleet_num(slow[i], "attempts", -1), 1);
        CU_ASSERT_TRUE(fleet_absent(slow[i], "retried"));
        CU_ASSERT_TRUE(fleet_absent(slow[i], "throttle_until"));
    }
    qsort(fs, FAST, sizeof(fs[0]), cmp_ll);
    qsort(ss, SLOW, sizeof(ss[0]), cmp_ll);
    printf("\n    add: %d tasks in %lld ms; echo (10/s, burst 1): %d tasks in %lld ms", FAST,
           fs[FAST - 1] - fs[0], SLOW, ss[SLOW - 1] - ss[0]);
    /* echo: one token per 100 ms from the first (Redis's clock, ms resolution). */
    for (size_t i = 1; i < SLOW; i++) {
        printf(" +%lld", ss[i] - ss[0]);
        CU_ASSERT_TRUE(ss[i] - ss[0] >= (long long)i * 100 - 2);
    }
    /* add is not held up by the echo tasks waiting: all done before half of echo's run. */
    CU_ASSERT_TRUE(fs[FAST - 1] < ss[0] + (SLOW - 1) * 100 / 2);
    free_all(slow, SLOW);
    free_all(fast, FAST);
}

static void test_set_list_remove(void)
{
    CU_ASSERT_EQUAL_FATAL(fleet_fresh(&client), 0);
    CU_ASSERT_EQUAL(spindle_limit_set(client, "lq", "zeta", 5, 60000, 0), SPINDLE_OK);
    CU_ASSERT_EQUAL(spindle_limit_set(client, "lq", NULL, 100, 1000, 20), SPINDLE_OK);
    CU_ASSERT_EQUAL(spindle_limit_set(client, "lq", "alpha", 1, 500, 1), SPINDLE_OK);
    CU_ASSERT_EQUAL(spindle_limit_set(client, "lq", "alpha", 2, 500, 1), SPINDLE_OK); /* replace */
    spindle_rate_limit *l = NULL;
    size_t n = 0;
    CU_ASSERT_EQUAL_FATAL(spindle_limit_list(client, NULL, &l, &n), SPINDLE_OK);
    CU_ASSERT_EQUAL_FATAL(n, 3);
    CU_ASSERT_STRING_EQUAL(l[0].func, "");
    CU_ASSERT_EQUAL(l[0].count, 100);
    CU_ASSERT_EQUAL(l[0].burst, 20);
    CU_ASSERT_STRING_EQUAL(l[1].func, "alpha");
    CU_ASSERT_EQUAL(l[1].count, 2);
    CU_ASSERT_STRING_EQUAL(l[2].func, "zeta");
    CU_ASSERT_EQUAL(l[2].interval_ms, 60000);
    CU_ASSERT_EQUAL(l[2].burst, 5); /* 0: one interval's worth */
    spindle_limit_list_free(l);
    /* The layout of docs/PROTOCOL.md. */
    char key[512];
    char *spec = harness_hget(harness_key(key, sizeof(key), "lq", "limits"), "*", NULL);
    CU_ASSERT_STRING_EQUAL(spec ? spec : "", "100/1000/20");
    free(spec);
    CU_ASSERT_EQUAL(spindle_limit_remove(client, "lq", "zeta"), SPINDLE_OK);
    CU_ASSERT_EQUAL(spindle_limit_remove(client, "lq", "zeta"), SPINDLE_ERR_NOT_FOUND);
    CU_ASSERT_STRING_EQUAL(spindle_errstr(client),
                           "function 'zeta' on queue 'lq' has no rate limit");
    CU_ASSERT_EQUAL(spindle_limit_list(client, "lq", &l, &n), SPINDLE_OK);
    CU_ASSERT_EQUAL(n, 2);
    spindle_limit_list_free(l);
}

static void test_bad_specs(void)
{
    CU_ASSERT_EQUAL_FATAL(fleet_fresh(&client), 0);
    CU_ASSERT_EQUAL(spindle_limit_set(client, "q", NULL, 0, 1000, 0), SPINDLE_ERR_INVALID);
    CU_ASSERT_STRING_EQUAL(spindle_errstr(client),
                           "rate limit of queue 'q': count 0 and burst 0 must be in 1-1000000");
    CU_ASSERT_EQUAL(spindle_limit_set(client, "q", "f", 5, 0, 0), SPINDLE_ERR_INVALID);
    CU_ASSERT_STRING_EQUAL(spindle_errstr(client),
                           "rate limit of function 'f' on queue 'q': "
                           "interval 0 ms is not in 1-604800000 ms (7 days)");
    CU_ASSERT_EQUAL(spindle_limit_set(client, "a b", NULL, 5, 1000, 0), SPINDLE_ERR_INVALID);
    CU_ASSERT_EQUAL(spindle_limit_set(client, "q", "f{x}", 5, 1000, 0), SPINDLE_ERR_INVALID);
    char key[512];
    CU_ASSERT_EQUAL(harness_int("EXISTS %s", harness_key(key, sizeof(key), "q", "limits")), 0);

    struct {
        const char *text;
        long count, interval_ms; /* 0: refused */
        const char *why;
    } cases[] = {
        {"50/s", 50, 1000, NULL},       {"100/m", 100, 60000, NULL},
        {"10/500ms", 10, 500, NULL},    {"3/2h", 3, 7200000, NULL},
        {"1/7d", 1, 604800000, NULL},   {"50", 0, 0, "has no '/'"},
        {"0/s", 0, 0, "the count"},     {"-5/s", 0, 0, "the count"},
        {"5/x", 0, 0, "the interval"},  {"5/0s", 0, 0, "the interval"},
        {"5/8d", 0, 0, "the interval"}, {"5/s ", 0, 0, "the interval"},
        {"abc/s", 0, 0, "the count"},   {"5/", 0, 0, "the interval"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        long c = 0, ms = 0;
        char why[256] = "";
        int rc = spindle_limit_parse(cases[i].text, &c, &ms, why, sizeof(why));
        if (cases[i].count) {
            CU_ASSERT_EQUAL(rc, SPINDLE_OK);
            CU_ASSERT_EQUAL(c, cases[i].count);
            CU_ASSERT_EQUAL(ms, cases[i].interval_ms);
        } else {
            CU_ASSERT_EQUAL(rc, SPINDLE_ERR_INVALID);
            CU_ASSERT_PTR_NOT_NULL(strstr(why, cases[i].why));
            CU_ASSERT_PTR_NOT_NULL(strstr(why, cases[i].text));
        }
    }

    /* At most SPINDLE_LIMITS_PER_QUEUE limits per queue. */
    char func[32];
    for (int i = 0; i < SPINDLE_LIMITS_PER_QUEUE; i++) {
        snprintf(func, sizeof(func), "f%d", i);
        CU_ASSERT_EQUAL(spindle_limit_set(client, "many", func, 1, 1000, 0), SPINDLE_OK);
    }
    CU_ASSERT_EQUAL(spindle_limit_set(client, "many", "one-more", 1, 1000, 0), SPINDLE_ERR_INVALID);
    CU_ASSERT_PTR_NOT_NULL(strstr(spindle_errstr(client), "has 64 limits already"));
    CU_ASSERT_EQUAL(spindle_limit_set(client, "many", "f3", 2, 1000, 0), SPINDLE_OK); /* replace */

    /* The CLI: a usage error (2) naming the rate. */
    char bin[300];
    snprintf(bin, sizeof(bin), "%s/bin/spindle", harness_build());
    char *const argv[] = {
        bin,   "--redis", (char *)harness_url(), "--namespace", (char *)harness_ns(), "limit",
        "set", "q",       "5/fortnight",         NULL};
    harness_output out;
    CU_ASSERT_EQUAL_FATAL(harness_run(argv, 5000, &out), 0);
    CU_ASSERT_EQUAL(out.code, 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(out.err, "rate '5/fortnight': the interval must be"));
    harness_output_free(&out);
}

/* A spec written by hand that does not parse: the worker refuses to claim from the queue,
 * says why in its log, and loses nothing; removing the limit lets the task run. */
static void test_garbage_spec(void)
{
    static const char *const q[] = {"rlg"};
    CU_ASSERT_EQUAL_FATAL(fleet_fresh(&client), 0);
    char key[512];
    harness_key(key, sizeof(key), q[0], "limits");
    CU_ASSERT_EQUAL_FATAL(harness_int("HSET %s * lots", key), 1);
    spindle_handle *h = fleet_enqueue(client, q[0], "add", 1, -1, 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    pid_t w = fleet_worker(q, 1);
    CU_ASSERT_FATAL(w > 0);
    char *log = NULL;
    for (int64_t end = harness_ms() + harness_scaled_ms(3000); harness_ms() < end;
         harness_sleep_ms(20)) {
        free(log);
        log = harness_worker_log(w);
        if (strstr(log, "not COUNT/INTERVAL_MS/BURST"))
            break;
    }
    CU_ASSERT_PTR_NOT_NULL(strstr(log, "skipping queue 'rlg'"));
    CU_ASSERT_PTR_NOT_NULL(strstr(log, "rate limit \"*\""));
    free(log);
    char *st = fleet_field(h, "state");
    CU_ASSERT_STRING_EQUAL(st ? st : "", "pending");
    free(st);
    spindle_rate_limit *l = NULL;
    size_t n = 0;
    CU_ASSERT_EQUAL(spindle_limit_list(client, q[0], &l, &n), SPINDLE_ERR_PROTOCOL);
    CU_ASSERT_PTR_NOT_NULL(strstr(spindle_errstr(client), "is 'lots' in Redis"));
    CU_ASSERT_EQUAL(spindle_limit_remove(client, q[0], NULL), SPINDLE_OK);
    spindle_result *r = NULL;
    CU_ASSERT_EQUAL(spindle_wait(client, h, harness_scaled_ms(HARNESS_WAIT_MS), &r), SPINDLE_OK);
    spindle_result_free(r);
    spindle_handle_free(h);
}

int register_rate_limit_tests(void)
{
    static const test_case tests[] = {
        {"queue limit 50/s burst 10 holds across 5 workers; nothing lost, no spinning",
         test_queue_limit_fleet},
        {"function limit paces that function only; its waiting tasks are scheduled",
         test_function_limit},
        {"set, replace, list, remove", test_set_list_remove},
        {"bad specs refused: API, parser, CLI, per-queue cap", test_bad_specs},
        {"garbage spec in Redis: queue skipped with a clear error, nothing lost",
         test_garbage_spec},
        {NULL, NULL},
    };
    return add_suite("rate limits", suite_init, suite_cleanup, tests);
}
