/* Batch handlers (include/spindle/batch.h), end to end with forked workers.
 *
 * The fixture batch functions report what they saw in their results: bt_double answers
 * [2x, batch size, 1 if its second settlements of the request were refused], so the test reads
 * the sizes of the batches that really formed (printed) and checks every result; bt_partial
 * accepts, rejects or leaves open a request by its value, and accepts the ones it left open
 * when it sees them again, so the test can tell a later batch from the first. Registration
 * errors and synchronous mode need no server. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "fleet.h"
#include "spindle/batch.h"
#include "spindle/single_file.h"
#include "spindle/sync.h"
#include "suites.h"

/* Batch bounds of the fixtures. */
#define DOUBLE_N 16
#define DOUBLE_WAIT_MS 50
/* bt_double_slow: the same function, waiting longer to fill a batch than a slot may stay
 * silent (heartbeat TTL + its idle wait) */
#define SLOW_WAIT_MS 2500
#define PARTIAL_N 8

static spindle_client *client;
static const char *const queue[] = {"batches"};

static int suite_init(void)
{
    return harness_suite_init_client(&client);
}

static int suite_cleanup(void)
{
    return harness_suite_cleanup_client(&client);
}

/* The one integer argument of a request, or -1. */
static long long arg_of(const msgpack_object *a)
{
    if (a == NULL || a->type != MSGPACK_OBJECT_ARRAY || a->via.array.size != 1 ||
        a->via.array.ptr[0].type != MSGPACK_OBJECT_POSITIVE_INTEGER)
        return -1;
    return (long long)a->via.array.ptr[0].via.u64;
}

/* bt_double X: [2X, the batch's size, 1 if a second accept and reject and an accept out of
 * range were all refused]. */
static int bt_double(spindle_batch *b, void *ud)
{
    (void)ud;
    size_t n = spindle_batch_size(b);
    msgpack_sbuffer buf;
    msgpack_sbuffer_init(&buf);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &buf, msgpack_sbuffer_write);
    for (size_t i = 0; i < n; i++) {
        long long x = arg_of(spindle_batch_args(b, i));
        if (x < 0) {
            spindle_batch_reject(b, i, "bt_double: want one number");
            continue;
        }
        msgpack_sbuffer_clear(&buf);
        msgpack_pack_array(&pk, 3);
        msgpack_pack_long_long(&pk, 2 * x);
        msgpack_pack_uint64(&pk, n);
        msgpack_pack_int(&pk, 1);
        size_t flag_at = buf.size - 1;
        /* Refusals are checked before the real accept on a copy of the request's state, and
         * after it on the real one. */
        int before = spindle_batch_settled(b, i) == 0;
        if (spindle_batch_accept(b, i, "\x01\x02", 2) != SPINDLE_ERR_INVALID) /* two values */
            before = 0;
        if (spindle_batch_accept(b, n, buf.data, buf.size) != SPINDLE_ERR_INVALID)
            before = 0;
        buf.data[flag_at] = (char)before;
        if (spindle_batch_accept(b, i, buf.data, buf.size) != SPINDLE_OK)
            continue;
        if (spindle_batch_accept_int(b, i, 0) != SPINDLE_ERR_INVALID ||
            spindle_batch_reject(b, i, "late") != SPINDLE_ERR_INVALID ||
            spindle_batch_settled(b, i) != 1 || strstr(spindle_batch_errstr(b), "already") == NULL)
            fprintf(stderr, "bt_double: a second settlement of request %zu was not refused\n", i);
    }
    msgpack_sbuffer_destroy(&buf);
    return SPINDLE_OK;
}

/* Ids bt_partial left open once (per process: the partial test uses one slot). */
static char seen[256][40]; /* a task id is 36 characters */
static size_t nseen;

static int seen_before(const char *id)
{
    for (size_t i = 0; i < nseen; i++)
        if (strcmp(seen[i], id) == 0)
            return 1;
    if (nseen < sizeof(seen) / sizeof(seen[0]))
        snprintf(seen[nseen++], sizeof(seen[0]), "%s", id);
    return 0;
}

/* bt_partial X: X % 3 == 0 accepted with X, 1 rejected ("rejected X"), 2 left open the
 * first time it is seen and accepted with X + 1000 the next. */
