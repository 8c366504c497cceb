/* The retry policy of docs/PROTOCOL.md ("Settle"), watched from outside: a task that always
 * fails, with retries 3, backoff 100 ms and backoff_max 150 ms, is scheduled three times,
 * each time with retry_at = failure + a delay in [d/2, d] for d = min(150, 100 * 2^n), its
 * id in NS:{Q}:scheduled under that score and the failed attempt's error; it never runs
 * before its retry_at, and an idle worker picks it up within one idle poll (1 s) after it;
 * the fourth failure is final: dead-lettered, scheduled set empty, retry_at gone, error the
 * last attempt's. The back-off fields are written with HSET before a worker serves the queue
 * (the client cannot set them yet). */
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "fleet.h"
#include "suites.h"

static spindle_client *client;
static const char *const queue[] = {"retry"};

/* How late an idle slot notices a due retry: its BRPOP poll (IDLE_WAIT_MS in worker/slot.c). */
#define IDLE_POLL_MS 1000

static int suite_init(void)
{
    return harness_suite_init_client(&client);
}

static int suite_cleanup(void)
{
    return harness_suite_cleanup_client(&client);
}

/* One scheduled phase as seen from outside. */
typedef struct phase {
    int seen;
    long long started_at; /* of the attempt that failed */
    long long retry_at;
    long long score; /* in NS:{Q}:scheduled */
    char error[64];
} phase;

static long long num(const redisReply *r)
{
    return r && r->type == REDIS_REPLY_STRING ? strtoll(r->str, NULL, 10) : -1;
}

