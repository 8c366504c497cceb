/* Priorities (spindle_worker_options.weights, worker/weighted.c): the stride bookkeeping on
 * its own, without a server (shares, batches, empty queues), then forked workers whose one
 * slot records the queue of every task it runs, in run order, in a file: weighted 6:3:1 over
 * three pre-filled queues gives each queue its share of the first 200 tasks within 10%, a
 * low queue alone with work is claimed in full batches, and strict order still drains the
 * first queue before the others. Bad weights are refused by the worker and by
 * spindle-worker --queues. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <CUnit/CUnit.h>

#include "fleet.h"
#include "suites.h"
#include "worker/weighted.h"

static spindle_client *client;
static const char *const queues[] = {"high", "default", "low"};
static const int weights[] = {6, 3, 1};

/* Tasks pre-filled on each queue, and the prefix of the run order whose shares are checked:
 * long enough for several rounds of 10 tasks, short enough that no queue runs dry in it. */
#define PER_QUEUE 300
#define WINDOW 200

static int suite_init(void)
{
    return harness_suite_init_client(&client);
}

static int suite_cleanup(void)
{
    return harness_suite_cleanup_client(&client);
}

/* ---- the scheduler alone ---------------------------------------------------------------- */

/* Simulates a slot claiming from queues that always have work (claims come back full), with
 * the given batch; counts the tasks of each queue among the first total. */
static void simulate(spindle_weighted *w, int batch, int total, int *count)
{
    memset(count, 0, sizeof(int) * w->n);
    for (int done = 0; done < total;) {
        size_t order[SPINDLE_WEIGHTED_MAX];
        spindle_weighted_order(w, order);
        size_t q = order[0];
        int max = spindle_weighted_claim_max(w, q, batch);
        int n = max < total - done ? max : total - done;
        count[q] += n;
        done += n;
        spindle_weighted_claimed(w, q, max, max);
    }
}

static void test_shares_pure(void)
{
    spindle_weighted w;
    int count[3];
    for (int batch = 1; batch <= 128; batch *= 2) {
        spindle_weighted_init(&w, weights, 3);
        simulate(&w, batch, 1000, count);
        CU_ASSERT_EQUAL(count[0], 600);
        CU_ASSERT_EQUAL(count[1], 300);
        CU_ASSERT_EQUAL(count[2], 100);
    }
    /* Weights scaled by 10: the same shares, in claims of up to 60 tasks. */
    const int big[] = {60, 30, 10};
    spindle_weighted_init(&w, big, 3);
    CU_ASSERT_EQUAL(spindle_weighted_claim_max(&w, 0, 128), 60);
    CU_ASSERT_EQUAL(spindle_weighted_claim_max(&w, 2, 128), 10);
    simulate(&w, 128, 1000, count);
    CU_ASSERT_EQUAL(count[0], 600);
    CU_ASSERT_EQUAL(count[2], 100);
}

/* A queue found empty does not bank credit: when it gets work again it takes its share from
 * then on, not a burst; the queue alone with work claims full batches; an empty queue is
 * tried again within two claims of the busy one. */
static void test_empty_queues_pure(void)
{
    spindle_weighted w;
    spindle_weighted_init(&w, weights, 3);
    int tries_low = 0, claims_high = 0;
    for (int round = 0; round < 50; round++) {
        size_t order[SPINDLE_WEIGHTED_MAX], empty[3], nempty = 0;
        spindle_weighted_order(&w, order);
        for (size_t i = 0; i < 3; i++) {
            size_t q = order[i];
            if (q != 0) { /* default and low are empty */
                empty[nempty++] = q;
                tries_low += q == 2;
                continue;
            }
            int max = spindle_weighted_claim_max(&w, 0, 128);
            if (round > 2)
                CU_ASSERT_EQUAL(max, 128);
            spindle_weighted_claimed(&w, 0, max, max);
            claims_high++;
            for (size_t k = 0; k < nempty; k++)
                spindle_weighted_empty(&w, empty[k], 0);
            break;
        }
    }
    CU_ASSERT_EQUAL(claims_high, 50);
    CU_ASSERT_TRUE(tries_low >= 20 && tries_low <= 50);
    /* Now low has work too: no burst, shares from here on. */
    w.busy[2] = 1;
    spindle_weighted w2 = w;
    int low = 0;
    for (int done = 0; done < 70;) {
        size_t order[SPINDLE_WEIGHTED_MAX];
        spindle_weighted_order(&w2, order);
        size_t q = order[0] == 1 ? order[1] : order[0]; /* default stays empty */
        int max = spindle_weighted_claim_max(&w2, q, 128);
        if (order[0] == 1)
            spindle_weighted_empty(&w2, 1, q);
        spindle_weighted_claimed(&w2, q, max, max);
        done += max;
        low += q == 2 ? max : 0;
    }
    CU_ASSERT_TRUE(low >= 8 && low <= 12); /* 1/7 of ~70 with default empty */
}