static int bt_partial(spindle_batch *b, void *ud)
{
    (void)ud;
    for (size_t i = 0; i < spindle_batch_size(b); i++) {
        long long x = arg_of(spindle_batch_args(b, i));
        if (x % 3 == 0)
            spindle_batch_accept_int(b, i, x);
        else if (x % 3 == 1)
            spindle_batch_reject(b, i, "rejected %lld", x);
        else if (seen_before(spindle_batch_id(b, i)))
            spindle_batch_accept_int(b, i, x + 1000);
    }
    return SPINDLE_OK;
}

static int fill(spindle_registry *reg)
{
    int rc = fixture_register_tasks(reg);
    if (rc == SPINDLE_OK)
        rc =
            spindle_registry_add_batch(reg, "bt_double", bt_double, DOUBLE_N, DOUBLE_WAIT_MS, NULL);
    if (rc == SPINDLE_OK)
        rc = spindle_registry_add_batch(reg, "bt_double_slow", bt_double, DOUBLE_N, SLOW_WAIT_MS,
                                        NULL);
    if (rc == SPINDLE_OK)
        rc = spindle_registry_add_batch(reg, "bt_partial", bt_partial, PARTIAL_N, 50, NULL);
    return rc;
}

static pid_t worker(const char *q, int pool, int concurrency)
{
    const char *const qs[] = {q};
    spindle_worker_options o;
    fleet_options(&o, qs, 1);
    o.pool = pool;
    o.concurrency = concurrency;
    return harness_worker_fork_opts(fill, &o);
}

/* Enqueues func(i) for i in [0, n) on q in one bulk call, alternating with add(i, i) when
 * mixed; handles into h. 0 on success. */
static int enqueue_many(const char *q, const char *func, size_t n, int mixed, int retries,
                        spindle_handle **h)
{
    spindle_task_spec *specs = calloc(n, sizeof(*specs));
    msgpack_sbuffer *bufs = calloc(n, sizeof(*bufs));
    for (size_t i = 0; specs && bufs && i < n; i++) {
        msgpack_sbuffer_init(&bufs[i]);
        msgpack_packer pk;
        msgpack_packer_init(&pk, &bufs[i], msgpack_sbuffer_write);
        int plain = mixed && i % 2 == 1;
        msgpack_pack_array(&pk, plain ? 2 : 1);
        msgpack_pack_uint64(&pk, i);
        if (plain)
            msgpack_pack_uint64(&pk, i);
        specs[i] = (spindle_task_spec){
            .func = plain ? "add" : func, .args = bufs[i].data, .args_len = bufs[i].size};
    }
    spindle_enqueue_options o;
    spindle_enqueue_options_init(&o);
    o.queue = q;
    o.max_retries = retries;
    int rc = specs && bufs ? spindle_enqueue_bulk(client, specs, n, &o, h) : SPINDLE_ERR_NOMEM;
    if (rc != SPINDLE_OK)
        fprintf(stderr, "\n  bulk enqueue: %s\n", spindle_errstr(client));
    for (size_t i = 0; bufs && i < n; i++)
        msgpack_sbuffer_destroy(&bufs[i]);
    free(bufs);
    free(specs);
    return rc == SPINDLE_OK ? 0 : -1;
}

/* Waits for n bt_double tasks of args first, first + 1, ... (and add tasks when mixed),
 * checks every result, and returns the largest batch seen (printing how many of each size). */