static void test_backoff_schedule(void)
{
    enum { RETRIES = 3 };
    const long base = 100, cap = 150;
    CU_ASSERT_EQUAL_FATAL(fleet_fresh(&client), 0);
    spindle_handle *h = fleet_enqueue(client, queue[0], "fail_attempt", -1, RETRIES, 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    CU_ASSERT_EQUAL_FATAL(fleet_set_backoff(h, base, cap), 0);
    spindle_worker_options o;
    fleet_options(&o, queue, 1);
    CU_ASSERT_FATAL(harness_worker_fork_opts(NULL, &o) > 0);

    char key[512], sched[512];
    harness_task_key(key, sizeof(key), h);
    harness_key(sched, sizeof(sched), queue[0], "scheduled");
    phase ph[RETRIES + 1];
    memset(ph, 0, sizeof(ph));
    int final = 0;
    int64_t deadline = harness_ms() + harness_scaled_ms(RETRIES * (IDLE_POLL_MS + 500L)) + 5000;
    while (!final && harness_ms() < deadline) {
        redisReply *r = harness_cmd("HMGET %s state retried started_at retry_at error", key);
        redisReply *z = harness_cmd("ZSCORE %s %s", sched, spindle_handle_id(h));
        if (r && r->type == REDIS_REPLY_ARRAY && r->elements == 5 &&
            r->element[0]->type == REDIS_REPLY_STRING) {
            const char *state = r->element[0]->str;
            long long retried = num(r->element[1]);
            final = strcmp(state, "failed") == 0;
            if (strcmp(state, "scheduled") == 0 && retried >= 1 && retried <= RETRIES &&
                !ph[retried].seen) {
                phase *p = &ph[retried];
                p->seen = 1;
                p->started_at = num(r->element[2]);
                p->retry_at = num(r->element[3]);
                p->score = z && z->type == REDIS_REPLY_STRING ? strtoll(z->str, NULL, 10) : -1;
                snprintf(p->error, sizeof(p->error), "%s",
                         r->element[4]->type == REDIS_REPLY_STRING ? r->element[4]->str : "");
            }
        }
        if (r)
            freeReplyObject(r);
        if (z)
            freeReplyObject(z);
        if (!final)
            harness_sleep_ms(2);
    }
    CU_ASSERT_FATAL(final);
    /* started_at of the attempt after retry n: read in the next phase, or at the end. */
    long long next_start[RETRIES + 1];
    for (int n = 1; n < RETRIES; n++)
        next_start[n] = ph[n + 1].started_at;
    next_start[RETRIES] = fleet_num(h, "started_at", -1);

    long long total_min = 0, total_max = 0;
    for (int n = 1; n <= RETRIES; n++) {
        const phase *p = &ph[n];
        long d = base << (n - 1);
        if (d > cap)
            d = cap;
        CU_ASSERT_TRUE_FATAL(p->seen);
        char want[64];
        snprintf(want, sizeof(want), "attempt %d failed", n);
        CU_ASSERT_STRING_EQUAL(p->error, want);
        CU_ASSERT_EQUAL(p->score, p->retry_at);
        /* The attempt fails at once: its failure is within a few ms of its start. */
        long long delay = p->retry_at - p->started_at;
        CU_ASSERT_TRUE(delay >= d / 2);
        CU_ASSERT_TRUE(delay <= d + harness_scaled_ms(50));
        /* Not before it is due; within an idle poll after. */
        CU_ASSERT_TRUE(next_start[n] >= p->retry_at);
        CU_ASSERT_TRUE(next_start[n] <= p->retry_at + harness_scaled_ms(IDLE_POLL_MS + 200));
        if (delay < d / 2 || delay > d + harness_scaled_ms(50) || next_start[n] < p->retry_at)
            fprintf(stderr, "\n  retry %d: started %lld, retry_at %lld (d %ld), next start %lld\n",
                    n, p->started_at, p->retry_at, d, next_start[n]);
        total_min += d / 2;
        total_max += d + harness_scaled_ms(50 + IDLE_POLL_MS + 200);
    }
    long long total = fleet_num(h, "finished_at", -1) - ph[1].started_at;
    CU_ASSERT_TRUE(total >= total_min);
    CU_ASSERT_TRUE(total <= total_max);
    if (total < total_min || total > total_max)
        fprintf(stderr, "\n  first start to final failure: %lld ms, not in [%lld, %lld]\n", total,
                total_min, total_max);

    CU_ASSERT_EQUAL(fleet_num(h, "attempts", -1), RETRIES + 1);
    CU_ASSERT_EQUAL(fleet_num(h, "retried", -1), RETRIES);
    CU_ASSERT_TRUE(fleet_absent(h, "retry_at"));
    char *err = fleet_field(h, "error");
    CU_ASSERT_STRING_EQUAL(err ? err : "", "attempt 4 failed");
    free(err);
    CU_ASSERT_EQUAL(fleet_zcard(queue[0], "scheduled"), 0);
    CU_ASSERT_TRUE(fleet_in_zset(queue[0], "dead", h));
    spindle_result *r = NULL;
    CU_ASSERT_EQUAL(spindle_wait(client, h, 0, &r), SPINDLE_ERR_TASK_FAILED);
    CU_ASSERT_STRING_EQUAL(r ? spindle_result_error(r) : "", "attempt 4 failed");
    spindle_result_free(r);
    spindle_handle_free(h);
}

/* Without retries a failure is final at once: no retry fields, nothing scheduled. */
static void test_no_retries(void)
{
    CU_ASSERT_EQUAL_FATAL(fleet_fresh(&client), 0);
    spindle_worker_options o;
    fleet_options(&o, queue, 1);
    CU_ASSERT_FATAL(harness_worker_fork_opts(NULL, &o) > 0);
    spindle_handle *h = fleet_enqueue(client, queue[0], "fail_attempt", -1, -1, 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    spindle_result *r = NULL;
    CU_ASSERT_EQUAL(spindle_wait(client, h, HARNESS_WAIT_MS, &r), SPINDLE_ERR_TASK_FAILED);
    CU_ASSERT_STRING_EQUAL(r ? spindle_result_error(r) : "", "attempt 1 failed");
    spindle_result_free(r);
    CU_ASSERT_EQUAL(fleet_num(h, "attempts", -1), 1);
    CU_ASSERT_TRUE(fleet_absent(h, "retried"));
    CU_ASSERT_TRUE(fleet_absent(h, "retry_at"));
    CU_ASSERT_EQUAL(fleet_zcard(queue[0], "scheduled"), 0);
    CU_ASSERT_TRUE(fleet_in_zset(queue[0], "dead", h));
    spindle_handle_free(h);
}

int register_retry_policy_tests(void)
{
    static const test_case tests[] = {
        {"retries 3, backoff 100 ms capped at 150 ms: schedule and timing", test_backoff_schedule},
        {"no retries: failed for good at once", test_no_retries},
        {NULL, NULL},
    };
    return add_suite("retry policy", suite_init, suite_cleanup, tests);
}