/* ---- forked workers --------------------------------------------------------------------- */

/* The run order file of this run's worker. */
static void order_path(char *buf, size_t cap)
{
    snprintf(buf, cap, "%s/priority-order", harness_dir());
}

/* record: appends the task's queue to the order file (one slot: one writer). */
static int fx_record(spindle_task_ctx *ctx, const msgpack_object *args, msgpack_packer *result)
{
    (void)args;
    char path[300];
    order_path(path, sizeof(path));
    FILE *f = fopen(path, "a");
    if (f == NULL)
        return spindle_task_fail(ctx, "record: cannot open %s", path);
    fprintf(f, "%s\n", spindle_task_queue(ctx));
    fclose(f);
    return msgpack_pack_nil(result);
}

static int fill_record(spindle_registry *reg)
{
    return spindle_registry_add(reg, "record", fx_record, NULL);
}

/* Fills each queue with PER_QUEUE record tasks, in one bulk call per queue. */
static int prefill(void)
{
    char path[300];
    order_path(path, sizeof(path));
    unlink(path); /* a previous test's */
    static spindle_task_spec specs[PER_QUEUE];
    for (size_t i = 0; i < PER_QUEUE; i++)
        specs[i] = (spindle_task_spec){.func = "record"};
    for (size_t q = 0; q < 3; q++) {
        spindle_enqueue_options o;
        spindle_enqueue_options_init(&o);
        o.queue = queues[q];
        o.result_ttl_s = 0;
        if (spindle_enqueue_bulk(client, specs, PER_QUEUE, &o, NULL) != SPINDLE_OK) {
            fprintf(stderr, "prefill: %s\n", spindle_errstr(client));
            return -1;
        }
    }
    return 0;
}

/* Reads up to want lines of the order file (waiting up to timeout_ms for them) and counts
 * each queue in the first want. Returns the number of lines counted. */
static int read_order(int want, long timeout_ms, int *count)
{
    char path[300], line[160];
    order_path(path, sizeof(path));
    int64_t deadline = harness_ms() + timeout_ms;
    for (;;) {
        memset(count, 0, 3 * sizeof(int));
        int n = 0;
        FILE *f = fopen(path, "r");
        while (f && n < want && fgets(line, sizeof(line), f)) {
            line[strcspn(line, "\n")] = '\0';
            for (int q = 0; q < 3; q++)
                count[q] += strcmp(line, queues[q]) == 0;
            n++;
        }
        if (f)
            fclose(f);
        if (n == want || harness_ms() > deadline)
            return n;
        harness_sleep_ms(20);
    }
}

static pid_t start_worker(const int *w)
{
    spindle_worker_options o;
    fleet_options(&o, queues, 3);
    o.weights = w;
    o.concurrency = 1;
    return harness_worker_fork_opts(fill_record, &o);
}