static unsigned long check_doubles(spindle_handle **h, size_t n, unsigned long first, int mixed,
                                   const char *what)
{
    unsigned long sizes[DOUBLE_N + 2] = {0}, max = 0, wrong = 0;
    for (size_t i = 0; i < n; i++) {
        spindle_result *r = NULL;
        int rc = spindle_wait(client, h[i], HARNESS_WAIT_MS, &r);
        const msgpack_object *v = rc == SPINDLE_OK ? spindle_result_value(r) : NULL;
        if (mixed && i % 2 == 1) {
            wrong += !(v && v->type == MSGPACK_OBJECT_POSITIVE_INTEGER && v->via.u64 == 2 * i);
        } else if (v && v->type == MSGPACK_OBJECT_ARRAY && v->via.array.size == 3) {
            const msgpack_object *e = v->via.array.ptr;
            unsigned long size = (unsigned long)e[1].via.u64;
            wrong += !(e[0].via.u64 == 2 * (first + i) && size >= 1 && size <= DOUBLE_N &&
                       e[2].via.u64 == 1);
            sizes[size <= DOUBLE_N ? size : DOUBLE_N + 1]++;
            if (size > max)
                max = size;
        } else {
            wrong++;
        }
        spindle_result_free(r);
    }
    CU_ASSERT_EQUAL(wrong, 0);
    fprintf(stderr, "\n  %s: batch sizes seen (size:requests)", what);
    for (int s = 1; s <= DOUBLE_N + 1; s++)
        if (sizes[s])
            fprintf(stderr, " %d:%lu", s, sizes[s]);
    fprintf(stderr, "\n");
    return max;
}

static void free_handles(spindle_handle **h, size_t n)
{
    for (size_t i = 0; i < n; i++)
        spindle_handle_free(h[i]);
}

/* A few hundred requests enqueued at once to one worker form batches of more than one and
 * at most N, and every result is right. */
static void load(int pool, int concurrency, int mixed, const char *what)
{
    CU_ASSERT_EQUAL_FATAL(fleet_fresh(&client), 0);
    CU_ASSERT_FATAL(worker(queue[0], pool, concurrency) > 0);
    CU_ASSERT_EQUAL(harness_wait_idle_workers(concurrency, HARNESS_WAIT_MS), 0);
    enum { N = 300 };
    spindle_handle *h[N] = {0};
    CU_ASSERT_EQUAL_FATAL(enqueue_many(queue[0], "bt_double", N, mixed, -1, h), 0);
    unsigned long max = check_doubles(h, N, 0, mixed, what);
    CU_ASSERT_TRUE(max > 1);
    CU_ASSERT_TRUE(max <= DOUBLE_N);
    free_handles(h, N);
}

static void test_forming(void)
{
    load(SPINDLE_POOL_PROCESS, 1, 0, "process pool, 1 slot");
}

static void test_mixed(void)
{
    load(SPINDLE_POOL_PROCESS, 1, 1, "mixed with add");
}

static void test_process_pool(void)
{
    load(SPINDLE_POOL_PROCESS, 2, 0, "process pool, 2 slots");
}

static void test_thread_pool(void)
{
    load(SPINDLE_POOL_THREAD, 2, 1, "thread pool, 2 slots, mixed");
}

/* A lone request waits about max_wait for company, then runs alone: not sooner (the wait is
 * real), not much later (a poll and a round trip), measured on Redis's clock. */
static void test_max_wait(void)
{
    CU_ASSERT_EQUAL_FATAL(fleet_fresh(&client), 0);
    CU_ASSERT_FATAL(worker(queue[0], SPINDLE_POOL_PROCESS, 1) > 0);
    CU_ASSERT_EQUAL(harness_wait_idle_workers(1, HARNESS_WAIT_MS), 0);
    for (int round = 0; round < 3; round++) {
        spindle_handle *h = fleet_enqueue(client, queue[0], "bt_double", 21, -1, 0);
        CU_ASSERT_FATAL(h != NULL);
        unsigned long size = check_doubles(&h, 1, 21, 0, "lone request");
        CU_ASSERT_EQUAL(size, 1);
        long long took = fleet_num(h, "finished_at", 0) - fleet_num(h, "enqueued_at", 0);
        fprintf(stderr, "  lone request: %lld ms from enqueue to result (max_wait %d ms)\n", took,
                DOUBLE_WAIT_MS);
        CU_ASSERT_TRUE(took >= DOUBLE_WAIT_MS - 5);
        CU_ASSERT_TRUE(took <= harness_scaled_ms(DOUBLE_WAIT_MS + 250));
        spindle_handle_free(h);
    }
}

/* Accepted requests succeed once; rejected ones fail an attempt and follow the retry policy
 * (1 retry: two attempts, then failed for good); requests left open go back to pending with
 * their attempt undone and are accepted in a later batch. Every task ends exactly once. */
