/* Delayed tasks, expiry and unique tasks (docs/PROTOCOL.md, "Delayed tasks", "Expiry",
 * "Unique tasks"), end to end with forked workers.
 *
 * Times are read back from the task hash (Redis's clock): a delayed task must start no
 * earlier than its `run_at` and within 100 ms (scaled) of it while a worker with the default
 * 1 s idle wait already sleeps, which only the enqueue's wake token makes possible. Expired
 * tasks must never run (the fixture functions leave a marker file when they start) and end
 * `cancelled`, "expired". A unique key must yield one task whatever the number of concurrent
 * producers, and be free again the moment its task ends, however it ends. Bad options are
 * refused before anything reaches Redis. The CLI's time parser is tested without a server. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CUnit/CUnit.h>

#include "cli/timearg.h"
#include "fleet.h"
#include "spindle/sync.h"
#include "suites.h"

static spindle_client *client;
/* A worker serves "sched" for the whole suite; "sched-late" gets one only when a test forks
 * it, so that tasks there wait (or expire) unserved. */
static const char *const live[] = {"sched"};
static const char *const late_queue[] = {"sched-late"};

/* A worker on queues with the default heartbeat TTL, so that an idle slot sleeps the full
 * 1 s between claims (the fleet's short TTL would make it poll every 300 ms). */
static pid_t worker(const char *const *queues)
{
    spindle_worker_options o;
    fleet_options(&o, queues, 1);
    spindle_worker_options o2;
    spindle_worker_options_init(&o2);
    o.heartbeat_interval_ms = o2.heartbeat_interval_ms;
    o.heartbeat_ttl_ms = o2.heartbeat_ttl_ms;
    return harness_worker_fork_opts(NULL, &o);
}

static int suite_init(void)
{
    if (harness_suite_init_client(&client) != 0 || worker(live) < 0)
        return -1;
    return harness_wait_idle_workers(1, harness_scaled_ms(HARNESS_WAIT_MS));
}

static int suite_cleanup(void)
{
    return harness_suite_cleanup_client(&client);
}

/* Redis's clock in ms (TIME), -1 on failure. */
static long long redis_now(void)
{
    redisReply *r = harness_cmd("TIME");
    long long v = -1;
    if (r && r->type == REDIS_REPLY_ARRAY && r->elements == 2)
        v = atoll(r->element[0]->str) * 1000 + atoll(r->element[1]->str) / 1000;
    if (r)
        freeReplyObject(r);
    return v;
}

/* Enqueues func(arg) (no argument if arg < 0) with o; NULL on failure (printed). */
static spindle_handle *enq(const spindle_enqueue_options *o, const char *func, long arg)
{
    spindle_args *a = spindle_args_new();
    if (arg >= 0)
        spindle_args_int(a, arg);
    spindle_handle *h = NULL;
    int rc = spindle_enqueue(client, func, a, o, &h);
    spindle_args_free(a);
    if (rc != SPINDLE_OK)
        fprintf(stderr, "\n  enqueue %s: %s\n", func, spindle_errstr(client));
    return h;
}

/* Options on queue q with nothing else set. */
static spindle_enqueue_options on(const char *q)
{
    spindle_enqueue_options o;
    spindle_enqueue_options_init(&o);
    o.queue = q;
    return o;
}

/* 1 if the fixture function of h ever started (its marker file exists). */
static int started(const spindle_handle *h)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/started-%s", harness_dir(), spindle_handle_id(h));
    return access(path, F_OK) == 0;
}

/* The unique lock's holder (malloc'd) or NULL. */
static char *lock_holder(const char *queue, const char *key)
{
    char suffix[200], k[512];
    snprintf(suffix, sizeof(suffix), "unique:%s", key);
    harness_key(k, sizeof(k), queue, suffix);
    redisReply *r = harness_cmd("GET %s", k);
    char *v = r && r->type == REDIS_REPLY_STRING ? strdup(r->str) : NULL;
    if (r)
        freeReplyObject(r);
    return v;
}