static void test_weighted_shares(void)
{
    CU_ASSERT_EQUAL_FATAL(fleet_fresh(&client), 0);
    CU_ASSERT_EQUAL_FATAL(prefill(), 0);
    CU_ASSERT_FATAL(start_worker(weights) > 0);
    int count[3];
    int n = read_order(WINDOW, harness_scaled_ms(HARNESS_WAIT_MS), count);
    CU_ASSERT_EQUAL_FATAL(n, WINDOW);
    for (int q = 0; q < 3; q++) {
        double expected = (double)WINDOW * weights[q] / 10.0;
        printf("\n    %s: %d of the first %d (weight share %.0f)", queues[q], count[q], WINDOW,
               expected);
        CU_ASSERT_TRUE(count[q] >= expected * 0.9 && count[q] <= expected * 1.1);
    }
    /* Every task runs in the end, each queue to its last. */
    n = read_order(3 * PER_QUEUE, harness_scaled_ms(HARNESS_WAIT_MS), count);
    CU_ASSERT_EQUAL(n, 3 * PER_QUEUE);
    for (int q = 0; q < 3; q++)
        CU_ASSERT_EQUAL(count[q], PER_QUEUE);
}

static void test_strict_order(void)
{
    CU_ASSERT_EQUAL_FATAL(fleet_fresh(&client), 0);
    CU_ASSERT_EQUAL_FATAL(prefill(), 0);
    CU_ASSERT_FATAL(start_worker(NULL) > 0);
    int count[3];
    int n = read_order(PER_QUEUE, harness_scaled_ms(HARNESS_WAIT_MS), count);
    CU_ASSERT_EQUAL_FATAL(n, PER_QUEUE);
    CU_ASSERT_EQUAL(count[0], PER_QUEUE); /* high first, all of it */
    n = read_order(2 * PER_QUEUE, harness_scaled_ms(HARNESS_WAIT_MS), count);
    CU_ASSERT_EQUAL(n, 2 * PER_QUEUE);
    CU_ASSERT_EQUAL(count[1], PER_QUEUE); /* then default */
}

static void test_bad_weights(void)
{
    spindle_registry *reg = spindle_registry_new();
    spindle_worker_options o;
    spindle_worker_options_init(&o);
    o.queues = queues;
    o.nqueues = 3;
    const int bad[] = {6, 0, 1};
    o.weights = bad;
    o.url = harness_url();
    o.handle_signals = 0;
    spindle_worker *w = spindle_worker_new(&o, reg);
    CU_ASSERT_PTR_NOT_NULL_FATAL(w);
    CU_ASSERT_EQUAL(spindle_worker_run(w), SPINDLE_ERR_INVALID);
    CU_ASSERT_STRING_EQUAL(spindle_worker_errstr(w),
                           "weight 0 of queue 'default' is not in 1-1000");
    spindle_worker_free(w);
    spindle_registry_free(reg);

    char bin[300];
    snprintf(bin, sizeof(bin), "%s/bin/spindle-worker", harness_build());
    const char *cases[][2] = {
        {"high:6,low", "give a weight to every queue"},
        {"high:6,low:1001", "weight '1001' of queue 'low' is not in 1-1000"},
        {"high:0", "weight '0' of queue 'high' is not in 1-1000"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *const argv[] = {bin, "--queues", (char *)cases[i][0], "--load", "none.so", NULL};
        harness_output out;
        CU_ASSERT_EQUAL_FATAL(harness_run(argv, 5000, &out), 0);
        CU_ASSERT_EQUAL(out.code, 2);
        CU_ASSERT_PTR_NOT_NULL(strstr(out.err, cases[i][1]));
        harness_output_free(&out);
    }
}

int register_priority_tests(void)
{
    static const test_case tests[] = {
        {"stride bookkeeping: shares in tasks whatever the batch", test_shares_pure},
        {"stride bookkeeping: empty queues bank no credit, are tried again",
         test_empty_queues_pure},
        {"weighted 6:3:1, one slot: shares of the first 200 tasks within 10%",
         test_weighted_shares},
        {"strict order: high drains first", test_strict_order},
        {"bad weights refused (options and --queues)", test_bad_weights},
        {NULL, NULL},
    };
    return add_suite("priorities", suite_init, suite_cleanup, tests);
}