static void test_partial(void)
{
    CU_ASSERT_EQUAL_FATAL(fleet_fresh(&client), 0);
    enum { N = 30 };
    spindle_handle *h[N] = {0};
    CU_ASSERT_EQUAL_FATAL(enqueue_many("partial", "bt_partial", N, 0, 1, h), 0);
    for (size_t i = 0; i < N; i++)
        CU_ASSERT_EQUAL(fleet_set_backoff(h[i], 20, 20), 0);
    CU_ASSERT_FATAL(worker("partial", SPINDLE_POOL_PROCESS, 1) > 0);
    for (size_t i = 0; i < N; i++) {
        spindle_result *r = NULL;
        int rc = spindle_wait(client, h[i], HARNESS_WAIT_MS, &r);
        const msgpack_object *v = r ? spindle_result_value(r) : NULL;
        long long attempts = fleet_num(h[i], "attempts", -1);
        if (i % 3 == 0) {
            CU_ASSERT_EQUAL(rc, SPINDLE_OK);
            CU_ASSERT_TRUE(v && v->via.u64 == i);
            CU_ASSERT_EQUAL(attempts, 1);
        } else if (i % 3 == 1) {
            char want[32];
            snprintf(want, sizeof(want), "rejected %zu", i);
            CU_ASSERT_EQUAL(rc, SPINDLE_ERR_TASK_FAILED);
            CU_ASSERT_STRING_EQUAL(r ? spindle_result_error(r) : "", want);
            CU_ASSERT_EQUAL(attempts, 2);
            CU_ASSERT_EQUAL(fleet_num(h[i], "retried", -1), 1);
            CU_ASSERT_TRUE(fleet_in_zset("partial", "dead", h[i]));
        } else {
            CU_ASSERT_EQUAL(rc, SPINDLE_OK);
            CU_ASSERT_TRUE(v && v->via.u64 == i + 1000); /* accepted when seen again */
            CU_ASSERT_EQUAL(attempts, 1);                /* the open run was undone */
        }
        spindle_result_free(r);
    }
    /* Nothing left anywhere: every task ended, once. */
    char key[256];
    CU_ASSERT_EQUAL(harness_int("LLEN %s", harness_key(key, sizeof(key), "partial", "pending")), 0);
    CU_ASSERT_EQUAL(fleet_zcard("partial", "scheduled"), 0);
    CU_ASSERT_EQUAL(fleet_zcard("partial", "dead"), N / 3);
    free_handles(h, N);
}

/* Synchronous mode runs a batch function as a batch of one, at enqueue. */
static void test_sync(void)
{
    spindle_registry *reg = spindle_registry_new();
    CU_ASSERT_EQUAL_FATAL(fill(reg), SPINDLE_OK);
    spindle_client *c = spindle_client_new_sync(reg);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    spindle_enqueue_options o;
    spindle_enqueue_options_init(&o);
    o.max_retries = 1;
    long long x[] = {21, 3, 4, 5};
    spindle_handle *h[4] = {0};
    const char *func[] = {"bt_double", "bt_partial", "bt_partial", "bt_partial"};
    for (int i = 0; i < 4; i++) {
        spindle_args *a = spindle_args_new();
        spindle_args_int(a, x[i]);
        CU_ASSERT_EQUAL(spindle_enqueue(c, func[i], a, &o, &h[i]), SPINDLE_OK);
        spindle_args_free(a);
    }
    spindle_result *r = NULL;
    CU_ASSERT_EQUAL(spindle_wait(c, h[0], 0, &r), SPINDLE_OK);
    const msgpack_object *v = r ? spindle_result_value(r) : NULL;
    CU_ASSERT_TRUE(v && v->type == MSGPACK_OBJECT_ARRAY && v->via.array.ptr[0].via.u64 == 42 &&
                   v->via.array.ptr[1].via.u64 == 1 && v->via.array.ptr[2].via.u64 == 1);
    spindle_result_free(r);
    CU_ASSERT_EQUAL(spindle_wait(c, h[1], 0, &r), SPINDLE_OK); /* accepted */
    CU_ASSERT_TRUE(r && spindle_result_value(r)->via.u64 == 3);
    spindle_result_free(r);
    CU_ASSERT_EQUAL(spindle_wait(c, h[2], 0, &r), SPINDLE_ERR_TASK_FAILED); /* rejected twice */
    CU_ASSERT_STRING_EQUAL(r ? spindle_result_error(r) : "", "rejected 4");
    spindle_result_free(r);
    /* Left open: that attempt fails ("left unsettled"), the retry is accepted. */
    CU_ASSERT_EQUAL(spindle_wait(c, h[3], 0, &r), SPINDLE_OK);
    CU_ASSERT_TRUE(r && spindle_result_value(r)->via.u64 == 1005);
    spindle_result_free(r);
    free_handles(h, 4);
    spindle_client_free(c);
    spindle_registry_free(reg);
}