/* How many task hashes queue has (SCAN). */
static long task_count(const char *queue)
{
    char pat[512];
    harness_key(pat, sizeof(pat), queue, "task:*");
    long n = 0;
    char cursor[32] = "0";
    do {
        redisReply *r = harness_cmd("SCAN %s MATCH %s COUNT 1000", cursor, pat);
        if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 2) {
            if (r)
                freeReplyObject(r);
            return -1;
        }
        snprintf(cursor, sizeof(cursor), "%s", r->element[0]->str);
        n += (long)r->element[1]->elements;
        freeReplyObject(r);
    } while (strcmp(cursor, "0") != 0);
    return n;
}

/* started_at - run_at of a finished delayed task (Redis's clock), printed; LLONG_MIN if
 * either is missing. */
static long long lateness(const spindle_handle *h, const char *what)
{
    long long s = fleet_num(h, "started_at", -1), r = fleet_num(h, "run_at", -1);
    if (s < 0 || r < 0)
        return -1000000;
    fprintf(stderr, "[%s: started %lld ms after run_at] ", what, s - r);
    return s - r;
}

/* The task ended `cancelled` with the error "expired", and its function never ran. */
static void check_expired(const spindle_handle *h)
{
    CU_ASSERT_EQUAL(fleet_wait_state(h, "cancelled", harness_scaled_ms(HARNESS_WAIT_MS)), 0);
    char *err = fleet_field(h, "error");
    CU_ASSERT_STRING_EQUAL(err ? err : "(none)", "expired");
    free(err);
    CU_ASSERT_FALSE(started(h));
    CU_ASSERT_TRUE(fleet_absent(h, "attempts"));
    CU_ASSERT_TRUE(fleet_absent(h, "retry_at"));
    spindle_result *res = NULL;
    CU_ASSERT_EQUAL(spindle_wait(client, h, 0, &res), SPINDLE_ERR_CANCELLED);
    if (res)
        CU_ASSERT_STRING_EQUAL(spindle_result_error(res), "expired");
    spindle_result_free(res);
}

/* ---- delayed tasks ---- */