static int dummy(spindle_batch *b, void *ud)
{
    (void)b;
    (void)ud;
    return SPINDLE_OK;
}

/* Bad registrations are refused with a message naming what is wrong. */
static void test_register(void)
{
    spindle_registry *reg = spindle_registry_new();
    CU_ASSERT_PTR_NOT_NULL_FATAL(reg);
    CU_ASSERT_EQUAL(spindle_registry_add_batch(reg, "b", NULL, 8, 10, NULL), SPINDLE_ERR_INVALID);
    CU_ASSERT_EQUAL(spindle_registry_add_batch(reg, "b", dummy, 0, 10, NULL), SPINDLE_ERR_INVALID);
    CU_ASSERT_PTR_NOT_NULL(strstr(spindle_registry_errstr(reg), "max_batch 0"));
    CU_ASSERT_EQUAL(spindle_registry_add_batch(reg, "b", dummy, SPINDLE_BATCH_MAX + 1, 10, NULL),
                    SPINDLE_ERR_INVALID);
    CU_ASSERT_EQUAL(spindle_registry_add_batch(reg, "b", dummy, 8, -1, NULL), SPINDLE_ERR_INVALID);
    CU_ASSERT_PTR_NOT_NULL(strstr(spindle_registry_errstr(reg), "max_wait_ms -1"));
    CU_ASSERT_EQUAL(spindle_registry_add_batch(reg, "b{x}", dummy, 8, 10, NULL),
                    SPINDLE_ERR_INVALID);
    CU_ASSERT_EQUAL(spindle_registry_count(reg), 0);
    CU_ASSERT_EQUAL(spindle_registry_add_batch(reg, "b", dummy, 8, 10, NULL), SPINDLE_OK);
    CU_ASSERT_EQUAL(spindle_registry_add_batch(reg, "b", dummy, 8, 10, NULL), SPINDLE_ERR_INVALID);
    CU_ASSERT_PTR_NOT_NULL(strstr(spindle_registry_errstr(reg), "already registered"));
    CU_ASSERT_EQUAL(spindle_registry_count(reg), 1);
    spindle_registry_free(reg);
}

/* A batch that waits to fill for longer than a heartbeat TTL keeps its slot's heartbeat: the
 * sweep does not take the request back, and it runs once. */
static void test_long_max_wait(void)
{
    CU_ASSERT_EQUAL_FATAL(fleet_fresh(&client), 0);
    CU_ASSERT_FATAL(worker(queue[0], SPINDLE_POOL_PROCESS, 1) > 0);
    CU_ASSERT_EQUAL(harness_wait_idle_workers(1, HARNESS_WAIT_MS), 0);
    spindle_handle *h = fleet_enqueue(client, queue[0], "bt_double_slow", 21, -1, 0);
    CU_ASSERT_FATAL(h != NULL);
    spindle_result *r = NULL;
    CU_ASSERT_EQUAL(spindle_wait(client, h, harness_scaled_ms(HARNESS_WAIT_MS), &r), SPINDLE_OK);
    const msgpack_object *v = r ? spindle_result_value(r) : NULL;
    CU_ASSERT_TRUE(v && v->type == MSGPACK_OBJECT_ARRAY && v->via.array.ptr[0].via.u64 == 42);
    spindle_result_free(r);
    CU_ASSERT_EQUAL(fleet_num(h, "attempts", 0), 1);
    CU_ASSERT_TRUE(fleet_absent(h, "lost"));
    CU_ASSERT_TRUE(fleet_num(h, "finished_at", 0) - fleet_num(h, "enqueued_at", 0) >=
                   SLOW_WAIT_MS - 5);
    spindle_handle_free(h);
}