static void test_delay_fires_on_time(void)
{
    CU_ASSERT_EQUAL(harness_wait_idle_workers(1, harness_scaled_ms(HARNESS_WAIT_MS)), 0);
    spindle_enqueue_options o = on("sched");
    o.delay_ms = 400;
    long long t0 = redis_now();
    spindle_handle *h = enq(&o, "sleep_ms", 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    spindle_task_info in;
    CU_ASSERT_EQUAL_FATAL(spindle_info(client, h, &in), SPINDLE_OK);
    CU_ASSERT_EQUAL(in.state, SPINDLE_STATE_SCHEDULED);
    CU_ASSERT_EQUAL(in.run_at_ms, in.enqueued_at_ms + 400);
    CU_ASSERT_EQUAL(in.retry_at_ms, in.run_at_ms);
    CU_ASSERT_TRUE(in.run_at_ms >= t0 + 400);
    spindle_task_info_clear(&in);
    CU_ASSERT_TRUE(fleet_in_zset("sched", "scheduled", h));
    harness_sleep_ms(200);
    CU_ASSERT_FALSE(started(h)); /* not before its time */
    CU_ASSERT_EQUAL(fleet_wait_state(h, "succeeded", harness_scaled_ms(HARNESS_WAIT_MS)), 0);
    long long late = lateness(h, "delay 400");
    CU_ASSERT_TRUE(late >= 0);
    CU_ASSERT_TRUE(late <= harness_scaled_ms(100));
    CU_ASSERT_TRUE(fleet_absent(h, "retry_at"));
    spindle_handle_free(h);
}

static void test_at_time(void)
{
    spindle_enqueue_options o = on("sched");
    o.run_at_ms = redis_now() + 300;
    spindle_handle *h = enq(&o, "sleep_ms", 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    CU_ASSERT_EQUAL(fleet_num(h, "run_at", 0), o.run_at_ms);
    CU_ASSERT_EQUAL(fleet_wait_state(h, "succeeded", harness_scaled_ms(HARNESS_WAIT_MS)), 0);
    long long late = lateness(h, "at +300");
    CU_ASSERT_TRUE(late >= 0 && late <= harness_scaled_ms(100));
    spindle_handle_free(h);
    /* A time already past runs at once, as a pending task. */
    o.run_at_ms = redis_now() - 60000;
    h = enq(&o, "sleep_ms", 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    CU_ASSERT_EQUAL(fleet_wait_state(h, "succeeded", harness_scaled_ms(HARNESS_WAIT_MS)), 0);
    spindle_handle_free(h);
}

/* A task due sooner than every task scheduled before it wakes the sleeping worker: without
 * the wake, the slot would sleep until the earlier task's due time or its 1 s idle wait. */
static void test_sooner_fires_first(void)
{
    CU_ASSERT_EQUAL(harness_wait_idle_workers(1, harness_scaled_ms(HARNESS_WAIT_MS)), 0);
    spindle_enqueue_options o = on("sched");
    o.delay_ms = 1500;
    spindle_handle *a = enq(&o, "sleep_ms", 0);
    harness_sleep_ms(50); /* the slot has claimed again and sleeps until A is due (or 1 s) */
    o.delay_ms = 300;
    spindle_handle *b = enq(&o, "sleep_ms", 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_PTR_NOT_NULL_FATAL(b);
    CU_ASSERT_EQUAL(fleet_wait_state(b, "succeeded", harness_scaled_ms(HARNESS_WAIT_MS)), 0);
    CU_ASSERT_FALSE(started(a));
    long long late = lateness(b, "sooner");
    CU_ASSERT_TRUE(late >= 0 && late <= harness_scaled_ms(100));
    CU_ASSERT_EQUAL(fleet_wait_state(a, "succeeded", harness_scaled_ms(HARNESS_WAIT_MS)), 0);
    late = lateness(a, "later");
    CU_ASSERT_TRUE(late >= 0 && late <= harness_scaled_ms(100));
    CU_ASSERT_TRUE(fleet_num(a, "started_at", 0) > fleet_num(b, "started_at", 0));
    spindle_handle_free(a);
    spindle_handle_free(b);
}

/* A bulk enqueue takes the delay for every task; a manual retry runs a delayed task now. */
static void test_bulk_and_retry(void)
{
    spindle_enqueue_options o = on("sched");
    o.delay_ms = 300;
    spindle_task_spec specs[5];
    spindle_handle *hs[5];
    static const char zero[] = "\x91\x00"; /* [0] */
    for (int i = 0; i < 5; i++)
        specs[i] = (spindle_task_spec){.func = "sleep_ms", .args = zero, .args_len = 2};
    CU_ASSERT_EQUAL_FATAL(spindle_enqueue_bulk(client, specs, 5, &o, hs), SPINDLE_OK);
    for (int i = 0; i < 5; i++) {
        CU_ASSERT_EQUAL(fleet_wait_state(hs[i], "succeeded", harness_scaled_ms(HARNESS_WAIT_MS)),
                        0);
        long long late = lateness(hs[i], "bulk");
        CU_ASSERT_TRUE(late >= 0 && late <= harness_scaled_ms(200));
        spindle_handle_free(hs[i]);
    }
    o.delay_ms = 60000;
    spindle_handle *h = enq(&o, "sleep_ms", 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    CU_ASSERT_EQUAL(spindle_retry(client, h), SPINDLE_OK);
    CU_ASSERT_FALSE(fleet_in_zset("sched", "scheduled", h));
    CU_ASSERT_EQUAL(fleet_wait_state(h, "succeeded", harness_scaled_ms(2000)), 0);
    spindle_handle_free(h);
}

/* ---- expiry ---- */

static void test_expired_pending_never_runs(void)
{
    spindle_enqueue_options o = on("sched-late");
    o.expires_in_ms = 150;
    spindle_handle *gone = enq(&o, "sleep_ms", 0);
    o.expires_in_ms = 0;
    o.deadline_ms = redis_now() + 100;
    spindle_handle *gone2 = enq(&o, "sleep_ms", 0);
    o.deadline_ms = 0;
    o.expires_in_ms = 60000;
    spindle_handle *kept = enq(&o, "sleep_ms", 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(gone);
    CU_ASSERT_PTR_NOT_NULL_FATAL(gone2);
    CU_ASSERT_PTR_NOT_NULL_FATAL(kept);
    CU_ASSERT_EQUAL(fleet_num(gone, "deadline", 0), fleet_num(gone, "enqueued_at", 0) + 150);
    harness_sleep_ms(250);
    pid_t w = worker(late_queue);
    CU_ASSERT_TRUE_FATAL(w > 0);
    CU_ASSERT_EQUAL(fleet_wait_state(kept, "succeeded", harness_scaled_ms(HARNESS_WAIT_MS)), 0);
    check_expired(gone);
    check_expired(gone2);
    CU_ASSERT_TRUE(started(kept));
    CU_ASSERT_EQUAL(harness_worker_stop(w, harness_scaled_ms(HARNESS_WAIT_MS), NULL), 0);
    spindle_handle_free(gone);
    spindle_handle_free(gone2);
    spindle_handle_free(kept);
}

static void test_expired_delayed_never_runs(void)
{
    /* Due after its deadline, on a served queue: it is promoted at the deadline, and ends. */
    spindle_enqueue_options o = on("sched");
    o.run_at_ms = redis_now() + 2000;
    o.expires_in_ms = 200;
    spindle_handle *a = enq(&o, "sleep_ms", 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    check_expired(a);
    CU_ASSERT_TRUE(fleet_num(a, "finished_at", 0) < o.run_at_ms);
    CU_ASSERT_FALSE(fleet_in_zset("sched", "scheduled", a));
    /* Due before its deadline, but nobody served the queue until both had passed. */
    o = on("sched-late");
    o.delay_ms = 100;
    o.expires_in_ms = 200;
    spindle_handle *b = enq(&o, "sleep_ms", 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(b);
    harness_sleep_ms(300);
    pid_t w = worker(late_queue);
    CU_ASSERT_TRUE_FATAL(w > 0);
    check_expired(b);
    CU_ASSERT_EQUAL(harness_worker_stop(w, harness_scaled_ms(HARNESS_WAIT_MS), NULL), 0);
    /* A manual retry runs an expired task: its deadline is gone. */
    CU_ASSERT_EQUAL(spindle_retry(client, a), SPINDLE_OK);
    CU_ASSERT_TRUE(fleet_absent(a, "deadline"));
    CU_ASSERT_EQUAL(fleet_wait_state(a, "succeeded", harness_scaled_ms(HARNESS_WAIT_MS)), 0);
    spindle_handle_free(a);
    spindle_handle_free(b);
}

/* ---- unique tasks ---- */

static void test_unique_duplicate(void)
{
    spindle_enqueue_options o = on("sched-uniq");
    o.unique_key = "report:42";
    o.unique_ttl_s = 600;
    spindle_handle *a = enq(&o, "sleep_ms", 0);
    spindle_handle *b = enq(&o, "sleep_ms", 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_PTR_NOT_NULL_FATAL(b);
    CU_ASSERT_FALSE(spindle_handle_deduplicated(a));
    CU_ASSERT_TRUE(spindle_handle_deduplicated(b));
    CU_ASSERT_STRING_EQUAL(spindle_handle_id(a), spindle_handle_id(b));
    CU_ASSERT_EQUAL(task_count("sched-uniq"), 1);
    char *holder = lock_holder("sched-uniq", "report:42");
    CU_ASSERT_STRING_EQUAL(holder ? holder : "", spindle_handle_id(a));
    free(holder);
    char k[512];
    harness_key(k, sizeof(k), "sched-uniq", "unique:report:42");
    long long ttl = harness_int("TTL %s", k);
    CU_ASSERT_TRUE(ttl > 590 && ttl <= 600);
    spindle_task_info in;
    CU_ASSERT_EQUAL_FATAL(spindle_info(client, a, &in), SPINDLE_OK);
    CU_ASSERT_STRING_EQUAL(in.unique_key, "report:42");
    spindle_task_info_clear(&in);
    /* Unique per queue: the same key on another queue is another lock. */
    o.queue = "sched-uniq2";
    spindle_handle *c = enq(&o, "sleep_ms", 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    CU_ASSERT_FALSE(spindle_handle_deduplicated(c));
    CU_ASSERT_STRING_NOT_EQUAL(spindle_handle_id(a), spindle_handle_id(c));
    /* A stale lock (its task deleted by hand) is taken over. */
    char tk[512];
    CU_ASSERT_EQUAL(harness_int("DEL %s", harness_task_key(tk, sizeof(tk), c)), 1);
    spindle_handle *d = enq(&o, "sleep_ms", 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    CU_ASSERT_FALSE(spindle_handle_deduplicated(d));
    CU_ASSERT_STRING_NOT_EQUAL(spindle_handle_id(c), spindle_handle_id(d));
    spindle_handle_free(a);
    spindle_handle_free(b);
    spindle_handle_free(c);
    spindle_handle_free(d);
}

#define PRODUCERS 6
#define PER_PRODUCER 20

/* PRODUCERS processes, released at the same instant, each enqueue the same key
 * PER_PRODUCER times: exactly one task is created, and every handle names it. */
static void test_unique_concurrent(void)
{
    int64_t go = harness_ms() + 300;
    pid_t kids[PRODUCERS];
    for (int i = 0; i < PRODUCERS; i++) {
        kids[i] = fork();
        if (kids[i] == 0) {
            spindle_client *c = harness_client();
            spindle_enqueue_options o = on("sched-race");
            o.unique_key = "once";
            o.unique_ttl_s = 60;
            char path[512];
            snprintf(path, sizeof(path), "%s/race-%d", harness_dir(), i);
            FILE *f = fopen(path, "w");
            while (harness_ms() < go)
                ;
            int bad = c == NULL || f == NULL;
            for (int j = 0; j < PER_PRODUCER && !bad; j++) {
                spindle_handle *h = NULL;
                bad = spindle_enqueue(c, "sleep_ms", NULL, &o, &h) != SPINDLE_OK;
                if (!bad)
                    fprintf(f, "%s %d\n", spindle_handle_id(h), spindle_handle_deduplicated(h));
                spindle_handle_free(h);
            }
            if (f)
                fclose(f);
            spindle_client_free(c);
            _exit(bad); /* not exit(): the harness's atexit handler would stop Redis */
        }
    }
    for (int i = 0; i < PRODUCERS; i++) {
        int st = -1;
        CU_ASSERT_TRUE(kids[i] > 0 && waitpid(kids[i], &st, 0) == kids[i]);
        CU_ASSERT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    }
    CU_ASSERT_EQUAL(task_count("sched-race"), 1);
    char *holder = lock_holder("sched-race", "once");
    CU_ASSERT_PTR_NOT_NULL_FATAL(holder);
    int created = 0, lines = 0;
    for (int i = 0; i < PRODUCERS; i++) {
        char path[512], id[64];
        int dup;
        snprintf(path, sizeof(path), "%s/race-%d", harness_dir(), i);
        FILE *f = fopen(path, "r");
        while (f && fscanf(f, "%63s %d", id, &dup) == 2) {
            lines++;
            created += !dup;
            CU_ASSERT_STRING_EQUAL(id, holder);
        }
        if (f)
            fclose(f);
    }
    CU_ASSERT_EQUAL(lines, PRODUCERS * PER_PRODUCER);
    CU_ASSERT_EQUAL(created, 1);
    free(holder);
}

/* Enqueues func with key k on queue q; the handle, not deduplicated. */
static spindle_handle *unique_task(const char *q, const char *k, const char *func, long arg)
{
    spindle_enqueue_options o = on(q);
    o.unique_key = k;
    o.unique_ttl_s = 600;
    spindle_handle *h = enq(&o, func, arg);
    CU_ASSERT_PTR_NOT_NULL(h);
    if (h)
        CU_ASSERT_FALSE(spindle_handle_deduplicated(h));
    return h;
}

/* After h ended: its lock is gone, and the same key makes a new task at once. */
static void check_released(const char *q, const char *k, const spindle_handle *h)
{
    char *holder = lock_holder(q, k);
    CU_ASSERT_PTR_NULL(holder);
    free(holder);
    spindle_handle *n = unique_task(q, k, "sleep_ms", 0);
    if (n)
        CU_ASSERT_STRING_NOT_EQUAL(spindle_handle_id(n), spindle_handle_id(h));
    if (n)
        CU_ASSERT_EQUAL(fleet_wait_state(n, "succeeded", harness_scaled_ms(HARNESS_WAIT_MS)), 0);
    spindle_handle_free(n);
}

static void test_unique_released(void)
{
    spindle_handle *ok = unique_task("sched", "u-ok", "sleep_ms", 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ok);
    CU_ASSERT_EQUAL(fleet_wait_state(ok, "succeeded", harness_scaled_ms(HARNESS_WAIT_MS)), 0);
    check_released("sched", "u-ok", ok);

    spindle_handle *bad = unique_task("sched", "u-fail", "fail", -1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(bad);
    CU_ASSERT_EQUAL(fleet_wait_state(bad, "failed", harness_scaled_ms(HARNESS_WAIT_MS)), 0);
    check_released("sched", "u-fail", bad);

    /* Cancelled while pending, and while delayed. */
    spindle_handle *c1 = unique_task("sched-late", "u-cancel", "sleep_ms", 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c1);
    CU_ASSERT_EQUAL(spindle_cancel(client, c1, -1, NULL), SPINDLE_OK);
    char *holder = lock_holder("sched-late", "u-cancel");
    CU_ASSERT_PTR_NULL(holder);
    free(holder);
    spindle_enqueue_options o = on("sched-late");
    o.unique_key = "u-cancel";
    o.unique_ttl_s = 600;
    o.delay_ms = 60000;
    spindle_handle *c2 = enq(&o, "sleep_ms", 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c2);
    CU_ASSERT_FALSE(spindle_handle_deduplicated(c2));
    /* While c2 holds the key, c1 cannot run again; once c2 has ended, it takes it back. */
    CU_ASSERT_EQUAL(spindle_retry(client, c1), SPINDLE_ERR_INVALID);
    CU_ASSERT_PTR_NOT_NULL(strstr(spindle_errstr(client), "held by task"));
    CU_ASSERT_EQUAL(spindle_cancel(client, c2, -1, NULL), SPINDLE_OK);
    char *err = fleet_field(c2, "error");
    CU_ASSERT_STRING_EQUAL(err ? err : "", "cancelled before it started");
    free(err);
    holder = lock_holder("sched-late", "u-cancel");
    CU_ASSERT_PTR_NULL(holder);
    free(holder);
    CU_ASSERT_EQUAL(spindle_retry(client, c1), SPINDLE_OK);
    holder = lock_holder("sched-late", "u-cancel");
    CU_ASSERT_STRING_EQUAL(holder ? holder : "", spindle_handle_id(c1));
    free(holder);
    CU_ASSERT_EQUAL(spindle_cancel(client, c1, -1, NULL), SPINDLE_OK);

    /* Expired. */
    o.delay_ms = 0;
    o.unique_key = "u-exp";
    o.expires_in_ms = 100;
    spindle_handle *e = enq(&o, "sleep_ms", 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(e);
    harness_sleep_ms(150);
    pid_t w = worker(late_queue);
    CU_ASSERT_TRUE_FATAL(w > 0);
    check_expired(e);
    check_released("sched-late", "u-exp", e);
    CU_ASSERT_EQUAL(harness_worker_stop(w, harness_scaled_ms(HARNESS_WAIT_MS), NULL), 0);
    spindle_handle_free(ok);
    spindle_handle_free(bad);
    spindle_handle_free(c1);
    spindle_handle_free(c2);
    spindle_handle_free(e);
}

/* ---- refusals ---- */

/* The enqueue with o is refused with SPINDLE_ERR_INVALID, its message containing what. */
static void check_refused(const spindle_enqueue_options *o, const char *what)
{
    spindle_handle *h = NULL;
    int rc = spindle_enqueue(client, "sleep_ms", NULL, o, &h);
    CU_ASSERT_EQUAL(rc, SPINDLE_ERR_INVALID);
    CU_ASSERT_PTR_NULL(h);
    int has = strstr(spindle_errstr(client), what) != NULL;
    CU_ASSERT_TRUE(has);
    if (!has)
        fprintf(stderr, "\n  message '%s' lacks '%s'\n", spindle_errstr(client), what);
    spindle_handle_free(h);
}

static void test_bad_options(void)
{
    spindle_enqueue_options o = on("sched-bad");
    o.delay_ms = -1;
    check_refused(&o, "out of range");
    o = on("sched-bad");
    o.run_at_ms = SPINDLE_MAX_TIME_MS + 1;
    check_refused(&o, "out of range");
    o = on("sched-bad");
    o.run_at_ms = 1;
    o.delay_ms = 1;
    check_refused(&o, "both set");
    o = on("sched-bad");
    o.deadline_ms = 5;
    o.expires_in_ms = 5;
    check_refused(&o, "both set");
    o = on("sched-bad");
    o.expires_in_ms = -3;
    check_refused(&o, "out of range");
    o = on("sched-bad");
    o.delay_ms = 500;
    o.expires_in_ms = 500;
    check_refused(&o, "expire before it could start");
    o = on("sched-bad");
    o.run_at_ms = 2000000000000;
    o.deadline_ms = 1999999999999;
    check_refused(&o, "expire before it could start");
    o = on("sched-bad");
    o.unique_key = "has space";
    o.unique_ttl_s = 10;
    check_refused(&o, "unique key");
    o.unique_key = "";
    check_refused(&o, "unique key");
    o.unique_key = "{tag}";
    check_refused(&o, "unique key");
    o.unique_key = "k";
    o.unique_ttl_s = 0;
    check_refused(&o, "unique_ttl_s 0");
    o.unique_ttl_s = SPINDLE_MAX_UNIQUE_TTL_S + 1;
    check_refused(&o, "unique_ttl_s");
    o = on("sched-bad");
    o.unique_ttl_s = 5;
    check_refused(&o, "without a unique_key");
    /* Bulk: unique keys are refused, bad times too. */
    spindle_task_spec spec = {.func = "sleep_ms"};
    o = on("sched-bad");
    o.unique_key = "k";
    o.unique_ttl_s = 5;
    CU_ASSERT_EQUAL(spindle_enqueue_bulk(client, &spec, 1, &o, NULL), SPINDLE_ERR_INVALID);
    CU_ASSERT_PTR_NOT_NULL(strstr(spindle_errstr(client), "not supported"));
    o = on("sched-bad");
    o.delay_ms = -5;
    CU_ASSERT_EQUAL(spindle_enqueue_bulk(client, &spec, 1, &o, NULL), SPINDLE_ERR_INVALID);
    /* A synchronous client runs each task at once: it refuses these options. */
    spindle_registry *reg = spindle_registry_new();
    spindle_client *sc = reg ? spindle_client_new_sync(reg) : NULL;
    CU_ASSERT_PTR_NOT_NULL_FATAL(sc);
    o = on("sched-bad");
    o.expires_in_ms = 10;
    CU_ASSERT_EQUAL(spindle_enqueue(sc, "sleep_ms", NULL, &o, NULL), SPINDLE_ERR_INVALID);
    CU_ASSERT_PTR_NOT_NULL(strstr(spindle_errstr(sc), "needs Redis"));
    CU_ASSERT_EQUAL(spindle_enqueue_bulk(sc, &spec, 1, &o, NULL), SPINDLE_ERR_INVALID);
    spindle_client_free(sc);
    spindle_registry_free(reg);
    /* Nothing reached Redis: not even the queue's registration. */
    char pat[512], queues[512];
    harness_key(pat, sizeof(pat), "sched-bad", "*");
    harness_key(queues, sizeof(queues), NULL, "queues");
    redisReply *r = harness_cmd("KEYS %s", pat);
    CU_ASSERT_TRUE(r && r->type == REDIS_REPLY_ARRAY && r->elements == 0);
    if (r)
        freeReplyObject(r);
    CU_ASSERT_EQUAL(harness_int("SISMEMBER %s sched-bad", queues), 0);
}

/* ---- the CLI's time parser (no server) ---- */

static void test_parse_time(void)
{
    int64_t ms = -1;
    CU_ASSERT_EQUAL(spindle_cli_parse_time("1767225600000", &ms), 0);
    CU_ASSERT_EQUAL(ms, INT64_C(1767225600000));
    CU_ASSERT_EQUAL(spindle_cli_parse_time("2026-01-01T00:00:00Z", &ms), 0);
    CU_ASSERT_EQUAL(ms, INT64_C(1767225600000));
    CU_ASSERT_EQUAL(spindle_cli_parse_time("2026-01-01 00:00:01.5Z", &ms), 0);
    CU_ASSERT_EQUAL(ms, INT64_C(1767225601500));
    CU_ASSERT_EQUAL(spindle_cli_parse_time("1970-01-01T00:00:00.007Z", &ms), 0);
    CU_ASSERT_EQUAL(ms, 7);
    CU_ASSERT_EQUAL(spindle_cli_parse_time("9999-12-31T23:59:59.999Z", &ms), 0);
    CU_ASSERT_EQUAL(ms, SPINDLE_MAX_TIME_MS);
    static const char *const bad[] = {"",
                                      "soon",
                                      "-5",
                                      "253402300800000",
                                      "2026-01-01T00:00:00",
                                      "2026-01-01T00:00:00+01:00",
                                      "2026-02-30T00:00:00Z",
                                      "2026-13-01T00:00:00Z",
                                      "2026-01-01T24:00:00Z",
                                      "2026-01-01T00:00:00.Z",
                                      "2026-01-01T00:00:00.1234Z",
                                      "1969-12-31T23:59:59Z",
                                      "2026-01-01",
                                      "12e3",
                                      NULL};
    for (int i = 0; bad[i]; i++) {
        int rc = spindle_cli_parse_time(bad[i], &ms);
        CU_ASSERT_EQUAL(rc, -1);
        if (rc != -1)
            fprintf(stderr, "\n  '%s' was accepted\n", bad[i]);
    }
}

int register_schedule_tests(void)
{
    static const test_case tests[] = {
        {"CLI time parser: epoch ms and ISO-8601 UTC, malformed refused", test_parse_time},
        {"delayed task fires within 100 ms of its due time, not before", test_delay_fires_on_time},
        {"run at an absolute time; a past time runs at once", test_at_time},
        {"a task due sooner than one scheduled earlier wakes the worker and runs first",
         test_sooner_fires_first},
        {"bulk enqueue with a delay; a manual retry runs a delayed task now", test_bulk_and_retry},
        {"expired pending tasks never run and end cancelled 'expired'",
         test_expired_pending_never_runs},
        {"expired delayed tasks never run; a retry runs them", test_expired_delayed_never_runs},
        {"unique key: a duplicate returns the same task, per queue; a stale lock is taken over",
         test_unique_duplicate},
        {"unique key: concurrent producers create exactly one task", test_unique_concurrent},
        {"unique key released on success, failure, cancel and expiry; retry retakes it",
         test_unique_released},
        {"bad options refused before anything is sent", test_bad_options},
        {NULL, NULL},
    };
    return add_suite("delayed, expiring and unique tasks", suite_init, suite_cleanup, tests);
}