/* On a single-file queue a request holds the queue's lease: no other task can join its batch,
 * so it runs at once instead of waiting max_wait_ms, and the requests run one at a time. */
static void test_single_file_queue(void)
{
    enum { N = 3 };
    CU_ASSERT_EQUAL_FATAL(fleet_fresh(&client), 0);
    CU_ASSERT_EQUAL_FATAL(spindle_queue_single_file(client, queue[0], 1), SPINDLE_OK);
    CU_ASSERT_FATAL(worker(queue[0], SPINDLE_POOL_PROCESS, 2) > 0);
    CU_ASSERT_EQUAL(harness_wait_idle_workers(2, HARNESS_WAIT_MS), 0);
    spindle_handle *h[N];
    int64_t t0 = harness_ms();
    for (int i = 0; i < N; i++)
        CU_ASSERT_FATAL((h[i] = fleet_enqueue(client, queue[0], "bt_double_slow", i, -1, 0)) !=
                        NULL);
    unsigned long max = check_doubles(h, N, 0, 0, "single-file");
    CU_ASSERT_EQUAL(max, 1);
    CU_ASSERT_TRUE(harness_ms() - t0 < SLOW_WAIT_MS);
    for (int i = 1; i < N; i++) /* one at a time, in order */
        CU_ASSERT_TRUE(fleet_num(h[i], "started_at", 0) >= fleet_num(h[i - 1], "finished_at", 0));
    free_handles(h, N);
    CU_ASSERT_EQUAL(spindle_queue_single_file(client, queue[0], 0), SPINDLE_OK);
}

/* A request that takes another task's handle gets that task's result in its place, as any
 * task would (dependencies, include/spindle/deps.h). */
static void test_handle_argument(void)
{
    CU_ASSERT_EQUAL_FATAL(fleet_fresh(&client), 0);
    spindle_enqueue_options o;
    spindle_enqueue_options_init(&o);
    o.queue = queue[0];
    spindle_args *a = spindle_args_new();
    spindle_args_int(a, 20);
    spindle_args_int(a, 1);
    spindle_handle *sum = NULL, *twice = NULL;
    CU_ASSERT_EQUAL_FATAL(spindle_enqueue(client, "add", a, &o, &sum), SPINDLE_OK);
    spindle_args_free(a);
    a = spindle_args_new();
    spindle_args_handle(a, sum);
    CU_ASSERT_EQUAL_FATAL(spindle_enqueue(client, "bt_double", a, &o, &twice), SPINDLE_OK);
    spindle_args_free(a);
    CU_ASSERT_FATAL(worker(queue[0], SPINDLE_POOL_PROCESS, 1) > 0);
    spindle_result *r = NULL;
    CU_ASSERT_EQUAL(spindle_wait(client, twice, harness_scaled_ms(HARNESS_WAIT_MS), &r),
                    SPINDLE_OK);
    const msgpack_object *v = r ? spindle_result_value(r) : NULL;
    CU_ASSERT_TRUE(v && v->type == MSGPACK_OBJECT_ARRAY && v->via.array.size == 3 &&
                   v->via.array.ptr[0].via.u64 == 42);
    spindle_result_free(r);
    spindle_handle_free(sum);
    spindle_handle_free(twice);
}

int register_batch_tests(void)
{
    static const test_case tests[] = {
        {"registration errors", test_register},
        {"synchronous mode: a batch of one", test_sync},
        {"batches form under load, results right", test_forming},
        {"a lone request waits max_wait, then runs", test_max_wait},
        {"partial settlement: accept, reject (retried), leave open", test_partial},
        {"batch and ordinary functions on one queue", test_mixed},
        {"process pool of 2", test_process_pool},
        {"thread pool of 2", test_thread_pool},
        {"a request taking another task's handle", test_handle_argument},
        {"a max_wait longer than the heartbeat TTL", test_long_max_wait},
        {"a single-file queue: one request at a time, at once", test_single_file_queue},
        {NULL, NULL},
    };
    return add_suite("batch handlers", suite_init, suite_cleanup, tests);
}
